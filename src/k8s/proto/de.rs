//! Protobuf bytes read through serde, by the [`schema`](super::schema): a message is a map
//! from its fields' JSON names to their values, exactly as the JSON of the same object
//! would be, so every `Deserialize` the client has for JSON (the lean pods of
//! `cluster::wire`, k8s-openapi's types) reads protobuf unchanged, keeping only what it
//! asks for: a field nobody asks for is skipped without being decoded, and strings are
//! borrowed from the bytes. The apimachinery types with a JSON form of their own
//! ([`Special`]) are given in that form: a time as its RFC 3339 string, a quantity as its
//! string, an int-or-string as either, a raw extension as the JSON it holds.

use std::fmt;

use serde::de::value::BorrowedStrDeserializer;
use serde::de::{self, DeserializeSeed, Deserializer, IntoDeserializer, MapAccess, SeqAccess, Visitor};
use serde::forward_to_deserialize_any;

use super::schema::{Field, Label, Message, MsgId, Scalar, Special, Ty, schema};
use super::wire::{DecodeError, Fields, Value};

/// Why bytes did not decode as what was asked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Error(pub String);

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for Error {}

impl de::Error for Error {
    fn custom<T: fmt::Display>(msg: T) -> Self {
        Error(msg.to_string())
    }
}

impl From<DecodeError> for Error {
    fn from(e: DecodeError) -> Self {
        Error(e.to_string())
    }
}

/// Reads `T` from the bytes of a message `msg` (an object's own bytes, inside the
/// envelope).
pub fn from_message<'de, T: de::Deserialize<'de>>(bytes: &'de [u8], msg: MsgId) -> Result<T, Error> {
    T::deserialize(ValueDe { ty: Ty::Message(msg), v: Value::Bytes(bytes) })
}

/// One value of type `ty`.
struct ValueDe<'de> {
    ty: Ty,
    v: Value<'de>,
}

impl<'de> Deserializer<'de> for ValueDe<'de> {
    type Error = Error;

    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        match self.ty {
            Ty::Scalar(Scalar::String) => visitor.visit_borrowed_str(self.v.str()?),
            Ty::Scalar(Scalar::Bytes) => visitor.visit_borrowed_bytes(self.v.bytes()?),
            Ty::Scalar(Scalar::Bool) => visitor.visit_bool(self.v.varint()? != 0),
            // int32 is sign-extended to 64 bits on the wire.
            Ty::Scalar(Scalar::Int32) => visitor.visit_i32(self.v.varint()? as i64 as i32),
            Ty::Scalar(Scalar::Int64) => visitor.visit_i64(self.v.varint()? as i64),
            Ty::Message(id) => {
                let msg = schema().message(id);
                let bytes = self.v.bytes()?;
                match msg.special {
                    None => visitor.visit_map(MessageAccess::new(bytes, msg)),
                    Some(s) => special(s, bytes, visitor),
                }
            }
        }
    }

    fn deserialize_option<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        visitor.visit_some(self)
    }

    fn deserialize_newtype_struct<V: Visitor<'de>>(self, _name: &'static str, visitor: V) -> Result<V::Value, Error> {
        visitor.visit_newtype_struct(self)
    }

    fn deserialize_ignored_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        visitor.visit_unit()
    }

    /// A string read as an enum's unit variant (`status: Failure` in a Status), as
    /// serde_json reads one.
    fn deserialize_enum<V: Visitor<'de>>(
        self,
        _name: &'static str,
        _variants: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, Error> {
        match self.ty {
            Ty::Scalar(Scalar::String) => visitor.visit_enum(BorrowedStrDeserializer::new(self.v.str()?)),
            _ => self.deserialize_any(visitor),
        }
    }

    forward_to_deserialize_any! {
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string bytes byte_buf unit unit_struct
        seq tuple tuple_struct map struct identifier
    }
}

fn special<'de, V: Visitor<'de>>(s: Special, bytes: &'de [u8], visitor: V) -> Result<V::Value, Error> {
    let (mut a, mut b, mut text): (i64, i64, Option<&'de str>) = (0, 0, None);
    let mut raw: &'de [u8] = &[];
    for f in Fields::new(bytes) {
        let (n, v) = f?;
        match (s, n) {
            (Special::Quantity, 1) => text = Some(v.str()?),
            (Special::IntOrString, 1) | (Special::Time | Special::MicroTime | Special::Duration, 1) => a = v.varint()? as i64,
            (Special::IntOrString, 2) | (Special::Time | Special::MicroTime, 2) => b = v.varint()? as i64 as i32 as i64,
            (Special::IntOrString, 3) => text = Some(v.str()?),
            (Special::Raw, 1) => raw = v.bytes()?,
            _ => {}
        }
    }
    match s {
        Special::Quantity => visitor.visit_borrowed_str(text.unwrap_or_default()),
        Special::IntOrString if a == 1 => visitor.visit_borrowed_str(text.unwrap_or_default()),
        Special::IntOrString => visitor.visit_i32(b as i32),
        Special::Time | Special::MicroTime => {
            let t = jiff::Timestamp::new(a, b as i32).map_err(|e| Error(format!("a time out of range: {e}")))?;
            let f = if s == Special::Time { "%Y-%m-%dT%H:%M:%SZ" } else { "%Y-%m-%dT%H:%M:%S%.6fZ" };
            visitor.visit_string(t.strftime(f).to_string())
        }
        Special::Duration => visitor.visit_string(go_duration(a)),
        Special::Raw if raw.is_empty() => visitor.visit_unit(),
        Special::Raw => serde_json::Deserializer::from_slice(raw).deserialize_any(visitor).map_err(|e| Error(format!("raw JSON: {e}"))),
    }
}

/// A duration as Go's `time.Duration.String` writes it: `1h2m3.5s`, `250ms`, `0s`.
pub fn go_duration(nanos: i64) -> String {
    if nanos == 0 {
        return "0s".into();
    }
    let sign = if nanos < 0 { "-" } else { "" };
    let n = nanos.unsigned_abs();
    if n < 1_000_000_000 {
        let (unit, div) = match n {
            0..1_000 => ("ns", 1),
            1_000..1_000_000 => ("µs", 1_000),
            _ => ("ms", 1_000_000),
        };
        return format!("{sign}{}{unit}", fraction(n, div));
    }
    let (h, rest) = (n / 3_600_000_000_000, n % 3_600_000_000_000);
    let (m, s) = (rest / 60_000_000_000, rest % 60_000_000_000);
    let secs = format!("{}s", fraction(s, 1_000_000_000));
    match (h, m) {
        (0, 0) => format!("{sign}{secs}"),
        (0, m) => format!("{sign}{m}m{secs}"),
        (h, m) => format!("{sign}{h}h{m}m{secs}"),
    }
}

fn fraction(n: u64, div: u64) -> String {
    let (whole, part) = (n / div, n % div);
    if part == 0 {
        return whole.to_string();
    }
    let digits = div.ilog10() as usize;
    let part = format!("{part:0digits$}");
    format!("{whole}.{}", part.trim_end_matches('0'))
}

/// A message's fields as a map. Fields embedded inline are read in place of their parent's
/// (a stack of frames); a repeated or map field is given once, whole, where it first
/// appears, its later occurrences skipped.
struct MessageAccess<'de> {
    frames: Vec<Frame<'de>>,
    pending: Option<Pending<'de>>,
}

struct Frame<'de> {
    bytes: &'de [u8],
    fields: Fields<'de>,
    msg: &'static Message,
    /// Repeated and map fields already given.
    given: Vec<u32>,
}

enum Pending<'de> {
    One(&'static Field, Value<'de>),
    All(&'static Field, &'de [u8], usize),
}

impl<'de> MessageAccess<'de> {
    fn new(bytes: &'de [u8], msg: &'static Message) -> Self {
        MessageAccess { frames: vec![Frame { bytes, fields: Fields::new(bytes), msg, given: Vec::new() }], pending: None }
    }
}

impl<'de> MapAccess<'de> for MessageAccess<'de> {
    type Error = Error;

    fn next_key_seed<K: DeserializeSeed<'de>>(&mut self, seed: K) -> Result<Option<K::Value>, Error> {
        loop {
            let Some(frame) = self.frames.last_mut() else { return Ok(None) };
            let Some(next) = frame.fields.next_field() else {
                self.frames.pop();
                continue;
            };
            let (number, v, start) = next?;
            let msg: &'static Message = frame.msg;
            let Some(field) = msg.field(number) else { continue };
            if field.inline {
                if let (Value::Bytes(b), Ty::Message(id)) = (v, field.ty) {
                    let msg = schema().message(id);
                    self.frames.push(Frame { bytes: b, fields: Fields::new(b), msg, given: Vec::new() });
                }
                continue;
            }
            self.pending = Some(match field.label {
                Label::Optional => Pending::One(field, v),
                Label::Repeated | Label::Map(_) => {
                    if frame.given.contains(&number) {
                        continue;
                    }
                    frame.given.push(number);
                    Pending::All(field, frame.bytes, start)
                }
            });
            let name: &'static str = field.name.as_str();
            return seed.deserialize(BorrowedStrDeserializer::new(name)).map(Some);
        }
    }

    fn next_value_seed<V: DeserializeSeed<'de>>(&mut self, seed: V) -> Result<V::Value, Error> {
        match self.pending.take() {
            Some(Pending::One(field, v)) => seed.deserialize(ValueDe { ty: field.ty, v }),
            Some(Pending::All(field, bytes, start)) => match field.label {
                Label::Map(key) => seed.deserialize(Occurrences { field, fields: Fields::from(bytes, start), key: Some(key), value: None }),
                _ => seed.deserialize(Occurrences { field, fields: Fields::from(bytes, start), key: None, value: None }),
            },
            None => Err(Error("a value asked for before its key".into())),
        }
    }
}

/// Every occurrence of a repeated field (a sequence) or of a map field's entries (a map),
/// from the first one on.
struct Occurrences<'de> {
    field: &'static Field,
    fields: Fields<'de>,
    /// A map: the key's type.
    key: Option<Scalar>,
    /// A map entry's value, between its key and the value.
    value: Option<Value<'de>>,
}

impl<'de> Occurrences<'de> {
    fn next_occurrence(&mut self) -> Result<Option<Value<'de>>, Error> {
        for f in self.fields.by_ref() {
            let (n, v) = f?;
            if n == self.field.number {
                return Ok(Some(v));
            }
        }
        Ok(None)
    }
}

impl<'de> Deserializer<'de> for Occurrences<'de> {
    type Error = Error;

    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        if self.key.is_some() { visitor.visit_map(self) } else { visitor.visit_seq(self) }
    }

    fn deserialize_option<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        visitor.visit_some(self)
    }

    fn deserialize_newtype_struct<V: Visitor<'de>>(self, _name: &'static str, visitor: V) -> Result<V::Value, Error> {
        visitor.visit_newtype_struct(self)
    }

    fn deserialize_ignored_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        visitor.visit_unit()
    }

    forward_to_deserialize_any! {
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string bytes byte_buf unit unit_struct
        seq tuple tuple_struct map struct enum identifier
    }
}

impl<'de> SeqAccess<'de> for Occurrences<'de> {
    type Error = Error;

    fn next_element_seed<T: DeserializeSeed<'de>>(&mut self, seed: T) -> Result<Option<T::Value>, Error> {
        match self.next_occurrence()? {
            Some(v) => seed.deserialize(ValueDe { ty: self.field.ty, v }).map(Some),
            None => Ok(None),
        }
    }
}

impl<'de> MapAccess<'de> for Occurrences<'de> {
    type Error = Error;

    fn next_key_seed<K: DeserializeSeed<'de>>(&mut self, seed: K) -> Result<Option<K::Value>, Error> {
        let Some(entry) = self.next_occurrence()? else { return Ok(None) };
        // An entry writes both its key and its value; a missing one is the zero value.
        let empty = |ty: Ty| match ty {
            Ty::Scalar(Scalar::Bool | Scalar::Int32 | Scalar::Int64) => Value::Varint(0),
            _ => Value::Bytes(&[]),
        };
        let key_ty = Ty::Scalar(self.key.unwrap_or(Scalar::String));
        let (mut key, mut value) = (empty(key_ty), empty(self.field.ty));
        for f in Fields::new(entry.bytes()?) {
            match f? {
                (1, v) => key = v,
                (2, v) => value = v,
                _ => {}
            }
        }
        self.value = Some(value);
        match key_ty {
            Ty::Scalar(Scalar::String) => seed.deserialize(BorrowedStrDeserializer::new(key.str()?)).map(Some),
            _ => seed.deserialize(key.varint()?.to_string().into_deserializer()).map(Some),
        }
    }

    fn next_value_seed<V: DeserializeSeed<'de>>(&mut self, seed: V) -> Result<V::Value, Error> {
        let v = self.value.take().ok_or_else(|| Error("a map value asked for before its key".into()))?;
        seed.deserialize(ValueDe { ty: self.field.ty, v })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_string_reads_as_an_enum_variant() {
        #[derive(serde::Deserialize, Debug, PartialEq)]
        enum Summary {
            Success,
            Failure,
        }
        #[derive(serde::Deserialize)]
        struct Status {
            status: Option<Summary>,
            code: u16,
        }
        let s = schema();
        let id = s.of_kind("v1", "Status").unwrap();
        // status = 2 "Failure", code = 6 410.
        let bytes = [0x12, 7, b'F', b'a', b'i', b'l', b'u', b'r', b'e', 0x30, 0x9a, 0x03];
        let st: Status = from_message(&bytes, id).unwrap();
        assert_eq!((st.status, st.code), (Some(Summary::Failure), 410));
    }

    #[test]
    fn durations_read_as_go_writes_them() {
        for (n, s) in [
            (0, "0s"),
            (1, "1ns"),
            (1_500, "1.5µs"),
            (250_000_000, "250ms"),
            (1_000_000_000, "1s"),
            (1_500_000_000, "1.5s"),
            (90_000_000_000, "1m30s"),
            (3_600_000_000_000, "1h0m0s"),
            (-5_000_000_000, "-5s"),
        ] {
            assert_eq!(go_duration(n), s, "{n}");
        }
    }
}

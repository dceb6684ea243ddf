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
use smallvec::SmallVec;

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
///
/// A repeated field's occurrences are read as one run, as gogo writes them (and every
/// Kubernetes server with it); a message that has a field in two runs (legal protobuf,
/// written by no such server) is read again from the start, every run of every field
/// gathered.
pub fn from_message<'de, T: de::Deserialize<'de>>(bytes: &'de [u8], msg: MsgId) -> Result<T, Error> {
    match T::deserialize(ValueDe { ty: Ty::Message(msg), v: Value::Bytes(bytes), exact: false }) {
        Err(e) if e.0 == SPLIT => T::deserialize(ValueDe { ty: Ty::Message(msg), v: Value::Bytes(bytes), exact: true }),
        r => r,
    }
}

/// The error that has a message read again gathering split runs.
const SPLIT: &str = "protobuf: a repeated field in more than one run";

/// A meta/v1 `Time` or `MicroTime` as the client's lean decoders read one: from JSON its
/// RFC 3339 text, parsed as k8s-openapi's `Time` parses it; from protobuf its seconds and
/// nanoseconds, with no text in between (several in every pod).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Time(pub jiff::Timestamp);

/// The newtype name by which [`Time`] asks this reader for its instant as nanoseconds.
const TIME: &str = "$daemonscope::k8s::proto::Time";

impl<'de> de::Deserialize<'de> for Time {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Time;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a time")
            }
            fn visit_str<E: de::Error>(self, s: &str) -> Result<Time, E> {
                s.parse().map(Time).map_err(E::custom)
            }
            fn visit_i128<E: de::Error>(self, nanos: i128) -> Result<Time, E> {
                jiff::Timestamp::from_nanosecond(nanos).map(Time).map_err(E::custom)
            }
            fn visit_newtype_struct<D: Deserializer<'de>>(self, d: D) -> Result<Time, D::Error> {
                d.deserialize_str(self)
            }
        }
        d.deserialize_newtype_struct(TIME, V)
    }
}

/// One value of type `ty`.
struct ValueDe<'de> {
    ty: Ty,
    v: Value<'de>,
    /// Gather repeated fields from anywhere in their message (see [`from_message`]).
    exact: bool,
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
                    None => visitor.visit_map(MessageAccess::new(bytes, msg, self.exact)),
                    Some(s) => special(s, bytes, visitor),
                }
            }
        }
    }

    fn deserialize_option<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        visitor.visit_some(self)
    }

    /// A [`Time`] asking for its instant gets it as nanoseconds.
    fn deserialize_newtype_struct<V: Visitor<'de>>(self, name: &'static str, visitor: V) -> Result<V::Value, Error> {
        if name == TIME
            && let Ty::Message(id) = self.ty
            && matches!(schema().message(id).special, Some(Special::Time | Special::MicroTime))
        {
            let (mut secs, mut nanos) = (0i64, 0i64);
            for f in Fields::new(self.v.bytes()?) {
                match f? {
                    (1, v) => secs = v.varint()? as i64,
                    (2, v) => nanos = v.varint()? as i64 as i32 as i64,
                    _ => {}
                }
            }
            return visitor.visit_i128(i128::from(secs) * 1_000_000_000 + i128::from(nanos));
        }
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
            let mut buf = [0u8; 32];
            let text = rfc3339(a, b as i32, s == Special::MicroTime, &mut buf)?;
            visitor.visit_str(text)
        }
        Special::Duration => visitor.visit_string(go_duration(a)),
        Special::Raw if raw.is_empty() => visitor.visit_unit(),
        Special::Raw => serde_json::Deserializer::from_slice(raw).deserialize_any(visitor).map_err(|e| Error(format!("raw JSON: {e}"))),
    }
}

/// A time as apimachinery writes it in JSON (`2006-01-02T15:04:05Z`, with six digits of
/// microseconds for a `MicroTime`), written into `buf`: every pod carries several, so this
/// is plain arithmetic (the civil date of a day count: Hinnant's `civil_from_days`), not a
/// formatter and an allocation for each.
fn rfc3339(seconds: i64, nanos: i32, micro: bool, buf: &mut [u8; 32]) -> Result<&str, Error> {
    // apimachinery's range is years 0001–9999, as RFC 3339's.
    const MIN: i64 = -62_135_596_800;
    const MAX: i64 = 253_402_300_799;
    if !(MIN..=MAX).contains(&seconds) || !(0..1_000_000_000).contains(&nanos) {
        return Err(Error(format!("a time out of range: {seconds} s {nanos} ns")));
    }
    let (days, secs) = (seconds.div_euclid(86_400), seconds.rem_euclid(86_400));
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    let mut put = |at: usize, width: usize, mut v: i64| {
        for i in (at..at + width).rev() {
            buf[i] = b'0' + (v % 10) as u8;
            v /= 10;
        }
    };
    put(0, 4, year);
    put(5, 2, month);
    put(8, 2, day);
    put(11, 2, secs / 3600);
    put(14, 2, secs / 60 % 60);
    put(17, 2, secs % 60);
    let mut end = 19;
    if micro {
        put(20, 6, i64::from(nanos / 1000));
        buf[19] = b'.';
        end = 26;
    }
    for (i, c) in [(4, b'-'), (7, b'-'), (10, b'T'), (13, b':'), (16, b':'), (end, b'Z')] {
        buf[i] = c;
    }
    std::str::from_utf8(&buf[..=end]).map_err(|_| Error("a time".into()))
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
    exact: bool,
    /// The message, then the inline messages being read inside it (rarely any: no heap
    /// for a message's walk, as there are tens of messages in a pod).
    frames: SmallVec<[Frame<'de>; 2]>,
    pending: Option<Pending<'de>>,
}

struct Frame<'de> {
    bytes: &'de [u8],
    fields: Fields<'de>,
    msg: &'static Message,
    /// Repeated and map fields already given.
    given: Given,
    /// Fields whose run has ended (another field came after it).
    closed: Given,
    /// The number of the field read last.
    last: u32,
}

impl<'de> Frame<'de> {
    fn new(bytes: &'de [u8], msg: &'static Message) -> Self {
        Frame { bytes, fields: Fields::new(bytes), msg, given: Given::default(), closed: Given::default(), last: 0 }
    }
}

/// A set of field numbers: a bit each below 64 (every field of the Kubernetes messages
/// read here), a list beyond.
#[derive(Default)]
struct Given {
    low: u64,
    high: Vec<u32>,
}

impl Given {
    fn contains(&self, n: u32) -> bool {
        if n < 64 { self.low & (1u64 << n) != 0 } else { self.high.contains(&n) }
    }

    /// Adds `n`; false when it was there already.
    fn insert(&mut self, n: u32) -> bool {
        if n < 64 {
            let bit = 1u64 << n;
            let new = self.low & bit == 0;
            self.low |= bit;
            return new;
        }
        if self.high.contains(&n) {
            return false;
        }
        self.high.push(n);
        true
    }
}

enum Pending<'de> {
    One(&'static Field, Value<'de>),
    All(&'static Field, &'de [u8], usize),
}

impl<'de> MessageAccess<'de> {
    fn new(bytes: &'de [u8], msg: &'static Message, exact: bool) -> Self {
        let mut frames = SmallVec::new();
        frames.push(Frame::new(bytes, msg));
        MessageAccess { exact, frames, pending: None }
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
            if number != frame.last {
                if frame.given.contains(frame.last) {
                    frame.closed.insert(frame.last);
                }
                frame.last = number;
            }
            let msg: &'static Message = frame.msg;
            let Some(field) = msg.field(number) else { continue };
            if field.inline {
                if let (Value::Bytes(b), Ty::Message(id)) = (v, field.ty) {
                    let msg = schema().message(id);
                    self.frames.push(Frame::new(b, msg));
                }
                continue;
            }
            self.pending = Some(match field.label {
                Label::Optional => Pending::One(field, v),
                Label::Repeated | Label::Map(_) => {
                    if !frame.given.insert(number) {
                        // A later occurrence: given with the first, unless its run had
                        // ended (then the message is read again, exactly).
                        if !self.exact && frame.closed.contains(number) {
                            return Err(Error(SPLIT.into()));
                        }
                        continue;
                    }
                    Pending::All(field, frame.bytes, start)
                }
            });
            let name: &'static str = field.name.as_str();
            return seed.deserialize(BorrowedStrDeserializer::new(name)).map(Some);
        }
    }

    fn next_value_seed<V: DeserializeSeed<'de>>(&mut self, seed: V) -> Result<V::Value, Error> {
        match self.pending.take() {
            Some(Pending::One(field, v)) => seed.deserialize(ValueDe { ty: field.ty, v, exact: self.exact }),
            Some(Pending::All(field, bytes, start)) => {
                let key = match field.label {
                    Label::Map(key) => Some(key),
                    _ => None,
                };
                seed.deserialize(Occurrences { field, fields: Fields::from(bytes, start), key, value: None, exact: self.exact })
            }
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
    /// Every occurrence to the message's end; else the run from the first one.
    exact: bool,
}

impl<'de> Occurrences<'de> {
    fn next_occurrence(&mut self) -> Result<Option<Value<'de>>, Error> {
        for f in self.fields.by_ref() {
            let (n, v) = f?;
            if n == self.field.number {
                return Ok(Some(v));
            }
            if !self.exact {
                // The run is over.
                break;
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
            Some(v) => seed.deserialize(ValueDe { ty: self.field.ty, v, exact: self.exact }).map(Some),
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
        seed.deserialize(ValueDe { ty: self.field.ty, v, exact: self.exact })
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
    fn a_repeated_field_in_two_runs_is_read_whole() {
        // A ListMeta-less PodList would do; an ObjectMeta is simpler: finalizers (14)
        // "a", then name (1) "n", then finalizers "b" — legal protobuf no gogo writer makes.
        #[derive(serde::Deserialize, Debug, PartialEq)]
        struct Meta {
            name: String,
            finalizers: Vec<String>,
        }
        let s = schema();
        let id = s.find("k8s.io.apimachinery.pkg.apis.meta.v1.ObjectMeta").unwrap();
        let mut bytes = Vec::new();
        crate::k8s::proto::wire::put_bytes_field(&mut bytes, 14, b"a");
        crate::k8s::proto::wire::put_bytes_field(&mut bytes, 1, b"n");
        crate::k8s::proto::wire::put_bytes_field(&mut bytes, 14, b"b");
        let m: Meta = from_message(&bytes, id).unwrap();
        assert_eq!(m, Meta { name: "n".into(), finalizers: vec!["a".into(), "b".into()] });
        // In one run (as gogo writes), the same.
        let mut one = Vec::new();
        crate::k8s::proto::wire::put_bytes_field(&mut one, 1, b"n");
        crate::k8s::proto::wire::put_bytes_field(&mut one, 14, b"a");
        crate::k8s::proto::wire::put_bytes_field(&mut one, 14, b"b");
        assert_eq!(from_message::<Meta>(&one, id).unwrap(), m);
    }

    #[test]
    fn times_read_as_apimachinery_writes_them() {
        let mut buf = [0u8; 32];
        let mut rng_state = 0x9e37_79b9_7f4a_7c15u64;
        // Every one of a spread of instants (seeded), and the edges, equals jiff's own format.
        // jiff's range ends 9999-12-30T22:00:00Z (it allows for offsets).
        const JIFF_MAX: i64 = 253_402_207_200;
        let mut cases = vec![(0, 0), (-1, 999_999_999), (951_782_400, 0), (-62_135_596_800, 0), (JIFF_MAX, 0)];
        for _ in 0..2000 {
            rng_state = rng_state.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1_442_695_040_888_963_407);
            let secs = (rng_state >> 11) as i64 % JIFF_MAX - (rng_state & 1) as i64 * 62_135_596_800;
            cases.push((secs.clamp(-62_135_596_800, JIFF_MAX), (rng_state % 1_000_000_000) as i32));
        }
        for (secs, nanos) in cases {
            let t = jiff::Timestamp::new(secs, nanos).unwrap();
            assert_eq!(rfc3339(secs, nanos, false, &mut buf).unwrap(), t.strftime("%Y-%m-%dT%H:%M:%SZ").to_string(), "{secs}");
            assert_eq!(rfc3339(secs, nanos, true, &mut buf).unwrap(), t.strftime("%Y-%m-%dT%H:%M:%S%.6fZ").to_string(), "{secs}.{nanos}");
        }
        assert_eq!(rfc3339(253_402_300_799, 999_999_999, true, &mut buf).unwrap(), "9999-12-31T23:59:59.999999Z");
        assert!(rfc3339(253_402_300_800, 0, false, &mut buf).is_err());
        assert!(rfc3339(0, 1_000_000_000, false, &mut buf).is_err());
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

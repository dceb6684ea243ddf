//! Typed objects written in protobuf straight from their `Serialize` (a serde Serializer
//! walking upstream's schema), without building their JSON first: how the simulator
//! writes every object of a list or a watch a protobuf client asks for. The bytes are
//! [`protobuf_out::message`](super::protobuf_out::message)'s (gogo's field order, map
//! entries by key, inline messages always written; `tests/it/wire_protobuf.rs` compares
//! the two); what this cannot write is an error, and the caller goes through the JSON.

use std::fmt::{self, Write as _};

use base64::Engine as _;
use serde::Serialize;
use serde::ser::{self, Impossible, SerializeMap, SerializeSeq, SerializeStruct};
use smallvec::SmallVec;

use crate::k8s::proto::schema::{Field, Label, Message, MsgId, Scalar, Special, Ty, schema};
use crate::k8s::proto::wire::{put_bytes_field, put_varint, put_varint_field};

#[derive(Debug)]
pub struct Error(pub String);

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}
impl std::error::Error for Error {}

impl ser::Error for Error {
    fn custom<T: fmt::Display>(msg: T) -> Self {
        Error(msg.to_string())
    }
}

fn unexpected<T>(what: &str, ty: Ty) -> Result<T, Error> {
    Err(Error(format!("a {what} where the schema has {ty:?}")))
}

/// `value`'s bytes as message `msg` (its own bytes: no tag, no length, no envelope).
pub fn message<T: Serialize + ?Sized>(value: &T, msg: MsgId) -> Result<Vec<u8>, Error> {
    let mut out = Vec::with_capacity(512);
    value.serialize(ValueSer { number: None, ty: Ty::Message(msg), label: Label::Optional, out: &mut out })?;
    Ok(out)
}

/// One value of type `ty`, written as field `number` (None: the top-level message, its
/// bytes alone): a single one, or for a repeated or map field all its occurrences.
struct ValueSer<'a> {
    number: Option<u32>,
    ty: Ty,
    label: Label,
    out: &'a mut Vec<u8>,
}

impl<'a> ValueSer<'a> {
    fn varint(self, v: i64) -> Result<(), Error> {
        match (self.ty, self.number) {
            (Ty::Scalar(Scalar::Int32), Some(n)) => put_varint_field(self.out, n, v as i32 as i64 as u64),
            (Ty::Scalar(Scalar::Int64), Some(n)) => put_varint_field(self.out, n, v as u64),
            (Ty::Message(id), Some(n)) if schema().message(id).special == Some(Special::IntOrString) => {
                let mut sub = take();
                put_varint_field(&mut sub, 1, 0);
                put_varint_field(&mut sub, 2, v as i32 as i64 as u64);
                put_bytes_field(&mut sub, 3, b"");
                put_bytes_field(self.out, n, &sub);
                give(sub);
            }
            (ty, _) => return unexpected("number", ty),
        }
        Ok(())
    }

    fn text(self, s: &str) -> Result<(), Error> {
        let Some(n) = self.number else { return unexpected("string", self.ty) };
        match self.ty {
            Ty::Scalar(Scalar::String) => put_bytes_field(self.out, n, s.as_bytes()),
            Ty::Scalar(Scalar::Bytes) => {
                let b = base64::engine::general_purpose::STANDARD.decode(s).map_err(|_| Error("bytes: not base64".into()))?;
                put_bytes_field(self.out, n, &b);
            }
            Ty::Message(id) => {
                let mut sub = take();
                match schema().message(id).special {
                    Some(Special::Time | Special::MicroTime) => {
                        let (secs, nanos) = parse_time(s)?;
                        put_varint_field(&mut sub, 1, secs as u64);
                        put_varint_field(&mut sub, 2, i64::from(nanos) as u64);
                    }
                    Some(Special::Quantity) => put_bytes_field(&mut sub, 1, s.as_bytes()),
                    Some(Special::IntOrString) => {
                        put_varint_field(&mut sub, 1, 1);
                        put_varint_field(&mut sub, 2, 0);
                        put_bytes_field(&mut sub, 3, s.as_bytes());
                    }
                    _ => return unexpected("string", self.ty),
                }
                put_bytes_field(self.out, n, &sub);
                give(sub);
            }
            ty => return unexpected("string", ty),
        }
        Ok(())
    }

    /// A message's fields, into a buffer of their own (the length goes first).
    fn start_message(self) -> Result<MessageSer<'a>, Error> {
        let Ty::Message(id) = self.ty else { return unexpected("structure", self.ty) };
        let msg = schema().message(id);
        if msg.special.is_some() {
            return unexpected("structure", self.ty);
        }
        Ok(MessageSer { body: Body::new(msg), key: None, parent: self })
    }

    fn raw(self, json: &[u8]) -> Result<(), Error> {
        let mut sub = take();
        put_bytes_field(&mut sub, 1, json);
        match self.number {
            Some(n) => put_bytes_field(self.out, n, &sub),
            None => self.out.extend_from_slice(&sub),
        }
        give(sub);
        Ok(())
    }

    fn is_raw(&self) -> bool {
        matches!(self.ty, Ty::Message(id) if schema().message(id).special == Some(Special::Raw))
    }
}

/// `2006-01-02T15:04:05Z` (and the same with a fraction, as a MicroTime writes it), read
/// with plain arithmetic; any other form through jiff.
fn parse_time(s: &str) -> Result<(i64, i32), Error> {
    let b = s.as_bytes();
    let digits = |r: std::ops::Range<usize>| -> Option<i64> {
        b.get(r.clone())?.iter().try_fold(0i64, |acc, c| c.is_ascii_digit().then(|| acc * 10 + i64::from(c - b'0')))
    };
    let fast = || -> Option<(i64, i32)> {
        if b.len() < 20 || b[4] != b'-' || b[7] != b'-' || b[10] != b'T' || b[13] != b':' || b[16] != b':' || *b.last()? != b'Z' {
            return None;
        }
        let (y, mo, d, h, mi, se) = (digits(0..4)?, digits(5..7)?, digits(8..10)?, digits(11..13)?, digits(14..16)?, digits(17..19)?);
        if !(1..=12).contains(&mo) || !(1..=31).contains(&d) || h > 23 || mi > 59 || se > 59 {
            return None;
        }
        let nanos = match &b[19..b.len() - 1] {
            [] => 0,
            [b'.', frac @ ..] if (1..=9).contains(&frac.len()) => digits(20..20 + frac.len())? as i32 * 10i32.pow(9 - frac.len() as u32),
            _ => return None,
        };
        // Hinnant's days_from_civil.
        let y = if mo <= 2 { y - 1 } else { y };
        let era = y.div_euclid(400);
        let yoe = y - era * 400;
        let mp = (mo + 9) % 12;
        let doy = (153 * mp + 2) / 5 + d - 1;
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
        let days = era * 146_097 + doe - 719_468;
        Some((days * 86_400 + h * 3600 + mi * 60 + se, nanos))
    };
    if let Some(t) = fast() {
        return Ok(t);
    }
    let t: jiff::Timestamp = s.parse().map_err(|e| Error(format!("a time: {e}")))?;
    Ok((t.as_second(), t.subsec_nanosecond()))
}

/// A message being written: each field's bytes in `buf`, in the order serde gives them,
/// with where each starts; at the end they are put in number order (gogo's). Fields of an
/// embedded inline message (`INLINE`) go to that message's own body.
struct Body {
    msg: &'static Message,
    buf: Vec<u8>,
    /// (field number, start, end) of each field in `buf`.
    spans: SmallVec<[(u32, u32, u32); 16]>,
    /// The inline messages being written, by field.
    inline: Vec<(&'static Field, Body)>,
}

impl Body {
    fn new(msg: &'static Message) -> Self {
        Body { msg, buf: take(), spans: SmallVec::new(), inline: Vec::new() }
    }

    fn field<T: Serialize + ?Sized>(&mut self, name: &str, value: &T) -> Result<(), Error> {
        let Some(field) = self.msg.field_named(name) else {
            // A field of an embedded message, or one the schema does not have (written
            // in neither encoder).
            for f in self.msg.fields.iter().filter(|f| f.inline) {
                let Ty::Message(id) = f.ty else { continue };
                let sub = schema().message(id);
                if sub.field_named(name).is_some() {
                    let i = match self.inline.iter().position(|(g, _)| g.number == f.number) {
                        Some(i) => i,
                        None => {
                            self.inline.push((f, Body::new(sub)));
                            self.inline.len() - 1
                        }
                    };
                    return self.inline[i].1.field(name, value);
                }
            }
            return Ok(());
        };
        let start = self.buf.len() as u32;
        value.serialize(ValueSer { number: Some(field.number), ty: field.ty, label: field.label, out: &mut self.buf })?;
        let end = self.buf.len() as u32;
        if end > start {
            self.spans.push((field.number, start, end));
        }
        Ok(())
    }

    /// The message's bytes, fields in number order.
    fn finish(mut self) -> Result<Vec<u8>, Error> {
        // The embedded messages, always written (as gogo does), even when empty.
        for f in self.msg.fields.iter().filter(|f| f.inline) {
            let sub = match self.inline.iter().position(|(g, _)| g.number == f.number) {
                Some(i) => self.inline.swap_remove(i).1.finish()?,
                None => Vec::new(),
            };
            let start = self.buf.len() as u32;
            put_bytes_field(&mut self.buf, f.number, &sub);
            give(sub);
            self.spans.push((f.number, start, self.buf.len() as u32));
        }
        if self.spans.windows(2).all(|w| w[0].0 < w[1].0) {
            return Ok(self.buf);
        }
        // Stable: a field given twice (never by a derived Serialize) keeps its order.
        self.spans.sort_by_key(|s| s.0);
        let mut out = take();
        for &(_, a, b) in &self.spans {
            out.extend_from_slice(&self.buf[a as usize..b as usize]);
        }
        give(self.buf);
        Ok(out)
    }
}

/// A message being written inside its parent.
struct MessageSer<'a> {
    body: Body,
    /// A map's key, until its value comes.
    key: Option<String>,
    parent: ValueSer<'a>,
}

impl MessageSer<'_> {
    fn close(self) -> Result<(), Error> {
        let bytes = self.body.finish()?;
        match self.parent.number {
            Some(n) => put_bytes_field(self.parent.out, n, &bytes),
            None => self.parent.out.extend_from_slice(&bytes),
        }
        give(bytes);
        Ok(())
    }
}

impl SerializeStruct for MessageSer<'_> {
    type Ok = ();
    type Error = Error;

    fn serialize_field<T: Serialize + ?Sized>(&mut self, key: &'static str, value: &T) -> Result<(), Error> {
        self.body.field(key, value)
    }

    fn end(self) -> Result<(), Error> {
        self.close()
    }
}

impl SerializeMap for MessageSer<'_> {
    type Ok = ();
    type Error = Error;

    fn serialize_key<T: Serialize + ?Sized>(&mut self, key: &T) -> Result<(), Error> {
        self.key = Some(key_text(key)?);
        Ok(())
    }

    fn serialize_value<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), Error> {
        let key = self.key.take().ok_or_else(|| Error("a map value before its key".into()))?;
        self.body.field(&key, value)
    }

    fn end(self) -> Result<(), Error> {
        self.close()
    }
}

macro_rules! by_varint {
    ($($name:ident: $t:ty),*) => {$(
        fn $name(self, v: $t) -> Result<(), Error> {
            self.varint(v as i64)
        }
    )*};
}

impl<'a> ser::Serializer for ValueSer<'a> {
    type Ok = ();
    type Error = Error;
    type SerializeSeq = Self;
    type SerializeTuple = Impossible<(), Error>;
    type SerializeTupleStruct = Impossible<(), Error>;
    type SerializeTupleVariant = Impossible<(), Error>;
    type SerializeMap = MapOrMessage<'a>;
    type SerializeStruct = MessageSer<'a>;
    type SerializeStructVariant = Impossible<(), Error>;

    by_varint!(serialize_i8: i8, serialize_i16: i16, serialize_i32: i32, serialize_i64: i64,
        serialize_u8: u8, serialize_u16: u16, serialize_u32: u32, serialize_u64: u64);

    fn serialize_bool(self, v: bool) -> Result<(), Error> {
        match (self.ty, self.number) {
            (Ty::Scalar(Scalar::Bool), Some(n)) => put_varint_field(self.out, n, u64::from(v)),
            (ty, _) => return unexpected("boolean", ty),
        }
        Ok(())
    }

    fn serialize_f32(self, v: f32) -> Result<(), Error> {
        self.serialize_f64(f64::from(v))
    }

    fn serialize_f64(self, v: f64) -> Result<(), Error> {
        if v.fract() != 0.0 {
            return unexpected("fraction", self.ty);
        }
        self.varint(v as i64)
    }

    fn serialize_char(self, v: char) -> Result<(), Error> {
        self.text(v.encode_utf8(&mut [0; 4]))
    }

    fn serialize_str(self, v: &str) -> Result<(), Error> {
        self.text(v)
    }

    fn serialize_bytes(self, v: &[u8]) -> Result<(), Error> {
        match (self.ty, self.number) {
            (Ty::Scalar(Scalar::Bytes), Some(n)) => put_bytes_field(self.out, n, v),
            (ty, _) => return unexpected("byte string", ty),
        }
        Ok(())
    }

    /// A null: written as nothing, as the JSON walk skips it.
    fn serialize_none(self) -> Result<(), Error> {
        Ok(())
    }

    fn serialize_some<T: Serialize + ?Sized>(self, value: &T) -> Result<(), Error> {
        value.serialize(self)
    }

    fn serialize_unit(self) -> Result<(), Error> {
        Ok(())
    }

    fn serialize_unit_struct(self, _: &'static str) -> Result<(), Error> {
        Ok(())
    }

    fn serialize_unit_variant(self, _: &'static str, _: u32, variant: &'static str) -> Result<(), Error> {
        self.text(variant)
    }

    /// A newtype (`Time(Timestamp)`, `Quantity(String)`, `FieldsV1(Value)`): its inner
    /// value, or for a raw extension the JSON it holds.
    fn serialize_newtype_struct<T: Serialize + ?Sized>(self, _: &'static str, value: &T) -> Result<(), Error> {
        if self.is_raw() {
            let json = serde_json::to_vec(value).map_err(|e| Error(format!("raw JSON: {e}")))?;
            return self.raw(&json);
        }
        value.serialize(self)
    }

    fn serialize_newtype_variant<T: Serialize + ?Sized>(self, _: &'static str, _: u32, v: &'static str, _: &T) -> Result<(), Error> {
        unexpected(v, self.ty)
    }

    /// A repeated field's occurrences.
    fn serialize_seq(self, _: Option<usize>) -> Result<Self, Error> {
        match self.label {
            Label::Repeated => Ok(self),
            _ => unexpected("list", self.ty),
        }
    }

    fn serialize_tuple(self, _: usize) -> Result<Self::SerializeTuple, Error> {
        unexpected("tuple", self.ty)
    }

    fn serialize_tuple_struct(self, _: &'static str, _: usize) -> Result<Self::SerializeTupleStruct, Error> {
        unexpected("tuple", self.ty)
    }

    fn serialize_tuple_variant(self, _: &'static str, _: u32, _: &'static str, _: usize) -> Result<Self::SerializeTupleVariant, Error> {
        unexpected("tuple", self.ty)
    }

    /// A map field's entries, or a message given as a map.
    fn serialize_map(self, _: Option<usize>) -> Result<MapOrMessage<'a>, Error> {
        match self.label {
            Label::Map(key) => Ok(MapOrMessage::Entries(MapEntries { key_ty: key, field: self, key: take(), last: None })),
            _ => self.start_message().map(|m| MapOrMessage::Message(Box::new(m))),
        }
    }

    fn serialize_struct(self, _: &'static str, _: usize) -> Result<Self::SerializeStruct, Error> {
        self.start_message()
    }

    fn serialize_struct_variant(self, _: &'static str, _: u32, v: &'static str, _: usize) -> Result<Self::SerializeStructVariant, Error> {
        unexpected(v, self.ty)
    }

    /// A `Display` value (a time, a quantity): formatted on the stack when short.
    fn collect_str<T: fmt::Display + ?Sized>(self, value: &T) -> Result<(), Error> {
        let mut s = StackStr::default();
        if write!(s, "{value}").is_ok() {
            return self.text(s.as_str());
        }
        self.text(&value.to_string())
    }
}

/// Up to 64 bytes of text without the heap.
struct StackStr {
    buf: [u8; 64],
    len: usize,
}

impl Default for StackStr {
    fn default() -> Self {
        StackStr { buf: [0; 64], len: 0 }
    }
}

impl StackStr {
    fn as_str(&self) -> &str {
        std::str::from_utf8(&self.buf[..self.len]).unwrap_or_default()
    }
}

impl fmt::Write for StackStr {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        let end = self.len + s.len();
        if end > self.buf.len() {
            return Err(fmt::Error);
        }
        self.buf[self.len..end].copy_from_slice(s.as_bytes());
        self.len = end;
        Ok(())
    }
}

impl SerializeSeq for ValueSer<'_> {
    type Ok = ();
    type Error = Error;

    fn serialize_element<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), Error> {
        value.serialize(ValueSer { number: self.number, ty: self.ty, label: Label::Optional, out: self.out })
    }

    fn end(self) -> Result<(), Error> {
        Ok(())
    }
}

/// A map: a map field's entries, or a message serde gives as a map.
enum MapOrMessage<'a> {
    Entries(MapEntries<'a>),
    /// Boxed: rare (a message serde gives as a map), and large.
    Message(Box<MessageSer<'a>>),
}

impl SerializeMap for MapOrMessage<'_> {
    type Ok = ();
    type Error = Error;

    fn serialize_key<T: Serialize + ?Sized>(&mut self, key: &T) -> Result<(), Error> {
        match self {
            MapOrMessage::Entries(m) => m.serialize_key(key),
            MapOrMessage::Message(m) => m.serialize_key(key),
        }
    }

    fn serialize_value<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), Error> {
        match self {
            MapOrMessage::Entries(m) => m.serialize_value(value),
            MapOrMessage::Message(m) => m.serialize_value(value),
        }
    }

    fn end(self) -> Result<(), Error> {
        match self {
            MapOrMessage::Entries(m) => SerializeMap::end(m),
            MapOrMessage::Message(m) => SerializeMap::end(*m),
        }
    }
}

/// A map field: each entry a `{key = 1, value = 2}` message, by key as gogo sorts them.
struct MapEntries<'a> {
    field: ValueSer<'a>,
    key_ty: Scalar,
    /// The entry's key as text (its JSON, unquoted).
    key: Vec<u8>,
    /// The key before it: keys must come in gogo's order (a `BTreeMap`'s); others are an
    /// error, and the object then goes through its JSON, which sorts them.
    last: Option<Vec<u8>>,
}

impl SerializeMap for MapEntries<'_> {
    type Ok = ();
    type Error = Error;

    fn serialize_key<T: Serialize + ?Sized>(&mut self, key: &T) -> Result<(), Error> {
        self.key.clear();
        serde_json::to_writer(&mut self.key, key).map_err(|e| Error(format!("a map key: {e}")))?;
        match self.key.as_slice() {
            [b'"', inner @ .., b'"'] if !inner.contains(&b'\\') => {
                self.key.pop();
                self.key.remove(0);
            }
            [b'"', ..] => {
                let text: String = serde_json::from_slice(&self.key).map_err(|e| Error(format!("a map key: {e}")))?;
                self.key = text.into_bytes();
            }
            digits if digits.iter().all(|c| c.is_ascii_digit() || *c == b'-') => {}
            _ => return Err(Error("a map key that is neither a string nor an integer".into())),
        }
        Ok(())
    }

    fn serialize_value<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), Error> {
        let number = |k: &[u8]| std::str::from_utf8(k).ok().and_then(|k| k.parse::<i64>().ok());
        let ordered = match (&self.last, self.key_ty) {
            (None, _) => true,
            (Some(last), Scalar::String) => last.as_slice() < self.key.as_slice(),
            (Some(last), _) => number(last) < number(&self.key),
        };
        if !ordered {
            return Err(Error("map keys out of order".into()));
        }
        let mut entry = take();
        match self.key_ty {
            Scalar::String => put_bytes_field(&mut entry, 1, &self.key),
            _ => put_varint_field(&mut entry, 1, number(&self.key).ok_or_else(|| Error("a map key".into()))? as u64),
        }
        value.serialize(ValueSer { number: Some(2), ty: self.field.ty, label: Label::Optional, out: &mut entry })?;
        let n = self.field.number.ok_or_else(|| Error("a map outside a message".into()))?;
        put_varint(self.field.out, (u64::from(n) << 3) | 2);
        put_varint(self.field.out, entry.len() as u64);
        self.field.out.extend_from_slice(&entry);
        give(entry);
        let last = self.last.get_or_insert_with(take);
        std::mem::swap(last, &mut self.key);
        Ok(())
    }

    fn end(self) -> Result<(), Error> {
        give(self.key);
        if let Some(last) = self.last {
            give(last);
        }
        Ok(())
    }
}

/// Buffers for the messages being written, kept for the next ones: an object is tens of
/// nested messages, each written into a buffer of its own before its length is known.
fn take() -> Vec<u8> {
    POOL.with_borrow_mut(Vec::pop).unwrap_or_else(|| Vec::with_capacity(256))
}

fn give(mut buf: Vec<u8>) {
    buf.clear();
    POOL.with_borrow_mut(|pool| {
        if pool.len() < 64 {
            pool.push(buf);
        }
    });
}

thread_local! {
    static POOL: std::cell::RefCell<Vec<Vec<u8>>> = const { std::cell::RefCell::new(Vec::new()) };
}

/// A field's name, for a message serde gives as a map (rare: the allocation stays).
fn key_text<T: Serialize + ?Sized>(key: &T) -> Result<String, Error> {
    match serde_json::to_value(key) {
        Ok(serde_json::Value::String(s)) => Ok(s),
        Ok(other) => Err(Error(format!("a field name {other}"))),
        Err(e) => Err(Error(format!("a field name: {e}"))),
    }
}

//! The protobuf wire as kube-apiserver speaks it: varints and length-delimited fields, the
//! `k8s\0` envelope around every object (apimachinery `runtime/serializer/protobuf`: the
//! four magic bytes, then a `runtime.Unknown` holding the apiVersion, kind and the object's
//! own bytes), and a watch stream's frames (a four-byte big-endian length, then a
//! `metav1.WatchEvent` without envelope whose `object.raw` is an enveloped object:
//! `LengthDelimitedFramer` and `RawSerializer` in the same package).

use std::fmt;

/// The four bytes before every enveloped object.
pub const MAGIC: &[u8; 4] = b"k8s\x00";
/// The media type of objects and lists.
pub const MEDIA_TYPE: &str = "application/vnd.kubernetes.protobuf";
/// The media type of a watch stream.
pub const WATCH_MEDIA_TYPE: &str = "application/vnd.kubernetes.protobuf;stream=watch";
/// The largest frame a watch stream may send before the reader gives up on it (the
/// apiserver's own limit on a request body is 3 MiB; an object is smaller than etcd's
/// 1.5 MiB).
pub const MAX_FRAME: usize = 64 << 20;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DecodeError(pub String);

impl fmt::Display for DecodeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "protobuf: {}", self.0)
    }
}

impl std::error::Error for DecodeError {}

fn bad(what: &str) -> DecodeError {
    DecodeError(what.to_string())
}

/// One field's value as the wire has it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Value<'a> {
    Varint(u64),
    Fixed64(u64),
    Bytes(&'a [u8]),
    Fixed32(u32),
}

impl<'a> Value<'a> {
    pub fn bytes(self) -> Result<&'a [u8], DecodeError> {
        match self {
            Value::Bytes(b) => Ok(b),
            _ => Err(bad("expected a length-delimited field")),
        }
    }

    pub fn varint(self) -> Result<u64, DecodeError> {
        match self {
            Value::Varint(v) => Ok(v),
            _ => Err(bad("expected a varint field")),
        }
    }

    pub fn str(self) -> Result<&'a str, DecodeError> {
        std::str::from_utf8(self.bytes()?).map_err(|_| bad("a string field is not UTF-8"))
    }
}

/// Reads a varint at `*pos`, moving past it.
pub fn read_varint(buf: &[u8], pos: &mut usize) -> Result<u64, DecodeError> {
    let mut v = 0u64;
    for shift in (0..64).step_by(7) {
        let b = *buf.get(*pos).ok_or_else(|| bad("truncated varint"))?;
        *pos += 1;
        v |= u64::from(b & 0x7f) << shift;
        if b < 0x80 {
            return Ok(v);
        }
    }
    Err(bad("varint longer than 10 bytes"))
}

/// The fields of one message, in wire order, each with the offset it starts at.
#[derive(Debug, Clone)]
pub struct Fields<'a> {
    buf: &'a [u8],
    pos: usize,
}

impl<'a> Fields<'a> {
    pub fn new(buf: &'a [u8]) -> Self {
        Fields { buf, pos: 0 }
    }

    /// From `pos` on (an offset a previous iteration gave).
    pub fn from(buf: &'a [u8], pos: usize) -> Self {
        Fields { buf, pos }
    }

    /// The next field: its number, value, and where it started.
    pub fn next_field(&mut self) -> Option<Result<(u32, Value<'a>, usize), DecodeError>> {
        if self.pos >= self.buf.len() {
            return None;
        }
        let start = self.pos;
        Some(self.read().map(|(n, v)| (n, v, start)).inspect_err(|_| self.pos = self.buf.len()))
    }

    fn read(&mut self) -> Result<(u32, Value<'a>), DecodeError> {
        let key = read_varint(self.buf, &mut self.pos)?;
        let number = u32::try_from(key >> 3).map_err(|_| bad("field number out of range"))?;
        let take = |this: &mut Self, n: usize| -> Result<&'a [u8], DecodeError> {
            let end = this.pos.checked_add(n).filter(|e| *e <= this.buf.len()).ok_or_else(|| bad("truncated field"))?;
            let b = &this.buf[this.pos..end];
            this.pos = end;
            Ok(b)
        };
        let value = match key & 7 {
            0 => Value::Varint(read_varint(self.buf, &mut self.pos)?),
            1 => Value::Fixed64(u64::from_le_bytes(take(self, 8)?.try_into().unwrap_or_default())),
            2 => {
                let n = usize::try_from(read_varint(self.buf, &mut self.pos)?).map_err(|_| bad("length out of range"))?;
                Value::Bytes(take(self, n)?)
            }
            5 => Value::Fixed32(u32::from_le_bytes(take(self, 4)?.try_into().unwrap_or_default())),
            w => return Err(DecodeError(format!("unsupported wire type {w}"))),
        };
        Ok((number, value))
    }
}

impl<'a> Iterator for Fields<'a> {
    type Item = Result<(u32, Value<'a>), DecodeError>;

    fn next(&mut self) -> Option<Self::Item> {
        self.next_field().map(|r| r.map(|(n, v, _)| (n, v)))
    }
}

pub fn put_varint(out: &mut Vec<u8>, mut v: u64) {
    while v >= 0x80 {
        out.push((v as u8) | 0x80);
        v >>= 7;
    }
    out.push(v as u8);
}

/// A varint field.
pub fn put_varint_field(out: &mut Vec<u8>, number: u32, v: u64) {
    put_varint(out, u64::from(number) << 3);
    put_varint(out, v);
}

/// A length-delimited field.
pub fn put_bytes_field(out: &mut Vec<u8>, number: u32, bytes: &[u8]) {
    put_varint(out, (u64::from(number) << 3) | 2);
    put_varint(out, bytes.len() as u64);
    out.extend_from_slice(bytes);
}

/// An enveloped object: what `runtime.Unknown` says of it, and its own bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Unknown<'a> {
    pub api_version: &'a str,
    pub kind: &'a str,
    pub raw: &'a [u8],
}

/// Opens the `k8s\0` envelope.
pub fn open(bytes: &[u8]) -> Result<Unknown<'_>, DecodeError> {
    let body = bytes.strip_prefix(MAGIC.as_slice()).ok_or_else(|| bad("the object does not start with the k8s\\0 envelope"))?;
    let mut u = Unknown::default();
    for f in Fields::new(body) {
        match f? {
            (1, v) => {
                for t in Fields::new(v.bytes()?) {
                    match t? {
                        (1, v) => u.api_version = v.str()?,
                        (2, v) => u.kind = v.str()?,
                        _ => {}
                    }
                }
            }
            (2, v) => u.raw = v.bytes()?,
            (3, v) if !v.bytes()?.is_empty() => return Err(bad("content encodings are not supported")),
            _ => {}
        }
    }
    Ok(u)
}

/// Wraps an object's bytes in the envelope, as the apiserver's serializer does (the
/// content encoding and type empty).
pub fn seal(api_version: &str, kind: &str, raw: &[u8]) -> Vec<u8> {
    let mut type_meta = Vec::with_capacity(api_version.len() + kind.len() + 4);
    put_bytes_field(&mut type_meta, 1, api_version.as_bytes());
    put_bytes_field(&mut type_meta, 2, kind.as_bytes());
    let mut out = Vec::with_capacity(raw.len() + type_meta.len() + 16);
    out.extend_from_slice(MAGIC);
    put_bytes_field(&mut out, 1, &type_meta);
    put_bytes_field(&mut out, 2, raw);
    put_bytes_field(&mut out, 3, b"");
    put_bytes_field(&mut out, 4, b"");
    out
}

/// A watch event as its frame holds it: the type (`ADDED`, ..., `BOOKMARK`, `ERROR`) and
/// the enveloped object.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WatchEvent<'a> {
    pub kind: &'a str,
    pub object: &'a [u8],
}

pub fn watch_event(frame: &[u8]) -> Result<WatchEvent<'_>, DecodeError> {
    let mut e = WatchEvent { kind: "", object: &[] };
    for f in Fields::new(frame) {
        match f? {
            (1, v) => e.kind = v.str()?,
            (2, v) => {
                for r in Fields::new(v.bytes()?) {
                    if let (1, v) = r? {
                        e.object = v.bytes()?;
                    }
                }
            }
            _ => {}
        }
    }
    Ok(e)
}

/// One watch frame: the length, then the event of `kind` holding `object` (enveloped).
pub fn put_watch_frame(out: &mut Vec<u8>, kind: &str, object: &[u8]) {
    let mut raw = Vec::with_capacity(object.len() + 8);
    put_bytes_field(&mut raw, 1, object);
    let mut event = Vec::with_capacity(raw.len() + kind.len() + 8);
    put_bytes_field(&mut event, 1, kind.as_bytes());
    put_bytes_field(&mut event, 2, &raw);
    out.extend_from_slice(&(event.len() as u32).to_be_bytes());
    out.extend_from_slice(&event);
}

/// Cuts a watch stream's bytes into frames as they arrive.
#[derive(Debug, Default)]
pub struct Frames {
    buf: Vec<u8>,
    start: usize,
}

impl Frames {
    pub fn push(&mut self, chunk: &[u8]) {
        if self.start > 0 && self.start == self.buf.len() {
            self.buf.clear();
            self.start = 0;
        }
        self.buf.extend_from_slice(chunk);
    }

    /// The next whole frame, if one has arrived.
    pub fn next_frame(&mut self) -> Option<Result<&[u8], DecodeError>> {
        let rest = &self.buf[self.start..];
        let len = u32::from_be_bytes(rest.get(..4)?.try_into().ok()?) as usize;
        if len > MAX_FRAME {
            return Some(Err(DecodeError(format!("a watch frame of {len} bytes is over the limit"))));
        }
        if rest.len() < 4 + len {
            // Compact before the buffer grows for the rest of this frame.
            if self.start > 0 {
                self.buf.drain(..self.start);
                self.start = 0;
            }
            return None;
        }
        let at = self.start + 4;
        self.start = at + len;
        Some(Ok(&self.buf[at..at + len]))
    }

    /// Bytes of a frame not yet complete.
    pub fn pending(&self) -> usize {
        self.buf.len() - self.start
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn varints_round_trip_and_negative_int32_take_ten_bytes() {
        for v in [0u64, 1, 127, 128, 300, u32::MAX as u64, u64::MAX, -1i64 as u64] {
            let mut out = Vec::new();
            put_varint(&mut out, v);
            let mut pos = 0;
            assert_eq!(read_varint(&out, &mut pos).unwrap(), v);
            assert_eq!(pos, out.len());
        }
        let mut out = Vec::new();
        put_varint(&mut out, -1i32 as i64 as u64);
        assert_eq!(out.len(), 10);
        assert!(read_varint(&[0x80], &mut 0).is_err());
    }

    #[test]
    fn the_envelope_round_trips() {
        let sealed = seal("apps/v1", "DaemonSet", b"\x0a\x00");
        assert!(sealed.starts_with(b"k8s\0"));
        let u = open(&sealed).unwrap();
        assert_eq!((u.api_version, u.kind, u.raw), ("apps/v1", "DaemonSet", b"\x0a\x00".as_slice()));
        assert!(open(b"{\"kind\":\"Pod\"}").is_err());
    }

    #[test]
    fn frames_are_cut_whatever_the_chunks() {
        let mut stream = Vec::new();
        put_watch_frame(&mut stream, "ADDED", &seal("v1", "Pod", b"abc"));
        put_watch_frame(&mut stream, "BOOKMARK", &seal("v1", "Pod", b""));
        for chunk in [1, 3, 7, stream.len()] {
            let mut f = Frames::default();
            let mut got = Vec::new();
            for c in stream.chunks(chunk) {
                f.push(c);
                while let Some(frame) = f.next_frame() {
                    let e = watch_event(frame.unwrap()).unwrap();
                    got.push((e.kind.to_string(), open(e.object).unwrap().raw.to_vec()));
                }
            }
            assert_eq!(got, vec![("ADDED".into(), b"abc".to_vec()), ("BOOKMARK".into(), vec![])], "chunks of {chunk}");
            assert_eq!(f.pending(), 0);
        }
    }

    #[test]
    fn a_truncated_or_oversized_frame_is_an_error_not_a_panic() {
        assert!(Fields::new(&[0x0a, 0x05, 1]).next().unwrap().is_err());
        let mut f = Frames::default();
        f.push(&u32::MAX.to_be_bytes());
        assert!(f.next_frame().unwrap().is_err());
    }
}

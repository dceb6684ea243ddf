//! A dump's objects kept as the JSON the API served, not as `serde_json::Value` trees:
//! a tree costs several times the text it came from, and a 5,000-node dump's pods are
//! hundreds of megabytes of text. A list's items are sliced out of the file's text
//! without building a tree ([`json_objects`]); what the reader needs of each (apiVersion,
//! kind, namespace, name, its newest timestamp) is read in passes that allocate nothing
//! but those strings; `metadata.managedFields` (what the API server keeps for itself, and
//! a large part of a real dump) is cut out.
//!
//! May import: nothing of ours.

use std::fmt;

use serde::Deserialize;
use serde::de::{DeserializeSeed, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde_json::Value;
use serde_json::value::RawValue;

/// One object of a dump: who it is, and its JSON as the API served it (without
/// `managedFields`; a list's items may lack `kind` and `apiVersion`, which are here).
#[derive(Debug, Clone)]
pub struct Object {
    pub api_version: String,
    pub kind: String,
    pub namespace: String,
    pub name: String,
    pub json: Box<RawValue>,
}

impl Object {
    /// The object as a JSON tree, `kind` and `apiVersion` included (for small uses).
    pub fn value(&self) -> Value {
        let mut v: Value = serde_json::from_str(self.json.get()).unwrap_or(Value::Null);
        if let Some(o) = v.as_object_mut() {
            o.insert("apiVersion".into(), Value::String(self.api_version.clone()));
            o.insert("kind".into(), Value::String(self.kind.clone()));
        }
        v
    }
}

#[derive(Deserialize, Default)]
struct Meta {
    #[serde(default)]
    name: Option<String>,
    #[serde(default)]
    namespace: Option<String>,
}

/// What a document says of itself; everything else is skipped, not built.
#[derive(Deserialize)]
struct Head<'a> {
    #[serde(default, rename = "apiVersion")]
    api_version: Option<String>,
    #[serde(default)]
    kind: Option<String>,
    #[serde(default)]
    metadata: Option<Meta>,
    #[serde(default, borrow)]
    items: Option<Vec<&'a RawValue>>,
}

/// The objects of one JSON document (`raw`): a list's items (each given the list's kind
/// without `List`, or `from_path`'s), a JSON array's elements, or the object itself.
pub fn json_objects(raw: &RawValue, from_path: Option<(&str, &str)>, out: &mut Vec<Object>, time: &mut Option<jiff::Timestamp>) {
    let text = raw.get();
    if text.trim_start().starts_with('[') {
        if let Ok(items) = serde_json::from_str::<Vec<&RawValue>>(text) {
            for item in items {
                push(item, None, from_path, out, time);
            }
        }
        return;
    }
    let Ok(head) = serde_json::from_str::<Head>(text) else { return };
    let kind = head.kind.as_deref().unwrap_or("");
    match head.items {
        Some(items) if kind.ends_with("List") || kind.is_empty() => {
            let av = head.api_version.as_deref().unwrap_or("");
            let item_kind = match kind.strip_suffix("List") {
                Some(k) if !k.is_empty() => Some((av, k)),
                _ => from_path,
            };
            for item in items {
                push(item, None, item_kind, out, time);
            }
        }
        _ => push(raw, Some(head), from_path, out, time),
    }
}

/// Keeps an object that has (or is given) an apiVersion, a kind and a name.
fn push(raw: &RawValue, head: Option<Head>, given: Option<(&str, &str)>, out: &mut Vec<Object>, time: &mut Option<jiff::Timestamp>) {
    let head = match head {
        Some(h) => h,
        None => match serde_json::from_str::<Head>(raw.get()) {
            Ok(h) => h,
            Err(_) => return,
        },
    };
    let or_given = |own: Option<String>, i: usize| {
        own.filter(|s| !s.is_empty()).or_else(|| given.map(|g| if i == 0 { g.0 } else { g.1 }.to_string())).unwrap_or_default()
    };
    let api_version = or_given(head.api_version, 0);
    let kind = or_given(head.kind, 1);
    let meta = head.metadata.unwrap_or_default();
    let name = meta.name.unwrap_or_default();
    if name.is_empty() || kind.is_empty() {
        return;
    }
    newest(raw.get(), time);
    let json = without_managed_fields(raw).unwrap_or_else(|| raw.to_owned());
    out.push(Object { api_version, kind, namespace: meta.namespace.unwrap_or_default(), name, json });
}

/// An object from a tree (a YAML document's): the same checks and cuts as [`push`].
pub fn value_object(mut item: Value, given: Option<(&str, &str)>, out: &mut Vec<Object>, time: &mut Option<jiff::Timestamp>) {
    let Some(o) = item.as_object_mut() else { return };
    if let Some(m) = o.get_mut("metadata").and_then(Value::as_object_mut) {
        m.remove("managedFields");
    }
    let s = |o: &serde_json::Map<String, Value>, k: &str| o.get(k).and_then(Value::as_str).filter(|s| !s.is_empty()).map(str::to_string);
    let api_version = s(o, "apiVersion").or_else(|| given.map(|g| g.0.to_string())).unwrap_or_default();
    let kind = s(o, "kind").or_else(|| given.map(|g| g.1.to_string())).unwrap_or_default();
    let meta = o.get("metadata").and_then(Value::as_object);
    let name = meta.and_then(|m| s(m, "name")).unwrap_or_default();
    let namespace = meta.and_then(|m| s(m, "namespace")).unwrap_or_default();
    if name.is_empty() || kind.is_empty() {
        return;
    }
    let Ok(json) = serde_json::value::to_raw_value(&item) else { return };
    newest(json.get(), time);
    out.push(Object { api_version, kind, namespace, name, json });
}

/// The object without `metadata.managedFields`, when it has them (else `None`: keep it
/// as it is). Only the two maps on the way are taken apart; every other field stays text.
fn without_managed_fields(raw: &RawValue) -> Option<Box<RawValue>> {
    use std::collections::BTreeMap;
    if !raw.get().contains("\"managedFields\"") {
        return None;
    }
    let mut top: BTreeMap<String, &RawValue> = serde_json::from_str(raw.get()).ok()?;
    let mut meta: BTreeMap<String, &RawValue> = serde_json::from_str(top.get("metadata")?.get()).ok()?;
    meta.remove("managedFields")?;
    let meta = serde_json::value::to_raw_value(&meta).ok()?;
    top.insert("metadata".into(), &meta);
    serde_json::value::to_raw_value(&top).ok()
}

/// A timestamp as the API writes them (`2025-03-02T14:03:00Z`, with fractions for
/// MicroTime), checked cheaply before it is parsed.
pub fn timestamp(s: &str) -> Option<jiff::Timestamp> {
    let b = s.as_bytes();
    if b.len() < 20 || b.len() > 35 || b[4] != b'-' || b[10] != b'T' || !b[0].is_ascii_digit() {
        return None;
    }
    s.parse().ok()
}

/// Raises `best` to the newest timestamp in the JSON `text` (`managedFields` aside: they
/// say when a manager last wrote, not what happened), without building the tree.
pub fn newest(text: &str, best: &mut Option<jiff::Timestamp>) {
    let mut de = serde_json::Deserializer::from_str(text);
    let _ = Walk(best).deserialize(&mut de);
}

struct Walk<'b>(&'b mut Option<jiff::Timestamp>);

impl<'de> DeserializeSeed<'de> for Walk<'_> {
    type Value = ();
    fn deserialize<D: serde::Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for Walk<'_> {
    type Value = ();
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("JSON")
    }
    fn visit_str<E>(self, s: &str) -> Result<(), E> {
        if let Some(t) = timestamp(s)
            && self.0.is_none_or(|b| t > b)
        {
            *self.0 = Some(t);
        }
        Ok(())
    }
    fn visit_bool<E>(self, _: bool) -> Result<(), E> {
        Ok(())
    }
    fn visit_i64<E>(self, _: i64) -> Result<(), E> {
        Ok(())
    }
    fn visit_u64<E>(self, _: u64) -> Result<(), E> {
        Ok(())
    }
    fn visit_f64<E>(self, _: f64) -> Result<(), E> {
        Ok(())
    }
    fn visit_unit<E>(self) -> Result<(), E> {
        Ok(())
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut a: A) -> Result<(), A::Error> {
        let best = self.0;
        while a.next_element_seed(Walk(&mut *best))?.is_some() {}
        Ok(())
    }
    fn visit_map<A: MapAccess<'de>>(self, mut m: A) -> Result<(), A::Error> {
        let best = self.0;
        while let Some(managed) = m.next_key_seed(IsManagedFields)? {
            if managed {
                m.next_value::<IgnoredAny>()?;
            } else {
                m.next_value_seed(Walk(&mut *best))?;
            }
        }
        Ok(())
    }
}

/// Whether a map key is `managedFields`, read without allocating.
struct IsManagedFields;

impl<'de> DeserializeSeed<'de> for IsManagedFields {
    type Value = bool;
    fn deserialize<D: serde::Deserializer<'de>>(self, d: D) -> Result<bool, D::Error> {
        d.deserialize_str(self)
    }
}

impl<'de> Visitor<'de> for IsManagedFields {
    type Value = bool;
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a key")
    }
    fn visit_str<E>(self, s: &str) -> Result<bool, E> {
        Ok(s == "managedFields")
    }
}

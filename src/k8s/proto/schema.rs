//! Kubernetes' protobuf schemas as a table: every message of the upstream `generated.proto`
//! files in `assets/proto` (core/v1, apps/v1, events/v1 and apimachinery's meta/v1,
//! runtime, resource and intstr), read once at first use. The client's decoder
//! ([`de`](super::de)) and the simulator's encoder walk it, so field numbers and names come
//! from one place, and that place is upstream's.
//!
//! The files are proto2 as `go-to-protobuf` writes them: top-level messages only, fields
//! `optional`/`repeated` of `string`, `bool`, `int32`, `int64`, `bytes` or a message, and
//! `map<string, V>`. A field's proto name is its JSON name, except where the Go type embeds
//! a struct inline (`json:",inline"`): the JSON object then holds the embedded fields
//! directly ([`INLINE`]). A few apimachinery types have a JSON form of their own
//! ([`Special`]).

use std::collections::HashMap;
use std::sync::OnceLock;

/// The schema files, as `assets/proto/README.md` says where they come from.
const FILES: &[&str] = &[
    include_str!("../../../assets/proto/k8s.io/apimachinery/pkg/runtime/generated.proto"),
    include_str!("../../../assets/proto/k8s.io/apimachinery/pkg/runtime/schema/generated.proto"),
    include_str!("../../../assets/proto/k8s.io/apimachinery/pkg/api/resource/generated.proto"),
    include_str!("../../../assets/proto/k8s.io/apimachinery/pkg/util/intstr/generated.proto"),
    include_str!("../../../assets/proto/k8s.io/apimachinery/pkg/apis/meta/v1/generated.proto"),
    include_str!("../../../assets/proto/k8s.io/api/core/v1/generated.proto"),
    include_str!("../../../assets/proto/k8s.io/api/apps/v1/generated.proto"),
    include_str!("../../../assets/proto/k8s.io/api/events/v1/generated.proto"),
    // What else the simulator serves and reads (kubectl sends reviews, priority classes and
    // evictions in protobuf).
    include_str!("../../../assets/proto/k8s.io/api/authorization/v1/generated.proto"),
    include_str!("../../../assets/proto/k8s.io/api/coordination/v1/generated.proto"),
    include_str!("../../../assets/proto/k8s.io/api/policy/v1/generated.proto"),
    include_str!("../../../assets/proto/k8s.io/api/scheduling/v1/generated.proto"),
];

/// Fields embedded inline in their Go struct (`json:",inline" protobuf:"bytes,N,..."` in
/// k8s.io/api core/v1 types.go): in JSON the embedded message's fields sit in the parent.
pub const INLINE: &[(&str, &str)] = &[
    ("k8s.io.api.core.v1.Volume", "volumeSource"),
    ("k8s.io.api.core.v1.PersistentVolumeSpec", "persistentVolumeSource"),
    ("k8s.io.api.core.v1.SecretProjection", "localObjectReference"),
    ("k8s.io.api.core.v1.ConfigMapVolumeSource", "localObjectReference"),
    ("k8s.io.api.core.v1.ConfigMapProjection", "localObjectReference"),
    ("k8s.io.api.core.v1.ConfigMapKeySelector", "localObjectReference"),
    ("k8s.io.api.core.v1.SecretKeySelector", "localObjectReference"),
    ("k8s.io.api.core.v1.ConfigMapEnvSource", "localObjectReference"),
    ("k8s.io.api.core.v1.SecretEnvSource", "localObjectReference"),
    ("k8s.io.api.core.v1.Probe", "handler"),
    ("k8s.io.api.core.v1.EphemeralContainer", "ephemeralContainerCommon"),
];

/// Messages whose JSON is not an object of their fields (each type's `MarshalJSON` in
/// apimachinery).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Special {
    /// meta/v1 `Time`: `{seconds, nanos}`; JSON an RFC 3339 string to the second.
    Time,
    /// meta/v1 `MicroTime`: as `Time`, JSON to the microsecond.
    MicroTime,
    /// meta/v1 `Duration`: `{duration}` in nanoseconds; JSON Go's duration string.
    Duration,
    /// resource `Quantity`: `{string}`; JSON that string.
    Quantity,
    /// intstr `IntOrString`: `{type, intVal, strVal}`; JSON a number or a string.
    IntOrString,
    /// runtime `RawExtension` and meta/v1 `FieldsV1`: `{raw}`, the JSON itself.
    Raw,
}

const SPECIAL: &[(&str, Special)] = &[
    ("k8s.io.apimachinery.pkg.apis.meta.v1.Time", Special::Time),
    ("k8s.io.apimachinery.pkg.apis.meta.v1.MicroTime", Special::MicroTime),
    ("k8s.io.apimachinery.pkg.apis.meta.v1.Duration", Special::Duration),
    ("k8s.io.apimachinery.pkg.api.resource.Quantity", Special::Quantity),
    ("k8s.io.apimachinery.pkg.util.intstr.IntOrString", Special::IntOrString),
    ("k8s.io.apimachinery.pkg.runtime.RawExtension", Special::Raw),
    ("k8s.io.apimachinery.pkg.apis.meta.v1.FieldsV1", Special::Raw),
];

/// A message's index in the [`Schema`].
pub type MsgId = usize;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scalar {
    String,
    Bool,
    Int32,
    Int64,
    Bytes,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ty {
    Scalar(Scalar),
    Message(MsgId),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Label {
    Optional,
    Repeated,
    /// `map<K, V>`: repeated entries `{key = 1, value = 2}`; the field's `ty` is V's.
    Map(Scalar),
}

#[derive(Debug, Clone)]
pub struct Field {
    pub number: u32,
    /// The proto name, which is the JSON name.
    pub name: String,
    pub label: Label,
    pub ty: Ty,
    /// Embedded inline ([`INLINE`]).
    pub inline: bool,
}

#[derive(Debug, Clone)]
pub struct Message {
    /// Fully qualified, without the leading dot: `k8s.io.api.core.v1.Pod`.
    pub name: String,
    /// By number.
    pub fields: Vec<Field>,
    pub special: Option<Special>,
    /// Indexes into `fields`, by name (the encoder looks fields up by their JSON names).
    by_name: Vec<u16>,
    /// Indexes into `fields` by number (`u16::MAX`: none), the decoder's lookup.
    by_number: Vec<u16>,
}

impl Message {
    pub fn field(&self, number: u32) -> Option<&Field> {
        let i = *self.by_number.get(number as usize)?;
        self.fields.get(usize::from(i))
    }

    pub fn field_named(&self, name: &str) -> Option<&Field> {
        let i = self.by_name.binary_search_by(|&i| self.fields[usize::from(i)].name.as_str().cmp(name)).ok()?;
        Some(&self.fields[usize::from(self.by_name[i])])
    }
}

#[derive(Debug)]
pub struct Schema {
    messages: Vec<Message>,
    by_name: HashMap<String, MsgId>,
}

/// The schema, parsed at first use.
pub fn schema() -> &'static Schema {
    static SCHEMA: OnceLock<Schema> = OnceLock::new();
    SCHEMA.get_or_init(|| Schema::parse(FILES).expect("the embedded protobuf schemas parse"))
}

impl Schema {
    pub fn message(&self, id: MsgId) -> &Message {
        &self.messages[id]
    }

    /// A message by its fully qualified name.
    pub fn find(&self, name: &str) -> Option<MsgId> {
        self.by_name.get(name.trim_start_matches('.')).copied()
    }

    /// The message of an object of `kind` in `api_version` (`v1`, `apps/v1`,
    /// `events.k8s.io/v1`), or of meta/v1 (`Status`, `WatchEvent`, ...) when the group has
    /// none of that name.
    pub fn of_kind(&self, api_version: &str, kind: &str) -> Option<MsgId> {
        // A watch asks this for every object, of one kind: the last answer is kept.
        thread_local! {
            static LAST: std::cell::RefCell<(String, String, Option<MsgId>)> = const { std::cell::RefCell::new((String::new(), String::new(), None)) };
        }
        LAST.with_borrow_mut(|last| {
            if last.0 == api_version && last.1 == kind && !kind.is_empty() {
                return last.2;
            }
            let id = self.of_kind_uncached(api_version, kind);
            *last = (api_version.to_string(), kind.to_string(), id);
            id
        })
    }

    fn of_kind_uncached(&self, api_version: &str, kind: &str) -> Option<MsgId> {
        let (group, version) = api_version.rsplit_once('/').unwrap_or(("core", api_version));
        let group = group.strip_suffix(".k8s.io").unwrap_or(group);
        self.find(&format!("k8s.io.api.{group}.{version}.{kind}"))
            .or_else(|| self.find(&format!("k8s.io.apimachinery.pkg.apis.meta.v1.{kind}")))
    }

    /// Parses `generated.proto` texts of the shape the module says.
    pub fn parse(files: &[&str]) -> Result<Schema, String> {
        // Types as written, resolved once every file is read.
        let mut raw: Vec<(String, Vec<RawField>)> = Vec::new();
        let mut packages = Vec::new();
        for text in files {
            let mut package = String::new();
            let mut current: Option<usize> = None;
            for (n, line) in strip_block_comments(text).lines().enumerate() {
                let line = line.split("//").next().unwrap_or_default().trim();
                let bad = || format!("protobuf schema line {}: cannot read {line:?}", n + 1);
                if line.is_empty() || line.starts_with("syntax") || line.starts_with("import") || line.starts_with("option ") {
                    continue;
                }
                if let Some(p) = line.strip_prefix("package ") {
                    package = p.trim_end_matches(';').trim().to_string();
                } else if let Some(m) = line.strip_prefix("message ") {
                    let name = m.trim_end_matches('{').trim();
                    raw.push((format!("{package}.{name}"), Vec::new()));
                    packages.push(package.clone());
                    current = Some(raw.len() - 1);
                } else if line == "}" {
                    current = None;
                } else {
                    let Some(i) = current else { return Err(bad()) };
                    let (decl, number) = line.trim_end_matches(';').split_once('=').ok_or_else(bad)?;
                    let number: u32 = number.trim().parse().map_err(|_| bad())?;
                    let words: Vec<&str> = decl.split_whitespace().collect();
                    let (label, ty, name) = match words.as_slice() {
                        ["optional", ty, name] => (Label::Optional, ty.to_string(), name),
                        ["repeated", ty, name] => (Label::Repeated, ty.to_string(), name),
                        [key, value, name] if key.starts_with("map<") => {
                            let key = scalar(key.trim_start_matches("map<").trim_end_matches(',')).ok_or_else(bad)?;
                            (Label::Map(key), value.trim_end_matches('>').to_string(), name)
                        }
                        _ => return Err(bad()),
                    };
                    raw[i].1.push((number, name.to_string(), label, ty));
                }
            }
        }
        let by_name: HashMap<String, MsgId> = raw.iter().enumerate().map(|(i, (n, _))| (n.clone(), i)).collect();
        let mut messages = Vec::with_capacity(raw.len());
        for ((name, fields), package) in raw.into_iter().zip(packages) {
            let mut out = Vec::with_capacity(fields.len());
            for (number, field, label, ty) in fields {
                let ty = match scalar(&ty) {
                    Some(s) => Ty::Scalar(s),
                    None => {
                        let full = match ty.strip_prefix('.') {
                            Some(full) => full.to_string(),
                            None => format!("{package}.{ty}"),
                        };
                        Ty::Message(*by_name.get(&full).ok_or_else(|| format!("protobuf schema: {name}.{field} has unknown type {ty}"))?)
                    }
                };
                let inline = INLINE.contains(&(name.as_str(), field.as_str()));
                out.push(Field { number, name: field, label, ty, inline });
            }
            out.sort_by_key(|f| f.number);
            let special = SPECIAL.iter().find(|(n, _)| *n == name).map(|(_, s)| *s);
            let mut by_name: Vec<u16> = (0..out.len() as u16).collect();
            by_name.sort_by(|a, b| out[usize::from(*a)].name.cmp(&out[usize::from(*b)].name));
            let mut by_number = vec![u16::MAX; out.last().map_or(0, |f| f.number as usize + 1)];
            for (i, f) in out.iter().enumerate() {
                by_number[f.number as usize] = i as u16;
            }
            messages.push(Message { name, fields: out, special, by_name, by_number });
        }
        Ok(Schema { messages, by_name })
    }
}

/// A field as written: number, name, label, type name.
type RawField = (u32, String, Label, String);

fn scalar(word: &str) -> Option<Scalar> {
    Some(match word {
        "string" => Scalar::String,
        "bool" => Scalar::Bool,
        "int32" => Scalar::Int32,
        "int64" => Scalar::Int64,
        "bytes" => Scalar::Bytes,
        _ => return None,
    })
}

fn strip_block_comments(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(start) = rest.find("/*") {
        out.push_str(&rest[..start]);
        // Keep the line count: errors name lines.
        let end = rest[start..].find("*/").map_or(rest.len(), |e| start + e + 2);
        out.extend(rest[start..end].chars().filter(|c| *c == '\n'));
        rest = &rest[end..];
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_embedded_schemas_parse_and_resolve() {
        let s = schema();
        let pod = s.message(s.of_kind("v1", "Pod").unwrap());
        assert_eq!(pod.name, "k8s.io.api.core.v1.Pod");
        let meta = pod.field(1).unwrap();
        assert_eq!((meta.name.as_str(), meta.label), ("metadata", Label::Optional));
        let Ty::Message(m) = meta.ty else { panic!() };
        assert_eq!(s.message(m).name, "k8s.io.apimachinery.pkg.apis.meta.v1.ObjectMeta");
        let labels = s.message(m).field_named("labels").unwrap();
        assert_eq!((labels.number, labels.label, labels.ty), (11, Label::Map(Scalar::String), Ty::Scalar(Scalar::String)));
        let ds = s.message(s.of_kind("apps/v1", "DaemonSet").unwrap());
        assert_eq!(ds.name, "k8s.io.api.apps.v1.DaemonSet");
        assert_eq!(s.message(s.of_kind("v1", "Status").unwrap()).name, "k8s.io.apimachinery.pkg.apis.meta.v1.Status");
        assert_eq!(s.message(s.of_kind("events.k8s.io/v1", "Event").unwrap()).name, "k8s.io.api.events.v1.Event");
        let time = s.find("k8s.io.apimachinery.pkg.apis.meta.v1.Time").unwrap();
        assert_eq!(s.message(time).special, Some(Special::Time));
        let volume = s.message(s.find("k8s.io.api.core.v1.Volume").unwrap());
        assert!(volume.field_named("volumeSource").unwrap().inline);
        assert!(!volume.field_named("name").unwrap().inline);
        // Every inline field names a field that exists.
        for (m, f) in INLINE {
            assert!(s.message(s.find(m).unwrap()).field_named(f).is_some(), "{m}.{f}");
        }
    }

    #[test]
    fn a_schema_it_cannot_read_is_an_error_that_names_the_line() {
        let e = Schema::parse(&["package a;\nmessage M {\n  optional Nope x = 1;\n}\n"]).unwrap_err();
        assert!(e.contains("unknown type Nope"), "{e}");
        let e = Schema::parse(&["package a;\nmessage M {\n  required string x = 1;\n}\n"]).unwrap_err();
        assert!(e.contains("line 3"), "{e}");
    }
}

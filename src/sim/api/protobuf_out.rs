//! Objects encoded in protobuf as kube-apiserver encodes them (what the simulator serves to a
//! client that asks for `application/vnd.kubernetes.protobuf`): the object's JSON walked by
//! upstream's schema ([`crate::k8s::proto::schema`]), fields in number order as gogo's
//! generated `Marshal` writes them, map entries sorted by key, the apimachinery types with
//! a JSON form of their own turned back into their messages (`Time.ProtoTime`,
//! `Quantity`'s string, `IntOrString`'s three fields, a raw extension's JSON bytes), then the
//! `k8s\0` envelope. The simulator keeps objects as JSON; this is the other encoding of
//! the same object, never a second source of truth.

use base64::Engine as _;
use serde_json::Value;

use crate::k8s::proto::schema::{Label, Message, MsgId, Scalar, Special, Ty, schema};
use crate::k8s::proto::wire::{self, put_bytes_field, put_varint_field};

/// An object (with its `apiVersion` and `kind`), enveloped. None when the schema has no
/// message of that kind: the caller answers in JSON, as for a kind without protobuf.
pub fn object(obj: &Value) -> Option<Vec<u8>> {
    let (api_version, kind) = (obj.get("apiVersion")?.as_str()?, obj.get("kind")?.as_str()?);
    let id = schema().of_kind(api_version, kind)?;
    let mut raw = Vec::with_capacity(256);
    message(obj, schema().message(id), &mut raw).ok()?;
    Some(wire::seal(api_version, kind, &raw))
}

/// A typed object of `kind` in `api_version`, enveloped: written straight from its
/// `Serialize` ([`super::protobuf_ser`]), through its JSON only should that fail. None when
/// the schema has no message of that kind.
pub fn typed<T: serde::Serialize>(obj: &T, api_version: &str, kind: &str) -> Option<Vec<u8>> {
    let id = schema().of_kind(api_version, kind)?;
    match super::protobuf_ser::message(obj, id) {
        Ok(raw) => Some(wire::seal(api_version, kind, &raw)),
        Err(e) => {
            tracing::debug!(kind, error = %e, "protobuf straight from the object failed; through its JSON");
            let mut v = serde_json::to_value(obj).ok()?;
            if let Some(o) = v.as_object_mut() {
                o.insert("apiVersion".into(), api_version.into());
                o.insert("kind".into(), kind.into());
            }
            object(&v)
        }
    }
}

/// Whether objects of this kind have a protobuf encoding here.
pub fn serves(api_version: &str, kind: &str) -> bool {
    schema().of_kind(api_version, kind).is_some()
}

/// A list (`PodList`, `DaemonSetList`, `PartialObjectMetadataList`, ...) written in pieces, as
/// apimachinery's protobuf serializer streams a collection
/// (`runtime/serializer/protobuf/collections.go`: the envelope's head and `ListMeta`, then
/// each item as field 2, sizes known first): items are encoded in chunks, then
/// [`ListEncoder::finish`] puts the envelope around them. The pieces together are
/// `wire::seal` of the whole list's bytes.
pub struct ListEncoder {
    api_version: String,
    kind: String,
    meta: (u32, MsgId),
    items: (u32, MsgId),
}

impl ListEncoder {
    /// None when the schema has no such list.
    pub fn new(api_version: &str, list_kind: &str) -> Option<ListEncoder> {
        let list = schema().message(schema().of_kind(api_version, list_kind)?);
        let (meta, items) = (list.field_named("metadata")?, list.field_named("items")?);
        let (Ty::Message(meta_id), Ty::Message(item_id)) = (meta.ty, items.ty) else { return None };
        Some(ListEncoder {
            api_version: api_version.into(),
            kind: list_kind.into(),
            meta: (meta.number, meta_id),
            items: (items.number, item_id),
        })
    }

    /// One item (its JSON, with or without apiVersion and kind) as the list's field.
    pub fn item(&self, v: &Value, out: &mut Vec<u8>) -> Result<(), String> {
        let mut sub = Vec::with_capacity(1024);
        message(v, schema().message(self.items.1), &mut sub)?;
        put_bytes_field(out, self.items.0, &sub);
        Ok(())
    }

    /// One typed item as the list's field, written straight from its `Serialize` (through
    /// its JSON should that fail).
    pub fn item_typed<T: serde::Serialize>(&self, o: &T, out: &mut Vec<u8>) -> Result<(), String> {
        match super::protobuf_ser::message(o, self.items.1) {
            Ok(sub) => {
                put_bytes_field(out, self.items.0, &sub);
                Ok(())
            }
            Err(e) => {
                tracing::debug!(error = %e, "protobuf straight from the object failed; through its JSON");
                self.item(&serde_json::to_value(o).map_err(|e| e.to_string())?, out)
            }
        }
    }

    /// The whole list: the head (magic, type, the raw field's length, `ListMeta`), the
    /// chunks of items, the tail (empty content encoding and type).
    pub fn finish(&self, meta: &Value, chunks: Vec<Vec<u8>>) -> Result<Vec<bytes::Bytes>, String> {
        let mut m = Vec::new();
        message(meta, schema().message(self.meta.1), &mut m)?;
        let mut raw_head = Vec::with_capacity(m.len() + 8);
        put_bytes_field(&mut raw_head, self.meta.0, &m);
        let raw_len = raw_head.len() + chunks.iter().map(Vec::len).sum::<usize>();
        let mut type_meta = Vec::new();
        put_bytes_field(&mut type_meta, 1, self.api_version.as_bytes());
        put_bytes_field(&mut type_meta, 2, self.kind.as_bytes());
        let mut head = Vec::with_capacity(raw_head.len() + type_meta.len() + 32);
        head.extend_from_slice(wire::MAGIC);
        put_bytes_field(&mut head, 1, &type_meta);
        wire::put_varint(&mut head, (2 << 3) | 2);
        wire::put_varint(&mut head, raw_len as u64);
        head.extend_from_slice(&raw_head);
        let mut tail = Vec::with_capacity(4);
        put_bytes_field(&mut tail, 3, b"");
        put_bytes_field(&mut tail, 4, b"");
        let mut out = Vec::with_capacity(chunks.len() + 2);
        out.push(head.into());
        out.extend(chunks.into_iter().map(bytes::Bytes::from));
        out.push(tail.into());
        Ok(out)
    }
}

/// A message's bytes from its JSON object.
pub fn message(v: &Value, msg: &Message, out: &mut Vec<u8>) -> Result<(), String> {
    let Some(obj) = v.as_object() else {
        return if v.is_null() { Ok(()) } else { Err(format!("{}: expected an object", msg.name)) };
    };
    for field in &msg.fields {
        let Ty::Message(inner) = field.ty else {
            if let Some(val) = obj.get(&field.name).filter(|v| !v.is_null()) {
                occurrences(field.number, field.label, field.ty, val, out)?;
            }
            continue;
        };
        if field.inline {
            // The embedded struct's fields are the parent's in JSON; gogo writes the
            // embedded message always.
            let mut sub = Vec::new();
            message(v, schema().message(inner), &mut sub)?;
            put_bytes_field(out, field.number, &sub);
        } else if let Some(val) = obj.get(&field.name).filter(|v| !v.is_null()) {
            occurrences(field.number, field.label, field.ty, val, out)?;
        }
    }
    Ok(())
}

fn occurrences(number: u32, label: Label, ty: Ty, v: &Value, out: &mut Vec<u8>) -> Result<(), String> {
    match label {
        Label::Optional => value(number, ty, v, out),
        Label::Repeated => {
            for item in v.as_array().ok_or_else(|| format!("field {number}: expected a list"))? {
                value(number, ty, item, out)?;
            }
            Ok(())
        }
        Label::Map(key) => {
            let map = v.as_object().ok_or_else(|| format!("field {number}: expected a map"))?;
            let mut keys: Vec<&String> = map.keys().collect();
            keys.sort();
            for k in keys {
                let mut entry = Vec::new();
                match key {
                    Scalar::String => put_bytes_field(&mut entry, 1, k.as_bytes()),
                    _ => put_varint_field(&mut entry, 1, k.parse::<i64>().map_err(|_| format!("map key {k:?}"))? as u64),
                }
                value(2, ty, &map[k.as_str()], &mut entry)?;
                put_bytes_field(out, number, &entry);
            }
            Ok(())
        }
    }
}

fn value(number: u32, ty: Ty, v: &Value, out: &mut Vec<u8>) -> Result<(), String> {
    let bad = |what: &str| format!("field {number}: expected {what}, got {v}");
    match ty {
        Ty::Scalar(Scalar::String) => put_bytes_field(out, number, v.as_str().ok_or_else(|| bad("a string"))?.as_bytes()),
        Ty::Scalar(Scalar::Bytes) => {
            let s = v.as_str().ok_or_else(|| bad("base64"))?;
            let b = base64::engine::general_purpose::STANDARD.decode(s).map_err(|_| bad("base64"))?;
            put_bytes_field(out, number, &b)
        }
        Ty::Scalar(Scalar::Bool) => put_varint_field(out, number, u64::from(v.as_bool().ok_or_else(|| bad("a boolean"))?)),
        Ty::Scalar(Scalar::Int32) => put_varint_field(out, number, v.as_i64().ok_or_else(|| bad("an integer"))? as i32 as i64 as u64),
        Ty::Scalar(Scalar::Int64) => put_varint_field(out, number, v.as_i64().ok_or_else(|| bad("an integer"))? as u64),
        Ty::Message(id) => {
            let msg = schema().message(id);
            let mut sub = Vec::new();
            match msg.special {
                None => message(v, msg, &mut sub)?,
                Some(s) => special(s, v, &mut sub).map_err(|e| format!("field {number}: {e}"))?,
            }
            put_bytes_field(out, number, &sub)
        }
    }
    Ok(())
}

fn special(s: Special, v: &Value, out: &mut Vec<u8>) -> Result<(), String> {
    match s {
        Special::Time | Special::MicroTime => {
            let t: jiff::Timestamp = v.as_str().ok_or("expected a time")?.parse().map_err(|e| format!("a time: {e}"))?;
            put_varint_field(out, 1, t.as_second() as u64);
            put_varint_field(out, 2, i64::from(t.subsec_nanosecond()) as u64);
        }
        Special::Duration => put_varint_field(out, 1, go_duration_nanos(v.as_str().ok_or("expected a duration")?)? as u64),
        Special::Quantity => put_bytes_field(out, 1, v.as_str().ok_or("expected a quantity")?.as_bytes()),
        Special::IntOrString => match v {
            Value::String(s) => {
                put_varint_field(out, 1, 1);
                put_varint_field(out, 2, 0);
                put_bytes_field(out, 3, s.as_bytes());
            }
            _ => {
                put_varint_field(out, 1, 0);
                put_varint_field(out, 2, v.as_i64().ok_or("expected an int or a string")? as i32 as i64 as u64);
                put_bytes_field(out, 3, b"");
            }
        },
        Special::Raw => put_bytes_field(out, 1, &serde_json::to_vec(v).map_err(|e| e.to_string())?),
    }
    Ok(())
}

/// Go's `time.ParseDuration`: `1h2m3.5s`, `250ms`, `-5s`.
fn go_duration_nanos(s: &str) -> Result<i64, String> {
    let bad = || format!("a duration: {s:?}");
    let (neg, mut rest) = match s.strip_prefix('-') {
        Some(r) => (true, r),
        None => (false, s.strip_prefix('+').unwrap_or(s)),
    };
    if rest == "0" {
        return Ok(0);
    }
    let mut total = 0f64;
    while !rest.is_empty() {
        let n = rest.find(|c: char| !(c.is_ascii_digit() || c == '.')).ok_or_else(bad)?;
        let number: f64 = rest[..n].parse().map_err(|_| bad())?;
        rest = &rest[n..];
        let u = rest.find(|c: char| c.is_ascii_digit() || c == '.').unwrap_or(rest.len());
        let unit = match &rest[..u] {
            "ns" => 1.0,
            "us" | "µs" | "μs" => 1e3,
            "ms" => 1e6,
            "s" => 1e9,
            "m" => 60e9,
            "h" => 3600e9,
            _ => return Err(bad()),
        };
        total += number * unit;
        rest = &rest[u..];
    }
    Ok(if neg { -total.round() as i64 } else { total.round() as i64 })
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::k8s::proto;

    /// JSON → protobuf → (the client's serde reader) → JSON gives the JSON back.
    fn round_trip(v: Value) {
        let bytes = object(&v).expect("encodes");
        let mut back: Value = proto::object(&bytes).expect("decodes");
        let o = back.as_object_mut().unwrap();
        o.insert("apiVersion".into(), v["apiVersion"].clone());
        o.insert("kind".into(), v["kind"].clone());
        assert_eq!(back, v);
    }

    #[test]
    fn a_pod_round_trips_with_every_special_type() {
        round_trip(json!({
            "apiVersion": "v1", "kind": "Pod",
            "metadata": {"name": "agent-x7k2p", "namespace": "kube-system", "uid": "u1", "resourceVersion": "42",
                "creationTimestamp": "2026-12-07T10:00:00Z",
                "labels": {"b": "2", "a": "1"}, "annotations": {"k8s.io/x": ""},
                "ownerReferences": [{"apiVersion": "apps/v1", "kind": "DaemonSet", "name": "agent", "uid": "d1", "controller": true, "blockOwnerDeletion": true}],
                "managedFields": [{"manager": "kubectl", "operation": "Apply", "time": "2026-12-07T10:00:00Z", "fieldsType": "FieldsV1", "fieldsV1": {"f:spec": {}}}]},
            "spec": {"nodeName": "n1",
                "containers": [{"name": "c", "image": "agent:1", "resources": {"requests": {"cpu": "100m", "memory": "64Mi"}},
                    "ports": [{"containerPort": 9100, "hostPort": 9100, "protocol": "TCP"}],
                    "livenessProbe": {"httpGet": {"path": "/healthz", "port": "http"}, "periodSeconds": 10},
                    "env": [{"name": "X", "valueFrom": {"configMapKeyRef": {"name": "cm", "key": "k"}}}]}],
                "volumes": [{"name": "logs", "hostPath": {"path": "/var/log", "type": "Directory"}}],
                "tolerations": [{"operator": "Exists"}], "priority": -5, "overhead": {"cpu": "10m"}},
            "status": {"phase": "Running", "startTime": "2026-12-07T10:00:01Z",
                "conditions": [{"type": "Ready", "status": "True", "lastTransitionTime": "2026-12-07T10:00:05Z"}],
                "containerStatuses": [{"name": "c", "ready": true, "restartCount": 2, "image": "agent:1", "imageID": "",
                    "state": {"running": {"startedAt": "2026-12-07T10:00:02Z"}}}]}
        }));
    }

    #[test]
    fn a_revision_and_an_event_round_trip() {
        round_trip(json!({
            "apiVersion": "apps/v1", "kind": "ControllerRevision",
            "metadata": {"name": "agent-5d8f", "namespace": "kube-system"},
            "data": {"spec": {"template": {"spec": {"containers": [{"name": "c", "image": "agent:2"}]}}}},
            "revision": 3
        }));
        round_trip(json!({
            "apiVersion": "v1", "kind": "Event",
            "metadata": {"name": "e1", "namespace": "kube-system"},
            "involvedObject": {"kind": "Pod", "name": "agent-x7k2p", "namespace": "kube-system"},
            "reason": "FailedScheduling", "message": "0/3 nodes are available", "type": "Warning", "count": 4,
            "firstTimestamp": "2026-12-07T10:00:00Z", "eventTime": "2026-12-07T10:00:00.123456Z"
        }));
    }

    #[test]
    fn durations_parse_as_go_parses_them() {
        for (s, n) in
            [("0", 0), ("0s", 0), ("1.5s", 1_500_000_000), ("1h0m0s", 3_600_000_000_000), ("250ms", 250_000_000), ("-5s", -5_000_000_000)]
        {
            assert_eq!(go_duration_nanos(s).unwrap(), n, "{s}");
        }
        assert!(go_duration_nanos("5 parsecs").is_err());
    }

    #[test]
    fn a_list_in_pieces_is_the_sealed_list() {
        let pod = json!({"metadata": {"name": "p", "namespace": "ns"}, "spec": {"nodeName": "n1"}});
        let meta = json!({"resourceVersion": "7", "continue": "abc", "remainingItemCount": 3});
        let enc = ListEncoder::new("v1", "PodList").unwrap();
        let mut chunk = Vec::new();
        enc.item(&pod, &mut chunk).unwrap();
        enc.item(&pod, &mut chunk).unwrap();
        let pieces = enc.finish(&meta, vec![chunk, Vec::new()]).unwrap();
        let joined: Vec<u8> = pieces.iter().flat_map(|b| b.iter().copied()).collect();
        let whole = json!({"apiVersion": "v1", "kind": "PodList", "metadata": meta, "items": [pod.clone(), pod]});
        assert_eq!(joined, object(&whole).unwrap());
        let (lm, items) = proto::list::<Value>(&joined).unwrap();
        assert_eq!((lm.resource_version.as_deref(), lm.continue_.as_deref(), lm.remaining_item_count), (Some("7"), Some("abc"), Some(3)));
        assert_eq!(items.len(), 2);
        assert!(ListEncoder::new("meta.k8s.io/v1", "PartialObjectMetadataList").is_some());
        assert!(ListEncoder::new("example.com/v1", "WidgetList").is_none());
    }

    #[test]
    fn a_kind_without_a_schema_is_left_to_json() {
        assert!(object(&json!({"apiVersion": "example.com/v1", "kind": "Widget"})).is_none());
        assert!(serves("apps/v1", "DaemonSet") && serves("v1", "Node") && !serves("example.com/v1", "Widget"));
    }
}

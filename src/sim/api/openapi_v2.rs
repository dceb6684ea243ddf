//! `/openapi/v2` as kubectl asks for it: the gnostic `openapi.v2.Document` protobuf
//! (`application/com.github.proto-openapi.spec.v2@v1.0+protobuf`, the only form
//! client-go's `OpenAPISchema()` reads), holding the definitions of every kind served —
//! the same generated schemas as `/openapi/v3`, with their `$ref`s pointed at
//! `#/definitions/`. kubectl 1.27 fetches it before every `create`/`apply`.
//!
//! May import: `sim::api::openapi`.

use std::sync::OnceLock;

use serde_json::{Map, Value};

/// What the real server (kube-openapi) labels the protobuf answer with: the requested
/// `...spec.v2@v1.0+protobuf` is no valid media type for client-go's parser.
pub const CONTENT_TYPE: &str = "application/octet-stream";

/// The encoded document (built once).
pub fn document() -> &'static [u8] {
    static DOC: OnceLock<Vec<u8>> = OnceLock::new();
    DOC.get_or_init(|| {
        let mut defs = Map::new();
        for doc in super::openapi::v3_documents() {
            if let Some(Value::Object(s)) = doc.pointer("/components/schemas") {
                for (k, v) in s {
                    defs.entry(k.clone()).or_insert_with(|| v.clone());
                }
            }
        }
        let mut out = Vec::new();
        string(&mut out, 1, "2.0");
        let mut info = Vec::new();
        string(&mut info, 1, "Kubernetes");
        string(&mut info, 2, crate::sim::api::discovery::GIT_VERSION);
        message(&mut out, 2, &info);
        let mut d = Vec::new();
        for (name, schema) in &defs {
            message(&mut d, 1, &named(name, &encode_schema(schema)));
        }
        message(&mut out, 9, &d);
        out
    })
}

fn varint(out: &mut Vec<u8>, mut v: u64) {
    while v >= 0x80 {
        out.push((v as u8) | 0x80);
        v >>= 7;
    }
    out.push(v as u8);
}

fn bytes(out: &mut Vec<u8>, field: u32, b: &[u8]) {
    varint(out, ((field as u64) << 3) | 2);
    varint(out, b.len() as u64);
    out.extend_from_slice(b);
}

fn string(out: &mut Vec<u8>, field: u32, s: &str) {
    bytes(out, field, s.as_bytes())
}

fn message(out: &mut Vec<u8>, field: u32, m: &[u8]) {
    bytes(out, field, m)
}

/// A `NamedSchema` / `NamedAny`: name = 1, value = 2.
fn named(name: &str, value: &[u8]) -> Vec<u8> {
    let mut m = Vec::new();
    string(&mut m, 1, name);
    message(&mut m, 2, value);
    m
}

fn v2_ref(r: &str) -> String {
    r.replace("#/components/schemas/", "#/definitions/")
}

/// A JSON schema as gnostic's `Schema` message.
fn encode_schema(s: &Value) -> Vec<u8> {
    let mut out = Vec::new();
    let Value::Object(m) = s else { return out };
    // v3's `allOf: [{$ref}]` beside a description is a plain `$ref` in v2.
    let single_ref =
        m.get("allOf").and_then(Value::as_array).filter(|a| a.len() == 1).and_then(|a| a[0].get("$ref")).and_then(Value::as_str);
    if let Some(r) = m.get("$ref").and_then(Value::as_str).or(single_ref) {
        string(&mut out, 1, &v2_ref(r));
    }
    if let Some(f) = m.get("format").and_then(Value::as_str) {
        string(&mut out, 2, f);
    }
    if let Some(d) = m.get("description").and_then(Value::as_str) {
        string(&mut out, 4, d);
    }
    for r in m.get("required").and_then(Value::as_array).into_iter().flatten().filter_map(Value::as_str) {
        string(&mut out, 19, r);
    }
    if let Some(ap @ Value::Object(_)) = m.get("additionalProperties") {
        let mut item = Vec::new();
        message(&mut item, 1, &encode_schema(ap));
        message(&mut out, 21, &item);
    }
    if let Some(t) = m.get("type").and_then(Value::as_str) {
        let mut item = Vec::new();
        string(&mut item, 1, t);
        message(&mut out, 22, &item);
    }
    if let Some(items) = m.get("items") {
        let mut item = Vec::new();
        message(&mut item, 1, &encode_schema(items));
        message(&mut out, 23, &item);
    }
    if single_ref.is_none() {
        for a in m.get("allOf").and_then(Value::as_array).into_iter().flatten() {
            message(&mut out, 24, &encode_schema(a));
        }
    }
    if let Some(Value::Object(props)) = m.get("properties") {
        let mut p = Vec::new();
        for (k, v) in props {
            message(&mut p, 1, &named(k, &encode_schema(v)));
        }
        message(&mut out, 25, &p);
    }
    for (k, v) in m.iter().filter(|(k, _)| k.starts_with("x-")) {
        // `Any { yaml = 2 }`: JSON is YAML.
        let mut any = Vec::new();
        string(&mut any, 2, &v.to_string());
        message(&mut out, 31, &named(k, &any));
    }
    out
}

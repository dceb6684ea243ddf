//! The real server's limits on what a request may carry, and how it reads a body: at most
//! 3 MiB (413), JSON or YAML by Content-Type (else 415), nesting bounded (400), and
//! `fieldValidation` (Strict: unknown fields are 400; Warn, the default: a `Warning`
//! header per unknown field; Ignore).
//!
//! May import: `sim::errors`, `sim::api::protobuf` (the PriorityClass kubectl posts as protobuf).

use std::collections::HashMap;

use axum::body::Body;
use axum::http::{HeaderMap, header};
use bytes::Bytes;
use http_body_util::BodyExt as _;
use serde_json::Value;

use crate::sim::errors::ApiError;

/// The apiserver's `MaxRequestBodyBytes`.
pub const MAX_BODY_BYTES: usize = 3 * 1024 * 1024;
/// Nesting the real decoder accepts (Go's `encoding/json` stops at 10,000; serde_json
/// at 128, which no Kubernetes object comes near). Deeper YAML is refused the same way.
const MAX_DEPTH: usize = 128;
/// A watch's `timeoutSeconds` at most (a year): a larger one is taken as this.
pub const MAX_WATCH_TIMEOUT_SECS: u64 = 365 * 24 * 3600;

pub async fn read_body(body: Body) -> Result<Bytes, ApiError> {
    match http_body_util::Limited::new(body, MAX_BODY_BYTES).collect().await {
        Ok(c) => Ok(c.to_bytes()),
        Err(e) if e.downcast_ref::<http_body_util::LengthLimitError>().is_some() => {
            Err(ApiError::entity_too_large(format!("limit is {MAX_BODY_BYTES}")))
        }
        Err(e) => Err(ApiError::bad_request(format!("reading the request body: {e}"))),
    }
}

/// The media types a create or update body may have.
const BODY_TYPES: &str = "application/json, application/yaml, application/vnd.kubernetes.protobuf";

/// The body of a create or update as JSON, by its Content-Type (none means JSON).
pub fn body_json(headers: &HeaderMap, body: &[u8], kind: &str) -> Result<Value, ApiError> {
    let ct = headers.get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or("");
    let media = ct.split(';').next().unwrap_or("").trim().to_ascii_lowercase();
    let v: Value = match media.as_str() {
        "" | "application/json" => {
            serde_json::from_slice(body).map_err(|e| ApiError::bad_request(format!("error decoding request body into {kind}: {e}")))?
        }
        "application/yaml" => yaml_value(body).map_err(|e| ApiError::bad_request(format!("error decoding YAML into {kind}: {e}")))?,
        "application/vnd.kubernetes.protobuf" => super::protobuf::object_json(body)
            .map_err(|e| ApiError::bad_request(format!("error decoding protobuf request body into {kind}: {e}")))?,
        _ => return Err(unsupported(BODY_TYPES)),
    };
    if depth(&v) > MAX_DEPTH {
        return Err(ApiError::bad_request(format!("error decoding request body into {kind}: exceeded max depth")));
    }
    Ok(v)
}

pub fn unsupported(accepted: &str) -> ApiError {
    ApiError::unsupported_media(format!("the body of the request was in an unknown format - accepted media types include: {accepted}"))
}

fn yaml_value(body: &[u8]) -> Result<Value, String> {
    let text = std::str::from_utf8(body).map_err(|e| e.to_string())?;
    serde_saphyr::from_str::<Value>(text).map_err(|e| e.to_string())
}

/// How deeply `v` nests (a scalar is 0).
pub fn depth(v: &Value) -> usize {
    // Iterative: a hostile document cannot overflow the stack here.
    let mut max = 0;
    let mut stack = vec![(v, 0usize)];
    while let Some((v, d)) = stack.pop() {
        max = max.max(d);
        match v {
            Value::Array(a) => stack.extend(a.iter().map(|x| (x, d + 1))),
            Value::Object(m) => stack.extend(m.values().map(|x| (x, d + 1))),
            _ => {}
        }
    }
    max
}

/// `fieldValidation`: what to do about fields the type does not have.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FieldValidation {
    Ignore,
    Warn,
    Strict,
}

impl FieldValidation {
    /// From the query; `options` names the request's options kind for the 422 an unknown
    /// value gets (`CreateOptions`, `UpdateOptions`, `PatchOptions`).
    pub fn from_query(q: &HashMap<String, String>, options: &str) -> Result<Self, ApiError> {
        match q.get("fieldValidation").map(String::as_str) {
            None | Some("") | Some("Warn") => Ok(FieldValidation::Warn),
            Some("Strict") => Ok(FieldValidation::Strict),
            Some("Ignore") => Ok(FieldValidation::Ignore),
            Some(other) => Err(ApiError::invalid_options(
                options,
                "fieldValidation",
                format!("Unsupported value: {other:?}: supported values: \"\", \"Ignore\", \"Strict\", \"Warn\""),
            )),
        }
    }

    /// Under Strict, unknown fields are a 400; otherwise the warnings to send (none under Ignore).
    pub fn check(self, unknown: Vec<String>) -> Result<Vec<String>, ApiError> {
        let msgs: Vec<String> = unknown.iter().map(|f| format!("unknown field \"{f}\"")).collect();
        match self {
            FieldValidation::Ignore => Ok(Vec::new()),
            FieldValidation::Warn => Ok(msgs),
            FieldValidation::Strict if msgs.is_empty() => Ok(Vec::new()),
            FieldValidation::Strict => Err(ApiError::bad_request(format!("strict decoding error: {}", msgs.join(", ")))),
        }
    }
}

/// The fields of `input` that decoding into the type dropped: those missing from `typed`
/// (the decoded object serialised again), as `spec.template.spec.containers[0].imagee`.
pub fn unknown_fields(input: &Value, typed: &Value) -> Vec<String> {
    let mut out = Vec::new();
    let mut stack = vec![(input, typed, String::new())];
    while let Some((i, t, path)) = stack.pop() {
        match (i, t) {
            (Value::Object(im), Value::Object(tm)) => {
                for (k, iv) in im {
                    let p = if path.is_empty() { k.clone() } else { format!("{path}.{k}") };
                    match tm.get(k) {
                        Some(tv) => stack.push((iv, tv, p)),
                        // null and empty values decode to "unset" and are not written back.
                        None if iv.is_null()
                            || iv.as_object().is_some_and(|m| m.is_empty())
                            || iv.as_array().is_some_and(|a| a.is_empty()) => {}
                        None => out.push(p),
                    }
                }
            }
            (Value::Array(ia), Value::Array(ta)) => {
                for (n, (iv, tv)) in ia.iter().zip(ta).enumerate() {
                    stack.push((iv, tv, format!("{path}[{n}]")));
                }
            }
            _ => {}
        }
    }
    out.sort();
    out
}

/// A `Warning` header value (RFC 7234 style, as the real server sends).
pub fn warning_header(msg: &str) -> String {
    format!("299 - {}", serde_json::to_string(msg).unwrap_or_default())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn unknown_fields_are_named_by_path() {
        let input = json!({"metadata": {"name": "a", "labels": {}, "bogus": 1}, "spec": {"containers": [{"name": "c", "imagee": "x"}], "nodeName": null}});
        let typed = json!({"metadata": {"name": "a"}, "spec": {"containers": [{"name": "c"}]}});
        assert_eq!(unknown_fields(&input, &typed), ["metadata.bogus", "spec.containers[0].imagee"]);
    }

    #[test]
    fn depth_is_counted_without_recursion() {
        let mut v = json!(1);
        for _ in 0..5_000 {
            v = json!([v]);
        }
        assert_eq!(depth(&v), 5_000);
        // Dropping a deep Value recurses in serde_json; take it apart iteratively instead.
        let mut cur = v;
        while let Value::Array(mut a) = cur {
            cur = a.pop().unwrap_or(Value::Null);
        }
    }
}

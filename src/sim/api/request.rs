//! One request as the handlers see it: the context (state, target, query, headers,
//! body), how the client wants objects rendered, its label and field selectors, and the
//! response helpers that handlers, watch and logs share.
//!
//! May import: `sim::api::negotiate`, `sim::api::protobuf_out`, `sim::api::state`, `sim::api::table`, `sim::store`, `sim::errors`,
//! `sim::kind`, `k8s::selector`.

use std::collections::HashMap;
use std::sync::Arc;

use axum::body::Body;
use axum::http::{HeaderMap, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use bytes::Bytes;
use serde::Serialize;
use serde_json::{Value, json};

use super::negotiate::{self, Encoding, Output};
pub use super::negotiate::{Format, IncludeObject};
use super::state::ApiState;
use super::table::{self, Tabular};
use crate::k8s::selector::{FieldSelector, LabelSelector};
use crate::sim::errors::ApiError;
use crate::sim::kind::Kind;
use crate::sim::store::{SimObject, Snap};
use crate::sim::typed::field_value;

/// What a path addresses.
#[derive(Debug, Clone)]
pub struct Target {
    pub kind: Kind,
    pub namespace: Option<String>,
    pub name: Option<String>,
    pub sub: Option<String>,
}

pub struct Ctx {
    pub st: Arc<ApiState>,
    pub target: Target,
    pub q: HashMap<String, String>,
    pub headers: HeaderMap,
    pub body: Bytes,
    pub method: Method,
}

/// How the client wants this kind's objects, by its `Accept` header ([`super::negotiate`]):
/// protobuf is offered for the kinds upstream's schema covers.
pub fn output_of(headers: &HeaderMap, q: &HashMap<String, String>, kind: Kind) -> Result<Output, ApiError> {
    let accept = headers.get(header::ACCEPT).and_then(|v| v.to_str().ok()).unwrap_or("");
    negotiate::output(accept, q, super::protobuf_out::serves(&kind.api_version(), kind.info().kind))
}

pub struct Filter {
    pub labels: LabelSelector,
    pub fields: FieldSelector,
}

impl Filter {
    pub fn from_query<T: SimObject>(q: &HashMap<String, String>) -> Result<Filter, ApiError> {
        let labels =
            LabelSelector::parse(q.get("labelSelector").map(String::as_str).unwrap_or("")).map_err(|e| ApiError::bad_request(e.0))?;
        let fields =
            FieldSelector::parse(q.get("fieldSelector").map(String::as_str).unwrap_or("")).map_err(|e| ApiError::bad_request(e.0))?;
        for r in &fields.requirements {
            let ok = r.field == "metadata.name"
                || (r.field == "metadata.namespace" && T::SIM_KIND.info().namespaced)
                || T::SIM_KIND.selectable_fields().contains(&r.field.as_str());
            if !ok {
                return Err(ApiError::bad_request(format!("field label not supported: {}", r.field)));
            }
        }
        Ok(Filter { labels, fields })
    }

    /// The same test on a stored snapshot (watch events).
    pub fn matches_snap(&self, s: &Snap) -> bool {
        (self.labels.is_empty() || self.labels.matches(&s.labels))
            && (self.fields.requirements.is_empty() || self.fields.matches(|f| s.field(f)))
    }

    pub fn matches<T: SimObject>(&self, o: &T) -> bool {
        (self.labels.is_empty() || self.labels.matches(o.metadata().labels.as_ref().unwrap_or(&Default::default())))
            && (self.fields.requirements.is_empty() || self.fields.matches(|f| field_value(o, f)))
    }
}

pub fn table_row<T: Tabular>(o: &T, now: jiff::Timestamp, inc: IncludeObject) -> Value {
    let mut row = json!({"cells": o.cells(now)});
    match inc {
        IncludeObject::None => {}
        IncludeObject::Metadata => row["object"] = table::partial_metadata(o),
        IncludeObject::Object => row["object"] = serde_json::to_value(o).unwrap_or(Value::Null),
    }
    row
}

/// An object (with its apiVersion and kind) in the negotiated encoding; JSON when it has
/// no protobuf form.
pub fn object_response(code: StatusCode, v: &impl Serialize, enc: Encoding) -> Response {
    if enc == Encoding::Protobuf
        && let Some(b) = serde_json::to_value(v).ok().and_then(|v| super::protobuf_out::object(&v))
    {
        return (code, [(header::CONTENT_TYPE, enc.media_type())], b).into_response();
    }
    json_response(code, v)
}

pub fn json_response(code: StatusCode, v: &impl Serialize) -> Response {
    (code, [(header::CONTENT_TYPE, "application/json")], serde_json::to_vec(v).unwrap_or_default()).into_response()
}

pub fn body_from_stream<S>(s: S) -> Body
where
    S: futures::Stream<Item = Result<bytes::Bytes, std::convert::Infallible>> + Send + 'static,
{
    Body::from_stream(s)
}

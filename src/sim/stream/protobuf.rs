//! The generator in protobuf: a client that prefers `application/vnd.kubernetes.protobuf`
//! (negotiated as the simulator does, [`crate::sim::api::negotiate`]) gets its pages, watch
//! frames and errors in protobuf. They are transcoded from the JSON the templates write
//! (parsed, then encoded by upstream's schema as the simulator encodes its objects): the
//! same objects, correct, but the generator spends more per object than on JSON, so a
//! protobuf client's time against it includes more server time than against JSON.
//!
//! May import: `sim::api::{negotiate, protobuf_out}`, `k8s::proto`.

use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use bytes::Bytes;
use serde_json::Value;

use crate::k8s::proto::wire;
use crate::sim::api::negotiate::{self, Encoding};
use crate::sim::api::protobuf_out;

fn accept(headers: &HeaderMap) -> &str {
    headers.get(header::ACCEPT).and_then(|v| v.to_str().ok()).unwrap_or("")
}

/// The encoding of a list or watch; nothing acceptable is the apiserver's 406.
pub fn negotiate(headers: &HeaderMap) -> Result<Encoding, Box<Response>> {
    negotiate::output(accept(headers), &Default::default(), true).map(|o| o.encoding).map_err(|e| {
        Box::new((StatusCode::NOT_ACCEPTABLE, [(header::CONTENT_TYPE, negotiate::JSON)], e.status_json().to_string()).into_response())
    })
}

/// A `Status` answer in the encoding errors negotiate to.
pub fn status(headers: &HeaderMap, code: StatusCode, body: &Value) -> Response {
    if negotiate::error_encoding(accept(headers)) == Encoding::Protobuf
        && let Some(b) = protobuf_out::object(body)
    {
        return (code, [(header::CONTENT_TYPE, wire::MEDIA_TYPE)], b).into_response();
    }
    (code, [(header::CONTENT_TYPE, negotiate::JSON)], body.to_string()).into_response()
}

/// A page (a whole `…List` in JSON) in protobuf.
pub fn list(json: &[u8]) -> Vec<u8> {
    serde_json::from_slice::<Value>(json).ok().and_then(|v| protobuf_out::object(&v)).unwrap_or_default()
}

/// JSON watch lines (`{"type":…,"object":…}`, whole lines) as protobuf frames; an object
/// without its apiVersion and kind gets the watched kind's.
pub fn frames(json: &[u8], api_version: &str, kind: &str) -> Bytes {
    let mut out = Vec::with_capacity(json.len() / 2);
    for line in json.split(|b| *b == b'\n').filter(|l| !l.is_empty()) {
        let Ok(mut ev) = serde_json::from_slice::<Value>(line) else { continue };
        let typ = ev["type"].as_str().unwrap_or("").to_string();
        let obj = &mut ev["object"];
        if let Some(o) = obj.as_object_mut() {
            o.entry("apiVersion").or_insert_with(|| api_version.into());
            o.entry("kind").or_insert_with(|| kind.into());
        }
        if let Some(b) = protobuf_out::object(obj) {
            wire::put_watch_frame(&mut out, &typ, &b);
        }
    }
    Bytes::from(out)
}

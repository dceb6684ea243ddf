//! A watch asked for in protobuf (`--wire auto|protobuf`): the request kube's `Api::watch`
//! makes, with the Accept header of the wire, and its answer read in whichever encoding the
//! server chose — length-prefixed protobuf frames (`application/vnd.kubernetes.protobuf;
//! stream=watch`), or JSON lines when it answered JSON (an aggregated API, a proxy, a
//! server without protobuf for the kind). Either way the loop gets kube's `WatchEvent`s,
//! and a stream ends as kube's does: at the end of the body, or when the connection is cut
//! mid-chunk (the loop resumes), never with an error for either.
//!
//! May import: `k8s`. Never `sim` or `ui`.

use std::collections::VecDeque;

use bytes::Bytes;
use futures::stream::BoxStream;
use futures::{Stream, StreamExt};
use http::HeaderValue;
use http_body_util::BodyExt;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use kube::api::{WatchEvent, WatchParams};
use kube::core::watch::{Bookmark, BookmarkMeta};
use kube::core::{Status, TypeMeta};
use serde::de::DeserializeOwned;

use super::paged::api_error;
use crate::k8s::proto::{self, Wire, wire};

/// Opens a watch of the collection at `url` from `version`, asking for `wire`'s encoding.
pub(super) async fn open<K>(
    client: &kube::Client,
    url: &str,
    wp: &WatchParams,
    version: &str,
    wire: Wire,
) -> kube::Result<BoxStream<'static, kube::Result<WatchEvent<K>>>>
where
    K: DeserializeOwned + Clone + Send + 'static,
{
    let mut req = kube::core::Request::new(url).watch(wp, version).map_err(kube::Error::BuildRequest)?;
    req.extensions_mut().insert("watch");
    let h = req.headers_mut();
    h.insert(http::header::ACCEPT, HeaderValue::from_static(wire.accept()));
    // As kube does for watches: no compression of a stream read event by event.
    h.insert(http::header::ACCEPT_ENCODING, HeaderValue::from_static("identity"));
    let res = client.send(req.map(kube::client::Body::from)).await?;
    let code = res.status();
    let protobuf = proto::is_protobuf(res.headers().get(http::header::CONTENT_TYPE).and_then(|v| v.to_str().ok()));
    if code.is_client_error() || code.is_server_error() {
        let body = res.into_body().collect_bytes().await?;
        return Err(api_error(code, &body, protobuf));
    }
    let chunks = res.into_body().into_data_stream();
    Ok(if protobuf { events(chunks, Framing::Protobuf(wire::Frames::default())) } else { events(chunks, Framing::Lines(Vec::new())) })
}

enum Framing {
    Protobuf(wire::Frames),
    /// Bytes of a line not yet ended.
    Lines(Vec<u8>),
}

impl Framing {
    /// Adds a chunk; what it completes goes to `out`.
    fn push<K: DeserializeOwned>(&mut self, chunk: &[u8], out: &mut VecDeque<kube::Result<WatchEvent<K>>>) {
        match self {
            Framing::Protobuf(frames) => {
                frames.push(chunk);
                while let Some(frame) = frames.next_frame() {
                    out.push_back(frame.map_err(|e| serde_error(&e)).and_then(protobuf_event));
                }
            }
            Framing::Lines(pending) => {
                let mut rest = chunk;
                while let Some(i) = rest.iter().position(|b| *b == b'\n') {
                    pending.extend_from_slice(&rest[..i]);
                    rest = &rest[i + 1..];
                    if !pending.iter().all(u8::is_ascii_whitespace) {
                        out.push_back(json_event(pending));
                    }
                    pending.clear();
                }
                pending.extend_from_slice(rest);
            }
        }
    }
}

fn events<K, S>(chunks: S, framing: Framing) -> BoxStream<'static, kube::Result<WatchEvent<K>>>
where
    K: DeserializeOwned + Send + 'static,
    S: Stream<Item = Result<Bytes, kube::Error>> + Send + Unpin + 'static,
{
    let state = (chunks, framing, VecDeque::new(), false);
    futures::stream::unfold(state, |(mut chunks, mut framing, mut ready, mut ended)| async move {
        loop {
            if let Some(e) = ready.pop_front() {
                return Some((e, (chunks, framing, ready, ended)));
            }
            if ended {
                return None;
            }
            match chunks.next().await {
                Some(Ok(c)) => framing.push(&c, &mut ready),
                // As kube's own watch: a connection cut mid-chunk ends the stream (the loop
                // resumes from the last version); anything else is an error.
                Some(Err(e)) if cut_short(&e) => {
                    tracing::warn!(error = %e, "watch stream cut; ending it");
                    ended = true;
                }
                Some(Err(e)) => {
                    ended = true;
                    ready.push_back(Err(kube::Error::ReadEvents(std::io::Error::other(e))));
                }
                None => ended = true,
            }
        }
    })
    .boxed()
}

/// kube's test for a resumable end of a watch: an unexpected EOF anywhere in the chain.
fn cut_short(e: &kube::Error) -> bool {
    let mut source: Option<&(dyn std::error::Error + 'static)> = Some(e);
    while let Some(s) = source {
        if s.downcast_ref::<std::io::Error>().is_some_and(|io| io.kind() == std::io::ErrorKind::UnexpectedEof) {
            return true;
        }
        source = s.source();
    }
    e.to_string().contains("unexpected EOF during chunk")
}

fn serde_error(e: &dyn std::fmt::Display) -> kube::Error {
    kube::Error::SerdeError(<serde_json::Error as serde::de::Error>::custom(format!("protobuf: {e}")))
}

/// An object's metadata, the rest skipped (a bookmark is its kind with metadata only).
#[derive(serde::Deserialize)]
struct MetaOnly {
    #[serde(default)]
    metadata: ObjectMeta,
}

/// One protobuf frame as kube's event.
fn protobuf_event<K: DeserializeOwned>(frame: &[u8]) -> kube::Result<WatchEvent<K>> {
    let e = wire::watch_event(frame).map_err(|e| serde_error(&e))?;
    let object = |o: &[u8]| proto::object::<K>(o).map_err(|e| serde_error(&e));
    Ok(match e.kind {
        "ADDED" => WatchEvent::Added(object(e.object)?),
        "MODIFIED" => WatchEvent::Modified(object(e.object)?),
        "DELETED" => WatchEvent::Deleted(object(e.object)?),
        "BOOKMARK" => {
            let (api_version, kind) = proto::kind_of(e.object).map_err(|e| serde_error(&e))?;
            let types = TypeMeta { api_version: api_version.to_string(), kind: kind.to_string() };
            let m = proto::object::<MetaOnly>(e.object).map_err(|e| serde_error(&e))?.metadata;
            WatchEvent::Bookmark(Bookmark {
                types,
                metadata: BookmarkMeta {
                    resource_version: m.resource_version.unwrap_or_default(),
                    annotations: m.annotations.unwrap_or_default(),
                },
            })
        }
        "ERROR" => WatchEvent::Error(proto::object::<Status>(e.object).map_err(|e| serde_error(&e))?.boxed()),
        other => return Err(serde_error(&format!("a watch event of type {other:?}"))),
    })
}

/// One JSON line as kube reads it: an event, else the server's Status as an error.
fn json_event<K: DeserializeOwned>(line: &[u8]) -> kube::Result<WatchEvent<K>> {
    serde_json::from_slice::<WatchEvent<K>>(line).map_err(|e| match serde_json::from_slice::<Status>(line) {
        Ok(status) => kube::Error::Api(status.boxed()),
        Err(_) => kube::Error::SerdeError(e),
    })
}

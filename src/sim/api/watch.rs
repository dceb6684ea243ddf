//! Watch streams: initial events, resume from a resourceVersion, bookmarks, 410 Gone,
//! streaming lists (`sendInitialEvents=true`), selector transitions, timeouts.
//!
//! May import: `sim::api::negotiate`, `sim::api::protobuf_out`, `sim::api::request`,
//! `sim::api::table`, `sim::errors`, `sim::objects`, `sim::store`, `k8s::proto`.

use std::sync::Arc;
use std::time::Duration;

use axum::http::header;
use axum::response::{IntoResponse, Response};
use bytes::Bytes;
use serde_json::{Value, json};

use super::negotiate::Encoding;
use super::protobuf_out;
use super::request::{Ctx, Filter, Format, body_from_stream, output_of, table_row};
use super::table::{self, Tabular};
use crate::k8s::proto::wire;
use crate::sim::errors::ApiError;
use crate::sim::objects::Strategy;
use crate::sim::store::{EventType, Since, Snap, Store, WatchEvent};

struct Watcher<T> {
    store: Arc<Store>,
    ns: Option<String>,
    filter: Filter,
    format: Format,
    encoding: Encoding,
    sent_columns: bool,
    _t: std::marker::PhantomData<T>,
}

/// One event: a JSON line, or a length-prefixed protobuf `WatchEvent` whose object is
/// enveloped (`LengthDelimitedFramer` around the raw serializer: apimachinery
/// `runtime/serializer/protobuf/protobuf.go`; the event built in apiserver's
/// `handlers/watch.go`).
fn frame(enc: Encoding, typ: &str, object: &[u8]) -> Bytes {
    if enc == Encoding::Protobuf {
        let mut b = Vec::with_capacity(object.len() + 32);
        wire::put_watch_frame(&mut b, typ, object);
        return Bytes::from(b);
    }
    let mut b = Vec::with_capacity(object.len() + 32);
    b.extend_from_slice(b"{\"type\":\"");
    b.extend_from_slice(typ.as_bytes());
    b.extend_from_slice(b"\",\"object\":");
    b.extend_from_slice(object);
    b.extend_from_slice(b"}\n");
    Bytes::from(b)
}

/// How long a list or watch from a resourceVersion newer than the store's waits for the
/// store to catch up (the watch cache's `blockTimeout`) before it fails.
pub const FRESH_WAIT: Duration = Duration::from_secs(3);

/// Waits until the store has reached `rv` (at most [`FRESH_WAIT`]); a server restored
/// onto an older state never does: `ResourceVersionTooLarge`.
pub async fn wait_until_fresh(store: &Store, rv: u64) -> Result<(), ApiError> {
    let mut rx = store.subscribe();
    let deadline = tokio::time::Instant::now() + FRESH_WAIT;
    while store.current_rv() < rv {
        match tokio::time::timeout_at(deadline, rx.changed()).await {
            Ok(Ok(())) => {}
            _ => return Err(ApiError::too_large_resource_version(rv, store.current_rv())),
        }
    }
    Ok(())
}

/// A list's `resourceVersion` (not 0, not with a continue token), when the store has not
/// reached it yet: wait, or fail as the watch cache does.
pub async fn list_fresh(ctx: &Ctx) -> Result<(), ApiError> {
    let cont = ctx.q.get("continue").is_some_and(|c| !c.is_empty());
    match ctx.q.get("resourceVersion").and_then(|v| v.parse::<u64>().ok()) {
        Some(rv) if rv > 0 && !cont => wait_until_fresh(&ctx.st.store, rv).await,
        _ => Ok(()),
    }
}

/// An ERROR event: the `Status` (apiVersion v1, whatever the watched kind's group).
pub fn error_frame(enc: Encoding, e: &ApiError) -> Bytes {
    frame(enc, "ERROR", &encode(enc, &e.status_json()))
}

/// An object (with apiVersion and kind) as a watch event holds it.
fn encode(enc: Encoding, v: &Value) -> Vec<u8> {
    match enc {
        Encoding::Protobuf => protobuf_out::object(v).unwrap_or_default(),
        Encoding::Json => serde_json::to_vec(v).unwrap_or_default(),
    }
}

impl<T: Strategy + Tabular> Watcher<T> {
    fn render(&mut self, obj: &T) -> Vec<u8> {
        match self.format {
            Format::Json if self.encoding == Encoding::Protobuf => {
                protobuf_out::typed(obj, &T::SIM_KIND.api_version(), T::SIM_KIND.info().kind).unwrap_or_default()
            }
            Format::Json => serde_json::to_vec(obj).unwrap_or_default(),
            Format::Partial => encode(self.encoding, &table::partial_metadata(obj)),
            Format::Table(inc) => {
                let rv = obj.metadata().resource_version.clone().unwrap_or_default();
                let mut t = json!({"kind": "Table", "apiVersion": "meta.k8s.io/v1", "metadata": {"resourceVersion": rv},
                    "rows": [table_row(obj, jiff::Timestamp::now(), inc)]});
                t["columnDefinitions"] = if self.sent_columns { Value::Null } else { table::column_json(&T::columns()) };
                self.sent_columns = true;
                serde_json::to_vec(&t).unwrap_or_default()
            }
        }
    }

    fn in_scope(&self, snap: &Snap) -> bool {
        let ns_ok = self.ns.as_deref().is_none_or(|ns| ns == snap.namespace);
        ns_ok && self.filter.matches_snap(snap)
    }

    /// Converts a stored event into what this watcher sees (`convertToWatchEvent`).
    fn convert(&mut self, ev: &WatchEvent) -> Option<Bytes> {
        if ev.kind != T::SIM_KIND {
            return None;
        }
        let cur = self.in_scope(&ev.new);
        let old = ev.old.as_ref().is_some_and(|o| self.in_scope(o)) && ev.typ != EventType::Added;
        let (typ, snap, rewrite_rv) = match (ev.typ, cur, old) {
            (EventType::Deleted, true, _) => ("DELETED", &ev.new, false),
            (EventType::Deleted, false, _) => return None,
            (_, true, false) => ("ADDED", &ev.new, false),
            (_, true, true) => ("MODIFIED", &ev.new, false),
            (_, false, true) => ("DELETED", ev.old.as_ref().expect("old"), true),
            (_, false, false) => return None,
        };
        let body = match (rewrite_rv, self.format, self.encoding) {
            (false, Format::Json, Encoding::Json) => snap.json.to_vec(),
            (false, Format::Json, Encoding::Protobuf) => encode(self.encoding, &serde_json::from_slice(&snap.json).ok()?),
            _ => {
                let mut o: T = snap.decode()?;
                if rewrite_rv {
                    o.metadata_mut().resource_version = Some(ev.rv.to_string());
                }
                self.render(&o)
            }
        };
        Some(frame(self.encoding, typ, &body))
    }

    fn bookmark(&self, rv: u64, initial_end: bool) -> Bytes {
        let mut meta = json!({"resourceVersion": rv.to_string()});
        if initial_end {
            meta["annotations"] = json!({crate::k8s::watchlist::INITIAL_EVENTS_END: "true"});
        }
        let obj = match self.format {
            Format::Table(_) | Format::Partial => {
                json!({"kind": "PartialObjectMetadata", "apiVersion": "meta.k8s.io/v1", "metadata": meta})
            }
            Format::Json => {
                json!({"kind": T::SIM_KIND.info().kind, "apiVersion": T::SIM_KIND.api_version(), "metadata": meta})
            }
        };
        frame(self.encoding, "BOOKMARK", &encode(self.encoding, &obj))
    }
}

/// Initial events are sent in writes of about this many bytes.
const INITIAL_BATCH: usize = 64 * 1024;

/// Where a watch starts.
enum Start {
    /// Every object now as ADDED (for a watch-list, then the bookmark that ends them), the
    /// store having reached `not_older_than` first.
    State { not_older_than: Option<u64> },
    /// What happens from now on.
    Now,
    /// What happened after this version.
    After(u64),
}

pub fn serve<T: Strategy + Tabular>(ctx: &Ctx) -> Result<Response, ApiError> {
    let neg = output_of(&ctx.headers, &ctx.q, T::SIM_KIND)?;
    super::list_options::validate(&ctx.q, true, ctx.st.settings.watch_list)?;
    let filter = Filter::from_query::<T>(&ctx.q)?;
    let store = ctx.st.store.clone();
    let q = &ctx.q;
    let rv_param = q.get("resourceVersion").cloned().unwrap_or_default();
    let send_initial = match q.get("sendInitialEvents").map(String::as_str) {
        Some("true") => Some(true),
        Some("false") => Some(false),
        _ => None,
    };
    let bookmarks = q.get("allowWatchBookmarks").is_some_and(|v| v == "true");
    // A huge timeoutSeconds is clamped: it must not overflow the deadline (and panic the task).
    let timeout = q
        .get("timeoutSeconds")
        .and_then(|t| t.parse::<u64>().ok())
        .map(|s| Duration::from_secs(s.min(super::limits::MAX_WATCH_TIMEOUT_SECS)))
        .unwrap_or(ctx.st.settings.watch_timeout);
    let bookmark_every = ctx.st.settings.bookmark_interval;
    let rv_num = || rv_param.parse::<u64>().map_err(|_| ApiError::bad_request(format!("invalid resource version: {rv_param}")));
    // Where the stream starts (the cacher's `Watch`): without sendInitialEvents, "" and "0"
    // send the current state first, a version resumes after it; with it, the state first
    // (at least as new as the version), or, false, only what follows.
    let start = match (send_initial, rv_param.as_str()) {
        (None, "" | "0") | (Some(true), "" | "0") => Start::State { not_older_than: None },
        (Some(true), _) => Start::State { not_older_than: Some(rv_num()?) },
        (Some(false), "" | "0") => Start::Now,
        (_, _) => Start::After(rv_num()?),
    };
    let mut w = Watcher::<T> {
        store: store.clone(),
        ns: ctx.target.namespace.clone(),
        filter,
        format: neg.format,
        encoding: neg.encoding,
        sent_columns: false,
        _t: Default::default(),
    };
    let mut rx = store.subscribe();
    let mut drops = ctx.st.faults.drops();
    drops.mark_unchanged();
    let (tx, out) = tokio::sync::mpsc::channel::<Result<Bytes, std::convert::Infallible>>(64);

    tokio::spawn(async move {
        let deadline = tokio::time::Instant::now() + timeout;
        // Where to resume from, and the initial events.
        let mut last = match start {
            Start::Now => w.store.current_rv(),
            Start::After(rv) => {
                // A version from the future (the server was restored onto an older
                // state): the cacher's error watcher, an ERROR event in a 200 stream.
                if let Err(e) = wait_until_fresh(&w.store, rv).await {
                    let _ = tx.send(Ok(error_frame(w.encoding, &e))).await;
                    return;
                }
                rv
            }
            Start::State { not_older_than } => {
                if let Some(rv) = not_older_than
                    && let Err(e) = wait_until_fresh(&w.store, rv).await
                {
                    let _ = tx.send(Ok(error_frame(w.encoding, &e))).await;
                    return;
                }
                let (items, rv) = w.store.list::<T>(w.ns.as_deref());
                // Written in batches of about 64 KB, as kube-apiserver's serveWatch flushes
                // only when no event is waiting, not one chunk per object.
                let mut batch: Vec<u8> = Vec::with_capacity(INITIAL_BATCH + 4096);
                for o in &items {
                    if !w.filter.matches(&**o) {
                        continue;
                    }
                    let body = w.render(o);
                    batch.extend_from_slice(&frame(w.encoding, "ADDED", &body));
                    if batch.len() >= INITIAL_BATCH
                        && tx.send(Ok(Bytes::from(std::mem::replace(&mut batch, Vec::with_capacity(INITIAL_BATCH + 4096))))).await.is_err()
                    {
                        return;
                    }
                }
                if !batch.is_empty() && tx.send(Ok(Bytes::from(batch))).await.is_err() {
                    return;
                }
                // The bookmark that ends a watch-list's initial events (`k8s.io/initial-events-end`).
                if send_initial == Some(true) && bookmarks && tx.send(Ok(w.bookmark(rv, true))).await.is_err() {
                    return;
                }
                rv
            }
        };
        let mut next_bookmark = tokio::time::Instant::now() + bookmark_every;
        loop {
            match w.store.events_since(last) {
                Since::Expired { oldest } => {
                    let e = ApiError::gone(format!("too old resource version: {last} ({})", oldest.saturating_sub(1)));
                    let _ = tx.send(Ok(error_frame(w.encoding, &e))).await;
                    return;
                }
                Since::Events(evs) => {
                    for ev in &evs {
                        last = ev.rv;
                        if let Some(f) = w.convert(ev)
                            && tx.send(Ok(f)).await.is_err()
                        {
                            return;
                        }
                    }
                }
            }
            tokio::select! {
                _ = tokio::time::sleep_until(deadline) => return,
                _ = tokio::time::sleep_until(next_bookmark) => {
                    next_bookmark = tokio::time::Instant::now() + bookmark_every;
                    if bookmarks {
                        // Every event up to `last` was delivered (or filtered out).
                        if tx.send(Ok(w.bookmark(last, false))).await.is_err() {
                            return;
                        }
                    }
                }
                r = rx.changed() => if r.is_err() { return },
                _ = tx.closed() => return,
                // Fault injection: the stream ends as when the server closes it.
                _ = drops.changed() => return,
            }
        }
    });
    let stream = tokio_stream::wrappers::ReceiverStream::new(out);
    Ok(([(header::CONTENT_TYPE, neg.encoding.watch_media_type()), (header::CACHE_CONTROL, "no-cache, private")], body_from_stream(stream))
        .into_response())
}

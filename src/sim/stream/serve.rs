//! The generator over HTTP: the five lists the client makes, paged as kube-apiserver
//! pages them (`limit`, an opaque `continue` token — here the position in the list —
//! and `remainingItemCount` for lists without a selector), and their watches (bookmarks;
//! a rollout's events once one starts; resumable from any resourceVersion they sent).
//!
//! May import: `sim::stream::{data, layout, protobuf, template}`, `sim::api::negotiate`, `sim::kubelet`, `sim::tls` (the
//! listener).

use std::collections::HashMap;
use std::convert::Infallible;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use axum::body::Body;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use bytes::Bytes;
use tokio::sync::mpsc;

use super::data::Inner;
use super::layout;
use super::protobuf;
use super::template::Template;
use super::template::Values;
use crate::sim::api::negotiate::Encoding;
use crate::sim::kubelet::internal_ip;
use crate::sim::tls::no_delay;

/// Bookmarks on a quiet watch this often (the client reopens a watch silent for twice
/// its bookmark interval, a minute by default).
const BOOKMARK_EVERY: Duration = Duration::from_secs(20);
/// A rollout's pod events are sent in batches this often.
const TICK: Duration = Duration::from_millis(10);

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Res {
    DaemonSets,
    Nodes,
    Pods,
    Revisions,
    Services,
}

impl Res {
    fn of(path: &str) -> Option<Res> {
        Some(match path {
            "/apis/apps/v1/daemonsets" => Res::DaemonSets,
            "/api/v1/nodes" => Res::Nodes,
            "/api/v1/pods" => Res::Pods,
            "/apis/apps/v1/controllerrevisions" => Res::Revisions,
            "/api/v1/services" => Res::Services,
            _ => return None,
        })
    }

    fn kind(self) -> (&'static str, &'static str) {
        match self {
            Res::DaemonSets => ("DaemonSet", "apps/v1"),
            Res::Nodes => ("Node", "v1"),
            Res::Pods => ("Pod", "v1"),
            Res::Revisions => ("ControllerRevision", "apps/v1"),
            Res::Services => ("Service", "v1"),
        }
    }
}

/// The resourceVersions of a rollout: its DaemonSets', its revisions', then its pod events'.
fn ds_event_rv(g: &Inner, d: usize) -> u64 {
    g.list_rv + 1 + d as u64
}
fn revision_event_rv(g: &Inner, d: usize) -> u64 {
    g.list_rv + 1 + (g.ds.len() + d) as u64
}
fn pod_event_rv(g: &Inner, k: u64) -> u64 {
    g.list_rv + 1 + 2 * g.ds.len() as u64 + k
}

/// A generator listening on a port; dropping it stops the server.
pub struct Serving {
    pub url: String,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for Serving {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// Serves the cluster over plain HTTP at `addr`.
pub(super) async fn serve(g: Arc<Inner>, addr: &str) -> std::io::Result<Serving> {
    let listener = tokio::net::TcpListener::bind(addr).await?;
    let url = format!("http://{}", listener.local_addr()?);
    let router = axum::Router::new().fallback(handle).with_state(g);
    let task = tokio::spawn(async move {
        let _ = axum::serve(no_delay(listener), router).await;
    });
    Ok(Serving { url, task })
}

fn status(headers: &HeaderMap, code: StatusCode, reason: &str, message: &str) -> Response {
    let body = serde_json::json!({"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
        "message": message, "reason": reason, "code": code.as_u16()});
    protobuf::status(headers, code, &body)
}

async fn handle(State(g): State<Arc<Inner>>, headers: HeaderMap, uri: Uri) -> Response {
    let q: HashMap<&str, &str> = uri.query().unwrap_or("").split('&').filter_map(|kv| kv.split_once('=')).collect();
    let Some(res) = Res::of(uri.path()) else {
        return status(&headers, StatusCode::NOT_FOUND, "NotFound", "the server could not find the requested resource");
    };
    // JSON, or protobuf for a client that prefers it (transcoded: see `protobuf`).
    let enc = match protobuf::negotiate(&headers) {
        Ok(e) => e,
        Err(r) => return *r,
    };
    if q.get("watch").is_some_and(|w| *w == "true" || *w == "1") {
        // No watch-list here: refused as a server with the WatchList gate off refuses it
        // (see `sim::api::list_options`), so clients list in pages.
        if q.contains_key("sendInitialEvents") {
            let body = serde_json::json!({"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
                "message": "ListOptions.meta.k8s.io \"\" is invalid: sendInitialEvents: Forbidden: sendInitialEvents is forbidden for watch unless the WatchList feature gate is enabled",
                "reason": "Invalid", "details": {"group": "meta.k8s.io", "kind": "ListOptions", "causes": [{"reason": "FieldValueForbidden",
                "message": "Forbidden: sendInitialEvents is forbidden for watch unless the WatchList feature gate is enabled", "field": "sendInitialEvents"}]},
                "code": 422});
            return protobuf::status(&headers, StatusCode::UNPROCESSABLE_ENTITY, &body);
        }
        let from = q.get("resourceVersion").and_then(|v| v.parse::<u64>().ok()).unwrap_or(g.list_rv);
        let timeout = q.get("timeoutSeconds").and_then(|v| v.parse::<u64>().ok()).unwrap_or(1800);
        let (tx, rx) = mpsc::channel::<Result<Bytes, Infallible>>(4);
        tokio::spawn(watch(g, res, from, Duration::from_secs(timeout), tx));
        let frames = tokio_stream::wrappers::ReceiverStream::new(rx);
        if enc == Encoding::Protobuf {
            use futures::StreamExt as _;
            let (kind, api_version) = res.kind();
            let frames = frames.map(move |chunk| chunk.map(|c| protobuf::frames(&c, api_version, kind)));
            return ([(header::CONTENT_TYPE, enc.watch_media_type())], Body::from_stream(frames)).into_response();
        }
        return ([(header::CONTENT_TYPE, "application/json")], Body::from_stream(frames)).into_response();
    }
    let filtered = q.contains_key("labelSelector") || q.contains_key("fieldSelector");
    let limit = q.get("limit").and_then(|l| l.parse::<usize>().ok()).filter(|l| *l > 0).unwrap_or(usize::MAX);
    let start = match q.get("continue").filter(|c| !c.is_empty()) {
        None => 0,
        Some(c) => match c.parse::<usize>() {
            Ok(p) => p,
            Err(_) => return status(&headers, StatusCode::BAD_REQUEST, "BadRequest", "continue key is not valid: illegal base64 data"),
        },
    };
    let body = tokio::task::spawn_blocking(move || {
        let json = page(&g, res, start, limit, filtered);
        if enc == Encoding::Protobuf { protobuf::list(&json) } else { json }
    })
    .await
    .unwrap_or_default();
    ([(header::CONTENT_TYPE, enc.media_type())], body).into_response()
}

/// Items `start..start + limit` of the list, with the list's envelope.
fn page(g: &Inner, res: Res, start: usize, limit: usize, filtered: bool) -> Vec<u8> {
    let total = match res {
        Res::DaemonSets => g.ds.len(),
        Res::Nodes => g.layout.nodes,
        Res::Pods => g.pod_starts.last().copied().unwrap_or(0),
        Res::Revisions => g.ds.iter().map(|d| d.revisions.len()).sum(),
        Res::Services => g.services.len(),
    };
    let end = start.saturating_add(limit).min(total);
    let start = start.min(end);
    let (kind, api_version) = res.kind();
    let mut meta = format!("{{\"resourceVersion\":\"{}\"", g.list_rv);
    if end < total {
        meta.push_str(&format!(",\"continue\":\"{end}\""));
        if !filtered {
            meta.push_str(&format!(",\"remainingItemCount\":{}", total - end));
        }
    }
    meta.push('}');
    let mut out = Vec::with_capacity((end - start) * 3000 + 256);
    out.extend_from_slice(format!("{{\"kind\":\"{kind}List\",\"apiVersion\":\"{api_version}\",\"metadata\":{meta},\"items\":[").as_bytes());
    let rv = g.list_rv.to_string();
    for pos in start..end {
        if pos > start {
            out.push(b',');
        }
        match res {
            Res::Nodes => write_node(g, pos, &rv, &mut out),
            Res::Pods => write_pod(g, pos, &rv, &mut out),
            Res::DaemonSets => out.extend_from_slice(g.ds[pos].item.as_bytes()),
            Res::Revisions => {
                let r = g.ds.iter().flat_map(|d| &d.revisions).nth(pos).expect("in range");
                out.extend_from_slice(r.as_bytes());
            }
            Res::Services => out.extend_from_slice(g.services[pos].as_bytes()),
        }
    }
    out.extend_from_slice(b"]}");
    out
}

fn write_node(g: &Inner, i: usize, rv: &str, out: &mut Vec<u8>) {
    let (p, j) = g.layout.node_at(i);
    let name = g.layout.node_name(p, j);
    let (uid, ip) = (layout::node_uid(i), internal_ip(&name));
    g.nodes[p][j % 3].write(out, &Values { node_name: &name, uid: &uid, node_ip: &ip, rv, ..Default::default() });
}

/// The DaemonSet and node of the `pos`th pod of the list.
fn pod_at(g: &Inner, pos: usize) -> (usize, usize, usize) {
    let d = g.pod_starts.partition_point(|s| *s <= pos) - 1;
    let (p, j) = g.layout.kth_node(&g.ds[d].pods, pos - g.pod_starts[d]).expect("in range");
    (d, p, j)
}

fn write_pod(g: &Inner, pos: usize, rv: &str, out: &mut Vec<u8>) {
    let (d, p, j) = pod_at(g, pos);
    let t = g.ds[d].pods[p].as_ref().expect("runs there");
    write_pod_copy(g, t, d, p, j, rv, out);
}

fn write_pod_copy(g: &Inner, t: &Template, d: usize, p: usize, j: usize, rv: &str, out: &mut Vec<u8>) {
    let i = g.layout.index(p, j);
    let node = g.layout.node_name(p, j);
    let uid = layout::pod_uid(d, i);
    let name = layout::pod_name(&g.ds[d].name, d, i);
    let (node_ip, pod_ip) = (internal_ip(&node), crate::sim::kubelet::pod_ip_of(&uid));
    let container_id = crate::sim::kubelet::container_id_of(&uid, &g.ds[d].container);
    t.write(
        out,
        &Values { node_name: &node, pod_name: &name, uid: &uid, node_ip: &node_ip, pod_ip: &pod_ip, container_id: &container_id, rv },
    );
}

/// Rollout event `k`: the rolling pod it moves (its position among the rolling pods) and
/// whether it is ready. The first `lag` events take pods off; then each pod put back
/// ready alternates with the next taken off.
fn rollout_event(k: u64, lag: u64) -> (u64, bool) {
    if k < lag {
        return (k, false);
    }
    let j = k - lag;
    if j.is_multiple_of(2) { (lag + j / 2, false) } else { (j / 2, true) }
}

fn frame(out: &mut Vec<u8>, typ: &str, write: impl FnOnce(&mut Vec<u8>)) {
    out.extend_from_slice(b"{\"type\":\"");
    out.extend_from_slice(typ.as_bytes());
    out.extend_from_slice(b"\",\"object\":");
    write(out);
    out.extend_from_slice(b"}\n");
}

async fn watch(g: Arc<Inner>, res: Res, from: u64, timeout: Duration, tx: mpsc::Sender<Result<Bytes, Infallible>>) {
    let until = tokio::time::Instant::now() + timeout;
    let mut rollout = g.rollout.subscribe();
    // What this watch has sent up to (a resourceVersion).
    let mut at = from;
    let (kind, api_version) = res.kind();
    let mut next_bookmark = tokio::time::Instant::now() + BOOKMARK_EVERY;
    let mut tick = tokio::time::interval(TICK);
    loop {
        let started = *rollout.borrow_and_update();
        let mut out = Vec::new();
        if let Some(r) = started {
            let rolling: Vec<usize> = (0..g.ds.len()).filter(|d| g.ds[*d].rollout.is_some()).collect();
            match res {
                Res::DaemonSets | Res::Revisions => {
                    for &d in &rolling {
                        let rg = g.ds[d].rollout.as_ref().expect("rolling");
                        let (rv, t, typ) = match res {
                            Res::DaemonSets => (ds_event_rv(&g, d), &rg.ds, "MODIFIED"),
                            _ => (revision_event_rv(&g, d), &rg.revision, "ADDED"),
                        };
                        if rv > at {
                            frame(&mut out, typ, |o| t.write(o, &Values { rv: &rv.to_string(), ..Default::default() }));
                            at = rv;
                        }
                    }
                }
                Res::Pods => {
                    let first = pod_event_rv(&g, 0);
                    let next = if at >= first { at - first + 1 } else { 0 };
                    let due = ((r.started.elapsed().as_secs_f64() * r.rate as f64) as u64).min(r.events);
                    let lag = g.ready_lag(r.rate);
                    for k in next..due {
                        let (pos, ready) = rollout_event(k, lag);
                        let (d, p, j) = g.rolling_pod_at(&rolling, pos as usize);
                        let rg = g.ds[d].rollout.as_ref().expect("rolling");
                        let t = if ready { &rg.ready[p] } else { &rg.not_ready[p] };
                        let rv = pod_event_rv(&g, k).to_string();
                        frame(&mut out, "MODIFIED", |o| write_pod_copy(&g, t.as_ref().expect("runs there"), d, p, j, &rv, o));
                    }
                    if due > next {
                        g.sent.fetch_add(due - next, Ordering::Relaxed);
                        at = pod_event_rv(&g, due - 1);
                    }
                }
                Res::Nodes | Res::Services => {}
            }
        }
        let now = tokio::time::Instant::now();
        if out.is_empty() && now >= next_bookmark {
            let obj = format!("{{\"kind\":\"{kind}\",\"apiVersion\":\"{api_version}\",\"metadata\":{{\"resourceVersion\":\"{at}\"}}}}");
            frame(&mut out, "BOOKMARK", |o| o.extend_from_slice(obj.as_bytes()));
        }
        if !out.is_empty() {
            next_bookmark = now + BOOKMARK_EVERY;
            if tx.send(Ok(Bytes::from(out))).await.is_err() {
                return;
            }
        }
        if now >= until {
            return;
        }
        // A rollout under way: the next batch; else wait for one, the next bookmark, or the end.
        let busy = started.is_some_and(|r| res == Res::Pods && at < pod_event_rv(&g, r.events.max(1) - 1));
        if busy {
            tick.tick().await;
        } else {
            tokio::select! {
                _ = rollout.changed() => {}
                _ = tokio::time::sleep_until(next_bookmark.min(until)) => {}
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_pod_goes_off_then_ready_once() {
        let (lag, pods) = (5u64, 40u64);
        let total = 2 * pods - lag;
        let mut state = vec![0u8; pods as usize];
        for k in 0..total {
            let (p, ready) = rollout_event(k, lag);
            let s = &mut state[p as usize];
            assert_eq!(*s, u8::from(ready), "event {k}: pod {p} in order");
            *s += 1;
        }
        // Only the last `lag` pods are still off when the events run out.
        assert_eq!(state.iter().filter(|s| **s == 2).count() as u64, pods - lag);
    }
}

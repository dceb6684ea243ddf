//! The HTTP side of `serve`: `/metrics` (Prometheus text, or OpenMetrics when the
//! scraper's `Accept` asks for it), `/healthz` (the process answers), `/readyz` (every
//! watch is live, else 503 naming the lagging ones) and `/api/v1/status` (the JSON of
//! `status -o json`, for every DaemonSet in scope, or those `?namespace=` / `?daemonset=`
//! select; compact, `?pretty` indented; bounded as [`super::body`] says).
//!
//! May import: `model`, `status`, `serve`, `k8s`.

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::Ordering;

use axum::Router;
use axum::extract::{Query, State as Extract};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use bytes::Bytes;

use crate::k8s::text;
use crate::serve::metrics;
use crate::serve::state::State;
use crate::status::{Gate, report};

pub fn router(state: Arc<State>) -> Router {
    Router::new()
        .route("/metrics", get(scrape))
        .route("/healthz", get(|| async { "ok\n" }))
        .route("/readyz", get(ready))
        .route("/api/v1/status", get(status))
        .with_state(state)
}

async fn scrape(Extract(state): Extract<Arc<State>>, headers: HeaderMap) -> Response {
    let om = metrics::wants_openmetrics(headers.get(header::ACCEPT).and_then(|v| v.to_str().ok()));
    // Rendering reads the whole model: off the async workers.
    let body = tokio::task::spawn_blocking(move || metrics::render(&state, om)).await;
    match body {
        Ok(body) => {
            let ct = if om { metrics::OPENMETRICS_CONTENT_TYPE } else { metrics::TEXT_CONTENT_TYPE };
            ([(header::CONTENT_TYPE, ct)], body).into_response()
        }
        Err(e) => (StatusCode::INTERNAL_SERVER_ERROR, format!("rendering the metrics failed: {e}\n")).into_response(),
    }
}

async fn ready(Extract(state): Extract<Arc<State>>) -> Response {
    let lagging = state.lagging();
    if lagging.is_empty() {
        "ok\n".into_response()
    } else {
        (StatusCode::SERVICE_UNAVAILABLE, format!("not ready: watch of {}\n", lagging.join("; watch of "))).into_response()
    }
}

/// The status JSON ([`super::body`]): the shared body of the model's generation, or with
/// `?namespace=` / `?daemonset=` (`NAME` or `NS/NAME`) only what they select; `?pretty`
/// indented. 429 with Retry-After when too many answers are in flight.
async fn status(Extract(state): Extract<Arc<State>>, Query(q): Query<HashMap<String, String>>) -> Response {
    let Some(permit) = state.bodies.admit() else {
        let retry = super::body::RETRY_AFTER_SECS.to_string();
        return (StatusCode::TOO_MANY_REQUESTS, [(header::RETRY_AFTER, retry)], "too many status requests at once; retry\n")
            .into_response();
    };
    let pretty = q.contains_key("pretty");
    let (ns, ds) = (q.get("namespace").cloned(), q.get("daemonset").cloned());
    let json = |r: &crate::status::Report, pretty: bool| {
        let mut out = Vec::new();
        let _ = if pretty { text::json_pretty(&mut out, r) } else { text::json_compact(&mut out, r) };
        out.push(b'\n');
        Bytes::from(out)
    };
    let body = if ns.is_none() && ds.is_none() {
        let generation = state.generation.load(Ordering::Acquire);
        let s = state.clone();
        state.bodies.whole(generation, pretty, move || json(&report(&s.live.read().model, &s.context, &[], &Gate::default()), pretty)).await
    } else {
        let s = state.clone();
        let made = tokio::task::spawn_blocking(move || {
            let live = s.live.read();
            let (ns, ds) = (ns.as_deref(), ds.as_deref());
            let selected: Vec<(String, String)> = live
                .model
                .daemonsets()
                .filter(|d| ns.is_none_or(|n| d.namespace == n))
                .filter(|d| ds.is_none_or(|x| x == d.name || x.split_once('/').is_some_and(|(n, m)| n == d.namespace && m == d.name)))
                .map(|d| (d.namespace.clone(), d.name.clone()))
                .collect();
            (!selected.is_empty()).then(|| json(&report(&live.model, &s.context, &selected, &Gate::default()), pretty))
        })
        .await;
        match made {
            Ok(Some(b)) => b,
            Ok(None) => return (StatusCode::NOT_FOUND, "no DaemonSet matches ?namespace= / ?daemonset=\n").into_response(),
            Err(e) => return (StatusCode::INTERNAL_SERVER_ERROR, format!("{e}\n")).into_response(),
        }
    };
    ([(header::CONTENT_TYPE, "application/json")], super::body::stream(body, permit)).into_response()
}

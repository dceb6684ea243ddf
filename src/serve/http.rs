//! The HTTP side of `serve`: `/metrics` (Prometheus text, or OpenMetrics when the
//! scraper's `Accept` asks for it), `/healthz` (the process answers), `/readyz` (every
//! watch is live, else 503 naming the lagging ones) and `/api/v1/status` (the JSON of
//! `status -o json`, for every DaemonSet in scope).
//!
//! May import: `model`, `status`, `serve`.

use std::sync::Arc;

use axum::Router;
use axum::extract::State as Extract;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;

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

async fn status(Extract(state): Extract<Arc<State>>) -> Response {
    let json = tokio::task::spawn_blocking(move || {
        let r = report(&state.live.read().model, &state.context, &[], &Gate::default());
        serde_json::to_string_pretty(&r).map(|s| s + "\n")
    })
    .await;
    match json {
        Ok(Ok(body)) => ([(header::CONTENT_TYPE, "application/json")], body).into_response(),
        Ok(Err(e)) => (StatusCode::INTERNAL_SERVER_ERROR, format!("{e}\n")).into_response(),
        Err(e) => (StatusCode::INTERNAL_SERVER_ERROR, format!("{e}\n")).into_response(),
    }
}

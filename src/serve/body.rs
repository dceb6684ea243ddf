//! `/api/v1/status`, bounded: the whole report is rendered once per model generation (each
//! batch of watch events is one) and the same bytes are shared by every request that asks
//! for it — 50 requests at once hold one body, not 50 — compact JSON (`?pretty` for
//! indented, cached the same way); `?namespace=` and `?daemonset=` render only what they
//! select; and at most [`MAX_STATUS_REQUESTS`] answers are in flight at once (a request
//! beyond that is 429 with `Retry-After`), each holding its place until its client has
//! read it (or [`super::conn::WRITE_STALL`] cuts a client that does not).
//!
//! May import: nothing of ours.

use std::sync::Arc;

use bytes::Bytes;
use futures::TryStreamExt;
use tokio::sync::{Mutex, OwnedSemaphorePermit, Semaphore};

/// Status answers in flight at once.
pub const MAX_STATUS_REQUESTS: usize = 8;
/// What a refused request is told to wait (seconds).
pub const RETRY_AFTER_SECS: u64 = 1;
/// The body goes out in chunks of this size (slices of the one shared buffer).
const CHUNK: usize = 64 * 1024;

pub struct StatusBodies {
    in_flight: Arc<Semaphore>,
    /// The last rendered whole report, compact [0] and pretty [1], with its generation.
    cache: Mutex<[Option<(u64, Bytes)>; 2]>,
}

impl Default for StatusBodies {
    fn default() -> Self {
        StatusBodies { in_flight: Arc::new(Semaphore::new(MAX_STATUS_REQUESTS)), cache: Mutex::new([None, None]) }
    }
}

impl StatusBodies {
    /// A place for one answer, or None when [`MAX_STATUS_REQUESTS`] are in flight.
    pub fn admit(&self) -> Option<OwnedSemaphorePermit> {
        self.in_flight.clone().try_acquire_owned().ok()
    }

    /// The whole report of `generation`: the cached bytes, or `render`'s (run once, off the
    /// async workers, while the requests for the same generation wait for it).
    pub async fn whole(&self, generation: u64, pretty: bool, render: impl FnOnce() -> Bytes + Send + 'static) -> Bytes {
        let mut cache = self.cache.lock().await;
        let slot = &mut cache[usize::from(pretty)];
        if let Some((g, b)) = slot
            && *g == generation
        {
            return b.clone();
        }
        let body = tokio::task::spawn_blocking(render).await.unwrap_or_default();
        *slot = Some((generation, body.clone()));
        body
    }
}

/// `body` as a response body that holds `permit` until it is sent (or the connection is
/// gone), in slices of the shared buffer.
pub fn stream(body: Bytes, permit: OwnedSemaphorePermit) -> axum::body::Body {
    let len = body.len();
    let chunks = (0..len).step_by(CHUNK).map(move |i| Ok::<_, std::convert::Infallible>(body.slice(i..(i + CHUNK).min(len))));
    let held = futures::stream::iter(chunks).map_ok(move |c| {
        let _ = &permit;
        c
    });
    axum::body::Body::from_stream(held)
}

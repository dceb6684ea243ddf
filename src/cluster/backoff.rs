//! How long to wait before trying the API server again: exponential, jittered (so a
//! thousand clients cut off together do not come back together), never shorter than the
//! server's own Retry-After (remembered per client by [`RetryAfterHint`]), and reset once
//! a request succeeds.
//!
//! May import: `model`, `k8s` (it needs neither). Never `sim` or `ui`.

use std::sync::Arc;
use std::time::{Duration, Instant};

use rand::Rng;

#[derive(Debug, Clone)]
pub struct Backoff {
    pub first: Duration,
    pub max: Duration,
    attempt: u32,
}

impl Default for Backoff {
    /// 0.5 s, 1 s, 2 s … up to 30 s (each a random point in the upper half of the step).
    fn default() -> Self {
        Backoff { first: Duration::from_millis(500), max: Duration::from_secs(30), attempt: 0 }
    }
}

impl Backoff {
    /// The wait before the next attempt; `retry_after` is what the server asked for.
    pub fn next(&mut self, retry_after: Option<Duration>) -> Duration {
        let step = self.first.saturating_mul(1u32 << self.attempt.min(16)).min(self.max);
        self.attempt = self.attempt.saturating_add(1);
        let jittered = step.mul_f64(rand::rng().random_range(0.5..=1.0));
        // Honour the server, within reason: a buggy Retry-After of a day is capped at 5 min.
        jittered.max(retry_after.unwrap_or_default().min(Duration::from_secs(300)))
    }

    pub fn reset(&mut self) {
        self.attempt = 0;
    }

    /// Failures in a row so far.
    pub fn attempts(&self) -> u32 {
        self.attempt
    }
}

/// The Retry-After header one client last saw on a 429 or 503 answer, shared by that
/// client's response layer (`connect::build_client`, which [`note`](Self::note)s it) and
/// whoever turns that client's failures into [`ClusterError`](crate::cluster::errors::ClusterError)s.
/// Owned per client: two clusters in one process never share a hint. A hint is at most
/// one Retry-After long, and is read only for a 429 or 503.
#[derive(Debug, Clone, Default)]
pub struct RetryAfterHint(Arc<parking_lot::Mutex<Option<Instant>>>);

impl RetryAfterHint {
    /// Remembers a 429's or 503's Retry-After header (seconds; a day is capped at 5 min).
    pub fn note<B>(&self, resp: &http::Response<B>) {
        if matches!(resp.status().as_u16(), 429 | 503)
            && let Some(secs) =
                resp.headers().get(http::header::RETRY_AFTER).and_then(|v| v.to_str().ok()).and_then(|v| v.trim().parse::<u64>().ok())
        {
            *self.0.lock() = Some(Instant::now() + Duration::from_secs(secs.min(300)));
        }
    }

    /// What is left of the wait the server last asked for.
    pub fn remaining(&self) -> Option<Duration> {
        self.0.lock().and_then(|until| until.checked_duration_since(Instant::now()))
    }

    /// The Retry-After a failed request carried: in the Status details, or — as the real
    /// API server's Priority and Fairness sends its 429, a plain-text body — only in the
    /// header, which this hint saw on the way in (kube-rs drops headers from errors).
    pub fn for_error(&self, e: &kube::Error) -> Option<Duration> {
        match e {
            kube::Error::Api(s) if matches!(s.code, 429 | 503) => {
                let body = s.details.as_ref().map(|d| d.retry_after_seconds).filter(|s| *s > 0).map(|s| Duration::from_secs(s.into()));
                body.max(self.remaining())
            }
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn grows_with_jitter_caps_and_resets() {
        let mut b = Backoff::default();
        let waits: Vec<Duration> = (0..10).map(|_| b.next(None)).collect();
        for (i, w) in waits.iter().enumerate() {
            let step = Duration::from_millis(500).saturating_mul(1 << i).min(Duration::from_secs(30));
            assert!(*w >= step / 2 && *w <= step, "attempt {i}: {w:?} outside [{:?}, {step:?}]", step / 2);
        }
        assert!(waits[9] >= Duration::from_secs(15), "capped at 30 s, not below half of it");
        b.reset();
        assert!(b.next(None) <= Duration::from_millis(500));
    }

    #[test]
    fn never_sooner_than_retry_after() {
        let mut b = Backoff::default();
        assert!(b.next(Some(Duration::from_secs(7))) >= Duration::from_secs(7));
        assert_eq!(b.next(Some(Duration::from_secs(86_400))).max(Duration::from_secs(300)), Duration::from_secs(300));
    }

    #[test]
    fn jitter_spreads_clients() {
        let waits: std::collections::HashSet<u128> = (0..20).map(|_| Backoff::default().next(None).as_micros()).collect();
        assert!(waits.len() > 10, "20 clients failing together should not retry in lockstep: {waits:?}");
    }
}

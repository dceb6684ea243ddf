//! Fault injection: the simulated API server misbehaving the way a real one does when
//! the cluster is in trouble — watch streams cut, 429 with Retry-After (API Priority and
//! Fairness), 500s, latency, expired resourceVersions (410 Gone), outages (connections
//! closed, new ones dropped), and a restart that comes back with a different state.
//!
//! Set from a scenario's `settings.faults` or `daemonscope sim` flags; tests change them
//! at run time through [`Faults::set`] to switch faults off and watch the client converge.
//!
//! May import: `sim::errors`, `sim::kubelet`, `sim::store`.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::task::{Context, Poll};
use std::time::Duration;

use axum::response::{IntoResponse, Response};
use parking_lot::RwLock;
use serde::Deserialize;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::sync::watch;

use super::errors::ApiError;

/// How the server misbehaves (everything off by default).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct FaultSettings {
    /// End every open watch stream this often (clients resume from their last resourceVersion).
    pub drop_watches_every: Option<Duration>,
    /// Fraction of requests answered 429 Too Many Requests, with Retry-After.
    pub throttle: f64,
    /// The Retry-After of those 429s, in seconds.
    pub retry_after: u64,
    /// Fraction of requests answered 500 Internal Server Error.
    pub server_errors: f64,
    /// Added before every response.
    pub latency: Duration,
    /// Forget the event history this often: a watch resuming from before gets 410 Gone.
    pub expire_every: Option<Duration>,
    /// Windows (start after launch, length) in which the server answers nothing: open
    /// connections are closed and new ones dropped.
    pub outages: Vec<(Duration, Duration)>,
    /// At this time after launch, go down for `down` and come back with the state of a
    /// freshly loaded scenario (new identities for every object; old resourceVersions expire).
    pub restart: Option<Restart>,
    /// Seeds which requests fail: the n-th request to a path rolls the same dice every
    /// run, whatever other paths are doing meanwhile (tests use fixed seeds). None: a
    /// random seed.
    pub seed: Option<u64>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Restart {
    pub at: Duration,
    pub down: Duration,
    /// The scenario to come back with; None: the one the server started from, reloaded.
    pub scenario: Option<std::path::PathBuf>,
}

impl FaultSettings {
    /// Anything to inject per request.
    fn per_request(&self) -> bool {
        self.throttle > 0.0 || self.server_errors > 0.0 || !self.latency.is_zero()
    }

    pub fn is_none(&self) -> bool {
        *self == FaultSettings { retry_after: self.retry_after, seed: self.seed, ..Default::default() }
    }
}

/// The `faults:` block of a scenario's settings (durations as `30s`, `1m`, `500ms`).
#[derive(Debug, Clone, Default, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct FaultSpec {
    pub drop_watches_every: Option<String>,
    pub throttle: Option<f64>,
    pub retry_after: Option<u64>,
    pub server_errors: Option<f64>,
    pub latency: Option<String>,
    pub expire_every: Option<String>,
    pub outages: Option<Vec<WindowSpec>>,
    pub restart: Option<RestartSpec>,
    pub seed: Option<u64>,
}

#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct WindowSpec {
    pub at: String,
    #[serde(rename = "for")]
    pub length: String,
}

#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct RestartSpec {
    pub at: String,
    pub down: Option<String>,
    pub scenario: Option<String>,
}

fn dur(what: &str, v: &str) -> Result<Duration, String> {
    super::kubelet::parse_duration(v).ok_or_else(|| format!("faults.{what}: {v:?} is not a duration (try 500ms, 30s, 2m)"))
}

fn fraction(what: &str, v: f64) -> Result<f64, String> {
    if (0.0..=1.0).contains(&v) { Ok(v) } else { Err(format!("faults.{what}: {v} is not a fraction between 0 and 1")) }
}

impl FaultSpec {
    pub fn resolve(&self) -> Result<FaultSettings, String> {
        let opt = |what: &str, v: &Option<String>| v.as_deref().map(|v| dur(what, v)).transpose();
        Ok(FaultSettings {
            drop_watches_every: opt("dropWatchesEvery", &self.drop_watches_every)?,
            throttle: fraction("throttle", self.throttle.unwrap_or(0.0))?,
            retry_after: self.retry_after.unwrap_or(1),
            server_errors: fraction("serverErrors", self.server_errors.unwrap_or(0.0))?,
            latency: opt("latency", &self.latency)?.unwrap_or_default(),
            expire_every: opt("expireEvery", &self.expire_every)?,
            outages: self
                .outages
                .iter()
                .flatten()
                .map(|w| Ok((dur("outages.at", &w.at)?, dur("outages.for", &w.length)?)))
                .collect::<Result<_, String>>()?,
            restart: self
                .restart
                .as_ref()
                .map(|r| {
                    Ok::<_, String>(Restart {
                        at: dur("restart.at", &r.at)?,
                        down: r.down.as_deref().map(|d| dur("restart.down", d)).transpose()?.unwrap_or(Duration::from_secs(2)),
                        scenario: r.scenario.as_ref().map(std::path::PathBuf::from),
                    })
                })
                .transpose()?,
            seed: self.seed,
        })
    }
}

/// One line for the `sim` banner: what will go wrong, and when.
pub fn describe(s: &FaultSettings) -> String {
    let d = |d: Duration| format!("{:?}", d);
    let mut parts = Vec::new();
    if let Some(e) = s.drop_watches_every {
        parts.push(format!("watches dropped every {}", d(e)));
    }
    if s.throttle > 0.0 {
        parts.push(format!("{:.0}% throttled (429, Retry-After {}s)", s.throttle * 100.0, s.retry_after));
    }
    if s.server_errors > 0.0 {
        parts.push(format!("{:.0}% server errors (500)", s.server_errors * 100.0));
    }
    if !s.latency.is_zero() {
        parts.push(format!("{} latency", d(s.latency)));
    }
    if let Some(e) = s.expire_every {
        parts.push(format!("resourceVersions expire every {} (410)", d(e)));
    }
    for (at, len) in &s.outages {
        parts.push(format!("down {} from {}", d(*len), d(*at)));
    }
    if let Some(r) = &s.restart {
        parts.push(format!("restart at {} (down {})", d(r.at), d(r.down)));
    }
    if let (Some(seed), false) = (s.seed, parts.is_empty()) {
        parts.push(format!("seed {seed}"));
    }
    parts.join(", ")
}

/// `AT+FOR` (e.g. `30s+20s`): an outage window on the command line.
pub fn parse_window(s: &str) -> Result<(Duration, Duration), String> {
    let (at, len) = s.split_once('+').ok_or_else(|| format!("{s:?}: expected AT+FOR, e.g. 30s+20s"))?;
    Ok((dur("outage", at)?, dur("outage", len)?))
}

/// What was injected so far (tests and the `sim` log line).
#[derive(Debug, Default)]
pub struct Injected {
    pub throttled: AtomicU64,
    pub server_errors: AtomicU64,
    pub watch_drops: AtomicU64,
    pub expiries: AtomicU64,
    pub refused: AtomicU64,
}

pub struct Faults {
    settings: RwLock<FaultSettings>,
    /// Bumped by `clear`: scheduled outages and restarts not yet begun are cancelled.
    epoch: AtomicU64,
    /// Bumped to end every open watch stream.
    drops: watch::Sender<u64>,
    /// True while the server is down.
    down: watch::Sender<bool>,
    pub injected: Injected,
    /// The seed in use, and how many requests each path has had (for the dice).
    seed: AtomicU64,
    per_path: parking_lot::Mutex<std::collections::HashMap<String, u64>>,
}

impl Faults {
    pub fn new(settings: FaultSettings) -> Arc<Self> {
        let seed = settings.seed.unwrap_or_else(rand::random);
        Arc::new(Faults {
            settings: RwLock::new(settings),
            epoch: AtomicU64::new(0),
            drops: watch::channel(0).0,
            down: watch::channel(false).0,
            injected: Injected::default(),
            seed: AtomicU64::new(seed),
            per_path: Default::default(),
        })
    }

    /// The dice for the next request to `path`: uniform in [0, 1), a function of the seed,
    /// the path and how many requests that path has had.
    fn roll(&self, path: &str) -> f64 {
        let n = {
            let mut m = self.per_path.lock();
            let c = m.entry(path.to_string()).or_insert(0);
            *c += 1;
            *c
        };
        // FNV-1a over the path, mixed with the seed and the count (splitmix64).
        let mut h: u64 = 0xcbf2_9ce4_8422_2325;
        for b in path.bytes() {
            h = (h ^ b as u64).wrapping_mul(0x0100_0000_01b3);
        }
        let mut z = h ^ self.seed.load(Ordering::Relaxed).rotate_left(17) ^ n.wrapping_mul(0x9e37_79b9_7f4a_7c15);
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^= z >> 31;
        (z >> 11) as f64 / (1u64 << 53) as f64
    }

    pub fn settings(&self) -> FaultSettings {
        self.settings.read().clone()
    }

    /// Replaces the per-request faults and intervals (scheduled outages keep their plan).
    /// A seed in `s` restarts the dice from it.
    pub fn set(&self, s: FaultSettings) {
        if let Some(seed) = s.seed {
            self.seed.store(seed, Ordering::Relaxed);
            self.per_path.lock().clear();
        }
        *self.settings.write() = s;
    }

    /// Switches every fault off and brings the server back up.
    pub fn clear(&self) {
        self.epoch.fetch_add(1, Ordering::SeqCst);
        self.set(FaultSettings::default());
        self.set_down(false);
    }

    fn epoch(&self) -> u64 {
        self.epoch.load(Ordering::SeqCst)
    }

    pub fn drops(&self) -> watch::Receiver<u64> {
        self.drops.subscribe()
    }

    /// Ends every open watch stream now.
    pub fn cut_watches(&self) {
        self.injected.watch_drops.fetch_add(1, Ordering::Relaxed);
        self.drops.send_modify(|n| *n += 1);
    }

    pub fn is_down(&self) -> bool {
        *self.down.borrow()
    }

    /// Takes the server down (closing every connection) or brings it back.
    pub fn set_down(&self, down: bool) {
        if down != self.is_down() {
            tracing::info!(down, "simulated outage");
        }
        self.down.send_replace(down);
    }

    /// Per-request faults: None to serve the request normally, or the response to send instead.
    pub async fn intercept(&self, path: &str) -> Option<Response> {
        let s = self.settings.read().clone();
        if self.is_down() {
            // In-process clients have no connection to close: hold them until the end, then 503.
            let mut rx = self.down.subscribe();
            let _ = rx.wait_for(|d| !d).await;
            self.injected.refused.fetch_add(1, Ordering::Relaxed);
            return Some(ApiError::unavailable(1).into_response());
        }
        if !s.per_request() {
            return None;
        }
        if !s.latency.is_zero() {
            tokio::time::sleep(s.latency).await;
        }
        let roll = self.roll(path);
        if roll < s.throttle {
            self.injected.throttled.fetch_add(1, Ordering::Relaxed);
            // As API Priority and Fairness answers: plain text, the wait only in the header.
            return Some(
                (
                    axum::http::StatusCode::TOO_MANY_REQUESTS,
                    [
                        (axum::http::header::RETRY_AFTER, s.retry_after.to_string()),
                        (axum::http::header::CONTENT_TYPE, "text/plain; charset=utf-8".into()),
                    ],
                    "Too many requests, please try again later.\n",
                )
                    .into_response(),
            );
        }
        if roll < s.throttle + s.server_errors {
            self.injected.server_errors.fetch_add(1, Ordering::Relaxed);
            return Some(ApiError::internal("simulated server error (daemonscope sim fault injection)").into_response());
        }
        None
    }

    /// The scheduled faults: periodic watch drops and history expiry, outage windows and
    /// the restart. `restart` rebuilds the state (runs on a blocking thread).
    pub async fn run(self: Arc<Self>, store: Arc<super::store::Store>, restart: Option<Box<dyn FnOnce() + Send>>) {
        let start = tokio::time::Instant::now();
        let plan = self.settings();
        let mut tasks = tokio::task::JoinSet::new();
        for (at, len) in plan.outages.clone() {
            let f = self.clone();
            tasks.spawn(async move {
                let epoch = f.epoch();
                tokio::time::sleep_until(start + at).await;
                if f.epoch() != epoch {
                    return;
                }
                f.set_down(true);
                tokio::time::sleep(len).await;
                if f.epoch() == epoch {
                    f.set_down(false);
                }
            });
        }
        if let (Some(r), Some(rebuild)) = (plan.restart.clone(), restart) {
            let f = self.clone();
            tasks.spawn(async move {
                let epoch = f.epoch();
                tokio::time::sleep_until(start + r.at).await;
                if f.epoch() != epoch {
                    return;
                }
                f.set_down(true);
                let began = tokio::time::Instant::now();
                if let Err(e) = tokio::task::spawn_blocking(rebuild).await {
                    tracing::error!(error = %e, "simulated restart failed");
                }
                tokio::time::sleep_until(began + r.down).await;
                if f.epoch() == epoch {
                    f.set_down(false);
                }
            });
        }
        // Intervals are read each tick, so tests can change or stop them at run time.
        let (mut last_drop, mut last_expiry) = (start, start);
        loop {
            tokio::time::sleep(Duration::from_millis(100)).await;
            let s = self.settings();
            let now = tokio::time::Instant::now();
            if let Some(every) = s.drop_watches_every
                && now >= last_drop + every
            {
                last_drop = now;
                self.cut_watches();
            }
            if let Some(every) = s.expire_every
                && now >= last_expiry + every
            {
                last_expiry = now;
                self.injected.expiries.fetch_add(1, Ordering::Relaxed);
                store.compact();
            }
        }
    }
}

/// A listener that drops connections while the server is down.
pub struct FaultListener<L> {
    inner: L,
    faults: Arc<Faults>,
}

impl<L> FaultListener<L> {
    pub fn new(inner: L, faults: Arc<Faults>) -> Self {
        FaultListener { inner, faults }
    }
}

impl<L: axum::serve::Listener> axum::serve::Listener for FaultListener<L> {
    type Io = CutIo<L::Io>;
    type Addr = L::Addr;

    async fn accept(&mut self) -> (Self::Io, Self::Addr) {
        loop {
            let (io, addr) = self.inner.accept().await;
            if self.faults.is_down() {
                self.faults.injected.refused.fetch_add(1, Ordering::Relaxed);
                drop(io);
                continue;
            }
            let mut rx = self.faults.down.subscribe();
            let cut: Pin<Box<dyn Future<Output = ()> + Send>> = Box::pin(async move {
                let _ = rx.wait_for(|d| *d).await;
            });
            return (CutIo { io, cut, dead: false }, addr);
        }
    }

    fn local_addr(&self) -> std::io::Result<Self::Addr> {
        self.inner.local_addr()
    }
}

/// A connection that fails (and so is closed) as soon as the server goes down.
pub struct CutIo<T> {
    io: T,
    cut: Pin<Box<dyn Future<Output = ()> + Send>>,
    dead: bool,
}

impl<T> CutIo<T> {
    fn check(&mut self, cx: &mut Context<'_>) -> std::io::Result<()> {
        if !self.dead && self.cut.as_mut().poll(cx).is_ready() {
            self.dead = true;
        }
        if self.dead { Err(std::io::Error::new(std::io::ErrorKind::ConnectionReset, "simulated outage")) } else { Ok(()) }
    }
}

impl<T: AsyncRead + Unpin> AsyncRead for CutIo<T> {
    fn poll_read(mut self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &mut ReadBuf<'_>) -> Poll<std::io::Result<()>> {
        if let Err(e) = self.check(cx) {
            return Poll::Ready(Err(e));
        }
        Pin::new(&mut self.io).poll_read(cx, buf)
    }
}

impl<T: AsyncWrite + Unpin> AsyncWrite for CutIo<T> {
    fn poll_write(mut self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &[u8]) -> Poll<std::io::Result<usize>> {
        if let Err(e) = self.check(cx) {
            return Poll::Ready(Err(e));
        }
        Pin::new(&mut self.io).poll_write(cx, buf)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        if let Err(e) = self.check(cx) {
            return Poll::Ready(Err(e));
        }
        Pin::new(&mut self.io).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.io).poll_shutdown(cx)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spec_resolves_and_names_bad_values() {
        let spec: FaultSpec = serde_json::from_value(serde_json::json!({
            "dropWatchesEvery": "10s", "throttle": 0.2, "retryAfter": 3, "latency": "50ms",
            "outages": [{"at": "1m", "for": "20s"}], "restart": {"at": "5m"}
        }))
        .unwrap();
        let s = spec.resolve().unwrap();
        assert_eq!(s.drop_watches_every, Some(Duration::from_secs(10)));
        assert_eq!((s.throttle, s.retry_after, s.latency), (0.2, 3, Duration::from_millis(50)));
        assert_eq!(s.outages, vec![(Duration::from_secs(60), Duration::from_secs(20))]);
        assert_eq!(s.restart.unwrap().down, Duration::from_secs(2));
        let bad = FaultSpec { throttle: Some(1.5), ..Default::default() }.resolve().unwrap_err();
        assert!(bad.contains("throttle") && bad.contains("between 0 and 1"), "{bad}");
        let bad = FaultSpec { latency: Some("soon".into()), ..Default::default() }.resolve().unwrap_err();
        assert!(bad.contains("faults.latency") && bad.contains("soon"), "{bad}");
        assert_eq!(parse_window("30s+20s").unwrap(), (Duration::from_secs(30), Duration::from_secs(20)));
        assert!(parse_window("30s").is_err());
    }

    #[tokio::test]
    async fn requests_fail_in_the_configured_proportions() {
        let f = Faults::new(FaultSettings { throttle: 0.5, retry_after: 4, ..Default::default() });
        let mut throttled = 0;
        for _ in 0..400 {
            if let Some(r) = f.intercept("/api/v1/pods").await {
                assert_eq!(r.status().as_u16(), 429);
                assert_eq!(r.headers().get("retry-after").unwrap(), "4");
                throttled += 1;
            }
        }
        assert!((140..260).contains(&throttled), "{throttled} of 400 throttled at 0.5");
        f.clear();
        assert!(f.intercept("/api/v1/pods").await.is_none());
    }

    /// The same seed throttles the same requests of a path, however requests to other
    /// paths interleave with them.
    #[tokio::test]
    async fn a_seed_decides_which_requests_fail() {
        let outcomes = |seed: u64, noise: usize| async move {
            let f = Faults::new(FaultSettings { throttle: 0.35, seed: Some(seed), ..Default::default() });
            let mut v = Vec::new();
            for i in 0..60 {
                for _ in 0..(i % 3) * noise {
                    f.intercept("/api/v1/nodes").await;
                }
                v.push(f.intercept("/api/v1/pods").await.is_some());
            }
            v
        };
        let a = outcomes(7, 0).await;
        assert_eq!(a, outcomes(7, 1).await, "other paths do not move the dice of this one");
        assert_ne!(a, outcomes(8, 0).await, "another seed, other failures");
        assert!((10..35).contains(&a.iter().filter(|x| **x).count()), "about 35% of 60: {a:?}");
    }
}

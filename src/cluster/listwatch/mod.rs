//! The one list-then-watch loop behind every watch of the client: the model's resources
//! ([`watch`](crate::cluster::watch)), an object's Events ([`jobs`](crate::cluster::jobs))
//! and the roll's DaemonSet and pods ([`roll`](crate::cluster::roll)). It fetches the
//! collection as a watch-list (a watch that streams every object, then a bookmark marking
//! the end: Kubernetes 1.32 and 1.34+), or in pages where the server refuses that, then watches from the list's resourceVersion (asking for bookmarks), resuming from the
//! last version seen whenever the stream ends or breaks. It relists, as client-go's
//! reflector does, when the server says that version is gone (410), when it says the
//! version is newer than its own (504 `ResourceVersionTooLarge`: a server restored onto
//! an older state), and after [`RELIST_AFTER_FAILURES`] failed watches in a row. A watch
//! silent for twice the bookmark interval is reopened. Failures wait a jittered
//! exponential backoff (at least the server's Retry-After; reset by every successful list
//! page or healthy watch) and are reported as [`Event::Failing`]; a list that fails
//! mid-way resumes at the failed page, and one whose continue token expired (410) falls
//! back to one full list, as client-go's pager does. What it sees goes to a [`Sink`],
//! which decides what to make of it (model changes, event lines, the roll's view).
//!
//! May import: `model`, `k8s` (it needs neither). Never `sim` or `ui`.

use std::time::{Duration, Instant};

use futures::StreamExt;
use futures::stream::BoxStream;
use kube::Api;
use kube::api::{ListParams, WatchEvent, WatchParams};
use tokio::sync::mpsc;

use crate::cluster::backoff::{Backoff, RetryAfterHint};
pub use crate::cluster::connect::Fetch;
use crate::cluster::connect::Timeouts;
use crate::cluster::errors::ClusterError;
pub use crate::k8s::proto::Wire;
use crate::k8s::watchlist::INITIAL_EVENTS_END;
pub use crate::k8s::watchlist::WatchList;

pub mod paged;
mod stream;

/// What the loop saw, in order.
#[derive(Debug)]
pub enum Event<K> {
    /// A (re)list's first page arrived: the objects `Applied` from here to
    /// [`Event::Listed`] are the whole collection; what is not among them is gone.
    Relisting,
    /// An object exists: listed, added or modified.
    Applied(K),
    /// An object was deleted.
    Deleted(K),
    /// The list is complete; the watch opens from it.
    Listed,
    /// The watch is open again after a failure, and replays what was missed.
    Resumed,
    /// The stream failed; what was delivered stands, and the loop retries in `retry_in`.
    Failing { error: ClusterError, retry_in: Duration },
}

/// Where the loop's events go. `send` answers false when nobody listens any more: the
/// loop then ends.
pub trait Sink<K>: Send {
    fn send(&mut self, event: Event<K>) -> impl Future<Output = bool> + Send;

    /// Right after [`Event::Relisting`], when the server said how many objects the whole
    /// list holds (the first page plus its `remainingItemCount`; kube-apiserver says it
    /// only for lists without a selector). For progress only: nothing depends on it.
    fn total(&mut self, _objects: u64) -> impl Future<Output = bool> + Send {
        async { true }
    }
}

impl<K: Send> Sink<K> for mpsc::Sender<Event<K>> {
    async fn send(&mut self, event: Event<K>) -> bool {
        mpsc::Sender::send(self, event).await.is_ok()
    }
}

/// What the server narrows a watch to (kubectl selector syntax).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Selectors {
    pub labels: Option<String>,
    pub fields: Option<String>,
}

impl Selectors {
    fn list(&self) -> ListParams {
        let mut lp = ListParams::default().limit(PAGE_SIZE);
        if let Some(l) = &self.labels {
            lp = lp.labels(l);
        }
        if let Some(f) = &self.fields {
            lp = lp.fields(f);
        }
        lp
    }

    /// A watch-list: the collection as initial events, then a bookmark that ends them.
    fn streaming(&self) -> WatchParams {
        let mut wp = self.watch();
        wp.send_initial_events = true;
        wp
    }

    fn watch(&self) -> WatchParams {
        let mut wp = WatchParams::default().timeout(WATCH_TIMEOUT_SECS);
        if let Some(l) = &self.labels {
            wp = wp.labels(l);
        }
        if let Some(f) = &self.fields {
            wp = wp.fields(f);
        }
        wp
    }
}

/// Objects per list page.
pub(super) const PAGE_SIZE: u32 = 500;
/// What the server is asked to hold a watch open for (it then ends it; we resume).
const WATCH_TIMEOUT_SECS: u32 = 290;
/// A watch open this long was healthy, whatever ended it.
const HEALTHY_AFTER: Duration = Duration::from_secs(10);
/// Watches failed in a row (with any error) before the loop stops resuming and relists:
/// the version it resumes from may be what the server cannot serve.
pub const RELIST_AFTER_FAILURES: u32 = 3;

/// Lists and watches `api` (narrowed by `selectors`) until `sink` stops listening.
/// `retry_after` is the hint of the client `api` uses, for failures whose Retry-After
/// came only in a header; `timeouts` bound a list page and a watch's silence; `fetch`
/// says how the whole collection is fetched (a streaming watch-list, or pages) and in
/// which encoding.
pub async fn list_then_watch<K, S>(
    api: Api<K>,
    selectors: Selectors,
    retry_after: RetryAfterHint,
    timeouts: Timeouts,
    fetch: Fetch,
    mut sink: S,
) where
    K: kube::Resource<DynamicType = ()> + Clone + serde::de::DeserializeOwned + std::fmt::Debug + Send + 'static,
    S: Sink<K>,
{
    let kind = K::kind(&()).into_owned();
    let (initial, wire) = (fetch.watch_list, fetch.wire);
    let mut backoff = Backoff::default();
    // Where to resume; None: (re)list first.
    let mut rv: Option<String> = None;
    // A list under way: the next page to ask for.
    let mut listing: Option<ListParams> = None;
    // Whether (re)lists stream from the watch: until the server refuses once (a server
    // before 1.32, or 1.33, or with the WatchList gate off), as client-go falls back.
    let mut streaming = initial != WatchList::Off;
    // The last watch-list ended before its end bookmark: the next (re)list is paged, which
    // makes progress page by page ("making progress is better than deadlocking", as
    // client-go's reflector says when it falls back).
    let mut pages_next = false;
    let mut failing = false;
    // Watches that failed in a row.
    let mut watch_failures = 0u32;
    // When the last list finished: a 410 soon after means the history is shorter than a
    // list takes, and relisting at once would loop.
    let mut listed_at: Option<Instant> = None;
    let relist_pause = |listed_at: Option<Instant>, backoff: &mut Backoff| match listed_at {
        Some(t) if t.elapsed() < HEALTHY_AFTER => Some(backoff.next(None)),
        _ => None,
    };
    loop {
        // Open a stream: a watch from `rv`, or a watch-list (the whole collection first).
        let opened = Instant::now();
        let opened_stream = match &rv {
            None if streaming && listing.is_none() && !(pages_next && initial == WatchList::Auto) => {
                match watch(&api, &selectors.streaming(), "", wire).await {
                    Err(e) if initial == WatchList::Auto && refuses_watch_list(&e) => {
                        tracing::info!(%kind, error = %e, "the server does not serve watch-list; listing in pages");
                        streaming = false;
                        continue;
                    }
                    Err(e) => Err((ClusterError::api(e, &retry_after), false)),
                    Ok(stream) => {
                        if !sink.send(Event::Relisting).await {
                            return;
                        }
                        Ok((stream, Phase::Initial))
                    }
                }
            }
            None => {
                let lp = listing.take().unwrap_or_else(|| selectors.list());
                match paged::list(&api, lp, &retry_after, timeouts.page, wire, &mut backoff, &mut sink).await {
                    paged::Listed::Done(v) => {
                        pages_next = false;
                        rv = Some(v);
                        listed_at = Some(Instant::now());
                        failing = false;
                        if !sink.send(Event::Listed).await {
                            return;
                        }
                        continue;
                    }
                    paged::Listed::Closed => return,
                    paged::Listed::Failed(e, resume) => {
                        listing = resume;
                        Err((e, false))
                    }
                }
            }
            Some(from) => match watch(&api, &selectors.watch(), from, wire).await {
                Err(e) if is_gone(&e) => {
                    rv = None;
                    if let Some(d) = relist_pause(listed_at, &mut backoff) {
                        tokio::time::sleep(d).await;
                    }
                    continue;
                }
                Err(e) => Err((ClusterError::api(e, &retry_after), true)),
                Ok(stream) => {
                    if failing {
                        // The watch is open again and replays what was missed.
                        failing = false;
                        tracing::info!(%kind, "watch resumed");
                        if !sink.send(Event::Resumed).await {
                            return;
                        }
                    }
                    Ok((stream, Phase::Watching))
                }
            },
        };
        let failure = match opened_stream {
            Err(f) => Some(f),
            Ok((stream, phase)) => {
                let streamed = matches!(phase, Phase::Initial);
                let run = consume(stream, phase, &kind, &mut rv, timeouts.watch_idle(), &retry_after, &mut sink).await;
                if run.closed {
                    return;
                }
                if streamed && !run.listed {
                    tracing::info!(%kind, "watch-list ended before its end bookmark; the next list is paged");
                    pages_next = true;
                }
                if run.listed {
                    listed_at = Some(Instant::now());
                    failing = false;
                }
                // A watch that delivered or stayed open a while was healthy: what follows
                // starts from the first step of the backoff again.
                if run.events > 0 || opened.elapsed() >= HEALTHY_AFTER {
                    backoff.reset();
                    watch_failures = 0;
                }
                match run.outcome {
                    // A stream that broke while it was still sending the collection: as a
                    // failed list (the next attempt starts the collection over).
                    Some(f) => Some((f, rv.is_some())),
                    None => {
                        // A stream the server closed at once (again and again), or relisting
                        // right after a list: never a tight loop.
                        let pause = if run.events == 0 && opened.elapsed() < Duration::from_secs(1) {
                            Some(backoff.next(None))
                        } else if streamed && !run.listed && initial == WatchList::On {
                            // Only watch-lists, and this one was cut: not again at once.
                            Some(backoff.next(None))
                        } else if rv.is_none() {
                            relist_pause(listed_at, &mut backoff)
                        } else {
                            None
                        };
                        if let Some(d) = pause {
                            tokio::time::sleep(d).await;
                        }
                        None
                    }
                }
            }
        };
        let Some((failure, watching)) = failure else { continue };
        if watching {
            watch_failures += 1;
            // Resuming cannot work from a version the server does not have yet (restored
            // onto an older state), and may not after repeated failures: start over.
            if failure.is_resource_version_too_large() || watch_failures >= RELIST_AFTER_FAILURES {
                tracing::info!(%kind, error = %failure, failures = watch_failures, "watch cannot resume; relisting");
                rv = None;
                watch_failures = 0;
            }
        }
        failing = true;
        let wait = backoff.next(failure.retry_after());
        tracing::warn!(%kind, error = %failure, retry_in = ?wait, attempt = backoff.attempts(), "watch failed; retrying");
        if !sink.send(Event::Failing { error: failure, retry_in: wait }).await {
            return;
        }
        tokio::time::sleep(wait).await;
    }
}

/// What a stream is delivering.
enum Phase {
    /// A watch-list's initial events: the whole collection, until the bookmark that ends it.
    Initial,
    /// Changes after `rv`.
    Watching,
}

/// How a stream ended.
struct Run {
    /// Events and bookmarks delivered.
    events: usize,
    /// Why it broke; None when the server ended it (or a 410 asked for a relist).
    outcome: Option<ClusterError>,
    /// A watch-list's collection was complete ([`Event::Listed`] sent).
    listed: bool,
    /// The sink is gone.
    closed: bool,
}

/// Delivers a watch stream's events to `sink` until it ends, breaks, or stays silent for
/// `idle` (the server sends a bookmark about once a bookmark interval: silence for two is
/// a dead connection — a VPN drop, a sleeping laptop, a hung server — not a quiet cluster).
/// `rv` follows what was delivered; during a watch-list's initial events it stays None
/// until the bookmark annotated `k8s.io/initial-events-end` gives the collection's version.
async fn consume<K, S>(
    stream: impl futures::Stream<Item = kube::Result<WatchEvent<K>>>,
    mut phase: Phase,
    kind: &str,
    rv: &mut Option<String>,
    idle: Duration,
    retry_after: &RetryAfterHint,
    sink: &mut S,
) -> Run
where
    K: kube::Resource + Clone + std::fmt::Debug + Send,
    S: Sink<K>,
{
    let mut stream = std::pin::pin!(stream);
    let mut run = Run { events: 0, outcome: None, listed: false, closed: false };
    let initial = |p: &Phase| matches!(p, Phase::Initial);
    loop {
        let item = match tokio::time::timeout(idle, stream.next()).await {
            Ok(Some(item)) => item,
            Ok(None) => return run,
            Err(_) => {
                run.outcome = Some(ClusterError::Silent(idle));
                return run;
            }
        };
        let event = match item {
            Ok(WatchEvent::Added(o) | WatchEvent::Modified(o)) => {
                if !initial(&phase) {
                    *rv = o.meta().resource_version.clone().or(rv.take());
                }
                Event::Applied(o)
            }
            Ok(WatchEvent::Deleted(o)) => {
                if !initial(&phase) {
                    *rv = o.meta().resource_version.clone().or(rv.take());
                }
                Event::Deleted(o)
            }
            Ok(WatchEvent::Bookmark(b)) => {
                run.events += 1;
                if !initial(&phase) {
                    *rv = Some(b.metadata.resource_version);
                } else if b.metadata.annotations.get(INITIAL_EVENTS_END).is_some_and(|v| v == "true") {
                    *rv = Some(b.metadata.resource_version);
                    phase = Phase::Watching;
                    run.listed = true;
                    tracing::debug!(%kind, "watch-list: initial events complete");
                    if !sink.send(Event::Listed).await {
                        run.closed = true;
                        return run;
                    }
                }
                continue;
            }
            Ok(WatchEvent::Error(s)) if s.code == 410 => {
                tracing::info!(%kind, "resourceVersion expired (410); relisting");
                *rv = None;
                return run;
            }
            Ok(WatchEvent::Error(s)) => {
                run.outcome = Some(ClusterError::status(s, retry_after));
                return run;
            }
            Err(e) => {
                run.outcome = Some(ClusterError::api(e, retry_after));
                return run;
            }
        };
        run.events += 1;
        if !sink.send(event).await {
            run.closed = true;
            return run;
        }
    }
}

/// Opens a watch in the wire's encoding: kube's own for JSON, [`stream`] otherwise.
async fn watch<K>(
    api: &Api<K>,
    wp: &WatchParams,
    version: &str,
    wire: Wire,
) -> kube::Result<BoxStream<'static, kube::Result<WatchEvent<K>>>>
where
    K: kube::Resource + Clone + serde::de::DeserializeOwned + std::fmt::Debug + Send + 'static,
{
    match wire {
        Wire::Json => Ok(api.watch(wp, version).await?.boxed()),
        Wire::Auto | Wire::Protobuf => stream::open(&api.clone().into_client(), api.resource_url(), wp, version, wire).await,
    }
}

/// The server's answer to a watch-list it does not serve: 422 Invalid (the WatchList gate
/// off: `sendInitialEvents is forbidden for watch unless the WatchList feature gate is
/// enabled`; before 1.27, `resourceVersionMatch is forbidden for watch`) or 400.
fn refuses_watch_list(e: &kube::Error) -> bool {
    matches!(e, kube::Error::Api(s) if s.code == 422 || s.code == 400)
}

fn is_gone(e: &kube::Error) -> bool {
    matches!(e, kube::Error::Api(s) if s.code == 410)
}

//! Watch streams → compact changes. Runs on the async runtime, never on the UI thread:
//! one list-then-watch loop per resource (list once, then watch, resuming from the last
//! resourceVersion; relist only when the server says 410; jittered backoff that honours
//! Retry-After) for DaemonSets, Nodes, and the Pods that DaemonSets own, narrowed on the server by
//! the `controller-revision-hash` label and confirmed by ownerReferences here; plus the
//! DaemonSets' ControllerRevisions (rollout history) and Services (how daemons are reached),
//! both small.

use std::time::{Duration, Instant};

use futures::StreamExt;
use k8s_openapi::api::apps::v1::{ControllerRevision, DaemonSet};
use k8s_openapi::api::core::v1::{Node, Pod, Service};
use kube::api::{ListParams, WatchEvent, WatchParams};
use kube::{Api, Client};
use tokio::sync::mpsc;

use crate::cluster::backoff::Backoff;
use crate::model::{Change, DsInfo, NodeInfo, PodInfo, Resource, RevisionInfo, ServiceInfo};

/// Where a resource's stream stands, for the status line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SyncState {
    Syncing,
    Live,
    /// The stream failed and retries in `retry_in` (jittered backoff, at least the
    /// server's Retry-After); the data is kept, as of the failure. `fatal`: waiting will
    /// not fix it (credentials, permissions, TLS) — the user must act.
    Reconnecting {
        reason: String,
        fatal: bool,
        retry_in: Duration,
    },
}

#[derive(Debug, Clone)]
pub enum Update {
    Change(Change),
    Sync(Resource, SyncState),
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Scope {
    /// DaemonSets (and their pods) in this namespace only; None for all.
    pub namespace: Option<String>,
    /// DaemonSet label selector (kubectl syntax).
    pub selector: Option<String>,
}

/// A namespaced API in the scope's namespace, or across all namespaces.
fn scoped<K>(client: &Client, scope: &Scope) -> Api<K>
where
    K: kube::Resource<Scope = k8s_openapi::NamespaceResourceScope>,
    <K as kube::Resource>::DynamicType: Default,
{
    match &scope.namespace {
        Some(ns) => Api::namespaced(client.clone(), ns),
        None => Api::all(client.clone()),
    }
}

/// Starts every watcher; they stop when `tx` is closed or the handles are aborted.
pub fn spawn(client: Client, scope: Scope, tx: mpsc::Sender<Update>) -> Vec<tokio::task::JoinHandle<()>> {
    spawn_only(client, scope, tx, &Resource::ALL)
}

/// Starts the watchers of `resources` only (coverage needs DaemonSets, Nodes and Pods).
pub fn spawn_only(client: Client, scope: Scope, tx: mpsc::Sender<Update>, resources: &[Resource]) -> Vec<tokio::task::JoinHandle<()>> {
    let (ds_api, pod_api) = (scoped::<DaemonSet>(&client, &scope), scoped::<Pod>(&client, &scope));
    let (rev_api, svc_api) = (scoped::<ControllerRevision>(&client, &scope), scoped::<Service>(&client, &scope));
    let node_api: Api<Node> = Api::all(client);
    let ds_cfg = scope.selector.clone();
    let pod_cfg = Some("controller-revision-hash".to_string());
    let mut handles = Vec::new();
    if resources.contains(&Resource::DaemonSets) {
        handles.push(tokio::spawn(run(
            ds_api,
            ds_cfg,
            Resource::DaemonSets,
            tx.clone(),
            |d: &DaemonSet| Some(Change::DaemonSet(DsInfo::from(d))),
            |d| Change::DaemonSetGone {
                namespace: d.metadata.namespace.clone().unwrap_or_default(),
                name: d.metadata.name.clone().unwrap_or_default(),
            },
        )));
    }
    if resources.contains(&Resource::Nodes) {
        handles.push(tokio::spawn(run(
            node_api,
            None,
            Resource::Nodes,
            tx.clone(),
            |n: &Node| Some(Change::Node(NodeInfo::from(n))),
            |n| Change::NodeGone(n.metadata.name.clone().unwrap_or_default()),
        )));
    }
    if resources.contains(&Resource::Pods) {
        handles.push(tokio::spawn(run(
            pod_api,
            pod_cfg,
            Resource::Pods,
            tx.clone(),
            |p: &Pod| PodInfo::from_pod(p).map(Change::Pod),
            |p| Change::PodGone { uid: p.metadata.uid.clone().unwrap_or_default() },
        )));
    }
    if resources.contains(&Resource::Revisions) {
        handles.push(tokio::spawn(run(
            rev_api,
            None,
            Resource::Revisions,
            tx.clone(),
            |r: &ControllerRevision| RevisionInfo::from_revision(r).map(Change::Revision),
            |r| Change::RevisionGone {
                namespace: r.metadata.namespace.clone().unwrap_or_default(),
                name: r.metadata.name.clone().unwrap_or_default(),
            },
        )));
    }
    if resources.contains(&Resource::Services) {
        handles.push(tokio::spawn(run(
            svc_api,
            None,
            Resource::Services,
            tx,
            |s: &Service| Some(Change::Service(ServiceInfo::from(s))),
            |s| Change::ServiceGone {
                namespace: s.metadata.namespace.clone().unwrap_or_default(),
                name: s.metadata.name.clone().unwrap_or_default(),
            },
        )));
    }
    handles
}

/// One resource's stream: list (in pages), then watch from the list's resourceVersion,
/// resuming from the last one seen whenever the stream ends or breaks; relist only when
/// the server says that version is gone (410). Failures wait a jittered exponential
/// backoff (at least the server's Retry-After) and are reported, with the data kept; a
/// list that fails mid-way resumes at the failed page.
async fn run<K>(
    api: Api<K>,
    labels: Option<String>,
    resource: Resource,
    tx: mpsc::Sender<Update>,
    apply: impl Fn(&K) -> Option<Change> + Send + 'static,
    gone: impl Fn(&K) -> Change + Send + 'static,
) where
    K: kube::Resource + Clone + serde::de::DeserializeOwned + std::fmt::Debug + Send + 'static,
{
    if tx.send(Update::Sync(resource, SyncState::Syncing)).await.is_err() {
        return;
    }
    let mut backoff = Backoff::default();
    // Where to resume; None: (re)list first.
    let mut rv: Option<String> = None;
    // A list under way: the next page to ask for.
    let mut listing: Option<ListParams> = None;
    let mut failing = false;
    // When the last list finished: a 410 soon after means the history is shorter than a
    // list takes, and relisting at once would loop.
    let mut listed_at: Option<Instant> = None;
    let relist_pause = |listed_at: Option<Instant>, backoff: &mut Backoff| match listed_at {
        Some(t) if t.elapsed() < HEALTHY_AFTER => Some(backoff.next(None)),
        _ => None,
    };
    loop {
        let failure = match &rv {
            None => {
                let lp = listing.take().unwrap_or_else(|| {
                    let lp = ListParams::default().limit(500);
                    match &labels {
                        Some(l) => lp.labels(l),
                        None => lp,
                    }
                });
                match list(&api, lp, resource, &tx, &apply).await {
                    Listed::Done(v) => {
                        rv = Some(v);
                        listed_at = Some(Instant::now());
                        failing = false;
                        if tx.send(Update::Sync(resource, SyncState::Live)).await.is_err() {
                            return;
                        }
                        continue;
                    }
                    Listed::Closed => return,
                    Listed::Failed(e, resume) => {
                        listing = resume;
                        Failure::from_kube(&e)
                    }
                }
            }
            Some(from) => {
                let mut wp = WatchParams::default().timeout(WATCH_TIMEOUT_SECS);
                if let Some(l) = &labels {
                    wp = wp.labels(l);
                }
                let opened = Instant::now();
                match api.watch(&wp, from).await {
                    Err(e) if is_gone(&e) => {
                        rv = None;
                        if let Some(d) = relist_pause(listed_at, &mut backoff) {
                            tokio::time::sleep(d).await;
                        }
                        continue;
                    }
                    Err(e) => Failure::from_kube(&e),
                    Ok(stream) => {
                        if failing {
                            // The watch is open again and replays what was missed.
                            failing = false;
                            tracing::info!(?resource, "watch resumed");
                            if tx.send(Update::Sync(resource, SyncState::Live)).await.is_err() {
                                return;
                            }
                        }
                        let mut stream = std::pin::pin!(stream);
                        let mut events = 0usize;
                        let mut outcome = None;
                        loop {
                            // The server ends a watch after timeoutSeconds and sends bookmarks
                            // meanwhile: silence well past that is a dead connection (a VPN
                            // drop, a sleeping laptop), not a quiet cluster.
                            let item = match tokio::time::timeout(IDLE_TIMEOUT, stream.next()).await {
                                Ok(Some(item)) => item,
                                Ok(None) => break,
                                Err(_) => {
                                    outcome = Some(Failure {
                                        reason: format!("no answer from the API server for {}s; reconnecting", IDLE_TIMEOUT.as_secs()),
                                        fatal: false,
                                        retry_after: None,
                                    });
                                    break;
                                }
                            };
                            events += 1;
                            let change = match item {
                                Ok(WatchEvent::Added(o) | WatchEvent::Modified(o)) => {
                                    rv = o.meta().resource_version.clone().or(rv.take());
                                    apply(&o)
                                }
                                Ok(WatchEvent::Deleted(o)) => {
                                    rv = o.meta().resource_version.clone().or(rv.take());
                                    Some(gone(&o))
                                }
                                Ok(WatchEvent::Bookmark(b)) => {
                                    rv = Some(b.metadata.resource_version);
                                    None
                                }
                                Ok(WatchEvent::Error(s)) if s.code == 410 => {
                                    tracing::info!(?resource, "resourceVersion expired (410); relisting");
                                    rv = None;
                                    break;
                                }
                                Ok(WatchEvent::Error(s)) => {
                                    outcome = Some(Failure::from_status(&s));
                                    break;
                                }
                                Err(e) => {
                                    outcome = Some(Failure::from_kube(&e));
                                    break;
                                }
                            };
                            if let Some(c) = change
                                && tx.send(Update::Change(c)).await.is_err()
                            {
                                return;
                            }
                        }
                        // A watch that delivered or stayed open a while was healthy: what
                        // follows starts from the first step of the backoff again.
                        if events > 1 || opened.elapsed() >= HEALTHY_AFTER {
                            backoff.reset();
                        }
                        match outcome {
                            Some(f) => f,
                            None => {
                                // Relisting right after a list, or a stream the server closed
                                // at once (again and again): never a tight loop.
                                let pause = if rv.is_none() {
                                    relist_pause(listed_at, &mut backoff)
                                } else if events == 0 && opened.elapsed() < Duration::from_secs(1) {
                                    Some(backoff.next(None))
                                } else {
                                    None
                                };
                                if let Some(d) = pause {
                                    tokio::time::sleep(d).await;
                                }
                                continue;
                            }
                        }
                    }
                }
            }
        };
        failing = true;
        let wait = backoff.next(failure.retry_after);
        tracing::warn!(?resource, error = %failure.reason, retry_in = ?wait, attempt = backoff.attempts(), "watch failed; retrying");
        let state = SyncState::Reconnecting { reason: failure.reason, fatal: failure.fatal, retry_in: wait };
        if tx.send(Update::Sync(resource, state)).await.is_err() {
            return;
        }
        tokio::time::sleep(wait).await;
    }
}

/// What the server is asked to hold a watch open for (it then ends it; we resume).
const WATCH_TIMEOUT_SECS: u32 = 290;
/// No event, bookmark or end of stream for this long: the connection is dead.
const IDLE_TIMEOUT: Duration = Duration::from_secs(WATCH_TIMEOUT_SECS as u64 + 30);
/// A list page that takes longer than this has failed.
const PAGE_TIMEOUT: Duration = Duration::from_secs(120);
/// A watch open this long was healthy, whatever ended it.
const HEALTHY_AFTER: Duration = Duration::from_secs(10);

enum Listed {
    /// Every page applied; the list's resourceVersion.
    Done(String),
    /// The receiver is gone.
    Closed,
    /// A page failed; where to resume (None: from the start).
    Failed(kube::Error, Option<ListParams>),
}

/// Lists every object in pages (a resync: what is not listed is gone), from `lp` — the
/// first page, or the one that failed last time.
async fn list<K>(
    api: &Api<K>,
    mut lp: ListParams,
    resource: Resource,
    tx: &mpsc::Sender<Update>,
    apply: &impl Fn(&K) -> Option<Change>,
) -> Listed
where
    K: kube::Resource + Clone + serde::de::DeserializeOwned + std::fmt::Debug,
{
    loop {
        let page = match tokio::time::timeout(PAGE_TIMEOUT, api.list(&lp)).await {
            Ok(Ok(p)) => p,
            // The continue token expired mid-list: start over.
            Ok(Err(e)) if is_gone(&e) && lp.continue_token.is_some() => {
                lp.continue_token = None;
                continue;
            }
            Ok(Err(e)) => return Listed::Failed(e, Some(lp)),
            Err(_) => {
                let e = kube::Error::Service(format!("a list page took over {}s", PAGE_TIMEOUT.as_secs()).into());
                return Listed::Failed(e, Some(lp));
            }
        };
        if lp.continue_token.is_none() && tx.send(Update::Change(Change::ResyncStart(resource))).await.is_err() {
            return Listed::Closed;
        }
        for o in &page.items {
            if let Some(c) = apply(o)
                && tx.send(Update::Change(c)).await.is_err()
            {
                return Listed::Closed;
            }
        }
        match page.metadata.continue_.filter(|c| !c.is_empty()) {
            Some(c) => lp.continue_token = Some(c),
            None => {
                if tx.send(Update::Change(Change::ResyncDone(resource))).await.is_err() {
                    return Listed::Closed;
                }
                return Listed::Done(page.metadata.resource_version.unwrap_or_default());
            }
        }
    }
}

fn is_gone(e: &kube::Error) -> bool {
    matches!(e, kube::Error::Api(s) if s.code == 410)
}

/// Why a request failed, in words, and whether waiting can fix it.
struct Failure {
    reason: String,
    fatal: bool,
    retry_after: Option<Duration>,
}

impl Failure {
    fn from_kube(e: &kube::Error) -> Self {
        Failure {
            reason: crate::cluster::errors::describe_kube_error(e),
            fatal: crate::cluster::errors::is_fatal(e),
            retry_after: crate::cluster::backoff::retry_after(e),
        }
    }

    fn from_status(s: &kube::core::Status) -> Self {
        Self::from_kube(&kube::Error::Api(Box::new(s.clone())))
    }
}

//! Watch streams → compact model changes. Runs on the async runtime, never on the UI
//! thread: one [`list_then_watch`] loop per resource — DaemonSets, Nodes, and the Pods
//! that DaemonSets own (narrowed on the server by the `controller-revision-hash` label and
//! confirmed by ownerReferences in the model's conversion), plus the DaemonSets'
//! ControllerRevisions (rollout history) and Services (how daemons are reached), both
//! small. [`Watched`] says, per resource, where to watch and how an object becomes a
//! [`Change`]; tests use it too, so they convert objects exactly as the client does.
//!
//! May import: `model`, `k8s`. Never `sim` or `ui`.

use std::time::Duration;

use k8s_openapi::api::apps::v1::{ControllerRevision, DaemonSet};
use k8s_openapi::api::core::v1::{Node, Pod, Service};
use kube::{Api, Client};
use tokio::sync::mpsc;

use crate::cluster::connect::Cluster;
pub use crate::cluster::errors::SyncFailure;
use crate::cluster::listwatch::{Event, Selectors, Sink, list_then_watch};
use crate::cluster::wire::PodWire;
use crate::cluster::workloads::WorkloadWire;
use crate::model::{Change, DsInfo, NodeInfo, PodInfo, Resource, RevisionInfo, ServiceInfo};

/// Where a resource's stream stands, for the status line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SyncState {
    Syncing,
    Live,
    /// The stream failed and retries in `retry_in` (jittered backoff, at least the
    /// server's Retry-After); the data is kept, as of the failure. `failure`: why, as a
    /// value front ends decide on; `reason`: the same in words, for the operator only.
    /// `fatal`: waiting will not fix it (credentials, permissions, TLS) — the user must act.
    Reconnecting {
        reason: String,
        failure: SyncFailure,
        fatal: bool,
        retry_in: Duration,
    },
}

/// Nearly every update is a `Change`, so boxing it would only add an allocation per event.
#[allow(clippy::large_enum_variant)]
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

impl Scope {
    /// The selection in the user's words: `-n typo`, `-l app=x`, or every namespace.
    pub fn describe(&self) -> String {
        let mut parts = Vec::new();
        if let Some(ns) = &self.namespace {
            parts.push(format!("-n {ns}"));
        }
        if let Some(l) = &self.selector {
            parts.push(format!("-l {l}"));
        }
        if parts.is_empty() { "in any namespace".into() } else { parts.join(" ") }
    }
}

/// A resource the model is fed from: where it is watched, and what its objects become.
pub trait Watched: kube::Resource<DynamicType = ()> + Clone + serde::de::DeserializeOwned + std::fmt::Debug + Send + 'static {
    /// Which of the model's resources this is.
    const RESOURCE: Resource;
    /// The API to watch: in the scope's namespace, or across the cluster.
    fn api(client: Client, scope: &Scope) -> Api<Self>;
    /// What the server narrows the watch to.
    fn selectors(_scope: &Scope) -> Selectors {
        Selectors::default()
    }
    /// The model's change for an object that exists (None: not one the model keeps).
    fn change(&self) -> Option<Change>;
    /// The same, consuming the object (what the watch does: no copy).
    fn into_change(self) -> Option<Change> {
        self.change()
    }
    /// The model's change for an object that was deleted.
    fn gone(&self) -> Change;
}

/// A namespaced API in the scope's namespace, or across all namespaces.
fn scoped<K>(client: Client, scope: &Scope) -> Api<K>
where
    K: kube::Resource<Scope = k8s_openapi::NamespaceResourceScope, DynamicType = ()>,
{
    match &scope.namespace {
        Some(ns) => Api::namespaced(client, ns),
        None => Api::all(client),
    }
}

fn namespace_name(m: &kube::api::ObjectMeta) -> (String, String) {
    (m.namespace.clone().unwrap_or_default(), m.name.clone().unwrap_or_default())
}

impl Watched for DaemonSet {
    const RESOURCE: Resource = Resource::DaemonSets;
    fn api(client: Client, scope: &Scope) -> Api<Self> {
        scoped(client, scope)
    }
    fn selectors(scope: &Scope) -> Selectors {
        Selectors { labels: scope.selector.clone(), fields: None }
    }
    fn change(&self) -> Option<Change> {
        Some(Change::DaemonSet(DsInfo::from(self)))
    }
    fn gone(&self) -> Change {
        let (namespace, name) = namespace_name(&self.metadata);
        Change::DaemonSetGone { namespace, name }
    }
}

impl Watched for Node {
    const RESOURCE: Resource = Resource::Nodes;
    fn api(client: Client, _scope: &Scope) -> Api<Self> {
        Api::all(client)
    }
    fn change(&self) -> Option<Change> {
        Some(Change::Node(NodeInfo::from(self)))
    }
    fn gone(&self) -> Change {
        Change::NodeGone(self.metadata.name.clone().unwrap_or_default())
    }
}

impl Watched for Pod {
    const RESOURCE: Resource = Resource::Pods;
    fn api(client: Client, scope: &Scope) -> Api<Self> {
        scoped(client, scope)
    }
    /// Only pods a DaemonSet (or StatefulSet) made carry this label.
    fn selectors(_scope: &Scope) -> Selectors {
        Selectors { labels: Some("controller-revision-hash".into()), fields: None }
    }
    fn change(&self) -> Option<Change> {
        PodInfo::from_pod(self).map(Change::Pod)
    }
    fn gone(&self) -> Change {
        Change::PodGone { uid: self.metadata.uid.clone().unwrap_or_default() }
    }
}

/// Pods as the watch decodes them; a `Pod` converts exactly as this does (the tests
/// compare the two).
impl Watched for PodWire {
    const RESOURCE: Resource = Resource::Pods;
    fn api(client: Client, scope: &Scope) -> Api<Self> {
        scoped(client, scope)
    }
    fn selectors(scope: &Scope) -> Selectors {
        <Pod as Watched>::selectors(scope)
    }
    fn change(&self) -> Option<Change> {
        self.info.clone().map(Change::Pod)
    }
    fn into_change(self) -> Option<Change> {
        self.info.map(Change::Pod)
    }
    fn gone(&self) -> Change {
        Change::PodGone { uid: self.uid().to_string() }
    }
}

impl Watched for ControllerRevision {
    const RESOURCE: Resource = Resource::Revisions;
    fn api(client: Client, scope: &Scope) -> Api<Self> {
        scoped(client, scope)
    }
    fn change(&self) -> Option<Change> {
        RevisionInfo::from_revision(self).map(Change::Revision)
    }
    fn gone(&self) -> Change {
        let (namespace, name) = namespace_name(&self.metadata);
        Change::RevisionGone { namespace, name }
    }
}

impl Watched for Service {
    const RESOURCE: Resource = Resource::Services;
    fn api(client: Client, scope: &Scope) -> Api<Self> {
        scoped(client, scope)
    }
    fn change(&self) -> Option<Change> {
        Some(Change::Service(ServiceInfo::from(self)))
    }
    fn gone(&self) -> Change {
        let (namespace, name) = namespace_name(&self.metadata);
        Change::ServiceGone { namespace, name }
    }
}

/// Every pod no DaemonSet controls, in every namespace (the joins' workload index).
impl Watched for WorkloadWire {
    const RESOURCE: Resource = Resource::Workloads;
    fn api(client: Client, _scope: &Scope) -> Api<Self> {
        Api::all(client)
    }
    /// The daemon pods are the pod watch's: the server leaves them out.
    fn selectors(_scope: &Scope) -> Selectors {
        Selectors { labels: Some(crate::cluster::workloads::NOT_DAEMON_PODS.into()), fields: None }
    }
    fn change(&self) -> Option<Change> {
        self.info.clone().map(Change::Workload)
    }
    fn into_change(self) -> Option<Change> {
        self.info.map(Change::Workload)
    }
    fn gone(&self) -> Change {
        Change::WorkloadGone { uid: self.uid().to_string(), node: self.info.as_ref().and_then(|i| i.node.clone()) }
    }
}

/// Starts every watcher; they stop when `tx` is closed or the handles are aborted.
pub fn spawn(cluster: Cluster, scope: Scope, tx: mpsc::Sender<Update>) -> Vec<tokio::task::JoinHandle<()>> {
    spawn_only(cluster, scope, tx, &Resource::ALL)
}

/// Every watcher, and the workload pods' for the joins (what the TUI watches).
pub fn spawn_with_workloads(cluster: Cluster, scope: Scope, tx: mpsc::Sender<Update>) -> Vec<tokio::task::JoinHandle<()>> {
    spawn_only(cluster, scope, tx, &Resource::WITH_WORKLOADS)
}

/// Starts the watchers of `resources` only (coverage needs DaemonSets, Nodes and Pods).
pub fn spawn_only(cluster: Cluster, scope: Scope, tx: mpsc::Sender<Update>, resources: &[Resource]) -> Vec<tokio::task::JoinHandle<()>> {
    Resource::ALL
        .into_iter()
        .chain([Resource::Workloads])
        .filter(|r| resources.contains(r))
        .map(|r| match r {
            Resource::DaemonSets => start::<DaemonSet>(&cluster, &scope, tx.clone()),
            Resource::Nodes => start::<Node>(&cluster, &scope, tx.clone()),
            // Decoded straight into the model's view (see `wire`), not as full Pods.
            Resource::Pods => start::<PodWire>(&cluster, &scope, tx.clone()),
            Resource::Revisions => start::<ControllerRevision>(&cluster, &scope, tx.clone()),
            Resource::Services => start::<Service>(&cluster, &scope, tx.clone()),
            Resource::Workloads => start::<WorkloadWire>(&cluster, &scope, tx.clone()),
        })
        .collect()
}

fn start<K: Watched>(cluster: &Cluster, scope: &Scope, tx: mpsc::Sender<Update>) -> tokio::task::JoinHandle<()> {
    let (api, selectors, hint, timeouts, watch_list) =
        (K::api(cluster.client.clone(), scope), K::selectors(scope), cluster.retry_after.clone(), cluster.timeouts, cluster.fetch);
    tokio::spawn(async move {
        if tx.send(Update::Sync(K::RESOURCE, SyncState::Syncing)).await.is_ok() {
            list_then_watch(api, selectors, hint, timeouts, watch_list, Feed(tx)).await;
        }
    })
}

/// The loop's events as model changes and sync states of one resource.
struct Feed(mpsc::Sender<Update>);

impl<K: Watched> Sink<K> for Feed {
    async fn send(&mut self, event: Event<K>) -> bool {
        let r = K::RESOURCE;
        let update = match event {
            Event::Relisting => Update::Change(Change::ResyncStart(r)),
            Event::Applied(o) => match o.into_change() {
                Some(c) => Update::Change(c),
                None => return true,
            },
            Event::Deleted(o) => Update::Change(o.gone()),
            Event::Listed => {
                if self.0.send(Update::Change(Change::ResyncDone(r))).await.is_err() {
                    return false;
                }
                Update::Sync(r, SyncState::Live)
            }
            Event::Resumed => Update::Sync(r, SyncState::Live),
            Event::Failing { error, retry_in } => Update::Sync(
                r,
                SyncState::Reconnecting { reason: error.to_string(), failure: SyncFailure::of(&error), fatal: error.is_fatal(), retry_in },
            ),
        };
        self.0.send(update).await.is_ok()
    }

    async fn total(&mut self, objects: u64) -> bool {
        self.0.send(Update::Change(Change::ListTotal(K::RESOURCE, objects))).await.is_ok()
    }
}

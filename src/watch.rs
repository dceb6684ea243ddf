//! Watch streams → compact changes. Runs on the async runtime, never on the UI thread:
//! kube-runtime watchers (list once, then watch; relist only when the server says 410)
//! for DaemonSets, Nodes, and the Pods that DaemonSets own, narrowed on the server by
//! the `controller-revision-hash` label and confirmed by ownerReferences here; plus the
//! DaemonSets' ControllerRevisions (rollout history) and Services (how daemons are reached),
//! both small.

use std::time::Instant;

use futures::StreamExt;
use k8s_openapi::api::apps::v1::{ControllerRevision, DaemonSet};
use k8s_openapi::api::core::v1::{Node, Pod, Service};
use kube::runtime::WatchStreamExt;
use kube::runtime::watcher::{self, Event};
use kube::{Api, Client};
use tokio::sync::mpsc;

use crate::model::{Change, DsInfo, NodeInfo, PodInfo, Resource, RevisionInfo, ServiceInfo};

/// Where a resource's stream stands, for the status line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SyncState {
    Syncing,
    Live,
    /// The stream failed and is retrying with backoff; the message says why.
    Reconnecting(String),
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
    let mut ds_cfg = watcher::Config::default();
    if let Some(s) = &scope.selector {
        ds_cfg = ds_cfg.labels(s);
    }
    let pod_cfg = watcher::Config::default().labels("controller-revision-hash");
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
            watcher::Config::default(),
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
            watcher::Config::default(),
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
            watcher::Config::default(),
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

async fn run<K>(
    api: Api<K>,
    cfg: watcher::Config,
    resource: Resource,
    tx: mpsc::Sender<Update>,
    apply: impl Fn(&K) -> Option<Change> + Send + 'static,
    gone: impl Fn(&K) -> Change + Send + 'static,
) where
    K: kube::Resource + Clone + serde::de::DeserializeOwned + std::fmt::Debug + Send + 'static,
{
    let _ = tx.send(Update::Sync(resource, SyncState::Syncing)).await;
    let mut stream = watcher::watcher(api, cfg).default_backoff().boxed();
    let mut last_error: Option<Instant> = None;
    while let Some(ev) = stream.next().await {
        let out = match ev {
            Ok(Event::Init) => vec![Update::Change(Change::ResyncStart(resource))],
            Ok(Event::InitApply(o)) | Ok(Event::Apply(o)) => apply(&o).map(Update::Change).into_iter().collect(),
            Ok(Event::InitDone) => vec![Update::Change(Change::ResyncDone(resource)), Update::Sync(resource, SyncState::Live)],
            Ok(Event::Delete(o)) => vec![Update::Change(gone(&o))],
            Err(e) => {
                tracing::warn!(?resource, error = %e, "watch failed; retrying with backoff");
                last_error = Some(Instant::now());
                vec![Update::Sync(resource, SyncState::Reconnecting(crate::errors::describe_watch_error(&e)))]
            }
        };
        if last_error.is_some() && out.iter().any(|u| matches!(u, Update::Change(_))) {
            last_error = None;
            if tx.send(Update::Sync(resource, SyncState::Live)).await.is_err() {
                return;
            }
        }
        for u in out {
            if tx.send(u).await.is_err() {
                return;
            }
        }
    }
}

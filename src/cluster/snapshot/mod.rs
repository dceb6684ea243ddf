//! `daemonscope snapshot`: lists a live cluster's nodes, DaemonSets (in scope), their
//! ControllerRevisions and daemon pods, the PriorityClasses those pods use and the
//! Services that select them, in pages, and writes them as a simulator scenario
//! ([`scenario`]) to rehearse changes on.
//!
//! May import: `cluster::connect`, `cluster::errors`, `cluster::pages`, `cluster::watch` (the scope), `k8s`.

pub mod redact;
pub mod scenario;

use k8s_openapi::api::apps::v1::{ControllerRevision, DaemonSet};
use k8s_openapi::api::core::v1::{Node, Pod, Service};
use k8s_openapi::api::scheduling::v1::PriorityClass;
use kube::Api;
use kube::api::ListParams;

use crate::cluster::connect::Cluster;
use crate::cluster::errors::ClusterError;
use crate::cluster::pages::list_all;
use crate::cluster::watch::Scope;

pub use scenario::Objects;

/// Whether a snapshot can be written to `path`, asked before the cluster is listed (a
/// big cluster takes minutes): its directory must exist, and it must not be one.
pub fn check_output(path: &std::path::Path) -> Result<(), String> {
    let dir = path.parent().filter(|d| !d.as_os_str().is_empty()).unwrap_or(std::path::Path::new("."));
    match std::fs::metadata(dir) {
        Ok(m) if m.is_dir() => {}
        Ok(_) => return Err(format!("cannot write {}: {} is not a directory", path.display(), dir.display())),
        Err(e) => return Err(format!("cannot write {}: {}: {e}", path.display(), dir.display())),
    }
    if path.is_dir() {
        return Err(format!("cannot write {}: is a directory", path.display()));
    }
    Ok(())
}

fn api<K: kube::Resource<Scope = k8s_openapi::NamespaceResourceScope, DynamicType = ()>>(
    cluster: &Cluster,
    namespace: Option<&str>,
) -> Api<K> {
    match namespace {
        Some(ns) => Api::namespaced(cluster.client.clone(), ns),
        None => Api::all(cluster.client.clone()),
    }
}

/// The scenario YAML of what `cluster` holds in `scope`, or why not in one line.
pub async fn scenario_yaml(
    cluster: &Cluster,
    context: &str,
    scope: &Scope,
    anonymize: Option<scenario::Anonymize>,
) -> Result<String, String> {
    let objects = fetch(cluster, scope).await.map_err(|e| format!("cannot snapshot context {context}: {e}"))?;
    // Nothing in scope is a mistake, as for `status`: not a node-only file and exit 0.
    if objects.daemonsets.is_empty() {
        return Err(format!("no DaemonSet matches {} in context {context}", scope.describe()));
    }
    let name = if anonymize.is_some() { "snapshot (anonymized)".to_string() } else { format!("snapshot of {context}") };
    Ok(scenario::scenario_with(&objects, &name, anonymize))
}

/// Lists what a snapshot holds. DaemonSets follow the scope (`-n`, `-l`); nodes are all.
pub async fn fetch(cluster: &Cluster, scope: &Scope) -> Result<Objects, ClusterError> {
    let ns = scope.namespace.as_deref();
    let nodes = list_all(cluster, &Api::<Node>::all(cluster.client.clone()), ListParams::default()).await?;
    let mut lp = ListParams::default();
    if let Some(l) = &scope.selector {
        lp = lp.labels(l);
    }
    let daemonsets = list_all(cluster, &api::<DaemonSet>(cluster, ns), lp).await?;
    let uids: std::collections::HashSet<String> = daemonsets.iter().filter_map(|d| d.metadata.uid.clone()).collect();
    let owned = |refs: &Option<Vec<k8s_openapi::apimachinery::pkg::apis::meta::v1::OwnerReference>>| {
        refs.iter().flatten().any(|o| o.controller == Some(true) && uids.contains(&o.uid))
    };
    let revisions: Vec<ControllerRevision> = list_all(cluster, &api::<ControllerRevision>(cluster, ns), ListParams::default())
        .await?
        .into_iter()
        .filter(|r| owned(&r.metadata.owner_references))
        .collect();
    // Daemon pods carry the revision hash label; the owner decides.
    let pods: Vec<Pod> = list_all(cluster, &api::<Pod>(cluster, ns), ListParams::default().labels("controller-revision-hash"))
        .await?
        .into_iter()
        .filter(|p| owned(&p.metadata.owner_references))
        .collect();
    let templates: Vec<std::collections::BTreeMap<String, String>> =
        daemonsets.iter().filter_map(|d| d.spec.as_ref()?.template.metadata.as_ref()?.labels.clone()).collect();
    let selects = |s: &Service| {
        let Some(sel) = s.spec.as_ref().and_then(|s| s.selector.as_ref()).filter(|s| !s.is_empty()) else { return false };
        templates.iter().any(|labels| sel.iter().all(|(k, v)| labels.get(k) == Some(v)))
    };
    let services: Vec<Service> =
        list_all(cluster, &api::<Service>(cluster, ns), ListParams::default()).await?.into_iter().filter(selects).collect();
    // The classes the templates name, and the global default the pods without one got.
    let class_names: std::collections::BTreeSet<String> = daemonsets
        .iter()
        .filter_map(|d| d.spec.as_ref()?.template.spec.as_ref()?.priority_class_name.clone())
        .chain(pods.iter().filter_map(|p| p.spec.as_ref()?.priority_class_name.clone()))
        .filter(|n| !n.is_empty())
        .collect();
    let classes = Api::<PriorityClass>::all(cluster.client.clone());
    let mut priority_classes = Vec::new();
    for name in class_names {
        if let Some(pc) = classes.get_opt(&name).await.map_err(|e| cluster.error(e))? {
            priority_classes.push(pc);
        }
    }
    Ok(Objects { nodes, daemonsets, revisions, pods, services, priority_classes })
}

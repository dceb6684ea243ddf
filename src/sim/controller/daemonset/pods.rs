//! The DaemonSet controller's view of its pods: the labels it stamps on them, which
//! DaemonSet owns which pod, which node a pod targets, and whether it is updated,
//! ready or available (`pkg/controller/daemon/util`, `podutil`).
//!
//! May import: `sim::objects`, `sim::store`, `k8s::eligibility`.

use std::collections::HashMap;
use std::sync::Arc;

use jiff::{SignedDuration, Timestamp};
use k8s_openapi::api::apps::v1 as apps;
use k8s_openapi::api::core::v1 as core;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::OwnerReference;

use crate::k8s::eligibility;
use crate::sim::objects::TEMPLATE_GENERATION_ANNOTATION;
use crate::sim::store::Store;

pub const REVISION_HASH_LABEL: &str = "controller-revision-hash";
pub const TEMPLATE_GENERATION_LABEL: &str = "pod-template-generation";

pub fn template_generation(ds: &apps::DaemonSet) -> Option<String> {
    ds.metadata.annotations.as_ref().and_then(|a| a.get(TEMPLATE_GENERATION_ANNOTATION)).cloned()
}

/// `util.IsPodUpdated`.
pub fn is_pod_updated(pod: &core::Pod, hash: &str, tpl_gen: Option<&str>) -> bool {
    let l = pod.metadata.labels.as_ref();
    let h = l.and_then(|l| l.get(REVISION_HASH_LABEL));
    let g = l.and_then(|l| l.get(TEMPLATE_GENERATION_LABEL));
    (h.is_some() && h.map(String::as_str) == Some(hash)) || (tpl_gen.is_some() && g.map(String::as_str) == tpl_gen)
}

/// `util.GetTargetNodeName` for a pod.
pub fn target_node(pod: &core::Pod) -> Option<String> {
    eligibility::target_node(pod.spec.as_ref()?)
}

pub fn is_ready(p: &core::Pod) -> bool {
    p.status.as_ref().and_then(|s| s.conditions.as_ref()).is_some_and(|c| c.iter().any(|c| c.type_ == "Ready" && c.status == "True"))
}

/// `podutil.IsPodAvailable`.
pub fn is_available(p: &core::Pod, min_ready: i32, now: Timestamp) -> bool {
    let Some(c) =
        p.status.as_ref().and_then(|s| s.conditions.as_ref()).and_then(|c| c.iter().find(|c| c.type_ == "Ready" && c.status == "True"))
    else {
        return false;
    };
    if min_ready == 0 {
        return true;
    }
    c.last_transition_time.as_ref().is_some_and(|t| t.0 + SignedDuration::from_secs(min_ready as i64) < now)
}

pub(super) fn phase(p: &core::Pod) -> &str {
    p.status.as_ref().and_then(|s| s.phase.as_deref()).unwrap_or("")
}

pub(super) fn terminating(p: &core::Pod) -> bool {
    p.metadata.deletion_timestamp.is_some()
}

/// Oldest first: bound before unbound, then creationTimestamp, then name
/// (`podByCreationTimestampAndPhase`).
pub(super) fn sort_oldest_first(pods: &mut [Arc<core::Pod>]) {
    pods.sort_by(|a, b| {
        let bound = |p: &core::Pod| p.spec.as_ref().and_then(|s| s.node_name.as_ref()).is_none();
        bound(a)
            .cmp(&bound(b))
            .then_with(|| a.metadata.creation_timestamp.as_ref().map(|t| t.0).cmp(&b.metadata.creation_timestamp.as_ref().map(|t| t.0)))
            .then_with(|| a.metadata.name.cmp(&b.metadata.name))
    });
}

pub(super) fn owned_by(p: &core::Pod, uid: &str) -> bool {
    p.metadata.owner_references.iter().flatten().any(|o| o.controller == Some(true) && o.uid == uid)
}

pub fn owner_ref(ds: &apps::DaemonSet) -> OwnerReference {
    OwnerReference {
        api_version: "apps/v1".into(),
        kind: "DaemonSet".into(),
        name: ds.metadata.name.clone().unwrap_or_default(),
        uid: ds.metadata.uid.clone().unwrap_or_default(),
        controller: Some(true),
        block_owner_deletion: Some(true),
    }
}

/// Pods by the uid of the DaemonSet that controls them.
pub(super) fn pods_by_owner(store: &Store) -> HashMap<String, Vec<Arc<core::Pod>>> {
    let (pods, _) = store.list::<core::Pod>(None);
    let mut by_owner: HashMap<String, Vec<Arc<core::Pod>>> = HashMap::new();
    for p in pods {
        let owner = p.metadata.owner_references.iter().flatten().find(|o| o.controller == Some(true) && o.kind == "DaemonSet");
        if let Some(o) = owner {
            by_owner.entry(o.uid.clone()).or_default().push(p.clone());
        }
    }
    by_owner
}

//! Adoption and release (`ClaimPods`, `ClaimControllerRevisions` in
//! `controller_ref_manager.go`): a DaemonSet that is not being deleted adopts the orphans
//! in its namespace that its selector matches — pods not being deleted, and
//! ControllerRevisions — by adding its controller reference, and releases the pods it
//! owns whose labels no longer match (a pod relabelled out of it keeps running, and the
//! node gets a new one). So pods and revisions created before their DaemonSet (a
//! snapshot replayed, or a DaemonSet deleted with `--cascade=orphan` and created again)
//! are taken over with the revision they run, not replaced.
//!
//! May import: `sim::controller::daemonset::pods`, `sim::store`, `k8s::selector`.

use std::sync::Arc;

use k8s_openapi::api::apps::v1 as apps;
use k8s_openapi::api::core::v1 as core;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;

use super::pods::owner_ref;
use crate::k8s::selector::LabelSelector;
use crate::sim::store::{SimObject, Store};

fn orphan(m: &ObjectMeta) -> bool {
    !m.owner_references.iter().flatten().any(|o| o.controller == Some(true))
}

/// Adopts the orphans of kind `T` (pods: not being deleted) that a live DaemonSet selects.
fn adopt<T: SimObject>(store: &Store, dss: &[&Arc<apps::DaemonSet>], skip: impl Fn(&T) -> bool) {
    let (items, _) = store.list::<T>(None);
    let orphans: Vec<&Arc<T>> = items.iter().filter(|o| orphan(o.metadata()) && !skip(o)).collect();
    if orphans.is_empty() {
        return;
    }
    for ds in dss.iter().filter(|d| d.metadata.deletion_timestamp.is_none()) {
        let Some(sel) = ds.spec.as_ref().and_then(|s| LabelSelector::from_k8s(&s.selector).ok()) else { continue };
        let ns = ds.metadata.namespace.as_deref();
        for o in &orphans {
            let m = o.metadata();
            let labels = m.labels.clone().unwrap_or_default();
            if m.namespace.as_deref() != ns || labels.is_empty() || !sel.matches(&labels) {
                continue;
            }
            let uid = m.uid.clone();
            let _ = store.modify::<T>(ns.unwrap_or(""), m.name.as_deref().unwrap_or(""), |x| {
                // Still the same orphan (the list may be stale by now).
                if x.metadata().uid != uid || !orphan(x.metadata()) {
                    return false;
                }
                x.metadata_mut().owner_references.get_or_insert_with(Vec::new).push(owner_ref(ds));
                true
            });
        }
    }
}

pub(super) fn adopt_orphans(store: &Store, dss: &[&Arc<apps::DaemonSet>]) {
    adopt::<core::Pod>(store, dss, |p| p.metadata.deletion_timestamp.is_some());
    adopt::<apps::ControllerRevision>(store, dss, |_| false);
}

/// Releases the pods of `ds` its selector no longer matches; returns the others.
pub(super) fn release_unmatched(store: &Store, ds: &apps::DaemonSet, pods: Vec<Arc<core::Pod>>) -> Vec<Arc<core::Pod>> {
    let Some(sel) = ds.spec.as_ref().and_then(|s| LabelSelector::from_k8s(&s.selector).ok()) else { return pods };
    if ds.metadata.deletion_timestamp.is_some() {
        return pods;
    }
    let uid = ds.metadata.uid.clone().unwrap_or_default();
    let (keep, release): (Vec<_>, Vec<_>) = pods.into_iter().partition(|p| p.metadata.labels.as_ref().is_some_and(|l| sel.matches(l)));
    for p in release {
        let ns = p.metadata.namespace.as_deref().unwrap_or("");
        let _ = store.modify::<core::Pod>(ns, p.metadata.name.as_deref().unwrap_or(""), |x| {
            let refs = x.metadata.owner_references.get_or_insert_with(Vec::new);
            let before = refs.len();
            refs.retain(|r| r.uid != uid);
            let changed = refs.len() != before;
            if refs.is_empty() {
                x.metadata.owner_references = None;
            }
            changed
        });
    }
    keep
}

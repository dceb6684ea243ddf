//! The DaemonSet controller (`pkg/controller/daemon`): one pod per eligible node,
//! ControllerRevisions, RollingUpdate with maxUnavailable / maxSurge, OnDelete,
//! misscheduled pod removal, status with the exact meanings, and Events.
//!
//! This file holds the controller and one sync's order of work; each concern is a
//! submodule: `manage` (which nodes get or lose pods), `rolling` (the rolling update),
//! `status`, `history` (ControllerRevisions), `claim` (adopting orphans) and `pods`
//! (what they share about pods).
//!
//! May import: its submodules, `sim::store`, `k8s::eligibility`, `k8s::intstr`.

mod claim;
mod history;
mod manage;
pub(crate) mod pods;
mod rolling;
mod status;

pub use history::compute_hash;
pub use manage::new_pod;
pub use pods::{
    REVISION_HASH_LABEL, TEMPLATE_GENERATION_LABEL, is_available, is_pod_updated, is_ready, owner_ref, target_node, template_generation,
};

use std::sync::Arc;

use jiff::Timestamp;
use k8s_openapi::api::apps::v1 as apps;
use k8s_openapi::api::core::v1 as core;

use crate::k8s::eligibility::{NodeFacts, Placement};
use crate::sim::store::Store;

/// `BurstReplicas`: at most this many creates and deletes per sync.
const BURST: usize = 250;

pub struct DaemonSetController {
    /// Failed-pod deletion backoff per `<dsUID>/<node>`: (next allowed, current delay).
    failed_backoff: manage::FailedBackoff,
    /// Creates and deletes per DaemonSet per sync (`BurstReplicas`); lifted while a
    /// scenario settles, where no API server is being protected.
    pub burst: usize,
}

impl Default for DaemonSetController {
    fn default() -> Self {
        DaemonSetController { failed_backoff: Default::default(), burst: BURST }
    }
}

impl DaemonSetController {
    pub fn sync_all(&mut self, store: &Store, now: Timestamp, record: bool) {
        let (dss, _) = store.list::<apps::DaemonSet>(None);
        if dss.is_empty() {
            return;
        }
        let (nodes, _) = store.list::<core::Node>(None);
        let facts: Vec<NodeFacts> = nodes.iter().map(|n| NodeFacts::from_node(n)).collect();
        let live: Vec<_> = dss.iter().filter(|d| d.metadata.deletion_timestamp.is_none()).collect();
        claim::adopt_orphans(store, &live);
        let mut by_owner = pods::pods_by_owner(store);
        for ds in &live {
            let pods = by_owner.remove(ds.metadata.uid.as_deref().unwrap_or("")).unwrap_or_default();
            let pods = claim::release_unmatched(store, ds, pods);
            self.sync(store, ds, &facts, pods, now, record);
        }
        // Status from what the syncs left behind (one listing for all DaemonSets).
        let mut by_owner = pods::pods_by_owner(store);
        for ds in &live {
            let (ns, name) = (ds.metadata.namespace.as_deref().unwrap_or(""), ds.metadata.name.as_deref().unwrap_or(""));
            let Some(ds) = store.get::<apps::DaemonSet>(ns, name) else { continue };
            let pods = by_owner.remove(ds.metadata.uid.as_deref().unwrap_or("")).unwrap_or_default();
            status::update_status(store, &ds, &facts, pods, now);
        }
    }

    fn sync(
        &mut self,
        store: &Store,
        ds: &Arc<apps::DaemonSet>,
        nodes: &[NodeFacts],
        pods: Vec<Arc<core::Pod>>,
        now: Timestamp,
        record: bool,
    ) {
        let Some(spec) = ds.spec.clone() else { return };
        let uid = ds.metadata.uid.clone().unwrap_or_default();
        let collision = ds.status.as_ref().and_then(|s| s.collision_count);
        // The hash of the revision that holds this template, if one does (adopted, or
        // named by another controller's hash); else a new one.
        let hash = history::current_hash(store, ds).unwrap_or_else(|| compute_hash(&spec.template, collision));
        history::ensure_revision(store, ds, &hash);
        let tpl_gen = template_generation(ds);
        let placement = spec.template.spec.as_ref().map(Placement::from_pod_spec).unwrap_or_default();
        let surge_allowed = spec.update_strategy.as_ref().is_some_and(|u| u.type_.as_deref() == Some("RollingUpdate"))
            && spec
                .update_strategy
                .as_ref()
                .and_then(|u| u.rolling_update.as_ref())
                .and_then(|r| r.max_surge.as_ref())
                .is_some_and(|s| crate::k8s::intstr::scaled_value(s, 100).unwrap_or(0) > 0);
        let min_ready = spec.min_ready_seconds.unwrap_or(0);
        let revision = (hash.as_str(), tpl_gen.as_deref());

        let (by_node, unbound_orphans) = manage::pods_by_node(&uid, nodes, pods);
        let plan = manage::plan(
            &mut self.failed_backoff,
            store,
            ds,
            nodes,
            &placement,
            (&by_node, unbound_orphans),
            revision,
            surge_allowed,
            min_ready,
            now,
            record,
        );
        let wrote = manage::apply(store, ds, &hash, tpl_gen.as_deref(), plan, self.burst, record);

        // rollingUpdate() only when manage() had nothing to do (expectations satisfied).
        if !wrote && let Some(plan) = rolling::plan(&spec, nodes, &placement, &by_node, revision, min_ready, now) {
            manage::apply(store, ds, &hash, tpl_gen.as_deref(), plan, self.burst, record);
        }
        history::cleanup_history(store, ds, &hash);
    }
}

//! DaemonSet status (`updateDaemonSetStatus`): desired, current, misscheduled, ready,
//! available and updated counts from the pods the syncs left behind.
//!
//! May import: `sim::controller::daemonset::{pods, history}`, `sim::store`,
//! `k8s::eligibility`.

use std::collections::HashMap;
use std::sync::Arc;

use jiff::Timestamp;
use k8s_openapi::api::apps::v1 as apps;
use k8s_openapi::api::core::v1 as core;

use super::history::{compute_hash, current_hash};
use super::pods::{is_available, is_pod_updated, is_ready, phase, sort_oldest_first, target_node, template_generation, terminating};
use crate::k8s::eligibility::{self, NodeFacts, Placement};
use crate::sim::store::Store;

/// `updateDaemonSetStatus`.
pub(super) fn update_status(store: &Store, ds: &apps::DaemonSet, nodes: &[NodeFacts], pods: Vec<Arc<core::Pod>>, now: Timestamp) {
    let spec = ds.spec.clone().unwrap_or_default();
    let placement = spec.template.spec.as_ref().map(Placement::from_pod_spec).unwrap_or_default();
    // The current revision's hash, as the sync that just ran used it.
    let hash = current_hash(store, ds).unwrap_or_else(|| compute_hash(&spec.template, ds.status.as_ref().and_then(|s| s.collision_count)));
    let tpl_gen = template_generation(ds);
    let min_ready = spec.min_ready_seconds.unwrap_or(0);
    let ns = ds.metadata.namespace.clone().unwrap_or_default();
    let mut by_node: HashMap<String, Vec<Arc<core::Pod>>> = HashMap::new();
    for p in pods {
        if matches!(phase(&p), "Failed" | "Succeeded") && terminating(&p) {
            continue;
        }
        if let Some(n) = target_node(&p) {
            by_node.entry(n).or_default().push(p);
        }
    }
    let (mut desired, mut current, mut mis, mut ready, mut available, mut updated) = (0, 0, 0, 0, 0, 0);
    for node in nodes {
        let should_run = eligibility::evaluate(node, &placement).should_run;
        let here = by_node.get_mut(&node.name);
        let scheduled = here.as_ref().is_some_and(|v| !v.is_empty());
        if should_run {
            desired += 1;
        }
        if !scheduled {
            continue;
        }
        if !should_run {
            mis += 1;
            continue;
        }
        current += 1;
        let v = here.expect("scheduled");
        sort_oldest_first(v);
        let pod = &v[0];
        if is_ready(pod) {
            ready += 1;
            if is_available(pod, min_ready, now) {
                available += 1;
            }
        }
        if is_pod_updated(pod, &hash, tpl_gen.as_deref()) {
            updated += 1;
        }
    }
    let nz = |x: i32| (x != 0).then_some(x);
    let old = ds.status.clone().unwrap_or_default();
    let new = apps::DaemonSetStatus {
        collision_count: old.collision_count,
        conditions: old.conditions.clone(),
        current_number_scheduled: current,
        desired_number_scheduled: desired,
        number_available: nz(available),
        number_misscheduled: mis,
        number_ready: ready,
        number_unavailable: nz(desired - available),
        observed_generation: ds.metadata.generation,
        updated_number_scheduled: nz(updated),
    };
    if new != old {
        let name = ds.metadata.name.clone().unwrap_or_default();
        let uid = ds.metadata.uid.clone();
        let _ = store.modify::<apps::DaemonSet>(&ns, &name, |d| {
            if d.metadata.uid != uid {
                return false;
            }
            d.status = Some(new);
            true
        });
    }
}

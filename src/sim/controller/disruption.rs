//! The disruption controller (`pkg/controller/disruption/disruption.go`): keeps each
//! PodDisruptionBudget's status — expected pods, desired and current healthy, the
//! disruptions allowed now, and the pods the eviction subresource has let go
//! (`disruptedPods`, dropped when the pod is gone or deleting, or after
//! `DeletionTimeout`) — from the pods its selector matches. A budget whose pods have no
//! controller with a scale (a bare pod, a DaemonSet's; a ReplicaSet has one) while it needs one
//! (`maxUnavailable`, a percentage `minAvailable`) gets the controller's `failSafe`: no
//! disruption allowed, `SyncFailed` with the reason.
//!
//! May import: `sim::store`, `sim::controller::daemonset`, `k8s::{disruption, selector}`.

use std::collections::BTreeMap;
use std::sync::Arc;

use jiff::Timestamp;
use k8s_openapi::api::apps::v1::ReplicaSet;
use k8s_openapi::api::core::v1 as core;
use k8s_openapi::api::policy::v1::{PodDisruptionBudget, PodDisruptionBudgetStatus};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{Condition, Time};

use super::daemonset::pods::is_ready;
use crate::k8s::disruption::budget;
use crate::k8s::selector::LabelSelector;
use crate::sim::store::Store;

/// `DeletionTimeout`: how long an eviction's entry in `disruptedPods` holds a pod out of
/// the healthy count before the controller assumes it will not be deleted.
pub const DELETION_TIMEOUT: jiff::SignedDuration = jiff::SignedDuration::from_secs(120);

/// The pods a budget covers: its namespace's pods its selector matches (a nil selector
/// matches none).
pub fn covered<'a>(pdb: &PodDisruptionBudget, pods: &'a [Arc<core::Pod>]) -> Vec<&'a core::Pod> {
    let ns = pdb.metadata.namespace.as_deref().unwrap_or("");
    let Some(sel) = pdb.spec.as_ref().and_then(|s| s.selector.as_ref()) else { return Vec::new() };
    let Ok(sel) = LabelSelector::from_k8s(sel) else { return Vec::new() };
    let empty = BTreeMap::new();
    pods.iter()
        .filter(|p| p.metadata.namespace.as_deref() == Some(ns))
        .filter(|p| sel.matches(p.metadata.labels.as_ref().unwrap_or(&empty)))
        .map(|p| &**p)
        .collect()
}

/// The status the controller writes for `pdb` now.
pub fn status(
    pdb: &PodDisruptionBudget,
    pods: &[Arc<core::Pod>],
    replicasets: &[Arc<ReplicaSet>],
    now: Timestamp,
) -> PodDisruptionBudgetStatus {
    let old = pdb.status.clone().unwrap_or_default();
    let mine = covered(pdb, pods);
    let spec = pdb.spec.clone().unwrap_or_default();
    // buildDisruptedPodMap: entries for pods still there, not deleting, not timed out.
    let disrupted: BTreeMap<String, Time> = old
        .disrupted_pods
        .clone()
        .unwrap_or_default()
        .into_iter()
        .filter(|(name, t)| {
            mine.iter().any(|p| p.metadata.name.as_deref() == Some(name) && p.metadata.deletion_timestamp.is_none())
                && t.0 + DELETION_TIMEOUT >= now
        })
        .collect();
    let healthy = mine
        .iter()
        .filter(|p| p.metadata.deletion_timestamp.is_none())
        .filter(|p| !disrupted.contains_key(p.metadata.name.as_deref().unwrap_or("")))
        .filter(|p| is_ready(p))
        .count() as i32;
    let scale = || expected_scale(&mine, replicasets);
    let generation = pdb.metadata.generation.unwrap_or(0);
    match budget(spec.min_available.as_ref(), spec.max_unavailable.as_ref(), mine.len() as i32, healthy, scale) {
        Ok(b) => {
            let mut st = PodDisruptionBudgetStatus {
                current_healthy: b.current_healthy,
                desired_healthy: b.desired_healthy,
                expected_pods: b.expected_pods,
                disruptions_allowed: b.disruptions_allowed,
                disrupted_pods: (!disrupted.is_empty()).then_some(disrupted),
                observed_generation: Some(generation),
                conditions: old.conditions.clone(),
            };
            let (state, reason) = if st.disruptions_allowed > 0 { ("True", "SufficientPods") } else { ("False", "InsufficientPods") };
            set_condition(&mut st, state, reason, "", now);
            st
        }
        Err(e) => {
            // failSafe: the old numbers, no disruption, the reason said; observedGeneration
            // stays, so the eviction subresource answers "still being processed".
            let mut st = PodDisruptionBudgetStatus { disruptions_allowed: 0, ..old };
            set_condition(&mut st, "False", "SyncFailed", &e, now);
            st
        }
    }
}

/// `apimeta.SetStatusCondition` of the `DisruptionAllowed` condition: the transition
/// time moves only when the status does.
fn set_condition(st: &mut PodDisruptionBudgetStatus, status: &str, reason: &str, message: &str, now: Timestamp) {
    let observed = st.observed_generation;
    let conds = st.conditions.get_or_insert_with(Vec::new);
    let since = conds.iter().find(|c| c.type_ == "DisruptionAllowed" && c.status == status).map(|c| c.last_transition_time.clone());
    conds.retain(|c| c.type_ != "DisruptionAllowed");
    conds.push(Condition {
        type_: "DisruptionAllowed".into(),
        status: status.into(),
        reason: reason.into(),
        message: message.into(),
        observed_generation: observed,
        last_transition_time: since.unwrap_or(Time(now)),
    });
}

/// `getExpectedScale`: the summed scale (`spec.replicas`) of the pods' controllers, each
/// counted once. ReplicaSets have one; a DaemonSet has no scale subresource ("found no
/// controllers for pod"), a bare pod no controller ("found no controller ref for pod").
fn expected_scale(pods: &[&core::Pod], replicasets: &[Arc<ReplicaSet>]) -> Result<i32, String> {
    let mut seen = std::collections::BTreeMap::new();
    for p in pods {
        let name = p.metadata.name.as_deref().unwrap_or("");
        let Some(owner) = p.metadata.owner_references.iter().flatten().find(|o| o.controller == Some(true)) else {
            return Err(format!("found no controller ref for pod {name:?}"));
        };
        if seen.contains_key(&owner.uid) {
            continue;
        }
        let rs = replicasets.iter().find(|r| owner.kind == "ReplicaSet" && r.metadata.uid.as_deref() == Some(owner.uid.as_str()));
        let Some(rs) = rs else { return Err(format!("found no controllers for pod {name:?}")) };
        seen.insert(owner.uid.clone(), rs.spec.as_ref().and_then(|s| s.replicas).unwrap_or(1));
    }
    Ok(seen.values().sum())
}

/// One pass over every budget: writes the status where it changed.
pub fn sync(store: &Store, now: Timestamp) {
    let (pdbs, _) = store.list::<PodDisruptionBudget>(None);
    if pdbs.is_empty() {
        return;
    }
    let (pods, _) = store.list::<core::Pod>(None);
    let (replicasets, _) = store.list::<ReplicaSet>(None);
    for pdb in pdbs {
        let st = status(&pdb, &pods, &replicasets, now);
        if pdb.status.as_ref() != Some(&st) {
            let ns = pdb.metadata.namespace.clone().unwrap_or_default();
            let name = pdb.metadata.name.clone().unwrap_or_default();
            let _ = store.modify::<PodDisruptionBudget>(&ns, &name, |o| {
                o.status = Some(st);
                true
            });
        }
    }
}

//! What the scheduler knows of each node's pods, and `DefaultPreemption`
//! (`pkg/scheduler/framework/plugins/defaultpreemption/default_preemption.go` and
//! `pkg/scheduler/framework/preemption/preemption.go`): for a pod that fits nowhere, the
//! victims on each node where removing pods could help (`k8s::fit::victims`), one node
//! picked as `pickOneNodeForPreemption` picks (the lowest highest-priority victim, then the
//! lowest sum of priorities, then the fewest victims), and there: each victim marked
//! `DisruptionTarget` (`PreemptionByScheduler`), an Event `Preempted` on it, and deleted
//! gracefully; the preemptor gets `status.nominatedNodeName` and binds once the victims are
//! gone. A pod whose nominated node still has a lower-priority pod terminating waits
//! (`PodEligibleToPreemptOthers`), as does a pod with `preemptionPolicy: Never`.
//! PodDisruptionBudgets, which only order the choice, are not read.
//!
//! May import: `sim::controller::events`, `sim::ops`, `sim::store`, `k8s::fit`, `k8s::podaffinity`.

use jiff::Timestamp;
use k8s_openapi::api::core::v1 as core;

use super::events;
use crate::k8s::fit::{self, Occupant, Resources};
use crate::sim::store::Store;

/// A pod bound to a node, as the scheduler's cache holds it.
#[derive(Debug, Clone, Default)]
pub struct Held {
    pub namespace: String,
    pub name: String,
    pub priority: i32,
    pub started: String,
    pub requests: Resources,
    pub ports: Vec<(i32, String)>,
    pub terminating: bool,
    /// Its labels and required anti-affinity terms (`InterPodAffinity`).
    pub terms: crate::k8s::podaffinity::PodTerms,
}

/// A node's allocatable and the pods on it, with their requests summed as they are added
/// (the scheduler cache's `NodeInfo.Requested`): checking a node costs the same however
/// many pods it runs.
#[derive(Debug, Default)]
pub struct Room {
    pub allocatable: Resources,
    pub pods: Vec<Held>,
    used: fit::Used,
}

impl Room {
    pub fn new(allocatable: Resources) -> Room {
        Room { allocatable, ..Default::default() }
    }

    pub fn occupants(&self) -> Vec<Occupant<'_>> {
        self.pods.iter().map(|p| Occupant { priority: p.priority, started: &p.started, requests: &p.requests, ports: &p.ports }).collect()
    }

    /// A pod is bound here.
    pub fn hold(&mut self, pod: Held) {
        self.used.add_pod(&pod.requests);
        self.pods.push(pod);
    }

    /// As [`fit::check`] of the pods held.
    pub fn check(&self, want: &Resources, ports: &[(i32, String)]) -> Option<fit::Misfit> {
        if !ports.is_empty()
            && let Some(i) = self.pods.iter().position(|p| p.ports.iter().any(|held| ports.contains(held)))
        {
            return Some(fit::Misfit::Port(i));
        }
        let short = fit::misfits(&self.allocatable, &self.used, want);
        (!short.is_empty()).then_some(fit::Misfit::Short(short))
    }
}

/// Why the preemptor may not preempt now (the post-filter's message), if so.
pub fn not_eligible(pod: &core::Pod, rooms: &std::collections::HashMap<String, Room>, priority: i32) -> Option<&'static str> {
    let spec = pod.spec.as_ref()?;
    if spec.preemption_policy.as_deref() == Some("Never") {
        return Some("not eligible due to preemptionPolicy=Never.");
    }
    let nominated = pod.status.as_ref().and_then(|s| s.nominated_node_name.as_deref()).filter(|n| !n.is_empty())?;
    let room = rooms.get(nominated)?;
    room.pods
        .iter()
        .any(|p| p.terminating && p.priority < priority)
        .then_some("not eligible due to a terminating pod on the nominated node.")
}

/// The node to preempt on, and its victims (indices into its room's pods), among the
/// candidates `(node, victims)`.
pub fn pick<'a>(
    rooms: &std::collections::HashMap<String, Room>,
    candidates: &'a [(String, Vec<usize>)],
) -> Option<&'a (String, Vec<usize>)> {
    candidates.iter().filter(|(_, v)| !v.is_empty()).min_by_key(|(node, v)| {
        let prios: Vec<i64> = v.iter().map(|i| i64::from(rooms[node].pods[*i].priority)).collect();
        (prios.iter().copied().max().unwrap_or(i64::MIN), prios.iter().sum::<i64>(), v.len())
    })
}

/// Evicts the victims on `node` for `pod` and nominates the node.
pub fn preempt(store: &Store, pod: &core::Pod, node: &str, victims: &[&Held], now: Timestamp, record: bool) {
    let uid = pod.metadata.uid.clone().unwrap_or_default();
    for v in victims {
        crate::sim::ops::mark_disruption_target(
            store,
            &v.namespace,
            &v.name,
            "PreemptionByScheduler",
            "default-scheduler: preempting to accommodate a higher priority pod",
            now,
        );
        if record && let Some(p) = store.get::<core::Pod>(&v.namespace, &v.name) {
            events::record(store, &*p, "Normal", "Preempted", format!("Preempted by pod {uid} on node {node}"), "default-scheduler");
        }
        let _ = crate::sim::ops::delete_object::<core::Pod>(store, &v.namespace, &v.name, &Default::default());
    }
    let (ns, name) = (pod.metadata.namespace.clone().unwrap_or_default(), pod.metadata.name.clone().unwrap_or_default());
    let _ = store.modify::<core::Pod>(&ns, &name, |p| {
        if p.metadata.uid.as_deref() != Some(uid.as_str()) {
            return false;
        }
        let st = p.status.get_or_insert_with(Default::default);
        if st.nominated_node_name.as_deref() == Some(node) {
            return false;
        }
        st.nominated_node_name = Some(node.to_string());
        true
    });
}

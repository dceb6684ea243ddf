//! The RollingUpdate strategy (`rollingUpdate`): with maxUnavailable, old pods go
//! while the budget allows; with maxSurge, new pods start beside old ones, which go
//! once the new ones are available.
//!
//! May import: `sim::controller::daemonset::{pods, manage}`, `k8s::eligibility`,
//! `k8s::intstr`.

use std::collections::HashMap;
use std::sync::Arc;

use jiff::Timestamp;
use k8s_openapi::api::apps::v1 as apps;
use k8s_openapi::api::core::v1 as core;
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;

use super::manage::{ByNode, Plan};
use super::pods::{is_available, is_pod_updated, terminating};
use crate::k8s::eligibility::{self, NodeFacts, Placement};

/// The rolling update's plan, or None when the strategy is not RollingUpdate.
pub(super) fn plan(
    spec: &apps::DaemonSetSpec,
    nodes: &[NodeFacts],
    placement: &Placement,
    by_node: &ByNode,
    (hash, tpl_gen): (&str, Option<&str>),
    min_ready: i32,
    now: Timestamp,
) -> Option<Plan> {
    if spec.update_strategy.as_ref().and_then(|u| u.type_.as_deref()).unwrap_or("RollingUpdate") != "RollingUpdate" {
        return None;
    }
    let desired = nodes.iter().filter(|n| eligibility::evaluate(n, placement).should_run).count() as i32;
    let ru = spec.update_strategy.as_ref().and_then(|u| u.rolling_update.clone()).unwrap_or_default();
    let (max_surge, max_unavail) = crate::k8s::intstr::surge_and_unavailable(
        &ru.max_surge.unwrap_or(IntOrString::Int(0)),
        &ru.max_unavailable.unwrap_or(IntOrString::Int(1)),
        desired,
    );
    Some(rolling_update(nodes, placement, by_node, hash, tpl_gen, max_surge, max_unavail, min_ready, now))
}

/// A node's updated pod and its old one, each if any.
type NewAndOld = (Option<Arc<core::Pod>>, Option<Arc<core::Pod>>);

/// Finds the (single) new and old pod on a node; false when there are several of a kind.
fn find_updated(pods: &[Arc<core::Pod>], hash: &str, tpl_gen: Option<&str>) -> Option<NewAndOld> {
    let (mut new, mut old) = (None, None);
    for p in pods {
        if terminating(p) {
            continue;
        }
        if is_pod_updated(p, hash, tpl_gen) {
            if new.is_some() {
                return None;
            }
            new = Some(p.clone());
        } else {
            if old.is_some() {
                return None;
            }
            old = Some(p.clone());
        }
    }
    Some((new, old))
}

/// `rollingUpdate`, both the maxUnavailable and the maxSurge variants.
#[allow(clippy::too_many_arguments)]
fn rolling_update(
    nodes: &[NodeFacts],
    placement: &Placement,
    by_node: &ByNode,
    hash: &str,
    tpl_gen: Option<&str>,
    max_surge: i32,
    max_unavail: i32,
    min_ready: i32,
    now: Timestamp,
) -> Plan {
    let mut plan = Plan { create: Vec::new(), delete: Vec::new() };
    let node_of: HashMap<&str, &NodeFacts> = nodes.iter().map(|n| (n.name.as_str(), n)).collect();
    if max_surge == 0 {
        let mut num_unavailable = 0;
        let mut candidates = Vec::new();
        // `updatedDesiredNodeCounts` adds every node that should run the daemon and has no
        // pod: such a node counts as unavailable (the manage loop creates its pod).
        num_unavailable +=
            nodes.iter().filter(|n| !by_node.contains_key(&n.name) && eligibility::evaluate(n, placement).should_run).count() as i32;
        for pods in by_node.values() {
            let Some((new, old)) = find_updated(pods, hash, tpl_gen) else {
                num_unavailable += 1;
                continue;
            };
            match (new, old) {
                (None, None) | (Some(_), Some(_)) => num_unavailable += 1,
                (Some(n), None) => {
                    if !is_available(&n, min_ready, now) {
                        num_unavailable += 1;
                    }
                }
                (None, Some(o)) => {
                    if !is_available(&o, min_ready, now) {
                        // Replaced at once, even over the budget, and counted.
                        plan.delete.push(o);
                        num_unavailable += 1;
                    } else {
                        candidates.push(o);
                    }
                }
            }
        }
        // Go iterates a map in random order; so do we, so no node is always first.
        use rand::seq::SliceRandom;
        candidates.shuffle(&mut rand::rng());
        let remaining = (max_unavail - num_unavailable).max(0) as usize;
        plan.delete.extend(candidates.into_iter().take(remaining));
        return plan;
    }
    let mut num_surge = 0;
    let mut candidates = Vec::new();
    for (node, pods) in by_node {
        let Some((new, old)) = find_updated(pods, hash, tpl_gen) else {
            num_surge += 1;
            continue;
        };
        match (new, old) {
            (_, None) => {}
            (None, Some(o)) => {
                if !is_available(&o, min_ready, now) {
                    let should_run = node_of.get(node.as_str()).is_some_and(|n| eligibility::evaluate(n, placement).should_run);
                    if should_run {
                        plan.create.push(node.clone());
                    } else {
                        plan.delete.push(o);
                    }
                } else {
                    candidates.push(node.clone());
                }
            }
            (Some(n), Some(o)) => {
                if !is_available(&n, min_ready, now) {
                    num_surge += 1;
                } else {
                    plan.delete.push(o);
                }
            }
        }
    }
    use rand::seq::SliceRandom;
    candidates.shuffle(&mut rand::rng());
    let remaining = (max_surge - num_surge).max(0) as usize;
    plan.create.extend(candidates.into_iter().take(remaining));
    plan
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::k8s::eligibility::NodeFacts;

    fn node(name: &str) -> NodeFacts {
        NodeFacts { name: name.into(), ..NodeFacts::default() }
    }

    fn pod(name: &str, node: &str, hash: &str, ready: bool) -> Arc<core::Pod> {
        let p: core::Pod = serde_json::from_value(serde_json::json!({
            "metadata": {"name": name, "namespace": "kube-system", "labels": {"controller-revision-hash": hash}},
            "spec": {"nodeName": node, "containers": []},
            "status": {"phase": "Running", "conditions": [{"type": "Ready", "status": if ready { "True" } else { "False" }}]}
        }))
        .unwrap();
        Arc::new(p)
    }

    fn deleted(plan: &Plan) -> Vec<String> {
        let mut v: Vec<String> = plan.delete.iter().filter_map(|p| p.metadata.name.clone()).collect();
        v.sort();
        v
    }

    /// update.go counts an eligible node without a pod, and an old pod that is not
    /// available (deleted at once), against maxUnavailable: with a budget of 1 either
    /// leaves no room for a healthy old pod.
    #[test]
    fn a_node_without_a_pod_and_an_unavailable_old_pod_use_up_the_budget() {
        let placement = Placement::default();
        let nodes = [node("a"), node("b")];
        let by_node: ByNode = [("b".to_string(), vec![pod("old-b", "b", "v1", true)])].into();
        let plan = rolling_update(&nodes, &placement, &by_node, "v2", None, 0, 1, 0, Timestamp::now());
        assert_eq!(deleted(&plan), Vec::<String>::new(), "node a has no pod: 1 unavailable, 1 allowed");

        let nodes = [node("c"), node("d")];
        let by_node: ByNode =
            [("c".to_string(), vec![pod("old-c", "c", "v1", false)]), ("d".to_string(), vec![pod("old-d", "d", "v1", true)])].into();
        let plan = rolling_update(&nodes, &placement, &by_node, "v2", None, 0, 1, 0, Timestamp::now());
        assert_eq!(deleted(&plan), ["old-c"], "the unavailable old pod goes and counts; the healthy one waits");
    }
}

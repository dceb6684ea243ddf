//! manage(): which nodes get a daemon pod and which pods go (podsShouldBeOnNode:
//! missing pods, failed and succeeded pods, duplicates, surge leftovers, misscheduled
//! and orphaned pods), and carrying out such a plan with its Events. The rolling
//! update makes plans of the same shape.
//!
//! May import: `sim::controller::daemonset::pods`, `sim::controller::events`,
//! `sim::ops`, `sim::objects`, `sim::store`, `k8s::eligibility`.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use jiff::{SignedDuration, Timestamp};
use k8s_openapi::api::apps::v1 as apps;
use k8s_openapi::api::core::v1 as core;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;

use super::pods::{
    REVISION_HASH_LABEL, TEMPLATE_GENERATION_LABEL, is_available, is_pod_updated, is_ready, owned_by, owner_ref, phase, sort_oldest_first,
    target_node, terminating,
};
use crate::k8s::eligibility::{self, NodeFacts, Placement};
use crate::sim::controller::events;
use crate::sim::objects::Strategy;
use crate::sim::ops::graceful_delete_pod;
use crate::sim::store::Store;

const COMPONENT: &str = "daemonset-controller";

/// A DaemonSet's pods by the node they target.
pub(super) type ByNode = BTreeMap<String, Vec<Arc<core::Pod>>>;

/// Failed-pod deletion backoff per `<dsUID>/<node>`: (next allowed, current delay).
pub(super) type FailedBackoff = HashMap<String, (Timestamp, SignedDuration)>;

pub(super) struct Plan {
    pub(super) create: Vec<String>,
    pub(super) delete: Vec<Arc<core::Pod>>,
}

/// The DaemonSet's pods by target node (terminal + deleted pods are dropped, as
/// getNodesToDaemonPods does), and its pods never bound whose node is gone.
pub(super) fn pods_by_node(uid: &str, nodes: &[NodeFacts], pods: Vec<Arc<core::Pod>>) -> (ByNode, Vec<Arc<core::Pod>>) {
    let mut by_node = ByNode::new();
    let mut unbound_orphans = Vec::new();
    let node_names: std::collections::HashSet<&str> = nodes.iter().map(|n| n.name.as_str()).collect();
    for p in pods.into_iter().filter(|p| owned_by(p, uid)) {
        let terminal = matches!(phase(&p), "Failed" | "Succeeded");
        if terminal && terminating(&p) {
            continue;
        }
        match target_node(&p) {
            Some(n) if node_names.contains(n.as_str()) => by_node.entry(n).or_default().push(p),
            // Pods never bound whose node is gone: the controller deletes them.
            _ if p.spec.as_ref().and_then(|s| s.node_name.as_ref()).is_none() && !terminating(&p) => unbound_orphans.push(p),
            _ => {}
        }
    }

    (by_node, unbound_orphans)
}

/// podsShouldBeOnNode for every node: what to create and delete.
#[allow(clippy::too_many_arguments)]
pub(super) fn plan(
    failed_backoff: &mut FailedBackoff,
    store: &Store,
    ds: &apps::DaemonSet,
    nodes: &[NodeFacts],
    placement: &Placement,
    (by_node, unbound_orphans): (&ByNode, Vec<Arc<core::Pod>>),
    (hash, tpl_gen): (&str, Option<&str>),
    surge_allowed: bool,
    min_ready: i32,
    now: Timestamp,
    record: bool,
) -> Plan {
    let ns = ds.metadata.namespace.clone().unwrap_or_default();
    let uid = ds.metadata.uid.clone().unwrap_or_default();
    let mut plan = Plan { create: Vec::new(), delete: unbound_orphans };
    for node in nodes {
        let e = eligibility::evaluate(node, placement);
        let here = by_node.get(&node.name).cloned().unwrap_or_default();
        if e.should_run && here.is_empty() {
            plan.create.push(node.name.clone());
        } else if e.should_continue_running {
            let mut running: Vec<Arc<core::Pod>> = Vec::new();
            for p in &here {
                if terminating(p) {
                    continue;
                }
                match phase(p) {
                    "Failed" => {
                        let key = format!("{uid}/{}", node.name);
                        let (next, delay) = failed_backoff.get(&key).cloned().unwrap_or((now, SignedDuration::from_secs(1)));
                        if now >= next {
                            if record {
                                events::record(
                                    store,
                                    ds,
                                    "Warning",
                                    "FailedDaemonPod",
                                    format!(
                                        "Found failed daemon pod {ns}/{} on node {}, will try to kill it",
                                        p.metadata.name.clone().unwrap_or_default(),
                                        node.name
                                    ),
                                    COMPONENT,
                                );
                            }
                            plan.delete.push(p.clone());
                            failed_backoff.insert(key, (now + delay, (delay * 2).min(SignedDuration::from_mins(15))));
                        }
                    }
                    "Succeeded" => {
                        if record {
                            events::record(
                                store,
                                ds,
                                "Normal",
                                "SucceededDaemonPod",
                                format!(
                                    "Found succeeded daemon pod {ns}/{} on node {}, will try to delete it",
                                    p.metadata.name.clone().unwrap_or_default(),
                                    node.name
                                ),
                                COMPONENT,
                            );
                        }
                        plan.delete.push(p.clone());
                    }
                    _ => running.push(p.clone()),
                }
            }
            sort_oldest_first(&mut running);
            if surge_allowed {
                let mut oldest_new: Option<Arc<core::Pod>> = None;
                let mut oldest_old: Option<Arc<core::Pod>> = None;
                for p in running {
                    let updated = is_pod_updated(&p, hash, tpl_gen);
                    if updated && oldest_new.is_none() {
                        oldest_new = Some(p);
                    } else if !updated && oldest_old.is_none() {
                        oldest_old = Some(p);
                    } else {
                        plan.delete.push(p);
                    }
                }
                if let (Some(n), Some(o)) = (&oldest_new, &oldest_old)
                    && (!is_ready(o) || is_available(n, min_ready, now))
                {
                    plan.delete.push(o.clone());
                }
            } else if running.len() > 1 {
                plan.delete.extend(running.into_iter().skip(1));
            }
        } else {
            plan.delete.extend(here.iter().filter(|p| !terminating(p)).cloned());
        }
    }
    plan
}

/// Carries out a plan: at most `burst` creates and `burst` deletes, each with its Event.
#[allow(clippy::too_many_arguments)]
pub(super) fn apply(
    store: &Store,
    ds: &apps::DaemonSet,
    hash: &str,
    tpl_gen: Option<&str>,
    plan: Plan,
    burst: usize,
    record: bool,
) -> bool {
    let mut wrote = false;
    for node in plan.create.iter().take(burst) {
        let mut pod = new_pod(ds, node, hash, tpl_gen);
        match pod.admit_create(store).and_then(|()| store.create(pod)) {
            Ok(p) => {
                wrote = true;
                if record {
                    events::record(
                        store,
                        ds,
                        "Normal",
                        "SuccessfulCreate",
                        format!("Created pod: {}", p.metadata.name.clone().unwrap_or_default()),
                        COMPONENT,
                    );
                }
            }
            Err(e) => {
                if record {
                    events::record(store, ds, "Warning", "FailedCreate", format!("Error creating: {}", e.message), COMPONENT);
                }
            }
        }
    }
    let mut seen = std::collections::HashSet::new();
    for p in plan.delete.iter().take(burst) {
        if !seen.insert(p.metadata.uid.clone()) {
            continue;
        }
        let ns = p.metadata.namespace.clone().unwrap_or_default();
        let name = p.metadata.name.clone().unwrap_or_default();
        match graceful_delete_pod(store, &ns, &name, p.metadata.uid.as_deref()) {
            Ok(()) => {
                wrote = true;
                if record {
                    events::record(store, ds, "Normal", "SuccessfulDelete", format!("Deleted pod: {name}"), COMPONENT);
                }
            }
            Err(e) if e.code == 404 => {}
            Err(e) => {
                if record {
                    events::record(store, ds, "Warning", "FailedDelete", format!("Error deleting: {}", e.message), COMPONENT);
                }
            }
        }
    }
    wrote
}

/// `NewPod` + `CreatePodTemplate` + node-name affinity.
pub fn new_pod(ds: &apps::DaemonSet, node: &str, hash: &str, tpl_gen: Option<&str>) -> core::Pod {
    let spec = ds.spec.clone().unwrap_or_default();
    let tm = spec.template.metadata.clone().unwrap_or_default();
    let mut labels = tm.labels.clone().unwrap_or_default();
    labels.insert(REVISION_HASH_LABEL.into(), hash.into());
    if let Some(g) = tpl_gen {
        labels.insert(TEMPLATE_GENERATION_LABEL.into(), g.into());
    }
    let mut ps = spec.template.spec.clone().unwrap_or_default();
    let mut tols: Vec<eligibility::Toleration> = ps.tolerations.iter().flatten().map(eligibility::Toleration::from).collect();
    eligibility::add_daemon_tolerations(&mut tols, ps.host_network.unwrap_or(false));
    ps.tolerations = Some(tols.iter().map(core::Toleration::from).collect());
    let pin = core::NodeSelector {
        node_selector_terms: vec![core::NodeSelectorTerm {
            match_expressions: None,
            match_fields: Some(vec![core::NodeSelectorRequirement {
                key: "metadata.name".into(),
                operator: "In".into(),
                values: Some(vec![node.into()]),
            }]),
        }],
    };
    let aff = ps.affinity.get_or_insert_with(Default::default);
    aff.node_affinity.get_or_insert_with(Default::default).required_during_scheduling_ignored_during_execution = Some(pin);
    let mut pod = core::Pod {
        metadata: ObjectMeta {
            generate_name: Some(format!("{}-", ds.metadata.name.clone().unwrap_or_default())),
            namespace: ds.metadata.namespace.clone(),
            labels: Some(labels),
            annotations: tm.annotations.clone(),
            owner_references: Some(vec![owner_ref(ds)]),
            ..Default::default()
        },
        spec: Some(ps),
        status: None,
    };
    pod.prepare_create();
    pod
}

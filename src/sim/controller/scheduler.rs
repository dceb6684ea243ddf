//! A scheduler that binds pods the way kube-scheduler's filters would: node-name
//! affinity pins, nodeSelector, required node affinity, NoSchedule/NoExecute taints,
//! `spec.unschedulable` and host ports. Pods that fit nowhere stay Pending with
//! `PodScheduled=False`, reason `Unschedulable`, and a `FailedScheduling` event.
//!
//! May import: `sim::controller::daemonset`, `sim::controller::events`, `sim::store`, `k8s::eligibility`.

use std::collections::{BTreeMap, HashMap, HashSet};

use jiff::Timestamp;
use k8s_openapi::api::core::v1 as core;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;

use super::events;
use crate::k8s::eligibility::{self, Ineligible, NodeFacts, Placement, Toleration};
use crate::sim::store::Store;

#[derive(Default)]
pub struct Scheduler {
    /// Last FailedScheduling message per pod uid (so events are not repeated every round).
    reported: HashMap<String, String>,
}

fn host_ports(p: &core::Pod) -> Vec<(i32, String)> {
    p.spec
        .iter()
        .flat_map(|s| s.containers.iter())
        .flat_map(|c| c.ports.iter().flatten())
        .filter_map(|port| port.host_port.map(|h| (h, port.protocol.clone().unwrap_or_else(|| "TCP".into()))))
        .collect()
}

/// Why `pod` does not fit `node`, in the scheduler's words, or None if it fits.
fn misfit(
    pod_tols: &[Toleration],
    placement: &Placement,
    node: &NodeFacts,
    unschedulable: bool,
    ports_used: Option<&HashSet<(i32, String)>>,
    ports: &[(i32, String)],
) -> Option<String> {
    let e = eligibility::evaluate(node, placement);
    if let Some(r) = e.reason {
        return Some(match r {
            Ineligible::Taint(t) => {
                format!("node(s) had untolerated taint {{{}: {}}}", t.key, t.value)
            }
            _ => "node(s) didn't match Pod's node affinity/selector".to_string(),
        });
    }
    let tolerates_cordon = pod_tols.iter().any(|t| {
        t.tolerates(&eligibility::Taint {
            key: "node.kubernetes.io/unschedulable".into(),
            value: String::new(),
            effect: "NoSchedule".into(),
        })
    });
    if unschedulable && !tolerates_cordon {
        return Some("node(s) were unschedulable".into());
    }
    if let Some(used) = ports_used
        && ports.iter().any(|p| used.contains(p))
    {
        return Some("node(s) didn't have free ports for the requested pod ports".into());
    }
    None
}

impl Scheduler {
    pub fn sync(&mut self, store: &Store, now: Timestamp, record: bool) {
        let (pods, _) = store.list::<core::Pod>(None);
        let pending: Vec<_> = pods
            .iter()
            .filter(|p| p.metadata.deletion_timestamp.is_none())
            .filter(|p| p.spec.as_ref().is_some_and(|s| s.node_name.as_deref().unwrap_or("").is_empty()))
            .cloned()
            .collect();
        if pending.is_empty() {
            self.reported.clear();
            return;
        }
        let (nodes, _) = store.list::<core::Node>(None);
        let facts: Vec<(NodeFacts, bool)> =
            nodes.iter().map(|n| (NodeFacts::from_node(n), n.spec.as_ref().and_then(|s| s.unschedulable).unwrap_or(false))).collect();
        let by_name: HashMap<&str, usize> = facts.iter().enumerate().map(|(i, (f, _))| (f.name.as_str(), i)).collect();
        let mut used_ports: HashMap<String, HashSet<(i32, String)>> = HashMap::new();
        for p in &pods {
            if let Some(n) = p.spec.as_ref().and_then(|s| s.node_name.clone()) {
                used_ports.entry(n).or_default().extend(host_ports(p));
            }
        }
        for pod in pending {
            let spec = pod.spec.clone().unwrap_or_default();
            let mut placement = Placement::from_pod_spec(&spec);
            // The pod's own tolerations only (Placement adds the daemon ones; real pods already carry them).
            placement.tolerations = spec.tolerations.iter().flatten().map(Toleration::from).collect();
            let ports = host_ports(&pod);
            let mut reasons: BTreeMap<String, usize> = BTreeMap::new();
            let mut chosen = None;
            // A pod pinned to one node by name (every DaemonSet pod) is checked against
            // that node alone; the others count as not matching its affinity.
            let pinned = crate::sim::controller::daemonset::target_node(&pod);
            let candidates: Vec<&(NodeFacts, bool)> = match &pinned {
                Some(n) => {
                    let others = facts.len() - usize::from(by_name.contains_key(n.as_str()));
                    if others > 0 {
                        reasons.insert("node(s) didn't match Pod's node affinity/selector".into(), others);
                    }
                    by_name.get(n.as_str()).map(|i| &facts[*i]).into_iter().collect()
                }
                None => facts.iter().collect(),
            };
            for (n, unsched) in candidates {
                match misfit(&placement.tolerations, &placement, n, *unsched, used_ports.get(&n.name), &ports) {
                    None => {
                        chosen = Some(n.name.clone());
                        break;
                    }
                    Some(r) => *reasons.entry(r).or_default() += 1,
                }
            }
            let ns = pod.metadata.namespace.clone().unwrap_or_default();
            let name = pod.metadata.name.clone().unwrap_or_default();
            let uid = pod.metadata.uid.clone();
            let now_t = Time(now);
            match chosen {
                Some(node) => {
                    used_ports.entry(node.clone()).or_default().extend(ports);
                    let _ = store.modify::<core::Pod>(&ns, &name, |p| {
                        if p.metadata.uid != uid {
                            return false;
                        }
                        p.spec.get_or_insert_with(Default::default).node_name = Some(node.clone());
                        let st = p.status.get_or_insert_with(Default::default);
                        let conds = st.conditions.get_or_insert_with(Vec::new);
                        conds.retain(|c| c.type_ != "PodScheduled");
                        conds.push(core::PodCondition {
                            type_: "PodScheduled".into(),
                            status: "True".into(),
                            last_transition_time: Some(now_t.clone()),
                            ..Default::default()
                        });
                        true
                    });
                    if let Some(u) = &uid {
                        self.reported.remove(u);
                    }
                    if record && let Some(p) = store.get::<core::Pod>(&ns, &name) {
                        events::record(
                            store,
                            &*p,
                            "Normal",
                            "Scheduled",
                            format!("Successfully assigned {ns}/{name} to {node}"),
                            "default-scheduler",
                        );
                    }
                }
                None => {
                    let total = facts.len();
                    let parts: Vec<String> = reasons.iter().map(|(r, c)| format!("{c} {r}")).collect();
                    let msg = format!(
                        "0/{total} nodes are available: {}. preemption: 0/{total} nodes are available: {total} Preemption is not helpful for scheduling.",
                        parts.join(", ")
                    );
                    let key = uid.clone().unwrap_or_default();
                    if self.reported.get(&key) == Some(&msg) {
                        continue;
                    }
                    self.reported.insert(key, msg.clone());
                    let _ = store.modify::<core::Pod>(&ns, &name, |p| {
                        if p.metadata.uid != uid {
                            return false;
                        }
                        let st = p.status.get_or_insert_with(Default::default);
                        let conds = st.conditions.get_or_insert_with(Vec::new);
                        if conds.iter().any(|c| c.type_ == "PodScheduled" && c.message.as_deref() == Some(&msg)) {
                            return false;
                        }
                        conds.retain(|c| c.type_ != "PodScheduled");
                        conds.push(core::PodCondition {
                            type_: "PodScheduled".into(),
                            status: "False".into(),
                            reason: Some("Unschedulable".into()),
                            message: Some(msg.clone()),
                            last_transition_time: Some(now_t.clone()),
                            ..Default::default()
                        });
                        true
                    });
                    if record {
                        events::record(store, &*pod, "Warning", "FailedScheduling", msg, "default-scheduler");
                    }
                }
            }
        }
    }
}

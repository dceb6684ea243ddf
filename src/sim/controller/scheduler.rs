//! A scheduler that binds pods the way kube-scheduler's filters would: node-name
//! affinity pins, nodeSelector, required node affinity, NoSchedule/NoExecute taints,
//! `spec.unschedulable`, host ports and resources (`NodeResourcesFit`, in `k8s::fit`),
//! then required pod affinity and anti-affinity (`InterPodAffinity`, in
//! `k8s::podaffinity`; preemption removes victims only where the pod then passes it too),
//! and preempts lower-priority pods where that helps (`preemption`); of the nodes that
//! fit, the one with the fewest pods. Pods that fit nowhere stay Pending with
//! `PodScheduled=False`, reason `Unschedulable`, and a `FailedScheduling` event whose
//! message is the scheduler's `FitError` (`pkg/scheduler/framework/types.go`) with the
//! DefaultPreemption post-filter's own (`pkg/scheduler/framework/preemption`).
//!
//! Retries follow the scheduling queue (`pkg/scheduler/internal/queue/scheduling_queue.go`):
//! an unschedulable pod waits in the unschedulable pods until a cluster event (a node
//! or a bound pod changed) moves it, no sooner than its back-off (1 s doubling to 10 s per
//! attempt: `DefaultPodInitialBackoffDuration`, `DefaultPodMaxBackoffDuration`), or until
//! it has waited 5 minutes (`DefaultPodMaxInUnschedulablePodsDuration`, flushed by
//! `flushUnschedulablePodsLeftover`). Each failed attempt records `FailedScheduling`
//! again; repeats of one message are counted on one Event, as the event recorder does.
//!
//! May import: `sim::controller::daemonset`, `sim::controller::events`, `sim::controller::preemption`, `sim::store`, `k8s::eligibility`, `k8s::fit`, `k8s::podaffinity`.

use std::collections::{BTreeMap, HashMap, HashSet};

use jiff::{SignedDuration, Timestamp};
use k8s_openapi::api::core::v1 as core;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;

use super::events;
use super::preemption::{self, Held, Room};
use crate::k8s::eligibility::{self, Ineligible, NodeFacts, Placement, Toleration};
use crate::k8s::fit::{self, Resources};
use crate::k8s::podaffinity::{self, PodTerms, State};
use crate::sim::store::Store;

/// A pod the scheduler could not place: how often it tried, when last, and whether a
/// cluster event has moved it out of the unschedulable pods since.
#[derive(Debug, Clone)]
struct Unschedulable {
    attempts: u32,
    last_try: Timestamp,
    moved: bool,
}

#[derive(Default)]
pub struct Scheduler {
    /// Pods that failed to schedule, by uid.
    queue: HashMap<String, Unschedulable>,
    /// What the last round saw of the nodes and the bound pods (a change is a cluster
    /// event that moves every unschedulable pod).
    cluster: u64,
    /// Each pod's requests, by uid (a pod's requests do not change once it exists).
    requests: HashMap<String, Resources>,
    /// Where the next search for feasible nodes starts (`nextStartNodeIndex`).
    next_start: usize,
}

/// How many feasible nodes the scheduler looks for before it stops searching and scores
/// them (`numFeasibleNodesToFind` in `pkg/scheduler/schedule_one.go`, with the default
/// `percentageOfNodesToScore` of 0: adaptive): every node below 100, else 50 % less one
/// point per 125 nodes, at least 5 %, at least 100 nodes.
pub fn feasible_nodes_to_find(all: usize) -> usize {
    const MIN_FEASIBLE: usize = 100;
    if all < MIN_FEASIBLE {
        return all;
    }
    let percentage = 50usize.saturating_sub(all / 125).max(5);
    (all * percentage / 100).max(MIN_FEASIBLE)
}

const INITIAL_BACKOFF: SignedDuration = SignedDuration::from_secs(1);
const MAX_BACKOFF: SignedDuration = SignedDuration::from_secs(10);
const MAX_IN_UNSCHEDULABLE: SignedDuration = SignedDuration::from_secs(300);

/// `calculateBackoffDuration`: 1 s, doubled per attempt after the first, at most 10 s.
fn backoff(attempts: u32) -> SignedDuration {
    let mut d = INITIAL_BACKOFF;
    for _ in 1..attempts {
        d *= 2;
        if d >= MAX_BACKOFF {
            return MAX_BACKOFF;
        }
    }
    d
}

impl Unschedulable {
    /// Whether the queue hands the pod to a scheduling cycle at `now`.
    fn due(&self, now: Timestamp) -> bool {
        let backed_off = now >= self.last_try + backoff(self.attempts);
        (self.moved && backed_off) || now >= self.last_try + MAX_IN_UNSCHEDULABLE
    }
}

const PORTS: &str = "node(s) didn't have free ports for the requested pod ports";

/// `FitError.Error()`: `0/N nodes are available: ` and the reasons, each `count reason`,
/// sorted as strings and joined by `, `, then `.`; the post-filter's message after it the
/// same way (`SeparatorFormat = " %v."`) — so a preemption message, itself a FitError
/// ending in `.`, ends in `..`.
fn fit_error(total: usize, reasons: &BTreeMap<String, usize>, post_filter: Option<&str>) -> String {
    let mut parts: Vec<String> = reasons.iter().map(|(r, c)| format!("{c} {r}")).collect();
    parts.sort();
    let mut msg = format!("0/{total} nodes are available: {}.", parts.join(", "));
    if let Some(p) = post_filter {
        msg.push_str(&format!(" {p}."));
    }
    msg
}

/// The pod's host ports, as the `NodePorts` filter reads them (`k8s::fit::host_ports`).
fn host_ports(p: &core::Pod) -> Vec<(i32, String)> {
    p.spec.as_ref().map(crate::k8s::fit::host_ports).unwrap_or_default()
}

/// Why `pod` does not fit `node`, in the scheduler's words (empty if it fits): the first
/// filter that fails says why, as the framework stops at the first failing plugin
/// (`RunFilterPlugins`); NodeResourcesFit gives every resource that is short.
fn misfit(
    pod_tols: &[Toleration],
    placement: &Placement,
    node: &NodeFacts,
    unschedulable: bool,
    room: Option<&Room>,
    ports: &[(i32, String)],
    requests: &Resources,
) -> Vec<String> {
    let e = eligibility::evaluate(node, placement);
    if let Some(r) = e.reason {
        return vec![match r {
            Ineligible::Taint(t) => {
                format!("node(s) had untolerated taint {{{}: {}}}", t.key, t.value)
            }
            _ => "node(s) didn't match Pod's node affinity/selector".to_string(),
        }];
    }
    let tolerates_cordon = pod_tols.iter().any(|t| {
        t.tolerates(&eligibility::Taint {
            key: "node.kubernetes.io/unschedulable".into(),
            value: String::new(),
            effect: "NoSchedule".into(),
        })
    });
    if unschedulable && !tolerates_cordon {
        return vec!["node(s) were unschedulable".into()];
    }
    let empty = Room::default();
    match room.unwrap_or(&empty).check(requests, ports) {
        None => vec![],
        Some(fit::Misfit::Port(_)) => vec![PORTS.into()],
        Some(fit::Misfit::Short(why)) => why,
    }
}

/// What `InterPodAffinity` reads of a pod: its namespace, labels and required terms.
fn terms_of(p: &core::Pod) -> PodTerms {
    PodTerms::of(
        p.metadata.namespace.as_deref().unwrap_or("default"),
        p.metadata.labels.clone().unwrap_or_default(),
        p.spec.as_ref().and_then(|s| s.affinity.as_ref()),
    )
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
        let (nodes, _) = store.list::<core::Node>(None);
        // Cluster events: a node added, changed or deleted; a pod bound or deleted.
        let mut sig = std::collections::hash_map::DefaultHasher::new();
        for n in &nodes {
            std::hash::Hash::hash(&(&n.metadata.name, &n.metadata.resource_version), &mut sig);
        }
        let mut bound: Vec<&str> = pods
            .iter()
            .filter(|p| p.spec.as_ref().and_then(|s| s.node_name.as_deref()).is_some_and(|n| !n.is_empty()))
            .filter_map(|p| p.metadata.uid.as_deref())
            .collect();
        bound.sort_unstable();
        std::hash::Hash::hash(&bound, &mut sig);
        let sig = std::hash::Hasher::finish(&sig);
        if sig != self.cluster {
            self.cluster = sig;
            self.queue.values_mut().for_each(|q| q.moved = true);
        }
        let waiting: HashSet<&str> = pending.iter().filter_map(|p| p.metadata.uid.as_deref()).collect();
        self.queue.retain(|uid, _| waiting.contains(uid.as_str()));
        if pending.is_empty() {
            return;
        }
        let facts: Vec<(NodeFacts, bool)> =
            nodes.iter().map(|n| (NodeFacts::from_node(n), n.spec.as_ref().and_then(|s| s.unschedulable).unwrap_or(false))).collect();
        let by_name: HashMap<&str, usize> = facts.iter().enumerate().map(|(i, (f, _))| (f.name.as_str(), i)).collect();
        let mut rooms: HashMap<String, Room> = nodes
            .iter()
            .map(|n| {
                let alloc = Resources::of(n.status.as_ref().and_then(|s| s.allocatable.as_ref()));
                (n.metadata.name.clone().unwrap_or_default(), Room::new(alloc))
            })
            .collect();
        let live: HashSet<&str> = pods.iter().filter_map(|p| p.metadata.uid.as_deref()).collect();
        self.requests.retain(|uid, _| live.contains(uid.as_str()));
        for p in &pods {
            // Finished pods hold nothing (the scheduler's informer leaves them out).
            if let Some(n) = fit::occupies(p) {
                let uid = p.metadata.uid.clone().unwrap_or_default();
                let req = self.requests.entry(uid).or_insert_with(|| p.spec.as_ref().map(fit::pod_requests).unwrap_or_default());
                rooms.entry(n.to_string()).or_default().hold(Held {
                    namespace: p.metadata.namespace.clone().unwrap_or_default(),
                    name: p.metadata.name.clone().unwrap_or_default(),
                    priority: p.spec.as_ref().and_then(|s| s.priority).unwrap_or(0),
                    started: p.status.as_ref().and_then(|s| s.start_time.as_ref()).map(|t| t.0.to_string()).unwrap_or_default(),
                    requests: req.clone(),
                    ports: host_ports(p),
                    terminating: p.metadata.deletion_timestamp.is_some(),
                    terms: terms_of(p),
                });
            }
        }
        let ns_labels = |ns: &str| Some(store.get::<core::Namespace>("", ns).and_then(|n| n.metadata.labels.clone()).unwrap_or_default());
        let node_labels: HashMap<&str, &BTreeMap<String, String>> = facts.iter().map(|(f, _)| (f.name.as_str(), &f.labels)).collect();
        let no_labels = BTreeMap::new();
        // Whether any bound pod has required anti-affinity (kept up to date as pods bind):
        // without one, and without terms of its own, a pod skips the filter's counting.
        let mut held_anti = rooms.values().any(|r| r.pods.iter().any(|p| !p.terms.anti.is_empty()));
        for pod in pending {
            let key = pod.metadata.uid.clone().unwrap_or_default();
            if self.queue.get(&key).is_some_and(|q| !q.due(now)) {
                continue;
            }
            let spec = pod.spec.clone().unwrap_or_default();
            let mut placement = Placement::from_pod_spec(&spec);
            // The pod's own tolerations only (Placement adds the daemon ones; real pods already carry them).
            placement.tolerations = spec.tolerations.iter().flatten().map(Toleration::from).collect();
            let ports = host_ports(&pod);
            let requests = fit::pod_requests(&spec);
            let priority = spec.priority.unwrap_or(0);
            // InterPodAffinity's PreFilter: skipped when neither the pod nor a bound pod has a term.
            let incoming = terms_of(&pod);
            let affinity = (incoming.has_terms() || held_anti).then(|| {
                let bound = rooms.iter().flat_map(|(n, r)| {
                    let l = node_labels.get(n.as_str()).copied().unwrap_or(&no_labels);
                    r.pods.iter().map(move |p| (&p.terms, l))
                });
                State::of(&incoming, bound, &ns_labels)
            });
            let mut reasons: BTreeMap<String, usize> = BTreeMap::new();
            // What DefaultPreemption says of each node: `nodesWherePreemptionMightHelp`
            // leaves out UnschedulableAndUnresolvable ones (affinity, taints, cordon);
            // NodePorts' Unschedulable nodes are tried (`SelectVictimsOnNode`).
            let mut preemption: BTreeMap<String, usize> = BTreeMap::new();
            let mut preemptable: Vec<(String, Vec<usize>)> = Vec::new();
            let mut chosen = None;
            // A pod pinned to one node by name (every DaemonSet pod) is checked against
            // that node alone; the others count as not matching its affinity.
            let pinned = crate::sim::controller::daemonset::target_node(&pod);
            let candidates: Vec<&(NodeFacts, bool)> = match &pinned {
                Some(n) => {
                    let others = facts.len() - usize::from(by_name.contains_key(n.as_str()));
                    if others > 0 {
                        reasons.insert("node(s) didn't match Pod's node affinity/selector".into(), others);
                        preemption.insert("Preemption is not helpful for scheduling".into(), others);
                    }
                    by_name.get(n.as_str()).map(|i| &facts[*i]).into_iter().collect()
                }
                // `findNodesThatPassFilters`: from where the last search stopped, round
                // the nodes, until enough feasible ones are found.
                None if facts.len() >= 100 => (0..facts.len()).map(|i| &facts[(self.next_start + i) % facts.len()]).collect(),
                None => facts.iter().collect(),
            };
            let to_find = if pinned.is_some() { 1 } else { feasible_nodes_to_find(facts.len()) };
            let (mut feasible, mut processed) = (0usize, 0usize);
            for (n, unsched) in candidates {
                processed += 1;
                let mut why = misfit(&placement.tolerations, &placement, n, *unsched, rooms.get(&n.name), &ports, &requests);
                if why.is_empty()
                    && let Some(r) = affinity.as_ref().and_then(|s| s.filter(&incoming, &n.labels, &ns_labels))
                {
                    why = vec![r.to_string()];
                }
                let Some(first) = why.first() else {
                    // Of the nodes that fit, the one with the fewest pods (first by name on
                    // a tie): the spreading kube-scheduler's scoring plugins give pods
                    // without requests, so workloads do not pile onto one node.
                    let l = rooms.get(&n.name).map_or(0, |r| r.pods.len());
                    if chosen.as_ref().is_none_or(|(_, best)| l < *best) {
                        chosen = Some((n.name.clone(), l));
                    }
                    feasible += 1;
                    if l == 0 || feasible >= to_find {
                        break;
                    }
                    continue;
                };
                // Ports and resources are what removing pods can free (`Unschedulable`);
                // the rest is `UnschedulableAndUnresolvable`.
                let anti = first == podaffinity::ANTI_AFFINITY || first == podaffinity::EXISTING_ANTI_AFFINITY;
                let resolvable = anti || first == PORTS || first == "Too many pods" || first.starts_with("Insufficient ");
                let labels = node_labels.get(n.name.as_str()).copied().unwrap_or(&no_labels);
                let victims = resolvable.then(|| rooms.get(&n.name)).flatten().and_then(|room| {
                    // SelectVictimsOnNode runs every filter again without the pods removed.
                    let passes = |kept: &[usize]| {
                        affinity.as_ref().is_none_or(|s| {
                            let gone = (0..room.pods.len()).filter(|i| !kept.contains(i)).map(|i| &room.pods[i].terms);
                            s.without(&incoming, gone, labels, &ns_labels).filter(&incoming, labels, &ns_labels).is_none()
                        })
                    };
                    fit::victims_where(&room.allocatable, &room.occupants(), &requests, &ports, priority, &passes)
                });
                let p = match &victims {
                    _ if !resolvable => "Preemption is not helpful for scheduling".to_string(),
                    None => "No preemption victims found for incoming pod".to_string(),
                    Some(v) => {
                        preemptable.push((n.name.clone(), v.clone()));
                        String::new()
                    }
                };
                if !p.is_empty() {
                    *preemption.entry(p).or_default() += 1;
                }
                for r in why {
                    *reasons.entry(r).or_default() += 1;
                }
            }
            let ns = pod.metadata.namespace.clone().unwrap_or_default();
            let name = pod.metadata.name.clone().unwrap_or_default();
            if pinned.is_none() && facts.len() >= 100 {
                self.next_start = (self.next_start + processed) % facts.len();
            }
            let uid = pod.metadata.uid.clone();
            let now_t = Time(now);
            match chosen.map(|(n, _)| n) {
                Some(node) => {
                    self.queue.remove(&key);
                    held_anti |= !incoming.anti.is_empty();
                    rooms.entry(node.clone()).or_default().hold(Held {
                        namespace: ns.clone(),
                        name: name.clone(),
                        priority,
                        requests: requests.clone(),
                        ports,
                        terms: incoming.clone(),
                        ..Default::default()
                    });
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
                    // The post-filter: preempt where it helps (its message is then empty), or say why not.
                    let post = match preemption::not_eligible(&pod, &rooms, priority) {
                        Some(why) => Some(format!("preemption: {why}")),
                        None => match preemption::pick(&rooms, &preemptable) {
                            Some((node, victims)) => {
                                let held: Vec<&Held> = victims.iter().map(|i| &rooms[node].pods[*i]).collect();
                                preemption::preempt(store, &pod, node, &held, now, record);
                                None
                            }
                            None => {
                                // Nodes where victims would be needed but none is picked count as no victims.
                                for _ in &preemptable {
                                    *preemption.entry("No preemption victims found for incoming pod".into()).or_default() += 1;
                                }
                                Some(format!("preemption: {}", fit_error(total, &preemption, None)))
                            }
                        },
                    };
                    let msg = match &post {
                        Some(p) => fit_error(total, &reasons, Some(p)),
                        None => fit_error(total, &reasons, None),
                    };
                    let q = self.queue.entry(key).or_insert(Unschedulable { attempts: 0, last_try: now, moved: false });
                    q.attempts += 1;
                    q.last_try = now;
                    q.moved = false;
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
                        events::record_or_repeat(store, &*pod, "Warning", "FailedScheduling", msg, "default-scheduler");
                    }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fit_errors_read_as_the_scheduler_writes_them() {
        let reasons: BTreeMap<String, usize> =
            [(PORTS.to_string(), 1), ("node(s) didn't match Pod's node affinity/selector".into(), 12)].into();
        let pre: BTreeMap<String, usize> =
            [("No preemption victims found for incoming pod".to_string(), 1), ("Preemption is not helpful for scheduling".into(), 12)]
                .into();
        // Sorted as strings ("1 …" before "12 …"), the preemption message ending in "..".
        assert_eq!(
            fit_error(13, &reasons, Some(&format!("preemption: {}", fit_error(13, &pre, None)))),
            "0/13 nodes are available: 1 node(s) didn't have free ports for the requested pod ports, 12 node(s) didn't match Pod's node affinity/selector. preemption: 0/13 nodes are available: 1 No preemption victims found for incoming pod, 12 Preemption is not helpful for scheduling.."
        );
        assert_eq!([1, 2, 3, 4, 5, 9].map(backoff), [1, 2, 4, 8, 10, 10].map(SignedDuration::from_secs));
    }

    #[test]
    fn the_search_stops_after_as_many_feasible_nodes_as_kube_scheduler_finds() {
        // numFeasibleNodesToFind with the adaptive percentage (schedule_one.go).
        for (all, want) in [(0, 0), (5, 5), (99, 99), (100, 100), (200, 100), (1_000, 420), (5_000, 500), (6_000, 300), (15_000, 750)] {
            assert_eq!(super::feasible_nodes_to_find(all), want, "{all} nodes");
        }
    }
}

//! The model's store: compact objects indexed by node and by DaemonSet, with
//! per-DaemonSet coverage counts adjusted (not recounted) event by event.
//!
//! May import: `model::atoms`, `model::compact`, `model::extras`, `model::joins::track`, `model::change`, `model::pods`,
//! `model::coverage`, `model::availability`, `model::tally`, `k8s`.

use std::collections::BTreeMap;

use hashbrown::{HashMap, HashSet};

use super::atoms::{Interner, Uid};
use super::availability::{self, Holds};
use super::compact::{DsInfo, NodeInfo, PodInfo};
use super::extras::{RevisionInfo, ServiceInfo};
use super::joins::track::JoinTracker;
use super::pods::{DsPods, PodId, Pods};
use super::running::Running;

use super::coverage::{self, CellState};
use super::tally::{NodeDaemons, NodeTally};

pub type NodeId = u32;

pub use super::change::{Change, Resource};

/// Coverage of one DaemonSet: a state per node id, and the count of each state.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Coverage {
    pub cells: Vec<CellState>,
    pub counts: [u32; CellState::COUNT],
    /// Per node id: down, yet still desired by the controller (the DaemonSet tolerates
    /// the node's not-ready or unreachable taint, or it is not tainted yet).
    desired_down: Vec<bool>,
    desired_down_count: u32,
    /// The nodes a rolling update without surge counts as unavailable (or may, within
    /// minReadySeconds).
    pub holds: Holds,
}

impl Coverage {
    /// Sets the node's cell; returns the state it had.
    fn set(&mut self, id: NodeId, state: CellState, desired: bool) -> CellState {
        let i = id as usize;
        if self.cells.len() <= i {
            self.cells.resize(i + 1, CellState::Absent);
            self.desired_down.resize(i + 1, false);
        }
        let old = self.cells[i];
        if old != state {
            self.counts[old as usize] -= u32::from(old != CellState::Absent);
            self.counts[state as usize] += u32::from(state != CellState::Absent);
            self.cells[i] = state;
        }
        let down = state == CellState::NodeNotReady && desired;
        if self.desired_down[i] != down {
            self.desired_down[i] = down;
            if down {
                self.desired_down_count += 1;
            } else {
                self.desired_down_count -= 1;
            }
        }
        old
    }

    pub fn count(&self, s: CellState) -> u32 {
        self.counts[s as usize]
    }

    /// The controller's desired nodes: those that should run the daemon (not ineligible,
    /// not misscheduled), and the down ones it still counts.
    pub fn eligible(&self) -> u32 {
        CellState::ALL.iter().filter(|s| s.is_eligible()).map(|s| self.count(*s)).sum::<u32>() + self.desired_down_count
    }
}

#[derive(Debug, Default)]
pub struct Model {
    node_ids: HashMap<String, NodeId>,
    /// By id; None once a node is gone (ids are not reused).
    nodes: Vec<Option<NodeInfo>>,
    /// Node ids in name order (for display).
    node_order: BTreeMap<String, NodeId>,
    daemonsets: BTreeMap<(String, String), DsInfo>,
    ds_by_uid: HashMap<String, (String, String)>,
    pods: Pods,
    /// The one copy of each string the pods share (namespaces, node names, images, hashes…).
    strings: Interner,
    /// ds uid → node id → pod ids.
    pods_by_ds_node: HashMap<String, DsPods>,
    /// node id → pod ids (daemon pods only).
    pods_by_node: HashMap<NodeId, Vec<PodId>>,
    coverage: HashMap<String, Coverage>,
    /// Per DaemonSet, the images its Ready pods run (the fleet's skew).
    running: Running,
    /// (namespace, name) → revision; few per DaemonSet.
    revisions: BTreeMap<(String, String), RevisionInfo>,
    services: BTreeMap<(String, String), ServiceInfo>,
    /// Keys seen since a resync began.
    resync: HashMap<Resource, HashSet<String>>,
    /// Per node, over every DaemonSet: cells per state, and the nodes in problem order.
    tally: NodeTally,
    /// What joining nodes' timelines need that no object keeps (first Ready, startup
    /// taints gone, workload pods on young nodes).
    joins: JoinTracker,
    pub events_applied: u64,
    /// Changes whenever anything may have (`generation`), or a node may have (`node_generation`):
    /// drawn from one counter for every model, so a cache keyed on them never mistakes
    /// another model (a switched context) for this one.
    generation: u64,
    node_generation: u64,
}

/// The next generation, unique across models.
fn next_generation() -> u64 {
    static NEXT: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(1);
    NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed)
}

impl Model {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn nodes(&self) -> impl Iterator<Item = (NodeId, &NodeInfo)> {
        self.node_order.values().filter_map(|id| self.nodes[*id as usize].as_ref().map(|n| (*id, n)))
    }

    /// The live nodes, most problems first (broken daemons, then a down node's, then
    /// outdated ones), then by name: kept in order as cells change, not sorted per call.
    pub fn nodes_by_problems(&self) -> impl Iterator<Item = (NodeId, &NodeInfo)> {
        self.tally.by_problems().filter_map(|id| self.node(id).map(|n| (id, n)))
    }

    /// How the daemons of every DaemonSet are on the node (kept, not counted per call).
    pub fn node_daemons(&self, id: NodeId) -> NodeDaemons {
        self.tally.daemons(id)
    }

    /// Differs from any earlier value whenever the model may have changed (0: nothing applied).
    pub fn generation(&self) -> u64 {
        self.generation
    }

    /// Differs from any earlier value whenever a node may have come, gone or changed.
    pub fn node_generation(&self) -> u64 {
        self.node_generation
    }

    /// The joining nodes' memory (read by `model::joins::report`).
    pub fn joins(&self) -> &JoinTracker {
        &self.joins
    }

    /// How far back joins are followed (`--joins-since`).
    pub fn set_join_window(&mut self, since: std::time::Duration) {
        self.joins.set_window(since);
        self.generation = next_generation();
    }

    pub fn node_count(&self) -> usize {
        self.node_order.len()
    }

    pub fn node(&self, id: NodeId) -> Option<&NodeInfo> {
        self.nodes.get(id as usize).and_then(|n| n.as_ref())
    }

    /// Every node id given out so far is below this, the ids of nodes that are gone (or
    /// only named by a pod) included.
    pub fn node_id_bound(&self) -> NodeId {
        self.nodes.len() as NodeId
    }

    pub fn node_id(&self, name: &str) -> Option<NodeId> {
        self.node_ids.get(name).copied().filter(|id| self.node(*id).is_some())
    }

    pub fn daemonsets(&self) -> impl Iterator<Item = &DsInfo> {
        self.daemonsets.values()
    }

    pub fn daemonset(&self, ns: &str, name: &str) -> Option<&DsInfo> {
        self.daemonsets.get(&(ns.to_string(), name.to_string()))
    }

    pub fn coverage(&self, ds: &DsInfo) -> Option<&Coverage> {
        self.coverage.get(&ds.uid)
    }

    /// The hash of the DaemonSet's newest ControllerRevision (the current template's).
    fn current_hash(&self, ds_uid: &str) -> Option<String> {
        self.revisions.values().filter(|r| r.owner_uid == ds_uid).max_by_key(|r| r.revision).map(|r| r.hash.clone())
    }

    /// A revision came or went: if the current hash changed, the DaemonSet's cells may have.
    fn refresh_current_hash(&mut self, ds_uid: &str) {
        let h = self.current_hash(ds_uid);
        let Some(key) = self.ds_by_uid.get(ds_uid).cloned() else { return };
        if let Some(d) = self.daemonsets.get_mut(&key)
            && d.current_hash != h
        {
            d.current_hash = h;
            let uid = d.uid.clone();
            self.recompute_ds(&uid);
        }
    }

    /// The DaemonSet's ControllerRevisions, oldest first.
    pub fn revisions_of(&self, ds: &DsInfo) -> Vec<&RevisionInfo> {
        let mut v: Vec<&RevisionInfo> = self.revisions.values().filter(|r| r.owner_uid == ds.uid).collect();
        v.sort_by_key(|r| r.revision);
        v
    }

    /// Services whose selector matches the DaemonSet's pods.
    pub fn services_of(&self, ds: &DsInfo) -> Vec<&ServiceInfo> {
        self.services.values().filter(|s| s.selects(&ds.namespace, &ds.pod_labels)).collect()
    }

    /// Every daemon pod of the DaemonSet.
    pub fn pods_of(&self, ds: &DsInfo) -> impl Iterator<Item = &PodInfo> {
        self.pods_by_ds_node.get(&ds.uid).into_iter().flat_map(DsPods::all).filter_map(|i| self.pods.at(i))
    }

    pub fn pod(&self, uid: &str) -> Option<&PodInfo> {
        self.pods.get(uid)
    }

    /// The image sets the DaemonSet's Ready pods run (kept as pods change; a few at most).
    pub fn running_images(&self, ds: &DsInfo) -> Vec<String> {
        self.running.of(&ds.uid)
    }

    pub fn daemonset_by_uid(&self, uid: &str) -> Option<&DsInfo> {
        self.ds_by_uid.get(uid).and_then(|k| self.daemonsets.get(k))
    }

    pub fn pod_count(&self) -> usize {
        self.pods.len()
    }

    /// The DaemonSet's pods on a node, oldest first.
    pub fn pods_on(&self, ds: &DsInfo, node: NodeId) -> Vec<&PodInfo> {
        let mut v: Vec<&PodInfo> =
            self.pods_by_ds_node.get(&ds.uid).into_iter().flat_map(|m| m.on(node)).filter_map(|i| self.pods.at(i)).collect();
        v.sort_by(|a, b| a.created.cmp(&b.created).then_with(|| a.name.cmp(&b.name)));
        v
    }

    /// When the DaemonSet first had a Ready pod on the node that is still there: the
    /// earliest Ready-since of its live, ready pods there.
    pub fn first_ready(&self, ds: &DsInfo, node: NodeId) -> Option<jiff::Timestamp> {
        self.pods_on(ds, node).into_iter().filter(|p| p.ready && p.deleting.is_none()).filter_map(|p| p.ready_since()).min()
    }

    /// Nodes where the DaemonSet has more than one live pod (a surge in progress), by id.
    pub fn nodes_with_several_pods(&self, ds: &DsInfo) -> Vec<NodeId> {
        let Some(per) = self.pods_by_ds_node.get(&ds.uid) else { return Vec::new() };
        let mut v: Vec<NodeId> = per
            .crowded()
            .filter(|id| per.on(*id).filter(|i| self.pods.at(*i).is_some_and(|p| p.deleting.is_none())).count() > 1)
            .filter(|id| self.node(*id).is_some())
            .collect();
        v.sort_unstable();
        v
    }

    /// Every daemon pod on a node.
    pub fn daemon_pods_on(&self, node: NodeId) -> Vec<&PodInfo> {
        self.pods_by_node.get(&node).into_iter().flatten().filter_map(|i| self.pods.at(*i)).collect()
    }

    /// The cell of one DaemonSet on one node, with its reason (computed on demand).
    pub fn explain(&self, ds: &DsInfo, node: NodeId) -> Option<coverage::Cell> {
        let n = self.node(node)?;
        Some(coverage::cell(ds, n, &self.pods_on(ds, node)))
    }

    fn intern(&mut self, name: &str) -> NodeId {
        if let Some(id) = self.node_ids.get(name) {
            return *id;
        }
        let id = self.nodes.len() as NodeId;
        self.nodes.push(None);
        self.node_ids.insert(name.to_string(), id);
        id
    }

    fn recompute(&mut self, ds_uid: &str, node: NodeId) {
        let Some(key) = self.ds_by_uid.get(ds_uid) else { return };
        let Some(ds) = self.daemonsets.get(key) else { return };
        let pods = self.pods_on(ds, node);
        let (state, desired) = match self.node(node) {
            Some(n) => {
                let c = coverage::cell(ds, n, &pods);
                (c.state, c.desired)
            }
            None => (CellState::Absent, false),
        };
        let hold = availability::hold(ds, &pods, desired);
        let failing = (state == CellState::Failing)
            .then(|| pods.iter().filter(|p| p.deleting.is_none()).find_map(|p| p.unready_since().or(p.created.get())))
            .flatten();
        let cov = self.coverage.entry_ref(ds_uid).or_default();
        let old = cov.set(node, state, desired);
        cov.holds.set(node, hold);
        cov.holds.note(node, failing, matches!(state, CellState::Ready | CellState::Outdated));
        self.tally.shift(node, old, state);
    }

    /// A DaemonSet's coverage is dropped: its cells no longer count on their nodes.
    fn drop_coverage(&mut self, ds_uid: &str) {
        if let Some(c) = self.coverage.remove(ds_uid) {
            for (id, s) in c.cells.iter().enumerate() {
                self.tally.shift(id as NodeId, *s, CellState::Absent);
            }
        }
    }

    fn recompute_ds(&mut self, ds_uid: &str) {
        let ids: Vec<NodeId> = (0..self.nodes.len() as NodeId).collect();
        for id in ids {
            self.recompute(ds_uid, id);
        }
    }

    fn recompute_node(&mut self, node: NodeId) {
        let uids: Vec<String> = self.ds_by_uid.keys().cloned().collect();
        for u in uids {
            self.recompute(&u, node);
        }
    }

    fn index_pod(&mut self, node: Option<&str>, owner: &str, id: PodId, add: bool) {
        let Some(node) = node.map(|n| self.intern(n)) else { return };
        if !self.pods_by_ds_node.contains_key(owner) {
            self.pods_by_ds_node.insert(owner.to_string(), DsPods::default());
        }
        let per_ds = self.pods_by_ds_node.get_mut(owner).expect("inserted above");
        per_ds.remove(node, id);
        if add {
            per_ds.add(node, id);
        }
        let by_node = self.pods_by_node.entry(node).or_default();
        by_node.retain(|i| *i != id);
        if add {
            by_node.push(id);
        }
    }

    /// Remembers that a relist saw this object; the key is made only while a relist of
    /// `r` is under way (not on the first sync, nor for the watch's events).
    fn touched(&mut self, r: Resource, key: impl FnOnce() -> String) {
        if let Some(seen) = self.resync.get_mut(&r) {
            seen.insert(key());
        }
    }

    pub fn apply(&mut self, change: Change) {
        self.apply_at(change, crate::k8s::clock::now());
    }

    /// [`Model::apply`], observed at `now` (what the joins remember is timed by it).
    pub fn apply_at(&mut self, change: Change, now: jiff::Timestamp) {
        self.events_applied += 1;
        // A node's status is written every few minutes with nothing new in what the model
        // keeps (only heartbeats): the model, its generation and every view's rows stay.
        if let Change::Node(n) = &change
            && self.node_ids.get(n.name.as_str()).and_then(|id| self.nodes[*id as usize].as_ref()) == Some(n)
        {
            self.touched(Resource::Nodes, || n.name.clone());
            return;
        }
        self.generation = next_generation();
        if matches!(change, Change::Node(_) | Change::NodeGone(_) | Change::ResyncDone(Resource::Nodes)) {
            self.node_generation = self.generation;
        }
        match change {
            Change::Node(n) => {
                self.touched(Resource::Nodes, || n.name.clone());
                self.joins.node(&n, now);
                let id = self.intern(&n.name);
                self.node_order.insert(n.name.clone(), id);
                self.tally.live(id, &n.name);
                let changed = self.nodes[id as usize].as_ref().is_none_or(|old| old.facts != n.facts || old.ready != n.ready);
                self.nodes[id as usize] = Some(n);
                if changed {
                    self.recompute_node(id);
                }
            }
            Change::NodeGone(name) => {
                self.joins.forget(&name);
                if let Some(id) = self.node_ids.get(&name).copied() {
                    self.tally.gone(id);
                    self.nodes[id as usize] = None;
                    self.node_order.remove(&name);
                    self.recompute_node(id);
                }
            }
            Change::DaemonSet(mut d) => {
                self.touched(Resource::DaemonSets, || d.uid.clone());
                d.current_hash = self.current_hash(&d.uid);
                let key = (d.namespace.clone(), d.name.clone());
                // Recreated under the same name (seen only as a relist after a 410 or a
                // restore): a new identity, so the old one's coverage goes and all is recomputed.
                let replaced = self.daemonsets.get(&key).filter(|old| old.uid != d.uid).map(|old| old.uid.clone());
                if let Some(old_uid) = &replaced {
                    self.ds_by_uid.remove(old_uid);
                    self.drop_coverage(old_uid);
                }
                let changed =
                    replaced.is_some() || self.daemonsets.get(&key).is_none_or(|old| old.coverage_inputs() != d.coverage_inputs());
                self.ds_by_uid.insert(d.uid.clone(), key.clone());
                let uid = d.uid.clone();
                self.daemonsets.insert(key, d);
                if changed {
                    self.recompute_ds(&uid);
                }
            }
            Change::DaemonSetGone { namespace, name } => {
                if let Some(d) = self.daemonsets.remove(&(namespace, name)) {
                    self.ds_by_uid.remove(&d.uid);
                    self.drop_coverage(&d.uid);
                    self.running.forget(&d.uid);
                }
            }
            Change::Pod(mut p) => {
                p.intern(&mut self.strings);
                self.touched(Resource::Pods, || p.uid.to_string());
                let (owner, node) = (p.owner_uid.clone(), p.node.clone());
                self.running.count(&p, true);
                let (pid, old) = self.pods.insert(p);
                if let Some(old) = old {
                    self.running.count(&old, false);
                    let moved = old.node != node || old.owner_uid != owner;
                    if moved {
                        self.index_pod(old.node.as_deref(), &old.owner_uid, pid, false);
                        // The cell it left changes too.
                        if let Some(id) = old.node.as_deref().and_then(|n| self.node_ids.get(n).copied()) {
                            self.recompute(&old.owner_uid, id);
                        }
                        self.index_pod(node.as_deref(), &owner, pid, true);
                    }
                } else {
                    self.index_pod(node.as_deref(), &owner, pid, true);
                }
                if let Some(id) = node.and_then(|n| self.node_ids.get(n.as_str()).copied()) {
                    self.recompute(&owner, id);
                }
            }
            Change::PodGone { uid } => {
                if let Some((pid, old)) = self.pods.remove(&uid) {
                    self.running.count(&old, false);
                    self.index_pod(old.node.as_deref(), &old.owner_uid, pid, false);
                    if let Some(id) = old.node.as_deref().and_then(|n| self.node_ids.get(n).copied()) {
                        self.recompute(&old.owner_uid, id);
                    }
                }
            }
            Change::Revision(r) => {
                self.touched(Resource::Revisions, || format!("{}/{}", r.namespace, r.name));
                let owner = r.owner_uid.clone();
                self.revisions.insert((r.namespace.clone(), r.name.clone()), r);
                self.refresh_current_hash(&owner);
            }
            Change::RevisionGone { namespace, name } => {
                if let Some(r) = self.revisions.remove(&(namespace, name)) {
                    self.refresh_current_hash(&r.owner_uid);
                }
            }
            Change::Service(sv) => {
                self.touched(Resource::Services, || format!("{}/{}", sv.namespace, sv.name));
                self.services.insert((sv.namespace.clone(), sv.name.clone()), sv);
            }
            Change::ServiceGone { namespace, name } => {
                self.services.remove(&(namespace, name));
            }
            Change::Workload(w) => {
                let known = w.node.as_deref().is_some_and(|n| self.node_id(n).is_some());
                self.joins.workload(w, known);
            }
            Change::WorkloadGone { uid, node } => self.joins.workload_gone(&uid, node.as_deref()),
            Change::ResyncStart(Resource::Workloads) => self.joins.workloads_resync(true),
            Change::ResyncDone(Resource::Workloads) => self.joins.workloads_resync(false),
            Change::ResyncStart(r) => {
                // Nothing known yet (the first sync): nothing can have gone, so no need to
                // remember every key seen (121,000 pod uids at 5,000 nodes).
                let empty = match r {
                    Resource::Nodes => self.node_order.is_empty(),
                    Resource::DaemonSets => self.daemonsets.is_empty(),
                    Resource::Pods => self.pods.len() == 0,
                    Resource::Revisions => self.revisions.is_empty(),
                    Resource::Services => self.services.is_empty(),
                    Resource::Workloads => true,
                };
                if empty {
                    self.resync.remove(&r);
                } else {
                    self.resync.insert(r, Default::default());
                }
            }
            Change::ListTotal(..) => {}
            Change::ResyncDone(r) => {
                if r == Resource::Nodes {
                    self.joins.nodes_listed();
                }
                let Some(seen) = self.resync.remove(&r) else { return };
                match r {
                    Resource::Nodes => {
                        let gone: Vec<String> = self.node_order.keys().filter(|k| !seen.contains(*k)).cloned().collect();
                        for g in gone {
                            self.apply(Change::NodeGone(g));
                        }
                    }
                    Resource::DaemonSets => {
                        let gone: Vec<(String, String)> = self
                            .daemonsets
                            .values()
                            .filter(|d| !seen.contains(&d.uid))
                            .map(|d| (d.namespace.clone(), d.name.clone()))
                            .collect();
                        for (namespace, name) in gone {
                            self.apply(Change::DaemonSetGone { namespace, name });
                        }
                    }
                    Resource::Pods => {
                        let gone: Vec<String> = self.pods.uids().map(Uid::to_string).filter(|k| !seen.contains(k)).collect();
                        for uid in gone {
                            self.apply(Change::PodGone { uid });
                        }
                    }
                    Resource::Revisions => {
                        // Through `RevisionGone`, so each owner's current hash is recomputed.
                        let gone: Vec<(String, String)> =
                            self.revisions.keys().filter(|(ns, n)| !seen.contains(&format!("{ns}/{n}"))).cloned().collect();
                        for (namespace, name) in gone {
                            self.apply(Change::RevisionGone { namespace, name });
                        }
                    }
                    Resource::Services => self.services.retain(|(ns, n), _| seen.contains(&format!("{ns}/{n}"))),
                    Resource::Workloads => {}
                }
            }
        }
    }

    /// How the daemons are on a node, counted from scratch over every DaemonSet's
    /// recounted coverage (what `node_daemons` must equal).
    pub fn recount_node_daemons(&self, id: NodeId) -> NodeDaemons {
        let mut counts = [0u32; CellState::COUNT];
        for d in self.daemonsets() {
            let s = self.recount(d).cells.get(id as usize).copied().unwrap_or(CellState::Absent);
            counts[s as usize] += u32::from(s != CellState::Absent);
        }
        NodeDaemons::of(&counts)
    }

    /// Coverage recounted from scratch (what the incremental counts must equal).
    pub fn recount(&self, ds: &DsInfo) -> Coverage {
        let mut c = Coverage::default();
        let mut desired = vec![false; self.nodes.len()];
        for (id, n) in self.nodes() {
            let cell = coverage::cell(ds, n, &self.pods_on(ds, id));
            c.set(id, cell.state, cell.desired);
            desired[id as usize] = cell.desired;
        }
        // Pods on nodes that are gone (or never seen) count too, as the controller counts them.
        for (id, want) in desired.into_iter().enumerate() {
            c.holds.set(id as NodeId, availability::hold(ds, &self.pods_on(ds, id as NodeId), want));
        }
        c
    }
}

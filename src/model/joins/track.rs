//! What the model must remember of joining nodes, since no object keeps it:
//! - a node's **first** Ready: its Ready condition's lastTransitionTime is the latest
//!   transition, so a node that flaps would seem to join again. The first Ready seen is
//!   kept; a node already Ready when first seen gets its condition's lastTransitionTime,
//!   marked [`ReadyKnown::Condition`] (earlier flaps, if any, are not known);
//! - its **startup taints** and when each went (as observed: the node event without it);
//!   a startup taint is one of [`KNOWN_STARTUP_TAINTS`](super::settings::KNOWN_STARTUP_TAINTS), or
//!   any NoSchedule or NoExecute taint (but node-lifecycle's own) a node had when first
//!   seen within [`FRESH`] of its creation;
//! - the **workload pods** (not DaemonSet pods) on nodes in the window: node, owner kind
//!   and name, start time, priority — nothing of pods on older nodes, so memory grows with
//!   the joining nodes, not the cluster.
//!
//! May import: `model::joins::settings`, `model::atoms`,
//! `model::compact`, `k8s`.

use std::num::NonZeroU32;
use std::sync::Arc;
use std::time::Duration;

use hashbrown::{HashMap, HashSet};
use jiff::{SignedDuration, Timestamp};
use k8s_openapi::api::core::v1 as core;

use super::settings::{JoinSettings, KNOWN_STARTUP_TAINTS};
use crate::k8s::eligibility::LIFECYCLE_TAINTS;
use crate::model::atoms::{IStr, Interner, Uid};
use crate::model::compact::NodeInfo;

/// How the first Ready time is known.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReadyKnown {
    /// Seen turning Ready while watched: the first transition.
    Watched,
    /// Already Ready when first seen: its Ready condition's lastTransitionTime, the only
    /// transition known (an earlier flap would not show).
    Condition,
}

/// A node first seen this soon after its creation shows its creation taints.
pub const FRESH: Duration = Duration::from_secs(300);

/// A non-daemon pod, as the workload watch sends it.
#[derive(Debug, Clone, PartialEq)]
pub struct WorkloadInfo {
    pub uid: String,
    pub namespace: String,
    pub name: String,
    pub node: Option<String>,
    /// The controller's kind and name (`ReplicaSet`/`web-7d9f`), or empty for a bare pod.
    pub owner_kind: String,
    pub owner_name: String,
    /// `status.startTime`: when the kubelet took the pod on.
    pub started: Option<Timestamp>,
    pub priority: i32,
}

impl WorkloadInfo {
    /// None for a pod a DaemonSet controls (the daemon pods' own watch has those).
    pub fn from_pod(p: &core::Pod) -> Option<Self> {
        let owner = p.metadata.owner_references.iter().flatten().find(|o| o.controller == Some(true));
        if owner.is_some_and(|o| o.kind == "DaemonSet") {
            return None;
        }
        let spec = p.spec.as_ref();
        Some(WorkloadInfo {
            uid: p.metadata.uid.clone().unwrap_or_default(),
            namespace: p.metadata.namespace.clone().unwrap_or_default(),
            name: p.metadata.name.clone().unwrap_or_default(),
            node: spec.and_then(|s| s.node_name.clone()).filter(|n| !n.is_empty()),
            owner_kind: owner.map(|o| o.kind.clone()).unwrap_or_default(),
            owner_name: owner.map(|o| o.name.clone()).unwrap_or_default(),
            started: p.status.as_ref().and_then(|s| s.start_time.as_ref()).map(|t| t.0),
            priority: spec.and_then(|s| s.priority).unwrap_or(0),
        })
    }
}

/// One startup taint of a node and when it was seen gone.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StartupTaint {
    pub key: String,
    pub effect: String,
    pub gone: Option<Timestamp>,
}

/// What the tracker remembers of one node in the window.
#[derive(Debug, Clone, PartialEq)]
pub struct NodeSeen {
    pub created: Timestamp,
    pub first_seen: Timestamp,
    pub first_ready: Option<(Timestamp, ReadyKnown)>,
    pub startup_taints: Vec<StartupTaint>,
}

/// Who made a workload pod — namespace, controller kind and name, and the pods'
/// priority — shared by all its pods (a ReplicaSet's hundred pods hold one).
#[derive(Debug, PartialEq, Eq, Hash)]
pub struct Owner {
    pub namespace: IStr,
    /// `ReplicaSet`, `Job`, …; empty for a bare pod.
    pub kind: IStr,
    pub name: IStr,
    pub priority: i32,
}

/// Length of the suffix the API server adds to a `generateName` (`<owner>-` + 5
/// characters, `k8s.io/apiserver/pkg/storage/names`), as ReplicaSets and Jobs name pods.
const SUFFIX: usize = 5;

/// A workload pod's name: `<owner name>-<5 characters>` kept as the suffix alone (the
/// owner holds the rest), any other name whole. 16 bytes either way.
#[derive(Debug, Clone)]
enum Name {
    Suffix([u8; SUFFIX]),
    Full(Box<str>),
}

/// A workload pod, compact: 56 bytes and no allocation of its own when its name is its
/// owner's plus a generated suffix. Its node is the key it is kept under.
#[derive(Debug, Clone)]
pub struct Workload {
    uid: Uid,
    name: Name,
    owner: Arc<Owner>,
    /// `status.startTime` in Unix seconds (None: not started, or out of range).
    started: Option<NonZeroU32>,
}

impl Workload {
    pub fn namespace(&self) -> &str {
        &self.owner.namespace
    }

    pub fn name(&self) -> String {
        match &self.name {
            Name::Suffix(s) => format!("{}-{}", self.owner.name, String::from_utf8_lossy(s)),
            Name::Full(n) => n.to_string(),
        }
    }

    /// The controller's kind (empty for a bare pod).
    pub fn owner_kind(&self) -> &str {
        &self.owner.kind
    }

    pub fn owner_name(&self) -> &str {
        &self.owner.name
    }

    pub fn priority(&self) -> i32 {
        self.owner.priority
    }

    pub fn started(&self) -> Option<Timestamp> {
        self.started.and_then(|s| Timestamp::from_second(i64::from(s.get())).ok())
    }
}

fn name_of(name: String, owner: &str) -> Name {
    let b = name.as_bytes();
    if !owner.is_empty()
        && b.len() == owner.len() + 1 + SUFFIX
        && name.starts_with(owner)
        && b[owner.len()] == b'-'
        && b[owner.len() + 1..].iter().all(u8::is_ascii_alphanumeric)
    {
        let mut s = [0; SUFFIX];
        s.copy_from_slice(&b[owner.len() + 1..]);
        return Name::Suffix(s);
    }
    Name::Full(name.into_boxed_str())
}

#[derive(Debug, Default)]
pub struct JoinTracker {
    since: Option<Duration>,
    nodes: HashMap<String, NodeSeen>,
    /// Workload pods by node (only nodes in the window, or any before the nodes are listed);
    /// each node's list holds exactly its pods (no spare capacity).
    workloads: HashMap<IStr, Vec<Workload>>,
    /// The owners the workload pods share; those no pod holds any more go as the set grows.
    owners: HashSet<Arc<Owner>>,
    owners_swept: usize,
    strings: Interner,
    /// Workload uids seen since a relist of them began.
    resync: Option<HashSet<Uid>>,
}

impl JoinTracker {
    /// The window ([`JoinSettings::since`]); nodes created before `now - since` are
    /// forgotten on the next observation.
    pub fn set_window(&mut self, since: Duration) {
        self.since = Some(since);
    }

    fn window(&self) -> Duration {
        self.since.unwrap_or(JoinSettings::default().since)
    }

    fn young(&self, created: Timestamp, now: Timestamp) -> bool {
        now.duration_since(created) <= SignedDuration::try_from(self.window()).unwrap_or(SignedDuration::MAX)
    }

    pub fn seen(&self, node: &str) -> Option<&NodeSeen> {
        self.nodes.get(node)
    }

    /// The nodes in the window, by name.
    pub fn nodes(&self) -> impl Iterator<Item = (&str, &NodeSeen)> {
        self.nodes.iter().map(|(k, v)| (k.as_str(), v))
    }

    pub fn workloads_on(&self, node: &str) -> &[Workload] {
        self.workloads.get(node).map(Vec::as_slice).unwrap_or_default()
    }

    /// Workload pods held.
    pub fn workload_count(&self) -> usize {
        self.workloads.values().map(Vec::len).sum()
    }

    /// A node came or changed at `now`.
    pub fn node(&mut self, n: &NodeInfo, now: Timestamp) {
        let Some(created) = n.created else { return };
        if !self.young(created, now) {
            self.forget(&n.name);
            return;
        }
        let ready = n.condition("Ready").filter(|c| c.status == "True").map(|c| c.last_transition.unwrap_or(now));
        let fresh = now.duration_since(created) <= SignedDuration::try_from(FRESH).unwrap_or_default();
        let present: Vec<(&str, &str)> = n.facts.taints.iter().map(|t| (t.key.as_str(), t.effect.as_str())).collect();
        let entry = self.nodes.entry(n.name.clone()).or_insert_with(|| NodeSeen {
            created,
            first_seen: now,
            first_ready: ready.map(|t| (t, ReadyKnown::Condition)),
            startup_taints: if fresh {
                present
                    .iter()
                    .filter(|(k, e)| matches!(*e, "NoSchedule" | "NoExecute") && !LIFECYCLE_TAINTS.contains(k))
                    .map(|(k, e)| StartupTaint { key: k.to_string(), effect: e.to_string(), gone: None })
                    .collect()
            } else {
                Vec::new()
            },
        });
        if entry.first_ready.is_none()
            && let Some(t) = ready
        {
            entry.first_ready = Some((t, ReadyKnown::Watched));
        }
        for (k, e) in &present {
            if KNOWN_STARTUP_TAINTS.contains(k) && !entry.startup_taints.iter().any(|s| s.key == *k && s.effect == *e) {
                entry.startup_taints.push(StartupTaint { key: k.to_string(), effect: e.to_string(), gone: None });
            }
        }
        for s in entry.startup_taints.iter_mut().filter(|s| s.gone.is_none()) {
            if !present.contains(&(s.key.as_str(), s.effect.as_str())) {
                s.gone = Some(now);
            }
        }
        self.prune(now);
    }

    /// Forgets the nodes that have left the window (and their workload pods).
    pub fn prune(&mut self, now: Timestamp) {
        let old: Vec<String> = self.nodes.iter().filter(|(_, s)| !self.young(s.created, now)).map(|(k, _)| k.clone()).collect();
        for n in old {
            self.forget(&n);
        }
    }

    /// A node is gone, or old: nothing of it is kept.
    pub fn forget(&mut self, node: &str) {
        self.nodes.remove(node);
        self.workloads.remove(node);
    }

    /// The nodes have been (re)listed: workload pods on nodes not in the window (old, or
    /// not there at all) go.
    pub fn nodes_listed(&mut self) {
        let stray: Vec<IStr> = self.workloads.keys().filter(|n| !self.nodes.contains_key(n.as_str())).cloned().collect();
        for n in stray {
            self.forget(&n);
        }
    }

    /// A workload pod came or changed: kept when its node is in the window, or not known
    /// yet (`node_known`: the model has the node; its own event may come later).
    pub fn workload(&mut self, w: WorkloadInfo, node_known: bool) {
        let uid = Uid::from(w.uid.as_str());
        // A pod's node does not change once set (binding is final), so its old version
        // is on the same node, or nowhere (not bound yet).
        self.workload_gone(&w.uid, w.node.as_deref());
        if let Some(seen) = self.resync.as_mut() {
            seen.insert(uid.clone());
        }
        let Some(node) = w.node else { return };
        if node_known && !self.nodes.contains_key(&node) {
            return;
        }
        let owner = self.owner(w.namespace, w.owner_kind, w.owner_name, w.priority);
        let name = name_of(w.name, &owner.name);
        let started = w.started.and_then(|t| u32::try_from(t.as_second()).ok()).and_then(NonZeroU32::new);
        let entry = Workload { uid, name, owner, started };
        if !self.workloads.contains_key(node.as_str()) {
            let mut key = IStr::from(node.as_str());
            self.strings.intern(&mut key);
            self.workloads.insert(key, Vec::new());
        }
        let Some(list) = self.workloads.get_mut(node.as_str()) else { return };
        // Exactly as long as it needs (a node holds tens of pods; growing by one is cheap).
        list.reserve_exact(1);
        list.push(entry);
    }

    /// The shared owner of these values.
    fn owner(&mut self, namespace: String, kind: String, name: String, priority: i32) -> Arc<Owner> {
        let (mut namespace, mut kind, mut name) = (IStr::from(namespace), IStr::from(kind), IStr::from(name));
        for s in [&mut namespace, &mut kind, &mut name] {
            self.strings.intern(s);
        }
        let o = Owner { namespace, kind, name, priority };
        if let Some(shared) = self.owners.get(&o) {
            return shared.clone();
        }
        if self.owners.len() >= 2 * self.owners_swept.max(64) {
            self.owners.retain(|o| Arc::strong_count(o) > 1);
            self.owners_swept = self.owners.len();
        }
        let shared = Arc::new(o);
        self.owners.insert(shared.clone());
        shared
    }

    /// A workload pod is gone: looked for on `node` (where the pod was bound), or on every
    /// node when that is not known.
    pub fn workload_gone(&mut self, uid: &str, node: Option<&str>) {
        let uid = Uid::from(uid);
        let mut empty = None;
        for (n, list) in self.workloads.iter_mut().filter(|(n, _)| node.is_none_or(|node| n.as_str() == node)) {
            if let Some(i) = list.iter().position(|w| w.uid == uid) {
                list.remove(i);
                list.shrink_to_fit();
                if list.is_empty() {
                    empty = Some(n.clone());
                }
                break;
            }
        }
        if let Some(n) = empty {
            self.workloads.remove(n.as_str());
        }
    }

    /// A relist of the workload pods begins / ends (those not seen again are gone).
    pub fn workloads_resync(&mut self, start: bool) {
        if start {
            self.resync = Some(HashSet::new());
            return;
        }
        let Some(seen) = self.resync.take() else { return };
        for list in self.workloads.values_mut() {
            let before = list.len();
            list.retain(|w| seen.contains(&w.uid));
            if list.len() != before {
                list.shrink_to_fit();
            }
        }
        self.workloads.retain(|_, l| !l.is_empty());
    }

    /// About how many bytes the workload index holds: the entries, the names kept whole,
    /// each node's map slot and list, the owners (their shared strings once).
    pub fn workload_bytes(&self) -> usize {
        let entries: usize =
            self.workloads.values().flatten().map(|w| size_of::<Workload>() + if let Name::Full(n) = &w.name { n.len() } else { 0 }).sum();
        let slots = self.workloads.capacity() * (size_of::<(IStr, Vec<Workload>)>() + 1);
        let owners = self.owners.capacity() * (size_of::<Arc<Owner>>() + 1) + self.owners.len() * (size_of::<Owner>() + 16);
        entries + slots + owners
    }
}

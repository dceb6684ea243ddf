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

use std::time::Duration;

use hashbrown::{HashMap, HashSet};
use jiff::{SignedDuration, Timestamp};
use k8s_openapi::api::core::v1 as core;

use super::settings::{JoinSettings, KNOWN_STARTUP_TAINTS};
use crate::k8s::eligibility::LIFECYCLE_TAINTS;
use crate::model::atoms::{IStr, Interner, Time, Uid};
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

/// A workload pod, compact (shared strings through the tracker's interner).
#[derive(Debug, Clone)]
pub struct Workload {
    pub uid: Uid,
    pub namespace: IStr,
    pub name: Box<str>,
    pub owner_kind: IStr,
    pub owner_name: IStr,
    pub started: Time,
    pub priority: i32,
}

#[derive(Debug, Default)]
pub struct JoinTracker {
    since: Option<Duration>,
    nodes: HashMap<String, NodeSeen>,
    /// Workload pods by node (only nodes in the window, or any before the nodes are listed).
    workloads: HashMap<IStr, Vec<Workload>>,
    /// Each workload pod's node, to forget it by uid.
    node_of: HashMap<Uid, IStr>,
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
        self.node_of.len()
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
        if let Some(ws) = self.workloads.remove(node) {
            for w in ws {
                self.node_of.remove(&w.uid);
            }
        }
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
        if let Some(seen) = self.resync.as_mut() {
            seen.insert(uid.clone());
        }
        self.workload_gone(&w.uid);
        let Some(node) = w.node else { return };
        if node_known && !self.nodes.contains_key(&node) {
            return;
        }
        let mut node = IStr::from(node);
        let (mut namespace, mut owner_kind, mut owner_name) = (IStr::from(w.namespace), IStr::from(w.owner_kind), IStr::from(w.owner_name));
        for s in [&mut node, &mut namespace, &mut owner_kind, &mut owner_name] {
            self.strings.intern(s);
        }
        self.node_of.insert(uid.clone(), node.clone());
        self.workloads.entry(node).or_default().push(Workload {
            uid,
            namespace,
            name: w.name.into(),
            owner_kind,
            owner_name,
            started: w.started.into(),
            priority: w.priority,
        });
    }

    pub fn workload_gone(&mut self, uid: &str) {
        let uid = Uid::from(uid);
        if let Some(node) = self.node_of.remove(&uid)
            && let Some(ws) = self.workloads.get_mut(node.as_str())
        {
            ws.retain(|w| w.uid != uid);
            if ws.is_empty() {
                self.workloads.remove(node.as_str());
            }
        }
    }

    /// A relist of the workload pods begins / ends (those not seen again are gone).
    pub fn workloads_resync(&mut self, start: bool) {
        if start {
            self.resync = Some(HashSet::new());
            return;
        }
        let Some(seen) = self.resync.take() else { return };
        let gone: Vec<Uid> = self.node_of.keys().filter(|u| !seen.contains(*u)).cloned().collect();
        for u in gone {
            self.workload_gone(&u.to_string());
        }
    }

    /// About how many bytes the workload index holds (entries, names and map slots; the
    /// shared strings once).
    pub fn workload_bytes(&self) -> usize {
        let per = std::mem::size_of::<Workload>() + std::mem::size_of::<(Uid, IStr)>() + 16;
        self.workloads.values().flatten().map(|w| per + w.name.len()).sum::<usize>()
            + self.workloads.len() * (std::mem::size_of::<(IStr, Vec<Workload>)>() + 8)
    }
}

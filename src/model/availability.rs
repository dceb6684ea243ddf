//! Unavailability as the DaemonSet controller counts it in a rolling update without surge
//! (`rollingUpdate` in update.go, semantics §4): one node at a time, from the DaemonSet's
//! pods on it. The store keeps, per DaemonSet, the nodes that are (or, within
//! `minReadySeconds`, still may be) unavailable, adjusted as cells are recomputed, so a
//! frame counts them without walking every pod.
//!
//! May import: `model::compact`, `model::coverage`.

use std::collections::{BTreeMap, BTreeSet};

use super::compact::{DsInfo, PodInfo};
use super::coverage::is_updated;

/// The store's node id.
type NodeId = u32;

/// What holds one node up, before the clock is consulted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Hold {
    /// Unavailable whatever the time.
    Always,
    /// Its one pod became Ready at this time: unavailable until `minReadySeconds` passed.
    ReadySince(jiff::Timestamp),
}

/// Why the node is unavailable, as the controller's `findUpdatedPodsOnNode` and
/// availability checks see it.
enum Kind<'a> {
    /// No pod it counts, on a node it wants to run one on (`updatedDesiredNodeCounts`
    /// adds those nodes with no pods).
    NoPod,
    Several(usize),
    Terminating,
    OldAndNew,
    /// Only a new pod (true) or only an old one (false), not available.
    One(&'a PodInfo, bool),
}

/// What the controller sees on the node; None when it does not look at the node at all.
fn kind<'a>(ds: &DsInfo, pods: &[&'a PodInfo], should_run: bool) -> Option<Kind<'a>> {
    // Terminal pods that are also being deleted count nowhere.
    let counted = |p: &&PodInfo| !(p.deleting.is_some() && (p.phase == "Succeeded" || p.phase == "Failed"));
    if !pods.iter().any(counted) {
        return should_run.then_some(Kind::NoPod);
    }
    let (mut news, mut olds, mut new, mut old) = (0, 0, None, None);
    for p in pods.iter().copied().filter(|p| p.deleting.is_none()) {
        if is_updated(ds, p) {
            news += 1;
            new.get_or_insert(p);
        } else {
            olds += 1;
            old.get_or_insert(p);
        }
    }
    Some(match (old, new) {
        _ if olds > 1 || news > 1 => Kind::Several(olds + news),
        (None, None) => Kind::Terminating,
        (Some(_), Some(_)) => Kind::OldAndNew,
        (None, Some(n)) => Kind::One(n, true),
        (Some(o), None) => Kind::One(o, false),
    })
}

/// What holds the node, or None when it is available or the controller does not count
/// it. `should_run`: the controller wants the daemon on this node.
pub fn hold(ds: &DsInfo, pods: &[&PodInfo], should_run: bool) -> Option<Hold> {
    hold_of(ds, &kind(ds, pods, should_run)?)
}

fn hold_of(ds: &DsInfo, k: &Kind<'_>) -> Option<Hold> {
    match k {
        Kind::One(p, _) if !p.ready => Some(Hold::Always),
        Kind::One(_, _) if ds.min_ready_seconds == 0 => None,
        Kind::One(p, _) => Some(p.ready_since().map_or(Hold::Always, Hold::ReadySince)),
        _ => Some(Hold::Always),
    }
}

/// Whether a hold still holds at `now`: `podutil.IsPodAvailable` makes a pod available
/// once Ready for longer than minReadySeconds (`readySince + minReadySeconds` before now).
fn holds(h: Hold, min_ready_seconds: i32, now: jiff::Timestamp) -> bool {
    match h {
        Hold::Always => true,
        Hold::ReadySince(t) => t + jiff::SignedDuration::from_secs(i64::from(min_ready_seconds)) >= now,
    }
}

/// Why the node is unavailable at `now`, in words; None when it is available. `down`
/// (the node is NotReady) is said, not counted.
pub fn why(ds: &DsInfo, pods: &[&PodInfo], should_run: bool, down: bool, now: jiff::Timestamp) -> Option<String> {
    let k = kind(ds, pods, should_run)?;
    if !holds(hold_of(ds, &k)?, ds.min_ready_seconds, now) {
        return None;
    }
    let on = if down { " on a NotReady node" } else { "" };
    Some(match k {
        Kind::NoPod => format!("no pod yet{on}"),
        Kind::Several(n) => format!("{n} pods of the DaemonSet{on}"),
        Kind::Terminating => format!("old pod Terminating{on}"),
        Kind::OldAndNew => format!("an old and a new pod{on}"),
        Kind::One(p, true) => format!("new pod {} not available yet{on}", p.name),
        Kind::One(p, false) => format!("old pod {} not available (replaced first){on}", p.name),
    })
}

/// One DaemonSet's held nodes, kept as its cells are recomputed. Two are equal when they
/// hold the same nodes: what was seen failing before is history, which a recount from
/// the pods as they are now cannot have.
#[derive(Debug, Clone, Default)]
pub struct Holds {
    by_node: BTreeMap<NodeId, Hold>,
    always: u32,
    /// The `ReadySince` holds by time, to count those still inside `minReadySeconds`.
    timed: BTreeSet<(jiff::Timestamp, NodeId)>,
    /// Nodes where a pod was seen failing, since when: kept after that pod is replaced,
    /// until a pod is Ready there — so a new pod that fails there, where a pod already
    /// failed before the rollout began, is known not to fail because of it.
    failed_old: BTreeMap<NodeId, jiff::Timestamp>,
}

impl PartialEq for Holds {
    fn eq(&self, o: &Self) -> bool {
        (&self.by_node, self.always, &self.timed) == (&o.by_node, o.always, &o.timed)
    }
}

impl Eq for Holds {}

impl Holds {
    /// The node's cell was recomputed: `failing`, its pod fails (since when); `ready`, a
    /// pod is Ready there now.
    pub fn note(&mut self, node: NodeId, failing: Option<jiff::Timestamp>, ready: bool) {
        match failing {
            Some(t) => {
                self.failed_old.entry(node).or_insert(t);
            }
            None if ready => {
                self.failed_old.remove(&node);
            }
            None => {}
        }
    }

    /// Since when a pod has been failing on the node (the first seen), if one was seen.
    pub fn failed_before(&self, node: NodeId) -> Option<jiff::Timestamp> {
        self.failed_old.get(&node).copied()
    }

    /// Sets what holds `node` (None: nothing).
    pub fn set(&mut self, node: NodeId, h: Option<Hold>) {
        let old = match h {
            Some(h) => self.by_node.insert(node, h),
            None => self.by_node.remove(&node),
        };
        if old == h {
            return;
        }
        match old {
            Some(Hold::Always) => self.always -= 1,
            Some(Hold::ReadySince(t)) => {
                self.timed.remove(&(t, node));
            }
            None => {}
        }
        match h {
            Some(Hold::Always) => self.always += 1,
            Some(Hold::ReadySince(t)) => {
                self.timed.insert((t, node));
            }
            None => {}
        }
    }

    /// How many nodes are unavailable at `now`.
    pub fn count(&self, min_ready_seconds: i32, now: jiff::Timestamp) -> usize {
        // Held while t + minReadySeconds ≥ now, i.e. t ≥ now − minReadySeconds.
        let cutoff = now - jiff::SignedDuration::from_secs(i64::from(min_ready_seconds));
        let inside = self.timed.range((cutoff, 0)..);
        self.always as usize + inside.filter(|(t, _)| holds(Hold::ReadySince(*t), min_ready_seconds, now)).count()
    }

    /// The nodes unavailable at `now`, by id.
    pub fn nodes(&self, min_ready_seconds: i32, now: jiff::Timestamp) -> impl Iterator<Item = NodeId> + '_ {
        self.by_node.iter().filter(move |(_, h)| holds(**h, min_ready_seconds, now)).map(|(id, _)| *id)
    }
}

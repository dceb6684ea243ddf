//! Per node, over every DaemonSet: how many of its cells are in each state, and the live
//! nodes kept in problem order (the worst cell first — failing, node down, missing,
//! misscheduled, then starting/terminating/outdated — then the counts, then by name). Adjusted cell by cell as coverage changes, so a view reads a
//! node's counts and the order without counting or sorting every node each frame.
//!
//! May import: `model::coverage`.

use std::collections::BTreeMap;
use std::sync::Arc;

use super::coverage::{CellState, FINE};

/// A node's id in the model (dense, never reused).
type NodeId = u32;

/// Per node, over every DaemonSet: how its daemons are there.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NodeDaemons {
    /// The severity of its worst cell ([`CellState::severity`]; smaller is worse).
    pub worst: u8,
    /// Broken there (`CellState::is_broken`: failing, missing, starting, misscheduled,
    /// terminating) — not merely outdated, and not because the node is down.
    pub broken: u32,
    /// On an old revision (shown apart from broken: a rollout, not a fault).
    pub outdated: u32,
    /// Waiting for the node to come back (node-not-ready).
    pub down: u32,
    /// Ready.
    pub ok: u32,
    /// Should run there, or would once the node is up again.
    pub expected: u32,
}

impl Default for NodeDaemons {
    fn default() -> Self {
        NodeDaemons { worst: FINE, broken: 0, outdated: 0, down: 0, ok: 0, expected: 0 }
    }
}

impl NodeDaemons {
    /// From the count of the node's cells in each state.
    pub fn of(counts: &[u32; CellState::COUNT]) -> NodeDaemons {
        let mut n = NodeDaemons::default();
        for s in CellState::ALL {
            let c = counts[s as usize];
            if c > 0 {
                n.worst = n.worst.min(s.severity());
            }
            n.broken += if s.is_broken() { c } else { 0 };
            n.outdated += if s == CellState::Outdated { c } else { 0 };
            n.down += if s.is_node_problem() { c } else { 0 };
            n.ok += if s == CellState::Ready { c } else { 0 };
            n.expected += if s.is_eligible() || s.is_node_problem() { c } else { 0 };
        }
        n
    }

    /// Worst first: by the node's worst cell (a crash-looping daemon, then a down node,
    /// before three daemons merely starting), then by how many daemons are broken, down,
    /// outdated.
    pub fn rank(&self) -> Rank {
        Rank(self.worst, std::cmp::Reverse(self.broken), std::cmp::Reverse(self.down), std::cmp::Reverse(self.outdated))
    }
}

/// The problem order's key: smaller is worse.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Rank(u8, std::cmp::Reverse<u32>, std::cmp::Reverse<u32>, std::cmp::Reverse<u32>);

#[derive(Debug, Default)]
pub struct NodeTally {
    /// By node id: how many DaemonSets are in each state there (`Absent` is not counted).
    counts: Vec<[u32; CellState::COUNT]>,
    /// By node id: the name while the node is live (shared with the order's key).
    names: Vec<Option<Arc<str>>>,
    /// The live nodes, worst first, then by name.
    order: BTreeMap<(Rank, Arc<str>), NodeId>,
}

impl NodeTally {
    fn grow(&mut self, id: NodeId) {
        let i = id as usize;
        if self.counts.len() <= i {
            self.counts.resize(i + 1, [0; CellState::COUNT]);
            self.names.resize(i + 1, None);
        }
    }

    pub fn daemons(&self, id: NodeId) -> NodeDaemons {
        self.counts.get(id as usize).map(NodeDaemons::of).unwrap_or_default()
    }

    /// A node's cell went from `old` to `new`.
    pub fn shift(&mut self, id: NodeId, old: CellState, new: CellState) {
        if old == new {
            return;
        }
        self.grow(id);
        let i = id as usize;
        let before = NodeDaemons::of(&self.counts[i]).rank();
        if old != CellState::Absent {
            self.counts[i][old as usize] -= 1;
        }
        if new != CellState::Absent {
            self.counts[i][new as usize] += 1;
        }
        let after = NodeDaemons::of(&self.counts[i]).rank();
        if before != after
            && let Some(name) = &self.names[i]
        {
            self.order.remove(&(before, name.clone()));
            self.order.insert((after, name.clone()), id);
        }
    }

    /// The node is live (known, not gone) under `name`.
    pub fn live(&mut self, id: NodeId, name: &str) {
        self.grow(id);
        let i = id as usize;
        if self.names[i].is_none() {
            let name: Arc<str> = name.into();
            self.order.insert((NodeDaemons::of(&self.counts[i]).rank(), name.clone()), id);
            self.names[i] = Some(name);
        }
    }

    /// The node is gone.
    pub fn gone(&mut self, id: NodeId) {
        if let Some(name) = self.names.get_mut(id as usize).and_then(Option::take) {
            self.order.remove(&(NodeDaemons::of(&self.counts[id as usize]).rank(), name));
        }
    }

    /// The live nodes, most problems first, then by name.
    pub fn by_problems(&self) -> impl DoubleEndedIterator<Item = NodeId> + '_ {
        self.order.values().copied()
    }
}

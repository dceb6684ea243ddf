//! The pod store: pods by dense id, found by uid through a table of ids alone; and one
//! DaemonSet's pods by node id.
//!
//! May import: `model::atoms`, `model::compact`.

use std::collections::HashMap;
use std::hash::BuildHasher;

use hashbrown::HashTable;

use super::atoms::{Uid, UidRef};
use super::compact::PodInfo;

/// Node ids, as the model gives them.
type NodeId = u32;

pub type PodId = u32;

/// Pods by dense id, found by uid through a table of ids alone (the uid is read from the
/// pod itself, so the index holds no second copy of it: 4 bytes a pod, plus a control
/// byte). Values are boxed so a slot is 8 bytes and a growing `Vec` copies only pointers.
#[derive(Default)]
pub struct Pods {
    ids: HashTable<PodId>,
    hasher: hashbrown::DefaultHashBuilder,
    slots: Vec<Option<Box<PodInfo>>>,
    free: Vec<PodId>,
}

impl std::fmt::Debug for Pods {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Pods").field("len", &self.ids.len()).finish_non_exhaustive()
    }
}

impl Pods {
    fn hash(&self, uid: UidRef<'_>) -> u64 {
        self.hasher.hash_one(uid)
    }

    fn uid_of(slots: &[Option<Box<PodInfo>>], id: PodId) -> Option<UidRef<'_>> {
        slots.get(id as usize).and_then(|p| p.as_deref()).map(|p| p.uid.as_ref())
    }

    fn find(&self, uid: UidRef<'_>) -> Option<PodId> {
        self.ids.find(self.hash(uid), |id| Self::uid_of(&self.slots, *id) == Some(uid)).copied()
    }

    pub fn get(&self, uid: &str) -> Option<&PodInfo> {
        self.find(UidRef::parse(uid)).and_then(|i| self.at(i))
    }

    pub fn at(&self, id: PodId) -> Option<&PodInfo> {
        self.slots.get(id as usize).and_then(|p| p.as_deref())
    }

    /// Stores `p` (keeping its id if the uid is known) and returns the id and the old value.
    pub fn insert(&mut self, p: PodInfo) -> (PodId, Option<PodInfo>) {
        if let Some(id) = self.find(p.uid.as_ref()) {
            let old = self.slots[id as usize].replace(Box::new(p));
            return (id, old.map(|b| *b));
        }
        let id = match self.free.pop() {
            Some(id) => id,
            None => {
                self.slots.push(None);
                (self.slots.len() - 1) as PodId
            }
        };
        let h = self.hash(p.uid.as_ref());
        self.slots[id as usize] = Some(Box::new(p));
        let (slots, hasher) = (&self.slots, &self.hasher);
        self.ids.insert_unique(h, id, |i| Self::uid_of(slots, *i).map_or(0, |u| hasher.hash_one(u)));
        (id, None)
    }

    pub fn remove(&mut self, uid: &str) -> Option<(PodId, PodInfo)> {
        let uid = UidRef::parse(uid);
        let h = self.hash(uid);
        let slots = &self.slots;
        let id = self.ids.find_entry(h, |id| Self::uid_of(slots, *id) == Some(uid)).ok()?.remove().0;
        let p = self.slots[id as usize].take()?;
        self.free.push(id);
        Some((id, *p))
    }

    pub fn len(&self) -> usize {
        self.ids.len()
    }

    pub fn uids(&self) -> impl Iterator<Item = &Uid> {
        self.slots.iter().flatten().map(|p| &p.uid)
    }
}

const NO_POD: PodId = PodId::MAX;

/// One DaemonSet's pods by node: the first pod of each node in a dense `Vec` by node id
/// (4 bytes a node), the others (a surge's second pod) in a map of the few such nodes.
#[derive(Debug, Default)]
pub struct DsPods {
    first: Vec<PodId>,
    more: HashMap<NodeId, Vec<PodId>>,
}

impl DsPods {
    pub fn add(&mut self, node: NodeId, id: PodId) {
        let i = node as usize;
        if self.first.len() <= i {
            self.first.resize(i + 1, NO_POD);
        }
        if self.first[i] == NO_POD {
            self.first[i] = id;
        } else {
            self.more.entry(node).or_default().push(id);
        }
    }

    pub fn remove(&mut self, node: NodeId, id: PodId) {
        let Some(first) = self.first.get_mut(node as usize) else { return };
        let more = self.more.get_mut(&node);
        if *first == id {
            *first = match more {
                Some(v) => v.remove(0),
                None => NO_POD,
            };
        } else if let Some(v) = more {
            v.retain(|i| *i != id);
        }
        if self.more.get(&node).is_some_and(Vec::is_empty) {
            self.more.remove(&node);
        }
    }

    pub fn on(&self, node: NodeId) -> impl Iterator<Item = PodId> + '_ {
        let first = self.first.get(node as usize).copied().filter(|i| *i != NO_POD);
        first.into_iter().chain(self.more.get(&node).into_iter().flatten().copied())
    }

    pub fn all(&self) -> impl Iterator<Item = PodId> + '_ {
        self.first.iter().copied().filter(|i| *i != NO_POD).chain(self.more.values().flatten().copied())
    }

    /// Nodes with more than one pod.
    pub fn crowded(&self) -> impl Iterator<Item = NodeId> + '_ {
        self.more.keys().copied()
    }
}

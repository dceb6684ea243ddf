//! The simulator's object store: typed objects per kind, a global resourceVersion,
//! and a bounded history of watch events (the etcd + watch-cache of a real cluster).
//!
//! Objects are kept as `Arc<T>` so lists and controllers copy pointers, not objects.
//! Each write serialises the object once; every watcher shares those bytes.
//!
//! May import: `sim::errors`, `sim::kind`.

use std::collections::{BTreeMap, VecDeque};
use std::sync::Arc;

use bytes::Bytes;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{ObjectMeta, Time};
use parking_lot::RwLock;
use rand::Rng;
use serde::Serialize;
use serde::de::DeserializeOwned;
use tokio::sync::watch;

use super::errors::ApiError;
use super::kind::Kind;

pub type Key = (String, String);

/// A type the store can hold.
pub trait SimObject: Clone + Serialize + DeserializeOwned + Send + Sync + 'static + k8s_openapi::Metadata<Ty = ObjectMeta> {
    const SIM_KIND: Kind;
    fn table(inner: &Inner) -> &BTreeMap<Key, Arc<Self>>;
    fn table_mut(inner: &mut Inner) -> &mut BTreeMap<Key, Arc<Self>>;
    /// Values of the kind-specific selectable fields.
    fn field(&self, name: &str) -> Option<String>;
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EventType {
    Added,
    Modified,
    Deleted,
}

impl EventType {
    pub fn as_str(self) -> &'static str {
        match self {
            EventType::Added => "ADDED",
            EventType::Modified => "MODIFIED",
            EventType::Deleted => "DELETED",
        }
    }
}

/// An object as of one revision: its JSON (with kind/apiVersion) and what selectors
/// need. It does not keep the typed object alive: the bounded history would otherwise
/// hold every old version of every object it mentions.
pub struct Snap {
    pub namespace: String,
    pub name: String,
    pub json: Bytes,
    pub labels: BTreeMap<String, String>,
    /// Values of the field-selector labels of the kind (metadata.name/namespace included).
    pub fields: Vec<(&'static str, String)>,
}

impl Snap {
    pub fn of<T: SimObject>(obj: &Arc<T>) -> Arc<Snap> {
        let m = obj.metadata();
        let mut fields: Vec<(&'static str, String)> =
            T::SIM_KIND.selectable_fields().iter().filter_map(|f| Some((*f, obj.field(f)?))).collect();
        fields.push(("metadata.name", m.name.clone().unwrap_or_default()));
        fields.push(("metadata.namespace", m.namespace.clone().unwrap_or_default()));
        Arc::new(Snap {
            namespace: m.namespace.clone().unwrap_or_default(),
            name: m.name.clone().unwrap_or_default(),
            json: Bytes::from(serde_json::to_vec(&**obj).expect("API objects serialise")),
            labels: m.labels.clone().unwrap_or_default(),
            fields,
        })
    }

    pub fn field(&self, name: &str) -> Option<String> {
        self.fields.iter().find(|(f, _)| *f == name).map(|(_, v)| v.clone())
    }

    /// The typed object back from its JSON.
    pub fn decode<T: SimObject>(&self) -> Option<T> {
        serde_json::from_slice(&self.json).ok()
    }
}

pub struct WatchEvent {
    pub rv: u64,
    pub kind: Kind,
    pub typ: EventType,
    /// State before the change (None on create).
    pub old: Option<Arc<Snap>>,
    /// State after the change; for DELETED, the last state.
    pub new: Arc<Snap>,
}

#[derive(Default)]
pub struct Inner {
    pub rv: u64,
    pub namespaces: BTreeMap<Key, Arc<k8s_openapi::api::core::v1::Namespace>>,
    pub nodes: BTreeMap<Key, Arc<k8s_openapi::api::core::v1::Node>>,
    pub pods: BTreeMap<Key, Arc<k8s_openapi::api::core::v1::Pod>>,
    pub events: BTreeMap<Key, Arc<k8s_openapi::api::core::v1::Event>>,
    pub services: BTreeMap<Key, Arc<k8s_openapi::api::core::v1::Service>>,
    pub daemonsets: BTreeMap<Key, Arc<k8s_openapi::api::apps::v1::DaemonSet>>,
    pub revisions: BTreeMap<Key, Arc<k8s_openapi::api::apps::v1::ControllerRevision>>,
    pub priority_classes: BTreeMap<Key, Arc<k8s_openapi::api::scheduling::v1::PriorityClass>>,
    pub pdbs: BTreeMap<Key, Arc<k8s_openapi::api::policy::v1::PodDisruptionBudget>>,
    pub replicasets: BTreeMap<Key, Arc<k8s_openapi::api::apps::v1::ReplicaSet>>,
    pub leases: BTreeMap<Key, Arc<k8s_openapi::api::coordination::v1::Lease>>,
    pub deployments: BTreeMap<Key, Arc<k8s_openapi::api::apps::v1::Deployment>>,
    history: VecDeque<Arc<WatchEvent>>,
    history_cap: usize,
    /// Off while a scenario settles: nobody watches yet, and skipping the snapshots
    /// makes loading 150,000 pods several times faster.
    history_off: bool,
    /// Lowest resourceVersion a watch may still resume from.
    oldest_rv: u64,
    /// Continue tokens older than this are expired (moved only by `compact`).
    compacted_rv: u64,
    uid_counter: u64,
}

pub struct Store {
    inner: RwLock<Inner>,
    rv_tx: watch::Sender<u64>,
    /// Seconds added to the wall clock (negative while a scenario settles "in the past").
    clock_offset: std::sync::atomic::AtomicI64,
    /// While a dump loads: objects keep the uids they came with (owner references name them).
    keep_uids: std::sync::atomic::AtomicBool,
}

/// The five-character random suffix of generateName (`utilrand.String(5)`).
pub fn random_suffix() -> String {
    const ALPHANUMS: &[u8] = b"bcdfghjklmnpqrstvwxz2456789";
    let mut rng = rand::rng();
    (0..5).map(|_| ALPHANUMS[rng.random_range(0..ALPHANUMS.len())] as char).collect()
}

fn key_of(m: &ObjectMeta) -> Key {
    (m.namespace.clone().unwrap_or_default(), m.name.clone().unwrap_or_default())
}

/// Result of looking up events after a resourceVersion.
pub enum Since {
    Events(Vec<Arc<WatchEvent>>),
    /// The resourceVersion is older than the history: 410 Gone.
    Expired {
        oldest: u64,
    },
}

impl Store {
    pub fn new(history_cap: usize) -> Arc<Self> {
        let (rv_tx, _) = watch::channel(1);
        Arc::new(Store {
            inner: RwLock::new(Inner { rv: 1, history_cap: history_cap.max(16), oldest_rv: 1, ..Default::default() }),
            rv_tx,
            clock_offset: Default::default(),
            keep_uids: Default::default(),
        })
    }

    /// The cluster's clock: wall time, shifted while a scenario settles in the past.
    pub fn now(&self) -> jiff::Timestamp {
        jiff::Timestamp::now() + jiff::SignedDuration::from_secs(self.clock_offset.load(std::sync::atomic::Ordering::Relaxed))
    }

    pub fn set_clock_offset(&self, secs: i64) {
        self.clock_offset.store(secs, std::sync::atomic::Ordering::Relaxed);
    }

    /// Objects created from now on keep a uid they carry (loading a dump), or not.
    pub fn set_keep_uids(&self, on: bool) {
        self.keep_uids.store(on, std::sync::atomic::Ordering::Relaxed);
    }

    pub fn clock_offset(&self) -> i64 {
        self.clock_offset.load(std::sync::atomic::Ordering::Relaxed)
    }

    pub fn subscribe(&self) -> watch::Receiver<u64> {
        self.rv_tx.subscribe()
    }

    pub fn current_rv(&self) -> u64 {
        self.inner.read().rv
    }

    pub fn read<R>(&self, f: impl FnOnce(&Inner) -> R) -> R {
        f(&self.inner.read())
    }

    pub fn get<T: SimObject>(&self, ns: &str, name: &str) -> Option<Arc<T>> {
        T::table(&self.inner.read()).get(&(ns.to_string(), name.to_string())).cloned()
    }

    /// All objects of a kind (in one namespace if given), in key order, with the list RV.
    pub fn list<T: SimObject>(&self, ns: Option<&str>) -> (Vec<Arc<T>>, u64) {
        let inner = self.inner.read();
        let t = T::table(&inner);
        let items = match ns {
            Some(ns) => t.range((ns.to_string(), String::new())..).take_while(|((n, _), _)| n == ns).map(|(_, v)| v.clone()).collect(),
            None => t.values().cloned().collect(),
        };
        (items, inner.rv)
    }

    /// One page of a list: up to `limit` matching objects after `after` (in key order),
    /// how many more match (`count`; else 1 when any more do, as the real server leaves
    /// remainingItemCount unset for filtered lists — counting them made paging quadratic),
    /// and the current resourceVersion. Only the page is copied.
    pub fn page<T: SimObject>(
        &self,
        ns: Option<&str>,
        after: Option<&Key>,
        limit: Option<usize>,
        count: bool,
        pred: impl Fn(&T) -> bool,
    ) -> (Vec<Arc<T>>, usize, u64) {
        use std::ops::Bound;
        let inner = self.inner.read();
        let t = T::table(&inner);
        let lower = match (after, ns) {
            (Some(k), _) => Bound::Excluded(k.clone()),
            (None, Some(ns)) => Bound::Included((ns.to_string(), String::new())),
            (None, None) => Bound::Unbounded,
        };
        let mut it =
            t.range((lower, Bound::Unbounded)).take_while(|((n, _), _)| ns.is_none_or(|ns| n == ns)).map(|(_, v)| v).filter(|o| pred(o));
        let limit = limit.unwrap_or(usize::MAX);
        let items: Vec<Arc<T>> = it.by_ref().take(limit).cloned().collect();
        let remaining = if count { it.count() } else { it.next().is_some() as usize };
        (items, remaining, inner.rv)
    }

    pub fn events_since(&self, rv: u64) -> Since {
        let inner = self.inner.read();
        if rv + 1 < inner.oldest_rv {
            return Since::Expired { oldest: inner.oldest_rv };
        }
        let h = &inner.history;
        let start = h.partition_point(|e| e.rv <= rv);
        Since::Events(h.range(start..).cloned().collect())
    }

    /// Takes every object of `other` in place of this store's (a simulated restart onto
    /// another state). resourceVersions keep growing and all history is forgotten, so
    /// every watch must relist (410), as after an etcd restore.
    pub fn replace_with(&self, other: &Store) {
        self.take_state(other, |mine, theirs| mine + theirs + 1);
    }

    /// Takes every object of `other` and its resourceVersion: a server restored onto an
    /// older state (an etcd backup), where resourceVersions go back. A client resuming
    /// from a version it saw before gets `ResourceVersionTooLarge`.
    pub fn restore_from(&self, other: &Store) {
        self.take_state(other, |_, theirs| theirs);
    }

    fn take_state(&self, other: &Store, rv_of: impl FnOnce(u64, u64) -> u64) {
        let mut o = other.inner.write();
        let mut inner = self.inner.write();
        let rv = rv_of(inner.rv, o.rv);
        std::mem::swap(&mut inner.namespaces, &mut o.namespaces);
        std::mem::swap(&mut inner.nodes, &mut o.nodes);
        std::mem::swap(&mut inner.pods, &mut o.pods);
        std::mem::swap(&mut inner.events, &mut o.events);
        std::mem::swap(&mut inner.services, &mut o.services);
        std::mem::swap(&mut inner.daemonsets, &mut o.daemonsets);
        std::mem::swap(&mut inner.revisions, &mut o.revisions);
        std::mem::swap(&mut inner.priority_classes, &mut o.priority_classes);
        std::mem::swap(&mut inner.pdbs, &mut o.pdbs);
        std::mem::swap(&mut inner.replicasets, &mut o.replicasets);
        std::mem::swap(&mut inner.leases, &mut o.leases);
        std::mem::swap(&mut inner.deployments, &mut o.deployments);
        inner.uid_counter = inner.uid_counter.max(o.uid_counter);
        inner.rv = rv;
        inner.history.clear();
        inner.oldest_rv = rv + 1;
        inner.compacted_rv = rv + 1;
        drop(inner);
        self.notify(rv);
    }

    /// New objects get uids after `n` (so a rebuilt state has new identities).
    pub fn skip_uids(&self, n: u64) {
        let mut inner = self.inner.write();
        inner.uid_counter = inner.uid_counter.max(n);
    }

    pub fn uid_counter(&self) -> u64 {
        self.inner.read().uid_counter
    }

    /// Forgets all history: every watch from an older resourceVersion gets 410.
    pub fn compact(&self) {
        let mut inner = self.inner.write();
        inner.history.clear();
        inner.oldest_rv = inner.rv + 1;
        inner.compacted_rv = inner.rv + 1;
    }

    pub fn compacted_rv(&self) -> u64 {
        self.inner.read().compacted_rv
    }

    /// Turns event history off (while settling) or back on; turning it on forgets what
    /// came before, so a watch from an older resourceVersion gets 410.
    pub fn set_history(&self, on: bool) {
        let mut inner = self.inner.write();
        inner.history_off = !on;
        if on {
            inner.history.clear();
            inner.oldest_rv = inner.rv + 1;
        }
    }

    fn push(&self, inner: &mut Inner, kind: Kind, typ: EventType, old: Option<Arc<Snap>>, new: Arc<Snap>) {
        let ev = Arc::new(WatchEvent { rv: inner.rv, kind, typ, old, new });
        inner.history.push_back(ev);
        while inner.history.len() > inner.history_cap {
            if let Some(e) = inner.history.pop_front() {
                inner.oldest_rv = e.rv + 1;
            }
        }
    }

    fn notify(&self, rv: u64) {
        self.rv_tx.send_replace(rv);
    }

    fn next_uid(inner: &mut Inner) -> String {
        inner.uid_counter += 1;
        let n = inner.uid_counter;
        // A stable, UUID-shaped identifier.
        format!("5d1e{:04x}-{:04x}-4{:03x}-8{:03x}-{:012x}", (n >> 48) & 0xffff, (n >> 32) & 0xffff, (n >> 20) & 0xfff, (n >> 8) & 0xfff, n)
    }

    /// Creates an object, filling in uid, resourceVersion, creationTimestamp and a name
    /// from generateName.
    pub fn create<T: SimObject>(&self, mut obj: T) -> Result<Arc<T>, ApiError> {
        let mut inner = self.inner.write();
        let m = obj.metadata_mut();
        if m.name.as_deref().unwrap_or("").is_empty() {
            let Some(prefix) = m.generate_name.clone().filter(|g| !g.is_empty()) else {
                return Err(ApiError::invalid(
                    T::SIM_KIND,
                    "",
                    vec![("metadata.name", "Required value: name or generateName is required".into())],
                ));
            };
            let tbl = T::table(&inner);
            let ns = m.namespace.clone().unwrap_or_default();
            let name = loop {
                let cand = format!("{prefix}{}", random_suffix());
                if !tbl.contains_key(&(ns.clone(), cand.clone())) {
                    break cand;
                }
            };
            obj.metadata_mut().name = Some(name);
        }
        let key = key_of(obj.metadata());
        if T::table(&inner).contains_key(&key) {
            return Err(ApiError::already_exists(T::SIM_KIND, &key.1));
        }
        inner.rv += 1;
        let rv = inner.rv;
        let uid = Self::next_uid(&mut inner);
        let m = obj.metadata_mut();
        if !self.keep_uids.load(std::sync::atomic::Ordering::Relaxed) || m.uid.as_deref().unwrap_or("").is_empty() {
            m.uid = Some(uid);
        }
        m.resource_version = Some(rv.to_string());
        if m.creation_timestamp.is_none() {
            m.creation_timestamp = Some(Time(self.now()));
        }
        m.managed_fields = None;
        let arc = Arc::new(obj);
        T::table_mut(&mut inner).insert(key, arc.clone());
        if !inner.history_off {
            let snap = Snap::of(&arc);
            self.push(&mut inner, T::SIM_KIND, EventType::Added, None, snap);
        }
        drop(inner);
        self.notify(rv);
        Ok(arc)
    }

    /// Replaces an object. `obj.metadata.resourceVersion`, when set, must equal the stored
    /// one (409 otherwise). uid and creationTimestamp are kept from the stored object.
    pub fn update<T: SimObject>(&self, mut obj: T) -> Result<Arc<T>, ApiError> {
        let mut inner = self.inner.write();
        let key = key_of(obj.metadata());
        let Some(old) = T::table(&inner).get(&key).cloned() else {
            return Err(ApiError::not_found(T::SIM_KIND, &key.1));
        };
        if let Some(want) = obj.metadata().resource_version.as_deref().filter(|s| !s.is_empty())
            && Some(want) != old.metadata().resource_version.as_deref()
        {
            return Err(ApiError::conflict(T::SIM_KIND, &key.1));
        }
        inner.rv += 1;
        let rv = inner.rv;
        let om = old.metadata();
        let m = obj.metadata_mut();
        m.uid = om.uid.clone();
        m.creation_timestamp = om.creation_timestamp.clone();
        m.deletion_timestamp = m.deletion_timestamp.clone().or(om.deletion_timestamp.clone());
        m.resource_version = Some(rv.to_string());
        m.managed_fields = None;
        let arc = Arc::new(obj);
        T::table_mut(&mut inner).insert(key, arc.clone());
        if !inner.history_off {
            let (o, n) = (Snap::of(&old), Snap::of(&arc));
            self.push(&mut inner, T::SIM_KIND, EventType::Modified, Some(o), n);
        }
        drop(inner);
        self.notify(rv);
        Ok(arc)
    }

    /// Read-modify-write without a conflict window (what controllers use). `f` returns
    /// false to leave the object untouched.
    pub fn modify<T: SimObject>(&self, ns: &str, name: &str, f: impl FnOnce(&mut T) -> bool) -> Result<Arc<T>, ApiError> {
        let mut inner = self.inner.write();
        let key = (ns.to_string(), name.to_string());
        let Some(old) = T::table(&inner).get(&key).cloned() else {
            return Err(ApiError::not_found(T::SIM_KIND, name));
        };
        let mut obj = (*old).clone();
        if !f(&mut obj) {
            return Ok(old);
        }
        inner.rv += 1;
        let rv = inner.rv;
        obj.metadata_mut().resource_version = Some(rv.to_string());
        let arc = Arc::new(obj);
        T::table_mut(&mut inner).insert(key, arc.clone());
        if !inner.history_off {
            let (o, n) = (Snap::of(&old), Snap::of(&arc));
            self.push(&mut inner, T::SIM_KIND, EventType::Modified, Some(o), n);
        }
        drop(inner);
        self.notify(rv);
        Ok(arc)
    }

    /// Removes an object now. `uid`, when given, must match (delete preconditions).
    pub fn remove<T: SimObject>(&self, ns: &str, name: &str, uid: Option<&str>) -> Result<Arc<T>, ApiError> {
        let mut inner = self.inner.write();
        let key = (ns.to_string(), name.to_string());
        let Some(old) = T::table(&inner).get(&key).cloned() else {
            return Err(ApiError::not_found(T::SIM_KIND, name));
        };
        if let Some(uid) = uid
            && old.metadata().uid.as_deref() != Some(uid)
        {
            return Err(ApiError::precondition_uid(T::SIM_KIND, name, uid, old.metadata().uid.as_deref().unwrap_or("")));
        }
        T::table_mut(&mut inner).remove(&key);
        inner.rv += 1;
        let rv = inner.rv;
        let mut last = (*old).clone();
        last.metadata_mut().resource_version = Some(rv.to_string());
        let last = Arc::new(last);
        let snap = Snap::of(&last);
        self.push(&mut inner, T::SIM_KIND, EventType::Deleted, Some(Snap::of(&old)), snap);
        drop(inner);
        self.notify(rv);
        Ok(last)
    }
}

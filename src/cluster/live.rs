//! One live model — the reflector shape of kube-runtime and client-go — that every front
//! end reads (the TUI, each cluster of the fleet, `status`, `serve`): the model, each
//! watch's sync state (typed: [`SyncFailure`], never words to search), when it last
//! heard from the server, how far its first list got, each DaemonSet's rollout pace, and
//! the ready signal (every watch listed once). Fed by the watches' updates in batches
//! ([`next_batch`]); no front end folds changes itself.
//!
//! May import: `cluster::watch`, `cluster::errors`, `model`, `k8s`.

use std::collections::{BTreeMap, HashMap};
use std::time::{Duration, Instant};

use tokio::sync::mpsc;

use crate::cluster::watch::{SyncFailure, SyncState, Update};
use crate::model::rollout::Pace;
use crate::model::{Change, Model, Resource};

/// One watch as a front end sees it.
#[derive(Debug, Clone)]
pub struct WatchState {
    pub state: SyncState,
    /// When it last delivered an object.
    pub last_event: Option<Instant>,
    /// Until the first full sync: objects received so far, and how many the list holds
    /// when the server said so.
    pub listed: (u64, Option<u64>),
    /// Failing now: since when (the data it feeds is as of then) and the next retry.
    pub failing: Option<Failing>,
}

/// A watch that is failing: the data it feeds is as of `since`.
#[derive(Debug, Clone, PartialEq)]
pub struct Failing {
    pub since: Instant,
    pub retry_at: Instant,
    pub failure: SyncFailure,
    /// Why, in words (for the operator; nothing decides on it).
    pub reason: String,
    pub fatal: bool,
}

/// What applying an update changed in the watches' health (a front end logs or prints it).
#[derive(Debug, Clone, PartialEq)]
pub enum SyncEvent {
    /// The watch of this resource fails (again): as its [`Failing`] now says.
    Failing(Resource),
    /// It is live again after failing this long.
    Recovered(Resource, Duration),
    /// Every watch has listed once: the ready signal, after this long.
    Ready(Duration),
}

pub struct LiveModel {
    pub model: Model,
    watches: BTreeMap<Resource, WatchState>,
    /// Observed pace of each DaemonSet's rollout (by uid).
    paces: HashMap<String, Pace>,
    started: Instant,
    synced_in: Option<Duration>,
}

impl LiveModel {
    /// A live model fed by the watches of `resources`, started now.
    pub fn new(resources: &[Resource]) -> Self {
        let watches = resources
            .iter()
            .map(|r| (*r, WatchState { state: SyncState::Syncing, last_event: None, listed: (0, None), failing: None }))
            .collect();
        LiveModel { model: Model::new(), watches, paces: HashMap::new(), started: Instant::now(), synced_in: None }
    }

    /// Folds one update in; says what changed in the watches' health.
    pub fn apply(&mut self, u: Update) -> Option<SyncEvent> {
        match u {
            Update::Change(c) => {
                self.change(c);
                None
            }
            Update::Sync(r, st) => self.sync(r, st),
        }
    }

    /// Folds a batch in; the health changes in order.
    pub fn apply_batch(&mut self, batch: impl IntoIterator<Item = Update>) -> Vec<SyncEvent> {
        batch.into_iter().filter_map(|u| self.apply(u)).collect()
    }

    fn change(&mut self, c: Change) {
        let now = Instant::now();
        let synced = self.synced_in.is_some();
        if let Some(w) = c.resource().and_then(|r| self.watches.get_mut(&r)) {
            if c.is_object() {
                w.last_event = Some(now);
                // The list's objects, not the watch events after it (the progress line).
                if !synced && w.state != SyncState::Live {
                    w.listed.0 += 1;
                }
            }
            if let Change::ListTotal(_, n) = &c {
                w.listed.1 = Some(*n);
            }
        }
        if let Change::DaemonSet(d) = &c {
            let pace = self.paces.entry(d.uid.clone()).or_default();
            pace.observe(now, d.updated, d.available);
            pace.observe_under_way(crate::model::rollout::under_way(&self.model, d), jiff::Timestamp::now());
        }
        if let Change::DaemonSetGone { namespace, name } = &c
            && let Some(d) = self.model.daemonset(namespace, name)
        {
            self.paces.remove(&d.uid);
        }
        self.model.apply(c);
    }

    fn sync(&mut self, r: Resource, st: SyncState) -> Option<SyncEvent> {
        let now = Instant::now();
        let w =
            self.watches.entry(r).or_insert(WatchState { state: SyncState::Syncing, last_event: None, listed: (0, None), failing: None });
        let event = match &st {
            SyncState::Reconnecting { reason, failure, fatal, retry_in } => {
                let since = w.failing.as_ref().map_or(now, |f| f.since);
                w.failing = Some(Failing { since, retry_at: now + *retry_in, failure: *failure, reason: reason.clone(), fatal: *fatal });
                Some(SyncEvent::Failing(r))
            }
            SyncState::Live => w.failing.take().map(|f| SyncEvent::Recovered(r, f.since.elapsed())),
            SyncState::Syncing => None,
        };
        w.state = st;
        // The workload pods feed only the joins (every pod of the cluster, listed once):
        // the views that need them wait for that watch themselves ([`LiveModel::is_live`]),
        // the first screen does not.
        if self.synced_in.is_none()
            && self.watches.iter().filter(|(r, _)| **r != Resource::Workloads).all(|(_, w)| w.state == SyncState::Live)
        {
            let took = self.started.elapsed();
            self.synced_in = Some(took);
            return Some(SyncEvent::Ready(took));
        }
        event
    }

    /// Every watch has listed once (the ready signal), and how long that took.
    pub fn synced_in(&self) -> Option<Duration> {
        self.synced_in
    }

    pub fn is_synced(&self) -> bool {
        self.synced_in.is_some()
    }

    /// Whether the watch of `r` has listed and is live now (false when not watched).
    pub fn is_live(&self, r: Resource) -> bool {
        self.watches.get(&r).is_some_and(|w| w.state == SyncState::Live)
    }

    /// The watch of `r`, if this model is fed by one.
    pub fn watch(&self, r: Resource) -> Option<&WatchState> {
        self.watches.get(&r)
    }

    /// The watches that are failing now.
    pub fn failing(&self) -> impl Iterator<Item = (Resource, &Failing)> {
        self.watches.iter().filter_map(|(r, w)| w.failing.as_ref().map(|f| (*r, f)))
    }

    /// The observed pace of a DaemonSet's rollout (by uid).
    pub fn pace(&self, uid: &str) -> Option<&Pace> {
        self.paces.get(uid)
    }

    /// When the watches started (the sync progress' clock).
    pub fn started(&self) -> Instant {
        self.started
    }
}

/// The next batch from the watches: the first update (waited for), then whatever has
/// already arrived, `max` at most; None once every watch has stopped.
pub async fn next_batch(rx: &mut mpsc::Receiver<Update>, max: usize) -> Option<Vec<Update>> {
    let first = rx.recv().await?;
    Some(batch_after(first, rx, max))
}

/// `first` and the updates already queued after it, `max` in all at most; never waits
/// (for a loop that polls several channels at once, as the fleet's does).
pub fn batch_after(first: Update, rx: &mut mpsc::Receiver<Update>, max: usize) -> Vec<Update> {
    let mut batch = vec![first];
    while batch.len() < max
        && let Ok(u) = rx.try_recv()
    {
        batch.push(u);
    }
    batch
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::fixtures;

    fn failing(failure: SyncFailure) -> SyncState {
        SyncState::Reconnecting { reason: "words".into(), failure, fatal: failure.is_refusal(), retry_in: Duration::from_secs(1) }
    }

    /// The workload pods (every pod of the cluster, for the joins) do not hold up the first
    /// screen: ready once the other watches listed; the joins wait for theirs.
    #[test]
    fn the_workload_watch_does_not_hold_the_ready_signal() {
        let mut live = LiveModel::new(&Resource::WITH_WORKLOADS);
        for r in Resource::ALL {
            live.apply(Update::Sync(r, SyncState::Live));
        }
        assert!(live.is_synced(), "ready without the workload pods");
        assert!(!live.is_live(Resource::Workloads));
        live.apply(Update::Sync(Resource::Workloads, SyncState::Live));
        assert!(live.is_live(Resource::Workloads));
    }

    #[test]
    fn ready_once_every_watch_listed_and_failures_typed_with_since() {
        let mut live = LiveModel::new(&[Resource::Nodes, Resource::DaemonSets]);
        assert_eq!(live.apply(Update::Change(Change::Node(fixtures::node("a")))), None);
        assert_eq!(live.watch(Resource::Nodes).unwrap().listed.0, 1, "a list object counts toward the progress");
        assert_eq!(live.apply(Update::Sync(Resource::Nodes, SyncState::Live)), None);
        assert!(!live.is_synced(), "the DaemonSets have not listed");
        assert!(matches!(live.apply(Update::Sync(Resource::DaemonSets, SyncState::Live)), Some(SyncEvent::Ready(_))));
        assert!(live.is_synced());
        // A failure keeps its first `since` across retries, and is typed.
        assert_eq!(live.apply(Update::Sync(Resource::Nodes, failing(SyncFailure::Silent))), Some(SyncEvent::Failing(Resource::Nodes)));
        let since = live.failing().next().unwrap().1.since;
        live.apply(Update::Sync(Resource::Nodes, failing(SyncFailure::Forbidden)));
        let (r, f) = live.failing().next().unwrap();
        assert_eq!((r, f.since, f.failure), (Resource::Nodes, since, SyncFailure::Forbidden));
        assert!(matches!(live.apply(Update::Sync(Resource::Nodes, SyncState::Live)), Some(SyncEvent::Recovered(Resource::Nodes, _))));
        assert_eq!(live.failing().count(), 0);
    }

    #[test]
    fn a_daemonsets_pace_is_observed_as_its_status_changes() {
        let mut live = LiveModel::new(&[Resource::DaemonSets]);
        let ds = fixtures::daemonset("ns", "agent");
        live.apply(Update::Change(Change::DaemonSet(ds.clone())));
        assert!(live.pace(&ds.uid).is_some());
        live.apply(Update::Change(Change::DaemonSetGone { namespace: "ns".into(), name: "agent".into() }));
        assert!(live.pace(&ds.uid).is_none(), "a deleted DaemonSet's pace goes with it");
    }
}

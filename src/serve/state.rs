//! What `serve` knows between scrapes: the model (fed by the watches), each watch's
//! liveness and last event, the rollouts' pace, and the time-to-coverage of nodes that
//! joined while serving (a histogram that only grows). Updates come in batches from the
//! watch loop; scrapes read under the same lock.
//!
//! May import: `cluster`, `model`, `k8s`, `serve::body`, `serve::joins`.

use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use parking_lot::{Mutex, RwLock};
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::histogram::Histogram;

use crate::cluster::live::LiveModel;
use crate::cluster::requests::RequestCounts;
use crate::cluster::watch::{SyncState, Update};
use crate::model::{Change, Model, Resource};

/// The resources `serve` watches (DaemonSets, their nodes and pods, and their revisions
/// for the rollouts' start), as (API group, plural): what its ClusterRole must grant.
pub const WATCHED: [(Resource, &str, &str); 4] = [
    (Resource::DaemonSets, "apps", "daemonsets"),
    (Resource::Nodes, "", "nodes"),
    (Resource::Pods, "", "pods"),
    (Resource::Revisions, "apps", "controllerrevisions"),
];

/// The watches `serve` runs: those of [`WATCHED`], and the workload pods (pods again, no
/// DaemonSet's) for the joins' early-workload counter. `/readyz` waits for every one.
pub const FED: [Resource; 5] = [Resource::DaemonSets, Resource::Nodes, Resource::Pods, Resource::Revisions, Resource::Workloads];

/// The `resource` label of a watch (`workloads` for the workload pods).
pub fn resource_name(r: Resource) -> &'static str {
    WATCHED.iter().find(|w| w.0 == r).map_or_else(|| r.label(), |w| w.2)
}

/// One watch, as the probes and `daemonscope_watch_*` see it.
#[derive(Debug, Clone, Default)]
pub struct WatchState {
    pub live: bool,
    /// Why it is not live (the last failure), if it failed.
    pub failing: Option<String>,
    pub last_event: Option<jiff::Timestamp>,
}

pub type DsLabels = Vec<(&'static str, String)>;

/// Buckets of `daemonscope_node_time_to_coverage_seconds`: seconds to an hour.
const TTC_BUCKETS: [f64; 13] = [1.0, 2.0, 5.0, 10.0, 20.0, 30.0, 60.0, 120.0, 300.0, 600.0, 1200.0, 1800.0, 3600.0];

/// A node that joined while serving is followed for this long (then its daemons that
/// never became ready are the alerts' business, not the histogram's).
const FOLLOW_JOINED: Duration = Duration::from_secs(3600);

fn ttc_histogram() -> Histogram {
    Histogram::new(TTC_BUCKETS)
}

pub struct State {
    pub context: String,
    pub max_node_series: usize,
    /// `--ksm-compat`: the kube_daemonset_* families too (`ksm`).
    pub ksm_compat: bool,
    /// The model, the watches' states and the rollouts' pace: the one live model every
    /// front end reads (`cluster::live`).
    pub live: RwLock<LiveModel>,
    pub requests: RequestCounts,
    /// Node name → (when first seen, DaemonSet uids whose pod there was observed ready).
    joined: Mutex<HashMap<String, (Instant, HashSet<String>)>>,
    pub time_to_coverage: Family<DsLabels, Histogram, fn() -> Histogram>,
    /// Bumped by every batch applied: what `/api/v1/status` caches its body by.
    pub generation: AtomicU64,
    pub bodies: super::body::StatusBodies,
    /// The joining nodes' histograms and what they observed (`serve::joins`).
    pub joins: super::joins::JoinMetrics,
}

impl State {
    pub fn new(context: String, max_node_series: usize, requests: RequestCounts) -> Self {
        State {
            context,
            max_node_series,
            ksm_compat: false,
            live: RwLock::new(LiveModel::new(&FED)),
            requests,
            joined: Mutex::new(HashMap::new()),
            time_to_coverage: Family::new_with_constructor(ttc_histogram),
            generation: AtomicU64::new(0),
            bodies: Default::default(),
            joins: Default::default(),
        }
    }

    pub fn watches(&self) -> Vec<(Resource, WatchState)> {
        let live = self.live.read();
        let (now, wall) = (Instant::now(), jiff::Timestamp::now());
        FED.iter()
            .filter_map(|r| {
                let ws = live.watch(*r)?;
                let ago = |t: Instant| wall - jiff::SignedDuration::try_from(now.saturating_duration_since(t)).unwrap_or_default();
                Some((
                    *r,
                    WatchState {
                        live: ws.state == SyncState::Live,
                        failing: ws.failing.as_ref().map(|f| f.reason.clone()),
                        last_event: ws.last_event.map(ago),
                    },
                ))
            })
            .collect()
    }

    /// The watches that are not live, with why (for /readyz).
    pub fn lagging(&self) -> Vec<String> {
        self.watches()
            .iter()
            .filter(|(_, w)| !w.live)
            .map(|(r, w)| match &w.failing {
                Some(why) => format!("{}: {why}", resource_name(*r)),
                None => format!("{}: initial list not complete", resource_name(*r)),
            })
            .collect()
    }

    /// Applies one batch of updates from the watches.
    pub fn apply(&self, batch: Vec<Update>) {
        let mut live = self.live.write();
        let mut new_nodes = Vec::new();
        for u in batch {
            // Nodes that appear once the initial list is complete joined while serving.
            if let Update::Change(Change::Node(n)) = &u
                && live.watch(Resource::Nodes).is_some_and(|w| w.state == SyncState::Live)
                && live.model.node_id(&n.name).and_then(|id| live.model.node(id)).is_none()
            {
                new_nodes.push(n.name.clone());
            }
            live.apply(u);
        }
        self.generation.fetch_add(1, Ordering::Release);
        let instant = Instant::now();
        let mut joined = self.joined.lock();
        for n in new_nodes {
            joined.entry(n).or_insert_with(|| (instant, HashSet::new()));
        }
        self.observe_joined(&live.model, &mut joined, instant);
    }

    /// Observes, for each node that joined while serving, each DaemonSet's first ready
    /// pod there: seconds from the node's Ready to the pod's Ready.
    fn observe_joined(&self, model: &Model, joined: &mut HashMap<String, (Instant, HashSet<String>)>, now: Instant) {
        joined.retain(|name, (since, done)| {
            let Some(id) = model.node_id(name) else { return false };
            let Some(node) = model.node(id) else { return false };
            let ready_at = node.condition("Ready").filter(|c| c.status == "True").and_then(|c| c.last_transition);
            if let Some(ready_at) = ready_at {
                for d in model.daemonsets() {
                    if done.contains(&d.uid) {
                        continue;
                    }
                    if let Some(t) = model.first_ready(d, id) {
                        let secs = t.duration_since(ready_at).as_secs_f64().max(0.0);
                        self.time_to_coverage.get_or_create(&ds_labels(&d.namespace, &d.name)).observe(secs);
                        done.insert(d.uid.clone());
                    }
                }
            }
            now.duration_since(*since) < FOLLOW_JOINED
        });
    }
}

pub fn ds_labels(ns: &str, name: &str) -> DsLabels {
    vec![("namespace", ns.to_string()), ("daemonset", name.to_string())]
}

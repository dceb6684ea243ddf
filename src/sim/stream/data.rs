//! What the generator holds: per DaemonSet its templates (pods per pool, its rollout),
//! per pool and zone a node template, the small lists as they are, and the rollout under
//! way; nothing per node or pod.
//!
//! May import: `sim::stream::{template, layout}`.

use std::time::{Duration, Instant};

use super::layout::Layout;
use super::template::Template;

/// One DaemonSet as the generator serves it.
pub(super) struct DsGen {
    pub(super) name: String,
    /// Its pods' first container (their containerID derives from it).
    pub(super) container: String,
    /// Its JSON as a list item (status counts scaled to the cluster's size).
    pub(super) item: String,
    /// Its pod's template on each pool (None: it does not run there), as a list item.
    pub(super) pods: Vec<Option<Template>>,
    /// Its ControllerRevisions' JSON, as list items.
    pub(super) revisions: Vec<String>,
    /// What a rollout makes of it: the DaemonSet, its new revision, its pods not ready
    /// and ready on the new revision (full objects, as watch events carry them).
    pub(super) rollout: Option<RolloutGen>,
}

pub(super) struct RolloutGen {
    pub(super) ds: Template,
    pub(super) revision: Template,
    pub(super) not_ready: Vec<Option<Template>>,
    pub(super) ready: Vec<Option<Template>>,
}

/// A rollout under way: when it began, and its pace.
#[derive(Debug, Clone, Copy)]
pub struct Rollout {
    pub started: Instant,
    /// Pod MODIFIED events per second.
    pub rate: u32,
    /// Events in all; the watch stops sending after these.
    pub events: u64,
}

impl Rollout {
    /// When event `k` is due (what its latency counts from).
    pub fn due(&self, k: u64) -> Instant {
        self.started + Duration::from_secs_f64(k as f64 / self.rate.max(1) as f64)
    }
}

pub(super) struct Inner {
    pub(super) layout: Layout,
    pub(super) ds: Vec<DsGen>,
    /// Node templates per pool and zone, as list items.
    pub(super) nodes: Vec<[Template; 3]>,
    pub(super) services: Vec<String>,
    /// Where each DaemonSet's pods begin in the pod list, then the list's length.
    pub(super) pod_starts: Vec<usize>,
    /// The resourceVersion of every list.
    pub(super) list_rv: u64,
    pub(super) rollout: tokio::sync::watch::Sender<Option<Rollout>>,
    /// Pod events sent so far by the pod watches.
    pub(super) sent: std::sync::atomic::AtomicU64,
}

impl Inner {
    /// Events between a pod's not-ready and ready events: half a second's.
    pub(super) fn ready_lag(&self, rate: u32) -> u64 {
        (rate as u64 / 2).clamp(1, (self.rolling_total() / 2).max(1))
    }
}

impl Inner {
    /// Pods of the RollingUpdate DaemonSets.
    pub(super) fn rolling_total(&self) -> u64 {
        self.ds.iter().filter(|d| d.rollout.is_some()).map(|d| self.layout.pods_of(&d.pods) as u64).sum()
    }

    /// The DaemonSet, pool and index in the pool of the `pos`th rolling pod.
    pub(super) fn rolling_pod_at(&self, rolling: &[usize], mut pos: usize) -> (usize, usize, usize) {
        for &d in rolling {
            let n = self.layout.pods_of(&self.ds[d].pods);
            if pos < n {
                let (p, j) = self.layout.kth_node(&self.ds[d].pods, pos).expect("in range");
                return (d, p, j);
            }
            pos -= n;
        }
        panic!("rolling pod {pos} out of range")
    }
}

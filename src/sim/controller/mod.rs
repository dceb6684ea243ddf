//! The control plane around the API server: DaemonSet controller, scheduler,
//! node-lifecycle (condition taints, NoExecute eviction), pod GC, and the kubelets.
//!
//! Every actor reads the store and writes through it, exactly as the real ones go
//! through the API; `Cluster::step` runs one round of all of them, and `run` repeats
//! it whenever the store changes or time moves on.

pub mod daemonset;
pub mod events;
pub mod gc;
pub mod nodelifecycle;
pub mod scheduler;

use std::sync::Arc;
use std::time::Duration;

use jiff::Timestamp;
use k8s_openapi::api::core::v1 as core;

use super::kubelet::{self, KubeletSettings, PodAction};
use super::store::Store;

#[derive(Debug, Clone)]
pub struct ControlSettings {
    pub kubelet: KubeletSettings,
    /// How often time-driven work (kubelets, backoffs) is looked at.
    pub tick: Duration,
    /// Bound pods whose node is gone are removed after this (real PodGC: 40 s).
    pub pod_gc_quarantine: Duration,
    /// Upper bound on stored Events; the oldest go first (real clusters expire them after 1 h).
    pub max_events: usize,
}

impl Default for ControlSettings {
    fn default() -> Self {
        ControlSettings {
            kubelet: KubeletSettings::default(),
            tick: Duration::from_millis(200),
            pod_gc_quarantine: Duration::from_secs(40),
            max_events: 5000,
        }
    }
}

pub struct Cluster {
    pub store: Arc<Store>,
    pub settings: ControlSettings,
    pub ds: daemonset::DaemonSetController,
    pub sched: scheduler::Scheduler,
    /// Record Events (off while a scenario settles, so history starts clean).
    pub record_events: bool,
}

impl Cluster {
    pub fn new(store: Arc<Store>, settings: ControlSettings) -> Self {
        Cluster {
            store,
            settings,
            ds: Default::default(),
            sched: Default::default(),
            record_events: true,
        }
    }

    /// One round of every actor. Returns true if anything was written.
    pub fn step(&mut self, now: Timestamp) -> bool {
        let before = self.store.current_rv();
        self.kubelets(now);
        nodelifecycle::sync(&self.store, now, self.record_events);
        self.sched.sync(&self.store, now, self.record_events);
        self.ds.sync_all(&self.store, now, self.record_events);
        gc::sync(&self.store, now, &self.settings);
        self.store.current_rv() != before
    }

    /// Node status and pod lifecycles, as each node's kubelet would report them.
    fn kubelets(&self, now: Timestamp) {
        let (nodes, _) = self.store.list::<core::Node>(None);
        let mut by_name = std::collections::HashMap::with_capacity(nodes.len());
        for n in &nodes {
            if let Some(st) = kubelet::node_status(n, &self.settings.kubelet, now) {
                let _ = self.store.modify::<core::Node>(
                    "",
                    n.metadata.name.as_deref().unwrap_or(""),
                    |o| {
                        o.status = Some(st);
                        true
                    },
                );
            }
            by_name.insert(n.metadata.name.clone().unwrap_or_default(), n.clone());
        }
        let (pods, _) = self.store.list::<core::Pod>(None);
        for p in pods {
            let Some(node_name) = p.spec.as_ref().and_then(|s| s.node_name.as_deref()) else {
                continue;
            };
            let Some(node) = by_name.get(node_name) else {
                continue;
            };
            if is_settled(&p) {
                continue;
            }
            let ns = p.metadata.namespace.as_deref().unwrap_or("");
            let name = p.metadata.name.as_deref().unwrap_or("");
            match kubelet::pod_step(&p, node, &self.settings.kubelet, now) {
                PodAction::Nothing => {}
                PodAction::Remove => {
                    let _ = self
                        .store
                        .remove::<core::Pod>(ns, name, p.metadata.uid.as_deref());
                }
                PodAction::Status(st) => {
                    let uid = p.metadata.uid.clone();
                    let _ = self.store.modify::<core::Pod>(ns, name, |o| {
                        if o.metadata.uid != uid {
                            return false;
                        }
                        o.status = Some(*st);
                        true
                    });
                }
            }
        }
    }

    /// Runs the cluster "in the past" until nothing changes (or `max_rounds`): the clock
    /// starts `age` ago and moves 5 s a round, so a freshly loaded scenario starts
    /// settled, with plausible ages, start times and restart counts.
    pub fn settle(&mut self, age: Duration, max_rounds: usize) {
        let saved = self.record_events;
        self.record_events = false;
        let mut offset = -(age.as_secs() as i64);
        self.store.set_clock_offset(offset);
        for _ in 0..max_rounds {
            if !self.step(self.store.now()) {
                break;
            }
            offset += 5;
            self.store.set_clock_offset(offset.min(0));
        }
        self.store.set_clock_offset(0);
        self.record_events = saved;
    }

    /// Drives the cluster until the returned handle is dropped or aborted.
    pub async fn run(mut self) {
        let mut rx = self.store.subscribe();
        let mut tick = tokio::time::interval(self.settings.tick);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tokio::select! {
                _ = tick.tick() => {}
                r = rx.changed() => {
                    if r.is_err() { return; }
                    // Debounce: let a burst of writes land before reconciling.
                    tokio::time::sleep(Duration::from_millis(20)).await;
                }
            }
            rx.borrow_and_update();
            let store_is_live = Arc::strong_count(&self.store) > 1;
            if !store_is_live {
                return;
            }
            self.step(self.store.now());
            rx.borrow_and_update();
        }
    }
}

/// A Running, Ready pod with the normal behaviour and no deletion has nothing left to do.
fn is_settled(p: &core::Pod) -> bool {
    if p.metadata.deletion_timestamp.is_some() {
        return false;
    }
    let Some(st) = &p.status else { return false };
    if st.phase.as_deref() != Some("Running") {
        return false;
    }
    let ready = st
        .conditions
        .iter()
        .flatten()
        .any(|c| c.type_ == "Ready" && c.status == "True");
    ready
        && st
            .container_statuses
            .as_ref()
            .is_some_and(|cs| cs.iter().all(|c| c.ready))
}

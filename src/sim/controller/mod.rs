//! The control plane around the API server: DaemonSet, Deployment and ReplicaSet controllers,
//! scheduler, disruption controller (PodDisruptionBudget status), node-lifecycle (condition taints,
//! NoExecute eviction), pod GC, and the kubelets.
//!
//! Every actor reads the store and writes through it, exactly as the real ones go
//! through the API; `Cluster::step` runs one round of all of them, and `run` repeats
//! it whenever the store changes or time moves on.
//!
//! May import: its submodules, `sim::kubelet`, `sim::store`.

pub mod daemonset;
pub mod deployment;
pub mod disruption;
pub mod events;
pub mod gc;
pub mod nodelifecycle;
pub mod preemption;
pub mod replicaset;
pub mod scheduler;
pub mod startup;

use std::collections::HashMap;
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
    /// Average writes per second of all controllers and kubelets together, like the
    /// client QPS limits of a real control plane; keeps watchers able to follow.
    pub max_writes_per_sec: u32,
}

impl Default for ControlSettings {
    fn default() -> Self {
        ControlSettings {
            kubelet: KubeletSettings::default(),
            tick: Duration::from_millis(200),
            pod_gc_quarantine: Duration::from_secs(40),
            max_events: 5000,
            max_writes_per_sec: 2000,
        }
    }
}

pub struct Cluster {
    pub store: Arc<Store>,
    pub settings: ControlSettings,
    pub ds: daemonset::DaemonSetController,
    pub sched: scheduler::Scheduler,
    pub eviction: nodelifecycle::TaintEviction,
    pub pod_gc: gc::PodGc,
    /// Record Events (off while a scenario settles, so history starts clean).
    pub record_events: bool,
    /// Pods the last kubelet pass left on their way somewhere (starting, crash-looping,
    /// terminating).
    unsettled: Vec<(String, String)>,
    /// Each node's `spec.unschedulable` as the kubelet last saw it (for NodeSchedulable /
    /// NodeNotSchedulable events).
    unschedulable: HashMap<String, bool>,
    /// Pods whose termination the kubelet has announced (`Killing`), by uid.
    killing: std::collections::HashSet<String>,
    /// The next time a joining node's kubelet turns Ready: a full round is due then.
    wake: Option<Timestamp>,
}

impl Cluster {
    pub fn new(store: Arc<Store>, settings: ControlSettings) -> Self {
        Cluster {
            store,
            settings,
            ds: Default::default(),
            sched: Default::default(),
            eviction: Default::default(),
            pod_gc: Default::default(),
            record_events: true,
            unsettled: Vec::new(),
            unschedulable: HashMap::new(),
            killing: Default::default(),
            wake: None,
        }
    }

    /// One round of every actor. Returns true if anything was written.
    pub fn step(&mut self, now: Timestamp) -> bool {
        let before = self.store.current_rv();
        self.kubelets(now);
        startup::sync(&self.store);
        nodelifecycle::sync(&self.store, &mut self.eviction, now, self.record_events);
        self.sched.sync(&self.store, now, self.record_events);
        self.ds.sync_all(&self.store, now, self.record_events);
        deployment::sync(&self.store, now, self.record_events);
        replicaset::sync(&self.store, now, self.record_events);
        disruption::sync(&self.store, now);
        self.pod_gc.sync(&self.store, now, self.settings.pod_gc_quarantine, self.settings.max_events);
        self.store.current_rv() != before
    }

    /// Node status and pod lifecycles, as each node's kubelet would report them.
    fn kubelets(&mut self, now: Timestamp) {
        let (nodes, _) = self.store.list::<core::Node>(None);
        self.wake = nodes.iter().filter_map(|n| kubelet::ready_at(n)).filter(|t| *t > now).min();
        for n in &nodes {
            let name = n.metadata.name.clone().unwrap_or_default();
            let unschedulable = n.spec.as_ref().and_then(|s| s.unschedulable).unwrap_or(false);
            if self.unschedulable.insert(name.clone(), unschedulable).is_some_and(|was| was != unschedulable) && self.record_events {
                self.record(&**n, kubelet::events::schedulable_event(&name, unschedulable));
            }
            if let Some(st) = kubelet::node_status(n, &self.settings.kubelet, now) {
                if self.record_events {
                    for e in kubelet::events::node_status_events(&name, n.status.as_ref(), &st) {
                        self.record(&**n, e);
                    }
                }
                let _ = self.store.modify::<core::Node>("", n.metadata.name.as_deref().unwrap_or(""), |o| {
                    o.status = Some(st);
                    true
                });
            }
        }
        let by_name: HashMap<&str, &Arc<core::Node>> = nodes.iter().map(|n| (n.metadata.name.as_deref().unwrap_or(""), n)).collect();
        let (pods, _) = self.store.list::<core::Pod>(None);
        self.unsettled.clear();
        for p in pods {
            let Some(node) = p.spec.as_ref().and_then(|s| s.node_name.as_deref()).and_then(|n| by_name.get(n)) else {
                continue;
            };
            if is_settled(&p) {
                continue;
            }
            self.pod_step(&p, node, now);
        }
    }

    /// Between full rounds only the pods still on their way somewhere need the clock.
    fn kubelets_unsettled(&mut self, now: Timestamp) {
        let keys = std::mem::take(&mut self.unsettled);
        for (ns, name) in keys {
            let Some(p) = self.store.get::<core::Pod>(&ns, &name) else { continue };
            let Some(node) = p.spec.as_ref().and_then(|s| s.node_name.as_deref()).and_then(|n| self.store.get::<core::Node>("", n)) else {
                continue;
            };
            self.pod_step(&p, &node, now);
        }
    }

    fn pod_step(&mut self, p: &Arc<core::Pod>, node: &core::Node, now: Timestamp) {
        let ns = p.metadata.namespace.as_deref().unwrap_or("");
        let name = p.metadata.name.as_deref().unwrap_or("");
        let action = kubelet::pod_step(p, node, &self.settings.kubelet, now);
        let remove = action == PodAction::Remove;
        if self.record_events && kubelet::kubelet_alive(node) {
            let uid = p.metadata.uid.clone().unwrap_or_default();
            if p.metadata.deletion_timestamp.is_some() && self.killing.insert(uid) {
                for e in kubelet::events::killing(p) {
                    self.record(&**p, e);
                }
            }
            if let PodAction::Status(st) = &action {
                for e in kubelet::events::pod_events(p, st) {
                    self.record(&**p, e);
                }
            }
        }
        if remove {
            self.killing.remove(p.metadata.uid.as_deref().unwrap_or_default());
        }
        match action {
            PodAction::Nothing => {}
            PodAction::Remove => {
                let _ = self.store.remove::<core::Pod>(ns, name, p.metadata.uid.as_deref());
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
        if !remove && self.store.get::<core::Pod>(ns, name).is_some_and(|p| !is_settled(&p)) {
            self.unsettled.push((ns.to_string(), name.to_string()));
        }
    }

    fn record<T: crate::sim::store::SimObject>(&self, obj: &T, e: kubelet::events::KubeletEvent) {
        events::record(&self.store, obj, e.type_, e.reason, e.message, e.source);
    }

    /// Runs the cluster "in the past" until nothing changes (or `max_rounds`): the clock
    /// starts `age` ago and moves 5 s a round, so a freshly loaded scenario starts
    /// settled, with plausible ages, start times and restart counts.
    pub fn settle(&mut self, age: Duration, max_rounds: usize) {
        let saved = self.record_events;
        self.record_events = false;
        self.store.set_history(false);
        self.ds.burst = usize::MAX;
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
        self.store.set_history(true);
        self.ds.burst = daemonset::DaemonSetController::default().burst;
        self.record_events = saved;
    }

    /// Drives the cluster until the task is aborted. A full round runs soon after the
    /// store changes (and every 15 s for slow timers: toleration seconds, pod GC,
    /// minReadySeconds); in between, only the kubelets of pods still on their way
    /// somewhere look at the clock, so an idle 150,000-pod cluster costs next to nothing.
    pub async fn run(mut self) {
        let mut rx = self.store.subscribe();
        let mut last_rv = 0;
        let mut last_full = tokio::time::Instant::now();
        let full_every = Duration::from_secs(15);
        loop {
            tokio::select! {
                _ = tokio::time::sleep(self.settings.tick) => {}
                r = rx.changed() => {
                    if r.is_err() { return; }
                    // Debounce: let a burst of writes land before reconciling.
                    tokio::time::sleep(Duration::from_millis(20)).await;
                }
            }
            rx.borrow_and_update();
            if Arc::strong_count(&self.store) <= 1 {
                return;
            }
            let now = self.store.now();
            let rv = self.store.current_rv();
            let started = tokio::time::Instant::now();
            let woken = self.wake.is_some_and(|w| now >= w);
            if rv != last_rv || last_full.elapsed() >= full_every || woken {
                // Whatever this round writes moves the store past `last_rv`, so the next
                // round is full again, until a round changes nothing.
                last_rv = rv;
                self.step(now);
                last_full = tokio::time::Instant::now();
            } else {
                self.kubelets_unsettled(now);
            }
            // Pace to max_writes_per_sec on average.
            let wrote = self.store.current_rv().saturating_sub(rv);
            let budget = Duration::from_secs_f64(wrote as f64 / f64::from(self.settings.max_writes_per_sec.max(1)));
            if let Some(rest) = budget.checked_sub(started.elapsed()) {
                tokio::time::sleep(rest).await;
            }
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
    let ready = st.conditions.iter().flatten().any(|c| c.type_ == "Ready" && c.status == "True");
    ready && st.container_statuses.as_ref().is_some_and(|cs| cs.iter().all(|c| c.ready))
}

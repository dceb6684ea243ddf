//! The TUI's drain as a job: the confirmed nodes one after another (`drain::drain`, with
//! the consent the confirmation gave: [`CONFIRMED`]), and where it stands as it goes —
//! each node's state and the blocker table (which pod, which budget allows how many
//! disruptions now, blocked for how long) — reported to the UI after every event. It
//! waits as long as a budget blocks: the operator sees who blocks it, pauses it (no
//! request is sent while paused; one in flight finishes) and resumes it, or aborts it
//! (`:drain abort`); the nodes it cordoned stay cordoned.
//!
//! May import: `model`, `k8s`. Never `sim` or `ui`.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crate::cluster::connect::Cluster;
use crate::cluster::drain::{DrainError, DrainEvent, DrainSettings, PauseSwitch, cordon, drain_cordoned};
use crate::model::plan::drain::CONFIRMED;

/// One node of the drain.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NodeState {
    Waiting,
    /// Cordoned; its pods being evicted (`gone` of `of` gone from the node so far).
    Evicting {
        gone: usize,
        of: usize,
    },
    Drained,
    /// Refused (kubectl's words): nothing was evicted.
    Refused(String),
    /// Pods not evicted, each with why; or the drain of the node failed.
    Failed(String),
    Aborted,
}

/// A pod whose eviction a PodDisruptionBudget refuses now (429), retried.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Blocker {
    pub node: String,
    pub pod: String,
    /// The budgets covering the pod: name, disruptions allowed when listed.
    pub budgets: Vec<(String, i32)>,
    pub message: String,
    /// Blocked for this long when last refused …
    pub blocked: Duration,
    /// … which was then.
    pub at: Instant,
}

impl Blocker {
    /// How long it has been blocked by now.
    pub fn blocked_for(&self, now: Instant) -> Duration {
        self.blocked + now.saturating_duration_since(self.at)
    }
}

/// Where the drain stands.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DrainStatus {
    pub nodes: Vec<(String, NodeState)>,
    pub blockers: Vec<Blocker>,
    pub dry_run: bool,
    pub finished: bool,
    /// The grace period and timeout it was confirmed with.
    pub timing: crate::model::plan::drain::DrainTiming,
    /// Confirmed with `--disable-eviction`: pods are deleted, past their budgets.
    pub disable_eviction: bool,
    /// Paused by the operator, since then: no eviction is sent until it is resumed.
    pub paused: Option<Instant>,
    /// While paused: the pods whose next request waits for the resume.
    pub held: Vec<String>,
}

impl DrainStatus {
    pub fn new(nodes: &[String], dry_run: bool) -> DrainStatus {
        DrainStatus {
            nodes: nodes.iter().map(|n| (n.clone(), NodeState::Waiting)).collect(),
            blockers: Vec::new(),
            dry_run,
            finished: false,
            timing: Default::default(),
            disable_eviction: false,
            paused: None,
            held: Vec::new(),
        }
    }

    pub fn is_active(&self) -> bool {
        !self.finished
    }

    /// Paused, or not (resumed): what the view shows, from `at` on.
    pub fn set_paused(&mut self, on: bool, at: Instant) {
        self.paused = match (on, self.paused) {
            (true, Some(since)) => Some(since),
            (true, None) => Some(at),
            (false, _) => None,
        };
        if !on {
            self.held.clear();
        }
    }

    fn state(&mut self, node: &str) -> Option<&mut NodeState> {
        self.nodes.iter_mut().find(|(n, _)| n == node).map(|(_, s)| s)
    }

    /// What one event of the drain of `node` changes.
    pub fn apply(&mut self, node: &str, e: DrainEvent) {
        match e {
            DrainEvent::Cordoned { .. } => {
                if let Some(s) = self.state(node) {
                    *s = NodeState::Evicting { gone: 0, of: 0 };
                }
            }
            DrainEvent::Planned { evicting, .. } => {
                if let Some(s) = self.state(node) {
                    *s = NodeState::Evicting { gone: 0, of: evicting };
                }
            }
            DrainEvent::Evicting { .. } => {}
            DrainEvent::Blocked { pod, message, budgets, since } => {
                let b = Blocker { node: node.to_string(), pod, budgets, message, blocked: since, at: Instant::now() };
                match self.blockers.iter_mut().find(|x| x.pod == b.pod) {
                    Some(x) => *x = b,
                    None => self.blockers.push(b),
                }
            }
            DrainEvent::Held { pod } => {
                if !self.held.contains(&pod) {
                    self.held.push(pod);
                }
            }
            DrainEvent::Evicted { pod } => {
                self.blockers.retain(|b| b.pod != pod);
                self.held.retain(|p| *p != pod);
            }
            DrainEvent::Gone { .. } => {
                if let Some(NodeState::Evicting { gone, .. }) = self.state(node) {
                    *gone += 1;
                }
            }
        }
    }

    /// The drain of `node` ended.
    fn ended(&mut self, node: &str, r: Result<crate::cluster::drain::DrainReport, DrainError>) {
        self.blockers.retain(|b| b.node != node);
        let Some(s) = self.state(node) else { return };
        *s = match r {
            Ok(report) if report.failed.is_empty() => NodeState::Drained,
            Ok(report) => NodeState::Failed(report.failed.iter().map(|(p, why)| format!("{p}: {why}")).collect::<Vec<_>>().join("; ")),
            Err(DrainError::Refused(why)) => NodeState::Refused(why),
            Err(DrainError::Cluster(e)) => NodeState::Failed(e.to_string()),
        };
    }

    /// Stopped by the operator: what had not ended is aborted.
    pub fn abort(&mut self) {
        for (_, s) in &mut self.nodes {
            if matches!(s, NodeState::Waiting | NodeState::Evicting { .. }) {
                *s = NodeState::Aborted;
            }
        }
        self.blockers.clear();
        self.paused = None;
        self.finished = true;
    }

    /// One line for the status bar.
    pub fn line(&self) -> String {
        let n = self.nodes.len();
        let drained = self.nodes.iter().filter(|(_, s)| *s == NodeState::Drained).count();
        let dry = if self.dry_run { " (server dry run)" } else { "" };
        if !self.finished {
            let blocked = match self.blockers.first() {
                Some(b) => format!(" — {} blocked by {}", b.pod, budgets(&b.budgets)),
                None => String::new(),
            };
            if let Some(since) = self.paused {
                let for_ = crate::k8s::duration::human_duration(since.elapsed().as_secs() as i64);
                return format!("drain{dry} PAUSED {for_}: {drained} of {n} node(s) drained{blocked} (P resumes, :drain abort stops it)");
            }
            return format!("drain{dry}: {drained} of {n} node(s) drained{blocked} (P pauses, :drain abort stops it)");
        }
        let bad: Vec<String> = self
            .nodes
            .iter()
            .filter_map(|(node, s)| match s {
                NodeState::Refused(why) => Some(format!("{node} refused: {why}")),
                NodeState::Failed(why) => Some(format!("{node}: {why}")),
                NodeState::Aborted => Some(format!("{node} aborted")),
                _ => None,
            })
            .collect();
        let rest = if bad.is_empty() { String::new() } else { format!(" — {}", bad.join("; ")) };
        format!("drain{dry}: {drained} of {n} node(s) drained; they stay cordoned{rest}")
    }
}

/// `PDB web (allows 0)`, for each budget.
pub fn budgets(b: &[(String, i32)]) -> String {
    if b.is_empty() {
        return "a disruption budget".into();
    }
    b.iter().map(|(n, a)| format!("PDB {n} (allows {a})")).collect::<Vec<_>>().join(", ")
}

/// Drains `status`'s nodes: every one cordoned first (as `kubectl drain NODE…` does, so a
/// pod evicted from one node is not placed on the next one to drain and evicted again),
/// then each drained in turn, reporting the status after each event. While `pause` is on
/// no eviction is sent and no next node is started.
pub async fn run(
    cluster: Cluster,
    status: Arc<Mutex<DrainStatus>>,
    pause: PauseSwitch,
    report: impl Fn(DrainStatus) + Send + Sync + 'static,
) {
    let lock = |s: &Arc<Mutex<DrainStatus>>| s.lock().unwrap_or_else(|p| p.into_inner()).clone();
    let snapshot = lock(&status);
    let t = snapshot.timing;
    let grace_period = t.grace.map(|g| g.as_secs() as i64);
    let settings = DrainSettings {
        options: CONFIRMED,
        grace_period,
        timeout: t.timeout,
        dry_run: snapshot.dry_run,
        disable_eviction: snapshot.disable_eviction,
        pause: Some(pause.clone()),
    };
    let on_node = |node: &str, e: DrainEvent| {
        let now = {
            let mut s = status.lock().unwrap_or_else(|p| p.into_inner());
            s.apply(node, e);
            s.clone()
        };
        report(now);
    };
    let mut cordoned = Vec::new();
    for (node, _) in &snapshot.nodes {
        match cordon(&cluster, node, &settings).await {
            Ok(already) => {
                on_node(node, DrainEvent::Cordoned { node: node.clone(), already });
                cordoned.push(node);
            }
            Err(e) => {
                status.lock().unwrap_or_else(|p| p.into_inner()).ended(node, Err(e));
                report(lock(&status));
            }
        }
    }
    for node in cordoned {
        pause.resumed(None).await;
        let on = |e: DrainEvent| on_node(node, e);
        let r = drain_cordoned(&cluster, node, &settings, &on).await;
        tracing::info!(target: "daemonscope::cluster::actions", action = "drain", object = %format!("node/{node}"), dry_run = settings.dry_run, result = %r.as_ref().map_or_else(ToString::to_string, |rep| format!("{} evicted, {} not", rep.evicted.len(), rep.failed.len())), "action");
        status.lock().unwrap_or_else(|p| p.into_inner()).ended(node, r);
        report(lock(&status));
    }
    status.lock().unwrap_or_else(|p| p.into_inner()).finished = true;
    report(lock(&status));
}

//! Each joining node's timeline and problems, derived from the model and the tracker at
//! a given time: created → Ready (first) → each DaemonSet's pod scheduled, started, Ready
//! → usable (every critical DaemonSet that should run there Ready, no startup taint left).
//!
//! Which DaemonSets should run on a joining node is judged with its startup taints and
//! node-lifecycle's taints set aside: they keep every DaemonSet that does not tolerate
//! them off the node *while it joins*, which is the point, not a reason it never should.
//!
//! May import: `model::joins::{settings, track}`, `model::compact`,
//! `model::coverage`, `model::index`, `k8s`.

use jiff::{SignedDuration, Timestamp};

use super::settings::{JoinSettings, is_critical};
use super::track::{NodeSeen, ReadyKnown, StartupTaint};
use crate::k8s::eligibility::{self, LIFECYCLE_TAINTS, NodeFacts};
use crate::k8s::topology;
use crate::model::coverage::CellState;
use crate::model::index::Model;

/// One DaemonSet on a joining node.
#[derive(Debug, Clone, PartialEq)]
pub struct DsStage {
    pub namespace: String,
    pub name: String,
    pub critical: bool,
    pub scheduled: Option<Timestamp>,
    pub started: Option<Timestamp>,
    pub ready: Option<Timestamp>,
    pub state: CellState,
    /// The coverage reason of the cell (why it is not Ready, when it is not).
    pub reason: String,
}

/// A workload pod that started before the node's critical DaemonSets were Ready.
#[derive(Debug, Clone, PartialEq)]
pub struct WorkloadEarly {
    pub namespace: String,
    pub name: String,
    /// `ReplicaSet/web-7d9f`, or `Pod` for a bare pod.
    pub owner: String,
    pub started: Timestamp,
    /// How much earlier than the critical DaemonSets' Ready (None: they are not Ready yet).
    pub early_by: Option<SignedDuration>,
    pub priority: i32,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Problem {
    /// A critical DaemonSet not Ready `after` the node's creation, and why.
    CriticalNotReady { daemonset: String, after: SignedDuration, reason: String },
    /// A startup taint still on the node `after` every critical DaemonSet was Ready.
    TaintOutlived { taint: String, after: SignedDuration },
    /// Workload pods that started before the critical DaemonSets were Ready.
    WorkloadsBeforeCritical { pods: Vec<WorkloadEarly> },
}

impl Problem {
    /// One line, with its evidence.
    pub fn describe(&self) -> String {
        let d = |s: &SignedDuration| crate::k8s::duration::human_duration(s.as_secs());
        match self {
            Problem::CriticalNotReady { daemonset, after, reason } => {
                format!("critical {daemonset} not Ready {} after the node was created: {reason}", d(after))
            }
            Problem::TaintOutlived { taint, after } => {
                format!("startup taint {taint} still there {} after every critical DaemonSet was Ready", d(after))
            }
            Problem::WorkloadsBeforeCritical { pods } => {
                let first = &pods[0];
                let when = match first.early_by {
                    Some(e) => format!("{} before the critical DaemonSets were Ready", d(&e)),
                    None => "before the critical DaemonSets were Ready (they are not yet)".into(),
                };
                format!("{} workload pod(s) started {when}: {}/{} ({})", pods.len(), first.namespace, first.name, first.owner)
            }
        }
    }

    /// The word metrics and JSON use.
    pub fn kind(&self) -> &'static str {
        match self {
            Problem::CriticalNotReady { .. } => "critical-not-ready",
            Problem::TaintOutlived { .. } => "startup-taint-outlived",
            Problem::WorkloadsBeforeCritical { .. } => "workload-before-critical",
        }
    }
}

/// One joining node.
#[derive(Debug, Clone, PartialEq)]
pub struct NodeJoin {
    pub name: String,
    pub created: Timestamp,
    pub pool: String,
    pub zone: String,
    pub instance_type: String,
    pub ready: Option<(Timestamp, ReadyKnown)>,
    /// The DaemonSets that should run there, critical first, then by name.
    pub daemons: Vec<DsStage>,
    pub taints: Vec<StartupTaint>,
    /// When every critical DaemonSet was Ready (None while one is not).
    pub critical_ready: Option<Timestamp>,
    pub usable: Option<Timestamp>,
    /// Not usable `usable_timeout` after creation.
    pub overdue: bool,
    pub problems: Vec<Problem>,
}

impl NodeJoin {
    pub fn to_ready(&self) -> Option<SignedDuration> {
        self.ready.map(|(t, _)| t.duration_since(self.created))
    }

    pub fn to_usable(&self) -> Option<SignedDuration> {
        self.usable.map(|t| t.duration_since(self.created))
    }

    /// The DaemonSet that was Ready last, or is not Ready yet (the oldest wait first).
    pub fn slowest(&self) -> Option<&DsStage> {
        self.daemons.iter().find(|d| d.ready.is_none()).or_else(|| self.daemons.iter().max_by_key(|d| d.ready))
    }

    /// Worst first: overdue, then problems, then not usable yet, then slowest to usable.
    fn rank(&self, now: Timestamp) -> (bool, usize, bool, SignedDuration) {
        let took = self.to_usable().unwrap_or_else(|| now.duration_since(self.created));
        (!self.overdue, usize::MAX - self.problems.len(), self.usable.is_some(), -took)
    }
}

/// The node with its startup and lifecycle taints set aside.
fn settled_facts(facts: &NodeFacts, startup: &[StartupTaint]) -> NodeFacts {
    let mut f = facts.clone();
    f.taints.retain(|t| !LIFECYCLE_TAINTS.contains(&t.key.as_str()) && !startup.iter().any(|s| s.key == t.key && s.effect == t.effect));
    f
}

fn join_of(model: &Model, settings: &JoinSettings, name: &str, seen: &NodeSeen, now: Timestamp) -> Option<NodeJoin> {
    let id = model.node_id(name)?;
    let node = model.node(id)?;
    let facts = settled_facts(&node.facts, &seen.startup_taints);
    let mut daemons = Vec::new();
    for ds in model.daemonsets() {
        if !eligibility::evaluate(&facts, &ds.placement).should_run {
            continue;
        }
        let pods = model.pods_on(ds, id);
        let pod = pods.iter().find(|p| p.deleting.is_none());
        let cell = model.explain(ds, id)?;
        daemons.push(DsStage {
            namespace: ds.namespace.clone(),
            name: ds.name.clone(),
            critical: is_critical(ds, settings),
            scheduled: pod.and_then(|p| p.scheduled.get()),
            started: pod.and_then(|p| p.started.get()),
            ready: pod.and_then(|p| p.ready_since()),
            state: cell.state,
            reason: cell.reason,
        });
    }
    daemons.sort_by(|a, b| b.critical.cmp(&a.critical).then_with(|| (&a.namespace, &a.name).cmp(&(&b.namespace, &b.name))));
    let critical: Vec<&DsStage> = daemons.iter().filter(|d| d.critical).collect();
    let critical_ready = if critical.iter().all(|d| d.ready.is_some()) {
        Some(critical.iter().filter_map(|d| d.ready).max().unwrap_or(seen.created))
    } else {
        None
    };
    let taints_left = seen.startup_taints.iter().any(|t| t.gone.is_none());
    let usable = match (critical_ready, taints_left) {
        (Some(r), false) => Some(seen.startup_taints.iter().filter_map(|t| t.gone).fold(r, Timestamp::max)),
        _ => None,
    };
    let age = now.duration_since(seen.created);
    let timeout = SignedDuration::try_from(settings.usable_timeout).unwrap_or(SignedDuration::MAX);
    let mut problems = Vec::new();
    if age > timeout {
        for d in critical.iter().filter(|d| d.ready.is_none()) {
            problems.push(Problem::CriticalNotReady {
                daemonset: format!("{}/{}", d.namespace, d.name),
                after: age,
                reason: d.reason.clone(),
            });
        }
    }
    if let Some(r) = critical_ready {
        let grace = SignedDuration::try_from(settings.taint_grace).unwrap_or(SignedDuration::MAX);
        for t in seen.startup_taints.iter().filter(|t| t.gone.is_none()) {
            let after = now.duration_since(r);
            if after > grace {
                problems.push(Problem::TaintOutlived { taint: format!("{}:{}", t.key, t.effect), after });
            }
        }
    }
    let mut early: Vec<WorkloadEarly> = model
        .joins()
        .workloads_on(name)
        .iter()
        .filter_map(|w| {
            let started = w.started()?;
            // In whole seconds, as the API server writes times: a pod that started in
            // the second its node's critical DaemonSets became Ready was not early.
            let before = critical_ready.is_none_or(|r| started.as_second() < r.as_second());
            before.then(|| WorkloadEarly {
                namespace: w.namespace().to_string(),
                name: w.name(),
                owner: if w.owner_kind().is_empty() { "Pod".into() } else { format!("{}/{}", w.owner_kind(), w.owner_name()) },
                started,
                early_by: critical_ready.map(|r| SignedDuration::from_secs(r.as_second() - started.as_second())),
                priority: w.priority(),
            })
        })
        .collect();
    if !critical.is_empty() && !early.is_empty() {
        early.sort_by(|a, b| a.started.cmp(&b.started).then_with(|| a.name.cmp(&b.name)));
        problems.push(Problem::WorkloadsBeforeCritical { pods: early });
    }
    let labels = &node.facts.labels;
    Some(NodeJoin {
        name: name.to_string(),
        created: seen.created,
        pool: topology::pool(labels).unwrap_or_default().to_string(),
        zone: topology::zone(labels).unwrap_or_default().to_string(),
        instance_type: topology::instance_type(labels).unwrap_or_default().to_string(),
        ready: seen.first_ready,
        daemons,
        taints: seen.startup_taints.clone(),
        critical_ready,
        usable,
        overdue: usable.is_none() && age > timeout,
        problems,
    })
}

/// One node's join, when it is in the window (created within `settings.since`).
pub fn join(model: &Model, settings: &JoinSettings, name: &str, now: Timestamp) -> Option<NodeJoin> {
    let window = SignedDuration::try_from(settings.since).unwrap_or(SignedDuration::MAX);
    let seen = model.joins().seen(name).filter(|s| now.duration_since(s.created) <= window)?;
    join_of(model, settings, name, seen, now)
}

/// Every node in the window, worst first.
pub fn report(model: &Model, settings: &JoinSettings, now: Timestamp) -> Vec<NodeJoin> {
    let window = SignedDuration::try_from(settings.since).unwrap_or(SignedDuration::MAX);
    let mut out: Vec<NodeJoin> = model
        .joins()
        .nodes()
        .filter(|(_, s)| now.duration_since(s.created) <= window)
        .filter_map(|(n, s)| join_of(model, settings, n, s, now))
        .collect();
    out.sort_by(|a, b| a.rank(now).cmp(&b.rank(now)).then_with(|| a.name.cmp(&b.name)));
    out
}

/// Per DaemonSet, over the joins: how many became Ready, and the p50 and p95 of node
/// created → DaemonSet Ready (nearest rank).
#[derive(Debug, Clone, PartialEq)]
pub struct DsJoinStats {
    pub namespace: String,
    pub name: String,
    pub ready: usize,
    pub waiting: usize,
    pub p50: Option<SignedDuration>,
    pub p95: Option<SignedDuration>,
}

pub fn stats(joins: &[NodeJoin]) -> Vec<DsJoinStats> {
    let mut by: std::collections::BTreeMap<(String, String), (Vec<SignedDuration>, usize)> = Default::default();
    for j in joins {
        for d in &j.daemons {
            let e = by.entry((d.namespace.clone(), d.name.clone())).or_default();
            match d.ready {
                Some(r) => e.0.push(r.duration_since(j.created)),
                None => e.1 += 1,
            }
        }
    }
    by.into_iter()
        .map(|((namespace, name), (mut v, waiting))| {
            v.sort();
            let rank = |q: f64| (!v.is_empty()).then(|| v[((q * v.len() as f64).ceil() as usize).clamp(1, v.len()) - 1]);
            DsJoinStats { namespace, name, ready: v.len(), waiting, p50: rank(0.5), p95: rank(0.95) }
        })
        .collect()
}

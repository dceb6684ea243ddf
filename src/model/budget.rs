//! Who holds a rolling update's budget, what frees each unit, and the rollout's verdict
//! in one line — computed as the DaemonSet controller computes it
//! (`pkg/controller/daemon/update.go`):
//! - `updatedDesiredNodeCounts` scales maxUnavailable and maxSurge against
//!   desiredNumberScheduled (both round up; both 0 makes maxUnavailable 1);
//! - `rollingUpdate` without surge counts a node unavailable when it has no pod, an old
//!   and a new pod, several pods, or only a pod that is not available; an old pod that is
//!   not available is deleted at once even over the budget (the store keeps those nodes:
//!   `availability`);
//! - with surge, each node with an available old pod and a new pod not yet available
//!   uses one unit of maxSurge;
//! - `findUpdatedPodsOnNode` ignores terminating pods, so a node whose only pod is stuck
//!   Terminating has "no pod" and holds a unit until that pod object is gone.
//!
//! Each holder says whether this rollout caused it (`origin`), since when, and the one
//! thing that frees it. The verdict is decided from that evidence at once — a new pod
//! that cannot pull its image stalls the rollout on the event that says so, not after a
//! timer.
//!
//! May import: `model::compact`, `model::coverage`, `model::cause`, `model::index`,
//! `model::rollout`, `k8s`.

use std::collections::BTreeMap;
use std::time::Duration;

use jiff::Timestamp;

use super::cause::Cause;
use super::compact::{DsInfo, PodInfo, Strategy};
use super::coverage::{CellState, is_updated};
use super::index::{Model, NodeId};
use super::rollout::{self, STALL_AFTER};
use crate::k8s::duration::human_duration;

/// Whether this rollout caused a unit to be held.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Origin {
    /// Caused by this rollout's own pods: a new pod that fails or is not yet available,
    /// a node whose old pod the rollout removed, a surge pod that cannot be placed.
    RolloutInduced,
    /// Not caused by the rollout, and it began before the rollout did.
    PreExisting,
    /// Not caused by the rollout, and it began while the rollout ran (or when is unknown).
    Unrelated,
}

impl Origin {
    pub fn as_str(self) -> &'static str {
        match self {
            Origin::RolloutInduced => "rollout-induced",
            Origin::PreExisting => "pre-existing",
            Origin::Unrelated => "unrelated",
        }
    }

    /// Not caused by the rollout, by when it began.
    fn outside(since: Option<Timestamp>, start: Option<Timestamp>) -> Origin {
        match (since, start) {
            (Some(s), Some(st)) if s < st => Origin::PreExisting,
            _ => Origin::Unrelated,
        }
    }
}

/// What holds a unit of the budget.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum HoldCause {
    /// A new pod that fails: its image cannot be pulled, it crash-loops, it cannot start.
    NewPodFailing,
    /// A surge pod the scheduler cannot place (a hostPort the old pod holds, resources).
    SurgeUnschedulable,
    /// The node is down (NotReady, unreachable) or gone, and its pod counts.
    NodeDown,
    /// The node's only pod is being deleted and is not gone yet.
    Terminating,
    /// The node's old pod is not available (the controller replaces it first).
    OldPodUnavailable,
    /// A new pod not available yet: pending, creating, not ready.
    NewPodStarting,
    /// A new pod Ready, and minReadySeconds still counting.
    MinReadySeconds,
    /// A node the DaemonSet should run on, with no pod (its replacement not made yet).
    NoPod,
    /// Both an old and a new pod, or more than one of a kind.
    SeveralPods,
}

impl HoldCause {
    pub fn as_str(self) -> &'static str {
        match self {
            HoldCause::NewPodFailing => "new-pod-failing",
            HoldCause::SurgeUnschedulable => "surge-pod-unschedulable",
            HoldCause::NodeDown => "node-down",
            HoldCause::Terminating => "terminating",
            HoldCause::OldPodUnavailable => "old-pod-unavailable",
            HoldCause::NewPodStarting => "new-pod-starting",
            HoldCause::MinReadySeconds => "min-ready-seconds",
            HoldCause::NoPod => "no-pod",
            HoldCause::SeveralPods => "several-pods",
        }
    }

    /// A failure the rollout will not get past by itself (the rollout's own when the
    /// holder's origin says so: [`Holder::is_rollout_failure`]).
    pub fn is_failure(self) -> bool {
        matches!(self, HoldCause::NewPodFailing | HoldCause::SurgeUnschedulable)
    }

    /// In words, for a count of nodes (`3 down nodes`).
    fn noun(self, n: usize) -> String {
        let s = if n == 1 { "" } else { "s" };
        match self {
            HoldCause::NewPodFailing => format!("{n} failing new pod{s}"),
            HoldCause::SurgeUnschedulable => format!("{n} surge pod{s} that cannot be placed"),
            HoldCause::NodeDown => format!("{n} down node{s}"),
            HoldCause::Terminating => format!("{n} pod{s} stuck Terminating"),
            HoldCause::OldPodUnavailable => format!("{n} unavailable old pod{s}"),
            HoldCause::NewPodStarting => format!("{n} new pod{s} starting"),
            HoldCause::MinReadySeconds => format!("{n} new pod{s} inside minReadySeconds"),
            HoldCause::NoPod => format!("{n} node{s} without a pod"),
            HoldCause::SeveralPods => format!("{n} node{s} with several pods"),
        }
    }
}

/// One unit of the budget in use.
#[derive(Debug, Clone, PartialEq)]
pub struct Holder {
    pub node: String,
    pub pod: Option<String>,
    pub cause: HoldCause,
    /// What is wrong, the same words on every node it is wrong on (so holders group):
    /// `ImagePullBackOff: registry.example/agent:v9`, `node unreachable`.
    pub reason: String,
    pub origin: Origin,
    /// Since when (the node's Ready transition, the pod's deletion or creation, the pod
    /// going unready), where the cluster says.
    pub since: Option<Timestamp>,
    /// The one thing that frees the unit.
    pub frees: String,
    /// Another pod that blocks this one, by name: the old pod holding the hostPort a
    /// surge pod needs.
    pub blocked_by: Option<String>,
}

impl Holder {
    /// A failure this rollout caused: a new pod that fails, a surge pod that cannot be
    /// placed — and not one that failed on that node before the rollout.
    pub fn is_rollout_failure(&self) -> bool {
        self.cause.is_failure() && self.origin == Origin::RolloutInduced
    }
}

/// A rolling update's budget and who holds it.
#[derive(Debug, Clone, PartialEq)]
pub struct Budget {
    /// Resolved against desiredNumberScheduled (0 for OnDelete).
    pub max_unavailable: i32,
    pub max_surge: i32,
    /// Units in use: nodes counted unavailable (without surge), or new pods not yet
    /// available beside an old one (with surge).
    pub used: usize,
    /// maxUnavailable without surge, maxSurge with it.
    pub limit: i32,
    /// Every unit in use, failures first.
    pub holders: Vec<Holder>,
    /// New pods that fail on nodes that hold no unit (with surge, a node whose old pod
    /// was unavailable gets its new pod at once, outside the budget; OnDelete has none).
    pub failing_elsewhere: Vec<Holder>,
    /// When this rollout began.
    pub started: Option<Timestamp>,
}

impl Budget {
    /// Holders and failures elsewhere, grouped by what holds them: (cause, origin,
    /// reason) → the nodes, in node order.
    pub fn groups(&self) -> Vec<Group<'_>> {
        let mut by: BTreeMap<(HoldCause, Origin, &str), Vec<&Holder>> = BTreeMap::new();
        for h in self.holders.iter().chain(&self.failing_elsewhere) {
            by.entry((h.cause, h.origin, h.reason.as_str())).or_default().push(h);
        }
        by.into_values().map(|holders| Group { first: holders[0], holders }).collect()
    }
}

/// Holders with the same cause, origin and reason.
#[derive(Debug, Clone)]
pub struct Group<'a> {
    pub first: &'a Holder,
    pub holders: Vec<&'a Holder>,
}

impl Group<'_> {
    /// `FailedScheduling ×6: … — on a, b, c and 3 more`.
    pub fn line(&self, named: usize) -> String {
        let n = self.holders.len();
        let times = if n > 1 { format!(" ×{n}") } else { String::new() };
        let mut nodes: Vec<&str> = self.holders.iter().take(named).map(|h| h.node.as_str()).collect();
        let more = if n > named { format!(" and {} more", n - named) } else { String::new() };
        if nodes.is_empty() {
            nodes.push("?");
        }
        format!(
            "{}{times}: {} ({}) — on {}{more}",
            self.first.cause.as_str(),
            self.first.reason,
            self.first.origin.as_str(),
            nodes.join(", ")
        )
    }
}

/// The scheduler's message, the same on every node (its first sentence).
fn scheduler_reason(msg: &str) -> String {
    let first = msg.split(" preemption:").next().unwrap_or(msg).trim();
    format!("FailedScheduling: {first}")
}

/// What frees a unit of each kind.
fn frees(cause: HoldCause, c: Option<Cause>, ds: &DsInfo, terminating: bool) -> String {
    let undo = format!("kubectl rollout undo ds/{} -n {}", ds.name, ds.namespace);
    match cause {
        HoldCause::NewPodFailing => match c {
            Some(Cause::Image) => format!("frees when the image can be pulled: fix the image, or `{undo}`"),
            Some(Cause::Crashloop) => format!("frees when the container stops crashing: its logs say why (l), or `{undo}`"),
            _ => format!("frees when the container can start: fix its configuration, or `{undo}`"),
        },
        HoldCause::SurgeUnschedulable if c == Some(Cause::HostPort) => format!(
            "never frees by itself: the old pod holds the port the surge pod needs — set maxSurge 0 and maxUnavailable 1, or delete the old pod, or `{undo}`"
        ),
        HoldCause::SurgeUnschedulable => {
            "frees when the node has room for the old and the new pod together: free resources, or set maxSurge 0 and maxUnavailable 1".into()
        }
        HoldCause::NodeDown if terminating => "frees when the node returns, the node is deleted, or the pod is force-deleted (or the node gets the node.kubernetes.io/out-of-service taint)".into(),
        HoldCause::NodeDown => "frees when the node returns or is deleted".into(),
        HoldCause::Terminating => "frees when the kubelet confirms the pod gone; if it lingers, a finalizer holds it (or force-delete it)".into(),
        HoldCause::OldPodUnavailable => "frees when its replacement is available (the controller deletes unavailable old pods first)".into(),
        HoldCause::NewPodStarting => "frees when the new pod is Ready".into(),
        HoldCause::MinReadySeconds => format!("frees when the new pod has been Ready for minReadySeconds ({}s)", ds.min_ready_seconds),
        HoldCause::NoPod => "frees when the controller has created its pod and the pod is available".into(),
        HoldCause::SeveralPods => "frees when the extra pod is gone".into(),
    }
}

/// The holder on node `id`, which the controller counts as unavailable (no surge).
fn held_node(model: &Model, ds: &DsInfo, id: NodeId, start: Option<Timestamp>, now: Timestamp) -> Holder {
    let pods = model.pods_on(ds, id);
    let live: Vec<&PodInfo> = pods.iter().copied().filter(|p| p.deleting.is_none()).collect();
    let node = model.node(id);
    let name = node
        .map(|n| n.name.clone())
        .or_else(|| pods.first().and_then(|p| p.node.as_deref().map(String::from)))
        .unwrap_or_else(|| "?".into());
    let first = live.first().or(pods.first()).map(|p| p.name.to_string());
    let terminating = live.is_empty() && !pods.is_empty();
    let mk = |cause, c, reason: String, origin, since| Holder {
        node: name.clone(),
        pod: first.clone(),
        cause,
        reason,
        origin,
        since,
        frees: frees(cause, c, ds, terminating),
        blocked_by: None,
    };
    // The node is down or gone: the node's problem, whatever the pod says.
    match node {
        None => {
            return mk(
                HoldCause::NodeDown,
                None,
                "node is gone (the pod garbage collector removes its pods)".into(),
                Origin::Unrelated,
                None,
            );
        }
        Some(n) if n.is_down() => {
            let since = n.condition("Ready").and_then(|c| c.last_transition);
            let what = if n.condition("Ready").is_some_and(|c| c.status == "Unknown") { "node unreachable" } else { "node NotReady" };
            let reason = if terminating { format!("{what}; its pod is stuck Terminating") } else { what.to_string() };
            return mk(HoldCause::NodeDown, None, reason, Origin::outside(since, start), since);
        }
        Some(_) => {}
    }
    if terminating {
        let since = pods.iter().filter_map(|p| p.deleting.get()).min();
        // The rollout deletes old pods: one it deleted is its own doing.
        let origin = match (since, start) {
            (Some(s), Some(st)) if s < st => Origin::PreExisting,
            _ => Origin::RolloutInduced,
        };
        return mk(HoldCause::Terminating, None, "pod Terminating".into(), origin, since);
    }
    if live.is_empty() {
        let joined_after = node.and_then(|n| n.created).zip(start).is_some_and(|(c, s)| c > s);
        let origin = if joined_after { Origin::Unrelated } else { Origin::RolloutInduced };
        return mk(HoldCause::NoPod, None, "no pod yet".into(), origin, None);
    }
    if live.len() > 1 {
        return mk(HoldCause::SeveralPods, None, format!("{} pods of the DaemonSet", live.len()), Origin::RolloutInduced, None);
    }
    let p = live[0];
    if !is_updated(ds, p) {
        let cell = model.explain(ds, id);
        let reason = cell.as_ref().map(|c| c.reason.clone()).unwrap_or_else(|| "not available".into());
        let since = p.unready_since();
        return mk(HoldCause::OldPodUnavailable, cell.map(|c| c.cause), reason, Origin::outside(since, start), since);
    }
    new_pod_holder(model, ds, id, p, start, now).map_or_else(
        || mk(HoldCause::NewPodStarting, None, "not available yet".into(), Origin::RolloutInduced, p.created.get()),
        |h| Holder { node: name.clone(), ..h },
    )
}

/// A new pod on node `id` that is not available: why, as a holder (None when it is
/// available after all).
fn new_pod_holder(model: &Model, ds: &DsInfo, id: NodeId, p: &PodInfo, start: Option<Timestamp>, now: Timestamp) -> Option<Holder> {
    let cell = model.explain(ds, id)?;
    let node = model.node(id).map(|n| n.name.clone()).unwrap_or_default();
    let mk = |cause, c: Option<Cause>, reason: String, since| Holder {
        node: node.clone(),
        pod: Some(p.name.to_string()),
        cause,
        reason,
        origin: Origin::RolloutInduced,
        since,
        frees: frees(cause, c, ds, false),
        blocked_by: None,
    };
    // The node's pod of an older revision failed before this rollout began: the new one
    // failing there is the node's old trouble, not the rollout's.
    let failed_before = model.coverage(ds).and_then(|c| c.holds.failed_before(id)).filter(|t| start.is_some_and(|s| *t < s));
    if let Some(msg) = p.unschedulable.as_deref() {
        let cause = if cell.cause == Cause::HostPort || cell.cause == Cause::Resources {
            HoldCause::SurgeUnschedulable
        } else {
            HoldCause::NewPodStarting
        };
        let mut reason = scheduler_reason(msg);
        let mut blocked_by = None;
        if cell.cause == Cause::HostPort && !ds.host_ports.is_empty() {
            let ports: Vec<String> = ds.host_ports.iter().map(|p| p.to_string()).collect();
            // The old pod beside it holds the port (its name differs per node: the group's
            // words stay the same, each holder names its own).
            blocked_by = model.pods_on(ds, id).into_iter().find(|o| o.deleting.is_none() && !is_updated(ds, o)).map(|o| o.name.to_string());
            let by = if blocked_by.is_some() { "the old pod" } else { "another pod" };
            reason = format!("{reason} — hostPort {} held by {by}", ports.join(","));
        }
        return Some(Holder { blocked_by, ..mk(cause, Some(cell.cause), reason, p.created.get()) });
    }
    match cell.state {
        CellState::Failing => {
            let reason = cell.reason.split(" (old revision").next().unwrap_or(&cell.reason).to_string();
            // The restart count differs per node; the group keeps the kubelet's reason.
            let reason = match cell.cause {
                Cause::Crashloop => format!("CrashLoopBackOff: container {}", p.containers.first().map(|c| c.name.as_str()).unwrap_or("?")),
                _ => reason,
            };
            let mut h = mk(HoldCause::NewPodFailing, Some(cell.cause), reason, p.created.get());
            if let Some(t) = failed_before {
                h.origin = Origin::PreExisting;
                h.since = Some(t);
                h.frees = "the old pod failed here before this rollout too: the node or the pod's configuration needs fixing; undoing the rollout will not help".into();
            }
            Some(h)
        }
        _ if p.ready => {
            let since = p.ready_since();
            let left = since.map(|t| i64::from(ds.min_ready_seconds) - now.duration_since(t).as_secs()).unwrap_or(0).max(0);
            Some(mk(
                HoldCause::MinReadySeconds,
                None,
                format!("Ready, minReadySeconds {}s not yet passed ({left}s left)", ds.min_ready_seconds),
                since,
            ))
        }
        _ => {
            let reason = match cell.cause {
                Cause::Unready => "Running, not Ready (readiness probe)".to_string(),
                _ => cell.reason.clone(),
            };
            Some(mk(HoldCause::NewPodStarting, Some(cell.cause), reason, p.created.get()))
        }
    }
}

/// Who holds the budget of `ds`'s rollout at `now`.
pub fn budget(model: &Model, ds: &DsInfo, now: Timestamp) -> Budget {
    let started = rollout::rollout_start(model, ds);
    let (max_surge, max_unavailable) = match &ds.strategy {
        Strategy::RollingUpdate { max_unavailable, max_surge } => {
            crate::k8s::intstr::surge_and_unavailable(max_surge, max_unavailable, ds.desired)
        }
        Strategy::OnDelete => (0, 0),
    };
    let mut holders = Vec::new();
    let mut counted: Vec<NodeId> = Vec::new();
    match &ds.strategy {
        Strategy::RollingUpdate { .. } if max_surge == 0 => {
            if let Some(c) = model.coverage(ds) {
                counted = c.holds.nodes(ds.min_ready_seconds, now).collect();
            }
            holders = counted.iter().map(|id| held_node(model, ds, *id, started, now)).collect();
        }
        Strategy::RollingUpdate { .. } => {
            // A node with an old pod and a new one that is not available uses a unit.
            for id in model.nodes_with_several_pods(ds) {
                let pods = model.pods_on(ds, id);
                let live: Vec<&PodInfo> = pods.into_iter().filter(|p| p.deleting.is_none()).collect();
                let has_old = live.iter().any(|p| !is_updated(ds, p));
                let new = live.iter().rev().find(|p| is_updated(ds, p));
                if let (true, Some(n)) = (has_old, new)
                    && let Some(h) = new_pod_holder(model, ds, id, n, started, now)
                {
                    counted.push(id);
                    holders.push(h);
                }
            }
        }
        Strategy::OnDelete => {}
    }
    // New pods that fail where no unit is held (they still say the rollout is broken).
    let mut failing_elsewhere = Vec::new();
    if let Some(cov) = model.coverage(ds)
        && cov.count(CellState::Failing) + cov.count(CellState::Starting) > 0
    {
        // `counted` is in node-id order (the holds' map, the sorted crowded nodes).
        counted.sort_unstable();
        for (i, s) in cov.cells.iter().enumerate() {
            let id = i as NodeId;
            if !matches!(s, CellState::Failing | CellState::Starting) || counted.binary_search(&id).is_ok() {
                continue;
            }
            let pods = model.pods_on(ds, id);
            let Some(p) = pods.iter().rev().find(|p| p.deleting.is_none() && is_updated(ds, p)) else { continue };
            // A pod merely starting is no failure unless the scheduler cannot place it: only
            // those are explained (thousands start during a fleet-wide rollout).
            if *s == CellState::Starting && p.unschedulable.is_none() {
                continue;
            }
            if let Some(h) = new_pod_holder(model, ds, id, p, started, now).filter(|h| h.cause.is_failure()) {
                failing_elsewhere.push(h);
            }
        }
    }
    holders.sort_by(|a, b| (!a.cause.is_failure(), a.origin, a.cause, &a.node).cmp(&(!b.cause.is_failure(), b.origin, b.cause, &b.node)));
    let limit = if max_surge > 0 { max_surge } else { max_unavailable };
    Budget { max_unavailable, max_surge, used: holders.len(), limit, holders, failing_elsewhere, started }
}

/// The rollout's state in one line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    /// Not rolling out: every desired node runs the current revision.
    Complete,
    Progressing,
    /// OnDelete: pods move only as they are deleted.
    WaitingForDeletions,
    /// Stuck, and why (`new pods fail: ImagePullBackOff on 3 nodes (rollout-induced) ·
    /// consider rollout undo`).
    Stalled(String),
}

impl Verdict {
    pub fn word(&self) -> &'static str {
        match self {
            Verdict::Complete => "complete",
            Verdict::Progressing => "progressing",
            Verdict::WaitingForDeletions => "waiting for pod deletions",
            Verdict::Stalled(_) => "stalled",
        }
    }

    pub fn is_stalled(&self) -> bool {
        matches!(self, Verdict::Stalled(_))
    }

    /// Stalled by what the rollout itself caused (a new pod fails, a surge pod cannot
    /// be placed): the rollout's fault, and undoing it helps.
    pub fn rollout_fault(b: &Budget) -> bool {
        b.holders.iter().chain(&b.failing_elsewhere).any(Holder::is_rollout_failure)
    }
}

impl std::fmt::Display for Verdict {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Verdict::Stalled(why) => write!(f, "stalled — {why}"),
            v => f.write_str(v.word()),
        }
    }
}

/// `3 down nodes (pre-existing), 1 pod stuck Terminating (rollout-induced)`.
fn summary(holders: &[&Holder]) -> String {
    let mut by: BTreeMap<(HoldCause, Origin), usize> = BTreeMap::new();
    for h in holders {
        *by.entry((h.cause, h.origin)).or_default() += 1;
    }
    by.into_iter().map(|((c, o), n)| format!("{} ({})", c.noun(n), o.as_str())).collect::<Vec<_>>().join(", ")
}

/// The verdict on `ds`'s rollout, from the budget's holders at once, and from `quiet`
/// (how long nothing moved, where the caller watched) after [`STALL_AFTER`].
pub fn verdict(model: &Model, ds: &DsInfo, b: &Budget, quiet: Option<Duration>) -> Verdict {
    if !rollout::under_way(model, ds) {
        return Verdict::Complete;
    }
    // The template changed and its revision is not in view yet: when this rollout began,
    // and so what it caused, cannot be told for the moment (the revision follows at once).
    if !rollout::revision_in_view(model, ds) {
        return match quiet.filter(|q| *q >= STALL_AFTER) {
            Some(q) => Verdict::Stalled(format!("no revision of the new template in view for {}", human_duration(q.as_secs() as i64))),
            None => Verdict::Progressing,
        };
    }
    let all: Vec<&Holder> = b.holders.iter().chain(&b.failing_elsewhere).collect();
    let failures: Vec<&Holder> = all.iter().copied().filter(|h| h.is_rollout_failure()).collect();
    if !failures.is_empty() {
        let mut by: BTreeMap<&str, usize> = BTreeMap::new();
        for h in &failures {
            *by.entry(h.reason.split(':').next().unwrap_or(&h.reason)).or_default() += 1;
        }
        let what = by.into_iter().map(|(r, n)| format!("{r} on {n} node{}", if n == 1 { "" } else { "s" })).collect::<Vec<_>>().join(", ");
        let hint = if failures.iter().any(|h| h.cause == HoldCause::SurgeUnschedulable && h.reason.contains("hostPort")) {
            "the old pods hold the hostPort: set maxSurge 0 and maxUnavailable 1, or undo"
        } else {
            "consider rollout undo"
        };
        let lead =
            if failures.iter().all(|h| h.cause == HoldCause::SurgeUnschedulable) { "surge pods cannot be placed" } else { "new pods fail" };
        return Verdict::Stalled(format!("{lead}: {what} (rollout-induced) · {hint}"));
    }
    if matches!(ds.strategy, Strategy::OnDelete) {
        return Verdict::WaitingForDeletions;
    }
    // The budget is spent, all of it on what the rollout did not cause: nothing moves
    // until those free.
    let outside: Vec<&Holder> = b.holders.iter().filter(|h| h.origin != Origin::RolloutInduced).collect();
    if b.limit > 0 && b.used >= b.limit as usize && outside.len() >= b.limit as usize {
        return Verdict::Stalled(format!("budget held by {}", summary(&outside)));
    }
    if let Some(q) = quiet.filter(|q| *q >= STALL_AFTER) {
        let held = if all.is_empty() { String::new() } else { format!(" — held by {}", summary(&all)) };
        return Verdict::Stalled(format!("no pod updated or became available for {}{held}", human_duration(q.as_secs() as i64)));
    }
    Verdict::Progressing
}

//! Rollouts: the arithmetic shared by the simulator's controller and the client
//! (`maxUnavailable` / `maxSurge` scaling with the DaemonSet rules: both round up; if both
//! are 0 while desired > 0, maxUnavailable is 1), and the client's rollout progress —
//! pods per revision, unavailable now vs. allowed, what the rollout waits on, and its
//! pace (rate, ETA, stalled) from the progress observed over time.
//!
//! May import: `model::compact`, `model::coverage`, `model::availability`, `model::index`, `k8s`.

use std::collections::{BTreeMap, VecDeque};
use std::time::{Duration, Instant};

use super::availability;
use super::compact::{DsInfo, Strategy};
use super::coverage::CellState;
use super::index::{Model, NodeId};
use crate::k8s::intstr::surge_and_unavailable;

/// Pods of one revision of a DaemonSet.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RevisionPods {
    /// None when no ControllerRevision with this hash is known (deleted, or not synced).
    pub revision: Option<i64>,
    pub hash: String,
    pub pods: u32,
    pub ready: u32,
    pub current: bool,
}

/// Where one DaemonSet's rollout stands, from its status and its pods.
#[derive(Debug, Clone, PartialEq)]
pub struct Progress {
    pub desired: i32,
    pub updated: i32,
    pub available: i32,
    /// desired − available (`numberUnavailable`).
    pub unavailable: i32,
    /// For RollingUpdate, scaled against `desired`; 0 for OnDelete.
    pub max_unavailable: i32,
    pub max_surge: i32,
    pub current_revision: Option<i64>,
    pub current_hash: Option<String>,
    /// Newest revision first.
    pub per_revision: Vec<RevisionPods>,
    /// When the current revision was created: the rollout's start.
    pub started: Option<jiff::Timestamp>,
    pub complete: bool,
    /// What the rollout waits on, most important first, in words.
    pub waiting_on: Vec<String>,
    /// What it waits on that no holder of the budget explains (`model::budget` names
    /// those): a generation not yet observed, outdated pods waiting their turn.
    pub unheld: Vec<String>,
}

/// At most this many nodes (or groups of nodes saying the same) are named in one
/// "waiting on" line.
const NAMED_NODES: usize = 3;
/// At most this many nodes are explained to group them (a frame does not explain 5,000).
const GROUPED_NODES: usize = 200;

fn name_nodes(model: &Model, ds: &DsInfo, ids: &[NodeId]) -> String {
    // Nodes that say the same thing are one entry (`reason ×6 — on a, b, c and 3 more`):
    // a scheduler's message is 250 characters, and the same on every node.
    let mut groups: Vec<(String, Vec<String>)> = Vec::new();
    for id in ids.iter().take(GROUPED_NODES) {
        let (Some(c), Some(n)) = (model.explain(ds, *id), model.node(*id)) else { continue };
        match groups.iter_mut().find(|(r, _)| *r == c.reason) {
            Some((_, nodes)) => nodes.push(n.name.clone()),
            None => groups.push((c.reason, vec![n.name.clone()])),
        }
    }
    let mut parts: Vec<String> = groups
        .iter()
        .take(NAMED_NODES)
        .map(|(reason, nodes)| match nodes.as_slice() {
            [one] => format!("{one}: {reason}"),
            _ => {
                let more = if nodes.len() > NAMED_NODES { format!(" and {} more", nodes.len() - NAMED_NODES) } else { String::new() };
                format!("{reason} ×{} — on {}{more}", nodes.len(), nodes[..NAMED_NODES.min(nodes.len())].join(", "))
            }
        })
        .collect();
    let shown: usize = groups.iter().take(NAMED_NODES).map(|(_, n)| n.len()).sum();
    if ids.len() > shown {
        parts.push(format!("and {} more", ids.len() - shown));
    }
    parts.join("; ")
}

/// Counts and limits only (for a list row): no per-revision work, and the unavailable
/// nodes counted from what the store keeps, not by walking the pods.
pub fn brief(model: &Model, ds: &DsInfo) -> Progress {
    brief_at(model, ds, crate::k8s::clock::now())
}

/// [`brief`] as of `now`. Without surge the controller counts unavailability node by node,
/// its own way (a pod stuck Terminating counts); otherwise it is the status's
/// `desired − available`.
fn brief_at(model: &Model, ds: &DsInfo, now: jiff::Timestamp) -> Progress {
    let revisions = model.revisions_of(ds);
    let current = revisions.last();
    let (max_surge, max_unavailable) = match &ds.strategy {
        Strategy::RollingUpdate { max_unavailable, max_surge } => surge_and_unavailable(max_surge, max_unavailable, ds.desired),
        Strategy::OnDelete => (0, 0),
    };
    let per_node = matches!(ds.strategy, Strategy::RollingUpdate { .. }) && max_surge == 0;
    Progress {
        desired: ds.desired,
        updated: ds.updated,
        available: ds.available,
        unavailable: if per_node { unavailable_count(model, ds, now) as i32 } else { (ds.desired - ds.available).max(0) },
        max_unavailable,
        max_surge,
        current_revision: current.map(|r| r.revision),
        current_hash: current.map(|r| r.hash.clone()),
        per_revision: Vec::new(),
        started: rollout_start(model, ds),
        complete: ds.observed_generation >= ds.generation && ds.updated >= ds.desired && ds.available >= ds.desired,
        waiting_on: Vec::new(),
        unheld: Vec::new(),
    }
}

/// When this rollout began: its revision's creation — unless the revision is an old one
/// brought back (`kubectl rollout undo`: the controller bumps the old ControllerRevision's
/// number and keeps its creation time). Then the rollout began after the newest other
/// revision appeared; its first pod created since then says when.
/// None also while the newest revision in view is not yet the template's (see
/// [`revision_in_view`]): a start read off the previous revision would date this rollout
/// back to the last one, and every failure since then would look like this rollout's.
pub fn rollout_start(model: &Model, ds: &DsInfo) -> Option<jiff::Timestamp> {
    if !revision_in_view(model, ds) {
        return None;
    }
    let revisions = model.revisions_of(ds);
    let current = revisions.last()?;
    let created = current.created?;
    let newest_other = revisions.iter().filter(|r| r.hash != current.hash).filter_map(|r| r.created).max();
    match newest_other {
        Some(other) if other > created => {
            let first_pod = model
                .pods_of(ds)
                .filter(|p| p.revision_hash.as_deref() == Some(current.hash.as_str()))
                .filter_map(|p| p.created.get())
                .filter(|c| *c >= other)
                .min();
            Some(first_pod.unwrap_or(other))
        }
        _ => Some(created),
    }
}

/// Whether the newest ControllerRevision in view is the DaemonSet's current template.
/// The DaemonSet, its revisions and its pods come on separate watches in no set order:
/// just after a template change the DaemonSet can be seen before the revision the
/// controller made for it. Told by the pods: those of the newest revision in view were
/// created for the template generation they carry (`pod-template-generation`); when some
/// exist and none carries the DaemonSet's generation, that revision is an older one.
/// Without the generation on either side, or without such pods, nothing says otherwise.
pub fn revision_in_view(model: &Model, ds: &DsInfo) -> bool {
    let Some(generation) = ds.template_generation.as_deref() else { return true };
    let revisions = model.revisions_of(ds);
    let Some(newest) = revisions.last() else { return true };
    let mut of_newest = model.pods_of(ds).filter(|p| p.revision_hash.as_deref() == Some(newest.hash.as_str()));
    let mut any = false;
    let current = of_newest.any(|p| {
        any |= p.template_generation.is_some();
        p.template_generation.as_deref().is_none_or(|g| g == generation)
    });
    current || !any
}

/// The rollout state of `ds`, from the model.
pub fn progress(model: &Model, ds: &DsInfo) -> Progress {
    let now = crate::k8s::clock::now();
    let Progress { unavailable, max_unavailable, max_surge, complete, started, .. } = brief_at(model, ds, now);
    // The first few of the nodes counted unavailable, with why (as brief counts them).
    let blocking = match &ds.strategy {
        Strategy::RollingUpdate { .. } if max_surge == 0 => unavailable_named(model, ds, now, NAMED_NODES),
        _ => Vec::new(),
    };
    let revisions = model.revisions_of(ds);
    let current = revisions.last();
    let mut by_hash: BTreeMap<&str, (u32, u32)> = BTreeMap::new();
    for p in model.pods_of(ds).filter(|p| p.deleting.is_none()) {
        let e = by_hash.entry(p.revision_hash.as_deref().unwrap_or("?")).or_default();
        e.0 += 1;
        e.1 += u32::from(p.ready);
    }
    let in_view = revision_in_view(model, ds);
    let current_hash = current.filter(|_| in_view).map(|r| r.hash.clone());
    let mut per_revision: Vec<RevisionPods> = by_hash
        .into_iter()
        .map(|(hash, (pods, ready))| RevisionPods {
            revision: revisions.iter().find(|r| r.hash == hash).map(|r| r.revision),
            current: current_hash.as_deref() == Some(hash),
            hash: hash.to_string(),
            pods,
            ready,
        })
        .collect();
    if let Some(c) = current.filter(|_| in_view)
        && !per_revision.iter().any(|r| r.current)
    {
        per_revision.push(RevisionPods { revision: Some(c.revision), hash: c.hash.clone(), pods: 0, ready: 0, current: true });
    }
    per_revision.sort_by(|a, b| b.current.cmp(&a.current).then(b.revision.cmp(&a.revision)));

    // Group the nodes by what holds the rollout up.
    let mut failing_new = Vec::new();
    let mut starting_new = Vec::new();
    let mut outdated = Vec::new();
    let mut missing = Vec::new();
    let mut terminating = Vec::new();
    let surging = model.nodes_with_several_pods(ds);
    if let Some(cov) = model.coverage(ds) {
        for (i, s) in cov.cells.iter().enumerate() {
            let id = i as NodeId;
            match s {
                CellState::Failing => failing_new.push(id),
                CellState::Starting => starting_new.push(id),
                CellState::Outdated => outdated.push(id),
                CellState::Missing => missing.push(id),
                CellState::Terminating => terminating.push(id),
                _ => {}
            }
        }
    }
    let mut waiting_on = Vec::new();
    if ds.observed_generation < ds.generation {
        waiting_on
            .push(format!("the controller has not yet observed generation {} (status is for {})", ds.generation, ds.observed_generation));
    } else if !in_view {
        waiting_on.push("the new template's ControllerRevision, not in view yet".to_string());
    }
    if !failing_new.is_empty() {
        waiting_on.push(format!("{} pod(s) failing — {}", failing_new.len(), name_nodes(model, ds, &failing_new)));
    }
    if !surging.is_empty() {
        waiting_on.push(format!(
            "{} node(s) run an old and a new pod (maxSurge): the old one goes once the new one is available{} — {}",
            surging.len(),
            if ds.min_ready_seconds > 0 { format!(" for minReadySeconds {}s", ds.min_ready_seconds) } else { String::new() },
            name_nodes(model, ds, &surging)
        ));
    }
    if !starting_new.is_empty() {
        waiting_on.push(format!("{} pod(s) not ready yet — {}", starting_new.len(), name_nodes(model, ds, &starting_new)));
    }
    if !missing.is_empty() {
        waiting_on.push(format!("{} eligible node(s) without a pod — {}", missing.len(), name_nodes(model, ds, &missing)));
    }
    if !terminating.is_empty() {
        waiting_on.push(format!("{} pod(s) terminating — {}", terminating.len(), name_nodes(model, ds, &terminating)));
    }
    let mut unheld: Vec<String> = waiting_on.iter().take(usize::from(ds.observed_generation < ds.generation)).cloned().collect();
    match &ds.strategy {
        Strategy::RollingUpdate { .. } if !outdated.is_empty() && unavailable >= max_unavailable && max_surge == 0 => {
            unheld.push(format!("{} outdated pod(s) wait until the budget frees", outdated.len()))
        }
        Strategy::RollingUpdate { .. } if !outdated.is_empty() => {
            unheld.push(format!("{} outdated pod(s) to replace, up to {} at a time", outdated.len(), max_unavailable.max(max_surge)))
        }
        _ => {}
    }
    match &ds.strategy {
        Strategy::OnDelete if !outdated.is_empty() => waiting_on.push(format!(
            "OnDelete: {} pod(s) stay on an old revision until they are deleted (the controller never replaces them itself)",
            outdated.len()
        )),
        Strategy::RollingUpdate { .. } if !outdated.is_empty() && max_surge == 0 && unavailable >= max_unavailable => {
            let named: Vec<String> = blocking.iter().map(|(id, why)| format!("{}: {why}", node_name(model, ds, *id))).collect();
            let more = if unavailable as usize > blocking.len() {
                format!("; and {} more", unavailable as usize - blocking.len())
            } else {
                String::new()
            };
            waiting_on.insert(
                0,
                format!(
                    "maxUnavailable reached ({unavailable} unavailable, {max_unavailable} allowed): {} outdated pod(s) wait on {}{more}",
                    outdated.len(),
                    named.join("; ")
                ),
            )
        }
        Strategy::RollingUpdate { .. } if !outdated.is_empty() => {
            waiting_on.push(format!("{} outdated pod(s) to replace, up to {} at a time", outdated.len(), max_unavailable.max(max_surge)))
        }
        _ => {}
    }
    Progress {
        desired: ds.desired,
        updated: ds.updated,
        available: ds.available,
        unavailable,
        max_unavailable,
        max_surge,
        current_revision: current.map(|r| r.revision),
        current_hash,
        per_revision,
        started,
        complete,
        waiting_on,
        unheld,
    }
}

/// No progress for this long makes an unfinished rollout "stalled".
pub const STALL_AFTER: Duration = Duration::from_secs(60);
/// The window the rate is measured over.
const RATE_WINDOW: Duration = Duration::from_secs(120);

/// The pace of one DaemonSet's rollout, observed as its status changes.
#[derive(Debug, Clone, Default)]
pub struct Pace {
    /// (when, updated, available), oldest first, within the rate window.
    samples: VecDeque<(Instant, i32, i32)>,
    last_change: Option<Instant>,
    /// Seen under way, and when it was last seen finishing (for "finished in …").
    was_under_way: bool,
    pub finished_at: Option<jiff::Timestamp>,
}

impl Pace {
    /// Records whether the rollout is under way; the moment it stops being under way
    /// (having been seen under way) is when it finished.
    pub fn observe_under_way(&mut self, under_way: bool, now: jiff::Timestamp) {
        if self.was_under_way && !under_way {
            self.finished_at = Some(now);
        }
        if under_way {
            self.finished_at = None;
        }
        self.was_under_way = under_way;
    }

    /// Records the status seen at `now`.
    pub fn observe(&mut self, now: Instant, updated: i32, available: i32) {
        if self.samples.back().is_none_or(|s| (s.1, s.2) != (updated, available)) {
            self.last_change = Some(now);
            self.samples.push_back((now, updated, available));
        }
        while self.samples.len() > 2 && self.samples.front().is_some_and(|s| now.duration_since(s.0) > RATE_WINDOW) {
            self.samples.pop_front();
        }
    }

    /// Updated pods per minute over the window, if anything was observed to move.
    pub fn rate_per_min(&self, now: Instant) -> Option<f64> {
        let (first, last) = (self.samples.front()?, self.samples.back()?);
        let dt = now.duration_since(first.0).as_secs_f64();
        let done = (last.1 - first.1) as f64;
        (done > 0.0 && dt >= 1.0).then(|| done * 60.0 / dt)
    }

    /// Time without any change in updated or available counts.
    pub fn quiet_for(&self, now: Instant) -> Duration {
        self.last_change.map_or(Duration::ZERO, |t| now.duration_since(t))
    }
}

/// Pace in words: rate, ETA and whether the rollout stalled.
#[derive(Debug, Clone, PartialEq)]
pub struct PaceSummary {
    pub rate_per_min: Option<f64>,
    pub eta: Option<Duration>,
    pub stalled: bool,
}

pub fn summarize(p: &Progress, pace: Option<&Pace>, now: Instant, elapsed: Option<Duration>) -> PaceSummary {
    // Observed rate first; before anything moved while we watched, the average since the
    // rollout began (updated pods over the time since the current revision appeared).
    let rate = pace.and_then(|x| x.rate_per_min(now)).or_else(|| {
        let e = elapsed?.as_secs_f64();
        (p.updated > 0 && e >= 1.0).then(|| p.updated as f64 * 60.0 / e)
    });
    let remaining = (p.desired - p.updated).max(0) as f64;
    let eta = rate.filter(|r| *r > 0.0 && !p.complete).map(|r| Duration::from_secs_f64(remaining / r * 60.0));
    let stalled = !p.complete && pace.is_some_and(|x| x.quiet_for(now) >= STALL_AFTER);
    // A stalled rollout has no ETA: the rate says nothing about when it resumes.
    let eta = if stalled { None } else { eta };
    PaceSummary { rate_per_min: rate, eta, stalled }
}

/// How long each DaemonSet took to get a Ready pod on a node that joined recently:
/// (DaemonSet, seconds from the node's creation to the pod's Ready, or seconds waited so far).
pub type TimesToReady = Vec<(String, Result<i64, i64>)>;

/// Nodes created after `since`, newest first (at most `limit`), with their time-to-coverage.
pub fn time_to_coverage(
    model: &Model,
    since: jiff::Timestamp,
    now: jiff::Timestamp,
    limit: usize,
) -> Vec<(String, jiff::Timestamp, TimesToReady)> {
    let mut recent: Vec<(NodeId, jiff::Timestamp)> =
        model.nodes().filter_map(|(id, n)| n.created.filter(|c| *c >= since).map(|c| (id, c))).collect();
    recent.sort_by_key(|b| std::cmp::Reverse(b.1));
    recent.truncate(limit);
    recent
        .into_iter()
        .filter_map(|(id, created)| {
            let node = model.node(id)?;
            let per_ds = model
                .daemonsets()
                .filter_map(|ds| {
                    let cell = model.explain(ds, id)?;
                    if !cell.state.is_eligible() {
                        return None;
                    }
                    let r = match model.first_ready(ds, id) {
                        Some(t) => Ok(t.duration_since(created).as_secs().max(0)),
                        None => Err(now.duration_since(created).as_secs().max(0)),
                    };
                    Some((format!("{}/{}", ds.namespace, ds.name), r))
                })
                .collect();
            Some((node.name.clone(), created, per_ds))
        })
        .collect()
}

/// A DaemonSet's rollout is under way while the controller has not observed its latest
/// generation, or fewer than the desired nodes run the current template
/// (`updatedNumberScheduled < desiredNumberScheduled`): what `kubectl rollout status`
/// waits on. A restart that changed nothing, or a dry-run, is not a rollout.
pub fn under_way(_model: &Model, ds: &DsInfo) -> bool {
    ds.observed_generation < ds.generation || ds.updated < ds.desired
}

/// How many nodes the controller counts as unavailable in a rolling update without surge
/// (`rollingUpdate` in update.go, semantics §4): kept by the store as cells change, so
/// this does not walk the pods.
pub fn unavailable_count(model: &Model, ds: &DsInfo, now: jiff::Timestamp) -> usize {
    model.coverage(ds).map_or(0, |c| c.holds.count(ds.min_ready_seconds, now))
}

/// The first `limit` of those nodes (by node id), each with why.
pub fn unavailable_named(model: &Model, ds: &DsInfo, now: jiff::Timestamp, limit: usize) -> Vec<(NodeId, String)> {
    let Some(c) = model.coverage(ds) else { return Vec::new() };
    c.holds.nodes(ds.min_ready_seconds, now).filter_map(|id| Some((id, why_unavailable(model, ds, id, now)?))).take(limit).collect()
}

/// Why the controller counts the node as unavailable at `now`: every node holding one of
/// the DaemonSet's pods, where the pods that are not terminating are none (say one stuck
/// Terminating), an old and a new one, more than one of a kind, only a new pod not yet
/// available, or only an old pod that is not available (replaced at once, even over the
/// budget, and counted); and every node it wants to run the daemon on that has no pod.
fn why_unavailable(model: &Model, ds: &DsInfo, id: NodeId, now: jiff::Timestamp) -> Option<String> {
    let should_run = model.explain(ds, id).is_some_and(|c| c.desired);
    let down = model.node(id).is_some_and(|n| n.is_down());
    availability::why(ds, &model.pods_on(ds, id), should_run, down, now)
}

/// The unavailable nodes recounted from scratch, every node id walked, gone nodes'
/// included (their pods count): what the kept count and [`unavailable_named`] must agree
/// with. For checks, not for drawing.
pub fn unavailable_now(model: &Model, ds: &DsInfo, now: jiff::Timestamp) -> Vec<(NodeId, String)> {
    (0..model.node_id_bound()).filter_map(|id| Some((id, why_unavailable(model, ds, id, now)?))).collect()
}

/// A node's name, also for a node that is gone (its pods still count: they name it).
fn node_name(model: &Model, ds: &DsInfo, id: NodeId) -> String {
    let gone = || model.pods_on(ds, id).first().and_then(|p| p.node.as_deref().map(|n| format!("{n} (gone)")));
    model.node(id).map(|n| n.name.clone()).or_else(gone).unwrap_or_else(|| "a node that is gone".into())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn progress(desired: i32, updated: i32) -> Progress {
        Progress {
            desired,
            updated,
            available: desired,
            unavailable: 0,
            max_unavailable: 1,
            max_surge: 0,
            current_revision: Some(2),
            current_hash: None,
            per_revision: vec![],
            started: None,
            complete: updated >= desired,
            waiting_on: vec![],
            unheld: vec![],
        }
    }

    #[test]
    fn pace_gives_rate_and_eta_and_flags_a_stall() {
        let t0 = Instant::now();
        let mut pace = Pace::default();
        pace.observe(t0, 0, 10);
        // One pod per 10 s → 6/min; 10 of 40 done → 30 left → 5 min.
        for i in 1..=10 {
            pace.observe(t0 + Duration::from_secs(10 * i), i as i32, 10);
        }
        let now = t0 + Duration::from_secs(100);
        let s = summarize(&progress(40, 10), Some(&pace), now, None);
        assert!((s.rate_per_min.unwrap() - 6.0).abs() < 0.01, "{s:?}");
        assert_eq!(s.eta.map(|d| d.as_secs()), Some(300));
        assert!(!s.stalled);
        // Nothing moves for STALL_AFTER: stalled (and the same status again is no progress).
        pace.observe(now + Duration::from_secs(30), 10, 10);
        let later = now + STALL_AFTER;
        let stalled = summarize(&progress(40, 10), Some(&pace), later, None);
        assert!(stalled.stalled);
        assert_eq!(stalled.eta, None, "no ETA while stalled (it grew 17m → 36m → 141m)");
        // A finished rollout never stalls.
        assert!(!summarize(&progress(10, 10), Some(&pace), later, None).stalled);
        // Without observations, the average since the rollout began.
        let s = summarize(&progress(40, 20), None, now, Some(Duration::from_secs(600)));
        assert_eq!(s.rate_per_min, Some(2.0));
        assert_eq!(s.eta.map(|d| d.as_secs()), Some(600));
    }

    use crate::model::{Change, fixtures};

    /// A rolling update held up only by a pod stuck Terminating on a NotReady node.
    fn stuck_cluster() -> Model {
        let mut m = Model::new();
        for n in ["a", "b", "c"] {
            m.apply(Change::Node(fixtures::node(n)));
        }
        m.apply(Change::Node(fixtures::node("c").with_ready(Some(false))));
        let ds = fixtures::daemonset("kube-system", "agent").at_generation(2);
        let ds = crate::model::DsInfo { desired: 2, current: 2, ready: 2, updated: 1, available: 2, ..ds };
        m.apply(Change::DaemonSet(ds.clone()));
        m.apply(Change::Pod(fixtures::pod(&ds, "a", "1")));
        m.apply(Change::Pod(fixtures::pod(&ds, "b", "2").from_generation("1")));
        m.apply(Change::Pod(fixtures::pod(&ds, "c", "3").from_generation("1").deleting()));
        m
    }

    #[test]
    fn unavailability_is_counted_as_the_controller_counts_it() {
        let m = stuck_cluster();
        let ds = m.daemonset("kube-system", "agent").unwrap();
        let u = unavailable_now(&m, ds, jiff::Timestamp::now());
        assert_eq!(u.len(), 1, "{u:?}");
        assert_eq!(m.node(u[0].0).unwrap().name, "c");
        assert_eq!(u[0].1, "old pod Terminating on a NotReady node");
        let p = super::progress(&m, ds);
        assert_eq!((p.unavailable, p.max_unavailable), (1, 1), "status says 0 unavailable; the controller counts 1");
        assert!(p.waiting_on[0].starts_with("maxUnavailable reached (1 unavailable, 1 allowed)"), "{:?}", p.waiting_on);
        assert!(p.waiting_on[0].contains("wait on c: old pod Terminating on a NotReady node"), "{:?}", p.waiting_on);
    }

    /// update.go counts a node that should run the daemon and has no pod as unavailable
    /// (`updatedDesiredNodeCounts` adds it with no pods): with maxUnavailable 1, the old
    /// pod elsewhere waits until that node has an available pod.
    #[test]
    fn a_node_without_a_pod_counts_as_unavailable() {
        let mut m = Model::new();
        for n in ["a", "b"] {
            m.apply(Change::Node(fixtures::node(n)));
        }
        let ds = fixtures::daemonset("kube-system", "agent").at_generation(2);
        let ds = crate::model::DsInfo { desired: 2, current: 1, ready: 1, updated: 0, available: 1, ..ds };
        m.apply(Change::DaemonSet(ds.clone()));
        m.apply(Change::Pod(fixtures::pod(&ds, "a", "1").from_generation("1")));
        let ds = m.daemonset("kube-system", "agent").unwrap();
        let p = super::progress(&m, ds);
        assert_eq!((p.unavailable, p.max_unavailable), (1, 1), "{:?}", p.waiting_on);
        assert!(
            p.waiting_on[0].starts_with("maxUnavailable reached (1 unavailable, 1 allowed): 1 outdated pod(s) wait on b: no pod yet"),
            "{:?}",
            p.waiting_on
        );
        // Its pod arrives and becomes available: the budget is free again.
        m.apply(Change::Pod(fixtures::pod(ds, "b", "2")));
        let ds = m.daemonset("kube-system", "agent").unwrap();
        assert_eq!(unavailable_count(&m, ds, jiff::Timestamp::now()), 0);
    }

    #[test]
    fn only_unfinished_rollouts_are_under_way_and_finishing_is_recorded() {
        let m = stuck_cluster();
        let ds = m.daemonset("kube-system", "agent").unwrap().clone();
        assert!(under_way(&m, &ds), "1 of 2 updated");
        // Every desired node updated and observed: not under way, whatever pods linger.
        let done = crate::model::DsInfo { updated: 2, ..ds };
        assert!(!under_way(&m, &done), "pods on old revisions elsewhere do not make a rollout");
        let mut pace = Pace::default();
        let t0 = jiff::Timestamp::now();
        pace.observe_under_way(false, t0);
        assert_eq!(pace.finished_at, None, "never seen under way: nothing finished");
        pace.observe_under_way(true, t0);
        pace.observe_under_way(false, t0 + jiff::SignedDuration::from_secs(240));
        assert_eq!(pace.finished_at, Some(t0 + jiff::SignedDuration::from_secs(240)));
    }
}

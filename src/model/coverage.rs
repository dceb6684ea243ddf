//! Where coverage is decided: the state of one DaemonSet on one node, and the reason in
//! words. One engine for the TUI and for headless output.
//!
//! States (exactly one per DaemonSet × node):
//! `ready` (pod running, ready, current revision), `outdated` (ready, old revision),
//! `starting` (pending, creating or not yet ready, nothing failing), `failing` (a
//! container waiting with an error reason, crash-looping, or the pod Failed), `missing`
//! (node eligible, no pod), `misscheduled` (a pod on a node that is not eligible),
//! `terminating` (pod being deleted), `ineligible` (node not selected, with the rule).
//!
//! May import: `model::compact`, `k8s`.

use std::fmt;

use super::cause::Cause;
use super::compact::{DsInfo, NodeInfo, PodInfo, Strategy};
use crate::k8s::eligibility;

/// The severity of a cell that is fine ([`CellState::severity`]).
pub const FINE: u8 = 5;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[repr(u8)]
pub enum CellState {
    Ready = 0,
    Outdated,
    Starting,
    Failing,
    Missing,
    Misscheduled,
    Terminating,
    /// The node is down (NotReady, unreachable, or not yet Ready) and would otherwise run
    /// the daemon: the controller does not count it as desired (its not-ready or
    /// unreachable NoSchedule taint is not tolerated) and keeps any pod there.
    NodeNotReady,
    Ineligible,
    /// No node (gone, or not yet known): never counted.
    Absent,
}

impl CellState {
    pub const COUNT: usize = 10;
    pub const ALL: [CellState; 9] = [
        CellState::Ready,
        CellState::Outdated,
        CellState::Starting,
        CellState::Failing,
        CellState::Missing,
        CellState::Misscheduled,
        CellState::Terminating,
        CellState::NodeNotReady,
        CellState::Ineligible,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            CellState::Ready => "ready",
            CellState::Outdated => "outdated",
            CellState::Starting => "starting",
            CellState::Failing => "failing",
            CellState::Missing => "missing",
            CellState::Misscheduled => "misscheduled",
            CellState::Terminating => "terminating",
            CellState::NodeNotReady => "node-not-ready",
            CellState::Ineligible => "ineligible",
            CellState::Absent => "absent",
        }
    }

    /// A glyph per state, so states differ without colour (NO_COLOR).
    pub fn glyph(self) -> char {
        match self {
            CellState::Ready => '●',
            CellState::Outdated => '◐',
            CellState::Starting => '◌',
            CellState::Failing => '✖',
            CellState::Missing => '○',
            CellState::Misscheduled => '◆',
            CellState::Terminating => '◍',
            CellState::NodeNotReady => '⊘',
            CellState::Ineligible => '·',
            CellState::Absent => ' ',
        }
    }

    /// Nodes that should run the daemon.
    pub fn is_eligible(self) -> bool {
        matches!(
            self,
            CellState::Ready | CellState::Outdated | CellState::Starting | CellState::Failing | CellState::Missing | CellState::Terminating
        )
    }

    /// Not fine: what an operator must look at.
    pub fn is_problem(self) -> bool {
        !matches!(self, CellState::Ready | CellState::Ineligible | CellState::Absent)
    }

    /// How bad the cell is, for ranking nodes and DaemonSets (smaller is worse): what is
    /// broken before what is transient — failing > node down > missing > misscheduled >
    /// starting, terminating, outdated > fine.
    pub fn severity(self) -> u8 {
        match self {
            CellState::Failing => 0,
            CellState::NodeNotReady => 1,
            CellState::Missing => 2,
            CellState::Misscheduled => 3,
            CellState::Starting | CellState::Terminating | CellState::Outdated => 4,
            CellState::Ready | CellState::Ineligible | CellState::Absent => FINE,
        }
    }

    /// A problem of the node, not of the daemon.
    pub fn is_node_problem(self) -> bool {
        self == CellState::NodeNotReady
    }

    /// The daemon is broken or absent where it should run (not merely on an old revision,
    /// and not because its node is down).
    pub fn is_broken(self) -> bool {
        self.is_problem() && !matches!(self, CellState::Outdated | CellState::NodeNotReady)
    }
}

impl fmt::Display for CellState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A DaemonSet's health over every node: the worst problem of its daemon (a down node
/// only when that is its only gap), and a rank for sorting by problems. Views colour and
/// label it; nothing maps a glyph back to a state.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Health {
    Failing,
    Missing,
    Starting,
    Terminating,
    Misscheduled,
    /// The only gaps are nodes that are down: a node problem, not the daemon's.
    NodeDown,
    /// Pods on an old revision of an OnDelete DaemonSet: they change only when deleted.
    Outdated,
    /// Pods on an old revision of a RollingUpdate DaemonSet: the controller is replacing them.
    Updating,
    Ok,
}

impl Health {
    /// From a DaemonSet's per-state node counts (indexed by `CellState as usize`).
    pub fn of(counts: &[u32; CellState::COUNT], strategy: &Strategy) -> Health {
        let n = |s: CellState| counts[s as usize] > 0;
        // The label names the worst problem of the daemon itself; a down node only when
        // it is the only gap (a CNI half rolled out says outdated, not node down).
        if n(CellState::Failing) {
            Health::Failing
        } else if n(CellState::Missing) {
            Health::Missing
        } else if n(CellState::Starting) {
            Health::Starting
        } else if n(CellState::Terminating) {
            Health::Terminating
        } else if n(CellState::Misscheduled) {
            Health::Misscheduled
        } else if n(CellState::Outdated) && matches!(strategy, Strategy::OnDelete) {
            Health::Outdated
        } else if n(CellState::Outdated) {
            Health::Updating
        } else if n(CellState::NodeNotReady) {
            Health::NodeDown
        } else {
            Health::Ok
        }
    }

    /// Rank for "sort by problems", worst first, in the cells' severity: failing > node
    /// down > missing > misscheduled > starting, terminating > outdated (or updating) > ok.
    pub fn rank(self) -> u8 {
        match self {
            Health::Failing => 0,
            Health::NodeDown => 1,
            Health::Missing => 2,
            Health::Misscheduled => 3,
            Health::Starting | Health::Terminating => 4,
            Health::Outdated | Health::Updating => 5,
            Health::Ok => 6,
        }
    }

    /// The cell state whose colour and glyph the health takes (an update in progress
    /// has its own glyph).
    pub fn state(self) -> CellState {
        match self {
            Health::Failing => CellState::Failing,
            Health::Missing => CellState::Missing,
            Health::Misscheduled => CellState::Misscheduled,
            Health::Outdated | Health::Updating => CellState::Outdated,
            Health::Starting => CellState::Starting,
            Health::Terminating => CellState::Terminating,
            Health::NodeDown => CellState::NodeNotReady,
            Health::Ok => CellState::Ready,
        }
    }

    /// Glyph and word, as the DaemonSets list shows them.
    pub fn label(self) -> &'static str {
        match self {
            Health::Failing => "✖ failing",
            Health::Missing => "○ missing",
            Health::Misscheduled => "◆ missched",
            Health::Outdated => "◐ outdated",
            Health::Updating => "▲ updating",
            Health::Starting => "◌ starting",
            Health::Terminating => "◍ terminating",
            Health::NodeDown => "⊘ node down",
            Health::Ok => "✔ ok",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cell {
    pub state: CellState,
    pub reason: String,
    /// The pod the state is about, if any.
    pub pod: Option<String>,
    /// The placement rule that keeps the DaemonSet off this node (selector, affinity,
    /// taint), when one does: views show it without evaluating eligibility again.
    pub rule: Option<eligibility::Ineligible>,
    /// The controller counts the node as desired (`shouldRun`, §2 of the semantics):
    /// true also for a down node whose taints the DaemonSet tolerates.
    pub desired: bool,
    /// Why, as one word of a fixed set (for metrics labels and grouping).
    pub cause: Cause,
}

/// Container waiting reasons that mean failure, not progress (`kubelet/images/types.go`,
/// `kuberuntime_container.go`).
const FAILING_REASONS: &[&str] = &[
    "CrashLoopBackOff",
    "ErrImagePull",
    "ImagePullBackOff",
    "ErrImageNeverPull",
    "InvalidImageName",
    "CreateContainerConfigError",
    "CreateContainerError",
    "PostStartHookError",
    "RunContainerError",
    "Error",
    "OOMKilled",
    "ContainerCannotRun",
];

/// The controller's `util.IsPodUpdated`: the pod carries the current template generation,
/// or the current revision's hash. The hash is trusted once the controller has observed
/// the DaemonSet's generation (its revisions are then up to date).
pub fn is_updated(ds: &DsInfo, p: &PodInfo) -> bool {
    let by_generation = ds.template_generation.is_some() && p.template_generation.as_deref() == ds.template_generation.as_deref();
    let by_hash =
        ds.current_hash.is_some() && p.revision_hash.as_deref() == ds.current_hash.as_deref() && ds.observed_generation >= ds.generation;
    by_generation || by_hash
}

fn failing(p: &PodInfo) -> Option<(Cause, String)> {
    if p.phase == "Failed" {
        return Some((Cause::PodFailed, "pod Failed".into()));
    }
    for c in &p.containers {
        if let Some((reason, msg)) = c.waiting.as_deref()
            && FAILING_REASONS.contains(&reason.as_str())
        {
            let detail = match reason.as_str() {
                "CrashLoopBackOff" | "Error" | "OOMKilled" => format!("{reason}: container {}, {} restarts", c.name, c.restarts),
                r if r.contains("Image") => format!("{reason}: {}", c.image),
                _ if !msg.is_empty() => format!("{reason}: {msg}"),
                _ => format!("{reason}: container {}", c.name),
            };
            return Some((Cause::of_waiting(reason), detail));
        }
        // Between two crashes a crash-looping container runs, not ready, for a moment.
        if !c.ready && c.restarts > 0 && c.last_exit.as_deref().is_some_and(|r| r != "Completed") {
            return Some((
                Cause::Crashloop,
                format!("crash-looping: container {}, {} restarts, last exit {}", c.name, c.restarts, c.last_exit.as_deref().unwrap_or("")),
            ));
        }
    }
    None
}

fn starting_reason(p: &PodInfo) -> String {
    if let Some(msg) = &p.unschedulable {
        return format!("Pending, unschedulable: {msg}");
    }
    if !p.bound {
        return "Pending: not yet bound to the node".into();
    }
    if let Some((reason, _)) = p.containers.iter().find_map(|c| c.waiting.as_deref()) {
        return reason.clone();
    }
    if p.containers.iter().all(|c| c.running) {
        return "Running, not ready (readiness failing)".into();
    }
    p.phase.to_string()
}

fn short(hash: Option<&str>) -> String {
    hash.map(|h| h.chars().take(10).collect()).unwrap_or_else(|| "?".into())
}

/// The state of `ds` on `node`, given its pods there (oldest first).
pub fn cell(ds: &DsInfo, node: &NodeInfo, pods: &[&PodInfo]) -> Cell {
    let e = eligibility::evaluate(&node.facts, &ds.placement);
    let live: Vec<&PodInfo> = pods.iter().copied().filter(|p| p.deleting.is_none()).collect();
    // A node that is down: if it would run the daemon were it up (its lifecycle taints
    // aside), that is the node's problem, whatever the pod there reports (the node
    // controller, not a probe, marks the pod not ready).
    if let Some(down) = node.down_reason(crate::k8s::clock::now())
        && eligibility::evaluate(&node.facts.without_lifecycle_taints(), &ds.placement).should_run
    {
        let pod = live.first().or(pods.first()).copied();
        let kept = pod.map(|p| format!("; its pod {} is kept ({})", p.name, p.phase)).unwrap_or_default();
        return Cell {
            state: CellState::NodeNotReady,
            reason: format!("{down}{kept}"),
            pod: pod.map(|p| p.name.to_string()),
            rule: e.reason,
            desired: e.should_run,
            cause: Cause::NodeDown,
        };
    }
    // A down node that would not run the daemon anyway: its state says why not, and the
    // reason that the node is down too.
    let down = match node.ready {
        Some(false) => "; node NotReady",
        None => "; node has no Ready condition",
        Some(true) => "",
    };
    let mk = |state, cause, reason: String, pod: Option<&PodInfo>| Cell {
        state,
        reason: format!("{reason}{down}"),
        pod: pod.map(|p| p.name.to_string()),
        rule: e.reason.clone(),
        desired: e.should_run,
        cause,
    };
    if !e.should_run {
        let why = e.reason.as_ref().map(|r| r.to_string()).unwrap_or_default();
        let rule = Cause::of_rule(e.reason.as_ref());
        return match (live.first(), pods.first()) {
            (Some(p), _) => mk(CellState::Misscheduled, rule, format!("pod on a node it should not run on: {why}"), Some(p)),
            // The controller still counts a terminating pod as scheduled there: misscheduled,
            // not part of the desired nodes.
            (None, Some(p)) => mk(CellState::Misscheduled, rule, format!("pod terminating on a node it should not run on: {why}"), Some(p)),
            (None, None) => mk(CellState::Ineligible, rule, why, None),
        };
    }
    if live.is_empty() {
        return match pods.first() {
            Some(p) => {
                mk(CellState::Terminating, Cause::Terminating, "pod being deleted; a replacement comes once it is gone".into(), Some(p))
            }
            None => mk(CellState::Missing, Cause::NoPod, "eligible, but no pod".into(), None),
        };
    }
    // With surge a node briefly has an old and a new pod: the new one tells where it is going.
    let pod = live.iter().rev().find(|p| is_updated(ds, p)).or(live.first()).copied().expect("non-empty");
    let updated = is_updated(ds, pod);
    if let Some((cause, why)) = failing(pod) {
        let rev = if updated { String::new() } else { format!(" (old revision {})", short(pod.template_generation.as_deref())) };
        return mk(CellState::Failing, cause, format!("{why}{rev}"), Some(pod));
    }
    if !pod.ready {
        return mk(CellState::Starting, Cause::of_starting(pod), starting_reason(pod), Some(pod));
    }
    if updated {
        mk(CellState::Ready, Cause::None, format!("ready, {} restarts", pod.restarts()), Some(pod))
    } else {
        mk(
            CellState::Outdated,
            Cause::Outdated,
            format!(
                "pod on old revision (template generation {} of {})",
                short(pod.template_generation.as_deref()),
                short(ds.template_generation.as_deref())
            ),
            Some(pod),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::fixtures;

    fn ds() -> DsInfo {
        fixtures::daemonset("kube-system", "agent").with_node_selector("pool", "general").at_generation(2)
    }

    fn node(pool: Option<&str>, taints: &[(&str, &str, &str)], ready: Option<bool>) -> NodeInfo {
        let mut n = fixtures::node("n1").with_ready(ready);
        if let Some(p) = pool {
            n = n.with_label("pool", p);
        }
        taints.iter().fold(n, |n, (k, v, e)| n.with_taint(k, v, e))
    }

    /// The agent's pod on n1 (7 restarts), from template `generation`, ready or not, or
    /// with its container waiting for `waiting`.
    fn pod(generation: &str, ready: bool, waiting: Option<&str>) -> PodInfo {
        let p = fixtures::pod(&ds(), "n1", "abcde").from_generation(generation);
        let mut p = match (ready, waiting) {
            (_, Some(w)) => p.waiting(w, 7),
            (false, None) => p.not_ready(),
            (true, None) => p,
        };
        p.containers[0].restarts = 7;
        p.containers[0].image = "registry.example/agent:v2".into();
        p
    }

    #[test]
    fn every_state_with_its_reason() {
        let d = ds();
        let general = node(Some("general"), &[], Some(true));
        let c = |n: &NodeInfo, pods: &[&PodInfo]| cell(&d, n, pods);
        assert_eq!(c(&general, &[&pod("2", true, None)]).state, CellState::Ready);
        let outdated = c(&general, &[&pod("1", true, None)]);
        assert_eq!(outdated.state, CellState::Outdated);
        assert!(outdated.reason.contains("old revision"), "{}", outdated.reason);
        assert_eq!(c(&general, &[&pod("2", false, Some("ContainerCreating"))]).state, CellState::Starting);
        let crash = c(&general, &[&pod("2", false, Some("CrashLoopBackOff"))]);
        assert_eq!((crash.state, crash.reason.as_str()), (CellState::Failing, "CrashLoopBackOff: container agent, 7 restarts"));
        let pull = c(&general, &[&pod("2", false, Some("ImagePullBackOff"))]);
        assert_eq!(pull.reason, "ImagePullBackOff: registry.example/agent:v2");
        let missing = c(&general, &[]);
        assert_eq!((missing.state, missing.reason.as_str()), (CellState::Missing, "eligible, but no pod"));
        let mut gone = pod("2", true, None);
        gone.deleting = Some(jiff::Timestamp::now()).into();
        assert_eq!(c(&general, &[&gone]).state, CellState::Terminating);
        let other_pool = node(Some("gpu"), &[], Some(true));
        let inel = c(&other_pool, &[]);
        assert_eq!((inel.state, inel.reason.as_str()), (CellState::Ineligible, "nodeSelector pool=general: node has pool=gpu"));
        assert_eq!(
            inel.rule,
            Some(eligibility::Ineligible::NodeSelector { key: "pool".into(), want: "general".into(), have: Some("gpu".into()) }),
            "the cell names the rule, so views need not evaluate it again"
        );
        assert_eq!(missing.rule, None);
        let mis = c(&other_pool, &[&pod("2", true, None)]);
        assert_eq!(mis.state, CellState::Misscheduled);
        let tainted = node(Some("general"), &[("dedicated", "gpu", "NoSchedule")], Some(true));
        assert_eq!(c(&tainted, &[]).reason, "taint dedicated=gpu:NoSchedule not tolerated");
        // A NotReady node: the node's problem, named with its condition, whatever the pod
        // (marked not ready by the node controller) says; the pod is kept.
        let down = node(Some("general"), &[("node.kubernetes.io/not-ready", "", "NoSchedule")], Some(false));
        let on_down = c(&down, &[&pod("2", false, None)]);
        assert_eq!(on_down.state, CellState::NodeNotReady);
        assert_eq!(
            on_down.reason,
            "node NotReady: KubeletNotReady: container runtime network not ready; its pod agent-abcde is kept (Running)"
        );
        assert_eq!(c(&down, &[]).state, CellState::NodeNotReady, "no pod either: still the node's problem, not a missing daemon");
        // Unreachable (Ready=Unknown), for a while.
        let gone_dark = fixtures::node("n1").with_label("pool", "general").unreachable(150);
        let dark = c(&gone_dark, &[&pod("2", true, None)]);
        assert_eq!(
            (dark.state, dark.reason.as_str()),
            (CellState::NodeNotReady, "node unreachable for 2m30s: kubelet stopped posting status; its pod agent-abcde is kept (Running)")
        );
        // A down node the DaemonSet would not run on anyway: ineligible, as before.
        let down_gpu = node(Some("gpu"), &[], Some(false));
        assert_eq!(c(&down_gpu, &[]).state, CellState::Ineligible);
        assert!(c(&down_gpu, &[]).reason.ends_with("; node NotReady"));
        // A pod terminating on a node it should not run on: misscheduled, as the
        // controller counts it (not one of the desired nodes).
        let leaving = c(&other_pool, &[&pod("2", true, None).deleting()]);
        assert_eq!(
            (leaving.state, leaving.reason.as_str()),
            (CellState::Misscheduled, "pod terminating on a node it should not run on: nodeSelector pool=general: node has pool=gpu")
        );
        assert!(
            !CellState::NodeNotReady.is_eligible() && !CellState::Misscheduled.is_eligible(),
            "the denominator is the controller's desired set"
        );
        let mut failed = pod("2", false, None);
        failed.phase = "Failed".into();
        assert_eq!(c(&general, &[&failed]).state, CellState::Failing);
        // Running again between two crashes is still crash-looping.
        let mut between = pod("2", false, None);
        between.containers[0].last_exit = Some("Error".into());
        let b = c(&general, &[&between]);
        assert_eq!((b.state, b.reason.as_str()), (CellState::Failing, "crash-looping: container agent, 7 restarts, last exit Error"));
    }

    #[test]
    fn every_problem_has_a_cause_from_typed_values() {
        let d = ds();
        let general = node(Some("general"), &[], Some(true));
        let cause = |n: &NodeInfo, pods: &[&PodInfo]| cell(&d, n, pods).cause;
        assert_eq!(cause(&general, &[&pod("2", true, None)]), Cause::None);
        assert_eq!(cause(&general, &[&pod("1", true, None)]), Cause::Outdated);
        assert_eq!(cause(&general, &[&pod("2", false, Some("CrashLoopBackOff"))]), Cause::Crashloop);
        assert_eq!(cause(&general, &[&pod("2", false, Some("ImagePullBackOff"))]), Cause::Image);
        assert_eq!(cause(&general, &[&pod("2", false, Some("CreateContainerConfigError"))]), Cause::ContainerError);
        assert_eq!(cause(&general, &[&pod("2", false, Some("ContainerCreating"))]), Cause::Pending);
        assert_eq!(cause(&general, &[&pod("2", false, None)]), Cause::Unready);
        let mut between = pod("2", false, None);
        between.containers[0].last_exit = Some("Error".into());
        assert_eq!(cause(&general, &[&between]), Cause::Crashloop);
        let mut unsched = pod("2", false, None);
        unsched.bound = false;
        unsched.unschedulable = Some(Box::new("0/1 nodes are available: 1 Insufficient cpu.".into()));
        assert_eq!(cause(&general, &[&unsched]), Cause::Resources);
        unsched.unschedulable =
            Some(Box::new("0/1 nodes are available: 1 node(s) didn't have free ports for the requested pod ports.".into()));
        assert_eq!(cause(&general, &[&unsched]), Cause::HostPort);
        assert_eq!(cause(&general, &[]), Cause::NoPod);
        assert_eq!(cause(&general, &[&pod("2", true, None).deleting()]), Cause::Terminating);
        let other_pool = node(Some("gpu"), &[], Some(true));
        assert_eq!(cause(&other_pool, &[&pod("2", true, None)]), Cause::Selector, "misscheduled: the rule");
        let tainted = node(Some("general"), &[("dedicated", "gpu", "NoSchedule")], Some(true));
        assert_eq!(cause(&tainted, &[]), Cause::Taint);
        let down = node(Some("general"), &[("node.kubernetes.io/not-ready", "", "NoSchedule")], Some(false));
        assert_eq!(cause(&down, &[&pod("2", false, None)]), Cause::NodeDown);
    }

    #[test]
    fn glyphs_differ_without_colour() {
        let mut g: Vec<char> = CellState::ALL.iter().map(|s| s.glyph()).collect();
        g.sort();
        g.dedup();
        assert_eq!(g.len(), CellState::ALL.len());
    }

    #[test]
    fn health_is_the_worst_problem() {
        let mut counts = [0u32; CellState::COUNT];
        let rolling = Strategy::RollingUpdate {
            max_unavailable: k8s_openapi::apimachinery::pkg::util::intstr::IntOrString::Int(1),
            max_surge: k8s_openapi::apimachinery::pkg::util::intstr::IntOrString::Int(0),
        };
        counts[CellState::Ready as usize] = 10;
        assert_eq!(Health::of(&counts, &rolling), Health::Ok);
        counts[CellState::Outdated as usize] = 3;
        assert_eq!(Health::of(&counts, &rolling), Health::Updating);
        assert_eq!(Health::of(&counts, &Strategy::OnDelete), Health::Outdated);
        counts[CellState::Missing as usize] = 1;
        assert_eq!(Health::of(&counts, &rolling), Health::Missing);
        counts[CellState::Failing as usize] = 1;
        assert_eq!(Health::of(&counts, &rolling), Health::Failing);
        assert_eq!((Health::Failing.state(), Health::Failing.label()), (CellState::Failing, "✖ failing"));
        assert!(Health::Failing.rank() < Health::Updating.rank(), "failing sorts before an update in progress");
        // A down node is the label only when it is the only gap; it ranks above outdated.
        let mut down = [0u32; CellState::COUNT];
        down[CellState::Ready as usize] = 9;
        down[CellState::NodeNotReady as usize] = 1;
        assert_eq!(Health::of(&down, &rolling), Health::NodeDown);
        down[CellState::Outdated as usize] = 3;
        assert_eq!(Health::of(&down, &Strategy::OnDelete), Health::Outdated, "a half-rolled CNI says outdated");
        assert!(Health::NodeDown.rank() < Health::Outdated.rank());
        // Broken before transient: a down node ranks above a missing or starting daemon.
        assert!(Health::NodeDown.rank() < Health::Missing.rank() && Health::Missing.rank() < Health::Starting.rank());
    }
}

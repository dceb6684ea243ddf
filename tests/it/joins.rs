//! Joining nodes in the model: staged joins stepped by hand, each timeline against
//! hand-computed expectations; the three problems each detected, and each absent on a
//! healthy join; a flapping node keeps its first Ready; the workload index holds only
//! the pods of nodes in the window.

use daemonscope::model::fixtures::{daemonset, node, pod};
use daemonscope::model::joins::{self, JoinSettings, Problem, ReadyKnown, WorkloadInfo};
use daemonscope::model::{Change, DsInfo, Model, NodeInfo, PodInfo};
use jiff::{SignedDuration, Timestamp};

pub(crate) const AGENT: &str = "node.cilium.io/agent-not-ready";
const NOT_READY: &str = "node.kubernetes.io/not-ready";

pub(crate) fn t0() -> Timestamp {
    "2026-03-01T12:00:00Z".parse().unwrap()
}

pub(crate) fn at(s: i64) -> Timestamp {
    t0() + SignedDuration::from_secs(s)
}

/// The CNI (system-node-critical, tolerating every taint) and a log agent.
pub(crate) fn daemons() -> (DsInfo, DsInfo) {
    let mut cni = daemonset("kube-system", "cni").tolerating_everything();
    cni.priority_class = Some("system-node-critical".into());
    (cni, daemonset("logging", "logs"))
}

/// Node `name` created at `t0`, Ready since `ready` (None: NotReady), with these taints.
pub(crate) fn joining(name: &str, ready: Option<i64>, taints: &[&str]) -> NodeInfo {
    let mut n = node(name).with_ready(Some(ready.is_some())).with_label("topology.kubernetes.io/zone", "eu-west-1a");
    n.created = Some(t0());
    for c in n.conditions.iter_mut().filter(|c| c.type_ == "Ready") {
        c.last_transition = Some(ready.map(at).unwrap_or(t0()));
    }
    for t in taints {
        n = n.with_taint(t, "", "NoSchedule");
    }
    n
}

/// `ds`'s pod on `node`: scheduled, started and (when `ready`) Ready at those seconds.
pub(crate) fn daemon_pod(ds: &DsInfo, node: &str, scheduled: i64, started: Option<i64>, ready: Option<i64>) -> PodInfo {
    let mut p = pod(ds, node, &format!("{}-{node}", ds.name));
    p.created = Some(at(scheduled)).into();
    p.scheduled = Some(at(scheduled)).into();
    p.started = started.map(at).into();
    p = if ready.is_some() { p } else { p.waiting("ContainerCreating", 0) };
    p.ready_changed = Some(at(ready.unwrap_or(scheduled))).into();
    p
}

pub(crate) fn workload(name: &str, node: &str, started: i64) -> WorkloadInfo {
    WorkloadInfo {
        uid: format!("uid-{name}"),
        namespace: "shop".into(),
        name: name.into(),
        node: Some(node.into()),
        owner_kind: "ReplicaSet".into(),
        owner_name: "web-7d9f".into(),
        started: Some(at(started)),
        priority: 0,
    }
}

/// A healthy join, step by step: created at 0 with the agent and not-ready taints, the CNI
/// scheduled at 2, started 22 (a 20 s pull), Ready 23; the node Ready at 10; the agent's
/// taint seen gone at 25; the log agent Ready at 29; the workload started at 30.
pub(crate) fn healthy() -> Model {
    let (cni, logs) = daemons();
    let mut m = Model::new();
    m.apply_at(Change::DaemonSet(cni.clone()), at(0));
    m.apply_at(Change::DaemonSet(logs.clone()), at(0));
    m.apply_at(Change::Node(joining("n1", None, &[AGENT, NOT_READY])), at(1));
    m.apply_at(Change::Pod(daemon_pod(&cni, "n1", 2, None, None)), at(2));
    m.apply_at(Change::Node(joining("n1", Some(10), &[AGENT])), at(11));
    m.apply_at(Change::Pod(daemon_pod(&cni, "n1", 2, Some(22), Some(23))), at(23));
    m.apply_at(Change::Node(joining("n1", Some(10), &[])), at(25));
    m.apply_at(Change::Pod(daemon_pod(&logs, "n1", 26, Some(28), Some(29))), at(29));
    m.apply_at(Change::Workload(workload("web-1", "n1", 30)), at(30));
    m
}

#[test]
fn a_staged_join_reads_as_computed_by_hand() {
    let m = healthy();
    let r = joins::report(&m, &JoinSettings::default(), at(60));
    assert_eq!(r.len(), 1);
    let j = &r[0];
    assert_eq!(j.ready, Some((at(10), ReadyKnown::Watched)));
    assert_eq!(j.to_ready(), Some(SignedDuration::from_secs(10)));
    let d: Vec<_> = j.daemons.iter().map(|d| (d.name.as_str(), d.critical, d.scheduled, d.started, d.ready)).collect();
    assert_eq!(d, [("cni", true, Some(at(2)), Some(at(22)), Some(at(23))), ("logs", false, Some(at(26)), Some(at(28)), Some(at(29)))]);
    assert_eq!(j.critical_ready, Some(at(23)));
    assert_eq!(j.taints.iter().map(|t| (t.key.as_str(), t.gone)).collect::<Vec<_>>(), [(AGENT, Some(at(25)))]);
    assert_eq!(j.usable, Some(at(25)), "usable when the critical DaemonSet is Ready and its taint gone");
    assert_eq!(j.to_usable(), Some(SignedDuration::from_secs(25)));
    assert_eq!(j.slowest().map(|d| d.name.as_str()), Some("logs"));
    assert!(j.problems.is_empty() && !j.overdue, "{:?}", j.problems);
    assert_eq!(j.zone, "eu-west-1a");
    let s = joins::stats(&r);
    assert_eq!(
        s.iter().map(|s| (s.name.as_str(), s.p50, s.p95)).collect::<Vec<_>>(),
        [
            ("cni", Some(SignedDuration::from_secs(23)), Some(SignedDuration::from_secs(23))),
            ("logs", Some(SignedDuration::from_secs(29)), Some(SignedDuration::from_secs(29)))
        ]
    );
}

#[test]
fn a_critical_daemonset_not_ready_in_time_is_a_problem_with_its_reason() {
    let (cni, logs) = daemons();
    let mut m = Model::new();
    m.apply_at(Change::DaemonSet(cni.clone()), at(0));
    m.apply_at(Change::DaemonSet(logs), at(0));
    m.apply_at(Change::Node(joining("n1", Some(10), &[AGENT])), at(11));
    m.apply_at(Change::Pod(daemon_pod(&cni, "n1", 2, None, None)), at(12));
    let settings = JoinSettings::default();
    assert!(joins::report(&m, &settings, at(9 * 60))[0].problems.is_empty(), "within the 10 minutes");
    let j = &joins::report(&m, &settings, at(11 * 60))[0];
    assert!(j.overdue && j.usable.is_none());
    match &j.problems[..] {
        [Problem::CriticalNotReady { daemonset, after, reason }] => {
            assert_eq!((daemonset.as_str(), after.as_secs()), ("kube-system/cni", 660));
            assert!(reason.contains("ContainerCreating"), "the cell's reason: {reason}");
        }
        p => panic!("{p:?}"),
    }
    assert!(
        j.problems[0].describe().starts_with("critical kube-system/cni not Ready 11m after the node was created: "),
        "{}",
        j.problems[0].describe()
    );
    // Healthy: no such problem however late.
    assert!(joins::report(&healthy(), &settings, at(5 * 3600))[0].problems.is_empty());
}

#[test]
fn a_startup_taint_that_outlives_its_daemonset_is_a_problem() {
    let (cni, _) = daemons();
    let mut m = Model::new();
    m.apply_at(Change::DaemonSet(cni.clone()), at(0));
    m.apply_at(Change::Node(joining("n1", None, &[AGENT, NOT_READY])), at(1));
    m.apply_at(Change::Node(joining("n1", Some(10), &[AGENT])), at(11));
    m.apply_at(Change::Pod(daemon_pod(&cni, "n1", 2, Some(22), Some(23))), at(23));
    let settings = JoinSettings::default();
    assert!(joins::report(&m, &settings, at(23 + 100))[0].problems.is_empty(), "within the 2 minutes' grace");
    let j = &joins::report(&m, &settings, at(23 + 300))[0];
    assert_eq!(j.problems, [Problem::TaintOutlived { taint: format!("{AGENT}:NoSchedule"), after: SignedDuration::from_secs(300) }]);
    assert!(j.usable.is_none() && j.critical_ready == Some(at(23)));
    assert!(joins::report(&healthy(), &settings, at(23 + 300))[0].problems.is_empty());
}

#[test]
fn workload_pods_that_started_before_the_critical_daemonsets_are_named() {
    let mut m = healthy();
    m.apply_at(Change::Workload(workload("web-0", "n1", 15)), at(15));
    let j = &joins::report(&m, &JoinSettings::default(), at(60))[0];
    match &j.problems[..] {
        [Problem::WorkloadsBeforeCritical { pods }] => {
            assert_eq!(pods.len(), 1, "web-1 started after: not named");
            assert_eq!((pods[0].name.as_str(), pods[0].owner.as_str()), ("web-0", "ReplicaSet/web-7d9f"));
            assert_eq!(pods[0].early_by, Some(SignedDuration::from_secs(8)));
        }
        p => panic!("{p:?}"),
    }
    assert_eq!(
        j.problems[0].describe(),
        "1 workload pod(s) started 8s before the critical DaemonSets were Ready: shop/web-0 (ReplicaSet/web-7d9f)"
    );
    // Gone: the problem goes too.
    m.apply_at(Change::WorkloadGone { uid: "uid-web-0".into(), node: Some("n1".into()) }, at(61));
    assert!(joins::report(&m, &JoinSettings::default(), at(62))[0].problems.is_empty());
}

#[test]
fn a_flapping_node_keeps_its_first_ready() {
    let mut m = healthy();
    m.apply_at(Change::Node(joining("n1", None, &[])), at(40));
    m.apply_at(Change::Node(joining("n1", Some(50), &[])), at(50));
    assert_eq!(joins::report(&m, &JoinSettings::default(), at(60))[0].ready, Some((at(10), ReadyKnown::Watched)));
    // Already Ready when first seen: its condition's lastTransitionTime, said to be that.
    let mut m = Model::new();
    m.apply_at(Change::Node(joining("n2", Some(50), &[])), at(60));
    assert_eq!(joins::report(&m, &JoinSettings::default(), at(60))[0].ready, Some((at(50), ReadyKnown::Condition)));
}

/// 1,000 joining nodes among 5,000, 20 workload pods on each node: only the 20,000 pods
/// of the joining nodes are kept, in under 80 bytes each (names kept whole here); once
/// the joins leave the window, nothing is.
#[test]
fn the_workload_index_is_bounded_by_the_joining_nodes() {
    let mut m = Model::new();
    let now = at(0);
    for i in 0..5000 {
        let mut n = node(&format!("node-{i:04}"));
        n.created = Some(if i < 1000 { at(-600) } else { at(-30 * 86400) });
        m.apply_at(Change::Node(n), now);
    }
    m.apply_at(Change::ResyncDone(daemonscope::model::Resource::Nodes), now);
    for i in 0..5000 {
        for k in 0..20 {
            m.apply_at(Change::Workload(workload(&format!("web-{i}-{k}"), &format!("node-{i:04}"), -300)), now);
        }
    }
    let t = m.joins();
    assert_eq!(t.nodes().count(), 1000);
    assert_eq!(t.workload_count(), 20_000);
    let per = t.workload_bytes() / t.workload_count();
    assert!(per <= 80, "{per} bytes a workload pod");
    // Seven hours on, a node event prunes every join that left the window.
    let mut late = node("node-new");
    late.created = Some(at(7 * 3600));
    m.apply_at(Change::Node(late), at(7 * 3600));
    assert_eq!((m.joins().nodes().count(), m.joins().workload_count()), (1, 0));
}

/// Three staged joins for the view: n1 healthy (usable at 25 s), n2 whose agent taint
/// nobody removed, n3 whose CNI never became Ready and where a workload started.
fn three_joins() -> Model {
    let (cni, logs) = daemons();
    let mut m = healthy();
    m.apply_at(Change::Node(joining("n2", None, &[AGENT, NOT_READY])), at(1));
    m.apply_at(Change::Node(joining("n2", Some(12), &[AGENT])), at(13));
    m.apply_at(Change::Pod(daemon_pod(&cni, "n2", 2, Some(30), Some(31))), at(31));
    m.apply_at(Change::Node(joining("n3", None, &[NOT_READY])), at(1));
    m.apply_at(Change::Node(joining("n3", Some(8), &[])), at(9));
    m.apply_at(Change::Pod(daemon_pod(&cni, "n3", 3, None, None)), at(9));
    m.apply_at(Change::Pod(daemon_pod(&logs, "n3", 10, Some(12), Some(14))), at(14));
    m.apply_at(Change::Workload(workload("web-9", "n3", 11)), at(11));
    m
}

fn view_screen(open: Option<&str>, w: u16, h: u16) -> String {
    use daemonscope::ui::Shared;
    let mut s = Shared::new("test".into(), daemonscope::ui::Theme::new(false));
    s.live.model = three_joins();
    let mut v = daemonscope::ui::JoinsView::default();
    v.open = open.map(String::from);
    let mut t = ratatui::Terminal::new(ratatui::backend::TestBackend::new(w, h)).unwrap();
    t.draw(|f| v.render_at(f, f.area(), &s, at(15 * 60))).unwrap();
    crate::common::screen_text(t.backend().buffer())
}

/// The Joins view, 15 minutes on: worst first (n3 overdue, then n2, then n1), each row's
/// times as computed by hand, the per-DaemonSet p50/p95 below; Enter's timeline of n1
/// and of the overdue n3.
#[test]
fn the_joins_view_and_a_timeline_at_two_sizes() {
    for (w, h) in [(80, 24), (120, 35)] {
        let list = view_screen(None, w, h);
        let order: Vec<usize> = ["n3 ", "n2 ", "n1 "].iter().map(|n| list.find(&format!("│{n}")).unwrap_or(usize::MAX)).collect();
        assert!(order[0] < order[1] && order[1] < order[2], "worst first:\n{list}");
        insta::assert_snapshot!(format!("joins_list_{w}x{h}"), list);
        insta::assert_snapshot!(format!("joins_timeline_n1_{w}x{h}"), view_screen(Some("n1"), w, h));
        insta::assert_snapshot!(format!("joins_timeline_n3_{w}x{h}"), view_screen(Some("n3"), w, h));
    }
}

/// A workload pod is kept in 56 bytes: its owner (namespace, kind, name, priority) shared
/// with its siblings, a generated name as its 5-character suffix, its start in seconds;
/// what the report names is the pod as it came.
#[test]
fn workload_pods_are_kept_compact_and_named_back_whole() {
    assert!(std::mem::size_of::<joins::track::Workload>() <= 56, "{}", std::mem::size_of::<joins::track::Workload>());
    let mut m = healthy();
    let mut generated = workload("web-7d9f-x2b4q", "n1", 14);
    generated.priority = 1000;
    let mut bare = workload("debug", "n1", 15);
    (bare.owner_kind, bare.owner_name) = (String::new(), String::new());
    for w in [generated, bare, workload("web-0", "n1", 16)] {
        m.apply_at(Change::Workload(w), at(20));
    }
    let j = &joins::report(&m, &JoinSettings::default(), at(60))[0];
    let Some(Problem::WorkloadsBeforeCritical { pods }) = j.problems.first() else { panic!("{:?}", j.problems) };
    let got: Vec<(&str, &str, &str, i32, Timestamp)> =
        pods.iter().map(|p| (p.namespace.as_str(), p.name.as_str(), p.owner.as_str(), p.priority, p.started)).collect();
    assert_eq!(
        got,
        [
            ("shop", "web-7d9f-x2b4q", "ReplicaSet/web-7d9f", 1000, at(14)),
            ("shop", "debug", "Pod", 0, at(15)),
            ("shop", "web-0", "ReplicaSet/web-7d9f", 0, at(16)),
        ]
    );
}

/// A workload pod seen again (an update, a relist) is kept once; one deleted goes whether
/// its node is known to the deletion or not; a relist drops those not listed again.
#[test]
fn a_workload_pod_changed_deleted_or_relisted_is_kept_once() {
    use daemonscope::model::Resource;
    let mut m = healthy();
    for _ in 0..3 {
        m.apply_at(Change::Workload(workload("web-0", "n1", 15)), at(20));
    }
    m.apply_at(Change::Workload(workload("web-1", "n1", 15)), at(20));
    assert_eq!(m.joins().workload_count(), 2);
    m.apply_at(Change::WorkloadGone { uid: "uid-web-1".into(), node: None }, at(21));
    assert_eq!(m.joins().workloads_on("n1").len(), 1);
    m.apply_at(Change::Workload(workload("web-2", "n1", 15)), at(22));
    m.apply_at(Change::ResyncStart(Resource::Workloads), at(23));
    m.apply_at(Change::Workload(workload("web-2", "n1", 15)), at(23));
    m.apply_at(Change::ResyncDone(Resource::Workloads), at(23));
    let left: Vec<String> = m.joins().workloads_on("n1").iter().map(|w| w.name()).collect();
    assert_eq!(left, ["web-2"], "web-0 was not listed again");
}

/// The Joins view keeps its report between draws and makes it again once anything
/// changes: a change applied after a kept draw shows on the next one.
#[test]
fn the_joins_view_keeps_its_report_until_the_model_changes() {
    let mut s = daemonscope::ui::Shared::new("test".into(), daemonscope::ui::Theme::new(false));
    s.live.model = three_joins();
    let mut v = daemonscope::ui::JoinsView::default();
    let kept = v.rows(&s, at(15 * 60));
    assert!(std::sync::Arc::ptr_eq(&kept, &v.rows(&s, at(15 * 60 + 5))), "nothing changed: the same report");
    let mut t = ratatui::Terminal::new(ratatui::backend::TestBackend::new(120, 35)).unwrap();
    t.draw(|f| v.render_at(f, f.area(), &s, at(15 * 60))).unwrap();
    assert!(!crate::common::screen_text(t.backend().buffer()).contains("│n4 "));
    let mut n4 = joining("n4", Some(600), &[]);
    n4.created = Some(at(590));
    // Straight into the model (every way of changing it moves its generation on).
    s.live.model.apply_at(Change::Node(n4), at(591));
    t.draw(|f| v.render_at(f, f.area(), &s, at(15 * 60 + 1))).unwrap();
    let screen = crate::common::screen_text(t.backend().buffer());
    assert!(screen.contains("│n4 "), "the node that joined after the kept draw:\n{screen}");
    assert!(!std::sync::Arc::ptr_eq(&kept, &v.rows(&s, at(15 * 60 + 1))));
}

/// Kept within a minute, a report is still made again when a join crosses a threshold:
/// a node not usable 10 minutes after its creation is overdue from that second.
#[test]
fn a_join_turns_overdue_on_the_second_not_the_next_minute() {
    let mut s = daemonscope::ui::Shared::new("test".into(), daemonscope::ui::Theme::new(false));
    let mut m = Model::new();
    let mut n = joining("late", Some(40), &[AGENT]);
    n.created = Some(at(30));
    m.apply_at(Change::Node(n), at(31));
    s.live.model = m;
    let v = daemonscope::ui::JoinsView::default();
    // 10:20 and 10:40 after t0 are in the same minute; the node is overdue from 10:30.
    assert!(!v.rows(&s, at(620)).rows[0].overdue);
    assert!(v.rows(&s, at(640)).rows[0].overdue, "overdue at 10:30, not at the next minute");
}

fn detail_screen(node: &str, w: u16, h: u16) -> String {
    use daemonscope::cluster::jobs::{Kind, ObjectRef};
    let mut s = daemonscope::ui::Shared::new("test".into(), daemonscope::ui::Theme::new(false));
    s.live.model = three_joins();
    let object = Some((ObjectRef { kind: Kind::Node, namespace: None, name: node.into() }, None));
    let mut d = daemonscope::ui::DetailView { object, ..Default::default() };
    let mut t = ratatui::Terminal::new(ratatui::backend::TestBackend::new(w, h)).unwrap();
    t.draw(|f| d.render_at(f, f.area(), &s, at(15 * 60))).unwrap();
    crate::common::screen_text(t.backend().buffer())
}

/// A node's detail shows its join trace, as the Joins view's Enter does, while the node
/// is in the look-back window; not once it has left it.
#[test]
fn the_node_detail_shows_the_join_timeline_within_the_window() {
    for (w, h) in [(80, 24), (120, 35)] {
        let screen = detail_screen("n3", w, h);
        assert!(screen.contains("join: n3 · created 15m ago · Ready 8s · usable OVERDUE"), "{screen}");
        assert!(screen.contains("* kube-system/cni"), "{screen}");
        insta::assert_snapshot!(format!("node_detail_join_n3_{w}x{h}"), screen);
    }
    let mut s = daemonscope::ui::Shared::new("test".into(), daemonscope::ui::Theme::new(false));
    s.live.model = three_joins();
    assert!(joins::join(&s.live.model, &s.joins, "n1", at(7 * 3600)).is_none(), "seven hours on: out of the window");
}

//! Views rendered with ratatui's TestBackend from a settled simulator: snapshots of the
//! screens an operator sees, at the demo's 50 nodes and at 5,000.

use crate::common;

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use daemonscope::cluster::jobs::{Effect, EventLine, JobResult, Kind};
use daemonscope::cluster::watch::Update;
use daemonscope::model::Change;
use daemonscope::model::plan::{NodeEdit, Request};
use daemonscope::sim::Sim;
use daemonscope::ui::{App, Msg, Theme, View};
use k8s_openapi::api::apps::v1::DaemonSet;
use k8s_openapi::api::core::v1::{Node, Pod};
use ratatui::Terminal;
use ratatui::backend::TestBackend;

/// The app under test and every effect it has asked for so far (tests clear them).
struct Ui {
    app: App,
    effects: Vec<Effect>,
}

impl std::ops::Deref for Ui {
    type Target = App;
    fn deref(&self) -> &App {
        &self.app
    }
}

impl Ui {
    fn send(&mut self, msg: Msg) {
        let fx = self.app.update(msg);
        self.effects.extend(fx);
    }
}

fn app_from(sim: &Sim) -> Ui {
    ui_with(sim, daemonscope::ui::Session { contexts: vec!["test-context".into()], ..Default::default() })
}

fn ui_with(sim: &Sim, session: daemonscope::ui::Session) -> Ui {
    let mut ui = Ui { app: App::new("test-context", Theme::new(false)).with_session(session), effects: Vec::new() };
    ui.send(Msg::Watch(common::all_updates(sim)));
    ui
}

fn screen(app: &mut Ui, w: u16, h: u16) -> String {
    let mut t = Terminal::new(TestBackend::new(w, h)).unwrap();
    t.draw(|f| app.app.draw(f)).unwrap();
    common::screen_text(t.backend().buffer())
}

fn key(app: &mut Ui, c: KeyCode) {
    app.send(Msg::Key(KeyEvent::new(c, KeyModifiers::NONE)));
}

fn typed(app: &mut Ui, s: &str) {
    for ch in s.chars() {
        key(app, KeyCode::Char(ch));
    }
}

fn demo() -> Sim {
    // The demo's timeline (cilium image bump at 0 s, a node NotReady at 5 s) applied now.
    common::demo_at(5, 3)
}

fn snapshot(name: &str, s: &str) {
    assert_screen!(name, s);
}

#[test]
fn daemonsets_view() {
    let mut app = app_from(&demo());
    let s = screen(&mut app, 150, 16);
    assert!(s.contains("DaemonSets (8)"));
    assert!(s.lines().any(|l| l.contains("node-exporter") && l.contains("✖ failing")), "{s}");
    assert!(s.lines().any(|l| l.contains("cilium") && l.contains("OnDelete") && l.contains("◐ outdated")), "{s}");
    snapshot("daemonsets_demo", &s);
}

fn open_grid_on(app: &mut Ui, ds: &str, node: &str) -> String {
    key(app, KeyCode::Char('/'));
    typed(app, ds);
    key(app, KeyCode::Enter);
    key(app, KeyCode::Enter);
    assert_eq!(app.view(), View::Grid);
    key(app, KeyCode::Char('/'));
    typed(app, node);
    key(app, KeyCode::Enter);
    screen(app, 150, 40)
}

#[test]
fn grid_explains_the_crash_looping_node() {
    let mut app = app_from(&demo());
    let s = open_grid_on(&mut app, "node-exporter", "general-c-0003");
    assert!(s.contains("monitoring/node-exporter — coverage by node"), "{s}");
    assert!(s.contains("✖ failing"), "{s}");
    // Between crashes the container runs for a moment: both moments are "failing".
    assert!(
        s.contains("why: CrashLoopBackOff: container node-exporter") || s.contains("why: crash-looping: container node-exporter"),
        "{s}"
    );
}

#[test]
fn grid_names_the_untolerated_taint() {
    let mut app = app_from(&demo());
    let s = open_grid_on(&mut app, "fluent-bit", "highmem-a-0001");
    assert!(s.contains("· ineligible"), "{s}");
    assert!(s.contains("why: taint dedicated=infra:NoSchedule not tolerated"), "{s}");
    snapshot("grid_untolerated_taint", &s);
}

#[test]
fn grid_shows_groups_with_a_summary_line_each() {
    let mut app = app_from(&demo());
    key(&mut app, KeyCode::Enter);
    let s = screen(&mut app, 150, 40);
    for zone in ["eu-west-1a", "eu-west-1b", "eu-west-1c"] {
        assert!(
            s.lines().any(|l| l.contains(&format!("topology.kubernetes.io/zone={zone}")) && (l.contains("nodes)") || l.contains("node)"))),
            "{s}"
        );
    }
    key(&mut app, KeyCode::Char('z'));
    let s = screen(&mut app, 150, 40);
    assert!(s.contains("pool=gpu"), "grouped by pool after z: {s}");
}

#[test]
fn help_lists_every_key_of_the_view() {
    let mut app = app_from(&demo());
    key(&mut app, KeyCode::Char('?'));
    let s = screen(&mut app, 120, 30);
    for b in daemonscope::ui::keymap::bindings_for(View::DaemonSets, false) {
        assert!(s.contains(b.help), "help shows {:?}: {s}", b.help);
    }
    key(&mut app, KeyCode::Esc);
    assert!(!app.help_open());
}

#[test]
fn tiny_terminals_get_a_notice_not_a_crash() {
    let mut app = app_from(&demo());
    let s = screen(&mut app, 40, 8);
    assert!(s.contains("terminal too small"), "{s}");
    for (w, h) in [(1, 1), (2, 40), (200, 2)] {
        screen(&mut app, w, h);
    }
}

#[test]
fn five_thousand_nodes_stay_readable() {
    let sc = daemonscope::sim::generator::scenario(5000, 3);
    let sim = Sim::build(&sc, daemonscope::sim::SimOptions::from_scenario(&sc)).unwrap();
    let mut app = app_from(&sim);
    key(&mut app, KeyCode::Enter);
    let s = screen(&mut app, 160, 48);
    // Dense cells: one column per node, three zone groups with a summary each.
    let groups: Vec<&str> = s.lines().filter(|l| l.starts_with("│topology.kubernetes.io/zone=")).collect();
    assert_eq!(groups.len(), 3, "{s}");
    assert!(groups[0].contains("zone=eu-west-1a  (1668 nodes)  ●1668"), "{s}");
    assert!(groups[1].contains("zone=eu-west-1b  (1667 nodes)  ●1667"), "{s}");
    assert!(groups[2].contains("zone=eu-west-1c  (1665 nodes)  ●1665"), "{s}");
    assert!(s.contains("ready 5000"), "{s}");
    snapshot("grid_5000_nodes", &s);
}

#[test]
fn matrix_puts_the_broken_nodes_first_and_opens_the_grid_there() {
    let mut app = app_from(&demo());
    key(&mut app, KeyCode::Char('m'));
    assert_eq!(app.view(), View::Matrix);
    let s = screen(&mut app, 160, 40);
    assert!(s.contains("node × DaemonSet (50 nodes, 8 DaemonSets; broken first)"), "{s}");
    // The node with a broken daemon (node-exporter crash-looping) tops the list, then the
    // NotReady node, whose daemons wait for it.
    let first_row = s.lines().nth(3).unwrap_or("");
    assert!(first_row.contains("general-c-0003"), "first row: {first_row}\n{s}");
    assert!(s.lines().nth(4).unwrap_or("").contains("general-b-0005"), "{s}");
    assert!(s.contains("broken per DaemonSet") && s.contains("outdated per DaemonSet"), "{s}");
    // The legend names every column.
    assert!(s.contains(" 7 monitoring/node-exporter"), "{s}");
    // Enter opens that DaemonSet's grid with the cursor on that node.
    for _ in 0..6 {
        key(&mut app, KeyCode::Right);
    }
    key(&mut app, KeyCode::Enter);
    assert_eq!(app.view(), View::Grid);
    assert_eq!(app.selected().map(|d| d.name.as_str()), Some("node-exporter"));
    assert_eq!(app.cursor_node(), Some("general-c-0003"));
}

/// The demo 12 s into fluent-bit's rolling update (maxUnavailable 2, 5 s per pod start).
fn demo_mid_rollout() -> Sim {
    let text = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/assets/scenarios/demo.yaml")).unwrap();
    let mut sim = common::build(&text);
    for a in common::scenario(&text).timeline.iter().filter(|t| t.at.as_secs() <= 8) {
        sim.apply(&a.action).unwrap();
    }
    for _ in 0..12 {
        sim.advance(1);
    }
    sim
}

#[test]
fn rollout_view_shows_revisions_limits_and_what_changed() {
    let sim = demo_mid_rollout();
    let mut app = app_from(&sim);
    typed(&mut app, "/fluent-bit");
    key(&mut app, KeyCode::Enter);
    key(&mut app, KeyCode::Char('r'));
    assert_eq!(app.view(), View::Rollout);
    let s = screen(&mut app, 160, 45);
    // Both rollouts under way are listed: fluent-bit rolling, cilium waiting for deletions.
    assert!(s.contains("rollouts under way (2)"), "{s}");
    assert!(
        s.lines().any(|l| l.contains("kube-system/cilium") && l.contains("OnDelete") && l.contains("waiting for pod deletions")),
        "{s}"
    );
    assert!(s.lines().any(|l| l.starts_with("│▶ logging/fluent-bit") && l.contains("progressing")), "{s}");
    assert!(s.contains("logging/fluent-bit — rollout to revision 2"), "{s}");
    assert!(s.contains("maxUnavailable 2 (= 2 of 44)  maxSurge 0 (= 0)"), "{s}");
    // Pods per revision match the simulator's pods.
    let pods = sim.store.list::<Pod>(Some("logging")).0;
    let on = |generation: &str| {
        pods.iter()
            .filter(|p| p.metadata.deletion_timestamp.is_none())
            .filter(|p| p.metadata.labels.as_ref().unwrap()["pod-template-generation"] == generation)
            .count()
    };
    let (new, old) = (on("2"), on("1"));
    assert!(new >= 1 && old >= 1, "mid-rollout: {new} new, {old} old");
    assert!(s.lines().any(|l| l.contains("rev 2") && l.contains(&format!("{new} pods")) && l.contains("(current)")), "{new} new pods: {s}");
    assert!(s.lines().any(|l| l.contains("rev 1") && l.contains(&format!("{old} pods, {old} ready"))), "{old} old pods: {s}");
    // The revision history says what changed.
    assert!(
        s.contains("spec.containers[fluent-bit].image: cr.fluentbit.io/fluent/fluent-bit:3.0.7 → cr.fluentbit.io/fluent/fluent-bit:3.1.4"),
        "{s}"
    );
    // What it waits on: the budget is spent on the pod being replaced.
    assert!(s.contains("waiting on"), "{s}");
    assert!(s.contains("outdated pod(s)"), "{s}");
    // j moves to cilium: OnDelete, nothing replaced until deleted.
    key(&mut app, KeyCode::Char('k'));
    let s = screen(&mut app, 160, 45);
    assert!(s.contains("kube-system/cilium — rollout to revision 2"), "{s}");
    assert!(s.contains("OnDelete: 49 pod(s) stay on an old revision until they are deleted"), "{s}");
    assert!(s.contains("quay.io/cilium/cilium:v1.15.1 → quay.io/cilium/cilium:v1.15.6"), "{s}");
}

#[test]
fn nodes_view_puts_the_broken_node_first_with_its_missing_daemons() {
    let mut app = app_from(&demo());
    key(&mut app, KeyCode::Char('n'));
    assert_eq!(app.view(), View::Nodes);
    key(&mut app, KeyCode::Char('s'));
    let s = screen(&mut app, 160, 20);
    // A broken daemon first (the crash loop), then the down node: none of the 7
    // DaemonSets that would run there is ready, and they wait for the node.
    let first = s.lines().nth(3).unwrap_or("");
    assert!(first.contains("general-c-0003") && first.contains("✖node-exporter"), "{first}\n{s}");
    let down = s.lines().nth(4).unwrap_or("");
    assert!(down.contains("general-b-0005") && down.contains("NotReady") && down.contains(" 0/7 "), "{down}\n{s}");
    assert!(down.contains("⊘ node down (7)"), "{down}");
    key(&mut app, KeyCode::Char('j'));
    let tall = screen(&mut app, 160, 60);
    assert!(tall.lines().any(|l| l.contains("highmem-a-0001") && l.contains("dedicated=infra:NoSchedule")), "{tall}");
    // z adds a label of the operator's choice as a column (cycling through the keys).
    key(&mut app, KeyCode::Char('z'));
    assert_eq!(app.node_label(), Some("accelerator"));
    key(&mut app, KeyCode::Char('z'));
    assert_eq!(app.node_label(), Some("beta.kubernetes.io/arch"));
    let s = screen(&mut app, 160, 20);
    assert!(s.lines().nth(2).unwrap_or("").contains("ARCH") && s.lines().nth(3).unwrap_or("").contains("amd64"), "{s}");
    // Space marks the node (shown in the row and counted in the status line).
    key(&mut app, KeyCode::Char(' '));
    let s = screen(&mut app, 160, 20);
    assert!(s.lines().nth(4).unwrap_or("").starts_with("│✓ general-b-0005"), "{s}");
    assert!(s.lines().next().unwrap().contains("1 marked"), "{s}");
    assert!(app.marks().contains("general-b-0005"));
    // Enter: the node's detail, every daemon with its reason, and its events requested.
    key(&mut app, KeyCode::Char('k'));
    key(&mut app, KeyCode::Enter);
    assert_eq!(app.view(), View::Detail);
    assert!(
        app.effects
            .iter()
            .any(|e| matches!(e, Effect::Events { object, .. } if object.kind == Kind::Node && object.name == "general-b-0005"))
    );
    let s = screen(&mut app, 160, 40);
    assert!(s.contains("daemons: 0 of 7 expected are ready here, 0 broken, 7 waiting for the node"), "{s}");
    // The node's problem, named by its condition, not a daemon's; every condition listed.
    assert!(s.contains("⊘ node-not-ready kube-system/cilium") && s.contains("the node is down; its pod cilium-"), "{s}");
    assert!(s.lines().any(|l| l.contains("Ready ") && l.contains(" False ") && l.contains("KubeletNotReady")), "{s}");
    snapshot("node_detail_not_ready", &s);
}

#[test]
fn daemonset_detail_flags_host_access_and_names_its_service() {
    let mut app = app_from(&demo());
    typed(&mut app, "/node-exporter");
    key(&mut app, KeyCode::Enter);
    key(&mut app, KeyCode::Char('d'));
    assert_eq!(app.view(), View::Detail);
    let s = screen(&mut app, 150, 45);
    for want in [
        "hostNetwork        ⚠ true",
        "hostPID            ⚠ true",
        "hostPath mounts    /proc (read-only)",
        "hostPorts          ⚠ 9100",
        "priorityClassName  system-node-critical",
        "Service            monitoring/node-exporter (ClusterIP None) ports 9100→metrics/TCP",
        "<all keys>:<all effects> op=Exists",
    ] {
        assert!(s.contains(want), "{want:?} in {s}");
    }
    // Events arrive from the job; a stale answer (older request) is dropped.
    let seq = app
        .effects
        .iter()
        .rev()
        .find_map(|e| match e {
            Effect::Events { seq, .. } => Some(*seq),
            _ => None,
        })
        .expect("events requested");
    let ev = |m: &str| EventLine { last: None, type_: "Warning".into(), reason: "FailedCreate".into(), message: m.into(), count: 3 };
    app.send(Msg::Job(JobResult::Events { seq: seq - 1, events: vec![ev("stale")] }));
    app.send(Msg::Job(JobResult::Events { seq, events: vec![ev("fresh")] }));
    let s = screen(&mut app, 150, 45);
    assert!(s.contains("FailedCreate") && s.contains("fresh (x3)") && !s.contains("stale"), "{s}");
    snapshot("daemonset_detail_node_exporter", &s);
}

#[test]
fn yaml_and_logs_are_jobs_whose_answers_fill_the_text_pane() {
    let mut app = app_from(&demo());
    typed(&mut app, "/node-exporter");
    key(&mut app, KeyCode::Enter);
    key(&mut app, KeyCode::Enter);
    typed(&mut app, "/general-c-0003");
    key(&mut app, KeyCode::Enter);
    app.effects.clear();
    key(&mut app, KeyCode::Char('l'));
    assert_eq!(app.view(), View::Text);
    let Some(Effect::Logs { seq, namespace, pod, previous: false, .. }) =
        app.effects.iter().find(|e| matches!(e, Effect::Logs { .. })).cloned()
    else {
        panic!("no log request: {:?}", app.effects)
    };
    assert_eq!(namespace, "monitoring");
    assert!(pod.starts_with("node-exporter-"));
    app.send(Msg::Job(JobResult::Text { seq, lines: (0..100).map(|i| format!("line {i}")).collect(), append: true }));
    let s = screen(&mut app, 120, 20);
    // Following: the newest line is in view.
    assert!(s.contains("line 99") && !s.contains("line 10\n"), "{s}");
    assert!(s.contains(&format!("monitoring/{pod} — log (following)")), "{s}");
    // Scrolling up stops following; G follows again.
    key(&mut app, KeyCode::Char('g'));
    let s = screen(&mut app, 120, 20);
    assert!(s.contains("line 0") && !s.contains("line 99"), "{s}");
    // Esc goes back to the grid and stops the stream.
    app.effects.clear();
    key(&mut app, KeyCode::Esc);
    assert_eq!(app.view(), View::Grid);
    assert!(app.effects.contains(&Effect::StopStreams));
    // y on the grid: the YAML of the pod under the cursor.
    key(&mut app, KeyCode::Char('y'));
    assert!(app.effects.iter().any(|e| matches!(e, Effect::Yaml { object, .. } if object.kind == Kind::Pod && object.name == pod)));
}

#[test]
fn ctx_and_ns_switches_are_requests_and_unknown_names_are_refused() {
    let mut app =
        ui_with(&demo(), daemonscope::ui::Session { contexts: vec!["test-context".into(), "staging".into()], ..Default::default() });
    // :ctx opens the picker on the current context; j + Enter picks the next.
    typed(&mut app, ":ctx");
    key(&mut app, KeyCode::Enter);
    let s = screen(&mut app, 120, 30);
    assert!(s.contains("* test-context") && s.contains("staging"), "{s}");
    key(&mut app, KeyCode::Char('j'));
    key(&mut app, KeyCode::Enter);
    assert!(app.effects.iter().any(|e| matches!(e, Effect::Connect { context: Some(c), .. } if c == "staging")), "{:?}", app.effects);
    app.effects.clear();
    typed(&mut app, ":ctx nope");
    key(&mut app, KeyCode::Enter);
    assert!(app.effects.is_empty());
    assert!(app.message().unwrap_or("").contains("no context \"nope\""));
    // :ns monitoring narrows the watches; :ns all widens them again.
    typed(&mut app, ":ns monitoring");
    key(&mut app, KeyCode::Enter);
    assert!(app.effects.iter().any(|e| matches!(e, Effect::Connect { scope, .. } if scope.namespace.as_deref() == Some("monitoring"))));
    app.effects.clear();
    typed(&mut app, ":ns Bad_NS");
    key(&mut app, KeyCode::Enter);
    assert!(app.effects.is_empty() && app.message().unwrap_or("").contains("invalid namespace"), "{:?}", app.message());
    // The picker lists the namespaces seen.
    typed(&mut app, ":ns");
    key(&mut app, KeyCode::Enter);
    let s = screen(&mut app, 120, 30);
    assert!(s.contains("* all") && s.contains("monitoring") && s.contains("kube-system"), "{s}");
    // After the loop connects, everything from the old cluster is gone.
    app.send(Msg::Connected { context: "staging".into(), scope: daemonscope::cluster::watch::Scope::default(), server: None });
    assert_eq!(app.model().node_count(), 0);
    assert_eq!(app.context(), "staging");
    assert_eq!(app.contexts().len(), 2);
}

#[test]
fn cordon_and_taint_ask_first_name_what_changes_and_respect_readonly_and_rbac() {
    let mut app = app_from(&demo());
    key(&mut app, KeyCode::Char('n'));
    let name = app.cursor_node().unwrap().to_string();
    key(&mut app, KeyCode::Char('c'));
    let s = screen(&mut app, 150, 40);
    assert!(s.contains("cordon 1 node(s)?"), "{s}");
    assert!(s.contains(&format!("node/{name}: spec.unschedulable false → true")), "{s}");
    assert!(s.contains("DaemonSet pods ignore cordon"), "{s}");
    // n cancels: nothing is sent.
    key(&mut app, KeyCode::Char('n'));
    assert!(app.confirm().is_none() && app.effects.is_empty());
    // Two marked nodes, y confirms: one action for both.
    key(&mut app, KeyCode::Char(' '));
    key(&mut app, KeyCode::Char(' '));
    key(&mut app, KeyCode::Char('c'));
    assert_eq!(app.confirm().map(|p| p.changes), Some(2));
    key(&mut app, KeyCode::Char('y'));
    match app.effects.as_slice() {
        [Effect::Act { request, dry_run: false }] => {
            let nodes = app.marks().iter().cloned().collect();
            assert_eq!(request, &Request::Nodes { nodes, edit: NodeEdit::Cordon });
        }
        other => panic!("{other:?}"),
    }
    // Uncordon of nodes that are not cordoned changes nothing and says so.
    app.effects.clear();
    key(&mut app, KeyCode::Char('u'));
    assert!(screen(&mut app, 150, 40).contains("already uncordoned"));
    key(&mut app, KeyCode::Char('y'));
    assert!(app.effects.is_empty());
    // RBAC: the server said no; the key says why and nothing is proposed or sent.
    app.send(Msg::Job(JobResult::Permissions(vec![(("patch", "nodes"), Ok(false))])));
    key(&mut app, KeyCode::Char('c'));
    assert!(app.confirm().is_none() && app.effects.is_empty());
    assert!(app.message().unwrap_or("").contains("may not patch nodes"), "{:?}", app.message());
    // The taint editor does not even open.
    key(&mut app, KeyCode::Char('t'));
    assert!(app.message().unwrap_or("").contains("may not patch nodes"), "{:?}", app.message());
    typed(&mut app, "x:NoSchedule");
    key(&mut app, KeyCode::Enter);
    assert!(app.confirm().is_none() && app.effects.is_empty());
    key(&mut app, KeyCode::Char('j'));
    let s = screen(&mut app, 150, 40);
    assert!(s.lines().last().unwrap().contains("<c> cordon (forbidden)"), "{s}");
    // --readonly: the keys do not exist (not in the help, not handled).
    let mut ro = ui_with(&demo(), daemonscope::ui::Session { readonly: true, ..Default::default() });
    key(&mut ro, KeyCode::Char('n'));
    key(&mut ro, KeyCode::Char('c'));
    key(&mut ro, KeyCode::Char('u'));
    key(&mut ro, KeyCode::Char('t'));
    assert!(ro.confirm().is_none() && ro.effects.is_empty());
    assert!(!screen(&mut ro, 150, 40).contains("taints for"), "no taint editor under --readonly");
    key(&mut ro, KeyCode::Char('?'));
    let s = screen(&mut ro, 150, 40);
    assert!(!s.contains("cordon") && !s.contains("taint the node"), "{s}");
}

#[test]
fn label_edits_are_validated_first_and_show_which_daemonsets_start_or_stop() {
    let mut app = app_from(&demo());
    key(&mut app, KeyCode::Char('n'));
    typed(&mut app, "/general-a-0001");
    key(&mut app, KeyCode::Enter);
    key(&mut app, KeyCode::Char('e'));
    // An invalid key and a bad token: refused with the rule, nothing proposed or sent.
    typed(&mut app, "-bad=x disktype");
    key(&mut app, KeyCode::Enter);
    let msg = app.message().unwrap_or_default().to_string();
    assert!(msg.contains("key \"-bad\"") && msg.contains("must start and end with an alphanumeric character"), "{msg}");
    assert!(msg.contains("\"disktype\": expected key=value (set) or key- (remove)"), "{msg}");
    assert!(app.confirm().is_none() && app.effects.is_empty());
    let s = screen(&mut app, 200, 40);
    assert!(s.lines().last().unwrap().starts_with("labels for 1 node(s): -bad=x disktype"), "{s}");
    // Fixed: the plan names the change and the DaemonSet that starts covering the node.
    for _ in 0.."-bad=x disktype".len() {
        key(&mut app, KeyCode::Backspace);
    }
    typed(&mut app, "accelerator=nvidia pool-");
    key(&mut app, KeyCode::Enter);
    let s = screen(&mut app, 160, 40);
    assert!(s.contains("label 1 node(s)?"), "{s}");
    assert!(s.contains("node/general-a-0001: + accelerator=nvidia, - pool=general"), "{s}");
    assert!(s.contains("+ kube-system/nvidia-device-plugin starts covering general-a-0001"), "{s}");
    key(&mut app, KeyCode::Char('y'));
    match app.effects.as_slice() {
        [Effect::Act { request, .. }] => {
            assert!(matches!(request, Request::Nodes { nodes, edit: NodeEdit::Label { .. } } if nodes == &["general-a-0001"]))
        }
        other => panic!("{other:?}"),
    }
    // Overwriting an existing value is called out.
    app.effects.clear();
    key(&mut app, KeyCode::Char('e'));
    typed(&mut app, "pool=spot");
    key(&mut app, KeyCode::Enter);
    assert!(screen(&mut app, 160, 40).contains("pool: general → spot (OVERWRITES the current value)"));
}

/// Two nodes (node-b tainted dedicated=gpu:NoSchedule) and DaemonSets that tolerate
/// nothing (agent), a `maint` NoExecute taint for 300 s (patient), every taint (tolerant).
fn taint_cluster() -> Sim {
    let mut yaml = common::nodes_yaml(&["node-a", "node-b"]).replace(
        "metadata: {name: node-b, labels: {pool: general}}",
        "metadata: {name: node-b, labels: {pool: general}}\nspec: {taints: [{key: dedicated, value: gpu, effect: NoSchedule}]}",
    );
    let tolerating = |name: &str, tols: &str| {
        common::ds_yaml(name, "{type: RollingUpdate}")
            .replace("    spec:\n      containers:", &format!("    spec:\n      tolerations: {tols}\n      containers:"))
    };
    yaml.push_str(&common::ds_yaml("agent", "{type: RollingUpdate}"));
    yaml.push_str(&tolerating("patient", "[{key: maint, operator: Exists, effect: NoExecute, tolerationSeconds: 300}]"));
    yaml.push_str(&tolerating("tolerant", "[{operator: Exists}]"));
    let mut sim = common::build(&yaml);
    for _ in 0..5 {
        sim.advance(1);
    }
    sim
}

#[test]
fn taint_edits_are_validated_first_and_preview_placement_and_evictions() {
    let sim = taint_cluster();
    let mut app = app_from(&sim);
    let pod = |ds: &str, node: &str| {
        let d = app.model().daemonset("kube-system", ds).unwrap();
        app.model().pods_on(d, app.model().node_id(node).unwrap())[0].name.clone()
    };
    let (agent, patient) = (pod("agent", "node-a"), pod("patient", "node-a"));
    key(&mut app, KeyCode::Char('n'));
    assert_eq!(app.cursor_node(), Some("node-a"));
    key(&mut app, KeyCode::Char('t'));
    // Refused with the rule, nothing proposed or sent; the input stays to be fixed.
    typed(&mut app, "maint=x");
    key(&mut app, KeyCode::Enter);
    let msg = app.message().unwrap_or_default().to_string();
    assert!(msg.contains("\"maint=x\": a taint needs an effect"), "{msg}");
    assert!(app.confirm().is_none() && app.effects.is_empty());
    let s = screen(&mut app, 200, 40);
    assert!(s.lines().last().unwrap().starts_with("taints for 1 node(s): maint=x"), "{s}");
    // NoExecute: agent is evicted now, patient after its tolerationSeconds, tolerant not at all.
    typed(&mut app, ":NoExecute");
    key(&mut app, KeyCode::Enter);
    let plan = app.confirm().expect("a plan").clone();
    assert_eq!(plan.title, "taint 1 node(s)");
    let lines = plan.lines.join("\n");
    assert!(lines.contains("node/node-a: + maint=x:NoExecute"), "{lines}");
    assert!(lines.contains("  - kube-system/agent stops being placed on node-a (taint maint=x:NoExecute not tolerated)"), "{lines}");
    assert!(lines.contains(&format!("      ✖ pod/{agent} is evicted now")), "{lines}");
    assert!(
        lines.contains(&format!(
            "  ✖ kube-system/patient: pod/{patient} on node-a is evicted after 300s (tolerationSeconds), then re-created by its DaemonSet"
        )),
        "{lines}"
    );
    assert!(!lines.contains("patient stops"), "patient is still placed there: {lines}");
    assert!(lines.contains("Unaffected (they tolerate it): kube-system/tolerant"), "{lines}");
    key(&mut app, KeyCode::Char('y'));
    match app.effects.as_slice() {
        [Effect::Act { request, dry_run: false }] => {
            assert!(matches!(request, Request::Nodes { nodes, edit: NodeEdit::Taint { .. } } if nodes == &["node-a"]))
        }
        other => panic!("{other:?}"),
    }
    // NoSchedule: agent is no longer placed, but its pod is not evicted.
    app.effects.clear();
    key(&mut app, KeyCode::Char('t'));
    typed(&mut app, "maint:NoSchedule");
    key(&mut app, KeyCode::Enter);
    let lines = app.confirm().expect("a plan").lines.join("\n");
    assert!(lines.contains("- kube-system/agent stops being placed on node-a (taint maint:NoSchedule not tolerated)"), "{lines}");
    assert!(lines.contains(&format!("pod/{agent} keeps running (NoSchedule does not evict; counted misscheduled)")), "{lines}");
    // patient tolerates `maint` only as NoExecute.
    assert!(lines.contains("- kube-system/patient stops being placed on node-a (taint maint:NoSchedule not tolerated)"), "{lines}");
    assert!(lines.contains("Unaffected (they tolerate it): kube-system/tolerant"), "{lines}");
    key(&mut app, KeyCode::Esc);
    // A taint that goes: agent and patient start covering node-b; a value replaced is called out.
    key(&mut app, KeyCode::Char('j'));
    assert_eq!(app.cursor_node(), Some("node-b"));
    key(&mut app, KeyCode::Char('t'));
    typed(&mut app, "dedicated-");
    key(&mut app, KeyCode::Enter);
    let lines = app.confirm().expect("a plan").lines.join("\n");
    assert!(lines.contains("node/node-b: - dedicated=gpu:NoSchedule"), "{lines}");
    assert!(lines.contains("+ kube-system/agent starts covering node-b (a pod will be created)"), "{lines}");
    assert!(lines.contains("+ kube-system/patient starts covering node-b (a pod will be created)"), "{lines}");
    key(&mut app, KeyCode::Esc);
    key(&mut app, KeyCode::Char('t'));
    typed(&mut app, "dedicated=cpu:NoSchedule gone:NoExecute-");
    key(&mut app, KeyCode::Enter);
    let lines = app.confirm().expect("a plan").lines.join("\n");
    assert!(lines.contains("node/node-b: dedicated:NoSchedule: gpu → cpu (OVERWRITES the current value), gone:NoExecute- (no such taint; nothing to remove)"), "{lines}");
    assert!(lines.contains("DaemonSets: none stops or starts covering these nodes, and no daemon pod is evicted."), "{lines}");
}

/// `R` on an OnDelete DaemonSet asks which roll: the roll (first, so `R` Enter is the roll)
/// or the maintenance roll, which is `:roll N --drain` with the batch of the last `:roll`.
#[test]
fn r_on_an_ondelete_daemonset_offers_the_roll_or_the_maintenance_roll() {
    let mut app = app_from(&demo());
    key(&mut app, KeyCode::Char('R'));
    assert!(app.app.confirm().is_none() && app.effects.is_empty());
    for (w, h) in [(80, 24), (120, 35), (200, 50)] {
        let s = screen(&mut app, w, h);
        assert!(s.contains("restart (Enter chooses, Esc cancels)"), "{w}x{h}: {s}");
        assert!(s.contains("roll — replace the outdated pods, 1 node at a time"), "{w}x{h}: {s}");
        assert!(s.contains("maintenance roll — cordon and drain first, 1 node at a time"), "{w}x{h}: {s}");
    }
    key(&mut app, KeyCode::Char('j'));
    key(&mut app, KeyCode::Enter);
    let s = screen(&mut app, 160, 45);
    assert!(s.contains("maintenance roll of 49 outdated pod(s) of cilium?"), "{s}");
    assert!(s.contains("Maintenance: each node is first cordoned and drained"), "{s}");
    key(&mut app, KeyCode::Char('y'));
    assert!(matches!(app.effects.as_slice(), [Effect::Roll(spec)] if spec.drain && spec.batch == 1), "{:?}", app.effects);
    // The choice is for that roll only: the next R Enter is a plain roll again.
    app.effects.clear();
    typed(&mut app, ":roll abort");
    key(&mut app, KeyCode::Enter);
    key(&mut app, KeyCode::Char('R'));
    key(&mut app, KeyCode::Enter);
    let s = screen(&mut app, 160, 45);
    assert!(s.contains("roll 49 outdated pod(s) of cilium?") && !s.contains("maintenance"), "{s}");
    // Esc leaves the choice without a plan.
    key(&mut app, KeyCode::Char('n'));
    key(&mut app, KeyCode::Char('R'));
    key(&mut app, KeyCode::Esc);
    assert!(app.app.confirm().is_none());
    assert!(!screen(&mut app, 120, 35).contains("restart (Enter chooses"));
}

#[test]
fn restart_means_a_health_gated_roll_for_ondelete_and_rollout_restart_otherwise() {
    let mut app = app_from(&demo());
    // cilium (OnDelete) is first; R offers the roll first, Enter takes it.
    key(&mut app, KeyCode::Char('R'));
    key(&mut app, KeyCode::Enter);
    let s = screen(&mut app, 160, 45);
    assert!(s.contains("roll 49 outdated pod(s) of cilium?"), "{s}");
    assert!(s.contains("on 49 node(s), 1 at a time") && s.contains("Ready and available (minReadySeconds 0)"), "{s}");
    assert!(s.contains("if a new pod is not ready within 5m (:roll N --timeout D)"), "{s}");
    assert!(s.contains(":roll pause, :roll resume, :roll abort"), "{s}");
    // The NotReady node is not rolled (no replacement could start there), and says why.
    assert!(s.contains("Skipped (1; :roll 1 --all includes them):") && s.contains("node general-b-0005: node NotReady"), "{s}");
    key(&mut app, KeyCode::Char('n'));
    // :roll 3 --timeout 2m proposes the same with three nodes at a time; y starts it as a job.
    typed(&mut app, ":roll 3 --timeout 2m");
    key(&mut app, KeyCode::Enter);
    assert!(screen(&mut app, 160, 45).contains("if a new pod is not ready within 2m"));
    match app.confirm().map(|p| &p.intent) {
        Some(daemonscope::model::plan::Intent::Roll { skipped, .. }) => {
            assert_eq!(skipped.iter().map(|(n, _)| n.as_str()).collect::<Vec<_>>(), vec!["general-b-0005"]);
        }
        other => panic!("{other:?}"),
    }
    key(&mut app, KeyCode::Char('y'));
    match app.effects.as_slice() {
        [Effect::Roll(spec)] => {
            assert_eq!(
                (spec.namespace.as_str(), spec.name.as_str(), spec.batch, spec.timeout.as_secs()),
                ("kube-system", "cilium", 3, 120)
            );
            assert_eq!(spec.nodes.len(), 49);
            assert!(!spec.nodes.contains("general-b-0005"));
        }
        other => panic!("{other:?}"),
    }
    // --all includes the skipped node, for this roll only.
    app.effects.clear();
    typed(&mut app, ":roll 3 --all");
    key(&mut app, KeyCode::Enter);
    assert!(screen(&mut app, 160, 45).contains("roll 50 outdated pod(s) of cilium?"));
    key(&mut app, KeyCode::Char('n'));
    // --drain: the maintenance roll, said so before it starts; y starts it draining.
    typed(&mut app, ":roll 2 --drain");
    key(&mut app, KeyCode::Enter);
    let s = screen(&mut app, 160, 45);
    assert!(s.contains("maintenance roll of 49 outdated pod(s) of cilium?"), "{s}");
    assert!(s.contains("Maintenance: each node is first cordoned and drained") && s.contains("A node that was cordoned"), "{s}");
    assert!(s.contains("node control-plane-1: cordoned, drained, pod/"), "{s}");
    app.effects.clear();
    key(&mut app, KeyCode::Char('y'));
    assert!(matches!(app.effects.as_slice(), [Effect::Roll(spec)] if spec.drain && spec.batch == 2), "{:?}", app.effects);
    app.effects.clear();
    typed(&mut app, ":roll 3 --timeout");
    key(&mut app, KeyCode::Enter);
    assert_eq!(app.message(), Some("--timeout takes a duration (e.g. 2m)"));
    app.effects.clear();
    typed(&mut app, ":roll pause");
    key(&mut app, KeyCode::Enter);
    assert_eq!(app.effects, vec![Effect::RollControl(daemonscope::cluster::roll::RollCmd::Pause)]);
    // Its progress, as the job reports it, is on the status line.
    app.send(Msg::Job(JobResult::Roll(daemonscope::cluster::roll::RollStatus {
        ds: "kube-system/cilium".into(),
        state: daemonscope::cluster::roll::RollState::Running,
        done: 4,
        remaining: 43,
        in_flight: vec!["general-a-0005".into()],
        skipped: vec![],
        draining: vec![],
        cordoned: vec![],
        blockers: vec![],
    })));
    key(&mut app, KeyCode::Char('j'));
    key(&mut app, KeyCode::Char('k'));
    assert!(
        screen(&mut app, 200, 20)
            .lines()
            .last()
            .unwrap()
            .contains("roll of kube-system/cilium running — 4 replaced, 43 to go, replacing general-a-0005")
    );
    // Dry-run is fixed per action: turning it on while the roll runs changes nothing of
    // the roll, and the status line says which running job is real.
    app.effects.clear();
    typed(&mut app, ":dry-run on");
    key(&mut app, KeyCode::Enter);
    assert!(app.effects.is_empty(), "{:?}", app.effects);
    assert!(
        app.message().unwrap_or("").contains("the roll of kube-system/cilium already running is real and goes on"),
        "{:?}",
        app.message()
    );
    let top = screen(&mut app, 200, 20).lines().next().unwrap().to_string();
    assert!(top.contains("[dry-run: new actions not applied]") && top.contains("[REAL roll of kube-system/cilium running]"), "{top}");
    typed(&mut app, ":dry-run off");
    key(&mut app, KeyCode::Enter);
    // A RollingUpdate DaemonSet: R is kubectl's rollout restart.
    app.effects.clear();
    key(&mut app, KeyCode::Char('j'));
    key(&mut app, KeyCode::Char('R'));
    let s = screen(&mut app, 160, 45);
    assert!(s.contains("rollout restart kube-system/ebs-csi-node?") && s.contains("kubectl.kubernetes.io/restartedAt"), "{s}");
    // Confirmed: the rollout view follows it.
    key(&mut app, KeyCode::Char('y'));
    assert_eq!(app.view(), View::Rollout);
    assert_eq!(app.selected().map(|d| d.name.as_str()), Some("ebs-csi-node"));
    assert!(matches!(app.effects.as_slice(), [Effect::Act { .. }]));
    // X in the grid restarts the one pod under the cursor.
    key(&mut app, KeyCode::Esc);
    key(&mut app, KeyCode::Enter);
    typed(&mut app, "/general-a-0001");
    key(&mut app, KeyCode::Enter);
    key(&mut app, KeyCode::Char('X'));
    assert!(screen(&mut app, 160, 45).contains("Its DaemonSet creates a new pod on that node"));
}

#[test]
fn cordoned_nodes_are_counted_per_group_in_the_grid() {
    let text = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/assets/scenarios/demo.yaml")).unwrap();
    let sim = common::build(&text);
    let mut app = app_from(&sim);
    let mut n = app.model().node(app.model().node_id("general-a-0003").unwrap()).unwrap().clone();
    n.unschedulable = true;
    app.send(Msg::Watch(vec![Update::Change(Change::Node(n))]));
    key(&mut app, KeyCode::Enter);
    let s = screen(&mut app, 150, 40);
    assert!(s.lines().any(|l| l.contains("zone=eu-west-1a") && l.contains("⊘1 cordoned")), "{s}");
    assert!(!s.lines().any(|l| l.contains("zone=eu-west-1b") && l.contains("cordoned")), "{s}");
}

/// The key event a keymap key name stands for.
fn key_event(name: &str) -> KeyEvent {
    let code = match name {
        "Space" => KeyCode::Char(' '),
        "↑" => KeyCode::Up,
        "↓" => KeyCode::Down,
        "←" => KeyCode::Left,
        "→" => KeyCode::Right,
        "PgUp" => KeyCode::PageUp,
        "PgDn" => KeyCode::PageDown,
        "Home" => KeyCode::Home,
        "End" => KeyCode::End,
        "Enter" => KeyCode::Enter,
        "Esc" => KeyCode::Esc,
        n if n.starts_with("Ctrl-") => {
            return KeyEvent::new(KeyCode::Char(n.chars().last().unwrap()), KeyModifiers::CONTROL);
        }
        n => KeyCode::Char(n.chars().next().unwrap()),
    };
    KeyEvent::new(code, KeyModifiers::NONE)
}

/// The screen with its styles (a cursor is a style, not a symbol).
fn cells(app: &mut Ui) -> ratatui::buffer::Buffer {
    let mut t = Terminal::new(TestBackend::new(160, 40)).unwrap();
    t.draw(|f| app.app.draw(f)).unwrap();
    t.backend().buffer().clone()
}

/// From the DaemonSets list to `view` (the text pane with a hundred lines of YAML).
fn reach(ui: &mut Ui, view: View) {
    let k = match view {
        View::DaemonSets => return,
        View::Grid => KeyCode::Enter,
        View::Matrix => KeyCode::Char('m'),
        View::Nodes => KeyCode::Char('n'),
        View::Rollout => KeyCode::Char('r'),
        View::Detail => KeyCode::Char('d'),
        View::Text => KeyCode::Char('y'),
        View::Joins => {
            key(ui, KeyCode::Char('n'));
            KeyCode::Char('J')
        }
        View::Fleet => unreachable!("the fleet view is FleetApp's (src/ui/fleet/tests.rs)"),
        View::WhatIf => {
            key(ui, KeyCode::Char(':'));
            for c in "preflight /nonexistent.yaml".chars() {
                key(ui, KeyCode::Char(c));
            }
            KeyCode::Enter
        }
    };
    key(ui, k);
    if let Some(Effect::Preflight { seq, .. }) = ui.effects.iter().find(|e| matches!(e, Effect::Preflight { .. })).cloned() {
        // A verdict that fills more than a page: 200 nodes that would not fit.
        use daemonscope::model::preflight::{
            Report,
            verdict::{NodeVerdict, Outcome},
        };
        let verdicts = (0..200)
            .map(|i| NodeVerdict {
                node: format!("n{i:03}"),
                outcome: Outcome::WouldNotFit(vec!["Insufficient cpu".into()]),
                has_pod: false,
                images_present: true,
            })
            .collect();
        let report = Report {
            daemonset: "kube-system/agent".into(),
            change: false,
            verdicts,
            losing: vec![],
            gaining: 0,
            pull_nodes: 0,
            pull_bytes: 0,
            strategy: "RollingUpdate".into(),
            rollout: None,
            ds: Default::default(),
        };
        ui.send(Msg::Job(JobResult::Preflight { seq, reports: Ok(vec![report]) }));
    }
    if let Some(Effect::Yaml { seq, .. }) = ui.effects.iter().find(|e| matches!(e, Effect::Yaml { .. })).cloned() {
        ui.send(Msg::Job(JobResult::Text { seq, lines: (0..100).map(|i| format!("line {i}")).collect(), append: false }));
    }
    assert_eq!(ui.view(), view);
}

/// Every key the keymap lists for a view (so the help and the hint bar show it) does
/// something there: from the view as opened, after moving the cursor, or with a filter
/// set, it changes the screen, asks for an effect, quits, or answers with a message
/// (a refusal such as "no pod under the cursor" counts: the key is handled).
#[test]
fn every_binding_of_every_view_does_something_there() {
    let sim = demo_mid_rollout();
    // The Joins view lists nodes that joined: three join the demo.
    let mut joined = demo_mid_rollout();
    for i in 1..=3 {
        let spec = daemonscope::sim::joins::JoinSpec { name: Some(format!("join-{i}")), ..Default::default() };
        joined.apply(&daemonscope::sim::scenario::Action::Join(spec)).unwrap();
    }
    joined.advance(1);
    // The fleet view's keys are the fleet's (src/ui/fleet/tests.rs); one cluster's app has none.
    for view in View::ALL.into_iter().filter(|v| *v != View::Fleet) {
        for b in daemonscope::ui::keymap::bindings_for(view, false) {
            for name in b.keys {
                let mut did = false;
                for start in ["opened", "moved", "filtered"] {
                    let mut ui = app_from(if view == View::Joins { &joined } else { &sim });
                    reach(&mut ui, view);
                    // As in the terminal, a frame is drawn before the first key (views
                    // lay themselves out: the grid's rows, the pages).
                    cells(&mut ui);
                    match start {
                        "moved" => {
                            key(&mut ui, KeyCode::Down);
                            key(&mut ui, KeyCode::Right);
                        }
                        "filtered" => {
                            typed(&mut ui, "/e");
                            key(&mut ui, KeyCode::Enter);
                        }
                        _ => {}
                    }
                    if ui.view() != view {
                        continue;
                    }
                    key(&mut ui, KeyCode::Null);
                    ui.effects.clear();
                    let before = cells(&mut ui);
                    ui.send(Msg::Key(key_event(name)));
                    let after = cells(&mut ui);
                    if after != before || !ui.effects.is_empty() || ui.quit() || ui.message().is_some() {
                        did = true;
                        break;
                    }
                }
                assert!(did, "{name} ({:?}: {:?}) does nothing in the {view:?} view", b.action, b.help);
            }
        }
    }
}

#[test]
fn unknown_commands_name_every_command_including_roll_and_dry_run() {
    let mut app = app_from(&demo());
    typed(&mut app, ":nope");
    key(&mut app, KeyCode::Enter);
    let msg = app.message().unwrap_or_default().to_string();
    for c in daemonscope::ui::keymap::COMMANDS {
        assert!(msg.contains(&format!(":{}", c.names[0])), "{msg}");
    }
    assert!(msg.contains(":roll") && msg.contains(":dry-run"), "{msg}");
    // The help lists them, with their arguments; typing one shows what it could become.
    key(&mut app, KeyCode::Char('?'));
    let s = screen(&mut app, 150, 60);
    assert!(s.contains(":roll [N [--drain]|pause|resume|abort]") && s.contains(":dry-run [on|off]"), "{s}");
    key(&mut app, KeyCode::Esc);
    typed(&mut app, ":ro");
    let s = screen(&mut app, 150, 40);
    assert!(s.lines().last().unwrap().contains(":rollout  :roll [N [--drain]|pause|resume|abort]"), "{s}");
    // Space marks nodes only where there is a node under the cursor: not in the list.
    key(&mut app, KeyCode::Esc);
    key(&mut app, KeyCode::Char(' '));
    assert!(app.marks().is_empty() && app.message().is_none());
}

/// While the watches are still listing, no row claims a state it has no data for: the
/// coverage column says syncing, with the pods received so far, and there is no health.
#[test]
fn no_health_before_the_initial_sync() {
    let sim = demo();
    let mut ui = Ui { app: App::new("test-context", Theme::new(false)), effects: Vec::new() };
    // Nodes and DaemonSets are in, the pods have only begun to arrive.
    let some_pods: Vec<Change> = common::changes::<Pod>(&sim).into_iter().take(40).collect();
    let partial = [common::changes::<Node>(&sim), common::changes::<DaemonSet>(&sim), some_pods].concat();
    ui.send(Msg::Watch(partial.into_iter().map(Update::Change).collect()));
    let s = screen(&mut ui, 150, 16);
    let rows: Vec<&str> = s.lines().filter(|l| l.contains("kube-system ") || l.contains("logging ")).collect();
    assert!(!rows.is_empty(), "{s}");
    for r in &rows {
        assert!(r.contains("syncing… 40 pods"), "{r}\n{s}");
        assert!(!r.contains("missing") && !r.contains("✔") && !r.contains("failing"), "no health yet: {r}");
    }
    // Once every watch is live, the same rows say how the DaemonSets are.
    ui.send(Msg::Watch(common::all_updates(&sim)));
    let s = screen(&mut ui, 150, 16);
    assert!(s.lines().any(|l| l.contains("node-exporter") && l.contains("✖ failing")), "{s}");
}

/// The rollout list holds only rollouts under way (fewer desired nodes updated than
/// desired, or a generation not yet observed); a finished DaemonSet opened with `r` is
/// shown in the detail, not listed as a stalled rollout.
#[test]
fn the_rollout_list_holds_only_rollouts_under_way() {
    let mut app = app_from(&demo());
    typed(&mut app, "/kube-proxy");
    key(&mut app, KeyCode::Enter);
    key(&mut app, KeyCode::Char('r'));
    assert_eq!(app.view(), View::Rollout);
    let s = screen(&mut app, 200, 50);
    let list: Vec<&str> = s.lines().take_while(|l| !l.contains("kube-system/kube-proxy — rollout")).collect();
    assert!(list.iter().any(|l| l.contains("kube-system/cilium")), "cilium's OnDelete rollout is under way:\n{s}");
    assert!(!list.iter().any(|l| l.contains("kube-system/kube-proxy ")), "kube-proxy is not rolling out:\n{s}");
    let detail = s.split("kube-system/kube-proxy — rollout").nth(1).unwrap_or("");
    assert!(!s.contains("STALLED") && !detail.contains("ETA"), "no pace for what is not rolling out:\n{s}");
    assert!(s.contains("✔ not rolling out: all 50 desired node(s) run revision 1 (1 not available"), "{s}");
    // No rollout budget for what is not rolling out, and no row marked as if it were shown.
    assert!(!detail.contains("unavail.") && !s.contains("▶"), "{s}");
}

/// Below 150 columns NODE SELECTOR and AGE are dropped: from the header too, so every
/// title stays above its own cells.
#[test]
fn the_daemonsets_header_matches_its_columns_when_narrow() {
    let mut app = app_from(&demo());
    let s = screen(&mut app, 120, 35);
    let header = s.lines().nth(2).unwrap();
    assert!(!header.contains("NODE SELECTOR") && !header.split_whitespace().any(|w| w == "AGE"), "{header}");
    let col = |l: &str, w: &str| l[..l.find(w).unwrap_or_else(|| panic!("{w} in {l}"))].chars().count();
    let row = s.lines().find(|l| l.contains("│monitoring ")).unwrap_or_else(|| panic!("{s}"));
    assert_eq!(col(header, "COVERAGE"), col(row, "██"), "COVERAGE above the bars:\n{s}");
    assert_eq!(col(header, "HEALTH"), col(row, "✖ failing"), "HEALTH above the health:\n{s}");
}

/// Broken is not outdated: the matrix's "bad" column and the nodes view's NOT FINE count
/// only broken daemons (failing, missing, starting, misscheduled, terminating); outdated
/// pods (cilium's OnDelete rollout, on every node) have their own column, and a down
/// node's daemons are neither.
#[test]
fn matrix_and_nodes_count_broken_daemons_apart_from_outdated() {
    let mut app = app_from(&demo());
    key(&mut app, KeyCode::Char('m'));
    let s = screen(&mut app, 160, 40);
    let row = |name: &str| s.lines().find(|l| l.starts_with(&format!("│{name} "))).unwrap_or_else(|| panic!("{name}: {s}")).to_string();
    let counts = |name: &str| {
        let r = row(name);
        let after = &r[r.find(name).unwrap() + name.len()..];
        after.split_whitespace().take(2).map(str::to_string).collect::<Vec<_>>()
    };
    let header = s.lines().find(|l| l.starts_with("│NODE ")).unwrap_or_else(|| panic!("{s}"));
    assert!(header.split_whitespace().take(3).eq(["│NODE", "bad", "old"]), "{s}");
    // The crash loop is broken; its cilium pod is only outdated.
    assert_eq!(counts("general-c-0003"), ["1", "1"], "{s}");
    // Only outdated: nothing broken.
    assert_eq!(counts("general-a-0001"), ["-", "1"], "{s}");
    assert_eq!(counts("control-plane-1"), ["-", "1"], "{s}");
    // Down: its daemons are neither broken nor outdated.
    assert_eq!(counts("general-b-0005"), ["-", "-"], "{s}");
    // Per DaemonSet: cilium (column 1) has 0 broken and 49 outdated; node-exporter (7) 1 broken.
    let (broken, outdated) = (row("broken per DaemonSet"), row("outdated per DaemonSet"));
    let broken: Vec<&str> = broken.split_whitespace().skip(3).collect();
    let outdated: Vec<&str> = outdated.split_whitespace().skip(3).collect();
    assert_eq!(broken.first(), Some(&"0"), "{s}");
    assert_eq!(broken.get(6), Some(&"1"), "{s}");
    assert_eq!(outdated.first(), Some(&"49"), "{s}");

    key(&mut app, KeyCode::Char('n'));
    let s = screen(&mut app, 200, 60);
    let header = s.lines().nth(2).unwrap_or("");
    assert!(header.contains("NOT FINE") && header.contains(" OLD "), "{header}");
    let row = |name: &str| s.lines().find(|l| l.contains(name)).unwrap_or_else(|| panic!("{name}: {s}")).to_string();
    let c3 = row("general-c-0003");
    assert!(c3.contains("✖node-exporter") && !c3.contains("◐cilium") && c3.contains("◐1"), "{c3}");
    let a1 = row("general-a-0001");
    assert!(!a1.contains("cilium") && a1.contains("◐1"), "outdated only: {a1}");
}

/// In the grouped grid, ↓/j and ↑/k move by row as drawn: every group is visited, also
/// one smaller than a row (zone b, with the NotReady node), and the column is kept where
/// the row is long enough.
#[test]
fn grid_rows_visit_every_group_with_j_and_k() {
    let mut app = app_from(&demo());
    typed(&mut app, "/node-exporter");
    key(&mut app, KeyCode::Enter);
    key(&mut app, KeyCode::Enter);
    assert_eq!(app.view(), View::Grid);
    let zone_of_cursor = |app: &Ui| {
        let name = app.cursor_node().expect("a node under the cursor").to_string();
        let id = app.model().node_id(&name).unwrap();
        let zone = app.model().node(id).unwrap().facts.labels.get("topology.kubernetes.io/zone").cloned().unwrap_or_default();
        (zone, name)
    };
    for (w, h) in [(150, 40), (120, 35), (80, 24)] {
        key(&mut app, KeyCode::Char('g'));
        let s = screen(&mut app, w, h);
        let groups: Vec<String> = s
            .lines()
            .filter_map(|l| l.strip_prefix("│topology.kubernetes.io/zone=").or_else(|| l.strip_prefix("│zone=")))
            .map(|rest| rest.split([' ', '│']).next().unwrap().to_string())
            .collect();
        assert!(groups.len() >= 3, "{s}");
        let mut seen = vec![zone_of_cursor(&app)];
        for _ in 0..60 {
            key(&mut app, KeyCode::Char('j'));
            screen(&mut app, w, h);
            seen.push(zone_of_cursor(&app));
        }
        let mut zones: Vec<String> = seen.iter().map(|(z, _)| z.clone()).collect();
        zones.dedup();
        assert_eq!(zones, groups, "{w}×{h}: j visits every group in order: {seen:?}\n{s}");
        // And k back up, through every group again.
        let mut up = vec![zone_of_cursor(&app).0];
        for _ in 0..60 {
            key(&mut app, KeyCode::Char('k'));
            screen(&mut app, w, h);
            up.push(zone_of_cursor(&app).0);
        }
        up.dedup();
        let mut rev = groups.clone();
        rev.reverse();
        assert_eq!(up, rev, "{w}×{h}: k visits every group back");
    }
}

/// Narrow terminals drop the least important columns first, never the one that says which
/// DaemonSet a row is: at 80×24 NAMESPACE and NAME stay whole; narrower, the namespace
/// folds into `ns/name`.
#[test]
fn every_row_names_its_daemonset_at_every_width() {
    let mut app = app_from(&demo());
    for (w, h) in [(200, 50), (120, 35), (80, 24), (60, 20)] {
        let s = screen(&mut app, w, h);
        for (ns, name) in [("kube-system", "nvidia-device-plugin"), ("monitoring", "node-exporter"), ("logging", "fluent-bit")] {
            let whole = s.lines().any(|l| l.contains(&format!("{ns}/{name}")) || (l.contains(ns) && l.contains(&format!(" {name} "))));
            assert!(whole, "{w}×{h}: {ns}/{name} is named whole:\n{s}");
        }
        assert!(s.lines().any(|l| l.contains("✖ failing")), "{w}×{h}: the health column stays:\n{s}");
    }
}

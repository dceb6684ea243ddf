//! Views rendered with ratatui's TestBackend from a settled simulator: snapshots of the
//! screens an operator sees, at the demo's 50 nodes and at 5,000.

mod common;

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use daemonscope::model::{Change, DsInfo, NodeInfo, PodInfo};
use daemonscope::sim::Sim;
use daemonscope::ui::{App, Theme, View};
use k8s_openapi::api::apps::v1::DaemonSet;
use k8s_openapi::api::core::v1::{Node, Pod};
use ratatui::Terminal;
use ratatui::backend::TestBackend;

fn app_from(sim: &Sim) -> App {
    let mut app = App::new("test-context", Theme { color: false });
    for n in sim.store.list::<Node>(None).0 {
        app.model.apply(Change::Node(NodeInfo::from(&*n)));
    }
    for d in sim.store.list::<DaemonSet>(None).0 {
        app.model.apply(Change::DaemonSet(DsInfo::from(&*d)));
    }
    for p in sim.store.list::<Pod>(None).0 {
        if let Some(p) = PodInfo::from_pod(&p) {
            app.model.apply(Change::Pod(p));
        }
    }
    app
}

fn screen(app: &App, w: u16, h: u16) -> String {
    let mut t = Terminal::new(TestBackend::new(w, h)).unwrap();
    t.draw(|f| app.draw(f)).unwrap();
    let buf = t.backend().buffer().clone();
    let mut out = String::new();
    for y in 0..h {
        let line: String = (0..w).map(|x| buf[(x, y)].symbol().to_string()).collect();
        out.push_str(line.trim_end());
        out.push('\n');
    }
    out
}

fn key(app: &mut App, c: KeyCode) {
    app.on_key(KeyEvent::new(c, KeyModifiers::NONE));
}

fn typed(app: &mut App, s: &str) {
    for ch in s.chars() {
        key(app, KeyCode::Char(ch));
    }
}

fn demo() -> Sim {
    let text = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/assets/scenarios/demo.yaml")).unwrap();
    let mut sim = common::build(&text);
    // The demo's timeline (cilium image bump at 0 s, a node NotReady at 5 s) applied now.
    for a in common::scenario(&text).timeline.iter().filter(|t| t.at.as_secs() <= 5) {
        sim.apply(&a.action).unwrap();
    }
    for _ in 0..3 {
        sim.advance(1);
    }
    sim
}

/// Snapshot with generated pod-name suffixes redacted.
fn snapshot(name: &str, s: &str) {
    let mut settings = insta::Settings::clone_current();
    settings.add_filter(r"-[bcdfghjklmnpqrstvwxz2456789]{5}\b", "-xxxxx");
    settings.bind(|| insta::assert_snapshot!(name, s));
}

#[test]
fn daemonsets_view() {
    let app = app_from(&demo());
    let s = screen(&app, 150, 16);
    assert!(s.contains("DaemonSets (8)"));
    assert!(s.lines().any(|l| l.contains("node-exporter") && l.contains("✖ failing")), "{s}");
    assert!(s.lines().any(|l| l.contains("cilium") && l.contains("OnDelete") && l.contains("◐ outdated")), "{s}");
    snapshot("daemonsets_demo", &s);
}

fn open_grid_on(app: &mut App, ds: &str, node: &str) -> String {
    key(app, KeyCode::Char('/'));
    typed(app, ds);
    key(app, KeyCode::Enter);
    key(app, KeyCode::Enter);
    assert_eq!(app.view, View::Grid);
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
    let s = screen(&app, 150, 40);
    for zone in ["eu-west-1a", "eu-west-1b", "eu-west-1c"] {
        assert!(
            s.lines().any(|l| l.contains(&format!("topology.kubernetes.io/zone={zone}")) && (l.contains("nodes)") || l.contains("node)"))),
            "{s}"
        );
    }
    key(&mut app, KeyCode::Char('z'));
    let s = screen(&app, 150, 40);
    assert!(s.contains("pool=gpu"), "grouped by pool after z: {s}");
}

#[test]
fn help_lists_every_key_of_the_view() {
    let mut app = app_from(&demo());
    key(&mut app, KeyCode::Char('?'));
    let s = screen(&app, 120, 30);
    for b in daemonscope::ui::keymap::bindings_for(View::DaemonSets) {
        assert!(s.contains(b.help), "help shows {:?}: {s}", b.help);
    }
    key(&mut app, KeyCode::Esc);
    assert!(!app.show_help);
}

#[test]
fn tiny_terminals_get_a_notice_not_a_crash() {
    let app = app_from(&demo());
    let s = screen(&app, 40, 8);
    assert!(s.contains("terminal too small"), "{s}");
    for (w, h) in [(1, 1), (2, 40), (200, 2)] {
        screen(&app, w, h);
    }
}

#[test]
fn five_thousand_nodes_stay_readable() {
    let sc = daemonscope::sim::generator::scenario(5000, 3);
    let sim = Sim::build(&sc, daemonscope::sim::SimOptions::from_scenario(&sc)).unwrap();
    let mut app = app_from(&sim);
    key(&mut app, KeyCode::Enter);
    let s = screen(&app, 160, 48);
    // Dense cells: one column per node, three zone groups with a summary each.
    assert!(s.lines().filter(|l| l.contains("topology.kubernetes.io/zone=")).count() >= 1, "{s}");
    assert!(s.contains("ready 5000"), "{s}");
    snapshot("grid_5000_nodes", &s);
}

#[test]
fn matrix_puts_the_broken_nodes_first_and_opens_the_grid_there() {
    let mut app = app_from(&demo());
    key(&mut app, KeyCode::Char('m'));
    assert_eq!(app.view, View::Matrix);
    let s = screen(&app, 160, 40);
    assert!(s.contains("node × DaemonSet (50 nodes, 8 DaemonSets; most problems first)"), "{s}");
    // The NotReady node lacks several daemons: it tops the list.
    let first_row = s.lines().nth(3).unwrap_or("");
    assert!(first_row.contains("general-b-0005"), "first row: {first_row}\n{s}");
    assert!(s.contains("not fine per DaemonSet"), "{s}");
    // The legend names every column.
    assert!(s.contains(" 7 monitoring/node-exporter"), "{s}");
    // Enter opens that DaemonSet's grid with the cursor on that node.
    for _ in 0..6 {
        key(&mut app, KeyCode::Char('l'));
    }
    key(&mut app, KeyCode::Enter);
    assert_eq!(app.view, View::Grid);
    assert_eq!(app.selected.as_ref().map(|(_, n)| n.as_str()), Some("node-exporter"));
    assert_eq!(app.cursor_node().and_then(|id| app.model.node(id)).map(|n| n.name.as_str()), Some("general-b-0005"));
}

//! Every view and popup at the three sizes operators use (80×24, a tmux split; 120×35;
//! 200×50), as ratatui TestBackend snapshots, each with the checks a snapshot alone would
//! not make (identifying columns present, header above its cells, nothing cut); and the
//! operator's tools: the filter language, `]`/`[`, the line editor, the text search,
//! the hint bar that offers only keys that act, the read-only flash and the mouse. (The
//! key documentation is checked against the keymap in `tests/it/docs_keys.rs`.)

use crate::common;

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers, MouseButton, MouseEvent, MouseEventKind};
use daemonscope::cluster::jobs::{Effect, JobResult, Kind};
use daemonscope::cluster::watch::Update;
use daemonscope::model::Change;
use daemonscope::sim::Sim;
use daemonscope::ui::{App, Msg, Session, Theme, View};
use ratatui::Terminal;
use ratatui::backend::TestBackend;

const SIZES: [(u16, u16); 3] = [(80, 24), (120, 35), (200, 50)];

struct Ui {
    app: App,
    effects: Vec<Effect>,
}

impl Ui {
    fn send(&mut self, msg: Msg) {
        let fx = self.app.update(msg);
        self.effects.extend(fx);
    }
}

fn demo() -> Sim {
    common::demo_at(5, 3)
}

fn ui(sim: &Sim, session: Session) -> Ui {
    let mut ui = Ui { app: App::new("test-context", Theme::new(false)).with_session(session), effects: Vec::new() };
    ui.send(Msg::Watch(common::all_updates(sim)));
    ui
}

fn app(sim: &Sim) -> Ui {
    ui(sim, Session { contexts: vec!["test-context".into(), "staging".into()], ..Default::default() })
}

/// The screen as text ([`common::screen_text`]).
fn screen(ui: &mut Ui, w: u16, h: u16) -> String {
    let mut t = Terminal::new(TestBackend::new(w, h)).unwrap();
    t.draw(|f| ui.app.draw(f)).unwrap();
    common::screen_text(t.backend().buffer())
}

fn key(ui: &mut Ui, c: KeyCode) {
    ui.send(Msg::Key(KeyEvent::new(c, KeyModifiers::NONE)));
}

fn ctrl(ui: &mut Ui, c: char) {
    ui.send(Msg::Key(KeyEvent::new(KeyCode::Char(c), KeyModifiers::CONTROL)));
}

fn typed(ui: &mut Ui, s: &str) {
    for ch in s.chars() {
        key(ui, KeyCode::Char(ch));
    }
}

fn click(ui: &mut Ui, x: u16, y: u16) {
    ui.send(Msg::Mouse(MouseEvent { kind: MouseEventKind::Down(MouseButton::Left), column: x, row: y, modifiers: KeyModifiers::NONE }));
}

/// Snapshot with what changes from run to run redacted (besides `assert_screen!`'s): the
/// ages of the last events and of the new revision (`0s` is `1s` on a slow run).
fn snapshot(name: &str, s: &str) {
    assert_screen!(name, s, r"\b\d+s ago" => "Ns ago", r"elapsed \d+s" => "elapsed Ns");
}

/// The column (in chars) where `what` starts in `line`.
fn col(line: &str, what: &str) -> usize {
    line[..line.find(what).unwrap_or_else(|| panic!("{what:?} in {line}"))].chars().count()
}

fn line_with<'a>(s: &'a str, what: &str) -> &'a str {
    s.lines().find(|l| l.contains(what)).unwrap_or_else(|| panic!("a line with {what:?}:\n{s}"))
}

#[test]
fn daemonsets_at_every_size() {
    let sim = demo();
    let mut ui = app(&sim);
    for (w, h) in SIZES {
        let s = screen(&mut ui, w, h);
        for (ns, name) in [("kube-system", "nvidia-device-plugin"), ("monitoring", "node-exporter"), ("logging", "fluent-bit")] {
            let row = line_with(&s, name);
            assert!(row.contains(ns), "{w}×{h}: the row of {name} names its namespace:\n{s}");
        }
        let header = s.lines().nth(2).unwrap();
        let row = line_with(&s, "node-exporter");
        for (title, cell) in [(" NAME", " node-exporter"), ("COVERAGE", "█"), ("HEALTH", "✖ failing")] {
            assert_eq!(col(header, title), col(row, cell), "{w}×{h}: {title} above its cells:\n{s}");
        }
        snapshot(&format!("daemonsets_{w}x{h}"), &s);
    }
}

#[test]
fn grid_at_every_size_with_the_cursor_on_the_first_problem() {
    let sim = demo();
    let mut ui = app(&sim);
    typed(&mut ui, "/node-exporter");
    key(&mut ui, KeyCode::Enter);
    key(&mut ui, KeyCode::Enter);
    assert_eq!(ui.app.view(), View::Grid);
    // `]`: the next problem cell is the down node (zone b), then the crash loop (zone c).
    key(&mut ui, KeyCode::Char(']'));
    assert_eq!(ui.app.cursor_node(), Some("general-b-0005"));
    key(&mut ui, KeyCode::Char(']'));
    assert_eq!(ui.app.cursor_node(), Some("general-c-0003"));
    // Wrapping around, and `[` back.
    key(&mut ui, KeyCode::Char(']'));
    assert_eq!(ui.app.cursor_node(), Some("general-b-0005"));
    key(&mut ui, KeyCode::Char('['));
    assert_eq!(ui.app.cursor_node(), Some("general-c-0003"));
    for (w, h) in SIZES {
        let s = screen(&mut ui, w, h);
        assert!(s.contains("general-c-0003") && s.contains("✖ failing"), "{w}×{h}:\n{s}");
        // Every group's summary keeps its counts in view.
        assert_eq!(s.lines().filter(|l| l.contains("zone=eu-west-1") && l.contains("nodes)")).count(), 3, "{w}×{h}:\n{s}");
        snapshot(&format!("grid_{w}x{h}"), &s);
    }
}

#[test]
fn matrix_at_every_size_shows_every_daemonset_column() {
    let sim = demo();
    let mut ui = app(&sim);
    key(&mut ui, KeyCode::Char('m'));
    for (w, h) in SIZES {
        let s = screen(&mut ui, w, h);
        let header = line_with(&s, "bad old");
        for n in 1..=8 {
            assert!(header.split_whitespace().any(|x| x == n.to_string()), "{w}×{h}: column {n}:\n{s}");
        }
        assert!(s.lines().find(|l| l.starts_with("│general-c-0003")).is_some_and(|l| l.contains('✖')), "{w}×{h}:\n{s}");
        snapshot(&format!("matrix_{w}x{h}"), &s);
    }
    // `]` walks the problem cells row by row: the first is on the first row.
    key(&mut ui, KeyCode::Char(']'));
    screen(&mut ui, 120, 35);
    let first = ui.app.cursor_node().unwrap().to_string();
    key(&mut ui, KeyCode::Char('['));
    key(&mut ui, KeyCode::Char(']'));
    assert_eq!(ui.app.cursor_node(), Some(first.as_str()));
}

#[test]
fn nodes_at_every_size_keep_whole_names_and_what_is_not_fine() {
    let sim = demo();
    let mut ui = app(&sim);
    key(&mut ui, KeyCode::Char('n'));
    key(&mut ui, KeyCode::Char('s'));
    for (w, h) in SIZES {
        let s = screen(&mut ui, w, h);
        let row = line_with(&s, "general-c-0003");
        assert!(row.contains("✖node-exporter"), "{w}×{h}:\n{s}");
        assert!(line_with(&s, "general-b-0005").contains("⊘ node down (7)"), "{w}×{h}:\n{s}");
        let header = s.lines().nth(2).unwrap();
        for (title, cell) in [("NAME", "general-c-0003"), ("NOT FINE", "✖node-exporter")] {
            assert_eq!(col(header, title), col(row, cell), "{w}×{h}: {title} above its cells:\n{s}");
        }
        snapshot(&format!("nodes_{w}x{h}"), &s);
    }
    // `]` in a list: the next row with a problem.
    key(&mut ui, KeyCode::Char('g'));
    key(&mut ui, KeyCode::Char(']'));
    assert_eq!(ui.app.cursor_node(), Some("general-b-0005"));
    key(&mut ui, KeyCode::Char(']'));
    assert_eq!(ui.app.cursor_node(), Some("general-c-0003"));
}

/// `]` in the rollout list: the rollout with a broken daemon (fluent-bit's pod being
/// replaced, a second after its update), not the OnDelete one that only waits.
#[test]
fn next_problem_in_the_rollout_list() {
    let text = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/assets/scenarios/demo.yaml")).unwrap();
    let mut sim = common::build(&text);
    for a in common::scenario(&text).timeline.iter().filter(|t| t.at.as_secs() <= 8) {
        sim.apply(&a.action).unwrap();
    }
    sim.advance(1);
    let mut ui = app(&sim);
    key(&mut ui, KeyCode::Char('r'));
    assert_eq!(ui.app.selected().map(|d| d.name.as_str()), Some("cilium"));
    let s = screen(&mut ui, 200, 50);
    assert!(s.contains("logging/fluent-bit"), "fluent-bit rolling:\n{s}");
    let fb = ui.app.model().daemonset("logging", "fluent-bit").unwrap();
    let cov = ui.app.model().coverage(fb).unwrap();
    assert!(cov.cells.iter().any(|c| c.is_broken()), "a new pod not ready yet (or an old one terminating)");
    key(&mut ui, KeyCode::Char(']'));
    let picked = ui.app.selected().map(|d| d.name.clone());
    assert_eq!(picked.as_deref(), Some("fluent-bit"), "{}", screen(&mut ui, 200, 50));
    key(&mut ui, KeyCode::Char(']'));
    assert_eq!(ui.app.selected().map(|d| d.name.as_str()), Some("fluent-bit"), "the only one: it stays");
}

#[test]
fn rollout_at_every_size_keeps_its_state_column() {
    let sim = demo();
    let mut ui = app(&sim);
    key(&mut ui, KeyCode::Char('r'));
    assert_eq!(ui.app.view(), View::Rollout);
    for (w, h) in SIZES {
        let s = screen(&mut ui, w, h);
        let header = line_with(&s, "DAEMONSET");
        let row = line_with(&s, "kube-system/cilium ");
        assert!(row.contains("waiting for pod deletions"), "{w}×{h}: STATE stays:\n{s}");
        assert_eq!(col(header, "STATE"), col(row, "waiting for pod deletions"), "{w}×{h}:\n{s}");
        assert_eq!(col(header, "UPDATED"), col(row, "░"), "{w}×{h}:\n{s}");
        snapshot(&format!("rollout_{w}x{h}"), &s);
    }
}

#[test]
fn details_and_text_at_every_size() {
    let sim = demo();
    let mut ui = app(&sim);
    typed(&mut ui, "/node-exporter");
    key(&mut ui, KeyCode::Enter);
    key(&mut ui, KeyCode::Char('d'));
    for (w, h) in SIZES {
        let s = screen(&mut ui, w, h);
        assert!(s.contains("DaemonSet monitoring/node-exporter"), "{w}×{h}:\n{s}");
        snapshot(&format!("detail_daemonset_{w}x{h}"), &s);
    }
    // `d` describes wherever a node or pod is under the cursor: the grid's pod, the node.
    key(&mut ui, KeyCode::Esc);
    key(&mut ui, KeyCode::Enter);
    typed(&mut ui, "/general-b-0005");
    key(&mut ui, KeyCode::Enter);
    key(&mut ui, KeyCode::Char('d'));
    assert_eq!(ui.app.view(), View::Detail);
    assert!(ui.effects.iter().any(|e| matches!(e, Effect::Events { object, .. } if object.kind == Kind::Pod)), "{:?}", ui.effects);
    for (w, h) in SIZES {
        let s = screen(&mut ui, w, h);
        assert!(s.contains("Pod monitoring/node-exporter-"), "{w}×{h}:\n{s}");
        snapshot(&format!("detail_pod_{w}x{h}"), &s);
    }
    ui.send(Msg::Key(KeyEvent::new(KeyCode::Char(':'), KeyModifiers::NONE)));
    typed(&mut ui, "nodes");
    key(&mut ui, KeyCode::Enter);
    typed(&mut ui, "/general-b-0005");
    key(&mut ui, KeyCode::Enter);
    ui.effects.clear();
    key(&mut ui, KeyCode::Char('d'));
    assert!(ui.effects.iter().any(|e| matches!(e, Effect::Events { object, .. } if object.kind == Kind::Node)), "{:?}", ui.effects);
    for (w, h) in SIZES {
        let s = screen(&mut ui, w, h);
        assert!(s.contains("Node general-b-0005"), "{w}×{h}:\n{s}");
        snapshot(&format!("detail_node_{w}x{h}"), &s);
    }
    ui.effects.clear();
    key(&mut ui, KeyCode::Char('y'));
    let Some(Effect::Yaml { seq, .. }) = ui.effects.iter().find(|e| matches!(e, Effect::Yaml { .. })).cloned() else {
        panic!("{:?}", ui.effects)
    };
    let yaml: Vec<String> = (0..60).map(|i| format!("line {i}: {}", "x".repeat(i * 3))).collect();
    ui.send(Msg::Job(JobResult::Text { seq, lines: yaml, append: false }));
    for (w, h) in SIZES {
        let s = screen(&mut ui, w, h);
        assert!(s.contains("line 0:"), "{w}×{h}:\n{s}");
        snapshot(&format!("text_{w}x{h}"), &s);
    }
}

/// The help at 80×24 is cut nowhere: scrolling through it shows every word of every
/// entry, and each line of it ends inside its box.
#[test]
fn help_at_every_size_scrolls_and_is_cut_nowhere() {
    let sim = demo();
    let mut ui = app(&sim);
    key(&mut ui, KeyCode::Char('?'));
    for (w, h) in SIZES {
        key(&mut ui, KeyCode::Char('g'));
        let s = screen(&mut ui, w, h);
        snapshot(&format!("help_{w}x{h}"), &s);
        let mut seen = s.clone();
        for _ in 0..20 {
            key(&mut ui, KeyCode::PageDown);
            seen.push_str(&screen(&mut ui, w, h));
        }
        for b in daemonscope::ui::keymap::bindings_for(View::DaemonSets, false) {
            for word in b.help.split_whitespace() {
                assert!(seen.contains(word), "{w}×{h}: {word:?} of {:?} is shown", b.help);
            }
        }
        for c in daemonscope::ui::keymap::COMMANDS {
            assert!(seen.contains(&c.usage()), "{w}×{h}: {} is shown", c.usage());
        }
        // The last page: the last command's line, inside the box.
        let last = screen(&mut ui, w, h);
        assert!(last.lines().any(|l| l.contains(":q ") && l.ends_with('│')), "{w}×{h}:\n{last}");
    }
    // j/k move by a line; the title says where.
    key(&mut ui, KeyCode::Char('g'));
    key(&mut ui, KeyCode::Char('j'));
    assert!(screen(&mut ui, 80, 24).contains("help — lines 2–"), "{}", screen(&mut ui, 80, 24));
    key(&mut ui, KeyCode::Char('k'));
    assert!(screen(&mut ui, 80, 24).contains("help — lines 1–"));
    key(&mut ui, KeyCode::Esc);
    assert!(!ui.app.help_open());
}

/// Thirty marked nodes: the impact list scrolls, says how many more follow, and the
/// `y confirm / n cancel` line stays at every size.
#[test]
fn a_long_confirmation_scrolls_and_keeps_its_answer_line() {
    let sim = demo();
    let mut ui = app(&sim);
    key(&mut ui, KeyCode::Char('n'));
    for _ in 0..30 {
        key(&mut ui, KeyCode::Char(' '));
    }
    assert_eq!(ui.app.marks().len(), 30);
    key(&mut ui, KeyCode::Char('c'));
    let total = ui.app.confirm().unwrap().lines.len();
    for (w, h) in SIZES {
        let s = screen(&mut ui, w, h);
        assert!(s.contains("y confirm") && s.contains("n / Esc cancel"), "{w}×{h}:\n{s}");
        if h < 50 {
            let more = line_with(&s, "…and ");
            let n: usize = more.split("…and ").nth(1).unwrap().split(' ').next().unwrap().parse().unwrap();
            let shown = s.lines().filter(|l| l.contains("spec.unschedulable false → true")).count();
            assert!(n > 0 && shown > 0, "{w}×{h}:\n{s}");
            assert_eq!(shown + n, total, "{shown} shown + {n} more of {total} lines:\n{s}");
        }
        snapshot(&format!("confirm_cordon_30_{w}x{h}"), &s);
    }
    // Scrolled to the end, the last node is in view and the answer line still there.
    for _ in 0..10 {
        key(&mut ui, KeyCode::PageDown);
    }
    let s = screen(&mut ui, 80, 24);
    let last = ui.app.marks().iter().last().unwrap().clone();
    assert!(s.contains(&format!("node/{last}")) && s.contains("y confirm"), "{s}");
    key(&mut ui, KeyCode::Char('n'));
    assert!(ui.app.confirm().is_none());
}

#[test]
fn picker_and_prompts_at_every_size() {
    let sim = demo();
    let mut ui = app(&sim);
    typed(&mut ui, ":ctx");
    key(&mut ui, KeyCode::Enter);
    for (w, h) in SIZES {
        let s = screen(&mut ui, w, h);
        assert!(s.contains("* test-context") && s.contains("staging"), "{w}×{h}:\n{s}");
        snapshot(&format!("picker_context_{w}x{h}"), &s);
    }
    key(&mut ui, KeyCode::Esc);
    typed(&mut ui, "/state:failing");
    for (w, h) in SIZES {
        let s = screen(&mut ui, w, h);
        assert!(s.lines().last().unwrap().starts_with("/state:failing▏"), "{w}×{h}:\n{s}");
        snapshot(&format!("filter_prompt_{w}x{h}"), &s);
    }
}

fn rows_named(s: &str, names: &[&str]) -> Vec<String> {
    names
        .iter()
        .filter(|n| s.lines().any(|l| l.contains(&format!(" {n} ")) || l.contains(&format!("/{n} "))))
        .map(|n| n.to_string())
        .collect()
}

#[test]
fn the_filter_language_finds_problems() {
    let sim = demo();
    let mut ui = app(&sim);
    let all = ["cilium", "ebs-csi-node", "kube-proxy", "node-local-dns", "nvidia-device-plugin", "fluent-bit", "node-exporter", "falco"];
    let filter = |ui: &mut Ui, f: &str| {
        key(ui, KeyCode::Esc);
        key(ui, KeyCode::Char('/'));
        typed(ui, f);
        key(ui, KeyCode::Enter);
        screen(ui, 200, 50)
    };
    let s = filter(&mut ui, "state:failing");
    assert_eq!(rows_named(&s, &all), ["node-exporter"], "{s}");
    // The demo's tainted node (dedicated=infra) is untolerated by three DaemonSets.
    let s = filter(&mut ui, "reason:taint");
    assert_eq!(rows_named(&s, &all), ["ebs-csi-node", "node-local-dns", "fluent-bit"], "{s}");
    let s = filter(&mut ui, "ns:logging");
    assert_eq!(rows_named(&s, &all), ["fluent-bit"], "{s}");
    let s = filter(&mut ui, "ns:kube-system state:outdated");
    assert_eq!(rows_named(&s, &all), ["cilium"], "{s}");
    let s = filter(&mut ui, "exporter");
    assert_eq!(rows_named(&s, &all), ["node-exporter"], "plain text as before: {s}");
    // A term that cannot be read matches nothing, and says why while typed.
    key(&mut ui, KeyCode::Char('/'));
    typed(&mut ui, " state:sad");
    let s = screen(&mut ui, 200, 50);
    assert!(s.lines().last().unwrap().contains("state:sad? (ready outdated"), "{s}");
    assert!(s.contains("no DaemonSet matches the filter"), "{s}");
    key(&mut ui, KeyCode::Esc);
    // Node labels, in the nodes view: the GPU pool, as a term and as plain `key=value`.
    key(&mut ui, KeyCode::Char('n'));
    for f in ["label:pool=gpu", "pool=gpu"] {
        key(&mut ui, KeyCode::Char('/'));
        typed(&mut ui, f);
        key(&mut ui, KeyCode::Enter);
        let s = screen(&mut ui, 200, 50);
        let rows: Vec<&str> = s.lines().filter(|l| l.contains(" Ready") || l.contains("NotReady")).collect();
        assert!(!rows.is_empty() && rows.iter().all(|l| l.contains(" gpu ")), "{f}: {s}");
        let gpu = sim
            .store
            .list::<k8s_openapi::api::core::v1::Node>(None)
            .0
            .iter()
            .filter(|n| n.metadata.labels.as_ref().unwrap().get("pool").is_some_and(|p| p == "gpu"))
            .count();
        assert_eq!(rows.len(), gpu, "{f}: {s}");
        key(&mut ui, KeyCode::Esc);
    }
    key(&mut ui, KeyCode::Char('/'));
    typed(&mut ui, "state:failing");
    key(&mut ui, KeyCode::Enter);
    let s = screen(&mut ui, 200, 50);
    let rows: Vec<&str> = s.lines().filter(|l| l.contains(" Ready") || l.contains("NotReady")).collect();
    assert_eq!(rows.len(), 1, "{s}");
    assert!(rows[0].contains("general-c-0003"), "{s}");
}

#[test]
fn the_line_editor_moves_and_deletes_and_completes() {
    let sim = demo();
    let mut ui = app(&sim);
    // The line as typed (what follows two spaces is the completion shown after it).
    let full = |ui: &mut Ui| screen(ui, 120, 35).lines().last().unwrap().to_string();
    let last = |ui: &mut Ui| full(ui).split("  ").next().unwrap().to_string();
    key(&mut ui, KeyCode::Char('/'));
    typed(&mut ui, "fluent-bit xyz");
    assert!(screen(&mut ui, 120, 35).contains("DaemonSets (0)"));
    ctrl(&mut ui, 'w');
    assert_eq!(last(&mut ui), "/fluent-bit ▏");
    assert!(screen(&mut ui, 120, 35).contains("DaemonSets (1)"));
    ctrl(&mut ui, 'u');
    assert_eq!(last(&mut ui), "/▏");
    typed(&mut ui, "bit");
    ctrl(&mut ui, 'a');
    typed(&mut ui, "fluent-");
    assert_eq!(last(&mut ui), "/fluent-▏bit");
    ctrl(&mut ui, 'k');
    ctrl(&mut ui, 'e');
    key(&mut ui, KeyCode::Left);
    key(&mut ui, KeyCode::Backspace);
    assert_eq!(last(&mut ui), "/fluen▏-");
    key(&mut ui, KeyCode::Esc);
    // Tab completes commands (one candidate: the whole name), their arguments, and
    // lists several.
    typed(&mut ui, ":na");
    key(&mut ui, KeyCode::Tab);
    assert_eq!(last(&mut ui), ":namespace ▏");
    typed(&mut ui, "mon");
    key(&mut ui, KeyCode::Tab);
    assert_eq!(last(&mut ui), ":namespace monitoring ▏");
    key(&mut ui, KeyCode::Esc);
    typed(&mut ui, ":ctx ");
    key(&mut ui, KeyCode::Tab);
    assert!(full(&mut ui).contains("Tab: test-context  staging"), "{}", full(&mut ui));
    typed(&mut ui, "st");
    key(&mut ui, KeyCode::Tab);
    assert_eq!(last(&mut ui), ":ctx staging ▏");
    key(&mut ui, KeyCode::Esc);
    // DaemonSet names in the filter.
    typed(&mut ui, "/node-e");
    key(&mut ui, KeyCode::Tab);
    assert_eq!(last(&mut ui), "/node-exporter ▏");
    key(&mut ui, KeyCode::Esc);
    typed(&mut ui, "/state:fa");
    key(&mut ui, KeyCode::Tab);
    assert_eq!(last(&mut ui), "/state:failing ▏");
    key(&mut ui, KeyCode::Esc);
    // ↑/↓: the history of `:` commands.
    for c in [":nodes", ":matrix", ":ds"] {
        typed(&mut ui, c);
        key(&mut ui, KeyCode::Enter);
    }
    assert_eq!(ui.app.command_history(), ["nodes", "matrix", "ds"]);
    typed(&mut ui, ":x");
    key(&mut ui, KeyCode::Up);
    assert_eq!(last(&mut ui), ":ds▏");
    key(&mut ui, KeyCode::Up);
    key(&mut ui, KeyCode::Up);
    assert_eq!(last(&mut ui), ":nodes▏");
    key(&mut ui, KeyCode::Up);
    assert_eq!(last(&mut ui), ":nodes▏");
    key(&mut ui, KeyCode::Down);
    assert_eq!(last(&mut ui), ":matrix▏");
    key(&mut ui, KeyCode::Down);
    key(&mut ui, KeyCode::Down);
    assert_eq!(last(&mut ui), ":x▏", "below the newest: what was typed");
    ctrl(&mut ui, 'u');
    key(&mut ui, KeyCode::Up);
    key(&mut ui, KeyCode::Up);
    key(&mut ui, KeyCode::Enter);
    assert_eq!(ui.app.view(), View::Matrix);
    // The label editor is the same editor.
    key(&mut ui, KeyCode::Char('n'));
    key(&mut ui, KeyCode::Char('e'));
    typed(&mut ui, "tier=a disk");
    ctrl(&mut ui, 'w');
    typed(&mut ui, "acc");
    key(&mut ui, KeyCode::Tab);
    assert!(full(&mut ui).starts_with("labels for 1 node(s): tier=a accelerator ▏"), "{}", full(&mut ui));
}

#[test]
fn the_log_search_finds_and_wrap_wraps() {
    let sim = demo();
    let mut ui = app(&sim);
    typed(&mut ui, "/node-exporter");
    key(&mut ui, KeyCode::Enter);
    key(&mut ui, KeyCode::Enter);
    typed(&mut ui, "/general-a-0001");
    key(&mut ui, KeyCode::Enter);
    ui.effects.clear();
    key(&mut ui, KeyCode::Char('l'));
    let Some(Effect::Logs { seq, previous: false, .. }) = ui.effects.iter().find(|e| matches!(e, Effect::Logs { .. })).cloned() else {
        panic!("{:?}", ui.effects)
    };
    let mut lines: Vec<String> = (0..200).map(|i| format!("level=info msg=\"scrape {i}\"")).collect();
    lines[40] = "level=error msg=\"disk full\"".into();
    lines[150] = "level=ERROR msg=\"disk full again\"".into();
    lines[199] = format!("level=info msg=\"{}END\"", "long ".repeat(40));
    ui.send(Msg::Job(JobResult::Text { seq, lines, append: true }));
    typed(&mut ui, "/error");
    let s = screen(&mut ui, 120, 35);
    assert!(s.lines().nth(2).unwrap().contains("disk full\""), "the first match is the top line:\n{s}");
    assert!(s.contains("/error: 2 line(s)"), "{s}");
    key(&mut ui, KeyCode::Enter);
    key(&mut ui, KeyCode::Char('n'));
    assert!(screen(&mut ui, 120, 35).lines().nth(2).unwrap().contains("disk full again"));
    key(&mut ui, KeyCode::Char('n'));
    assert!(screen(&mut ui, 120, 35).lines().nth(2).unwrap().contains("disk full\""), "wraps around");
    key(&mut ui, KeyCode::Char('N'));
    assert!(screen(&mut ui, 120, 35).lines().nth(2).unwrap().contains("disk full again"));
    // Wrap: the long last line is cut, then shown whole.
    key(&mut ui, KeyCode::Char('G'));
    assert!(!screen(&mut ui, 120, 35).contains("END"));
    key(&mut ui, KeyCode::Char('w'));
    let s = screen(&mut ui, 120, 35);
    assert!(s.contains("END") && s.contains("wrapped"), "{s}");
    snapshot("log_search_wrapped_120x35", &s);
}

#[test]
fn l_on_a_waiting_container_offers_the_previous_log() {
    let sim = demo();
    let mut ui = app(&sim);
    typed(&mut ui, "/node-exporter");
    key(&mut ui, KeyCode::Enter);
    key(&mut ui, KeyCode::Enter);
    typed(&mut ui, "/general-c-0003");
    key(&mut ui, KeyCode::Enter);
    // The crash-looping pod between two runs: its container waits in CrashLoopBackOff.
    let uid =
        ui.app.model().pods_of(ui.app.selected().unwrap()).find(|p| p.node.as_deref() == Some("general-c-0003")).unwrap().uid.to_string();
    let mut pod = ui.app.model().pod(&uid).unwrap().clone();
    for c in &mut pod.containers {
        c.waiting = Some(Box::new(("CrashLoopBackOff".into(), "back-off 40s restarting failed container".into())));
        c.running = false;
        c.restarts = 4;
    }
    ui.send(Msg::Watch(vec![Update::Change(Change::Pod(pod.clone()))]));
    ui.effects.clear();
    key(&mut ui, KeyCode::Char('l'));
    assert!(
        ui.effects.iter().any(|e| matches!(e, Effect::Logs { previous: true, pod: p, .. } if *p == pod.name)),
        "the previous container's log: {:?}",
        ui.effects
    );
    let s = screen(&mut ui, 200, 50);
    assert!(s.contains("previous container's log (node-exporter is waiting: CrashLoopBackOff)"), "{s}");
    // The container crashed after the model last saw it: the API's 400 says it is
    // waiting, and the pane says what helps.
    key(&mut ui, KeyCode::Esc);
    ui.effects.clear();
    let mut running = pod.clone();
    for c in &mut running.containers {
        (c.waiting, c.running) = (None, true);
    }
    ui.send(Msg::Watch(vec![Update::Change(Change::Pod(running))]));
    key(&mut ui, KeyCode::Char('l'));
    let Some(Effect::Logs { seq, previous: false, .. }) = ui.effects.iter().find(|e| matches!(e, Effect::Logs { .. })).cloned() else {
        panic!("{:?}", ui.effects)
    };
    let message = format!("container \"node-exporter\" in pod \"{}\" is waiting to start: CrashLoopBackOff", pod.name);
    ui.send(Msg::Job(JobResult::Failed { seq: Some(seq), message }));
    let s = screen(&mut ui, 200, 50);
    assert!(s.contains("is waiting to start: CrashLoopBackOff — p shows the previous container's log"), "{s}");
    // Not started yet (never ran): no log to show, said at once, nothing requested.
    key(&mut ui, KeyCode::Esc);
    for c in &mut pod.containers {
        c.waiting = Some(Box::new(("ContainerCreating".into(), String::new())));
        c.restarts = 0;
    }
    ui.send(Msg::Watch(vec![Update::Change(Change::Pod(pod))]));
    ui.effects.clear();
    key(&mut ui, KeyCode::Char('l'));
    assert!(ui.effects.is_empty(), "{:?}", ui.effects);
    assert!(ui.app.message().unwrap_or_default().contains("no log yet: waiting to start (ContainerCreating)"), "{:?}", ui.app.message());
}

/// The hint bar offers only keys that act: a DaemonSet's detail has no node or pod under
/// the cursor, so no cordon, uncordon, edit, taint or logs; a node's detail has them.
#[test]
fn the_hint_bar_offers_only_keys_that_act() {
    let sim = demo();
    let mut ui = app(&sim);
    let hints = |ui: &mut Ui| screen(ui, 200, 50).lines().last().unwrap().to_string();
    let h = hints(&mut ui);
    assert!(h.contains("<r> rollout view") && h.contains("<R> restart"), "{h}");
    typed(&mut ui, "/node-exporter");
    key(&mut ui, KeyCode::Enter);
    key(&mut ui, KeyCode::Char('d'));
    let h = hints(&mut ui);
    for k in ["<c>", "<u>", "<e>", "<t>", "<l>"] {
        assert!(!h.contains(k), "{k} in the DaemonSet detail's hints: {h}");
    }
    assert!(h.contains("<y> YAML") && h.contains("<?> help"), "{h}");
    // The keys still answer when pressed.
    key(&mut ui, KeyCode::Char('c'));
    assert_eq!(ui.app.message(), Some("no node under the cursor (and none marked)"));
    key(&mut ui, KeyCode::Esc);
    key(&mut ui, KeyCode::Esc);
    key(&mut ui, KeyCode::Char('n'));
    key(&mut ui, KeyCode::Enter);
    let h = hints(&mut ui);
    for k in ["<c> cordon", "<u> uncordon", "<e> edit", "<t> taint"] {
        assert!(h.contains(k), "{k} in a node's detail: {h}");
    }
    // Narrow: the hints that do not fit go, `?` stays.
    let s = screen(&mut ui, 80, 24);
    let h = s.lines().last().unwrap();
    assert!(h.contains("<?> help") && h.chars().count() <= 80, "{h}");
}

#[test]
fn readonly_keys_answer_with_a_flash() {
    let sim = demo();
    let mut ui = ui(&sim, Session { readonly: true, ..Default::default() });
    key(&mut ui, KeyCode::Char('n'));
    for (k, what) in [('c', "cordon"), ('u', "uncordon"), ('e', "label editing"), ('t', "taint editing"), ('D', "drain")] {
        key(&mut ui, KeyCode::Char(k));
        assert_eq!(ui.app.message(), Some(format!("read-only: {what} is disabled").as_str()));
        assert!(ui.app.confirm().is_none() && ui.effects.is_empty());
    }
    key(&mut ui, KeyCode::Esc);
    key(&mut ui, KeyCode::Char('R'));
    assert_eq!(ui.app.message(), Some("read-only: restart is disabled"));
    typed(&mut ui, ":roll 2");
    key(&mut ui, KeyCode::Enter);
    assert_eq!(ui.app.message(), Some("read-only: restart is disabled"));
    assert!(ui.app.confirm().is_none() && ui.effects.is_empty());
}

#[test]
fn the_mouse_selects_scrolls_and_switches_views() {
    let sim = demo();
    let mut ui = app(&sim);
    let s = screen(&mut ui, 120, 35);
    // A click on a row selects it.
    let y = s.lines().position(|l| l.contains("node-exporter")).unwrap() as u16;
    click(&mut ui, 10, y);
    key(&mut ui, KeyCode::Enter);
    assert_eq!(ui.app.selected().map(|d| d.name.as_str()), Some("node-exporter"));
    assert_eq!(ui.app.view(), View::Grid);
    // A click on a cell of the grid puts the cursor there: the crash loop's cell.
    key(&mut ui, KeyCode::Char('g'));
    let s = screen(&mut ui, 120, 35);
    let (y, x) = s
        .lines()
        .enumerate()
        .filter(|(_, l)| !l.contains("failing") && !l.contains("zone="))
        .find_map(|(y, l)| l.chars().position(|c| c == '✖').map(|x| (y as u16, x as u16)))
        .unwrap_or_else(|| panic!("a ✖ cell:\n{s}"));
    click(&mut ui, x, y);
    assert_eq!(ui.app.cursor_node(), Some("general-c-0003"), "{s}");
    // The header's view names switch views.
    let top = screen(&mut ui, 120, 35).lines().next().unwrap().to_string();
    let x = col(&top, "rollout  nodes") + 10;
    click(&mut ui, x as u16, 0);
    assert_eq!(ui.app.view(), View::Nodes, "{top}");
    let x = col(&top, " matrix ") + 2;
    click(&mut ui, x as u16, 0);
    assert_eq!(ui.app.view(), View::Matrix);
    // The wheel moves the cursor.
    let before = ui.app.cursor_node().map(str::to_string);
    ui.send(Msg::Mouse(MouseEvent { kind: MouseEventKind::ScrollDown, column: 5, row: 5, modifiers: KeyModifiers::NONE }));
    screen(&mut ui, 120, 35);
    assert_ne!(ui.app.cursor_node().map(str::to_string), before);
    // Off (`--no-mouse`): clicks do nothing.
    ui.app.set_mouse(false);
    click(&mut ui, col(&top, " ds ") as u16 + 1, 0);
    assert_eq!(ui.app.view(), View::Matrix);
}

/// Node names longer than the column (cloud names often are) are shortened in the
/// middle: the end, where they differ, stays, so no two rows look alike.
#[test]
fn long_node_names_keep_the_part_that_differs() {
    let names: Vec<String> = (1..=12).map(|i| format!("general-purpose-workers-eu-west-1a-ip-10-0-100-{i}.internal")).collect();
    let refs: Vec<&str> = names.iter().map(String::as_str).collect();
    let mut yaml = common::nodes_yaml(&refs);
    yaml.push_str(&common::ds_yaml("agent", "{type: RollingUpdate}"));
    let mut sim = common::build(&yaml);
    for _ in 0..3 {
        sim.advance(1);
    }
    let mut ui = app(&sim);
    for view in ['n', 'm'] {
        key(&mut ui, KeyCode::Esc);
        key(&mut ui, KeyCode::Char(view));
        for (w, h) in [(80, 24), (60, 20)] {
            let s = screen(&mut ui, w, h);
            let shown: Vec<&str> = s
                .lines()
                .filter_map(|l| l.split_whitespace().map(|w| w.trim_start_matches('│')).find(|word| word.starts_with("gen")))
                .filter(|word| word.contains('…'))
                .collect();
            assert_eq!(shown.len(), 12, "{view} at {w}×{h}: every row shortened in the middle:\n{s}");
            let distinct: std::collections::BTreeSet<&&str> = shown.iter().collect();
            assert_eq!(distinct.len(), 12, "{view} at {w}×{h}: the rows still differ:\n{s}");
            for (i, word) in shown.iter().enumerate() {
                let tail = word.rsplit('…').next().unwrap();
                assert!(names.iter().any(|n| n.ends_with(tail) && n.starts_with(word.split('…').next().unwrap())), "{word} ({i}):\n{s}");
            }
        }
    }
}

/// The DaemonSet tax: `s` twice in the nodes view sorts by DS REQ (the daemon pods'
/// requests over allocatable, the worse of cpu and memory), highest first; the node's
/// detail lists each DaemonSet's requests there.
#[test]
fn nodes_sorted_by_the_daemonset_tax_and_its_detail() {
    let sim = demo();
    let mut ui = app(&sim);
    key(&mut ui, KeyCode::Char('n'));
    key(&mut ui, KeyCode::Char('s'));
    key(&mut ui, KeyCode::Char('s'));
    for (w, h) in SIZES {
        let s = screen(&mut ui, w, h);
        assert!(s.contains("highest DS REQ first"), "{w}×{h}:\n{s}");
        let header = s.lines().nth(2).unwrap();
        if w >= 120 {
            // The column, its cells below it, highest first.
            let at = col(header, "DS REQ");
            let taxes: Vec<u64> = s
                .lines()
                .skip(3)
                .filter_map(|l| l.chars().skip(at).take(6).collect::<String>().trim().trim_end_matches('%').parse().ok())
                .collect();
            assert!(taxes.len() > 5, "{w}×{h}:\n{s}");
            assert!(taxes.windows(2).all(|p| p[0] >= p[1]), "{taxes:?}\n{s}");
        }
        snapshot(&format!("nodes_by_ds_req_{w}x{h}"), &s);
    }
    let top = ui.app.cursor_node().unwrap().to_string();
    key(&mut ui, KeyCode::Char('d'));
    let mut s = String::new();
    // Down to the section's end (the detail scrolls with ↓).
    for _ in 0..60 {
        s = screen(&mut ui, 120, 35);
        if s.contains("daemon pods' requests") && s.lines().any(|l| l.starts_with("│  all ")) {
            break;
        }
        key(&mut ui, KeyCode::Down);
    }
    assert!(s.contains(&format!("Node {top}")) || s.contains("daemon pods' requests (DS REQ; allocatable cpu"), "{s}");
    assert!(s.lines().any(|l| l.contains("monitoring/node-exporter") && l.contains("cpu 50m (1%)")), "{s}");
    assert!(line_with(&s, "│  all ").contains("memory "), "{s}");
    snapshot("detail_node_ds_req_120x35", &s);
}

/// What the demo holds, as a preflight reads it (the same facts `cluster::preflight`
/// gathers over the API, taken from the simulator's store directly).
fn preflight_facts(sim: &Sim) -> daemonscope::model::preflight::ClusterFacts {
    use daemonscope::k8s::fit;
    use daemonscope::model::preflight::verdict::{NodeRoom, PodOnNode};
    use k8s_openapi::api::core::v1::{Node, Pod};
    let pods = sim.store.list::<Pod>(None).0;
    let nodes = sim
        .store
        .list::<Node>(None)
        .0
        .iter()
        .map(|n| {
            let name = n.metadata.name.clone().unwrap_or_default();
            let pods = pods
                .iter()
                .filter(|p| fit::occupies(p) == Some(name.as_str()))
                .map(|p| {
                    let spec = p.spec.clone().unwrap_or_default();
                    PodOnNode {
                        name: format!(
                            "{}/{}",
                            p.metadata.namespace.clone().unwrap_or_default(),
                            p.metadata.name.clone().unwrap_or_default()
                        ),
                        priority: spec.priority.unwrap_or(0),
                        requests: fit::pod_requests(&spec),
                        ports: fit::host_ports(&spec),
                        owner_uid: p.metadata.owner_references.iter().flatten().find(|o| o.controller == Some(true)).map(|o| o.uid.clone()),
                        started: String::new(),
                        terms: Default::default(),
                    }
                })
                .collect();
            NodeRoom {
                facts: daemonscope::k8s::eligibility::NodeFacts::from_node(n),
                allocatable: fit::Resources::of(n.status.as_ref().and_then(|s| s.allocatable.as_ref())),
                pods,
                images: Default::default(),
                image_sizes: Vec::new(),
            }
        })
        .collect();
    let classes = sim
        .store
        .list::<k8s_openapi::api::scheduling::v1::PriorityClass>(None)
        .0
        .iter()
        .map(|c| (c.metadata.name.clone().unwrap_or_default(), (c.value, false)))
        .collect();
    let existing = sim
        .store
        .list::<k8s_openapi::api::apps::v1::DaemonSet>(None)
        .0
        .iter()
        .map(|d| {
            (format!("{}/{}", d.metadata.namespace.clone().unwrap_or_default(), d.metadata.name.clone().unwrap_or_default()), (**d).clone())
        })
        .collect();
    daemonscope::model::preflight::ClusterFacts { nodes, classes, default_priority: 0, existing }
}

/// `:preflight FILE`: a job is asked for the file, the view is marked WHAT IF — nothing
/// applied while it waits and once the verdicts come: the counts, the rollout of the
/// change, a cell per node and the nodes that would not fit or would preempt; Esc leaves.
#[test]
fn preflight_what_if_at_every_size() {
    let sim = demo();
    let mut ui = app(&sim);
    ui.send(Msg::Key(KeyEvent::new(KeyCode::Char(':'), KeyModifiers::NONE)));
    typed(&mut ui, "preflight /tmp/agents.yaml");
    ui.effects.clear();
    key(&mut ui, KeyCode::Enter);
    assert_eq!(ui.app.view(), View::WhatIf);
    let Some(Effect::Preflight { seq, path }) = ui.effects.iter().find(|e| matches!(e, Effect::Preflight { .. })).cloned() else {
        panic!("{:?}", ui.effects)
    };
    assert_eq!(path, std::path::PathBuf::from("/tmp/agents.yaml"));
    let s = screen(&mut ui, 80, 24);
    assert!(s.contains("WHAT IF — nothing applied") && s.contains("reading /tmp/agents.yaml and the cluster…"), "{s}");
    // Two DaemonSets: a new one too big for any general node, and a change of
    // node-exporter (system-node-critical, maxSurge 20 %) asking for nearly a whole node.
    let manifest = "apiVersion: apps/v1\nkind: DaemonSet\nmetadata: {name: big-agent, namespace: kube-system}\nspec:\n  selector: {matchLabels: {app: big}}\n  template:\n    metadata: {labels: {app: big}}\n    spec:\n      nodeSelector: {pool: general}\n      containers: [{name: a, image: registry.example/big:v1, resources: {requests: {cpu: 7700m}}}]\n---\n\
apiVersion: apps/v1\nkind: DaemonSet\nmetadata: {name: node-exporter, namespace: monitoring}\nspec:\n  selector: {matchLabels: {app.kubernetes.io/name: node-exporter}}\n  updateStrategy: {type: RollingUpdate, rollingUpdate: {maxSurge: 20%, maxUnavailable: 0}}\n  template:\n    metadata: {labels: {app.kubernetes.io/name: node-exporter}}\n    spec:\n      priorityClassName: system-node-critical\n      tolerations: [{operator: Exists}]\n      containers: [{name: node-exporter, image: quay.io/prometheus/node-exporter:v1.9.0, resources: {requests: {cpu: 7700m}}}]\n";
    let dir = tempfile::tempdir().unwrap();
    let f = dir.path().join("agents.yaml");
    std::fs::write(&f, manifest).unwrap();
    let dss = daemonscope::k8s::manifests::read_manifests(&[f]).unwrap();
    let facts = preflight_facts(&sim);
    let reports: Vec<_> = dss.iter().map(|d| daemonscope::model::preflight::evaluate(d, &facts).unwrap()).collect();
    // A stale answer is dropped; the one asked for is shown.
    ui.send(Msg::Job(JobResult::Preflight { seq: seq + 100, reports: Err("stale".into()) }));
    ui.send(Msg::Job(JobResult::Preflight { seq, reports: Ok(reports) }));
    for (w, h) in SIZES {
        let s = screen(&mut ui, w, h);
        assert!(s.contains("WHAT IF — nothing applied"), "{w}×{h}:\n{s}");
        assert!(s.contains("new DaemonSet kube-system/big-agent"), "{w}×{h}:\n{s}");
        assert!(s.contains("✖ would not fit"), "{w}×{h}:\n{s}");
        snapshot(&format!("whatif_{w}x{h}"), &s);
    }
    // The change's rollout: maxSurge 20 % of the targeted nodes.
    let mut all = String::new();
    for _ in 0..40 {
        all.push_str(&screen(&mut ui, 200, 50));
        key(&mut ui, KeyCode::PageDown);
    }
    assert!(all.contains("change of DaemonSet monitoring/node-exporter"), "{all}");
    assert!(all.contains("rollout (RollingUpdate, maxSurge 20% = "), "{all}");
    key(&mut ui, KeyCode::Esc);
    assert_eq!(ui.app.view(), View::DaemonSets);
}

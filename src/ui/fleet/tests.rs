//! The fleet app with `TestBackend`: the table, the cursor and the clusters' columns,
//! the help, `:ctx`, and (with the config's settings) keys, the filter, the sort and
//! the mouse.

use crossterm::event::{KeyCode, KeyEvent};
use ratatui::Terminal;
use ratatui::backend::TestBackend;

use super::*;
use crate::cluster::watch::{SyncState, Update};
use crate::model::{Change, Resource, fixtures};

/// A fleet of `n` live clusters, each with two nodes running `agent` (image `image(i)`).
fn fleet(n: usize, image: impl Fn(usize) -> &'static str) -> FleetApp {
    let contexts: Vec<String> = (0..n).map(|i| format!("cluster-{i}")).collect();
    let settings = Settings { theme: Theme::new(false), ..Settings::default() };
    let mut app = FleetApp::new(&contexts, &Session::default(), &settings);
    for i in 0..n {
        let mut ds = fixtures::daemonset("kube-system", "agent");
        ds.images = vec![image(i).to_string()];
        let mut batch: Vec<Update> = vec![Update::Change(Change::DaemonSet(ds.clone()))];
        for node in ["n1", "n2"] {
            batch.push(Update::Change(Change::Node(fixtures::node(node))));
            batch.push(Update::Change(Change::Pod(fixtures::pod(&ds, node, &format!("{i}-{node}")))));
        }
        batch.extend(Resource::ALL.iter().map(|r| Update::Sync(*r, SyncState::Live)));
        app.update(i, Msg::Watch(batch));
    }
    app
}

fn screen(app: &mut FleetApp, w: u16, h: u16) -> String {
    let mut t = Terminal::new(TestBackend::new(w, h)).unwrap();
    t.draw(|f| app.draw(f)).unwrap();
    let buf = t.backend().buffer().clone();
    (0..h).map(|y| (0..w).map(|x| buf[(x, y)].symbol().to_string()).collect::<String>() + "\n").collect()
}

fn key(app: &mut FleetApp, c: KeyCode) {
    app.key(KeyEvent::from(c));
}

#[test]
fn a_narrow_terminal_scrolls_the_clusters_with_the_cursor() {
    let mut app = fleet(4, |i| if i == 3 { "registry.example/agent:v0" } else { "registry.example/agent:v1" });
    let s = screen(&mut app, 80, 24);
    assert!(s.contains("cluster-0") && s.contains("cluster-1") && !s.contains("cluster-3        "), "{s}");
    assert!(s.contains("SKEW ▶") && s.contains("● 2/2") && s.contains("≠ image"), "{s}");
    for _ in 0..3 {
        key(&mut app, KeyCode::Right);
    }
    let s = screen(&mut app, 80, 24);
    assert!(s.contains("◀ more clusters") && s.lines().nth(2).unwrap().contains("cluster-3"), "{s}");
    assert_eq!(app.cursor(), (0, 3));
    key(&mut app, KeyCode::Right);
    assert_eq!(app.cursor(), (0, 3), "no column past the last");
    // Enter opens that cluster's grid of the row; Esc comes back to the same cell.
    key(&mut app, KeyCode::Enter);
    assert_eq!(app.focus(), Some(3));
    let s = screen(&mut app, 80, 24);
    assert!(s.contains("kube-system/agent — coverage by node") && s.contains("cluster-3"), "{s}");
    key(&mut app, KeyCode::Esc);
    assert_eq!((app.focus(), app.cursor()), (None, (0, 3)));
    // Too small is said, not drawn over.
    assert!(screen(&mut app, 40, 10).contains("terminal too small"));
}

#[test]
fn question_mark_opens_the_fleet_views_help_at_every_size() {
    let mut app = fleet(2, |_| "registry.example/agent:v1");
    assert!(!screen(&mut app, 120, 35).contains("keys — fleet view"));
    key(&mut app, KeyCode::Char('?'));
    for (w, h) in [(80, 24), (120, 35), (200, 50)] {
        let s = screen(&mut app, w, h);
        assert!(s.contains("keys — fleet view"), "{s}");
        for (k, _) in EXTRAS.iter().filter(|(k, _)| !k.is_empty()) {
            assert!(s.contains(k), "{k:?} missing at {w}×{h}:\n{s}");
        }
        for k in ["k ↑ j ↓", "← →", "Enter", "sort: worst first", "filter: name, context", "q Ctrl-c"] {
            assert!(s.contains(k), "{k:?} missing at {w}×{h}:\n{s}");
        }
        assert!(s.contains("back to the") && s.contains("cluster only") && s.contains(":ctx NAME"), "{s}");
    }
    // Keys go to the help while it is open: q closes it, and does not quit.
    key(&mut app, KeyCode::Char('q'));
    assert!(!app.quit());
    assert!(!screen(&mut app, 120, 35).contains("keys — fleet view"));
    key(&mut app, KeyCode::Char('?'));
    key(&mut app, KeyCode::Esc);
    assert!(!screen(&mut app, 120, 35).contains("keys — fleet view"));
}

#[test]
fn ctx_outside_the_fleet_is_refused_and_q_quits() {
    let mut app = fleet(2, |_| "registry.example/agent:v1");
    for c in ":ctx nowhere\r".chars() {
        key(&mut app, if c == '\r' { KeyCode::Enter } else { KeyCode::Char(c) });
    }
    assert_eq!((app.focus(), app.message()), (None, Some("context nowhere is not in this fleet")));
    for c in ":ctx cluster-1\r".chars() {
        key(&mut app, if c == '\r' { KeyCode::Enter } else { KeyCode::Char(c) });
    }
    assert_eq!(app.focus(), Some(1));
    // Inside a cluster, :ctx to a context outside the fleet is refused there too.
    for c in ":ctx nowhere\r".chars() {
        key(&mut app, if c == '\r' { KeyCode::Enter } else { KeyCode::Char(c) });
    }
    assert_eq!(app.focus(), Some(1));
    assert!(!app.quit());
    key(&mut app, KeyCode::Char('q'));
    assert!(app.quit());
}

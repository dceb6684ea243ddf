//! The fleet app with `TestBackend`: the table, the cursor and the clusters' columns,
//! the help, `:ctx`, and (with the config's settings) keys, the filter, the sort and
//! the mouse.

use crossterm::event::{KeyCode, KeyEvent, MouseEvent};
use ratatui::Terminal;
use ratatui::backend::TestBackend;

use super::*;
use crate::cluster::watch::{SyncState, Update};
use crate::model::fleet::Skew;
use crate::model::{Change, Resource, fixtures};

/// One DaemonSet in one cluster: its name, its template's image, the image its pods
/// run, and the nodes (of n1, n2) with a Ready pod of it.
struct Ds(&'static str, &'static str, &'static str, &'static [&'static str]);

/// A fleet of live clusters `cluster-0`… with nodes n1 and n2 and the DaemonSets given.
fn fleet_of(settings: &Settings, clusters: &[&[Ds]]) -> FleetApp {
    let contexts: Vec<String> = (0..clusters.len()).map(|i| format!("cluster-{i}")).collect();
    let mut app = FleetApp::new(&contexts, &Session::default(), settings);
    for (i, dss) in clusters.iter().enumerate() {
        let mut batch: Vec<Update> = ["n1", "n2"].iter().map(|n| Update::Change(Change::Node(fixtures::node(n)))).collect();
        for Ds(name, template, running, on) in dss.iter() {
            let mut ds = fixtures::daemonset("kube-system", name);
            ds.images = vec![template.to_string()];
            batch.push(Update::Change(Change::DaemonSet(ds.clone())));
            for node in on.iter() {
                let mut p = fixtures::pod(&ds, node, &format!("{i}-{name}-{node}"));
                p.containers[0].image = (*running).into();
                batch.push(Update::Change(Change::Pod(p)));
            }
        }
        batch.extend(Resource::ALL.iter().map(|r| Update::Sync(*r, SyncState::Live)));
        app.update(i, Msg::Watch(batch));
    }
    app
}

fn plain() -> Settings {
    Settings { theme: Theme::new(false), ..Settings::default() }
}

/// A fleet of `n` live clusters, each with two nodes running `agent` (image `image(i)`).
fn fleet(n: usize, image: impl Fn(usize) -> &'static str) -> FleetApp {
    let dss: Vec<[Ds; 1]> = (0..n).map(|i| [Ds("agent", image(i), image(i), &["n1", "n2"])]).collect();
    let clusters: Vec<&[Ds]> = dss.iter().map(|d| &d[..]).collect();
    fleet_of(&plain(), &clusters)
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
        for k in ["k ↑ j ↓", "h Shift-Tab l Tab", "Enter", "sort: worst first", "filter: name, context", "q Ctrl-c"] {
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

/// The bottom line of the fleet view.
fn hints(app: &mut FleetApp) -> String {
    screen(app, 120, 30).lines().last().unwrap().to_string()
}

/// The DaemonSet rows of the fleet table, in order.
fn rows(app: &FleetApp) -> Vec<String> {
    app.shown().rows.iter().map(|r| r.name.clone()).collect()
}

fn typed(app: &mut FleetApp, text: &str) {
    for c in text.chars() {
        key(app, if c == '\r' { KeyCode::Enter } else { KeyCode::Char(c) });
    }
}

const ALL: &[&str] = &["n1", "n2"];

/// alpha fine everywhere; beta missing on n2 in cluster-1; gamma only in cluster-0.
fn three(settings: &Settings) -> FleetApp {
    let c0 = [Ds("alpha", "a:1", "a:1", ALL), Ds("beta", "b:1", "b:1", ALL), Ds("gamma", "g:1", "g:1", ALL)];
    let c1 = [Ds("alpha", "a:1", "a:1", ALL), Ds("beta", "b:1", "b:1", &["n1"])];
    fleet_of(settings, &[&c0, &c1])
}

#[test]
fn s_sorts_worst_first_and_back_by_name() {
    let mut app = three(&plain());
    assert_eq!(rows(&app), ["alpha", "beta", "gamma"]);
    assert!(hints(&mut app).contains("<s> sort"), "{}", hints(&mut app));
    key(&mut app, KeyCode::Char('s'));
    assert_eq!(rows(&app)[0], "beta", "the one missing a pod first");
    let s = screen(&mut app, 120, 30);
    assert!(s.lines().nth(4).unwrap().contains("kube-system/beta"), "drawn in that order too:\n{s}");
    // Enter opens the row under the cursor as shown (beta), not the first by name.
    key(&mut app, KeyCode::Enter);
    assert_eq!(app.apps()[0].selected().map(|d| d.name.as_str()), Some("beta"));
    key(&mut app, KeyCode::Esc);
    key(&mut app, KeyCode::Char('s'));
    assert_eq!(rows(&app), ["alpha", "beta", "gamma"]);
}

#[test]
fn slash_filters_by_name_context_and_state() {
    let mut app = three(&plain());
    typed(&mut app, "/bet");
    assert_eq!(rows(&app), ["beta"], "applied as typed");
    assert!(hints(&mut app).starts_with("/bet"), "{}", hints(&mut app));
    key(&mut app, KeyCode::Enter);
    assert_eq!(app.filter(), "bet");
    assert_eq!(rows(&app), ["beta"]);
    assert!(hints(&mut app).contains("filter: bet"), "{}", hints(&mut app));
    // Esc clears it.
    key(&mut app, KeyCode::Esc);
    assert_eq!(rows(&app).len(), 3);
    // A context's name: what runs there.
    typed(&mut app, "/cluster-1\r");
    assert_eq!(rows(&app), ["alpha", "beta"]);
    // A state, with the cluster where it holds.
    key(&mut app, KeyCode::Esc);
    typed(&mut app, "/state:missing\r");
    assert_eq!(rows(&app), ["beta"]);
    key(&mut app, KeyCode::Esc);
    typed(&mut app, "/state:missing cluster-0\r");
    assert!(rows(&app).is_empty(), "missing in cluster-1 only");
    assert!(screen(&mut app, 120, 30).contains("no DaemonSet in scope"));
}

#[test]
fn a_click_selects_the_row_and_the_cluster() {
    let mut app = three(&plain());
    let s = screen(&mut app, 120, 30);
    let y = s.lines().position(|l| l.contains("kube-system/gamma")).unwrap() as u16;
    let x =
        s.lines().nth(2).unwrap().chars().collect::<Vec<_>>().windows(9).position(|w| w.iter().collect::<String>() == "cluster-1").unwrap()
            as u16;
    let click = |x, y| MouseEvent {
        kind: crossterm::event::MouseEventKind::Down(crossterm::event::MouseButton::Left),
        column: x,
        row: y,
        modifiers: crossterm::event::KeyModifiers::NONE,
    };
    app.mouse(click(x + 2, y));
    assert_eq!(app.cursor(), (2, 1));
    // On the name: the row, the same cluster.
    app.mouse(click(3, y - 1));
    assert_eq!(app.cursor(), (1, 1));
    // --no-mouse (or mouse = false): clicks do nothing.
    let mut off = three(&Settings { mouse: false, ..plain() });
    screen(&mut off, 120, 30);
    off.mouse(click(x + 2, y));
    assert_eq!((off.cursor(), off.mouse_on()), ((0, 0), false));
}

#[test]
fn a_key_override_shows_in_the_fleets_hints_and_help_and_works() {
    use crate::ui::keymap::{Action, Keymap};
    let keymap = Keymap::with_keys(&[(Action::Sort, vec!["o".into()]), (Action::Matrix, vec!["x".into()])]);
    let mut app = three(&Settings { keymap: keymap.into(), ..plain() });
    let h = hints(&mut app);
    assert!(h.contains("<o> sort") && !h.contains("<s>"), "{h}");
    key(&mut app, KeyCode::Char('s'));
    assert_eq!(rows(&app)[0], "alpha", "s means nothing now");
    key(&mut app, KeyCode::Char('o'));
    assert_eq!(rows(&app)[0], "beta");
    key(&mut app, KeyCode::Char('?'));
    assert!(screen(&mut app, 120, 30).contains("o                        sort: worst first"));
    key(&mut app, KeyCode::Esc);
    // Inside a cluster, its views have the config's keys too.
    key(&mut app, KeyCode::Enter);
    key(&mut app, KeyCode::Down);
    let s = screen(&mut app, 120, 30);
    assert!(s.contains("<x> matrix") && !s.contains("<m> matrix"), "{s}");
    key(&mut app, KeyCode::Char('x'));
    assert!(screen(&mut app, 120, 30).contains("matrix"));
    assert_eq!(app.apps()[0].view(), crate::ui::View::Matrix);
}

#[test]
fn the_fleets_h_l_and_tab_are_keymap_keys_a_config_can_move() {
    use crate::ui::keymap::{Action, Keymap};
    // By default h / l and Shift-Tab / Tab move between clusters, as ← / → do.
    let mut app = three(&plain());
    for (k, col) in [(KeyCode::Tab, 1), (KeyCode::Char('h'), 0), (KeyCode::Char('l'), 1), (KeyCode::BackTab, 0), (KeyCode::Right, 1)] {
        key(&mut app, k);
        assert_eq!(app.cursor().1, col, "after {k:?}");
    }
    // next-cluster = "x": x moves right; l and Tab no longer do (the keys moved, not added).
    let keymap = Keymap::with_keys(&[(Action::NextCluster, vec!["x".into()])]);
    let mut app = three(&Settings { keymap: keymap.into(), ..plain() });
    for k in [KeyCode::Char('l'), KeyCode::Tab] {
        key(&mut app, k);
        assert_eq!(app.cursor().1, 0, "{k:?} was moved away");
    }
    key(&mut app, KeyCode::Char('x'));
    assert_eq!(app.cursor().1, 1);
    key(&mut app, KeyCode::Left);
    assert_eq!(app.cursor().1, 0, "← still moves left");
    key(&mut app, KeyCode::Char('?'));
    let s = screen(&mut app, 120, 30);
    assert!(s.contains("h Shift-Tab x ") && !s.contains("l Tab"), "the help says the keys in force:\n{s}");
}

#[test]
fn skew_compares_the_images_that_run() {
    let run = |a: Ds, b: Ds| {
        let mut app = fleet_of(&plain(), &[&[a], &[b]]);
        let s = screen(&mut app, 120, 30);
        (app.shown().rows[0].skew, s)
    };
    // cilium's template moved on in one cluster, while both still run the old image.
    let (skew, s) = run(Ds("cilium", "cilium:1.15", "cilium:1.14", ALL), Ds("cilium", "cilium:1.14", "cilium:1.14", ALL));
    assert_eq!(skew, Skew::Template);
    assert!(s.contains("template changed, not rolled out") && !s.contains("≠ image"), "{s}");
    assert!(s.contains("runs cilium:1.14"), "the panel says what runs where the template differs:\n{s}");
    // The images that run differ.
    let (skew, s) = run(Ds("cilium", "cilium:1.15", "cilium:1.15", ALL), Ds("cilium", "cilium:1.14", "cilium:1.14", ALL));
    assert_eq!(skew, Skew::Running);
    assert!(s.contains("≠ image (running)"), "{s}");
    // Half rolled out in one cluster: it runs both, the other one only the old.
    let (skew, _) = run(Ds("cilium", "cilium:1.15", "cilium:1.15", &["n1"]), Ds("cilium", "cilium:1.15", "cilium:1.15", ALL));
    assert_eq!(skew, Skew::None, "the same image runs everywhere");
    // Nothing ready anywhere: only the templates can be compared.
    let (skew, _) = run(Ds("cilium", "cilium:1.15", "x", &[]), Ds("cilium", "cilium:1.14", "x", &[]));
    assert_eq!(skew, Skew::Template);
}

#[test]
fn the_configs_problem_is_the_fleets_message_line() {
    let prefs = crate::ui::Prefs { note: Some("c.toml:7: unknown key 'thme' (did you mean 'theme'?)".into()), ..Default::default() };
    let mut app = three(&Settings { prefs, ..plain() });
    assert_eq!(hints(&mut app).trim_end(), "c.toml:7: unknown key 'thme' (did you mean 'theme'?)");
    key(&mut app, KeyCode::Down);
    assert!(hints(&mut app).contains("<Enter> open"), "gone at the next key, as with one cluster");
    key(&mut app, KeyCode::Enter);
    assert!(!screen(&mut app, 120, 30).contains("thme"), "not said again inside a cluster");
}

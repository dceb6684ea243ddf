//! The settings file: the commented default parses back to the defaults; every kind of
//! broken config (unknown key, wrong type, bad colour, bad value, unknown action, a key
//! that is no key or means two things, bad syntax, an unreadable or missing file) is ONE
//! line naming the file, the line and the key; the TUI then starts with the defaults and
//! says so on its hint bar; a good config sets the first view, the grid's grouping, the
//! nodes view's label column, keys and colours, and NO_COLOR still wins.

use crate::common;

use std::process::Command;

use common::pty::Tui;
use daemonscope::config::{self, Config};
use daemonscope::ui::{Palette, Prefs, View};

fn bin(args: &[&str], env: &[(&str, &str)]) -> (i32, String, String) {
    let mut c = Command::new(env!("CARGO_BIN_EXE_daemonscope"));
    c.args(args).env("XDG_STATE_HOME", std::env::temp_dir().join("daemonscope-test-state"));
    for (k, v) in env {
        c.env(k, v);
    }
    let o = c.output().unwrap();
    (o.status.code().unwrap_or(-1), String::from_utf8_lossy(&o.stdout).into_owned(), String::from_utf8_lossy(&o.stderr).into_owned())
}

#[test]
fn the_commented_default_parses_back_to_the_defaults() {
    let text = config::default_toml();
    let cfg: Config = toml::from_str(&text).unwrap();
    assert_eq!(cfg, Config::default());
    let s = config::parse(&text, "default.toml").unwrap();
    assert_eq!(s.prefs, Prefs::default());
    assert_eq!(s.theme.palette, Palette::DARK);
    assert!(!s.keymap.is_moved() && s.mouse);
    // Every action of the keymap is there, with its keys, to be uncommented.
    for b in daemonscope::ui::keymap::BINDINGS {
        let line = format!("# {} = [", config::action_name(b.action));
        assert!(text.contains(&line), "{line} missing from the default config");
    }
    // Each commented line, uncommented, is still the default.
    let uncommented: String =
        text.lines().map(|l| if l.starts_with("# ") && l.contains(" = ") { &l[2..] } else { l }).collect::<Vec<_>>().join("\n");
    let s = config::parse(&uncommented, "uncommented.toml").unwrap_or_else(|e| panic!("{e}\n{uncommented}"));
    assert_eq!(s.theme.palette, Palette::DARK);
    assert!(s.keymap.is_moved(), "keys written out");
    assert_eq!(s.keymap.bindings(), daemonscope::ui::Keymap::default().bindings(), "each action's default keys, written out, are its keys");
}

#[test]
fn a_config_sets_view_grouping_label_theme_colours_keys_and_mouse() {
    let text = r##"
view = "matrix"
group_by = "karpenter.sh/nodepool"
node_label = "kubernetes.io/arch"
theme = "light"
mouse = false

[colors]
failing = "#ff0000"
node-not-ready = "201"

[keys]
matrix = "x"
quit = ["Q", "ctrl-c"]
page-down = ["PageDown", "Space"]
mark = "v"
"##;
    let s = config::parse(text, "c.toml").unwrap();
    assert_eq!(s.prefs.view, View::Matrix);
    assert_eq!(s.prefs.group_by.as_deref(), Some("karpenter.sh/nodepool"));
    assert_eq!(s.prefs.node_label.as_deref(), Some("kubernetes.io/arch"));
    assert!(!s.mouse);
    let mut want = Palette::LIGHT;
    want.set("failing", ratatui::style::Color::Rgb(255, 0, 0));
    want.set("node-not-ready", ratatui::style::Color::Indexed(201));
    assert_eq!(s.theme.palette, want);
    let keys = |a: daemonscope::ui::Action| s.keymap.bindings().iter().find(|b| b.action == a).unwrap().keys.clone();
    use daemonscope::ui::Action;
    assert_eq!(keys(Action::Matrix), ["x"]);
    assert_eq!(keys(Action::Quit), ["Q", "Ctrl-c"]);
    assert_eq!(keys(Action::PageDown), ["PgDn", "Space"]);
    assert_eq!(keys(Action::Down), ["j", "↓"], "actions not named keep their keys");
    let none = config::parse("group_by = \"\"\n", "c.toml").unwrap();
    assert_eq!(none.prefs.group_by, None, "an empty label: no grouping");
}

/// (file text, the line that must come out, after `NAME:`).
const BROKEN: &[(&str, &str)] = &[
    ("view = \"matrix\"\n\n# colours\n\n\n\nthme = \"light\"\n", "7: unknown key 'thme' (did you mean 'theme'?)"),
    ("mouse = \"yes\"\n", "1: key 'mouse': invalid type: string \"yes\", expected a boolean"),
    (
        "mouse = true\n[colors]\nready = \"purpel\"\n",
        "3: key 'colors.ready': unknown colour 'purpel' (a name such as green or lightred, an index 0-255, or #rrggbb)",
    ),
    ("[colors]\nredy = \"red\"\n", "2: unknown key 'colors.redy' (did you mean 'ready'?)"),
    ("theme = \"solarized\"\n", "1: key 'theme': unknown value 'solarized' (one of dark, light, high-contrast)"),
    ("view = \"grid\"\n", "1: key 'view': unknown value 'grid' (one of daemonsets, matrix, nodes, rollout)"),
    ("[keys]\nmatrx = \"x\"\n", "2: unknown action 'keys.matrx' (did you mean 'matrix'?)"),
    ("\n[keys]\nmatrix = \"r\"\n", "3: key 'keys.matrix': 'r' already means rollout in the DaemonSets view"),
    (
        "[keys]\nquit = \"Ctrl-\"\n",
        "2: key 'keys.quit': 'Ctrl-' is not a key (a character, Ctrl-x, Up, Down, Left, Right, PgUp, PgDn, Home, End, Enter, Esc, Space, Tab or Shift-Tab)",
    ),
    ("[keys]\nquit = []\n", "2: key 'keys.quit': give at least one key"),
    ("[keys]\nquit = 3\n", "2: key 'keys.quit': invalid type: integer `3`, expected a key or a list of keys"),
    ("group_by = \"not a label!\"\n", "1: key 'group_by': 'not a label!' is not a label key"),
    ("view = daemonsets\n", "1: key 'view': string values must be quoted"),
];

#[test]
fn a_broken_config_is_one_line_naming_the_file_the_line_and_the_key() {
    for (text, want) in BROKEN {
        let got = match config::parse(text, "~/.config/daemonscope/config.toml") {
            Ok(_) => panic!("accepted:\n{text}"),
            Err(e) => e,
        };
        assert!(got.starts_with(&format!("~/.config/daemonscope/config.toml:{want}")), "for\n{text}\ngot:  {got}\nwant: …:{want}");
        assert_eq!(got.lines().count(), 1, "{got}");
    }
}

#[test]
fn daemonscope_config_checks_the_file_in_one_line_and_prints_the_default() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path().to_str().unwrap();
    // The default path follows XDG_CONFIG_HOME; an absent default file is fine.
    let (code, out, err) = bin(&["config", "--path"], &[("XDG_CONFIG_HOME", d)]);
    assert_eq!((code, out.trim(), err.as_str()), (0, format!("{d}/daemonscope/config.toml").as_str(), ""));
    let (code, out, _) = bin(&["config"], &[("XDG_CONFIG_HOME", d)]);
    assert_eq!(code, 0);
    assert!(out.contains("no such file; the defaults apply"), "{out}");
    // --print-default, written there, checks out.
    let (code, default, _) = bin(&["config", "--print-default"], &[]);
    assert_eq!(code, 0);
    std::fs::create_dir_all(dir.path().join("daemonscope")).unwrap();
    std::fs::write(dir.path().join("daemonscope/config.toml"), &default).unwrap();
    let (code, out, err) = bin(&["config"], &[("XDG_CONFIG_HOME", d)]);
    assert_eq!((code, out.trim().ends_with("config.toml: ok"), err.as_str()), (0, true, ""), "{out}");
    // Broken, unreadable (a directory) and missing files: one line, exit 1.
    let bad = dir.path().join("bad.toml");
    std::fs::write(&bad, "theme = \"dark\"\nthme = 1\n").unwrap();
    let unreadable = dir.path().join("daemonscope");
    let missing = dir.path().join("missing.toml");
    for (path, want) in [
        (&bad, format!("daemonscope: {}:2: unknown key 'thme' (did you mean 'theme'?)\n", bad.display())),
        (&unreadable, format!("daemonscope: {}: cannot read: Is a directory\n", unreadable.display())),
        (&missing, format!("daemonscope: {}: cannot read: No such file or directory\n", missing.display())),
    ] {
        let (code, out, err) = bin(&["config", "--config", path.to_str().unwrap()], &[]);
        assert_eq!((code, out.as_str(), err), (1, "", want));
    }
}

/// A broken config: one line on the hint bar, and the TUI runs with the defaults.
#[test]
fn the_tui_starts_with_the_defaults_when_the_config_is_broken() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(dir.path().join("daemonscope")).unwrap();
    std::fs::write(dir.path().join("daemonscope/config.toml"), "view = \"nodes\"\nthme = \"light\"\n").unwrap();
    let mut t = Tui::start_sized(&["--demo"], &[("XDG_CONFIG_HOME", dir.path().to_str().unwrap())], 30, 200);
    // The default view, not the config's nodes view, and the problem on the hint bar
    // (the bottom line).
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    loop {
        let screen = t.screen();
        let last = screen.lines().rfind(|l| !l.trim().is_empty()).unwrap_or_default().to_string();
        if screen.contains("DaemonSets (8)") && last.contains("config.toml:2: unknown key 'thme' (did you mean 'theme'?)") {
            break;
        }
        assert!(std::time::Instant::now() < deadline, "{screen}");
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    t.keys("q");
    assert!(t.exit(10).success());
}

/// A good config: the nodes view first with its label column, `x` opens the matrix
/// instead of `m`, Esc leads to the DaemonSets, whose grid groups by pool; the help
/// names the file; a colour of the config is on screen, and NO_COLOR takes it away.
#[test]
fn the_tui_follows_the_config() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(dir.path().join("daemonscope")).unwrap();
    let text = "view = \"nodes\"\nnode_label = \"kubernetes.io/arch\"\ngroup_by = \"pool\"\n[colors]\nready = \"#010203\"\n[keys]\nmatrix = \"x\"\n";
    std::fs::write(dir.path().join("daemonscope/config.toml"), text).unwrap();
    let home = dir.path().to_str().unwrap();
    let mut t = Tui::start_sized(&["--demo"], &[("XDG_CONFIG_HOME", home)], 35, 200);
    let screen = t.wait_for("general-a-0001", 30);
    assert!(screen.contains("ARCH") && screen.contains("amd64"), "the nodes view with the arch column:\n{screen}");
    t.wait_for("<x> matrix", 10);
    t.keys("m");
    t.keys("x");
    t.wait_for("node × DaemonSet (", 10);
    t.keys("?");
    t.wait_for(&format!("{home}/daemonscope/config.toml"), 10);
    // Esc closes the help, then goes back to the nodes view, then to the DaemonSets.
    t.keys("\x1b");
    t.keys("\x1b");
    t.wait_for("nodes (50", 10);
    t.keys("\x1b");
    t.wait_for("DaemonSets (", 10);
    // Ready cells in the colour of the config.
    let ready_rgb = |t: &Tui| {
        let p = t.parser.lock().unwrap();
        let s = p.screen();
        let (rows, cols) = s.size();
        (0..rows)
            .flat_map(|r| (0..cols).map(move |c| (r, c)))
            .any(|(r, c)| s.cell(r, c).is_some_and(|cell| cell.contents() == "●" && cell.fgcolor() == vt100::Color::Rgb(1, 2, 3)))
    };
    t.keys("\r");
    let grid = t.wait_for("pool=", 10);
    assert!(grid.contains("│pool=general") && !grid.contains("│topology.kubernetes.io/zone="), "grouped by pool, not zone:\n{grid}");
    assert!(ready_rgb(&t), "ready cells drawn in #010203");
    t.keys("q");
    assert!(t.exit(10).success());

    let mut t = Tui::start_sized(&["--demo"], &[("XDG_CONFIG_HOME", home), ("NO_COLOR", "1")], 35, 200);
    t.wait_for("general-a-0001", 30);
    t.keys("\x1b");
    t.wait_for("DaemonSets (", 10);
    t.keys("\r");
    t.wait_for("pool=", 10);
    assert!(!ready_rgb(&t), "NO_COLOR wins over the config's colours");
    t.keys("q");
    assert!(t.exit(10).success());
}

/// A context or namespace switch starts the model afresh but keeps what the config set.
#[test]
fn a_switch_keeps_the_configs_label_column_grouping_and_path() {
    use daemonscope::ui::{App, Msg, Theme};
    let prefs = Prefs {
        view: View::Nodes,
        group_by: Some("karpenter.sh/nodepool".into()),
        node_label: Some("kubernetes.io/arch".into()),
        config_path: Some("~/.config/daemonscope/config.toml".into()),
        note: None,
        critical: vec![],
    };
    let mut app = App::new("a", Theme::new(false)).with_prefs(prefs);
    assert_eq!((app.view(), app.node_label()), (View::Nodes, Some("kubernetes.io/arch")));
    app.update(Msg::Connected { context: "b".into(), scope: Default::default(), server: None });
    assert_eq!((app.context(), app.node_label()), ("b", Some("kubernetes.io/arch")));
    app.update(Msg::Key(crossterm::event::KeyEvent::from(crossterm::event::KeyCode::Char('?'))));
    let mut t = ratatui::Terminal::new(ratatui::backend::TestBackend::new(140, 40)).unwrap();
    t.draw(|f| app.draw(f)).unwrap();
    let buf = t.backend().buffer().clone();
    let text: String = buf.content().iter().map(|c| c.symbol()).collect();
    assert!(text.contains("config: ~/.config/daemonscope/config.toml"), "the help names the config after a switch");
}

/// `mouse = false` in the config leaves the mouse to the terminal, as `--no-mouse` does;
/// without it the TUI turns mouse reporting on.
#[test]
fn mouse_false_in_the_config_leaves_the_mouse_to_the_terminal() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(dir.path().join("daemonscope")).unwrap();
    let home = dir.path().to_str().unwrap();
    for (text, want) in [("mouse = true\n", true), ("mouse = false\n", false)] {
        std::fs::write(dir.path().join("daemonscope/config.toml"), text).unwrap();
        let mut t = Tui::start_sized(&["--demo"], &[("XDG_CONFIG_HOME", home)], 30, 160);
        t.wait_for("DaemonSets (8)", 30);
        assert_eq!(t.mouse_reporting(), want, "{text}");
        t.keys("q");
        assert!(t.exit(10).success());
    }
}

/// The bottom line of `draw` at 120×30.
fn bottom_line(draw: impl FnOnce(&mut ratatui::Frame)) -> String {
    let mut t = ratatui::Terminal::new(ratatui::backend::TestBackend::new(120, 30)).unwrap();
    t.draw(draw).unwrap();
    let buf = t.backend().buffer().clone();
    (0..120).map(|x| buf[(x, 29)].symbol().to_string()).collect::<String>().trim_end().to_string()
}

/// The fleet reads the same config as one cluster: a broken file is the same one line on
/// its hint bar; a good one's keys are the fleet's keys, shown in its hints.
#[test]
fn the_fleet_follows_the_config_as_one_cluster_does() {
    use daemonscope::ui::{App, FleetApp, Session};
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("config.toml");
    std::fs::write(&path, "view = \"nodes\"\nthme = \"light\"\n").unwrap();
    let settings = config::load_for_tui(Some(&path));
    let contexts = vec!["a".to_string(), "b".to_string()];
    let mut fleet = FleetApp::new(&contexts, &Session::default(), &settings);
    let mut one = App::new("a", settings.theme).with_settings(&settings);
    let line = bottom_line(|f| one.draw(f));
    assert!(line.ends_with("config.toml:2: unknown key 'thme' (did you mean 'theme'?)"), "{line}");
    assert_eq!(bottom_line(|f| fleet.draw(f)), line, "the same one line");

    std::fs::write(&path, "mouse = false\n[keys]\nsort = \"o\"\nfilter = \"f\"\n").unwrap();
    let settings = config::load_for_tui(Some(&path));
    let mut fleet = FleetApp::new(&contexts, &Session::default(), &settings);
    let line = bottom_line(|f| fleet.draw(f));
    assert!(line.contains("<o> sort") && line.contains("<f> filter") && !line.contains("<s>"), "{line}");
    assert!(!fleet.mouse_on(), "mouse = false: the runner leaves the mouse to the terminal");
    fleet.key(crossterm::event::KeyEvent::from(crossterm::event::KeyCode::Char('f')));
    assert!(bottom_line(|f| fleet.draw(f)).starts_with('/'), "f opens the filter");
}

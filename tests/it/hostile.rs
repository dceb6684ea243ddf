//! Hostile text from outside never drives the operator's terminal: image strings that
//! clear the screen (`ESC[2J`), set the title (OSC 0), write the clipboard (OSC 52),
//! return the carriage, reverse the text (U+202E) or hide in zero-width characters go
//! through every output path — `status` as a table, wide and JSON, the fleet, every error
//! line (a 403 whose Status message carries escapes, a config key with escapes and a 10 MB
//! value), and the TUI's views at 80×24, 120×35 and 200×50 — and no ESC, BEL, CR, C1 or
//! bidi/zero-width character reaches a terminal stream; each is shown visibly (`\e`), and
//! JSON stays the exact JSON of the value.

use crate::common;

use std::io::{BufRead, BufReader, Write};
use std::process::Command;

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use daemonscope::cluster::jobs::{Effect, JobResult};
use daemonscope::k8s::text::drives_terminal;
use daemonscope::ui::{App, Msg, Session, Theme};
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use serde_json::Value;

/// What was tried on the terminal emulators (name, the string inside an image).
const HOSTILE: [(&str, &str); 8] = [
    ("clear screen", "\u{1b}[2J\u{1b}[H"),
    ("window title (OSC 0)", "\u{1b}]0;pwned\u{7}"),
    ("clipboard (OSC 52)", "\u{1b}]52;c;cm0gLXJmIH4=\u{7}"),
    ("carriage return", "\rINNOCENT"),
    ("right-to-left override", "\u{202e}lmy.exe"),
    ("zero-width space and joiner", "a\u{200b}b\u{200d}c"),
    ("C1 CSI", "\u{9b}2J"),
    ("DEL and bell", "\u{7f}\u{7}"),
];

/// One DaemonSet per hostile string, its image carrying it (every pod fails to pull, and
/// the reason quotes the image).
fn cluster_yaml() -> String {
    let mut y = String::from(common::FAST);
    for n in ["node-a", "node-b"] {
        y.push_str(&format!(
            "---\napiVersion: v1\nkind: Node\nmetadata: {{name: {n}, annotations: {{sim.daemonscope.io/pod-behavior: image-pull-error}}}}\n"
        ));
    }
    for (i, (_, s)) in HOSTILE.iter().enumerate() {
        // A JSON string is a YAML double-quoted scalar; C1 and bidi escaped too.
        let image =
            daemonscope::k8s::text::json_text(&serde_json::to_string(&format!("registry.example/agent-{i}{s}:v1")).unwrap()).into_owned();
        y.push_str(&format!(
            "---
apiVersion: apps/v1
kind: DaemonSet
metadata: {{name: agent-{i}, namespace: kube-system}}
spec:
  selector: {{matchLabels: {{app: agent-{i}}}}}
  template:
    metadata: {{labels: {{app: agent-{i}}}}}
    spec:
      containers: [{{name: agent, image: {image}}}]
"
        ));
    }
    y
}

fn bin(args: &[&str], env: &[(&str, &str)]) -> (i32, Vec<u8>, Vec<u8>) {
    let mut c = Command::new(env!("CARGO_BIN_EXE_daemonscope"));
    c.args(args).env("XDG_STATE_HOME", std::env::temp_dir()).env_remove("KUBECONFIG");
    for (k, v) in env {
        c.env(k, v);
    }
    let o = c.output().unwrap();
    (o.status.code().unwrap_or(-1), o.stdout, o.stderr)
}

/// Neither stream carries a byte that drives a terminal.
fn harmless(what: &str, out: &[u8], err: &[u8]) {
    if let Some(bad) = drives_terminal(out) {
        panic!("{what}: stdout drives the terminal: {bad}");
    }
    if let Some(bad) = drives_terminal(err) {
        panic!("{what}: stderr drives the terminal: {bad}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn status_table_wide_json_and_fleet_show_hostile_images_visibly() {
    let sim = common::serve(&cluster_yaml()).await;
    let (dir, kc) = common::kubeconfig_file(&sim, None);
    // The fleet: two contexts whose names are hostile too (a kubeconfig is outside text).
    let fleet_kc = dir.path().join("fleet");
    two_contexts(&kc, "ctx\u{1b}]0;fleet\u{7}-a", "plain-b", &fleet_kc);
    let fleet_kc = fleet_kc.to_str().unwrap().to_string();
    tokio::task::spawn_blocking(move || {
        // Until every agent's pods failed to pull (the reasons quote the images).
        common::until_blocking(30, "every agent failing with its image in the reason", || {
            let (_, out, err) = bin(&["status", "--kubeconfig", &kc, "-o", "json"], &[]);
            let v: Value = serde_json::from_slice(&out).map_err(|e| format!("{e}: {}", String::from_utf8_lossy(&err)))?;
            let ok = v["daemonsets"].as_array().is_some_and(|d| {
                d.len() == HOSTILE.len()
                    && d.iter()
                        .all(|d| d["nodes"].as_array().unwrap().iter().all(|n| n["reason"].as_str().unwrap_or("").contains("agent-")))
            });
            if ok { Ok(()) } else { Err(String::from_utf8_lossy(&out).chars().take(3000).collect()) }
        });
        for output in ["table", "wide", "json"] {
            let (code, out, err) = bin(&["status", "--kubeconfig", &kc, "-o", output], &[]);
            assert_eq!(code, 1, "{output}: {}", String::from_utf8_lossy(&err));
            harmless(&format!("status -o {output}"), &out, &err);
            let text = String::from_utf8_lossy(&out);
            if output == "json" {
                // Exact JSON: every image comes back as it was.
                let v: Value = serde_json::from_slice(&out).unwrap();
                for (i, (what, s)) in HOSTILE.iter().enumerate() {
                    let d = v["daemonsets"].as_array().unwrap().iter().find(|d| d["name"] == format!("agent-{i}")).unwrap();
                    let reason = d["nodes"][0]["reason"].as_str().unwrap();
                    assert!(reason.contains(&format!("agent-{i}{s}:v1")), "{what}: {reason:?}");
                }
            } else {
                assert!(text.contains("agent-0\\e[2J\\e[H:v1"), "{output}: shown visibly:\n{text}");
                assert!(text.contains("agent-4\\u{202e}lmy.exe"), "{output}:\n{text}");
            }
        }
        for output in ["table", "wide", "json"] {
            let (code, out, err) = bin(&["status", "--kubeconfig", &fleet_kc, "--all-contexts", "-o", output], &[]);
            assert_eq!(code, 1, "fleet {output}: {}{}", String::from_utf8_lossy(&out), String::from_utf8_lossy(&err));
            harmless(&format!("fleet -o {output}"), &out, &err);
            if output != "json" {
                let text = String::from_utf8_lossy(&out);
                assert!(text.contains("== context ctx\\e]0;fleet\\a-a =="), "{text}");
            }
        }
    })
    .await
    .unwrap();
    drop(sim);
}

/// A kubeconfig at `to` with the one context of `from` twice, named `a` and `b` (JSON is YAML).
fn two_contexts(from: &str, a: &str, b: &str, to: &std::path::Path) {
    let mut v: Value = serde_saphyr::from_str(&std::fs::read_to_string(from).unwrap()).unwrap();
    let ctx = v["contexts"][0].clone();
    let (mut ca, mut cb) = (ctx.clone(), ctx);
    ca["name"] = a.into();
    cb["name"] = b.into();
    v["contexts"] = Value::Array(vec![ca, cb]);
    v["current-context"] = b.into();
    std::fs::write(to, serde_json::to_string(&v).unwrap()).unwrap();
}

/// An API server (or a proxy) that answers every request 403 with `message` in its Status.
fn forbidding_server(message: &str) -> String {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let body = serde_json::json!({"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
        "message": message, "reason": "Forbidden", "code": 403})
    .to_string();
    std::thread::spawn(move || {
        for s in listener.incoming() {
            let Ok(mut s) = s else { continue };
            let body = body.clone();
            std::thread::spawn(move || {
                let mut r = BufReader::new(s.try_clone().unwrap());
                loop {
                    // Each request's headers (no bodies: the client only reads), then the answer.
                    let mut line = String::new();
                    let mut first = true;
                    loop {
                        line.clear();
                        if r.read_line(&mut line).unwrap_or(0) == 0 {
                            return;
                        }
                        if line == "\r\n" && !first {
                            break;
                        }
                        first = false;
                    }
                    let answer =
                        format!("HTTP/1.1 403 Forbidden\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}", body.len());
                    if s.write_all(answer.as_bytes()).is_err() {
                        return;
                    }
                }
            });
        }
    });
    url
}

#[test]
fn every_error_line_shows_what_a_server_or_a_file_says_visibly_and_cut() {
    let message = "forbidden \u{1b}]0;srvpwned\u{7}\u{1b}[2J\r\u{202e}oops";
    let url = forbidding_server(message);
    let dir = tempfile::tempdir().unwrap();
    let kc = dir.path().join("kc");
    daemonscope::sim::write_kubeconfig(&kc, &url, None, None).unwrap();
    let kc = kc.to_str().unwrap();
    // One cluster, and the fleet's error lines (two contexts of the same server).
    let two = dir.path().join("two");
    two_contexts(kc, "first", "second", &two);
    let two = two.to_str().unwrap();
    let cases: Vec<(&str, Vec<&str>)> = vec![
        ("status", vec!["status", "--kubeconfig", kc]),
        ("status -o json", vec!["status", "--kubeconfig", kc, "-o", "json"]),
        ("fleet", vec!["status", "--all-contexts", "--kubeconfig", two]),
        ("snapshot", vec!["snapshot", "--kubeconfig", kc]),
    ];
    for (what, args) in &cases {
        let (code, out, err) = bin(args, &[]);
        assert_eq!(code, 2, "{what}: {}", String::from_utf8_lossy(&err));
        harmless(what, &out, &err);
        let err = String::from_utf8_lossy(&err);
        assert!(err.contains("forbidden \\e]0;srvpwned\\a\\e[2J\\r\\u{202e}oops"), "{what}: shown visibly: {err}");
    }
    // A config file: a key with escapes, and a 10 MB value, each said in one short line.
    let cfg = dir.path().join("config.toml");
    std::fs::write(&cfg, "[theme]\n\"na\u{1b}[2Jme\" = 1\n").unwrap();
    let (code, out, err) = bin(&["--config", cfg.to_str().unwrap(), "config"], &[]);
    assert_ne!(code, 0);
    harmless("config key", &out, &err);
    assert!(String::from_utf8_lossy(&err).contains("na\\e[2Jme"), "{}", String::from_utf8_lossy(&err));
    std::fs::write(&cfg, format!("[keys]\nquit = [\"{}\u{1b}[2J\"]\n", "x".repeat(10 << 20))).unwrap();
    let (code, out, err) = bin(&["--config", cfg.to_str().unwrap(), "config"], &[]);
    assert_ne!(code, 0);
    harmless("config value", &out, &err);
    assert!(err.len() < 4096, "a 10 MB value is cut, not echoed: {} bytes", err.len());
    assert_eq!(String::from_utf8_lossy(&err).lines().count(), 1, "{}", String::from_utf8_lossy(&err));
}

/// Every cell of a drawn screen: no symbol a terminal would act on.
fn screen_is_harmless(what: &str, buf: &ratatui::buffer::Buffer) {
    for (i, cell) in buf.content().iter().enumerate() {
        if let Some(bad) = drives_terminal(cell.symbol().as_bytes()) {
            panic!("{what}: cell {i} ({:?}) drives the terminal: {bad}\n{}", cell.symbol(), common::screen_text(buf));
        }
    }
}

#[test]
fn the_tui_draws_hostile_text_harmlessly_in_every_view_at_every_size() {
    let mut sim = common::build(&cluster_yaml());
    sim.advance(5);
    let mut app = App::new("ctx\u{1b}]0;t\u{7}", Theme::new(false)).with_session(Session::default());
    let _ = app.update(Msg::Watch(common::all_updates(&sim)));
    let mut effects: Vec<Effect> = Vec::new();
    let key =
        |app: &mut App, c: KeyCode, effects: &mut Vec<Effect>| effects.extend(app.update(Msg::Key(KeyEvent::new(c, KeyModifiers::NONE))));
    let check = |app: &mut App, view: &str| {
        for (w, h) in [(80, 24), (120, 35), (200, 50)] {
            let mut t = Terminal::new(TestBackend::new(w, h)).unwrap();
            t.draw(|f| app.draw(f)).unwrap();
            screen_is_harmless(&format!("{view} at {w}×{h}"), t.backend().buffer());
        }
    };
    check(&mut app, "DaemonSets");
    key(&mut app, KeyCode::Enter, &mut effects);
    check(&mut app, "grid");
    key(&mut app, KeyCode::Char('d'), &mut effects);
    check(&mut app, "pod detail");
    // What the jobs bring back: events, YAML, logs with escapes in them.
    let hostile_lines: Vec<String> = HOSTILE.iter().map(|(w, s)| format!("{w}: {s} end")).collect();
    for e in effects.clone() {
        if let Effect::Yaml { seq, .. } | Effect::Logs { seq, .. } = e {
            let _ = app.update(Msg::Job(JobResult::Text { seq, lines: hostile_lines.clone(), append: false }));
        }
    }
    check(&mut app, "pod detail with events");
    key(&mut app, KeyCode::Char('y'), &mut effects);
    if let Some(Effect::Yaml { seq, .. }) = effects.iter().rev().find(|e| matches!(e, Effect::Yaml { .. })).cloned() {
        let _ = app.update(Msg::Job(JobResult::Text { seq, lines: hostile_lines.clone(), append: false }));
    }
    check(&mut app, "YAML");
    key(&mut app, KeyCode::Esc, &mut effects);
    key(&mut app, KeyCode::Esc, &mut effects);
    key(&mut app, KeyCode::Esc, &mut effects);
    key(&mut app, KeyCode::Char('d'), &mut effects);
    check(&mut app, "DaemonSet detail");
    key(&mut app, KeyCode::Esc, &mut effects);
    key(&mut app, KeyCode::Char('r'), &mut effects);
    check(&mut app, "rollout");
}

/// A megabyte image string: the pod's detail shows it cut (`…`) and the lines after it
/// still on the first screen; it used to wrap into 13,000 rows on every frame (0.44 of
/// a core while idle).
#[test]
fn a_megabyte_image_is_cut_in_the_detail_view() {
    let image = format!("registry.example/{}:v1", "a".repeat(1 << 20));
    let mut y = String::from(common::FAST);
    y.push_str(&common::nodes_yaml(&["node-a"]));
    y.push_str(&common::ds_yaml("agent", "{type: RollingUpdate}").replace("registry.example/agent:v1", &image));
    let mut sim = common::build(&y);
    sim.advance(3);
    let mut app = App::new("test", Theme::new(false)).with_session(Session::default());
    let _ = app.update(Msg::Watch(common::all_updates(&sim)));
    for c in [KeyCode::Enter, KeyCode::Char('d')] {
        let _ = app.update(Msg::Key(KeyEvent::new(c, KeyModifiers::NONE)));
    }
    let mut t = Terminal::new(TestBackend::new(200, 50)).unwrap();
    let started = std::time::Instant::now();
    for _ in 0..10 {
        t.draw(|f| app.draw(f)).unwrap();
    }
    eprintln!("(10 frames of the detail in {:?})", started.elapsed());
    let s = common::screen_text(t.backend().buffer());
    assert!(s.contains("registry.example/aaaa"), "{s}");
    assert!(s.contains('…'), "the image is cut:\n{s}");
    assert!(s.contains("l follows its log"), "what follows the image is on the first screen:\n{s}");
}

/// The real binary in a pseudo-terminal, end to end: the list, a hostile DaemonSet's grid,
/// the detail of its pod and its YAML drawn from a cluster whose images carry every
/// hostile string — and of every byte it wrote to the terminal, none is an OSC (title,
/// clipboard), a BEL, a C1 control or a bidi/zero-width character (its own drawing is CSI
/// only), while the strings are on screen, visible.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_real_tui_in_a_pty_writes_no_hostile_byte() {
    let sim = common::serve(&cluster_yaml()).await;
    let (_dir, kc) = common::kubeconfig_file(&sim, None);
    let raw = tokio::task::spawn_blocking(move || {
        let mut t = common::pty::Tui::start(&["--kubeconfig", &kc], &[]);
        t.wait_pods_live(20);
        // agent-1 carries the OSC 0 title.
        t.keys("j");
        t.keys("\r");
        t.wait_for("agent-1", 10);
        t.keys("d");
        t.wait_for("agent-1]0;pwned:v1", 10);
        t.keys("y");
        t.wait_for(r"\e]0;pwned", 10);
        t.keys("q");
        t.exit(10);
        t.raw.lock().unwrap().clone()
    })
    .await
    .unwrap();
    let text = String::from_utf8_lossy(&raw);
    assert!(!text.contains("\u{1b}]"), "an OSC sequence reached the terminal");
    assert!(!text.contains('\u{7}'), "a BEL reached the terminal");
    assert!(!text.contains("\rINNOCENT"), "a carriage return from outside reached the terminal");
    if let Some(c) = text.chars().find(|c| {
        ('\u{80}'..='\u{9f}').contains(c)
            || matches!(c, '\u{200b}'..='\u{200f}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}' | '\u{feff}')
    }) {
        panic!("{c:?} reached the terminal");
    }
}

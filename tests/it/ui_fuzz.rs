//! A property test: the App driven through random keys, `:` commands, job answers, a
//! failing watch and random terminal sizes from 1×1 to 300×100, drawn on TestBackend
//! after every step, from every view and with every popup open. Nothing may panic.
//! Deterministic: a fixed seed and a bounded number of cases (`UI_FUZZ_CASES` raises it).

use crate::common;

use std::time::Duration;

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use daemonscope::cluster::jobs::{Effect, EventLine, JobResult};
use daemonscope::cluster::watch::{SyncState, Update};
use daemonscope::model::Resource;
use daemonscope::ui::{App, Msg, Session, Theme, View};
use proptest::prelude::*;
use proptest::test_runner::{Config, RngSeed, TestCaseError, TestRunner};
use ratatui::Terminal;
use ratatui::backend::TestBackend;

/// The demo 12 s in: a node NotReady, a crash loop, two rollouts under way.
fn demo_updates() -> Vec<Update> {
    common::all_updates(&common::demo_at(8, 12))
}

/// One step of the operator (or the world).
#[derive(Debug, Clone)]
enum Op {
    Key(KeyEvent),
    /// `:` + a command name (+ an argument) + Enter.
    Command(String),
    Resize(u16, u16),
    /// A watch fails (the stale banner takes a line).
    Stale,
    Tick,
}

fn key_strategy() -> impl Strategy<Value = KeyEvent> {
    let plain = |c: KeyCode| KeyEvent::new(c, KeyModifiers::NONE);
    let specials = vec![
        KeyCode::Up,
        KeyCode::Down,
        KeyCode::Left,
        KeyCode::Right,
        KeyCode::PageUp,
        KeyCode::PageDown,
        KeyCode::Home,
        KeyCode::End,
        KeyCode::Enter,
        KeyCode::Esc,
        KeyCode::Backspace,
        KeyCode::Tab,
    ];
    prop_oneof![
        // Every key the keymap names, and the prompts' keys, most often.
        4 => proptest::sample::select("jkhlgGdrmnzsyLPculeRDx q?/: ".chars().collect::<Vec<_>>()).prop_map(move |c| plain(KeyCode::Char(c))),
        4 => proptest::sample::select(specials).prop_map(plain),
        1 => proptest::char::range(' ', '~').prop_map(move |c| plain(KeyCode::Char(c))),
        1 => proptest::sample::select(vec!['b', 'f', 'c', 'u', 'd']).prop_map(|c| KeyEvent::new(KeyCode::Char(c), KeyModifiers::CONTROL)),
    ]
}

fn op_strategy() -> impl Strategy<Value = Op> {
    let commands: Vec<String> = daemonscope::ui::keymap::COMMANDS
        .iter()
        .flat_map(|c| {
            let n = c.names[0];
            [n.to_string(), format!("{n} 2"), format!("{n} on"), format!("{n} pause"), format!("{n} kube-system")]
        })
        .collect();
    prop_oneof![
        12 => key_strategy().prop_map(Op::Key),
        2 => proptest::sample::select(commands).prop_map(Op::Command),
        4 => (1u16..=300, 1u16..=100).prop_map(|(w, h)| Op::Resize(w, h)),
        // Sizes around the smallest supported one, where layouts are tight.
        3 => (55u16..=70, 9u16..=16).prop_map(|(w, h)| Op::Resize(w, h)),
        1 => Just(Op::Stale),
        1 => Just(Op::Tick),
    ]
}

/// Answers the effects a real job runner would: text for YAML and logs, some events,
/// a line for an action.
fn answer(app: &mut App, effects: Vec<Effect>) {
    let mut todo = effects;
    for _ in 0..4 {
        let mut next = Vec::new();
        for e in todo {
            let r = match e {
                Effect::Yaml { seq, .. } | Effect::Logs { seq, .. } => JobResult::Text {
                    seq,
                    lines: (0..120).map(|i| format!("line {i} {}", "wide… ✔ 日本 ".repeat(i % 40))).collect(),
                    append: false,
                },
                Effect::Events { seq, .. } => JobResult::Events {
                    seq,
                    events: (0..30)
                        .map(|i| EventLine {
                            last: Some(jiff::Timestamp::now()),
                            type_: "Warning".into(),
                            reason: "BackOff".into(),
                            message: format!("Back-off restarting failed container {}", "x".repeat(i * 7)),
                            count: i as i32,
                        })
                        .collect(),
                },
                Effect::Act { .. } => JobResult::Acted(daemonscope::cluster::actions::Outcome::Nodes {
                    kind: daemonscope::model::plan::IntentKind::Cordon,
                    done: vec!["node-a".into()],
                    failed: vec![],
                    dry_run: false,
                }),
                _ => continue,
            };
            next.extend(app.update(Msg::Job(r)));
        }
        todo = next;
    }
}

fn draw(app: &mut App, w: u16, h: u16) {
    let mut t = Terminal::new(TestBackend::new(w, h)).unwrap();
    t.draw(|f| app.draw(f)).unwrap();
}

/// Keys that reach `view` from the DaemonSets list, and that open each popup.
fn reach(view: View) -> &'static str {
    match view {
        // One cluster's app has no fleet view: it starts from the DaemonSets.
        View::DaemonSets | View::Fleet => "",
        View::Grid => "\r",
        View::Matrix => "m",
        View::Nodes => "n",
        View::Rollout => "r",
        View::Detail => "d",
        View::Text => "y",
        View::Joins => "nJ",
        View::WhatIf => ":preflight /nonexistent.yaml\r",
    }
}

const POPUPS: [&str; 6] = ["", "?", ":ns\r", ":ctx\r", "c", "l"];

fn type_keys(app: &mut App, s: &str) {
    for c in s.chars() {
        let k = if c == '\r' { KeyCode::Enter } else { KeyCode::Char(c) };
        let fx = app.update(Msg::Key(KeyEvent::new(k, KeyModifiers::NONE)));
        answer(app, fx);
    }
}

#[test]
fn random_keys_and_sizes_never_panic_in_any_view_or_popup() {
    let updates = demo_updates();
    let cases = std::env::var("UI_FUZZ_CASES").ok().and_then(|n| n.parse().ok()).unwrap_or(256);
    let config = Config { cases, rng_seed: RngSeed::Fixed(13), failure_persistence: None, ..Config::default() };
    let mut runner = TestRunner::new(config);
    let start = (proptest::sample::select(View::ALL.to_vec()), proptest::sample::select(POPUPS.to_vec()));
    let strategy = (start, (1u16..=300, 1u16..=100), proptest::collection::vec(op_strategy(), 1..40));
    let result = runner.run(&strategy, |((view, popup), (mut w, mut h), ops)| {
        let session = Session { contexts: vec!["test-context".into(), "other".into()], ..Default::default() };
        let mut app = App::new("test-context", Theme::new(true)).with_session(session);
        app.update(Msg::Watch(updates.clone()));
        // Stand the cursor on a node (the grid's first cell can be an empty group).
        type_keys(&mut app, reach(view));
        type_keys(&mut app, "jj");
        type_keys(&mut app, popup);
        draw(&mut app, w, h);
        for op in ops {
            match op {
                Op::Key(k) => {
                    let fx = app.update(Msg::Key(k));
                    answer(&mut app, fx);
                }
                Op::Command(c) => type_keys(&mut app, &format!(":{c}\r")),
                Op::Resize(nw, nh) => {
                    (w, h) = (nw, nh);
                    app.update(Msg::Resize(w, h));
                }
                Op::Stale => {
                    let st = SyncState::Reconnecting {
                        reason: "connection refused".into(),
                        failure: daemonscope::cluster::watch::SyncFailure::Unreachable,
                        fatal: false,
                        retry_in: Duration::from_secs(3),
                    };
                    app.update(Msg::Watch(vec![Update::Sync(Resource::Pods, st)]));
                }
                Op::Tick => {
                    app.update(Msg::Tick);
                }
            }
            draw(&mut app, w, h);
        }
        Ok::<(), TestCaseError>(())
    });
    if let Err(e) = result {
        panic!("{e}");
    }
}

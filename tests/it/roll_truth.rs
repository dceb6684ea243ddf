//! The OnDelete roll tells the truth on screen (TestBackend, the demo's cilium): its
//! progress replaces the confirmation's line as it arrives, without a key; paused is
//! shown as paused; the rollout view says the roll is replacing pods; with dry-run on,
//! `R` is a plan-only preview that says so before `y` and sends nothing.

use crate::common;

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use daemonscope::cluster::jobs::{Effect, JobResult};
use daemonscope::cluster::roll::{RollState, RollStatus};
use daemonscope::ui::{App, Msg, Theme, View};
use ratatui::Terminal;
use ratatui::backend::TestBackend;

fn app() -> App {
    let mut app = App::new("test-context", Theme::new(false));
    let _ = app.update(Msg::Watch(common::all_updates(&common::demo_at(5, 3))));
    app
}

fn keys(app: &mut App, s: &str) -> Vec<Effect> {
    let mut fx = Vec::new();
    for c in s.chars() {
        let code = if c == '\r' { KeyCode::Enter } else { KeyCode::Char(c) };
        fx.extend(app.update(Msg::Key(KeyEvent::new(code, KeyModifiers::NONE))));
    }
    fx
}

fn screen(app: &mut App, w: u16, h: u16) -> String {
    let mut t = Terminal::new(TestBackend::new(w, h)).unwrap();
    t.draw(|f| app.draw(f)).unwrap();
    common::screen_text(t.backend().buffer())
}

fn status(state: RollState, done: usize, remaining: usize) -> RollStatus {
    RollStatus {
        ds: "kube-system/cilium".into(),
        state,
        done,
        remaining,
        in_flight: vec![],
        skipped: vec![],
        draining: vec![],
        cordoned: vec![],
        blockers: vec![],
    }
}

#[test]
fn the_rolls_progress_shows_as_it_arrives_and_paused_reads_paused() {
    let mut app = app();
    // cilium (OnDelete) is the first row; R Enter chooses the roll.
    keys(&mut app, "R\r");
    let fx = keys(&mut app, "y");
    assert!(matches!(fx.as_slice(), [Effect::Roll(_)]), "{fx:?}");
    assert!(app.message().is_some_and(|m| m.starts_with("roll ")), "{:?}", app.message());
    // The job's first report: the bottom line moves on with no key pressed.
    let _ = app.update(Msg::Job(JobResult::Roll(status(RollState::Running, 1, 47))));
    let s = screen(&mut app, 120, 35);
    assert!(s.lines().last().unwrap().contains("roll of kube-system/cilium running — 1 replaced, 47 to go"), "{s}");
    assert!(s.lines().next().unwrap().contains("[REAL roll of kube-system/cilium running]"), "{s}");
    // Paused is shown as paused, on both lines.
    let _ = app.update(Msg::Job(JobResult::Roll(status(RollState::Paused, 12, 37))));
    let s = screen(&mut app, 120, 35);
    assert!(s.lines().next().unwrap().contains("[REAL roll of kube-system/cilium paused]"), "{s}");
    assert!(s.lines().last().unwrap().contains("roll of kube-system/cilium paused (:roll resume) — 12 replaced, 37 to go"), "{s}");
    // The rollout view of cilium says what the roll does, not "waiting for pod deletions".
    let _ = app.update(Msg::Job(JobResult::Roll(status(RollState::Running, 13, 36))));
    keys(&mut app, "r");
    assert_eq!(app.view(), View::Rollout);
    let s = screen(&mut app, 120, 35);
    let row = s.lines().find(|l| l.contains("kube-system/cilium") && l.contains("OnDelete")).unwrap_or_else(|| panic!("{s}"));
    assert!(row.contains("roll replacing pods") && !row.contains("waiting for pod deletions"), "{row}");
}

#[test]
fn with_dry_run_on_r_is_a_preview_that_says_so_and_sends_nothing() {
    let mut app = app();
    keys(&mut app, ":dry-run on\r");
    keys(&mut app, "R\r");
    for (w, h) in [(80, 24), (120, 35)] {
        let s = screen(&mut app, w, h);
        assert!(s.contains("preview"), "{s}");
        assert!(s.contains("nothing is sent"), "said before the key: {s}");
        assert!(!s.contains("y confirm"), "no confirmation that would then refuse: {s}");
    }
    let fx = keys(&mut app, "y");
    assert!(fx.is_empty(), "nothing sent: {fx:?}");
    assert_eq!(app.message(), Some("roll preview closed: nothing was sent (dry-run is on; :dry-run off to roll)"));
}

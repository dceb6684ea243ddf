//! Steady state at scale: after the client's initial sync of 15,000 nodes × 30 DaemonSets
//! from the streaming generator (`sim::stream`), a fleet-wide rollout — every
//! RollingUpdate DaemonSet moves to a new revision, its pods go not ready on it, then
//! ready half a second later — arrives as 10,000 pod MODIFIED events a second for a
//! minute, through the real client: HTTP watch → decode → model → a draw of the view on
//! a ratatui TestBackend (200×50), in the TUI's own loop (a batch of what has arrived,
//! then one frame). Event-to-screen latency: from when the generator was due to send an
//! event (its rate's schedule, on this process's clock) to the end of the first frame
//! drawn after it was applied; p50 / p99 / max over the minute, and over its first and
//! last 10 s (does the lag grow?); frame times (update and draw).
//!
//! `cargo bench --bench steady` (DAEMONSCOPE_BENCH_NODES=15000, DAEMONSCOPE_BENCH_RATE=10000
//! events/s, DAEMONSCOPE_BENCH_SECS=60, DAEMONSCOPE_BENCH_VIEWS=daemonsets,rollout — any of
//! daemonsets, grid, matrix, nodes, rollout). Under `cargo test` it runs 200 nodes at
//! 1,000 events/s for 2 s as a smoke test. Results print as a Markdown table.

use std::collections::HashSet;
use std::time::{Duration, Instant};

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use daemonscope::cluster::watch::{self, Scope, SyncState, Update};
use daemonscope::model::{Change, Resource};
use daemonscope::sim::stream::Generator;
use daemonscope::ui::{App, Msg, Theme};
use ratatui::Terminal;
use ratatui::backend::TestBackend;

/// What the TUI's loop takes from the channel at most before drawing (as src/tui.rs).
const BATCH: usize = 20_000;

fn env_or<T: std::str::FromStr>(name: &str, default: T) -> T {
    std::env::var(name).ok().and_then(|v| v.parse().ok()).unwrap_or(default)
}

fn keys(view: &str) -> Vec<KeyCode> {
    match view {
        "grid" => vec![KeyCode::Enter],
        "matrix" => vec![KeyCode::Char('m')],
        "nodes" => vec![KeyCode::Char('n'), KeyCode::Char('s')],
        "rollout" => vec![KeyCode::Char('r')],
        _ => vec![],
    }
}

fn main() {
    let full = std::env::args().any(|a| a == "--bench");
    let (nodes, rate, secs) = if full {
        (
            env_or("DAEMONSCOPE_BENCH_NODES", 15_000usize),
            env_or("DAEMONSCOPE_BENCH_RATE", 10_000u32),
            env_or("DAEMONSCOPE_BENCH_SECS", 60u64),
        )
    } else {
        (200, 1_000, 2)
    };
    let views: Vec<String> = if full {
        env_or("DAEMONSCOPE_BENCH_VIEWS", "daemonsets,rollout".to_string()).split(',').map(|s| s.trim().to_string()).collect()
    } else {
        vec!["rollout".into()]
    };
    let rt = tokio::runtime::Builder::new_multi_thread().enable_all().build().unwrap();
    println!(
        "\n| nodes × DaemonSets | view | events sent / applied | event-to-screen p50 / p99 / max | first 10 s: p50 / p99 | last 10 s: p50 / p99 | frames | frame (update + draw) p50 / p99 / max | draw p50 / p99 / max |"
    );
    println!("|---|---|---|---|---|---|---|---|---|");
    for view in views {
        println!("{}", rt.block_on(measure(nodes, 30, rate, secs, &view)));
    }
}

fn pct(v: &mut [f64], p: f64) -> f64 {
    if v.is_empty() {
        return f64::NAN;
    }
    v.sort_by(f64::total_cmp);
    v[((v.len() - 1) as f64 * p).round() as usize]
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

async fn measure(nodes: usize, dss: usize, rate: u32, secs: u64, view: &str) -> String {
    let generator = Generator::new(nodes, dss).expect("generator");
    let serving = generator.serve("127.0.0.1:0").await.expect("listen");
    let client =
        kube::Client::try_from(daemonscope::cluster::connect::own_retries(kube::Config::new(serving.url.parse().unwrap()))).unwrap();
    let (tx, mut rx) = tokio::sync::mpsc::channel(16_384);
    let handles = watch::spawn(client.into(), Scope::default(), tx);
    let mut app = App::new("bench", Theme::new(true));
    let mut term = Terminal::new(TestBackend::new(200, 50)).unwrap();

    // The initial sync, as the TUI takes it.
    let t = Instant::now();
    let mut live = HashSet::new();
    while live.len() < Resource::ALL.len() {
        let mut batch = vec![rx.recv().await.expect("watching")];
        while batch.len() <= BATCH {
            match rx.try_recv() {
                Ok(u) => batch.push(u),
                Err(_) => break,
            }
        }
        for u in &batch {
            match u {
                Update::Sync(r, SyncState::Live) => {
                    live.insert(*r);
                }
                Update::Sync(r, SyncState::Reconnecting { reason, .. }) => panic!("{r:?}: {reason}"),
                _ => {}
            }
        }
        app.update(Msg::Watch(batch));
    }
    eprintln!("{nodes} nodes: synced in {:.1} s", t.elapsed().as_secs_f64());
    for k in keys(view) {
        app.update(Msg::Key(KeyEvent::new(k, KeyModifiers::NONE)));
    }
    term.draw(|f| app.draw(f)).unwrap();

    // The rollout: pod event k is due at rollout.due(k); the watch delivers them in order.
    let rollout = generator.start_rollout(rate, rate as u64 * secs);
    let mut applied = 0u64;
    // (due, latency) per event.
    let mut lat: Vec<(f64, f64)> = Vec::with_capacity(rollout.events as usize);
    let (mut frames, mut draws) = (Vec::new(), Vec::new());
    let deadline = Instant::now() + Duration::from_secs(secs * 3 + 30);
    while applied < rollout.events {
        let Ok(Some(first)) = tokio::time::timeout_at(deadline.into(), rx.recv()).await else {
            panic!("{applied} of {} events applied before the deadline", rollout.events)
        };
        let frame_start = Instant::now();
        let mut batch = vec![first];
        while batch.len() <= BATCH {
            match rx.try_recv() {
                Ok(u) => batch.push(u),
                Err(_) => break,
            }
        }
        let first_k = applied;
        for u in &batch {
            match u {
                Update::Change(Change::Pod(_)) => applied += 1,
                Update::Sync(r, SyncState::Reconnecting { reason, .. }) => panic!("{r:?}: {reason}"),
                _ => {}
            }
        }
        app.update(Msg::Watch(batch));
        let draw_start = Instant::now();
        term.draw(|f| app.draw(f)).unwrap();
        let shown = Instant::now();
        draws.push(ms(shown - draw_start));
        frames.push(ms(shown - frame_start));
        for k in first_k..applied {
            let due = rollout.due(k);
            lat.push(((due - rollout.started).as_secs_f64(), ms(shown.saturating_duration_since(due))));
        }
    }
    for h in handles {
        h.abort();
    }
    let sent = generator.sent();
    assert_eq!(sent, applied, "every event sent was applied once, in order");
    let mut all: Vec<f64> = lat.iter().map(|l| l.1).collect();
    let span = secs as f64;
    let window = 10f64.min(span / 2.0);
    let mut first: Vec<f64> = lat.iter().filter(|l| l.0 < window).map(|l| l.1).collect();
    let mut last: Vec<f64> = lat.iter().filter(|l| l.0 >= span - window).map(|l| l.1).collect();
    let max = all.iter().copied().fold(0.0, f64::max);
    let (fmax, dmax) = (frames.iter().copied().fold(0.0, f64::max), draws.iter().copied().fold(0.0, f64::max));
    format!(
        "| {nodes} × {dss} | {view} | {sent} / {applied} | {:.0} / {:.0} / {max:.0} ms | {:.0} / {:.0} ms | {:.0} / {:.0} ms | {} | {:.1} / {:.1} / {fmax:.1} ms | {:.1} / {:.1} / {dmax:.1} ms |",
        pct(&mut all, 0.5),
        pct(&mut all, 0.99),
        pct(&mut first, 0.5),
        pct(&mut first, 0.99),
        pct(&mut last, 0.5),
        pct(&mut last, 0.99),
        frames.len(),
        pct(&mut frames, 0.5),
        pct(&mut frames, 0.99),
        pct(&mut draws, 0.5),
        pct(&mut draws, 0.99),
    )
}

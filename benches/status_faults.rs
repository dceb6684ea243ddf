//! `daemonscope status --wait` end to end against `daemonscope sim` with 2,000 nodes × 20
//! DaemonSets, fault-free and under `--throttle 0.1 --server-errors 0.05 --latency 50ms
//! --drop-watches 20s --expire-every 45s --fault-seed 13` (429s, 500s, cut watches, expired
//! continue tokens). Prints both wall times as a Markdown table.
//!
//! `cargo bench --bench status_faults` (DAEMONSCOPE_BENCH_RUNS=N runs each, default 3).
//! Under `cargo test` (no `--bench`) it runs once each on 100 nodes × 3 DaemonSets, as a
//! smoke test that the faulted run completes.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::Instant;

const FAULTS: &[&str] = &[
    "--throttle",
    "0.1",
    "--server-errors",
    "0.05",
    "--latency",
    "50ms",
    "--drop-watches",
    "20s",
    "--expire-every",
    "45s",
    "--fault-seed",
    "13",
];

/// Seconds `status --wait` takes against a fresh simulator started with `faults`.
fn run(nodes: &str, daemonsets: &str, faults: &[&str]) -> f64 {
    let dir = tempfile::tempdir().unwrap();
    let kc = dir.path().join("kc");
    let mut sim = Command::new(env!("CARGO_BIN_EXE_daemonscope"))
        .args(["sim", "--nodes", nodes, "--daemonsets", daemonsets, "--kubeconfig-out"])
        .arg(&kc)
        .args(faults)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(sim.stdout.take().unwrap()).lines();
    while let Some(Ok(l)) = lines.next() {
        if l.starts_with("serving ") {
            break;
        }
    }
    let started = Instant::now();
    let out = Command::new(env!("CARGO_BIN_EXE_daemonscope"))
        .args(["status", "--wait", "--timeout", "240s", "-o", "json", "--kubeconfig"])
        .arg(&kc)
        .env("XDG_STATE_HOME", dir.path())
        .output()
        .unwrap();
    let secs = started.elapsed().as_secs_f64();
    let _ = sim.kill();
    let _ = sim.wait();
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    secs
}

fn main() {
    let bench = std::env::args().any(|a| a == "--bench");
    let (nodes, daemonsets, default_runs) = if bench { ("2000", "20", 3) } else { ("100", "3", 1) };
    let runs: usize = std::env::var("DAEMONSCOPE_BENCH_RUNS").ok().and_then(|r| r.parse().ok()).unwrap_or(default_runs);
    println!("| {nodes} nodes × {daemonsets} DaemonSets | status --wait (median of {runs}) |\n|---|---|");
    for (name, faults) in [("fault-free", &[][..]), ("faults (seed 13)", FAULTS)] {
        let mut t: Vec<f64> = (0..runs).map(|_| run(nodes, daemonsets, faults)).collect();
        t.sort_by(f64::total_cmp);
        println!("| {name} | {:.1} s |", t[t.len() / 2]);
    }
}

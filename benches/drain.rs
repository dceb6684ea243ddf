//! Draining nodes of `daemonscope sim --workloads-per-node 20`: `daemonscope drain` of 50
//! nodes at once against `kubectl drain` of the same 50 nodes run one after another, each
//! on a fresh simulator with the same cluster. Prints wall time, requests (from the
//! simulator's request log) and requests per evicted pod as a Markdown table.
//!
//! `cargo bench --bench drain` (needs kubectl on PATH; NODES=N changes the 50;
//! ONLY=daemonscope or ONLY=kubectl runs one side). The cluster
//! has twice as many untainted workers as are drained, so evicted pods have somewhere to
//! go and the budgets (web maxUnavailable 10%, cache minAvailable 50%) let the drains
//! through. Under `cargo test` (no `--bench`) it drains 2 nodes of 3 pods once, as a smoke
//! test that both complete.

use std::process::Command;
use std::time::{Duration, Instant};

use daemonscope::sim::{Sim, SimOptions, generator};
use k8s_openapi::api::apps::v1::Deployment;
use k8s_openapi::api::core::v1::Node;

struct Run {
    secs: f64,
    requests: usize,
    evicted: usize,
}

/// The names of the untainted worker nodes of a synthetic cluster of `n` nodes.
fn workers(sim: &daemonscope::sim::Running) -> Vec<String> {
    let (nodes, _) = sim.store.list::<Node>(None);
    let mut out: Vec<String> = nodes
        .iter()
        .filter(|n| n.spec.as_ref().and_then(|s| s.taints.as_ref()).is_none_or(|t| t.is_empty()))
        .filter_map(|n| n.metadata.name.clone())
        .collect();
    out.sort();
    out
}

/// Serves a fresh cluster of `nodes` nodes with `per_node` workload pods each, waits until
/// every Deployment is available, then times `drain` on `count` of its workers.
fn run(rt: &tokio::runtime::Runtime, nodes: usize, per_node: usize, count: usize, kubectl: bool) -> Run {
    let mut sc = generator::scenario(nodes, 5);
    generator::add_workloads(&mut sc, per_node);
    let dir = tempfile::tempdir().unwrap();
    let kc = dir.path().join("kc");
    let sim = rt.block_on(async {
        let sim = Sim::build(&sc, SimOptions::from_scenario(&sc)).unwrap().serve("127.0.0.1:0").await.unwrap();
        daemonscope::sim::write_kubeconfig(&kc, sim.url(), sim.ca_pem.as_deref(), sim.token.as_deref()).unwrap();
        sim
    });
    let deadline = Instant::now() + Duration::from_secs(300);
    loop {
        let (ds, _) = sim.store.list::<Deployment>(None);
        let ready = ds.iter().all(|d| {
            let want = d.spec.as_ref().and_then(|s| s.replicas).unwrap_or(1);
            d.status.as_ref().and_then(|s| s.available_replicas) == Some(want)
        });
        if ready || Instant::now() > deadline {
            assert!(ready, "deployments not available in 5 minutes");
            break;
        }
        std::thread::sleep(Duration::from_millis(200));
    }
    let targets: Vec<String> = workers(&sim).into_iter().take(count).collect();
    assert_eq!(targets.len(), count, "not enough untainted workers");
    let flags = ["--ignore-daemonsets", "--force", "--delete-emptydir-data", "--kubeconfig"];
    let before = sim.api.request_log().len();
    let started = Instant::now();
    if kubectl {
        for n in &targets {
            let out = Command::new("kubectl").args(["drain", n]).args(flags).arg(&kc).output().unwrap();
            assert!(out.status.success(), "kubectl drain {n}: {}", String::from_utf8_lossy(&out.stderr));
        }
    } else {
        let out = Command::new(env!("CARGO_BIN_EXE_daemonscope"))
            .arg("drain")
            .args(&targets)
            .args(flags)
            .arg(&kc)
            .env("XDG_STATE_HOME", dir.path())
            .output()
            .unwrap();
        assert!(out.status.success(), "daemonscope drain: {}", String::from_utf8_lossy(&out.stderr));
    }
    let secs = started.elapsed().as_secs_f64();
    let log = sim.api.request_log();
    let mine = &log[before..];
    let evicted = mine.iter().filter(|r| r.method == "POST" && r.path.ends_with("/eviction") && r.status == 201).count();
    Run { secs, requests: mine.len(), evicted }
}

fn main() {
    let bench = std::env::args().any(|a| a == "--bench");
    if Command::new("kubectl").arg("version").arg("--client").output().is_err() {
        eprintln!("SKIPPED: no kubectl on PATH");
        return;
    }
    let count: usize = std::env::var("NODES").ok().and_then(|n| n.parse().ok()).unwrap_or(50);
    // Enough nodes that twice `count` are untainted workers (the GPU pool is tainted, the
    // control plane too).
    let (nodes, per_node, count) = if bench { (count * 2 * 100 / 94 + 4, 20, count) } else { (6, 3, 2) };
    let rt = tokio::runtime::Runtime::new().unwrap();
    println!("| {count} nodes × ~{per_node} workload pods | wall | requests | evicted | requests per evicted pod |\n|---|---|---|---|---|");
    let only = std::env::var("ONLY").unwrap_or_default();
    let sides = [("daemonscope drain (all nodes, one command)", false), ("kubectl drain (node by node)", true)];
    for (name, kubectl) in sides.into_iter().filter(|(_, k)| only.is_empty() || (only == "kubectl") == *k) {
        let r = run(&rt, nodes, per_node, count, kubectl);
        println!("| {name} | {:.1} s | {} | {} | {:.1} |", r.secs, r.requests, r.evicted, r.requests as f64 / r.evicted.max(1) as f64);
    }
}

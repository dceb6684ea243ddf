//! The client's initial sync against the simulator, end to end (HTTP, JSON decoding,
//! compaction into the model), at 1,000 / 5,000 / 15,000 nodes × 30 DaemonSets; the
//! model's memory per pod; and, in the same run against the same simulator, `kubectl get
//! pods -A -o json` for the ratio.
//!
//! `cargo bench --bench client_sync` (sizes: DAEMONSCOPE_BENCH_SIZES=1000,5000,15000;
//! kubectl only up to DAEMONSCOPE_BENCH_KUBECTL_MAX_NODES=5000 — it needs minutes and
//! gigabytes beyond). Under `cargo test` it runs once at 200 nodes as a smoke test.
//! Results print as a Markdown table.

mod common;

use std::alloc::{GlobalAlloc, Layout, System};
use std::collections::HashSet;
use std::sync::atomic::{AtomicIsize, Ordering};
use std::time::{Duration, Instant};

use daemonscope::cluster::watch::{self, Scope, SyncState, Update};
use daemonscope::model::{Model, Resource};
use daemonscope::sim::{Sim, SimOptions, generator};

/// Counts live heap bytes, to weigh the model.
struct Counting;

static LIVE: AtomicIsize = AtomicIsize::new(0);

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, l: Layout) -> *mut u8 {
        LIVE.fetch_add(l.size() as isize, Ordering::Relaxed);
        unsafe { System.alloc(l) }
    }
    unsafe fn dealloc(&self, p: *mut u8, l: Layout) {
        LIVE.fetch_sub(l.size() as isize, Ordering::Relaxed);
        unsafe { System.dealloc(p, l) }
    }
    unsafe fn realloc(&self, p: *mut u8, l: Layout, new: usize) -> *mut u8 {
        LIVE.fetch_add(new as isize - l.size() as isize, Ordering::Relaxed);
        unsafe { System.realloc(p, l, new) }
    }
}

#[global_allocator]
static ALLOC: Counting = Counting;

fn env_list(name: &str, default: &[usize]) -> Vec<usize> {
    std::env::var(name).ok().map(|v| v.split(',').filter_map(|s| s.trim().parse().ok()).collect()).unwrap_or_else(|| default.to_vec())
}

fn main() {
    let full = std::env::args().any(|a| a == "--bench");
    let sizes = if full { env_list("DAEMONSCOPE_BENCH_SIZES", &[1000, 5000, 15000]) } else { vec![200] };
    let kubectl_max = env_list("DAEMONSCOPE_BENCH_KUBECTL_MAX_NODES", &[5000])[0];
    let rt = tokio::runtime::Builder::new_multi_thread().enable_all().build().unwrap();
    println!(
        "\n| nodes × DaemonSets | daemon pods | simulator settle | daemonscope sync (watch → model) | events/s | model heap per pod | kubectl get pods -A -o json | kubectl ÷ daemonscope |"
    );
    println!("|---|---|---|---|---|---|---|---|");
    for n in sizes {
        let row = rt.block_on(measure(n, 30, full && n <= kubectl_max && common::kubectl_ok()));
        println!("{row}");
    }
}

async fn measure(nodes: usize, dss: usize, with_kubectl: bool) -> String {
    let sc = generator::scenario(nodes, dss);
    let t = Instant::now();
    let sim = Sim::build(&sc, SimOptions::from_scenario(&sc)).expect("synthetic scenario loads");
    let settle = t.elapsed();
    let pods = sim.store.read(|i| i.pods.len());
    // Plain HTTP without a token: the numbers measure the API, not TLS (as before).
    let running = sim.serve_with("127.0.0.1:0", daemonscope::sim::Transport::InsecureHttp).await.expect("listen");
    let url = running.url().to_string();
    let config = daemonscope::cluster::connect::own_retries(kube::Config::new(url.parse().unwrap()));
    let client = kube::Client::try_from(config).unwrap();

    // The client's sync: every watch listed and live, every event applied to the model.
    let t = Instant::now();
    let (tx, mut rx) = tokio::sync::mpsc::channel(16_384);
    let handles = watch::spawn(client.into(), Scope::default(), tx);
    let mut model = Model::new();
    let mut live = HashSet::new();
    let mut events = 0u64;
    while live.len() < Resource::ALL.len() {
        match rx.recv().await.expect("watchers running") {
            Update::Change(c) => {
                events += 1;
                model.apply(c);
            }
            Update::Sync(r, SyncState::Live) => {
                live.insert(r);
            }
            Update::Sync(r, SyncState::Reconnecting { reason, .. }) => panic!("{r:?}: {reason}"),
            Update::Sync(..) => {}
        }
    }
    let sync = t.elapsed();
    for h in handles {
        h.abort();
    }
    tokio::time::sleep(Duration::from_millis(200)).await;
    let with_model = LIVE.load(Ordering::Relaxed);
    assert_eq!(model.pod_count(), pods, "every daemon pod reached the model");
    let held = model.pod_count();
    drop(model);
    let without = LIVE.load(Ordering::Relaxed);
    let per_pod = (with_model - without) as f64 / held.max(1) as f64;

    let kubectl = if with_kubectl {
        let url = url.clone();
        Some(tokio::task::spawn_blocking(move || common::kubectl_get_all_pods(&url)).await.unwrap())
    } else {
        None
    };
    drop(running);
    let (k, ratio) = match kubectl {
        Some(k) => (format!("{:.1} s", k.as_secs_f64()), format!("{:.1}×", k.as_secs_f64() / sync.as_secs_f64())),
        None => ("—".into(), "—".into()),
    };
    format!(
        "| {nodes} × {dss} | {pods} | {:.1} s | {:.1} s | {:.0}k | {:.0} B | {k} | {ratio} |",
        settle.as_secs_f64(),
        sync.as_secs_f64(),
        events as f64 / sync.as_secs_f64() / 1000.0,
        per_pod
    )
}

//! Shared by the benchmarks (each uses a part of it).
#![allow(dead_code)]

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicIsize, Ordering};

/// Counts live heap bytes, to weigh what a bench keeps: a bench installs it with
/// `#[global_allocator] static ALLOC: common::Counting = common::Counting;`.
pub struct Counting;

pub static LIVE: AtomicIsize = AtomicIsize::new(0);

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

use std::time::{Duration, Instant};

/// kubectl is on PATH and not switched off with DAEMONSCOPE_BENCH_SKIP_KUBECTL.
pub fn kubectl_ok() -> bool {
    std::env::var_os("DAEMONSCOPE_BENCH_SKIP_KUBECTL").is_none()
        && std::process::Command::new("kubectl").args(["version", "--client"]).output().is_ok_and(|o| o.status.success())
}

/// How long `kubectl get pods -A -o json > /dev/null` takes against the server at `url`
/// (blocking: call it from `spawn_blocking`).
pub fn kubectl_get_all_pods(url: &str) -> Duration {
    let dir = tempfile::tempdir().unwrap();
    let kc = dir.path().join("config");
    daemonscope::sim::write_kubeconfig(&kc, url, None, None).unwrap();
    let t = Instant::now();
    let status = std::process::Command::new("kubectl")
        .env("KUBECONFIG", &kc)
        .args(["get", "pods", "-A", "-o", "json"])
        .stdout(std::process::Stdio::null())
        .status()
        .unwrap();
    assert!(status.success(), "kubectl get pods failed");
    t.elapsed()
}

/// The client's sync: every watch listed and live, every event applied to the model.
/// Returns the time, the events applied and the model.
pub async fn client_sync(client: &kube::Client) -> (Duration, u64, daemonscope::model::Model) {
    client_sync_with(client, daemonscope::cluster::listwatch::WatchList::Auto).await
}

/// [`client_sync`], fetching each collection as `mode` says (watch-list or pages; JSON or protobuf).
pub async fn client_sync_with(
    client: &kube::Client,
    mode: impl Into<daemonscope::cluster::listwatch::Fetch>,
) -> (Duration, u64, daemonscope::model::Model) {
    let t = Instant::now();
    let (tx, mut rx) = tokio::sync::mpsc::channel(16_384);
    let mut cluster = daemonscope::cluster::connect::Cluster::from(client.clone());
    cluster.fetch = mode.into();
    let handles = daemonscope::cluster::watch::spawn(cluster, daemonscope::cluster::watch::Scope::default(), tx);
    let mut model = daemonscope::model::Model::new();
    let mut live = std::collections::HashSet::new();
    let mut events = 0u64;
    while live.len() < daemonscope::model::Resource::ALL.len() {
        match rx.recv().await.expect("watchers running") {
            daemonscope::cluster::watch::Update::Change(c) => {
                events += 1;
                model.apply(c);
            }
            daemonscope::cluster::watch::Update::Sync(r, daemonscope::cluster::watch::SyncState::Live) => {
                live.insert(r);
            }
            daemonscope::cluster::watch::Update::Sync(r, daemonscope::cluster::watch::SyncState::Reconnecting { reason, .. }) => {
                panic!("{r:?}: {reason}")
            }
            daemonscope::cluster::watch::Update::Sync(..) => {}
        }
    }
    let sync = t.elapsed();
    for h in handles {
        h.abort();
    }
    (sync, events, model)
}

/// A comma-separated list of numbers from the environment variable `name`, or `default`.
pub fn env_list(name: &str, default: &[usize]) -> Vec<usize> {
    std::env::var(name).ok().map(|v| v.split(',').filter_map(|s| s.trim().parse().ok()).collect()).unwrap_or_else(|| default.to_vec())
}

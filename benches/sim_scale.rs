//! Simulator at scale: settle time, paginated list, peak memory, kubectl's full list,
//! and 10 concurrent watchers following a rolling update of every DaemonSet.
//!
//! `cargo bench --bench sim_scale` runs 5,000 nodes × 30 DaemonSets (override with
//! DAEMONSCOPE_BENCH_NODES / DAEMONSCOPE_BENCH_DAEMONSETS); under `cargo test` it runs
//! a 200-node smoke version. Results print as a Markdown table.

mod common;

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use daemonscope::sim::kind::Kind;
use daemonscope::sim::scenario::Action;
use daemonscope::sim::{Sim, SimOptions, generator};
use futures::{StreamExt, TryStreamExt};
use k8s_openapi::api::apps::v1::DaemonSet;
use k8s_openapi::api::core::v1::Pod;
use kube::api::{Api, ListParams, WatchEvent, WatchParams};

fn peak_rss_mb() -> f64 {
    let s = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    s.lines().find(|l| l.starts_with("VmHWM:")).and_then(|l| l.split_whitespace().nth(1)).and_then(|k| k.parse::<f64>().ok()).unwrap_or(0.0)
        / 1024.0
}

fn env_or(name: &str, default: usize) -> usize {
    std::env::var(name).ok().and_then(|v| v.parse().ok()).unwrap_or(default)
}

fn main() {
    let full = std::env::args().any(|a| a == "--bench");
    let (nodes, dss) = if full { (env_or("DAEMONSCOPE_BENCH_NODES", 5000), env_or("DAEMONSCOPE_BENCH_DAEMONSETS", 30)) } else { (200, 10) };
    let rt = tokio::runtime::Builder::new_multi_thread().enable_all().build().unwrap();
    rt.block_on(run(nodes, dss, full));
}

async fn run(nodes: usize, dss: usize, full: bool) {
    let mut rows: Vec<(String, String)> = Vec::new();
    let sc = generator::scenario(nodes, dss);
    let t = Instant::now();
    let sim = Sim::build(&sc, SimOptions::from_scenario(&sc)).expect("synthetic scenario loads");
    let settle = t.elapsed();
    let pods_total = sim.store.read(|i| i.pods.len());
    rows.push((format!("start: {nodes} nodes × {dss} DaemonSets, {pods_total} pods, settled"), format!("{:.1} s", settle.as_secs_f64())));
    // Plain HTTP without a token: the numbers measure the API, not TLS (as before).
    let running = sim.serve_with("127.0.0.1:0", daemonscope::sim::Transport::InsecureHttp).await.expect("listen");
    let url = running.url().to_string();
    let client = kube::Client::try_from(kube::Config::new(url.parse().unwrap())).unwrap();

    // kube-rs paginated list of every pod (pages of 500).
    let pods: Api<Pod> = Api::all(client.clone());
    let t = Instant::now();
    let mut lp = ListParams::default().limit(500);
    let mut n = 0;
    loop {
        let page = pods.list(&lp).await.expect("list page");
        n += page.items.len();
        match page.metadata.continue_.filter(|c| !c.is_empty()) {
            Some(c) => lp = lp.continue_token(&c),
            None => break,
        }
    }
    assert_eq!(n, pods_total, "the paginated list saw every pod once");
    rows.push(("kube-rs paginated list of all pods (limit 500)".into(), format!("{:.2} s", t.elapsed().as_secs_f64())));

    // kubectl get pods -A -o json (only in the full run: kubectl takes minutes at 5k nodes).
    if full && common::kubectl_ok() {
        let u = url.clone();
        let took = tokio::task::spawn_blocking(move || common::kubectl_get_all_pods(&u)).await.unwrap();
        rows.push(("kubectl get pods -A -o json > /dev/null".into(), format!("{:.1} s", took.as_secs_f64())));
    }

    // 10 watchers on all pods while every DaemonSet rolls.
    let rv = pods.list(&ListParams::default().limit(1)).await.unwrap().metadata.resource_version.unwrap();
    // Each watcher publishes what it has seen; they are stopped (aborted) at the end.
    #[derive(Default)]
    struct Seen {
        events: AtomicU64,
        last_rv: AtomicU64,
        expired: AtomicBool,
    }
    let mut watchers = Vec::new();
    let mut seen = Vec::new();
    for _ in 0..10 {
        let pods = pods.clone();
        let rv = rv.clone();
        let s = Arc::new(Seen::default());
        seen.push(s.clone());
        watchers.push(tokio::spawn(async move {
            let mut st = pods.watch(&WatchParams::default().timeout(290), &rv).await.expect("watch").boxed();
            while let Ok(Some(ev)) = st.try_next().await {
                match ev {
                    WatchEvent::Added(p) | WatchEvent::Modified(p) | WatchEvent::Deleted(p) => {
                        s.events.fetch_add(1, Ordering::Relaxed);
                        if let Some(v) = p.metadata.resource_version.and_then(|v| v.parse().ok()) {
                            s.last_rv.store(v, Ordering::Relaxed);
                        }
                    }
                    WatchEvent::Bookmark(b) => {
                        if let Ok(v) = b.metadata.resource_version.parse() {
                            s.last_rv.store(v, Ordering::Relaxed);
                        }
                    }
                    WatchEvent::Error(e) => {
                        s.expired.store(e.code == 410, Ordering::Relaxed);
                        break;
                    }
                }
            }
        }));
    }
    let ds_api: Api<DaemonSet> = Api::all(client.clone());
    let all_ds = ds_api.list(&ListParams::default()).await.unwrap();
    for d in &all_ds.items {
        let c = &d.spec.as_ref().unwrap().template.spec.as_ref().unwrap().containers[0];
        let patch = serde_json::json!({"spec": {"template": {"spec": {"containers": [{"name": c.name, "image": format!("{}-next", c.image.clone().unwrap())}]}}}});
        running_apply(&running, d.metadata.namespace.as_deref().unwrap(), d.metadata.name.as_deref().unwrap(), patch);
    }
    let rollout_window = if full { Duration::from_secs(90) } else { Duration::from_secs(6) };
    let t = Instant::now();
    let start_rv = running.store.current_rv();
    // Let the controller observe the new generations before judging completion.
    tokio::time::sleep(Duration::from_secs(1)).await;
    let rolling: Vec<_> = all_ds
        .items
        .iter()
        .filter(|d| d.spec.as_ref().unwrap().update_strategy.as_ref().and_then(|u| u.type_.as_deref()) == Some("RollingUpdate"))
        .collect();
    loop {
        tokio::time::sleep(Duration::from_millis(500)).await;
        let done = rolling.iter().all(|d| {
            let cur =
                running.store.get::<DaemonSet>(d.metadata.namespace.as_deref().unwrap(), d.metadata.name.as_deref().unwrap()).unwrap();
            let st = cur.status.clone().unwrap();
            st.observed_generation == cur.metadata.generation
                && st.updated_number_scheduled == Some(st.desired_number_scheduled)
                && st.number_available == Some(st.desired_number_scheduled)
        });
        if done || t.elapsed() > rollout_window {
            break;
        }
    }
    let rolled = t.elapsed();
    let writes = running.store.current_rv() - start_rv;
    // Let watchers drain, then stop them by dropping the server.
    tokio::time::sleep(Duration::from_secs(2)).await;
    let end_rv = running.store.current_rv();
    rows.push((
        format!("rolling update of {} RollingUpdate DaemonSets (window {}s)", rolling.len(), rollout_window.as_secs()),
        format!("{:.1} s, {writes} writes", rolled.as_secs_f64()),
    ));
    let mut min_events = u64::MAX;
    let mut max_lag = 0u64;
    let mut any_expired = false;
    for (w, s) in watchers.iter().zip(&seen) {
        w.abort();
        min_events = min_events.min(s.events.load(Ordering::Relaxed));
        max_lag = max_lag.max(end_rv.saturating_sub(s.last_rv.load(Ordering::Relaxed)));
        any_expired |= s.expired.load(Ordering::Relaxed);
    }
    drop(running);
    rows.push((
        "10 watchers: fewest pod events received / max lag behind the store at the end (resourceVersions)".into(),
        format!("{min_events} / {max_lag}"),
    ));
    rows.push(("10 watchers: any 410 Gone".into(), any_expired.to_string()));
    rows.push(("peak resident memory of this process (simulator + clients)".into(), format!("{:.0} MB", peak_rss_mb())));
    println!("\n| measurement | result |\n|---|---|");
    for (k, v) in &rows {
        println!("| {k} | {v} |");
    }
    assert!(!any_expired, "a watcher fell behind the event history");
    assert!(min_events > 0, "watchers saw the rollout");
}

fn running_apply(r: &daemonscope::sim::Running, ns: &str, name: &str, patch: serde_json::Value) {
    daemonscope::sim::apply_action(&r.store, &Action::Patch { kind: Kind::DaemonSet, namespace: ns.into(), name: name.into(), patch })
        .expect("patch");
}

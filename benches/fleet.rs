//! The fleet at scale, in one process: 10 simulators × 1,000 nodes × 30 DaemonSets served
//! over HTTP, and the client side as the fleet TUI runs it — one client, one set of
//! watches and one app per cluster, every watch update fed to its cluster's app. Measured
//! against the same client on one of those clusters alone: the time until every watch is
//! live, the memory the client side adds (resident set before and after the sync, and
//! live heap with a counting allocator), and the time to draw the fleet view (200×50).
//!
//! `cargo bench --bench fleet` (DAEMONSCOPE_BENCH_CLUSTERS=10, DAEMONSCOPE_BENCH_NODES=1000,
//! DAEMONSCOPE_BENCH_DAEMONSETS=30). Under `cargo test` it runs once at 3 × 100 × 5 as a
//! smoke test. Results print as a Markdown table.

mod common;

use std::sync::atomic::Ordering;
use std::task::Poll;
use std::time::{Duration, Instant};

use daemonscope::cluster::watch::{self, Scope, SyncState, Update};
use daemonscope::model::Resource;
use daemonscope::sim::{Running, Sim, SimOptions, generator};
use daemonscope::ui::{FleetApp, Msg, Session, Theme};
use ratatui::Terminal;
use ratatui::backend::TestBackend;

#[global_allocator]
static ALLOC: common::Counting = common::Counting;

fn env_or(name: &str, default: usize) -> usize {
    std::env::var(name).ok().and_then(|v| v.parse().ok()).unwrap_or(default)
}

/// The process's resident set (VmRSS), in bytes.
fn rss() -> u64 {
    let s = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    s.lines().find_map(|l| l.strip_prefix("VmRSS:")).and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok()).unwrap_or(0)
        * 1024
}

fn main() {
    let full = std::env::args().any(|a| a == "--bench");
    let (clusters, nodes, dss) = if full {
        (env_or("DAEMONSCOPE_BENCH_CLUSTERS", 10), env_or("DAEMONSCOPE_BENCH_NODES", 1000), env_or("DAEMONSCOPE_BENCH_DAEMONSETS", 30))
    } else {
        (3, 100, 5)
    };
    let rt = tokio::runtime::Builder::new_multi_thread().enable_all().build().unwrap();
    rt.block_on(run(clusters, nodes, dss));
}

/// What syncing a fleet took.
struct Synced {
    app: FleetApp,
    took: Duration,
    /// Resident set and live heap the sync added.
    rss: i64,
    heap: isize,
    pods: usize,
}

async fn run(clusters: usize, nodes: usize, dss: usize) {
    let t = Instant::now();
    let sc = generator::scenario(nodes, dss);
    let mut sims: Vec<Running> = Vec::new();
    for _ in 0..clusters {
        let sim = Sim::build(&sc, SimOptions::from_scenario(&sc)).expect("synthetic scenario loads");
        // Plain HTTP without a token: the numbers measure the API, not TLS.
        sims.push(sim.serve_with("127.0.0.1:0", daemonscope::sim::Transport::InsecureHttp).await.expect("listen"));
    }
    let pods_each = sims[0].store.read(|i| i.pods.len());
    eprintln!("{clusters} simulators × {nodes} nodes × {dss} DaemonSets ({pods_each} pods each) up in {:.1}s", t.elapsed().as_secs_f64());
    let mut single = sync(&sims[..1]).await;
    assert_eq!(single.pods, pods_each, "every pod reached the model");
    let single_draw = draw_time(&mut single.app);
    let mut fleet = sync(&sims).await;
    assert_eq!(fleet.pods, pods_each * clusters, "every pod of every cluster reached its model");
    let f = fleet.app.fleet();
    assert_eq!((f.columns.len(), f.rows.len()), (clusters, dss), "one column per cluster, one row per DaemonSet");
    let draw = draw_time(&mut fleet.app);
    let (t1, rss1, heap1) = (single.took, single.rss, single.heap);
    let (took, rss_n, heap_n) = (fleet.took, fleet.rss, fleet.heap);
    let mb = |b: i64| b as f64 / 1e6;
    println!(
        "\n| measurement ({clusters} clusters × {nodes} nodes × {dss} DaemonSets, {pods_each} daemon pods each) | one cluster | the fleet | ratio |"
    );
    println!("|---|---|---|---|");
    println!(
        "| every watch live (start → last watch live) | {:.2} s | {:.2} s | {:.1}× |",
        t1.as_secs_f64(),
        took.as_secs_f64(),
        took.as_secs_f64() / t1.as_secs_f64()
    );
    println!(
        "| resident memory the client side added | {:.0} MB | {:.0} MB | {:.1}× |",
        mb(rss1),
        mb(rss_n),
        rss_n as f64 / rss1.max(1) as f64
    );
    println!(
        "| live heap the client side holds | {:.0} MB | {:.0} MB | {:.1}× |",
        mb(heap1 as i64),
        mb(heap_n as i64),
        heap_n as f64 / heap1.max(1) as f64
    );
    println!(
        "| draw the fleet view (200×50, median of 50) | {:.2} ms | {:.2} ms | |",
        single_draw.as_secs_f64() * 1e3,
        draw.as_secs_f64() * 1e3
    );
    drop((single, fleet));
    drop(sims);
}

/// Median time of drawing the fleet view at 200×50.
fn draw_time(app: &mut FleetApp) -> Duration {
    let mut term = Terminal::new(TestBackend::new(200, 50)).unwrap();
    let mut times: Vec<Duration> = (0..50)
        .map(|_| {
            let t = Instant::now();
            term.draw(|f| app.draw(f)).unwrap();
            t.elapsed()
        })
        .collect();
    times.sort();
    times[times.len() / 2]
}

/// Syncs one client per simulator in `sims` at once, as the fleet TUI does: own watches,
/// own channel, updates fed in bounded batches to that cluster's app, the channels taken
/// in turn. Returns when every watch of every cluster is live.
async fn sync(sims: &[Running]) -> Synced {
    let contexts: Vec<String> = (0..sims.len()).map(|i| format!("cluster-{i:02}")).collect();
    let (rss0, heap0) = (rss(), common::LIVE.load(Ordering::Relaxed));
    let t = Instant::now();
    let session = Session { contexts: contexts.clone(), server: None, scope: Scope::default(), readonly: true };
    let settings = daemonscope::ui::Settings { theme: Theme::new(true), ..Default::default() };
    let mut app = FleetApp::new(&contexts, &session, &settings);
    let mut rxs = Vec::new();
    let mut handles = Vec::new();
    for s in sims {
        let config = daemonscope::cluster::connect::own_retries(kube::Config::new(s.url().parse().unwrap()));
        let client = kube::Client::try_from(config).unwrap();
        let (tx, rx) = tokio::sync::mpsc::channel::<Update>(16_384);
        handles.extend(watch::spawn(client.into(), Scope::default(), tx));
        rxs.push(rx);
    }
    let mut live = vec![0usize; sims.len()];
    let mut turn = 0;
    while live.iter().any(|n| *n < Resource::ALL.len()) {
        turn += 1;
        let (i, batch) = std::future::poll_fn(|cx| {
            for k in 0..rxs.len() {
                let i = (turn + k) % rxs.len();
                if let Poll::Ready(Some(u)) = rxs[i].poll_recv(cx) {
                    let mut batch = vec![u];
                    while batch.len() <= 20_000 {
                        match rxs[i].try_recv() {
                            Ok(u) => batch.push(u),
                            Err(_) => break,
                        }
                    }
                    return Poll::Ready((i, batch));
                }
            }
            Poll::Pending
        })
        .await;
        for u in &batch {
            match u {
                Update::Sync(_, SyncState::Live) => live[i] += 1,
                Update::Sync(r, SyncState::Reconnecting { reason, .. }) => panic!("cluster {i} {r:?}: {reason}"),
                _ => {}
            }
        }
        let _ = app.update(i, Msg::Watch(batch));
    }
    let took = t.elapsed();
    for h in handles {
        h.abort();
    }
    tokio::time::sleep(Duration::from_millis(300)).await;
    let pods = app.apps().iter().map(|a| a.model().pod_count()).sum();
    Synced { app, took, rss: rss() as i64 - rss0 as i64, heap: common::LIVE.load(Ordering::Relaxed) - heap0, pods }
}

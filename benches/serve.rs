//! `daemonscope serve` at 5,000 nodes × 30 DaemonSets (150,000 daemon pods, synthetic
//! watch events through serve's own state): the time to render one scrape, and its size,
//! with the default cap of 1,000 node series (Prometheus text and OpenMetrics), and the
//! status JSON. `cargo bench --bench serve` (sizes: DAEMONSCOPE_BENCH_SIZES=1000,5000);
//! under `cargo test` it runs once at 300 nodes. Results print as a Markdown table, then
//! divan times one scrape (text, OpenMetrics, text with `--ksm-compat`) at 5,000 nodes
//! (300 under `cargo test`, divan's test mode). The
//! whole process's resident memory against the simulator, beside the TUI's, is
//! `benches/serve_rss.sh`.

mod common;

use std::sync::OnceLock;
use std::time::{Duration, Instant};

use divan::Bencher;

use daemonscope::cluster::requests::RequestCounts;
use daemonscope::cluster::watch::{SyncState, Update};
use daemonscope::model::{Change, DsInfo, NodeInfo, PodInfo, fixtures};
use daemonscope::serve::{State, WATCHED, metrics};

const DAEMONSETS: usize = 30;

fn node(i: usize) -> NodeInfo {
    let gpu = i.is_multiple_of(20);
    let mut n = fixtures::node(&format!("node-{i:05}"))
        .with_label("pool", if gpu { "gpu" } else { "general" })
        .with_ready(Some(!i.is_multiple_of(997)));
    if gpu {
        n = n.with_taint("nvidia.com/gpu", "present", "NoSchedule");
    }
    n
}

fn ds(i: usize) -> DsInfo {
    let d = fixtures::daemonset("kube-system", &format!("agent-{i:02}")).at_generation(2);
    if i.is_multiple_of(2) { d.tolerating_everything() } else { d }
}

/// As the TUI bench: one pod in 7 on an old revision, one in 499 crash-looping.
fn pod(d: usize, n: usize) -> PodInfo {
    let p = fixtures::pod(&ds(d), &format!("node-{n:05}"), &format!("pod-{d}-{n}"));
    let mut p = PodInfo { name: format!("agent-{d:02}-{n:05}").as_str().into(), ..p };
    if n.is_multiple_of(7) {
        p = p.from_generation("1");
    }
    if (n + d).is_multiple_of(499) {
        p = p.waiting("CrashLoopBackOff", 12);
        p.containers[0].last_exit = Some("Error".into());
    }
    p
}

fn state(nodes: usize) -> State {
    let s = State::new("bench".into(), 1000, RequestCounts::default());
    let mut batch: Vec<Update> = (0..nodes).map(|i| Update::Change(Change::Node(node(i)))).collect();
    batch.extend((0..DAEMONSETS).map(|i| Update::Change(Change::DaemonSet(ds(i)))));
    s.apply(batch);
    for d in 0..DAEMONSETS {
        s.apply((0..nodes).map(|n| Update::Change(Change::Pod(pod(d, n)))).collect());
    }
    s.apply(WATCHED.iter().map(|w| Update::Sync(w.0, SyncState::Live)).collect());
    s
}

/// Median of `runs` timings of `f`, and its last output's length.
fn time(runs: usize, mut f: impl FnMut() -> usize) -> (Duration, usize) {
    let mut times = Vec::with_capacity(runs);
    let mut len = 0;
    for _ in 0..runs {
        let t = Instant::now();
        len = f();
        times.push(t.elapsed());
    }
    times.sort();
    (times[runs / 2], len)
}

fn main() {
    table();
    divan::main();
}

/// The nodes divan's benchmarks run at.
fn divan_size() -> usize {
    if std::env::args().any(|a| a == "--bench") { 5000 } else { 300 }
}

/// serve's state at [`divan_size`], built once (with `--ksm-compat` as asked).
fn shared(ksm: bool) -> &'static State {
    static PLAIN: OnceLock<State> = OnceLock::new();
    static KSM: OnceLock<State> = OnceLock::new();
    let cell = if ksm { &KSM } else { &PLAIN };
    cell.get_or_init(|| {
        let mut s = state(divan_size());
        s.ksm_compat = ksm;
        s
    })
}

/// One scrape in the Prometheus text format (what Prometheus gets without OpenMetrics).
#[divan::bench(sample_count = 21)]
fn scrape_text(b: Bencher) {
    let s = shared(false);
    b.bench(|| metrics::render(s, false).len());
}

/// One scrape in OpenMetrics (what Prometheus asks for by default).
#[divan::bench(sample_count = 21)]
fn scrape_openmetrics(b: Bencher) {
    let s = shared(false);
    b.bench(|| metrics::render(s, true).len());
}

/// One scrape with the kube_daemonset_* families of `--ksm-compat` too.
#[divan::bench(sample_count = 21)]
fn scrape_text_ksm_compat(b: Bencher) {
    let s = shared(true);
    b.bench(|| metrics::render(s, false).len());
}

fn table() {
    let full = std::env::args().any(|a| a == "--bench");
    let sizes: Vec<usize> = if full { common::env_list("DAEMONSCOPE_BENCH_SIZES", &[1000, 5000]) } else { vec![300] };
    let runs = if full { 21 } else { 3 };
    println!("\n| nodes × DaemonSets | problem cells | scrape (text) | size | scrape (OpenMetrics) | size | /api/v1/status | size |");
    println!("|---|---|---|---|---|---|---|---|");
    for n in sizes {
        let s = state(n);
        let problems: u32 = {
            let l = s.live.read();
            let m = &l.model;
            // Outdated pods are counted per DaemonSet, not given a series of their own.
            let own_series =
                |c: &&daemonscope::model::coverage::CellState| c.is_problem() && **c != daemonscope::model::coverage::CellState::Outdated;
            m.daemonsets().filter_map(|d| m.coverage(d)).map(|c| c.cells.iter().filter(own_series).count() as u32).sum()
        };
        let text = metrics::render(&s, false);
        let series = text.lines().filter(|l| l.starts_with("daemonscope_daemonset_node_problem{")).count();
        assert_eq!(series, problems.min(1000) as usize, "capped at 1,000 node series");
        let (t_text, len_text) = time(runs, || metrics::render(&s, false).len());
        let (t_om, len_om) = time(runs, || metrics::render(&s, true).len());
        let (t_json, len_json) = time(runs.min(5), || {
            let r = daemonscope::status::report(&s.live.read().model, "bench", &[], &Default::default());
            serde_json::to_string_pretty(&r).unwrap().len()
        });
        let kb = |b: usize| format!("{:.0} kB", b as f64 / 1000.0);
        println!(
            "| {n} × {DAEMONSETS} | {problems} | {:.1} ms | {} | {:.1} ms | {} | {:.0} ms | {:.1} MB |",
            t_text.as_secs_f64() * 1000.0,
            kb(len_text),
            t_om.as_secs_f64() * 1000.0,
            kb(len_om),
            t_json.as_secs_f64() * 1000.0,
            len_json as f64 / 1e6
        );
    }
}

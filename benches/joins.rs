//! The joins' workload-pod index at 5,000 nodes × 30 DaemonSets × 20 workload pods a node
//! (150,000 daemon pods, 100,000 workload pods): the model built without the workload
//! pods, with them on nodes that all joined within the window (the worst case: every pod
//! is kept), and with them on old nodes (the usual case: none is kept); then the joins
//! report over 5,000 joining nodes. Before the benchmarks, the memory each model holds
//! (bytes allocated and not freed, counted by the allocator) prints as a Markdown table.
//! `cargo bench --bench joins`; under `cargo test` everything runs once at 300 nodes.

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicIsize, Ordering};

use daemonscope::model::joins::{self, JoinSettings, WorkloadInfo};
use daemonscope::model::{Change, DsInfo, Model, NodeInfo, PodInfo, fixtures};
use divan::Bencher;

/// The system allocator, counting the bytes live.
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
static ALLOC: divan::AllocProfiler<Counting> = divan::AllocProfiler::new(Counting);

const DAEMONSETS: usize = 30;
const WORKLOADS: usize = 20;

fn bench_mode() -> bool {
    std::env::args().any(|a| a == "--bench")
}

fn sizes() -> Vec<usize> {
    if bench_mode() { vec![5000] } else { vec![300] }
}

fn now() -> jiff::Timestamp {
    "2026-03-01T12:00:00Z".parse().unwrap()
}

/// Node `i`, created 10 minutes before [`now`] (joining) or 30 days before (old).
fn node(i: usize, joining: bool) -> NodeInfo {
    let mut n = fixtures::node(&format!("node-{i:05}")).with_label("topology.kubernetes.io/zone", ["eu-west-1a", "eu-west-1b"][i % 2]);
    n.created = Some(now() - jiff::SignedDuration::from_secs(if joining { 600 } else { 30 * 86400 }));
    n
}

fn ds(i: usize) -> DsInfo {
    let d = fixtures::daemonset("kube-system", &format!("agent-{i:02}"));
    if i == 0 { d.tolerating_everything() } else { d }
}

fn pod(d: usize, n: usize) -> PodInfo {
    let p = fixtures::pod(&ds(d), &format!("node-{n:05}"), &format!("pod-{d}-{n}"));
    PodInfo { name: format!("agent-{d:02}-{n:05}").as_str().into(), ..p }
}

fn workload(n: usize, k: usize) -> WorkloadInfo {
    WorkloadInfo {
        uid: format!("0b6e{n:04x}-{k:04x}-4000-8000-{:012x}", n * 100 + k),
        namespace: ["shop", "search", "batch"][k % 3].into(),
        // As the API server names a ReplicaSet's pods: `<replicaset>-<5 characters>`.
        name: format!("web-{}-7d9f8c-{}", k % 4, suffix(n * WORKLOADS + k)),
        node: Some(format!("node-{n:05}")),
        owner_kind: "ReplicaSet".into(),
        owner_name: format!("web-{}-7d9f8c", k % 4),
        started: Some(now() - jiff::SignedDuration::from_secs(300)),
        priority: 0,
    }
}

/// A 5-character suffix from the alphabet the API server's `generateName` draws from
/// (`k8s.io/apiserver/pkg/storage/names`, `utilrand.String`), distinct for each `i`.
fn suffix(mut i: usize) -> String {
    const ALPHABET: &[u8] = b"bcdfghjklmnpqrstvwxz2456789";
    (0..5)
        .map(|_| {
            let c = ALPHABET[i % ALPHABET.len()] as char;
            i /= ALPHABET.len();
            c
        })
        .collect()
}

fn changes(nodes: usize, joining: bool, workloads: bool) -> Vec<Change> {
    let mut v: Vec<Change> = (0..nodes).map(|i| Change::Node(node(i, joining))).collect();
    v.push(Change::ResyncDone(daemonscope::model::Resource::Nodes));
    v.extend((0..DAEMONSETS).map(|i| Change::DaemonSet(ds(i))));
    for d in 0..DAEMONSETS {
        v.extend((0..nodes).map(|n| Change::Pod(pod(d, n))));
    }
    if workloads {
        for n in 0..nodes {
            v.extend((0..WORKLOADS).map(|k| Change::Workload(workload(n, k))));
        }
    }
    v
}

fn build(changes: Vec<Change>) -> Model {
    let mut m = Model::new();
    for c in changes {
        m.apply_at(c, now());
    }
    m
}

/// Bytes a model built from these changes holds once built (the changes freed first).
fn held(nodes: usize, joining: bool, workloads: bool) -> (isize, usize) {
    let before = LIVE.load(Ordering::Relaxed);
    // Consumed by the build: freed by the time it returns.
    let m = build(changes(nodes, joining, workloads));
    let after = LIVE.load(Ordering::Relaxed);
    let kept = m.joins().workload_count();
    drop(m);
    (after - before, kept)
}

fn main() {
    let n = sizes()[0];
    let (base, _) = held(n, true, false);
    let (young, kept_young) = held(n, true, true);
    let (old, kept_old) = held(n, false, true);
    let mib = |b: isize| b as f64 / (1 << 20) as f64;
    println!(
        "\n| {n} nodes × {DAEMONSETS} DaemonSets, {WORKLOADS} workload pods a node | model held | over no workload pods | workload pods kept |"
    );
    println!("|---|---|---|---|");
    println!("| no workload pods | {:.1} MiB | – | 0 |", mib(base));
    println!(
        "| every node joining (all kept) | {:.1} MiB | {:+.1} MiB ({:+.1} %) | {kept_young} |",
        mib(young),
        mib(young - base),
        100.0 * (young - base) as f64 / base as f64
    );
    println!(
        "| every node old (none kept) | {:.1} MiB | {:+.1} MiB ({:+.1} %) | {kept_old} |\n",
        mib(old),
        mib(old - base),
        100.0 * (old - base) as f64 / base as f64
    );
    divan::main();
}

/// The model built from every change: without workload pods, with them on joining
/// nodes, with them on old nodes.
#[divan::bench(sample_count = 3, args = sizes())]
fn build_without_workloads(b: Bencher, nodes: usize) {
    let c = changes(nodes, true, false);
    b.with_inputs(|| c.clone()).bench_values(build);
}

#[divan::bench(sample_count = 3, args = sizes())]
fn build_with_workloads_on_joining_nodes(b: Bencher, nodes: usize) {
    let c = changes(nodes, true, true);
    b.with_inputs(|| c.clone()).bench_values(build);
}

#[divan::bench(sample_count = 3, args = sizes())]
fn build_with_workloads_on_old_nodes(b: Bencher, nodes: usize) {
    let c = changes(nodes, false, true);
    b.with_inputs(|| c.clone()).bench_values(build);
}

/// The joins report (what the Joins view, `status --joins` and a scrape compute) when
/// every node is joining.
#[divan::bench(sample_count = 3, args = sizes())]
fn report_every_node_joining(b: Bencher, nodes: usize) {
    let m = build(changes(nodes, true, true));
    b.bench(|| joins::report(&m, &JoinSettings::default(), now()).len());
}

//! The client at 65,000 nodes (GKE's limit; ~1.6 M daemon pods): a streaming generator
//! (`sim::stream`) serves the synthetic cluster — the same JSON the simulator would send,
//! written page by page from templates, nothing stored — and
//! - the client's sync runs in this process (watch → model, every watch live): its time,
//!   events per second and the model's heap per daemon pod (counting allocator);
//! - the release binary, `daemonscope status -A -o json > /dev/null`, runs as a child
//!   against the same generator: its time and its own peak resident memory (VmHWM, read
//!   from /proc while it runs), apart from the generator's.
//!
//! `cargo bench --bench scale` (sizes: DAEMONSCOPE_BENCH_SIZES=15000,65000; 30 DaemonSets).
//! Under `cargo test` it runs once at 200 nodes as a smoke test. Results print as a
//! Markdown table.

mod common;

use std::process::{Command, Stdio};
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use daemonscope::sim::stream::Generator;

#[global_allocator]
static ALLOC: common::Counting = common::Counting;

fn main() {
    let full = std::env::args().any(|a| a == "--bench");
    let sizes: Vec<usize> = if full { common::env_list("DAEMONSCOPE_BENCH_SIZES", &[15_000, 65_000]) } else { vec![200] };
    let rt = tokio::runtime::Builder::new_multi_thread().enable_all().build().unwrap();
    println!(
        "\n| nodes × DaemonSets | daemon pods | in process: sync to every watch live | events/s | model heap per daemon pod | `status -A -o json` (child): time | its peak RSS |"
    );
    println!("|---|---|---|---|---|---|---|");
    for n in sizes {
        println!("{}", rt.block_on(measure(n, 30)));
    }
}

/// Peak resident memory of a process (VmHWM), in bytes.
fn vm_hwm(pid: u32) -> Option<u64> {
    let s = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = s.lines().find(|l| l.starts_with("VmHWM:"))?;
    line.split_whitespace().nth(1)?.parse::<u64>().ok().map(|kb| kb * 1024)
}

/// `daemonscope status -A -o json > /dev/null` against `url`: its time and peak RSS
/// (blocking: call it from `spawn_blocking`).
fn status_child(url: &str) -> (Duration, u64) {
    let dir = tempfile::tempdir().unwrap();
    let kc = dir.path().join("config");
    daemonscope::sim::write_kubeconfig(&kc, url, None, None).unwrap();
    let t = Instant::now();
    let mut child = Command::new(env!("CARGO_BIN_EXE_daemonscope"))
        .env("KUBECONFIG", &kc)
        .env("XDG_STATE_HOME", dir.path())
        .env("XDG_CACHE_HOME", dir.path())
        .env("XDG_CONFIG_HOME", dir.path())
        .args(["status", "-A", "-o", "json"])
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the daemonscope binary runs");
    let pid = child.id();
    let mut peak = 0;
    let status = loop {
        // VmHWM only grows: the last reading before the exit is the peak (to within the
        // poll's 20 ms of growth).
        peak = peak.max(vm_hwm(pid).unwrap_or(0));
        if let Some(s) = child.try_wait().unwrap() {
            break s;
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    let took = t.elapsed();
    let mut err = String::new();
    if let Some(mut e) = child.stderr.take() {
        use std::io::Read;
        let _ = e.read_to_string(&mut err);
    }
    // status exits 0 when all is well and 1 when some DaemonSet has a problem; 2 and up
    // mean it could not report.
    assert!(status.code().is_some_and(|c| c <= 1), "status failed ({status}): {err}");
    (took, peak)
}

async fn measure(nodes: usize, dss: usize) -> String {
    let generator = Generator::new(nodes, dss).expect("generator");
    let pods = generator.pod_count();
    let serving = generator.serve("127.0.0.1:0").await.expect("listen");

    let (sync, events, model) = common::client_sync(
        &kube::Client::try_from(daemonscope::cluster::connect::own_retries(kube::Config::new(serving.url.parse().unwrap()))).unwrap(),
    )
    .await;
    assert_eq!(model.pod_count(), pods, "every daemon pod reached the model");
    assert_eq!(model.node_count(), nodes);
    // The model's heap: what dropping it frees (the generator, the client and the
    // runtime keep their own allocations, which are not the model's).
    let with_model = common::LIVE.load(Ordering::Relaxed);
    drop(model);
    let per_pod = (with_model - common::LIVE.load(Ordering::Relaxed)) as f64 / pods.max(1) as f64;
    eprintln!("{nodes} nodes: in-process sync {:.1} s, {per_pod:.0} B/pod", sync.as_secs_f64());

    let url = serving.url.clone();
    let (took, rss) = tokio::task::spawn_blocking(move || status_child(&url)).await.unwrap();
    eprintln!("{nodes} nodes: status -A -o json {:.1} s, peak RSS {:.0} MB", took.as_secs_f64(), rss as f64 / 1e6);
    format!(
        "| {nodes} × {dss} | {pods} | {:.1} s | {:.0}k | {per_pod:.0} B | {:.1} s | {:.0} MB |",
        sync.as_secs_f64(),
        events as f64 / sync.as_secs_f64() / 1000.0,
        took.as_secs_f64(),
        rss as f64 / 1e6
    )
}

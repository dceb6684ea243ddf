//! The load one `serve` replica puts on the API server in steady state: the simulator
//! (5,000 nodes × 30 DaemonSets from the synthetic generator, its controllers and kubelets
//! running, plain HTTP) behind a TCP proxy that counts every byte each way; `serve`
//! connects through the proxy, lists and watches until `/readyz` says every watch is
//! live, then, after a settling pause, the requests the simulator logged and the bytes
//! the proxy carried are counted over a window and given per minute. N replicas cost N
//! times this (each is a complete watcher).
//!
//! `cargo bench --bench serve_watch_load` (DAEMONSCOPE_BENCH_NODES=5000,
//! DAEMONSCOPE_BENCH_SECS=120 measured after 30 s of settling). Under `cargo test` it
//! runs 200 nodes for 3 s as a smoke test. The result prints as a Markdown table.

mod common;

use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use daemonscope::cli::ServeArgs;
use daemonscope::cluster::watch::Scope;
use daemonscope::sim::{Sim, SimOptions, generator};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// Copies `from` to `to`, adding every byte to `count`.
async fn pump(mut from: tokio::net::tcp::OwnedReadHalf, mut to: tokio::net::tcp::OwnedWriteHalf, count: Arc<AtomicU64>) {
    let mut buf = vec![0u8; 64 * 1024];
    while let Ok(n) = from.read(&mut buf).await {
        if n == 0 || to.write_all(&buf[..n]).await.is_err() {
            break;
        }
        count.fetch_add(n as u64, Ordering::Relaxed);
    }
    let _ = to.shutdown().await;
}

/// A TCP proxy to `target` on a free port: (its address, bytes to the server, bytes back).
async fn proxy(target: String) -> (String, Arc<AtomicU64>, Arc<AtomicU64>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap().to_string();
    let (up, down) = (Arc::new(AtomicU64::new(0)), Arc::new(AtomicU64::new(0)));
    let (u, d) = (up.clone(), down.clone());
    tokio::spawn(async move {
        while let Ok((client, _)) = listener.accept().await {
            let Ok(server) = tokio::net::TcpStream::connect(&target).await else { continue };
            let _ = (client.set_nodelay(true), server.set_nodelay(true));
            let (cr, cw) = client.into_split();
            let (sr, sw) = server.into_split();
            tokio::spawn(pump(cr, sw, u.clone()));
            tokio::spawn(pump(sr, cw, d.clone()));
        }
    });
    (addr, up, down)
}

/// The status of a GET on loopback, or None.
async fn status(addr: &str, path: &str) -> Option<u16> {
    let mut s = tokio::net::TcpStream::connect(addr).await.ok()?;
    s.write_all(format!("GET {path} HTTP/1.0\r\nHost: {addr}\r\n\r\n").as_bytes()).await.ok()?;
    let mut buf = Vec::new();
    s.read_to_end(&mut buf).await.ok()?;
    String::from_utf8_lossy(&buf).split_whitespace().nth(1)?.parse().ok()
}

fn main() {
    let full = std::env::args().any(|a| a == "--bench");
    let nodes = if full { common::env_list("DAEMONSCOPE_BENCH_NODES", &[5000])[0] } else { 200 };
    let (settle, secs) = if full { (30, common::env_list("DAEMONSCOPE_BENCH_SECS", &[120])[0] as u64) } else { (1, 3) };
    let server = tokio::runtime::Builder::new_multi_thread().thread_name("sim-server").enable_all().build().unwrap();
    let rt = tokio::runtime::Builder::new_multi_thread().enable_all().build().unwrap();
    let sc = generator::scenario(nodes, 30);
    let sim = Sim::build(&sc, SimOptions::from_scenario(&sc)).expect("synthetic scenario loads");
    let pods = sim.store.read(|i| i.pods.len());
    let running = server.block_on(sim.serve_with("127.0.0.1:0", daemonscope::sim::Transport::InsecureHttp)).expect("listen");
    let target = running.url().trim_start_matches("http://").to_string();
    rt.block_on(async {
        let (via, up, down) = proxy(target).await;
        let config = kube::Config::new(format!("http://{via}").parse().unwrap());
        let cluster = daemonscope::cluster::connect::build_client(config).expect("client");
        let args = ServeArgs { listen: "127.0.0.1:0".into(), max_node_series: 1000, ksm_compat: false, joins: Default::default() };
        let listener = daemonscope::serve::bind(&args).unwrap();
        let addr = listener.local_addr().unwrap().to_string();
        let (_stop, stopped) = tokio::sync::oneshot::channel::<()>();
        tokio::spawn(async move {
            daemonscope::serve::run(cluster, "bench".into(), Scope::default(), &args, listener, async move {
                let _ = stopped.await;
            })
            .await
        });
        let t = Instant::now();
        while status(&addr, "/readyz").await != Some(200) {
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        let sync = t.elapsed();
        let sync_bytes = down.load(Ordering::Relaxed);
        tokio::time::sleep(Duration::from_secs(settle)).await;
        let from_ms = running.api.request_log().last().map_or(0, |r| r.at_ms);
        let (up0, down0) = (up.load(Ordering::Relaxed), down.load(Ordering::Relaxed));
        tokio::time::sleep(Duration::from_secs(secs)).await;
        let (up1, down1) = (up.load(Ordering::Relaxed), down.load(Ordering::Relaxed));
        let mut verbs: BTreeMap<String, u64> = BTreeMap::new();
        for r in running.api.request_log().iter().filter(|r| r.at_ms > from_ms) {
            *verbs.entry(r.verb.clone()).or_default() += 1;
        }
        let per_min = |v: u64| v as f64 * 60.0 / secs as f64;
        let total: u64 = verbs.values().sum();
        let by_verb = verbs.iter().map(|(v, n)| format!("{v} {:.1}", per_min(*n))).collect::<Vec<_>>().join(", ");
        println!(
            "\n| nodes × DaemonSets | daemon pods | initial sync (every watch live) | bytes received by the sync | steady state: requests / min | bytes / min from the API server | bytes / min to it | window |"
        );
        println!("|---|---|---|---|---|---|---|---|");
        println!(
            "| {nodes} × 30 | {pods} | {:.1} s | {:.1} MB | {:.1} ({}) | {:.1} kB | {:.1} kB | {secs} s after {settle} s |",
            sync.as_secs_f64(),
            sync_bytes as f64 / 1e6,
            per_min(total),
            if by_verb.is_empty() { "none".to_string() } else { by_verb },
            per_min(down1 - down0) / 1000.0,
            per_min(up1 - up0) / 1000.0,
        );
    });
    drop(running);
}

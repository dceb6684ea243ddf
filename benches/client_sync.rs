//! The client's initial sync against the simulator, end to end (HTTP, JSON decoding,
//! compaction into the model), at 1,000 / 5,000 / 15,000 nodes × 30 DaemonSets; the
//! model's memory per pod; and, in the same run against the same simulator, the floor —
//! the same list pages fetched raw and thrown away (every byte read, nothing decoded), and
//! one unpaged list of the pods — and `kubectl get pods -A -o json`, for the ratios. The
//! client syncs twice a round: streaming each collection from its watch (watch-list, the
//! default against a server that serves it) and in list pages (`--watch-list off`), each
//! against its own floor (the watch-lists read raw until their end bookmarks), in JSON;
//! then in protobuf (`--wire protobuf`): the same pages fetched raw, the paged sync and the
//! watch-list sync.
//!
//! `cargo bench --bench client_sync` (sizes: DAEMONSCOPE_BENCH_SIZES=1000,5000,15000;
//! DAEMONSCOPE_BENCH_ROUNDS=3 rounds of floor then client, the fastest of each kept, as
//! the machine is shared, with the CPU seconds of each as a steadier measure; kubectl only up to DAEMONSCOPE_BENCH_KUBECTL_MAX_NODES=5000 — it
//! needs minutes and gigabytes beyond). Under `cargo test` it runs once at 200 nodes as a
//! smoke test. Results print as a Markdown table.

mod common;

use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use daemonscope::cluster::listwatch::{Fetch, WatchList, Wire};
use daemonscope::sim::{Sim, SimOptions, generator};

#[global_allocator]
static ALLOC: common::Counting = common::Counting;

fn main() {
    let full = std::env::args().any(|a| a == "--bench");
    let sizes = if full { common::env_list("DAEMONSCOPE_BENCH_SIZES", &[1000, 5000, 15000]) } else { vec![200] };
    let rounds = if full { common::env_list("DAEMONSCOPE_BENCH_ROUNDS", &[3])[0].max(1) } else { 1 };
    let kubectl_max = common::env_list("DAEMONSCOPE_BENCH_KUBECTL_MAX_NODES", &[5000])[0];
    let rt = tokio::runtime::Builder::new_multi_thread().enable_all().build().unwrap();
    // The simulator serves from threads of its own (see `serve`).
    let server = tokio::runtime::Builder::new_multi_thread().thread_name("sim-server").enable_all().build().unwrap();
    println!(
        "\n| nodes × DaemonSets | daemon pods | simulator settle | floor: the same pages fetched raw (limit 500) | floor: one unpaged list of the pods | daemonscope sync, paged (watch → model) | daemonscope ÷ paged floor | CPU: floor / daemonscope (÷) | of which the server's | events/s | model heap per pod | kubectl get pods -A -o json | kubectl ÷ daemonscope | floor: the watch-lists read raw | daemonscope sync, watch-list | ÷ its floor | CPU: floor / daemonscope (÷) | of which the server's | protobuf floor: the same pages raw | daemonscope sync, paged, protobuf | ÷ its floor | CPU: floor / daemonscope (÷) | of which the server's | daemonscope sync, watch-list, protobuf | its CPU (the server's) |"
    );
    println!("|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|");
    for n in sizes {
        let row = rt.block_on(measure(server.handle(), n, 30, rounds, full && n <= kubectl_max && common::kubectl_ok()));
        println!("{row}");
    }
}

/// The lists the client's five watches make (the pods narrowed as the client narrows them).
const LISTS: [&str; 5] = [
    "/apis/apps/v1/daemonsets",
    "/api/v1/nodes",
    "/api/v1/pods?labelSelector=controller-revision-hash",
    "/apis/apps/v1/controllerrevisions",
    "/api/v1/services",
];

/// Fetches every page of `path` (`limit` per page; None: one unpaged list) and throws
/// the bytes away; only the continue token is read, from the list's metadata, which the
/// server sends before the items. Returns the bytes and pages read.
async fn raw_list(client: &kube::Client, path: &str, limit: Option<u32>, wire: Wire) -> (u64, u32) {
    use http_body_util::BodyExt;
    let sep = if path.contains('?') { '&' } else { '?' };
    let (mut bytes, mut pages) = (0u64, 0u32);
    let mut token: Option<String> = None;
    loop {
        let mut uri = path.to_string();
        let mut sep = sep;
        if let Some(l) = limit {
            uri.push_str(&format!("{sep}limit={l}"));
            sep = '&';
        }
        if let Some(t) = &token {
            uri.push_str(&format!("{sep}continue={t}"));
        }
        let req = http::Request::get(uri).header(http::header::ACCEPT, wire.accept()).body(kube::client::Body::empty()).unwrap();
        let resp = client.send(req).await.expect("raw list");
        assert!(resp.status().is_success(), "{path}: {}", resp.status());
        let mut body = resp.into_body();
        let mut head = Vec::new();
        // Protobuf: the envelope is read whole for the token (the items are not decoded).
        let keep = if wire == Wire::Protobuf { usize::MAX } else { 4096 };
        while let Some(frame) = body.frame().await {
            if let Ok(data) = frame.expect("body").into_data() {
                bytes += data.len() as u64;
                if head.len() < keep {
                    head.extend_from_slice(&data[..data.len().min(keep - head.len())]);
                }
            }
        }
        pages += 1;
        token = match wire {
            Wire::Protobuf => daemonscope::k8s::proto::list_head(&head).and_then(|m| m.continue_).filter(|c| !c.is_empty()),
            _ => continue_token(&head),
        };
        if token.is_none() {
            return (bytes, pages);
        }
    }
}

/// The list's continue token, from the first bytes of the page (before `"items"`).
fn continue_token(head: &[u8]) -> Option<String> {
    let head = std::str::from_utf8(head).unwrap_or_else(|e| std::str::from_utf8(&head[..e.valid_up_to()]).unwrap());
    let head = &head[..head.find("\"items\"").unwrap_or(head.len())];
    let at = head.find("\"continue\":\"")? + "\"continue\":\"".len();
    let token = &head[at..at + head[at..].find('"')?];
    (!token.is_empty()).then(|| token.to_string())
}

/// Reads a watch-list of `path` raw until the bookmark that ends its initial events, then
/// closes it: the bytes read.
async fn raw_watch_list(client: &kube::Client, path: &str) -> u64 {
    use http_body_util::BodyExt;
    let sep = if path.contains('?') { '&' } else { '?' };
    let uri =
        format!("{path}{sep}watch=true&sendInitialEvents=true&resourceVersionMatch=NotOlderThan&allowWatchBookmarks=true&resourceVersion=");
    let resp = client.send(http::Request::get(uri).body(kube::client::Body::empty()).unwrap()).await.expect("raw watch-list");
    assert!(resp.status().is_success(), "{path}: {}", resp.status());
    let mut body = resp.into_body();
    let (mut bytes, mut tail) = (0u64, Vec::new());
    while let Some(frame) = body.frame().await {
        let Ok(data) = frame.expect("body").into_data() else { continue };
        bytes += data.len() as u64;
        // The end bookmark may straddle two frames: look at the end of the last one too.
        tail.extend_from_slice(&data[data.len().saturating_sub(4096)..]);
        let end = daemonscope::k8s::watchlist::INITIAL_EVENTS_END.as_bytes();
        if tail.windows(end.len()).any(|w| w == end) {
            return bytes;
        }
        tail.drain(..tail.len().saturating_sub(64));
    }
    panic!("{path}: the watch-list ended before its end bookmark");
}

/// The floor of a watch-list sync: the five watch-lists read raw at once.
async fn floor_watch_list(client: &kube::Client) -> (Duration, u64) {
    let t = Instant::now();
    let all = futures::future::join_all(LISTS.iter().map(|p| raw_watch_list(client, p))).await;
    (t.elapsed(), all.iter().sum())
}

/// The floor of the client's sync: its five lists fetched raw at once, each paged by 500.
async fn floor_paged(client: &kube::Client, wire: Wire) -> (Duration, u64, u32) {
    let t = Instant::now();
    let all = futures::future::join_all(LISTS.iter().map(|p| raw_list(client, p, Some(500), wire))).await;
    (t.elapsed(), all.iter().map(|r| r.0).sum(), all.iter().map(|r| r.1).sum())
}

/// What the client syncs from: by default the simulator's API alone, over plain HTTP, on a
/// cluster settled when it was built and held still, on a runtime of its own (`server`),
/// as a server in another process would be: on the client's runtime, its tasks and the
/// client's shared worker threads and tokio's scheduling, not the machine, decided how much
/// of the two overlapped. The controllers, when they run, walk every node and pod on one of
/// the runtime's threads every few seconds, which the client and the floor then wait for: at
/// 15,000 nodes the same floor took 4 to 15.6 s between rounds.
/// DAEMONSCOPE_BENCH_LIVE_SIM=1 runs them, as `daemonscope sim` does.
async fn serve(server: &tokio::runtime::Handle, sim: Sim) -> (String, Box<dyn std::any::Any>) {
    if std::env::var_os("DAEMONSCOPE_BENCH_LIVE_SIM").is_some_and(|v| v == "1") {
        let running =
            server.spawn(sim.serve_with("127.0.0.1:0", daemonscope::sim::Transport::InsecureHttp)).await.unwrap().expect("listen");
        return (running.url().to_string(), Box::new(running));
    }
    let router = sim.router();
    let (tx, rx) = tokio::sync::oneshot::channel();
    let task = server.spawn(async move {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("listen");
        let _ = tx.send(listener.local_addr().unwrap());
        // As the simulator listens (and a Go server: no Nagle delay).
        axum::serve(daemonscope::sim::tls::no_delay(listener), router).await.expect("serve");
    });
    let url = format!("http://{}", rx.await.expect("the server listens"));
    (url, Box::new(AbortOnDrop(task)))
}

/// Stops the server when dropped (the router holds the simulator's state).
struct AbortOnDrop(tokio::task::JoinHandle<()>);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// CPU seconds this process has used (user + system, every thread: the simulator's and
/// the client's), from /proc/self/stat, and of those the simulator's server threads'. Less
/// disturbed than wall-clock on a shared machine: the CPU a phase costs, whoever else runs.
fn cpu_seconds() -> (f64, f64) {
    let all = stat_cpu(&std::fs::read_to_string("/proc/self/stat").unwrap_or_default());
    let server = std::fs::read_dir("/proc/self/task")
        .into_iter()
        .flatten()
        .flatten()
        .map(|t| std::fs::read_to_string(t.path().join("stat")).unwrap_or_default())
        .filter(|stat| stat.contains("(sim-server)"))
        .map(|stat| stat_cpu(&stat))
        .sum();
    (all, server)
}

/// utime + stime of a `stat` line, in seconds.
fn stat_cpu(stat: &str) -> f64 {
    // After the command name (which ends with the last ')') come state, ppid, …: utime is
    // the 12th of those, stime the 13th.
    let rest = stat.rsplit_once(')').map_or("", |(_, r)| r);
    let f: Vec<&str> = rest.split_whitespace().collect();
    let ticks = |i: usize| f.get(i).and_then(|x| x.parse::<f64>().ok()).unwrap_or(0.0);
    // Clock ticks of 1/100 s, as on every Linux.
    (ticks(11) + ticks(12)) / 100.0
}

async fn measure(server: &tokio::runtime::Handle, nodes: usize, dss: usize, rounds: usize, with_kubectl: bool) -> String {
    let sc = generator::scenario(nodes, dss);
    let t = Instant::now();
    let sim = Sim::build(&sc, SimOptions::from_scenario(&sc)).expect("synthetic scenario loads");
    let settle = t.elapsed();
    let pods = sim.store.read(|i| i.pods.len());
    // Plain HTTP without a token: the numbers measure the API, not TLS (as before).
    let (url, running) = serve(server, sim).await;
    let config = daemonscope::cluster::connect::own_retries(kube::Config::new(url.parse().unwrap()));
    let client = kube::Client::try_from(config).unwrap();

    // Rounds of floor then client against the same simulator; the fastest of each counts
    // (the machine is shared: the slower runs are the disturbed ones).
    let (mut floor, mut sync) = (Duration::MAX, Duration::MAX);
    // CPU seconds of each (all threads, and the server's of those), of the round that used least.
    let (mut floor_cpu, mut sync_cpu) = ((f64::MAX, 0.0), (f64::MAX, 0.0));
    let least = |a: (f64, f64), b: (f64, f64)| if b.0 < a.0 { b } else { a };
    let since = |c: (f64, f64)| {
        let now = cpu_seconds();
        (now.0 - c.0, now.1 - c.1)
    };
    let (mut floor_bytes, mut floor_pages, mut events) = (0, 0, 0);
    let mut per_pod = 0.0;
    // The same for the watch-list: its floor, the client's sync, their CPU, the bytes.
    let (mut wl_floor, mut wl_sync, mut wl_floor_cpu, mut wl_sync_cpu, mut wl_bytes) =
        (Duration::MAX, Duration::MAX, (f64::MAX, 0.0), (f64::MAX, 0.0), 0);
    // And in protobuf: the paged floor, the paged sync and the watch-list sync.
    let (mut pb_floor, mut pb_sync, mut pb_wl, mut pb_bytes) = (Duration::MAX, Duration::MAX, Duration::MAX, 0);
    let (mut pb_floor_cpu, mut pb_sync_cpu, mut pb_wl_cpu) = ((f64::MAX, 0.0), (f64::MAX, 0.0), (f64::MAX, 0.0));
    for round in 0..rounds {
        let c = cpu_seconds();
        let (f, bytes) = floor_watch_list(&client).await;
        wl_floor_cpu = least(wl_floor_cpu, since(c));
        (wl_floor, wl_bytes) = (wl_floor.min(f), bytes);
        let c = cpu_seconds();
        let (s, _, model) = common::client_sync_with(&client, Fetch { watch_list: WatchList::On, wire: Wire::Json }).await;
        wl_sync_cpu = least(wl_sync_cpu, since(c));
        wl_sync = wl_sync.min(s);
        assert_eq!(model.pod_count(), pods, "every daemon pod reached the model (watch-list)");
        drop(model);
        eprintln!("{nodes} nodes, round {round}: watch-list floor {:.2} s, client {:.2} s", f.as_secs_f64(), s.as_secs_f64());
        let c = cpu_seconds();
        let (f, bytes, pages) = floor_paged(&client, Wire::Json).await;
        floor_cpu = least(floor_cpu, since(c));
        floor = floor.min(f);
        (floor_bytes, floor_pages) = (bytes, pages);
        let c = cpu_seconds();
        let (s, ev, model) = common::client_sync_with(&client, Fetch { watch_list: WatchList::Off, wire: Wire::Json }).await;
        sync_cpu = least(sync_cpu, since(c));
        sync = sync.min(s);
        events = ev;
        eprintln!("{nodes} nodes, round {round}: floor {:.2} s, client {:.2} s", f.as_secs_f64(), s.as_secs_f64());
        tokio::time::sleep(Duration::from_millis(200)).await;
        let with_model = common::LIVE.load(Ordering::Relaxed);
        assert_eq!(model.pod_count(), pods, "every daemon pod reached the model");
        let held = model.pod_count();
        drop(model);
        let without = common::LIVE.load(Ordering::Relaxed);
        per_pod = (with_model - without) as f64 / held.max(1) as f64;
        // The same in protobuf: the paged floor, the paged sync, the watch-list sync.
        let c = cpu_seconds();
        let (f, bytes, _) = floor_paged(&client, Wire::Protobuf).await;
        pb_floor_cpu = least(pb_floor_cpu, since(c));
        (pb_floor, pb_bytes) = (pb_floor.min(f), bytes);
        let c = cpu_seconds();
        let (s, _, model) = common::client_sync_with(&client, Fetch { watch_list: WatchList::Off, wire: Wire::Protobuf }).await;
        pb_sync_cpu = least(pb_sync_cpu, since(c));
        pb_sync = pb_sync.min(s);
        assert_eq!(model.pod_count(), pods, "every daemon pod reached the model (protobuf)");
        drop(model);
        let c = cpu_seconds();
        let (s, _, model) = common::client_sync_with(&client, Fetch { watch_list: WatchList::On, wire: Wire::Protobuf }).await;
        pb_wl_cpu = least(pb_wl_cpu, since(c));
        pb_wl = pb_wl.min(s);
        assert_eq!(model.pod_count(), pods, "every daemon pod reached the model (protobuf watch-list)");
        drop(model);
        eprintln!(
            "{nodes} nodes, round {round}: protobuf floor {:.2} s, client paged {:.2} s, watch-list {:.2} s",
            pb_floor.as_secs_f64(),
            pb_sync.as_secs_f64(),
            pb_wl.as_secs_f64()
        );
    }
    let t = Instant::now();
    let (unpaged_bytes, _) = raw_list(&client, LISTS[2], None, Wire::Json).await;
    let unpaged = t.elapsed();

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
    let mb = |b: u64| b as f64 / 1e6;
    format!(
        "| {nodes} × {dss} | {pods} | {:.1} s | {:.2} s ({floor_pages} pages, {:.0} MB) | {:.2} s ({:.0} MB) | {:.2} s | {:.2}× | {:.2} s / {:.2} s ({:.2}×) | {:.2} s / {:.2} s | {:.0}k | {:.0} B | {k} | {ratio} | {:.2} s ({:.0} MB) | {:.2} s | {:.2}× | {:.2} s / {:.2} s ({:.2}×) | {:.2} s / {:.2} s | {:.2} s ({:.0} MB, {:.0} % of JSON) | {:.2} s | {:.2}× | {:.2} s / {:.2} s ({:.2}×) | {:.2} s / {:.2} s | {:.2} s | {:.2} s ({:.2} s) |",
        settle.as_secs_f64(),
        floor.as_secs_f64(),
        mb(floor_bytes),
        unpaged.as_secs_f64(),
        mb(unpaged_bytes),
        sync.as_secs_f64(),
        sync.as_secs_f64() / floor.as_secs_f64(),
        floor_cpu.0,
        sync_cpu.0,
        sync_cpu.0 / floor_cpu.0,
        floor_cpu.1,
        sync_cpu.1,
        events as f64 / sync.as_secs_f64() / 1000.0,
        per_pod,
        wl_floor.as_secs_f64(),
        mb(wl_bytes),
        wl_sync.as_secs_f64(),
        wl_sync.as_secs_f64() / wl_floor.as_secs_f64(),
        wl_floor_cpu.0,
        wl_sync_cpu.0,
        wl_sync_cpu.0 / wl_floor_cpu.0,
        wl_floor_cpu.1,
        wl_sync_cpu.1,
        pb_floor.as_secs_f64(),
        mb(pb_bytes),
        100.0 * pb_bytes as f64 / floor_bytes.max(1) as f64,
        pb_sync.as_secs_f64(),
        pb_sync.as_secs_f64() / pb_floor.as_secs_f64(),
        pb_floor_cpu.0,
        pb_sync_cpu.0,
        pb_sync_cpu.0 / pb_floor_cpu.0,
        pb_floor_cpu.1,
        pb_sync_cpu.1,
        pb_wl.as_secs_f64(),
        pb_wl_cpu.0,
        pb_wl_cpu.1,
    )
}

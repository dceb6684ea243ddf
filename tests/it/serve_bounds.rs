//! `serve` stays bounded under abuse: `/api/v1/status` is one shared body per model
//! generation (compact; `?pretty` indented), `?namespace=` / `?daemonset=` filter it, at
//! most a few answers are in flight (429 with Retry-After beyond), a client that reads
//! nothing is cut, headers that never finish are cut (Slowloris), and the process's memory
//! under 50 parallel requests and 100 clients that never read stays within 1.5× its idle
//! RSS (a bounded load generator; measured against 2,000 nodes × 16 DaemonSets).

use crate::common;

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use serde_json::Value;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

struct Kill(Child);

impl Drop for Kill {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn spawn_serve(kubeconfig: &str) -> (Kill, String) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_daemonscope"))
        .args(["serve", "--listen", "127.0.0.1:0", "--kubeconfig", kubeconfig])
        .env("XDG_STATE_HOME", std::env::temp_dir())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stderr.take().unwrap()).lines();
    let first = lines.next().unwrap().unwrap();
    let addr = first.split("http://").nth(1).and_then(|s| s.strip_suffix("/metrics")).unwrap_or_else(|| panic!("{first}")).to_string();
    std::thread::spawn(move || for _ in lines {});
    (Kill(child), addr)
}

/// A GET over HTTP/1.0, read to the end: (status, headers, body).
async fn get(addr: &str, path: &str) -> Option<(u16, String, Vec<u8>)> {
    let mut s = tokio::net::TcpStream::connect(addr).await.ok()?;
    s.write_all(format!("GET {path} HTTP/1.0\r\nHost: x\r\n\r\n").as_bytes()).await.ok()?;
    let mut buf = Vec::new();
    tokio::time::timeout(Duration::from_secs(60), s.read_to_end(&mut buf)).await.ok()?.ok()?;
    let at = buf.windows(4).position(|w| w == b"\r\n\r\n")?;
    let head = String::from_utf8_lossy(&buf[..at]).into_owned();
    let code = head.split_whitespace().nth(1)?.parse().ok()?;
    Some((code, head, buf[at + 4..].to_vec()))
}

fn rss_kib(pid: u32) -> u64 {
    let s = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    s.lines().find_map(|l| l.strip_prefix("VmRSS:")).and_then(|v| v.split_whitespace().next()?.parse().ok()).unwrap_or(0)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn status_is_shared_filtered_limited_and_memory_stays_bounded() {
    let sc = daemonscope::sim::generator::scenario(2000, 16);
    let sim =
        daemonscope::sim::Sim::build(&sc, daemonscope::sim::SimOptions::from_scenario(&sc)).unwrap().serve("127.0.0.1:0").await.unwrap();
    let (_dir, kc) = common::kubeconfig_file(&sim, None);
    let (child, addr) = spawn_serve(&kc);
    let pid = child.0.id();
    common::eventually(120, "serve ready", || async { get(&addr, "/readyz").await.filter(|r| r.0 == 200).map(|_| ()) }).await;
    // Compact, and ?pretty the same value indented.
    let (code, head, whole) = get(&addr, "/api/v1/status").await.unwrap();
    assert_eq!(code, 200, "{head}");
    let (_, _, pretty) = get(&addr, "/api/v1/status?pretty").await.unwrap();
    assert!(!whole.starts_with(b"{\n") && pretty.starts_with(b"{\n  "), "compact, and ?pretty indented");
    let v: Value = serde_json::from_slice(&whole).unwrap();
    let names: Vec<String> = v["daemonsets"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| format!("{}/{}", d["namespace"].as_str().unwrap(), d["name"].as_str().unwrap()))
        .collect();
    eprintln!("(status body {} KiB compact, {} KiB pretty, {} DaemonSets)", whole.len() / 1024, pretty.len() / 1024, names.len());
    // Filters.
    let (ns, name) = names[0].split_once('/').unwrap();
    let (code, _, one) = get(&addr, &format!("/api/v1/status?daemonset={ns}/{name}")).await.unwrap();
    assert_eq!(code, 200);
    let one: Value = serde_json::from_slice(&one).unwrap();
    assert_eq!(one["daemonsets"].as_array().unwrap().len(), 1);
    let (code, _, in_ns) = get(&addr, &format!("/api/v1/status?namespace={ns}")).await.unwrap();
    assert_eq!(code, 200);
    let in_ns: Value = serde_json::from_slice(&in_ns).unwrap();
    assert!(in_ns["daemonsets"].as_array().unwrap().iter().all(|d| d["namespace"] == ns));
    assert_eq!(get(&addr, "/api/v1/status?namespace=nothing-here").await.unwrap().0, 404);
    let idle = rss_kib(pid);
    // 50 parallel readers: some answered, the rest told to retry, memory bounded.
    let peak = std::sync::Arc::new(std::sync::atomic::AtomicU64::new(0));
    let sampling = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(true));
    let sampler = {
        let (peak, sampling) = (peak.clone(), sampling.clone());
        std::thread::spawn(move || {
            while sampling.load(std::sync::atomic::Ordering::Relaxed) {
                peak.fetch_max(rss_kib(pid), std::sync::atomic::Ordering::Relaxed);
                std::thread::yield_now();
            }
        })
    };
    let readers: Vec<_> = (0..50)
        .map(|_| {
            let addr = addr.clone();
            tokio::spawn(async move { get(&addr, "/api/v1/status").await.map(|r| (r.0, r.1)) })
        })
        .collect();
    let mut codes = std::collections::BTreeMap::new();
    for r in readers {
        let (code, head) = r.await.unwrap().expect("an answer");
        if code == 429 {
            assert!(head.to_ascii_lowercase().contains("retry-after: 1"), "{head}");
        }
        *codes.entry(code).or_insert(0) += 1;
    }
    assert!(codes.get(&200).is_some_and(|n| *n >= 1), "{codes:?}");
    // 100 clients that send a request and never read (with a small receive window, and the
    // larger ?pretty body: more than the kernel's buffers take off the server).
    let mut silent = Vec::new();
    for _ in 0..100 {
        let socket = tokio::net::TcpSocket::new_v4().unwrap();
        socket.set_recv_buffer_size(4096).unwrap();
        let mut s = socket.connect(addr.parse().unwrap()).await.unwrap();
        s.write_all(b"GET /api/v1/status?pretty HTTP/1.1\r\nHost: x\r\n\r\n").await.unwrap();
        silent.push(s);
    }
    // Their answers hold every place: a reader is told to retry.
    common::eventually(30, "a status request refused while the non-readers hold every place", || async {
        get(&addr, "/api/v1/status").await.filter(|r| r.0 == 429).map(|_| ())
    })
    .await;
    let held = rss_kib(pid);
    sampling.store(false, std::sync::atomic::Ordering::Relaxed);
    sampler.join().unwrap();
    let peak = peak.load(std::sync::atomic::Ordering::Relaxed).max(held);
    eprintln!("(RSS idle {} MiB, peak {} MiB under 50 parallel and 100 non-reading; answers {codes:?})", idle / 1024, peak / 1024);
    assert!(peak * 2 <= idle * 3, "RSS {peak} KiB under load, idle {idle} KiB: over 1.5×");
    // A client that reads nothing is cut (WRITE_STALL), and the places come back.
    common::eventually(60, "the non-readers cut and a status request answered", || async {
        get(&addr, "/api/v1/status").await.filter(|r| r.0 == 200).map(|_| ())
    })
    .await;
    drop(silent);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn headers_that_never_finish_are_cut() {
    let sim = common::serve(&format!("{}{}", common::nodes_yaml(&["node-a"]), common::ds_yaml("agent", "{type: RollingUpdate}"))).await;
    let (_dir, kc) = common::kubeconfig_file(&sim, None);
    let (_child, addr) = spawn_serve(&kc);
    common::eventually(60, "serve ready", || async { get(&addr, "/readyz").await.filter(|r| r.0 == 200).map(|_| ()) }).await;
    // A request line and one header, then nothing: the connection is closed (EOF).
    let mut s = tokio::net::TcpStream::connect(&addr).await.unwrap();
    s.write_all(b"GET /metrics HTTP/1.1\r\nHost: x\r\n").await.unwrap();
    let mut buf = Vec::new();
    let read = tokio::time::timeout(Duration::from_secs(60), s.read_to_end(&mut buf)).await;
    assert!(read.is_ok(), "the connection was never closed");
    // It still serves others.
    assert_eq!(get(&addr, "/healthz").await.unwrap().0, 200);
}

//! JSON against protobuf, each side alone, with neither HTTP nor a server loop in the
//! measurement, on a synthetic cluster of 1,000 nodes × 30 DaemonSets:
//!
//! - the client: the pages (500 objects each) of the daemon pods, the nodes and the
//!   DaemonSets, as the simulator serves them in each encoding, read by the very function
//!   the client's paged list uses (`listwatch::paged::decode_page`) into the very types its
//!   watches keep (the lean `PodWire`, k8s-openapi's `Node` and `DaemonSet`);
//! - the server: every pod written as the simulator writes a list's items — JSON
//!   (`serde_json`), protobuf straight from the typed object (`protobuf_ser`), and
//!   protobuf through the object's JSON (`protobuf_out`, what it did before).
//!
//! Time per set and allocations (divan's allocation profiler).
//! `cargo bench --bench encodings` (DAEMONSCOPE_BENCH_NODES=1000). Under `cargo test`
//! every case runs once at 100 nodes, and the two encodings are checked to agree.

use std::sync::LazyLock;

use bytes::Bytes;
use daemonscope::cluster::listwatch::paged::decode_page;
use daemonscope::cluster::wire::PodWire;
use daemonscope::sim::api::{protobuf_out, protobuf_ser};
use daemonscope::sim::{Sim, SimOptions, generator};
use http_body_util::BodyExt;
use k8s_openapi::api::apps::v1::DaemonSet;
use k8s_openapi::api::core::v1::{Node, Pod};
use tower::ServiceExt;

#[global_allocator]
static ALLOC: divan::AllocProfiler = divan::AllocProfiler::system();

fn main() {
    divan::main();
}

const PODS: &str = "/api/v1/pods?labelSelector=controller-revision-hash";
const NODES: &str = "/api/v1/nodes";
const DAEMONSETS: &str = "/apis/apps/v1/daemonsets";

/// The synthetic cluster.
static SIM: LazyLock<Sim> = LazyLock::new(|| {
    let bench = std::env::args().any(|a| a == "--bench");
    let nodes = if bench { std::env::var("DAEMONSCOPE_BENCH_NODES").ok().and_then(|n| n.parse().ok()).unwrap_or(1000) } else { 100 };
    let sc = generator::scenario(nodes, 30);
    Sim::build(&sc, SimOptions::from_scenario(&sc)).expect("synthetic scenario loads")
});

/// A list's path, and its pages in JSON and in protobuf.
type Pages = (&'static str, Vec<Bytes>, Vec<Bytes>);

/// Every list's pages in both encodings.
static PAGES: LazyLock<Vec<Pages>> = LazyLock::new(|| {
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    rt.block_on(async {
        let router = SIM.router();
        let mut out = Vec::new();
        for path in [PODS, NODES, DAEMONSETS] {
            let json = pages(&router, path, false).await;
            let protobuf = pages(&router, path, true).await;
            out.push((path, json, protobuf));
        }
        out
    })
});

/// Every page of `path`, 500 objects each, in JSON or protobuf.
async fn pages(router: &axum::Router, path: &str, protobuf: bool) -> Vec<Bytes> {
    let accept = if protobuf { "application/vnd.kubernetes.protobuf" } else { "application/json" };
    let mut out = Vec::new();
    let mut token: Option<String> = None;
    loop {
        let mut uri = format!("{path}{}limit=500", if path.contains('?') { '&' } else { '?' });
        if let Some(t) = &token {
            uri.push_str(&format!("&continue={t}"));
        }
        let req = http::Request::get(uri).header(http::header::ACCEPT, accept).body(axum::body::Body::empty()).unwrap();
        let resp = router.clone().oneshot(req).await.unwrap();
        assert!(resp.status().is_success(), "{path}: {}", resp.status());
        let body = resp.into_body().collect().await.unwrap().to_bytes();
        let (meta, _) = decode_page::<serde::de::IgnoredAny>(&body, protobuf).expect("a list page");
        out.push(body);
        token = meta.continue_.filter(|c| !c.is_empty());
        if token.is_none() {
            return out;
        }
    }
}

fn pages_of(path: &str, protobuf: bool) -> &'static [Bytes] {
    let (_, json, pb) = PAGES.iter().find(|(p, _, _)| *p == path).expect("a list");
    if protobuf { pb } else { json }
}

/// Reads every page of `path` as `K`: the objects read.
fn read<K: serde::de::DeserializeOwned>(path: &str, protobuf: bool) -> Vec<K> {
    pages_of(path, protobuf).iter().flat_map(|b| decode_page::<K>(b, protobuf).expect("decodes").1).collect()
}

const ENCODINGS: [&str; 2] = ["json", "protobuf"];

#[divan::bench(args = ENCODINGS)]
fn pods(b: divan::Bencher, wire: &str) {
    let protobuf = wire == "protobuf";
    let _ = pages_of(PODS, protobuf);
    b.bench(|| read::<PodWire>(PODS, protobuf));
}

#[divan::bench(args = ENCODINGS)]
fn nodes(b: divan::Bencher, wire: &str) {
    let protobuf = wire == "protobuf";
    let _ = pages_of(NODES, protobuf);
    b.bench(|| read::<Node>(NODES, protobuf));
}

#[divan::bench(args = ENCODINGS)]
fn daemonsets(b: divan::Bencher, wire: &str) {
    let protobuf = wire == "protobuf";
    let _ = pages_of(DAEMONSETS, protobuf);
    b.bench(|| read::<DaemonSet>(DAEMONSETS, protobuf));
}

/// Not a measurement: the two encodings give the same objects (run once under `cargo test`
/// as every case; a decoder that skipped work would show here, not as a fast figure).
#[divan::bench]
fn same_objects_in_both() {
    let (p_json, p_pb) = (read::<PodWire>(PODS, false), read::<PodWire>(PODS, true));
    assert!(!p_json.is_empty());
    assert_eq!(p_json.len(), p_pb.len());
    for (a, b) in p_json.iter().zip(&p_pb) {
        assert_eq!((a.uid(), format!("{:?}", a.info)), (b.uid(), format!("{:?}", b.info)));
    }
    assert_eq!(read::<Node>(NODES, false), read::<Node>(NODES, true));
    assert_eq!(read::<DaemonSet>(DAEMONSETS, false), read::<DaemonSet>(DAEMONSETS, true));
}

/// The simulator's pods, as it stores them.
static PODS_HELD: LazyLock<Vec<std::sync::Arc<Pod>>> = LazyLock::new(|| SIM.store.list::<Pod>(None).0);

const WRITERS: [&str; 3] = ["json", "protobuf", "protobuf through JSON"];

/// Every pod written as a list item, as the simulator writes one for a client.
#[divan::bench(args = WRITERS)]
fn write_pods(b: divan::Bencher, how: &str) {
    let pods = &*PODS_HELD;
    let id = daemonscope::k8s::proto::schema::schema().of_kind("v1", "Pod").unwrap();
    b.bench(|| {
        let mut bytes = 0;
        for p in pods {
            bytes += match how {
                "json" => serde_json::to_vec(&**p).unwrap().len(),
                "protobuf" => protobuf_ser::message(&**p, id).unwrap().len(),
                _ => {
                    let mut out = Vec::new();
                    protobuf_out::message(
                        &serde_json::to_value(&**p).unwrap(),
                        daemonscope::k8s::proto::schema::schema().message(id),
                        &mut out,
                    )
                    .unwrap();
                    out.len()
                }
            };
        }
        bytes
    });
}

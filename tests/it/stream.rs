//! The benchmarks' streaming generator (`sim::stream`) sends what the simulator would for
//! the same synthetic cluster: the client syncs the same model from both — every
//! DaemonSet's coverage, the same state and reason on every node — and each generated
//! node, pod and DaemonSet decodes to the same object as the simulator's, but for what
//! differs between any two runs (uids, names' random suffixes, timestamps, versions).

use std::collections::{BTreeMap, HashSet};
use std::time::Duration;

use daemonscope::cluster::watch::{self, Scope, SyncState, Update};
use daemonscope::model::coverage::CellState;
use daemonscope::model::{Model, Resource};
use daemonscope::sim::stream::Generator;
use daemonscope::sim::{Sim, SimOptions, Transport, generator};
use k8s_openapi::api::apps::v1::DaemonSet;
use k8s_openapi::api::core::v1::{Node, Pod};
use kube::api::{Api, ListParams};
use serde_json::Value;

const NODES: usize = 200;
const DAEMONSETS: usize = 30;

fn client(url: &str) -> kube::Client {
    kube::Client::try_from(kube::Config::new(url.parse().unwrap())).unwrap()
}

/// The client's model once every watch is live (bounded: a minute).
async fn sync(url: &str) -> Model {
    let (tx, mut rx) = tokio::sync::mpsc::channel(16_384);
    let handles = watch::spawn(client(url).into(), Scope::default(), tx);
    let mut model = Model::new();
    let mut live = HashSet::new();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
    while live.len() < Resource::ALL.len() {
        let u = tokio::time::timeout_at(deadline, rx.recv()).await.expect("every watch live within a minute").expect("watching");
        match u {
            Update::Change(c) => model.apply(c),
            Update::Sync(r, SyncState::Live) => {
                live.insert(r);
            }
            Update::Sync(r, SyncState::Reconnecting { reason, .. }) => panic!("{r:?}: {reason}"),
            Update::Sync(..) => {}
        }
    }
    for h in handles {
        h.abort();
    }
    model
}

/// Per DaemonSet: its coverage counts; per DaemonSet and node: the state and the reason
/// without the pod's name.
type States = (BTreeMap<String, Vec<u32>>, BTreeMap<(String, String), (String, String)>);

fn states(m: &Model) -> States {
    let (mut per_ds, mut cells) = (BTreeMap::new(), BTreeMap::new());
    for d in m.daemonsets() {
        let key = format!("{}/{}", d.namespace, d.name);
        let cov = m.coverage(d).expect("coverage");
        per_ds.insert(key.clone(), CellState::ALL.iter().map(|s| cov.count(*s)).collect());
        for (id, n) in m.nodes() {
            let c = m.explain(d, id).unwrap();
            let mut reason = c.reason.clone();
            if let Some(p) = &c.pod {
                reason = reason.replace(p.as_str(), "<pod>");
            }
            cells.insert((key.clone(), n.name.clone()), (c.state.as_str().to_string(), reason));
        }
    }
    (per_ds, cells)
}

/// What differs between two runs of one layout: uids, versions, timestamps, random name
/// suffixes and what the kubelet derives from uids (the pod's IP, its containers' IDs).
fn normalized(mut v: Value) -> Value {
    fn walk(v: &mut Value) {
        match v {
            Value::Object(m) => {
                // containerID derives from the pod's uid, as the pod's IP does.
                for k in [
                    "uid",
                    "resourceVersion",
                    "creationTimestamp",
                    "lastTransitionTime",
                    "lastHeartbeatTime",
                    "startTime",
                    "startedAt",
                    "containerID",
                ] {
                    m.remove(k);
                }
                m.values_mut().for_each(walk);
            }
            Value::Array(a) => a.iter_mut().for_each(walk),
            _ => {}
        }
    }
    walk(&mut v);
    if v.pointer("/metadata/generateName").is_some() {
        v["metadata"]["name"] = Value::Null;
        if v.pointer("/spec/hostNetwork") != Some(&Value::Bool(true)) {
            v["status"]["podIP"] = Value::Null;
            v["status"]["podIPs"] = Value::Null;
        }
    }
    v
}

fn norm(v: &impl serde::Serialize) -> Value {
    normalized(serde_json::to_value(v).unwrap())
}

/// Every object `api` lists, paged by 50 (the generator's pages and continue tokens).
async fn list<K>(api: Api<K>) -> Vec<K>
where
    K: kube::Resource<DynamicType = ()> + Clone + serde::de::DeserializeOwned + std::fmt::Debug,
{
    let mut out = Vec::new();
    let mut lp = ListParams::default().limit(50);
    loop {
        let page = api.list(&lp).await.expect("list");
        out.extend(page.items);
        match page.metadata.continue_.filter(|c| !c.is_empty()) {
            Some(c) => lp = lp.continue_token(&c),
            None => return out,
        }
    }
}

fn owner_node(p: &Pod) -> (String, String) {
    let owner = p.metadata.owner_references.iter().flatten().next().map(|o| o.name.clone()).unwrap_or_default();
    (owner, p.spec.as_ref().and_then(|s| s.node_name.clone()).unwrap_or_default())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_generator_serves_what_the_simulator_would() {
    let sc = generator::scenario(NODES, DAEMONSETS);
    let sim = Sim::build(&sc, SimOptions::from_scenario(&sc)).expect("scenario loads");
    let running = sim.serve_with("127.0.0.1:0", Transport::InsecureHttp).await.expect("listen");
    let generator = Generator::new(NODES, DAEMONSETS).expect("generator");
    let serving = generator.serve("127.0.0.1:0").await.expect("listen");

    // The model the client syncs.
    let (a, b) = (sync(running.url()).await, sync(&serving.url).await);
    assert_eq!(b.node_count(), NODES);
    assert_eq!(b.pod_count(), generator.pod_count());
    assert_eq!(a.pod_count(), b.pod_count(), "as many daemon pods");
    let ((da, ca), (db, cb)) = (states(&a), states(&b));
    assert_eq!(da.len(), DAEMONSETS);
    assert_eq!(da, db, "every DaemonSet's coverage");
    assert_eq!(ca.len(), cb.len());
    let differ: Vec<String> =
        ca.iter().filter(|(k, v)| cb.get(*k) != Some(*v)).map(|(k, v)| format!("{k:?}: {v:?} ≠ {:?}", cb.get(k))).collect();
    assert!(differ.is_empty(), "{} cell(s) differ:\n{}", differ.len(), differ.join("\n"));
    assert!(ca.values().any(|(s, _)| s == "ineligible") && ca.values().any(|(s, _)| s == "ready"), "something to compare");

    // The objects themselves.
    let nodes_a: BTreeMap<String, Value> =
        list(Api::<Node>::all(client(running.url()))).await.iter().map(|n| (n.metadata.name.clone().unwrap(), norm(n))).collect();
    let nodes_b: BTreeMap<String, Value> =
        list(Api::<Node>::all(client(&serving.url))).await.iter().map(|n| (n.metadata.name.clone().unwrap(), norm(n))).collect();
    assert_eq!(nodes_a.len(), NODES);
    assert_eq!(nodes_a, nodes_b, "every node");
    let ds_a: BTreeMap<String, Value> =
        list(Api::<DaemonSet>::all(client(running.url()))).await.iter().map(|d| (d.metadata.name.clone().unwrap(), norm(d))).collect();
    let ds_b: BTreeMap<String, Value> =
        list(Api::<DaemonSet>::all(client(&serving.url))).await.iter().map(|d| (d.metadata.name.clone().unwrap(), norm(d))).collect();
    assert_eq!(ds_a, ds_b, "every DaemonSet, its status counts too");
    let pods_a: BTreeMap<(String, String), Value> =
        list(Api::<Pod>::all(client(running.url()))).await.iter().map(|p| (owner_node(p), norm(p))).collect();
    let pods_b: Vec<Pod> = list(Api::<Pod>::all(client(&serving.url))).await;
    assert_eq!(pods_b.len(), generator.pod_count(), "paged to the end, nothing twice");
    let names: HashSet<_> = pods_b.iter().map(|p| p.metadata.name.clone()).collect();
    let uids: HashSet<_> = pods_b.iter().map(|p| p.metadata.uid.clone()).collect();
    assert_eq!((names.len(), uids.len()), (pods_b.len(), pods_b.len()), "distinct names and uids");
    let pods_b: BTreeMap<(String, String), Value> = pods_b.iter().map(|p| (owner_node(p), norm(p))).collect();
    assert_eq!(pods_a.len(), pods_b.len());
    for (k, v) in &pods_a {
        let decoded = |v: &Value| serde_json::from_value::<Pod>(v.clone()).unwrap();
        assert_eq!(Some(decoded(v)), pods_b.get(k).map(decoded), "{k:?}");
    }
}

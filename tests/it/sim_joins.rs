//! Nodes joining as a cloud adds them, stepped deterministically: NotReady first with the
//! not-ready and the daemons' startup taints, a CNI-like daemon that takes its taint off
//! once its pod is Ready, a slow image pull, and workload pods that wait for an untainted
//! Ready node — or land before the CNI is Ready when no startup taint holds them off.

use crate::common::*;

use std::sync::Arc;

use daemonscope::sim::Sim;
use daemonscope::sim::joins::JoinSpec;
use daemonscope::sim::scenario::Action;
use jiff::Timestamp;
use k8s_openapi::api::core::v1::{Node, Pod};

pub(crate) const AGENT_TAINT: &str = "node.cilium.io/agent-not-ready=true:NoSchedule";

/// Two Ready nodes of pool `general`; `cni` (tolerates every taint, system-node-critical,
/// a 20 s pull, removes its startup taint when `removes` is set), `logs` (an ordinary
/// daemon), and `web`, three replicas waiting for a node of pool `burst`.
pub(crate) fn cluster(removes: bool) -> String {
    cluster_pulling(removes, "20s")
}

/// [`cluster`], the CNI's image taking `pull` to pull.
pub(crate) fn cluster_pulling(removes: bool, pull: &str) -> String {
    let ann = if removes { format!("annotations: {{sim.daemonscope.io/removes-taint: '{AGENT_TAINT}'}}, ") } else { String::new() };
    format!(
        "{}pullDurations: {{'quay.io/cilium/*': {pull}}}\n{}\
---
apiVersion: apps/v1
kind: DaemonSet
metadata: {{name: cni, namespace: kube-system}}
spec:
  selector: {{matchLabels: {{app: cni}}}}
  template:
    metadata: {{{ann}labels: {{app: cni}}}}
    spec:
      priorityClassName: system-node-critical
      tolerations: [{{operator: Exists}}]
      containers: [{{name: agent, image: 'quay.io/cilium/cilium:v1.16'}}]
{}---
apiVersion: apps/v1
kind: ReplicaSet
metadata: {{name: web, namespace: default}}
spec:
  replicas: 3
  selector: {{matchLabels: {{app: web}}}}
  template:
    metadata: {{labels: {{app: web}}}}
    spec:
      nodeSelector: {{pool: burst}}
      containers: [{{name: web, image: 'registry.example/web:v1'}}]
",
        FAST,
        nodes_yaml(&["node-a", "node-b"]),
        ds_yaml("logs", "{type: RollingUpdate}"),
    )
}

pub(crate) fn burst(name: &str, taints: &[&str]) -> JoinSpec {
    JoinSpec {
        name: Some(name.into()),
        labels: [("pool".to_string(), "burst".to_string())].into(),
        taints: taints.iter().map(|t| t.to_string()).collect(),
        ready_after: Some("3s".into()),
        ..Default::default()
    }
}

fn node(sim: &Sim, n: &str) -> Arc<Node> {
    sim.store.get::<Node>("", n).unwrap()
}

fn taints(sim: &Sim, n: &str) -> Vec<String> {
    node(sim, n)
        .spec
        .as_ref()
        .and_then(|s| s.taints.clone())
        .unwrap_or_default()
        .iter()
        .map(|t| format!("{}:{}", t.key, t.effect))
        .collect()
}

fn ready(sim: &Sim, n: &str) -> Option<String> {
    node(sim, n).status.as_ref()?.conditions.as_ref()?.iter().find(|c| c.type_ == "Ready").map(|c| c.status.clone())
}

fn pods_on(sim: &Sim, n: &str, app: &str) -> Vec<Arc<Pod>> {
    sim.store
        .list::<Pod>(None)
        .0
        .into_iter()
        .filter(|p| p.metadata.labels.as_ref().and_then(|l| l.get("app")).map(String::as_str) == Some(app))
        .filter(|p| p.spec.as_ref().and_then(|s| s.node_name.as_deref()) == Some(n))
        .collect()
}

fn condition_time(p: &Pod, ty: &str) -> Option<Timestamp> {
    p.status.as_ref()?.conditions.as_ref()?.iter().find(|c| c.type_ == ty && c.status == "True")?.last_transition_time.as_ref().map(|t| t.0)
}

/// Steps the cluster one second at a time until `f` holds (at most `secs`).
pub(crate) fn until(sim: &mut Sim, secs: usize, what: &str, f: impl Fn(&Sim) -> bool) {
    for _ in 0..secs {
        if f(sim) {
            return;
        }
        sim.advance(1);
    }
    assert!(f(sim), "not within {secs} simulated seconds: {what}");
}

/// The CNI daemon takes its startup taint off once its pod is Ready; until then nothing
/// but it runs on the node, and the workload waits.
#[test]
fn a_joining_node_is_tainted_until_its_cni_is_ready() {
    let mut sim = build(&cluster(true));
    sim.apply(&Action::Join(burst("burst-1", &[]))).unwrap();
    sim.advance(1);
    let t = taints(&sim, "burst-1");
    assert!(t.contains(&"node.kubernetes.io/not-ready:NoSchedule".to_string()), "{t:?}");
    assert!(t.contains(&"node.cilium.io/agent-not-ready:NoSchedule".to_string()), "{t:?}");
    assert_eq!(ready(&sim, "burst-1").as_deref(), Some("False"));
    let labels = node(&sim, "burst-1").metadata.labels.clone().unwrap();
    assert_eq!(labels.get("kubernetes.io/hostname").map(String::as_str), Some("burst-1"));
    until(&mut sim, 10, "the cni pod is bound to the joining node", |s| !pods_on(s, "burst-1", "cni").is_empty());
    assert!(pods_on(&sim, "burst-1", "logs").is_empty(), "an ordinary daemon waits for the taints to go");
    until(&mut sim, 10, "the node is Ready", |s| ready(s, "burst-1").as_deref() == Some("True"));
    until(&mut sim, 5, "node-lifecycle takes the not-ready taint off", |s| {
        taints(s, "burst-1") == ["node.cilium.io/agent-not-ready:NoSchedule"]
    });
    assert!(pods_on(&sim, "burst-1", "web").is_empty(), "the startup taint holds the workload off");
    until(&mut sim, 40, "the cni pod is Ready and its taint gone", |s| taints(s, "burst-1").is_empty());
    let cni = pods_on(&sim, "burst-1", "cni").remove(0);
    let cni_ready = condition_time(&cni, "Ready").expect("the cni pod is Ready");
    let scheduled = condition_time(&cni, "PodScheduled").unwrap();
    assert!(cni_ready.duration_since(scheduled) >= jiff::SignedDuration::from_secs(20), "the 20 s pull delays the start");
    until(&mut sim, 30, "the workload lands on the node", |s| pods_on(s, "burst-1", "web").len() == 3);
    until(&mut sim, 10, "the ordinary daemon runs there too", |s| !pods_on(s, "burst-1", "logs").is_empty());
    for w in pods_on(&sim, "burst-1", "web") {
        assert!(condition_time(&w, "PodScheduled").unwrap() >= cni_ready, "no workload before the CNI is Ready");
    }
}

/// Without a startup taint nothing holds the workload off: it lands as soon as the node
/// is Ready, while the CNI is still pulling — workload before CNI, as in production.
#[test]
fn without_a_startup_taint_the_workload_lands_before_the_cni() {
    let mut sim = build(&cluster(false));
    sim.apply(&Action::Join(burst("burst-1", &[]))).unwrap();
    until(&mut sim, 30, "the workload lands on the node", |s| pods_on(s, "burst-1", "web").len() == 3);
    let cni = pods_on(&sim, "burst-1", "cni").remove(0);
    assert!(condition_time(&cni, "Ready").is_none(), "the CNI is still pulling its image");
}

/// A startup taint no daemon removes stays: the node sits empty of workloads and of every
/// daemon that does not tolerate it.
#[test]
fn a_startup_taint_nobody_removes_stays() {
    let mut sim = build(&cluster(true));
    sim.apply(&Action::Join(burst("burst-1", &["example.com/gpu-not-ready:NoSchedule"]))).unwrap();
    until(&mut sim, 60, "the cni's own taint is gone", |s| taints(s, "burst-1") == ["example.com/gpu-not-ready:NoSchedule"]);
    for _ in 0..30 {
        sim.advance(1);
    }
    assert_eq!(taints(&sim, "burst-1"), ["example.com/gpu-not-ready:NoSchedule"]);
    assert!(pods_on(&sim, "burst-1", "web").is_empty() && pods_on(&sim, "burst-1", "logs").is_empty());
}

/// `join:` steps and `--join-every` resolve to joins on the timeline, checked at load.
#[test]
fn join_steps_parse_and_are_checked() {
    let sc = scenario(&format!(
        "{FAST}timeline:\n- at: 5s\n  join: {{readyAfter: 20s, taints: ['example.com/x:NoSchedule'], labels: {{pool: burst}}}}\n{}",
        nodes_yaml(&["a"])
    ));
    assert!(matches!(&sc.timeline[0].action, Action::Join(j) if j.ready_after.as_deref() == Some("20s")));
    let bad = daemonscope::sim::scenario::Scenario::parse("j.yaml", &format!("{FAST}timeline:\n- at: 5s\n  join: {{taints: [oops]}}\n"))
        .unwrap_err()
        .to_string();
    assert!(bad.contains("timeline[0]: join.taints: \"oops\" is not one taint key[=value]:Effect"), "{bad}");
    let steps = daemonscope::sim::scenario::joins_every(std::time::Duration::from_secs(20), 3, &JoinSpec::default());
    assert_eq!(steps.iter().map(|s| s.at.as_secs()).collect::<Vec<_>>(), [20, 40, 60]);
    // Unnamed joins take the first free `join-N`.
    let mut sim = build(&cluster(true));
    sim.apply(&steps[0].action).unwrap();
    sim.apply(&steps[1].action).unwrap();
    sim.advance(1);
    assert!(sim.store.get::<Node>("", "join-1").is_some() && sim.store.get::<Node>("", "join-2").is_some());
    assert_eq!(
        node(&sim, "join-1").metadata.labels.as_ref().unwrap().get("pool").map(String::as_str),
        Some("general"),
        "it joins the first worker's pool"
    );
}

/// `kubectl create` of a Node with a startup taint and `ready-after` joins it as a cloud
/// would: NotReady, then Ready on time (the running cluster wakes for it), the CNI taking
/// its taint off once Ready.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kubectl_creates_a_joining_node() {
    let sim = serve(&cluster(true)).await;
    let Some(bin) = kubectl_bin() else { return };
    let k = Kubectl::new(bin, &sim, None);
    let manifest = k.dir.path().join("node.yaml");
    let node = "apiVersion: v1\nkind: Node\nmetadata:\n  name: burst-9\n  labels: {pool: burst}\n  annotations: {sim.daemonscope.io/ready-after: 2s}\nspec:\n  taints: [{key: node.cilium.io/agent-not-ready, value: 'true', effect: NoSchedule}]\n";
    std::fs::write(&manifest, node).unwrap();
    assert_eq!(k.ok_async(&["create", "-f", manifest.to_str().unwrap()]).await.trim(), "node/burst-9 created");
    let get = |k: &Kubectl| {
        k.ok(&["get", "node", "burst-9", "-o", "jsonpath={.status.conditions[?(@.type==\"Ready\")].status} {.spec.taints[*].key}"])
    };
    let first = tokio::task::block_in_place(|| get(&k));
    assert!(first.starts_with("False") || first.starts_with(' '), "NotReady at first: {first:?}");
    tokio::task::block_in_place(|| {
        until_blocking(60, "Ready, the agent's taint gone", || {
            let s = get(&k);
            if s.trim() == "True" { Ok(()) } else { Err(s) }
        })
    });
}

/// What the watches would send for the simulator's objects now (daemon pods through the
/// client's conversion, workload pods through the workload watch's decoding of the JSON).
pub(crate) fn watch_changes(sim: &Sim) -> Vec<daemonscope::model::Change> {
    use daemonscope::cluster::workloads::WorkloadWire;
    use daemonscope::model::Change;
    use k8s_openapi::api::apps::v1::DaemonSet;
    let workloads = sim
        .store
        .list::<Pod>(None)
        .0
        .iter()
        .filter_map(|p| {
            let w: WorkloadWire = serde_json::from_slice(&serde_json::to_vec(&**p).unwrap()).unwrap();
            w.info.map(Change::Workload)
        })
        .collect::<Vec<_>>();
    [changes::<Node>(sim), changes::<DaemonSet>(sim), changes::<Pod>(sim), workloads].concat()
}

/// The model fed from the simulator every simulated second, as the watches would feed it.
fn observe(sim: &Sim, m: &mut daemonscope::model::Model) {
    let now = sim.store.now();
    for c in watch_changes(sim) {
        m.apply_at(c, now);
    }
}

fn watched(removes: bool, secs: usize) -> (Sim, daemonscope::model::Model) {
    let mut sim = build(&cluster(removes));
    let mut m = daemonscope::model::Model::new();
    observe(&sim, &mut m);
    sim.apply(&Action::Join(burst("burst-1", &[]))).unwrap();
    for _ in 0..secs {
        sim.advance(1);
        observe(&sim, &mut m);
    }
    (sim, m)
}

/// End to end: the simulator's join, watched, reads as it happened — Ready at 3 s, the
/// CNI Ready after its 20 s pull, usable when its taint went, the workload after it.
#[test]
fn the_model_follows_a_simulated_join() {
    use daemonscope::model::joins::{self, JoinSettings, ReadyKnown};
    let (sim, m) = watched(true, 60);
    let r = joins::report(&m, &JoinSettings::default(), sim.store.now());
    let j = r.iter().find(|j| j.name == "burst-1").expect("burst-1 is joining");
    assert_eq!(r.len(), 1, "the settled nodes are days old: not in the window");
    let (ready, known) = j.ready.unwrap();
    assert_eq!(known, ReadyKnown::Watched);
    assert!((3..=5).contains(&ready.duration_since(j.created).as_secs()), "{:?}", j.to_ready());
    let cni = j.daemons.iter().find(|d| d.name == "cni").unwrap();
    assert!(cni.critical && cni.ready.unwrap().duration_since(cni.scheduled.unwrap()).as_secs() >= 20);
    assert!(j.usable.unwrap() >= cni.ready.unwrap() && j.problems.is_empty(), "{:?}", j.problems);
    assert_eq!(j.taints.iter().map(|t| t.key.as_str()).collect::<Vec<_>>(), ["node.cilium.io/agent-not-ready"]);
}

/// Without the startup taint, the workload that landed before the CNI is named, as the
/// simulator staged it.
#[test]
fn the_model_names_workloads_that_beat_the_cni() {
    use daemonscope::model::joins::{self, JoinSettings, Problem};
    let (sim, m) = watched(false, 60);
    let r = joins::report(&m, &JoinSettings::default(), sim.store.now());
    let j = r.iter().find(|j| j.name == "burst-1").unwrap();
    match &j.problems[..] {
        [Problem::WorkloadsBeforeCritical { pods }] => {
            assert_eq!(pods.len(), 3, "{pods:?}");
            assert!(pods.iter().all(|p| p.owner == "ReplicaSet/web" && p.early_by.is_some_and(|e| e.as_secs() > 0)));
        }
        p => panic!("{p:?}"),
    }
}

/// The workload watch asks the server for the pods no DaemonSet made (without the
/// `pod-template-generation` label the DaemonSet controller sets), so the daemon pods are
/// not read twice: listed so from the simulator, every workload pod and no daemon pod.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_workload_watch_leaves_the_daemon_pods_to_the_server() {
    use daemonscope::cluster::watch::{Scope, Watched};
    use daemonscope::cluster::workloads::WorkloadWire;
    use kube::api::{Api, ListParams};
    let mut sim = build(&cluster(false));
    sim.apply(&Action::Join(burst("burst-1", &[]))).unwrap();
    for _ in 0..40 {
        sim.advance(1);
    }
    let selector = <WorkloadWire as Watched>::selectors(&Scope::default()).labels.expect("a label selector");
    let api: Api<Pod> = Api::all(kube::Client::new(sim.router(), "default"));
    let listed = api.list(&ListParams::default().labels(&selector)).await.unwrap();
    let owner = |p: &Pod| p.metadata.owner_references.iter().flatten().find(|o| o.controller == Some(true)).map(|o| o.kind.clone());
    let all = sim.store.list::<Pod>(None).0;
    let daemon = all.iter().filter(|p| owner(p).as_deref() == Some("DaemonSet")).count();
    assert!(daemon > 0 && listed.items.len() == 3, "{} listed, {daemon} daemon pods", listed.items.len());
    assert!(listed.items.iter().all(|p| owner(p).as_deref() == Some("ReplicaSet")), "only web's pods");
    assert_eq!(listed.items.len(), all.len() - daemon);
}

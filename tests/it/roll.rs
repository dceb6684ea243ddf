//! The safe OnDelete roll against the simulator: the watch history proves that no more
//! nodes were without an available pod than the batch size, and a new pod that never
//! becomes ready stops the roll with its node named.

use crate::common;

use std::collections::HashMap;
use std::time::Duration;

use daemonscope::cluster::roll::{self, RollSpec, RollState};
use daemonscope::sim::kind::Kind;
use daemonscope::sim::scenario::Action;
use daemonscope::sim::store::{EventType, Since};
use k8s_openapi::api::core::v1::Pod;
use serde_json::json;

const NODES: usize = 12;

fn cluster() -> String {
    let names: Vec<String> = (1..=NODES).map(|i| format!("n{i:02}")).collect();
    let refs: Vec<&str> = names.iter().map(String::as_str).collect();
    format!(
        "{}{}---\n{}{}",
        common::nodes_yaml(&refs),
        common::ds_yaml("agent", "{type: OnDelete}"),
        common::FAST,
        common::registry_yaml(&["registry.example/agent:v2"])
    )
}

/// Every node of the cluster, as a plan made while all of them were up would list them.
fn all_nodes() -> std::collections::BTreeSet<String> {
    (1..=NODES).map(|i| format!("n{i:02}")).collect()
}

/// A new template, and until the controller has taken it (observedGeneration 2).
pub(crate) async fn bump(sim: &daemonscope::sim::Running, behavior: Option<&str>) {
    let mut patch = json!({"spec": {"template": {"spec": {"containers": [{"name": "agent", "image": "registry.example/agent:v2"}]}}}});
    if let Some(b) = behavior {
        patch["spec"]["template"]["metadata"] = json!({"labels": {"app": "agent"}, "annotations": {"sim.daemonscope.io/behavior": b}});
    }
    daemonscope::sim::apply_action(
        &sim.store,
        &Action::Patch { kind: Kind::DaemonSet, namespace: "kube-system".into(), name: "agent".into(), patch },
    )
    .unwrap();
    common::until(20, "the controller observing the new template", || {
        let ds = sim.store.get::<k8s_openapi::api::apps::v1::DaemonSet>("kube-system", "agent").unwrap();
        let observed = ds.status.as_ref().and_then(|s| s.observed_generation);
        std::future::ready(if observed == Some(2) { Ok(()) } else { Err(format!("observedGeneration {observed:?}")) })
    })
    .await;
}

/// Most nodes at once without a ready, non-terminating pod, replaying every pod event since `rv`.
fn max_unavailable_since(sim: &daemonscope::sim::Running, rv: u64, start: &[Pod]) -> usize {
    let Since::Events(events) = sim.store.events_since(rv) else { panic!("history expired") };
    let mut live: HashMap<String, Pod> = start.iter().map(|p| (p.metadata.uid.clone().unwrap(), p.clone())).collect();
    let mut worst = 0;
    for ev in events.iter().filter(|e| e.kind == Kind::Pod) {
        let p: Pod = ev.new.decode::<Pod>().unwrap();
        let uid = p.metadata.uid.clone().unwrap();
        if ev.typ == EventType::Deleted {
            live.remove(&uid);
        } else {
            live.insert(uid, p);
        }
        let ready_nodes: std::collections::HashSet<String> = live
            .values()
            .filter(|p| p.metadata.deletion_timestamp.is_none())
            .filter(|p| {
                p.status
                    .as_ref()
                    .and_then(|s| s.conditions.as_ref())
                    .is_some_and(|c| c.iter().any(|c| c.type_ == "Ready" && c.status == "True"))
            })
            .filter_map(|p| p.spec.as_ref().and_then(|s| s.node_name.clone()))
            .collect();
        worst = worst.max(NODES - ready_nodes.len());
    }
    worst
}

async fn roll_with(sim: &daemonscope::sim::Running, batch: usize, timeout: Duration) -> (roll::RollStatus, Vec<roll::RollStatus>) {
    let (_tx, rx) = tokio::sync::mpsc::unbounded_channel();
    let seen = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let s2 = seen.clone();
    let spec = RollSpec { namespace: "kube-system".into(), name: "agent".into(), batch, timeout, nodes: all_nodes(), drain: false };
    let end =
        tokio::time::timeout(Duration::from_secs(120), roll::run(common::cluster(sim), spec, rx, move |s| s2.lock().unwrap().push(s)))
            .await
            .expect("the roll ends");
    let seen = seen.lock().unwrap().clone();
    (end, seen)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rolls_every_outdated_pod_never_more_than_the_batch_unavailable() {
    let sim = common::serve(&cluster()).await;
    bump(&sim, None).await;
    let rv = sim.store.current_rv();
    let start: Vec<Pod> = sim.store.list::<Pod>(Some("kube-system")).0.iter().map(|p| (**p).clone()).collect();
    let (end, seen) = roll_with(&sim, 2, Duration::from_secs(30)).await;
    assert_eq!(end.state, RollState::Done, "{}", end.line());
    assert_eq!(end.done, NODES);
    assert!(seen.iter().any(|s| s.in_flight.len() == 2), "two nodes at a time were in flight");
    // Every pod is now on the new template.
    let pods = sim.store.list::<Pod>(Some("kube-system")).0;
    assert_eq!(pods.len(), NODES);
    assert!(pods.iter().all(|p| p.metadata.labels.as_ref().unwrap()["pod-template-generation"] == "2"));
    let worst = max_unavailable_since(&sim, rv, &start);
    assert!((1..=2).contains(&worst), "at most the batch size unavailable at any instant: {worst}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_new_pod_that_never_becomes_ready_stops_the_roll_naming_its_node() {
    let sim = common::serve(&cluster()).await;
    bump(&sim, Some("never-ready")).await;
    let (end, _) = roll_with(&sim, 1, Duration::from_secs(4)).await;
    let RollState::Stopped(why) = &end.state else { panic!("{}", end.line()) };
    assert!(why.contains("on node n01") && why.contains("not ready after 4s"), "{why}");
    // Only that node was touched: every other node still runs its old, ready pod.
    let pods = sim.store.list::<Pod>(Some("kube-system")).0;
    let old = pods.iter().filter(|p| p.metadata.labels.as_ref().unwrap()["pod-template-generation"] == "1").count();
    assert_eq!(old, NODES - 1, "the roll stopped after the first node");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_roll_pauses_resumes_and_aborts_on_command() {
    let sim = common::serve(&cluster()).await;
    bump(&sim, None).await;
    let (tx, rx) = tokio::sync::mpsc::unbounded_channel();
    let (stx, mut srx) = tokio::sync::mpsc::unbounded_channel();
    let spec = RollSpec {
        namespace: "kube-system".into(),
        name: "agent".into(),
        batch: 1,
        timeout: Duration::from_secs(30),
        nodes: all_nodes(),
        drain: false,
    };
    let job = tokio::spawn(roll::run(common::cluster(&sim), spec, rx, move |s| {
        let _ = stx.send(s);
    }));
    // Pause once the first node is done: no pod is deleted while paused.
    loop {
        let s = srx.recv().await.unwrap();
        if s.done >= 1 {
            tx.send(roll::RollCmd::Pause).unwrap();
            break;
        }
    }
    let paused = loop {
        let s = srx.recv().await.unwrap();
        if s.state == RollState::Paused && s.in_flight.is_empty() {
            break s;
        }
    };
    let deletes = || sim.api.request_log().iter().filter(|r| r.method == "DELETE").count();
    let before = deletes();
    // A negative check needs a window: watch it for 2 s (the roll looks at least every
    // 500 ms), failing at the first delete rather than after a fixed sleep.
    let window = tokio::time::Instant::now() + Duration::from_secs(2);
    while tokio::time::Instant::now() < window {
        assert_eq!(deletes(), before, "nothing deleted while paused ({})", paused.line());
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    // Resume, then abort: it stops where it is and says so.
    tx.send(roll::RollCmd::Resume).unwrap();
    loop {
        let s = srx.recv().await.unwrap();
        if s.state == RollState::Running && s.done > paused.done {
            break;
        }
    }
    tx.send(roll::RollCmd::Abort).unwrap();
    let end = tokio::time::timeout(Duration::from_secs(10), job).await.unwrap().unwrap();
    assert_eq!(end.state, RollState::Aborted, "{}", end.line());
    assert!(end.done > paused.done && end.done < NODES, "{}", end.line());
    // The summary counts the cluster, not the plan: the pods still on the old revision
    // are "to go" (it said 0 to go while most were old).
    let old = sim
        .store
        .list::<Pod>(Some("kube-system"))
        .0
        .iter()
        .filter(|p| p.metadata.deletion_timestamp.is_none())
        .filter(|p| p.metadata.labels.as_ref().is_some_and(|l| l.get("pod-template-generation").map(String::as_str) == Some("1")))
        .count();
    assert!(old > 0, "aborted with old pods left");
    assert_eq!(end.remaining, old, "{}", end.line());
    assert!(paused.line().starts_with("roll of kube-system/agent paused"), "{}", paused.line());
}

/// A node that goes down is skipped and reported, not waited on (no replacement can start
/// there): the roll finishes every other node.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_node_that_goes_down_is_skipped_and_reported_not_waited_on() {
    let sim = common::serve(&cluster()).await;
    bump(&sim, None).await;
    // n03's kubelet stops answering after the plan was made.
    let patch = json!({"metadata": {"annotations": {"sim.daemonscope.io/node-state": "not-ready"}}});
    daemonscope::sim::apply_action(&sim.store, &Action::Patch { kind: Kind::Node, namespace: String::new(), name: "n03".into(), patch })
        .unwrap();
    let (end, _) = roll_with(&sim, 1, Duration::from_secs(20)).await;
    assert_eq!(end.state, RollState::Done, "{}", end.line());
    assert_eq!(end.done, NODES - 1, "{}", end.line());
    assert_eq!(end.skipped.len(), 1, "{}", end.line());
    assert!(end.skipped[0].starts_with("n03 (went down") && end.skipped[0].contains("node NotReady"), "{}", end.line());
    assert!(end.line().contains("skipped n03"), "{}", end.line());
    // n03 keeps its old pod: nothing was deleted where nothing could replace it.
    let on_n03: Vec<_> = sim
        .store
        .list::<Pod>(Some("kube-system"))
        .0
        .into_iter()
        .filter(|p| p.spec.as_ref().and_then(|s| s.node_name.as_deref()) == Some("n03"))
        .collect();
    assert_eq!(on_n03.len(), 1);
    assert_eq!(on_n03[0].metadata.labels.as_ref().unwrap()["pod-template-generation"], "1");
    assert!(on_n03[0].metadata.deletion_timestamp.is_none());
}

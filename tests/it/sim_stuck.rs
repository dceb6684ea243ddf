//! Rollouts that get stuck as they would on a real cluster, stepped deterministically (no
//! sleeping): an image the registry does not have, a pod Terminating on an unreachable
//! node (and the three ways it ends), and maxSurge with a hostPort.

use crate::common;

use std::sync::Arc;

use common::*;
use daemonscope::sim::kind::Kind;
use daemonscope::sim::scenario::Action;
use daemonscope::sim::store::{EventType, Since};
use daemonscope::sim::{Sim, SimOptions};
use k8s_openapi::api::apps::v1::DaemonSet;
use k8s_openapi::api::core::v1::{Event, Pod};
use serde_json::json;

fn ds(sim: &Sim) -> Arc<DaemonSet> {
    sim.store.get::<DaemonSet>("kube-system", "agent").unwrap()
}

fn pods(sim: &Sim) -> Vec<Arc<Pod>> {
    sim.store.list::<Pod>(Some("kube-system")).0
}

fn pod_on(sim: &Sim, node: &str) -> Option<Arc<Pod>> {
    pods(sim).into_iter().find(|p| p.spec.as_ref().unwrap().node_name.as_deref() == Some(node))
}

fn waiting(p: &Pod) -> Option<String> {
    p.status.as_ref()?.container_statuses.as_ref()?[0].state.as_ref()?.waiting.as_ref()?.reason.clone()
}

fn events_of(sim: &Sim, pod: &str) -> Vec<Arc<Event>> {
    sim.store.list::<Event>(Some("kube-system")).0.into_iter().filter(|e| e.involved_object.name.as_deref() == Some(pod)).collect()
}

fn patch(sim: &Sim, kind: Kind, ns: &str, name: &str, patch: serde_json::Value) {
    sim.apply(&Action::Patch { kind, namespace: ns.into(), name: name.into(), patch }).unwrap();
}

fn set_image(sim: &Sim, image: &str) {
    patch(
        sim,
        Kind::DaemonSet,
        "kube-system",
        "agent",
        json!({"spec": {"template": {"spec": {"containers": [{"name": "agent", "image": image}]}}}}),
    );
}

fn run(sim: &mut Sim, secs: usize) {
    for _ in 0..secs {
        sim.advance(1);
    }
}

/// Three nodes running `agent`; `settings` go into the Simulation document's flow mapping
/// (`FAST`'s, with more keys).
fn three_nodes(strategy: &str, settings: &str) -> String {
    let fast = FAST.replace("bookmarkInterval: 1s}", &format!("bookmarkInterval: 1s{settings}}}"));
    format!("{fast}{}{}", nodes_yaml(&["node-a", "node-b", "node-c"]), ds_yaml("agent", strategy))
}

/// `kubectl set image` to an image no registry has: the new pod fails to pull as a
/// kubelet reports it, the rollout stops at its budget. The same image allowed by
/// `--registry-allow` (`SimOptions::registry_allow`) rolls out.
#[test]
fn an_image_the_registry_lacks_stalls_the_rollout() {
    let mut sim = build(&three_nodes("{type: RollingUpdate, rollingUpdate: {maxUnavailable: 1}}", ""));
    run(&mut sim, 2);
    set_image(&sim, "nonexistent:tag");
    run(&mut sim, 40);
    let new: Vec<_> =
        pods(&sim).into_iter().filter(|p| p.spec.as_ref().unwrap().containers[0].image.as_deref() == Some("nonexistent:tag")).collect();
    assert_eq!(new.len(), 1, "maxUnavailable 1: one node at a time");
    let p = &new[0];
    assert!(matches!(waiting(p).as_deref(), Some("ErrImagePull" | "ImagePullBackOff")), "{:?}", waiting(p));
    assert_eq!(p.status.as_ref().unwrap().phase.as_deref(), Some("Pending"));
    let st = ds(&sim).status.clone().unwrap();
    assert_eq!((st.updated_number_scheduled, st.number_available), (Some(1), Some(2)), "the rollout is stuck");
    let evs = events_of(&sim, p.metadata.name.as_deref().unwrap());
    let has = |reason: &str, msg: &str| evs.iter().any(|e| e.reason.as_deref() == Some(reason) && e.message.as_deref() == Some(msg));
    assert!(has("Pulling", "Pulling image \"nonexistent:tag\""));
    assert!(has(
        "Failed",
        "Failed to pull image \"nonexistent:tag\": rpc error: code = NotFound desc = failed to pull and unpack image \"docker.io/library/nonexistent:tag\": failed to resolve reference \"docker.io/library/nonexistent:tag\": docker.io/library/nonexistent:tag: not found"
    ));
    assert!(has("Failed", "Error: ErrImagePull"));
    assert!(has("BackOff", "Back-off pulling image \"nonexistent:tag\""));
    assert!(has("Failed", "Error: ImagePullBackOff"));

    let sc = scenario(&three_nodes("{type: RollingUpdate, rollingUpdate: {maxUnavailable: 1}}", ""));
    let mut opts = SimOptions::from_scenario(&sc);
    opts.registry_allow = vec!["docker.io/library/nonexistent:*".into()];
    let mut sim = Sim::build(&sc, opts).unwrap();
    set_image(&sim, "nonexistent:tag");
    run(&mut sim, 30);
    let st = ds(&sim).status.clone().unwrap();
    assert_eq!((st.updated_number_scheduled, st.number_available), (Some(3), Some(3)), "an allowed image rolls out");
}

/// The demo's timeline and the synthetic cluster's rollouts pull images the registry has.
#[test]
fn the_demo_and_generated_rollouts_pull_known_images() {
    let demo = daemonscope::sim::scenario::Scenario::load(std::path::Path::new("assets/scenarios/demo.yaml")).unwrap();
    let mut gen_sc = daemonscope::sim::generator::scenario(12, 8);
    let mut gen_patches = Vec::new();
    for (k, d) in &gen_sc.objects {
        if *k == Kind::DaemonSet {
            let c = &d["spec"]["template"]["spec"]["containers"][0];
            gen_patches.push(Action::Patch {
                kind: Kind::DaemonSet,
                namespace: d["metadata"]["namespace"].as_str().unwrap().into(),
                name: d["metadata"]["name"].as_str().unwrap().into(),
                patch: json!({"spec": {"template": {"spec": {"containers": [{"name": c["name"], "image": format!("{}-next", c["image"].as_str().unwrap())}]}}}}),
            });
        }
    }
    gen_sc.settings.start_delay = Some("1s".into());
    for (sc, actions) in [(demo.clone(), demo.timeline.iter().map(|t| t.action.clone()).collect::<Vec<_>>()), (gen_sc, gen_patches)] {
        let mut sim = Sim::build(&sc, SimOptions::from_scenario(&sc)).unwrap();
        for a in &actions {
            sim.apply(a).unwrap();
        }
        run(&mut sim, 40);
        let all = sim.store.list::<Pod>(None).0;
        let bad: Vec<_> = all.iter().filter(|p| matches!(waiting(p).as_deref(), Some("ErrImagePull" | "ImagePullBackOff"))).collect();
        assert!(bad.is_empty(), "{}: {:?}", sc.name, bad.iter().map(|p| p.metadata.name.clone()).collect::<Vec<_>>());
    }
}

/// A pod deleted on an unreachable node stays Terminating: its kubelet cannot finish the
/// termination, and nothing else does, until one of three things.
fn terminating_on_unreachable_node() -> (Sim, String) {
    let mut sim = build(&three_nodes("{type: RollingUpdate}", ", podGcQuarantine: 5s"));
    run(&mut sim, 2);
    patch(&sim, Kind::Node, "", "node-b", json!({"metadata": {"annotations": {"sim.daemonscope.io/node-state": "unreachable"}}}));
    run(&mut sim, 2);
    let name = pod_on(&sim, "node-b").unwrap().metadata.name.clone().unwrap();
    sim.apply(&Action::Delete { kind: Kind::Pod, namespace: "kube-system".into(), name: name.clone() }).unwrap();
    run(&mut sim, 120);
    let p = sim.store.get::<Pod>("kube-system", &name).expect("still there two minutes later");
    assert!(p.metadata.deletion_timestamp.is_some(), "Terminating");
    (sim, name)
}

#[test]
fn terminating_on_an_unreachable_node_ends_when_the_node_returns() {
    let (mut sim, name) = terminating_on_unreachable_node();
    patch(&sim, Kind::Node, "", "node-b", json!({"metadata": {"annotations": {"sim.daemonscope.io/node-state": null}}}));
    run(&mut sim, 3);
    assert!(sim.store.get::<Pod>("kube-system", &name).is_none(), "its kubelet finished the termination");
    run(&mut sim, 5);
    assert!(pod_on(&sim, "node-b").is_some_and(|p| p.metadata.deletion_timestamp.is_none()), "and the DaemonSet replaced it");
}

#[test]
fn terminating_on_an_unreachable_node_ends_when_the_node_object_is_deleted() {
    let (mut sim, name) = terminating_on_unreachable_node();
    let rv = sim.store.current_rv();
    sim.apply(&Action::Delete { kind: Kind::Node, namespace: String::new(), name: "node-b".into() }).unwrap();
    run(&mut sim, 2);
    assert!(sim.store.get::<Pod>("kube-system", &name).is_some(), "PodGC waits out its quarantine first (5 s here, 40 s real)");
    run(&mut sim, 5);
    assert!(sim.store.get::<Pod>("kube-system", &name).is_none(), "PodGC force-deleted it");
    // Marked Failed, with the DisruptionTarget condition, before the delete.
    let Since::Events(evs) = sim.store.events_since(rv) else { panic!("history expired") };
    let failed =
        evs.iter().filter(|e| e.kind == Kind::Pod && e.typ == EventType::Modified).map(|e| e.new.decode::<Pod>().unwrap()).any(|p| {
            p.metadata.name.as_deref() == Some(name.as_str())
                && p.status.as_ref().unwrap().phase.as_deref() == Some("Failed")
                && p.status.as_ref().unwrap().conditions.iter().flatten().any(|c| {
                    c.type_ == "DisruptionTarget"
                        && c.reason.as_deref() == Some("DeletionByPodGC")
                        && c.message.as_deref() == Some("PodGC: node no longer exists")
                })
        });
    assert!(failed, "PodGC marks the pod Failed first");
}

#[test]
fn terminating_on_an_unreachable_node_ends_with_the_out_of_service_taint() {
    let (mut sim, name) = terminating_on_unreachable_node();
    // Another pod on the node, not deleted: the taint's NoExecute evicts it, then PodGC
    // removes it as well.
    let taint = json!({"spec": {"taints": [
        {"key": "node.kubernetes.io/unreachable", "effect": "NoSchedule"},
        {"key": "node.kubernetes.io/unreachable", "effect": "NoExecute"},
        {"key": "node.kubernetes.io/out-of-service", "value": "nodeshutdown", "effect": "NoExecute"}]}});
    patch(&sim, Kind::Node, "", "node-b", taint);
    run(&mut sim, 2);
    assert!(sim.store.get::<Pod>("kube-system", &name).is_none(), "PodGC force-deleted the terminating pod");
    assert!(pod_on(&sim, "node-b").is_none(), "and no DaemonSet pod stays on the out-of-service node");
}

/// maxSurge 1 with a hostPort: the surge pod cannot be placed beside the old pod, which
/// the controller keeps until the new one is available — a deadlock, as on a real cluster.
#[test]
fn max_surge_with_a_host_port_deadlocks() {
    let mut y = three_nodes("{type: RollingUpdate, rollingUpdate: {maxSurge: 1, maxUnavailable: 0}}", "");
    y = y.replace(
        "containers: [{name: agent, image: 'registry.example/agent:v1'}]",
        "containers: [{name: agent, image: 'registry.example/agent:v1', ports: [{containerPort: 9100, hostPort: 9100}]}]",
    );
    y.push_str(&format!(
        "---\napiVersion: sim.daemonscope.io/v1alpha1\nkind: Simulation\nsettings: {{startDelay: 300ms, readyDelay: 200ms}}\n{}",
        registry_yaml(&["registry.example/agent:v2"])
    ));
    let mut sim = build(&y);
    run(&mut sim, 2);
    // A merge patch replaces the list: the new template keeps its port.
    let c = json!([{"name": "agent", "image": "registry.example/agent:v2", "ports": [{"containerPort": 9100, "hostPort": 9100}]}]);
    patch(&sim, Kind::DaemonSet, "kube-system", "agent", json!({"spec": {"template": {"spec": {"containers": c}}}}));
    run(&mut sim, 5);
    let unbound = |p: &Pod| p.spec.as_ref().unwrap().node_name.as_deref().unwrap_or("").is_empty();
    let pending: Vec<_> = pods(&sim).into_iter().filter(|p| unbound(p)).collect();
    assert_eq!(pending.len(), 1, "one surge pod (maxSurge 1)");
    let p = &pending[0];
    let cond = p.status.as_ref().unwrap().conditions.iter().flatten().find(|c| c.type_ == "PodScheduled").unwrap().clone();
    let msg = "0/3 nodes are available: 1 node(s) didn't have free ports for the requested pod ports, 2 node(s) didn't match Pod's node affinity/selector. preemption: 0/3 nodes are available: 1 No preemption victims found for incoming pod, 2 Preemption is not helpful for scheduling..";
    assert_eq!((cond.status.as_str(), cond.reason.as_deref(), cond.message.as_deref()), ("False", Some("Unschedulable"), Some(msg)));
    let name = p.metadata.name.clone().unwrap();
    let failed = |sim: &Sim| -> i32 {
        events_of(sim, &name)
            .iter()
            .filter(|e| e.reason.as_deref() == Some("FailedScheduling"))
            .map(|e| {
                assert_eq!(e.message.as_deref(), Some(msg));
                e.count.unwrap_or(1)
            })
            .sum()
    };
    assert_eq!(failed(&sim), 1, "nothing changed since: the pod waits among the unschedulable");
    // Five minutes on, the queue flushes it back and the scheduler tries again.
    for _ in 0..11 {
        sim.advance(30);
    }
    assert!(failed(&sim) >= 2, "retried after 5 minutes: {}", failed(&sim));
    let st = ds(&sim).status.clone().unwrap();
    assert_eq!((st.updated_number_scheduled.unwrap_or(0), st.number_available), (0, Some(3)), "the rollout never progresses");
    assert!(pods(&sim).iter().any(|p| p.metadata.name.as_deref() == Some(name.as_str()) && unbound(p)));
}

/// A `hostPort: 0` is no host port (the NodePorts filter skips ports at or below 0): the
/// same surge as above is placed beside the old pod, and the rollout finishes.
#[test]
fn a_host_port_of_zero_holds_nothing() {
    let mut y = three_nodes("{type: RollingUpdate, rollingUpdate: {maxSurge: 1, maxUnavailable: 0}}", "");
    y = y.replace(
        "containers: [{name: agent, image: 'registry.example/agent:v1'}]",
        "containers: [{name: agent, image: 'registry.example/agent:v1', ports: [{containerPort: 9100, hostPort: 0}]}]",
    );
    y.push_str(&format!(
        "---\napiVersion: sim.daemonscope.io/v1alpha1\nkind: Simulation\nsettings: {{startDelay: 300ms, readyDelay: 200ms}}\n{}",
        registry_yaml(&["registry.example/agent:v2"])
    ));
    let mut sim = build(&y);
    run(&mut sim, 2);
    let c = json!([{"name": "agent", "image": "registry.example/agent:v2", "ports": [{"containerPort": 9100, "hostPort": 0}]}]);
    patch(&sim, Kind::DaemonSet, "kube-system", "agent", json!({"spec": {"template": {"spec": {"containers": c}}}}));
    run(&mut sim, 3);
    let unbound = pods(&sim).into_iter().filter(|p| p.spec.as_ref().unwrap().node_name.as_deref().unwrap_or("").is_empty()).count();
    assert_eq!(unbound, 0, "the surge pod was placed");
    // Node by node, each surge pod beside the old one (simulated time, one second a step).
    let done =
        |sim: &Sim| ds(sim).status.clone().is_some_and(|st| st.updated_number_scheduled == Some(3) && st.number_available == Some(3));
    for _ in 0..60 {
        if done(&sim) {
            break;
        }
        run(&mut sim, 1);
    }
    assert!(done(&sim), "{:?}", ds(&sim).status);
}

//! DaemonSet controller semantics, stepped deterministically (no sleeping): rollout
//! budgets proven over every event of the watch history, OnDelete, misscheduled pods,
//! eligibility through the whole controller, the scheduler's Pending reasons.

use crate::common;

use std::collections::HashMap;
use std::sync::Arc;

use common::*;
use daemonscope::sim::Sim;
use daemonscope::sim::controller::daemonset::{REVISION_HASH_LABEL, is_available};
use daemonscope::sim::kind::Kind;
use daemonscope::sim::scenario::Action;
use daemonscope::sim::store::{EventType, Since};
use k8s_openapi::api::apps::v1::DaemonSet;
use k8s_openapi::api::core::v1::{Node, Pod};
use proptest::prelude::*;
use serde_json::json;

fn node_names(n: usize) -> Vec<String> {
    (0..n).map(|i| format!("node-{i:02}")).collect()
}

fn cluster_yaml(n: usize, strategy: &str) -> String {
    let names = node_names(n);
    let refs: Vec<&str> = names.iter().map(String::as_str).collect();
    format!("{FAST}{}{}{}", registry_yaml(&["registry.example/agent:v2"]), nodes_yaml(&refs), ds_yaml("agent", strategy))
}

fn ds(sim: &Sim) -> Arc<DaemonSet> {
    sim.store.get::<DaemonSet>("kube-system", "agent").unwrap()
}

fn pods(sim: &Sim) -> Vec<Arc<Pod>> {
    sim.store.list::<Pod>(Some("kube-system")).0
}

fn set_image(sim: &Sim, image: &str, behavior: Option<&str>) {
    let mut patch = json!({"spec": {"template": {"spec": {"containers": [{"name": "agent", "image": image}]}}}});
    if let Some(b) = behavior {
        patch["spec"]["template"]["metadata"] = json!({"labels": {"app": "agent"}, "annotations": {"sim.daemonscope.io/behavior": b}});
    }
    sim.apply(&Action::Patch { kind: Kind::DaemonSet, namespace: "kube-system".into(), name: "agent".into(), patch }).unwrap();
}

/// Replays pod events from `since` and calls `check` with the live pods after each one.
fn replay(sim: &Sim, since: u64, mut check: impl FnMut(&HashMap<String, Pod>)) {
    let Since::Events(events) = sim.store.events_since(since) else { panic!("history expired") };
    // The state at `since`, then every pod event after it.
    let mut live: HashMap<String, Pod> = pods_at(sim, since).into_iter().map(|p| (p.metadata.uid.clone().unwrap(), p)).collect();
    for ev in events.iter().filter(|e| e.kind == Kind::Pod) {
        let p: Pod = ev.new.decode::<Pod>().unwrap();
        let uid = p.metadata.uid.clone().unwrap();
        match ev.typ {
            EventType::Deleted => {
                live.remove(&uid);
            }
            _ => {
                live.insert(uid, p);
            }
        }
        check(&live);
    }
}

/// The pods as they were at resourceVersion `rv` (pods now, rolled back through history).
fn pods_at(sim: &Sim, rv: u64) -> Vec<Pod> {
    let Since::Events(events) = sim.store.events_since(rv) else { panic!("history expired") };
    let mut state: HashMap<String, Pod> = pods(sim).iter().map(|p| (p.metadata.uid.clone().unwrap(), (**p).clone())).collect();
    for ev in events.iter().rev().filter(|e| e.kind == Kind::Pod) {
        let uid = ev.new.decode::<Pod>().unwrap().metadata.uid.clone().unwrap();
        match (&ev.old, ev.typ) {
            (_, EventType::Added) => {
                state.remove(&uid);
            }
            (Some(old), _) => {
                state.insert(uid, old.decode::<Pod>().unwrap());
            }
            (None, _) => {}
        }
    }
    state.into_values().collect()
}

/// Per node: (non-terminating pods, has an available non-terminating pod).
fn per_node(live: &HashMap<String, Pod>, now: jiff::Timestamp) -> HashMap<String, (usize, bool)> {
    let mut m: HashMap<String, (usize, bool)> = HashMap::new();
    for p in live.values() {
        if p.metadata.deletion_timestamp.is_some() {
            continue;
        }
        let Some(n) = daemonscope::sim::controller::daemonset::target_node(p) else { continue };
        let e = m.entry(n).or_default();
        e.0 += 1;
        e.1 |= is_available(p, 0, now);
    }
    m
}

#[derive(Debug, Clone)]
struct Case {
    nodes: usize,
    max_unavailable: serde_json::Value,
    max_surge: serde_json::Value,
    failing: bool,
}

fn cases() -> impl Strategy<Value = Case> {
    (2usize..10, 1i64..4, prop::bool::ANY, prop::bool::ANY, prop::bool::ANY).prop_map(|(nodes, budget, surge, pct, failing)| {
        let v = if pct { json!(format!("{}%", budget * 20)) } else { json!(budget) };
        let (max_unavailable, max_surge) = if surge { (json!(0), v) } else { (v, json!(0)) };
        Case { nodes, max_unavailable, max_surge, failing }
    })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 24, failure_persistence: None, rng_seed: proptest::test_runner::RngSeed::Fixed(16), ..ProptestConfig::default() })]

    /// During a RollingUpdate, at no instant (every event of the watch history) are more
    /// nodes without an available pod than maxUnavailable allows, nor more nodes surged
    /// than maxSurge allows; with healthy new pods the rollout completes.
    #[test]
    fn rolling_update_respects_its_budget(case in cases()) {
        let strategy = format!("{{type: RollingUpdate, rollingUpdate: {{maxUnavailable: {}, maxSurge: {}}}}}", case.max_unavailable, case.max_surge);
        let mut sim = build(&cluster_yaml(case.nodes, &strategy));
        for _ in 0..3 { sim.advance(1); }
        let start = sim.store.current_rv();
        let desired = ds(&sim).status.as_ref().unwrap().desired_number_scheduled;
        prop_assert_eq!(desired, case.nodes as i32);
        let to_ios = |v: &serde_json::Value| serde_json::from_value(v.clone()).unwrap();
        let (surge, unavail) = daemonscope::k8s::intstr::surge_and_unavailable(&to_ios(&case.max_surge), &to_ios(&case.max_unavailable), desired);
        set_image(&sim, "registry.example/agent:v2", case.failing.then_some("never-ready"));
        for _ in 0..120 { sim.advance(1); }
        let now = sim.store.now();
        let mut worst_unavailable = 0;
        let mut worst_surge = 0;
        replay(&sim, start, |live| {
            let m = per_node(live, now);
            let unavailable = (0..case.nodes).filter(|i| !m.get(&format!("node-{i:02}")).is_some_and(|e| e.1)).count();
            let surged = m.values().filter(|e| e.0 > 1).count();
            worst_unavailable = worst_unavailable.max(unavailable);
            worst_surge = worst_surge.max(surged);
        });
        prop_assert!(worst_unavailable as i32 <= unavail, "unavailable {} > maxUnavailable {}", worst_unavailable, unavail);
        prop_assert!(worst_surge as i32 <= surge, "surged {} > maxSurge {}", worst_surge, surge);
        let st = ds(&sim).status.clone().unwrap();
        if case.failing {
            // New pods never become ready: the rollout stalls within its budget.
            prop_assert!(st.number_available.unwrap_or(0) >= desired - unavail);
            prop_assert!(st.updated_number_scheduled.unwrap_or(0) <= unavail);
        } else {
            prop_assert_eq!((st.updated_number_scheduled, st.number_available), (Some(desired), Some(desired)));
        }
    }
}

#[test]
fn ondelete_never_replaces_a_pod_by_itself() {
    let mut sim = build(&cluster_yaml(4, "{type: OnDelete}"));
    sim.advance(1);
    let before: Vec<String> = pods(&sim).iter().map(|p| p.metadata.uid.clone().unwrap()).collect();
    let old_hash = pods(&sim)[0].metadata.labels.as_ref().unwrap()[REVISION_HASH_LABEL].clone();
    set_image(&sim, "registry.example/agent:v2", None);
    for _ in 0..60 {
        sim.advance(1);
    }
    let after: Vec<String> = pods(&sim).iter().map(|p| p.metadata.uid.clone().unwrap()).collect();
    assert_eq!(before.len(), 4);
    assert_eq!(sorted(before), sorted(after.clone()), "no pod replaced");
    let st = ds(&sim).status.clone().unwrap();
    assert_eq!((st.desired_number_scheduled, st.updated_number_scheduled, st.number_ready), (4, None, 4));
    // Deleting one pod replaces it from the current template.
    let victim = pods(&sim)[0].clone();
    daemonscope::sim::ops::graceful_delete_pod(&sim.store, "kube-system", victim.metadata.name.as_deref().unwrap(), None).unwrap();
    for _ in 0..5 {
        sim.advance(1);
    }
    let now_pods = pods(&sim);
    let fresh: Vec<_> = now_pods.iter().filter(|p| !after.contains(p.metadata.uid.as_ref().unwrap())).collect();
    assert_eq!(fresh.len(), 1);
    assert_ne!(fresh[0].metadata.labels.as_ref().unwrap()[REVISION_HASH_LABEL], old_hash);
    assert_eq!(ds(&sim).status.as_ref().unwrap().updated_number_scheduled, Some(1));
    // Two ControllerRevisions: the old one is kept while pods use it.
    let revs = sim.store.list::<k8s_openapi::api::apps::v1::ControllerRevision>(Some("kube-system")).0;
    assert_eq!(revs.len(), 2);
    assert_eq!(sorted(revs.iter().map(|r| r.revision).collect()), vec![1, 2]);
}

fn sorted<T: Ord>(mut v: Vec<T>) -> Vec<T> {
    v.sort();
    v
}

#[test]
fn pod_becomes_misscheduled_and_is_removed_when_its_node_label_goes() {
    let yaml = format!(
        "{FAST}{}{}",
        nodes_yaml(&["node-a", "node-b"]),
        ds_yaml("ssd-agent", "{type: RollingUpdate}")
            .replace("      containers:", "      nodeSelector: {pool: general}\n      containers:")
    );
    let mut sim = build(&yaml);
    sim.advance(1);
    let get = |sim: &Sim| sim.store.get::<DaemonSet>("kube-system", "ssd-agent").unwrap().status.clone().unwrap();
    assert_eq!((get(&sim).desired_number_scheduled, get(&sim).current_number_scheduled), (2, 2));
    let start = sim.store.current_rv();
    sim.apply(&Action::Patch {
        kind: Kind::Node,
        namespace: String::new(),
        name: "node-b".into(),
        patch: json!({"metadata": {"labels": {"pool": null}}}),
    })
    .unwrap();
    let mut saw_misscheduled = false;
    for _ in 0..10 {
        sim.advance(1);
        saw_misscheduled |= get(&sim).number_misscheduled == 1;
    }
    assert!(saw_misscheduled, "status counted the pod as misscheduled before it went");
    let st = get(&sim);
    assert_eq!((st.desired_number_scheduled, st.current_number_scheduled, st.number_misscheduled), (1, 1, 0));
    assert!(pods(&sim).iter().all(|p| p.spec.as_ref().unwrap().node_name.as_deref() == Some("node-a")));
    // The controller said so in an Event.
    let Since::Events(evs) = sim.store.events_since(start) else { panic!() };
    assert!(evs.iter().any(|e| e.kind == Kind::Pod && e.typ == EventType::Deleted));
}

#[test]
fn eligibility_through_the_controller() {
    let yaml = format!(
        "{FAST}---
apiVersion: v1
kind: Node
metadata: {{name: plain}}
---
apiVersion: v1
kind: Node
metadata: {{name: gpu, labels: {{accelerator: nvidia}}}}
spec: {{taints: [{{key: nvidia.com/gpu, value: present, effect: NoSchedule}}]}}
---
apiVersion: v1
kind: Node
metadata: {{name: infra}}
spec: {{taints: [{{key: dedicated, value: infra, effect: NoExecute}}]}}
---
apiVersion: v1
kind: Node
metadata: {{name: cordoned}}
spec: {{unschedulable: true}}
---
apiVersion: v1
kind: Node
metadata: {{name: soft}}
spec: {{taints: [{{key: x, effect: PreferNoSchedule}}]}}
{}{}{}",
        ds_yaml("everywhere", "{type: RollingUpdate}").replace("      containers:", "      tolerations: [{operator: Exists}]\n      containers:"),
        ds_yaml("plain", "{type: RollingUpdate}"),
        ds_yaml("gpu-plugin", "{type: RollingUpdate}").replace(
            "      containers:",
            "      nodeSelector: {accelerator: nvidia}\n      tolerations: [{key: nvidia.com/gpu, operator: Equal, value: present, effect: NoSchedule}]\n      containers:"
        ),
    );
    let mut sim = build(&yaml);
    sim.advance(1);
    let nodes_of = |app: &str| -> Vec<String> {
        sorted(
            pods(&sim)
                .iter()
                .filter(|p| p.metadata.labels.as_ref().unwrap()["app"] == app)
                .map(|p| p.spec.as_ref().unwrap().node_name.clone().unwrap())
                .collect(),
        )
    };
    assert_eq!(nodes_of("everywhere"), ["cordoned", "gpu", "infra", "plain", "soft"]);
    assert_eq!(nodes_of("plain"), ["cordoned", "plain", "soft"], "cordon is ignored, PreferNoSchedule too");
    assert_eq!(nodes_of("gpu-plugin"), ["gpu"]);
    // Every created pod carries the controller's tolerations and the node pin.
    let p = pods(&sim).into_iter().find(|p| p.metadata.labels.as_ref().unwrap()["app"] == "plain").unwrap();
    let tols: Vec<String> = p.spec.as_ref().unwrap().tolerations.iter().flatten().filter_map(|t| t.key.clone()).collect();
    for k in [
        "node.kubernetes.io/not-ready",
        "node.kubernetes.io/unreachable",
        "node.kubernetes.io/unschedulable",
        "node.kubernetes.io/disk-pressure",
    ] {
        assert!(tols.iter().any(|t| t == k), "{k} in {tols:?}");
    }
    let terms = &p
        .spec
        .as_ref()
        .unwrap()
        .affinity
        .as_ref()
        .unwrap()
        .node_affinity
        .as_ref()
        .unwrap()
        .required_during_scheduling_ignored_during_execution
        .as_ref()
        .unwrap()
        .node_selector_terms;
    assert_eq!(terms[0].match_fields.as_ref().unwrap()[0].key, "metadata.name");
}

#[test]
fn a_notready_node_keeps_its_pod_as_misscheduled_and_gets_no_new_one() {
    let mut sim = build(&cluster_yaml(3, "{type: RollingUpdate}"));
    sim.advance(1);
    sim.apply(&Action::Patch {
        kind: Kind::Node,
        namespace: String::new(),
        name: "node-01".into(),
        patch: json!({"metadata": {"annotations": {"sim.daemonscope.io/node-state": "not-ready"}}}),
    })
    .unwrap();
    for _ in 0..3 {
        sim.advance(1);
    }
    let n = sim.store.get::<Node>("", "node-01").unwrap();
    let taints: Vec<(String, String)> =
        n.spec.as_ref().unwrap().taints.iter().flatten().map(|t| (t.key.clone(), t.effect.clone())).collect();
    assert!(taints.contains(&("node.kubernetes.io/not-ready".into(), "NoExecute".into())));
    let st = ds(&sim).status.clone().unwrap();
    assert_eq!((st.desired_number_scheduled, st.number_misscheduled), (2, 1));
    assert_eq!(pods(&sim).len(), 3, "the pod on the NotReady node is kept");
}

#[test]
fn scheduler_leaves_unplaceable_pods_pending_with_the_real_reason() {
    let yaml = format!(
        "{FAST}{}---
apiVersion: v1
kind: Pod
metadata: {{name: picky, namespace: default}}
spec:
  nodeSelector: {{disktype: nvme}}
  containers: [{{name: c, image: busybox}}]
",
        nodes_yaml(&["node-a", "node-b"])
    );
    let mut sim = build(&yaml);
    sim.advance(1);
    let p = sim.store.get::<Pod>("default", "picky").unwrap();
    let st = p.status.as_ref().unwrap();
    assert_eq!(st.phase.as_deref(), Some("Pending"));
    let c = st.conditions.iter().flatten().find(|c| c.type_ == "PodScheduled").unwrap();
    assert_eq!((c.status.as_str(), c.reason.as_deref()), ("False", Some("Unschedulable")));
    assert_eq!(
        c.message.as_deref(),
        Some(
            // FitError.Error() appends the post-filter's message with " %v.", and that
            // message (a FitError itself) already ends in ".": real clusters print "..".
            "0/2 nodes are available: 2 node(s) didn't match Pod's node affinity/selector. preemption: 0/2 nodes are available: 2 Preemption is not helpful for scheduling.."
        )
    );
}

#[test]
fn crash_looping_pods_look_like_a_kubelet_reports_them() {
    let yaml = format!(
        "{FAST}{}{}",
        nodes_yaml(&["node-a"]),
        ds_yaml("agent", "{type: RollingUpdate}").replace(
            "    metadata: {labels: {app: agent}}",
            "    metadata: {labels: {app: agent}, annotations: {sim.daemonscope.io/behavior: crash-loop}}"
        )
    );
    let mut sim = build(&yaml);
    let mut reasons = Vec::new();
    let mut restarts = 0;
    for _ in 0..20 {
        sim.advance(1);
        if let Some(p) = pods(&sim).first() {
            let cs = &p.status.as_ref().unwrap().container_statuses.as_ref().map(|v| v[0].clone());
            if let Some(cs) = cs {
                restarts = cs.restart_count;
                if let Some(w) = cs.state.as_ref().and_then(|s| s.waiting.as_ref()) {
                    reasons.push(w.reason.clone().unwrap());
                }
            }
        }
    }
    assert!(reasons.contains(&"CrashLoopBackOff".to_string()), "{reasons:?}");
    assert!(restarts >= 2, "restarts rise: {restarts}");
    assert_eq!(ds(&sim).status.as_ref().unwrap().number_ready, 0);
}

/// The Events a real cluster records: the kubelet for container starts, crash-loop
/// back-offs and node readiness, and for cordons; so detail views have events to show.
#[test]
fn the_kubelet_and_the_node_controller_record_events() {
    use k8s_openapi::api::core::v1::Event;
    let yaml = format!(
        "{FAST}{}{}",
        nodes_yaml(&["node-a", "node-b"]),
        ds_yaml("agent", "{type: RollingUpdate}").replace(
            "    metadata: {labels: {app: agent}}",
            "    metadata: {labels: {app: agent}, annotations: {sim.daemonscope.io/behavior: crash-loop}}"
        )
    );
    let mut sim = build(&yaml);
    // A node joining now: its daemon pod is pulled, created and started while we watch.
    let joined = json!({"apiVersion": "v1", "kind": "Node", "metadata": {"name": "node-c"}});
    sim.apply(&Action::Create(Kind::Node, joined)).unwrap();
    for _ in 0..20 {
        sim.advance(1);
    }
    let node =
        |name: &str, patch: serde_json::Value| Action::Patch { kind: Kind::Node, namespace: String::new(), name: name.into(), patch };
    sim.apply(&node("node-b", json!({"metadata": {"annotations": {"sim.daemonscope.io/node-state": "not-ready"}}}))).unwrap();
    sim.apply(&node("node-a", json!({"spec": {"unschedulable": true}}))).unwrap();
    for _ in 0..3 {
        sim.advance(1);
    }
    let events: Vec<Arc<Event>> = sim.store.list::<Event>(None).0;
    let has = |kind: &str, reason: &str, pred: &dyn Fn(&Event) -> bool| {
        events.iter().any(|e| e.involved_object.kind.as_deref() == Some(kind) && e.reason.as_deref() == Some(reason) && pred(e))
    };
    let any = |_: &Event| true;
    for reason in ["Pulling", "Pulled", "Created", "Started"] {
        assert!(has("Pod", reason, &any), "{reason}: {:#?}", events.iter().map(|e| e.reason.clone()).collect::<Vec<_>>());
    }
    assert!(has("Pod", "BackOff", &|e| e.type_.as_deref() == Some("Warning")
        && e.message.as_deref().is_some_and(|m| m.starts_with("Back-off restarting failed container agent in pod agent-"))));
    assert!(has("Node", "NodeNotReady", &|e| e.message.as_deref() == Some("Node node-b status is now: NodeNotReady")));
    assert!(has("Node", "NodeNotSchedulable", &|e| e.involved_object.name.as_deref() == Some("node-a")));
}

/// The taint eviction controller follows `k8s::taints::eviction`, the rule the TUI's taint
/// preview shows: an untolerated NoExecute taint evicts at once, `operator: Exists`
/// tolerates it for good, and `tolerationSeconds` counts from when the pod was first seen
/// on the tainted node (a replacement starts its own countdown).
#[test]
fn noexecute_taints_evict_as_the_taint_preview_says() {
    use daemonscope::k8s::eligibility::{Taint, Toleration};
    use daemonscope::k8s::taints::{Eviction, eviction};
    let yaml = format!(
        "{FAST}{}{}{}{}",
        nodes_yaml(&["n1", "n2"]),
        ds_yaml("plain", "{type: RollingUpdate}"),
        ds_yaml("everything", "{type: RollingUpdate}")
            .replace("      containers:", "      tolerations: [{operator: Exists}]\n      containers:"),
        ds_yaml("patient", "{type: RollingUpdate}").replace(
            "      containers:",
            "      tolerations: [{key: maint, operator: Exists, effect: NoExecute, tolerationSeconds: 60}]\n      containers:"
        ),
    );
    let mut sim = build(&yaml);
    sim.advance(1);
    // The live pod of `app` on `node`: (uid, terminating).
    let pod_on = |sim: &Sim, app: &str, node: &str| -> Vec<(String, bool)> {
        pods(sim)
            .iter()
            .filter(|p| p.metadata.labels.as_ref().unwrap()["app"] == app && p.spec.as_ref().unwrap().node_name.as_deref() == Some(node))
            .map(|p| (p.metadata.uid.clone().unwrap(), p.metadata.deletion_timestamp.is_some()))
            .collect()
    };
    let before: HashMap<&str, String> =
        ["plain", "everything", "patient"].into_iter().map(|a| (a, pod_on(&sim, a, "n1")[0].0.clone())).collect();
    let taint = json!({"spec": {"taints": [{"key": "maint", "value": "now", "effect": "NoExecute"}]}});
    sim.apply(&Action::Patch { kind: Kind::Node, namespace: String::new(), name: "n1".into(), patch: taint }).unwrap();

    // What the preview says, from the same rule.
    let taints = [Taint { key: "maint".into(), value: "now".into(), effect: "NoExecute".into() }];
    let tolerations = |app: &str| -> Vec<Toleration> {
        let p = pods(&sim).into_iter().find(|p| p.metadata.labels.as_ref().unwrap()["app"] == app).unwrap();
        p.spec.as_ref().unwrap().tolerations.iter().flatten().map(Toleration::from).collect()
    };
    assert_eq!(eviction(&taints, &tolerations("plain")), Eviction::Now);
    assert_eq!(eviction(&taints, &tolerations("everything")), Eviction::Never);
    assert_eq!(eviction(&taints, &tolerations("patient")), Eviction::After(60));

    sim.advance(1);
    assert!(pod_on(&sim, "plain", "n1").iter().all(|(uid, terminating)| uid != &before["plain"] || *terminating), "evicted at once");
    let events = |sim: &Sim, name_prefix: &str| -> usize {
        sim.store
            .list::<k8s_openapi::api::core::v1::Event>(None)
            .0
            .iter()
            .filter(|e| e.reason.as_deref() == Some("TaintManagerEviction"))
            .filter(|e| e.involved_object.name.as_deref().is_some_and(|n| n.starts_with(name_prefix)))
            .count()
    };
    assert_eq!(events(&sim, "plain-"), 1, "the taint manager evicted it");
    for _ in 0..29 {
        sim.advance(2);
    }
    // 59 s in: still tolerated.
    assert_eq!(pod_on(&sim, "patient", "n1"), [(before["patient"].clone(), false)]);
    sim.advance(2);
    assert_eq!(pod_on(&sim, "patient", "n1"), [(before["patient"].clone(), true)], "evicted after tolerationSeconds");
    assert_eq!(events(&sim, "patient-"), 1);
    // The DaemonSet replaces it (the taint is tolerated, so the node should run it); the
    // replacement has its own 60 s.
    for _ in 0..5 {
        sim.advance(1);
    }
    let replacement = pod_on(&sim, "patient", "n1");
    assert!(replacement.len() == 1 && replacement[0].0 != before["patient"] && !replacement[0].1, "{replacement:?}");
    for _ in 0..25 {
        sim.advance(2);
    }
    assert_eq!(pod_on(&sim, "patient", "n1"), replacement, "the replacement counts from when it appeared");
    // Tolerated for good: untouched throughout; n2 (no taint) untouched too.
    assert_eq!(pod_on(&sim, "everything", "n1"), [(before["everything"].clone(), false)]);
    assert_eq!(events(&sim, "everything-"), 0);
    assert_eq!(pod_on(&sim, "plain", "n2").len(), 1);
}

/// `ClaimPods`: a pod the DaemonSet's selector matches, with no controller, is adopted
/// with the revision it runs (no replacement), and counts as outdated when its revision
/// is not the current one; a pod being deleted or in another namespace is not adopted.
#[test]
fn orphans_matching_the_selector_are_adopted_not_replaced() {
    let orphan = |name: &str, ns: &str, node: &str, hash: &str| {
        format!(
            "---\napiVersion: v1\nkind: Pod\nmetadata: {{name: {name}, namespace: {ns}, labels: {{app: agent, controller-revision-hash: {hash}}}}}\nspec: {{nodeName: {node}, containers: [{{name: agent, image: 'registry.example/agent:v0'}}]}}\n"
        )
    };
    let yaml = format!(
        "{FAST}{}---\napiVersion: v1\nkind: Namespace\nmetadata: {{name: other}}\n{}{}{}",
        nodes_yaml(&["node-a", "node-b"]),
        orphan("old-agent", "kube-system", "node-a", "oldhash"),
        orphan("elsewhere", "other", "node-b", "oldhash"),
        ds_yaml("agent", "{type: OnDelete}"),
    );
    let mut sim = build(&yaml);
    sim.advance(1);
    let d = ds(&sim);
    let old = sim.store.get::<Pod>("kube-system", "old-agent").expect("kept, not replaced");
    let owner = &old.metadata.owner_references.as_ref().expect("adopted")[0];
    assert_eq!((owner.uid.as_str(), owner.controller), (d.metadata.uid.as_deref().unwrap(), Some(true)));
    let on = |node: &str| pods(&sim).iter().filter(|p| p.spec.as_ref().unwrap().node_name.as_deref() == Some(node)).count();
    assert_eq!((on("node-a"), on("node-b")), (1, 1), "one pod per node: the adopted one and a new one");
    let st = d.status.clone().unwrap();
    assert_eq!((st.desired_number_scheduled, st.current_number_scheduled, st.updated_number_scheduled), (2, 2, Some(1)));
    let other = sim.store.get::<Pod>("other", "elsewhere").unwrap();
    assert!(other.metadata.owner_references.is_none(), "another namespace's pod stays an orphan");
}

/// `constructHistory`: a ControllerRevision (adopted) whose data holds the DaemonSet's
/// template is the current one, even when written without this server's defaults (as
/// another API server writes it); its hash names the pods, so the pods it already runs
/// are up to date.
#[test]
fn an_adopted_revision_holding_the_template_names_the_pods() {
    let yaml = format!(
        "{FAST}{}---
apiVersion: apps/v1
kind: ControllerRevision
metadata: {{name: agent-realhash, namespace: kube-system, labels: {{app: agent, controller-revision-hash: realhash}}}}
revision: 3
data:
  spec:
    template:
      $patch: replace
      metadata: {{labels: {{app: agent}}}}
      spec:
        containers: [{{name: agent, image: 'registry.example/agent:v1'}}]
---
apiVersion: v1
kind: Pod
metadata: {{name: agent-old, namespace: kube-system, labels: {{app: agent, controller-revision-hash: realhash}}}}
spec: {{nodeName: node-a, containers: [{{name: agent, image: 'registry.example/agent:v1'}}]}}
{}",
        nodes_yaml(&["node-a", "node-b"]),
        ds_yaml("agent", "{type: RollingUpdate}"),
    );
    let mut sim = build(&yaml);
    sim.advance(1);
    let hashes: Vec<String> = sorted(pods(&sim).iter().map(|p| p.metadata.labels.as_ref().unwrap()[REVISION_HASH_LABEL].clone()).collect());
    assert_eq!(hashes, ["realhash", "realhash"], "the new pod is named by the adopted revision");
    assert!(sim.store.get::<Pod>("kube-system", "agent-old").is_some(), "the adopted pod is up to date: not replaced");
    let st = ds(&sim).status.clone().unwrap();
    assert_eq!((st.desired_number_scheduled, st.updated_number_scheduled), (2, Some(2)));
    let revs = sim.store.list::<k8s_openapi::api::apps::v1::ControllerRevision>(Some("kube-system")).0;
    assert_eq!(revs.len(), 1, "no second revision for the same template");
}

/// `ClaimPods` releases: a pod relabelled out of the DaemonSet's selector loses its
/// controller reference and keeps running; the node gets a new daemon pod.
#[test]
fn a_pod_relabelled_out_of_the_selector_is_released_and_replaced() {
    let mut sim = build(&cluster_yaml(2, "{type: RollingUpdate}"));
    sim.advance(1);
    let victim = pods(&sim).into_iter().find(|p| p.spec.as_ref().unwrap().node_name.as_deref() == Some("node-00")).unwrap();
    let name = victim.metadata.name.clone().unwrap();
    let patch = json!({"metadata": {"labels": {"app": "quarantined"}}});
    sim.apply(&Action::Patch { kind: Kind::Pod, namespace: "kube-system".into(), name: name.clone(), patch }).unwrap();
    for _ in 0..5 {
        sim.advance(1);
    }
    let released = sim.store.get::<Pod>("kube-system", &name).expect("still there");
    assert!(released.metadata.owner_references.is_none(), "released: {:?}", released.metadata.owner_references);
    assert!(released.metadata.deletion_timestamp.is_none(), "not deleted");
    let agents: Vec<_> = pods(&sim)
        .into_iter()
        .filter(|p| {
            p.metadata.labels.as_ref().unwrap()["app"] == "agent" && p.spec.as_ref().unwrap().node_name.as_deref() == Some("node-00")
        })
        .collect();
    assert_eq!(agents.len(), 1, "a new daemon pod on the node");
    assert_eq!(ds(&sim).status.clone().unwrap().number_ready, 2);
}

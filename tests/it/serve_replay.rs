//! The alerts replayed on simulator runs: each case is a small cluster whose timeline the
//! test drives minute by minute (`Sim::advance`, 10 s steps), taking at every simulated
//! minute the scrape `serve --ksm-compat` gives for that cluster (the exporter's own
//! `State` fed with every object, rendered by `serve::metrics::render`, as a scrape
//! would be). **Time mapping: scrape i is the sample at minute i of the `promtool test
//! rules` input, one simulated minute to one rule-evaluation minute**; a series absent
//! from a scrape is `_` there. promtool then evaluates the kubernetes-mixin's three
//! DaemonSet alerts (on the kube_daemonset_* series, with the `job="kube-state-metrics"`
//! label the mixin selects on) and the PrometheusRule of assets/deploy (its annotations
//! left out here: tests/prometheusrule.test.yaml checks them) on the same input.
//!
//! The mixin's known false positives — a slow rollout that progresses, autoscaled nodes
//! being deleted, a node tainted NoSchedule — fire the mixin's alerts and none of ours;
//! the true cases — a bad image, a crash loop on an up node, a pod misscheduled for half
//! an hour — fire ours within their `for:` windows.

use crate::common;

use std::collections::BTreeMap;

use daemonscope::sim::kind::Kind;
use daemonscope::sim::scenario::Action;
use serde_json::Value;

use crate::serve::tool;
use crate::serve_ksm::MIXIN_RULES;

const DEPLOY: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/assets/deploy");
const OURS: [&str; 3] = ["DaemonSetNodeNotCovered", "DaemonSetRolloutStalled", "DaemonSetMisscheduled"];

/// Four general nodes, the `agent` DaemonSet (`spec_extra` under its spec, `pod_extra`
/// under its pod spec), the kubelet's `termination` time and the `timeline`.
fn cluster(spec_extra: &str, pod_extra: &str, termination: &str, timeline: &str) -> String {
    let timeline = if timeline.is_empty() { " []\n".to_string() } else { format!("\n{timeline}") };
    let nodes = common::nodes_yaml(&["n-1", "n-2", "n-3", "n-4"]);
    format!(
        "{nodes}---
apiVersion: apps/v1
kind: DaemonSet
metadata: {{name: agent, namespace: kube-system}}
spec:
  selector: {{matchLabels: {{app: agent}}}}
  updateStrategy: {{type: RollingUpdate, rollingUpdate: {{maxUnavailable: 1}}}}
{spec_extra}  template:
    metadata: {{labels: {{app: agent}}}}
    spec:
      nodeSelector: {{pool: general}}
{pod_extra}      containers: [{{name: agent, image: 'registry.example/agent:v1'}}]
---
apiVersion: sim.daemonscope.io/v1alpha1
kind: Simulation
settings: {{startDelay: 2s, readyDelay: 2s, termination: {termination}, crashAfter: 5s, backoffBase: 10s}}
registry: ['registry.example/agent:v2']
timeline:{timeline}"
    )
}

fn patch_image(at: &str, tag: &str) -> String {
    format!(
        "- at: {at}\n  patch: {{kind: DaemonSet, namespace: kube-system, name: agent, patch: {{spec: {{template: {{spec: {{containers: [{{name: agent, image: 'registry.example/agent:{tag}'}}]}}}}}}}}}}\n"
    )
}

fn patch_node(at: &str, node: &str, patch: &str) -> String {
    format!("- at: {at}\n  patch: {{kind: Node, name: {node}, patch: {patch}}}\n")
}

/// The scrape of `serve --ksm-compat` on the cluster as it is now: series → value, for
/// the DaemonSet families (the exporter's own health, build and timestamps left out).
fn scrape(sim: &daemonscope::sim::Sim) -> BTreeMap<String, String> {
    let mut state = daemonscope::serve::State::new("replay".into(), 1000, Default::default());
    state.ksm_compat = true;
    state.apply(common::all_updates(sim));
    let body = daemonscope::serve::metrics::render(&state, false);
    body.lines()
        .filter(|l| !l.starts_with('#'))
        .filter(|l| l.starts_with("kube_daemonset_") || l.starts_with("daemonscope_daemonset_"))
        .filter(|l| !l.contains("_timestamp") && !l.starts_with("kube_daemonset_created"))
        .filter_map(|l| l.rsplit_once(' '))
        .map(|(s, v)| (s.to_string(), v.to_string()))
        .collect()
}

/// Runs `yaml` for `minutes` simulated minutes: one scrape per minute, the timeline's
/// actions applied as their minute comes.
fn run(yaml: &str, minutes: usize) -> Vec<BTreeMap<String, String>> {
    run_with(yaml, minutes, |_, _| {})
}

/// [`run`], with `also` called at each minute after the timeline's actions (for what a
/// timeline cannot name, such as a pod's generated name).
fn run_with(yaml: &str, minutes: usize, mut also: impl FnMut(usize, &daemonscope::sim::Sim)) -> Vec<BTreeMap<String, String>> {
    let sc = common::scenario(yaml);
    let mut sim = common::build(yaml);
    let mut timeline = sc.timeline.iter().peekable();
    let mut out = Vec::new();
    for m in 0..minutes {
        if m > 0 {
            for _ in 0..6 {
                sim.advance(10);
            }
        }
        while let Some(t) = timeline.next_if(|t| t.at.as_secs() <= m as u64 * 60) {
            sim.apply(&t.action).unwrap();
        }
        also(m, &sim);
        out.push(scrape(&sim));
    }
    out
}

/// promtool's `input_series` for the scrapes (kube_* series with the mixin's job label).
fn input_series(scrapes: &[BTreeMap<String, String>]) -> String {
    let mut all: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
    for (i, s) in scrapes.iter().enumerate() {
        for (k, v) in s {
            all.entry(k).or_insert_with(|| vec!["_"; scrapes.len()])[i] = v;
        }
    }
    let mut t = String::new();
    for (series, values) in all {
        let series = match series.strip_prefix("kube_daemonset_") {
            Some(rest) => format!("kube_daemonset_{}", rest.replacen('{', "{job=\"kube-state-metrics\",", 1)),
            None => series.to_string(),
        };
        t.push_str(&format!("  - series: '{series}'\n    values: '{}'\n", values.join(" ")));
    }
    t
}

/// An expectation: at minute `at`, alert `name` fires exactly with these extra labels
/// (each set besides `severity`), or not at all when empty.
struct Expect<'a>(u32, &'a str, &'a [&'a str]);

/// Runs promtool on the scrapes with the mixin's rules and ours; panics with its output
/// (and the input) when an expectation fails.
fn check(case: &str, scrapes: &[BTreeMap<String, String>], expect: &[Expect]) {
    let Some(promtool) = tool("promtool") else { return };
    let rule: Value = serde_saphyr::from_str(&std::fs::read_to_string(format!("{DEPLOY}/06-prometheusrule.yaml")).unwrap()).unwrap();
    let mut spec = rule["spec"].clone();
    for r in spec["groups"][0]["rules"].as_array_mut().unwrap() {
        r.as_object_mut().unwrap().remove("annotations");
    }
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("mixin.yaml"), MIXIN_RULES).unwrap();
    std::fs::write(dir.path().join("ours.yaml"), serde_json::to_string(&spec).unwrap()).unwrap();
    let mut t = format!(
        "rule_files: [mixin.yaml, ours.yaml]\nevaluation_interval: 1m\ntests:\n- name: {case}\n  interval: 1m\n  input_series:\n{}  alert_rule_test:\n",
        input_series(scrapes)
    );
    for Expect(at, name, labels) in expect {
        let none = if labels.is_empty() { " []" } else { "" };
        t.push_str(&format!("  - eval_time: {at}m\n    alertname: {name}\n    exp_alerts:{none}\n"));
        for l in *labels {
            t.push_str(&format!("    - exp_labels: {{{l}}}\n"));
        }
    }
    std::fs::write(dir.path().join("test.yaml"), &t).unwrap();
    let o = std::process::Command::new(&promtool).args(["test", "rules", "test.yaml"]).current_dir(dir.path()).output().unwrap();
    assert!(o.status.success(), "{case}: {}{}\n{t}", String::from_utf8_lossy(&o.stdout), String::from_utf8_lossy(&o.stderr));
}

/// The name of the agent's pod on `node`.
fn pod_on(sim: &daemonscope::sim::Sim, node: &str) -> String {
    use k8s_openapi::api::core::v1::Pod;
    let pods = sim.store.list::<Pod>(None).0;
    let p = pods.iter().find(|p| p.spec.as_ref().and_then(|s| s.node_name.as_deref()) == Some(node)).expect("a pod on the node");
    p.metadata.name.clone().unwrap()
}

/// Whether some scrape has a series with all of `parts` (what makes a silent case not
/// vacuous: the situation is there, and ours sees it for what it is).
fn has(scrapes: &[BTreeMap<String, String>], parts: &[&str]) -> bool {
    scrapes.iter().any(|s| s.keys().any(|k| parts.iter().all(|p| k.contains(p))))
}

const KSM: &str = "severity: warning, namespace: kube-system, daemonset: agent, job: kube-state-metrics";

/// Ours silent at every fifth minute up to `minutes`.
fn ours_silent(minutes: u32) -> Vec<Expect<'static>> {
    (1..=minutes / 5).flat_map(|i| OURS.map(|a| Expect(i * 5, a, &[]))).collect()
}

/// A careful rollout (minReadySeconds 30 minutes, one node at a time): updatedNumberScheduled
/// moves every half hour, so the mixin calls it stuck (kubernetes-mixin#625); what holds
/// it is a new pod starting or inside minReadySeconds, so ours stays quiet. That it
/// progresses: the updated count takes at least three values.
#[test]
fn a_slow_rollout_that_progresses_fires_the_mixin_and_not_ours() {
    let yaml = cluster("  minReadySeconds: 1800\n", "", "2s", &patch_image("1m", "v2"));
    let scrapes = run(&yaml, 70);
    assert!(has(&scrapes, &["daemonscope_daemonset_rollout_blocked{", "cause=\"min-ready-seconds\",origin=\"rollout-induced\""]));
    let updated: std::collections::BTreeSet<&String> = scrapes
        .iter()
        .filter_map(|s| s.iter().find(|(k, _)| k.starts_with("kube_daemonset_status_updated_number_scheduled{")))
        .map(|(_, v)| v)
        .collect();
    assert!(updated.len() >= 3, "the rollout progresses: {updated:?}");
    let mut expect = ours_silent(70);
    expect.push(Expect(28, "KubeDaemonSetRolloutStuck", &[KSM]));
    check("slow rollout", &scrapes, &expect);
}

/// The cluster autoscaler scales down one node after another: it taints each
/// `ToBeDeletedByClusterAutoscaler:NoSchedule`, the VM goes (the node unreachable), and
/// the node object is deleted nine minutes later. The controller counts the pods on
/// those nodes misscheduled, and the mixin fires; ours sees nodes closed by a taint, then
/// down, not daemons missing.
#[test]
fn autoscaled_nodes_being_deleted_fire_the_mixin_and_not_ours() {
    let mut timeline = String::new();
    for (i, node) in ["n-1", "n-2", "n-3"].iter().enumerate() {
        let t0 = 2 + 8 * i;
        let taint = "{spec: {taints: [{key: ToBeDeletedByClusterAutoscaler, value: '1700000000', effect: NoSchedule}]}}";
        timeline.push_str(&patch_node(&format!("{t0}m"), node, taint));
        let down = "{metadata: {annotations: {sim.daemonscope.io/node-state: unreachable}}}";
        timeline.push_str(&patch_node(&format!("{}m", t0 + 1), node, down));
        timeline.push_str(&format!("- at: {}m\n  delete: {{kind: Node, name: {node}}}\n", t0 + 10));
    }
    let scrapes = run(&cluster("", "", "2s", &timeline), 40);
    // Tainted, then down: a node the DaemonSet may no longer run on, its pod kept.
    assert!(has(&scrapes, &["daemonscope_daemonset_node_problem{", "node=\"n-3\"", "state=\"misscheduled\",reason=\"taint\""]));
    let mut expect = ours_silent(40);
    expect.push(Expect(25, "KubeDaemonSetMisScheduled", &[KSM]));
    check("autoscaled nodes going away", &scrapes, &expect);
}

/// A node tainted NoSchedule keeps the daemon pod it runs (only NoExecute evicts); the
/// controller counts it misscheduled, so the mixin fires (prometheus-operator/runbooks#55);
/// ours does not: the pod is where the controller lets it stay.
#[test]
fn a_node_tainted_noschedule_fires_the_mixin_and_not_ours() {
    let taint = "{spec: {taints: [{key: dedicated, value: infra, effect: NoSchedule}]}}";
    let scrapes = run(&cluster("", "", "2s", &patch_node("2m", "n-2", taint)), 60);
    assert!(has(&scrapes, &["daemonscope_daemonset_node_problem{", "state=\"misscheduled\",reason=\"taint\""]));
    let mut expect = ours_silent(60);
    expect.push(Expect(20, "KubeDaemonSetMisScheduled", &[KSM]));
    check("NoSchedule taint", &scrapes, &expect);
}

/// A rollout to an image the registry does not have: its first new pod cannot pull, the
/// rollout holds there, and ours fires 15 minutes on (the `for:`), from the blocked series.
#[test]
fn a_bad_image_fires_our_rollout_alert_within_its_window() {
    let scrapes = run(&cluster("", "", "2s", &patch_image("2m", "v9")), 22);
    assert!(has(&scrapes, &["daemonscope_daemonset_rollout_blocked{", "cause=\"new-pod-failing\",origin=\"rollout-induced\""]));
    let labels = "severity: warning, namespace: kube-system, daemonset: agent";
    check("bad image", &scrapes, &[Expect(10, "DaemonSetRolloutStalled", &[]), Expect(20, "DaemonSetRolloutStalled", &[labels])]);
}

/// A daemon that crash-loops on a node that is up: ours fires on that node 10 minutes on.
#[test]
fn a_crash_loop_on_an_up_node_fires_our_node_alert_within_its_window() {
    let crash = "{metadata: {annotations: {sim.daemonscope.io/pod-behavior: crash-loop}}}";
    // The kubelet reads the node's annotation when it starts a pod: the pod there is
    // deleted with it, and its replacement crash-loops.
    let scrapes = run_with(&cluster("", "", "2s", &patch_node("2m", "n-3", crash)), 16, |m, sim| {
        if m == 2 {
            let name = pod_on(sim, "n-3");
            sim.apply(&Action::Delete { kind: Kind::Pod, namespace: "kube-system".into(), name }).unwrap();
        }
    });
    assert!(has(&scrapes, &["daemonscope_daemonset_node_problem{", "node=\"n-3\"", "state=\"failing\""]));
    let labels = "severity: warning, namespace: kube-system, daemonset: agent, node: n-3, state: failing, reason: crashloop";
    check("crash loop", &scrapes, &[Expect(11, "DaemonSetNodeNotCovered", &[]), Expect(15, "DaemonSetNodeNotCovered", &[labels])]);
}

/// A node relabelled out of the DaemonSet's selector whose pod takes an hour to stop (a
/// long grace period): misscheduled for half an hour, and ours fires then.
#[test]
fn a_pod_misscheduled_for_half_an_hour_fires_ours_within_its_window() {
    let relabel = "{metadata: {labels: {pool: batch}}}";
    let yaml = cluster("", "      terminationGracePeriodSeconds: 3600\n", "1h", &patch_node("2m", "n-4", relabel));
    let scrapes = run(&yaml, 36);
    let labels = "severity: info, namespace: kube-system, daemonset: agent, node: n-4, state: misscheduled, reason: selector";
    check("misscheduled", &scrapes, &[Expect(25, "DaemonSetMisscheduled", &[]), Expect(34, "DaemonSetMisscheduled", &[labels])]);
}

//! `daemonscope preflight`: what it predicts for each node is what the simulator's
//! scheduler then does when the same DaemonSet is created — on staged nodes (a pod that
//! fits, one short of cpu, of memory, of an extended resource, of pod slots, a host port
//! taken, a taint, a selector) and on seeded generated clusters. Also its exit codes and
//! one-line errors from the real binary.

use crate::common;

use std::collections::BTreeMap;

use daemonscope::preflight::{self, verdict::Outcome};
use k8s_openapi::api::apps::v1::DaemonSet;
use k8s_openapi::api::core::v1::Pod;
use kube::Api;
use kube::api::{ListParams, PostParams};
use rand::{Rng, SeedableRng};

/// A node with this allocatable (and capacity), `dev` of the extended resource
/// `example.com/dev`, labels after its hostname, and `extra` (a spec) before its status.
fn node(name: &str, cpu: &str, mem: &str, pods: u32, dev: u32, labels: &str, extra: &str) -> String {
    let room = format!("{{cpu: \"{cpu}\", memory: {mem}, pods: \"{pods}\", example.com/dev: \"{dev}\"}}");
    format!(
        "apiVersion: v1\nkind: Node\nmetadata: {{name: {name}, labels: {{kubernetes.io/hostname: {name}{labels}}}}}\n{extra}status:\n  capacity: {room}\n  allocatable: {room}\n---\n"
    )
}

fn bare_pod(name: &str, node: &str, cpu: &str, mem: &str, port: Option<u16>) -> String {
    bare_pod_at(name, node, cpu, mem, port, None)
}

/// A pod bound to `node`, with a priority class if given (it terminates at once when preempted).
fn bare_pod_at(name: &str, node: &str, cpu: &str, mem: &str, port: Option<u16>, class: Option<&str>) -> String {
    let ports = port.map(|p| format!(", ports: [{{containerPort: {p}, hostPort: {p}}}]")).unwrap_or_default();
    let class = class.map(|c| format!("  priorityClassName: {c}\n")).unwrap_or_default();
    format!(
        "apiVersion: v1\nkind: Pod\nmetadata: {{name: {name}, namespace: default}}\nspec:\n  nodeName: {node}\n  terminationGracePeriodSeconds: 0\n{class}  containers: [{{name: c, image: registry.k8s.io/pause:3.9, resources: {{requests: {{cpu: {cpu}, memory: {mem}}}}}{ports}}}]\n---\n"
    )
}

/// `pod` (one of [`bare_pod_at`]'s) with `labels` (`{app: db}`) and `spec` lines (an affinity).
fn dressed(pod: &str, labels: &str, spec: &str) -> String {
    pod.replacen(", namespace: default}", &format!(", namespace: default, labels: {labels}}}"), 1).replacen(
        "spec:\n",
        &format!("spec:\n{spec}"),
        1,
    )
}

/// A required pod (anti-)affinity of `kind` (`podAffinity`, `podAntiAffinity`) to `app`
/// over `key`, as spec lines indented by `indent`.
fn pod_affinity(kind: &str, app: &str, key: &str, indent: &str) -> String {
    format!(
        "{indent}affinity: {{{kind}: {{requiredDuringSchedulingIgnoredDuringExecution: [{{labelSelector: {{matchLabels: {{app: {app}}}}}, topologyKey: {key}, namespaces: [default, kube-system]}}]}}}}\n"
    )
}

/// Every node's verdict from the library, as `preflight` computes it.
async fn predict(cluster: &daemonscope::cluster::connect::Cluster, manifest: &str) -> (DaemonSet, BTreeMap<String, Outcome>) {
    let dir = tempfile::tempdir().unwrap();
    let f = dir.path().join("ds.yaml");
    std::fs::write(&f, manifest).unwrap();
    let dss = preflight::read_manifests(&[f]).unwrap();
    let facts = preflight::gather(cluster, &dss).await.unwrap();
    let report = preflight::evaluate(&dss[0], &facts).unwrap();
    (dss[0].clone(), report.verdicts.into_iter().map(|v| (v.node, v.outcome)).collect())
}

/// What the scheduler made of each node's daemon pod once the DaemonSet is created:
/// Some(None) bound there, Some(Some(message)) Pending with that FailedScheduling message,
/// None no pod for the node. A pod nominated to a node (preempting) is waited for until bound.
async fn observe(client: &kube::Client, ds: &DaemonSet, nodes: usize) -> BTreeMap<String, Option<String>> {
    let api: Api<DaemonSet> = Api::namespaced(client.clone(), "kube-system");
    api.create(&PostParams::default(), ds).await.unwrap();
    let pods: Api<Pod> = Api::namespaced(client.clone(), "kube-system");
    let name = ds.metadata.name.clone().unwrap();
    common::until(30, "every daemon pod bound or judged unschedulable", || {
        let pods = pods.clone();
        let name = name.clone();
        async move {
            let dsobj: DaemonSet =
                Api::namespaced(pods.clone().into_client(), "kube-system").get(&name).await.map_err(|e| e.to_string())?;
            // The controller has seen this DaemonSet (desired counted for its generation).
            let seen = dsobj.status.as_ref().and_then(|s| s.observed_generation) == dsobj.metadata.generation;
            let desired = if seen { dsobj.status.as_ref().map_or(-1, |s| s.desired_number_scheduled) } else { -1 };
            let list = pods.list(&ListParams::default().labels(&format!("app={name}"))).await.map_err(|e| e.to_string())?;
            let mut out = BTreeMap::new();
            for p in &list.items {
                let target = p
                    .spec
                    .as_ref()
                    .and_then(|s| s.affinity.as_ref()?.node_affinity.as_ref()?.required_during_scheduling_ignored_during_execution.as_ref())
                    .and_then(|r| r.node_selector_terms.first()?.match_fields.as_ref()?.first()?.values.as_ref()?.first().cloned())
                    .unwrap_or_default();
                let bound = p.spec.as_ref().and_then(|s| s.node_name.clone()).filter(|n| !n.is_empty());
                let unsched = p
                    .status
                    .as_ref()
                    .and_then(|s| s.conditions.as_ref())
                    .and_then(|c| c.iter().find(|c| c.type_ == "PodScheduled" && c.status == "False"))
                    .and_then(|c| c.message.clone());
                let nominated = p.status.as_ref().and_then(|s| s.nominated_node_name.clone()).filter(|n| !n.is_empty());
                match (bound, unsched) {
                    (None, Some(_)) if nominated.is_some() => return Err(format!("{target}: preempting, not bound yet")),
                    (Some(n), _) => {
                        assert_eq!(n, target);
                        out.insert(target, None);
                    }
                    (None, Some(m)) => {
                        out.insert(target, Some(m));
                    }
                    (None, None) => return Err(format!("{} not judged yet", p.metadata.name.as_deref().unwrap_or(""))),
                }
            }
            if desired < 0 || out.len() != desired as usize || out.len() > nodes {
                return Err(format!("{} of {desired} pods", out.len()));
            }
            Ok(out)
        }
    })
    .await
}

/// The scheduler's words for each of preflight's reasons on one node.
fn scheduler_words(reason: &str) -> Option<String> {
    use daemonscope::k8s::podaffinity::{AFFINITY, ANTI_AFFINITY, EXISTING_ANTI_AFFINITY};
    if [AFFINITY, ANTI_AFFINITY, EXISTING_ANTI_AFFINITY].contains(&reason) {
        return Some(format!("1 {reason}"));
    }
    if reason.starts_with("host port ") {
        return Some("1 node(s) didn't have free ports for the requested pod ports".into());
    }
    (reason.starts_with("Insufficient ") || reason == "Too many pods").then(|| format!("1 {reason}"))
}

/// The pods left in `default` (the workloads a preemption may have removed).
async fn workloads(client: &kube::Client) -> Vec<String> {
    let pods: Api<Pod> = Api::namespaced(client.clone(), "default");
    let list = pods.list(&ListParams::default()).await.unwrap();
    list.items.iter().filter(|p| p.metadata.deletion_timestamp.is_none()).filter_map(|p| p.metadata.name.clone()).collect()
}

fn agree(predicted: &BTreeMap<String, Outcome>, seen: &BTreeMap<String, Option<String>>, left: &[String], case: &str) {
    for (node, outcome) in predicted {
        let got = seen.get(node);
        match outcome {
            Outcome::NotEligible(why) => {
                assert!(got.is_none(), "{case}: {node}: predicted not eligible ({why}), the controller made {got:?}")
            }
            Outcome::WouldRun => assert_eq!(got, Some(&None), "{case}: {node}: predicted it would run"),
            Outcome::WouldNotFit(why) => {
                let Some(Some(msg)) = got else { panic!("{case}: {node}: predicted {why:?}, got {got:?}") };
                for w in why.iter().filter_map(|w| scheduler_words(w)) {
                    assert!(msg.contains(&w), "{case}: {node}: predicted {why:?}; the scheduler said {msg}");
                }
            }
            // Would run as far as preflight sees: the pod exists; where it goes is not claimed.
            Outcome::Unverified(why) => assert!(got.is_some(), "{case}: {node}: unverified ({why:?}), no pod"),
            Outcome::WouldPreempt(victims) => {
                assert_eq!(got, Some(&None), "{case}: {node}: predicted it would run after preempting {victims:?}");
                for v in victims {
                    let name = v.split(' ').next().unwrap().trim_start_matches("default/");
                    assert!(!left.iter().any(|l| l == name), "{case}: {node}: {name} was to be preempted; left: {left:?}");
                }
            }
        }
    }
    assert_eq!(seen.len(), predicted.values().filter(|o| !matches!(o, Outcome::NotEligible(_))).count(), "{case}: {seen:?}");
}

const DS: &str = "apiVersion: apps/v1\nkind: DaemonSet\nmetadata: {name: agent, namespace: kube-system}\nspec:\n  selector: {matchLabels: {app: agent}}\n  template:\n    metadata: {labels: {app: agent}}\n    spec:\n";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn preflight_predicts_what_the_scheduler_then_does_on_staged_nodes() {
    let mut yaml = String::new();
    yaml += &node("fits", "4", "8Gi", 110, 1, ", pool: a", "");
    yaml += &node("short-cpu", "1", "8Gi", 110, 1, ", pool: a", "");
    yaml += &node("short-mem", "4", "1Gi", 110, 1, ", pool: a", "");
    yaml += &node("no-dev", "4", "8Gi", 110, 0, ", pool: a", "");
    yaml += &node("full", "4", "8Gi", 1, 1, ", pool: a", "");
    yaml += &node("port", "4", "8Gi", 110, 1, ", pool: a", "");
    yaml += &node("tainted", "4", "8Gi", 110, 1, ", pool: a", "spec: {taints: [{key: dedicated, value: db, effect: NoSchedule}]}\n");
    yaml += &node("other-pool", "4", "8Gi", 110, 1, ", pool: b", "");
    yaml += &bare_pod("busy", "short-cpu", "800m", "64Mi", None);
    yaml += &bare_pod("one", "full", "10m", "8Mi", None);
    yaml += &bare_pod("exporter", "port", "10m", "8Mi", Some(9100));
    let manifest = format!(
        "{DS}      nodeSelector: {{pool: a}}\n      initContainers: [{{name: init, image: registry.k8s.io/pause:3.9, resources: {{requests: {{cpu: 300m}}}}}}]\n      containers: [{{name: a, image: registry.k8s.io/pause:3.9, ports: [{{containerPort: 9100, hostPort: 9100}}], resources: {{requests: {{cpu: 250m, memory: 2Gi}}, limits: {{example.com/dev: \"1\"}}}}}}]\n"
    );
    let sim = common::serve(&yaml).await;
    let cluster = common::cluster(&sim);
    let (ds, predicted) = predict(&cluster, &manifest).await;
    let short = |w: &[&str]| {
        Outcome::WouldNotFit(w.iter().map(|s| s.to_string()).chain(["no priority class: cannot preempt".to_string()]).collect())
    };
    assert_eq!(predicted["fits"], Outcome::WouldRun);
    // 800m taken of 1: the init container's 300m is the larger step, and 300m > 200m free.
    assert_eq!(predicted["short-cpu"], short(&["Insufficient cpu"]));
    assert_eq!(predicted["short-mem"], short(&["Insufficient memory"]));
    assert_eq!(predicted["no-dev"], short(&["Insufficient example.com/dev"]));
    assert_eq!(predicted["full"], short(&["Too many pods"]));
    assert_eq!(predicted["port"], short(&["host port 9100/TCP is taken by default/exporter"]));
    assert!(matches!(&predicted["tainted"], Outcome::NotEligible(w) if w.contains("dedicated=db:NoSchedule")), "{predicted:?}");
    assert!(matches!(&predicted["other-pool"], Outcome::NotEligible(w) if w.contains("pool=a")), "{predicted:?}");
    let client = common::client(&sim);
    let seen = observe(&client, &ds, predicted.len()).await;
    agree(&predicted, &seen, &workloads(&client).await, "staged");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_critical_daemonset_preempts_the_pods_preflight_names() {
    let mut yaml = String::from("apiVersion: scheduling.k8s.io/v1\nkind: PriorityClass\nmetadata: {name: batch}\nvalue: 100\n---\n");
    yaml += &node("crowded", "1", "8Gi", 110, 0, ", pool: a", "");
    yaml += &bare_pod_at("low", "crowded", "400m", "64Mi", None, None);
    yaml += &bare_pod_at("batch", "crowded", "400m", "64Mi", None, Some("batch"));
    yaml += &bare_pod_at("critical", "crowded", "100m", "64Mi", None, Some("system-cluster-critical"));
    let manifest = format!(
        "{DS}      priorityClassName: system-node-critical\n      containers: [{{name: a, image: registry.k8s.io/pause:3.9, resources: {{requests: {{cpu: 300m}}}}}}]\n"
    );
    let sim = common::serve(&yaml).await;
    let (ds, predicted) = predict(&common::cluster(&sim), &manifest).await;
    // Without the three lower pods 1 cpu is free; the critical and the batch pod are given
    // back (500m left), the priority-0 pod cannot be.
    assert_eq!(predicted["crowded"], Outcome::WouldPreempt(vec!["default/low (priority 0)".into()]));
    let client = common::client(&sim);
    let seen = observe(&client, &ds, 1).await;
    agree(&predicted, &seen, &workloads(&client).await, "preempt");
    let left = workloads(&client).await;
    assert!(left.contains(&"batch".to_string()) && left.contains(&"critical".to_string()), "{left:?}");
    let events: Api<k8s_openapi::api::core::v1::Event> = Api::namespaced(client.clone(), "default");
    let evs = events.list(&ListParams::default()).await.unwrap();
    assert!(
        evs.items.iter().any(|e| e.reason.as_deref() == Some("Preempted")
            && e.involved_object.name.as_deref() == Some("low")
            && e.message.as_deref().is_some_and(|m| m.starts_with("Preempted by pod ") && m.ends_with(" on node crowded"))),
        "{:?}",
        evs.items.iter().map(|e| (&e.reason, &e.message)).collect::<Vec<_>>()
    );
}

/// Required pod anti-affinity and affinity, the DaemonSet's own and a bound pod's, as the
/// `InterPodAffinity` filter decides them: preflight names the node it keeps the pod off
/// in the scheduler's words, and the simulator's scheduler then leaves that pod Pending
/// with the same reason (before, preflight said "would run" on every node).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pod_affinity_and_anti_affinity_are_predicted_as_the_scheduler_decides() {
    use daemonscope::k8s::podaffinity::{AFFINITY, ANTI_AFFINITY, EXISTING_ANTI_AFFINITY};
    let host = "kubernetes.io/hostname";
    let mut yaml = String::new();
    for n in ["with-db", "free", "with-loner"] {
        yaml += &node(n, "4", "8Gi", 110, 0, ", pool: a", "");
    }
    yaml += &dressed(&bare_pod("db", "with-db", "10m", "8Mi", None), "{app: db}", "");
    yaml += &dressed(
        &bare_pod("loner", "with-loner", "10m", "8Mi", None),
        "{app: loner}",
        &pod_affinity("podAntiAffinity", "agent", host, "  "),
    );
    let cannot = "no priority class: cannot preempt".to_string();
    for (kind, expect) in [
        (
            "podAntiAffinity",
            [
                ("with-db", Outcome::WouldNotFit(vec![ANTI_AFFINITY.into(), cannot.clone()])),
                ("free", Outcome::WouldRun),
                ("with-loner", Outcome::WouldNotFit(vec![EXISTING_ANTI_AFFINITY.into(), cannot.clone()])),
            ],
        ),
        (
            "podAffinity",
            [
                ("with-db", Outcome::WouldRun),
                ("free", Outcome::WouldNotFit(vec![AFFINITY.into(), "pod affinity: preemption cannot help".into()])),
                ("with-loner", Outcome::WouldNotFit(vec![AFFINITY.into(), "pod affinity: preemption cannot help".into()])),
            ],
        ),
    ] {
        let manifest =
            format!("{DS}{}      containers: [{{name: a, image: registry.k8s.io/pause:3.9}}]\n", pod_affinity(kind, "db", host, "      "));
        let sim = common::serve(&yaml).await;
        let (ds, predicted) = predict(&common::cluster(&sim), &manifest).await;
        for (n, o) in &expect {
            assert_eq!(&predicted[*n], o, "{kind} on {n}");
        }
        let client = common::client(&sim);
        let seen = observe(&client, &ds, predicted.len()).await;
        agree(&predicted, &seen, &workloads(&client).await, kind);
    }
}

/// What preflight does not read it does not claim: a DaemonSet with a PersistentVolumeClaim
/// volume and a DoNotSchedule topology spread constraint would run only as far as it sees —
/// "unverified" on each node, counted apart in text and JSON, a warning on standard error;
/// the gate passes (exit 0) unless `--strict` (exit 1).
#[test]
fn what_preflight_cannot_see_is_unverified_and_strict_fails_on_it() {
    let bin = env!("CARGO_BIN_EXE_daemonscope");
    let run = |args: &[&str]| {
        let o = std::process::Command::new(bin).args(args).env("XDG_STATE_HOME", std::env::temp_dir()).output().unwrap();
        (o.status.code().unwrap_or(-1), String::from_utf8_lossy(&o.stdout).to_string(), String::from_utf8_lossy(&o.stderr).to_string())
    };
    let dump = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/dumps/support-bundle");
    let dir = tempfile::tempdir().unwrap();
    let ds = dir.path().join("ds.yaml");
    std::fs::write(
        &ds,
        format!(
            "{DS}      volumes: [{{name: data, persistentVolumeClaim: {{claimName: agent-data}}}}]\n      topologySpreadConstraints: [{{maxSkew: 1, topologyKey: topology.kubernetes.io/zone, whenUnsatisfiable: DoNotSchedule, labelSelector: {{matchLabels: {{app: agent}}}}}}]\n      containers: [{{name: a, image: registry.k8s.io/pause:3.9}}]\n"
        ),
    )
    .unwrap();
    let f = ds.to_str().unwrap();
    let (code, out, err) = run(&["preflight", "--from", dump, "-f", f]);
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.contains(" unverified (would run as far as preflight sees)"), "{out}");
    assert!(
        out.contains("unverified     would run as far as seen; not checked: volume data (PersistentVolumeClaim agent-data): PVC/PV/CSI data not checked, topology spread over topology.kubernetes.io/zone not checked"),
        "{out}"
    );
    // One warning line (the dump's own notes come before it).
    let warnings: Vec<&str> = err.lines().filter(|l| l.starts_with("daemonscope: warning: ")).collect();
    assert!(
        warnings.len() == 1 && warnings[0].contains(" unverified on ") && warnings[0].ends_with("the gate passes them (--strict fails it)"),
        "{err}"
    );
    let (code, out, err) = run(&["preflight", "--from", dump, "-f", f, "-o", "json"]);
    assert_eq!(code, 0, "{out}{err}");
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    let d = &v["daemonsets"][0];
    let unverified = d["nodes"].as_array().unwrap().iter().filter(|n| n["verdict"] == "unverified").count();
    assert!(unverified > 0 && d["unverified"] == unverified, "{out}");
    assert!(d["nodes"].as_array().unwrap().iter().all(|n| n["verdict"] != "would run"), "{out}");
    let (code, out, err) = run(&["preflight", "--from", dump, "-f", f, "--strict"]);
    assert_eq!(code, 1, "{out}{err}");
    assert!(err.contains("--strict fails the gate on them"), "{err}");
}

/// One seeded random cluster and DaemonSet: (scenario, manifest).
fn generated(seed: u64) -> (String, String) {
    let mut rng = rand::rngs::StdRng::seed_from_u64(seed);
    let mut yaml = String::new();
    let n = rng.random_range(3..8);
    for i in 0..n {
        let name = format!("n{i}");
        let cpu = ["1", "2", "4"][rng.random_range(0..3)];
        let mem = ["1Gi", "2Gi", "4Gi"][rng.random_range(0..3)];
        let pods = [3, 110][rng.random_range(0..2)];
        let pool = if rng.random_bool(0.8) { "a" } else { "b" };
        let taint = if rng.random_bool(0.2) { "spec: {taints: [{key: dedicated, value: x, effect: NoSchedule}]}\n" } else { "" };
        yaml += &node(&name, cpu, mem, pods, 0, &format!(", pool: {pool}"), taint);
        for j in 0..rng.random_range(0..4) {
            let port = rng.random_bool(0.2).then_some(9100);
            let (c, m) = (rng.random_range(1..15) * 100, rng.random_range(1..12) * 256);
            let class = rng.random_bool(0.3).then_some("system-cluster-critical");
            let pod =
                bare_pod_at(&format!("w{i}-{j}"), &name, &format!("{c}m"), &format!("{m}Mi"), if j == 0 { port } else { None }, class);
            // Some are databases; some keep the agent off their node (or their pool).
            yaml += &match rng.random_range(0..8) {
                0 | 1 => dressed(&pod, "{app: db}", ""),
                2 => dressed(&pod, "{app: web}", &pod_affinity("podAntiAffinity", "agent", "kubernetes.io/hostname", "  ")),
                3 => dressed(&pod, "{app: web}", &pod_affinity("podAntiAffinity", "agent", "pool", "  ")),
                _ => pod,
            };
        }
    }
    let mut spec = String::new();
    if rng.random_bool(0.5) {
        spec += "      nodeSelector: {pool: a}\n";
    }
    if rng.random_bool(0.5) {
        spec += "      priorityClassName: system-node-critical\n";
    }
    spec += &match rng.random_range(0..4) {
        0 => pod_affinity("podAntiAffinity", "db", "kubernetes.io/hostname", "      "),
        1 => pod_affinity("podAffinity", "db", "kubernetes.io/hostname", "      "),
        2 => pod_affinity("podAffinity", "db", "pool", "      "),
        _ => String::new(),
    };
    if rng.random_bool(0.3) {
        spec += "      initContainers: [{name: init, image: registry.k8s.io/pause:3.9, resources: {requests: {cpu: 900m}}}]\n";
    }
    let port = if rng.random_bool(0.3) { ", ports: [{containerPort: 9100, hostPort: 9100}]" } else { "" };
    let (c, m) = (rng.random_range(1..12) * 100, rng.random_range(1..8) * 256);
    spec += &format!(
        "      containers: [{{name: a, image: registry.k8s.io/pause:3.9{port}, resources: {{requests: {{cpu: {c}m}}, limits: {{memory: {m}Mi}}}}}}]\n"
    );
    (yaml, format!("{DS}{spec}"))
}

/// The acceptance property: on seeded generated clusters, preflight's verdict for each
/// node is what the scheduler then does, on every node of every case.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn preflight_agrees_with_the_scheduler_on_generated_clusters() {
    let mut outcomes: BTreeMap<&'static str, usize> = BTreeMap::new();
    for seed in 1..=24u64 {
        let (yaml, manifest) = generated(seed);
        let sim = common::serve(&yaml).await;
        let (ds, predicted) = predict(&common::cluster(&sim), &manifest).await;
        let client = common::client(&sim);
        let seen = observe(&client, &ds, predicted.len()).await;
        agree(&predicted, &seen, &workloads(&client).await, &format!("seed {seed}\n{yaml}\n{manifest}"));
        for o in predicted.values() {
            *outcomes.entry(o.as_str()).or_default() += 1;
            if let Outcome::WouldNotFit(w) = o {
                let r: &'static str = daemonscope::k8s::podaffinity::reason(&w[0]).unwrap_or("");
                *outcomes.entry(r).or_default() += 1;
            }
        }
    }
    // The cases cover every outcome, and InterPodAffinity's reasons.
    for o in ["would run", "would not fit", "not eligible", "would preempt"] {
        assert!(outcomes.get(o).copied().unwrap_or(0) >= 3, "{o}: {outcomes:?}");
    }
    // (The DaemonSet's own anti-affinity failing first is rare here: resources or
    // preemption come first; the staged test above has it.)
    use daemonscope::k8s::podaffinity::{AFFINITY, EXISTING_ANTI_AFFINITY};
    for r in [AFFINITY, EXISTING_ANTI_AFFINITY] {
        assert!(outcomes.get(r).copied().unwrap_or(0) >= 1, "{r}: {outcomes:?}");
    }
}

#[test]
fn the_binary_gates_and_says_bad_input_in_one_line() {
    let bin = env!("CARGO_BIN_EXE_daemonscope");
    let run = |args: &[&str]| {
        let o = std::process::Command::new(bin).args(args).env("XDG_STATE_HOME", std::env::temp_dir()).output().unwrap();
        (o.status.code().unwrap_or(-1), String::from_utf8_lossy(&o.stdout).to_string(), String::from_utf8_lossy(&o.stderr).to_string())
    };
    let (code, _, err) = run(&["preflight", "-f", "/nonexistent.yaml"]);
    assert_eq!((code, err.as_str()), (2, "daemonscope: /nonexistent.yaml: no such file\n"));
    let dir = tempfile::tempdir().unwrap();
    let notds = dir.path().join("svc.yaml");
    std::fs::write(&notds, "apiVersion: v1\nkind: Service\nmetadata: {name: x}\n").unwrap();
    let (code, _, err) = run(&["preflight", "-f", notds.to_str().unwrap()]);
    assert_eq!(code, 2, "{err}");
    assert!(err.ends_with("no DaemonSet (apps/v1) in it\n") && err.lines().count() == 1, "{err}");
    // Offline, on a dump: the node-agent of the fixtures with a request no node can give.
    let dump = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/dumps/support-bundle");
    let ds = dir.path().join("ds.yaml");
    std::fs::write(
        &ds,
        format!("{DS}      containers: [{{name: a, image: registry.k8s.io/pause:3.9, resources: {{requests: {{cpu: \"500\"}}}}}}]\n"),
    )
    .unwrap();
    let (code, out, err) = run(&["preflight", "--from", dump, "-f", ds.to_str().unwrap()]);
    assert_eq!(code, 1, "{out}{err}");
    assert!(out.starts_with("new DaemonSet kube-system/agent on offline · dump of 2025-03-02 14:03 UTC: 0 of "), "{out}");
    assert!(out.contains("would not fit  Insufficient cpu, no priority class: cannot preempt"), "{out}");
    std::fs::write(&ds, format!("{DS}      containers: [{{name: a, image: registry.k8s.io/pause:3.9}}]\n")).unwrap();
    let (code, out, err) = run(&["preflight", "--from", dump, "-f", ds.to_str().unwrap(), "-o", "json"]);
    assert_eq!(code, 0, "{out}{err}");
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["pass"], true);
    assert!(
        v["daemonsets"][0]["nodes"].as_array().unwrap().iter().all(|n| n["verdict"] == "would run" || n["verdict"] == "not eligible"),
        "{out}"
    );
}

/// Several `--context` flags: each cluster is checked in turn, each report names its
/// context, and the exit code is the worst.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn several_contexts_are_checked_each_and_the_worst_exit_wins() {
    let roomy = common::serve_insecure(&node("big", "8", "8Gi", 110, 0, "", "")).await;
    let small = common::serve_insecure(&node("small", "1", "8Gi", 110, 0, "", "")).await;
    let dir = tempfile::tempdir().unwrap();
    let mut list = Vec::new();
    for (name, sim) in [("roomy", &roomy), ("small", &small)] {
        let p = dir.path().join(name);
        std::fs::write(&p, daemonscope::sim::kubeconfig::standalone_yaml_named(sim.url(), None, name)).unwrap();
        list.push(p.to_str().unwrap().to_string());
    }
    let ds = dir.path().join("ds.yaml");
    std::fs::write(
        &ds,
        format!("{DS}      containers: [{{name: a, image: registry.k8s.io/pause:3.9, resources: {{requests: {{cpu: \"2\"}}}}}}]\n"),
    )
    .unwrap();
    let (kc, ds) = (list.join(":"), ds.to_str().unwrap().to_string());
    let out = tokio::task::spawn_blocking(move || {
        std::process::Command::new(env!("CARGO_BIN_EXE_daemonscope"))
            .args(["preflight", "--context", "roomy", "--context", "small", "-f", &ds, "-o", "json"])
            .env("KUBECONFIG", kc)
            .env("XDG_STATE_HOME", std::env::temp_dir())
            .output()
            .unwrap()
    })
    .await
    .unwrap();
    let text = String::from_utf8_lossy(&out.stdout).to_string();
    assert_eq!(out.status.code(), Some(1), "{text}{}", String::from_utf8_lossy(&out.stderr));
    let reports: Vec<serde_json::Value> = serde_json::Deserializer::from_str(&text).into_iter().map(Result::unwrap).collect();
    let got: Vec<(String, bool)> =
        reports.iter().map(|r| (r["context"].as_str().unwrap().to_string(), r["pass"].as_bool().unwrap())).collect();
    assert_eq!(got, [("roomy".to_string(), true), ("small".to_string(), false)]);
}

/// A change of a DaemonSet that runs on five nodes: the rollout it triggers, in batches at
/// maxUnavailable resolved against the targeted nodes (40 % of 5 = 2: 3 batches), in
/// text and in `-o json`; OnDelete rolls nothing.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_change_names_its_rollout_in_batches() {
    let mut yaml = String::new();
    for i in 0..5 {
        yaml += &node(&format!("n{i}"), "4", "8Gi", 110, 0, ", pool: a", "");
    }
    yaml += &format!("{DS}      containers: [{{name: a, image: registry.k8s.io/pause:3.9}}]\n---\n");
    let sim = common::serve(&yaml).await;
    let client = common::client(&sim);
    let pods: Api<Pod> = Api::namespaced(client.clone(), "kube-system");
    common::until(30, "a daemon pod bound on every node", || {
        let pods = pods.clone();
        async move {
            let l = pods.list(&ListParams::default().labels("app=agent")).await.map_err(|e| e.to_string())?;
            let bound = l.items.iter().filter(|p| p.spec.as_ref().and_then(|s| s.node_name.as_ref()).is_some()).count();
            if bound == 5 { Ok(()) } else { Err(format!("{bound} bound")) }
        }
    })
    .await;
    let cluster = common::cluster(&sim);
    let change = |strategy: &str| {
        format!("{DS}      containers: [{{name: a, image: registry.k8s.io/pause:3.10}}]\n")
            .replace("spec:\n  selector", &format!("spec:\n  updateStrategy: {strategy}\n  selector"))
    };
    let dir = tempfile::tempdir().unwrap();
    let f = dir.path().join("ds.yaml");
    std::fs::write(&f, change("{type: RollingUpdate, rollingUpdate: {maxUnavailable: 40%}}")).unwrap();
    let dss = preflight::read_manifests(std::slice::from_ref(&f)).unwrap();
    let facts = preflight::gather(&cluster, &dss).await.unwrap();
    let report = preflight::evaluate(&dss[0], &facts).unwrap();
    let r = report.rollout.clone().expect("a change has a rollout");
    let b = r.rolling.unwrap();
    assert_eq!((r.nodes, b.targeted, b.max_unavailable, b.batch, b.batches), (5, 5, 2, 2, 3), "{r:?}");
    let args = daemonscope::cli::PreflightArgs {
        files: vec![],
        output: "text".into(),
        allow_ineligible: false,
        max_pull_bytes: None,
        strict: false,
    };
    let mut out = Vec::new();
    assert_eq!(preflight::run(&cluster, "sim", &dss, &args, &mut out).await, 0);
    let text = String::from_utf8(out).unwrap();
    assert!(
        text.contains("rollout (RollingUpdate, maxSurge 0, maxUnavailable 40% = 2 of 5 targeted nodes): if the pod template changes, the pods on 5 nodes are replaced in 3 batches of up to 2; "),
        "{text}"
    );
    let args = daemonscope::cli::PreflightArgs {
        files: vec![],
        output: "json".into(),
        allow_ineligible: false,
        max_pull_bytes: None,
        strict: false,
    };
    let mut out = Vec::new();
    preflight::run(&cluster, "sim", &dss, &args, &mut out).await;
    let v: serde_json::Value = serde_json::from_slice(&out).unwrap();
    let rollout = &v["daemonsets"][0]["rollout"];
    assert_eq!((rollout["batches"].as_u64(), rollout["batchSize"].as_u64(), rollout["nodes"].as_u64()), (Some(3), Some(2), Some(5)), "{v}");
    std::fs::write(&f, change("{type: OnDelete}")).unwrap();
    let dss = preflight::read_manifests(std::slice::from_ref(&f)).unwrap();
    let report = preflight::evaluate(&dss[0], &facts).unwrap();
    let r = report.rollout.unwrap();
    assert_eq!((r.strategy.as_str(), r.nodes, r.rolling), ("OnDelete", 5, None));
}

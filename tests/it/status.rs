//! `daemonscope status`: every state in the JSON from a staged cluster, the same answers as
//! the TUI's grid, exit codes 0/1/2, `--wait` until a rolling update completes or times out,
//! and the table as a user reads it.

use crate::common;

use std::collections::HashMap;
use std::process::Command;

use daemonscope::cli::{Output, StatusArgs};
use daemonscope::cluster::watch::{Scope, Update};
use daemonscope::sim::Sim;
use daemonscope::sim::kind::Kind;
use daemonscope::sim::scenario::Action;
use k8s_openapi::api::apps::v1::DaemonSet;
use k8s_openapi::api::core::v1::{Node, Pod};
use serde_json::{Value, json};

fn node(name: &str, extra: &str) -> String {
    format!("---\napiVersion: v1\nkind: Node\nmetadata:\n  name: {name}\n  labels: {{pool: general}}\n{extra}")
}

/// n1 ready · n2 outdated · n3 starting · n4 failing · n5 missing · n6 misscheduled ·
/// n7 terminating · n8 ineligible (taint) · n9 on a NotReady node.
fn staged() -> Sim {
    let mut yaml = String::new();
    for n in ["n1", "n2", "n6", "n7"] {
        yaml.push_str(&node(n, ""));
    }
    yaml.push_str(&node("n3", "  annotations: {sim.daemonscope.io/pod-behavior: never-ready}\n"));
    yaml.push_str(&node("n4", "  annotations: {sim.daemonscope.io/pod-behavior: image-pull-error}\n"));
    yaml.push_str(&node("n8", "spec:\n  taints: [{key: dedicated, value: gpu, effect: NoSchedule}]\n"));
    yaml.push_str(&node("n9", "  annotations: {sim.daemonscope.io/node-state: not-ready}\n"));
    yaml.push_str(
        "---
apiVersion: apps/v1
kind: DaemonSet
metadata: {name: agent, namespace: kube-system}
spec:
  selector: {matchLabels: {app: agent}}
  updateStrategy: {type: OnDelete}
  template:
    metadata: {labels: {app: agent}}
    spec:
      nodeSelector: {pool: general}
      containers: [{name: agent, image: 'registry.example/agent:v1'}]
---
apiVersion: sim.daemonscope.io/v1alpha1
kind: Simulation
registry: ['registry.example/agent:v2']
",
    );
    let mut sim = common::build(&yaml);
    let patch = json!({"spec": {"template": {"spec": {"containers": [{"name": "agent", "image": "registry.example/agent:v2"}]}}}});
    sim.apply(&Action::Patch { kind: Kind::DaemonSet, namespace: "kube-system".into(), name: "agent".into(), patch }).unwrap();
    sim.advance(2);
    // OnDelete: n1's pod is replaced only because it is deleted.
    let pod_on = |sim: &Sim, n: &str| {
        sim.store
            .list::<Pod>(Some("kube-system"))
            .0
            .iter()
            .find(|p| p.spec.as_ref().unwrap().node_name.as_deref() == Some(n))
            .map(|p| p.metadata.name.clone().unwrap())
    };
    let p1 = pod_on(&sim, "n1").unwrap();
    sim.apply(&Action::Delete { kind: Kind::Pod, namespace: "kube-system".into(), name: p1 }).unwrap();
    for _ in 0..40 {
        sim.advance(1);
    }
    // Frozen from here (no controller runs): the label leaves n6, n7's pod is being deleted,
    // n5 has just joined.
    let patch = json!({"metadata": {"labels": {"pool": null}}});
    sim.apply(&Action::Patch { kind: Kind::Node, namespace: String::new(), name: "n6".into(), patch }).unwrap();
    let p7 = pod_on(&sim, "n7").unwrap();
    sim.apply(&Action::Delete { kind: Kind::Pod, namespace: "kube-system".into(), name: p7 }).unwrap();
    let n5: Value = serde_json::to_value(serde_saphyr::from_str::<Node>("metadata: {name: n5, labels: {pool: general}}").unwrap()).unwrap();
    let mut n5 = n5;
    n5["apiVersion"] = json!("v1");
    n5["kind"] = json!("Node");
    sim.apply(&Action::Create(Kind::Node, n5)).unwrap();
    sim
}

fn args(output: Output) -> StatusArgs {
    StatusArgs {
        daemonsets: vec![],
        output,
        wait: false,
        timeout: Some(std::time::Duration::from_secs(20)),
        stall_timeout: std::time::Duration::from_secs(300),
        demo: false,
        allow_down_nodes: false,
        max_unavailable: None,
        joins: Default::default(),
    }
}

async fn status_json(sim: &Sim) -> (i32, Value) {
    let client = kube::Client::new(sim.router(), "default");
    let mut out = Vec::new();
    let code = daemonscope::status::run(client.into(), "staged".into(), None, Scope::default(), &args(Output::Json), &mut out).await;
    (code, serde_json::from_slice(&out).unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&out))))
}

#[tokio::test]
async fn every_state_is_reported_with_its_reason() {
    let sim = staged();
    let (code, v) = status_json(&sim).await;
    assert_eq!(code, 1, "not fully covered: {v:#}");
    assert_eq!(v["context"], "staged");
    let ds = &v["daemonsets"][0];
    assert_eq!(
        (ds["namespace"].as_str(), ds["name"].as_str(), ds["strategy"].as_str()),
        (Some("kube-system"), Some("agent"), Some("OnDelete"))
    );
    assert_eq!(ds["rolloutComplete"], false);
    for k in ["desired", "current", "ready", "updated", "available", "misscheduled"] {
        assert!(ds[k].is_i64(), "{k} in {ds:#}");
    }
    let nodes: HashMap<&str, &Value> = ds["nodes"].as_array().unwrap().iter().map(|n| (n["node"].as_str().unwrap(), n)).collect();
    assert_eq!(nodes.len(), 9, "every node once: {ds:#}");
    let state = |n: &str| nodes[n]["state"].as_str().unwrap().to_string();
    let reason = |n: &str| nodes[n]["reason"].as_str().unwrap().to_string();
    assert_eq!(state("n1"), "ready", "{:#}", nodes["n1"]);
    assert!(nodes["n1"]["pod"].is_string() && nodes["n1"]["revision"].is_string());
    assert_eq!(state("n2"), "outdated");
    assert!(reason("n2").contains("old revision"), "{}", reason("n2"));
    assert_ne!(nodes["n1"]["revision"], nodes["n2"]["revision"]);
    assert_eq!(state("n3"), "starting", "{}", reason("n3"));
    assert_eq!(state("n4"), "failing");
    assert!(reason("n4").contains("ImagePull") || reason("n4").contains("ErrImagePull"), "{}", reason("n4"));
    assert_eq!(state("n5"), "missing");
    assert!(nodes["n5"]["pod"].is_null());
    assert_eq!(state("n6"), "misscheduled");
    assert!(reason("n6").contains("nodeSelector pool=general"), "{}", reason("n6"));
    assert_eq!(state("n7"), "terminating");
    assert_eq!(state("n8"), "ineligible");
    assert_eq!(reason("n8"), "taint dedicated=gpu:NoSchedule not tolerated");
    // The node's problem, not the daemon's: its state and reason name the node.
    assert_eq!(state("n9"), "node-not-ready", "{}", reason("n9"));
    assert!(reason("n9").starts_with("node NotReady"), "{}", reason("n9"));
}

#[tokio::test]
async fn the_json_equals_what_the_tui_grid_shows() {
    let sim = staged();
    let (_, v) = status_json(&sim).await;
    // The TUI, fed the same objects as watch updates, converted as the client's watch converts them.
    let changes = [common::changes::<Node>(&sim), common::changes::<DaemonSet>(&sim), common::changes::<Pod>(&sim)].concat();
    let u: Vec<Update> = changes.into_iter().map(Update::Change).collect();
    let mut app = daemonscope::ui::App::new("staged", daemonscope::ui::Theme::new(false));
    app.update(daemonscope::ui::Msg::Watch(u));
    let m = app.model();
    let ds = m.daemonsets().next().unwrap().clone();
    let cov = m.coverage(&ds).unwrap();
    let mut compared = 0;
    for n in v["daemonsets"][0]["nodes"].as_array().unwrap() {
        let id = m.node_id(n["node"].as_str().unwrap()).unwrap();
        assert_eq!(cov.cells[id as usize].as_str(), n["state"].as_str().unwrap(), "{n}");
        assert_eq!(m.explain(&ds, id).unwrap().reason, n["reason"].as_str().unwrap());
        compared += 1;
    }
    assert_eq!(compared, 9);
}

fn bin(args: &[&str]) -> (i32, String, String) {
    let o = Command::new(env!("CARGO_BIN_EXE_daemonscope")).args(args).env("XDG_STATE_HOME", std::env::temp_dir()).output().unwrap();
    (o.status.code().unwrap_or(-1), String::from_utf8_lossy(&o.stdout).into(), String::from_utf8_lossy(&o.stderr).into())
}

/// `healthy()` whose agent DaemonSet rolls to v2 `at` after start (1 s per pod to start and to become ready).
/// Until the simulator has taken the timeline's new template (generation 2).
async fn rollout_started(sim: &daemonscope::sim::Running) {
    common::until(30, "the rolling update under way", || {
        let g = sim.store.get::<k8s_openapi::api::apps::v1::DaemonSet>("kube-system", "agent").and_then(|d| d.metadata.generation);
        std::future::ready(if g >= Some(2) { Ok(()) } else { Err(format!("generation {g:?}")) })
    })
    .await;
}

fn rolling_to_v2(at: &str) -> String {
    let mut y = healthy();
    y.push_str(&format!(
        "---
apiVersion: sim.daemonscope.io/v1alpha1
kind: Simulation
metadata: {{name: rollout}}
settings: {{startDelay: 1s, readyDelay: 1s}}
registry: ['registry.example/agent:v2']
timeline:
- at: {at}
  patch:
    kind: DaemonSet
    namespace: kube-system
    name: agent
    patch: {{spec: {{template: {{spec: {{containers: [{{name: agent, image: 'registry.example/agent:v2'}}]}}}}}}}}
"
    ));
    y
}

fn healthy() -> String {
    let mut y = common::nodes_yaml(&["a1", "a2", "a3"]);
    y.push_str(&common::ds_yaml("agent", "{type: RollingUpdate}"));
    y
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn exit_codes_and_the_table_as_a_user_reads_it() {
    let ok = common::serve(&healthy()).await;
    let demo = common::serve(&std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/assets/scenarios/demo.yaml")).unwrap()).await;
    let dir = tempfile::tempdir().unwrap();
    let (kc_ok, kc_demo) = (dir.path().join("ok"), dir.path().join("demo"));
    daemonscope::sim::write_kubeconfig(&kc_ok, ok.url(), ok.ca_pem.as_deref(), ok.token.as_deref()).unwrap();
    daemonscope::sim::write_kubeconfig(&kc_demo, demo.url(), demo.ca_pem.as_deref(), demo.token.as_deref()).unwrap();
    let (kc_ok, kc_demo) = (kc_ok.to_str().unwrap().to_string(), kc_demo.to_str().unwrap().to_string());
    tokio::task::spawn_blocking(move || {
        let (code, out, err) = bin(&["status", "--kubeconfig", &kc_ok]);
        assert_eq!(code, 0, "{out}{err}");
        assert!(out.contains("kube-system      agent") && out.contains("complete"), "{out}");
        assert!(out.contains("every node that should run it runs a ready, up-to-date pod (3 nodes)"), "{out}");
        assert!(out.ends_with("1 of 1 DaemonSets fully covered (context daemonscope-sim)\n"), "{out}");
        // The demo: not fine; the table names the crash-looping node and the untolerated taint.
        let (code, out, _) = bin(&["status", "--kubeconfig", &kc_demo, "node-exporter", "logging/fluent-bit"]);
        assert_eq!(code, 1, "{out}");
        let line = |node: &str, ds_out: &str| ds_out.lines().find(|l| l.trim_start().starts_with(node)).map(str::to_string);
        // Problem nodes are grouped by state and reason, with example nodes.
        let l = out.lines().find(|l| l.trim_start().starts_with("failing")).unwrap_or_else(|| panic!("{out}"));
        assert!(l.contains("CrashLoopBackOff") || l.contains("crash-looping"), "{l}");
        assert!(out.lines().any(|l| l.trim_start() == "e.g. general-c-0003"), "{out}");
        assert!(!out.contains("kube-proxy"), "only the DaemonSets asked for: {out}");
        // -o wide lists every node, ineligible ones with their rule.
        let (_, wide, _) = bin(&["status", "--kubeconfig", &kc_demo, "-o", "wide", "fluent-bit"]);
        let l = line("highmem-a-0001", &wide).unwrap_or_else(|| panic!("{wide}"));
        assert!(l.contains("ineligible") && l.contains("taint dedicated=infra:NoSchedule not tolerated"), "{l}");
        assert!(wide.lines().filter(|l| l.starts_with("  general-")).count() >= 30, "{wide}");
        // Errors: one line, exit 2.
        for (args, want) in [
            (vec!["status", "--kubeconfig", &kc_ok, "nope"], "DaemonSet \"nope\" not found"),
            (vec!["status", "--kubeconfig", "/nonexistent/config"], "cannot read kubeconfig"),
            (vec!["status", "--kubeconfig", &kc_ok, "-l", "bad key"], "invalid -l selector"),
            (vec!["status", "--kubeconfig", &kc_ok, "--context", "other"], "context \"other\" is not in"),
            (vec!["status", "--kubeconfig", &kc_ok, "-o", "yaml"], "invalid value 'yaml'"),
        ] {
            let (code, out, err) = bin(&args);
            assert_eq!(code, 2, "{args:?}: {out}{err}");
            assert!(err.contains(want), "{args:?}: {err}");
            assert!(!err.contains("panicked") && !err.contains("Backtrace"), "{err}");
        }
    })
    .await
    .unwrap();
    // Unreachable server: exit 2 with the reason.
    let dir2 = tempfile::tempdir().unwrap();
    let dead = dir2.path().join("dead");
    daemonscope::sim::write_kubeconfig(&dead, "http://127.0.0.1:9", None, None).unwrap();
    let dead = dead.to_str().unwrap().to_string();
    let (code, _, err) = tokio::task::spawn_blocking(move || bin(&["status", "--kubeconfig", &dead, "--timeout", "20s"])).await.unwrap();
    assert_eq!(code, 2, "{err}");
    assert!(err.starts_with("daemonscope: ") && err.contains("cannot watch"), "{err}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wait_returns_0_when_a_rolling_update_completes_and_1_at_a_timeout() {
    let y = rolling_to_v2("1s");
    let sim = common::serve(&y).await;
    let mut crash = common::nodes_yaml(&["c1"]);
    crash.push_str(&node("c2", "  annotations: {sim.daemonscope.io/pod-behavior: crash-loop}\n"));
    crash.push_str(&common::ds_yaml("agent", "{type: RollingUpdate}"));
    let stuck = common::serve(&crash).await;
    let dir = tempfile::tempdir().unwrap();
    let (kc, kc_stuck) = (dir.path().join("kc"), dir.path().join("stuck"));
    daemonscope::sim::write_kubeconfig(&kc, sim.url(), sim.ca_pem.as_deref(), sim.token.as_deref()).unwrap();
    daemonscope::sim::write_kubeconfig(&kc_stuck, stuck.url(), stuck.ca_pem.as_deref(), stuck.token.as_deref()).unwrap();
    let (kc, kc_stuck) = (kc.to_str().unwrap().to_string(), kc_stuck.to_str().unwrap().to_string());
    // Once the update is under way, wait for it to finish.
    rollout_started(&sim).await;
    tokio::task::spawn_blocking(move || {
        let (code, out, err) = bin(&["status", "--kubeconfig", &kc, "--wait", "--timeout", "60s", "-o", "json", "agent"]);
        assert_eq!(code, 0, "{out}{err}");
        let v: Value = serde_json::from_str(&out).unwrap();
        assert_eq!(v["daemonsets"][0]["rolloutComplete"], true, "{out}");
        assert!(v["daemonsets"][0]["nodes"].as_array().unwrap().iter().all(|n| n["state"] == "ready"), "{out}");
        assert!(err.contains("waiting: kube-system/agent: ") && err.contains("fully covered after"), "it waited, saying so: {err}");
        // A crash-looping node never gets there: exit 1 at the timeout, the report says why.
        let (code, out, err) = bin(&["status", "--kubeconfig", &kc_stuck, "--wait", "--timeout", "3s"]);
        assert_eq!(code, 1, "{out}{err}");
        // The TUI's words: ready and up to date, of the desired nodes.
        assert!(
            err.contains("waiting: kube-system/agent: 1/2 ready and up to date, 1 failing") && err.contains("timed out after 3s"),
            "{err}"
        );
        assert!(out.lines().any(|l| l.trim_start().starts_with("failing")) && out.lines().any(|l| l.trim_start() == "e.g. c2"), "{out}");
    })
    .await
    .unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wait_rides_out_an_outage_and_throttling() {
    let y = rolling_to_v2("2s");
    let sim = common::serve(&y).await;
    let dir = tempfile::tempdir().unwrap();
    let kc = dir.path().join("kc");
    daemonscope::sim::write_kubeconfig(&kc, sim.url(), sim.ca_pem.as_deref(), sim.token.as_deref()).unwrap();
    let kc = kc.to_str().unwrap().to_string();
    let faults = sim.api.faults.clone();
    // Start once the rollout is under way; then down, then throttled: the wait keeps going.
    rollout_started(&sim).await;
    let run = tokio::task::spawn_blocking(move || bin(&["status", "--kubeconfig", &kc, "--wait", "--timeout", "90s", "agent"]));
    // Only `status` talks to this simulator: its watches are open once it has synced.
    let watching = || {
        let log = sim.api.request_log();
        let watches = log.iter().filter(|r| r.verb == "watch" && r.status == 200).count();
        if watches >= 2 {
            Ok(log.len())
        } else {
            Err(format!("{watches} watch(es) open; requests: {:?}", log.iter().map(|r| (&r.verb, &r.path, r.status)).collect::<Vec<_>>()))
        }
    };
    common::until(30, "status watching", || std::future::ready(watching())).await;
    faults.set_down(true);
    // Down until the client has failed to reconnect a few times.
    let refused = |n: u64| {
        let r = faults.injected.refused.load(std::sync::atomic::Ordering::Relaxed);
        if r >= n { Ok(()) } else { Err(format!("{r} connection(s) refused")) }
    };
    common::until(30, "status retrying against the outage", || std::future::ready(refused(3))).await;
    faults.set(daemonscope::sim::faults::FaultSettings { throttle: 0.5, retry_after: 1, seed: Some(7), ..Default::default() });
    faults.set_down(false);
    // Throttled until the client is back and has been throttled at least once.
    let before = sim.api.request_log().len();
    let back = || {
        let log = sim.api.request_log();
        let after = &log[before.min(log.len())..];
        let throttled = faults.injected.throttled.load(std::sync::atomic::Ordering::Relaxed);
        let ok = after.iter().filter(|r| r.status == 200).count();
        if throttled >= 1 && ok >= 1 {
            Ok(())
        } else {
            Err(format!(
                "{throttled} throttled, {ok} answered since the outage ended: {:?}",
                after.iter().map(|r| (&r.verb, &r.path, r.status)).collect::<Vec<_>>()
            ))
        }
    };
    common::until(30, "status back under throttling", || std::future::ready(back())).await;
    faults.clear();
    let (code, out, err) = run.await.unwrap();
    assert_eq!(code, 0, "{out}{err}");
    assert!(err.contains("failing: cannot reach the API server") && err.contains("data is stale"), "{err}");
    assert!(err.contains("resumed"), "{err}");
    assert!(err.contains("fully covered after"), "{err}");
    assert!(out.contains("complete"), "{out}");
}

/// `status` as a CI gate: an empty selection cannot pass; problem nodes are grouped so a
/// big cluster's table stays readable; down nodes and a few broken ones can be tolerated
/// on request, and the JSON says which gate was applied.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn status_is_a_gate_a_typo_cannot_pass() {
    let y = format!(
        "{}{}---\napiVersion: v1\nkind: Node\nmetadata:\n  name: down-1\n  labels: {{pool: general}}\n  annotations: {{sim.daemonscope.io/node-state: not-ready}}\n",
        common::nodes_yaml(&["a1", "a2", "a3", "a4", "a5", "a6"]),
        common::ds_yaml("agent", "{type: RollingUpdate}"),
    );
    let sim = common::serve(&y).await;
    let dir = tempfile::tempdir().unwrap();
    let kc = dir.path().join("kc");
    daemonscope::sim::write_kubeconfig(&kc, sim.url(), sim.ca_pem.as_deref(), sim.token.as_deref()).unwrap();
    let kc = kc.to_str().unwrap().to_string();
    tokio::task::spawn_blocking(move || {
        // A typo selects nothing: exit 2 with one line, with or without --wait.
        for extra in [vec!["-n", "typo"], vec!["-l", "nomatch=x"], vec!["-n", "typo", "--wait", "--timeout", "20s"]] {
            let mut args = vec!["status", "--kubeconfig", &kc];
            args.extend(extra.iter().copied());
            let (code, out, err) = bin(&args);
            assert_eq!(code, 2, "{args:?}: {out}{err}");
            assert!(out.is_empty(), "{out}");
            let what = if extra[0] == "-n" { "-n typo" } else { "-l nomatch=x" };
            assert_eq!(err, format!("daemonscope: no DaemonSet matches {what} in context daemonscope-sim\n"), "{args:?}");
        }
        // The down node holds the gate by default, and not with --allow-down-nodes.
        let (code, out, err) = bin(&["status", "--kubeconfig", &kc]);
        assert_eq!(code, 1, "{out}{err}");
        assert!(out.lines().any(|l| l.trim_start().starts_with("node-not-ready") && l.contains("node NotReady")), "{out}");
        let (code, out, err) = bin(&["status", "--kubeconfig", &kc, "--allow-down-nodes", "-o", "json"]);
        assert_eq!(code, 0, "{out}{err}");
        let v: serde_json::Value = serde_json::from_str(&out).unwrap();
        assert_eq!(v["summary"], json!({"daemonsets": 1, "covered": 1, "allowDownNodes": true, "maxUnavailable": null}));
        assert_eq!((v["daemonsets"][0]["readyUpToDate"].as_u64(), v["daemonsets"][0]["desiredNodes"].as_u64()), (Some(6), Some(6)));
        // --max-unavailable tolerates a few nodes that are not fine.
        let (code, out, err) = bin(&["status", "--kubeconfig", &kc, "--max-unavailable", "1", "-o", "json"]);
        assert_eq!(code, 0, "{out}{err}");
        assert_eq!(serde_json::from_str::<serde_json::Value>(&out).unwrap()["summary"]["maxUnavailable"], "1");
        let (code, _, err) = bin(&["status", "--kubeconfig", &kc, "--max-unavailable", "150%"]);
        assert_eq!(code, 2, "{err}");
        assert!(err.contains("must not be greater than 100%"), "{err}");
    })
    .await
    .unwrap();
}

/// `--wait` gives up while a watch is broken: the report says the data is stale and how
/// old, and the exit code is 2 (could not observe the cluster), not 1 (not covered).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wait_giving_up_on_stale_data_says_so_and_exits_2() {
    use std::io::BufRead;
    let mut crash = common::nodes_yaml(&["c1"]);
    crash.push_str(&node("c2", "  annotations: {sim.daemonscope.io/pod-behavior: crash-loop}\n"));
    crash.push_str(&common::ds_yaml("agent", "{type: RollingUpdate}"));
    let sim = common::serve(&crash).await;
    let dir = tempfile::tempdir().unwrap();
    let kc = dir.path().join("kc");
    daemonscope::sim::write_kubeconfig(&kc, sim.url(), sim.ca_pem.as_deref(), sim.token.as_deref()).unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_daemonscope"))
        .args(["status", "--wait", "--timeout", "6s", "-o", "json", "--kubeconfig"])
        .arg(&kc)
        .env("XDG_STATE_HOME", std::env::temp_dir())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = std::io::BufReader::new(child.stderr.take().unwrap()).lines();
    // Synced and waiting; then the server goes down until the wait gives up.
    let first = tokio::task::spawn_blocking(move || {
        let l = lines.next().unwrap().unwrap();
        (l, lines)
    })
    .await
    .unwrap();
    assert!(first.0.starts_with("waiting: kube-system/agent"), "{}", first.0);
    sim.api.faults.set_down(true);
    let (o, rest) = tokio::task::spawn_blocking(move || {
        let rest: Vec<String> = first.1.map_while(Result::ok).collect();
        (child.wait_with_output().unwrap(), rest.join("\n"))
    })
    .await
    .unwrap();
    sim.api.faults.set_down(false);
    let out = String::from_utf8_lossy(&o.stdout);
    assert_eq!(o.status.code(), Some(2), "{out}{rest}");
    let v: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["stale"], true, "{v:#}");
    assert!(v["ageSeconds"].as_u64().is_some_and(|a| a <= 6), "{v:#}");
    assert!(rest.contains("daemonscope: timed out after 6s while the watch of") && rest.contains("the data is stale"), "{rest}");
}

/// `-o json` is written as it is made, one DaemonSet at a time; it is byte for byte the
/// document built whole (what `serve`'s /api/v1/status and `--wait` print), for every
/// gate and selection.
#[test]
fn the_streamed_json_is_the_built_report_byte_for_byte() {
    use daemonscope::status::report::write_json;
    use daemonscope::status::{Gate, report};
    use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;
    let mut sim = common::build(&std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/assets/scenarios/demo.yaml")).unwrap());
    for _ in 0..5 {
        sim.advance(6);
    }
    let mut model = daemonscope::model::Model::new();
    for c in common::all_updates(&sim) {
        if let Update::Change(c) = c {
            model.apply(c);
        }
    }
    let gates = [
        Gate::default(),
        Gate { allow_down_nodes: true, max_unavailable: None },
        Gate { allow_down_nodes: true, max_unavailable: Some(IntOrString::String("10%".into())) },
        Gate { allow_down_nodes: false, max_unavailable: Some(IntOrString::Int(1)) },
    ];
    let selections = [vec![], vec![("monitoring".to_string(), "node-exporter".to_string()), ("kube-system".into(), "cilium".into())]];
    let mut outcomes = std::collections::HashSet::new();
    for gate in &gates {
        for selected in &selections {
            let built = report(&model, "demo", selected, gate);
            let mut streamed = Vec::new();
            let covered = write_json(&model, "demo", selected, gate, &mut streamed).unwrap();
            assert_eq!(String::from_utf8(streamed).unwrap(), serde_json::to_string_pretty(&built).unwrap(), "{gate:?} {selected:?}");
            assert_eq!(covered, built.fully_covered());
            outcomes.insert((covered, built.summary.covered));
        }
    }
    // The gates made a difference: the comparison covered passing and failing DaemonSets.
    assert!(outcomes.len() > 1, "{outcomes:?}");
}

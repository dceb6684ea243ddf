//! The drain (`cluster::drain`) against the simulator: it refuses what kubectl refuses,
//! leaves the DaemonSet's pod, evicts through the Eviction API only, says who blocks it
//! (the budget, its disruptions allowed, since when) while a PodDisruptionBudget allows no
//! disruption, gives up at its timeout with the pod still there, and finishes once the
//! budget allows one — the evicted pod gone, recreated by its ReplicaSet elsewhere — and a
//! server dry-run changes nothing.

use std::sync::Mutex;
use std::time::Duration;

use daemonscope::cluster::drain::{DrainError, DrainEvent, DrainSettings, drain};
use daemonscope::model::plan::drain::DrainOptions;
use k8s_openapi::api::core::v1::{Node, Pod};
use k8s_openapi::api::policy::v1::PodDisruptionBudget;

use crate::common::*;

pub(crate) fn cluster() -> String {
    format!(
        "{FAST}{}{}---\napiVersion: apps/v1\nkind: ReplicaSet\nmetadata: {{name: web, namespace: default}}\n\
         spec: {{replicas: 1, selector: {{matchLabels: {{app: web}}}}, template: {{metadata: {{labels: {{app: web}}}}, \
         spec: {{containers: [{{name: web, image: 'registry.example/web:v1'}}]}}}}}}\n\
         ---\napiVersion: policy/v1\nkind: PodDisruptionBudget\nmetadata: {{name: web, namespace: default}}\n\
         spec: {{minAvailable: 1, selector: {{matchLabels: {{app: web}}}}}}\n",
        nodes_yaml(&["node-a", "node-b", "node-c"]),
        ds_yaml("agent", "{type: RollingUpdate}"),
    )
}

fn all_flags() -> DrainOptions {
    DrainOptions { ignore_daemonsets: true, force: true, delete_emptydir_data: true, pod_selector: None }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_drain_waits_on_its_budget_says_so_and_finishes_when_it_allows() {
    let sim = serve(&cluster()).await;
    let client = client(&sim);
    let c: daemonscope::cluster::connect::Cluster = client.clone().into();
    let pods: kube::Api<Pod> = kube::Api::namespaced(client.clone(), "default");
    let pdbs: kube::Api<PodDisruptionBudget> = kube::Api::namespaced(client.clone(), "default");
    let nodes: kube::Api<Node> = kube::Api::all(client.clone());
    let ready_web = || async {
        let l = pods.list(&kube::api::ListParams::default().labels("app=web")).await.map_err(|e| e.to_string())?;
        let ready: Vec<Pod> = l
            .items
            .into_iter()
            .filter(|p| p.metadata.deletion_timestamp.is_none())
            .filter(|p| {
                p.status
                    .as_ref()
                    .and_then(|s| s.conditions.as_ref())
                    .is_some_and(|c| c.iter().any(|c| c.type_ == "Ready" && c.status == "True"))
            })
            .collect();
        if ready.len() == 1 { Ok(ready) } else { Err(format!("{} ready", ready.len())) }
    };
    let web = until(30, "the web pod ready", ready_web).await;
    until(30, "the budget counting them", || async {
        let s = pdbs.get("web").await.unwrap().status.unwrap_or_default();
        if s.current_healthy == 1 { Ok(()) } else { Err(format!("{s:?}")) }
    })
    .await;
    let victim = web[0].metadata.name.clone().unwrap();
    let node = web[0].spec.as_ref().unwrap().node_name.clone().unwrap();

    // kubectl's refusal without --ignore-daemonsets: nothing evicted (the cordon stays, as with kubectl).
    let plain = DrainSettings { timeout: Some(Duration::from_secs(5)), ..Default::default() };
    match drain(&c, &node, &plain, &|_| {}).await {
        Err(DrainError::Refused(why)) => {
            assert!(why.contains("cannot delete DaemonSet-managed Pods (use --ignore-daemonsets to ignore): kube-system/agent-"), "{why}")
        }
        other => panic!("not refused: {other:?}"),
    }
    assert!(pods.get(&victim).await.unwrap().metadata.deletion_timestamp.is_none());

    // Blocked: the budget allows no disruption; told as it happens; given up at the timeout.
    let events = Mutex::new(Vec::new());
    let s = DrainSettings { options: all_flags(), timeout: Some(Duration::from_secs(3)), ..Default::default() };
    let report = drain(&c, &node, &s, &|e| events.lock().unwrap().push(e)).await.unwrap();
    let key = format!("default/{victim}");
    assert!(report.evicted.is_empty(), "{report:?}");
    assert_eq!(report.failed.len(), 1, "{report:?}");
    assert_eq!(report.failed[0].0, key);
    assert!(
        report.failed[0].1.contains("still blocked at the timeout: Cannot evict pod as it would violate the pod's disruption budget."),
        "{report:?}"
    );
    let events = events.into_inner().unwrap();
    assert!(events.contains(&DrainEvent::Cordoned { node: node.clone(), already: true }), "{events:?}");
    assert!(
        events.iter().any(|e| matches!(e, DrainEvent::Planned { warnings: Some(w), evicting: 1, .. } if w.starts_with("ignoring DaemonSet-managed Pods: kube-system/agent-"))),
        "{events:?}"
    );
    let blocked: Vec<_> = events
        .iter()
        .filter_map(|e| if let DrainEvent::Blocked { pod, budgets, .. } = e { Some((pod.clone(), budgets.clone())) } else { None })
        .collect();
    assert!(blocked.len() >= 2, "retried: {events:?}");
    assert_eq!(blocked[0], (key.clone(), vec![("web".to_string(), 0)]));
    assert!(pods.get(&victim).await.unwrap().metadata.deletion_timestamp.is_none(), "never deleted directly");
    assert_eq!(nodes.get(&node).await.unwrap().spec.unwrap().unschedulable, Some(true));

    // The budget allows one: the same drain evicts the pod and waits until it is gone.
    let patch = serde_json::json!({"spec": {"minAvailable": 0}});
    pdbs.patch("web", &Default::default(), &kube::api::Patch::Merge(patch)).await.unwrap();
    until(30, "one disruption allowed", || async {
        let s = pdbs.get("web").await.unwrap().status.unwrap_or_default();
        if s.disruptions_allowed == 1 { Ok(()) } else { Err(format!("{s:?}")) }
    })
    .await;
    let events = Mutex::new(Vec::new());
    let s = DrainSettings { options: all_flags(), timeout: Some(Duration::from_secs(30)), ..Default::default() };
    let report = drain(&c, &node, &s, &|e| events.lock().unwrap().push(e)).await.unwrap();
    assert_eq!((report.evicted, report.failed.len()), (vec![key.clone()], 0));
    let events = events.into_inner().unwrap();
    let order: Vec<_> = events.iter().filter(|e| matches!(e, DrainEvent::Evicted { .. } | DrainEvent::Gone { .. })).collect();
    assert_eq!(order, [&DrainEvent::Evicted { pod: key.clone() }, &DrainEvent::Gone { pod: key.clone() }]);
    assert!(pods.get(&victim).await.is_err(), "gone");
    // The ReplicaSet's new pod lands on another node.
    let again = until(30, "a web pod again", ready_web).await;
    assert!(again.iter().all(|p| p.spec.as_ref().unwrap().node_name.as_deref() != Some(node.as_str())), "{again:?}");
}

/// A server dry-run drain checks every request and changes nothing.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dry_run_drain_changes_nothing() {
    let sim = serve(&cluster().replace("minAvailable: 1", "minAvailable: 0")).await;
    let client = client(&sim);
    let c: daemonscope::cluster::connect::Cluster = client.clone().into();
    let nodes: kube::Api<Node> = kube::Api::all(client.clone());
    let pods: kube::Api<Pod> = kube::Api::namespaced(client.clone(), "default");
    let web = until(30, "web pods bound", || async {
        let l = pods.list(&kube::api::ListParams::default().labels("app=web")).await.map_err(|e| e.to_string())?;
        l.items.into_iter().find(|p| p.spec.as_ref().and_then(|s| s.node_name.as_ref()).is_some()).ok_or("none bound".to_string())
    })
    .await;
    let node = web.spec.as_ref().unwrap().node_name.clone().unwrap();
    let s = DrainSettings { options: all_flags(), timeout: Some(Duration::from_secs(10)), dry_run: true, ..Default::default() };
    let report = drain(&c, &node, &s, &|_| {}).await.unwrap();
    assert_eq!(report.failed.len(), 0, "{report:?}");
    assert_eq!(nodes.get(&node).await.unwrap().spec.and_then(|s| s.unschedulable), None, "not cordoned");
    assert!(pods.get(web.metadata.name.as_deref().unwrap()).await.unwrap().metadata.deletion_timestamp.is_none(), "not evicted");
}

/// `daemonscope drain`'s flags, parsed as the binary parses them.
#[derive(clap::Parser)]
struct Flags {
    #[command(flatten)]
    args: daemonscope::cli::DrainArgs,
}

/// Headless: kubectl's lines, or one JSON object per event naming the budget that blocks
/// the pod while it waits; exit 1 when a pod is still held at the timeout, 0 once drained.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn headless_drain_reports_blockers_as_json_lines_and_exits_as_kubectl() {
    use clap::Parser;
    let sim = serve(&cluster()).await;
    let client = client(&sim);
    let c: daemonscope::cluster::connect::Cluster = client.clone().into();
    let pods: kube::Api<Pod> = kube::Api::namespaced(client.clone(), "default");
    let pdbs: kube::Api<PodDisruptionBudget> = kube::Api::namespaced(client.clone(), "default");
    let web = until(30, "the web pod bound and counted", || async {
        let s = pdbs.get("web").await.unwrap().status.unwrap_or_default();
        let l = pods.list(&kube::api::ListParams::default().labels("app=web")).await.map_err(|e| e.to_string())?;
        match l.items.into_iter().next() {
            Some(p) if s.current_healthy == 1 => Ok(p),
            _ => Err(format!("{s:?}")),
        }
    })
    .await;
    let node = web.spec.as_ref().unwrap().node_name.clone().unwrap();
    let run = |argv: Vec<String>| {
        let c = c.clone();
        async move {
            let f = Flags::parse_from(std::iter::once("drain".to_string()).chain(argv));
            let s = daemonscope::drain::settings(&f.args).unwrap();
            let mut out = Vec::new();
            let code = daemonscope::drain::run(&c, &f.args, &s, &mut out).await;
            (code, String::from_utf8(out).unwrap())
        }
    };
    let args =
        |extra: &[&str]| -> Vec<String> { [node.as_str(), "--ignore-daemonsets"].iter().chain(extra).map(|s| s.to_string()).collect() };
    let (code, out) = run(args(&["--timeout", "2s", "-o", "json"])).await;
    assert_eq!(code, 1, "{out}");
    let events: Vec<serde_json::Value> = out.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    let blocked = events.iter().find(|e| e["event"] == "blocked").unwrap_or_else(|| panic!("{out}"));
    let victim = format!("default/{}", web.metadata.name.as_deref().unwrap());
    assert_eq!(blocked["pod"], victim.as_str());
    assert_eq!(blocked["budgets"], serde_json::json!([{"name": "web", "disruptionsAllowed": 0}]));
    assert_eq!(blocked["message"], "Cannot evict pod as it would violate the pod's disruption budget.");
    assert!(events.iter().any(|e| e["event"] == "failed" && e["pod"] == victim.as_str()), "{out}");
    assert!(!events.iter().any(|e| e["event"] == "drained"), "{out}");

    let patch = serde_json::json!({"spec": {"minAvailable": 0}});
    pdbs.patch("web", &Default::default(), &kube::api::Patch::Merge(patch)).await.unwrap();
    until(30, "one disruption allowed", || async {
        let s = pdbs.get("web").await.unwrap().status.unwrap_or_default();
        if s.disruptions_allowed == 1 { Ok(()) } else { Err(format!("{s:?}")) }
    })
    .await;
    let (code, out) = run(args(&["--timeout", "30s"])).await;
    assert_eq!(code, 0, "{out}");
    let name = web.metadata.name.as_deref().unwrap();
    for want in [
        format!("node/{node} already cordoned"),
        format!("evicting pod {victim}"),
        format!("pod/{name} evicted"),
        format!("node/{node} drained"),
    ] {
        assert!(out.contains(&want), "{want:?} in:\n{out}");
    }
    assert!(out.contains("Warning: ignoring DaemonSet-managed Pods: kube-system/agent-"), "{out}");
}

/// The binary's `daemonscope drain`: kubectl's lines and exit 0 for a node it can empty;
/// the cluster flags before or after the subcommand; bad input one line and exit 2.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_binary_drains_a_node_and_says_bad_input_in_one_line() {
    let sim = serve(&cluster()).await;
    let client = client(&sim);
    let pods: kube::Api<Pod> = kube::Api::namespaced(client.clone(), "default");
    let web_on = until(30, "the web pod bound", || async {
        let l = pods.list(&kube::api::ListParams::default().labels("app=web")).await.map_err(|e| e.to_string())?;
        l.items.into_iter().find_map(|p| p.spec?.node_name).ok_or_else(|| "not bound".to_string())
    })
    .await;
    let node = ["node-a", "node-b", "node-c"].into_iter().find(|n| *n != web_on).unwrap();
    let (dir, kc) = kubeconfig_file(&sim, None);
    let run = |argv: &[&str]| {
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_daemonscope"))
            .args(argv)
            .env("XDG_STATE_HOME", dir.path())
            .env_remove("KUBECONFIG")
            .output()
            .unwrap();
        (out.status.code(), String::from_utf8_lossy(&out.stdout).into_owned(), String::from_utf8_lossy(&out.stderr).into_owned())
    };
    let (code, out, err) = tokio::task::block_in_place(|| run(&["drain", node, "--ignore-daemonsets", "--kubeconfig", &kc]));
    assert_eq!(code, Some(0), "{out}{err}");
    assert!(out.contains(&format!("node/{node} cordoned\n")) && out.ends_with(&format!("node/{node} drained\n")), "{out}");
    let nodes: kube::Api<Node> = kube::Api::all(client);
    assert_eq!(nodes.get(node).await.unwrap().spec.and_then(|s| s.unschedulable), Some(true));
    // The kubeconfig flag before the subcommand; a DaemonSet pod without --ignore-daemonsets
    // is refused as kubectl refuses it.
    let (code, out, _) = tokio::task::block_in_place(|| run(&["--kubeconfig", &kc, "drain", node]));
    assert_eq!(code, Some(1), "{out}");
    assert!(out.contains("cannot delete DaemonSet-managed Pods (use --ignore-daemonsets to ignore)"), "{out}");
    for (argv, want) in [
        (vec!["drain", node, "--pod-selector", "a in (", "--kubeconfig", &kc], "daemonscope: invalid --pod-selector: "),
        (vec!["-n", "default", "drain", node, "--kubeconfig", &kc], "daemonscope: --namespace does not apply to `daemonscope drain`"),
    ] {
        let (code, out, err) = tokio::task::block_in_place(|| run(&argv));
        assert_eq!(code, Some(2), "{argv:?}: {out}{err}");
        assert!(err.starts_with(want) && err.lines().count() == 1, "{argv:?}: {err}");
    }
}

/// Three nodes with the DaemonSet `agent`, and a ReplicaSet's two web pods spread over
/// node-a and node-b (the nodes are empty and tie: first by name).
async fn web_pods_on_a_and_b() -> (daemonscope::sim::Running, kube::Client, kube::Api<Pod>) {
    let yaml = format!(
        "{FAST}{}{}---\napiVersion: apps/v1\nkind: ReplicaSet\nmetadata: {{name: web, namespace: default}}\n\
         spec: {{replicas: 2, selector: {{matchLabels: {{app: web}}}}, template: {{metadata: {{labels: {{app: web}}}}, \
         spec: {{containers: [{{name: web, image: 'registry.example/web:v1'}}]}}}}}}\n",
        nodes_yaml(&["node-a", "node-b", "node-c"]),
        ds_yaml("agent", "{type: RollingUpdate}"),
    );
    let sim = serve(&yaml).await;
    let client = client(&sim);
    let pods: kube::Api<Pod> = kube::Api::namespaced(client.clone(), "default");
    until(30, "a web pod on node-a and on node-b", || async {
        let l = pods.list(&kube::api::ListParams::default().labels("app=web")).await.map_err(|e| e.to_string())?;
        let mut on: Vec<String> = l.items.iter().filter_map(|p| p.spec.as_ref().and_then(|s| s.node_name.clone())).collect();
        on.sort();
        if on == ["node-a", "node-b"] { Ok(()) } else { Err(format!("{on:?}")) }
    })
    .await;
    (sim, client, pods)
}

/// Several nodes: every one is cordoned before any pod is evicted, as kubectl drain does,
/// so a pod evicted from the first node is not placed on the second only to be evicted
/// again (each web pod is evicted once).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn several_nodes_are_all_cordoned_first_so_no_pod_is_evicted_twice() {
    use clap::Parser;
    let (sim, client, pods) = web_pods_on_a_and_b().await;
    let f = Flags::parse_from(["drain", "node-a", "node-b", "--ignore-daemonsets"]);
    let s = daemonscope::drain::settings(&f.args).unwrap();
    let mut out = Vec::new();
    let code = daemonscope::drain::run(&client.clone().into(), &f.args, &s, &mut out).await;
    let out = String::from_utf8(out).unwrap();
    assert_eq!(code, 0, "{out}");
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(&lines[..2], ["node/node-a cordoned", "node/node-b cordoned"], "{out}");
    assert!(out.contains("node/node-a drained") && out.contains("node/node-b drained"), "{out}");
    let evictions = sim.api.request_log().iter().filter(|r| r.method == "POST" && r.path.ends_with("/eviction") && r.status == 201).count();
    assert_eq!(evictions, 2, "each web pod evicted once: {out}");
    let l = pods.list(&kube::api::ListParams::default().labels("app=web")).await.unwrap();
    assert!(
        l.items
            .iter()
            .filter(|p| p.metadata.deletion_timestamp.is_none())
            .all(|p| p.spec.as_ref().unwrap().node_name.as_deref() != Some("node-b"))
    );
}

/// The TUI's drain of several marked nodes (`D` on marked nodes) cordons them all before
/// it drains the first, as `daemonscope drain NODE…` does: a pod evicted from node-a is
/// not placed on node-b only to be evicted again.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_tuis_drain_of_marked_nodes_cordons_them_all_first() {
    use daemonscope::cluster::drain_job::{DrainStatus, run};
    let (sim, client, _) = web_pods_on_a_and_b().await;
    let status = std::sync::Arc::new(std::sync::Mutex::new(DrainStatus::new(&["node-a".into(), "node-b".into()], false)));
    run(client.clone().into(), status.clone(), daemonscope::cluster::drain::PauseSwitch::new().1, |_| {}).await;
    let end = status.lock().unwrap().clone();
    assert!(end.finished && end.line().starts_with("drain: 2 of 2 node(s) drained"), "{}", end.line());
    let log = sim.api.request_log();
    let evictions = log.iter().filter(|r| r.method == "POST" && r.path.ends_with("/eviction") && r.status == 201).count();
    assert_eq!(evictions, 2, "each web pod evicted once");
    // Both cordons come before the first eviction.
    let first_eviction = log.iter().position(|r| r.path.ends_with("/eviction")).unwrap();
    let cordons = log.iter().take(first_eviction).filter(|r| r.method == "PATCH" && r.path.contains("/nodes/")).count();
    assert_eq!(cordons, 2);
}

//! `status --joins` against a running simulator: a node joins, the report names it with
//! its timeline; a node whose startup taint nobody removes is overdue (exit 1).

use crate::common::*;
use crate::sim_joins::{burst, cluster_pulling};

use daemonscope::cli::{JoinArgs, Output};
use daemonscope::sim::scenario::Action;
use k8s_openapi::api::core::v1::{Node, Pod};
use serde_json::Value;

fn join_args(usable_timeout: u64) -> JoinArgs {
    JoinArgs { joins: true, usable_timeout: std::time::Duration::from_secs(usable_timeout), judged: Default::default() }
}

async fn status(r: &daemonscope::sim::Running, args: &JoinArgs, output: Output) -> (i32, String) {
    let client = kube::Client::new(r.router(), "default");
    let settings = daemonscope::status::joins::settings(args);
    let mut out = Vec::new();
    let code = daemonscope::status::joins::run(
        client.into(),
        "sim".into(),
        Default::default(),
        settings,
        output,
        Some(std::time::Duration::from_secs(20)),
        &mut out,
    )
    .await;
    (code, String::from_utf8(out).unwrap())
}

fn untainted_with_web(r: &daemonscope::sim::Running, node: &str) -> Result<(), String> {
    let n = r.store.get::<Node>("", node).ok_or("no node")?;
    let taints = n.spec.as_ref().and_then(|s| s.taints.clone()).unwrap_or_default();
    let web = r
        .store
        .list::<Pod>(Some("default"))
        .0
        .iter()
        .filter(|p| p.spec.as_ref().and_then(|s| s.node_name.as_deref()) == Some(node))
        .count();
    if taints.is_empty() && web == 3 { Ok(()) } else { Err(format!("taints {taints:?}, {web} web pods")) }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_joined_node_is_reported_with_its_timeline() {
    let sim = build(&cluster_pulling(true, "2s"));
    sim.apply(&Action::Join(burst("burst-1", &[]))).unwrap();
    let r = sim.spawn();
    until(60, "burst-1 untainted, the workload on it", || async { untainted_with_web(&r, "burst-1") }).await;
    let (code, json) = status(&r, &join_args(600), Output::Json).await;
    assert_eq!(code, 0, "{json}");
    let v: Value = serde_json::from_str(&json).unwrap();
    let nodes = v["nodes"].as_array().unwrap();
    assert_eq!(nodes.len(), 1, "only the joined node is in the window: {json}");
    let n = &nodes[0];
    assert_eq!(n["node"], "burst-1");
    assert_eq!(n["ready_known"], "condition", "already Ready when status started");
    assert!(n["usable_seconds"].as_i64().is_some_and(|s| s >= 3), "{n}");
    assert_eq!(n["daemonsets"][0]["name"], "cni");
    assert_eq!(n["daemonsets"][0]["critical"], true);
    assert_eq!(n["problems"], serde_json::json!([]));
    let (_, table) = status(&r, &join_args(600), Output::Table).await;
    assert!(table.starts_with("NODE     AGE"), "{table}");
    assert!(table.lines().nth(1).is_some_and(|l| l.starts_with("burst-1")), "{table}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_node_not_usable_in_time_fails_the_report() {
    let sim = build(&cluster_pulling(true, "1s"));
    sim.apply(&Action::Join(burst("burst-1", &["example.com/gpu-not-ready:NoSchedule"]))).unwrap();
    let r = sim.spawn();
    until(60, "the CNI's taint gone, the other one left", || async {
        let n = r.store.get::<Node>("", "burst-1").ok_or_else(|| "no node".to_string())?;
        let keys: Vec<String> = n.spec.as_ref().and_then(|s| s.taints.clone()).unwrap_or_default().into_iter().map(|t| t.key).collect();
        if keys == ["example.com/gpu-not-ready"] { Ok(()) } else { Err(format!("{keys:?}")) }
    })
    .await;
    let (code, json) = status(&r, &join_args(1), Output::Json).await;
    assert_eq!(code, 1, "{json}");
    let v: Value = serde_json::from_str(&json).unwrap();
    assert_eq!(v["nodes"][0]["overdue"], true);
    assert!(v["nodes"][0]["usable"].is_null());
    let (code, table) = status(&r, &join_args(1), Output::Table).await;
    assert_eq!(code, 1);
    assert!(table.contains("OVERDUE"), "{table}");
}

/// `critical = [...]` in the config is checked as `--critical` is, line and key named.
#[test]
fn the_configs_critical_list_is_checked() {
    let s = daemonscope::config::parse("critical = [\"kube-system/cilium\"]\n", "c.toml").unwrap();
    assert_eq!(s.prefs.critical, ["kube-system/cilium"]);
    let e = daemonscope::config::parse("mouse = true\ncritical = [\"cilium\"]\n", "c.toml").unwrap_err();
    assert_eq!(e, "c.toml:2: key 'critical': \"cilium\": a critical DaemonSet is NAMESPACE/NAME (e.g. kube-system/cilium)");
}

/// `serve`'s joins metrics on a simulated join: the histograms observe each node and
/// DaemonSet once, the workload pods that beat the CNI are counted once each, a startup
/// taint nobody removes is named, and a node not usable shows its age.
#[test]
fn serve_exposes_the_joins() {
    use crate::sim_joins::{cluster, watch_changes};
    use daemonscope::cluster::watch::Update;
    let mut sim = build(&cluster(false));
    // The simulated time runs 250 s behind the wall clock the model and the scrape read:
    // the joins are first seen fresh (within 5 minutes), and 200 simulated seconds later
    // they are in the scrape's past.
    sim.store.set_clock_offset(-250);
    let state = daemonscope::serve::State::new("sim".into(), 1000, Default::default());
    state.apply(watch_changes(&sim).into_iter().map(Update::Change).collect());
    sim.apply(&Action::Join(burst("burst-1", &[]))).unwrap();
    sim.apply(&Action::Join(burst("burst-2", &["example.com/gpu-not-ready:NoSchedule"]))).unwrap();
    for _ in 0..200 {
        sim.advance(1);
        state.apply(watch_changes(&sim).into_iter().map(Update::Change).collect());
    }
    let scrape = daemonscope::serve::metrics::render(&state, false);
    let line = |prefix: &str| scrape.lines().find(|l| l.starts_with(prefix)).map(String::from);
    assert_eq!(
        line("daemonscope_node_join_seconds_count{stage=\"ready\"}").as_deref(),
        Some("daemonscope_node_join_seconds_count{stage=\"ready\"} 2"),
        "{scrape}"
    );
    assert_eq!(
        line("daemonscope_node_join_seconds_count{stage=\"usable\"}").as_deref(),
        Some("daemonscope_node_join_seconds_count{stage=\"usable\"} 1")
    );
    assert!(line("daemonscope_daemonset_join_ready_seconds_count{namespace=\"kube-system\",daemonset=\"cni\"} 2").is_some(), "{scrape}");
    assert_eq!(
        line("daemonscope_workload_pods_before_critical_total").as_deref(),
        Some("daemonscope_workload_pods_before_critical_total 3")
    );
    assert!(
        line("daemonscope_node_startup_taint_outlived{node=\"burst-2\",taint=\"example.com/gpu-not-ready:NoSchedule\"} 1").is_some(),
        "{scrape}"
    );
    assert!(
        line("daemonscope_node_not_usable_seconds{node=\"burst-2\"}").is_some()
            && line("daemonscope_node_not_usable_seconds{node=\"burst-1\"}").is_none()
    );
    // Scraped again: nothing is observed twice.
    let again = daemonscope::serve::metrics::render(&state, false);
    assert!(
        again.contains("daemonscope_node_join_seconds_count{stage=\"ready\"} 2")
            && again.contains("daemonscope_workload_pods_before_critical_total 3")
    );
    if let Some(promtool) = which_promtool() {
        let mut c = std::process::Command::new(promtool)
            .args(["check", "metrics"])
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        use std::io::Write;
        c.stdin.take().unwrap().write_all(again.as_bytes()).unwrap();
        let o = c.wait_with_output().unwrap();
        let err = String::from_utf8_lossy(&o.stderr);
        assert!(
            !err.contains("daemonscope_node_join") && !err.contains("startup_taint") && !err.contains("before_critical"),
            "promtool check metrics: {err}"
        );
    }
}

fn which_promtool() -> Option<std::path::PathBuf> {
    std::env::var_os("PATH").and_then(|p| std::env::split_paths(&p).map(|d| d.join("promtool")).find(|p| p.is_file()))
}

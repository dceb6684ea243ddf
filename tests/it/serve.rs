//! `daemonscope serve` with real components: Prometheus (the distribution's package)
//! scrapes it running against the simulator and finds the demo's crash-looping node, and
//! the series move after `kubectl label`; `promtool check metrics` on a scrape; `promtool
//! test rules` on the PrometheusRule; the ClusterRole is exactly what serve watches and
//! serve works under a token bound only to it; bad input is one line and exit 2; through
//! an outage it keeps serving with `watch_up 0` and `/readyz` 503; SIGTERM ends it.

use crate::common;

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use daemonscope::cli::ServeArgs;
use daemonscope::cluster::watch::Scope;
use serde_json::Value;

pub(crate) const DEMO: &str = include_str!("../../assets/scenarios/demo.yaml");
const DEPLOY: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/assets/deploy");

/// A plain HTTP/1.0 GET on loopback: (status, body).
pub(crate) async fn get(addr: &str, path: &str, accept: Option<&str>) -> Option<(u16, String)> {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut s = tokio::time::timeout(Duration::from_secs(5), tokio::net::TcpStream::connect(addr)).await.ok()?.ok()?;
    let accept = accept.map(|a| format!("Accept: {a}\r\n")).unwrap_or_default();
    s.write_all(format!("GET {path} HTTP/1.0\r\nHost: {addr}\r\n{accept}\r\n").as_bytes()).await.ok()?;
    let mut buf = Vec::new();
    tokio::time::timeout(Duration::from_secs(10), s.read_to_end(&mut buf)).await.ok()?.ok()?;
    let text = String::from_utf8_lossy(&buf).into_owned();
    let (head, body) = text.split_once("\r\n\r\n")?;
    let code = head.split_whitespace().nth(1)?.parse().ok()?;
    Some((code, body.to_string()))
}

/// A tool from the distribution's `prometheus` package, or None (loudly: the test skips).
pub(crate) fn tool(name: &str) -> Option<PathBuf> {
    match Command::new(name).arg("--version").output() {
        Ok(o) if o.status.success() => Some(PathBuf::from(name)),
        _ => {
            eprintln!("\n!!!!!!!! SKIPPED: {name} not found (apt-get install prometheus; .ci/run does); this test did not run !!!!!!!!\n");
            None
        }
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

/// A child process killed when dropped.
pub(crate) struct Kill(Child);

impl Drop for Kill {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// `daemonscope serve` as a process against `kubeconfig`, listening on a free port;
/// returns it and its address (read from its first line).
fn spawn_serve(kubeconfig: &Path, extra: &[&str]) -> (Kill, String) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_daemonscope"))
        .arg("--kubeconfig")
        .arg(kubeconfig)
        .args(["serve", "--listen", "127.0.0.1:0"])
        .args(extra)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("serve starts");
    let mut lines = BufReader::new(child.stderr.take().unwrap()).lines();
    let first = lines.next().expect("a first line").expect("utf-8");
    let addr = first.split("http://").nth(1).and_then(|s| s.strip_suffix("/metrics")).unwrap_or_else(|| panic!("{first}")).to_string();
    // Keep draining stderr so the process never blocks on a full pipe.
    std::thread::spawn(move || for _ in lines {});
    (Kill(child), addr)
}

pub(crate) async fn wait_ready(addr: &str, secs: u64) {
    common::eventually(secs, "serve's /readyz answers 200", || async {
        get(addr, "/readyz", None).await.filter(|r| r.0 == 200).map(|_| ())
    })
    .await;
}

/// Prometheus on loopback, scraping `target` every second, with its data in `dir`.
pub(crate) fn spawn_prometheus(bin: &Path, dir: &Path, target: &str) -> (Kill, String) {
    let port = free_port();
    let cfg = format!(
        "global: {{scrape_interval: 1s, evaluation_interval: 1s}}\nscrape_configs:\n- job_name: daemonscope\n  static_configs:\n  - targets: ['{target}']\n"
    );
    std::fs::write(dir.join("prometheus.yml"), cfg).unwrap();
    let child = Command::new(bin)
        .arg(format!("--config.file={}", dir.join("prometheus.yml").display()))
        .arg(format!("--storage.tsdb.path={}", dir.join("data").display()))
        .arg(format!("--web.listen-address=127.0.0.1:{port}"))
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(dir.join("prometheus.log")).unwrap())
        .spawn()
        .expect("prometheus starts");
    (Kill(child), format!("127.0.0.1:{port}"))
}

fn urlencode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// The result vector of an instant query through Prometheus's HTTP API.
pub(crate) async fn query(prom: &str, q: &str) -> Option<Vec<Value>> {
    let (code, body) = get(prom, &format!("/api/v1/query?query={}", urlencode(q)), None).await?;
    let v: Value = serde_json::from_str(&body).ok()?;
    (code == 200 && v["status"] == "success").then(|| v["data"]["result"].as_array().cloned().unwrap_or_default())
}

fn value(sample: &Value) -> &str {
    sample["value"][1].as_str().unwrap_or("")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn prometheus_scrapes_serve_and_finds_the_crash_looping_node_then_follows_a_label_change() {
    let (Some(prometheus), Some(promtool), Some(kubectl)) = (tool("prometheus"), tool("promtool"), common::kubectl_bin()) else {
        return;
    };
    let sim = common::serve(DEMO).await;
    let k = common::Kubectl::new(kubectl, &sim, None);
    let (_serve, addr) = spawn_serve(&k.dir.path().join("config"), &[]);
    wait_ready(&addr, 30).await;

    // promtool (2.x reads the Prometheus text format) checks a scrape; OpenMetrics when asked.
    let (code, body) = get(&addr, "/metrics", None).await.expect("scrape");
    assert_eq!(code, 200);
    let mut check = Command::new(&promtool)
        .args(["check", "metrics"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    std::io::Write::write_all(&mut check.stdin.take().unwrap(), body.as_bytes()).unwrap();
    let out = check.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "promtool check metrics: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    let (_, om) = get(&addr, "/metrics", Some("application/openmetrics-text; version=1.0.0")).await.expect("scrape");
    assert!(om.ends_with("# EOF\n") && om.contains("daemonscope_api_requests_total"), "{om}");

    let dir = tempfile::tempdir().unwrap();
    let (_prom, prom) = spawn_prometheus(&prometheus, dir.path(), &addr);
    let crash =
        r#"daemonscope_daemonset_node_problem{namespace="monitoring",daemonset="node-exporter",node="general-c-0003",reason="crashloop"}"#;
    let found = common::eventually(120, "Prometheus has node-exporter crash-looping on general-c-0003", || async {
        query(&prom, crash).await.and_then(|r| r.into_iter().find(|s| value(s) == "1"))
    })
    .await;
    assert_eq!(found["metric"]["state"], "failing", "{found}");
    assert_eq!(found["metric"]["job"], "daemonscope");

    // A label puts general-c-0003 in the GPU DaemonSet's selector: its desired and ready
    // series move up by one, and back down when the label goes.
    let series = |q: &'static str| {
        let prom = prom.clone();
        async move { query(&prom, q).await.and_then(|r| r.first().map(|s| value(s).parse::<f64>().unwrap_or(-1.0))) }
    };
    let desired = r#"daemonscope_daemonset_desired_nodes{daemonset="nvidia-device-plugin"}"#;
    let ready = r#"daemonscope_daemonset_nodes{daemonset="nvidia-device-plugin",state="ready"}"#;
    let before = common::eventually(60, "the GPU DaemonSet's counts", || async {
        let (d, r) = (series(desired).await?, series(ready).await?);
        (d == r).then_some(d)
    })
    .await;
    k.ok_async(&["label", "node", "general-c-0003", "accelerator=nvidia"]).await;
    common::eventually(120, "the GPU DaemonSet desired and ready on one more node", || async {
        (series(desired).await? == before + 1.0 && series(ready).await? == before + 1.0).then_some(())
    })
    .await;
    k.ok_async(&["label", "node", "general-c-0003", "accelerator-"]).await;
    common::eventually(120, "the GPU DaemonSet back to its nodes", || async {
        (series(desired).await? == before && series(ready).await? == before).then_some(())
    })
    .await;
    let gpu = r#"daemonscope_daemonset_node_problem{daemonset="nvidia-device-plugin",node="general-c-0003"}"#;
    common::eventually(60, "no GPU DaemonSet series left on general-c-0003", || async {
        query(&prom, gpu).await.filter(|r| r.is_empty()).map(|_| ())
    })
    .await;
    // The crash loop of node-exporter is still there.
    assert!(query(&prom, crash).await.is_some_and(|r| r.iter().any(|s| value(s) == "1")));
}

/// `promtool test rules` on the PrometheusRule's groups, with the tests kept beside it.
#[test]
fn the_prometheus_rule_alerts_pass_their_unit_tests() {
    let Some(promtool) = tool("promtool") else { return };
    let rule: Value = serde_saphyr::from_str(&std::fs::read_to_string(format!("{DEPLOY}/06-prometheusrule.yaml")).unwrap()).unwrap();
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("rules.yaml"), serde_json::to_string(&rule["spec"]).unwrap()).unwrap();
    std::fs::copy(format!("{DEPLOY}/tests/prometheusrule.test.yaml"), dir.path().join("test.yaml")).unwrap();
    let alerts: Vec<&str> = rule["spec"]["groups"][0]["rules"].as_array().unwrap().iter().filter_map(|r| r["alert"].as_str()).collect();
    assert_eq!(
        alerts,
        ["DaemonSetNodeNotCovered", "DaemonSetRolloutStalled", "DaemonSetMisscheduled", "DaemonscopeWatchDown", "NodeJoinNotUsable"]
    );
    let tests = std::fs::read_to_string(dir.path().join("test.yaml")).unwrap();
    for a in &alerts {
        assert!(tests.contains(&format!("alertname: {a}")), "{a} has a unit test");
    }
    for args in [&["check", "rules", "rules.yaml"][..], &["test", "rules", "test.yaml"][..]] {
        let o = Command::new(&promtool).args(args).current_dir(dir.path()).output().unwrap();
        assert!(o.status.success(), "promtool {args:?}: {}{}", String::from_utf8_lossy(&o.stdout), String::from_utf8_lossy(&o.stderr));
    }
}

/// The ClusterRole's rules as (apiGroup, resource) pairs, and the verbs of each rule.
fn cluster_role() -> (Vec<(String, String)>, Vec<Vec<String>>) {
    let role: Value = serde_saphyr::from_str(&std::fs::read_to_string(format!("{DEPLOY}/01-clusterrole.yaml")).unwrap()).unwrap();
    let mut pairs = Vec::new();
    let mut verbs = Vec::new();
    for r in role["rules"].as_array().unwrap() {
        let strs = |k: &str| r[k].as_array().unwrap().iter().map(|v| v.as_str().unwrap().to_string()).collect::<Vec<_>>();
        for g in strs("apiGroups") {
            for res in strs("resources") {
                pairs.push((g.clone(), res));
            }
        }
        verbs.push(strs("verbs"));
    }
    pairs.sort();
    (pairs, verbs)
}

/// serve in-process against `sim` with `token`, on a free port; stops when dropped.
async fn serve_in_process(sim: &daemonscope::sim::Running, token: Option<&str>) -> (tokio::sync::oneshot::Sender<()>, String) {
    serve_capped(sim, token, 1000).await
}

/// serve in-process with `--max-node-series cap`.
async fn serve_capped(sim: &daemonscope::sim::Running, token: Option<&str>, cap: usize) -> (tokio::sync::oneshot::Sender<()>, String) {
    serve_with(sim, token, ServeArgs { listen: "127.0.0.1:0".into(), max_node_series: cap, ksm_compat: false, joins: Default::default() })
        .await
}

/// serve in-process with these flags.
pub(crate) async fn serve_with(
    sim: &daemonscope::sim::Running,
    token: Option<&str>,
    args: ServeArgs,
) -> (tokio::sync::oneshot::Sender<()>, String) {
    let listener = daemonscope::serve::bind(&args).unwrap();
    let addr = listener.local_addr().unwrap().to_string();
    let cluster = common::cluster_with_token(sim, token);
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    tokio::spawn(async move {
        daemonscope::serve::run(cluster, "test".into(), Scope::default(), &args, listener, async move {
            let _ = stopped.await;
        })
        .await
    });
    (stop, addr)
}

fn scenario_with_rules(rules: &str) -> String {
    format!(
        "{}{}---
apiVersion: sim.daemonscope.io/v1alpha1
kind: Simulation
settings:
  startDelay: 300ms
  readyDelay: 200ms
  tokens:
  - {{token: scoped-token-1, user: 'system:serviceaccount:monitoring:daemonscope', rules: [{rules}]}}
",
        common::nodes_yaml(&["node-a", "node-b"]),
        common::ds_yaml("agent", "{type: RollingUpdate}")
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_cluster_role_grants_exactly_what_serve_watches_and_serve_works_under_it() {
    let (pairs, verbs) = cluster_role();
    let mut watched: Vec<(String, String)> = daemonscope::serve::WATCHED.iter().map(|w| (w.1.to_string(), w.2.to_string())).collect();
    watched.sort();
    assert_eq!(pairs, watched, "the ClusterRole names exactly the resources serve watches");
    for v in &verbs {
        assert_eq!(v, &["get", "list", "watch"], "read access only");
    }
    // The simulator's RBAC has no API groups: the role's resources, with its verbs.
    let resources: Vec<String> = pairs.iter().map(|p| format!("'{}'", p.1)).collect();
    let rule = |res: &[String]| format!("{{verbs: [get, list, watch], resources: [{}]}}", res.join(", "));
    let sim = common::serve(&scenario_with_rules(&rule(&resources))).await;
    let (_stop, addr) = serve_in_process(&sim, Some("scoped-token-1")).await;
    wait_ready(&addr, 30).await;
    let (_, body) = get(&addr, "/metrics", None).await.unwrap();
    assert!(body.contains(r#"daemonscope_daemonset_desired_nodes{namespace="kube-system",daemonset="agent"} 2"#), "{body}");
    assert!(!body.contains(r#"code="403""#), "no request was refused: {body}");
    let (code, status) = get(&addr, "/api/v1/status", None).await.unwrap();
    assert_eq!(code, 200);
    let v: Value = serde_json::from_str(&status).unwrap();
    assert_eq!(v["daemonsets"][0]["name"], "agent");

    // Less than the role (no pods): serve is not ready and says which watch lags.
    let less: Vec<String> = resources.iter().filter(|r| !r.contains("pods")).cloned().collect();
    let sim2 = common::serve(&scenario_with_rules(&rule(&less))).await;
    let (_stop2, addr2) = serve_in_process(&sim2, Some("scoped-token-1")).await;
    let why = common::eventually(30, "/readyz names the forbidden watch", || async {
        get(&addr2, "/readyz", None).await.filter(|r| r.0 == 503 && r.1.contains("pods")).map(|r| r.1)
    })
    .await;
    assert!(why.contains("watch of pods"), "{why}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn through_an_outage_serve_keeps_serving_with_watch_up_0_and_readyz_503() {
    let sim =
        common::serve(&format!("{}{}{}", common::FAST, common::nodes_yaml(&["node-a"]), common::ds_yaml("agent", "{type: RollingUpdate}")))
            .await;
    let (_stop, addr) = serve_in_process(&sim, sim.token.as_deref()).await;
    wait_ready(&addr, 30).await;
    sim.api.faults.set_down(true);
    let why = common::eventually(30, "/readyz 503 during the outage", || async {
        get(&addr, "/readyz", None).await.filter(|r| r.0 == 503).map(|r| r.1)
    })
    .await;
    assert!(why.starts_with("not ready: watch of "), "{why}");
    let body = common::eventually(30, "watch_up 0 in the scrape", || async {
        get(&addr, "/metrics", None).await.map(|r| r.1).filter(|b| b.contains(r#"daemonscope_watch_up{resource="pods"} 0"#))
    })
    .await;
    // What it knew is still served.
    assert!(body.contains(r#"daemonscope_daemonset_desired_nodes{namespace="kube-system",daemonset="agent"} 1"#), "{body}");
    assert_eq!(get(&addr, "/healthz", None).await.map(|r| r.0), Some(200));
    sim.api.faults.set_down(false);
    wait_ready(&addr, 60).await;
    let (_, body) = get(&addr, "/metrics", None).await.unwrap();
    assert!(body.contains(r#"daemonscope_watch_up{resource="pods"} 1"#), "{body}");
}

#[test]
fn bad_input_is_one_line_and_exit_2() {
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let taken = taken.local_addr().unwrap().to_string();
    let cases: Vec<(Vec<&str>, &str)> = vec![
        (vec!["serve", "--listen", &taken], "cannot listen on"),
        (vec!["serve", "--listen", "nonsense"], "invalid --listen address"),
        (vec!["serve", "--listen", "127.0.0.1:99999"], "invalid --listen address"),
        (vec!["serve", "-l", "app in (a"], "invalid -l selector"),
    ];
    for (args, want) in cases {
        let o = Command::new(env!("CARGO_BIN_EXE_daemonscope")).args(&args).env("KUBECONFIG", "/nonexistent/kubeconfig").output().unwrap();
        let err = String::from_utf8_lossy(&o.stderr);
        assert_eq!(o.status.code(), Some(2), "{args:?}: {err}");
        assert_eq!(err.lines().count(), 1, "{args:?}: one line: {err}");
        assert!(err.starts_with("daemonscope: ") && err.contains(want), "{args:?}: {err}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_ends_serve_within_5_seconds_even_with_a_scraper_connected() {
    let sim =
        common::serve(&format!("{}{}{}", common::FAST, common::nodes_yaml(&["node-a"]), common::ds_yaml("agent", "{type: RollingUpdate}")))
            .await;
    let dir = tempfile::tempdir().unwrap();
    let kc = dir.path().join("config");
    daemonscope::sim::write_kubeconfig(&kc, sim.url(), sim.ca_pem.as_deref(), sim.token.as_deref()).unwrap();
    let (mut serve, addr) = spawn_serve(&kc, &[]);
    wait_ready(&addr, 30).await;
    // An idle keep-alive connection, as Prometheus holds one.
    let mut held = tokio::net::TcpStream::connect(&addr).await.unwrap();
    tokio::io::AsyncWriteExt::write_all(&mut held, format!("GET /healthz HTTP/1.1\r\nHost: {addr}\r\n\r\n").as_bytes()).await.unwrap();
    let pid = serve.0.id().to_string();
    assert!(Command::new("kill").args(["-TERM", &pid]).status().unwrap().success());
    let deadline = Instant::now() + Duration::from_secs(5);
    let status = loop {
        if let Some(s) = serve.0.try_wait().unwrap() {
            break Some(s);
        }
        if Instant::now() > deadline {
            break None;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    let status = status.expect("serve ended within 5 s of SIGTERM");
    assert_eq!(status.code(), Some(0), "a clean exit");
    drop(held);
}

/// The metrics that follow time: a node joining while serving gets its time to coverage
/// in the histogram; a rollout shows its progress and start, and finishes at ratio 1; and
/// `/api/v1/status` is the JSON `daemonscope status -o json` prints for the same cluster.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn time_to_coverage_rollouts_and_the_status_json() {
    use daemonscope::sim::kind::Kind;
    use daemonscope::sim::scenario::Action;
    let sim = common::serve(&format!(
        "{}{}{}{}",
        common::FAST,
        common::registry_yaml(&["registry.example/agent:v2"]),
        common::nodes_yaml(&["node-a"]),
        common::ds_yaml("agent", "{type: RollingUpdate}")
    ))
    .await;
    let (_stop, addr) = serve_in_process(&sim, sim.token.as_deref()).await;
    wait_ready(&addr, 30).await;
    let metric = |name: &'static str| {
        let addr = addr.clone();
        async move {
            let (_, body) = get(&addr, "/metrics", None).await?;
            body.lines().find(|l| l.starts_with(name)).and_then(|l| l.rsplit(' ').next()).and_then(|v| v.parse::<f64>().ok())
        }
    };
    // A node joins: its daemon pod becomes Ready, and the histogram counts it.
    let joined = serde_json::json!({"apiVersion": "v1", "kind": "Node", "metadata": {"name": "node-b", "labels": {"pool": "general"}}});
    daemonscope::sim::create_value(&sim.store, Kind::Node, joined).unwrap();
    let count = r#"daemonscope_node_time_to_coverage_seconds_count{namespace="kube-system",daemonset="agent"}"#;
    common::eventually(30, "the joined node in the time-to-coverage histogram", || async { metric(count).await.filter(|c| *c >= 1.0) })
        .await;
    // A rollout: it starts (a start timestamp), and ends at progress 1.
    let patch =
        serde_json::json!({"spec": {"template": {"spec": {"containers": [{"name": "agent", "image": "registry.example/agent:v2"}]}}}});
    daemonscope::sim::apply_action(
        &sim.store,
        &Action::Patch { kind: Kind::DaemonSet, namespace: "kube-system".into(), name: "agent".into(), patch },
    )
    .unwrap();
    let started = r#"daemonscope_daemonset_rollout_started_timestamp_seconds{namespace="kube-system",daemonset="agent"}"#;
    let t0 = jiff::Timestamp::now().as_second() as f64 - 5.0;
    common::eventually(30, "the new revision's start time", || async { metric(started).await.filter(|t| *t >= t0) }).await;
    let ratio = r#"daemonscope_daemonset_rollout_progress_ratio{namespace="kube-system",daemonset="agent"}"#;
    common::eventually(60, "the rollout finished", || async { metric(ratio).await.filter(|r| *r == 1.0) }).await;
    let stalled = r#"daemonscope_daemonset_rollout_stalled{namespace="kube-system",daemonset="agent"}"#;
    assert_eq!(metric(stalled).await, Some(0.0));
    // /api/v1/status is status -o json.
    let dir = tempfile::tempdir().unwrap();
    let kc = dir.path().join("config");
    daemonscope::sim::write_kubeconfig(&kc, sim.url(), sim.ca_pem.as_deref(), sim.token.as_deref()).unwrap();
    let kc = kc.to_str().unwrap().to_string();
    let cli = tokio::task::spawn_blocking(move || {
        Command::new(env!("CARGO_BIN_EXE_daemonscope")).args(["status", "-o", "json", "--kubeconfig", &kc]).output().unwrap()
    })
    .await
    .unwrap();
    let from_cli: Value = serde_json::from_slice(&cli.stdout).unwrap();
    let (code, body) = get(&addr, "/api/v1/status", None).await.unwrap();
    assert_eq!(code, 200);
    let mut from_serve: Value = serde_json::from_str(&body).unwrap();
    // The same report; only the context's name differs (the CLI's comes from the kubeconfig).
    from_serve["context"] = from_cli["context"].clone();
    assert_eq!(from_serve, from_cli);
}

/// A cap on the node series keeps the worst problems — the crash-looping node's, never
/// the outdated pods of an OnDelete backlog — and counts what it left out per state; the
/// scrape carries build_info, its samples in a stable order, ratios without 17 digits.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_capped_scrape_keeps_the_worst_problems_and_counts_the_rest_by_state() {
    let sim = common::serve(DEMO).await;
    let (_stop, addr) = serve_capped(&sim, sim.token.as_deref(), 3).await;
    let series = |body: &str, name: &str| -> Vec<String> {
        body.lines().filter(|l| l.starts_with(&format!("{name}{{"))).map(String::from).collect()
    };
    let body = common::until(60, "the crash-looping node in a capped scrape", || async {
        let (_, body) = get(&addr, "/metrics", None).await.ok_or("no answer")?;
        let kept = series(&body, "daemonscope_daemonset_node_problem");
        let crash = kept.iter().any(|l| l.contains("node=\"general-c-0003\"") && l.contains("state=\"failing\""));
        if crash && kept.len() == 3 { Ok(body) } else { Err(kept.join("\n")) }
    })
    .await;
    let kept = series(&body, "daemonscope_daemonset_node_problem");
    assert!(kept.iter().all(|l| !l.contains("state=\"outdated\"")), "{kept:?}");
    let dropped = series(&body, "daemonscope_node_series_dropped");
    assert!(!dropped.is_empty() && dropped.iter().all(|l| l.contains("state=\"")), "{dropped:?}");
    assert!(dropped.iter().all(|l| !l.contains("state=\"outdated\"")), "outdated pods get no series to drop: {dropped:?}");
    assert!(body.contains(&format!("daemonscope_build_info{{version=\"{}\",revision=\"", env!("CARGO_PKG_VERSION"))), "{body}");
    // Each family's samples in label order, every scrape the same.
    for family in ["daemonscope_daemonset_nodes", "daemonscope_daemonset_node_problem", "daemonscope_daemonset_desired_nodes"] {
        let lines = series(&body, family);
        let mut sorted = lines.clone();
        sorted.sort();
        assert_eq!(lines, sorted, "{family}");
    }
    for l in series(&body, "daemonscope_daemonset_rollout_progress_ratio") {
        let v = l.rsplit(' ').next().unwrap();
        assert!(v.len() <= 6, "a ratio with the precision it has: {l}");
    }
}

/// `serve --joins-since 30m --critical kube-system/cni` judges the joins as `status
/// --joins` does with the same flags (one clap struct for both).
#[test]
fn serve_takes_the_joins_flags_of_status() {
    use clap::Parser;
    #[derive(Parser)]
    struct Serve {
        #[command(flatten)]
        args: ServeArgs,
    }
    let args = Serve::try_parse_from(["serve", "--joins-since", "30m", "--critical", "kube-system/cni", "--critical", "logging/logs"])
        .unwrap()
        .args;
    let state = daemonscope::serve::state_for("test".into(), &args, Default::default());
    let s = &state.joins.settings;
    assert_eq!(
        (s.since, s.critical.as_slice()),
        (std::time::Duration::from_secs(1800), &["kube-system/cni".to_string(), "logging/logs".into()][..])
    );
    assert_eq!(*s, daemonscope::status::joins::judged(&args.joins), "judged as status judges");
    let defaults = Serve::try_parse_from(["serve"]).unwrap().args;
    assert_eq!(daemonscope::serve::state_for("t".into(), &defaults, Default::default()).joins.settings, Default::default());
    let bad = Serve::try_parse_from(["serve", "--critical", "cni"]).err().unwrap().to_string();
    assert!(bad.contains("a critical DaemonSet is NAMESPACE/NAME"), "{bad}");
}

/// `/readyz` waits for the workload pods' watch too: until it has listed, serve is not
/// ready, and says which watch it waits for.
#[test]
fn readyz_waits_for_the_workload_pods_watch() {
    use daemonscope::cluster::watch::{SyncState, Update};
    use daemonscope::model::Resource;
    let state = daemonscope::serve::State::new("test".into(), 1000, Default::default());
    state.apply(daemonscope::serve::WATCHED.iter().map(|w| Update::Sync(w.0, SyncState::Live)).collect());
    assert_eq!(state.lagging(), ["workloads: initial list not complete"]);
    state.apply(vec![Update::Sync(Resource::Workloads, SyncState::Live)]);
    assert!(state.lagging().is_empty());
    let scrape = daemonscope::serve::metrics::render(&state, false);
    assert!(scrape.contains("daemonscope_watch_up{resource=\"workloads\"} 1"), "{scrape}");
}

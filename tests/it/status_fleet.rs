//! `daemonscope status` across clusters: every context at once, one report (JSON
//! `{clusters:[{context, reachable, error, daemonsets}]}`), exit 0 only when every
//! cluster is reachable and covered, 1 when one is not covered, 2 when one cannot be
//! observed — with the clusters that could be observed still reported; `--wait` waits
//! on all of them, and a throttled cluster holds up only itself.

use crate::common;

use std::process::Command;

use serde_json::Value;

fn bin(args: &[&str], kubeconfig: &str) -> (i32, String, String) {
    let o = Command::new(env!("CARGO_BIN_EXE_daemonscope"))
        .args(args)
        .env("KUBECONFIG", kubeconfig)
        .env("XDG_STATE_HOME", std::env::temp_dir())
        .output()
        .unwrap();
    (o.status.code().unwrap_or(-1), String::from_utf8_lossy(&o.stdout).into(), String::from_utf8_lossy(&o.stderr).into())
}

/// A kubeconfig in `dir` for the server at `url`, its context, cluster and user named `name`
/// (as `daemonscope sim --context-name` writes them).
fn kubeconfig(dir: &std::path::Path, name: &str, url: &str, ca: Option<&str>, token: Option<&str>) -> String {
    let p = dir.join(name);
    daemonscope::sim::write_kubeconfig(&p, url, ca, token).unwrap();
    let yaml = std::fs::read_to_string(&p).unwrap().replace("daemonscope-sim", name);
    std::fs::write(&p, yaml).unwrap();
    p.to_str().unwrap().to_string()
}

fn healthy() -> String {
    let mut y = common::nodes_yaml(&["a1", "a2", "a3"]);
    y.push_str(&common::ds_yaml("agent", "{type: RollingUpdate}"));
    y
}

/// One node's agent crash-loops: never covered.
fn crashing() -> String {
    let mut y = common::nodes_yaml(&["c1"]);
    y.push_str("---\napiVersion: v1\nkind: Node\nmetadata:\n  name: c2\n  labels: {pool: general}\n  annotations: {sim.daemonscope.io/pod-behavior: crash-loop}\n");
    y.push_str(&common::ds_yaml("agent", "{type: RollingUpdate}"));
    y
}

/// `healthy()` whose agent rolls to v2 one second after start, a second per pod to start
/// and to become ready.
fn rolling() -> String {
    let mut y = healthy();
    y.push_str(
        "---
apiVersion: sim.daemonscope.io/v1alpha1
kind: Simulation
metadata: {name: rollout}
settings: {startDelay: 1s, readyDelay: 1s}
registry: ['registry.example/agent:v2']
timeline:
- at: 1s
  patch:
    kind: DaemonSet
    namespace: kube-system
    name: agent
    patch: {spec: {template: {spec: {containers: [{name: agent, image: 'registry.example/agent:v2'}]}}}}
",
    );
    y
}

fn cluster<'a>(v: &'a Value, context: &str) -> &'a Value {
    v["clusters"].as_array().unwrap().iter().find(|c| c["context"] == context).unwrap_or_else(|| panic!("no {context} in {v}"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_report_for_every_cluster_with_the_worst_exit_code() {
    let (ok, ok2, crash) = (common::serve(&healthy()).await, common::serve(&healthy()).await, common::serve(&crashing()).await);
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let kcs = [
        kubeconfig(d, "prod-eu", ok.url(), ok.ca_pem.as_deref(), ok.token.as_deref()),
        kubeconfig(d, "prod-us", ok2.url(), ok2.ca_pem.as_deref(), ok2.token.as_deref()),
        kubeconfig(d, "staging", crash.url(), crash.ca_pem.as_deref(), crash.token.as_deref()),
        // Nothing listens there.
        kubeconfig(d, "dead", "http://127.0.0.1:9", None, None),
    ];
    let all = kcs.join(":");
    tokio::task::spawn_blocking(move || {
        // Every context: the dead one cannot be observed (2); the others are still reported.
        let (code, out, err) = bin(&["status", "--all-contexts", "-o", "json", "--timeout", "30s"], &all);
        assert_eq!(code, 2, "{out}{err}");
        let v: Value = serde_json::from_str(&out).unwrap_or_else(|e| panic!("{e}: {out}"));
        let names: Vec<&str> = v["clusters"].as_array().unwrap().iter().map(|c| c["context"].as_str().unwrap()).collect();
        assert_eq!(names, ["prod-eu", "prod-us", "staging", "dead"], "in kubeconfig order");
        let eu = cluster(&v, "prod-eu");
        assert_eq!((&eu["reachable"], &eu["error"], &eu["summary"]["covered"]), (&Value::Bool(true), &Value::Null, &Value::from(1)));
        assert_eq!(eu["daemonsets"][0]["name"], "agent");
        assert_eq!(eu["daemonsets"][0]["readyUpToDate"], 3, "the single-cluster report's DaemonSets: {eu}");
        let staging = cluster(&v, "staging");
        assert_eq!((&staging["reachable"], &staging["daemonsets"][0]["covered"]), (&Value::Bool(true), &Value::Bool(false)));
        let failing = staging["daemonsets"][0]["nodes"].as_array().unwrap().iter().find(|n| n["node"] == "c2").unwrap();
        assert_eq!(failing["state"], "failing", "{staging}");
        let dead = cluster(&v, "dead");
        assert_eq!((&dead["reachable"], &dead["daemonsets"]), (&Value::Bool(false), &Value::Array(vec![])));
        assert!(dead["error"].as_str().unwrap().contains("cannot watch"), "{dead}");
        assert!(err.contains("daemonscope: context dead: cannot watch"), "{err}");
        // The reachable ones only: one is not covered (1).
        let (code, out, err) = bin(&["status", "--context", "prod-eu", "--context", "staging"], &all);
        assert_eq!(code, 1, "{out}{err}");
        assert!(out.starts_with("== context prod-eu ==\n"), "{out}");
        assert!(out.contains("== context staging ==\n") && out.lines().any(|l| l.trim_start() == "e.g. c2"), "{out}");
        assert!(out.ends_with("fleet: 1 of 2 contexts fully covered\n"), "{out}");
        // A glob over the names: both covered (0).
        let (code, out, err) = bin(&["status", "--contexts", "prod-*"], &all);
        assert_eq!(code, 0, "{out}{err}");
        assert!(out.ends_with("fleet: 2 of 2 contexts fully covered\n"), "{out}");
        // Table with an unreachable cluster: said in its place, exit 2.
        let (code, out, _) =
            bin(&["status", "--context", "prod-eu", "--context", "prod-us", "--context", "dead", "--timeout", "30s"], &all);
        assert_eq!(code, 2, "{out}");
        assert!(out.contains("== context dead ==\nnot observed: cannot watch"), "{out}");
        assert!(out.ends_with("fleet: 2 of 3 contexts fully covered, 1 not observed\n"), "{out}");
        // Bad selections are one line, exit 2, before anything connects.
        for (args, want) in [
            (
                vec!["status", "--contexts", "qa-*"],
                "daemonscope: no context matches --contexts \"qa-*\" (contexts: prod-eu, prod-us, staging, dead)\n",
            ),
            (
                vec!["status", "--context", "prod-eu", "--context", "qa"],
                "daemonscope: context \"qa\" is not in the kubeconfig (contexts: prod-eu, prod-us, staging, dead)\n",
            ),
            (
                vec!["status", "--demo", "--all-contexts"],
                "daemonscope: --demo is one cluster: several contexts (--context …, --contexts, --all-contexts) need a kubeconfig\n",
            ),
            (
                vec!["snapshot", "--context", "prod-eu", "--context", "staging"],
                "daemonscope: snapshot watches one cluster: give one --context (several contexts are for the TUI and `status`)\n",
            ),
        ] {
            let (code, out, err) = bin(&args, &all);
            assert_eq!((code, out.as_str(), err.as_str()), (2, "", want), "{args:?}");
        }
    })
    .await
    .unwrap();
}

/// `--wait` follows every cluster until each is covered: one rolling out, one throttled
/// (429 with Retry-After on half its requests) — the throttled one holds up only itself.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wait_waits_on_every_cluster_and_a_throttled_one_holds_up_only_itself() {
    let (roll, slow) = (common::serve(&rolling()).await, common::serve(&healthy()).await);
    slow.api.faults.set(daemonscope::sim::faults::FaultSettings { throttle: 0.5, retry_after: 2, seed: Some(18), ..Default::default() });
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let all = [
        kubeconfig(d, "rolling", roll.url(), roll.ca_pem.as_deref(), roll.token.as_deref()),
        kubeconfig(d, "throttled", slow.url(), slow.ca_pem.as_deref(), slow.token.as_deref()),
    ]
    .join(":");
    // Start once the rollout is under way (a pod of the new revision exists).
    common::eventually(20, "the rollout under way", || async {
        let pods = roll.store.list::<k8s_openapi::api::core::v1::Pod>(Some("kube-system")).0;
        pods.iter().any(|p| p.spec.as_ref().unwrap().containers[0].image.as_deref() == Some("registry.example/agent:v2")).then_some(())
    })
    .await;
    let (code, out, err) =
        tokio::task::spawn_blocking(move || bin(&["status", "--all-contexts", "--wait", "--timeout", "90s", "-o", "json"], &all))
            .await
            .unwrap();
    assert_eq!(code, 0, "{out}{err}");
    let v: Value = serde_json::from_str(&out).unwrap();
    for c in ["rolling", "throttled"] {
        let ds = &cluster(&v, c)["daemonsets"][0];
        assert_eq!((&ds["covered"], &ds["rolloutComplete"]), (&Value::Bool(true), &Value::Bool(true)), "{c}: {ds}");
    }
    // The rollout was waited for, and said so under its context's name.
    assert!(err.contains("[rolling] waiting: kube-system/agent: "), "{err}");
    assert!(err.contains("[rolling] all 1 DaemonSet(s) fully covered after"), "{err}");
    assert!(err.contains("[throttled] all 1 DaemonSet(s) fully covered after"), "{err}");
    let states: Vec<&str> =
        cluster(&v, "rolling")["daemonsets"][0]["nodes"].as_array().unwrap().iter().map(|n| n["state"].as_str().unwrap()).collect();
    assert_eq!(states, ["ready", "ready", "ready"]);
    // The throttled cluster was refused and waited (its own Retry-After), and still got there.
    assert!(err.contains("[throttled] watch of ") && err.contains("429 Too Many Requests"), "{err}");
}

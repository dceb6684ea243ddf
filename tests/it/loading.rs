//! Loading is order-free and faithful, and the small things real clusters showed: a
//! scenario's documents load in any order (a Namespace after an object in it) and an
//! error names the document; a loaded pod keeps its phase, restart counts, container
//! states and addresses; `snapshot` keeps node addresses, refuses an empty scope as
//! `status` does, and says `A snapshot of …` once; counts of one read `1 node`;
//! `status -o wide` columns fit 41-character AWS node names.

use crate::common;

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};

use daemonscope::sim::{Sim, SimOptions};
use k8s_openapi::api::core::v1::Pod;

fn bin(args: &[&str]) -> (i32, String, String) {
    let o = Command::new(env!("CARGO_BIN_EXE_daemonscope")).args(args).env("XDG_STATE_HOME", std::env::temp_dir()).output().unwrap();
    (o.status.code().unwrap_or(-1), String::from_utf8_lossy(&o.stdout).into(), String::from_utf8_lossy(&o.stderr).into())
}

#[test]
fn a_namespace_after_an_object_in_it_loads() {
    let y = format!(
        "{}---\napiVersion: apps/v1\nkind: DaemonSet\nmetadata: {{name: reader, namespace: book}}\nspec:\n  selector: {{matchLabels: {{app: reader}}}}\n  template:\n    metadata: {{labels: {{app: reader}}}}\n    spec: {{containers: [{{name: r, image: 'registry.example/r:v1'}}]}}\n---\napiVersion: v1\nkind: Namespace\nmetadata: {{name: book, labels: {{team: library}}}}\n",
        common::nodes_yaml(&["a"])
    );
    let sim = common::build(&y);
    let ns = sim.store.get::<k8s_openapi::api::core::v1::Namespace>("", "book").expect("the namespace");
    assert_eq!(
        ns.metadata.labels.as_ref().and_then(|l| l.get("team")).map(String::as_str),
        Some("library"),
        "the document's own namespace"
    );
}

#[test]
fn a_load_error_names_the_document() {
    let y = format!(
        "{}---\napiVersion: v1\nkind: Node\nmetadata: {{name: bad}}\nspec:\n  taints: [{{key: x, effect: Sometimes}}]\n",
        common::nodes_yaml(&["a"])
    );
    let sc = common::scenario(&y);
    let e = Sim::build(&sc, SimOptions::from_scenario(&sc)).err().expect("an invalid taint is refused");
    assert!(e.message.starts_with("Node bad (document 2): "), "{}", e.message);
}

/// A finished pod (restartPolicy Never), and a running one that restarted, as a dump has them.
fn loaded_pods() -> String {
    format!(
        "{}---
apiVersion: v1
kind: Pod
metadata: {{name: migrate, namespace: default}}
spec:
  nodeName: a
  restartPolicy: Never
  containers: [{{name: job, image: 'registry.example/job:v1'}}]
status:
  phase: Succeeded
  podIP: 10.1.2.3
  hostIP: 192.168.7.7
  containerStatuses:
  - name: job
    image: registry.example/job:v1
    imageID: ''
    ready: false
    restartCount: 2
    state: {{terminated: {{exitCode: 0, reason: Completed}}}}
---
apiVersion: v1
kind: Pod
metadata: {{name: web, namespace: default}}
spec:
  nodeName: a
  containers: [{{name: web, image: 'registry.example/web:v1'}}]
status:
  phase: Running
  podIP: 10.1.2.4
  podIPs: [{{ip: 10.1.2.4}}]
  hostIP: 192.168.7.7
  containerStatuses:
  - name: web
    image: registry.example/web:v1
    imageID: ''
    ready: true
    started: true
    restartCount: 3
    state: {{running: {{startedAt: '2025-03-02T14:00:00Z'}}}}
",
        common::nodes_yaml(&["a"])
    )
}

#[test]
fn a_loaded_pod_keeps_its_phase_restarts_and_addresses() {
    let mut sim = common::build(&format!("{}---\n{}", loaded_pods(), common::FAST));
    for _ in 0..10 {
        sim.advance(1);
    }
    let job = sim.store.get::<Pod>("default", "migrate").expect("the finished pod");
    let st = job.status.clone().unwrap();
    assert_eq!(st.phase.as_deref(), Some("Succeeded"), "{st:?}");
    assert_eq!(st.container_statuses.as_ref().unwrap()[0].restart_count, 2);
    assert_eq!(st.pod_ip.as_deref(), Some("10.1.2.3"));
    let web = sim.store.get::<Pod>("default", "web").expect("the running pod");
    let st = web.status.clone().unwrap();
    assert_eq!(st.phase.as_deref(), Some("Running"), "{st:?}");
    assert_eq!(st.container_statuses.as_ref().unwrap()[0].restart_count, 3, "{st:?}");
    assert_eq!((st.pod_ip.as_deref(), st.host_ip.as_deref()), (Some("10.1.2.4"), Some("192.168.7.7")));
}

/// A node with its addresses, and a host-network DaemonSet on it.
fn addressed() -> String {
    format!(
        "---
apiVersion: v1
kind: Node
metadata: {{name: ip-10-0-101-213.eu-west-1.compute.internal}}
status:
  addresses: [{{type: InternalIP, address: 10.0.101.213}}, {{type: Hostname, address: ip-10-0-101-213.eu-west-1.compute.internal}}]
{}---\n{}",
        common::ds_yaml("agent", "{type: RollingUpdate}").replace("    spec:\n", "    spec:\n      hostNetwork: true\n"),
        common::FAST
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn snapshot_keeps_node_addresses_so_host_network_pods_keep_their_ip() {
    let sim = common::serve(&addressed()).await;
    common::until(20, "the agent pod has an IP", || {
        let ip = sim.store.read(|i| i.pods.values().find_map(|p| p.status.as_ref()?.pod_ip.clone()));
        std::future::ready(ip.ok_or_else(|| "no pod IP yet".to_string()))
    })
    .await;
    let dir = tempfile::tempdir().unwrap();
    let kc = dir.path().join("kc");
    daemonscope::sim::write_kubeconfig(&kc, sim.url(), sim.ca_pem.as_deref(), sim.token.as_deref()).unwrap();
    let kc = kc.to_str().unwrap().to_string();
    let out = dir.path().join("snap.yaml");
    let out_s = out.to_str().unwrap().to_string();
    let (code, _, err) = tokio::task::spawn_blocking(move || bin(&["snapshot", "--kubeconfig", &kc, "-o", &out_s])).await.unwrap();
    assert_eq!(code, 0, "{err}");
    let text = std::fs::read_to_string(&out).unwrap();
    assert!(text.starts_with("# A snapshot of daemonscope-sim, written by"), "{}", text.lines().next().unwrap());
    assert!(text.contains("address: \"10.0.101.213\""), "{text}");
    // Served again: the host-network pod runs on the node's own address.
    let sc = common::scenario(&format!("{text}---\n{}", common::FAST));
    let mut again = Sim::build(&sc, SimOptions::from_scenario(&sc)).unwrap();
    for _ in 0..10 {
        again.advance(1);
    }
    let ips: Vec<Option<String>> =
        again.store.read(|i| i.pods.values().map(|p| p.status.as_ref().and_then(|s| s.pod_ip.clone())).collect());
    assert_eq!(ips, vec![Some("10.0.101.213".to_string())]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn snapshot_with_no_daemonset_in_scope_exits_2_in_one_line() {
    let sim = common::serve(&common::nodes_yaml(&["a", "b"])).await;
    let dir = tempfile::tempdir().unwrap();
    let kc = dir.path().join("kc");
    daemonscope::sim::write_kubeconfig(&kc, sim.url(), sim.ca_pem.as_deref(), sim.token.as_deref()).unwrap();
    let kc = kc.to_str().unwrap().to_string();
    let (code, out, err) =
        tokio::task::spawn_blocking(move || bin(&["snapshot", "--kubeconfig", &kc, "-n", "nothing-here"])).await.unwrap();
    assert_eq!(code, 2, "{out}{err}");
    assert!(out.is_empty(), "no node-only file: {out}");
    assert_eq!(err, "daemonscope: no DaemonSet matches -n nothing-here in context daemonscope-sim\n");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_node_is_1_node_and_wide_columns_fit_aws_names() {
    let long = ["ip-10-0-101-213.eu-west-1.compute.internal", "ip-10-0-7-9.eu-west-1.compute.internal"];
    let y = format!("{}{}---\n{}", common::nodes_yaml(&long), common::ds_yaml("agent", "{type: RollingUpdate}"), common::FAST);
    let sim = common::serve(&y).await;
    let one = common::serve(&format!(
        "{}{}---\n{}",
        common::nodes_yaml(&["solo"]),
        common::ds_yaml("agent", "{type: RollingUpdate}"),
        common::FAST
    ))
    .await;
    for s in [&sim, &one] {
        common::until(30, "the agent ready everywhere", || {
            let n = s.store.read(|i| i.pods.values().filter(|p| p.status.as_ref().and_then(|st| st.pod_ip.as_ref()).is_some()).count());
            let want = s.store.read(|i| i.nodes.len());
            std::future::ready(if n == want { Ok(()) } else { Err(format!("{n} of {want}")) })
        })
        .await;
    }
    let dir = tempfile::tempdir().unwrap();
    let kc = dir.path().join("kc");
    let kc1 = dir.path().join("kc1");
    daemonscope::sim::write_kubeconfig(&kc, sim.url(), sim.ca_pem.as_deref(), sim.token.as_deref()).unwrap();
    daemonscope::sim::write_kubeconfig(&kc1, one.url(), one.ca_pem.as_deref(), one.token.as_deref()).unwrap();
    let (kc, kc1) = (kc.to_str().unwrap().to_string(), kc1.to_str().unwrap().to_string());
    tokio::task::spawn_blocking(move || {
        let out = common::until_blocking(30, "both ready", || {
            let (code, out, err) = bin(&["status", "--kubeconfig", &kc, "-o", "wide"]);
            if code == 0 { Ok(out) } else { Err(format!("{out}{err}")) }
        });
        let header = out.lines().find(|l| l.trim_start().starts_with("NODE")).unwrap_or_else(|| panic!("{out}"));
        for name in long {
            let row = out.lines().find(|l| l.contains(name)).unwrap_or_else(|| panic!("{out}"));
            assert_eq!(row.find(" ready").map(|i| i + 1), header.find("STATE"), "STATE in line:\n{out}");
            assert_eq!(row.find(" agent-").map(|i| i + 1), header.find("POD"), "POD in line:\n{out}");
        }
        let out = common::until_blocking(30, "ready", || {
            let (code, out, err) = bin(&["status", "--kubeconfig", &kc1]);
            if code == 0 { Ok(out) } else { Err(format!("{out}{err}")) }
        });
        assert!(out.contains("runs a ready, up-to-date pod (1 node)"), "{out}");
    })
    .await
    .unwrap();
}

#[test]
fn the_simulator_says_1_node() {
    let dir = tempfile::tempdir().unwrap();
    let scenario = dir.path().join("one.yaml");
    std::fs::write(&scenario, common::nodes_yaml(&["solo"])).unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_daemonscope"))
        .args(["sim", "--insecure-http", "--listen", "127.0.0.1:0", "--scenario"])
        .arg(&scenario)
        .arg("--kubeconfig-out")
        .arg(dir.path().join("kc"))
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let first = BufReader::new(child.stdout.take().unwrap()).lines().next().unwrap().unwrap();
    child.kill().ok();
    child.wait().ok();
    assert!(first.contains(" — 1 node, 0 pods, ready in "), "{first}");
}

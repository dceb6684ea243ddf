//! Severity in the real binary: on a 5,000-node simulator with three rollouts under way
//! (thousands of cells merely starting), the nodes view sorted by problems puts the
//! crash-looping node and the down node on its first screen — broken before transient.

use crate::common;

use common::pty::Tui;
use daemonscope::sim::kind::Kind;
use daemonscope::sim::scenario::Action;
use daemonscope::sim::{Sim, SimOptions};
use serde_json::json;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn broken_nodes_come_before_nodes_whose_daemons_are_only_starting() {
    let sc = daemonscope::sim::generator::scenario(5000, 4);
    let sim = Sim::build(&sc, SimOptions::from_scenario(&sc)).unwrap();
    let names: Vec<String> =
        sim.store.list::<k8s_openapi::api::apps::v1::DaemonSet>(None).0.iter().map(|d| d.metadata.name.clone().unwrap()).collect();
    let namespaces: Vec<String> =
        sim.store.list::<k8s_openapi::api::apps::v1::DaemonSet>(None).0.iter().map(|d| d.metadata.namespace.clone().unwrap()).collect();
    let nodes: Vec<String> =
        sim.store.list::<k8s_openapi::api::core::v1::Node>(None).0.iter().map(|n| n.metadata.name.clone().unwrap()).collect();
    // Far down the name order: a name sort would never show them first.
    let (crashing, down) = (nodes[4990].clone(), nodes[4995].clone());
    let annotate = |node: &str, key: &str, value: String| {
        let patch = json!({"metadata": {"annotations": {key: value}}});
        sim.apply(&Action::Patch { kind: Kind::Node, namespace: String::new(), name: node.into(), patch }).unwrap();
    };
    annotate(&crashing, "sim.daemonscope.io/pod-behavior", format!("{}=crash-loop", names[0]));
    annotate(&down, "sim.daemonscope.io/node-state", "not-ready".into());
    // The first DaemonSet's pod there is replaced by one that crash-loops (a Ready pod is
    // not stepped again by the simulated kubelet).
    let on_crashing = sim
        .store
        .list::<k8s_openapi::api::core::v1::Pod>(Some(&namespaces[0]))
        .0
        .iter()
        .find(|p| {
            p.spec.as_ref().and_then(|s| s.node_name.as_deref()) == Some(crashing.as_str())
                && p.metadata.owner_references.as_ref().is_some_and(|o| o[0].name == names[0])
        })
        .map(|p| p.metadata.name.clone().unwrap())
        .expect("the first DaemonSet runs on every node");
    sim.apply(&Action::Delete { kind: Kind::Pod, namespace: namespaces[0].clone(), name: on_crashing }).unwrap();
    // Three rollouts (not the first DaemonSet's) whose new pods take ten minutes to start:
    // thousands of cells merely starting.
    for (ns, name) in namespaces.iter().zip(&names).skip(1) {
        let ann = json!({"kubectl.kubernetes.io/restartedAt": "now", "sim.daemonscope.io/start-delay": "10m"});
        let patch = json!({"spec": {"template": {"metadata": {"annotations": ann}}, "updateStrategy": {"type": "RollingUpdate", "rollingUpdate": {"maxUnavailable": "20%", "maxSurge": 0}}}});
        sim.apply(&Action::Patch { kind: Kind::DaemonSet, namespace: ns.clone(), name: name.clone(), patch }).unwrap();
    }
    let sim = sim.serve("127.0.0.1:0").await.expect("listen on loopback");
    let (_dir, kc) = common::kubeconfig_file(&sim, None);
    let client = common::client(&sim);
    let pods: kube::Api<k8s_openapi::api::core::v1::Pod> = kube::Api::all(client);
    let crashing_c = crashing.clone();
    common::until(120, "the crash loop and the starting pods of three rollouts", || {
        let pods = pods.clone();
        let crashing = crashing_c.clone();
        async move {
            let list = pods.list(&Default::default()).await.map_err(|e| e.to_string())?;
            let starting = list
                .items
                .iter()
                .filter(|p| p.metadata.annotations.as_ref().is_some_and(|a| a.contains_key("sim.daemonscope.io/start-delay")))
                .count();
            let crash = list.items.iter().any(|p| {
                p.spec.as_ref().and_then(|s| s.node_name.as_deref()) == Some(crashing.as_str())
                    && p.status.as_ref().and_then(|s| s.container_statuses.as_ref()).into_iter().flatten().any(|c| c.restart_count > 0)
            });
            if starting >= 1000 && crash { Ok(()) } else { Err(format!("{starting} new pods, crash loop {crash}")) }
        }
    })
    .await;
    tokio::task::spawn_blocking(move || {
        let mut t = Tui::start_sized(&["--kubeconfig", &kc], &[], 35, 120);
        t.wait_for("DaemonSets (4)", 120);
        // Every watch, not only the pods': the nodes may still be streaming after them.
        t.wait_all_live(120);
        t.keys("n");
        t.wait_for("by name", 20);
        t.keys("s");
        let s = t.wait_for("most problems first", 20);
        let first_screen = s.lines().take(35).collect::<Vec<_>>().join("\n");
        assert!(first_screen.contains(&crashing), "the crash-looping node {crashing} on the first screen:\n{s}");
        assert!(first_screen.contains(&down), "the down node {down} on the first screen:\n{s}");
        // And in that order: the failing daemon first, then the down node.
        let at = |n: &str| s.find(n).unwrap();
        assert!(at(&crashing) < at(&down), "{s}");
        t.keys("q");
        assert!(t.exit(10).success());
    })
    .await
    .unwrap();
}

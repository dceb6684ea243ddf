//! The real kubectl as the outside check of rollouts that get stuck: an image the
//! registry does not have, a pod Terminating on an unreachable node, maxSurge with a
//! hostPort. What `get pods`, `describe pod` and `rollout status` show must be what they
//! show against a real cluster. Skips loudly when kubectl is absent.

use crate::common;

use common::*;

macro_rules! kubectl_or_skip {
    ($sim:expr) => {
        match kubectl_bin() {
            Some(bin) => Kubectl::new(bin, &$sim, None),
            None => return,
        }
    };
}

const NS: &[&str] = &["-n", "kube-system"];

fn args<'a>(a: &[&'a str]) -> Vec<&'a str> {
    a.iter().chain(NS).copied().collect()
}

/// `kubectl get pods` rows as (name, status).
async fn statuses(k: &Kubectl) -> Vec<(String, String)> {
    k.ok_async(&args(&["get", "pods", "--no-headers"]))
        .await
        .lines()
        .map(|l| {
            let c: Vec<&str> = l.split_whitespace().collect();
            (c[0].to_string(), c[2].to_string())
        })
        .collect()
}

/// `rollout status --timeout=5s` does not report success: it times out, saying what it
/// waits for, as against a real cluster.
async fn rollout_times_out(k: &Kubectl, expect_waiting: &str) {
    let o = k.run_async(&args(&["rollout", "status", "ds/agent", "--timeout=5s"])).await;
    let (out, err) = (String::from_utf8_lossy(&o.stdout), String::from_utf8_lossy(&o.stderr));
    assert!(!o.status.success(), "rollout status succeeded: {out}");
    assert_eq!(err.trim(), "error: timed out waiting for the condition", "{out}");
    assert!(out.contains(&format!("Waiting for daemon set \"agent\" rollout to finish: {expect_waiting}")), "{out}");
    assert!(!out.contains("successfully rolled out"), "{out}");
}

fn cluster(strategy: &str, container: &str, settings: &str) -> String {
    format!("{FAST}{settings}{}{}", nodes_yaml(&["node-a", "node-b", "node-c"]), ds_yaml("agent", strategy))
        .replace("containers: [{name: agent, image: 'registry.example/agent:v1'}]", &format!("containers: [{container}]"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_bad_image_shows_err_image_pull_and_the_rollout_never_finishes() {
    let sim = serve(&cluster(
        "{type: RollingUpdate, rollingUpdate: {maxUnavailable: 1}}",
        "{name: agent, image: 'registry.example/agent:v1'}",
        "",
    ))
    .await;
    let k = kubectl_or_skip!(sim);
    let out = k.ok_async(&args(&["set", "image", "ds/agent", "agent=nonexistent:tag"])).await;
    assert_eq!(out.trim(), "daemonset.apps/agent image updated");
    let pod = until(30, "a pod failing to pull", || async {
        let s = statuses(&k).await;
        s.iter().find(|(_, st)| st == "ErrImagePull" || st == "ImagePullBackOff").map(|(n, _)| n.clone()).ok_or(format!("{s:?}"))
    })
    .await;
    // Both statuses show in turn, as the kubelet pulls and backs off.
    for want in ["ErrImagePull", "ImagePullBackOff"] {
        until(30, want, || async {
            let s = statuses(&k).await;
            if s.iter().any(|(n, st)| *n == pod && st == want) { Ok(()) } else { Err(format!("{s:?}")) }
        })
        .await;
    }
    let describe = until(30, "the kubelet's pull events", || async {
        let d = k.ok_async(&args(&["describe", "pod", &pod])).await;
        let all = [
            "Pulling image \"nonexistent:tag\"",
            "Failed to pull image \"nonexistent:tag\": rpc error: code = NotFound desc = failed to pull and unpack image \"docker.io/library/nonexistent:tag\"",
            "Error: ErrImagePull",
            "Back-off pulling image \"nonexistent:tag\"",
            "Error: ImagePullBackOff",
        ];
        if all.iter().all(|m| d.contains(m)) { Ok(d) } else { Err(d) }
    })
    .await;
    assert!(describe.contains("Status:           Pending"), "{describe}");
    assert!(describe.lines().any(|l| l.contains("Warning") && l.contains("Failed") && l.contains("kubelet")), "{describe}");
    rollout_times_out(&k, "1 out of 3 new pods have been updated...").await;
    // Every kubectl on the machine (1.27 … 1.33) sees the same stuck rollout.
    for bin in kubectl_versions() {
        let kv = Kubectl::new(bin.clone(), &sim, None);
        let s = statuses(&kv).await;
        assert!(s.iter().any(|(n, st)| *n == pod && (st == "ErrImagePull" || st == "ImagePullBackOff")), "{bin:?}: {s:?}");
        rollout_times_out(&kv, "1 out of 3 new pods have been updated...").await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_pod_on_an_unreachable_node_stays_terminating_until_the_node_is_out_of_service() {
    let sim = serve(&format!(
        "{}{}",
        cluster("{type: RollingUpdate, rollingUpdate: {maxUnavailable: 1}}", "{name: agent, image: 'registry.example/agent:v1'}", ""),
        "---\napiVersion: sim.daemonscope.io/v1alpha1\nkind: Simulation\nsettings: {startDelay: 300ms, readyDelay: 200ms, termination: 300ms}\nregistry: ['registry.example/agent:v2']\n"
    ))
    .await;
    let k = kubectl_or_skip!(sim);
    let node_b = || async { k.ok_async(&args(&["get", "pods", "--field-selector", "spec.nodeName=node-b", "--no-headers"])).await };
    let old = node_b().await.split_whitespace().next().unwrap().to_string();
    k.ok_async(&["annotate", "node", "node-b", "sim.daemonscope.io/node-state=unreachable"]).await;
    until(30, "node-b NotReady", || async {
        let o = k.ok_async(&["get", "node", "node-b", "--no-headers"]).await;
        if o.contains("NotReady") { Ok(()) } else { Err(o) }
    })
    .await;
    // The rollout deletes node-b's pod (not available) at once; its kubelet is gone.
    k.ok_async(&args(&["set", "image", "ds/agent", "agent=registry.example/agent:v2"])).await;
    until(30, "the old pod Terminating", || async {
        let s = statuses(&k).await;
        if s.iter().any(|(n, st)| *n == old && st == "Terminating") { Ok(()) } else { Err(format!("{s:?}")) }
    })
    .await;
    // Stuck: the node it spends holds the budget, no other node is updated.
    rollout_times_out(&k, "0 out of 2 new pods have been updated...").await;
    let s = statuses(&k).await;
    assert!(s.iter().any(|(n, st)| *n == old && st == "Terminating"), "still Terminating: {s:?}");
    let d = k.ok_async(&args(&["describe", "pod", &old])).await;
    assert!(d.contains("Status:                    Terminating (lasts "), "{d}");
    // The operator says the node is gone for good: PodGC force-deletes the pod, the
    // rollout goes on.
    let out = k.ok_async(&["taint", "node", "node-b", "node.kubernetes.io/out-of-service=nodeshutdown:NoExecute"]).await;
    assert_eq!(out.trim(), "node/node-b tainted");
    until(30, "the terminating pod gone", || async {
        let o = node_b().await;
        if o.trim().is_empty() { Ok(()) } else { Err(o) }
    })
    .await;
    let o = k.ok_async(&args(&["rollout", "status", "ds/agent", "--timeout=60s"])).await;
    assert!(o.trim_end().ends_with("daemon set \"agent\" successfully rolled out"), "{o}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn max_surge_with_a_host_port_stays_pending_and_the_rollout_never_finishes() {
    let sim = serve(&format!(
        "{}{}",
        cluster(
            "{type: RollingUpdate, rollingUpdate: {maxSurge: 1, maxUnavailable: 0}}",
            "{name: agent, image: 'registry.example/agent:v1', ports: [{containerPort: 9100, hostPort: 9100}]}",
            ""
        ),
        "---\napiVersion: sim.daemonscope.io/v1alpha1\nkind: Simulation\nsettings: {startDelay: 300ms, readyDelay: 200ms}\nregistry: ['registry.example/*']\n"
    ))
    .await;
    let k = kubectl_or_skip!(sim);
    k.ok_async(&args(&["set", "image", "ds/agent", "agent=registry.example/agent:v2"])).await;
    let pending = until(30, "a Pending surge pod", || async {
        let s = statuses(&k).await;
        s.iter().find(|(_, st)| st == "Pending").map(|(n, _)| n.clone()).ok_or(format!("{s:?}"))
    })
    .await;
    let msg = "0/3 nodes are available: 1 node(s) didn't have free ports for the requested pod ports, 2 node(s) didn't match Pod's node affinity/selector. preemption: 0/3 nodes are available: 1 No preemption victims found for incoming pod, 2 Preemption is not helpful for scheduling..";
    let d = until(30, "FailedScheduling in describe", || async {
        let d = k.ok_async(&args(&["describe", "pod", &pending])).await;
        if d.contains("FailedScheduling") { Ok(d) } else { Err(d) }
    })
    .await;
    assert!(
        d.lines().any(|l| l.contains("Warning") && l.contains("FailedScheduling") && l.contains("default-scheduler") && l.contains(msg)),
        "{d}"
    );
    assert!(d.contains("Node:             <none>"), "{d}");
    let cond =
        k.ok_async(&args(&["get", "pod", &pending, "-o", "jsonpath={.status.conditions[?(@.type==\"PodScheduled\")].reason}"])).await;
    assert_eq!(cond, "Unschedulable");
    rollout_times_out(&k, "0 out of 3 new pods have been updated...").await;
    // Still the same: three old pods running, the surge pod Pending.
    let s = statuses(&k).await;
    assert_eq!(s.iter().filter(|(_, st)| st == "Running").count(), 3, "{s:?}");
    assert!(s.iter().any(|(n, st)| *n == pending && st == "Pending"), "{s:?}");
}

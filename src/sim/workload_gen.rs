//! The workloads a drain meets, for synthetic clusters (`sim --workloads-per-node N`) and
//! the demo: Deployments (one with an `emptyDir` volume) with PodDisruptionBudgets over
//! them, finished Job pods (`Succeeded`), a bare pod, and mirror pods of static pods on the
//! control-plane nodes (annotation `kubernetes.io/config.mirror`, owned by their Node, as
//! the kubelet creates them: `pkg/kubelet/pod/mirror_client.go`). Jobs are not simulated,
//! so their finished pods carry the Job's labels but no owner (as after `kubectl delete job
//! --cascade=orphan`).
//!
//! May import: `sim::kind`.

use serde_json::{Value, json};

use super::kind::Kind;

pub const NAMESPACE: &str = "shop";

fn deployment(name: &str, replicas: usize, empty_dir: bool) -> Value {
    let mut spec = json!({"containers": [{"name": name, "image": format!("registry.example/shop/{name}:v1")}]});
    if empty_dir {
        spec["volumes"] = json!([{"name": "scratch", "emptyDir": {}}]);
        spec["containers"][0]["volumeMounts"] = json!([{"name": "scratch", "mountPath": "/scratch"}]);
    }
    json!({
        "apiVersion": "apps/v1", "kind": "Deployment",
        "metadata": {"name": name, "namespace": NAMESPACE, "labels": {"app": name}},
        "spec": {"replicas": replicas, "selector": {"matchLabels": {"app": name}},
                 "template": {"metadata": {"labels": {"app": name}}, "spec": spec}},
    })
}

fn pdb(name: &str, rule: Value) -> Value {
    let mut spec = rule;
    spec["selector"] = json!({"matchLabels": {"app": name}});
    json!({"apiVersion": "policy/v1", "kind": "PodDisruptionBudget", "metadata": {"name": name, "namespace": NAMESPACE}, "spec": spec})
}

/// A finished pod of the Job `job`, on `node`.
fn job_pod(job: &str, i: usize, node: &str) -> Value {
    json!({
        "apiVersion": "v1", "kind": "Pod",
        "metadata": {"name": format!("{job}-{i:05}"), "namespace": NAMESPACE,
                     "labels": {"job-name": job, "batch.kubernetes.io/job-name": job}},
        "spec": {"nodeName": node, "restartPolicy": "Never", "containers": [{"name": "report", "image": "registry.example/shop/report:v1"}]},
        "status": {"phase": "Succeeded", "containerStatuses": [{"name": "report", "image": "registry.example/shop/report:v1", "imageID": "",
                   "ready": false, "restartCount": 0, "state": {"terminated": {"exitCode": 0, "reason": "Completed"}}}]},
    })
}

/// The mirror pod of a static pod `name` on `node` (the loader fills in the Node's uid).
pub fn mirror_pod(name: &str, node: &str) -> Value {
    json!({
        "apiVersion": "v1", "kind": "Pod",
        "metadata": {"name": format!("{name}-{node}"), "namespace": "kube-system",
                     "labels": {"component": name, "tier": "control-plane"},
                     "annotations": {"kubernetes.io/config.mirror": "d41d8cd98f00b204e9800998ecf8427e",
                                     "kubernetes.io/config.source": "file"},
                     "ownerReferences": [{"apiVersion": "v1", "kind": "Node", "name": node, "uid": "", "controller": true}]},
        "spec": {"nodeName": node, "priorityClassName": "system-node-critical",
                 "tolerations": [{"operator": "Exists", "effect": "NoExecute"}],
                 "containers": [{"name": name, "image": format!("registry.k8s.io/{name}:v1.32.4")}]},
    })
}

/// Workloads averaging `per_node` pods on each of `workers` (the untainted worker nodes,
/// by name), plus mirror pods on `control_plane`. Of each node's share: one finished Job
/// pod (from 4 a node), one pod of the `emptyDir` Deployment `cache` (from 3), the rest
/// the Deployment `web`; one bare pod `debug-shell` on the first worker; budgets `web`
/// (maxUnavailable 10%) and `cache` (minAvailable 50%). Nothing for `per_node` 0.
pub fn workloads(workers: &[String], control_plane: &[String], per_node: usize) -> Vec<(Kind, Value)> {
    if per_node == 0 || workers.is_empty() {
        return Vec::new();
    }
    let w = workers.len();
    let jobs = if per_node >= 4 { w } else { 0 };
    let cache = if per_node >= 3 { w } else { 0 };
    let web = (w * per_node).saturating_sub(jobs + cache + 1).max(1);
    let mut out = vec![(Kind::Namespace, json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": NAMESPACE}}))];
    out.push((Kind::Deployment, deployment("web", web, false)));
    out.push((Kind::PodDisruptionBudget, pdb("web", json!({"maxUnavailable": "10%"}))));
    if cache > 0 {
        out.push((Kind::Deployment, deployment("cache", cache, true)));
        out.push((Kind::PodDisruptionBudget, pdb("cache", json!({"minAvailable": "50%"}))));
    }
    for (i, node) in workers.iter().enumerate().take(jobs) {
        out.push((Kind::Pod, job_pod("report", i, node)));
    }
    out.push((
        Kind::Pod,
        json!({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "debug-shell", "namespace": NAMESPACE, "labels": {"app": "debug"}},
               "spec": {"nodeName": workers[0], "containers": [{"name": "shell", "image": "registry.example/shop/toolbox:v1"}]}}),
    ));
    for node in control_plane {
        for name in ["kube-apiserver", "etcd"] {
            out.push((Kind::Pod, mirror_pod(name, node)));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shares_add_up_per_node() {
        let workers: Vec<String> = (0..50).map(|i| format!("n{i}")).collect();
        let objs = workloads(&workers, &["cp-1".into()], 20);
        let replicas = |name: &str| {
            objs.iter()
                .find(|(k, o)| *k == Kind::Deployment && o["metadata"]["name"] == name)
                .map(|(_, o)| o["spec"]["replicas"].as_u64().unwrap())
        };
        let pods = objs.iter().filter(|(k, _)| *k == Kind::Pod).count() as u64;
        // 50 Job pods + the bare pod + 2 mirror pods.
        assert_eq!(pods, 53);
        assert_eq!(replicas("web").unwrap() + replicas("cache").unwrap() + pods - 2, 50 * 20);
        assert!(workloads(&workers, &[], 0).is_empty());
    }
}

//! Deployments in the simulator, read by kubectl as on a real cluster: the Deployment
//! controller makes a ReplicaSet it owns (`NAME-HASH`, `pod-template-hash` added), the
//! ReplicaSet the pods; `kubectl rollout status` follows a new template to the end, the old
//! ReplicaSet scaled to 0; `kubectl describe` names the new ReplicaSet. And the demo
//! cluster carries the workloads a drain meets.

use crate::common;

use common::*;

fn deployment(replicas: u32) -> String {
    format!(
        "{FAST}{}{}---\napiVersion: apps/v1\nkind: Deployment\nmetadata: {{name: web, namespace: default}}\n\
         spec: {{replicas: {replicas}, selector: {{matchLabels: {{app: web}}}}, template: {{metadata: {{labels: {{app: web}}}}, \
         spec: {{containers: [{{name: web, image: 'registry.example/web:v1'}}]}}}}}}\n",
        registry_yaml(&["registry.example/web:v2"]),
        nodes_yaml(&["node-a", "node-b", "node-c"]),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_deployment_owns_a_replicaset_and_rolls_out_as_kubectl_expects() {
    let Some(bin) = kubectl_bin() else { return };
    let sim = serve(&deployment(3)).await;
    let k = Kubectl::new(bin, &sim, None);
    let out = k.ok_async(&["rollout", "status", "deployment/web", "--timeout=30s"]).await;
    assert!(out.contains("deployment \"web\" successfully rolled out"), "{out}");
    let row = k.ok_async(&["get", "deploy", "web", "--no-headers"]).await;
    assert_eq!(row.split_whitespace().take(4).collect::<Vec<_>>(), ["web", "3/3", "3", "3"], "{row}");
    let rs = k
        .ok_async(&["get", "rs", "-l", "app=web", "-o", "jsonpath={.items[*].metadata.name} {.items[0].metadata.ownerReferences[0].kind}"])
        .await;
    let (name, owner) = rs.split_once(' ').unwrap();
    assert!(name.starts_with("web-") && owner == "Deployment", "{rs}");
    let hash = k.ok_async(&["get", "rs", name, "-o", "jsonpath={.metadata.labels.pod-template-hash}"]).await;
    assert_eq!(name, format!("web-{hash}"));
    let pods = k.ok_async(&["get", "pods", "-l", &format!("pod-template-hash={hash}"), "-o", "wide", "--no-headers"]).await;
    assert_eq!(pods.lines().count(), 3, "{pods}");
    assert!(pods.lines().all(|l| l.starts_with(&format!("{name}-"))), "{pods}");
    // Spread: one pod per node.
    let mut nodes: Vec<&str> = pods.lines().map(|l| l.split_whitespace().nth(6).unwrap()).collect();
    nodes.sort();
    assert_eq!(nodes, ["node-a", "node-b", "node-c"], "{pods}");
    let desc = k.ok_async(&["describe", "deployment", "web"]).await;
    assert!(desc.contains(&format!("NewReplicaSet:   {name} (3/3 replicas created)")), "{desc}");

    // A new image: a second ReplicaSet, rolled within 25%/25%, the first scaled to 0.
    k.ok_async(&["set", "image", "deployment/web", "web=registry.example/web:v2"]).await;
    let out = k.ok_async(&["rollout", "status", "deployment/web", "--timeout=60s"]).await;
    assert!(out.contains("successfully rolled out"), "{out}");
    let rows = k.ok_async(&["get", "rs", "-l", "app=web", "--no-headers"]).await;
    let mut counts: Vec<Vec<&str>> = rows.lines().map(|l| l.split_whitespace().take(4).collect()).collect();
    counts.sort_by_key(|r| r[1].to_string());
    assert_eq!(counts.len(), 2, "{rows}");
    assert_eq!(&counts[0][1..4], ["0", "0", "0"], "{rows}");
    assert_eq!(&counts[1][1..4], ["3", "3", "3"], "{rows}");
    let rev = k.ok_async(&["get", "deploy", "web", "-o", "jsonpath={.metadata.annotations.deployment\\.kubernetes\\.io/revision}"]).await;
    assert_eq!(rev, "2");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_demo_has_the_workloads_a_drain_meets() {
    let Some(bin) = kubectl_bin() else { return };
    let sim = serve(daemonscope::sim::offline::DEMO).await;
    let k = Kubectl::new(bin, &sim, None);
    let out = k.ok_async(&["rollout", "status", "deployment/web", "-n", "shop", "--timeout=60s"]).await;
    assert!(out.contains("successfully rolled out"), "{out}");
    let mirror = k.ok_async(&["get", "pod", "kube-apiserver-control-plane-1", "-n", "kube-system", "-o",
        "jsonpath={.metadata.ownerReferences[0].kind}/{.metadata.ownerReferences[0].name} {.metadata.annotations.kubernetes\\.io/config\\.mirror}"]).await;
    assert!(mirror.starts_with("Node/control-plane-1 ") && mirror.len() > 30, "{mirror}");
    let uid = k.ok_async(&["get", "node", "control-plane-1", "-o", "jsonpath={.metadata.uid}"]).await;
    let owner_uid = k
        .ok_async(&[
            "get",
            "pod",
            "kube-apiserver-control-plane-1",
            "-n",
            "kube-system",
            "-o",
            "jsonpath={.metadata.ownerReferences[0].uid}",
        ])
        .await;
    assert_eq!(uid, owner_uid);
    let job = k.ok_async(&["get", "pod", "report-28890720-x7k2p", "-n", "shop", "--no-headers"]).await;
    assert!(job.contains("Completed"), "{job}");
    let cache = k.ok_async(&["get", "pods", "-n", "shop", "-l", "app=cache", "-o", "jsonpath={.items[*].spec.volumes[0].emptyDir}"]).await;
    assert_eq!(cache, "{} {} {}");
    k.ok_async(&["get", "pod", "debug-shell", "-n", "shop"]).await;
}

/// `sim --workloads-per-node N` adds them to a generated cluster; without it, nothing.
#[test]
fn generated_clusters_get_workloads_only_when_asked() {
    use daemonscope::sim::generator;
    let mut sc = generator::scenario(60, 5);
    let before = sc.objects.len();
    generator::add_workloads(&mut sc, 0);
    assert_eq!(sc.objects.len(), before, "the default keeps a generated cluster as it was");
    generator::add_workloads(&mut sc, 20);
    let deploy: u64 = sc
        .objects
        .iter()
        .filter(|(k, _)| *k == daemonscope::sim::kind::Kind::Deployment)
        .map(|(_, d)| d["spec"]["replicas"].as_u64().unwrap())
        .sum();
    let pods = sc.objects.iter().filter(|(k, _)| *k == daemonscope::sim::kind::Kind::Pod).count() as u64;
    // 3 control-plane nodes (2 mirror pods each) and the tainted GPU pool carry none.
    let workers = generator::nodes(60).iter().filter(|n| n.pointer("/spec/taints").is_none()).count() as u64;
    assert_eq!(deploy + pods - 6, workers * 20);
}

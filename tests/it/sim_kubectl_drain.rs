//! `kubectl drain` against the simulator behaves as against a real cluster, on every
//! kubectl on the machine (1.27 … 1.33): the DaemonSet's pods are left alone, a bare pod
//! needs `--force`, a PodDisruptionBudget that allows no disruption makes the Eviction
//! API answer 429 and kubectl retry with its "will retry after 5s" line until the budget
//! allows one, and then the pod is evicted (marked `DisruptionTarget`) and the node
//! drained; a mirror pod is never touched, an emptyDir pod needs `--delete-emptydir-data`,
//! a finished pod no `--force`, and `--disable-eviction` deletes past the budget. Skips
//! loudly when kubectl is absent.

use crate::common;

use common::*;

/// Two nodes with the DaemonSet `agent`; a bare pod `web-*` on each; a budget over them.
fn cluster(min_available: u32) -> String {
    let web = |node: &str| {
        format!(
            "---\napiVersion: v1\nkind: Pod\nmetadata: {{name: web-{node}, namespace: default, labels: {{app: web}}}}\n\
             spec: {{nodeName: {node}, containers: [{{name: web, image: 'registry.example/web:v1'}}]}}\n"
        )
    };
    format!(
        "{FAST}{}{}{}{}---\napiVersion: policy/v1\nkind: PodDisruptionBudget\nmetadata: {{name: web, namespace: default}}\n\
         spec: {{minAvailable: {min_available}, selector: {{matchLabels: {{app: web}}}}}}\n",
        nodes_yaml(&["node-a", "node-b"]),
        ds_yaml("agent", "{type: RollingUpdate}"),
        web("node-a"),
        web("node-b"),
    )
}

/// `kubectl get pdb web --no-headers` once the controller has counted both pods healthy.
async fn pdb_row(k: &Kubectl, allowed: &str) -> String {
    until(30, "the budget's status", || async {
        let o = k.ok_async(&["get", "pdb", "web", "--no-headers"]).await;
        let c: Vec<&str> = o.split_whitespace().collect();
        if c.get(3) == Some(&allowed) { Ok(o) } else { Err(o) }
    })
    .await
}

async fn drain_blocked_then_allowed(bin: std::path::PathBuf) {
    let sim = serve(&cluster(2)).await;
    let k = Kubectl::new(bin.clone(), &sim, None);
    let row = pdb_row(&k, "0").await;
    let cols: Vec<&str> = row.split_whitespace().collect();
    assert_eq!(&cols[..4], ["web", "2", "N/A", "0"], "{bin:?}: {row}");

    // Without --force the bare pod stops the drain before anything is evicted.
    let o = k.run_async(&["drain", "node-a", "--ignore-daemonsets"]).await;
    let (out, err) = (String::from_utf8_lossy(&o.stdout), String::from_utf8_lossy(&o.stderr));
    assert!(!o.status.success(), "{bin:?}");
    assert!(out.contains("node/node-a cordoned"), "{bin:?}: {out}");
    // (1.27 says "cannot delete Pods declare no controller", later ones "Pods that declare".)
    assert!(err.contains("no controller (use --force to override): default/web-node-a"), "{bin:?}: {err}");

    // With --force: blocked by the budget, retried, given up at the timeout.
    let o = k.run_async(&["drain", "node-a", "--ignore-daemonsets", "--force", "--timeout=7s"]).await;
    let (out, err) = (String::from_utf8_lossy(&o.stdout), String::from_utf8_lossy(&o.stderr));
    assert!(!o.status.success(), "{bin:?}: {out}");
    assert!(out.contains("node/node-a already cordoned") && out.contains("evicting pod default/web-node-a"), "{bin:?}: {out}");
    assert!(err.contains("ignoring DaemonSet-managed Pods: kube-system/agent-"), "{bin:?}: {err}");
    let retry = "error when evicting pods/\"web-node-a\" -n \"default\" (will retry after 5s): Cannot evict pod as it would violate the pod's disruption budget.";
    assert!(err.contains(retry), "{bin:?}: {err}");
    k.ok_async(&["get", "pod", "web-node-a"]).await;

    // The budget allows one: the same drain evicts the pod and finishes.
    k.ok_async(&["patch", "pdb", "web", "--type=merge", "-p", r#"{"spec":{"minAvailable":1}}"#]).await;
    pdb_row(&k, "1").await;
    let o = k.run_async(&["drain", "node-a", "--ignore-daemonsets", "--force", "--timeout=30s"]).await;
    let (out, err) = (String::from_utf8_lossy(&o.stdout), String::from_utf8_lossy(&o.stderr));
    assert!(o.status.success(), "{bin:?}: {out}{err}");
    assert!(out.contains("pod/web-node-a evicted") && out.contains("node/node-a drained"), "{bin:?}: {out}");
    // kubectl joins its warnings in Go map order: either may come first.
    assert!(err.contains("deleting Pods that declare no controller: default/web-node-a"), "{bin:?}: {err}");
    assert!(!err.contains("will retry"), "{bin:?}: {err}");
    let o = k.run_async(&["get", "pod", "web-node-a"]).await;
    assert!(String::from_utf8_lossy(&o.stderr).contains("pods \"web-node-a\" not found"), "{bin:?}");
    // The DaemonSet's pod stays; the other budgeted pod too, and the budget is spent.
    let pods = k.ok_async(&["get", "pods", "-A", "--field-selector", "spec.nodeName=node-a", "--no-headers"]).await;
    assert!(pods.contains("agent-") && !pods.contains("web-"), "{bin:?}: {pods}");
    pdb_row(&k, "0").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kubectl_drain_waits_on_a_budget_and_evicts_when_it_allows() {
    let versions = kubectl_versions();
    if versions.is_empty() {
        eprintln!("SKIPPED: no kubectl on PATH");
        return;
    }
    for bin in versions {
        drain_blocked_then_allowed(bin).await;
    }
}

/// POST an Eviction for `pod` (named `named` in the body) with `query`; (code, Retry-After, body).
async fn evict(c: &kube::Client, pod: &str, named: &str, query: &str) -> (u16, Option<String>, serde_json::Value) {
    use http_body_util::BodyExt;
    let body = serde_json::json!({"apiVersion": "policy/v1", "kind": "Eviction", "metadata": {"name": named, "namespace": "default"}});
    let req = http::Request::post(format!("/api/v1/namespaces/default/pods/{pod}/eviction{query}"))
        .header("content-type", "application/json")
        .body(kube::client::Body::from(serde_json::to_vec(&body).unwrap()))
        .unwrap();
    let resp = c.send(req).await.unwrap();
    let code = resp.status().as_u16();
    let retry = resp.headers().get("retry-after").map(|v| v.to_str().unwrap().to_string());
    let body = resp.into_body().collect().await.unwrap().to_bytes();
    (code, retry, serde_json::from_slice(&body).unwrap_or(serde_json::Value::Null))
}

/// The eviction subresource's answers, each the Status the real server sends
/// (`pkg/registry/core/pod/storage/eviction.go`).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_eviction_subresource_answers_as_kube_apiserver_does() {
    use k8s_openapi::api::core::v1::Pod;
    use k8s_openapi::api::policy::v1::PodDisruptionBudget;
    let sim = serve(&cluster(2)).await;
    let c = client(&sim);
    let pdbs: kube::Api<PodDisruptionBudget> = kube::Api::namespaced(c.clone(), "default");
    let pods: kube::Api<Pod> = kube::Api::namespaced(c.clone(), "default");
    let status = || async {
        let b = pdbs.get("web").await.unwrap();
        let s = b.status.unwrap_or_default();
        (s.current_healthy, s.desired_healthy, s.expected_pods, s.disruptions_allowed)
    };
    until(30, "both pods healthy", || async { if status().await == (2, 2, 2, 0) { Ok(()) } else { Err(format!("{:?}", status().await)) } })
        .await;

    // The budget allows none: 429, the cause naming the budget's numbers, no Retry-After.
    let (code, retry, body) = evict(&c, "web-node-a", "web-node-a", "").await;
    assert_eq!((code, retry), (429, None));
    assert_eq!(
        body,
        serde_json::json!({"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
            "message": "Cannot evict pod as it would violate the pod's disruption budget.", "reason": "TooManyRequests",
            "details": {"causes": [{"reason": "DisruptionBudget", "message": "The disruption budget web needs 2 healthy pods and has 2 currently"}]},
            "code": 429})
    );
    // The body names another pod: 400; a pod that is not there: 404.
    let (code, _, body) = evict(&c, "web-node-a", "web-node-b", "").await;
    assert_eq!((code, body["message"].as_str()), (400, Some("name in URL does not match name in Eviction object")));
    let (code, _, body) = evict(&c, "nope", "nope", "").await;
    assert_eq!((code, body["message"].as_str()), (404, Some("pods \"nope\" not found")));

    // One disruption allowed: a server dry-run says yes and changes nothing.
    let mut b = pdbs.get("web").await.unwrap();
    b.spec.as_mut().unwrap().min_available = Some(k8s_openapi::apimachinery::pkg::util::intstr::IntOrString::Int(1));
    b.metadata.managed_fields = None;
    pdbs.replace("web", &Default::default(), &b).await.unwrap();
    until(30, "one disruption allowed", || async {
        if status().await == (2, 1, 2, 1) { Ok(()) } else { Err(format!("{:?}", status().await)) }
    })
    .await;
    let (code, _, body) = evict(&c, "web-node-a", "web-node-a", "?dryRun=All").await;
    assert_eq!((code, body["status"].as_str()), (201, Some("Success")));
    assert!(pods.get("web-node-a").await.unwrap().metadata.deletion_timestamp.is_none(), "dry-run deletes nothing");
    assert_eq!(status().await.3, 1, "dry-run takes no disruption");
    // For real: the disruption is taken at once (the pod noted in disruptedPods), and the
    // pod is marked DisruptionTarget and deleted.
    let (code, _, body) = evict(&c, "web-node-a", "web-node-a", "").await;
    assert_eq!(
        (code, body),
        (201, serde_json::json!({"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Success", "code": 201}))
    );
    let b = pdbs.get("web").await.unwrap().status.unwrap();
    assert!(b.disrupted_pods.unwrap_or_default().contains_key("web-node-a") || b.disruptions_allowed == 0, "the budget is spent");
    if let Ok(p) = pods.get("web-node-a").await {
        assert!(p.metadata.deletion_timestamp.is_some());
        let cond = p.status.unwrap().conditions.unwrap().into_iter().find(|c| c.type_ == "DisruptionTarget").unwrap();
        assert_eq!((cond.status.as_str(), cond.reason.as_deref()), ("True", Some("EvictionByEvictionAPI")));
    }
    // The other pod is now the last healthy one: refused.
    let (code, _, _) = evict(&c, "web-node-b", "web-node-b", "").await;
    assert_eq!(code, 429);
}

/// A ReplicaSet's pod evicted by a drain comes back on a node that is not cordoned, and
/// a `maxUnavailable` budget counts the ReplicaSet's scale (the controller's
/// `getExpectedScale`), as on a real cluster.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_drained_replicasets_pod_comes_back_elsewhere_within_its_budget() {
    let Some(bin) = kubectl_bin() else { return };
    let yaml = format!(
        "{FAST}{}---\napiVersion: apps/v1\nkind: ReplicaSet\nmetadata: {{name: web, namespace: default}}\n\
         spec: {{replicas: 2, selector: {{matchLabels: {{app: web}}}}, template: {{metadata: {{labels: {{app: web}}}}, \
         spec: {{containers: [{{name: web, image: 'registry.example/web:v1'}}]}}}}}}\n\
         ---\napiVersion: policy/v1\nkind: PodDisruptionBudget\nmetadata: {{name: web, namespace: default}}\n\
         spec: {{maxUnavailable: 1, selector: {{matchLabels: {{app: web}}}}}}\n",
        nodes_yaml(&["node-a", "node-b", "node-c"]),
    );
    let sim = serve(&yaml).await;
    let k = Kubectl::new(bin, &sim, None);
    let rs = until(30, "both replicas ready", || async {
        let o = k.ok_async(&["get", "rs", "web", "--no-headers"]).await;
        let c: Vec<&str> = o.split_whitespace().collect();
        if c[1..4] == ["2", "2", "2"] { Ok(o) } else { Err(o) }
    })
    .await;
    assert!(rs.starts_with("web "), "{rs}");
    let row = pdb_row(&k, "1").await;
    assert_eq!(row.split_whitespace().take(4).collect::<Vec<_>>(), ["web", "N/A", "1", "1"], "{row}");
    // The node of one web pod.
    let wide = k.ok_async(&["get", "pods", "-l", "app=web", "-o", "wide", "--no-headers"]).await;
    let node = wide.lines().next().unwrap().split_whitespace().nth(6).unwrap().to_string();
    let out = k.ok_async(&["drain", &node, "--ignore-daemonsets", "--timeout=30s"]).await;
    assert!(out.contains(&format!("node/{node} drained")), "{out}");
    let wide = until(30, "two web pods again, none on the drained node", || async {
        let o = k.ok_async(&["get", "pods", "-l", "app=web", "-o", "wide", "--no-headers"]).await;
        let rows: Vec<Vec<&str>> = o.lines().map(|l| l.split_whitespace().collect()).collect();
        let ok = rows.len() == 2 && rows.iter().all(|r| r[2] == "Running" && r[1] == "1/1" && r[6] != node);
        if ok { Ok(o) } else { Err(o) }
    })
    .await;
    assert!(!wide.contains(&node), "{wide}");
}

/// node-a carries a mirror pod, a ReplicaSet's pod with an emptyDir, a finished Job pod,
/// a bare pod under a budget that allows nothing, and the DaemonSet's pod.
fn mixed_node() -> String {
    format!(
        "{FAST}{}{}\
---\napiVersion: v1\nkind: Pod\nmetadata: {{name: kube-apiserver-node-a, namespace: kube-system, \
annotations: {{kubernetes.io/config.mirror: 0123456789abcdef, kubernetes.io/config.source: file}}, \
ownerReferences: [{{apiVersion: v1, kind: Node, name: node-a, uid: '', controller: true}}]}}\n\
spec: {{nodeName: node-a, containers: [{{name: kube-apiserver, image: 'registry.k8s.io/kube-apiserver:v1.32.4'}}]}}\n\
---\napiVersion: apps/v1\nkind: ReplicaSet\nmetadata: {{name: cache, namespace: default}}\n\
spec: {{replicas: 1, selector: {{matchLabels: {{app: cache}}}}, template: {{metadata: {{labels: {{app: cache}}}}, \
spec: {{nodeSelector: {{kubernetes.io/hostname: node-a}}, volumes: [{{name: scratch, emptyDir: {{}}}}], \
containers: [{{name: cache, image: 'registry.example/cache:v1', volumeMounts: [{{name: scratch, mountPath: /scratch}}]}}]}}}}}}\n\
---\napiVersion: v1\nkind: Pod\nmetadata: {{name: report-1, namespace: default, labels: {{job-name: report}}}}\n\
spec: {{nodeName: node-a, restartPolicy: Never, containers: [{{name: report, image: 'registry.example/report:v1'}}]}}\n\
status: {{phase: Succeeded}}\n\
---\napiVersion: v1\nkind: Pod\nmetadata: {{name: web-node-a, namespace: default, labels: {{app: web}}}}\n\
spec: {{nodeName: node-a, containers: [{{name: web, image: 'registry.example/web:v1'}}]}}\n\
---\napiVersion: policy/v1\nkind: PodDisruptionBudget\nmetadata: {{name: web, namespace: default}}\n\
spec: {{minAvailable: 1, selector: {{matchLabels: {{app: web}}}}}}\n",
        nodes_yaml(&["node-a", "node-b"]),
        ds_yaml("agent", "{type: RollingUpdate}"),
    )
}

async fn drain_mixed_node(bin: std::path::PathBuf) {
    let sim = serve(&mixed_node()).await;
    let k = Kubectl::new(bin.clone(), &sim, None);
    pdb_row(&k, "0").await;
    until(30, "the cache pod running", || async {
        let o = k.ok_async(&["get", "pods", "-l", "app=cache", "--no-headers"]).await;
        if o.contains("Running") { Ok(()) } else { Err(o) }
    })
    .await;

    // Without --delete-emptydir-data the emptyDir pod stops the drain before anything goes.
    let o = k.run_async(&["drain", "node-a", "--ignore-daemonsets", "--force"]).await;
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(!o.status.success(), "{bin:?}");
    assert!(err.contains("with local storage (use --delete-emptydir-data to override): default/cache-"), "{bin:?}: {err}");
    // A mirror pod is never named: the kubelet owns it.
    assert!(!err.contains("kube-apiserver-node-a"), "{bin:?}: {err}");
    k.ok_async(&["get", "pod", "web-node-a"]).await;

    // --disable-eviction deletes instead of evicting: the budget is not asked.
    let o = k
        .run_async(&["drain", "node-a", "--ignore-daemonsets", "--force", "--delete-emptydir-data", "--disable-eviction", "--timeout=30s"])
        .await;
    let (out, err) = (String::from_utf8_lossy(&o.stdout), String::from_utf8_lossy(&o.stderr));
    assert!(o.status.success(), "{bin:?}: {out}{err}");
    assert!(out.contains("pod/web-node-a deleted") && out.contains("pod/report-1 deleted"), "{bin:?}: {out}");
    assert!(out.contains("node/node-a drained") && !out.contains("evicted"), "{bin:?}: {out}");
    assert!(!err.contains("will retry") && !format!("{out}{err}").contains("kube-apiserver-node-a"), "{bin:?}: {out}{err}");
    // The cache pod goes too (kubectl's later controller check overrides its local-storage
    // warning, as against a real cluster: the last filter's status stands).
    assert!(out.lines().any(|l| l.starts_with("pod/cache-") && l.ends_with(" deleted")), "{bin:?}: {out}");
    // A finished pod needs no --force: it is not among those that declare no controller.
    let bare = err.lines().find(|l| l.contains("no controller")).unwrap_or("");
    assert!(bare.contains("default/web-node-a") && !bare.contains("report-1"), "{bin:?}: {err}");
    // The mirror pod and the DaemonSet's pod stay; the ReplicaSet's replacement waits for an uncordoned node-a.
    let pods = k.ok_async(&["get", "pods", "-A", "--field-selector", "spec.nodeName=node-a", "--no-headers"]).await;
    assert!(pods.contains("kube-apiserver-node-a") && pods.contains("agent-"), "{bin:?}: {pods}");
    assert!(!pods.contains("web-node-a") && !pods.contains("report-1") && !pods.contains("cache-"), "{bin:?}: {pods}");
    let pending = k.ok_async(&["get", "pods", "-l", "app=cache", "--no-headers"]).await;
    assert!(pending.contains("Pending"), "{bin:?}: {pending}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kubectl_drain_skips_mirror_pods_refuses_emptydir_and_can_delete_instead_of_evicting() {
    let versions = kubectl_versions();
    if versions.is_empty() {
        eprintln!("SKIPPED: no kubectl on PATH");
        return;
    }
    for bin in versions {
        drain_mixed_node(bin).await;
    }
}

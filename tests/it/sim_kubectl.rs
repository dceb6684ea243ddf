//! The real kubectl against the simulator: what it prints and does must be what it
//! would print and do against a real cluster. Skips loudly when kubectl is absent.

use crate::common;

use std::io::{BufRead, BufReader};
use std::process::Stdio;
use std::time::Duration;

use common::*;
use k8s_openapi::api::apps::v1::DaemonSet;
use k8s_openapi::api::core::v1::{Node, Pod};

fn cluster() -> String {
    format!(
        "{FAST}{}{}{}",
        nodes_yaml(&["node-a", "node-b", "node-c"]),
        ds_yaml("agent", "{type: RollingUpdate, rollingUpdate: {maxUnavailable: 1}}"),
        ds_yaml("cni", "{type: OnDelete}")
    )
}

macro_rules! kubectl_or_skip {
    ($url:expr) => {
        match kubectl_bin() {
            Some(bin) => Kubectl::new(bin, &$url, None),
            None => return,
        }
    };
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn get_prints_real_columns_in_every_format() {
    let sim = serve(&cluster()).await;
    let k = kubectl_or_skip!(sim);
    let nodes = k.ok_async(&["get", "nodes"]).await;
    let header: Vec<&str> = nodes.lines().next().unwrap().split_whitespace().collect();
    assert_eq!(header, ["NAME", "STATUS", "ROLES", "AGE", "VERSION"]);
    assert!(
        nodes.lines().any(|l| l.starts_with("node-a") && l.contains(" Ready ") && l.contains("<none>") && l.contains("v1.32.4")),
        "{nodes}"
    );
    let wide = k.ok_async(&["get", "nodes", "-o", "wide"]).await;
    let header: Vec<&str> = wide.lines().next().unwrap().split_whitespace().collect();
    assert_eq!(
        header,
        ["NAME", "STATUS", "ROLES", "AGE", "VERSION", "INTERNAL-IP", "EXTERNAL-IP", "OS-IMAGE", "KERNEL-VERSION", "CONTAINER-RUNTIME"]
    );
    assert!(wide.contains("containerd://"), "{wide}");

    let ds = k.ok_async(&["get", "ds", "-n", "kube-system"]).await;
    let header: Vec<&str> = ds.lines().next().unwrap().split_whitespace().collect();
    assert_eq!(header, ["NAME", "DESIRED", "CURRENT", "READY", "UP-TO-DATE", "AVAILABLE", "NODE", "SELECTOR", "AGE"]);
    let agent: Vec<&str> = ds.lines().find(|l| l.starts_with("agent")).unwrap().split_whitespace().collect();
    assert_eq!(&agent[1..7], ["3", "3", "3", "3", "3", "<none>"], "a settled scenario: every node covered\n{ds}");
    let ds_wide = k.ok_async(&["get", "ds", "-A", "-o", "wide"]).await;
    assert!(ds_wide.lines().next().unwrap().starts_with("NAMESPACE"));
    assert!(ds_wide.contains("registry.example/agent:v1") && ds_wide.contains("app=agent"), "{ds_wide}");

    let pods = k.ok_async(&["get", "pods", "-A", "-o", "wide"]).await;
    let header: Vec<&str> = pods.lines().next().unwrap().split_whitespace().collect();
    assert_eq!(
        header,
        ["NAMESPACE", "NAME", "READY", "STATUS", "RESTARTS", "AGE", "IP", "NODE", "NOMINATED", "NODE", "READINESS", "GATES"]
    );
    assert_eq!(pods.lines().filter(|l| l.contains("1/1") && l.contains("Running")).count(), 6, "{pods}");

    let json: serde_json::Value = serde_json::from_str(&k.ok_async(&["get", "pods", "-n", "kube-system", "-o", "json"]).await).unwrap();
    let items = json["items"].as_array().unwrap();
    assert_eq!(items.len(), 6);
    let p: Pod = serde_json::from_value(items[0].clone()).unwrap();
    let labels = p.metadata.labels.unwrap();
    assert!(labels.contains_key("controller-revision-hash") && labels["pod-template-generation"] == "1");
    let owner = &p.metadata.owner_references.unwrap()[0];
    assert_eq!((owner.kind.as_str(), owner.controller, owner.block_owner_deletion), ("DaemonSet", Some(true), Some(true)));

    // Selectors pass through.
    let sel =
        k.ok_async(&["get", "pods", "-n", "kube-system", "-l", "app=cni", "--field-selector", "spec.nodeName=node-b", "-o", "name"]).await;
    assert_eq!(sel.lines().count(), 1, "{sel}");
    let bad = k.run_async(&["get", "pods", "-A", "--field-selector", "spec.image=x"]).await;
    assert!(
        String::from_utf8_lossy(&bad.stderr).contains("field label not supported: spec.image"),
        "{}",
        String::from_utf8_lossy(&bad.stderr)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn get_watch_streams_changes() {
    let sim = serve(&cluster()).await;
    let k = kubectl_or_skip!(sim);
    let mut child = k.cmd(&["get", "nodes", "-w"]).stdout(Stdio::piped()).stderr(Stdio::null()).spawn().unwrap();
    let stdout = child.stdout.take().unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    let first: Vec<String> = (0..4).map(|_| rx.recv_timeout(Duration::from_secs(10)).expect("initial rows")).collect();
    assert!(first[0].starts_with("NAME"), "{first:?}");
    daemonscope::sim::create_value(
        &sim.store,
        daemonscope::sim::kind::Kind::Node,
        serde_json::json!({"apiVersion": "v1", "kind": "Node", "metadata": {"name": "node-late"}}),
    )
    .unwrap();
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    let mut seen = Vec::new();
    while std::time::Instant::now() < deadline {
        if let Ok(l) = rx.recv_timeout(Duration::from_millis(200)) {
            seen.push(l.clone());
            if l.starts_with("node-late") && l.contains(" Ready ") {
                break;
            }
        }
    }
    child.kill().ok();
    child.wait().ok();
    assert!(seen.iter().any(|l| l.starts_with("node-late")), "watch showed the new node: {seen:?}");
    assert!(!seen.iter().any(|l| l.starts_with("NAME")), "no repeated header: {seen:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn create_cordon_label_taint() {
    let sim = serve(&cluster()).await;
    let k = kubectl_or_skip!(sim);
    let manifest = k.dir.path().join("ds.yaml");
    std::fs::write(&manifest, ds_yaml("logger", "{type: RollingUpdate}").replace("namespace: kube-system", "namespace: default")).unwrap();
    let out = k.ok_async(&["create", "-f", manifest.to_str().unwrap()]).await;
    assert_eq!(out.trim(), "daemonset.apps/logger created");
    let again = k.run_async(&["create", "-f", manifest.to_str().unwrap()]).await;
    assert!(String::from_utf8_lossy(&again.stderr).contains("AlreadyExists"), "{}", String::from_utf8_lossy(&again.stderr));
    let c = client(&sim);
    let pods: kube::Api<Pod> = kube::Api::namespaced(c.clone(), "default");
    eventually(10, "logger pods on every node", || {
        let pods = pods.clone();
        async move {
            let l = pods.list(&kube::api::ListParams::default().labels("app=logger")).await.ok()?;
            (l.items.len() == 3).then_some(())
        }
    })
    .await;

    assert_eq!(k.ok_async(&["cordon", "node-a"]).await.trim(), "node/node-a cordoned");
    assert_eq!(k.ok_async(&["cordon", "node-a"]).await.trim(), "node/node-a already cordoned");
    assert_eq!(k.ok_async(&["get", "node", "node-a", "-o", "jsonpath={.spec.unschedulable}"]).await, "true");
    let status = k.ok_async(&["get", "node", "node-a"]).await;
    assert!(status.contains("Ready,SchedulingDisabled"), "{status}");
    assert_eq!(k.ok_async(&["uncordon", "node-a"]).await.trim(), "node/node-a uncordoned");
    assert_eq!(k.ok_async(&["get", "node", "node-a", "-o", "jsonpath={.spec.unschedulable}"]).await, "");

    assert_eq!(k.ok_async(&["label", "node", "node-a", "disktype=ssd"]).await.trim(), "node/node-a labeled");
    let refused = k.run_async(&["label", "node", "node-a", "disktype=hdd"]).await;
    assert!(String::from_utf8_lossy(&refused.stderr).contains("--overwrite is false"));
    k.ok_async(&["label", "node", "node-a", "disktype=hdd", "--overwrite"]).await;
    assert_eq!(k.ok_async(&["get", "node", "node-a", "-o", "jsonpath={.metadata.labels.disktype}"]).await, "hdd");
    assert_eq!(k.ok_async(&["label", "node", "node-a", "disktype-"]).await.trim(), "node/node-a unlabeled");
    assert_eq!(k.ok_async(&["get", "node", "node-a", "-o", "jsonpath={.metadata.labels.disktype}"]).await, "");
    let bad = k.run_async(&["label", "node", "node-a", "bad key=x"]).await;
    assert!(!bad.status.success());
    let err = String::from_utf8_lossy(&bad.stderr);
    assert!(
        err.contains(
            "The Node \"node-a\" is invalid: metadata.labels: Invalid value: \"bad key\": name part must consist of alphanumeric characters"
        ),
        "{err}"
    );

    // A NoExecute taint the DaemonSets do not tolerate evicts their pods and takes the
    // node out of desiredNumberScheduled.
    assert_eq!(k.ok_async(&["taint", "node", "node-b", "dedicated=infra:NoExecute"]).await.trim(), "node/node-b tainted");
    let dss: kube::Api<DaemonSet> = kube::Api::namespaced(c.clone(), "kube-system");
    eventually(10, "agent leaves node-b", || {
        let dss = dss.clone();
        async move {
            let s = dss.get("agent").await.ok()?.status?;
            (s.desired_number_scheduled == 2 && s.current_number_scheduled == 2 && s.number_misscheduled == 0).then_some(())
        }
    })
    .await;
    assert_eq!(k.ok_async(&["taint", "node", "node-b", "dedicated-"]).await.trim(), "node/node-b untainted");
    eventually(10, "agent back on node-b", || {
        let dss = dss.clone();
        async move { (dss.get("agent").await.ok()?.status?.number_ready == 3).then_some(()) }
    })
    .await;
    let nodes: kube::Api<Node> = kube::Api::all(c);
    assert!(nodes.get("node-b").await.unwrap().spec.unwrap().taints.is_none());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn delete_pod_rollout_restart_and_status() {
    let sim = serve(&cluster()).await;
    let k = kubectl_or_skip!(sim);
    let pods = k.ok_async(&["get", "pods", "-n", "kube-system", "-l", "app=agent", "-o", "name"]).await;
    let victim = pods.lines().next().unwrap().to_string();
    let out = k.ok_async(&["delete", "-n", "kube-system", &victim]).await;
    assert_eq!(out.trim(), format!("{} deleted", victim.replace("pod/", "pod \"").to_string() + "\""));
    let c = client(&sim);
    let dss: kube::Api<DaemonSet> = kube::Api::namespaced(c.clone(), "kube-system");
    let pods: kube::Api<Pod> = kube::Api::namespaced(c, "kube-system");
    let victim_name = victim.trim_start_matches("pod/").to_string();
    eventually(10, "the DaemonSet replaces the deleted pod", || {
        let pods = pods.clone();
        let victim_name = victim_name.clone();
        async move {
            let l = pods.list(&kube::api::ListParams::default().labels("app=agent")).await.ok()?;
            let ready = |p: &Pod| p.status.as_ref()?.conditions.as_ref()?.iter().find(|c| c.type_ == "Ready").map(|c| c.status == "True");
            let ok =
                l.items.len() == 3 && l.items.iter().all(|p| p.metadata.name.as_deref() != Some(&victim_name) && ready(p) == Some(true));
            ok.then_some(())
        }
    })
    .await;
    let after = k.ok_async(&["get", "pods", "-n", "kube-system", "-l", "app=agent", "-o", "name"]).await;
    assert!(!after.contains(&victim) && after.lines().count() == 3, "{after}");

    assert_eq!(k.ok_async(&["rollout", "restart", "ds/agent", "-n", "kube-system"]).await.trim(), "daemonset.apps/agent restarted");
    let status = k.ok_async(&["rollout", "status", "ds/agent", "-n", "kube-system", "--timeout=60s"]).await;
    assert!(status.trim_end().ends_with("daemon set \"agent\" successfully rolled out"), "{status}");
    assert!(status.contains("Waiting for daemon set \"agent\" rollout to finish"), "rollout status waited: {status}");
    let ds = dss.get("agent").await.unwrap();
    let st = ds.status.unwrap();
    assert_eq!(
        (st.updated_number_scheduled, st.number_available, ds.metadata.generation, st.observed_generation),
        (Some(3), Some(3), Some(2), Some(2))
    );
    assert!(ds.spec.unwrap().template.metadata.unwrap().annotations.unwrap().contains_key("kubectl.kubernetes.io/restartedAt"));

    let ondelete = k.run_async(&["rollout", "status", "ds/cni", "-n", "kube-system"]).await;
    assert!(String::from_utf8_lossy(&ondelete.stderr).contains("rollout status is only available for RollingUpdate strategy type"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn auth_can_i_follows_token_rules() {
    let yaml = format!(
        "{}{}",
        "apiVersion: sim.daemonscope.io/v1alpha1
kind: Simulation
settings:
  tokens:
  - {token: admin-token, user: admin, rules: [{verbs: ['*'], resources: ['*']}]}
  - {token: viewer-token, user: viewer, rules: [{verbs: [get, list, watch], resources: ['*']}]}
",
        nodes_yaml(&["node-a"])
    );
    let sim = serve(&yaml).await;
    let Some(bin) = kubectl_bin() else { return };
    let viewer = Kubectl::new(bin.clone(), &sim, Some("viewer-token"));
    assert_eq!(viewer.ok_async(&["auth", "can-i", "list", "nodes"]).await.trim(), "yes");
    let no = viewer.run_async(&["auth", "can-i", "patch", "nodes"]).await;
    assert_eq!((String::from_utf8_lossy(&no.stdout).trim(), no.status.code()), ("no", Some(1)));
    let forbidden = viewer.run_async(&["cordon", "node-a"]).await;
    let err = String::from_utf8_lossy(&forbidden.stderr);
    assert!(
        err.contains(
            "nodes \"node-a\" is forbidden: User \"viewer\" cannot patch resource \"nodes\" in API group \"\" at the cluster scope"
        ),
        "{err}"
    );
    let admin = Kubectl::new(bin.clone(), &sim, Some("admin-token"));
    assert_eq!(admin.ok_async(&["auth", "can-i", "patch", "nodes"]).await.trim(), "yes");
    // Without a token: 401 (kubectl itself would prompt for a password here).
    let anon: kube::Api<Node> = kube::Api::all(anonymous_client(&sim));
    match anon.list(&Default::default()).await {
        Err(kube::Error::Api(s)) => assert_eq!((s.code, s.reason.as_str()), (401, "Unauthorized")),
        other => panic!("expected 401, got {other:?}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn logs_match_what_the_pod_is_doing() {
    let yaml = format!(
        "{FAST}{}{}{}---
apiVersion: v1
kind: Node
metadata: {{name: node-bad, annotations: {{sim.daemonscope.io/pod-behavior: 'agent=crash-loop,cni=image-pull-error'}}}}
",
        nodes_yaml(&["node-a"]),
        ds_yaml("agent", "{type: RollingUpdate}"),
        ds_yaml("cni", "{type: OnDelete}")
    );
    let sim = serve(&yaml).await;
    let k = kubectl_or_skip!(sim);
    let pod_on = |app: &str, node: &str| {
        let sel = format!("app={app}");
        let fs = format!("spec.nodeName={node}");
        let out = k.ok(&["get", "pods", "-n", "kube-system", "-l", &sel, "--field-selector", &fs, "-o", "name"]);
        out.trim().to_string()
    };
    let healthy = tokio::task::block_in_place(|| pod_on("agent", "node-a"));
    let logs = k.ok_async(&["logs", "-n", "kube-system", &healthy, "--tail=5"]).await;
    assert!(!logs.is_empty() && logs.lines().count() <= 5, "{logs}");
    // A crash-looping container's previous run ends in its fatal error.
    let crashing = tokio::task::block_in_place(|| pod_on("agent", "node-bad"));
    let mut prev = String::new();
    for _ in 0..40 {
        let o = k.run_async(&["logs", "-n", "kube-system", &crashing, "--previous"]).await;
        if o.status.success() {
            prev = String::from_utf8_lossy(&o.stdout).into_owned();
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(250)).await;
    }
    assert!(prev.lines().last().unwrap_or("").starts_with("F0000 main.go:87] failed to start"), "{prev}");
    // An image that cannot be pulled has no logs, and kubectl says why.
    let pulling = tokio::task::block_in_place(|| pod_on("cni", "node-bad"));
    let o = k.run_async(&["logs", "-n", "kube-system", &pulling]).await;
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("is waiting to start: trying and failing to pull image"), "{err}");
    // -f follows until interrupted: after the last line there is, the next one written
    // (a running container logs every 5 s) arrives on the same stream.
    let mut child = k.cmd(&["logs", "-f", "--tail=1", "-n", "kube-system", &healthy]).stdout(Stdio::piped()).spawn().unwrap();
    let stdout = child.stdout.take().unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    let first = rx.recv_timeout(Duration::from_secs(10)).expect("the last line");
    let next = rx.recv_timeout(Duration::from_secs(15));
    assert!(next.is_ok(), "a line written after the first ({first:?}) followed; kubectl exited: {:?}", child.try_wait());
    assert!(child.try_wait().unwrap().is_none(), "follow keeps the stream open");
    child.kill().ok();
    child.wait().ok();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_demo_scenario_runs_its_timeline() {
    // The embedded demo with its own timeline: cilium (OnDelete) is bumped at 0 s and
    // keeps its old pods; a node goes NotReady at 5 s.
    let text = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/assets/scenarios/demo.yaml")).unwrap();
    let sim = serve(&text).await;
    let k = kubectl_or_skip!(sim);
    let c = client(&sim);
    let dss: kube::Api<DaemonSet> = kube::Api::namespaced(c.clone(), "kube-system");
    eventually(10, "cilium on a new template with every pod outdated", || {
        let dss = dss.clone();
        async move {
            let d = dss.get("cilium").await.ok()?;
            let st = d.status?;
            (d.metadata.generation == Some(2) && st.updated_number_scheduled.is_none() && st.desired_number_scheduled == 50).then_some(())
        }
    })
    .await;
    let nodes: kube::Api<Node> = kube::Api::all(c);
    eventually(15, "general-b-0005 NotReady", || {
        let nodes = nodes.clone();
        async move {
            let n = nodes.get("general-b-0005").await.ok()?;
            let ready = n.status?.conditions?.into_iter().find(|c| c.type_ == "Ready")?;
            (ready.status == "False").then_some(())
        }
    })
    .await;
    let out = k.ok_async(&["get", "node", "general-b-0005"]).await;
    assert!(out.contains("NotReady"), "{out}");
}

/// A DaemonSet manifest for `kubectl apply`: `v` picks the first or the changed version.
fn applied_ds(name: &str, v: u8) -> String {
    let (labels, strategy, containers) = if v == 1 {
        (
            "{team: a, old: x}",
            "{type: RollingUpdate, rollingUpdate: {maxUnavailable: 2}}",
            "- {name: main, image: 'registry.example/app:v1', env: [{name: A, value: '1'}, {name: B, value: '2'}]}\n      - {name: sidecar, image: 'registry.example/side:v1'}",
        )
    } else {
        ("{team: b}", "{type: OnDelete}", "- {name: main, image: 'registry.example/app:v2', env: [{name: B, value: '3'}]}")
    };
    format!(
        "apiVersion: apps/v1\nkind: DaemonSet\nmetadata: {{name: {name}, namespace: default, labels: {labels}}}\nspec:\n  selector: {{matchLabels: {{app: {name}}}}}\n  updateStrategy: {strategy}\n  template:\n    metadata: {{labels: {{app: {name}}}}}\n    spec:\n      containers:\n      {containers}\n"
    )
}

/// Every kubectl from 1.27 to 1.33 with its default flags (validation on, so it reads
/// /openapi/v2 and /openapi/v3 first): create -f, apply -f and apply -f of a changed
/// DaemonSet (a three-way strategic merge with the last-applied annotation), diff -f,
/// edit, and explain.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_kubectl_version_creates_applies_diffs_edits_and_explains_with_default_flags() {
    let bins = kubectl_versions();
    if bins.is_empty() {
        return;
    }
    let sim = serve(&cluster()).await;
    let c = client(&sim);
    let dss: kube::Api<DaemonSet> = kube::Api::namespaced(c, "default");
    for bin in bins {
        let v = bin.file_name().unwrap().to_string_lossy().replace("kubectl.1.", "1-");
        let k = Kubectl::new(bin.clone(), &sim, None);
        let at = |what: &str| format!("{}: {what}", bin.display());
        let (name, created) = (format!("app-{v}"), format!("made-{v}"));
        let f1 = k.dir.path().join("v1.yaml");
        let f2 = k.dir.path().join("v2.yaml");
        std::fs::write(&f1, applied_ds(&name, 1)).unwrap();
        std::fs::write(&f2, applied_ds(&name, 2)).unwrap();
        // create -f
        let made = k.dir.path().join("made.yaml");
        std::fs::write(&made, applied_ds(&created, 1)).unwrap();
        let out = k.ok_async(&["create", "-f", made.to_str().unwrap()]).await;
        assert_eq!(out.trim(), format!("daemonset.apps/{created} created"), "{}", at("create"));
        // apply -f, then diff and apply of the changed manifest.
        let out = k.ok_async(&["apply", "-f", f1.to_str().unwrap()]).await;
        assert_eq!(out.trim(), format!("daemonset.apps/{name} created"), "{}", at("apply"));
        let diff = k.run_async(&["diff", "-f", f2.to_str().unwrap()]).await;
        let text = String::from_utf8_lossy(&diff.stdout);
        assert_eq!(
            diff.status.code(),
            Some(1),
            "{}: diff exits 1 when there are changes: {text}{}",
            at("diff"),
            String::from_utf8_lossy(&diff.stderr)
        );
        assert!(
            text.contains("-        image: registry.example/app:v1") && text.contains("+        image: registry.example/app:v2"),
            "{}: {text}",
            at("diff")
        );
        assert_eq!(dss.get(&name).await.unwrap().metadata.generation, Some(1), "{}: diff changed nothing", at("diff"));
        let out = k.ok_async(&["apply", "-f", f2.to_str().unwrap()]).await;
        assert_eq!(out.trim(), format!("daemonset.apps/{name} configured"), "{}", at("apply"));
        let ds = dss.get(&name).await.unwrap();
        let labels = ds.metadata.labels.clone().unwrap();
        assert_eq!(
            labels.into_iter().collect::<Vec<_>>(),
            [("team".to_string(), "b".to_string())],
            "{}: a label dropped from the manifest is removed",
            at("apply")
        );
        let spec = ds.spec.unwrap();
        let us = spec.update_strategy.unwrap();
        assert_eq!(
            (us.type_.as_deref(), us.rolling_update.is_none()),
            (Some("OnDelete"), true),
            "{}: rollingUpdate retained only with its type",
            at("apply")
        );
        let containers = spec.template.spec.unwrap().containers;
        assert_eq!(containers.len(), 1, "{}: the removed sidecar is gone", at("apply"));
        assert_eq!(containers[0].image.as_deref(), Some("registry.example/app:v2"));
        let env: Vec<_> = containers[0].env.iter().flatten().map(|e| (e.name.clone(), e.value.clone().unwrap_or_default())).collect();
        assert_eq!(env, [("B".to_string(), "3".to_string())], "{}", at("apply"));
        // Applying the same manifest again changes nothing.
        let generation = ds.metadata.generation;
        let out = k.ok_async(&["apply", "-f", f2.to_str().unwrap()]).await;
        assert_eq!(out.trim(), format!("daemonset.apps/{name} unchanged"), "{}", at("apply again"));
        assert_eq!(dss.get(&name).await.unwrap().metadata.generation, generation);
        // edit, with an editor that changes the image.
        let o =
            k.cmd(&["edit", "ds", &name]).env("KUBE_EDITOR", "sed -i s#registry.example/app:v2#registry.example/app:v3#").output().unwrap();
        assert!(o.status.success(), "{}: {}{}", at("edit"), String::from_utf8_lossy(&o.stdout), String::from_utf8_lossy(&o.stderr));
        let ds = dss.get(&name).await.unwrap();
        assert_eq!(
            ds.spec.unwrap().template.spec.unwrap().containers[0].image.as_deref(),
            Some("registry.example/app:v3"),
            "{}",
            at("edit")
        );
        // explain
        let out = k.ok_async(&["explain", "daemonset.spec.updateStrategy"]).await;
        assert!(out.contains("FIELD: updateStrategy <DaemonSetUpdateStrategy>") || out.contains("FIELDS:"), "{}: {out}", at("explain"));
        assert!(
            out.contains("rollingUpdate") && out.contains("An update strategy to replace existing DaemonSet pods with new pods."),
            "{}: {out}",
            at("explain")
        );
        // PriorityClasses: the table, and `create priorityclass` (a protobuf body).
        let pc = k.ok_async(&["get", "pc"]).await;
        let row = pc.lines().find(|l| l.starts_with("system-node-critical")).map(|l| l.split_whitespace().collect::<Vec<_>>());
        assert!(pc.starts_with("NAME") && row.is_some_and(|r| r[1..3] == ["2000001000", "false"]), "{}: {pc}", at("get pc"));
        let out = k.ok_async(&["create", "priorityclass", &format!("pc-{v}"), "--value=7"]).await;
        assert_eq!(out.trim(), format!("priorityclass.scheduling.k8s.io/pc-{v} created"), "{}", at("create priorityclass"));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn priority_classes_as_kube_apiserver_serves_them() {
    let yaml = format!(
        "{}---\napiVersion: scheduling.k8s.io/v1\nkind: PriorityClass\nmetadata: {{name: agents}}\nvalue: 1000\n{}",
        cluster(),
        ds_yaml("critical", "{type: RollingUpdate}").replace("containers:", "priorityClassName: agents\n      containers:")
    );
    let sim = serve(&yaml).await;
    let k = kubectl_or_skip!(sim);
    // The two built-in classes, under the name and the short name.
    let pc = k.ok_async(&["get", "pc"]).await;
    let rows: Vec<Vec<&str>> = pc.lines().map(|l| l.split_whitespace().collect()).collect();
    assert_eq!(rows[0], ["NAME", "VALUE", "GLOBAL-DEFAULT", "AGE", "PREEMPTIONPOLICY"], "{pc}");
    let row = |name: &str| rows.iter().find(|r| r[0] == name).map(|r| [r[1], r[2], r[4]]);
    assert_eq!(row("system-node-critical"), Some(["2000001000", "false", "PreemptLowerPriority"]), "{pc}");
    assert_eq!(row("system-cluster-critical"), Some(["2000000000", "false", "PreemptLowerPriority"]), "{pc}");
    assert_eq!(row("agents"), Some(["1000", "false", "PreemptLowerPriority"]), "{pc}");
    assert_eq!(k.ok_async(&["get", "priorityclasses", "-o", "name"]).await.lines().count(), 3);
    // The DaemonSet's pods get the value of their class (the Priority admission plugin).
    let prio = k.ok_async(&["get", "pods", "-n", "kube-system", "-l", "app=critical", "-o", "jsonpath={.items[*].spec.priority}"]).await;
    assert_eq!(prio.split_whitespace().collect::<Vec<_>>(), ["1000"; 3], "{prio}");
    let plain = k.ok_async(&["get", "pods", "-n", "kube-system", "-l", "app=agent", "-o", "jsonpath={.items[0].spec.priority}"]).await;
    assert_eq!(plain, "0");

    let manifest = k.dir.path().join("pc.yaml");
    std::fs::write(
        &manifest,
        "apiVersion: scheduling.k8s.io/v1\nkind: PriorityClass\nmetadata: {name: batch}\nvalue: 10\nglobalDefault: true\n",
    )
    .unwrap();
    assert_eq!(k.ok_async(&["create", "-f", manifest.to_str().unwrap()]).await.trim(), "priorityclass.scheduling.k8s.io/batch created");
    assert_eq!(
        k.ok_async(&["get", "pc", "batch", "-o", "jsonpath={.value} {.globalDefault} {.preemptionPolicy}"]).await,
        "10 true PreemptLowerPriority"
    );
    let stderr = |o: std::process::Output| String::from_utf8_lossy(&o.stderr).trim().to_string();
    std::fs::write(
        &manifest,
        "apiVersion: scheduling.k8s.io/v1\nkind: PriorityClass\nmetadata: {name: batch2}\nvalue: 11\nglobalDefault: true\n",
    )
    .unwrap();
    assert_eq!(
        stderr(k.run_async(&["create", "-f", manifest.to_str().unwrap()]).await),
        "Error from server (Forbidden): error when creating \"".to_string()
            + manifest.to_str().unwrap()
            + "\": priorityclasses.scheduling.k8s.io \"batch2\" is forbidden: PriorityClass batch is already marked as default. Only one default can exist"
    );
    std::fs::write(&manifest, "apiVersion: scheduling.k8s.io/v1\nkind: PriorityClass\nmetadata: {name: huge}\nvalue: 1000000001\n")
        .unwrap();
    let huge = stderr(k.run_async(&["create", "-f", manifest.to_str().unwrap()]).await);
    assert_eq!(
        huge,
        "The PriorityClass \"huge\" is invalid: value: Forbidden: maximum allowed value of a user defined priority is 1000000000"
    );
    // A pod naming a class that does not exist is refused by admission.
    let missing = stderr(k.run_async(&["run", "p", "--image=busybox", "--overrides={\"spec\":{\"priorityClassName\":\"nope\"}}"]).await);
    assert_eq!(missing, "Error from server (Forbidden): pods \"p\" is forbidden: no PriorityClass with name nope was found");

    assert_eq!(k.ok_async(&["delete", "pc", "batch"]).await.trim(), "priorityclass.scheduling.k8s.io \"batch\" deleted");
    // `kubectl create priorityclass` posts protobuf.
    let out = k
        .ok_async(&[
            "create",
            "priorityclass",
            "gates",
            "--value=500",
            "--description=CI gates",
            "--preemption-policy=Never",
            "--global-default",
        ])
        .await;
    assert_eq!(out.trim(), "priorityclass.scheduling.k8s.io/gates created");
    assert_eq!(
        k.ok_async(&["get", "pc", "gates", "-o", "jsonpath={.value} {.globalDefault} {.preemptionPolicy} {.description}"]).await,
        "500 true Never CI gates"
    );
    // A pod without a class now gets the global default's.
    k.ok_async(&["run", "plain", "--image=busybox"]).await;
    assert_eq!(
        k.ok_async(&["get", "pod", "plain", "-o", "jsonpath={.spec.priorityClassName} {.spec.priority} {.spec.preemptionPolicy}"]).await,
        "gates 500 Never"
    );
    assert_eq!(k.ok_async(&["delete", "pc", "gates"]).await.trim(), "priorityclass.scheduling.k8s.io \"gates\" deleted");
    assert_eq!(
        stderr(k.run_async(&["delete", "pc", "system-node-critical"]).await),
        "Error from server (Forbidden): priorityclasses.scheduling.k8s.io \"system-node-critical\" is forbidden: this is a system priority class and cannot be deleted"
    );
    assert_eq!(k.ok_async(&["get", "pc", "-o", "name"]).await.lines().count(), 3);
}

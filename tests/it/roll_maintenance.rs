//! The maintenance roll (`:roll N --drain`) against the simulator: each node is cordoned
//! (and marked), drained through the Eviction API, its daemon pod replaced, and uncordoned
//! once the new pod is available — a budget that allows no disruption holds the node being
//! drained and the roll's status names it; a node that was cordoned before stays cordoned;
//! and the real TUI killed with SIGKILL mid-roll leaves its node marked, which the next
//! run names and, once the dead roll's lease has expired, takes back and uncordons.

use crate::common;

use std::time::Duration;

use daemonscope::cluster::roll::{self, RollSpec, RollState};
use daemonscope::cluster::roll_maintenance::CORDONED_BY;
use k8s_openapi::api::core::v1::{Node, Pod};
use k8s_openapi::api::policy::v1::PodDisruptionBudget;

pub(crate) fn cluster() -> String {
    format!(
        "{}---\napiVersion: v1\nkind: Node\nmetadata: {{name: node-c, labels: {{pool: general}}}}\nspec: {{unschedulable: true}}\n{}\
         ---\napiVersion: apps/v1\nkind: ReplicaSet\nmetadata: {{name: web, namespace: default}}\n\
         spec: {{replicas: 1, selector: {{matchLabels: {{app: web}}}}, template: {{metadata: {{labels: {{app: web}}}}, \
         spec: {{containers: [{{name: web, image: 'registry.example/web:v1'}}]}}}}}}\n\
         ---\napiVersion: policy/v1\nkind: PodDisruptionBudget\nmetadata: {{name: web, namespace: default}}\n\
         spec: {{minAvailable: 1, selector: {{matchLabels: {{app: web}}}}}}\n---\n{}{}",
        common::nodes_yaml(&["node-a", "node-b"]),
        common::ds_yaml("agent", "{type: OnDelete}"),
        common::FAST,
        common::registry_yaml(&["registry.example/agent:v2"]),
    )
}

/// The cluster served, its web pod counted by its budget (which allows no disruption), and
/// the agent's template changed: every node has an outdated daemon pod.
pub(crate) async fn outdated_behind_a_budget() -> (daemonscope::sim::Running, kube::Client, kube::Api<PodDisruptionBudget>) {
    let sim = common::serve(&cluster()).await;
    let client = common::client(&sim);
    let pdbs: kube::Api<PodDisruptionBudget> = kube::Api::namespaced(client.clone(), "default");
    common::until(30, "the web pod counted by its budget", || async {
        let s = pdbs.get("web").await.unwrap().status.unwrap_or_default();
        if s.current_healthy == 1 { Ok(()) } else { Err(format!("{s:?}")) }
    })
    .await;
    crate::roll::bump(&sim, None).await;
    (sim, client, pdbs)
}

/// `:roll 1 --drain` of the agent on every node.
fn maintenance_roll() -> RollSpec {
    RollSpec {
        namespace: "kube-system".into(),
        name: "agent".into(),
        batch: 1,
        timeout: Duration::from_secs(60),
        nodes: ["node-a", "node-b", "node-c"].iter().map(|n| n.to_string()).collect(),
        drain: true,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_maintenance_roll_drains_waits_on_the_budget_and_uncordons_only_what_it_cordoned() {
    let (sim, client, pdbs) = outdated_behind_a_budget().await;
    let seen = std::sync::Arc::new(std::sync::Mutex::new(Vec::<roll::RollStatus>::new()));
    let s2 = seen.clone();
    let spec = maintenance_roll();
    let (_tx, rx) = tokio::sync::mpsc::unbounded_channel();
    let run = tokio::spawn(roll::run(common::cluster(&sim), spec, rx, move |s| s2.lock().unwrap().push(s)));
    // The budget allows no disruption: the node being drained waits, and says on what.
    let held = common::until(30, "the drain held by the budget", || {
        let seen = seen.lock().unwrap();
        let r = seen.iter().rev().find(|s| s.draining.iter().any(|d| d.contains("blocked"))).cloned();
        std::future::ready(r.ok_or_else(|| format!("{:?}", seen.last())))
    })
    .await;
    let line = held.line();
    assert!(line.contains("draining node-") && line.contains("by PDB web (allows 0)"), "{line}");
    assert_eq!(held.cordoned.len(), 0, "only once drained does a node count as the roll's: {held:?}");
    let node = held.draining[0].split(' ').next().unwrap().to_string();
    let nodes: kube::Api<Node> = kube::Api::all(client.clone());
    let n = nodes.get(&node).await.unwrap();
    assert_eq!(n.spec.and_then(|s| s.unschedulable), Some(true));
    assert!(n.metadata.annotations.unwrap_or_default().get(CORDONED_BY).is_some_and(|v| v.starts_with("roll of kube-system/agent at ")));
    // The budget allows one: the roll goes on to the end.
    let patch = serde_json::json!({"spec": {"minAvailable": 0}});
    pdbs.patch("web", &Default::default(), &kube::api::Patch::Merge(patch)).await.unwrap();
    let end = tokio::time::timeout(Duration::from_secs(120), run).await.expect("the roll ends").unwrap();
    assert_eq!(end.state, RollState::Done, "{}", end.line());
    assert_eq!(end.done, 3, "{}", end.line());
    // Back in service, unmarked — except node-c, cordoned before the roll.
    for (name, cordoned) in [("node-a", None), ("node-b", None), ("node-c", Some(true))] {
        let n = nodes.get(name).await.unwrap();
        assert_eq!(n.spec.and_then(|s| s.unschedulable), cordoned, "{name}");
        assert!(!n.metadata.annotations.unwrap_or_default().contains_key(CORDONED_BY), "{name} still marked");
    }
    // Every daemon pod is new; the web pod left only through the Eviction API.
    let agents: kube::Api<Pod> = kube::Api::namespaced(client.clone(), "kube-system");
    let images: Vec<String> = agents
        .list(&Default::default())
        .await
        .unwrap()
        .items
        .iter()
        .filter(|p| p.metadata.deletion_timestamp.is_none())
        .map(|p| p.spec.as_ref().unwrap().containers[0].image.clone().unwrap_or_default())
        .collect();
    assert_eq!(images, vec!["registry.example/agent:v2"; 3]);
    let requests = sim.api.request_log();
    assert!(requests.iter().any(|r| r.method == "POST" && r.path.ends_with("/eviction") && r.status == 201), "no eviction went through");
    assert!(
        !requests.iter().any(|r| r.method == "DELETE" && r.path.starts_with("/api/v1/namespaces/default/pods/")),
        "a workload pod was deleted"
    );
}

/// Aborted while a budget holds its drain, the roll leaves the node cordoned and marked,
/// and says so; a roll of the same DaemonSet started again takes the node back as its own
/// (the mark names it) and uncordons it at the end — as after a TUI killed mid-roll.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_aborted_maintenance_roll_leaves_its_node_cordoned_and_a_resumed_one_uncordons_it() {
    let (sim, client, pdbs) = outdated_behind_a_budget().await;
    let spec = maintenance_roll;
    let seen = std::sync::Arc::new(std::sync::Mutex::new(Vec::<roll::RollStatus>::new()));
    let s2 = seen.clone();
    let (tx, rx) = tokio::sync::mpsc::unbounded_channel();
    let run = tokio::spawn(roll::run(common::cluster(&sim), spec(), rx, move |s| s2.lock().unwrap().push(s)));
    let held = common::until(30, "the drain held by the budget", || {
        let seen = seen.lock().unwrap();
        let r = seen.iter().rev().find(|s| s.draining.iter().any(|d| d.contains("blocked"))).cloned();
        std::future::ready(r.ok_or_else(|| format!("{:?}", seen.last())))
    })
    .await;
    let node = held.draining[0].split(' ').next().unwrap().to_string();
    tx.send(roll::RollCmd::Abort).unwrap();
    let end = tokio::time::timeout(Duration::from_secs(30), run).await.expect("the roll ends").unwrap();
    assert_eq!(end.state, RollState::Aborted);
    assert_eq!(end.cordoned, vec![node.clone()], "{}", end.line());
    assert!(end.line().contains(&format!("left cordoned: {node} (u uncordons)")), "{}", end.line());
    let nodes: kube::Api<Node> = kube::Api::all(client.clone());
    let n = nodes.get(&node).await.unwrap();
    assert_eq!(n.spec.and_then(|s| s.unschedulable), Some(true));
    let mark = n.metadata.annotations.unwrap_or_default().get(CORDONED_BY).cloned();
    assert!(mark.as_deref().is_some_and(|m| m.starts_with("roll of kube-system/agent at ")), "{mark:?}");
    // Resumed, with the budget relaxed: the node is the roll's again, and back in service.
    let patch = serde_json::json!({"spec": {"minAvailable": 0}});
    pdbs.patch("web", &Default::default(), &kube::api::Patch::Merge(patch)).await.unwrap();
    let (_tx, rx) = tokio::sync::mpsc::unbounded_channel();
    let end =
        tokio::time::timeout(Duration::from_secs(120), roll::run(common::cluster(&sim), spec(), rx, |_| {})).await.expect("the roll ends");
    assert_eq!(end.state, RollState::Done, "{}", end.line());
    let n = nodes.get(&node).await.unwrap();
    assert_eq!(n.spec.and_then(|s| s.unschedulable), None, "{node} uncordoned");
    assert!(!n.metadata.annotations.unwrap_or_default().contains_key(CORDONED_BY), "{node} unmarked");
    assert_eq!(nodes.get("node-c").await.unwrap().spec.and_then(|s| s.unschedulable), Some(true), "cordoned before: stays");
}

/// The real binary in a pseudo-terminal starts `:roll 1 --drain`, is killed with SIGKILL
/// while a budget holds the drain, and leaves its node cordoned and marked and its lease
/// behind. A new run names the node in its banner; its roll is refused while the dead
/// roll's lease lives, and once it has expired (20 s without renewal) the roll takes the
/// node back, finishes, and uncordons it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_tui_killed_mid_roll_leaves_its_mark_and_a_new_run_resumes_and_uncordons() {
    use common::pty::Tui;
    use k8s_openapi::api::coordination::v1::Lease;
    let Some(bin) = common::kubectl_bin() else { return };
    let (sim, client, pdbs) = outdated_behind_a_budget().await;
    let kubectl = common::Kubectl::new(bin, &sim, None);
    let kc = kubectl.dir.path().join("config").to_str().unwrap().to_string();
    let k2 = kc.clone();
    let node = tokio::task::spawn_blocking(move || {
        let mut t = Tui::start(&["--kubeconfig", &k2], &[]);
        t.wait_pods_live(20);
        t.keys(":roll 1 --drain\r");
        t.wait_for("maintenance roll of", 15);
        t.keys("y");
        let s = t.wait_for("by PDB web (allows 0)", 30);
        let line = s.lines().rev().find(|l| l.contains("draining node-")).unwrap_or_else(|| panic!("{s}")).to_string();
        let node = line.split("draining ").nth(1).unwrap().split(' ').next().unwrap().to_string();
        // kill -9: no chance to release the lease or uncordon anything.
        let pid = t.child.process_id().expect("a pid");
        assert!(std::process::Command::new("kill").args(["-9", &pid.to_string()]).status().unwrap().success());
        let status = t.exit(10);
        assert!(!status.success());
        node
    })
    .await
    .unwrap();
    let nodes: kube::Api<Node> = kube::Api::all(client.clone());
    let n = nodes.get(&node).await.unwrap();
    assert_eq!(n.spec.and_then(|s| s.unschedulable), Some(true), "{node} left cordoned");
    assert!(n.metadata.annotations.unwrap_or_default().get(CORDONED_BY).is_some_and(|m| m.starts_with("roll of kube-system/agent at ")));
    let leases: kube::Api<Lease> = kube::Api::namespaced(client.clone(), "kube-system");
    let lease = leases.get(&daemonscope::cluster::lease::lease_name("agent")).await.expect("the dead roll's lease is left");
    let holder = lease.spec.unwrap().holder_identity.unwrap();
    let patch = serde_json::json!({"spec": {"minAvailable": 0}});
    pdbs.patch("web", &Default::default(), &kube::api::Patch::Merge(patch)).await.unwrap();
    let k3 = kc.clone();
    let n2 = node.clone();
    let t = tokio::task::spawn_blocking(move || {
        let mut t = Tui::start(&["--kubeconfig", &k3], &[]);
        t.wait_pods_live(20);
        t.wait_for(&format!("interrupted maintenance? 1 node cordoned by a roll of kube-system/agent: {n2}"), 15);
        // While the dead roll's lease lives, a new roll is refused, naming its holder.
        t.keys(":roll 1 --drain\r");
        t.wait_for("maintenance roll of", 15);
        t.keys("y");
        t.wait_for(&format!("a roll by {holder} is in progress since"), 15);
        t
    })
    .await
    .unwrap();
    // The lease expires 20 s after its last renewal (2 × the renew interval).
    common::until(60, "the dead roll's lease expired", || async {
        let l = leases.get(&daemonscope::cluster::lease::lease_name("agent")).await.map_err(|e| e.to_string())?;
        let spec = l.spec.unwrap_or_default();
        let renewed = spec.renew_time.map(|t| t.0).ok_or("no renewTime")?;
        let until = renewed + jiff::SignedDuration::from_secs(i64::from(spec.lease_duration_seconds.unwrap_or(0)) + 1);
        if until < jiff::Timestamp::now() { Ok(()) } else { Err(format!("valid until {until}")) }
    })
    .await;
    tokio::task::spawn_blocking(move || {
        let mut t = t;
        t.keys(":roll 1 --drain\r");
        t.wait_for("maintenance roll of", 15);
        t.keys("y");
        t.wait_for("roll of kube-system/agent done", 90);
        t.keys("q");
        assert!(t.exit(10).success());
    })
    .await
    .unwrap();
    let n = nodes.get(&node).await.unwrap();
    assert_eq!(n.spec.and_then(|s| s.unschedulable), None, "{node} uncordoned by the resumed roll");
    assert!(!n.metadata.annotations.unwrap_or_default().contains_key(CORDONED_BY), "{node} unmarked");
    assert_eq!(nodes.get("node-c").await.unwrap().spec.and_then(|s| s.unschedulable), Some(true), "cordoned before: stays");
}

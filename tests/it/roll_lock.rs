//! The roll's lease: while one roll of a DaemonSet runs, a second one (another TUI,
//! another daemonscope) is refused before it deletes anything and is told who rolls it
//! since when — so two rolls can never exceed the batch together; the lease is gone when
//! the roll ends; and a lease left by a holder that was killed expires and is taken over.

use crate::common;

use std::time::Duration;

use daemonscope::cluster::lease;
use daemonscope::cluster::roll::{self, RollSpec, RollState};
use daemonscope::sim::kind::Kind;
use daemonscope::sim::scenario::Action;
use k8s_openapi::api::coordination::v1::Lease;
use k8s_openapi::api::core::v1::Pod;
use serde_json::json;

const NODES: [&str; 4] = ["n1", "n2", "n3", "n4"];

async fn outdated_cluster() -> daemonscope::sim::Running {
    let yaml = format!(
        "{}{}---\n{}{}",
        common::nodes_yaml(&NODES),
        common::ds_yaml("agent", "{type: OnDelete}"),
        common::FAST,
        common::registry_yaml(&["registry.example/agent:v2"])
    );
    let sim = common::serve(&yaml).await;
    let patch = json!({"spec": {"template": {"spec": {"containers": [{"name": "agent", "image": "registry.example/agent:v2"}]}}}});
    daemonscope::sim::apply_action(
        &sim.store,
        &Action::Patch { kind: Kind::DaemonSet, namespace: "kube-system".into(), name: "agent".into(), patch },
    )
    .unwrap();
    common::until(20, "the new template observed", || {
        let ds = sim.store.get::<k8s_openapi::api::apps::v1::DaemonSet>("kube-system", "agent").unwrap();
        let g = ds.status.as_ref().and_then(|s| s.observed_generation);
        std::future::ready(if g == Some(2) { Ok(()) } else { Err(format!("{g:?}")) })
    })
    .await;
    sim
}

fn spec() -> RollSpec {
    RollSpec {
        namespace: "kube-system".into(),
        name: "agent".into(),
        batch: 1,
        timeout: Duration::from_secs(30),
        nodes: NODES.iter().map(|n| n.to_string()).collect(),
        drain: false,
    }
}

async fn roll_to_end(sim: &daemonscope::sim::Running) -> roll::RollStatus {
    let (_tx, rx) = tokio::sync::mpsc::unbounded_channel();
    tokio::time::timeout(Duration::from_secs(120), roll::run(common::cluster(sim), spec(), rx, |_| {})).await.expect("the roll ends")
}

fn outdated(sim: &daemonscope::sim::Running) -> usize {
    let pods = sim.store.list::<Pod>(Some("kube-system")).0;
    pods.iter().filter(|p| p.metadata.labels.as_ref().unwrap()["pod-template-generation"] == "1").count()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_second_roll_of_the_same_daemonset_is_refused_naming_the_first() {
    let sim = outdated_cluster().await;
    let (tx, rx) = tokio::sync::mpsc::unbounded_channel();
    let (stx, mut srx) = tokio::sync::mpsc::unbounded_channel();
    let first = tokio::spawn(roll::run(common::cluster(&sim), spec(), rx, move |s| {
        let _ = stx.send(s);
    }));
    // The first roll holds the lease once it reports.
    srx.recv().await.expect("the first roll reports");
    let held = sim.store.get::<Lease>("kube-system", &lease::lease_name("agent")).expect("the lease");
    let holder = held.spec.as_ref().unwrap().holder_identity.clone().unwrap();
    assert!(holder.starts_with("daemonscope@"), "{holder}");
    tx.send(roll::RollCmd::Pause).unwrap();
    let before = outdated(&sim);
    let (_tx2, rx2) = tokio::sync::mpsc::unbounded_channel();
    let second = roll::run(common::cluster(&sim), spec(), rx2, |_| {}).await;
    let RollState::Stopped(why) = &second.state else { panic!("{}", second.line()) };
    assert!(why.starts_with(&format!("a roll by {holder} is in progress since ")), "{why}");
    assert_eq!(outdated(&sim), before, "the refused roll deleted nothing");
    tx.send(roll::RollCmd::Resume).unwrap();
    let end = tokio::time::timeout(Duration::from_secs(120), first).await.unwrap().unwrap();
    assert_eq!(end.state, RollState::Done, "{}", end.line());
    assert!(sim.store.get::<Lease>("kube-system", &lease::lease_name("agent")).is_none(), "released at the end");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_lease_left_by_a_killed_holder_expires_and_is_taken_over() {
    let sim = outdated_cluster().await;
    let c = common::client(&sim);
    let leases: kube::Api<Lease> = kube::Api::namespaced(c, "kube-system");
    // A holder that was killed an hour ago: it never renewed again.
    let stale: Lease = serde_json::from_value(json!({
        "metadata": {"name": lease::lease_name("agent")},
        "spec": {"holderIdentity": "daemonscope@crashed/1#1", "leaseDurationSeconds": 20,
                 "acquireTime": "2026-01-01T00:00:00.000000Z", "renewTime": "2026-01-01T00:00:00.000000Z"}
    }))
    .unwrap();
    leases.create(&Default::default(), &stale).await.unwrap();
    let end = roll_to_end(&sim).await;
    assert_eq!(end.state, RollState::Done, "{}", end.line());
    assert_eq!(outdated(&sim), 0);
    // A live lease (renewed now) is respected.
    let mut live = stale.clone();
    let now = k8s_openapi::apimachinery::pkg::apis::meta::v1::MicroTime(jiff::Timestamp::now());
    live.spec.as_mut().unwrap().renew_time = Some(now.clone());
    live.spec.as_mut().unwrap().acquire_time = Some(now);
    leases.create(&Default::default(), &live).await.unwrap();
    let end = roll_to_end(&sim).await;
    let RollState::Stopped(why) = &end.state else { panic!("{}", end.line()) };
    assert!(why.starts_with("a roll by daemonscope@crashed/1#1 is in progress since "), "{why}");
}

/// A user who may do everything a roll does but touch leases: the roll stops before it
/// deletes anything, in one line that names the permission.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_roll_without_permission_on_leases_stops_in_one_clear_line() {
    let auth = "apiVersion: sim.daemonscope.io/v1alpha1\nkind: Simulation\nsettings:\n  tokens:\n  \
                - {token: ops-token, user: ops, rules: [{verbs: ['*'], resources: [nodes, pods, 'pods/*', daemonsets, controllerrevisions, events, namespaces]}]}\n";
    let yaml = format!("{}{}---\n{auth}", common::nodes_yaml(&NODES), common::ds_yaml("agent", "{type: OnDelete}"));
    let sim = common::serve(&yaml).await;
    let patch = json!({"spec": {"template": {"metadata": {"annotations": {"x": "y"}}}}});
    daemonscope::sim::apply_action(
        &sim.store,
        &Action::Patch { kind: Kind::DaemonSet, namespace: "kube-system".into(), name: "agent".into(), patch },
    )
    .unwrap();
    let before: Vec<_> = sim.store.list::<Pod>(Some("kube-system")).0.iter().map(|p| p.metadata.uid.clone()).collect();
    let (_tx, rx) = tokio::sync::mpsc::unbounded_channel();
    let cluster = common::cluster_with_token(&sim, Some("ops-token"));
    let s = tokio::time::timeout(Duration::from_secs(60), roll::run(cluster, spec(), rx, |_| {})).await.expect("the roll ends");
    assert!(matches!(s.state, RollState::Stopped(_)), "{s:?}");
    let line = s.line();
    assert_eq!(
        line,
        "roll of kube-system/agent STOPPED: forbidden: this user may not get, create and update leases (coordination.k8s.io) in kube-system, which the roll's lock needs; nothing was changed — 0 replaced, 0 to go"
    );
    let after: Vec<_> = sim.store.list::<Pod>(Some("kube-system")).0.iter().map(|p| p.metadata.uid.clone()).collect();
    assert_eq!(before, after, "no pod was deleted");
}

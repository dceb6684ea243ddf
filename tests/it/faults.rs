//! The client against a misbehaving API server (the simulator's fault injection): watches
//! cut, 429 with Retry-After, 500s, expired resourceVersions, an outage, a restart onto a
//! new state. It must keep running, resume rather than relist, back off (no request
//! storm), and end up with exactly the server's state.

use crate::common;

use std::collections::HashSet;
use std::sync::Arc;
use std::time::Duration;

use daemonscope::cluster::listwatch::{Fetch, WatchList, Wire};
use daemonscope::cluster::watch::{self, Scope, SyncState, Update};
use daemonscope::model::{Model, Resource};
use daemonscope::sim::faults::FaultSettings;
use daemonscope::sim::scenario::Action;
use daemonscope::sim::{Running, kind::Kind};
use parking_lot::Mutex;
use serde_json::json;

/// Which requests the random faults hit: fixed, so every run fails the same requests.
const SEED: u64 = 20261130;

fn cluster() -> String {
    let names: Vec<String> = (1..=6).map(|i| format!("n{i:02}")).collect();
    let refs: Vec<&str> = names.iter().map(String::as_str).collect();
    format!(
        "{}{}{}{}",
        common::FAST,
        common::nodes_yaml(&refs),
        common::ds_yaml("agent", "{type: RollingUpdate}"),
        common::ds_yaml("logs", "{type: OnDelete}")
    )
}

/// What a watch reported when it failed: resource, reason, fatal, retry in.
type Failure = (Resource, String, bool, Duration);

/// A client as the TUI runs it: every watch feeding one model, plus what the watches said.
struct Follower {
    model: Arc<Mutex<Model>>,
    live: Arc<Mutex<HashSet<Resource>>>,
    failures: Arc<Mutex<Vec<Failure>>>,
    handles: Vec<tokio::task::JoinHandle<()>>,
}

impl Follower {
    fn start(sim: &Running) -> Follower {
        Follower::start_with(sim, WatchList::Auto)
    }

    /// A client that fetches collections as `mode` says (watch-list, or pages).
    fn start_with(sim: &Running, mode: WatchList) -> Follower {
        Follower::fetching(sim, Fetch { watch_list: mode, wire: Wire::Auto })
    }

    /// A client that fetches as `fetch` says (watch-list or pages; in JSON or protobuf).
    fn fetching(sim: &Running, fetch: Fetch) -> Follower {
        let (tx, mut rx) = tokio::sync::mpsc::channel(16_384);
        let mut cluster = common::cluster(sim);
        cluster.fetch = fetch;
        let mut handles = watch::spawn(cluster, Scope::default(), tx);
        let (model, live, failures) =
            (Arc::new(Mutex::new(Model::new())), Arc::new(Mutex::new(HashSet::new())), Arc::new(Mutex::new(Vec::new())));
        let (m, l, f) = (model.clone(), live.clone(), failures.clone());
        handles.push(tokio::spawn(async move {
            while let Some(u) = rx.recv().await {
                match u {
                    Update::Change(c) => m.lock().apply(c),
                    Update::Sync(r, SyncState::Live) => {
                        l.lock().insert(r);
                    }
                    Update::Sync(r, SyncState::Reconnecting { reason, fatal, retry_in, .. }) => {
                        l.lock().remove(&r);
                        f.lock().push((r, reason, fatal, retry_in));
                    }
                    Update::Sync(..) => {}
                }
            }
        }));
        Follower { model, live, failures, handles }
    }

    async fn synced(&self, secs: u64) {
        common::eventually(secs, "every watch live", || async { (self.live.lock().len() == Resource::ALL.len()).then_some(()) }).await;
    }
}

impl Drop for Follower {
    fn drop(&mut self) {
        for h in &self.handles {
            h.abort();
        }
    }
}

/// Everything the model holds that a user sees, in a comparable order.
fn snapshot(m: &Model) -> String {
    let mut nodes: Vec<String> = m.nodes().map(|(_, n)| format!("{n:?}")).collect();
    nodes.sort();
    let mut out = nodes.join("\n");
    let mut dss: Vec<_> = m.daemonsets().collect();
    dss.sort_by_key(|d| (d.namespace.clone(), d.name.clone()));
    for d in dss {
        out.push_str(&format!("\n{d:?}\n{:?}", m.coverage(d).map(|c| c.counts)));
        let mut cells: Vec<(String, String)> = m.nodes().map(|(id, n)| (n.name.clone(), format!("{:?}", m.explain(d, id)))).collect();
        cells.sort();
        out.push_str(&format!("{cells:?}"));
        let mut pods: Vec<String> = m.pods_of(d).map(|p| format!("{p:?}")).collect();
        pods.sort();
        out.push_str(&pods.join("\n"));
        let mut revs: Vec<String> = m.revisions_of(d).iter().map(|r| format!("{r:?}")).collect();
        revs.sort();
        out.push_str(&revs.join("\n"));
    }
    out
}

/// The client's model equals one built from a fresh list of the server, once the
/// cluster stops moving.
async fn converges(sim: &Running, client: &Follower) {
    common::eventually(30, "the model equals a fresh list of the server", || async {
        let fresh = Follower::start(sim);
        fresh.synced(10).await;
        tokio::time::sleep(Duration::from_millis(300)).await;
        let (a, b) = (snapshot(&client.model.lock()), snapshot(&fresh.model.lock()));
        if a != b {
            let diff: Vec<_> = a.lines().zip(b.lines()).filter(|(x, y)| x != y).take(2).collect();
            let at = a.chars().zip(b.chars()).take_while(|(x, y)| x == y).count();
            eprintln!(
                "not yet equal ({} vs {} lines): {diff:#?} first difference at {at}: {:?} vs {:?}",
                a.lines().count(),
                b.lines().count(),
                a.get(at.saturating_sub(60)..(at + 60).min(a.len())),
                b.get(at.saturating_sub(60)..(at + 60).min(b.len()))
            );
        }
        (a == b && !a.is_empty()).then_some(())
    })
    .await;
}

fn label(sim: &Running, node: &str, key: &str, value: &str) {
    let patch = json!({"metadata": {"labels": {key: value}}});
    daemonscope::sim::apply_action(&sim.store, &Action::Patch { kind: Kind::Node, namespace: String::new(), name: node.into(), patch })
        .expect("label the node");
}

/// Every daemon pod's uid in the model.
fn pod_uids(m: &Model) -> HashSet<String> {
    m.daemonsets().flat_map(|d| m.pods_of(d).map(|p| p.uid.to_string())).collect()
}

/// Per path (one watcher each), the request after a 429 came at least `min_ms` later.
fn waited_after_429(log: &[daemonscope::sim::api::RequestRecord], min_ms: u64) {
    let mut by_path: std::collections::HashMap<&str, Vec<(u64, u16)>> = Default::default();
    for r in log {
        by_path.entry(r.path.as_str()).or_default().push((r.at_ms, r.status));
    }
    for (path, reqs) in &by_path {
        for w in reqs.windows(2) {
            if w[0].1 == 429 {
                assert!(w[1].0 - w[0].0 >= min_ms, "{path}: retried {} ms after a 429", w[1].0 - w[0].0);
            }
        }
    }
}

fn count(sim: &Running, pred: impl Fn(&daemonscope::sim::api::RequestRecord) -> bool) -> usize {
    sim.api.request_log().iter().filter(|r| pred(r)).count()
}

/// A request that fetches a whole collection: a list (page), or a watch-list.
fn fetches_all(r: &daemonscope::sim::api::RequestRecord) -> bool {
    r.verb == "list" || (r.verb == "watch" && r.query.contains("sendInitialEvents=true"))
}

/// A watch that resumes from a version it was given (not a watch-list, not from "0").
fn resumes(r: &daemonscope::sim::api::RequestRecord) -> bool {
    let rv = r.query.split('&').find_map(|kv| kv.strip_prefix("resourceVersion=")).unwrap_or("");
    r.verb == "watch" && !r.query.contains("sendInitialEvents") && !rv.is_empty() && rv != "0"
}

/// The fault tests that hold in every way of fetching a collection, run in each: a
/// watch-list (what a 1.32 or 1.34+ server serves) or a paged list, in protobuf or JSON.
macro_rules! in_both_modes {
    ($($name:ident),* $(,)?) => {$(
        mod $name {
            use super::{Fetch, WatchList, Wire};
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn watch_list_protobuf() {
                super::$name(Fetch { watch_list: WatchList::On, wire: Wire::Protobuf }).await
            }
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn watch_list_json() {
                super::$name(Fetch { watch_list: WatchList::On, wire: Wire::Json }).await
            }
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn paged_protobuf() {
                super::$name(Fetch { watch_list: WatchList::Off, wire: Wire::Protobuf }).await
            }
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn paged_json() {
                super::$name(Fetch { watch_list: WatchList::Off, wire: Wire::Json }).await
            }
        }
    )*};
}

in_both_modes!(
    dropped_watches_resume_from_the_last_version_without_relisting,
    expired_versions_relist_only_then_and_converge,
    a_failing_server_gets_backoff_not_a_request_storm,
    survives_an_outage_and_a_restart_onto_a_new_state,
    latency_and_a_mix_of_faults_still_converge,
    a_server_restored_onto_an_older_state_is_relisted,
);

async fn dropped_watches_resume_from_the_last_version_without_relisting(mode: Fetch) {
    let sim = common::serve(&cluster()).await;
    let client = Follower::fetching(&sim, mode);
    client.synced(20).await;
    let lists = count(&sim, fetches_all);
    sim.api.faults.set(FaultSettings { drop_watches_every: Some(Duration::from_millis(1200)), ..Default::default() });
    let churn = |want: &str| {
        let m = client.model.lock();
        let got = m.node_id("n03").and_then(|id| m.node(id)?.facts.labels.get("churn").cloned());
        if got.as_deref() == Some(want) { Ok(()) } else { Err(format!("churn={got:?}")) }
    };
    for i in 0..6 {
        label(&sim, "n03", "churn", &i.to_string());
        common::until(20, &format!("churn={i} in the model"), || std::future::ready(churn(&i.to_string()))).await;
    }
    // Until every watch has been dropped and came back from where it was, three times.
    let resumed = || {
        let drops = sim.api.faults.injected.watch_drops.load(std::sync::atomic::Ordering::Relaxed);
        let resumed = count(&sim, resumes);
        if drops >= 3 && resumed >= 3 * Resource::ALL.len() { Ok(()) } else { Err(format!("{drops} drops, {resumed} resumed watches")) }
    };
    common::until(30, "three drops, every watch resumed after each", || std::future::ready(resumed())).await;
    sim.api.faults.clear();
    assert_eq!(count(&sim, fetches_all), lists, "a dropped watch resumes; it never relists");
    assert!(client.failures.lock().is_empty(), "a clean end of stream is not a failure: {:?}", client.failures.lock());
    let n03 = client.model.lock().node_id("n03").unwrap();
    assert_eq!(client.model.lock().node(n03).unwrap().facts.labels.get("churn").map(String::as_str), Some("5"));
    converges(&sim, &client).await;
}

async fn expired_versions_relist_only_then_and_converge(mode: Fetch) {
    let sim = common::serve(&cluster()).await;
    let client = Follower::fetching(&sim, mode);
    client.synced(20).await;
    let lists = count(&sim, fetches_all);
    // Changes land while the client is cut off and the history is forgotten: a resume
    // gets 410 and only a relist can see that n05 was deleted.
    sim.api.faults.set(FaultSettings {
        drop_watches_every: Some(Duration::from_millis(300)),
        expire_every: Some(Duration::from_millis(250)),
        ..Default::default()
    });
    let injected = || {
        let i = &sim.api.faults.injected;
        let (drops, expiries) =
            (i.watch_drops.load(std::sync::atomic::Ordering::Relaxed), i.expiries.load(std::sync::atomic::Ordering::Relaxed));
        if drops >= 1 && expiries >= 1 { Ok(()) } else { Err(format!("{drops} drops, {expiries} expiries")) }
    };
    common::until(20, "the client cut off and the history forgotten", || std::future::ready(injected())).await;
    daemonscope::sim::apply_action(&sim.store, &Action::Delete { kind: Kind::Node, namespace: String::new(), name: "n05".into() }).unwrap();
    label(&sim, "n01", "zone", "b");
    let relisted = || {
        let relists = count(&sim, fetches_all) - lists;
        let gone = client.model.lock().node_id("n05").is_none();
        if relists >= 1 && gone { Ok(()) } else { Err(format!("{relists} relists, n05 gone from the model: {gone}")) }
    };
    common::until(20, "a relist that shows n05 gone", || std::future::ready(relisted())).await;
    sim.api.faults.clear();
    let relists = count(&sim, fetches_all) - lists;
    let gone = count(&sim, |_| true);
    assert!(relists <= 4 * Resource::ALL.len(), "relists only after 410s, not on every drop: {relists} in {gone} requests");
    converges(&sim, &client).await;
}

async fn a_failing_server_gets_backoff_not_a_request_storm(mode: Fetch) {
    let sim = common::serve(&cluster()).await;
    let client = Follower::fetching(&sim, mode);
    client.synced(20).await;
    let before = sim.api.request_log().len();
    // Every request fails, and the open watches are cut so they must come back.
    sim.api.faults.set(FaultSettings { server_errors: 1.0, ..Default::default() });
    sim.api.faults.cut_watches();
    let started = std::time::Instant::now();
    // Until the pod watch has failed four times (three growing waits to compare).
    let tries = || {
        let n = client.failures.lock().iter().filter(|(r, ..)| *r == Resource::Pods).count();
        if n >= 4 { Ok(()) } else { Err(format!("the pod watch failed {n} time(s)")) }
    };
    common::until(30, "four failures of the pod watch", || std::future::ready(tries())).await;
    let during: Vec<_> = sim.api.request_log()[before..].to_vec();
    sim.api.faults.clear();
    // Five watches, backoff 0.5 s, 1 s, 2 s, 4 s (jittered down to half): four tries of one
    // take a few seconds, in which no watch may try more than a handful of times.
    assert!(during.len() >= Resource::ALL.len(), "every watch keeps trying: {}", during.len());
    assert!(
        during.len() <= 8 * Resource::ALL.len(),
        "bounded retries while failing, not a tight loop: {} requests in {:?}",
        during.len(),
        started.elapsed()
    );
    assert!(during.iter().all(|r| r.status == 500));
    {
        let f = client.failures.lock();
        assert!(f.iter().any(|(_, reason, fatal, _)| reason.contains("500") && !fatal), "a 500 is reported and retried: {f:?}");
        let waits: Vec<Duration> = f.iter().filter(|(r, ..)| *r == Resource::Pods).map(|(.., w)| *w).collect();
        assert!(waits.windows(2).any(|w| w[1] > w[0]), "the wait grows: {waits:?}");
    }
    client.synced(20).await;
    label(&sim, "n02", "after", "outage");
    common::eventually(10, "a change after recovery reaches the model", || async {
        let m = client.model.lock();
        let id = m.node_id("n02")?;
        (m.node(id)?.facts.labels.get("after").map(String::as_str) == Some("outage")).then_some(())
    })
    .await;
    converges(&sim, &client).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn retry_after_is_honoured() {
    let sim = common::serve(&cluster()).await;
    let client = Follower::start(&sim);
    client.synced(20).await;
    let before = sim.api.request_log().len();
    sim.api.faults.set(FaultSettings { throttle: 1.0, retry_after: 3, ..Default::default() });
    sim.api.faults.cut_watches();
    // Until every watch has been throttled twice (one wait after a 429 to measure each).
    let retried = || {
        let log = sim.api.request_log();
        let mut by_path: std::collections::HashMap<&str, usize> = Default::default();
        for r in &log[before..] {
            *by_path.entry(r.path.as_str()).or_default() += 1;
        }
        let twice = by_path.values().filter(|n| **n >= 2).count();
        if twice >= Resource::ALL.len() { Ok(()) } else { Err(format!("requests per path since throttling: {by_path:?}")) }
    };
    common::until(30, "every watch throttled twice", || std::future::ready(retried())).await;
    let during: Vec<_> = sim.api.request_log()[before..].to_vec();
    sim.api.faults.clear();
    assert!(!during.is_empty() && during.iter().all(|r| r.status == 429));
    waited_after_429(&during, 2_900);
    assert!(client.failures.lock().iter().any(|(_, reason, ..)| reason.contains("429")), "{:?}", client.failures.lock());
    client.synced(20).await;
    converges(&sim, &client).await;
}

async fn survives_an_outage_and_a_restart_onto_a_new_state(mode: Fetch) {
    let sim = common::serve(&cluster()).await;
    let client = Follower::fetching(&sim, mode);
    client.synced(20).await;
    let old_uids = pod_uids(&client.model.lock());
    // Down: open connections closed, new ones dropped.
    sim.api.faults.set_down(true);
    common::eventually(10, "the client notices the outage", || async { (client.live.lock().len() < Resource::ALL.len()).then_some(()) })
        .await;
    // Until every watch has failed to come back at least once.
    let failed = || {
        let f = client.failures.lock();
        let resources: HashSet<Resource> = f.iter().map(|f| f.0).collect();
        if resources.len() == Resource::ALL.len() { Ok(()) } else { Err(format!("failures so far: {:?}", *f)) }
    };
    common::until(30, "every watch failing against the outage", || std::future::ready(failed())).await;
    let reasons: Vec<String> = client.failures.lock().iter().map(|f| f.1.clone()).collect();
    assert!(reasons.iter().all(|r| r.contains("cannot reach the API server")), "{reasons:?}");
    // The server comes back from a restore: other nodes, new identities, old versions gone.
    let next =
        format!("{}{}{}", common::FAST, common::nodes_yaml(&["m01", "m02", "m03"]), common::ds_yaml("agent", "{type: RollingUpdate}"));
    let mut opts = daemonscope::sim::SimOptions::from_scenario(&common::scenario(&next));
    opts.uid_base = sim.store.uid_counter() + 1;
    let fresh = daemonscope::sim::Sim::build(&common::scenario(&next), opts).unwrap();
    sim.store.replace_with(&fresh.store);
    sim.api.faults.set_down(false);
    client.synced(30).await;
    common::eventually(20, "the model shows the new state", || async {
        let m = client.model.lock();
        let names: Vec<String> = m.nodes().map(|(_, n)| n.name.clone()).collect();
        (names == ["m01", "m02", "m03"]).then_some(())
    })
    .await;
    common::eventually(20, "the DaemonSet absent after the restart is gone", || async {
        client.model.lock().daemonset("kube-system", "logs").is_none().then_some(())
    })
    .await;
    {
        let m = client.model.lock();
        assert!(pod_uids(&m).is_disjoint(&old_uids));
    }
    converges(&sim, &client).await;
}

async fn latency_and_a_mix_of_faults_still_converge(mode: Fetch) {
    let sim = common::serve(&cluster()).await;
    sim.api.faults.set(FaultSettings {
        throttle: 0.2,
        retry_after: 1,
        server_errors: 0.1,
        latency: Duration::from_millis(30),
        drop_watches_every: Some(Duration::from_millis(700)),
        expire_every: Some(Duration::from_secs(2)),
        seed: Some(SEED),
        ..Default::default()
    });
    let client = Follower::fetching(&sim, mode);
    // A change at a time, each once the client has it, while the faults go on.
    for i in 0..8 {
        let node = format!("n0{}", 1 + i % 6);
        label(&sim, &node, "wave", &i.to_string());
        let arrived = || {
            let m = client.model.lock();
            let got = m.node_id(&node).and_then(|id| m.node(id)?.facts.labels.get("wave").cloned());
            if got == Some(i.to_string()) { Ok(()) } else { Err(format!("{node}: wave={got:?}")) }
        };
        common::until(40, &format!("wave {i} in the model"), || std::future::ready(arrived())).await;
    }
    sim.api.faults.clear();
    client.synced(40).await;
    converges(&sim, &client).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_scenario_schedules_an_outage_and_a_restart() {
    let yaml = format!(
        "{}---
apiVersion: sim.daemonscope.io/v1alpha1
kind: Simulation
settings:
  startDelay: 300ms
  readyDelay: 200ms
  faults:
    outages: [{{at: 2s, for: 1s}}]
    restart: {{at: 5s, down: 1s}}
",
        cluster()
    );
    let sim = common::serve(&yaml).await;
    let client = Follower::start(&sim);
    client.synced(10).await;
    let names = |f: &Follower| -> HashSet<String> { f.model.lock().nodes().map(|(_, n)| n.name.clone()).collect() };
    let names_before = names(&client);
    let pods_before = pod_uids(&client.model.lock());
    common::eventually(10, "the scheduled outage is noticed", || async { (!client.failures.lock().is_empty()).then_some(()) }).await;
    // After the restart: the same scenario reloaded, so the same names with new identities.
    common::eventually(20, "pods with new uids after the restart", || async {
        let now = pod_uids(&client.model.lock());
        (!now.is_empty() && now.is_disjoint(&pods_before)).then_some(())
    })
    .await;
    assert_eq!(names(&client), names_before);
    client.synced(20).await;
    converges(&sim, &client).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_throttled_paged_list_resumes_at_the_failed_page() {
    // ~2,000 daemon pods: several pages of 500.
    let sc = daemonscope::sim::generator::scenario(250, 10);
    let sim = daemonscope::sim::Sim::build(&sc, daemonscope::sim::SimOptions::from_scenario(&sc)).unwrap();
    let sim = sim.serve("127.0.0.1:0").await.unwrap();
    let pods = sim.store.read(|i| i.pods.len());
    assert!(pods > 1500, "{pods}");
    // Plain-text 429s as API Priority and Fairness sends them: the wait only in the header.
    // A fixed seed: the same pod pages are throttled every run. Seed 3 spares the first
    // two requests for pods and throttles the third (page 3), so a later page is resumed.
    sim.api.faults.set(FaultSettings { throttle: 0.35, retry_after: 1, seed: Some(3), ..Default::default() });
    let client = Follower::start_with(&sim, WatchList::Off);
    client.synced(60).await;
    sim.api.faults.clear();
    let pod_lists: Vec<_> = sim.api.request_log().into_iter().filter(|r| r.verb == "list" && r.path == "/api/v1/pods").collect();
    let first_pages_ok = pod_lists.iter().filter(|r| !r.query.contains("continue=") && r.status == 200).count();
    assert_eq!(first_pages_ok, 1, "a failed page is retried, not the whole list from page 1: {pod_lists:#?}");
    assert!(pod_lists.iter().any(|r| r.status == 429 && r.query.contains("continue=")), "some later page was throttled (and resumed)");
    // Every retry after a 429 waited at least its Retry-After (1 s), read from the header.
    waited_after_429(&sim.api.request_log(), 950);
    converges(&sim, &client).await;
}

fn cordon(sim: &Running, node: &str) {
    let patch = json!({"spec": {"unschedulable": true}});
    daemonscope::sim::apply_action(&sim.store, &Action::Patch { kind: Kind::Node, namespace: String::new(), name: node.into(), patch })
        .expect("cordon the node");
}

fn cordoned(m: &Model) -> usize {
    m.nodes().filter(|(_, n)| n.unschedulable).count()
}

/// A list or watch from a resourceVersion the server has not reached answers as
/// kube-apiserver's watch cache does: after a short wait, 504 Timeout with the cause
/// ResourceVersionTooLarge (a list as an error answer, a watch as an ERROR event).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_version_from_the_future_is_too_large_for_lists_and_watches() {
    use futures::StreamExt;
    use k8s_openapi::api::core::v1::Node;
    use kube::api::{ListParams, WatchEvent, WatchParams};
    let sim = common::serve(&cluster()).await;
    let ahead = (sim.store.current_rv() + 1000).to_string();
    let nodes: kube::Api<Node> = kube::Api::all(common::client(&sim));
    let too_large = |s: &kube::core::Status| {
        assert_eq!((s.code, s.reason.as_str()), (504, "Timeout"), "{s:?}");
        assert!(s.message.starts_with(&format!("Timeout: Too large resource version: {ahead}, current: ")), "{}", s.message);
        let d = s.details.as_ref().expect("details");
        assert_eq!(d.retry_after_seconds, 1);
        assert!(d.causes.iter().any(|c| c.reason == "ResourceVersionTooLarge" && c.message == "Too large resource version"), "{d:?}");
    };
    match nodes.list(&ListParams::default().at(&ahead)).await {
        Err(kube::Error::Api(s)) => too_large(&s),
        other => panic!("a list from the future: {other:?}"),
    }
    let stream = nodes.watch(&WatchParams::default(), &ahead).await.expect("the watch opens (200), as the cacher's error watcher");
    let first = std::pin::pin!(stream).next().await.expect("one event");
    match first {
        Ok(WatchEvent::Error(s)) => too_large(&s),
        other => panic!("a watch from the future: {other:?}"),
    }
}

/// The server is restored onto an older state (resourceVersions go back): the client's
/// resume is too large for it, and — as client-go's reflector — it relists at once
/// rather than showing what the server no longer has.
async fn a_server_restored_onto_an_older_state_is_relisted(mode: Fetch) {
    let sim = common::serve(&cluster()).await;
    let older = common::build(&cluster());
    // Versions well past the backup's before the client lists, so every watch of the
    // client is ahead of the restored server.
    for i in 0..20 {
        label(&sim, "n06", "churn", &i.to_string());
    }
    let client = Follower::fetching(&sim, mode);
    client.synced(20).await;
    for n in ["n01", "n02", "n03", "n04", "n05"] {
        cordon(&sim, n);
    }
    common::eventually(10, "the client sees 5 cordoned nodes", || async { (cordoned(&client.model.lock()) == 5).then_some(()) }).await;
    sim.store.restore_from(&older.store);
    // The restore cuts every watch, as the real server's restart does.
    sim.api.faults.set(FaultSettings { drop_watches_every: Some(Duration::from_millis(200)), ..Default::default() });
    common::eventually(20, "the client shows the server's truth: nothing cordoned", || async {
        (cordoned(&client.model.lock()) == 0).then_some(())
    })
    .await;
    sim.api.faults.clear();
    converges(&sim, &client).await;
    let failures = client.failures.lock().clone();
    for r in Resource::ALL {
        let too_large = failures.iter().filter(|f| f.0 == r && f.1.contains("Too large resource version")).count();
        assert!(too_large <= 1, "{r:?} relisted after the first ResourceVersionTooLarge, not after {too_large}: {failures:?}");
    }
    assert!(failures.iter().any(|f| f.1.contains("Too large resource version")), "the server said so: {failures:?}");
}

/// A long paged list whose continue token expires between pages (410) completes, as
/// client-go's pager does it: one full list instead of the pages that are left.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_410_on_a_continue_token_still_completes_the_list() {
    let sc = daemonscope::sim::generator::scenario(1200, 1);
    // A server without watch-list (the WatchList gate off, as 1.33): the client falls back
    // to the paged list.
    let opts = daemonscope::sim::SimOptions { watch_list: false, ..daemonscope::sim::SimOptions::from_scenario(&sc) };
    let sim = daemonscope::sim::Sim::build(&sc, opts).unwrap().serve("127.0.0.1:0").await.unwrap();
    // Every page takes longer than the history is kept: each continue token has expired
    // by the time it is used.
    sim.api.faults.set(FaultSettings {
        expire_every: Some(Duration::from_millis(100)),
        latency: Duration::from_millis(250),
        seed: Some(SEED),
        ..Default::default()
    });
    let (tx, mut rx) = tokio::sync::mpsc::channel(16_384);
    let _h = AbortAll(watch::spawn_only(common::cluster(&sim), Scope::default(), tx, &[Resource::Nodes]));
    let mut model = Model::new();
    common::eventually(30, "the node list completes", || {
        while let Ok(u) = rx.try_recv() {
            match u {
                Update::Change(c) => model.apply(c),
                Update::Sync(_, SyncState::Live) => return std::future::ready(Some(())),
                _ => {}
            }
        }
        std::future::ready(None)
    })
    .await;
    sim.api.faults.clear();
    assert_eq!(model.node_count(), 1200, "every node, once");
    let log = sim.api.request_log();
    let lists: Vec<_> = log.iter().filter(|r| r.verb == "list" && r.path == "/api/v1/nodes").collect();
    assert!(lists.iter().any(|r| r.status == 410 && r.query.contains("continue=")), "a continue token expired: {lists:?}");
    assert!(lists.iter().any(|r| r.status == 200 && !r.query.contains("limit=")), "then one full list: {lists:?}");
    let refused: Vec<_> = log.iter().filter(|r| r.verb == "watch" && r.query.contains("sendInitialEvents=true")).collect();
    assert!(refused.len() == 1 && refused[0].status == 422, "one watch-list asked for, refused, never again: {refused:?}");
}

struct AbortAll(Vec<tokio::task::JoinHandle<()>>);

impl Drop for AbortAll {
    fn drop(&mut self) {
        for h in &self.0 {
            h.abort();
        }
    }
}

/// Watches ask for bookmarks, and one that hears nothing (no event, no bookmark) for
/// twice the bookmark interval it expects is reopened: a silent connection is dead.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_watch_without_bookmarks_for_two_intervals_is_reopened() {
    // The server sends bookmarks once an hour; the client expects one every 300 ms.
    let sim = common::serve(&format!(
        "{}{}---\napiVersion: sim.daemonscope.io/v1alpha1\nkind: Simulation\nsettings: {{bookmarkInterval: 1h}}\n",
        common::FAST,
        common::nodes_yaml(&["n01"])
    ))
    .await;
    let mut cluster = common::cluster(&sim);
    cluster.timeouts.bookmark_interval = Duration::from_millis(300);
    let (tx, mut rx) = tokio::sync::mpsc::channel(1024);
    let _h = AbortAll(watch::spawn_only(cluster, Scope::default(), tx, &[Resource::Nodes]));
    let reason = common::eventually(20, "the silent watch is reported and reopened", || {
        let mut found = None;
        while let Ok(u) = rx.try_recv() {
            if let Update::Sync(_, SyncState::Reconnecting { reason, fatal, .. }) = u {
                assert!(!fatal, "{reason}");
                found = Some(reason);
            }
        }
        std::future::ready(found)
    })
    .await;
    assert!(reason.starts_with("no answer from the API server for"), "{reason}");
    let watches: Vec<_> = sim.api.request_log().into_iter().filter(|r| r.verb == "watch").collect();
    assert!(watches.iter().all(|r| r.query.contains("allowWatchBookmarks=true")), "{watches:?}");
    common::eventually(10, "the watch is reopened", || {
        std::future::ready((sim.api.request_log().iter().filter(|r| r.verb == "watch").count() >= 2).then_some(()))
    })
    .await;
}

/// Against a server that serves watch-list (the simulator by default, as Kubernetes 1.32
/// and 1.34+), every collection streams from its watch: not one list request, and the
/// model is the one a paged list gives.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_watch_list_syncs_without_a_list_and_equals_the_paged_sync() {
    let sim = common::serve(&cluster()).await;
    let streamed = Follower::start_with(&sim, WatchList::Auto);
    streamed.synced(20).await;
    assert_eq!(count(&sim, |r| r.verb == "list"), 0, "no list: {:?}", sim.api.request_log());
    let asked = count(&sim, |r| r.verb == "watch" && r.query.contains("sendInitialEvents=true") && r.status == 200);
    assert_eq!(asked, Resource::ALL.len(), "one watch-list per resource");
    let paged = Follower::start_with(&sim, WatchList::Off);
    paged.synced(20).await;
    assert_eq!(count(&sim, |r| r.verb == "list"), Resource::ALL.len(), "the paged client lists");
    common::eventually(20, "both clients hold the same model", || async {
        let (a, b) = (snapshot(&streamed.model.lock()), snapshot(&paged.model.lock()));
        (a == b && !a.is_empty()).then_some(())
    })
    .await;
}

/// A server without watch-list (the WatchList gate off, as Kubernetes 1.33): each watch asks
/// once, is refused (422), and lists in pages from then on — as client-go falls back.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_server_without_watch_list_is_listed_in_pages_after_one_refusal() {
    let sc = common::scenario(&cluster());
    let opts = daemonscope::sim::SimOptions { watch_list: false, ..daemonscope::sim::SimOptions::from_scenario(&sc) };
    let sim = daemonscope::sim::Sim::build(&sc, opts).unwrap().serve("127.0.0.1:0").await.unwrap();
    let client = Follower::start(&sim);
    client.synced(20).await;
    // A change after the paged sync arrives through the watch.
    label(&sim, "n02", "zone", "b");
    converges(&sim, &client).await;
    let log = sim.api.request_log();
    let refused: Vec<_> = log.iter().filter(|r| r.verb == "watch" && r.query.contains("sendInitialEvents=true")).collect();
    // The client and each fresh client `converges` starts: one refusal per resource each.
    assert!(refused.iter().all(|r| r.status == 422), "{refused:?}");
    assert_eq!(refused.len() % Resource::ALL.len(), 0, "one refusal per watch: {refused:?}");
    assert!(client.failures.lock().is_empty(), "a refusal is not a failure: {:?}", client.failures.lock());
    assert!(count(&sim, |r| r.verb == "list" && r.status == 200) >= Resource::ALL.len());
}

/// `--watch-list on` does not fall back: against a server without it, every watch fails
/// with the server's reason, and nothing shows as synced.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn watch_list_on_against_a_server_without_it_fails_with_the_reason() {
    let sc = common::scenario(&cluster());
    let opts = daemonscope::sim::SimOptions { watch_list: false, ..daemonscope::sim::SimOptions::from_scenario(&sc) };
    let sim = daemonscope::sim::Sim::build(&sc, opts).unwrap().serve("127.0.0.1:0").await.unwrap();
    let client = Follower::start_with(&sim, WatchList::On);
    common::eventually(20, "every watch failing", || async { (client.failures.lock().len() >= Resource::ALL.len()).then_some(()) }).await;
    assert!(client.live.lock().is_empty(), "nothing is live");
    let failures = client.failures.lock();
    assert!(failures.iter().all(|f| f.1.contains("WatchList feature gate")), "{failures:?}");
    assert_eq!(count(&sim, |r| r.verb == "list"), 0);
}

/// The simulator's watch-list as kube-apiserver streams it: every object ADDED, then one
/// BOOKMARK annotated `k8s.io/initial-events-end` at the collection's resourceVersion; with
/// the gate off, the 422 of `ValidateListOptions`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_simulator_streams_a_watch_list_and_refuses_it_with_the_gate_off() {
    use http_body_util::BodyExt as _;
    let path =
        "/api/v1/nodes?watch=true&sendInitialEvents=true&resourceVersionMatch=NotOlderThan&allowWatchBookmarks=true&resourceVersion=";
    let sim = common::serve(&cluster()).await;
    let client = common::client(&sim);
    let res = client.send(http::Request::get(path).body(kube::client::Body::empty()).unwrap()).await.unwrap();
    assert_eq!(res.status(), 200);
    let mut body = res.into_body();
    let mut text = String::new();
    while !text.contains("initial-events-end") {
        let frame = tokio::time::timeout(Duration::from_secs(10), body.frame()).await.expect("a frame").expect("open").unwrap();
        text.push_str(&String::from_utf8_lossy(&frame.into_data().unwrap_or_default()));
    }
    let events: Vec<serde_json::Value> = text.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    let (last, added) = events.split_last().unwrap();
    assert_eq!(added.len(), 6);
    assert!(added.iter().all(|e| e["type"] == "ADDED" && e["object"]["kind"] == "Node"));
    assert_eq!(last["type"], "BOOKMARK");
    assert_eq!(last["object"]["metadata"]["annotations"]["k8s.io/initial-events-end"], "true");
    let rv: u64 = last["object"]["metadata"]["resourceVersion"].as_str().unwrap().parse().unwrap();
    let newest = added.iter().map(|e| e["object"]["metadata"]["resourceVersion"].as_str().unwrap().parse::<u64>().unwrap()).max().unwrap();
    assert!(rv >= newest, "the bookmark's version covers every object: {rv} < {newest}");

    let sc = common::scenario(&cluster());
    let opts = daemonscope::sim::SimOptions { watch_list: false, ..daemonscope::sim::SimOptions::from_scenario(&sc) };
    let off = daemonscope::sim::Sim::build(&sc, opts).unwrap().serve("127.0.0.1:0").await.unwrap();
    let res = common::client(&off).send(http::Request::get(path).body(kube::client::Body::empty()).unwrap()).await.unwrap();
    assert_eq!(res.status(), 422);
    let status: serde_json::Value = serde_json::from_slice(&res.into_body().collect().await.unwrap().to_bytes()).unwrap();
    assert_eq!(
        status,
        json!({"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure", "code": 422, "reason": "Invalid",
            "message": "ListOptions.meta.k8s.io \"\" is invalid: sendInitialEvents: Forbidden: sendInitialEvents is forbidden for watch unless the WatchList feature gate is enabled",
            "details": {"group": "meta.k8s.io", "kind": "ListOptions", "causes": [{"reason": "FieldValueForbidden",
                "message": "Forbidden: sendInitialEvents is forbidden for watch unless the WatchList feature gate is enabled", "field": "sendInitialEvents"}]}})
    );
}

/// A watch-list the server ends before its end bookmark (a proxy's timeout, a restart) is
/// followed by a paged list, which makes progress page by page — not by the same
/// watch-list again — as client-go falls back; the one after tries watch-list again.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_watch_list_cut_before_its_end_is_followed_by_a_paged_list() {
    use axum::response::IntoResponse;
    let seen: Arc<Mutex<Vec<String>>> = Arc::default();
    let node = r#"{"apiVersion":"v1","kind":"Node","metadata":{"name":"n1","uid":"u1","resourceVersion":"3"}}"#;
    let log = seen.clone();
    let app = axum::Router::new().fallback(move |uri: http::Uri| {
        let log = log.clone();
        async move {
            let q = uri.query().unwrap_or("").to_string();
            let kind = if q.contains("sendInitialEvents=true") {
                "watch-list"
            } else if q.contains("watch=true") {
                "watch"
            } else {
                "list"
            };
            log.lock().push(kind.to_string());
            let body = match kind {
                // One object, then the stream ends: no end bookmark.
                "watch-list" => axum::body::Body::from(format!("{{\"type\":\"ADDED\",\"object\":{node}}}\n")),
                // A watch that stays open, quiet.
                "watch" => axum::body::Body::from_stream(futures::stream::pending::<Result<bytes::Bytes, std::convert::Infallible>>()),
                _ => axum::body::Body::from(format!(
                    "{{\"kind\":\"NodeList\",\"apiVersion\":\"v1\",\"metadata\":{{\"resourceVersion\":\"5\"}},\"items\":[{node}]}}"
                )),
            };
            ([(http::header::CONTENT_TYPE, "application/json")], body).into_response()
        }
    });
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let server = tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    let cluster = daemonscope::cluster::connect::build_client(kube::Config::new(url.parse().unwrap())).unwrap();
    let (tx, mut rx) = tokio::sync::mpsc::channel(64);
    let _h = AbortAll(watch::spawn_only(cluster, Scope::default(), tx, &[Resource::Nodes]));
    let mut model = Model::new();
    common::eventually(20, "the nodes live", || {
        let mut live = false;
        while let Ok(u) = rx.try_recv() {
            match u {
                Update::Change(c) => model.apply(c),
                Update::Sync(_, SyncState::Live) => live = true,
                _ => {}
            }
        }
        std::future::ready(live.then_some(()))
    })
    .await;
    common::eventually(10, "the watch open", || std::future::ready(seen.lock().contains(&"watch".to_string()).then_some(()))).await;
    assert_eq!(*seen.lock(), ["watch-list", "list", "watch"], "cut, then pages, then the watch from the list");
    assert_eq!(model.node_count(), 1);
    server.abort();
}

//! The safe OnDelete roll: replace the pods on old revisions a batch of nodes at a time,
//! deleting the next pod only once the new pod on each node in flight is Ready and
//! available (minReadySeconds), and stopping — naming the node — when a new pod is not
//! ready within the timeout. It runs as a job off the UI thread; what it sees comes from
//! its own watches of the DaemonSet and its pods (the client's one list-then-watch loop,
//! backed off on errors), never from guessing.
//!
//! May import: `model`, `k8s`. Never `sim` or `ui`.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::time::{Duration, Instant};

use k8s_openapi::api::apps::v1::DaemonSet;
use k8s_openapi::api::core::v1::{Node, Pod};
use kube::Api;
use kube::api::DeleteParams;
use tokio::sync::mpsc;
use tokio::task::JoinHandle;

use crate::cluster::connect::Cluster;
use crate::cluster::lease;
use crate::cluster::listwatch::{Event, Selectors, list_then_watch};
use crate::cluster::roll_maintenance as maintenance;
use crate::model::coverage::is_updated;
use crate::model::{DsInfo, NodeInfo, PodInfo};

/// The roll's plan (nodes, batch, timeout) is the model's.
pub use crate::model::plan::RollSpec;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RollCmd {
    Pause,
    Resume,
    Abort,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RollState {
    Running,
    Paused,
    Done,
    /// Stopped by itself, with why (the node named).
    Stopped(String),
    Aborted,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RollStatus {
    pub ds: String,
    pub state: RollState,
    /// Nodes replaced and available.
    pub done: usize,
    /// Nodes still on an old revision (not yet started).
    pub remaining: usize,
    /// Nodes whose old pod was deleted and whose new pod is not yet available.
    pub in_flight: Vec<String>,
    /// Nodes left alone because they went down during the roll, with why.
    pub skipped: Vec<String>,
    /// A maintenance roll's nodes being drained, each with what blocks it (if anything).
    pub draining: Vec<String>,
    /// Nodes the roll cordoned and has not uncordoned yet.
    pub cordoned: Vec<String>,
    /// A maintenance roll's drains held by a PodDisruptionBudget now (the drain's blocker
    /// rows): while there are any, the roll starts no further node.
    pub blockers: Vec<crate::cluster::drain_job::Blocker>,
}

impl RollStatus {
    /// Stopped before it replaced anything, with why.
    fn stopped(ds: String, why: String) -> RollStatus {
        RollStatus {
            ds,
            state: RollState::Stopped(why),
            done: 0,
            remaining: 0,
            in_flight: vec![],
            skipped: vec![],
            draining: vec![],
            cordoned: vec![],
            blockers: vec![],
        }
    }

    /// Running, but held: a budget blocks a drain, so no further node is started.
    pub fn is_held(&self) -> bool {
        self.state == RollState::Running && !self.blockers.is_empty()
    }

    /// Still under way (running or paused): it may delete pods.
    pub fn is_active(&self) -> bool {
        matches!(self.state, RollState::Running | RollState::Paused)
    }

    pub fn line(&self) -> String {
        let state = match &self.state {
            RollState::Running if self.is_held() => "HELD by a budget".to_string(),
            RollState::Running => "running".to_string(),
            RollState::Paused => "paused (:roll resume)".to_string(),
            RollState::Done => "done".to_string(),
            RollState::Stopped(why) => format!("STOPPED: {why}"),
            RollState::Aborted => "aborted".to_string(),
        };
        let flight = if self.in_flight.is_empty() { String::new() } else { format!(", replacing {}", self.in_flight.join(", ")) };
        let skipped = if self.skipped.is_empty() { String::new() } else { format!("; skipped {}", self.skipped.join(", ")) };
        let draining = if self.draining.is_empty() { String::new() } else { format!(", draining {}", self.draining.join(", ")) };
        let left = match (&self.state, self.cordoned.is_empty()) {
            (RollState::Running | RollState::Paused, _) | (_, true) => String::new(),
            _ => format!("; left cordoned: {} (u uncordons)", self.cordoned.join(", ")),
        };
        format!("roll of {} {state} — {} replaced, {} to go{draining}{flight}{skipped}{left}", self.ds, self.done, self.remaining)
    }
}

/// Runs the roll until done, stopped or aborted; reports every change of status.
/// Runs the roll under its lease (`cluster::lease`): a roll of the same DaemonSet by
/// someone else, still alive, stops this one before it deletes anything.
pub async fn run(cluster: Cluster, spec: RollSpec, cmds: mpsc::UnboundedReceiver<RollCmd>, report: impl Fn(RollStatus)) -> RollStatus {
    let holder = lease::identity();
    let lock = match lease::acquire(&cluster, &spec.namespace, &spec.name, &holder).await {
        Ok(l) => l,
        Err(e) => {
            let ds = format!("{}/{}", spec.namespace, spec.name);
            let s = RollStatus::stopped(ds, e.to_string());
            report(s.clone());
            return s;
        }
    };
    let s = run_locked(cluster, spec, cmds, report, &lock).await;
    lock.release().await;
    s
}

async fn run_locked(
    cluster: Cluster,
    spec: RollSpec,
    mut cmds: mpsc::UnboundedReceiver<RollCmd>,
    report: impl Fn(RollStatus),
    lock: &lease::RollLock,
) -> RollStatus {
    let label = format!("{}/{}", spec.namespace, spec.name);
    let mut renewed = Instant::now();
    let mut skipped: BTreeMap<String, String> = BTreeMap::new();
    // A maintenance roll's nodes being prepared (cordoned and drained), what blocks each,
    // and the nodes it cordoned itself (the only ones it uncordons).
    let mut preparing: BTreeMap<String, JoinHandle<Result<bool, String>>> = BTreeMap::new();
    let blockers: maintenance::Blockers = Default::default();
    let mut ours: BTreeSet<String> = BTreeSet::new();
    let mk = |state, done, remaining, in_flight: &BTreeMap<String, Instant>, skipped: &BTreeMap<String, String>| RollStatus {
        ds: label.clone(),
        state,
        done,
        remaining,
        in_flight: in_flight.keys().cloned().collect(),
        skipped: skipped.iter().map(|(n, why)| format!("{n} ({why})")).collect(),
        draining: Vec::new(),
        cordoned: Vec::new(),
        blockers: Vec::new(),
    };
    // With the maintenance roll's parts (a closure over them would hold borrows the loop changes).
    let with_drain = |s: RollStatus, preparing: &BTreeMap<String, JoinHandle<Result<bool, String>>>, ours: &BTreeSet<String>| RollStatus {
        draining: preparing.keys().map(|n| maintenance::describe(n, &blockers)).collect(),
        cordoned: ours.iter().cloned().collect(),
        blockers: maintenance::all(&blockers),
        ..s
    };
    let ds_api: Api<DaemonSet> = Api::namespaced(cluster.client.clone(), &spec.namespace);
    let pod_api: Api<Pod> = Api::namespaced(cluster.client.clone(), &spec.namespace);
    let stop = |why: String| {
        let s = RollStatus::stopped(label.clone(), why);
        report(s.clone());
        s
    };
    let ds = match ds_api.get(&spec.name).await {
        Ok(d) => d,
        Err(e) => return stop(cluster.error(e).to_string()),
    };
    let selector = ds
        .spec
        .as_ref()
        .and_then(|s| s.selector.match_labels.as_ref())
        .map(|m| m.iter().map(|(k, v)| format!("{k}={v}")).collect::<Vec<_>>().join(","))
        .unwrap_or_default();
    let mut info = DsInfo::from(&ds);
    // Backed off on errors: a failing server must not get a tight retry loop from a roll.
    let (ds_tx, mut ds_events) = mpsc::channel(16);
    let (pod_tx, mut pod_events) = mpsc::channel(1024);
    let (node_tx, mut node_events) = mpsc::channel(1024);
    let by_name = Selectors { labels: None, fields: Some(format!("metadata.name={}", spec.name)) };
    let by_labels = Selectors { labels: Some(selector), fields: None };
    let node_api: Api<Node> = Api::all(cluster.client.clone());
    let _watches = Watches([
        tokio::spawn(list_then_watch(ds_api, by_name, cluster.retry_after.clone(), cluster.timeouts, cluster.fetch, ds_tx)),
        tokio::spawn(list_then_watch(pod_api.clone(), by_labels, cluster.retry_after.clone(), cluster.timeouts, cluster.fetch, pod_tx)),
        tokio::spawn(list_then_watch(
            node_api,
            Selectors { labels: None, fields: None },
            cluster.retry_after.clone(),
            cluster.timeouts,
            cluster.fetch,
            node_tx,
        )),
    ]);
    // Nodes that are down now (Ready not True), by name.
    let mut down: BTreeMap<String, String> = BTreeMap::new();
    let mut pods: HashMap<String, PodInfo> = HashMap::new();
    let mut synced = false;
    let mut in_flight: BTreeMap<String, Instant> = BTreeMap::new();
    let mut done = 0usize;
    let mut paused = false;
    let mut last: Option<RollStatus> = None;
    let mut tick = tokio::time::interval(Duration::from_millis(500));
    loop {
        tokio::select! {
            ev = ds_events.recv() => match ev {
                Some(Event::Applied(d)) => info = DsInfo::from(&d),
                Some(Event::Deleted(_)) => return stop("the DaemonSet was deleted".into()),
                Some(Event::Failing { error, .. }) => tracing::warn!(%error, "roll: DaemonSet watch failed; retrying"),
                Some(Event::Relisting | Event::Listed | Event::Resumed) => {}
                None => return stop("the DaemonSet watch ended".into()),
            },
            ev = pod_events.recv() => match ev {
                Some(Event::Relisting) => {
                    // A relist: decide nothing on a partial view.
                    pods.clear();
                    synced = false;
                }
                Some(Event::Listed) => synced = true,
                Some(Event::Applied(p)) => {
                    if let Some(p) = PodInfo::from_pod(&p).filter(|p| p.owner_uid == info.uid) {
                        pods.insert(p.uid.to_string(), p);
                    }
                }
                Some(Event::Deleted(p)) => {
                    pods.remove(p.metadata.uid.as_deref().unwrap_or_default());
                }
                Some(Event::Failing { error, .. }) => tracing::warn!(%error, "roll: pod watch failed; retrying"),
                Some(Event::Resumed) => {}
                None => return stop("the pod watch ended".into()),
            },
            ev = node_events.recv() => match ev {
                Some(Event::Applied(n)) => {
                    let n = NodeInfo::from(&n);
                    match n.down_reason(jiff::Timestamp::now()) {
                        Some(why) => down.insert(n.name, why),
                        None => down.remove(&n.name),
                    };
                }
                Some(Event::Deleted(n)) => {
                    let name = n.metadata.name.clone().unwrap_or_default();
                    down.insert(name, "the node was deleted".into());
                }
                Some(Event::Failing { error, .. }) => tracing::warn!(%error, "roll: node watch failed; retrying"),
                Some(Event::Relisting | Event::Listed | Event::Resumed) => {}
                None => return stop("the node watch ended".into()),
            },
            c = cmds.recv() => match c {
                Some(RollCmd::Pause) => paused = true,
                Some(RollCmd::Resume) => paused = false,
                Some(RollCmd::Abort) | None => {
                    // What the cluster says, not the plan: the plan's nodes that now run an
                    // available new pod, and those still on an old one (not those whose
                    // old pod it deleted: the watch may not have seen that yet).
                    let sp = split(&pods, &info, &spec.nodes, jiff::Timestamp::now());
                    let replaced = sp.available.iter().filter(|n| !sp.old_on.contains_key(*n)).count();
                    let to_go = sp.old_on.keys().filter(|n| !in_flight.contains_key(*n)).count();
                    for (n, h) in std::mem::take(&mut preparing) {
                        h.abort();
                        // Cordoned before the abort (or as it came): it stays cordoned, said so.
                        if spec.drain && maintenance::cordoned_by(&cluster, &n, &label).await {
                            ours.insert(n);
                        }
                    }
                    let s = with_drain(mk(RollState::Aborted, replaced, to_go, &in_flight, &skipped), &preparing, &ours);
                    report(s.clone());
                    return s;
                }
            },
            _ = tick.tick() => {}
        }
        if renewed.elapsed() >= lease::RENEW_EVERY {
            renewed = Instant::now();
            let nodes: Vec<String> = in_flight.keys().cloned().collect();
            if let Err(why) = lock.renew(&nodes).await {
                if why.starts_with("the roll's lease was taken over") {
                    return stop(why);
                }
                tracing::warn!(%why, "roll: renewing the lease failed; retrying at the next renewal");
            }
        }
        if !synced {
            continue;
        }
        // Per node: live pods, and whether a current, available pod is there.
        let now = jiff::Timestamp::now();
        let Split { old_on, available, new_pod } = split(&pods, &info, &spec.nodes, now);
        // Nodes in flight whose new pod is available are done.
        let finished: Vec<String> = in_flight.keys().filter(|n| available.contains(*n) && !old_on.contains_key(*n)).cloned().collect();
        for n in finished {
            in_flight.remove(&n);
            done += 1;
            // Back in service: uncordoned, if this roll cordoned it.
            if ours.remove(&n)
                && let Err(why) = maintenance::uncordon(&cluster, &n).await
            {
                ours.insert(n.clone());
                let s = with_drain(mk(RollState::Stopped(why), done, old_on.len(), &in_flight, &skipped), &preparing, &ours);
                report(s.clone());
                return s;
            }
        }
        // Drained nodes: their daemon pod goes next (or the drain failed: the roll stops).
        let ready: Vec<String> = preparing.iter().filter(|(_, h)| h.is_finished()).map(|(n, _)| n.clone()).collect();
        for n in ready {
            let Some(h) = preparing.remove(&n) else { continue };
            match h.await {
                Ok(Ok(cordoned)) => {
                    if cordoned {
                        ours.insert(n.clone());
                    }
                    if let Err(why) = delete_old(&cluster, &pod_api, &n, old_on.get(&n).map(Vec::as_slice).unwrap_or_default()).await {
                        let s = with_drain(mk(RollState::Stopped(why), done, old_on.len(), &in_flight, &skipped), &preparing, &ours);
                        report(s.clone());
                        return s;
                    }
                    in_flight.insert(n, Instant::now());
                }
                Ok(Err(why)) => {
                    let s = with_drain(mk(RollState::Stopped(why), done, old_on.len(), &in_flight, &skipped), &preparing, &ours);
                    report(s.clone());
                    return s;
                }
                Err(e) => tracing::warn!(node = %n, error = %e, "roll: a drain task ended without a result"),
            }
        }
        // A node that went down is skipped and reported, not waited on: no replacement can
        // start there.
        for (n, why) in &down {
            if spec.nodes.contains(n) && !skipped.contains_key(n) && (in_flight.contains_key(n) || old_on.contains_key(n)) {
                let was = if in_flight.remove(n).is_some() { "went down while being replaced" } else { "went down" };
                tracing::warn!(target: "daemonscope::cluster::actions", action = "roll", node = %n, %why, "node skipped: {was}");
                skipped.insert(n.clone(), format!("{was}: {why}"));
            }
        }
        // A node in flight for too long stops the roll, named with what its pod is doing.
        if let Some((n, _)) = in_flight.iter().find(|(_, t)| t.elapsed() > spec.timeout) {
            let why = match new_pod.get(n) {
                Some(p) => {
                    let waiting = p.containers.iter().find_map(|c| c.waiting.as_ref().map(|w| w.0.clone()));
                    format!(
                        "the new pod {} on node {n} is not ready after {:?} ({})",
                        p.name,
                        spec.timeout,
                        waiting.unwrap_or_else(|| p.phase.to_string())
                    )
                }
                None => format!("no new pod on node {n} after {:?}", spec.timeout),
            };
            let s = mk(RollState::Stopped(why), done, old_on.len(), &in_flight, &skipped);
            report(s.clone());
            return s;
        }
        let remaining: Vec<String> = old_on
            .keys()
            .filter(|n| !in_flight.contains_key(*n) && !skipped.contains_key(*n) && !preparing.contains_key(*n))
            .cloned()
            .collect();
        if remaining.is_empty() && in_flight.is_empty() && preparing.is_empty() {
            let s = with_drain(mk(RollState::Done, done, 0, &in_flight, &skipped), &preparing, &ours);
            report(s.clone());
            return s;
        }
        // Start the next nodes, up to the batch size in flight — unless a budget holds a
        // drain: the roll waits for it rather than empty more nodes meanwhile.
        let held = spec.drain && !maintenance::all(&blockers).is_empty();
        if !paused && !held {
            for n in remaining.iter().take(spec.batch.saturating_sub(in_flight.len() + preparing.len())) {
                if spec.drain {
                    // Cordon and drain first; the daemon pod goes once that is done.
                    preparing
                        .insert(n.clone(), tokio::spawn(maintenance::prepare(cluster.clone(), n.clone(), label.clone(), blockers.clone())));
                    continue;
                }
                if let Err(why) = delete_old(&cluster, &pod_api, n, &old_on[n]).await {
                    let s = mk(RollState::Stopped(why), done, remaining.len(), &in_flight, &skipped);
                    report(s.clone());
                    return s;
                }
                in_flight.insert(n.clone(), Instant::now());
            }
        }
        let remaining =
            old_on.keys().filter(|n| !in_flight.contains_key(*n) && !skipped.contains_key(*n) && !preparing.contains_key(*n)).count();
        let s = with_drain(
            mk(if paused { RollState::Paused } else { RollState::Running }, done, remaining, &in_flight, &skipped),
            &preparing,
            &ours,
        );
        if last.as_ref() != Some(&s) {
            report(s.clone());
            last = Some(s);
        }
    }
}

/// Deletes the old daemon pods on node `n` (a pod already gone is fine).
async fn delete_old(cluster: &Cluster, pod_api: &Api<Pod>, n: &str, old: &[&PodInfo]) -> Result<(), String> {
    for p in old {
        match pod_api.delete(&p.name.to_string(), &DeleteParams::default()).await {
            Ok(_) => {
                tracing::info!(target: "daemonscope::cluster::actions", action = "roll", object = %format!("pod/{}", p.name), node = %n, result = "deleted", "action")
            }
            Err(kube::Error::Api(s)) if s.code == 404 => {}
            Err(e) => return Err(format!("deleting {} on {n}: {}", p.name, cluster.error(e))),
        }
    }
    Ok(())
}

/// The plan's nodes as the pods say: those with a live old pod, those whose current pod
/// is available (Ready for minReadySeconds), and each one's current pod.
struct Split<'a> {
    old_on: BTreeMap<String, Vec<&'a PodInfo>>,
    available: BTreeSet<String>,
    new_pod: BTreeMap<String, &'a PodInfo>,
}

fn split<'a>(pods: &'a HashMap<String, PodInfo>, info: &DsInfo, nodes: &BTreeSet<String>, now: jiff::Timestamp) -> Split<'a> {
    let mut sp = Split { old_on: BTreeMap::new(), available: BTreeSet::new(), new_pod: BTreeMap::new() };
    for p in pods.values().filter(|p| p.deleting.is_none()) {
        let Some(node) = p.node.as_deref().filter(|n| nodes.contains(*n)).map(String::from) else { continue };
        if is_updated(info, p) {
            sp.new_pod.insert(node.clone(), p);
            let ready_long_enough = p.ready_since().is_some_and(|t| now.duration_since(t).as_secs() >= i64::from(info.min_ready_seconds));
            if p.ready && ready_long_enough {
                sp.available.insert(node);
            }
        } else {
            sp.old_on.entry(node).or_default().push(p);
        }
    }
    sp
}

/// The roll's two watches, stopped when the roll ends (however it ends).
struct Watches([JoinHandle<()>; 3]);

impl Drop for Watches {
    fn drop(&mut self) {
        for h in &self.0 {
            h.abort();
        }
    }
}

//! `daemonscope status`: the coverage engine's answers for scripts, CI gates and incident
//! notes — the same model and `coverage::cell` the TUI shows, printed as a table, a wide
//! table or JSON, with an exit code; `--wait` follows the watch until coverage is complete.

use std::collections::BTreeMap;
use std::io::Write;
use std::time::{Duration, Instant};

use serde::Serialize;
use tokio::sync::mpsc;

use crate::cli::{Output, StatusArgs};
use crate::cluster::connect::Cluster;
use crate::cluster::watch::{self, Scope, SyncState, Update};
use crate::model::{DsInfo, Model, Resource, Strategy};

/// The JSON document (`-o json`); field names are the documented schema.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Report {
    pub context: String,
    /// A watch was failing when the report was made: the data may be out of date.
    pub stale: bool,
    /// With `stale`: how old the data is (seconds since the first watch that is still
    /// failing failed).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub age_seconds: Option<u64>,
    pub daemonsets: Vec<DsReport>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct DsReport {
    pub namespace: String,
    pub name: String,
    pub strategy: String,
    pub desired: i32,
    pub current: i32,
    pub ready: i32,
    pub updated: i32,
    pub available: i32,
    pub misscheduled: i32,
    pub rollout_complete: bool,
    /// Every node of the cluster, once.
    pub nodes: Vec<NodeReport>,
    /// Nodes per state (only states that occur).
    pub counts: BTreeMap<String, u32>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct NodeReport {
    pub node: String,
    /// ready | outdated | starting | failing | missing | misscheduled | terminating | node-not-ready | ineligible
    pub state: String,
    pub reason: String,
    pub pod: Option<String>,
    /// The pod's `controller-revision-hash`.
    pub revision: Option<String>,
}

impl DsReport {
    /// Every eligible node ready, nothing misscheduled (the exit-0 condition).
    pub fn fully_covered(&self) -> bool {
        self.nodes.iter().all(|n| n.state == "ready" || n.state == "ineligible")
    }

    fn progress_line(&self) -> String {
        let mut parts: Vec<String> =
            self.counts.iter().filter(|(s, _)| *s != "ready" && *s != "ineligible").map(|(s, n)| format!("{n} {s}")).collect();
        let ready = self.counts.get("ready").copied().unwrap_or(0);
        let eligible: u32 = self.counts.iter().filter(|(s, _)| *s != "ineligible" && *s != "misscheduled").map(|(_, n)| n).sum();
        parts.insert(0, format!("{ready}/{eligible} ready"));
        format!("{}/{}: {}", self.namespace, self.name, parts.join(", "))
    }
}

impl Report {
    pub fn fully_covered(&self) -> bool {
        self.daemonsets.iter().all(DsReport::fully_covered)
    }
}

/// The report for `selected` DaemonSets (all when empty), from the model.
pub fn report(model: &Model, context: &str, selected: &[(String, String)]) -> Report {
    let daemonsets = model
        .daemonsets()
        .filter(|d| selected.is_empty() || selected.iter().any(|(ns, n)| *ns == d.namespace && *n == d.name))
        .map(|d| ds_report(model, d))
        .collect();
    Report { context: context.to_string(), stale: false, age_seconds: None, daemonsets }
}

fn ds_report(model: &Model, d: &DsInfo) -> DsReport {
    let mut nodes = Vec::with_capacity(model.node_count());
    let mut counts = BTreeMap::new();
    for (id, n) in model.nodes() {
        let Some(cell) = model.explain(d, id) else { continue };
        let revision = cell
            .pod
            .as_ref()
            .and_then(|name| model.pods_on(d, id).into_iter().find(|p| &p.name == name))
            .and_then(|p| p.revision_hash.clone());
        *counts.entry(cell.state.as_str().to_string()).or_insert(0) += 1;
        nodes.push(NodeReport { node: n.name.clone(), state: cell.state.as_str().into(), reason: cell.reason, pod: cell.pod, revision });
    }
    let p = crate::model::rollout::brief(model, d);
    DsReport {
        namespace: d.namespace.clone(),
        name: d.name.clone(),
        strategy: d.strategy.name().into(),
        desired: d.desired,
        current: d.current,
        ready: d.ready,
        updated: d.updated,
        available: d.available,
        misscheduled: d.misscheduled,
        rollout_complete: p.complete,
        nodes,
        counts,
    }
}

fn rollout_words(d: &DsReport, strategy_on_delete: bool) -> String {
    if d.rollout_complete {
        "complete".into()
    } else if strategy_on_delete {
        format!("waiting for pod deletions ({} of {} updated, OnDelete)", d.updated, d.desired)
    } else {
        format!("in progress ({} of {} updated, {} available)", d.updated, d.desired, d.available)
    }
}

/// The table (`wide`: every node; else only nodes that are not fine).
pub fn table(r: &Report, wide: bool) -> String {
    let mut out = format!(
        "{:<16} {:<28} {:<14} {:>7} {:>7} {:>5} {:>10} {:>9} {:>8}  {}\n",
        "NAMESPACE", "NAME", "STRATEGY", "DESIRED", "CURRENT", "READY", "UP-TO-DATE", "AVAILABLE", "MISSCHED", "ROLLOUT"
    );
    for d in &r.daemonsets {
        let on_delete = d.strategy == Strategy::OnDelete.name();
        out.push_str(&format!(
            "{:<16} {:<28} {:<14} {:>7} {:>7} {:>5} {:>10} {:>9} {:>8}  {}\n",
            d.namespace,
            d.name,
            d.strategy,
            d.desired,
            d.current,
            d.ready,
            d.updated,
            d.available,
            d.misscheduled,
            rollout_words(d, on_delete)
        ));
        let shown: Vec<&NodeReport> = d.nodes.iter().filter(|n| wide || (n.state != "ready" && n.state != "ineligible")).collect();
        if shown.is_empty() {
            out.push_str(&format!(
                "  every node that should run it runs a ready, up-to-date pod ({} nodes)\n",
                d.counts.get("ready").copied().unwrap_or(0)
            ));
        } else {
            out.push_str(&format!("  {:<32} {:<13} {:<34} {}\n", "NODE", "STATE", "POD", "REASON"));
            for n in shown {
                out.push_str(&format!("  {:<32} {:<13} {:<34} {}\n", n.node, n.state, n.pod.as_deref().unwrap_or("-"), n.reason));
            }
        }
    }
    out.push('\n');
    let ok = r.daemonsets.iter().filter(|d| d.fully_covered()).count();
    out.push_str(&format!("{ok} of {} DaemonSets fully covered (context {})\n", r.daemonsets.len(), r.context));
    out
}

/// An error for the user: printed as one line, exit code 2.
#[derive(Debug)]
pub struct Failure(pub String);

/// Which DaemonSets the names select (NAME in any namespace in scope, or NS/NAME).
pub fn resolve(model: &Model, names: &[String]) -> Result<Vec<(String, String)>, Failure> {
    let mut out = Vec::new();
    for n in names {
        let found: Vec<(String, String)> = match n.split_once('/') {
            Some((ns, name)) => model.daemonset(ns, name).map(|d| (d.namespace.clone(), d.name.clone())).into_iter().collect(),
            None => model.daemonsets().filter(|d| d.name == *n).map(|d| (d.namespace.clone(), d.name.clone())).collect(),
        };
        if found.is_empty() {
            return Err(Failure(format!("DaemonSet {n:?} not found (kubectl get ds -A lists them)")));
        }
        out.extend(found);
    }
    Ok(out)
}

// Revisions too: a pod on the current revision's hash is up to date (a reverted template).
const CORE: [Resource; 4] = [Resource::DaemonSets, Resource::Nodes, Resource::Pods, Resource::Revisions];

/// Runs `status`: syncs, reports, and with `--wait` follows until fully covered. Returns
/// the exit code; the report goes to `out`, progress and errors to stderr.
/// `server` (the API server's URL, when known) is named when it cannot be watched.
pub async fn run(
    cluster: Cluster,
    context: String,
    server: Option<String>,
    scope: Scope,
    args: &StatusArgs,
    out: &mut (dyn Write + Send),
) -> i32 {
    match run_inner(cluster, context, server, scope, args, out).await {
        Ok(code) => code,
        Err(Failure(msg)) => {
            eprintln!("daemonscope: {msg}");
            2
        }
    }
}

async fn run_inner(
    cluster: Cluster,
    context: String,
    server: Option<String>,
    scope: Scope,
    args: &StatusArgs,
    out: &mut (dyn Write + Send),
) -> Result<i32, Failure> {
    let started = Instant::now();
    let deadline = args.timeout.map(|t| started + t);
    let (tx, mut rx) = mpsc::channel::<Update>(16_384);
    let handles = watch::spawn_only(cluster, scope, tx, &CORE);
    let _stop = AbortOnDrop(handles);
    let mut model = Model::new();
    let mut live = std::collections::HashSet::new();
    let mut failures = std::collections::HashMap::new();
    // The initial sync. An error that waiting cannot fix (credentials, permission, TLS) is
    // final; so is a server that keeps failing, unless --wait asks to ride it out.
    while live.len() < CORE.len() {
        let u = recv_until(&mut rx, deadline)
            .await
            .map_err(|_| Failure(format!("timed out after {:?} waiting for the initial list", args.timeout.unwrap_or_default())))?;
        match u {
            Some(Update::Sync(r, SyncState::Live)) => {
                live.insert(r);
                failures.remove(&r);
            }
            Some(Update::Sync(r, SyncState::Reconnecting { reason, fatal, retry_in })) => {
                // Per watch: one blip fails them all at once, and that is still one try.
                live.remove(&r);
                let tries = failures.entry(r).or_insert(0u32);
                *tries += 1;
                // A server that accepts and never answers is not a blip: the request
                // timeout was already waited out.
                let silent = reason_is_timeout(&reason);
                if fatal || (!args.wait && (*tries >= INITIAL_TRIES || silent)) {
                    let at = server.as_deref().map(|s| format!(" at {s}")).unwrap_or_default();
                    return Err(Failure(format!("cannot watch {}{at}: {reason}", r.label())));
                }
                // Without --wait the run ends in one line (the last failure) if this persists.
                if args.wait {
                    eprintln!("watch of {} failing: {reason}; retrying in {:.1}s", r.label(), retry_in.as_secs_f64());
                }
            }
            Some(Update::Sync(_, SyncState::Syncing)) => {}
            Some(Update::Change(c)) => model.apply(c),
            None => return Err(Failure("the watches stopped".into())),
        }
    }
    tracing::info!(seconds = started.elapsed().as_secs_f64(), "status: initial sync complete");
    let selected = resolve(&model, &args.daemonsets)?;
    if !args.wait {
        let r = report(&model, &context, &selected);
        emit(&r, args.output, out)?;
        return Ok(if r.fully_covered() { 0 } else { 1 });
    }
    let mut last_lines: BTreeMap<String, String> = BTreeMap::new();
    // Failing watches, and since when.
    let mut failing: std::collections::HashMap<Resource, Instant> = std::collections::HashMap::new();
    loop {
        let r = report(&model, &context, &selected);
        // Done when the pods say so and the controller's status agrees (it lags a moment).
        // Never declare success from stale data: a failing watch may hide the last pod.
        if failing.is_empty() && r.fully_covered() && r.daemonsets.iter().all(|d| d.rollout_complete) {
            emit(&r, args.output, out)?;
            eprintln!("all {} DaemonSet(s) fully covered after {:.0?}", r.daemonsets.len(), started.elapsed());
            return Ok(0);
        }
        for d in &r.daemonsets {
            let line = d.progress_line();
            if last_lines.get(&d.name).is_none_or(|l| *l != line) {
                eprintln!("waiting: {line}");
                last_lines.insert(d.name.clone(), line);
            }
        }
        // Apply everything that arrived, then re-evaluate; never poll the server.
        match recv_until(&mut rx, deadline).await {
            Err(_) => {
                let timeout = args.timeout.unwrap_or_default();
                // Stale data cannot say whether coverage is complete: that is "could not
                // observe the cluster" (2), not "not covered" (1).
                if let Some(since) = failing.values().min() {
                    let age = since.elapsed().as_secs();
                    let mut r = r;
                    r.stale = true;
                    r.age_seconds = Some(age);
                    emit(&r, args.output, out)?;
                    let mut broken: Vec<&str> = failing.keys().map(|r| r.label()).collect();
                    broken.sort();
                    eprintln!(
                        "daemonscope: timed out after {timeout:?} while the watch of {} was failing: the data is stale ({age}s old)",
                        broken.join(", ")
                    );
                    return Ok(2);
                }
                emit(&r, args.output, out)?;
                eprintln!("timed out after {timeout:?}: not every selected DaemonSet is fully covered");
                return Ok(1);
            }
            Ok(None) => return Err(Failure("the watches stopped".into())),
            Ok(Some(u)) => {
                apply(&mut model, &mut failing, u)?;
                while let Ok(u) = rx.try_recv() {
                    apply(&mut model, &mut failing, u)?;
                }
            }
        }
    }
}

/// Applies an update while waiting; an error that waiting cannot fix ends the wait.
fn apply(model: &mut Model, failing: &mut std::collections::HashMap<Resource, Instant>, u: Update) -> Result<(), Failure> {
    match u {
        Update::Change(c) => model.apply(c),
        Update::Sync(r, SyncState::Reconnecting { reason, fatal, retry_in }) => {
            if fatal {
                return Err(Failure(format!("watch of {} failed: {reason}", r.label())));
            }
            failing.entry(r).or_insert_with(Instant::now);
            eprintln!("watch of {} failing: {reason}; data is stale; retrying in {:.1}s", r.label(), retry_in.as_secs_f64());
        }
        Update::Sync(r, SyncState::Live) => {
            if failing.remove(&r).is_some() {
                eprintln!("watch of {} resumed", r.label());
            }
        }
        Update::Sync(_, SyncState::Syncing) => {}
    }
    Ok(())
}

/// The failure was the server not answering in time (the words of
/// [`ClusterError::is_timeout`](crate::cluster::errors::ClusterError::is_timeout) errors).
fn reason_is_timeout(reason: &str) -> bool {
    reason.contains("no answer from the API server") || reason.contains("a list page took over")
}

/// Without --wait, this many failures before the first sync end the run (about 1.5 s of
/// backoff: enough for a blip, not for a server that is down).
const INITIAL_TRIES: u32 = 3;

async fn recv_until(rx: &mut mpsc::Receiver<Update>, deadline: Option<Instant>) -> Result<Option<Update>, ()> {
    match deadline {
        None => Ok(rx.recv().await),
        Some(d) => {
            tokio::time::timeout(d.saturating_duration_since(Instant::now()).max(Duration::from_millis(1)), rx.recv()).await.map_err(|_| ())
        }
    }
}

fn emit(r: &Report, output: Output, out: &mut (dyn Write + Send)) -> Result<(), Failure> {
    let text = match output {
        Output::Json => serde_json::to_string_pretty(r).map_err(|e| Failure(e.to_string()))? + "\n",
        Output::Table => table(r, false),
        Output::Wide => table(r, true),
    };
    out.write_all(text.as_bytes()).map_err(|e| Failure(format!("writing the report: {e}")))
}

struct AbortOnDrop(Vec<tokio::task::JoinHandle<()>>);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        for h in &self.0 {
            h.abort();
        }
    }
}

//! `daemonscope status`: the coverage engine's answers for scripts, CI gates and incident
//! notes — the same model and `coverage::cell` the TUI shows, printed as a table, a wide
//! table or JSON, with an exit code; `--wait` follows the watch until coverage is complete.
//! The report and its gate are in [`report`], the table in [`table`], several clusters at
//! once in [`fleet`], the joining nodes (`--joins`) in [`joins`]; this file runs the watches of one.
//!
//! May import: `cluster`, `model`, `k8s`, `cli`.

pub mod fleet;
pub mod joins;
pub mod report;
pub mod rollout;
pub mod table;

use std::collections::BTreeMap;
use std::io::Write;
use std::time::{Duration, Instant};

use tokio::sync::mpsc;

use crate::cli::{Output, StatusArgs};
use crate::cluster::connect::Cluster;
use crate::cluster::live::{LiveModel, SyncEvent};
use crate::cluster::watch::{self, Scope, Update};
use crate::k8s::text::{self, LINE_MAX};
use crate::model::{Model, Resource};

pub use report::{DsReport, Gate, NodeReport, Report, Summary, report};
pub use table::table;

/// A line (or a few) for stderr: what the server or the cluster said in it made
/// [visible](text::visible) and cut, so it cannot drive the terminal.
pub fn say(line: &str) {
    eprintln!("{}", text::lines_cut(line, LINE_MAX));
}

/// Exits with one clear line (no backtrace) for an error the user can fix, code 1.
pub fn fail(msg: impl std::fmt::Display) -> ! {
    fail_with(1, msg)
}

/// The same with exit code `code`.
pub fn fail_with(code: i32, msg: impl std::fmt::Display) -> ! {
    say(&format!("daemonscope: {msg}"));
    std::process::exit(code);
}

/// An error for the user: printed as one line, exit code 2.
#[derive(Debug)]
pub struct Failure(pub String);

/// The selection in the user's words: `-n typo`, `-l app=x`, or every namespace.
pub fn describe_scope(scope: &Scope) -> String {
    scope.describe()
}

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
    if args.joins.joins {
        let settings = joins::settings(&args.joins);
        return joins::run(cluster, context, scope, settings, args.output, args.timeout, out).await;
    }
    // `-o json` is written from the model as it is made, never held whole.
    let stream = args.output == Output::Json;
    let outcome = observe(cluster, context, server, scope, args, "", stream).await;
    let emitted = match (&outcome.report, &outcome.synced) {
        (Some(r), _) => emit(r, args.output, out),
        (None, Some(s)) => stream_json(s, out),
        (None, None) => Ok(()),
    };
    match (emitted, outcome.error) {
        (Err(Failure(msg)), _) | (Ok(()), Some(msg)) => {
            say(&format!("daemonscope: {msg}"));
            2
        }
        (Ok(()), None) => {
            if let Some(note) = outcome.note {
                say(&note);
            }
            outcome.code
        }
    }
}

/// What watching one cluster came to: the exit code it alone would give, the report (when
/// the cluster could be observed), a line for stderr after the report, and the error that
/// ended it (exit 2; with a report too when the data went stale while waiting).
pub struct Outcome {
    pub code: i32,
    pub report: Option<Report>,
    /// Printed after the report (`all 3 DaemonSet(s) fully covered after 12s`).
    pub note: Option<String>,
    /// Why the cluster could not be observed, or why the report cannot be trusted.
    pub error: Option<String>,
    /// The initial sync completed.
    pub reachable: bool,
    /// Instead of `report`, when asked to stream: what the report is written from.
    pub synced: Option<Synced>,
}

/// A synced model and what to report of it: `-o json` is written from it as it is made.
pub struct Synced {
    pub model: Model,
    pub context: String,
    pub selected: Vec<(String, String)>,
    pub gate: Gate,
}

/// The report of `model`, or (`stream`) the model to write it from.
fn made(stream: bool, model: Model, context: &str, selected: Vec<(String, String)>, gate: Gate) -> (Option<Report>, Option<Synced>) {
    if stream {
        (None, Some(Synced { model, context: context.to_string(), selected, gate }))
    } else {
        (Some(report(&model, context, &selected, &gate)), None)
    }
}

/// Syncs one cluster, reports, and with `--wait` follows it until fully covered (or the
/// deadline). Progress goes to stderr, each line after `tag` (`[ctx] ` for a fleet). With
/// `stream`, the outcome keeps the model ([`Outcome::synced`]) instead of a report made of
/// it (unless the data went stale: that report says how old it is).
pub async fn observe(
    cluster: Cluster,
    context: String,
    server: Option<String>,
    scope: Scope,
    args: &StatusArgs,
    tag: &str,
    stream: bool,
) -> Outcome {
    let mut reachable = false;
    match observe_inner(cluster, context, server, scope, args, tag, stream, &mut reachable).await {
        Ok(o) => o,
        Err(Failure(msg)) => Outcome { code: 2, report: None, note: None, error: Some(msg), reachable, synced: None },
    }
}

#[allow(clippy::too_many_arguments)]
async fn observe_inner(
    cluster: Cluster,
    context: String,
    server: Option<String>,
    scope: Scope,
    args: &StatusArgs,
    tag: &str,
    stream: bool,
    reachable: &mut bool,
) -> Result<Outcome, Failure> {
    let done = |code: i32, (report, synced): (Option<Report>, Option<Synced>), note: String| Outcome {
        code,
        report,
        note: Some(note),
        error: None,
        reachable: true,
        synced,
    };
    let started = Instant::now();
    let deadline = args.timeout.map(|t| started + t);
    let (tx, mut rx) = mpsc::channel::<Update>(16_384);
    let handles = watch::spawn_only(cluster, scope.clone(), tx, &CORE);
    let _stop = AbortOnDrop(handles);
    let mut live = LiveModel::new(&CORE);
    let mut tries: std::collections::HashMap<Resource, u32> = std::collections::HashMap::new();
    // The initial sync. An error that waiting cannot fix (credentials, permission, TLS) is
    // final; so is a server that keeps failing, unless --wait asks to ride it out.
    while !live.is_synced() {
        let u = recv_until(&mut rx, deadline)
            .await
            .map_err(|_| Failure(format!("timed out after {:?} waiting for the initial list", args.timeout.unwrap_or_default())))?
            .ok_or_else(|| Failure("the watches stopped".into()))?;
        match live.apply(u) {
            Some(SyncEvent::Failing(r)) => {
                let Some(f) = live.watch(r).and_then(|w| w.failing.clone()) else { continue };
                // Per watch: one blip fails them all at once, and that is still one try.
                let n = tries.entry(r).or_insert(0u32);
                *n += 1;
                // A server that accepts and never answers is not a blip: the request
                // timeout was already waited out.
                if f.fatal || (!args.wait && (*n >= INITIAL_TRIES || f.failure.is_timeout())) {
                    let at = server.as_deref().map(|s| format!(" at {s}")).unwrap_or_default();
                    return Err(Failure(format!("cannot watch {}{at}: {}", r.label(), f.reason)));
                }
                // Without --wait the run ends in one line (the last failure) if this persists.
                if args.wait {
                    let retry_in = f.retry_at.saturating_duration_since(Instant::now());
                    say(&format!("{tag}watch of {} failing: {}; retrying in {:.1}s", r.label(), f.reason, retry_in.as_secs_f64()));
                }
            }
            Some(SyncEvent::Recovered(r, _)) => {
                tries.remove(&r);
            }
            _ => {}
        }
    }
    tracing::info!(%context, seconds = started.elapsed().as_secs_f64(), "status: initial sync complete");
    *reachable = true;
    let selected = resolve(&live.model, &args.daemonsets)?;
    // An empty selection is an error, not "0 of 0 covered": a gate with a typo must not pass.
    if live.model.daemonsets().next().is_none() {
        return Err(Failure(format!("no DaemonSet matches {} in context {context}", describe_scope(&scope))));
    }
    let gate = Gate { allow_down_nodes: args.allow_down_nodes, max_unavailable: args.max_unavailable.clone() };
    if !args.wait {
        let code = if report::all_pass(&live.model, &selected, &gate) { 0 } else { 1 };
        let (report, synced) = made(stream, live.model, &context, selected, gate);
        return Ok(Outcome { code, report, note: None, error: None, reachable: true, synced });
    }
    let mut last_lines: BTreeMap<String, String> = BTreeMap::new();
    loop {
        let model = &live.model;
        let stale = live.failing().next().is_some();
        // Each DaemonSet's counts, not every node's line: the report is made once, at the end.
        let briefs = report::briefs(model, &selected, &gate);
        // Done when the pods say so and the controller's status agrees (it lags a moment).
        // Never declare success from stale data: a failing watch may hide the last pod.
        if !stale && briefs.iter().all(|d| d.covered && d.rollout_complete) {
            let note = format!("{tag}all {} DaemonSet(s) fully covered after {:.0?}", briefs.len(), started.elapsed());
            return Ok(done(0, made(stream, live.model, &context, selected, gate), note));
        }
        // A rollout stalled by its own failures for longer than --stall-timeout will not
        // finish by waiting: say so now, as `kubectl rollout status` never does.
        if !stale {
            let now = crate::k8s::clock::now();
            let stalled: Vec<String> =
                report::chosen(model, &selected).filter_map(|d| rollout::stalled_by_rollout(model, d, args.stall_timeout, now)).collect();
            if !stalled.is_empty() {
                let note = stalled.iter().map(|s| format!("{tag}{s}")).collect::<Vec<_>>().join("\n");
                return Ok(done(1, made(stream, live.model, &context, selected, gate), note));
            }
        }
        for d in &briefs {
            let line = d.progress_line();
            let key = format!("{}/{}", d.namespace, d.name);
            if last_lines.get(&key).is_none_or(|l| *l != line) {
                say(&format!("{tag}waiting: {line}"));
                last_lines.insert(key, line);
            }
        }
        // Apply everything that arrived, then re-evaluate; never poll the server.
        match recv_until(&mut rx, deadline).await {
            Err(_) => {
                let timeout = args.timeout.unwrap_or_default();
                // Stale data cannot say whether coverage is complete: that is "could not
                // observe the cluster" (2), not "not covered" (1).
                if let Some(since) = live.failing().map(|(_, f)| f.since).min() {
                    let age = since.elapsed().as_secs();
                    let mut r = report(&live.model, &context, &selected, &gate);
                    r.stale = true;
                    r.age_seconds = Some(age);
                    let mut broken: Vec<&str> = live.failing().map(|(r, _)| r.label()).collect();
                    broken.sort();
                    let error = format!(
                        "timed out after {timeout:?} while the watch of {} was failing: the data is stale ({age}s old)",
                        broken.join(", ")
                    );
                    return Ok(Outcome { code: 2, report: Some(r), note: None, error: Some(error), reachable: true, synced: None });
                }
                let note = format!("{tag}timed out after {timeout:?}: not every selected DaemonSet is fully covered");
                return Ok(done(1, made(stream, live.model, &context, selected, gate), note));
            }
            Ok(None) => return Err(Failure("the watches stopped".into())),
            Ok(Some(u)) => {
                apply(&mut live, u, tag)?;
                while let Ok(u) = rx.try_recv() {
                    apply(&mut live, u, tag)?;
                }
            }
        }
    }
}

/// Applies an update while waiting; an error that waiting cannot fix ends the wait.
fn apply(live: &mut LiveModel, u: Update, tag: &str) -> Result<(), Failure> {
    match live.apply(u) {
        Some(SyncEvent::Failing(r)) => {
            let Some(f) = live.watch(r).and_then(|w| w.failing.as_ref()) else { return Ok(()) };
            if f.fatal {
                return Err(Failure(format!("watch of {} failed: {}", r.label(), f.reason)));
            }
            let retry_in = f.retry_at.saturating_duration_since(Instant::now());
            say(&format!("{tag}watch of {} failing: {}; data is stale; retrying in {:.1}s", r.label(), f.reason, retry_in.as_secs_f64()));
        }
        Some(SyncEvent::Recovered(r, _)) => say(&format!("{tag}watch of {} resumed", r.label())),
        _ => {}
    }
    Ok(())
}

/// Without --wait, this many failures before the first sync end the run (about 1.5 s of
/// backoff: enough for a blip, not for a server that is down).
pub(crate) const INITIAL_TRIES: u32 = 3;

pub(crate) async fn recv_until(rx: &mut mpsc::Receiver<Update>, deadline: Option<Instant>) -> Result<Option<Update>, ()> {
    match deadline {
        None => Ok(rx.recv().await),
        Some(d) => {
            tokio::time::timeout(d.saturating_duration_since(Instant::now()).max(Duration::from_millis(1)), rx.recv()).await.map_err(|_| ())
        }
    }
}

fn emit(r: &Report, output: Output, out: &mut (dyn Write + Send)) -> Result<(), Failure> {
    let text = match output {
        Output::Json => {
            let mut w = std::io::BufWriter::new(&mut *out);
            return text::json_pretty(&mut w, r)
                .map_err(|e| Failure(format!("writing the report: {e}")))
                .and_then(|()| w.write_all(b"\n").and_then(|()| w.flush()).map_err(|e| Failure(format!("writing the report: {e}"))));
        }
        Output::Table => emit_text(r, false),
        Output::Wide => emit_text(r, true),
    };
    out.write_all(text.as_bytes()).map_err(|e| Failure(format!("writing the report: {e}")))
}

/// `-o json` written from the model as it is made ([`report::write_json`]: the same bytes
/// as the report built whole, one DaemonSet's nodes held at a time).
fn stream_json(s: &Synced, out: &mut (dyn Write + Send)) -> Result<(), Failure> {
    let failed = |e: &dyn std::fmt::Display| Failure(format!("writing the report: {e}"));
    report::write_json(&s.model, &s.context, &s.selected, &s.gate, &mut *out).map_err(|e| failed(&e))?;
    out.write_all(b"\n").and_then(|()| out.flush()).map_err(|e| failed(&e))
}

/// The table (`wide`: every node) of one report.
fn emit_text(r: &Report, wide: bool) -> String {
    table(r, wide)
}

pub(crate) struct AbortOnDrop(Vec<tokio::task::JoinHandle<()>>);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        for h in &self.0 {
            h.abort();
        }
    }
}

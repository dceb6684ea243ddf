//! `daemonscope status --joins`: the nodes that joined within `--joins-since`, worst
//! first — time to Ready and to usable, the slowest DaemonSet, what went wrong — as a
//! table or JSON; exit 1 when one is not usable `--usable-timeout` after its creation.
//! The timelines and problems are `model::joins`; this file syncs the watches (the
//! workload pods' too) and prints.
//!
//! May import: `cli`, `cluster`, `model`, `k8s`.

use std::io::Write;
use std::time::Instant;

use serde::Serialize;
use tokio::sync::mpsc;

use crate::cli::{JoinArgs, JoinJudging, Output};
use crate::cluster::connect::Cluster;
use crate::cluster::live::{LiveModel, SyncEvent};
use crate::cluster::watch::{self, Scope, Update};
use crate::k8s::duration::human_duration;
use crate::k8s::text;
use crate::model::joins::{self, JoinSettings, NodeJoin, ReadyKnown};
use crate::model::{Model, Resource};

const WATCHED: [Resource; 5] = [Resource::DaemonSets, Resource::Nodes, Resource::Pods, Resource::Revisions, Resource::Workloads];

/// The settings the flags make (`critical`: `--critical`, or the config's list, which the
/// binary puts there when no `--critical` is given).
pub fn settings(args: &JoinArgs) -> JoinSettings {
    JoinSettings { usable_timeout: args.usable_timeout, ..judged(&args.judged) }
}

/// The settings the flags `status --joins` and `serve` share make.
pub fn judged(args: &JoinJudging) -> JoinSettings {
    JoinSettings { since: args.joins_since, critical: args.critical.clone(), ..JoinSettings::default() }
}

/// One DaemonSet on a node, for JSON (times as RFC 3339, durations in seconds from creation).
#[derive(Serialize)]
struct DsJson {
    namespace: String,
    name: String,
    critical: bool,
    scheduled: Option<String>,
    started: Option<String>,
    ready: Option<String>,
    ready_seconds: Option<i64>,
    state: &'static str,
    reason: String,
}

#[derive(Serialize)]
struct ProblemJson {
    kind: &'static str,
    message: String,
}

#[derive(Serialize)]
struct NodeJson {
    node: String,
    created: String,
    pool: String,
    zone: String,
    instance_type: String,
    ready: Option<String>,
    /// `watched` (seen turning Ready) or `condition` (already Ready when first seen: the
    /// Ready condition's lastTransitionTime).
    ready_known: Option<&'static str>,
    ready_seconds: Option<i64>,
    usable: Option<String>,
    usable_seconds: Option<i64>,
    overdue: bool,
    startup_taints: Vec<TaintJson>,
    daemonsets: Vec<DsJson>,
    problems: Vec<ProblemJson>,
}

#[derive(Serialize)]
struct TaintJson {
    taint: String,
    gone: Option<String>,
}

#[derive(Serialize)]
struct ReportJson {
    context: String,
    since_seconds: u64,
    usable_timeout_seconds: u64,
    nodes: Vec<NodeJson>,
}

fn node_json(j: &NodeJoin) -> NodeJson {
    let t = |t: Option<jiff::Timestamp>| t.map(|t| t.to_string());
    let secs = |t: Option<jiff::Timestamp>| t.map(|t| t.duration_since(j.created).as_secs());
    NodeJson {
        node: j.name.clone(),
        created: j.created.to_string(),
        pool: j.pool.clone(),
        zone: j.zone.clone(),
        instance_type: j.instance_type.clone(),
        ready: t(j.ready.map(|r| r.0)),
        ready_known: j.ready.map(|(_, k)| match k {
            ReadyKnown::Watched => "watched",
            ReadyKnown::Condition => "condition",
        }),
        ready_seconds: secs(j.ready.map(|r| r.0)),
        usable: t(j.usable),
        usable_seconds: secs(j.usable),
        overdue: j.overdue,
        startup_taints: j.taints.iter().map(|s| TaintJson { taint: format!("{}:{}", s.key, s.effect), gone: t(s.gone) }).collect(),
        daemonsets: j
            .daemons
            .iter()
            .map(|d| DsJson {
                namespace: d.namespace.clone(),
                name: d.name.clone(),
                critical: d.critical,
                scheduled: t(d.scheduled),
                started: t(d.started),
                ready: t(d.ready),
                ready_seconds: secs(d.ready),
                state: d.state.as_str(),
                reason: d.reason.clone(),
            })
            .collect(),
        problems: j.problems.iter().map(|p| ProblemJson { kind: p.kind(), message: p.describe() }).collect(),
    }
}

fn dur(d: Option<jiff::SignedDuration>) -> String {
    d.map(|d| human_duration(d.as_secs())).unwrap_or_else(|| "-".into())
}

/// The table: one line per node, then its problems indented under it.
pub fn table(joins: &[NodeJoin], now: jiff::Timestamp) -> String {
    if joins.is_empty() {
        return "no node joined within the window\n".into();
    }
    let rows: Vec<[String; 7]> = joins
        .iter()
        .map(|j| {
            let slowest = j.slowest().map(|d| {
                let took = d.ready.map(|r| human_duration(r.duration_since(j.created).as_secs())).unwrap_or_else(|| "not Ready".into());
                format!("{}/{} {took}", d.namespace, d.name)
            });
            let usable = match (j.to_usable(), j.overdue) {
                (Some(d), _) => human_duration(d.as_secs()),
                (None, true) => "OVERDUE".into(),
                (None, false) => "-".into(),
            };
            [
                j.name.clone(),
                human_duration(now.duration_since(j.created).as_secs()),
                [j.pool.as_str(), j.zone.as_str(), j.instance_type.as_str()]
                    .iter()
                    .filter(|s| !s.is_empty())
                    .copied()
                    .collect::<Vec<_>>()
                    .join("/"),
                dur(j.to_ready()),
                usable,
                slowest.unwrap_or_else(|| "-".into()),
                j.problems.len().to_string(),
            ]
        })
        .collect();
    let head = ["NODE", "AGE", "POOL/ZONE/TYPE", "READY", "USABLE", "SLOWEST", "PROBLEMS"];
    let widths: Vec<usize> = (0..7).map(|i| rows.iter().map(|r| r[i].chars().count()).max().unwrap_or(0).max(head[i].len())).collect();
    let line = |cells: &[String]| {
        let mut s = cells.iter().zip(&widths).map(|(c, w)| format!("{c:<w$}")).collect::<Vec<_>>().join("  ");
        s.truncate(s.trim_end().len());
        s + "\n"
    };
    let mut out = line(&head.map(String::from));
    for (r, j) in rows.iter().zip(joins) {
        out.push_str(&text::visible(&line(r)));
        for p in &j.problems {
            out.push_str(&format!("  ! {}\n", text::visible(&p.describe())));
        }
    }
    out
}

/// Runs `status --joins`; the exit code (0, 1 when a node is overdue, 2 when the cluster
/// cannot be observed).
pub async fn run(
    cluster: Cluster,
    context: String,
    scope: Scope,
    settings: JoinSettings,
    output: Output,
    timeout: Option<std::time::Duration>,
    out: &mut (dyn Write + Send),
) -> i32 {
    match observe(cluster, scope, &settings, timeout).await {
        Err(msg) => {
            super::say(&format!("daemonscope: {msg}"));
            2
        }
        Ok(model) => {
            let now = crate::k8s::clock::now();
            let r = joins::report(&model, &settings, now);
            let code = if r.iter().any(|j| j.overdue) { 1 } else { 0 };
            let written = match output {
                Output::Json => {
                    let doc = ReportJson {
                        context,
                        since_seconds: settings.since.as_secs(),
                        usable_timeout_seconds: settings.usable_timeout.as_secs(),
                        nodes: r.iter().map(node_json).collect(),
                    };
                    text::json_pretty(&mut *out, &doc)
                        .map_err(|e| e.to_string())
                        .and_then(|()| out.write_all(b"\n").map_err(|e| e.to_string()))
                }
                Output::Table | Output::Wide => out.write_all(table(&r, now).as_bytes()).map_err(|e| e.to_string()),
            };
            match written {
                Ok(()) => code,
                Err(e) => {
                    super::say(&format!("daemonscope: writing the report: {e}"));
                    2
                }
            }
        }
    }
}

/// Syncs the watches the joins need (the workload pods' too) into a model.
async fn observe(cluster: Cluster, scope: Scope, settings: &JoinSettings, timeout: Option<std::time::Duration>) -> Result<Model, String> {
    let (tx, mut rx) = mpsc::channel::<Update>(16_384);
    let handles = watch::spawn_only(cluster, scope, tx, &WATCHED);
    let _stop = super::AbortOnDrop(handles);
    let mut live = LiveModel::new(&WATCHED);
    live.model.set_join_window(settings.since);
    let deadline = timeout.map(|t| Instant::now() + t);
    let mut tries = 0;
    // The joins judge workload pods too: their watch must have listed as well.
    while !live.is_synced() || !live.is_live(Resource::Workloads) {
        let u = super::recv_until(&mut rx, deadline)
            .await
            .map_err(|_| format!("timed out after {:?} waiting for the initial list", timeout.unwrap_or_default()))?
            .ok_or("the watches stopped")?;
        if let Some(SyncEvent::Failing(r)) = live.apply(u)
            && let Some(f) = live.watch(r).and_then(|w| w.failing.clone())
        {
            tries += 1;
            if f.fatal || tries >= super::INITIAL_TRIES || f.failure.is_timeout() {
                return Err(format!("cannot watch {}: {}", r.label(), f.reason));
            }
        }
    }
    Ok(live.model)
}

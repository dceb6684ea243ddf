//! `/metrics`: the model as Prometheus metrics, built per scrape with `prometheus-client`
//! and encoded in the Prometheus text format (0.0.4), or OpenMetrics when the scraper
//! asks for it. Per-node series come from the coverage index (one byte per DaemonSet ×
//! node), so only the problem nodes, up to the cap, are explained.
//!
//! May import: `cluster`, `model`, `k8s`, `serve::state`, `serve::joins` (through the state).

use std::sync::atomic::AtomicU64;

use prometheus_client::encoding::{prometheus_text, text as openmetrics_text};
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::registry::Registry;

use crate::model::coverage::CellState;
use crate::model::{budget, rollout};
use crate::serve::state::{State, ds_labels, resource_name};

type Labels = Vec<(&'static str, String)>;
type IntGauges = Family<Labels, Gauge>;
type FloatGauges = Family<Labels, Gauge<f64, AtomicU64>>;

pub const OPENMETRICS_CONTENT_TYPE: &str = "application/openmetrics-text; version=1.0.0; charset=utf-8";
pub const TEXT_CONTENT_TYPE: &str = prometheus_text::CONTENT_TYPE;

/// Whether an `Accept` header asks for OpenMetrics.
pub fn wants_openmetrics(accept: Option<&str>) -> bool {
    accept.is_some_and(|a| a.contains("application/openmetrics-text"))
}

/// The scrape: every metric of the current state, each family's samples sorted by their
/// labels (the registry's maps keep no order; stable scrapes diff and compress well).
pub fn render(state: &State, openmetrics: bool) -> String {
    let reg = registry(state);
    let mut out = String::with_capacity(64 * 1024);
    let r = if openmetrics { openmetrics_text::encode(&mut out, &reg) } else { prometheus_text::encode(&mut out, &reg) };
    r.expect("writing to a String cannot fail");
    let mut out = sorted_samples(&out);
    if state.ksm_compat {
        let ksm = super::ksm::render(state.live.read().model.daemonsets());
        // OpenMetrics ends with `# EOF`: the families go before it.
        match out.rfind("# EOF") {
            Some(at) => out.insert_str(at, &ksm),
            None => out.push_str(&ksm),
        }
    }
    out
}

/// The exposition with each family's samples (the lines between two comment lines) in
/// the order of their label sets. A stable sort on the labels without `le`, so a
/// histogram's buckets, sum and count stay together and in their order.
fn sorted_samples(text: &str) -> String {
    fn key(line: &str) -> String {
        let Some(open) = line.find('{') else { return String::new() };
        let close = line.rfind('}').unwrap_or(line.len());
        line[open + 1..close].split(',').filter(|kv| !kv.starts_with("le=")).collect::<Vec<_>>().join(",")
    }
    let mut out = String::with_capacity(text.len());
    let mut run: Vec<&str> = Vec::new();
    let flush = |run: &mut Vec<&str>, out: &mut String| {
        run.sort_by_cached_key(|l| key(l));
        for l in run.drain(..) {
            out.push_str(l);
            out.push('\n');
        }
    };
    for line in text.lines() {
        if line.starts_with('#') {
            flush(&mut run, &mut out);
            out.push_str(line);
            out.push('\n');
        } else {
            run.push(line);
        }
    }
    flush(&mut run, &mut out);
    out
}

fn with(ds: &Labels, k: &'static str, v: &str) -> Labels {
    let mut l = ds.clone();
    l.push((k, v.to_string()));
    l
}

/// Which node problems get a series first when `--max-node-series` cannot hold them all:
/// the daemon failing, then missing, then starting (or terminating), then its node down,
/// then misscheduled. Outdated pods get none (a rollout not yet there is counted per
/// DaemonSet in `daemonscope_daemonset_nodes{state="outdated"}`): an OnDelete backlog must
/// never push a failing node out of the scrape.
fn series_rank(s: CellState) -> Option<u8> {
    match s {
        CellState::Failing => Some(0),
        CellState::Missing => Some(1),
        CellState::Starting | CellState::Terminating => Some(2),
        CellState::NodeNotReady => Some(3),
        CellState::Misscheduled => Some(4),
        _ => None,
    }
}

/// A ratio or a time with the precision it has (no 17-digit ratios in the scrape).
fn rounded(v: f64, places: i32) -> f64 {
    let f = 10f64.powi(places);
    (v * f).round() / f
}

fn registry(state: &State) -> Registry {
    let mut reg = Registry::default();
    let nodes = IntGauges::default();
    let desired = IntGauges::default();
    let problem = IntGauges::default();
    let dropped = IntGauges::default();
    let progress = FloatGauges::default();
    let stalled = IntGauges::default();
    let started = FloatGauges::default();
    let blocked = IntGauges::default();
    let now = std::time::Instant::now();
    let wall = jiff::Timestamp::now();
    {
        let live = state.live.read();
        let model = &live.model;
        let dss: Vec<_> = model.daemonsets().collect();
        // Every node problem that may get a series: (rank, DaemonSet, node), worst first.
        let mut problems: Vec<(u8, usize, crate::model::NodeId, CellState)> = Vec::new();
        for (i, d) in dss.iter().enumerate() {
            let ds = ds_labels(&d.namespace, &d.name);
            let Some(cov) = model.coverage(d) else { continue };
            for s in CellState::ALL {
                nodes.get_or_create(&with(&ds, "state", s.as_str())).set(i64::from(cov.count(s)));
            }
            desired.get_or_create(&ds).set(i64::from(cov.eligible()));
            for (id, s) in cov.cells.iter().enumerate() {
                if let Some(rank) = series_rank(*s) {
                    problems.push((rank, i, id as crate::model::NodeId, *s));
                }
            }
            let p = rollout::brief(model, d);
            let ratio = if p.desired <= 0 { 1.0 } else { (f64::from(p.updated) / f64::from(p.desired)).min(1.0) };
            progress.get_or_create(&ds).set(rounded(ratio, 4));
            // From the guard already held: taking the lock again while a writer waits
            // deadlocks (parking_lot's read lock is not recursive).
            let s = rollout::summarize(&p, live.pace(&d.uid), now, None);
            stalled.get_or_create(&ds).set(i64::from(s.stalled));
            if let Some(t) = p.started {
                started.get_or_create(&ds).set(rounded(t.as_millisecond() as f64 / 1000.0, 3));
            }
            if rollout::under_way(model, d) {
                // What holds the rollout's budget (and new pods failing outside it), by cause
                // and by whether the rollout caused it: the nodes of each.
                let b = budget::budget(model, d, wall);
                for g in b.groups() {
                    let l = with(&with(&ds, "cause", g.first.cause.as_str()), "origin", g.first.origin.as_str());
                    blocked.get_or_create(&l).inc_by(g.holders.len() as i64);
                }
            }
        }
        // Worst first, then DaemonSet, then node name: the same series survive every scrape.
        state.joins.register(&mut reg, model, crate::k8s::clock::now());
        problems.sort_by_cached_key(|p| (p.0, p.1, model.node(p.2).map(|n| n.name.clone())));
        for (i, (_, d, id, s)) in problems.iter().enumerate() {
            if i >= state.max_node_series {
                dropped.get_or_create(&vec![("state", s.as_str().to_string())]).inc();
                continue;
            }
            let d = dss[*d];
            let (Some(node), Some(cell)) = (model.node(*id), model.explain(d, *id)) else { continue };
            let mut l = with(&ds_labels(&d.namespace, &d.name), "node", &node.name);
            l.push(("state", cell.state.as_str().to_string()));
            l.push(("reason", cell.cause.as_str().to_string()));
            problem.get_or_create(&l).set(1);
        }
    }
    let build = IntGauges::default();
    let revision = option_env!("DAEMONSCOPE_REVISION").unwrap_or("unknown");
    build.get_or_create(&vec![("version", env!("CARGO_PKG_VERSION").to_string()), ("revision", revision.to_string())]).set(1);
    reg.register("daemonscope_build_info", "1, labelled with the version and the source revision of this build", build);
    reg.register("daemonscope_daemonset_nodes", "Nodes per coverage state of each DaemonSet", nodes);
    reg.register(
        "daemonscope_daemonset_desired_nodes",
        "Nodes that should run the DaemonSet (the controller's desired set, down nodes it still counts included)",
        desired,
    );
    reg.register(
        "daemonscope_daemonset_node_problem",
        "1 for each node where the DaemonSet is failing, missing, starting, down or misscheduled, with its state and reason (worst first, capped by --max-node-series)",
        problem,
    );
    reg.register("daemonscope_node_series_dropped", "Node problem series left out of this scrape by --max-node-series, by state", dropped);
    reg.register(
        "daemonscope_daemonset_rollout_progress_ratio",
        "Updated pods over desired pods of the DaemonSet's current rollout (1 when complete)",
        progress,
    );
    reg.register("daemonscope_daemonset_rollout_stalled", "1 while an unfinished rollout has made no progress for a minute", stalled);
    reg.register(
        "daemonscope_daemonset_rollout_blocked",
        "Nodes holding an unfinished rollout, by cause and by origin (rollout-induced: the rollout's own new pods; pre-existing or unrelated: not the rollout's doing)",
        blocked,
    );
    reg.register("daemonscope_daemonset_rollout_started_timestamp_seconds", "When the DaemonSet's current revision was created", started);
    reg.register(
        "daemonscope_node_time_to_coverage_seconds",
        "Seconds from a node's Ready to the DaemonSet's pod Ready there, for nodes that joined while serving",
        state.time_to_coverage.clone(),
    );
    let up = IntGauges::default();
    let last = FloatGauges::default();
    for (r, w) in state.watches() {
        let l = vec![("resource", resource_name(r).to_string())];
        up.get_or_create(&l).set(i64::from(w.live));
        if let Some(t) = w.last_event {
            last.get_or_create(&l).set(t.as_millisecond() as f64 / 1000.0);
        }
    }
    reg.register("daemonscope_watch_up", "1 while the watch of the resource is live, 0 while it lists or fails", up);
    reg.register("daemonscope_watch_last_event_timestamp_seconds", "When the watch of the resource last delivered an event", last);
    let requests: Family<Labels, Counter> = Family::default();
    for ((verb, code), n) in state.requests.snapshot() {
        requests.get_or_create(&vec![("verb", verb.to_string()), ("code", code)]).inc_by(n);
    }
    reg.register("daemonscope_api_requests", "Requests to the API server, by verb and HTTP status code", requests);
    reg
}

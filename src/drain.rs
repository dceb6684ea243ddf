//! `daemonscope drain NODE…`, headless: kubectl drain's flags, lines and exit codes — 0
//! when every node is drained, 1 when a node was refused (pods no flag lets go) or a pod
//! was still held (by a PodDisruptionBudget) at the timeout, 2 for bad input — and with
//! `-o json` one JSON object per line for each thing that happens, so a script sees which
//! budget blocks which pod while it waits.
//!
//! May import: `cluster`, `model`, `cli`, `k8s`.

use std::io::Write;
use std::sync::Mutex;

use serde_json::json;

use crate::cli::DrainArgs;
use crate::cluster::connect::Cluster;
use crate::cluster::drain::{DrainError, DrainEvent, DrainSettings, cordon, drain_cordoned};
use crate::k8s::selector::LabelSelector;
use crate::k8s::text;
use crate::model::plan::drain::DrainOptions;

/// The settings the flags ask for, or the flag that is wrong.
pub fn settings(args: &DrainArgs) -> Result<DrainSettings, String> {
    let pod_selector = match &args.pod_selector {
        Some(s) => Some(LabelSelector::parse(s).map_err(|e| format!("invalid --pod-selector: {e}"))?),
        None => None,
    };
    Ok(DrainSettings {
        options: DrainOptions {
            ignore_daemonsets: args.ignore_daemonsets,
            force: args.force,
            delete_emptydir_data: args.delete_emptydir_data,
            pod_selector,
        },
        grace_period: (args.grace_period >= 0).then_some(args.grace_period),
        timeout: (!args.timeout.is_zero()).then_some(args.timeout),
        dry_run: args.dry_run == "server",
        ..Default::default()
    })
}

/// One event as kubectl would print it (text), or as a JSON line.
fn line(e: &DrainEvent, json: bool, dry: &str) -> Option<String> {
    if json {
        let v = match e {
            DrainEvent::Cordoned { node, already } => json!({"event": "cordoned", "node": node, "already": already}),
            DrainEvent::Planned { node, warnings, evicting } => {
                json!({"event": "planned", "node": node, "warnings": warnings, "evicting": evicting})
            }
            DrainEvent::Evicting { pod } => json!({"event": "evicting", "pod": pod}),
            DrainEvent::Blocked { pod, message, budgets, since } => json!({
                "event": "blocked", "pod": pod, "message": message, "blockedSeconds": (since.as_secs_f64() * 10.0).round() / 10.0,
                "budgets": budgets.iter().map(|(n, a)| json!({"name": n, "disruptionsAllowed": a})).collect::<Vec<_>>(),
            }),
            DrainEvent::Held { pod } => json!({"event": "held", "pod": pod}),
            DrainEvent::Evicted { pod } => json!({"event": "evicted", "pod": pod}),
            DrainEvent::Gone { pod } => json!({"event": "gone", "pod": pod}),
        };
        return Some(v.to_string());
    }
    let ns_name = |p: &str| -> (String, String) {
        let (ns, n) = p.split_once('/').unwrap_or(("", p));
        (ns.to_string(), n.to_string())
    };
    Some(match e {
        DrainEvent::Cordoned { node, already: true } => format!("node/{node} already cordoned{dry}"),
        DrainEvent::Cordoned { node, .. } => format!("node/{node} cordoned{dry}"),
        DrainEvent::Planned { warnings: Some(w), .. } => format!("Warning: {w}"),
        DrainEvent::Planned { .. } => return None,
        DrainEvent::Evicting { pod } => format!("evicting pod {pod}{dry}"),
        DrainEvent::Blocked { pod, message, budgets, since } => {
            let (ns, name) = ns_name(pod);
            let held: Vec<String> = budgets.iter().map(|(n, a)| format!("{n} allows {a}")).collect();
            let by = if held.is_empty() { String::new() } else { format!(" [budget {}; blocked {}s]", held.join(", "), since.as_secs()) };
            format!("error when evicting pods/{name:?} -n {ns:?} (will retry): {message}{by}")
        }
        DrainEvent::Evicted { pod } => format!("pod/{} evicted{dry}", ns_name(pod).1),
        DrainEvent::Gone { .. } | DrainEvent::Held { .. } => return None,
    })
}

/// Cordons every node first, as kubectl drain does (so pods evicted from one node are not
/// placed on the next one to drain), then drains each in turn; returns the exit code.
pub async fn run(cluster: &Cluster, args: &DrainArgs, s: &DrainSettings, out: &mut (dyn Write + Send)) -> i32 {
    let json = args.output == "json";
    let dry = if s.dry_run { " (server dry run)" } else { "" };
    let mut code = 0;
    let mut cordoned = Vec::new();
    for node in &args.nodes {
        match cordon(cluster, node, s).await {
            Ok(already) => {
                if let Some(l) = line(&DrainEvent::Cordoned { node: node.clone(), already }, json, dry) {
                    put(out, &l, json);
                }
                cordoned.push(node);
            }
            Err(e) => {
                code = 1;
                refused(out, node, &e, json);
            }
        }
    }
    let _ = out.flush();
    for node in cordoned {
        let lines = Mutex::new(Vec::new());
        let on = |e: DrainEvent| {
            if let Some(l) = line(&e, json, dry) {
                lines.lock().unwrap_or_else(|p| p.into_inner()).push(l);
            }
        };
        // Lines are written as they come: a waiting drain shows its blockers at once.
        let flush = |out: &mut (dyn Write + Send)| {
            for l in lines.lock().unwrap_or_else(|p| p.into_inner()).drain(..) {
                put(out, &l, json);
            }
            let _ = out.flush();
        };
        let result = {
            let run = drain_cordoned(cluster, node, s, &on);
            tokio::pin!(run);
            let mut tick = tokio::time::interval(std::time::Duration::from_millis(200));
            loop {
                tokio::select! {
                    r = &mut run => break r,
                    _ = tick.tick() => flush(out),
                }
            }
        };
        flush(out);
        match result {
            Ok(report) if report.failed.is_empty() => {
                let l = if json { json!({"event": "drained", "node": node}).to_string() } else { format!("node/{node} drained{dry}") };
                put(out, &l, json);
            }
            Ok(report) => {
                code = 1;
                for (pod, why) in &report.failed {
                    let l = if json {
                        json!({"event": "failed", "node": node, "pod": pod, "reason": why}).to_string()
                    } else {
                        format!("error: {pod}: {why}")
                    };
                    put(out, &l, json);
                }
                if !json {
                    put(out, &format!("error: unable to drain node {node:?}: {} pod(s) not evicted", report.failed.len()), false);
                }
            }
            Err(e) => {
                code = 1;
                refused(out, node, &e, json);
            }
        }
    }
    code
}

/// A node that could not be drained at all, and why.
fn refused(out: &mut (dyn Write + Send), node: &str, e: &DrainError, json: bool) {
    let why = match e {
        DrainError::Refused(r) => r.clone(),
        DrainError::Cluster(c) => c.to_string(),
    };
    let l = if json {
        json!({"event": "refused", "node": node, "reason": why}).to_string()
    } else {
        format!("error: unable to drain node {node:?}: {why}")
    };
    put(out, &l, json);
}

/// One line out: what the cluster said in it can never drive the terminal (JSON stays
/// exact JSON).
fn put(out: &mut (dyn Write + Send), l: &str, json: bool) {
    let _ = if json { writeln!(out, "{}", text::json_text(l)) } else { writeln!(out, "{}", text::lines_cut(l, text::LINE_MAX)) };
}

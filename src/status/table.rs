//! The report as a table: one line per DaemonSet, then its problem nodes grouped by state
//! and reason with counts and a few example nodes (`-o wide`: every node, one line each).
//!
//! Every value from the cluster is shown [visibly](text::visible) and cut; the whole
//! table once more on its way out, so no control character reaches the terminal.
//!
//! May import: `status::report`, `model`, `k8s`.

use std::collections::BTreeMap;

use super::report::{DsReport, NodeReport, Report};
use crate::k8s::text::{self, LINE_MAX};
use crate::k8s::words::count;
use crate::model::Strategy;

/// A cell of outside text (a name, a reason that quotes an image): visible, and cut.
fn v(s: &str) -> std::borrow::Cow<'_, str> {
    text::one_line(s, LINE_MAX)
}

/// Example nodes named per group of problem nodes.
const EXAMPLES: usize = 3;

fn rollout_words(d: &DsReport, strategy_on_delete: bool) -> String {
    if d.rollout_complete {
        "complete".into()
    } else if d.rollout.verdict == "stalled" {
        format!("STALLED ({} of {} updated) — {}", d.updated, d.desired, v(d.rollout.reason.as_deref().unwrap_or("")))
    } else if strategy_on_delete {
        format!("waiting for pod deletions ({} of {} updated, OnDelete)", d.updated, d.desired)
    } else {
        format!("in progress ({} of {} updated, {} available)", d.updated, d.desired, d.available)
    }
}

/// What makes two problem nodes "the same problem": the state, and the reason without
/// the parts that differ node by node (the pod's name, counts and ages).
fn group_key(n: &NodeReport) -> (String, String) {
    let mut reason = n.reason.clone();
    if let Some(p) = &n.pod {
        reason = reason.replace(p.as_str(), "<pod>");
    }
    let mut key = String::with_capacity(reason.len());
    let mut in_number = false;
    for c in reason.chars() {
        if c.is_ascii_digit() {
            if !in_number {
                key.push('#');
            }
            in_number = true;
        } else {
            in_number = false;
            key.push(c);
        }
    }
    (n.state.clone(), key)
}

/// The table (`wide`: every node; else problem nodes grouped by state and reason).
pub fn table(r: &Report, wide: bool) -> String {
    let ns_w = width(r.daemonsets.iter().map(|d| d.namespace.as_str()), 16);
    let name_w = width(r.daemonsets.iter().map(|d| d.name.as_str()), 28);
    let mut out = format!(
        "{:<ns_w$} {:<name_w$} {:<14} {:>7} {:>7} {:>5} {:>10} {:>9} {:>8}  {}\n",
        "NAMESPACE", "NAME", "STRATEGY", "DESIRED", "CURRENT", "READY", "UP-TO-DATE", "AVAILABLE", "MISSCHED", "ROLLOUT"
    );
    for d in &r.daemonsets {
        let on_delete = d.strategy == Strategy::OnDelete.name();
        out.push_str(&format!(
            "{:<ns_w$} {:<name_w$} {:<14} {:>7} {:>7} {:>5} {:>10} {:>9} {:>8}  {}\n",
            v(&d.namespace),
            v(&d.name),
            v(&d.strategy),
            d.desired,
            d.current,
            d.ready,
            d.updated,
            d.available,
            d.misscheduled,
            rollout_words(d, on_delete)
        ));
        // Who serves: the running daemons split by revision, so a rollout in progress reads
        // as covered-but-outdated and a stuck one shows the old pods still serving.
        if d.ready_up_to_date < d.desired_nodes {
            out.push_str(&format!(
                "  serving: {} up to date + {} on an old revision, of {}; {} absent or broken\n",
                d.ready_up_to_date,
                d.ready_outdated,
                count(d.desired_nodes, "desired node"),
                d.absent_or_broken
            ));
        }
        for h in d.rollout.holders.iter().filter(|_| d.rollout.in_progress).take(EXAMPLES) {
            let what = if h.counted { "holds budget" } else { "fails" };
            out.push_str(&format!("  {what}: {} {} ({}): {} — {}\n", v(&h.node), v(&h.cause), v(&h.origin), v(&h.reason), v(&h.frees)));
        }
        if d.rollout.in_progress && d.rollout.holders.len() > EXAMPLES {
            out.push_str(&format!("  holds budget: and {} more (-o json lists them)\n", d.rollout.holders.len() - EXAMPLES));
        }
        let problems: Vec<&NodeReport> = d.nodes.iter().filter(|n| n.state != "ready" && n.state != "ineligible").collect();
        if problems.is_empty() && !wide {
            out.push_str(&format!(
                "  every node that should run it runs a ready, up-to-date pod ({})\n",
                count(d.ready_up_to_date, "node")
            ));
        } else if wide {
            // As wide as the longest node and pod name (a DNS label, 63 at most; EKS's
            // 41-character names), so STATE, POD and REASON stay in line.
            let node_w = width(d.nodes.iter().map(|n| n.node.as_str()), 32);
            let pod_w = width(d.nodes.iter().map(|n| n.pod.as_deref().unwrap_or("-")), 34);
            out.push_str(&format!("  {:<node_w$} {:<15} {:<pod_w$} {}\n", "NODE", "STATE", "POD", "REASON"));
            for n in &d.nodes {
                out.push_str(&format!(
                    "  {:<node_w$} {:<15} {:<pod_w$} {}\n",
                    v(&n.node),
                    v(&n.state),
                    v(n.pod.as_deref().unwrap_or("-")),
                    v(&n.reason)
                ));
            }
        } else {
            // Grouped, in the order the states are worst first (the node list's order within).
            let mut groups: BTreeMap<(String, String), Vec<&NodeReport>> = BTreeMap::new();
            let mut order: Vec<(String, String)> = Vec::new();
            for n in &problems {
                let k = group_key(n);
                if !groups.contains_key(&k) {
                    order.push(k.clone());
                }
                groups.entry(k).or_default().push(n);
            }
            order.sort_by_key(|(state, _)| state_rank(state));
            out.push_str(&format!("  {:<15} {:>6}  REASON (e.g. nodes)\n", "STATE", "NODES"));
            for k in &order {
                let members = &groups[k];
                let first = members[0];
                let mut names: Vec<String> = members.iter().take(EXAMPLES).map(|n| v(&n.node).into_owned()).collect();
                let more = members.len().saturating_sub(EXAMPLES);
                let more = if more > 0 { format!(" and {more} more") } else { String::new() };
                names.sort_unstable();
                out.push_str(&format!("  {:<15} {:>6}  {}\n", v(&first.state), members.len(), v(&first.reason)));
                out.push_str(&format!("  {:<15} {:>6}  e.g. {}{more}\n", "", "", names.join(", ")));
            }
        }
    }
    out.push('\n');
    let gate = match (r.summary.allow_down_nodes, &r.summary.max_unavailable) {
        (false, None) => String::new(),
        (true, None) => "; down nodes allowed".into(),
        (false, Some(m)) => format!("; up to {m} unavailable"),
        (true, Some(m)) => format!("; down nodes allowed, up to {m} unavailable"),
    };
    out.push_str(&format!(
        "{} of {} DaemonSets fully covered (context {}{gate})\n",
        r.summary.covered,
        r.summary.daemonsets,
        v(&r.context)
    ));
    // Anything missed above still never reaches the terminal as itself.
    match text::visible_lines(&out) {
        std::borrow::Cow::Borrowed(_) => out,
        std::borrow::Cow::Owned(o) => o,
    }
}

/// A column's width: its longest value (a DNS label: 63 characters at most, longer
/// values push the rest of their own line only), and at least `floor`.
fn width<'a>(values: impl Iterator<Item = &'a str>, floor: usize) -> usize {
    values.map(|v| v.chars().count().min(63)).max().unwrap_or(0).max(floor)
}

/// Worst first, as the DaemonSets list sorts them.
fn state_rank(state: &str) -> u8 {
    match state {
        "failing" => 0,
        "missing" => 1,
        "starting" => 2,
        "terminating" => 3,
        "misscheduled" => 4,
        "node-not-ready" => 5,
        "outdated" => 6,
        _ => 7,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_same_problem_on_many_nodes_is_one_group() {
        let n = |node: &str, pod: &str, reason: &str| NodeReport {
            node: node.into(),
            state: "failing".into(),
            reason: reason.into(),
            pod: Some(pod.into()),
            revision: None,
        };
        let a = n("n1", "agent-abcde", "CrashLoopBackOff: container agent, 7 restarts");
        let b = n("n2", "agent-fghij", "CrashLoopBackOff: container agent, 12 restarts");
        let c = n("n3", "agent-klmno", "ImagePullBackOff: registry.example/agent:v2");
        assert_eq!(group_key(&a), group_key(&b));
        assert_ne!(group_key(&a), group_key(&c));
    }
}

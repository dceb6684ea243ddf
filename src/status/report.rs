//! The report `status` prints: per DaemonSet, every node's state and reason from the
//! model (the same `coverage::cell` the TUI shows), the counts, and whether it passes the
//! gate (`--allow-down-nodes`, `--max-unavailable`). The JSON field names are the
//! documented schema.
//!
//! May import: `model`, `k8s`.

use std::collections::BTreeMap;

use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;
use serde::Serialize;

use super::rollout::{RolloutReport, rollout_report};
use crate::model::coverage::CellState;
use crate::model::{DsInfo, Model};

/// What holds the gate: by default every node that should run a DaemonSet must run a
/// ready, up-to-date pod and nothing may be misscheduled.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Gate {
    /// Nodes that are down (NotReady or unreachable) do not hold the gate.
    pub allow_down_nodes: bool,
    /// This many nodes (or this percentage of the desired ones, rounded up) may be not
    /// fine and the DaemonSet still passes.
    pub max_unavailable: Option<IntOrString>,
}

/// The JSON document (`-o json`).
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
    pub summary: Summary,
    pub daemonsets: Vec<DsReport>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Summary {
    /// DaemonSets reported.
    pub daemonsets: usize,
    /// Of those, how many pass the gate.
    pub covered: usize,
    pub allow_down_nodes: bool,
    /// `--max-unavailable` as given (`3` or `5%`), if given.
    pub max_unavailable: Option<String>,
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
    /// Nodes that run a ready, up-to-date pod, of the nodes the controller wants it on
    /// (coverage, as the TUI's bar shows it).
    pub ready_up_to_date: u32,
    /// Nodes that run a ready pod of an old revision: still serving, not yet updated.
    pub ready_outdated: u32,
    /// Desired nodes where no ready pod runs (absent, starting, failing, terminating,
    /// or the node is down).
    pub absent_or_broken: u32,
    pub desired_nodes: u32,
    /// The rollout: verdict, budget and who holds it.
    pub rollout: RolloutReport,
    /// Passes the gate.
    pub covered: bool,
    /// Every node of the cluster, once.
    pub nodes: Vec<NodeReport>,
    /// Nodes per state (only states that occur).
    pub counts: BTreeMap<String, u32>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct NodeReport {
    pub node: String,
    /// ready | outdated | starting | failing | missing | misscheduled | terminating |
    /// node-not-ready | ineligible
    pub state: String,
    pub reason: String,
    pub pod: Option<String>,
    /// The pod's `controller-revision-hash`.
    pub revision: Option<String>,
}

impl NodeReport {
    /// Fine for the gate: ready and up to date, not meant to run it, or (when allowed)
    /// on a node that is down.
    fn fine(&self, gate: &Gate) -> bool {
        fine(&self.state, gate)
    }
}

fn fine(state: &str, gate: &Gate) -> bool {
    state == "ready" || state == "ineligible" || (gate.allow_down_nodes && state == "node-not-ready")
}

/// At most `max_unavailable` (of the desired nodes) are not fine.
fn passes(not_fine: usize, desired_nodes: u32, gate: &Gate) -> bool {
    let allowed = match &gate.max_unavailable {
        None => 0,
        Some(v) => crate::k8s::intstr::scaled_value(v, desired_nodes as i32).unwrap_or(0).max(0) as usize,
    };
    not_fine <= allowed
}

impl DsReport {
    /// Nodes that are not fine, for the gate.
    pub fn not_fine(&self, gate: &Gate) -> usize {
        self.nodes.iter().filter(|n| !n.fine(gate)).count()
    }

    #[cfg(test)]
    fn passes(&self, gate: &Gate) -> bool {
        passes(self.not_fine(gate), self.desired_nodes, gate)
    }

    /// `ns/name: 0/5000 ready and up to date, 4500 outdated` — the TUI's words.
    pub fn progress_line(&self) -> String {
        let mut parts = vec![format!("{}/{} ready and up to date", self.ready_up_to_date, self.desired_nodes)];
        if self.rollout.verdict == "stalled" {
            parts.push(format!("rollout stalled — {}", self.rollout.reason.as_deref().unwrap_or("")));
        }
        parts.extend(self.counts.iter().filter(|(s, _)| *s != "ready" && *s != "ineligible").map(|(s, n)| format!("{n} {s}")));
        format!("{}/{}: {}", self.namespace, self.name, parts.join(", "))
    }
}

impl Report {
    /// Every selected DaemonSet passes the gate (the exit-0 condition).
    pub fn fully_covered(&self) -> bool {
        self.daemonsets.iter().all(|d| d.covered)
    }
}

/// The report for `selected` DaemonSets (all when empty), from the model.
pub fn report(model: &Model, context: &str, selected: &[(String, String)], gate: &Gate) -> Report {
    let daemonsets: Vec<DsReport> = chosen(model, selected).map(|d| ds_report(model, d, gate)).collect();
    let summary = summary(daemonsets.len(), daemonsets.iter().filter(|d| d.covered).count(), gate);
    Report { context: context.to_string(), stale: false, age_seconds: None, summary, daemonsets }
}

/// The selected DaemonSets (every one when none is selected).
pub(crate) fn chosen<'a>(model: &'a Model, selected: &'a [(String, String)]) -> impl Iterator<Item = &'a DsInfo> + 'a {
    model.daemonsets().filter(|d| selected.is_empty() || selected.iter().any(|(ns, n)| *ns == d.namespace && *n == d.name))
}

fn summary(daemonsets: usize, covered: usize, gate: &Gate) -> Summary {
    Summary {
        daemonsets,
        covered,
        allow_down_nodes: gate.allow_down_nodes,
        max_unavailable: gate.max_unavailable.as_ref().map(|v| match v {
            IntOrString::Int(i) => i.to_string(),
            IntOrString::String(s) => s.clone(),
        }),
    }
}

/// The same report as [`report`], written as JSON while it is made: one DaemonSet's nodes
/// are held at a time, never the whole document (which is tens of megabytes on a big
/// cluster). The bytes are those of [`crate::k8s::text::json_pretty`] on [`report`]'s value.
/// Returns whether every DaemonSet passes the gate. (For a caller that does not keep the
/// report; `status` keeps it in its outcome, and writes that without a copy as text.)
pub fn write_json(
    model: &Model,
    context: &str,
    selected: &[(String, String)],
    gate: &Gate,
    out: impl std::io::Write,
) -> serde_json::Result<bool> {
    // The summary comes first and counts the DaemonSets that pass: a first pass decides
    // that, keeping nothing.
    let covered: Vec<bool> = chosen(model, selected).map(|d| brief(model, d, gate).covered).collect();
    let all = covered.iter().all(|c| *c);
    let streamed = Streamed {
        context,
        stale: false,
        summary: summary(covered.len(), covered.iter().filter(|c| **c).count(), gate),
        daemonsets: Lazy { model, selected, gate },
    };
    let mut out = std::io::BufWriter::new(out);
    crate::k8s::text::json_pretty(&mut out, &streamed)?;
    std::io::Write::flush(&mut out).map_err(serde_json::Error::io)?;
    Ok(all)
}

/// [`Report`]'s fields, in its order, with the DaemonSets made as they are written.
#[derive(Serialize)]
struct Streamed<'a> {
    context: &'a str,
    stale: bool,
    summary: Summary,
    daemonsets: Lazy<'a>,
}

struct Lazy<'a> {
    model: &'a Model,
    selected: &'a [(String, String)],
    gate: &'a Gate,
}

impl Serialize for Lazy<'_> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeSeq;
        let mut seq = s.serialize_seq(Some(chosen(self.model, self.selected).count()))?;
        for d in chosen(self.model, self.selected) {
            seq.serialize_element(&ds_report(self.model, d, self.gate))?;
        }
        seq.end()
    }
}

/// Whether every selected DaemonSet passes the gate, holding one DaemonSet's counts at a
/// time (the exit code of `status` without the report).
pub fn all_pass(model: &Model, selected: &[(String, String)], gate: &Gate) -> bool {
    chosen(model, selected).all(|d| brief(model, d, gate).covered)
}

/// Every selected DaemonSet's report without its nodes (`nodes` empty; `covered`, the
/// counts and `progress_line` as in the full one): what `--wait` looks at after each batch
/// of events, without making a report of every node each time.
pub fn briefs(model: &Model, selected: &[(String, String)], gate: &Gate) -> Vec<DsReport> {
    chosen(model, selected).map(|d| brief(model, d, gate)).collect()
}

fn brief(model: &Model, d: &DsInfo, gate: &Gate) -> DsReport {
    ds_report_nodes(model, d, gate, false)
}

fn ds_report(model: &Model, d: &DsInfo, gate: &Gate) -> DsReport {
    ds_report_nodes(model, d, gate, true)
}

/// One DaemonSet's report; with `keep_nodes` false, without its list of nodes.
fn ds_report_nodes(model: &Model, d: &DsInfo, gate: &Gate, keep_nodes: bool) -> DsReport {
    let mut nodes = Vec::with_capacity(if keep_nodes { model.node_count() } else { 0 });
    let mut counts = BTreeMap::new();
    let mut not_fine = 0;
    for (id, n) in model.nodes() {
        let Some(cell) = model.explain(d, id) else { continue };
        *counts.entry(cell.state.as_str().to_string()).or_insert(0) += 1;
        not_fine += usize::from(!fine(cell.state.as_str(), gate));
        if !keep_nodes {
            continue;
        }
        let revision = cell
            .pod
            .as_ref()
            .and_then(|name| model.pods_on(d, id).into_iter().find(|p| &p.name == name))
            .and_then(|p| p.revision_hash.as_deref().map(String::from));
        nodes.push(NodeReport { node: n.name.clone(), state: cell.state.as_str().into(), reason: cell.reason, pod: cell.pod, revision });
    }
    let p = crate::model::rollout::brief(model, d);
    let (ready_up_to_date, ready_outdated, desired_nodes) =
        model.coverage(d).map_or((0, 0, 0), |c| (c.count(CellState::Ready), c.count(CellState::Outdated), c.eligible()));
    let mut r = DsReport {
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
        ready_up_to_date,
        ready_outdated,
        absent_or_broken: desired_nodes.saturating_sub(ready_up_to_date + ready_outdated),
        desired_nodes,
        rollout: rollout_report(model, d, crate::k8s::clock::now()),
        covered: false,
        nodes,
        counts,
    };
    r.covered = passes(not_fine, r.desired_nodes, gate);
    r
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ds(states: &[&str]) -> DsReport {
        DsReport {
            namespace: "ns".into(),
            name: "agent".into(),
            strategy: "RollingUpdate".into(),
            desired: states.len() as i32,
            current: 0,
            ready: 0,
            updated: 0,
            available: 0,
            misscheduled: 0,
            rollout_complete: true,
            ready_up_to_date: 0,
            ready_outdated: 0,
            absent_or_broken: 0,
            desired_nodes: 20,
            rollout: RolloutReport {
                in_progress: false,
                verdict: "complete".into(),
                reason: None,
                rollout_induced: false,
                stalled_seconds: None,
                started: None,
                max_unavailable: 1,
                max_surge: 0,
                budget_used: 0,
                holders: vec![],
            },
            covered: false,
            nodes: states
                .iter()
                .enumerate()
                .map(|(i, s)| NodeReport { node: format!("n{i}"), state: s.to_string(), reason: String::new(), pod: None, revision: None })
                .collect(),
            counts: BTreeMap::new(),
        }
    }

    #[test]
    fn the_gate_tolerates_what_it_is_told_to() {
        let d = ds(&["ready", "ready", "node-not-ready", "failing"]);
        assert!(!d.passes(&Gate::default()));
        assert!(!d.passes(&Gate { allow_down_nodes: true, ..Default::default() }), "a failing daemon still holds it");
        assert!(d.passes(&Gate { allow_down_nodes: true, max_unavailable: Some(IntOrString::Int(1)) }));
        assert!(d.passes(&Gate { allow_down_nodes: false, max_unavailable: Some(IntOrString::Int(2)) }));
        // 5% of 20 desired nodes rounds up to 1.
        assert!(!d.passes(&Gate { allow_down_nodes: false, max_unavailable: Some(IntOrString::String("5%".into())) }));
        assert!(d.passes(&Gate { allow_down_nodes: true, max_unavailable: Some(IntOrString::String("5%".into())) }));
    }
}

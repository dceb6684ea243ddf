//! The taint action's plan (`t`): each node's taint edits, and per DaemonSet what follows
//! — which stop being placed on the node, which running daemon pods are evicted (now, or
//! after their `tolerationSeconds`), which start covering it — and which taints of each
//! node the edit touches (what the cluster's patch compares before writing, so a taint
//! changed by someone else after the plan was shown is not overwritten). The rules
//! themselves (syntax, eligibility, eviction) are `k8s`'s.
//!
//! May import: `model`, `k8s`.

use std::collections::BTreeSet;

use crate::k8s::eligibility::{Taint, evaluate};
use crate::k8s::taints::{Eviction, TaintChange, TaintEdit, apply_changes, eviction};
use crate::model::Model;

/// The taints of `taints` whose key one of `changes` touches (what the guard compares).
pub fn touched(taints: &[Taint], changes: &[TaintChange]) -> Vec<Taint> {
    taints.iter().filter(|t| changes.iter().any(|c| c.key() == t.key)).cloned().collect()
}

fn edit_line(e: &TaintEdit) -> String {
    match e {
        TaintEdit::Added(t) => format!("+ {t}"),
        TaintEdit::Replaced { old, new } => {
            format!("{}:{}: {} → {} (OVERWRITES the current value)", new.key, new.effect, old.value, new.value)
        }
        TaintEdit::Unchanged(t) => format!("{t} (already)"),
        TaintEdit::Removed(t) => format!("- {t}"),
        TaintEdit::NotThere(c) => format!("{c} (no such taint; nothing to remove)"),
    }
}

/// The confirmation of a taint edit — the edits per node, then what each DaemonSet does —
/// and how many nodes actually change.
pub fn plan_lines(model: &Model, nodes: &[String], changes: &[TaintChange]) -> (Vec<String>, usize) {
    let mut lines = Vec::new();
    let mut changed_nodes = 0;
    let mut impact: Vec<String> = Vec::new();
    // DaemonSets that run on (or are placed on) one of the nodes and are not affected.
    let mut concerned: BTreeSet<(String, String)> = BTreeSet::new();
    let mut affected: BTreeSet<(String, String)> = BTreeSet::new();
    for n in nodes {
        let Some((id, node)) = model.node_id(n).and_then(|id| model.node(id).map(|node| (id, node))) else {
            lines.push(format!("node/{n}: gone (skipped)"));
            continue;
        };
        let (taints, edits) = apply_changes(&node.facts.taints, changes);
        if taints != node.facts.taints {
            changed_nodes += 1;
        }
        lines.push(format!("node/{n}: {}", edits.iter().map(edit_line).collect::<Vec<_>>().join(", ")));
        let after = crate::k8s::eligibility::NodeFacts { taints, ..node.facts.clone() };
        for d in model.daemonsets() {
            let (before, now) = (evaluate(&node.facts, &d.placement), evaluate(&after, &d.placement));
            let pods: Vec<String> = model.pods_on(d, id).iter().filter(|p| p.deleting.is_none()).map(|p| p.name.to_string()).collect();
            let ds = (d.namespace.clone(), d.name.clone());
            if before.should_run || !pods.is_empty() {
                concerned.insert(ds.clone());
            }
            let mut said = Vec::new();
            match (before.should_run, now.should_run) {
                (false, true) => said.push(format!(
                    "  + {}/{} starts covering {n}{}",
                    d.namespace,
                    d.name,
                    if pods.is_empty() { " (a pod will be created)" } else { "" }
                )),
                (true, false) => said.push(format!(
                    "  - {}/{} stops being placed on {n} ({})",
                    d.namespace,
                    d.name,
                    now.reason.as_ref().map(ToString::to_string).unwrap_or_default()
                )),
                _ => {}
            }
            let (was, will) = (eviction(&node.facts.taints, &d.placement.tolerations), eviction(&after.taints, &d.placement.tolerations));
            for p in &pods {
                match will {
                    _ if will == was => {
                        if !now.should_run && before.should_run {
                            said.push(format!("      pod/{p} keeps running (NoSchedule does not evict; counted misscheduled)"));
                        }
                    }
                    Eviction::Now => {
                        let why = after
                            .taints
                            .iter()
                            .find(|t| t.effect == "NoExecute" && !d.placement.tolerations.iter().any(|tol| tol.tolerates(t)))
                            .map_or_else(|| "tolerationSeconds 0".to_string(), |t| format!("taint {t} not tolerated"));
                        // Under the line that already says which taint, the pod alone.
                        if said.is_empty() {
                            said.push(format!("  ✖ {}/{}: pod/{p} on {n} is evicted now ({why})", d.namespace, d.name));
                        } else {
                            said.push(format!("      ✖ pod/{p} is evicted now"));
                        }
                    }
                    Eviction::After(s) => said.push(format!(
                        "  ✖ {}/{}: pod/{p} on {n} is evicted after {s}s (tolerationSeconds), then re-created by its DaemonSet",
                        d.namespace, d.name
                    )),
                    Eviction::Never => said.push(format!("  + {}/{}: pod/{p} on {n} is no longer evicted", d.namespace, d.name)),
                }
            }
            if !said.is_empty() {
                affected.insert(ds);
                impact.extend(said);
            }
        }
    }
    lines.push(String::new());
    if impact.is_empty() {
        lines.push("DaemonSets: none stops or starts covering these nodes, and no daemon pod is evicted.".into());
    } else {
        lines.push("DaemonSets:".into());
        lines.extend(impact);
    }
    let unaffected: Vec<String> = concerned.difference(&affected).map(|(ns, n)| format!("{ns}/{n}")).collect();
    if !unaffected.is_empty() {
        lines.push(format!("Unaffected (they tolerate it): {}", unaffected.join(", ")));
    }
    (lines, changed_nodes)
}

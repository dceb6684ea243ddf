//! The label action's plan (`l`): kubectl's label syntax parsed and validated, each node's
//! edits, and which DaemonSets start or stop covering each node (the eligibility engine's
//! answer before and after).
//!
//! May import: `model`, `k8s`.

use crate::model::Model;

/// One label edit: `Some(value)` sets, `None` removes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LabelChange {
    pub key: String,
    pub value: Option<String>,
}

/// Parses kubectl's label syntax (`a=b c- d=`), validating keys and values with the
/// apimachinery rules; every problem is reported, in words, before anything is sent.
pub fn parse_label_changes(input: &str) -> Result<Vec<LabelChange>, Vec<String>> {
    let mut out = Vec::new();
    let mut problems = Vec::new();
    for tok in input.split_whitespace() {
        let (key, value) = if let Some(k) = tok.strip_suffix('-').filter(|_| !tok.contains('=')) {
            (k, None)
        } else if let Some((k, v)) = tok.split_once('=') {
            (k, Some(v))
        } else {
            problems.push(format!("{tok:?}: expected key=value (set) or key- (remove)"));
            continue;
        };
        for p in crate::k8s::labels::validate_label_key(key) {
            problems.push(format!("key {key:?}: {p}"));
        }
        if let Some(v) = value {
            for p in crate::k8s::labels::validate_label_value(v) {
                problems.push(format!("value {v:?} of {key}: {p}"));
            }
        }
        if out.iter().any(|c: &LabelChange| c.key == key) {
            problems.push(format!("key {key:?} given twice"));
        }
        out.push(LabelChange { key: key.to_string(), value: value.map(str::to_string) });
    }
    if out.is_empty() && problems.is_empty() {
        problems.push("nothing to change: type key=value to set a label, key- to remove one".into());
    }
    if problems.is_empty() { Ok(out) } else { Err(problems) }
}

/// The label edit's confirmation — the edits per node, then what each DaemonSet does —
/// and how many nodes actually change.
pub fn plan_lines(model: &Model, nodes: &[String], changes: &[LabelChange]) -> (Vec<String>, usize) {
    let mut lines = Vec::new();
    let mut changed_nodes = 0;
    let mut impact: Vec<String> = Vec::new();
    for n in nodes {
        let Some(node) = model.node_id(n).and_then(|id| model.node(id)) else {
            lines.push(format!("node/{n}: gone (skipped)"));
            continue;
        };
        let mut after = node.facts.clone();
        let mut parts = Vec::new();
        for c in changes {
            let old = node.facts.labels.get(&c.key);
            match (&c.value, old) {
                (Some(v), Some(o)) if o == v => parts.push(format!("{}={v} (already)", c.key)),
                (Some(v), Some(o)) => parts.push(format!("{}: {o} → {v} (OVERWRITES the current value)", c.key)),
                (Some(v), None) => parts.push(format!("+ {}={v}", c.key)),
                (None, Some(o)) => parts.push(format!("- {}={o}", c.key)),
                (None, None) => parts.push(format!("{} (not set; nothing to remove)", c.key)),
            }
            match &c.value {
                Some(v) => {
                    after.labels.insert(c.key.clone(), v.clone());
                }
                None => {
                    after.labels.remove(&c.key);
                }
            }
        }
        if after.labels != node.facts.labels {
            changed_nodes += 1;
        }
        lines.push(format!("node/{n}: {}", parts.join(", ")));
        // What the eligibility engine says changes for each DaemonSet on this node.
        for d in model.daemonsets() {
            let before = crate::k8s::eligibility::evaluate(&node.facts, &d.placement).should_run;
            let now = crate::k8s::eligibility::evaluate(&after, &d.placement).should_run;
            match (before, now) {
                (false, true) => impact.push(format!("  + {}/{} starts covering {n} (a pod will be created)", d.namespace, d.name)),
                (true, false) => impact.push(format!(
                    "  - {}/{} stops covering {n} ({})",
                    d.namespace,
                    d.name,
                    crate::k8s::eligibility::evaluate(&after, &d.placement).reason.map(|r| r.to_string()).unwrap_or_default()
                )),
                _ => {}
            }
        }
    }
    lines.push(String::new());
    if impact.is_empty() {
        lines.push("DaemonSets: no DaemonSet starts or stops covering these nodes.".into());
    } else {
        lines.push("DaemonSets:".into());
        lines.extend(impact);
    }
    (lines, changed_nodes)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::plan::Intent;
    use crate::model::{Change, fixtures};

    #[test]
    fn the_label_plan_names_each_edit_and_the_daemonsets_that_start_or_stop_covering() {
        let mut m = Model::new();
        m.apply(Change::Node(fixtures::node("a").with_label("pool", "general")));
        m.apply(Change::DaemonSet(fixtures::daemonset("kube-system", "gpu").with_node_selector("accelerator", "nvidia")));
        m.apply(Change::DaemonSet(fixtures::daemonset("kube-system", "general").with_node_selector("pool", "general")));
        let intent = Intent::label(&m, vec!["a".into(), "gone".into()], parse_label_changes("accelerator=nvidia pool- tier-").unwrap());
        let Intent::Label { expected, .. } = &intent else { panic!("{intent:?}") };
        assert!(expected.contains(&("a".into(), "pool".into(), Some("general".into()))), "the plan's values are kept: {expected:?}");
        let plan = intent.plan(&m);
        assert_eq!(plan.title, "label 1 node(s)");
        assert_eq!(plan.lines[0], "node/a: + accelerator=nvidia, - pool=general, tier (not set; nothing to remove)");
        assert_eq!(plan.lines[1], "node/gone: gone (skipped)");
        assert!(plan.lines.contains(&"  + kube-system/gpu starts covering a (a pod will be created)".to_string()), "{:?}", plan.lines);
        assert!(plan.lines.iter().any(|l| l.starts_with("  - kube-system/general stops covering a (")), "{:?}", plan.lines);
    }

    #[test]
    fn an_unchanged_value_changes_no_node() {
        let mut m = Model::new();
        m.apply(Change::Node(fixtures::node("a").with_label("pool", "general")));
        let plan = Intent::label(&m, vec!["a".into()], parse_label_changes("pool=general").unwrap()).plan(&m);
        assert_eq!((plan.changes, plan.lines[0].as_str()), (0, "node/a: pool=general (already)"));
        assert_eq!(plan.lines.last().unwrap(), "DaemonSets: no DaemonSet starts or stops covering these nodes.");
    }
}

//! The OnDelete roll's plan: its options (`:roll N --timeout D --all`), which nodes it
//! replaces — every node with a pod on an old revision, except nodes that are down (no
//! replacement could start there) and nodes whose current pod is not Ready (replacing it
//! proves nothing and may hide why it is failing), unless the operator includes them —
//! the confirmation's lines, and the [`RollSpec`] the cluster's roll job carries out.
//!
//! May import: `model`, `k8s`.

use std::collections::BTreeSet;
use std::time::Duration;

use crate::model::coverage::is_updated;
use crate::model::{DsInfo, Model};

/// How long a new pod may take to become available before a roll stops (per node).
pub const ROLL_TIMEOUT: Duration = Duration::from_secs(300);

/// How a roll goes: nodes at a time, how long each may take, and whether nodes that are
/// down or whose pod is not Ready are included (`:roll N --timeout 2m --all`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RollOptions {
    pub batch: usize,
    pub timeout: Duration,
    pub include_unready: bool,
    /// The maintenance roll: each node cordoned and drained before its daemon pod is
    /// replaced, uncordoned after (`:roll N --drain`).
    pub drain: bool,
}

impl Default for RollOptions {
    fn default() -> Self {
        RollOptions { batch: 1, timeout: ROLL_TIMEOUT, include_unready: false, drain: false }
    }
}

impl RollOptions {
    /// `:roll`'s arguments after the command: `[N] [--timeout D] [--all]`.
    pub fn parse(args: &str, mut base: RollOptions) -> Result<RollOptions, String> {
        base.include_unready = false;
        base.drain = false;
        let mut words = args.split_whitespace();
        while let Some(w) = words.next() {
            match w {
                "--all" => base.include_unready = true,
                "--drain" => base.drain = true,
                "--timeout" => {
                    let v = words.next().ok_or("--timeout takes a duration (e.g. 2m)")?;
                    let d = crate::k8s::duration::parse_flag_duration(v)?;
                    if d.is_zero() {
                        return Err("--timeout must be more than 0s".into());
                    }
                    base.timeout = d;
                }
                n => match n.parse::<usize>() {
                    Ok(b) if b >= 1 => base.batch = b,
                    _ => {
                        return Err(format!(
                            ":roll takes a batch size (1, 2, …), --timeout D, --all, --drain, pause, resume or abort — not {n:?}"
                        ));
                    }
                },
            }
        }
        Ok(base)
    }
}

/// A confirmed roll, as the cluster's roll job runs it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RollSpec {
    pub namespace: String,
    pub name: String,
    /// Nodes replaced at once (1 = one node at a time).
    pub batch: usize,
    /// How long a new pod may take to become Ready and available before the roll stops.
    pub timeout: Duration,
    /// The nodes to replace (the plan's); others, and nodes that go down meanwhile, are
    /// left alone.
    pub nodes: BTreeSet<String>,
    /// The maintenance roll: cordon and drain each node first, uncordon it after (only
    /// the nodes the roll cordoned itself).
    pub drain: bool,
}

/// The roll's nodes: the ones it replaces, and the ones it leaves alone with why.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RollNodes {
    pub replace: Vec<String>,
    pub skip: Vec<(String, String)>,
}

/// The nodes of `ds` with a pod on an old revision, as they stand at `now`; with
/// `include_unready`, down nodes and nodes whose pod is not Ready are replaced too.
pub fn select(model: &Model, ds: &DsInfo, include_unready: bool, now: jiff::Timestamp) -> RollNodes {
    let mut out = RollNodes::default();
    for (id, node) in model.nodes() {
        let pods = model.pods_on(ds, id);
        let Some(old) = pods.iter().find(|p| p.deleting.is_none() && !is_updated(ds, p)) else { continue };
        let why = if let Some(down) = node.down_reason(now) {
            Some(down)
        } else if !old.ready {
            let waiting = old.containers.iter().find_map(|c| c.waiting.as_ref().map(|w| w.0.clone()));
            Some(format!("its pod {} is not Ready ({})", old.name, waiting.unwrap_or_else(|| old.phase.to_string())))
        } else {
            None
        };
        match why {
            Some(why) if !include_unready => out.skip.push((node.name.clone(), why)),
            _ => out.replace.push(node.name.clone()),
        }
    }
    out
}

/// The roll's confirmation — how it goes, the nodes it replaces, the ones it skips — as
/// its title and lines.
pub fn plan_lines(
    model: &Model,
    (namespace, name): (&str, &str),
    (batch, timeout, drain): (usize, Duration, bool),
    nodes: &[String],
    skipped: &[(String, String)],
) -> (String, Vec<String>) {
    let mut lines = Vec::new();
    let Some(ds) = model.daemonset(namespace, name) else {
        return ("roll".into(), vec![format!("{namespace}/{name} is gone")]);
    };
    lines.push(format!("Replace the old-revision pods of {namespace}/{name} on {} node(s), {batch} at a time.", nodes.len()));
    lines.push(format!("Each next pod is deleted once the new ones are Ready and available (minReadySeconds {}).", ds.min_ready_seconds));
    lines.push(format!(
        "Stops by itself, naming the node, if a new pod is not ready within {} (:roll N --timeout D).",
        crate::k8s::duration::human_duration(timeout.as_secs() as i64)
    ));
    if drain {
        lines.push("Maintenance: each node is first cordoned and drained — its other pods evicted through the".into());
        lines.push("Eviction API (budgets honoured; DaemonSet and mirror pods stay; pods nothing recreates and".into());
        lines.push("emptyDir data go) — and uncordoned once its new pod is available. A node that was cordoned".into());
        lines.push("already stays cordoned. A budget that blocks an eviction holds that node, and says so.".into());
    }
    lines.push("A node that goes down meanwhile is skipped and reported.".into());
    lines.push(":roll pause, :roll resume, :roll abort control it.".into());
    lines.push(String::new());
    for node in nodes.iter().take(12) {
        let pod = model.node_id(node).and_then(|id| model.pods_on(ds, id).first().map(|p| p.name.clone())).unwrap_or_default();
        let how = if drain { "cordoned, drained, " } else { "" };
        lines.push(format!("node {node}: {how}pod/{pod} deleted, then replaced"));
    }
    if nodes.len() > 12 {
        lines.push(format!("… and {} more node(s)", nodes.len() - 12));
    }
    if !skipped.is_empty() {
        lines.push(String::new());
        lines.push(format!("Skipped ({}; :roll {batch} --all includes them):", skipped.len()));
        for (node, why) in skipped.iter().take(12) {
            lines.push(format!("node {node}: {why}"));
        }
        if skipped.len() > 12 {
            lines.push(format!("… and {} more node(s)", skipped.len() - 12));
        }
    }
    let what = if drain { "maintenance roll of" } else { "roll" };
    (format!("{what} {} outdated pod(s) of {name}", nodes.len()), lines)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::plan::Intent;
    use crate::model::{Change, fixtures};

    fn model() -> (Model, DsInfo) {
        let mut m = Model::new();
        for n in ["a", "b", "c", "d"] {
            m.apply(Change::Node(fixtures::node(n)));
        }
        m.apply(Change::Node(fixtures::node("c").with_ready(Some(false))));
        let ds = fixtures::daemonset("kube-system", "cni").at_generation(2);
        m.apply(Change::DaemonSet(ds.clone()));
        m.apply(Change::Pod(fixtures::pod(&ds, "a", "1").from_generation("1")));
        m.apply(Change::Pod(fixtures::pod(&ds, "b", "2").from_generation("1").waiting("CrashLoopBackOff", 4)));
        m.apply(Change::Pod(fixtures::pod(&ds, "c", "3").from_generation("1")));
        m.apply(Change::Pod(fixtures::pod(&ds, "d", "4")));
        let ds = m.daemonset("kube-system", "cni").unwrap().clone();
        (m, ds)
    }

    #[test]
    fn down_nodes_and_unready_pods_are_skipped_unless_included() {
        let (m, ds) = model();
        let now = jiff::Timestamp::now();
        let r = select(&m, &ds, false, now);
        assert_eq!(r.replace, vec!["a"], "d is up to date; b and c are skipped");
        assert_eq!(r.skip.iter().map(|(n, _)| n.as_str()).collect::<Vec<_>>(), vec!["b", "c"]);
        assert_eq!(r.skip[0].1, "its pod cni-2 is not Ready (CrashLoopBackOff)");
        assert!(r.skip[1].1.starts_with("node NotReady"), "{}", r.skip[1].1);
        let all = select(&m, &ds, true, now);
        assert_eq!((all.replace, all.skip), (vec!["a".to_string(), "b".into(), "c".into()], vec![]));
    }

    #[test]
    fn the_roll_intent_carries_the_selection_and_its_plan_counts_only_the_replaced_nodes() {
        let (m, ds) = model();
        let opts = RollOptions { batch: 2, timeout: Duration::from_secs(120), include_unready: false, drain: false };
        let intent = Intent::roll(&m, &ds, opts);
        let plan = intent.plan(&m);
        assert_eq!(plan.title, "roll 1 outdated pod(s) of cni");
        assert_eq!(plan.changes, 1);
        assert_eq!(plan.lines[0], "Replace the old-revision pods of kube-system/cni on 1 node(s), 2 at a time.");
        assert!(plan.lines[2].contains("within 2m"), "{:?}", plan.lines);
        assert!(plan.lines.contains(&"Skipped (2; :roll 2 --all includes them):".to_string()), "{:?}", plan.lines);
        match intent.into_work() {
            crate::model::plan::Work::Roll(spec) => {
                assert_eq!(
                    (spec.namespace.as_str(), spec.name.as_str(), spec.batch, spec.timeout.as_secs()),
                    ("kube-system", "cni", 2, 120)
                );
                assert_eq!(spec.nodes.into_iter().collect::<Vec<_>>(), vec!["a"]);
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn roll_options_parse_batch_timeout_and_all_and_refuse_the_rest() {
        let base = RollOptions { include_unready: true, ..RollOptions::default() };
        let o = RollOptions::parse("3 --timeout 2m --all", base).unwrap();
        assert_eq!((o.batch, o.timeout.as_secs(), o.include_unready), (3, 120, true));
        assert!(!RollOptions::parse("", base).unwrap().include_unready, "--all is for one roll only");
        assert!(RollOptions::parse("0", base).is_err());
        assert!(RollOptions::parse("--timeout", base).is_err());
        assert!(RollOptions::parse("--timeout 0s", base).unwrap_err().contains("more than 0s"));
    }
}

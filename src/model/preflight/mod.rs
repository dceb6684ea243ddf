//! What a DaemonSet (or a change of one) would do if it were applied now, node by node —
//! pure, no I/O: the facts of the cluster it is judged against ([`ClusterFacts`], which
//! `cluster::preflight` gathers), each node's verdict ([`verdict`]), and the rollout a
//! change triggers ([`rollout`]). `daemonscope preflight` prints it; the TUI's
//! `:preflight FILE` shows it as a what-if view.
//!
//! May import: `k8s`.

pub mod rollout;
pub mod verdict;

use std::collections::{BTreeMap, HashMap};

use k8s_openapi::api::apps::v1::DaemonSet;

use verdict::{Candidate, NodeRoom, NodeVerdict, Outcome};

/// What the cluster holds that a verdict reads.
pub struct ClusterFacts {
    pub nodes: Vec<NodeRoom>,
    /// Priority class values and preemption policies by name; the global default's value.
    pub classes: HashMap<String, (i32, bool)>,
    pub default_priority: i32,
    /// The DaemonSets as they are now, by `namespace/name`.
    pub existing: HashMap<String, DaemonSet>,
}

pub fn ds_key(ds: &DaemonSet) -> String {
    format!("{}/{}", ds.metadata.namespace.as_deref().unwrap_or("default"), ds.metadata.name.as_deref().unwrap_or(""))
}

/// One DaemonSet's verdicts, and what a change does to the nodes it runs on now.
pub struct Report {
    pub daemonset: String,
    pub change: bool,
    pub verdicts: Vec<NodeVerdict>,
    /// Nodes the current DaemonSet targets that the new one does not.
    pub losing: Vec<String>,
    /// Nodes the new one targets that the current one does not.
    pub gaining: usize,
    /// Nodes that would have to pull, and the bytes they report for what they have elsewhere.
    pub pull_nodes: usize,
    pub pull_bytes: i64,
    pub strategy: String,
    /// For a change: the rollout it would trigger.
    pub rollout: Option<rollout::Rollout>,
    /// The DaemonSet as the file has it (for the rollout's words).
    pub ds: DaemonSet,
}

/// The verdicts for `ds` on `facts`: pure.
pub fn evaluate(ds: &DaemonSet, facts: &ClusterFacts) -> Result<Report, String> {
    let spec = ds.spec.as_ref().and_then(|s| s.template.spec.as_ref()).cloned().unwrap_or_default();
    let key = ds_key(ds);
    let (priority, never) = match spec.priority_class_name.as_deref().filter(|c| !c.is_empty()) {
        Some(c) => *facts.classes.get(c).ok_or_else(|| format!("DaemonSet {key}: priority class {c:?} does not exist"))?,
        None => (facts.default_priority, false),
    };
    let current = facts.existing.get(&key);
    let cand = Candidate::of(ds, priority, never, current.and_then(|c| c.metadata.uid.clone()));
    let state = verdict::affinity_state(&cand, &facts.nodes);
    let verdicts: Vec<NodeVerdict> = facts.nodes.iter().map(|n| verdict::judge(&cand, n, state.as_ref())).collect();
    let mut losing = Vec::new();
    let mut gaining = 0;
    if let Some(cur) = current {
        let now = Candidate::of(cur, priority, never, None);
        for (n, v) in facts.nodes.iter().zip(&verdicts) {
            let was = crate::k8s::eligibility::evaluate(&n.facts, &now.placement).should_run;
            let will = !matches!(v.outcome, Outcome::NotEligible(_));
            if was && !will {
                losing.push(n.facts.name.clone());
            }
            gaining += usize::from(!was && will);
        }
    }
    // Nodes that would run it without its images: each pulls them (the size a node reports
    // for the image elsewhere is the estimate; unknown sizes count 0).
    let mut sizes: BTreeMap<&str, i64> = BTreeMap::new();
    for n in &facts.nodes {
        for (name, s) in &n.image_sizes {
            sizes.entry(name).and_modify(|x| *x = (*x).max(*s)).or_insert(*s);
        }
    }
    let per_node: i64 = cand.images.iter().map(|i| sizes.get(i.as_str()).copied().unwrap_or(0)).sum();
    let pull_nodes = verdicts.iter().filter(|v| !matches!(v.outcome, Outcome::NotEligible(_)) && !v.images_present).count();
    let strategy =
        ds.spec.as_ref().and_then(|s| s.update_strategy.as_ref()).and_then(|u| u.type_.clone()).unwrap_or_else(|| "RollingUpdate".into());
    let rollout = current.is_some().then(|| rollout::estimate(ds, &verdicts));
    Ok(Report {
        daemonset: key,
        change: current.is_some(),
        rollout,
        ds: ds.clone(),
        verdicts,
        losing,
        gaining,
        pull_nodes,
        pull_bytes: per_node * pull_nodes as i64,
        strategy,
    })
}

//! A drain, planned: which pods on a node are evicted and which are not, by kubectl
//! drain's filters (`k8s.io/kubectl/pkg/drain/filters.go`) — a DaemonSet's pods stay
//! (`--ignore-daemonsets`; without it the drain is refused), mirror (static) pods stay,
//! finished pods go, a pod with no controller needs `force`, a pod with emptyDir data needs
//! `delete_emptydir_data` (the data is lost: said) — and the PodDisruptionBudgets that cover
//! each pod with their disruptions allowed now. Pure: the cluster layer lists the pods and
//! budgets and evicts (`cluster::drain`).
//!
//! May import: `model`, `k8s`.

use std::collections::BTreeMap;

use crate::k8s::selector::LabelSelector;
use crate::k8s::words::count;
use crate::model::Model;

/// kubectl drain's flags that change the plan.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DrainOptions {
    /// `--ignore-daemonsets`: leave DaemonSet pods (else they refuse the drain).
    pub ignore_daemonsets: bool,
    /// `--force`: evict pods that no controller will recreate.
    pub force: bool,
    /// `--delete-emptydir-data`: evict pods with emptyDir volumes (their data is lost).
    pub delete_emptydir_data: bool,
    /// `--pod-selector`: only pods whose labels match.
    pub pod_selector: Option<LabelSelector>,
}

/// What a drain needs to know of a pod on the node.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PodFacts {
    pub namespace: String,
    pub name: String,
    pub uid: String,
    pub labels: BTreeMap<String, String>,
    /// The controller's kind and name (`ownerReferences` with `controller: true`).
    pub controller: Option<(String, String)>,
    /// The kubelet's mirror of a static pod (`kubernetes.io/config.mirror`).
    pub mirror: bool,
    pub empty_dir: bool,
    /// Succeeded or Failed.
    pub finished: bool,
    pub ready: bool,
}

impl PodFacts {
    pub fn key(&self) -> String {
        format!("{}/{}", self.namespace, self.name)
    }
}

/// Why a pod is left on the node.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Stays {
    DaemonSet,
    Mirror,
    NotSelected,
}

/// Why a pod stops the drain (kubectl's errors, with the flag that overrides each).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Refusal {
    DaemonSet,
    NoController,
    LocalStorage,
}

impl Refusal {
    pub fn message(self) -> &'static str {
        match self {
            Refusal::DaemonSet => "cannot delete DaemonSet-managed Pods (use --ignore-daemonsets to ignore)",
            Refusal::NoController => "cannot delete Pods that declare no controller (use --force to override)",
            Refusal::LocalStorage => "cannot delete Pods with local storage (use --delete-emptydir-data to override)",
        }
    }
}

/// What goes with an eviction that kubectl warns about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Warning {
    /// Nothing will recreate it.
    NoController,
    /// Its emptyDir data is lost.
    LocalStorage,
}

impl Warning {
    pub fn message(self) -> &'static str {
        match self {
            Warning::NoController => "deleting Pods that declare no controller",
            Warning::LocalStorage => "deleting Pods with local storage",
        }
    }
}

/// A PodDisruptionBudget as the plan shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BudgetFacts {
    pub namespace: String,
    pub name: String,
    pub selector: Option<LabelSelector>,
    pub disruptions_allowed: i32,
}

impl BudgetFacts {
    /// The budget covers the pod: same namespace, a selector that is not empty and matches
    /// (the eviction subresource's rule).
    pub fn covers(&self, p: &PodFacts) -> bool {
        self.namespace == p.namespace && self.selector.as_ref().is_some_and(|s| !s.is_empty() && s.matches(&p.labels))
    }
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DrainPlan {
    /// Pods to evict, each with what kubectl would warn about it and the budgets covering it.
    pub evict: Vec<(PodFacts, Vec<Warning>, Vec<String>)>,
    pub stay: Vec<(PodFacts, Stays)>,
    /// Non-empty: the drain does not start (kubectl evicts nothing then either).
    pub refused: Vec<(PodFacts, Refusal)>,
}

impl DrainPlan {
    /// kubectl's warning line: `ignoring DaemonSet-managed Pods: ns/a, ns/b; deleting Pods
    /// that declare no controller: …` (None when there is nothing to warn about).
    pub fn warnings(&self) -> Option<String> {
        let mut groups: BTreeMap<&str, Vec<String>> = BTreeMap::new();
        for (p, why) in &self.stay {
            if *why == Stays::DaemonSet {
                groups.entry("ignoring DaemonSet-managed Pods").or_default().push(p.key());
            }
        }
        for (p, ws, _) in &self.evict {
            for w in ws {
                groups.entry(w.message()).or_default().push(p.key());
            }
        }
        (!groups.is_empty()).then(|| groups.iter().map(|(m, pods)| format!("{m}: {}", pods.join(", "))).collect::<Vec<_>>().join("; "))
    }

    /// kubectl's error when the drain is refused: each reason with its pods.
    pub fn refusal(&self) -> Option<String> {
        let mut groups: BTreeMap<Refusal, Vec<String>> = BTreeMap::new();
        for (p, r) in &self.refused {
            groups.entry(*r).or_default().push(p.key());
        }
        (!groups.is_empty())
            .then(|| groups.iter().map(|(r, pods)| format!("{}: {}", r.message(), pods.join(", "))).collect::<Vec<_>>().join(", "))
    }
}

/// The plan for the pods on one node, with the namespace's budgets.
pub fn plan(pods: &[PodFacts], budgets: &[BudgetFacts], opts: &DrainOptions) -> DrainPlan {
    let mut out = DrainPlan::default();
    for p in pods {
        if opts.pod_selector.as_ref().is_some_and(|s| !s.matches(&p.labels)) {
            out.stay.push((p.clone(), Stays::NotSelected));
            continue;
        }
        if p.controller.as_ref().is_some_and(|(k, _)| k == "DaemonSet") {
            if opts.ignore_daemonsets {
                out.stay.push((p.clone(), Stays::DaemonSet));
            } else {
                out.refused.push((p.clone(), Refusal::DaemonSet));
            }
            continue;
        }
        if p.mirror {
            out.stay.push((p.clone(), Stays::Mirror));
            continue;
        }
        let mut warnings = Vec::new();
        let mut refused = None;
        if p.empty_dir && !p.finished {
            if opts.delete_emptydir_data { warnings.push(Warning::LocalStorage) } else { refused = Some(Refusal::LocalStorage) }
        }
        if p.controller.is_none() && !p.finished && refused.is_none() {
            if opts.force { warnings.push(Warning::NoController) } else { refused = Some(Refusal::NoController) }
        }
        match refused {
            Some(r) => out.refused.push((p.clone(), r)),
            None => {
                let covering = budgets.iter().filter(|b| b.covers(p)).map(|b| b.name.clone()).collect();
                out.evict.push((p.clone(), warnings, covering));
            }
        }
    }
    out
}

/// The TUI drain's grace period and timeout (`:drain --grace 30s --timeout 10m`), as
/// kubectl drain's `--grace-period` and `--timeout`: None is each pod's own grace period,
/// and waiting as long as a budget blocks.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct DrainTiming {
    pub grace: Option<std::time::Duration>,
    pub timeout: Option<std::time::Duration>,
}

impl DrainTiming {
    /// `:drain`'s arguments: `[--grace D] [--timeout D] [--disable-eviction]`, the timing
    /// on top of `base` (what the last `:drain` set stays for the next `D`), and whether
    /// `--disable-eviction` was given (for this drain only).
    pub fn parse(args: &str, mut base: DrainTiming) -> Result<(DrainTiming, bool), String> {
        let mut words = args.split_whitespace();
        let mut disable_eviction = false;
        while let Some(w) = words.next() {
            let (flag, slot) = match w {
                "--grace" | "--grace-period" => ("--grace", &mut base.grace),
                "--timeout" => ("--timeout", &mut base.timeout),
                "--disable-eviction" => {
                    disable_eviction = true;
                    continue;
                }
                other => {
                    return Err(format!(":drain takes --grace D, --timeout D, --disable-eviction, pause, resume or abort — not {other:?}"));
                }
            };
            let v = words.next().ok_or_else(|| format!("{flag} takes a duration (e.g. 30s, 10m; 0 for the default)"))?;
            let d = crate::k8s::duration::parse_flag_duration(v)?;
            *slot = if d.is_zero() { None } else { Some(d) };
        }
        Ok((base, disable_eviction))
    }

    /// What the confirmation says of it.
    pub fn describe(&self) -> String {
        let grace = match self.grace {
            Some(g) => format!("each evicted pod gets {}s to stop", g.as_secs()),
            None => "each evicted pod gets its own grace period".into(),
        };
        let timeout = match self.timeout {
            Some(t) => format!("a node not drained within {} is given up", crate::k8s::duration::human_duration(t.as_secs() as i64)),
            None => "it waits as long as a budget blocks (:drain abort stops it)".into(),
        };
        format!("{grace}; {timeout} (:drain --grace D --timeout D).")
    }
}

/// Each node's plan, and the budgets they were planned with (what a drain's
/// confirmation is built from).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Planned {
    pub plans: Vec<(String, DrainPlan)>,
    pub budgets: Vec<BudgetFacts>,
}

/// The TUI's drain: what the operator consents to by confirming — every DaemonSet's pods
/// stay, and pods no controller recreates and emptyDir data go (the confirmation lists
/// each of them by name first).
pub const CONFIRMED: DrainOptions = DrainOptions { ignore_daemonsets: true, force: true, delete_emptydir_data: true, pod_selector: None };

/// The confirmation of a drain of each node in `plans` (planned with [`CONFIRMED`]):
/// title, lines, and how many nodes it changes. Each pod that goes is named with its
/// controller, the budgets over it and what they allow now, and what is lost with it.
/// `disable_eviction`: the pods are deleted past their budgets, said plainly.
pub fn plan_lines(
    model: &Model,
    plans: &[(String, DrainPlan)],
    budgets: &[BudgetFacts],
    timing: &DrainTiming,
    disable_eviction: bool,
) -> (String, Vec<String>, usize) {
    let mut lines = Vec::new();
    for (node, plan) in plans {
        let facts = model.node_id(node).and_then(|id| model.node(id));
        let cordon = match facts {
            Some(n) if n.unschedulable => "already cordoned",
            Some(_) => "cordon",
            None => "not in view (cordoned if it exists)",
        };
        let n = plan.evict.len();
        let what = match (n, disable_eviction) {
            (0, _) => "nothing to evict".to_string(),
            (_, false) => format!("evict {} through the Eviction API", count(n as u64, "pod")),
            (_, true) => format!("DELETE {} directly, bypassing their PodDisruptionBudgets", count(n as u64, "pod")),
        };
        lines.push(format!("node/{node}: {cordon}, then {what}"));
        if facts.is_some_and(|n| n.is_down()) {
            lines.push("  the node is down: its kubelet cannot stop the evicted pods, which stay Terminating".into());
        }
        for (p, warnings, covering) in &plan.evict {
            let owner = p.controller.as_ref().map_or_else(|| "no controller".to_string(), |(k, n)| format!("{k} {n}"));
            let mut notes: Vec<String> = covering
                .iter()
                .map(|b| {
                    let allowed = budgets.iter().find(|f| f.name == *b && f.namespace == p.namespace).map_or(0, |f| f.disruptions_allowed);
                    let wait = match (disable_eviction, allowed) {
                        (true, _) => ": BYPASSED",
                        (false, 0) => ": waits until it allows one",
                        (false, _) => "",
                    };
                    format!("PDB {b} allows {allowed} now{wait}")
                })
                .collect();
            for w in warnings {
                notes.push(
                    match w {
                        Warning::NoController => "nothing recreates it",
                        Warning::LocalStorage => "its emptyDir data is lost",
                    }
                    .to_string(),
                );
            }
            if p.finished {
                notes.push("finished".into());
            }
            let notes = if notes.is_empty() { String::new() } else { format!(" — {}", notes.join("; ")) };
            lines.push(format!("  {} ({owner}){notes}", p.key()));
        }
        let staying = |s: Stays| plan.stay.iter().filter(|(_, w)| *w == s).count();
        let (ds, mirror) = (staying(Stays::DaemonSet), staying(Stays::Mirror));
        if ds + mirror > 0 {
            lines.push(format!("  stay: {}, {}", count(ds as u64, "DaemonSet pod"), count(mirror as u64, "mirror pod")));
        }
    }
    lines.push(String::new());
    if disable_eviction {
        lines.push(
            "--disable-eviction: pods are DELETED directly, not evicted — their PodDisruptionBudgets are BYPASSED \
             (as kubectl drain --disable-eviction does)."
                .into(),
        );
    } else {
        lines.push("Pods go only through the Eviction API (budgets are honoured; a blocked one is retried).".into());
    }
    lines.push(timing.describe());
    lines.push("The nodes stay cordoned afterwards: uncordon them when the work is done.".into());
    let bypass = if disable_eviction { " — bypassing PDBs" } else { "" };
    (format!("drain {}{bypass}", count(plans.len() as u64, "node")), lines, plans.len())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pod(name: &str, controller: Option<&str>) -> PodFacts {
        PodFacts {
            namespace: "default".into(),
            name: name.into(),
            labels: [("app".to_string(), name.to_string())].into(),
            controller: controller.map(|k| (k.to_string(), "c".to_string())),
            ready: true,
            ..Default::default()
        }
    }

    #[test]
    fn kubectls_filters() {
        let mut mirror = pod("etcd", Some("Node"));
        mirror.mirror = true;
        let mut scratch = pod("cache", Some("ReplicaSet"));
        scratch.empty_dir = true;
        let mut done = pod("job", None);
        done.finished = true;
        let pods = [pod("agent", Some("DaemonSet")), mirror, pod("web", Some("ReplicaSet")), pod("bare", None), scratch, done];
        let budget = BudgetFacts {
            namespace: "default".into(),
            name: "web".into(),
            selector: Some(LabelSelector::parse("app=web").unwrap()),
            disruptions_allowed: 0,
        };
        // kubectl drain with no flags: the DaemonSet pod, the bare pod and the emptyDir pod refuse.
        let p = plan(&pods, std::slice::from_ref(&budget), &DrainOptions::default());
        let refused: Vec<_> = p.refused.iter().map(|(p, r)| (p.name.as_str(), *r)).collect();
        assert_eq!(refused, [("agent", Refusal::DaemonSet), ("bare", Refusal::NoController), ("cache", Refusal::LocalStorage)]);
        assert_eq!(
            p.refusal().unwrap(),
            "cannot delete DaemonSet-managed Pods (use --ignore-daemonsets to ignore): default/agent, \
             cannot delete Pods that declare no controller (use --force to override): default/bare, \
             cannot delete Pods with local storage (use --delete-emptydir-data to override): default/cache"
        );
        // With every flag: what stays, what goes, and the warnings kubectl prints.
        let all = DrainOptions { ignore_daemonsets: true, force: true, delete_emptydir_data: true, pod_selector: None };
        let p = plan(&pods, &[budget], &all);
        assert!(p.refused.is_empty());
        let stay: Vec<_> = p.stay.iter().map(|(p, s)| (p.name.as_str(), *s)).collect();
        assert_eq!(stay, [("agent", Stays::DaemonSet), ("etcd", Stays::Mirror)]);
        let evict: Vec<_> = p.evict.iter().map(|(p, w, b)| (p.name.as_str(), w.clone(), b.clone())).collect();
        assert_eq!(
            evict,
            [
                ("web", vec![], vec!["web".to_string()]),
                ("bare", vec![Warning::NoController], vec![]),
                ("cache", vec![Warning::LocalStorage], vec![]),
                ("job", vec![], vec![]),
            ]
        );
        assert_eq!(
            p.warnings().unwrap(),
            "deleting Pods that declare no controller: default/bare; deleting Pods with local storage: default/cache; \
             ignoring DaemonSet-managed Pods: default/agent"
        );
        // --pod-selector leaves the others.
        let only = DrainOptions { pod_selector: Some(LabelSelector::parse("app=web").unwrap()), ..all };
        assert_eq!(plan(&pods, &[], &only).evict.len(), 1);
    }
}

//! Operator actions, planned: what a key press asks for ([`Intent`]), the plan shown for
//! confirmation (exactly which objects change and how: [`Plan`]), the permission each
//! needs ([`IntentKind::permission`], the one mapping the UI's refusals and the server's
//! SelfSubjectAccessReview both use), and what carrying it out takes ([`Work`]: API
//! requests, or the roll, a job of its own). Pure: the cluster layer sends the requests
//! (`cluster::actions`) and runs the roll (`cluster::roll`).
//!
//! Files: [`drain`] (which pods a drain evicts, and the budgets over them), [`labels`] (label syntax and the label plan), [`taints`] (the taint plan),
//! [`roll`] (the roll's options, nodes and plan).
//!
//! May import: `model`, `k8s`.

pub mod drain;
pub mod labels;
pub mod roll;
pub mod taints;

use std::time::Duration;

use crate::k8s::eligibility::Taint;
pub use crate::k8s::taints::{TaintChange, parse_taint_changes};
use crate::model::{DsInfo, Model, Strategy};
pub use labels::{LabelChange, parse_label_changes};
pub use roll::{ROLL_TIMEOUT, RollOptions, RollSpec};

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Intent {
    /// Mark nodes unschedulable, as `kubectl cordon` does.
    Cordon { nodes: Vec<String> },
    /// Clear `spec.unschedulable`, as `kubectl uncordon` does.
    Uncordon { nodes: Vec<String> },
    /// Set or remove node labels (kubectl's `key=value` / `key-`); `expected` is each
    /// node's value of each key as the plan showed it, so a change made meanwhile by
    /// someone else stops the action instead of being overwritten.
    Label { nodes: Vec<String>, changes: Vec<LabelChange>, expected: Vec<(String, String, Option<String>)> },
    /// Add, change or remove node taints (kubectl's `key=value:Effect` / `key:Effect-` /
    /// `key-`); `expected` is each node's taints of the touched keys as the plan showed
    /// them, guarded as for labels.
    Taint { nodes: Vec<String>, changes: Vec<TaintChange>, expected: Vec<(String, Vec<Taint>)> },
    /// OnDelete: replace the outdated pods on `nodes`, `batch` nodes at a time,
    /// health-gated, each node given `timeout` (`roll`). `skipped`: nodes with an outdated
    /// pod left alone, with why (down, or their pod not Ready), unless the operator asked
    /// to include them.
    Roll {
        namespace: String,
        name: String,
        batch: usize,
        timeout: Duration,
        nodes: Vec<String>,
        skipped: Vec<(String, String)>,
        drain: bool,
    },
    /// RollingUpdate: `kubectl rollout restart` (the restartedAt template annotation).
    RolloutRestart { namespace: String, name: String },
    /// Delete one daemon pod so its DaemonSet recreates it (OnDelete restart of one node).
    RestartPod { namespace: String, pod: String, node: String },
    /// Cordon `nodes` and evict their pods through the Eviction API, as `kubectl drain
    /// --ignore-daemonsets --delete-emptydir-data --force` (`drain`): `plans` is what the
    /// confirmation shows of each node's pods, `budgets` the PodDisruptionBudgets then;
    /// `disable_eviction`: deleted instead, past the budgets (`--disable-eviction`).
    Drain {
        nodes: Vec<String>,
        plans: Vec<(String, drain::DrainPlan)>,
        budgets: Vec<drain::BudgetFacts>,
        timing: drain::DrainTiming,
        disable_eviction: bool,
    },
}

/// Which action an intent is, without its objects: what a key proposes before the
/// intent exists (the UI refuses a key whose permission the server denied).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum IntentKind {
    Cordon,
    Uncordon,
    Label,
    Taint,
    Roll,
    RolloutRestart,
    RestartPod,
    Drain,
}

/// The permission an intent needs, for SelfSubjectAccessReview: (verb, resource).
pub type Permission = (&'static str, &'static str);
pub const PATCH_NODES: Permission = ("patch", "nodes");
pub const DELETE_PODS: Permission = ("delete", "pods");
pub const PATCH_DAEMONSETS: Permission = ("patch", "daemonsets");
/// The Eviction API: `create` on the `pods/eviction` subresource.
pub const EVICT_PODS: Permission = ("create", "pods/eviction");

/// Every permission some action needs (checked once per connection).
pub const PERMISSIONS: &[Permission] = &[PATCH_NODES, DELETE_PODS, PATCH_DAEMONSETS, EVICT_PODS];

impl IntentKind {
    pub const ALL: [IntentKind; 8] = [
        IntentKind::Cordon,
        IntentKind::Uncordon,
        IntentKind::Label,
        IntentKind::Taint,
        IntentKind::Roll,
        IntentKind::RolloutRestart,
        IntentKind::RestartPod,
        IntentKind::Drain,
    ];

    /// The one mapping of actions to what the server must allow.
    pub fn permission(self) -> Permission {
        match self {
            IntentKind::Cordon | IntentKind::Uncordon | IntentKind::Label | IntentKind::Taint => PATCH_NODES,
            IntentKind::Roll | IntentKind::RestartPod => DELETE_PODS,
            IntentKind::RolloutRestart => PATCH_DAEMONSETS,
            IntentKind::Drain => EVICT_PODS,
        }
    }

    pub fn verb(self) -> &'static str {
        match self {
            IntentKind::Cordon => "cordon",
            IntentKind::Uncordon => "uncordon",
            IntentKind::Label => "label",
            IntentKind::Taint => "taint",
            IntentKind::Roll => "roll",
            IntentKind::RolloutRestart => "rollout restart",
            IntentKind::RestartPod => "restart pod",
            IntentKind::Drain => "drain",
        }
    }

    /// What restarting a DaemonSet is, by its update strategy: a rollout restart for
    /// RollingUpdate, else the roll (OnDelete).
    pub fn restart(strategy: Option<&Strategy>) -> IntentKind {
        match strategy {
            Some(Strategy::RollingUpdate { .. }) => IntentKind::RolloutRestart,
            _ => IntentKind::Roll,
        }
    }
}

/// What carrying out a confirmed intent takes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Work {
    /// API requests, each answered once (`cluster::actions::execute`).
    Request(Request),
    /// The roll: a job that runs until it ends (`cluster::roll`).
    Roll(RollSpec),
    /// A drain: a job that evicts (or deletes) and waits, node after node (`cluster::drain`).
    Drain { nodes: Vec<String>, timing: drain::DrainTiming, disable_eviction: bool },
}

/// The API requests of a confirmed intent (every intent but the roll).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Request {
    /// One patch per node, each result reported.
    Nodes { nodes: Vec<String>, edit: NodeEdit },
    /// Patch the pod template's restartedAt annotation.
    RolloutRestart { namespace: String, name: String },
    /// Delete one pod.
    RestartPod { namespace: String, pod: String },
}

/// The edit patched into each node of a [`Request::Nodes`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NodeEdit {
    Cordon,
    Uncordon,
    Label { changes: Vec<LabelChange>, expected: Vec<(String, String, Option<String>)> },
    Taint { changes: Vec<TaintChange>, expected: Vec<(String, Vec<Taint>)> },
}

impl NodeEdit {
    pub fn kind(&self) -> IntentKind {
        match self {
            NodeEdit::Cordon => IntentKind::Cordon,
            NodeEdit::Uncordon => IntentKind::Uncordon,
            NodeEdit::Label { .. } => IntentKind::Label,
            NodeEdit::Taint { .. } => IntentKind::Taint,
        }
    }
}

impl Request {
    pub fn kind(&self) -> IntentKind {
        match self {
            Request::Nodes { edit, .. } => edit.kind(),
            Request::RolloutRestart { .. } => IntentKind::RolloutRestart,
            Request::RestartPod { .. } => IntentKind::RestartPod,
        }
    }
}

impl Intent {
    pub fn kind(&self) -> IntentKind {
        match self {
            Intent::Cordon { .. } => IntentKind::Cordon,
            Intent::Uncordon { .. } => IntentKind::Uncordon,
            Intent::Label { .. } => IntentKind::Label,
            Intent::Taint { .. } => IntentKind::Taint,
            Intent::Roll { .. } => IntentKind::Roll,
            Intent::RolloutRestart { .. } => IntentKind::RolloutRestart,
            Intent::RestartPod { .. } => IntentKind::RestartPod,
            Intent::Drain { .. } => IntentKind::Drain,
        }
    }

    pub fn permission(&self) -> Permission {
        self.kind().permission()
    }

    pub fn verb(&self) -> &'static str {
        self.kind().verb()
    }

    /// A roll: its own job, waiting on real pods (no server dry-run).
    pub fn is_roll(&self) -> bool {
        self.kind() == IntentKind::Roll
    }

    /// A label intent for `nodes`, remembering the values the plan shows.
    pub fn label(model: &Model, nodes: Vec<String>, changes: Vec<LabelChange>) -> Intent {
        let mut expected = Vec::new();
        for n in &nodes {
            let labels = model.node_id(n).and_then(|id| model.node(id)).map(|n| n.facts.labels.clone()).unwrap_or_default();
            for c in &changes {
                expected.push((n.clone(), c.key.clone(), labels.get(&c.key).cloned()));
            }
        }
        Intent::Label { nodes, changes, expected }
    }

    /// A taint intent for `nodes`, remembering each node's taints of the touched keys as
    /// the plan shows them.
    pub fn taint(model: &Model, nodes: Vec<String>, changes: Vec<TaintChange>) -> Intent {
        let expected = nodes
            .iter()
            .map(|n| {
                let taints = model.node_id(n).and_then(|id| model.node(id)).map(|n| n.facts.taints.clone()).unwrap_or_default();
                (n.clone(), taints::touched(&taints, &changes))
            })
            .collect();
        Intent::Taint { nodes, changes, expected }
    }

    /// A roll of `ds`: the nodes to replace, and those left alone (down, or their pod not
    /// Ready) unless `include_unready`.
    pub fn roll(model: &Model, ds: &DsInfo, opts: RollOptions) -> Intent {
        let sel = roll::select(model, ds, opts.include_unready, crate::k8s::clock::now());
        Intent::Roll {
            namespace: ds.namespace.clone(),
            name: ds.name.clone(),
            batch: opts.batch,
            timeout: opts.timeout,
            nodes: sel.replace,
            skipped: sel.skip,
            drain: opts.drain,
        }
    }

    /// What will change, object by object, for the confirmation.
    pub fn plan(&self, model: &Model) -> Plan {
        match self {
            Intent::Cordon { nodes } => cordon_plan(self, model, nodes, true),
            Intent::Uncordon { nodes } => cordon_plan(self, model, nodes, false),
            Intent::Label { nodes, changes, .. } => {
                let (lines, changes) = labels::plan_lines(model, nodes, changes);
                Plan { intent: self.clone(), title: format!("label {changes} node(s)"), lines, changes }
            }
            Intent::Taint { nodes, changes, .. } => {
                let (lines, changes) = taints::plan_lines(model, nodes, changes);
                Plan { intent: self.clone(), title: format!("taint {changes} node(s)"), lines, changes }
            }
            Intent::Roll { namespace, name, batch, timeout, nodes, skipped, drain } => {
                let (title, lines) = roll::plan_lines(model, (namespace, name), (*batch, *timeout, *drain), nodes, skipped);
                // A roll of a DaemonSet that is gone changes nothing.
                let changes = if model.daemonset(namespace, name).is_some() { nodes.len() } else { 0 };
                Plan { intent: self.clone(), title, lines, changes }
            }
            Intent::RolloutRestart { namespace, name } => {
                let n = model.daemonset(namespace, name).map_or(0, |d| d.desired);
                Plan {
                    intent: self.clone(),
                    title: format!("rollout restart {namespace}/{name}"),
                    lines: vec![
                        format!("daemonset/{name} (namespace {namespace}): spec.template.metadata.annotations"),
                        "  kubectl.kubernetes.io/restartedAt = now (what `kubectl rollout restart` sets)".into(),
                        format!("The controller then replaces its {n} pods within maxUnavailable/maxSurge; r follows it."),
                    ],
                    changes: 1,
                }
            }
            Intent::Drain { plans, budgets, timing, disable_eviction, .. } => {
                let (title, lines, changes) = drain::plan_lines(model, plans, budgets, timing, *disable_eviction);
                Plan { intent: self.clone(), title, lines, changes }
            }
            Intent::RestartPod { namespace, pod, node } => Plan {
                intent: self.clone(),
                title: format!("restart pod {pod}"),
                lines: vec![
                    format!("pod/{pod} (namespace {namespace}) on node {node}: deleted (graceful)"),
                    "Its DaemonSet creates a new pod on that node, on the current revision.".into(),
                ],
                changes: 1,
            },
        }
    }

    /// What carrying out this intent takes, once confirmed.
    pub fn into_work(self) -> Work {
        let nodes = |nodes, edit| Work::Request(Request::Nodes { nodes, edit });
        match self {
            Intent::Cordon { nodes: n } => nodes(n, NodeEdit::Cordon),
            Intent::Uncordon { nodes: n } => nodes(n, NodeEdit::Uncordon),
            Intent::Label { nodes: n, changes, expected } => nodes(n, NodeEdit::Label { changes, expected }),
            Intent::Taint { nodes: n, changes, expected } => nodes(n, NodeEdit::Taint { changes, expected }),
            Intent::Roll { namespace, name, batch, timeout, nodes, drain, .. } => {
                Work::Roll(RollSpec { namespace, name, batch, timeout, nodes: nodes.into_iter().collect(), drain })
            }
            Intent::RolloutRestart { namespace, name } => Work::Request(Request::RolloutRestart { namespace, name }),
            Intent::RestartPod { namespace, pod, .. } => Work::Request(Request::RestartPod { namespace, pod }),
            Intent::Drain { nodes, timing, disable_eviction, .. } => Work::Drain { nodes, timing, disable_eviction },
        }
    }
}

/// Cordon (`want`) or uncordon: each node's `spec.unschedulable`, before and after.
fn cordon_plan(intent: &Intent, model: &Model, nodes: &[String], want: bool) -> Plan {
    let mut lines = Vec::new();
    let mut changes = 0;
    for n in nodes {
        let now = model.node_id(n).and_then(|id| model.node(id)).map(|n| n.unschedulable);
        match now {
            Some(u) if u == want => lines.push(format!("node/{n}: already {}", if want { "cordoned" } else { "uncordoned" })),
            Some(u) => {
                changes += 1;
                lines.push(format!("node/{n}: spec.unschedulable {u} → {want}"));
            }
            None => lines.push(format!("node/{n}: gone (skipped)")),
        }
    }
    if want {
        lines.push(String::new());
        lines.push("DaemonSet pods ignore cordon: they keep running on these nodes and are still".into());
        lines.push("created there. Cordon stops other pods from being scheduled; it does not fix a daemon.".into());
    }
    Plan { intent: intent.clone(), title: format!("{} {} node(s)", intent.verb(), changes), lines, changes }
}

/// A confirmed-before-sent action: the intent and, in words, what it changes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Plan {
    pub intent: Intent,
    pub title: String,
    pub lines: Vec<String>,
    /// Objects that will actually change.
    pub changes: usize,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Change, fixtures};

    #[test]
    fn every_intent_kind_has_one_permission_and_the_server_is_asked_each_once() {
        let mut asked: Vec<Permission> = IntentKind::ALL.iter().map(|k| k.permission()).collect();
        asked.sort();
        asked.dedup();
        let mut listed = PERMISSIONS.to_vec();
        listed.sort();
        assert_eq!(asked, listed, "PERMISSIONS is exactly what the intents need");
        assert_eq!(Intent::Cordon { nodes: vec![] }.permission(), PATCH_NODES);
        assert_eq!(Intent::RolloutRestart { namespace: "ns".into(), name: "d".into() }.permission(), PATCH_DAEMONSETS);
        let rolling = fixtures::daemonset("ns", "d").strategy;
        assert_eq!(IntentKind::restart(Some(&rolling)), IntentKind::RolloutRestart);
        assert_eq!(IntentKind::restart(Some(&Strategy::OnDelete)).permission(), DELETE_PODS);
        assert_eq!(IntentKind::restart(None), IntentKind::Roll, "no DaemonSet: a roll's permission, as before");
    }

    #[test]
    fn the_cordon_plan_counts_only_nodes_that_change_and_says_daemons_ignore_it() {
        let mut m = Model::new();
        m.apply(Change::Node(fixtures::node("a")));
        let mut b = fixtures::node("b");
        b.unschedulable = true;
        m.apply(Change::Node(b));
        let plan = Intent::Cordon { nodes: vec!["a".into(), "b".into(), "gone".into()] }.plan(&m);
        assert_eq!(plan.title, "cordon 1 node(s)");
        assert_eq!(plan.changes, 1);
        assert_eq!(&plan.lines[..3], ["node/a: spec.unschedulable false → true", "node/b: already cordoned", "node/gone: gone (skipped)"]);
        assert!(plan.lines[4].starts_with("DaemonSet pods ignore cordon"), "{:?}", plan.lines);
        let plan = Intent::Uncordon { nodes: vec!["b".into()] }.plan(&m);
        assert_eq!((plan.title.as_str(), plan.lines.len()), ("uncordon 1 node(s)", 1));
    }

    #[test]
    fn every_intent_but_the_roll_is_requests_and_keeps_what_the_plan_guarded() {
        let work = |i: Intent| i.into_work();
        assert_eq!(
            work(Intent::Uncordon { nodes: vec!["a".into()] }),
            Work::Request(Request::Nodes { nodes: vec!["a".into()], edit: NodeEdit::Uncordon })
        );
        let label = Intent::Label {
            nodes: vec!["a".into()],
            changes: parse_label_changes("k=v").unwrap(),
            expected: vec![("a".into(), "k".into(), Some("old".into()))],
        };
        match work(label) {
            Work::Request(r @ Request::Nodes { edit: NodeEdit::Label { .. }, .. }) => {
                assert_eq!(r.kind(), IntentKind::Label);
                let Request::Nodes { edit: NodeEdit::Label { expected, .. }, .. } = r else { unreachable!() };
                assert_eq!(expected, vec![("a".to_string(), "k".to_string(), Some("old".to_string()))]);
            }
            other => panic!("{other:?}"),
        }
        let restart = Intent::RestartPod { namespace: "ns".into(), pod: "p".into(), node: "a".into() };
        assert_eq!(work(restart), Work::Request(Request::RestartPod { namespace: "ns".into(), pod: "p".into() }));
    }
}

//! Operator actions: what a key press asks for ([`Intent`]), the plan shown for
//! confirmation (exactly which objects change and how), and the API calls that carry it
//! out. Nothing here updates the model: the result comes back through the watch. Every
//! action is recorded in the log with context, user, object and result. What an action
//! did is an [`Outcome`], whose `Display` is the line for the status bar.
//!
//! May import: `model`, `k8s`. Never `sim` or `ui`.

use std::fmt;

use k8s_openapi::api::authorization::v1::{ResourceAttributes, SelfSubjectAccessReview, SelfSubjectAccessReviewSpec};
use k8s_openapi::api::core::v1::Node;
use kube::Api;
use kube::api::{Patch, PatchParams, PostParams};

use crate::cluster::connect::Cluster;
use crate::cluster::errors::ClusterError;
use crate::k8s::eligibility::Taint;
pub use crate::k8s::taints::{TaintChange, parse_taint_changes};
use crate::model::Model;

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
    Roll { namespace: String, name: String, batch: usize, timeout: std::time::Duration, nodes: Vec<String>, skipped: Vec<(String, String)> },
    /// RollingUpdate: `kubectl rollout restart` (the restartedAt template annotation).
    RolloutRestart { namespace: String, name: String },
    /// Delete one daemon pod so its DaemonSet recreates it (OnDelete restart of one node).
    RestartPod { namespace: String, pod: String, node: String },
}

/// How long a new pod may take to become available before a roll stops (per node).
pub const ROLL_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(300);

/// How a roll goes: nodes at a time, how long each may take, and whether nodes that are
/// down or whose pod is not Ready are included (`:roll N --timeout 2m --all`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RollOptions {
    pub batch: usize,
    pub timeout: std::time::Duration,
    pub include_unready: bool,
}

impl Default for RollOptions {
    fn default() -> Self {
        RollOptions { batch: 1, timeout: ROLL_TIMEOUT, include_unready: false }
    }
}

impl RollOptions {
    /// `:roll`'s arguments after the command: `[N] [--timeout D] [--all]`.
    pub fn parse(args: &str, mut base: RollOptions) -> Result<RollOptions, String> {
        base.include_unready = false;
        let mut words = args.split_whitespace();
        while let Some(w) = words.next() {
            match w {
                "--all" => base.include_unready = true,
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
                    _ => return Err(format!(":roll takes a batch size (1, 2, …), --timeout D, --all, pause, resume or abort — not {n:?}")),
                },
            }
        }
        Ok(base)
    }
}

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

/// The permission an intent needs, for SelfSubjectAccessReview: (verb, resource).
pub type Permission = (&'static str, &'static str);
pub const PATCH_NODES: Permission = ("patch", "nodes");
pub const DELETE_PODS: Permission = ("delete", "pods");
pub const PATCH_DAEMONSETS: Permission = ("patch", "daemonsets");

impl Intent {
    pub fn permission(&self) -> Permission {
        match self {
            Intent::Cordon { .. } | Intent::Uncordon { .. } | Intent::Label { .. } | Intent::Taint { .. } => PATCH_NODES,
            Intent::Roll { .. } | Intent::RestartPod { .. } => DELETE_PODS,
            Intent::RolloutRestart { .. } => PATCH_DAEMONSETS,
        }
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
                (n.clone(), crate::cluster::taints::touched(&taints, &changes))
            })
            .collect();
        Intent::Taint { nodes, changes, expected }
    }

    /// A roll: its own job, waiting on real pods (no server dry-run).
    pub fn is_roll(&self) -> bool {
        matches!(self, Intent::Roll { .. })
    }

    pub fn verb(&self) -> &'static str {
        match self {
            Intent::Cordon { .. } => "cordon",
            Intent::Uncordon { .. } => "uncordon",
            Intent::Label { .. } => "label",
            Intent::Taint { .. } => "taint",
            Intent::Roll { .. } => "roll",
            Intent::RolloutRestart { .. } => "rollout restart",
            Intent::RestartPod { .. } => "restart pod",
        }
    }

    /// A roll of `ds`: the nodes to replace, and those left alone (down, or their pod not
    /// Ready) unless `include_unready`.
    pub fn roll(model: &Model, ds: &crate::model::DsInfo, opts: RollOptions) -> Intent {
        let sel = crate::cluster::roll_nodes::select(model, ds, opts.include_unready);
        Intent::Roll {
            namespace: ds.namespace.clone(),
            name: ds.name.clone(),
            batch: opts.batch,
            timeout: opts.timeout,
            nodes: sel.replace,
            skipped: sel.skip,
        }
    }

    /// What will change, object by object, for the confirmation.
    pub fn plan(&self, model: &Model) -> Plan {
        let (nodes, want) = match self {
            Intent::Cordon { nodes } => (nodes, true),
            Intent::Uncordon { nodes } => (nodes, false),
            Intent::Label { nodes, changes, .. } => return label_plan(self, model, nodes, changes),
            Intent::Taint { nodes, changes, .. } => {
                let (lines, changes) = crate::cluster::taints::plan_lines(model, nodes, changes);
                return Plan { intent: self.clone(), title: format!("taint {changes} node(s)"), lines, changes };
            }
            Intent::Roll { namespace, name, batch, timeout, nodes, skipped } => {
                return roll_plan(self, model, (namespace, name), (*batch, *timeout), nodes, skipped);
            }
            Intent::RolloutRestart { namespace, name } => {
                let n = model.daemonset(namespace, name).map_or(0, |d| d.desired);
                return Plan {
                    intent: self.clone(),
                    title: format!("rollout restart {namespace}/{name}"),
                    lines: vec![
                        format!("daemonset/{name} (namespace {namespace}): spec.template.metadata.annotations"),
                        "  kubectl.kubernetes.io/restartedAt = now (what `kubectl rollout restart` sets)".into(),
                        format!("The controller then replaces its {n} pods within maxUnavailable/maxSurge; r follows it."),
                    ],
                    changes: 1,
                };
            }
            Intent::RestartPod { namespace, pod, node } => {
                return Plan {
                    intent: self.clone(),
                    title: format!("restart pod {pod}"),
                    lines: vec![
                        format!("pod/{pod} (namespace {namespace}) on node {node}: deleted (graceful)"),
                        "Its DaemonSet creates a new pod on that node, on the current revision.".into(),
                    ],
                    changes: 1,
                };
            }
        };
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
        Plan { intent: self.clone(), title: format!("{} {} node(s)", self.verb(), changes), lines, changes }
    }
}

fn label_plan(intent: &Intent, model: &Model, nodes: &[String], changes: &[LabelChange]) -> Plan {
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
    Plan { intent: intent.clone(), title: format!("label {changed_nodes} node(s)"), lines, changes: changed_nodes }
}

fn roll_plan(
    intent: &Intent,
    model: &Model,
    (namespace, name): (&str, &str),
    (batch, timeout): (usize, std::time::Duration),
    nodes: &[String],
    skipped: &[(String, String)],
) -> Plan {
    let mut lines = Vec::new();
    let Some(ds) = model.daemonset(namespace, name) else {
        return Plan { intent: intent.clone(), title: "roll".into(), lines: vec![format!("{namespace}/{name} is gone")], changes: 0 };
    };
    lines.push(format!("Replace the old-revision pods of {namespace}/{name} on {} node(s), {batch} at a time.", nodes.len()));
    lines.push(format!("Each next pod is deleted once the new ones are Ready and available (minReadySeconds {}).", ds.min_ready_seconds));
    lines.push(format!(
        "Stops by itself, naming the node, if a new pod is not ready within {} (:roll N --timeout D).",
        crate::k8s::duration::human_duration(timeout.as_secs() as i64)
    ));
    lines.push("A node that goes down meanwhile is skipped and reported.".into());
    lines.push(":roll pause, :roll resume, :roll abort control it.".into());
    lines.push(String::new());
    for node in nodes.iter().take(12) {
        let pod = model.node_id(node).and_then(|id| model.pods_on(ds, id).first().map(|p| p.name.clone())).unwrap_or_default();
        lines.push(format!("node {node}: pod/{pod} deleted, then replaced"));
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
    Plan { intent: intent.clone(), title: format!("roll {} outdated pod(s) of {name}", nodes.len()), lines, changes: nodes.len() }
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

/// Why an action failed for one object.
#[derive(Debug, thiserror::Error)]
pub enum ActionError {
    #[error(transparent)]
    Cluster(#[from] ClusterError),
    /// Someone changed a label after the plan was shown: theirs stays.
    #[error("label {key} changed since you looked (now {now:?}, was {was:?}); not overwritten — review and try again")]
    ChangedSinceShown { key: String, now: Option<String>, was: Option<String> },
    #[error(transparent)]
    Taint(#[from] crate::cluster::taints::TaintError),
}

/// What a confirmed action did; `Display` is the one line for the status bar.
#[derive(Debug)]
pub enum Outcome {
    /// A per-node action (cordon, uncordon, label, taint): the nodes changed, and each failure.
    Nodes {
        did: &'static str,
        verb: &'static str,
        done: Vec<String>,
        failed: Vec<(String, ActionError)>,
        dry_run: bool,
    },
    RolloutRestart {
        namespace: String,
        name: String,
        dry_run: bool,
        result: Result<(), ClusterError>,
    },
    RestartPod {
        pod: String,
        result: Result<(), ClusterError>,
    },
    /// A roll is not executed here: it runs as its own job.
    RollIsAJob,
}

impl Outcome {
    /// Everything asked for was done.
    pub fn succeeded(&self) -> bool {
        match self {
            Outcome::Nodes { failed, .. } => failed.is_empty(),
            Outcome::RolloutRestart { result, .. } | Outcome::RestartPod { result, .. } => result.is_ok(),
            Outcome::RollIsAJob => false,
        }
    }
}

const DRY: &str = " (server dry-run: nothing changed)";

impl fmt::Display for Outcome {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let dry = |dry_run: bool| if dry_run { DRY } else { "" };
        match self {
            Outcome::Nodes { did, verb, done, failed, dry_run } => {
                let failures = failed.iter().map(|(n, e)| format!("{n}: {e}")).collect::<Vec<_>>().join("; ");
                match (done.len(), failed.is_empty()) {
                    (_, true) => write!(f, "{did} {} node(s){}: {}", done.len(), dry(*dry_run), done.join(", ")),
                    (0, false) => write!(f, "{verb} failed: {failures}"),
                    (d, false) => write!(f, "{did} {d} node(s){}; failed: {failures}", dry(*dry_run)),
                }
            }
            Outcome::RolloutRestart { namespace, name, dry_run, result: Ok(()) } => {
                write!(f, "restarted {namespace}/{name}{}: r shows the rollout", dry(*dry_run))
            }
            Outcome::RolloutRestart { result: Err(e), .. } => write!(f, "rollout restart failed: {e}"),
            Outcome::RestartPod { pod, result: Ok(()) } => write!(f, "deleted pod {pod}; its DaemonSet recreates it"),
            Outcome::RestartPod { result: Err(e), .. } => write!(f, "restart failed: {e}"),
            Outcome::RollIsAJob => f.write_str("a roll runs as its own job"),
        }
    }
}

/// A result as the action log says it: "ok", or why not.
fn logged<E: fmt::Display>(r: &Result<(), E>) -> String {
    r.as_ref().err().map_or_else(|| "ok".to_string(), E::to_string)
}

/// Runs a confirmed plan.
pub async fn execute(cluster: &Cluster, plan: Plan, dry_run: bool, context: &str, user: &str) -> Outcome {
    let api: Api<Node> = Api::all(cluster.client.clone());
    let pp = PatchParams { dry_run, field_manager: Some("daemonscope".into()), ..Default::default() };
    let (nodes, want) = match &plan.intent {
        Intent::Cordon { nodes } => (nodes.clone(), true),
        Intent::Uncordon { nodes } => (nodes.clone(), false),
        Intent::Label { nodes, changes, expected } => {
            return label(cluster, &api, &pp, nodes, changes, expected, dry_run, (context, user)).await;
        }
        Intent::Taint { nodes, changes, expected } => {
            let (mut done, mut failed) = (Vec::new(), Vec::new());
            let spec = changes.iter().map(ToString::to_string).collect::<Vec<_>>().join(" ");
            for n in nodes {
                let was = expected.iter().find(|(en, _)| en == n).map(|(_, t)| t.as_slice()).unwrap_or_default();
                let result = crate::cluster::taints::taint_node(cluster, &api, &pp, n, changes, was).await;
                tracing::info!(target: "daemonscope::cluster::actions", %context, %user, action = %"taint", object = %format!("node/{n}"), changes = %spec, dry_run, result = %logged(&result), "action");
                match result {
                    Ok(()) => done.push(n.clone()),
                    Err(e) => failed.push((n.clone(), e.into())),
                }
            }
            return Outcome::Nodes { did: "tainted", verb: "taint", done, failed, dry_run };
        }
        Intent::RolloutRestart { namespace, name } => {
            let ds: Api<k8s_openapi::api::apps::v1::DaemonSet> = Api::namespaced(cluster.client.clone(), namespace);
            let body = serde_json::json!({"spec": {"template": {"metadata": {"annotations": {
                "kubectl.kubernetes.io/restartedAt": jiff::Timestamp::now().strftime("%Y-%m-%dT%H:%M:%SZ").to_string()
            }}}}});
            let result = ds.patch(name, &pp, &Patch::Strategic(body)).await.map(drop).map_err(|e| cluster.error(e));
            tracing::info!(target: "daemonscope::cluster::actions", %context, %user, action = "rollout restart", object = %format!("daemonset/{namespace}/{name}"), dry_run, result = %logged(&result), "action");
            return Outcome::RolloutRestart { namespace: namespace.clone(), name: name.clone(), dry_run, result };
        }
        Intent::RestartPod { namespace, pod, .. } => {
            let pods: Api<k8s_openapi::api::core::v1::Pod> = Api::namespaced(cluster.client.clone(), namespace);
            let dp = kube::api::DeleteParams { dry_run, ..Default::default() };
            let result = pods.delete(pod, &dp).await.map(drop).map_err(|e| cluster.error(e));
            tracing::info!(target: "daemonscope::cluster::actions", %context, %user, action = "restart pod", object = %format!("pod/{namespace}/{pod}"), dry_run, result = %logged(&result), "action");
            return Outcome::RestartPod { pod: pod.clone(), result };
        }
        Intent::Roll { .. } => return Outcome::RollIsAJob,
    };
    let (mut done, mut failed) = (Vec::new(), Vec::new());
    for n in nodes {
        // kubectl's patch: {"spec":{"unschedulable":true}} / {"spec":{"unschedulable":null}}.
        let body =
            if want { serde_json::json!({"spec": {"unschedulable": true}}) } else { serde_json::json!({"spec": {"unschedulable": null}}) };
        let result = api.patch(&n, &pp, &Patch::Strategic(body)).await.map(drop).map_err(|e| cluster.error(e));
        tracing::info!(target: "daemonscope::cluster::actions", %context, %user, action = %plan.intent.verb(), object = %format!("node/{n}"), dry_run, result = %logged(&result), "action");
        match result {
            Ok(()) => done.push(n),
            Err(e) => failed.push((n, e.into())),
        }
    }
    let verb = plan.intent.verb();
    Outcome::Nodes { did: verb, verb, done, failed, dry_run }
}

/// Most attempts per node when the node changes between our read and our patch (409).
const CONFLICT_RETRIES: usize = 3;

#[allow(clippy::too_many_arguments)]
async fn label(
    cluster: &Cluster,
    api: &Api<Node>,
    pp: &PatchParams,
    nodes: &[String],
    changes: &[LabelChange],
    expected: &[(String, String, Option<String>)],
    dry_run: bool,
    (context, user): (&str, &str),
) -> Outcome {
    let (mut done, mut failed) = (Vec::new(), Vec::new());
    for n in nodes {
        let result = label_node(cluster, api, pp, n, changes, expected).await;
        tracing::info!(target: "daemonscope::cluster::actions", %context, %user, action = "label", object = %format!("node/{n}"), changes = ?changes, dry_run, result = %logged(&result), "action");
        match result {
            Ok(()) => done.push(n.clone()),
            Err(e) => failed.push((n.clone(), e)),
        }
    }
    Outcome::Nodes { did: "labelled", verb: "label", done, failed, dry_run }
}

/// Labels one node, on fresh data, retrying a conflict (409) a few times.
async fn label_node(
    cluster: &Cluster,
    api: &Api<Node>,
    pp: &PatchParams,
    n: &str,
    changes: &[LabelChange],
    expected: &[(String, String, Option<String>)],
) -> Result<(), ActionError> {
    let mut attempt = 0;
    loop {
        attempt += 1;
        // Fresh data: if someone changed one of these labels since the plan was shown,
        // stop for this node rather than overwrite their change.
        let fresh = api.get(n).await.map_err(|e| cluster.error(e))?;
        let labels = fresh.metadata.labels.clone().unwrap_or_default();
        if let Some((_, k, want)) = expected.iter().find(|(en, k, want)| en == n && labels.get(k) != want.as_ref()) {
            return Err(ActionError::ChangedSinceShown { key: k.clone(), now: labels.get(k).cloned(), was: want.clone() });
        }
        let mut patch_labels = serde_json::Map::new();
        for c in changes {
            patch_labels.insert(c.key.clone(), c.value.clone().map(serde_json::Value::String).unwrap_or(serde_json::Value::Null));
        }
        // The resourceVersion makes the server refuse (409) if the node moved on after our read.
        let body = serde_json::json!({"metadata": {"labels": patch_labels, "resourceVersion": fresh.metadata.resource_version}});
        match api.patch(n, pp, &Patch::Merge(body)).await {
            Ok(_) => return Ok(()),
            Err(kube::Error::Api(s)) if s.code == 409 && attempt < CONFLICT_RETRIES => {
                tracing::info!(target: "daemonscope::cluster::actions", node = %n, "409 conflict; retrying on fresh data");
            }
            Err(e) => return Err(cluster.error(e).into()),
        }
    }
}

/// Asks the server (SelfSubjectAccessReview) whether each permission is granted.
pub async fn check(cluster: &Cluster, perms: &[Permission]) -> Vec<(Permission, Result<bool, ClusterError>)> {
    let api: Api<SelfSubjectAccessReview> = Api::all(cluster.client.clone());
    let mut out = Vec::new();
    for p in perms {
        let review = SelfSubjectAccessReview {
            spec: SelfSubjectAccessReviewSpec {
                resource_attributes: Some(ResourceAttributes { verb: Some(p.0.into()), resource: Some(p.1.into()), ..Default::default() }),
                ..Default::default()
            },
            ..Default::default()
        };
        let r =
            api.create(&PostParams::default(), &review).await.map(|r| r.status.is_some_and(|s| s.allowed)).map_err(|e| cluster.error(e));
        out.push((*p, r));
    }
    out
}

/// Every permission some action needs (checked once per connection).
pub const PERMISSIONS: &[Permission] = &[PATCH_NODES, DELETE_PODS, PATCH_DAEMONSETS];

//! Which nodes should run a DaemonSet's pod, and why not — the real controller's
//! `NodeShouldRunDaemonPod` (pkg/controller/daemon/daemon_controller.go), on compact
//! inputs. The simulator's DaemonSet controller and the client's coverage engine both
//! call this one function, so what the TUI explains is what the simulator does.
//!
//! May import: nothing of ours.

use std::collections::BTreeMap;
use std::fmt;

use k8s_openapi::api::core::v1 as core;

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Taint {
    pub key: String,
    pub value: String,
    pub effect: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Toleration {
    pub key: String,
    /// `Exists` or `Equal` (empty means Equal).
    pub operator: String,
    pub value: String,
    /// Empty tolerates every effect.
    pub effect: String,
    pub toleration_seconds: Option<i64>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NodeSelectorRequirement {
    pub key: String,
    pub operator: String,
    pub values: Vec<String>,
}

/// One `nodeSelectorTerms` entry: expressions and fields are ANDed.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct NodeSelectorTerm {
    pub match_expressions: Vec<NodeSelectorRequirement>,
    pub match_fields: Vec<NodeSelectorRequirement>,
}

/// What a node offers to scheduling.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct NodeFacts {
    pub name: String,
    pub labels: BTreeMap<String, String>,
    pub taints: Vec<Taint>,
}

/// What a DaemonSet's pod template asks of a node.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Placement {
    pub node_name: Option<String>,
    pub node_selector: BTreeMap<String, String>,
    /// `requiredDuringSchedulingIgnoredDuringExecution.nodeSelectorTerms`; None when unset.
    pub required_terms: Option<Vec<NodeSelectorTerm>>,
    /// The template's tolerations plus the ones the controller adds.
    pub tolerations: Vec<Toleration>,
}

/// Why a node is not eligible.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Ineligible {
    NodeName { want: String },
    NodeSelector { key: String, want: String, have: Option<String> },
    NodeAffinity { detail: String },
    Taint(Taint),
}

impl fmt::Display for Ineligible {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Ineligible::NodeName { want } => write!(f, "spec.nodeName pins the pod to node {want}"),
            Ineligible::NodeSelector { key, want, have: None } => {
                write!(f, "nodeSelector {key}={want}: node has no label {key}")
            }
            Ineligible::NodeSelector { key, want, have: Some(h) } => {
                write!(f, "nodeSelector {key}={want}: node has {key}={h}")
            }
            Ineligible::NodeAffinity { detail } => write!(f, "nodeAffinity: {detail}"),
            Ineligible::Taint(t) => write!(f, "taint {} not tolerated", t),
        }
    }
}

impl fmt::Display for Taint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.value.is_empty() {
            write!(f, "{}:{}", self.key, self.effect)
        } else {
            write!(f, "{}={}:{}", self.key, self.value, self.effect)
        }
    }
}

/// `(shouldRun, shouldContinueRunning)` plus the first rule that failed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Eligibility {
    pub should_run: bool,
    pub should_continue_running: bool,
    pub reason: Option<Ineligible>,
}

impl Toleration {
    /// `v1.Toleration.ToleratesTaint`.
    pub fn tolerates(&self, t: &Taint) -> bool {
        if !self.effect.is_empty() && self.effect != t.effect {
            return false;
        }
        if !self.key.is_empty() && self.key != t.key {
            return false;
        }
        match self.operator.as_str() {
            "Exists" => true,
            "" | "Equal" => self.value == t.value,
            _ => false,
        }
    }
}

fn tolerated(tols: &[Toleration], t: &Taint) -> bool {
    tols.iter().any(|tol| tol.tolerates(t))
}

fn match_requirement(r: &NodeSelectorRequirement, value: Option<&String>) -> bool {
    match r.operator.as_str() {
        "In" => value.is_some_and(|v| r.values.contains(v)),
        "NotIn" => value.is_none_or(|v| !r.values.contains(v)),
        "Exists" => value.is_some(),
        "DoesNotExist" => value.is_none(),
        "Gt" | "Lt" => {
            let (Some(v), Some(want)) = (value.and_then(|v| v.parse::<i64>().ok()), r.values.first().and_then(|w| w.parse::<i64>().ok()))
            else {
                return false;
            };
            if r.operator == "Gt" { v > want } else { v < want }
        }
        _ => false,
    }
}

fn match_term(term: &NodeSelectorTerm, node: &NodeFacts) -> bool {
    if term.match_expressions.is_empty() && term.match_fields.is_empty() {
        return false;
    }
    term.match_expressions.iter().all(|r| match_requirement(r, node.labels.get(&r.key)))
        && term.match_fields.iter().all(|r| {
            let v = (r.key == "metadata.name").then_some(&node.name);
            match_requirement(r, v)
        })
}

fn describe_term(term: &NodeSelectorTerm) -> String {
    let parts: Vec<String> = term
        .match_expressions
        .iter()
        .map(|r| format!("{} {} {}", r.key, r.operator, r.values.join(",")))
        .chain(term.match_fields.iter().map(|r| format!("field {} {} {}", r.key, r.operator, r.values.join(","))))
        .collect();
    parts.join(" and ").trim().to_string()
}

/// `NodeShouldRunDaemonPod` for one node.
pub fn evaluate(node: &NodeFacts, p: &Placement) -> Eligibility {
    let no = |reason| Eligibility { should_run: false, should_continue_running: false, reason: Some(reason) };
    if let Some(want) = &p.node_name
        && want != &node.name
    {
        return no(Ineligible::NodeName { want: want.clone() });
    }
    for (k, v) in &p.node_selector {
        let have = node.labels.get(k);
        if have != Some(v) {
            return no(Ineligible::NodeSelector { key: k.clone(), want: v.clone(), have: have.cloned() });
        }
    }
    if let Some(terms) = &p.required_terms
        && !terms.iter().any(|t| match_term(t, node))
    {
        let detail = if terms.is_empty() {
            "no nodeSelectorTerms".to_string()
        } else {
            let d: Vec<String> = terms.iter().map(describe_term).collect();
            format!("node matches none of: {}", d.join(" | "))
        };
        return no(Ineligible::NodeAffinity { detail });
    }
    let mut first_untolerated: Option<&Taint> = None;
    let mut noexecute_untolerated = false;
    for t in &node.taints {
        if t.effect != "NoSchedule" && t.effect != "NoExecute" {
            continue;
        }
        if tolerated(&p.tolerations, t) {
            continue;
        }
        if t.effect == "NoExecute" {
            noexecute_untolerated = true;
        }
        // Prefer naming a NoExecute taint: it is the one that also evicts.
        if first_untolerated.is_none() || (t.effect == "NoExecute" && first_untolerated.is_some_and(|f| f.effect != "NoExecute")) {
            first_untolerated = Some(t);
        }
    }
    if let Some(t) = first_untolerated {
        return Eligibility {
            should_run: false,
            should_continue_running: !noexecute_untolerated,
            reason: Some(Ineligible::Taint(t.clone())),
        };
    }
    Eligibility { should_run: true, should_continue_running: true, reason: None }
}

fn exists(key: &str, effect: &str) -> Toleration {
    Toleration { key: key.into(), operator: "Exists".into(), value: String::new(), effect: effect.into(), toleration_seconds: None }
}

/// The tolerations `util.AddOrUpdateDaemonPodTolerations` adds to every daemon pod.
pub fn default_daemon_tolerations(host_network: bool) -> Vec<Toleration> {
    let mut v = vec![
        exists(NOT_READY_TAINT, "NoExecute"),
        exists(UNREACHABLE_TAINT, "NoExecute"),
        exists("node.kubernetes.io/disk-pressure", "NoSchedule"),
        exists("node.kubernetes.io/memory-pressure", "NoSchedule"),
        exists("node.kubernetes.io/pid-pressure", "NoSchedule"),
        exists("node.kubernetes.io/unschedulable", "NoSchedule"),
    ];
    if host_network {
        v.push(exists("node.kubernetes.io/network-unavailable", "NoSchedule"));
    }
    v
}

/// The taint the node lifecycle controller sets on a node whose Ready condition is False.
pub const NOT_READY_TAINT: &str = "node.kubernetes.io/not-ready";
/// The taint the node lifecycle controller sets on a node whose Ready condition is Unknown.
pub const UNREACHABLE_TAINT: &str = "node.kubernetes.io/unreachable";
/// Every taint the node lifecycle controller manages (`nodeConditionToTaintKeyStatusMap`
/// and the cordon taint): set and removed from the node's conditions and `unschedulable`.
pub const LIFECYCLE_TAINTS: [&str; 7] = [
    NOT_READY_TAINT,
    UNREACHABLE_TAINT,
    "node.kubernetes.io/memory-pressure",
    "node.kubernetes.io/disk-pressure",
    "node.kubernetes.io/pid-pressure",
    "node.kubernetes.io/network-unavailable",
    "node.kubernetes.io/unschedulable",
];

/// Adds the daemon tolerations that are not already present (same key, operator, effect).
pub fn add_daemon_tolerations(tols: &mut Vec<Toleration>, host_network: bool) {
    for d in default_daemon_tolerations(host_network) {
        if !tols.iter().any(|t| t.key == d.key && t.effect == d.effect && t.operator == d.operator) {
            tols.push(d);
        }
    }
}

/// `util.GetTargetNodeName`: the node a daemon pod is for — `spec.nodeName`, or the
/// `metadata.name` pin of its required node affinity (the controller creates pods unbound).
pub fn target_node(spec: &core::PodSpec) -> Option<String> {
    if let Some(n) = spec.node_name.clone().filter(|n| !n.is_empty()) {
        return Some(n);
    }
    let terms =
        &spec.affinity.as_ref()?.node_affinity.as_ref()?.required_during_scheduling_ignored_during_execution.as_ref()?.node_selector_terms;
    terms
        .iter()
        .flat_map(|t| t.match_fields.iter().flatten())
        .find(|r| r.key == "metadata.name" && r.operator == "In")
        .and_then(|r| r.values.as_ref()?.first().cloned())
}

// ----- conversions from the API types -----

impl From<&core::Taint> for Taint {
    fn from(t: &core::Taint) -> Self {
        Taint { key: t.key.clone(), value: t.value.clone().unwrap_or_default(), effect: t.effect.clone() }
    }
}

impl From<&core::Toleration> for Toleration {
    fn from(t: &core::Toleration) -> Self {
        Toleration {
            key: t.key.clone().unwrap_or_default(),
            operator: t.operator.clone().unwrap_or_default(),
            value: t.value.clone().unwrap_or_default(),
            effect: t.effect.clone().unwrap_or_default(),
            toleration_seconds: t.toleration_seconds,
        }
    }
}

impl From<&Toleration> for core::Toleration {
    fn from(t: &Toleration) -> Self {
        let opt = |s: &String| (!s.is_empty()).then(|| s.clone());
        core::Toleration {
            key: opt(&t.key),
            operator: opt(&t.operator),
            value: opt(&t.value),
            effect: opt(&t.effect),
            toleration_seconds: t.toleration_seconds,
        }
    }
}

fn reqs(v: &Option<Vec<core::NodeSelectorRequirement>>) -> Vec<NodeSelectorRequirement> {
    v.iter()
        .flatten()
        .map(|r| NodeSelectorRequirement { key: r.key.clone(), operator: r.operator.clone(), values: r.values.clone().unwrap_or_default() })
        .collect()
}

impl NodeFacts {
    /// The same node without the taints the node lifecycle controller sets while a node
    /// is NotReady or unreachable: would a DaemonSet run here were the node up?
    pub fn without_lifecycle_taints(&self) -> NodeFacts {
        let lifecycle = |t: &Taint| t.key == NOT_READY_TAINT || t.key == UNREACHABLE_TAINT;
        NodeFacts {
            name: self.name.clone(),
            labels: self.labels.clone(),
            taints: self.taints.iter().filter(|t| !lifecycle(t)).cloned().collect(),
        }
    }

    pub fn from_node(n: &core::Node) -> Self {
        NodeFacts {
            name: n.metadata.name.clone().unwrap_or_default(),
            labels: n.metadata.labels.clone().unwrap_or_default(),
            taints: n.spec.as_ref().and_then(|s| s.taints.as_ref()).into_iter().flatten().map(Taint::from).collect(),
        }
    }
}

impl Placement {
    /// The placement of the pod a DaemonSet would create from `spec` (default
    /// tolerations added, as `NewPod` does).
    pub fn from_pod_spec(spec: &core::PodSpec) -> Self {
        let mut tolerations: Vec<Toleration> = spec.tolerations.iter().flatten().map(Toleration::from).collect();
        add_daemon_tolerations(&mut tolerations, spec.host_network.unwrap_or(false));
        let required_terms = spec
            .affinity
            .as_ref()
            .and_then(|a| a.node_affinity.as_ref())
            .and_then(|na| na.required_during_scheduling_ignored_during_execution.as_ref())
            .map(|ns| {
                ns.node_selector_terms
                    .iter()
                    .map(|t| NodeSelectorTerm { match_expressions: reqs(&t.match_expressions), match_fields: reqs(&t.match_fields) })
                    .collect()
            });
        Placement {
            node_name: spec.node_name.clone().filter(|s| !s.is_empty()),
            node_selector: spec.node_selector.clone().unwrap_or_default(),
            required_terms,
            tolerations,
        }
    }
}

impl fmt::Display for Toleration {
    /// kubectl describe's form: `key=value:Effect op=Exists for 300s`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let key = if self.key.is_empty() { "<all keys>" } else { &self.key };
        if self.operator == "Exists" {
            write!(f, "{key}")?;
        } else {
            write!(f, "{key}={}", self.value)?;
        }
        write!(f, ":{}", if self.effect.is_empty() { "<all effects>" } else { &self.effect })?;
        if self.operator == "Exists" {
            write!(f, " op=Exists")?;
        }
        if let Some(s) = self.toleration_seconds {
            write!(f, " for {s}s")?;
        }
        Ok(())
    }
}

impl fmt::Display for NodeSelectorRequirement {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.operator.as_str() {
            "Exists" | "DoesNotExist" => write!(f, "{} {}", self.key, self.operator),
            op => write!(f, "{} {op} [{}]", self.key, self.values.join(", ")),
        }
    }
}

impl Toleration {
    /// One of the tolerations the DaemonSet controller adds to every daemon pod.
    pub fn is_daemon_default(&self) -> bool {
        default_daemon_tolerations(true).iter().any(|d| d.key == self.key && d.effect == self.effect && d.operator == self.operator)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn node(labels: &[(&str, &str)], taints: &[(&str, &str, &str)]) -> NodeFacts {
        NodeFacts {
            name: "n1".into(),
            labels: labels.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect(),
            taints: taints.iter().map(|(k, v, e)| Taint { key: k.to_string(), value: v.to_string(), effect: e.to_string() }).collect(),
        }
    }

    fn tol(key: &str, op: &str, value: &str, effect: &str) -> Toleration {
        Toleration { key: key.into(), operator: op.into(), value: value.into(), effect: effect.into(), toleration_seconds: None }
    }

    fn placement(sel: &[(&str, &str)], tols: Vec<Toleration>) -> Placement {
        let mut tolerations = tols;
        add_daemon_tolerations(&mut tolerations, false);
        Placement { node_selector: sel.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect(), tolerations, ..Default::default() }
    }

    fn term(exprs: &[(&str, &str, &[&str])]) -> NodeSelectorTerm {
        NodeSelectorTerm {
            match_expressions: exprs
                .iter()
                .map(|(k, o, v)| NodeSelectorRequirement {
                    key: k.to_string(),
                    operator: o.to_string(),
                    values: v.iter().map(|s| s.to_string()).collect(),
                })
                .collect(),
            match_fields: vec![],
        }
    }

    /// (case, node, placement, shouldRun, shouldContinueRunning, reason text)
    #[test]
    fn eligibility_table() {
        let gpu = ("dedicated", "gpu", "NoSchedule");
        let infra_exec = ("dedicated", "infra", "NoExecute");
        type Case<'a> = (&'a str, NodeFacts, Placement, bool, bool, Option<&'a str>);
        let cases: Vec<Case> = vec![
            ("plain node", node(&[], &[]), placement(&[], vec![]), true, true, None),
            ("selector matches", node(&[("disktype", "ssd")], &[]), placement(&[("disktype", "ssd")], vec![]), true, true, None),
            (
                "selector label missing",
                node(&[], &[]),
                placement(&[("disktype", "ssd")], vec![]),
                false,
                false,
                Some("nodeSelector disktype=ssd: node has no label disktype"),
            ),
            (
                "selector value differs",
                node(&[("disktype", "hdd")], &[]),
                placement(&[("disktype", "ssd")], vec![]),
                false,
                false,
                Some("nodeSelector disktype=ssd: node has disktype=hdd"),
            ),
            (
                "NoSchedule untolerated",
                node(&[], &[gpu]),
                placement(&[], vec![]),
                false,
                true,
                Some("taint dedicated=gpu:NoSchedule not tolerated"),
            ),
            (
                "NoExecute untolerated",
                node(&[], &[infra_exec]),
                placement(&[], vec![]),
                false,
                false,
                Some("taint dedicated=infra:NoExecute not tolerated"),
            ),
            ("PreferNoSchedule ignored", node(&[], &[("x", "y", "PreferNoSchedule")]), placement(&[], vec![]), true, true, None),
            ("Equal toleration", node(&[], &[gpu]), placement(&[], vec![tol("dedicated", "Equal", "gpu", "NoSchedule")]), true, true, None),
            (
                "Equal wrong value",
                node(&[], &[gpu]),
                placement(&[], vec![tol("dedicated", "Equal", "cpu", "NoSchedule")]),
                false,
                true,
                Some("taint dedicated=gpu:NoSchedule not tolerated"),
            ),
            ("Exists on key", node(&[], &[gpu]), placement(&[], vec![tol("dedicated", "Exists", "", "")]), true, true, None),
            ("Exists everything", node(&[], &[gpu, infra_exec]), placement(&[], vec![tol("", "Exists", "", "")]), true, true, None),
            (
                "effect mismatch",
                node(&[], &[gpu]),
                placement(&[], vec![tol("dedicated", "Exists", "", "NoExecute")]),
                false,
                true,
                Some("taint dedicated=gpu:NoSchedule not tolerated"),
            ),
            (
                "cordon ignored",
                node(&[], &[("node.kubernetes.io/unschedulable", "", "NoSchedule")]),
                placement(&[], vec![]),
                true,
                true,
                None,
            ),
            (
                "not-ready: keep running, no new pod",
                node(&[], &[("node.kubernetes.io/not-ready", "", "NoSchedule"), ("node.kubernetes.io/not-ready", "", "NoExecute")]),
                placement(&[], vec![]),
                false,
                true,
                Some("taint node.kubernetes.io/not-ready:NoSchedule not tolerated"),
            ),
            (
                "disk-pressure tolerated",
                node(&[], &[("node.kubernetes.io/disk-pressure", "", "NoSchedule")]),
                placement(&[], vec![]),
                true,
                true,
                None,
            ),
            (
                "network-unavailable without hostNetwork",
                node(&[], &[("node.kubernetes.io/network-unavailable", "", "NoSchedule")]),
                placement(&[], vec![]),
                false,
                true,
                Some("taint node.kubernetes.io/network-unavailable:NoSchedule not tolerated"),
            ),
        ];
        for (name, n, p, run, cont, reason) in cases {
            let e = evaluate(&n, &p);
            assert_eq!((e.should_run, e.should_continue_running), (run, cont), "{name}");
            assert_eq!(e.reason.map(|r| r.to_string()).as_deref(), reason, "{name}");
        }
    }

    #[test]
    fn host_network_tolerates_network_unavailable() {
        let mut p = Placement::default();
        add_daemon_tolerations(&mut p.tolerations, true);
        let n = node(&[], &[("node.kubernetes.io/network-unavailable", "", "NoSchedule")]);
        assert!(evaluate(&n, &p).should_run);
    }

    #[test]
    fn affinity_terms() {
        let n = node(&[("zone", "a"), ("pool", "gpu")], &[]);
        let mut p = placement(&[], vec![]);
        p.required_terms = Some(vec![term(&[("zone", "In", &["b"])]), term(&[("pool", "In", &["gpu"]), ("zone", "NotIn", &["c"])])]);
        assert!(evaluate(&n, &p).should_run, "terms are ORed");
        p.required_terms = Some(vec![term(&[("pool", "In", &["gpu"]), ("zone", "In", &["c"])])]);
        let e = evaluate(&n, &p);
        assert!(!e.should_run && !e.should_continue_running);
        assert!(e.reason.unwrap().to_string().starts_with("nodeAffinity"));
        p.required_terms = Some(vec![NodeSelectorTerm::default()]);
        assert!(!evaluate(&n, &p).should_run, "an empty term matches nothing");
        p.required_terms = Some(vec![term(&[("pool", "Exists", &[]), ("gone", "DoesNotExist", &[])])]);
        assert!(evaluate(&n, &p).should_run);
        p.required_terms = Some(vec![NodeSelectorTerm {
            match_expressions: vec![],
            match_fields: vec![NodeSelectorRequirement { key: "metadata.name".into(), operator: "In".into(), values: vec!["n1".into()] }],
        }]);
        assert!(evaluate(&n, &p).should_run, "matchFields on metadata.name");
        p.node_name = Some("n2".into());
        assert!(!evaluate(&n, &p).should_run);
    }
}

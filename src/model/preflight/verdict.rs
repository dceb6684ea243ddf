//! What would happen on each node if a DaemonSet were applied — pure, no I/O. The node's
//! eligibility is coverage's rule (`k8s::eligibility`); whether the pod fits is
//! kube-scheduler's (`k8s::fit`, host ports as the `NodePorts` filter); and when it does
//! not, whether it would preempt, and whom (`k8s::fit::victims`, as `DefaultPreemption`
//! picks victims on a node); then its required pod (anti-)affinity
//! (`k8s::podaffinity`, the `InterPodAffinity` filter) against the pods it can see.
//!
//! What preflight cannot see it does not claim: a pod with PersistentVolumeClaim or
//! ephemeral volumes (`VolumeBinding`, `VolumeRestrictions`, `NodeVolumeLimits` read
//! PVCs, PVs, StorageClasses and CSINodes, which preflight does not read), with
//! `DoNotSchedule` topology spread constraints (`PodTopologySpread`), or with pod
//! (anti-)affinity whose outcome turns on what it cannot know (namespace labels, the
//! order the DaemonSet's own pods are scheduled in) would
//! run only as far as preflight sees: [`Outcome::Unverified`], with what was not checked.
//!
//! May import: `k8s`.

use std::collections::BTreeSet;

use k8s_openapi::api::apps::v1::DaemonSet;

use crate::k8s::eligibility::{self, NodeFacts, Placement};
use crate::k8s::fit::{self, Resources};
use crate::k8s::podaffinity::{self, PodTerms, State};

/// A pod bound to a node, as much as a verdict needs.
#[derive(Debug, Clone)]
pub struct PodOnNode {
    /// `namespace/name`.
    pub name: String,
    pub priority: i32,
    pub requests: Resources,
    pub ports: Vec<(i32, String)>,
    /// The uid of the pod's controller (a DaemonSet's pods are replaced, not added to).
    pub owner_uid: Option<String>,
    /// When it started (RFC 3339), for the order of the reprieve.
    pub started: String,
    /// Its namespace, its labels (kept only when a DaemonSet checked has pod (anti-)affinity
    /// terms) and its required anti-affinity terms (`InterPodAffinity`).
    pub terms: PodTerms,
}

/// A node, as much as a verdict needs.
#[derive(Debug, Clone)]
pub struct NodeRoom {
    pub facts: NodeFacts,
    pub allocatable: Resources,
    pub pods: Vec<PodOnNode>,
    /// The DaemonSets' images the node reports it has (`status.images` names).
    pub images: BTreeSet<String>,
    /// Reported compressed sizes of those images, by name.
    pub image_sizes: Vec<(String, i64)>,
}

/// What would become of the DaemonSet's pod on one node.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    WouldRun,
    /// The DaemonSet does not target the node (its selector, affinity or a taint).
    NotEligible(String),
    /// The scheduler would leave it Pending, for these reasons in its words.
    WouldNotFit(Vec<String>),
    /// It would run once these lower-priority pods are preempted.
    WouldPreempt(Vec<String>),
    /// It would run (or preempt: said first) as far as preflight sees, but a filter turns
    /// on what it does not read: what was not checked.
    Unverified(Vec<String>),
}

impl Outcome {
    pub fn as_str(&self) -> &'static str {
        match self {
            Outcome::WouldRun => "would run",
            Outcome::NotEligible(_) => "not eligible",
            Outcome::WouldNotFit(_) => "would not fit",
            Outcome::WouldPreempt(_) => "would preempt",
            Outcome::Unverified(_) => "unverified",
        }
    }
}

#[derive(Debug, Clone)]
pub struct NodeVerdict {
    pub node: String,
    pub outcome: Outcome,
    /// The DaemonSet already has a pod there (the change replaces it).
    pub has_pod: bool,
    /// Every image of the template is already on the node.
    pub images_present: bool,
}

/// The DaemonSet's pod as the controller would create it: its requests, host ports,
/// placement and priority.
pub struct Candidate {
    pub placement: Placement,
    pub requests: Resources,
    pub ports: Vec<(i32, String)>,
    pub priority: i32,
    /// `preemptionPolicy: Never` (from its priority class).
    pub never_preempts: bool,
    pub has_priority_class: bool,
    pub images: Vec<String>,
    /// The existing DaemonSet's uid, when this is a change of one.
    pub uid: Option<String>,
    /// Its pods are replaced one for one (no surge): their room is freed for the new pod.
    pub replaces: bool,
    /// Its namespace, template labels and required pod (anti-)affinity terms.
    pub terms: PodTerms,
    /// What no node's verdict can check (volumes, topology spread, …), in words.
    pub unchecked: Vec<String>,
}

impl Candidate {
    pub fn of(ds: &DaemonSet, priority: i32, never_preempts: bool, existing_uid: Option<String>) -> Candidate {
        let spec = ds.spec.as_ref().and_then(|s| s.template.spec.clone()).unwrap_or_default();
        // A surge of 0 or 0 % replaces pods one for one (a percentage is rounded up: any
        // share above 0 % of the nodes is at least one pod, whatever their number).
        let surge = ds
            .spec
            .as_ref()
            .and_then(|s| s.update_strategy.as_ref())
            .filter(|u| u.type_.as_deref() != Some("OnDelete"))
            .and_then(|u| u.rolling_update.as_ref())
            .and_then(|r| r.max_surge.as_ref())
            .is_some_and(|s| crate::k8s::intstr::scaled_value(s, 1).is_ok_and(|v| v > 0));
        Candidate {
            placement: Placement::from_pod_spec(&spec),
            requests: fit::pod_requests(&spec),
            ports: fit::host_ports(&spec),
            priority,
            never_preempts,
            has_priority_class: spec.priority_class_name.as_deref().is_some_and(|c| !c.is_empty()),
            images: spec.containers.iter().chain(spec.init_containers.iter().flatten()).filter_map(|c| c.image.clone()).collect(),
            uid: existing_uid,
            replaces: !surge,
            terms: PodTerms::of(
                ds.metadata.namespace.as_deref().unwrap_or("default"),
                ds.spec.as_ref().and_then(|s| s.template.metadata.as_ref()?.labels.clone()).unwrap_or_default(),
                spec.affinity.as_ref(),
            ),
            unchecked: unchecked(&spec),
        }
    }
}

const HOSTNAME: &str = "kubernetes.io/hostname";

/// What the pod asks of the scheduler that preflight does not read, in words: volumes
/// backed by claims or disks, topology spread, affinity terms the API server rewrites.
fn unchecked(spec: &k8s_openapi::api::core::v1::PodSpec) -> Vec<String> {
    let mut out = Vec::new();
    for v in spec.volumes.iter().flatten() {
        let kind = if let Some(c) = &v.persistent_volume_claim {
            format!("PersistentVolumeClaim {}", c.claim_name)
        } else if v.ephemeral.is_some() {
            "an ephemeral volume claim".to_string()
        } else if v.gce_persistent_disk.is_some()
            || v.aws_elastic_block_store.is_some()
            || v.azure_disk.is_some()
            || v.cinder.is_some()
            || v.rbd.is_some()
            || v.iscsi.is_some()
        {
            "an in-tree disk".to_string()
        } else {
            continue;
        };
        out.push(format!("volume {} ({kind}): PVC/PV/CSI data not checked", v.name));
    }
    for t in spec.topology_spread_constraints.iter().flatten().filter(|t| t.when_unsatisfiable == "DoNotSchedule") {
        out.push(format!("topology spread over {} not checked", t.topology_key));
    }
    let aff = spec.affinity.as_ref();
    let terms =
        aff.and_then(|a| a.pod_affinity.as_ref()?.required_during_scheduling_ignored_during_execution.as_ref()).into_iter().flatten();
    let anti =
        aff.and_then(|a| a.pod_anti_affinity.as_ref()?.required_during_scheduling_ignored_during_execution.as_ref()).into_iter().flatten();
    if terms.chain(anti).any(|t| {
        t.match_label_keys.as_ref().is_some_and(|k| !k.is_empty()) || t.mismatch_label_keys.as_ref().is_some_and(|k| !k.is_empty())
    }) {
        out.push("pod affinity with matchLabelKeys/mismatchLabelKeys not checked".into());
    }
    out
}

/// The pod (anti-)affinity counts for `c`: over every pod bound in the cluster, and over
/// those of at least its priority (what is left if its pods preempted every lower one on
/// their nodes); None when neither the pod nor any bound pod has a term (the plugin's
/// PreFilter skips then).
pub struct Affinity {
    pub all: State,
    /// None when it cannot preempt.
    pub high: Option<State>,
}

pub fn affinity_state(c: &Candidate, rooms: &[NodeRoom]) -> Option<Affinity> {
    let any = c.terms.has_terms() || rooms.iter().any(|r| r.pods.iter().any(|p| !p.terms.anti.is_empty()));
    let of = |keep: &dyn Fn(&PodOnNode) -> bool| {
        State::of(&c.terms, rooms.iter().flat_map(|r| r.pods.iter().filter(|p| keep(p)).map(move |p| (&p.terms, &r.facts.labels))), &|_| {
            None
        })
    };
    any.then(|| Affinity { all: of(&|_| true), high: (!c.never_preempts).then(|| of(&|p| p.priority >= c.priority)) })
}

/// Whether `InterPodAffinity` passes on the node once its own old pods here (`own`) and
/// `gone` are removed: Ok(None) passes, Ok(Some(words)) fails, Err(words) when the
/// outcome turns on what preflight does not know.
fn affinity(c: &Candidate, room: &NodeRoom, state: &State, gone: &[&PodOnNode]) -> Result<Option<&'static str>, String> {
    let none = |_: &str| None;
    let adjusted;
    let state = if gone.is_empty() {
        state
    } else {
        adjusted = state.without(&c.terms, gone.iter().map(|p| &p.terms), &room.facts.labels, &none);
        &adjusted
    };
    let verdict = state.filter(&c.terms, &room.facts.labels, &none);
    if verdict.is_none() && state.unknown_on(&room.facts.labels) {
        return Err("pod (anti-)affinity selects namespaces by labels, which preflight does not read".into());
    }
    // Its own pods, scheduled one by one, match its own terms: the outcome turns on their order.
    let me = |t: &podaffinity::Term| t.matches(&c.terms.namespace, &c.terms.labels, &none) != Some(false);
    if verdict.is_none() && c.terms.anti.iter().any(|t| t.topology_key != HOSTNAME && me(t)) {
        return Err("its pod anti-affinity matches its own pods across nodes: the outcome turns on their order".into());
    }
    if verdict.is_none() && !c.terms.affinity.is_empty() && state.no_affinity_match() {
        return Err("its pod affinity matches only its own pods: the first one scheduled decides where the rest may go".into());
    }
    Ok(verdict)
}

/// The scheduler's view of pods on a node.
fn occupants<'a>(pods: &[&'a PodOnNode]) -> Vec<fit::Occupant<'a>> {
    pods.iter().map(|p| fit::Occupant { priority: p.priority, started: &p.started, requests: &p.requests, ports: &p.ports }).collect()
}

/// Why the pod does not fit beside `pods`, in words: the port filter first, then resources.
fn misfit(c: &Candidate, room: &NodeRoom, pods: &[&PodOnNode]) -> Vec<String> {
    match fit::check(&room.allocatable, &occupants(pods), &c.requests, &c.ports) {
        None => vec![],
        Some(fit::Misfit::Short(why)) => why,
        Some(fit::Misfit::Port(i)) => {
            let (port, proto) = c.ports.iter().find(|p| pods[i].ports.contains(p)).cloned().unwrap_or_default();
            vec![format!("host port {port}/{proto} is taken by {}", pods[i].name)]
        }
    }
}

/// The pod's outcome on one node; `affinity`: [`affinity_state`]. Where its pods would
/// preempt lower-priority pods on other nodes, pod (anti-)affinity here may change with
/// them: when the outcome differs without every such pod, which of them go decides — the
/// node is unverified.
pub fn judge(c: &Candidate, room: &NodeRoom, affinity: Option<&Affinity>) -> NodeVerdict {
    let v = judge_with(c, room, affinity.map(|a| &a.all));
    let Some(high) = affinity.and_then(|a| a.high.as_ref()) else { return v };
    let key = |o: &Outcome| match o {
        Outcome::WouldNotFit(w) => w.first().cloned().unwrap_or_default(),
        Outcome::NotEligible(_) => "not eligible".into(),
        _ => "runs".into(),
    };
    if key(&judge_with(c, room, Some(high)).outcome) == key(&v.outcome) {
        return v;
    }
    let mut why = vec!["pod (anti-)affinity turns on which lower-priority pods its pods preempt on other nodes".to_string()];
    if let Outcome::WouldNotFit(w) | Outcome::WouldPreempt(w) | Outcome::Unverified(w) = &v.outcome {
        why.push(format!("as the cluster is now: {} {}", v.outcome.as_str(), w.join(", ")));
    }
    NodeVerdict { outcome: Outcome::Unverified(why), ..v }
}

fn judge_with(c: &Candidate, room: &NodeRoom, state: Option<&State>) -> NodeVerdict {
    let e = eligibility::evaluate(&room.facts, &c.placement);
    let own = |p: &PodOnNode| c.uid.is_some() && p.owner_uid == c.uid;
    let has_pod = room.pods.iter().any(own);
    let images_present = c.images.iter().all(|i| room.images.contains(i));
    let verdict = |outcome| NodeVerdict { node: room.facts.name.clone(), outcome, has_pod, images_present };
    if let Some(r) = e.reason {
        return verdict(Outcome::NotEligible(r.to_string()));
    }
    // Its own old pods here are deleted before the new one is created (no surge).
    let (mine, others): (Vec<&PodOnNode>, Vec<&PodOnNode>) = room.pods.iter().partition(|p| c.replaces && own(p));
    // What would run, unless a filter preflight cannot evaluate says otherwise.
    let unsure = |run: Outcome, mut more: Vec<String>| {
        more.extend(c.unchecked.iter().cloned());
        if more.is_empty() {
            return run;
        }
        if let Outcome::WouldPreempt(v) = run {
            more.insert(0, format!("would preempt {}", v.join(", ")));
        }
        Outcome::Unverified(more)
    };
    // InterPodAffinity runs after the port and resource filters (the framework stops at the
    // first that fails); preemption runs them all again without its victims.
    let affinity_now = state.map(|s| affinity(c, room, s, &mine)).unwrap_or(Ok(None));
    let unknown: Vec<String> = affinity_now.clone().err().into_iter().collect();
    let mut why = misfit(c, room, &others);
    if why.is_empty() {
        match affinity_now {
            Ok(None) | Err(_) => return verdict(unsure(Outcome::WouldRun, unknown)),
            Ok(Some(r)) if r == podaffinity::AFFINITY => {
                // UnschedulableAndUnresolvable: preemption is not tried.
                return verdict(Outcome::WouldNotFit(vec![r.into(), "pod affinity: preemption cannot help".into()]));
            }
            Ok(Some(r)) => why.push(r.into()),
        }
    }
    if c.never_preempts {
        why.push("preemptionPolicy Never: cannot preempt".into());
        return verdict(Outcome::WouldNotFit(why));
    }
    let passes = |kept: &[usize]| {
        state.is_none_or(|s| {
            let gone: Vec<&PodOnNode> =
                mine.iter().copied().chain((0..others.len()).filter(|i| !kept.contains(i)).map(|i| others[i])).collect();
            matches!(affinity(c, room, s, &gone), Ok(None) | Err(_))
        })
    };
    match fit::victims_where(&room.allocatable, &occupants(&others), &c.requests, &c.ports, c.priority, &passes) {
        Some(v) => {
            let names = v.iter().map(|i| format!("{} (priority {})", others[*i].name, others[*i].priority)).collect();
            verdict(unsure(Outcome::WouldPreempt(names), unknown))
        }
        None => {
            if !c.has_priority_class {
                why.push("no priority class: cannot preempt".into());
            } else if others.iter().all(|p| p.priority >= c.priority) {
                why.push("no lower-priority pod to preempt".into());
            } else {
                why.push("preempting every lower-priority pod would not be enough".into());
            }
            verdict(Outcome::WouldNotFit(why))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn res(cpu: i64, mem: i64) -> Resources {
        Resources([("cpu".to_string(), cpu), ("memory".to_string(), mem)].into_iter().filter(|(_, v)| *v > 0).collect())
    }

    fn room(pods: Vec<PodOnNode>) -> NodeRoom {
        NodeRoom {
            facts: NodeFacts { name: "n1".into(), ..Default::default() },
            allocatable: Resources([("cpu".into(), 1000), ("memory".into(), 1000), ("pods".into(), 110)].into()),
            pods,
            images: BTreeSet::new(),
            image_sizes: Vec::new(),
        }
    }

    fn pod(name: &str, priority: i32, cpu: i64, started: &str) -> PodOnNode {
        PodOnNode {
            name: name.into(),
            priority,
            requests: res(cpu, 0),
            ports: vec![],
            owner_uid: None,
            started: started.into(),
            terms: PodTerms::default(),
        }
    }

    fn candidate(cpu: i64, priority: i32, class: bool) -> Candidate {
        Candidate {
            placement: Placement::default(),
            requests: res(cpu, 0),
            ports: vec![(9100, "TCP".into())],
            priority,
            never_preempts: false,
            has_priority_class: class,
            images: vec![],
            uid: Some("ds".into()),
            replaces: true,
            terms: PodTerms::default(),
            unchecked: vec![],
        }
    }

    #[test]
    fn a_surge_of_zero_replaces_pods_one_for_one() {
        let ds = |strategy: serde_json::Value| -> DaemonSet {
            serde_json::from_value(serde_json::json!({"apiVersion": "apps/v1", "kind": "DaemonSet", "metadata": {"name": "a"},
                "spec": {"selector": {}, "updateStrategy": strategy, "template": {"spec": {"containers": [{"name": "a"}]}}}}))
            .unwrap()
        };
        let replaces = |v: serde_json::Value| Candidate::of(&ds(v), 0, false, None).replaces;
        assert!(replaces(serde_json::json!({"type": "RollingUpdate", "rollingUpdate": {"maxSurge": 0}})));
        assert!(replaces(serde_json::json!({"type": "RollingUpdate", "rollingUpdate": {"maxSurge": "0%"}})));
        assert!(replaces(serde_json::json!({"type": "RollingUpdate"})));
        assert!(!replaces(serde_json::json!({"type": "RollingUpdate", "rollingUpdate": {"maxSurge": "1%", "maxUnavailable": 0}})));
        assert!(!replaces(serde_json::json!({"type": "RollingUpdate", "rollingUpdate": {"maxSurge": 2, "maxUnavailable": 0}})));
        assert!(replaces(serde_json::json!({"type": "OnDelete", "rollingUpdate": {"maxSurge": 2}})));
    }

    #[test]
    fn fits_or_says_what_is_short() {
        let r = room(vec![pod("w/a", 0, 700, "1")]);
        assert_eq!(judge(&candidate(200, 0, false), &r, None).outcome, Outcome::WouldRun);
        assert_eq!(
            judge(&candidate(400, 0, false), &r, None).outcome,
            Outcome::WouldNotFit(vec!["Insufficient cpu".into(), "no priority class: cannot preempt".into()])
        );
    }

    #[test]
    fn its_own_old_pod_is_replaced_not_added_to() {
        let mut old = pod("kube-system/agent-x", 0, 600, "1");
        old.owner_uid = Some("ds".into());
        old.ports = vec![(9100, "TCP".into())];
        assert_eq!(judge(&candidate(600, 0, false), &room(vec![old.clone()]), None).outcome, Outcome::WouldRun);
        let mut other = old;
        other.owner_uid = Some("else".into());
        assert_eq!(
            judge(&candidate(100, 0, false), &room(vec![other]), None).outcome,
            Outcome::WouldNotFit(vec![
                "host port 9100/TCP is taken by kube-system/agent-x".into(),
                "no priority class: cannot preempt".into()
            ])
        );
    }

    #[test]
    fn preemption_takes_the_fewest_least_important_pods() {
        let r = room(vec![
            pod("w/old-low", 0, 300, "1"),
            pod("w/new-low", 0, 300, "2"),
            pod("w/mid", 100, 300, "1"),
            pod("w/high", 2000, 100, "1"),
        ]);
        // 500m wanted, none free: without the three lower pods 900m is free; mid is given
        // back (600m left), then neither low one can be.
        let v = judge(&candidate(500, 1000, true), &r, None).outcome;
        assert_eq!(v, Outcome::WouldPreempt(vec!["w/old-low (priority 0)".into(), "w/new-low (priority 0)".into()]));
        // 300m: mid and the earlier-started low pod are given back; the later one goes.
        let v = judge(&candidate(300, 1000, true), &r, None).outcome;
        assert_eq!(v, Outcome::WouldPreempt(vec!["w/new-low (priority 0)".into()]));
        // Nothing lower: nothing to preempt.
        assert!(
            matches!(judge(&candidate(300, 0, true), &r, None).outcome, Outcome::WouldNotFit(w) if w.last().unwrap() == "no lower-priority pod to preempt")
        );
    }
}

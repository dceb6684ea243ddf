//! What would happen on each node if a DaemonSet were applied — pure, no I/O. The node's
//! eligibility is coverage's rule (`k8s::eligibility`); whether the pod fits is
//! kube-scheduler's (`k8s::fit`, host ports as the `NodePorts` filter); and when it does
//! not, whether it would preempt, and whom (`k8s::fit::victims`, as `DefaultPreemption`
//! picks victims on a node).
//!
//! May import: `k8s`.

use std::collections::BTreeSet;

use k8s_openapi::api::apps::v1::DaemonSet;

use crate::k8s::eligibility::{self, NodeFacts, Placement};
use crate::k8s::fit::{self, Resources};

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
}

impl Outcome {
    pub fn as_str(&self) -> &'static str {
        match self {
            Outcome::WouldRun => "would run",
            Outcome::NotEligible(_) => "not eligible",
            Outcome::WouldNotFit(_) => "would not fit",
            Outcome::WouldPreempt(_) => "would preempt",
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
        }
    }
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

/// The pod's outcome on one node.
pub fn judge(c: &Candidate, room: &NodeRoom) -> NodeVerdict {
    let e = eligibility::evaluate(&room.facts, &c.placement);
    let own = |p: &PodOnNode| c.uid.is_some() && p.owner_uid == c.uid;
    let has_pod = room.pods.iter().any(own);
    let images_present = c.images.iter().all(|i| room.images.contains(i));
    let verdict = |outcome| NodeVerdict { node: room.facts.name.clone(), outcome, has_pod, images_present };
    if let Some(r) = e.reason {
        return verdict(Outcome::NotEligible(r.to_string()));
    }
    let others: Vec<&PodOnNode> = room.pods.iter().filter(|p| !(c.replaces && own(p))).collect();
    let mut why = misfit(c, room, &others);
    if why.is_empty() {
        return verdict(Outcome::WouldRun);
    }
    if c.never_preempts {
        why.push("preemptionPolicy Never: cannot preempt".into());
        return verdict(Outcome::WouldNotFit(why));
    }
    match fit::victims(&room.allocatable, &occupants(&others), &c.requests, &c.ports, c.priority) {
        Some(v) => {
            verdict(Outcome::WouldPreempt(v.iter().map(|i| format!("{} (priority {})", others[*i].name, others[*i].priority)).collect()))
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
        PodOnNode { name: name.into(), priority, requests: res(cpu, 0), ports: vec![], owner_uid: None, started: started.into() }
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
        assert_eq!(judge(&candidate(200, 0, false), &r).outcome, Outcome::WouldRun);
        assert_eq!(
            judge(&candidate(400, 0, false), &r).outcome,
            Outcome::WouldNotFit(vec!["Insufficient cpu".into(), "no priority class: cannot preempt".into()])
        );
    }

    #[test]
    fn its_own_old_pod_is_replaced_not_added_to() {
        let mut old = pod("kube-system/agent-x", 0, 600, "1");
        old.owner_uid = Some("ds".into());
        old.ports = vec![(9100, "TCP".into())];
        assert_eq!(judge(&candidate(600, 0, false), &room(vec![old.clone()])).outcome, Outcome::WouldRun);
        let mut other = old;
        other.owner_uid = Some("else".into());
        assert_eq!(
            judge(&candidate(100, 0, false), &room(vec![other])).outcome,
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
        let v = judge(&candidate(500, 1000, true), &r).outcome;
        assert_eq!(v, Outcome::WouldPreempt(vec!["w/old-low (priority 0)".into(), "w/new-low (priority 0)".into()]));
        // 300m: mid and the earlier-started low pod are given back; the later one goes.
        let v = judge(&candidate(300, 1000, true), &r).outcome;
        assert_eq!(v, Outcome::WouldPreempt(vec!["w/new-low (priority 0)".into()]));
        // Nothing lower: nothing to preempt.
        assert!(
            matches!(judge(&candidate(300, 0, true), &r).outcome, Outcome::WouldNotFit(w) if w.last().unwrap() == "no lower-priority pod to preempt")
        );
    }
}

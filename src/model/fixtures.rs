//! Builders of the compact types for tests and benchmarks: the one place that knows how
//! a node, a DaemonSet and a daemon pod look in the model, so unit tests, integration
//! tests and benches stop writing the structs out field by field.
//!
//! Defaults are the healthy case: a Ready node with no labels or taints; a DaemonSet on
//! template generation 1 with the tolerations the controller adds; a Running, Ready pod
//! with one container named after its DaemonSet. Change what a test is about with the
//! builder methods or with struct update syntax.
//!
//! May import: `model::compact`, `k8s`.

use super::compact::{ContainerInfo, CpuMem, DsInfo, IStr, NodeCondition, NodeInfo, PodInfo, PodName, Time};
use crate::k8s::eligibility::{NodeFacts, Placement, Taint, Toleration, add_daemon_tolerations};

/// A Ready, schedulable node with no labels and no taints.
pub fn node(name: &str) -> NodeInfo {
    NodeInfo {
        name: name.to_string(),
        facts: NodeFacts { name: name.to_string(), labels: Default::default(), taints: vec![] },
        allocatable: CpuMem::default(),
        ready: Some(true),
        unschedulable: false,
        created: None,
        kubelet_version: String::new(),
        cordoned_by: None,
        conditions: vec![NodeCondition {
            type_: "Ready".into(),
            status: "True".into(),
            reason: "KubeletReady".into(),
            message: "kubelet is posting ready status".into(),
            last_transition: None,
        }],
    }
}

/// A DaemonSet `namespace/name` (uid `ds-<name>`) on template generation 1, observed by
/// the controller, with the tolerations the controller adds to every daemon pod.
pub fn daemonset(namespace: &str, name: &str) -> DsInfo {
    let mut placement = Placement::default();
    add_daemon_tolerations(&mut placement.tolerations, false);
    DsInfo {
        namespace: namespace.to_string(),
        name: name.to_string(),
        uid: format!("ds-{name}"),
        placement,
        template_generation: Some("1".into()),
        generation: 1,
        observed_generation: 1,
        ..Default::default()
    }
}

/// A Running, Ready pod of `ds` on `node` on the DaemonSet's template generation, with
/// one container (named after the DaemonSet, image `registry.example/<name>:v1`).
pub fn pod(ds: &DsInfo, node: &str, uid: &str) -> PodInfo {
    PodInfo {
        namespace: ds.namespace.as_str().into(),
        name: PodName::new(format!("{}-{uid}", ds.name), &ds.name),
        uid: uid.into(),
        owner_uid: ds.uid.as_str().into(),
        node: Some(node.into()),
        bound: true,
        revision_hash: None,
        template_generation: ds.template_generation.as_deref().map(IStr::from),
        phase: "Running".into(),
        ready: true,
        ready_changed: Time::NONE,
        deleting: Time::NONE,
        created: Time::NONE,
        scheduled: Time::NONE,
        started: Time::NONE,
        unschedulable: None,
        containers: smallvec::smallvec![ContainerInfo {
            name: ds.name.as_str().into(),
            image: format!("registry.example/{}:v1", ds.name).into(),
            ready: true,
            restarts: 0,
            waiting: None,
            running: true,
            last_exit: None,
        }],
        requests: CpuMem::default(),
    }
}

impl NodeInfo {
    /// With `cpu_m` millicores and `mem` bytes allocatable.
    pub fn with_allocatable(mut self, cpu_m: u64, mem: u64) -> Self {
        self.allocatable = CpuMem { cpu_m, mem };
        self
    }

    /// With the label `key=value`.
    pub fn with_label(mut self, key: &str, value: &str) -> Self {
        self.facts.labels.insert(key.to_string(), value.to_string());
        self
    }

    /// With the taint `key=value:effect`.
    pub fn with_taint(mut self, key: &str, value: &str, effect: &str) -> Self {
        self.facts.taints.push(Taint { key: key.to_string(), value: value.to_string(), effect: effect.to_string() });
        self
    }

    /// With the Ready condition `ready` (None: no Ready condition): NotReady as the
    /// kubelet reports a broken container runtime network.
    pub fn with_ready(mut self, ready: Option<bool>) -> Self {
        self.ready = ready;
        self.conditions.retain(|c| c.type_ != "Ready");
        if let Some(r) = ready {
            self.conditions.push(if r {
                NodeCondition {
                    type_: "Ready".into(),
                    status: "True".into(),
                    reason: "KubeletReady".into(),
                    message: "kubelet is posting ready status".into(),
                    last_transition: None,
                }
            } else {
                NodeCondition {
                    type_: "Ready".into(),
                    status: "False".into(),
                    reason: "KubeletNotReady".into(),
                    message: "container runtime network not ready".into(),
                    last_transition: None,
                }
            });
        }
        self
    }

    /// Unreachable: the node controller set Ready=Unknown `for_secs` ago.
    pub fn unreachable(mut self, for_secs: i64) -> Self {
        self.ready = Some(false);
        self.conditions.retain(|c| c.type_ != "Ready");
        self.conditions.push(NodeCondition {
            type_: "Ready".into(),
            status: "Unknown".into(),
            reason: "NodeStatusUnknown".into(),
            message: "Kubelet stopped posting node status.".into(),
            last_transition: Some(jiff::Timestamp::now() - jiff::SignedDuration::from_secs(for_secs)),
        });
        self
    }
}

impl DsInfo {
    /// Only on nodes labelled `key=value`.
    pub fn with_node_selector(mut self, key: &str, value: &str) -> Self {
        self.placement.node_selector.insert(key.to_string(), value.to_string());
        self
    }

    /// Tolerating every taint (`operator: Exists` with no key).
    pub fn tolerating_everything(mut self) -> Self {
        self.placement.tolerations.insert(
            0,
            Toleration {
                key: String::new(),
                operator: "Exists".into(),
                value: String::new(),
                effect: String::new(),
                toleration_seconds: None,
            },
        );
        self
    }

    /// On template generation `generation`, which the controller has observed.
    pub fn at_generation(mut self, generation: i64) -> Self {
        self.template_generation = Some(generation.to_string());
        self.generation = generation;
        self.observed_generation = generation;
        self
    }
}

impl PodInfo {
    /// Requesting `cpu_m` millicores and `mem` bytes of its node.
    pub fn requesting(mut self, cpu_m: u64, mem: u64) -> Self {
        self.requests = CpuMem { cpu_m, mem };
        self
    }

    /// Made from template generation `generation`.
    pub fn from_generation(mut self, generation: &str) -> Self {
        self.template_generation = Some(generation.into());
        self
    }

    /// Running but not Ready (its container not ready, nothing failing).
    pub fn not_ready(mut self) -> Self {
        self.ready = false;
        for c in &mut self.containers {
            c.ready = false;
        }
        self
    }

    /// Its container waiting with `reason` (`CrashLoopBackOff`, `ErrImagePull`, …) after
    /// `restarts` restarts; the pod is not Ready.
    pub fn waiting(mut self, reason: &str, restarts: i32) -> Self {
        self = self.not_ready();
        for c in &mut self.containers {
            c.waiting = Some(Box::new((reason.to_string(), String::new())));
            c.running = false;
            c.restarts = restarts;
        }
        self
    }

    /// Being deleted (a deletionTimestamp is set).
    pub fn deleting(mut self) -> Self {
        self.deleting = Some(jiff::Timestamp::now()).into();
        self
    }
}

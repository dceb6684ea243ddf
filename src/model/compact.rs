//! Compact views of Nodes, DaemonSets and Pods: the fields daemonscope uses, with the
//! `Option` chains resolved once, when the watch event arrives.
//!
//! May import: `model::atoms`, `k8s`.

use std::collections::BTreeMap;

use k8s_openapi::api::apps::v1 as apps;
use k8s_openapi::api::core::v1 as core;
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;

use smallvec::SmallVec;

use super::atoms::Interner;
pub use super::atoms::{IStr, PodName, Time, Uid};
use crate::k8s::eligibility::{NodeFacts, Placement};
use crate::k8s::fit::Resources;

pub const REVISION_HASH_LABEL: &str = "controller-revision-hash";
pub const TEMPLATE_GENERATION_LABEL: &str = "pod-template-generation";
const TEMPLATE_GENERATION_ANNOTATION: &str = "deprecated.daemonset.template.generation";

/// The node annotation a maintenance roll leaves on each node it cordoned:
/// `roll of NS/NAME at TIME` (`cluster::roll_maintenance`).
pub const CORDONED_BY: &str = "daemonscope.io/cordoned-by";

fn ts(t: &Option<k8s_openapi::apimachinery::pkg::apis::meta::v1::Time>) -> Option<jiff::Timestamp> {
    t.as_ref().map(|t| t.0)
}

/// Cpu (millicores) and memory (bytes): what a pod requests of its node, as the scheduler
/// counts it (`k8s::fit::pod_requests`: init containers, sidecars and overhead included),
/// or a node's allocatable of the two. The DaemonSet tax is counted in these.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct CpuMem {
    pub cpu_m: u64,
    pub mem: u64,
}

impl CpuMem {
    pub fn of(r: &Resources) -> CpuMem {
        CpuMem { cpu_m: r.get("cpu").max(0) as u64, mem: r.get("memory").max(0) as u64 }
    }

    pub fn add(&mut self, o: CpuMem) {
        self.cpu_m += o.cpu_m;
        self.mem += o.mem;
    }

    /// `self` as a percentage of `of` (rounded up), the worse of cpu and memory; None when
    /// `of` has neither (the node reports no allocatable).
    pub fn percent_of(self, of: CpuMem) -> Option<u64> {
        let pct = |a: u64, b: u64| (b > 0).then(|| (a * 100).div_ceil(b));
        match (pct(self.cpu_m, of.cpu_m), pct(self.mem, of.mem)) {
            (None, None) => None,
            (a, b) => Some(a.unwrap_or(0).max(b.unwrap_or(0))),
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct NodeInfo {
    pub name: String,
    pub facts: NodeFacts,
    /// `status.allocatable` cpu and memory.
    pub allocatable: CpuMem,
    /// Ready condition: Some(true) Ready, Some(false) NotReady/Unknown, None no condition.
    pub ready: Option<bool>,
    pub unschedulable: bool,
    pub created: Option<jiff::Timestamp>,
    pub kubelet_version: String,
    /// A maintenance roll's mark ([`CORDONED_BY`]): which roll cordoned it, since when.
    pub cordoned_by: Option<String>,
    /// `status.conditions`, as the kubelet and the node controller set them.
    pub conditions: Vec<NodeCondition>,
}

/// One node condition (`Ready`, `MemoryPressure`, …), as `kubectl describe node` shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NodeCondition {
    pub type_: String,
    /// `True`, `False` or `Unknown`.
    pub status: String,
    pub reason: String,
    pub message: String,
    pub last_transition: Option<jiff::Timestamp>,
}

impl NodeInfo {
    pub fn condition(&self, type_: &str) -> Option<&NodeCondition> {
        self.conditions.iter().find(|c| c.type_ == type_)
    }

    /// Down: NotReady (Ready=False) or unreachable (Ready=Unknown). The node lifecycle
    /// controller then taints it, and DaemonSets stop counting it as desired. A node with
    /// no Ready condition yet is not down: the controller decides by its taints alone.
    pub fn is_down(&self) -> bool {
        self.ready == Some(false)
    }

    /// Why the node is down, in words, with how long it has been (as of `now`):
    /// `node NotReady for 4m: KubeletNotReady: container runtime network not ready` or
    /// `node unreachable for 2m: kubelet stopped posting status`. None when it is Ready.
    pub fn down_reason(&self, now: jiff::Timestamp) -> Option<String> {
        if !self.is_down() {
            return None;
        }
        let Some(c) = self.condition("Ready") else { return Some("node NotReady".into()) };
        // A transition in the future (the server's clock ahead of ours) gets no age.
        let since = c
            .last_transition
            .filter(|t| *t <= now)
            .map(|t| format!(" for {}", crate::k8s::duration::human_duration(now.duration_since(t).as_secs())))
            .unwrap_or_default();
        Some(match c.status.as_str() {
            "Unknown" => format!("node unreachable{since}: kubelet stopped posting status"),
            _ => {
                let why = [c.reason.as_str(), c.message.as_str()].into_iter().filter(|s| !s.is_empty()).collect::<Vec<_>>().join(": ");
                if why.is_empty() { format!("node NotReady{since}") } else { format!("node NotReady{since}: {why}") }
            }
        })
    }
}

impl From<&core::Node> for NodeInfo {
    fn from(n: &core::Node) -> Self {
        let conditions: Vec<NodeCondition> = n
            .status
            .as_ref()
            .and_then(|s| s.conditions.as_ref())
            .into_iter()
            .flatten()
            .map(|c| NodeCondition {
                type_: c.type_.clone(),
                status: c.status.clone(),
                reason: c.reason.clone().unwrap_or_default(),
                message: c.message.clone().unwrap_or_default(),
                last_transition: ts(&c.last_transition_time),
            })
            .collect();
        let ready = conditions.iter().find(|c| c.type_ == "Ready").map(|c| c.status == "True");
        NodeInfo {
            name: n.metadata.name.clone().unwrap_or_default(),
            facts: NodeFacts::from_node(n),
            allocatable: CpuMem::of(&Resources::of(n.status.as_ref().and_then(|s| s.allocatable.as_ref()))),
            ready,
            unschedulable: n.spec.as_ref().and_then(|s| s.unschedulable).unwrap_or(false),
            created: ts(&n.metadata.creation_timestamp),
            kubelet_version: n.status.as_ref().and_then(|s| s.node_info.as_ref()).map(|i| i.kubelet_version.clone()).unwrap_or_default(),
            cordoned_by: n.metadata.annotations.as_ref().and_then(|a| a.get(CORDONED_BY)).cloned(),
            conditions,
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub enum Strategy {
    RollingUpdate { max_unavailable: IntOrString, max_surge: IntOrString },
    OnDelete,
}

impl Strategy {
    pub fn name(&self) -> &'static str {
        match self {
            Strategy::RollingUpdate { .. } => "RollingUpdate",
            Strategy::OnDelete => "OnDelete",
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct DsInfo {
    pub namespace: String,
    pub name: String,
    pub uid: String,
    pub labels: BTreeMap<String, String>,
    /// The pod template's labels (what Services select).
    pub pod_labels: BTreeMap<String, String>,
    pub placement: Placement,
    /// The `deprecated.daemonset.template.generation` a current pod carries.
    pub template_generation: Option<String>,
    /// The current revision's `controller-revision-hash` (the newest ControllerRevision of
    /// this DaemonSet), filled in by the model from the revisions it watches; None when
    /// they are not watched. `util.IsPodUpdated` accepts either this or the generation: a
    /// template reverted to an earlier one reuses that revision, and its pods are current.
    pub current_hash: Option<String>,
    pub strategy: Strategy,
    pub min_ready_seconds: i32,
    pub generation: i64,
    pub observed_generation: i64,
    pub desired: i32,
    pub current: i32,
    pub ready: i32,
    pub updated: i32,
    pub available: i32,
    pub misscheduled: i32,
    /// `status.numberUnavailable`, as the controller wrote it.
    pub unavailable: i32,
    pub node_selector: BTreeMap<String, String>,
    pub images: Vec<String>,
    pub created: Option<jiff::Timestamp>,
    /// `metadata.deletionTimestamp`: being deleted (foreground deletion, a finalizer).
    pub deleting: Option<jiff::Timestamp>,
    pub host_network: bool,
    pub host_pid: bool,
    pub privileged: bool,
    pub host_paths: Vec<(String, bool)>,
    pub host_ports: Vec<i32>,
    pub priority_class: Option<String>,
}

impl Default for DsInfo {
    /// An empty DaemonSet with the API defaults (RollingUpdate, maxUnavailable 1).
    fn default() -> Self {
        DsInfo {
            namespace: String::new(),
            name: String::new(),
            uid: String::new(),
            labels: BTreeMap::new(),
            pod_labels: BTreeMap::new(),
            placement: Placement::default(),
            template_generation: None,
            current_hash: None,
            strategy: Strategy::RollingUpdate { max_unavailable: IntOrString::Int(1), max_surge: IntOrString::Int(0) },
            min_ready_seconds: 0,
            generation: 0,
            observed_generation: 0,
            desired: 0,
            current: 0,
            ready: 0,
            updated: 0,
            available: 0,
            misscheduled: 0,
            unavailable: 0,
            node_selector: BTreeMap::new(),
            images: Vec::new(),
            created: None,
            deleting: None,
            host_network: false,
            host_pid: false,
            privileged: false,
            host_paths: Vec::new(),
            host_ports: Vec::new(),
            priority_class: None,
        }
    }
}

impl DsInfo {
    /// What coverage (and availability, through minReadySeconds) depends on; status
    /// counts do not change a cell.
    pub fn coverage_inputs(&self) -> (&Placement, &Option<String>, &Option<String>, bool, i32) {
        (
            &self.placement,
            &self.template_generation,
            &self.current_hash,
            self.observed_generation >= self.generation,
            self.min_ready_seconds,
        )
    }
}

impl From<&apps::DaemonSet> for DsInfo {
    fn from(d: &apps::DaemonSet) -> Self {
        let spec = d.spec.clone().unwrap_or_default();
        let ps = spec.template.spec.clone().unwrap_or_default();
        let st = d.status.clone().unwrap_or_default();
        let strategy = match spec.update_strategy.as_ref().and_then(|u| u.type_.as_deref()) {
            Some("OnDelete") => Strategy::OnDelete,
            _ => {
                let ru = spec.update_strategy.as_ref().and_then(|u| u.rolling_update.clone()).unwrap_or_default();
                Strategy::RollingUpdate {
                    max_unavailable: ru.max_unavailable.unwrap_or(IntOrString::Int(1)),
                    max_surge: ru.max_surge.unwrap_or(IntOrString::Int(0)),
                }
            }
        };
        let mounts: Vec<(String, bool)> = ps
            .containers
            .iter()
            .flat_map(|c| c.volume_mounts.iter().flatten())
            .filter_map(|m| {
                let v = ps.volumes.iter().flatten().find(|v| v.name == m.name)?;
                let hp = v.host_path.as_ref()?;
                Some((hp.path.clone(), m.read_only.unwrap_or(false)))
            })
            .collect();
        DsInfo {
            namespace: d.metadata.namespace.clone().unwrap_or_default(),
            name: d.metadata.name.clone().unwrap_or_default(),
            uid: d.metadata.uid.clone().unwrap_or_default(),
            labels: d.metadata.labels.clone().unwrap_or_default(),
            pod_labels: spec.template.metadata.as_ref().and_then(|m| m.labels.clone()).unwrap_or_default(),
            placement: Placement::from_pod_spec(&ps),
            template_generation: d.metadata.annotations.as_ref().and_then(|a| a.get(TEMPLATE_GENERATION_ANNOTATION)).cloned(),
            current_hash: None,
            strategy,
            min_ready_seconds: spec.min_ready_seconds.unwrap_or(0),
            generation: d.metadata.generation.unwrap_or(0),
            observed_generation: st.observed_generation.unwrap_or(0),
            desired: st.desired_number_scheduled,
            current: st.current_number_scheduled,
            ready: st.number_ready,
            updated: st.updated_number_scheduled.unwrap_or(0),
            available: st.number_available.unwrap_or(0),
            misscheduled: st.number_misscheduled,
            unavailable: st.number_unavailable.unwrap_or(0),
            node_selector: ps.node_selector.clone().unwrap_or_default(),
            images: ps.containers.iter().filter_map(|c| c.image.clone()).collect(),
            created: ts(&d.metadata.creation_timestamp),
            deleting: ts(&d.metadata.deletion_timestamp),
            host_network: ps.host_network.unwrap_or(false),
            host_pid: ps.host_pid.unwrap_or(false),
            privileged: ps.containers.iter().any(|c| c.security_context.as_ref().and_then(|s| s.privileged).unwrap_or(false)),
            host_paths: mounts,
            host_ports: ps.containers.iter().flat_map(|c| c.ports.iter().flatten()).filter_map(|p| p.host_port).collect(),
            priority_class: ps.priority_class_name.clone(),
        }
    }
}

/// The state of one container, reduced to what coverage explains.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ContainerInfo {
    pub name: IStr,
    pub image: IStr,
    pub ready: bool,
    pub restarts: i32,
    /// `waiting.reason` (with message), or `terminated.reason` (boxed: most containers run).
    pub waiting: Option<Box<(String, String)>>,
    pub running: bool,
    /// Why the previous run ended (`lastState.terminated.reason`), if it did.
    pub last_exit: Option<IStr>,
}

/// A daemon pod's containers: one inline (the usual daemon), more on the heap.
pub type Containers = SmallVec<[ContainerInfo; 1]>;

/// A daemon pod, as the model keeps it (hundreds of thousands on a big cluster, so each
/// field is small: shared strings, a 16-byte uid, the name as its DaemonSet's plus a
/// suffix, 8-byte times; the model shares every string through its interner).
#[derive(Debug, Clone, PartialEq)]
pub struct PodInfo {
    pub namespace: IStr,
    pub name: PodName,
    pub uid: Uid,
    /// The controlling DaemonSet's uid.
    pub owner_uid: IStr,
    /// The target node: spec.nodeName, or the node-name affinity pin.
    pub node: Option<IStr>,
    pub bound: bool,
    pub ready: bool,
    pub revision_hash: Option<IStr>,
    pub template_generation: Option<IStr>,
    pub phase: IStr,
    /// When the Ready condition last changed: to Ready when `ready`, to not ready
    /// otherwise (read through [`PodInfo::ready_since`] / [`PodInfo::unready_since`]).
    pub ready_changed: Time,
    pub deleting: Time,
    pub created: Time,
    /// When the scheduler bound it (its PodScheduled condition turned True).
    pub scheduled: Time,
    /// When its containers started: the earliest `state.running.startedAt` (a restarted
    /// container's later start replaces its first).
    pub started: Time,
    /// The scheduler's message while the pod cannot be placed (boxed twice: a thin
    /// pointer, as almost every pod has none).
    pub unschedulable: Option<Box<String>>,
    pub containers: Containers,
    /// What it requests of its node (cpu and memory, as the scheduler counts them).
    pub requests: CpuMem,
}

impl PodInfo {
    /// None for pods no DaemonSet controls.
    pub fn from_pod(p: &core::Pod) -> Option<Self> {
        let owner = p.metadata.owner_references.as_ref()?.iter().find(|o| o.controller == Some(true) && o.kind == "DaemonSet")?;
        let spec = p.spec.clone().unwrap_or_default();
        let st = p.status.clone().unwrap_or_default();
        let ready_cond = st.conditions.as_ref().and_then(|c| c.iter().find(|c| c.type_ == "Ready"));
        let unschedulable = st
            .conditions
            .as_ref()
            .and_then(|c| c.iter().find(|c| c.type_ == "PodScheduled" && c.status == "False"))
            .map(|c| c.message.clone().unwrap_or_default());
        let labels = p.metadata.labels.clone().unwrap_or_default();
        let containers = spec
            .containers
            .iter()
            .map(|c| {
                let s = st.container_statuses.iter().flatten().find(|s| s.name == c.name);
                let state = s.and_then(|s| s.state.clone()).unwrap_or_default();
                let waiting = state
                    .waiting
                    .as_ref()
                    .map(|w| (w.reason.clone().unwrap_or_default(), w.message.clone().unwrap_or_default()))
                    .or_else(|| {
                        state.terminated.as_ref().map(|t| {
                            (t.reason.clone().unwrap_or_else(|| format!("ExitCode:{}", t.exit_code)), t.message.clone().unwrap_or_default())
                        })
                    })
                    .map(Box::new);
                ContainerInfo {
                    name: c.name.as_str().into(),
                    image: c.image.as_deref().unwrap_or_default().into(),
                    ready: s.is_some_and(|s| s.ready),
                    restarts: s.map_or(0, |s| s.restart_count),
                    waiting,
                    running: state.running.is_some(),
                    last_exit: s
                        .and_then(|s| s.last_state.as_ref()?.terminated.as_ref())
                        .map(|t| t.reason.clone().unwrap_or_else(|| format!("ExitCode:{}", t.exit_code)).into()),
                }
            })
            .collect();
        Some(PodInfo {
            namespace: p.metadata.namespace.as_deref().unwrap_or_default().into(),
            name: PodName::new(p.metadata.name.clone().unwrap_or_default(), &owner.name),
            uid: p.metadata.uid.as_deref().unwrap_or_default().into(),
            owner_uid: owner.uid.as_str().into(),
            node: crate::k8s::eligibility::target_node(&spec).map(IStr::from),
            bound: spec.node_name.as_deref().is_some_and(|n| !n.is_empty()),
            revision_hash: labels.get(REVISION_HASH_LABEL).map(IStr::from),
            template_generation: labels.get(TEMPLATE_GENERATION_LABEL).map(IStr::from),
            phase: st.phase.as_deref().unwrap_or_default().into(),
            ready: ready_cond.is_some_and(|c| c.status == "True"),
            ready_changed: ready_cond.and_then(|c| ts(&c.last_transition_time)).into(),
            deleting: ts(&p.metadata.deletion_timestamp).into(),
            created: ts(&p.metadata.creation_timestamp).into(),
            scheduled: st
                .conditions
                .iter()
                .flatten()
                .find(|c| c.type_ == "PodScheduled" && c.status == "True")
                .and_then(|c| ts(&c.last_transition_time))
                .into(),
            started: st
                .container_statuses
                .iter()
                .flatten()
                .filter_map(|s| ts(&s.state.as_ref()?.running.as_ref()?.started_at))
                .min()
                .into(),
            unschedulable: unschedulable.map(Box::new),
            containers,
            requests: CpuMem::of(&crate::k8s::fit::pod_requests(&spec)),
        })
    }

    /// Since when the pod has been Ready (None while it is not).
    pub fn ready_since(&self) -> Option<jiff::Timestamp> {
        self.ready_changed.get().filter(|_| self.ready)
    }

    /// Since when the pod has been not Ready, where its Ready condition says (None while
    /// it is Ready, or before the kubelet wrote the condition).
    pub fn unready_since(&self) -> Option<jiff::Timestamp> {
        self.ready_changed.get().filter(|_| !self.ready)
    }

    pub fn restarts(&self) -> i32 {
        self.containers.iter().map(|c| c.restarts).sum()
    }

    /// Swaps every string for the model's shared copy of it.
    pub(crate) fn intern(&mut self, strings: &mut Interner) {
        strings.intern(&mut self.namespace);
        self.name.intern(strings);
        strings.intern(&mut self.owner_uid);
        strings.intern_opt(&mut self.node);
        strings.intern_opt(&mut self.revision_hash);
        strings.intern_opt(&mut self.template_generation);
        strings.intern(&mut self.phase);
        for c in &mut self.containers {
            strings.intern(&mut c.name);
            strings.intern(&mut c.image);
            strings.intern_opt(&mut c.last_exit);
        }
    }
}

//! What the watches tell the model: one event, already compacted ([`Change`]), and the
//! resource each watch is of ([`Resource`]) — the one map from a change to its watch.
//!
//! May import: `model::compact`, `model::extras`, `model::joins::track`.

use super::compact::{DsInfo, NodeInfo, PodInfo};
use super::extras::{RevisionInfo, ServiceInfo};
use super::joins::track::WorkloadInfo;

/// One watch event, already compacted. (A DaemonSet is the largest variant; they are few,
/// so it is not boxed for the pods' sake.)
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Clone)]
pub enum Change {
    Node(NodeInfo),
    NodeGone(String),
    DaemonSet(DsInfo),
    DaemonSetGone {
        namespace: String,
        name: String,
    },
    Pod(PodInfo),
    PodGone {
        uid: String,
    },
    Revision(RevisionInfo),
    RevisionGone {
        namespace: String,
        name: String,
    },
    Service(ServiceInfo),
    ServiceGone {
        namespace: String,
        name: String,
    },
    /// A pod no DaemonSet controls (the joins' workload index keeps those on young nodes).
    Workload(WorkloadInfo),
    WorkloadGone {
        uid: String,
        /// The node it was bound to, where it is kept (None: looked for everywhere).
        node: Option<String>,
    },
    /// A relist finished: everything not re-announced since `Resync*` began is gone.
    ResyncStart(Resource),
    ResyncDone(Resource),
    /// A (re)list's first page said how many objects the whole list holds (the page plus
    /// the server's remainingItemCount): the model keeps nothing of it; the UI shows the
    /// sync's progress with it.
    ListTotal(Resource, u64),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Resource {
    Nodes,
    DaemonSets,
    Pods,
    Revisions,
    Services,
    /// Pods no DaemonSet controls, for the joins (not in [`Resource::ALL`]: watched only
    /// by the front ends that report joins).
    Workloads,
}

impl Resource {
    pub const ALL: [Resource; 5] = [Resource::DaemonSets, Resource::Nodes, Resource::Pods, Resource::Revisions, Resource::Services];
    /// What the TUI watches: every resource, and the workload pods for the Joins view.
    pub const WITH_WORKLOADS: [Resource; 6] =
        [Resource::DaemonSets, Resource::Nodes, Resource::Pods, Resource::Revisions, Resource::Services, Resource::Workloads];

    /// Short name for the status line.
    pub fn label(self) -> &'static str {
        match self {
            Resource::Nodes => "nodes",
            Resource::DaemonSets => "ds",
            Resource::Pods => "pods",
            Resource::Revisions => "revs",
            Resource::Services => "svc",
            Resource::Workloads => "workloads",
        }
    }
}

impl Change {
    /// The watch the change came from.
    pub fn resource(&self) -> Option<Resource> {
        Some(match self {
            Change::Node(_) | Change::NodeGone(_) => Resource::Nodes,
            Change::DaemonSet(_) | Change::DaemonSetGone { .. } => Resource::DaemonSets,
            Change::Pod(_) | Change::PodGone { .. } => Resource::Pods,
            Change::Revision(_) | Change::RevisionGone { .. } => Resource::Revisions,
            Change::Service(_) | Change::ServiceGone { .. } => Resource::Services,
            Change::Workload(_) | Change::WorkloadGone { .. } => Resource::Workloads,
            Change::ResyncStart(r) | Change::ResyncDone(r) | Change::ListTotal(r, _) => *r,
        })
    }

    /// An object applied or deleted (not a relist's bookkeeping).
    pub fn is_object(&self) -> bool {
        !matches!(self, Change::ResyncStart(_) | Change::ResyncDone(_) | Change::ListTotal(..))
    }
}

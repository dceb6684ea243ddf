//! Why a DaemonSet × node cell is in its state, as one word from a small fixed set (the
//! `reason` label of `daemonscope serve`'s metrics): decided where the cell is, from the
//! placement rule that failed, the container's waiting reason (the kubelet's own codes)
//! or the pod's scheduling condition — never from the cell's reason in words.
//!
//! May import: `model::compact`, `k8s`.

use super::compact::PodInfo;
use crate::k8s::eligibility::Ineligible;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Cause {
    /// Ready and up to date: nothing to say.
    None,
    /// Placement rules: a taint not tolerated, the nodeSelector, node affinity, a nodeName pin.
    Taint,
    Selector,
    Affinity,
    NodeName,
    /// The scheduler found no room (CPU, memory, pods) on the node.
    Resources,
    /// The scheduler found the pod's hostPort taken on the node.
    HostPort,
    /// Unschedulable for another reason.
    Unschedulable,
    /// The image cannot be pulled (ErrImagePull, ImagePullBackOff, InvalidImageName…).
    Image,
    /// The container crashes and restarts (CrashLoopBackOff, Error, OOMKilled).
    Crashloop,
    /// The container cannot be created or started (config error, hook, runtime).
    ContainerError,
    /// The pod is in phase Failed.
    PodFailed,
    /// The node is NotReady or unreachable.
    NodeDown,
    /// The pod is not yet bound or its containers are being created.
    Pending,
    /// Running, but its readiness probe fails.
    Unready,
    /// Eligible, and the controller has made no pod yet.
    NoPod,
    /// The pod is being deleted.
    Terminating,
    /// Ready, on an old revision.
    Outdated,
}

impl Cause {
    pub const ALL: [Cause; 18] = [
        Cause::None,
        Cause::Taint,
        Cause::Selector,
        Cause::Affinity,
        Cause::NodeName,
        Cause::Resources,
        Cause::HostPort,
        Cause::Unschedulable,
        Cause::Image,
        Cause::Crashloop,
        Cause::ContainerError,
        Cause::PodFailed,
        Cause::NodeDown,
        Cause::Pending,
        Cause::Unready,
        Cause::NoPod,
        Cause::Terminating,
        Cause::Outdated,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Cause::None => "none",
            Cause::Taint => "taint",
            Cause::Selector => "selector",
            Cause::Affinity => "affinity",
            Cause::NodeName => "node-name",
            Cause::Resources => "resources",
            Cause::HostPort => "hostport",
            Cause::Unschedulable => "unschedulable",
            Cause::Image => "image",
            Cause::Crashloop => "crashloop",
            Cause::ContainerError => "container-error",
            Cause::PodFailed => "pod-failed",
            Cause::NodeDown => "node-down",
            Cause::Pending => "pending",
            Cause::Unready => "unready",
            Cause::NoPod => "no-pod",
            Cause::Terminating => "terminating",
            Cause::Outdated => "outdated",
        }
    }

    /// The placement rule that keeps a DaemonSet off a node.
    pub fn of_rule(rule: Option<&Ineligible>) -> Cause {
        match rule {
            Some(Ineligible::Taint(_)) => Cause::Taint,
            Some(Ineligible::NodeSelector { .. }) => Cause::Selector,
            Some(Ineligible::NodeAffinity { .. }) => Cause::Affinity,
            Some(Ineligible::NodeName { .. }) => Cause::NodeName,
            None => Cause::None,
        }
    }

    /// A container waiting reason the kubelet reports for a failing container.
    pub fn of_waiting(reason: &str) -> Cause {
        match reason {
            "CrashLoopBackOff" | "Error" | "OOMKilled" => Cause::Crashloop,
            "ErrImagePull" | "ImagePullBackOff" | "ErrImageNeverPull" | "InvalidImageName" => Cause::Image,
            _ => Cause::ContainerError,
        }
    }

    /// Why a pod that is not ready, and not failing, is not ready yet.
    pub fn of_starting(p: &PodInfo) -> Cause {
        if let Some(msg) = &p.unschedulable {
            // The scheduler says why only in its message (the condition's reason is
            // always `Unschedulable`); these are its filter plugins' fixed texts
            // (noderesources: "Insufficient cpu", nodeports: "didn't have free ports").
            return if msg.contains("Insufficient ") || msg.contains("Too many pods") {
                Cause::Resources
            } else if msg.contains("free ports") {
                Cause::HostPort
            } else {
                Cause::Unschedulable
            };
        }
        if p.bound && p.containers.iter().all(|c| c.running) { Cause::Unready } else { Cause::Pending }
    }
}

impl std::fmt::Display for Cause {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

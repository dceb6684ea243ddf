//! The resource kinds the simulated API server serves, and what discovery says of them.
//!
//! May import: nothing else in the crate.

use serde::Serialize;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
pub enum Kind {
    Namespace,
    Node,
    Pod,
    Event,
    Service,
    DaemonSet,
    ControllerRevision,
    PriorityClass,
    PodDisruptionBudget,
    ReplicaSet,
    Lease,
    Deployment,
}

pub struct KindInfo {
    pub kind: &'static str,
    pub plural: &'static str,
    pub singular: &'static str,
    /// "" for the core group.
    pub group: &'static str,
    pub version: &'static str,
    pub namespaced: bool,
    pub short_names: &'static [&'static str],
    pub verbs: &'static [&'static str],
    pub subresources: &'static [&'static str],
    pub categories: &'static [&'static str],
}

const ALL_VERBS: &[&str] = &["create", "delete", "deletecollection", "get", "list", "patch", "update", "watch"];

impl Kind {
    pub const ALL: [Kind; 12] = [
        Kind::Namespace,
        Kind::Node,
        Kind::Pod,
        Kind::Event,
        Kind::Service,
        Kind::DaemonSet,
        Kind::ControllerRevision,
        Kind::PriorityClass,
        Kind::PodDisruptionBudget,
        Kind::ReplicaSet,
        Kind::Lease,
        Kind::Deployment,
    ];

    pub fn info(self) -> &'static KindInfo {
        match self {
            Kind::Namespace => &KindInfo {
                kind: "Namespace",
                plural: "namespaces",
                singular: "namespace",
                group: "",
                version: "v1",
                namespaced: false,
                short_names: &["ns"],
                verbs: &["create", "delete", "get", "list", "patch", "update", "watch"],
                subresources: &["status"],
                categories: &[],
            },
            Kind::Node => &KindInfo {
                kind: "Node",
                plural: "nodes",
                singular: "node",
                group: "",
                version: "v1",
                namespaced: false,
                short_names: &["no"],
                verbs: ALL_VERBS,
                subresources: &["status"],
                categories: &[],
            },
            Kind::Pod => &KindInfo {
                kind: "Pod",
                plural: "pods",
                singular: "pod",
                group: "",
                version: "v1",
                namespaced: true,
                short_names: &["po"],
                verbs: ALL_VERBS,
                subresources: &["status", "log", "eviction"],
                categories: &["all"],
            },
            Kind::Event => &KindInfo {
                kind: "Event",
                plural: "events",
                singular: "event",
                group: "",
                version: "v1",
                namespaced: true,
                short_names: &["ev"],
                verbs: ALL_VERBS,
                subresources: &[],
                categories: &[],
            },
            Kind::Service => &KindInfo {
                kind: "Service",
                plural: "services",
                singular: "service",
                group: "",
                version: "v1",
                namespaced: true,
                short_names: &["svc"],
                verbs: &["create", "delete", "deletecollection", "get", "list", "patch", "update", "watch"],
                subresources: &["status"],
                categories: &["all"],
            },
            Kind::DaemonSet => &KindInfo {
                kind: "DaemonSet",
                plural: "daemonsets",
                singular: "daemonset",
                group: "apps",
                version: "v1",
                namespaced: true,
                short_names: &["ds"],
                verbs: ALL_VERBS,
                subresources: &["status"],
                categories: &["all"],
            },
            Kind::ControllerRevision => &KindInfo {
                kind: "ControllerRevision",
                plural: "controllerrevisions",
                singular: "controllerrevision",
                group: "apps",
                version: "v1",
                namespaced: true,
                short_names: &[],
                verbs: ALL_VERBS,
                subresources: &[],
                categories: &[],
            },
            Kind::PriorityClass => &KindInfo {
                kind: "PriorityClass",
                plural: "priorityclasses",
                singular: "priorityclass",
                group: "scheduling.k8s.io",
                version: "v1",
                namespaced: false,
                short_names: &["pc"],
                verbs: ALL_VERBS,
                subresources: &[],
                categories: &[],
            },
            Kind::PodDisruptionBudget => &KindInfo {
                kind: "PodDisruptionBudget",
                plural: "poddisruptionbudgets",
                singular: "poddisruptionbudget",
                group: "policy",
                version: "v1",
                namespaced: true,
                short_names: &["pdb"],
                verbs: ALL_VERBS,
                subresources: &["status"],
                categories: &[],
            },
            Kind::Deployment => &KindInfo {
                kind: "Deployment",
                plural: "deployments",
                singular: "deployment",
                group: "apps",
                version: "v1",
                namespaced: true,
                short_names: &["deploy"],
                verbs: ALL_VERBS,
                subresources: &["status"],
                categories: &["all"],
            },
            Kind::ReplicaSet => &KindInfo {
                kind: "ReplicaSet",
                plural: "replicasets",
                singular: "replicaset",
                group: "apps",
                version: "v1",
                namespaced: true,
                short_names: &["rs"],
                verbs: ALL_VERBS,
                subresources: &["status"],
                categories: &["all"],
            },
            Kind::Lease => &KindInfo {
                kind: "Lease",
                plural: "leases",
                singular: "lease",
                group: "coordination.k8s.io",
                version: "v1",
                namespaced: true,
                short_names: &[],
                verbs: ALL_VERBS,
                subresources: &[],
                categories: &[],
            },
        }
    }

    pub fn api_version(self) -> String {
        let i = self.info();
        if i.group.is_empty() { i.version.to_string() } else { format!("{}/{}", i.group, i.version) }
    }

    pub fn from_path(group: &str, version: &str, plural: &str) -> Option<Kind> {
        Kind::ALL.into_iter().find(|k| {
            let i = k.info();
            i.group == group && i.version == version && i.plural == plural
        })
    }

    /// Field-selector labels the real API server supports beyond metadata.name/namespace.
    pub fn selectable_fields(self) -> &'static [&'static str] {
        match self {
            Kind::Pod => &[
                "spec.nodeName",
                "spec.restartPolicy",
                "spec.schedulerName",
                "spec.serviceAccountName",
                "spec.hostNetwork",
                "status.phase",
                "status.podIP",
                "status.podIPs",
                "status.nominatedNodeName",
            ],
            Kind::Node => &["spec.unschedulable"],
            Kind::Event => &[
                "involvedObject.kind",
                "involvedObject.namespace",
                "involvedObject.name",
                "involvedObject.uid",
                "involvedObject.apiVersion",
                "involvedObject.resourceVersion",
                "involvedObject.fieldPath",
                "reason",
                "reportingComponent",
                "source",
                "type",
            ],
            Kind::Namespace => &["status.phase"],
            Kind::Service => &["spec.clusterIP", "spec.type"],
            _ => &[],
        }
    }
}

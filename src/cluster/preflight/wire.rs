//! Pods as preflight reads them: only what a node's room needs (the node, phase,
//! priority, start time, controller, and each container's requests, limits, host ports
//! and restart policy, with the pod's overhead; its required pod anti-affinity, and its
//! labels when asked for), decoded straight from the list's JSON —
//! serde skips every other key — instead of full k8s-openapi `Pod`s. A big cluster lists
//! hundreds of thousands of pods; this is most of preflight's work.
//!
//! May import: `model`, `k8s`.

use std::collections::BTreeMap;

use k8s_openapi::api::core::v1 as core;
use k8s_openapi::apimachinery::pkg::api::resource::Quantity;
use serde::Deserialize;

#[derive(Deserialize, Default)]
struct Owner {
    #[serde(default)]
    uid: String,
    #[serde(default)]
    controller: Option<bool>,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase", bound = "L: Deserialize<'de> + Default")]
struct Meta<L> {
    #[serde(default)]
    name: String,
    #[serde(default)]
    namespace: String,
    #[serde(default)]
    owner_references: Vec<Owner>,
    /// `BTreeMap` when the labels are wanted, `IgnoredAny` (skipped, nothing kept) when not.
    #[serde(default)]
    labels: L,
}

/// A pod's labels as decoded: kept, or skipped.
pub trait Labels: for<'de> Deserialize<'de> + Default {
    fn into_map(self) -> BTreeMap<String, String>;
}

impl Labels for BTreeMap<String, String> {
    fn into_map(self) -> BTreeMap<String, String> {
        self
    }
}

impl Labels for serde::de::IgnoredAny {
    fn into_map(self) -> BTreeMap<String, String> {
        BTreeMap::new()
    }
}

/// Of a pod's affinity, only what `InterPodAffinity` reads of a bound pod: its required
/// anti-affinity (node affinity, on every daemon pod, is skipped).
#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase")]
struct Affinity {
    #[serde(default)]
    pod_anti_affinity: Option<core::PodAntiAffinity>,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase")]
struct Port {
    #[serde(default)]
    host_port: Option<i32>,
    #[serde(default)]
    protocol: Option<String>,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase")]
struct Container {
    #[serde(default)]
    resources: Option<core::ResourceRequirements>,
    #[serde(default)]
    ports: Vec<Port>,
    #[serde(default)]
    restart_policy: Option<String>,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase")]
struct Spec {
    #[serde(default)]
    node_name: Option<String>,
    #[serde(default)]
    priority: Option<i32>,
    #[serde(default)]
    containers: Vec<Container>,
    #[serde(default)]
    init_containers: Vec<Container>,
    #[serde(default)]
    overhead: Option<BTreeMap<String, Quantity>>,
    #[serde(default)]
    affinity: Option<Affinity>,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase")]
struct Status {
    #[serde(default)]
    phase: Option<String>,
    #[serde(default)]
    start_time: Option<String>,
}

/// One pod, as much as preflight reads of it; its labels kept as `L` ([`Labels`]).
#[derive(Deserialize, Default)]
#[serde(bound = "L: Deserialize<'de> + Default")]
pub struct PodFit<L> {
    #[serde(default)]
    metadata: Meta<L>,
    #[serde(default)]
    spec: Spec,
    #[serde(default)]
    status: Status,
}

/// A page of a pod list.
#[derive(Deserialize, Default)]
#[serde(bound = "L: Deserialize<'de> + Default")]
pub struct PodFitList<L> {
    #[serde(default)]
    pub metadata: k8s_openapi::apimachinery::pkg::apis::meta::v1::ListMeta,
    #[serde(default)]
    pub items: Vec<PodFit<L>>,
}

fn container(c: Container) -> core::Container {
    core::Container {
        resources: c.resources,
        ports: Some(
            c.ports
                .into_iter()
                .map(|p| core::ContainerPort { host_port: p.host_port, protocol: p.protocol, ..Default::default() })
                .collect(),
        ),
        restart_policy: c.restart_policy,
        ..Default::default()
    }
}

impl<L: Labels> PodFit<L> {
    /// The node it holds room on: bound and not finished (as `k8s::fit::occupies`).
    pub fn node(&self) -> Option<&str> {
        if matches!(self.status.phase.as_deref(), Some("Succeeded" | "Failed")) {
            return None;
        }
        self.spec.node_name.as_deref().filter(|n| !n.is_empty())
    }

    /// The pod as a verdict reads it: its labels as decoded, and its required pod
    /// anti-affinity.
    pub fn into_pod_on_node(self) -> crate::model::preflight::verdict::PodOnNode {
        let anti = self.spec.affinity.map(|a| core::Affinity { pod_anti_affinity: a.pod_anti_affinity, ..Default::default() });
        let terms = crate::k8s::podaffinity::PodTerms::of(&self.metadata.namespace, self.metadata.labels.into_map(), anti.as_ref());
        let spec = core::PodSpec {
            containers: self.spec.containers.into_iter().map(container).collect(),
            init_containers: Some(self.spec.init_containers.into_iter().map(container).collect()),
            overhead: self.spec.overhead,
            ..Default::default()
        };
        crate::model::preflight::verdict::PodOnNode {
            name: format!("{}/{}", self.metadata.namespace, self.metadata.name),
            priority: self.spec.priority.unwrap_or(0),
            requests: crate::k8s::fit::pod_requests(&spec),
            ports: crate::k8s::fit::host_ports(&spec),
            owner_uid: self.metadata.owner_references.into_iter().find(|o| o.controller == Some(true)).map(|o| o.uid),
            started: self.status.start_time.unwrap_or_default(),
            terms,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The lean decode gives what the full `Pod` gives, on a pod with every field it reads.
    #[test]
    fn reads_what_a_full_pod_gives() {
        let json = serde_json::json!({
            "metadata": {"name": "p", "namespace": "ns", "labels": {"a": "b"},
                "ownerReferences": [{"apiVersion": "apps/v1", "kind": "DaemonSet", "name": "d", "uid": "u1", "controller": true}]},
            "spec": {"nodeName": "n1", "priority": 7, "overhead": {"cpu": "10m"},
                "initContainers": [{"name": "i", "image": "x", "resources": {"requests": {"cpu": "1"}}},
                                   {"name": "s", "image": "x", "restartPolicy": "Always", "resources": {"requests": {"memory": "1Gi"}}}],
                "containers": [{"name": "c", "image": "x", "resources": {"requests": {"cpu": "100m"}, "limits": {"memory": "64Mi"}},
                                "ports": [{"containerPort": 80, "hostPort": 8080, "protocol": "UDP"}], "env": [{"name": "E", "value": "v"}]}]},
            "status": {"phase": "Running", "startTime": "2025-03-02T14:03:00Z", "containerStatuses": []}
        });
        let lean: PodFit<BTreeMap<String, String>> = serde_json::from_value(json.clone()).unwrap();
        let full: core::Pod = serde_json::from_value(json).unwrap();
        assert_eq!(lean.node(), crate::k8s::fit::occupies(&full));
        let p = lean.into_pod_on_node();
        let spec = full.spec.unwrap();
        assert_eq!(p.requests, crate::k8s::fit::pod_requests(&spec));
        assert_eq!(p.ports, crate::k8s::fit::host_ports(&spec));
        assert_eq!(
            (p.name.as_str(), p.priority, p.owner_uid.as_deref(), p.started.as_str()),
            ("ns/p", 7, Some("u1"), "2025-03-02T14:03:00Z")
        );
        assert_eq!(p.terms.labels, full.metadata.labels.unwrap());
        let skipped: PodFit<serde::de::IgnoredAny> =
            serde_json::from_value(serde_json::json!({"metadata": {"labels": {"a": "b"}}})).unwrap();
        assert!(skipped.into_pod_on_node().terms.labels.is_empty());
    }
}

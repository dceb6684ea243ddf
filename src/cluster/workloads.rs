//! The workload pods watch: pods no DaemonSet controls, for the joins' early-workload
//! check. The server cannot narrow a watch to "pods on nodes younger than 6 h", so every
//! workload pod of the cluster is read once (list, then each change) and converted to a
//! [`WorkloadInfo`] of a few fields; the model keeps only those on nodes in the window
//! (`model::joins::track`), so memory follows the joining nodes, not the cluster. It is
//! started only by the front ends that report joins.
//!
//! The daemon pods are not read twice (the pod watch has them): the server leaves out
//! every pod carrying `pod-template-generation`, the label the DaemonSet controller puts
//! on each pod it creates (`CreatePodTemplate` in Kubernetes'
//! `pkg/controller/daemon/util/daemonset_util.go`) — a pod someone else labels so is
//! not seen either, nor a daemon pod orphaned from its DaemonSet. A pod another
//! DaemonSet implementation made (a controller owner of kind `DaemonSet` but no such
//! label) is still skipped on decode, before anything of it is allocated but its uid and
//! resourceVersion. Only the fields kept are read: serde skips the rest.
//!
//! May import: `model`, `k8s`.

use std::borrow::Cow;

use crate::k8s::proto::de::Time;
use k8s_openapi::api::core::v1::Pod;
use kube::api::ObjectMeta;
use serde::Deserialize;

use crate::cluster::wire::LeanPod;
use crate::model::joins::WorkloadInfo;

/// The label selector of the workload watch: no pod a DaemonSet controller made.
pub const NOT_DAEMON_PODS: &str = "!pod-template-generation";

/// A pod as the workload watch decodes it: only what [`WorkloadInfo`] keeps (None for a
/// daemon pod), and the uid and resourceVersion the list-then-watch loop reads.
pub type WorkloadWire = LeanPod<WorkloadInfo>;

impl WorkloadWire {
    /// The same pod, from a k8s-openapi `Pod` (what the decode must equal).
    pub fn from_pod(p: &Pod) -> WorkloadWire {
        let meta =
            ObjectMeta { uid: p.metadata.uid.clone(), resource_version: p.metadata.resource_version.clone(), ..ObjectMeta::default() };
        WorkloadWire { meta, info: WorkloadInfo::from_pod(p) }
    }
}

impl<'de> Deserialize<'de> for WorkloadWire {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let p = WirePod::deserialize(d)?;
        let m = p.metadata;
        let meta = ObjectMeta { uid: m.uid.as_deref().map(String::from), resource_version: m.resource_version, ..ObjectMeta::default() };
        let owner = m.owner_references.iter().flatten().find(|o| o.controller == Some(true));
        if owner.is_some_and(|o| o.kind.as_deref() == Some("DaemonSet")) {
            return Ok(WorkloadWire { meta, info: None });
        }
        let text = |v: &Str<'_>| v.as_deref().unwrap_or_default().to_string();
        let spec = p.spec.unwrap_or_default();
        let info = WorkloadInfo {
            uid: text(&m.uid),
            namespace: text(&m.namespace),
            name: text(&m.name),
            node: spec.node_name.as_deref().filter(|n| !n.is_empty()).map(String::from),
            owner_kind: owner.map(|o| text(&o.kind)).unwrap_or_default(),
            owner_name: owner.map(|o| text(&o.name)).unwrap_or_default(),
            started: p.status.and_then(|s| s.start_time).map(|t| t.0),
            priority: spec.priority.unwrap_or(0),
        };
        Ok(WorkloadWire { meta, info: Some(info) })
    }
}

// The JSON shapes, reduced to the fields read (every field optional, as k8s-openapi
// decodes a missing or `null` one as absent).

type Str<'a> = Option<Cow<'a, str>>;

#[derive(Deserialize)]
struct WirePod<'a> {
    #[serde(default, borrow)]
    metadata: WireMeta<'a>,
    #[serde(borrow)]
    spec: Option<WireSpec<'a>>,
    status: Option<WireStatus>,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase")]
struct WireMeta<'a> {
    #[serde(borrow)]
    name: Str<'a>,
    #[serde(borrow)]
    namespace: Str<'a>,
    #[serde(borrow)]
    uid: Str<'a>,
    resource_version: Option<String>,
    #[serde(borrow)]
    owner_references: Option<Vec<WireOwner<'a>>>,
}

#[derive(Deserialize)]
struct WireOwner<'a> {
    #[serde(borrow)]
    kind: Str<'a>,
    #[serde(borrow)]
    name: Str<'a>,
    controller: Option<bool>,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase")]
struct WireSpec<'a> {
    #[serde(borrow)]
    node_name: Str<'a>,
    priority: Option<i32>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct WireStatus {
    start_time: Option<Time>,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pod(json: serde_json::Value) -> (WorkloadWire, WorkloadWire) {
        let bytes = serde_json::to_vec(&json).unwrap();
        (WorkloadWire::from_json(&bytes).unwrap(), WorkloadWire::from_pod(&serde_json::from_slice::<Pod>(&bytes).unwrap()))
    }

    /// The decode gives what the k8s-openapi conversion gives: a ReplicaSet's pod, a bare
    /// pod, a pod not bound yet, and a DaemonSet's pod (none: the pod watch has it).
    #[test]
    fn the_decode_equals_the_conversion() {
        let meta = |owner: Option<(&str, &str)>| {
            let mut m = serde_json::json!({"name": "web-7d9f-x2b4q", "namespace": "shop", "uid": "0b6e0000-0000-4000-8000-000000000001", "resourceVersion": "42"});
            if let Some((kind, name)) = owner {
                m["ownerReferences"] =
                    serde_json::json!([{"apiVersion": "v1", "kind": kind, "name": name, "uid": "u", "controller": true}]);
            }
            m
        };
        let spec = serde_json::json!({"nodeName": "n1", "priority": 1000, "containers": [{"name": "c", "image": "i"}]});
        let status = serde_json::json!({"phase": "Running", "startTime": "2026-03-01T12:00:00Z"});
        let cases = [
            serde_json::json!({"metadata": meta(Some(("ReplicaSet", "web-7d9f"))), "spec": spec, "status": status}),
            serde_json::json!({"metadata": meta(None), "spec": spec, "status": status}),
            serde_json::json!({"metadata": meta(Some(("Job", "once"))), "spec": {"containers": []}}),
            serde_json::json!({"metadata": meta(Some(("DaemonSet", "agent"))), "spec": spec, "status": status}),
        ];
        for c in cases {
            let (wire, openapi) = pod(c.clone());
            assert_eq!(wire.info, openapi.info, "{c}");
            assert_eq!((wire.uid(), wire.meta.resource_version.as_deref()), (openapi.uid(), Some("42")));
        }
        let (rs, _) = pod(serde_json::json!({"metadata": meta(Some(("ReplicaSet", "web-7d9f"))), "spec": spec, "status": status}));
        let info = rs.info.unwrap();
        assert_eq!((info.node.as_deref(), info.owner_name.as_str(), info.priority), (Some("n1"), "web-7d9f", 1000));
        assert!(pod(serde_json::json!({"metadata": meta(Some(("DaemonSet", "agent")))})).0.info.is_none());
    }
}

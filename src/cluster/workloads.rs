//! The workload pods watch: pods no DaemonSet controls, for the joins' early-workload
//! check. The server cannot narrow a watch to "pods on nodes younger than 6 h", so every
//! pod of the cluster is read once (list, then each change) and converted to a
//! [`WorkloadInfo`] of a few fields; the model keeps only those on nodes in the window
//! (`model::joins::track`), so memory follows the joining nodes, not the cluster. It is
//! started only by the front ends that report joins.
//!
//! May import: `model`, `k8s`.

use std::borrow::Cow;

use k8s_openapi::api::core::v1::Pod;
use kube::api::ObjectMeta;
use serde::Deserialize;

use crate::model::joins::WorkloadInfo;

/// A pod as the workload watch decodes it: only what [`WorkloadInfo`] keeps, and the
/// uid and resourceVersion the list-then-watch loop reads.
#[derive(Debug, Clone)]
pub struct WorkloadWire {
    meta: ObjectMeta,
    pub info: Option<WorkloadInfo>,
}

impl WorkloadWire {
    pub fn uid(&self) -> &str {
        self.meta.uid.as_deref().unwrap_or_default()
    }
}

impl<'de> Deserialize<'de> for WorkloadWire {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let p = Pod::deserialize(d)?;
        let meta =
            ObjectMeta { uid: p.metadata.uid.clone(), resource_version: p.metadata.resource_version.clone(), ..ObjectMeta::default() };
        Ok(WorkloadWire { meta, info: WorkloadInfo::from_pod(&p) })
    }
}

impl kube::Resource for WorkloadWire {
    type DynamicType = ();
    type Scope = k8s_openapi::NamespaceResourceScope;

    fn kind(_: &()) -> Cow<'_, str> {
        <Pod as k8s_openapi::Resource>::KIND.into()
    }
    fn group(_: &()) -> Cow<'_, str> {
        <Pod as k8s_openapi::Resource>::GROUP.into()
    }
    fn version(_: &()) -> Cow<'_, str> {
        <Pod as k8s_openapi::Resource>::VERSION.into()
    }
    fn plural(_: &()) -> Cow<'_, str> {
        <Pod as k8s_openapi::Resource>::URL_PATH_SEGMENT.into()
    }
    fn meta(&self) -> &ObjectMeta {
        &self.meta
    }
    fn meta_mut(&mut self) -> &mut ObjectMeta {
        &mut self.meta
    }
}

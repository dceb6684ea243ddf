//! Which Rust type stores each [`Kind`], in which table of the store, with the field
//! selectors each supports beyond the metadata ones; and `with_kind!`, which binds the
//! type of a `Kind` known only at run time.
//!
//! May import: `sim::store`, `sim::kind`. (Not imported by `store`: the store knows kinds
//! only through the `SimObject` trait.)

use std::collections::BTreeMap;
use std::sync::Arc;

use crate::sim::kind::Kind;
use crate::sim::store::{Inner, Key, SimObject};

macro_rules! sim_object {
    ($t:ty, $kind:expr, $field:ident, |$o:ident, $f:ident| $body:expr) => {
        impl SimObject for $t {
            const SIM_KIND: Kind = $kind;
            fn table(inner: &Inner) -> &BTreeMap<Key, Arc<Self>> {
                &inner.$field
            }
            fn table_mut(inner: &mut Inner) -> &mut BTreeMap<Key, Arc<Self>> {
                &mut inner.$field
            }
            fn field(&self, $f: &str) -> Option<String> {
                let $o = self;
                $body
            }
        }
    };
}

use k8s_openapi::api::apps::v1 as apps;
use k8s_openapi::api::core::v1 as core;

sim_object!(core::Namespace, Kind::Namespace, namespaces, |o, f| match f {
    "status.phase" => Some(o.status.as_ref().and_then(|s| s.phase.clone()).unwrap_or_default()),
    _ => None,
});
sim_object!(core::Node, Kind::Node, nodes, |o, f| match f {
    "spec.unschedulable" => Some(o.spec.as_ref().and_then(|s| s.unschedulable).unwrap_or(false).to_string()),
    _ => None,
});
sim_object!(core::Pod, Kind::Pod, pods, |o, f| {
    let spec = o.spec.as_ref();
    let status = o.status.as_ref();
    Some(match f {
        "spec.nodeName" => spec.and_then(|s| s.node_name.clone()).unwrap_or_default(),
        "spec.restartPolicy" => spec.and_then(|s| s.restart_policy.clone()).unwrap_or_default(),
        "spec.schedulerName" => spec.and_then(|s| s.scheduler_name.clone()).unwrap_or_default(),
        "spec.serviceAccountName" => spec.and_then(|s| s.service_account_name.clone()).unwrap_or_default(),
        "spec.hostNetwork" => spec.and_then(|s| s.host_network).unwrap_or(false).to_string(),
        "status.phase" => status.and_then(|s| s.phase.clone()).unwrap_or_default(),
        "status.podIP" | "status.podIPs" => status.and_then(|s| s.pod_ip.clone()).unwrap_or_default(),
        "status.nominatedNodeName" => status.and_then(|s| s.nominated_node_name.clone()).unwrap_or_default(),
        _ => return None,
    })
});
sim_object!(core::Event, Kind::Event, events, |o, f| {
    let io = &o.involved_object;
    Some(match f {
        "involvedObject.kind" => io.kind.clone().unwrap_or_default(),
        "involvedObject.namespace" => io.namespace.clone().unwrap_or_default(),
        "involvedObject.name" => io.name.clone().unwrap_or_default(),
        "involvedObject.uid" => io.uid.clone().unwrap_or_default(),
        "involvedObject.apiVersion" => io.api_version.clone().unwrap_or_default(),
        "involvedObject.resourceVersion" => io.resource_version.clone().unwrap_or_default(),
        "involvedObject.fieldPath" => io.field_path.clone().unwrap_or_default(),
        "reason" => o.reason.clone().unwrap_or_default(),
        "reportingComponent" => o.reporting_component.clone().unwrap_or_default(),
        "source" => o.source.as_ref().and_then(|s| s.component.clone()).unwrap_or_default(),
        "type" => o.type_.clone().unwrap_or_default(),
        _ => return None,
    })
});
sim_object!(core::Service, Kind::Service, services, |o, f| match f {
    "spec.clusterIP" => Some(o.spec.as_ref().and_then(|s| s.cluster_ip.clone()).unwrap_or_default()),
    "spec.type" => Some(o.spec.as_ref().and_then(|s| s.type_.clone()).unwrap_or_default()),
    _ => None,
});
sim_object!(apps::DaemonSet, Kind::DaemonSet, daemonsets, |_o, _f| None);
sim_object!(apps::ControllerRevision, Kind::ControllerRevision, revisions, |_o, _f| None);
sim_object!(k8s_openapi::api::scheduling::v1::PriorityClass, Kind::PriorityClass, priority_classes, |_o, _f| None);
sim_object!(k8s_openapi::api::policy::v1::PodDisruptionBudget, Kind::PodDisruptionBudget, pdbs, |_o, _f| None);
sim_object!(apps::ReplicaSet, Kind::ReplicaSet, replicasets, |_o, _f| None);
sim_object!(k8s_openapi::api::coordination::v1::Lease, Kind::Lease, leases, |_o, _f| None);
sim_object!(apps::Deployment, Kind::Deployment, deployments, |_o, _f| None);

/// Field value for a selector, including the metadata fields every kind supports.
pub fn field_value<T: SimObject>(o: &T, field: &str) -> Option<String> {
    match field {
        "metadata.name" => Some(o.metadata().name.clone().unwrap_or_default()),
        "metadata.namespace" if T::SIM_KIND.info().namespaced => Some(o.metadata().namespace.clone().unwrap_or_default()),
        _ => o.field(field),
    }
}

/// Calls `$body` with the type alias `$T` bound to the Rust type of `$kind`.
macro_rules! with_kind {
    ($kind:expr, $T:ident => $body:expr) => {{
        use $crate::sim::kind::Kind as __K;
        match $kind {
            __K::Namespace => {
                type $T = k8s_openapi::api::core::v1::Namespace;
                $body
            }
            __K::Node => {
                type $T = k8s_openapi::api::core::v1::Node;
                $body
            }
            __K::Pod => {
                type $T = k8s_openapi::api::core::v1::Pod;
                $body
            }
            __K::Event => {
                type $T = k8s_openapi::api::core::v1::Event;
                $body
            }
            __K::Service => {
                type $T = k8s_openapi::api::core::v1::Service;
                $body
            }
            __K::DaemonSet => {
                type $T = k8s_openapi::api::apps::v1::DaemonSet;
                $body
            }
            __K::ControllerRevision => {
                type $T = k8s_openapi::api::apps::v1::ControllerRevision;
                $body
            }
            __K::PriorityClass => {
                type $T = k8s_openapi::api::scheduling::v1::PriorityClass;
                $body
            }
            __K::PodDisruptionBudget => {
                type $T = k8s_openapi::api::policy::v1::PodDisruptionBudget;
                $body
            }
            __K::ReplicaSet => {
                type $T = k8s_openapi::api::apps::v1::ReplicaSet;
                $body
            }
            __K::Lease => {
                type $T = k8s_openapi::api::coordination::v1::Lease;
                $body
            }
            __K::Deployment => {
                type $T = k8s_openapi::api::apps::v1::Deployment;
                $body
            }
        }
    }};
}

pub(crate) use with_kind;

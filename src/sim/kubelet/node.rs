//! The node half of the fake kubelet: the conditions, addresses, system info and
//! capacity it reports for a node, steered by the `node-state` annotation, and whether
//! the kubelet is alive enough to act on its pods.
//!
//! May import: `sim::kubelet::settings`.

use jiff::Timestamp;
use k8s_openapi::api::core::v1 as core;
use k8s_openapi::apimachinery::pkg::api::resource::Quantity;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;

use super::settings::{KubeletSettings, NODE_STATE, READY_AFTER, parse_duration};
use crate::k8s::scenario::node_state::{DISK_PRESSURE, MEMORY_PRESSURE, NETWORK_UNAVAILABLE, NOT_READY, PID_PRESSURE, UNREACHABLE};

fn node_states(node: &core::Node) -> Vec<String> {
    node.metadata
        .annotations
        .as_ref()
        .and_then(|a| a.get(NODE_STATE))
        .map(|s| s.split(',').map(|x| x.trim().to_string()).filter(|x| !x.is_empty()).collect())
        .unwrap_or_default()
}

/// When a joining node's kubelet first reports Ready: its `ready-after` annotation after
/// its creationTimestamp. None for a node without the annotation (Ready at once).
pub fn ready_at(node: &core::Node) -> Option<Timestamp> {
    let after = node.metadata.annotations.as_ref()?.get(READY_AFTER).and_then(|d| parse_duration(d))?;
    let created = node.metadata.creation_timestamp.as_ref()?.0;
    Some(created + jiff::SignedDuration::try_from(after).unwrap_or_default())
}

/// Whether the kubelet on this node is alive enough to act on its pods.
pub fn kubelet_alive(node: &core::Node) -> bool {
    let st = node_states(node);
    !st.iter().any(|s| s == NOT_READY || s == UNREACHABLE)
}

fn condition(ty: &str, status: &str, reason: &str, message: &str, now: &Time, prev: Option<&core::NodeCondition>) -> core::NodeCondition {
    let unchanged = prev.is_some_and(|p| p.status == status);
    core::NodeCondition {
        type_: ty.into(),
        status: status.into(),
        reason: Some(reason.into()),
        message: Some(message.into()),
        last_heartbeat_time: prev.filter(|_| unchanged).and_then(|p| p.last_heartbeat_time.clone()).or(Some(now.clone())),
        last_transition_time: prev.filter(|_| unchanged).and_then(|p| p.last_transition_time.clone()).or(Some(now.clone())),
    }
}

/// The node status a kubelet would report, or None if nothing changed.
pub fn node_status(node: &core::Node, settings: &KubeletSettings, now: Timestamp) -> Option<core::NodeStatus> {
    let cur = node.status.clone().unwrap_or_default();
    let mut st = cur.clone();
    let now_t = Time(now);
    let states = node_states(node);
    let has = |s: &str| states.iter().any(|x| x == s);
    let prev = |ty: &str| cur.conditions.as_ref().and_then(|c| c.iter().find(|c| c.type_ == ty)).cloned();
    let unreachable = has(UNREACHABLE);
    let mut conds = Vec::new();
    for (ty, on, reason_on, msg_on, reason_off, msg_off) in [
        (
            "MemoryPressure",
            has(MEMORY_PRESSURE),
            "KubeletHasInsufficientMemory",
            "kubelet has insufficient memory available",
            "KubeletHasSufficientMemory",
            "kubelet has sufficient memory available",
        ),
        (
            "DiskPressure",
            has(DISK_PRESSURE),
            "KubeletHasDiskPressure",
            "kubelet has disk pressure",
            "KubeletHasNoDiskPressure",
            "kubelet has no disk pressure",
        ),
        (
            "PIDPressure",
            has(PID_PRESSURE),
            "KubeletHasInsufficientPID",
            "kubelet has insufficient PID available",
            "KubeletHasSufficientPID",
            "kubelet has sufficient PID available",
        ),
    ] {
        let p = prev(ty);
        conds.push(if unreachable {
            condition(ty, "Unknown", "NodeStatusUnknown", "Kubelet stopped posting node status.", &now_t, p.as_ref())
        } else if on {
            condition(ty, "True", reason_on, msg_on, &now_t, p.as_ref())
        } else {
            condition(ty, "False", reason_off, msg_off, &now_t, p.as_ref())
        });
    }
    let p = prev("Ready");
    conds.push(if unreachable {
        condition("Ready", "Unknown", "NodeStatusUnknown", "Kubelet stopped posting node status.", &now_t, p.as_ref())
    } else if has(NOT_READY) || ready_at(node).is_some_and(|t| now < t) {
        // Until then a joining node's kubelet reports the runtime network not ready
        // (`pkg/kubelet/kubelet_node_status.go` `setNodeReadyCondition` takes the runtime's
        // NetworkReady=false as NotReady).
        condition("Ready", "False", "KubeletNotReady", "container runtime network not ready: NetworkReady=false reason:NetworkPluginNotReady message:Network plugin returns error: cni plugin not initialized", &now_t, p.as_ref())
    } else {
        condition("Ready", "True", "KubeletReady", "kubelet is posting ready status", &now_t, p.as_ref())
    });
    if has(NETWORK_UNAVAILABLE) || prev("NetworkUnavailable").is_some() {
        let p = prev("NetworkUnavailable");
        conds.insert(
            0,
            if has(NETWORK_UNAVAILABLE) {
                condition("NetworkUnavailable", "True", "NoRouteCreated", "Node created without a route", &now_t, p.as_ref())
            } else {
                condition("NetworkUnavailable", "False", "RouteCreated", "RouteController created a route", &now_t, p.as_ref())
            },
        );
    }
    st.conditions = Some(conds);
    let name = node.metadata.name.clone().unwrap_or_default();
    if st.addresses.is_none() {
        st.addresses = Some(vec![
            core::NodeAddress { type_: "InternalIP".into(), address: internal_ip(&name) },
            core::NodeAddress { type_: "Hostname".into(), address: name.clone() },
        ]);
    }
    if st.node_info.is_none() {
        let arch = node.metadata.labels.as_ref().and_then(|l| l.get("kubernetes.io/arch")).cloned().unwrap_or_else(|| "amd64".into());
        st.node_info = Some(core::NodeSystemInfo {
            architecture: arch,
            boot_id: format!("boot-{name}"),
            container_runtime_version: "containerd://1.7.24".into(),
            kernel_version: "6.1.0-28-cloud-amd64".into(),
            kube_proxy_version: settings.kubelet_version.clone(),
            kubelet_version: settings.kubelet_version.clone(),
            machine_id: format!("{:032x}", name.len()),
            operating_system: "linux".into(),
            os_image: "Debian GNU/Linux 12 (bookworm)".into(),
            system_uuid: format!("sim-{name}"),
            swap: None,
        });
    }
    if st.capacity.is_none() {
        let cap: std::collections::BTreeMap<String, Quantity> =
            [("cpu", "8"), ("memory", "32863412Ki"), ("pods", "110"), ("ephemeral-storage", "102625208Ki")]
                .iter()
                .map(|(k, v)| (k.to_string(), Quantity(v.to_string())))
                .collect();
        st.allocatable = Some(cap.clone());
        st.capacity = Some(cap);
    }
    st.daemon_endpoints.get_or_insert(core::NodeDaemonEndpoints { kubelet_endpoint: Some(core::DaemonEndpoint { port: 10250 }) });
    (st != cur).then_some(st)
}

/// The InternalIP the kubelet reports for a node of this name.
pub fn internal_ip(name: &str) -> String {
    let h = name.bytes().fold(0u32, |a, b| a.wrapping_mul(31).wrapping_add(b as u32));
    format!("10.{}.{}.{}", 10 + (h % 4), (h >> 8) % 256, 2 + (h >> 16) % 250)
}

pub fn node_ip(node: &core::Node) -> String {
    node.status
        .as_ref()
        .and_then(|s| s.addresses.as_ref())
        .and_then(|a| a.iter().find(|a| a.type_ == "InternalIP"))
        .map(|a| a.address.clone())
        .unwrap_or_default()
}

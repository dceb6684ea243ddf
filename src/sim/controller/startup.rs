//! Startup taints a daemon takes off its own node: once the daemon's pod on a node is
//! Ready, the taint its `sim.daemonscope.io/removes-taint` annotation names
//! (`key[=value]:Effect`) is removed from that node — as cilium-operator removes
//! `node.cilium.io/agent-not-ready` from a node once the Cilium agent pod there is Ready
//! (`operator/watchers/node_taint.go`, `--remove-cilium-node-taints`). A daemon without
//! the annotation leaves its node's startup taints alone: a taint nobody removes stays.
//!
//! May import: `sim::kubelet`, `sim::store`, `k8s::taints`.

use std::collections::HashSet;

use k8s_openapi::api::core::v1 as core;

use crate::k8s::taints::{TaintChange, parse_taint_changes};
use crate::sim::kubelet::REMOVES_TAINT;
use crate::sim::store::Store;

/// The taint (key, effect) an annotation value names, if it is one taint to add.
pub fn startup_taint(spec: &str) -> Option<core::Taint> {
    match parse_taint_changes(spec).ok()?.as_slice() {
        [TaintChange::Add(t)] => Some(core::Taint {
            key: t.key.clone(),
            value: (!t.value.is_empty()).then(|| t.value.clone()),
            effect: t.effect.clone(),
            time_added: None,
        }),
        _ => None,
    }
}

/// Removes each Ready daemon's startup taint from its node.
pub fn sync(store: &Store) {
    let (nodes, _) = store.list::<core::Node>(None);
    // (node, key, effect) of every taint there is, to skip the pods at once when no node
    // has a taint a daemon could remove.
    let present: HashSet<(String, String, String)> = nodes
        .iter()
        .flat_map(|n| {
            let name = n.metadata.name.clone().unwrap_or_default();
            n.spec.iter().flat_map(|s| s.taints.iter().flatten()).map(move |t| (name.clone(), t.key.clone(), t.effect.clone()))
        })
        .collect();
    if present.is_empty() {
        return;
    }
    let (pods, _) = store.list::<core::Pod>(None);
    for p in pods {
        let Some(taint) = p.metadata.annotations.as_ref().and_then(|a| a.get(REMOVES_TAINT)).and_then(|s| startup_taint(s)) else {
            continue;
        };
        let Some(node) = p.spec.as_ref().and_then(|s| s.node_name.clone()) else { continue };
        let ready = p.status.iter().flat_map(|s| s.conditions.iter().flatten()).any(|c| c.type_ == "Ready" && c.status == "True");
        if !ready || p.metadata.deletion_timestamp.is_some() || !present.contains(&(node.clone(), taint.key.clone(), taint.effect.clone()))
        {
            continue;
        }
        let _ = store.modify::<core::Node>("", &node, |n| {
            let Some(taints) = n.spec.as_mut().and_then(|s| s.taints.as_mut()) else { return false };
            let before = taints.len();
            taints.retain(|t| !(t.key == taint.key && t.effect == taint.effect));
            let changed = taints.len() != before;
            if taints.is_empty() {
                n.spec.as_mut().expect("had taints").taints = None;
            }
            changed
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn annotation_names_one_taint() {
        let t = startup_taint("node.cilium.io/agent-not-ready=true:NoSchedule").unwrap();
        assert_eq!((t.key.as_str(), t.value.as_deref(), t.effect.as_str()), ("node.cilium.io/agent-not-ready", Some("true"), "NoSchedule"));
        assert_eq!(startup_taint("example.com/gpu-not-ready:NoExecute").unwrap().value, None);
        assert!(startup_taint("no-effect").is_none() && startup_taint("a:NoSchedule b:NoSchedule").is_none());
    }
}

//! Nodes joining as a cloud adds them (cluster-autoscaler, Karpenter, a managed node
//! group scaling up): a timeline `join:` step, or `sim --join-every 20s`, creates a Node
//! that registers NotReady and turns Ready `readyAfter` later (the kubelet half is
//! `kubelet::ready_at`), carrying its startup taints:
//! - `node.kubernetes.io/not-ready:NoSchedule`, which the NodeTaint admission plugin puts
//!   on every new Node (`plugin/pkg/admission/nodetaint/admission.go`) and node-lifecycle
//!   takes off once the node is Ready (`pkg/controller/nodelifecycle`,
//!   `doNoScheduleTaintingPass`);
//! - the taint of every DaemonSet whose pods remove one (`sim.daemonscope.io/removes-taint`
//!   on the template; `controller::startup` removes it once the pod is Ready), as a
//!   node template lists Cilium's `node.cilium.io/agent-not-ready` (Karpenter's
//!   `startupTaints`);
//! - the step's own `taints` (`--join-taint`), which nothing removes unless a daemon does.
//!
//! A joined node copies the pool, zone and instance-type labels of the cluster's first
//! worker node (by name), so it joins that pool. Nodes loaded from a scenario get none
//! of this: they are created Ready, as already-running nodes.
//!
//! May import: `sim::controller::startup`, `sim::kubelet`, `sim::store`.

use k8s_openapi::api::apps::v1 as apps;
use k8s_openapi::api::core::v1 as core;
use serde::Deserialize;
use serde_json::{Value, json};
use std::collections::BTreeMap;

use super::controller::startup::startup_taint;
use super::kubelet::{READY_AFTER, REMOVES_TAINT};
use super::store::Store;

/// How long a joined node stays NotReady unless the step says otherwise.
pub const DEFAULT_READY_AFTER: &str = "10s";

/// A `join:` step (every field optional).
#[derive(Debug, Clone, Default, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct JoinSpec {
    /// The node's name (default: `join-N`, the first N free).
    #[serde(default)]
    pub name: Option<String>,
    /// Labels over those copied from the first worker node.
    #[serde(default)]
    pub labels: BTreeMap<String, String>,
    /// Startup taints besides the not-ready one and the daemons' (`key[=value]:Effect`).
    #[serde(default)]
    pub taints: Vec<String>,
    /// NotReady for this long after creation (default 10s).
    #[serde(default)]
    pub ready_after: Option<String>,
    /// Annotations of the node (`sim.daemonscope.io/pod-behavior`, …).
    #[serde(default)]
    pub annotations: BTreeMap<String, String>,
}

impl JoinSpec {
    /// The step's problems in words (a taint that does not parse, a bad duration).
    pub fn check(&self) -> Result<(), String> {
        for t in &self.taints {
            if startup_taint(t).is_none() {
                return Err(format!("join.taints: {t:?} is not one taint key[=value]:Effect"));
            }
        }
        if let Some(d) = &self.ready_after
            && super::kubelet::parse_duration(d).is_none()
        {
            return Err(format!("join.readyAfter: invalid duration {d:?} (use 20s, 1m30s)"));
        }
        Ok(())
    }
}

/// Labels a joined node copies from the pool it joins (not its identity).
fn pool_labels(store: &Store) -> BTreeMap<String, String> {
    let (nodes, _) = store.list::<core::Node>(None);
    let worker = nodes
        .iter()
        .filter(|n| n.metadata.labels.as_ref().is_none_or(|l| !l.keys().any(|k| k.starts_with("node-role.kubernetes.io/control-plane"))))
        .min_by(|a, b| a.metadata.name.cmp(&b.metadata.name));
    let skip = |k: &str| k == "kubernetes.io/hostname" || k.starts_with("node-role.kubernetes.io/") || k.contains("nodename");
    worker.and_then(|n| n.metadata.labels.clone()).unwrap_or_default().into_iter().filter(|(k, _)| !skip(k)).collect()
}

/// The taints the daemons in the store remove once Ready (from their pod templates).
fn daemon_taints(store: &Store) -> Vec<core::Taint> {
    let (dss, _) = store.list::<apps::DaemonSet>(None);
    let mut out: Vec<core::Taint> = Vec::new();
    for d in dss {
        let ann = d.spec.as_ref().and_then(|s| s.template.metadata.as_ref()).and_then(|m| m.annotations.as_ref());
        if let Some(t) = ann.and_then(|a| a.get(REMOVES_TAINT)).and_then(|s| startup_taint(s))
            && !out.iter().any(|o| o.key == t.key && o.effect == t.effect)
        {
            out.push(t);
        }
    }
    out
}

/// The Node a join creates, as JSON (`create_value` then stores it as a `POST` would).
pub fn node_value(store: &Store, spec: &JoinSpec) -> Value {
    let name = spec
        .name
        .clone()
        .unwrap_or_else(|| (1..).map(|i| format!("join-{i}")).find(|n| store.get::<core::Node>("", n).is_none()).expect("a free name"));
    let mut labels = pool_labels(store);
    labels.extend(spec.labels.clone());
    let mut taints =
        vec![core::Taint { key: "node.kubernetes.io/not-ready".into(), effect: "NoSchedule".into(), value: None, time_added: None }];
    for t in daemon_taints(store).into_iter().chain(spec.taints.iter().filter_map(|s| startup_taint(s))) {
        if !taints.iter().any(|o| o.key == t.key && o.effect == t.effect) {
            taints.push(t);
        }
    }
    let mut annotations = spec.annotations.clone();
    annotations.insert(READY_AFTER.into(), spec.ready_after.clone().unwrap_or_else(|| DEFAULT_READY_AFTER.into()));
    json!({
        "apiVersion": "v1",
        "kind": "Node",
        "metadata": {"name": name, "labels": labels, "annotations": annotations},
        "spec": {"taints": taints},
    })
}

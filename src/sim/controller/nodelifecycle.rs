//! Node lifecycle: node conditions and `spec.unschedulable` become taints
//! (`nodeConditionToTaintKeyStatusMap`, `doNoScheduleTaintingPass`), and pods that do
//! not tolerate a NoExecute taint are evicted, honouring `tolerationSeconds`.
//!
//! May import: `sim::controller::events`, `sim::ops`, `sim::store`, `k8s::eligibility`, `k8s::taints`.

use std::collections::HashMap;

use jiff::{SignedDuration, Timestamp};
use k8s_openapi::api::core::v1 as core;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;

use super::events;
use crate::k8s::eligibility::{LIFECYCLE_TAINTS, Taint, Toleration};
use crate::k8s::taints::{self, Eviction};
use crate::sim::ops::graceful_delete_pod;
use crate::sim::store::Store;

/// The taints this controller manages.
const MANAGED: &[&str] = &LIFECYCLE_TAINTS;
/// The taints node-lifecycle wants on a node: (key, effect).
pub fn wanted_taints(n: &core::Node) -> Vec<(&'static str, &'static str)> {
    let mut out = Vec::new();
    let cond = |ty: &str| {
        n.status.as_ref().and_then(|s| s.conditions.as_ref()).and_then(|c| c.iter().find(|c| c.type_ == ty)).map(|c| c.status.clone())
    };
    match cond("Ready").as_deref() {
        Some("False") => {
            out.push(("node.kubernetes.io/not-ready", "NoSchedule"));
            out.push(("node.kubernetes.io/not-ready", "NoExecute"));
        }
        Some("Unknown") => {
            out.push(("node.kubernetes.io/unreachable", "NoSchedule"));
            out.push(("node.kubernetes.io/unreachable", "NoExecute"));
        }
        _ => {}
    }
    for (ty, key) in [
        ("MemoryPressure", "node.kubernetes.io/memory-pressure"),
        ("DiskPressure", "node.kubernetes.io/disk-pressure"),
        ("PIDPressure", "node.kubernetes.io/pid-pressure"),
        ("NetworkUnavailable", "node.kubernetes.io/network-unavailable"),
    ] {
        if cond(ty).as_deref() == Some("True") {
            out.push((key, "NoSchedule"));
        }
    }
    if n.spec.as_ref().and_then(|s| s.unschedulable).unwrap_or(false) {
        out.push(("node.kubernetes.io/unschedulable", "NoSchedule"));
    }
    out
}

/// Condition and cordon taints, pods on down nodes not Ready, then taint eviction.
pub fn sync(store: &Store, eviction: &mut TaintEviction, now: Timestamp, record: bool) {
    let (nodes, _) = store.list::<core::Node>(None);
    for n in &nodes {
        let want = wanted_taints(n);
        let cur: Vec<core::Taint> = n.spec.as_ref().and_then(|s| s.taints.clone()).unwrap_or_default();
        let managed_now: Vec<(&str, &str)> =
            cur.iter().filter(|t| MANAGED.contains(&t.key.as_str())).map(|t| (t.key.as_str(), t.effect.as_str())).collect();
        let same = managed_now.len() == want.len() && want.iter().all(|w| managed_now.contains(w));
        if same {
            continue;
        }
        let name = n.metadata.name.clone().unwrap_or_default();
        let _ = store.modify::<core::Node>("", &name, |node| {
            let spec = node.spec.get_or_insert_with(Default::default);
            let mut taints: Vec<core::Taint> = spec.taints.clone().unwrap_or_default();
            taints.retain(|t| !MANAGED.contains(&t.key.as_str()) || want.contains(&(t.key.as_str(), t.effect.as_str())));
            for (k, e) in &want {
                if !taints.iter().any(|t| t.key == *k && t.effect == *e) {
                    taints.push(core::Taint {
                        key: k.to_string(),
                        effect: e.to_string(),
                        value: None,
                        time_added: (*e == "NoExecute").then_some(Time(now)),
                    });
                }
            }
            spec.taints = if taints.is_empty() { None } else { Some(taints) };
            true
        });
    }
    let (nodes, _) = store.list::<core::Node>(None);
    mark_pods_not_ready(store, &nodes, now);
    eviction.sync(store, &nodes, now, record);
}

/// `MarkPodsNotReady`: pods on a node whose Ready condition is not True lose their
/// Ready condition (their kubelet can no longer vouch for them).
fn mark_pods_not_ready(store: &Store, nodes: &[std::sync::Arc<core::Node>], now: Timestamp) {
    let down: std::collections::HashSet<String> = nodes
        .iter()
        .filter(|n| {
            let ready = n.status.as_ref().and_then(|s| s.conditions.as_ref()).and_then(|c| c.iter().find(|c| c.type_ == "Ready"));
            ready.is_some_and(|c| c.status != "True")
        })
        .filter_map(|n| n.metadata.name.clone())
        .collect();
    if down.is_empty() {
        return;
    }
    let (pods, _) = store.list::<core::Pod>(None);
    for p in pods {
        let on_down = p.spec.as_ref().and_then(|s| s.node_name.as_ref()).is_some_and(|n| down.contains(n));
        let ready = p
            .status
            .as_ref()
            .and_then(|s| s.conditions.as_ref())
            .is_some_and(|c| c.iter().any(|c| c.type_ == "Ready" && c.status == "True"));
        if !on_down || !ready {
            continue;
        }
        let uid = p.metadata.uid.clone();
        let _ = store.modify::<core::Pod>(p.metadata.namespace.as_deref().unwrap_or(""), p.metadata.name.as_deref().unwrap_or(""), |o| {
            if o.metadata.uid != uid {
                return false;
            }
            for c in o.status.iter_mut().flat_map(|s| s.conditions.iter_mut().flatten()) {
                if c.type_ == "Ready" {
                    c.status = "False".into();
                    c.last_transition_time = Some(Time(now));
                }
            }
            true
        });
    }
}

/// The taint eviction controller (`pkg/controller/tainteviction`): when a pod on a node
/// with NoExecute taints goes is [`taints::eviction`] — the rule the TUI's taint preview
/// uses, so the two agree. An untolerated taint evicts at once; tolerations with
/// `tolerationSeconds` evict that long after the controller first saw the pod on the
/// tainted node (its eviction queue's `CreatedAt`), the shortest one winning; a
/// toleration for good cancels the countdown.
#[derive(Default)]
pub struct TaintEviction {
    /// Pods counting down, by uid: when the countdown started.
    started: HashMap<String, Timestamp>,
}

impl TaintEviction {
    pub fn sync(&mut self, store: &Store, nodes: &[std::sync::Arc<core::Node>], now: Timestamp, record: bool) {
        let noexec: HashMap<String, Vec<Taint>> = nodes
            .iter()
            .filter_map(|n| {
                let t: Vec<Taint> = n.spec.as_ref()?.taints.as_ref()?.iter().filter(|t| t.effect == "NoExecute").map(Taint::from).collect();
                (!t.is_empty()).then(|| (n.metadata.name.clone().unwrap_or_default(), t))
            })
            .collect();
        if noexec.is_empty() {
            self.started.clear();
            return;
        }
        let (pods, _) = store.list::<core::Pod>(None);
        let mut counting = HashMap::new();
        for p in pods {
            if p.metadata.deletion_timestamp.is_some() {
                continue;
            }
            let Some(taints) = p.spec.as_ref().and_then(|s| s.node_name.as_ref()).and_then(|n| noexec.get(n)) else {
                continue;
            };
            let tols: Vec<Toleration> =
                p.spec.as_ref().and_then(|s| s.tolerations.as_ref()).into_iter().flatten().map(Toleration::from).collect();
            let uid = p.metadata.uid.clone().unwrap_or_default();
            let evict = match taints::eviction(taints, &tols) {
                Eviction::Never => false,
                Eviction::Now => true,
                Eviction::After(secs) => {
                    let start = self.started.get(&uid).copied().unwrap_or(now);
                    counting.insert(uid.clone(), start);
                    now >= start + SignedDuration::from_secs(secs)
                }
            };
            if evict {
                counting.remove(&uid);
                let ns = p.metadata.namespace.clone().unwrap_or_default();
                let name = p.metadata.name.clone().unwrap_or_default();
                if graceful_delete_pod(store, &ns, &name, p.metadata.uid.as_deref()).is_ok() && record {
                    events::record(
                        store,
                        &*p,
                        "Normal",
                        "TaintManagerEviction",
                        format!("Marking for deletion Pod {ns}/{name}"),
                        "taint-eviction-controller",
                    );
                }
            }
        }
        // Pods gone, tolerated for good or off the tainted nodes stop counting.
        self.started = counting;
    }
}

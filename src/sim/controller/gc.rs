//! Garbage collection: dependents of deleted owners (ownerReferences, background
//! propagation); PodGC (`pkg/controller/podgc/gc_controller.go`): pods bound to nodes
//! that are gone (after a quarantine) and terminating pods on not-Ready nodes tainted
//! `node.kubernetes.io/out-of-service`, marked Failed and force-deleted; namespace
//! contents, and a cap on stored Events.
//!
//! May import: `sim::kind`, `sim::ops`, `sim::store`.

use std::collections::{HashMap, HashSet};

use jiff::Timestamp;
use k8s_openapi::api::apps::v1 as apps;
use k8s_openapi::api::core::v1 as core;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;

use crate::sim::ops::graceful_delete_pod;
use crate::sim::store::{SimObject, Store};
use crate::sim::typed::with_kind;
use k8s_openapi::Metadata as _;

fn all_uids(store: &Store) -> HashSet<String> {
    let mut uids = HashSet::new();
    // Owners in this cluster are DaemonSets, Nodes, Namespaces and Services; pods and
    // events own nothing, and skipping them keeps this cheap at 150,000 pods.
    for kind in crate::sim::kind::Kind::ALL {
        if matches!(kind, crate::sim::kind::Kind::Pod | crate::sim::kind::Kind::Event) {
            continue;
        }
        with_kind!(kind, T => {
            let (items, _) = store.list::<T>(None);
            uids.extend(items.iter().filter_map(|o| o.metadata().uid.clone()));
        });
    }
    uids
}

fn has_dangling_owner<T: SimObject>(o: &T, uids: &HashSet<String>) -> bool {
    let refs = o.metadata().owner_references.as_deref().unwrap_or(&[]);
    !refs.is_empty() && refs.iter().all(|r| !uids.contains(&r.uid))
}

/// PodGC's memory (`pkg/controller/podgc/gc_controller.go`): when it first saw each
/// node that pods are bound to but that does not exist (its `nodeQueue.AddAfter(node,
/// quarantineTime)`).
#[derive(Default)]
pub struct PodGc {
    missing_since: HashMap<String, Timestamp>,
}

const OUT_OF_SERVICE: &str = "node.kubernetes.io/out-of-service";

fn node_ready(n: &core::Node) -> bool {
    n.status
        .as_ref()
        .and_then(|s| s.conditions.as_ref())
        .and_then(|c| c.iter().find(|c| c.type_ == "Ready"))
        .is_some_and(|c| c.status == "True")
}

/// `markFailedAndDeletePodWithCondition`: a pod not yet terminal is patched to Failed
/// (with `condition`, if any), then deleted with grace period 0.
fn mark_failed_and_delete(store: &Store, p: &core::Pod, condition: Option<core::PodCondition>, now: Timestamp) {
    let ns = p.metadata.namespace.clone().unwrap_or_default();
    let name = p.metadata.name.clone().unwrap_or_default();
    let uid = p.metadata.uid.clone();
    let phase = p.status.as_ref().and_then(|s| s.phase.as_deref());
    if !matches!(phase, Some("Succeeded") | Some("Failed")) {
        let _ = store.modify::<core::Pod>(&ns, &name, |o| {
            if o.metadata.uid != uid {
                return false;
            }
            let st = o.status.get_or_insert_with(Default::default);
            st.phase = Some("Failed".into());
            if let Some(c) = &condition {
                let conds = st.conditions.get_or_insert_with(Vec::new);
                conds.retain(|x| x.type_ != c.type_);
                conds.push(core::PodCondition { last_transition_time: Some(Time(now)), ..c.clone() });
            }
            true
        });
    }
    let _ = store.remove::<core::Pod>(&ns, &name, uid.as_deref());
}

impl PodGc {
    /// One pass; `quarantine` and `max_events` are `ControlSettings::pod_gc_quarantine` and
    /// `max_events`. Besides owner GC (the garbage collector's background propagation),
    /// PodGC's `gcTerminating` and `gcOrphaned`.
    pub fn sync(&mut self, store: &Store, now: Timestamp, quarantine: std::time::Duration, max_events: usize) {
        let uids = all_uids(store);
        let (pods, _) = store.list::<core::Pod>(None);
        let (nodes, _) = store.list::<core::Node>(None);
        let by_name: HashMap<&str, &core::Node> = nodes.iter().filter_map(|n| Some((n.metadata.name.as_deref()?, &**n))).collect();
        let quarantine = jiff::SignedDuration::try_from(quarantine).unwrap_or_default();
        let mut missing = HashMap::new();
        for p in &pods {
            let ns = p.metadata.namespace.clone().unwrap_or_default();
            let name = p.metadata.name.clone().unwrap_or_default();
            if has_dangling_owner(&**p, &uids) && p.metadata.deletion_timestamp.is_none() {
                let _ = graceful_delete_pod(store, &ns, &name, p.metadata.uid.as_deref());
                continue;
            }
            let Some(n) = p.spec.as_ref().and_then(|s| s.node_name.as_deref()).filter(|n| !n.is_empty()) else { continue };
            match by_name.get(n) {
                // `gcTerminating`: a terminating pod on a node that is not Ready and
                // carries the out-of-service taint (any effect: `TaintKeyExists`) — its
                // kubelet will not finish the termination, the operator says so.
                Some(node) => {
                    let out_of_service =
                        node.spec.as_ref().and_then(|s| s.taints.as_ref()).is_some_and(|t| t.iter().any(|t| t.key == OUT_OF_SERVICE));
                    if p.metadata.deletion_timestamp.is_some() && !node_ready(node) && out_of_service {
                        mark_failed_and_delete(store, p, None, now);
                    }
                }
                // `gcOrphaned`: bound to a node that does not exist, once the node has been
                // missing for the quarantine (terminating or not).
                None => {
                    let since = *missing.entry(n.to_string()).or_insert_with(|| self.missing_since.get(n).copied().unwrap_or(now));
                    if now >= since + quarantine {
                        let gone = core::PodCondition {
                            type_: "DisruptionTarget".into(),
                            status: "True".into(),
                            reason: Some("DeletionByPodGC".into()),
                            message: Some("PodGC: node no longer exists".into()),
                            ..Default::default()
                        };
                        mark_failed_and_delete(store, p, Some(gone), now);
                    }
                }
            }
        }
        // A node that came back, or whose pods are gone, leaves the queue.
        self.missing_since = missing;
        let (revs, _) = store.list::<apps::ControllerRevision>(None);
        for r in revs.iter().filter(|r| has_dangling_owner(&***r, &uids)) {
            let _ = store.remove::<apps::ControllerRevision>(
                r.metadata.namespace.as_deref().unwrap_or(""),
                r.metadata.name.as_deref().unwrap_or(""),
                None,
            );
        }
        let (events, _) = store.list::<core::Event>(None);
        if events.len() > max_events {
            let mut evs = events;
            evs.sort_by_key(|e| e.metadata.creation_timestamp.as_ref().map(|t| t.0));
            let excess = evs.len() - max_events;
            for e in evs.into_iter().take(excess) {
                let _ = store.remove::<core::Event>(
                    e.metadata.namespace.as_deref().unwrap_or(""),
                    e.metadata.name.as_deref().unwrap_or(""),
                    None,
                );
            }
        }
    }
}

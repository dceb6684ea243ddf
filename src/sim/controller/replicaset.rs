//! The ReplicaSet controller (`pkg/controller/replicaset/replica_set.go`): keeps
//! `spec.replicas` active pods (not finished, not deleting) — creating the missing ones
//! unbound, for the scheduler to place (so a pod evicted by a drain comes back on another
//! schedulable node), deleting the extra ones (unscheduled, then not ready, then the
//! newest first, as `getPodsToDelete` ranks them) — and writes the status counts.
//!
//! May import: `sim::{store, ops, objects}`, `sim::controller::{events, daemonset::pods}`.

use std::collections::HashMap;
use std::sync::Arc;

use jiff::Timestamp;
use k8s_openapi::api::apps::v1::{ReplicaSet, ReplicaSetStatus};
use k8s_openapi::api::core::v1 as core;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{ObjectMeta, OwnerReference};

use super::daemonset::pods::{is_available, is_ready};
use super::events;
use crate::sim::objects::Strategy;
use crate::sim::store::Store;

const COMPONENT: &str = "replicaset-controller";
/// `BurstReplicas`: creations or deletions per ReplicaSet per pass.
const BURST: usize = 500;

fn active(p: &core::Pod) -> bool {
    let phase = p.status.as_ref().and_then(|s| s.phase.as_deref()).unwrap_or("");
    p.metadata.deletion_timestamp.is_none() && phase != "Succeeded" && phase != "Failed"
}

/// Pods by the uid of the ReplicaSet that controls them.
pub fn pods_by_replicaset(pods: &[Arc<core::Pod>]) -> HashMap<&str, Vec<&core::Pod>> {
    let mut out: HashMap<&str, Vec<&core::Pod>> = HashMap::new();
    for p in pods {
        if let Some(o) = p.metadata.owner_references.iter().flatten().find(|o| o.controller == Some(true) && o.kind == "ReplicaSet") {
            out.entry(o.uid.as_str()).or_default().push(p);
        }
    }
    out
}

fn new_pod(rs: &ReplicaSet) -> core::Pod {
    let tpl = rs.spec.as_ref().and_then(|s| s.template.clone()).unwrap_or_default();
    let tm = tpl.metadata.unwrap_or_default();
    let mut pod = core::Pod {
        metadata: ObjectMeta {
            generate_name: Some(format!("{}-", rs.metadata.name.clone().unwrap_or_default())),
            namespace: rs.metadata.namespace.clone(),
            labels: tm.labels,
            annotations: tm.annotations,
            owner_references: Some(vec![OwnerReference {
                api_version: "apps/v1".into(),
                kind: "ReplicaSet".into(),
                name: rs.metadata.name.clone().unwrap_or_default(),
                uid: rs.metadata.uid.clone().unwrap_or_default(),
                controller: Some(true),
                block_owner_deletion: Some(true),
            }]),
            ..Default::default()
        },
        spec: tpl.spec,
        status: None,
    };
    pod.prepare_create();
    pod
}

/// One pass over every ReplicaSet.
pub fn sync(store: &Store, now: Timestamp, record: bool) {
    let (sets, _) = store.list::<ReplicaSet>(None);
    if sets.is_empty() {
        return;
    }
    let (pods, _) = store.list::<core::Pod>(None);
    let owned = pods_by_replicaset(&pods);
    for rs in sets {
        if rs.metadata.deletion_timestamp.is_some() {
            continue;
        }
        let uid = rs.metadata.uid.as_deref().unwrap_or("");
        let mine: Vec<&core::Pod> = owned.get(uid).map(|v| v.iter().copied().filter(|p| active(p)).collect()).unwrap_or_default();
        let want = rs.spec.as_ref().and_then(|s| s.replicas).unwrap_or(1).max(0) as usize;
        if mine.len() < want {
            for _ in 0..(want - mine.len()).min(BURST) {
                let mut pod = new_pod(&rs);
                match pod.admit_create(store).and_then(|()| store.create(pod)) {
                    Ok(p) if record => {
                        let msg = format!("Created pod: {}", p.metadata.name.clone().unwrap_or_default());
                        events::record(store, &*rs, "Normal", "SuccessfulCreate", msg, COMPONENT);
                    }
                    Ok(_) => {}
                    Err(e) if record => {
                        events::record(store, &*rs, "Warning", "FailedCreate", format!("Error creating: {}", e.message), COMPONENT)
                    }
                    Err(_) => {}
                }
            }
        } else if mine.len() > want {
            let mut victims = mine.clone();
            // Unscheduled first, then not ready, then the newest.
            victims.sort_by_key(|p| {
                let bound = p.spec.as_ref().and_then(|s| s.node_name.as_deref()).is_some_and(|n| !n.is_empty());
                (bound, is_ready(p), std::cmp::Reverse(p.metadata.creation_timestamp.clone().map(|t| t.0)))
            });
            for p in victims.iter().take((mine.len() - want).min(BURST)) {
                let ns = p.metadata.namespace.clone().unwrap_or_default();
                let name = p.metadata.name.clone().unwrap_or_default();
                if crate::sim::ops::graceful_delete_pod(store, &ns, &name, p.metadata.uid.as_deref()).is_ok() && record {
                    events::record(store, &*rs, "Normal", "SuccessfulDelete", format!("Deleted pod: {name}"), COMPONENT);
                }
            }
        }
        let min_ready = rs.spec.as_ref().and_then(|s| s.min_ready_seconds).unwrap_or(0);
        let st = ReplicaSetStatus {
            replicas: mine.len() as i32,
            fully_labeled_replicas: Some(mine.len() as i32),
            ready_replicas: Some(mine.iter().filter(|p| is_ready(p)).count() as i32),
            available_replicas: Some(mine.iter().filter(|p| is_available(p, min_ready, now)).count() as i32),
            observed_generation: rs.metadata.generation,
            conditions: rs.status.as_ref().and_then(|s| s.conditions.clone()),
            terminating_replicas: None,
        };
        if rs.status.as_ref() != Some(&st) {
            let ns = rs.metadata.namespace.clone().unwrap_or_default();
            let name = rs.metadata.name.clone().unwrap_or_default();
            let _ = store.modify::<ReplicaSet>(&ns, &name, |o| {
                o.status = Some(st);
                true
            });
        }
    }
}

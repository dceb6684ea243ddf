//! The Deployment controller (`pkg/controller/deployment/`): each Deployment owns one
//! ReplicaSet per pod template, named `NAME-HASH` with the `pod-template-hash` label added
//! to its selector, template and labels (`sync.go` `getNewReplicaSet`); a rolling update
//! scales the new ReplicaSet up within `maxSurge` and the old ones down within
//! `maxUnavailable` (`rolling.go` `reconcileNewReplicaSet`, `reconcileOldReplicaSets`,
//! `deploymentutil.NewRSNewReplicas`, `ResolveFenceposts`), `Recreate` scales the old ones
//! to 0 and starts the new one once their pods are gone (`recreate.go`); the status and
//! its `Available`/`Progressing` conditions are written as `calculateStatus` and
//! `syncRolloutStatus` do, so `kubectl get`, `describe` and `rollout status` read them as
//! on a real cluster. The hash is an FNV-32a of the template, encoded as
//! `rand.SafeEncodeString` does: the same shape as the real one, not the same value (that
//! one hashes Go's in-memory form of the template). Old ReplicaSets are kept (not pruned to
//! `revisionHistoryLimit`); a paused Deployment, rollbacks and the progress deadline are
//! not simulated.
//!
//! May import: `sim::{store, objects}`, `sim::controller::{events, replicaset}`, `k8s::intstr`.

use std::collections::BTreeMap;
use std::sync::Arc;

use k8s_openapi::api::apps::v1::{Deployment, DeploymentCondition, DeploymentStatus, ReplicaSet, ReplicaSetSpec};
use k8s_openapi::api::core::v1 as core;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{ObjectMeta, OwnerReference, Time};
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;

use super::events;
use crate::sim::objects::Strategy;
use crate::sim::store::Store;

const COMPONENT: &str = "deployment-controller";
pub const HASH_LABEL: &str = "pod-template-hash";
const REVISION: &str = "deployment.kubernetes.io/revision";

/// `rand.SafeEncodeString` of the decimal FNV-32a of the template and collision count.
pub fn template_hash(tpl: &core::PodTemplateSpec, collisions: i32) -> String {
    let mut h: u32 = 0x811c_9dc5;
    let bytes = serde_json::to_vec(tpl).unwrap_or_default();
    for b in bytes.iter().chain(collisions.to_string().as_bytes()) {
        h ^= u32::from(*b);
        h = h.wrapping_mul(0x0100_0193);
    }
    const ALPHANUMS: &[u8] = b"bcdfghjklmnpqrstvwxz2456789";
    h.to_string().bytes().map(|b| ALPHANUMS[usize::from(b) % ALPHANUMS.len()] as char).collect()
}

/// The template without the hash label, to compare with the Deployment's (`EqualIgnoreHash`).
fn without_hash(tpl: &core::PodTemplateSpec) -> core::PodTemplateSpec {
    let mut t = tpl.clone();
    if let Some(l) = t.metadata.as_mut().and_then(|m| m.labels.as_mut()) {
        l.remove(HASH_LABEL);
    }
    t
}

fn spec_replicas(rs: &ReplicaSet) -> i32 {
    rs.spec.as_ref().and_then(|s| s.replicas).unwrap_or(1)
}

fn revision(rs: &ReplicaSet) -> i64 {
    rs.metadata.annotations.as_ref().and_then(|a| a.get(REVISION)).and_then(|r| r.parse().ok()).unwrap_or(0)
}

/// `ResolveFenceposts`: (maxSurge rounded up, maxUnavailable rounded down; both 0 → 1 unavailable).
fn fenceposts(d: &Deployment, desired: i32) -> (i32, i32) {
    let ru = d.spec.as_ref().and_then(|s| s.strategy.as_ref()).and_then(|s| s.rolling_update.as_ref());
    let pct = |v: Option<&IntOrString>, up: bool| match v {
        None => 0,
        Some(IntOrString::Int(i)) => *i,
        Some(IntOrString::String(s)) => {
            let p: i64 = s.trim_end_matches('%').parse().unwrap_or(0);
            let x = p * i64::from(desired);
            (if up { (x + 99) / 100 } else { x / 100 }) as i32
        }
    };
    let surge = pct(ru.and_then(|r| r.max_surge.as_ref()), true);
    let unavailable = pct(ru.and_then(|r| r.max_unavailable.as_ref()), false);
    if surge == 0 && unavailable == 0 { (0, 1) } else { (surge, unavailable) }
}

fn new_replicaset(d: &Deployment, hash: &str, replicas: i32, rev: i64) -> ReplicaSet {
    let name = d.metadata.name.clone().unwrap_or_default();
    let spec = d.spec.clone().unwrap_or_default();
    let mut tpl = spec.template.clone();
    tpl.metadata.get_or_insert_with(Default::default).labels.get_or_insert_with(Default::default).insert(HASH_LABEL.into(), hash.into());
    let mut selector = spec.selector.clone();
    selector.match_labels.get_or_insert_with(Default::default).insert(HASH_LABEL.into(), hash.into());
    let mut labels = tpl.metadata.as_ref().and_then(|m| m.labels.clone()).unwrap_or_default();
    labels.insert(HASH_LABEL.into(), hash.into());
    let annotations = BTreeMap::from([
        (REVISION.to_string(), rev.to_string()),
        ("deployment.kubernetes.io/desired-replicas".to_string(), spec.replicas.unwrap_or(1).to_string()),
        (
            "deployment.kubernetes.io/max-replicas".to_string(),
            (spec.replicas.unwrap_or(1) + fenceposts(d, spec.replicas.unwrap_or(1)).0).to_string(),
        ),
    ]);
    let mut rs = ReplicaSet {
        metadata: ObjectMeta {
            name: Some(format!("{name}-{hash}")),
            namespace: d.metadata.namespace.clone(),
            labels: Some(labels),
            annotations: Some(annotations),
            owner_references: Some(vec![OwnerReference {
                api_version: "apps/v1".into(),
                kind: "Deployment".into(),
                name,
                uid: d.metadata.uid.clone().unwrap_or_default(),
                controller: Some(true),
                block_owner_deletion: Some(true),
            }]),
            ..Default::default()
        },
        spec: Some(ReplicaSetSpec { replicas: Some(replicas), min_ready_seconds: spec.min_ready_seconds, selector, template: Some(tpl) }),
        status: None,
    };
    rs.prepare_create();
    rs
}

fn scale(store: &Store, d: &Deployment, rs: &ReplicaSet, to: i32, record: bool) {
    if spec_replicas(rs) == to {
        return;
    }
    let from = spec_replicas(rs);
    let ns = rs.metadata.namespace.clone().unwrap_or_default();
    let name = rs.metadata.name.clone().unwrap_or_default();
    let desired = d.spec.as_ref().and_then(|s| s.replicas).unwrap_or(1);
    let ok = store
        .modify::<ReplicaSet>(&ns, &name, |o| {
            let old = o.clone();
            o.spec.get_or_insert_with(Default::default).replicas = Some(to);
            let a = o.metadata.annotations.get_or_insert_with(Default::default);
            a.insert("deployment.kubernetes.io/desired-replicas".into(), desired.to_string());
            o.prepare_update(&old);
            true
        })
        .is_ok();
    if ok && record {
        let verb = if to > from { "up" } else { "down" };
        let msg = format!("Scaled {verb} replica set {name} from {from} to {to}");
        events::record(store, d, "Normal", "ScalingReplicaSet", msg, COMPONENT);
    }
}

fn condition(
    type_: &str,
    status: &str,
    reason: &str,
    message: String,
    now: &Time,
    old: Option<&DeploymentCondition>,
) -> DeploymentCondition {
    let same = old.is_some_and(|o| o.status == status);
    DeploymentCondition {
        type_: type_.into(),
        status: status.into(),
        reason: Some(reason.into()),
        message: Some(message),
        last_update_time: Some(if same && old.and_then(|o| o.reason.as_deref()) == Some(reason) {
            old.and_then(|o| o.last_update_time.clone()).unwrap_or(now.clone())
        } else {
            now.clone()
        }),
        last_transition_time: Some(if same {
            old.and_then(|o| o.last_transition_time.clone()).unwrap_or(now.clone())
        } else {
            now.clone()
        }),
    }
}

/// One pass over every Deployment.
pub fn sync(store: &Store, now: jiff::Timestamp, record: bool) {
    let (deploys, _) = store.list::<Deployment>(None);
    if deploys.is_empty() {
        return;
    }
    let (sets, _) = store.list::<ReplicaSet>(None);
    let (pods, _) = store.list::<core::Pod>(None);
    for d in deploys {
        if d.metadata.deletion_timestamp.is_some() {
            continue;
        }
        sync_one(store, &d, &sets, &pods, now, record);
    }
}

fn sync_one(store: &Store, d: &Deployment, sets: &[Arc<ReplicaSet>], pods: &[Arc<core::Pod>], now: jiff::Timestamp, record: bool) {
    let uid = d.metadata.uid.as_deref().unwrap_or("");
    let spec = d.spec.clone().unwrap_or_default();
    let desired = spec.replicas.unwrap_or(1);
    let mine: Vec<&Arc<ReplicaSet>> =
        sets.iter().filter(|r| r.metadata.owner_references.iter().flatten().any(|o| o.controller == Some(true) && o.uid == uid)).collect();
    let template = spec.template.clone();
    let new = mine.iter().find(|r| r.spec.as_ref().and_then(|s| s.template.as_ref()).is_some_and(|t| without_hash(t) == template));
    let old: Vec<&Arc<ReplicaSet>> = mine.iter().filter(|r| Some(r) != new.as_ref()).copied().collect();
    let recreate = spec.strategy.as_ref().and_then(|s| s.type_.as_deref()) == Some("Recreate");
    let (surge, max_unavailable) = if recreate { (0, desired) } else { fenceposts(d, desired) };
    let total: i32 = mine.iter().map(|r| spec_replicas(r)).sum();
    let old_active = old.iter().any(|r| spec_replicas(r) > 0 || r.status.as_ref().is_some_and(|s| s.replicas > 0));
    let mut created = None;
    let new: Option<Arc<ReplicaSet>> = match new {
        Some(n) => Some((*n).clone()),
        None => {
            // `NewRSNewReplicas`: as many as the surge leaves room for.
            let start = if recreate {
                if old_active { 0 } else { desired }
            } else if !old_active {
                desired
            } else {
                (desired + surge - total).clamp(0, desired)
            };
            let rev = mine.iter().map(|r| revision(r)).max().unwrap_or(0) + 1;
            let mut collisions = d.status.as_ref().and_then(|s| s.collision_count).unwrap_or(0);
            let mut made = None;
            for _ in 0..5 {
                let rs = new_replicaset(d, &template_hash(&template, collisions), start, rev);
                match store.create(rs) {
                    Ok(rs) => {
                        made = Some(rs);
                        break;
                    }
                    Err(_) => collisions += 1,
                }
            }
            if let Some(rs) = &made {
                let name = rs.metadata.name.clone().unwrap_or_default();
                created = Some(name.clone());
                if record {
                    events::record(
                        store,
                        d,
                        "Normal",
                        "ScalingReplicaSet",
                        format!("Scaled up replica set {name} from 0 to {start}"),
                        COMPONENT,
                    );
                }
            }
            made
        }
    };
    let Some(new) = new else { return };
    let available_of = |r: &ReplicaSet| r.status.as_ref().and_then(|s| s.available_replicas).unwrap_or(0);
    if created.is_none() {
        if !old_active {
            scale(store, d, &new, desired, record);
        } else if recreate {
            for r in &old {
                scale(store, d, r, 0, record);
            }
        } else {
            // `reconcileNewReplicaSet`.
            let nr = spec_replicas(&new);
            if nr > desired {
                scale(store, d, &new, desired, record);
            } else if nr < desired && total < desired + surge {
                scale(store, d, &new, nr + (desired + surge - total).min(desired - nr), record);
            }
            // `reconcileOldReplicaSets` / `scaleDownOldReplicaSetsForRollingUpdate`.
            let min_available = desired - max_unavailable;
            let new_unavailable = (spec_replicas(&new) - available_of(&new)).max(0);
            let max_scaled_down = total - min_available - new_unavailable;
            let all_available: i32 = mine.iter().map(|r| available_of(r)).sum();
            let mut left = max_scaled_down.min(all_available - min_available);
            let mut olds = old.clone();
            olds.sort_by_key(|r| r.metadata.creation_timestamp.clone().map(|t| t.0));
            for r in olds {
                if left <= 0 {
                    break;
                }
                let n = spec_replicas(r);
                if n == 0 {
                    continue;
                }
                let down = n.min(left);
                scale(store, d, r, n - down, record);
                left -= down;
            }
        }
    }
    write_status(store, d, &new, &mine, pods, created, max_unavailable, now);
}

#[allow(clippy::too_many_arguments)]
fn write_status(
    store: &Store,
    d: &Deployment,
    new: &ReplicaSet,
    mine: &[&Arc<ReplicaSet>],
    _pods: &[Arc<core::Pod>],
    created: Option<String>,
    max_unavailable: i32,
    now: jiff::Timestamp,
) {
    let desired = d.spec.as_ref().and_then(|s| s.replicas).unwrap_or(1);
    let st = |r: &ReplicaSet| r.status.clone().unwrap_or_default();
    let replicas: i32 = mine.iter().map(|r| st(r).replicas).sum();
    let ready: i32 = mine.iter().map(|r| st(r).ready_replicas.unwrap_or(0)).sum();
    let available: i32 = mine.iter().map(|r| st(r).available_replicas.unwrap_or(0)).sum();
    let updated = if created.is_some() { 0 } else { st(new).replicas };
    let old_status = d.status.clone().unwrap_or_default();
    let find = |t: &str| old_status.conditions.iter().flatten().find(|c| c.type_ == t).cloned();
    let t = Time(now);
    let new_name = new.metadata.name.clone().unwrap_or_default();
    let avail = if available >= desired - max_unavailable {
        condition(
            "Available",
            "True",
            "MinimumReplicasAvailable",
            "Deployment has minimum availability.".into(),
            &t,
            find("Available").as_ref(),
        )
    } else {
        condition(
            "Available",
            "False",
            "MinimumReplicasUnavailable",
            "Deployment does not have minimum availability.".into(),
            &t,
            find("Available").as_ref(),
        )
    };
    let complete = updated == desired && replicas == desired && available == desired;
    let prog = if let Some(n) = &created {
        condition("Progressing", "True", "NewReplicaSetCreated", format!("Created new replica set {n:?}"), &t, find("Progressing").as_ref())
    } else if complete {
        condition(
            "Progressing",
            "True",
            "NewReplicaSetAvailable",
            format!("ReplicaSet {new_name:?} has successfully progressed."),
            &t,
            find("Progressing").as_ref(),
        )
    } else {
        condition(
            "Progressing",
            "True",
            "ReplicaSetUpdated",
            format!("ReplicaSet {new_name:?} is progressing."),
            &t,
            find("Progressing").as_ref(),
        )
    };
    // A condition whose status and reason stand keeps its times (`SetDeploymentCondition`).
    let keep = |c: DeploymentCondition, old: Option<DeploymentCondition>| match old {
        Some(o) if o.status == c.status && o.reason == c.reason && o.message == c.message => o,
        _ => c,
    };
    let status = DeploymentStatus {
        observed_generation: d.metadata.generation,
        replicas: Some(replicas),
        updated_replicas: Some(updated),
        ready_replicas: Some(ready),
        available_replicas: Some(available),
        unavailable_replicas: Some((desired - available).max(0)),
        terminating_replicas: None,
        collision_count: old_status.collision_count,
        conditions: Some(vec![keep(avail, find("Available")), keep(prog, find("Progressing"))]),
    };
    let rev = revision(new).to_string();
    let ns = d.metadata.namespace.clone().unwrap_or_default();
    let name = d.metadata.name.clone().unwrap_or_default();
    let needs_rev = d.metadata.annotations.as_ref().and_then(|a| a.get(REVISION)) != Some(&rev);
    if d.status.as_ref() != Some(&status) || needs_rev {
        let _ = store.modify::<Deployment>(&ns, &name, |o| {
            o.status = Some(status);
            o.metadata.annotations.get_or_insert_with(Default::default).insert(REVISION.into(), rev);
            true
        });
    }
}

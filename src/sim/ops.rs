//! Deletes, in one place, for the API handlers and the controllers (both go "through
//! the API"): graceful pod deletion, and the cascades a delete sets off (orphaning or
//! deleting dependents, emptying a namespace).
//!
//! May import: `sim::store`, `sim::objects`, `sim::kind`, `sim::errors`.

use std::sync::Arc;

use k8s_openapi::Metadata as _;
use k8s_openapi::api::core::v1 as core;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{DeleteOptions, Preconditions, Time};

use super::errors::ApiError;
use super::kind::Kind;
use super::objects::Strategy;
use super::store::Store;
use super::typed::with_kind;

/// Deletes one object with the semantics of the real registry: graceful for bound pods,
/// immediate otherwise; dependents are left to the garbage collector (Background),
/// orphaned (Orphan) or removed first (Foreground).
pub fn delete_object<T: Strategy>(store: &Store, ns: &str, name: &str, opts: &DeleteOptions) -> Result<(Arc<T>, bool), ApiError> {
    let cur = store.get::<T>(ns, name).ok_or_else(|| ApiError::not_found(T::SIM_KIND, name))?;
    cur.check_delete()?;
    if let Some(pre) = &opts.preconditions {
        if let Some(uid) = &pre.uid
            && cur.metadata().uid.as_ref() != Some(uid)
        {
            return Err(ApiError::precondition_uid(T::SIM_KIND, name, uid, cur.metadata().uid.as_deref().unwrap_or("")));
        }
        if let Some(rv) = &pre.resource_version
            && cur.metadata().resource_version.as_ref() != Some(rv)
        {
            return Err(ApiError::precondition_rv(T::SIM_KIND, name, rv, cur.metadata().resource_version.as_deref().unwrap_or("")));
        }
    }
    if opts.dry_run.as_ref().is_some_and(|d| d.iter().any(|x| x == "All")) {
        return Ok((cur, false));
    }
    let grace = cur.grace_period_seconds(opts);
    if grace > 0 {
        let now = store.now();
        let new = store.modify::<T>(ns, name, |o| {
            let m = o.metadata_mut();
            let deadline = now + jiff::SignedDuration::from_secs(grace);
            match &m.deletion_timestamp {
                Some(t) if t.0 <= deadline => false,
                _ => {
                    m.deletion_timestamp = Some(Time(deadline));
                    m.deletion_grace_period_seconds = Some(grace);
                    true
                }
            }
        })?;
        return Ok((new, true));
    }
    let uid = cur.metadata().uid.clone().unwrap_or_default();
    match opts.propagation_policy.as_deref() {
        Some("Orphan") => orphan_dependents(store, &uid),
        Some("Foreground") => delete_dependents(store, &uid),
        _ if opts.orphan_dependents == Some(true) => orphan_dependents(store, &uid),
        _ => {}
    }
    if T::SIM_KIND == Kind::Namespace {
        delete_namespace_contents(store, name);
    }
    let last = store.remove::<T>(ns, name, None)?;
    Ok((last, false))
}

/// Marks a pod that is about to be deleted for a disruption with the `DisruptionTarget`
/// condition (`reason`, `message`) as the eviction registry and the scheduler's preemption
/// do before they delete it; a pod already terminating is left as it is.
pub fn mark_disruption_target(store: &Store, ns: &str, name: &str, reason: &str, message: &str, now: jiff::Timestamp) {
    let _ = store.modify::<core::Pod>(ns, name, |p| {
        if p.metadata.deletion_timestamp.is_some() {
            return false;
        }
        let conds = p.status.get_or_insert_with(Default::default).conditions.get_or_insert_with(Vec::new);
        conds.retain(|c| c.type_ != "DisruptionTarget");
        conds.push(core::PodCondition {
            type_: "DisruptionTarget".into(),
            status: "True".into(),
            reason: Some(reason.into()),
            message: Some(message.into()),
            last_transition_time: Some(Time(now)),
            ..Default::default()
        });
        true
    });
}

/// What the controllers do: a pod delete with its own grace period, guarded by uid.
pub fn graceful_delete_pod(store: &Store, ns: &str, name: &str, uid: Option<&str>) -> Result<(), ApiError> {
    let opts = DeleteOptions {
        preconditions: uid.map(|u| Preconditions { uid: Some(u.to_string()), resource_version: None }),
        ..Default::default()
    };
    delete_object::<core::Pod>(store, ns, name, &opts).map(|_| ())
}

/// `propagationPolicy: Orphan`: dependents lose their ownerReference to `uid`.
pub fn orphan_dependents(store: &Store, uid: &str) {
    for kind in Kind::ALL {
        with_kind!(kind, T => {
            let (items, _) = store.list::<T>(None);
            for o in items.iter().filter(|o| o.metadata().owner_references.iter().flatten().any(|r| r.uid == uid)) {
                let m = o.metadata();
                let _ = store.modify::<T>(m.namespace.as_deref().unwrap_or(""), m.name.as_deref().unwrap_or(""), |x| {
                    let refs = x.metadata_mut().owner_references.get_or_insert_with(Vec::new);
                    refs.retain(|r| r.uid != uid);
                    if refs.is_empty() {
                        x.metadata_mut().owner_references = None;
                    }
                    true
                });
            }
        });
    }
}

/// `propagationPolicy: Foreground`: dependents go first.
pub fn delete_dependents(store: &Store, uid: &str) {
    for kind in Kind::ALL {
        with_kind!(kind, T => {
            let (items, _) = store.list::<T>(None);
            for o in items.iter().filter(|o| o.metadata().owner_references.iter().flatten().any(|r| r.uid == uid)) {
                let m = o.metadata();
                let _ = store.remove::<T>(m.namespace.as_deref().unwrap_or(""), m.name.as_deref().unwrap_or(""), None);
            }
        });
    }
}

/// Deleting a namespace removes everything in it.
pub fn delete_namespace_contents(store: &Store, ns: &str) {
    for kind in Kind::ALL {
        if !kind.info().namespaced {
            continue;
        }
        with_kind!(kind, T => {
            let (items, _) = store.list::<T>(Some(ns));
            for o in items {
                let _ = store.remove::<T>(ns, o.metadata().name.as_deref().unwrap_or(""), None);
            }
        });
    }
}

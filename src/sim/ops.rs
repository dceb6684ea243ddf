//! Operations shared by the API handlers and the controllers (both go "through the API").

use std::sync::Arc;

use k8s_openapi::api::core::v1 as core;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{DeleteOptions, Preconditions, Time};

use super::errors::ApiError;
use super::kind::Kind;
use super::store::{SimObject, Store};

/// Deletes one object with the semantics of the real registry: graceful for bound pods,
/// immediate otherwise; dependents are left to the garbage collector (Background),
/// orphaned (Orphan) or removed first (Foreground).
pub fn delete_object<T: SimObject>(store: &Store, ns: &str, name: &str, opts: &DeleteOptions) -> Result<(Arc<T>, bool), ApiError> {
    let cur = store.get::<T>(ns, name).ok_or_else(|| ApiError::not_found(T::SIM_KIND, name))?;
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
    if T::SIM_KIND == Kind::Pod {
        let any: &dyn std::any::Any = &*cur;
        let pod = any.downcast_ref::<core::Pod>().expect("pod");
        let spec = pod.spec.clone().unwrap_or_default();
        let phase = pod.status.as_ref().and_then(|s| s.phase.clone()).unwrap_or_default();
        let mut grace = opts.grace_period_seconds.unwrap_or(spec.termination_grace_period_seconds.unwrap_or(30));
        if spec.node_name.as_deref().unwrap_or("").is_empty() || phase == "Failed" || phase == "Succeeded" {
            grace = 0;
        }
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
    }
    let uid = cur.metadata().uid.clone().unwrap_or_default();
    match opts.propagation_policy.as_deref() {
        Some("Orphan") => crate::sim::controller::gc::orphan_dependents(store, &uid),
        Some("Foreground") => crate::sim::controller::gc::delete_dependents(store, &uid),
        _ if opts.orphan_dependents == Some(true) => crate::sim::controller::gc::orphan_dependents(store, &uid),
        _ => {}
    }
    if T::SIM_KIND == Kind::Namespace {
        crate::sim::controller::gc::delete_namespace_contents(store, name);
    }
    let last = store.remove::<T>(ns, name, None)?;
    Ok((last, false))
}

/// What the controllers do: a pod delete with its own grace period, guarded by uid.
pub fn graceful_delete_pod(store: &Store, ns: &str, name: &str, uid: Option<&str>) -> Result<(), ApiError> {
    let opts = DeleteOptions {
        preconditions: uid.map(|u| Preconditions { uid: Some(u.to_string()), resource_version: None }),
        ..Default::default()
    };
    delete_object::<core::Pod>(store, ns, name, &opts).map(|_| ())
}

//! The `pods/eviction` subresource, as `pkg/registry/core/pod/storage/eviction.go` answers:
//! a terminal, pending or deleting pod is deleted at once; otherwise the one
//! PodDisruptionBudget covering the pod decides — several is a 500, none lets it go, an
//! unready pod goes when the budget is healthy (or its `unhealthyPodEvictionPolicy` is
//! `AlwaysAllow`), and `checkAndDecrement` answers 429 "Cannot evict pod as it would
//! violate the pod's disruption budget." when the budget allows no disruption (or its
//! status is older than its spec), else takes one disruption, notes the pod in
//! `disruptedPods`, marks the pod `DisruptionTarget` and deletes it. Server dry-run
//! (`?dryRun=All` or in the Eviction's deleteOptions) checks and changes nothing.
//!
//! May import: `sim::{errors, ops, store, policy, controller::disruption}`, `sim::api::{negotiate, protobuf, request}`.

use axum::http::StatusCode;
use axum::response::Response;
use k8s_openapi::api::core::v1 as core;
use k8s_openapi::api::policy::v1::PodDisruptionBudget;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{DeleteOptions, Time};
use serde_json::{Value, json};

use super::negotiate::Encoding;
use super::request::{Ctx, json_response, object_response, output_of};
use crate::sim::controller::daemonset::pods::is_ready;
use crate::sim::controller::disruption::covered;
use crate::sim::errors::ApiError;
use crate::sim::kind::Kind;
use crate::sim::policy::ALWAYS_ALLOW;
use crate::sim::store::Store;

const VIOLATES: &str = "Cannot evict pod as it would violate the pod's disruption budget.";

/// 429 TooManyRequests for a budget: `NewTooManyRequests(VIOLATES, retry)` with a
/// `DisruptionBudget` cause.
fn too_many(cause: String, retry_after: u64) -> ApiError {
    let mut e = ApiError::too_many_requests(retry_after);
    e.message = VIOLATES.into();
    let mut details = json!({"causes": [{"reason": "DisruptionBudget", "message": cause}]});
    if retry_after > 0 {
        details["retryAfterSeconds"] = json!(retry_after);
        e.retry_after = Some(retry_after);
    } else {
        e.retry_after = None;
    }
    e.details = Some(details);
    e
}

pub fn evict(ctx: &Ctx, ns: &str, name: &str) -> Result<Response, ApiError> {
    // The Status it answers is negotiated as the pod's objects are (protobuf when asked).
    let enc = output_of(&ctx.headers, &ctx.q, Kind::Pod)?.encoding;
    let protobuf = ctx
        .headers
        .get(axum::http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|c| c.starts_with(super::protobuf::CONTENT_TYPE));
    let ev: Value = if protobuf {
        super::protobuf::object_json(&ctx.body).map_err(|e| ApiError::bad_request(format!("error decoding Eviction: {e}")))?
    } else {
        serde_json::from_slice(&ctx.body).map_err(|e| ApiError::bad_request(format!("error decoding Eviction: {e}")))?
    };
    if ev.pointer("/metadata/name").and_then(Value::as_str) != Some(name) {
        return Err(ApiError::bad_request("name in URL does not match name in Eviction object"));
    }
    let mut opts: DeleteOptions = ev
        .get("deleteOptions")
        .filter(|v| !v.is_null())
        .cloned()
        .map(serde_json::from_value)
        .transpose()
        .map_err(|e| ApiError::bad_request(e.to_string()))?
        .unwrap_or_default();
    // propagateDryRun: the request's dryRun applies when the Eviction's options have none.
    if opts.dry_run.as_ref().is_none_or(|d| d.is_empty())
        && let Some(d) = ctx.q.get("dryRun")
    {
        opts.dry_run = Some(vec![d.clone()]);
    }
    let dry_run = opts.dry_run.as_ref().is_some_and(|d| d.iter().any(|x| x == "All"));
    let store = &ctx.st.store;
    let pod = store.get::<core::Pod>(ns, name).ok_or_else(|| ApiError::not_found(Kind::Pod, name))?;
    let phase = pod.status.as_ref().and_then(|s| s.phase.as_deref()).unwrap_or("Pending");
    // canIgnorePDB: the pod already caused its disruption, or never served.
    if matches!(phase, "Succeeded" | "Failed" | "Pending") || pod.metadata.deletion_timestamp.is_some() {
        return delete(store, ns, name, &opts, dry_run, enc);
    }
    let (pdbs, _) = store.list::<PodDisruptionBudget>(Some(ns));
    let pods = [pod.clone()];
    let mine: Vec<_> = pdbs
        .iter()
        .filter(|b| {
            b.spec.as_ref().and_then(|s| s.selector.as_ref()).is_some_and(|s| {
                s.match_labels.as_ref().is_some_and(|m| !m.is_empty()) || s.match_expressions.as_ref().is_some_and(|m| !m.is_empty())
            })
        })
        .filter(|b| !covered(b, &pods).is_empty())
        .collect();
    let pdb = match mine.as_slice() {
        [] => return delete(store, ns, name, &opts, dry_run, enc),
        [one] => one,
        _ => {
            let body = json!({"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
                "message": "This pod has more than one PodDisruptionBudget, which the eviction subresource does not support.", "code": 500});
            return Ok(json_response(StatusCode::INTERNAL_SERVER_ERROR, &body));
        }
    };
    let st = pdb.status.clone().unwrap_or_default();
    let pdb_name = pdb.metadata.name.clone().unwrap_or_default();
    if !is_ready(&pod) {
        let always = pdb.spec.as_ref().and_then(|s| s.unhealthy_pod_eviction_policy.as_deref()) == Some(ALWAYS_ALLOW);
        if always || (st.current_healthy >= st.desired_healthy && st.desired_healthy > 0) {
            return delete(store, ns, name, &opts, dry_run, enc);
        }
    }
    // checkAndDecrement.
    if st.observed_generation.unwrap_or(0) < pdb.metadata.generation.unwrap_or(0) {
        return Err(too_many(format!("The disruption budget {pdb_name} is still being processed by the server."), 10));
    }
    if st.disruptions_allowed < 0 {
        return Err(ApiError::forbidden_because(Kind::PodDisruptionBudget, &pdb_name, "pdb disruptions allowed is negative"));
    }
    if st.disruptions_allowed == 0 {
        return Err(too_many(
            format!("The disruption budget {pdb_name} needs {} healthy pods and has {} currently", st.desired_healthy, st.current_healthy),
            0,
        ));
    }
    if !dry_run {
        let now = store.now();
        store.modify::<PodDisruptionBudget>(ns, &pdb_name, |b| {
            let s = b.status.get_or_insert_with(Default::default);
            s.disruptions_allowed -= 1;
            s.disrupted_pods.get_or_insert_with(Default::default).insert(name.to_string(), Time(now));
            true
        })?;
    }
    delete(store, ns, name, &opts, dry_run, enc)
}

/// Marks the pod `DisruptionTarget` (`EvictionByEvictionAPI`) and deletes it with the
/// eviction's options; 201 with a Success Status.
fn delete(store: &Store, ns: &str, name: &str, opts: &DeleteOptions, dry_run: bool, enc: Encoding) -> Result<Response, ApiError> {
    if !dry_run {
        crate::sim::ops::mark_disruption_target(store, ns, name, "EvictionByEvictionAPI", "Eviction API: evicting", store.now());
    }
    crate::sim::ops::delete_object::<core::Pod>(store, ns, name, opts)?;
    Ok(object_response(
        StatusCode::CREATED,
        &json!({"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Success", "code": 201}),
        enc,
    ))
}

//! The taint action's patch (`t`), guarded like the label edit: a taint changed by
//! someone else after the plan was shown is not overwritten, and a 409 is retried on
//! fresh data. The plan shown for confirmation is the model's (`model::plan::taints`).
//!
//! May import: `model`, `k8s`, `cluster::{connect, errors}` (`actions` builds on this
//! file). Never `sim` or `ui`.

use k8s_openapi::api::core::v1::{Node, Taint as ApiTaint};
use kube::Api;
use kube::api::{Patch, PatchParams};

use crate::cluster::connect::Cluster;
use crate::cluster::errors::ClusterError;
use crate::k8s::eligibility::Taint;
use crate::k8s::taints::{TaintChange, apply_changes};
use crate::model::plan::taints::touched;

/// Why a taint edit failed for one node.
#[derive(Debug, thiserror::Error)]
pub enum TaintError {
    #[error(transparent)]
    Cluster(#[from] ClusterError),
    /// Someone changed a taint of the edited keys after the plan was shown: theirs stays.
    #[error("taints changed since you looked (now {now}, was {was}); not overwritten — review and try again")]
    ChangedSinceShown { now: String, was: String },
}

/// Most attempts per node when the node changes between our read and our patch (409).
const CONFLICT_RETRIES: usize = 3;

/// Taints one node on fresh data, retrying a conflict (409) a few times; `was` is the
/// node's taints of the touched keys as the plan showed them.
pub async fn taint_node(
    cluster: &Cluster,
    api: &Api<Node>,
    pp: &PatchParams,
    n: &str,
    changes: &[TaintChange],
    was: &[Taint],
) -> Result<(), TaintError> {
    let mut attempt = 0;
    loop {
        attempt += 1;
        let fresh = api.get(n).await.map_err(|e| cluster.error(e))?;
        let current: Vec<ApiTaint> = fresh.spec.as_ref().and_then(|s| s.taints.clone()).unwrap_or_default();
        let compact: Vec<Taint> = current.iter().map(Taint::from).collect();
        // Someone changed a taint of these keys since the plan was shown: theirs stays.
        let now = touched(&compact, changes);
        if now != was {
            let show = |v: &[Taint]| {
                if v.is_empty() { "none".to_string() } else { v.iter().map(ToString::to_string).collect::<Vec<_>>().join(" ") }
            };
            return Err(TaintError::ChangedSinceShown { now: show(&now), was: show(was) });
        }
        let (after, _) = apply_changes(&compact, changes);
        // Taints kept as they are keep every field (timeAdded); new ones are written plain.
        let list: Vec<ApiTaint> = after
            .iter()
            .map(|t| {
                current.iter().find(|c| Taint::from(*c) == *t).cloned().unwrap_or_else(|| ApiTaint {
                    key: t.key.clone(),
                    value: (!t.value.is_empty()).then(|| t.value.clone()),
                    effect: t.effect.clone(),
                    time_added: None,
                })
            })
            .collect();
        let taints = if list.is_empty() { serde_json::Value::Null } else { serde_json::to_value(&list).unwrap_or_default() };
        // A merge patch replaces the list; the resourceVersion makes the server refuse
        // (409) if the node moved on after our read.
        let body = serde_json::json!({"metadata": {"resourceVersion": fresh.metadata.resource_version}, "spec": {"taints": taints}});
        match api.patch(n, pp, &Patch::Merge(body)).await {
            Ok(_) => return Ok(()),
            Err(kube::Error::Api(s)) if s.code == 409 && attempt < CONFLICT_RETRIES => {
                tracing::info!(target: "daemonscope::cluster::actions", node = %n, "409 conflict; retrying on fresh data");
            }
            Err(e) => return Err(cluster.error(e).into()),
        }
    }
}

//! Operator actions carried out: the API requests of a confirmed plan (planned in
//! `model::plan`), with dry-run and retries, and the permissions asked of the server.
//! Nothing here updates the model: the result comes back through the watch. Every action
//! is recorded in the log with context, user, object and result. What an action did is a
//! typed [`Outcome`]; the UI puts it into words. The roll is not here: it is a job of its
//! own (`roll`).
//!
//! May import: `model`, `k8s`. Never `sim` or `ui`.

use std::fmt;

use k8s_openapi::api::authorization::v1::{ResourceAttributes, SelfSubjectAccessReview, SelfSubjectAccessReviewSpec};
use k8s_openapi::api::core::v1::Node;
use kube::Api;
use kube::api::{Patch, PatchParams, PostParams};

use crate::cluster::connect::Cluster;
use crate::cluster::errors::ClusterError;
use crate::model::plan::{IntentKind, LabelChange, NodeEdit, Permission, Request};

/// Why an action failed for one object.
#[derive(Debug, thiserror::Error)]
pub enum ActionError {
    #[error(transparent)]
    Cluster(#[from] ClusterError),
    /// Someone changed a label after the plan was shown: theirs stays.
    #[error("label {key} changed since you looked (now {now:?}, was {was:?}); not overwritten — review and try again")]
    ChangedSinceShown { key: String, now: Option<String>, was: Option<String> },
    #[error(transparent)]
    Taint(#[from] crate::cluster::taints::TaintError),
}

/// What a confirmed action did (or why it was not started).
#[derive(Debug)]
pub enum Outcome {
    /// A per-node action (cordon, uncordon, label, taint): the nodes changed, and each failure.
    Nodes {
        kind: IntentKind,
        done: Vec<String>,
        failed: Vec<(String, ActionError)>,
        dry_run: bool,
    },
    RolloutRestart {
        namespace: String,
        name: String,
        dry_run: bool,
        result: Result<(), ClusterError>,
    },
    RestartPod {
        pod: String,
        result: Result<(), ClusterError>,
    },
    /// A roll was confirmed while another is under way: not started.
    RollUnderWay,
    /// `:roll pause|resume|abort` with no roll under way.
    NoRoll,
}

impl Outcome {
    /// Everything asked for was done.
    pub fn succeeded(&self) -> bool {
        match self {
            Outcome::Nodes { failed, .. } => failed.is_empty(),
            Outcome::RolloutRestart { result, .. } | Outcome::RestartPod { result, .. } => result.is_ok(),
            Outcome::RollUnderWay | Outcome::NoRoll => false,
        }
    }
}

/// A result as the action log says it: "ok", or why not.
fn logged<E: fmt::Display>(r: &Result<(), E>) -> String {
    r.as_ref().err().map_or_else(|| "ok".to_string(), E::to_string)
}

/// Sends the requests of a confirmed plan (`Intent::into_work`), with server dry-run if asked.
pub async fn execute(cluster: &Cluster, request: Request, dry_run: bool, context: &str, user: &str) -> Outcome {
    let pp = PatchParams { dry_run, field_manager: Some("daemonscope".into()), ..Default::default() };
    match request {
        Request::Nodes { nodes, edit } => {
            let api: Api<Node> = Api::all(cluster.client.clone());
            let (mut done, mut failed) = (Vec::new(), Vec::new());
            for n in nodes {
                let result = edit_node(cluster, &api, &pp, &n, &edit).await;
                let verb = edit.kind().verb();
                let object = format!("node/{n}");
                match &edit {
                    NodeEdit::Cordon | NodeEdit::Uncordon => {
                        tracing::info!(target: "daemonscope::cluster::actions", %context, %user, action = %verb, %object, dry_run, result = %logged(&result), "action");
                    }
                    NodeEdit::Label { changes, .. } => {
                        tracing::info!(target: "daemonscope::cluster::actions", %context, %user, action = %verb, %object, changes = ?changes, dry_run, result = %logged(&result), "action");
                    }
                    NodeEdit::Taint { changes, .. } => {
                        let spec = changes.iter().map(ToString::to_string).collect::<Vec<_>>().join(" ");
                        tracing::info!(target: "daemonscope::cluster::actions", %context, %user, action = %verb, %object, changes = %spec, dry_run, result = %logged(&result), "action");
                    }
                }
                match result {
                    Ok(()) => done.push(n),
                    Err(e) => failed.push((n, e)),
                }
            }
            Outcome::Nodes { kind: edit.kind(), done, failed, dry_run }
        }
        Request::RolloutRestart { namespace, name } => {
            let ds: Api<k8s_openapi::api::apps::v1::DaemonSet> = Api::namespaced(cluster.client.clone(), &namespace);
            let body = serde_json::json!({"spec": {"template": {"metadata": {"annotations": {
                "kubectl.kubernetes.io/restartedAt": jiff::Timestamp::now().strftime("%Y-%m-%dT%H:%M:%SZ").to_string()
            }}}}});
            let result = ds.patch(&name, &pp, &Patch::Strategic(body)).await.map(drop).map_err(|e| cluster.error(e));
            tracing::info!(target: "daemonscope::cluster::actions", %context, %user, action = "rollout restart", object = %format!("daemonset/{namespace}/{name}"), dry_run, result = %logged(&result), "action");
            Outcome::RolloutRestart { namespace, name, dry_run, result }
        }
        Request::RestartPod { namespace, pod } => {
            let pods: Api<k8s_openapi::api::core::v1::Pod> = Api::namespaced(cluster.client.clone(), &namespace);
            let dp = kube::api::DeleteParams { dry_run, ..Default::default() };
            let result = pods.delete(&pod, &dp).await.map(drop).map_err(|e| cluster.error(e));
            tracing::info!(target: "daemonscope::cluster::actions", %context, %user, action = "restart pod", object = %format!("pod/{namespace}/{pod}"), dry_run, result = %logged(&result), "action");
            Outcome::RestartPod { pod, result }
        }
    }
}

/// One node's edit.
async fn edit_node(cluster: &Cluster, api: &Api<Node>, pp: &PatchParams, n: &str, edit: &NodeEdit) -> Result<(), ActionError> {
    match edit {
        NodeEdit::Cordon | NodeEdit::Uncordon => {
            // kubectl's patch: {"spec":{"unschedulable":true}} / {"spec":{"unschedulable":null}}.
            let body = if *edit == NodeEdit::Cordon {
                serde_json::json!({"spec": {"unschedulable": true}})
            } else {
                serde_json::json!({"spec": {"unschedulable": null}})
            };
            api.patch(n, pp, &Patch::Strategic(body)).await.map(drop).map_err(|e| cluster.error(e).into())
        }
        NodeEdit::Label { changes, expected } => label_node(cluster, api, pp, n, changes, expected).await,
        NodeEdit::Taint { changes, expected } => {
            let was = expected.iter().find(|(en, _)| en == n).map(|(_, t)| t.as_slice()).unwrap_or_default();
            Ok(crate::cluster::taints::taint_node(cluster, api, pp, n, changes, was).await?)
        }
    }
}

/// Most attempts per node when the node changes between our read and our patch (409).
const CONFLICT_RETRIES: usize = 3;

/// Labels one node, on fresh data, retrying a conflict (409) a few times.
async fn label_node(
    cluster: &Cluster,
    api: &Api<Node>,
    pp: &PatchParams,
    n: &str,
    changes: &[LabelChange],
    expected: &[(String, String, Option<String>)],
) -> Result<(), ActionError> {
    let mut attempt = 0;
    loop {
        attempt += 1;
        // Fresh data: if someone changed one of these labels since the plan was shown,
        // stop for this node rather than overwrite their change.
        let fresh = api.get(n).await.map_err(|e| cluster.error(e))?;
        let labels = fresh.metadata.labels.clone().unwrap_or_default();
        if let Some((_, k, want)) = expected.iter().find(|(en, k, want)| en == n && labels.get(k) != want.as_ref()) {
            return Err(ActionError::ChangedSinceShown { key: k.clone(), now: labels.get(k).cloned(), was: want.clone() });
        }
        let mut patch_labels = serde_json::Map::new();
        for c in changes {
            patch_labels.insert(c.key.clone(), c.value.clone().map(serde_json::Value::String).unwrap_or(serde_json::Value::Null));
        }
        // The resourceVersion makes the server refuse (409) if the node moved on after our read.
        let body = serde_json::json!({"metadata": {"labels": patch_labels, "resourceVersion": fresh.metadata.resource_version}});
        match api.patch(n, pp, &Patch::Merge(body)).await {
            Ok(_) => return Ok(()),
            Err(kube::Error::Api(s)) if s.code == 409 && attempt < CONFLICT_RETRIES => {
                tracing::info!(target: "daemonscope::cluster::actions", node = %n, "409 conflict; retrying on fresh data");
            }
            Err(e) => return Err(cluster.error(e).into()),
        }
    }
}

/// Asks the server (SelfSubjectAccessReview) whether each permission is granted.
pub async fn check(cluster: &Cluster, perms: &[Permission]) -> Vec<(Permission, Result<bool, ClusterError>)> {
    let api: Api<SelfSubjectAccessReview> = Api::all(cluster.client.clone());
    let mut out = Vec::new();
    for p in perms {
        // `pods/eviction`: the resource and its subresource.
        let (resource, subresource) = match p.1.split_once('/') {
            Some((r, sub)) => (r, Some(sub)),
            None => (p.1, None),
        };
        let review = SelfSubjectAccessReview {
            spec: SelfSubjectAccessReviewSpec {
                resource_attributes: Some(ResourceAttributes {
                    verb: Some(p.0.into()),
                    resource: Some(resource.into()),
                    subresource: subresource.map(Into::into),
                    ..Default::default()
                }),
                ..Default::default()
            },
            ..Default::default()
        };
        let r =
            api.create(&PostParams::default(), &review).await.map(|r| r.status.is_some_and(|s| s.allowed)).map_err(|e| cluster.error(e));
        out.push((*p, r));
    }
    out
}

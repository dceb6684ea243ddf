//! Operator actions: what a key press asks for ([`Intent`]), the plan shown for
//! confirmation (exactly which objects change and how), and the API calls that carry it
//! out. Nothing here updates the model: the result comes back through the watch. Every
//! action is recorded in the log with context, user, object and result.

use k8s_openapi::api::authorization::v1::{ResourceAttributes, SelfSubjectAccessReview, SelfSubjectAccessReviewSpec};
use k8s_openapi::api::core::v1::Node;
use kube::api::{Patch, PatchParams, PostParams};
use kube::{Api, Client};

use crate::errors::describe_kube_error;
use crate::model::Model;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Intent {
    /// Mark nodes unschedulable, as `kubectl cordon` does.
    Cordon { nodes: Vec<String> },
    /// Clear `spec.unschedulable`, as `kubectl uncordon` does.
    Uncordon { nodes: Vec<String> },
}

/// The permission an intent needs, for SelfSubjectAccessReview: (verb, resource).
pub type Permission = (&'static str, &'static str);

impl Intent {
    pub fn permission(&self) -> Permission {
        match self {
            Intent::Cordon { .. } | Intent::Uncordon { .. } => ("patch", "nodes"),
        }
    }

    pub fn verb(&self) -> &'static str {
        match self {
            Intent::Cordon { .. } => "cordon",
            Intent::Uncordon { .. } => "uncordon",
        }
    }

    /// What will change, object by object, for the confirmation.
    pub fn plan(&self, model: &Model) -> Plan {
        let (nodes, want) = match self {
            Intent::Cordon { nodes } => (nodes, true),
            Intent::Uncordon { nodes } => (nodes, false),
        };
        let mut lines = Vec::new();
        let mut changes = 0;
        for n in nodes {
            let now = model.node_id(n).and_then(|id| model.node(id)).map(|n| n.unschedulable);
            match now {
                Some(u) if u == want => lines.push(format!("node/{n}: already {}", if want { "cordoned" } else { "uncordoned" })),
                Some(u) => {
                    changes += 1;
                    lines.push(format!("node/{n}: spec.unschedulable {u} → {want}"));
                }
                None => lines.push(format!("node/{n}: gone (skipped)")),
            }
        }
        if want {
            lines.push(String::new());
            lines.push("DaemonSet pods ignore cordon: they keep running on these nodes and are still".into());
            lines.push("created there. Cordon stops other pods from being scheduled; it does not fix a daemon.".into());
        }
        Plan { intent: self.clone(), title: format!("{} {} node(s)", self.verb(), changes), lines, changes }
    }
}

/// A confirmed-before-sent action: the intent and, in words, what it changes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Plan {
    pub intent: Intent,
    pub title: String,
    pub lines: Vec<String>,
    /// Objects that will actually change.
    pub changes: usize,
}

/// Runs a confirmed plan; returns one line for the status bar.
pub async fn execute(client: Client, plan: Plan, dry_run: bool, context: &str, user: &str) -> String {
    let api: Api<Node> = Api::all(client);
    let pp = PatchParams { dry_run, field_manager: Some("daemonscope".into()), ..Default::default() };
    let (nodes, want) = match &plan.intent {
        Intent::Cordon { nodes } => (nodes.clone(), true),
        Intent::Uncordon { nodes } => (nodes.clone(), false),
    };
    let (mut done, mut failed) = (Vec::new(), Vec::new());
    for n in nodes {
        // kubectl's patch: {"spec":{"unschedulable":true}} / {"spec":{"unschedulable":null}}.
        let body =
            if want { serde_json::json!({"spec": {"unschedulable": true}}) } else { serde_json::json!({"spec": {"unschedulable": null}}) };
        let r = api.patch(&n, &pp, &Patch::Strategic(body)).await;
        let result = match &r {
            Ok(_) => "ok".to_string(),
            Err(e) => describe_kube_error(e),
        };
        tracing::info!(target: "daemonscope::actions", %context, %user, action = %plan.intent.verb(), object = %format!("node/{n}"), dry_run, %result, "action");
        match r {
            Ok(_) => done.push(n),
            Err(_) => failed.push(format!("{n}: {result}")),
        }
    }
    let dry = if dry_run { " (server dry-run: nothing changed)" } else { "" };
    match (done.len(), failed.as_slice()) {
        (_, []) => format!("{} {} node(s){dry}: {}", plan.intent.verb(), done.len(), done.join(", ")),
        (0, f) => format!("{} failed: {}", plan.intent.verb(), f.join("; ")),
        (d, f) => format!("{} {d} node(s){dry}; failed: {}", plan.intent.verb(), f.join("; ")),
    }
}

/// Asks the server (SelfSubjectAccessReview) whether each permission is granted.
pub async fn check(client: Client, perms: &[Permission]) -> Vec<(Permission, Result<bool, String>)> {
    let api: Api<SelfSubjectAccessReview> = Api::all(client);
    let mut out = Vec::new();
    for p in perms {
        let review = SelfSubjectAccessReview {
            spec: SelfSubjectAccessReviewSpec {
                resource_attributes: Some(ResourceAttributes { verb: Some(p.0.into()), resource: Some(p.1.into()), ..Default::default() }),
                ..Default::default()
            },
            ..Default::default()
        };
        let r = api
            .create(&PostParams::default(), &review)
            .await
            .map(|r| r.status.is_some_and(|s| s.allowed))
            .map_err(|e| describe_kube_error(&e));
        out.push((*p, r));
    }
    out
}

/// Every permission some action needs (checked once per connection).
pub const PERMISSIONS: &[Permission] = &[("patch", "nodes")];

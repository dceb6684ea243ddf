//! The maintenance roll's steps on a node (`roll` with `drain`): before its daemon pod is
//! replaced the node is cordoned — marked on the node itself with
//! `daemonscope.io/cordoned-by: roll of NS/NAME at TIME`, so whoever looks next (another
//! daemonscope, kubectl) knows who cordoned it and why — and drained through the Eviction
//! API (`drain`, with the consent the confirmation gave); once its new pod is available it
//! is uncordoned, only if the roll cordoned it. What blocks a drain is kept per node for
//! the roll's status line and its blocker table.
//!
//! May import: `model`, `k8s`. Never `sim` or `ui`.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use k8s_openapi::api::core::v1::Node;
use kube::Api;
use kube::api::{Patch, PatchParams};

use crate::cluster::connect::Cluster;
use crate::cluster::drain::{DrainEvent, DrainSettings, drain};
use crate::cluster::drain_job::Blocker;
use crate::model::plan::drain::CONFIRMED;

pub use crate::model::compact::CORDONED_BY;

/// What blocks each node's drain now, by node: the drain's blocker rows.
pub type Blockers = Arc<Mutex<BTreeMap<String, Vec<Blocker>>>>;

fn blockers_of(b: &Blockers) -> std::sync::MutexGuard<'_, BTreeMap<String, Vec<Blocker>>> {
    b.lock().unwrap_or_else(|p| p.into_inner())
}

/// `n1`, or `n1 (default/web-1 blocked 12s by PDB web (allows 0))`.
pub fn describe(node: &str, b: &Blockers) -> String {
    match blockers_of(b).get(node).and_then(|v| v.first()) {
        Some(x) => format!("{node} ({} blocked {}s by {})", x.pod, x.blocked.as_secs(), crate::cluster::drain_job::budgets(&x.budgets)),
        None => node.to_string(),
    }
}

/// Every blocker now, node by node (the roll's blocker table).
pub fn all(b: &Blockers) -> Vec<Blocker> {
    blockers_of(b).values().flatten().cloned().collect()
}

/// Cordons `node` (unless it is already: then it is left as it is, and stays cordoned after
/// the roll) and drains it. Ok(true): this roll cordoned it.
pub async fn prepare(cluster: Cluster, node: String, roll: String, blockers: Blockers) -> Result<bool, String> {
    let api: Api<Node> = Api::all(cluster.client.clone());
    let was = api.get(&node).await.map_err(|e| format!("reading node {node}: {}", cluster.error(e)))?;
    let already = was.spec.as_ref().and_then(|s| s.unschedulable).unwrap_or(false);
    // Cordoned by this roll before (a roll resumed after it was aborted or killed): still
    // this roll's to uncordon.
    let ours =
        was.metadata.annotations.as_ref().and_then(|a| a.get(CORDONED_BY)).is_some_and(|v| v.starts_with(&format!("roll of {roll} at ")));
    if !already {
        let at = jiff::Timestamp::now().strftime("%Y-%m-%dT%H:%M:%SZ").to_string();
        let body = serde_json::json!({
            "metadata": {"annotations": {CORDONED_BY: format!("roll of {roll} at {at}")}},
            "spec": {"unschedulable": true},
        });
        api.patch(&node, &PatchParams::default(), &Patch::Merge(body))
            .await
            .map_err(|e| format!("cordoning {node}: {}", cluster.error(e)))?;
        tracing::info!(target: "daemonscope::cluster::actions", action = "roll cordon", object = %format!("node/{node}"), %roll, result = "ok", "action");
    }
    let settings = DrainSettings { options: CONFIRMED, ..Default::default() };
    let on = |e: DrainEvent| match e {
        DrainEvent::Blocked { pod, budgets, since, message } => {
            let b = Blocker { node: node.clone(), pod, budgets, message, blocked: since, at: std::time::Instant::now() };
            let mut all = blockers_of(&blockers);
            let rows = all.entry(node.clone()).or_default();
            match rows.iter_mut().find(|x| x.pod == b.pod) {
                Some(x) => *x = b,
                None => rows.push(b),
            }
        }
        DrainEvent::Evicted { pod } => {
            let mut all = blockers_of(&blockers);
            if let Some(rows) = all.get_mut(&node) {
                rows.retain(|x| x.pod != pod);
                if rows.is_empty() {
                    all.remove(&node);
                }
            }
        }
        _ => {}
    };
    let r = drain(&cluster, &node, &settings, &on).await;
    blockers_of(&blockers).remove(&node);
    tracing::info!(target: "daemonscope::cluster::actions", action = "roll drain", object = %format!("node/{node}"), %roll, result = %r.as_ref().map_or_else(ToString::to_string, |rep| format!("{} evicted, {} not", rep.evicted.len(), rep.failed.len())), "action");
    match r {
        Ok(report) if report.failed.is_empty() => Ok(!already || ours),
        Ok(report) => {
            Err(format!("draining {node}: {}", report.failed.iter().map(|(p, why)| format!("{p}: {why}")).collect::<Vec<_>>().join("; ")))
        }
        Err(e) => Err(format!("draining {node}: {e}")),
    }
}

/// Back in service: uncordoned, and the roll's mark removed.
pub async fn uncordon(cluster: &Cluster, node: &str) -> Result<(), String> {
    let api: Api<Node> = Api::all(cluster.client.clone());
    let body = serde_json::json!({"metadata": {"annotations": {CORDONED_BY: null}}, "spec": {"unschedulable": null}});
    let r = api
        .patch(node, &PatchParams::default(), &Patch::Merge(body))
        .await
        .map(drop)
        .map_err(|e| format!("uncordoning {node}: {}", cluster.error(e)));
    tracing::info!(target: "daemonscope::cluster::actions", action = "roll uncordon", object = %format!("node/{node}"), result = %r.as_ref().err().map_or("ok", String::as_str), "action");
    r
}

/// Whether the node carries this roll's mark (it cordoned the node, and has not undone it).
pub async fn cordoned_by(cluster: &Cluster, node: &str, roll: &str) -> bool {
    let api: Api<Node> = Api::all(cluster.client.clone());
    let Ok(n) = api.get(node).await else { return false };
    n.metadata.annotations.as_ref().and_then(|a| a.get(CORDONED_BY)).is_some_and(|v| v.starts_with(&format!("roll of {roll} at ")))
}

//! The `rollout` of each DaemonSet in the report: the verdict, the budget as the
//! controller computes it, and who holds it (`model::budget`), as the JSON schema
//! documents it; and what `--wait --stall-timeout` stops on.
//!
//! May import: `model`, `k8s`.

use std::time::Duration;

use serde::Serialize;

use crate::model::budget::{self, Budget, Verdict};
use crate::model::{DsInfo, Model};

/// A DaemonSet's rollout (`rollout` in JSON).
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RolloutReport {
    /// The controller has not observed the latest generation, or fewer than the desired
    /// nodes run the current template.
    pub in_progress: bool,
    /// complete | progressing | waiting for pod deletions | stalled
    pub verdict: String,
    /// With `stalled`: why, in one line.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// Stalled by what the rollout caused (new pods fail, surge pods cannot be placed).
    pub rollout_induced: bool,
    /// With `stalled`: how long, from the evidence (the first failing new pod's
    /// creation, or when the budget filled with what the rollout did not cause).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub stalled_seconds: Option<u64>,
    /// When this rollout began (its revision's creation; after an undo, its first pod).
    pub started: Option<String>,
    /// Resolved against the desired nodes (0 for OnDelete).
    pub max_unavailable: i32,
    pub max_surge: i32,
    /// Units of the budget in use (maxUnavailable without surge, maxSurge with it).
    pub budget_used: usize,
    /// Every unit in use, and failing new pods that hold none (empty when no rollout is
    /// in progress: the coverage's nodes say what is not fine then).
    pub holders: Vec<HolderReport>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct HolderReport {
    pub node: String,
    pub pod: Option<String>,
    /// new-pod-failing | surge-pod-unschedulable | node-down | terminating |
    /// old-pod-unavailable | new-pod-starting | min-ready-seconds | no-pod | several-pods
    pub cause: String,
    pub reason: String,
    /// pre-existing | rollout-induced | unrelated
    pub origin: String,
    pub since: Option<String>,
    /// The one thing that frees it.
    pub frees: String,
    /// Counted against the budget (false: a failing new pod outside it).
    pub counted: bool,
    /// The pod that blocks it: the old pod holding the hostPort a surge pod needs.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub blocked_by: Option<String>,
}

/// How long the verdict has been stalled, from the evidence in `b`.
fn stalled_for(b: &Budget, v: &Verdict, now: jiff::Timestamp) -> Option<u64> {
    let Verdict::Stalled(_) = v else { return None };
    let all = b.holders.iter().chain(&b.failing_elsewhere);
    let since = if Verdict::rollout_fault(b) {
        all.filter(|h| h.is_rollout_failure()).filter_map(|h| h.since).min()
    } else {
        // The budget filled with what the rollout did not cause: stuck since the later of
        // the rollout's start and the last of those.
        let outside = b.holders.iter().filter(|h| h.origin != budget::Origin::RolloutInduced).filter_map(|h| h.since).max();
        match (outside, b.started) {
            (Some(o), Some(s)) => Some(o.max(s)),
            (a, b) => a.or(b),
        }
    };
    since.map(|s| now.duration_since(s).as_secs().max(0) as u64)
}

/// The rollout of `d` at `now`.
pub fn rollout_report(model: &Model, d: &DsInfo, now: jiff::Timestamp) -> RolloutReport {
    let b = budget::budget(model, d, now);
    let v = budget::verdict(model, d, &b, None);
    let holder = |h: &budget::Holder, counted: bool| HolderReport {
        node: h.node.clone(),
        pod: h.pod.clone(),
        cause: h.cause.as_str().into(),
        reason: h.reason.clone(),
        origin: h.origin.as_str().into(),
        since: h.since.map(|t| t.to_string()),
        frees: h.frees.clone(),
        counted,
        blocked_by: h.blocked_by.clone(),
    };
    let in_progress = crate::model::rollout::under_way(model, d);
    RolloutReport {
        in_progress,
        verdict: v.word().into(),
        reason: match &v {
            Verdict::Stalled(why) => Some(why.clone()),
            _ => None,
        },
        rollout_induced: v.is_stalled() && Verdict::rollout_fault(&b),
        stalled_seconds: stalled_for(&b, &v, now),
        started: b.started.map(|t| t.to_string()),
        max_unavailable: b.max_unavailable,
        max_surge: b.max_surge,
        budget_used: if in_progress { b.used } else { 0 },
        holders: if in_progress {
            b.holders.iter().map(|h| holder(h, true)).chain(b.failing_elsewhere.iter().map(|h| holder(h, false))).collect()
        } else {
            Vec::new()
        },
    }
}

/// A DaemonSet whose rollout has been stalled by its own failures for longer than
/// `timeout`: `ns/name: stalled — new pods fail: …` (what `--wait --stall-timeout` stops on).
pub fn stalled_by_rollout(model: &Model, d: &DsInfo, timeout: Duration, now: jiff::Timestamp) -> Option<String> {
    if !crate::model::rollout::under_way(model, d) {
        return None;
    }
    let r = rollout_report(model, d, now);
    let long = r.stalled_seconds.is_some_and(|s| s >= timeout.as_secs());
    (r.rollout_induced && long)
        .then(|| format!("{}/{}: stalled for {}s — {}", d.namespace, d.name, r.stalled_seconds.unwrap_or(0), r.reason.unwrap_or_default()))
}

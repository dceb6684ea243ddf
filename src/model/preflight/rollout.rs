//! The rollout a change of an existing DaemonSet would trigger, estimated before it is
//! applied — pure, no I/O. RollingUpdate replaces the pods of the nodes the DaemonSet
//! runs on in batches: `maxSurge` and `maxUnavailable` resolved against the number of
//! nodes the new DaemonSet targets, as the controller resolves them
//! (`pkg/controller/daemon/update.go`, `updatedDesiredNodeCounts`: percentages rounded
//! up, and 0/0 taken as maxUnavailable 1; `k8s::intstr::surge_and_unavailable`). Without
//! surge, `rollingUpdate` deletes up to maxUnavailable old pods at a time; with surge, it
//! starts up to maxSurge new pods beside the old ones. Either way a batch is replaced
//! before the next begins (its new pods available), so the number of batches is the nodes
//! that change over the batch size, rounded up. Nodes without the template's images must
//! pull them first: how many is an estimate from `status.images`. OnDelete rolls nothing:
//! a pod is replaced only when it is deleted.
//!
//! May import: `k8s`, `model::preflight::verdict`.

use k8s_openapi::api::apps::v1::DaemonSet;
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;

use super::verdict::{NodeVerdict, Outcome};
use crate::k8s::intstr;

/// What a change would roll.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rollout {
    /// `RollingUpdate` or `OnDelete`.
    pub strategy: String,
    /// Nodes whose pod the change replaces: the DaemonSet has a pod there and still targets it.
    pub nodes: usize,
    /// Of those, nodes that lack an image of the new template (a pull first).
    pub pulls: usize,
    /// Of those, nodes where the new pod would not fit (the rollout stalls there).
    pub stalls: usize,
    /// RollingUpdate only: the budget resolved against the targeted nodes, the batch
    /// size (maxSurge when above 0, else maxUnavailable) and the batches.
    pub rolling: Option<Batches>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Batches {
    pub targeted: usize,
    pub max_surge: i32,
    pub max_unavailable: i32,
    pub batch: i32,
    pub batches: usize,
}

/// The rollout of `ds` (the new DaemonSet) given every node's verdict for it.
pub fn estimate(ds: &DaemonSet, verdicts: &[NodeVerdict]) -> Rollout {
    let strategy = ds.spec.as_ref().and_then(|s| s.update_strategy.as_ref());
    let on_delete = strategy.and_then(|u| u.type_.as_deref()) == Some("OnDelete");
    let targeted = verdicts.iter().filter(|v| !matches!(v.outcome, Outcome::NotEligible(_))).count();
    let changing: Vec<&NodeVerdict> = verdicts.iter().filter(|v| v.has_pod && !matches!(v.outcome, Outcome::NotEligible(_))).collect();
    let nodes = changing.len();
    let pulls = changing.iter().filter(|v| !v.images_present).count();
    let stalls = changing.iter().filter(|v| matches!(v.outcome, Outcome::WouldNotFit(_))).count();
    let rolling = (!on_delete).then(|| {
        let ru = strategy.and_then(|u| u.rolling_update.as_ref());
        let surge = ru.and_then(|r| r.max_surge.clone()).unwrap_or(IntOrString::Int(0));
        let unavailable = ru.and_then(|r| r.max_unavailable.clone()).unwrap_or(IntOrString::Int(1));
        let desired = i32::try_from(targeted).unwrap_or(i32::MAX);
        let (max_surge, max_unavailable) = intstr::surge_and_unavailable(&surge, &unavailable, desired);
        let batch = if max_surge > 0 { max_surge } else { max_unavailable }.max(1);
        Batches { targeted, max_surge, max_unavailable, batch, batches: nodes.div_ceil(batch as usize) }
    });
    Rollout { strategy: if on_delete { "OnDelete" } else { "RollingUpdate" }.into(), nodes, pulls, stalls, rolling }
}

impl Rollout {
    /// One line: `rollout (RollingUpdate, maxSurge 0, maxUnavailable 10% = 5 of 42
    /// targeted nodes): replaces the pods on 40 nodes in 8 batches of up to 5; …`.
    pub fn text(&self, ds: &DaemonSet) -> String {
        let ru = ds.spec.as_ref().and_then(|s| s.update_strategy.as_ref()).and_then(|u| u.rolling_update.as_ref());
        let shown = |v: Option<&IntOrString>, default: &str, resolved: i32| match v {
            Some(IntOrString::String(s)) => format!("{s} = {resolved}"),
            Some(IntOrString::Int(i)) => i.to_string(),
            None => default.to_string(),
        };
        let pulls = if self.nodes == 0 {
            String::new()
        } else {
            format!(
                "; {} of them must pull an image first, {} have it (an estimate from the nodes' status.images)",
                self.pulls,
                self.nodes - self.pulls
            )
        };
        let stalls =
            if self.stalls > 0 { format!("; it stalls on the {} where the new pod would not fit", self.stalls) } else { String::new() };
        match &self.rolling {
            None => format!(
                "rollout (OnDelete): nothing rolls until pods are deleted; each of the {} nodes it runs on gets the new pod when its old one is deleted{pulls}{stalls}",
                self.nodes
            ),
            Some(b) => {
                let unavailable_note = if b.max_surge == 0
                    && b.max_unavailable == 1
                    && ru
                        .and_then(|r| r.max_unavailable.as_ref())
                        .is_some_and(|v| intstr::scaled_value(v, b.targeted as i32).is_ok_and(|x| x == 0))
                {
                    " (0 with no surge counts as 1)"
                } else {
                    ""
                };
                format!(
                    "rollout (RollingUpdate, maxSurge {}, maxUnavailable {}{unavailable_note} of {} targeted nodes): if the pod template changes, the pods on {} nodes are replaced in {} {} of up to {}{pulls}{stalls}",
                    shown(ru.and_then(|r| r.max_surge.as_ref()), "0", b.max_surge),
                    shown(ru.and_then(|r| r.max_unavailable.as_ref()), "1", b.max_unavailable),
                    b.targeted,
                    self.nodes,
                    b.batches,
                    if b.batches == 1 { "batch" } else { "batches" },
                    b.batch,
                )
            }
        }
    }

    pub fn json(&self) -> serde_json::Value {
        let mut v = serde_json::json!({
            "strategy": self.strategy, "nodes": self.nodes, "pullNodes": self.pulls, "stallNodes": self.stalls,
        });
        if let Some(b) = &self.rolling {
            v["targetedNodes"] = b.targeted.into();
            v["maxSurge"] = b.max_surge.into();
            v["maxUnavailable"] = b.max_unavailable.into();
            v["batchSize"] = b.batch.into();
            v["batches"] = b.batches.into();
        }
        v
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ds(strategy: serde_json::Value) -> DaemonSet {
        serde_json::from_value(serde_json::json!({"apiVersion": "apps/v1", "kind": "DaemonSet", "metadata": {"name": "a"},
            "spec": {"selector": {}, "updateStrategy": strategy, "template": {"spec": {"containers": [{"name": "a"}]}}}}))
        .unwrap()
    }

    /// `n` nodes: the first `with_pod` have its pod, the first `with_image` its image; the
    /// last `ineligible` are not targeted.
    fn verdicts(n: usize, with_pod: usize, with_image: usize, ineligible: usize) -> Vec<NodeVerdict> {
        (0..n)
            .map(|i| NodeVerdict {
                node: format!("n{i}"),
                outcome: if i >= n - ineligible { Outcome::NotEligible("x".into()) } else { Outcome::WouldRun },
                has_pod: i < with_pod,
                images_present: i < with_image,
            })
            .collect()
    }

    #[test]
    fn percentages_resolve_against_the_targeted_nodes_rounded_up() {
        // 45 targeted (5 not): 10 % of 45 is 4.5, rounded up to 5; 40 nodes change: 8 batches.
        let r = estimate(
            &ds(serde_json::json!({"type": "RollingUpdate", "rollingUpdate": {"maxUnavailable": "10%"}})),
            &verdicts(50, 40, 10, 5),
        );
        assert_eq!(r.rolling, Some(Batches { targeted: 45, max_surge: 0, max_unavailable: 5, batch: 5, batches: 8 }));
        assert_eq!((r.nodes, r.pulls), (40, 30));
        let d = ds(serde_json::json!({"type": "RollingUpdate", "rollingUpdate": {"maxUnavailable": "10%"}}));
        assert!(r.text(&d).contains("maxUnavailable 10% = 5 of 45 targeted nodes"), "{}", r.text(&d));
        assert!(r.text(&d).contains("in 8 batches of up to 5; 30 of them must pull"), "{}", r.text(&d));
    }

    #[test]
    fn surge_sets_the_batch_and_zero_zero_is_one() {
        let r = estimate(
            &ds(serde_json::json!({"type": "RollingUpdate", "rollingUpdate": {"maxSurge": "25%", "maxUnavailable": 0}})),
            &verdicts(10, 10, 0, 0),
        );
        // 25 % of 10 is 2.5: 3 at a time, 4 batches.
        assert_eq!(r.rolling.map(|b| (b.max_surge, b.batch, b.batches)), Some((3, 3, 4)));
        let r = estimate(
            &ds(serde_json::json!({"type": "RollingUpdate", "rollingUpdate": {"maxSurge": 0, "maxUnavailable": "0%"}})),
            &verdicts(3, 3, 3, 0),
        );
        assert_eq!(r.rolling.map(|b| (b.max_unavailable, b.batches)), Some((1, 3)));
        // The API's default: maxUnavailable 1.
        let r = estimate(&ds(serde_json::json!({})), &verdicts(4, 4, 4, 0));
        assert_eq!(r.rolling.map(|b| (b.batch, b.batches)), Some((1, 4)));
    }

    #[test]
    fn on_delete_rolls_nothing() {
        let d = ds(serde_json::json!({"type": "OnDelete"}));
        let r = estimate(&d, &verdicts(4, 3, 0, 0));
        assert_eq!((r.strategy.as_str(), r.nodes, r.rolling), ("OnDelete", 3, None));
        assert!(r.text(&d).starts_with("rollout (OnDelete): nothing rolls until pods are deleted"), "{}", r.text(&d));
        assert_eq!(r.json()["strategy"], "OnDelete");
        assert!(r.json().get("batches").is_none());
    }
}

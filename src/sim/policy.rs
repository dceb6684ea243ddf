//! PodDisruptionBudgets (policy/v1): the registry strategy
//! (`pkg/registry/policy/poddisruptionbudget/strategy.go`: status reset on create and
//! kept on update, the generation bumped when the spec changes) and validation
//! (`pkg/apis/policy/validation`: `ValidatePodDisruptionBudgetSpec`).
//!
//! May import: `sim::objects`, `sim::store`, `k8s::{intstr, selector}`.

use k8s_openapi::api::policy::v1::{PodDisruptionBudget, PodDisruptionBudgetStatus};

use super::objects::{Causes, Strategy, validate_meta};
use crate::k8s::intstr::validate_int_or_percent;

/// `unhealthyPodEvictionPolicy` values the server accepts.
pub const IF_HEALTHY_BUDGET: &str = "IfHealthyBudget";
pub const ALWAYS_ALLOW: &str = "AlwaysAllow";

impl Strategy for PodDisruptionBudget {
    fn prepare_create(&mut self) {
        self.metadata.generation = Some(1);
        self.status = Some(PodDisruptionBudgetStatus::default());
    }
    fn prepare_update(&mut self, old: &Self) {
        self.status = old.status.clone();
        let generation = old.metadata.generation.unwrap_or(1);
        self.metadata.generation = Some(if self.spec != old.spec { generation + 1 } else { generation });
    }
    fn prepare_status_update(&mut self, old: &Self) {
        self.spec = old.spec.clone();
        self.metadata.generation = old.metadata.generation;
    }
    fn validate(&self) -> Causes {
        let mut out = Causes::new();
        validate_meta(&self.metadata, true, &mut out);
        let Some(spec) = &self.spec else { return out };
        if spec.min_available.is_some() && spec.max_unavailable.is_some() {
            out.push(("spec", "Invalid value: minAvailable and maxUnavailable cannot be both set".into()));
        }
        for (field, v) in [("spec.minAvailable", &spec.min_available), ("spec.maxUnavailable", &spec.max_unavailable)] {
            if let Some(Err(e)) = v.as_ref().map(validate_int_or_percent) {
                out.push((field, e));
            }
        }
        if let Some(sel) = &spec.selector
            && let Err(e) = crate::k8s::selector::LabelSelector::from_k8s(sel)
        {
            out.push(("spec.selector", format!("Invalid value: {e}")));
        }
        if let Some(p) = &spec.unhealthy_pod_eviction_policy
            && p != IF_HEALTHY_BUDGET
            && p != ALWAYS_ALLOW
        {
            out.push((
                "spec.unhealthyPodEvictionPolicy",
                format!("Unsupported value: {p:?}: supported values: \"{ALWAYS_ALLOW}\", \"{IF_HEALTHY_BUDGET}\""),
            ));
        }
        out
    }
}

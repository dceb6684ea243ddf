//! Deployments and ReplicaSets (apps/v1), the workloads whose pods a drain moves, and
//! Leases (the roll's lock): the registry strategies
//! (`pkg/registry/apps/replicaset/strategy.go`, `pkg/registry/apps/deployment/strategy.go`:
//! status kept on update, the generation bumped when the spec changes, the pod template
//! defaulted), the Deployment defaults (`pkg/apis/apps/v1/defaults.go`
//! `SetDefaults_Deployment`: 1 replica, RollingUpdate 25%/25%, 10 revisions kept, 600 s
//! progress deadline) and validation (`ValidateReplicaSetSpec`, `ValidateDeploymentSpec`:
//! a selector that is not empty and matches the template's labels, replicas not negative).
//!
//! May import: `sim::objects`, `sim::store`, `k8s::selector`.

use k8s_openapi::api::apps::v1::{Deployment, DeploymentStatus, DeploymentStrategy, ReplicaSet, ReplicaSetStatus, RollingUpdateDeployment};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{LabelSelector, ObjectMeta};
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;

use super::objects::{Causes, Strategy, default_pod_spec, validate_meta};

impl Strategy for ReplicaSet {
    fn prepare_create(&mut self) {
        self.metadata.generation = Some(1);
        let spec = self.spec.get_or_insert_with(Default::default);
        spec.replicas.get_or_insert(1);
        if let Some(ps) = spec.template.as_mut().and_then(|t| t.spec.as_mut()) {
            default_pod_spec(ps);
        }
        self.status = Some(ReplicaSetStatus::default());
    }
    fn prepare_update(&mut self, old: &Self) {
        self.status = old.status.clone();
        let spec = self.spec.get_or_insert_with(Default::default);
        spec.replicas.get_or_insert(1);
        if let Some(ps) = spec.template.as_mut().and_then(|t| t.spec.as_mut()) {
            default_pod_spec(ps);
        }
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
        let Some(spec) = &self.spec else {
            out.push(("spec", "Required value".into()));
            return out;
        };
        if let Some(r) = spec.replicas
            && r < 0
        {
            out.push(("spec.replicas", format!("Invalid value: {r}: must be greater than or equal to 0")));
        }
        validate_selector(&spec.selector, spec.template.as_ref().and_then(|t| t.metadata.as_ref()), &mut out);
        out
    }
}

/// A workload's selector: required, and matching its template's labels.
fn validate_selector(sel: &LabelSelector, tmeta: Option<&ObjectMeta>, out: &mut Causes) {
    if sel.match_labels.as_ref().is_none_or(|m| m.is_empty()) && sel.match_expressions.as_ref().is_none_or(|m| m.is_empty()) {
        out.push(("spec.selector", "Required value".into()));
        return;
    }
    let labels = tmeta.and_then(|m| m.labels.clone()).unwrap_or_default();
    match crate::k8s::selector::LabelSelector::from_k8s(sel) {
        Ok(s) if !s.matches(&labels) => {
            out.push(("spec.template.metadata.labels", format!("Invalid value: {labels:?}: `selector` does not match template `labels`")))
        }
        Err(e) => out.push(("spec.selector", format!("Invalid value: {e}"))),
        Ok(_) => {}
    }
}

fn default_deployment(d: &mut Deployment) {
    let spec = d.spec.get_or_insert_with(Default::default);
    spec.replicas.get_or_insert(1);
    spec.revision_history_limit.get_or_insert(10);
    spec.progress_deadline_seconds.get_or_insert(600);
    let st = spec.strategy.get_or_insert_with(DeploymentStrategy::default);
    let ty = st.type_.get_or_insert_with(|| "RollingUpdate".into());
    if ty == "RollingUpdate" {
        let ru = st.rolling_update.get_or_insert_with(RollingUpdateDeployment::default);
        ru.max_unavailable.get_or_insert(IntOrString::String("25%".into()));
        ru.max_surge.get_or_insert(IntOrString::String("25%".into()));
    }
    if let Some(ps) = spec.template.spec.as_mut() {
        default_pod_spec(ps);
    }
}

impl Strategy for Deployment {
    fn prepare_create(&mut self) {
        self.metadata.generation = Some(1);
        default_deployment(self);
        self.status = Some(DeploymentStatus::default());
    }
    fn prepare_update(&mut self, old: &Self) {
        self.status = old.status.clone();
        default_deployment(self);
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
        let Some(spec) = &self.spec else {
            out.push(("spec", "Required value".into()));
            return out;
        };
        if let Some(r) = spec.replicas
            && r < 0
        {
            out.push(("spec.replicas", format!("Invalid value: {r}: must be greater than or equal to 0")));
        }
        let ty = spec.strategy.as_ref().and_then(|s| s.type_.as_deref()).unwrap_or("RollingUpdate");
        if ty != "RollingUpdate" && ty != "Recreate" {
            out.push(("spec.strategy.type", format!("Unsupported value: {ty:?}: supported values: \"Recreate\", \"RollingUpdate\"")));
        }
        if let Some(ru) = spec.strategy.as_ref().and_then(|s| s.rolling_update.as_ref()) {
            for (field, v) in [
                ("spec.strategy.rollingUpdate.maxUnavailable", &ru.max_unavailable),
                ("spec.strategy.rollingUpdate.maxSurge", &ru.max_surge),
            ] {
                if let Some(Err(e)) = v.as_ref().map(crate::k8s::intstr::validate_int_or_percent) {
                    out.push((field, e));
                }
            }
        }
        validate_selector(&spec.selector, spec.template.metadata.as_ref(), &mut out);
        out
    }
}

/// Leases (coordination.k8s.io/v1) are plain objects: metadata validated, nothing else
/// (`pkg/registry/coordination/lease/strategy.go`).
impl Strategy for k8s_openapi::api::coordination::v1::Lease {
    fn validate(&self) -> Causes {
        let mut out = Causes::new();
        validate_meta(&self.metadata, true, &mut out);
        if let Some(d) = self.spec.as_ref().and_then(|s| s.lease_duration_seconds)
            && d <= 0
        {
            out.push(("spec.leaseDurationSeconds", format!("Invalid value: {d}: must be greater than 0")));
        }
        out
    }
}

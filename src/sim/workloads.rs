//! ReplicaSets (apps/v1), the workload pods a drain moves, and Leases (the roll's lock): the registry strategy
//! (`pkg/registry/apps/replicaset/strategy.go`: status kept on update, the generation
//! bumped when the spec changes, the pod template defaulted) and validation
//! (`ValidateReplicaSetSpec`: a selector that is not empty and matches the template's
//! labels, replicas not negative).
//!
//! May import: `sim::objects`, `sim::store`, `k8s::selector`.

use k8s_openapi::api::apps::v1::{ReplicaSet, ReplicaSetStatus};

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
        let sel = &spec.selector;
        if sel.match_labels.as_ref().is_none_or(|m| m.is_empty()) && sel.match_expressions.as_ref().is_none_or(|m| m.is_empty()) {
            out.push(("spec.selector", "Required value".into()));
            return out;
        }
        let labels = spec.template.as_ref().and_then(|t| t.metadata.as_ref()).and_then(|m| m.labels.clone()).unwrap_or_default();
        match crate::k8s::selector::LabelSelector::from_k8s(sel) {
            Ok(s) if !s.matches(&labels) => out
                .push(("spec.template.metadata.labels", format!("Invalid value: {labels:?}: `selector` does not match template `labels`"))),
            Err(e) => out.push(("spec.selector", format!("Invalid value: {e}"))),
            Ok(_) => {}
        }
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

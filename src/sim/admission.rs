//! Admission on create, the part of it the simulator plays: the Priority plugin
//! (`plugin/pkg/admission/priority`) gives a pod the value and preemption policy of its
//! PriorityClass, or of the global default class (which then names the pod's class), and
//! refuses (403) a pod naming a class that does not exist or setting another priority.
//!
//! May import: `sim::errors`, `sim::kind`, `sim::store`.

use k8s_openapi::api::core::v1 as core;
use k8s_openapi::api::scheduling::v1::PriorityClass;

use super::errors::ApiError;
use super::kind::Kind;
use super::store::Store;

pub const PREEMPT_LOWER_PRIORITY: &str = "PreemptLowerPriority";

/// The Priority admission plugin on a pod create: `spec.priority` (and
/// `preemptionPolicy`) from the pod's class, or from the global default class, which
/// then names the pod's class; 0 when there is none.
pub fn admit_pod(pod: &mut core::Pod, store: &Store) -> Result<(), ApiError> {
    let name = pod.metadata.name.clone().filter(|n| !n.is_empty()).or(pod.metadata.generate_name.clone()).unwrap_or_default();
    let spec = pod.spec.get_or_insert_with(Default::default);
    let (priority, policy) = match spec.priority_class_name.as_deref().filter(|n| !n.is_empty()) {
        Some(class) => match store.get::<PriorityClass>("", class) {
            Some(pc) => (pc.value, pc.preemption_policy.clone()),
            None => {
                return Err(ApiError::forbidden_because(Kind::Pod, &name, &format!("no PriorityClass with name {class} was found")));
            }
        },
        None => {
            let (all, _) = store.list::<PriorityClass>(None);
            // Several defaults (a race between two creates): the lowest value wins.
            match all.iter().filter(|p| p.global_default == Some(true)).min_by_key(|p| p.value) {
                Some(d) => {
                    spec.priority_class_name = d.metadata.name.clone();
                    (d.value, d.preemption_policy.clone())
                }
                None => (0, Some(PREEMPT_LOWER_PRIORITY.to_string())),
            }
        }
    };
    if let Some(p) = spec.priority
        && p != priority
    {
        let why = format!(
            "the integer value of priority ({p}) must not be provided in pod spec; priority admission controller computed {priority} from the given PriorityClass name"
        );
        return Err(ApiError::forbidden_because(Kind::Pod, &name, &why));
    }
    spec.priority = Some(priority);
    if let Some(policy) = policy {
        if let Some(p) = &spec.preemption_policy
            && *p != policy
        {
            let why = format!(
                "the string value of PreemptionPolicy ({p}) must not be provided in pod spec; priority admission controller computed {policy} from the given PriorityClass name"
            );
            return Err(ApiError::forbidden_because(Kind::Pod, &name, &why));
        }
        spec.preemption_policy = Some(policy);
    }
    Ok(())
}

//! PriorityClasses (`scheduling.k8s.io/v1`): the two built-in ones every cluster has,
//! their validation (`ValidatePriorityClass`, `ValidatePriorityClassUpdate`), the registry
//! rule that those two cannot be deleted, and the admission rule of one global default.
//! What a pod's class gives the pod is in `sim::admission`.
//!
//! May import: `sim::admission`, `sim::errors`, `sim::kind`, `sim::objects`, `sim::store`.

use k8s_openapi::api::scheduling::v1::PriorityClass;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;

use super::errors::ApiError;
use super::kind::Kind;
use super::objects::{Causes, Strategy, validate_meta};
use super::store::Store;

use super::admission::PREEMPT_LOWER_PRIORITY;

/// `scheduling.HighestUserDefinablePriority`.
pub const HIGHEST_USER_DEFINABLE_PRIORITY: i32 = 1_000_000_000;
/// `scheduling.SystemCriticalPriority`.
const SYSTEM_CRITICAL_PRIORITY: i32 = 2 * HIGHEST_USER_DEFINABLE_PRIORITY;

/// `SystemPriorityClasses()`: name, value, description.
pub const SYSTEM_PRIORITY_CLASSES: [(&str, i32, &str); 2] = [
    (
        "system-node-critical",
        SYSTEM_CRITICAL_PRIORITY + 1000,
        "Used for system critical pods that must not be moved from their current node.",
    ),
    (
        "system-cluster-critical",
        SYSTEM_CRITICAL_PRIORITY,
        "Used for system critical pods that must run in the cluster, but can be moved to another node if necessary.",
    ),
];

/// The built-in classes, as the API server's bootstrap hook creates them.
pub fn system_priority_classes() -> Vec<PriorityClass> {
    SYSTEM_PRIORITY_CLASSES
        .iter()
        .map(|(name, value, description)| {
            let mut pc = PriorityClass {
                metadata: ObjectMeta { name: Some(name.to_string()), ..Default::default() },
                value: *value,
                description: Some(description.to_string()),
                ..Default::default()
            };
            pc.prepare_create();
            pc
        })
        .collect()
}

pub fn is_system(name: &str) -> bool {
    SYSTEM_PRIORITY_CLASSES.iter().any(|(n, _, _)| *n == name)
}

fn validate_preemption_policy(p: &Option<String>, out: &mut Causes) {
    if let Some(p) = p
        && p != PREEMPT_LOWER_PRIORITY
        && p != "Never"
    {
        out.push(("preemptionPolicy", format!("Unsupported value: {p:?}: supported values: \"Never\", \"PreemptLowerPriority\"")));
    }
}

impl Strategy for PriorityClass {
    fn prepare_create(&mut self) {
        self.preemption_policy.get_or_insert_with(|| PREEMPT_LOWER_PRIORITY.into());
    }
    fn prepare_update(&mut self, old: &Self) {
        if self.preemption_policy.is_none() {
            self.preemption_policy = old.preemption_policy.clone();
        }
    }
    fn validate(&self) -> Causes {
        let mut out = Causes::new();
        validate_meta(&self.metadata, false, &mut out);
        let name = self.metadata.name.as_deref().unwrap_or("");
        if name.starts_with("system-") {
            let known = SYSTEM_PRIORITY_CLASSES.iter().find(|(n, _, _)| *n == name);
            let problem = match known {
                None => Some(format!("{name} is not a known system priority class")),
                Some((_, v, _)) if *v != self.value => Some(format!("value of {name} PriorityClass must be {v}")),
                Some(_) if self.global_default == Some(true) => Some(format!("globalDefault of {name} PriorityClass must be false")),
                Some(_) => None,
            };
            if let Some(p) = problem {
                out.push((
                    "metadata.name",
                    format!("Forbidden: priority class names with 'system-' prefix are reserved for system use only. error: {p}"),
                ));
            }
        } else if self.value > HIGHEST_USER_DEFINABLE_PRIORITY {
            out.push((
                "value",
                format!("Forbidden: maximum allowed value of a user defined priority is {HIGHEST_USER_DEFINABLE_PRIORITY}"),
            ));
        }
        validate_preemption_policy(&self.preemption_policy, &mut out);
        out
    }
    fn validate_update(&self, old: &Self) -> Causes {
        let mut out = Causes::new();
        if self.value != old.value {
            out.push(("value", "Forbidden: may not be changed in an update.".into()));
        }
        if self.preemption_policy != old.preemption_policy {
            let v = self.preemption_policy.as_deref().map(|p| format!("{p:?}")).unwrap_or("null".into());
            out.push(("preemptionPolicy", format!("Invalid value: {v}: {}", super::objects::FIELD_IMMUTABLE)));
        }
        out
    }
    fn admit_create(&mut self, store: &Store) -> Result<(), ApiError> {
        // `validatePriorityClass` of the admission plugin: one global default at most.
        if self.global_default == Some(true) {
            let (all, _) = store.list::<PriorityClass>(None);
            if let Some(d) = all.iter().find(|p| p.global_default == Some(true) && p.metadata.name != self.metadata.name) {
                let why = format!(
                    "PriorityClass {} is already marked as default. Only one default can exist",
                    d.metadata.name.as_deref().unwrap_or("")
                );
                return Err(ApiError::forbidden_because(Kind::PriorityClass, self.metadata.name.as_deref().unwrap_or(""), &why));
            }
        }
        Ok(())
    }
    fn check_delete(&self) -> Result<(), ApiError> {
        let name = self.metadata.name.as_deref().unwrap_or("");
        if is_system(name) {
            return Err(ApiError::forbidden_because(Kind::PriorityClass, name, "this is a system priority class and cannot be deleted"));
        }
        Ok(())
    }
}

//! PodDisruptionBudget arithmetic, as the disruption controller does it
//! (`pkg/controller/disruption/disruption.go`: `getExpectedPodCount`, `countHealthyPods`,
//! `updatePdbStatus`): how many pods a budget expects, how many must stay healthy, and how
//! many disruptions it allows now. The simulator's controller writes a budget's status
//! with it; the eviction subresource then reads that status, as kube-apiserver does.
//!
//! May import: `k8s::intstr`.

use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;

use super::intstr::scaled_value;

/// A budget's status numbers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Budget {
    pub expected_pods: i32,
    pub desired_healthy: i32,
    pub current_healthy: i32,
    pub disruptions_allowed: i32,
}

/// The budget of `spec` over `pods` matching pods of which `healthy` are Ready, not being
/// deleted and not already disrupted. `scale` is the summed scale of the pods'
/// controllers, needed for `maxUnavailable` and a percentage `minAvailable`; its error
/// (a pod without a controller, a controller without a scale) is the controller's
/// `failSafe`: no disruption allowed, the reason in the condition.
pub fn budget(
    min_available: Option<&IntOrString>,
    max_unavailable: Option<&IntOrString>,
    pods: i32,
    healthy: i32,
    scale: impl FnOnce() -> Result<i32, String>,
) -> Result<Budget, String> {
    let (expected, desired) = match (max_unavailable, min_available) {
        (Some(mu), _) => {
            let expected = scale()?;
            let mu = scaled_value(mu, expected)?;
            (expected, (expected - mu).max(0))
        }
        (None, Some(IntOrString::Int(n))) => (pods, *n),
        (None, Some(pct @ IntOrString::String(_))) => {
            let expected = scale()?;
            (expected, scaled_value(pct, expected)?)
        }
        // A policy/v1 budget may have neither: nothing expected, nothing desired, and so
        // (expectedCount 0) no disruption allowed.
        (None, None) => (0, 0),
    };
    let allowed = healthy - desired;
    let allowed = if expected <= 0 || allowed <= 0 { 0 } else { allowed };
    Ok(Budget { expected_pods: expected, desired_healthy: desired, current_healthy: healthy, disruptions_allowed: allowed })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn int(i: i32) -> IntOrString {
        IntOrString::Int(i)
    }
    fn pct(s: &str) -> IntOrString {
        IntOrString::String(s.into())
    }

    #[test]
    fn the_controllers_rules() {
        let scale = |n: i32| move || Ok::<i32, String>(n);
        // minAvailable 2 of 3 healthy: one disruption.
        assert_eq!(budget(Some(&int(2)), None, 3, 3, scale(3)).unwrap().disruptions_allowed, 1);
        // minAvailable counts the pods that exist, not the scale.
        let b = budget(Some(&int(2)), None, 2, 2, || Err("unused".into())).unwrap();
        assert_eq!((b.expected_pods, b.desired_healthy, b.disruptions_allowed), (2, 2, 0));
        // maxUnavailable 0: never.
        assert_eq!(budget(None, Some(&int(0)), 3, 3, scale(3)).unwrap().disruptions_allowed, 0);
        // maxUnavailable 1 of 3, one already unhealthy: none left.
        assert_eq!(budget(None, Some(&int(1)), 3, 2, scale(3)).unwrap().disruptions_allowed, 0);
        // Percentages round up (GetScaledValueFromIntOrPercent, roundUp = true).
        let b = budget(None, Some(&pct("10%")), 5, 5, scale(5)).unwrap();
        assert_eq!((b.desired_healthy, b.disruptions_allowed), (4, 1));
        let b = budget(Some(&pct("50%")), None, 3, 3, scale(3)).unwrap();
        assert_eq!((b.desired_healthy, b.disruptions_allowed), (2, 1));
        // More unavailable allowed than pods: desired 0, and no pods expected allows nothing.
        assert_eq!(budget(None, Some(&int(5)), 2, 2, scale(2)).unwrap().desired_healthy, 0);
        assert_eq!(budget(None, Some(&int(1)), 0, 0, scale(0)).unwrap().disruptions_allowed, 0);
        // No scale (a bare pod, a DaemonSet): the controller's failSafe.
        assert!(budget(None, Some(&int(1)), 1, 1, || Err("found no controller ref for pod \"p\"".into())).is_err());
    }
}

//! The PodDisruptionBudget arithmetic (`daemonscope::k8s::disruption::budget`, which the
//! simulator's disruption controller and the drain planner use) against an independent
//! transcription of the disruption controller, for any budget, pod count, health and
//! scale: `getExpectedPodCount` and `updatePdbStatus` in
//! `pkg/controller/disruption/disruption.go`, with `GetScaledValueFromIntOrPercent(…,
//! roundUp = true)` from `apimachinery/pkg/util/intstr/intstr.go`.

use daemonscope::k8s::disruption::{Budget, budget};
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;
use proptest::prelude::*;

/// `getIntOrPercentValueSafely` + `GetScaledValueFromIntOrPercent(v, total, true)`.
fn go_scaled(v: &IntOrString, total: i32) -> Option<i32> {
    match v {
        IntOrString::Int(i) => Some(*i),
        IntOrString::String(s) => {
            let n: i64 = s.strip_suffix('%')?.parse().ok()?;
            // int(math.Ceil(float64(value) * (float64(total)) / 100))
            Some((n as f64 * f64::from(total) / 100.0).ceil() as i32)
        }
    }
}

/// `getExpectedPodCount` then `updatePdbStatus`; None where the controller fails safe.
fn go_budget(min: Option<&IntOrString>, max: Option<&IntOrString>, pods: i32, healthy: i32, scale: Option<i32>) -> Option<Budget> {
    let (mut expected, mut desired) = (0, 0);
    if let Some(mu) = max {
        expected = scale?;
        let mu = go_scaled(mu, expected)?;
        desired = expected - mu;
        if desired < 0 {
            desired = 0;
        }
    } else if let Some(ma) = min {
        match ma {
            IntOrString::Int(i) => {
                desired = *i;
                expected = pods;
            }
            IntOrString::String(_) => {
                expected = scale?;
                desired = go_scaled(ma, expected)?;
            }
        }
    }
    let mut allowed = healthy - desired;
    if expected <= 0 || allowed <= 0 {
        allowed = 0;
    }
    Some(Budget { expected_pods: expected, desired_healthy: desired, current_healthy: healthy, disruptions_allowed: allowed })
}

fn int_or_percent() -> impl Strategy<Value = IntOrString> {
    prop_oneof![
        (0..40i32).prop_map(IntOrString::Int),
        (0..=100i32).prop_map(|p| IntOrString::String(format!("{p}%"))),
        // What validation refuses but a controller may still meet in a stored object.
        (101..300i32).prop_map(|p| IntOrString::String(format!("{p}%"))),
        Just(IntOrString::String("ten".into())),
        Just(IntOrString::String("x%".into())),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 4096, rng_seed: proptest::test_runner::RngSeed::Fixed(27), ..ProptestConfig::default() })]

    #[test]
    fn budgets_match_the_disruption_controller(
        min in proptest::option::of(int_or_percent()),
        max in proptest::option::of(int_or_percent()),
        pods in 0..60i32,
        healthy_share in 0.0..=1.0f64,
        scale in proptest::option::of(0..80i32),
    ) {
        let healthy = (f64::from(pods) * healthy_share).floor() as i32;
        let ours = budget(min.as_ref(), max.as_ref(), pods, healthy, || scale.ok_or_else(|| "found no controller ref for pod \"p\"".to_string()));
        let theirs = go_budget(min.as_ref(), max.as_ref(), pods, healthy, scale);
        prop_assert_eq!(ours.ok(), theirs, "min {:?} max {:?} pods {} healthy {} scale {:?}", min, max, pods, healthy, scale);
    }
}

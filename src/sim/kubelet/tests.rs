//! Unit tests of the fake kubelet (pod lifecycles, node annotations, durations).
//!
//! May import: `sim::kubelet`.

use std::collections::BTreeMap;
use std::time::Duration;

use jiff::{SignedDuration, Timestamp};
use k8s_openapi::api::core::v1 as core;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{ObjectMeta, Time};

use super::*;

fn node(annotations: &[(&str, &str)]) -> core::Node {
    core::Node {
        metadata: ObjectMeta {
            name: Some("n1".into()),
            annotations: Some(annotations.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect::<BTreeMap<_, _>>()),
            ..Default::default()
        },
        ..Default::default()
    }
}

fn pod(behavior: Option<&str>, bound_at: Timestamp) -> core::Pod {
    let mut ann = BTreeMap::new();
    if let Some(b) = behavior {
        ann.insert(BEHAVIOR.to_string(), b.to_string());
    }
    core::Pod {
        metadata: ObjectMeta {
            name: Some("p".into()),
            uid: Some("u1".into()),
            annotations: Some(ann),
            creation_timestamp: Some(Time(bound_at)),
            ..Default::default()
        },
        spec: Some(core::PodSpec {
            node_name: Some("n1".into()),
            containers: vec![core::Container {
                name: "agent".into(),
                image: Some("registry.example/agent:v2".into()),
                ..Default::default()
            }],
            ..Default::default()
        }),
        status: Some(core::PodStatus { phase: Some("Pending".into()), ..Default::default() }),
    }
}

/// Runs the kubelet on `p` at each of `times` (seconds after bind).
fn run(mut p: core::Pod, n: &core::Node, t0: Timestamp, times: &[i64]) -> core::Pod {
    let s = KubeletSettings::default();
    for t in times {
        if let PodAction::Status(st) = pod_step(&p, n, &s, t0 + SignedDuration::from_secs(*t)) {
            p.status = Some(*st);
        }
    }
    p
}

fn waiting_reason(p: &core::Pod) -> Option<String> {
    p.status.as_ref()?.container_statuses.as_ref()?[0].state.as_ref()?.waiting.as_ref()?.reason.clone()
}

fn ready(p: &core::Pod) -> bool {
    p.status.as_ref().unwrap().conditions.as_ref().unwrap().iter().any(|c| c.type_ == "Ready" && c.status == "True")
}

#[test]
fn normal_pod_becomes_ready() {
    let t0 = Timestamp::now();
    let n = node(&[]);
    let p = run(pod(None, t0), &n, t0, &[0]);
    assert_eq!(waiting_reason(&p).as_deref(), Some("ContainerCreating"));
    assert!(!ready(&p));
    let p = run(p, &n, t0, &[2, 3]);
    assert!(ready(&p));
    assert_eq!(p.status.unwrap().phase.as_deref(), Some("Running"));
}

#[test]
fn failure_behaviours_look_like_a_kubelet() {
    let t0 = Timestamp::now();
    let n = node(&[]);
    let p = run(pod(Some("crash-loop"), t0), &n, t0, &[0, 2, 5, 6]);
    assert_eq!(waiting_reason(&p).as_deref(), Some("CrashLoopBackOff"));
    assert_eq!(p.status.as_ref().unwrap().container_statuses.as_ref().unwrap()[0].restart_count, 1);
    // A container that has run and is waiting to restart leaves the pod Running (kubectl
    // shows CrashLoopBackOff as the status, the phase stays Running).
    assert_eq!(p.status.as_ref().unwrap().phase.as_deref(), Some("Running"), "a crash-looping pod is Running");
    let p = run(p, &n, t0, &[16, 19, 20, 40, 43, 44]);
    assert!(p.status.as_ref().unwrap().container_statuses.as_ref().unwrap()[0].restart_count >= 2, "restarts keep rising");
    assert!(!ready(&p));
    let p = run(pod(Some("image-pull-error"), t0), &n, t0, &[0, 3]);
    assert_eq!(waiting_reason(&p).as_deref(), Some("ErrImagePull"));
    let p = run(p, &n, t0, &[8]);
    assert_eq!(waiting_reason(&p).as_deref(), Some("ImagePullBackOff"));
    assert_eq!(p.status.as_ref().unwrap().phase.as_deref(), Some("Pending"));
    let p = run(pod(Some("config-error"), t0), &n, t0, &[0, 3]);
    assert_eq!(waiting_reason(&p).as_deref(), Some("CreateContainerConfigError"));
    let p = run(pod(Some("never-ready"), t0), &n, t0, &[0, 3, 30]);
    assert!(!ready(&p));
    assert_eq!(p.status.as_ref().unwrap().phase.as_deref(), Some("Running"));
}

#[test]
fn node_annotation_steers_every_pod_and_dead_kubelet_does_nothing() {
    let t0 = Timestamp::now();
    let p = run(pod(None, t0), &node(&[(NODE_POD_BEHAVIOR, "config-error")]), t0, &[0, 3]);
    assert_eq!(waiting_reason(&p).as_deref(), Some("CreateContainerConfigError"));
    let dead = node(&[(NODE_STATE, "not-ready")]);
    assert_eq!(pod_step(&pod(None, t0), &dead, &KubeletSettings::default(), t0), PodAction::Nothing);
    let st = node_status(&dead, &KubeletSettings::default(), t0).unwrap();
    let r = st.conditions.unwrap().into_iter().find(|c| c.type_ == "Ready").unwrap();
    assert_eq!(r.status, "False");
}

#[test]
fn durations() {
    assert_eq!(parse_duration("1m30s"), Some(Duration::from_secs(90)));
    assert_eq!(parse_duration("500ms"), Some(Duration::from_millis(500)));
    assert_eq!(parse_duration("abc"), None);
    assert_eq!(parse_duration("5"), None);
}

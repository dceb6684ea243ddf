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

fn run_with(mut p: core::Pod, n: &core::Node, s: &KubeletSettings, t0: Timestamp, times: &[i64]) -> core::Pod {
    for t in times {
        if let PodAction::Status(st) = pod_step(&p, n, s, t0 + SignedDuration::from_secs(*t)) {
            p.status = Some(*st);
        }
    }
    p
}

fn waiting_message(p: &core::Pod) -> String {
    p.status.as_ref().unwrap().container_statuses.as_ref().unwrap()[0]
        .state
        .as_ref()
        .unwrap()
        .waiting
        .as_ref()
        .unwrap()
        .message
        .clone()
        .unwrap()
}

/// An image the registry lacks: ErrImagePull with containerd's NotFound after each pull,
/// ImagePullBackOff in between; pulls at 0, 10, 30, 70 s after the start (10 s
/// doubling); the pod stays Pending. With the image in the registry the same pod runs.
#[test]
fn an_image_the_registry_lacks_fails_to_pull_with_the_kubelets_back_off() {
    let t0 = Timestamp::now();
    let n = node(&[]);
    let mut s = KubeletSettings { registry: Registry::closed(), ..KubeletSettings::default() };
    s.registry.allow("registry.example/other:v1");
    // startDelay 2 s: the first pull is 2 s after bind.
    let expect = [
        (2, "ErrImagePull"),
        (5, "ImagePullBackOff"),
        (11, "ImagePullBackOff"),
        (12, "ErrImagePull"),
        (20, "ImagePullBackOff"),
        (32, "ErrImagePull"),
        (62, "ImagePullBackOff"),
        (72, "ErrImagePull"),
        (100, "ImagePullBackOff"),
    ];
    let mut p = run_with(pod(None, t0), &n, &s, t0, &[0]);
    for (t, reason) in expect {
        p = run_with(p, &n, &s, t0, &[t]);
        assert_eq!(waiting_reason(&p).as_deref(), Some(reason), "at {t}s");
        assert_eq!(p.status.as_ref().unwrap().phase.as_deref(), Some("Pending"), "at {t}s");
        assert!(!ready(&p));
        let msg = waiting_message(&p);
        if reason == "ErrImagePull" {
            assert_eq!(
                msg,
                "rpc error: code = NotFound desc = failed to pull and unpack image \"registry.example/agent:v2\": failed to resolve reference \"registry.example/agent:v2\": registry.example/agent:v2: not found"
            );
        } else {
            assert_eq!(msg, "Back-off pulling image \"registry.example/agent:v2\"");
        }
    }
    // The behaviour annotation does not matter: the pull comes first.
    let p = run_with(pod(Some("crash-loop"), t0), &n, &s, t0, &[0, 2]);
    assert_eq!(waiting_reason(&p).as_deref(), Some("ErrImagePull"));
    s.registry.allow("registry.example/*");
    let p = run_with(pod(None, t0), &n, &s, t0, &[0, 2, 3]);
    assert!(ready(&p), "a known image runs");
    assert_eq!(image_backoff(&KubeletSettings::default(), 9), Duration::from_secs(300), "capped at 300 s");
}

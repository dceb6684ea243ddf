//! The watch decodes pods straight from JSON (`cluster::wire`); it must give the model
//! exactly what the k8s-openapi conversion (`PodInfo::from_pod`) gives for the same pod:
//! every pod of the demo cluster as it moves (crash loops, rollouts, a node going down,
//! pods terminating), and hand-written pods for the corners a simulator rarely makes.

use crate::common;

use daemonscope::cluster::wire::PodWire;
use daemonscope::model::PodInfo;
use k8s_openapi::api::core::v1::Pod;

/// The pod decoded both ways: the wire view, and the k8s-openapi one.
fn both(json: &[u8]) -> (Option<PodInfo>, Option<PodInfo>, String) {
    let wire = PodWire::from_json(json).expect("the wire decoder reads the pod");
    let pod: Pod = serde_json::from_slice(json).expect("k8s-openapi reads the pod");
    (wire.info.clone(), PodInfo::from_pod(&pod), wire.uid().to_string())
}

#[test]
fn every_demo_pod_decodes_as_the_k8s_openapi_conversion_does() {
    let yaml = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/assets/scenarios/demo.yaml")).unwrap();
    let mut sim = common::build(&yaml);
    let (mut compared, mut waiting, mut terminating, mut last_exit) = (0, 0, 0, 0);
    // The demo's timeline (node down, rollouts, crash loops) over its first minutes.
    for step in 0..40 {
        for pod in sim.store.list::<Pod>(None).0 {
            // As listed, and as it is once deleted (terminating).
            let mut deleted = (*pod).clone();
            deleted.metadata.deletion_timestamp = Some(k8s_openapi::apimachinery::pkg::apis::meta::v1::Time(jiff::Timestamp::UNIX_EPOCH));
            for json in [serde_json::to_vec(&*pod).unwrap(), serde_json::to_vec(&deleted).unwrap()] {
                let (wire, openapi, uid) = both(&json);
                assert_eq!(wire, openapi, "step {step}: {}", String::from_utf8_lossy(&json));
                assert_eq!(uid, pod.metadata.uid.clone().unwrap_or_default());
                if let Some(p) = wire {
                    compared += 1;
                    waiting += p.containers.iter().filter(|c| c.waiting.is_some()).count();
                    last_exit += p.containers.iter().filter(|c| c.last_exit.is_some()).count();
                    terminating += usize::from(p.deleting.is_some());
                }
            }
        }
        sim.advance(6);
    }
    // The comparison saw the states that matter, not only healthy pods.
    assert!(compared > 5_000, "{compared}");
    assert!(waiting > 0 && last_exit > 0 && terminating > 0, "waiting {waiting}, last exit {last_exit}, terminating {terminating}");
}

/// A pod of DaemonSet `ds-uid` with `spec` and `status` spliced in.
fn pod(extra_meta: &str, spec: &str, status: &str) -> String {
    format!(
        r#"{{"apiVersion":"v1","kind":"Pod","metadata":{{"name":"agent-x1","namespace":"kube-system","uid":"pod-uid","resourceVersion":"42",
        "creationTimestamp":"2026-01-02T03:04:05Z","labels":{{"app":"agent","controller-revision-hash":"abc","pod-template-generation":"3"}},
        "ownerReferences":[{{"apiVersion":"apps/v1","kind":"DaemonSet","name":"agent","uid":"ds-uid","controller":true}}]{extra_meta}}},
        "spec":{spec},"status":{status}}}"#
    )
}

#[test]
fn corner_cases_decode_as_the_k8s_openapi_conversion_does() {
    let cases = [
        // Bound, running, ready.
        pod(
            "",
            r#"{"nodeName":"n1","containers":[{"name":"a","image":"img:1"}]}"#,
            r#"{"phase":"Running","conditions":[{"type":"Ready","status":"True","lastTransitionTime":"2026-01-02T03:05:00Z"}],
            "containerStatuses":[{"name":"a","image":"img:1","imageID":"","ready":true,"restartCount":2,"state":{"running":{"startedAt":"2026-01-02T03:04:30Z"}},
            "lastState":{"terminated":{"exitCode":137}}}]}"#,
        ),
        // Unbound, pinned by node affinity, unschedulable.
        pod(
            "",
            r#"{"affinity":{"nodeAffinity":{"requiredDuringSchedulingIgnoredDuringExecution":{"nodeSelectorTerms":[
            {"matchExpressions":[{"key":"x","operator":"Exists"}]},
            {"matchFields":[{"key":"spec.other","operator":"In","values":["no"]},{"key":"metadata.name","operator":"In","values":["n7","n8"]}]}]}}},
            "containers":[{"name":"a"}]}"#,
            r#"{"phase":"Pending","conditions":[{"type":"PodScheduled","status":"False","reason":"Unschedulable","message":"0/3 nodes are available"}]}"#,
        ),
        // An empty nodeName, no affinity; a condition without a message.
        pod(
            "",
            r#"{"nodeName":"","containers":[{"name":"a","image":"i"}]}"#,
            r#"{"conditions":[{"type":"PodScheduled","status":"False"},{"type":"Ready","status":"False","lastTransitionTime":"2026-01-02T03:05:00Z"}]}"#,
        ),
        // Terminating; a container waiting, one terminated without a reason, one without a status.
        pod(
            r#","deletionTimestamp":"2026-01-02T04:00:00Z","deletionGracePeriodSeconds":30"#,
            r#"{"nodeName":"n1","containers":[{"name":"a","image":"i"},{"name":"b","image":"j"},{"name":"c","image":"k"}]}"#,
            r#"{"phase":"Running","containerStatuses":[
            {"name":"b","image":"j","imageID":"","ready":false,"restartCount":0,"state":{"terminated":{"exitCode":1,"message":"bye"}},"lastState":{"terminated":{"exitCode":2,"reason":"Error"}}},
            {"name":"a","image":"i","imageID":"","ready":false,"restartCount":7,"state":{"waiting":{"reason":"CrashLoopBackOff","message":"back-off 5m"}},"lastState":{}}]}"#,
        ),
        // Nulls where fields may be absent.
        pod("", r#"{"nodeName":null,"affinity":null,"containers":[{"name":"a","image":null}]}"#, r#"{"phase":null,"conditions":null,"containerStatuses":null}"#),
        // Required fields missing or null: k8s-openapi takes them as empty, so must the wire.
        pod(
            "",
            r#"{"containers":[{"image":"i"},{"name":null}]}"#,
            r#"{"conditions":[{"status":"True"},{"type":"Ready"}],"containerStatuses":[{"state":{"terminated":{}}},{"name":null,"restartCount":null}]}"#,
        ),
        // Requests: limits standing in, a sidecar and an init step, overhead.
        pod(
            "",
            r#"{"nodeName":"n1","overhead":{"cpu":"10m","memory":"1Mi"},
            "initContainers":[{"name":"s","restartPolicy":"Always","resources":{"requests":{"cpu":"50m"}}},{"name":"i","resources":{"requests":{"cpu":"1","memory":"16Mi"}}}],
            "containers":[{"name":"a","resources":{"requests":{"cpu":"100m"}}},{"name":"b","resources":{"limits":{"cpu":"200m","memory":"64Mi"}}}]}"#,
            r#"{"phase":"Running"}"#,
        ),
        // No spec, no status at all.
        r#"{"metadata":{"name":"p","uid":"u","ownerReferences":[{"apiVersion":"apps/v1","kind":"DaemonSet","name":"d","uid":"ds","controller":true}]}}"#.to_string(),
    ];
    for json in &cases {
        let (wire, openapi, uid) = both(json.as_bytes());
        assert!(wire.is_some(), "{json}");
        assert_eq!(wire, openapi, "{json}");
        assert!(uid == "pod-uid" || uid == "u");
    }
    // The pinned pod targets the affinity's node; the failed container names its exit code.
    let pinned = both(cases[1].as_bytes()).0.unwrap();
    assert_eq!((pinned.node.as_deref(), pinned.bound), (Some("n7"), false));
    assert_eq!(pinned.unschedulable.as_deref().map(String::as_str), Some("0/3 nodes are available"));
    let dying = both(cases[3].as_bytes()).0.unwrap();
    assert_eq!(dying.containers[1].waiting.as_deref(), Some(&("ExitCode:1".into(), "bye".into())));
    assert_eq!(dying.containers[2].waiting, None);
    // As the scheduler counts them: the init step (1 + 50m sidecar) over the containers
    // (300m + 50m), plus 10m overhead; memory 64Mi + 1Mi.
    let asks = both(cases[6].as_bytes()).0.unwrap().requests;
    assert_eq!((asks.cpu_m, asks.mem), (1060, 65 * 1024 * 1024));
}

#[test]
fn pods_no_daemonset_controls_are_not_kept_but_their_deletion_is_known_by_uid() {
    let owned_by = |kind: &str, controller: &str| {
        format!(
            r#"{{"metadata":{{"name":"p","uid":"u1","resourceVersion":"9","ownerReferences":[{{"apiVersion":"apps/v1","kind":"{kind}","name":"o","uid":"o1"{controller}}}]}},"spec":{{"containers":[]}}}}"#
        )
    };
    for json in [
        owned_by("ReplicaSet", r#","controller":true"#),
        owned_by("DaemonSet", r#","controller":false"#),
        owned_by("DaemonSet", ""),
        r#"{"metadata":{"name":"bare","uid":"u1"}}"#.to_string(),
    ] {
        let (wire, openapi, uid) = both(json.as_bytes());
        assert_eq!((wire, openapi), (None, None), "{json}");
        assert_eq!(uid, "u1");
    }
    let w = PodWire::from_json(owned_by("ReplicaSet", "").as_bytes()).unwrap();
    assert_eq!(kube::ResourceExt::resource_version(&w).as_deref(), Some("9"));
}

#[test]
fn a_pod_the_wire_cannot_read_is_an_error_not_a_half_pod() {
    for bad in [
        &br#"{"metadata":{"uid":5}}"#[..],
        br#"{"spec":{"containers":[{"name":5}]}}"#,
        br#"{"status":{"containerStatuses":[{"ready":"yes"}]}}"#,
        b"[1,2]",
        b"{",
    ] {
        assert!(PodWire::from_json(bad).is_err(), "{}", String::from_utf8_lossy(bad));
        assert!(serde_json::from_slice::<Pod>(bad).is_err());
    }
}

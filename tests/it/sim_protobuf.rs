//! The simulator in protobuf, as kube-apiserver serves it: every kind the client watches,
//! listed, read and watched with `Accept: application/vnd.kubernetes.protobuf`, decodes
//! (with `k8s::proto`) to the JSON the same request gives with `Accept: application/json`;
//! errors are a protobuf `Status`; and an independent decoder (`k8s-pb`, prost) reads the
//! lists' bytes.

use std::collections::BTreeMap;

use daemonscope::k8s::proto::{self, wire};
use http_body_util::BodyExt as _;
use k8s_openapi::api::core::v1::Node;
use prost::Message as _;
use serde_json::{Value, json};

use crate::common;

const PB: &str = "application/vnd.kubernetes.protobuf, */*";
const JSON: &str = "application/json";

/// What the client lists and watches.
const KINDS: [(&str, &str, &str); 5] = [
    ("/api/v1/pods", "v1", "Pod"),
    ("/api/v1/nodes", "v1", "Node"),
    ("/apis/apps/v1/daemonsets", "apps/v1", "DaemonSet"),
    ("/apis/apps/v1/controllerrevisions", "apps/v1", "ControllerRevision"),
    ("/api/v1/events", "v1", "Event"),
];

/// The demo cluster a minute in (pods, revisions and events exist), served in process
/// with nothing running: the state holds still between a JSON and a protobuf request.
fn demo() -> (daemonscope::sim::Sim, kube::Client) {
    demo_after(60, 30)
}

/// The demo's timeline applied up to `until_s`, then `advance_s` simulated seconds.
fn demo_after(until_s: u64, advance_s: usize) -> (daemonscope::sim::Sim, kube::Client) {
    let sim = common::demo_at(until_s, advance_s);
    let client = kube::Client::new(sim.router(), "default");
    (sim, client)
}

struct Reply {
    status: u16,
    content_type: String,
    body: Vec<u8>,
}

async fn get(c: &kube::Client, path: &str, accept: &str) -> Reply {
    let req = http::Request::get(path).header(http::header::ACCEPT, accept).body(kube::client::Body::empty()).unwrap();
    let res = c.send(req).await.unwrap();
    let status = res.status().as_u16();
    let content_type = res.headers().get(http::header::CONTENT_TYPE).map(|v| v.to_str().unwrap().to_string()).unwrap_or_default();
    let body = res.into_body().collect().await.unwrap().to_bytes().to_vec();
    Reply { status, content_type, body }
}

async fn get_json(c: &kube::Client, path: &str) -> Value {
    let r = get(c, path, JSON).await;
    assert_eq!((r.status, r.content_type.as_str()), (200, JSON), "{path}");
    serde_json::from_slice(&r.body).unwrap()
}

/// An object without its apiVersion and kind (the protobuf reader leaves them to the
/// envelope).
fn untyped(mut v: Value) -> Value {
    if let Some(o) = v.as_object_mut() {
        o.remove("apiVersion");
        o.remove("kind");
    }
    v
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn lists_and_gets_in_protobuf_read_back_as_their_json() {
    // Along the demo's timeline: before it, amid its changes (a rollout, a crash loop,
    // a cordon), and long after.
    for (until, advance) in [(0, 2), (8, 5), (60, 30), (60, 600)] {
        let (_sim, c) = demo_after(until, advance);
        lists_and_gets_equal(&c).await;
    }
}

async fn lists_and_gets_equal(c: &kube::Client) {
    for (path, api_version, kind) in KINDS {
        let json = get_json(c, path).await;
        let r = get(c, path, PB).await;
        assert_eq!((r.status, r.content_type.as_str()), (200, wire::MEDIA_TYPE), "{path}");
        assert_eq!(proto::kind_of(&r.body).unwrap(), (api_version, format!("{kind}List").as_str()));
        let json_bytes = get(c, path, JSON).await.body.len();
        eprintln!("{kind}List: {json_bytes} bytes of JSON, {} of protobuf", r.body.len());
        let (meta, items) = proto::list::<Value>(&r.body).unwrap();
        assert_eq!(serde_json::to_value(&meta).unwrap(), json["metadata"], "{path}: ListMeta");
        let want = json["items"].as_array().unwrap();
        assert!(!want.is_empty(), "{path}: the demo has some");
        assert_eq!(items.len(), want.len(), "{path}");
        for (got, want) in items.iter().zip(want) {
            assert_eq!(got, want, "{path}: an item");
        }
        // Each object read on its own.
        for item in want.iter().take(3) {
            let m = &item["metadata"];
            let one = match m["namespace"].as_str() {
                Some(ns) => format!(
                    "{}/namespaces/{ns}/{}/{}",
                    path.rsplit_once('/').unwrap().0,
                    path.rsplit('/').next().unwrap(),
                    m["name"].as_str().unwrap()
                ),
                None => format!("{path}/{}", m["name"].as_str().unwrap()),
            };
            let r = get(c, &one, PB).await;
            assert_eq!((r.status, r.content_type.as_str()), (200, wire::MEDIA_TYPE), "{one}");
            assert_eq!(proto::kind_of(&r.body).unwrap(), (api_version, kind));
            let got: Value = proto::object(&r.body).unwrap();
            assert_eq!(got, untyped(get_json(c, &one).await), "{one}");
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_page_carries_continue_and_the_remaining_count() {
    let (_sim, c) = demo();
    let path = "/api/v1/pods?limit=2";
    let json = get_json(&c, path).await;
    let (meta, items) = proto::list::<Value>(&get(&c, path, PB).await.body).unwrap();
    assert_eq!(items.len(), 2);
    assert!(meta.continue_.is_some() && meta.remaining_item_count.is_some_and(|n| n > 0), "{meta:?}");
    assert_eq!(serde_json::to_value(&meta).unwrap(), json["metadata"]);
    // The next page from the protobuf page's token.
    let next = format!("/api/v1/pods?limit=2&continue={}", meta.continue_.unwrap());
    let (_, page2) = proto::list::<Value>(&get(&c, &next, PB).await.body).unwrap();
    assert_eq!(Value::Array(page2), get_json(&c, &next).await["items"]);
}

/// Reads a watch's frames until `done` says so.
async fn watch_frames(
    c: &kube::Client,
    path: &str,
    mut done: impl FnMut(&str, &Value, (&str, &str)) -> bool,
) -> (Reply, Vec<(String, Value, String, String)>) {
    let req = http::Request::get(path).header(http::header::ACCEPT, PB).body(kube::client::Body::empty()).unwrap();
    let res = c.send(req).await.unwrap();
    let status = res.status().as_u16();
    let content_type = res.headers().get(http::header::CONTENT_TYPE).map(|v| v.to_str().unwrap().to_string()).unwrap_or_default();
    let mut body = res.into_body();
    let mut frames = wire::Frames::default();
    let mut out = Vec::new();
    'read: while let Some(f) = body.frame().await {
        let Ok(data) = f.unwrap().into_data() else { continue };
        frames.push(&data);
        while let Some(frame) = frames.next_frame() {
            let e = wire::watch_event(frame.unwrap()).unwrap();
            let (av, k) = proto::kind_of(e.object).unwrap();
            let obj: Value = proto::object(e.object).unwrap();
            out.push((e.kind.to_string(), obj.clone(), av.to_string(), k.to_string()));
            if done(e.kind, &obj, (av, k)) {
                break 'read;
            }
        }
    }
    (Reply { status, content_type, body: Vec::new() }, out)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_watch_list_streams_protobuf_frames_then_the_bookmark_then_changes() {
    let (sim, c) = demo();
    for (path, api_version, kind) in KINDS {
        let json = get_json(&c, path).await;
        let rv = json["metadata"]["resourceVersion"].as_str().unwrap().to_string();
        let url = format!("{path}?watch=true&sendInitialEvents=true&resourceVersionMatch=NotOlderThan&allowWatchBookmarks=true");
        let (r, events) = watch_frames(&c, &url, |t, _, _| t == "BOOKMARK").await;
        assert_eq!((r.status, r.content_type.as_str()), (200, wire::WATCH_MEDIA_TYPE), "{path}");
        let (bookmark, added) = events.split_last().unwrap();
        assert!(added.iter().all(|(t, _, av, k)| t == "ADDED" && av == api_version && k == kind), "{path}");
        let got: BTreeMap<String, Value> = added.iter().map(|(_, o, _, _)| (o["metadata"]["uid"].to_string(), o.clone())).collect();
        let want: BTreeMap<String, Value> =
            json["items"].as_array().unwrap().iter().map(|o| (o["metadata"]["uid"].to_string(), o.clone())).collect();
        assert_eq!(got, want, "{path}: the initial events are the list");
        // The bookmark: an object of the kind with only its resourceVersion and the annotation.
        assert_eq!((bookmark.2.as_str(), bookmark.3.as_str()), (api_version, kind));
        assert_eq!(
            bookmark.1,
            json!({"metadata": {"resourceVersion": rv, "annotations": {"k8s.io/initial-events-end": "true"}}}),
            "{path}"
        );
    }

    // A change arrives as a MODIFIED frame holding what a JSON get then shows.
    let rv = get_json(&c, "/api/v1/nodes").await["metadata"]["resourceVersion"].as_str().unwrap().to_string();
    let (nodes, _) = sim.store.list::<Node>(None);
    let mut node = (*nodes[0]).clone();
    let name = node.metadata.name.clone().unwrap();
    node.metadata.labels.get_or_insert_default().insert("protobuf".into(), "yes".into());
    sim.store.update(node).unwrap();
    let (_, events) = watch_frames(&c, &format!("/api/v1/nodes?watch=true&resourceVersion={rv}"), |t, _, _| t == "MODIFIED").await;
    let (t, obj, _, _) = events.last().unwrap();
    assert_eq!(t, "MODIFIED");
    assert_eq!(obj["metadata"]["labels"]["protobuf"], "yes");
    assert_eq!(*obj, untyped(get_json(&c, &format!("/api/v1/nodes/{name}")).await));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_watch_from_a_compacted_version_ends_with_a_protobuf_410() {
    let (sim, c) = demo();
    sim.store.compact();
    let (r, events) = watch_frames(&c, "/apis/apps/v1/daemonsets?watch=true&resourceVersion=1", |t, _, _| t == "ERROR").await;
    assert_eq!(r.status, 200);
    let (t, status, av, k) = events.last().unwrap();
    assert_eq!((t.as_str(), av.as_str(), k.as_str()), ("ERROR", "v1", "Status"));
    assert_eq!(
        (status["code"].as_i64(), status["reason"].as_str(), status["status"].as_str()),
        (Some(410), Some("Expired"), Some("Failure"))
    );
    assert!(status["message"].as_str().unwrap().starts_with("too old resource version: 1 ("), "{status}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn errors_are_a_protobuf_status_and_nothing_acceptable_is_406() {
    let (_sim, c) = demo();
    for (path, code) in [
        ("/api/v1/namespaces/kube-system/pods/nope", 404),
        ("/apis/apps/v1/daemonsets?fieldSelector=spec.nope%3Dx", 400),
        // Watch-list without its options (the apiserver's validation).
        ("/api/v1/nodes?watch=true&sendInitialEvents=true", 422),
        ("/api/v1/nodes?continue=not-base64!", 400),
    ] {
        let json = get_json_err(&c, path).await;
        let r = get(&c, path, PB).await;
        assert_eq!((r.status, r.content_type.as_str()), (code, wire::MEDIA_TYPE), "{path}");
        assert_eq!(proto::kind_of(&r.body).unwrap(), ("v1", "Status"));
        let status: Value = proto::object(&r.body).unwrap();
        assert_eq!(status, untyped(json), "{path}");
    }
    // Nothing acceptable: the apiserver's 406, in JSON.
    let r = get(&c, "/api/v1/nodes", "text/plain").await;
    assert_eq!((r.status, r.content_type.as_str()), (406, JSON));
    let v: Value = serde_json::from_slice(&r.body).unwrap();
    assert_eq!(v["message"], "only the following media types are accepted: application/json, application/vnd.kubernetes.protobuf");
    // A Table stays JSON even when protobuf is asked first (Tables are JSON or YAML only).
    let r = get(
        &c,
        "/api/v1/nodes",
        "application/vnd.kubernetes.protobuf;as=Table;v=v1;g=meta.k8s.io, application/json;as=Table;v=v1;g=meta.k8s.io",
    )
    .await;
    assert_eq!((r.status, r.content_type.as_str()), (200, JSON));
    assert_eq!(serde_json::from_slice::<Value>(&r.body).unwrap()["kind"], "Table");
}

async fn get_json_err(c: &kube::Client, path: &str) -> Value {
    let r = get(c, path, JSON).await;
    assert_eq!(r.content_type, JSON, "{path}");
    serde_json::from_slice(&r.body).unwrap()
}

/// An independent decoder (k8s-pb's prost types) reads the simulator's lists.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn k8s_pb_reads_the_simulators_lists() {
    use k8s_pb::api::apps::v1::DaemonSetList;
    use k8s_pb::api::core::v1::PodList;
    use k8s_pb::apimachinery::pkg::runtime::Unknown;
    let (_sim, c) = demo();
    let unwrap = |b: &[u8]| {
        assert_eq!(&b[..4], b"k8s\0");
        Unknown::decode(&b[4..]).unwrap()
    };

    let u = unwrap(&get(&c, "/api/v1/pods", PB).await.body);
    let tm = u.type_meta.unwrap();
    assert_eq!((tm.api_version.as_deref(), tm.kind.as_deref()), (Some("v1"), Some("PodList")));
    let pods = PodList::decode(u.raw.unwrap().as_slice()).unwrap();
    let json = get_json(&c, "/api/v1/pods").await;
    assert_eq!(pods.metadata.unwrap().resource_version.as_deref(), json["metadata"]["resourceVersion"].as_str());
    assert_eq!(pods.items.len(), json["items"].as_array().unwrap().len());
    for (p, j) in pods.items.iter().zip(json["items"].as_array().unwrap()) {
        let m = p.metadata.as_ref().unwrap();
        assert_eq!(m.name.as_deref(), j["metadata"]["name"].as_str());
        assert_eq!(m.uid.as_deref(), j["metadata"]["uid"].as_str());
        let labels: Value = serde_json::to_value(&m.labels).unwrap();
        assert_eq!(labels, j["metadata"]["labels"]);
        let owners: Vec<(Option<&str>, Option<bool>)> = m.owner_references.iter().map(|o| (o.kind.as_deref(), o.controller)).collect();
        let want: Vec<(Option<&str>, Option<bool>)> = j["metadata"]["ownerReferences"]
            .as_array()
            .map(|a| a.iter().map(|o| (o["kind"].as_str(), o["controller"].as_bool())).collect())
            .unwrap_or_default();
        assert_eq!(owners, want);
        let spec = p.spec.as_ref().unwrap();
        assert_eq!(spec.node_name.as_deref(), j["spec"]["nodeName"].as_str());
        assert_eq!(spec.containers[0].image.as_deref(), j["spec"]["containers"][0]["image"].as_str());
        let status = p.status.as_ref().unwrap();
        assert_eq!(status.phase.as_deref(), j["status"]["phase"].as_str());
        let created = m.creation_timestamp.as_ref().unwrap().seconds.unwrap();
        let want: jiff::Timestamp = j["metadata"]["creationTimestamp"].as_str().unwrap().parse().unwrap();
        assert_eq!(created, want.as_second());
    }

    let u = unwrap(&get(&c, "/apis/apps/v1/daemonsets", PB).await.body);
    assert_eq!(u.type_meta.unwrap().kind.as_deref(), Some("DaemonSetList"));
    let dss = DaemonSetList::decode(u.raw.unwrap().as_slice()).unwrap();
    let json = get_json(&c, "/apis/apps/v1/daemonsets").await;
    assert_eq!(dss.items.len(), json["items"].as_array().unwrap().len());
    for (d, j) in dss.items.iter().zip(json["items"].as_array().unwrap()) {
        assert_eq!(d.metadata.as_ref().unwrap().name.as_deref(), j["metadata"]["name"].as_str());
        let spec = d.spec.as_ref().unwrap();
        assert_eq!(spec.update_strategy.as_ref().unwrap().r#type.as_deref(), j["spec"]["updateStrategy"]["type"].as_str());
        let sel: Value = serde_json::to_value(&spec.selector.as_ref().unwrap().match_labels).unwrap();
        assert_eq!(sel, j["spec"]["selector"]["matchLabels"]);
        let st = d.status.as_ref().unwrap();
        assert_eq!(st.desired_number_scheduled.map(i64::from), j["status"]["desiredNumberScheduled"].as_i64());
        assert_eq!(st.number_ready.map(i64::from), j["status"]["numberReady"].as_i64());
        let max_unavailable =
            spec.update_strategy.as_ref().and_then(|s| s.rolling_update.as_ref()).and_then(|r| r.max_unavailable.as_ref());
        if let Some(mu) = max_unavailable {
            let want = &j["spec"]["updateStrategy"]["rollingUpdate"]["maxUnavailable"];
            match want {
                Value::String(s) => assert_eq!(mu.str_val.as_deref(), Some(s.as_str())),
                n => assert_eq!(mu.int_val.map(i64::from), n.as_i64()),
            }
        }
    }
}

/// kubectl's typed clients (drain, cordon, rollout status, auth can-i) ask for protobuf
/// first in some versions: on every kubectl on the machine, every such request to a kind
/// the simulator encodes is answered in protobuf, and kubectl reads the answers (its
/// commands succeed and print what they print against JSON).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kubectl_reads_the_protobuf_its_typed_clients_ask_for() {
    use common::*;
    let web = |node: &str| {
        format!(
            "---\napiVersion: v1\nkind: Pod\nmetadata: {{name: web-{node}, namespace: default}}\n\
             spec: {{nodeName: {node}, containers: [{{name: web, image: 'registry.example/web:v1'}}]}}\n"
        )
    };
    let yaml = format!(
        "{FAST}{}{}{}{}",
        nodes_yaml(&["node-a", "node-b"]),
        ds_yaml("agent", "{type: RollingUpdate}"),
        web("node-a"),
        web("node-b")
    );
    let mut report = Vec::new();
    for bin in kubectl_versions() {
        let sim = serve(&yaml).await;
        let k = Kubectl::new(bin.clone(), &sim, None);
        let v = bin.file_name().unwrap().to_string_lossy().to_string();
        until(30, "the agent's pods ready", || async {
            let o = k.ok_async(&["-n", "kube-system", "get", "ds", "agent", "-o", "jsonpath={.status.numberReady}"]).await;
            if o == "2" { Ok(()) } else { Err(o) }
        })
        .await;
        let out = k.ok_async(&["-n", "kube-system", "rollout", "status", "ds/agent", "--timeout=20s"]).await;
        assert!(out.contains("successfully rolled out"), "{v}: {out}");
        assert_eq!(k.ok_async(&["auth", "can-i", "list", "pods"]).await.trim(), "yes", "{v}");
        // The bare pods: one evicted (a Status back), one deleted (the Pod back).
        let out = k.ok_async(&["drain", "node-a", "--ignore-daemonsets", "--force", "--timeout=20s"]).await;
        assert!(out.contains("pod/web-node-a evicted") && out.contains("node/node-a drained"), "{v}: {out}");
        let out = k.ok_async(&["drain", "node-b", "--ignore-daemonsets", "--force", "--disable-eviction", "--timeout=20s"]).await;
        assert!(out.contains("pod/web-node-b deleted") && out.contains("node/node-b drained"), "{v}: {out}");
        let out = k.ok_async(&["uncordon", "node-a"]).await;
        assert!(out.contains("node/node-a uncordoned"), "{v}: {out}");
        // A 404 through a typed client: kubectl prints the Status's message.
        let o = k.run_async(&["drain", "node-nope", "--ignore-daemonsets", "--timeout=5s"]).await;
        let err = String::from_utf8_lossy(&o.stderr).to_string();
        assert!(err.contains("nodes \"node-nope\" not found"), "{v}: {err}");

        let log = sim.api.request_log();
        let asked: Vec<_> = log.iter().filter(|r| r.accept.starts_with(wire::MEDIA_TYPE)).collect();
        for r in &asked {
            // (authorization.k8s.io has no schema here yet: a review is answered in JSON.)
            let served = !r.path.contains("selfsubjectaccessreviews");
            if served {
                assert!(
                    r.content_type.starts_with(wire::MEDIA_TYPE),
                    "{v}: {} {}?{} answered {}",
                    r.method,
                    r.path,
                    r.query,
                    r.content_type
                );
            }
        }
        // kubectl waits for a drained pod to go: the 404 it reads as "gone" is a protobuf Status.
        if !asked.is_empty() {
            assert!(
                asked.iter().any(|r| r.status == 404 && r.content_type == wire::MEDIA_TYPE && r.path.contains("/pods/web-")),
                "{v}: no protobuf 404"
            );
        }
        let mut what: Vec<String> =
            asked.iter().map(|r| format!("{} {} {}", r.verb, r.path.rsplit('/').next().unwrap_or(""), r.status)).collect();
        what.sort();
        what.dedup();
        let accept = asked.first().map(|r| r.accept.as_str()).unwrap_or("");
        report.push(format!("{v}: {} of {} requests asked for protobuf [{accept}] ({})", asked.len(), log.len(), what.join(", ")));
    }
    eprintln!("{}", report.join("\n"));
}

/// The benchmark's generator (`sim::stream`) answers a protobuf client too: its pages, a
/// rollout's watch frames and its errors read back as the JSON it sends.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_generator_serves_protobuf_too() {
    let generator = daemonscope::sim::stream::Generator::new(30, 3).expect("generator");
    let serving = generator.serve("127.0.0.1:0").await.expect("listen");
    let c = kube::Client::try_from(kube::Config::new(serving.url.parse().unwrap())).unwrap();
    for (path, _, kind) in KINDS.iter().take(4) {
        let page = format!("{path}?limit=7");
        let json = get_json(&c, &page).await;
        let r = get(&c, &page, PB).await;
        assert_eq!((r.status, r.content_type.as_str()), (200, wire::MEDIA_TYPE), "{path}");
        assert_eq!(proto::kind_of(&r.body).unwrap().1, format!("{kind}List"));
        let (meta, items) = proto::list::<Value>(&r.body).unwrap();
        assert_eq!(serde_json::to_value(&meta).unwrap(), json["metadata"], "{path}");
        assert_eq!(Value::Array(items), json["items"], "{path}");
    }
    // A rollout's first pod event, in a frame.
    let rv = get_json(&c, "/api/v1/pods?limit=1").await["metadata"]["resourceVersion"].as_str().unwrap().to_string();
    let _rollout = generator.start_rollout(1000, 4);
    let (r, events) = watch_frames(&c, &format!("/api/v1/pods?watch=true&resourceVersion={rv}"), |t, _, _| t == "MODIFIED").await;
    assert_eq!((r.status, r.content_type.as_str()), (200, wire::WATCH_MEDIA_TYPE));
    let (t, pod, av, k) = events.last().unwrap();
    assert_eq!((t.as_str(), av.as_str(), k.as_str()), ("MODIFIED", "v1", "Pod"));
    assert!(pod["metadata"]["name"].as_str().is_some_and(|n| !n.is_empty()) && pod["spec"]["nodeName"].is_string(), "{pod}");
    // Errors: a protobuf Status.
    let r = get(&c, "/api/v1/pods?watch=true&sendInitialEvents=true", PB).await;
    assert_eq!((r.status, r.content_type.as_str()), (422, wire::MEDIA_TYPE));
    let status: Value = proto::object(&r.body).unwrap();
    assert_eq!(status["reason"], "Invalid");
}

async fn send(c: &kube::Client, method: &str, path: &str, content_type: &str, body: Vec<u8>) -> Reply {
    let req = http::Request::builder()
        .method(method)
        .uri(path)
        .header(http::header::ACCEPT, PB)
        .header(http::header::CONTENT_TYPE, content_type)
        .body(kube::client::Body::from(body))
        .unwrap();
    let res = c.send(req).await.unwrap();
    let status = res.status().as_u16();
    let content_type = res.headers().get(http::header::CONTENT_TYPE).map(|v| v.to_str().unwrap().to_string()).unwrap_or_default();
    Reply { status, content_type, body: res.into_body().collect().await.unwrap().to_bytes().to_vec() }
}

/// Writes answer in the negotiated encoding too, and read a protobuf body that k8s-pb
/// (prost) encoded.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn writes_read_and_answer_protobuf() {
    use k8s_pb::api::core::v1::Namespace;
    use k8s_pb::apimachinery::pkg::apis::meta::v1::ObjectMeta;
    use k8s_pb::apimachinery::pkg::runtime::{TypeMeta, Unknown};
    let (_sim, c) = demo();
    // A create whose body prost wrote.
    let ns = Namespace { metadata: Some(ObjectMeta { name: Some("from-prost".into()), ..Default::default() }), ..Default::default() };
    let unknown = Unknown {
        type_meta: Some(TypeMeta { api_version: Some("v1".into()), kind: Some("Namespace".into()) }),
        raw: Some(ns.encode_to_vec()),
        content_encoding: Some(String::new()),
        content_type: Some(String::new()),
    };
    let body = [b"k8s\0".to_vec(), unknown.encode_to_vec()].concat();
    let r = send(&c, "POST", "/api/v1/namespaces", wire::MEDIA_TYPE, body).await;
    assert_eq!((r.status, r.content_type.as_str()), (201, wire::MEDIA_TYPE));
    let created: Value = proto::object(&r.body).unwrap();
    assert_eq!(created["metadata"]["name"], "from-prost");
    assert_eq!(created, untyped(get_json(&c, "/api/v1/namespaces/from-prost").await));

    // A patch: the node back in protobuf.
    let node = get_json(&c, "/api/v1/nodes").await["items"][0]["metadata"]["name"].as_str().unwrap().to_string();
    let path = format!("/api/v1/nodes/{node}");
    let r = send(&c, "PATCH", &path, "application/merge-patch+json", br#"{"metadata":{"labels":{"pb":"1"}}}"#.to_vec()).await;
    assert_eq!((r.status, r.content_type.as_str()), (200, wire::MEDIA_TYPE));
    let patched: Value = proto::object(&r.body).unwrap();
    assert_eq!(patched["metadata"]["labels"]["pb"], "1");
    assert_eq!(patched, untyped(get_json(&c, &path).await));

    // A delete (the namespace: a Status back) and a delete-collection (the list back).
    let r = send(&c, "DELETE", "/api/v1/namespaces/from-prost", JSON, Vec::new()).await;
    assert_eq!((r.status, r.content_type.as_str()), (200, wire::MEDIA_TYPE));
    assert_eq!(proto::kind_of(&r.body).unwrap().0, "v1");
    let r = send(&c, "DELETE", "/api/v1/namespaces/kube-system/events", JSON, Vec::new()).await;
    assert_eq!((r.status, r.content_type.as_str()), (200, wire::MEDIA_TYPE));
    let (_, gone) = proto::list::<Value>(&r.body).unwrap();
    assert!(!gone.is_empty());
}

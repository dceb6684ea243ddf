//! kube-rs against the simulator: list (selectors, paging), watch (resume, bookmarks,
//! 410 Gone, streaming lists), patch, delete — the client side the TUI is built on.

use crate::common;

use std::time::Duration;

use common::*;
use futures::{StreamExt, TryStreamExt};
use k8s_openapi::api::apps::v1::DaemonSet;
use k8s_openapi::api::core::v1::{Node, Pod};
use kube::api::{Api, DeleteParams, ListParams, Patch, PatchParams, WatchEvent, WatchParams};

fn cluster(n: usize) -> String {
    let names: Vec<String> = (0..n).map(|i| format!("node-{i:02}")).collect();
    let refs: Vec<&str> = names.iter().map(String::as_str).collect();
    format!("{FAST}{}{}", nodes_yaml(&refs), ds_yaml("agent", "{type: RollingUpdate}"))
}

#[tokio::test]
async fn list_with_selectors_and_pages() {
    let sim = serve(&cluster(12)).await;
    let c = client(&sim);
    let pods: Api<Pod> = Api::all(c.clone());
    let all = pods.list(&ListParams::default().labels("app=agent")).await.unwrap();
    assert_eq!(all.items.len(), 12);
    let one = pods.list(&ListParams::default().fields("spec.nodeName=node-03")).await.unwrap();
    assert_eq!(one.items.len(), 1);
    assert_eq!(one.items[0].spec.as_ref().unwrap().node_name.as_deref(), Some("node-03"));
    let none = pods.list(&ListParams::default().labels("app notin (agent)")).await.unwrap();
    assert!(none.items.is_empty());
    let bad = pods.list(&ListParams::default().fields("spec.containers=x")).await.unwrap_err();
    assert!(
        matches!(bad, kube::Error::Api(ref s) if s.code == 400 && s.message == "field label not supported: spec.containers"),
        "{bad:?}"
    );

    // Pages of 5: 5 + 5 + 2, with continue tokens and remainingItemCount.
    let mut lp = ListParams::default().limit(5);
    let mut names = Vec::new();
    let mut pages = 0;
    loop {
        let page = pods.list(&lp).await.unwrap();
        pages += 1;
        names.extend(page.items.iter().map(|p| p.metadata.name.clone().unwrap()));
        match page.metadata.continue_.filter(|c| !c.is_empty()) {
            Some(tok) => {
                assert_eq!(page.metadata.remaining_item_count, Some(12 - names.len() as i64));
                lp = lp.continue_token(&tok);
            }
            None => break,
        }
    }
    assert_eq!((pages, names.len()), (3, 12));
    let mut sorted = names.clone();
    sorted.sort();
    sorted.dedup();
    assert_eq!(sorted.len(), 12, "no duplicates across pages");

    // An expired continue token gets 410.
    let first = pods.list(&ListParams::default().limit(5)).await.unwrap();
    sim.store.compact();
    let err = pods.list(&ListParams::default().limit(5).continue_token(first.metadata.continue_.as_deref().unwrap())).await.unwrap_err();
    assert!(matches!(err, kube::Error::Api(ref s) if s.code == 410 && s.reason == "Expired"), "{err:?}");
}

#[tokio::test]
async fn watch_resumes_sends_bookmarks_and_expires() {
    let sim = serve(&cluster(3)).await;
    let c = client(&sim);
    let nodes: Api<Node> = Api::all(c.clone());
    let list = nodes.list(&ListParams::default()).await.unwrap();
    let rv = list.metadata.resource_version.clone().unwrap();

    // Resume from the list's resourceVersion: only later changes arrive.
    let mut stream = nodes.watch(&WatchParams::default(), &rv).await.unwrap().boxed();
    nodes
        .patch("node-01", &PatchParams::default(), &Patch::Merge(serde_json::json!({"metadata": {"labels": {"zone": "b"}}})))
        .await
        .unwrap();
    let mut saw_modified = false;
    let mut saw_bookmark = false;
    let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
    while !(saw_modified && saw_bookmark) && tokio::time::Instant::now() < deadline {
        match tokio::time::timeout(Duration::from_secs(3), stream.try_next()).await {
            Ok(Ok(Some(WatchEvent::Modified(n)))) if n.metadata.name.as_deref() == Some("node-01") => {
                assert_eq!(n.metadata.labels.unwrap().get("zone").map(String::as_str), Some("b"));
                saw_modified = true;
            }
            Ok(Ok(Some(WatchEvent::Added(n)))) => panic!("no initial events when resuming: {:?}", n.metadata.name),
            Ok(Ok(Some(WatchEvent::Bookmark(b)))) => {
                assert!(b.metadata.resource_version.parse::<u64>().unwrap() >= rv.parse::<u64>().unwrap());
                saw_bookmark = true;
            }
            Ok(Ok(Some(_))) => {}
            other => panic!("watch ended: {other:?}"),
        }
    }
    assert!(saw_modified && saw_bookmark, "modified={saw_modified} bookmark={saw_bookmark}");

    // A resourceVersion older than the history: one ERROR event with 410.
    sim.store.compact();
    let mut stream = nodes.watch(&WatchParams::default(), &rv).await.unwrap().boxed();
    match stream.try_next().await.unwrap() {
        Some(WatchEvent::Error(e)) => {
            assert_eq!((e.code, e.reason.as_str()), (410, "Expired"));
            assert!(e.message.starts_with(&format!("too old resource version: {rv}")), "{}", e.message);
        }
        other => panic!("expected 410, got {other:?}"),
    }
}

#[tokio::test]
async fn watch_with_selector_sees_objects_enter_and_leave() {
    let sim = serve(&cluster(3)).await;
    let nodes: Api<Node> = Api::all(client(&sim));
    let rv = nodes.list(&ListParams::default()).await.unwrap().metadata.resource_version.unwrap();
    let mut stream = nodes.watch(&WatchParams::default().labels("disktype=ssd"), &rv).await.unwrap().boxed();
    let label = |v: serde_json::Value| Patch::Merge(serde_json::json!({"metadata": {"labels": {"disktype": v}}}));
    nodes.patch("node-00", &PatchParams::default(), &label("ssd".into())).await.unwrap();
    nodes.patch("node-00", &PatchParams::default(), &label(serde_json::Value::Null)).await.unwrap();
    let mut types = Vec::new();
    while types.len() < 2 {
        match tokio::time::timeout(Duration::from_secs(5), stream.try_next()).await.unwrap().unwrap() {
            Some(WatchEvent::Added(n)) => types.push(("ADDED", n.metadata.labels.unwrap().contains_key("disktype"))),
            Some(WatchEvent::Deleted(n)) => types.push(("DELETED", n.metadata.labels.unwrap().contains_key("disktype"))),
            Some(WatchEvent::Bookmark(_)) => {}
            other => panic!("{other:?}"),
        }
    }
    // Entering the selector is ADDED; leaving it is DELETED with the last matching content.
    assert_eq!(types, [("ADDED", true), ("DELETED", true)]);
}

#[tokio::test]
async fn streaming_list_ends_with_initial_events_bookmark() {
    let sim = serve(&cluster(4)).await;
    let nodes: Api<Node> = Api::all(client(&sim));
    let wp = WatchParams::streaming_lists();
    let mut stream = nodes.watch(&wp, "").await.unwrap().boxed();
    let mut added = 0;
    loop {
        match tokio::time::timeout(Duration::from_secs(5), stream.try_next()).await.unwrap().unwrap() {
            Some(WatchEvent::Added(_)) => added += 1,
            Some(WatchEvent::Bookmark(b)) => {
                assert_eq!(b.metadata.annotations.get("k8s.io/initial-events-end").map(String::as_str), Some("true"));
                break;
            }
            other => panic!("{other:?}"),
        }
    }
    assert_eq!(added, 4);
}

#[tokio::test]
async fn watcher_runtime_follows_the_cluster() {
    // kube-runtime's watcher (what the TUI uses) over the simulator, with streaming lists.
    let sim = serve(&cluster(3)).await;
    let ds: Api<DaemonSet> = Api::namespaced(client(&sim), "kube-system");
    let cfg = kube::runtime::watcher::Config::default();
    let mut s = kube::runtime::watcher(ds.clone(), cfg).boxed();
    let mut init_done = false;
    while !init_done {
        if let kube::runtime::watcher::Event::InitDone =
            tokio::time::timeout(Duration::from_secs(5), s.try_next()).await.unwrap().unwrap().unwrap()
        {
            init_done = true;
        }
    }
    ds.patch("agent", &PatchParams::default(), &Patch::Merge(serde_json::json!({"metadata": {"labels": {"team": "infra"}}})))
        .await
        .unwrap();
    let got = loop {
        match tokio::time::timeout(Duration::from_secs(5), s.try_next()).await.expect("an event within 5s").unwrap() {
            Some(kube::runtime::watcher::Event::Apply(d)) if d.metadata.labels.as_ref().is_some_and(|l| l.contains_key("team")) => break d,
            Some(_) => continue,
            None => panic!("watcher ended"),
        }
    };
    assert_eq!(got.metadata.name.as_deref(), Some("agent"));
}

#[tokio::test]
async fn patch_kinds_conflicts_and_deletes() {
    let sim = serve(&cluster(3)).await;
    let c = client(&sim);
    let nodes: Api<Node> = Api::all(c.clone());
    // Strategic merge, as kubectl cordon sends it.
    let n = nodes
        .patch("node-00", &PatchParams::default(), &Patch::Strategic(serde_json::json!({"spec": {"unschedulable": true}})))
        .await
        .unwrap();
    assert_eq!(n.spec.unwrap().unschedulable, Some(true));
    // JSON patch.
    let n = nodes
        .patch(
            "node-00",
            &PatchParams::default(),
            &Patch::<()>::Json(
                serde_json::from_value(serde_json::json!([{"op": "add", "path": "/metadata/labels/x", "value": "1"}])).unwrap(),
            ),
        )
        .await
        .unwrap();
    assert_eq!(n.metadata.labels.as_ref().unwrap()["x"], "1");
    // A stale resourceVersion in a merge patch is a 409 Conflict, never a silent overwrite.
    let err = nodes
        .patch(
            "node-00",
            &PatchParams::default(),
            &Patch::Merge(serde_json::json!({"metadata": {"resourceVersion": "1", "labels": {"y": "2"}}})),
        )
        .await
        .unwrap_err();
    assert!(matches!(err, kube::Error::Api(ref s) if s.code == 409 && s.reason == "Conflict"), "{err:?}");
    // PUT with a stale resourceVersion: 409 too.
    let mut stale = n.clone();
    nodes.patch("node-00", &PatchParams::default(), &Patch::Merge(serde_json::json!({"metadata": {"labels": {"z": "3"}}}))).await.unwrap();
    stale.metadata.labels.as_mut().unwrap().insert("w".into(), "4".into());
    let err = nodes.replace("node-00", &Default::default(), &stale).await.unwrap_err();
    assert!(matches!(err, kube::Error::Api(ref s) if s.code == 409), "{err:?}");
    // An invalid label value: 422 with a field cause.
    let err = nodes
        .patch("node-00", &PatchParams::default(), &Patch::Merge(serde_json::json!({"metadata": {"labels": {"ok": "-bad-"}}})))
        .await
        .unwrap_err();
    match err {
        kube::Error::Api(s) => {
            assert_eq!((s.code, s.reason.as_str()), (422, "Invalid"));
            assert!(s.message.starts_with("Node \"node-00\" is invalid: metadata.labels: Invalid value: \"-bad-\""), "{}", s.message);
        }
        other => panic!("{other:?}"),
    }

    // Deleting a bound pod is graceful: Terminating first, then gone, then replaced.
    let pods: Api<Pod> = Api::namespaced(c.clone(), "kube-system");
    let victim = pods.list(&ListParams::default().fields("spec.nodeName=node-01")).await.unwrap().items.remove(0);
    let name = victim.metadata.name.clone().unwrap();
    let deleted = pods.delete(&name, &DeleteParams::default()).await.unwrap();
    let terminating = deleted.left().expect("a pod comes back as the object");
    assert!(terminating.metadata.deletion_timestamp.is_some());
    eventually(10, "pod gone and replaced", || {
        let pods = pods.clone();
        let name = name.clone();
        async move {
            let l = pods.list(&ListParams::default().fields("spec.nodeName=node-01")).await.ok()?;
            (l.items.len() == 1 && l.items[0].metadata.name.as_deref() != Some(name.as_str())).then_some(())
        }
    })
    .await;
    // A uid precondition that does not match: 409.
    let other = pods.list(&ListParams::default()).await.unwrap().items.remove(0);
    let err = pods
        .delete(
            other.metadata.name.as_deref().unwrap(),
            &DeleteParams {
                preconditions: Some(kube::api::Preconditions { uid: Some("nope".into()), resource_version: None }),
                ..Default::default()
            },
        )
        .await
        .unwrap_err();
    assert!(matches!(err, kube::Error::Api(ref s) if s.code == 409), "{err:?}");

    // Deleting the DaemonSet removes its pods and revisions (background cascading).
    let dss: Api<DaemonSet> = Api::namespaced(c.clone(), "kube-system");
    dss.delete("agent", &DeleteParams::default()).await.unwrap();
    eventually(10, "dependents collected", || {
        let pods = pods.clone();
        async move { pods.list(&ListParams::default()).await.ok()?.items.is_empty().then_some(()) }
    })
    .await;
    let revs: Api<k8s_openapi::api::apps::v1::ControllerRevision> = Api::namespaced(c, "kube-system");
    assert!(revs.list(&ListParams::default()).await.unwrap().items.is_empty());
}

#[tokio::test]
async fn in_process_client_without_a_socket() {
    // The router is a tower Service: tests can talk to the simulator with no TCP at all.
    let sim = build(&cluster(2));
    let client = kube::Client::new(sim.router(), "default");
    let nodes: Api<Node> = Api::all(client);
    assert_eq!(nodes.list(&ListParams::default()).await.unwrap().items.len(), 2);
}

//! After the initial sync the client only watches: no list requests and no new watch
//! requests while nothing fails, however much the cluster churns.

use crate::common;

use std::time::Duration;

use daemonscope::cluster::watch::{self, Scope, SyncState, Update};
use daemonscope::model::Resource;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_list_requests_after_the_initial_sync() {
    let text = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/assets/scenarios/demo.yaml")).unwrap();
    let sim = common::serve(&text).await;
    let client = common::cluster(&sim);
    let (tx, mut rx) = tokio::sync::mpsc::channel(16_384);
    let handles = watch::spawn(client, Scope::default(), tx);
    let mut live = std::collections::HashSet::new();
    let mut events = 0u64;
    tokio::time::timeout(Duration::from_secs(30), async {
        while live.len() < Resource::ALL.len() {
            match rx.recv().await.expect("watchers running") {
                Update::Sync(r, SyncState::Live) => {
                    live.insert(r);
                }
                Update::Sync(r, SyncState::Reconnecting { reason, .. }) => panic!("{r:?} failed: {reason}"),
                _ => events += 1,
            }
        }
    })
    .await
    .expect("every watch syncs");
    let count = |verb: &str| sim.api.request_log().iter().filter(|r| r.verb == verb).count();
    let lists = count("list");
    assert!(lists <= Resource::ALL.len(), "one list per resource at most: {lists}");
    // The demo's timeline churns for the next ~15 s: a rolling update, a node joining.
    let before = events;
    let _ = tokio::time::timeout(Duration::from_secs(15), async {
        while let Some(u) = rx.recv().await {
            match u {
                Update::Sync(r, SyncState::Reconnecting { reason, .. }) => panic!("{r:?} failed: {reason}"),
                Update::Change(_) => events += 1,
                _ => {}
            }
        }
    })
    .await;
    assert!(events > before + 20, "the churn reached the client: {} events", events - before);
    assert_eq!(count("list"), lists, "no relist after the initial sync");
    assert_eq!(count("watch"), Resource::ALL.len(), "one watch per resource, none restarted while nothing failed");
    for h in handles {
        h.abort();
    }
}

//! Sync feedback: until every watch is live, a progress line says how many objects each
//! list has delivered, with a percentage where the server said how many there are (the
//! first page's remainingItemCount, only on lists without a selector, as kube-apiserver),
//! and how long it has taken; then it is out of the way. The status line says `live` per
//! watch and, once, how old the newest event is — not an age beside each `live` that
//! reads like uptime.

use crate::common;

use std::time::Duration;

use daemonscope::cluster::watch::{self, Scope, SyncState, Update};
use daemonscope::model::{Change, Resource};
use daemonscope::ui::{App, Msg, Theme};
use k8s_openapi::api::core::v1::{Node, Pod};
use ratatui::Terminal;
use ratatui::backend::TestBackend;

fn screen(app: &mut App, w: u16, h: u16) -> String {
    let mut t = Terminal::new(TestBackend::new(w, h)).unwrap();
    t.draw(|f| app.draw(f)).unwrap();
    let buf = t.backend().buffer().clone();
    (0..h).map(|y| (0..w).map(|x| buf[(x, y)].symbol().to_string()).collect::<String>().trim_end().to_string() + "\n").collect()
}

fn demo() -> daemonscope::sim::Sim {
    common::build(&std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/assets/scenarios/demo.yaml")).unwrap())
}

#[test]
fn a_progress_line_until_every_watch_is_live_then_none() {
    let sim = demo();
    let mut app = App::new("test-context", Theme::new(false));
    let syncing = Resource::ALL.iter().map(|r| Update::Sync(*r, SyncState::Syncing));
    // The nodes' list said it holds 50; half have come. 40 pods, total unknown.
    let nodes: Vec<Change> = common::changes::<Node>(&sim).into_iter().take(25).collect();
    let pods: Vec<Change> = common::changes::<Pod>(&sim).into_iter().take(40).collect();
    let mut batch: Vec<Update> = syncing.collect();
    batch.push(Update::Change(Change::ResyncStart(Resource::Nodes)));
    batch.push(Update::Change(Change::ListTotal(Resource::Nodes, 50)));
    batch.extend(nodes.into_iter().chain(pods).map(Update::Change));
    app.update(Msg::Watch(batch));
    let s = screen(&mut app, 160, 20);
    let line = s.lines().nth(1).unwrap_or_default();
    assert!(line.contains("syncing") && line.contains("nodes 25 (50%)") && line.contains("pods 40…"), "{s}");
    assert!(line.contains("ds 0…") && line.trim_end().ends_with(" s"), "elapsed time at the end: {line}");
    // DaemonSets live: ticked, with their count.
    let ds = common::changes::<k8s_openapi::api::apps::v1::DaemonSet>(&sim);
    let n = ds.len();
    let mut batch: Vec<Update> = ds.into_iter().map(Update::Change).collect();
    batch.push(Update::Sync(Resource::DaemonSets, SyncState::Live));
    app.update(Msg::Watch(batch));
    // Watch events after the list are not list progress.
    let again: Vec<Update> = common::changes::<k8s_openapi::api::apps::v1::DaemonSet>(&sim).into_iter().map(Update::Change).collect();
    app.update(Msg::Watch(again));
    let s = screen(&mut app, 160, 20);
    assert!(s.lines().nth(1).unwrap_or_default().contains(&format!("ds {n} ✓")), "{s}");
    // Everything live: the line is gone, the view has the row back.
    app.update(Msg::Watch(common::all_updates(&sim)));
    let s = screen(&mut app, 160, 20);
    assert!(!s.contains("syncing"), "{s}");
    assert!(s.lines().nth(1).unwrap_or_default().starts_with("┌ DaemonSets"), "{s}");
}

#[test]
fn the_status_line_says_live_and_the_age_of_the_newest_event_once() {
    let sim = demo();
    let mut app = App::new("test-context", Theme::new(false));
    app.update(Msg::Watch(common::all_updates(&sim)));
    let s = screen(&mut app, 200, 20);
    let top = s.lines().next().unwrap_or_default();
    assert!(top.contains("ds: live  nodes: live  pods: live  revs: live  svc: live  last event 0s ago"), "{top}");
    assert_eq!(top.matches(" ago").count(), 1, "{top}");
    assert!(!top.contains("live 0s"), "no age beside live: {top}");
    // Too narrow for all five: said once, and the age stays on screen.
    let s = screen(&mut app, 100, 20);
    let top = s.lines().next().unwrap_or_default();
    assert!(top.contains("ns:all all live  last event 0s ago"), "{top}");
}

/// Against the simulator: a paged list without a selector (nodes) announces its total,
/// before its objects are complete; the daemon pods' list (narrowed by a label) does not.
/// (A watch-list says no total: the pages are asked for here.)
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_list_total_comes_from_remaining_item_count() {
    let sc = daemonscope::sim::generator::scenario(1_200, 1);
    let built = daemonscope::sim::Sim::build(&sc, daemonscope::sim::SimOptions::from_scenario(&sc)).unwrap();
    let sim = built.serve("127.0.0.1:0").await.unwrap();
    let (tx, mut rx) = tokio::sync::mpsc::channel(16_384);
    let mut cluster = common::cluster(&sim);
    cluster.fetch.watch_list = daemonscope::cluster::listwatch::WatchList::Off;
    let handles = watch::spawn_only(cluster, Scope::default(), tx, &[Resource::Nodes, Resource::Pods]);
    let mut totals = Vec::new();
    let mut nodes_before_total = None;
    let mut nodes = 0;
    let mut pods = 0;
    let mut live = std::collections::HashSet::new();
    tokio::time::timeout(Duration::from_secs(60), async {
        while live.len() < 2 {
            match rx.recv().await.expect("watchers running") {
                Update::Change(Change::ListTotal(r, n)) => {
                    totals.push((r, n));
                    if r == Resource::Nodes {
                        nodes_before_total = Some(nodes);
                    }
                }
                Update::Change(Change::Node(_)) => nodes += 1,
                Update::Change(Change::Pod(_)) => pods += 1,
                Update::Sync(r, SyncState::Live) => {
                    live.insert(r);
                }
                Update::Sync(r, SyncState::Reconnecting { reason, .. }) => panic!("{r:?}: {reason}"),
                _ => {}
            }
        }
    })
    .await
    .expect("both watches sync");
    assert_eq!(totals, [(Resource::Nodes, 1_200)]);
    assert_eq!(nodes_before_total, Some(0), "the total comes with the first page, before its objects");
    assert_eq!(nodes, 1_200);
    assert!(pods > 500, "the pods' list is paged too ({pods} pods), yet has no total");
    for h in handles {
        h.abort();
    }
}

//! A maintenance roll whose drain a PodDisruptionBudget blocks is held: it starts no
//! further node until the budget allows the eviction, says HELD, and shows the drain's
//! blocker table — the pod, the budget and the disruptions it allows, how long it has been
//! blocked, and for a node that is down that its pods will not terminate on their own —
//! below every view; raising the budget lets it go on to the end.

use crate::common;

use std::time::{Duration, Instant};

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use daemonscope::cluster::drain_job::Blocker;
use daemonscope::cluster::jobs::JobResult;
use daemonscope::cluster::roll::{self, RollSpec, RollState, RollStatus};
use daemonscope::ui::{App, Msg, Theme};
use ratatui::{Terminal, backend::TestBackend};

fn screen(app: &mut App, w: u16, h: u16) -> String {
    let mut t = Terminal::new(TestBackend::new(w, h)).unwrap();
    t.draw(|f| app.draw(f)).unwrap();
    common::screen_text(t.backend().buffer())
}

fn key(app: &mut App, c: char) {
    let _ = app.update(Msg::Key(KeyEvent::new(KeyCode::Char(c), KeyModifiers::NONE)));
}

/// The roll's blocker table at every size, below the rollout view and the DaemonSets list:
/// the node (down in the demo: said), the pod, the budget, what it allows, for how long.
#[test]
fn a_held_maintenance_roll_shows_the_blocker_table_at_every_size() {
    let sim = common::demo_at(5, 3);
    let mut app = App::new("test-context", Theme::new(false));
    let _ = app.update(Msg::Watch(common::all_updates(&sim)));
    key(&mut app, 'r');
    let ds = app.selected().map(|d| format!("{}/{}", d.namespace, d.name)).expect("a DaemonSet selected");
    // general-b-0005 is NotReady in the demo.
    let node = "general-b-0005";
    let status = RollStatus {
        ds: ds.clone(),
        state: RollState::Running,
        done: 2,
        remaining: 10,
        in_flight: vec![],
        skipped: vec![],
        draining: vec![format!("{node} (shop/web-1 blocked 12s by PDB web (allows 0))")],
        cordoned: vec![],
        blockers: vec![Blocker {
            node: node.into(),
            pod: "shop/web-1".into(),
            budgets: vec![("web".into(), 0)],
            message: "Cannot evict pod as it would violate the pod's disruption budget.".into(),
            blocked: Duration::from_secs(12),
            at: Instant::now(),
        }],
    };
    assert!(status.is_held());
    let _ = app.update(Msg::Job(JobResult::Roll(status.clone())));
    for view in ["rollout", "ds"] {
        if view == "ds" {
            key(&mut app, ':');
            for c in "ds\r".chars() {
                let code = if c == '\r' { KeyCode::Enter } else { KeyCode::Char(c) };
                let _ = app.update(Msg::Key(KeyEvent::new(code, KeyModifiers::NONE)));
            }
        }
        for (w, h) in [(80, 24), (120, 35), (200, 50)] {
            let s = screen(&mut app, w, h);
            let at = format!("{view} at {w}×{h}:\n{s}");
            assert!(s.contains(&format!("┌ roll of {ds} HELD")), "{at}");
            assert!(s.contains(&format!("{node}  cordoned, draining")), "{at}");
            assert!(s.contains("shop/web-1 blocked 12s by PDB web (allows 0)"), "{at}");
            if w >= 120 {
                assert!(s.contains("— the node is down: its pods will not terminate on their own"), "{at}");
                assert!(s.contains(&format!("[REAL roll of {ds} held]")), "{at}");
            }
            if w == 200 {
                assert!(s.contains("no further node starts until the budget allows; :roll abort stops it"), "{at}");
            }
            if view == "rollout" {
                assert_screen!(format!("held_roll_{w}x{h}"), s, r"\b\d+s ago" => "Ns ago");
            }
        }
    }
    // Unblocked: the table goes, the roll runs.
    let _ = app.update(Msg::Job(JobResult::Roll(RollStatus { blockers: vec![], draining: vec![node.into()], ..status })));
    let s = screen(&mut app, 120, 35);
    assert!(!s.contains("HELD") && !s.contains("blocked 12s"), "{s}");
}

/// `:roll 2 --drain` where the budget holds one of the first two nodes: the other is
/// drained, replaced and uncordoned, but no third node is started while the drain stays
/// blocked; once the budget allows one the roll goes on to the end.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_maintenance_roll_starts_no_further_node_while_a_budget_blocks_a_drain() {
    let (sim, _client, pdbs) = crate::roll_maintenance::outdated_behind_a_budget().await;
    let seen = std::sync::Arc::new(std::sync::Mutex::new(Vec::<RollStatus>::new()));
    let s2 = seen.clone();
    let spec = RollSpec {
        namespace: "kube-system".into(),
        name: "agent".into(),
        batch: 2,
        timeout: Duration::from_secs(60),
        nodes: ["node-a", "node-b", "node-c"].iter().map(|n| n.to_string()).collect(),
        drain: true,
    };
    let (_tx, rx) = tokio::sync::mpsc::unbounded_channel();
    let run = tokio::spawn(roll::run(common::cluster(&sim), spec, rx, move |s| s2.lock().unwrap().push(s)));
    // One of node-a and node-b (the web pod's) is held; the other is done.
    let held = common::until(60, "one node done while the other's drain is held", || {
        let seen = seen.lock().unwrap();
        let r = seen.iter().find(|s| s.done == 1 && s.is_held()).cloned();
        std::future::ready(r.ok_or_else(|| format!("{:?}", seen.last().map(RollStatus::line))))
    })
    .await;
    let blocked = held.blockers[0].node.clone();
    assert!(blocked == "node-a" || blocked == "node-b", "{held:?}");
    assert_eq!(held.blockers[0].budgets, vec![("web".to_string(), 0)]);
    assert!(held.line().contains("HELD by a budget"), "{}", held.line());
    // Every status while held: node-c neither draining nor being replaced.
    for s in seen.lock().unwrap().iter().filter(|s| s.is_held()) {
        assert!(!s.draining.iter().any(|d| d.starts_with("node-c")) && !s.in_flight.contains(&"node-c".to_string()), "{}", s.line());
    }
    let patch = serde_json::json!({"spec": {"minAvailable": 0}});
    pdbs.patch("web", &Default::default(), &kube::api::Patch::Merge(patch)).await.unwrap();
    let end = tokio::time::timeout(Duration::from_secs(120), run).await.expect("the roll ends").unwrap();
    assert_eq!((end.state.clone(), end.done), (RollState::Done, 3), "{}", end.line());
    for s in seen.lock().unwrap().iter().filter(|s| s.is_held()) {
        assert!(!s.draining.iter().any(|d| d.starts_with("node-c")) && !s.in_flight.contains(&"node-c".to_string()), "{}", s.line());
    }
}

/// End to end, the real binary in a pseudo-terminal: `:roll 1 --drain` where a budget with
/// `maxUnavailable: 0` blocks the first node's drain shows the roll HELD with the blocker
/// table; raising the budget lets it finish, the nodes it cordoned back in service and
/// every daemon pod new.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_tui_shows_a_held_maintenance_roll_with_its_blocker_table_until_the_budget_allows() {
    use common::pty::Tui;
    use k8s_openapi::api::core::v1::{Node, Pod};
    let Some(bin) = common::kubectl_bin() else { return };
    let (sim, client, pdbs) = crate::roll_maintenance::outdated_behind_a_budget().await;
    let strict = serde_json::json!({"spec": {"minAvailable": null, "maxUnavailable": 0}});
    pdbs.patch("web", &Default::default(), &kube::api::Patch::Merge(strict)).await.unwrap();
    let kubectl = common::Kubectl::new(bin, &sim, None);
    let kc = kubectl.dir.path().join("config").to_str().unwrap().to_string();
    let t = tokio::task::spawn_blocking(move || {
        let mut t = Tui::start(&["--kubeconfig", &kc], &[]);
        t.wait_pods_live(20);
        t.keys(":roll 1 --drain\r");
        t.wait_for("maintenance roll of", 15);
        t.keys("y");
        let s = t.wait_for("┌ roll of kube-system/agent HELD", 30);
        assert!(s.contains("cordoned, draining"), "{s}");
        let row = s.lines().find(|l| l.contains(" blocked ") && l.contains("by PDB web (allows 0)")).unwrap_or_else(|| panic!("{s}"));
        assert!(row.contains("default/web-"), "{s}");
        assert!(s.contains("[REAL roll of kube-system/agent held]"), "{s}");
        t
    })
    .await
    .unwrap();
    kubectl.ok_async(&["patch", "pdb", "web", "-n", "default", "--type", "merge", "-p", r#"{"spec":{"maxUnavailable":1}}"#]).await;
    tokio::task::spawn_blocking(move || {
        let mut t = t;
        let s = t.wait_for("roll of kube-system/agent done", 90);
        assert!(!s.contains("HELD"), "{s}");
        t.keys("q");
    })
    .await
    .unwrap();
    let nodes: kube::Api<Node> = kube::Api::all(client.clone());
    for (name, cordoned) in [("node-a", None), ("node-b", None), ("node-c", Some(true))] {
        assert_eq!(nodes.get(name).await.unwrap().spec.and_then(|s| s.unschedulable), cordoned, "{name}");
    }
    let agents: kube::Api<Pod> = kube::Api::namespaced(client, "kube-system");
    let images: Vec<String> = agents
        .list(&Default::default())
        .await
        .unwrap()
        .items
        .iter()
        .filter(|p| p.metadata.deletion_timestamp.is_none())
        .map(|p| p.spec.as_ref().unwrap().containers[0].image.clone().unwrap_or_default())
        .collect();
    assert_eq!(images, vec!["registry.example/agent:v2"; 3]);
}

//! `D` in the TUI, end to end: the real binary in a pseudo-terminal on the simulator. The
//! confirmation names the pod that goes, its ReplicaSet and the budget that allows no
//! disruption now; once confirmed the node is cordoned and the blocker table names the
//! pod and the budget while it waits; raising the budget lets the eviction through and
//! the drain ends, the node left cordoned — and pods only ever left through the Eviction
//! API (no DELETE of a pod was sent).

use crate::common;

use common::pty::Tui;
use k8s_openapi::api::core::v1::Pod;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn d_drains_the_node_naming_the_budget_that_blocks_it_until_it_allows() {
    let sim = common::serve(&crate::drain::cluster()).await;
    let Some(bin) = common::kubectl_bin() else { return };
    let client = common::client(&sim);
    let pods: kube::Api<Pod> = kube::Api::namespaced(client.clone(), "default");
    let (web, web_on) = common::until(30, "the web pod bound", || async {
        let l = pods.list(&kube::api::ListParams::default().labels("app=web")).await.map_err(|e| e.to_string())?;
        let p = l.items.into_iter().next().ok_or("no web pod")?;
        let node = p.spec.as_ref().and_then(|s| s.node_name.clone()).ok_or("not bound")?;
        Ok::<_, String>((p.metadata.name.unwrap(), node))
    })
    .await;
    let kubectl = std::sync::Arc::new(common::Kubectl::new(bin, &sim, None));
    let kc = kubectl.dir.path().join("config").to_str().unwrap().to_string();
    let k = kubectl.clone();
    let node = web_on.clone();
    let pod = web.clone();
    tokio::task::spawn_blocking(move || {
        let web = pod;
        let mut t = Tui::start(&["--kubeconfig", &kc], &[]);
        t.wait_pods_live(20);
        t.keys("n");
        t.wait_for("nodes (3, by name)", 10);
        // The nodes are listed by name: node-a, node-b, node-c.
        let down = ["node-a", "node-b", "node-c"].iter().position(|n| *n == node).unwrap();
        t.keys(&"j".repeat(down));
        t.keys("D");
        let s = t.wait_for("drain 1 node?", 15);
        for want in [
            format!("node/{node}: cordon, then evict 1 pod through the Eviction API"),
            format!("default/{web} (ReplicaSet web) — PDB web allows 0 now: waits until it allows one"),
            "stay: 1 DaemonSet pod, 0 mirror pods".to_string(),
        ] {
            assert!(s.contains(&want), "{want:?} in:\n{s}");
        }
        t.keys("y");
        let s = t.wait_for("by PDB web (allows 0)", 20);
        assert!(s.contains(&format!("default/{web} blocked ")), "{s}");
        assert!(s.contains("cordoned; evicting: 0 of 1 pod(s) gone"), "{s}");
        assert_eq!(k.ok(&["get", "node", &node, "-o", "jsonpath={.spec.unschedulable}"]), "true");
        // The budget allows one: the eviction goes through and the drain ends.
        k.ok(&["patch", "pdb", "web", "-n", "default", "--type", "merge", "-p", r#"{"spec":{"minAvailable":0}}"#]);
        t.wait_for("drain: 1 of 1 node(s) drained; they stay cordoned", 30);
        t.keys("q");
    })
    .await
    .unwrap();
    let requests = sim.api.request_log();
    let evictions: Vec<u16> =
        requests.iter().filter(|r| r.method == "POST" && r.path.ends_with(&format!("/pods/{web}/eviction"))).map(|r| r.status).collect();
    assert!(evictions.first() == Some(&429) && evictions.last() == Some(&201), "{evictions:?}");
    assert!(!requests.iter().any(|r| r.method == "DELETE" && r.path.contains("/pods/")), "a pod was deleted, not evicted");
}

/// The drain under way sits below the node views at every size, the view above it still
/// drawn, and names the blocked pod, its budget and how long it has been blocked.
#[test]
fn a_drain_under_way_shows_below_the_node_views_at_every_size() {
    use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
    use daemonscope::cluster::drain_job::{Blocker, DrainStatus, NodeState};
    use daemonscope::cluster::jobs::JobResult;
    use daemonscope::ui::{App, Msg, Theme};
    use ratatui::{Terminal, backend::TestBackend};
    let sim = common::demo_at(5, 3);
    let mut app = App::new("test-context", Theme::new(false));
    let _ = app.update(Msg::Watch(common::all_updates(&sim)));
    let node = app.model().nodes().next().map(|(_, n)| n.name.clone()).unwrap();
    let mut st = DrainStatus::new(&[node.clone(), "zz-next".into()], false);
    st.nodes[0].1 = NodeState::Evicting { gone: 1, of: 3 };
    st.blockers.push(Blocker {
        node: node.clone(),
        pod: "default/web-1".into(),
        budgets: vec![("web".into(), 0)],
        message: "Cannot evict pod as it would violate the pod's disruption budget.".into(),
        blocked: std::time::Duration::from_secs(12),
        at: std::time::Instant::now(),
    });
    let _ = app.update(Msg::Job(JobResult::Drain(st)));
    for key in ['n', 'm'] {
        let _ = app.update(Msg::Key(KeyEvent::new(KeyCode::Char(key), KeyModifiers::NONE)));
        for (w, h) in [(80, 24), (120, 35), (200, 50)] {
            let mut t = Terminal::new(TestBackend::new(w, h)).unwrap();
            t.draw(|f| app.draw(f)).unwrap();
            let s = common::screen_text(t.backend().buffer());
            let at = format!("{key} at {w}×{h}:\n{s}");
            assert!(s.contains(&format!("{node}  cordoned; evicting: 1 of 3 pod(s) gone")), "{at}");
            assert!(s.contains("default/web-1 blocked 12s by PDB web (allows 0)"), "{at}");
            assert!(s.contains("zz-next  waiting"), "{at}");
            assert!(s.contains("┌ drain — retried while a budget blocks"), "{at}");
            // The view above is still there.
            let above = if key == 'n' { "┌ nodes (" } else { "┌ node × DaemonSet" };
            assert!(s.contains(above), "{at}");
        }
    }
}

/// A user the server does not allow to create `pods/eviction` (SelfSubjectAccessReview)
/// is told so on `D`, and nothing is asked of the cluster — not even the pod list.
#[test]
fn d_is_forbidden_without_the_eviction_permission_and_sends_nothing() {
    use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
    use daemonscope::cluster::jobs::JobResult;
    use daemonscope::model::plan::EVICT_PODS;
    use daemonscope::ui::{App, Msg, Theme};
    let sim = common::demo_at(5, 3);
    let mut app = App::new("test-context", Theme::new(false));
    let _ = app.update(Msg::Watch(common::all_updates(&sim)));
    let _ = app.update(Msg::Job(JobResult::Permissions(vec![(EVICT_PODS, Ok(false))])));
    let _ = app.update(Msg::Key(KeyEvent::new(KeyCode::Char('n'), KeyModifiers::NONE)));
    let effects = app.update(Msg::Key(KeyEvent::new(KeyCode::Char('D'), KeyModifiers::SHIFT)));
    assert_eq!(app.message(), Some("forbidden: this user may not create pods/eviction (SelfSubjectAccessReview); nothing was sent"));
    assert!(effects.is_empty() && app.confirm().is_none(), "{effects:?}");
}

/// Nodes a maintenance roll cordoned and did not uncordon (it was aborted or killed) are
/// named in a banner with the way out, until they are uncordoned.
#[test]
fn nodes_left_cordoned_by_a_maintenance_roll_are_named_with_the_way_out() {
    use daemonscope::sim::kind::Kind;
    use daemonscope::sim::scenario::Action;
    use daemonscope::ui::{App, Msg, Theme};
    use ratatui::{Terminal, backend::TestBackend};
    let sim = common::demo_at(5, 3);
    let mark = serde_json::json!({"metadata": {"annotations": {"daemonscope.io/cordoned-by": "roll of kube-system/cilium at 2026-12-07T03:12:00Z"}}, "spec": {"unschedulable": true}});
    for n in ["general-a-0001", "general-a-0002"] {
        sim.apply(&Action::Patch { kind: Kind::Node, namespace: String::new(), name: n.into(), patch: mark.clone() }).unwrap();
    }
    let mut app = App::new("test-context", Theme::new(false));
    let _ = app.update(Msg::Watch(common::all_updates(&sim)));
    for (w, h) in [(80, 24), (200, 50)] {
        let mut t = Terminal::new(TestBackend::new(w, h)).unwrap();
        t.draw(|f| app.draw(f)).unwrap();
        let s = common::screen_text(t.backend().buffer());
        assert!(s.contains("⚠ interrupted maintenance? 2 nodes cordoned by a roll of kube-system/cilium"), "{w}×{h}:\n{s}");
        if w == 200 {
            assert!(
                s.contains(
                    "general-a-0001, general-a-0002 · unless that roll still runs elsewhere: resume it (:roll N --drain) or uncordon (u)"
                ),
                "{s}"
            );
        }
    }
}

/// `:drain --grace 30s --timeout 10m` drains as `D` does, with kubectl drain's
/// `--grace-period` and `--timeout`: the confirmation says so, the job gets them, the next
/// `D` keeps them, `0` sets the default back, and a bad value is one line.
#[test]
fn drain_takes_a_grace_period_and_a_timeout_kept_for_the_next_d() {
    use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
    use daemonscope::cluster::jobs::{Effect, JobResult};
    use daemonscope::model::plan::drain::{DrainPlan, DrainTiming, Planned};
    use daemonscope::ui::{App, Msg, Theme};
    use std::time::Duration;
    let sim = common::demo_at(5, 3);
    let mut app = App::new("test-context", Theme::new(false));
    let _ = app.update(Msg::Watch(common::all_updates(&sim)));
    let typed = |app: &mut App, s: &str| {
        let mut fx = Vec::new();
        for c in s.chars() {
            let code = if c == '\r' { KeyCode::Enter } else { KeyCode::Char(c) };
            fx.extend(app.update(Msg::Key(KeyEvent::new(code, KeyModifiers::NONE))));
        }
        fx
    };
    let plan = |app: &mut App, fx: Vec<Effect>| {
        let nodes = match fx.as_slice() {
            [Effect::PlanDrain { nodes, disable_eviction: false }] => nodes.clone(),
            other => panic!("{other:?}"),
        };
        let plans = nodes.iter().map(|n| (n.clone(), DrainPlan::default())).collect();
        let _ =
            app.update(Msg::Job(JobResult::DrainPlan { nodes, disable_eviction: false, plans: Ok(Planned { plans, budgets: vec![] }) }));
        app.confirm().expect("the drain's confirmation").lines.join("\n")
    };
    let fx = typed(&mut app, "n:drain --grace 30s --timeout 10m\r");
    let lines = plan(&mut app, fx);
    assert!(
        lines.contains("each evicted pod gets 30s to stop; a node not drained within 10m is given up (:drain --grace D --timeout D)."),
        "{lines}"
    );
    let want = DrainTiming { grace: Some(Duration::from_secs(30)), timeout: Some(Duration::from_secs(600)) };
    let fx = typed(&mut app, "y");
    assert!(matches!(fx.as_slice(), [Effect::Drain { timing, .. }] if *timing == want), "{fx:?}");
    // The next D keeps them; `--timeout 0` sets the default back.
    let _ = app.update(Msg::Job(JobResult::Drain(daemonscope::cluster::drain_job::DrainStatus {
        finished: true,
        ..daemonscope::cluster::drain_job::DrainStatus::new(&[], false)
    })));
    let fx = app.update(Msg::Key(KeyEvent::new(KeyCode::Char('D'), KeyModifiers::SHIFT)));
    assert!(plan(&mut app, fx).contains("each evicted pod gets 30s to stop; a node not drained within 10m"));
    let _ = typed(&mut app, "n");
    let fx = typed(&mut app, ":drain --timeout 0\r");
    assert!(plan(&mut app, fx).contains("each evicted pod gets 30s to stop; it waits as long as a budget blocks"));
    let _ = typed(&mut app, "n");
    let fx = typed(&mut app, ":drain --grace soon\r");
    assert!(fx.is_empty() && app.confirm().is_none(), "{fx:?}");
    assert!(app.message().is_some_and(|m| m.contains("soon") && !m.contains('\n')), "{:?}", app.message());
}

/// The drain job honours the timeout: a node a budget holds past it is given up, named,
/// and the pod stays.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_drain_held_past_its_timeout_gives_the_node_up() {
    use daemonscope::cluster::drain_job::{DrainStatus, NodeState, run};
    use daemonscope::model::plan::drain::DrainTiming;
    let sim = common::serve(&crate::drain::cluster()).await;
    let client = common::client(&sim);
    let pods: kube::Api<Pod> = kube::Api::namespaced(client.clone(), "default");
    let node = common::until(30, "the web pod ready", || async {
        let l = pods.list(&kube::api::ListParams::default().labels("app=web")).await.map_err(|e| e.to_string())?;
        let p = l.items.into_iter().next().ok_or("no web pod")?;
        let ready = p
            .status
            .as_ref()
            .and_then(|s| s.conditions.as_ref())
            .is_some_and(|c| c.iter().any(|c| c.type_ == "Ready" && c.status == "True"));
        let node = p.spec.as_ref().and_then(|s| s.node_name.clone()).filter(|_| ready).ok_or("not ready")?;
        Ok::<_, String>(node)
    })
    .await;
    let timing = DrainTiming { grace: Some(std::time::Duration::from_secs(1)), timeout: Some(std::time::Duration::from_secs(2)) };
    let status = std::sync::Arc::new(std::sync::Mutex::new(DrainStatus { timing, ..DrainStatus::new(std::slice::from_ref(&node), false) }));
    tokio::time::timeout(
        std::time::Duration::from_secs(60),
        run(client.into(), status.clone(), daemonscope::cluster::drain::PauseSwitch::new().1, |_| {}),
    )
    .await
    .expect("the drain ends");
    let s = status.lock().unwrap().clone();
    assert!(s.finished);
    match &s.nodes[0].1 {
        NodeState::Failed(why) => assert!(why.contains("still blocked at the timeout"), "{why}"),
        other => panic!("{other:?}"),
    }
    assert!(s.line().contains(&format!("drain: 0 of 1 node(s) drained; they stay cordoned — {node}: ")), "{}", s.line());
    assert_eq!(pods.list(&kube::api::ListParams::default().labels("app=web")).await.unwrap().items.len(), 1);
}

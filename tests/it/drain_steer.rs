//! Steering the TUI's drain: `P` (and `:drain pause` / `:drain resume`) holds every
//! eviction not yet sent — the panel says PAUSED, since when, and how many pods wait for
//! the resume — and lets the drain go on; `:drain --disable-eviction` deletes the pods
//! past their PodDisruptionBudgets, as kubectl drain's `--disable-eviction`, after a
//! confirmation that says the budgets are bypassed, and for that drain only.

use crate::common;

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use daemonscope::cluster::drain::PauseSwitch;
use daemonscope::cluster::drain_job::{Blocker, DrainStatus, NodeState, run};
use daemonscope::cluster::jobs::{Effect, JobResult};
use daemonscope::model::plan::drain::{BudgetFacts, DrainPlan, Planned, PodFacts};
use daemonscope::ui::{App, Msg, Theme};
use k8s_openapi::api::core::v1::Pod;
use k8s_openapi::api::policy::v1::PodDisruptionBudget;
use ratatui::{Terminal, backend::TestBackend};

const SIZES: [(u16, u16); 3] = [(80, 24), (120, 35), (200, 50)];

fn press(app: &mut App, s: &str) -> Vec<Effect> {
    let mut fx = Vec::new();
    for c in s.chars() {
        let code = if c == '\r' { KeyCode::Enter } else { KeyCode::Char(c) };
        let m = if c.is_ascii_uppercase() { KeyModifiers::SHIFT } else { KeyModifiers::NONE };
        fx.extend(app.update(Msg::Key(KeyEvent::new(code, m))));
    }
    fx
}

fn screen(app: &mut App, w: u16, h: u16) -> String {
    let mut t = Terminal::new(TestBackend::new(w, h)).unwrap();
    t.draw(|f| app.draw(f)).unwrap();
    common::screen_text(t.backend().buffer())
}

/// The demo in the app, in the nodes view, with a drain of its first node under way: one
/// pod blocked 12 s by a budget that allows nothing.
fn app_draining() -> (App, DrainStatus) {
    let sim = common::demo_at(5, 3);
    let mut app = App::new("test-context", Theme::new(false));
    let _ = app.update(Msg::Watch(common::all_updates(&sim)));
    let node = app.model().nodes().next().map(|(_, n)| n.name.clone()).unwrap();
    let mut st = DrainStatus::new(&[node.clone(), "zz-next".into()], false);
    st.nodes[0].1 = NodeState::Evicting { gone: 1, of: 3 };
    st.blockers.push(Blocker {
        node,
        pod: "shop/web-1".into(),
        budgets: vec![("web".into(), 0)],
        message: "Cannot evict pod as it would violate the pod's disruption budget.".into(),
        blocked: Duration::from_secs(12),
        at: Instant::now(),
    });
    let _ = app.update(Msg::Job(JobResult::Drain(st.clone())));
    let _ = press(&mut app, "n");
    (app, st)
}

/// `P` pauses the drain under way and says so — in the panel's title, on the node's row,
/// and with how long and how many pods wait; `P` again (or `:drain resume`) resumes it.
/// The hint bar offers `P` only while a drain is under way, as pause or resume.
#[test]
fn p_pauses_the_drain_the_panel_says_paused_since_when_and_p_resumes() {
    let (mut app, st) = app_draining();
    let s = screen(&mut app, 120, 35);
    assert!(s.contains("<P> pause"), "the hint bar offers P:\n{s}");
    assert!(s.contains("┌ drain — retried while a budget blocks; P pauses, :drain abort stops it"), "{s}");
    assert_eq!(press(&mut app, "P"), vec![Effect::DrainPause(true)]);
    // The job answers with the status paused (75 s ago here) and the pod it holds.
    let mut paused = st.clone();
    paused.set_paused(true, Instant::now() - Duration::from_secs(75));
    paused.held.push("shop/web-1".into());
    let _ = app.update(Msg::Job(JobResult::Drain(paused.clone())));
    for (w, h) in SIZES {
        let s = screen(&mut app, w, h);
        let at = format!("{w}×{h}:\n{s}");
        assert!(s.contains("drain PAUSED for 75s — no eviction sent"), "{at}");
        assert!(s.contains("cordoned; evicting, PAUSED: 1 of 3 pod(s) gone"), "{at}");
        assert!(s.contains("shop/web-1 blocked"), "{at}");
        assert!(s.contains("<P> resume"), "{at}");
        if w >= 120 {
            assert!(s.contains("PAUSED for 75s — no eviction sent (1 pod held); P resumes, :drain abort stops it"), "{at}");
        }
        assert_screen!(format!("paused_drain_{w}x{h}"), s, r"\b\d+s ago" => "Ns ago");
    }
    assert_eq!(press(&mut app, "P"), vec![Effect::DrainPause(false)]);
    assert_eq!(press(&mut app, ":drain pause\r"), vec![Effect::DrainPause(true)]);
    assert_eq!(press(&mut app, ":drain resume\r"), vec![Effect::DrainPause(false)]);
    // Away from the node views the bottom line says it.
    let _ = press(&mut app, ":ds\r");
    assert!(
        screen(&mut app, 200, 50)
            .contains("drain PAUSED 75s: 0 of 2 node(s) drained — shop/web-1 blocked by PDB web (allows 0) (P resumes")
    );
    // Ended: nothing to pause, and P leaves the hint bar.
    let _ = press(&mut app, "n");
    let _ = app.update(Msg::Job(JobResult::Drain(DrainStatus { finished: true, ..st })));
    assert!(!screen(&mut app, 200, 50).contains("<P>"));
    assert!(press(&mut app, "P").is_empty());
    assert_eq!(app.message(), Some("no drain is under way"));
}

/// Under `--readonly` there is no drain to steer: `P` says so and sends nothing.
#[test]
fn p_is_absent_under_readonly() {
    let sim = common::demo_at(5, 3);
    let session = daemonscope::ui::Session { readonly: true, ..Default::default() };
    let mut app = App::new("test-context", Theme::new(false)).with_session(session);
    let _ = app.update(Msg::Watch(common::all_updates(&sim)));
    let _ = press(&mut app, "n");
    assert!(press(&mut app, "P").is_empty());
    assert_eq!(app.message(), Some("read-only: drain is disabled"));
}

/// The web pod on one node, counted by its budget (which allows nothing), and the node.
async fn web_blocked(sim: &daemonscope::sim::Running) -> (String, String) {
    let client = common::client(sim);
    let pods: kube::Api<Pod> = kube::Api::namespaced(client.clone(), "default");
    let pdbs: kube::Api<PodDisruptionBudget> = kube::Api::namespaced(client, "default");
    common::until(30, "the web pod counted by its budget", || async {
        let s = pdbs.get("web").await.unwrap().status.unwrap_or_default();
        if s.current_healthy != 1 {
            return Err(format!("{s:?}"));
        }
        let l = pods.list(&kube::api::ListParams::default().labels("app=web")).await.map_err(|e| e.to_string())?;
        let p = l.items.into_iter().next().ok_or("no web pod")?;
        let node = p.spec.as_ref().and_then(|s| s.node_name.clone()).ok_or("not bound")?;
        Ok((p.metadata.name.unwrap(), node))
    })
    .await
}

async fn allow_one(sim: &daemonscope::sim::Running) {
    let pdbs: kube::Api<PodDisruptionBudget> = kube::Api::namespaced(common::client(sim), "default");
    let patch = serde_json::json!({"spec": {"minAvailable": 0}});
    pdbs.patch("web", &Default::default(), &kube::api::Patch::Merge(patch)).await.unwrap();
    common::until(30, "one disruption allowed", || async {
        let s = pdbs.get("web").await.unwrap().status.unwrap_or_default();
        if s.disruptions_allowed == 1 { Ok(()) } else { Err(format!("{s:?}")) }
    })
    .await;
}

fn evictions(sim: &daemonscope::sim::Running, pod: &str, status: u16) -> usize {
    let tail = format!("/pods/{pod}/eviction");
    sim.api.request_log().iter().filter(|r| r.method == "POST" && r.path.ends_with(&tail) && r.status == status).count()
}

/// The drain job paused while a budget blocks it: the pod's next eviction waits for the
/// resume (the status says it holds the pod), so even once the budget allows one nothing
/// is evicted; resumed, the eviction goes through and the node is drained.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_paused_drain_sends_no_eviction_until_it_is_resumed() {
    let sim = common::serve(&crate::drain::cluster()).await;
    let (web, node) = web_blocked(&sim).await;
    let key = format!("default/{web}");
    let status = Arc::new(Mutex::new(DrainStatus::new(std::slice::from_ref(&node), false)));
    let (pause, switch) = PauseSwitch::new();
    let job = tokio::spawn(run(common::client(&sim).into(), status.clone(), switch, |_| {}));
    let now = || status.lock().unwrap().clone();
    common::until(30, "the drain blocked by the budget", || {
        std::future::ready(if now().blockers.is_empty() { Err(now().line()) } else { Ok(()) })
    })
    .await;
    // As the jobs do on `P`: the switch first, then the status.
    pause.send_replace(true);
    status.lock().unwrap().set_paused(true, Instant::now());
    common::until(30, "the pod held by the pause", || {
        std::future::ready(if now().held == [key.clone()] { Ok(()) } else { Err(now().line()) })
    })
    .await;
    allow_one(&sim).await;
    assert_eq!(evictions(&sim, &web, 201), 0, "evicted while paused");
    assert!(now().line().starts_with("drain PAUSED"), "{}", now().line());
    pause.send_replace(false);
    status.lock().unwrap().set_paused(false, Instant::now());
    tokio::time::timeout(Duration::from_secs(60), job).await.expect("the drain ends").unwrap();
    let end = now();
    assert_eq!(end.nodes[0].1, NodeState::Drained, "{}", end.line());
    assert_eq!(evictions(&sim, &web, 201), 1);
}

/// `--disable-eviction`: a budget that allows nothing does not stop the drain — the pod is
/// deleted (DELETE, no eviction) — while the same drain without it never deletes a pod
/// and is given up at its timeout.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn disable_eviction_deletes_past_a_blocking_budget_and_only_when_asked() {
    use daemonscope::model::plan::drain::DrainTiming;
    let sim = common::serve(&crate::drain::cluster()).await;
    let (web, node) = web_blocked(&sim).await;
    let deletes = || sim.api.request_log().iter().filter(|r| r.method == "DELETE" && r.path.contains("/pods/")).count();
    let timing = DrainTiming { grace: None, timeout: Some(Duration::from_secs(2)) };
    let drain = |disable_eviction: bool| {
        let st = DrainStatus { timing, disable_eviction, ..DrainStatus::new(std::slice::from_ref(&node), false) };
        let status = Arc::new(Mutex::new(st));
        let job = run(common::client(&sim).into(), status.clone(), PauseSwitch::new().1, |_| {});
        async move {
            tokio::time::timeout(Duration::from_secs(60), job).await.expect("the drain ends");
            status.lock().unwrap().clone()
        }
    };
    let held = drain(false).await;
    assert!(matches!(&held.nodes[0].1, NodeState::Failed(why) if why.contains("still blocked at the timeout")), "{}", held.line());
    assert_eq!(deletes(), 0, "a pod was deleted without --disable-eviction");
    assert!(evictions(&sim, &web, 429) >= 1);
    let done = drain(true).await;
    assert_eq!(done.nodes[0].1, NodeState::Drained, "{}", done.line());
    let log = sim.api.request_log();
    assert!(log.iter().any(|r| r.method == "DELETE" && r.path == format!("/api/v1/namespaces/default/pods/{web}") && r.status == 200));
    assert_eq!(evictions(&sim, &web, 201), 0, "deleted, not evicted");
}

/// `:drain --disable-eviction` asks for the delete permission, says in the confirmation's
/// title, node line, each budget and its closing lines that the budgets are bypassed, and
/// goes for that drain only: the next `D` evicts again.
#[test]
fn the_confirmation_of_disable_eviction_says_the_budgets_are_bypassed_and_it_is_for_one_drain() {
    let sim = common::demo_at(5, 3);
    let mut app = App::new("test-context", Theme::new(false));
    let _ = app.update(Msg::Watch(common::all_updates(&sim)));
    let _ = press(&mut app, "n");
    let plan = |app: &mut App, fx: Vec<Effect>, disable: bool| {
        let nodes = match fx.as_slice() {
            [Effect::PlanDrain { nodes, disable_eviction }] if *disable_eviction == disable => nodes.clone(),
            other => panic!("{other:?}"),
        };
        let web = PodFacts {
            namespace: "shop".into(),
            name: "web-1".into(),
            controller: Some(("ReplicaSet".into(), "web-5d8c7".into())),
            ..Default::default()
        };
        let plans = vec![(nodes[0].clone(), DrainPlan { evict: vec![(web, vec![], vec!["web".into()])], ..Default::default() })];
        let budgets = vec![BudgetFacts { namespace: "shop".into(), name: "web".into(), selector: None, disruptions_allowed: 0 }];
        let _ = app.update(Msg::Job(JobResult::DrainPlan { nodes, disable_eviction: disable, plans: Ok(Planned { plans, budgets }) }));
        let p = app.confirm().expect("the drain's confirmation");
        (p.title.clone(), p.lines.join("\n"))
    };
    let fx = press(&mut app, ":drain --disable-eviction\r");
    let (title, lines) = plan(&mut app, fx, true);
    assert_eq!(title, "drain 1 node — bypassing PDBs");
    for want in [
        "then DELETE 1 pod directly, bypassing their PodDisruptionBudgets",
        "shop/web-1 (ReplicaSet web-5d8c7) — PDB web allows 0 now: BYPASSED",
        "--disable-eviction: pods are DELETED directly, not evicted — their PodDisruptionBudgets are BYPASSED (as kubectl drain --disable-eviction does).",
    ] {
        assert!(lines.contains(want), "{want:?} in:\n{lines}");
    }
    assert!(!lines.contains("Pods go only through the Eviction API"), "{lines}");
    let s = screen(&mut app, 80, 24);
    assert!(s.contains("drain 1 node — bypassing PDBs?"), "{s}");
    let fx = press(&mut app, "y");
    assert!(matches!(fx.as_slice(), [Effect::Drain { disable_eviction: true, .. }]), "{fx:?}");
    // The next D evicts: the flag was for that drain only.
    let _ = app.update(Msg::Job(JobResult::Drain(DrainStatus { finished: true, ..DrainStatus::new(&[], false) })));
    let fx = press(&mut app, "D");
    let (title, lines) = plan(&mut app, fx, false);
    assert_eq!(title, "drain 1 node");
    assert!(lines.contains("PDB web allows 0 now: waits until it allows one") && lines.contains("Pods go only through the Eviction API"));
    let fx = press(&mut app, "y");
    assert!(matches!(fx.as_slice(), [Effect::Drain { disable_eviction: false, .. }]), "{fx:?}");
    // A user who may not delete pods is told so, and nothing is asked of the cluster.
    let _ = app.update(Msg::Job(JobResult::Drain(DrainStatus { finished: true, ..DrainStatus::new(&[], false) })));
    let _ = app.update(Msg::Job(JobResult::Permissions(vec![(daemonscope::model::plan::DELETE_PODS, Ok(false))])));
    assert!(press(&mut app, ":drain --disable-eviction\r").is_empty());
    assert!(app.message().is_some_and(|m| m.starts_with("forbidden: this user may not delete pods")), "{:?}", app.message());
}

/// End to end, the real binary in a pseudo-terminal on the simulator: a budget with
/// `maxUnavailable: 0` blocks `D`; `P` pauses it and the panel says so, and once the drain
/// holds the pod, raising the budget evicts nothing; `P` again resumes it and the drain
/// completes through the Eviction API.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn p_in_the_tui_holds_a_blocked_drain_until_resumed() {
    use common::pty::Tui;
    let Some(bin) = common::kubectl_bin() else { return };
    let sim = common::serve(&crate::drain::cluster()).await;
    let pdbs: kube::Api<PodDisruptionBudget> = kube::Api::namespaced(common::client(&sim), "default");
    let strict = serde_json::json!({"spec": {"minAvailable": null, "maxUnavailable": 0}});
    pdbs.patch("web", &Default::default(), &kube::api::Patch::Merge(strict)).await.unwrap();
    let (web, node) = web_blocked(&sim).await;
    let kubectl = Arc::new(common::Kubectl::new(bin, &sim, None));
    let kc = kubectl.dir.path().join("config").to_str().unwrap().to_string();
    let n = node.clone();
    let t = tokio::task::spawn_blocking(move || {
        let mut t = Tui::start(&["--kubeconfig", &kc], &[]);
        t.wait_pods_live(20);
        t.keys("n");
        t.wait_for("nodes (3, by name)", 10);
        let down = ["node-a", "node-b", "node-c"].iter().position(|x| *x == n).unwrap();
        t.keys(&"j".repeat(down));
        t.keys("D");
        t.wait_for("drain 1 node?", 15);
        t.keys("y");
        let s = t.wait_for("by PDB web (allows 0)", 20);
        assert!(s.contains("<P> pause"), "{s}");
        t.keys("P");
        t.wait_for("drain PAUSED for", 10);
        // The pod's next eviction waits for the resume (after the back-off, 5 s at most).
        let s = t.wait_for("(1 pod held)", 20);
        assert!(s.contains("<P> resume") && s.contains("cordoned; evicting, PAUSED: 0 of 1 pod(s) gone"), "{s}");
        t
    })
    .await
    .unwrap();
    let k = kubectl.clone();
    k.ok_async(&["patch", "pdb", "web", "-n", "default", "--type", "merge", "-p", r#"{"spec":{"maxUnavailable":1}}"#]).await;
    common::until(30, "the budget allowing one", || async {
        let s = pdbs.get("web").await.unwrap().status.unwrap_or_default();
        if s.disruptions_allowed == 1 { Ok(()) } else { Err(format!("{s:?}")) }
    })
    .await;
    assert_eq!(evictions(&sim, &web, 201), 0, "evicted while paused");
    tokio::task::spawn_blocking(move || {
        let mut t = t;
        assert!(t.screen().contains("drain PAUSED for"), "{}", t.screen());
        t.keys("P");
        t.wait_for("drain: 1 of 1 node(s) drained; they stay cordoned", 30);
        t.keys("q");
    })
    .await
    .unwrap();
    assert_eq!(evictions(&sim, &web, 201), 1);
    assert!(!sim.api.request_log().iter().any(|r| r.method == "DELETE" && r.path.contains("/pods/")), "a pod was deleted, not evicted");
}

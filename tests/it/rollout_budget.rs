//! Rollouts in trouble, staged on the simulator: who holds the unavailability budget, whether
//! the rollout caused it, what frees it, and the verdict — through `status -o json` and the
//! rollout view at 80×24 and 120×35. One cluster per case: a tolerate-all CNI agent whose
//! budget a down node's stuck pod holds, a bad image, a crash loop that was there before
//! the rollout, a maxSurge rollout deadlocked on a hostPort, minReadySeconds, and an undo
//! (timed from its own start, not from the reused revision's creation).

use crate::common;

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use daemonscope::cli::{Output, StatusArgs};
use daemonscope::cluster::watch::Scope;
use daemonscope::sim::Sim;
use daemonscope::sim::kind::Kind;
use daemonscope::sim::scenario::Action;
use daemonscope::ui::{App, Msg, Theme, View};
use k8s_openapi::api::core::v1::Pod;
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use serde_json::{Value, json};

/// Nodes n1..n`count` in pool general, each with `annotations` (YAML flow map or empty).
fn nodes(count: usize, annotated: &[(&str, &str)]) -> String {
    (1..=count)
        .map(|i| {
            let name = format!("n{i}");
            let ann = annotated.iter().find(|(n, _)| *n == name).map(|(_, a)| format!("\n  annotations: {a}")).unwrap_or_default();
            format!("---\napiVersion: v1\nkind: Node\nmetadata:\n  name: {name}\n  labels: {{pool: general}}{ann}\n")
        })
        .collect()
}

/// The `agent` DaemonSet in kube-system with `strategy` and extra pod-spec YAML lines.
fn agent(strategy: &str, spec_extra: &str, ds_extra: &str) -> String {
    format!(
        "---
apiVersion: apps/v1
kind: DaemonSet
metadata: {{name: agent, namespace: kube-system}}
spec:
  selector: {{matchLabels: {{app: agent}}}}
  updateStrategy: {strategy}
{ds_extra}  template:
    metadata: {{labels: {{app: agent}}}}
    spec:
{spec_extra}      containers: [{{name: agent, image: 'registry.example/agent:v1'}}]
"
    )
}

fn settle(sim: &mut Sim, secs: usize) {
    for _ in 0..secs {
        sim.advance(1);
    }
}

fn patch(sim: &Sim, kind: Kind, namespace: &str, name: &str, patch: Value) {
    sim.apply(&Action::Patch { kind, namespace: namespace.into(), name: name.into(), patch }).unwrap();
}

/// A new revision without a new image (`kubectl rollout restart`), plus `annotations`
/// on the new pods.
fn restart(sim: &Sim, pod_annotations: Value) {
    let mut ann = json!({"kubectl.kubernetes.io/restartedAt": "2026-12-07T00:00:00Z"});
    ann.as_object_mut().unwrap().extend(pod_annotations.as_object().unwrap().clone());
    patch(sim, Kind::DaemonSet, "kube-system", "agent", json!({"spec": {"template": {"metadata": {"annotations": ann}}}}));
}

fn args(stall_timeout: u64, wait: bool) -> StatusArgs {
    StatusArgs {
        daemonsets: vec![],
        output: Output::Json,
        wait,
        timeout: Some(std::time::Duration::from_secs(20)),
        stall_timeout: std::time::Duration::from_secs(stall_timeout),
        demo: false,
        allow_down_nodes: false,
        max_unavailable: None,
        joins: Default::default(),
    }
}

/// `status -o json` (exit code, the agent's report).
async fn status(sim: &Sim, a: &StatusArgs) -> (i32, Value) {
    let client = kube::Client::new(sim.router(), "default");
    let mut out = Vec::new();
    let code = daemonscope::status::run(client.into(), "staged".into(), None, Scope::default(), a, &mut out).await;
    let v: Value = serde_json::from_slice(&out).unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&out)));
    (code, v["daemonsets"][0].clone())
}

/// The rollout view of the agent at `w`×`h`.
fn rollout_screen(sim: &Sim, w: u16, h: u16) -> String {
    let mut app = App::new("staged", Theme::new(false));
    let _ = app.update(Msg::Watch(common::all_updates(sim)));
    let _ = app.update(Msg::Key(KeyEvent::new(KeyCode::Char('r'), KeyModifiers::NONE)));
    assert_eq!(app.view(), View::Rollout);
    let mut t = Terminal::new(TestBackend::new(w, h)).unwrap();
    t.draw(|f| app.draw(f)).unwrap();
    common::screen_text(t.backend().buffer())
}

/// Snapshots with what differs run to run redacted (besides `assert_screen!`'s): ages and
/// durations; the simulator's clock, which runs ahead of the test's (it is advanced by
/// hand), so ages of its newest objects are in the future (`<invalid>`); which node a
/// rollout takes first, random as in the real controller (Go map order); the kubelet's
/// ErrImagePull right after each pull and ImagePullBackOff between them; rates.
fn snapshot(name: &str, s: &str) {
    assert_screen!(name, s,
        r"\b\d+(\.\d+)?(ms|s|m|h|d)( ?\d+(ms|s|m|h|d))*\b" => "<t>",
        r"live \S+ ago" => "live <t> ago",
        r"<invalid>" => "<t>",
        r"\bn[1-9]\b" => "n#",
        r"\b(ErrImagePull|ImagePullBackOff)\b" => "<pull error>",
        r"\d+\.\d+/min" => "<rate>/min",
    );
}

fn views(name: &str, sim: &Sim) -> [String; 2] {
    let small = rollout_screen(sim, 80, 24);
    let big = rollout_screen(sim, 120, 35);
    snapshot(&format!("{name}_80x24"), &small);
    snapshot(&format!("{name}_120x35"), &big);
    [small, big]
}

fn holders(r: &Value) -> Vec<&Value> {
    r["rollout"]["holders"].as_array().unwrap().iter().collect()
}

/// A CNI agent (tolerates every taint, maxUnavailable 1) on 4 nodes; n4 goes unreachable
/// before the rollout: its old pod is deleted by the rollout and stays Terminating (no
/// kubelet confirms it), holding the one unit of the budget.
fn cni_with_down_node() -> Sim {
    let yaml = format!(
        "{}{}{}",
        common::FAST,
        nodes(4, &[]),
        agent("{type: RollingUpdate, rollingUpdate: {maxUnavailable: 1}}", "      tolerations: [{operator: Exists}]\n", "")
    );
    let mut sim = common::build(&yaml);
    settle(&mut sim, 5);
    patch(&sim, Kind::Node, "", "n4", json!({"metadata": {"annotations": {"sim.daemonscope.io/node-state": "unreachable"}}}));
    settle(&mut sim, 5);
    restart(&sim, json!({}));
    settle(&mut sim, 5);
    sim
}

#[tokio::test]
async fn a_down_nodes_stuck_pod_holds_the_budget_and_is_not_the_rollouts_fault() {
    let sim = cni_with_down_node();
    let (code, r) = status(&sim, &args(300, false)).await;
    assert_eq!(code, 1, "{r:#}");
    let ro = &r["rollout"];
    assert_eq!(ro["inProgress"], true, "{ro:#}");
    assert_eq!((ro["maxUnavailable"].as_i64(), ro["maxSurge"].as_i64(), ro["budgetUsed"].as_u64()), (Some(1), Some(0), Some(1)), "{ro:#}");
    let h = holders(&r);
    assert_eq!(h.len(), 1, "{ro:#}");
    assert_eq!(h[0]["node"], "n4");
    assert_eq!(h[0]["cause"], "node-down");
    assert_eq!(h[0]["origin"], "pre-existing", "n4 went down before the rollout began: {ro:#}");
    assert!(h[0]["reason"].as_str().unwrap().starts_with("node unreachable"), "{ro:#}");
    assert!(h[0]["frees"].as_str().unwrap().contains("node returns"), "{ro:#}");
    assert!(h[0]["since"].is_string());
    assert_eq!(ro["verdict"], "stalled");
    assert_eq!(ro["reason"], "budget held by 1 down node (pre-existing)");
    assert_eq!(ro["rolloutInduced"], false);
    // Every other node still serves the old revision: covered, not yet updated.
    assert_eq!((r["readyUpToDate"].as_u64(), r["readyOutdated"].as_u64()), (Some(0), Some(3)), "{r:#}");
    let [small, big] = views("cni_down_node", &sim);
    for s in [&small, &big] {
        assert!(s.contains("stalled — budget held by 1 down node (pre-existing)"), "{s}");
    }
    assert!(big.contains("budget    1 of 1 in use (maxUnavailable)"), "{big}");
    assert!(big.contains("node-down: node unreachable; its pod is stuck Terminating (pre-existing) — on n4"), "{big}");
    assert!(big.contains("frees when the node returns"), "{big}");
    // --wait does not stop on it: the rollout did not cause it (it ends at --timeout).
    let mut a = args(0, true);
    a.timeout = Some(std::time::Duration::from_secs(2));
    assert_eq!(status(&sim, &a).await.0, 1);
}

/// A new image that cannot be pulled on a 3-node RollingUpdate (maxUnavailable 1).
fn bad_image() -> Sim {
    let yaml = format!("{}{}{}", common::FAST, nodes(3, &[]), agent("{type: RollingUpdate}", "", ""));
    let mut sim = common::build(&yaml);
    settle(&mut sim, 5);
    restart(&sim, json!({"sim.daemonscope.io/behavior": "image-pull-error"}));
    settle(&mut sim, 4);
    sim
}

#[tokio::test]
async fn a_new_pod_that_cannot_pull_stalls_the_rollout_at_once() {
    let sim = bad_image();
    let (_, r) = status(&sim, &args(300, false)).await;
    let ro = &r["rollout"];
    assert_eq!(ro["verdict"], "stalled", "{ro:#}");
    let reason = ro["reason"].as_str().unwrap();
    assert!(
        reason.starts_with("new pods fail: ") && reason.contains("Image") && reason.ends_with("(rollout-induced) · consider rollout undo"),
        "{reason}"
    );
    assert_eq!(ro["rolloutInduced"], true);
    let h = holders(&r);
    assert_eq!(h.len(), 1, "{ro:#}");
    assert_eq!((h[0]["cause"].as_str(), h[0]["origin"].as_str()), (Some("new-pod-failing"), Some("rollout-induced")));
    assert!(h[0]["frees"].as_str().unwrap().contains("kubectl rollout undo ds/agent -n kube-system"), "{ro:#}");
    // Two old pods still serve; the third node's daemon is broken.
    assert_eq!((r["readyUpToDate"].as_u64(), r["readyOutdated"].as_u64(), r["absentOrBroken"].as_u64()), (Some(0), Some(2), Some(1)));
    let [small, big] = views("bad_image", &sim);
    for s in [&small, &big] {
        assert!(s.contains("stalled — new pods fail:"), "{s}");
        assert!(!s.contains("ETA 1") && !s.contains("progressing"), "no ETA and no 'progressing' while a new pod fails: {s}");
    }
    // --wait stops at once with the verdict (exit 1), as kubectl rollout status never does.
    let (code, r) = status(&sim, &args(0, true)).await;
    assert_eq!(code, 1, "{r:#}");
}

/// n3's agent crash-loops before any rollout (3 nodes, maxUnavailable 1).
fn crash_loop_cluster() -> String {
    format!(
        "{}{}{}",
        common::FAST,
        nodes(3, &[("n3", "{sim.daemonscope.io/pod-behavior: crash-loop}")]),
        agent("{type: RollingUpdate}", "", "")
    )
}

/// What was failing before the rollout is only known to one who watched before it: the
/// TUI sees n3 crash-loop, then the rollout replace that pod with one that crash-loops too.
#[test]
fn a_crash_loop_from_before_the_rollout_is_pre_existing_in_the_view() {
    let mut sim = common::build(&crash_loop_cluster());
    settle(&mut sim, 8);
    let mut app = App::new("staged", Theme::new(false));
    let _ = app.update(Msg::Watch(common::all_updates(&sim)));
    restart(&sim, json!({}));
    // Watched as it happens: the old pod on n3 seen failing, deleted, replaced.
    for _ in 0..8 {
        sim.advance(1);
        let _ = app.update(Msg::Watch(common::all_updates(&sim)));
    }
    let _ = app.update(Msg::Key(KeyEvent::new(KeyCode::Char('r'), KeyModifiers::NONE)));
    let mut t = Terminal::new(TestBackend::new(120, 35)).unwrap();
    t.draw(|f| app.draw(f)).unwrap();
    let s = common::screen_text(t.backend().buffer());
    assert!(s.contains("new-pod-failing: CrashLoopBackOff: container agent (pre-existing) — on n3"), "{s}");
    assert!(s.contains("stalled — budget held by 1 failing new pod (pre-existing)"), "{s}");
    assert!(!s.contains("consider rollout undo"), "undoing does not help: the old pod crashed there too: {s}");
    // A view that came up after the old pod was gone cannot know: it says the new pod fails.
    let mut late = App::new("staged", Theme::new(false));
    let _ = late.update(Msg::Watch(common::all_updates(&sim)));
    let _ = late.update(Msg::Key(KeyEvent::new(KeyCode::Char('r'), KeyModifiers::NONE)));
    t.draw(|f| late.draw(f)).unwrap();
    let s = common::screen_text(t.backend().buffer());
    assert!(s.contains("new-pod-failing: CrashLoopBackOff: container agent (rollout-induced) — on n3"), "{s}");
}

/// Just after the template changes, the DaemonSet is in view before the revision the
/// controller makes for it (separate watches, no set order): the rollout's start is not
/// the previous revision's (three days ago), so n3's old trouble is not judged against it
/// and nothing is called stalled — the gate above once stopped on that moment.
#[test]
fn a_template_change_seen_before_its_revision_is_not_judged() {
    let mut sim = common::build(&crash_loop_cluster());
    settle(&mut sim, 8);
    restart(&sim, json!({}));
    // Not advanced: the controller has not made the new revision (nor observed the change).
    let mut app = App::new("staged", Theme::new(false));
    let _ = app.update(Msg::Watch(common::all_updates(&sim)));
    let model = app.model();
    let ds = model.daemonset("kube-system", "agent").unwrap();
    assert!(!daemonscope::model::rollout::revision_in_view(model, ds));
    assert_eq!(daemonscope::model::rollout::rollout_start(model, ds), None);
    let b = daemonscope::model::budget::budget(model, ds, jiff::Timestamp::now());
    let v = daemonscope::model::budget::verdict(model, ds, &b, None);
    assert_eq!(v, daemonscope::model::budget::Verdict::Progressing, "{v}");
    let _ = app.update(Msg::Key(KeyEvent::new(KeyCode::Char('r'), KeyModifiers::NONE)));
    let mut t = Terminal::new(TestBackend::new(120, 35)).unwrap();
    t.draw(|f| app.draw(f)).unwrap();
    let s = common::screen_text(t.backend().buffer());
    assert!(!s.contains("stalled") && !s.contains("(current)"), "{s}");
    assert!(s.contains("the controller has not yet observed generation 2"), "{s}");
    // Once the controller has made it, the rollout starts now and n3 failed before it.
    sim.advance(1);
    let _ = app.update(Msg::Watch(common::all_updates(&sim)));
    let model = app.model();
    let ds = model.daemonset("kube-system", "agent").unwrap();
    assert!(daemonscope::model::rollout::revision_in_view(model, ds));
    let start = daemonscope::model::rollout::rollout_start(model, ds).unwrap();
    assert!(jiff::Timestamp::now().duration_since(start).as_secs() < 60, "{start}");
}

/// The same through `status --wait` started before the rollout (a deploy gate): it does
/// not stop early blaming the rollout, and its JSON marks n3's holder pre-existing.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_crash_loop_from_before_the_rollout_does_not_stop_the_gate_early() {
    use std::io::{BufRead, BufReader};
    let sim = common::serve(&crash_loop_cluster()).await;
    let client = common::client(&sim);
    let pods: kube::Api<Pod> = kube::Api::namespaced(client.clone(), "kube-system");
    common::until(30, "n3's agent crash-loops", || async {
        let list = pods.list(&Default::default()).await.map_err(|e| e.to_string())?;
        let on_n3 = list.items.iter().find(|p| p.spec.as_ref().and_then(|s| s.node_name.as_deref()) == Some("n3"));
        let restarts = on_n3.and_then(|p| p.status.as_ref()?.container_statuses.as_ref()?.first().map(|c| c.restart_count));
        if restarts.unwrap_or(0) >= 1 { Ok(()) } else { Err(format!("restarts {restarts:?}")) }
    })
    .await;
    let (dir, kc) = common::kubeconfig_file(&sim, None);
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_daemonscope"))
        .args(["status", "--kubeconfig", &kc, "--wait", "--timeout", "12s", "--stall-timeout", "0s", "-o", "json", "agent"])
        .env("XDG_STATE_HOME", dir.path())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut err = BufReader::new(child.stderr.take().unwrap());
    // Synced once it reports what it waits for.
    let mut first = String::new();
    err.read_line(&mut first).unwrap();
    assert!(first.contains("waiting: kube-system/agent"), "{first}");
    let ds: kube::Api<k8s_openapi::api::apps::v1::DaemonSet> = kube::Api::namespaced(client, "kube-system");
    let body = json!({"spec": {"template": {"metadata": {"annotations": {"kubectl.kubernetes.io/restartedAt": "now"}}}}});
    ds.patch("agent", &kube::api::PatchParams::default(), &kube::api::Patch::Merge(body)).await.unwrap();
    let out = tokio::task::spawn_blocking(move || {
        let mut rest = String::new();
        let _ = std::io::Read::read_to_string(&mut err, &mut rest);
        (child.wait_with_output().unwrap(), rest)
    })
    .await
    .unwrap();
    let (o, rest) = out;
    assert_eq!(o.status.code(), Some(1), "{rest}");
    assert!(rest.contains("timed out after 12s"), "not stopped early as the rollout's fault: {rest}");
    let v: Value = serde_json::from_slice(&o.stdout).unwrap();
    let ro = &v["daemonsets"][0]["rollout"];
    let n3 = ro["holders"].as_array().unwrap().iter().find(|h| h["node"] == "n3").unwrap_or_else(|| panic!("{ro:#}"));
    assert_eq!(n3["origin"], "pre-existing", "{ro:#}");
    assert_eq!(ro["rolloutInduced"], false, "{ro:#}");
}

/// maxSurge 1 with a hostPort: the surge pod cannot be placed beside the old pod that holds
/// the port, on every node.
fn surge_host_port() -> Sim {
    let yaml = format!(
        "{}{}{}",
        common::FAST,
        nodes(3, &[]),
        agent("{type: RollingUpdate, rollingUpdate: {maxUnavailable: 0, maxSurge: 1}}", "      hostNetwork: true\n", "").replace(
            "image: 'registry.example/agent:v1'}",
            "image: 'registry.example/agent:v1', ports: [{containerPort: 9100, hostPort: 9100}]}"
        )
    );
    let mut sim = common::build(&yaml);
    settle(&mut sim, 5);
    restart(&sim, json!({}));
    settle(&mut sim, 6);
    sim
}

#[tokio::test]
async fn a_surge_deadlocked_on_a_host_port_names_the_port_and_the_way_out() {
    let sim = surge_host_port();
    let (_, r) = status(&sim, &args(300, false)).await;
    let ro = &r["rollout"];
    assert_eq!((ro["maxSurge"].as_i64(), ro["budgetUsed"].as_u64()), (Some(1), Some(1)), "{ro:#}");
    let h = holders(&r);
    assert_eq!(h[0]["cause"], "surge-pod-unschedulable", "{ro:#}");
    let reason = h[0]["reason"].as_str().unwrap();
    assert!(reason.starts_with("FailedScheduling: ") && reason.contains("hostPort 9100 held by the old pod"), "{reason}");
    assert!(h[0]["frees"].as_str().unwrap().contains("maxSurge 0"), "{ro:#}");
    // The old pod that holds the port, by name, on that node.
    let node = h[0]["node"].as_str().unwrap();
    let old = sim.store.list::<Pod>(Some("kube-system")).0.into_iter().find(|p| {
        p.spec.as_ref().unwrap().node_name.as_deref() == Some(node) && p.metadata.labels.as_ref().unwrap()["pod-template-generation"] == "1"
    });
    assert_eq!(h[0]["blockedBy"].as_str(), old.and_then(|p| p.metadata.name.clone()).as_deref(), "{ro:#}");
    assert!(ro["reason"].as_str().unwrap().starts_with("surge pods cannot be placed"), "{ro:#}");
    let [small, big] = views("surge_host_port", &sim);
    for s in [&small, &big] {
        // The scheduler's message once, not once per node.
        assert!(s.matches("didn't have free ports").count() <= 1, "{s}");
    }
    assert!(big.contains("surge-pod-unschedulable: FailedScheduling"), "{big}");
}

/// minReadySeconds 30: a new pod Ready a few seconds still holds its unit.
fn min_ready() -> Sim {
    let yaml = format!("{}{}{}", common::FAST, nodes(3, &[]), agent("{type: RollingUpdate}", "", "  minReadySeconds: 30\n"));
    let mut sim = common::build(&yaml);
    settle(&mut sim, 40);
    restart(&sim, json!({}));
    settle(&mut sim, 4);
    sim
}

#[tokio::test]
async fn min_ready_seconds_holds_a_unit_and_is_progress_not_a_stall() {
    let sim = min_ready();
    let (_, r) = status(&sim, &args(300, false)).await;
    let ro = &r["rollout"];
    assert_eq!(ro["verdict"], "progressing", "{ro:#}");
    let h = holders(&r);
    assert_eq!(h.len(), 1, "{ro:#}");
    assert_eq!((h[0]["cause"].as_str(), h[0]["origin"].as_str()), (Some("min-ready-seconds"), Some("rollout-induced")), "{ro:#}");
    assert!(h[0]["frees"].as_str().unwrap().contains("minReadySeconds (30s)"), "{ro:#}");
    let [_, big] = views("min_ready", &sim);
    assert!(big.contains("min-ready-seconds: Ready, minReadySeconds 30s not yet passed"), "{big}");
}

/// Rolled to revision 2 and back (`kubectl rollout undo`): revision 1's template comes back
/// as revision 3, with revision 1's creation time.
fn undone() -> Sim {
    let yaml = format!("{}{}{}", common::FAST, nodes(3, &[]), agent("{type: RollingUpdate}", "", ""));
    let mut sim = common::build(&yaml);
    settle(&mut sim, 5);
    restart(&sim, json!({}));
    // Revision 2 is old news by the time it is undone.
    settle(&mut sim, 120);
    patch(&sim, Kind::DaemonSet, "kube-system", "agent", json!({"spec": {"template": {"metadata": {"annotations": null}}}}));
    sim
}

#[tokio::test]
async fn an_undo_is_timed_from_its_own_start_not_the_old_revisions() {
    let mut sim = undone();
    settle(&mut sim, 4);
    let (_, r) = status(&sim, &args(300, false)).await;
    let started: jiff::Timestamp = r["rollout"]["started"].as_str().expect("started").parse().unwrap();
    let pods = sim.store.list::<Pod>(Some("kube-system")).0;
    let newest = pods.iter().filter_map(|p| p.metadata.creation_timestamp.as_ref()).map(|t| t.0).max().unwrap();
    let revisions = sim.store.list::<k8s_openapi::api::apps::v1::ControllerRevision>(Some("kube-system")).0;
    let rev3 = revisions.iter().find(|r| r.revision == 3).expect("the undone revision is 3");
    let rev3_created = rev3.metadata.creation_timestamp.as_ref().unwrap().0;
    assert!(started > rev3_created + jiff::SignedDuration::from_secs(100), "started {started}, revision created {rev3_created}");
    assert!(started <= newest, "the undo's first pod: {started} vs newest pod {newest}");
}

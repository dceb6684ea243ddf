//! The fleet view in a pseudo-terminal against three simulators on different scenarios:
//! the fleet table (coverage per cluster in the worst state's glyph, a DaemonSet absent
//! from one cluster, version skew), a fourth context that cannot be reached saying so in
//! its column without holding up the others, Enter into one cluster's coverage grid with
//! its other views working there, an action confirmed there changing that cluster only
//! (its confirmation names it), `:ctx` to another cluster at the same DaemonSet, and Esc
//! back to the fleet.

use crate::common;

use common::pty::Tui;

/// `agent` on `nodes` (image `agent_image`), and `falco` too unless `without_falco`;
/// nodes named in `failing` pull images that do not exist (the agent never runs there).
fn scenario(nodes: &[&str], failing: &[&str], agent_image: &str, without_falco: bool) -> String {
    let mut y = String::new();
    for n in nodes {
        let behavior = if failing.contains(n) { "\n  annotations: {sim.daemonscope.io/pod-behavior: image-pull-error}" } else { "" };
        y.push_str(&format!("---\napiVersion: v1\nkind: Node\nmetadata:\n  name: {n}\n  labels: {{pool: general}}{behavior}\n"));
    }
    y.push_str(&common::ds_yaml("agent", "{type: RollingUpdate}").replace("registry.example/agent:v1", agent_image));
    if !without_falco {
        y.push_str(&common::ds_yaml("falco", "{type: RollingUpdate}"));
    }
    y
}

/// A kubeconfig in `dir` whose context, cluster and user are all `name`.
fn kubeconfig(dir: &std::path::Path, name: &str, url: &str, ca: Option<&str>, token: Option<&str>) -> String {
    let p = dir.join(name);
    daemonscope::sim::write_kubeconfig(&p, url, ca, token).unwrap();
    std::fs::write(&p, std::fs::read_to_string(&p).unwrap().replace("daemonscope-sim", name)).unwrap();
    p.to_str().unwrap().to_string()
}

/// The line of the fleet table that names `row`.
fn row<'a>(screen: &'a str, row: &str) -> &'a str {
    screen.lines().find(|l| l.contains(row)).unwrap_or_else(|| panic!("no row {row}:\n{screen}"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fleet_table_drill_down_and_back() {
    // prod: all fine · edge: the agent cannot run on two of its four nodes, and no falco ·
    // legacy: the agent on an older image.
    let prod = common::serve(&scenario(&["p1", "p2", "p3", "p4"], &[], "registry.example/agent:v2", false)).await;
    let edge = common::serve(&scenario(&["e1", "e2", "e3", "e4"], &["e3", "e4"], "registry.example/agent:v2", true)).await;
    let legacy = common::serve(&scenario(&["l1", "l2", "l3"], &[], "registry.example/agent:v1", false)).await;
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let kc = [
        kubeconfig(d, "prod", prod.url(), prod.ca_pem.as_deref(), prod.token.as_deref()),
        kubeconfig(d, "edge", edge.url(), edge.ca_pem.as_deref(), edge.token.as_deref()),
        kubeconfig(d, "legacy", legacy.url(), legacy.ca_pem.as_deref(), legacy.token.as_deref()),
        // Nothing listens there.
        kubeconfig(d, "gone", "http://127.0.0.1:9", None, None),
    ]
    .join(":");
    let t = tokio::task::spawn_blocking(move || {
        let mut t = Tui::start(&["--kubeconfig", &kc, "--all-contexts"], &[]);
        t.wait_for("fleet: 2 DaemonSets × 4 clusters", 20);
        // Every reachable cluster live, the dead one said so — never holding up the rest.
        let s = t.wait_for("prod: live · edge: live · legacy: live · gone: unreachable", 20);
        let agent = row(&s, "kube-system/agent");
        assert!(agent.contains("● 4/4") && agent.contains("✖ 2/4") && agent.contains("● 3/3"), "{agent}");
        assert!(agent.contains("? unreachable") && agent.contains("≠ image"), "{agent}");
        let falco = row(&s, "kube-system/falco");
        assert!(falco.contains("● 4/4") && falco.contains("— absent") && falco.contains("● 3/3") && !falco.contains('≠'), "{falco}");
        // The panel under the table: the agent, cluster by cluster (cursor on the first row).
        assert!(
            s.contains("kube-system/agent across the fleet (up to date+old serving / desired) — ≠ version skew: running images differ"),
            "{s}"
        );
        assert!(row(&s, "│▶ prod ").contains(" 4/4  registry.example/agent:v2 · template "), "{s}");
        assert!(row(&s, "│  legacy ").contains("registry.example/agent:v1"), "{s}");
        assert!(row(&s, "│  gone ").contains("unreachable: cannot reach the API server"), "{s}");
        // Into edge's coverage grid of the agent.
        t.keys("l\r");
        let s = t.wait_for("kube-system/agent — coverage by node", 10);
        assert!(s.contains(" edge ") && s.contains("✖ failing 2"), "{s}");
        assert!(s.contains("context edge (Esc: back to the fleet)"), "{s}");
        // Another view of that cluster works as with one cluster: its nodes.
        t.keys("n");
        let s = t.wait_for("nodes (4", 10);
        assert!(s.contains("e3") && !s.contains("p1"), "edge's nodes only:\n{s}");
        // An action's confirmation names the cluster it changes; confirmed, it changes
        // that cluster only.
        t.keys("c");
        let s = t.wait_for("in context edge?", 10);
        // `node/e3: spec.unschedulable false → true`
        let node = s.split("node/").nth(1).and_then(|r| r.split(':').next()).map(String::from);
        t.keys("y");
        (t, node)
    })
    .await
    .unwrap();
    let (mut t, node) = t;
    let node = node.expect("the confirmation names an edge node");
    let unschedulable = |r: &daemonscope::sim::Running| {
        let api = kube::Api::<k8s_openapi::api::core::v1::Node>::all(common::client(r));
        async move {
            let list = api.list(&Default::default()).await.unwrap();
            list.items
                .iter()
                .filter(|n| n.spec.as_ref().and_then(|s| s.unschedulable) == Some(true))
                .map(|n| n.metadata.name.clone().unwrap())
                .collect::<Vec<_>>()
        }
    };
    let cordoned = common::eventually(10, "the edge node cordoned", || async {
        let c = unschedulable(&edge).await;
        (!c.is_empty()).then_some(c)
    })
    .await;
    assert_eq!(cordoned, [node]);
    assert!(unschedulable(&prod).await.is_empty() && unschedulable(&legacy).await.is_empty(), "the other clusters untouched");
    tokio::task::spawn_blocking(move || {
        // Esc back to the grid, then to the fleet.
        t.wait_for("nodes (4", 10);
        t.keys("\x1b");
        t.wait_for("kube-system/agent — coverage by node", 10);
        t.keys("\x1b");
        t.wait_for("fleet: 2 DaemonSets × 4 clusters", 10);
        // :ctx from the fleet opens another cluster at the DaemonSet under the cursor.
        t.keys(":ctx legacy\r");
        let s = t.wait_for("context legacy (Esc: back to the fleet)", 10);
        assert!(s.contains("kube-system/agent — coverage by node") && s.contains("● ready 3"), "{s}");
        // …and from within a cluster, to another one (same DaemonSet).
        t.keys(":ctx prod\r");
        let s = t.wait_for("context prod (Esc: back to the fleet)", 10);
        assert!(s.contains("kube-system/agent — coverage by node") && s.contains("● ready 4"), "{s}");
        t.keys("\x1b");
        let s = t.wait_for("fleet: 2 DaemonSets × 4 clusters", 10);
        // The fleet's cursor followed the focus: prod's column, the agent's row.
        assert!(s.contains("│▶ prod "), "{s}");
        t.keys("q");
        assert!(t.exit(10).success());
        assert!(!t.alternate_screen(), "left the alternate screen");
    })
    .await
    .unwrap();
}

/// Isolation: of three clusters, one is killed and one throttled (every request 429 with
/// `Retry-After: 30`, its watches cut each second); each says so in its own column while
/// the third keeps following its cluster — a node that joins it shows within seconds, far
/// inside the throttled cluster's 30 s wait — and the keys are answered throughout.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_killed_and_a_throttled_cluster_hold_up_neither_the_ui_nor_the_others() {
    let healthy = || scenario(&["n1", "n2", "n3"], &[], "registry.example/agent:v2", true);
    let (live, doomed, slow) = (common::serve(&healthy()).await, common::serve(&healthy()).await, common::serve(&healthy()).await);
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let kc = [
        kubeconfig(d, "live", live.url(), live.ca_pem.as_deref(), live.token.as_deref()),
        kubeconfig(d, "killed", doomed.url(), doomed.ca_pem.as_deref(), doomed.token.as_deref()),
        kubeconfig(d, "throttled", slow.url(), slow.ca_pem.as_deref(), slow.token.as_deref()),
    ]
    .join(":");
    let t = tokio::task::spawn_blocking(move || {
        let t = Tui::start(&["--kubeconfig", &kc, "--all-contexts"], &[]);
        t.wait_for("live: live · killed: live · throttled: live", 20);
        t
    })
    .await
    .unwrap();
    doomed.api.faults.set_down(true);
    slow.api.faults.set(daemonscope::sim::faults::FaultSettings {
        throttle: 1.0,
        retry_after: 30,
        drop_watches_every: Some(std::time::Duration::from_secs(1)),
        seed: Some(3),
        ..Default::default()
    });
    let t = tokio::task::spawn_blocking(move || {
        let s = t.wait_for("live: live · killed: stale · throttled: stale", 20);
        assert_eq!(s.matches("⚠ stale 3n").count(), 2, "both columns keep their data, marked stale:\n{s}");
        t
    })
    .await
    .unwrap();
    let s = t.screen();
    assert!(row(&s, "│  killed ").contains("stale: cannot reach the API server"), "{s}");
    assert!(row(&s, "│  throttled ").contains("stale: 429"), "{s}");
    // A fourth node joins the live cluster: its column follows at once.
    let node: k8s_openapi::api::core::v1::Node =
        serde_json::from_value(serde_json::json!({"metadata": {"name": "n4", "labels": {"pool": "general"}}})).unwrap();
    kube::Api::<k8s_openapi::api::core::v1::Node>::all(common::client(&live)).create(&Default::default(), &node).await.unwrap();
    tokio::task::spawn_blocking(move || {
        let mut t = t;
        let s = t.wait_for("● 4/4", 15);
        let agent = row(&s, "kube-system/agent");
        assert!(agent.contains("● 4/4") && agent.matches("● 3/3").count() == 2, "the others keep their last picture: {agent}");
        // Keys are answered: the cursor moves to the throttled cluster's column and into it.
        t.keys("ll\r");
        let s = t.wait_for("context throttled (Esc: back to the fleet)", 10);
        assert!(s.contains("429"), "its own banner says why its data is stale:\n{s}");
        t.keys("q");
        assert!(t.exit(10).success());
    })
    .await
    .unwrap();
}

/// The fleet runs on the same terminal runner as one cluster: it captures the mouse (a
/// click then selects a cell) unless `--no-mouse` says not to.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_fleet_captures_the_mouse_unless_told_not_to() {
    let a = common::serve(&scenario(&["a1", "a2"], &[], "registry.example/agent:v2", false)).await;
    let b = common::serve(&scenario(&["b1"], &[], "registry.example/agent:v2", true)).await;
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let kc = [
        kubeconfig(d, "alpha", a.url(), a.ca_pem.as_deref(), a.token.as_deref()),
        kubeconfig(d, "beta", b.url(), b.ca_pem.as_deref(), b.token.as_deref()),
    ]
    .join(":");
    let home = d.join("config");
    std::fs::create_dir_all(home.join("daemonscope")).unwrap();
    tokio::task::spawn_blocking(move || {
        let env = [("XDG_CONFIG_HOME", home.to_str().unwrap())];
        let mut t = Tui::start(&["--kubeconfig", &kc, "--all-contexts"], &env);
        t.wait_for("alpha: live · beta: live", 20);
        assert!(t.mouse_reporting(), "the fleet captures the mouse");
        // A click on falco's row in beta's column selects that cell: the panel follows.
        let s = t.screen();
        let y = s.lines().position(|l| l.contains("kube-system/falco")).unwrap();
        let header = s.lines().find(|l| l.contains("DAEMONSET")).unwrap();
        let x = header[..header.find("beta").unwrap()].chars().count();
        t.send(&format!("\x1b[<0;{};{}M\x1b[<0;{};{}m", x + 2, y + 1, x + 2, y + 1));
        t.wait_for("kube-system/falco across the fleet", 10);
        t.wait_for("│▶ beta ", 10);
        t.keys("q");
        assert!(t.exit(10).success());
        let mut t = Tui::start(&["--kubeconfig", &kc, "--all-contexts", "--no-mouse"], &env);
        t.wait_for("alpha: live · beta: live", 20);
        assert!(!t.mouse_reporting(), "--no-mouse leaves the mouse to the terminal");
        t.keys("q");
        assert!(t.exit(10).success());
    })
    .await
    .unwrap();
}

/// The fleet takes its colours from the same settings as one cluster: a colour of the
/// config is on screen, and NO_COLOR takes every colour away.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_fleet_draws_the_configs_colours_and_none_under_no_color() {
    let a = common::serve(&scenario(&["a1", "a2"], &[], "registry.example/agent:v2", false)).await;
    let b = common::serve(&scenario(&["b1"], &[], "registry.example/agent:v2", true)).await;
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let kc = [
        kubeconfig(d, "alpha", a.url(), a.ca_pem.as_deref(), a.token.as_deref()),
        kubeconfig(d, "beta", b.url(), b.ca_pem.as_deref(), b.token.as_deref()),
    ]
    .join(":");
    let home = d.join("config");
    std::fs::create_dir_all(home.join("daemonscope")).unwrap();
    std::fs::write(home.join("daemonscope/config.toml"), "[colors]\nready = \"#010203\"\n").unwrap();
    tokio::task::spawn_blocking(move || {
        // (cells with the config's colour on ●, cells with any colour at all)
        let colours = |t: &Tui| {
            let p = t.parser.lock().unwrap();
            let s = p.screen();
            let (rows, cols) = s.size();
            let cells: Vec<_> = (0..rows).flat_map(|r| (0..cols).map(move |c| (r, c))).filter_map(|(r, c)| s.cell(r, c)).collect();
            let mine = cells.iter().filter(|c| c.contents() == "●" && c.fgcolor() == vt100::Color::Rgb(1, 2, 3)).count();
            let any = cells.iter().filter(|c| c.fgcolor() != vt100::Color::Default || c.bgcolor() != vt100::Color::Default).count();
            (mine, any)
        };
        let env = [("XDG_CONFIG_HOME", home.to_str().unwrap())];
        let mut t = Tui::start(&["--kubeconfig", &kc, "--all-contexts"], &env);
        t.wait_for("alpha: live · beta: live", 20);
        t.wait_for("● 2/2", 10);
        let (mine, _) = colours(&t);
        assert!(mine > 0, "ready cells in the config's #010203:\n{}", t.screen());
        t.keys("q");
        assert!(t.exit(10).success());
        let env = [("XDG_CONFIG_HOME", home.to_str().unwrap()), ("NO_COLOR", "1")];
        let mut t = Tui::start(&["--kubeconfig", &kc, "--all-contexts"], &env);
        t.wait_for("alpha: live · beta: live", 20);
        t.wait_for("● 2/2", 10);
        assert_eq!(colours(&t), (0, 0), "NO_COLOR: no colour anywhere, the config's neither:\n{}", t.screen());
        t.keys("q");
        assert!(t.exit(10).success());
    })
    .await
    .unwrap();
}

//! The client at 1,000 / 5,000 / 15,000 nodes × 30 DaemonSets (up to 450,000 daemon
//! pods): applying watch events to the model, and drawing each view. `cargo bench --bench
//! tui`; under `cargo test` every benchmark runs once at 300 nodes (divan's test mode).

use daemonscope::k8s::eligibility::{NodeFacts, Placement, Taint, add_daemon_tolerations};
use daemonscope::model::{Change, ContainerInfo, DsInfo, Model, NodeInfo, PodInfo};
use daemonscope::ui::{App, Msg, Theme};
use divan::Bencher;
use divan::counter::ItemsCount;
use ratatui::Terminal;
use ratatui::backend::TestBackend;

#[global_allocator]
static ALLOC: divan::AllocProfiler = divan::AllocProfiler::system();

const DAEMONSETS: usize = 30;

/// Cluster sizes (nodes): the real ones under `cargo bench`, a small one as a smoke test.
fn sizes() -> Vec<usize> {
    if std::env::args().any(|a| a == "--bench") { vec![1000, 5000, 15000] } else { vec![300] }
}

fn node(i: usize) -> NodeInfo {
    let name = format!("node-{i:05}");
    let zone = ["a", "b", "c"][i % 3];
    let gpu = i % 20 == 0;
    NodeInfo {
        name: name.clone(),
        facts: NodeFacts {
            name,
            labels: [
                ("topology.kubernetes.io/zone".to_string(), format!("eu-west-1{zone}")),
                ("pool".to_string(), if gpu { "gpu" } else { "general" }.to_string()),
            ]
            .into(),
            taints: if gpu {
                vec![Taint { key: "nvidia.com/gpu".into(), value: "present".into(), effect: "NoSchedule".into() }]
            } else {
                vec![]
            },
        },
        ready: Some(i % 997 != 0),
        unschedulable: false,
        created: None,
        kubelet_version: "v1.32.4".into(),
    }
}

fn ds(i: usize) -> DsInfo {
    let mut placement = Placement::default();
    if i % 2 == 0 {
        placement.tolerations.push(daemonscope::k8s::eligibility::Toleration {
            key: String::new(),
            operator: "Exists".into(),
            value: String::new(),
            effect: String::new(),
            toleration_seconds: None,
        });
    }
    add_daemon_tolerations(&mut placement.tolerations, false);
    DsInfo {
        namespace: "kube-system".into(),
        name: format!("agent-{i:02}"),
        uid: format!("ds-{i}"),
        placement,
        template_generation: Some("2".into()),
        ..Default::default()
    }
}

fn pod(d: usize, n: usize) -> PodInfo {
    let crash = (n + d) % 499 == 0;
    PodInfo {
        namespace: "kube-system".into(),
        name: format!("agent-{d:02}-{n:05}"),
        uid: format!("pod-{d}-{n}"),
        owner_uid: format!("ds-{d}"),
        node: Some(format!("node-{n:05}")),
        bound: true,
        revision_hash: None,
        template_generation: Some(if n % 7 == 0 { "1" } else { "2" }.into()),
        phase: "Running".into(),
        ready: !crash,
        ready_since: None,
        deleting: None,
        created: None,
        unschedulable: None,
        containers: vec![ContainerInfo {
            name: "agent".into(),
            image: format!("registry.example/agent-{d:02}:v2"),
            ready: !crash,
            restarts: if crash { 12 } else { 0 },
            waiting: crash.then(|| ("CrashLoopBackOff".into(), String::new())),
            running: !crash,
            last_exit: crash.then(|| "Error".into()),
        }],
    }
}

fn changes(nodes: usize) -> Vec<Change> {
    let mut v: Vec<Change> = (0..nodes).map(|i| Change::Node(node(i))).collect();
    v.extend((0..DAEMONSETS).map(|i| Change::DaemonSet(ds(i))));
    for d in 0..DAEMONSETS {
        for n in 0..nodes {
            v.push(Change::Pod(pod(d, n)));
        }
    }
    v
}

fn main() {
    divan::main();
}

/// Initial sync: every node, DaemonSet and daemon pod applied to an empty model.
#[divan::bench(sample_count = 3, args = sizes())]
fn apply_initial_sync(b: Bencher, nodes: usize) {
    let changes = changes(nodes);
    b.counter(ItemsCount::new(changes.len())).with_inputs(|| changes.clone()).bench_values(|changes| {
        let mut m = Model::new();
        for c in changes {
            m.apply(c);
        }
        m
    });
}

/// Steady-state watch events: pod updates (readiness flips) on a full model.
#[divan::bench(sample_count = 10, args = sizes())]
fn apply_pod_updates(b: Bencher, nodes: usize) {
    let updates: Vec<Change> = (0..10_000)
        .map(|k| {
            let mut p = pod(k % DAEMONSETS, (k * 7919) % nodes);
            p.ready = k % 2 == 0;
            Change::Pod(p)
        })
        .collect();
    let base = changes(nodes);
    b.counter(ItemsCount::new(updates.len()))
        .with_inputs(|| {
            let mut m = Model::new();
            for c in base.iter().cloned() {
                m.apply(c);
            }
            (m, updates.clone())
        })
        .bench_values(|(mut m, ups)| {
            for u in ups {
                m.apply(u);
            }
            m
        });
}

fn draw(app: &mut App) {
    let mut t = Terminal::new(TestBackend::new(200, 50)).unwrap();
    t.draw(|f| app.draw(f)).unwrap();
}

/// The full synthetic cluster, after the given key presses.
fn app_after(nodes: usize, keys: &[crossterm::event::KeyCode]) -> App {
    let mut app = App::new("bench", Theme { color: true });
    app.update(Msg::Watch(changes(nodes).into_iter().map(daemonscope::cluster::watch::Update::Change).collect()));
    for k in keys {
        app.update(Msg::Key(crossterm::event::KeyEvent::new(*k, crossterm::event::KeyModifiers::NONE)));
    }
    app
}

#[divan::bench(sample_count = 20, args = sizes())]
fn draw_daemonsets_view(b: Bencher, nodes: usize) {
    let mut app = app_after(nodes, &[]);
    b.bench_local(|| draw(&mut app));
}

#[divan::bench(sample_count = 20, args = sizes())]
fn draw_coverage_grid(b: Bencher, nodes: usize) {
    let mut app = app_after(nodes, &[crossterm::event::KeyCode::Enter]);
    assert_eq!(app.view(), daemonscope::ui::View::Grid);
    b.bench_local(|| draw(&mut app));
}

#[divan::bench(sample_count = 20, args = sizes())]
fn draw_matrix(b: Bencher, nodes: usize) {
    let mut app = app_after(nodes, &[crossterm::event::KeyCode::Char('m')]);
    assert_eq!(app.view(), daemonscope::ui::View::Matrix);
    b.bench_local(|| draw(&mut app));
}

#[divan::bench(sample_count = 20, args = sizes())]
fn draw_nodes_view(b: Bencher, nodes: usize) {
    use crossterm::event::KeyCode::Char;
    // Sorted by problems: every node's daemons counted per frame, the worst case.
    let mut app = app_after(nodes, &[Char('n'), Char('s')]);
    assert_eq!(app.view(), daemonscope::ui::View::Nodes);
    b.bench_local(|| draw(&mut app));
}

#[divan::bench(sample_count = 20, args = sizes())]
fn draw_rollout_view(b: Bencher, nodes: usize) {
    let mut app = app_after(nodes, &[crossterm::event::KeyCode::Char('r')]);
    assert_eq!(app.view(), daemonscope::ui::View::Rollout);
    b.bench_local(|| draw(&mut app));
}

#[divan::bench(sample_count = 20, args = sizes())]
fn draw_node_detail(b: Bencher, nodes: usize) {
    use crossterm::event::KeyCode::{Char, Enter};
    let mut app = app_after(nodes, &[Char('n'), Enter]);
    assert_eq!(app.view(), daemonscope::ui::View::Detail);
    b.bench_local(|| draw(&mut app));
}

//! The client at 1,000 / 5,000 / 15,000 nodes × 30 DaemonSets (up to 450,000 daemon
//! pods): applying watch events to the model; drawing each view, also at 65,000 nodes
//! (1,950,000 daemon pods); and a frame under load: at 15,000 nodes (or
//! `DAEMONSCOPE_BENCH_LOAD_NODES`), one frame's share of
//! 10,000 pod updates a second applied, then the view drawn. `cargo bench --bench tui`;
//! under `cargo test` every benchmark runs once at 300 nodes (divan's test mode).

use daemonscope::model::{Change, DsInfo, Model, NodeInfo, PodInfo, fixtures};
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

/// Sizes for drawing: up to 65,000 nodes (GKE's limit).
fn draw_sizes() -> Vec<usize> {
    if std::env::args().any(|a| a == "--bench") { vec![1000, 5000, 15000, 65000] } else { vec![300] }
}

/// The cluster under load: the real size under `cargo bench` (15,000 nodes, or
/// `DAEMONSCOPE_BENCH_LOAD_NODES`), a small one as a smoke test.
fn load_size() -> usize {
    if std::env::args().any(|a| a == "--bench") {
        std::env::var("DAEMONSCOPE_BENCH_LOAD_NODES").ok().and_then(|v| v.parse().ok()).unwrap_or(15000)
    } else {
        300
    }
}

fn node(i: usize) -> NodeInfo {
    let zone = ["a", "b", "c"][i % 3];
    let gpu = i.is_multiple_of(20);
    let mut n = fixtures::node(&format!("node-{i:05}"))
        .with_label("topology.kubernetes.io/zone", &format!("eu-west-1{zone}"))
        .with_label("pool", if gpu { "gpu" } else { "general" })
        .with_ready(Some(!i.is_multiple_of(997)));
    if gpu {
        n = n.with_taint("nvidia.com/gpu", "present", "NoSchedule");
    }
    n.kubelet_version = "v1.32.4".into();
    n
}

fn ds(i: usize) -> DsInfo {
    let d = fixtures::daemonset("kube-system", &format!("agent-{i:02}")).at_generation(2);
    if i.is_multiple_of(2) { d.tolerating_everything() } else { d }
}

fn pod(d: usize, n: usize) -> PodInfo {
    let crash = (n + d).is_multiple_of(499);
    let p = fixtures::pod(&ds(d), &format!("node-{n:05}"), &format!("pod-{d}-{n}"));
    let mut p = PodInfo { name: format!("agent-{d:02}-{n:05}").as_str().into(), ..p };
    if n.is_multiple_of(7) {
        p = p.from_generation("1");
    }
    if crash {
        p = p.waiting("CrashLoopBackOff", 12);
        p.containers[0].last_exit = Some("Error".into());
    }
    p
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
    let mut app = App::new("bench", Theme::new(true));
    app.update(Msg::Watch(changes(nodes).into_iter().map(daemonscope::cluster::watch::Update::Change).collect()));
    for k in keys {
        app.update(Msg::Key(crossterm::event::KeyEvent::new(*k, crossterm::event::KeyModifiers::NONE)));
    }
    app
}

#[divan::bench(sample_count = 20, args = draw_sizes())]
fn draw_daemonsets_view(b: Bencher, nodes: usize) {
    let mut app = app_after(nodes, &[]);
    b.bench_local(|| draw(&mut app));
}

#[divan::bench(sample_count = 20, args = draw_sizes())]
fn draw_coverage_grid(b: Bencher, nodes: usize) {
    let mut app = app_after(nodes, &[crossterm::event::KeyCode::Enter]);
    assert_eq!(app.view(), daemonscope::ui::View::Grid);
    b.bench_local(|| draw(&mut app));
}

#[divan::bench(sample_count = 20, args = draw_sizes())]
fn draw_matrix(b: Bencher, nodes: usize) {
    let mut app = app_after(nodes, &[crossterm::event::KeyCode::Char('m')]);
    assert_eq!(app.view(), daemonscope::ui::View::Matrix);
    b.bench_local(|| draw(&mut app));
}

#[divan::bench(sample_count = 20, args = draw_sizes())]
fn draw_nodes_view(b: Bencher, nodes: usize) {
    use crossterm::event::KeyCode::Char;
    // Sorted by problems: the order the model keeps as cells change (counted and sorted per
    // frame before).
    let mut app = app_after(nodes, &[Char('n'), Char('s')]);
    assert_eq!(app.view(), daemonscope::ui::View::Nodes);
    b.bench_local(|| draw(&mut app));
}

#[divan::bench(sample_count = 20, args = draw_sizes())]
fn draw_rollout_view(b: Bencher, nodes: usize) {
    let mut app = app_after(nodes, &[crossterm::event::KeyCode::Char('r')]);
    assert_eq!(app.view(), daemonscope::ui::View::Rollout);
    b.bench_local(|| draw(&mut app));
}

#[divan::bench(sample_count = 20, args = draw_sizes())]
fn draw_node_detail(b: Bencher, nodes: usize) {
    use crossterm::event::KeyCode::{Char, Enter};
    let mut app = app_after(nodes, &[Char('n'), Enter]);
    assert_eq!(app.view(), daemonscope::ui::View::Detail);
    b.bench_local(|| draw(&mut app));
}

/// 10,000 pod updates a second at 60 frames a second: what one frame applies.
const UPDATES_PER_FRAME: usize = 10_000 / 60;

/// The `k`th update of a fleet-wide wave: every daemon pod in turn (DaemonSet by
/// DaemonSet across nodes spread by a stride) goes not ready, and in the next pass ready
/// again, so each update changes a cell and the wave can run forever.
fn wave_update(k: usize, nodes: usize) -> Change {
    let pods = DAEMONSETS * nodes;
    let j = k % pods;
    let (d, n) = (j % DAEMONSETS, (j / DAEMONSETS * 7919) % nodes);
    let mut p = pod(d, n);
    p.ready = (k / pods) % 2 == 1;
    if let Some(c) = p.containers.first_mut() {
        c.ready = p.ready;
    }
    Change::Pod(p)
}

/// A frame under load at 15,000 nodes: one frame's share of 10,000 pod updates a second
/// (167) goes through the app as a watch batch, then the view is drawn — apply + draw.
#[divan::bench(sample_count = 30, args = ["daemonsets", "grid", "matrix", "nodes", "rollout"])]
fn frame_under_load(b: Bencher, view: &str) {
    use crossterm::event::KeyCode::{Char, Enter};
    let keys: &[crossterm::event::KeyCode] = match view {
        "grid" => &[Enter],
        "matrix" => &[Char('m')],
        "nodes" => &[Char('n'), Char('s')],
        "rollout" => &[Char('r')],
        _ => &[],
    };
    let nodes = load_size();
    let mut app = app_after(nodes, keys);
    let mut k = 0;
    b.counter(ItemsCount::new(UPDATES_PER_FRAME))
        .with_inputs(|| {
            let batch: Vec<_> =
                (k..k + UPDATES_PER_FRAME).map(|i| daemonscope::cluster::watch::Update::Change(wave_update(i, nodes))).collect();
            k += UPDATES_PER_FRAME;
            batch
        })
        .bench_local_values(|batch| {
            app.update(Msg::Watch(batch));
            draw(&mut app);
        });
}

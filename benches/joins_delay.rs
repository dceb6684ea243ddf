//! The delay from a joining node turning Ready in the simulator to the Joins view showing
//! it: a generated cluster (200 nodes × 10 DaemonSets, 5 workload pods a node) in the
//! stepped simulator, served in-process (`kube::Client` over the simulator's router, no
//! socket), the client's real watches (`cluster::watch::spawn_with_workloads`, the
//! workload pods' too) feeding a `LiveModel` in batches as the TUI's loop does, and the
//! Joins view drawn on a `TestBackend` after each batch (the runner draws after each
//! arrival: no frame interval to wait for). For each of several joins: the simulated
//! clock is stepped a second at a time until the node's Ready condition is True in the
//! simulator's store — the event — then the clock stands still while the batches are
//! applied and drawn until the view's report (the one just drawn) gives the node its
//! Ready. Prints each delay and the median as a Markdown table.
//! `cargo bench --bench joins_delay`; under `cargo test` it runs two joins.

use std::time::{Duration, Instant};

use daemonscope::cluster::live::{LiveModel, batch_after};
use daemonscope::cluster::watch::{self, Scope, Update};
use daemonscope::model::Resource;
use daemonscope::sim::joins::JoinSpec;
use daemonscope::sim::scenario::Action;
use daemonscope::sim::{Sim, SimOptions};
use daemonscope::ui::{JoinsView, Shared, Theme};
use k8s_openapi::api::core::v1::Node;
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use tokio::sync::mpsc;

fn bench_mode() -> bool {
    std::env::args().any(|a| a == "--bench")
}

/// Whether the node's Ready condition is True in the simulator's store.
fn ready_in_sim(sim: &Sim, name: &str) -> bool {
    sim.store.get::<Node>("", name).is_some_and(|n| {
        n.status.as_ref().and_then(|s| s.conditions.as_ref()).is_some_and(|c| c.iter().any(|c| c.type_ == "Ready" && c.status == "True"))
    })
}

struct Client {
    rx: mpsc::Receiver<Update>,
    s: Shared,
    view: JoinsView,
    term: Terminal<TestBackend>,
}

impl Client {
    /// Applies what has arrived (waiting up to `wait` for the first update) and draws.
    async fn step(&mut self, wait: Duration) {
        if let Ok(Some(first)) = tokio::time::timeout(wait, self.rx.recv()).await {
            let batch = batch_after(first, &mut self.rx, 4096);
            self.s.live.apply_batch(batch);
        }
        let (view, s) = (&mut self.view, &self.s);
        self.term.draw(|f| view.render(f, f.area(), s)).expect("draw");
    }

    /// What the view last drew of the node: (listed, Ready).
    fn shown(&self, name: &str) -> (bool, bool) {
        let report = self.view.rows(&self.s, daemonscope::k8s::clock::now());
        report.rows.iter().find(|j| j.name == name).map_or((false, false), |j| (true, j.ready.is_some()))
    }
}

fn main() {
    let joins = if bench_mode() { 9 } else { 2 };
    let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().expect("runtime");
    let delays = rt.block_on(async {
        let sc = daemonscope::sim::generator::checked_scenario_with(200, 10, 5).expect("scenario");
        let mut sim = Sim::build(&sc, SimOptions::from_scenario(&sc)).expect("the simulator builds");
        let client = kube::Client::new(sim.router(), "default");
        let (tx, rx) = mpsc::channel(16_384);
        let _watches = watch::spawn_with_workloads(client.into(), Scope::default(), tx);
        let mut s = Shared::new("sim".into(), Theme::new(false));
        s.live = LiveModel::new(&Resource::WITH_WORKLOADS);
        let mut c = Client { rx, s, view: JoinsView::default(), term: Terminal::new(TestBackend::new(120, 35)).expect("terminal") };
        while !(c.s.live.is_synced() && c.s.live.is_live(Resource::Workloads)) {
            c.step(Duration::from_secs(5)).await;
        }
        let mut delays = Vec::new();
        for k in 0..joins {
            let name = format!("bench-join-{k}");
            let spec = JoinSpec { name: Some(name.clone()), ready_after: Some("3s".into()), ..Default::default() };
            sim.apply(&Action::Join(spec)).expect("join");
            // Listed (NotReady) first, the client caught up.
            while c.shown(&name) != (true, false) {
                c.step(Duration::from_millis(50)).await;
            }
            while !ready_in_sim(&sim, &name) {
                sim.advance(1);
            }
            let event = Instant::now();
            while c.shown(&name) != (true, true) {
                c.step(Duration::from_secs(5)).await;
            }
            delays.push(event.elapsed());
            // Let the rest of the join (the daemons' pods) settle before the next one.
            for _ in 0..30 {
                sim.advance(1);
            }
            c.step(Duration::from_millis(200)).await;
        }
        delays
    });
    let mut sorted = delays.clone();
    sorted.sort();
    let ms = |d: &Duration| format!("{:.1} ms", d.as_secs_f64() * 1000.0);
    println!("\n| joins | each (ms, in order) | median |");
    println!("|---|---|---|");
    println!(
        "| {} | {} | {} |\n",
        delays.len(),
        delays.iter().map(|d| format!("{:.1}", d.as_secs_f64() * 1000.0)).collect::<Vec<_>>().join(", "),
        ms(&sorted[sorted.len() / 2])
    );
}

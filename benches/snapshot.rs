//! `daemonscope snapshot` of a generated cluster: how long listing and writing the
//! scenario takes, and how big the file is. In-process (the simulator's API with no
//! socket), so the figure is the client's work, paging included.
//!
//! `cargo bench --bench snapshot` runs 5,000 nodes × 30 DaemonSets; under `cargo test`
//! a 200-node smoke run.

use std::time::Instant;

use daemonscope::cluster::snapshot;
use daemonscope::cluster::watch::Scope;
use daemonscope::sim::{Sim, SimOptions, generator};

fn main() {
    let bench = std::env::args().any(|a| a == "--bench");
    let (nodes, daemonsets) = if bench { (5000, 30) } else { (200, 5) };
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(async {
        let sc = generator::scenario(nodes, daemonsets);
        let sim = Sim::build(&sc, SimOptions::from_scenario(&sc)).unwrap();
        let cluster: daemonscope::cluster::connect::Cluster = kube::Client::new(sim.router(), "default").into();
        let started = Instant::now();
        let objects = snapshot::fetch(&cluster, &Scope::default()).await.unwrap();
        let listed = started.elapsed();
        let yaml = snapshot::scenario::scenario(&objects, "bench", false);
        let total = started.elapsed();
        println!("| {nodes} nodes × {daemonsets} DaemonSets ({} daemon pods) | |\n|---|---|", objects.pods.len());
        println!("| list (paged) | {:.1} s |", listed.as_secs_f64());
        println!("| snapshot written (list + scenario) | {:.1} s |", total.as_secs_f64());
        println!("| scenario size | {:.1} MB |", yaml.len() as f64 / 1e6);
        // It loads back as a scenario.
        daemonscope::sim::scenario::Scenario::parse("snapshot.yaml", &yaml).unwrap();
    });
}

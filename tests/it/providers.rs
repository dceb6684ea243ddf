//! Real clusters' node labels: the pool, zone and instance type read from each provider's
//! own labels (`src/k8s/topology.rs`), the table in `docs/nodes.md` that says so, and
//! `sim --flavor gke|eks|aks|karpenter` nodes in the nodes view at 80×24 and 200×50
//! (TestBackend snapshots) with their pools and zones shown, not `-`.

use crate::common;

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use daemonscope::k8s::topology;
use daemonscope::sim::flavor::{Flavor, apply};
use daemonscope::sim::{Sim, SimOptions};
use daemonscope::ui::{App, Msg, Session, Theme};
use ratatui::Terminal;
use ratatui::backend::TestBackend;

#[test]
fn the_docs_table_lists_the_pool_labels_in_order() {
    let md = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/docs/nodes.md")).unwrap();
    let rows: Vec<(String, String)> = md
        .lines()
        .filter(|l| l.starts_with("| ") && l[2..].starts_with(|c: char| c.is_ascii_digit()))
        .map(|l| {
            let cells: Vec<&str> = l.split('|').map(str::trim).collect();
            (cells[2].trim_matches('`').to_string(), cells[3].to_string())
        })
        .collect();
    let want: Vec<(String, String)> = topology::POOL_LABELS.iter().map(|(k, who)| (k.to_string(), who.to_string())).collect();
    assert_eq!(rows, want, "docs/nodes.md's pool table is src/k8s/topology.rs's POOL_LABELS");
    for k in topology::ZONE_LABELS.iter().chain(topology::INSTANCE_TYPE_LABELS).chain(topology::REGION_LABELS) {
        assert!(md.contains(&format!("`{k}`")), "docs/nodes.md names {k}");
    }
}

fn flavored(f: Flavor) -> Sim {
    let text = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/assets/scenarios/demo.yaml")).unwrap();
    let mut sc = common::scenario(&text);
    apply(&mut sc, f);
    let mut sim = Sim::build(&sc, SimOptions::from_scenario(&sc)).expect("the flavored demo loads");
    for _ in 0..3 {
        sim.advance(1);
    }
    sim
}

fn nodes_screen(sim: &Sim, w: u16, h: u16) -> String {
    let mut app = App::new("test-context", Theme::new(false)).with_session(Session::default());
    let _ = app.update(Msg::Watch(common::all_updates(sim)));
    let _ = app.update(Msg::Key(KeyEvent::new(KeyCode::Char('n'), KeyModifiers::NONE)));
    let mut t = Terminal::new(TestBackend::new(w, h)).unwrap();
    t.draw(|f| app.draw(f)).unwrap();
    common::screen_text(t.backend().buffer())
}

fn check(f: Flavor, pool: &str, zone: &str) {
    let sim = flavored(f);
    for (w, h) in [(80u16, 24u16), (200, 50)] {
        let s = nodes_screen(&sim, w, h);
        if w == 200 {
            let header = s.lines().find(|l| l.contains("NAME") && l.contains("POOL")).unwrap_or_else(|| panic!("{s}"));
            let row = s.lines().find(|l| l.contains(pool)).unwrap_or_else(|| panic!("a row with pool {pool}:\n{s}"));
            assert_eq!(
                header.find("POOL").map(|i| header[..i].chars().count()),
                row.rfind(&format!(" {pool} ")).map(|i| row[..i + 1].chars().count()),
                "{s}"
            );
            assert!(row.contains(zone), "{f:?}: zone {zone} shown:\n{s}");
        }
        assert_screen!(format!("nodes_{}_{w}x{h}", f.name()), s, r"\b\d+s ago" => "Ns ago");
    }
}

#[test]
fn gke_nodes_show_their_node_pool() {
    check(Flavor::Gke, "default-pool", "us-central1-");
}

#[test]
fn eks_nodes_show_their_node_group() {
    check(Flavor::Eks, "ng-general", "us-west-2");
}

#[test]
fn aks_nodes_show_their_agent_pool() {
    check(Flavor::Aks, "nodepool1", "eastus-");
}

#[test]
fn karpenter_nodes_show_their_nodepool() {
    check(Flavor::Karpenter, "default", "us-west-2");
}

#[test]
fn sim_flavor_writes_provider_shaped_nodes() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("eks.yaml");
    let o = std::process::Command::new(env!("CARGO_BIN_EXE_daemonscope"))
        .args(["sim", "--flavor", "eks", "--nodes", "12", "--daemonsets", "2", "--write-scenario"])
        .arg(&out)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let text = std::fs::read_to_string(&out).unwrap();
    assert!(text.contains("eks.amazonaws.com/nodegroup: ng-general"), "{text}");
    assert!(text.contains(".us-west-2.compute.internal"), "{text}");
    assert!(!text.contains("\n    pool: "), "no generic pool label:\n{text}");
    let bad = std::process::Command::new(env!("CARGO_BIN_EXE_daemonscope")).args(["sim", "--flavor", "openstack"]).output().unwrap();
    assert_eq!(bad.status.code(), Some(2));
}

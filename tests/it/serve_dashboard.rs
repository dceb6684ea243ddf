//! The Grafana dashboard in assets/grafana: its JSON has the structure Grafana's current
//! dashboard schema expects (panels with gridPos, datasource and targets; a `datasource`
//! variable of type datasource limited to Prometheus; unique ids and refIds), and every
//! PromQL expression in it returns data from a real Prometheus scraping `serve` on the
//! demo cluster (a crash loop, a rollout under way, a node down, a node joining).

use crate::common;

use std::collections::HashSet;

use daemonscope::cli::ServeArgs;
use serde_json::Value;

use crate::serve::{DEMO, query, serve_with, spawn_prometheus, tool, wait_ready};

const DASHBOARD: &str = include_str!("../../assets/grafana/daemonscope.json");

fn dashboard() -> Value {
    serde_json::from_str(DASHBOARD).expect("the dashboard is JSON")
}

/// Every panel, rows' nested panels included.
fn panels(d: &Value) -> Vec<&Value> {
    let mut out = Vec::new();
    for p in d["panels"].as_array().expect("panels") {
        out.push(p);
        out.extend(p["panels"].as_array().into_iter().flatten());
    }
    out
}

/// Every (panel title, expression) of the dashboard.
fn expressions(d: &Value) -> Vec<(String, String)> {
    panels(d)
        .into_iter()
        .flat_map(|p| {
            let title = p["title"].as_str().unwrap_or_default().to_string();
            p["targets"].as_array().into_iter().flatten().map(move |t| (title.clone(), t["expr"].as_str().unwrap().to_string()))
        })
        .collect()
}

#[test]
fn the_dashboard_has_the_structure_grafana_expects() {
    let d = dashboard();
    for key in ["title", "uid"] {
        assert!(d[key].as_str().is_some_and(|s| !s.is_empty()), "{key}");
    }
    assert!(d["schemaVersion"].as_u64().is_some_and(|v| v >= 36), "a current schema (36+: datasource references by uid)");
    let vars = d["templating"]["list"].as_array().expect("templating.list");
    let ds: Vec<&Value> = vars.iter().filter(|v| v["name"] == "datasource").collect();
    assert_eq!(ds.len(), 1, "one datasource variable");
    assert_eq!(ds[0]["type"], "datasource");
    assert_eq!(ds[0]["query"], "prometheus", "the variable offers Prometheus data sources");
    let all = panels(&d);
    let mut ids = HashSet::new();
    let mut titles = HashSet::new();
    let mut targets = 0;
    for p in &all {
        let title = p["title"].as_str().expect("every panel has a title");
        assert!(ids.insert(p["id"].as_u64().expect("a numeric id")), "id of {title} is unique");
        let g = &p["gridPos"];
        let [x, w, h] = ["x", "w", "h"].map(|k| g[k].as_u64().unwrap_or_else(|| panic!("{title}: gridPos.{k}")));
        assert!(g["y"].is_u64() && w > 0 && h > 0 && x + w <= 24, "{title}: gridPos within the 24 columns");
        let kind = p["type"].as_str().expect("a type");
        if kind == "row" {
            continue;
        }
        assert!(titles.insert(title), "panel title {title} is unique");
        assert!(["timeseries", "table", "stat", "bargauge", "gauge", "heatmap"].contains(&kind), "{title}: a core panel type, not {kind}");
        assert_eq!(p["datasource"]["uid"], "${datasource}", "{title} reads the chosen data source");
        assert_eq!(p["datasource"]["type"], "prometheus");
        let ts = p["targets"].as_array().unwrap_or_else(|| panic!("{title}: targets"));
        assert!(!ts.is_empty(), "{title}: at least one target");
        let mut refs = HashSet::new();
        for t in ts {
            assert!(refs.insert(t["refId"].as_str().expect("refId")), "{title}: refIds unique");
            assert!(t["expr"].as_str().is_some_and(|e| !e.trim().is_empty()), "{title}: an expression");
            assert_eq!(t["datasource"]["uid"], "${datasource}");
            targets += 1;
        }
    }
    assert!(targets >= 10, "{targets} targets");
    // What the dashboard is for.
    for want in ["Coverage per DaemonSet", "Rollouts under way", "Problems by node and reason", "Watches live", "API server requests"] {
        assert!(titles.contains(want), "a panel {want:?}");
    }
}

/// Every expression, with Grafana's `$__rate_interval` as 1m, returns at least one series
/// from Prometheus scraping `serve` on the demo.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_dashboard_query_returns_data_from_prometheus_fed_by_serve() {
    let Some(prometheus) = tool("prometheus") else { return };
    let sim = common::serve(DEMO).await;
    let (_stop, addr) = serve_with(
        &sim,
        sim.token.as_deref(),
        ServeArgs { listen: "127.0.0.1:0".into(), max_node_series: 1000, ksm_compat: false, joins: Default::default() },
    )
    .await;
    wait_ready(&addr, 30).await;
    let dir = tempfile::tempdir().unwrap();
    let (_prom, prom) = spawn_prometheus(&prometheus, dir.path(), &addr);
    for (title, expr) in expressions(&dashboard()) {
        let q = expr.replace("$__rate_interval", "1m");
        common::eventually(90, &format!("{title}: {q} returns data"), || async {
            query(&prom, &q).await.filter(|r| !r.is_empty()).map(|_| ())
        })
        .await;
    }
}

//! Two replicas of `serve` against the same cluster, as two pods behind one Service: each
//! is a complete watcher with no leader and no shared state, so once both are synced they
//! expose the same series — Prometheus may scrape either (or both) and see one truth.
//!
//! Compared: every line of the two scrapes, HELP and TYPE included, except the families
//! that describe the process rather than the cluster, which legitimately differ:
//! - `daemonscope_api_requests_total`: the requests this replica made;
//! - `daemonscope_watch_last_event_timestamp_seconds`: when this replica's watch last
//!   received an event (bookmarks arrive per connection);
//! - `daemonscope_daemonset_rollout_stalled`: whether this replica has watched a rollout
//!   stand still for a minute (its own observation of the pace);
//! - `daemonscope_node_time_to_coverage_seconds`: nodes that joined while this replica
//!   was serving.

use crate::common;

use daemonscope::cli::ServeArgs;

use crate::serve::{DEMO, get, serve_with, wait_ready};

/// Families of the process, not of the cluster (see the module's comment).
const OWN: [&str; 4] = [
    "daemonscope_api_requests",
    "daemonscope_watch_last_event_timestamp_seconds",
    "daemonscope_daemonset_rollout_stalled",
    "daemonscope_node_time_to_coverage_seconds",
];

fn cluster_lines(body: &str) -> Vec<&str> {
    body.lines()
        .filter(|l| {
            let name = l.strip_prefix("# HELP ").or(l.strip_prefix("# TYPE ")).unwrap_or(l);
            !OWN.iter().any(|f| name.starts_with(f))
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_replicas_on_the_same_cluster_expose_identical_series() {
    let sim = common::serve(DEMO).await;
    let args = || ServeArgs { listen: "127.0.0.1:0".into(), max_node_series: 1000, ksm_compat: true, joins: Default::default() };
    let (_a, a) = serve_with(&sim, sim.token.as_deref(), args()).await;
    let (_b, b) = serve_with(&sim, sim.token.as_deref(), args()).await;
    wait_ready(&a, 30).await;
    wait_ready(&b, 30).await;
    // The demo moves (a rollout, a crash loop, a node joining): the two scrapes are taken
    // one after the other, so they are compared until one pair falls between two changes.
    let (sa, sb) = common::eventually(60, "two scrapes of the same moment", || async {
        let (_, x) = get(&a, "/metrics", None).await?;
        let (_, y) = get(&b, "/metrics", None).await?;
        (cluster_lines(&x) == cluster_lines(&y)).then_some((x, y))
    })
    .await;
    let compared = cluster_lines(&sa);
    assert!(compared.iter().any(|l| l.starts_with("daemonscope_daemonset_node_problem{")), "node problems compared");
    assert!(compared.iter().any(|l| l.starts_with("kube_daemonset_status_number_ready{")), "the kube-state-metrics families compared");
    assert!(compared.len() > 200, "{} lines compared", compared.len());
    // What was left out is there in both (left out for differing, not for being absent).
    for f in ["daemonscope_api_requests_total{", "daemonscope_watch_last_event_timestamp_seconds{"] {
        assert!(sa.contains(f) && sb.contains(f), "{f}");
    }
}

//! The joining nodes' metrics: how long nodes take to Ready and to usable and each
//! DaemonSet to Ready on them (histograms: each node and DaemonSet observed once, at the
//! first scrape that sees it done, so they only grow), startup taints that outlived their
//! DaemonSet, workload pods that started before the critical DaemonSets were Ready (a
//! counter of distinct pods), and how long each node in the window has not been usable.
//! Everything is derived from `model::joins` at scrape time; what was observed is
//! remembered for the nodes in the window only.
//!
//! May import: `model`, `k8s`.

use std::collections::HashSet;

use parking_lot::Mutex;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::Histogram;
use prometheus_client::registry::Registry;

use crate::model::Model;
use crate::model::joins::{self, JoinSettings, Problem};

type Labels = Vec<(&'static str, String)>;

/// `namespace`, `daemonset`: as every DaemonSet family labels it.
fn ds_labels(ns: &str, name: &str) -> Labels {
    vec![("namespace", ns.to_string()), ("daemonset", name.to_string())]
}

/// Seconds from a node's creation: 10 s to 2 h.
const BUCKETS: [f64; 12] = [10.0, 20.0, 30.0, 60.0, 120.0, 180.0, 300.0, 600.0, 900.0, 1800.0, 3600.0, 7200.0];

fn histogram() -> Histogram {
    Histogram::new(BUCKETS)
}

/// What has been observed already, by node (forgotten once the node leaves the window).
#[derive(Default)]
struct Seen {
    stages: HashSet<(String, &'static str)>,
    daemons: HashSet<(String, String)>,
    early: HashSet<(String, String)>,
}

pub struct JoinMetrics {
    pub settings: JoinSettings,
    node_join: Family<Labels, Histogram, fn() -> Histogram>,
    ds_ready: Family<Labels, Histogram, fn() -> Histogram>,
    early_total: Counter,
    seen: Mutex<Seen>,
}

impl Default for JoinMetrics {
    fn default() -> Self {
        JoinMetrics {
            settings: JoinSettings::default(),
            node_join: Family::new_with_constructor(histogram),
            ds_ready: Family::new_with_constructor(histogram),
            early_total: Counter::default(),
            seen: Mutex::new(Seen::default()),
        }
    }
}

impl JoinMetrics {
    /// Observes what the joins newly show and registers the joins' families.
    pub fn register(&self, reg: &mut Registry, model: &Model, now: jiff::Timestamp) {
        let report = joins::report(model, &self.settings, now);
        let outlived: Family<Labels, Gauge> = Family::default();
        let not_usable: Family<Labels, Gauge<f64, std::sync::atomic::AtomicU64>> = Family::default();
        {
            let mut seen = self.seen.lock();
            let names: HashSet<&str> = report.iter().map(|j| j.name.as_str()).collect();
            seen.stages.retain(|(n, _)| names.contains(n.as_str()));
            seen.daemons.retain(|(n, _)| names.contains(n.as_str()));
            seen.early.retain(|(n, _)| names.contains(n.as_str()));
            for j in &report {
                for (stage, took) in [("ready", j.to_ready()), ("usable", j.to_usable())] {
                    if let Some(d) = took
                        && seen.stages.insert((j.name.clone(), stage))
                    {
                        self.node_join.get_or_create(&vec![("stage", stage.to_string())]).observe(d.as_secs_f64().max(0.0));
                    }
                }
                for d in &j.daemons {
                    if let Some(r) = d.ready
                        && seen.daemons.insert((j.name.clone(), format!("{}/{}", d.namespace, d.name)))
                    {
                        self.ds_ready
                            .get_or_create(&ds_labels(&d.namespace, &d.name))
                            .observe(r.duration_since(j.created).as_secs_f64().max(0.0));
                    }
                }
                for p in &j.problems {
                    match p {
                        Problem::TaintOutlived { taint, .. } => {
                            outlived.get_or_create(&vec![("node", j.name.clone()), ("taint", taint.clone())]).set(1);
                        }
                        Problem::WorkloadsBeforeCritical { pods } => {
                            for w in pods {
                                if seen.early.insert((j.name.clone(), format!("{}/{}", w.namespace, w.name))) {
                                    self.early_total.inc();
                                }
                            }
                        }
                        Problem::CriticalNotReady { .. } => {}
                    }
                }
                if j.usable.is_none() {
                    not_usable
                        .get_or_create(&vec![("node", j.name.clone())])
                        .set(now.duration_since(j.created).as_secs_f64().max(0.0).round());
                }
            }
        }
        reg.register(
            "daemonscope_node_join_seconds",
            "Seconds from a node's creation to its first Ready (stage=ready) and to usable (stage=usable: every critical DaemonSet Ready, no startup taint left), for nodes created within the joins window",
            self.node_join.clone(),
        );
        reg.register(
            "daemonscope_daemonset_join_ready_seconds",
            "Seconds from a joining node's creation to the DaemonSet's pod Ready there",
            self.ds_ready.clone(),
        );
        reg.register(
            "daemonscope_node_startup_taint_outlived",
            "1 for each startup taint still on a joining node after every critical DaemonSet there has been Ready for the grace period",
            outlived,
        );
        reg.register(
            "daemonscope_workload_pods_before_critical",
            "Workload pods seen to have started on a joining node before its critical DaemonSets were Ready",
            self.early_total.clone(),
        );
        reg.register(
            "daemonscope_node_not_usable_seconds",
            "Seconds since the creation of each node in the joins window that is not usable yet",
            not_usable,
        );
    }
}

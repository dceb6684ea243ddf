//! `serve --ksm-compat`: the kube_daemonset_* families of kube-state-metrics v2 — their
//! names, HELP (kube-state-metrics' `internal/store/daemonset.go`, `[STABLE] ` before the
//! help of stable families as its generator writes it), type, labels — with the values
//! kube-state-metrics would export, computed here independently from each DaemonSet the
//! simulator's controller wrote, on the demo cluster (a crash-looping daemon, a node
//! down, an OnDelete backlog).

use crate::common;

use std::collections::BTreeMap;

use daemonscope::cli::ServeArgs;
use k8s_openapi::api::apps::v1::DaemonSet;

use crate::serve::{DEMO, get, serve_with, tool, wait_ready};

/// kube-state-metrics v2's families, in its order, with its HELP lines.
const HELP: [(&str, &str); 13] = [
    ("kube_daemonset_created", "[STABLE] Unix creation timestamp"),
    ("kube_daemonset_status_current_number_scheduled", "[STABLE] The number of nodes running at least one daemon pod and are supposed to."),
    ("kube_daemonset_status_desired_number_scheduled", "[STABLE] The number of nodes that should be running the daemon pod."),
    (
        "kube_daemonset_status_number_available",
        "[STABLE] The number of nodes that should be running the daemon pod and have one or more of the daemon pod running and available",
    ),
    ("kube_daemonset_status_number_misscheduled", "[STABLE] The number of nodes running a daemon pod but are not supposed to."),
    (
        "kube_daemonset_status_number_ready",
        "[STABLE] The number of nodes that should be running the daemon pod and have one or more of the daemon pod running and ready.",
    ),
    (
        "kube_daemonset_status_number_unavailable",
        "[STABLE] The number of nodes that should be running the daemon pod and have none of the daemon pod running and available",
    ),
    ("kube_daemonset_status_observed_generation", "[STABLE] The most recent generation observed by the daemon set controller."),
    ("kube_daemonset_status_updated_number_scheduled", "[STABLE] The total number of nodes that are running updated daemon pod"),
    ("kube_daemonset_metadata_generation", "[STABLE] Sequence number representing a specific generation of the desired state."),
    ("kube_daemonset_deletion_timestamp", "Unix deletion timestamp"),
    ("kube_daemonset_annotations", "Kubernetes annotations converted to Prometheus labels."),
    ("kube_daemonset_labels", "[STABLE] Kubernetes labels converted to Prometheus labels."),
];

type Samples = BTreeMap<(String, String, String), f64>;

/// What kube-state-metrics exports for these DaemonSets (no label/annotation allowlists).
fn expected(dss: &[std::sync::Arc<DaemonSet>]) -> Samples {
    let mut out = Samples::new();
    for d in dss {
        let (ns, name) = (d.metadata.namespace.clone().unwrap(), d.metadata.name.clone().unwrap());
        let st = d.status.clone().unwrap_or_default();
        let mut put = |family: &str, v: f64| {
            out.insert((family.to_string(), ns.clone(), name.clone()), v);
        };
        put("kube_daemonset_created", d.metadata.creation_timestamp.as_ref().unwrap().0.as_second() as f64);
        put("kube_daemonset_status_current_number_scheduled", st.current_number_scheduled.into());
        put("kube_daemonset_status_desired_number_scheduled", st.desired_number_scheduled.into());
        put("kube_daemonset_status_number_available", st.number_available.unwrap_or(0).into());
        put("kube_daemonset_status_number_misscheduled", st.number_misscheduled.into());
        put("kube_daemonset_status_number_ready", st.number_ready.into());
        put("kube_daemonset_status_number_unavailable", st.number_unavailable.unwrap_or(0).into());
        put("kube_daemonset_status_observed_generation", st.observed_generation.unwrap_or(0) as f64);
        put("kube_daemonset_status_updated_number_scheduled", st.updated_number_scheduled.unwrap_or(0).into());
        put("kube_daemonset_metadata_generation", d.metadata.generation.unwrap_or(0) as f64);
        if let Some(t) = &d.metadata.deletion_timestamp {
            put("kube_daemonset_deletion_timestamp", t.0.as_second() as f64);
        }
    }
    out
}

/// The kube_daemonset_* samples of a scrape, and its HELP and TYPE lines of them.
fn scraped(body: &str) -> (Samples, Vec<String>) {
    let mut samples = Samples::new();
    let mut meta = Vec::new();
    for l in body.lines() {
        if (l.starts_with("# HELP kube_daemonset_") || l.starts_with("# TYPE kube_daemonset_")) && !l.contains("daemonscope") {
            meta.push(l.to_string());
        }
        let Some(rest) = l.strip_prefix("kube_daemonset_") else { continue };
        let (series, value) = rest.rsplit_once(' ').unwrap();
        let (family, labels) = series.split_once('{').unwrap();
        let labels = labels.trim_end_matches('}');
        let get = |k: &str| labels.split(',').find_map(|kv| kv.strip_prefix(&format!("{k}=\""))).unwrap().trim_end_matches('"').to_string();
        assert!(labels.starts_with("namespace=") && labels.split(',').count() == 2, "{l}");
        samples.insert((format!("kube_daemonset_{family}"), get("namespace"), get("daemonset")), value.parse().unwrap());
    }
    (samples, meta)
}

/// A scrape of `serve --ksm-compat` on the demo, with kube-state-metrics' values for the
/// DaemonSets of the same moment (the demo moves: taken when nothing changed around it).
async fn scrape_and_expected(sim: &daemonscope::sim::Running, addr: &str) -> (Samples, Vec<String>, Samples) {
    common::eventually(30, "a scrape and the DaemonSets of the same moment", || async {
        let before = sim.store.list::<DaemonSet>(None).0;
        let (_, body) = get(addr, "/metrics", None).await?;
        let after = sim.store.list::<DaemonSet>(None).0;
        let (samples, meta) = scraped(&body);
        (expected(&before) == expected(&after)).then(|| (samples, meta, expected(&after)))
    })
    .await
}

fn ksm_args() -> ServeArgs {
    ServeArgs { listen: "127.0.0.1:0".into(), max_node_series: 1000, ksm_compat: true, joins: Default::default() }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ksm_compat_exports_what_kube_state_metrics_would_for_the_same_daemonsets() {
    let sim = common::serve(DEMO).await;
    let (_stop, addr) = serve_with(&sim, sim.token.as_deref(), ksm_args()).await;
    wait_ready(&addr, 30).await;
    let (samples, meta, want) = scrape_and_expected(&sim, &addr).await;
    assert_eq!(samples, want);
    let want: Vec<String> = HELP.iter().flat_map(|(n, h)| [format!("# HELP {n} {h}"), format!("# TYPE {n} gauge")]).collect();
    assert_eq!(meta, want);
    assert_eq!(samples.keys().filter(|k| k.0 == "kube_daemonset_status_number_misscheduled").count(), 8, "every DaemonSet");
    assert!(samples.iter().any(|(k, v)| k.0 == "kube_daemonset_status_number_unavailable" && *v > 0.0), "the demo has unavailable daemons");
    // Off by default.
    let (_stop2, plain) = serve_with(
        &sim,
        sim.token.as_deref(),
        ServeArgs { listen: "127.0.0.1:0".into(), max_node_series: 1000, ksm_compat: false, joins: Default::default() },
    )
    .await;
    wait_ready(&plain, 30).await;
    let (_, body) = get(&plain, "/metrics", None).await.unwrap();
    assert!(!body.contains("kube_daemonset_"), "{body}");
    // OpenMetrics still ends with # EOF.
    let (_, om) = get(&addr, "/metrics", Some("application/openmetrics-text; version=1.0.0")).await.unwrap();
    assert!(om.contains("# TYPE kube_daemonset_created gauge") && om.ends_with("# EOF\n"), "{}", &om[om.len().saturating_sub(200)..]);
}

/// The kubernetes-mixin's three DaemonSet alerts (their PromQL and `for`, copied as facts
/// from `alerts/apps_alerts.libsonnet`, with its default `job="kube-state-metrics"`
/// selector), as the series a Prometheus scraping daemonscope would hold.
pub(crate) const MIXIN_RULES: &str = r#"groups:
- name: kubernetes-apps
  rules:
  - alert: KubeDaemonSetRolloutStuck
    expr: |
      (
        (
          kube_daemonset_status_current_number_scheduled{job="kube-state-metrics"}
            !=
          kube_daemonset_status_desired_number_scheduled{job="kube-state-metrics"}
        ) or (
          kube_daemonset_status_number_misscheduled{job="kube-state-metrics"}
            !=
          0
        ) or (
          kube_daemonset_status_updated_number_scheduled{job="kube-state-metrics"}
            !=
          kube_daemonset_status_desired_number_scheduled{job="kube-state-metrics"}
        ) or (
          kube_daemonset_status_number_available{job="kube-state-metrics"}
            !=
          kube_daemonset_status_desired_number_scheduled{job="kube-state-metrics"}
        )
      ) and (
        changes(kube_daemonset_status_updated_number_scheduled{job="kube-state-metrics"}[5m])
          ==
        0
      )
    for: 15m
    labels: {severity: warning}
  - alert: KubeDaemonSetNotScheduled
    expr: |
      kube_daemonset_status_desired_number_scheduled{job="kube-state-metrics"}
        -
      kube_daemonset_status_current_number_scheduled{job="kube-state-metrics"} > 0
    for: 10m
    labels: {severity: warning}
  - alert: KubeDaemonSetMisScheduled
    expr: |
      kube_daemonset_status_number_misscheduled{job="kube-state-metrics"} > 0
    for: 15m
    labels: {severity: warning}
"#;

/// A `promtool test rules` case: `input` held for 30 minutes as scraped by a job named
/// kube-state-metrics, and the alerts firing then.
fn promtool_case(input: &Samples, firing: &BTreeMap<&str, Vec<(String, String)>>) -> String {
    let mut t = String::from("- interval: 1m\n  input_series:\n");
    for ((family, ns, ds), v) in input {
        t.push_str(&format!(
            "  - series: '{family}{{namespace=\"{ns}\",daemonset=\"{ds}\",job=\"kube-state-metrics\"}}'\n    values: '{v}x30'\n"
        ));
    }
    t.push_str("  alert_rule_test:\n");
    for (alert, on) in firing {
        let none = if on.is_empty() { " []" } else { "" };
        t.push_str(&format!("  - eval_time: 30m\n    alertname: {alert}\n    exp_alerts:{none}\n"));
        for (ns, ds) in on {
            t.push_str(&format!("    - exp_labels: {{severity: warning, namespace: {ns}, daemonset: {ds}, job: kube-state-metrics}}\n"));
        }
    }
    t
}

/// The mixin's DaemonSet alerts in Prometheus's own rule engine (promtool), fed once with
/// daemonscope's series and once with kube-state-metrics' values for the same DaemonSets:
/// each time exactly the alerts those values call for fire (worked out here from the
/// DaemonSets' status by the alerts' own conditions).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_mixins_daemonset_alerts_fire_on_daemonscopes_series_as_on_kube_state_metrics() {
    let Some(promtool) = tool("promtool") else { return };
    let sim = common::serve(DEMO).await;
    let (_stop, addr) = serve_with(&sim, sim.token.as_deref(), ksm_args()).await;
    wait_ready(&addr, 30).await;
    let (ours, _, ksm) = scrape_and_expected(&sim, &addr).await;
    let v = |f: &str, ns: &str, ds: &str| ksm[&(format!("kube_daemonset_{f}"), ns.to_string(), ds.to_string())];
    let mut firing: BTreeMap<&str, Vec<(String, String)>> =
        ["KubeDaemonSetMisScheduled", "KubeDaemonSetNotScheduled", "KubeDaemonSetRolloutStuck"].into_iter().map(|a| (a, vec![])).collect();
    for (_, ns, ds) in ksm.keys().filter(|k| k.0 == "kube_daemonset_status_desired_number_scheduled") {
        let [desired, current, updated, available, mis] = [
            "status_desired_number_scheduled",
            "status_current_number_scheduled",
            "status_updated_number_scheduled",
            "status_number_available",
            "status_number_misscheduled",
        ]
        .map(|f| v(f, ns, ds));
        let on = (ns.clone(), ds.clone());
        if current != desired || mis != 0.0 || updated != desired || available != desired {
            firing.get_mut("KubeDaemonSetRolloutStuck").unwrap().push(on.clone());
        }
        if desired - current > 0.0 {
            firing.get_mut("KubeDaemonSetNotScheduled").unwrap().push(on.clone());
        }
        if mis > 0.0 {
            firing.get_mut("KubeDaemonSetMisScheduled").unwrap().push(on);
        }
    }
    assert!(!firing["KubeDaemonSetRolloutStuck"].is_empty(), "the demo has a rollout under way: {firing:?}");
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("rules.yaml"), MIXIN_RULES).unwrap();
    for (what, input) in [("daemonscope's series", &ours), ("kube-state-metrics' values", &ksm)] {
        let test = format!("rule_files: [rules.yaml]\nevaluation_interval: 1m\ntests:\n{}", promtool_case(input, &firing));
        std::fs::write(dir.path().join("test.yaml"), &test).unwrap();
        let o = std::process::Command::new(&promtool).args(["test", "rules", "test.yaml"]).current_dir(dir.path()).output().unwrap();
        assert!(o.status.success(), "{what}: {}{}\n{test}", String::from_utf8_lossy(&o.stdout), String::from_utf8_lossy(&o.stderr));
    }
}

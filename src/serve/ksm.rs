//! `serve --ksm-compat`: the 13 `kube_daemonset_*` families kube-state-metrics v2 exposes
//! (`internal/store/daemonset.go`), with its names, HELP text (`[STABLE] ` before the help
//! of stable families, as its generator writes it), types, label sets (`namespace`,
//! `daemonset`) and values read from the same watched DaemonSets — so the DaemonSet
//! dashboards and alerts of the kubernetes-mixin work pointed at daemonscope. Like
//! kube-state-metrics without `--metric-labels-allowlist` / `--metric-annotations-allowlist`,
//! `kube_daemonset_labels` and `kube_daemonset_annotations` have no samples; the deletion
//! timestamp has one only while the DaemonSet is being deleted. Written by hand, not through
//! the registry: the HELP text must be kube-state-metrics', not one with a period added.
//!
//! May import: `model`.

use std::fmt::Write;

use crate::model::DsInfo;

type Value = fn(&DsInfo) -> Option<f64>;

fn secs(t: Option<jiff::Timestamp>) -> Option<f64> {
    t.map(|t| t.as_second() as f64)
}

/// Name, HELP, stable, and the value (None: no sample) — kube-state-metrics' order.
const FAMILIES: [(&str, &str, bool, Value); 13] = [
    ("kube_daemonset_created", "Unix creation timestamp", true, |d| secs(d.created)),
    (
        "kube_daemonset_status_current_number_scheduled",
        "The number of nodes running at least one daemon pod and are supposed to.",
        true,
        |d| Some(f64::from(d.current)),
    ),
    ("kube_daemonset_status_desired_number_scheduled", "The number of nodes that should be running the daemon pod.", true, |d| {
        Some(f64::from(d.desired))
    }),
    (
        "kube_daemonset_status_number_available",
        "The number of nodes that should be running the daemon pod and have one or more of the daemon pod running and available",
        true,
        |d| Some(f64::from(d.available)),
    ),
    ("kube_daemonset_status_number_misscheduled", "The number of nodes running a daemon pod but are not supposed to.", true, |d| {
        Some(f64::from(d.misscheduled))
    }),
    (
        "kube_daemonset_status_number_ready",
        "The number of nodes that should be running the daemon pod and have one or more of the daemon pod running and ready.",
        true,
        |d| Some(f64::from(d.ready)),
    ),
    (
        "kube_daemonset_status_number_unavailable",
        "The number of nodes that should be running the daemon pod and have none of the daemon pod running and available",
        true,
        |d| Some(f64::from(d.unavailable)),
    ),
    ("kube_daemonset_status_observed_generation", "The most recent generation observed by the daemon set controller.", true, |d| {
        Some(d.observed_generation as f64)
    }),
    ("kube_daemonset_status_updated_number_scheduled", "The total number of nodes that are running updated daemon pod", true, |d| {
        Some(f64::from(d.updated))
    }),
    ("kube_daemonset_metadata_generation", "Sequence number representing a specific generation of the desired state.", true, |d| {
        Some(d.generation as f64)
    }),
    ("kube_daemonset_deletion_timestamp", "Unix deletion timestamp", false, |d| secs(d.deleting)),
    ("kube_daemonset_annotations", "Kubernetes annotations converted to Prometheus labels.", false, |_| None),
    ("kube_daemonset_labels", "Kubernetes labels converted to Prometheus labels.", true, |_| None),
];

/// A value as kube-state-metrics writes it (Go's `strconv.AppendFloat(f, 'g', -1, 64)`):
/// the shortest digits, in exponent form from 1e21 up or below 1e-4 — and, for the
/// shortest form, from 1e6 up (`1.7330976e+09`).
pub fn go_float(f: f64) -> String {
    if f == 0.0 {
        return "0".into();
    }
    let exp = f.abs().log10().floor() as i32;
    if (-4..6).contains(&exp) {
        return format!("{f}");
    }
    let e = format!("{f:e}");
    let (mantissa, exp) = e.split_once('e').unwrap_or((&e, "0"));
    let exp: i32 = exp.parse().unwrap_or(0);
    format!("{mantissa}e{}{:02}", if exp < 0 { '-' } else { '+' }, exp.abs())
}

fn escaped(v: &str) -> String {
    v.replace('\\', "\\\\").replace('"', "\\\"").replace('\n', "\\n")
}

/// The families for `dss` (sorted by namespace and name), in the text exposition.
pub fn render<'a>(dss: impl Iterator<Item = &'a DsInfo>) -> String {
    let mut dss: Vec<&DsInfo> = dss.collect();
    dss.sort_by(|a, b| (&a.namespace, &a.name).cmp(&(&b.namespace, &b.name)));
    let mut out = String::new();
    for (name, help, stable, value) in FAMILIES {
        let stability = if stable { "[STABLE] " } else { "" };
        let _ = writeln!(out, "# HELP {name} {stability}{help}");
        let _ = writeln!(out, "# TYPE {name} gauge");
        for d in &dss {
            if let Some(v) = value(d) {
                let _ =
                    writeln!(out, "{name}{{namespace=\"{}\",daemonset=\"{}\"}} {}", escaped(&d.namespace), escaped(&d.name), go_float(v));
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_are_written_as_go_writes_them() {
        for (f, go) in [(0.0, "0"), (1.0, "1"), (50.0, "50"), (999999.0, "999999"), (1733097600.0, "1.7330976e+09"), (2e6, "2e+06")] {
            assert_eq!(go_float(f), go, "{f}");
        }
    }
}

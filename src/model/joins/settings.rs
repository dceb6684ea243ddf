//! How joins are judged: the window, which DaemonSets are critical, the timeouts.
//!
//! May import: `model::compact`, `k8s`.

use std::time::Duration;

use crate::k8s::eligibility::Toleration;
use crate::model::compact::DsInfo;

/// How joins are judged (`--joins-since`, `--critical`, `--usable-timeout`, config.toml).
#[derive(Debug, Clone, PartialEq)]
pub struct JoinSettings {
    /// Nodes created within this long count as joining (default 6h).
    pub since: Duration,
    /// `namespace/name` of the critical DaemonSets; empty: the default rule ([`is_critical`]).
    pub critical: Vec<String>,
    /// A node not usable this long after creation is a problem (default 10m); so is a
    /// critical DaemonSet not Ready by then.
    pub usable_timeout: Duration,
    /// A startup taint still there this long after every critical DaemonSet is Ready has
    /// outlived its DaemonSet (default 2m).
    pub taint_grace: Duration,
}

impl Default for JoinSettings {
    fn default() -> Self {
        JoinSettings {
            since: Duration::from_secs(6 * 3600),
            critical: Vec::new(),
            usable_timeout: Duration::from_secs(600),
            taint_grace: Duration::from_secs(120),
        }
    }
}

/// The priority classes whose DaemonSets are critical by default.
pub const CRITICAL_CLASSES: [&str; 2] = ["system-node-critical", "system-cluster-critical"];

/// Taints that are startup taints wherever they are seen (besides any NoSchedule or
/// NoExecute taint a node had when it was first seen fresh, see [`track`]).
pub const KNOWN_STARTUP_TAINTS: [&str; 3] =
    ["node.cilium.io/agent-not-ready", "node.cloudprovider.kubernetes.io/uninitialized", "node.cloudprovider.kubernetes.io/shutdown"];

/// Whether a toleration tolerates every taint (`operator: Exists`, no key, no effect).
fn tolerates_all(t: &Toleration) -> bool {
    t.key.is_empty() && t.operator == "Exists" && t.effect.is_empty()
}

/// Critical: named in `settings.critical` when that is set; otherwise its pods run at
/// system-node-critical or system-cluster-critical priority, or tolerate every taint (as
/// CNI agents do, to start on a node nothing else can run on yet).
pub fn is_critical(ds: &DsInfo, settings: &JoinSettings) -> bool {
    if !settings.critical.is_empty() {
        return settings.critical.iter().any(|c| c.split_once('/').is_some_and(|(ns, n)| ns == ds.namespace && n == ds.name));
    }
    ds.priority_class.as_deref().is_some_and(|c| CRITICAL_CLASSES.contains(&c)) || ds.placement.tolerations.iter().any(tolerates_all)
}

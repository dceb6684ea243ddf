//! The small objects the model keeps beside nodes, DaemonSets and pods: ControllerRevisions
//! (the templates a rollout moves between, diffable) and Services (how daemons are reached).
//!
//! May import: `model::compact`, `k8s`.

use std::collections::BTreeMap;

use k8s_openapi::api::apps::v1 as apps;
use k8s_openapi::api::core::v1 as core;
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;

use super::compact::REVISION_HASH_LABEL;

fn ts(t: &Option<k8s_openapi::apimachinery::pkg::apis::meta::v1::Time>) -> Option<jiff::Timestamp> {
    t.as_ref().map(|t| t.0)
}

/// One ControllerRevision of a DaemonSet: its number, hash, and the pod template it
/// recorded, flattened to `path = value` leaves so two revisions can be diffed.
#[derive(Debug, Clone, PartialEq)]
pub struct RevisionInfo {
    pub namespace: String,
    pub name: String,
    /// The owning DaemonSet's uid.
    pub owner_uid: String,
    pub revision: i64,
    pub hash: String,
    pub created: Option<jiff::Timestamp>,
    pub template: BTreeMap<String, String>,
}

/// Leaves kept per revision: enough for any real pod template, bounded for odd ones.
const MAX_TEMPLATE_LEAVES: usize = 2_000;

impl RevisionInfo {
    /// None for revisions no DaemonSet controls (StatefulSets keep them too).
    pub fn from_revision(r: &apps::ControllerRevision) -> Option<Self> {
        let owner = r.metadata.owner_references.as_ref()?.iter().find(|o| o.controller == Some(true) && o.kind == "DaemonSet")?;
        let mut template = BTreeMap::new();
        if let Some(t) = r.data.as_ref().and_then(|d| d.0.get("spec")).and_then(|s| s.get("template")) {
            flatten("", t, &mut template);
        }
        Some(RevisionInfo {
            namespace: r.metadata.namespace.clone().unwrap_or_default(),
            name: r.metadata.name.clone().unwrap_or_default(),
            owner_uid: owner.uid.clone(),
            revision: r.revision,
            hash: r.metadata.labels.as_ref().and_then(|l| l.get(REVISION_HASH_LABEL)).cloned().unwrap_or_default(),
            created: ts(&r.metadata.creation_timestamp),
            template,
        })
    }

    /// What changed from `older` to `self`, one line per leaf: `path: old → new`.
    pub fn changes_since(&self, older: &RevisionInfo) -> Vec<String> {
        let mut out = Vec::new();
        for (k, v) in &self.template {
            match older.template.get(k) {
                Some(o) if o == v => {}
                Some(o) => out.push(format!("{k}: {o} → {v}")),
                None => out.push(format!("{k}: + {v}")),
            }
        }
        for (k, o) in &older.template {
            if !self.template.contains_key(k) {
                out.push(format!("{k}: - {o}"));
            }
        }
        out
    }
}

/// `a.b[name].c = value`; list items with a `name` are keyed by it (containers, volumes,
/// env), others by index, so reordering-free edits diff as one line.
fn flatten(prefix: &str, v: &serde_json::Value, out: &mut BTreeMap<String, String>) {
    if out.len() >= MAX_TEMPLATE_LEAVES {
        return;
    }
    match v {
        serde_json::Value::Object(m) => {
            for (k, v) in m {
                if k == "$patch" {
                    continue;
                }
                let p = if prefix.is_empty() { k.clone() } else { format!("{prefix}.{k}") };
                flatten(&p, v, out);
            }
        }
        serde_json::Value::Array(a) => {
            for (i, v) in a.iter().enumerate() {
                let key = v.get("name").and_then(|n| n.as_str()).map(str::to_string).unwrap_or_else(|| i.to_string());
                flatten(&format!("{prefix}[{key}]"), v, out);
            }
        }
        serde_json::Value::String(s) => {
            out.insert(prefix.to_string(), s.clone());
        }
        other => {
            out.insert(prefix.to_string(), other.to_string());
        }
    }
}

/// A Service, for "how is this DaemonSet reached": its selector and ports.
#[derive(Debug, Clone, PartialEq)]
pub struct ServiceInfo {
    pub namespace: String,
    pub name: String,
    pub selector: BTreeMap<String, String>,
    pub type_: String,
    pub cluster_ip: String,
    /// `port→targetPort/protocol`, e.g. `9100→9100/TCP`.
    pub ports: Vec<String>,
}

impl From<&core::Service> for ServiceInfo {
    fn from(s: &core::Service) -> Self {
        let spec = s.spec.clone().unwrap_or_default();
        ServiceInfo {
            namespace: s.metadata.namespace.clone().unwrap_or_default(),
            name: s.metadata.name.clone().unwrap_or_default(),
            selector: spec.selector.clone().unwrap_or_default(),
            type_: spec.type_.clone().unwrap_or_else(|| "ClusterIP".into()),
            cluster_ip: spec.cluster_ip.clone().unwrap_or_default(),
            ports: spec
                .ports
                .iter()
                .flatten()
                .map(|p| {
                    let target = match &p.target_port {
                        Some(IntOrString::Int(i)) => i.to_string(),
                        Some(IntOrString::String(s)) => s.clone(),
                        None => p.port.to_string(),
                    };
                    format!("{}→{target}/{}", p.port, p.protocol.as_deref().unwrap_or("TCP"))
                })
                .collect(),
        }
    }
}

impl ServiceInfo {
    /// A selector-based Service whose selector matches the pod template's labels.
    pub fn selects(&self, namespace: &str, pod_labels: &BTreeMap<String, String>) -> bool {
        self.namespace == namespace && !self.selector.is_empty() && self.selector.iter().all(|(k, v)| pod_labels.get(k) == Some(v))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rev(n: i64, template: serde_json::Value) -> RevisionInfo {
        let mut t = BTreeMap::new();
        flatten("", &template, &mut t);
        RevisionInfo {
            namespace: "ns".into(),
            name: format!("r{n}"),
            owner_uid: "u".into(),
            revision: n,
            hash: format!("h{n}"),
            created: None,
            template: t,
        }
    }

    #[test]
    fn revision_diff_names_containers_and_shows_old_and_new() {
        let a = rev(
            1,
            serde_json::json!({"spec": {"containers": [{"name": "agent", "image": "a:1", "env": [{"name": "X", "value": "1"}]}], "hostNetwork": true}}),
        );
        let b = rev(
            2,
            serde_json::json!({"spec": {"containers": [{"name": "agent", "image": "a:2", "env": [{"name": "X", "value": "1"}, {"name": "Y", "value": "2"}]}]}}),
        );
        let ch = b.changes_since(&a);
        assert_eq!(
            ch,
            vec![
                "spec.containers[agent].env[Y].name: + Y".to_string(),
                "spec.containers[agent].env[Y].value: + 2".to_string(),
                "spec.containers[agent].image: a:1 → a:2".to_string(),
                "spec.hostNetwork: - true".to_string(),
            ]
        );
        assert!(a.changes_since(&a).is_empty());
    }
}

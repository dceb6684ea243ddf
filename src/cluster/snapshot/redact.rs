//! What a snapshot must not carry, since it is made to be handed to others. Always
//! ([`credentials`]): the values of containers' environment variables, `envFrom`, argument
//! and command values that look like credentials (`--token=…`, `--password x`,
//! `AWS_SECRET_ACCESS_KEY=…`, `Bearer …`, long random-looking words) and the userinfo of
//! URLs (`https://user:pass@host`) become [`REDACTED`] — a marked placeholder, so the
//! simulator still runs the pod. With `--anonymize` ([`anonymize`]), also: label and
//! taint values other than the well-known ones coverage needs (zone, region, arch, os,
//! instance type, pool), mapped consistently (the same value is the same pseudonym in a
//! node's labels, a selector, a nodeSelector, an affinity term, a toleration), so every
//! selector still selects what it did; annotations (but the simulator's own and the
//! template generation); hostPath paths. With `--anonymize=all` ([`rename`]) namespaces,
//! DaemonSet and Service names too.
//!
//! Pure: JSON in place, walked whole, so the DaemonSet, its ControllerRevisions and its
//! pods are treated alike.
//!
//! May import: `k8s` (`cluster::snapshot::scenario` uses it).

use std::collections::BTreeMap;

use serde_json::Value;

/// What replaces a secret.
pub const REDACTED: &str = "REDACTED-by-daemonscope-snapshot";

/// A stable hash (FNV-1a) for pseudonyms: the same value, the same pseudonym.
pub fn hash(s: &str) -> u64 {
    s.bytes().fold(0xcbf2_9ce4_8422_2325u64, |h, b| (h ^ b as u64).wrapping_mul(0x0100_0000_01b3))
}

/// Every container of every pod spec in `v` loses its credentials (see the module).
pub fn credentials(v: &mut Value) {
    match v {
        Value::Object(o) => {
            for list in ["containers", "initContainers", "ephemeralContainers"] {
                for c in o.get_mut(list).and_then(Value::as_array_mut).into_iter().flatten() {
                    container(c);
                }
            }
            for (_, child) in o.iter_mut() {
                credentials(child);
            }
        }
        Value::Array(a) => a.iter_mut().for_each(credentials),
        _ => {}
    }
}

fn container(c: &mut Value) {
    let Some(o) = c.as_object_mut() else { return };
    o.remove("envFrom");
    for e in o.get_mut("env").and_then(Value::as_array_mut).into_iter().flatten() {
        if let Some(val) = e.get_mut("value")
            && val.as_str().is_some_and(|s| !s.is_empty())
        {
            *val = Value::String(REDACTED.into());
        }
    }
    for list in ["args", "command"] {
        if let Some(items) = o.get_mut(list).and_then(Value::as_array_mut) {
            let mut after_secret_flag = false;
            for item in items.iter_mut() {
                if let Some(s) = item.as_str() {
                    let (clean, ends_with_flag) = words(s, after_secret_flag);
                    after_secret_flag = ends_with_flag;
                    *item = Value::String(clean);
                }
            }
        }
    }
}

/// Whether a flag or variable name names a credential.
fn secretish(name: &str) -> bool {
    let n = name.trim_start_matches('-').to_ascii_lowercase();
    ["token", "passw", "pwd", "secret", "credential", "apikey", "api-key", "api_key", "auth", "bearer", "key", "session", "cookie"]
        .iter()
        .any(|w| n.contains(w))
}

/// A word that looks like a key or token itself: long, of one run of base64/hex-like
/// characters, with upper and lower case letters and digits (an AWS secret key, a JWT).
fn random_looking(w: &str) -> bool {
    w.len() >= 32
        && w.chars().all(|c| c.is_ascii_alphanumeric() || "+/=_-.".contains(c))
        && w.chars().any(|c| c.is_ascii_uppercase())
        && w.chars().any(|c| c.is_ascii_lowercase())
        && w.chars().any(|c| c.is_ascii_digit())
}

/// `s` (one argument, or a shell line in one) with its credentials replaced; and whether
/// it ends with a flag whose value (the next argument) is a credential.
fn words(s: &str, mut next_is_secret: bool) -> (String, bool) {
    let mut out: Vec<String> = Vec::new();
    let mut changed = false;
    for w in s.split(' ') {
        let mut w2 = userinfo(w);
        let scheme = w.trim_matches(['\'', '"']);
        if scheme.eq_ignore_ascii_case("bearer") || scheme.eq_ignore_ascii_case("basic") {
            next_is_secret = true;
        } else if next_is_secret && !w.is_empty() && !w.starts_with('-') {
            w2 = REDACTED.into();
            next_is_secret = false;
        } else if let Some((name, val)) = w.split_once('=')
            && !val.is_empty()
            && secretish(name.trim_start_matches(['\'', '"']))
        {
            w2 = format!("{name}={REDACTED}");
        } else if random_looking(w.trim_matches(['\'', '"'])) {
            w2 = REDACTED.into();
        } else if !w.contains('=') && (w.starts_with('-') && secretish(w) || w.ends_with("Authorization:")) {
            next_is_secret = true;
        }
        changed |= w2 != w;
        out.push(w2);
    }
    (if changed { out.join(" ") } else { s.to_string() }, next_is_secret)
}

/// `scheme://user:pass@host/…` as `scheme://REDACTED@host/…`.
fn userinfo(w: &str) -> String {
    let Some(i) = w.find("://") else { return w.to_string() };
    let rest = &w[i + 3..];
    let end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    match rest[..end].rfind('@') {
        Some(at) => format!("{}://{REDACTED}@{}", &w[..i], &rest[at + 1..]),
        None => w.to_string(),
    }
}

/// Label keys whose values coverage needs as they are (where nodes are, what they are).
fn well_known(key: &str) -> bool {
    const KEYS: [&str; 14] = [
        "topology.kubernetes.io/zone",
        "topology.kubernetes.io/region",
        "failure-domain.beta.kubernetes.io/zone",
        "failure-domain.beta.kubernetes.io/region",
        "kubernetes.io/arch",
        "kubernetes.io/os",
        "beta.kubernetes.io/arch",
        "beta.kubernetes.io/os",
        "node.kubernetes.io/instance-type",
        "beta.kubernetes.io/instance-type",
        // How the DaemonSet controller ties pods to revisions and templates.
        "controller-revision-hash",
        "pod-template-generation",
        "pod-template-hash",
        "statefulset.kubernetes.io/pod-name",
    ];
    let k = key.to_ascii_lowercase();
    KEYS.contains(&key) || k.contains("pool") || k.contains("nodegroup") || k.starts_with("node-role.kubernetes.io/")
}

/// Annotations a scenario needs: the simulator's own, and the template generation.
fn kept_annotation(key: &str) -> bool {
    key.starts_with("sim.daemonscope.io/") || key == "deprecated.daemonset.template.generation"
}

/// `--anonymize` over one document (see the module); `nodes`: each real node name's
/// pseudonym (a label value or affinity value naming a node becomes it).
pub fn anonymize(v: &mut Value, nodes: &BTreeMap<String, String>) {
    let value = |key: &str, s: &str| -> String {
        if s.is_empty() || well_known(key) {
            s.to_string()
        } else if let Some(n) = nodes.get(s) {
            n.clone()
        } else {
            format!("v-{:08x}", hash(s) as u32)
        }
    };
    let Value::Object(o) = v else {
        if let Value::Array(a) = v {
            a.iter_mut().for_each(|x| anonymize(x, nodes));
        }
        return;
    };
    // A requirement (`key`, `operator`, `values`): the values, unless numbers (Gt, Lt).
    if let (Some(key), Some(op)) = (o.get("key").and_then(Value::as_str).map(String::from), o.get("operator").and_then(Value::as_str))
        && !matches!(op, "Gt" | "Lt")
        && let Some(vals) = o.get_mut("values").and_then(Value::as_array_mut)
    {
        for x in vals.iter_mut() {
            if let Some(s) = x.as_str() {
                *x = Value::String(if key == "metadata.name" {
                    nodes.get(s).cloned().unwrap_or_else(|| value(&key, s))
                } else {
                    value(&key, s)
                });
            }
        }
    }
    // A taint or a toleration (`key`, `value`, `effect` or `operator`).
    if let Some(key) = o.get("key").and_then(Value::as_str).map(String::from)
        && (o.contains_key("effect") || o.contains_key("operator"))
        && let Some(Value::String(s)) = o.get_mut("value")
    {
        *s = value(&key, s);
    }
    for (k, child) in o.iter_mut() {
        match (k.as_str(), child) {
            ("labels" | "matchLabels" | "nodeSelector" | "selector", Value::Object(m)) if m.values().all(Value::is_string) => {
                for (lk, lv) in m.iter_mut() {
                    if let Value::String(s) = lv {
                        *s = value(lk, s);
                    }
                }
            }
            ("annotations", Value::Object(m)) => m.retain(|k, _| kept_annotation(k)),
            ("hostPath", Value::Object(m)) => {
                if let Some(Value::String(p)) = m.get_mut("path") {
                    *p = format!("/anonymized/p-{:08x}", hash(p) as u32);
                }
            }
            (_, child) => anonymize(child, nodes),
        }
    }
}

/// `--anonymize=all`: namespaces (but the built-in ones), DaemonSet and Service names
/// replaced by stable pseudonyms in every document — the objects, their pods' and
/// revisions' names (`<daemonset>-…`), the timeline's patches and deletes, and the nodes'
/// per-DaemonSet behaviour annotations.
pub fn rename(docs: &mut [Value], namespaces: &BTreeMap<String, String>, daemonsets: &BTreeMap<String, String>) {
    let prefixed = |name: &str| -> Option<String> {
        daemonsets
            .iter()
            .filter(|(d, _)| name.starts_with(&format!("{d}-")))
            .max_by_key(|(d, _)| d.len())
            .map(|(d, m)| format!("{m}{}", &name[d.len()..]))
    };
    let rename_in = |o: &mut serde_json::Map<String, Value>, kind: &str| {
        if let Some(Value::String(ns)) = o.get_mut("namespace")
            && let Some(m) = namespaces.get(ns.as_str())
        {
            *ns = m.clone();
        }
        if let Some(Value::String(name)) = o.get_mut("name") {
            let new = match kind {
                "Namespace" => namespaces.get(name.as_str()).cloned(),
                "DaemonSet" => daemonsets.get(name.as_str()).cloned(),
                "Pod" | "ControllerRevision" => prefixed(name),
                "Service" => Some(format!("svc-{:08x}", hash(name) as u32)),
                _ => None,
            };
            if let Some(n) = new {
                *name = n;
            }
        }
    };
    for d in docs.iter_mut() {
        let kind = d.get("kind").and_then(Value::as_str).unwrap_or_default().to_string();
        if let Some(Value::Object(meta)) = d.get_mut("metadata") {
            rename_in(meta, &kind);
            if let Some(Value::String(b)) = meta.get_mut("annotations").and_then(|a| a.get_mut(crate::k8s::scenario::NODE_POD_BEHAVIOR)) {
                *b = b
                    .split(',')
                    .map(|e| match e.split_once('=') {
                        Some((ds, how)) => format!("{}={how}", daemonsets.get(ds).map_or(ds, String::as_str)),
                        None => e.to_string(),
                    })
                    .collect::<Vec<_>>()
                    .join(",");
            }
        }
        for step in d.get_mut("timeline").and_then(Value::as_array_mut).into_iter().flatten() {
            for what in ["patch", "delete"] {
                if let Some(Value::Object(o)) = step.get_mut(what) {
                    let kind = o.get("kind").and_then(Value::as_str).unwrap_or_default().to_string();
                    rename_in(o, &kind);
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn credentials_in_env_args_and_urls_are_replaced() {
        let mut v = json!({"spec": {"containers": [{
            "name": "agent",
            "env": [{"name": "PASSWORD", "value": "hunter2"}, {"name": "FROM", "valueFrom": {"fieldRef": {"fieldPath": "spec.nodeName"}}}],
            "envFrom": [{"secretRef": {"name": "agent-secrets"}}],
            "args": ["--token=abc123", "--password", "hunter3", "--endpoint=https://user:pass@db.example:5432/x", "--verbose", "--level=3"],
            "command": ["sh", "-c", "curl -H 'Authorization: Bearer eyJhbGciOi' https://x && AWS_SECRET_ACCESS_KEY=wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY run"],
        }]}});
        credentials(&mut v);
        let text = v.to_string();
        for secret in ["hunter2", "hunter3", "abc123", "user:pass", "eyJhbGciOi", "wJalrXUtnFEMI", "agent-secrets"] {
            assert!(!text.contains(secret), "{secret}: {text}");
        }
        for kept in ["--verbose", "--level=3", "db.example:5432/x", "spec.nodeName", "PASSWORD", "--token="] {
            assert!(text.contains(kept), "{kept}: {text}");
        }
    }

    #[test]
    fn anonymized_values_are_consistent_and_well_known_ones_stay() {
        let nodes = BTreeMap::from([("prod-node-1".to_string(), "node-00001".to_string())]);
        let mut node = json!({"metadata": {"labels": {"customer": "acmebank", "topology.kubernetes.io/zone": "eu-1a", "kubernetes.io/hostname": "prod-node-1"},
            "annotations": {"oncall": "ops@acmebank.com", "sim.daemonscope.io/node-state": "not-ready"}},
            "spec": {"taints": [{"key": "dedicated", "value": "acmebank", "effect": "NoSchedule"}]}});
        let mut ds = json!({"spec": {"template": {"metadata": {"annotations": {"oncall": "ops@acmebank.com"}}, "spec": {
            "nodeSelector": {"customer": "acmebank"},
            "tolerations": [{"key": "dedicated", "operator": "Equal", "value": "acmebank", "effect": "NoSchedule"}],
            "affinity": {"nodeAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": {"nodeSelectorTerms": [{"matchExpressions": [
                {"key": "customer", "operator": "In", "values": ["acmebank"]}]}]}}},
            "volumes": [{"name": "data", "hostPath": {"path": "/var/lib/acmebank-data"}}]}}}});
        anonymize(&mut node, &nodes);
        anonymize(&mut ds, &nodes);
        let (n, d) = (node.to_string(), ds.to_string());
        assert!(!n.contains("acmebank") && !d.contains("acmebank"), "{n}\n{d}");
        let mapped = node["metadata"]["labels"]["customer"].as_str().unwrap();
        assert_eq!(ds["spec"]["template"]["spec"]["nodeSelector"]["customer"], mapped);
        assert_eq!(ds.pointer("/spec/template/spec/tolerations/0/value").unwrap(), node.pointer("/spec/taints/0/value").unwrap());
        assert_eq!(ds.pointer("/spec/template/spec/affinity/nodeAffinity/requiredDuringSchedulingIgnoredDuringExecution/nodeSelectorTerms/0/matchExpressions/0/values/0").unwrap(), mapped);
        assert_eq!(node["metadata"]["labels"]["topology.kubernetes.io/zone"], "eu-1a");
        assert_eq!(node["metadata"]["labels"]["kubernetes.io/hostname"], "node-00001");
        assert_eq!(node["metadata"]["annotations"], json!({"sim.daemonscope.io/node-state": "not-ready"}));
    }
}

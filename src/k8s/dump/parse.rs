//! The objects in one file of a dump: a JSON object, a stream of them (`kubectl
//! cluster-info dump` prints one list after another), a JSON array (older support
//! bundles), or YAML documents; a `List` or typed list (`PodList`) gives its items, which
//! take their kind from the list (`cluster-info dump` and client-go leave it out) or, failing
//! that, from the file's path (`cluster-resources/pods/kube-system.json` holds Pods). Also
//! the log sections `cluster-info dump` writes between its lists.
//!
//! May import: nothing of ours.

use serde_json::Value;

/// The apiVersion and kind of a resource by the plural a path names it with.
const PLURALS: &[(&str, &str, &str)] = &[
    ("nodes", "v1", "Node"),
    ("pods", "v1", "Pod"),
    ("events", "v1", "Event"),
    ("namespaces", "v1", "Namespace"),
    ("services", "v1", "Service"),
    ("daemonsets", "apps/v1", "DaemonSet"),
    ("controllerrevisions", "apps/v1", "ControllerRevision"),
    ("replicasets", "apps/v1", "ReplicaSet"),
    ("priorityclasses", "scheduling.k8s.io/v1", "PriorityClass"),
    ("poddisruptionbudgets", "policy/v1", "PodDisruptionBudget"),
];

/// The (apiVersion, kind) a path's directories or file name say its objects are.
pub fn kind_from_path(path: &str) -> Option<(&'static str, &'static str)> {
    let parts: Vec<&str> = path.split('/').collect();
    // The nearest name first: `pods/kube-system.json`, `core/pods.yaml`, `nodes/n1.yaml`.
    for p in parts.iter().rev() {
        let stem = p.split('.').next().unwrap_or(p);
        if let Some((_, av, k)) = PLURALS.iter().find(|(pl, _, _)| *pl == stem) {
            return Some((av, k));
        }
    }
    None
}

/// One container's log: (namespace, pod, container) and its text.
pub type Log = ((String, String, String), String);

/// The documents of a text: every JSON value in a stream, or every YAML document.
pub fn documents(path: &str, text: &str) -> Result<Vec<Value>, String> {
    let t = text.trim_start();
    if t.starts_with('{') || t.starts_with('[') {
        let mut out = Vec::new();
        // `cluster-info dump` on stdout: JSON lists with log sections between them.
        for chunk in json_chunks(text) {
            let mut stream = serde_json::Deserializer::from_str(chunk).into_iter::<Value>();
            for v in &mut stream {
                out.push(v.map_err(|e| format!("{path}: not valid JSON: {e}"))?);
            }
        }
        return Ok(out);
    }
    let options = serde_saphyr::options! {
        budget: serde_saphyr::budget! {
            max_documents: 1_000_000,
            max_nodes: 200_000_000,
            max_events: 400_000_000,
            max_total_scalar_bytes: 1 << 30,
        },
        duplicate_keys: serde_saphyr::options::DuplicateKeyPolicy::LastWins,
    };
    let docs: Vec<Value> = serde_saphyr::from_multiple_with_options(text, options)
        .map_err(|e| format!("{path}: not valid YAML or JSON: {}", e.to_string().lines().next().unwrap_or("")))?;
    Ok(docs.into_iter().filter(|d| !d.is_null()).collect())
}

const LOG_START: &str = "==== START logs for container ";
const LOG_END: &str = "==== END logs for container ";

/// The text outside `cluster-info dump`'s log sections.
fn json_chunks(text: &str) -> Vec<&str> {
    if !text.contains(LOG_START) {
        return vec![text];
    }
    let mut out = Vec::new();
    let mut rest = text;
    while let Some(i) = rest.find(LOG_START) {
        out.push(&rest[..i]);
        let after = &rest[i..];
        match after.find(LOG_END) {
            Some(j) => {
                let tail = &after[j..];
                rest = tail.find('\n').map_or("", |k| &tail[k + 1..]);
            }
            None => {
                rest = "";
            }
        }
    }
    out.push(rest);
    out
}

/// The log sections of a `cluster-info dump` stream or a `--output-directory` `logs.txt`:
/// `==== START logs for container C of pod NS/P ====` … `==== END logs … ====`.
pub fn log_sections(text: &str) -> Vec<Log> {
    let mut out = Vec::new();
    let mut rest = text;
    while let Some(i) = rest.find(LOG_START) {
        let head = &rest[i + LOG_START.len()..];
        let line_end = head.find('\n').unwrap_or(head.len());
        let line = &head[..line_end];
        let body_start = (line_end + 1).min(head.len());
        let body = &head[body_start..];
        let end = body.find(LOG_END).unwrap_or(body.len());
        // `C of pod NS/P ====`
        if let Some((c, pod)) = line.trim_end_matches('=').trim().split_once(" of pod ")
            && let Some((ns, p)) = pod.trim().split_once('/')
        {
            out.push(((ns.to_string(), p.to_string(), c.to_string()), body[..end].to_string()));
        }
        rest = &body[end..];
        rest = rest.find('\n').map_or("", |k| &rest[k + 1..]);
    }
    out
}

/// The objects of one document: a list's items (each given the list's kind without
/// `List`, or the path's), a JSON array's elements, or the object itself.
pub fn objects(doc: Value, path: &str, out: &mut Vec<Value>) {
    let from_path = kind_from_path(path);
    match doc {
        Value::Array(items) => {
            for item in items {
                push(item, from_path.map(|(a, k)| (a.to_string(), k.to_string())), out);
            }
        }
        Value::Object(mut o) => {
            let kind = o.get("kind").and_then(Value::as_str).unwrap_or("").to_string();
            let av = o.get("apiVersion").and_then(Value::as_str).unwrap_or("").to_string();
            let is_list = (kind.ends_with("List") || kind.is_empty()) && o.get("items").is_some_and(Value::is_array);
            if is_list && let Some(Value::Array(items)) = o.remove("items") {
                let item_kind = match kind.strip_suffix("List") {
                    Some(k) if !k.is_empty() => Some((av.clone(), k.to_string())),
                    _ => from_path.map(|(a, k)| (a.to_string(), k.to_string())),
                };
                for item in items {
                    push(item, item_kind.clone(), out);
                }
            } else {
                push(Value::Object(o), from_path.map(|(a, k)| (a.to_string(), k.to_string())), out);
            }
        }
        _ => {}
    }
}

/// Keeps an object that has (or is given) an apiVersion, a kind and a name.
fn push(mut item: Value, kind: Option<(String, String)>, out: &mut Vec<Value>) {
    let Some(o) = item.as_object_mut() else { return };
    if let Some((av, k)) = kind {
        if o.get("kind").and_then(Value::as_str).is_none_or(str::is_empty) {
            o.insert("kind".into(), Value::String(k));
        }
        if o.get("apiVersion").and_then(Value::as_str).is_none_or(str::is_empty) {
            o.insert("apiVersion".into(), Value::String(av));
        }
    }
    let named = item.pointer("/metadata/name").and_then(Value::as_str).is_some_and(|n| !n.is_empty());
    let typed = item.get("kind").and_then(Value::as_str).is_some_and(|k| !k.is_empty());
    if named && typed {
        out.push(item);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn typed_lists_give_their_kind_to_items() {
        let mut out = Vec::new();
        objects(json!({"kind": "NodeList", "apiVersion": "v1", "items": [{"metadata": {"name": "a"}}]}), "nodes.json", &mut out);
        assert_eq!(out[0]["kind"], "Node");
        assert_eq!(out[0]["apiVersion"], "v1");
        let mut out = Vec::new();
        objects(json!([{"metadata": {"name": "p", "namespace": "x"}}]), "cluster-resources/pods/x.json", &mut out);
        assert_eq!((out[0]["kind"].as_str(), out[0]["apiVersion"].as_str()), (Some("Pod"), Some("v1")));
        let mut out = Vec::new();
        objects(
            json!({"kind": "List", "apiVersion": "v1", "items": [{"kind": "DaemonSet", "apiVersion": "apps/v1", "metadata": {"name": "d"}}]}),
            "x",
            &mut out,
        );
        assert_eq!(out[0]["kind"], "DaemonSet");
    }

    #[test]
    fn a_cluster_info_dump_stream_has_lists_and_logs() {
        let text = "{\"kind\": \"NodeList\", \"apiVersion\": \"v1\", \"items\": []}\n{\"kind\": \"PodList\", \"apiVersion\": \"v1\", \"items\": [{\"metadata\": {\"name\": \"p\"}}]}\n==== START logs for container agent of pod kube-system/agent-x ====\nhello {\nworld\n==== END logs for container agent of pod kube-system/agent-x ====\n{\"kind\": \"EventList\", \"apiVersion\": \"v1\", \"items\": []}\n";
        let docs = documents("dump", text).unwrap();
        assert_eq!(docs.len(), 3);
        let logs = log_sections(text);
        assert_eq!(logs, vec![(("kube-system".into(), "agent-x".into(), "agent".into()), "hello {\nworld\n".into())]);
    }

    #[test]
    fn kinds_from_paths() {
        assert_eq!(kind_from_path("ns/core/pods.yaml"), Some(("v1", "Pod")));
        assert_eq!(kind_from_path("cluster-scoped-resources/core/nodes/n1.yaml"), Some(("v1", "Node")));
        assert_eq!(kind_from_path("cluster-resources/daemonsets/kube-system.json"), Some(("apps/v1", "DaemonSet")));
        assert_eq!(kind_from_path("README.txt"), None);
    }
}

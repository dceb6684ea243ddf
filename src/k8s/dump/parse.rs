//! The objects in one file of a dump: a JSON object, a stream of them (`kubectl
//! cluster-info dump` prints one list after another), a JSON array (older support
//! bundles), or YAML documents; a `List` or typed list (`PodList`) gives its items, which
//! take their kind from the list (`cluster-info dump` and client-go leave it out) or, failing
//! that, from the file's path (`cluster-resources/pods/kube-system.json` holds Pods). Also
//! the log sections `cluster-info dump` writes between its lists.
//!
//! May import: nothing of ours.

use serde_json::Value;
use serde_json::value::RawValue;

use super::raw::{self, Object};

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

/// The objects of one file's text: every JSON value in a stream (sliced out as text,
/// never built into trees), or every YAML document. Errors are one line naming the file.
pub fn read(path: &str, text: &str, out: &mut Vec<Object>, time: &mut Option<jiff::Timestamp>) -> Result<(), String> {
    let from_path = kind_from_path(path);
    let t = text.trim_start();
    if t.starts_with('{') || t.starts_with('[') {
        // `cluster-info dump` on stdout: JSON lists with log sections between them.
        for chunk in json_chunks(text) {
            let stream = serde_json::Deserializer::from_str(chunk).into_iter::<&RawValue>();
            for doc in stream {
                let doc = doc.map_err(|e| format!("{path}: not valid JSON: {e}"))?;
                raw::json_objects(doc, from_path, out, time);
            }
        }
        return Ok(());
    }
    for doc in yaml_documents(path, text)? {
        objects(doc, from_path, out, time);
    }
    Ok(())
}

/// Every YAML document of a text.
fn yaml_documents(path: &str, text: &str) -> Result<Vec<Value>, String> {
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

/// The objects of one YAML document: a list's items (each given the list's kind without
/// `List`, or the path's), an array's elements, or the object itself.
fn objects(doc: Value, from_path: Option<(&str, &str)>, out: &mut Vec<Object>, time: &mut Option<jiff::Timestamp>) {
    match doc {
        Value::Array(items) => {
            for item in items {
                raw::value_object(item, from_path, out, time);
            }
        }
        Value::Object(mut o) => {
            let kind = o.get("kind").and_then(Value::as_str).unwrap_or("").to_string();
            let av = o.get("apiVersion").and_then(Value::as_str).unwrap_or("").to_string();
            let is_list = (kind.ends_with("List") || kind.is_empty()) && o.get("items").is_some_and(Value::is_array);
            if is_list && let Some(Value::Array(items)) = o.remove("items") {
                let item_kind = match kind.strip_suffix("List") {
                    Some(k) if !k.is_empty() => Some((av.as_str(), k)),
                    _ => from_path,
                };
                for item in items {
                    raw::value_object(item, item_kind, out, time);
                }
            } else {
                raw::value_object(Value::Object(o), from_path, out, time);
            }
        }
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn read_all(path: &str, text: &str) -> (Vec<Object>, Option<jiff::Timestamp>) {
        let (mut out, mut time) = (Vec::new(), None);
        read(path, text, &mut out, &mut time).unwrap();
        (out, time)
    }

    fn who(o: &Object) -> (&str, &str, &str, &str) {
        (o.api_version.as_str(), o.kind.as_str(), o.namespace.as_str(), o.name.as_str())
    }

    #[test]
    fn typed_lists_give_their_kind_to_items_in_json_and_yaml() {
        let list = json!({"kind": "NodeList", "apiVersion": "v1", "items": [{"metadata": {"name": "a"}}]});
        for text in [list.to_string(), serde_saphyr::to_string(&list).unwrap()] {
            let (out, _) = read_all("nodes.json", &text);
            assert_eq!(out.iter().map(who).collect::<Vec<_>>(), [("v1", "Node", "", "a")]);
        }
        let (out, _) = read_all("cluster-resources/pods/x.json", &json!([{"metadata": {"name": "p", "namespace": "x"}}]).to_string());
        assert_eq!(out.iter().map(who).collect::<Vec<_>>(), [("v1", "Pod", "x", "p")]);
        let any = json!({"kind": "List", "apiVersion": "v1", "items": [{"kind": "DaemonSet", "apiVersion": "apps/v1", "metadata": {"name": "d"}}, {"metadata": {}}]});
        let (out, _) = read_all("x", &any.to_string());
        assert_eq!(out.iter().map(who).collect::<Vec<_>>(), [("apps/v1", "DaemonSet", "", "d")]);
    }

    #[test]
    fn managed_fields_are_cut_and_do_not_date_the_dump() {
        let pod = json!({"kind": "Pod", "apiVersion": "v1", "metadata": {"name": "p", "namespace": "x",
            "creationTimestamp": "2025-03-02T14:00:00Z",
            "managedFields": [{"manager": "kubelet", "time": "2031-01-01T00:00:00Z"}]},
            "status": {"conditions": [{"type": "Ready", "lastTransitionTime": "2025-03-02T14:03:00Z"}]}});
        for text in [pod.to_string(), serde_saphyr::to_string(&pod).unwrap()] {
            let (out, time) = read_all("p.json", &text);
            assert_eq!(out.len(), 1);
            assert!(!out[0].json.get().contains("managedFields"), "{}", out[0].json.get());
            assert_eq!(out[0].value()["status"]["conditions"][0]["type"], "Ready");
            assert_eq!(time, Some("2025-03-02T14:03:00Z".parse().unwrap()));
        }
    }

    #[test]
    fn a_cluster_info_dump_stream_has_lists_and_logs() {
        let text = "{\"kind\": \"NodeList\", \"apiVersion\": \"v1\", \"items\": []}\n{\"kind\": \"PodList\", \"apiVersion\": \"v1\", \"items\": [{\"metadata\": {\"name\": \"p\"}}]}\n==== START logs for container agent of pod kube-system/agent-x ====\nhello {\nworld\n==== END logs for container agent of pod kube-system/agent-x ====\n{\"kind\": \"EventList\", \"apiVersion\": \"v1\", \"items\": []}\n";
        let (out, _) = read_all("dump", text);
        assert_eq!(out.iter().map(who).collect::<Vec<_>>(), [("v1", "Pod", "", "p")]);
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

//! DaemonSet manifests read from files (or standard input) for a preflight: YAML or JSON,
//! several documents, `List`s; every `apps/v1` DaemonSet in them, anything else skipped.
//! Each file is read within `--max-file-size` (`k8s::files`).
//!
//! May import: `k8s::files`.

use k8s_openapi::api::apps::v1::DaemonSet;
use serde_json::Value;

/// The DaemonSets of the files (`-` is standard input): YAML or JSON, several documents,
/// `List`s. Anything else is skipped; no DaemonSet at all is an error, in one line.
pub fn read_manifests(paths: &[std::path::PathBuf]) -> Result<Vec<DaemonSet>, String> {
    let mut out = Vec::new();
    for p in paths {
        let shown = p.display().to_string();
        let text = if shown == "-" {
            let mut s = String::new();
            std::io::Read::read_to_string(&mut std::io::Read::take(std::io::stdin(), crate::k8s::files::max() + 1), &mut s)
                .map_err(|e| format!("reading standard input: {e}"))?;
            if s.len() as u64 > crate::k8s::files::max() {
                return Err(format!("standard input: larger than {} (--max-file-size)", crate::k8s::files::size(crate::k8s::files::max())));
            }
            s
        } else {
            crate::k8s::files::read_to_string(p).map_err(|e| match e {
                crate::k8s::files::ReadError::Io(e) if e.kind() == std::io::ErrorKind::NotFound => format!("{shown}: no such file"),
                e => format!("{shown}: {e}"),
            })?
        };
        let docs: Vec<Value> = serde_saphyr::from_multiple(&text)
            .map_err(|e| format!("{shown}: not valid YAML or JSON: {}", e.to_string().lines().next().unwrap_or("")))?;
        let mut items: Vec<Value> = Vec::new();
        for d in docs {
            match d.get("items").and_then(Value::as_array) {
                Some(list) if d.get("kind").and_then(Value::as_str).is_some_and(|k| k.ends_with("List")) => {
                    items.extend(list.iter().cloned())
                }
                _ => items.push(d),
            }
        }
        for d in items {
            if d.get("kind").and_then(Value::as_str) != Some("DaemonSet") {
                continue;
            }
            let name = d.pointer("/metadata/name").and_then(Value::as_str).unwrap_or("").to_string();
            if d.get("apiVersion").and_then(Value::as_str) != Some("apps/v1") {
                return Err(format!("{shown}: DaemonSet {name}: apiVersion must be apps/v1"));
            }
            let ds: DaemonSet = serde_json::from_value(d).map_err(|e| format!("{shown}: DaemonSet {name}: {e}"))?;
            if ds.spec.as_ref().and_then(|s| s.template.spec.as_ref()).is_none() {
                return Err(format!("{shown}: DaemonSet {name}: spec.template.spec is missing"));
            }
            out.push(ds);
        }
    }
    if out.is_empty() {
        let files: Vec<String> = paths.iter().map(|p| p.display().to_string()).collect();
        return Err(format!("{}: no DaemonSet (apps/v1) in it", files.join(", ")));
    }
    Ok(out)
}

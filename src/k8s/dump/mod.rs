//! What a cluster left behind, read offline: a List or multi-document stream from
//! `kubectl get … -o json|yaml`, `kubectl cluster-info dump` (its stdout stream and its
//! `--output-directory` tree), an OpenShift must-gather tree, a troubleshoot.sh support
//! bundle (`cluster-resources/…`) or daemonscope's own snapshot — each as a directory, a
//! file, or a `.tar.gz`/`.tgz`/`.zip` read in place ([`files`]). The format is detected
//! from the layout, not flagged; the objects come out as the API served them (deduplicated:
//! must-gather writes a namespace's pods both as a list and one by one), with the
//! containers' logs where the dump has them and the dump's time (its newest timestamp),
//! which ages are read against. Both `--from` (the client) and `sim --from` (the
//! simulator) read dumps through here.
//!
//! May import: nothing of ours outside `k8s/`.

pub mod files;
pub mod parse;
pub mod raw;

pub use raw::Object;

use std::collections::{BTreeMap, HashSet};
use std::path::Path;

/// How the context of a dump read offline starts (`offline · dump of 2025-03-02 14:03 UTC`);
/// the TUI answers every action there with one line.
pub const OFFLINE: &str = "offline · ";

/// The tool that wrote a dump, as detected from its layout.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// `kubectl get … -o json|yaml`: a List, or documents one after another.
    KubectlGet,
    /// `kubectl cluster-info dump` to stdout: typed lists one after another, logs between.
    ClusterInfoDump,
    /// `kubectl cluster-info dump --output-directory DIR`: `nodes.json`, `NS/pods.json`, …
    ClusterInfoDumpDir,
    /// `oc adm must-gather`: `cluster-scoped-resources/…`, `namespaces/NS/core/pods.yaml`, …
    MustGather,
    /// troubleshoot.sh: `cluster-resources/nodes.json`, `cluster-resources/pods/NS.json`, …
    SupportBundle,
    /// `daemonscope snapshot` (a simulator scenario: pods are the simulator's to start).
    Snapshot,
}

impl Format {
    pub fn describe(self) -> &'static str {
        match self {
            Format::KubectlGet => "kubectl get output",
            Format::ClusterInfoDump => "kubectl cluster-info dump",
            Format::ClusterInfoDumpDir => "kubectl cluster-info dump --output-directory",
            Format::MustGather => "OpenShift must-gather",
            Format::SupportBundle => "troubleshoot.sh support bundle",
            Format::Snapshot => "daemonscope snapshot",
        }
    }
}

/// A dump, read.
#[derive(Debug, Clone)]
pub struct Dump {
    pub format: Format,
    /// Every object, with apiVersion, kind and name, each once, as the JSON it was.
    pub objects: Vec<Object>,
    /// Container logs by (namespace, pod, container).
    pub logs: BTreeMap<(String, String, String), String>,
    /// The newest timestamp in the dump: when it was taken, as near as it says.
    pub time: Option<jiff::Timestamp>,
}

/// The kinds daemonscope reads, with their plural for the summary line.
const KINDS: &[(&str, &str)] =
    &[("Node", "node"), ("DaemonSet", "DaemonSet"), ("Pod", "pod"), ("ControllerRevision", "ControllerRevision"), ("Event", "event")];

fn detect(files: &[files::File], single_file: bool) -> Format {
    let has = |f: &dyn Fn(&str) -> bool| files.iter().any(|x| f(&x.path));
    if has(&|p| p.starts_with("cluster-resources/") || p.contains("/cluster-resources/")) {
        return Format::SupportBundle;
    }
    if has(&|p| p.contains("cluster-scoped-resources/") || (p.contains("namespaces/") && p.contains("/core/"))) {
        return Format::MustGather;
    }
    if !single_file && has(&|p| p == "nodes.json" || p.ends_with("/nodes.json")) && has(&|p| p.ends_with("/pods.json")) {
        return Format::ClusterInfoDumpDir;
    }
    let text = |f: &files::File| String::from_utf8_lossy(&f.bytes[..f.bytes.len().min(1 << 16)]).into_owned();
    if files.iter().any(|f| {
        let t = text(f);
        t.contains(crate::k8s::scenario::API_VERSION) || t.starts_with("# A snapshot")
    }) {
        return Format::Snapshot;
    }
    // One JSON typed list after another (`NodeList`, then each namespace's lists).
    if files.iter().any(|f| {
        let t = text(f);
        let t = t.trim_start();
        t.starts_with('{') && t.contains("\"NodeList\"") || t.contains("==== START logs for container ")
    }) {
        return Format::ClusterInfoDump;
    }
    Format::KubectlGet
}

/// `12,406`.
pub fn thousands(n: usize) -> String {
    let s = n.to_string();
    let mut out = String::new();
    for (i, c) in s.chars().enumerate() {
        if i > 0 && (s.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// The (namespace, pod, container) a log file's path names, by layout.
fn log_path(format: Format, path: &str) -> Option<(String, String, String)> {
    let parts: Vec<&str> = path.split('/').collect();
    match format {
        // cluster-resources/pods/logs/NS/POD/CONTAINER.log
        Format::SupportBundle => {
            let i = parts.iter().position(|p| *p == "logs")?;
            let (ns, pod, file) = (parts.get(i + 1)?, parts.get(i + 2)?, parts.get(i + 3)?);
            let c = file.strip_suffix(".log")?;
            (!c.ends_with("-previous")).then(|| (ns.to_string(), pod.to_string(), c.to_string()))
        }
        // namespaces/NS/pods/POD/CONTAINER/CONTAINER/logs/current.log
        Format::MustGather => {
            if parts.last() != Some(&"current.log") {
                return None;
            }
            let i = parts.iter().rposition(|p| *p == "pods")?;
            let ns = parts.get(i.checked_sub(1)?)?;
            Some((ns.to_string(), parts.get(i + 1)?.to_string(), parts.get(i + 2)?.to_string()))
        }
        _ => None,
    }
}

/// Reads the dump at `path`. Errors are one line that names the file.
pub fn open(path: &Path) -> Result<Dump, String> {
    let files = files::read(path)?;
    let single = std::fs::metadata(path).map(|m| m.is_file()).unwrap_or(false) && !path.to_string_lossy().ends_with(".zip") && {
        let n = path.to_string_lossy().to_ascii_lowercase();
        !(n.ends_with(".tar.gz") || n.ends_with(".tgz") || n.ends_with(".tar"))
    };
    let format = detect(&files, single);
    let mut objects = Vec::new();
    let mut time = None;
    let mut logs = BTreeMap::new();
    // Each file's bytes go as soon as it is read: a big dump is not held twice.
    for f in files {
        let lower = f.path.to_ascii_lowercase();
        let manifest = single || lower.ends_with(".json") || lower.ends_with(".yaml") || lower.ends_with(".yml");
        let text = String::from_utf8_lossy(&f.bytes);
        if lower.ends_with(".log") || lower.ends_with(".txt") || (single && text.contains("==== START logs")) {
            if let Some(key) = log_path(format, &f.path) {
                logs.insert(key, text.to_string());
            }
            for (key, body) in parse::log_sections(&text) {
                logs.insert(key, body);
            }
            if !single {
                continue;
            }
        }
        // A support bundle's `*-errors.json` lists what it could not collect.
        if !manifest || lower.ends_with("-errors.json") {
            continue;
        }
        parse::read(&f.path, &text, &mut objects, &mut time)?;
    }
    // Each object once (must-gather writes pods as a list and one by one), first kept.
    let mut seen: HashSet<(String, String, String, String)> = HashSet::new();
    objects.retain(|o| seen.insert((o.api_version.clone(), o.kind.clone(), o.namespace.clone(), o.name.clone())));
    if format == Format::Snapshot {
        objects.retain(|o| o.api_version != crate::k8s::scenario::API_VERSION);
    }
    if objects.is_empty() {
        return Err(format!(
            "{}: no Kubernetes objects found (expected kubectl get -o json|yaml output, a cluster-info dump, a must-gather, a support bundle or a daemonscope snapshot)",
            path.display()
        ));
    }
    Ok(Dump { format, objects, logs, time })
}

impl Dump {
    pub fn count(&self, kind: &str) -> usize {
        self.objects.iter().filter(|o| o.kind == kind).count()
    }

    /// `dump of 2025-03-02 14:03 UTC: 412 nodes, 31 DaemonSets, 12,406 pods, 88 ControllerRevisions, 0 events`.
    pub fn summary(&self) -> String {
        let when = self.time.map(|t| t.strftime("%Y-%m-%d %H:%M UTC").to_string()).unwrap_or_else(|| "unknown time".into());
        let counts: Vec<String> = KINDS
            .iter()
            .map(|(k, noun)| {
                let n = self.count(k);
                let noun = if n == 1 { noun.to_string() } else { crate::k8s::words::plural(noun) };
                format!("{} {noun}", thousands(n))
            })
            .collect();
        format!("{} of {when}: {}", self.format.describe(), counts.join(", "))
    }

    /// What the dump lacks that the views read, each with what follows from it.
    pub fn missing(&self) -> Vec<String> {
        let mut out = Vec::new();
        if self.format == Format::Snapshot {
            return out;
        }
        if self.count("ControllerRevision") == 0 && self.count("DaemonSet") > 0 {
            out.push("no ControllerRevisions: up-to-date judged from the pod-template-generation label".into());
        }
        if self.count("Event") == 0 {
            out.push("no events".into());
        }
        if self.count("Node") == 0 {
            out.push("no nodes: every pod's node is unknown".into());
        }
        if self.count("DaemonSet") == 0 {
            out.push("no DaemonSets".into());
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn thousands_separators() {
        assert_eq!(thousands(12406), "12,406");
        assert_eq!(thousands(412), "412");
        assert_eq!(thousands(1_000_000), "1,000,000");
    }

    #[test]
    fn timestamps_are_recognised_cheaply() {
        assert!(raw::timestamp("2025-03-02T14:03:00Z").is_some());
        assert!(raw::timestamp("2025-03-02T14:03:00.123456Z").is_some());
        assert!(raw::timestamp("registry.k8s.io/pause:3.9").is_none());
    }

    #[test]
    fn log_paths_by_layout() {
        assert_eq!(
            log_path(Format::SupportBundle, "b/cluster-resources/pods/logs/kube-system/agent-x/agent.log"),
            Some(("kube-system".into(), "agent-x".into(), "agent".into()))
        );
        assert_eq!(
            log_path(Format::MustGather, "mg/namespaces/kube-system/pods/agent-x/agent/agent/logs/current.log"),
            Some(("kube-system".into(), "agent-x".into(), "agent".into()))
        );
    }
}

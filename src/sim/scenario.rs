//! Scenarios: multi-document YAML of plain Kubernetes objects (what `kubectl create -f`
//! takes), plus an optional `Simulation` document with settings and a timeline of
//! scripted changes.
//!
//! ```yaml
//! apiVersion: sim.daemonscope.io/v1alpha1
//! kind: Simulation
//! settings: {startDelay: 2s, readyDelay: 1s}
//! timeline:
//!   - at: 20s
//!     create: {apiVersion: v1, kind: Node, metadata: {name: late-node}}
//!   - at: 5s
//!     patch: {kind: DaemonSet, namespace: kube-system, name: fluent-bit,
//!             patch: {spec: {template: {spec: {containers: [{name: fluent-bit, image: "fluent/fluent-bit:3.1"}]}}}}}
//!   - at: 30s
//!     delete: {kind: Node, name: late-node}
//!   - at: 40s
//!     join: {readyAfter: 15s, taints: ["example.com/gpu-not-ready:NoSchedule"]}
//! pullDurations:
//!   quay.io/cilium/*: 20s
//! registry:
//!   - fluent/fluent-bit:3.1
//!   - registry.k8s.io/*
//! ```
//!
//! `registry:` lists the images the simulated registry has besides those of the objects
//! loaded at start (every container image of every object is known): exact references
//! (`nginx` is `docker.io/library/nginx:latest`) or globs (`registry.k8s.io/*`, `*`).
//! A pod whose image is in neither — nor matches `sim --registry-allow` — gets
//! `ErrImagePull`, then `ImagePullBackOff`, as from a registry that has no such image; so
//! list here every image the timeline (or a rehearsed `kubectl set image`) rolls out to.
//!
//! May import: `sim::api::auth`, `sim::faults`, `sim::joins`, `sim::kind`, `sim::kubelet`, `sim::store`.

use std::collections::BTreeMap;
use std::path::Path;
use std::time::Duration;

use serde::Deserialize;
use serde_json::Value;

use super::api::auth::{Auth, Rule, User};
use super::kind::Kind;
use super::kubelet::parse_duration;

pub use crate::k8s::scenario::API_VERSION as SIM_API_VERSION;
use crate::k8s::scenario::KIND as SIM_KIND;

#[derive(Debug, Clone, Default, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Settings {
    pub start_delay: Option<String>,
    pub ready_delay: Option<String>,
    pub termination: Option<String>,
    pub crash_after: Option<String>,
    pub backoff_base: Option<String>,
    pub pod_gc_quarantine: Option<String>,
    pub bookmark_interval: Option<String>,
    pub history_size: Option<usize>,
    /// Average writes per second of the controllers and kubelets (default 2000).
    pub max_writes_per_second: Option<u32>,
    /// Start from a converged cluster (pods created and Ready) before the timeline runs.
    pub settle: Option<bool>,
    /// With settle: how long ago the objects were created (default 72h).
    pub age: Option<String>,
    /// Bearer tokens; when set, every request needs one.
    pub tokens: Option<Vec<TokenSpec>>,
    /// Fault injection (see `daemonscope sim --help` and the README).
    pub faults: Option<super::faults::FaultSpec>,
    /// kube-apiserver's `--feature-gates` the simulator has: only `WatchList` (on by
    /// default, as in 1.32 and 1.34+; off, it refuses watch-lists as 1.33 does).
    pub feature_gates: Option<std::collections::BTreeMap<String, bool>>,
}

/// The feature gates the simulator knows, with their defaults.
pub const FEATURE_GATES: &[(&str, bool)] = &[("WatchList", true)];

impl Settings {
    /// Whether feature gate `name` is on (its default when unset).
    pub fn gate(&self, name: &str) -> bool {
        let default = FEATURE_GATES.iter().find(|(g, _)| *g == name).is_some_and(|(_, on)| *on);
        self.feature_gates.as_ref().and_then(|g| g.get(name).copied()).unwrap_or(default)
    }
}

/// `--feature-gates` as kube-apiserver reads it (`Name=true,Other=false`), checked against
/// the gates the simulator knows (component-base's `unrecognized feature gate: X`).
pub fn parse_feature_gates(s: &str) -> Result<Vec<(String, bool)>, String> {
    s.split(',')
        .map(str::trim)
        .filter(|p| !p.is_empty())
        .map(|p| {
            let (k, v) = p.split_once('=').ok_or_else(|| format!("missing bool value for {p}"))?;
            let (k, v) = (k.trim(), v.trim());
            if !FEATURE_GATES.iter().any(|(g, _)| *g == k) {
                return Err(format!("unrecognized feature gate: {k}"));
            }
            let on = v
                .parse::<bool>()
                .map_err(|_| format!("invalid value of {k}={v}, err: strconv.ParseBool: parsing {v:?}: invalid syntax"))?;
            Ok((k.to_string(), on))
        })
        .collect()
}

#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct TokenSpec {
    pub token: String,
    pub user: String,
    pub rules: Vec<Rule>,
}

#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ObjectRef {
    pub kind: String,
    #[serde(default)]
    pub namespace: Option<String>,
    pub name: String,
    /// For `patch`: a JSON merge patch.
    #[serde(default)]
    pub patch: Option<Value>,
}

#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Step {
    pub at: String,
    #[serde(default)]
    pub create: Option<Value>,
    #[serde(default)]
    pub patch: Option<ObjectRef>,
    #[serde(default)]
    pub delete: Option<ObjectRef>,
    /// A node joins (see `sim::joins`).
    #[serde(default)]
    pub join: Option<super::joins::JoinSpec>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct SimulationDoc {
    #[allow(dead_code)]
    api_version: String,
    #[allow(dead_code)]
    kind: String,
    #[serde(default)]
    metadata: Option<Value>,
    #[serde(default)]
    settings: Settings,
    #[serde(default)]
    timeline: Vec<Step>,
    #[serde(default)]
    registry: Vec<String>,
    /// How long a pull of an image (or of every image a glob matches) takes.
    #[serde(default)]
    pull_durations: BTreeMap<String, String>,
}

/// A timeline step, resolved.
#[derive(Debug, Clone, PartialEq)]
pub enum Action {
    Create(Kind, Value),
    Patch {
        kind: Kind,
        namespace: String,
        name: String,
        patch: Value,
    },
    Delete {
        kind: Kind,
        namespace: String,
        name: String,
    },
    /// A node joins (`sim::joins`).
    Join(super::joins::JoinSpec),
}

#[derive(Debug, Clone, PartialEq)]
pub struct TimedAction {
    pub at: Duration,
    pub action: Action,
}

#[derive(Debug, Clone, Default)]
pub struct Scenario {
    pub name: String,
    /// Objects in file order, each with its kind.
    pub objects: Vec<(Kind, Value)>,
    pub settings: Settings,
    pub timeline: Vec<TimedAction>,
    /// Images (or globs) the simulated registry has besides the loaded objects' own.
    pub registry: Vec<String>,
    /// How long pulling an image (or glob) takes, in file order.
    pub pull_durations: Vec<(String, Duration)>,
    /// Each object's document number in its file (1-based), beside `objects`; empty when
    /// the objects were not read from a file.
    pub documents: Vec<usize>,
    /// A dump's objects, to be loaded as they are (uids, statuses; no defaults), not settled.
    pub as_is: bool,
    /// The container logs a dump brought, by (namespace, pod, container).
    pub logs: BTreeMap<(String, String, String), String>,
    /// A dump's objects, kept as the JSON it had (a tree per object would cost several
    /// times a large dump's text), loaded as they are after `objects`.
    pub dumped: Vec<(Kind, crate::k8s::dump::Object)>,
}

/// One line: the file, the document (by kind and name, with its position) when the
/// problem is in one, and the problem.
#[derive(Debug, thiserror::Error)]
#[error("{file}: {}{message}", self.document())]
pub struct ScenarioError {
    pub file: String,
    /// 1-based; 0 when the problem is the file as a whole.
    pub doc: usize,
    /// `Kind ns/name`, `Kind name` or `Kind` when known.
    pub what: String,
    pub message: String,
}

impl ScenarioError {
    /// `Node b (document 2): `, `document 3: ` or nothing (the whole file).
    fn document(&self) -> String {
        match (self.doc, self.what.is_empty()) {
            (0, true) => String::new(),
            (0, false) => format!("{}: ", self.what),
            (n, true) => format!("document {n}: "),
            (n, false) => format!("{} (document {n}): ", self.what),
        }
    }

    fn file(file: &str, message: String) -> Self {
        ScenarioError { file: file.to_string(), doc: 0, what: String::new(), message }
    }
}

/// A read error as a user would say it.
fn read_problem(e: &std::io::Error, path: &Path) -> String {
    use std::io::ErrorKind;
    match e.kind() {
        _ if path.is_dir() => "is a directory, not a scenario file".into(),
        ErrorKind::NotFound => "no such file".into(),
        ErrorKind::PermissionDenied => "permission denied".into(),
        ErrorKind::InvalidData => "not a text file (a scenario is YAML, in UTF-8)".into(),
        _ => format!("cannot read: {e}"),
    }
}

/// A YAML parser's message on one line: its first (`line L column C: what`), without
/// the source snippet it draws below.
fn one_line(s: &str) -> String {
    let first = s.lines().map(str::trim).find(|l| !l.is_empty()).unwrap_or("");
    first.strip_prefix("error: ").unwrap_or(first).to_string()
}

pub fn kind_by_name(api_version: &str, kind: &str) -> Option<Kind> {
    Kind::ALL.into_iter().find(|k| k.info().kind == kind && k.api_version() == api_version)
}

fn kind_by_kind_name(kind: &str) -> Option<Kind> {
    Kind::ALL.into_iter().find(|k| k.info().kind.eq_ignore_ascii_case(kind) || k.info().plural == kind.to_lowercase())
}

impl Scenario {
    pub fn load(path: &Path) -> Result<Self, ScenarioError> {
        let file = path.display().to_string();
        let text = crate::k8s::files::read_to_string(path).map_err(|e| {
            ScenarioError::file(
                &file,
                match e {
                    crate::k8s::files::ReadError::Io(e) => read_problem(&e, path),
                    too_large => too_large.to_string(),
                },
            )
        })?;
        if text.contains('\0') {
            return Err(ScenarioError::file(&file, "not a text file (a scenario is YAML, in UTF-8)".into()));
        }
        Self::parse(&file, &text)
    }

    pub fn parse(file: &str, text: &str) -> Result<Self, ScenarioError> {
        let err = |doc: usize, what: String, message: String| ScenarioError { file: file.to_string(), doc, what, message };
        // A scenario of a big cluster is tens of thousands of documents (a 5,000-node
        // snapshot: one per node); the parser's default budget stops at 1,024.
        let options = serde_saphyr::options! {
            budget: serde_saphyr::budget! {
                max_documents: 1_000_000,
                max_nodes: 200_000_000,
                max_events: 400_000_000,
                max_total_scalar_bytes: 1 << 30,
            },
        };
        let docs: Vec<Value> = serde_saphyr::from_multiple_with_options(text, options)
            .map_err(|e| ScenarioError::file(file, format!("not valid YAML: {}", one_line(&e.to_string()))))?;
        let mut sc = Scenario { name: file.to_string(), ..Default::default() };
        // Where each object was defined, to name both places of a duplicate.
        let mut seen: BTreeMap<(Kind, String, String), usize> = BTreeMap::new();
        for (i, doc) in docs.into_iter().enumerate() {
            let n = i + 1;
            if doc.is_null() {
                continue;
            }
            let av = doc.get("apiVersion").and_then(Value::as_str).unwrap_or("").to_string();
            let kind = doc.get("kind").and_then(Value::as_str).unwrap_or("").to_string();
            let ns = doc.pointer("/metadata/namespace").and_then(Value::as_str).unwrap_or("");
            let name = doc.pointer("/metadata/name").and_then(Value::as_str).unwrap_or("");
            let what = if name.is_empty() {
                kind.clone()
            } else if ns.is_empty() {
                format!("{kind} {name}")
            } else {
                format!("{kind} {ns}/{name}")
            };
            if av.is_empty() || kind.is_empty() {
                return Err(err(n, what, "apiVersion and kind are required".into()));
            }
            if kind == "List" {
                return Err(err(n, what, "a List is not supported; write one document per object".into()));
            }
            if av == SIM_API_VERSION && kind == SIM_KIND {
                let s: SimulationDoc = serde_path_to_error::deserialize(doc).map_err(|e| err(n, what.clone(), path_message(&e)))?;
                let _ = s.metadata;
                sc.settings = s.settings;
                if let Some(j) = s.registry.iter().position(|r| r.trim().is_empty()) {
                    return Err(err(n, what, format!("registry[{j}]: an image or a glob (registry.k8s.io/*) is required")));
                }
                sc.registry = s.registry;
                for (image, d) in s.pull_durations {
                    let d = parse_duration(&d).ok_or_else(|| {
                        err(n, what.clone(), format!("pullDurations[{image:?}]: invalid duration {d:?} (use 20s, 1m30s)"))
                    })?;
                    sc.pull_durations.push((image, d));
                }
                for (j, step) in s.timeline.into_iter().enumerate() {
                    let at = parse_duration(&step.at).ok_or_else(|| {
                        err(n, what.clone(), format!("timeline[{j}].at: invalid duration {:?} (use 20s, 1m30s, 500ms)", step.at))
                    })?;
                    let action = resolve_step(step).map_err(|m| err(n, what.clone(), format!("timeline[{j}]: {m}")))?;
                    sc.timeline.push(TimedAction { at, action });
                }
                continue;
            }
            let Some(k) = kind_by_name(&av, &kind) else {
                return Err(err(
                    n,
                    what,
                    format!(
                        "unsupported kind {kind:?} in apiVersion {av:?}; the simulator serves Namespace, Node, Pod, Event, Service (v1), DaemonSet, ControllerRevision (apps/v1), PriorityClass (scheduling.k8s.io/v1), PodDisruptionBudget (policy/v1), Deployment, ReplicaSet (apps/v1), Lease (coordination.k8s.io/v1)"
                    ),
                ));
            };
            check_typed(k, &doc).map_err(|m| err(n, what.clone(), m))?;
            if name.is_empty() && doc.pointer("/metadata/generateName").is_none() {
                return Err(err(n, what, "metadata.name is required".into()));
            }
            if !name.is_empty() {
                // The API server would default a namespaced object's namespace the same way.
                let ns = if k.info().namespaced && ns.is_empty() { "default" } else { ns };
                if let Some(first) = seen.insert((k, ns.to_string(), name.to_string()), n) {
                    return Err(err(n, what, format!("defined twice: document {first} already defines this {kind}")));
                }
            }
            sc.objects.push((k, doc));
            sc.documents.push(n);
        }
        if sc.objects.is_empty() && sc.timeline.is_empty() {
            return Err(ScenarioError::file(
                file,
                "empty scenario: no Kubernetes objects and no timeline (list Nodes and DaemonSets, one YAML document each)".into(),
            ));
        }
        sc.timeline.sort_by_key(|t| t.at);
        // Validate durations up front so a typo fails at load, not mid-run.
        for (f, v) in [
            ("startDelay", &sc.settings.start_delay),
            ("readyDelay", &sc.settings.ready_delay),
            ("termination", &sc.settings.termination),
            ("crashAfter", &sc.settings.crash_after),
            ("backoffBase", &sc.settings.backoff_base),
            ("podGcQuarantine", &sc.settings.pod_gc_quarantine),
            ("bookmarkInterval", &sc.settings.bookmark_interval),
            ("age", &sc.settings.age),
        ] {
            if let Some(v) = v
                && parse_duration(v).is_none()
            {
                return Err(err(0, SIM_KIND.into(), format!("settings.{f}: invalid duration {v:?}")));
            }
        }
        if let Some(f) = &sc.settings.faults {
            f.resolve().map_err(|m| err(0, SIM_KIND.into(), format!("settings.{m}")))?;
        }
        for g in sc.settings.feature_gates.iter().flat_map(|g| g.keys()) {
            if !FEATURE_GATES.iter().any(|(k, _)| k == g) {
                return Err(err(0, SIM_KIND.into(), format!("settings.featureGates: unrecognized feature gate: {g}")));
            }
        }
        Ok(sc)
    }

    /// `Kind ns/name (document N)` of the `i`th object, for an error that names it.
    pub fn document_of(&self, i: usize) -> String {
        let Some((kind, v)) = self.objects.get(i) else { return String::new() };
        let ns = v.pointer("/metadata/namespace").and_then(Value::as_str).unwrap_or("");
        let name = v.pointer("/metadata/name").and_then(Value::as_str).unwrap_or("");
        let what = if ns.is_empty() { format!("{} {name}", kind.info().kind) } else { format!("{} {ns}/{name}", kind.info().kind) };
        match self.documents.get(i) {
            Some(n) if self.documents.len() == self.objects.len() => format!("{what} (document {n})"),
            _ => what,
        }
    }

    pub fn auth(&self) -> Option<Auth> {
        let tokens = self.settings.tokens.as_ref()?;
        Some(Auth {
            tokens: tokens
                .iter()
                .map(|t| (t.token.clone(), User { name: t.user.clone(), rules: t.rules.clone() }))
                .collect::<std::collections::HashMap<_, _>>(),
        })
    }

    pub fn duration(&self, v: &Option<String>) -> Option<Duration> {
        v.as_deref().and_then(parse_duration)
    }
}

fn path_message<E: std::fmt::Display>(e: &serde_path_to_error::Error<E>) -> String {
    let p = e.path().to_string();
    if p == "." { e.inner().to_string() } else { format!("{p}: {}", e.inner()) }
}

/// Deserialises into the real type so a bad field is reported with its path.
fn check_typed(kind: Kind, doc: &Value) -> Result<(), String> {
    crate::sim::typed::with_kind!(kind, T => {
        serde_path_to_error::deserialize::<_, T>(doc.clone()).map(|_| ()).map_err(|e| path_message(&e))
    })
}

fn resolve_step(step: Step) -> Result<Action, String> {
    let count = step.create.is_some() as u8 + step.patch.is_some() as u8 + step.delete.is_some() as u8 + step.join.is_some() as u8;
    if count != 1 {
        return Err("each step needs exactly one of create, patch, delete, join".into());
    }
    if let Some(j) = step.join {
        j.check()?;
        return Ok(Action::Join(j));
    }
    if let Some(obj) = step.create {
        let av = obj.get("apiVersion").and_then(Value::as_str).unwrap_or("");
        let k = obj.get("kind").and_then(Value::as_str).unwrap_or("");
        let kind = kind_by_name(av, k).ok_or_else(|| format!("create: unsupported kind {k:?} in apiVersion {av:?}"))?;
        check_typed(kind, &obj).map_err(|m| format!("create: {m}"))?;
        return Ok(Action::Create(kind, obj));
    }
    let resolve = |r: ObjectRef, verb: &str| -> Result<(Kind, String, String, Option<Value>), String> {
        let kind = kind_by_kind_name(&r.kind).ok_or_else(|| format!("{verb}: unknown kind {:?}", r.kind))?;
        let ns = if kind.info().namespaced { r.namespace.unwrap_or_else(|| "default".into()) } else { String::new() };
        Ok((kind, ns, r.name, r.patch))
    };
    if let Some(p) = step.patch {
        let (kind, namespace, name, patch) = resolve(p, "patch")?;
        let patch = patch.ok_or("patch: the `patch` field (a JSON merge patch) is required")?;
        return Ok(Action::Patch { kind, namespace, name, patch });
    }
    let (kind, namespace, name, _) = resolve(step.delete.expect("one of three"), "delete")?;
    Ok(Action::Delete { kind, namespace, name })
}

/// `--join-every`: `count` joins, one every `every` from `every` on, each as `spec` says.
pub fn joins_every(every: Duration, count: usize, spec: &super::joins::JoinSpec) -> Vec<TimedAction> {
    (1..=count as u32).map(|i| TimedAction { at: every * i, action: Action::Join(spec.clone()) }).collect()
}

/// The labels a kubelet puts on the Node it registers.
pub fn registration_labels(node: &mut Value) {
    let name = node.pointer("/metadata/name").and_then(Value::as_str).unwrap_or("").to_string();
    let meta = node.as_object_mut().and_then(|o| o.entry("metadata").or_insert_with(|| Value::Object(Default::default())).as_object_mut());
    let Some(meta) = meta else { return };
    let labels = meta.entry("labels").or_insert_with(|| Value::Object(Default::default()));
    let Some(l) = labels.as_object_mut() else {
        return;
    };
    let arch = l.get("kubernetes.io/arch").cloned().unwrap_or(Value::String("amd64".into()));
    let defaults: BTreeMap<&str, Value> = [
        ("kubernetes.io/hostname", Value::String(name)),
        ("kubernetes.io/os", Value::String("linux".into())),
        ("kubernetes.io/arch", arch.clone()),
        ("beta.kubernetes.io/os", Value::String("linux".into())),
        ("beta.kubernetes.io/arch", arch),
    ]
    .into_iter()
    .collect();
    for (k, v) in defaults {
        l.entry(k.to_string()).or_insert(v);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn errors_name_file_document_and_field() {
        let text = "apiVersion: v1\nkind: Node\nmetadata: {name: a}\n---\napiVersion: apps/v1\nkind: DaemonSet\nmetadata: {name: x, namespace: kube-system}\nspec:\n  selector: {matchLabels: {app: x}}\n  template:\n    metadata: {labels: {app: x}}\n    spec:\n      containers:\n      - name: x\n        image: 5\n        ports: [{containerPort: notanumber}]\n";
        let e = Scenario::parse("bad.yaml", text).unwrap_err().to_string();
        assert!(e.starts_with("bad.yaml: DaemonSet kube-system/x (document 2): spec.template.spec.containers[0]"), "{e}");
        let e = Scenario::parse("k.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\n").unwrap_err().to_string();
        assert!(e.contains("k.yaml: ConfigMap a (document 1): unsupported kind"), "{e}");
        let e = Scenario::parse(
            "t.yaml",
            "apiVersion: sim.daemonscope.io/v1alpha1\nkind: Simulation\ntimeline:\n- at: soon\n  delete: {kind: Node, name: a}\n",
        )
        .unwrap_err()
        .to_string();
        assert!(e.contains("timeline[0].at: invalid duration"), "{e}");
        let e = Scenario::parse("s.yaml", "apiVersion: sim.daemonscope.io/v1alpha1\nkind: Simulation\nsettings: {startDelai: 2s}\n")
            .unwrap_err()
            .to_string();
        assert!(e.contains("settings.startDelai: unknown field `startDelai`, expected one of `startDelay`"), "{e}");
    }

    #[test]
    fn timeline_is_sorted_and_resolved() {
        let text = "apiVersion: sim.daemonscope.io/v1alpha1\nkind: Simulation\ntimeline:\n- at: 20s\n  delete: {kind: Node, name: a}\n- at: 1s\n  patch: {kind: DaemonSet, namespace: kube-system, name: x, patch: {metadata: {labels: {a: b}}}}\n";
        let s = Scenario::parse("t.yaml", text).unwrap();
        assert_eq!(s.timeline[0].at, Duration::from_secs(1));
        assert!(matches!(&s.timeline[1].action, Action::Delete { kind: Kind::Node, name, .. } if name == "a"));
    }

    /// A big cluster's scenario (more documents than the YAML parser's default budget of
    /// 1,024) reads back whole.
    #[test]
    fn a_scenario_of_thousands_of_nodes_reads_back() {
        let sc = crate::sim::generator::scenario(2000, 2);
        let yaml = crate::sim::generator::to_yaml(&sc);
        let back = Scenario::parse("big.yaml", &yaml).expect("a 2,000-node scenario loads");
        assert_eq!(back.objects.len(), sc.objects.len());
    }
}

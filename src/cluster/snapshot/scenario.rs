//! A cluster's layout as a simulator scenario (multi-document YAML): nodes with their
//! labels, taints, cordon, capacity and the state of their kubelet (a node that is down
//! goes down at the start, keeping its pods); the DaemonSets with their full spec and
//! template generation, the ControllerRevisions their pods run, and the pods on an older
//! revision or being deleted (adopted by the simulator's controller, so a stalled rollout
//! goes on from the same nodes); the PriorityClasses their pods use; the Services that
//! select daemon pods; and how each daemon pod behaves (crash-looping, failing to pull, …)
//! as the simulator's behaviour annotations.
//! Pure: API objects in, YAML out. Credentials never leave ([`redact`]); `--anonymize`
//! pseudonyms are stable (a hash).
//!
//! May import: `k8s`.

use std::collections::{BTreeMap, BTreeSet};

use k8s_openapi::api::apps::v1::{ControllerRevision, DaemonSet};
use k8s_openapi::api::core::v1::{Node, Pod, Service};
use k8s_openapi::api::scheduling::v1::PriorityClass;
use serde_json::{Value, json};

use super::redact::{self, hash};
use crate::k8s::eligibility::LIFECYCLE_TAINTS;
use crate::k8s::scenario::behavior::{CONFIG_ERROR, CRASH_LOOP, IMAGE_PULL_ERROR, NEVER_READY};
use crate::k8s::scenario::{self as sim, node_state};

const TEMPLATE_GENERATION: &str = "deprecated.daemonset.template.generation";

/// Namespaces every cluster (and the simulator) has.
const BUILTIN_NAMESPACES: [&str; 4] = ["default", "kube-system", "kube-public", "kube-node-lease"];

/// What a snapshot is made of (as listed from the cluster).
#[derive(Debug, Default)]
pub struct Objects {
    pub nodes: Vec<Node>,
    pub daemonsets: Vec<DaemonSet>,
    pub revisions: Vec<ControllerRevision>,
    pub pods: Vec<Pod>,
    pub services: Vec<Service>,
    pub priority_classes: Vec<PriorityClass>,
}

/// Stable pseudonyms for `--anonymize`.
struct Names {
    on: bool,
    nodes: BTreeMap<String, String>,
}

impl Names {
    fn node(&self, n: &str) -> String {
        if !self.on {
            return n.to_string();
        }
        self.nodes.get(n).cloned().unwrap_or_else(|| format!("node-{:08x}", hash(n) as u32))
    }

    /// An image: the registry host becomes a pseudonym, the repository and tag stay.
    fn image(&self, image: &str) -> String {
        if !self.on {
            return image.to_string();
        }
        match image.split_once('/') {
            Some((host, rest)) if host.contains('.') || host.contains(':') || host == "localhost" => {
                format!("registry-{:06x}.example/{rest}", hash(host) as u32 & 0xff_ffff)
            }
            _ => image.to_string(),
        }
    }
}

/// How a daemon pod behaves, in the simulator's words (None: it is fine, or starting).
fn behavior(p: &Pod) -> Option<&'static str> {
    let st = p.status.as_ref()?;
    for c in st.container_statuses.iter().flatten() {
        let waiting = c.state.as_ref().and_then(|s| s.waiting.as_ref()).and_then(|w| w.reason.as_deref());
        match waiting {
            Some("CrashLoopBackOff") => return Some(CRASH_LOOP),
            Some("ErrImagePull" | "ImagePullBackOff" | "ErrImageNeverPull" | "InvalidImageName") => return Some(IMAGE_PULL_ERROR),
            Some("CreateContainerConfigError") => return Some(CONFIG_ERROR),
            _ => {}
        }
        // Running again between two crashes.
        if c.restart_count > 0 && !c.ready && c.last_state.as_ref().is_some_and(|l| l.terminated.is_some()) {
            return Some(CRASH_LOOP);
        }
    }
    let running = st.container_statuses.iter().flatten().all(|c| c.state.as_ref().is_some_and(|s| s.running.is_some()));
    let ready = st.conditions.iter().flatten().any(|c| c.type_ == "Ready" && c.status == "True");
    (st.phase.as_deref() == Some("Running") && running && !ready && p.metadata.deletion_timestamp.is_none()).then_some(NEVER_READY)
}

/// The node's kubelet state, in the simulator's words (`not-ready`, `unreachable`, pressures).
fn node_state(n: &Node) -> Vec<&'static str> {
    let mut out = Vec::new();
    for c in n.status.iter().flat_map(|s| s.conditions.iter().flatten()) {
        let word = node_state::CONDITIONS.iter().find(|(ty, status, _)| c.type_ == *ty && c.status == *status);
        out.extend(word.map(|(_, _, w)| *w));
    }
    out
}

/// The pod's node (`spec.nodeName`, or the node-name affinity pin of an unscheduled pod).
fn node_of(p: &Pod) -> Option<&str> {
    p.spec.as_ref()?.node_name.as_deref()
}

fn owner(p: &Pod) -> Option<&str> {
    p.metadata.owner_references.as_ref()?.iter().find(|o| o.controller == Some(true) && o.kind == "DaemonSet").map(|o| o.name.as_str())
}

fn revision_hash(labels: Option<&BTreeMap<String, String>>) -> Option<String> {
    labels?.get("controller-revision-hash").cloned()
}

/// Each DaemonSet's (by uid) current revision hash: its newest revision's.
fn current_hashes(objects: &Objects) -> BTreeMap<String, Option<String>> {
    let mut newest: BTreeMap<String, &ControllerRevision> = BTreeMap::new();
    for r in &objects.revisions {
        if let Some(o) = r.metadata.owner_references.iter().flatten().find(|o| o.controller == Some(true)) {
            let e = newest.entry(o.uid.clone()).or_insert(r);
            if r.revision > e.revision {
                *e = r;
            }
        }
    }
    objects
        .daemonsets
        .iter()
        .filter_map(|d| d.metadata.uid.clone())
        .map(|uid| {
            let h = newest.get(&uid).and_then(|r| revision_hash(r.metadata.labels.as_ref()));
            (uid, h)
        })
        .collect()
}

/// A daemon pod as an orphan the simulator's DaemonSet controller adopts: its labels
/// (its revision hash and template generation), its node, tolerations and containers,
/// and how it behaves.
fn pod_doc(p: &Pod, names: &Names) -> Value {
    let mut spec = serde_json::to_value(p.spec.clone().unwrap_or_default()).unwrap_or(Value::Null);
    if let Some(o) = spec.as_object_mut() {
        // Set by admission from the class; the node pin is the node name below.
        for k in ["priority", "preemptionPolicy", "affinity"] {
            o.remove(k);
        }
        if let Some(n) = o.get("nodeName").and_then(Value::as_str).map(|n| names.node(n)) {
            o.insert("nodeName".into(), json!(n));
        }
    }
    let mut pod = json!({"spec": spec});
    rewrite_images(&mut pod, names);
    let labels = p.metadata.labels.clone().unwrap_or_default();
    let mut annotations = p.metadata.annotations.clone().unwrap_or_default();
    if let Some(b) = behavior(p) {
        annotations.insert(sim::BEHAVIOR.into(), b.into());
    }
    let mut doc = json!({
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": p.metadata.name, "namespace": p.metadata.namespace, "labels": labels, "annotations": annotations},
        "spec": pod["spec"],
    });
    // Its addresses, which the simulator's kubelet keeps (not under --anonymize).
    if let Some(st) = p.status.as_ref().filter(|_| !names.on) {
        let mut out = serde_json::Map::new();
        for (k, v) in
            [("podIP", json!(st.pod_ip)), ("podIPs", json!(st.pod_ips)), ("hostIP", json!(st.host_ip)), ("hostIPs", json!(st.host_ips))]
        {
            if !v.is_null() {
                out.insert(k.into(), v);
            }
        }
        if !out.is_empty() {
            doc["status"] = Value::Object(out);
        }
    }
    doc
}

fn rewrite_images(v: &mut Value, names: &Names) {
    for list in ["containers", "initContainers"] {
        if let Some(cs) = v.pointer_mut(&format!("/spec/{list}")).and_then(Value::as_array_mut) {
            for c in cs {
                if let Some(i) = c.get("image").and_then(Value::as_str).map(|i| names.image(i)) {
                    c["image"] = json!(i);
                }
            }
        }
    }
}

/// How much `snapshot` hides besides credentials (which it always does).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Anonymize {
    /// `--anonymize`: node names, registries, label and taint values, annotations, hostPaths.
    On,
    /// `--anonymize=all`: namespaces, DaemonSet and Service names too.
    All,
}

/// The scenario, as YAML documents (`name` names the Simulation).
pub fn scenario(objects: &Objects, name: &str, anonymize: bool) -> String {
    scenario_with(objects, name, anonymize.then_some(Anonymize::On))
}

/// [`scenario`], anonymized as much as `level` says.
pub fn scenario_with(objects: &Objects, name: &str, level: Option<Anonymize>) -> String {
    let anonymize = level.is_some();
    let mut names = Names { on: anonymize, nodes: BTreeMap::new() };
    if anonymize {
        for (i, n) in objects.nodes.iter().enumerate() {
            let real = n.metadata.name.clone().unwrap_or_default();
            names.nodes.insert(real, format!("node-{:05}", i + 1));
        }
    }
    let mut docs: Vec<Value> = Vec::new();
    let namespaces: BTreeSet<&str> =
        objects.daemonsets.iter().filter_map(|d| d.metadata.namespace.as_deref()).filter(|n| !BUILTIN_NAMESPACES.contains(n)).collect();
    for ns in namespaces {
        docs.push(json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": ns}}));
    }
    // The classes the daemon pods use, but the built-in ones every cluster has (only
    // those may be named `system-…`).
    for pc in objects.priority_classes.iter().filter(|p| !p.metadata.name.as_deref().unwrap_or("").starts_with("system-")) {
        docs.push(json!({
            "apiVersion": "scheduling.k8s.io/v1",
            "kind": "PriorityClass",
            "metadata": {"name": pc.metadata.name, "labels": pc.metadata.labels},
            "value": pc.value,
            "globalDefault": pc.global_default,
            "description": pc.description,
            "preemptionPolicy": pc.preemption_policy,
        }));
    }
    // Per node: how its daemon pods behave, by DaemonSet.
    let mut behaviors: BTreeMap<&str, Vec<String>> = BTreeMap::new();
    // (Pods written out themselves carry their own.)
    let current = current_hashes(objects);
    let written = |p: &Pod| {
        let owner_uid = p.metadata.owner_references.iter().flatten().find(|o| o.controller == Some(true)).map(|o| o.uid.as_str());
        p.metadata.deletion_timestamp.is_some()
            || owner_uid
                .and_then(|u| current.get(u)?.as_ref())
                .is_some_and(|h| Some(h) != revision_hash(p.metadata.labels.as_ref()).as_ref())
    };
    for p in objects.pods.iter().filter(|p| !written(p)) {
        if let (Some(node), Some(ds), Some(b)) = (node_of(p), owner(p), behavior(p)) {
            behaviors.entry(node).or_default().push(format!("{ds}={b}"));
        }
    }
    let mut node_timeline: Vec<Value> = Vec::new();
    for n in &objects.nodes {
        let real = n.metadata.name.clone().unwrap_or_default();
        let labels: BTreeMap<String, String> = n.metadata.labels.iter().flatten().map(|(k, v)| (k.clone(), v.clone())).collect();
        let mut annotations = BTreeMap::new();
        // A node that is down goes down once the scenario has started, so the daemon pods
        // it kept are there, as in the cluster.
        let state = node_state(n);
        if !state.is_empty() {
            node_timeline.push(json!({
                "at": "0s",
                "patch": {"kind": "Node", "name": names.node(&real), "patch": {"metadata": {"annotations": {(sim::NODE_STATE): state.join(",")}}}}
            }));
        }
        if let Some(b) = behaviors.get(real.as_str()) {
            let mut b = b.clone();
            b.sort();
            b.dedup();
            annotations.insert(sim::NODE_POD_BEHAVIOR.to_string(), b.join(","));
        }
        let spec = n.spec.clone().unwrap_or_default();
        let taints: Vec<Value> = spec
            .taints
            .iter()
            .flatten()
            .filter(|t| !LIFECYCLE_TAINTS.contains(&t.key.as_str()))
            .map(|t| {
                let mut v = json!({"key": t.key, "effect": t.effect});
                if let Some(val) = &t.value {
                    v["value"] = json!(val);
                }
                v
            })
            .collect();
        let mut doc = json!({"apiVersion": "v1", "kind": "Node", "metadata": {"name": names.node(&real), "labels": labels}});
        if !annotations.is_empty() {
            doc["metadata"]["annotations"] = json!(annotations);
        }
        let mut s = serde_json::Map::new();
        if !taints.is_empty() {
            s.insert("taints".into(), json!(taints));
        }
        if spec.unschedulable == Some(true) {
            s.insert("unschedulable".into(), json!(true));
        }
        if !s.is_empty() {
            doc["spec"] = Value::Object(s);
        }
        if let Some(st) = &n.status {
            let mut out = serde_json::Map::new();
            if st.capacity.is_some() || st.allocatable.is_some() {
                out.insert("capacity".into(), json!(st.capacity));
                out.insert("allocatable".into(), json!(st.allocatable));
            }
            // Its addresses, so host-network pods get the node's own IP back (not under
            // --anonymize: an address says where the cluster is).
            if let Some(a) = st.addresses.as_ref().filter(|a| !a.is_empty() && !names.on) {
                out.insert("addresses".into(), json!(a));
            }
            if !out.is_empty() {
                doc["status"] = Value::Object(out);
            }
        }
        docs.push(doc);
    }
    // DaemonSets at their current template, with the revisions their pods run. Pods on
    // an older revision, and pods being deleted, are written too: the simulator's
    // controller adopts them as the real one does (`ClaimPods`), so a rollout stalled
    // half-way goes on from the very nodes the cluster had updated. Such a DaemonSet
    // starts OnDelete, so the simulator does not roll it while it settles, and gets its
    // RollingUpdate back once the nodes that are down have gone down.
    let mut timeline: Vec<Value> = node_timeline;
    let mut deletes: Vec<Value> = Vec::new();
    let mut pod_docs: Vec<Value> = Vec::new();
    for d in &objects.daemonsets {
        let (ns, dname) = (d.metadata.namespace.clone().unwrap_or_default(), d.metadata.name.clone().unwrap_or_default());
        let spec = d.spec.clone().unwrap_or_default();
        let uid = d.metadata.uid.as_deref();
        let owned = |r: &ControllerRevision| r.metadata.owner_references.iter().flatten().any(|o| Some(o.uid.as_str()) == uid);
        let revisions: Vec<&ControllerRevision> = objects.revisions.iter().filter(|r| owned(r)).collect();
        let current_hash = current.get(uid.unwrap_or("")).cloned().flatten();
        let mut used: BTreeSet<String> = current_hash.iter().cloned().collect();
        let mut written_any = false;
        for p in objects.pods.iter().filter(|p| owner(p) == Some(dname.as_str()) && p.metadata.namespace.as_deref() == Some(ns.as_str())) {
            let hash = revision_hash(p.metadata.labels.as_ref());
            let terminating = p.metadata.deletion_timestamp.is_some();
            // Without a known current revision, no pod can be told to be on an older one.
            if (current_hash.is_none() || hash == current_hash) && !terminating {
                continue;
            }
            used.extend(hash);
            written_any = true;
            let name = p.metadata.name.clone().unwrap_or_default();
            pod_docs.push(pod_doc(p, &names));
            if terminating {
                deletes.push(json!({"at": "0s", "delete": {"kind": "Pod", "namespace": ns, "name": name}}));
            }
        }
        let mut spec_v = serde_json::to_value(&spec).unwrap_or(Value::Null);
        rewrite_images(&mut spec_v["template"], &names);
        let on_delete = spec.update_strategy.as_ref().and_then(|u| u.type_.as_deref()) == Some("OnDelete");
        if written_any && !on_delete {
            let strategy = spec_v["updateStrategy"].take();
            spec_v["updateStrategy"] = json!({"type": "OnDelete"});
            timeline.push(json!({
                "at": "0s",
                "patch": {"kind": "DaemonSet", "namespace": ns, "name": dname, "patch": {"spec": {"updateStrategy": strategy}}}
            }));
        }
        // The template generation carries over (the API server keeps one given on create),
        // so the pods' `pod-template-generation` labels mean the same.
        let tg = d.metadata.annotations.as_ref().and_then(|a| a.get(TEMPLATE_GENERATION));
        let meta = json!({
            "name": dname,
            "namespace": ns,
            "labels": d.metadata.labels,
            "annotations": tg.map(|g| json!({TEMPLATE_GENERATION: g})),
        });
        docs.push(json!({"apiVersion": "apps/v1", "kind": "DaemonSet", "metadata": meta, "spec": spec_v}));
        for r in revisions.iter().filter(|r| revision_hash(r.metadata.labels.as_ref()).is_some_and(|h| used.contains(&h))) {
            let mut data = r.data.as_ref().map(|d| d.0.clone()).unwrap_or(Value::Null);
            if let Some(t) = data.pointer_mut("/spec/template") {
                rewrite_images(t, &names);
            }
            docs.push(json!({
                "apiVersion": "apps/v1",
                "kind": "ControllerRevision",
                "metadata": {"name": r.metadata.name, "namespace": ns, "labels": r.metadata.labels},
                "data": data,
                "revision": r.revision,
            }));
        }
    }
    docs.extend(pod_docs);
    timeline.extend(deletes);
    for s in &objects.services {
        let spec = s.spec.clone().unwrap_or_default();
        let mut sv = json!({"selector": spec.selector, "ports": spec.ports});
        if let Some(t) = spec.type_.filter(|t| t != "ClusterIP") {
            sv["type"] = json!(t);
        }
        docs.push(json!({
            "apiVersion": "v1",
            "kind": "Service",
            "metadata": {"name": s.metadata.name, "namespace": s.metadata.namespace, "labels": s.metadata.labels},
            "spec": sv,
        }));
    }
    let mut sim = json!({"apiVersion": sim::API_VERSION, "kind": sim::KIND, "metadata": {"name": name}});
    if !timeline.is_empty() {
        sim["timeline"] = json!(timeline);
    }
    docs.push(sim);
    // `name` may already say it is a snapshot (`snapshot of prod`).
    let what = if name.starts_with("snapshot") { name.to_string() } else { format!("snapshot of {name}") };
    let mut out = format!(
        "# A {what}, written by `daemonscope snapshot`: the nodes, the DaemonSets and\n# how their pods behave, as a daemonscope simulator scenario (`daemonscope sim --scenario FILE`).\n"
    );
    if level == Some(Anonymize::All) {
        let pseudonym = |prefix: &str, n: &str| format!("{prefix}-{:08x}", hash(n) as u32);
        let namespaces = objects
            .daemonsets
            .iter()
            .filter_map(|d| d.metadata.namespace.clone())
            .chain(objects.services.iter().filter_map(|s| s.metadata.namespace.clone()))
            .filter(|n| !BUILTIN_NAMESPACES.contains(&n.as_str()))
            .map(|n| (n.clone(), pseudonym("ns", &n)))
            .collect();
        let daemonsets =
            objects.daemonsets.iter().filter_map(|d| d.metadata.name.clone()).map(|n| (n.clone(), pseudonym("ds", &n))).collect();
        redact::rename(&mut docs, &namespaces, &daemonsets);
    }
    for mut d in docs {
        // Never a credential; with --anonymize, no customer's word either (redact.rs).
        redact::credentials(&mut d);
        if anonymize {
            redact::anonymize(&mut d, &names.nodes);
        }
        out.push_str("---\n");
        out.push_str(&serde_saphyr::to_string(&strip_nulls(d)).unwrap_or_default());
    }
    out
}

/// Drops null members (a YAML reader would take `labels: null` for a value).
fn strip_nulls(v: Value) -> Value {
    match v {
        Value::Object(o) => Value::Object(o.into_iter().filter(|(_, v)| !v.is_null()).map(|(k, v)| (k, strip_nulls(v))).collect()),
        Value::Array(a) => Value::Array(a.into_iter().map(strip_nulls).collect()),
        v => v,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn objects(revisions: &[(&str, i64)], pods: &[(&str, &str)]) -> Objects {
        let owner = json!([{"apiVersion": "apps/v1", "kind": "DaemonSet", "name": "agent", "uid": "u1", "controller": true}]);
        let ds = json!({"metadata": {"name": "agent", "namespace": "kube-system", "uid": "u1"}, "spec": {
            "selector": {"matchLabels": {"app": "agent"}},
            "updateStrategy": {"type": "RollingUpdate", "rollingUpdate": {"maxUnavailable": 1}},
            "template": {"metadata": {"labels": {"app": "agent"}}, "spec": {"containers": [{"name": "a", "image": "agent:v2"}]}}}});
        let revisions = revisions
            .iter()
            .map(|(h, n)| {
                serde_json::from_value(json!({"metadata": {"name": format!("agent-{h}"), "namespace": "kube-system",
                    "labels": {"app": "agent", "controller-revision-hash": h}, "ownerReferences": owner},
                    "revision": n, "data": {"spec": {"template": {"$patch": "replace"}}}}))
                .unwrap()
            })
            .collect();
        let pods = pods
            .iter()
            .map(|(name, h)| {
                serde_json::from_value(json!({"metadata": {"name": name, "namespace": "kube-system",
                    "labels": {"app": "agent", "controller-revision-hash": h}, "ownerReferences": owner},
                    "spec": {"nodeName": format!("node-{name}"), "containers": [{"name": "a", "image": "agent"}]}}))
                .unwrap()
            })
            .collect();
        Objects { daemonsets: vec![serde_json::from_value(ds).unwrap()], revisions, pods, ..Default::default() }
    }

    #[test]
    fn pods_on_an_older_revision_are_written_with_their_revision_and_the_rollout_waits_for_the_start() {
        let yaml = scenario(&objects(&[("old", 1), ("new", 2), ("unused", 0)], &[("p1", "old"), ("p2", "new")]), "t", false);
        assert_eq!(yaml.matches("\nkind: Pod\n").count(), 1, "{yaml}");
        assert!(yaml.contains("name: p1") && !yaml.contains("name: p2"), "{yaml}");
        assert!(yaml.contains("name: agent-old") && yaml.contains("name: agent-new") && !yaml.contains("agent-unused"), "{yaml}");
        // Settles as OnDelete (nothing rolled before the start), RollingUpdate from 0 s.
        assert!(yaml.contains("updateStrategy:\n    type: OnDelete"), "{yaml}");
        assert!(yaml.contains("type: RollingUpdate") && yaml.contains("timeline:"), "{yaml}");
        // Without any revision, no pod can be told to be old: none is written.
        let yaml = scenario(&objects(&[], &[("p1", "old"), ("p2", "new")]), "t", false);
        assert!(!yaml.contains("kind: Pod"), "{yaml}");
    }

    #[test]
    fn pseudonyms_are_stable_and_keep_what_is_not_identifying() {
        let names = Names { on: true, nodes: [("ip-10-0-1-7.ec2.internal".to_string(), "node-00001".to_string())].into() };
        assert_eq!(names.node("ip-10-0-1-7.ec2.internal"), "node-00001");
        let mut labels =
            serde_json::json!({"labels": {"kubernetes.io/hostname": "ip-10-0-1-7", "pool": "gpu", "node": "ip-10-0-1-7.ec2.internal"}});
        redact::anonymize(&mut labels, &names.nodes);
        assert_eq!(labels["labels"]["kubernetes.io/hostname"], format!("v-{:08x}", hash("ip-10-0-1-7") as u32));
        assert_eq!(labels["labels"]["pool"], "gpu");
        assert_eq!(labels["labels"]["node"], "node-00001");
        assert!(names.image("123456789.dkr.ecr.eu-west-1.amazonaws.com/agent:v2").ends_with(".example/agent:v2"));
        assert_eq!(names.image("busybox:1.36"), "busybox:1.36");
    }
}

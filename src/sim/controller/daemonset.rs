//! The DaemonSet controller (`pkg/controller/daemon`): one pod per eligible node,
//! ControllerRevisions, RollingUpdate with maxUnavailable / maxSurge, OnDelete,
//! misscheduled pod removal, status with the exact meanings, and Events.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use jiff::{SignedDuration, Timestamp};
use k8s_openapi::api::apps::v1 as apps;
use k8s_openapi::api::core::v1 as core;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{ObjectMeta, OwnerReference};
use k8s_openapi::apimachinery::pkg::runtime::RawExtension;
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;
use serde_json::json;

use super::events;
use crate::k8s::eligibility::{self, NodeFacts, Placement};
use crate::sim::objects::{Strategy, TEMPLATE_GENERATION_ANNOTATION};
use crate::sim::ops::graceful_delete_pod;
use crate::sim::store::Store;

pub const REVISION_HASH_LABEL: &str = "controller-revision-hash";
pub const TEMPLATE_GENERATION_LABEL: &str = "pod-template-generation";
const COMPONENT: &str = "daemonset-controller";
/// `BurstReplicas`: at most this many creates and deletes per sync.
const BURST: usize = 250;

pub struct DaemonSetController {
    /// Failed-pod deletion backoff per `<dsUID>/<node>`: (next allowed, current delay).
    failed_backoff: HashMap<String, (Timestamp, SignedDuration)>,
    /// Creates and deletes per DaemonSet per sync (`BurstReplicas`); lifted while a
    /// scenario settles, where no API server is being protected.
    pub burst: usize,
}

impl Default for DaemonSetController {
    fn default() -> Self {
        DaemonSetController { failed_backoff: HashMap::new(), burst: BURST }
    }
}

/// FNV-32a, then the `SafeEncodeString` alphabet, as `controller.ComputeHash` does.
pub fn compute_hash(template: &core::PodTemplateSpec, collision_count: Option<i32>) -> String {
    let mut h: u32 = 0x811c9dc5;
    let mut feed = |b: &[u8]| {
        for x in b {
            h ^= *x as u32;
            h = h.wrapping_mul(0x01000193);
        }
    };
    feed(&serde_json::to_vec(template).unwrap_or_default());
    if let Some(c) = collision_count {
        feed(&c.to_le_bytes());
    }
    const ALPHA: &[u8] = b"bcdfghjklmnpqrstvwxz2456789";
    let digits = h.to_string();
    digits.bytes().map(|d| ALPHA[(d as usize) % ALPHA.len()] as char).collect()
}

pub fn template_generation(ds: &apps::DaemonSet) -> Option<String> {
    ds.metadata.annotations.as_ref().and_then(|a| a.get(TEMPLATE_GENERATION_ANNOTATION)).cloned()
}

/// `util.IsPodUpdated`.
pub fn is_pod_updated(pod: &core::Pod, hash: &str, tpl_gen: Option<&str>) -> bool {
    let l = pod.metadata.labels.as_ref();
    let h = l.and_then(|l| l.get(REVISION_HASH_LABEL));
    let g = l.and_then(|l| l.get(TEMPLATE_GENERATION_LABEL));
    (h.is_some() && h.map(String::as_str) == Some(hash)) || (tpl_gen.is_some() && g.map(String::as_str) == tpl_gen)
}

/// `util.GetTargetNodeName` for a pod.
pub fn target_node(pod: &core::Pod) -> Option<String> {
    eligibility::target_node(pod.spec.as_ref()?)
}

pub fn is_ready(p: &core::Pod) -> bool {
    p.status.as_ref().and_then(|s| s.conditions.as_ref()).is_some_and(|c| c.iter().any(|c| c.type_ == "Ready" && c.status == "True"))
}

/// `podutil.IsPodAvailable`.
pub fn is_available(p: &core::Pod, min_ready: i32, now: Timestamp) -> bool {
    let Some(c) =
        p.status.as_ref().and_then(|s| s.conditions.as_ref()).and_then(|c| c.iter().find(|c| c.type_ == "Ready" && c.status == "True"))
    else {
        return false;
    };
    if min_ready == 0 {
        return true;
    }
    c.last_transition_time.as_ref().is_some_and(|t| t.0 + SignedDuration::from_secs(min_ready as i64) < now)
}

fn phase(p: &core::Pod) -> &str {
    p.status.as_ref().and_then(|s| s.phase.as_deref()).unwrap_or("")
}

fn terminating(p: &core::Pod) -> bool {
    p.metadata.deletion_timestamp.is_some()
}

/// Oldest first: bound before unbound, then creationTimestamp, then name
/// (`podByCreationTimestampAndPhase`).
fn sort_oldest_first(pods: &mut [Arc<core::Pod>]) {
    pods.sort_by(|a, b| {
        let bound = |p: &core::Pod| p.spec.as_ref().and_then(|s| s.node_name.as_ref()).is_none();
        bound(a)
            .cmp(&bound(b))
            .then_with(|| a.metadata.creation_timestamp.as_ref().map(|t| t.0).cmp(&b.metadata.creation_timestamp.as_ref().map(|t| t.0)))
            .then_with(|| a.metadata.name.cmp(&b.metadata.name))
    });
}

fn owned_by(p: &core::Pod, uid: &str) -> bool {
    p.metadata.owner_references.iter().flatten().any(|o| o.controller == Some(true) && o.uid == uid)
}

struct Plan {
    create: Vec<String>,
    delete: Vec<Arc<core::Pod>>,
}

impl DaemonSetController {
    pub fn sync_all(&mut self, store: &Store, now: Timestamp, record: bool) {
        let (dss, _) = store.list::<apps::DaemonSet>(None);
        if dss.is_empty() {
            return;
        }
        let (nodes, _) = store.list::<core::Node>(None);
        let facts: Vec<NodeFacts> = nodes.iter().map(|n| NodeFacts::from_node(n)).collect();
        let mut by_owner = pods_by_owner(store);
        let live: Vec<_> = dss.iter().filter(|d| d.metadata.deletion_timestamp.is_none()).collect();
        for ds in &live {
            let pods = by_owner.remove(ds.metadata.uid.as_deref().unwrap_or("")).unwrap_or_default();
            self.sync(store, ds, &facts, pods, now, record);
        }
        // Status from what the syncs left behind (one listing for all DaemonSets).
        let mut by_owner = pods_by_owner(store);
        for ds in &live {
            let (ns, name) = (ds.metadata.namespace.as_deref().unwrap_or(""), ds.metadata.name.as_deref().unwrap_or(""));
            let Some(ds) = store.get::<apps::DaemonSet>(ns, name) else { continue };
            let pods = by_owner.remove(ds.metadata.uid.as_deref().unwrap_or("")).unwrap_or_default();
            update_status(store, &ds, &facts, pods, now);
        }
    }

    fn sync(
        &mut self,
        store: &Store,
        ds: &Arc<apps::DaemonSet>,
        nodes: &[NodeFacts],
        pods: Vec<Arc<core::Pod>>,
        now: Timestamp,
        record: bool,
    ) {
        let Some(spec) = ds.spec.clone() else { return };
        let ns = ds.metadata.namespace.clone().unwrap_or_default();
        let uid = ds.metadata.uid.clone().unwrap_or_default();
        let collision = ds.status.as_ref().and_then(|s| s.collision_count);
        let hash = compute_hash(&spec.template, collision);
        self.ensure_revision(store, ds, &hash);
        let tpl_gen = template_generation(ds);
        let placement = spec.template.spec.as_ref().map(Placement::from_pod_spec).unwrap_or_default();
        let surge_allowed = spec.update_strategy.as_ref().is_some_and(|u| u.type_.as_deref() == Some("RollingUpdate"))
            && spec
                .update_strategy
                .as_ref()
                .and_then(|u| u.rolling_update.as_ref())
                .and_then(|r| r.max_surge.as_ref())
                .is_some_and(|s| crate::k8s::intstr::scaled_value(s, 100).unwrap_or(0) > 0);
        let min_ready = spec.min_ready_seconds.unwrap_or(0);

        // Group pods by target node (terminal + deleted pods are dropped, as getNodesToDaemonPods does).
        let mut by_node: BTreeMap<String, Vec<Arc<core::Pod>>> = BTreeMap::new();
        let mut unbound_orphans = Vec::new();
        let node_names: std::collections::HashSet<&str> = nodes.iter().map(|n| n.name.as_str()).collect();
        for p in pods.into_iter().filter(|p| owned_by(p, &uid)) {
            let terminal = matches!(phase(&p), "Failed" | "Succeeded");
            if terminal && terminating(&p) {
                continue;
            }
            match target_node(&p) {
                Some(n) if node_names.contains(n.as_str()) => by_node.entry(n).or_default().push(p),
                // Pods never bound whose node is gone: the controller deletes them.
                _ if p.spec.as_ref().and_then(|s| s.node_name.as_ref()).is_none() && !terminating(&p) => unbound_orphans.push(p),
                _ => {}
            }
        }

        // manage(): podsShouldBeOnNode for every node.
        let mut plan = Plan { create: Vec::new(), delete: unbound_orphans };
        for node in nodes {
            let e = eligibility::evaluate(node, &placement);
            let here = by_node.get(&node.name).cloned().unwrap_or_default();
            if e.should_run && here.is_empty() {
                plan.create.push(node.name.clone());
            } else if e.should_continue_running {
                let mut running: Vec<Arc<core::Pod>> = Vec::new();
                for p in &here {
                    if terminating(p) {
                        continue;
                    }
                    match phase(p) {
                        "Failed" => {
                            let key = format!("{uid}/{}", node.name);
                            let (next, delay) = self.failed_backoff.get(&key).cloned().unwrap_or((now, SignedDuration::from_secs(1)));
                            if now >= next {
                                if record {
                                    events::record(
                                        store,
                                        &**ds,
                                        "Warning",
                                        "FailedDaemonPod",
                                        format!(
                                            "Found failed daemon pod {ns}/{} on node {}, will try to kill it",
                                            p.metadata.name.clone().unwrap_or_default(),
                                            node.name
                                        ),
                                        COMPONENT,
                                    );
                                }
                                plan.delete.push(p.clone());
                                self.failed_backoff.insert(key, (now + delay, (delay * 2).min(SignedDuration::from_mins(15))));
                            }
                        }
                        "Succeeded" => {
                            if record {
                                events::record(
                                    store,
                                    &**ds,
                                    "Normal",
                                    "SucceededDaemonPod",
                                    format!(
                                        "Found succeeded daemon pod {ns}/{} on node {}, will try to delete it",
                                        p.metadata.name.clone().unwrap_or_default(),
                                        node.name
                                    ),
                                    COMPONENT,
                                );
                            }
                            plan.delete.push(p.clone());
                        }
                        _ => running.push(p.clone()),
                    }
                }
                sort_oldest_first(&mut running);
                if surge_allowed {
                    let mut oldest_new: Option<Arc<core::Pod>> = None;
                    let mut oldest_old: Option<Arc<core::Pod>> = None;
                    for p in running {
                        let updated = is_pod_updated(&p, &hash, tpl_gen.as_deref());
                        if updated && oldest_new.is_none() {
                            oldest_new = Some(p);
                        } else if !updated && oldest_old.is_none() {
                            oldest_old = Some(p);
                        } else {
                            plan.delete.push(p);
                        }
                    }
                    if let (Some(n), Some(o)) = (&oldest_new, &oldest_old)
                        && (!is_ready(o) || is_available(n, min_ready, now))
                    {
                        plan.delete.push(o.clone());
                    }
                } else if running.len() > 1 {
                    plan.delete.extend(running.into_iter().skip(1));
                }
            } else {
                plan.delete.extend(here.iter().filter(|p| !terminating(p)).cloned());
            }
        }
        let wrote = self.apply(store, ds, &hash, tpl_gen.as_deref(), plan, record);

        // rollingUpdate() only when manage() had nothing to do (expectations satisfied).
        if !wrote && spec.update_strategy.as_ref().and_then(|u| u.type_.as_deref()).unwrap_or("RollingUpdate") == "RollingUpdate" {
            let desired = nodes.iter().filter(|n| eligibility::evaluate(n, &placement).should_run).count() as i32;
            let ru = spec.update_strategy.as_ref().and_then(|u| u.rolling_update.clone()).unwrap_or_default();
            let (max_surge, max_unavail) = crate::k8s::intstr::surge_and_unavailable(
                &ru.max_surge.unwrap_or(IntOrString::Int(0)),
                &ru.max_unavailable.unwrap_or(IntOrString::Int(1)),
                desired,
            );
            let plan = rolling_update(nodes, &placement, &by_node, &hash, tpl_gen.as_deref(), max_surge, max_unavail, min_ready, now);
            self.apply(store, ds, &hash, tpl_gen.as_deref(), plan, record);
        }
        self.cleanup_history(store, ds, &hash);
    }

    fn apply(&mut self, store: &Store, ds: &apps::DaemonSet, hash: &str, tpl_gen: Option<&str>, plan: Plan, record: bool) -> bool {
        let mut wrote = false;
        for node in plan.create.iter().take(self.burst) {
            let pod = new_pod(ds, node, hash, tpl_gen);
            match store.create(pod) {
                Ok(p) => {
                    wrote = true;
                    if record {
                        events::record(
                            store,
                            ds,
                            "Normal",
                            "SuccessfulCreate",
                            format!("Created pod: {}", p.metadata.name.clone().unwrap_or_default()),
                            COMPONENT,
                        );
                    }
                }
                Err(e) => {
                    if record {
                        events::record(store, ds, "Warning", "FailedCreate", format!("Error creating: {}", e.message), COMPONENT);
                    }
                }
            }
        }
        let mut seen = std::collections::HashSet::new();
        for p in plan.delete.iter().take(self.burst) {
            if !seen.insert(p.metadata.uid.clone()) {
                continue;
            }
            let ns = p.metadata.namespace.clone().unwrap_or_default();
            let name = p.metadata.name.clone().unwrap_or_default();
            match graceful_delete_pod(store, &ns, &name, p.metadata.uid.as_deref()) {
                Ok(()) => {
                    wrote = true;
                    if record {
                        events::record(store, ds, "Normal", "SuccessfulDelete", format!("Deleted pod: {name}"), COMPONENT);
                    }
                }
                Err(e) if e.code == 404 => {}
                Err(e) => {
                    if record {
                        events::record(store, ds, "Warning", "FailedDelete", format!("Error deleting: {}", e.message), COMPONENT);
                    }
                }
            }
        }
        wrote
    }

    /// Creates the revision for the current template (or bumps an old one back to the top).
    fn ensure_revision(&self, store: &Store, ds: &apps::DaemonSet, hash: &str) {
        let ns = ds.metadata.namespace.clone().unwrap_or_default();
        let name = format!("{}-{hash}", ds.metadata.name.clone().unwrap_or_default());
        let uid = ds.metadata.uid.clone().unwrap_or_default();
        let (revs, _) = store.list::<apps::ControllerRevision>(Some(&ns));
        let mine: Vec<_> = revs.iter().filter(|r| r.metadata.owner_references.iter().flatten().any(|o| o.uid == uid)).collect();
        let max = mine.iter().map(|r| r.revision).max().unwrap_or(0);
        if let Some(cur) = mine.iter().find(|r| r.metadata.name.as_deref() == Some(&name)) {
            if cur.revision < max {
                let _ = store.modify::<apps::ControllerRevision>(&ns, &name, |r| {
                    r.revision = max + 1;
                    true
                });
            }
            return;
        }
        let tpl = ds.spec.as_ref().map(|s| s.template.clone()).unwrap_or_default();
        let mut tpl_json = serde_json::to_value(&tpl).unwrap_or_default();
        tpl_json["$patch"] = json!("replace");
        let mut labels = tpl.metadata.as_ref().and_then(|m| m.labels.clone()).unwrap_or_default();
        labels.insert(REVISION_HASH_LABEL.into(), hash.into());
        let rev = apps::ControllerRevision {
            metadata: ObjectMeta {
                name: Some(name),
                namespace: Some(ns),
                labels: Some(labels),
                annotations: ds.metadata.annotations.clone(),
                owner_references: Some(vec![owner_ref(ds)]),
                ..Default::default()
            },
            data: Some(RawExtension(json!({"spec": {"template": tpl_json}}))),
            revision: max + 1,
        };
        let _ = store.create(rev);
    }

    /// `cleanupHistory`: keep revisionHistoryLimit old revisions plus those live pods use.
    fn cleanup_history(&self, store: &Store, ds: &apps::DaemonSet, hash: &str) {
        let limit = ds.spec.as_ref().and_then(|s| s.revision_history_limit).unwrap_or(10).max(0) as usize;
        let ns = ds.metadata.namespace.clone().unwrap_or_default();
        let uid = ds.metadata.uid.clone().unwrap_or_default();
        let (revs, _) = store.list::<apps::ControllerRevision>(Some(&ns));
        let mut old: Vec<_> = revs
            .iter()
            .filter(|r| r.metadata.owner_references.iter().flatten().any(|o| o.uid == uid))
            .filter(|r| r.metadata.labels.as_ref().and_then(|l| l.get(REVISION_HASH_LABEL)).map(String::as_str) != Some(hash))
            .cloned()
            .collect();
        if old.len() <= limit {
            return;
        }
        let (pods, _) = store.list::<core::Pod>(Some(&ns));
        let live: std::collections::HashSet<String> = pods
            .iter()
            .filter(|p| owned_by(p, &uid))
            .filter_map(|p| p.metadata.labels.as_ref().and_then(|l| l.get(REVISION_HASH_LABEL)).cloned())
            .collect();
        old.retain(|r| !r.metadata.labels.as_ref().and_then(|l| l.get(REVISION_HASH_LABEL)).is_some_and(|h| live.contains(h)));
        old.sort_by_key(|r| r.revision);
        let excess = old.len().saturating_sub(limit);
        for r in old.into_iter().take(excess) {
            let _ = store.remove::<apps::ControllerRevision>(&ns, r.metadata.name.as_deref().unwrap_or(""), None);
        }
    }
}

pub fn owner_ref(ds: &apps::DaemonSet) -> OwnerReference {
    OwnerReference {
        api_version: "apps/v1".into(),
        kind: "DaemonSet".into(),
        name: ds.metadata.name.clone().unwrap_or_default(),
        uid: ds.metadata.uid.clone().unwrap_or_default(),
        controller: Some(true),
        block_owner_deletion: Some(true),
    }
}

/// `NewPod` + `CreatePodTemplate` + node-name affinity.
pub fn new_pod(ds: &apps::DaemonSet, node: &str, hash: &str, tpl_gen: Option<&str>) -> core::Pod {
    let spec = ds.spec.clone().unwrap_or_default();
    let tm = spec.template.metadata.clone().unwrap_or_default();
    let mut labels = tm.labels.clone().unwrap_or_default();
    labels.insert(REVISION_HASH_LABEL.into(), hash.into());
    if let Some(g) = tpl_gen {
        labels.insert(TEMPLATE_GENERATION_LABEL.into(), g.into());
    }
    let mut ps = spec.template.spec.clone().unwrap_or_default();
    let mut tols: Vec<eligibility::Toleration> = ps.tolerations.iter().flatten().map(eligibility::Toleration::from).collect();
    eligibility::add_daemon_tolerations(&mut tols, ps.host_network.unwrap_or(false));
    ps.tolerations = Some(tols.iter().map(core::Toleration::from).collect());
    let pin = core::NodeSelector {
        node_selector_terms: vec![core::NodeSelectorTerm {
            match_expressions: None,
            match_fields: Some(vec![core::NodeSelectorRequirement {
                key: "metadata.name".into(),
                operator: "In".into(),
                values: Some(vec![node.into()]),
            }]),
        }],
    };
    let aff = ps.affinity.get_or_insert_with(Default::default);
    aff.node_affinity.get_or_insert_with(Default::default).required_during_scheduling_ignored_during_execution = Some(pin);
    let mut pod = core::Pod {
        metadata: ObjectMeta {
            generate_name: Some(format!("{}-", ds.metadata.name.clone().unwrap_or_default())),
            namespace: ds.metadata.namespace.clone(),
            labels: Some(labels),
            annotations: tm.annotations.clone(),
            owner_references: Some(vec![owner_ref(ds)]),
            ..Default::default()
        },
        spec: Some(ps),
        status: None,
    };
    pod.prepare_create();
    pod
}

/// Finds the (single) new and old pod on a node; false when there are several of a kind.
fn find_updated(pods: &[Arc<core::Pod>], hash: &str, tpl_gen: Option<&str>) -> Option<(Option<Arc<core::Pod>>, Option<Arc<core::Pod>>)> {
    let (mut new, mut old) = (None, None);
    for p in pods {
        if terminating(p) {
            continue;
        }
        if is_pod_updated(p, hash, tpl_gen) {
            if new.is_some() {
                return None;
            }
            new = Some(p.clone());
        } else {
            if old.is_some() {
                return None;
            }
            old = Some(p.clone());
        }
    }
    Some((new, old))
}

/// `rollingUpdate`, both the maxUnavailable and the maxSurge variants.
#[allow(clippy::too_many_arguments)]
fn rolling_update(
    nodes: &[NodeFacts],
    placement: &Placement,
    by_node: &BTreeMap<String, Vec<Arc<core::Pod>>>,
    hash: &str,
    tpl_gen: Option<&str>,
    max_surge: i32,
    max_unavail: i32,
    min_ready: i32,
    now: Timestamp,
) -> Plan {
    let mut plan = Plan { create: Vec::new(), delete: Vec::new() };
    let node_of: HashMap<&str, &NodeFacts> = nodes.iter().map(|n| (n.name.as_str(), n)).collect();
    if max_surge == 0 {
        let mut num_unavailable = 0;
        let mut candidates = Vec::new();
        for pods in by_node.values() {
            let Some((new, old)) = find_updated(pods, hash, tpl_gen) else {
                num_unavailable += 1;
                continue;
            };
            match (new, old) {
                (None, None) | (Some(_), Some(_)) => num_unavailable += 1,
                (Some(n), None) => {
                    if !is_available(&n, min_ready, now) {
                        num_unavailable += 1;
                    }
                }
                (None, Some(o)) => {
                    if !is_available(&o, min_ready, now) {
                        plan.delete.push(o);
                    } else {
                        candidates.push(o);
                    }
                }
            }
        }
        // Go iterates a map in random order; so do we, so no node is always first.
        use rand::seq::SliceRandom;
        candidates.shuffle(&mut rand::rng());
        let remaining = (max_unavail - num_unavailable).max(0) as usize;
        plan.delete.extend(candidates.into_iter().take(remaining));
        return plan;
    }
    let mut num_surge = 0;
    let mut candidates = Vec::new();
    for (node, pods) in by_node {
        let Some((new, old)) = find_updated(pods, hash, tpl_gen) else {
            num_surge += 1;
            continue;
        };
        match (new, old) {
            (_, None) => {}
            (None, Some(o)) => {
                if !is_available(&o, min_ready, now) {
                    let should_run = node_of.get(node.as_str()).is_some_and(|n| eligibility::evaluate(n, placement).should_run);
                    if should_run {
                        plan.create.push(node.clone());
                    } else {
                        plan.delete.push(o);
                    }
                } else {
                    candidates.push(node.clone());
                }
            }
            (Some(n), Some(o)) => {
                if !is_available(&n, min_ready, now) {
                    num_surge += 1;
                } else {
                    plan.delete.push(o);
                }
            }
        }
    }
    use rand::seq::SliceRandom;
    candidates.shuffle(&mut rand::rng());
    let remaining = (max_surge - num_surge).max(0) as usize;
    plan.create.extend(candidates.into_iter().take(remaining));
    plan
}

/// Pods by the uid of the DaemonSet that controls them.
fn pods_by_owner(store: &Store) -> HashMap<String, Vec<Arc<core::Pod>>> {
    let (pods, _) = store.list::<core::Pod>(None);
    let mut by_owner: HashMap<String, Vec<Arc<core::Pod>>> = HashMap::new();
    for p in pods {
        let owner = p.metadata.owner_references.iter().flatten().find(|o| o.controller == Some(true) && o.kind == "DaemonSet");
        if let Some(o) = owner {
            by_owner.entry(o.uid.clone()).or_default().push(p.clone());
        }
    }
    by_owner
}

/// `updateDaemonSetStatus`.
fn update_status(store: &Store, ds: &apps::DaemonSet, nodes: &[NodeFacts], pods: Vec<Arc<core::Pod>>, now: Timestamp) {
    let spec = ds.spec.clone().unwrap_or_default();
    let placement = spec.template.spec.as_ref().map(Placement::from_pod_spec).unwrap_or_default();
    let hash = compute_hash(&spec.template, ds.status.as_ref().and_then(|s| s.collision_count));
    let tpl_gen = template_generation(ds);
    let min_ready = spec.min_ready_seconds.unwrap_or(0);
    let ns = ds.metadata.namespace.clone().unwrap_or_default();
    let mut by_node: HashMap<String, Vec<Arc<core::Pod>>> = HashMap::new();
    for p in pods {
        if matches!(phase(&p), "Failed" | "Succeeded") && terminating(&p) {
            continue;
        }
        if let Some(n) = target_node(&p) {
            by_node.entry(n).or_default().push(p);
        }
    }
    let (mut desired, mut current, mut mis, mut ready, mut available, mut updated) = (0, 0, 0, 0, 0, 0);
    for node in nodes {
        let should_run = eligibility::evaluate(node, &placement).should_run;
        let here = by_node.get_mut(&node.name);
        let scheduled = here.as_ref().is_some_and(|v| !v.is_empty());
        if should_run {
            desired += 1;
        }
        if !scheduled {
            continue;
        }
        if !should_run {
            mis += 1;
            continue;
        }
        current += 1;
        let v = here.expect("scheduled");
        sort_oldest_first(v);
        let pod = &v[0];
        if is_ready(pod) {
            ready += 1;
            if is_available(pod, min_ready, now) {
                available += 1;
            }
        }
        if is_pod_updated(pod, &hash, tpl_gen.as_deref()) {
            updated += 1;
        }
    }
    let nz = |x: i32| (x != 0).then_some(x);
    let old = ds.status.clone().unwrap_or_default();
    let new = apps::DaemonSetStatus {
        collision_count: old.collision_count,
        conditions: old.conditions.clone(),
        current_number_scheduled: current,
        desired_number_scheduled: desired,
        number_available: nz(available),
        number_misscheduled: mis,
        number_ready: ready,
        number_unavailable: nz(desired - available),
        observed_generation: ds.metadata.generation,
        updated_number_scheduled: nz(updated),
    };
    if new != old {
        let name = ds.metadata.name.clone().unwrap_or_default();
        let uid = ds.metadata.uid.clone();
        let _ = store.modify::<apps::DaemonSet>(&ns, &name, |d| {
            if d.metadata.uid != uid {
                return false;
            }
            d.status = Some(new);
            true
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hash_is_deterministic_and_changes_with_the_template() {
        let mut t = core::PodTemplateSpec::default();
        let a = compute_hash(&t, None);
        assert_eq!(a, compute_hash(&t, None));
        t.metadata = Some(ObjectMeta { labels: Some([("app".to_string(), "x".to_string())].into()), ..Default::default() });
        assert_ne!(a, compute_hash(&t, None));
        assert_ne!(compute_hash(&t, None), compute_hash(&t, Some(1)));
        assert!(a.chars().all(|c| "bcdfghjklmnpqrstvwxz2456789".contains(c)));
    }
}

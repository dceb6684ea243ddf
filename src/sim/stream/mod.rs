//! A streaming API server for benchmarks at scale: it answers the client's lists and
//! watches (DaemonSets, nodes, daemon pods, ControllerRevisions, Services) for the
//! synthetic cluster [`generator::scenario`]`(nodes, daemonsets)` at any size — 65,000
//! nodes and 1.6 M pods — storing nothing per node or pod. A small simulator on the same
//! layout settles first; its JSON for one node per pool and zone and one pod per
//! DaemonSet and pool becomes a [`Template`], and every page is written from those,
//! with each copy's name, uid, addresses and resourceVersion, as the simulator would have
//! sent it. Its watches can replay a fleet-wide rollout ([`Generator::start_rollout`]):
//! every RollingUpdate DaemonSet moves to a new revision, and its pods follow as
//! MODIFIED events (not ready on the new revision, then ready) at a fixed rate.
//!
//! Split by concern: `data` (what it holds), `template` (cutting and writing JSON), `layout` (which node and pod
//! a list position is, their names and uids), `serve` (HTTP: paged lists, watches), `protobuf`
//! (the same in protobuf, for a client that asks for it).
//!
//! May import: `sim` (the generator, a reference simulator, the kubelet's addresses).

mod data;
mod layout;
mod protobuf;
mod serve;
pub mod template;

use std::sync::Arc;
use std::time::Instant;

use k8s_openapi::api::apps::v1::{ControllerRevision, DaemonSet};
use k8s_openapi::api::core::v1::{Node, Pod, Service};
use serde_json::Value;

use super::generator;
use super::{Sim, SimOptions};
use data::{DsGen, Inner, RolloutGen};
use layout::Layout;
use template::{Template, Var};

pub use data::Rollout;
pub use serve::Serving;

/// The reference simulator's size: every pool has a node in every zone.
const REFERENCE_NODES: usize = 100;

/// The generator of a synthetic cluster: cheap to clone; [`Generator::serve`] serves it.
#[derive(Clone)]
pub struct Generator {
    inner: Arc<Inner>,
}

fn to_json<T: serde::Serialize>(o: &T) -> String {
    serde_json::to_string(o).expect("API objects serialise")
}

/// The reference DaemonSet's status counts that were all its desired pods, scaled to
/// the cluster's (`scaled`).
fn scale_status(ds: &mut Value, reference: i64, scaled: i64) {
    const COUNTS: [&str; 5] =
        ["desiredNumberScheduled", "currentNumberScheduled", "numberReady", "numberAvailable", "updatedNumberScheduled"];
    if let Some(st) = ds.get_mut("status").and_then(Value::as_object_mut) {
        for k in COUNTS {
            if let Some(v) = st.get_mut(k)
                && v.as_i64() == Some(reference)
            {
                *v = scaled.into();
            }
        }
    }
}

impl Generator {
    /// The synthetic cluster of `nodes` nodes and `daemonsets` DaemonSets (a reference
    /// simulator settles first: about a second).
    pub fn new(nodes: usize, daemonsets: usize) -> Result<Generator, String> {
        let sc = generator::scenario(REFERENCE_NODES, daemonsets);
        let sim = Sim::build(&sc, SimOptions::from_scenario(&sc)).map_err(|e| e.to_string())?;
        let layout = Layout::new(nodes);
        let reference = Layout::new(REFERENCE_NODES);
        let (ref_nodes, list_rv) = sim.store.list::<Node>(None);
        let (ref_pods, _) = sim.store.list::<Pod>(None);
        let (ref_ds, _) = sim.store.list::<DaemonSet>(None);
        let (ref_crs, _) = sim.store.list::<ControllerRevision>(None);
        let (ref_svcs, _) = sim.store.list::<Service>(None);
        let node_of = |name: &str| ref_nodes.iter().find(|n| n.metadata.name.as_deref() == Some(name));

        // One node per pool and zone: the reference's first of each.
        let mut nodes = Vec::new();
        for (p, _) in layout.pools.iter().enumerate() {
            let mut per_zone = Vec::new();
            for z in 0..3 {
                let j = reference.first_in_zone(p, z).ok_or_else(|| format!("the reference has no node in pool {p}, zone {z}"))?;
                let name = reference.node_name(p, j);
                let node = node_of(&name).ok_or_else(|| format!("no reference node {name}"))?;
                let json = template::strip_type(&to_json(&**node));
                let uid = node.metadata.uid.clone().unwrap_or_default();
                let ip = super::kubelet::internal_ip(&name);
                per_zone.push(Template::cut(
                    &json,
                    &[(name.as_str(), Var::NodeName), (q(&uid).as_str(), Var::Uid), (q(&ip).as_str(), Var::NodeIp)],
                )?);
            }
            nodes.push(<[Template; 3]>::try_from(per_zone).map_err(|_| "three zones")?);
        }

        let mut ds = Vec::new();
        for d in ref_ds.iter() {
            let name = d.metadata.name.clone().unwrap_or_default();
            let container =
                d.spec.as_ref().and_then(|s| s.template.spec.as_ref()).and_then(|s| s.containers.first()).map(|c| c.name.clone());
            let ds_uid = d.metadata.uid.clone().unwrap_or_default();
            let owned = |p: &Pod| p.metadata.owner_references.iter().flatten().any(|o| o.uid == ds_uid);
            let mut pods = Vec::new();
            let mut pod_values = Vec::new();
            for (p, _) in layout.pools.iter().enumerate() {
                let j = reference.first_in_zone(p, 0).ok_or("a pool without nodes")?;
                let node_name = reference.node_name(p, j);
                let pod =
                    ref_pods.iter().find(|x| owned(x) && x.spec.as_ref().and_then(|s| s.node_name.as_deref()) == Some(node_name.as_str()));
                pod_values.push(pod.map(|x| (serde_json::to_value(&**x).expect("pod"), node_name.clone())));
                pods.push(match pod {
                    None => None,
                    Some(x) => Some(pod_template(&template::strip_type(&to_json(&**x)), x, &node_name)?),
                });
            }
            let per_pool_reference: Vec<usize> = reference.pools.iter().map(|p| p.1).collect();
            let runs = |sizes: &[usize]| sizes.iter().zip(&pods).filter(|(_, t)| t.is_some()).map(|(n, _)| *n as i64).sum::<i64>();
            let mut v = serde_json::to_value(&**d).expect("DaemonSet");
            let sizes: Vec<usize> = layout.pools.iter().map(|p| p.1).collect();
            scale_status(&mut v, runs(&per_pool_reference), runs(&sizes));
            let revisions: Vec<String> = ref_crs
                .iter()
                .filter(|c| c.metadata.owner_references.iter().flatten().any(|o| o.uid == ds_uid))
                .map(|c| template::strip_type(&to_json(&**c)))
                .collect();
            let rollout = rollout_of(&v, &ref_crs, &ds_uid, &pod_values)?;
            let item = template::strip_type(&v.to_string());
            ds.push(DsGen { name, container: container.unwrap_or_default(), item, pods, revisions, rollout });
        }
        let services = ref_svcs.iter().map(|s| template::strip_type(&to_json(&**s))).collect();
        let mut pod_starts = vec![0];
        for d in &ds {
            pod_starts.push(pod_starts.last().copied().unwrap_or(0) + layout.pods_of(&d.pods));
        }
        Ok(Generator {
            inner: Arc::new(Inner {
                layout,
                ds,
                nodes,
                services,
                pod_starts,
                list_rv,
                rollout: tokio::sync::watch::channel(None).0,
                sent: Default::default(),
            }),
        })
    }

    /// The daemon pods the cluster holds.
    pub fn pod_count(&self) -> usize {
        self.inner.pod_starts.last().copied().unwrap_or(0)
    }

    /// The nodes the cluster holds.
    pub fn node_count(&self) -> usize {
        self.inner.layout.nodes
    }

    /// Pods the rollout moves (those of RollingUpdate DaemonSets).
    pub fn rolling_pods(&self) -> usize {
        self.inner.rolling_total() as usize
    }

    /// Starts the rollout: the DaemonSets and revisions change at once, then the pod
    /// watches send `rate` MODIFIED events a second, `events` in all (at most what the
    /// rollout has: each rolling pod not ready, then ready, half a second of events later).
    pub fn start_rollout(&self, rate: u32, events: u64) -> Rollout {
        let lag = self.inner.ready_lag(rate);
        let max = (2 * self.rolling_pods() as u64).saturating_sub(lag);
        let r = Rollout { started: Instant::now(), rate, events: events.min(max) };
        self.inner.rollout.send_replace(Some(r));
        r
    }

    /// Serves the cluster over plain HTTP at `addr` (`127.0.0.1:0`: any free port).
    pub async fn serve(&self, addr: &str) -> std::io::Result<Serving> {
        serve::serve(self.inner.clone(), addr).await
    }

    /// Pod events the watches have sent since the rollout began.
    pub fn sent(&self) -> u64 {
        self.inner.sent.load(std::sync::atomic::Ordering::Relaxed)
    }
}

fn q(s: &str) -> String {
    format!("\"{s}\"")
}

/// A pod's template: its node, its name, its uid and its addresses vary.
fn pod_template(json: &str, pod: &Pod, node: &str) -> Result<Template, String> {
    let name = pod.metadata.name.clone().unwrap_or_default();
    let uid = pod.metadata.uid.clone().unwrap_or_default();
    let node_ip = super::kubelet::internal_ip(node);
    let host_net = pod.spec.as_ref().and_then(|s| s.host_network).unwrap_or(false);
    let mut subs = vec![(q(&name), Var::PodName), (q(node), Var::NodeName), (q(&uid), Var::Uid), (q(&node_ip), Var::NodeIp)];
    if !host_net {
        subs.push((q(&super::kubelet::pod_ip_of(&uid)), Var::PodIp));
    }
    let running =
        pod.status.as_ref().and_then(|s| s.container_statuses.as_ref()).and_then(|c| c.first()).is_some_and(|c| c.container_id.is_some());
    if let Some(c) = pod.spec.as_ref().and_then(|s| s.containers.first()).filter(|_| running) {
        subs.push((q(&super::kubelet::container_id_of(&uid, &c.name)), Var::ContainerId));
    }
    // The node's name appears in the affinity the controller pins the pod with, too.
    let subs: Vec<(&str, Var)> = subs.iter().map(|(s, v)| (s.as_str(), *v)).collect();
    Template::cut(json, &subs)
}

/// What a rollout makes of a RollingUpdate DaemonSet (None for OnDelete): the next
/// generation with a new image, its new revision, and its pods on it.
fn rollout_of(
    ds: &Value,
    crs: &[Arc<ControllerRevision>],
    ds_uid: &str,
    pods: &[Option<(Value, String)>],
) -> Result<Option<RolloutGen>, String> {
    if ds.pointer("/spec/updateStrategy/type").and_then(Value::as_str) != Some("RollingUpdate") {
        return Ok(None);
    }
    let current = crs
        .iter()
        .filter(|c| c.metadata.owner_references.iter().flatten().any(|o| o.uid == ds_uid))
        .max_by_key(|c| c.revision)
        .ok_or("a DaemonSet without a revision")?;
    let old_hash = current.metadata.labels.as_ref().and_then(|l| l.get("controller-revision-hash")).cloned().unwrap_or_default();
    // Another hash of the same alphabet and length.
    let new_hash: String = old_hash.chars().rev().map(|c| if c == 'b' { 'c' } else { c }).collect();
    let new_hash = if new_hash == old_hash { format!("{}x", &old_hash[1..]) } else { new_hash };
    let generation = ds.pointer("/metadata/generation").and_then(Value::as_i64).unwrap_or(1) + 1;
    let image = ds.pointer("/spec/template/spec/containers/0/image").and_then(Value::as_str).unwrap_or_default().to_string();
    let new_image = format!("{image}-next");

    let mut d = ds.clone();
    d["metadata"]["generation"] = generation.into();
    if let Some(a) = d.pointer_mut("/metadata/annotations").and_then(Value::as_object_mut) {
        a.insert("deprecated.daemonset.template.generation".into(), generation.to_string().into());
    }
    d["spec"]["template"]["spec"]["containers"][0]["image"] = new_image.clone().into();
    d["status"]["observedGeneration"] = generation.into();
    d["status"]["updatedNumberScheduled"] = 0.into();

    let mut cr = serde_json::to_value(&**current).expect("revision");
    let cr_name = format!("{}-{new_hash}", ds.pointer("/metadata/name").and_then(Value::as_str).unwrap_or_default());
    cr["metadata"]["name"] = cr_name.into();
    cr["metadata"]["uid"] = format!("{}-2", current.metadata.uid.clone().unwrap_or_default()).into();
    cr["metadata"]["labels"]["controller-revision-hash"] = new_hash.clone().into();
    cr["revision"] = (current.revision + 1).into();
    if let Some(c) = cr.pointer_mut("/data/spec/template/spec/containers/0/image") {
        *c = new_image.clone().into();
    }

    let (mut not_ready, mut ready) = (Vec::new(), Vec::new());
    for p in pods {
        let Some((pod, node)) = p else {
            not_ready.push(None);
            ready.push(None);
            continue;
        };
        let mut p = pod.clone();
        p["metadata"]["labels"]["controller-revision-hash"] = new_hash.clone().into();
        p["metadata"]["labels"]["pod-template-generation"] = generation.to_string().into();
        p["spec"]["containers"][0]["image"] = new_image.clone().into();
        if let Some(cs) = p.pointer_mut("/status/containerStatuses/0") {
            cs["image"] = new_image.clone().into();
        }
        let typed: Pod = serde_json::from_value(p.clone()).map_err(|e| e.to_string())?;
        ready.push(Some(pod_template(&to_json(&typed), &typed, node)?));
        // Not ready: the new container is being created.
        if let Some(cs) = p.pointer_mut("/status/containerStatuses/0") {
            cs["ready"] = false.into();
            cs["started"] = false.into();
            cs["state"] = serde_json::json!({"waiting": {"reason": "ContainerCreating"}});
            if let Some(c) = cs.as_object_mut() {
                c.remove("containerID");
            }
        }
        if let Some(conds) = p.pointer_mut("/status/conditions").and_then(Value::as_array_mut) {
            for c in conds {
                if matches!(c["type"].as_str(), Some("Ready" | "ContainersReady")) {
                    c["status"] = "False".into();
                    c["reason"] = "ContainersNotReady".into();
                }
            }
        }
        let typed: Pod = serde_json::from_value(p).map_err(|e| e.to_string())?;
        not_ready.push(Some(pod_template(&to_json(&typed), &typed, node)?));
    }
    Ok(Some(RolloutGen { ds: Template::cut(&d.to_string(), &[])?, revision: Template::cut(&cr.to_string(), &[])?, not_ready, ready }))
}

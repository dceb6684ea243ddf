//! Pods decoded straight from the API server's JSON into the model's [`PodInfo`]: only
//! the fields the model keeps are read (serde skips every other key without allocating),
//! instead of a full k8s-openapi `Pod` that is then cloned and thrown away. A pod is the
//! bulk of every list and watch (hundreds of thousands on a big cluster), so this is the
//! client's hot path; it must give exactly what [`PodInfo::from_pod`] gives for the same
//! pod (the tests compare the two on every kind of pod the simulator makes). Writes,
//! YAML and detail views keep the k8s-openapi types.
//!
//! May import: `model`, `k8s`.

use std::borrow::Cow;
use std::collections::BTreeMap;

use k8s_openapi::apimachinery::pkg::api::resource::Quantity;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use serde::Deserialize;

use crate::k8s::fit::{self, Resources};
// Read from either encoding without RFC 3339 text in between (protobuf).
use crate::k8s::proto::de::Time;
use crate::model::compact::CpuMem;
use crate::model::{ContainerInfo, IStr, PodInfo, PodName};

/// A pod as a watch decodes it: what the model keeps of it (`T`; None when the watch
/// does not keep this pod), its uid (a deleted pod is gone by uid) and its
/// resourceVersion (where the watch resumes), the only metadata the list-then-watch loop
/// reads. The daemon pods' watch decodes [`PodWire`], the workload pods' watch
/// [`WorkloadWire`](crate::cluster::workloads::WorkloadWire).
#[derive(Debug, Clone)]
pub struct LeanPod<T> {
    pub(crate) meta: ObjectMeta,
    pub info: Option<T>,
}

/// A pod as the daemon pods' watch decodes it: its model view, None when no DaemonSet
/// controls it.
pub type PodWire = LeanPod<PodInfo>;

impl<T> LeanPod<T> {
    pub fn uid(&self) -> &str {
        self.meta.uid.as_deref().unwrap_or_default()
    }

    /// Decodes one pod from its JSON.
    pub fn from_json<'a>(json: &'a [u8]) -> serde_json::Result<Self>
    where
        Self: Deserialize<'a>,
    {
        serde_json::from_slice(json)
    }
}

impl<T> kube::Resource for LeanPod<T> {
    type DynamicType = ();
    type Scope = k8s_openapi::NamespaceResourceScope;

    fn kind(_: &()) -> Cow<'_, str> {
        <k8s_openapi::api::core::v1::Pod as k8s_openapi::Resource>::KIND.into()
    }
    fn group(_: &()) -> Cow<'_, str> {
        <k8s_openapi::api::core::v1::Pod as k8s_openapi::Resource>::GROUP.into()
    }
    fn version(_: &()) -> Cow<'_, str> {
        <k8s_openapi::api::core::v1::Pod as k8s_openapi::Resource>::VERSION.into()
    }
    fn plural(_: &()) -> Cow<'_, str> {
        <k8s_openapi::api::core::v1::Pod as k8s_openapi::Resource>::URL_PATH_SEGMENT.into()
    }
    fn meta(&self) -> &ObjectMeta {
        &self.meta
    }
    fn meta_mut(&mut self) -> &mut ObjectMeta {
        &mut self.meta
    }
}

impl<'de> Deserialize<'de> for PodWire {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let p = Pod::deserialize(d)?;
        let m = p.metadata;
        let text = |v: &Str<'_>| -> String { v.as_deref().unwrap_or_default().to_string() };
        let meta = ObjectMeta { uid: m.uid.as_deref().map(String::from), resource_version: m.resource_version, ..ObjectMeta::default() };
        let Some((owner_uid, owner_name)) = m
            .owner_references
            .into_iter()
            .flatten()
            .find(|o| o.controller == Some(true) && o.kind.as_deref() == Some("DaemonSet"))
            .map(|o| (o.uid.unwrap_or_default(), o.name.unwrap_or_default()))
        else {
            return Ok(PodWire { meta, info: None });
        };
        let spec = p.spec.unwrap_or_default();
        let st = p.status.unwrap_or_default();
        let conditions = st.conditions.unwrap_or_default();
        let is = |v: &Str<'_>, s: &str| v.as_deref().unwrap_or_default() == s;
        let ready_cond = conditions.iter().find(|c| is(&c.type_, "Ready"));
        let unschedulable = conditions.iter().find(|c| is(&c.type_, "PodScheduled") && is(&c.status, "False")).map(|c| text(&c.message));
        let statuses = st.container_statuses.unwrap_or_default();
        let scheduled = conditions
            .iter()
            .find(|c| is(&c.type_, "PodScheduled") && is(&c.status, "True"))
            .and_then(|c| c.last_transition_time.as_ref())
            .map(|t| t.0);
        let started = statuses.iter().filter_map(|s| s.state.as_ref()?.running.as_ref()?.started_at.as_ref().map(|t| t.0)).min();
        let exit = |t: &Terminated| {
            t.reason.as_deref().map(String::from).unwrap_or_else(|| format!("ExitCode:{}", t.exit_code.unwrap_or_default()))
        };
        let requests = CpuMem::of(&fit::requests_of(
            spec.containers.iter().map(Container::requests),
            spec.init_containers.iter().map(|c| (c.requests(), c.restart_policy.as_deref() == Some("Always"))),
            Resources::of(spec.overhead.as_ref()),
        ));
        let containers = spec
            .containers
            .into_iter()
            .map(|c| {
                let name = c.name.unwrap_or_default();
                // The first status of that name (names are unique in a valid pod).
                let s = statuses.iter().find(|s| s.name.as_deref().unwrap_or_default() == name);
                let state = s.and_then(|s| s.state.as_ref());
                let waiting = state
                    .and_then(|st| st.waiting.as_ref())
                    .map(|w| (text(&w.reason), text(&w.message)))
                    .or_else(|| state.and_then(|st| st.terminated.as_ref()).map(|t| (exit(t), text(&t.message))))
                    .map(Box::new);
                ContainerInfo {
                    ready: s.is_some_and(|s| s.ready.unwrap_or_default()),
                    restarts: s.map_or(0, |s| s.restart_count.unwrap_or_default()),
                    name: IStr::from(&*name),
                    image: IStr::from(c.image.as_deref().unwrap_or_default()),
                    waiting,
                    running: state.is_some_and(|st| st.running.is_some()),
                    last_exit: s.and_then(|s| s.last_state.as_ref()?.terminated.as_ref()).map(|t| exit(t).into()),
                }
            })
            .collect();
        let labels = m.labels.unwrap_or_default();
        let bound = spec.node_name.as_deref().is_some_and(|n| !n.is_empty());
        let node = match spec.node_name.as_deref().filter(|n| !n.is_empty()) {
            Some(n) => Some(IStr::from(n)),
            None => pinned_node(spec.affinity).map(IStr::from),
        };
        let info = PodInfo {
            namespace: IStr::from(m.namespace.as_deref().unwrap_or_default()),
            name: PodName::new(m.name.as_deref().unwrap_or_default(), &owner_name),
            uid: m.uid.as_deref().unwrap_or_default().into(),
            owner_uid: IStr::from(&*owner_uid),
            node,
            bound,
            revision_hash: labels.hash.as_deref().map(IStr::from),
            template_generation: labels.generation.as_deref().map(IStr::from),
            phase: IStr::from(st.phase.as_deref().unwrap_or_default()),
            ready: ready_cond.is_some_and(|c| is(&c.status, "True")),
            ready_changed: ready_cond.and_then(|c| c.last_transition_time.as_ref()).map(|t| t.0).into(),
            deleting: m.deletion_timestamp.map(|t| t.0).into(),
            created: m.creation_timestamp.map(|t| t.0).into(),
            scheduled: scheduled.into(),
            started: started.into(),
            unschedulable: unschedulable.map(Box::new),
            containers,
            requests,
        };
        Ok(PodWire { meta, info: Some(info) })
    }
}

/// `util.GetTargetNodeName`'s second half (see
/// [`target_node`](crate::k8s::eligibility::target_node)): the `metadata.name` pin of the
/// required node affinity.
fn pinned_node(affinity: Option<Affinity>) -> Option<String> {
    affinity?
        .node_affinity?
        .required_during_scheduling_ignored_during_execution?
        .node_selector_terms
        .into_iter()
        .flatten()
        .flat_map(|t| t.match_fields.into_iter().flatten())
        .find(|r| r.key.as_deref() == Some("metadata.name") && r.operator.as_deref() == Some("In"))
        .and_then(|r| r.values?.into_iter().next())
}

// The JSON shapes, reduced to the fields read. Every field is an `Option`, required ones
// too: k8s-openapi decodes a missing or `null` field, even a required one, as absent (its
// default), and so must this.

#[derive(Deserialize)]
struct Pod<'a> {
    #[serde(default, borrow, deserialize_with = "null_as_default")]
    metadata: Meta<'a>,
    #[serde(borrow)]
    spec: Option<Spec<'a>>,
    #[serde(borrow)]
    status: Option<Status<'a>>,
}

/// A string as the JSON has it: borrowed from the page when it has no escapes, so most
/// fields read cost no allocation.
type Str<'a> = Option<Cow<'a, str>>;

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase")]
struct Meta<'a> {
    #[serde(borrow)]
    name: Str<'a>,
    #[serde(borrow)]
    namespace: Str<'a>,
    #[serde(borrow)]
    uid: Str<'a>,
    resource_version: Option<String>,
    creation_timestamp: Option<Time>,
    deletion_timestamp: Option<Time>,
    #[serde(borrow)]
    labels: Option<Labels<'a>>,
    #[serde(borrow)]
    owner_references: Option<Vec<OwnerRef<'a>>>,
}

/// The two labels the model reads (`REVISION_HASH_LABEL`, `TEMPLATE_GENERATION_LABEL`);
/// the others are skipped.
#[derive(Deserialize, Default)]
struct Labels<'a> {
    #[serde(rename = "controller-revision-hash", borrow)]
    hash: Str<'a>,
    #[serde(rename = "pod-template-generation", borrow)]
    generation: Str<'a>,
}

#[derive(Deserialize)]
struct OwnerRef<'a> {
    #[serde(borrow)]
    kind: Str<'a>,
    #[serde(borrow)]
    name: Str<'a>,
    #[serde(borrow)]
    uid: Str<'a>,
    controller: Option<bool>,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase")]
struct Spec<'a> {
    #[serde(borrow)]
    node_name: Str<'a>,
    affinity: Option<Affinity>,
    #[serde(default, borrow, deserialize_with = "null_as_default")]
    containers: Vec<Container<'a>>,
    #[serde(default, borrow, deserialize_with = "null_as_default")]
    init_containers: Vec<Container<'a>>,
    overhead: Option<BTreeMap<String, Quantity>>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Container<'a> {
    #[serde(borrow)]
    name: Str<'a>,
    #[serde(borrow)]
    image: Str<'a>,
    resources: Option<Requirements>,
    #[serde(borrow)]
    restart_policy: Str<'a>,
}

/// A container's `resources`, as much as its requests need.
#[derive(Deserialize)]
struct Requirements {
    requests: Option<BTreeMap<String, Quantity>>,
    limits: Option<BTreeMap<String, Quantity>>,
}

impl Container<'_> {
    fn requests(&self) -> Resources {
        let r = self.resources.as_ref();
        fit::container_requests(r.and_then(|r| r.requests.as_ref()), r.and_then(|r| r.limits.as_ref()))
    }
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Affinity {
    node_affinity: Option<NodeAffinity>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct NodeAffinity {
    required_during_scheduling_ignored_during_execution: Option<NodeSelector>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct NodeSelector {
    node_selector_terms: Option<Vec<NodeSelectorTerm>>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct NodeSelectorTerm {
    match_fields: Option<Vec<Requirement>>,
}

#[derive(Deserialize)]
struct Requirement {
    key: Option<String>,
    operator: Option<String>,
    values: Option<Vec<String>>,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase")]
struct Status<'a> {
    #[serde(borrow)]
    phase: Str<'a>,
    #[serde(borrow)]
    conditions: Option<Vec<Condition<'a>>>,
    #[serde(borrow)]
    container_statuses: Option<Vec<ContainerStatus<'a>>>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Condition<'a> {
    #[serde(rename = "type", borrow)]
    type_: Str<'a>,
    #[serde(borrow)]
    status: Str<'a>,
    last_transition_time: Option<Time>,
    #[serde(borrow)]
    message: Str<'a>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct ContainerStatus<'a> {
    #[serde(borrow)]
    name: Str<'a>,
    ready: Option<bool>,
    restart_count: Option<i32>,
    #[serde(borrow)]
    state: Option<State<'a>>,
    #[serde(borrow)]
    last_state: Option<State<'a>>,
}

#[derive(Deserialize, Default)]
struct State<'a> {
    #[serde(borrow)]
    waiting: Option<Waiting<'a>>,
    running: Option<Running>,
    #[serde(borrow)]
    terminated: Option<Terminated<'a>>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Running {
    started_at: Option<Time>,
}

#[derive(Deserialize)]
struct Waiting<'a> {
    #[serde(borrow)]
    reason: Str<'a>,
    #[serde(borrow)]
    message: Str<'a>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Terminated<'a> {
    #[serde(borrow)]
    reason: Str<'a>,
    #[serde(borrow)]
    message: Str<'a>,
    exit_code: Option<i32>,
}

fn null_as_default<'de, D: serde::Deserializer<'de>, T: Deserialize<'de> + Default>(d: D) -> Result<T, D::Error> {
    Ok(Option::<T>::deserialize(d)?.unwrap_or_default())
}

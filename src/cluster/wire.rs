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

use k8s_openapi::apimachinery::pkg::apis::meta::v1::{ObjectMeta, Time};
use serde::Deserialize;

use crate::model::{ContainerInfo, IStr, PodInfo, PodName};

/// A pod as the watch decodes it: its model view (None when no DaemonSet controls it),
/// its uid (a deleted pod is gone by uid) and its resourceVersion (where the watch
/// resumes), the only metadata the list-then-watch loop reads.
#[derive(Debug, Clone)]
pub struct PodWire {
    meta: ObjectMeta,
    pub info: Option<PodInfo>,
}

impl PodWire {
    pub fn uid(&self) -> &str {
        self.meta.uid.as_deref().unwrap_or_default()
    }

    /// Decodes one pod from its JSON.
    pub fn from_json(json: &[u8]) -> serde_json::Result<PodWire> {
        serde_json::from_slice(json)
    }
}

impl kube::Resource for PodWire {
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
        let meta = ObjectMeta { uid: m.uid.clone(), resource_version: m.resource_version, ..ObjectMeta::default() };
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
        let is = |v: &Option<String>, s: &str| v.as_deref().unwrap_or_default() == s;
        let ready_cond = conditions.iter().find(|c| is(&c.type_, "Ready"));
        let unschedulable = conditions
            .iter()
            .find(|c| is(&c.type_, "PodScheduled") && is(&c.status, "False"))
            .map(|c| c.message.clone().unwrap_or_default());
        let statuses = st.container_statuses.unwrap_or_default();
        let exit = |t: &Terminated| t.reason.clone().unwrap_or_else(|| format!("ExitCode:{}", t.exit_code.unwrap_or_default()));
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
                    .map(|w| (w.reason.clone().unwrap_or_default(), w.message.clone().unwrap_or_default()))
                    .or_else(|| state.and_then(|st| st.terminated.as_ref()).map(|t| (exit(t), t.message.clone().unwrap_or_default())))
                    .map(Box::new);
                ContainerInfo {
                    ready: s.is_some_and(|s| s.ready.unwrap_or_default()),
                    restarts: s.map_or(0, |s| s.restart_count.unwrap_or_default()),
                    name: name.into(),
                    image: c.image.unwrap_or_default().into(),
                    waiting,
                    running: state.is_some_and(|st| st.running.is_some()),
                    last_exit: s.and_then(|s| s.last_state.as_ref()?.terminated.as_ref()).map(|t| exit(t).into()),
                }
            })
            .collect();
        let labels = m.labels.unwrap_or_default();
        let bound = spec.node_name.as_deref().is_some_and(|n| !n.is_empty());
        let node = match spec.node_name.filter(|n| !n.is_empty()) {
            Some(n) => Some(n),
            None => pinned_node(spec.affinity),
        };
        let info = PodInfo {
            namespace: m.namespace.unwrap_or_default().into(),
            name: PodName::new(m.name.unwrap_or_default(), &owner_name),
            uid: m.uid.unwrap_or_default().into(),
            owner_uid: owner_uid.into(),
            node: node.map(IStr::from),
            bound,
            revision_hash: labels.hash.map(IStr::from),
            template_generation: labels.generation.map(IStr::from),
            phase: st.phase.unwrap_or_default().into(),
            ready: ready_cond.is_some_and(|c| is(&c.status, "True")),
            ready_since: ready_cond.filter(|c| is(&c.status, "True")).and_then(|c| c.last_transition_time.as_ref()).map(|t| t.0).into(),
            deleting: m.deletion_timestamp.map(|t| t.0).into(),
            created: m.creation_timestamp.map(|t| t.0).into(),
            unschedulable: unschedulable.map(Box::new),
            containers,
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
struct Pod {
    #[serde(default, deserialize_with = "null_as_default")]
    metadata: Meta,
    spec: Option<Spec>,
    status: Option<Status>,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase")]
struct Meta {
    name: Option<String>,
    namespace: Option<String>,
    uid: Option<String>,
    resource_version: Option<String>,
    creation_timestamp: Option<Time>,
    deletion_timestamp: Option<Time>,
    labels: Option<Labels>,
    owner_references: Option<Vec<OwnerRef>>,
}

/// The two labels the model reads (`REVISION_HASH_LABEL`, `TEMPLATE_GENERATION_LABEL`);
/// the others are skipped.
#[derive(Deserialize, Default)]
struct Labels {
    #[serde(rename = "controller-revision-hash")]
    hash: Option<String>,
    #[serde(rename = "pod-template-generation")]
    generation: Option<String>,
}

#[derive(Deserialize)]
struct OwnerRef {
    kind: Option<String>,
    name: Option<String>,
    uid: Option<String>,
    controller: Option<bool>,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase")]
struct Spec {
    node_name: Option<String>,
    affinity: Option<Affinity>,
    #[serde(default, deserialize_with = "null_as_default")]
    containers: Vec<Container>,
}

#[derive(Deserialize)]
struct Container {
    name: Option<String>,
    image: Option<String>,
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
struct Status {
    phase: Option<String>,
    conditions: Option<Vec<Condition>>,
    container_statuses: Option<Vec<ContainerStatus>>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Condition {
    #[serde(rename = "type")]
    type_: Option<String>,
    status: Option<String>,
    last_transition_time: Option<Time>,
    message: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct ContainerStatus {
    name: Option<String>,
    ready: Option<bool>,
    restart_count: Option<i32>,
    state: Option<State>,
    last_state: Option<State>,
}

#[derive(Deserialize, Default)]
struct State {
    waiting: Option<Waiting>,
    running: Option<serde::de::IgnoredAny>,
    terminated: Option<Terminated>,
}

#[derive(Deserialize)]
struct Waiting {
    reason: Option<String>,
    message: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Terminated {
    reason: Option<String>,
    message: Option<String>,
    exit_code: Option<i32>,
}

fn null_as_default<'de, D: serde::Deserializer<'de>, T: Deserialize<'de> + Default>(d: D) -> Result<T, D::Error> {
    Ok(Option::<T>::deserialize(d)?.unwrap_or_default())
}

//! The server-side `Table` form (`Accept: application/json;as=Table;g=meta.k8s.io;v=v1`)
//! with the columns a real API server prints (`pkg/printers/internalversion/printers.go`).
//!
//! May import: `sim::store`, `k8s::duration`.

use k8s_openapi::api::apps::v1 as apps;
use k8s_openapi::api::core::v1 as core;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{LabelSelector, Time};
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;
use serde_json::{Value, json};

use crate::k8s::duration::human_duration;
use crate::sim::store::SimObject;

pub struct Col {
    pub name: &'static str,
    pub ty: &'static str,
    pub priority: i32,
    pub description: &'static str,
}

pub(super) const fn col(name: &'static str, ty: &'static str, priority: i32, description: &'static str) -> Col {
    Col { name, ty, priority, description }
}

pub(super) const NAME: Col = col(
    "Name",
    "string",
    0,
    "Name must be unique within a namespace. Is required when creating resources, although some resources may allow a client to request the generation of an appropriate name automatically. Name is primarily intended for creation idempotence and configuration definition. Cannot be updated. More info: https://kubernetes.io/docs/concepts/overview/working-with-objects/names#names",
);
pub(super) const AGE: Col = col(
    "Age",
    "string",
    0,
    "CreationTimestamp is a timestamp representing the server time when this object was created. It is not guaranteed to be set in happens-before order across separate operations. Clients may not set this value. It is represented in RFC3339 form and is in UTC.\n\nPopulated by the system. Read-only. Null for lists. More info: https://git.k8s.io/community/contributors/devel/sig-architecture/api-conventions.md#metadata",
);

pub trait Tabular: SimObject {
    fn columns() -> Vec<Col>;
    fn cells(&self, now: jiff::Timestamp) -> Vec<Value>;
}

pub fn age(t: Option<&Time>, now: jiff::Timestamp) -> String {
    match t {
        None => "<unknown>".into(),
        Some(t) => human_duration(now.duration_since(t.0).as_secs()),
    }
}

fn none_if_empty(s: String) -> String {
    if s.is_empty() { "<none>".into() } else { s }
}

/// `metav1.FormatLabelSelector`.
pub fn format_label_selector(sel: &LabelSelector) -> String {
    let mut parts: Vec<String> = sel.match_labels.iter().flatten().map(|(k, v)| format!("{k}={v}")).collect();
    for e in sel.match_expressions.iter().flatten() {
        let vals = e.values.clone().unwrap_or_default().join(",");
        parts.push(match e.operator.as_str() {
            "In" => format!("{} in ({vals})", e.key),
            "NotIn" => format!("{} notin ({vals})", e.key),
            "Exists" => e.key.clone(),
            "DoesNotExist" => format!("!{}", e.key),
            op => format!("{} {op} ({vals})", e.key),
        });
    }
    if parts.is_empty() { "<none>".into() } else { parts.join(",") }
}

/// kubectl's pod STATUS column (`printPod`).
pub fn pod_status_reason(p: &core::Pod) -> String {
    let status = p.status.clone().unwrap_or_default();
    let mut reason = status.phase.clone().unwrap_or_default();
    if let Some(r) = status.reason.clone().filter(|r| !r.is_empty()) {
        reason = r;
    }
    let mut initializing = false;
    let n_init = p.spec.as_ref().and_then(|s| s.init_containers.as_ref()).map_or(0, |v| v.len());
    for (i, c) in status.init_container_statuses.iter().flatten().enumerate() {
        let st = c.state.clone().unwrap_or_default();
        if let Some(t) = &st.terminated
            && t.exit_code == 0
        {
            continue;
        }
        initializing = true;
        reason = if let Some(t) = &st.terminated {
            t.reason.clone().map(|r| format!("Init:{r}")).unwrap_or_else(|| format!("Init:ExitCode:{}", t.exit_code))
        } else if let Some(w) = st.waiting.as_ref().and_then(|w| w.reason.clone()).filter(|r| r != "PodInitializing") {
            format!("Init:{w}")
        } else {
            format!("Init:{i}/{n_init}")
        };
        break;
    }
    if !initializing {
        let mut has_running = false;
        for c in status.container_statuses.iter().flatten().rev() {
            let st = c.state.clone().unwrap_or_default();
            if let Some(w) = st.waiting.as_ref().and_then(|w| w.reason.clone()).filter(|r| !r.is_empty()) {
                reason = w;
            } else if let Some(t) = &st.terminated {
                reason = t.reason.clone().filter(|r| !r.is_empty()).unwrap_or_else(|| {
                    if t.signal.unwrap_or(0) != 0 {
                        format!("Signal:{}", t.signal.unwrap_or(0))
                    } else {
                        format!("ExitCode:{}", t.exit_code)
                    }
                });
            } else if c.ready && st.running.is_some() {
                has_running = true;
            }
        }
        if reason == "Completed" && has_running {
            let ready = status.conditions.iter().flatten().any(|c| c.type_ == "Ready" && c.status == "True");
            reason = if ready { "Running".into() } else { "NotReady".into() };
        }
    }
    if p.metadata.deletion_timestamp.is_some() {
        reason = if status.reason.as_deref() == Some("NodeLost") { "Unknown".into() } else { "Terminating".into() };
    }
    reason
}

impl Tabular for core::Pod {
    fn columns() -> Vec<Col> {
        vec![
            NAME,
            col("Ready", "string", 0, "The aggregate readiness state of this pod for accepting traffic."),
            col("Status", "string", 0, "The aggregate status of the containers in this pod."),
            col(
                "Restarts",
                "string",
                0,
                "The number of times the containers in this pod have been restarted and when the last container in this pod has restarted.",
            ),
            AGE,
            col("IP", "string", 1, "IP address allocated to the pod. Routable at least within the cluster. Empty if not yet allocated."),
            col(
                "Node",
                "string",
                1,
                "NodeName is a request to schedule this pod onto a specific node. If it is non-empty, the scheduler simply schedules this pod onto that node, assuming that it fits resource requirements.",
            ),
            col(
                "Nominated Node",
                "string",
                1,
                "nominatedNodeName is set only when this pod preempts other pods on the node, but it cannot be scheduled right away as preemption victims receive their graceful termination periods. This field does not guarantee that the pod will be scheduled on this node. Scheduler may decide to place the pod elsewhere if other nodes become available sooner. Scheduler may also decide to give the resources on this node to a higher priority pod that is created after preemption. As a result, this field may be different than PodSpec.nodeName when the pod is scheduled.",
            ),
            col(
                "Readiness Gates",
                "string",
                1,
                "If specified, all readiness gates will be evaluated for pod readiness. A pod is ready when all its containers are ready AND all conditions specified in the readiness gates have status equal to \"True\" More info: https://git.k8s.io/enhancements/keps/sig-network/580-pod-readiness-gates",
            ),
        ]
    }
    fn cells(&self, now: jiff::Timestamp) -> Vec<Value> {
        let status = self.status.clone().unwrap_or_default();
        let total = self.spec.as_ref().map_or(0, |s| s.containers.len());
        let cs = status.container_statuses.clone().unwrap_or_default();
        let ready = cs.iter().filter(|c| c.ready).count();
        let restarts: i32 = cs.iter().map(|c| c.restart_count).sum();
        let last_restart = cs.iter().filter_map(|c| c.last_state.as_ref()?.terminated.as_ref()?.finished_at.clone()).max_by_key(|t| t.0);
        let restarts = match last_restart {
            Some(t) if restarts > 0 => format!("{restarts} ({} ago)", human_duration(now.duration_since(t.0).as_secs())),
            _ => restarts.to_string(),
        };
        let node = self.spec.as_ref().and_then(|s| s.node_name.clone()).unwrap_or_default();
        vec![
            json!(self.metadata.name),
            json!(format!("{ready}/{total}")),
            json!(pod_status_reason(self)),
            json!(restarts),
            json!(age(self.metadata.creation_timestamp.as_ref(), now)),
            json!(none_if_empty(status.pod_ip.clone().unwrap_or_default())),
            json!(none_if_empty(node)),
            json!(none_if_empty(status.nominated_node_name.clone().unwrap_or_default())),
            json!("<none>"),
        ]
    }
}

/// kubectl's node STATUS column.
pub fn node_status(n: &core::Node) -> String {
    let ready = n.status.as_ref().and_then(|s| s.conditions.as_ref()).and_then(|c| c.iter().find(|c| c.type_ == "Ready"));
    let mut s = match ready {
        Some(c) if c.status == "True" => "Ready".to_string(),
        Some(_) => "NotReady".to_string(),
        None => "Unknown".to_string(),
    };
    if n.spec.as_ref().and_then(|s| s.unschedulable).unwrap_or(false) {
        s.push_str(",SchedulingDisabled");
    }
    s
}

pub fn node_roles(n: &core::Node) -> String {
    let mut roles: Vec<String> = Vec::new();
    for (k, v) in n.metadata.labels.iter().flatten() {
        if let Some(r) = k.strip_prefix("node-role.kubernetes.io/") {
            if !r.is_empty() {
                roles.push(r.to_string());
            }
        } else if k == "kubernetes.io/role" && !v.is_empty() {
            roles.push(v.clone());
        }
    }
    roles.sort();
    roles.dedup();
    if roles.is_empty() { "<none>".into() } else { roles.join(",") }
}

impl Tabular for core::Node {
    fn columns() -> Vec<Col> {
        vec![
            NAME,
            col("Status", "string", 0, "The status of the node"),
            col("Roles", "string", 0, "The roles of the node"),
            AGE,
            col("Version", "string", 0, "Kubelet Version reported by the node."),
            col("Internal-IP", "string", 1, "List of internal IPs."),
            col("External-IP", "string", 1, "List of external IPs."),
            col("OS-Image", "string", 1, "OS Image reported by the node from /etc/os-release (e.g. Debian GNU/Linux 7 (wheezy))."),
            col("Kernel-Version", "string", 1, "Kernel Version reported by the node from 'uname -r' (e.g. 3.16.0-0.bpo.4-amd64)."),
            col(
                "Container-Runtime",
                "string",
                1,
                "ContainerRuntime Version reported by the node through runtime remote API (e.g. containerd://1.4.2).",
            ),
        ]
    }
    fn cells(&self, now: jiff::Timestamp) -> Vec<Value> {
        let st = self.status.clone().unwrap_or_default();
        let info = st.node_info.clone().unwrap_or_default();
        let addr = |t: &str| {
            none_if_empty(st.addresses.iter().flatten().filter(|a| a.type_ == t).map(|a| a.address.clone()).collect::<Vec<_>>().join(","))
        };
        vec![
            json!(self.metadata.name),
            json!(node_status(self)),
            json!(node_roles(self)),
            json!(age(self.metadata.creation_timestamp.as_ref(), now)),
            json!(info.kubelet_version),
            json!(addr("InternalIP")),
            json!(addr("ExternalIP")),
            json!(none_if_empty(info.os_image.clone())),
            json!(none_if_empty(info.kernel_version.clone())),
            json!(none_if_empty(info.container_runtime_version.clone())),
        ]
    }
}

impl Tabular for apps::DaemonSet {
    fn columns() -> Vec<Col> {
        vec![
            NAME,
            col(
                "Desired",
                "integer",
                0,
                "The total number of nodes that should be running the daemon pod (including nodes correctly running the daemon pod). More info: https://kubernetes.io/docs/concepts/workloads/controllers/daemonset/",
            ),
            col(
                "Current",
                "integer",
                0,
                "The number of nodes that are running at least 1 daemon pod and are supposed to run the daemon pod. More info: https://kubernetes.io/docs/concepts/workloads/controllers/daemonset/",
            ),
            col(
                "Ready",
                "integer",
                0,
                "numberReady is the number of nodes that should be running the daemon pod and have one or more of the daemon pod running with a Ready Condition.",
            ),
            col("Up-to-date", "integer", 0, "The total number of nodes that are running updated daemon pod"),
            col(
                "Available",
                "integer",
                0,
                "The number of nodes that should be running the daemon pod and have one or more of the daemon pod running and available (ready for at least spec.minReadySeconds)",
            ),
            col(
                "Node Selector",
                "string",
                0,
                "NodeSelector is a selector which must be true for the pod to fit on a node. Selector which must match a node's labels for the pod to be scheduled on that node. More info: https://kubernetes.io/docs/concepts/configuration/assign-pod-node/",
            ),
            AGE,
            col("Containers", "string", 1, "Names of each container in the template."),
            col("Images", "string", 1, "Images referenced by each container in the template."),
            col(
                "Selector",
                "string",
                1,
                "A label query over pods that are managed by the daemon set. Must match in order to be controlled. It must match the pod template's labels. More info: https://kubernetes.io/docs/concepts/overview/working-with-objects/labels/#label-selectors",
            ),
        ]
    }
    fn cells(&self, now: jiff::Timestamp) -> Vec<Value> {
        let st = self.status.clone().unwrap_or_default();
        let spec = self.spec.clone().unwrap_or_default();
        let ps = spec.template.spec.clone().unwrap_or_default();
        let ns = ps.node_selector.clone().unwrap_or_default();
        let ns = none_if_empty(ns.iter().map(|(k, v)| format!("{k}={v}")).collect::<Vec<_>>().join(","));
        vec![
            json!(self.metadata.name),
            json!(st.desired_number_scheduled),
            json!(st.current_number_scheduled),
            json!(st.number_ready),
            json!(st.updated_number_scheduled.unwrap_or(0)),
            json!(st.number_available.unwrap_or(0)),
            json!(ns),
            json!(age(self.metadata.creation_timestamp.as_ref(), now)),
            json!(ps.containers.iter().map(|c| c.name.clone()).collect::<Vec<_>>().join(",")),
            json!(ps.containers.iter().map(|c| c.image.clone().unwrap_or_default()).collect::<Vec<_>>().join(",")),
            json!(format_label_selector(&spec.selector)),
        ]
    }
}

/// `printLease`: the holder.
impl Tabular for k8s_openapi::api::coordination::v1::Lease {
    fn columns() -> Vec<Col> {
        vec![NAME, col("Holder", "string", 0, "The holder of the lease"), AGE]
    }
    fn cells(&self, now: jiff::Timestamp) -> Vec<Value> {
        let holder = self.spec.as_ref().and_then(|s| s.holder_identity.clone()).unwrap_or_default();
        vec![json!(self.metadata.name), json!(holder), json!(age(self.metadata.creation_timestamp.as_ref(), now))]
    }
}

impl Tabular for core::Namespace {
    fn columns() -> Vec<Col> {
        vec![NAME, col("Status", "string", 0, "The status of the namespace"), AGE]
    }
    fn cells(&self, now: jiff::Timestamp) -> Vec<Value> {
        vec![
            json!(self.metadata.name),
            json!(self.status.as_ref().and_then(|s| s.phase.clone()).unwrap_or_default()),
            json!(age(self.metadata.creation_timestamp.as_ref(), now)),
        ]
    }
}

impl Tabular for core::Event {
    fn columns() -> Vec<Col> {
        vec![
            col("Last Seen", "string", 0, "Time when this Event was last seen"),
            col("Type", "string", 0, "Type of this event (Normal, Warning), new types could be added in the future."),
            col(
                "Reason",
                "string",
                0,
                "Reason is why the action was taken. It is human-readable. This field can have at most 128 characters.",
            ),
            col("Object", "string", 0, "The object that this event is about."),
            col("Subobject", "string", 1, "The subobject that this event is about."),
            col("Source", "string", 1, "The component reporting this event. Should be a short machine understandable string."),
            col("Message", "string", 0, "A human-readable description of the status of this operation."),
            col("First Seen", "string", 1, "Time when this Event was first seen"),
            col("Count", "string", 1, "The number of times this event has occurred."),
            col("Name", "string", 1, "The name of this event"),
        ]
    }
    fn cells(&self, now: jiff::Timestamp) -> Vec<Value> {
        let io = &self.involved_object;
        let obj = format!("{}/{}", io.kind.clone().unwrap_or_default().to_lowercase(), io.name.clone().unwrap_or_default());
        let last = self.last_timestamp.as_ref().or(self.first_timestamp.as_ref()).or(self.metadata.creation_timestamp.as_ref());
        let src = self.source.as_ref().map(|s| {
            let c = s.component.clone().unwrap_or_default();
            match &s.host {
                Some(h) => format!("{c}, {h}"),
                None => c,
            }
        });
        vec![
            json!(age(last, now)),
            json!(self.type_),
            json!(self.reason),
            json!(obj),
            json!(io.field_path.clone().unwrap_or_default()),
            json!(src.unwrap_or_default()),
            json!(self.message.clone().unwrap_or_default().trim()),
            json!(age(self.first_timestamp.as_ref().or(self.metadata.creation_timestamp.as_ref()), now)),
            json!(self.count.unwrap_or(1).to_string()),
            json!(self.metadata.name),
        ]
    }
}

impl Tabular for core::Service {
    fn columns() -> Vec<Col> {
        vec![
            NAME,
            col("Type", "string", 0, "The type of the service"),
            col("Cluster-IP", "string", 0, "The cluster IP of the service"),
            col("External-IP", "string", 0, "The external IP of the service"),
            col("Port(s)", "string", 0, "The ports of the service"),
            AGE,
            col("Selector", "string", 1, "Route service traffic to pods with label keys and values matching this selector."),
        ]
    }
    fn cells(&self, now: jiff::Timestamp) -> Vec<Value> {
        let spec = self.spec.clone().unwrap_or_default();
        let ports: Vec<String> = spec
            .ports
            .iter()
            .flatten()
            .map(|p| {
                let np = p.node_port.map(|n| format!(":{n}")).unwrap_or_default();
                format!("{}{np}/{}", p.port, p.protocol.clone().unwrap_or_else(|| "TCP".into()))
            })
            .collect();
        let sel = spec.selector.clone().unwrap_or_default();
        vec![
            json!(self.metadata.name),
            json!(spec.type_.clone().unwrap_or_else(|| "ClusterIP".into())),
            json!(none_if_empty(spec.cluster_ip.clone().unwrap_or_default())),
            json!(none_if_empty(spec.external_ips.clone().unwrap_or_default().join(","))),
            json!(none_if_empty(ports.join(","))),
            json!(age(self.metadata.creation_timestamp.as_ref(), now)),
            json!(none_if_empty(sel.iter().map(|(k, v)| format!("{k}={v}")).collect::<Vec<_>>().join(","))),
        ]
    }
}

impl Tabular for apps::ControllerRevision {
    fn columns() -> Vec<Col> {
        vec![
            NAME,
            col("Controller", "string", 0, "Controller of the object"),
            col("Revision", "string", 0, "Revision represents the revision number of the ControllerRevision."),
            AGE,
        ]
    }
    fn cells(&self, now: jiff::Timestamp) -> Vec<Value> {
        let ctrl = self
            .metadata
            .owner_references
            .iter()
            .flatten()
            .find(|o| o.controller == Some(true))
            .map(|o| format!("{}.{}/{}", o.kind.to_lowercase(), o.api_version.split('/').next().unwrap_or(""), o.name))
            .unwrap_or_else(|| "<none>".into());
        vec![json!(self.metadata.name), json!(ctrl), json!(self.revision), json!(age(self.metadata.creation_timestamp.as_ref(), now))]
    }
}

impl Tabular for k8s_openapi::api::scheduling::v1::PriorityClass {
    fn columns() -> Vec<Col> {
        vec![
            NAME,
            col(
                "Value",
                "integer",
                0,
                "value represents the integer value of this priority class. This is the actual priority that pods receive when they have the name of this class in their pod spec.",
            ),
            col(
                "Global-Default",
                "boolean",
                0,
                "globalDefault specifies whether this PriorityClass should be considered as the default priority for pods that do not have any priority class. Only one PriorityClass can be marked as `globalDefault`. However, if more than one PriorityClasses exists with their `globalDefault` field set to true, the smallest value of such global default PriorityClasses will be used as the default priority.",
            ),
            AGE,
            col(
                "PreemptionPolicy",
                "string",
                0,
                "preemptionPolicy is the Policy for preempting pods with lower priority. One of Never, PreemptLowerPriority. Defaults to PreemptLowerPriority if unset.",
            ),
        ]
    }
    fn cells(&self, now: jiff::Timestamp) -> Vec<Value> {
        vec![
            json!(self.metadata.name),
            json!(self.value),
            json!(self.global_default.unwrap_or(false)),
            json!(age(self.metadata.creation_timestamp.as_ref(), now)),
            json!(self.preemption_policy.clone().unwrap_or_default()),
        ]
    }
}

/// `printPodDisruptionBudget`: N/A for the bound not set.
impl Tabular for k8s_openapi::api::policy::v1::PodDisruptionBudget {
    fn columns() -> Vec<Col> {
        vec![
            NAME,
            col("Min Available", "string", 0, "The minimum number of pods that must be available"),
            col("Max Unavailable", "string", 0, "The maximum number of pods that may be unavailable"),
            col("Allowed Disruptions", "integer", 0, "Calculated number of pods that may be disrupted at this time"),
            AGE,
        ]
    }
    fn cells(&self, now: jiff::Timestamp) -> Vec<Value> {
        let spec = self.spec.clone().unwrap_or_default();
        let bound = |v: Option<IntOrString>| match v {
            Some(IntOrString::Int(i)) => i.to_string(),
            Some(IntOrString::String(s)) => s,
            None => "N/A".into(),
        };
        vec![
            json!(self.metadata.name),
            json!(bound(spec.min_available)),
            json!(bound(spec.max_unavailable)),
            json!(self.status.as_ref().map_or(0, |s| s.disruptions_allowed)),
            json!(age(self.metadata.creation_timestamp.as_ref(), now)),
        ]
    }
}

pub fn column_json(cols: &[Col]) -> Value {
    Value::Array(
        cols.iter()
            .map(|c| {
                let format = if c.name == "Name" { "name" } else { "" };
                json!({"name": c.name, "type": c.ty, "format": format, "description": c.description, "priority": c.priority})
            })
            .collect(),
    )
}

/// `PartialObjectMetadata` of an object (what a Table row's `object` holds by default).
pub fn partial_metadata<T: SimObject>(o: &T) -> Value {
    json!({"kind": "PartialObjectMetadata", "apiVersion": "meta.k8s.io/v1", "metadata": o.metadata()})
}

//! The fake kubelet: node conditions and pod lifecycles as a real kubelet reports them.
//!
//! Everything here is a pure function of an object, its node and the clock, so the
//! next status of a pod can be computed (and tested) without any state on the side.
//! Behaviour is steered by annotations:
//! - pod or pod template: `sim.daemonscope.io/behavior` = `crash-loop` |
//!   `image-pull-error` | `config-error` | `never-ready`, `sim.daemonscope.io/start-delay`;
//! - node: `sim.daemonscope.io/pod-behavior` (same values, for every pod on it),
//!   `sim.daemonscope.io/node-state` = `not-ready` | `unreachable` | `disk-pressure` |
//!   `memory-pressure` | `pid-pressure` | `network-unavailable` (comma-separated).

use std::time::Duration;

use jiff::{SignedDuration, Timestamp};
use k8s_openapi::api::core::v1 as core;
use k8s_openapi::apimachinery::pkg::api::resource::Quantity;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;

pub const BEHAVIOR: &str = "sim.daemonscope.io/behavior";
pub const START_DELAY: &str = "sim.daemonscope.io/start-delay";
pub const NODE_POD_BEHAVIOR: &str = "sim.daemonscope.io/pod-behavior";
pub const NODE_STATE: &str = "sim.daemonscope.io/node-state";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Behavior {
    Normal,
    CrashLoop,
    ImagePullError,
    ConfigError,
    NeverReady,
}

impl Behavior {
    pub fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "normal" | "" => Behavior::Normal,
            "crash-loop" => Behavior::CrashLoop,
            "image-pull-error" => Behavior::ImagePullError,
            "config-error" => Behavior::ConfigError,
            "never-ready" => Behavior::NeverReady,
            _ => return None,
        })
    }
}

/// The pod's own annotation wins over its node's.
pub fn behavior_of(pod: &core::Pod, node: Option<&core::Node>) -> Behavior {
    let own = pod.metadata.annotations.as_ref().and_then(|a| a.get(BEHAVIOR)).and_then(|b| Behavior::parse(b));
    let from_node = || {
        let spec = node.and_then(|n| n.metadata.annotations.as_ref()).and_then(|a| a.get(NODE_POD_BEHAVIOR))?;
        node_behavior_for(spec, pod)
    };
    own.or_else(from_node).unwrap_or(Behavior::Normal)
}

/// A node's `pod-behavior`: either one value for every pod (`crash-loop`), or a list
/// naming the owning DaemonSet (`node-exporter=crash-loop,fluent-bit=image-pull-error`).
fn node_behavior_for(spec: &str, pod: &core::Pod) -> Option<Behavior> {
    if !spec.contains('=') {
        return Behavior::parse(spec.trim());
    }
    let owner = pod.metadata.owner_references.as_ref()?.iter().find(|o| o.controller == Some(true))?.name.clone();
    spec.split(',').filter_map(|kv| kv.split_once('=')).find(|(k, _)| k.trim() == owner).and_then(|(_, v)| Behavior::parse(v.trim()))
}

/// Parses `2s`, `500ms`, `1m30s`, `1h`.
pub fn parse_duration(s: &str) -> Option<Duration> {
    let s = s.trim();
    if s.is_empty() {
        return None;
    }
    let mut total = Duration::ZERO;
    let mut num = String::new();
    let mut chars = s.chars().peekable();
    while let Some(c) = chars.next() {
        if c.is_ascii_digit() || c == '.' {
            num.push(c);
            continue;
        }
        let mut unit = c.to_string();
        while let Some(&n) = chars.peek() {
            if n.is_ascii_alphabetic() {
                unit.push(n);
                chars.next();
            } else {
                break;
            }
        }
        let v: f64 = num.parse().ok()?;
        num.clear();
        let secs = match unit.as_str() {
            "ms" => v / 1000.0,
            "s" => v,
            "m" => v * 60.0,
            "h" => v * 3600.0,
            _ => return None,
        };
        total += Duration::from_secs_f64(secs);
    }
    if !num.is_empty() {
        return None;
    }
    Some(total)
}

#[derive(Debug, Clone)]
pub struct KubeletSettings {
    /// Bound → containers started.
    pub start_delay: Duration,
    /// Started → Ready.
    pub ready_delay: Duration,
    /// How long a deleted pod stays Terminating (capped by its grace period).
    pub termination: Duration,
    /// How long a crash-looping container runs before it exits.
    pub crash_after: Duration,
    /// First CrashLoopBackOff / ImagePullBackOff delay (real: 10 s, doubling to 5 min).
    pub backoff_base: Duration,
    pub kubelet_version: String,
}

impl Default for KubeletSettings {
    fn default() -> Self {
        KubeletSettings {
            start_delay: Duration::from_secs(2),
            ready_delay: Duration::from_secs(1),
            termination: Duration::from_secs(2),
            crash_after: Duration::from_secs(3),
            backoff_base: Duration::from_secs(10),
            kubelet_version: "v1.32.4".into(),
        }
    }
}

fn sd(d: Duration) -> SignedDuration {
    SignedDuration::try_from(d).unwrap_or(SignedDuration::ZERO)
}

fn node_states(node: &core::Node) -> Vec<String> {
    node.metadata
        .annotations
        .as_ref()
        .and_then(|a| a.get(NODE_STATE))
        .map(|s| s.split(',').map(|x| x.trim().to_string()).filter(|x| !x.is_empty()).collect())
        .unwrap_or_default()
}

/// Whether the kubelet on this node is alive enough to act on its pods.
pub fn kubelet_alive(node: &core::Node) -> bool {
    let st = node_states(node);
    !st.iter().any(|s| s == "not-ready" || s == "unreachable")
}

fn condition(ty: &str, status: &str, reason: &str, message: &str, now: &Time, prev: Option<&core::NodeCondition>) -> core::NodeCondition {
    let unchanged = prev.is_some_and(|p| p.status == status);
    core::NodeCondition {
        type_: ty.into(),
        status: status.into(),
        reason: Some(reason.into()),
        message: Some(message.into()),
        last_heartbeat_time: prev.filter(|_| unchanged).and_then(|p| p.last_heartbeat_time.clone()).or(Some(now.clone())),
        last_transition_time: prev.filter(|_| unchanged).and_then(|p| p.last_transition_time.clone()).or(Some(now.clone())),
    }
}

/// The node status a kubelet would report, or None if nothing changed.
pub fn node_status(node: &core::Node, settings: &KubeletSettings, now: Timestamp) -> Option<core::NodeStatus> {
    let cur = node.status.clone().unwrap_or_default();
    let mut st = cur.clone();
    let now_t = Time(now);
    let states = node_states(node);
    let has = |s: &str| states.iter().any(|x| x == s);
    let prev = |ty: &str| cur.conditions.as_ref().and_then(|c| c.iter().find(|c| c.type_ == ty)).cloned();
    let unreachable = has("unreachable");
    let mut conds = Vec::new();
    for (ty, on, reason_on, msg_on, reason_off, msg_off) in [
        (
            "MemoryPressure",
            has("memory-pressure"),
            "KubeletHasInsufficientMemory",
            "kubelet has insufficient memory available",
            "KubeletHasSufficientMemory",
            "kubelet has sufficient memory available",
        ),
        (
            "DiskPressure",
            has("disk-pressure"),
            "KubeletHasDiskPressure",
            "kubelet has disk pressure",
            "KubeletHasNoDiskPressure",
            "kubelet has no disk pressure",
        ),
        (
            "PIDPressure",
            has("pid-pressure"),
            "KubeletHasInsufficientPID",
            "kubelet has insufficient PID available",
            "KubeletHasSufficientPID",
            "kubelet has sufficient PID available",
        ),
    ] {
        let p = prev(ty);
        conds.push(if unreachable {
            condition(ty, "Unknown", "NodeStatusUnknown", "Kubelet stopped posting node status.", &now_t, p.as_ref())
        } else if on {
            condition(ty, "True", reason_on, msg_on, &now_t, p.as_ref())
        } else {
            condition(ty, "False", reason_off, msg_off, &now_t, p.as_ref())
        });
    }
    let p = prev("Ready");
    conds.push(if unreachable {
        condition("Ready", "Unknown", "NodeStatusUnknown", "Kubelet stopped posting node status.", &now_t, p.as_ref())
    } else if has("not-ready") {
        condition("Ready", "False", "KubeletNotReady", "container runtime network not ready: NetworkReady=false reason:NetworkPluginNotReady message:Network plugin returns error: cni plugin not initialized", &now_t, p.as_ref())
    } else {
        condition("Ready", "True", "KubeletReady", "kubelet is posting ready status", &now_t, p.as_ref())
    });
    if has("network-unavailable") || prev("NetworkUnavailable").is_some() {
        let p = prev("NetworkUnavailable");
        conds.insert(
            0,
            if has("network-unavailable") {
                condition("NetworkUnavailable", "True", "NoRouteCreated", "Node created without a route", &now_t, p.as_ref())
            } else {
                condition("NetworkUnavailable", "False", "RouteCreated", "RouteController created a route", &now_t, p.as_ref())
            },
        );
    }
    st.conditions = Some(conds);
    let name = node.metadata.name.clone().unwrap_or_default();
    if st.addresses.is_none() {
        let h = name.bytes().fold(0u32, |a, b| a.wrapping_mul(31).wrapping_add(b as u32));
        st.addresses = Some(vec![
            core::NodeAddress {
                type_: "InternalIP".into(),
                address: format!("10.{}.{}.{}", 10 + (h % 4), (h >> 8) % 256, 2 + (h >> 16) % 250),
            },
            core::NodeAddress { type_: "Hostname".into(), address: name.clone() },
        ]);
    }
    if st.node_info.is_none() {
        let arch = node.metadata.labels.as_ref().and_then(|l| l.get("kubernetes.io/arch")).cloned().unwrap_or_else(|| "amd64".into());
        st.node_info = Some(core::NodeSystemInfo {
            architecture: arch,
            boot_id: format!("boot-{name}"),
            container_runtime_version: "containerd://1.7.24".into(),
            kernel_version: "6.1.0-28-cloud-amd64".into(),
            kube_proxy_version: settings.kubelet_version.clone(),
            kubelet_version: settings.kubelet_version.clone(),
            machine_id: format!("{:032x}", name.len()),
            operating_system: "linux".into(),
            os_image: "Debian GNU/Linux 12 (bookworm)".into(),
            system_uuid: format!("sim-{name}"),
            swap: None,
        });
    }
    if st.capacity.is_none() {
        let cap: std::collections::BTreeMap<String, Quantity> =
            [("cpu", "8"), ("memory", "32863412Ki"), ("pods", "110"), ("ephemeral-storage", "102625208Ki")]
                .iter()
                .map(|(k, v)| (k.to_string(), Quantity(v.to_string())))
                .collect();
        st.allocatable = Some(cap.clone());
        st.capacity = Some(cap);
    }
    st.daemon_endpoints.get_or_insert_with(|| core::NodeDaemonEndpoints { kubelet_endpoint: Some(core::DaemonEndpoint { port: 10250 }) });
    (st != cur).then_some(st)
}

/// What the kubelet does to a pod at `now`.
#[derive(Debug, Clone, PartialEq)]
pub enum PodAction {
    Nothing,
    /// Write this status.
    Status(Box<core::PodStatus>),
    /// Termination finished: remove the object.
    Remove,
}

fn pod_condition(ty: &str, status: bool, now: &Time, prev: &[core::PodCondition], reason: Option<&str>) -> core::PodCondition {
    let s = if status { "True" } else { "False" };
    let old = prev.iter().find(|c| c.type_ == ty);
    let same = old.is_some_and(|c| c.status == s);
    core::PodCondition {
        type_: ty.into(),
        status: s.into(),
        last_transition_time: if same { old.and_then(|c| c.last_transition_time.clone()) } else { Some(now.clone()) },
        last_probe_time: None,
        reason: if status { None } else { reason.map(String::from) },
        message: None,
        observed_generation: None,
    }
}

fn scheduled_at(pod: &core::Pod) -> Option<Timestamp> {
    let conds = pod.status.as_ref()?.conditions.as_ref();
    conds
        .and_then(|c| c.iter().find(|c| c.type_ == "PodScheduled" && c.status == "True"))
        .and_then(|c| c.last_transition_time.clone())
        .map(|t| t.0)
        .or_else(|| pod.metadata.creation_timestamp.as_ref().map(|t| t.0))
}

fn pod_ip(pod: &core::Pod, node: &core::Node) -> String {
    if pod.spec.as_ref().and_then(|s| s.host_network).unwrap_or(false) {
        return node_ip(node);
    }
    let uid = pod.metadata.uid.clone().unwrap_or_default();
    let h = uid.bytes().fold(7u32, |a, b| a.wrapping_mul(131).wrapping_add(b as u32));
    format!("10.244.{}.{}", (h >> 8) % 256, 2 + h % 250)
}

pub fn node_ip(node: &core::Node) -> String {
    node.status
        .as_ref()
        .and_then(|s| s.addresses.as_ref())
        .and_then(|a| a.iter().find(|a| a.type_ == "InternalIP"))
        .map(|a| a.address.clone())
        .unwrap_or_default()
}

fn backoff(settings: &KubeletSettings, restarts: i32) -> SignedDuration {
    let base = settings.backoff_base.as_secs_f64();
    let d = (base * 2f64.powi((restarts - 1).clamp(0, 10))).min(300.0_f64.max(base));
    SignedDuration::from_secs_f64(d)
}

/// The kubelet's next step for a bound pod on `node`.
pub fn pod_step(pod: &core::Pod, node: &core::Node, settings: &KubeletSettings, now: Timestamp) -> PodAction {
    if !kubelet_alive(node) {
        return PodAction::Nothing;
    }
    if let Some(del) = &pod.metadata.deletion_timestamp {
        let grace = pod.metadata.deletion_grace_period_seconds.unwrap_or(0);
        let began = del.0 - SignedDuration::from_secs(grace);
        let took = sd(settings.termination).min(SignedDuration::from_secs(grace));
        return if now >= began + took { PodAction::Remove } else { PodAction::Nothing };
    }
    let spec = pod.spec.clone().unwrap_or_default();
    let cur = pod.status.clone().unwrap_or_default();
    let phase = cur.phase.clone().unwrap_or_default();
    if phase == "Succeeded" || phase == "Failed" {
        return PodAction::Nothing;
    }
    let now_t = Time(now);
    let behavior = behavior_of(pod, Some(node));
    let start_delay =
        pod.metadata.annotations.as_ref().and_then(|a| a.get(START_DELAY)).and_then(|d| parse_duration(d)).unwrap_or(settings.start_delay);
    let bound_at = scheduled_at(pod).unwrap_or(now);
    let started = now >= bound_at + sd(start_delay);
    let mut st = cur.clone();
    st.host_ip.get_or_insert_with(|| node_ip(node));
    st.host_ips.get_or_insert_with(|| vec![core::HostIP { ip: node_ip(node) }]);
    st.start_time.get_or_insert_with(|| Time(bound_at));
    let prev_conds = cur.conditions.clone().unwrap_or_default();
    let prev_cs = cur.container_statuses.clone().unwrap_or_default();
    let mut all_ready = true;
    let mut any_running = false;
    let mut statuses = Vec::new();
    for c in &spec.containers {
        let prev = prev_cs.iter().find(|s| s.name == c.name).cloned();
        let image = c.image.clone().unwrap_or_default();
        let mut cs = prev.clone().unwrap_or(core::ContainerStatus {
            name: c.name.clone(),
            image: image.clone(),
            image_id: String::new(),
            ready: false,
            restart_count: 0,
            started: Some(false),
            state: Some(core::ContainerState {
                waiting: Some(core::ContainerStateWaiting { reason: Some("ContainerCreating".into()), message: None }),
                ..Default::default()
            }),
            ..Default::default()
        });
        let waiting = |reason: &str, message: Option<String>| core::ContainerState {
            waiting: Some(core::ContainerStateWaiting { reason: Some(reason.into()), message }),
            ..Default::default()
        };
        if started {
            match behavior {
                Behavior::ImagePullError => {
                    // ErrImagePull right after each attempt, ImagePullBackOff while waiting.
                    let since = now.duration_since(bound_at + sd(start_delay)).as_secs_f64();
                    let period = settings.backoff_base.as_secs_f64().max(1.0);
                    let in_backoff = (since % period) > 2.0_f64.min(period / 2.0);
                    cs.state = Some(if in_backoff {
                        waiting("ImagePullBackOff", Some(format!("Back-off pulling image \"{image}\"")))
                    } else {
                        waiting(
                            "ErrImagePull",
                            Some(format!(
                                "failed to pull and unpack image \"{image}\": failed to resolve reference \"{image}\": {image}: not found"
                            )),
                        )
                    });
                    cs.ready = false;
                    cs.started = Some(false);
                }
                Behavior::ConfigError => {
                    cs.state = Some(waiting("CreateContainerConfigError", Some(format!("configmap \"{}-config\" not found", c.name))));
                    cs.ready = false;
                    cs.started = Some(false);
                }
                Behavior::CrashLoop => {
                    let st_ = cs.state.clone().unwrap_or_default();
                    if let Some(r) = &st_.running {
                        let since = r.started_at.as_ref().map(|t| t.0).unwrap_or(now);
                        if now >= since + sd(settings.crash_after) {
                            cs.restart_count += 1;
                            cs.last_state = Some(core::ContainerState {
                                terminated: Some(core::ContainerStateTerminated {
                                    exit_code: 1,
                                    reason: Some("Error".into()),
                                    started_at: Some(Time(since)),
                                    finished_at: Some(now_t.clone()),
                                    container_id: cs.container_id.clone(),
                                    ..Default::default()
                                }),
                                ..Default::default()
                            });
                            cs.state = Some(waiting(
                                "CrashLoopBackOff",
                                Some(format!(
                                    "back-off {} restarting failed container={} pod={}",
                                    human(backoff(settings, cs.restart_count)),
                                    c.name,
                                    pod.metadata.name.clone().unwrap_or_default()
                                )),
                            ));
                        }
                    } else {
                        let last_exit =
                            cs.last_state.as_ref().and_then(|l| l.terminated.as_ref()).and_then(|t| t.finished_at.clone()).map(|t| t.0);
                        let may_start = match last_exit {
                            None => true,
                            Some(t) => now >= t + backoff(settings, cs.restart_count),
                        };
                        if may_start {
                            cs.state = Some(core::ContainerState {
                                running: Some(core::ContainerStateRunning { started_at: Some(now_t.clone()) }),
                                ..Default::default()
                            });
                        }
                    }
                    cs.ready = false;
                    cs.started = Some(cs.state.as_ref().is_some_and(|s| s.running.is_some()));
                    any_running |= cs.started == Some(true);
                }
                Behavior::Normal | Behavior::NeverReady => {
                    let run_since = match cs.state.as_ref().and_then(|s| s.running.as_ref()) {
                        Some(r) => r.started_at.as_ref().map(|t| t.0).unwrap_or(now),
                        None => {
                            let t = bound_at + sd(start_delay);
                            cs.state = Some(core::ContainerState {
                                running: Some(core::ContainerStateRunning { started_at: Some(Time(t)) }),
                                ..Default::default()
                            });
                            t
                        }
                    };
                    cs.started = Some(true);
                    cs.ready = behavior == Behavior::Normal && now >= run_since + sd(settings.ready_delay);
                    any_running = true;
                }
            }
            if cs.container_id.is_none() && cs.state.as_ref().is_some_and(|s| s.running.is_some()) {
                cs.container_id = Some(format!(
                    "containerd://{:064x}",
                    (pod.metadata.uid.clone().unwrap_or_default() + &c.name)
                        .bytes()
                        .fold(0u128, |a, b| a.wrapping_mul(257).wrapping_add(b as u128))
                ));
                cs.image_id = format!("{}@sha256:{:064x}", image.split(':').next().unwrap_or(""), image.len() * 7919);
            }
        }
        all_ready &= cs.ready;
        statuses.push(cs);
    }
    let ready = started && all_ready && !statuses.is_empty();
    st.phase = Some(
        if any_running || (started && matches!(behavior, Behavior::Normal | Behavior::NeverReady)) { "Running" } else { "Pending" }.into(),
    );
    if any_running {
        st.pod_ip.get_or_insert_with(|| pod_ip(pod, node));
        st.pod_ips.get_or_insert_with(|| vec![core::PodIP { ip: pod_ip(pod, node) }]);
    }
    st.container_statuses = Some(statuses);
    st.conditions = Some(vec![
        pod_condition("PodReadyToStartContainers", true, &now_t, &prev_conds, None),
        pod_condition("Initialized", true, &now_t, &prev_conds, None),
        pod_condition("Ready", ready, &now_t, &prev_conds, Some("ContainersNotReady")),
        pod_condition("ContainersReady", ready, &now_t, &prev_conds, Some("ContainersNotReady")),
        prev_conds
            .iter()
            .find(|c| c.type_ == "PodScheduled")
            .cloned()
            .unwrap_or_else(|| pod_condition("PodScheduled", true, &now_t, &prev_conds, None)),
    ]);
    if st == cur { PodAction::Nothing } else { PodAction::Status(Box::new(st)) }
}

fn human(d: SignedDuration) -> String {
    let s = d.as_secs();
    if s >= 60 && s % 60 == 0 {
        format!("{}m0s", s / 60)
    } else if s >= 60 {
        format!("{}m{}s", s / 60, s % 60)
    } else {
        format!("{s}s")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
    use std::collections::BTreeMap;

    fn node(annotations: &[(&str, &str)]) -> core::Node {
        core::Node {
            metadata: ObjectMeta {
                name: Some("n1".into()),
                annotations: Some(annotations.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect::<BTreeMap<_, _>>()),
                ..Default::default()
            },
            ..Default::default()
        }
    }

    fn pod(behavior: Option<&str>, bound_at: Timestamp) -> core::Pod {
        let mut ann = BTreeMap::new();
        if let Some(b) = behavior {
            ann.insert(BEHAVIOR.to_string(), b.to_string());
        }
        core::Pod {
            metadata: ObjectMeta {
                name: Some("p".into()),
                uid: Some("u1".into()),
                annotations: Some(ann),
                creation_timestamp: Some(Time(bound_at)),
                ..Default::default()
            },
            spec: Some(core::PodSpec {
                node_name: Some("n1".into()),
                containers: vec![core::Container {
                    name: "agent".into(),
                    image: Some("registry.example/agent:v2".into()),
                    ..Default::default()
                }],
                ..Default::default()
            }),
            status: Some(core::PodStatus { phase: Some("Pending".into()), ..Default::default() }),
        }
    }

    /// Runs the kubelet on `p` at each of `times` (seconds after bind).
    fn run(mut p: core::Pod, n: &core::Node, t0: Timestamp, times: &[i64]) -> core::Pod {
        let s = KubeletSettings::default();
        for t in times {
            if let PodAction::Status(st) = pod_step(&p, n, &s, t0 + SignedDuration::from_secs(*t)) {
                p.status = Some(*st);
            }
        }
        p
    }

    fn waiting_reason(p: &core::Pod) -> Option<String> {
        p.status.as_ref()?.container_statuses.as_ref()?[0].state.as_ref()?.waiting.as_ref()?.reason.clone()
    }

    fn ready(p: &core::Pod) -> bool {
        p.status.as_ref().unwrap().conditions.as_ref().unwrap().iter().any(|c| c.type_ == "Ready" && c.status == "True")
    }

    #[test]
    fn normal_pod_becomes_ready() {
        let t0 = Timestamp::now();
        let n = node(&[]);
        let p = run(pod(None, t0), &n, t0, &[0]);
        assert_eq!(waiting_reason(&p).as_deref(), Some("ContainerCreating"));
        assert!(!ready(&p));
        let p = run(p, &n, t0, &[2, 3]);
        assert!(ready(&p));
        assert_eq!(p.status.unwrap().phase.as_deref(), Some("Running"));
    }

    #[test]
    fn failure_behaviours_look_like_a_kubelet() {
        let t0 = Timestamp::now();
        let n = node(&[]);
        let p = run(pod(Some("crash-loop"), t0), &n, t0, &[0, 2, 5, 6]);
        assert_eq!(waiting_reason(&p).as_deref(), Some("CrashLoopBackOff"));
        assert_eq!(p.status.as_ref().unwrap().container_statuses.as_ref().unwrap()[0].restart_count, 1);
        let p = run(p, &n, t0, &[16, 19, 20, 40, 43, 44]);
        assert!(p.status.as_ref().unwrap().container_statuses.as_ref().unwrap()[0].restart_count >= 2, "restarts keep rising");
        assert!(!ready(&p));
        let p = run(pod(Some("image-pull-error"), t0), &n, t0, &[0, 3]);
        assert_eq!(waiting_reason(&p).as_deref(), Some("ErrImagePull"));
        let p = run(p, &n, t0, &[8]);
        assert_eq!(waiting_reason(&p).as_deref(), Some("ImagePullBackOff"));
        assert_eq!(p.status.as_ref().unwrap().phase.as_deref(), Some("Pending"));
        let p = run(pod(Some("config-error"), t0), &n, t0, &[0, 3]);
        assert_eq!(waiting_reason(&p).as_deref(), Some("CreateContainerConfigError"));
        let p = run(pod(Some("never-ready"), t0), &n, t0, &[0, 3, 30]);
        assert!(!ready(&p));
        assert_eq!(p.status.as_ref().unwrap().phase.as_deref(), Some("Running"));
    }

    #[test]
    fn node_annotation_steers_every_pod_and_dead_kubelet_does_nothing() {
        let t0 = Timestamp::now();
        let p = run(pod(None, t0), &node(&[(NODE_POD_BEHAVIOR, "config-error")]), t0, &[0, 3]);
        assert_eq!(waiting_reason(&p).as_deref(), Some("CreateContainerConfigError"));
        let dead = node(&[(NODE_STATE, "not-ready")]);
        assert_eq!(pod_step(&pod(None, t0), &dead, &KubeletSettings::default(), t0), PodAction::Nothing);
        let st = node_status(&dead, &KubeletSettings::default(), t0).unwrap();
        let r = st.conditions.unwrap().into_iter().find(|c| c.type_ == "Ready").unwrap();
        assert_eq!(r.status, "False");
    }

    #[test]
    fn durations() {
        assert_eq!(parse_duration("1m30s"), Some(Duration::from_secs(90)));
        assert_eq!(parse_duration("500ms"), Some(Duration::from_millis(500)));
        assert_eq!(parse_duration("abc"), None);
        assert_eq!(parse_duration("5"), None);
    }
}

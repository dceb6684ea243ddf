//! The pod half of the fake kubelet: a bound pod's next status (containers starting,
//! becoming ready, crash-looping, failing to pull or configure) and its termination.
//!
//! An image the simulated registry does not know fails to pull whatever the pod's
//! behaviour, container by container, exactly as `image-pull-error` does: the real
//! kubelet pulls (`EnsureImageExists`) before it creates the container, and a failed
//! pull of one container does not stop the others (`kuberuntime_manager.go` `SyncPod`).
//!
//! May import: `sim::kubelet::{settings, node, registry}`.

use std::time::Duration;

use jiff::{SignedDuration, Timestamp};
use k8s_openapi::api::core::v1 as core;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;

use super::node::{kubelet_alive, node_ip};
use super::registry::{not_found_message, with_default_tag};
use super::settings::{Behavior, KubeletSettings, START_DELAY, behavior_of, image_backoff, parse_duration};

fn sd(d: Duration) -> SignedDuration {
    SignedDuration::try_from(d).unwrap_or(SignedDuration::ZERO)
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
    pod_ip_of(pod.metadata.uid.as_deref().unwrap_or_default())
}

/// The containerID the kubelet reports for a container of the pod of this uid.
pub fn container_id_of(uid: &str, container: &str) -> String {
    format!("containerd://{:064x}", uid.bytes().chain(container.bytes()).fold(0u128, |a, b| a.wrapping_mul(257).wrapping_add(b as u128)))
}

/// The IP the kubelet gives a pod of this uid (not on the host's network).
pub fn pod_ip_of(uid: &str) -> String {
    let h = uid.bytes().fold(7u32, |a, b| a.wrapping_mul(131).wrapping_add(b as u32));
    format!("10.244.{}.{}", (h >> 8) % 256, 2 + h % 250)
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
    // The images are pulled first (ContainerCreating meanwhile), then the containers start.
    let start_delay = start_delay + settings.pull_time(pod);
    let started = now >= bound_at + sd(start_delay);
    let mut st = cur.clone();
    st.host_ip.get_or_insert_with(|| node_ip(node));
    st.host_ips.get_or_insert_with(|| vec![core::HostIP { ip: node_ip(node) }]);
    st.start_time.get_or_insert(Time(bound_at));
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
            // A pull the registry cannot serve fails, whatever else the pod would do.
            let behavior = if settings.registry.has(&image) { behavior } else { Behavior::ImagePullError };
            match behavior {
                Behavior::ImagePullError => {
                    let since = now.duration_since(bound_at + sd(start_delay)).unsigned_abs();
                    cs.state = Some(image_pull_state(settings, &image, since));
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
                cs.container_id = Some(container_id_of(pod.metadata.uid.as_deref().unwrap_or_default(), &c.name));
                cs.image_id = format!("{}@sha256:{:064x}", image.split(':').next().unwrap_or(""), image.len() * 7919);
            }
        }
        all_ready &= cs.ready;
        statuses.push(cs);
    }
    let ready = started && all_ready && !statuses.is_empty();
    // The kubelet's getPhase: Running once a container runs, or has run and is waiting to
    // restart (restartPolicy Always): a crash-looping pod is Running, not Pending.
    let has_run = statuses.iter().any(|s| s.restart_count > 0 || s.last_state.as_ref().is_some_and(|l| l.terminated.is_some()));
    // A pod none of whose containers has run (every pull failing) stays Pending.
    st.phase = Some(if any_running || has_run { "Running" } else { "Pending" }.into());
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

/// A container whose image cannot be pulled, `since` after its first pull: the kubelet
/// pulls, fails (`ErrImagePull`, the CRI error as the message: `evalCRIPullErr` in
/// pkg/kubelet/images/image_manager.go), then answers every sync with
/// `ImagePullBackOff` / `Back-off pulling image "X"` until its back-off
/// ([`image_backoff`]: 10 s doubling to 300 s) lets it pull again. Each failed pull shows
/// as `ErrImagePull` for one short sync interval (2 s, or the back-off base if shorter).
fn image_pull_state(settings: &KubeletSettings, image: &str, since: Duration) -> core::ContainerState {
    let mut attempt = Duration::ZERO;
    let mut failures = 1;
    loop {
        let next = attempt + image_backoff(settings, failures);
        if since < next {
            break;
        }
        attempt = next;
        failures += 1;
    }
    let window = Duration::from_secs(2).min(settings.backoff_base);
    let (reason, message) = if since - attempt < window {
        ("ErrImagePull", not_found_message(image))
    } else {
        ("ImagePullBackOff", format!("Back-off pulling image \"{}\"", with_default_tag(image)))
    };
    core::ContainerState {
        waiting: Some(core::ContainerStateWaiting { reason: Some(reason.into()), message: Some(message) }),
        ..Default::default()
    }
}

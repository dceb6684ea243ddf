//! The Events a kubelet records, derived from a status change: what a real kubelet says
//! when it pulls, creates and starts a container, backs off a crash loop or an image
//! pull, or fails to create a container; and what it (or the node controller) says when a
//! node's Ready condition or schedulability changes. Pure: old object in, events out.
//!
//! May import: `sim::kubelet::registry`.

use k8s_openapi::api::core::v1 as core;

use super::registry::with_default_tag;

/// One Event to record: type (`Normal`/`Warning`), reason, message, and the component
/// that reports it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KubeletEvent {
    pub type_: &'static str,
    pub reason: &'static str,
    pub message: String,
    pub source: &'static str,
}

fn ev(type_: &'static str, reason: &'static str, message: String) -> KubeletEvent {
    KubeletEvent { type_, reason, message, source: "kubelet" }
}

fn waiting(s: Option<&core::ContainerState>) -> Option<&str> {
    s?.waiting.as_ref()?.reason.as_deref()
}

fn running(s: Option<&core::ContainerState>) -> bool {
    s.is_some_and(|s| s.running.is_some())
}

/// Events for `pod` going from its current status to `new`, container by container
/// (`kuberuntime_container.go`, `images/image_manager.go`).
pub fn pod_events(pod: &core::Pod, new: &core::PodStatus) -> Vec<KubeletEvent> {
    let old: Vec<core::ContainerStatus> = pod.status.as_ref().and_then(|s| s.container_statuses.clone()).unwrap_or_default();
    let name = pod.metadata.name.as_deref().unwrap_or_default();
    let ns = pod.metadata.namespace.as_deref().unwrap_or_default();
    let uid = pod.metadata.uid.as_deref().unwrap_or_default();
    let mut out = Vec::new();
    for c in new.container_statuses.iter().flatten() {
        let before = old.iter().find(|o| o.name == c.name);
        let (was, now) = (before.and_then(|b| b.state.as_ref()), c.state.as_ref());
        // The kubelet names the image with its default tag (`applyDefaultImageTag`).
        let image = &with_default_tag(&c.image);
        let restarted = before.is_some_and(|b| c.restart_count > b.restart_count) || c.restart_count > 0;
        if running(now) && !running(was) {
            if restarted {
                out.push(ev("Normal", "Pulled", format!("Container image \"{image}\" already present on machine")));
            } else {
                out.push(ev("Normal", "Pulling", format!("Pulling image \"{image}\"")));
                out.push(ev("Normal", "Pulled", format!("Successfully pulled image \"{image}\"")));
            }
            out.push(ev("Normal", "Created", format!("Created container: {}", c.name)));
            out.push(ev("Normal", "Started", format!("Started container {}", c.name)));
        }
        let (w_was, w_now) = (waiting(was), waiting(now));
        if w_now == w_was {
            continue;
        }
        let message = now.and_then(|s| s.waiting.as_ref()).and_then(|w| w.message.clone()).unwrap_or_default();
        match w_now {
            Some("CrashLoopBackOff") => {
                out.push(ev("Warning", "BackOff", format!("Back-off restarting failed container {} in pod {name}_{ns}({uid})", c.name)))
            }
            // Reasons from pkg/kubelet/events/event.go (PullingImage "Pulling",
            // FailedToPullImage and FailedToCreateContainer "Failed", BackOffPullImage
            // "BackOff"); messages from images/image_manager.go `EnsureImageExists` and
            // kuberuntime_container.go `startContainer` ("Error: %v").
            Some("ErrImagePull") => {
                out.push(ev("Normal", "Pulling", format!("Pulling image \"{image}\"")));
                out.push(ev("Warning", "Failed", format!("Failed to pull image \"{image}\": {message}")));
                out.push(ev("Warning", "Failed", "Error: ErrImagePull".into()));
            }
            Some("ImagePullBackOff") => {
                out.push(ev("Normal", "BackOff", format!("Back-off pulling image \"{image}\"")));
                out.push(ev("Warning", "Failed", "Error: ImagePullBackOff".into()));
            }
            Some("CreateContainerConfigError") => out.push(ev("Warning", "Failed", format!("Error: {message}"))),
            _ => {}
        }
    }
    out
}

/// `Killing`, as the kubelet says it when a pod's termination begins.
pub fn killing(pod: &core::Pod) -> Vec<KubeletEvent> {
    pod.spec.iter().flat_map(|s| &s.containers).map(|c| ev("Normal", "Killing", format!("Stopping container {}", c.name))).collect()
}

fn ready_status(n: &core::NodeStatus) -> Option<&str> {
    n.conditions.as_ref()?.iter().find(|c| c.type_ == "Ready").map(|c| c.status.as_str())
}

/// Events for a node whose status goes from `old` to `new`: `NodeReady` /
/// `NodeNotReady` from the kubelet, and `NodeNotReady` from the node controller when the
/// kubelet stopped posting (Ready=Unknown).
pub fn node_status_events(name: &str, old: Option<&core::NodeStatus>, new: &core::NodeStatus) -> Vec<KubeletEvent> {
    let (was, now) = (old.and_then(ready_status), ready_status(new));
    if was == now {
        return Vec::new();
    }
    let status = |s: &str| format!("Node {name} status is now: {s}");
    match now {
        Some("True") => vec![ev("Normal", "NodeReady", status("NodeReady"))],
        Some("False") => vec![ev("Normal", "NodeNotReady", status("NodeNotReady"))],
        Some("Unknown") => {
            vec![KubeletEvent { type_: "Normal", reason: "NodeNotReady", message: status("NodeNotReady"), source: "node-controller" }]
        }
        _ => Vec::new(),
    }
}

/// `NodeSchedulable` / `NodeNotSchedulable`, as the kubelet says it when it sees
/// `spec.unschedulable` change (a cordon or an uncordon).
pub fn schedulable_event(name: &str, unschedulable: bool) -> KubeletEvent {
    let s = if unschedulable { "NodeNotSchedulable" } else { "NodeSchedulable" };
    ev("Normal", s, format!("Node {name} status is now: {s}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn status(state: core::ContainerState, restarts: i32) -> core::PodStatus {
        core::PodStatus {
            container_statuses: Some(vec![core::ContainerStatus {
                name: "agent".into(),
                image: "registry.example/agent:v2".into(),
                restart_count: restarts,
                state: Some(state),
                ..Default::default()
            }]),
            ..Default::default()
        }
    }

    fn waiting(reason: &str) -> core::ContainerState {
        core::ContainerState {
            waiting: Some(core::ContainerStateWaiting { reason: Some(reason.into()), message: Some("the message".into()) }),
            ..Default::default()
        }
    }

    fn running() -> core::ContainerState {
        core::ContainerState { running: Some(Default::default()), ..Default::default() }
    }

    fn pod(st: core::PodStatus) -> core::Pod {
        core::Pod {
            metadata: k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta {
                name: Some("agent-x".into()),
                namespace: Some("kube-system".into()),
                uid: Some("u1".into()),
                ..Default::default()
            },
            status: Some(st),
            ..Default::default()
        }
    }

    fn reasons(v: &[KubeletEvent]) -> Vec<&str> {
        v.iter().map(|e| e.reason).collect()
    }

    #[test]
    fn container_lifecycles_say_what_a_kubelet_says() {
        let creating = pod(status(waiting("ContainerCreating"), 0));
        assert_eq!(reasons(&pod_events(&creating, &status(running(), 0))), vec!["Pulling", "Pulled", "Created", "Started"]);
        let up = pod(status(running(), 0));
        let crash = pod_events(&up, &status(waiting("CrashLoopBackOff"), 1));
        assert_eq!(crash[0].message, "Back-off restarting failed container agent in pod agent-x_kube-system(u1)");
        assert_eq!((crash[0].type_, crash[0].reason), ("Warning", "BackOff"));
        let backing_off = pod(status(waiting("CrashLoopBackOff"), 1));
        assert_eq!(reasons(&pod_events(&backing_off, &status(running(), 1))), vec!["Pulled", "Created", "Started"]);
        assert!(pod_events(&backing_off, &status(waiting("CrashLoopBackOff"), 1)).is_empty(), "no change, no event");
        let pull = pod_events(&creating, &status(waiting("ErrImagePull"), 0));
        assert_eq!(reasons(&pull), vec!["Pulling", "Failed", "Failed"]);
        assert_eq!(pull[1].message, "Failed to pull image \"registry.example/agent:v2\": the message");
        let off = pod_events(&pod(status(waiting("ErrImagePull"), 0)), &status(waiting("ImagePullBackOff"), 0));
        assert_eq!(reasons(&off), vec!["BackOff", "Failed"]);
    }

    #[test]
    fn node_changes_are_reported_by_the_kubelet_or_the_node_controller() {
        let st = |s: &str| core::NodeStatus {
            conditions: Some(vec![core::NodeCondition { type_: "Ready".into(), status: s.into(), ..Default::default() }]),
            ..Default::default()
        };
        let down = node_status_events("n1", Some(&st("True")), &st("False"));
        assert_eq!(
            (down[0].reason, down[0].message.as_str(), down[0].source),
            ("NodeNotReady", "Node n1 status is now: NodeNotReady", "kubelet")
        );
        assert_eq!(node_status_events("n1", Some(&st("True")), &st("Unknown"))[0].source, "node-controller");
        assert_eq!(node_status_events("n1", Some(&st("False")), &st("True"))[0].reason, "NodeReady");
        assert!(node_status_events("n1", Some(&st("True")), &st("True")).is_empty());
        assert_eq!(schedulable_event("n1", true).message, "Node n1 status is now: NodeNotSchedulable");
    }
}

//! What steers the fake kubelet: its settings (delays, backoff, version), the
//! `sim.daemonscope.io/*` annotations and the behaviours they name, and the simple
//! duration syntax (`2s`, `500ms`, `1m30s`) that scenarios and annotations use.
//!
//! May import: `sim::kubelet::registry`, `k8s::scenario` (the annotations, shared with
//! `snapshot`).

use std::time::Duration;

use k8s_openapi::api::core::v1 as core;

use super::registry::Registry;

use crate::k8s::scenario::behavior;
pub use crate::k8s::scenario::{BEHAVIOR, NODE_POD_BEHAVIOR, NODE_STATE, READY_AFTER, REMOVES_TAINT, START_DELAY};

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
            behavior::NORMAL | "" => Behavior::Normal,
            behavior::CRASH_LOOP => Behavior::CrashLoop,
            behavior::IMAGE_PULL_ERROR => Behavior::ImagePullError,
            behavior::CONFIG_ERROR => Behavior::ConfigError,
            behavior::NEVER_READY => Behavior::NeverReady,
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
    /// The images a pull finds; any other fails with `ErrImagePull`.
    pub registry: Registry,
    /// How long a pull of an image takes (an image or a glob, as in the registry; the
    /// first match wins); any other image pulls at once.
    pub pull_durations: Vec<(String, Duration)>,
}

impl KubeletSettings {
    /// How long the kubelet pulls the pod's images before its containers start: the sum
    /// over its containers, as the kubelet pulls one image at a time by default
    /// (`serializeImagePulls: true`; `serialImagePuller` in pkg/kubelet/images/puller.go).
    /// The simulated nodes keep no image cache, so every pod pulls.
    pub fn pull_time(&self, pod: &core::Pod) -> Duration {
        let images = pod.spec.iter().flat_map(|s| s.init_containers.iter().flatten().chain(s.containers.iter()));
        images
            .filter_map(|c| c.image.as_deref())
            .map(|i| self.pull_durations.iter().find(|(p, _)| super::registry::matches(p, i)).map(|(_, d)| *d).unwrap_or_default())
            .sum()
    }
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
            registry: Registry::default(),
            pull_durations: Vec::new(),
        }
    }
}

/// The kubelet's image pull back-off after `failures` failed pulls: `backoff_base`,
/// doubling, capped at 30 × `backoff_base`. The real kubelet's is
/// `flowcontrol.NewBackOff(imageBackOffPeriod, MaxImageBackOff)`, 10 s doubling to 300 s
/// (`pkg/kubelet/kubelet.go`; `Backoff.Next` in client-go `util/flowcontrol/backoff.go`
/// doubles and clamps); the cap scales with the base so shortened test settings keep
/// the same shape.
pub fn image_backoff(settings: &KubeletSettings, failures: u32) -> Duration {
    let base = settings.backoff_base.max(Duration::from_millis(100));
    let cap = base * 30;
    base.saturating_mul(1u32 << failures.saturating_sub(1).min(16)).min(cap)
}

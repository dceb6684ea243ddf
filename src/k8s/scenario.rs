//! The simulator's scenario schema, written once for both sides: the simulator reads it
//! (`sim::scenario`, the fake kubelet in `sim::kubelet`) and `daemonscope snapshot` writes
//! it (`cluster::snapshot`), so a snapshot of a cluster is a scenario the simulator loads.
//! Here: the `Simulation` document's apiVersion and kind, the `sim.daemonscope.io/*`
//! annotations that steer the kubelet, and the words they take.
//!
//! May import: nothing of ours outside `k8s/`.

/// The `Simulation` document of a scenario file: `apiVersion` and `kind`.
pub const API_VERSION: &str = "sim.daemonscope.io/v1alpha1";
pub const KIND: &str = "Simulation";

/// On a pod or pod template: how its containers behave ([`behavior`]).
pub const BEHAVIOR: &str = "sim.daemonscope.io/behavior";
/// On a pod or pod template: how long its containers take to start (`2s`, `500ms`).
pub const START_DELAY: &str = "sim.daemonscope.io/start-delay";
/// On a node: how every pod on it behaves — one [`behavior`] word, or per owning
/// DaemonSet (`node-exporter=crash-loop,fluent-bit=image-pull-error`).
pub const NODE_POD_BEHAVIOR: &str = "sim.daemonscope.io/pod-behavior";
/// On a node: its kubelet's state, a comma-separated list of [`node_state`] words.
pub const NODE_STATE: &str = "sim.daemonscope.io/node-state";
/// On a node: its kubelet reports `Ready=False` until this long after the node's
/// creationTimestamp (`30s`), as a joining node's does until its runtime and network are up.
pub const READY_AFTER: &str = "sim.daemonscope.io/ready-after";
/// On a pod or pod template: the startup taint (`key[=value]:Effect`) this daemon takes
/// off its node once its pod there is Ready, as cilium-operator does with
/// `node.cilium.io/agent-not-ready`; joined nodes are created with it.
pub const REMOVES_TAINT: &str = "sim.daemonscope.io/removes-taint";

/// The values of [`BEHAVIOR`] and [`NODE_POD_BEHAVIOR`].
pub mod behavior {
    /// As a kubelet runs it (also the empty value).
    pub const NORMAL: &str = "normal";
    /// Exits soon after starting: `CrashLoopBackOff`.
    pub const CRASH_LOOP: &str = "crash-loop";
    /// `ErrImagePull`, then `ImagePullBackOff`.
    pub const IMAGE_PULL_ERROR: &str = "image-pull-error";
    /// `CreateContainerConfigError`.
    pub const CONFIG_ERROR: &str = "config-error";
    /// Runs, never Ready.
    pub const NEVER_READY: &str = "never-ready";
}

/// The words of [`NODE_STATE`], each the node condition it sets.
pub mod node_state {
    /// `Ready=False`: the kubelet is up but not ready.
    pub const NOT_READY: &str = "not-ready";
    /// `Ready=Unknown`: the kubelet stopped reporting.
    pub const UNREACHABLE: &str = "unreachable";
    pub const MEMORY_PRESSURE: &str = "memory-pressure";
    pub const DISK_PRESSURE: &str = "disk-pressure";
    pub const PID_PRESSURE: &str = "pid-pressure";
    pub const NETWORK_UNAVAILABLE: &str = "network-unavailable";

    /// Each node condition a [`NODE_STATE`](super::NODE_STATE) word stands for, with the
    /// status it sets: how a snapshot reads a real node's conditions back into words.
    pub const CONDITIONS: [(&str, &str, &str); 6] = [
        ("Ready", "False", NOT_READY),
        ("Ready", "Unknown", UNREACHABLE),
        ("MemoryPressure", "True", MEMORY_PRESSURE),
        ("DiskPressure", "True", DISK_PRESSURE),
        ("PIDPressure", "True", PID_PRESSURE),
        ("NetworkUnavailable", "True", NETWORK_UNAVAILABLE),
    ];
}

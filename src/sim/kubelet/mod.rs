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
//!
//! Images the simulated registry (`registry`) does not know fail to pull as with
//! `image-pull-error`.
//!
//! Split by concern: `settings` (settings, annotations, behaviours, durations), `registry`
//! (which images a pull finds), `node`
//! (node status), `pod` (pod lifecycles) and `events` (the Events a kubelet records for
//! those changes); their public items are re-exported here.
//!
//! May import: its submodules only.

pub mod events;
mod node;
mod pod;
pub mod registry;
mod settings;
#[cfg(test)]
mod tests;

pub use node::{internal_ip, kubelet_alive, node_ip, node_status, ready_at};
pub use pod::{PodAction, container_id_of, pod_ip_of, pod_step};
pub use registry::Registry;
pub use settings::{
    BEHAVIOR, Behavior, KubeletSettings, NODE_POD_BEHAVIOR, NODE_STATE, READY_AFTER, REMOVES_TAINT, START_DELAY, behavior_of,
    image_backoff, parse_duration,
};

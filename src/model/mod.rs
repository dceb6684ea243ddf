//! The client's compact cluster model: only the fields daemonscope uses, indexed by
//! node and by DaemonSet, with per-DaemonSet coverage kept up to date event by event.
//!
//! Pure: no I/O. Watch events come in as [`Change`]s (built off the UI thread by
//! `watch`), and views read the model. Nodes get dense ids so coverage is a `Vec` per
//! DaemonSet (one byte per node) and counts are adjusted, not recounted, per event.
//!
//! Layers, each importing only those before it: [`atoms`] (interned strings, uids, pod
//! names, times: the small values a pod is made of), [`compact`] (the stored types, built
//! `From` API objects; [`extras`]: revisions and services), [`change`] (a watch event for the model, and its resource), [`cause`] (why a cell is in its state, as one word),
//! [`coverage`] (where coverage is decided: one DaemonSet on one node), [`availability`] (which nodes a rolling update counts as unavailable), [`pods`] (pods by id and by uid, one DaemonSet's pods by node), [`tally`] (per-node counts and the problem order), [`index`] (the store, its indexes and per-DaemonSet and per-node aggregates), [`tax`] (what the daemon pods request of each node, the DaemonSet tax), [`rollout`]
//! (rollout progress and pace, derived from the store), [`budget`] (who holds a rolling
//! update's budget, what frees it, and the rollout's verdict), [`joins`] (joining nodes: what must be remembered, timelines, problems), [`fleet`] (the same DaemonSets
//! across several clusters' models), [`plan`] (operator actions planned: intent, confirmation,
//! permission, the roll's nodes; the cluster layer carries them out), [`preflight`] (what a
//! DaemonSet or a change of one would do on each node if applied, and the rollout it triggers).
//!
//! May import: `k8s`. Nothing here does I/O.

pub mod atoms;
pub mod availability;
pub mod budget;
pub mod cause;
pub mod change;
pub mod compact;
pub mod coverage;
mod extras;
#[doc(hidden)]
pub mod fixtures;
pub mod fleet;
pub mod index;
pub mod joins;
pub mod plan;
mod pods;
pub mod preflight;
pub mod rollout;
pub mod running;
pub mod tally;
pub mod tax;

pub use atoms::{IStr, PodName, Time, Uid};
pub use compact::{ContainerInfo, Containers, CpuMem, DsInfo, NodeCondition, NodeInfo, PodInfo, Strategy};
pub use extras::{RevisionInfo, ServiceInfo};
pub use index::{Change, Coverage, Model, NodeId, Resource};
pub use tally::NodeDaemons;

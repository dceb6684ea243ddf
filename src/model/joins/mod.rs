//! Joining nodes: each node's way from creation to *usable* — Ready (its first Ready
//! transition), each DaemonSet's pod scheduled, started and Ready, the startup taints
//! gone — and what went wrong on the way, with evidence.
//!
//! [`track`] is what the model must remember as events arrive, since no object keeps it:
//! a node's first Ready (its Ready condition's lastTransitionTime is only the latest), when
//! each startup taint went, and a small index of the workload (non-daemon) pods on nodes
//! still in the window — bounded: nothing is kept of nodes older than the window.
//! [`report`] derives the timelines and problems from the model at a given time. Pure: the
//! time of an observation and "now" are given.
//!
//! May import: `model::joins::{settings, track, report}`.

pub mod report;
pub mod settings;
pub mod track;

pub use report::{DsJoinStats, DsStage, NodeJoin, Problem, WorkloadEarly, join, report, stats};
pub use settings::{CRITICAL_CLASSES, JoinSettings, KNOWN_STARTUP_TAINTS, is_critical};
pub use track::{JoinTracker, ReadyKnown, WorkloadInfo};

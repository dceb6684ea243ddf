//! daemonscope: per-node DaemonSet coverage for Kubernetes operators.
//!
//! - [`eligibility`]: which nodes should run a DaemonSet, and why not (one engine for
//!   the simulator's controller and the client's coverage view).
//! - [`selector`], [`labels`], [`rollout`]: Kubernetes rules the tool relies on.
//! - [`sim`]: the simulated cluster (API server, controllers, kubelets, scenarios).
//! - [`cli`]: the command line.

pub mod cli;
pub mod eligibility;
pub mod labels;
pub mod logging;
pub mod rollout;
pub mod selector;
pub mod sim;

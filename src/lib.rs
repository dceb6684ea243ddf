//! daemonscope: per-node DaemonSet coverage for Kubernetes operators.
//!
//! - [`eligibility`]: which nodes should run a DaemonSet, and why not (one engine for
//!   the simulator's controller and the client's coverage view).
//! - [`selector`], [`labels`], [`rollout`]: Kubernetes rules the tool relies on.
//! - [`sim`]: the simulated cluster (API server, controllers, kubelets, scenarios).
//! - [`model`]: the compact cluster model; [`coverage`]: where coverage is decided.
//! - [`watch`]: watch streams into the model; [`ui`] and [`tui`]: the terminal UI.
//! - [`connect`]: kubeconfig, contexts, clients; [`jobs`]: async work the UI asks for
//!   (YAML, logs, events, context and namespace switches), off the UI thread.
//! - [`status`]: `daemonscope status`, the same coverage as a report and an exit code.
//! - [`actions`]: operator actions (intents, confirmation plans, API calls, permission checks).
//! - [`cli`]: the command line.

pub mod cli;
pub mod cluster;
pub mod k8s;
pub mod logging;
pub mod model;
pub mod sim;
pub mod status;
pub mod tui;
pub mod ui;

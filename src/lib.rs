//! daemonscope: per-node DaemonSet coverage for Kubernetes operators.
//!
//! The top-level units, from the Kubernetes rules up. Which may import which is one table,
//! `MAY_IMPORT` in `tests/it/architecture.rs` (checked against every file, with no import
//! cycle between files), drawn in `docs/architecture.md`:
//!
//! - [`k8s`]: Kubernetes rules both sides use: eligibility (which nodes should run a
//!   DaemonSet, and why not), selectors, labels, int-or-percent arithmetic, durations.
//! - [`model`]: the compact cluster model (pure, no I/O): stored types, where coverage is
//!   decided ([`model::coverage`]), the indexed store, rollout progress.
//! - [`cluster`]: the client's I/O: kubeconfig and contexts, the list-then-watch loop,
//!   jobs the UI asks for, operator actions, the OnDelete roll.
//! - [`ui`]: the terminal UI's state and views (and the settings the config makes);
//!   [`runner`] is the one terminal loop (raw mode, mouse, signals, panic hook) that [`tui`]
//!   (one cluster) and [`fleet_tui`] (several clusters at once) both run on.
//! - [`status`]: `daemonscope status`, the same coverage as a report and an exit code;
//!   [`cli`]: its flags; [`logging`]: the log file; [`config`]: the settings file.
//! - [`serve`]: `daemonscope serve`, the same coverage as Prometheus metrics, probes and
//!   the status JSON over HTTP.
//! - [`preflight`]: `daemonscope preflight -f FILE`, what a DaemonSet (or a change of one)
//!   would do on every node before it is applied: run, not eligible, not fit, preempt.
//! - [`sim`] (the `sim` feature, on by default): the simulated cluster (API server,
//!   controllers, kubelets, scenarios). It imports only `k8s`; nothing but the binary's
//!   dispatch imports it, so the client builds without it.
//!
//! May import: its modules (this file only declares them).

pub mod cli;
pub mod cluster;
pub mod config;
pub mod drain;
pub mod fleet_tui;
pub mod k8s;
pub mod logging;
pub mod model;
pub mod preflight;
pub mod runner;
pub mod serve;
#[cfg(feature = "sim")]
pub mod sim;
pub mod status;
pub mod tui;
pub mod ui;

/// With the `mimalloc` feature, every binary and test of the crate allocates with
/// mimalloc (measured against the system's in docs/benchmarks.md; off by default).
#[cfg(feature = "mimalloc")]
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

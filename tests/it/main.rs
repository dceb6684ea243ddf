//! Every integration test of daemonscope, in one test binary.
//!
//! Each module was once a binary of its own, and each of those linked every dependency:
//! ~45 binaries made the test build the slowest part of CI and a fresh target outgrew a
//! CI machine's disk once. As modules of one binary they link once, and the test harness
//! packs them onto the cores together. Run one area with a filter on the module path:
//! `cargo test --test it tui_e2e::`, `cargo test --test it sim_kubectl`.
//!
//! Each module says what it proves in its header; `common` holds the shared helpers
//! (starting a simulator, kubeconfigs, kubectl, the pseudo-terminal driver).

#[macro_use]
mod common;

mod actions;
mod architecture;
mod bad_input;
mod config;
mod docs_keys;
mod docs_links;
mod drain;
mod drain_steer;
mod faults;
mod hostile;
mod input_limits;
mod install;
mod joins;
mod loading;
mod model;
mod offline;
mod pdb_math;
mod preflight;
mod providers;
mod roll;
mod roll_held;
mod roll_lock;
mod roll_maintenance;
mod roll_truth;
mod rollout_budget;
mod secrets;
mod serve;
mod serve_bounds;
mod serve_dashboard;
mod serve_ksm;
mod serve_openmetrics;
mod serve_replay;
mod serve_replicas;
mod silent_tls;
mod sim_cli;
mod sim_controller;
mod sim_deployments;
mod sim_http;
mod sim_joins;
mod sim_kube_client;
mod sim_kubectl;
mod sim_kubectl_drain;
mod sim_kubectl_stuck;
mod sim_protobuf;
mod sim_stuck;
mod snapshot;
mod status;
mod status_fleet;
mod status_joins;
mod stream;
mod sync_feedback;
mod tui_drain;
mod tui_e2e;
mod tui_fleet;
mod tui_severity;
mod ui_fuzz;
mod ui_sizes;
mod ui_views;
mod watch_quiet;
mod wire;
mod wire_protobuf;

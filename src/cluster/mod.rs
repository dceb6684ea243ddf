//! Everything of the client that talks to an API server: kubeconfig, contexts and
//! clients ([`connect`]), the contexts of a fleet ([`fleet`]); the one list-then-watch loop behind every watch
//! ([`listwatch`]) with its [`backoff`]; the model's watches ([`watch`]) and the one live model every front end reads ([`live`]); typed errors
//! that render as words ([`errors`]); requests counted by verb and code ([`requests`]);
//! pods decoded straight into the model's view ([`wire`]), and the joins' workload pods ([`workloads`]); async jobs the UI asks for ([`jobs`]); operator actions ([`actions`]; the taint edit
//! in [`taints`]), the OnDelete roll ([`roll`]) with its [`lease`] and its maintenance steps ([`roll_maintenance`]), and the drain ([`drain`]; as the TUI's job:
//! [`drain_job`]); what a preflight reads of the cluster ([`preflight`]).
//!
//! May import: `model`, `k8s`. Never `sim` or `ui`.

pub mod actions;
pub mod backoff;
pub mod connect;
pub mod drain;
pub mod drain_job;
pub mod errors;
pub mod fleet;
pub mod jobs;
pub mod lease;
pub mod listwatch;
pub mod live;
pub mod pages;
pub mod preflight;
pub mod requests;
pub mod roll;
pub mod roll_maintenance;
pub mod snapshot;
pub mod taints;
pub mod watch;
pub mod wire;
pub mod workloads;

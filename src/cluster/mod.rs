//! Everything of the client that talks to an API server: kubeconfig and contexts
//! ([`connect`]), the list-then-watch loop that feeds the model ([`watch`]) with its
//! [`backoff`], errors in words ([`errors`]), async jobs the UI asks for ([`jobs`]),
//! operator actions ([`actions`]) and the OnDelete roll ([`roll`]).
//!
//! May import: `model`, `k8s`. Never `sim` or `ui`.

pub mod actions;
pub mod backoff;
pub mod connect;
pub mod errors;
pub mod jobs;
pub mod roll;
pub mod watch;

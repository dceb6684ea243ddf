//! The library's command-line pieces: `status`'s flags and output formats (kubectl's
//! flag names). The top-level command and its dispatch live in the binary (`main.rs`),
//! so this file never names the simulator.
//!
//! May import: `k8s`.

use clap::Args;

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Output {
    /// Counts per DaemonSet, and each node that is not fine with its reason.
    Table,
    /// Like table, with every node.
    Wide,
    /// The documented JSON schema (see the README).
    Json,
}

#[derive(Debug, Args)]
pub struct StatusArgs {
    /// DaemonSets to report, as NAME or NAMESPACE/NAME (default: every one in scope).
    #[arg(value_name = "DAEMONSET")]
    pub daemonsets: Vec<String>,
    /// Output format.
    #[arg(short = 'o', long, value_enum, default_value = "table")]
    pub output: Output,
    /// Follow the watch until every selected DaemonSet is fully covered (progress on stderr).
    #[arg(long)]
    pub wait: bool,
    /// Give up after this long (e.g. 90s, 5m, 1h30m): with --wait exit 1, else exit 2.
    #[arg(long, value_name = "DURATION", value_parser = crate::k8s::duration::parse_flag_duration)]
    pub timeout: Option<std::time::Duration>,
    /// Report on the embedded simulated cluster instead of a real one.
    #[arg(long)]
    pub demo: bool,
}

/// `--request-timeout`: a duration of more than zero.
pub fn parse_request_timeout(s: &str) -> Result<std::time::Duration, String> {
    match crate::k8s::duration::parse_flag_duration(s)? {
        d if d.is_zero() => Err(format!("invalid duration {s:?}: must be more than 0 (e.g. 10s)")),
        d => Ok(d),
    }
}

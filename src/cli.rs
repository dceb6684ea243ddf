//! The command line: kubectl's flag names, one subcommand per face of the tool.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

#[derive(Debug, Parser)]
#[command(name = "daemonscope", version, about = "Per-node DaemonSet coverage for Kubernetes operators", propagate_version = true)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Option<Command>,

    /// Path to the kubeconfig file (default: $KUBECONFIG, then ~/.kube/config).
    #[arg(long, global = true, env = "KUBECONFIG", value_name = "FILE")]
    pub kubeconfig: Option<PathBuf>,
    /// The kubeconfig context to use (default: the current context).
    #[arg(long, global = true, value_name = "NAME")]
    pub context: Option<String>,
    /// Only this namespace.
    #[arg(short = 'n', long, global = true, value_name = "NAMESPACE", conflicts_with = "all_namespaces")]
    pub namespace: Option<String>,
    /// All namespaces.
    #[arg(short = 'A', long, global = true)]
    pub all_namespaces: bool,
    /// Only DaemonSets whose labels match this selector (kubectl syntax).
    #[arg(short = 'l', long, global = true, value_name = "SELECTOR")]
    pub selector: Option<String>,
    /// Never change anything in the cluster.
    #[arg(long, global = true)]
    pub readonly: bool,
    /// Run on the embedded simulated cluster instead of a real one.
    #[arg(long)]
    pub demo: bool,
    /// Where to write the log (default: $XDG_STATE_HOME/daemonscope/daemonscope.log).
    #[arg(long, global = true, value_name = "FILE")]
    pub log_file: Option<PathBuf>,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the simulated cluster as a standalone API server that kubectl can talk to.
    Sim(crate::sim::cli::SimArgs),
    /// Print DaemonSet coverage (every node's state and why) for scripts and CI gates.
    /// Exit 0: every selected DaemonSet is ready on every node that should run it and
    /// nothing is misscheduled; 1: not (or --wait timed out); 2: an error.
    Status(StatusArgs),
}

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
    #[arg(long, value_name = "DURATION", value_parser = parse_duration)]
    pub timeout: Option<std::time::Duration>,
}

/// `90s`, `5m`, `1h30m`, `2h 5m` (jiff's friendly format), or plain seconds.
pub fn parse_duration(s: &str) -> Result<std::time::Duration, String> {
    if let Ok(secs) = s.parse::<u64>() {
        return Ok(std::time::Duration::from_secs(secs));
    }
    let d: jiff::SignedDuration = s.parse().map_err(|e| format!("invalid duration {s:?} (try 90s, 5m, 1h30m): {e}"))?;
    std::time::Duration::try_from(d).map_err(|_| format!("invalid duration {s:?}: must not be negative"))
}

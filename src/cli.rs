//! The library's command-line pieces: `status`'s and `serve`'s flags and output formats (kubectl's
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
    /// Nodes that are down (NotReady or unreachable) do not hold the gate.
    #[arg(long)]
    pub allow_down_nodes: bool,
    /// Pass a DaemonSet with up to this many nodes not fine (N, or P% of its desired
    /// nodes, rounded up).
    #[arg(long, value_name = "N|P%", value_parser = parse_max_unavailable)]
    pub max_unavailable: Option<k8s_openapi::apimachinery::pkg::util::intstr::IntOrString>,
}

/// `3` or `5%`, validated as the DaemonSet API validates maxUnavailable.
fn parse_max_unavailable(s: &str) -> Result<k8s_openapi::apimachinery::pkg::util::intstr::IntOrString, String> {
    use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;
    let v = match s.parse::<i32>() {
        Ok(n) => IntOrString::Int(n),
        Err(_) => IntOrString::String(s.to_string()),
    };
    crate::k8s::intstr::validate_int_or_percent(&v)?;
    Ok(v)
}

#[derive(Debug, Args)]
pub struct SnapshotArgs {
    /// Write the scenario here (default: standard output).
    #[arg(short = 'o', long = "output", value_name = "FILE")]
    pub output: Option<std::path::PathBuf>,
    /// Replace node names, hostname- and IP-like label values and image registries with
    /// stable pseudonyms.
    #[arg(long)]
    pub anonymize: bool,
}

/// `--request-timeout`: a duration of more than zero.
pub fn parse_request_timeout(s: &str) -> Result<std::time::Duration, String> {
    match crate::k8s::duration::parse_flag_duration(s)? {
        d if d.is_zero() => Err(format!("invalid duration {s:?}: must be more than 0 (e.g. 10s)")),
        d => Ok(d),
    }
}

/// `daemonscope serve`'s flags (the kubeconfig and scope flags are the top-level ones).
#[derive(Debug, Args)]
pub struct ServeArgs {
    /// Where to serve /metrics, /healthz, /readyz and /api/v1/status (HOST:PORT).
    #[arg(long, default_value = "127.0.0.1:9753", value_name = "HOST:PORT")]
    pub listen: String,
    /// At most this many daemonscope_daemonset_node_problem series per scrape (the rest
    /// are counted in daemonscope_node_series_dropped).
    #[arg(long, default_value_t = 1000, value_name = "N")]
    pub max_node_series: usize,
}

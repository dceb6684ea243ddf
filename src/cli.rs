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
    Sim(SimArgs),
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

#[derive(Debug, Args)]
pub struct SimArgs {
    /// Scenario file (multi-document YAML); default: the embedded demo scenario.
    #[arg(long, value_name = "FILE", conflicts_with_all = ["nodes", "daemonsets"])]
    pub scenario: Option<PathBuf>,
    /// Address to listen on; port 0 picks a free port.
    #[arg(long, default_value = "127.0.0.1:0", value_name = "ADDR")]
    pub listen: String,
    /// Write a kubeconfig (context `daemonscope-sim`) here
    /// (default: $XDG_CACHE_HOME/daemonscope/sim.kubeconfig).
    #[arg(long, value_name = "FILE")]
    pub kubeconfig_out: Option<PathBuf>,
    /// Generate a synthetic cluster with this many nodes (with --daemonsets).
    #[arg(long, value_name = "N", requires = "daemonsets")]
    pub nodes: Option<usize>,
    /// Number of DaemonSets in the synthetic cluster (with --nodes).
    #[arg(long, value_name = "M", requires = "nodes")]
    pub daemonsets: Option<usize>,
    /// Write the scenario's objects as YAML to FILE and exit.
    #[arg(long, value_name = "FILE")]
    pub write_scenario: Option<PathBuf>,
    #[command(flatten)]
    pub faults: FaultArgs,
}

/// Fault injection for `daemonscope sim` (these override the scenario's `settings.faults`).
#[derive(Debug, Default, Args)]
#[command(next_help_heading = "Fault injection")]
pub struct FaultArgs {
    /// End every open watch stream this often (e.g. 10s); clients must resume.
    #[arg(long, value_name = "DURATION", value_parser = parse_duration)]
    pub drop_watches: Option<std::time::Duration>,
    /// Answer this fraction of requests with 429 Too Many Requests (e.g. 0.3).
    #[arg(long, value_name = "FRACTION", value_parser = parse_fraction)]
    pub throttle: Option<f64>,
    /// The Retry-After (seconds) of those 429s.
    #[arg(long, value_name = "SECONDS")]
    pub retry_after: Option<u64>,
    /// Answer this fraction of requests with 500 Internal Server Error.
    #[arg(long, value_name = "FRACTION", value_parser = parse_fraction)]
    pub server_errors: Option<f64>,
    /// Delay every response by this much (e.g. 200ms).
    #[arg(long, value_name = "DURATION", value_parser = parse_duration)]
    pub latency: Option<std::time::Duration>,
    /// Forget the watch history this often: resuming watches get 410 Gone and must relist.
    #[arg(long, value_name = "DURATION", value_parser = parse_duration)]
    pub expire_every: Option<std::time::Duration>,
    /// Stop answering for a while: AT+FOR after start (e.g. 30s+20s); repeatable.
    #[arg(long, value_name = "AT+FOR", value_parser = crate::sim::faults::parse_window)]
    pub outage: Vec<(std::time::Duration, std::time::Duration)>,
    /// Restart at this time after start: down for --restart-down, back with a new state.
    #[arg(long, value_name = "DURATION", value_parser = parse_duration)]
    pub restart_at: Option<std::time::Duration>,
    /// How long the restart keeps the server down (default 2s).
    #[arg(long, value_name = "DURATION", value_parser = parse_duration, requires = "restart_at")]
    pub restart_down: Option<std::time::Duration>,
    /// The scenario the restarted server comes back with (default: the same one, reloaded
    /// with new identities).
    #[arg(long, value_name = "FILE", requires = "restart_at")]
    pub restart_scenario: Option<PathBuf>,
}

impl FaultArgs {
    /// The scenario's faults with these flags on top.
    pub fn apply(&self, base: &mut crate::sim::faults::FaultSettings) {
        if let Some(d) = self.drop_watches {
            base.drop_watches_every = Some(d);
        }
        if let Some(t) = self.throttle {
            base.throttle = t;
        }
        if let Some(r) = self.retry_after {
            base.retry_after = r;
        }
        if let Some(e) = self.server_errors {
            base.server_errors = e;
        }
        if let Some(l) = self.latency {
            base.latency = l;
        }
        if let Some(e) = self.expire_every {
            base.expire_every = Some(e);
        }
        base.outages.extend(self.outage.iter().copied());
        if let Some(at) = self.restart_at {
            base.restart = Some(crate::sim::faults::Restart {
                at,
                down: self.restart_down.unwrap_or(std::time::Duration::from_secs(2)),
                scenario: self.restart_scenario.clone(),
            });
        }
        if base.retry_after == 0 {
            base.retry_after = 1;
        }
    }
}

fn parse_fraction(s: &str) -> Result<f64, String> {
    match s.parse::<f64>() {
        Ok(f) if (0.0..=1.0).contains(&f) => Ok(f),
        _ => Err(format!("{s:?} is not a fraction between 0 and 1 (e.g. 0.3)")),
    }
}

pub fn default_sim_kubeconfig() -> PathBuf {
    crate::logging::xdg_dir("XDG_CACHE_HOME", ".cache").join("sim.kubeconfig")
}

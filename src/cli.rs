//! The library's command-line pieces: the cluster, fleet and log flags, `status`'s, `serve`'s
//! and `config`'s flags and output formats (kubectl's flag names), and the man page. The
//! top-level command and its dispatch live in the binary (`main.rs`), so this file never
//! names the simulator.
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

#[derive(Debug, Clone, Args)]
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
    /// With --wait: stop early (exit 1, with the verdict) when a rollout has been stalled by
    /// its own failures — new pods that fail, surge pods that cannot be placed — for this
    /// long, from the evidence (the first failing new pod's creation). 0s stops at once.
    #[arg(long, value_name = "DURATION", default_value = "5m", value_parser = crate::k8s::duration::parse_flag_duration)]
    pub stall_timeout: std::time::Duration,
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
    #[command(flatten)]
    pub joins: JoinArgs,
}

/// `status --joins`: the joining nodes instead of the DaemonSets (docs/joins.md).
#[derive(Debug, Clone, Args)]
#[command(next_help_heading = "Joining nodes")]
pub struct JoinArgs {
    /// Report the nodes that joined within --joins-since: time to Ready and to usable, each
    /// DaemonSet's pod, what went wrong; exit 1 when one is not usable after --usable-timeout.
    #[arg(long, conflicts_with_all = ["wait", "daemonsets", "max_unavailable", "allow_down_nodes"])]
    pub joins: bool,
    /// A node not usable this long after its creation fails the report (exit 1).
    #[arg(long, value_name = "DURATION", default_value = "10m", value_parser = crate::k8s::duration::parse_flag_duration)]
    pub usable_timeout: std::time::Duration,
    #[command(flatten)]
    pub judged: JoinJudging,
}

/// Which nodes are joins and what they need: the flags `status --joins` and `serve` share
/// (docs/joins.md).
#[derive(Debug, Clone, Args)]
#[command(next_help_heading = "Joining nodes")]
pub struct JoinJudging {
    /// How far back a node's creation counts as a join.
    #[arg(long, value_name = "DURATION", default_value = "6h", value_parser = crate::k8s::duration::parse_flag_duration)]
    pub joins_since: std::time::Duration,
    /// A DaemonSet a node needs before it is usable (NAMESPACE/NAME; repeatable). Default:
    /// the config's `critical` list, else those at system-node-critical or
    /// system-cluster-critical priority or tolerating every taint.
    #[arg(long, value_name = "NAMESPACE/NAME", value_parser = parse_critical)]
    pub critical: Vec<String>,
}

/// The flags' defaults (not `--joins`, 10m).
impl Default for JoinArgs {
    fn default() -> Self {
        JoinArgs { joins: false, usable_timeout: std::time::Duration::from_secs(600), judged: JoinJudging::default() }
    }
}

/// The flags' defaults (6h, the default rule for critical).
impl Default for JoinJudging {
    fn default() -> Self {
        JoinJudging { joins_since: std::time::Duration::from_secs(6 * 3600), critical: Vec::new() }
    }
}

/// A critical DaemonSet (`--critical`, config `critical`): `namespace/name`.
pub fn parse_critical(s: &str) -> Result<String, String> {
    match s.split_once('/') {
        Some((ns, n)) if !ns.is_empty() && !n.is_empty() && !n.contains('/') => Ok(s.to_string()),
        _ => Err(format!("{s:?}: a critical DaemonSet is NAMESPACE/NAME (e.g. kube-system/cilium)")),
    }
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
    /// Replace node names, image registries and label and taint values (but zone, arch,
    /// os, instance type, pool) with stable pseudonyms; drop annotations and hostPaths.
    /// (Credentials are never written, with or without it.)
    /// `--anonymize=all`: namespaces, DaemonSet and Service names too.
    #[arg(long, num_args = 0..=1, require_equals = true, default_missing_value = "on", value_parser = ["on", "all"], value_name = "all")]
    pub anonymize: Option<String>,
}

/// `--request-timeout`: a duration of more than zero.
pub fn parse_request_timeout(s: &str) -> Result<std::time::Duration, String> {
    match crate::k8s::duration::parse_flag_duration(s)? {
        d if d.is_zero() => Err(format!("invalid duration {s:?}: must be more than 0 (e.g. 10s)")),
        d => Ok(d),
    }
}

/// `daemonscope serve`'s flags (the kubeconfig and scope flags are the top-level ones).
#[derive(Debug, Clone, Args)]
pub struct ServeArgs {
    /// Where to serve /metrics, /healthz, /readyz and /api/v1/status (HOST:PORT).
    #[arg(long, default_value = "127.0.0.1:9753", value_name = "HOST:PORT")]
    pub listen: String,
    /// At most this many daemonscope_daemonset_node_problem series per scrape (the rest
    /// are counted in daemonscope_node_series_dropped).
    #[arg(long, default_value_t = 1000, value_name = "N")]
    pub max_node_series: usize,
    /// Also expose the 13 kube_daemonset_* series of kube-state-metrics v2 (same names,
    /// labels, HELP and values), for the kubernetes-mixin's DaemonSet alerts and dashboards.
    #[arg(long)]
    pub ksm_compat: bool,
    /// The joining nodes' metrics: judged as `status --joins` judges them.
    #[command(flatten)]
    pub joins: JoinJudging,
}

/// Which cluster, and what of it: the flags of the TUI, `status`, `snapshot` and `serve`
/// (each lists them in its own `--help`; `sim` and the helper commands do not take them).
#[derive(Debug, Clone, Default, PartialEq, Eq, Args)]
#[command(next_help_heading = "Cluster")]
pub struct ClientArgs {
    /// Path to the kubeconfig file (default: $KUBECONFIG, then ~/.kube/config).
    #[arg(long, value_name = "FILE")]
    pub kubeconfig: Option<std::path::PathBuf>,
    /// The kubeconfig context to use (default: the current context). Given more than
    /// once (TUI and `status`): the fleet of those contexts.
    #[arg(long, value_name = "NAME")]
    pub context: Vec<String>,
    /// Only this namespace.
    #[arg(short = 'n', long, value_name = "NAMESPACE", conflicts_with = "all_namespaces")]
    pub namespace: Option<String>,
    /// All namespaces (the default).
    #[arg(short = 'A', long)]
    pub all_namespaces: bool,
    /// Only DaemonSets whose labels match this selector (kubectl syntax).
    #[arg(short = 'l', long, value_name = "SELECTOR")]
    pub selector: Option<String>,
    /// Give up on a request the API server has not answered after this long (e.g. 10s):
    /// no answer at all, or a list page not complete [default: 30s for an answer, connecting
    /// and TLS included; 60s for a list page].
    #[arg(long, value_name = "DURATION", value_parser = parse_request_timeout)]
    pub request_timeout: Option<std::time::Duration>,
    /// How the watches fetch each whole collection: `auto` streams it from the watch
    /// (watch-list, Kubernetes 1.32 and 1.34+) and lists in pages where the server refuses
    /// that; `on` only streams; `off` only lists in pages [default: auto]. `snapshot` and
    /// `preflight` read once, in pages, whatever it says.
    #[arg(long, value_name = "MODE")]
    pub watch_list: Option<crate::k8s::watchlist::WatchList>,
    /// The encoding asked for: `auto` asks for protobuf and takes JSON where the server
    /// answers JSON (as client-go does); `json` or `protobuf` only, for diagnosis [default:
    /// auto]. The watches only: writes are JSON, and `snapshot` and `preflight` read JSON
    /// whatever it says.
    #[arg(long, value_name = "ENCODING")]
    pub wire: Option<crate::k8s::proto::Wire>,
    /// Read a dump instead of a cluster, offline: kubectl get -o json|yaml output, a
    /// cluster-info dump (stream or directory), a must-gather, a support bundle or a
    /// snapshot — a directory, a file, or a .tar.gz/.tgz/.zip.
    #[arg(long, value_name = "PATH", conflicts_with_all = ["kubeconfig", "context"])]
    pub from: Option<std::path::PathBuf>,
}

impl ClientArgs {
    /// The kubeconfig to load: `--kubeconfig`, else `$KUBECONFIG` (several files joined
    /// with `:` are merged), else None (`~/.kube/config`, or the in-cluster config).
    pub fn kubeconfig(&self) -> Option<std::path::PathBuf> {
        self.kubeconfig.clone().or_else(|| std::env::var_os("KUBECONFIG").filter(|v| !v.is_empty()).map(Into::into))
    }

    /// These flags, with those given before the subcommand (`daemonscope -n x status`)
    /// filling in what the subcommand's own leave unset.
    pub fn or(self, before: &ClientArgs) -> ClientArgs {
        let all = self.all_namespaces || (before.all_namespaces && self.namespace.is_none());
        ClientArgs {
            kubeconfig: self.kubeconfig.or_else(|| before.kubeconfig.clone()),
            context: if self.context.is_empty() { before.context.clone() } else { self.context },
            namespace: if self.all_namespaces { None } else { self.namespace.or_else(|| before.namespace.clone()) },
            all_namespaces: all,
            selector: self.selector.or_else(|| before.selector.clone()),
            request_timeout: self.request_timeout.or(before.request_timeout),
            watch_list: self.watch_list.or(before.watch_list),
            wire: self.wire.or(before.wire),
            from: self.from.or_else(|| before.from.clone()),
        }
    }

    /// The flags set, as the user typed them (to say which do not apply).
    pub fn given(&self) -> Vec<&'static str> {
        let mut out = Vec::new();
        for (set, name) in [
            (self.kubeconfig.is_some(), "--kubeconfig"),
            (!self.context.is_empty(), "--context"),
            (self.namespace.is_some(), "--namespace"),
            (self.all_namespaces, "--all-namespaces"),
            (self.selector.is_some(), "--selector"),
            (self.request_timeout.is_some(), "--request-timeout"),
            (self.watch_list.is_some(), "--watch-list"),
            (self.wire.is_some(), "--wire"),
            (self.from.is_some(), "--from"),
        ] {
            if set {
                out.push(name);
            }
        }
        out
    }
}

/// Several clusters at once: the TUI's and `status`'s (with `--context` given more than once).
#[derive(Debug, Clone, Default, PartialEq, Eq, Args)]
#[command(next_help_heading = "Cluster")]
pub struct FleetArgs {
    /// The fleet of every kubeconfig context whose name matches GLOB (`*`, `?`, `[a-z]`;
    /// quote it), for the TUI and `status`.
    #[arg(long, value_name = "GLOB", conflicts_with_all = ["context", "all_contexts"])]
    pub contexts: Option<String>,
    /// The fleet of every kubeconfig context, for the TUI and `status`.
    #[arg(long, conflicts_with = "context")]
    pub all_contexts: bool,
}

impl FleetArgs {
    /// These flags, with those given before `status` filling in.
    pub fn or(self, before: &FleetArgs) -> FleetArgs {
        FleetArgs { contexts: self.contexts.or_else(|| before.contexts.clone()), all_contexts: self.all_contexts || before.all_contexts }
    }

    /// The flags set, as the user typed them.
    pub fn given(&self) -> Vec<&'static str> {
        let mut out = Vec::new();
        if self.contexts.is_some() {
            out.push("--contexts");
        }
        if self.all_contexts {
            out.push("--all-contexts");
        }
        out
    }
}

/// Where the log goes: every command that talks to a cluster or serves one.
#[derive(Debug, Clone, Default, Args)]
pub struct LogArgs {
    /// Where to write the log (default: $XDG_STATE_HOME/daemonscope/daemonscope.log).
    #[arg(long, value_name = "FILE")]
    pub log_file: Option<std::path::PathBuf>,
}

impl LogArgs {
    /// These flags, with those given before the subcommand filling in what they leave unset.
    pub fn or(&self, before: &LogArgs) -> LogArgs {
        LogArgs { log_file: self.log_file.clone().or_else(|| before.log_file.clone()) }
    }
}

/// `daemonscope config`: the settings file.
#[derive(Debug, Args)]
pub struct ConfigArgs {
    /// Print a commented config holding every default (a starting point to edit).
    #[arg(long, conflicts_with = "path")]
    pub print_default: bool,
    /// Print the path of the config file daemonscope reads.
    #[arg(long)]
    pub path: bool,
    /// The config file to check (default: $XDG_CONFIG_HOME/daemonscope/config.toml).
    #[arg(long, value_name = "FILE")]
    pub config: Option<std::path::PathBuf>,
}

/// `daemonscope man`: the page of `cmd` on stdout, or one page per command into `out_dir`.
pub fn man(cmd: clap::Command, out_dir: Option<&std::path::Path>) -> Result<(), String> {
    match out_dir {
        Some(dir) => {
            std::fs::create_dir_all(dir).map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
            clap_mangen::generate_to(cmd, dir).map_err(|e| format!("cannot write man pages to {}: {e}", dir.display()))
        }
        None => {
            let mut page = Vec::new();
            clap_mangen::Man::new(cmd).render(&mut page).map_err(|e| format!("rendering the man page: {e}"))?;
            print_bytes(&page)
        }
    }
}

/// Writes to stdout; a reader that stopped early (`| head`) is not an error.
pub fn print_bytes(b: &[u8]) -> Result<(), String> {
    use std::io::Write;
    match std::io::stdout().write_all(b).and_then(|_| std::io::stdout().flush()) {
        Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => Err(format!("writing to standard output: {e}")),
        _ => Ok(()),
    }
}

/// `daemonscope drain`'s flags: kubectl drain's names and meanings.
#[derive(Debug, Args)]
pub struct DrainArgs {
    /// The nodes to drain, one after another.
    #[arg(value_name = "NODE", required = true)]
    pub nodes: Vec<String>,
    /// Leave DaemonSet-managed pods (without it a node with one is not drained).
    #[arg(long)]
    pub ignore_daemonsets: bool,
    /// Also evict pods that no controller will recreate.
    #[arg(long)]
    pub force: bool,
    /// Also evict pods with emptyDir volumes (their data is lost).
    #[arg(long)]
    pub delete_emptydir_data: bool,
    /// Only evict pods whose labels match this selector.
    #[arg(long, value_name = "SELECTOR")]
    pub pod_selector: Option<String>,
    /// Seconds each pod is given to terminate (default: each pod's own).
    #[arg(long, value_name = "SECONDS", allow_negative_numbers = true, default_value_t = -1)]
    pub grace_period: i64,
    /// Give up after this long per node (e.g. 10m); 0s waits as long as it takes, as kubectl.
    #[arg(long, value_name = "DURATION", default_value = "0s", value_parser = crate::k8s::duration::parse_flag_duration)]
    pub timeout: std::time::Duration,
    /// `server`: the API server checks every request and changes nothing.
    #[arg(long, value_name = "none|server", default_value = "none", value_parser = ["none", "server"])]
    pub dry_run: String,
    /// `json`: one JSON object per line for each thing that happens (blockers while it waits).
    #[arg(short = 'o', long, value_name = "text|json", default_value = "text", value_parser = ["text", "json"])]
    pub output: String,
    /// Path to the kubeconfig file (default: $KUBECONFIG, then ~/.kube/config).
    #[arg(long, value_name = "FILE", help_heading = "Cluster")]
    pub kubeconfig: Option<std::path::PathBuf>,
    /// The kubeconfig context to use (default: the current context).
    #[arg(long, value_name = "NAME", help_heading = "Cluster")]
    pub context: Option<String>,
    /// Give up on a request the API server has not answered after this long (e.g. 10s).
    #[arg(long, value_name = "DURATION", value_parser = parse_request_timeout, help_heading = "Cluster")]
    pub request_timeout: Option<std::time::Duration>,
}

impl DrainArgs {
    /// The cluster flags as the other commands take them (a drain has no namespace or
    /// DaemonSet selector: it acts on whole nodes).
    pub fn client(&self) -> ClientArgs {
        ClientArgs {
            kubeconfig: self.kubeconfig.clone(),
            context: self.context.iter().cloned().collect(),
            request_timeout: self.request_timeout,
            ..ClientArgs::default()
        }
    }
}

/// `daemonscope preflight`'s flags.
#[derive(Debug, Args)]
pub struct PreflightArgs {
    /// A DaemonSet manifest (YAML or JSON, several documents or a List; `-` reads standard
    /// input, so kustomize or helm output can be piped in). Repeatable.
    #[arg(short = 'f', long = "filename", value_name = "FILE", required = true)]
    pub files: Vec<std::path::PathBuf>,
    /// `json`: every node's verdict.
    #[arg(short = 'o', long, value_name = "text|json", default_value = "text", value_parser = ["text", "json"])]
    pub output: String,
    /// Pass although a change stops targeting nodes the DaemonSet runs on now.
    #[arg(long)]
    pub allow_ineligible: bool,
    /// Fail when the targeted nodes that lack the images would pull more than this in all
    /// (e.g. 50GiB; sizes as the nodes report them for the images they have).
    #[arg(long, value_name = "SIZE", value_parser = crate::k8s::files::parse_size)]
    pub max_pull_bytes: Option<u64>,
    /// Also fail (exit 1) when a node's verdict is unverified: it would run as far as
    /// preflight sees, but a filter turns on what it does not read (PVCs, topology spread).
    #[arg(long)]
    pub strict: bool,
}

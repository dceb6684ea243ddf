//! `daemonscope sim`'s command line: the scenario, listener and kubeconfig flags, the cluster
//! `--from-context` reads, and
//! the fault-injection flags laid over the scenario's `settings.faults`.
//!
//! May import: `sim::faults`, `sim::flavor`, `sim::joins`, `sim::kubeconfig`, `sim::scenario`, `k8s::duration`.

use std::path::PathBuf;

use clap::Args;

use super::faults::{FaultSettings, Restart, parse_window};
use crate::k8s::duration::parse_flag_duration;

#[derive(Debug, Args)]
pub struct SimArgs {
    /// Scenario file (multi-document YAML); default: the embedded demo scenario.
    #[arg(long, value_name = "FILE", conflicts_with_all = ["nodes", "daemonsets", "from_context", "from"])]
    pub scenario: Option<PathBuf>,
    /// Serve a dump: kubectl get -o json|yaml output, a cluster-info dump (stream or
    /// directory), a must-gather, a support bundle or a snapshot (a directory, a file, or a
    /// .tar.gz/.tgz/.zip), its objects as they are.
    #[arg(long, value_name = "PATH", conflicts_with_all = ["nodes", "daemonsets", "from_context"])]
    pub from: Option<PathBuf>,
    /// Serve exactly what was loaded: no controllers, kubelets, garbage collector or
    /// timeline; writes are answered 405 MethodNotAllowed.
    #[arg(long)]
    pub frozen: bool,
    /// Snapshot this kubeconfig context's cluster (as `daemonscope snapshot` does) and serve it.
    #[arg(long, value_name = "CONTEXT", conflicts_with_all = ["nodes", "daemonsets"])]
    pub from_context: Option<String>,
    /// Address to listen on; port 0 picks a free port. Loopback only unless --allow-remote.
    #[arg(long, default_value = "127.0.0.1:0", value_name = "ADDR")]
    pub listen: String,
    /// Allow a --listen address other machines can reach (anyone with the kubeconfig's
    /// token can then change the simulated cluster).
    #[arg(long)]
    pub allow_remote: bool,
    /// Serve plain HTTP with no authentication instead of HTTPS with a bearer token.
    #[arg(long, conflicts_with = "allow_remote")]
    pub insecure_http: bool,
    /// Write a kubeconfig (context `daemonscope-sim` or --context-name, mode 0600) here; a kubeconfig a
    /// previous run wrote there gives its CA and token back, so clients keep working
    /// (default: $XDG_CACHE_HOME/daemonscope/sim.kubeconfig).
    #[arg(long, value_name = "FILE")]
    pub kubeconfig_out: Option<PathBuf>,
    /// Name the kubeconfig's context, cluster and user NAME (default: daemonscope-sim), so
    /// that several simulators' kubeconfigs merge with KUBECONFIG=a:b.
    #[arg(long, value_name = "NAME", value_parser = parse_context_name)]
    pub context_name: Option<String>,
    /// Replace a file at the kubeconfig path that this simulator did not write.
    #[arg(long)]
    pub force: bool,
    /// Generate a synthetic cluster with this many nodes (with --daemonsets).
    #[arg(long, value_name = "N", requires = "daemonsets")]
    pub nodes: Option<usize>,
    /// Number of DaemonSets in the synthetic cluster (with --nodes).
    #[arg(long, value_name = "M", requires = "nodes")]
    pub daemonsets: Option<usize>,
    /// Workload pods per untainted worker node in the synthetic cluster, on average
    /// (Deployments, one with emptyDir, their PodDisruptionBudgets, finished Job pods, a
    /// bare pod; mirror pods on the control plane). Default 0: DaemonSet pods only.
    #[arg(long, value_name = "N", requires = "nodes", default_value_t = 0)]
    pub workloads_per_node: usize,
    /// Send a BOOKMARK event on every watch that asks for them this often (default: the
    /// scenario's `bookmarkInterval`, else 1m, as kube-apiserver).
    #[arg(long, value_name = "DURATION", value_parser = parse_flag_duration)]
    pub bookmark_interval: Option<std::time::Duration>,
    /// An image the simulated registry has, besides every image of the objects loaded at
    /// start and the scenario's `registry:` list; a glob (`registry.k8s.io/*`, `*` for
    /// every image) allows all it matches. Repeatable. Any other image fails to pull:
    /// its pods show ErrImagePull, then ImagePullBackOff, as with a registry that lacks it.
    #[arg(long = "registry-allow", value_name = "PATTERN")]
    pub registry_allow: Vec<String>,
    /// Rename and relabel the nodes as this provider does (GKE node pools, EKS managed node
    /// groups, AKS agent pools, Karpenter NodePools; control-plane nodes dropped).
    #[arg(long, value_name = "PROVIDER")]
    pub flavor: Option<super::flavor::Flavor>,
    /// kube-apiserver's feature gates, as `Name=true|false,…` (e.g. `WatchList=false`: refuse
    /// watch-lists, as Kubernetes 1.33 does by default). Only `WatchList` is known (default on).
    #[arg(long, value_name = "GATES", value_parser = super::scenario::parse_feature_gates)]
    pub feature_gates: Option<Vec<(String, bool)>>,
    /// Add a node this often (e.g. 20s), as a cloud adds them: NotReady at first, with
    /// startup taints (see docs/joins.md).
    #[arg(long, value_name = "DURATION", value_parser = parse_join_every)]
    pub join_every: Option<std::time::Duration>,
    /// How many nodes --join-every adds in all.
    #[arg(long, value_name = "N", default_value_t = 30, requires = "join_every")]
    pub join_count: usize,
    /// How long a joined node stays NotReady (default 10s).
    #[arg(long, value_name = "DURATION", requires = "join_every")]
    pub join_ready_after: Option<String>,
    /// A startup taint (key[=value]:Effect) every joined node gets besides the daemons'
    /// own; nothing removes it unless a daemon does. Repeatable.
    #[arg(long, value_name = "TAINT", requires = "join_every")]
    pub join_taint: Vec<String>,
    /// IMAGE=DURATION: pulling this image (or every image a glob matches) takes this long,
    /// as the scenario's `pullDurations`. Repeatable.
    #[arg(long, value_name = "IMAGE=DURATION", value_parser = parse_pull_duration)]
    pub pull_duration: Vec<(String, std::time::Duration)>,
    /// Write the scenario's objects as YAML to FILE and exit.
    #[arg(long, value_name = "FILE")]
    pub write_scenario: Option<PathBuf>,
    #[command(flatten)]
    pub faults: FaultArgs,
}

/// The cluster `sim --from-context` snapshots (these apply only with it).
#[derive(Debug, Args)]
#[command(next_help_heading = "With --from-context")]
pub struct FromContextArgs {
    /// The kubeconfig to read the context from (default: $KUBECONFIG, then ~/.kube/config).
    #[arg(long, value_name = "FILE", requires = "from_context")]
    pub kubeconfig: Option<PathBuf>,
    /// Only this namespace's DaemonSets.
    #[arg(short = 'n', long, value_name = "NAMESPACE", requires = "from_context")]
    pub namespace: Option<String>,
    /// Only DaemonSets whose labels match this selector (kubectl syntax).
    #[arg(short = 'l', long, value_name = "SELECTOR", requires = "from_context")]
    pub selector: Option<String>,
    /// Give up on a request the API server has not answered after this long (e.g. 10s).
    #[arg(long, value_name = "DURATION", value_parser = parse_request_timeout, requires = "from_context")]
    pub request_timeout: Option<std::time::Duration>,
}

/// Fault injection for `daemonscope sim` (these override the scenario's `settings.faults`).
#[derive(Debug, Default, Args)]
#[command(next_help_heading = "Fault injection")]
pub struct FaultArgs {
    /// End every open watch stream this often (e.g. 10s); clients must resume.
    #[arg(long, value_name = "DURATION", value_parser = parse_flag_duration)]
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
    #[arg(long, value_name = "DURATION", value_parser = parse_flag_duration)]
    pub latency: Option<std::time::Duration>,
    /// Forget the watch history this often: resuming watches get 410 Gone and must relist.
    #[arg(long, value_name = "DURATION", value_parser = parse_flag_duration)]
    pub expire_every: Option<std::time::Duration>,
    /// Stop answering for a while: AT+FOR after start (e.g. 30s+20s); repeatable.
    #[arg(long, value_name = "AT+FOR", value_parser = parse_window)]
    pub outage: Vec<(std::time::Duration, std::time::Duration)>,
    /// Restart at this time after start: down for --restart-down, back with a new state.
    #[arg(long, value_name = "DURATION", value_parser = parse_flag_duration)]
    pub restart_at: Option<std::time::Duration>,
    /// How long the restart keeps the server down (default 2s).
    #[arg(long, value_name = "DURATION", value_parser = parse_flag_duration, requires = "restart_at")]
    pub restart_down: Option<std::time::Duration>,
    /// The scenario the restarted server comes back with (default: the same one, reloaded
    /// with new identities).
    #[arg(long, value_name = "FILE", requires = "restart_at")]
    pub restart_scenario: Option<PathBuf>,
    /// Seed which requests fail, so a run can be repeated exactly (default: random).
    #[arg(long, value_name = "N")]
    pub fault_seed: Option<u64>,
}

impl FaultArgs {
    /// The scenario's faults with these flags on top.
    pub fn apply(&self, base: &mut FaultSettings) {
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
        if let Some(s) = self.fault_seed {
            base.seed = Some(s);
        }
        if let Some(at) = self.restart_at {
            base.restart = Some(Restart {
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

/// Whether `addr` (`host:port`) is reachable only from this machine: every address it
/// resolves to is a loopback one.
pub fn is_loopback(addr: &str) -> Result<bool, String> {
    use std::net::ToSocketAddrs;
    let addrs: Vec<_> = addr.to_socket_addrs().map_err(|e| format!("--listen {addr}: {e}"))?.collect();
    Ok(!addrs.is_empty() && addrs.iter().all(|a| a.ip().is_loopback()))
}

impl SimArgs {
    /// Lays the flags over the scenario: `--flavor`, `--feature-gates`, and the joins.
    pub fn shape(&self, sc: &mut super::scenario::Scenario) -> Result<(), String> {
        if let Some(f) = self.flavor {
            super::flavor::apply(sc, f);
        }
        for (gate, on) in self.feature_gates.iter().flatten() {
            sc.settings.feature_gates.get_or_insert_with(Default::default).insert(gate.clone(), *on);
        }
        self.add_joins(sc)
    }

    /// Lays `--join-every` and `--pull-duration` over the scenario: joins on its timeline,
    /// pull durations before its own.
    pub fn add_joins(&self, sc: &mut super::scenario::Scenario) -> Result<(), String> {
        let mut pulls = self.pull_duration.clone();
        pulls.append(&mut sc.pull_durations);
        sc.pull_durations = pulls;
        let Some(every) = self.join_every else { return Ok(()) };
        let spec =
            super::joins::JoinSpec { taints: self.join_taint.clone(), ready_after: self.join_ready_after.clone(), ..Default::default() };
        spec.check().map_err(|e| e.replace("join.taints", "--join-taint").replace("join.readyAfter", "--join-ready-after"))?;
        sc.timeline.extend(super::scenario::joins_every(every, self.join_count, &spec));
        sc.timeline.sort_by_key(|t| t.at);
        Ok(())
    }
}

fn parse_join_every(s: &str) -> Result<std::time::Duration, String> {
    match parse_flag_duration(s)? {
        d if d.is_zero() => Err(format!("invalid duration {s:?}: must be more than 0 (e.g. 20s)")),
        d => Ok(d),
    }
}

fn parse_pull_duration(s: &str) -> Result<(String, std::time::Duration), String> {
    let (image, d) = s.rsplit_once('=').ok_or_else(|| format!("{s:?}: expected IMAGE=DURATION (e.g. quay.io/cilium/*=20s)"))?;
    if image.trim().is_empty() {
        return Err(format!("{s:?}: expected IMAGE=DURATION (e.g. quay.io/cilium/*=20s)"));
    }
    Ok((image.trim().to_string(), parse_flag_duration(d)?))
}

fn parse_context_name(s: &str) -> Result<String, String> {
    super::kubeconfig::validate_context_name(s).map(|()| s.to_string())
}

fn parse_fraction(s: &str) -> Result<f64, String> {
    match s.parse::<f64>() {
        Ok(f) if (0.0..=1.0).contains(&f) => Ok(f),
        _ => Err(format!("{s:?} is not a fraction between 0 and 1 (e.g. 0.3)")),
    }
}

/// `--request-timeout` (with `--from-context`): a duration of more than zero.
fn parse_request_timeout(s: &str) -> Result<std::time::Duration, String> {
    match parse_flag_duration(s)? {
        d if d.is_zero() => Err(format!("invalid duration {s:?}: must be more than 0 (e.g. 10s)")),
        d => Ok(d),
    }
}

/// HTTPS with the credentials of the kubeconfig a previous run left at `kc` (or new
/// ones), or plain HTTP; refuses a remote --listen without --allow-remote, and a file at
/// `kc` this simulator did not write without --force (the one line to exit with).
pub fn transport(args: &SimArgs, kc: &std::path::Path) -> Result<super::Transport, String> {
    use super::kubeconfig::{Existing, inspect};
    if let Some(d) = kc.parent().filter(|d| !d.as_os_str().is_empty() && !d.is_dir()) {
        return Err(format!("cannot write the kubeconfig {}: {} is not a directory", kc.display(), d.display()));
    }
    match is_loopback(&args.listen)? {
        false if !args.allow_remote => {
            return Err(format!("--listen {} is reachable from other machines; add --allow-remote to serve there anyway", args.listen));
        }
        false => eprintln!(
            "daemonscope: warning: --listen {} is reachable from other machines: anyone who gets the token in {} can change the simulated cluster",
            args.listen,
            kc.display()
        ),
        true => {}
    }
    let reused = match inspect(kc) {
        Existing::Nothing => None,
        Existing::Ours(creds) => creds,
        Existing::Other(_) if args.force => None,
        Existing::Other(why) => {
            return Err(format!("{} {why}; leaving it alone (use --force to replace it, or --kubeconfig-out elsewhere)", kc.display()));
        }
    };
    if args.insecure_http {
        return Ok(super::Transport::InsecureHttp);
    }
    Ok(super::Transport::Https(reused.map(Ok).unwrap_or_else(super::Credentials::generate)?))
}

//! The binary: the top-level command line and its dispatch to the TUI, `status`, `serve`,
//! and (with the `sim` feature) the simulated cluster.
//!
//! May import: everything (it is the dispatch; the only importer of `sim`).

use std::path::PathBuf;

// jemalloc (the `jemalloc` feature, default): least CPU, peak no higher than glibc's
// (docs/benchmarks.md, "Allocator"); one arena, pages back within 100 ms.
#[cfg(all(feature = "jemalloc", not(feature = "mimalloc")))]
#[global_allocator]
static ALLOCATOR: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;
#[cfg(all(feature = "jemalloc", not(feature = "mimalloc")))]
#[unsafe(export_name = "_rjem_malloc_conf")]
static MALLOC_CONF: &[u8; 46] = b"narenas:1,dirty_decay_ms:100,muzzy_decay_ms:0\0";

use clap::{CommandFactory, FromArgMatches, Parser, Subcommand};
use color_eyre::eyre::Result;
use daemonscope::cli::{ClientArgs, ConfigArgs, FleetArgs, LogArgs, ServeArgs, StatusArgs};
use daemonscope::cluster::connect::{Source, Timeouts};
use daemonscope::cluster::snapshot::scenario::Anonymize;
#[cfg(feature = "sim")]
use daemonscope::sim::cli::{FromContextArgs, SimArgs};
use daemonscope::status::{fail, fail_with};

#[derive(Debug, Parser)]
#[command(name = "daemonscope", version, about = "Per-node DaemonSet coverage for Kubernetes operators", propagate_version = true)]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,

    /// Never change anything in the cluster.
    #[arg(long)]
    readonly: bool,
    /// Run on the embedded simulated cluster instead of a real one.
    #[cfg(feature = "sim")]
    #[arg(long)]
    demo: bool,
    /// The settings file (view, theme, keys, mouse) [default: $XDG_CONFIG_HOME/daemonscope/config.toml].
    #[arg(long, value_name = "FILE")]
    config: Option<PathBuf>,
    /// Leave the mouse to the terminal (text selection): no clicks or wheel in the TUI.
    #[arg(long)]
    no_mouse: bool,
    #[command(flatten)]
    log: LogArgs,
    #[command(flatten)]
    client: ClientArgs,
    #[command(flatten)]
    fleet: FleetArgs,
    /// Refuse input files (scenario, snapshot, config, kubeconfig) larger than this (e.g. 64MiB, 1GiB).
    #[arg(long, global = true, value_name = "SIZE", env = "DAEMONSCOPE_MAX_FILE_SIZE", default_value = "64MiB", value_parser = daemonscope::k8s::files::parse_size)]
    max_file_size: u64,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run the simulated cluster as a standalone API server that kubectl can talk to.
    #[cfg(feature = "sim")]
    Sim(Box<SimCommand>),
    /// Print DaemonSet coverage (every node's state and why) for scripts and CI gates.
    /// Exit 0: every selected DaemonSet is ready on every node that should run it and
    /// nothing is misscheduled; 1: not (or --wait timed out); 2: an error.
    Status {
        #[command(flatten)]
        args: StatusArgs,
        #[command(flatten)]
        log: LogArgs,
        #[command(flatten)]
        client: ClientArgs,
        #[command(flatten)]
        fleet: FleetArgs,
    },
    /// Write a live cluster's layout (nodes, DaemonSets, how their pods behave) as a
    /// simulator scenario, to rehearse a change on it first (`daemonscope sim --scenario`).
    Snapshot {
        #[command(flatten)]
        args: daemonscope::cli::SnapshotArgs,
        #[command(flatten)]
        log: LogArgs,
        #[command(flatten)]
        client: ClientArgs,
    },
    /// Serve DaemonSet coverage to Prometheus: /metrics, /healthz, /readyz and
    /// /api/v1/status (the JSON of `status -o json`). Runs until SIGTERM.
    Serve {
        #[command(flatten)]
        args: ServeArgs,
        /// Serve the embedded simulated cluster's coverage instead of a real one's.
        #[cfg(feature = "sim")]
        #[arg(long)]
        demo: bool,
        #[command(flatten)]
        log: LogArgs,
        #[command(flatten)]
        client: ClientArgs,
    },
    /// Cordon nodes and evict their pods as `kubectl drain` does, naming the budget that
    /// blocks an eviction. Exit 0: drained; 1: refused or still held at --timeout; 2: bad input.
    Drain {
        #[command(flatten)]
        args: daemonscope::cli::DrainArgs,
        #[command(flatten)]
        log: LogArgs,
    },
    /// Before you apply: what a DaemonSet (or a change of one) would do on every node — run,
    /// not eligible, not fit, preempt. Exit 0: every targeted node would run it; 1: not; 2: bad input.
    Preflight {
        #[command(flatten)]
        args: daemonscope::cli::PreflightArgs,
        #[command(flatten)]
        log: LogArgs,
        #[command(flatten)]
        client: ClientArgs,
    },
    /// Check the config file, print its path, or print a commented default config.
    Config(ConfigArgs),
    /// Print a shell completion script (e.g. `daemonscope completions bash > /etc/bash_completion.d/daemonscope`).
    Completions {
        #[arg(value_enum)]
        shell: clap_complete::Shell,
    },
    /// Print the man page (roff), or write one page per command into a directory.
    Man {
        /// Write daemonscope.1 and daemonscope-COMMAND.1 here instead of printing daemonscope.1.
        #[arg(long, value_name = "DIR")]
        out_dir: Option<PathBuf>,
    },
}

/// `daemonscope sim`: its own flags, and where `--from-context` reads the cluster.
#[cfg(feature = "sim")]
#[derive(Debug, clap::Args)]
struct SimCommand {
    #[command(flatten)]
    sim: SimArgs,
    #[command(flatten)]
    log: LogArgs,
    #[command(flatten)]
    from: FromContextArgs,
}

/// `kubectl daemonscope` when run as the kubectl plugin (named `kubectl-daemonscope`), so usage reads as typed.
fn bin_name() -> &'static str {
    let argv0 = std::env::args_os().next().map(PathBuf::from);
    let file = argv0.as_deref().and_then(|p| p.file_stem()).map(|s| s.to_string_lossy().into_owned()).unwrap_or_default();
    if file == "kubectl-daemonscope" { "kubectl daemonscope" } else { "daemonscope" }
}

fn main() -> Result<()> {
    color_eyre::config::HookBuilder::default().display_env_section(false).install()?;
    let matches = Cli::command().bin_name(bin_name()).get_matches();
    let cli = Cli::from_arg_matches(&matches).unwrap_or_else(|e| e.exit());
    daemonscope::k8s::files::set_max(cli.max_file_size);
    let inv = Invocation::of(&cli, matches.subcommand_name().unwrap_or(""));
    match (&cli.command, &inv.log.log_file) {
        (Some(Command::Serve { .. }), None) => daemonscope::logging::init_stderr(),
        (Some(Command::Config(_) | Command::Completions { .. } | Command::Man { .. }), _) => {}
        (_, log_file) => {
            daemonscope::logging::init(log_file.as_deref());
        }
    }
    match cli.command {
        #[cfg(feature = "sim")]
        // A scenario, a port or a file the user named: one line, never a report.
        Some(Command::Sim(ref args)) => {
            simulator::run_sim(&inv, &args.sim).unwrap_or_else(|e| fail(e));
            Ok(())
        }
        Some(Command::Status { ref args, .. }) => run_status(&inv, args, cli.config.as_deref()),
        Some(Command::Snapshot { ref args, .. }) => run_snapshot(&inv, args),
        Some(Command::Serve { ref args, .. }) => run_serve(&inv, args, cli.config.as_deref()),
        Some(Command::Drain { ref args, .. }) => run_drain(&inv, args),
        Some(Command::Preflight { ref args, .. }) => run_preflight(&inv, args),
        Some(Command::Config(ref args)) => {
            match daemonscope::config::command(args, cli.config.as_deref()) {
                Ok(out) => daemonscope::cli::print_bytes(out.as_bytes()).unwrap_or_else(|e| fail_with(2, e)),
                Err(line) => fail_with(1, line),
            }
            Ok(())
        }
        Some(Command::Completions { shell }) => {
            let mut script = Vec::new();
            clap_complete::generate(shell, &mut Cli::command(), "daemonscope", &mut script);
            daemonscope::cli::print_bytes(&script).unwrap_or_else(|e| fail_with(2, e));
            Ok(())
        }
        Some(Command::Man { ref out_dir }) => {
            daemonscope::cli::man(Cli::command(), out_dir.as_deref()).unwrap_or_else(|e| fail_with(2, e));
            Ok(())
        }
        None => run_tui(&cli, &inv),
    }
}

/// What a run works on: the cluster flags (the subcommand's, filled in by those before it), the log, the demo.
struct Invocation {
    client: ClientArgs,
    /// Several clusters at once (the TUI and `status` only).
    fleet: FleetArgs,
    log: LogArgs,
    demo: bool,
    /// `status`, `snapshot` and `serve` promise exit code 2 for bad input; the TUI has
    /// always used 1.
    bad_input_code: i32,
}

impl Invocation {
    /// `name`: the subcommand's, as typed.
    fn of(cli: &Cli, name: &str) -> Invocation {
        #[cfg(feature = "sim")]
        let top_demo = cli.demo;
        #[cfg(not(feature = "sim"))]
        let top_demo = false;
        let before = &cli.client;
        let (client, log, demo, code) = match &cli.command {
            None => (cli.client.clone(), cli.log.clone(), top_demo, 1),
            Some(Command::Status { args, client, log, .. }) => (client.clone().or(before), log.or(&cli.log), top_demo || args.demo, 2),
            Some(Command::Snapshot { client, log, .. } | Command::Preflight { client, log, .. }) => {
                (client.clone().or(before), log.or(&cli.log), false, 2)
            }
            Some(Command::Drain { args, log }) => (args.client().or(before), log.or(&cli.log), false, 2),
            #[cfg(feature = "sim")]
            Some(Command::Serve { client, log, demo, .. }) => (client.clone().or(before), log.or(&cli.log), top_demo || *demo, 2),
            #[cfg(not(feature = "sim"))]
            Some(Command::Serve { client, log, .. }) => (client.clone().or(before), log.or(&cli.log), false, 2),
            #[cfg(feature = "sim")]
            Some(Command::Sim(s)) => {
                let f = &s.from;
                let client = ClientArgs {
                    kubeconfig: f.kubeconfig.clone(),
                    namespace: f.namespace.clone(),
                    selector: f.selector.clone(),
                    request_timeout: f.request_timeout,
                    ..ClientArgs::default()
                };
                (client, s.log.or(&cli.log), false, 1)
            }
            Some(Command::Config(_) | Command::Completions { .. } | Command::Man { .. }) => {
                (ClientArgs::default(), LogArgs::default(), false, 2)
            }
        };
        // Flags before a subcommand that does not take them would be ignored in silence.
        if let Some(sub) = &cli.command {
            let takes_client =
                matches!(sub, Command::Status { .. } | Command::Snapshot { .. } | Command::Serve { .. } | Command::Preflight { .. });
            let mut stray = if takes_client { Vec::new() } else { cli.client.given() };
            if let Command::Drain { .. } = sub {
                stray.retain(|f| !matches!(*f, "--kubeconfig" | "--context" | "--request-timeout"));
            }
            if !matches!(sub, Command::Status { .. }) {
                stray.extend(cli.fleet.given());
            }
            if cli.no_mouse {
                stray.push("--no-mouse");
            }
            if cli.log.log_file.is_some() && matches!(sub, Command::Config(_) | Command::Completions { .. } | Command::Man { .. }) {
                stray.push("--log-file");
            }
            if cli.readonly {
                stray.push("--readonly");
            }
            if cli.config.is_some() && !matches!(sub, Command::Config(_)) {
                stray.push("--config");
            }
            if top_demo && !matches!(sub, Command::Status { .. } | Command::Serve { .. }) {
                stray.push("--demo");
            }
            if let Some(f) = stray.first() {
                fail_with(2, format!("{f} does not apply to `daemonscope {name}` (see `daemonscope {name} --help`)"));
            }
        }
        let fleet = match &cli.command {
            None => cli.fleet.clone(),
            Some(Command::Status { fleet, .. }) => fleet.clone().or(&cli.fleet),
            _ => FleetArgs::default(),
        };
        Invocation { client, fleet, log, demo, bad_input_code: code }
    }

    fn load_source(&self) -> Source {
        Source::load(self.client.kubeconfig().as_deref(), Timeouts::request_timeout(self.client.request_timeout))
            .unwrap_or_else(|e| fail_with(self.bad_input_code, e))
            .with_fetch(daemonscope::cluster::listwatch::Fetch {
                watch_list: self.client.watch_list.unwrap_or_default(),
                wire: self.client.wire.unwrap_or_default(),
            })
    }
}

fn scope(inv: &Invocation) -> daemonscope::cluster::watch::Scope {
    let c = &inv.client;
    if let Some(sel) = &c.selector
        && let Err(e) = daemonscope::k8s::selector::LabelSelector::parse(sel)
    {
        fail_with(inv.bad_input_code, format!("invalid -l selector: {e}"));
    }
    daemonscope::cluster::watch::Scope {
        namespace: if c.all_namespaces { None } else { c.namespace.clone() },
        selector: c.selector.clone(),
    }
}

/// The fleet the context flags ask for (None: one cluster), checked against the
/// kubeconfig; `what` names the command for one that watches a single cluster only.
fn fleet(inv: &Invocation, source: Option<&Source>, what: Option<&str>) -> Option<Vec<String>> {
    let f = &inv.fleet;
    let sel = daemonscope::cluster::fleet::Selection::from_flags(&inv.client.context, f.contexts.as_deref(), f.all_contexts)?;
    if let Some(what) = what {
        fail_with(2, format!("{what} watches one cluster: give one --context (several contexts are for the TUI and `status`)"));
    }
    let source = source?;
    Some(sel.resolve(source).unwrap_or_else(|e| fail_with(inv.bad_input_code, e)))
}

/// `--demo` is one simulated cluster: several contexts with it are a mistake, said in one line.
fn demo_is_one_cluster(inv: &Invocation) {
    let f = &inv.fleet;
    if daemonscope::cluster::fleet::Selection::from_flags(&inv.client.context, f.contexts.as_deref(), f.all_contexts).is_some() {
        let why = "--demo is one cluster: several contexts (--context …, --contexts, --all-contexts) need a kubeconfig";
        fail_with(inv.bad_input_code, why);
    }
}

/// The one context asked for (None: the current one).
fn context(inv: &Invocation) -> Option<&str> {
    inv.client.context.last().map(String::as_str)
}

/// Whether to run on the embedded simulated cluster (`--demo`, before or after `status`).
fn wants_demo(inv: &Invocation) -> bool {
    let local = inv.demo || inv.client.from.is_some();
    if local && cfg!(not(feature = "sim")) {
        fail_with(2, "--demo and --from need the simulator, which this build leaves out (build with the default `sim` feature)");
    }
    local
}

fn run_tui(cli: &Cli, inv: &Invocation) -> Result<()> {
    use std::io::IsTerminal;
    let scope = scope(inv);
    // A bad config is one line, and the TUI starts with the defaults (the line is shown
    // again on the hint bar, where the terminal is taken).
    let mut settings = daemonscope::config::load_for_tui(cli.config.as_deref());
    settings.mouse &= !cli.no_mouse;
    if let Some(line) = &settings.note {
        daemonscope::status::say(&format!("daemonscope: {line}"));
    }
    // The TUI takes over a terminal; without one there is nothing to draw on. (Checked
    // after the kubeconfig, so a bad one is still named first.)
    let need_terminal = || {
        if !std::io::stdout().is_terminal() || !std::io::stdin().is_terminal() {
            fail("daemonscope needs a terminal; for scripts use `daemonscope status`");
        }
    };
    let rt = tokio::runtime::Runtime::new()?;
    let ended = rt.block_on(async {
        #[cfg(feature = "sim")]
        if wants_demo(inv) {
            demo_is_one_cluster(inv);
            need_terminal();
            let (running, client, context) = simulator::local(inv).unwrap_or_else(|e| fail(e));
            let source = Source::Fixed { client: client.clone(), context: context.clone() };
            let readonly = cli.readonly || inv.client.from.is_some();
            let r = daemonscope::tui::run(source, client.into(), context, scope, readonly, settings).await;
            drop(running);
            return r;
        }
        let source = inv.load_source();
        if let Some(contexts) = fleet(inv, Some(&source), None) {
            need_terminal();
            return daemonscope::fleet_tui::run(source, contexts, scope, cli.readonly, settings).await;
        }
        // Fail before the terminal is taken: an unknown context is one clear line.
        let (client, context) = source.client(context(inv)).await.unwrap_or_else(|e| fail(e));
        need_terminal();
        daemonscope::tui::run(source, client, context, scope, cli.readonly, settings).await
    });
    // The terminal failing (closed, not a terminal after all) is not a bug: one line.
    match ended.unwrap_or_else(|e| fail(format!("terminal: {e}"))) {
        daemonscope::runner::Ended::Quit => Ok(()),
        // The terminal is restored; exit as the signal would have (128 + its number).
        daemonscope::runner::Ended::Signal(n) => std::process::exit(128 + n),
    }
}

/// `daemonscope status`: one report (or a wait), then exit 0 / 1 / 2.
fn run_status(inv: &Invocation, args: &StatusArgs, config: Option<&std::path::Path>) -> Result<()> {
    let args = &daemonscope::config::with_critical(args, config);
    let scope = scope(inv);
    let demo = wants_demo(inv);
    let rt = tokio::runtime::Runtime::new()?;
    let code = rt.block_on(async {
        let mut out = std::io::stdout();
        #[cfg(feature = "sim")]
        if demo {
            demo_is_one_cluster(inv);
            let (running, client, context) = simulator::local(inv).unwrap_or_else(|e| fail_with(2, e));
            let code = daemonscope::status::run(client.into(), context, None, scope, args, &mut out).await;
            drop(running);
            return code;
        }
        let _ = demo;
        let source = inv.load_source();
        if let Some(contexts) = fleet(inv, Some(&source), None) {
            return daemonscope::status::fleet::run(&source, &contexts, scope, args, &mut out).await;
        }
        let (client, context) = source.client(context(inv)).await.unwrap_or_else(|e| fail_with(2, e));
        let server = source.server(&context);
        daemonscope::status::run(client, context, server, scope, args, &mut out).await
    });
    drop(rt);
    std::process::exit(code);
}

/// `daemonscope snapshot`: the cluster in scope as a scenario, to a file or stdout.
fn run_snapshot(inv: &Invocation, args: &daemonscope::cli::SnapshotArgs) -> Result<()> {
    let scope = scope(inv);
    fleet(inv, None, Some("snapshot"));
    if let Some(path) = &args.output {
        daemonscope::cluster::snapshot::check_output(path).unwrap_or_else(|e| fail_with(2, e));
    }
    let rt = tokio::runtime::Runtime::new()?;
    rt.block_on(async {
        let started = std::time::Instant::now();
        // `--from PATH`: a dump, served in-process, snapshotted like a cluster.
        #[cfg(feature = "sim")]
        let local = wants_demo(inv).then(|| simulator::local(inv).unwrap_or_else(|e| fail_with(2, e)));
        #[cfg(not(feature = "sim"))]
        let local: Option<((), kube::Client, String)> = wants_demo(inv).then(|| unreachable!());
        let (cluster, context) = match &local {
            Some((_, client, context)) => (client.clone().into(), context.clone()),
            None => inv.load_source().client(context(inv)).await.unwrap_or_else(|e| fail_with(2, e)),
        };
        let level = args.anonymize.as_deref().map(|a| if a == "all" { Anonymize::All } else { Anonymize::On });
        let yaml =
            daemonscope::cluster::snapshot::scenario_yaml(&cluster, &context, &scope, level).await.unwrap_or_else(|e| fail_with(2, e));
        match &args.output {
            Some(path) => {
                std::fs::write(path, &yaml).unwrap_or_else(|e| fail_with(2, format!("writing {}: {e}", path.display())));
                let (p, kib, secs) = (path.display(), yaml.len() / 1024, started.elapsed().as_secs_f64());
                daemonscope::status::say(&format!(
                    "wrote a snapshot of {context} to {p} ({kib} KiB) in {secs:.1}s; try it: daemonscope sim --scenario {p}"
                ));
            }
            None => print!("{yaml}"),
        }
        Ok(())
    })
}

/// `daemonscope drain NODE…`: bad input is one line and exit 2; then kubectl drain's lines and exit code.
fn run_drain(inv: &Invocation, args: &daemonscope::cli::DrainArgs) -> Result<()> {
    let settings = daemonscope::drain::settings(args).unwrap_or_else(|e| fail_with(2, e));
    let rt = tokio::runtime::Runtime::new()?;
    let code = rt.block_on(async {
        let (cluster, _) = inv.load_source().client(context(inv)).await.unwrap_or_else(|e| fail_with(2, e));
        daemonscope::drain::run(&cluster, args, &settings, &mut std::io::stdout()).await
    });
    rt.shutdown_timeout(std::time::Duration::from_millis(500));
    std::process::exit(code);
}

/// `daemonscope preflight -f FILE…`: on a cluster or `--from` a dump.
fn run_preflight(inv: &Invocation, args: &daemonscope::cli::PreflightArgs) -> Result<()> {
    let dss = daemonscope::preflight::read_manifests(&args.files).unwrap_or_else(|e| fail_with(2, e));
    let rt = tokio::runtime::Runtime::new()?;
    let code = rt.block_on(async {
        #[cfg(feature = "sim")]
        if wants_demo(inv) {
            let (_running, client, context) = simulator::local(inv).unwrap_or_else(|e| fail_with(2, e));
            return daemonscope::preflight::run(&client.into(), &context, &dss, args, &mut std::io::stdout()).await;
        }
        daemonscope::preflight::run_contexts(&inv.load_source(), &inv.client.context, &dss, args, &mut std::io::stdout()).await
    });
    rt.shutdown_timeout(std::time::Duration::from_millis(500));
    std::process::exit(code);
}

/// `daemonscope serve`: bad input (listen address, port in use, selector, kubeconfig) is
/// one line and exit 2; after that it serves until SIGTERM, whatever the API server does.
fn run_serve(inv: &Invocation, args: &ServeArgs, config: Option<&std::path::Path>) -> Result<()> {
    let args = &daemonscope::config::serve_with_critical(args.clone(), config);
    let scope = scope(inv);
    fleet(inv, None, Some("serve"));
    let listener = daemonscope::serve::bind(args).unwrap_or_else(|e| fail_with(2, e));
    let rt = tokio::runtime::Runtime::new()?;
    let code = rt.block_on(async {
        let shutdown = daemonscope::runner::shutdown_signal();
        #[cfg(feature = "sim")]
        if wants_demo(inv) {
            let (running, client, context) = simulator::local(inv).unwrap_or_else(|e| fail_with(2, e));
            let code = daemonscope::serve::run(client.into(), context, scope, args, listener, shutdown).await;
            drop(running);
            return code;
        }
        let source = inv.load_source();
        let (client, context) = source.client(context(inv)).await.unwrap_or_else(|e| fail_with(2, e));
        daemonscope::serve::run(client, context, scope, args, listener, shutdown).await
    });
    rt.shutdown_timeout(std::time::Duration::from_millis(500));
    std::process::exit(code);
}

/// The simulated cluster: `--demo` in-process, and `daemonscope sim` on a socket.
#[cfg(feature = "sim")]
mod simulator {
    use daemonscope::sim::{self, Sim, SimOptions, cli::SimArgs, generator, scenario::Scenario};

    /// `$XDG_CACHE_HOME/daemonscope/sim.kubeconfig` (`~/.cache/...`).
    fn default_sim_kubeconfig() -> std::path::PathBuf {
        let dir = daemonscope::logging::xdg_dir("XDG_CACHE_HOME", ".cache");
        let _ = std::fs::create_dir_all(&dir); // the default's directory only: --kubeconfig-out's must exist
        dir.join("sim.kubeconfig")
    }

    /// `--from PATH` or `--demo`, served in-process: the simulator, a client and the context
    /// name; what a dump holds and lacks is said first, one line each.
    pub fn local(inv: &super::Invocation) -> Result<(sim::Running, kube::Client, String), String> {
        let l = sim::offline::local(inv.client.from.as_deref())?;
        l.notes.iter().for_each(|n| daemonscope::status::say(&format!("daemonscope: {n}")));
        Ok((l.running, l.client, l.context))
    }

    fn load_scenario(inv: &super::Invocation, args: &SimArgs) -> Result<Scenario, String> {
        if let Some(path) = &args.from {
            let (sc, _, notes) = sim::offline::scenario(path)?;
            notes.iter().for_each(|n| daemonscope::status::say(&format!("daemonscope: {n}")));
            return Ok(sc);
        }
        if let Some(ctx) = &args.from_context {
            // Snapshot a live cluster and serve it in one step.
            let rt = tokio::runtime::Runtime::new().map_err(|e| e.to_string())?;
            let yaml = rt.block_on(async {
                let source = inv.load_source();
                let (cluster, context) = source.client(Some(ctx)).await.unwrap_or_else(|e| super::fail(e));
                daemonscope::cluster::snapshot::scenario_yaml(&cluster, &context, &super::scope(inv), None)
                    .await
                    .unwrap_or_else(|e| super::fail_with(2, e))
            });
            return Scenario::parse(&format!("snapshot of {ctx}"), &yaml).map_err(|e| e.to_string());
        }
        let sc = match (&args.scenario, args.nodes, args.daemonsets) {
            (Some(path), _, _) => Scenario::load(path),
            (None, Some(n), Some(m)) => {
                Ok(generator::checked_scenario_with(n, m, args.workloads_per_node).unwrap_or_else(|e| super::fail_with(2, e)))
            }
            _ => Scenario::parse(sim::offline::DEMO_NAME, sim::offline::DEMO),
        };
        sc.map_err(|e| e.to_string())
    }

    /// `daemonscope sim`; every error is the user's to fix (a scenario, a port, a path),
    /// so it is one line.
    pub fn run_sim(inv: &super::Invocation, args: &SimArgs) -> Result<(), String> {
        let mut sc = load_scenario(inv, args)?;
        args.shape(&mut sc)?;
        if let Some(path) = &args.write_scenario {
            std::fs::write(path, generator::to_yaml(&sc)).map_err(|e| format!("cannot write {}: {e}", path.display()))?;
            eprintln!("wrote {} objects to {}", sc.objects.len(), path.display());
            return Ok(());
        }
        let rt = tokio::runtime::Runtime::new().map_err(|e| format!("cannot start the runtime: {e}"))?;
        rt.block_on(async move {
            // Listen for SIGTERM before anything is printed: a supervisor that reads the
            // banner and stops the simulator at once must get a clean exit.
            let shutdown = daemonscope::runner::shutdown_signal();
            let started = std::time::Instant::now();
            let mut opts = SimOptions::from_scenario(&sc);
            args.faults.apply(&mut opts.faults);
            opts.registry_allow = args.registry_allow.clone();
            opts.frozen = args.frozen;
            if let Some(b) = args.bookmark_interval {
                opts.bookmark_interval = b;
            }
            let kc = args.kubeconfig_out.clone().unwrap_or_else(default_sim_kubeconfig);
            let transport = sim::cli::transport(args, &kc).unwrap_or_else(|e| super::fail(e));
            let built = Sim::build(&sc, opts).map_err(|e| format!("{}: {}", sc.name, e.message))?;
            let faults = built.api.faults.settings();
            let running = built.serve_with(&args.listen, transport).await.map_err(|e| format!("cannot listen on {}: {e}", args.listen))?;
            let name = args.context_name.as_deref().unwrap_or(sim::CONTEXT_NAME);
            let yaml = sim::kubeconfig::standalone_yaml_named(running.url(), running.credentials.as_ref(), name);
            sim::kubeconfig::write_private(&kc, &yaml).map_err(|e| format!("cannot write the kubeconfig {}: {e}", kc.display()))?;
            let (nodes, pods) = running.store.read(|i| (i.nodes.len(), i.pods.len()));
            let (nodes, pods) = (daemonscope::k8s::words::count(nodes as u64, "node"), daemonscope::k8s::words::count(pods as u64, "pod"));
            println!("daemonscope sim: {} — {nodes}, {pods}, ready in {:.1}s", sc.name, started.elapsed().as_secs_f64());
            println!("serving {}", running.url());
            if !faults.is_none() {
                println!("injecting faults: {}", daemonscope::sim::faults::describe(&faults));
            }
            println!("kubeconfig {} (context {name})", kc.display());
            println!("  export KUBECONFIG={}", kc.display());
            println!("Ctrl-C to stop");
            shutdown.await;
            drop(running);
            Ok(())
        })
    }
}

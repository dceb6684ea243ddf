//! The binary: the top-level command line and its dispatch to the TUI, `status`, `serve`,
//! and (with the `sim` feature) the simulated cluster.

use std::path::PathBuf;

use clap::{Parser, Subcommand};
use color_eyre::eyre::Result;
use daemonscope::cli::{ServeArgs, StatusArgs};
use daemonscope::cluster::connect::Source;
#[cfg(feature = "sim")]
use daemonscope::sim::cli::SimArgs;

#[derive(Debug, Parser)]
#[command(name = "daemonscope", version, about = "Per-node DaemonSet coverage for Kubernetes operators", propagate_version = true)]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,

    /// Path to the kubeconfig file (default: $KUBECONFIG, then ~/.kube/config).
    #[arg(long, global = true, env = "KUBECONFIG", value_name = "FILE")]
    kubeconfig: Option<PathBuf>,
    /// The kubeconfig context to use (default: the current context).
    #[arg(long, global = true, value_name = "NAME")]
    context: Option<String>,
    /// Only this namespace.
    #[arg(short = 'n', long, global = true, value_name = "NAMESPACE", conflicts_with = "all_namespaces")]
    namespace: Option<String>,
    /// All namespaces.
    #[arg(short = 'A', long, global = true)]
    all_namespaces: bool,
    /// Only DaemonSets whose labels match this selector (kubectl syntax).
    #[arg(short = 'l', long, global = true, value_name = "SELECTOR")]
    selector: Option<String>,
    /// Never change anything in the cluster.
    #[arg(long, global = true)]
    readonly: bool,
    /// Run on the embedded simulated cluster instead of a real one.
    #[cfg(feature = "sim")]
    #[arg(long)]
    demo: bool,
    /// Where to write the log (default: $XDG_STATE_HOME/daemonscope/daemonscope.log).
    #[arg(long, global = true, value_name = "FILE")]
    log_file: Option<PathBuf>,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run the simulated cluster as a standalone API server that kubectl can talk to.
    #[cfg(feature = "sim")]
    Sim(Box<SimArgs>),
    /// Print DaemonSet coverage (every node's state and why) for scripts and CI gates.
    /// Exit 0: every selected DaemonSet is ready on every node that should run it and
    /// nothing is misscheduled; 1: not (or --wait timed out); 2: an error.
    Status(StatusArgs),
    /// Serve DaemonSet coverage to Prometheus: /metrics, /healthz, /readyz and
    /// /api/v1/status (the JSON of `status -o json`). Runs until SIGTERM.
    Serve(ServeArgs),
}

fn main() -> Result<()> {
    color_eyre::config::HookBuilder::default().display_env_section(false).install()?;
    let cli = Cli::parse();
    match (&cli.command, &cli.log_file) {
        (Some(Command::Serve(_)), None) => daemonscope::logging::init_stderr(),
        _ => {
            daemonscope::logging::init(cli.log_file.as_deref());
        }
    }
    match cli.command {
        #[cfg(feature = "sim")]
        Some(Command::Sim(ref args)) => simulator::run_sim(args),
        Some(Command::Status(ref args)) => run_status(&cli, args),
        Some(Command::Serve(ref args)) => run_serve(&cli, args),
        None => run_tui(&cli),
    }
}

/// Exits with one clear line (no backtrace) for errors the user can fix.
fn fail(msg: impl std::fmt::Display) -> ! {
    fail_with(1, msg)
}

fn fail_with(code: i32, msg: impl std::fmt::Display) -> ! {
    eprintln!("daemonscope: {msg}");
    std::process::exit(code);
}

fn scope(cli: &Cli) -> daemonscope::cluster::watch::Scope {
    // `status` and `serve` promise exit code 2 for bad input; the TUI has always used 1.
    let code = if matches!(cli.command, Some(Command::Status(_) | Command::Serve(_))) { 2 } else { 1 };
    if let Some(sel) = &cli.selector
        && let Err(e) = daemonscope::k8s::selector::LabelSelector::parse(sel)
    {
        fail_with(code, format!("invalid -l selector: {e}"));
    }
    daemonscope::cluster::watch::Scope {
        namespace: if cli.all_namespaces { None } else { cli.namespace.clone() },
        selector: cli.selector.clone(),
    }
}

/// Whether to run on the embedded simulated cluster (`--demo`, before or after `status`).
fn wants_demo(cli: &Cli, status: Option<&StatusArgs>) -> bool {
    #[cfg(feature = "sim")]
    let top = cli.demo;
    #[cfg(not(feature = "sim"))]
    let top = {
        let _ = cli;
        false
    };
    let demo = top || status.is_some_and(|s| s.demo);
    if demo && cfg!(not(feature = "sim")) {
        fail_with(2, "--demo needs the simulator, which this build leaves out (build with the default `sim` feature)");
    }
    demo
}

fn run_tui(cli: &Cli) -> Result<()> {
    use std::io::IsTerminal;
    let scope = scope(cli);
    // The TUI takes over a terminal; without one there is nothing to draw on. (Checked
    // after the kubeconfig, so a bad one is still named first.)
    let need_terminal = || {
        if !std::io::stdout().is_terminal() || !std::io::stdin().is_terminal() {
            fail("daemonscope needs a terminal; for scripts use `daemonscope status`");
        }
    };
    let rt = tokio::runtime::Runtime::new()?;
    rt.block_on(async {
        #[cfg(feature = "sim")]
        if wants_demo(cli, None) {
            need_terminal();
            let (running, client) = simulator::demo().map_err(|e| color_eyre::eyre::eyre!(e))?;
            let context = "demo (simulated cluster)".to_string();
            let source = Source::Fixed { client: client.clone(), context: context.clone() };
            let r = daemonscope::tui::run(source, client.into(), context, scope, cli.readonly).await;
            drop(running);
            return r;
        }
        let source = Source::load(cli.kubeconfig.as_deref()).unwrap_or_else(|e| fail(e));
        // Fail before the terminal is taken: an unknown context is one clear line.
        let (client, context) = source.client(cli.context.as_deref()).await.unwrap_or_else(|e| fail(e));
        need_terminal();
        daemonscope::tui::run(source, client, context, scope, cli.readonly).await
    })
}

/// `daemonscope status`: one report (or a wait), then exit 0 / 1 / 2.
fn run_status(cli: &Cli, args: &StatusArgs) -> Result<()> {
    let scope = scope(cli);
    let demo = wants_demo(cli, Some(args));
    let rt = tokio::runtime::Runtime::new()?;
    let code = rt.block_on(async {
        let mut out = std::io::stdout();
        #[cfg(feature = "sim")]
        if demo {
            let (running, client) = simulator::demo().unwrap_or_else(|e| fail_with(2, e));
            let code = daemonscope::status::run(client.into(), "demo (simulated cluster)".into(), None, scope, args, &mut out).await;
            drop(running);
            return code;
        }
        let _ = demo;
        let source = Source::load(cli.kubeconfig.as_deref()).unwrap_or_else(|e| fail_with(2, e));
        let (client, context) = source.client(cli.context.as_deref()).await.unwrap_or_else(|e| fail_with(2, e));
        let server = source.server(&context);
        daemonscope::status::run(client, context, server, scope, args, &mut out).await
    });
    drop(rt);
    std::process::exit(code);
}

/// `daemonscope serve`: bad input (listen address, port in use, selector, kubeconfig) is
/// one line and exit 2; after that it serves until SIGTERM, whatever the API server does.
fn run_serve(cli: &Cli, args: &ServeArgs) -> Result<()> {
    let scope = scope(cli);
    let listener = daemonscope::serve::bind(args).unwrap_or_else(|e| fail_with(2, e));
    let rt = tokio::runtime::Runtime::new()?;
    let code = rt.block_on(async {
        let shutdown = shutdown_signal();
        #[cfg(feature = "sim")]
        if wants_demo(cli, None) {
            let (running, client) = simulator::demo().unwrap_or_else(|e| fail_with(2, e));
            let code = daemonscope::serve::run(client.into(), "demo (simulated cluster)".into(), scope, args, listener, shutdown).await;
            drop(running);
            return code;
        }
        let source = Source::load(cli.kubeconfig.as_deref()).unwrap_or_else(|e| fail_with(2, e));
        let (client, context) = source.client(cli.context.as_deref()).await.unwrap_or_else(|e| fail_with(2, e));
        daemonscope::serve::run(client, context, scope, args, listener, shutdown).await
    });
    rt.shutdown_timeout(std::time::Duration::from_millis(500));
    std::process::exit(code);
}

/// Resolves on Ctrl-C or SIGTERM; the handlers are installed when this is called, not
/// when it is first awaited.
fn shutdown_signal() -> impl std::future::Future<Output = ()> + Send + 'static {
    #[cfg(unix)]
    let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()).expect("SIGTERM handler");
    let ctrl_c = tokio::signal::ctrl_c();
    async move {
        #[cfg(unix)]
        tokio::select! {
            _ = ctrl_c => {}
            _ = term.recv() => {}
        }
        #[cfg(not(unix))]
        let _ = ctrl_c.await;
    }
}

/// The simulated cluster: `--demo` in-process, and `daemonscope sim` on a socket.
#[cfg(feature = "sim")]
mod simulator {
    use color_eyre::eyre::{Result, WrapErr};
    use daemonscope::sim::{self, Sim, SimOptions, cli::SimArgs, generator, scenario::Scenario};

    /// The demo scenario, embedded so `--demo` and `sim` need no files.
    const DEMO: &str = include_str!("../assets/scenarios/demo.yaml");

    /// `$XDG_CACHE_HOME/daemonscope/sim.kubeconfig` (`~/.cache/...`).
    fn default_sim_kubeconfig() -> std::path::PathBuf {
        daemonscope::logging::xdg_dir("XDG_CACHE_HOME", ".cache").join("sim.kubeconfig")
    }

    /// The embedded demo cluster, running in-process, and a client that talks to it with no socket.
    pub fn demo() -> Result<(sim::Running, kube::Client), String> {
        let sc = Scenario::parse("assets/scenarios/demo.yaml (embedded)", DEMO).map_err(|e| e.to_string())?;
        let built = Sim::build(&sc, SimOptions::from_scenario(&sc)).map_err(|e| format!("loading the demo: {e}"))?;
        let running = built.spawn();
        let client = kube::Client::new(running.router(), "default");
        Ok((running, client))
    }

    fn load_scenario(args: &SimArgs) -> Result<Scenario> {
        Ok(match (&args.scenario, args.nodes, args.daemonsets) {
            (Some(path), _, _) => Scenario::load(path)?,
            (None, Some(n), Some(m)) => generator::scenario(n, m),
            _ => Scenario::parse("assets/scenarios/demo.yaml (embedded)", DEMO)?,
        })
    }

    pub fn run_sim(args: &SimArgs) -> Result<()> {
        let sc = load_scenario(args)?;
        if let Some(path) = &args.write_scenario {
            std::fs::write(path, generator::to_yaml(&sc)).wrap_err_with(|| format!("writing {}", path.display()))?;
            eprintln!("wrote {} objects to {}", sc.objects.len(), path.display());
            return Ok(());
        }
        let rt = tokio::runtime::Runtime::new()?;
        rt.block_on(async move {
            // Listen for SIGTERM before anything is printed: a supervisor that reads the
            // banner and stops the simulator at once must get a clean exit.
            let shutdown = super::shutdown_signal();
            let started = std::time::Instant::now();
            let mut opts = SimOptions::from_scenario(&sc);
            args.faults.apply(&mut opts.faults);
            let built = Sim::build(&sc, opts).map_err(|e| color_eyre::eyre::eyre!("loading {}: {e}", sc.name))?;
            let faults = built.api.faults.settings();
            let running = built.serve(&args.listen).await.wrap_err_with(|| format!("cannot listen on {}", args.listen))?;
            let kc = args.kubeconfig_out.clone().unwrap_or_else(default_sim_kubeconfig);
            let token = sc.settings.tokens.as_ref().and_then(|t| t.first()).map(|t| t.token.clone());
            sim::write_kubeconfig(&kc, running.url(), running.ca_pem.as_deref(), token.as_deref())
                .wrap_err_with(|| format!("writing kubeconfig {}", kc.display()))?;
            let (nodes, pods) = running.store.read(|i| (i.nodes.len(), i.pods.len()));
            println!("daemonscope sim: {} — {nodes} nodes, {pods} pods, ready in {:.1}s", sc.name, started.elapsed().as_secs_f64());
            println!("serving {}", running.url());
            if !faults.is_none() {
                println!("injecting faults: {}", daemonscope::sim::faults::describe(&faults));
            }
            println!("kubeconfig {} (context {})", kc.display(), sim::CONTEXT_NAME);
            println!("  export KUBECONFIG={}", kc.display());
            println!("Ctrl-C to stop");
            shutdown.await;
            drop(running);
            Ok(())
        })
    }
}

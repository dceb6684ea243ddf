use clap::Parser;
use color_eyre::eyre::{Result, WrapErr};

use daemonscope::cli::{Cli, Command, SimArgs, StatusArgs, default_sim_kubeconfig};
use daemonscope::cluster::connect::Source;
use daemonscope::sim::{self, Sim, SimOptions, generator, scenario::Scenario};

/// The demo scenario, embedded so `--demo` and `sim` need no files.
const DEMO: &str = include_str!("../assets/scenarios/demo.yaml");

fn main() -> Result<()> {
    color_eyre::config::HookBuilder::default().display_env_section(false).install()?;
    let cli = Cli::parse();
    daemonscope::logging::init(cli.log_file.as_deref());
    match cli.command {
        Some(Command::Sim(ref args)) => run_sim(args),
        Some(Command::Status(ref args)) => run_status(&cli, args),
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
    // `status` promises exit code 2 for every error; the TUI has always used 1.
    let code = if matches!(cli.command, Some(Command::Status(_))) { 2 } else { 1 };
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

fn run_tui(cli: &Cli) -> Result<()> {
    let scope = scope(cli);
    let rt = tokio::runtime::Runtime::new()?;
    rt.block_on(async {
        if cli.demo {
            let (running, client) = demo().map_err(|e| color_eyre::eyre::eyre!(e))?;
            let context = "demo (simulated cluster)".to_string();
            let source = Source::Fixed { client: client.clone(), context: context.clone() };
            let r = daemonscope::tui::run(source, client.into(), context, scope, cli.readonly).await;
            drop(running);
            return r;
        }
        let source = Source::load(cli.kubeconfig.as_deref()).unwrap_or_else(|e| fail(e));
        // Fail before the terminal is taken: an unknown context is one clear line.
        let (client, context) = source.client(cli.context.as_deref()).await.unwrap_or_else(|e| fail(e));
        daemonscope::tui::run(source, client, context, scope, cli.readonly).await
    })
}

/// The embedded demo cluster, running in-process, and a client that talks to it with no socket.
fn demo() -> Result<(sim::Running, kube::Client), String> {
    let sc = Scenario::parse("assets/scenarios/demo.yaml (embedded)", DEMO).map_err(|e| e.to_string())?;
    let built = Sim::build(&sc, SimOptions::from_scenario(&sc)).map_err(|e| format!("loading the demo: {e}"))?;
    let running = built.spawn();
    let client = kube::Client::new(running.router(), "default");
    Ok((running, client))
}

/// `daemonscope status`: one report (or a wait), then exit 0 / 1 / 2.
fn run_status(cli: &Cli, args: &StatusArgs) -> Result<()> {
    let scope = scope(cli);
    let rt = tokio::runtime::Runtime::new()?;
    let code = rt.block_on(async {
        let mut out = std::io::stdout();
        if cli.demo {
            let (running, client) = demo().unwrap_or_else(|e| fail_with(2, e));
            let code = daemonscope::status::run(client.into(), "demo (simulated cluster)".into(), None, scope, args, &mut out).await;
            drop(running);
            return code;
        }
        let source = Source::load(cli.kubeconfig.as_deref()).unwrap_or_else(|e| fail_with(2, e));
        let (client, context) = source.client(cli.context.as_deref()).await.unwrap_or_else(|e| fail_with(2, e));
        let server = source.server(&context);
        daemonscope::status::run(client, context, server, scope, args, &mut out).await
    });
    drop(rt);
    std::process::exit(code);
}

fn load_scenario(args: &SimArgs) -> Result<Scenario> {
    Ok(match (&args.scenario, args.nodes, args.daemonsets) {
        (Some(path), _, _) => Scenario::load(path)?,
        (None, Some(n), Some(m)) => generator::scenario(n, m),
        _ => Scenario::parse("assets/scenarios/demo.yaml (embedded)", DEMO)?,
    })
}

fn run_sim(args: &SimArgs) -> Result<()> {
    let sc = load_scenario(args)?;
    if let Some(path) = &args.write_scenario {
        std::fs::write(path, generator::to_yaml(&sc)).wrap_err_with(|| format!("writing {}", path.display()))?;
        eprintln!("wrote {} objects to {}", sc.objects.len(), path.display());
        return Ok(());
    }
    let rt = tokio::runtime::Runtime::new()?;
    rt.block_on(async move {
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
        wait_for_shutdown().await;
        drop(running);
        Ok(())
    })
}

async fn wait_for_shutdown() {
    #[cfg(unix)]
    {
        let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()).expect("SIGTERM handler");
        tokio::select! {
            _ = tokio::signal::ctrl_c() => {}
            _ = term.recv() => {}
        }
    }
    #[cfg(not(unix))]
    let _ = tokio::signal::ctrl_c().await;
}

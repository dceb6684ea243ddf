//! `daemonscope serve`: the coverage engine headless, for Prometheus. The same watches
//! and model as the TUI and `status`, kept live ([`state`]), served as metrics
//! ([`metrics`]), probes and the status JSON ([`http`]). Through API outages it keeps
//! serving what it last knew, with `daemonscope_watch_up 0` and `/readyz` 503; it ends
//! only on SIGTERM or Ctrl-C.
//!
//! May import: `cluster`, `model`, `k8s`, `cli`, `status`.

pub mod body;
pub mod conn;
pub mod http;
pub mod joins;
pub mod ksm;
pub mod metrics;
pub mod state;

use std::net::{SocketAddr, ToSocketAddrs};
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::mpsc;

use crate::cli::ServeArgs;
use crate::cluster::connect::Cluster;
use crate::cluster::watch::{self, Scope, SyncState, Update};

pub use state::{FED, State, WATCHED};

/// After SIGTERM, open connections get this long to finish before the process exits.
const DRAIN: Duration = Duration::from_secs(3);

/// Binds `--listen` (before anything else, so a bad address or a port in use is one line).
pub fn bind(args: &ServeArgs) -> Result<std::net::TcpListener, String> {
    let addrs: Vec<SocketAddr> = args
        .listen
        .to_socket_addrs()
        .map_err(|e| format!("invalid --listen address {:?}: {e} (want HOST:PORT, e.g. 0.0.0.0:9753)", args.listen))?
        .collect();
    let l = std::net::TcpListener::bind(&addrs[..]).map_err(|e| format!("cannot listen on {}: {e}", args.listen))?;
    l.set_nonblocking(true).map_err(|e| format!("cannot listen on {}: {e}", args.listen))?;
    Ok(l)
}

/// The state `serve` keeps, as its flags set it (`--ksm-compat`; the joins judged as
/// `status --joins` judges them: `--joins-since`, `--critical`).
pub fn state_for(context: String, args: &ServeArgs, requests: crate::cluster::requests::RequestCounts) -> State {
    let mut state = State::new(context, args.max_node_series, requests);
    state.ksm_compat = args.ksm_compat;
    state.joins.settings = crate::status::joins::judged(&args.joins);
    state
}

/// Serves until `shutdown` resolves. Returns the exit code.
pub async fn run(
    cluster: Cluster,
    context: String,
    scope: Scope,
    args: &ServeArgs,
    listener: std::net::TcpListener,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> i32 {
    let listener = match tokio::net::TcpListener::from_std(listener) {
        Ok(l) => l,
        Err(e) => {
            crate::status::say(&format!("daemonscope: cannot listen on {}: {e}", args.listen));
            return 2;
        }
    };
    let addr = listener.local_addr().map(|a| a.to_string()).unwrap_or_else(|_| args.listen.clone());
    let state = Arc::new(state_for(context.clone(), args, cluster.requests.clone()));
    let (tx, rx) = mpsc::channel::<Update>(16_384);
    // And the workload pods, for the joins' early-workload counter.
    let watches = watch::spawn_only(cluster, scope, tx, &state::FED);
    let feeder = tokio::spawn(feed(state.clone(), rx));
    crate::status::say(&format!("daemonscope serve: context {context}, serving http://{addr}/metrics"));
    tracing::info!(%addr, %context, "serve: listening");
    // Bounded: connections, header and write timeouts (conn.rs); scrapers keep
    // connections open, and get DRAIN after SIGTERM, never more.
    conn::serve(listener, http::router(state), shutdown, DRAIN).await;
    tracing::info!("serve: shut down");
    for w in &watches {
        w.abort();
    }
    feeder.abort();
    0
}

/// Applies the watches' updates in batches (whatever arrived together), logging each
/// watch's failures and recoveries.
async fn feed(state: Arc<State>, mut rx: mpsc::Receiver<Update>) {
    while let Some(batch) = crate::cluster::live::next_batch(&mut rx, 4096).await {
        for u in &batch {
            match u {
                Update::Sync(r, SyncState::Reconnecting { reason, retry_in, .. }) => {
                    // Its log is stderr: what the server said is shown, never acted on.
                    let reason = crate::k8s::text::Visible(reason);
                    tracing::warn!(resource = state::resource_name(*r), %reason, retry_in = retry_in.as_secs_f64(), "serve: watch failing");
                }
                Update::Sync(r, SyncState::Live) => tracing::info!(resource = state::resource_name(*r), "serve: watch live"),
                _ => {}
            }
        }
        let s = state.clone();
        // Applying takes the model's write lock: off the async workers.
        if tokio::task::spawn_blocking(move || s.apply(batch)).await.is_err() {
            return;
        }
    }
}

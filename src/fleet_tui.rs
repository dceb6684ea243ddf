//! The fleet on a terminal: one cluster per chosen context, each with its own client
//! (made in its own task, so a slow credential plugin holds up nobody), its own watches
//! with their own backoff and Retry-After, and its own job runner; one loop draws the
//! [`FleetApp`] and feeds each cluster's watch updates and job results to that cluster's
//! app only. A cluster that is slow, failing or refusing never stalls the loop: its
//! updates arrive over its own channel, polled in turn with the others.
//!
//! May import: `ui`, `cluster`, `model`, `tui`.

use std::task::Poll;
use std::time::Duration;

use color_eyre::eyre::Result;
use crossterm::event::{Event, EventStream, KeyEventKind};
use futures::StreamExt;
use tokio::sync::mpsc;

use crate::cluster::connect::{Cluster, Source};
use crate::cluster::jobs::{Effect, JobResult, Jobs};
use crate::cluster::watch::{Scope, Update};
use crate::tui::{BATCH, Connection, Ended, Signals};
use crate::ui::{FleetApp, Msg, Session, Theme};

/// One cluster of the fleet: its watches and jobs, once its client is made.
struct Member {
    context: String,
    conn: Option<Connection>,
    jobs: Option<Jobs>,
    job_rx: mpsc::UnboundedReceiver<JobResult>,
    job_tx: mpsc::UnboundedSender<JobResult>,
    /// Effects asked for before the client existed (the permission check).
    pending: Vec<Effect>,
}

/// What arrived, and for which cluster.
enum Arrival {
    Watch(usize, Vec<Update>),
    Job(usize, Box<JobResult>),
}

/// The next watch batch or job result of any cluster, taking them in turn from `start`
/// so that a busy cluster cannot starve the others.
async fn next_arrival(members: &mut [Member], start: usize) -> Arrival {
    std::future::poll_fn(|cx| {
        let n = members.len();
        for k in 0..n {
            let i = (start + k) % n;
            let m = &mut members[i];
            if let Poll::Ready(Some(r)) = m.job_rx.poll_recv(cx) {
                return Poll::Ready(Arrival::Job(i, Box::new(r)));
            }
            if let Some(conn) = &mut m.conn
                && let Poll::Ready(Some(u)) = conn.rx.poll_recv(cx)
            {
                let mut batch = vec![u];
                while batch.len() <= BATCH {
                    match conn.rx.try_recv() {
                        Ok(u) => batch.push(u),
                        Err(_) => break,
                    }
                }
                return Poll::Ready(Arrival::Watch(i, batch));
            }
        }
        Poll::Pending
    })
    .await
}

/// Runs the fleet of `contexts` (of `source`) until the user quits or a signal ends it.
pub async fn run(source: Source, contexts: Vec<String>, scope: Scope, readonly: bool) -> Result<Ended> {
    let session = Session { contexts: contexts.clone(), server: None, scope: scope.clone(), readonly };
    let mut app = FleetApp::new(&contexts, &session, Theme::from_env());
    // Clients are made in their own tasks; each arrives as a `Connected` job result.
    let mut members: Vec<Member> = contexts
        .iter()
        .map(|c| {
            let (job_tx, job_rx) = mpsc::unbounded_channel();
            let (tx, source, context, scope) = (job_tx.clone(), source.clone(), c.clone(), scope.clone());
            tokio::spawn(async move {
                let r = match source.client(Some(&context)).await {
                    Ok((cluster, context)) => JobResult::Connected { cluster, context, scope },
                    Err(e) => JobResult::Failed { seq: None, message: format!("cannot connect: {e}") },
                };
                let _ = tx.send(r);
            });
            Member { context: c.clone(), conn: None, jobs: None, job_rx, job_tx, pending: Vec::new() }
        })
        .collect();
    let run_effects = |members: &mut [Member], effects: Vec<(usize, Effect)>| {
        for (i, e) in effects {
            match &mut members[i].jobs {
                Some(j) => j.run(e),
                None => members[i].pending.push(e),
            }
        }
    };
    // No `Msg::Started`: each app asks for its permission check when its client arrives.

    let mut signals = Signals::register()?;
    let mut terminal = ratatui::init();
    let mut events = EventStream::new();
    let mut tick = tokio::time::interval(Duration::from_secs(1));
    let mut dirty = true;
    let mut turn = 0usize;
    let result: Result<Ended> = async {
        loop {
            if dirty {
                terminal.draw(|f| app.draw(f))?;
                dirty = false;
            }
            turn = turn.wrapping_add(1);
            let start = turn % members.len().max(1);
            let effects = tokio::select! {
                ev = events.next() => match ev {
                    Some(Ok(Event::Key(k))) if k.kind != KeyEventKind::Release => app.key(k),
                    Some(Ok(Event::Resize(..))) => Vec::new(),
                    Some(Ok(_)) => continue,
                    Some(Err(e)) => return Err(e.into()),
                    None => break,
                },
                a = next_arrival(&mut members, start) => match a {
                    Arrival::Watch(i, batch) => app.update(i, Msg::Watch(batch)),
                    Arrival::Job(i, r) => match *r {
                    JobResult::Connected { cluster, context, scope } => {
                        tracing::info!(%context, namespace = ?scope.namespace, "fleet: connected");
                        connected(&source, &mut members[i], cluster, &context, &scope);
                        let server = source.server(&context);
                        let mut effects = app.update(i, Msg::Connected { context, scope, server });
                        effects.extend(std::mem::take(&mut members[i].pending).into_iter().map(|e| (i, e)));
                        effects
                    }
                    JobResult::Failed { seq: None, message } if members[i].jobs.is_none() => {
                        tracing::warn!(context = %members[i].context, %message, "fleet: no client");
                        app.connect_failed(i, message);
                        Vec::new()
                    }
                    r => app.update(i, Msg::Job(r)),
                    },
                },
                _ = tick.tick() => (0..members.len()).flat_map(|i| app.update(i, Msg::Tick)).collect(),
                n = signals.recv() => {
                    tracing::info!(signal = n, "ending on a signal");
                    return Ok(Ended::Signal(n));
                }
            };
            run_effects(&mut members, effects);
            dirty = true;
            if app.quit() {
                break;
            }
        }
        Ok(Ended::Quit)
    }
    .await;
    ratatui::restore();
    drop(members);
    result
}

/// Cluster `m` has a client (first, or again after `:ns`): new watches, and jobs that use it.
fn connected(source: &Source, m: &mut Member, cluster: Cluster, context: &str, scope: &Scope) {
    m.conn = Some(Connection::start(cluster.clone(), scope.clone()));
    match &mut m.jobs {
        Some(j) => {
            j.cluster = cluster;
            j.context = context.to_string();
        }
        None => m.jobs = Some(Jobs::new(source.clone(), cluster, context.to_string(), m.job_tx.clone())),
    }
}

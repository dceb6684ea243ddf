//! The fleet on a terminal: one cluster per chosen context, each with its own client
//! (made in its own task, so a slow credential plugin holds up nobody), its own watches
//! with their own backoff and Retry-After, and its own job runner; the shared terminal
//! runner (`runner`: the settings' mouse, signals, the panic hook) draws the
//! [`FleetApp`] and this feeds each cluster's watch updates and job results to that
//! cluster's app only. A cluster that is slow, failing or refusing never stalls the loop:
//! its updates arrive over its own channel, polled in turn with the others.
//!
//! May import: `ui`, `cluster`, `model`, `tui`, `runner`.

use std::task::Poll;

use color_eyre::eyre::Result;
use tokio::sync::mpsc;

use crate::cluster::connect::{Cluster, Source};
use crate::cluster::jobs::{Effect, JobResult, Jobs};
use crate::cluster::watch::{Scope, Update};
use crate::runner::{Ended, Input, Screen};
use crate::tui::{Connection, batch};
use crate::ui::{FleetApp, Msg, Session, Settings};
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
                return Poll::Ready(Arrival::Watch(i, batch(u, &mut conn.rx)));
            }
        }
        Poll::Pending
    })
    .await
}

/// The fleet and, per cluster, its watches and jobs.
struct Fleet {
    app: FleetApp,
    members: Vec<Member>,
    source: Source,
    turn: usize,
}

impl Fleet {
    fn run_effects(&mut self, effects: Vec<(usize, Effect)>) {
        for (i, e) in effects {
            match &mut self.members[i].jobs {
                Some(j) => j.run(e),
                None => self.members[i].pending.push(e),
            }
        }
    }
}

impl Screen for Fleet {
    type Arrival = Arrival;

    fn draw(&mut self, f: &mut ratatui::Frame) {
        self.app.draw(f);
    }

    fn input(&mut self, i: Input) {
        let effects = match i {
            Input::Key(k) => self.app.key(k),
            Input::Mouse(m) => self.app.mouse(m),
            Input::Resize(..) => Vec::new(),
            Input::Tick => (0..self.members.len()).flat_map(|i| self.app.update(i, Msg::Tick)).collect(),
        };
        self.run_effects(effects);
    }

    async fn arrival(&mut self) -> Option<Arrival> {
        self.turn = self.turn.wrapping_add(1);
        let start = self.turn % self.members.len().max(1);
        Some(next_arrival(&mut self.members, start).await)
    }

    fn arrived(&mut self, a: Arrival) {
        let effects = match a {
            Arrival::Watch(i, batch) => self.app.update(i, Msg::Watch(batch)),
            Arrival::Job(i, r) => match *r {
                JobResult::Connected { cluster, context, scope } => {
                    tracing::info!(%context, namespace = ?scope.namespace, "fleet: connected");
                    connected(&self.source, &mut self.members[i], cluster, &context, &scope);
                    let server = self.source.server(&context);
                    let mut effects = self.app.update(i, Msg::Connected { context, scope, server });
                    effects.extend(std::mem::take(&mut self.members[i].pending).into_iter().map(|e| (i, e)));
                    effects
                }
                JobResult::Failed { seq: None, message } if self.members[i].jobs.is_none() => {
                    tracing::warn!(context = %self.members[i].context, %message, "fleet: no client");
                    self.app.connect_failed(i, message);
                    Vec::new()
                }
                r => self.app.update(i, Msg::Job(r)),
            },
        };
        self.run_effects(effects);
    }

    fn quit(&self) -> bool {
        self.app.quit()
    }
}

/// Runs the fleet of `contexts` (of `source`) until the user quits or a signal ends it,
/// set up as `settings` say — the same theme, keys, prefs and mouse as one cluster.
pub async fn run(source: Source, contexts: Vec<String>, scope: Scope, readonly: bool, settings: Settings) -> Result<Ended> {
    let session = Session { contexts: contexts.clone(), server: None, scope: scope.clone(), readonly };
    let app = FleetApp::new(&contexts, &session, &settings);
    // Clients are made in their own tasks; each arrives as a `Connected` job result.
    let members: Vec<Member> = contexts
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
    // No `Msg::Started`: each app asks for its permission check when its client arrives.
    let mut fleet = Fleet { app, members, source, turn: 0 };
    let mouse = fleet.app.mouse_on();
    crate::runner::run(&mut fleet, mouse).await
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

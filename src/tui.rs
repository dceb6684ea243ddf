//! One cluster on a terminal: the watches and the job runner of one connection (replaced
//! wholesale on a context or namespace switch) feeding one `App`, driven by the shared
//! terminal runner (`runner`: raw mode, mouse, signals, the panic hook). Keys, resizes,
//! watch updates, job results and a tick become `ui::Msg`s for `App::update`, whose
//! `Effect`s run as jobs. The network never blocks it: watch updates arrive over a
//! channel and are sent in bounded batches between frames; job results come back over
//! another channel. The loop owns the watches and the job runner; it never reaches into `App`.
//!
//! May import: `ui`, `cluster`, `runner`.

use color_eyre::eyre::Result;
use tokio::sync::mpsc;
use tokio::task::JoinHandle;

use crate::cluster::connect::{Cluster, Source};
use crate::cluster::jobs::{JobResult, Jobs};
use crate::cluster::watch::{self, Scope, Update};
use crate::runner::{Ended, Input, Screen};
use crate::ui::{App, Msg, Session, Settings};

/// Most watch updates applied between two frames.
pub(crate) const BATCH: usize = 20_000;
/// Watch updates queued between the watchers and the UI.
const QUEUE: usize = 16_384;

/// The watches of one connection; replaced wholesale on a context or namespace switch,
/// so nothing from the previous cluster reaches the new model.
pub(crate) struct Connection {
    pub(crate) rx: mpsc::Receiver<Update>,
    watchers: Vec<JoinHandle<()>>,
}

impl Connection {
    pub(crate) fn start(cluster: Cluster, scope: Scope) -> Connection {
        let (tx, rx) = mpsc::channel::<Update>(QUEUE);
        Connection { rx, watchers: watch::spawn_with_workloads(cluster, scope, tx) }
    }
}

impl Drop for Connection {
    fn drop(&mut self) {
        for w in &self.watchers {
            w.abort();
        }
    }
}

/// The message a terminal input is for one app.
pub(crate) fn msg_of(i: Input) -> Msg {
    match i {
        Input::Key(k) => Msg::Key(k),
        Input::Mouse(m) => Msg::Mouse(m),
        Input::Resize(w, h) => Msg::Resize(w, h),
        Input::Tick => Msg::Tick,
    }
}

/// Up to [`BATCH`] more updates already queued after `first`.
pub(crate) fn batch(first: Update, rx: &mut mpsc::Receiver<Update>) -> Vec<Update> {
    crate::cluster::live::batch_after(first, rx, BATCH + 1)
}

/// One cluster: its app, its watches and its jobs.
struct Single {
    app: App,
    jobs: Jobs,
    conn: Connection,
    job_rx: mpsc::UnboundedReceiver<JobResult>,
}

enum Arrival {
    Watch(Vec<Update>),
    Job(Box<JobResult>),
}

impl Single {
    fn update(&mut self, msg: Msg) {
        for e in self.app.update(msg) {
            self.jobs.run(e);
        }
    }
}

impl Screen for Single {
    type Arrival = Arrival;

    fn draw(&mut self, f: &mut ratatui::Frame) {
        self.app.draw(f);
    }

    fn input(&mut self, i: Input) {
        self.update(msg_of(i));
    }

    async fn arrival(&mut self) -> Option<Arrival> {
        tokio::select! {
            u = self.conn.rx.recv() => u.map(|u| Arrival::Watch(batch(u, &mut self.conn.rx))),
            r = self.job_rx.recv() => r.map(|r| Arrival::Job(Box::new(r))),
        }
    }

    fn arrived(&mut self, a: Arrival) {
        let msg = match a {
            Arrival::Watch(batch) => Msg::Watch(batch),
            Arrival::Job(r) => match *r {
                JobResult::Connected { cluster, context, scope } => {
                    tracing::info!(%context, namespace = ?scope.namespace, "switched");
                    self.conn = Connection::start(cluster.clone(), scope.clone());
                    self.jobs.cluster = cluster;
                    self.jobs.context = context.clone();
                    let server = self.jobs.source.server(&context);
                    Msg::Connected { context, scope, server }
                }
                r => Msg::Job(r),
            },
        };
        self.update(msg);
    }

    fn quit(&self) -> bool {
        self.app.quit()
    }
}

/// Runs the TUI on `cluster` (made by `source` for `context`) until the user quits or a
/// signal ends it, set up as `settings` say (theme, keys, prefs, the mouse).
pub async fn run(source: Source, cluster: Cluster, context: String, scope: Scope, readonly: bool, settings: Settings) -> Result<Ended> {
    let (job_tx, job_rx) = mpsc::unbounded_channel::<JobResult>();
    let jobs = Jobs::new(source.clone(), cluster.clone(), context.clone(), job_tx);
    let conn = Connection::start(cluster, scope.clone());
    let session = Session { contexts: source.contexts(), server: source.server(&context), scope, readonly };
    let app = App::new(context, settings.theme).with_session(session).with_settings(&settings);
    let mut single = Single { app, jobs, conn, job_rx };
    single.update(Msg::Started);
    let mouse = single.app.mouse();
    crate::runner::run(&mut single, mouse).await
}

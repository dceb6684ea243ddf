//! The terminal: raw mode and the alternate screen (restored on exit, on panic by
//! ratatui's hook, and on SIGTERM, SIGINT, SIGHUP and SIGQUIT from outside), and the event loop that turns keys, resizes, watch updates, job
//! results and a tick into `ui::Msg`s for `App::update`, and runs the `Effect`s it
//! returns as jobs. The network never blocks it: watch updates arrive over a channel and
//! are sent in bounded batches between frames; job results come back over another
//! channel. The loop owns the watches and the job runner; it never reaches into `App`.
//!
//! May import: `ui`, `cluster`, `model`.

use std::time::Duration;

use color_eyre::eyre::Result;
use crossterm::event::{Event, EventStream, KeyEventKind};
use futures::StreamExt;
use tokio::sync::mpsc;
use tokio::task::JoinHandle;

use crate::cluster::connect::{Cluster, Source};
use crate::cluster::jobs::{JobResult, Jobs};
use crate::cluster::watch::{self, Scope, Update};
use crate::ui::{App, Msg, Session, Theme};

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
        Connection { rx, watchers: watch::spawn(cluster, scope, tx) }
    }
}

impl Drop for Connection {
    fn drop(&mut self) {
        for w in &self.watchers {
            w.abort();
        }
    }
}

/// How the TUI ended (the terminal is restored either way).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ended {
    /// The user quit.
    Quit,
    /// A signal from outside (its number): the caller exits with 128 + it, as a shell
    /// reports a process the signal killed.
    Signal(i32),
}

/// The signals that would otherwise kill the process with the terminal raw, on the
/// alternate screen, cursor hidden: `kill`, Ctrl-C or Ctrl-\ sent from another
/// terminal (in raw mode the keys reach the TUI as keys), the terminal closing.
pub(crate) struct Signals {
    #[cfg(unix)]
    each: Vec<(i32, tokio::signal::unix::Signal)>,
}

impl Signals {
    /// Registered before the terminal is taken, so none is lost in between.
    pub(crate) fn register() -> std::io::Result<Signals> {
        #[cfg(unix)]
        {
            use tokio::signal::unix::{SignalKind, signal};
            let kinds = [SignalKind::terminate(), SignalKind::interrupt(), SignalKind::hangup(), SignalKind::quit()];
            let each = kinds.into_iter().map(|k| Ok((k.as_raw_value(), signal(k)?))).collect::<std::io::Result<_>>()?;
            Ok(Signals { each })
        }
        #[cfg(not(unix))]
        Ok(Signals {})
    }

    /// The number of the next signal that arrives.
    pub(crate) async fn recv(&mut self) -> i32 {
        #[cfg(unix)]
        {
            let waits = self.each.iter_mut().map(|(n, s)| {
                let n = *n;
                Box::pin(async move {
                    s.recv().await;
                    n
                })
            });
            futures::future::select_all(waits).await.0
        }
        #[cfg(not(unix))]
        {
            let _ = tokio::signal::ctrl_c().await;
            2
        }
    }
}

/// Runs the TUI on `cluster` (made by `source` for `context`) until the user quits or a
/// signal ends it.
/// `mouse` false (`--no-mouse`) leaves the mouse to the terminal (text selection).
pub async fn run(source: Source, cluster: Cluster, context: String, scope: Scope, readonly: bool, mouse: bool) -> Result<Ended> {
    let (job_tx, mut job_rx) = mpsc::unbounded_channel::<JobResult>();
    let mut jobs = Jobs::new(source.clone(), cluster.clone(), context.clone(), job_tx);
    let mut conn = Connection::start(cluster, scope.clone());
    let session = Session { contexts: source.contexts(), server: source.server(&context), scope, readonly };
    let mut app = App::new(context, Theme::from_env()).with_session(session);
    app.set_mouse(mouse);
    for e in app.update(Msg::Started) {
        jobs.run(e);
    }

    // For the end-to-end test that a panic restores the terminal: a key that panics.
    let panic_key = std::env::var("DAEMONSCOPE_TEST_PANIC_KEY").ok().and_then(|k| k.chars().next());
    let mut signals = Signals::register()?;
    let mut terminal = ratatui::init();
    let mouse = app.mouse();
    if mouse {
        mouse_capture(true)?;
        // A panic leaves the terminal as ratatui's hook restores it: mouse capture off too.
        let restore = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            let _ = mouse_capture(false);
            restore(info);
        }));
    }
    let mut events = EventStream::new();
    let mut tick = tokio::time::interval(Duration::from_secs(1));
    let mut dirty = true;
    let result: Result<Ended> = async {
        loop {
            if dirty {
                terminal.draw(|f| app.draw(f))?;
                dirty = false;
            }
            let msg = tokio::select! {
                ev = events.next() => match ev {
                    Some(Ok(Event::Key(k))) if k.kind != KeyEventKind::Release => {
                        if panic_key.is_some() && k.code == crossterm::event::KeyCode::Char(panic_key.unwrap_or_default()) {
                            panic!("test panic (DAEMONSCOPE_TEST_PANIC_KEY)");
                        }
                        Msg::Key(k)
                    }
                    Some(Ok(Event::Resize(w, h))) => Msg::Resize(w, h),
                    Some(Ok(Event::Mouse(m))) => Msg::Mouse(m),
                    Some(Ok(_)) => continue,
                    Some(Err(e)) => return Err(e.into()),
                    None => break,
                },
                u = conn.rx.recv() => {
                    let Some(u) = u else { break };
                    let mut batch = vec![u];
                    while batch.len() <= BATCH {
                        match conn.rx.try_recv() {
                            Ok(u) => batch.push(u),
                            Err(_) => break,
                        }
                    }
                    Msg::Watch(batch)
                }
                r = job_rx.recv() => match r {
                    Some(JobResult::Connected { cluster, context, scope }) => {
                        tracing::info!(%context, namespace = ?scope.namespace, "switched");
                        conn = Connection::start(cluster.clone(), scope.clone());
                        jobs.cluster = cluster;
                        jobs.context = context.clone();
                        let server = jobs.source.server(&context);
                        Msg::Connected { context, scope, server }
                    }
                    Some(r) => Msg::Job(r),
                    None => break,
                },
                _ = tick.tick() => Msg::Tick,
                n = signals.recv() => {
                    tracing::info!(signal = n, "ending on a signal");
                    return Ok(Ended::Signal(n));
                }
            };
            for e in app.update(msg) {
                jobs.run(e);
            }
            dirty = true;
            if app.quit() {
                break;
            }
        }
        Ok(Ended::Quit)
    }
    .await;
    if mouse {
        let _ = mouse_capture(false);
    }
    ratatui::restore();
    drop(conn);
    result
}

/// Turns the terminal's mouse reporting on or off.
fn mouse_capture(on: bool) -> std::io::Result<()> {
    use crossterm::event::{DisableMouseCapture, EnableMouseCapture};
    if on {
        crossterm::execute!(std::io::stdout(), EnableMouseCapture)
    } else {
        crossterm::execute!(std::io::stdout(), DisableMouseCapture)
    }
}

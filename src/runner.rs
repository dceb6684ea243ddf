//! The one terminal runner of the single-cluster TUI and the fleet: raw mode and the
//! alternate screen (restored on exit, on panic by ratatui's hook — mouse capture
//! included — and on SIGTERM, SIGINT, SIGHUP and SIGQUIT from outside), mouse capture
//! when the settings want it, and the loop that draws a [`Screen`], turns terminal events
//! and a tick into [`Input`]s for it and hands it what arrives from its clusters. What a
//! screen is (one app and its watches, or a fleet of them) is the caller's business; the
//! settings (theme, keys, prefs, the config's problem) are applied by `ui` to the apps
//! the caller builds, the same way for both.
//!
//! May import: `ui`.

use std::future::Future;
use std::time::Duration;

use color_eyre::eyre::Result;
use crossterm::event::{Event, EventStream, KeyCode, KeyEvent, KeyEventKind, MouseEvent};
use futures::StreamExt;
use ratatui::Frame;

/// How the TUI ended (the terminal is restored either way).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ended {
    /// The user quit.
    Quit,
    /// A signal from outside (its number): the caller exits with 128 + it, as a shell
    /// reports a process the signal killed.
    Signal(i32),
}

/// What the terminal says (and the clock).
#[derive(Debug, Clone, Copy)]
pub enum Input {
    Key(KeyEvent),
    Mouse(MouseEvent),
    Resize(u16, u16),
    /// A second passed.
    Tick,
}

/// What the runner drives: something to draw, fed the terminal's input and whatever its
/// clusters send (watch updates, job results).
pub trait Screen {
    /// Something from the clusters.
    type Arrival;
    fn draw(&mut self, f: &mut Frame);
    fn input(&mut self, input: Input);
    /// The next arrival (None: nothing will ever arrive again, the loop ends). Must be
    /// cancel-safe: it is dropped whenever the terminal speaks first.
    fn arrival(&mut self) -> impl Future<Output = Option<Self::Arrival>>;
    fn arrived(&mut self, a: Self::Arrival);
    fn quit(&self) -> bool;
}

/// The signals that would otherwise kill the process with the terminal raw, on the
/// alternate screen, cursor hidden: `kill`, Ctrl-C or Ctrl-\ sent from another
/// terminal (in raw mode the keys reach the TUI as keys), the terminal closing.
struct Signals {
    #[cfg(unix)]
    each: Vec<(i32, tokio::signal::unix::Signal)>,
}

impl Signals {
    /// Registered before the terminal is taken, so none is lost in between.
    fn register() -> std::io::Result<Signals> {
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
    async fn recv(&mut self) -> i32 {
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

/// One turn of the loop: what woke it.
enum Woke<A> {
    Input(Input),
    Arrival(A),
    Skip,
    End(Result<Ended>),
}

/// Runs `screen` on the terminal until it quits, a signal ends it, or its arrivals end.
/// `mouse`: capture the mouse (clicks and the wheel reach the screen); false leaves it to
/// the terminal (text selection).
pub async fn run<S: Screen>(screen: &mut S, mouse: bool) -> Result<Ended> {
    // For the end-to-end test that a panic restores the terminal: a key that panics.
    let panic_key = std::env::var("DAEMONSCOPE_TEST_PANIC_KEY").ok().and_then(|k| k.chars().next());
    let mut signals = Signals::register()?;
    let mut terminal = ratatui::init();
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
                terminal.draw(|f| screen.draw(f))?;
                dirty = false;
            }
            let woke = tokio::select! {
                ev = events.next() => match ev {
                    Some(Ok(Event::Key(k))) if k.kind != KeyEventKind::Release => {
                        if panic_key.is_some_and(|p| k.code == KeyCode::Char(p)) {
                            panic!("test panic (DAEMONSCOPE_TEST_PANIC_KEY)");
                        }
                        Woke::Input(Input::Key(k))
                    }
                    Some(Ok(Event::Resize(w, h))) => Woke::Input(Input::Resize(w, h)),
                    Some(Ok(Event::Mouse(m))) if mouse => Woke::Input(Input::Mouse(m)),
                    Some(Ok(_)) => Woke::Skip,
                    Some(Err(e)) => Woke::End(Err(e.into())),
                    None => Woke::End(Ok(Ended::Quit)),
                },
                a = screen.arrival() => match a {
                    Some(a) => Woke::Arrival(a),
                    None => Woke::End(Ok(Ended::Quit)),
                },
                _ = tick.tick() => Woke::Input(Input::Tick),
                n = signals.recv() => {
                    tracing::info!(signal = n, "ending on a signal");
                    Woke::End(Ok(Ended::Signal(n)))
                }
            };
            match woke {
                Woke::Input(i) => screen.input(i),
                Woke::Arrival(a) => screen.arrived(a),
                Woke::Skip => continue,
                Woke::End(r) => return r,
            }
            dirty = true;
            if screen.quit() {
                return Ok(Ended::Quit);
            }
        }
    }
    .await;
    if mouse {
        let _ = mouse_capture(false);
    }
    ratatui::restore();
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

/// For the headless commands (`serve`, `sim`): resolves on Ctrl-C or SIGTERM; the
/// handlers are installed when this is called, not when it is first awaited.
pub fn shutdown_signal() -> impl std::future::Future<Output = ()> + Send + 'static {
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

//! The terminal: raw mode and the alternate screen (restored on exit and on panic, by
//! ratatui's hook), and the event loop that merges keys, watch updates and a tick.
//! The network never blocks it: watch updates arrive over a channel and are applied in
//! bounded batches between frames.

use std::time::Duration;

use color_eyre::eyre::Result;
use crossterm::event::{Event, EventStream, KeyEventKind};
use futures::StreamExt;
use tokio::sync::mpsc;

use crate::ui::{App, Theme};
use crate::watch::{self, Scope, Update};

/// Most watch updates applied between two frames.
const BATCH: usize = 20_000;

pub async fn run(client: kube::Client, context: String, scope: Scope) -> Result<()> {
    let (tx, mut rx) = mpsc::channel::<Update>(16_384);
    let watchers = watch::spawn(client, scope, tx);
    let mut terminal = ratatui::init();
    let mut app = App::new(context, Theme::from_env());
    let mut events = EventStream::new();
    let mut tick = tokio::time::interval(Duration::from_secs(1));
    let mut dirty = true;
    let result: Result<()> = async {
        loop {
            if dirty {
                terminal.draw(|f| app.draw(f))?;
                dirty = false;
            }
            tokio::select! {
                ev = events.next() => match ev {
                    Some(Ok(Event::Key(k))) if k.kind != KeyEventKind::Release => { app.on_key(k); dirty = true; }
                    Some(Ok(Event::Resize(..))) => dirty = true,
                    Some(Ok(_)) => {}
                    Some(Err(e)) => return Err(e.into()),
                    None => break,
                },
                u = rx.recv() => {
                    let Some(u) = u else { break };
                    app.update(u);
                    for _ in 0..BATCH {
                        match rx.try_recv() {
                            Ok(u) => app.update(u),
                            Err(_) => break,
                        }
                    }
                    dirty = true;
                }
                _ = tick.tick() => dirty = true,
            }
            if app.quit {
                break;
            }
        }
        Ok(())
    }
    .await;
    ratatui::restore();
    for w in watchers {
        w.abort();
    }
    result
}

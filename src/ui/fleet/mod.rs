//! The fleet: one [`App`] per cluster (each with its own model, views, cursors and
//! confirmations) and the fleet view over all of them. In the fleet view the keys move
//! over DaemonSets and clusters and `Enter` opens the cell's cluster at that DaemonSet's
//! coverage grid; from then on keys go to that cluster's app — every view works as with
//! one cluster, actions go to that cluster only and their confirmations name it — until
//! Esc has nothing left to close there and returns to the fleet. `:ctx NAME` (in the
//! fleet view, or in a cluster's) focuses another cluster of the fleet, at the same
//! DaemonSet. Each cluster's messages (watch updates, job results) reach its app only;
//! the effects each app asks for come back tagged with the cluster they belong to.
//! The fleet view's keys come from the same keymap as every cluster's (`View::Fleet`),
//! with the config's overrides, so the hint bar and `?` follow them; `/` filters the rows
//! (`ui::filter`'s terms, and a context's name) and `s` sorts them worst first (`keys`).
//! May import `app`, `views`, `theme`, `model`, `cluster` types, `keymap`, `filter`,
//! `prefs`; never `sim`.

mod keys;

use std::sync::Arc;

use crossterm::event::{KeyCode, KeyEvent, MouseEvent};
use ratatui::Frame;
use ratatui::layout::{Constraint, Layout};
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;

use super::app::{App, Msg, Session};
use super::keymap::Keymap;
use super::prefs::Settings;
use super::shared::View;
use super::theme::Theme;
use super::views::chrome::{MIN_HEIGHT, MIN_WIDTH, hint_word};
use super::views::fleet::FleetView;
use crate::cluster::jobs::Effect;
use crate::model::fleet::{self, Fleet, Member, Reach};

/// What the fleet view's keymap entries do not say, for its help (`?`).
pub const EXTRAS: [(&str, &str); 2] = [
    (":ctx NAME", "open cluster NAME at the same DaemonSet"),
    ("", "actions (cordon, labels, taints, restarts) act in the opened cluster only"),
];

pub struct FleetApp {
    apps: Vec<App>,
    /// Why a cluster's client could not be made (it has no watches then).
    failed: Vec<Option<String>>,
    /// The cluster whose app has the keys (None: the fleet view).
    focus: Option<usize>,
    view: FleetView,
    /// The `:` command being typed in the fleet view.
    prompt: Option<String>,
    /// The `/` filter being typed (None: not typing); `filter` is the one in force.
    filter_input: Option<String>,
    filter: String,
    /// Rows worst first (`s`), else by namespace and name.
    worst_first: bool,
    message: Option<String>,
    /// The help popup (`?`) is open.
    help: bool,
    theme: Theme,
    /// The keys in force, the same table every cluster's app holds.
    keymap: Arc<Keymap>,
    readonly: bool,
    /// Mouse clicks and the wheel are handled (the runner captures the mouse only then).
    mouse: bool,
    /// The config file, named in the help.
    config_path: Option<String>,
    quit: bool,
}

impl FleetApp {
    /// The fleet of `contexts`, each app with `session`'s scope and read-only flag, the
    /// fleet's contexts for `:ctx`, and the `settings` (theme, keys, prefs, mouse) one
    /// cluster gets. The config's problem, if any, is the fleet's message line.
    pub fn new(contexts: &[String], session: &Session, settings: &Settings) -> FleetApp {
        let mut quiet = settings.clone();
        quiet.prefs.note = None;
        let apps = contexts
            .iter()
            .map(|c| {
                let s = Session { contexts: contexts.to_vec(), server: None, scope: session.scope.clone(), readonly: session.readonly };
                App::new(c.clone(), settings.theme).with_session(s).with_settings(&quiet).name_context_in_confirmations()
            })
            .collect();
        FleetApp {
            apps,
            failed: vec![None; contexts.len()],
            focus: None,
            view: FleetView::default(),
            prompt: None,
            filter_input: None,
            filter: String::new(),
            worst_first: false,
            message: settings.prefs.note.clone(),
            help: false,
            theme: settings.theme,
            keymap: settings.keymap.clone(),
            readonly: session.readonly,
            mouse: settings.mouse,
            config_path: settings.prefs.config_path.clone(),
            quit: false,
        }
    }

    /// Whether the mouse is wanted (the runner captures it only then).
    pub fn mouse_on(&self) -> bool {
        self.mouse
    }

    /// The filter in force (`/`).
    pub fn filter(&self) -> &str {
        &self.filter
    }

    /// The fleet table, derived from every cluster's model.
    pub fn fleet(&self) -> Fleet {
        let members: Vec<Member> = self
            .apps
            .iter()
            .zip(&self.failed)
            .map(|(a, failed)| Member {
                context: a.context(),
                reach: failed.clone().map(Reach::Unreachable).unwrap_or_else(|| a.reach()),
                model: a.model(),
                namespace: a.namespace(),
            })
            .collect();
        fleet::fleet(&members)
    }

    pub fn apps(&self) -> &[App] {
        &self.apps
    }

    /// The cluster whose app has the keys (None: the fleet view).
    pub fn focus(&self) -> Option<usize> {
        self.focus
    }

    /// The cell under the fleet view's cursor: (row, cluster).
    pub fn cursor(&self) -> (usize, usize) {
        (self.view.row, self.view.col)
    }

    pub fn message(&self) -> Option<&str> {
        self.message.as_deref()
    }

    pub fn quit(&self) -> bool {
        self.quit
    }

    /// A message for cluster `i` (its watch updates, job results, its reconnection, a
    /// tick); returns the effects, each for the cluster it belongs to.
    pub fn update(&mut self, i: usize, msg: Msg) -> Vec<(usize, Effect)> {
        if matches!(msg, Msg::Connected { .. }) {
            self.failed[i] = None;
        }
        let effects = self.apps[i].update(msg);
        self.route(i, effects)
    }

    /// Cluster `i`'s client could not be made: its column says why.
    pub fn connect_failed(&mut self, i: usize, reason: String) {
        self.failed[i] = Some(reason);
    }

    /// A mouse event: to the focused cluster's app, or to the fleet view (a click
    /// selects the row and the cluster under it, the wheel moves the cursor).
    pub fn mouse(&mut self, m: MouseEvent) -> Vec<(usize, Effect)> {
        if !self.mouse {
            return Vec::new();
        }
        let Some(i) = self.focus else {
            self.fleet_mouse(m);
            return Vec::new();
        };
        let effects = self.apps[i].update(Msg::Mouse(m));
        self.route(i, effects)
    }

    /// A key: to the focused cluster's app, or to the fleet view.
    pub fn key(&mut self, k: KeyEvent) -> Vec<(usize, Effect)> {
        let Some(i) = self.focus else { return self.fleet_key(k) };
        if k.code == KeyCode::Esc && self.apps[i].at_root() {
            self.focus = None;
            return Vec::new();
        }
        let effects = self.apps[i].update(Msg::Key(k));
        if self.apps[i].quit() {
            self.quit = true;
        }
        self.route(i, effects)
    }

    /// Effects of cluster `i`'s app: a switch to another context of the fleet is a change
    /// of focus (the cluster is already watched); everything else is that cluster's.
    fn route(&mut self, i: usize, effects: Vec<Effect>) -> Vec<(usize, Effect)> {
        let mut out = Vec::new();
        for e in effects {
            match e {
                Effect::Connect { context: Some(c), .. } if c != self.apps[i].context() => {
                    self.apps[i].say(None);
                    match self.apps.iter().position(|a| a.context() == c) {
                        Some(j) => out.extend(self.focus_on(j)),
                        None => self.apps[i].say(Some(format!("context {c} is not in this fleet"))),
                    }
                }
                e => out.push((i, e)),
            }
        }
        out
    }

    /// Gives cluster `j` the keys, at the DaemonSet the focused cluster (or the fleet
    /// view's cursor) was on.
    fn focus_on(&mut self, j: usize) -> Vec<(usize, Effect)> {
        let ds = match self.focus {
            Some(i) => self.apps[i].selected().map(|d| (d.namespace.clone(), d.name.clone())),
            None => self.shown().rows.get(self.view.row).map(|r| (r.namespace.clone(), r.name.clone())),
        };
        self.focus = Some(j);
        self.view.col = j;
        let ctx = self.apps[j].context().to_string();
        let mut out = Vec::new();
        if let Some((ns, name)) = ds {
            let (found, effects) = self.apps[j].open_grid_of(&ns, &name);
            out.extend(effects.into_iter().map(|e| (j, e)));
            let reach = self.failed[j].clone().map(Reach::Unreachable).unwrap_or_else(|| self.apps[j].reach());
            let line = if found {
                format!("context {ctx} (Esc: back to the fleet)")
            } else if !reach.shows_data() {
                format!("context {ctx} is {}: nothing loaded yet (Esc: back to the fleet)", reach.word())
            } else {
                format!("{ns}/{name} is not in context {ctx} (Esc: back to the fleet)")
            };
            self.apps[j].say(Some(line));
        }
        out
    }

    /// Draws the focused cluster's app, or the fleet view; nothing a cluster said drives
    /// the terminal ([`crate::ui::views::format::harmless`]).
    pub fn draw(&mut self, f: &mut Frame) {
        self.draw_fleet(f);
        crate::ui::views::format::harmless(f.buffer_mut());
    }

    fn draw_fleet(&mut self, f: &mut Frame) {
        if let Some(i) = self.focus {
            self.apps[i].draw(f);
            return;
        }
        let area = f.area();
        let t = self.theme;
        if area.width < MIN_WIDTH || area.height < MIN_HEIGHT {
            let msg = format!("terminal too small: {}×{} (need at least {}×{})", area.width, area.height, MIN_WIDTH, MIN_HEIGHT);
            f.render_widget(Paragraph::new(msg), area);
            return;
        }
        let fleet = self.shown();
        let [top, body, hints] = Layout::vertical([Constraint::Length(1), Constraint::Min(4), Constraint::Length(1)]).areas(area);
        let mut status = vec![Span::styled(format!(" fleet of {} contexts ", fleet.columns.len()), t.header())];
        for c in &fleet.columns {
            let style = match c.reach {
                Reach::Live => t.dim(),
                Reach::Syncing => t.dim(),
                Reach::Stale(_) => t.warn(),
                Reach::Unreachable(_) | Reach::Forbidden(_) => t.alert(),
            };
            status.push(Span::styled(format!(" · {}: {}", c.context, c.reach.word()), style));
        }
        f.render_widget(Paragraph::new(Line::from(status)), top);
        self.view.render(f, body, &fleet, &t);
        let hint = match (&self.prompt, &self.filter_input, &self.message) {
            (Some(p), _, _) => Line::from(vec![Span::styled(":", t.header()), Span::raw(p.clone()), Span::styled("█", Style::default())]),
            (None, Some(p), _) => Line::from(vec![
                Span::styled("/", t.header()),
                Span::raw(p.clone()),
                Span::styled("█", Style::default()),
                Span::styled("  name, context, state:failing, ns:… · Enter keeps · Esc clears", t.dim()),
            ]),
            (None, None, Some(m)) => Line::from(Span::styled(m.clone(), t.warn())),
            (None, None, None) => self.hint_line(),
        };
        f.render_widget(Paragraph::new(hint), hints);
        if self.help {
            keys::help(f, area, &t, &self.keymap, self.readonly, self.config_path.as_deref());
        }
    }

    /// The fleet view's keys that hint, from the keymap (the config's keys shown), after
    /// the filter and the order in force.
    fn hint_line(&self) -> Line<'static> {
        let t = self.theme;
        let mut spans = Vec::new();
        if !self.filter.is_empty() {
            spans.push(Span::styled(format!("filter: {}  ", self.filter), t.warn()));
        }
        if self.worst_first {
            spans.push(Span::styled("worst first  ", t.warn()));
        }
        let mut bindings: Vec<_> = self.keymap.bindings_for(View::Fleet, self.readonly).filter(|b| b.hint).collect();
        bindings.sort_by_key(|b| b.views.is_empty());
        for b in bindings {
            spans.push(Span::styled(format!("<{}>", b.keys[0]), t.header()));
            spans.push(Span::raw(format!(" {}  ", hint_word(b))));
        }
        Line::from(spans)
    }
}

#[cfg(test)]
mod tests;

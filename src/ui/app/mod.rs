//! The application: its state and the one way it changes, `App::update(Msg) -> Vec<Effect>`.
//! Keys, mouse, resizes, watch updates, job results and ticks all arrive as a `Msg`;
//! what the app needs done outside (YAML, logs, events, actions, reconnects) leaves as
//! `cluster::jobs::Effect`s. Fields are private: the terminal loop and tests use
//! `update`, a few read accessors and `draw`. This file owns the state and the update
//! of model and job results; `input` the modes, `navigation` cursors and views,
//! `commands` the `:` commands, `actions` the proposed cluster actions.
//! May import `views`, `keymap`, `shared`, `model`, `k8s`, `cluster` types; never `sim`.

mod actions;
mod commands;
mod editor;
mod find;
mod fleet;
mod hints;
mod input;
mod mode;
mod mouse;
mod navigation;

use std::collections::{BTreeSet, HashMap};
use std::sync::Arc;

use crossterm::event::{KeyEvent, MouseEvent};
use ratatui::Frame;

pub use mode::Mode;

use super::keymap::{Action, Keymap};
use super::prefs::{Prefs, Settings};
use super::shared::{Shared, View};
use super::theme::Theme;
use super::views::chrome::{self, Prompt};
use super::views::{Confirm, DaemonSetsView, DetailView, GridView, MatrixView, NodesView, Picker, RolloutView, TextView, help};
use crate::cluster::errors::ClusterError;
use crate::cluster::jobs::{Effect, JobResult};
use crate::cluster::live::SyncEvent;
use crate::cluster::watch::{Scope, Update};
use crate::model::plan::{Permission, Plan, RollOptions};
use crate::model::{Change, DsInfo, Model};

/// Everything that can change the app.
pub enum Msg {
    Key(KeyEvent),
    /// Mouse input: clicks select, the wheel scrolls (see `mouse`; ignored when off).
    Mouse(MouseEvent),
    /// The terminal changed size (views re-lay themselves out at the next draw).
    Resize(u16, u16),
    /// A batch of watch updates (cursors are bounded once, after the whole batch).
    Watch(Vec<Update>),
    /// The answer of a job the app asked for.
    Job(JobResult),
    /// The loop connected (again) to `context` with `scope`: everything known so far
    /// is dropped. The loop has already restarted the watches (it owns them).
    Connected {
        context: String,
        scope: Scope,
        server: Option<String>,
    },
    /// The loop is running: the first requests (the permission check) go out.
    Started,
    /// A second passed (ages and the stale banner are drawn relative to now).
    Tick,
}

/// The connection facts the loop knows before the first draw.
#[derive(Debug, Clone, Default)]
pub struct Session {
    /// Every context of the kubeconfig, for `:ctx`.
    pub contexts: Vec<String>,
    pub server: Option<String>,
    pub scope: Scope,
    pub readonly: bool,
}

pub struct App {
    /// What the views read.
    s: Shared,
    /// Every context of the kubeconfig, for `:ctx`.
    contexts: Vec<String>,
    /// Namespaces seen (for the `:ns` picker).
    namespaces: BTreeSet<String>,
    /// Views to return to with Esc, each with the filter it had.
    history: Vec<(View, String)>,
    mode: Mode,
    daemonsets: DaemonSetsView,
    grid: GridView,
    matrix: MatrixView,
    nodes: NodesView,
    joins: crate::ui::views::JoinsView,
    rollout: RolloutView,
    detail: DetailView,
    text: TextView,
    whatif: crate::ui::views::WhatIfView,
    picker: Option<Picker>,
    /// An action waiting for `y` (confirm) or `n`/Esc (cancel).
    confirm: Option<Confirm>,
    show_help: bool,
    /// The help's first line shown, and the lines a page of it showed.
    help_scroll: usize,
    help_page: usize,
    /// `:` commands entered (oldest first), the one ↑/↓ shows, and what was typed before.
    cmd_history: Vec<String>,
    hist_pos: Option<usize>,
    hist_draft: String,
    /// Mouse clicks and wheel are handled (`--no-mouse` turns it off).
    mouse: bool,
    /// The keys in force (the config's overrides), shared with the fleet's other apps.
    keymap: Arc<Keymap>,
    /// The terminal's area at the last draw (where the header's view names are).
    area: ratatui::layout::Rect,
    /// What the server said each action's permission is (SelfSubjectAccessReview).
    permissions: HashMap<Permission, Result<bool, ClusterError>>,
    /// Batch and per-node timeout of the next roll (`:roll N --timeout D`).
    roll_options: RollOptions,
    /// The drain's grace period and timeout (`:drain --grace D --timeout D`; kept for the next `D`).
    drain_timing: crate::model::plan::drain::DrainTiming,
    /// Requests collected during one `update`, returned by it.
    effects: Vec<Effect>,
    seq: u64,
    quit: bool,
}

impl App {
    pub fn new(context: impl Into<String>, theme: Theme) -> Self {
        let context = context.into();
        App {
            contexts: vec![context.clone()],
            s: Shared::new(context, theme),
            namespaces: BTreeSet::new(),
            history: Vec::new(),
            mode: Mode::Normal,
            daemonsets: DaemonSetsView::default(),
            grid: GridView::default(),
            matrix: MatrixView::default(),
            nodes: NodesView::default(),
            joins: Default::default(),
            rollout: RolloutView::default(),
            detail: DetailView::default(),
            text: TextView::default(),
            whatif: Default::default(),
            picker: None,
            confirm: None,
            show_help: false,
            help_scroll: 0,
            help_page: 10,
            cmd_history: Vec::new(),
            hist_pos: None,
            hist_draft: String::new(),
            mouse: true,
            keymap: Arc::default(),
            area: ratatui::layout::Rect::default(),
            permissions: HashMap::new(),
            roll_options: RollOptions::default(),
            drain_timing: Default::default(),
            effects: Vec::new(),
            seq: 0,
            quit: false,
        }
    }

    /// The app for a connection the loop has made.
    pub fn with_session(mut self, session: Session) -> Self {
        self.contexts = session.contexts;
        self.s.server = session.server;
        self.s.scope = session.scope;
        self.s.readonly = session.readonly;
        self
    }

    /// The app as the settings say (see `config`): the theme, the keys, the prefs (the
    /// config's problem, if any, on the hint bar) and the mouse. The same for one cluster
    /// and for each cluster of a fleet.
    pub fn with_settings(mut self, settings: &Settings) -> Self {
        self.s.theme = settings.theme;
        self.mouse = settings.mouse;
        self.with_keymap(settings.keymap.clone()).with_prefs(settings.prefs.clone())
    }

    /// The keys in force (the config's `[keys]`): handling, help and hints read them.
    pub fn with_keymap(mut self, keymap: Arc<Keymap>) -> Self {
        self.keymap = keymap;
        self
    }

    /// The app as the user's config sets it up: the first view (Esc returns to the
    /// DaemonSets list), the grid's grouping, the nodes view's label column, and the
    /// config's path (for the help) and problem (on the hint bar).
    pub fn with_prefs(mut self, p: Prefs) -> Self {
        self.grid.set_grouping(p.group_by.as_deref());
        self.nodes.label = p.node_label;
        self.s.joins.critical = p.critical;
        self.s.config_path = p.config_path;
        self.s.message = p.note;
        if p.view != View::DaemonSets {
            self.goto(p.view);
        }
        self
    }

    /// The one way the app changes; returns what it asks to be done.
    pub fn update(&mut self, msg: Msg) -> Vec<Effect> {
        match msg {
            Msg::Key(k) => self.on_key(k),
            Msg::Mouse(m) => self.on_mouse(m),
            Msg::Resize(..) | Msg::Tick => {}
            Msg::Watch(batch) => {
                for u in batch {
                    self.watch_update(u);
                }
                self.clamp();
            }
            Msg::Job(r) => self.job_result(r),
            Msg::Connected { context, scope, server } => {
                self.reset(context, scope);
                self.s.server = server;
                self.started_effects();
            }
            Msg::Started => self.started_effects(),
        }
        std::mem::take(&mut self.effects)
    }

    pub fn view(&self) -> View {
        self.s.view
    }

    pub fn model(&self) -> &Model {
        &self.s.live.model
    }

    /// The line on the hint bar (an answer, a refusal, a hint), if any.
    pub fn message(&self) -> Option<&str> {
        self.s.message.as_deref()
    }

    pub fn quit(&self) -> bool {
        self.quit
    }

    pub fn context(&self) -> &str {
        &self.s.context
    }

    pub fn contexts(&self) -> &[String] {
        &self.contexts
    }

    /// The DaemonSet the grid and rollout views show.
    pub fn selected(&self) -> Option<&DsInfo> {
        self.s.selected_ds()
    }

    pub fn marks(&self) -> &BTreeSet<String> {
        &self.s.marks
    }

    /// The action waiting for confirmation.
    pub fn confirm(&self) -> Option<&Plan> {
        self.confirm.as_ref().map(|c| &c.plan)
    }

    pub fn help_open(&self) -> bool {
        self.show_help
    }

    /// Whether mouse clicks and the wheel are handled (the terminal loop captures the
    /// mouse only then).
    pub fn mouse(&self) -> bool {
        self.mouse
    }

    /// Turns mouse handling on or off (`--no-mouse`, or a configuration).
    pub fn set_mouse(&mut self, on: bool) {
        self.mouse = on;
    }

    /// The `:` commands entered so far, oldest first (↑/↓ on the command line).
    pub fn command_history(&self) -> &[String] {
        &self.cmd_history
    }

    /// The extra label column of the Nodes view.
    pub fn node_label(&self) -> Option<&str> {
        self.nodes.label.as_deref()
    }

    /// The name of the node under the cursor in the current view.
    pub fn cursor_node(&self) -> Option<&str> {
        self.node_under_cursor().and_then(|id| self.s.live.model.node(id)).map(|n| n.name.as_str())
    }

    /// Draws the current view, its chrome and any popup; views record their layout. What
    /// the cluster said can never drive the terminal ([`crate::ui::views::format::harmless`]).
    pub fn draw(&mut self, f: &mut Frame) {
        self.draw_views(f);
        crate::ui::views::format::harmless(f.buffer_mut());
    }

    fn draw_views(&mut self, f: &mut Frame) {
        self.area = f.area();
        let forbidden: Vec<Action> = (self.keymap.bindings_for(self.s.view, self.s.readonly))
            .filter(|b| b.hint && self.forbidden(b.action).is_some())
            .map(|b| b.action)
            .collect();
        let idle = self.idle_actions();
        let (_, candidates) = self.completions();
        let s = &self.s;
        let Some((body, hints)) = chrome::frame(f, s) else { return };
        // A drain under way shows below the views of nodes.
        let body = match crate::ui::views::drain::shown(s) {
            Some(d) if matches!(s.view, View::Grid | View::Matrix | View::Nodes | View::Detail) => {
                let (top, bottom) = crate::ui::views::drain::split(body, d);
                crate::ui::views::drain::render(f, bottom, s, d);
                top
            }
            _ => body,
        };
        // A maintenance roll a budget holds shows its blocker table below every view but the text pane.
        let body = match crate::ui::views::drain::roll_shown(s) {
            Some(r) if !matches!(s.view, View::Text | View::Fleet) => {
                let (top, bottom) = crate::ui::views::drain::split_rows(body, crate::ui::views::drain::roll_rows(r));
                crate::ui::views::drain::render_roll(f, bottom, s, r);
                top
            }
            _ => body,
        };
        match s.view {
            View::DaemonSets => self.daemonsets.render(f, body, s),
            View::Grid => self.grid.render(f, body, s),
            View::Matrix => self.matrix.render(f, body, s),
            View::Rollout => self.rollout.render(f, body, s),
            View::Nodes => self.nodes.render(f, body, s),
            View::Joins => self.joins.render(f, body, s),
            View::Detail => self.detail.render(f, body, s),
            View::Text => self.text.render(f, body, s),
            View::WhatIf => self.whatif.render(f, body, s),
            View::Fleet => {}
        }
        let prompt = match &self.mode {
            Mode::Normal => Prompt::None,
            Mode::Filter(i) => Prompt::Filter(i, &candidates),
            Mode::Command(i) => Prompt::Command(i, &candidates),
            Mode::Search(i) => Prompt::Search(i),
            Mode::Labels { input, nodes } => Prompt::Labels { input, nodes: nodes.len(), candidates: &candidates },
            Mode::Taints { input, nodes } => Prompt::Taints { input, nodes: nodes.len() },
        };
        chrome::hint_bar(f, hints, s, &self.keymap, prompt, &forbidden, &idle);
        let area = f.area();
        if let Some(p) = &mut self.picker {
            p.render(f, area, s);
        }
        if let Some(c) = &mut self.confirm {
            c.render(f, area, s);
        }
        if self.show_help {
            self.help_page = help::render(f, area, s, &self.keymap, &mut self.help_scroll);
        }
    }

    fn started_effects(&mut self) {
        if !self.s.readonly {
            self.effects.push(Effect::CheckPermissions);
        }
    }

    /// A new connection (context or namespace switch): everything known so far is dropped,
    /// and the watches start again.
    fn reset(&mut self, context: String, scope: Scope) {
        let mut fresh = App::new(context, self.s.theme);
        fresh.contexts = std::mem::take(&mut self.contexts);
        fresh.namespaces = std::mem::take(&mut self.namespaces);
        (fresh.grid.group_by, fresh.grid.extra_key) = (self.grid.group_by, self.grid.extra_key.take());
        (fresh.nodes.label, fresh.s.config_path) = (self.nodes.label.take(), self.s.config_path.take());
        fresh.cmd_history = std::mem::take(&mut self.cmd_history);
        fresh.mouse = self.mouse;
        fresh.keymap = self.keymap.clone();
        (fresh.s.readonly, fresh.s.dry_run, fresh.s.scope) = (self.s.readonly, self.s.dry_run, scope);
        fresh.s.name_context = self.s.name_context;
        *self = fresh;
    }

    fn next_seq(&mut self) -> u64 {
        self.seq += 1;
        self.seq
    }

    /// A result of a job the app asked for; stale ones (an older request) are dropped.
    fn job_result(&mut self, r: JobResult) {
        match r {
            JobResult::Text { seq, lines, append } if seq == self.text.seq => self.text.receive(lines, append),
            JobResult::TextEnd { seq, note } if seq == self.text.seq => self.text.note = Some(note),
            JobResult::Events { seq, events } if seq == self.detail.events_seq && self.detail.object.is_some() => {
                self.detail.events = events;
                self.detail.events_note = None;
            }
            JobResult::Failed { seq: Some(seq), message } => {
                if seq == self.text.seq {
                    // The API's 400 for a log of a container between restarts: say what helps.
                    let hint = if message.contains("is waiting to start") { " — p shows the previous container's log" } else { "" };
                    self.text.note = Some(format!("{message}{hint}"));
                } else if seq == self.detail.events_seq {
                    self.detail.events_note = Some(message);
                }
            }
            JobResult::Failed { seq: None, message } => self.s.message = Some(message),
            JobResult::Permissions(p) => self.permissions = p.into_iter().collect(),
            JobResult::Acted(outcome) => self.s.message = Some(crate::ui::outcome::line(&outcome)),
            JobResult::Roll(st) => {
                // The roll's progress is the news: it replaces the line the confirmation
                // left (`roll of ……`), so the bottom line moves without a key.
                if self.s.roll.as_ref() != Some(&st) {
                    self.s.message = None;
                }
                self.s.roll = Some(st);
            }
            JobResult::DrainPlan { nodes, disable_eviction, plans } => self.drain_planned(nodes, disable_eviction, plans),
            JobResult::Preflight { seq, reports } if seq == self.whatif.seq => self.whatif.reports = Some(reports),
            JobResult::Preflight { .. } => {}
            JobResult::Drain(st) => {
                // Under way, the drain's panel (and, away from the node views, the bottom
                // line) shows where it stands, so the keys stay in the hint bar; its end
                // is the news.
                if st.finished {
                    self.s.message = Some(st.line());
                } else if self.s.drain.as_ref().is_none_or(|d| !d.is_active() || d.paused.is_some() != st.paused.is_some()) {
                    // Started, paused or resumed: the line the confirmation or the command
                    // left is old news.
                    self.s.message = None;
                }
                self.s.drain = Some(st);
            }
            // Connected is handled by the loop (it owns the watches), then `Msg::Connected`.
            _ => {}
        }
    }

    fn watch_update(&mut self, u: Update) {
        if let Update::Change(Change::DaemonSet(d)) = &u
            && !self.namespaces.contains(&d.namespace)
        {
            self.namespaces.insert(d.namespace.clone());
        }
        let s = &mut self.s;
        match s.live.apply(u) {
            Some(SyncEvent::Recovered(r, stale_for)) => tracing::info!(?r, ?stale_for, "watch live again"),
            Some(SyncEvent::Ready(took)) => tracing::info!(
                context = %s.context,
                nodes = s.live.model.node_count(),
                daemonsets = s.live.model.daemonsets().count(),
                pods = s.live.model.pod_count(),
                seconds = took.as_secs_f64(),
                "initial sync complete"
            ),
            _ => {}
        }
    }
}

//! The terminal UI: application state driven by actions, and views that are pure
//! functions of that state (tested with ratatui's `TestBackend`).

mod detail_view;
pub mod keymap;
mod nodes_view;
mod rollout_view;
mod theme;
mod views;

use std::collections::{BTreeSet, HashMap};
use std::sync::atomic::AtomicUsize;
use std::sync::atomic::Ordering::Relaxed;
use std::time::Instant;

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use ratatui::Frame;

pub use keymap::Action;
pub use theme::Theme;

use crate::cluster::jobs::{Effect, EventLine, JobResult, Kind, ObjectRef};
use crate::cluster::watch::{Scope, SyncState, Update};
use crate::model::coverage::CellState;
use crate::model::rollout::{self, Pace};
use crate::model::{Change, DsInfo, Model, NodeId, PodInfo, Resource};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum View {
    DaemonSets,
    Grid,
    Matrix,
    Rollout,
    Nodes,
    /// Detail of one object (`App::detail`), with its Events.
    Detail,
    /// A text pane: YAML or a followed log (`App::text`).
    Text,
}

impl View {
    pub const ALL: [View; 7] = [View::DaemonSets, View::Grid, View::Matrix, View::Rollout, View::Nodes, View::Detail, View::Text];

    pub fn title(self) -> &'static str {
        match self {
            View::DaemonSets => "DaemonSets",
            View::Grid => "coverage grid",
            View::Matrix => "node × DaemonSet matrix",
            View::Rollout => "rollout progress",
            View::Nodes => "nodes",
            View::Detail => "detail",
            View::Text => "YAML / logs",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Mode {
    Normal,
    Filter(String),
    Command(String),
    /// Typing label edits (kubectl syntax) for the target nodes.
    Labels {
        input: String,
        nodes: Vec<String>,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SortBy {
    Name,
    Problems,
    Coverage,
}

/// Label keys the grid can group by, in the order `z` cycles through them.
pub const GROUP_KEYS: &[&str] = &["topology.kubernetes.io/zone", "pool", "node.kubernetes.io/instance-type", "kubernetes.io/arch"];

/// Lines a text pane keeps (a followed log drops its oldest beyond this).
pub const TEXT_LINES: usize = 10_000;

/// The YAML or log pane.
#[derive(Debug, Clone, Default)]
pub struct TextPane {
    pub title: String,
    pub lines: std::collections::VecDeque<String>,
    /// First line shown.
    pub scroll: usize,
    /// Keep the newest line in view (logs; `G` turns it on, scrolling up turns it off).
    pub follow: bool,
    /// Loading, an error, or why the stream ended.
    pub note: Option<String>,
    pub seq: u64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PickerKind {
    Context,
    Namespace,
}

/// A list to choose from (`:ctx`, `:ns`).
#[derive(Debug, Clone)]
pub struct Picker {
    pub kind: PickerKind,
    pub items: Vec<String>,
    pub cursor: usize,
}

/// A watch that is failing: the data it feeds is as of `since`.
#[derive(Debug, Clone)]
pub struct Stale {
    pub since: Instant,
    pub retry_at: Instant,
    pub reason: String,
    pub fatal: bool,
}

pub struct App {
    pub model: Model,
    pub context: String,
    /// Every context of the kubeconfig, for `:ctx`.
    pub contexts: Vec<String>,
    /// The namespace scope the watches use.
    pub scope: Scope,
    /// Namespaces seen (for the `:ns` picker).
    pub namespaces: BTreeSet<String>,
    pub readonly: bool,
    pub view: View,
    /// Views to return to with Esc, each with the filter it had.
    pub history: Vec<(View, String)>,
    pub mode: Mode,
    pub filter: String,
    pub sort: SortBy,
    pub ds_cursor: usize,
    /// The DaemonSet the grid and the rollout view show.
    pub selected: Option<(String, String)>,
    pub grid_cursor: usize,
    /// Matrix cursor: row (node, in matrix order) and column (DaemonSet).
    pub matrix_row: usize,
    pub matrix_col: usize,
    pub nodes_cursor: usize,
    pub nodes_sort: SortBy,
    /// An extra label shown as a column in the Nodes view (`z` cycles through the keys).
    pub node_label: Option<String>,
    /// Index into GROUP_KEYS, or None for no grouping.
    pub group_by: Option<usize>,
    /// Marked nodes (Space), for actions on several nodes at once.
    pub marks: BTreeSet<String>,
    /// The object the detail view shows (a pod also by uid, to follow it in the model).
    pub detail: Option<(ObjectRef, Option<String>)>,
    pub detail_scroll: usize,
    pub events: Vec<EventLine>,
    pub events_seq: u64,
    pub events_note: Option<String>,
    pub text: TextPane,
    pub picker: Option<Picker>,
    /// An action waiting for `y` (confirm) or `n`/Esc (cancel).
    pub confirm: Option<crate::cluster::actions::Plan>,
    /// Send actions with `dryRun=All` (`:dry-run on|off`).
    pub dry_run: bool,
    /// What the server said each action's permission is (SelfSubjectAccessReview).
    pub permissions: HashMap<crate::cluster::actions::Permission, Result<bool, crate::cluster::errors::ClusterError>>,
    /// The roll under way (or the last one), as its job reports it.
    pub roll: Option<crate::cluster::roll::RollStatus>,
    /// Nodes at a time for the next roll (`:roll N`).
    pub roll_batch: usize,
    pub show_help: bool,
    pub message: Option<String>,
    pub sync: HashMap<Resource, (SyncState, Option<Instant>)>,
    /// Watches that are failing: since when (the data is as of then), why, next retry.
    pub stale: HashMap<Resource, Stale>,
    /// The API server's URL, when known (named in the disconnected banner).
    pub server: Option<String>,
    /// Observed pace of each DaemonSet's rollout (by uid).
    pub paces: HashMap<String, Pace>,
    /// Requests for the job runner (YAML, logs, events, reconnects), drained by the loop.
    pub effects: Vec<Effect>,
    seq: u64,
    /// When the app started, and how long the first full sync of every watch took.
    pub started: Instant,
    pub synced_in: Option<std::time::Duration>,
    pub quit: bool,
    pub theme: Theme,
    /// Grid cells per row at the last draw (for ←/→/↑/↓ arithmetic).
    pub grid_width: AtomicUsize,
    pub page: AtomicUsize,
}

impl App {
    pub fn new(context: impl Into<String>, theme: Theme) -> Self {
        let context = context.into();
        App {
            model: Model::new(),
            contexts: vec![context.clone()],
            context,
            scope: Scope::default(),
            namespaces: BTreeSet::new(),
            readonly: false,
            view: View::DaemonSets,
            history: Vec::new(),
            mode: Mode::Normal,
            filter: String::new(),
            sort: SortBy::Name,
            ds_cursor: 0,
            selected: None,
            grid_cursor: 0,
            matrix_row: 0,
            matrix_col: 0,
            nodes_cursor: 0,
            nodes_sort: SortBy::Name,
            node_label: None,
            group_by: Some(0),
            marks: BTreeSet::new(),
            detail: None,
            detail_scroll: 0,
            events: Vec::new(),
            events_seq: 0,
            events_note: None,
            text: TextPane::default(),
            picker: None,
            confirm: None,
            dry_run: false,
            permissions: HashMap::new(),
            roll: None,
            roll_batch: 1,
            show_help: false,
            message: None,
            sync: HashMap::new(),
            stale: HashMap::new(),
            server: None,
            paces: HashMap::new(),
            effects: Vec::new(),
            seq: 0,
            started: Instant::now(),
            synced_in: None,
            quit: false,
            theme,
            grid_width: AtomicUsize::new(1),
            page: AtomicUsize::new(10),
        }
    }

    /// A new connection (context or namespace switch): everything known so far is dropped,
    /// and the watches start again.
    pub fn reset(&mut self, context: String, scope: Scope) {
        let fresh = App::new(context, self.theme);
        let contexts = std::mem::take(&mut self.contexts);
        let namespaces = std::mem::take(&mut self.namespaces);
        let (readonly, group_by, dry_run) = (self.readonly, self.group_by, self.dry_run);
        *self = App { contexts, namespaces, readonly, group_by, dry_run, scope, ..fresh };
    }

    fn next_seq(&mut self) -> u64 {
        self.seq += 1;
        self.seq
    }

    /// A result of a job the app asked for; stale ones (an older request) are dropped.
    pub fn job_result(&mut self, r: JobResult) {
        match r {
            JobResult::Text { seq, lines, append } if seq == self.text.seq => {
                if !append {
                    self.text.lines.clear();
                    self.text.note = None;
                }
                self.text.lines.extend(lines);
                let excess = self.text.lines.len().saturating_sub(TEXT_LINES);
                self.text.lines.drain(..excess);
                self.text.scroll = self.text.scroll.saturating_sub(excess);
            }
            JobResult::TextEnd { seq, note } if seq == self.text.seq => self.text.note = Some(note),
            JobResult::Events { seq, events } if seq == self.events_seq && self.detail.is_some() => {
                self.events = events;
                self.events_note = None;
            }
            JobResult::Failed { seq: Some(seq), message } => {
                if seq == self.text.seq {
                    self.text.note = Some(message);
                } else if seq == self.events_seq {
                    self.events_note = Some(message);
                }
            }
            JobResult::Failed { seq: None, message } => self.message = Some(message),
            JobResult::Permissions(p) => self.permissions = p.into_iter().collect(),
            JobResult::Acted(line) => self.message = Some(line),
            JobResult::Roll(s) => self.roll = Some(s),
            // Connected is handled by the loop (it owns the watches), then `reset`.
            _ => {}
        }
    }
    pub fn update(&mut self, u: Update) {
        match u {
            Update::Change(c) => {
                let r = match &c {
                    Change::Node(_) | Change::NodeGone(_) => Some(Resource::Nodes),
                    Change::DaemonSet(_) | Change::DaemonSetGone { .. } => Some(Resource::DaemonSets),
                    Change::Pod(_) | Change::PodGone { .. } => Some(Resource::Pods),
                    Change::Revision(_) | Change::RevisionGone { .. } => Some(Resource::Revisions),
                    Change::Service(_) | Change::ServiceGone { .. } => Some(Resource::Services),
                    _ => None,
                };
                if let Some(r) = r {
                    self.sync.entry(r).or_insert((SyncState::Syncing, None)).1 = Some(Instant::now());
                }
                if let Change::DaemonSet(d) = &c {
                    self.paces.entry(d.uid.clone()).or_default().observe(Instant::now(), d.updated, d.available);
                    if !self.namespaces.contains(&d.namespace) {
                        self.namespaces.insert(d.namespace.clone());
                    }
                }
                self.model.apply(c);
            }
            Update::Sync(r, s) => {
                match &s {
                    SyncState::Reconnecting { reason, fatal, retry_in } => {
                        let now = Instant::now();
                        let e =
                            self.stale.entry(r).or_insert_with(|| Stale { since: now, retry_at: now, reason: String::new(), fatal: false });
                        (e.retry_at, e.reason, e.fatal) = (now + *retry_in, reason.clone(), *fatal);
                    }
                    _ => {
                        if let Some(st) = self.stale.remove(&r) {
                            tracing::info!(?r, stale_for = ?st.since.elapsed(), "watch live again");
                        }
                    }
                }
                let e = self.sync.entry(r).or_insert((SyncState::Syncing, None));
                e.0 = s;
                if self.synced_in.is_none() && Resource::ALL.iter().all(|r| self.sync.get(r).is_some_and(|s| s.0 == SyncState::Live)) {
                    let took = self.started.elapsed();
                    self.synced_in = Some(took);
                    tracing::info!(
                        context = %self.context,
                        nodes = self.model.node_count(),
                        daemonsets = self.model.daemonsets().count(),
                        pods = self.model.pod_count(),
                        seconds = took.as_secs_f64(),
                        "initial sync complete"
                    );
                }
            }
        }
    }

    /// The DaemonSets shown, filtered and sorted.
    pub fn visible_daemonsets(&self) -> Vec<&DsInfo> {
        let f = self.filter.to_lowercase();
        let mut v: Vec<&DsInfo> =
            self.model.daemonsets().filter(|d| f.is_empty() || format!("{}/{}", d.namespace, d.name).to_lowercase().contains(&f)).collect();
        match self.sort {
            SortBy::Name => {}
            SortBy::Problems => v.sort_by_key(|d| std::cmp::Reverse(self.problems(d))),
            SortBy::Coverage => {
                v.sort_by(|a, b| self.coverage_ratio(a).partial_cmp(&self.coverage_ratio(b)).unwrap_or(std::cmp::Ordering::Equal))
            }
        }
        v
    }

    pub fn problems(&self, d: &DsInfo) -> u32 {
        self.model.coverage(d).map_or(0, |c| CellState::ALL.iter().filter(|s| s.is_problem()).map(|s| c.count(*s)).sum())
    }

    pub fn coverage_ratio(&self, d: &DsInfo) -> f64 {
        let Some(c) = self.model.coverage(d) else { return 0.0 };
        let e = c.eligible();
        if e == 0 { 1.0 } else { c.count(CellState::Ready) as f64 / e as f64 }
    }

    pub fn selected_ds(&self) -> Option<&DsInfo> {
        let (ns, name) = self.selected.as_ref()?;
        self.model.daemonset(ns, name)
    }

    /// Grid order: nodes grouped by the chosen label (groups sorted), then by name.
    pub fn grid_nodes(&self) -> Vec<(String, Vec<NodeId>)> {
        let key = self.group_by.map(|i| GROUP_KEYS[i]);
        let f = self.filter.to_lowercase();
        let mut groups: std::collections::BTreeMap<String, Vec<NodeId>> = Default::default();
        for (id, n) in self.model.nodes() {
            if !f.is_empty() && self.view == View::Grid && !n.name.to_lowercase().contains(&f) {
                continue;
            }
            let g = match key {
                Some(k) => n.facts.labels.get(k).cloned().map(|v| format!("{k}={v}")).unwrap_or_else(|| format!("{k} unset")),
                None => "all nodes".to_string(),
            };
            groups.entry(g).or_default().push(id);
        }
        groups.into_iter().collect()
    }

    pub fn grid_order(&self) -> Vec<NodeId> {
        self.grid_nodes().into_iter().flat_map(|(_, v)| v).collect()
    }

    /// Per node: DaemonSets not fine there, and (fine, expected) over all DaemonSets.
    pub fn node_daemons(&self, id: NodeId) -> (u32, u32, u32) {
        let (mut bad, mut ok, mut expected) = (0, 0, 0);
        for d in self.model.daemonsets() {
            let s = self.model.coverage(d).and_then(|c| c.cells.get(id as usize)).copied().unwrap_or(CellState::Absent);
            bad += u32::from(s.is_problem());
            ok += u32::from(s == CellState::Ready);
            expected += u32::from(s.is_eligible());
        }
        (bad, ok, expected)
    }

    /// Matrix rows: nodes with the most DaemonSets not fine first, then by name.
    pub fn matrix_rows(&self) -> Vec<(NodeId, u32)> {
        let f = self.filter.to_lowercase();
        let mut rows: Vec<(NodeId, u32, &str)> = self
            .model
            .nodes()
            .filter(|(_, n)| f.is_empty() || n.name.to_lowercase().contains(&f))
            .map(|(id, n)| (id, self.node_daemons(id).0, n.name.as_str()))
            .collect();
        rows.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.2.cmp(b.2)));
        rows.into_iter().map(|(id, bad, _)| (id, bad)).collect()
    }

    /// The Nodes view's rows, filtered (name or any label value) and sorted.
    pub fn node_rows(&self) -> Vec<NodeId> {
        let f = self.filter.to_lowercase();
        let mut rows: Vec<(NodeId, u32, &str)> = self
            .model
            .nodes()
            .filter(|(_, n)| f.is_empty() || n.name.to_lowercase().contains(&f) || n.facts.labels.values().any(|v| v.to_lowercase() == f))
            .map(|(id, n)| (id, if self.nodes_sort == SortBy::Name { 0 } else { self.node_daemons(id).0 }, n.name.as_str()))
            .collect();
        if self.nodes_sort != SortBy::Name {
            rows.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.2.cmp(b.2)));
        }
        rows.into_iter().map(|r| r.0).collect()
    }

    /// DaemonSets whose rollout is under way; the selected one is shown even when done.
    pub fn rollouts(&self) -> Vec<&DsInfo> {
        self.model.daemonsets().filter(|d| rollout::under_way(&self.model, d)).collect()
    }

    pub fn cursor_node(&self) -> Option<NodeId> {
        self.grid_order().get(self.grid_cursor).copied()
    }

    /// The node the cursor is on in the current view.
    fn node_under_cursor(&self) -> Option<NodeId> {
        match self.view {
            View::Grid => self.cursor_node(),
            View::Matrix => self.matrix_rows().get(self.matrix_row).map(|r| r.0),
            View::Nodes => self.node_rows().get(self.nodes_cursor).copied(),
            _ => None,
        }
    }

    /// The pod the cursor is on: the grid's DaemonSet on the cursor node (newest pod), or
    /// the pod in the detail view.
    fn pod_under_cursor(&self) -> Option<&PodInfo> {
        match self.view {
            View::Grid => {
                let ds = self.selected_ds()?;
                self.model.pods_on(ds, self.cursor_node()?).into_iter().last()
            }
            View::Matrix => {
                let ds = self.model.daemonsets().nth(self.matrix_col)?;
                self.model.pods_on(ds, self.node_under_cursor()?).into_iter().last()
            }
            View::Detail => match &self.detail {
                Some((o, Some(uid))) if o.kind == Kind::Pod => self.model.pod(uid),
                _ => None,
            },
            _ => None,
        }
    }

    pub fn on_key(&mut self, k: KeyEvent) {
        self.message = None;
        if k.code == KeyCode::Char('c') && k.modifiers.contains(KeyModifiers::CONTROL) {
            self.quit = true;
            return;
        }
        match &mut self.mode {
            Mode::Filter(s) => {
                match k.code {
                    KeyCode::Esc => {
                        self.filter.clear();
                        self.mode = Mode::Normal;
                    }
                    KeyCode::Enter => self.mode = Mode::Normal,
                    KeyCode::Backspace => {
                        s.pop();
                        self.filter = s.clone();
                    }
                    KeyCode::Char(c) => {
                        s.push(c);
                        self.filter = s.clone();
                    }
                    _ => {}
                }
                self.clamp();
                return;
            }
            Mode::Command(s) => {
                match k.code {
                    KeyCode::Esc => self.mode = Mode::Normal,
                    KeyCode::Backspace => {
                        s.pop();
                    }
                    KeyCode::Char(c) => s.push(c),
                    KeyCode::Enter => {
                        let cmd = s.trim().to_string();
                        self.mode = Mode::Normal;
                        self.command(&cmd);
                    }
                    _ => {}
                }
                self.clamp();
                return;
            }
            Mode::Labels { input, nodes } => {
                match k.code {
                    KeyCode::Esc => {
                        self.mode = Mode::Normal;
                        self.message = Some("label edit cancelled; nothing sent".into());
                    }
                    KeyCode::Backspace => {
                        input.pop();
                    }
                    KeyCode::Char(c) => input.push(c),
                    KeyCode::Enter => match crate::cluster::actions::parse_label_changes(input) {
                        // Refused before anything is sent; the input stays to be fixed.
                        Err(problems) => self.message = Some(format!("✖ {}", problems.join("; "))),
                        Ok(changes) => {
                            let nodes = std::mem::take(nodes);
                            self.mode = Mode::Normal;
                            let intent = crate::cluster::actions::Intent::label(&self.model, nodes, changes);
                            self.confirm = Some(intent.plan(&self.model));
                        }
                    },
                    _ => {}
                }
                return;
            }
            Mode::Normal => {}
        }
        if self.show_help {
            if matches!(k.code, KeyCode::Esc | KeyCode::Char('?') | KeyCode::Char('q')) {
                self.show_help = false;
            }
            return;
        }
        if let Some(plan) = &self.confirm {
            match k.code {
                KeyCode::Char('y') | KeyCode::Char('Y') => {
                    let plan = plan.clone();
                    self.confirm = None;
                    if plan.changes == 0 {
                        self.message = Some(format!("{}: nothing to change", plan.intent.verb()));
                    } else {
                        self.message = Some(format!("{}…", plan.title));
                        // A restarted RollingUpdate DaemonSet: follow its rollout.
                        if let crate::cluster::actions::Intent::RolloutRestart { namespace, name } = &plan.intent {
                            self.selected = Some((namespace.clone(), name.clone()));
                            self.goto(View::Rollout);
                        }
                        self.effects.push(Effect::Act { plan, dry_run: self.dry_run });
                    }
                }
                KeyCode::Char('n') | KeyCode::Char('N') | KeyCode::Esc | KeyCode::Char('q') => {
                    self.confirm = None;
                    self.message = Some("cancelled; nothing sent".into());
                }
                _ => {}
            }
            return;
        }
        if let Some(p) = &mut self.picker {
            match k.code {
                KeyCode::Esc | KeyCode::Char('q') => self.picker = None,
                KeyCode::Down | KeyCode::Char('j') => p.cursor = (p.cursor + 1).min(p.items.len().saturating_sub(1)),
                KeyCode::Up | KeyCode::Char('k') => p.cursor = p.cursor.saturating_sub(1),
                KeyCode::Enter => {
                    let (kind, item) = (p.kind, p.items.get(p.cursor).cloned());
                    self.picker = None;
                    if let Some(item) = item {
                        match kind {
                            PickerKind::Context => self.switch_context(&item),
                            PickerKind::Namespace => self.switch_namespace(&item),
                        }
                    }
                }
                _ => {}
            }
            return;
        }
        if let Some(a) = keymap::action_for(self.view, &k, self.readonly) {
            self.act(a);
        }
    }

    fn command(&mut self, cmd: &str) {
        let (word, arg) = match cmd.split_once(char::is_whitespace) {
            Some((w, a)) => (w, a.trim()),
            None => (cmd, ""),
        };
        match word {
            "q" | "quit" | "q!" => self.quit = true,
            "ds" | "daemonsets" | "daemonset" => self.go_home(),
            "matrix" | "m" => self.goto(View::Matrix),
            "nodes" | "node" | "no" => self.goto(View::Nodes),
            "rollout" | "rollouts" | "ro" => {
                if self.selected.is_none() {
                    self.pick_selected();
                }
                self.goto(View::Rollout);
            }
            "grid" | "coverage" => {
                if self.selected.is_some() || self.pick_selected() {
                    self.goto(View::Grid);
                }
            }
            "ctx" | "context" | "contexts" => {
                if arg.is_empty() {
                    let cursor = self.contexts.iter().position(|c| *c == self.context).unwrap_or(0);
                    self.picker = Some(Picker { kind: PickerKind::Context, items: self.contexts.clone(), cursor });
                } else {
                    self.switch_context(arg);
                }
            }
            "roll" => match arg {
                "pause" => self.effects.push(Effect::RollControl(crate::cluster::roll::RollCmd::Pause)),
                "resume" => self.effects.push(Effect::RollControl(crate::cluster::roll::RollCmd::Resume)),
                "abort" => self.effects.push(Effect::RollControl(crate::cluster::roll::RollCmd::Abort)),
                n => match n.parse::<usize>() {
                    Ok(b) if b >= 1 => {
                        self.roll_batch = b;
                        self.propose(Action::Restart);
                    }
                    _ if n.is_empty() => self.propose(Action::Restart),
                    _ => self.message = Some(format!(":roll takes a batch size (1, 2, …), pause, resume or abort — not {n:?}")),
                },
            },
            "dry-run" | "dryrun" => {
                self.dry_run = match arg {
                    "on" | "true" => true,
                    "off" | "false" => false,
                    _ => !self.dry_run,
                };
                self.message = Some(if self.dry_run {
                    "dry-run on: actions are sent with dryRun=All (validated, not applied)".into()
                } else {
                    "dry-run off: actions change the cluster".into()
                });
            }
            "ns" | "namespace" | "namespaces" => {
                if arg.is_empty() {
                    let mut items = vec!["all".to_string()];
                    items.extend(self.namespaces.iter().cloned());
                    let cursor = self.scope.namespace.as_ref().and_then(|n| items.iter().position(|i| i == n)).unwrap_or(0);
                    self.picker = Some(Picker { kind: PickerKind::Namespace, items, cursor });
                } else {
                    self.switch_namespace(arg);
                }
            }
            other => self.message = Some(format!("unknown command :{other} (try :ds, :grid, :matrix, :nodes, :rollout, :ctx, :ns, :q)")),
        }
    }

    fn switch_context(&mut self, name: &str) {
        if !self.contexts.iter().any(|c| c == name) {
            self.message = Some(format!("no context {name:?} in the kubeconfig (:ctx lists them)"));
            return;
        }
        self.effects.push(Effect::StopStreams);
        self.effects.push(Effect::Connect { context: Some(name.to_string()), scope: self.scope.clone() });
        self.message = Some(format!("connecting to context {name}…"));
    }

    fn switch_namespace(&mut self, ns: &str) {
        let namespace = match ns {
            "all" | "-A" | "*" => None,
            n => {
                if let Err(e) = crate::k8s::labels::validate_dns1123_label(n) {
                    self.message = Some(format!("invalid namespace {n:?}: {e}"));
                    return;
                }
                Some(n.to_string())
            }
        };
        let scope = Scope { namespace, selector: self.scope.selector.clone() };
        self.effects.push(Effect::StopStreams);
        self.effects.push(Effect::Connect { context: Some(self.context.clone()), scope });
    }

    fn pick_selected(&mut self) -> bool {
        let sel = self.visible_daemonsets().get(self.ds_cursor).map(|d| (d.namespace.clone(), d.name.clone()));
        self.selected = sel;
        self.selected.is_some()
    }

    /// Opens `v`, remembering where Esc returns to.
    fn goto(&mut self, v: View) {
        if v == self.view {
            return;
        }
        if self.view == View::Text || self.view == View::Detail {
            self.effects.push(Effect::StopStreams);
        }
        self.history.retain(|h| h.0 != v && h.0 != self.view);
        self.history.push((self.view, std::mem::take(&mut self.filter)));
        self.view = v;
    }

    fn go_home(&mut self) {
        if matches!(self.view, View::Text | View::Detail) {
            self.effects.push(Effect::StopStreams);
        }
        self.history.clear();
        self.view = View::DaemonSets;
        self.filter.clear();
    }

    fn back(&mut self) {
        if !self.filter.is_empty() {
            self.filter.clear();
            return;
        }
        if matches!(self.view, View::Text | View::Detail) {
            self.effects.push(Effect::StopStreams);
        }
        let (prev, filter) = self.history.pop().unwrap_or((View::DaemonSets, String::new()));
        self.filter = filter;
        // Returning to a detail view re-watches its events (the text pane stopped them).
        if prev == View::Detail
            && let Some((o, _)) = self.detail.clone()
        {
            self.events_seq = self.next_seq();
            self.effects.push(Effect::Events { seq: self.events_seq, object: o });
        }
        self.view = prev;
    }

    /// Opens the detail view of an object (and watches its Events).
    pub fn open_detail(&mut self, object: ObjectRef, pod_uid: Option<String>) {
        self.goto(View::Detail);
        self.events.clear();
        self.events_note = Some("loading events…".into());
        self.events_seq = self.next_seq();
        self.detail_scroll = 0;
        self.effects.push(Effect::Events { seq: self.events_seq, object: object.clone() });
        self.detail = Some((object, pod_uid));
    }

    fn open_text(&mut self, title: String, follow: bool) -> u64 {
        self.goto(View::Text);
        let seq = self.next_seq();
        self.text = TextPane { title, lines: Default::default(), scroll: 0, follow, note: Some("loading…".into()), seq };
        seq
    }

    /// The object `y`, `d` and Enter act on in the current view.
    fn object_under_cursor(&self) -> Option<(ObjectRef, Option<String>)> {
        let ds_ref = |d: &DsInfo| ObjectRef { kind: Kind::DaemonSet, namespace: Some(d.namespace.clone()), name: d.name.clone() };
        let node_ref =
            |id: NodeId| self.model.node(id).map(|n| (ObjectRef { kind: Kind::Node, namespace: None, name: n.name.clone() }, None));
        let pod_ref =
            |p: &PodInfo| (ObjectRef { kind: Kind::Pod, namespace: Some(p.namespace.clone()), name: p.name.clone() }, Some(p.uid.clone()));
        match self.view {
            View::DaemonSets => self.visible_daemonsets().get(self.ds_cursor).map(|d| (ds_ref(d), None)),
            View::Rollout => self.rollout_ds().map(|d| (ds_ref(d), None)),
            View::Grid | View::Matrix => self.pod_under_cursor().map(pod_ref).or_else(|| node_ref(self.node_under_cursor()?)),
            View::Nodes => node_ref(self.node_under_cursor()?),
            View::Detail => self.detail.clone(),
            View::Text => None,
        }
    }

    /// The DaemonSet the rollout view details: the selected one (the cursor moves the
    /// selection, so the view stays on it while rollouts start and finish around it).
    pub fn rollout_ds(&self) -> Option<&DsInfo> {
        self.selected_ds().or_else(|| self.rollouts().into_iter().next())
    }

    /// Rows of the rollout view: every rollout under way, plus the selected DaemonSet, by name.
    pub fn rollout_rows(&self) -> Vec<&DsInfo> {
        let sel = self.selected_ds().map(|d| d.uid.as_str());
        self.model.daemonsets().filter(|d| Some(d.uid.as_str()) == sel || rollout::under_way(&self.model, d)).collect()
    }

    /// The row of the rollout view's cursor.
    pub fn rollout_index(&self) -> usize {
        let cur = self.rollout_ds().map(|d| d.uid.clone());
        self.rollout_rows().iter().position(|d| Some(&d.uid) == cur.as_ref()).unwrap_or(0)
    }

    pub fn act(&mut self, a: Action) {
        let page = self.page.load(Relaxed).max(1);
        match (self.view, a) {
            (_, Action::Quit) => self.quit = true,
            (_, Action::Help) => self.show_help = true,
            (_, Action::Filter) => self.mode = Mode::Filter(self.filter.clone()),
            (_, Action::Command) => self.mode = Mode::Command(String::new()),
            (View::DaemonSets, Action::Back) => self.filter.clear(),
            (_, Action::Back) => self.back(),
            (_, Action::Matrix) => self.goto(View::Matrix),
            (_, Action::Nodes) => self.goto(View::Nodes),
            (View::DaemonSets | View::Grid | View::Matrix, Action::Rollout) => {
                match self.view {
                    View::DaemonSets => {
                        self.pick_selected();
                    }
                    View::Matrix => {
                        self.selected = self.model.daemonsets().nth(self.matrix_col).map(|d| (d.namespace.clone(), d.name.clone()));
                    }
                    _ => {}
                }
                if self.selected.is_some() {
                    self.goto(View::Rollout);
                }
            }
            (View::Matrix, Action::Down | Action::Up | Action::PageDown | Action::PageUp | Action::Top | Action::Bottom) => {
                move_rows(&mut self.matrix_row, a, page)
            }
            (View::Nodes, Action::Down | Action::Up | Action::PageDown | Action::PageUp | Action::Top | Action::Bottom) => {
                move_rows(&mut self.nodes_cursor, a, page)
            }
            (View::Rollout, Action::Down | Action::Up | Action::PageDown | Action::PageUp | Action::Top | Action::Bottom) => {
                let mut i = self.rollout_index();
                move_rows(&mut i, a, page);
                let rows = self.rollout_rows();
                let pick = rows.get(i.min(rows.len().saturating_sub(1))).map(|d| (d.namespace.clone(), d.name.clone()));
                if pick.is_some() {
                    self.selected = pick;
                }
            }
            (View::Detail, Action::Down | Action::Up | Action::PageDown | Action::PageUp | Action::Top | Action::Bottom) => {
                move_rows(&mut self.detail_scroll, a, page)
            }
            (View::Text, Action::Down | Action::Up | Action::PageDown | Action::PageUp | Action::Top | Action::Bottom) => {
                move_rows(&mut self.text.scroll, a, page);
                // Going to the end follows the stream again; scrolling up stops following.
                self.text.follow = a == Action::Bottom || (self.text.follow && matches!(a, Action::Down | Action::PageDown));
            }
            (View::Matrix, Action::Right) => self.matrix_col += 1,
            (View::Matrix, Action::Left) => self.matrix_col = self.matrix_col.saturating_sub(1),
            (View::Matrix, Action::Open) => {
                let node = self.matrix_rows().get(self.matrix_row).map(|r| r.0);
                let ds = self.model.daemonsets().nth(self.matrix_col).map(|d| (d.namespace.clone(), d.name.clone()));
                if let (Some(node), Some(ds)) = (node, ds) {
                    self.selected = Some(ds);
                    self.goto(View::Grid);
                    self.grid_cursor = self.grid_order().iter().position(|id| *id == node).unwrap_or(0);
                }
            }
            (View::DaemonSets, Action::Open) => {
                if self.pick_selected() {
                    self.grid_cursor = 0;
                    self.goto(View::Grid);
                }
            }
            (View::Rollout, Action::Open) => {
                if let Some(d) = self.rollout_ds().map(|d| (d.namespace.clone(), d.name.clone())) {
                    self.selected = Some(d);
                    self.grid_cursor = 0;
                    self.goto(View::Grid);
                }
            }
            (View::Grid | View::Nodes, Action::Open) | (_, Action::Describe) => {
                if let Some((o, uid)) = self.object_under_cursor() {
                    self.open_detail(o, uid);
                }
            }
            (_, Action::Yaml) => {
                if let Some((object, _)) = self.object_under_cursor() {
                    let seq = self.open_text(format!("{object} — YAML"), false);
                    self.effects.push(Effect::Yaml { seq, object });
                }
            }
            (_, Action::Logs | Action::PreviousLogs) => match self.pod_under_cursor().cloned() {
                Some(p) => {
                    let previous = a == Action::PreviousLogs;
                    let what = if previous { "previous container's log" } else { "log" };
                    let seq = self.open_text(format!("{}/{} — {what}", p.namespace, p.name), !previous);
                    self.effects.push(Effect::Logs { seq, namespace: p.namespace, pod: p.name, container: None, previous });
                }
                None => self.message = Some("no pod under the cursor".into()),
            },
            (View::DaemonSets | View::Grid | View::Matrix | View::Nodes, Action::Mark) => match self.node_under_cursor() {
                Some(id) => {
                    let name = self.model.node(id).map(|n| n.name.clone()).unwrap_or_default();
                    if !self.marks.remove(&name) {
                        self.marks.insert(name);
                    }
                    if matches!(self.view, View::Nodes) {
                        self.nodes_cursor += 1;
                    }
                }
                None => self.message = Some("Space marks nodes: in the grid, the matrix or the node list".into()),
            },
            (_, Action::ClearMarks) => self.marks.clear(),
            (_, Action::Cordon | Action::Uncordon | Action::Restart | Action::RestartPod) => self.propose(a),
            (_, Action::EditLabels) => {
                if let Some(why) = self.forbidden(a) {
                    self.message = Some(why);
                } else {
                    let nodes = self.target_nodes();
                    if nodes.is_empty() {
                        self.message = Some("no node under the cursor (and none marked)".into());
                    } else {
                        self.mode = Mode::Labels { input: String::new(), nodes };
                    }
                }
            }
            (View::DaemonSets, Action::Down | Action::Up | Action::PageDown | Action::PageUp | Action::Top | Action::Bottom) => {
                move_rows(&mut self.ds_cursor, a, page)
            }
            (View::DaemonSets, Action::Sort) => {
                self.sort = next_sort(self.sort, true);
                self.message = Some(format!("sorted by {:?}", self.sort).to_lowercase());
            }
            (View::Nodes, Action::Sort) => {
                self.nodes_sort = next_sort(self.nodes_sort, false);
                self.message = Some(format!("sorted by {:?}", self.nodes_sort).to_lowercase());
            }
            (View::Grid, Action::Right) => self.grid_cursor += 1,
            (View::Grid, Action::Left) => self.grid_cursor = self.grid_cursor.saturating_sub(1),
            (View::Grid, Action::Down) => self.grid_cursor += self.grid_width.load(Relaxed).max(1),
            (View::Grid, Action::Up) => self.grid_cursor = self.grid_cursor.saturating_sub(self.grid_width.load(Relaxed).max(1)),
            (View::Grid, Action::PageDown) => self.grid_cursor += self.grid_width.load(Relaxed).max(1) * page,
            (View::Grid, Action::PageUp) => self.grid_cursor = self.grid_cursor.saturating_sub(self.grid_width.load(Relaxed).max(1) * page),
            (View::Grid, Action::Top) => self.grid_cursor = 0,
            (View::Grid, Action::Bottom) => self.grid_cursor = usize::MAX,
            (View::Nodes, Action::GroupBy) => {
                let keys: BTreeSet<&String> = self.model.nodes().flat_map(|(_, n)| n.facts.labels.keys()).collect();
                let next = match &self.node_label {
                    None => keys.iter().next(),
                    Some(cur) => keys.iter().find(|k| k.as_str() > cur.as_str()),
                };
                self.node_label = next.map(|k| k.to_string());
                self.message = Some(match &self.node_label {
                    Some(k) => format!("label column: {k}"),
                    None => "no label column".into(),
                });
            }
            (View::Grid, Action::GroupBy) => {
                self.group_by = match self.group_by {
                    None => Some(0),
                    Some(i) if i + 1 < GROUP_KEYS.len() => Some(i + 1),
                    Some(_) => None,
                };
                self.grid_cursor = 0;
            }
            _ => {}
        }
        self.clamp();
    }

    /// Why an action may not be used, if it may not: the server refused its permission.
    pub fn forbidden(&self, a: Action) -> Option<String> {
        use crate::cluster::actions::{DELETE_PODS, PATCH_DAEMONSETS, PATCH_NODES};
        // The same permissions `Intent::permission` names for the intents these keys propose.
        let (verb, resource) = match a {
            Action::Cordon | Action::Uncordon | Action::EditLabels => PATCH_NODES,
            Action::RestartPod => DELETE_PODS,
            Action::Restart => match self.action_ds().map(|d| &d.strategy) {
                Some(crate::model::Strategy::RollingUpdate { .. }) => PATCH_DAEMONSETS,
                _ => DELETE_PODS,
            },
            _ => return None,
        };
        match self.permissions.get(&(verb, resource)) {
            Some(Ok(false)) => Some(format!("forbidden: this user may not {verb} {resource} (SelfSubjectAccessReview); nothing was sent")),
            _ => None,
        }
    }

    /// The nodes an action applies to: the marked ones, else the one under the cursor.
    fn target_nodes(&self) -> Vec<String> {
        if !self.marks.is_empty() {
            return self.marks.iter().cloned().collect();
        }
        let id = match (self.view, &self.detail) {
            (View::Detail, Some((o, _))) if o.kind == Kind::Node => self.model.node_id(&o.name),
            _ => self.node_under_cursor(),
        };
        id.and_then(|id| self.model.node(id)).map(|n| vec![n.name.clone()]).unwrap_or_default()
    }

    /// The DaemonSet `R` acts on: under the cursor in the list, the rollout view's one.
    fn action_ds(&self) -> Option<&DsInfo> {
        match self.view {
            View::DaemonSets => self.visible_daemonsets().get(self.ds_cursor).copied(),
            View::Rollout => self.rollout_ds(),
            _ => self.selected_ds(),
        }
    }

    /// Builds the plan for a mutating action and asks for confirmation.
    fn propose(&mut self, a: Action) {
        if self.readonly {
            return;
        }
        if let Some(why) = self.forbidden(a) {
            self.message = Some(why);
            return;
        }
        if a == Action::Restart {
            let Some(d) = self.action_ds() else {
                self.message = Some("no DaemonSet selected".into());
                return;
            };
            let (namespace, name) = (d.namespace.clone(), d.name.clone());
            let intent = match d.strategy {
                crate::model::Strategy::OnDelete => crate::cluster::actions::Intent::Roll { namespace, name, batch: self.roll_batch },
                crate::model::Strategy::RollingUpdate { .. } => crate::cluster::actions::Intent::RolloutRestart { namespace, name },
            };
            self.confirm = Some(intent.plan(&self.model));
            return;
        }
        if a == Action::RestartPod {
            match self.pod_under_cursor() {
                Some(p) => {
                    let intent = crate::cluster::actions::Intent::RestartPod {
                        namespace: p.namespace.clone(),
                        pod: p.name.clone(),
                        node: p.node.clone().unwrap_or_default(),
                    };
                    self.confirm = Some(intent.plan(&self.model));
                }
                None => self.message = Some("no pod under the cursor".into()),
            }
            return;
        }
        let nodes = self.target_nodes();
        if nodes.is_empty() {
            self.message = Some("no node under the cursor (and none marked)".into());
            return;
        }
        let intent = match a {
            Action::Cordon => crate::cluster::actions::Intent::Cordon { nodes },
            _ => crate::cluster::actions::Intent::Uncordon { nodes },
        };
        self.confirm = Some(intent.plan(&self.model));
    }

    /// Keeps cursors inside what is shown (lists shrink as filters and watches change them).
    pub fn clamp(&mut self) {
        let n = self.visible_daemonsets().len();
        self.ds_cursor = self.ds_cursor.min(n.saturating_sub(1));
        match self.view {
            View::Grid => {
                let m = self.grid_order().len();
                self.grid_cursor = self.grid_cursor.min(m.saturating_sub(1));
            }
            View::Matrix => {
                self.matrix_row = self.matrix_row.min(self.model.node_count().saturating_sub(1));
                self.matrix_col = self.matrix_col.min(self.model.daemonsets().count().saturating_sub(1));
            }
            View::Nodes => self.nodes_cursor = self.nodes_cursor.min(self.node_rows().len().saturating_sub(1)),
            View::Text => self.text.scroll = self.text.scroll.min(self.text.lines.len().saturating_sub(1)),
            _ => {}
        }
    }

    pub fn draw(&self, f: &mut Frame) {
        views::draw(f, self);
    }
}

fn next_sort(s: SortBy, with_coverage: bool) -> SortBy {
    match s {
        SortBy::Name => SortBy::Problems,
        SortBy::Problems if with_coverage => SortBy::Coverage,
        _ => SortBy::Name,
    }
}

/// Row movement in a list; `clamp` bounds the result afterwards.
fn move_rows(cursor: &mut usize, a: Action, page: usize) {
    *cursor = match a {
        Action::Down => cursor.saturating_add(1),
        Action::Up => cursor.saturating_sub(1),
        Action::PageDown => cursor.saturating_add(page),
        Action::PageUp => cursor.saturating_sub(page),
        Action::Top => 0,
        Action::Bottom => usize::MAX,
        _ => *cursor,
    };
}

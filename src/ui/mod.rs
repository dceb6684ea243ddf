//! The terminal UI: application state driven by actions, and views that are pure
//! functions of that state (tested with ratatui's `TestBackend`).

pub mod keymap;
mod theme;
mod views;

use std::collections::HashMap;
use std::sync::atomic::AtomicUsize;
use std::sync::atomic::Ordering::Relaxed;
use std::time::Instant;

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use ratatui::Frame;

pub use keymap::Action;
pub use theme::Theme;

use crate::coverage::CellState;
use crate::model::{DsInfo, Model, NodeId, Resource};
use crate::watch::{SyncState, Update};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum View {
    DaemonSets,
    Grid,
    Matrix,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Mode {
    Normal,
    Filter(String),
    Command(String),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SortBy {
    Name,
    Problems,
    Coverage,
}

/// Label keys the grid can group by, in the order `z` cycles through them.
pub const GROUP_KEYS: &[&str] = &["topology.kubernetes.io/zone", "pool", "node.kubernetes.io/instance-type", "kubernetes.io/arch"];

pub struct App {
    pub model: Model,
    pub context: String,
    pub view: View,
    pub mode: Mode,
    pub filter: String,
    pub sort: SortBy,
    pub ds_cursor: usize,
    /// The DaemonSet the grid shows.
    pub selected: Option<(String, String)>,
    pub grid_cursor: usize,
    /// Matrix cursor: row (node, in matrix order) and column (DaemonSet).
    pub matrix_row: usize,
    pub matrix_col: usize,
    /// Index into GROUP_KEYS, or None for no grouping.
    pub group_by: Option<usize>,
    pub show_help: bool,
    pub message: Option<String>,
    pub sync: HashMap<Resource, (SyncState, Option<Instant>)>,
    pub quit: bool,
    pub theme: Theme,
    /// Grid cells per row at the last draw (for ←/→/↑/↓ arithmetic).
    pub grid_width: AtomicUsize,
    pub page: AtomicUsize,
}

impl App {
    pub fn new(context: impl Into<String>, theme: Theme) -> Self {
        App {
            model: Model::new(),
            context: context.into(),
            view: View::DaemonSets,
            mode: Mode::Normal,
            filter: String::new(),
            sort: SortBy::Name,
            ds_cursor: 0,
            selected: None,
            grid_cursor: 0,
            matrix_row: 0,
            matrix_col: 0,
            group_by: Some(0),
            show_help: false,
            message: None,
            sync: HashMap::new(),
            quit: false,
            theme,
            grid_width: AtomicUsize::new(1),
            page: AtomicUsize::new(10),
        }
    }

    pub fn update(&mut self, u: Update) {
        match u {
            Update::Change(c) => {
                let r = match &c {
                    crate::model::Change::Node(_) | crate::model::Change::NodeGone(_) => Some(Resource::Nodes),
                    crate::model::Change::DaemonSet(_) | crate::model::Change::DaemonSetGone { .. } => Some(Resource::DaemonSets),
                    crate::model::Change::Pod(_) | crate::model::Change::PodGone { .. } => Some(Resource::Pods),
                    _ => None,
                };
                if let Some(r) = r {
                    self.sync.entry(r).or_insert((SyncState::Syncing, None)).1 = Some(Instant::now());
                }
                self.model.apply(c);
            }
            Update::Sync(r, s) => {
                let e = self.sync.entry(r).or_insert((SyncState::Syncing, None));
                e.0 = s;
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

    /// Matrix rows: nodes with the most DaemonSets not fine first, then by name.
    pub fn matrix_rows(&self) -> Vec<(NodeId, u32)> {
        let dss: Vec<&DsInfo> = self.model.daemonsets().collect();
        let f = self.filter.to_lowercase();
        let mut rows: Vec<(NodeId, u32, &str)> = self
            .model
            .nodes()
            .filter(|(_, n)| f.is_empty() || n.name.to_lowercase().contains(&f))
            .map(|(id, n)| {
                let bad = dss
                    .iter()
                    .filter(|d| self.model.coverage(d).and_then(|c| c.cells.get(id as usize)).is_some_and(|s| s.is_problem()))
                    .count() as u32;
                (id, bad, n.name.as_str())
            })
            .collect();
        rows.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.2.cmp(b.2)));
        rows.into_iter().map(|(id, bad, _)| (id, bad)).collect()
    }

    pub fn cursor_node(&self) -> Option<NodeId> {
        self.grid_order().get(self.grid_cursor).copied()
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
        if let Some(a) = keymap::action_for(self.view, &k) {
            self.act(a);
        }
    }

    fn command(&mut self, cmd: &str) {
        match cmd {
            "q" | "quit" | "q!" => self.quit = true,
            "ds" | "daemonsets" | "daemonset" => {
                self.view = View::DaemonSets;
                self.filter.clear();
            }
            "matrix" | "m" => self.view = View::Matrix,
            "grid" | "coverage" => {
                if self.selected.is_some() || self.pick_selected() {
                    self.view = View::Grid;
                }
            }
            other => self.message = Some(format!("unknown command :{other} (try :ds, :grid, :matrix, :q)")),
        }
    }

    fn pick_selected(&mut self) -> bool {
        let sel = self.visible_daemonsets().get(self.ds_cursor).map(|d| (d.namespace.clone(), d.name.clone()));
        self.selected = sel;
        self.selected.is_some()
    }

    pub fn act(&mut self, a: Action) {
        let page = self.page.load(Relaxed).max(1);
        match (self.view, a) {
            (_, Action::Quit) => self.quit = true,
            (_, Action::Help) => self.show_help = true,
            (_, Action::Filter) => self.mode = Mode::Filter(self.filter.clone()),
            (_, Action::Command) => self.mode = Mode::Command(String::new()),
            (View::DaemonSets, Action::Back) => self.filter.clear(),
            (View::DaemonSets, Action::Matrix) => {
                self.view = View::Matrix;
                self.filter.clear();
            }
            (View::Matrix, Action::Down | Action::Up | Action::PageDown | Action::PageUp | Action::Top | Action::Bottom) => {
                move_rows(&mut self.matrix_row, a, page)
            }
            (View::Matrix, Action::Right) => self.matrix_col += 1,
            (View::Matrix, Action::Left) => self.matrix_col = self.matrix_col.saturating_sub(1),
            (View::Matrix, Action::Open) => {
                let node = self.matrix_rows().get(self.matrix_row).map(|r| r.0);
                let ds = self.model.daemonsets().nth(self.matrix_col).map(|d| (d.namespace.clone(), d.name.clone()));
                if let (Some(node), Some(ds)) = (node, ds) {
                    self.selected = Some(ds);
                    self.filter.clear();
                    self.view = View::Grid;
                    self.grid_cursor = self.grid_order().iter().position(|id| *id == node).unwrap_or(0);
                }
            }
            (View::Grid | View::Matrix, Action::Back) => {
                if !self.filter.is_empty() {
                    self.filter.clear();
                } else {
                    self.view = View::DaemonSets;
                }
            }
            (View::DaemonSets, Action::Open) => {
                if self.pick_selected() {
                    self.view = View::Grid;
                    self.grid_cursor = 0;
                    self.filter.clear();
                }
            }
            (View::DaemonSets, Action::Down | Action::Up | Action::PageDown | Action::PageUp | Action::Top | Action::Bottom) => {
                move_rows(&mut self.ds_cursor, a, page)
            }
            (View::DaemonSets, Action::Sort) => {
                self.sort = match self.sort {
                    SortBy::Name => SortBy::Problems,
                    SortBy::Problems => SortBy::Coverage,
                    SortBy::Coverage => SortBy::Name,
                };
                self.message = Some(format!("sorted by {:?}", self.sort).to_lowercase());
            }
            (View::Grid, Action::Right) => self.grid_cursor += 1,
            (View::Grid, Action::Left) => self.grid_cursor = self.grid_cursor.saturating_sub(1),
            (View::Grid, Action::Down) => self.grid_cursor += self.grid_width.load(Relaxed).max(1),
            (View::Grid, Action::Up) => self.grid_cursor = self.grid_cursor.saturating_sub(self.grid_width.load(Relaxed).max(1)),
            (View::Grid, Action::PageDown) => self.grid_cursor += self.grid_width.load(Relaxed).max(1) * page,
            (View::Grid, Action::PageUp) => self.grid_cursor = self.grid_cursor.saturating_sub(self.grid_width.load(Relaxed).max(1) * page),
            (View::Grid, Action::Top) => self.grid_cursor = 0,
            (View::Grid, Action::Bottom) => self.grid_cursor = usize::MAX,
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

    /// Keeps cursors inside what is shown (lists shrink as filters and watches change them).
    fn clamp(&mut self) {
        let n = self.visible_daemonsets().len();
        self.ds_cursor = self.ds_cursor.min(n.saturating_sub(1));
        if self.view == View::Grid {
            let m = self.grid_order().len();
            self.grid_cursor = self.grid_cursor.min(m.saturating_sub(1));
        }
        if self.view == View::Matrix {
            self.matrix_row = self.matrix_row.min(self.model.node_count().saturating_sub(1));
            self.matrix_col = self.matrix_col.min(self.model.daemonsets().count().saturating_sub(1));
        }
    }

    pub fn draw(&self, f: &mut Frame) {
        views::draw(f, self);
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

//! The fleet view's input: keys through the keymap (`View::Fleet`, the config's keys in
//! force), the `:` and `/` line, the mouse, and the rows as shown — filtered by `/`
//! (`ui::filter`'s terms over each cluster's model, and a context's name) and sorted
//! worst first by `s` (the worst `Health::rank()` of a row's cells) — and the help.
//! May import the rest of `fleet`, `keymap`, `filter`, `views`, `theme`, `model`.

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers, MouseButton, MouseEvent, MouseEventKind};
use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Clear, Paragraph};

use super::{EXTRAS, FleetApp};
use crate::cluster::jobs::Effect;
use crate::model::fleet::{Fleet, FleetCell, FleetRow};
use crate::ui::filter::Filter;
use crate::ui::keymap::{Action, Keymap};
use crate::ui::shared::View;
use crate::ui::theme::Theme;
use crate::ui::views::format::wrap;

/// Rows a wheel notch moves.
const WHEEL: usize = 3;

impl FleetApp {
    /// The fleet table as shown: the rows the filter keeps, in the order in force.
    pub fn shown(&self) -> Fleet {
        let mut fleet = self.fleet();
        let filter = Filter::parse(&self.filter);
        if !filter.is_empty() {
            fleet.rows.retain(|r| self.row_matches(&filter, r));
        }
        if self.worst_first {
            // Worst first; rows no observed cluster runs last; then by name (stable).
            fleet.rows.sort_by_key(|r| r.worst().map_or(u8::MAX, |h| h.rank()));
        }
        fleet
    }

    /// Some cluster runs the row's DaemonSet and every term matches there (its name, its
    /// cells, its nodes), or names that cluster's context.
    fn row_matches(&self, filter: &Filter, r: &FleetRow) -> bool {
        r.cells.iter().enumerate().any(|(i, c)| {
            let app = &self.apps[i];
            let model = app.model();
            matches!(c, FleetCell::Present(_))
                && model.daemonset(&r.namespace, &r.name).is_some_and(|d| filter.ds_matches_in(app.context(), model, d))
        })
    }

    pub(super) fn fleet_key(&mut self, k: KeyEvent) -> Vec<(usize, Effect)> {
        self.message = None;
        if k.code == KeyCode::Char('c') && k.modifiers.contains(KeyModifiers::CONTROL) {
            self.quit = true;
            return Vec::new();
        }
        if self.help {
            let closes = matches!(k.code, KeyCode::Esc | KeyCode::Char('?' | 'q'))
                || matches!(self.keymap.action_for(View::Fleet, &k, self.readonly), Some(Action::Help | Action::Back | Action::Quit));
            if closes {
                self.help = false;
            }
            return Vec::new();
        }
        if let Some(text) = &mut self.prompt {
            match k.code {
                KeyCode::Esc => self.prompt = None,
                KeyCode::Backspace => {
                    text.pop();
                }
                KeyCode::Char(c) => text.push(c),
                KeyCode::Enter => {
                    let line = self.prompt.take().unwrap_or_default();
                    return self.command(line.trim());
                }
                _ => {}
            }
            return Vec::new();
        }
        if let Some(text) = &mut self.filter_input {
            // The filter applies as it is typed; Enter keeps it, Esc clears it.
            match k.code {
                KeyCode::Esc => {
                    self.filter_input = None;
                    self.filter.clear();
                }
                KeyCode::Backspace => {
                    text.pop();
                }
                KeyCode::Char(c) => text.push(c),
                KeyCode::Enter => {
                    self.filter_input = None;
                    let problems = Filter::parse(&self.filter).problems;
                    if !problems.is_empty() {
                        self.message = Some(format!("not understood (matches nothing): {}", problems.join(", ")));
                    }
                }
                _ => {}
            }
            if let Some(text) = &self.filter_input {
                self.filter = text.clone();
            }
            self.view.row = 0;
            return Vec::new();
        }
        let rows = self.shown().rows.len();
        let cols = self.apps.len();
        let v = &mut self.view;
        let Some(action) = self.keymap.action_for(View::Fleet, &k, self.readonly) else {
            return Vec::new();
        };
        match action {
            Action::Quit => self.quit = true,
            Action::Help => self.help = true,
            Action::Command => self.prompt = Some(String::new()),
            Action::Filter => self.filter_input = Some(self.filter.clone()),
            Action::Back => self.filter.clear(),
            Action::Sort => {
                self.worst_first = !self.worst_first;
                self.view.row = 0;
                self.message = Some(if self.worst_first { "sorted: worst first" } else { "sorted: by name" }.into());
            }
            Action::Up => v.row = v.row.saturating_sub(1),
            Action::Down => v.row = (v.row + 1).min(rows.saturating_sub(1)),
            Action::PageUp => v.row = v.row.saturating_sub(v.rows_fit.max(1)),
            Action::PageDown => v.row = (v.row + v.rows_fit.max(1)).min(rows.saturating_sub(1)),
            Action::Top => v.row = 0,
            Action::Bottom => v.row = rows.saturating_sub(1),
            Action::Left | Action::PrevCluster => v.col = v.col.saturating_sub(1),
            Action::Right | Action::NextCluster => v.col = (v.col + 1).min(cols.saturating_sub(1)),
            Action::Open => {
                let col = v.col;
                return self.focus_on(col);
            }
            _ => {}
        }
        Vec::new()
    }

    /// A click selects the row and the cluster under it; the wheel moves the cursor.
    pub(super) fn fleet_mouse(&mut self, m: MouseEvent) {
        if self.help || self.prompt.is_some() || self.filter_input.is_some() {
            return;
        }
        let rows = self.shown().rows.len();
        let v = &mut self.view;
        match m.kind {
            MouseEventKind::ScrollDown => v.row = (v.row + WHEEL).min(rows.saturating_sub(1)),
            MouseEventKind::ScrollUp => v.row = v.row.saturating_sub(WHEEL),
            MouseEventKind::Down(MouseButton::Left) => {
                if let Some((row, col)) = v.cell_at(m.column, m.row) {
                    v.row = row.min(rows.saturating_sub(1));
                    if let Some(c) = col {
                        v.col = c;
                    }
                }
            }
            _ => {}
        }
    }

    /// `:ctx NAME` focuses a cluster of the fleet; `:q` quits.
    fn command(&mut self, line: &str) -> Vec<(usize, Effect)> {
        let mut words = line.split_whitespace();
        match (words.next(), words.next()) {
            (Some("q" | "quit"), None) => self.quit = true,
            (Some("ctx" | "context"), Some(name)) => match self.apps.iter().position(|a| a.context() == name) {
                Some(j) => return self.focus_on(j),
                None => self.message = Some(format!("context {name} is not in this fleet")),
            },
            (Some("ctx" | "context"), None) => {
                let names: Vec<&str> = self.apps.iter().map(|a| a.context()).collect();
                self.message = Some(format!("contexts of this fleet: {}", names.join(", ")));
            }
            _ => self.message = Some(format!("unknown command {line:?} here (fleet view: :ctx NAME, :q)")),
        }
        Vec::new()
    }
}

/// The fleet view's help: its keys from the keymap (the config's keys shown), then what
/// the keymap does not say ([`EXTRAS`]), in a popup over the table, wrapped under their
/// text column (nothing cut at 80×24).
pub(super) fn help(f: &mut Frame, area: Rect, t: &Theme, keymap: &Keymap, readonly: bool, config: Option<&str>) {
    let keys = |a: Action| -> String {
        keymap.bindings_for(View::Fleet, readonly).filter(|b| b.action == a).flat_map(|b| b.keys.clone()).collect::<Vec<_>>().join(" ")
    };
    // Moves in pairs, one line each; then every other key of the view, from the keymap.
    let pairs = [
        (Action::Up, Action::Down, "previous / next DaemonSet"),
        (Action::Left, Action::Right, "previous / next cluster"),
        (Action::PrevCluster, Action::NextCluster, "previous / next cluster"),
        (Action::PageUp, Action::PageDown, "page up / down"),
        (Action::Top, Action::Bottom, "first / last DaemonSet"),
    ];
    let mut entries: Vec<(String, String)> = pairs.iter().map(|(a, b, h)| (format!("{} {}", keys(*a), keys(*b)), h.to_string())).collect();
    for b in keymap.bindings_for(View::Fleet, readonly).filter(|b| !pairs.iter().any(|(x, y, _)| b.action == *x || b.action == *y)) {
        let help = match b.action {
            Action::Command => "command: :ctx NAME, :q".to_string(),
            Action::Back => "clear the filter (in a cluster, at its first view: back to the fleet)".to_string(),
            Action::Help => "this help (Esc, ? or q closes it)".to_string(),
            Action::Filter => "filter: name, context, state:…, ns:… (Enter keeps, Esc clears)".to_string(),
            _ => b.help.to_string(),
        };
        entries.push((b.keys.join(" "), help));
    }
    entries.extend(EXTRAS.iter().map(|(k, h)| (k.to_string(), h.to_string())));
    let key_w = entries.iter().map(|(k, _)| k.chars().count()).max().unwrap_or(0) + 2;
    let w = 90.min(area.width.saturating_sub(4));
    let text_w = (w.saturating_sub(2) as usize).saturating_sub(key_w).max(10);
    let mut title = vec![Span::styled("keys — fleet view", t.header())];
    if let Some(path) = config {
        title.push(Span::styled(format!("   config: {path}"), t.dim()));
    }
    let mut lines = vec![Line::from(title), Line::from("")];
    for (k, words) in &entries {
        for (i, part) in wrap(words, text_w).into_iter().enumerate() {
            let key = if i == 0 { format!("{k:<key_w$}") } else { " ".repeat(key_w) };
            lines.push(Line::from(vec![Span::styled(key, t.header()), Span::raw(part)]));
        }
    }
    let h = (lines.len() as u16 + 2).min(area.height.saturating_sub(2));
    let r = Rect { x: area.x + (area.width - w) / 2, y: area.y + (area.height - h) / 2, width: w, height: h };
    f.render_widget(Clear, r);
    f.render_widget(Paragraph::new(lines).block(Block::bordered().title(" help (Esc closes) ")), r);
}

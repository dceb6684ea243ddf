//! The list to choose from for `:ctx` and `:ns`, and what `R` does to an OnDelete
//! DaemonSet (roll, or maintenance roll): owns its items and cursor. May import `shared`
//! and `k8s::words`; no other view.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Clear, Paragraph};

use crate::ui::shared::Shared;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PickerKind {
    Context,
    Namespace,
    /// `R` on an OnDelete DaemonSet: item 0 the roll, item 1 the maintenance roll.
    Restart,
}

impl Picker {
    /// What `R` offers for an OnDelete DaemonSet rolled `batch` nodes at a time, the roll first.
    pub fn restart(batch: usize) -> Picker {
        let nodes = crate::k8s::words::count(batch as u64, "node");
        let items = vec![
            format!("roll — replace the outdated pods, {nodes} at a time"),
            format!("maintenance roll — cordon and drain first, {nodes} at a time"),
        ];
        Picker { kind: PickerKind::Restart, items, cursor: 0 }
    }
}

#[derive(Debug, Clone)]
pub struct Picker {
    pub kind: PickerKind,
    pub items: Vec<String>,
    pub cursor: usize,
}

impl Picker {
    pub fn down(&mut self) {
        self.cursor = (self.cursor + 1).min(self.items.len().saturating_sub(1));
    }

    pub fn up(&mut self) {
        self.cursor = self.cursor.saturating_sub(1);
    }

    pub fn current(&self) -> Option<&String> {
        self.items.get(self.cursor)
    }

    pub fn render(&mut self, f: &mut Frame, area: Rect, s: &Shared) {
        let t = &s.theme;
        // The roll choices are longer than context and namespace names.
        let w = if self.kind == PickerKind::Restart { 72 } else { 60 }.min(area.width.saturating_sub(4));
        let h = (self.items.len() as u16 + 2).min(area.height.saturating_sub(4)).max(3);
        let r = Rect { x: area.x + (area.width - w) / 2, y: area.y + (area.height - h) / 2, width: w, height: h };
        let current = match self.kind {
            PickerKind::Context => Some(s.context.as_str()),
            PickerKind::Namespace => Some(s.scope.namespace.as_deref().unwrap_or("all")),
            PickerKind::Restart => None,
        };
        let visible = h.saturating_sub(2) as usize;
        let off = self.cursor.saturating_sub(visible.saturating_sub(1));
        let lines: Vec<Line> = self
            .items
            .iter()
            .enumerate()
            .skip(off)
            .take(visible)
            .map(|(i, item)| {
                let mark = if Some(item.as_str()) == current { "* " } else { "  " };
                let style = if i == self.cursor { t.cursor() } else { Style::default() };
                Line::from(Span::styled(format!("{mark}{item}"), style))
            })
            .collect();
        let title = match self.kind {
            PickerKind::Context => " context (Enter switches, Esc cancels) ",
            PickerKind::Namespace => " namespace (Enter switches, Esc cancels) ",
            PickerKind::Restart => " restart (Enter chooses, Esc cancels) ",
        };
        f.render_widget(Clear, r);
        f.render_widget(Paragraph::new(lines).block(Block::bordered().title(title)), r);
    }
}

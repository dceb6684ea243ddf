//! The confirmation popup of an action: exactly which objects change and how, and
//! whether it is a server dry-run. Owns the plan waiting for `y` or `n`/Esc. May import
//! `shared` and `cluster::actions`; no other view.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Clear, Paragraph, Wrap};

use crate::cluster::actions::Plan;
use crate::ui::shared::Shared;

#[derive(Debug, Clone)]
pub struct Confirm {
    pub plan: Plan,
}

impl Confirm {
    pub fn render(&mut self, f: &mut Frame, area: Rect, s: &Shared) {
        let t = &s.theme;
        let plan = &self.plan;
        let w = 100.min(area.width.saturating_sub(4));
        let h = (plan.lines.len() as u16 + 5).min(area.height.saturating_sub(2));
        let r = Rect { x: area.x + (area.width - w) / 2, y: area.y + (area.height - h) / 2, width: w, height: h };
        let mut lines: Vec<Line> = plan.lines.iter().map(|l| Line::from(l.clone())).collect();
        lines.push(Line::from(""));
        let dry = if s.dry_run { " — server dry-run, nothing will change" } else { "" };
        lines.push(Line::from(vec![
            Span::styled("y", t.header()),
            Span::raw(" confirm   "),
            Span::styled("n / Esc", t.header()),
            Span::raw(format!(" cancel{dry}")),
        ]));
        // Among several clusters, the one it changes is named (the fleet).
        let on = if s.name_context { format!(" in context {}", s.context) } else { String::new() };
        f.render_widget(Clear, r);
        f.render_widget(
            Paragraph::new(lines)
                .wrap(Wrap { trim: false })
                .block(ratatui::widgets::Block::bordered().title(format!(" {}{on}? ", plan.title))),
            r,
        );
    }
}

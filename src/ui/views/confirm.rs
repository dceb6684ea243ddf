//! The confirmation popup of an action: exactly which objects change and how, and
//! whether it is a server dry-run. Owns the plan waiting for `y` or `n`/Esc and how far
//! its list is scrolled. The plan's lines wrap; a list longer than the popup scrolls
//! (j/k, PgUp/PgDn) and its last visible line says how many more follow; the
//! `y confirm / n cancel` line is drawn apart, so it is never wrapped or scrolled away.
//! May import `shared`, `format` and `model::plan`; no other view.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Clear, Paragraph};

use super::format::wrap;
use crate::model::plan::Plan;
use crate::ui::shared::Shared;

#[derive(Debug, Clone)]
pub struct Confirm {
    pub plan: Plan,
    /// The first line of the plan shown.
    pub scroll: usize,
    /// Plan lines a page showed at the last draw.
    pub page: usize,
}

impl Confirm {
    pub fn new(plan: Plan) -> Confirm {
        Confirm { plan, scroll: 0, page: 10 }
    }

    pub fn render(&mut self, f: &mut Frame, area: Rect, s: &Shared) {
        let t = &s.theme;
        let plan = &self.plan;
        let w = 100.min(area.width.saturating_sub(4));
        let inner_w = w.saturating_sub(2) as usize;
        // Each row with the plan line it comes from ("…and N more" counts lines, not rows).
        let body: Vec<(usize, String)> =
            plan.lines.iter().enumerate().flat_map(|(i, l)| wrap(l, inner_w).into_iter().map(move |r| (i, r))).collect();
        let answer = if s.dry_run && plan.intent.is_roll() {
            // A roll cannot be a server dry-run (it waits on real pods): a preview, said so
            // before the key, never a confirmation that then refuses.
            wrap("dry-run: a plan-only preview — nothing is sent. y / n / Esc close it (:dry-run off to roll)", inner_w)
        } else {
            let dry = if s.dry_run { " — server dry-run, nothing will change" } else { "" };
            wrap(&format!("y confirm   n / Esc cancel{dry}"), inner_w)
        };
        // Borders, a blank line and the answer line(s) are always there; the plan gets the rest.
        let fixed = 3 + answer.len() as u16;
        let h = (body.len() as u16 + fixed).min(area.height.saturating_sub(2)).max(fixed + 1);
        let r = Rect { x: area.x + (area.width - w) / 2, y: area.y + (area.height.saturating_sub(h)) / 2, width: w, height: h };
        let room = h.saturating_sub(fixed) as usize;
        self.page = room.max(1);
        let long = body.len() > room;
        // When the list is longer than the room, its last visible line says what is left.
        let shown_n = if long { room.saturating_sub(1).max(1) } else { room };
        self.scroll = self.scroll.min(body.len().saturating_sub(shown_n));
        let mut lines: Vec<Line> = body.iter().skip(self.scroll).take(shown_n).map(|l| Line::from(l.1.clone())).collect();
        let end = (self.scroll + shown_n).min(body.len());
        let last_shown = end.checked_sub(1).map(|i| body[i].0);
        let mut after: Vec<usize> = body[end..].iter().map(|r| r.0).filter(|i| Some(*i) != last_shown).collect();
        after.dedup();
        let after = after.len();
        if long && room > 1 {
            let more = if end < body.len() && after > 0 {
                format!("…and {after} more (j/k, PgUp/PgDn scroll)")
            } else {
                format!("(end of the list; {} above — k, PgUp scroll back)", self.scroll)
            };
            lines.push(Line::from(Span::styled(more, t.dim())));
        }
        lines.push(Line::from(""));
        for (i, a) in answer.iter().enumerate() {
            if i == 0 && a.starts_with("y confirm") {
                let rest = a.trim_start_matches("y confirm").trim_start().trim_start_matches("n / Esc");
                lines.push(Line::from(vec![
                    Span::styled("y", t.header()),
                    Span::raw(" confirm   "),
                    Span::styled("n / Esc", t.header()),
                    Span::raw(rest.to_string()),
                ]));
            } else {
                lines.push(Line::from(a.clone()));
            }
        }
        // Among several clusters, the one it changes is named (the fleet).
        let on = if s.name_context { format!(" in context {}", s.context) } else { String::new() };
        f.render_widget(Clear, r);
        let title =
            if s.dry_run && plan.intent.is_roll() { format!(" {}{on} — preview ", plan.title) } else { format!(" {}{on}? ", plan.title) };
        f.render_widget(Paragraph::new(lines).block(Block::bordered().title(title)), r);
    }
}

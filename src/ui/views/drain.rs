//! The drain under way, below the node views (grid, matrix, nodes, a node's detail): each
//! node's state and the blocker table — which pod a PodDisruptionBudget holds, the budget
//! and the disruptions it allows, how long it has been blocked — and, for a node that is
//! down, that its pods will not terminate on their own.
//! May import `shared`, `cluster` types and `model`; no other view.

use std::time::Instant;

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Paragraph};

use crate::cluster::drain_job::{DrainStatus, NodeState, budgets};
use crate::ui::shared::Shared;

/// The drain to show: one under way.
pub fn shown(s: &Shared) -> Option<&DrainStatus> {
    s.drain.as_ref().filter(|d| d.is_active())
}

/// The body split: the view above, the drain below (a third of the height at most).
pub fn split(body: Rect, d: &DrainStatus) -> (Rect, Rect) {
    let want = 2 + d.nodes.len() as u16 + d.blockers.len() as u16;
    let h = want.min(body.height / 3).max(3.min(body.height));
    let top = Rect { height: body.height - h, ..body };
    (top, Rect { y: body.y + top.height, height: h, ..body })
}

pub fn render(f: &mut Frame, area: Rect, s: &Shared, d: &DrainStatus) {
    let t = &s.theme;
    let now = Instant::now();
    let mut lines: Vec<Line> = Vec::new();
    for (node, st) in &d.nodes {
        let (what, style) = match st {
            NodeState::Waiting => ("waiting".to_string(), t.dim()),
            NodeState::Evicting { gone, of } => (format!("cordoned; evicting: {gone} of {of} pod(s) gone"), t.warn()),
            NodeState::Drained => ("drained (stays cordoned)".to_string(), ratatui::style::Style::default()),
            NodeState::Refused(why) => (format!("refused: {why}"), t.alert()),
            NodeState::Failed(why) => (format!("failed: {why}"), t.alert()),
            NodeState::Aborted => ("aborted".to_string(), t.dim()),
        };
        let mut spans = vec![Span::raw(format!("{node}  ")), Span::styled(what, style)];
        let model = &s.live.model;
        if matches!(st, NodeState::Evicting { .. }) && model.node_id(node).and_then(|id| model.node(id)).is_some_and(|n| n.is_down()) {
            spans.push(Span::styled("  — the node is down: its pods will not terminate on their own", t.alert()));
        }
        lines.push(Line::from(spans));
        for b in d.blockers.iter().filter(|b| b.node == *node) {
            lines.push(Line::from(vec![
                Span::raw(format!("  {} ", b.pod)),
                Span::styled(format!("blocked {}s by {}", b.blocked_for(now).as_secs(), budgets(&b.budgets)), t.warn()),
                Span::styled(format!(" — {}", b.message), t.dim()),
            ]));
        }
    }
    let dry = if d.dry_run { " (server dry run)" } else { "" };
    let title = format!(" drain{dry} — retried while a budget blocks; :drain abort stops it ");
    f.render_widget(Paragraph::new(lines).block(Block::bordered().title(title)), area);
}

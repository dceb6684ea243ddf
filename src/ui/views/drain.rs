//! The drain under way, below the node views (grid, matrix, nodes, a node's detail): each
//! node's state and the blocker table — which pod a PodDisruptionBudget holds, the budget
//! and the disruptions it allows, how long it has been blocked — and, for a node that is
//! down, that its pods will not terminate on their own; paused, it says so and since when.
//! The same blocker table shows a maintenance roll held by a budget ([`render_roll`]).
//! May import `shared`, `cluster` types and `model`; no other view.

use std::time::Instant;

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Paragraph};

use super::format::human_duration;
use crate::cluster::drain_job::{Blocker, DrainStatus, NodeState, budgets};
use crate::cluster::roll::RollStatus;
use crate::ui::shared::Shared;

/// The drain to show: one under way.
pub fn shown(s: &Shared) -> Option<&DrainStatus> {
    s.drain.as_ref().filter(|d| d.is_active())
}

/// The maintenance roll to show: one under way that a budget holds.
pub fn roll_shown(s: &Shared) -> Option<&RollStatus> {
    s.roll.as_ref().filter(|r| r.is_active() && !r.blockers.is_empty())
}

/// The body split: the view above, the drain below (a third of the height at most).
pub fn split(body: Rect, d: &DrainStatus) -> (Rect, Rect) {
    split_rows(body, d.nodes.len() + d.blockers.len())
}

/// The body split for a panel of `rows` rows.
pub fn split_rows(body: Rect, rows: usize) -> (Rect, Rect) {
    let want = 2 + rows as u16;
    let h = want.min(body.height / 3).max(3.min(body.height));
    let top = Rect { height: body.height - h, ..body };
    (top, Rect { y: body.y + top.height, height: h, ..body })
}

/// The blocker table's rows for `node`: each pod a budget holds, the budget and the
/// disruptions it allows, how long it has been blocked, and the server's words.
fn blocker_rows<'a>(s: &Shared, blockers: &'a [Blocker], node: &'a str, now: Instant) -> impl Iterator<Item = Line<'a>> {
    let t = s.theme;
    blockers.iter().filter(move |b| b.node == node).map(move |b| {
        Line::from(vec![
            Span::raw(format!("  {} ", b.pod)),
            Span::styled(format!("blocked {}s by {}", b.blocked_for(now).as_secs(), budgets(&b.budgets)), t.warn()),
            Span::styled(format!(" — {}", b.message), t.dim()),
        ])
    })
}

/// For a node that is down: its pods will not terminate on their own.
fn down_note<'a>(s: &Shared, node: &str) -> Option<Span<'a>> {
    let model = &s.live.model;
    model
        .node_id(node)
        .and_then(|id| model.node(id))
        .is_some_and(|n| n.is_down())
        .then(|| Span::styled("  — the node is down: its pods will not terminate on their own", s.theme.alert()))
}

pub fn render(f: &mut Frame, area: Rect, s: &Shared, d: &DrainStatus) {
    let t = &s.theme;
    let now = Instant::now();
    let mut lines: Vec<Line> = Vec::new();
    let going = if d.disable_eviction { "deleting (budgets bypassed)" } else { "evicting" };
    for (node, st) in &d.nodes {
        let (what, style) = match st {
            NodeState::Waiting => ("waiting".to_string(), t.dim()),
            NodeState::Evicting { gone, of } if d.paused.is_some() => {
                (format!("cordoned; {going}, PAUSED: {gone} of {of} pod(s) gone"), t.alert())
            }
            NodeState::Evicting { gone, of } => (format!("cordoned; {going}: {gone} of {of} pod(s) gone"), t.warn()),
            NodeState::Drained => ("drained (stays cordoned)".to_string(), ratatui::style::Style::default()),
            NodeState::Refused(why) => (format!("refused: {why}"), t.alert()),
            NodeState::Failed(why) => (format!("failed: {why}"), t.alert()),
            NodeState::Aborted => ("aborted".to_string(), t.dim()),
        };
        let mut spans = vec![Span::raw(format!("{node}  ")), Span::styled(what, style)];
        if matches!(st, NodeState::Evicting { .. }) {
            spans.extend(down_note(s, node));
        }
        lines.push(Line::from(spans));
        lines.extend(blocker_rows(s, &d.blockers, node, now));
    }
    let dry = if d.dry_run { " (server dry run)" } else { "" };
    let (title, style) = match d.paused {
        Some(since) => (
            format!(
                " drain{dry} PAUSED for {} — no eviction sent{}; P resumes, :drain abort stops it ",
                human_duration(now.saturating_duration_since(since).as_secs() as i64),
                match d.held.len() {
                    0 => String::new(),
                    n => format!(" ({} held)", crate::k8s::words::count(n as u64, "pod")),
                }
            ),
            t.alert(),
        ),
        None if d.disable_eviction => {
            (format!(" drain{dry} — deleting pods, budgets bypassed; P pauses, :drain abort stops it "), t.alert())
        }
        None => {
            (format!(" drain{dry} — retried while a budget blocks; P pauses, :drain abort stops it "), ratatui::style::Style::default())
        }
    };
    let block = Block::bordered().title(Span::styled(title, style));
    f.render_widget(Paragraph::new(lines).block(block), area);
}

/// How many rows the roll's panel wants.
pub fn roll_rows(r: &RollStatus) -> usize {
    let mut nodes: Vec<&str> = r.blockers.iter().map(|b| b.node.as_str()).collect();
    nodes.dedup();
    nodes.len() + r.blockers.len()
}

/// A maintenance roll held by a budget: the node whose drain is blocked, and its blocker
/// table — the same rows as the drain's.
pub fn render_roll(f: &mut Frame, area: Rect, s: &Shared, r: &RollStatus) {
    let t = &s.theme;
    let now = Instant::now();
    let mut nodes: Vec<&str> = r.blockers.iter().map(|b| b.node.as_str()).collect();
    nodes.dedup();
    let mut lines: Vec<Line> = Vec::new();
    for node in nodes {
        let mut spans = vec![Span::raw(format!("{node}  ")), Span::styled("cordoned, draining", t.warn())];
        spans.extend(down_note(s, node));
        lines.push(Line::from(spans));
        lines.extend(blocker_rows(s, &r.blockers, node, now));
    }
    let title = format!(" roll of {} HELD — no further node starts until the budget allows; :roll abort stops it ", r.ds);
    f.render_widget(Paragraph::new(lines).block(Block::bordered().title(Span::styled(title, t.alert()))), area);
}

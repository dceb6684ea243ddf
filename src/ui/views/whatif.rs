//! The what-if view of `:preflight FILE`: what the file's DaemonSets would do on each node
//! if they were applied now — nothing is applied. The verdicts are `model::preflight`'s,
//! the same as `daemonscope preflight` prints, read by a job (`cluster::jobs`, the file
//! and the cluster); this view only draws them: per DaemonSet its counts, the rollout a
//! change triggers, the images to pull, a grid of one cell per node (as the coverage grid
//! draws a DaemonSet's nodes), and the nodes that would not fit or would preempt, with
//! why. Owns its scroll offset and the rows a page held.
//!
//! May import `shared`, `model`, `k8s`; no other view.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::{Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Paragraph};

use crate::k8s::text::visible;
use crate::model::coverage::CellState;
use crate::model::preflight::Report;
use crate::model::preflight::verdict::Outcome;
use crate::ui::shared::Shared;

#[derive(Default)]
pub struct WhatIfView {
    /// The request the answer must carry (a stale answer is dropped).
    pub seq: u64,
    /// The file, as typed.
    pub file: String,
    /// None while the job reads the file and the cluster.
    pub reports: Option<Result<Vec<Report>, String>>,
    /// The first line shown.
    pub scroll: usize,
    /// Lines a page held at the last draw.
    pub page: usize,
}

/// The cell glyph and the state whose colour it takes.
fn cell(o: &Outcome) -> (char, CellState) {
    match o {
        Outcome::WouldRun => (CellState::Ready.glyph(), CellState::Ready),
        Outcome::WouldPreempt(_) => ('▲', CellState::Starting),
        Outcome::WouldNotFit(_) => (CellState::Failing.glyph(), CellState::Failing),
        Outcome::NotEligible(_) => (CellState::Ineligible.glyph(), CellState::Ineligible),
        Outcome::Unverified(_) => ('?', CellState::Outdated),
    }
}

fn report_lines(sh: &Shared, r: &Report, width: usize, out: &mut Vec<Line<'static>>) {
    let t = &sh.theme;
    let v = &r.verdicts;
    let n = |f: fn(&Outcome) -> bool| v.iter().filter(|x| f(&x.outcome)).count();
    let ineligible = n(|o| matches!(o, Outcome::NotEligible(_)));
    let (run, preempt, short) =
        (n(|o| matches!(o, Outcome::WouldRun)), n(|o| matches!(o, Outcome::WouldPreempt(_))), n(|o| matches!(o, Outcome::WouldNotFit(_))));
    let unverified = n(|o| matches!(o, Outcome::Unverified(_)));
    let targeted = v.len() - ineligible;
    let what = if r.change { "change of" } else { "new" };
    out.push(Line::from(Span::styled(format!("{what} DaemonSet {}", visible(&r.daemonset)), t.header())));
    let unsure = if unverified > 0 { format!("; {unverified} unverified (would run as far as preflight sees)") } else { String::new() };
    out.push(Line::from(format!(
        "  {} of {targeted} targeted nodes would run it, {preempt} of them after preempting pods{unsure}; {short} would not fit; {ineligible} not eligible",
        run + preempt
    )));
    if r.change {
        out.push(Line::from(format!("  change ({} update): {} newly targeted, {} no longer", r.strategy, r.gaining, r.losing.len())));
    }
    if let Some(ro) = &r.rollout {
        out.push(Line::from(format!("  {}", ro.text(&r.ds))));
    }
    out.push(Line::from(format!(
        "  images: already on {} of {targeted} targeted nodes; {} would pull",
        targeted.saturating_sub(r.pull_nodes),
        r.pull_nodes
    )));
    // The grid: one cell per node, in name order, as many per line as fit.
    let mut order: Vec<usize> = (0..v.len()).collect();
    order.sort_by(|a, b| v[*a].node.cmp(&v[*b].node));
    let per_line = width.saturating_sub(2).max(1);
    for chunk in order.chunks(per_line) {
        let mut spans = vec![Span::raw("  ")];
        spans.extend(chunk.iter().map(|i| {
            let (g, s) = cell(&v[*i].outcome);
            Span::styled(g.to_string(), t.state(s))
        }));
        out.push(Line::from(spans));
    }
    // Then each node that would not fit or would preempt, with why; and those a change drops.
    let listed: Vec<usize> = order
        .iter()
        .copied()
        .filter(|i| matches!(v[*i].outcome, Outcome::WouldNotFit(_) | Outcome::WouldPreempt(_) | Outcome::Unverified(_)))
        .collect();
    let w =
        listed.iter().map(|i| visible(&v[*i].node).chars().count()).chain(r.losing.iter().map(|n| n.chars().count())).max().unwrap_or(4);
    for i in listed {
        let (g, s) = cell(&v[i].outcome);
        let why = match &v[i].outcome {
            Outcome::WouldNotFit(w) => w.join(", "),
            Outcome::WouldPreempt(w) => format!("preempts {}", w.join(", ")),
            Outcome::Unverified(w) => format!("would run as far as seen; not checked: {}", w.join(", ")),
            _ => String::new(),
        };
        out.push(Line::from(vec![
            Span::styled(format!("  {g} {:13} ", v[i].outcome.as_str()), t.state(s)),
            Span::raw(format!("{:w$}  {}", visible(&v[i].node), visible(&why))),
        ]));
    }
    for node in &r.losing {
        out.push(Line::from(Span::styled(
            format!("  - {:13} {:w$}  runs it now; the change no longer targets it", "loses it", visible(node)),
            t.warn(),
        )));
    }
    out.push(Line::from(""));
}

impl WhatIfView {
    pub fn render(&mut self, f: &mut Frame, area: Rect, sh: &Shared) {
        let t = &sh.theme;
        let width = area.width.saturating_sub(2) as usize;
        let mut lines: Vec<Line<'static>> = Vec::new();
        match &self.reports {
            None => lines.push(Line::from(format!("reading {} and the cluster…", visible(&self.file)))),
            Some(Err(e)) => lines.push(Line::from(Span::styled(format!("cannot evaluate: {}", visible(e)), t.warn()))),
            Some(Ok(reports)) => {
                let legend = [
                    (CellState::Ready.glyph(), CellState::Ready, "would run"),
                    ('▲', CellState::Starting, "would preempt"),
                    (CellState::Failing.glyph(), CellState::Failing, "would not fit"),
                    (CellState::Ineligible.glyph(), CellState::Ineligible, "not eligible"),
                ];
                let mut spans = Vec::new();
                for (g, s, word) in legend {
                    spans.push(Span::styled(format!("{g} "), t.state(s)));
                    spans.push(Span::styled(format!("{word}   "), t.dim()));
                }
                lines.push(Line::from(spans));
                for r in reports {
                    report_lines(sh, r, width, &mut lines);
                }
            }
        }
        let page = area.height.saturating_sub(2) as usize;
        self.page = page.max(1);
        self.scroll = self.scroll.min(lines.len().saturating_sub(page));
        let title = Line::from(vec![
            Span::styled(" WHAT IF — nothing applied ", t.warn().add_modifier(Modifier::BOLD | Modifier::REVERSED)),
            Span::styled(format!(" :preflight {} · Esc leaves ", visible(&self.file)), Style::default()),
        ]);
        let block = Block::bordered().title(title).border_style(t.warn());
        f.render_widget(Paragraph::new(lines).block(block).scroll((self.scroll.min(u16::MAX as usize) as u16, 0)), area);
    }
}

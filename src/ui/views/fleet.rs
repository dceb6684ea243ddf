//! The fleet view: one row per DaemonSet (namespace/name), one column per cluster, each
//! cell the coverage there (up to date + old serving / desired) in the worst state's glyph and
//! colour; a cluster that is syncing, unreachable or refused says so in its column; rows
//! whose clusters run different images or templates are marked as version skew. Under
//! the table, the row under the cursor cluster by cluster (images, template, why a
//! cluster cannot say). Owns the cursor (row × cluster) and the scroll; draws a
//! [`Fleet`] the caller derived, writes nothing else.
//! May import `theme`, `model`; no other view.

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Paragraph};

use crate::model::fleet::{Fleet, FleetCell, FleetRow, Reach, Skew};
use crate::ui::theme::Theme;

/// Width of a cluster's column (context names longer than this are cut).
const COL: usize = 16;
/// Widest the name column gets.
const NAME_MAX: usize = 44;

#[derive(Debug, Default)]
pub struct FleetView {
    /// The row (DaemonSet) under the cursor.
    pub row: usize,
    /// The cluster (column) under the cursor.
    pub col: usize,
    /// First row and first cluster shown.
    row_offset: usize,
    col_offset: usize,
    /// Rows that fit at the last draw.
    pub rows_fit: usize,
    /// Where the last draw put the rows and the clusters (for mouse clicks).
    hit: Option<Hit>,
}

/// The table's layout at the last draw.
#[derive(Debug, Clone)]
struct Hit {
    /// The first row's line, the first shown row, and how many rows are shown.
    top: u16,
    first_row: usize,
    rows: usize,
    left: u16,
    /// Where the cluster columns start, and the clusters shown there.
    cols_x: u16,
    cols: Vec<usize>,
}

/// The first `n` characters of `s`, padded to `n`.
fn cell(s: &str, n: usize) -> String {
    let mut out: String = s.chars().take(n).collect();
    let len = out.chars().count();
    out.extend(std::iter::repeat_n(' ', n - len));
    out
}

impl FleetView {
    /// Keeps the cursor on a row and a cluster that exist.
    pub fn clamp(&mut self, fleet: &Fleet) {
        self.row = self.row.min(fleet.rows.len().saturating_sub(1));
        self.col = self.col.min(fleet.columns.len().saturating_sub(1));
    }

    /// The (row, cluster) a click at (x, y) lands on: the row, and the cluster when the
    /// click is on a cluster's column (None: on the name or the skew).
    pub fn cell_at(&self, x: u16, y: u16) -> Option<(usize, Option<usize>)> {
        let h = self.hit.as_ref()?;
        if y < h.top || x < h.left || (y - h.top) as usize >= h.rows {
            return None;
        }
        let row = h.first_row + (y - h.top) as usize;
        let col = x.checked_sub(h.cols_x).and_then(|dx| h.cols.get(dx as usize / (COL + 1)).copied());
        Some((row, col))
    }

    pub fn render(&mut self, f: &mut Frame, area: Rect, fleet: &Fleet, t: &Theme) {
        self.clamp(fleet);
        let detail_h = (fleet.columns.len() as u16 + 2).min(area.height / 2);
        let [table, detail] = Layout::vertical([Constraint::Min(4), Constraint::Length(detail_h)]).areas(area);
        self.render_table(f, table, fleet, t);
        self.render_detail(f, detail, fleet, t);
    }

    fn render_table(&mut self, f: &mut Frame, area: Rect, fleet: &Fleet, t: &Theme) {
        let skewed = fleet.skewed();
        let title = format!(
            " fleet: {} DaemonSets × {} clusters{} ",
            fleet.rows.len(),
            fleet.columns.len(),
            if skewed > 0 { format!(" · ≠ {skewed} with version skew") } else { String::new() }
        );
        let block = Block::bordered().title(title);
        let inner = block.inner(area);
        f.render_widget(block, area);
        let width = inner.width as usize;
        let name_w = fleet.rows.iter().map(|r| r.namespace.len() + 1 + r.name.len()).max().unwrap_or(9).clamp(9, NAME_MAX);
        // The SKEW column (7) and the name take what they need; clusters share the rest.
        let name_w = name_w.min(width.saturating_sub(7 + COL + 1).max(12));
        let fit = (width.saturating_sub(name_w + 1 + 7) / (COL + 1)).max(1);
        if self.col < self.col_offset {
            self.col_offset = self.col;
        } else if self.col >= self.col_offset + fit {
            self.col_offset = self.col + 1 - fit;
        }
        let shown: Vec<usize> = (self.col_offset..fleet.columns.len()).take(fit).collect();
        let mut lines = Vec::new();
        // Two header lines: the contexts, then how far each is observed.
        let mut h1 = vec![Span::styled(cell("DAEMONSET", name_w + 1), t.header())];
        let mut h2 = vec![Span::raw(cell(if self.col_offset > 0 { "◀ more clusters" } else { "" }, name_w + 1))];
        for &c in &shown {
            let col = &fleet.columns[c];
            let style = if c == self.col { t.header().patch(t.cursor()) } else { t.header() };
            h1.push(Span::styled(cell(&col.context, COL), style));
            h1.push(Span::raw(" "));
            let (word, style) = match &col.reach {
                Reach::Live => (crate::k8s::words::count(col.nodes as u64, "node"), t.dim()),
                Reach::Stale(_) => (format!("⚠ stale {}n", col.nodes), t.warn()),
                Reach::Syncing => ("… syncing".into(), t.dim()),
                Reach::Unreachable(_) => ("⚠ unreachable".into(), t.alert()),
                Reach::Forbidden(_) => ("⚠ forbidden".into(), t.alert()),
            };
            h2.push(Span::styled(cell(&word, COL), style));
            h2.push(Span::raw(" "));
        }
        h1.push(Span::styled(if shown.last().is_some_and(|l| l + 1 < fleet.columns.len()) { "SKEW ▶" } else { "SKEW" }, t.header()));
        lines.push(Line::from(h1));
        lines.push(Line::from(h2));
        let rows_fit = (inner.height as usize).saturating_sub(2).max(1);
        self.rows_fit = rows_fit;
        if self.row < self.row_offset {
            self.row_offset = self.row;
        } else if self.row >= self.row_offset + rows_fit {
            self.row_offset = self.row + 1 - rows_fit;
        }
        if fleet.rows.is_empty() {
            let why = if fleet.columns.iter().any(|c| c.reach.shows_data()) { "no DaemonSet in scope" } else { "no cluster observed yet" };
            lines.push(Line::styled(why, t.dim()));
        }
        self.hit = Some(Hit {
            top: inner.y + 2,
            first_row: self.row_offset,
            rows: fleet.rows.len().saturating_sub(self.row_offset).min(rows_fit),
            left: inner.x,
            cols_x: inner.x + name_w as u16 + 1,
            cols: shown.clone(),
        });
        for (i, row) in fleet.rows.iter().enumerate().skip(self.row_offset).take(rows_fit) {
            let mut spans = vec![Span::styled(
                cell(&format!("{}/{}", row.namespace, row.name), name_w + 1),
                if i == self.row { t.header() } else { Style::default() },
            )];
            for &c in &shown {
                let (text, mut style) = cell_text(row, c, &fleet.columns[c].reach, t);
                if i == self.row && c == self.col {
                    style = style.patch(t.cursor());
                }
                spans.push(Span::styled(cell(&text, COL), style));
                spans.push(Span::raw(" "));
            }
            if row.skew != Skew::None {
                spans.push(Span::styled(row.skew.word(), t.warn()));
            }
            lines.push(Line::from(spans));
        }
        f.render_widget(Paragraph::new(lines), inner);
    }

    /// The row under the cursor, cluster by cluster.
    fn render_detail(&self, f: &mut Frame, area: Rect, fleet: &Fleet, t: &Theme) {
        let Some(row) = fleet.rows.get(self.row) else {
            f.render_widget(Block::bordered().title(" clusters "), area);
            return;
        };
        let mut lines = Vec::new();
        let ctx_w = fleet.columns.iter().map(|c| c.context.chars().count()).max().unwrap_or(0).min(30);
        for (c, col) in fleet.columns.iter().enumerate() {
            let marker = if c == self.col { "▶ " } else { "  " };
            let mut spans = vec![Span::raw(marker), Span::styled(cell(&col.context, ctx_w + 1), t.header())];
            match &row.cells[c] {
                FleetCell::Present(p) => {
                    // Images first: where clusters differ, that is the part that must show.
                    spans.push(Span::styled(format!("{:<14}", p.health.label()), t.state(p.health.state())));
                    spans.push(Span::raw(format!("{:>9}  ", p.counts())));
                    spans.push(Span::raw(p.images.join(", ")));
                    if !p.running.is_empty() && p.running != [p.images.join(", ")] {
                        spans.push(Span::styled(format!(" · runs {}", p.running.join(" + ")), t.warn()));
                    }
                    if let Some(h) = &p.template {
                        spans.push(Span::styled(format!(" · template {h}"), t.dim()));
                    }
                }
                FleetCell::Absent => spans.push(Span::styled("not in this cluster", t.state(crate::model::coverage::CellState::Missing))),
                FleetCell::OutOfScope => spans.push(Span::styled("its namespace is not watched there (:ns)", t.dim())),
                FleetCell::Unknown => {
                    spans.push(Span::styled(col.reach.word(), t.alert()));
                    if let Some(r) = col.reach.reason() {
                        spans.push(Span::raw(format!(": {r}")));
                    }
                }
            }
            if let (FleetCell::Present(_), Some(r)) = (&row.cells[c], col.reach.reason()) {
                spans.push(Span::styled(format!(" · ⚠ stale: {r}"), t.warn()));
            }
            lines.push(Line::from(spans));
        }
        let title = format!(
            " {}/{} across the fleet (up to date+old serving / desired){} ",
            row.namespace,
            row.name,
            match row.skew {
                Skew::None => "",
                Skew::Running => " — ≠ version skew: running images differ",
                Skew::Template => " — template changed, not rolled out: the same images run",
            }
        );
        f.render_widget(Paragraph::new(lines).block(Block::bordered().title(title)), area);
    }
}

/// A cell's words and style: coverage in the worst state's glyph and colour, or why the
/// cluster cannot say.
fn cell_text(row: &FleetRow, c: usize, reach: &Reach, t: &Theme) -> (String, Style) {
    match &row.cells[c] {
        FleetCell::Present(p) => {
            let state = p.health.state();
            let glyph = if p.health == crate::model::coverage::Health::Updating { '▲' } else { state.glyph() };
            (format!("{glyph} {}", p.counts()), t.state(state))
        }
        FleetCell::Absent => ("— absent".into(), t.dim()),
        FleetCell::OutOfScope => ("· other ns".into(), t.dim()),
        FleetCell::Unknown => (format!("? {}", reach.word()), t.dim()),
    }
}

//! Node × DaemonSet: rows are nodes (broken daemons first, then down nodes, then
//! outdated daemons), columns DaemonSets. Per node it counts broken daemons ("bad") and
//! outdated ones ("old") apart; per DaemonSet, the same two in the footer.
//! Owns its row/column cursor and the rows that fit. May import `shared`, `format`,
//! `model`; no other view.

use crate::k8s::words::count;
use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Paragraph, Wrap};

use std::sync::Arc;

use super::format::{Memo, NodeDaemons, broken};
use crate::model::coverage::CellState;
use crate::model::{DsInfo, NodeId};
use crate::ui::filter::Filter;
use crate::ui::shared::Shared;

#[derive(Debug, Clone)]
pub struct MatrixView {
    /// Row (node, in matrix order) and column (DaemonSet) of the cursor.
    pub row: usize,
    pub col: usize,
    /// Rows that fit at the last draw.
    pub page: usize,
    /// Where rows and cells were drawn (mouse clicks).
    pub hit: Option<MatrixHit>,
    /// The rows for (filter, model generation); the longest name and the names' common
    /// prefix for (filter, the nodes' generation): kept until the key changes.
    rows_memo: Memo<(String, u64), Vec<(NodeId, NodeDaemons)>>,
    names_memo: Memo<(String, u64), (u16, usize, usize)>,
}

/// The matrix as last drawn: its rows' area, the first row and column shown, where the
/// cells start and how wide each is.
#[derive(Debug, Clone, Copy)]
pub struct MatrixHit {
    pub rows: Rect,
    pub row_off: usize,
    pub cells_x: u16,
    pub col_w: u16,
    pub col_off: usize,
    pub cols: usize,
}

impl Default for MatrixView {
    fn default() -> Self {
        MatrixView { row: 0, col: 0, page: 10, hit: None, rows_memo: Memo::default(), names_memo: Memo::default() }
    }
}

impl MatrixView {
    /// Matrix rows: nodes with the most broken daemons first, then down nodes, then
    /// those with outdated daemons, then by name — the order the model keeps, filtered;
    /// scanned again only when the filter or the model changed.
    pub fn rows(&self, s: &Shared) -> Arc<Vec<(NodeId, NodeDaemons)>> {
        self.rows_memo.get((s.filter.clone(), s.live.model.generation()), || {
            let f = Filter::parse(&s.filter);
            let dss: Vec<&DsInfo> = s.live.model.daemonsets().collect();
            s.live
                .model
                .nodes_by_problems()
                .filter(|(id, n)| f.is_empty() || f.node_matches(&s.live.model, *id, n, &dss))
                .map(|(id, _)| (id, s.live.model.node_daemons(id)))
                .collect()
        })
    }

    /// The longest node name among the rows (at least 4), and what every row's name starts and ends with.
    fn names(&self, s: &Shared, rows: &[(NodeId, NodeDaemons)]) -> Arc<(u16, usize, usize)> {
        let f = Filter::parse(&s.filter);
        let generation = if f.is_empty() { s.live.model.node_generation() } else { s.live.model.generation() };
        self.names_memo.get((s.filter.clone(), generation), || {
            let names = || rows.iter().filter_map(|(id, _)| s.live.model.node(*id)).map(|n| n.name.as_str());
            (
                names().map(|n| n.chars().count()).max().unwrap_or(4) as u16,
                super::format::common_prefix(names()),
                super::format::common_suffix(names()),
            )
        })
    }

    pub fn cursor_node(&self, s: &Shared) -> Option<NodeId> {
        self.rows(s).get(self.row).map(|r| r.0)
    }

    /// The DaemonSet of the cursor's column.
    pub fn cursor_ds<'a>(&self, s: &'a Shared) -> Option<&'a DsInfo> {
        s.live.model.daemonsets().nth(self.col)
    }

    pub fn clamp(&mut self, s: &Shared) {
        self.row = self.row.min(s.live.model.node_count().saturating_sub(1));
        self.col = self.col.min(s.live.model.daemonsets().count().saturating_sub(1));
    }

    pub fn render(&mut self, f: &mut Frame, area: Rect, s: &Shared) {
        let t = &s.theme;
        let dss: Vec<&DsInfo> = s.live.model.daemonsets().collect();
        let rows = self.rows(s);
        // The side panel gives way (down to 24 columns) so that every DaemonSet's column fits.
        let names = self.names(s, &rows);
        let longest = names.0;
        let need = longest + 1 + 8 + 3 * dss.len() as u16 + 3;
        let side_w = 56.min(area.width / 2).min(area.width.saturating_sub(need).max(24.min(area.width / 3)));
        let [main, side] = Layout::horizontal([Constraint::Min(40), Constraint::Length(side_w)]).areas(area);
        let block = Block::bordered().title(format!(
            " node × DaemonSet ({}, {}; broken first) ",
            count(rows.len() as u64, "node"),
            count(dss.len() as u64, "DaemonSet")
        ));
        let inner = block.inner(main);
        f.render_widget(block, main);
        // The longest node name, shortened in the middle when the terminal is narrow.
        let name_w: u16 = (longest + 1).max(5).min(inner.width.saturating_sub(8 + 3 * 4).max(9));
        // "bad old" after the name.
        let counts_w: u16 = 8;
        let col_w: u16 = 3;
        let visible_cols = ((inner.width.saturating_sub(name_w + counts_w)) / col_w) as usize;
        let col_off = self.col.saturating_sub(visible_cols.saturating_sub(1));
        // The header and two footer lines.
        let body_h = inner.height.saturating_sub(3) as usize;
        self.page = body_h.max(1);
        let row_off = self.row.saturating_sub(body_h.saturating_sub(1));
        // What the names share is what a shortened name may leave out.
        let (prefix, suffix) = if name_w <= longest { (names.1, names.2) } else { (0, 0) };
        self.hit = Some(MatrixHit {
            rows: Rect { x: inner.x, y: inner.y + 1, width: inner.width, height: body_h as u16 },
            row_off,
            cells_x: inner.x + name_w + counts_w,
            col_w,
            col_off,
            cols: visible_cols.min(dss.len().saturating_sub(col_off)),
        });
        let buf = f.buffer_mut();
        // Header: column numbers (the side panel names them).
        let left = (name_w + counts_w) as usize;
        buf.set_stringn(inner.x, inner.y, format!("{:<w$} bad old", "NODE", w = name_w as usize), left, t.header());
        for (j, _) in dss.iter().enumerate().skip(col_off).take(visible_cols) {
            let x = inner.x + name_w + counts_w + ((j - col_off) as u16) * col_w;
            let style = if j == self.col { t.header().patch(t.cursor()) } else { t.header() };
            buf.set_string(x, inner.y, format!("{:>2}", j + 1), style);
        }
        for (r, (id, nd)) in rows.iter().enumerate().skip(row_off).take(body_h) {
            let y = inner.y + 1 + (r - row_off) as u16;
            let name = s.live.model.node(*id).map(|n| n.name.clone()).unwrap_or_default();
            let style = if r == self.row { t.cursor() } else { Style::default() };
            let count = |n: u32| if n == 0 { "-".to_string() } else { n.to_string() };
            // A marked node has a ✓ in the column after the longest name.
            let mark = if s.marks.contains(&name) { '✓' } else { ' ' };
            let name = super::format::shorten_between(&name, name_w as usize - 1, prefix, suffix);
            let line = format!("{name:<w$}{mark} {:>3} {:>3}", count(nd.broken), count(nd.outdated), w = name_w as usize - 1);
            buf.set_stringn(inner.x, y, line, left, style);
            for (j, d) in dss.iter().enumerate().skip(col_off).take(visible_cols) {
                let st = s.live.model.coverage(d).and_then(|c| c.cells.get(*id as usize)).copied().unwrap_or(CellState::Absent);
                let mut style = t.state(st);
                if r == self.row && j == self.col {
                    style = style.patch(t.cursor());
                }
                buf.set_string(inner.x + name_w + counts_w + ((j - col_off) as u16) * col_w + 1, y, st.glyph().to_string(), style);
            }
        }
        // Footer: broken, then outdated, nodes per DaemonSet column.
        let outdated = |d: &DsInfo| s.live.model.coverage(d).map_or(0, |c| c.count(CellState::Outdated));
        let footer: [(&str, Vec<u32>); 2] = [
            ("broken per DaemonSet", dss.iter().map(|d| broken(&s.live.model, d)).collect()),
            ("outdated per DaemonSet", dss.iter().map(|d| outdated(d)).collect()),
        ];
        for (k, (label, count)) in footer.iter().enumerate() {
            let y = inner.y + inner.height.saturating_sub(2 - k as u16);
            if inner.height < 3 {
                break;
            }
            buf.set_stringn(inner.x, y, format!("{label:<left$}"), left, t.dim());
            for (j, &n) in count.iter().enumerate().skip(col_off).take(visible_cols) {
                let x = inner.x + name_w + counts_w + ((j - col_off) as u16) * col_w;
                buf.set_string(x, y, format!("{:>2}", n.min(99)), if n > 0 && k == 0 { t.warn() } else { t.dim() });
            }
        }
        // Side: the cell under the cursor, explained, then the column legend.
        let mut lines: Vec<Line> = Vec::new();
        if let (Some((id, _)), Some(d)) = (rows.get(self.row), dss.get(self.col))
            && let (Some(n), Some(c)) = (s.live.model.node(*id), s.live.model.explain(d, *id))
        {
            lines.push(Line::from(Span::styled(format!("{} × {}/{}", n.name, d.namespace, d.name), t.header())));
            lines.push(Line::from(Span::styled(format!("{} {}", c.state.glyph(), c.state), t.state(c.state))));
            lines.push(Line::from(format!("why: {}", c.reason)));
            lines.push(Line::from(""));
        }
        for (j, d) in dss.iter().enumerate() {
            let style = if j == self.col { t.header() } else { Style::default() };
            // One line each, shortened in the middle when the panel is narrow.
            let name = super::format::middle(&format!("{}/{}", d.namespace, d.name), side.width.saturating_sub(5) as usize);
            lines.push(Line::from(Span::styled(format!("{:>2} {name}", j + 1), style)));
        }
        f.render_widget(Paragraph::new(lines).wrap(Wrap { trim: false }).block(Block::bordered().title(" cell under cursor ")), side);
    }
}

//! Node × DaemonSet: rows are nodes (most problems first), columns DaemonSets. A node
//! lacking several daemons is a broken node; a column of problems is a broken rollout.
//! Owns its row/column cursor and the rows that fit. May import `shared`, `format`,
//! `model`; no other view.

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Paragraph, Wrap};

use super::format::{node_daemons, problems};
use crate::model::coverage::CellState;
use crate::model::{DsInfo, NodeId};
use crate::ui::shared::Shared;

#[derive(Debug, Clone)]
pub struct MatrixView {
    /// Row (node, in matrix order) and column (DaemonSet) of the cursor.
    pub row: usize,
    pub col: usize,
    /// Rows that fit at the last draw.
    pub page: usize,
}

impl Default for MatrixView {
    fn default() -> Self {
        MatrixView { row: 0, col: 0, page: 10 }
    }
}

impl MatrixView {
    /// Matrix rows: nodes with the most DaemonSets not fine first, then by name.
    pub fn rows(&self, s: &Shared) -> Vec<(NodeId, u32)> {
        let f = s.filter.to_lowercase();
        let mut rows: Vec<(NodeId, u32, &str)> = s
            .model
            .nodes()
            .filter(|(_, n)| f.is_empty() || n.name.to_lowercase().contains(&f))
            .map(|(id, n)| (id, node_daemons(&s.model, id).0, n.name.as_str()))
            .collect();
        rows.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.2.cmp(b.2)));
        rows.into_iter().map(|(id, bad, _)| (id, bad)).collect()
    }

    pub fn cursor_node(&self, s: &Shared) -> Option<NodeId> {
        self.rows(s).get(self.row).map(|r| r.0)
    }

    /// The DaemonSet of the cursor's column.
    pub fn cursor_ds<'a>(&self, s: &'a Shared) -> Option<&'a DsInfo> {
        s.model.daemonsets().nth(self.col)
    }

    pub fn clamp(&mut self, s: &Shared) {
        self.row = self.row.min(s.model.node_count().saturating_sub(1));
        self.col = self.col.min(s.model.daemonsets().count().saturating_sub(1));
    }

    pub fn render(&mut self, f: &mut Frame, area: Rect, s: &Shared) {
        let t = &s.theme;
        let dss: Vec<&DsInfo> = s.model.daemonsets().collect();
        let rows = self.rows(s);
        let [main, side] = Layout::horizontal([Constraint::Min(40), Constraint::Length(56.min(area.width / 2))]).areas(area);
        let block =
            Block::bordered().title(format!(" node × DaemonSet ({} nodes, {} DaemonSets; most problems first) ", rows.len(), dss.len()));
        let inner = block.inner(main);
        f.render_widget(block, main);
        let name_w: u16 = 24;
        let col_w: u16 = 3;
        let visible_cols = ((inner.width.saturating_sub(name_w + 4)) / col_w) as usize;
        let col_off = self.col.saturating_sub(visible_cols.saturating_sub(1));
        let body_h = inner.height.saturating_sub(2) as usize;
        self.page = body_h.max(1);
        let row_off = self.row.saturating_sub(body_h.saturating_sub(1));
        let buf = f.buffer_mut();
        // Header: column numbers (the side panel names them).
        buf.set_stringn(inner.x, inner.y, format!("{:<w$} bad", "NODE", w = name_w as usize), (name_w + 4) as usize, t.header());
        for (j, _) in dss.iter().enumerate().skip(col_off).take(visible_cols) {
            let x = inner.x + name_w + 4 + ((j - col_off) as u16) * col_w;
            let style = if j == self.col { t.header().patch(t.cursor()) } else { t.header() };
            buf.set_string(x, inner.y, format!("{:>2}", j + 1), style);
        }
        for (r, (id, bad)) in rows.iter().enumerate().skip(row_off).take(body_h) {
            let y = inner.y + 1 + (r - row_off) as u16;
            let name = s.model.node(*id).map(|n| n.name.clone()).unwrap_or_default();
            let style = if r == self.row { t.cursor() } else { Style::default() };
            buf.set_stringn(inner.x, y, format!("{name:<w$} {bad:>3}", w = name_w as usize), (name_w + 4) as usize, style);
            for (j, d) in dss.iter().enumerate().skip(col_off).take(visible_cols) {
                let st = s.model.coverage(d).and_then(|c| c.cells.get(*id as usize)).copied().unwrap_or(CellState::Absent);
                let mut style = t.state(st);
                if r == self.row && j == self.col {
                    style = style.patch(t.cursor());
                }
                buf.set_string(inner.x + name_w + 4 + ((j - col_off) as u16) * col_w + 1, y, st.glyph().to_string(), style);
            }
        }
        // Footer: problems per DaemonSet column.
        let y = inner.y + inner.height.saturating_sub(1);
        buf.set_stringn(inner.x, y, format!("{:<w$}", "not fine per DaemonSet", w = (name_w + 4) as usize), (name_w + 4) as usize, t.dim());
        for (j, d) in dss.iter().enumerate().skip(col_off).take(visible_cols) {
            let n = problems(&s.model, d);
            buf.set_string(
                inner.x + name_w + 4 + ((j - col_off) as u16) * col_w,
                y,
                format!("{:>2}", n.min(99)),
                if n > 0 { t.warn() } else { t.dim() },
            );
        }
        // Side: the cell under the cursor, explained, then the column legend.
        let mut lines: Vec<Line> = Vec::new();
        if let (Some((id, _)), Some(d)) = (rows.get(self.row), dss.get(self.col))
            && let (Some(n), Some(c)) = (s.model.node(*id), s.model.explain(d, *id))
        {
            lines.push(Line::from(Span::styled(format!("{} × {}/{}", n.name, d.namespace, d.name), t.header())));
            lines.push(Line::from(Span::styled(format!("{} {}", c.state.glyph(), c.state), t.state(c.state))));
            lines.push(Line::from(format!("why: {}", c.reason)));
            lines.push(Line::from(""));
        }
        for (j, d) in dss.iter().enumerate() {
            let style = if j == self.col { t.header() } else { Style::default() };
            lines.push(Line::from(Span::styled(format!("{:>2} {}/{}", j + 1, d.namespace, d.name), style)));
        }
        f.render_widget(Paragraph::new(lines).wrap(Wrap { trim: false }).block(Block::bordered().title(" cell under cursor ")), side);
    }
}

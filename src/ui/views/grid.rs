//! The coverage grid of the selected DaemonSet (one cell per node, grouped by a label)
//! with the node under the cursor explained at the side. Owns its cursor, the grouping,
//! and the layout it drew (cells per row, rows that fit) that ←/→/↑/↓ and PgUp/PgDn use.
//! May import `shared`, `format`, `model`, `k8s`; no other view.

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::Modifier;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Paragraph, Wrap};

use std::sync::Arc;

use super::format::{Memo, age, ready_word};
use crate::k8s::topology;
use crate::model::coverage::CellState;
use crate::model::{DsInfo, NodeId};
use crate::ui::filter::Filter;
use crate::ui::shared::{Shared, View};

/// Label keys the grid can group by, in the order `z` cycles through them. Zone, pool and
/// instance type are read through [`topology`]'s lists (a GKE node's pool is its
/// `cloud.google.com/gke-nodepool`, an old node's zone its `failure-domain.beta…` label).
pub const GROUP_KEYS: &[&str] = &["topology.kubernetes.io/zone", "pool", "node.kubernetes.io/instance-type", "kubernetes.io/arch"];

/// Each group's name and its nodes, in grid order.
pub type Groups = Vec<(String, Vec<NodeId>)>;

#[derive(Debug, Clone)]
pub struct GridView {
    /// Index into the grid order (`order`).
    pub cursor: usize,
    /// Index into the grouping labels (`group_key`), or None for no grouping.
    pub group_by: Option<usize>,
    /// A label from the config to group by, first in the cycle before GROUP_KEYS.
    pub extra_key: Option<String>,
    /// Cells per row at the last draw.
    pub width: usize,
    /// Cell rows that fit at the last draw.
    pub page: usize,
    /// Each cell drawn: its column, row and grid-order index (mouse clicks), and the cell width.
    pub hit: Vec<(u16, u16, usize)>,
    pub cell_w: u16,
    /// The groups for (grouping label, filter, model generation): kept until one changes.
    groups_memo: Memo<(Option<String>, String, u64), Groups>,
}

impl Default for GridView {
    fn default() -> Self {
        GridView {
            cursor: 0,
            group_by: Some(0),
            extra_key: None,
            width: 1,
            page: 10,
            hit: Vec::new(),
            cell_w: 1,
            groups_memo: Memo::default(),
        }
    }
}

impl GridView {
    /// Grid order: nodes grouped by the chosen label (groups sorted), then by name.
    /// Grouped again only when the grouping, the filter or the model changed (without a
    /// filter, only when a node did).
    pub fn groups(&self, s: &Shared) -> Arc<Groups> {
        let key = self.group_by.map(|i| self.group_key(i));
        let filter = if s.view == View::Grid { s.filter.as_str() } else { "" };
        let f = Filter::parse(filter);
        let ds: Vec<&DsInfo> = s.selected_ds().into_iter().collect();
        // A filter reads the selected DaemonSet's cells, so it also depends on which one that is.
        let (filter_key, generation) = match &s.selected {
            Some((ns, name)) if !f.is_empty() => (format!("{ns}/{name} {filter}"), s.live.model.generation()),
            _ if !f.is_empty() => (format!(" {filter}"), s.live.model.generation()),
            _ => (String::new(), s.live.model.node_generation()),
        };
        self.groups_memo.get((key.map(str::to_string), filter_key, generation), || {
            let mut groups: std::collections::BTreeMap<String, Vec<NodeId>> = Default::default();
            for (id, n) in s.live.model.nodes() {
                if !f.is_empty() && !f.node_matches(&s.live.model, id, n, &ds) {
                    continue;
                }
                let g = match key {
                    Some(k) => topology::value(&n.facts.labels, k).map(|v| format!("{k}={v}")).unwrap_or_else(|| format!("{k} unset")),
                    None => "all nodes".to_string(),
                };
                groups.entry(g).or_default().push(id);
            }
            groups.into_iter().collect()
        })
    }

    pub fn order(&self, s: &Shared) -> Vec<NodeId> {
        self.groups(s).iter().flat_map(|(_, v)| v.iter().copied()).collect()
    }

    pub fn cursor_node(&self, s: &Shared) -> Option<NodeId> {
        self.groups(s).iter().flat_map(|(_, v)| v.iter().copied()).nth(self.cursor)
    }

    /// The `i`th label `z` cycles through: the config's, if any, then GROUP_KEYS.
    pub fn group_key(&self, i: usize) -> &str {
        match &self.extra_key {
            Some(k) if i == 0 => k,
            Some(_) => GROUP_KEYS[i - 1],
            None => GROUP_KEYS[i],
        }
    }

    /// Groups by `label` (None: no grouping); a label `z` does not cycle through joins the cycle.
    pub fn set_grouping(&mut self, label: Option<&str>) {
        self.extra_key = label.filter(|l| !GROUP_KEYS.contains(l)).map(str::to_string);
        self.group_by = label.map(|l| GROUP_KEYS.iter().position(|k| *k == l).unwrap_or(0));
        self.cursor = 0;
    }

    /// The next grouping `z` cycles to (the last one is no grouping).
    pub fn next_group(&mut self) {
        let count = GROUP_KEYS.len() + self.extra_key.is_some() as usize;
        self.group_by = match self.group_by {
            None => Some(0),
            Some(i) if i + 1 < count => Some(i + 1),
            Some(_) => None,
        };
        self.cursor = 0;
    }

    pub fn clamp(&mut self, s: &Shared) {
        self.cursor = self.cursor.min(self.order(s).len().saturating_sub(1));
    }

    /// The cell rows as drawn: each group starts a new row of at most `width` cells;
    /// each row as the range of grid-order indices it holds.
    pub fn cell_rows(&self, s: &Shared) -> Vec<std::ops::Range<usize>> {
        let w = self.width.max(1);
        let mut rows = Vec::new();
        let mut start = 0;
        for (_, ids) in self.groups(s).iter() {
            for chunk in ids.chunks(w) {
                rows.push(start..start + chunk.len());
                start += chunk.len();
            }
        }
        rows
    }

    /// Moves the cursor `by` rows down (up when negative) as drawn, keeping its column
    /// where the row is long enough: a short last row of a group, or a small group, is
    /// a row like any other, so ↓/↑ visit every group.
    pub fn move_rows(&mut self, s: &Shared, by: isize) {
        let rows = self.cell_rows(s);
        let Some(r) = rows.iter().position(|r| r.contains(&self.cursor)) else {
            self.cursor = 0;
            return;
        };
        let col = self.cursor - rows[r].start;
        let to = r.saturating_add_signed(by).min(rows.len() - 1);
        let row = &rows[to];
        self.cursor = row.start + col.min(row.len() - 1);
    }

    pub fn render(&mut self, f: &mut Frame, area: Rect, s: &Shared) {
        let t = &s.theme;
        let Some(ds) = s.selected_ds() else {
            f.render_widget(Paragraph::new("the DaemonSet is gone; Esc to go back").block(Block::bordered()), area);
            return;
        };
        let [main, side] = Layout::horizontal([Constraint::Min(30), Constraint::Length(64.min(area.width / 2))]).areas(area);
        let block = Block::bordered().title(format!(" {}/{} — coverage by node ({}) ", ds.namespace, ds.name, ds.strategy.name()));
        let inner = block.inner(main);
        f.render_widget(block, main);
        // The legend wraps: as many lines as it takes at this width (at most 4).
        let legend_h = (legend(s, ds).width() as u16).div_ceil(inner.width.max(1)).clamp(2, 4);
        let [legend_area, cells_area] = Layout::vertical([Constraint::Length(legend_h), Constraint::Min(1)]).areas(inner);
        f.render_widget(Paragraph::new(legend(s, ds)).wrap(Wrap { trim: true }), legend_area);

        let groups = self.groups(s);
        let total: usize = groups.iter().map(|(_, v)| v.len()).sum();
        // Dense cells (1 column) for big clusters, spaced (2 columns) when they fit.
        let spaced = total * 2 <= (cells_area.width as usize) * (cells_area.height as usize).saturating_sub(groups.len() * 2);
        let cw: u16 = if spaced { 2 } else { 1 };
        let per_row = ((cells_area.width / cw) as usize).max(1);
        self.width = per_row;
        self.page = (cells_area.height as usize).max(1);
        let cov = s.live.model.coverage(ds);
        // Lay out lines: a summary line per group, then its cell rows (each the grid-order
        // index of its first cell and its nodes; only the lines on screen are drawn).
        struct LineItem<'a> {
            summary: Option<String>,
            cells: (usize, &'a [NodeId]),
        }
        let mut lines: Vec<LineItem> = Vec::new();
        let mut idx = 0usize;
        let mut cursor_line = 0usize;
        for (g, ids) in groups.iter() {
            let mut counts = [0u32; CellState::COUNT];
            for id in ids {
                let st = cov.and_then(|c| c.cells.get(*id as usize)).copied().unwrap_or(CellState::Absent);
                counts[st as usize] += 1;
            }
            let summary: Vec<String> = CellState::ALL
                .iter()
                .filter(|st| counts[**st as usize] > 0)
                .map(|st| format!("{}{}", st.glyph(), counts[*st as usize]))
                .collect();
            let nodes = if ids.len() == 1 { "1 node".to_string() } else { format!("{} nodes", ids.len()) };
            let cordoned = ids.iter().filter(|id| s.live.model.node(**id).is_some_and(|n| n.unschedulable)).count();
            let cordoned = if cordoned > 0 { format!("  ⊘{cordoned} cordoned") } else { String::new() };
            let mut line = format!("{g}  ({nodes})  {}{cordoned}", summary.join(" "));
            // Narrow: the label's key without its domain, so the counts stay in view.
            if line.chars().count() > cells_area.width as usize
                && let Some((key, rest)) = g.split_once('=')
            {
                let short = key.rsplit('/').next().unwrap_or(key);
                line = format!("{short}={rest} ({nodes}) {}{cordoned}", summary.join(" "));
            }
            lines.push(LineItem { summary: Some(line), cells: (idx, &[]) });
            for chunk in ids.chunks(per_row) {
                if (idx..idx + chunk.len()).contains(&self.cursor) {
                    cursor_line = lines.len();
                }
                lines.push(LineItem { summary: None, cells: (idx, chunk) });
                idx += chunk.len();
            }
        }
        let h = cells_area.height as usize;
        let offset = cursor_line.saturating_sub(h.saturating_sub(1).max(1) / 2).min(lines.len().saturating_sub(h));
        self.hit.clear();
        self.cell_w = cw;
        let buf = f.buffer_mut();
        for (row, item) in lines.iter().skip(offset).take(h).enumerate() {
            let y = cells_area.y + row as u16;
            if let Some(sm) = &item.summary {
                buf.set_stringn(cells_area.x, y, sm, cells_area.width as usize, t.header());
                continue;
            }
            let (first, ids) = item.cells;
            for (col, (i, id)) in ids.iter().enumerate().map(|(j, id)| (j, (first + j, id))) {
                let st = cov.and_then(|c| c.cells.get(*id as usize)).copied().unwrap_or(CellState::Absent);
                let mut style = t.state(st);
                if let Some(n) = s.live.model.node(*id) {
                    if !s.marks.is_empty() && s.marks.contains(&n.name) {
                        style = style.patch(t.marked());
                    }
                    if n.unschedulable {
                        style = style.patch(t.cordoned());
                    }
                }
                if i == self.cursor {
                    style = style.patch(t.cursor());
                }
                let x = cells_area.x + col as u16 * cw;
                buf.set_string(x, y, st.glyph().to_string(), style);
                self.hit.push((x, y, i));
            }
        }
        self.side(f, s, ds, side);
    }

    /// The node under the cursor: its state for this DaemonSet and why, its pods, taints, labels.
    fn side(&self, f: &mut Frame, s: &Shared, ds: &DsInfo, area: Rect) {
        let t = &s.theme;
        let mut lines: Vec<Line> = Vec::new();
        let Some(id) = self.cursor_node(s) else {
            f.render_widget(Paragraph::new("no nodes").block(Block::bordered().title(" node ")), area);
            return;
        };
        let Some(node) = s.live.model.node(id) else { return };
        let cell = s.live.model.explain(ds, id);
        lines.push(Line::from(vec![Span::styled(node.name.clone(), t.header())]));
        let mut status = ready_word(node.ready).to_string();
        if s.marks.contains(&node.name) {
            status.push_str(", marked");
        }
        if node.unschedulable {
            status.push_str(", cordoned (DaemonSet pods ignore cordon)");
        }
        lines.push(Line::from(format!("node: {status}")));
        if let Some(c) = &cell {
            lines.push(Line::from(vec![Span::styled(
                format!("{} {}", c.state.glyph(), c.state),
                t.state(c.state).add_modifier(Modifier::BOLD),
            )]));
            lines.push(Line::from(format!("why: {}", c.reason)));
        }
        // The rule the coverage cell found; eligibility is not evaluated again here.
        match cell.as_ref().map(|c| (&c.rule, c.state)) {
            Some((None, _)) => lines.push(Line::from("rule: eligible (selectors match, taints tolerated)")),
            Some((Some(r), state)) if state != CellState::Ineligible => lines.push(Line::from(format!("rule: {r}"))),
            _ => {}
        }
        for p in s.live.model.pods_on(ds, id) {
            lines.push(Line::from(""));
            let rev = p.template_generation.clone().unwrap_or_else(|| "?".into());
            let del = if p.deleting.is_some() { ", terminating" } else { "" };
            lines.push(Line::from(vec![Span::styled(format!("pod {}", p.name), t.header())]));
            lines.push(Line::from(format!(
                "  {} {}, template gen {rev}, age {}{del}",
                p.phase,
                if p.ready { "ready" } else { "not ready" },
                age(p.created.get())
            )));
            for c in &p.containers {
                let state = match c.waiting.as_deref() {
                    Some((r, _)) => format!("waiting: {r}"),
                    None if c.running => "running".into(),
                    None => "-".into(),
                };
                lines.push(Line::from(format!("  {} {state}, {} restarts", c.name, c.restarts)));
                lines.push(Line::from(Span::styled(format!("    {}", c.image), t.dim())));
            }
        }
        if !node.facts.taints.is_empty() {
            lines.push(Line::from(""));
            lines.push(Line::from(Span::styled("taints", t.header())));
            for tt in &node.facts.taints {
                lines.push(Line::from(format!("  {tt}")));
            }
        }
        lines.push(Line::from(""));
        lines.push(Line::from(Span::styled("labels", t.header())));
        for (k, v) in &node.facts.labels {
            lines.push(Line::from(Span::styled(format!("  {k}={v}"), t.dim())));
        }
        f.render_widget(
            Paragraph::new(lines).wrap(Wrap { trim: false }).block(Block::bordered().title(" node under cursor ").borders(Borders::ALL)),
            area,
        );
    }
}

fn legend(s: &Shared, ds: &DsInfo) -> Line<'static> {
    let t = &s.theme;
    let c = s.live.model.coverage(ds);
    let mut spans = Vec::new();
    for st in CellState::ALL {
        let n = c.map_or(0, |c| c.count(st));
        spans.push(Span::styled(format!("{} ", st.glyph()), t.state(st)));
        spans.push(Span::raw(format!("{st} {n}   ")));
    }
    Line::from(spans)
}

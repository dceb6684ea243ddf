//! The Nodes view: readiness, cordon, taints, pool and zone, how many of the
//! DaemonSets that should run on each node are ready there, which are broken there
//! (NOT FINE) and how many are only outdated (OLD). Owns its cursor, its sort
//! order, the extra label column and the rows that fit. May import `shared`, `format`,
//! `model`; no other view.

use std::collections::BTreeSet;

use ratatui::Frame;
use ratatui::layout::{Constraint, Rect};
use ratatui::style::Style;
use ratatui::widgets::{Block, Cell, Paragraph, Row, Table};

use super::format::{NodeDaemons, age, node_daemons, ready_word};
use crate::model::NodeId;
use crate::model::coverage::CellState;
use crate::ui::shared::{Shared, SortBy};

#[derive(Debug, Clone)]
pub struct NodesView {
    pub cursor: usize,
    pub sort: SortBy,
    /// An extra label shown as a column (`z` cycles through the keys).
    pub label: Option<String>,
    /// Rows that fit at the last draw.
    pub page: usize,
}

impl Default for NodesView {
    fn default() -> Self {
        NodesView { cursor: 0, sort: SortBy::Name, label: None, page: 10 }
    }
}

impl NodesView {
    /// The rows, filtered (name or any label value) and sorted.
    pub fn rows(&self, s: &Shared) -> Vec<NodeId> {
        let f = s.filter.to_lowercase();
        let mut rows: Vec<(NodeId, NodeDaemons, &str)> = s
            .model
            .nodes()
            .filter(|(_, n)| f.is_empty() || n.name.to_lowercase().contains(&f) || n.facts.labels.values().any(|v| v.to_lowercase() == f))
            .map(|(id, n)| {
                (id, if self.sort == SortBy::Name { NodeDaemons::default() } else { node_daemons(&s.model, id) }, n.name.as_str())
            })
            .collect();
        if self.sort != SortBy::Name {
            // Broken daemons first, then down nodes, then outdated daemons.
            rows.sort_by(|a, b| a.1.rank().cmp(&b.1.rank()).then_with(|| a.2.cmp(b.2)));
        }
        rows.into_iter().map(|r| r.0).collect()
    }

    pub fn cursor_node(&self, s: &Shared) -> Option<NodeId> {
        self.rows(s).get(self.cursor).copied()
    }

    pub fn clamp(&mut self, s: &Shared) {
        self.cursor = self.cursor.min(self.rows(s).len().saturating_sub(1));
    }

    /// Shows the next label key (in name order) as a column, then none; says which.
    pub fn next_label(&mut self, s: &Shared) -> String {
        let keys: BTreeSet<&String> = s.model.nodes().flat_map(|(_, n)| n.facts.labels.keys()).collect();
        let next = match &self.label {
            None => keys.iter().next(),
            Some(cur) => keys.iter().find(|k| k.as_str() > cur.as_str()),
        };
        self.label = next.map(|k| k.to_string());
        match &self.label {
            Some(k) => format!("label column: {k}"),
            None => "no label column".into(),
        }
    }

    pub fn render(&mut self, f: &mut Frame, area: Rect, s: &Shared) {
        let t = &s.theme;
        let rows_all = self.rows(s);
        let rows_fit = area.height.saturating_sub(3) as usize;
        self.page = rows_fit.max(1);
        let offset = self.cursor.saturating_sub(rows_fit.saturating_sub(1));
        let extra = self.label.clone();
        let extra_header = extra.as_deref().map(|k| k.rsplit('/').next().unwrap_or(k).to_uppercase()).unwrap_or_default();
        let header = Row::new(vec![
            "".to_string(),
            "NAME".into(),
            "STATUS".into(),
            "POOL".into(),
            "ZONE".into(),
            extra_header,
            "TAINTS".into(),
            "DAEMONS".into(),
            "NOT FINE".into(),
            "OLD".into(),
            "AGE".into(),
            "VERSION".into(),
        ])
        .style(t.header());
        let dss: Vec<_> = s.model.daemonsets().collect();
        let rows: Vec<Row> = rows_all
            .iter()
            .enumerate()
            .skip(offset)
            .take(rows_fit)
            .filter_map(|(i, id)| {
                let n = s.model.node(*id)?;
                let mut status = ready_word(n.ready).to_string();
                if n.unschedulable {
                    status.push_str(",SchedulingDisabled");
                }
                let label = |k: &str| n.facts.labels.get(k).cloned().unwrap_or_else(|| "-".into());
                let taints = match n.facts.taints.as_slice() {
                    [] => "-".to_string(),
                    [one] => one.to_string(),
                    [first, rest @ ..] => format!("{first} +{}", rest.len()),
                };
                let nd = node_daemons(&s.model, *id);
                // The DaemonSets broken here, with their state glyph; on a down node,
                // first how many wait for it (their own state is not a daemon fault).
                let mut not_fine: Vec<String> = dss
                    .iter()
                    .filter_map(|d| {
                        let s = s.model.coverage(d)?.cells.get(*id as usize).copied()?;
                        s.is_broken().then(|| format!("{}{}", s.glyph(), d.name))
                    })
                    .collect();
                if nd.down > 0 {
                    not_fine.insert(0, format!("{} node down ({})", CellState::NodeNotReady.glyph(), nd.down));
                }
                let status_style = if n.ready != Some(true) { t.state(CellState::Failing) } else { Style::default() };
                let daemons_style = if nd.broken > 0 || nd.down > 0 { t.warn() } else { Style::default() };
                let row = Row::new(vec![
                    Cell::from(if s.marks.contains(&n.name) { "✓" } else { " " }),
                    Cell::from(n.name.clone()),
                    Cell::from(status).style(status_style),
                    Cell::from(label("pool")),
                    Cell::from(label("topology.kubernetes.io/zone")),
                    Cell::from(extra.as_deref().map(label).unwrap_or_default()),
                    Cell::from(taints),
                    Cell::from(format!("{}/{}", nd.ok, nd.expected)).style(daemons_style),
                    Cell::from(not_fine.join(" ")).style(daemons_style),
                    Cell::from(if nd.outdated == 0 { "-".to_string() } else { format!("{}{}", CellState::Outdated.glyph(), nd.outdated) })
                        .style(t.state(CellState::Outdated)),
                    Cell::from(age(n.created)),
                    Cell::from(n.kubelet_version.clone()),
                ]);
                Some(if i == self.cursor { row.style(t.cursor()) } else { row })
            })
            .collect();
        let widths = [
            Constraint::Length(1),
            Constraint::Length(22),
            Constraint::Length(27),
            Constraint::Length(13),
            Constraint::Length(12),
            Constraint::Length(if extra.is_some() { 16 } else { 0 }),
            Constraint::Length(30),
            Constraint::Length(7),
            // What is broken here must survive a narrow terminal: the other columns give way.
            Constraint::Min(16),
            Constraint::Length(3),
            Constraint::Length(5),
            Constraint::Length(8),
        ];
        let sort = match self.sort {
            SortBy::Name => "by name",
            _ => "most problems first",
        };
        let title = format!(" nodes ({}, {sort}) — DAEMONS = DaemonSets ready here / expected here · OLD = outdated here ", rows_all.len());
        f.render_widget(Table::new(rows, widths).header(header).block(Block::bordered().title(title)), area);
        if rows_all.is_empty() {
            let msg = if s.filter.is_empty() { "no nodes (yet)" } else { "no node matches the filter" };
            f.render_widget(
                Paragraph::new(msg).style(t.dim()),
                Rect { x: area.x + 2, y: area.y + 2, width: area.width.saturating_sub(4), height: 1 },
            );
        }
    }
}

//! The Nodes view: readiness, cordon, taints, pool and zone, how many of the
//! DaemonSets that should run on each node are ready there, which are broken there
//! (NOT FINE) and how many are only outdated (OLD). Owns its cursor, its sort
//! order, the extra label column and the rows that fit. May import `shared`, `format`,
//! `model`; no other view.

use std::collections::BTreeSet;
use std::sync::Arc;

use ratatui::Frame;
use ratatui::layout::{Constraint, Rect};
use ratatui::style::Style;
use ratatui::widgets::{Block, Cell, Paragraph, Row, Table};

use super::format::{Col, Memo, age, common_prefix, common_suffix, fit_columns, middle, node_daemons, ready_word, shorten_between};
use crate::k8s::topology;
use crate::model::NodeId;
use crate::model::coverage::CellState;
use crate::ui::filter::Filter;
use crate::ui::shared::{Shared, SortBy};

#[derive(Debug, Clone)]
pub struct NodesView {
    pub cursor: usize,
    pub sort: SortBy,
    /// An extra label shown as a column (`z` cycles through the keys).
    pub label: Option<String>,
    /// Rows that fit at the last draw.
    pub page: usize,
    /// Where the rows were drawn and the first row's index (mouse clicks).
    pub hit: Option<(Rect, usize)>,
    /// The rows for (filter, sort, model generation), and the column widths for
    /// (filter, label column, generation): kept until one of them changes.
    rows_memo: Memo<(String, SortBy, u64), Vec<NodeId>>,
    widths_memo: Memo<(String, Option<String>, u64), Widths>,
}

/// Column widths from every row (not only those on screen), so columns do not jump.
#[derive(Debug)]
struct Widths {
    name_full: u16,
    status: u16,
    pool: u16,
    zone: u16,
    extra: u16,
    /// What every row's name starts and ends with (a shortened name may leave it out).
    prefix: usize,
    suffix: usize,
}

impl Default for NodesView {
    fn default() -> Self {
        NodesView {
            cursor: 0,
            sort: SortBy::Name,
            label: None,
            page: 10,
            hit: None,
            rows_memo: Memo::default(),
            widths_memo: Memo::default(),
        }
    }
}

/// The model's generation a view's rows depend on: only the nodes' while no filter is
/// set and `cells` is false (no filter term reads the daemons' cells then).
fn generation(s: &Shared, f: &Filter, cells: bool) -> u64 {
    if f.is_empty() && !cells { s.live.model.node_generation() } else { s.live.model.generation() }
}

impl NodesView {
    /// The rows, filtered (name or any label value) and sorted: by name, or by problems
    /// (broken daemons first, then down nodes, then outdated daemons) in the order the
    /// model keeps. Scanned again only when the filter, the order or the model changed.
    pub fn rows(&self, s: &Shared) -> Arc<Vec<NodeId>> {
        let f = Filter::parse(&s.filter);
        let by_name = self.sort == SortBy::Name;
        self.rows_memo.get((s.filter.clone(), self.sort, generation(s, &f, !by_name)), || {
            let dss: Vec<&crate::model::DsInfo> = s.live.model.daemonsets().collect();
            let keep = |(id, n): &(NodeId, &crate::model::NodeInfo)| f.is_empty() || f.node_matches(&s.live.model, *id, n, &dss);
            match self.sort {
                SortBy::Name => s.live.model.nodes().filter(keep).map(|(id, _)| id).collect(),
                SortBy::DsReq => {
                    // Highest tax first; nodes with no allocatable last; then by name.
                    let mut v: Vec<(std::cmp::Reverse<Option<u64>>, NodeId)> =
                        s.live.model.nodes().filter(keep).map(|(id, _)| (std::cmp::Reverse(s.live.model.daemon_tax(id)), id)).collect();
                    v.sort_by_key(|(t, _)| *t);
                    v.into_iter().map(|(_, id)| id).collect()
                }
                _ => s.live.model.nodes_by_problems().filter(keep).map(|(id, _)| id).collect(),
            }
        })
    }

    fn widths(&self, s: &Shared, rows_all: &[NodeId], extra_header: &str) -> Arc<Widths> {
        let f = Filter::parse(&s.filter);
        self.widths_memo.get((s.filter.clone(), self.label.clone(), generation(s, &f, false)), || {
            let longest = |f: &dyn Fn(&crate::model::NodeInfo) -> usize, floor: usize, cap: usize| {
                rows_all.iter().filter_map(|id| s.live.model.node(*id)).map(f).max().unwrap_or(0).clamp(floor, cap) as u16
            };
            let label_len = |n: &crate::model::NodeInfo, k: &str| topology::value(&n.facts.labels, k).map_or(1, |v| v.chars().count());
            Widths {
                name_full: longest(&|n| n.name.chars().count(), 4, 63),
                status: longest(&|n| status_of(n).len(), 6, 27),
                pool: longest(&|n| label_len(n, topology::POOL), 4, 40),
                zone: longest(&|n| label_len(n, topology::ZONE_LABELS[0]), 4, 24),
                extra: match &self.label {
                    Some(k) => longest(&|n| label_len(n, k), extra_header.chars().count(), 24),
                    None => 0,
                },
                prefix: common_prefix(rows_all.iter().filter_map(|id| s.live.model.node(*id)).map(|n| n.name.as_str())),
                suffix: common_suffix(rows_all.iter().filter_map(|id| s.live.model.node(*id)).map(|n| n.name.as_str())),
            }
        })
    }

    pub fn cursor_node(&self, s: &Shared) -> Option<NodeId> {
        self.rows(s).get(self.cursor).copied()
    }

    pub fn clamp(&mut self, s: &Shared) {
        self.cursor = self.cursor.min(self.rows(s).len().saturating_sub(1));
    }

    /// Shows the next label key (in name order) as a column, then none; says which.
    pub fn next_label(&mut self, s: &Shared) -> String {
        let keys: BTreeSet<&String> = s.live.model.nodes().flat_map(|(_, n)| n.facts.labels.keys()).collect();
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
        // Widths from every node (not only the rows on screen), so columns do not jump.
        let w = self.widths(s, &rows_all, &extra_header);
        let (name_full, status_w, pool_w, zone_w, extra_w) = (w.name_full, w.status, w.pool, w.zone, w.extra);
        // (priority, width): NAME and NOT FINE never drop; the least telling go first.
        let mut cols = vec![
            Col { prio: 0, width: 1 },
            // The name fits in at least NAME_MIN columns (shortened in the middle), so the
            // status and the daemons stay; it gets back what is left over below.
            Col { prio: 0, width: name_full.min(NAME_MIN) },
            Col { prio: 1, width: status_w },
            Col { prio: 4, width: pool_w },
            Col { prio: 3, width: zone_w },
            Col { prio: 2, width: extra_w },
            // Taints are shortened in the middle to fit (see below): 22 columns keep the
            // key's start and the effect, and leave room for DS REQ at 120 columns.
            Col { prio: 5, width: 22 },
            Col { prio: 1, width: 7 },
            Col { prio: 0, width: 16 },
            Col { prio: 2, width: 3 },
            Col { prio: 3, width: 6 },
            Col { prio: 6, width: 5 },
            Col { prio: 7, width: 8 },
        ];
        if extra.is_none() {
            cols[5].prio = 9;
        }
        let inner_w = area.width.saturating_sub(2);
        let mut keep = fit_columns(&cols, inner_w);
        keep.retain(|i| *i != 5 || extra.is_some());
        // When even the identifying columns do not fit, the name is shortened in the middle.
        let others: u16 = keep.iter().filter(|i| **i != 1).map(|i| cols[*i].width + 1).sum();
        let name_w = name_full.min(inner_w.saturating_sub(others + 1).max(8));
        cols[1].width = name_w;
        // What the names share is what a shortened name may leave out.
        let (prefix, suffix) = if name_w < name_full { (w.prefix, w.suffix) } else { (0, 0) };
        let pick = |v: Vec<Cell<'static>>| -> Vec<Cell<'static>> {
            v.into_iter().enumerate().filter(|(i, _)| keep.contains(i)).map(|(_, c)| c).collect()
        };
        let header = Row::new(pick(
            [
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
                "DS REQ".into(),
                "AGE".into(),
                "VERSION".into(),
            ]
            .into_iter()
            .map(Cell::from)
            .collect(),
        ))
        .style(t.header());
        let dss: Vec<_> = s.live.model.daemonsets().collect();
        let mut taints_w = 0u16;
        let mut not_fine_w = cols[8].width as usize;
        // Cell texts first: TAINTS and NOT FINE take their widths from what is on screen.
        let texts: Vec<(bool, Vec<(String, Style)>)> = rows_all
            .iter()
            .enumerate()
            .skip(offset)
            .take(rows_fit)
            .filter_map(|(i, id)| {
                let n = s.live.model.node(*id)?;
                let status = status_of(n);
                let label = |k: &str| topology::value(&n.facts.labels, k).unwrap_or("-").to_string();
                let taints = match n.facts.taints.as_slice() {
                    [] => "-".to_string(),
                    [one] => one.to_string(),
                    [first, rest @ ..] => format!("{first} +{}", rest.len()),
                };
                taints_w = taints_w.max(taints.chars().count() as u16);
                let nd = node_daemons(&s.live.model, *id);
                // The DaemonSets broken here, with their state glyph; on a down node,
                // first how many wait for it (their own state is not a daemon fault).
                let mut not_fine: Vec<String> = dss
                    .iter()
                    .filter_map(|d| {
                        let s = s.live.model.coverage(d)?.cells.get(*id as usize).copied()?;
                        s.is_broken().then(|| format!("{}{}", s.glyph(), d.name))
                    })
                    .collect();
                if nd.down > 0 {
                    not_fine.insert(0, format!("{} node down ({})", CellState::NodeNotReady.glyph(), nd.down));
                }
                let not_fine = not_fine.join(" ");
                not_fine_w = not_fine_w.max(not_fine.chars().count());
                let status_style = if n.ready != Some(true) { t.state(CellState::Failing) } else { Style::default() };
                let daemons_style = if nd.broken > 0 || nd.down > 0 { t.warn() } else { Style::default() };
                let plain = Style::default();
                let cells: Vec<(String, Style)> = vec![
                    ((if s.marks.contains(&n.name) { "✓" } else { " " }).to_string(), plain),
                    (shorten_between(&n.name, name_w as usize, prefix, suffix), plain),
                    (status, status_style),
                    (label(topology::POOL), plain),
                    (label(topology::ZONE_LABELS[0]), plain),
                    (extra.as_deref().map(label).unwrap_or_default(), plain),
                    (taints, plain),
                    (format!("{}/{}", nd.ok, nd.expected), daemons_style),
                    (not_fine, daemons_style),
                    (
                        if nd.outdated == 0 { "-".to_string() } else { format!("{}{}", CellState::Outdated.glyph(), nd.outdated) },
                        t.state(CellState::Outdated),
                    ),
                    (s.live.model.daemon_tax(*id).map_or("-".to_string(), |p| format!("{p}%")), plain),
                    (age(n.created), plain),
                    (n.kubelet_version.clone(), plain),
                ];
                Some((i == self.cursor, cells))
            })
            .collect();
        // What is broken here must survive a narrow terminal: it takes the rest of the width.
        let used: u16 = keep.iter().filter(|i| **i != 8).map(|i| cols[*i].width + 1).sum();
        cols[8].width = (not_fine_w as u16).min(inner_w.saturating_sub(used + 1)).max(cols[8].width);
        // Room left over goes to TAINTS, up to its longest text (it was shortened in the middle to fit 30).
        let used: u16 = keep.iter().map(|i| cols[*i].width + 1).sum();
        if keep.contains(&6) {
            cols[6].width = (cols[6].width + inner_w.saturating_sub(used)).min(taints_w.max(cols[6].width));
        }
        let widths: Vec<Constraint> = keep.iter().map(|i| Constraint::Length(cols[*i].width)).collect();
        let rows: Vec<Row> = texts
            .into_iter()
            .map(|(at_cursor, cells)| {
                let cells = cells.into_iter().enumerate().map(|(i, (text, style))| {
                    let text = if i == 6 { middle(&text, cols[6].width as usize) } else { text };
                    Cell::from(text).style(style)
                });
                let row = Row::new(pick(cells.collect()));
                if at_cursor { row.style(t.cursor()) } else { row }
            })
            .collect();
        self.hit = Some((Rect { x: area.x + 1, y: area.y + 2, width: area.width.saturating_sub(2), height: rows_fit as u16 }, offset));
        let sort = match self.sort {
            SortBy::Name => "by name",
            SortBy::DsReq => "highest DS REQ first",
            _ => "most problems first",
        };
        let title = format!(
            " nodes ({}, {sort}) — DAEMONS = DaemonSets ready here / expected here · OLD = outdated here · DS REQ = daemon pods' requests / allocatable, the worse of cpu and memory ",
            rows_all.len()
        );
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

/// The width a long name is shortened to before the status and daemon columns go.
const NAME_MIN: u16 = 24;

/// A node's STATUS as kubectl prints it (Ready, NotReady, and SchedulingDisabled when cordoned).
fn status_of(n: &crate::model::NodeInfo) -> String {
    let mut status = ready_word(n.ready).to_string();
    if n.unschedulable {
        status.push_str(",SchedulingDisabled");
    }
    status
}

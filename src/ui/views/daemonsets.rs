//! The DaemonSets list: owns its cursor, its sort order and the rows that fit (recorded
//! while drawing, for PgUp/PgDn). May import `shared`, `format`, `model`; no other view.

use ratatui::Frame;
use ratatui::layout::{Constraint, Rect};
use ratatui::widgets::{Block, Cell, Paragraph, Row, Table};

use super::format::{age, coverage_bar, coverage_ratio, health, middle, nodes_down, problems, strategy};
use crate::model::DsInfo;
use crate::ui::filter::Filter;
use crate::ui::shared::{Shared, SortBy};

#[derive(Debug, Clone)]
pub struct DaemonSetsView {
    pub cursor: usize,
    pub sort: SortBy,
    /// Rows that fit at the last draw.
    pub page: usize,
    /// Where the rows were drawn and the first row's index (mouse clicks).
    pub hit: Option<(Rect, usize)>,
}

impl Default for DaemonSetsView {
    fn default() -> Self {
        DaemonSetsView { cursor: 0, sort: SortBy::Name, page: 10, hit: None }
    }
}

impl DaemonSetsView {
    /// The DaemonSets shown, filtered and sorted.
    pub fn rows<'a>(&self, s: &'a Shared) -> Vec<&'a DsInfo> {
        let f = Filter::parse(&s.filter);
        let mut v: Vec<&DsInfo> = s.live.model.daemonsets().filter(|d| f.is_empty() || f.ds_matches(&s.live.model, d)).collect();
        match self.sort {
            SortBy::Name | SortBy::DsReq => {}
            // Worst health first (failing > missing > starting > terminating > misscheduled >
            // node down > outdated > ok), then the most nodes with a problem.
            SortBy::Problems => v.sort_by_key(|d| (health(&s.live.model, d).rank(), std::cmp::Reverse(problems(&s.live.model, d)))),
            SortBy::Coverage => v.sort_by(|a, b| {
                coverage_ratio(&s.live.model, a).partial_cmp(&coverage_ratio(&s.live.model, b)).unwrap_or(std::cmp::Ordering::Equal)
            }),
        }
        v
    }

    /// The DaemonSet under the cursor.
    pub fn current<'a>(&self, s: &'a Shared) -> Option<&'a DsInfo> {
        self.rows(s).get(self.cursor).copied()
    }

    pub fn clamp(&mut self, s: &Shared) {
        self.cursor = self.cursor.min(self.rows(s).len().saturating_sub(1));
    }

    pub fn render(&mut self, f: &mut Frame, area: Rect, s: &Shared) {
        let t = &s.theme;
        let list = self.rows(s);
        let synced = s.live.is_synced();
        let pods = s.live.model.pod_count();
        let rows_fit = area.height.saturating_sub(3) as usize;
        self.page = rows_fit.max(1);
        let offset = self.cursor.saturating_sub(rows_fit.saturating_sub(1));
        self.hit = Some((Rect { x: area.x + 1, y: area.y + 2, width: area.width.saturating_sub(2), height: rows_fit as u16 }, offset));
        // Columns drop lowest priority first as the terminal narrows; NAME and HEALTH never
        // go, and NAMESPACE folds into NAME (`ns/name`) when it has to.
        let ns_w = list.iter().map(|d| d.namespace.len()).max().unwrap_or(9).max(9);
        let bare_w = list.iter().map(|d| d.name.len()).max().unwrap_or(4).clamp(4, 40);
        // COVERAGE as wide as its widest cell (`████████ 4999+1/5000`), 18 at least: counts
        // are never cut (a cut count reads as a wrong one).
        let cov_w = list.iter().map(|d| coverage_bar(&s.live.model, d, 8).0.chars().count()).max().unwrap_or(0).max(18) as u16;
        let keep_set = columns_that_fit(area.width.saturating_sub(2), ns_w as u16, bare_w as u16, cov_w);
        let keep = |i: usize| keep_set.contains(&i);
        let fold_namespace = !keep(0);
        let name_full = if fold_namespace { ns_w + 1 + bare_w } else { bare_w };
        // When NAME and HEALTH alone do not fit, the name is shortened in the middle.
        let others: usize = keep_set.iter().filter(|i| **i != 1).map(|i| match *i {
            0 => ns_w,
            COVERAGE => cov_w as usize,
            i => COLUMNS[i].1 as usize,
        } + 1).sum();
        let name_w = name_full.min((area.width.saturating_sub(2) as usize).saturating_sub(others + 1).max(8));
        let header = Row::new(
            [
                "NAMESPACE",
                if fold_namespace { "NAMESPACE/NAME" } else { "NAME" },
                "DESIRED",
                "CURRENT",
                "READY",
                "UP-TO-DATE",
                "AVAILABLE",
                "MISSCHED",
                "STRATEGY",
                "NODE SELECTOR",
                "AGE",
                "COVERAGE",
                "HEALTH",
            ]
            .into_iter()
            .enumerate()
            // The header drops the same columns as the rows, so each title stays above its cells.
            .filter(|(i, _)| keep(*i))
            .map(|(_, h)| h),
        )
        .style(t.header());
        let rows: Vec<Row> = list
            .iter()
            .enumerate()
            .skip(offset)
            .take(rows_fit)
            .map(|(i, d)| {
                let (bar, health) = coverage_bar(&s.live.model, d, 8);
                // No state before the data it depends on has synced: a row says so, with the
                // pods received so far, and has no health.
                let (bar, health) = if synced { (bar, health) } else { (format!("syncing… {pods} pods"), None) };
                let sel = if d.node_selector.is_empty() {
                    "<none>".into()
                } else {
                    d.node_selector.iter().map(|(k, v)| format!("{k}={v}")).collect::<Vec<_>>().join(",")
                };
                let (health, hstyle) = match health {
                    Some(h) => (h.label(), t.state(h.state())),
                    None => ("", t.dim()),
                };
                let name = if fold_namespace { format!("{}/{}", d.namespace, d.name) } else { d.name.clone() };
                let name = middle(&name, name_w);
                let cells = vec![
                    Cell::from(d.namespace.clone()),
                    Cell::from(name),
                    Cell::from(d.desired.to_string()),
                    Cell::from(d.current.to_string()),
                    Cell::from(d.ready.to_string()),
                    Cell::from(d.updated.to_string()),
                    Cell::from(d.available.to_string()),
                    Cell::from(d.misscheduled.to_string()),
                    Cell::from(strategy(d)),
                    Cell::from(sel),
                    Cell::from(age(d.created)),
                    Cell::from(bar),
                    Cell::from(health).style(hstyle),
                ];
                let row = Row::new(cells.into_iter().enumerate().filter(|(i, _)| keep(*i)).map(|(_, c)| c));
                if i == self.cursor { row.style(t.cursor()) } else { row }
            })
            .collect();
        let widths = [
            Constraint::Length(ns_w as u16),
            Constraint::Length(name_w as u16),
            Constraint::Length(7),
            Constraint::Length(7),
            Constraint::Length(5),
            Constraint::Length(10),
            Constraint::Length(9),
            Constraint::Length(8),
            Constraint::Length(13),
            Constraint::Length(14),
            Constraint::Length(5),
            Constraint::Length(cov_w),
            // "◍ terminating", the longest health.
            Constraint::Length(13),
        ];
        let down = nodes_down(&s.live.model);
        let title = match down {
            0 => format!(" DaemonSets ({}) ", list.len()),
            1 => format!(" DaemonSets ({}) · ⊘ 1 node down ", list.len()),
            n => format!(" DaemonSets ({}) · ⊘ {n} nodes down ", list.len()),
        };
        let widths: Vec<Constraint> = widths.into_iter().enumerate().filter(|(i, _)| keep(*i)).map(|(_, w)| w).collect();
        let table = Table::new(rows, widths).header(header).block(Block::bordered().title(title));
        f.render_widget(table, area);
        if list.is_empty() {
            let msg = if s.filter.is_empty() { "no DaemonSets (yet)" } else { "no DaemonSet matches the filter" };
            f.render_widget(
                Paragraph::new(msg).style(t.dim()),
                Rect { x: area.x + 2, y: area.y + 2, width: area.width.saturating_sub(4), height: 1 },
            );
        }
    }
}

/// Each column's (priority, width): 0 never drops; higher numbers drop first. NAMESPACE and
/// NAME take the width of their longest value.
const COLUMNS: [(u8, u16); 13] = [
    (3, 0),  // NAMESPACE (folds into NAME as ns/name)
    (0, 0),  // NAME
    (2, 7),  // DESIRED
    (6, 7),  // CURRENT
    (5, 5),  // READY
    (4, 10), // UP-TO-DATE
    (6, 9),  // AVAILABLE
    (5, 8),  // MISSCHED
    (5, 13), // STRATEGY
    (7, 14), // NODE SELECTOR
    (7, 5),  // AGE
    (1, 0),  // COVERAGE (as wide as its cells)
    (0, 13), // HEALTH
];

/// The COVERAGE column's index.
const COVERAGE: usize = 11;

/// The columns shown at `width`: drop the least important until the rest fit.
fn columns_that_fit(width: u16, ns_w: u16, name_w: u16, cov_w: u16) -> Vec<usize> {
    let mut keep: Vec<usize> = (0..COLUMNS.len()).collect();
    // Without the NAMESPACE column, NAME carries it (`ns/name`).
    let w = |k: &[usize], i: usize| match i {
        0 => ns_w,
        1 if !k.contains(&0) => ns_w + 1 + name_w,
        1 => name_w,
        COVERAGE => cov_w,
        _ => COLUMNS[i].1,
    };
    let total = |k: &[usize]| k.iter().map(|i| w(k, *i) + 1).sum::<u16>();
    while total(&keep) > width {
        let Some(worst) = keep.iter().copied().filter(|i| COLUMNS[*i].0 > 0).max_by_key(|i| (COLUMNS[*i].0, *i)) else { break };
        keep.retain(|i| *i != worst);
    }
    keep
}

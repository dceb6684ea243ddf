//! The DaemonSets list: owns its cursor, its sort order and the rows that fit (recorded
//! while drawing, for PgUp/PgDn). May import `shared`, `format`, `model`; no other view.

use ratatui::Frame;
use ratatui::layout::{Constraint, Rect};
use ratatui::widgets::{Block, Cell, Paragraph, Row, Table};

use super::format::{age, coverage_bar, coverage_ratio, health, nodes_down, problems, strategy};
use crate::model::DsInfo;
use crate::ui::shared::{Shared, SortBy};

#[derive(Debug, Clone)]
pub struct DaemonSetsView {
    pub cursor: usize,
    pub sort: SortBy,
    /// Rows that fit at the last draw.
    pub page: usize,
}

impl Default for DaemonSetsView {
    fn default() -> Self {
        DaemonSetsView { cursor: 0, sort: SortBy::Name, page: 10 }
    }
}

impl DaemonSetsView {
    /// The DaemonSets shown, filtered and sorted.
    pub fn rows<'a>(&self, s: &'a Shared) -> Vec<&'a DsInfo> {
        let f = s.filter.to_lowercase();
        let mut v: Vec<&DsInfo> =
            s.model.daemonsets().filter(|d| f.is_empty() || format!("{}/{}", d.namespace, d.name).to_lowercase().contains(&f)).collect();
        match self.sort {
            SortBy::Name => {}
            // Worst health first (failing > missing > starting > terminating > misscheduled >
            // node down > outdated > ok), then the most nodes with a problem.
            SortBy::Problems => v.sort_by_key(|d| (health(&s.model, d).rank(), std::cmp::Reverse(problems(&s.model, d)))),
            SortBy::Coverage => {
                v.sort_by(|a, b| coverage_ratio(&s.model, a).partial_cmp(&coverage_ratio(&s.model, b)).unwrap_or(std::cmp::Ordering::Equal))
            }
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
        let synced = s.synced_in.is_some();
        let pods = s.model.pod_count();
        let rows_fit = area.height.saturating_sub(3) as usize;
        self.page = rows_fit.max(1);
        let offset = self.cursor.saturating_sub(rows_fit.saturating_sub(1));
        // Narrow terminals drop NODE SELECTOR and AGE so NAME keeps its room.
        let narrow = area.width < 150;
        let keep = move |i: usize| !(narrow && (i == 9 || i == 10));
        let header = Row::new(
            [
                "NAMESPACE",
                "NAME",
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
                let (bar, health) = coverage_bar(&s.model, d, 8);
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
                let cells = vec![
                    Cell::from(d.namespace.clone()),
                    Cell::from(d.name.clone()),
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
            Constraint::Length(11),
            Constraint::Fill(1),
            Constraint::Length(7),
            Constraint::Length(7),
            Constraint::Length(5),
            Constraint::Length(10),
            Constraint::Length(9),
            Constraint::Length(8),
            Constraint::Length(13),
            Constraint::Length(14),
            Constraint::Length(5),
            Constraint::Length(18),
            Constraint::Length(11),
        ];
        let down = nodes_down(&s.model);
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

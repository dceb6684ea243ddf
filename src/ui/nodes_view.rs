//! The Nodes view: readiness, cordon, taints, pool and zone, and how many of the
//! DaemonSets that should run on each node are fine there.

use std::sync::atomic::Ordering::Relaxed;

use ratatui::Frame;
use ratatui::layout::{Constraint, Rect};
use ratatui::style::Style;
use ratatui::widgets::{Block, Cell, Paragraph, Row, Table};

use super::App;
use super::views::age;
use crate::model::coverage::CellState;

pub fn draw(f: &mut Frame, app: &App, area: Rect) {
    let t = &app.theme;
    let rows_all = app.node_rows();
    let rows_fit = area.height.saturating_sub(3) as usize;
    app.page.store(rows_fit.max(1), Relaxed);
    let offset = app.nodes_cursor.saturating_sub(rows_fit.saturating_sub(1));
    let extra = app.node_label.clone();
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
        "AGE".into(),
        "VERSION".into(),
    ])
    .style(t.header());
    let dss: Vec<_> = app.model.daemonsets().collect();
    let rows: Vec<Row> = rows_all
        .iter()
        .enumerate()
        .skip(offset)
        .take(rows_fit)
        .filter_map(|(i, id)| {
            let n = app.model.node(*id)?;
            let mut status = match n.ready {
                Some(true) => "Ready".to_string(),
                Some(false) => "NotReady".to_string(),
                None => "Unknown".to_string(),
            };
            if n.unschedulable {
                status.push_str(",SchedulingDisabled");
            }
            let label = |k: &str| n.facts.labels.get(k).cloned().unwrap_or_else(|| "-".into());
            let taints = match n.facts.taints.as_slice() {
                [] => "-".to_string(),
                [one] => one.to_string(),
                [first, rest @ ..] => format!("{first} +{}", rest.len()),
            };
            let (bad, ok, expected) = app.node_daemons(*id);
            // The DaemonSets not fine here, with their state glyph.
            let not_fine: Vec<String> = dss
                .iter()
                .filter_map(|d| {
                    let s = app.model.coverage(d)?.cells.get(*id as usize).copied()?;
                    s.is_problem().then(|| format!("{}{}", s.glyph(), d.name))
                })
                .collect();
            let status_style = if n.ready != Some(true) { t.state(CellState::Failing) } else { Style::default() };
            let daemons_style = if bad > 0 { t.warn() } else { Style::default() };
            let row = Row::new(vec![
                Cell::from(if app.marks.contains(&n.name) { "✓" } else { " " }),
                Cell::from(n.name.clone()),
                Cell::from(status).style(status_style),
                Cell::from(label("pool")),
                Cell::from(label("topology.kubernetes.io/zone")),
                Cell::from(extra.as_deref().map(label).unwrap_or_default()),
                Cell::from(taints),
                Cell::from(format!("{ok}/{expected}")).style(daemons_style),
                Cell::from(not_fine.join(" ")).style(daemons_style),
                Cell::from(age(n.created)),
                Cell::from(n.kubelet_version.clone()),
            ]);
            Some(if i == app.nodes_cursor { row.style(t.cursor()) } else { row })
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
        Constraint::Fill(1),
        Constraint::Length(5),
        Constraint::Length(8),
    ];
    let sort = match app.nodes_sort {
        super::SortBy::Name => "by name",
        _ => "most problems first",
    };
    let title = format!(" nodes ({}, {sort}) — DAEMONS = DaemonSets ready here / expected here ", rows_all.len());
    f.render_widget(Table::new(rows, widths).header(header).block(Block::bordered().title(title)), area);
    if rows_all.is_empty() {
        let msg = if app.filter.is_empty() { "no nodes (yet)" } else { "no node matches the filter" };
        f.render_widget(
            Paragraph::new(msg).style(t.dim()),
            Rect { x: area.x + 2, y: area.y + 2, width: area.width.saturating_sub(4), height: 1 },
        );
    }
}

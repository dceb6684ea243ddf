//! Rendering: each view is a pure function of `App`. Only what is on screen is drawn.

use std::sync::atomic::Ordering::Relaxed;

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::{Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Clear, Paragraph, Row, Table, Wrap};

use super::{App, Mode, View, keymap};
use crate::cluster::watch::SyncState;
use crate::k8s::duration::human_duration;
use crate::model::coverage::CellState;
use crate::model::{DsInfo, Strategy};

pub const MIN_WIDTH: u16 = 60;
pub const MIN_HEIGHT: u16 = 12;

pub fn draw(f: &mut Frame, app: &App) {
    let area = f.area();
    if area.width < MIN_WIDTH || area.height < MIN_HEIGHT {
        let msg = format!("terminal too small: {}×{} (need at least {MIN_WIDTH}×{MIN_HEIGHT})", area.width, area.height);
        f.render_widget(Paragraph::new(msg).wrap(Wrap { trim: true }), area);
        return;
    }
    let banner = stale_banner(app);
    let [top, warn, body, hints] =
        Layout::vertical([Constraint::Length(1), Constraint::Length(banner.is_some() as u16), Constraint::Min(1), Constraint::Length(1)])
            .areas(area);
    status_line(f, app, top);
    if let Some(b) = banner {
        f.render_widget(Paragraph::new(b).style(app.theme.alert()), warn);
    }
    match app.view {
        View::DaemonSets => daemonsets(f, app, body),
        View::Grid => grid(f, app, body),
        View::Matrix => matrix(f, app, body),
        View::Rollout => super::rollout_view::draw(f, app, body),
        View::Nodes => super::nodes_view::draw(f, app, body),
        View::Detail => super::detail_view::draw(f, app, body),
        View::Text => text(f, app, body),
    }
    hint_bar(f, app, hints);
    if let Some(p) = &app.picker {
        picker(f, app, p, area);
    }
    if let Some(plan) = &app.confirm {
        confirm(f, app, plan, area);
    }
    if app.show_help {
        help(f, app, area);
    }
}

pub(super) use crate::k8s::duration::age;

/// While any watch fails: what is wrong, how old the data on screen is, when the next
/// try is — so nobody acts on a picture of the cluster from ten minutes ago unawares.
pub(super) fn stale_banner(app: &App) -> Option<String> {
    let oldest = app.stale.iter().min_by_key(|(_, s)| s.since)?;
    let failing: Vec<&str> = crate::model::Resource::ALL.iter().filter(|r| app.stale.contains_key(r)).map(|r| r.label()).collect();
    let what = if failing.len() == crate::model::Resource::ALL.len() {
        format!("DISCONNECTED from the API server{}", app.server.as_deref().map(|s| format!(" {s}")).unwrap_or_default())
    } else {
        format!("watch of {} failing", failing.join(", "))
    };
    let age = human_duration(oldest.1.since.elapsed().as_secs() as i64);
    let next = app.stale.values().map(|s| s.retry_at).min().map(|t| t.saturating_duration_since(std::time::Instant::now()));
    let retry = match next {
        Some(d) if d.as_millis() >= 500 => format!("retrying in {}s", d.as_secs_f64().round() as u64),
        _ => "retrying now".to_string(),
    };
    let fix = if oldest.1.fatal { " · waiting will not fix this" } else { "" };
    // Age and retry first: they must survive a narrow terminal cutting the line.
    let data =
        if app.synced_in.is_some() { format!("data shown is stale (as of {age} ago)") } else { format!("nothing loaded yet ({age})") };
    Some(format!(" ⚠ {what} · {data} · {retry}{fix} · {} ", oldest.1.reason))
}

fn status_line(f: &mut Frame, app: &App, area: Rect) {
    let t = &app.theme;
    let ns = app.scope.namespace.as_deref().unwrap_or("all");
    let mut spans = vec![Span::styled(format!(" {} ", app.context), t.header()), Span::styled(format!(" ns:{ns} "), t.dim())];
    if app.readonly {
        spans.push(Span::styled("[read-only] ", t.warn()));
    }
    if app.dry_run {
        spans.push(Span::styled("[dry-run] ", t.warn()));
    }
    for r in crate::model::Resource::ALL {
        let label = r.label();
        let (state, last) = app.sync.get(&r).cloned().unwrap_or((SyncState::Syncing, None));
        let since = last.map(|l| format!(" {}", human_duration(l.elapsed().as_secs() as i64))).unwrap_or_default();
        let (txt, style) = match state {
            SyncState::Syncing => (format!("{label}: syncing…"), t.dim()),
            SyncState::Live => (format!("{label}: live{since}"), Style::default()),
            SyncState::Reconnecting { .. } => {
                let age = app.stale.get(&r).map(|s| human_duration(s.since.elapsed().as_secs() as i64)).unwrap_or_default();
                (format!("{label}: stale {age}"), t.warn())
            }
        };
        spans.push(Span::styled(txt, style));
        spans.push(Span::raw("  "));
    }
    spans.push(Span::styled(
        format!("{} nodes · {} DaemonSets · {} daemon pods", app.model.node_count(), app.model.daemonsets().count(), app.model.pod_count()),
        t.dim(),
    ));
    if !app.marks.is_empty() {
        spans.push(Span::styled(format!("  {} marked", app.marks.len()), t.warn()));
    }

    f.render_widget(Paragraph::new(Line::from(spans)), area);
}

fn hint_bar(f: &mut Frame, app: &App, area: Rect) {
    let t = &app.theme;
    let line = match &app.mode {
        Mode::Filter(s) => Line::from(vec![Span::styled("/", t.header()), Span::raw(s.clone()), Span::styled("▏", t.dim())]),
        Mode::Command(s) => Line::from(vec![Span::styled(":", t.header()), Span::raw(s.clone()), Span::styled("▏", t.dim())]),
        Mode::Labels { input, nodes } => {
            let mut spans = vec![
                Span::styled(format!("labels for {} node(s): ", nodes.len()), t.header()),
                Span::raw(input.clone()),
                Span::styled("▏", t.dim()),
            ];
            match &app.message {
                Some(m) => spans.push(Span::styled(format!("  {m}"), t.warn())),
                None => spans.push(Span::styled("  key=value sets · key- removes · Enter checks · Esc cancels", t.dim())),
            }
            Line::from(spans)
        }
        Mode::Normal => {
            if let Some(m) = &app.message {
                Line::from(Span::styled(m.clone(), t.warn()))
            } else {
                let mut spans = Vec::new();
                if let Some(r) = &app.roll {
                    spans.push(Span::styled(format!("{}  ", r.line()), t.warn()));
                }
                if !app.filter.is_empty() {
                    spans.push(Span::styled(format!("filter: {}  ", app.filter), t.warn()));
                }
                for b in keymap::bindings_for(app.view, app.readonly).filter(|b| b.hint) {
                    spans.push(Span::styled(format!("<{}>", b.keys[0]), t.header()));
                    let word = b.help.split([' ', '(']).next().unwrap_or("").trim_end_matches([':', ',']);
                    if app.forbidden(b.action).is_some() {
                        spans.push(Span::styled(format!(" {word} (forbidden)  "), t.dim()));
                    } else {
                        spans.push(Span::raw(format!(" {word}  ")));
                    }
                }
                Line::from(spans)
            }
        }
    };
    f.render_widget(Paragraph::new(line), area);
}

/// The coverage bar (ready / eligible) and one health word, worst first.
pub fn coverage_bar(app: &App, d: &DsInfo, width: usize) -> (String, String) {
    let Some(c) = app.model.coverage(d) else { return ("".into(), "…".into()) };
    let eligible = c.eligible() as usize;
    let ready = c.count(CellState::Ready) as usize;
    let filled = if eligible == 0 { width } else { ready * width / eligible };
    let bar = format!("{}{}", "█".repeat(filled), "░".repeat(width - filled));
    let n = |s| c.count(s) > 0;
    let health = if n(CellState::Failing) {
        "✖ failing"
    } else if n(CellState::Missing) {
        "○ missing"
    } else if n(CellState::Misscheduled) {
        "◆ missched"
    } else if n(CellState::Outdated) && matches!(d.strategy, Strategy::OnDelete) {
        "◐ outdated"
    } else if n(CellState::Outdated) {
        "▲ updating"
    } else if n(CellState::Starting) {
        "◌ starting"
    } else if n(CellState::Terminating) {
        "◍ terminating"
    } else {
        "✔ ok"
    };
    (format!("{bar} {ready}/{eligible}"), health.into())
}

pub(super) fn strategy(d: &DsInfo) -> String {
    match &d.strategy {
        Strategy::OnDelete => "OnDelete".into(),
        Strategy::RollingUpdate { max_unavailable, max_surge } => {
            let (s, u) = crate::k8s::intstr::surge_and_unavailable(max_surge, max_unavailable, d.desired);
            if s > 0 { format!("Rolling(s={s})") } else { format!("Rolling(u={u})") }
        }
    }
}

fn daemonsets(f: &mut Frame, app: &App, area: Rect) {
    let t = &app.theme;
    let list = app.visible_daemonsets();
    let rows_fit = area.height.saturating_sub(3) as usize;
    app.page.store(rows_fit.max(1), Relaxed);
    let offset = app.ds_cursor.saturating_sub(rows_fit.saturating_sub(1));
    // Narrow terminals drop NODE SELECTOR and AGE so NAME keeps its room.
    let narrow = area.width < 150;
    let keep = move |i: usize| !(narrow && (i == 9 || i == 10));
    let header = Row::new([
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
    ])
    .style(t.header());
    let rows: Vec<Row> = list
        .iter()
        .enumerate()
        .skip(offset)
        .take(rows_fit)
        .map(|(i, d)| {
            let (bar, health) = coverage_bar(app, d, 8);
            let sel = if d.node_selector.is_empty() {
                "<none>".into()
            } else {
                d.node_selector.iter().map(|(k, v)| format!("{k}={v}")).collect::<Vec<_>>().join(",")
            };
            let hstyle = match health.chars().next() {
                Some('✖') => t.state(CellState::Failing),
                Some('○') => t.state(CellState::Missing),
                Some('◆') => t.state(CellState::Misscheduled),
                Some('▲') | Some('◐') => t.state(CellState::Outdated),
                Some('◌') => t.state(CellState::Starting),
                Some('◍') => t.state(CellState::Terminating),
                _ => t.state(CellState::Ready),
            };
            let cells = vec![
                ratatui::widgets::Cell::from(d.namespace.clone()),
                ratatui::widgets::Cell::from(d.name.clone()),
                ratatui::widgets::Cell::from(d.desired.to_string()),
                ratatui::widgets::Cell::from(d.current.to_string()),
                ratatui::widgets::Cell::from(d.ready.to_string()),
                ratatui::widgets::Cell::from(d.updated.to_string()),
                ratatui::widgets::Cell::from(d.available.to_string()),
                ratatui::widgets::Cell::from(d.misscheduled.to_string()),
                ratatui::widgets::Cell::from(strategy(d)),
                ratatui::widgets::Cell::from(sel),
                ratatui::widgets::Cell::from(age(d.created)),
                ratatui::widgets::Cell::from(bar),
                ratatui::widgets::Cell::from(health).style(hstyle),
            ];
            let row = Row::new(cells.into_iter().enumerate().filter(|(i, _)| keep(*i)).map(|(_, c)| c));
            if i == app.ds_cursor { row.style(t.cursor()) } else { row }
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
    let title = format!(" DaemonSets ({}) ", list.len());
    let widths: Vec<Constraint> = widths.into_iter().enumerate().filter(|(i, _)| keep(*i)).map(|(_, w)| w).collect();
    let table = Table::new(rows, widths).header(header).block(Block::bordered().title(title));
    f.render_widget(table, area);
    if list.is_empty() {
        let msg = if app.filter.is_empty() { "no DaemonSets (yet)" } else { "no DaemonSet matches the filter" };
        f.render_widget(
            Paragraph::new(msg).style(t.dim()),
            Rect { x: area.x + 2, y: area.y + 2, width: area.width.saturating_sub(4), height: 1 },
        );
    }
}

fn legend(app: &App, ds: &DsInfo) -> Line<'static> {
    let t = &app.theme;
    let c = app.model.coverage(ds);
    let mut spans = Vec::new();
    for s in CellState::ALL {
        let n = c.map_or(0, |c| c.count(s));
        spans.push(Span::styled(format!("{} ", s.glyph()), t.state(s)));
        spans.push(Span::raw(format!("{s} {n}   ")));
    }
    Line::from(spans)
}

fn grid(f: &mut Frame, app: &App, area: Rect) {
    let t = &app.theme;
    let Some(ds) = app.selected_ds() else {
        f.render_widget(Paragraph::new("the DaemonSet is gone; Esc to go back").block(Block::bordered()), area);
        return;
    };
    let [main, side] = Layout::horizontal([Constraint::Min(30), Constraint::Length(64.min(area.width / 2))]).areas(area);
    let block = Block::bordered().title(format!(" {}/{} — coverage by node ({}) ", ds.namespace, ds.name, ds.strategy.name()));
    let inner = block.inner(main);
    f.render_widget(block, main);
    let [legend_area, cells_area] = Layout::vertical([Constraint::Length(2), Constraint::Min(1)]).areas(inner);
    f.render_widget(Paragraph::new(legend(app, ds)).wrap(Wrap { trim: true }), legend_area);

    let groups = app.grid_nodes();
    let total: usize = groups.iter().map(|(_, v)| v.len()).sum();
    // Dense cells (1 column) for big clusters, spaced (2 columns) when they fit.
    let spaced = total * 2 <= (cells_area.width as usize) * (cells_area.height as usize).saturating_sub(groups.len() * 2);
    let cw: u16 = if spaced { 2 } else { 1 };
    let per_row = ((cells_area.width / cw) as usize).max(1);
    app.grid_width.store(per_row, Relaxed);
    app.page.store((cells_area.height as usize).max(1), Relaxed);
    let cov = app.model.coverage(ds);
    // Lay out lines: a summary line per group, then its cell rows.
    struct LineItem {
        summary: Option<String>,
        cells: Vec<(usize, u32)>,
    }
    let mut lines: Vec<LineItem> = Vec::new();
    let mut idx = 0usize;
    let mut cursor_line = 0usize;
    for (g, ids) in &groups {
        let mut counts = [0u32; CellState::COUNT];
        for id in ids {
            let s = cov.and_then(|c| c.cells.get(*id as usize)).copied().unwrap_or(CellState::Absent);
            counts[s as usize] += 1;
        }
        let summary: Vec<String> =
            CellState::ALL.iter().filter(|s| counts[**s as usize] > 0).map(|s| format!("{}{}", s.glyph(), counts[*s as usize])).collect();
        let nodes = if ids.len() == 1 { "1 node".to_string() } else { format!("{} nodes", ids.len()) };
        let cordoned = ids.iter().filter(|id| app.model.node(**id).is_some_and(|n| n.unschedulable)).count();
        let cordoned = if cordoned > 0 { format!("  ⊘{cordoned} cordoned") } else { String::new() };
        lines.push(LineItem { summary: Some(format!("{g}  ({nodes})  {}{cordoned}", summary.join(" "))), cells: vec![] });
        for chunk in ids.chunks(per_row) {
            let cells: Vec<(usize, u32)> = chunk.iter().enumerate().map(|(j, id)| (idx + j, *id)).collect();
            if cells.iter().any(|(i, _)| *i == app.grid_cursor) {
                cursor_line = lines.len();
            }
            idx += chunk.len();
            lines.push(LineItem { summary: None, cells });
        }
    }
    let h = cells_area.height as usize;
    let offset = cursor_line.saturating_sub(h.saturating_sub(1).max(1) / 2).min(lines.len().saturating_sub(h));
    let buf = f.buffer_mut();
    for (row, item) in lines.iter().skip(offset).take(h).enumerate() {
        let y = cells_area.y + row as u16;
        if let Some(s) = &item.summary {
            buf.set_stringn(cells_area.x, y, s, cells_area.width as usize, t.header());
            continue;
        }
        for (col, (i, id)) in item.cells.iter().enumerate() {
            let s = cov.and_then(|c| c.cells.get(*id as usize)).copied().unwrap_or(CellState::Absent);
            let mut style = t.state(s);
            if let Some(n) = app.model.node(*id) {
                if !app.marks.is_empty() && app.marks.contains(&n.name) {
                    style = style.patch(t.marked());
                }
                if n.unschedulable {
                    style = style.patch(t.cordoned());
                }
            }
            if *i == app.grid_cursor {
                style = style.patch(t.cursor());
            }
            let x = cells_area.x + col as u16 * cw;
            buf.set_string(x, y, s.glyph().to_string(), style);
        }
    }
    detail(f, app, ds, side);
}

fn detail(f: &mut Frame, app: &App, ds: &DsInfo, area: Rect) {
    let t = &app.theme;
    let mut lines: Vec<Line> = Vec::new();
    let Some(id) = app.cursor_node() else {
        f.render_widget(Paragraph::new("no nodes").block(Block::bordered().title(" node ")), area);
        return;
    };
    let Some(node) = app.model.node(id) else { return };
    let cell = app.model.explain(ds, id);
    let ready = match node.ready {
        Some(true) => "Ready",
        Some(false) => "NotReady",
        None => "Unknown",
    };
    lines.push(Line::from(vec![Span::styled(node.name.clone(), t.header())]));
    let mut status = ready.to_string();
    if app.marks.contains(&node.name) {
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
    let e = crate::k8s::eligibility::evaluate(&node.facts, &ds.placement);
    match &e.reason {
        None => lines.push(Line::from("rule: eligible (selectors match, taints tolerated)")),
        Some(r) if cell.as_ref().is_some_and(|c| c.state != CellState::Ineligible) => lines.push(Line::from(format!("rule: {r}"))),
        Some(_) => {}
    }
    for p in app.model.pods_on(ds, id) {
        lines.push(Line::from(""));
        let rev = p.template_generation.clone().unwrap_or_else(|| "?".into());
        let del = if p.deleting.is_some() { ", terminating" } else { "" };
        lines.push(Line::from(vec![Span::styled(format!("pod {}", p.name), t.header())]));
        lines.push(Line::from(format!(
            "  {} {}, template gen {rev}, age {}{del}",
            p.phase,
            if p.ready { "ready" } else { "not ready" },
            age(p.created)
        )));
        for c in &p.containers {
            let state = match &c.waiting {
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

/// Node × DaemonSet: rows are nodes (most problems first), columns DaemonSets. A node
/// lacking several daemons is a broken node; a column of problems is a broken rollout.
fn matrix(f: &mut Frame, app: &App, area: Rect) {
    let t = &app.theme;
    let dss: Vec<&DsInfo> = app.model.daemonsets().collect();
    let rows = app.matrix_rows();
    let [main, side] = Layout::horizontal([Constraint::Min(40), Constraint::Length(56.min(area.width / 2))]).areas(area);
    let block =
        Block::bordered().title(format!(" node × DaemonSet ({} nodes, {} DaemonSets; most problems first) ", rows.len(), dss.len()));
    let inner = block.inner(main);
    f.render_widget(block, main);
    let name_w: u16 = 24;
    let col_w: u16 = 3;
    let visible_cols = ((inner.width.saturating_sub(name_w + 4)) / col_w) as usize;
    let col_off = app.matrix_col.saturating_sub(visible_cols.saturating_sub(1));
    let body_h = inner.height.saturating_sub(2) as usize;
    app.page.store(body_h.max(1), Relaxed);
    let row_off = app.matrix_row.saturating_sub(body_h.saturating_sub(1));
    let buf = f.buffer_mut();
    // Header: column numbers (the side panel names them).
    buf.set_stringn(inner.x, inner.y, format!("{:<w$} bad", "NODE", w = name_w as usize), (name_w + 4) as usize, t.header());
    for (j, _) in dss.iter().enumerate().skip(col_off).take(visible_cols) {
        let x = inner.x + name_w + 4 + ((j - col_off) as u16) * col_w;
        let style = if j == app.matrix_col { t.header().patch(t.cursor()) } else { t.header() };
        buf.set_string(x, inner.y, format!("{:>2}", j + 1), style);
    }
    for (r, (id, bad)) in rows.iter().enumerate().skip(row_off).take(body_h) {
        let y = inner.y + 1 + (r - row_off) as u16;
        let name = app.model.node(*id).map(|n| n.name.clone()).unwrap_or_default();
        let style = if r == app.matrix_row { t.cursor() } else { Style::default() };
        buf.set_stringn(inner.x, y, format!("{name:<w$} {bad:>3}", w = name_w as usize), (name_w + 4) as usize, style);
        for (j, d) in dss.iter().enumerate().skip(col_off).take(visible_cols) {
            let s = app.model.coverage(d).and_then(|c| c.cells.get(*id as usize)).copied().unwrap_or(CellState::Absent);
            let mut st = t.state(s);
            if r == app.matrix_row && j == app.matrix_col {
                st = st.patch(t.cursor());
            }
            buf.set_string(inner.x + name_w + 4 + ((j - col_off) as u16) * col_w + 1, y, s.glyph().to_string(), st);
        }
    }
    // Footer: problems per DaemonSet column.
    let y = inner.y + inner.height.saturating_sub(1);
    buf.set_stringn(inner.x, y, format!("{:<w$}", "not fine per DaemonSet", w = (name_w + 4) as usize), (name_w + 4) as usize, t.dim());
    for (j, d) in dss.iter().enumerate().skip(col_off).take(visible_cols) {
        let n: u32 = app.model.coverage(d).map_or(0, |c| CellState::ALL.iter().filter(|s| s.is_problem()).map(|s| c.count(*s)).sum());
        buf.set_string(
            inner.x + name_w + 4 + ((j - col_off) as u16) * col_w,
            y,
            format!("{:>2}", n.min(99)),
            if n > 0 { t.warn() } else { t.dim() },
        );
    }
    // Side: the cell under the cursor, explained, then the column legend.
    let mut lines: Vec<Line> = Vec::new();
    if let (Some((id, _)), Some(d)) = (rows.get(app.matrix_row), dss.get(app.matrix_col))
        && let (Some(n), Some(c)) = (app.model.node(*id), app.model.explain(d, *id))
    {
        lines.push(Line::from(Span::styled(format!("{} × {}/{}", n.name, d.namespace, d.name), t.header())));
        lines.push(Line::from(Span::styled(format!("{} {}", c.state.glyph(), c.state), t.state(c.state))));
        lines.push(Line::from(format!("why: {}", c.reason)));
        lines.push(Line::from(""));
    }
    for (j, d) in dss.iter().enumerate() {
        let style = if j == app.matrix_col { t.header() } else { Style::default() };
        lines.push(Line::from(Span::styled(format!("{:>2} {}/{}", j + 1, d.namespace, d.name), style)));
    }
    f.render_widget(Paragraph::new(lines).wrap(Wrap { trim: false }).block(Block::bordered().title(" cell under cursor ")), side);
}

/// A scrolled text pane: YAML, or a followed log.
fn text(f: &mut Frame, app: &App, area: Rect) {
    let t = &app.theme;
    let p = &app.text;
    let h = area.height.saturating_sub(2) as usize;
    app.page.store(h.max(1), Relaxed);
    let total = p.lines.len();
    let top = if p.follow { total.saturating_sub(h) } else { p.scroll.min(total.saturating_sub(1)) };
    let mut lines: Vec<Line> = p.lines.iter().skip(top).take(h).map(|l| Line::from(l.clone())).collect();
    if let Some(n) = &p.note
        && lines.len() < h
    {
        lines.push(Line::from(Span::styled(format!("— {n}"), t.dim())));
    }
    let pos =
        if p.follow { "following".to_string() } else { format!("lines {}–{} of {total}", (top + 1).min(total), (top + h).min(total)) };
    f.render_widget(Paragraph::new(lines).block(Block::bordered().title(format!(" {} ({pos}) ", p.title))), area);
}

/// The confirmation of an action: exactly which objects change and how.
fn confirm(f: &mut Frame, app: &App, plan: &crate::cluster::actions::Plan, area: Rect) {
    let t = &app.theme;
    let w = 100.min(area.width.saturating_sub(4));
    let h = (plan.lines.len() as u16 + 5).min(area.height.saturating_sub(2));
    let r = Rect { x: area.x + (area.width - w) / 2, y: area.y + (area.height - h) / 2, width: w, height: h };
    let mut lines: Vec<Line> = plan.lines.iter().map(|l| Line::from(l.clone())).collect();
    lines.push(Line::from(""));
    let dry = if app.dry_run { " — server dry-run, nothing will change" } else { "" };
    lines.push(Line::from(vec![
        Span::styled("y", t.header()),
        Span::raw(" confirm   "),
        Span::styled("n / Esc", t.header()),
        Span::raw(format!(" cancel{dry}")),
    ]));
    f.render_widget(Clear, r);
    f.render_widget(Paragraph::new(lines).wrap(Wrap { trim: false }).block(Block::bordered().title(format!(" {}? ", plan.title))), r);
}

fn picker(f: &mut Frame, app: &App, p: &super::Picker, area: Rect) {
    let t = &app.theme;
    let w = 60.min(area.width.saturating_sub(4));
    let h = (p.items.len() as u16 + 2).min(area.height.saturating_sub(4)).max(3);
    let r = Rect { x: area.x + (area.width - w) / 2, y: area.y + (area.height - h) / 2, width: w, height: h };
    let current = match p.kind {
        super::PickerKind::Context => Some(app.context.as_str()),
        super::PickerKind::Namespace => Some(app.scope.namespace.as_deref().unwrap_or("all")),
    };
    let visible = h.saturating_sub(2) as usize;
    let off = p.cursor.saturating_sub(visible.saturating_sub(1));
    let lines: Vec<Line> = p
        .items
        .iter()
        .enumerate()
        .skip(off)
        .take(visible)
        .map(|(i, item)| {
            let mark = if Some(item.as_str()) == current { "* " } else { "  " };
            let style = if i == p.cursor { t.cursor() } else { Style::default() };
            Line::from(Span::styled(format!("{mark}{item}"), style))
        })
        .collect();
    let title = match p.kind {
        super::PickerKind::Context => " context (Enter switches, Esc cancels) ",
        super::PickerKind::Namespace => " namespace (Enter switches, Esc cancels) ",
    };
    f.render_widget(Clear, r);
    f.render_widget(Paragraph::new(lines).block(Block::bordered().title(title)), r);
}

fn help(f: &mut Frame, app: &App, area: Rect) {
    let t = &app.theme;
    let w = 110.min(area.width.saturating_sub(4));
    let items: Vec<&keymap::Binding> = keymap::bindings_for(app.view, app.readonly).collect();
    let h = (items.len() as u16 + 4).min(area.height.saturating_sub(2));
    let r = Rect { x: area.x + (area.width - w) / 2, y: area.y + (area.height - h) / 2, width: w, height: h };
    let mut lines = vec![Line::from(Span::styled(format!("keys — {} view", app.view.title()), t.header())), Line::from("")];
    for b in items {
        lines.push(Line::from(vec![Span::styled(format!("{:<14}", b.keys.join(" ")), t.header()), Span::raw(b.help)]));
    }
    f.render_widget(Clear, r);
    f.render_widget(Paragraph::new(lines).block(Block::bordered().title(" help (Esc closes) ")), r);
}

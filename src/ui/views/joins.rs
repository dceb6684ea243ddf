//! The Joins view: the nodes that joined within the window, worst first — age, pool /
//! zone / instance type, time to Ready and to usable, the slowest DaemonSet, the first
//! problem — with p50 / p95 time to Ready per DaemonSet below; Enter opens a node's
//! timeline: a horizontal bar per DaemonSet, like a trace (`░` scheduled, waiting to
//! start — pulling, creating; `█` started, not yet Ready; `▏` Ready), the node's Ready and
//! its startup taints on the same time axis, and its problems in full.
//! Owns its cursor and the node it has open. May import `shared`, `format`, `model`; no
//! other view.

use jiff::{SignedDuration, Timestamp};
use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Cell, Paragraph, Row, Table, Wrap};

use crate::k8s::duration::human_duration;
use crate::model::joins::{self, NodeJoin};
use crate::ui::shared::Shared;

#[derive(Debug, Clone, Default)]
pub struct JoinsView {
    pub cursor: usize,
    /// The node whose timeline is open (Enter), by name.
    pub open: Option<String>,
    /// Rows that fit at the last draw.
    pub page: usize,
}

fn dur(d: Option<SignedDuration>) -> String {
    d.map(|d| human_duration(d.as_secs())).unwrap_or_else(|| "-".into())
}

impl JoinsView {
    /// The joins at `now`, worst first.
    pub fn rows(&self, s: &Shared, now: Timestamp) -> Vec<NodeJoin> {
        joins::report(&s.live.model, &s.joins, now)
    }

    pub fn clamp(&mut self, s: &Shared) {
        let n = self.rows(s, crate::k8s::clock::now()).len();
        self.cursor = self.cursor.min(n.saturating_sub(1));
    }

    /// Opens the timeline of the node under the cursor (or closes the one open).
    pub fn toggle(&mut self, s: &Shared) {
        self.open = match self.open {
            Some(_) => None,
            None => self.rows(s, crate::k8s::clock::now()).get(self.cursor).map(|j| j.name.clone()),
        };
    }

    pub fn render(&mut self, f: &mut Frame, area: Rect, s: &Shared) {
        self.render_at(f, area, s, crate::k8s::clock::now());
    }

    /// Drawn as of `now` (tests give a fixed time).
    pub fn render_at(&mut self, f: &mut Frame, area: Rect, s: &Shared, now: Timestamp) {
        let rows = self.rows(s, now);
        match self.open.as_ref().and_then(|n| rows.iter().find(|j| j.name == *n)) {
            Some(j) => timeline(f, area, s, j, now),
            None => self.table(f, area, s, &rows, now),
        }
    }

    fn table(&mut self, f: &mut Frame, area: Rect, s: &Shared, rows: &[NodeJoin], now: Timestamp) {
        let t = &s.theme;
        let stats = joins::stats(rows);
        let stats_h = if stats.is_empty() { 0 } else { (stats.len() as u16 + 3).min(area.height / 3) };
        let [top, bottom] = Layout::vertical([Constraint::Min(3), Constraint::Length(stats_h)]).areas(area);
        let since = human_duration(s.joins.since.as_secs() as i64);
        // Until the workload pods have listed, "started before the CNI" cannot be judged.
        let w = crate::model::Resource::Workloads;
        let loading = if s.live.watch(w).is_some() && !s.live.is_live(w) { "· workload pods still loading " } else { "" };
        let title = format!(" Joining nodes ({}) · created within {since} {loading}", rows.len());
        let block = Block::bordered().title(title);
        self.page = top.height.saturating_sub(3).max(1) as usize;
        if rows.is_empty() {
            let p = Paragraph::new(format!("no node joined within {since}")).style(t.dim()).block(block);
            f.render_widget(p, top);
        } else {
            let header =
                Row::new(["NODE", "AGE", "POOL/ZONE/TYPE", "READY", "USABLE", "SLOWEST", "PROBLEM"].map(Cell::from)).style(t.header());
            let skip = self.cursor.saturating_sub(self.page.saturating_sub(1));
            let body: Vec<Row> = rows
                .iter()
                .enumerate()
                .skip(skip)
                .take(self.page)
                .map(|(i, j)| {
                    let place = [j.pool.as_str(), j.zone.as_str(), j.instance_type.as_str()]
                        .iter()
                        .filter(|x| !x.is_empty())
                        .copied()
                        .collect::<Vec<_>>()
                        .join("/");
                    let usable = match (j.to_usable(), j.overdue) {
                        (Some(d), _) => human_duration(d.as_secs()),
                        (None, true) => "OVERDUE".into(),
                        (None, false) => "…".into(),
                    };
                    let slowest = j
                        .slowest()
                        .map(|d| match d.ready {
                            Some(r) => format!("{} {}", d.name, human_duration(r.duration_since(j.created).as_secs())),
                            None => format!("{} waiting", d.name),
                        })
                        .unwrap_or_default();
                    let problem = j.problems.first().map(|p| p.describe()).unwrap_or_default();
                    let style = if i == self.cursor {
                        t.cursor()
                    } else if j.overdue || !j.problems.is_empty() {
                        t.alert()
                    } else {
                        Style::default()
                    };
                    Row::new([
                        Cell::from(j.name.clone()),
                        Cell::from(human_duration(now.duration_since(j.created).as_secs())),
                        Cell::from(place),
                        Cell::from(dur(j.to_ready())),
                        Cell::from(usable),
                        Cell::from(slowest),
                        Cell::from(crate::k8s::text::visible(&problem).into_owned()),
                    ])
                    .style(style)
                })
                .collect();
            let widths = [
                Constraint::Length(rows.iter().map(|j| j.name.chars().count()).max().unwrap_or(4).clamp(4, 30) as u16),
                Constraint::Length(5),
                Constraint::Length(16),
                Constraint::Length(6),
                Constraint::Length(7),
                Constraint::Length(18),
                Constraint::Min(10),
            ];
            f.render_widget(Table::new(body, widths).header(header).block(block), top);
        }
        if stats_h > 0 {
            let header = Row::new(["DAEMONSET", "READY", "P50", "P95", "WAITING"].map(Cell::from)).style(t.header());
            let body: Vec<Row> = stats
                .iter()
                .map(|d| {
                    Row::new([format!("{}/{}", d.namespace, d.name), d.ready.to_string(), dur(d.p50), dur(d.p95), d.waiting.to_string()])
                })
                .collect();
            let widths = [Constraint::Min(20), Constraint::Length(6), Constraint::Length(7), Constraint::Length(7), Constraint::Length(8)];
            let block = Block::bordered().title(" time to Ready after the node's creation, per DaemonSet ");
            f.render_widget(Table::new(body, widths).header(header).block(block), bottom);
        }
    }
}

/// One node's join on a time axis from its creation to its usable time (or now).
fn timeline(f: &mut Frame, area: Rect, s: &Shared, j: &NodeJoin, now: Timestamp) {
    let t = &s.theme;
    let title = format!(
        " {} · created {} ago · Ready {} · usable {} ",
        j.name,
        human_duration(now.duration_since(j.created).as_secs()),
        dur(j.to_ready()),
        match (j.to_usable(), j.overdue) {
            (Some(d), _) => human_duration(d.as_secs()),
            (None, true) => "OVERDUE".into(),
            (None, false) => "not yet".into(),
        }
    );
    let block = Block::bordered().title(title);
    let inner = block.inner(area);
    f.render_widget(block, area);
    let names = j.daemons.iter().map(|d| d.namespace.len() + d.name.len() + 3).chain(j.taints.iter().map(|t| t.key.len() + 6));
    let label_w = names.max().unwrap_or(10).clamp(10, (inner.width as usize / 3).max(10));
    let bar_w = (inner.width as usize).saturating_sub(label_w + 12).max(8);
    // The axis ends at the last thing that happened, or now while something is pending.
    let pending = j.usable.is_none() || j.daemons.iter().any(|d| d.ready.is_none());
    let last = j.daemons.iter().filter_map(|d| d.ready).chain(j.usable).chain(j.ready.map(|r| r.0)).max().unwrap_or(now);
    let end = if pending { now } else { last }.max(j.created + SignedDuration::from_secs(1));
    let span = end.duration_since(j.created).as_secs_f64().max(1.0);
    let x = |at: Timestamp| ((at.duration_since(j.created).as_secs_f64() / span) * bar_w as f64).round().clamp(0.0, bar_w as f64) as usize;
    let mut lines: Vec<Line> = Vec::new();
    let label = |s: String| {
        let cut: String = if s.chars().count() > label_w { s.chars().take(label_w - 1).chain(['…']).collect() } else { s };
        format!("{cut:<label_w$} ")
    };
    // The node's own Ready, as a bar from its creation.
    let ready_x = j.ready.map(|(r, _)| x(r));
    let node_bar = match ready_x {
        Some(rx) => format!("{}▏", "░".repeat(rx)),
        None => "░".repeat(x(now.min(end))),
    };
    lines.push(Line::from(vec![
        Span::styled(label("node Ready".into()), t.header()),
        Span::raw(node_bar),
        Span::raw(format!(" {}", dur(j.to_ready()))),
    ]));
    for d in &j.daemons {
        let mut bar = String::new();
        let (sx, stx) = (d.scheduled.map(x), d.started.map(x));
        let rx = d.ready.map(x);
        let upto = |b: &mut String, to: usize, c: char| {
            while b.chars().count() < to {
                b.push(c);
            }
        };
        if let Some(sx) = sx {
            upto(&mut bar, sx, ' ');
            upto(&mut bar, stx.or(rx).unwrap_or_else(|| x(now.min(end))).max(sx), '░');
            if let Some(stx) = stx {
                upto(&mut bar, rx.unwrap_or_else(|| x(now.min(end))).max(stx), '█');
            }
            if rx.is_some() {
                bar.push('▏');
            }
        }
        let tail = match d.ready {
            Some(r) => human_duration(r.duration_since(j.created).as_secs()),
            None => d.state.as_str().to_string(),
        };
        let name = format!("{}{}/{}", if d.critical { "* " } else { "  " }, d.namespace, d.name);
        let style = if d.ready.is_none() { t.warn() } else { Style::default() };
        lines.push(Line::from(vec![Span::styled(label(name), style), Span::raw(bar), Span::raw(format!(" {tail}"))]));
    }
    for tn in &j.taints {
        let bar = match tn.gone {
            Some(g) => format!("{}┤", "─".repeat(x(g))),
            None => format!("{}…", "─".repeat(x(now.min(end)))),
        };
        let tail = tn.gone.map(|g| human_duration(g.duration_since(j.created).as_secs())).unwrap_or_else(|| "still there".into());
        lines.push(Line::from(vec![
            Span::styled(label(format!("taint {}", tn.key)), t.dim()),
            Span::raw(bar),
            Span::raw(format!(" {tail}")),
        ]));
    }
    lines.push(Line::from(Span::styled("* critical   ░ scheduled, not started   █ started, not Ready   ▏ Ready", t.dim())));
    for p in &j.problems {
        lines.push(Line::from(Span::styled(format!("! {}", crate::k8s::text::visible(&p.describe())), t.alert())));
    }
    f.render_widget(Paragraph::new(lines).wrap(Wrap { trim: false }), inner);
}

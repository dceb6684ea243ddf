//! The Joins view: the nodes that joined within the window, worst first — age, pool /
//! zone / instance type, time to Ready and to usable, the slowest DaemonSet, the first
//! problem — with p50 / p95 time to Ready per DaemonSet below; Enter opens a node's
//! timeline: a horizontal bar per DaemonSet, like a trace (`░` scheduled, waiting to
//! start — pulling, creating; `█` started, not yet Ready; `▏` Ready), the node's Ready and
//! its startup taints on the same time axis, and its problems in full.
//! Owns its cursor and the node it has open; the timeline is drawn by `format::timeline` (the
//! node detail draws it too). May import `shared`, `format`, `model`; no other view.

use std::sync::Arc;

use jiff::{SignedDuration, Timestamp};
use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::Style;
use ratatui::widgets::{Block, Cell, Paragraph, Row, Table, Wrap};

use super::format::Memo;
use super::format::timeline;
use crate::k8s::duration::human_duration;
use crate::model::joins::{self, JoinSettings, NodeJoin};
use crate::ui::shared::Shared;

#[derive(Debug, Clone, Default)]
pub struct JoinsView {
    pub cursor: usize,
    /// The node whose timeline is open (Enter), by name.
    pub open: Option<String>,
    /// Rows that fit at the last draw.
    pub page: usize,
    /// The last report, kept until the model changes, the settings do, the clock enters
    /// another minute or a node crosses a threshold ([`Report::valid_until`]).
    memo: Memo<ReportKey, Report>,
}

/// What the report depends on: the model's generation (changed by every applied change,
/// unique across models, so a switched context never reuses another's), the settings,
/// and the minute (the durations it states).
type ReportKey = (u64, JoinSettings, i64);

/// The joins as of a draw, and until when they stay true (a node overdue, a taint
/// outliving its grace, a node leaving the window: the next of these, or None).
#[derive(Debug)]
pub struct Report {
    pub rows: Vec<NodeJoin>,
    valid_until: Option<Timestamp>,
}

/// The next time after `now` at which a join, unchanged, would be judged otherwise.
fn next_flip(rows: &[NodeJoin], settings: &JoinSettings, now: Timestamp) -> Option<Timestamp> {
    let d = |d: std::time::Duration| SignedDuration::try_from(d).unwrap_or(SignedDuration::MAX);
    rows.iter()
        .flat_map(|j| {
            let overdue = (j.usable.is_none() && !j.overdue).then(|| j.created.checked_add(d(settings.usable_timeout)).ok()).flatten();
            let outlived = j
                .critical_ready
                .filter(|_| j.taints.iter().any(|t| t.gone.is_none()))
                .and_then(|r| r.checked_add(d(settings.taint_grace)).ok());
            [overdue, outlived, j.created.checked_add(d(settings.since)).ok()]
        })
        .flatten()
        .filter(|t| *t > now)
        .min()
}

fn dur(d: Option<SignedDuration>) -> String {
    d.map(|d| human_duration(d.as_secs())).unwrap_or_else(|| "-".into())
}

impl JoinsView {
    /// The joins at `now`, worst first: computed again only when the model changed (its
    /// generation), the settings did, the minute did, or a join crossed a threshold.
    pub fn rows(&self, s: &Shared, now: Timestamp) -> Arc<Report> {
        let key = (s.live.model.generation(), s.joins.clone(), now.as_second().div_euclid(60));
        let make = || {
            let rows = joins::report(&s.live.model, &s.joins, now);
            let valid_until = next_flip(&rows, &s.joins, now);
            Report { rows, valid_until }
        };
        let kept = self.memo.get(key.clone(), make);
        if kept.valid_until.is_some_and(|t| now >= t) {
            self.memo.clear();
            return self.memo.get(key, make);
        }
        kept
    }

    pub fn clamp(&mut self, s: &Shared) {
        let n = self.rows(s, crate::k8s::clock::now()).rows.len();
        self.cursor = self.cursor.min(n.saturating_sub(1));
    }

    /// Opens the timeline of the node under the cursor (or closes the one open).
    pub fn toggle(&mut self, s: &Shared) {
        self.open = match self.open {
            Some(_) => None,
            None => self.rows(s, crate::k8s::clock::now()).rows.get(self.cursor).map(|j| j.name.clone()),
        };
    }

    pub fn render(&mut self, f: &mut Frame, area: Rect, s: &Shared) {
        self.render_at(f, area, s, crate::k8s::clock::now());
    }

    /// Drawn as of `now` (tests give a fixed time).
    pub fn render_at(&mut self, f: &mut Frame, area: Rect, s: &Shared, now: Timestamp) {
        let report = self.rows(s, now);
        match self.open.as_ref().and_then(|n| report.rows.iter().find(|j| j.name == *n)) {
            Some(j) => timeline(f, area, s, j, now),
            None => self.table(f, area, s, &report.rows, now),
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

/// One node's join on a time axis, in a box titled with its times.
fn timeline(f: &mut Frame, area: Rect, s: &Shared, j: &NodeJoin, now: Timestamp) {
    let block = Block::bordered().title(format!(" {} ", timeline::summary(j, now)));
    let inner = block.inner(area);
    f.render_widget(block, area);
    f.render_widget(Paragraph::new(timeline::lines(s, j, now, inner.width as usize)).wrap(Wrap { trim: false }), inner);
}

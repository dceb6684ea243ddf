//! Rollout progress: every rollout under way, and for the one under the cursor its
//! gauge, pods per revision, strategy and its limits, pace (elapsed, rate, ETA, stalled),
//! what it waits on, the revision history with what changed, and how long recently
//! joined nodes waited for their daemons. Its cursor is the selected DaemonSet (shared
//! with the grid); it owns the list rows that fit. May import `shared`, `format`,
//! `model`, `k8s`; no other view.

use std::time::{Duration, Instant};

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::{Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Paragraph, Wrap};

use super::format::{Col, age_past, fit_columns, human_duration, middle, strategy};
use crate::model::budget::{self, Budget, Verdict};
use crate::model::rollout::{self, PaceSummary, Progress};
use crate::model::{DsInfo, Strategy};
use crate::ui::shared::Shared;

#[derive(Debug, Clone)]
pub struct RolloutView {
    /// List rows that fit at the last draw.
    pub page: usize,
    /// Where the list rows were drawn and the first row's index (mouse clicks).
    pub hit: Option<(Rect, usize)>,
}

impl Default for RolloutView {
    fn default() -> Self {
        RolloutView { page: 10, hit: None }
    }
}

impl RolloutView {
    /// DaemonSets whose rollout is under way.
    pub fn rollouts<'a>(&self, s: &'a Shared) -> Vec<&'a DsInfo> {
        s.live.model.daemonsets().filter(|d| rollout::under_way(&s.live.model, d)).collect()
    }

    /// The DaemonSet the view details: the selected one (the cursor moves the selection,
    /// so the view stays on it while rollouts start and finish around it).
    pub fn ds<'a>(&self, s: &'a Shared) -> Option<&'a DsInfo> {
        s.selected_ds().or_else(|| self.rollouts(s).into_iter().next())
    }

    /// Rows: every rollout under way, by name. A DaemonSet that is not rolling out is not
    /// listed (the detail below still shows the selected one).
    pub fn rows<'a>(&self, s: &'a Shared) -> Vec<&'a DsInfo> {
        self.rollouts(s)
    }

    /// Rollouts seen finishing in the last hour, newest first: (DaemonSet, when, took).
    fn finished<'a>(&self, s: &'a Shared) -> Vec<(&'a DsInfo, jiff::Timestamp, i64)> {
        let now = crate::k8s::clock::now();
        let mut v: Vec<_> = s
            .live
            .model
            .daemonsets()
            .filter(|d| !rollout::under_way(&s.live.model, d))
            .filter_map(|d| {
                let at = s.live.pace(&d.uid)?.finished_at?;
                let started = rollout::brief(&s.live.model, d).started?;
                (now.duration_since(at).as_secs() < RECENT).then(|| (d, at, at.duration_since(started).as_secs()))
            })
            .collect();
        v.sort_by_key(|(_, at, _)| std::cmp::Reverse(*at));
        v
    }

    /// The row of the cursor.
    pub fn index(&self, s: &Shared) -> usize {
        let cur = self.ds(s).map(|d| d.uid.clone());
        self.rows(s).iter().position(|d| Some(&d.uid) == cur.as_ref()).unwrap_or(0)
    }

    pub fn render(&mut self, f: &mut Frame, area: Rect, s: &Shared) {
        let t = &s.theme;
        let rows = self.rows(s);
        // At least 4 rows (a row and its header), at most a third of a tall body.
        let list_h = (rows.len() as u16 + 3).min((area.height / 3).max(4));
        let recent_since = crate::k8s::clock::now() - jiff::SignedDuration::from_secs(RECENT);
        let recent = rollout::time_to_coverage(&s.live.model, recent_since, crate::k8s::clock::now(), 8);
        let ttc_h = if recent.is_empty() { 3 } else { (recent.len() as u16 + 2).min(10) };
        let [list_area, detail_area, ttc_area] =
            Layout::vertical([Constraint::Length(list_h), Constraint::Min(6), Constraint::Length(ttc_h)]).areas(area);

        // The overview: every rollout under way, in columns that drop lowest priority
        // first as the terminal narrows (never the DaemonSet, never its STATE).
        let name_full = rows.iter().map(|d| d.namespace.chars().count() + 1 + d.name.chars().count()).max().unwrap_or(9).max(9) as u16;
        let mut cols = [
            Col { prio: 0, width: 1 },
            // Long names are shortened (to 30 at least) before UPDATED and ETA go.
            Col { prio: 0, width: name_full.min(30) },
            Col { prio: 4, width: 13 },
            Col { prio: 1, width: 21 },
            Col { prio: 3, width: 11 },
            Col { prio: 5, width: 10 },
            Col { prio: 2, width: 8 },
            Col { prio: 0, width: 25 },
        ];
        let inner_w = area.width.saturating_sub(2);
        let keep = fit_columns(&cols, inner_w);
        let others: u16 = keep.iter().filter(|i| **i != 1).map(|i| cols[*i].width + 1).sum();
        cols[1].width = name_full.min(inner_w.saturating_sub(others + 1).max(9));
        let join = |cells: [String; 8]| -> String {
            let mut out = String::new();
            for (i, c) in cells.into_iter().enumerate().filter(|(i, _)| keep.contains(i)) {
                let w = cols[i].width as usize;
                // The last column is not padded (nothing follows it).
                if i == 7 { out.push_str(&c) } else { out.push_str(&format!("{:<w$} ", middle(&c, w))) }
            }
            out
        };
        let head = ["", "DAEMONSET", "STRATEGY", "UPDATED", "UNAVAIL/MAX", "RATE", "ETA", "STATE"].map(String::from);
        let mut lines = vec![Line::from(Span::styled(join(head), t.header()))];
        let visible = list_h.saturating_sub(3) as usize;
        self.page = visible.max(1);
        let cursor = self.index(s);
        // The marker only where the detail below is that row's (a DaemonSet that is not
        // rolling out is shown below without a row).
        let shown = self.ds(s).map(|d| d.uid.clone());
        let marked = |d: &DsInfo| Some(&d.uid) == shown.as_ref();
        let off = cursor.saturating_sub(visible.saturating_sub(1));
        self.hit =
            Some((Rect { x: list_area.x + 1, y: list_area.y + 2, width: list_area.width.saturating_sub(2), height: visible as u16 }, off));
        for (i, d) in rows.iter().enumerate().skip(off).take(visible) {
            let p = rollout::brief(&s.live.model, d);
            let b = budget::budget(&s.live.model, d, crate::k8s::clock::now());
            let v = verdict(s, d, &b);
            let ps = pace(s, d, &p, &v);
            let limit = if matches!(d.strategy, Strategy::OnDelete) { "-".into() } else { format!("{}/{}", b.used, b.limit) };
            let state = state_word(s, d, &p, &v);
            let line = join([
                if i == cursor && marked(d) { "▶" } else { " " }.to_string(),
                format!("{}/{}", d.namespace, d.name),
                strategy(d),
                format!("{} {}/{}", gauge(p.updated, p.desired, 10), p.updated, p.desired),
                limit,
                ps.rate_per_min.map(|r| format!("{r:.1}/min")).unwrap_or_else(|| "-".into()),
                if matches!(d.strategy, Strategy::OnDelete) { "-".into() } else { ps.eta.map(dur).unwrap_or_else(|| "-".into()) },
                state.clone(),
            ]);
            let mut style = if v.is_stalled() { t.warn() } else { Style::default() };
            if i == cursor && marked(d) {
                style = style.patch(t.cursor());
            }
            lines.push(Line::from(Span::styled(line, style)));
        }
        // Finished ones leave the list; the last hour's stay as one line each.
        for (d, at, took) in self.finished(s).into_iter().take(3) {
            lines.push(Line::from(Span::styled(
                format!("  ✔ {}/{} finished in {} ({} ago)", d.namespace, d.name, human_duration(took), age_past(Some(at))),
                t.dim(),
            )));
        }
        if rows.is_empty() {
            lines.push(Line::from(Span::styled("  no rollout under way", t.dim())));
        }
        let under_way = self.rollouts(s).len();
        f.render_widget(Paragraph::new(lines).block(Block::bordered().title(format!(" rollouts under way ({under_way}) "))), list_area);

        // The rollout under the cursor.
        match self.ds(s) {
            Some(d) => detail(f, s, d, detail_area),
            None => f.render_widget(Paragraph::new("no DaemonSet selected and no rollout under way").block(Block::bordered()), detail_area),
        }

        // Time to coverage on recently joined nodes.
        let mut lines = Vec::new();
        for (node, created, per_ds) in &recent {
            let mut spans = vec![
                Span::styled(format!("{node} "), t.header()),
                Span::styled(format!("(joined {} ago): ", age_past(Some(*created))), t.dim()),
            ];
            for (ds, r) in per_ds {
                match r {
                    Ok(s) => spans.push(Span::raw(format!("{ds} {}  ", human_duration(*s)))),
                    Err(s) => spans.push(Span::styled(format!("{ds} waiting {}  ", human_duration(*s)), t.warn())),
                }
            }
            lines.push(Line::from(spans));
        }
        if lines.is_empty() {
            lines.push(Line::from(Span::styled("no node joined in the last hour", t.dim())));
        }
        f.render_widget(
            Paragraph::new(lines)
                .wrap(Wrap { trim: true })
                .block(Block::bordered().title(" time to a Ready daemon on recently joined nodes ")),
            ttc_area,
        );
    }
}

/// Nodes younger than this count as "recently joined" for time-to-coverage.
const RECENT: i64 = 3600;

fn gauge(done: i32, total: i32, width: usize) -> String {
    let filled = if total <= 0 { width } else { (done.max(0) as usize * width / total as usize).min(width) };
    format!("{}{}", "█".repeat(filled), "░".repeat(width - filled))
}

fn dur(d: Duration) -> String {
    human_duration(d.as_secs() as i64)
}

/// Rate and ETA; no ETA while the rollout is stalled (a failing new pod says so at once:
/// the rate says nothing about when it resumes).
fn pace(s: &Shared, d: &DsInfo, p: &Progress, v: &Verdict) -> PaceSummary {
    let elapsed = p.started.map(|s| Duration::from_secs(crate::k8s::clock::now().duration_since(s).as_secs().max(0) as u64));
    let mut ps = rollout::summarize(p, s.live.pace(&d.uid), Instant::now(), elapsed);
    if v.is_stalled() {
        ps.eta = None;
    }
    ps
}

/// The verdict, with how long nothing moved as this view watched.
fn verdict(s: &Shared, d: &DsInfo, b: &Budget) -> Verdict {
    let quiet = s.live.pace(&d.uid).map(|x| x.quiet_for(Instant::now()));
    budget::verdict(&s.live.model, d, b, quiet)
}

/// The roll of this DaemonSet under way (`:roll`), if any.
fn roll_of<'a>(s: &'a Shared, d: &DsInfo) -> Option<&'a crate::cluster::roll::RollStatus> {
    s.roll.as_ref().filter(|r| r.is_active() && r.ds == format!("{}/{}", d.namespace, d.name))
}

fn state_word(s: &Shared, d: &DsInfo, p: &Progress, v: &Verdict) -> String {
    if p.complete && !p.waiting_on.iter().any(|w| w.starts_with("OnDelete")) {
        return "complete".into();
    }
    match (v, roll_of(s, d)) {
        (Verdict::Stalled(_), _) => "STALLED".into(),
        (_, Some(r)) if r.state == crate::cluster::roll::RollState::Paused => "roll paused".into(),
        (_, Some(r)) if r.is_held() => "roll HELD by a budget".into(),
        (_, Some(_)) => "roll replacing pods".into(),
        (v, None) => v.word().into(),
    }
}

fn detail(f: &mut Frame, s: &Shared, d: &DsInfo, area: Rect) {
    let t = &s.theme;
    let p = rollout::progress(&s.live.model, d);
    let b = budget::budget(&s.live.model, d, crate::k8s::clock::now());
    let v = verdict(s, d, &b);
    let ps = pace(s, d, &p, &v);
    let mut lines: Vec<Line> = Vec::new();
    let rolling = rollout::under_way(&s.live.model, d);
    // The verdict first: moving or not, and if not, what holds it and whose fault it is.
    if rolling {
        let style = if v.is_stalled() { t.warn().add_modifier(Modifier::REVERSED) } else { Style::default() };
        let word = match roll_of(s, d) {
            Some(r) if !v.is_stalled() => r.line(),
            _ => v.to_string(),
        };
        lines.push(Line::from(vec![Span::styled("verdict   ", t.header()), Span::styled(word, style)]));
    }
    let pct = if p.desired > 0 { p.updated * 100 / p.desired } else { 100 };
    lines.push(Line::from(vec![
        Span::styled("updated   ", t.header()),
        Span::raw(format!("{} {}/{} ({pct}%)", gauge(p.updated, p.desired, 30), p.updated, p.desired)),
        Span::raw(format!("   available {}/{}", p.available, p.desired)),
    ]));
    let strat = match &d.strategy {
        Strategy::OnDelete => "OnDelete — pods are replaced only when deleted".to_string(),
        Strategy::RollingUpdate { max_unavailable, max_surge } => format!(
            "RollingUpdate  maxUnavailable {} (= {} of {})  maxSurge {} (= {})",
            crate::k8s::intstr::int_or_string(max_unavailable),
            p.max_unavailable,
            p.desired,
            crate::k8s::intstr::int_or_string(max_surge),
            p.max_surge
        ),
    };
    lines.push(Line::from(vec![
        Span::styled("strategy  ", t.header()),
        Span::raw(strat),
        Span::raw(format!("  minReadySeconds {}", d.min_ready_seconds)),
    ]));
    // The budget matters to a rollout; a DaemonSet that is not rolling out has none to spend.
    let with_budget = rolling && !matches!(d.strategy, Strategy::OnDelete);
    if with_budget {
        budget_lines(&mut lines, s, &b);
    }
    if rolling {
        let elapsed =
            p.started.map(|st| human_duration(crate::k8s::clock::now().duration_since(st).as_secs())).unwrap_or_else(|| "-".into());
        lines.push(Line::from(vec![
            Span::styled("pace      ", t.header()),
            Span::raw(format!(
                "elapsed {elapsed} (since revision {} appeared) · rate {} · ETA {}",
                p.current_revision.map(|r| r.to_string()).unwrap_or_else(|| "?".into()),
                ps.rate_per_min.map(|r| format!("{r:.1} pods/min")).unwrap_or_else(|| "-".into()),
                if p.complete {
                    "done".into()
                } else if matches!(d.strategy, Strategy::OnDelete) {
                    "- (pods move only when deleted)".into()
                } else {
                    ps.eta.map(dur).unwrap_or_else(|| "-".into())
                }
            )),
        ]));
    } else {
        // Not a rollout: no elapsed time, rate or ETA to speak of.
        let unavailable = (p.desired - p.available).max(0);
        let note = if unavailable > 0 { format!(" ({unavailable} not available: the coverage grid says why)") } else { String::new() };
        lines.push(Line::from(Span::styled(
            format!(
                "✔ not rolling out: all {} desired node(s) run revision {}{note}",
                p.desired,
                p.current_revision.map(|r| r.to_string()).unwrap_or_else(|| "?".into())
            ),
            t.state(crate::model::coverage::CellState::Ready),
        )));
    }
    if let (Some(done), Some(started)) = (s.live.pace(&d.uid).and_then(|x| x.finished_at), p.started) {
        lines.push(Line::from(Span::styled(
            format!(
                "✔ rollout to revision {} finished in {}",
                p.current_revision.unwrap_or_default(),
                human_duration(done.duration_since(started).as_secs())
            ),
            t.state(crate::model::coverage::CellState::Ready),
        )));
    }
    // The budget's holders say what holds a rolling update; the rest of what it waits on
    // follows (never the same node's story twice).
    let waits = if with_budget { &p.unheld } else { &p.waiting_on };
    if !waits.is_empty() {
        lines.push(Line::from(Span::styled(if rolling { "waiting on" } else { "not fine" }, t.header())));
        for w in waits {
            lines.push(Line::from(format!("  • {w}")));
        }
    }
    lines.push(Line::from(Span::styled("pods per revision", t.header())));
    for r in &p.per_revision {
        let rev = r.revision.map(|n| format!("rev {n}")).unwrap_or_else(|| "rev ?".into());
        let cur = if r.current { "  (current)" } else { "" };
        lines.push(Line::from(format!("  {rev:<7} {:<12} {} pods, {} ready{cur}", short(&r.hash), r.pods, r.ready)));
    }
    let revs = s.live.model.revisions_of(d);
    lines.push(Line::from(Span::styled(format!("revision history ({})", revs.len()), t.header())));
    for (i, r) in revs.iter().enumerate().rev() {
        let head = format!("  rev {:<4} {:<12} {} ago", r.revision, short(&r.hash), age_past(r.created));
        match i.checked_sub(1).map(|j| r.changes_since(revs[j])) {
            Some(ch) if !ch.is_empty() => {
                lines.push(Line::from(format!("{head}   {} change(s) from rev {}:", ch.len(), revs[i - 1].revision)));
                for c in ch.iter().take(4) {
                    lines.push(Line::from(Span::styled(format!("      {c}"), t.dim())));
                }
                if ch.len() > 4 {
                    lines.push(Line::from(Span::styled(format!("      … {} more (y shows the YAML)", ch.len() - 4), t.dim())));
                }
            }
            _ => lines.push(Line::from(head)),
        }
    }
    let title =
        format!(" {}/{} — rollout{} ", d.namespace, d.name, p.current_revision.map(|r| format!(" to revision {r}")).unwrap_or_default());
    f.render_widget(Paragraph::new(lines).wrap(Wrap { trim: false }).block(Block::bordered().title(title)), area);
}

/// Holders of the budget, grouped (the same cause and reason on many nodes is one line),
/// each with what frees it.
fn budget_lines(lines: &mut Vec<Line>, s: &Shared, b: &Budget) {
    let t = &s.theme;
    let kind = if b.max_surge > 0 { "maxSurge" } else { "maxUnavailable" };
    let over = b.used as i32 >= b.limit;
    lines.push(Line::from(vec![
        Span::styled("budget    ", t.header()),
        Span::styled(format!("{} of {} in use ({kind})", b.used, b.limit), if over { t.warn() } else { Style::default() }),
    ]));
    group_lines(lines, s, b);
}

fn group_lines(lines: &mut Vec<Line>, s: &Shared, b: &Budget) {
    let t = &s.theme;
    let groups = b.groups();
    for g in groups.iter().take(HOLDER_GROUPS) {
        let style = if g.first.cause.is_failure() { t.warn() } else { Style::default() };
        let since = g.first.since.map(|t| format!(" · {} ago", age_past(Some(t)))).unwrap_or_default();
        lines.push(Line::from(Span::styled(format!("  • {}{since}", g.line(3)), style)));
        lines.push(Line::from(Span::styled(format!("    {}", g.first.frees), t.dim())));
    }
    if groups.len() > HOLDER_GROUPS {
        lines.push(Line::from(Span::styled(
            format!("  … {} more kinds (status -o json lists every holder)", groups.len() - HOLDER_GROUPS),
            t.dim(),
        )));
    }
}

/// Groups of holders shown in the detail.
const HOLDER_GROUPS: usize = 4;

fn short(h: &str) -> String {
    h.chars().take(10).collect()
}

//! A node's join as a trace: a horizontal bar per DaemonSet on one time axis from the
//! node's creation (`░` scheduled, waiting to start — pulling, creating; `█` started, not
//! yet Ready; `▏` Ready), the node's own Ready and its startup taints on the same axis,
//! then its problems in full. A widget: the Joins view's Enter and the node detail draw it.
//! May import `shared`, `model`, `k8s`; no view.

use jiff::{SignedDuration, Timestamp};
use ratatui::style::Style;
use ratatui::text::{Line, Span};

use crate::k8s::duration::human_duration;
use crate::model::joins::NodeJoin;
use crate::ui::shared::Shared;

fn dur(d: Option<SignedDuration>) -> String {
    d.map(|d| human_duration(d.as_secs())).unwrap_or_else(|| "-".into())
}

/// The node and its times in one line: `n1 · created 15m ago · Ready 10s · usable 25s`.
pub fn summary(j: &NodeJoin, now: Timestamp) -> String {
    format!(
        "{} · created {} ago · Ready {} · usable {}",
        j.name,
        human_duration(now.duration_since(j.created).as_secs()),
        dur(j.to_ready()),
        match (j.to_usable(), j.overdue) {
            (Some(d), _) => human_duration(d.as_secs()),
            (None, true) => "OVERDUE".into(),
            (None, false) => "not yet".into(),
        }
    )
}

/// The trace's lines, `width` columns wide at most.
pub fn lines(s: &Shared, j: &NodeJoin, now: Timestamp, width: usize) -> Vec<Line<'static>> {
    let t = &s.theme;
    let names = j.daemons.iter().map(|d| d.namespace.len() + d.name.len() + 3).chain(j.taints.iter().map(|t| t.key.len() + 6));
    let label_w = names.max().unwrap_or(10).clamp(10, (width / 3).max(10));
    let bar_w = width.saturating_sub(label_w + 12).max(8);
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
    lines
}

//! The chrome around every view: the status line (context, namespace, watch states,
//! counts, marks), the stale-data banner, the hint bar (prompt, message, keys) and the
//! too-small notice. Stateless. May import `shared`, `keymap`, `format`, `model`,
//! `cluster` types; no other view.

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Paragraph, Wrap};

use super::format::human_duration;
use crate::cluster::watch::SyncState;
use crate::model::Resource;
use crate::ui::keymap::{self, Action};
use crate::ui::shared::Shared;

pub const MIN_WIDTH: u16 = 60;
pub const MIN_HEIGHT: u16 = 12;

/// What is being typed on the bottom line, if anything.
#[derive(Debug, Clone, Copy)]
pub enum Prompt<'a> {
    None,
    Filter(&'a str),
    Command(&'a str),
    /// Label edits for `nodes` nodes.
    Labels {
        input: &'a str,
        nodes: usize,
    },
    /// Taint edits for `nodes` nodes.
    Taints {
        input: &'a str,
        nodes: usize,
    },
}

/// Draws the status line and the banner; returns the body and the hint-bar areas, or
/// None (after a notice) when the terminal is too small for anything else.
pub fn frame(f: &mut Frame, s: &Shared) -> Option<(Rect, Rect)> {
    let area = f.area();
    if area.width < MIN_WIDTH || area.height < MIN_HEIGHT {
        let msg = format!("terminal too small: {}×{} (need at least {MIN_WIDTH}×{MIN_HEIGHT})", area.width, area.height);
        f.render_widget(Paragraph::new(msg).wrap(Wrap { trim: true }), area);
        return None;
    }
    let banner = stale_banner(s);
    let [top, warn, body, hints] =
        Layout::vertical([Constraint::Length(1), Constraint::Length(banner.is_some() as u16), Constraint::Min(1), Constraint::Length(1)])
            .areas(area);
    status_line(f, s, top);
    if let Some(b) = banner {
        f.render_widget(Paragraph::new(b).style(s.theme.alert()), warn);
    }
    Some((body, hints))
}

/// While any watch fails: what is wrong, how old the data on screen is, when the next
/// try is — so nobody acts on a picture of the cluster from ten minutes ago unawares.
pub fn stale_banner(s: &Shared) -> Option<String> {
    let oldest = s.stale.iter().min_by_key(|(_, s)| s.since)?;
    let failing: Vec<&str> = Resource::ALL.iter().filter(|r| s.stale.contains_key(r)).map(|r| r.label()).collect();
    let what = if failing.len() == Resource::ALL.len() {
        format!("DISCONNECTED from the API server{}", s.server.as_deref().map(|s| format!(" {s}")).unwrap_or_default())
    } else {
        format!("watch of {} failing", failing.join(", "))
    };
    let age = human_duration(oldest.1.since.elapsed().as_secs() as i64);
    let next = s.stale.values().map(|s| s.retry_at).min().map(|t| t.saturating_duration_since(std::time::Instant::now()));
    let retry = match next {
        Some(d) if d.as_millis() >= 500 => format!("retrying in {}s", d.as_secs_f64().round() as u64),
        _ => "retrying now".to_string(),
    };
    let fix = if oldest.1.fatal { " · waiting will not fix this" } else { "" };
    // Age and retry first: they must survive a narrow terminal cutting the line.
    let data = if s.synced_in.is_some() { format!("data shown is stale (as of {age} ago)") } else { format!("nothing loaded yet ({age})") };
    Some(format!(" ⚠ {what} · {data} · {retry}{fix} · {} ", oldest.1.reason))
}

fn status_line(f: &mut Frame, s: &Shared, area: Rect) {
    let t = &s.theme;
    let ns = s.scope.namespace.as_deref().unwrap_or("all");
    let mut spans = vec![Span::styled(format!(" {} ", s.context), t.header()), Span::styled(format!(" ns:{ns} "), t.dim())];
    if s.readonly {
        spans.push(Span::styled("[read-only] ", t.warn()));
    }
    if s.dry_run {
        spans.push(Span::styled("[dry-run: new actions not applied] ", t.warn()));
    }
    // A running job keeps what it was confirmed with: say which are real.
    if let Some(r) = s.roll.as_ref().filter(|r| r.is_active()) {
        spans.push(Span::styled(format!("[REAL roll of {} running] ", r.ds), t.warn()));
    }
    for r in Resource::ALL {
        let label = r.label();
        let (state, last) = s.sync.get(&r).cloned().unwrap_or((SyncState::Syncing, None));
        let since = last.map(|l| format!(" {}", human_duration(l.elapsed().as_secs() as i64))).unwrap_or_default();
        let (txt, style) = match state {
            SyncState::Syncing => (format!("{label}: syncing…"), t.dim()),
            SyncState::Live => (format!("{label}: live{since}"), Style::default()),
            SyncState::Reconnecting { .. } => {
                let age = s.stale.get(&r).map(|s| human_duration(s.since.elapsed().as_secs() as i64)).unwrap_or_default();
                (format!("{label}: stale {age}"), t.warn())
            }
        };
        spans.push(Span::styled(txt, style));
        spans.push(Span::raw("  "));
    }
    spans.push(Span::styled(
        format!("{} nodes · {} DaemonSets · {} daemon pods", s.model.node_count(), s.model.daemonsets().count(), s.model.pod_count()),
        t.dim(),
    ));
    if !s.marks.is_empty() {
        spans.push(Span::styled(format!("  {} marked", s.marks.len()), t.warn()));
    }

    f.render_widget(Paragraph::new(Line::from(spans)), area);
}

/// A line editor (labels, taints): what is typed, then the problem found or the syntax.
fn editor<'a>(s: &Shared, title: String, input: &str, syntax: &str) -> Line<'a> {
    let t = &s.theme;
    let mut spans = vec![Span::styled(title, t.header()), Span::raw(input.to_string()), Span::styled("▏", t.dim())];
    match &s.message {
        Some(m) => spans.push(Span::styled(format!("  {m}"), t.warn())),
        None => spans.push(Span::styled(format!("  {syntax} · Enter checks · Esc cancels"), t.dim())),
    }
    Line::from(spans)
}

/// The bottom line: the prompt being typed, else the message, else the roll under way,
/// the filter and the keys of the view (from the keymap; refused ones marked).
pub fn hint_bar(f: &mut Frame, area: Rect, s: &Shared, prompt: Prompt<'_>, forbidden: &[Action]) {
    let t = &s.theme;
    let line = match prompt {
        Prompt::Filter(text) => Line::from(vec![Span::styled("/", t.header()), Span::raw(text.to_string()), Span::styled("▏", t.dim())]),
        Prompt::Command(text) => {
            let mut spans = vec![Span::styled(":", t.header()), Span::raw(text.to_string()), Span::styled("▏", t.dim())];
            // Completion: the commands the first word could still become.
            let word = text.split_whitespace().next().unwrap_or("");
            if !word.is_empty() && !text.contains(char::is_whitespace) {
                let matches: Vec<String> = keymap::complete(word).map(|c| c.usage()).collect();
                if !matches.is_empty() {
                    spans.push(Span::styled(format!("  {}", matches.join("  ")), t.dim()));
                }
            }
            Line::from(spans)
        }
        Prompt::Labels { input, nodes } => editor(s, format!("labels for {nodes} node(s): "), input, "key=value sets · key- removes"),
        Prompt::Taints { input, nodes } => editor(
            s,
            format!("taints for {nodes} node(s): "),
            input,
            "key=value:NoSchedule|PreferNoSchedule|NoExecute adds · key:Effect- or key- removes",
        ),
        Prompt::None => {
            if let Some(m) = &s.message {
                Line::from(Span::styled(m.clone(), t.warn()))
            } else {
                let mut spans = Vec::new();
                if let Some(r) = &s.roll {
                    spans.push(Span::styled(format!("{}  ", r.line()), t.warn()));
                }
                if !s.filter.is_empty() {
                    spans.push(Span::styled(format!("filter: {}  ", s.filter), t.warn()));
                }
                for b in keymap::bindings_for(s.view, s.readonly).filter(|b| b.hint) {
                    spans.push(Span::styled(format!("<{}>", b.keys[0]), t.header()));
                    let word = b.help.split([' ', '(']).next().unwrap_or("").trim_end_matches([':', ',']);
                    if forbidden.contains(&b.action) {
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

//! The chrome around every view: the status line (context, namespace, watch states,
//! counts, marks) with the views' names at its right (clickable), the stale-data
//! banner, the hint bar (prompt, message, keys that act) and the too-small notice. Stateless. May import `shared`, `keymap`, `format`, `model`,
//! `cluster` types; no other view.

use crate::k8s::words::count;
use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Paragraph, Wrap};

use super::format::human_duration;
use crate::cluster::watch::SyncState;
use crate::model::Resource;
use crate::ui::keymap::{self, Action};
use crate::ui::shared::{Shared, View};
use tui_input::Input;

pub const MIN_WIDTH: u16 = 60;
pub const MIN_HEIGHT: u16 = 12;

/// What is being typed on the bottom line, if anything, with what Tab could complete.
#[derive(Debug, Clone, Copy)]
pub enum Prompt<'a> {
    None,
    Filter(&'a Input, &'a [String]),
    Command(&'a Input, &'a [String]),
    /// A search in the text pane.
    Search(&'a Input),
    /// Label edits for `nodes` nodes.
    Labels {
        input: &'a Input,
        nodes: usize,
        candidates: &'a [String],
    },
    /// Taint edits for `nodes` nodes.
    Taints {
        input: &'a Input,
        nodes: usize,
    },
}

/// The views the header names, each by the `:` command that opens it (a click on a
/// name switches to that view).
pub const TABS: [(&str, View); 5] =
    [("ds", View::DaemonSets), ("grid", View::Grid), ("matrix", View::Matrix), ("rollout", View::Rollout), ("nodes", View::Nodes)];

/// The header's view names: where they start (right-aligned on the top line).
fn tabs_x(area: Rect) -> u16 {
    let w: u16 = TABS.iter().map(|(n, _)| n.len() as u16 + 2).sum();
    area.x + area.width.saturating_sub(w)
}

/// The view name (its command) at column `x` of row `y`, if one is there.
pub fn tab_at(area: Rect, x: u16, y: u16) -> Option<&'static str> {
    if y != area.y || area.width < MIN_WIDTH || area.height < MIN_HEIGHT {
        return None;
    }
    let mut at = tabs_x(area);
    for (name, _) in TABS {
        let w = name.len() as u16 + 2;
        if x >= at && x < at + w {
            return Some(name);
        }
        at += w;
    }
    None
}

fn tabs(f: &mut Frame, s: &Shared, area: Rect) {
    let spans: Vec<Span> = TABS
        .iter()
        .map(|(name, v)| {
            let style = if *v == s.view { s.theme.cursor() } else { s.theme.dim() };
            Span::styled(format!(" {name} "), style)
        })
        .collect();
    let x = tabs_x(area);
    f.render_widget(Paragraph::new(Line::from(spans)), Rect { x, y: area.y, width: area.x + area.width - x, height: 1 });
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
    // A failing watch first; else, until every watch is live, how far the lists have got.
    let banner = stale_banner(s)
        .map(|b| (b, s.theme.alert()))
        .or_else(|| sync_progress(s).map(|b| (b, s.theme.dim())))
        .or_else(|| maintenance_banner(s).map(|b| (b, s.theme.warn())));
    let [top, warn, body, hints] =
        Layout::vertical([Constraint::Length(1), Constraint::Length(banner.is_some() as u16), Constraint::Min(1), Constraint::Length(1)])
            .areas(area);
    let tabs_w = area.x + area.width - tabs_x(area);
    let [status, _] = Layout::horizontal([Constraint::Min(1), Constraint::Length(tabs_w)]).areas(top);
    status_line(f, s, status);
    tabs(f, s, top);
    if let Some((b, style)) = banner {
        f.render_widget(Paragraph::new(b).style(style), warn);
    }
    Some((body, hints))
}

/// While any watch fails: what is wrong, how old the data on screen is, when the next
/// try is — so nobody acts on a picture of the cluster from ten minutes ago unawares.
pub fn stale_banner(s: &Shared) -> Option<String> {
    let oldest = s.live.failing().min_by_key(|(_, f)| f.since)?;
    let failing: Vec<&str> = Resource::ALL.iter().filter(|r| s.live.failing().any(|(x, _)| x == **r)).map(|r| r.label()).collect();
    let what = if failing.len() == Resource::ALL.len() {
        format!("DISCONNECTED from the API server{}", s.server.as_deref().map(|s| format!(" {s}")).unwrap_or_default())
    } else {
        format!("watch of {} failing", failing.join(", "))
    };
    let age = human_duration(oldest.1.since.elapsed().as_secs() as i64);
    let next = s.live.failing().map(|(_, f)| f.retry_at).min().map(|t| t.saturating_duration_since(std::time::Instant::now()));
    let retry = match next {
        Some(d) if d.as_millis() >= 500 => format!("retrying in {}s", d.as_secs_f64().round() as u64),
        _ => "retrying now".to_string(),
    };
    let fix = if oldest.1.fatal { " · waiting will not fix this" } else { "" };
    // Age and retry first: they must survive a narrow terminal cutting the line.
    let data = if s.live.is_synced() { format!("data shown is stale (as of {age} ago)") } else { format!("nothing loaded yet ({age})") };
    Some(format!(" ⚠ {what} · {data} · {retry}{fix} · {} ", oldest.1.reason))
}

/// Nodes a maintenance roll cordoned and has not uncordoned, when this TUI runs no roll:
/// left by a roll that was aborted or killed (or one running elsewhere) — said, with the
/// way out, so nobody forgets nodes cordoned out of service.
pub fn maintenance_banner(s: &Shared) -> Option<String> {
    if s.roll.as_ref().is_some_and(|r| r.is_active()) {
        return None;
    }
    let mut by: std::collections::BTreeMap<&str, Vec<&str>> = std::collections::BTreeMap::new();
    for (_, n) in s.live.model.nodes() {
        if let Some(mark) = n.cordoned_by.as_deref() {
            let roll = mark.split(" at ").next().unwrap_or(mark);
            by.entry(roll).or_default().push(&n.name);
        }
    }
    let (roll, nodes) = by.into_iter().next()?;
    let n = nodes.len();
    let named = if n <= 3 { nodes.join(", ") } else { format!("{}, … ({n})", nodes[..3].join(", ")) };
    Some(format!(
        " ⚠ interrupted maintenance? {n} node{} cordoned by a {roll}: {named} · unless that roll still runs elsewhere: resume it (:roll N --drain) or uncordon (u) ",
        if n == 1 { "" } else { "s" }
    ))
}

/// Until every watch is live after connecting: the objects each list has delivered (with
/// the share of the total where the server said it), and how long it has taken —
/// `syncing  ds 30 ✓  nodes 5,000 ✓  pods 61,204…  revs 61 ✓  svc 2 ✓  · 3.1 s`. Then none.
pub fn sync_progress(s: &Shared) -> Option<String> {
    if s.live.is_synced() {
        return None;
    }
    let parts: Vec<String> = Resource::ALL
        .iter()
        .map(|r| {
            let (n, total) = s.live.watch(*r).map_or((0, None), |w| w.listed);
            let live = s.live.watch(*r).is_some_and(|w| w.state == SyncState::Live);
            match (live, total) {
                (true, _) => format!("{} {} ✓", r.label(), thousands(n)),
                (false, Some(t)) if t > 0 => format!("{} {} ({}%)", r.label(), thousands(n), (n * 100 / t).min(99)),
                (false, _) => format!("{} {}…", r.label(), thousands(n)),
            }
        })
        .collect();
    Some(format!(" syncing  {}  · {:.1} s ", parts.join("  "), s.live.started().elapsed().as_secs_f64()))
}

/// 61204 → `61,204`.
fn thousands(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
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
        let state = match r.state {
            crate::cluster::roll::RollState::Paused => "paused",
            _ if r.is_held() => "held",
            _ => "running",
        };
        spans.push(Span::styled(format!("[REAL roll of {} {state}] ", r.ds), t.warn()));
    }
    // Marks change what the action keys act on: they stay in view on a narrow line.
    if !s.marks.is_empty() {
        spans.push(Span::styled(format!("{} marked ", s.marks.len()), t.warn()));
    }
    // `live` is the watch's state; how fresh the data is comes once, as the age of the
    // newest event of any watch (an age beside each `live` read like uptime).
    let mut newest: Option<std::time::Instant> = None;
    let before_watches = spans.len();
    let mut all_live = true;
    for r in Resource::ALL {
        let label = r.label();
        let (state, last) = s.live.watch(r).map_or((SyncState::Syncing, None), |w| (w.state.clone(), w.last_event));
        if state == SyncState::Live {
            newest = newest.max(last);
        } else {
            all_live = false;
        }
        let (txt, style) = match state {
            SyncState::Syncing => (format!("{label}: syncing…"), t.dim()),
            SyncState::Live => (format!("{label}: live"), Style::default()),
            SyncState::Reconnecting { .. } => {
                let age = s
                    .live
                    .watch(r)
                    .and_then(|w| w.failing.as_ref())
                    .map(|f| human_duration(f.since.elapsed().as_secs() as i64))
                    .unwrap_or_default();
                (format!("{label}: stale {age}"), t.warn())
            }
        };
        spans.push(Span::styled(txt, style));
        spans.push(Span::raw("  "));
    }
    // The counts come last and only whole: a cut "50 node" reads as a wrong number.
    let counts = Span::styled(
        format!(
            "{} · {} · {}",
            count(s.live.model.node_count() as u64, "node"),
            count(s.live.model.daemonsets().count() as u64, "DaemonSet"),
            count(s.live.model.pod_count() as u64, "daemon pod")
        ),
        t.dim(),
    );
    let room = area.width as usize;
    let width = |spans: &[Span]| spans.iter().map(|s| s.width()).sum::<usize>();
    if let Some(at) = newest {
        let age = human_duration(at.elapsed().as_secs() as i64);
        let last = Span::styled(format!("last event {age} ago  "), t.dim());
        // Too narrow for five `live`s, the age and the counts: when all are live, say it
        // once, so the age of the data (and the counts, if they fit) stay on screen — in
        // short words if it must (`live · 3s ago`), or only `live` when even that is cut
        // (80 columns with the view tabs).
        if all_live && width(&spans) + last.width() + counts.width() > room {
            spans.truncate(before_watches);
            if width(&spans) + "all live  ".len() + last.width() <= room {
                spans.push(Span::raw("all live  "));
                spans.push(last);
            } else {
                spans.push(Span::raw("live "));
                let short = Span::styled(format!("· {age} ago  "), t.dim());
                if width(&spans) + short.width() - 2 <= room {
                    spans.push(short);
                }
            }
        } else {
            spans.push(last);
        }
    }
    if width(&spans) + counts.width() <= room {
        spans.push(counts);
    }

    f.render_widget(Paragraph::new(Line::from(spans)), area);
}

/// The line being edited, the cursor (`▏`) where it is.
fn input_spans<'a>(s: &Shared, input: &Input) -> Vec<Span<'a>> {
    let (before, after): (String, String) = {
        let chars: Vec<char> = input.value().chars().collect();
        let at = input.cursor().min(chars.len());
        (chars[..at].iter().collect(), chars[at..].iter().collect())
    };
    vec![Span::raw(before), Span::styled("▏", s.theme.dim()), Span::raw(after)]
}

/// What Tab could complete the word to, after the line (the first few).
fn candidate_spans<'a>(s: &Shared, candidates: &[String]) -> Option<Span<'a>> {
    const SHOWN: usize = 8;
    if candidates.is_empty() {
        return None;
    }
    let mut text = candidates.iter().take(SHOWN).cloned().collect::<Vec<_>>().join("  ");
    if candidates.len() > SHOWN {
        text.push_str(&format!("  …{} more", candidates.len() - SHOWN));
    }
    Some(Span::styled(format!("  Tab: {text}"), s.theme.dim()))
}

/// A line editor (labels, taints): what is typed, then the problem found or the syntax.
fn editor<'a>(s: &Shared, title: String, input: &Input, syntax: &str, candidates: &[String]) -> Line<'a> {
    let t = &s.theme;
    let mut spans = vec![Span::styled(title, t.header())];
    spans.extend(input_spans(s, input));
    match &s.message {
        Some(m) => spans.push(Span::styled(format!("  {m}"), t.warn())),
        None => {
            spans.extend(candidate_spans(s, candidates));
            spans.push(Span::styled(format!("  {syntax} · Enter checks · Esc cancels"), t.dim()));
        }
    }
    Line::from(spans)
}

/// How a key is named in the hint bar: the first word of its help, except where that
/// would mislead (`r` is the rollout view here, not k9s's restart, which is `R`).
pub fn hint_word(b: &keymap::Bound) -> String {
    match b.action {
        Action::Rollout => "rollout view".into(),
        Action::GroupBy if b.help.starts_with("show") => "label".into(),
        _ => b.help.split([' ', '(']).next().unwrap_or("").trim_end_matches([':', ',']).to_string(),
    }
}

/// The bottom line: the prompt being typed, else the message, else the roll under way,
/// the filter and the keys that act in the view (from the keymap; refused ones marked,
/// idle ones — nothing under the cursor — left out). When they do not all fit, the
/// last go first, but `?` (help) stays.
pub fn hint_bar(f: &mut Frame, area: Rect, s: &Shared, keys: &keymap::Keymap, prompt: Prompt<'_>, forbidden: &[Action], idle: &[Action]) {
    let t = &s.theme;
    let line = match prompt {
        Prompt::Filter(input, candidates) => {
            let mut spans = vec![Span::styled("/", t.header())];
            spans.extend(input_spans(s, input));
            spans.extend(candidate_spans(s, candidates));
            let problems = crate::ui::filter::Filter::parse(input.value()).problems;
            if !problems.is_empty() {
                spans.push(Span::styled(format!("  {}", problems.join("; ")), t.warn()));
            }
            Line::from(spans)
        }
        Prompt::Search(input) => {
            let mut spans = vec![Span::styled("search: ", t.header())];
            spans.extend(input_spans(s, input));
            spans.push(Span::styled("  Enter keeps it · n / N next / previous · Esc clears", t.dim()));
            Line::from(spans)
        }
        Prompt::Command(input, candidates) => {
            let mut spans = vec![Span::styled(":", t.header())];
            spans.extend(input_spans(s, input));
            // Completion: the commands the first word could still become, with their arguments.
            let text = input.value();
            let word = text.split_whitespace().next().unwrap_or("");
            if !word.is_empty() && !text.contains(char::is_whitespace) {
                let matches: Vec<String> = keymap::complete(word).map(|c| c.usage()).collect();
                if !matches.is_empty() {
                    spans.push(Span::styled(format!("  {}", matches.join("  ")), t.dim()));
                }
            } else if text.contains(char::is_whitespace) {
                spans.extend(candidate_spans(s, candidates));
            }
            Line::from(spans)
        }
        Prompt::Labels { input, nodes, candidates } => {
            editor(s, format!("labels for {nodes} node(s): "), input, "key=value sets · key- removes", candidates)
        }
        Prompt::Taints { input, nodes } => editor(
            s,
            format!("taints for {nodes} node(s): "),
            input,
            "key=value:NoSchedule|PreferNoSchedule|NoExecute adds · key:Effect- or key- removes",
            &[],
        ),
        Prompt::None => {
            if let Some(m) = &s.message {
                Line::from(Span::styled(m.clone(), t.warn()))
            } else {
                let mut spans = Vec::new();
                if let Some(r) = &s.roll {
                    spans.push(Span::styled(format!("{}  ", r.line()), t.warn()));
                }
                // A drain under way has its panel below the node views; elsewhere, this line.
                if let Some(d) = s.drain.as_ref().filter(|d| d.is_active())
                    && !matches!(s.view, View::Grid | View::Matrix | View::Nodes | View::Detail)
                {
                    spans.push(Span::styled(format!("{}  ", d.line()), t.warn()));
                }
                if !s.filter.is_empty() {
                    spans.push(Span::styled(format!("filter: {}  ", s.filter), t.warn()));
                }
                let used: usize = spans.iter().map(|sp| sp.width()).sum();
                // The view's own keys first, then those of every view.
                let mut bindings: Vec<&keymap::Bound> =
                    keys.bindings_for(s.view, s.readonly).filter(|b| b.hint && !idle.contains(&b.action)).collect();
                bindings.sort_by_key(|b| b.views.is_empty());
                let mut items: Vec<(Vec<Span>, bool)> = bindings
                    .into_iter()
                    .map(|b| {
                        let key = Span::styled(format!("<{}>", b.keys[0]), t.header());
                        let paused = s.drain.as_ref().is_some_and(|d| d.is_active() && d.paused.is_some());
                        let word = if b.action == Action::PauseDrain && paused { "resume".to_string() } else { hint_word(b) };
                        let text = if forbidden.contains(&b.action) {
                            Span::styled(format!(" {word} (forbidden)  "), t.dim())
                        } else {
                            Span::raw(format!(" {word}  "))
                        };
                        (vec![key, text], b.action == Action::Help)
                    })
                    .collect();
                // The two spaces after the last item do not need to fit.
                let width =
                    |items: &[(Vec<Span>, bool)]| items.iter().flat_map(|i| &i.0).map(|sp| sp.width()).sum::<usize>().saturating_sub(2);
                while used + width(&items) > area.width as usize {
                    let Some(i) = items.iter().rposition(|i| !i.1) else { break };
                    items.remove(i);
                }
                spans.extend(items.into_iter().flat_map(|i| i.0));
                Line::from(spans)
            }
        }
    };
    f.render_widget(Paragraph::new(line), area);
}

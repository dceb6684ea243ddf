//! The help popup: the current view's key bindings, then the `:` commands, both from
//! the keymap's tables (so the help cannot drift from the handling). Long entries wrap
//! (nothing is cut at 80×24) and the popup scrolls (j/k, PgUp/PgDn, g/G); the app owns
//! the scroll position, which drawing keeps in bounds. May import `shared`, `keymap`
//! and `format`; no other view.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Clear, Paragraph};

use super::format::wrap;
use crate::ui::keymap::{self, Action, Keymap};
use crate::ui::shared::Shared;

/// What the keymap's table does not say: the filter's terms, the line editors' keys, the mouse.
const EXTRAS: [(&str, &str); 6] = [
    ("state:X", "cells in state X (failing, missing, starting, outdated, node-not-ready…, or problem, broken, down)"),
    ("reason:X", "cells whose reason is X (taint, selector, affinity, crashloop, image, node-down, unready…)"),
    ("label: ns:", "label:k=v (or label:k) nodes with that label; ns:N DaemonSets of namespace N; plain text: names and label values"),
    ("Ctrl-a Ctrl-e", "line start / end; Ctrl-u clears the line, Ctrl-w deletes a word, Ctrl-k to the end"),
    ("↑ ↓ Tab", "earlier : commands; Tab completes commands, contexts, namespaces, names, filter terms"),
    ("mouse", "click selects a row or cell, the wheel scrolls, a view name at the top right opens it"),
];

/// The help's lines at inner width `w`: a key (or command) column, then its help wrapped.
pub fn lines(s: &Shared, keys: &Keymap, w: usize) -> Vec<Line<'static>> {
    let t = &s.theme;
    let mut title = vec![Span::styled(format!("keys — {} view", s.view.title()), t.header())];
    if let Some(path) = &s.config_path {
        title.push(Span::styled(format!("   config: {path}"), t.dim()));
    }
    let mut lines = vec![Line::from(title), Line::from("")];
    let entry = |lines: &mut Vec<Line<'static>>, key: String, key_w: usize, help: &str| {
        let text_w = w.saturating_sub(key_w).max(10);
        for (i, part) in wrap(help, text_w).into_iter().enumerate() {
            let k = if i == 0 { format!("{key:<key_w$}") } else { " ".repeat(key_w) };
            lines.push(Line::from(vec![Span::styled(k, t.header()), Span::raw(part)]));
        }
    };
    for b in keys.bindings_for(s.view, s.readonly) {
        let help = if b.action == Action::Command { format!("{} {}", b.help, keymap::command_names()) } else { b.help.to_string() };
        entry(&mut lines, b.keys.join(" "), 14, &help);
    }
    lines.push(Line::from(""));
    lines.push(Line::from(Span::styled("filter (/), line editing, mouse", t.header())));
    for (key, help) in EXTRAS {
        entry(&mut lines, key.to_string(), 14, help);
    }
    lines.push(Line::from(""));
    lines.push(Line::from(Span::styled("commands", t.header())));
    let usage_w = keymap::COMMANDS.iter().map(|c| c.usage().chars().count()).max().unwrap_or(10) + 2;
    for c in keymap::COMMANDS {
        entry(&mut lines, c.usage(), usage_w, c.help);
    }
    lines
}

/// Draws the help, its first line at `scroll` (kept in bounds: the last page stays full);
/// returns the lines a page shows.
pub fn render(f: &mut Frame, area: Rect, s: &Shared, keys: &Keymap, scroll: &mut usize) -> usize {
    let w = 110.min(area.width.saturating_sub(4));
    let content = lines(s, keys, w.saturating_sub(2) as usize);
    let h = (content.len() as u16 + 2).min(area.height.saturating_sub(2));
    let r = Rect { x: area.x + (area.width - w) / 2, y: area.y + (area.height - h) / 2, width: w, height: h };
    let visible = h.saturating_sub(2) as usize;
    *scroll = (*scroll).min(content.len().saturating_sub(visible));
    let total = content.len();
    let title = if total > visible {
        format!(" help — lines {}–{} of {total} · j/k PgUp/PgDn scroll · Esc closes ", *scroll + 1, (*scroll + visible).min(total))
    } else {
        " help (Esc closes) ".to_string()
    };
    let shown: Vec<Line> = content.into_iter().skip(*scroll).take(visible).collect();
    f.render_widget(Clear, r);
    f.render_widget(Paragraph::new(shown).block(Block::bordered().title(title)), r);
    visible
}

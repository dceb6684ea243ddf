//! The help popup: the current view's key bindings, then the `:` commands, both from
//! the keymap's tables (so the help cannot drift from the handling). Has no state of
//! its own beyond being open. May import `shared` and `keymap`; no other view.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Clear, Paragraph};

use crate::ui::keymap::{self, Action};
use crate::ui::shared::Shared;

pub fn render(f: &mut Frame, area: Rect, s: &Shared) {
    let t = &s.theme;
    let w = 110.min(area.width.saturating_sub(4));
    let items: Vec<&keymap::Binding> = keymap::bindings_for(s.view, s.readonly).collect();
    let h = (items.len() as u16 + 6 + keymap::COMMANDS.len() as u16).min(area.height.saturating_sub(2));
    let r = Rect { x: area.x + (area.width - w) / 2, y: area.y + (area.height - h) / 2, width: w, height: h };
    let mut title = vec![Span::styled(format!("keys — {} view", s.view.title()), t.header())];
    if let Some(path) = &s.config_path {
        title.push(Span::styled(format!("   config: {path}"), t.dim()));
    }
    let mut lines = vec![Line::from(title), Line::from("")];
    for b in items {
        let help = if b.action == Action::Command { format!("{} {}", b.help, keymap::command_names()) } else { b.help.to_string() };
        lines.push(Line::from(vec![Span::styled(format!("{:<14}", b.keys.join(" ")), t.header()), Span::raw(help)]));
    }
    lines.push(Line::from(""));
    lines.push(Line::from(Span::styled("commands", t.header())));
    for c in keymap::COMMANDS {
        lines.push(Line::from(vec![Span::styled(format!("{:<30}", c.usage()), t.header()), Span::raw(c.help)]));
    }
    f.render_widget(Clear, r);
    f.render_widget(Paragraph::new(lines).block(Block::bordered().title(" help (Esc closes) ")), r);
}

//! The YAML or log pane: owns its lines (a followed log keeps the newest `TEXT_LINES`),
//! the scroll position, whether it follows the stream, the request it answers, and the
//! lines that fit. May import `shared`; no other view.

use std::collections::VecDeque;

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Paragraph};

use crate::ui::shared::Shared;

/// Lines a text pane keeps (a followed log drops its oldest beyond this).
pub const TEXT_LINES: usize = 10_000;

#[derive(Debug, Clone)]
pub struct TextView {
    pub title: String,
    pub lines: VecDeque<String>,
    /// First line shown.
    pub scroll: usize,
    /// Keep the newest line in view (logs; `G` turns it on, scrolling up turns it off).
    pub follow: bool,
    /// Loading, an error, or why the stream ended.
    pub note: Option<String>,
    /// The request the lines answer (older answers are dropped).
    pub seq: u64,
    /// Lines that fit at the last draw.
    pub page: usize,
}

impl Default for TextView {
    fn default() -> Self {
        TextView { title: String::new(), lines: VecDeque::new(), scroll: 0, follow: false, note: None, seq: 0, page: 10 }
    }
}

impl TextView {
    /// A new, empty pane waiting for the answer to request `seq`.
    pub fn open(&mut self, title: String, follow: bool, seq: u64) {
        let page = self.page;
        *self = TextView { title, lines: VecDeque::new(), scroll: 0, follow, note: Some("loading…".into()), seq, page };
    }

    /// Lines from the job: replacing what is there, or appended (a followed log).
    pub fn receive(&mut self, lines: Vec<String>, append: bool) {
        if !append {
            self.lines.clear();
            self.note = None;
        }
        self.lines.extend(lines);
        let excess = self.lines.len().saturating_sub(TEXT_LINES);
        self.lines.drain(..excess);
        self.scroll = self.scroll.saturating_sub(excess);
    }

    pub fn clamp(&mut self) {
        self.scroll = self.scroll.min(self.lines.len().saturating_sub(1));
    }

    pub fn render(&mut self, f: &mut Frame, area: Rect, s: &Shared) {
        let t = &s.theme;
        let h = area.height.saturating_sub(2) as usize;
        self.page = h.max(1);
        let total = self.lines.len();
        let top = if self.follow { total.saturating_sub(h) } else { self.scroll.min(total.saturating_sub(1)) };
        let mut lines: Vec<Line> = self.lines.iter().skip(top).take(h).map(|l| Line::from(l.clone())).collect();
        if let Some(n) = &self.note
            && lines.len() < h
        {
            lines.push(Line::from(Span::styled(format!("— {n}"), t.dim())));
        }
        let pos = if self.follow {
            "following".to_string()
        } else {
            format!("lines {}–{} of {total}", (top + 1).min(total), (top + h).min(total))
        };
        f.render_widget(Paragraph::new(lines).block(Block::bordered().title(format!(" {} ({pos}) ", self.title))), area);
    }
}

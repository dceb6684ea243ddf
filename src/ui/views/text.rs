//! The YAML or log pane: owns its lines (a followed log keeps the newest `TEXT_LINES`),
//! the scroll position, whether it follows the stream, the request it answers, the
//! lines that fit, the search (matches highlighted; `n`/`N` move between them) and
//! whether long lines wrap. May import `shared` and `k8s`; no other view.

use std::collections::VecDeque;

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Paragraph, Wrap};

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
    /// What `/` searches for (case-insensitive); empty: no search.
    pub search: String,
    /// Long lines wrap instead of being cut (`w`).
    pub wrap: bool,
    /// The first line shown at the last draw.
    shown_top: usize,
}

impl Default for TextView {
    fn default() -> Self {
        TextView {
            title: String::new(),
            lines: VecDeque::new(),
            scroll: 0,
            follow: false,
            note: None,
            seq: 0,
            page: 10,
            search: String::new(),
            wrap: false,
            shown_top: 0,
        }
    }
}

impl TextView {
    /// A new, empty pane waiting for the answer to request `seq` (wrapping stays as it was).
    pub fn open(&mut self, title: String, follow: bool, seq: u64) {
        let (page, wrap) = (self.page, self.wrap);
        *self = TextView { title, follow, note: Some("loading…".into()), seq, page, wrap, ..TextView::default() };
    }

    /// Lines from the job: replacing what is there, or appended (a followed log).
    pub fn receive(&mut self, lines: Vec<String>, append: bool) {
        if !append {
            self.lines.clear();
            self.note = None;
        }
        // A log line's escapes are shown (`\e[31m`), never sent to the terminal.
        self.lines.extend(lines.into_iter().map(|l| match crate::k8s::text::visible(&l) {
            std::borrow::Cow::Borrowed(_) => l,
            std::borrow::Cow::Owned(v) => v,
        }));
        let excess = self.lines.len().saturating_sub(TEXT_LINES);
        self.lines.drain(..excess);
        self.scroll = self.scroll.saturating_sub(excess);
    }

    pub fn clamp(&mut self) {
        self.scroll = self.scroll.min(self.lines.len().saturating_sub(1));
    }

    /// The first line on screen (while following, the one the last draw showed).
    pub fn top(&self) -> usize {
        if self.follow { self.shown_top } else { self.scroll }
    }

    /// The next (or previous) line matching the search, from line `from` (included when
    /// `inclusive`), wrapping around the end.
    pub fn find(&self, from: usize, forward: bool, inclusive: bool) -> Option<usize> {
        let n = self.lines.len();
        if n == 0 || self.search.is_empty() {
            return None;
        }
        let needle = self.search.to_lowercase();
        let from = from.min(n - 1);
        let start = usize::from(!inclusive);
        (start..=n)
            .map(|k| if forward { (from + k) % n } else { (from + n - k % n) % n })
            .find(|i| self.lines[*i].to_lowercase().contains(&needle))
    }

    /// Scrolls so that line `i` is the first shown (and stops following).
    pub fn show_line(&mut self, i: usize) {
        self.follow = false;
        self.scroll = i;
    }

    /// Lines matching the search.
    fn matches(&self) -> usize {
        let needle = self.search.to_lowercase();
        self.lines.iter().filter(|l| l.to_lowercase().contains(&needle)).count()
    }

    /// A line with the search's matches highlighted.
    fn line<'a>(&self, l: &'a str, s: &Shared) -> Line<'a> {
        if self.search.is_empty() {
            return Line::from(l);
        }
        let (lower, needle) = (l.to_lowercase(), self.search.to_lowercase());
        // Lowercasing can change byte lengths (rare outside ASCII): then no highlight.
        if lower.len() != l.len() {
            return Line::from(l);
        }
        let mut spans = Vec::new();
        let mut at = 0;
        for (i, _) in lower.match_indices(&needle) {
            if i < at {
                continue;
            }
            spans.push(Span::raw(&l[at..i]));
            spans.push(Span::styled(&l[i..i + needle.len()], s.theme.cursor()));
            at = i + needle.len();
        }
        spans.push(Span::raw(&l[at..]));
        Line::from(spans)
    }

    pub fn render(&mut self, f: &mut Frame, area: Rect, s: &Shared) {
        let t = &s.theme;
        let h = area.height.saturating_sub(2) as usize;
        let w = area.width.saturating_sub(2).max(1) as usize;
        self.page = h.max(1);
        let total = self.lines.len();
        let rows_of = |l: &String| if self.wrap { l.chars().count().div_ceil(w).max(1) } else { 1 };
        let top = if self.follow {
            // The newest lines that fill the pane (wrapped lines take several rows).
            let (mut rows, mut top) = (0, total);
            while top > 0 && rows + rows_of(&self.lines[top - 1]) <= h {
                rows += rows_of(&self.lines[top - 1]);
                top -= 1;
            }
            top
        } else {
            self.scroll.min(total.saturating_sub(1))
        };
        self.shown_top = top;
        let mut lines: Vec<Line> = self.lines.iter().skip(top).take(h).map(|l| self.line(l, s)).collect();
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
        let search = if self.search.is_empty() { String::new() } else { format!(" · /{}: {} line(s)", self.search, self.matches()) };
        let wrap = if self.wrap { " · wrapped" } else { "" };
        let mut p = Paragraph::new(lines).block(Block::bordered().title(format!(" {} ({pos}{search}{wrap}) ", self.title)));
        if self.wrap {
            p = p.wrap(Wrap { trim: false });
        }
        f.render_widget(p, area);
    }
}

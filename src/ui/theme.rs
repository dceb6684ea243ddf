//! Colours, off under `NO_COLOR` (every state also has its own glyph). Imports only `model`.
//!
//! May import: `model`.

use ratatui::style::{Color, Modifier, Style};

use crate::model::coverage::CellState;

#[derive(Debug, Clone, Copy)]
pub struct Theme {
    pub color: bool,
}

impl Theme {
    /// Colour unless `NO_COLOR` is set to anything non-empty.
    pub fn from_env() -> Self {
        Theme { color: std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty()) }
    }

    fn fg(&self, c: Color) -> Style {
        if self.color { Style::default().fg(c) } else { Style::default() }
    }

    pub fn state(&self, s: CellState) -> Style {
        match s {
            CellState::Ready => self.fg(Color::Green),
            CellState::Outdated => self.fg(Color::Yellow),
            CellState::Starting => self.fg(Color::Cyan),
            CellState::Failing => self.fg(Color::Red).add_modifier(Modifier::BOLD),
            CellState::Missing => self.fg(Color::LightRed),
            CellState::Misscheduled => self.fg(Color::Magenta),
            CellState::Terminating => self.fg(Color::Gray),
            CellState::NodeNotReady => self.fg(Color::Blue),
            CellState::Ineligible => self.fg(Color::DarkGray),
            CellState::Absent => Style::default(),
        }
    }

    pub fn header(&self) -> Style {
        Style::default().add_modifier(Modifier::BOLD)
    }

    pub fn cursor(&self) -> Style {
        Style::default().add_modifier(Modifier::REVERSED)
    }

    /// Cordoned nodes: crossed out (their daemons keep running), with or without colour.
    pub fn cordoned(&self) -> Style {
        Style::default().add_modifier(Modifier::CROSSED_OUT)
    }

    /// Marked nodes (Space): underlined, so marks show with or without colour.
    pub fn marked(&self) -> Style {
        Style::default().add_modifier(Modifier::UNDERLINED | Modifier::BOLD)
    }

    pub fn warn(&self) -> Style {
        self.fg(Color::Yellow).add_modifier(Modifier::BOLD)
    }

    /// The disconnected banner: reversed, so it stands out without colour too.
    pub fn alert(&self) -> Style {
        let s = Style::default().add_modifier(Modifier::BOLD | Modifier::REVERSED);
        if self.color { s.fg(Color::Red) } else { s }
    }

    pub fn dim(&self) -> Style {
        self.fg(Color::DarkGray)
    }
}

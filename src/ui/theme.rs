//! Colours: a palette (`dark`, `light`, `high-contrast`, or one the config changes per
//! state), off under `NO_COLOR` (every state also has its own glyph). Imports only `model`.
//!
//! May import: `model`.

use ratatui::style::{Color, Modifier, Style};

use crate::model::coverage::CellState;

/// The colour of each cell state (indexed by `CellState as usize`) and of the chrome.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Palette {
    pub states: [Color; CellState::COUNT],
    /// Secondary text (namespaces, counts, hints' syntax).
    pub dim: Color,
    /// Warnings: read-only, dry-run, messages, marks.
    pub warn: Color,
    /// The disconnected banner (reversed).
    pub alert: Color,
}

impl Palette {
    /// For dark terminal backgrounds (the default).
    pub const DARK: Palette = Palette {
        states: [
            Color::Green,
            Color::Yellow,
            Color::Cyan,
            Color::Red,
            Color::LightRed,
            Color::Magenta,
            Color::Gray,
            Color::Blue,
            Color::DarkGray,
            Color::Reset,
        ],
        dim: Color::DarkGray,
        warn: Color::Yellow,
        alert: Color::Red,
    };

    /// For light backgrounds: no yellow or light colours that vanish on white.
    pub const LIGHT: Palette = Palette {
        states: [
            Color::Indexed(28),
            Color::Indexed(130),
            Color::Indexed(31),
            Color::Indexed(160),
            Color::Indexed(125),
            Color::Indexed(90),
            Color::Indexed(242),
            Color::Indexed(20),
            Color::Indexed(246),
            Color::Reset,
        ],
        dim: Color::Indexed(244),
        warn: Color::Indexed(130),
        alert: Color::Indexed(160),
    };

    /// Bright colours only, nothing dark grey.
    pub const HIGH_CONTRAST: Palette = Palette {
        states: [
            Color::LightGreen,
            Color::LightYellow,
            Color::LightCyan,
            Color::LightRed,
            Color::LightMagenta,
            Color::Magenta,
            Color::White,
            Color::LightBlue,
            Color::Gray,
            Color::Reset,
        ],
        dim: Color::Gray,
        warn: Color::LightYellow,
        alert: Color::LightRed,
    };

    /// The palette a theme name means (`dark`, `light`, `high-contrast`).
    pub fn named(name: &str) -> Option<Palette> {
        match name {
            "dark" => Some(Palette::DARK),
            "light" => Some(Palette::LIGHT),
            "high-contrast" => Some(Palette::HIGH_CONTRAST),
            _ => None,
        }
    }

    /// Sets the colour of a state (by its name: `ready`, `node-not-ready`…) or of `dim`,
    /// `warn`, `alert`; false for a name that is none of them.
    pub fn set(&mut self, name: &str, c: Color) -> bool {
        match name {
            "dim" => self.dim = c,
            "warn" => self.warn = c,
            "alert" => self.alert = c,
            _ => match CellState::ALL.iter().find(|s| s.as_str() == name) {
                Some(s) => self.states[*s as usize] = c,
                None => return false,
            },
        }
        true
    }
}

#[derive(Debug, Clone, Copy)]
pub struct Theme {
    pub color: bool,
    pub palette: Palette,
}

impl Theme {
    /// The default palette, in colour or not.
    pub fn new(color: bool) -> Self {
        Theme { color, palette: Palette::DARK }
    }

    /// Colour unless `NO_COLOR` is set to anything non-empty.
    pub fn from_env() -> Self {
        Theme::with_palette(Palette::DARK)
    }

    /// `palette`, unless `NO_COLOR` is set to anything non-empty (it wins over any config).
    pub fn with_palette(palette: Palette) -> Self {
        Theme { color: std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty()), palette }
    }

    fn fg(&self, c: Color) -> Style {
        if self.color { Style::default().fg(c) } else { Style::default() }
    }

    pub fn state(&self, s: CellState) -> Style {
        let style = self.fg(self.palette.states[s as usize]);
        match s {
            CellState::Failing => style.add_modifier(Modifier::BOLD),
            CellState::Absent => Style::default(),
            _ => style,
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
        self.fg(self.palette.warn).add_modifier(Modifier::BOLD)
    }

    /// The disconnected banner: reversed, so it stands out without colour too.
    pub fn alert(&self) -> Style {
        let s = Style::default().add_modifier(Modifier::BOLD | Modifier::REVERSED);
        if self.color { s.fg(self.palette.alert) } else { s }
    }

    pub fn dim(&self) -> Style {
        self.fg(self.palette.dim)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The dark palette is the colours the views had before themes, state by state.
    #[test]
    fn dark_palette_keeps_the_colours_of_each_state() {
        let t = Theme::new(true);
        assert_eq!(t.state(CellState::Ready).fg, Some(Color::Green));
        assert_eq!(t.state(CellState::Failing).fg, Some(Color::Red));
        assert_eq!(t.state(CellState::NodeNotReady).fg, Some(Color::Blue));
        assert_eq!(t.state(CellState::Ineligible).fg, Some(Color::DarkGray));
        assert_eq!(t.state(CellState::Absent).fg, None);
        assert_eq!(Theme::new(false).state(CellState::Ready).fg, None);
    }

    #[test]
    fn a_state_colour_can_be_set_by_its_name() {
        let mut p = Palette::named("light").unwrap();
        assert!(p.set("node-not-ready", Color::Rgb(1, 2, 3)) && p.set("dim", Color::White));
        assert_eq!(p.states[CellState::NodeNotReady as usize], Color::Rgb(1, 2, 3));
        assert!(!p.set("absent", Color::White) && !p.set("redy", Color::White));
        assert!(Palette::named("solarized").is_none());
    }
}

//! The input mode: which line editor, if any, takes the keys. Each editor is a
//! `tui_input::Input` (cursor movement, Ctrl-A/E/U/W/K; see `editor`).
//! May import: nothing of ours.

use tui_input::Input;

#[derive(Debug, Clone)]
pub enum Mode {
    Normal,
    Filter(Input),
    Command(Input),
    /// Typing label edits (kubectl syntax) for the target nodes.
    Labels {
        input: Input,
        nodes: Vec<String>,
    },
    /// Typing taint edits (kubectl syntax) for the target nodes.
    Taints {
        input: Input,
        nodes: Vec<String>,
    },
    /// Typing a search in the text pane.
    Search(Input),
}

impl Mode {
    /// The line being edited, if any.
    pub fn input(&self) -> Option<&Input> {
        match self {
            Mode::Normal => None,
            Mode::Filter(i) | Mode::Command(i) | Mode::Search(i) => Some(i),
            Mode::Labels { input, .. } | Mode::Taints { input, .. } => Some(input),
        }
    }

    pub fn input_mut(&mut self) -> Option<&mut Input> {
        match self {
            Mode::Normal => None,
            Mode::Filter(i) | Mode::Command(i) | Mode::Search(i) => Some(i),
            Mode::Labels { input, .. } | Mode::Taints { input, .. } => Some(input),
        }
    }
}

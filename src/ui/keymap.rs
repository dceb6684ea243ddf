//! The keymap: one table that both handles keys and generates the help screen and the
//! hint bar, so the two cannot drift apart.

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

use super::View;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    Up,
    Down,
    Left,
    Right,
    PageUp,
    PageDown,
    Top,
    Bottom,
    Open,
    Back,
    Quit,
    Help,
    Filter,
    Command,
    GroupBy,
    Sort,
    Matrix,
}

pub struct Binding {
    pub keys: &'static [&'static str],
    pub action: Action,
    pub help: &'static str,
    /// Views where the binding applies; empty = everywhere.
    pub views: &'static [View],
    /// Shown in the hint bar.
    pub hint: bool,
}

pub const BINDINGS: &[Binding] = &[
    Binding { keys: &["j", "↓"], action: Action::Down, help: "move down", views: &[], hint: false },
    Binding { keys: &["k", "↑"], action: Action::Up, help: "move up", views: &[], hint: false },
    Binding { keys: &["h", "←"], action: Action::Left, help: "move left", views: &[View::Grid, View::Matrix], hint: false },
    Binding { keys: &["l", "→"], action: Action::Right, help: "move right", views: &[View::Grid, View::Matrix], hint: false },
    Binding { keys: &["PgUp", "Ctrl-b"], action: Action::PageUp, help: "page up", views: &[], hint: false },
    Binding { keys: &["PgDn", "Ctrl-f"], action: Action::PageDown, help: "page down", views: &[], hint: false },
    Binding { keys: &["g", "Home"], action: Action::Top, help: "first", views: &[], hint: false },
    Binding { keys: &["G", "End"], action: Action::Bottom, help: "last", views: &[], hint: false },
    Binding {
        keys: &["Enter"],
        action: Action::Open,
        help: "open the coverage grid of the DaemonSet",
        views: &[View::DaemonSets],
        hint: true,
    },
    Binding {
        keys: &["Enter"],
        action: Action::Open,
        help: "open the grid of this column's DaemonSet at this node",
        views: &[View::Matrix],
        hint: true,
    },
    Binding {
        keys: &["m"],
        action: Action::Matrix,
        help: "matrix of nodes × DaemonSets (broken nodes first)",
        views: &[View::DaemonSets],
        hint: true,
    },
    Binding {
        keys: &["z"],
        action: Action::GroupBy,
        help: "group nodes by the next label (zone, pool, none…)",
        views: &[View::Grid],
        hint: true,
    },
    Binding { keys: &["s"], action: Action::Sort, help: "sort by the next column", views: &[View::DaemonSets], hint: true },
    Binding { keys: &["/"], action: Action::Filter, help: "filter (Enter keeps it, Esc clears)", views: &[], hint: true },
    Binding { keys: &[":"], action: Action::Command, help: "command: :ds, :grid, :matrix, :q", views: &[], hint: true },
    Binding { keys: &["?"], action: Action::Help, help: "help (this screen)", views: &[], hint: true },
    Binding { keys: &["Esc"], action: Action::Back, help: "back / close", views: &[], hint: true },
    Binding { keys: &["q", "Ctrl-c"], action: Action::Quit, help: "quit", views: &[], hint: true },
];

fn key_name(k: &KeyEvent) -> Option<String> {
    let ctrl = k.modifiers.contains(KeyModifiers::CONTROL);
    Some(match k.code {
        KeyCode::Char(c) if ctrl => format!("Ctrl-{c}"),
        KeyCode::Char(c) => c.to_string(),
        KeyCode::Up => "↑".into(),
        KeyCode::Down => "↓".into(),
        KeyCode::Left => "←".into(),
        KeyCode::Right => "→".into(),
        KeyCode::PageUp => "PgUp".into(),
        KeyCode::PageDown => "PgDn".into(),
        KeyCode::Home => "Home".into(),
        KeyCode::End => "End".into(),
        KeyCode::Enter => "Enter".into(),
        KeyCode::Esc => "Esc".into(),
        _ => return None,
    })
}

pub fn action_for(view: View, k: &KeyEvent) -> Option<Action> {
    let name = key_name(k)?;
    BINDINGS.iter().find(|b| (b.views.is_empty() || b.views.contains(&view)) && b.keys.contains(&name.as_str())).map(|b| b.action)
}

pub fn bindings_for(view: View) -> impl Iterator<Item = &'static Binding> {
    BINDINGS.iter().filter(move |b| b.views.is_empty() || b.views.contains(&view))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn no_key_means_two_things_in_one_view() {
        for view in [View::DaemonSets, View::Grid, View::Matrix] {
            let mut seen = std::collections::HashMap::new();
            for b in bindings_for(view) {
                for k in b.keys {
                    if let Some(prev) = seen.insert(*k, b.action) {
                        panic!("{k} bound to {prev:?} and {:?} in {view:?}", b.action);
                    }
                }
            }
        }
    }
}

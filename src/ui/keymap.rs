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
    Nodes,
    Rollout,
    Describe,
    Yaml,
    Logs,
    PreviousLogs,
    Mark,
    ClearMarks,
    Cordon,
    Uncordon,
    EditLabels,
    Restart,
    RestartPod,
}

impl Action {
    /// Actions that change the cluster: absent under `--readonly`.
    pub fn is_mutating(self) -> bool {
        matches!(self, Action::Cordon | Action::Uncordon | Action::EditLabels | Action::Restart | Action::RestartPod)
    }
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

use View::{DaemonSets as Ds, Detail, Grid, Matrix, Nodes, Rollout};

pub const BINDINGS: &[Binding] = &[
    Binding { keys: &["j", "↓"], action: Action::Down, help: "move down", views: &[], hint: false },
    Binding { keys: &["k", "↑"], action: Action::Up, help: "move up", views: &[], hint: false },
    Binding { keys: &["←"], action: Action::Left, help: "move left", views: &[Grid, Matrix], hint: false },
    Binding { keys: &["→"], action: Action::Right, help: "move right", views: &[Grid, Matrix], hint: false },
    Binding { keys: &["PgUp", "Ctrl-b"], action: Action::PageUp, help: "page up", views: &[], hint: false },
    Binding { keys: &["PgDn", "Ctrl-f"], action: Action::PageDown, help: "page down", views: &[], hint: false },
    Binding { keys: &["g", "Home"], action: Action::Top, help: "first", views: &[], hint: false },
    Binding { keys: &["G", "End"], action: Action::Bottom, help: "last (in a log: follow again)", views: &[], hint: false },
    Binding { keys: &["Enter"], action: Action::Open, help: "open the coverage grid of the DaemonSet", views: &[Ds, Rollout], hint: true },
    Binding {
        keys: &["Enter"],
        action: Action::Open,
        help: "open the grid of this column's DaemonSet at this node",
        views: &[Matrix],
        hint: true,
    },
    Binding {
        keys: &["Enter"],
        action: Action::Open,
        help: "detail of the pod under the cursor (or the node, if it has none)",
        views: &[Grid],
        hint: true,
    },
    Binding { keys: &["Enter"], action: Action::Open, help: "detail of the node", views: &[Nodes], hint: true },
    Binding {
        keys: &["d"],
        action: Action::Describe,
        help: "detail (describe) with recent events",
        views: &[Ds, Matrix, Rollout],
        hint: true,
    },
    Binding { keys: &["r"], action: Action::Rollout, help: "rollout progress of the DaemonSet", views: &[Ds, Grid, Matrix], hint: true },
    Binding {
        keys: &["m"],
        action: Action::Matrix,
        help: "matrix of nodes × DaemonSets (broken nodes first)",
        views: &[Ds, Grid, Nodes],
        hint: true,
    },
    Binding {
        keys: &["n"],
        action: Action::Nodes,
        help: "nodes: ready, cordoned, taints, daemons ok/expected",
        views: &[Ds, Grid, Matrix],
        hint: true,
    },
    Binding {
        keys: &["z"],
        action: Action::GroupBy,
        help: "group nodes by the next label (zone, pool, none…)",
        views: &[Grid],
        hint: true,
    },
    Binding { keys: &["z"], action: Action::GroupBy, help: "show the next node label as a column", views: &[Nodes], hint: true },
    Binding { keys: &["s"], action: Action::Sort, help: "sort by the next column", views: &[Ds, Nodes], hint: true },
    Binding {
        keys: &["Space"],
        action: Action::Mark,
        help: "mark / unmark the node (for actions on several)",
        views: &[Grid, Matrix, Nodes],
        hint: false,
    },
    Binding { keys: &["M"], action: Action::ClearMarks, help: "clear all marks", views: &[Grid, Matrix, Nodes], hint: false },
    Binding {
        keys: &["c"],
        action: Action::Cordon,
        help: "cordon the node (or the marked nodes), after a confirmation",
        views: &[Grid, Matrix, Nodes, Detail],
        hint: true,
    },
    Binding {
        keys: &["u"],
        action: Action::Uncordon,
        help: "uncordon the node (or the marked nodes), after a confirmation",
        views: &[Grid, Matrix, Nodes, Detail],
        hint: true,
    },
    Binding {
        keys: &["R"],
        action: Action::Restart,
        help: "restart pods (OnDelete: health-gated roll of outdated pods; RollingUpdate: rollout restart)",
        views: &[Ds, Rollout],
        hint: true,
    },
    Binding {
        keys: &["X"],
        action: Action::RestartPod,
        help: "restart (delete) the daemon pod on the node under the cursor",
        views: &[Grid],
        hint: false,
    },
    Binding {
        keys: &["e"],
        action: Action::EditLabels,
        help: "edit node labels (key=value sets, key- removes), previewing DaemonSets that start/stop",
        views: &[Grid, Matrix, Nodes, Detail],
        hint: true,
    },
    Binding {
        keys: &["y"],
        action: Action::Yaml,
        help: "YAML of the object under the cursor",
        views: &[Ds, Grid, Matrix, Nodes, Rollout, Detail],
        hint: true,
    },
    Binding {
        keys: &["l"],
        action: Action::Logs,
        help: "logs of the pod under the cursor (followed)",
        views: &[Grid, Matrix, Detail],
        hint: true,
    },
    Binding {
        keys: &["p"],
        action: Action::PreviousLogs,
        help: "logs of the pod's previous container (after a crash)",
        views: &[Grid, Matrix, Detail],
        hint: false,
    },
    Binding {
        keys: &["/"],
        action: Action::Filter,
        help: "filter (Enter keeps it, Esc clears)",
        views: &[Ds, Grid, Matrix, Nodes],
        hint: true,
    },
    Binding {
        keys: &[":"],
        action: Action::Command,
        help: "command: :ds :grid :matrix :nodes :rollout :ctx [name] :ns [name|all] :q",
        views: &[],
        hint: true,
    },
    Binding { keys: &["?"], action: Action::Help, help: "help (this screen)", views: &[], hint: true },
    Binding { keys: &["Esc"], action: Action::Back, help: "back / clear the filter", views: &[], hint: true },
    Binding { keys: &["q", "Ctrl-c"], action: Action::Quit, help: "quit", views: &[], hint: true },
];

fn key_name(k: &KeyEvent) -> Option<String> {
    let ctrl = k.modifiers.contains(KeyModifiers::CONTROL);
    Some(match k.code {
        KeyCode::Char(c) if ctrl => format!("Ctrl-{c}"),
        KeyCode::Char(' ') => "Space".into(),
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

/// The action a key means in a view; under `--readonly` mutating keys mean nothing.
pub fn action_for(view: View, k: &KeyEvent, readonly: bool) -> Option<Action> {
    let name = key_name(k)?;
    bindings_for(view, readonly).find(|b| b.keys.contains(&name.as_str())).map(|b| b.action)
}

/// The bindings of a view (what the help and the hint bar show).
pub fn bindings_for(view: View, readonly: bool) -> impl Iterator<Item = &'static Binding> {
    BINDINGS.iter().filter(move |b| (b.views.is_empty() || b.views.contains(&view)) && !(readonly && b.action.is_mutating()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn no_key_means_two_things_in_one_view() {
        for view in View::ALL {
            let mut seen = std::collections::HashMap::new();
            for b in bindings_for(view, false) {
                for k in b.keys {
                    if let Some(prev) = seen.insert(*k, b.action) {
                        panic!("{k} bound to {prev:?} and {:?} in {view:?}", b.action);
                    }
                }
            }
        }
    }
}

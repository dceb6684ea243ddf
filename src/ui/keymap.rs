//! The keymap and the command table: one list of key bindings and one of `:` commands
//! that handle input and also generate the help popup, the hint bar, command completion
//! and the unknown-command message, so none of them can drift from the handling.
//! [`BINDINGS`] is the default table; a [`Keymap`] is the table in force — BINDINGS with
//! the keys the config moved — a value the app (and the fleet) owns and hands to the
//! views, not a process-wide global.
//! Data only: may import `shared` (View); the app and the views read it.

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

use super::shared::View;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    Up,
    Down,
    Left,
    Right,
    /// The fleet's other keys for ← / → (`h` `Shift-Tab` / `l` `Tab`), movable apart.
    PrevCluster,
    NextCluster,
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
    /// The Joins view (the nodes that joined lately).
    Joins,
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
    EditTaints,
    Restart,
    RestartPod,
    /// Cordon and evict the node's pods (the Eviction API), after a confirmation.
    Drain,
    /// Pause the drain under way (no eviction sent), or resume it.
    PauseDrain,
    /// `]` / `[`: the next / previous problem cell (grid, matrix) or row (lists).
    NextProblem,
    PrevProblem,
    /// Search the text pane; `n` / `N` go to the next / previous match.
    Search,
    NextMatch,
    PrevMatch,
    /// Wrap long lines in the text pane (toggle).
    Wrap,
}

impl Action {
    /// Actions that change the cluster: absent under `--readonly`.
    pub fn is_mutating(self) -> bool {
        matches!(
            self,
            Action::Cordon
                | Action::Uncordon
                | Action::EditLabels
                | Action::EditTaints
                | Action::Restart
                | Action::RestartPod
                | Action::Drain
                | Action::PauseDrain
        )
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

use View::{DaemonSets as Ds, Detail, Fleet, Grid, Joins, Matrix, Nodes, Rollout};

pub const BINDINGS: &[Binding] = &[
    Binding { keys: &["j", "↓"], action: Action::Down, help: "move down", views: &[], hint: false },
    Binding { keys: &["k", "↑"], action: Action::Up, help: "move up", views: &[], hint: false },
    Binding {
        keys: &["←"],
        action: Action::Left,
        help: "move left (fleet: the previous cluster)",
        views: &[Grid, Matrix, Fleet],
        hint: false,
    },
    Binding {
        keys: &["→"],
        action: Action::Right,
        help: "move right (fleet: the next cluster)",
        views: &[Grid, Matrix, Fleet],
        hint: false,
    },
    Binding { keys: &["h", "Shift-Tab"], action: Action::PrevCluster, help: "the previous cluster", views: &[Fleet], hint: false },
    Binding { keys: &["l", "Tab"], action: Action::NextCluster, help: "the next cluster", views: &[Fleet], hint: false },
    Binding { keys: &["PgUp", "Ctrl-b"], action: Action::PageUp, help: "page up", views: &[], hint: false },
    Binding { keys: &["PgDn", "Ctrl-f"], action: Action::PageDown, help: "page down", views: &[], hint: false },
    Binding { keys: &["g", "Home"], action: Action::Top, help: "first", views: &[], hint: false },
    Binding { keys: &["G", "End"], action: Action::Bottom, help: "last (in a log: follow again)", views: &[], hint: false },
    // First of the hinted keys: shown (only) while a drain is under way, it must not be cut.
    Binding {
        keys: &["P"],
        action: Action::PauseDrain,
        help: "pause the drain under way (no eviction is sent; one in flight finishes), or resume it",
        views: &[Ds, Grid, Matrix, Rollout, Nodes, Detail, Joins, View::Text],
        hint: true,
    },
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
        keys: &["Enter"],
        action: Action::Open,
        help: "timeline of the node's join (again: back to the list)",
        views: &[Joins],
        hint: true,
    },
    Binding {
        keys: &["Enter"],
        action: Action::Open,
        help: "open the cell: that cluster's coverage grid of the DaemonSet",
        views: &[Fleet],
        hint: true,
    },
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
    Binding { keys: &["s"], action: Action::Sort, help: "sort: worst first ↔ by name", views: &[Fleet], hint: true },
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
        keys: &["D"],
        action: Action::Drain,
        help: "drain the node (or the marked ones): cordon, then evict its pods through the Eviction API, after a confirmation listing them and their budgets",
        views: &[Grid, Matrix, Nodes, Detail],
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
        keys: &["t"],
        action: Action::EditTaints,
        help: "taint the node (or the marked ones): key=value:Effect adds, key:Effect- or key- removes; previews placement and evictions",
        views: &[Grid, Matrix, Nodes, Detail],
        hint: true,
    },
    Binding {
        keys: &["y"],
        action: Action::Yaml,
        help: "YAML of the object under the cursor",
        views: &[Ds, Grid, Matrix, Nodes, Rollout, Detail, Joins],
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
        views: &[Ds, Grid, Matrix, Nodes, Fleet],
        hint: true,
    },
    Binding {
        keys: &[":"],
        action: Action::Command,
        // The help popup follows this with `command_names()` and lists the command table.
        help: "command:",
        views: &[],
        hint: true,
    },
    Binding { keys: &["?"], action: Action::Help, help: "help (this screen)", views: &[], hint: true },
    Binding { keys: &["Esc"], action: Action::Back, help: "back / clear the filter", views: &[], hint: true },
    Binding { keys: &["q", "Ctrl-c"], action: Action::Quit, help: "quit", views: &[], hint: true },
    Binding {
        keys: &["d"],
        action: Action::Describe,
        help: "detail (describe) of the pod or node under the cursor, with recent events",
        views: &[Grid, Nodes],
        hint: false,
    },
    Binding {
        keys: &["]"],
        action: Action::NextProblem,
        help: "next problem: cell in the grid and matrix, row in lists",
        views: &[Ds, Grid, Matrix, Nodes, Rollout],
        hint: false,
    },
    Binding {
        keys: &["["],
        action: Action::PrevProblem,
        help: "previous problem: cell in the grid and matrix, row in lists",
        views: &[Ds, Grid, Matrix, Nodes, Rollout],
        hint: false,
    },
    Binding {
        keys: &["/"],
        action: Action::Search,
        help: "search the text (Enter keeps it, Esc clears)",
        views: &[View::Text],
        hint: true,
    },
    Binding { keys: &["n"], action: Action::NextMatch, help: "next match of the search", views: &[View::Text], hint: false },
    Binding { keys: &["N"], action: Action::PrevMatch, help: "previous match of the search", views: &[View::Text], hint: false },
    Binding { keys: &["w"], action: Action::Wrap, help: "wrap long lines (toggle)", views: &[View::Text], hint: true },
    // Last: the hint bar drops it first when the line is full.
    Binding {
        keys: &["J"],
        action: Action::Joins,
        help: "joins: the nodes that joined lately, time to usable, what went wrong",
        views: &[Nodes],
        hint: true,
    },
];

/// A `:` command (what it does is `App`'s business; this says what it is called).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Cmd {
    DaemonSets,
    Grid,
    Matrix,
    Nodes,
    Joins,
    Rollout,
    Context,
    Namespace,
    Roll,
    Drain,
    DryRun,
    Preflight,
    Quit,
}

pub struct Command {
    pub cmd: Cmd,
    /// The first name is the one shown; the others are accepted too.
    pub names: &'static [&'static str],
    pub args: &'static str,
    pub help: &'static str,
}

pub const COMMANDS: &[Command] = &[
    Command { cmd: Cmd::DaemonSets, names: &["ds", "daemonsets", "daemonset"], args: "", help: "the DaemonSets list (clears the history)" },
    Command { cmd: Cmd::Grid, names: &["grid", "coverage"], args: "", help: "coverage grid of the selected DaemonSet" },
    Command { cmd: Cmd::Matrix, names: &["matrix", "m"], args: "", help: "matrix of nodes × DaemonSets" },
    Command { cmd: Cmd::Nodes, names: &["nodes", "node", "no"], args: "", help: "the nodes" },
    Command { cmd: Cmd::Joins, names: &["joins", "join"], args: "", help: "the nodes that joined lately: time to usable, what went wrong" },
    Command { cmd: Cmd::Rollout, names: &["rollout", "rollouts", "ro"], args: "", help: "rollout progress" },
    Command {
        cmd: Cmd::Context,
        names: &["ctx", "context", "contexts"],
        args: "[name]",
        help: "switch kubeconfig context (a list without a name)",
    },
    Command {
        cmd: Cmd::Namespace,
        names: &["ns", "namespace", "namespaces"],
        args: "[name|all]",
        help: "watch one namespace or all (a list without a name)",
    },
    Command {
        cmd: Cmd::Roll,
        names: &["roll"],
        args: "[N [--drain]|pause|resume|abort]",
        help: "restart the DaemonSet N nodes at a time (OnDelete; --drain: cordon and drain each node first), or steer the roll under way",
    },
    Command {
        cmd: Cmd::Drain,
        names: &["drain"],
        args: "[flags]|pause|resume|abort",
        help: "drain the node under the cursor or the marked ones — flags: --grace D (each pod's grace period) and --timeout D (give a node up after D), both kept for the next D; --disable-eviction (delete the pods past their budgets; this drain only) — or pause, resume or stop the drain under way",
    },
    Command {
        cmd: Cmd::DryRun,
        names: &["dry-run", "dryrun"],
        args: "[on|off]",
        help: "send actions with dryRun=All (toggles without an argument)",
    },
    Command {
        cmd: Cmd::Preflight,
        names: &["preflight"],
        args: "FILE",
        help: "what if FILE's DaemonSets were applied now: each node's verdict and the rollout (nothing is applied; Esc leaves)",
    },
    Command { cmd: Cmd::Quit, names: &["q", "quit", "q!"], args: "", help: "quit" },
];

/// The command a typed word names.
pub fn command_named(word: &str) -> Option<&'static Command> {
    COMMANDS.iter().find(|c| c.names.contains(&word))
}

/// Commands whose name starts with what was typed so far (for completion).
pub fn complete(prefix: &str) -> impl Iterator<Item = &'static Command> {
    COMMANDS.iter().filter(move |c| c.names.iter().any(|n| n.starts_with(prefix)))
}

impl Command {
    /// `:name args`, as the help and completion show it.
    pub fn usage(&self) -> String {
        if self.args.is_empty() { format!(":{}", self.names[0]) } else { format!(":{} {}", self.names[0], self.args) }
    }
}

/// Every command's name, on one line (the help's `:` entry).
pub fn command_names() -> String {
    COMMANDS.iter().map(|c| format!(":{}", c.names[0])).collect::<Vec<_>>().join(" ")
}

/// What an unknown command is answered with: the names there are.
pub fn unknown_command(word: &str) -> String {
    let names: Vec<String> = COMMANDS.iter().map(|c| format!(":{}", c.names[0])).collect();
    format!("unknown command :{word} (try {})", names.join(", "))
}

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
        KeyCode::Tab => "Tab".into(),
        KeyCode::BackTab => "Shift-Tab".into(),
        _ => return None,
    })
}

/// The bindings of a view in the default table (what the docs list).
pub fn bindings_for(view: View, readonly: bool) -> impl Iterator<Item = &'static Binding> {
    BINDINGS.iter().filter(move |b| (b.views.is_empty() || b.views.contains(&view)) && !(readonly && b.action.is_mutating()))
}

/// A binding of a [`Keymap`]: a [`Binding`] with the keys in force.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Bound {
    pub keys: Vec<String>,
    pub action: Action,
    pub help: &'static str,
    pub views: &'static [View],
    pub hint: bool,
}

/// The key table in force: [`BINDINGS`] with some actions' keys moved (by the config).
/// Handling, the help and the hint bar all read the one the app holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Keymap {
    table: Vec<Bound>,
    moved: bool,
}

impl Default for Keymap {
    fn default() -> Self {
        Keymap::with_keys(&[])
    }
}

impl Keymap {
    /// BINDINGS with each action of `moved` bound to its keys instead, in every view.
    pub fn with_keys(moved: &[(Action, Vec<String>)]) -> Keymap {
        let table = BINDINGS
            .iter()
            .map(|b| Bound {
                keys: moved
                    .iter()
                    .find(|(a, _)| *a == b.action)
                    .map(|(_, k)| k.clone())
                    .unwrap_or_else(|| b.keys.iter().map(|k| k.to_string()).collect()),
                action: b.action,
                help: b.help,
                views: b.views,
                hint: b.hint,
            })
            .collect();
        Keymap { table, moved: !moved.is_empty() }
    }

    /// Whether some action's keys were moved.
    pub fn is_moved(&self) -> bool {
        self.moved
    }

    /// Every binding, in BINDINGS' order.
    pub fn bindings(&self) -> &[Bound] {
        &self.table
    }

    /// The bindings of a view (what the help and the hint bar show).
    pub fn bindings_for(&self, view: View, readonly: bool) -> impl Iterator<Item = &Bound> {
        self.table.iter().filter(move |b| (b.views.is_empty() || b.views.contains(&view)) && !(readonly && b.action.is_mutating()))
    }

    /// The action a key means in a view; under `--readonly` mutating keys mean nothing.
    pub fn action_for(&self, view: View, k: &KeyEvent, readonly: bool) -> Option<Action> {
        let name = key_name(k)?;
        self.bindings_for(view, readonly).find(|b| b.keys.contains(&name)).map(|b| b.action)
    }

    /// A key that means two actions in one view: (view, key, one action, the other).
    pub fn clash(&self) -> Option<(View, &str, Action, Action)> {
        for view in View::ALL {
            let mut seen: std::collections::BTreeMap<&str, Action> = std::collections::BTreeMap::new();
            for b in self.bindings_for(view, false) {
                for k in &b.keys {
                    if let Some(prev) = seen.insert(k, b.action)
                        && prev != b.action
                    {
                        return Some((view, k, prev, b.action));
                    }
                }
            }
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn no_key_means_two_things_in_one_view() {
        assert_eq!(Keymap::default().clash(), None);
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

    #[test]
    fn every_command_has_a_unique_name_and_is_in_the_usage() {
        let mut seen = std::collections::HashSet::new();
        for c in COMMANDS {
            for n in c.names {
                assert!(seen.insert(*n), "{n} names two commands");
                assert_eq!(command_named(n).map(|c| c.cmd), Some(c.cmd));
            }
            assert!(command_names().contains(&format!(":{}", c.names[0])));
            assert!(unknown_command("x").contains(&format!(":{}", c.names[0])));
        }
        assert!(command_names().contains(":roll") && command_names().contains(":dry-run"));
        assert_eq!(complete("ro").map(|c| c.cmd).collect::<Vec<_>>(), vec![Cmd::Rollout, Cmd::Roll]);
    }
}

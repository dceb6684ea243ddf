//! What the user's config file sets for the UI beyond colours and keys: the view to open
//! with, the grid's grouping label, the nodes view's extra label column, and where the
//! config came from (named in the help) with its problem, if any (shown at start); and
//! [`Settings`], everything the config sets up, which the terminal runner hands to the
//! single-cluster app and to the fleet alike.
//! Data only.
//!
//! May import: `shared` (View), `views::grid` (its default grouping), `keymap`, `theme`.

use std::sync::Arc;

use super::keymap::Keymap;
use super::shared::View;
use super::theme::Theme;

/// What the user's config sets up (the defaults without one; see `config`).
#[derive(Debug, Clone)]
pub struct Settings {
    /// Colours (NO_COLOR already applied).
    pub theme: Theme,
    /// First view, grid grouping, nodes label column, config path and problem.
    pub prefs: Prefs,
    /// The key table with the config's overrides (one for every app of a fleet).
    pub keymap: Arc<Keymap>,
    /// Mouse input wanted (`mouse = false` in the config, or `--no-mouse`, turns it off).
    pub mouse: bool,
    /// Why the config was not used (one line), if it was not.
    pub note: Option<String>,
}

impl Default for Settings {
    fn default() -> Self {
        Settings { theme: Theme::from_env(), prefs: Prefs::default(), keymap: Arc::default(), mouse: true, note: None }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Prefs {
    /// The view the TUI opens with (Esc returns to the DaemonSets list).
    pub view: View,
    /// The node label the coverage grid groups by (None: no grouping).
    pub group_by: Option<String>,
    /// A node label shown as an extra column of the nodes view.
    pub node_label: Option<String>,
    /// The config file, as shown to the user (`~/.config/daemonscope/config.toml`).
    pub config_path: Option<String>,
    /// Why the config was not used (one line), flashed on the hint bar at start.
    pub note: Option<String>,
    /// The DaemonSets a joining node needs (`namespace/name`; empty: the default rule).
    pub critical: Vec<String>,
}

impl Default for Prefs {
    fn default() -> Self {
        Prefs {
            view: View::DaemonSets,
            group_by: Some(super::views::grid::GROUP_KEYS[0].to_string()),
            node_label: None,
            config_path: None,
            note: None,
            critical: Vec::new(),
        }
    }
}

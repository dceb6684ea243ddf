//! What every view may read and the app owns: the model, the connection, the current
//! view, the filter, the marks and the status-line facts. A leaf module: it imports only
//! `model`, `cluster` types and `theme`, so `views` and `app` can both use it without a cycle.
//!
//! May import: `model`, `cluster` types, `ui::theme`.

use std::collections::BTreeSet;

use crate::cluster::live::LiveModel;
use crate::cluster::roll::RollStatus;
use crate::cluster::watch::Scope;
use crate::model::{DsInfo, Resource};

use super::theme::Theme;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum View {
    DaemonSets,
    Grid,
    Matrix,
    Rollout,
    Nodes,
    /// Detail of one object, with its Events.
    Detail,
    /// A text pane: YAML or a followed log.
    Text,
    /// The fleet table (several clusters; `ui::fleet`, never a view of one cluster's app).
    Fleet,
    /// The nodes that joined within the window, and one node's join timeline.
    Joins,
    /// `:preflight FILE`: what the file's DaemonSets would do if applied (nothing is).
    WhatIf,
}

impl View {
    pub const ALL: [View; 10] = [
        View::DaemonSets,
        View::Grid,
        View::Matrix,
        View::Rollout,
        View::Nodes,
        View::Detail,
        View::Text,
        View::Fleet,
        View::Joins,
        View::WhatIf,
    ];

    pub fn title(self) -> &'static str {
        match self {
            View::DaemonSets => "DaemonSets",
            View::Grid => "coverage grid",
            View::Matrix => "node × DaemonSet matrix",
            View::Rollout => "rollout progress",
            View::Nodes => "nodes",
            View::Detail => "detail",
            View::Text => "YAML / logs",
            View::Fleet => "fleet",
            View::Joins => "joining nodes",
            View::WhatIf => "what if (preflight)",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SortBy {
    Name,
    Problems,
    Coverage,
    /// The nodes view: the DaemonSet tax (`DS REQ`), highest first.
    DsReq,
}

impl SortBy {
    /// The next order of the nodes view: name, problems, the DaemonSet tax.
    pub fn next_for_nodes(self) -> SortBy {
        match self {
            SortBy::Name => SortBy::Problems,
            SortBy::Problems => SortBy::DsReq,
            _ => SortBy::Name,
        }
    }

    /// The next order `s` cycles to (Coverage only where a coverage column exists).
    pub fn next(self, with_coverage: bool) -> SortBy {
        match self {
            SortBy::Name => SortBy::Problems,
            SortBy::Problems if with_coverage => SortBy::Coverage,
            _ => SortBy::Name,
        }
    }
}

/// The state views read while drawing (the app changes it; views never do).
pub struct Shared {
    /// The model, each watch's sync state, the rollouts' pace and the ready signal: the
    /// one live model every front end reads (`cluster::live`).
    pub live: LiveModel,
    pub theme: Theme,
    pub context: String,
    /// The namespace scope the watches use.
    pub scope: Scope,
    pub readonly: bool,
    /// Send actions with `dryRun=All` (`:dry-run on|off`).
    pub dry_run: bool,
    pub view: View,
    pub filter: String,
    /// Marked nodes (Space), for actions on several nodes at once.
    pub marks: BTreeSet<String>,
    /// The DaemonSet the grid and the rollout view show.
    pub selected: Option<(String, String)>,
    /// The API server's URL, when known (named in the disconnected banner).
    pub server: Option<String>,
    /// The roll under way (or the last one), as its job reports it.
    pub roll: Option<RollStatus>,
    /// The drain under way (or the last one), as its job reports it.
    pub drain: Option<crate::cluster::drain_job::DrainStatus>,
    pub message: Option<String>,
    /// The config file the settings come from (named in the help).
    pub config_path: Option<String>,
    /// One of several clusters on screen (the fleet): confirmations name the context.
    pub name_context: bool,
    /// How the Joins view judges joining nodes (the window, the critical DaemonSets).
    pub joins: crate::model::joins::JoinSettings,
}

impl Shared {
    pub fn new(context: String, theme: Theme) -> Shared {
        Shared {
            live: LiveModel::new(&Resource::ALL),
            theme,
            context,
            scope: Scope::default(),
            readonly: false,
            dry_run: false,
            view: View::DaemonSets,
            filter: String::new(),
            marks: BTreeSet::new(),
            selected: None,
            server: None,
            roll: None,
            drain: None,
            message: None,
            config_path: None,
            name_context: false,
            joins: Default::default(),
        }
    }

    pub fn selected_ds(&self) -> Option<&DsInfo> {
        let (ns, name) = self.selected.as_ref()?;
        self.live.model.daemonset(ns, name)
    }
}

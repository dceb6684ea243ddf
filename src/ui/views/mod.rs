//! Views and popups, one file each. Each view owns its cursor and list state and draws
//! with `render(&mut self, frame, area, &Shared)`, recording what it laid out (rows that
//! fit, grid width) in its own state for key handling to read; nothing else is written
//! while drawing. Views import `shared`, `keymap`, `theme` (via `Shared`), `format` (and
//! its join trace widget, `format::timeline`), `model`, `k8s` and `cluster` types — never
//! `app`, never another view, never `sim`.
//!
//! May import: `ui::shared`, `ui::keymap`, `ui::theme`, `model`, `k8s`, `cluster` types.

pub mod chrome;
pub mod confirm;
pub mod daemonsets;
pub mod detail;
pub mod drain;
pub mod fleet;
pub mod format;
pub mod grid;
pub mod help;
pub mod joins;
pub mod matrix;
pub mod nodes;
pub mod picker;
pub mod rollout;
pub mod text;
pub mod whatif;

pub use confirm::Confirm;
pub use daemonsets::DaemonSetsView;
pub use detail::DetailView;
pub use grid::GridView;
pub use joins::JoinsView;
pub use matrix::MatrixView;
pub use nodes::NodesView;
pub use picker::{Picker, PickerKind};
pub use rollout::RolloutView;
pub use text::TextView;
pub use whatif::WhatIfView;

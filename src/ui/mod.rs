//! The terminal UI. `app` holds the state and its one update (`Msg` in, `Effect`s out);
//! `views` draw it, one file per view or popup, each owning its cursor; `keymap` is the
//! table of keys and `:` commands that drives handling, help and hints; `shared` is what
//! views read; `theme` the colours. Tested with ratatui's `TestBackend`.
//! `ui` may import `model`, `k8s` and `cluster` types; never `sim`.

mod app;
pub mod keymap;
mod shared;
mod theme;
mod views;

pub use app::{App, Mode, Msg, Session};
pub use keymap::Action;
pub use shared::{SortBy, View};
pub use theme::Theme;
pub use views::chrome::{MIN_HEIGHT, MIN_WIDTH};
pub use views::grid::GROUP_KEYS;
pub use views::text::TEXT_LINES;

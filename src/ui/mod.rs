//! The terminal UI. `app` holds the state and its one update (`Msg` in, `Effect`s out);
//! `views` draw it, one file per view or popup, each owning its cursor; `keymap` is the
//! table of keys and `:` commands that drives handling, help and hints; `shared` is what
//! views read; `theme` the colours; `prefs` what the config file sets; `outcome` what an
//! action did, in words; `fleet` holds one app per cluster and the fleet view. Tested with ratatui's `TestBackend`.
//! `ui` may import `model`, `k8s` and `cluster` types; never `sim`.

mod app;
pub mod filter;
mod fleet;
pub mod keymap;
pub mod outcome;
mod prefs;
mod shared;
mod theme;
mod views;

pub use app::{App, Mode, Msg, Session};
pub use fleet::FleetApp;
pub use keymap::{Action, Keymap};
pub use prefs::{Prefs, Settings};
pub use shared::{Shared, SortBy, View};
pub use theme::{Palette, Theme};
pub use views::chrome::{MIN_HEIGHT, MIN_WIDTH};
pub use views::grid::GROUP_KEYS;
pub use views::text::TEXT_LINES;
pub use views::{DetailView, JoinsView};

#[cfg(test)]
mod tests {
    /// Every `.rs` file under `src/ui/<dir>`, with its text.
    fn sources(dir: &str) -> Vec<(String, String)> {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src/ui").join(dir);
        let mut out = Vec::new();
        for e in std::fs::read_dir(&root).unwrap() {
            let p = e.unwrap().path();
            if p.extension().is_some_and(|x| x == "rs") {
                out.push((p.display().to_string(), std::fs::read_to_string(&p).unwrap()));
            }
        }
        out
    }

    /// The layering the module comments promise: no `sim` anywhere in the UI; views
    /// import neither the app nor each other (only the shared `format`); `shared` is a
    /// leaf; every file is at most 600 lines and says what it owns.
    #[test]
    fn ui_imports_follow_the_layers() {
        let all: Vec<(String, String)> = ["", "app", "views"].iter().flat_map(|d| sources(d)).collect();
        for (path, text) in &all {
            // Split so this test does not find itself.
            let (a, b) = (concat!("crate::", "sim"), concat!("daemonscope::", "sim"));
            assert!(!text.contains(a) && !text.contains(b), "{path} imports the simulator");
            assert!(text.lines().count() <= 600, "{path} is longer than 600 lines");
            assert!(text.starts_with("//!"), "{path} does not open with a //! comment");
        }
        for (path, text) in sources("views") {
            let code: String = text.lines().filter(|l| !l.trim_start().starts_with("//")).collect::<Vec<_>>().join("\n");
            assert!(!code.contains("ui::app") && !code.contains("super::super"), "{path} imports the app");
            if !path.ends_with("mod.rs") {
                for l in code.lines().filter(|l| l.contains("super::")) {
                    assert!(l.contains("super::format"), "{path} imports another view: {l}");
                }
                assert!(!code.contains("ui::views::"), "{path} imports another view");
            }
        }
        let shared = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/src/ui/shared.rs")).unwrap();
        assert!(!shared.contains("views::") && !shared.contains("app::"), "shared.rs must stay a leaf");
    }

    // The shared formatters of `views::format` (here: `views` may not import each other,
    // and the layering test above reads every `super::` line of a view).
    mod format {
        use crate::ui::views::format::{Col, common_prefix, fit_columns, middle, shorten, wrap};

        #[test]
        fn shortened_names_keep_the_part_that_differs() {
            let names = ["pool-a-ip-10-0-100-1.internal", "pool-a-ip-10-0-100-12.internal"];
            let p = common_prefix(names);
            assert_eq!(p, "pool-a-ip-10-0-100-".len());
            assert_eq!(common_prefix(["abc", "xyz"]), 0);
            assert_eq!(common_prefix(Vec::<&str>::new()), 0);
            assert_eq!(shorten(names[0], 14, p), "poo…1.internal");
            assert_eq!(shorten(names[1], 14, p), "po…12.internal");
            assert_eq!(shorten("short", 14, 0), "short");
            // Nothing shared: the middle goes.
            assert_eq!(shorten("general-a-0005", 11, 0), "gener…-0005");
            // EKS: the shared prefix and suffix are long; the part that differs stays.
            let eks = ["ip-192-168-0-5.us-west-2.compute.internal", "ip-192-168-0-15.us-west-2.compute.internal"];
            let (p, sfx) = (common_prefix(eks), crate::ui::views::format::common_suffix(eks));
            assert_eq!((p, sfx), (13, 27));
            assert_eq!(crate::ui::views::format::shorten_between(eks[0], 29, p, sfx), "ip-192-168-0-5…mpute.internal");
            assert_eq!(crate::ui::views::format::shorten_between(eks[1], 14, p, sfx), "ip-192-168-…15");
        }

        #[test]
        fn wrapping_keeps_every_word() {
            assert_eq!(wrap("a bb ccc dddd", 6), vec!["a bb", "ccc", "dddd"]);
            assert_eq!(wrap("abcdefgh", 3), vec!["abc", "def", "gh"]);
            assert_eq!(wrap("", 5), vec![""]);
            let long = "taint the node (or the marked ones): key=value:Effect adds, key:Effect- or key- removes";
            let lines = wrap(long, 20);
            assert!(lines.iter().all(|l| l.chars().count() <= 20), "{lines:?}");
            assert_eq!(lines.join(" "), long);
        }

        #[test]
        fn names_are_shortened_in_the_middle() {
            assert_eq!(middle("general-a-0005", 14), "general-a-0005");
            assert_eq!(middle("general-a-0005", 11), "gener…-0005");
            assert_eq!(middle("general-a-0005", 1), "…");
            assert_eq!(middle("abc", 0), "");
            assert_eq!(middle("general-a-0005", 11).chars().count(), 11);
        }

        #[test]
        fn low_priority_columns_drop_first_and_priority_zero_never() {
            let cols = [Col { prio: 0, width: 10 }, Col { prio: 2, width: 5 }, Col { prio: 1, width: 5 }, Col { prio: 2, width: 5 }];
            assert_eq!(fit_columns(&cols, 40), vec![0, 1, 2, 3]);
            assert_eq!(fit_columns(&cols, 23), vec![0, 1, 2]);
            assert_eq!(fit_columns(&cols, 20), vec![0, 2]);
            assert_eq!(fit_columns(&cols, 3), vec![0]);
        }
    }
}

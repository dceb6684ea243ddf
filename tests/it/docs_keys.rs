//! The key documentation against the keymap (`src/ui/keymap.rs`, the one table that also
//! handles the keys and makes the help and the hint bar), so the docs cannot drift:
//!
//! - `docs/keys.md` lists every key in exactly the views where it acts, and every `:`
//!   command;
//! - the README's short key table lists exactly the keymap's keys and every `:` command.

use std::collections::BTreeSet;

use daemonscope::ui::View;
use daemonscope::ui::keymap::{BINDINGS, COMMANDS};

fn read(rel: &str) -> String {
    std::fs::read_to_string(std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(rel)).unwrap_or_else(|e| panic!("{rel}: {e}"))
}

/// The body rows of the first table after the line `heading`, as cells.
fn table(text: &str, heading: &str) -> Vec<Vec<String>> {
    let after = format!("\n{text}");
    let after = after.split(&format!("\n{heading}\n")).nth(1).unwrap_or_else(|| panic!("a `{heading}` section"));
    after
        .lines()
        .skip_while(|l| !l.starts_with('|'))
        .take_while(|l| l.starts_with('|'))
        .skip(2)
        .map(|row| row.trim().trim_matches('|').split(" | ").map(|c| c.trim().to_string()).collect())
        .collect()
}

/// The `code spans` of a cell.
fn ticks(cell: &str) -> Vec<String> {
    cell.split('`').skip(1).step_by(2).map(str::to_string).collect()
}

fn view_named(word: &str) -> View {
    match word {
        "DaemonSets" => View::DaemonSets,
        "grid" => View::Grid,
        "matrix" => View::Matrix,
        "rollout" => View::Rollout,
        "nodes" => View::Nodes,
        "detail" => View::Detail,
        "text" => View::Text,
        "fleet" => View::Fleet,
        "joins" => View::Joins,
        other => {
            panic!("no view is called {other:?} (all, all but text, DaemonSets, grid, matrix, rollout, nodes, detail, text, fleet, joins)")
        }
    }
}

/// A views cell: `all`, `all but text` (every view of one cluster but the text pane), or
/// a comma-separated list of views.
fn views(cell: &str) -> Vec<View> {
    match cell {
        "all" => View::ALL.to_vec(),
        "all but text" => View::ALL.into_iter().filter(|v| !matches!(v, View::Text | View::Fleet)).collect(),
        list => list.split(',').map(|w| view_named(w.trim())).collect(),
    }
}

/// `(key, view)` for every key of the keymap in every view where it acts.
fn keymap_pairs() -> BTreeSet<(String, String)> {
    BINDINGS
        .iter()
        .flat_map(|b| {
            let vs = if b.views.is_empty() { View::ALL.to_vec() } else { b.views.to_vec() };
            b.keys.iter().flat_map(move |k| vs.clone().into_iter().map(move |v| (k.to_string(), format!("{v:?}"))))
        })
        .collect()
}

/// The first name of every command the `:` row's cell names (`:roll N` → `roll`).
fn commands_in(cell: &str) -> BTreeSet<String> {
    ticks(cell).iter().filter_map(|t| t.strip_prefix(':')).map(|c| c.split_whitespace().next().unwrap_or("").to_string()).collect()
}

fn keymap_commands() -> BTreeSet<String> {
    COMMANDS.iter().map(|c| c.names[0].to_string()).collect()
}

/// docs/keys.md's table against the keymap: the same (key, view) pairs, every command.
fn check_keys_page(page: &str) -> Result<(), String> {
    let rows = table(page, "# Keys");
    if rows.is_empty() {
        return Err("docs/keys.md has no key table".into());
    }
    let mut pairs = BTreeSet::new();
    let mut cmds = BTreeSet::new();
    for row in &rows {
        let [keys, vs, action] = &row[..] else { return Err(format!("not a row of three cells: {row:?}")) };
        for k in ticks(keys) {
            for v in views(vs) {
                pairs.insert((k.clone(), format!("{v:?}")));
            }
        }
        if keys == "`:`" {
            cmds.extend(commands_in(action));
        }
    }
    let want = keymap_pairs();
    let missing: Vec<_> = want.difference(&pairs).collect();
    let extra: Vec<_> = pairs.difference(&want).collect();
    if !missing.is_empty() || !extra.is_empty() {
        return Err(format!(
            "docs/keys.md and the keymap differ: (key, view) missing from the page {missing:?}, not in the keymap {extra:?}"
        ));
    }
    if cmds != keymap_commands() {
        return Err(format!("docs/keys.md's `:` row names {cmds:?}, the keymap has {:?}", keymap_commands()));
    }
    Ok(())
}

#[test]
fn the_keys_page_lists_every_key_in_its_views_and_every_command() {
    check_keys_page(&read("docs/keys.md")).unwrap();
}

/// The check fails when the page says a key acts in a view where it does not, or leaves
/// one out.
#[test]
fn the_keys_page_check_sees_drift() {
    let page = read("docs/keys.md");
    let wrong_view = page.replacen("| `X` | grid |", "| `X` | grid, nodes |", 1);
    assert_ne!(wrong_view, page, "the page has X's row as the check expects");
    assert!(check_keys_page(&wrong_view).unwrap_err().contains("(\"X\", \"Nodes\")"));
    let no_wrap: String = page.lines().filter(|l| !l.starts_with("| `w` |")).map(|l| format!("{l}\n")).collect();
    assert!(check_keys_page(&no_wrap).unwrap_err().contains("(\"w\", \"Text\")"));
    let no_quit = page.replacen("`:q`", "quit", 1);
    assert_ne!(no_quit, page);
    assert!(check_keys_page(&no_quit).unwrap_err().contains("`:` row"));
}

/// The README's short table lists exactly the keymap's keys, and its `:` row every command.
#[test]
fn the_readme_key_table_matches_the_keymap() {
    let rows = table(&read("README.md"), "## Keys");
    assert!(!rows.is_empty(), "a key table under the README's `## Keys`");
    let mut keys = BTreeSet::new();
    let mut cmds = BTreeSet::new();
    for row in &rows {
        keys.extend(ticks(&row[0]));
        if row[0] == "`:`" {
            cmds.extend(commands_in(row.get(1).map_or("", String::as_str)));
        }
    }
    let keymap_keys: BTreeSet<String> = BINDINGS.iter().flat_map(|b| b.keys.iter().map(|k| k.to_string())).collect();
    assert_eq!(keys, keymap_keys, "the README's key table and the keymap list the same keys");
    assert_eq!(cmds, keymap_commands(), "the README's `:` row names every command, and only those");
}

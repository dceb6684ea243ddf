//! The import rules of `src/`, read from the code's own `use` lines and paths, so the
//! layering stays true as the code changes:
//!
//! - [`MAY_IMPORT`]: the one table of which top-level unit of `src/` (a file or a
//!   directory beside `lib.rs`) may import which other; every unit has a row, and every
//!   file of `src/` is checked against its unit's row (this table is the only place these
//!   rules live: `docs/architecture.md` draws it, `src/lib.rs` describes the units);
//! - no import cycle between files;
//! - no file in `src/` is longer than 600 lines.
//!
//! A path names the file that defines the longest module prefix of it (`crate::model::Model`
//! is `src/model/mod.rs`, which re-exports it). `mod x;` declarations are not imports;
//! test modules (from `#[cfg(test)]` on) are not read.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

const MAX_LINES: usize = 600;

/// Which top-level unit may import which other (a unit may always import itself). A unit
/// is a file beside `lib.rs` (`tui.rs` is `tui`) or a directory (`model/` is `model`);
/// `lib` (`lib.rs`) only declares the modules, `main` (`main.rs`) is the binary's dispatch.
/// Only `main` imports `sim`, so the client builds without the simulator
/// (`cargo check --lib --no-default-features`).
const MAY_IMPORT: &[(&str, &[&str])] = &[
    // Kubernetes rules both sides use: eligibility, selectors, labels, int-or-percent.
    ("k8s", &[]),
    // The client's cluster model: pure, no I/O.
    ("model", &["k8s"]),
    // The client's I/O: kubeconfig, list-then-watch, jobs, actions, the roll, snapshot.
    ("cluster", &["model", "k8s"]),
    // The terminal UI's state and views.
    ("ui", &["cluster", "model", "k8s"]),
    // The one terminal runner (raw mode, mouse, signals, panic hook); one cluster's loop
    // on it; the fleet's loop on it.
    ("runner", &["ui"]),
    ("tui", &["runner", "ui", "cluster"]),
    ("fleet_tui", &["runner", "tui", "ui", "cluster"]),
    // Flags, the log, the settings file.
    ("cli", &["k8s"]),
    ("logging", &[]),
    ("config", &["ui", "cli", "logging", "model", "k8s"]),
    // `daemonscope status` and `daemonscope serve`.
    ("status", &["cli", "cluster", "model", "k8s"]),
    ("serve", &["status", "cli", "cluster", "model", "k8s"]),
    // `daemonscope drain`.
    ("drain", &["cli", "cluster", "model", "k8s"]),
    // `daemonscope preflight`.
    ("preflight", &["status", "cli", "cluster", "model", "k8s"]),
    // The simulated cluster (the `sim` feature).
    ("sim", &["k8s"]),
    ("lib", &[]),
    ("main", &["sim", "serve", "status", "drain", "preflight", "config", "fleet_tui", "tui", "runner", "cli", "logging", "cluster", "k8s"]),
];

struct Source {
    /// The module path of the file (`["model", "index"]`; `[]` for lib.rs and main.rs).
    module: Vec<String>,
    /// Child modules declared with `mod x;` (relative `use x::…` paths start with them).
    children: BTreeSet<String>,
    /// `main.rs`: its `crate::` is the binary itself, and it reaches the library as
    /// `daemonscope::…`.
    is_bin: bool,
    text: String,
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            rust_files(&p, out);
        } else if p.extension().is_some_and(|x| x == "rs") {
            out.push(p);
        }
    }
}

fn module_of(rel: &Path) -> Vec<String> {
    let mut parts: Vec<String> = rel.iter().map(|s| s.to_string_lossy().into_owned()).collect();
    let last = parts.pop().unwrap();
    let stem = last.trim_end_matches(".rs");
    if !matches!(stem, "mod" | "lib" | "main") {
        parts.push(stem.to_string());
    }
    parts
}

/// The code without comments and string literals, up to the first `#[cfg(test)]`.
fn code(text: &str) -> String {
    let text = match text.find("#[cfg(test)]") {
        Some(i) => &text[..i],
        None => text,
    };
    let mut out = String::with_capacity(text.len());
    let b: Vec<char> = text.chars().collect();
    let mut i = 0;
    while i < b.len() {
        if b[i] == '/' && b.get(i + 1) == Some(&'/') {
            while i < b.len() && b[i] != '\n' {
                i += 1;
            }
        } else if b[i] == '/' && b.get(i + 1) == Some(&'*') {
            i += 2;
            while i + 1 < b.len() && !(b[i] == '*' && b[i + 1] == '/') {
                i += 1;
            }
            i += 2;
        } else if b[i] == '"' {
            // A raw string's hashes are rare here; a plain string ends at an unescaped quote.
            i += 1;
            while i < b.len() && b[i] != '"' {
                if b[i] == '\\' {
                    i += 1;
                }
                i += 1;
            }
            i += 1;
            out.push_str("\"\"");
        } else if b[i] == '\'' && b.get(i + 2) == Some(&'\'') {
            // A char literal such as '{' (lifetimes have no closing quote two along).
            i += 3;
            out.push_str("' '");
        } else if b[i] == '\'' && b.get(i + 1) == Some(&'\\') {
            i += 2;
            while i < b.len() && b[i] != '\'' {
                i += 1;
            }
            i += 1;
            out.push_str("' '");
        } else {
            out.push(b[i]);
            i += 1;
        }
    }
    out
}

/// Every path of a `use` tree: `a::{b, c::{d, e}}` → `a::b`, `a::c::d`, `a::c::e`.
fn expand(tree: &str) -> Vec<String> {
    let tree: String = tree.chars().filter(|c| !c.is_whitespace()).collect();
    fn go(prefix: &str, t: &str, out: &mut Vec<String>) {
        match t.find('{') {
            None => out.push(format!("{prefix}{t}")),
            Some(open) => {
                let head = &t[..open];
                let inner = &t[open + 1..t.rfind('}').unwrap()];
                let mut depth = 0;
                let mut start = 0;
                let chars: Vec<char> = inner.chars().collect();
                for (i, c) in chars.iter().enumerate() {
                    match c {
                        '{' => depth += 1,
                        '}' => depth -= 1,
                        ',' if depth == 0 => {
                            let part: String = chars[start..i].iter().collect();
                            if !part.is_empty() {
                                go(&format!("{prefix}{head}"), &part, out);
                            }
                            start = i + 1;
                        }
                        _ => {}
                    }
                }
                let part: String = chars[start..].iter().collect();
                if !part.is_empty() {
                    go(&format!("{prefix}{head}"), &part, out);
                }
            }
        }
    }
    let mut out = Vec::new();
    go("", &tree, &mut out);
    out
}

fn is_ident_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '_'
}

/// Paths of ours a file names: its `use` trees, and `crate::`/`super::`/`self::` paths inline.
fn paths(src: &Source) -> Vec<Vec<String>> {
    let code = code(&src.text);
    let mut raw: Vec<String> = Vec::new();
    // `use` statements (possibly `pub use`, over several lines).
    let mut rest = code.as_str();
    while let Some(i) = rest.find("use ") {
        let before = rest[..i].chars().last();
        let after = &rest[i + 4..];
        if before.is_none_or(|c| !is_ident_char(c)) {
            let end = after.find(';').unwrap_or(after.len());
            raw.extend(expand(&after[..end]));
            rest = &after[end..];
        } else {
            rest = after;
        }
    }
    // Inline paths.
    for start in ["crate::", "super::", "self::", "daemonscope::"] {
        let mut from = 0;
        while let Some(i) = code[from..].find(start) {
            let at = from + i;
            from = at + start.len();
            if code[..at].chars().last().is_some_and(|c| is_ident_char(c) || c == ':') {
                continue;
            }
            let p: String = code[at..].chars().take_while(|c| is_ident_char(*c) || *c == ':').collect();
            raw.push(p);
        }
    }
    let mut out = Vec::new();
    for p in raw {
        let p = p.split(" as ").next().unwrap().trim_end_matches("::").to_string();
        let segs: Vec<String> = p.split("::").filter(|s| !s.is_empty()).map(String::from).collect();
        let Some(first) = segs.first() else { continue };
        let abs: Vec<String> = match first.as_str() {
            // The binary's own items (its inline modules, its functions): not the library.
            "crate" | "self" | "super" if src.is_bin => continue,
            "daemonscope" if src.is_bin => segs[1..].to_vec(),
            "crate" => segs[1..].to_vec(),
            "self" => src.module.iter().cloned().chain(segs[1..].iter().cloned()).collect(),
            "super" => {
                let mut m = src.module.clone();
                let mut i = 0;
                while segs.get(i).is_some_and(|s| s == "super") {
                    m.pop();
                    i += 1;
                }
                m.into_iter().chain(segs[i..].iter().cloned()).collect()
            }
            child if src.children.contains(child) => src.module.iter().cloned().chain(segs.iter().cloned()).collect(),
            _ => continue,
        };
        out.push(abs.into_iter().filter(|s| s != "*" && s != "self").collect());
    }
    out
}

struct Tree {
    files: BTreeMap<String, Source>,
    /// Module path → file (relative to src/).
    by_module: BTreeMap<Vec<String>, String>,
}

fn tree() -> Tree {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut all = Vec::new();
    rust_files(&root, &mut all);
    let mut files = BTreeMap::new();
    let mut by_module = BTreeMap::new();
    for p in all {
        let rel = p.strip_prefix(&root).unwrap().to_path_buf();
        let text = std::fs::read_to_string(&p).unwrap();
        let module = module_of(&rel);
        let children = text
            .lines()
            .filter_map(|l| {
                let l = l.trim();
                let l = l.strip_prefix("pub ").or_else(|| l.strip_prefix("pub(crate) ")).unwrap_or(l);
                l.strip_prefix("mod ")?.strip_suffix(';').map(String::from)
            })
            .collect();
        let name = rel.to_string_lossy().into_owned();
        if name != "main.rs" {
            by_module.insert(module.clone(), name.clone());
        }
        let is_bin = name == "main.rs";
        files.insert(name, Source { module, children, is_bin, text });
    }
    Tree { files, by_module }
}

impl Tree {
    fn resolve(&self, path: &[String]) -> Option<&str> {
        (0..=path.len()).rev().find_map(|n| self.by_module.get(&path[..n]).map(String::as_str))
    }

    /// file → the other files it imports.
    fn edges(&self) -> BTreeMap<&str, BTreeSet<&str>> {
        let mut out: BTreeMap<&str, BTreeSet<&str>> = BTreeMap::new();
        for (name, src) in &self.files {
            let e = out.entry(name.as_str()).or_default();
            for p in paths(src) {
                if let Some(to) = self.resolve(&p)
                    && to != name
                {
                    e.insert(to);
                }
            }
        }
        out
    }
}

fn top(file: &str) -> &str {
    file.split('/').next().unwrap().trim_end_matches(".rs")
}

#[test]
fn no_import_cycle_between_files() {
    let t = tree();
    let edges = t.edges();
    // Tarjan's strongly connected components.
    struct S<'a> {
        edges: &'a BTreeMap<&'a str, BTreeSet<&'a str>>,
        index: BTreeMap<&'a str, usize>,
        low: BTreeMap<&'a str, usize>,
        stack: Vec<&'a str>,
        on: BTreeSet<&'a str>,
        cycles: Vec<Vec<&'a str>>,
    }
    fn visit<'a>(s: &mut S<'a>, v: &'a str) {
        let i = s.index.len();
        s.index.insert(v, i);
        s.low.insert(v, i);
        s.stack.push(v);
        s.on.insert(v);
        for &w in s.edges.get(v).into_iter().flatten() {
            if !s.index.contains_key(w) {
                visit(s, w);
                let lw = s.low[w];
                let lv = s.low.get_mut(v).unwrap();
                *lv = (*lv).min(lw);
            } else if s.on.contains(w) {
                let iw = s.index[w];
                let lv = s.low.get_mut(v).unwrap();
                *lv = (*lv).min(iw);
            }
        }
        if s.low[v] == s.index[v] {
            let mut c = Vec::new();
            while let Some(w) = s.stack.pop() {
                s.on.remove(w);
                c.push(w);
                if w == v {
                    break;
                }
            }
            if c.len() > 1 {
                c.sort();
                s.cycles.push(c);
            }
        }
    }
    let mut s = S { edges: &edges, index: BTreeMap::new(), low: BTreeMap::new(), stack: vec![], on: BTreeSet::new(), cycles: vec![] };
    for &v in edges.keys() {
        if !s.index.contains_key(v) {
            visit(&mut s, v);
        }
    }
    let shown: Vec<String> = s
        .cycles
        .iter()
        .map(|c| {
            let ties: Vec<String> =
                c.iter().flat_map(|a| edges[a].iter().filter(|b| c.contains(b)).map(move |b| format!("{a} -> {b}"))).collect();
            ties.join(", ")
        })
        .collect();
    assert!(shown.is_empty(), "import cycles between files in src/:\n{}", shown.join("\n"));
}

/// The imports of `edges` that `table` does not allow, as `from -> to` lines.
fn forbidden(edges: &BTreeMap<&str, BTreeSet<&str>>, table: &[(&str, &[&str])]) -> Vec<String> {
    let mut bad = Vec::new();
    for (from, tos) in edges {
        let unit = top(from);
        let Some((_, may)) = table.iter().find(|(u, _)| *u == unit) else {
            bad.push(format!("{from}: its unit `{unit}` has no row in MAY_IMPORT"));
            continue;
        };
        for to in tos {
            if top(to) != unit && !may.contains(&top(to)) {
                bad.push(format!("{from} -> {to}"));
            }
        }
    }
    bad
}

#[test]
fn layers_import_only_what_they_may() {
    let t = tree();
    let bad = forbidden(&t.edges(), MAY_IMPORT);
    assert!(bad.is_empty(), "imports MAY_IMPORT (in this test) does not allow:\n{}", bad.join("\n"));
}

/// Every top-level unit of `src/` has exactly one row, and every row names a unit that
/// exists (and only units that exist among the arrows): a new module must be placed.
#[test]
fn the_table_binds_every_top_level_unit() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let units: BTreeSet<String> = std::fs::read_dir(&root)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.is_dir() || p.extension().is_some_and(|x| x == "rs"))
        .map(|p| p.file_stem().unwrap().to_string_lossy().into_owned())
        .collect();
    let rows: Vec<&str> = MAY_IMPORT.iter().map(|(u, _)| *u).collect();
    let in_table: BTreeSet<String> = rows.iter().map(|u| u.to_string()).collect();
    assert_eq!(rows.len(), in_table.len(), "a unit with two rows: {rows:?}");
    assert_eq!(units, in_table, "the units in src/ and the rows of MAY_IMPORT");
    for (u, may) in MAY_IMPORT {
        for m in *may {
            assert!(in_table.contains(*m), "{u} may import `{m}`, which is no unit");
            assert_ne!(m, u, "{u} names itself (always allowed)");
        }
    }
    // lib.rs declares exactly the units that are modules (all but lib and main).
    let lib = std::fs::read_to_string(root.join("lib.rs")).unwrap();
    let declared: BTreeSet<String> =
        lib.lines().filter_map(|l| l.trim().strip_prefix("pub mod ")?.strip_suffix(';').map(String::from)).collect();
    let modules: BTreeSet<String> = units.iter().filter(|u| *u != "lib" && *u != "main").cloned().collect();
    assert_eq!(declared, modules, "lib.rs's modules and the units in src/");
    // Only the binary's dispatch imports the simulator.
    let sim_importers: Vec<&str> = MAY_IMPORT.iter().filter(|(_, may)| may.contains(&"sim")).map(|(u, _)| *u).collect();
    assert_eq!(sim_importers, vec!["main"]);
}

/// `docs/architecture.md` draws this table in words (`| unit | may import |`): it must say
/// the same, so the rules have one home and the page cannot drift from it.
#[test]
fn the_architecture_page_says_what_the_table_says() {
    let page = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/architecture.md")).unwrap();
    let rows: BTreeMap<String, BTreeSet<String>> = page
        .lines()
        .skip_while(|l| *l != "| unit | may import |")
        .skip(2)
        .take_while(|l| l.starts_with('|'))
        .map(|l| {
            let cells: Vec<&str> = l.trim_matches('|').split('|').map(str::trim).collect();
            let ticks = |c: &str| -> Vec<String> { c.split('`').skip(1).step_by(2).map(String::from).collect() };
            (ticks(cells[0]).concat(), ticks(cells[1]).into_iter().collect())
        })
        .collect();
    let table: BTreeMap<String, BTreeSet<String>> =
        MAY_IMPORT.iter().map(|(u, may)| (u.to_string(), may.iter().map(|m| m.to_string()).collect())).collect();
    assert_eq!(rows, table, "docs/architecture.md's `| unit | may import |` table and MAY_IMPORT");
}

#[test]
fn no_file_in_src_is_over_600_lines() {
    let t = tree();
    let long: Vec<String> = t
        .files
        .iter()
        .filter(|(_, s)| s.text.lines().count() > MAX_LINES)
        .map(|(n, s)| format!("{n}: {} lines", s.text.lines().count()))
        .collect();
    assert!(long.is_empty(), "files over {MAX_LINES} lines (split them by concern):\n{}", long.join("\n"));
}

/// The checker itself: a cycle and a forbidden import it must see.
#[test]
fn the_checker_reads_use_trees_and_relative_paths() {
    assert_eq!(expand("crate::a::{b, c::{d, e}}"), vec!["crate::a::b", "crate::a::c::d", "crate::a::c::e"]);
    let src = Source {
        module: vec!["model".into(), "index".into()],
        children: BTreeSet::new(),
        is_bin: false,
        text: "use super::coverage::{self, Cell};\n// crate::sim::x in a comment\nfn f() { crate::k8s::labels::parse(\"crate::sim\"); }\n#[cfg(test)]\nmod tests { use crate::sim::Y; }".into(),
    };
    let p = paths(&src);
    assert!(p.contains(&vec!["model".to_string(), "coverage".into()]), "{p:?}");
    assert!(p.contains(&vec!["k8s".to_string(), "labels".into(), "parse".into()]), "{p:?}");
    assert!(!p.iter().any(|p| p.first().is_some_and(|s| s == "sim")), "comments, strings and tests are not imports: {p:?}");
    // The binary reaches the library as `daemonscope::`; its `crate::` is itself.
    let bin = Source {
        module: vec![],
        children: BTreeSet::new(),
        is_bin: true,
        text: "use daemonscope::sim::cli::SimArgs;\nmod inner { use super::run; }\nfn f() { crate::g(); daemonscope::status::run(); }"
            .into(),
    };
    let p: BTreeSet<Vec<String>> = paths(&bin).into_iter().collect();
    let want: BTreeSet<Vec<String>> =
        [vec!["sim".to_string(), "cli".into(), "SimArgs".into()], vec!["status".to_string(), "run".into()]].into();
    assert_eq!(p, want);
    // An arrow the table does not have is reported; one it has, or a unit's own, is not.
    let mut edges: BTreeMap<&str, BTreeSet<&str>> = BTreeMap::new();
    edges.entry("status/mod.rs").or_default().extend(["tui.rs", "model/mod.rs", "status/report.rs"]);
    edges.entry("newunit.rs").or_default();
    let bad = forbidden(&edges, MAY_IMPORT);
    assert_eq!(bad, vec!["newunit.rs: its unit `newunit` has no row in MAY_IMPORT".to_string(), "status/mod.rs -> tui.rs".into()]);
}

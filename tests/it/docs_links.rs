//! The README and every page of `docs/` hold together:
//!
//! - every relative markdown link (`[text](path)`, `[text](path#anchor)`, `[text](#anchor)`)
//!   names a file or directory that exists, and every `#anchor` a heading of the target
//!   page, by GitHub's rules (lowercase; punctuation but `-` and `_` dropped; spaces become
//!   `-`; a repeated heading gets `-1`, `-2`…). Links outside the repository (`http:`,
//!   `https:`, `mailto:`) are not fetched;
//! - every embedded screen capture (a fenced block right after `<!-- capture: FILE -->`)
//!   is exactly that file of `assets/`, and the README embeds exactly one.
//!
//! Fenced code blocks are neither links nor headings.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Component, Path, PathBuf};

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// README.md and docs/*.md, relative to the repository, with their text.
fn pages() -> BTreeMap<PathBuf, String> {
    let mut out = BTreeMap::new();
    out.insert(PathBuf::from("README.md"), std::fs::read_to_string(root().join("README.md")).unwrap());
    for e in std::fs::read_dir(root().join("docs")).unwrap() {
        let p = e.unwrap().path();
        if p.extension().is_some_and(|x| x == "md") {
            let rel = p.strip_prefix(root()).unwrap().to_path_buf();
            out.insert(rel, std::fs::read_to_string(&p).unwrap());
        }
    }
    out
}

/// The lines outside fenced code blocks, with their 1-based numbers.
fn prose(md: &str) -> impl Iterator<Item = (usize, &str)> {
    let mut fenced = false;
    md.lines().enumerate().filter_map(move |(i, l)| {
        if l.trim_start().starts_with("```") {
            fenced = !fenced;
            return None;
        }
        (!fenced).then_some((i + 1, l))
    })
}

/// GitHub's anchor for a heading's text.
fn slug(heading: &str) -> String {
    heading
        .trim()
        .to_lowercase()
        .chars()
        .filter(|c| c.is_alphanumeric() || matches!(c, '-' | '_' | ' '))
        .map(|c| if c == ' ' { '-' } else { c })
        .collect()
}

/// The anchors of a page's headings (`#`…`######`), repeated ones numbered as GitHub does.
fn anchors(md: &str) -> BTreeSet<String> {
    let mut seen: BTreeMap<String, usize> = BTreeMap::new();
    let mut out = BTreeSet::new();
    for (_, l) in prose(md) {
        let hashes = l.chars().take_while(|c| *c == '#').count();
        if !(1..=6).contains(&hashes) || !l[hashes..].starts_with(' ') {
            continue;
        }
        let s = slug(&l[hashes..]);
        let n = seen.entry(s.clone()).or_insert(0);
        out.insert(if *n == 0 { s.clone() } else { format!("{s}-{n}") });
        *n += 1;
    }
    out
}

/// The targets of a page's inline links and images, with their line numbers (code spans
/// are not read).
fn links(md: &str) -> Vec<(usize, String)> {
    let mut out = Vec::new();
    for (n, l) in prose(md) {
        let text: String = l.split('`').step_by(2).collect::<Vec<_>>().join(" ");
        let mut rest = text.as_str();
        while let Some(i) = rest.find("](") {
            let after = &rest[i + 2..];
            let Some(end) = after.find(')') else { break };
            let target = after[..end].split_whitespace().next().unwrap_or("").to_string();
            out.push((n, target));
            rest = &after[end..];
        }
    }
    out
}

/// `base/../x` → `x`; None when it climbs out of the repository.
fn normalize(p: &Path) -> Option<PathBuf> {
    let mut out = PathBuf::new();
    for c in p.components() {
        match c {
            Component::ParentDir => {
                if !out.pop() {
                    return None;
                }
            }
            Component::CurDir => {}
            other => out.push(other),
        }
    }
    Some(out)
}

/// Every broken link of `pages` (repository-relative path → text), as `page:line: why`.
/// A target that is not among `pages` is looked for on disk under `root`.
fn broken_links(root: &Path, pages: &BTreeMap<PathBuf, String>) -> Vec<String> {
    let mut bad = Vec::new();
    for (page, text) in pages {
        for (line, target) in links(text) {
            if target.is_empty() {
                bad.push(format!("{}:{line}: an empty link", page.display()));
                continue;
            }
            if ["http://", "https://", "mailto:"].iter().any(|s| target.starts_with(s)) {
                continue;
            }
            let (path, anchor) = match target.split_once('#') {
                Some((p, a)) => (p, Some(a)),
                None => (target.as_str(), None),
            };
            let file = if path.is_empty() { Some(page.clone()) } else { normalize(&page.parent().unwrap_or(Path::new("")).join(path)) };
            let Some(file) = file else {
                bad.push(format!("{}:{line}: {target}: outside the repository", page.display()));
                continue;
            };
            let on_disk = root.join(&file);
            if !pages.contains_key(&file) && !on_disk.exists() {
                bad.push(format!("{}:{line}: {target}: no such file {}", page.display(), file.display()));
                continue;
            }
            let Some(anchor) = anchor else { continue };
            let target_text = match pages.get(&file) {
                Some(t) => t.clone(),
                None if file.extension().is_some_and(|x| x == "md") => std::fs::read_to_string(&on_disk).unwrap_or_default(),
                None => {
                    bad.push(format!("{}:{line}: {target}: an anchor into a file that is not markdown", page.display()));
                    continue;
                }
            };
            if !anchors(&target_text).contains(anchor) {
                bad.push(format!("{}:{line}: {target}: {} has no heading #{anchor}", page.display(), file.display()));
            }
        }
    }
    bad
}

/// Every embedded capture that is not its file, as `page:line: why`; and how many each
/// page embeds.
fn captures(root: &Path, pages: &BTreeMap<PathBuf, String>) -> (Vec<String>, BTreeMap<PathBuf, usize>) {
    let mut bad = Vec::new();
    let mut count = BTreeMap::new();
    for (page, text) in pages {
        let lines: Vec<&str> = text.lines().collect();
        for (i, l) in lines.iter().enumerate() {
            let Some(file) = l.trim().strip_prefix("<!-- capture:").and_then(|r| r.strip_suffix("-->")).map(str::trim) else {
                continue;
            };
            *count.entry(page.clone()).or_insert(0) += 1;
            let at = format!("{}:{}", page.display(), i + 1);
            if !lines.get(i + 1).is_some_and(|f| f.starts_with("```")) {
                bad.push(format!("{at}: the capture of {file} is not followed by a fenced block"));
                continue;
            }
            let body: Vec<&str> = lines[i + 2..].iter().take_while(|l| !l.starts_with("```")).copied().collect();
            match std::fs::read_to_string(root.join(file)) {
                Err(e) => bad.push(format!("{at}: {file}: {e}")),
                Ok(want) if want.trim_end_matches('\n') != body.join("\n") => {
                    bad.push(format!("{at}: the block differs from {file} (copy the file in again)"))
                }
                Ok(_) => {}
            }
        }
    }
    (bad, count)
}

#[test]
fn every_relative_link_and_anchor_resolves() {
    let pages = pages();
    assert!(pages.len() > 5, "README.md and the pages of docs/: {:?}", pages.keys());
    let bad = broken_links(&root(), &pages);
    assert!(bad.is_empty(), "broken links:\n{}", bad.join("\n"));
}

#[test]
fn every_embedded_capture_is_its_file_and_the_readme_has_one() {
    let pages = pages();
    let (bad, count) = captures(&root(), &pages);
    assert!(bad.is_empty(), "captures:\n{}", bad.join("\n"));
    assert_eq!(count.get(Path::new("README.md")), Some(&1), "the README embeds exactly one capture");
}

/// The checker itself: what it must find, and what it must let pass.
#[test]
fn the_checker_sees_broken_links_and_anchors() {
    assert_eq!(slug("Settings: `config.toml`"), "settings-configtoml");
    assert_eq!(slug("The fleet: 10 clusters × 1,000 nodes × 30 DaemonSets"), "the-fleet-10-clusters--1000-nodes--30-daemonsets");
    assert_eq!(slug("JSON schema (`-o json`)"), "json-schema--o-json");
    assert_eq!(slug("When the API server is in trouble"), "when-the-api-server-is-in-trouble");
    let a = anchors("# Top\n\n```sh\n# not a heading\n```\n## Top\n#nospace\n");
    assert_eq!(a, ["top", "top-1"].into_iter().map(String::from).collect());

    let mut pages = BTreeMap::new();
    pages.insert(
        PathBuf::from("docs/a.md"),
        "# A page\n\n## Its part\n\n\
         [ok](#its-part) [ok](b.md#b-heading) [ok](../README.md) [ok](../tests/it/docs_links.rs)\n\
         [ok](https://example.com/#x) `[not a link](nowhere.md)`\n\
         ```text\n[in a code block](nowhere.md)\n```\n\
         [bad](#no-such-part) [bad](c.md) [bad](b.md#its-part) [bad](../../x.md)\n"
            .to_string(),
    );
    pages.insert(PathBuf::from("docs/b.md"), "# B heading\n".to_string());
    let bad = broken_links(&root(), &pages);
    let shown = bad.join("\n");
    assert_eq!(bad.len(), 4, "{shown}");
    for want in ["#no-such-part", "c.md: no such file", "b.md#its-part", "outside the repository"] {
        assert!(shown.contains(want), "{want} in:\n{shown}");
    }

    let asset = std::fs::read_to_string(root().join("assets/screen-nodes.txt")).unwrap();
    let mut pages = BTreeMap::new();
    let good = format!("<!-- capture: assets/screen-nodes.txt -->\n```text\n{asset}```\n");
    let edited = good.replacen("general", "generic", 1);
    pages.insert(PathBuf::from("README.md"), good);
    pages.insert(PathBuf::from("docs/x.md"), edited);
    let (bad, count) = captures(&root(), &pages);
    assert_eq!(bad.len(), 1, "{bad:?}");
    assert!(bad[0].starts_with("docs/x.md:1: the block differs"), "{bad:?}");
    assert_eq!(count[Path::new("README.md")], 1);
}

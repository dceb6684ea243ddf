//! Which kubeconfig contexts make a fleet: `--context a --context b`, `--contexts GLOB`
//! (a shell-style pattern over the context names) or `--all-contexts`, resolved against
//! the kubeconfig before anything connects. Each chosen context then gets its own
//! [`Cluster`](super::connect::Cluster) — its own client, Retry-After hint, watches and
//! backoff — so one slow or failing cluster never holds up another.
//!
//! May import: `cluster::connect`.

use super::connect::Source;

/// The contexts the flags ask for, before they are checked against the kubeconfig.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Selection {
    /// `--context NAME`, repeated (at least two; one context is the single-cluster path).
    Named(Vec<String>),
    /// `--contexts GLOB`.
    Glob(String),
    /// `--all-contexts`.
    All,
}

impl Selection {
    /// From the flags: a fleet when `--context` is given more than once, or with
    /// `--contexts` / `--all-contexts`; None for the single-cluster path.
    pub fn from_flags(context: &[String], glob: Option<&str>, all: bool) -> Option<Selection> {
        match (glob, all) {
            (Some(g), _) => Some(Selection::Glob(g.to_string())),
            (None, true) => Some(Selection::All),
            (None, false) if context.len() > 1 => Some(Selection::Named(context.to_vec())),
            (None, false) => None,
        }
    }

    /// The contexts of `source` chosen, in the order given (`Named`) or the kubeconfig's
    /// order; an unknown name, a pattern that matches nothing, or a source that has one
    /// cluster only is one line for the user.
    pub fn resolve(&self, source: &Source) -> Result<Vec<String>, String> {
        let known = match source {
            Source::Kubeconfig { .. } => source.contexts(),
            _ => return Err("several contexts need a kubeconfig (--kubeconfig or $KUBECONFIG)".into()),
        };
        let listed = || if known.is_empty() { "none".to_string() } else { known.join(", ") };
        let chosen: Vec<String> = match self {
            Selection::Named(names) => {
                let mut out: Vec<String> = Vec::new();
                for n in names {
                    if !known.contains(n) {
                        return Err(format!("context {n:?} is not in the kubeconfig (contexts: {})", listed()));
                    }
                    if !out.contains(n) {
                        out.push(n.clone());
                    }
                }
                out
            }
            Selection::Glob(g) => {
                glob_check(g).map_err(|why| format!("invalid pattern --contexts {g:?}: {why}"))?;
                known.iter().filter(|c| glob_match(g, c)).cloned().collect()
            }
            Selection::All => known.clone(),
        };
        if chosen.is_empty() {
            return Err(match self {
                Selection::Glob(g) => format!("no context matches --contexts {g:?} (contexts: {})", listed()),
                _ => "the kubeconfig has no contexts".into(),
            });
        }
        Ok(chosen)
    }
}

/// Shell-style matching of a whole name: `*` any run of characters (also none), `?` one
/// character, `[abc]` / `[a-z]` / `[!a]` one of a set; anything else itself.
pub fn glob_match(pattern: &str, name: &str) -> bool {
    let p: Vec<char> = pattern.chars().collect();
    let n: Vec<char> = name.chars().collect();
    // Iterative with one backtrack point (the last `*`): linear in practice.
    let (mut pi, mut ni) = (0, 0);
    let mut star: Option<(usize, usize)> = None;
    while ni < n.len() {
        if pi < p.len() {
            match p[pi] {
                '*' => {
                    star = Some((pi, ni));
                    pi += 1;
                    continue;
                }
                '?' => {
                    pi += 1;
                    ni += 1;
                    continue;
                }
                '[' => {
                    if let Some((matched, next)) = class(&p, pi, n[ni])
                        && matched
                    {
                        pi = next;
                        ni += 1;
                        continue;
                    }
                }
                c if c == n[ni] => {
                    pi += 1;
                    ni += 1;
                    continue;
                }
                _ => {}
            }
        }
        match star {
            Some((sp, sn)) => {
                pi = sp + 1;
                ni = sn + 1;
                star = Some((sp, sn + 1));
            }
            None => return false,
        }
    }
    p[pi..].iter().all(|c| *c == '*')
}

/// Why `pattern` is not a pattern: a `[` that no `]` closes (a shell would take it as
/// itself; here it is almost always a typo, and "no context matches" would hide it).
pub fn glob_check(pattern: &str) -> Result<(), String> {
    let p: Vec<char> = pattern.chars().collect();
    let mut i = 0;
    while i < p.len() {
        if p[i] == '[' {
            match class(&p, i, '\0') {
                Some((_, next)) => i = next,
                None => return Err(format!("the `[` at character {} is never closed by `]`", i + 1)),
            }
        } else {
            i += 1;
        }
    }
    Ok(())
}

/// `[...]` at `p[at]` against `c`: whether it matches, and where the pattern goes on
/// (None: no closing `]`, so `[` is an ordinary character that did not match).
fn class(p: &[char], at: usize, c: char) -> Option<(bool, usize)> {
    let mut i = at + 1;
    let negate = matches!(p.get(i), Some('!' | '^'));
    if negate {
        i += 1;
    }
    let mut matched = false;
    let mut first = true;
    while i < p.len() && (first || p[i] != ']') {
        first = false;
        if i + 2 < p.len() && p[i + 1] == '-' && p[i + 2] != ']' {
            matched |= (p[i]..=p[i + 2]).contains(&c);
            i += 3;
        } else {
            matched |= p[i] == c;
            i += 1;
        }
    }
    (i < p.len()).then_some((matched != negate, i + 1))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn globs_match_whole_names_as_a_shell_does() {
        for (p, n, want) in [
            ("prod-*", "prod-eu", true),
            ("prod-*", "prod-", true),
            ("prod-*", "staging-prod-eu", false),
            ("*-eu", "prod-eu", true),
            ("*-eu", "prod-us", false),
            ("prod-??", "prod-eu", true),
            ("prod-??", "prod-eu1", false),
            ("prod-[eu][us]", "prod-eu", true),
            ("prod-[a-f]*", "prod-eu", true),
            ("prod-[!e]*", "prod-eu", false),
            ("*", "", true),
            ("a*b*c", "aXXbYYc", true),
            ("a*b*c", "aXXbYY", false),
            ("gke_*_europe-west1_*", "gke_proj_europe-west1_main", true),
            ("[", "[", false),
            ("exact", "exact", true),
            ("exact", "exactly", false),
        ] {
            assert_eq!(glob_match(p, n), want, "{p:?} against {n:?}");
        }
    }

    fn source(contexts: &[&str]) -> Source {
        let mut yaml = String::from("apiVersion: v1\nkind: Config\nclusters: []\nusers: []\ncontexts:\n");
        for c in contexts {
            yaml.push_str(&format!("- name: {c}\n  context: {{cluster: {c}, user: {c}}}\n"));
        }
        let config = kube::config::Kubeconfig::from_yaml(&yaml).unwrap();
        Source::Kubeconfig { config: Box::new(config), path: None, timeouts: Default::default(), fetch: Default::default() }
    }

    #[test]
    fn selections_resolve_against_the_kubeconfig_or_say_why_not() {
        let s = source(&["prod-eu", "staging", "prod-us"]);
        let sel =
            |c: &[&str], g: Option<&str>, all: bool| Selection::from_flags(&c.iter().map(|s| s.to_string()).collect::<Vec<_>>(), g, all);
        assert_eq!(sel(&["prod-eu"], None, false), None, "one context is the single-cluster path");
        assert_eq!(sel(&[], None, false), None);
        assert_eq!(sel(&["prod-us", "prod-eu", "prod-us"], None, false).unwrap().resolve(&s).unwrap(), ["prod-us", "prod-eu"]);
        assert_eq!(sel(&[], Some("prod-*"), false).unwrap().resolve(&s).unwrap(), ["prod-eu", "prod-us"]);
        assert_eq!(sel(&[], None, true).unwrap().resolve(&s).unwrap(), ["prod-eu", "staging", "prod-us"]);
        assert_eq!(
            sel(&["prod-eu", "qa"], None, false).unwrap().resolve(&s).unwrap_err(),
            "context \"qa\" is not in the kubeconfig (contexts: prod-eu, staging, prod-us)"
        );
        assert_eq!(
            sel(&[], Some("prod-["), false).unwrap().resolve(&s).unwrap_err(),
            "invalid pattern --contexts \"prod-[\": the `[` at character 6 is never closed by `]`"
        );
        assert_eq!(sel(&[], Some("prod-[a-e]*"), false).unwrap().resolve(&s).unwrap(), ["prod-eu"]);
        assert_eq!(
            sel(&[], Some("dev-*"), false).unwrap().resolve(&s).unwrap_err(),
            "no context matches --contexts \"dev-*\" (contexts: prod-eu, staging, prod-us)"
        );
    }
}

//! The filter language of `/`: whitespace-separated terms that must all match.
//! `state:failing` (a cell state, or `problem` / `broken` / `down`), `reason:taint` (the
//! one-word cause of a cell, as the metrics name it), `label:pool=gpu` or `label:pool`
//! (node labels), `ns:logging` (the DaemonSet's namespace), and plain text: a part of a
//! DaemonSet's `namespace/name`, of a node's name, or a node label's value or
//! `key=value`. A DaemonSet matches when some node of it does; a node when some
//! DaemonSet's cell on it does. A leaf like `shared`: imports only `model` and `k8s::topology` (`label:pool=` reads the provider's pool label).

use crate::model::cause::Cause;
use crate::model::coverage::CellState;
use crate::model::{DsInfo, Model, NodeId, NodeInfo};

/// Which cells a `state:` term selects.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum StateSel {
    One(CellState),
    /// Any problem (not ready, not ineligible).
    Problem,
    /// Broken: failing, missing, starting, misscheduled, terminating.
    Broken,
}

impl StateSel {
    fn matches(self, s: CellState) -> bool {
        match self {
            StateSel::One(x) => s == x,
            StateSel::Problem => s.is_problem(),
            StateSel::Broken => s.is_broken(),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Term {
    Text(String),
    State(StateSel),
    Reason(Cause),
    Label(String, Option<String>),
    Ns(String),
    /// A term that could not be read: it matches nothing (rather than everything).
    Never,
}

/// A parsed filter; `problems` names the terms it could not read (they match nothing).
#[derive(Debug, Clone, Default)]
pub struct Filter {
    terms: Vec<Term>,
    pub problems: Vec<String>,
}

/// The keywords, for the help and Tab completion.
pub const KEYWORDS: [&str; 4] = ["state:", "reason:", "label:", "ns:"];

/// The values a `state:` term takes.
pub fn state_words() -> Vec<&'static str> {
    let mut v: Vec<&'static str> = CellState::ALL.iter().map(|s| s.as_str()).collect();
    v.extend(["problem", "broken", "down"]);
    v
}

/// The values a `reason:` term takes.
pub fn reason_words() -> Vec<&'static str> {
    Cause::ALL.iter().filter(|c| **c != Cause::None).map(|c| c.as_str()).collect()
}

impl Filter {
    pub fn parse(text: &str) -> Filter {
        let mut f = Filter::default();
        for word in text.split_whitespace() {
            let lower = word.to_lowercase();
            // A keyword with no value yet (being typed, or Tab about to complete it) filters nothing.
            if matches!(lower.as_str(), "state:" | "reason:" | "label:" | "ns:") {
                continue;
            }
            let term = match lower.split_once(':') {
                Some(("state", v)) => match v {
                    "problem" | "problems" => Some(Term::State(StateSel::Problem)),
                    "broken" => Some(Term::State(StateSel::Broken)),
                    "down" | "notready" => Some(Term::State(StateSel::One(CellState::NodeNotReady))),
                    v => CellState::ALL.iter().find(|s| s.as_str() == v).map(|s| Term::State(StateSel::One(*s))),
                }
                .or_else(|| {
                    f.problems.push(format!("state:{v}? ({})", state_words().join(" ")));
                    None
                }),
                Some(("reason", v)) => Cause::ALL.iter().find(|c| c.as_str() == v).map(|c| Term::Reason(*c)).or_else(|| {
                    f.problems.push(format!("reason:{v}? ({})", reason_words().join(" ")));
                    None
                }),
                // Label keys and values are case-sensitive in Kubernetes: keep the case.
                Some(("label", _)) => {
                    let v = &word["label:".len()..];
                    Some(match v.split_once('=') {
                        Some((k, val)) => Term::Label(k.to_string(), Some(val.to_string())),
                        None => Term::Label(v.to_string(), None),
                    })
                }
                Some(("ns", v)) => Some(Term::Ns(v.to_string())),
                _ => Some(Term::Text(lower)),
            };
            match term {
                Some(t) => f.terms.push(t),
                None => f.terms.push(Term::Never),
            }
        }
        f
    }

    pub fn is_empty(&self) -> bool {
        self.terms.is_empty()
    }

    /// DaemonSets the node terms look at: those of the `ns:` terms, or all.
    fn in_scope<'a>(&self, dss: &[&'a DsInfo]) -> Vec<&'a DsInfo> {
        let ns: Vec<&str> = self.terms.iter().filter_map(|t| if let Term::Ns(n) = t { Some(n.as_str()) } else { None }).collect();
        dss.iter().filter(|d| ns.iter().all(|n| d.namespace == *n)).copied().collect()
    }

    /// Whether a DaemonSet is shown: every term matches it (or some node of it).
    pub fn ds_matches(&self, m: &Model, d: &DsInfo) -> bool {
        self.ds_matches_at(None, m, d)
    }

    /// The same in the fleet, for the DaemonSet in the cluster of `context`: plain text
    /// also matches a part of the context's name.
    pub fn ds_matches_in(&self, context: &str, m: &Model, d: &DsInfo) -> bool {
        self.ds_matches_at(Some(&context.to_lowercase()), m, d)
    }

    fn ds_matches_at(&self, context: Option<&str>, m: &Model, d: &DsInfo) -> bool {
        let cells = m.coverage(d).map(|c| c.cells.as_slice()).unwrap_or_default();
        self.terms.iter().all(|t| match t {
            Term::Text(x) => {
                format!("{}/{}", d.namespace, d.name).to_lowercase().contains(x.as_str()) || context.is_some_and(|c| c.contains(x.as_str()))
            }
            Term::Ns(n) => d.namespace == *n,
            Term::Never => false,
            Term::State(sel) => cells.iter().any(|s| sel.matches(*s)),
            Term::Reason(c) => (0..cells.len()).any(|id| cause_is(m, d, id as NodeId, cells[id], *c)),
            Term::Label(k, v) => cells.iter().enumerate().any(|(id, s)| {
                !matches!(s, CellState::Ineligible | CellState::Absent)
                    && m.node(id as NodeId).is_some_and(|n| has_label(n, k, v.as_deref()))
            }),
        })
    }

    /// Whether a node is shown, with the cells of `dss` (every DaemonSet in the nodes
    /// view and the matrix, the selected one in the grid) on it.
    pub fn node_matches(&self, m: &Model, id: NodeId, n: &NodeInfo, dss: &[&DsInfo]) -> bool {
        if self.terms.is_empty() {
            return true;
        }
        let scope = self.in_scope(dss);
        let cell = |d: &DsInfo| m.coverage(d).and_then(|c| c.cells.get(id as usize)).copied().unwrap_or(CellState::Absent);
        self.terms.iter().all(|t| match t {
            Term::Text(x) => {
                n.name.to_lowercase().contains(x.as_str())
                    || n.facts.labels.iter().any(|(k, v)| v.to_lowercase() == *x || format!("{k}={v}").to_lowercase() == *x)
            }
            Term::Never => false,
            Term::Ns(_) => scope.iter().any(|d| !matches!(cell(d), CellState::Ineligible | CellState::Absent)),
            Term::State(sel) => scope.iter().any(|d| sel.matches(cell(d))),
            Term::Reason(c) => scope.iter().any(|d| cause_is(m, d, id, cell(d), *c)),
            Term::Label(k, v) => has_label(n, k, v.as_deref()),
        })
    }
}

/// `pool`, the zone and the instance type read as the columns show them (a GKE node's
/// `label:pool=default-pool` matches its `cloud.google.com/gke-nodepool`).
fn has_label(n: &NodeInfo, k: &str, v: Option<&str>) -> bool {
    let have = crate::k8s::topology::value(&n.facts.labels, k);
    match v {
        Some(v) => have == Some(v),
        None => have.is_some(),
    }
}

/// Whether the cell of `d` on node `id` (in state `s`) has cause `c`; a ready cell has
/// none, so only the others are explained.
fn cause_is(m: &Model, d: &DsInfo, id: NodeId, s: CellState, c: Cause) -> bool {
    match s {
        CellState::Ready | CellState::Absent => c == Cause::None,
        _ => m.explain(d, id).is_some_and(|cell| cell.cause == c),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn terms_are_read_and_bad_ones_named() {
        let f = Filter::parse("state:failing reason:taint label:pool=gpu ns:logging Fluent");
        assert_eq!(
            f.terms,
            vec![
                Term::State(StateSel::One(CellState::Failing)),
                Term::Reason(Cause::Taint),
                Term::Label("pool".into(), Some("gpu".into())),
                Term::Ns("logging".into()),
                Term::Text("fluent".into()),
            ]
        );
        assert!(f.problems.is_empty());
        let bad = Filter::parse("state:sad reason:why");
        assert_eq!(bad.problems.len(), 2, "{:?}", bad.problems);
        assert!(bad.problems[0].contains("failing") && bad.problems[1].contains("taint"), "{:?}", bad.problems);
        assert!(Filter::parse("  ").is_empty());
        assert!(Filter::parse("reason: ns:").is_empty() && Filter::parse("reason:").problems.is_empty());
    }
}

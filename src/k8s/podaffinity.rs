//! kube-scheduler's `InterPodAffinity` filter, required terms only
//! (`pkg/scheduler/framework/plugins/interpodaffinity/filtering.go`): a node passes when
//! every required `podAffinity` term of the incoming pod has a matching pod in the node's
//! topology domain (the node must carry every term's `topologyKey`; and the first pod of a
//! series that matches its own terms passes when no pod in the cluster matches them), no
//! required `podAntiAffinity` term of the incoming pod has a matching pod in the node's
//! domain, and no bound pod's required anti-affinity term matches the incoming pod within
//! a domain the node is in. The filter's order and words are the plugin's: affinity first
//! (`UnschedulableAndUnresolvable`), then the pod's anti-affinity, then the existing pods'
//! (`Unschedulable`: preemption may help).
//!
//! As the plugin's PreFilter does, the bound pods are counted once per topology pair
//! ([`State`]); a node is then checked against the counts ([`State::filter`]).
//!
//! A term's namespaces (`GetNamespacesFromPodAffinityTerm`): those listed, plus those a
//! `namespaceSelector` selects (`{}` selects every one); neither given: the pod's own. A
//! selector over namespace labels needs the namespaces' labels; where they are not known
//! the match is unknown and said so ([`State::unknown`]).
//!
//! May import: nothing of ours outside `k8s/`.

use std::collections::{BTreeMap, BTreeSet};

use k8s_openapi::api::core::v1 as core;

use super::selector::LabelSelector;

pub const AFFINITY: &str = "node(s) didn't match pod affinity rules";
pub const ANTI_AFFINITY: &str = "node(s) didn't match pod anti-affinity rules";
pub const EXISTING_ANTI_AFFINITY: &str = "node(s) didn't satisfy existing pods anti-affinity rules";

type Labels = BTreeMap<String, String>;

/// The filter's own words when `s` is one of them.
pub fn reason(s: &str) -> Option<&'static str> {
    [AFFINITY, ANTI_AFFINITY, EXISTING_ANTI_AFFINITY].into_iter().find(|r| *r == s)
}

/// One required pod (anti-)affinity term, resolved against the pod that carries it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Term {
    pub namespaces: BTreeSet<String>,
    /// `namespaceSelector`, when set (empty selects every namespace).
    pub namespace_selector: Option<LabelSelector>,
    /// None: a missing or invalid `labelSelector`, which matches nothing.
    pub selector: Option<LabelSelector>,
    pub topology_key: String,
    /// It names `matchLabelKeys`/`mismatchLabelKeys`, which the API server merges into
    /// the selector when it creates a pod: a template's term is not yet the pod's.
    pub label_keys: bool,
}

impl Term {
    fn of(namespace: &str, t: &core::PodAffinityTerm) -> Term {
        let mut namespaces: BTreeSet<String> = t.namespaces.iter().flatten().cloned().collect();
        if namespaces.is_empty() && t.namespace_selector.is_none() {
            namespaces.insert(namespace.to_string());
        }
        Term {
            namespaces,
            namespace_selector: t.namespace_selector.as_ref().map(|s| LabelSelector::from_k8s(s).unwrap_or_default()),
            selector: t.label_selector.as_ref().and_then(|s| LabelSelector::from_k8s(s).ok()),
            topology_key: t.topology_key.clone(),
            label_keys: t.match_label_keys.as_ref().is_some_and(|k| !k.is_empty())
                || t.mismatch_label_keys.as_ref().is_some_and(|k| !k.is_empty()),
        }
    }

    /// Whether the term selects a pod in `namespace` with `labels`: None when that turns on
    /// the labels of a namespace not known (`ns_labels` gives them where known).
    pub fn matches(&self, namespace: &str, labels: &Labels, ns_labels: &dyn Fn(&str) -> Option<Labels>) -> Option<bool> {
        if !self.selector.as_ref().is_some_and(|s| s.matches(labels)) {
            return Some(false);
        }
        if self.namespaces.contains(namespace) {
            return Some(true);
        }
        match &self.namespace_selector {
            None => Some(false),
            Some(s) if s.is_empty() => Some(true),
            Some(s) => ns_labels(namespace).map(|l| s.matches(&l)),
        }
    }
}

/// What the filter reads of a pod: where it is, its labels, its required terms.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PodTerms {
    pub namespace: String,
    pub labels: Labels,
    pub affinity: Vec<Term>,
    pub anti: Vec<Term>,
}

impl PodTerms {
    pub fn of(namespace: &str, labels: Labels, affinity: Option<&core::Affinity>) -> PodTerms {
        let terms = |ts: Option<&Vec<core::PodAffinityTerm>>| ts.into_iter().flatten().map(|t| Term::of(namespace, t)).collect();
        PodTerms {
            namespace: namespace.to_string(),
            labels,
            affinity: terms(affinity.and_then(|a| a.pod_affinity.as_ref()?.required_during_scheduling_ignored_during_execution.as_ref())),
            anti: terms(affinity.and_then(|a| a.pod_anti_affinity.as_ref()?.required_during_scheduling_ignored_during_execution.as_ref())),
        }
    }

    pub fn has_terms(&self) -> bool {
        !self.affinity.is_empty() || !self.anti.is_empty()
    }
}

type Pairs = BTreeMap<(String, String), i64>;

/// The PreFilter's counts for one incoming pod: by topology pair, the bound pods that match
/// all its affinity terms, that match its anti-affinity terms, and whose anti-affinity
/// terms match it; and the pairs where a match is unknown.
#[derive(Debug, Clone, Default)]
pub struct State {
    affinity: Pairs,
    anti: Pairs,
    existing_anti: Pairs,
    pub unknown: BTreeSet<(String, String)>,
}

fn bump(m: &mut Pairs, key: &str, node: &Labels, by: i64) {
    if let Some(v) = node.get(key) {
        let e = m.entry((key.to_string(), v.clone())).or_default();
        *e += by;
        if *e == 0 {
            m.remove(&(key.to_string(), v.clone()));
        }
    }
}

impl State {
    /// Counts (`by` 1) or uncounts (-1) a pod bound to a node with `node` labels, as the
    /// plugin's `updateWithPod` does.
    pub fn add(&mut self, incoming: &PodTerms, pod: &PodTerms, node: &Labels, by: i64, ns_labels: &dyn Fn(&str) -> Option<Labels>) {
        let mut unknown = |key: &str| {
            if let Some(v) = node.get(key) {
                self.unknown.insert((key.to_string(), v.clone()));
            }
        };
        // The existing pod's anti-affinity against the incoming pod.
        for t in &pod.anti {
            match t.matches(&incoming.namespace, &incoming.labels, ns_labels) {
                Some(true) => bump(&mut self.existing_anti, &t.topology_key, node, by),
                Some(false) => {}
                None => unknown(&t.topology_key),
            }
        }
        // The incoming pod's terms against the existing pod.
        let all: Vec<Option<bool>> = incoming.affinity.iter().map(|t| t.matches(&pod.namespace, &pod.labels, ns_labels)).collect();
        if !all.is_empty() && all.iter().all(|m| *m != Some(false)) {
            if all.iter().all(|m| *m == Some(true)) {
                for t in &incoming.affinity {
                    bump(&mut self.affinity, &t.topology_key, node, by);
                }
            } else {
                incoming.affinity.iter().for_each(|t| unknown(&t.topology_key));
            }
        }
        for t in &incoming.anti {
            match t.matches(&pod.namespace, &pod.labels, ns_labels) {
                Some(true) => bump(&mut self.anti, &t.topology_key, node, by),
                Some(false) => {}
                None => unknown(&t.topology_key),
            }
        }
    }

    /// The counts over every bound pod (`pods`: each with its node's labels).
    pub fn of<'a>(
        incoming: &PodTerms,
        pods: impl IntoIterator<Item = (&'a PodTerms, &'a Labels)>,
        ns_labels: &dyn Fn(&str) -> Option<Labels>,
    ) -> State {
        let mut s = State::default();
        for (p, n) in pods {
            s.add(incoming, p, n, 1, ns_labels);
        }
        s
    }

    /// The filter on a node with `node` labels: None when it passes, else the plugin's words.
    pub fn filter(&self, incoming: &PodTerms, node: &Labels, ns_labels: &dyn Fn(&str) -> Option<Labels>) -> Option<&'static str> {
        let pair = |key: &str| node.get(key).map(|v| (key.to_string(), v.clone()));
        // satisfyPodAffinity: every topology key on the node; a matching pod in each domain,
        // or no pod anywhere matching and the pod matching its own terms.
        let mut exist = true;
        for t in &incoming.affinity {
            match pair(&t.topology_key) {
                None => return Some(AFFINITY),
                Some(p) => exist &= self.affinity.get(&p).is_some_and(|c| *c > 0),
            }
        }
        if !exist {
            let own = incoming.affinity.iter().all(|t| t.matches(&incoming.namespace, &incoming.labels, ns_labels) == Some(true));
            if !(self.affinity.is_empty() && own) {
                return Some(AFFINITY);
            }
        }
        if incoming.anti.iter().filter_map(|t| pair(&t.topology_key)).any(|p| self.anti.get(&p).is_some_and(|c| *c > 0)) {
            return Some(ANTI_AFFINITY);
        }
        if node.iter().any(|(k, v)| self.existing_anti.get(&(k.clone(), v.clone())).is_some_and(|c| *c > 0)) {
            return Some(EXISTING_ANTI_AFFINITY);
        }
        None
    }

    /// The counts once `removed`, pods on a node with `node` labels, are gone (the victims
    /// preemption would take, or a DaemonSet's own pod it replaces).
    pub fn without<'a>(
        &self,
        incoming: &PodTerms,
        removed: impl IntoIterator<Item = &'a PodTerms>,
        node: &Labels,
        ns_labels: &dyn Fn(&str) -> Option<Labels>,
    ) -> State {
        let mut s = self.clone();
        for p in removed {
            s.add(incoming, p, node, -1, ns_labels);
        }
        s
    }

    /// No bound pod matches the incoming pod's affinity terms (its first-of-a-series case).
    pub fn no_affinity_match(&self) -> bool {
        self.affinity.is_empty()
    }

    /// Whether the node is in a domain where a match could not be told.
    pub fn unknown_on(&self, node: &Labels) -> bool {
        node.iter().any(|(k, v)| self.unknown.contains(&(k.clone(), v.clone())))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn labels(pairs: &[(&str, &str)]) -> Labels {
        pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
    }

    fn pod(ns: &str, l: &[(&str, &str)], affinity: serde_json::Value) -> PodTerms {
        let a: core::Affinity = serde_json::from_value(affinity).unwrap();
        PodTerms::of(ns, labels(l), Some(&a))
    }

    fn term(app: &str, key: &str) -> serde_json::Value {
        serde_json::json!([{"labelSelector": {"matchLabels": {"app": app}}, "topologyKey": key}])
    }

    const HOST: &str = "kubernetes.io/hostname";

    #[test]
    fn the_three_checks_in_the_plugins_order_and_words() {
        let none = |_: &str| None;
        let n1 = labels(&[(HOST, "n1"), ("zone", "a")]);
        let n2 = labels(&[(HOST, "n2"), ("zone", "a")]);
        let n3 = labels(&[(HOST, "n3"), ("zone", "b")]);
        let db = pod("default", &[("app", "db")], serde_json::json!({}));
        let loner = pod(
            "default",
            &[("app", "loner")],
            serde_json::json!({"podAntiAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": term("agent", "zone")}}),
        );
        // An agent that must not share a node with db.
        let agent = pod(
            "default",
            &[("app", "agent")],
            serde_json::json!({"podAntiAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": term("db", HOST)}}),
        );
        let s = State::of(&agent, [(&db, &n1), (&loner, &n3)], &none);
        assert_eq!(s.filter(&agent, &n1, &none), Some(ANTI_AFFINITY));
        assert_eq!(s.filter(&agent, &n2, &none), None);
        // loner keeps every agent out of zone b.
        assert_eq!(s.filter(&agent, &n3, &none), Some(EXISTING_ANTI_AFFINITY));
        // An agent that must share a zone with db: zone a only; a node without the key fails.
        let near = pod(
            "default",
            &[("app", "agent")],
            serde_json::json!({"podAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": term("db", "zone")}}),
        );
        let s = State::of(&near, [(&db, &n1)], &none);
        assert_eq!((s.filter(&near, &n2, &none), s.filter(&near, &n3, &none)), (None, Some(AFFINITY)));
        assert_eq!(s.filter(&near, &labels(&[(HOST, "n4")]), &none), Some(AFFINITY));
        // Another namespace is not matched; affinity is checked first.
        let other = pod("other", &[("app", "db")], serde_json::json!({}));
        let s = State::of(&near, [(&other, &n1)], &none);
        assert_eq!(s.filter(&near, &n1, &none), Some(AFFINITY));
        // The first of a series that matches its own terms passes where none match yet.
        let series = pod(
            "default",
            &[("app", "db")],
            serde_json::json!({"podAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": term("db", "zone")}}),
        );
        assert_eq!(State::of(&series, [], &none).filter(&series, &n3, &none), None);
        assert_eq!(State::of(&series, [(&db, &n1)], &none).filter(&series, &n3, &none), Some(AFFINITY));
    }

    #[test]
    fn a_namespace_selector_needs_the_namespaces_labels() {
        let n1 = labels(&[(HOST, "n1")]);
        let t = serde_json::json!([{"labelSelector": {"matchLabels": {"app": "db"}}, "namespaceSelector": {"matchLabels": {"team": "a"}}, "topologyKey": HOST}]);
        let agent = pod(
            "default",
            &[("app", "agent")],
            serde_json::json!({"podAntiAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": t}}),
        );
        let db = pod("data", &[("app", "db")], serde_json::json!({}));
        let none = |_: &str| None;
        let s = State::of(&agent, [(&db, &n1)], &none);
        assert_eq!(s.filter(&agent, &n1, &none), None);
        assert!(s.unknown_on(&n1));
        let team_a = |ns: &str| (ns == "data").then(|| labels(&[("team", "a")]));
        let s = State::of(&agent, [(&db, &n1)], &team_a);
        assert_eq!(s.filter(&agent, &n1, &team_a), Some(ANTI_AFFINITY));
        assert!(!s.unknown_on(&n1));
    }
}

//! Which nodes an OnDelete roll replaces, decided from the model before it starts: every
//! node with a pod on an old revision, except nodes that are down (no replacement could
//! start there) and nodes whose current pod is not Ready (replacing it proves nothing and
//! may hide why it is failing) — unless the operator includes them.
//!
//! May import: `model`.

use crate::model::coverage::is_updated;
use crate::model::{DsInfo, Model};

/// The roll's nodes: the ones it replaces, and the ones it leaves alone with why.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RollNodes {
    pub replace: Vec<String>,
    pub skip: Vec<(String, String)>,
}

/// The nodes of `ds` with a pod on an old revision; with `include_unready`, down nodes
/// and nodes whose pod is not Ready are replaced too.
pub fn select(model: &Model, ds: &DsInfo, include_unready: bool) -> RollNodes {
    let mut out = RollNodes::default();
    for (id, node) in model.nodes() {
        let pods = model.pods_on(ds, id);
        let Some(old) = pods.iter().find(|p| p.deleting.is_none() && !is_updated(ds, p)) else { continue };
        let why = if let Some(down) = node.down_reason(jiff::Timestamp::now()) {
            Some(down)
        } else if !old.ready {
            let waiting = old.containers.iter().find_map(|c| c.waiting.as_ref().map(|w| w.0.clone()));
            Some(format!("its pod {} is not Ready ({})", old.name, waiting.unwrap_or_else(|| old.phase.to_string())))
        } else {
            None
        };
        match why {
            Some(why) if !include_unready => out.skip.push((node.name.clone(), why)),
            _ => out.replace.push(node.name.clone()),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Change, fixtures};

    #[test]
    fn down_nodes_and_unready_pods_are_skipped_unless_included() {
        let mut m = Model::new();
        for n in ["a", "b", "c", "d"] {
            m.apply(Change::Node(fixtures::node(n)));
        }
        m.apply(Change::Node(fixtures::node("c").with_ready(Some(false))));
        let ds = fixtures::daemonset("kube-system", "cni").at_generation(2);
        m.apply(Change::DaemonSet(ds.clone()));
        m.apply(Change::Pod(fixtures::pod(&ds, "a", "1").from_generation("1")));
        m.apply(Change::Pod(fixtures::pod(&ds, "b", "2").from_generation("1").waiting("CrashLoopBackOff", 4)));
        m.apply(Change::Pod(fixtures::pod(&ds, "c", "3").from_generation("1")));
        m.apply(Change::Pod(fixtures::pod(&ds, "d", "4")));
        let ds = m.daemonset("kube-system", "cni").unwrap().clone();
        let r = select(&m, &ds, false);
        assert_eq!(r.replace, vec!["a"], "d is up to date; b and c are skipped");
        assert_eq!(r.skip.iter().map(|(n, _)| n.as_str()).collect::<Vec<_>>(), vec!["b", "c"]);
        assert_eq!(r.skip[0].1, "its pod cni-2 is not Ready (CrashLoopBackOff)");
        assert!(r.skip[1].1.starts_with("node NotReady"), "{}", r.skip[1].1);
        let all = select(&m, &ds, true);
        assert_eq!((all.replace, all.skip), (vec!["a".to_string(), "b".into(), "c".into()], vec![]));
    }
}

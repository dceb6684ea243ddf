//! What a confirmed action did, in words: the one line the status bar shows for the
//! cluster's typed [`Outcome`].
//! May import: `cluster` and `model` types.

use crate::cluster::actions::Outcome;
use crate::model::plan::IntentKind;

const DRY: &str = " (server dry-run: nothing changed)";

/// The status bar's line for `o`.
pub fn line(o: &Outcome) -> String {
    let dry = |dry_run: bool| if dry_run { DRY } else { "" };
    match o {
        Outcome::Nodes { kind, done, failed, dry_run } => {
            let (did, verb) = (done_word(*kind), kind.verb());
            let failures = failed.iter().map(|(n, e)| format!("{n}: {e}")).collect::<Vec<_>>().join("; ");
            match (done.len(), failed.is_empty()) {
                (_, true) => format!("{did} {} node(s){}: {}", done.len(), dry(*dry_run), done.join(", ")),
                (0, false) => format!("{verb} failed: {failures}"),
                (d, false) => format!("{did} {d} node(s){}; failed: {failures}", dry(*dry_run)),
            }
        }
        Outcome::RolloutRestart { namespace, name, dry_run, result: Ok(()) } => {
            format!("restarted {namespace}/{name}{}: r shows the rollout", dry(*dry_run))
        }
        Outcome::RolloutRestart { result: Err(e), .. } => format!("rollout restart failed: {e}"),
        Outcome::RestartPod { pod, result: Ok(()) } => format!("deleted pod {pod}; its DaemonSet recreates it"),
        Outcome::RestartPod { result: Err(e), .. } => format!("restart failed: {e}"),
        Outcome::RollUnderWay => "a roll is already under way (:roll abort stops it)".into(),
        Outcome::NoRoll => "no roll under way".into(),
    }
}

/// The past tense of a per-node action, as the status bar reads it.
fn done_word(kind: IntentKind) -> &'static str {
    match kind {
        IntentKind::Label => "labelled",
        IntentKind::Taint => "tainted",
        other => other.verb(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn per_node_outcomes_read_as_before() {
        let o = |kind, done: &[&str], dry_run| Outcome::Nodes {
            kind,
            done: done.iter().map(|s| s.to_string()).collect(),
            failed: vec![],
            dry_run,
        };
        assert_eq!(line(&o(IntentKind::Cordon, &["a", "b"], false)), "cordon 2 node(s): a, b");
        assert_eq!(line(&o(IntentKind::Label, &["a"], true)), "labelled 1 node(s) (server dry-run: nothing changed): a");
        assert_eq!(line(&o(IntentKind::Taint, &["a"], false)), "tainted 1 node(s): a");
        assert_eq!(line(&Outcome::NoRoll), "no roll under way");
    }
}

//! Node taints: kubectl's taint syntax (`key=value:Effect`, `key:Effect`, `key:Effect-`,
//! `key-`, from kubectl's `pkg/cmd/taint`), the API server's validation of a taint
//! (`validateNodeTaints`), what a node's taint list becomes after a change, and when the
//! taint eviction controller evicts a pod from a node (`GetMatchingTolerations` and
//! `getMinTolerationTime`). The TUI's taint editor refuses bad input with these rules
//! before anything is sent, and the simulator's API server answers with them.
//!
//! May import: `k8s` only (`eligibility`, `labels`).

use std::fmt;

use super::eligibility::{Taint, Toleration};
use super::labels::{Problems, validate_label_key, validate_label_value};

/// The effects a taint may have.
pub const EFFECTS: [&str; 3] = ["NoSchedule", "PreferNoSchedule", "NoExecute"];

/// One taint edit.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TaintChange {
    /// Add the taint, or replace the one with the same key and effect.
    Add(Taint),
    /// Remove the taints with this key and effect; every effect when `effect` is None.
    Remove { key: String, effect: Option<String> },
}

impl TaintChange {
    pub fn key(&self) -> &str {
        match self {
            TaintChange::Add(t) => &t.key,
            TaintChange::Remove { key, .. } => key,
        }
    }
}

impl fmt::Display for TaintChange {
    /// kubectl's syntax.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TaintChange::Add(t) => write!(f, "{t}"),
            TaintChange::Remove { key, effect: Some(e) } => write!(f, "{key}:{e}-"),
            TaintChange::Remove { key, effect: None } => write!(f, "{key}-"),
        }
    }
}

/// What is wrong with a taint, as the API server says it (`validateNodeTaints`): the key
/// a qualified name, the value a label value, the effect one of [`EFFECTS`].
pub fn validate_taint(key: &str, value: &str, effect: &str) -> Vec<(&'static str, String)> {
    let mut out = Vec::new();
    for p in validate_label_key(key) {
        out.push(("key", format!("Invalid value: {key:?}: {p}")));
    }
    for p in validate_label_value(value) {
        out.push(("value", format!("Invalid value: {value:?}: {p}")));
    }
    if effect.is_empty() {
        out.push(("effect", "Required value".to_string()));
    } else if !EFFECTS.contains(&effect) {
        out.push((
            "effect",
            format!("Unsupported value: {effect:?}: supported values: \"NoSchedule\", \"PreferNoSchedule\", \"NoExecute\""),
        ));
    }
    out
}

/// One kubectl taint spec without its trailing `-`: `key=value:Effect`, `key:Effect`,
/// or `key` (kubectl's `parseTaint`; an added taint needs its effect). Every problem is
/// reported.
fn parse_one(spec: &str, tok: &str, remove: bool, problems: &mut Problems) -> Option<(String, String, Option<String>)> {
    let (kv, effect) = match spec.split(':').collect::<Vec<_>>().as_slice() {
        [kv] => (*kv, None),
        [kv, effect] => (*kv, Some(*effect)),
        _ => {
            problems.push(format!("{tok:?}: more than one ':' (expected key=value:Effect, key:Effect-, or key-)"));
            return None;
        }
    };
    if effect.is_none() && !remove {
        problems.push(format!("{tok:?}: a taint needs an effect (key:NoSchedule, key=value:NoExecute, …; key- removes)"));
        return None;
    }
    let mut ok = true;
    if let Some(e) = effect
        && !EFFECTS.contains(&e)
    {
        problems.push(format!("{tok:?}: effect {e:?} is not NoSchedule, PreferNoSchedule or NoExecute"));
        ok = false;
    }
    // Without an effect (`key-`) kubectl reads all of it as the key.
    let (key, value) = match (effect, kv.split('=').collect::<Vec<_>>().as_slice()) {
        (None, _) | (Some(_), [_]) => (kv, None),
        (Some(_), [k, v]) => (*k, Some(*v)),
        _ => {
            problems.push(format!("{tok:?}: more than one '=' (expected key=value:Effect)"));
            return None;
        }
    };
    for p in validate_label_key(key) {
        problems.push(format!("{tok:?}: key {key:?}: {p}"));
        ok = false;
    }
    if let Some(v) = value {
        for p in validate_label_value(v) {
            problems.push(format!("{tok:?}: value {v:?}: {p}"));
            ok = false;
        }
    }
    ok.then(|| (key.to_string(), value.unwrap_or("").to_string(), effect.map(str::to_string)))
}

/// Parses kubectl's taint syntax (`a=b:NoSchedule c:NoExecute- d-`), validating keys,
/// values and effects as the API server does and refusing what `kubectl taint` refuses
/// (a taint given twice, or both set and removed); every problem is reported, in words.
pub fn parse_taint_changes(input: &str) -> Result<Vec<TaintChange>, Problems> {
    let mut out: Vec<TaintChange> = Vec::new();
    let mut problems = Vec::new();
    for tok in input.split_whitespace() {
        let (spec, remove) = match tok.strip_suffix('-') {
            Some(s) => (s, true),
            None => (tok, false),
        };
        let Some((key, value, effect)) = parse_one(spec, tok, remove, &mut problems) else { continue };
        let change = match effect {
            Some(effect) if !remove => TaintChange::Add(Taint { key, value, effect }),
            effect => TaintChange::Remove { key, effect },
        };
        if let TaintChange::Add(t) = &change
            && out.iter().any(|c| matches!(c, TaintChange::Add(o) if o.key == t.key && o.effect == t.effect))
        {
            problems.push(format!("{tok:?}: taint {}:{} given twice", t.key, t.effect));
        }
        let conflicts = |a: &TaintChange, b: &TaintChange| match (a, b) {
            (TaintChange::Add(t), TaintChange::Remove { key, effect }) | (TaintChange::Remove { key, effect }, TaintChange::Add(t)) => {
                &t.key == key && effect.as_ref().is_none_or(|e| e == &t.effect)
            }
            _ => false,
        };
        if let Some(other) = out.iter().find(|o| conflicts(o, &change)) {
            problems.push(format!("{other} and {change}: cannot both set and remove a taint in one edit"));
        }
        out.push(change);
    }
    if out.is_empty() && problems.is_empty() {
        problems.push("nothing to change: type key=value:Effect to add a taint, key:Effect- or key- to remove".into());
    }
    if problems.is_empty() { Ok(out) } else { Err(problems) }
}

/// What the change does to one taint of the node, for the preview.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TaintEdit {
    Added(Taint),
    /// Same key and effect, another value.
    Replaced {
        old: Taint,
        new: Taint,
    },
    Unchanged(Taint),
    Removed(Taint),
    /// A removal that matches no taint of the node.
    NotThere(TaintChange),
}

/// The node's taints after `changes` (as `kubectl taint` computes them: a taint with the
/// key and effect of an added one is replaced in place), and each edit.
pub fn apply_changes(taints: &[Taint], changes: &[TaintChange]) -> (Vec<Taint>, Vec<TaintEdit>) {
    let mut after = taints.to_vec();
    let mut edits = Vec::new();
    for c in changes {
        match c {
            TaintChange::Add(t) => match after.iter_mut().find(|o| o.key == t.key && o.effect == t.effect) {
                Some(o) if o.value == t.value => edits.push(TaintEdit::Unchanged(t.clone())),
                Some(o) => {
                    edits.push(TaintEdit::Replaced { old: o.clone(), new: t.clone() });
                    *o = t.clone();
                }
                None => {
                    edits.push(TaintEdit::Added(t.clone()));
                    after.push(t.clone());
                }
            },
            TaintChange::Remove { key, effect } => {
                let hit = |o: &Taint| &o.key == key && effect.as_ref().is_none_or(|e| e == &o.effect);
                let gone: Vec<Taint> = after.iter().filter(|o| hit(o)).cloned().collect();
                if gone.is_empty() {
                    edits.push(TaintEdit::NotThere(c.clone()));
                }
                after.retain(|o| !hit(o));
                edits.extend(gone.into_iter().map(TaintEdit::Removed));
            }
        }
    }
    (after, edits)
}

/// When the taint eviction controller evicts a pod with `tolerations` from a node with
/// `taints` (only NoExecute taints count).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Eviction {
    /// Every NoExecute taint is tolerated for good (or there is none).
    Never,
    /// A NoExecute taint is not tolerated (or only with `tolerationSeconds` ≤ 0).
    Now,
    /// Tolerated for this many seconds (the shortest `tolerationSeconds`).
    After(i64),
}

/// `GetMatchingTolerations` (the first toleration that tolerates each NoExecute taint)
/// then `getMinTolerationTime` (the shortest `tolerationSeconds` among them; none set
/// means forever; ≤ 0 means now).
pub fn eviction(taints: &[Taint], tolerations: &[Toleration]) -> Eviction {
    let mut min: Option<i64> = None;
    for t in taints.iter().filter(|t| t.effect == "NoExecute") {
        let Some(tol) = tolerations.iter().find(|tol| tol.tolerates(t)) else { return Eviction::Now };
        if let Some(s) = tol.toleration_seconds {
            if s <= 0 {
                return Eviction::Now;
            }
            min = Some(min.map_or(s, |m| m.min(s)));
        }
    }
    min.map_or(Eviction::Never, Eviction::After)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn taint(k: &str, v: &str, e: &str) -> Taint {
        Taint { key: k.into(), value: v.into(), effect: e.into() }
    }

    #[test]
    fn kubectl_syntax() {
        let c = parse_taint_changes("dedicated=gpu:NoSchedule maint:NoExecute example.com/x:NoSchedule- old-").unwrap();
        assert_eq!(c[0], TaintChange::Add(taint("dedicated", "gpu", "NoSchedule")));
        assert_eq!(c[1], TaintChange::Add(taint("maint", "", "NoExecute")));
        assert_eq!(c[2], TaintChange::Remove { key: "example.com/x".into(), effect: Some("NoSchedule".into()) });
        assert_eq!(c[3], TaintChange::Remove { key: "old".into(), effect: None });
        assert_eq!(
            c.iter().map(ToString::to_string).collect::<Vec<_>>().join(" "),
            "dedicated=gpu:NoSchedule maint:NoExecute example.com/x:NoSchedule- old-"
        );
        // kubectl also accepts a value on a removal (and ignores it).
        assert!(parse_taint_changes("a=b:NoSchedule-").is_ok());
    }

    #[test]
    fn refusals_name_the_rule() {
        let e = |s: &str| parse_taint_changes(s).unwrap_err().join("; ");
        assert!(e("a=b").contains("needs an effect"), "{}", e("a=b"));
        assert!(e("a").contains("needs an effect"));
        assert!(e("a:NoSchedul").contains("effect \"NoSchedul\" is not"));
        assert!(e("a:b:NoSchedule").contains("more than one ':'"));
        assert!(e("a=b=c:NoSchedule").contains("more than one '='"));
        assert!(e("-a:NoSchedule").contains("\"-a:NoSchedule\": key \"-a\""));
        assert!(e("a=-b:NoSchedule").contains("\"a=-b:NoSchedule\": value \"-b\""));
        assert!(e("a:NoSchedule a=x:NoSchedule").contains("given twice"));
        assert!(e("a:NoSchedule a-").contains("cannot both set and remove"));
        assert!(e(" ").contains("nothing to change"));
        // Every problem, not only the first.
        assert_eq!(parse_taint_changes("-a:NoSchedule b:Never").unwrap_err().len(), 2);
        // Different effects of one key are different taints.
        assert!(parse_taint_changes("a:NoSchedule a:NoExecute b:NoExecute- b:NoSchedule").is_ok());
    }

    #[test]
    fn changes_apply_as_kubectl_does() {
        let node = vec![taint("a", "1", "NoSchedule"), taint("a", "", "NoExecute"), taint("b", "", "NoSchedule")];
        let (after, edits) = apply_changes(&node, &parse_taint_changes("a=2:NoSchedule b- c:NoExecute z-").unwrap());
        assert_eq!(after, vec![taint("a", "2", "NoSchedule"), taint("a", "", "NoExecute"), taint("c", "", "NoExecute")]);
        assert!(matches!(&edits[0], TaintEdit::Replaced { old, .. } if old.value == "1"));
        assert_eq!(edits[1], TaintEdit::Removed(taint("b", "", "NoSchedule")));
        assert_eq!(edits[2], TaintEdit::Added(taint("c", "", "NoExecute")));
        assert!(matches!(edits[3], TaintEdit::NotThere(_)));
        let (after, _) = apply_changes(&node, &parse_taint_changes("a:NoExecute-").unwrap());
        assert_eq!(after.len(), 2);
    }

    #[test]
    fn eviction_times() {
        let tol = |k: &str, op: &str, e: &str, s: Option<i64>| Toleration {
            key: k.into(),
            operator: op.into(),
            value: String::new(),
            effect: e.into(),
            toleration_seconds: s,
        };
        let exec = [taint("maint", "", "NoExecute")];
        assert_eq!(eviction(&exec, &[]), Eviction::Now);
        assert_eq!(eviction(&[taint("maint", "", "NoSchedule")], &[]), Eviction::Never);
        assert_eq!(eviction(&exec, &[tol("", "Exists", "", None)]), Eviction::Never);
        assert_eq!(eviction(&exec, &[tol("maint", "Exists", "NoExecute", Some(300))]), Eviction::After(300));
        assert_eq!(eviction(&exec, &[tol("maint", "Exists", "NoExecute", Some(0))]), Eviction::Now);
        // The first matching toleration decides, as GetMatchingTolerations does.
        assert_eq!(eviction(&exec, &[tol("maint", "Exists", "", Some(60)), tol("", "Exists", "", None)]), Eviction::After(60));
        let two = [taint("a", "", "NoExecute"), taint("b", "", "NoExecute")];
        assert_eq!(eviction(&two, &[tol("a", "Exists", "", Some(60)), tol("b", "Exists", "", Some(30))]), Eviction::After(30));
        assert_eq!(eviction(&two, &[tol("a", "Exists", "", Some(60))]), Eviction::Now);
    }
}

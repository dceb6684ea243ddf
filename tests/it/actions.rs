//! Actions against the simulator through the API: a label changed by someone else after
//! the plan was shown is not overwritten; dry-run changes nothing. The same for taints,
//! and the label and taint parsers accept only what the server would.

use crate::common;

use daemonscope::cluster::actions::{Outcome, execute};
use daemonscope::cluster::watch::Watched;
use daemonscope::model::Model;
use daemonscope::model::plan::{Intent, Plan, Work, parse_label_changes};
use k8s_openapi::api::core::v1::Node;
use kube::Api;
use kube::api::{Patch, PatchParams};

/// The requests a confirmed plan sends (every action here is one).
fn request(plan: Plan) -> daemonscope::model::plan::Request {
    match plan.intent.into_work() {
        Work::Request(r) => r,
        Work::Roll(spec) => panic!("a roll is its own job: {spec:?}"),
        Work::Drain { nodes, .. } => panic!("a drain is its own job: {nodes:?}"),
    }
}

/// What the status bar says of an outcome.
fn said(o: Outcome) -> String {
    daemonscope::ui::outcome::line(&o)
}

async fn label_of(api: &Api<Node>, node: &str, key: &str) -> Option<String> {
    api.get(node).await.unwrap().metadata.labels.unwrap_or_default().get(key).cloned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn someone_elses_change_is_not_overwritten_and_dry_run_changes_nothing() {
    let sim = common::serve(&common::nodes_yaml(&["node-a"])).await;
    let client = common::cluster(&sim);
    let nodes: Api<Node> = Api::all(client.client.clone());
    let mut model = Model::new();
    model.apply(nodes.get("node-a").await.unwrap().change().unwrap());
    // The plan is made while pool=general …
    let intent = Intent::label(&model, vec!["node-a".into()], parse_label_changes("pool=spot").unwrap());
    let plan = intent.plan(&model);
    assert!(plan.lines[0].contains("pool: general → spot"), "{:?}", plan.lines);
    // … then someone else relabels the node before we confirm.
    nodes
        .patch("node-a", &PatchParams::default(), &Patch::Merge(serde_json::json!({"metadata": {"labels": {"pool": "gpu"}}})))
        .await
        .unwrap();
    let line = said(execute(&client, request(plan), false, "test", "tester").await);
    assert!(line.contains("label failed") && line.contains("changed since you looked"), "{line}");
    assert_eq!(label_of(&nodes, "node-a", "pool").await.as_deref(), Some("gpu"), "their change stays");
    // Dry-run: validated by the server, nothing applied.
    let mut model = Model::new();
    model.apply(nodes.get("node-a").await.unwrap().change().unwrap());
    let plan = Intent::label(&model, vec!["node-a".into()], parse_label_changes("tier=edge").unwrap()).plan(&model);
    let line = said(execute(&client, request(plan), true, "test", "tester").await);
    assert!(line.contains("server dry-run: nothing changed"), "{line}");
    assert_eq!(label_of(&nodes, "node-a", "tier").await, None);
    let dry = sim.api.request_log().iter().filter(|r| r.is_mutating() && r.query.contains("dryRun=All")).count();
    assert_eq!(dry, 1, "the patch went out with dryRun=All");
}

#[test]
fn the_label_parser_takes_kubectls_syntax_and_names_every_problem() {
    let ok = parse_label_changes("a=b example.com/c- d=").unwrap();
    assert_eq!(ok.len(), 3);
    assert_eq!((ok[1].key.as_str(), ok[1].value.as_deref()), ("example.com/c", None));
    assert_eq!(ok[2].value.as_deref(), Some(""));
    let err = parse_label_changes("a=b a=c").unwrap_err();
    assert!(err.iter().any(|e| e.contains("given twice")), "{err:?}");
    let err = parse_label_changes(&format!("k={}", "v".repeat(64))).unwrap_err();
    assert!(err[0].contains("must be no more than 63 characters"), "{err:?}");
    assert!(parse_label_changes("   ").unwrap_err()[0].contains("nothing to change"));
}

mod fuzz {
    use daemonscope::model::plan::parse_label_changes;
    use proptest::prelude::*;

    proptest! {
        /// Any input: no panic; accepted changes are exactly valid keys and values.
        #[test]
        fn the_label_parser_never_accepts_what_the_server_would_refuse(input in "[ -~]{0,80}") {
            if let Ok(changes) = parse_label_changes(&input) {
                for c in changes {
                    prop_assert!(daemonscope::k8s::labels::validate_label_key(&c.key).is_empty(), "{c:?}");
                    if let Some(v) = &c.value {
                        prop_assert!(daemonscope::k8s::labels::validate_label_value(v).is_empty(), "{c:?}");
                    }
                }
            }
        }
    }
}

fn taints_of(node: &Node) -> Vec<String> {
    let t = node.spec.as_ref().and_then(|s| s.taints.clone()).unwrap_or_default();
    t.iter().map(|t| format!("{}={}:{}", t.key, t.value.clone().unwrap_or_default(), t.effect)).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_taint_changed_by_someone_else_is_not_overwritten_others_are_kept_and_dry_run_changes_nothing() {
    use daemonscope::model::plan::parse_taint_changes;
    let sim = common::serve(&common::nodes_yaml(&["node-a"])).await;
    let client = common::cluster(&sim);
    let nodes: Api<Node> = Api::all(client.client.clone());
    let taint = |v: serde_json::Value| Patch::Merge(serde_json::json!({"spec": {"taints": v}}));
    nodes
        .patch("node-a", &PatchParams::default(), &taint(serde_json::json!([{"key": "dedicated", "value": "gpu", "effect": "NoSchedule"}])))
        .await
        .unwrap();
    let model_now = || async {
        let mut model = Model::new();
        model.apply(nodes.get("node-a").await.unwrap().change().unwrap());
        model
    };
    // The plan is made while dedicated=gpu …
    let model = model_now().await;
    let plan = Intent::taint(&model, vec!["node-a".into()], parse_taint_changes("dedicated=infra:NoSchedule").unwrap()).plan(&model);
    assert!(plan.lines[0].contains("dedicated:NoSchedule: gpu → infra (OVERWRITES the current value)"), "{:?}", plan.lines);
    // … then someone else changes that taint before we confirm.
    let theirs = serde_json::json!([{"key": "dedicated", "value": "batch", "effect": "NoSchedule"}]);
    nodes.patch("node-a", &PatchParams::default(), &taint(theirs)).await.unwrap();
    let line = said(execute(&client, request(plan), false, "test", "tester").await);
    assert!(line.contains("taint failed") && line.contains("taints changed since you looked"), "{line}");
    assert_eq!(taints_of(&nodes.get("node-a").await.unwrap()), vec!["dedicated=batch:NoSchedule"], "their change stays");
    // A taint of another key added meanwhile is not the edit's business: it is kept.
    let model = model_now().await;
    let plan = Intent::taint(&model, vec!["node-a".into()], parse_taint_changes("maint:NoExecute").unwrap()).plan(&model);
    let both = serde_json::json!([{"key": "dedicated", "value": "batch", "effect": "NoSchedule"}, {"key": "zone-down", "effect": "PreferNoSchedule"}]);
    nodes.patch("node-a", &PatchParams::default(), &taint(both)).await.unwrap();
    let line = said(execute(&client, request(plan), false, "test", "tester").await);
    assert_eq!(line, "tainted 1 node(s): node-a");
    let now = taints_of(&nodes.get("node-a").await.unwrap());
    assert_eq!(now, vec!["dedicated=batch:NoSchedule", "zone-down=:PreferNoSchedule", "maint=:NoExecute"]);
    // Removal of every effect of a key; dry-run: validated by the server, nothing applied.
    let model = model_now().await;
    let plan = Intent::taint(&model, vec!["node-a".into()], parse_taint_changes("dedicated- maint:NoExecute-").unwrap()).plan(&model);
    assert!(plan.lines[0].contains("- dedicated=batch:NoSchedule, - maint:NoExecute"), "{:?}", plan.lines);
    let line = said(execute(&client, request(plan.clone()), true, "test", "tester").await);
    assert!(line.contains("server dry-run: nothing changed"), "{line}");
    assert_eq!(taints_of(&nodes.get("node-a").await.unwrap()), now);
    let line = said(execute(&client, request(plan), false, "test", "tester").await);
    assert_eq!(line, "tainted 1 node(s): node-a");
    assert_eq!(taints_of(&nodes.get("node-a").await.unwrap()), vec!["zone-down=:PreferNoSchedule"]);
}

mod taint_fuzz {
    use daemonscope::k8s::labels::validate_label_key;
    use daemonscope::k8s::taints::{EFFECTS, TaintChange, parse_taint_changes, validate_taint};
    use proptest::prelude::*;

    /// One generated edit: key, value, effect, removal.
    type Tok = (String, Option<String>, Option<String>, bool);

    fn tok() -> impl Strategy<Value = Tok> {
        let part = "[a-zA-Z0-9._/-]{0,10}";
        let effect = prop_oneof![
            3 => proptest::sample::select(EFFECTS.to_vec()).prop_map(|e| Some(e.to_string())),
            1 => proptest::sample::select(vec!["", "noschedule", "Never", "NoSchedul"]).prop_map(|e| Some(e.to_string())),
            1 => Just(None),
        ];
        (part, proptest::option::of(part), effect, any::<bool>())
    }

    fn text((k, v, e, remove): &Tok) -> String {
        let mut s = k.clone();
        if let Some(v) = v {
            s.push_str(&format!("={v}"));
        }
        if let Some(e) = e {
            s.push_str(&format!(":{e}"));
        }
        if *remove {
            s.push('-');
        }
        s
    }

    /// What the API server (and `kubectl taint`) would refuse in one edit, on its own.
    fn refused((k, v, e, remove): &Tok) -> bool {
        match (e, remove) {
            // `k=v-` / `k-`: all of it is the key.
            (None, true) => !validate_label_key(&text(&(k.clone(), v.clone(), None, false))).is_empty(),
            (None, false) => true,
            (Some(e), _) => !validate_taint(k, v.as_deref().unwrap_or(""), e).is_empty(),
        }
    }

    /// Two edits `kubectl taint` refuses together: the same taint twice, or set and removed.
    fn clash(a: &Tok, b: &Tok) -> bool {
        a.0 == b.0
            && match (a.3, b.3) {
                (false, false) => a.2 == b.2,
                (true, true) => false,
                _ => {
                    let (add, rm) = if a.3 { (b, a) } else { (a, b) };
                    rm.2.is_none() || rm.2 == add.2
                }
            }
    }

    proptest! {
        /// Any input: no panic; what is accepted is exactly what the server accepts.
        #[test]
        fn the_taint_parser_never_accepts_what_the_server_would_refuse(input in "[ -~]{0,80}") {
            if let Ok(changes) = parse_taint_changes(&input) {
                for c in changes {
                    match &c {
                        TaintChange::Add(t) => prop_assert!(validate_taint(&t.key, &t.value, &t.effect).is_empty(), "{c:?}"),
                        TaintChange::Remove { key, effect } => {
                            prop_assert!(validate_label_key(key).is_empty(), "{c:?}");
                            prop_assert!(effect.as_deref().is_none_or(|e| EFFECTS.contains(&e)), "{c:?}");
                        }
                    }
                }
            }
        }

        /// Edits built from parts: accepted exactly when the server would accept each and
        /// kubectl each pair; when refused, every refused edit is named in the answer.
        #[test]
        fn the_taint_parser_accepts_exactly_the_valid_edits_and_names_every_problem(toks in proptest::collection::vec(tok(), 1..4)) {
            // An added taint without an effect whose text ends in '-' reads as a removal;
            // an empty one is no edit at all.
            prop_assume!(!toks.iter().any(|t| t.2.is_none() && !t.3 && (text(t).ends_with('-') || text(t).is_empty())));
            let input = toks.iter().map(text).collect::<Vec<_>>().join(" ");
            let bad: Vec<&Tok> = toks.iter().filter(|t| refused(t)).collect();
            let clashes = toks.iter().enumerate().any(|(i, a)| toks[..i].iter().any(|b| clash(a, b)));
            match parse_taint_changes(&input) {
                Ok(changes) => {
                    prop_assert!(bad.is_empty() && !clashes, "{input:?} accepted: {changes:?}");
                    prop_assert_eq!(changes.len(), toks.len());
                }
                Err(problems) => {
                    prop_assert!(!bad.is_empty() || clashes, "{input:?} refused: {problems:?}");
                    let all = problems.join("\n");
                    for t in bad {
                        prop_assert!(all.contains(&format!("{:?}: ", text(t))), "{:?} not named in {problems:?}", text(t));
                    }
                }
            }
        }
    }
}

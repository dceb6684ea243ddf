//! Actions against the simulator through the API: a label changed by someone else after
//! the plan was shown is not overwritten; dry-run changes nothing.

mod common;

use daemonscope::cluster::actions::{Intent, execute, parse_label_changes};
use daemonscope::cluster::watch::Watched;
use daemonscope::model::Model;
use k8s_openapi::api::core::v1::Node;
use kube::Api;
use kube::api::{Patch, PatchParams};

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
    let line = execute(&client, plan, false, "test", "tester").await.to_string();
    assert!(line.contains("label failed") && line.contains("changed since you looked"), "{line}");
    assert_eq!(label_of(&nodes, "node-a", "pool").await.as_deref(), Some("gpu"), "their change stays");
    // Dry-run: validated by the server, nothing applied.
    let mut model = Model::new();
    model.apply(nodes.get("node-a").await.unwrap().change().unwrap());
    let plan = Intent::label(&model, vec!["node-a".into()], parse_label_changes("tier=edge").unwrap()).plan(&model);
    let line = execute(&client, plan, true, "test", "tester").await.to_string();
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
    use daemonscope::cluster::actions::parse_label_changes;
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

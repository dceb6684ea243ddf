//! Raw requests to the simulator over its real socket (HTTPS, bearer token), each with
//! the status code and reason a real kube-apiserver (1.32) answers: authentication, the
//! request limits, and the validation of updates and options.

use crate::common;

use common::*;
use http_body_util::BodyExt as _;
use serde_json::{Value, json};

struct Case {
    what: &'static str,
    /// "admin", "anonymous" or "bad-token".
    who: &'static str,
    method: &'static str,
    path: String,
    content_type: &'static str,
    body: Vec<u8>,
    code: u16,
    /// The Status reason ("" for a success).
    reason: &'static str,
    /// A piece of the Status message (or of the body), "" for none.
    message: String,
}

fn case(what: &'static str, method: &'static str, path: &str, content_type: &'static str, body: impl Into<Vec<u8>>) -> Case {
    Case { what, who: "admin", method, path: path.into(), content_type, body: body.into(), code: 200, reason: "", message: String::new() }
}

impl Case {
    fn by(mut self, who: &'static str) -> Self {
        self.who = who;
        self
    }
    fn expect(mut self, code: u16, reason: &'static str, message: impl Into<String>) -> Self {
        (self.code, self.reason, self.message) = (code, reason, message.into());
        self
    }
}

const DS: &str = "/apis/apps/v1/namespaces/kube-system/daemonsets/agent";
const NODE: &str = "/api/v1/nodes/node-a";

fn nested(depth: usize) -> String {
    format!("{}{}", "[".repeat(depth), "]".repeat(depth))
}

fn ns_yaml(name: &str) -> String {
    format!("apiVersion: v1\nkind: Namespace\nmetadata:\n  name: {name}\n")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_request_gets_the_real_servers_code_and_reason() {
    let sim = serve(&token_cluster("viewer-token", "viewer", "get, list, watch")).await;
    let admin = client(&sim);
    let pod = {
        let pods: kube::Api<k8s_openapi::api::core::v1::Pod> = kube::Api::namespaced(admin.clone(), "kube-system");
        eventually(10, "the agent pod", || {
            let pods = pods.clone();
            async move { pods.list(&Default::default()).await.ok()?.items.first().and_then(|p| p.metadata.name.clone()) }
        })
        .await
    };
    let pod_path = format!("/api/v1/namespaces/kube-system/pods/{pod}");
    let big_annotation = json!({"metadata": {"annotations": {"big": "x".repeat(300 * 1024)}}}).to_string();
    let merge = "application/merge-patch+json";
    let smp = "application/strategic-merge-patch+json";
    let jp = "application/json-patch+json";
    let json_ct = "application/json";
    let unknown_field = json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "strict"}, "spec": {"bogus": 1}}).to_string();
    let cases = vec![
        // Authentication: anonymous requests only see /version and the health checks.
        case("version, anonymous", "GET", "/version", "", "").by("anonymous").expect(200, "", "gitVersion"),
        case("healthz, anonymous", "GET", "/healthz", "", "").by("anonymous").expect(200, "", "ok"),
        case("livez, anonymous", "GET", "/livez", "", "").by("anonymous"),
        case("readyz, anonymous", "GET", "/readyz", "", "").by("anonymous"),
        case("list, anonymous", "GET", "/api/v1/nodes", "", "").by("anonymous").expect(401, "Unauthorized", "Unauthorized"),
        case("discovery, anonymous", "GET", "/apis", "", "").by("anonymous").expect(401, "Unauthorized", ""),
        case("version, wrong token", "GET", "/version", "", "").by("bad-token").expect(401, "Unauthorized", ""),
        case("create, anonymous", "POST", "/api/v1/namespaces", json_ct, json!({"metadata": {"name": "x"}}).to_string())
            .by("anonymous")
            .expect(401, "Unauthorized", ""),
        // Limits.
        case("body over 3 MiB", "PATCH", NODE, merge, vec![b' '; 3 * 1024 * 1024 + 1]).expect(
            413,
            "RequestEntityTooLarge",
            "Request entity too large: limit is 3145728",
        ),
        case("annotations over 256 KiB", "PATCH", NODE, merge, big_annotation).expect(
            422,
            "Invalid",
            "Node \"node-a\" is invalid: metadata.annotations: Too long: may not be more than 262144 bytes",
        ),
        case("JSON nested 10,001 deep", "POST", "/api/v1/namespaces", json_ct, nested(10_001)).expect(400, "BadRequest", ""),
        case("JSON nested 200 deep", "POST", "/api/v1/namespaces", json_ct, format!("{{\"metadata\":{}}}", nested(200)))
            .expect(400, "BadRequest", ""),
        case("text/plain body", "POST", "/api/v1/namespaces", "text/plain", json!({"metadata": {"name": "csrf"}}).to_string())
            .expect(415, "UnsupportedMediaType", "the body of the request was in an unknown format - accepted media types include: application/json, application/yaml, application/vnd.kubernetes.protobuf"),
        case("form post", "POST", "/api/v1/namespaces", "application/x-www-form-urlencoded", "a=b").expect(415, "UnsupportedMediaType", ""),
        case("patch as text/plain", "PATCH", NODE, "text/plain", "{}").expect(
            415,
            "UnsupportedMediaType",
            "accepted media types include: application/json-patch+json, application/merge-patch+json, application/strategic-merge-patch+json, application/apply-patch+yaml",
        ),
        case("YAML body", "POST", "/api/v1/namespaces", "application/yaml", ns_yaml("from-yaml")).expect(201, "", "\"name\":\"from-yaml\""),
        case("watch with a huge timeoutSeconds", "GET", "/api/v1/nodes?watch=true&timeoutSeconds=18446744073709551615", "", "")
            .expect(200, "", ""),
        // Immutable fields.
        case("DaemonSet selector", "PATCH", DS, merge, json!({"spec": {"selector": {"matchLabels": {"app": "other"}}, "template": {"metadata": {"labels": {"app": "other"}}}}}).to_string())
            .expect(422, "Invalid", "DaemonSet.apps \"agent\" is invalid: spec.selector: Invalid value: v1.LabelSelector{MatchLabels:map[string]string{\"app\":\"other\"}, MatchExpressions:[]v1.LabelSelectorRequirement(nil)}: field is immutable"),
        case("metadata.name by patch", "PATCH", NODE, merge, json!({"metadata": {"name": "node-z"}}).to_string())
            .expect(400, "BadRequest", "the name of the object (node-z) does not match the name on the URL (node-a)"),
        case("metadata.namespace by patch", "PATCH", DS, merge, json!({"metadata": {"namespace": "default"}}).to_string())
            .expect(400, "BadRequest", "the namespace of the provided object does not match the namespace sent on the request"),
        case("metadata.uid by patch", "PATCH", NODE, merge, json!({"metadata": {"uid": "0000-new"}}).to_string())
            .expect(422, "Invalid", "Node \"node-a\" is invalid: metadata.uid: Invalid value: \"0000-new\": field is immutable"),
        // The real server keeps the stored creationTimestamp (rest.BeforeUpdate).
        case("metadata.creationTimestamp by patch", "PATCH", NODE, merge, json!({"metadata": {"creationTimestamp": "2001-01-01T00:00:00Z"}}).to_string())
            .expect(200, "", ""),
        case("metadata.deletionTimestamp by patch", "PATCH", &pod_path, smp, json!({"metadata": {"deletionTimestamp": "2030-01-01T00:00:00Z"}}).to_string())
            .expect(422, "Invalid", format!("Pod \"{pod}\" is invalid: metadata.deletionTimestamp: Invalid value: 2030-01-01 00:00:00 +0000 UTC: field is immutable")),
        // Names per kind.
        case("namespace name not a DNS-1123 label", "POST", "/api/v1/namespaces", json_ct, json!({"metadata": {"name": "a.b"}}).to_string())
            .expect(422, "Invalid", "Namespace \"a.b\" is invalid: metadata.name: Invalid value: \"a.b\": must not contain dots"),
        case("service name not a DNS-1035 label", "POST", "/api/v1/namespaces/default/services", json_ct, json!({"metadata": {"name": "1svc"}, "spec": {"ports": [{"port": 80}]}}).to_string())
            .expect(422, "Invalid", "Service \"1svc\" is invalid: metadata.name: Invalid value: \"1svc\": a DNS-1035 label must consist of lower case alphanumeric characters or '-', start with an alphabetic character, and end with an alphanumeric character (e.g. 'my-name',  or 'abc-123', regex used for validation is '[a-z]([-a-z0-9]*[a-z0-9])?')"),
        case("node name not a DNS-1123 subdomain", "POST", "/api/v1/nodes", json_ct, json!({"metadata": {"name": "Node_1"}}).to_string())
            .expect(422, "Invalid", "Node \"Node_1\" is invalid: metadata.name: Invalid value: \"Node_1\": a lowercase RFC 1123 subdomain"),
        case("dotted node name", "POST", "/api/v1/nodes", json_ct, json!({"metadata": {"name": "node.example"}}).to_string()).expect(201, "", ""),
        // Taints (`validateNodeTaints`): the value is a label value, the effect is required.
        case("taint value not a label value", "PATCH", NODE, merge, json!({"spec": {"taints": [{"key": "a", "value": "-b", "effect": "NoSchedule"}]}}).to_string())
            .expect(422, "Invalid", "Node \"node-a\" is invalid: spec.taints[0].value: Invalid value: \"-b\": a valid label must be an empty string or consist of alphanumeric characters"),
        case("taint without an effect", "PATCH", NODE, merge, json!({"spec": {"taints": [{"key": "a"}]}}).to_string())
            .expect(422, "Invalid", "Node \"node-a\" is invalid: spec.taints[0].effect: Required value"),
        // Options.
        case("unknown propagationPolicy", "DELETE", "/api/v1/nodes/node-a?propagationPolicy=Sideways", "", "")
            .expect(422, "Invalid", "DeleteOptions.meta.k8s.io \"\" is invalid: propagationPolicy: Unsupported value: \"Sideways\": supported values: \"Foreground\", \"Background\", \"Orphan\", \"nil\""),
        // JSON patch that cannot apply: 422, not a 500 clients would retry.
        case("JSON patch test fails", "PATCH", NODE, jp, json!([{"op": "test", "path": "/metadata/name", "value": "nope"}]).to_string())
            .expect(422, "Invalid", "the server rejected our request due to an error in our request"),
        case("JSON patch removes a missing path", "PATCH", NODE, jp, json!([{"op": "remove", "path": "/metadata/labels/absent"}]).to_string())
            .expect(422, "Invalid", ""),
        // fieldValidation.
        case("unknown field, Strict", "POST", "/api/v1/namespaces?fieldValidation=Strict", json_ct, unknown_field.clone())
            .expect(400, "BadRequest", "strict decoding error: unknown field \"spec.bogus\""),
        case("unknown field, Warn", "POST", "/api/v1/namespaces?fieldValidation=Warn", json_ct, unknown_field.replace("strict", "warned"))
            .expect(201, "", "warning: 299 - \"unknown field \\\"spec.bogus\\\"\""),
        case("unknown field, Ignore", "POST", "/api/v1/namespaces?fieldValidation=Ignore", json_ct, unknown_field.replace("strict", "ignored"))
            .expect(201, "", ""),
        case("unknown field in a patch, Strict", "PATCH", &format!("{NODE}?fieldValidation=Strict"), merge, json!({"spec": {"bogus": true}}).to_string())
            .expect(400, "BadRequest", "strict decoding error: unknown field \"spec.bogus\""),
        case("bad fieldValidation", "POST", "/api/v1/namespaces?fieldValidation=Loose", json_ct, json!({"metadata": {"name": "x"}}).to_string())
            .expect(422, "Invalid", "CreateOptions.meta.k8s.io \"\" is invalid: fieldValidation: Unsupported value: \"Loose\""),
    ];
    let anonymous = anonymous_client(&sim);
    let bad = client_with_token(&sim, Some("not-a-token"));
    let mut failures = Vec::new();
    for c in &cases {
        let who = match c.who {
            "anonymous" => &anonymous,
            "bad-token" => &bad,
            _ => &admin,
        };
        let mut req = http::Request::builder().method(c.method).uri(&c.path);
        if !c.content_type.is_empty() {
            req = req.header("content-type", c.content_type);
        }
        let resp = who.send(req.body(kube::client::Body::from(c.body.clone())).unwrap()).await.unwrap();
        let code = resp.status().as_u16();
        let warnings: Vec<String> = resp.headers().get_all("warning").iter().map(|v| format!("warning: {}", v.to_str().unwrap())).collect();
        let watch = c.path.contains("watch=true");
        let body =
            if watch { String::new() } else { String::from_utf8_lossy(&resp.into_body().collect().await.unwrap().to_bytes()).into_owned() };
        let status: Value = serde_json::from_str(&body).unwrap_or(Value::Null);
        let reason = status.get("reason").and_then(Value::as_str).unwrap_or("");
        let shown = status.get("message").and_then(Value::as_str).map(String::from).unwrap_or(body);
        let text = format!("{}\n{shown}", warnings.join("\n"));
        let message_ok = c.message.is_empty() || text.contains(&c.message);
        let reason_ok = if c.reason.is_empty() { code < 300 } else { reason == c.reason };
        if code != c.code || !reason_ok || !message_ok {
            failures.push(format!(
                "{}: want {} {} {:?}\n  got {code} {reason}: {}",
                c.what,
                c.code,
                c.reason,
                c.message,
                &text[..text.len().min(600)]
            ));
        }
    }
    assert!(failures.is_empty(), "{} of {} requests answered unlike a real server:\n{}", failures.len(), cases.len(), failures.join("\n"));
    // Ignore sends no warning; the patched creationTimestamp was kept; the pod still lives.
    let ns: Value =
        serde_json::from_str(&admin.request_text(http::Request::get("/api/v1/namespaces/ignored").body(vec![]).unwrap()).await.unwrap())
            .unwrap();
    assert!(ns.pointer("/spec/bogus").is_none());
    let node: Value = serde_json::from_str(&admin.request_text(http::Request::get(NODE).body(vec![]).unwrap()).await.unwrap()).unwrap();
    assert_ne!(node["metadata"]["creationTimestamp"], "2001-01-01T00:00:00Z");
    let p: Value = serde_json::from_str(&admin.request_text(http::Request::get(&pod_path).body(vec![]).unwrap()).await.unwrap()).unwrap();
    assert!(p["metadata"].get("deletionTimestamp").is_none(), "a patch cannot delete: {p}");
    // The selector did not change, so the DaemonSet still owns its pods.
    let ds: Value = serde_json::from_str(&admin.request_text(http::Request::get(DS).body(vec![]).unwrap()).await.unwrap()).unwrap();
    assert_eq!(ds["spec"]["selector"], json!({"matchLabels": {"app": "agent"}}));
}

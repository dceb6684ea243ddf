//! `/openapi/v3` and its per-group-version documents, generated from the same
//! k8s-openapi types the simulator stores (their JSON schemas, via schemars), with what
//! kubectl reads from a real server added: `x-kubernetes-group-version-kind` on each
//! kind's schema and operations, the patch merge keys the server itself uses, and the
//! operations' query parameters (kubectl looks for `fieldValidation` on PATCH before it
//! sends `fieldValidation=Strict`).
//!
//! May import: `sim::api::patch`, `sim::kind`, `sim::store`.

use std::sync::OnceLock;

use k8s_openapi::schemars::generate::SchemaSettings;
use serde_json::{Map, Value, json};

use crate::sim::kind::Kind;
use crate::sim::typed::with_kind;

/// The group-versions served, as their `/openapi/v3/<path>` keys (`api/v1`, `apis/apps/v1`).
fn group_versions() -> Vec<(String, &'static str, &'static str)> {
    let mut out: Vec<(String, &str, &str)> = Vec::new();
    for k in Kind::ALL {
        let i = k.info();
        let path = if i.group.is_empty() { format!("api/{}", i.version) } else { format!("apis/{}/{}", i.group, i.version) };
        if !out.iter().any(|(p, _, _)| *p == path) {
            out.push((path, i.group, i.version));
        }
    }
    out
}

struct Docs {
    root: Value,
    groups: Vec<(String, Value)>,
}

fn docs() -> &'static Docs {
    static DOCS: OnceLock<Docs> = OnceLock::new();
    DOCS.get_or_init(|| {
        let mut paths = Map::new();
        let mut groups = Vec::new();
        for (path, group, version) in group_versions() {
            let doc = group_doc(group, version);
            let hash = fnv(&serde_json::to_vec(&doc).unwrap_or_default());
            paths.insert(path.clone(), json!({"serverRelativeURL": format!("/openapi/v3/{path}?hash={hash:016X}")}));
            groups.push((path, doc));
        }
        Docs { root: json!({"paths": paths}), groups }
    })
}

fn fnv(b: &[u8]) -> u64 {
    b.iter().fold(0xcbf29ce484222325u64, |h, c| (h ^ *c as u64).wrapping_mul(0x100000001b3))
}

/// Every group-version's document.
pub fn v3_documents() -> impl Iterator<Item = &'static Value> {
    docs().groups.iter().map(|(_, d)| d)
}

/// `GET /openapi/v3`: where each group-version's document is.
pub fn v3_root() -> &'static Value {
    &docs().root
}

/// `GET /openapi/v3/<path>` (`api/v1`, `apis/apps/v1`).
pub fn v3_group(path: &str) -> Option<&'static Value> {
    docs().groups.iter().find(|(p, _)| p == path.trim_matches('/')).map(|(_, d)| d)
}

fn gvk(group: &str, version: &str, kind: &str) -> Value {
    json!([{"group": group, "version": version, "kind": kind}])
}

fn group_doc(group: &str, version: &str) -> Value {
    let mut generator = SchemaSettings::openapi3().into_generator();
    let mut kinds = Vec::new();
    for k in Kind::ALL.into_iter().filter(|k| k.info().group == group && k.info().version == version) {
        let name =
            with_kind!(k, T => { generator.subschema_for::<T>(); <T as k8s_openapi::schemars::JsonSchema>::schema_name().into_owned() });
        kinds.push((k, name));
    }
    let mut schemas = generator.take_definitions(true);
    for (k, name) in &kinds {
        if let Some(Value::Object(s)) = schemas.get_mut(name) {
            s.insert("x-kubernetes-group-version-kind".into(), gvk(group, version, k.info().kind));
        }
    }
    for s in schemas.values_mut() {
        add_patch_keys(s);
    }
    let mut paths = Map::new();
    for (k, name) in &kinds {
        operations(*k, name, &mut paths);
    }
    json!({
        "openapi": "3.0.0",
        "info": {"title": "Kubernetes", "version": crate::sim::api::discovery::GIT_VERSION},
        "paths": paths,
        "components": {"schemas": schemas},
    })
}

/// The merge key of each list property the server merges by key (as the real schemas'
/// `x-kubernetes-patch-merge-key` / `x-kubernetes-patch-strategy` say).
fn add_patch_keys(schema: &mut Value) {
    let Some(Value::Object(props)) = schema.get_mut("properties") else { return };
    for (field, p) in props.iter_mut() {
        let is_list = p.get("type").and_then(Value::as_str) == Some("array");
        if let (true, Some(key), Value::Object(m)) = (is_list, super::patch::merge_key(field), p) {
            m.insert("x-kubernetes-patch-merge-key".into(), json!(key));
            m.insert("x-kubernetes-patch-strategy".into(), json!("merge"));
            m.insert("x-kubernetes-list-type".into(), json!("map"));
            m.insert("x-kubernetes-list-map-keys".into(), json!([key]));
        }
    }
}

fn query(name: &str, description: &str) -> Value {
    json!({"name": name, "in": "query", "description": description, "schema": {"type": "string", "uniqueItems": true}})
}

fn operations(k: Kind, schema: &str, paths: &mut Map<String, Value>) {
    let i = k.info();
    let prefix = if i.group.is_empty() { format!("/api/{}", i.version) } else { format!("/apis/{}/{}", i.group, i.version) };
    let collection =
        if i.namespaced { format!("{prefix}/namespaces/{{namespace}}/{}", i.plural) } else { format!("{prefix}/{}", i.plural) };
    let item = format!("{collection}/{{name}}");
    let r#ref = json!({"$ref": format!("#/components/schemas/{schema}")});
    let body = json!({"content": {"application/json": {"schema": r#ref}, "application/yaml": {"schema": r#ref}}, "required": true});
    let ok = json!({"200": {"description": "OK", "content": {"application/json": {"schema": r#ref}}}});
    let gvk = json!({"group": i.group, "version": i.version, "kind": i.kind});
    let write_params = [
        query("dryRun", "When present, indicates that modifications should not be persisted."),
        query("fieldManager", "A name associated with the actor or entity that is making these changes."),
        query("fieldValidation", "Ignore, Warn or Strict: what to do about unknown or duplicate fields."),
    ];
    let op = |action: &str, id: &str, extra: Option<&Value>| {
        let mut o = json!({"operationId": format!("{id}{}", i.kind), "x-kubernetes-action": action, "x-kubernetes-group-version-kind": gvk, "responses": ok});
        if let Some(b) = extra {
            o["requestBody"] = b.clone();
            o["parameters"] = json!(write_params);
        }
        o
    };
    let patch_body = json!({"content": {
        "application/json-patch+json": {"schema": {"type": "object"}},
        "application/merge-patch+json": {"schema": {"type": "object"}},
        "application/strategic-merge-patch+json": {"schema": {"type": "object"}},
    }, "required": true});
    let mut patch = op("patch", "patch", Some(&patch_body));
    if let Some(p) = patch["parameters"].as_array_mut() {
        p.push(query("force", "Force is going to \"force\" Apply requests."));
    }
    paths.insert(collection, json!({"get": op("list", "list", None), "post": op("post", "create", Some(&body))}));
    paths.insert(
        item,
        json!({"get": op("get", "read", None), "put": op("put", "replace", Some(&body)), "patch": patch, "delete": op("delete", "delete", None)}),
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_apps_document_describes_daemonsets_as_kubectl_reads_them() {
        let doc = v3_group("apis/apps/v1").expect("apps/v1");
        let ds = &doc["components"]["schemas"]["io.k8s.api.apps.v1.DaemonSet"];
        assert_eq!(ds["x-kubernetes-group-version-kind"], json!([{"group": "apps", "version": "v1", "kind": "DaemonSet"}]));
        let spec = &doc["components"]["schemas"]["io.k8s.api.apps.v1.DaemonSetSpec"];
        assert_eq!(
            spec["properties"]["updateStrategy"]["allOf"][0]["$ref"],
            "#/components/schemas/io.k8s.api.apps.v1.DaemonSetUpdateStrategy"
        );
        let pod_spec = &doc["components"]["schemas"]["io.k8s.api.core.v1.PodSpec"];
        assert_eq!(pod_spec["properties"]["containers"]["x-kubernetes-patch-merge-key"], "name");
        let patch = &doc["paths"]["/apis/apps/v1/namespaces/{namespace}/daemonsets/{name}"]["patch"];
        assert!(patch["parameters"].as_array().unwrap().iter().any(|p| p["name"] == "fieldValidation"));
        assert!(v3_root()["paths"]["apis/apps/v1"]["serverRelativeURL"].as_str().unwrap().starts_with("/openapi/v3/apis/apps/v1?hash="));
    }
}

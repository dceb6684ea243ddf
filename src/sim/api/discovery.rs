//! Discovery documents: `/version`, `/api`, `/apis`, and one resource list per group-version.
//!
//! May import: `sim::kind`.

use serde_json::{Value, json};

use crate::sim::kind::Kind;

pub const SERVER_VERSION: (&str, &str) = ("1", "32");
pub const GIT_VERSION: &str = "v1.32.4+daemonscope-sim";

pub fn version() -> Value {
    json!({
        "major": SERVER_VERSION.0,
        "minor": SERVER_VERSION.1,
        "gitVersion": GIT_VERSION,
        "gitCommit": "0000000000000000000000000000000000000000",
        "gitTreeState": "clean",
        "buildDate": "2026-01-01T00:00:00Z",
        "goVersion": "go1.23.8",
        "compiler": "gc",
        "platform": format!("linux/{}", if cfg!(target_arch = "aarch64") { "arm64" } else { "amd64" }),
    })
}

pub fn api_versions() -> Value {
    json!({
        "kind": "APIVersions",
        "versions": ["v1"],
        "serverAddressByClientCIDRs": [{"clientCIDR": "0.0.0.0/0", "serverAddress": "127.0.0.1"}],
    })
}

const EXTRA_GROUPS: &[(&str, &str)] = &[("authorization.k8s.io", "v1")];

pub fn api_groups() -> Value {
    let mut groups: Vec<(&str, &str)> = Vec::new();
    for k in Kind::ALL {
        let i = k.info();
        if !i.group.is_empty() && !groups.contains(&(i.group, i.version)) {
            groups.push((i.group, i.version));
        }
    }
    groups.extend_from_slice(EXTRA_GROUPS);
    let groups: Vec<Value> = groups
        .iter()
        .map(|(g, v)| {
            let gv = json!({"groupVersion": format!("{g}/{v}"), "version": v});
            json!({"name": g, "versions": [gv.clone()], "preferredVersion": gv})
        })
        .collect();
    json!({"kind": "APIGroupList", "apiVersion": "v1", "groups": groups})
}

/// The `APIResourceList` for a group-version, or None if we do not serve it.
pub fn resource_list(group: &str, version: &str) -> Option<Value> {
    let gv = if group.is_empty() { version.to_string() } else { format!("{group}/{version}") };
    let mut resources = Vec::new();
    if group == "authorization.k8s.io" && version == "v1" {
        resources.push(json!({
            "name": "selfsubjectaccessreviews", "singularName": "selfsubjectaccessreview", "namespaced": false,
            "kind": "SelfSubjectAccessReview", "verbs": ["create"],
        }));
    }
    for k in Kind::ALL {
        let i = k.info();
        if i.group != group || i.version != version {
            continue;
        }
        let mut r = json!({
            "name": i.plural,
            "singularName": i.singular,
            "namespaced": i.namespaced,
            "kind": i.kind,
            "verbs": i.verbs,
            "storageVersionHash": "",
        });
        if !i.short_names.is_empty() {
            r["shortNames"] = json!(i.short_names);
        }
        if !i.categories.is_empty() {
            r["categories"] = json!(i.categories);
        }
        resources.push(r);
        for sub in i.subresources {
            let (kind, verbs): (&str, &[&str]) = match *sub {
                "status" => (i.kind, &["get", "patch", "update"]),
                "log" => ("Pod", &["get"]),
                "eviction" => ("Eviction", &["create"]),
                _ => continue,
            };
            let mut r = json!({"name": format!("{}/{sub}", i.plural), "singularName": "", "namespaced": i.namespaced, "kind": kind, "verbs": verbs});
            if *sub == "eviction" {
                r["group"] = json!("policy");
                r["version"] = json!("v1");
            }
            resources.push(r);
        }
    }
    if resources.is_empty() {
        return None;
    }
    Some(json!({"kind": "APIResourceList", "apiVersion": "v1", "groupVersion": gv, "resources": resources}))
}

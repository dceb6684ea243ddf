//! The three patch types of the API server: JSON merge (RFC 7386), JSON patch
//! (RFC 6902), and strategic merge — the latter for the fields whose lists the
//! Kubernetes types mark with a patch merge key (`containers` by `name`, …).
//!
//! May import: `sim::errors`.

use serde_json::{Map, Value};

use crate::sim::errors::ApiError;

pub enum PatchType {
    Merge,
    Strategic,
    Json,
}

impl PatchType {
    pub fn from_content_type(ct: &str) -> Result<Self, ApiError> {
        let ct = ct.split(';').next().unwrap_or("").trim();
        match ct {
            "application/merge-patch+json" => Ok(PatchType::Merge),
            "application/strategic-merge-patch+json" => Ok(PatchType::Strategic),
            "application/json-patch+json" => Ok(PatchType::Json),
            "application/apply-patch+yaml" => Err(ApiError::unsupported_media(
                "the simulator does not implement server-side apply (application/apply-patch+yaml); use client-side kubectl apply",
            )),
            _ => Err(ApiError::unsupported_media(
                "the body of the request was in an unknown format - accepted media types include: application/json-patch+json, application/merge-patch+json, application/strategic-merge-patch+json, application/apply-patch+yaml",
            )),
        }
    }
}

pub fn apply(doc: &mut Value, ty: &PatchType, body: &[u8]) -> Result<(), ApiError> {
    match ty {
        PatchType::Json => {
            let p: json_patch::Patch =
                serde_json::from_slice(body).map_err(|e| ApiError::bad_request(format!("error decoding patch: {e}")))?;
            // A failed `test` or a missing path: 422, as the real server answers (not 500).
            json_patch::patch(doc, &p).map_err(|_| ApiError::patch_not_applicable())?;
        }
        PatchType::Merge => {
            let p: Value = serde_json::from_slice(body).map_err(|e| ApiError::bad_request(format!("error decoding patch: {e}")))?;
            json_patch::merge(doc, &p);
        }
        PatchType::Strategic => {
            let p: Value = serde_json::from_slice(body).map_err(|e| ApiError::bad_request(format!("error decoding patch: {e}")))?;
            strategic_merge(doc, &p);
        }
    }
    Ok(())
}

/// The patch merge key of a list field, or None for lists that are replaced.
pub(crate) fn merge_key(field: &str) -> Option<&'static str> {
    Some(match field {
        "containers"
        | "initContainers"
        | "ephemeralContainers"
        | "volumes"
        | "env"
        | "imagePullSecrets"
        | "ownerReferences"
        | "containerStatuses"
        | "initContainerStatuses"
        | "resourceClaims" => {
            if field == "ownerReferences" {
                "uid"
            } else {
                "name"
            }
        }
        "ports" => "containerPort",
        "volumeMounts" => "mountPath",
        "volumeDevices" => "devicePath",
        "conditions" => "type",
        "addresses" => "type",
        "hostAliases" => "ip",
        "topologySpreadConstraints" => "topologyKey",
        _ => return None,
    })
}

/// Lists of scalars that strategic merge treats as sets (`patchStrategy:merge`).
fn merges_primitives(field: &str) -> bool {
    field == "finalizers"
}

fn strategic_merge(doc: &mut Value, patch: &Value) {
    let Value::Object(pm) = patch else {
        *doc = patch.clone();
        return;
    };
    if pm.get("$patch").and_then(Value::as_str) == Some("replace") {
        let mut p = pm.clone();
        p.remove("$patch");
        *doc = Value::Object(p);
        return;
    }
    if pm.get("$patch").and_then(Value::as_str) == Some("delete") {
        *doc = Value::Null;
        return;
    }
    if !doc.is_object() {
        *doc = Value::Object(Map::new());
    }
    let dm = doc.as_object_mut().expect("object");
    let retain: Option<Vec<String>> =
        pm.get("$retainKeys").and_then(Value::as_array).map(|a| a.iter().filter_map(|v| v.as_str().map(String::from)).collect());
    for (k, pv) in pm {
        if k.starts_with("$setElementOrder/") || k == "$retainKeys" || k == "$patch" {
            continue;
        }
        if let Some(list) = k.strip_prefix("$deleteFromPrimitiveList/") {
            if let (Some(Value::Array(cur)), Value::Array(del)) = (dm.get_mut(list), pv) {
                cur.retain(|x| !del.contains(x));
            }
            continue;
        }
        if pv.is_null() {
            dm.remove(k);
            continue;
        }
        match (dm.get_mut(k), pv) {
            (Some(dv @ Value::Object(_)), Value::Object(_)) => strategic_merge(dv, pv),
            (Some(Value::Array(da)), Value::Array(pa)) => {
                if let Some(key) = merge_key(k) {
                    merge_list(da, pa, key);
                } else if merges_primitives(k) {
                    for x in pa {
                        if !da.contains(x) {
                            da.push(x.clone());
                        }
                    }
                } else {
                    *da = pa.iter().filter(|x| !x.is_null()).cloned().collect();
                }
            }
            _ => {
                let mut v = Value::Null;
                strategic_merge_new(&mut v, pv);
                dm.insert(k.clone(), v);
            }
        }
    }
    if let Some(keep) = retain {
        dm.retain(|k, _| keep.contains(k));
    }
}

/// Inserting a new value: directives inside it are dropped.
fn strategic_merge_new(doc: &mut Value, patch: &Value) {
    match patch {
        Value::Object(m) => {
            let mut out = Map::new();
            for (k, v) in m {
                if k.starts_with('$') || v.is_null() {
                    continue;
                }
                let mut nv = Value::Null;
                strategic_merge_new(&mut nv, v);
                out.insert(k.clone(), nv);
            }
            *doc = Value::Object(out);
        }
        Value::Array(a) => {
            *doc = Value::Array(
                a.iter()
                    .filter(|x| !(x.is_object() && x.get("$patch").is_some()))
                    .map(|x| {
                        let mut nv = Value::Null;
                        strategic_merge_new(&mut nv, x);
                        nv
                    })
                    .collect(),
            )
        }
        other => *doc = other.clone(),
    }
}

fn merge_list(doc: &mut Vec<Value>, patch: &[Value], key: &str) {
    for p in patch {
        let Some(kv) = p.get(key) else {
            // Not keyed (e.g. a scalar list with a key declared): append.
            doc.push(p.clone());
            continue;
        };
        let directive = p.get("$patch").and_then(Value::as_str);
        let pos = doc.iter().position(|d| d.get(key) == Some(kv));
        match (pos, directive) {
            (Some(i), Some("delete")) => {
                doc.remove(i);
            }
            (None, Some("delete")) => {}
            (Some(i), Some("replace")) => {
                let mut v = p.clone();
                v.as_object_mut().map(|m| m.remove("$patch"));
                doc[i] = v;
            }
            (Some(i), _) => strategic_merge(&mut doc[i], p),
            (None, _) => {
                let mut v = Value::Null;
                strategic_merge_new(&mut v, p);
                doc.push(v);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn smp(mut doc: Value, patch: Value) -> Value {
        apply(&mut doc, &PatchType::Strategic, patch.to_string().as_bytes()).unwrap();
        doc
    }

    #[test]
    fn cordon_and_uncordon() {
        let d = smp(json!({"spec":{"podCIDR":"x"}}), json!({"spec":{"unschedulable":true}}));
        assert_eq!(d, json!({"spec":{"podCIDR":"x","unschedulable":true}}));
        let d = smp(d, json!({"spec":{"unschedulable":null}}));
        assert_eq!(d, json!({"spec":{"podCIDR":"x"}}));
    }

    #[test]
    fn set_image_merges_containers_by_name() {
        let doc = json!({"spec":{"template":{"spec":{"containers":[{"name":"a","image":"a:1"},{"name":"b","image":"b:1"}]}}}});
        let d = smp(
            doc,
            json!({"spec":{"template":{"spec":{"$setElementOrder/containers":[{"name":"a"},{"name":"b"}],"containers":[{"name":"b","image":"b:2"}]}}}}),
        );
        assert_eq!(d["spec"]["template"]["spec"]["containers"], json!([{"name":"a","image":"a:1"},{"name":"b","image":"b:2"}]));
    }

    #[test]
    fn taints_are_replaced_and_delete_directive_works() {
        let doc = json!({"spec":{"taints":[{"key":"a","effect":"NoSchedule"}]}});
        let d = smp(doc, json!({"spec":{"taints":[{"key":"b","effect":"NoExecute"}]}}));
        assert_eq!(d["spec"]["taints"], json!([{"key":"b","effect":"NoExecute"}]));
        let doc = json!({"spec":{"containers":[{"name":"a"},{"name":"b"}]}});
        let d = smp(doc, json!({"spec":{"containers":[{"name":"a","$patch":"delete"}]}}));
        assert_eq!(d["spec"]["containers"], json!([{"name":"b"}]));
    }

    #[test]
    fn merge_and_json_patch() {
        let mut d = json!({"metadata":{"labels":{"a":"1","b":"2"}}});
        apply(&mut d, &PatchType::Merge, br#"{"metadata":{"labels":{"a":null,"c":"3"}}}"#).unwrap();
        assert_eq!(d, json!({"metadata":{"labels":{"b":"2","c":"3"}}}));
        apply(&mut d, &PatchType::Json, br#"[{"op":"add","path":"/metadata/labels/d","value":"4"}]"#).unwrap();
        assert_eq!(d["metadata"]["labels"]["d"], "4");
    }
}

//! Request bodies in protobuf (`Content-Type: application/vnd.kubernetes.protobuf`), read
//! through upstream's schema ([`crate::k8s::proto`]) into the JSON the handlers take: what
//! kubectl's typed clients send (1.32 and later: the `SelfSubjectAccessReview` of `kubectl
//! auth can-i`, the `PriorityClass` of `kubectl create priorityclass`, the `DeleteOptions`
//! of a DELETE such as `kubectl drain --disable-eviction`), and any other object of a kind
//! the schema has. As kube-apiserver's protobuf serializer, the envelope says what the
//! body is (`runtime/serializer/protobuf/protobuf.go`, `Serializer.Decode`).
//!
//! May import: `k8s::proto`.

use k8s_openapi::api::authorization::v1::SelfSubjectAccessReview;
use serde_json::Value;

use crate::k8s::proto;

pub const CONTENT_TYPE: &str = proto::wire::MEDIA_TYPE;

/// An enveloped object as its JSON, with the apiVersion and kind its envelope names.
pub fn object_json(body: &[u8]) -> Result<Value, String> {
    let (api_version, kind) = proto::kind_of(body).map_err(|e| e.to_string())?;
    let mut v: Value = proto::object(body).map_err(|e| e.to_string())?;
    let o = v.as_object_mut().ok_or("not an object")?;
    o.insert("apiVersion".into(), api_version.into());
    o.insert("kind".into(), kind.into());
    Ok(v)
}

/// An object that must be of `kind` (the envelope says which it is).
fn of_kind(body: &[u8], kind: &str) -> Option<Value> {
    object_json(body).ok().filter(|v| v["kind"] == kind)
}

/// `DeleteOptions` as JSON, or None for a body that is not one.
pub fn delete_options_json(body: &[u8]) -> Option<Value> {
    of_kind(body, "DeleteOptions")
}

pub fn self_subject_access_review(body: &[u8]) -> Option<SelfSubjectAccessReview> {
    serde_json::from_value(of_kind(body, "SelfSubjectAccessReview")?).ok()
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::k8s::proto::wire::{put_bytes_field, put_varint_field, seal};

    #[test]
    fn decodes_delete_options() {
        let mut opts = Vec::new();
        put_varint_field(&mut opts, 1, 30);
        put_bytes_field(&mut opts, 4, b"Background");
        put_bytes_field(&mut opts, 5, b"All");
        let body = seal("meta.k8s.io/v1", "DeleteOptions", &opts);
        let mut v = delete_options_json(&body).unwrap();
        v.as_object_mut().unwrap().remove("apiVersion");
        v.as_object_mut().unwrap().remove("kind");
        assert_eq!(v, json!({"propagationPolicy": "Background", "gracePeriodSeconds": 30, "dryRun": ["All"]}));
        assert!(delete_options_json(b"{}").is_none());
    }

    #[test]
    fn decodes_what_kubectl_sends() {
        let mut attrs = Vec::new();
        put_bytes_field(&mut attrs, 2, b"patch");
        put_bytes_field(&mut attrs, 5, b"nodes");
        let mut spec = Vec::new();
        put_bytes_field(&mut spec, 1, &attrs);
        let mut review = Vec::new();
        put_bytes_field(&mut review, 2, &spec);
        let body = seal("authorization.k8s.io/v1", "SelfSubjectAccessReview", &review);
        let r = self_subject_access_review(&body).unwrap();
        let a = r.spec.resource_attributes.unwrap();
        assert_eq!((a.verb.as_deref(), a.resource.as_deref()), (Some("patch"), Some("nodes")));
        assert!(self_subject_access_review(b"{}").is_none());
        // A priority class, as `kubectl create priorityclass` posts it.
        let mut meta = Vec::new();
        put_bytes_field(&mut meta, 1, b"high");
        let mut pc = Vec::new();
        put_bytes_field(&mut pc, 1, &meta);
        put_varint_field(&mut pc, 2, 1000);
        put_varint_field(&mut pc, 3, 0);
        let v = object_json(&seal("scheduling.k8s.io/v1", "PriorityClass", &pc)).unwrap();
        assert_eq!(
            v,
            json!({"apiVersion": "scheduling.k8s.io/v1", "kind": "PriorityClass", "metadata": {"name": "high"}, "value": 1000, "globalDefault": false})
        );
    }
}

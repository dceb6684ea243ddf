//! Just enough of the Kubernetes protobuf encoding to read what kubectl sends as
//! protobuf: the `k8s\0` + `runtime.Unknown` envelope, a `SelfSubjectAccessReview`
//! (`kubectl auth can-i` posts one with `Content-Type: application/vnd.kubernetes.protobuf`)
//! a `PriorityClass` (`kubectl create priorityclass`) and the `DeleteOptions` body of a
//! DELETE (kubectl 1.32 and later send it as protobuf, e.g. `kubectl drain --disable-eviction`).
//! Replies are always JSON, which kubectl accepts.
//!
//! May import: nothing else in the crate.

use k8s_openapi::api::authorization::v1::{
    NonResourceAttributes, ResourceAttributes, SelfSubjectAccessReview, SelfSubjectAccessReviewSpec,
};
use serde_json::{Value, json};

pub const CONTENT_TYPE: &str = "application/vnd.kubernetes.protobuf";
const MAGIC: &[u8] = b"k8s\0";

struct Reader<'a> {
    b: &'a [u8],
    i: usize,
}

impl<'a> Reader<'a> {
    fn varint(&mut self) -> Option<u64> {
        let mut v = 0u64;
        for shift in (0..64).step_by(7) {
            let byte = *self.b.get(self.i)?;
            self.i += 1;
            v |= ((byte & 0x7f) as u64) << shift;
            if byte & 0x80 == 0 {
                return Some(v);
            }
        }
        None
    }

    /// Next field: (number, wire type, payload for length-delimited fields).
    fn field(&mut self) -> Option<(u64, u8, &'a [u8])> {
        self.field_value().map(|(n, wt, s, _)| (n, wt, s))
    }

    /// Next field, with the value of a varint field.
    fn field_value(&mut self) -> Option<(u64, u8, &'a [u8], u64)> {
        if self.i >= self.b.len() {
            return None;
        }
        let key = self.varint()?;
        let (num, wt) = (key >> 3, (key & 7) as u8);
        match wt {
            0 => {
                let v = self.varint()?;
                Some((num, wt, &[], v))
            }
            1 => {
                self.i += 8;
                Some((num, wt, &[], 0))
            }
            2 => {
                let len = self.varint()? as usize;
                let s = self.b.get(self.i..self.i + len)?;
                self.i += len;
                Some((num, wt, s, 0))
            }
            5 => {
                self.i += 4;
                Some((num, wt, &[], 0))
            }
            _ => None,
        }
    }
}

fn fields(b: &[u8]) -> Vec<(u64, &[u8])> {
    let mut r = Reader { b, i: 0 };
    let mut out = Vec::new();
    while let Some((n, wt, s)) = r.field() {
        if wt == 2 {
            out.push((n, s));
        }
    }
    out
}

fn string(b: &[u8]) -> Option<String> {
    String::from_utf8(b.to_vec()).ok()
}

/// The raw object inside the envelope.
pub fn unwrap_envelope(body: &[u8]) -> Option<&[u8]> {
    let rest = body.strip_prefix(MAGIC)?;
    fields(rest).into_iter().find(|(n, _)| *n == 2).map(|(_, raw)| raw)
}

/// `ObjectMeta` fields a create sends: name, generateName, labels, annotations.
fn object_meta(b: &[u8]) -> Value {
    let mut m = serde_json::Map::new();
    for (n, s) in fields(b) {
        match n {
            1 => {
                m.insert("name".into(), json!(string(s)));
            }
            2 => {
                m.insert("generateName".into(), json!(string(s)));
            }
            11 | 12 => {
                let key = if n == 11 { "labels" } else { "annotations" };
                let (mut k, mut v) = (String::new(), String::new());
                for (en, es) in fields(s) {
                    match en {
                        1 => k = string(es).unwrap_or_default(),
                        2 => v = string(es).unwrap_or_default(),
                        _ => {}
                    }
                }
                m.entry(key).or_insert_with(|| json!({}))[k] = json!(v);
            }
            _ => {}
        }
    }
    Value::Object(m)
}

/// `DeleteOptions` (`k8s.io/apimachinery/pkg/apis/meta/v1/generated.proto`: 1
/// gracePeriodSeconds, 2 preconditions {1 uid, 2 resourceVersion}, 3 orphanDependents, 4
/// propagationPolicy, 5 dryRun) as JSON, or None for a body that is not one.
pub fn delete_options_json(body: &[u8]) -> Option<Value> {
    let raw = unwrap_envelope(body)?;
    let mut m = serde_json::Map::new();
    let mut r = Reader { b: raw, i: 0 };
    while let Some((n, wt, s, v)) = r.field_value() {
        match (n, wt) {
            (1, 0) => {
                m.insert("gracePeriodSeconds".into(), json!(v as i64));
            }
            (2, 2) => {
                let mut p = serde_json::Map::new();
                for (pn, ps) in fields(s) {
                    let key = if pn == 1 { "uid" } else { "resourceVersion" };
                    p.insert(key.into(), json!(string(ps)?));
                }
                m.insert("preconditions".into(), Value::Object(p));
            }
            (3, 0) => {
                m.insert("orphanDependents".into(), json!(v != 0));
            }
            (4, 2) => {
                m.insert("propagationPolicy".into(), json!(string(s)?));
            }
            (5, 2) => {
                m.entry("dryRun").or_insert_with(|| json!([])).as_array_mut()?.push(json!(string(s)?));
            }
            _ => {}
        }
    }
    Some(Value::Object(m))
}

/// A PriorityClass as JSON (`kubectl create priorityclass` posts protobuf), or None for
/// another kind or a body that is not one.
pub fn priority_class_json(body: &[u8]) -> Option<Value> {
    let raw = unwrap_envelope(body)?;
    let mut out = json!({"apiVersion": "scheduling.k8s.io/v1", "kind": "PriorityClass", "value": 0});
    let mut r = Reader { b: raw, i: 0 };
    while let Some((n, wt, s, v)) = r.field_value() {
        match (n, wt) {
            (1, 2) => out["metadata"] = object_meta(s),
            (2, 0) => out["value"] = json!(v as u32 as i32),
            (3, 0) => out["globalDefault"] = json!(v != 0),
            (4, 2) => out["description"] = json!(string(s)?),
            (5, 2) => out["preemptionPolicy"] = json!(string(s)?),
            _ => {}
        }
    }
    Some(out)
}

pub fn self_subject_access_review(body: &[u8]) -> Option<SelfSubjectAccessReview> {
    let raw = unwrap_envelope(body)?;
    let mut spec = SelfSubjectAccessReviewSpec::default();
    for (n, b) in fields(raw) {
        if n != 2 {
            continue;
        }
        for (sn, sb) in fields(b) {
            match sn {
                1 => {
                    let mut a = ResourceAttributes::default();
                    for (an, ab) in fields(sb) {
                        let v = string(ab);
                        match an {
                            1 => a.namespace = v,
                            2 => a.verb = v,
                            3 => a.group = v,
                            4 => a.version = v,
                            5 => a.resource = v,
                            6 => a.subresource = v,
                            7 => a.name = v,
                            _ => {}
                        }
                    }
                    spec.resource_attributes = Some(a);
                }
                2 => {
                    let mut a = NonResourceAttributes::default();
                    for (an, ab) in fields(sb) {
                        match an {
                            1 => a.path = string(ab),
                            2 => a.verb = string(ab),
                            _ => {}
                        }
                    }
                    spec.non_resource_attributes = Some(a);
                }
                _ => {}
            }
        }
    }
    Some(SelfSubjectAccessReview { spec, ..Default::default() })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ld(n: u64, payload: &[u8]) -> Vec<u8> {
        let mut v = vec![((n << 3) | 2) as u8, payload.len() as u8];
        v.extend_from_slice(payload);
        v
    }

    #[test]
    fn decodes_delete_options() {
        let opts = [ld(4, b"Background"), vec![0x08, 0x1e], ld(5, b"All")].concat();
        let body = [b"k8s\0".to_vec(), ld(1, &[ld(1, b"meta.k8s.io/v1"), ld(2, b"DeleteOptions")].concat()), ld(2, &opts)].concat();
        assert_eq!(
            delete_options_json(&body).unwrap(),
            json!({"propagationPolicy": "Background", "gracePeriodSeconds": 30, "dryRun": ["All"]})
        );
        assert!(delete_options_json(b"{}").is_none());
    }

    #[test]
    fn decodes_what_kubectl_sends() {
        let attrs = [ld(2, b"patch"), ld(5, b"nodes")].concat();
        let review = ld(2, &ld(1, &attrs));
        let type_meta = [ld(1, b"authorization.k8s.io/v1"), ld(2, b"SelfSubjectAccessReview")].concat();
        let body = [MAGIC.to_vec(), ld(1, &type_meta), ld(2, &review)].concat();
        let r = self_subject_access_review(&body).unwrap();
        let a = r.spec.resource_attributes.unwrap();
        assert_eq!((a.verb.as_deref(), a.resource.as_deref()), (Some("patch"), Some("nodes")));
        assert!(self_subject_access_review(b"{}").is_none());
    }
}

//! ControllerRevisions of a DaemonSet: the template hash that names them, creating
//! the current one (or bumping an old one back on top), and `cleanupHistory`.
//!
//! May import: `sim::controller::daemonset::pods`, `sim::objects`, `sim::store`.

use k8s_openapi::api::apps::v1 as apps;
use k8s_openapi::api::core::v1 as core;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use k8s_openapi::apimachinery::pkg::runtime::RawExtension;
use serde_json::json;

use super::pods::{REVISION_HASH_LABEL, owned_by, owner_ref};
use crate::sim::objects::default_pod_spec;
use crate::sim::store::Store;

/// FNV-32a, then the `SafeEncodeString` alphabet, as `controller.ComputeHash` does.
pub fn compute_hash(template: &core::PodTemplateSpec, collision_count: Option<i32>) -> String {
    let mut h: u32 = 0x811c9dc5;
    let mut feed = |b: &[u8]| {
        for x in b {
            h ^= *x as u32;
            h = h.wrapping_mul(0x01000193);
        }
    };
    feed(&serde_json::to_vec(template).unwrap_or_default());
    if let Some(c) = collision_count {
        feed(&c.to_le_bytes());
    }
    const ALPHA: &[u8] = b"bcdfghjklmnpqrstvwxz2456789";
    let digits = h.to_string();
    digits.bytes().map(|d| ALPHA[(d as usize) % ALPHA.len()] as char).collect()
}

fn hash_of(r: &apps::ControllerRevision) -> Option<&str> {
    r.metadata.labels.as_ref()?.get(REVISION_HASH_LABEL).map(String::as_str)
}

/// `constructHistory`'s current revision: the owned revision whose data holds the
/// DaemonSet's template (the newest, if several do). Its hash names the pods.
pub(super) fn current_hash(store: &Store, ds: &apps::DaemonSet) -> Option<String> {
    let ns = ds.metadata.namespace.clone().unwrap_or_default();
    let uid = ds.metadata.uid.clone().unwrap_or_default();
    let template = &ds.spec.as_ref()?.template;
    let computed = compute_hash(template, ds.status.as_ref().and_then(|s| s.collision_count));
    let (revs, _) = store.list::<apps::ControllerRevision>(Some(&ns));
    let mut mine: Vec<_> = revs.iter().filter(|r| r.metadata.owner_references.iter().flatten().any(|o| o.uid == uid)).collect();
    // The common case, without decoding: the revision this controller made for the template.
    if mine.iter().any(|r| hash_of(r) == Some(computed.as_str())) {
        return Some(computed);
    }
    mine.sort_by_key(|r| std::cmp::Reverse(r.revision));
    mine.into_iter()
        .find(|r| {
            let Some(mut t) = r.data.as_ref().and_then(|d| d.0.pointer("/spec/template")).cloned() else { return false };
            if let Some(o) = t.as_object_mut() {
                o.remove("$patch");
            }
            // Defaulted as the DaemonSet's template was (a revision written by another
            // API server may lack a default this one adds).
            serde_json::from_value::<core::PodTemplateSpec>(t).is_ok_and(|mut t| {
                if let Some(ps) = t.spec.as_mut() {
                    default_pod_spec(ps);
                }
                t == *template
            })
        })
        .and_then(|r| hash_of(r).map(str::to_string))
}

/// Creates the revision for the current template (or bumps an old one back to the top).
pub(super) fn ensure_revision(store: &Store, ds: &apps::DaemonSet, hash: &str) {
    let ns = ds.metadata.namespace.clone().unwrap_or_default();
    let name = format!("{}-{hash}", ds.metadata.name.clone().unwrap_or_default());
    let uid = ds.metadata.uid.clone().unwrap_or_default();
    let (revs, _) = store.list::<apps::ControllerRevision>(Some(&ns));
    let mine: Vec<_> = revs.iter().filter(|r| r.metadata.owner_references.iter().flatten().any(|o| o.uid == uid)).collect();
    let max = mine.iter().map(|r| r.revision).max().unwrap_or(0);
    if let Some(cur) = mine.iter().find(|r| hash_of(r) == Some(hash)) {
        if cur.revision < max {
            let name = cur.metadata.name.clone().unwrap_or_default();
            let _ = store.modify::<apps::ControllerRevision>(&ns, &name, |r| {
                r.revision = max + 1;
                true
            });
        }
        return;
    }
    let tpl = ds.spec.as_ref().map(|s| s.template.clone()).unwrap_or_default();
    let mut tpl_json = serde_json::to_value(&tpl).unwrap_or_default();
    tpl_json["$patch"] = json!("replace");
    let mut labels = tpl.metadata.as_ref().and_then(|m| m.labels.clone()).unwrap_or_default();
    labels.insert(REVISION_HASH_LABEL.into(), hash.into());
    let rev = apps::ControllerRevision {
        metadata: ObjectMeta {
            name: Some(name),
            namespace: Some(ns),
            labels: Some(labels),
            annotations: ds.metadata.annotations.clone(),
            owner_references: Some(vec![owner_ref(ds)]),
            ..Default::default()
        },
        data: Some(RawExtension(json!({"spec": {"template": tpl_json}}))),
        revision: max + 1,
    };
    let _ = store.create(rev);
}

/// `cleanupHistory`: keep revisionHistoryLimit old revisions plus those live pods use.
pub(super) fn cleanup_history(store: &Store, ds: &apps::DaemonSet, hash: &str) {
    let limit = ds.spec.as_ref().and_then(|s| s.revision_history_limit).unwrap_or(10).max(0) as usize;
    let ns = ds.metadata.namespace.clone().unwrap_or_default();
    let uid = ds.metadata.uid.clone().unwrap_or_default();
    let (revs, _) = store.list::<apps::ControllerRevision>(Some(&ns));
    let mut old: Vec<_> = revs
        .iter()
        .filter(|r| r.metadata.owner_references.iter().flatten().any(|o| o.uid == uid))
        .filter(|r| r.metadata.labels.as_ref().and_then(|l| l.get(REVISION_HASH_LABEL)).map(String::as_str) != Some(hash))
        .cloned()
        .collect();
    if old.len() <= limit {
        return;
    }
    let (pods, _) = store.list::<core::Pod>(Some(&ns));
    let live: std::collections::HashSet<String> = pods
        .iter()
        .filter(|p| owned_by(p, &uid))
        .filter_map(|p| p.metadata.labels.as_ref().and_then(|l| l.get(REVISION_HASH_LABEL)).cloned())
        .collect();
    old.retain(|r| !r.metadata.labels.as_ref().and_then(|l| l.get(REVISION_HASH_LABEL)).is_some_and(|h| live.contains(h)));
    old.sort_by_key(|r| r.revision);
    let excess = old.len().saturating_sub(limit);
    for r in old.into_iter().take(excess) {
        let _ = store.remove::<apps::ControllerRevision>(&ns, r.metadata.name.as_deref().unwrap_or(""), None);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hash_is_deterministic_and_changes_with_the_template() {
        let mut t = core::PodTemplateSpec::default();
        let a = compute_hash(&t, None);
        assert_eq!(a, compute_hash(&t, None));
        t.metadata = Some(ObjectMeta { labels: Some([("app".to_string(), "x".to_string())].into()), ..Default::default() });
        assert_ne!(a, compute_hash(&t, None));
        assert_ne!(compute_hash(&t, None), compute_hash(&t, Some(1)));
        assert!(a.chars().all(|c| "bcdfghjklmnpqrstvwxz2456789".contains(c)));
    }
}

//! Garbage collection: dependents of deleted owners (ownerReferences, background
//! propagation), pods bound to nodes that are gone (PodGC, after a quarantine),
//! namespace contents, and a cap on stored Events.
//!
//! May import: `sim::kind`, `sim::ops`, `sim::store`.

use std::collections::HashSet;

use jiff::Timestamp;
use k8s_openapi::api::apps::v1 as apps;
use k8s_openapi::api::core::v1 as core;

use crate::sim::ops::graceful_delete_pod;
use crate::sim::store::with_kind;
use crate::sim::store::{SimObject, Store};
use k8s_openapi::Metadata as _;

fn all_uids(store: &Store) -> HashSet<String> {
    let mut uids = HashSet::new();
    // Owners in this cluster are DaemonSets, Nodes, Namespaces and Services; pods and
    // events own nothing, and skipping them keeps this cheap at 150,000 pods.
    for kind in crate::sim::kind::Kind::ALL {
        if matches!(kind, crate::sim::kind::Kind::Pod | crate::sim::kind::Kind::Event) {
            continue;
        }
        with_kind!(kind, T => {
            let (items, _) = store.list::<T>(None);
            uids.extend(items.iter().filter_map(|o| o.metadata().uid.clone()));
        });
    }
    uids
}

fn has_dangling_owner<T: SimObject>(o: &T, uids: &HashSet<String>) -> bool {
    let refs = o.metadata().owner_references.as_deref().unwrap_or(&[]);
    !refs.is_empty() && refs.iter().all(|r| !uids.contains(&r.uid))
}

/// One pass; `quarantine` and `max_events` are `ControlSettings::pod_gc_quarantine` and
/// `max_events`.
pub fn sync(store: &Store, now: Timestamp, quarantine: std::time::Duration, max_events: usize) {
    let uids = all_uids(store);
    let (pods, _) = store.list::<core::Pod>(None);
    let (nodes, _) = store.list::<core::Node>(None);
    let node_names: HashSet<String> = nodes.iter().filter_map(|n| n.metadata.name.clone()).collect();
    let quarantine = jiff::SignedDuration::try_from(quarantine).unwrap_or_default();
    for p in &pods {
        let ns = p.metadata.namespace.clone().unwrap_or_default();
        let name = p.metadata.name.clone().unwrap_or_default();
        if has_dangling_owner(&**p, &uids) && p.metadata.deletion_timestamp.is_none() {
            let _ = graceful_delete_pod(store, &ns, &name, p.metadata.uid.as_deref());
            continue;
        }
        // Bound to a node that no longer exists: PodGC force-deletes after the quarantine.
        if let Some(n) = p.spec.as_ref().and_then(|s| s.node_name.as_ref())
            && !node_names.contains(n)
        {
            let seen_since = p.metadata.deletion_timestamp.as_ref().or(p.metadata.creation_timestamp.as_ref()).map(|t| t.0).unwrap_or(now);
            if now >= seen_since + quarantine || p.metadata.deletion_timestamp.is_some() {
                let _ = store.remove::<core::Pod>(&ns, &name, p.metadata.uid.as_deref());
            }
        }
    }
    let (revs, _) = store.list::<apps::ControllerRevision>(None);
    for r in revs.iter().filter(|r| has_dangling_owner(&***r, &uids)) {
        let _ = store.remove::<apps::ControllerRevision>(
            r.metadata.namespace.as_deref().unwrap_or(""),
            r.metadata.name.as_deref().unwrap_or(""),
            None,
        );
    }
    let (events, _) = store.list::<core::Event>(None);
    if events.len() > max_events {
        let mut evs = events;
        evs.sort_by_key(|e| e.metadata.creation_timestamp.as_ref().map(|t| t.0));
        let excess = evs.len() - max_events;
        for e in evs.into_iter().take(excess) {
            let _ =
                store.remove::<core::Event>(e.metadata.namespace.as_deref().unwrap_or(""), e.metadata.name.as_deref().unwrap_or(""), None);
        }
    }
}

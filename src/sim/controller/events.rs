//! An event recorder: `core/v1` Events like the real components write them.
//!
//! May import: `sim::store`.

use k8s_openapi::api::core::v1 as core;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{ObjectMeta, Time};

use crate::sim::store::{SimObject, Store};

pub fn record<T: SimObject>(store: &Store, obj: &T, ty: &str, reason: &str, message: String, component: &str) {
    let m = obj.metadata();
    let kind = T::SIM_KIND;
    let ns = m.namespace.clone().filter(|n| !n.is_empty()).unwrap_or_else(|| "default".into());
    let now = Time(jiff::Timestamp::now());
    let name = m.name.clone().unwrap_or_default();
    let nanos = now.0.as_nanosecond() as u128;
    let ev = core::Event {
        metadata: ObjectMeta { name: Some(format!("{name}.{:016x}", nanos as u64)), namespace: Some(ns.clone()), ..Default::default() },
        involved_object: core::ObjectReference {
            api_version: Some(kind.api_version()),
            kind: Some(kind.info().kind.into()),
            name: Some(name),
            namespace: m.namespace.clone(),
            uid: m.uid.clone(),
            resource_version: m.resource_version.clone(),
            field_path: None,
        },
        reason: Some(reason.into()),
        message: Some(message),
        source: Some(core::EventSource { component: Some(component.into()), host: None }),
        first_timestamp: Some(now.clone()),
        last_timestamp: Some(now),
        count: Some(1),
        type_: Some(ty.into()),
        reporting_component: Some(component.into()),
        reporting_instance: Some(String::new()),
        ..Default::default()
    };
    let _ = store.create(ev);
}

/// Records an Event, or — when the object already has one from `component` with this
/// reason and message — counts it again on that one (`count`, `lastTimestamp`), as the
/// event recorders aggregate repeats (`kubectl describe` shows `(x3 over 5m)`).
pub fn record_or_repeat<T: SimObject>(store: &Store, obj: &T, ty: &str, reason: &str, message: String, component: &str) {
    let m = obj.metadata();
    let ns = m.namespace.clone().filter(|n| !n.is_empty()).unwrap_or_else(|| "default".into());
    let (events, _) = store.list::<core::Event>(Some(&ns));
    let same = events.iter().find(|e| {
        e.involved_object.uid == m.uid
            && e.reason.as_deref() == Some(reason)
            && e.message.as_deref() == Some(message.as_str())
            && e.source.as_ref().and_then(|s| s.component.as_deref()) == Some(component)
    });
    match same.and_then(|e| e.metadata.name.clone()) {
        Some(name) => {
            let _ = store.modify::<core::Event>(&ns, &name, |e| {
                e.count = Some(e.count.unwrap_or(1) + 1);
                e.last_timestamp = Some(Time(jiff::Timestamp::now()));
                true
            });
        }
        None => record(store, obj, ty, reason, message, component),
    }
}

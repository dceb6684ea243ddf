//! Per-kind API strategies: defaults on create, what an update may change, and
//! validation — the simulator's version of `pkg/registry/<group>/<kind>/strategy.go`.
//!
//! May import: `sim::admission`, `sim::errors`, `sim::store`, `k8s::{intstr, labels, selector, taints}`.

use std::collections::BTreeMap;

use k8s_openapi::api::apps::v1 as apps;
use k8s_openapi::api::core::v1 as core;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{DeleteOptions, ObjectMeta};
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;
use rand::Rng;

use super::errors::ApiError;
use super::store::{SimObject, Store};
use crate::k8s::{labels, taints};

pub const TEMPLATE_GENERATION_ANNOTATION: &str = "deprecated.daemonset.template.generation";

pub type Causes = Vec<(&'static str, String)>;

pub trait Strategy: SimObject {
    fn prepare_create(&mut self) {}
    /// Main-resource update: status stays as it was.
    fn prepare_update(&mut self, _old: &Self) {}
    /// `/status` update: only status changes.
    fn prepare_status_update(&mut self, _old: &Self) {}
    fn validate(&self) -> Causes {
        Vec::new()
    }
    /// What an update may not change beyond the metadata (`ValidateUpdate`).
    fn validate_update(&self, _old: &Self) -> Causes {
        Vec::new()
    }
    /// `CheckGracefulDelete`: the grace period a delete with `opts` gets, in seconds;
    /// 0 removes the object at once (every kind but bound, non-terminal pods).
    fn grace_period_seconds(&self, _opts: &DeleteOptions) -> i64 {
        0
    }
    /// Admission on create, after defaults and validation (the Priority plugin for pods
    /// and PriorityClasses); may change the object.
    fn admit_create(&mut self, _store: &Store) -> Result<(), ApiError> {
        Ok(())
    }
    /// A registry rule refusing a delete (the built-in PriorityClasses).
    fn check_delete(&self) -> Result<(), ApiError> {
        Ok(())
    }
}

/// `TotalAnnotationSizeLimitB`: keys and values of all annotations together.
pub const TOTAL_ANNOTATION_SIZE_LIMIT: usize = 256 * 1024;

/// How a kind's names are validated (`ValidateNameFunc`).
type NameRule = fn(&str) -> labels::Problems;

pub(super) fn validate_meta(m: &ObjectMeta, namespaced: bool, out: &mut Causes) {
    validate_meta_named(m, namespaced, labels::validate_dns1123_subdomain, out)
}

fn validate_meta_named(m: &ObjectMeta, namespaced: bool, rule: NameRule, out: &mut Causes) {
    if let Some(name) = &m.name
        && !name.is_empty()
    {
        for p in rule(name) {
            out.push(("metadata.name", format!("Invalid value: {name:?}: {p}")));
        }
    }
    let total: usize = m.annotations.iter().flatten().map(|(k, v)| k.len() + v.len()).sum();
    if total > TOTAL_ANNOTATION_SIZE_LIMIT {
        out.push(("metadata.annotations", format!("Too long: may not be more than {TOTAL_ANNOTATION_SIZE_LIMIT} bytes")));
    }
    if namespaced && m.namespace.as_deref().unwrap_or("").is_empty() {
        out.push(("metadata.namespace", "Required value".into()));
    }
    for (k, v) in m.labels.iter().flatten() {
        for p in labels::validate_label_key(k) {
            out.push(("metadata.labels", format!("Invalid value: {k:?}: {p}")));
        }
        for p in labels::validate_label_value(v) {
            out.push(("metadata.labels", format!("Invalid value: {v:?}: {p}")));
        }
    }
    for k in m.annotations.iter().flatten().map(|(k, _)| k) {
        for p in labels::validate_label_key(k) {
            out.push(("metadata.annotations", format!("Invalid value: {k:?}: {p}")));
        }
    }
}

fn default_containers(spec: &mut core::PodSpec) {
    for c in spec.containers.iter_mut().chain(spec.init_containers.iter_mut().flatten()) {
        if c.image_pull_policy.is_none() {
            let latest = c.image.as_deref().is_some_and(|i| i.ends_with(":latest") || !i.rsplit('/').next().unwrap_or("").contains(':'));
            c.image_pull_policy = Some(if latest { "Always" } else { "IfNotPresent" }.into());
        }
        c.termination_message_path.get_or_insert_with(|| "/dev/termination-log".into());
        c.termination_message_policy.get_or_insert_with(|| "File".into());
    }
}

/// `SetDefaults_PodSpec` for the fields kubectl shows.
pub fn default_pod_spec(spec: &mut core::PodSpec) {
    spec.restart_policy.get_or_insert_with(|| "Always".into());
    spec.dns_policy.get_or_insert_with(|| "ClusterFirst".into());
    spec.scheduler_name.get_or_insert_with(|| "default-scheduler".into());
    spec.termination_grace_period_seconds.get_or_insert(30);
    spec.security_context.get_or_insert_with(Default::default);
    spec.service_account_name.get_or_insert_with(|| "default".into());
    default_containers(spec);
}

impl Strategy for core::Namespace {
    fn prepare_create(&mut self) {
        self.spec.get_or_insert_with(Default::default).finalizers.get_or_insert_with(|| vec!["kubernetes".into()]);
        self.status = Some(core::NamespaceStatus { phase: Some("Active".into()), ..Default::default() });
        self.metadata
            .labels
            .get_or_insert_with(BTreeMap::new)
            .insert("kubernetes.io/metadata.name".into(), self.metadata.name.clone().unwrap_or_default());
    }
    fn prepare_update(&mut self, old: &Self) {
        self.status = old.status.clone();
    }
    fn validate(&self) -> Causes {
        let mut out = Vec::new();
        validate_meta_named(&self.metadata, false, labels::dns1123_label_problems, &mut out);
        out
    }
}

impl Strategy for core::Node {
    fn prepare_update(&mut self, old: &Self) {
        self.status = old.status.clone();
    }
    fn prepare_status_update(&mut self, old: &Self) {
        self.spec = old.spec.clone();
        self.metadata.labels = old.metadata.labels.clone();
    }
    fn validate(&self) -> Causes {
        let mut out = Vec::new();
        validate_meta(&self.metadata, false, &mut out);
        for t in self.spec.iter().flat_map(|s| s.taints.iter().flatten()) {
            // `validateNodeTaints`: the one rule the TUI's taint editor checks too.
            for (field, p) in taints::validate_taint(&t.key, t.value.as_deref().unwrap_or(""), &t.effect) {
                let field = match field {
                    "key" => "spec.taints[0].key",
                    "value" => "spec.taints[0].value",
                    _ => "spec.taints[0].effect",
                };
                out.push((field, p));
            }
        }
        out
    }
}

impl Strategy for core::Pod {
    fn prepare_create(&mut self) {
        let spec = self.spec.get_or_insert_with(Default::default);
        default_pod_spec(spec);
        spec.enable_service_links.get_or_insert(true);
        let mut tols = spec.tolerations.clone().unwrap_or_default();
        // The DefaultTolerationSeconds admission plugin.
        for key in ["node.kubernetes.io/not-ready", "node.kubernetes.io/unreachable"] {
            if !tols.iter().any(|t| t.key.as_deref() == Some(key) || (t.key.is_none() && t.operator.as_deref() == Some("Exists"))) {
                tols.push(core::Toleration {
                    key: Some(key.into()),
                    operator: Some("Exists".into()),
                    effect: Some("NoExecute".into()),
                    toleration_seconds: Some(300),
                    value: None,
                });
            }
        }
        spec.tolerations = Some(tols);
        let bound = spec.node_name.is_some();
        self.status = Some(core::PodStatus {
            phase: Some("Pending".into()),
            qos_class: Some("BestEffort".into()),
            conditions: (!bound).then(Vec::new),
            ..Default::default()
        });
    }
    fn prepare_update(&mut self, old: &Self) {
        self.status = old.status.clone();
    }
    fn prepare_status_update(&mut self, old: &Self) {
        self.spec = old.spec.clone();
    }
    fn validate(&self) -> Causes {
        let mut out = Vec::new();
        validate_meta(&self.metadata, true, &mut out);
        if self.spec.as_ref().is_none_or(|s| s.containers.is_empty()) {
            out.push(("spec.containers", "Required value".into()));
        }
        out
    }
    fn admit_create(&mut self, store: &Store) -> Result<(), ApiError> {
        super::admission::admit_pod(self, store)
    }
    fn grace_period_seconds(&self, opts: &DeleteOptions) -> i64 {
        let spec = self.spec.clone().unwrap_or_default();
        let phase = self.status.as_ref().and_then(|s| s.phase.clone()).unwrap_or_default();
        let grace = opts.grace_period_seconds.unwrap_or(spec.termination_grace_period_seconds.unwrap_or(30));
        if spec.node_name.as_deref().unwrap_or("").is_empty() || phase == "Failed" || phase == "Succeeded" {
            return 0;
        }
        grace
    }
}

impl Strategy for core::Event {
    fn prepare_create(&mut self) {
        self.count.get_or_insert(1);
    }
}

impl Strategy for core::Service {
    fn prepare_create(&mut self) {
        let spec = self.spec.get_or_insert_with(Default::default);
        spec.type_.get_or_insert_with(|| "ClusterIP".into());
        spec.session_affinity.get_or_insert_with(|| "None".into());
        if spec.cluster_ip.is_none() {
            let mut rng = rand::rng();
            let ip = format!("10.96.{}.{}", rng.random_range(0..255), rng.random_range(1..255));
            spec.cluster_ip = Some(ip.clone());
            spec.cluster_ips = Some(vec![ip]);
        }
        for p in spec.ports.iter_mut().flatten() {
            p.protocol.get_or_insert_with(|| "TCP".into());
            p.target_port.get_or_insert(IntOrString::Int(p.port));
        }
        self.status.get_or_insert_with(Default::default);
    }
    fn prepare_update(&mut self, old: &Self) {
        self.status = old.status.clone();
    }
    fn validate(&self) -> Causes {
        let mut out = Vec::new();
        validate_meta_named(&self.metadata, true, labels::dns1035_label_problems, &mut out);
        out
    }
}

fn template_generation(ds: &apps::DaemonSet) -> i64 {
    ds.metadata.annotations.as_ref().and_then(|a| a.get(TEMPLATE_GENERATION_ANNOTATION)).and_then(|v| v.parse().ok()).unwrap_or(1)
}

impl Strategy for apps::DaemonSet {
    fn prepare_create(&mut self) {
        self.metadata.generation = Some(1);
        // `if daemonSet.Spec.TemplateGeneration < 1 { … = 1 }`: one given is kept.
        let tg = template_generation(self).max(1);
        self.metadata.annotations.get_or_insert_with(BTreeMap::new).insert(TEMPLATE_GENERATION_ANNOTATION.into(), tg.to_string());
        let spec = self.spec.get_or_insert_with(Default::default);
        spec.revision_history_limit.get_or_insert(10);
        let us = spec.update_strategy.get_or_insert_with(Default::default);
        let ty = us.type_.get_or_insert_with(|| "RollingUpdate".into());
        if ty == "RollingUpdate" {
            let ru = us.rolling_update.get_or_insert_with(Default::default);
            ru.max_unavailable.get_or_insert(IntOrString::Int(1));
            ru.max_surge.get_or_insert(IntOrString::Int(0));
        }
        if let Some(ps) = spec.template.spec.as_mut() {
            default_pod_spec(ps);
        }
        self.status = Some(apps::DaemonSetStatus::default());
    }
    fn prepare_update(&mut self, old: &Self) {
        self.status = old.status.clone();
        let mut new_spec = self.spec.clone().unwrap_or_default();
        if let Some(ps) = new_spec.template.spec.as_mut() {
            default_pod_spec(ps);
        }
        let us = new_spec.update_strategy.get_or_insert_with(Default::default);
        if us.type_.as_deref().unwrap_or("RollingUpdate") == "RollingUpdate" {
            us.type_ = Some("RollingUpdate".into());
            let ru = us.rolling_update.get_or_insert_with(Default::default);
            ru.max_unavailable.get_or_insert(IntOrString::Int(1));
            ru.max_surge.get_or_insert(IntOrString::Int(0));
        }
        new_spec.revision_history_limit.get_or_insert(10);
        self.spec = Some(new_spec);
        let old_spec = old.spec.clone().unwrap_or_default();
        let new_spec = self.spec.as_ref().unwrap();
        let mut generation = old.metadata.generation.unwrap_or(1);
        let mut tg = template_generation(old);
        if new_spec.template != old_spec.template {
            generation += 1;
            tg += 1;
        } else if *new_spec != old_spec {
            generation += 1;
        }
        self.metadata.generation = Some(generation);
        self.metadata.annotations.get_or_insert_with(BTreeMap::new).insert(TEMPLATE_GENERATION_ANNOTATION.into(), tg.to_string());
    }
    fn validate_update(&self, old: &Self) -> Causes {
        let new_sel = self.spec.as_ref().map(|s| &s.selector);
        match (new_sel, old.spec.as_ref().map(|s| &s.selector)) {
            (Some(n), Some(o)) if n != o => vec![("spec.selector", format!("Invalid value: {}: {FIELD_IMMUTABLE}", go_label_selector(n)))],
            _ => Vec::new(),
        }
    }
    fn prepare_status_update(&mut self, old: &Self) {
        self.spec = old.spec.clone();
        self.metadata.generation = old.metadata.generation;
        self.metadata.annotations = old.metadata.annotations.clone();
        self.metadata.labels = old.metadata.labels.clone();
    }
    fn validate(&self) -> Causes {
        let mut out = Vec::new();
        validate_meta(&self.metadata, true, &mut out);
        let Some(spec) = &self.spec else {
            out.push(("spec", "Required value".into()));
            return out;
        };
        let sel = &spec.selector;
        if sel.match_labels.as_ref().is_none_or(|m| m.is_empty()) && sel.match_expressions.as_ref().is_none_or(|m| m.is_empty()) {
            out.push(("spec.selector", "Invalid value: \"null\": empty selector is invalid for daemonset".into()));
        } else {
            let tl = spec.template.metadata.as_ref().and_then(|m| m.labels.clone()).unwrap_or_default();
            match crate::k8s::selector::LabelSelector::from_k8s(sel) {
                Ok(s) if !s.matches(&tl) => {
                    out.push((
                        "spec.template.metadata.labels",
                        format!("Invalid value: {:?}: `selector` does not match template `labels`", tl),
                    ));
                }
                Err(e) => out.push(("spec.selector", format!("Invalid value: {e}"))),
                _ => {}
            }
        }
        if let Some(m) = &spec.template.metadata {
            let mut inner = Vec::new();
            validate_meta(&ObjectMeta { labels: m.labels.clone(), ..Default::default() }, false, &mut inner);
            out.extend(inner.into_iter().map(|(_, m)| ("spec.template.metadata.labels", m)));
        }
        if spec.template.spec.as_ref().is_none_or(|s| s.containers.is_empty()) {
            out.push(("spec.template.spec.containers", "Required value".into()));
        }
        if let Some(rp) = spec.template.spec.as_ref().and_then(|s| s.restart_policy.as_deref())
            && rp != "Always"
        {
            out.push(("spec.template.spec.restartPolicy", format!("Unsupported value: {rp:?}: supported values: \"Always\"")));
        }
        if let Some(us) = &spec.update_strategy {
            match us.type_.as_deref() {
                Some("RollingUpdate") | None => {
                    if let Some(ru) = &us.rolling_update {
                        let mu = ru.max_unavailable.clone().unwrap_or(IntOrString::Int(1));
                        let ms = ru.max_surge.clone().unwrap_or(IntOrString::Int(0));
                        for (f, v) in
                            [("spec.updateStrategy.rollingUpdate.maxUnavailable", &mu), ("spec.updateStrategy.rollingUpdate.maxSurge", &ms)]
                        {
                            if let Err(e) = crate::k8s::intstr::validate_int_or_percent(v) {
                                out.push((f, e));
                            }
                        }
                        let zero = |v: &IntOrString| crate::k8s::intstr::scaled_value(v, 100).unwrap_or(0) == 0;
                        if !zero(&mu) && !zero(&ms) {
                            out.push((
                                "spec.updateStrategy.rollingUpdate.maxSurge",
                                format!(
                                    "Invalid value: {}: may not be set when maxUnavailable is non-zero",
                                    crate::k8s::intstr::int_or_string(&ms)
                                ),
                            ));
                        }
                        if zero(&mu) && zero(&ms) {
                            out.push((
                                "spec.updateStrategy.rollingUpdate.maxUnavailable",
                                "Required value: cannot be 0 when maxSurge is 0".into(),
                            ));
                        }
                    }
                }
                Some("OnDelete") => {}
                Some(other) => out.push((
                    "spec.updateStrategy.type",
                    format!("Unsupported value: {other:?}: supported values: \"OnDelete\", \"RollingUpdate\""),
                )),
            }
        }
        out
    }
}

impl Strategy for apps::ControllerRevision {}

/// `rest.BeforeUpdate` and `ValidateObjectMetaUpdate`: what an update keeps from the stored
/// object whatever it sends (creationTimestamp, a deletion already under way, the uid when
/// none is sent), and what it may not change (422 `field is immutable`).
pub fn before_update(new: &mut ObjectMeta, old: &ObjectMeta) -> Causes {
    if new.uid.as_deref().unwrap_or("").is_empty() {
        new.uid = old.uid.clone();
    }
    if old.creation_timestamp.is_some() {
        new.creation_timestamp = old.creation_timestamp.clone();
    }
    if old.deletion_timestamp.is_some() {
        new.deletion_timestamp = old.deletion_timestamp.clone();
    }
    if old.deletion_grace_period_seconds.is_some() && new.deletion_grace_period_seconds.is_none() {
        new.deletion_grace_period_seconds = old.deletion_grace_period_seconds;
    }
    let mut out = Causes::new();
    let immutable = |v: &str| format!("Invalid value: {v}: {FIELD_IMMUTABLE}");
    let q = |s: &Option<String>| format!("{:?}", s.as_deref().unwrap_or(""));
    if new.name != old.name {
        out.push(("metadata.name", immutable(&q(&new.name))));
    }
    if new.namespace != old.namespace {
        out.push(("metadata.namespace", immutable(&q(&new.namespace))));
    }
    if new.uid != old.uid {
        out.push(("metadata.uid", immutable(&q(&new.uid))));
    }
    if new.deletion_timestamp != old.deletion_timestamp {
        let v = match &new.deletion_timestamp {
            Some(t) => go_time(&t.0),
            None => "null".into(),
        };
        out.push(("metadata.deletionTimestamp", immutable(&v)));
    }
    if new.deletion_grace_period_seconds != old.deletion_grace_period_seconds {
        let v = new.deletion_grace_period_seconds.map(|s| s.to_string()).unwrap_or("null".into());
        out.push(("metadata.deletionGracePeriodSeconds", immutable(&v)));
    }
    out
}

/// `FieldImmutableErrorMsg`.
pub const FIELD_IMMUTABLE: &str = "field is immutable";

/// A time as Go's `time.Time.String()` prints it (UTC): `2025-01-02 03:04:05 +0000 UTC`.
fn go_time(t: &jiff::Timestamp) -> String {
    t.strftime("%Y-%m-%d %H:%M:%S +0000 UTC").to_string()
}

/// A label selector as Go's `%#v` prints a `v1.LabelSelector` (how the real server shows
/// an immutable selector's new value).
pub fn go_label_selector(s: &k8s_openapi::apimachinery::pkg::apis::meta::v1::LabelSelector) -> String {
    let strs = |v: &[String]| v.iter().map(|x| format!("{x:?}")).collect::<Vec<_>>().join(", ");
    let labels = match &s.match_labels {
        None => "map[string]string(nil)".to_string(),
        Some(m) => format!("map[string]string{{{}}}", m.iter().map(|(k, v)| format!("{k:?}:{v:?}")).collect::<Vec<_>>().join(", ")),
    };
    let exprs = match &s.match_expressions {
        None => "[]v1.LabelSelectorRequirement(nil)".to_string(),
        Some(e) => format!(
            "[]v1.LabelSelectorRequirement{{{}}}",
            e.iter()
                .map(|r| {
                    let values = match &r.values {
                        None => "[]string(nil)".to_string(),
                        Some(v) => format!("[]string{{{}}}", strs(v)),
                    };
                    format!("v1.LabelSelectorRequirement{{Key:{:?}, Operator:{:?}, Values:{values}}}", r.key, r.operator)
                })
                .collect::<Vec<_>>()
                .join(", ")
        ),
    };
    format!("v1.LabelSelector{{MatchLabels:{labels}, MatchExpressions:{exprs}}}")
}

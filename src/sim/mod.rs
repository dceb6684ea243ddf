//! The simulated cluster: an in-memory Kubernetes API server plus the controllers and
//! kubelets that make it behave like a real cluster. Used by `daemonscope sim`,
//! `daemonscope --demo`, and every test.
//!
//! May import: its submodules.

pub mod admission;
pub mod api;
pub mod cli;
pub mod controller;
pub mod errors;
pub mod faults;
pub mod flavor;
pub mod generator;
pub mod joins;
pub mod kind;
pub mod kubeconfig;
pub mod kubelet;
pub mod objects;
pub mod offline;
pub mod ops;
pub mod policy;
pub mod priority;
pub mod scenario;
pub mod store;
pub mod stream;
pub mod tls;
pub mod typed;
pub mod workload_gen;
pub mod workloads;

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use k8s_openapi::Metadata as _;
use k8s_openapi::api::core::v1 as core;
use serde_json::Value;

use api::{ApiSettings, ApiState};
use controller::{Cluster, ControlSettings};
use errors::ApiError;
use kind::Kind;
use objects::Strategy;
use scenario::{Action, Scenario, TimedAction};
use store::Store;

pub const BUILTIN_NAMESPACES: [&str; 4] = ["default", "kube-system", "kube-public", "kube-node-lease"];
pub use kubeconfig::{CONTEXT_NAME, Credentials, kubeconfig_yaml, write_kubeconfig};

/// The order a scenario's objects are created in: namespaces, then cluster-scoped
/// objects, then owners before what they own (a Pod's DaemonSet or ReplicaSet, a
/// Deployment's ReplicaSets, a DaemonSet's ControllerRevisions), events last.
fn load_rank(kind: Kind) -> u8 {
    match kind {
        Kind::Namespace => 0,
        Kind::PriorityClass | Kind::Node => 1,
        Kind::DaemonSet | Kind::Deployment | Kind::Service | Kind::PodDisruptionBudget | Kind::Lease => 2,
        Kind::ControllerRevision | Kind::ReplicaSet => 3,
        Kind::Pod => 4,
        Kind::Event => 5,
    }
}

/// Creates an object from its JSON the way `POST` does (defaults, validation), as loaded
/// from a scenario or a dump: but a pod keeps the status it was loaded with (a Succeeded pod stays
/// Succeeded, restart counts and container states stay), as does a node.
/// A scenario may name a Node owner (a mirror pod's) without its uid, which it cannot
/// know: the loader fills in the uid of the Node of that name.
fn fill_node_owner_uids(store: &Store, v: &mut Value) {
    let Some(refs) = v.pointer_mut("/metadata/ownerReferences").and_then(Value::as_array_mut) else { return };
    for r in refs {
        if r.get("kind").and_then(Value::as_str) == Some("Node") && r.get("uid").and_then(Value::as_str).unwrap_or("").is_empty() {
            let name = r.get("name").and_then(Value::as_str).unwrap_or("");
            if let Some(uid) = store.get::<core::Node>("", name).and_then(|n| n.metadata.uid.clone()) {
                r["uid"] = Value::String(uid);
            }
        }
    }
}

pub fn create_value(store: &Store, kind: Kind, mut v: Value) -> Result<(), ApiError> {
    if kind == Kind::Node {
        scenario::registration_labels(&mut v);
    }
    if kind.info().namespaced && v.pointer("/metadata/namespace").and_then(Value::as_str).unwrap_or("").is_empty() {
        v["metadata"]["namespace"] = Value::String("default".into());
    }
    ensure_namespace(store, kind, &v)?;
    fill_node_owner_uids(store, &mut v);
    crate::sim::typed::with_kind!(kind, T => {
        let loaded_status = v.get("status").filter(|s| s.as_object().is_some_and(|o| !o.is_empty())).cloned();
        let mut o: T = serde_json::from_value(v).map_err(|e| ApiError::bad_request(e.to_string()))?;
        o.prepare_create();
        if let Some(st) = loaded_status
            && matches!(kind, Kind::Pod | Kind::Node)
        {
            keep_status(&mut o, st);
        }
        let causes = o.validate();
        if !causes.is_empty() {
            return Err(ApiError::invalid(kind, o.metadata().name.as_deref().unwrap_or(""), causes));
        }
        o.admit_create(store)?;
        store.create(o)?;
    });
    Ok(())
}

/// The namespace a namespaced object is in, created if it is not there yet.
fn ensure_namespace(store: &Store, kind: Kind, v: &Value) -> Result<(), ApiError> {
    if kind.info().namespaced {
        ensure_namespace_named(store, v.pointer("/metadata/namespace").and_then(Value::as_str).unwrap_or("default"))?;
    }
    Ok(())
}

fn ensure_namespace_named(store: &Store, ns: &str) -> Result<(), ApiError> {
    if store.get::<core::Namespace>("", ns).is_none() {
        let mut n = core::Namespace {
            metadata: k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta { name: Some(ns.to_string()), ..Default::default() },
            ..Default::default()
        };
        n.prepare_create();
        store.create(n)?;
    }
    Ok(())
}

/// Creates an object exactly as a dump has it: no defaults, validation or admission
/// (what the real API server let in is in), its status as it was; an object the dump
/// holds twice is kept once.
pub fn create_as_is(store: &Store, kind: Kind, v: Value) -> Result<(), ApiError> {
    let s = |p: &str| v.pointer(p).and_then(Value::as_str).unwrap_or("").to_string();
    let o = crate::k8s::dump::Object {
        api_version: s("/apiVersion"),
        kind: s("/kind"),
        namespace: s("/metadata/namespace"),
        name: s("/metadata/name"),
        json: serde_json::value::to_raw_value(&v).map_err(|e| ApiError::bad_request(e.to_string()))?,
    };
    create_dumped(store, kind, &o)
}

/// [`create_as_is`] for a dump's object kept as JSON: decoded straight into its type (no
/// tree in between; `managedFields` were cut by the reader).
pub fn create_dumped(store: &Store, kind: Kind, o: &crate::k8s::dump::Object) -> Result<(), ApiError> {
    let namespace = match kind.info().namespaced {
        true if o.namespace.is_empty() => "default",
        true => o.namespace.as_str(),
        false => "",
    };
    if kind.info().namespaced {
        ensure_namespace_named(store, namespace)?;
    }
    crate::sim::typed::with_kind!(kind, T => {
        let mut t: T = serde_json::from_str(o.json.get()).map_err(|e| ApiError::bad_request(e.to_string()))?;
        let meta = k8s_openapi::Metadata::metadata_mut(&mut t);
        if kind.info().namespaced {
            meta.namespace = Some(namespace.to_string());
        }
        // A mirror pod's Node owner written without its uid (as in a scenario) gets it.
        for r in meta.owner_references.iter_mut().flatten().filter(|r| r.kind == "Node" && r.uid.is_empty()) {
            if let Some(uid) = store.get::<core::Node>("", &r.name).and_then(|n| n.metadata.uid.clone()) {
                r.uid = uid;
            }
        }
        match store.create(t) {
            Err(e) if e.reason == "AlreadyExists" => {}
            r => {
                r?;
            }
        }
    });
    Ok(())
}

/// Puts back the status fields an object was loaded with over what `prepare_create` set.
fn keep_status<T: serde::Serialize + serde::de::DeserializeOwned>(o: &mut T, status: Value) {
    if let Ok(mut v) = serde_json::to_value(&*o) {
        if !v["status"].is_object() {
            v["status"] = Value::Object(Default::default());
        }
        if let (Some(dst), Value::Object(src)) = (v["status"].as_object_mut(), status) {
            dst.extend(src);
        }
        if let Ok(back) = serde_json::from_value(v) {
            *o = back;
        }
    }
}

pub fn apply_action(store: &Store, a: &Action) -> Result<(), ApiError> {
    match a {
        Action::Create(kind, v) => create_value(store, *kind, v.clone()),
        Action::Patch { kind, namespace, name, patch } => crate::sim::typed::with_kind!(*kind, T => {
            let cur = store.get::<T>(namespace, name).ok_or_else(|| ApiError::not_found(*kind, name))?;
            let mut doc = serde_json::to_value(&*cur).map_err(|e| ApiError::internal(e.to_string()))?;
            json_patch::merge(&mut doc, patch);
            let mut o: T = serde_json::from_value(doc).map_err(|e| ApiError::bad_request(e.to_string()))?;
            o.prepare_update(&cur);
            let causes = o.validate();
            if !causes.is_empty() {
                return Err(ApiError::invalid(*kind, name, causes));
            }
            store.update(o).map(|_| ())
        }),
        Action::Delete { kind, namespace, name } => crate::sim::typed::with_kind!(*kind, T => {
            crate::sim::ops::delete_object::<T>(store, namespace, name, &Default::default()).map(|_| ())
        }),
        Action::Join(spec) => create_value(store, Kind::Node, joins::node_value(store, spec)),
    }
}

/// Settings derived from a scenario (with overrides for tests).
#[derive(Debug, Clone)]
pub struct SimOptions {
    pub control: ControlSettings,
    pub history_size: usize,
    pub bookmark_interval: Duration,
    pub settle: bool,
    /// How long ago a settled scenario's objects were created.
    pub age: Duration,
    pub faults: faults::FaultSettings,
    /// Objects get uids after this (a restarted state has new identities).
    pub uid_base: u64,
    /// Images or globs the simulated registry has besides the scenario's
    /// (`sim --registry-allow`); kept across a simulated restart.
    pub registry_allow: Vec<String>,
    /// Objects are loaded as a dump has them ([`create_as_is`]): uids, statuses and all.
    pub as_is: bool,
    /// Served exactly as loaded: no controllers, kubelets, garbage collector or timeline,
    /// and every write refused (405).
    pub frozen: bool,
    /// The `WatchList` feature gate (`settings.featureGates`, `--feature-gates`).
    pub watch_list: bool,
}

impl SimOptions {
    /// Settings from the scenario; a bad `faults` block falls back to no faults (the
    /// scenario loader has already reported it).
    pub fn from_scenario(sc: &Scenario) -> Self {
        let s = &sc.settings;
        let mut control = ControlSettings::default();
        let k = &mut control.kubelet;
        if let Some(d) = sc.duration(&s.start_delay) {
            k.start_delay = d;
        }
        if let Some(d) = sc.duration(&s.ready_delay) {
            k.ready_delay = d;
        }
        if let Some(d) = sc.duration(&s.termination) {
            k.termination = d;
        }
        if let Some(d) = sc.duration(&s.crash_after) {
            k.crash_after = d;
        }
        if let Some(d) = sc.duration(&s.backoff_base) {
            k.backoff_base = d;
        }
        if let Some(d) = sc.duration(&s.pod_gc_quarantine) {
            control.pod_gc_quarantine = d;
        }
        if let Some(w) = s.max_writes_per_second {
            control.max_writes_per_sec = w;
        }
        // The registry has the scenario's `registry:` list; `Sim::build` adds the images of
        // every object it loads.
        control.kubelet.registry = kubelet::Registry::closed();
        for r in &sc.registry {
            control.kubelet.registry.allow(r);
        }
        control.kubelet.pull_durations = sc.pull_durations.clone();
        SimOptions {
            control,
            history_size: s.history_size.unwrap_or(50_000),
            bookmark_interval: sc.duration(&s.bookmark_interval).unwrap_or(Duration::from_secs(60)),
            settle: s.settle.unwrap_or(true),
            age: sc.duration(&s.age).unwrap_or(Duration::from_secs(3 * 86400)),
            faults: s.faults.as_ref().and_then(|f| f.resolve().ok()).unwrap_or_default(),
            uid_base: 0,
            registry_allow: Vec::new(),
            as_is: sc.as_is,
            frozen: false,
            watch_list: s.gate("WatchList"),
        }
    }
}

/// A built (not yet running) simulated cluster.
pub struct Sim {
    pub store: Arc<Store>,
    pub api: Arc<ApiState>,
    cluster: Cluster,
    timeline: Vec<TimedAction>,
    /// What a simulated restart comes back with.
    restart: Option<(Scenario, SimOptions)>,
    /// `--frozen`: nothing runs but the API server.
    frozen: bool,
}

impl Sim {
    /// Loads the scenario's objects and settles the cluster.
    pub fn build(sc: &Scenario, opts: SimOptions) -> Result<Sim, ApiError> {
        Self::build_with(sc, Vec::new(), sc.dumped.clone(), opts)
    }

    /// [`Sim::build`], the objects moved in and each dropped once stored: how a large dump
    /// loads without being held twice.
    pub fn build_owned(mut sc: Scenario, opts: SimOptions) -> Result<Sim, ApiError> {
        let owned = std::mem::take(&mut sc.objects).into_iter().map(Some).collect();
        let dumped = std::mem::take(&mut sc.dumped);
        Self::build_with(&sc, owned, dumped, opts)
    }

    fn build_with(
        sc: &Scenario,
        mut owned: Vec<Option<(Kind, Value)>>,
        mut dumped: Vec<(Kind, crate::k8s::dump::Object)>,
        mut opts: SimOptions,
    ) -> Result<Sim, ApiError> {
        // Every image of every object loaded at start is in the simulated registry.
        let registry = &mut opts.control.kubelet.registry;
        for r in &opts.registry_allow {
            registry.allow(r);
        }
        for (_, v) in sc.objects.iter().chain(owned.iter().flatten()) {
            registry.allow_images_in(v);
        }
        if !opts.frozen {
            // One object's tree at a time: a kubelet will pull what the dump ran.
            for (_, o) in &dumped {
                registry.allow_images_in(&serde_json::from_str(o.json.get()).unwrap_or_default());
            }
        }
        let store = Store::new(opts.history_size);
        store.skip_uids(opts.uid_base);
        for ns in BUILTIN_NAMESPACES {
            create_value(&store, Kind::Namespace, serde_json::json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": ns}}))?;
        }
        let mut cluster = Cluster::new(store.clone(), opts.control.clone());
        let settle = opts.settle && !opts.as_is;
        if opts.as_is {
            store.set_keep_uids(true);
            store.set_history(false);
        }
        if settle {
            // Scenario objects are "created" a while ago; the cluster settles from there.
            store.set_clock_offset(-(opts.age.as_secs() as i64));
            store.set_history(false);
        }
        // The API server's bootstrap creates these.
        for pc in priority::system_priority_classes() {
            store.create(pc)?;
        }
        // Documents in any order: namespaces and owners before what they hold, by kind.
        let mut order: Vec<usize> = (0..sc.objects.len().max(owned.len())).collect();
        let kind_of = |i: usize| sc.objects.get(i).map(|o| o.0).or_else(|| owned.get(i).and_then(|o| o.as_ref().map(|o| o.0)));
        order.sort_by_key(|&i| kind_of(i).map(load_rank));
        for i in order {
            // Moved out when the caller gave the objects by value, else copied.
            let (kind, v) = match owned.get_mut(i).and_then(Option::take) {
                Some(o) => o,
                None => sc.objects[i].clone(),
            };
            let name = v.pointer("/metadata/name").and_then(Value::as_str).unwrap_or("");
            // Objects every cluster has already (a snapshot of a real cluster may list them).
            if (kind == Kind::Namespace && BUILTIN_NAMESPACES.contains(&name)) || (kind == Kind::PriorityClass && priority::is_system(name))
            {
                continue;
            }
            let what = if sc.objects.is_empty() { format!("{} {name}", kind.info().kind) } else { sc.document_of(i) };
            let create = if opts.as_is { create_as_is } else { create_value };
            create(&store, kind, v).map_err(|mut e| {
                e.message = format!("{what}: {}", e.message);
                e
            })?;
        }
        // A dump's objects, by kind as above; each dropped once stored.
        dumped.sort_by_key(|(k, _)| load_rank(*k));
        for (kind, o) in dumped {
            if (kind == Kind::Namespace && BUILTIN_NAMESPACES.contains(&o.name.as_str()))
                || (kind == Kind::PriorityClass && priority::is_system(&o.name))
            {
                continue;
            }
            create_dumped(&store, kind, &o).map_err(|mut e| {
                let at = if o.namespace.is_empty() { String::new() } else { format!("{}/", o.namespace) };
                e.message = format!("{} {at}{}: {}", kind.info().kind, o.name, e.message);
                e
            })?;
        }
        if opts.as_is {
            store.set_keep_uids(false);
            store.set_history(true);
        }
        if settle {
            cluster.settle(opts.age, 400);
        }
        let api = ApiState::new(
            store.clone(),
            sc.auth(),
            ApiSettings {
                bookmark_interval: opts.bookmark_interval,
                frozen: opts.frozen,
                watch_list: opts.watch_list,
                ..Default::default()
            },
            faults::Faults::new(opts.faults.clone()),
        );
        *api.dumped_logs.write() = sc.logs.clone();
        let restart = match &opts.faults.restart {
            None => None,
            Some(r) => {
                let next = match &r.scenario {
                    Some(path) => Scenario::load(path).map_err(|e| ApiError::bad_request(format!("restart scenario: {e}")))?,
                    None => sc.clone(),
                };
                let mut o = SimOptions::from_scenario(&next);
                o.faults = Default::default();
                o.registry_allow = opts.registry_allow.clone();
                Some((next, o))
            }
        };
        Ok(Sim { store, api, cluster, timeline: if opts.frozen { Vec::new() } else { sc.timeline.clone() }, restart, frozen: opts.frozen })
    }

    /// Moves the cluster clock `secs` ahead and runs one round of every actor — for
    /// tests that step the cluster deterministically instead of waiting.
    pub fn advance(&mut self, secs: i64) -> bool {
        self.store.set_clock_offset(self.store.clock_offset() + secs);
        let now = self.store.now();
        self.cluster.step(now)
    }

    /// Applies a timeline action now (tests and scripted changes).
    pub fn apply(&self, action: &Action) -> Result<(), ApiError> {
        apply_action(&self.store, action)
    }

    /// The API as a tower service, for in-process clients (`kube::Client::new(router, "default")`).
    pub fn router(&self) -> axum::Router {
        api::router(self.api.clone())
    }

    /// Starts the controllers and the timeline (no listener).
    pub fn spawn(self) -> Running {
        let store = self.store.clone();
        let api = self.api.clone();
        if self.frozen {
            // Exactly as loaded: nothing runs but the API server.
            return Running { store, api, tasks: Vec::new(), url: None, ca_pem: None, token: None, credentials: None };
        }
        let mut tasks = vec![tokio::spawn(self.cluster.run())];
        let restart = self.restart.map(|(sc, mut opts)| {
            let st = store.clone();
            Box::new(move || {
                opts.uid_base = st.uid_counter() + 1;
                match Sim::build(&sc, opts) {
                    Ok(fresh) => st.replace_with(&fresh.store),
                    Err(e) => tracing::error!(error = %e, "simulated restart: loading the new state failed"),
                }
            }) as Box<dyn FnOnce() + Send>
        });
        // Always running: faults can be switched on at run time (tests do).
        tasks.push(tokio::spawn(api.faults.clone().run(store.clone(), restart)));
        let timeline = self.timeline;
        let st = store.clone();
        tasks.push(tokio::spawn(async move {
            let start = tokio::time::Instant::now();
            for step in timeline {
                tokio::time::sleep_until(start + step.at).await;
                if let Err(e) = apply_action(&st, &step.action) {
                    tracing::warn!(error = %e, at = ?step.at, "timeline step failed");
                }
            }
        }));
        Running { store, api, tasks, url: None, ca_pem: None, token: None, credentials: None }
    }

    /// Starts everything and listens on `addr` (`127.0.0.1:0` picks a free port) as the
    /// standalone server does by default: HTTPS with a new CA, and a new bearer token
    /// (`Running::token`) besides the scenario's.
    pub async fn serve(self, addr: &str) -> std::io::Result<Running> {
        let creds = Credentials::generate().map_err(std::io::Error::other)?;
        self.serve_with(addr, Transport::Https(creds)).await
    }

    pub async fn serve_with(self, addr: &str, transport: Transport) -> std::io::Result<Running> {
        let listener = tokio::net::TcpListener::bind(addr).await?;
        let local: SocketAddr = listener.local_addr()?;
        let router = self.router();
        let server = match &transport {
            Transport::Https(c) => {
                // The generated token is an administrator, beside the scenario's tokens.
                self.api.add_token(&c.token, api::auth::User::admin());
                let hosts = if local.ip().is_unspecified() { vec![] } else { vec![local.ip().to_string()] };
                Some(c.ca.server_config(&hosts).map_err(std::io::Error::other)?)
            }
            Transport::InsecureHttp => None,
        };
        let mut running = self.spawn();
        let faults = running.api.faults.clone();
        match server {
            Some(cfg) => {
                let l = faults::FaultListener::new(tls::TlsListener::new(tls::no_delay(listener), cfg)?, faults);
                running.tasks.push(tokio::spawn(async move {
                    if let Err(e) = axum::serve(l, router).await {
                        tracing::error!(error = %e, "API server stopped");
                    }
                }));
                running.url = Some(format!("https://{local}"));
            }
            None => {
                running.tasks.push(tokio::spawn(async move {
                    let l = faults::FaultListener::new(tls::no_delay(listener), faults);
                    if let Err(e) = axum::serve(l, router).await {
                        tracing::error!(error = %e, "API server stopped");
                    }
                }));
                running.url = Some(format!("http://{local}"));
            }
        }
        if let Transport::Https(c) = transport {
            running.ca_pem = Some(c.ca.cert_pem.clone());
            running.token = Some(c.token.clone());
            running.credentials = Some(c);
        }
        Ok(running)
    }
}

/// How the standalone server is reached.
pub enum Transport {
    /// HTTPS with this CA; every request but `/version` and the health checks needs a
    /// bearer token (this one, or one of the scenario's).
    Https(Credentials),
    /// Plain HTTP with no authentication (kubectl sends no credentials over plain HTTP).
    InsecureHttp,
}

/// A running simulated cluster; dropping it stops everything.
pub struct Running {
    pub store: Arc<Store>,
    pub api: Arc<ApiState>,
    tasks: Vec<tokio::task::JoinHandle<()>>,
    url: Option<String>,
    /// The CA of the server certificate, when serving HTTPS.
    pub ca_pem: Option<String>,
    /// The administrator's bearer token, when serving HTTPS.
    pub token: Option<String>,
    pub credentials: Option<Credentials>,
}

impl Running {
    pub fn url(&self) -> &str {
        self.url.as_deref().unwrap_or("")
    }

    pub fn router(&self) -> axum::Router {
        api::router(self.api.clone())
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        for t in &self.tasks {
            t.abort();
        }
    }
}

//! Async jobs the UI asks for, run off the UI thread (gitui's `asyncgit` pattern): the
//! app pushes [`Effect`]s, the runner spawns them, and results come back as
//! [`JobResult`]s tagged with the sequence number of the request, so a stale answer
//! (the user already moved on) is dropped instead of shown. An object's Events are
//! followed with the same list-then-watch loop as everything else.
//!
//! May import: `model`, `k8s`. Never `sim` or `ui`.

use std::collections::BTreeMap;

use futures::{AsyncBufReadExt, StreamExt};
use k8s_openapi::api::apps::v1::DaemonSet;
use k8s_openapi::api::core::v1::{Event as KubeEvent, Node, Pod};
use kube::Api;
use kube::api::LogParams;
use tokio::sync::mpsc;
use tokio::task::JoinHandle;

use crate::cluster::actions::Outcome;
use crate::cluster::connect::{Cluster, Source};
use crate::cluster::drain_job::DrainStatus;
use crate::cluster::errors::ClusterError;
use crate::cluster::listwatch::{Event, Selectors, Sink, list_then_watch};
use crate::cluster::roll::{RollCmd, RollStatus};
use crate::cluster::watch::Scope;
use crate::model::plan::drain::{CONFIRMED, Planned};
use crate::model::plan::{Permission, Request, RollSpec};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Kind {
    DaemonSet,
    Node,
    Pod,
}

impl Kind {
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::DaemonSet => "DaemonSet",
            Kind::Node => "Node",
            Kind::Pod => "Pod",
        }
    }
}

/// One object, by kind and name.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ObjectRef {
    pub kind: Kind,
    /// None for cluster-scoped objects.
    pub namespace: Option<String>,
    pub name: String,
}

impl std::fmt::Display for ObjectRef {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.namespace {
            Some(ns) => write!(f, "{} {ns}/{}", self.kind.as_str(), self.name),
            None => write!(f, "{} {}", self.kind.as_str(), self.name),
        }
    }
}

/// What the UI asks for.
#[derive(Debug, Clone, PartialEq)]
pub enum Effect {
    /// The object as YAML (managedFields dropped, as `kubectl get -o yaml` shows by default).
    Yaml { seq: u64, object: ObjectRef },
    /// A pod's log, followed.
    Logs { seq: u64, namespace: String, pod: String, container: Option<String>, previous: bool },
    /// Recent Events of an object, watched while its detail is open.
    Events { seq: u64, object: ObjectRef },
    /// Stop following logs and events.
    StopStreams,
    /// List the pods on `nodes` and the budgets, to confirm a drain (`disable_eviction`:
    /// one that deletes them past the budgets, handed back with the plan).
    PlanDrain { nodes: Vec<String>, disable_eviction: bool },
    /// Reconnect: another context and/or another namespace scope.
    Connect { context: Option<String>, scope: Scope },
    /// Ask the server which actions are allowed (SelfSubjectAccessReview).
    CheckPermissions,
    /// Send the requests of a confirmed action (every action but the roll).
    Act { request: Request, dry_run: bool },
    /// Start a confirmed roll (never dry-run: it waits on real pods).
    Roll(RollSpec),
    /// Pause, resume or abort the roll under way.
    RollControl(RollCmd),
    /// Drain the confirmed nodes (`drain_job`); `disable_eviction`: delete the pods, past
    /// their budgets (kubectl drain's `--disable-eviction`).
    Drain { nodes: Vec<String>, dry_run: bool, timing: crate::model::plan::drain::DrainTiming, disable_eviction: bool },
    /// Pause (true) or resume (false) the drain under way.
    DrainPause(bool),
    /// Stop the drain under way (the nodes stay cordoned).
    DrainAbort,
    /// `:preflight FILE`: read the file's DaemonSets and the cluster, and judge each node
    /// (what would happen if it were applied; nothing is applied).
    Preflight { seq: u64, path: std::path::PathBuf },
}

/// An Event, reduced to what the detail view prints.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EventLine {
    pub last: Option<jiff::Timestamp>,
    pub type_: String,
    pub reason: String,
    pub message: String,
    pub count: i32,
}

pub enum JobResult {
    /// Lines for the text pane (YAML or logs); `append` adds to what is there.
    Text {
        seq: u64,
        lines: Vec<String>,
        append: bool,
    },
    /// The text stream ended (log follow closed), with why.
    TextEnd {
        seq: u64,
        note: String,
    },
    Events {
        seq: u64,
        events: Vec<EventLine>,
    },
    Connected {
        cluster: Cluster,
        context: String,
        scope: Scope,
    },
    Permissions(Vec<(Permission, Result<bool, ClusterError>)>),
    /// An action finished (or was not started): the UI says it on the status bar.
    Acted(Outcome),
    /// Where the roll under way stands.
    Roll(RollStatus),
    /// Where the drain under way stands.
    Drain(DrainStatus),
    /// The plan of a drain, for its confirmation: each node's pods, and the budgets.
    DrainPlan {
        nodes: Vec<String>,
        disable_eviction: bool,
        plans: Result<Planned, String>,
    },
    Failed {
        seq: Option<u64>,
        message: String,
    },
    /// The preflight's reports (one per DaemonSet of the file), or why there are none.
    Preflight {
        seq: u64,
        reports: Result<Vec<crate::model::preflight::Report>, String>,
    },
}

/// The preflight of the DaemonSets in the file at `path`: the same reading of the cluster
/// and the same verdicts as `daemonscope preflight`.
async fn preflight(cluster: &Cluster, path: std::path::PathBuf) -> Result<Vec<crate::model::preflight::Report>, String> {
    let dss = tokio::task::spawn_blocking(move || crate::k8s::manifests::read_manifests(&[path]))
        .await
        .map_err(|e| format!("reading the file: {e}"))??;
    let facts = crate::cluster::preflight::gather(cluster, &dss).await.map_err(|e| e.to_string())?;
    dss.iter().map(|ds| crate::model::preflight::evaluate(ds, &facts)).collect()
}

/// Most events kept per object (newest).
const EVENTS_KEPT: usize = 30;
/// Log lines fetched before following.
const LOG_TAIL: i64 = 500;

pub struct Jobs {
    pub source: Source,
    pub cluster: Cluster,
    /// For the action log.
    pub context: String,
    tx: mpsc::UnboundedSender<JobResult>,
    logs: Option<JoinHandle<()>>,
    events: Option<JoinHandle<()>>,
    roll: Option<(JoinHandle<()>, mpsc::UnboundedSender<RollCmd>)>,
    drain: Option<DrainJob>,
}

/// The drain under way: its task, its status, and its pause switch.
struct DrainJob {
    task: JoinHandle<()>,
    status: std::sync::Arc<std::sync::Mutex<DrainStatus>>,
    pause: tokio::sync::watch::Sender<bool>,
}

impl Jobs {
    pub fn new(source: Source, cluster: Cluster, context: String, tx: mpsc::UnboundedSender<JobResult>) -> Jobs {
        Jobs { source, cluster, context, tx, logs: None, events: None, roll: None, drain: None }
    }

    pub fn run(&mut self, e: Effect) {
        let tx = self.tx.clone();
        let cluster = self.cluster.clone();
        match e {
            Effect::Preflight { seq, path } => {
                tokio::spawn(async move {
                    let _ = tx.send(JobResult::Preflight { seq, reports: preflight(&cluster, path).await });
                });
            }
            Effect::Yaml { seq, object } => {
                tokio::spawn(async move {
                    let r = match yaml(&cluster, &object).await {
                        Ok(text) => JobResult::Text { seq, lines: text.lines().map(str::to_string).collect(), append: false },
                        Err(e) => JobResult::Failed { seq: Some(seq), message: format!("get {object}: {e}") },
                    };
                    let _ = tx.send(r);
                });
            }
            Effect::Logs { seq, namespace, pod, container, previous } => {
                if let Some(h) = self.logs.take() {
                    h.abort();
                }
                self.logs = Some(tokio::spawn(follow_logs(cluster, tx, seq, namespace, pod, container, previous)));
            }
            Effect::Events { seq, object } => {
                if let Some(h) = self.events.take() {
                    h.abort();
                }
                self.events = Some(tokio::spawn(watch_events(cluster, tx, seq, object)));
            }
            Effect::StopStreams => self.stop_streams(),
            Effect::CheckPermissions => {
                tokio::spawn(async move {
                    let _ =
                        tx.send(JobResult::Permissions(crate::cluster::actions::check(&cluster, crate::model::plan::PERMISSIONS).await));
                });
            }
            Effect::Roll(spec) => {
                if self.roll.as_ref().is_some_and(|(h, _)| !h.is_finished()) {
                    let _ = tx.send(JobResult::Acted(Outcome::RollUnderWay));
                    return;
                }
                let (ctl, rx) = mpsc::unbounded_channel();
                tracing::info!(target: "daemonscope::cluster::actions", context = %self.context, user = %self.source.user(&self.context), action = "roll", object = %format!("daemonset/{}/{}", spec.namespace, spec.name), batch = spec.batch, "action started");
                let h = tokio::spawn(async move {
                    let t = tx.clone();
                    let end = crate::cluster::roll::run(cluster, spec, rx, move |s| {
                        let _ = t.send(JobResult::Roll(s));
                    })
                    .await;
                    tracing::info!(target: "daemonscope::cluster::actions", result = %end.line(), "roll ended");
                });
                self.roll = Some((h, ctl));
            }
            Effect::RollControl(cmd) => match &self.roll {
                Some((h, ctl)) if !h.is_finished() => {
                    let _ = ctl.send(cmd);
                }
                _ => {
                    let _ = tx.send(JobResult::Acted(Outcome::NoRoll));
                }
            },
            Effect::PlanDrain { nodes, disable_eviction } => {
                tokio::spawn(async move {
                    let mut plans = Vec::new();
                    let mut budgets = Vec::new();
                    let mut failed = None;
                    for n in &nodes {
                        match crate::cluster::drain::plan_node(&cluster, n, &CONFIRMED).await {
                            Ok((p, b)) => {
                                plans.push((n.clone(), p));
                                budgets = b;
                            }
                            Err(e) => {
                                failed = Some(format!("cannot plan the drain of {n}: {e}"));
                                break;
                            }
                        }
                    }
                    let plans = match failed {
                        Some(why) => Err(why),
                        None => Ok(Planned { plans, budgets }),
                    };
                    let _ = tx.send(JobResult::DrainPlan { nodes, disable_eviction, plans });
                });
            }
            Effect::Drain { nodes, dry_run, timing, disable_eviction } => {
                if self.drain.as_ref().is_some_and(|d| !d.task.is_finished()) {
                    let _ = tx.send(JobResult::Failed { seq: None, message: "a drain is under way: :drain abort stops it".into() });
                    return;
                }
                tracing::info!(target: "daemonscope::cluster::actions", context = %self.context, user = %self.source.user(&self.context), action = "drain", nodes = %nodes.join(","), dry_run, disable_eviction, "action started");
                let status = std::sync::Arc::new(std::sync::Mutex::new(DrainStatus {
                    timing,
                    disable_eviction,
                    ..DrainStatus::new(&nodes, dry_run)
                }));
                let shared = status.clone();
                let (pause, switch) = crate::cluster::drain::PauseSwitch::new();
                let task = tokio::spawn(crate::cluster::drain_job::run(cluster, shared, switch, move |s| {
                    let _ = tx.send(JobResult::Drain(s));
                }));
                self.drain = Some(DrainJob { task, status, pause });
            }
            Effect::DrainPause(on) => match &self.drain {
                Some(d) if !d.task.is_finished() => {
                    // The switch first: once the status says paused, no request is sent.
                    d.pause.send_replace(on);
                    let s = {
                        let mut s = d.status.lock().unwrap_or_else(|p| p.into_inner());
                        s.set_paused(on, std::time::Instant::now());
                        s.clone()
                    };
                    tracing::info!(target: "daemonscope::cluster::actions", action = "drain", result = if on { "paused" } else { "resumed" }, "action");
                    let _ = tx.send(JobResult::Drain(s));
                }
                _ => {
                    let _ = tx.send(JobResult::Failed { seq: None, message: "no drain is under way".into() });
                }
            },
            Effect::DrainAbort => match self.drain.take() {
                Some(DrainJob { task: h, status, .. }) if !h.is_finished() => {
                    h.abort();
                    let mut s = status.lock().unwrap_or_else(|p| p.into_inner()).clone();
                    s.abort();
                    tracing::info!(target: "daemonscope::cluster::actions", action = "drain", result = "aborted", "action");
                    let _ = tx.send(JobResult::Drain(s));
                }
                _ => {
                    let _ = tx.send(JobResult::Failed { seq: None, message: "no drain is under way".into() });
                }
            },
            Effect::Act { request, dry_run } => {
                let context = self.context.clone();
                let user = self.source.user(&context);
                tokio::spawn(async move {
                    let outcome = crate::cluster::actions::execute(&cluster, request, dry_run, &context, &user).await;
                    let _ = tx.send(JobResult::Acted(outcome));
                });
            }
            Effect::Connect { context, scope } => {
                let source = self.source.clone();
                tokio::spawn(async move {
                    let r = match source.client(context.as_deref()).await {
                        Ok((cluster, context)) => JobResult::Connected { cluster, context, scope },
                        Err(e) => JobResult::Failed { seq: None, message: e.to_string() },
                    };
                    let _ = tx.send(r);
                });
            }
        }
    }
}

impl Jobs {
    /// Stops following logs and events.
    fn stop_streams(&mut self) {
        for h in [self.logs.take(), self.events.take()].into_iter().flatten() {
            h.abort();
        }
    }
}

impl Drop for Jobs {
    fn drop(&mut self) {
        self.stop_streams();
    }
}

async fn yaml(cluster: &Cluster, o: &ObjectRef) -> Result<String, ClusterError> {
    fn strip(mut v: serde_json::Value) -> serde_json::Value {
        if let Some(m) = v.get_mut("metadata").and_then(|m| m.as_object_mut()) {
            m.remove("managedFields");
        }
        v
    }
    let (ns, client, failed) = (o.namespace.clone().unwrap_or_default(), cluster.client.clone(), |e| cluster.error(e));
    let v = match o.kind {
        Kind::DaemonSet => serde_json::to_value(Api::<DaemonSet>::namespaced(client, &ns).get(&o.name).await.map_err(failed)?),
        Kind::Pod => serde_json::to_value(Api::<Pod>::namespaced(client, &ns).get(&o.name).await.map_err(failed)?),
        Kind::Node => serde_json::to_value(Api::<Node>::all(client).get(&o.name).await.map_err(failed)?),
    }?;
    Ok(serde_saphyr::to_string(&strip(v))?)
}

async fn follow_logs(
    cluster: Cluster,
    tx: mpsc::UnboundedSender<JobResult>,
    seq: u64,
    namespace: String,
    pod: String,
    container: Option<String>,
    previous: bool,
) {
    let api: Api<Pod> = Api::namespaced(cluster.client.clone(), &namespace);
    let lp = LogParams { follow: !previous, previous, tail_lines: Some(LOG_TAIL), container, ..Default::default() };
    let stream = match api.log_stream(&pod, &lp).await {
        Ok(s) => s,
        Err(e) => {
            let _ = tx.send(JobResult::Failed { seq: Some(seq), message: format!("logs of {namespace}/{pod}: {}", cluster.error(e)) });
            return;
        }
    };
    let _ = tx.send(JobResult::Text { seq, lines: vec![], append: false });
    // Lines are forwarded in small batches so a chatty pod cannot flood the UI channel.
    let mut lines = stream.lines().ready_chunks(256);
    while let Some(chunk) = lines.next().await {
        let mut out = Vec::with_capacity(chunk.len());
        for l in chunk {
            match l {
                Ok(l) => out.push(l),
                Err(e) => {
                    let _ = tx.send(JobResult::Text { seq, lines: out, append: true });
                    let _ = tx.send(JobResult::TextEnd { seq, note: format!("log stream broke: {e}") });
                    return;
                }
            }
        }
        if tx.send(JobResult::Text { seq, lines: out, append: true }).is_err() {
            return;
        }
    }
    let note =
        if previous { "end of the previous container's log" } else { "log stream closed by the server (pod gone or container restarted)" };
    let _ = tx.send(JobResult::TextEnd { seq, note: note.into() });
}

/// Events of one object: a watch narrowed on the server by involvedObject fields (what
/// `kubectl describe` lists), newest last.
async fn watch_events(cluster: Cluster, tx: mpsc::UnboundedSender<JobResult>, seq: u64, o: ObjectRef) {
    let mut fields = format!("involvedObject.kind={},involvedObject.name={}", o.kind.as_str(), o.name);
    if let Some(ns) = &o.namespace {
        fields.push_str(&format!(",involvedObject.namespace={ns}"));
    }
    let api: Api<KubeEvent> = Api::all(cluster.client);
    let lines = EventLines { tx, seq, seen: BTreeMap::new(), initial: true };
    list_then_watch(api, Selectors { labels: None, fields: Some(fields) }, cluster.retry_after, cluster.timeouts, cluster.fetch, lines)
        .await;
}

/// An object's Events, kept by uid and sent whole (the newest [`EVENTS_KEPT`]) after the
/// list and on every change after it.
struct EventLines {
    tx: mpsc::UnboundedSender<JobResult>,
    seq: u64,
    seen: BTreeMap<String, EventLine>,
    /// A (re)list under way: nothing is sent until it is complete.
    initial: bool,
}

impl Sink<KubeEvent> for EventLines {
    async fn send(&mut self, event: Event<KubeEvent>) -> bool {
        let changed = match event {
            Event::Relisting => {
                self.seen.clear();
                self.initial = true;
                false
            }
            Event::Applied(e) => {
                self.seen.insert(e.metadata.uid.clone().unwrap_or_default(), line(&e));
                !self.initial
            }
            Event::Deleted(e) => {
                self.seen.remove(e.metadata.uid.as_deref().unwrap_or_default());
                !self.initial
            }
            Event::Listed => {
                self.initial = false;
                true
            }
            Event::Resumed => false,
            Event::Failing { error, .. } => {
                return self.tx.send(JobResult::Failed { seq: Some(self.seq), message: format!("events: {error}") }).is_ok();
            }
        };
        if !changed {
            return true;
        }
        let mut events: Vec<EventLine> = self.seen.values().cloned().collect();
        events.sort_by_key(|e| e.last);
        let skip = events.len().saturating_sub(EVENTS_KEPT);
        self.tx.send(JobResult::Events { seq: self.seq, events: events.split_off(skip) }).is_ok()
    }
}

fn line(e: &KubeEvent) -> EventLine {
    let last = e
        .last_timestamp
        .as_ref()
        .map(|t| t.0)
        .or_else(|| e.event_time.as_ref().map(|t| t.0))
        .or_else(|| e.metadata.creation_timestamp.as_ref().map(|t| t.0));
    EventLine {
        last,
        type_: e.type_.clone().unwrap_or_default(),
        reason: e.reason.clone().unwrap_or_default(),
        message: e.message.clone().unwrap_or_default(),
        count: e.count.unwrap_or(1),
    }
}

//! A drain carried out (planned in `model::plan::drain`): cordon the node, list its pods
//! and the PodDisruptionBudgets, then evict each pod the plan evicts through the Eviction
//! API — never a plain delete, unless `disable_eviction` asks for kubectl drain's
//! `--disable-eviction` — retrying a 429 (a budget that allows no disruption now) with
//! back-off until the deadline, and waiting (on a watch, not by polling) until each
//! evicted pod is gone. A [`PauseSwitch`] holds every request not yet sent. What happens is told as [`DrainEvent`]s as it happens, so a front
//! end can show who blocks the drain and since when; the result is a [`DrainReport`].
//!
//! May import: `model`, `k8s`. Never `sim` or `ui`.

use std::time::{Duration, Instant};

use k8s_openapi::api::core::v1::{Node, Pod};
use k8s_openapi::api::policy::v1::PodDisruptionBudget;
use kube::Api;
use kube::api::{DeleteParams, EvictParams, ListParams, Patch, PatchParams, PostParams};

use crate::cluster::backoff::Backoff;
use crate::cluster::connect::Cluster;
use crate::cluster::errors::ClusterError;
use crate::k8s::selector::LabelSelector;
use crate::model::plan::drain::{BudgetFacts, DrainOptions, DrainPlan, PodFacts, plan};

/// How a drain runs, besides the plan's options.
#[derive(Debug, Clone, Default)]
pub struct DrainSettings {
    pub options: DrainOptions,
    /// The pods' grace period (None: each pod's own).
    pub grace_period: Option<i64>,
    /// Give up after this long (None: as kubectl's `--timeout=0`, wait as long as it takes).
    pub timeout: Option<Duration>,
    /// Server dry-run: every request is checked by the server, nothing changes.
    pub dry_run: bool,
    /// kubectl drain's `--disable-eviction`: DELETE each pod (with the grace period)
    /// instead of evicting it — past every PodDisruptionBudget. Off unless asked.
    pub disable_eviction: bool,
    /// The operator's pause: while it is on, no eviction (or delete) is sent.
    pub pause: Option<PauseSwitch>,
}

/// A drain's pause, as the drain sees it: while it is on, no eviction (or delete) is sent;
/// one already in flight finishes, and evicted pods are still waited for.
#[derive(Debug, Clone)]
pub struct PauseSwitch(tokio::sync::watch::Receiver<bool>);

impl PauseSwitch {
    /// A switch, off, and the sender that turns it on (`true`) and off.
    pub fn new() -> (tokio::sync::watch::Sender<bool>, PauseSwitch) {
        let (tx, rx) = tokio::sync::watch::channel(false);
        (tx, PauseSwitch(rx))
    }

    pub fn is_paused(&self) -> bool {
        *self.0.borrow()
    }

    /// Returns once the switch is off (at once if it is); false if `deadline` came first.
    /// A switch whose sender is gone counts as off.
    pub async fn resumed(&self, deadline: Option<Instant>) -> bool {
        let mut rx = self.0.clone();
        let off = async move {
            let _ = rx.wait_for(|paused| !*paused).await;
        };
        match deadline {
            Some(d) => tokio::time::timeout_at(d.into(), off).await.is_ok(),
            None => {
                off.await;
                true
            }
        }
    }
}

/// What happened, as it happened.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DrainEvent {
    Cordoned {
        node: String,
        already: bool,
    },
    /// The plan: its warnings line (kubectl's), and how many pods go.
    Planned {
        node: String,
        warnings: Option<String>,
        evicting: usize,
    },
    /// Its eviction (or, with `disable_eviction`, its delete) is being sent.
    Evicting {
        pod: String,
    },
    /// A 429: the budget allows no disruption now. `budgets`: those covering the pod
    /// (name, disruptions allowed when listed); `since`: how long it has been blocked.
    Blocked {
        pod: String,
        message: String,
        budgets: Vec<(String, i32)>,
        since: Duration,
    },
    /// Paused: its next request waits until the drain is resumed.
    Held {
        pod: String,
    },
    /// Evicted (or deleted, with `disable_eviction`).
    Evicted {
        pod: String,
    },
    /// The evicted pod is gone from the node.
    Gone {
        pod: String,
    },
}

#[derive(Debug, thiserror::Error)]
pub enum DrainError {
    /// kubectl's refusal: pods no flag allows to go (the drain evicted nothing).
    #[error("{0}")]
    Refused(String),
    #[error(transparent)]
    Cluster(#[from] ClusterError),
}

#[derive(Debug, Default)]
pub struct DrainReport {
    pub evicted: Vec<String>,
    /// Pods not evicted, with why (still blocked at the deadline, or an error).
    pub failed: Vec<(String, String)>,
}

/// The facts the plan needs, from a pod.
pub fn pod_facts(p: &Pod) -> PodFacts {
    let m = &p.metadata;
    let status = p.status.as_ref();
    let phase = status.and_then(|s| s.phase.as_deref()).unwrap_or("");
    PodFacts {
        namespace: m.namespace.clone().unwrap_or_default(),
        name: m.name.clone().unwrap_or_default(),
        uid: m.uid.clone().unwrap_or_default(),
        labels: m.labels.clone().unwrap_or_default(),
        controller: m.owner_references.iter().flatten().find(|o| o.controller == Some(true)).map(|o| (o.kind.clone(), o.name.clone())),
        mirror: m.annotations.as_ref().is_some_and(|a| a.contains_key("kubernetes.io/config.mirror")),
        empty_dir: p.spec.as_ref().and_then(|s| s.volumes.as_ref()).is_some_and(|v| v.iter().any(|v| v.empty_dir.is_some())),
        finished: phase == "Succeeded" || phase == "Failed",
        ready: status.and_then(|s| s.conditions.as_ref()).is_some_and(|c| c.iter().any(|c| c.type_ == "Ready" && c.status == "True")),
    }
}

fn budget_facts(b: &PodDisruptionBudget) -> BudgetFacts {
    BudgetFacts {
        namespace: b.metadata.namespace.clone().unwrap_or_default(),
        name: b.metadata.name.clone().unwrap_or_default(),
        selector: b.spec.as_ref().and_then(|s| s.selector.as_ref()).and_then(|s| LabelSelector::from_k8s(s).ok()),
        disruptions_allowed: b.status.as_ref().map_or(0, |s| s.disruptions_allowed),
    }
}

/// The node's pods and the budgets, planned.
pub async fn plan_node(cluster: &Cluster, node: &str, options: &DrainOptions) -> Result<(DrainPlan, Vec<BudgetFacts>), ClusterError> {
    let pods: Api<Pod> = Api::all(cluster.client.clone());
    let list = pods.list(&ListParams::default().fields(&format!("spec.nodeName={node}"))).await.map_err(|e| cluster.error(e))?;
    let facts: Vec<PodFacts> = list.items.iter().filter(|p| p.metadata.deletion_timestamp.is_none()).map(pod_facts).collect();
    let pdbs: Api<PodDisruptionBudget> = Api::all(cluster.client.clone());
    let budgets: Vec<BudgetFacts> =
        pdbs.list(&ListParams::default()).await.map_err(|e| cluster.error(e))?.items.iter().map(budget_facts).collect();
    Ok((plan(&facts, &budgets, options), budgets))
}

/// Cordons `node` (unless it is already); whether it already was.
pub async fn cordon(cluster: &Cluster, node: &str, s: &DrainSettings) -> Result<bool, DrainError> {
    let nodes: Api<Node> = Api::all(cluster.client.clone());
    let was = nodes.get(node).await.map_err(|e| cluster.error(e))?;
    let already = was.spec.as_ref().and_then(|s| s.unschedulable).unwrap_or(false);
    if !already {
        let pp = PatchParams { dry_run: s.dry_run, ..Default::default() };
        nodes
            .patch(node, &pp, &Patch::Strategic(serde_json::json!({"spec": {"unschedulable": true}})))
            .await
            .map_err(|e| cluster.error(e))?;
    }
    Ok(already)
}

/// Cordons, plans, and evicts every pod the plan evicts, all at once (as kubectl does),
/// telling `on` what happens.
pub async fn drain(cluster: &Cluster, node: &str, s: &DrainSettings, on: &(dyn Fn(DrainEvent) + Sync)) -> Result<DrainReport, DrainError> {
    let already = cordon(cluster, node, s).await?;
    on(DrainEvent::Cordoned { node: node.into(), already });
    drain_cordoned(cluster, node, s, on).await
}

/// [`drain`] of a node already cordoned: plans, and evicts every pod the plan evicts.
pub async fn drain_cordoned(
    cluster: &Cluster,
    node: &str,
    s: &DrainSettings,
    on: &(dyn Fn(DrainEvent) + Sync),
) -> Result<DrainReport, DrainError> {
    let deadline = s.timeout.map(|t| Instant::now() + t);
    let (plan, budgets) = plan_node(cluster, node, &s.options).await?;
    if let Some(r) = plan.refusal() {
        return Err(DrainError::Refused(r));
    }
    on(DrainEvent::Planned { node: node.into(), warnings: plan.warnings(), evicting: plan.evict.len() });
    let runs = plan.evict.iter().map(|(p, _, covering)| {
        let budgets: Vec<(String, i32)> = covering
            .iter()
            .map(|n| (n.clone(), budgets.iter().find(|b| b.name == *n && b.namespace == p.namespace).map_or(0, |b| b.disruptions_allowed)))
            .collect();
        evict_and_wait(cluster, p, budgets, s, deadline, on)
    });
    let mut report = DrainReport::default();
    for ((p, _, _), r) in plan.evict.iter().zip(futures::future::join_all(runs).await) {
        match r {
            Ok(()) => report.evicted.push(p.key()),
            Err(why) => report.failed.push((p.key(), why)),
        }
    }
    Ok(report)
}

/// One pod: evict (retrying 429s with back-off until the deadline; with
/// `disable_eviction`, delete it as kubectl drain's `deletePod` does), then wait until it
/// is gone. While the pause is on no request is sent.
async fn evict_and_wait(
    cluster: &Cluster,
    p: &PodFacts,
    budgets: Vec<(String, i32)>,
    s: &DrainSettings,
    deadline: Option<Instant>,
    on: &(dyn Fn(DrainEvent) + Sync),
) -> Result<(), String> {
    let api: Api<Pod> = Api::namespaced(cluster.client.clone(), &p.namespace);
    let key = p.key();
    let started = Instant::now();
    // kubectl waits 5 s between attempts; we start sooner and back off to the same.
    let mut backoff = Backoff::default();
    (backoff.first, backoff.max) = (Duration::from_secs(1), Duration::from_secs(5));
    on(DrainEvent::Evicting { pod: key.clone() });
    loop {
        if let Some(pause) = s.pause.as_ref().filter(|p| p.is_paused()) {
            on(DrainEvent::Held { pod: key.clone() });
            if !pause.resumed(deadline).await {
                return Err("paused at the timeout".into());
            }
        }
        let sent = if s.disable_eviction {
            // kubectl's makeDeleteOptions (k8s.io/kubectl/pkg/drain/drain.go): the grace
            // period when one is given, dryRun=All under server dry-run.
            let dp = DeleteParams { grace_period_seconds: s.grace_period.map(|g| g as u32), dry_run: s.dry_run, ..Default::default() };
            api.delete(&p.name, &dp).await.map(drop)
        } else {
            let ep = EvictParams {
                delete_options: s.grace_period.map(|g| DeleteParams { grace_period_seconds: Some(g as u32), ..Default::default() }),
                post_options: PostParams { dry_run: s.dry_run, ..Default::default() },
            };
            api.evict(&p.name, &ep).await.map(drop)
        };
        match sent {
            Ok(()) => break,
            Err(kube::Error::Api(e)) if e.code == 404 => return Ok(()),
            Err(kube::Error::Api(e)) if e.code == 429 => {
                on(DrainEvent::Blocked {
                    pod: key.clone(),
                    message: e.message.clone(),
                    budgets: budgets.clone(),
                    since: started.elapsed(),
                });
                let wait = backoff.next(None);
                if deadline.is_some_and(|d| Instant::now() + wait > d) {
                    return Err(format!("still blocked at the timeout: {}", e.message));
                }
                tokio::time::sleep(wait).await;
            }
            Err(e) => return Err(cluster.error(e).to_string()),
        }
    }
    on(DrainEvent::Evicted { pod: key.clone() });
    if s.dry_run {
        return Ok(());
    }
    let gone = kube::runtime::wait::await_condition(api, &p.name, kube::runtime::conditions::is_deleted(&p.uid));
    let left = deadline.map(|d| d.saturating_duration_since(Instant::now()));
    let waited = match left {
        Some(left) => tokio::time::timeout(left, gone).await.map_err(|_| "evicted, but not gone by the timeout".to_string())?,
        None => gone.await,
    };
    waited.map_err(|e| e.to_string())?;
    on(DrainEvent::Gone { pod: key });
    Ok(())
}

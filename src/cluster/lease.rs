//! The roll's lock on the cluster: a `coordination.k8s.io` Lease per DaemonSet
//! (`daemonscope-roll-<name>` in its namespace) that says who rolls it, since when, and
//! which nodes are in flight — renewed while the roll runs, deleted when it ends, and
//! taken over only once it has expired (2 × the renew interval without a renewal, as a
//! crashed holder leaves it). A second daemonscope, or a second TUI, starting a roll of
//! the same DaemonSet sees who holds it instead of doubling the batch. Optimistic, as
//! client-go's leader election: a create or update that loses a race (409) loses the lock.
//!
//! May import: `model`, `k8s`. Never `sim` or `ui`.

use std::time::Duration;

use jiff::Timestamp;
use k8s_openapi::api::coordination::v1::{Lease, LeaseSpec};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{MicroTime, ObjectMeta};
use kube::Api;
use kube::api::{DeleteParams, PostParams};

use crate::cluster::connect::Cluster;
use crate::cluster::errors::ClusterError;

/// How often a holder renews; the lease expires after twice this without a renewal.
pub const RENEW_EVERY: Duration = Duration::from_secs(10);
/// The annotation with the nodes in flight (comma-separated).
pub const IN_FLIGHT_ANNOTATION: &str = "daemonscope.io/roll-in-flight";

/// Someone else's roll of the DaemonSet, still alive.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Held {
    pub holder: String,
    pub since: Option<Timestamp>,
}

impl std::fmt::Display for Held {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.since {
            Some(t) => write!(f, "a roll by {} is in progress since {}", self.holder, t.strftime("%Y-%m-%d %H:%M:%S UTC")),
            None => write!(f, "a roll by {} is in progress", self.holder),
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum LockError {
    #[error("{0}")]
    Held(Held),
    /// RBAC denies the lease (no `get`/`create`/`update` on `coordination.k8s.io` leases).
    #[error(
        "forbidden: this user may not get, create and update leases (coordination.k8s.io) in {0}, which the roll's lock needs; nothing was changed"
    )]
    Forbidden(String),
    #[error(transparent)]
    Cluster(#[from] ClusterError),
}

/// Who is rolling, for the lease: `daemonscope@HOST/PID#N` — N counts the rolls this
/// process started, so two rolls of one process (two fleet clusters' TUIs) are two holders.
pub fn identity() -> String {
    static ROLLS: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    let n = ROLLS.fetch_add(1, std::sync::atomic::Ordering::Relaxed) + 1;
    let host = std::fs::read_to_string("/proc/sys/kernel/hostname").map(|h| h.trim().to_string()).unwrap_or_else(|_| "localhost".into());
    format!("daemonscope@{host}/{}#{n}", std::process::id())
}

pub fn lease_name(ds: &str) -> String {
    // A Lease name is a DNS subdomain; a DaemonSet name already is one, so this one fits in 253.
    format!("daemonscope-roll-{ds}")
}

/// The lock held: renew it while the roll runs, release it when it ends.
pub struct RollLock {
    api: Api<Lease>,
    name: String,
    holder: String,
}

fn expired(l: &Lease, now: Timestamp) -> bool {
    let Some(spec) = &l.spec else { return true };
    let (Some(renew), Some(secs)) = (&spec.renew_time, spec.lease_duration_seconds) else { return true };
    renew.0 + jiff::SignedDuration::from_secs(secs as i64) < now
}

/// Takes the lock on `namespace/ds` for `holder`, or says who holds it.
pub async fn acquire(cluster: &Cluster, namespace: &str, ds: &str, holder: &str) -> Result<RollLock, LockError> {
    let api: Api<Lease> = Api::namespaced(cluster.client.clone(), namespace);
    let name = lease_name(ds);
    let now = Timestamp::now();
    let spec = LeaseSpec {
        holder_identity: Some(holder.into()),
        acquire_time: Some(MicroTime(now)),
        renew_time: Some(MicroTime(now)),
        lease_duration_seconds: Some(2 * RENEW_EVERY.as_secs() as i32),
        ..Default::default()
    };
    let forbidden = |e: kube::Error| match e {
        kube::Error::Api(a) if a.code == 403 => LockError::Forbidden(namespace.to_string()),
        e => LockError::Cluster(cluster.error(e)),
    };
    let lost = |e: kube::Error| match e {
        // Someone else created or renewed it between our read and our write.
        kube::Error::Api(a) if a.code == 409 => LockError::Held(Held { holder: "another daemonscope".into(), since: None }),
        e => forbidden(e),
    };
    match api.get_opt(&name).await.map_err(forbidden)? {
        None => {
            let l = Lease { metadata: ObjectMeta { name: Some(name.clone()), ..Default::default() }, spec: Some(spec) };
            api.create(&PostParams::default(), &l).await.map_err(lost)?;
        }
        Some(cur) => {
            let theirs = cur.spec.as_ref().and_then(|s| s.holder_identity.clone()).unwrap_or_default();
            if theirs != holder && !expired(&cur, now) {
                let since = cur.spec.as_ref().and_then(|s| s.acquire_time.as_ref()).map(|t| t.0);
                return Err(LockError::Held(Held { holder: theirs, since }));
            }
            // Expired (its holder crashed or was killed), or ours: take it, guarded by its resourceVersion.
            let l = Lease { metadata: cur.metadata.clone(), spec: Some(spec) };
            api.replace(&name, &PostParams::default(), &l).await.map_err(lost)?;
        }
    }
    Ok(RollLock { api, name, holder: holder.into() })
}

impl RollLock {
    /// Renews the lease, recording the nodes in flight. A lease taken over meanwhile (by
    /// someone who found it expired) is an error: the roll must stop.
    pub async fn renew(&self, in_flight: &[String]) -> Result<(), String> {
        let mut cur = self.api.get(&self.name).await.map_err(|e| e.to_string())?;
        let spec = cur.spec.get_or_insert_with(Default::default);
        if spec.holder_identity.as_deref() != Some(self.holder.as_str()) {
            return Err(format!("the roll's lease was taken over by {}", spec.holder_identity.clone().unwrap_or_default()));
        }
        spec.renew_time = Some(MicroTime(Timestamp::now()));
        cur.metadata.annotations.get_or_insert_with(Default::default).insert(IN_FLIGHT_ANNOTATION.into(), in_flight.join(","));
        self.api.replace(&self.name, &PostParams::default(), &cur).await.map(drop).map_err(|e| e.to_string())
    }

    /// Deletes the lease (if still ours).
    pub async fn release(self) {
        if let Ok(cur) = self.api.get(&self.name).await
            && cur.spec.as_ref().and_then(|s| s.holder_identity.as_deref()) == Some(self.holder.as_str())
        {
            let _ = self.api.delete(&self.name, &DeleteParams::default()).await;
        }
    }
}

//! The API server's shared state: the store it serves, its settings, faults, the
//! authenticator, and the log of requests it has answered.
//!
//! May import: `sim::api::auth`, `sim::store`, `sim::faults`.

use std::collections::VecDeque;
use std::sync::Arc;
use std::time::Duration;

use parking_lot::Mutex;
use serde::Serialize;

use super::auth::Auth;
use crate::sim::faults::Faults;
use crate::sim::store::Store;

/// One request as the server saw it (for tests and `--request-log`).
#[derive(Debug, Clone, Serialize)]
pub struct RequestRecord {
    pub method: String,
    pub path: String,
    pub query: String,
    pub verb: String,
    pub user: String,
    pub status: u16,
    pub user_agent: String,
    /// The `Accept` header ("" without one), and the encoding the response took
    /// (its `Content-Type`).
    pub accept: String,
    pub content_type: String,
    /// Milliseconds since the server started, when the request arrived.
    pub at_ms: u64,
}

impl RequestRecord {
    /// A request that changes state.
    pub fn is_mutating(&self) -> bool {
        matches!(self.verb.as_str(), "create" | "update" | "patch" | "delete" | "deletecollection")
            && !self.path.ends_with("/selfsubjectaccessreviews")
    }
}

pub struct ApiSettings {
    pub bookmark_interval: Duration,
    /// Watches without timeoutSeconds close after this (the server's min-request-timeout).
    pub watch_timeout: Duration,
    pub request_log_cap: usize,
    /// `sim --frozen`: every write is answered 405 MethodNotAllowed.
    pub frozen: bool,
    /// The `WatchList` feature gate: watches may start with the collection
    /// (`sendInitialEvents`); off, they are refused 422 (see [`crate::k8s::watchlist`]).
    pub watch_list: bool,
}

impl Default for ApiSettings {
    fn default() -> Self {
        ApiSettings {
            bookmark_interval: Duration::from_secs(60),
            watch_timeout: Duration::from_secs(1800),
            request_log_cap: 100_000,
            frozen: false,
            watch_list: true,
        }
    }
}

pub struct ApiState {
    pub store: Arc<Store>,
    pub faults: Arc<Faults>,
    /// None: every request is the administrator's (in-process clients, plain HTTP).
    pub auth: parking_lot::RwLock<Option<Auth>>,
    pub settings: ApiSettings,
    pub requests: Mutex<VecDeque<RequestRecord>>,
    pub started: std::time::Instant,
    /// Container logs a dump brought, by (namespace, pod, container): what a frozen
    /// simulator answers `pods/log` with.
    pub dumped_logs: parking_lot::RwLock<std::collections::BTreeMap<(String, String, String), String>>,
}

impl ApiState {
    pub fn new(store: Arc<Store>, auth: Option<Auth>, settings: ApiSettings, faults: Arc<Faults>) -> Arc<Self> {
        Arc::new(ApiState {
            store,
            auth: parking_lot::RwLock::new(auth),
            settings,
            requests: Mutex::new(VecDeque::new()),
            faults,
            started: std::time::Instant::now(),
            dumped_logs: Default::default(),
        })
    }

    /// Accepts `token` as `user` from now on (and from now on requires a token).
    pub fn add_token(&self, token: &str, user: super::auth::User) {
        self.auth.write().get_or_insert_with(Default::default).tokens.insert(token.to_string(), user);
    }

    pub fn request_log(&self) -> Vec<RequestRecord> {
        self.requests.lock().iter().cloned().collect()
    }

    pub(super) fn record(&self, r: RequestRecord) {
        tracing::debug!(method = %r.method, path = %r.path, query = %r.query, status = r.status, user = %r.user, "request");
        let mut q = self.requests.lock();
        q.push_back(r);
        while q.len() > self.settings.request_log_cap {
            q.pop_front();
        }
    }
}

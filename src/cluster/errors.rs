//! The client's errors, typed ([`ClusterError`]): what went wrong, whether waiting can fix
//! it ([`ClusterError::is_fatal`]), how long the server asked us to wait
//! ([`ClusterError::retry_after`]), and — as `Display` — one line an operator can act on.
//!
//! May import: `model`, `k8s` (it needs neither). Never `sim` or `ui`.

use std::path::PathBuf;
use std::time::Duration;

use crate::cluster::backoff::RetryAfterHint;

/// What is said after every kubeconfig problem.
const TRY_DEMO: &str = "\n  (to try daemonscope without a cluster: daemonscope --demo)";

/// A request that got no answer (not even its response headers) within this long: the
/// server accepted the connection and stayed silent.
#[derive(Debug, Clone, Copy, thiserror::Error)]
#[error("no answer from the API server within {}s", .0.as_secs_f64())]
pub struct NoAnswer(pub Duration);

#[derive(Debug, thiserror::Error)]
pub enum ClusterError {
    /// A request failed: refused by the API server, or it never got there. `retry_after`:
    /// how long the server asked us to wait (from the Status body or the Retry-After header).
    #[error("{}", describe_kube_error(.source))]
    Api { source: kube::Error, retry_after: Option<Duration> },
    /// A watch sent nothing (no event, bookmark or end) for this long: a dead connection.
    #[error("no answer from the API server for {}s; reconnecting", .0.as_secs_f64())]
    Silent(Duration),
    /// A list page took longer than this.
    #[error("cannot reach the API server: a list page took over {}s", .0.as_secs_f64())]
    SlowPage(Duration),
    /// A kubeconfig that cannot be used (`path`: the file, None for the default ones).
    #[error("{}{TRY_DEMO}", describe_config_error(.source, .path.as_deref()))]
    Kubeconfig { source: kube::config::KubeconfigError, path: Option<PathBuf> },
    /// `$KUBECONFIG` is a list of nothing.
    #[error("KUBECONFIG names no file{TRY_DEMO}")]
    NoKubeconfigFile,
    /// A context that a fixed source (the demo) does not have.
    #[error("context {wanted:?} does not exist here (only {only:?})")]
    NoSuchContext { wanted: String, only: String },
    #[error("in-cluster config: {0}")]
    InCluster(#[source] kube::config::InClusterError),
    /// The in-cluster client could not be built.
    #[error("cannot build a client: {0}")]
    BuildClient(#[source] kube::Error),
    /// A kubeconfig context's client could not be built.
    #[error("cannot connect with context {context:?}: {}", describe_kube_error(.source))]
    Connect { context: String, source: kube::Error },
    /// An object that would not turn into JSON or YAML.
    #[error("{0}")]
    Json(#[from] serde_json::Error),
    #[error("{0}")]
    Yaml(#[from] serde_saphyr::SerializeError),
}

/// Why a watch fails, as one value of a fixed set: what every front end decides on (is the
/// server down, silent, refusing us, asking us to slow down?) — never the error's words.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SyncFailure {
    /// The connection was not made or broke (refused, DNS, reset): the server is down or
    /// out of reach.
    Unreachable,
    /// The server accepted and did not answer in time (no response, a silent watch, a
    /// list page too slow).
    Silent,
    /// 401, or the credentials could not be had (an exec plugin failed).
    Unauthorized,
    /// 403.
    Forbidden,
    /// 429: the server asked us to slow down.
    Throttled,
    /// The server's certificate is not trusted.
    Tls,
    /// Another answer of the server (5xx, 404 …) or of the client.
    Other,
}

impl SyncFailure {
    pub fn of(e: &ClusterError) -> SyncFailure {
        if e.is_timeout() {
            return SyncFailure::Silent;
        }
        match e {
            ClusterError::Api { source, .. } => match source {
                kube::Error::Api(s) if s.code == 401 => SyncFailure::Unauthorized,
                kube::Error::Api(s) if s.code == 403 => SyncFailure::Forbidden,
                kube::Error::Api(s) if s.code == 429 => SyncFailure::Throttled,
                kube::Error::Api(_) => SyncFailure::Other,
                kube::Error::Auth(_) => SyncFailure::Unauthorized,
                other => {
                    let chain = error_chain(other).to_lowercase();
                    if chain.contains("certificate") || chain.contains("invalid peer") || chain.contains("tls handshake") {
                        SyncFailure::Tls
                    } else {
                        SyncFailure::Unreachable
                    }
                }
            },
            _ => SyncFailure::Other,
        }
    }

    /// The server refused us: credentials or permissions (the user must act).
    pub fn is_refusal(self) -> bool {
        matches!(self, SyncFailure::Unauthorized | SyncFailure::Forbidden)
    }

    /// The server did not answer in time.
    pub fn is_timeout(self) -> bool {
        self == SyncFailure::Silent
    }
}

impl From<kube::Error> for ClusterError {
    /// A failed request; the wait the server asked for is read from the Status body only
    /// (see [`ClusterError::api`] for the Retry-After header).
    fn from(e: kube::Error) -> Self {
        ClusterError::api(e, &RetryAfterHint::default())
    }
}

impl ClusterError {
    /// A failed request of the client whose Retry-After headers `hint` saw.
    pub fn api(source: kube::Error, hint: &RetryAfterHint) -> Self {
        let retry_after = hint.for_error(&source);
        ClusterError::Api { source, retry_after }
    }

    /// A `Status` the server sent inside a watch stream.
    pub fn status(s: Box<kube::core::Status>, hint: &RetryAfterHint) -> Self {
        ClusterError::api(kube::Error::Api(s), hint)
    }

    /// Waiting will not fix it: the user must act (log in again, get permission, fix the
    /// kubeconfig or the certificate). The watches still retry, slowly.
    pub fn is_fatal(&self) -> bool {
        match self {
            ClusterError::Api { source, .. } | ClusterError::BuildClient(source) | ClusterError::Connect { source, .. } => {
                kube_is_fatal(source)
            }
            ClusterError::Silent(_) | ClusterError::SlowPage(_) => false,
            _ => true,
        }
    }

    /// How long the server asked us to wait before trying again (429 / 503).
    pub fn retry_after(&self) -> Option<Duration> {
        match self {
            ClusterError::Api { retry_after, .. } => *retry_after,
            _ => None,
        }
    }

    /// The server did not answer in time (no response, a list page too slow, a silent
    /// watch): it may be down or unreachable rather than refusing.
    pub fn is_timeout(&self) -> bool {
        match self {
            ClusterError::Silent(_) | ClusterError::SlowPage(_) => true,
            ClusterError::Api { source, .. } => {
                let mut cur: Option<&(dyn std::error::Error + 'static)> = Some(source);
                while let Some(e) = cur {
                    if e.is::<NoAnswer>() {
                        return true;
                    }
                    cur = e.source();
                }
                false
            }
            _ => false,
        }
    }

    /// The server says the resourceVersion asked for is newer than its own (504 Timeout
    /// with cause ResourceVersionTooLarge): it was restored onto an older state, or the
    /// client talks to a lagging replica. Like client-go's reflector, relist.
    pub fn is_resource_version_too_large(&self) -> bool {
        match self {
            ClusterError::Api { source: kube::Error::Api(s), .. } => {
                s.code == 504 && s.details.as_ref().is_some_and(|d| d.causes.iter().any(|c| c.reason == "ResourceVersionTooLarge"))
            }
            _ => false,
        }
    }

    /// The HTTP status code the API server answered with, if it answered.
    pub fn code(&self) -> Option<u16> {
        match self {
            ClusterError::Api { source: kube::Error::Api(s), .. } => Some(s.code),
            _ => None,
        }
    }
}

fn kube_is_fatal(e: &kube::Error) -> bool {
    match e {
        kube::Error::Api(s) => matches!(s.code, 400 | 401 | 403 | 404 | 405 | 406 | 415),
        kube::Error::Auth(_) => true,
        other => {
            let chain = error_chain(other).to_lowercase();
            chain.contains("certificate") || chain.contains("invalid peer") || chain.contains("tls handshake")
        }
    }
}

/// Credential failures, without the command line (it carries the plugin's environment)
/// or the plugin's stdout (where a credential would be): only its exit status and stderr.
fn describe_auth_error(e: &kube::client::AuthError) -> String {
    use kube::client::AuthError as A;
    match e {
        A::AuthExecRun { out, .. } => {
            let stderr = String::from_utf8_lossy(&out.stderr);
            let said: Vec<&str> = stderr.lines().map(str::trim).filter(|l| !l.is_empty()).collect();
            let said = said.iter().rev().take(3).rev().copied().collect::<Vec<_>>().join(" / ");
            format!(
                "the kubeconfig's exec credential plugin failed ({}){}; log in again (see the plugin's own instructions)",
                out.status,
                if said.is_empty() { String::new() } else { format!(": {said}") }
            )
        }
        A::AuthExecStart(io) => format!("cannot run the kubeconfig's exec credential plugin: {io} (is it installed and on PATH?)"),
        A::AuthExecParse(_) => "the kubeconfig's exec credential plugin printed something that is not an ExecCredential".into(),
        other => format!("credentials: {other}"),
    }
}

/// An error's sources, each said once, without the wrappers that say nothing
/// ("ServiceError", hyper's "client error (Connect)"): "tcp connect error: Connection refused".
fn error_chain(e: &dyn std::error::Error) -> String {
    const NOISE: [&str; 3] = ["ServiceError", "client error (Connect)", "client error (SendRequest)"];
    let mut parts: Vec<String> = Vec::new();
    let mut cur: Option<&dyn std::error::Error> = Some(e);
    while let Some(c) = cur {
        let mut t = c.to_string();
        for n in NOISE {
            t = t.trim_start_matches(n).trim_start_matches(": ").to_string();
        }
        if !t.is_empty() && !NOISE.contains(&t.as_str()) && !parts.iter().any(|p| p.contains(&t)) {
            parts.retain(|p| !t.contains(p.as_str()));
            parts.push(t);
        }
        cur = c.source();
    }
    parts.join(": ")
}

fn describe_kube_error(e: &kube::Error) -> String {
    match e {
        kube::Error::Api(s) if s.code == 401 => {
            "401 Unauthorized: the credentials were refused (expired token?); re-authenticate and try again".into()
        }
        kube::Error::Api(s) if s.code == 403 => format!("403 Forbidden: {}", s.message),
        kube::Error::Api(s) if s.code == 429 => match s.details.as_ref().map(|d| d.retry_after_seconds).filter(|s| *s > 0) {
            Some(after) => format!("429 Too Many Requests: the API server is overloaded and asked to wait {after}s"),
            None => "429 Too Many Requests: the API server is overloaded".into(),
        },
        kube::Error::Api(s) => format!("{} {}: {}", s.code, s.reason, s.message),
        kube::Error::Auth(a) => describe_auth_error(a),
        kube::Error::HyperError(_) | kube::Error::Service(_) => {
            let chain = error_chain(e);
            let l = chain.to_lowercase();
            if l.contains("certificate") || l.contains("invalid peer") {
                format!("TLS failure talking to the API server: {chain} (check certificate-authority in the kubeconfig)")
            } else {
                format!("cannot reach the API server: {chain}")
            }
        }
        other => other.to_string(),
    }
}

/// Why a kubeconfig could not be used (without the hint to try `--demo`).
fn describe_config_error(e: &kube::config::KubeconfigError, path: Option<&std::path::Path>) -> String {
    use kube::config::KubeconfigError as K;
    let file = path.map(|p| p.display().to_string()).unwrap_or_else(|| "$KUBECONFIG / ~/.kube/config".into());
    match e {
        K::LoadContext(c) => format!("context {c:?} is not in {file}"),
        K::CurrentContextNotSet => format!("{file} sets no current-context; pass --context NAME"),
        K::ReadConfig(io, p) => format!("cannot read kubeconfig {}: {io}", p.display()),
        // The YAML parser draws a multi-line snippet; its first line says where and what.
        K::Parse(err) => format!(
            "{file} is not a valid kubeconfig: {}",
            err.to_string().lines().next().unwrap_or_default().trim_start_matches("error: ")
        ),
        K::LoadClusterOfContext(c) => format!("the cluster {c:?} named by the context is not in {file}"),
        K::FindPath => "no kubeconfig found: set KUBECONFIG, pass --kubeconfig FILE, or create ~/.kube/config".into(),
        other => format!("{file}: {other}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn status(code: u16, retry: u32) -> kube::Error {
        let mut s = kube::core::Status::failure("slow down", "TooManyRequests").with_code(code);
        s.details = Some(serde_json::from_value(serde_json::json!({ "retryAfterSeconds": retry })).unwrap());
        kube::Error::Api(Box::new(s))
    }

    #[test]
    fn a_429_says_how_long_and_is_not_fatal() {
        let e = ClusterError::from(status(429, 4));
        assert_eq!(e.to_string(), "429 Too Many Requests: the API server is overloaded and asked to wait 4s");
        assert_eq!(e.retry_after(), Some(Duration::from_secs(4)));
        assert!(!e.is_fatal());
        assert_eq!(e.code(), Some(429));
    }

    #[test]
    fn refusals_are_fatal_and_timeouts_are_not() {
        assert!(ClusterError::from(status(403, 0)).is_fatal());
        assert!(!ClusterError::from(status(500, 0)).is_fatal());
        assert!(!ClusterError::Silent(Duration::from_secs(320)).is_fatal());
        assert_eq!(ClusterError::Silent(Duration::from_secs(320)).to_string(), "no answer from the API server for 320s; reconnecting");
        assert_eq!(ClusterError::SlowPage(Duration::from_secs(120)).to_string(), "cannot reach the API server: a list page took over 120s");
    }
}

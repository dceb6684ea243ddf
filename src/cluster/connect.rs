//! Reaching a cluster: the kubeconfig (`--kubeconfig`, or `$KUBECONFIG` with several
//! files merged as kubectl does, or `~/.kube/config`), its contexts, and a client for one
//! of them ([`Cluster`]: a kube client with the Retry-After hints of its own API server);
//! in-cluster config when there is no kubeconfig inside a pod. Errors are
//! [`ClusterError`]s, each one line an operator can act on.
//!
//! May import: `model`, `k8s` (it needs neither). Never `sim` or `ui`.

use std::path::{Path, PathBuf};
use std::time::Duration;

use kube::config::{KubeConfigOptions, Kubeconfig};

use crate::cluster::backoff::RetryAfterHint;
use crate::cluster::errors::{ClusterError, NoAnswer};
use crate::cluster::requests::{CountLayer, RequestCounts};
use crate::k8s::proto::Wire;
use crate::k8s::watchlist::WatchList;

/// A client of one API server, with what that server last said about waiting (its
/// Retry-After headers, which kube-rs drops from errors) and how long its requests may
/// take. Cheap to clone; clones share the hint, other clusters do not.
#[derive(Clone)]
pub struct Cluster {
    pub client: kube::Client,
    pub retry_after: RetryAfterHint,
    pub timeouts: Timeouts,
    /// How watches fetch a whole collection, and in which encoding (`--watch-list`,
    /// `--wire`).
    pub fetch: Fetch,
    /// Every request this client made, by verb and status code (empty for a client
    /// built elsewhere).
    pub requests: RequestCounts,
}

impl From<kube::Client> for Cluster {
    /// A client built elsewhere (the in-process demo): its failures carry only the wait
    /// their Status bodies ask for.
    fn from(client: kube::Client) -> Self {
        Cluster {
            client,
            retry_after: RetryAfterHint::default(),
            timeouts: Timeouts::default(),
            fetch: Fetch::default(),
            requests: RequestCounts::default(),
        }
    }
}

/// How long the client waits for an API server before it calls the attempt failed
/// (kubectl's `--request-timeout`, split by what is waited for). There is no separate
/// connect timeout: opening the connection and the TLS handshake count in the first-byte
/// deadline, so a server that accepts and never answers is the same wait and the same
/// line over `https://` as over `http://` (a connect timeout of its own covered the TLS
/// handshake, expired first over HTTPS, and said only "deadline has elapsed").
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Timeouts {
    /// From sending a request to the first byte of its answer (the response headers),
    /// connecting and the TLS handshake included.
    pub first_byte: Duration,
    /// One list page, whole.
    pub page: Duration,
    /// How often the server is expected to send a watch bookmark (kube-apiserver: about
    /// once a minute). A watch with neither an event nor a bookmark for twice this long
    /// is a dead connection and is reopened.
    pub bookmark_interval: Duration,
}

impl Default for Timeouts {
    fn default() -> Self {
        Timeouts { first_byte: Duration::from_secs(30), page: Duration::from_secs(60), bookmark_interval: Duration::from_secs(60) }
    }
}

impl Timeouts {
    /// `--request-timeout`: no request waits longer than `limit` for its answer (its
    /// connection included) or its list page.
    pub fn request_timeout(limit: Option<Duration>) -> Self {
        let d = Timeouts::default();
        match limit {
            None => d,
            Some(l) => Timeouts { first_byte: l, page: l, ..d },
        }
    }

    /// Silence after which a watch is reopened.
    pub fn watch_idle(&self) -> Duration {
        self.bookmark_interval.saturating_mul(2)
    }
}

impl Cluster {
    /// A failed request of this client, with the wait its server asked for.
    pub fn error(&self, e: kube::Error) -> ClusterError {
        ClusterError::api(e, &self.retry_after)
    }
}

/// Where clients come from: a kubeconfig (whose contexts can be switched), the
/// in-cluster service account, or a fixed client (the in-process demo simulator).
#[derive(Clone)]
pub enum Source {
    Kubeconfig { config: Box<Kubeconfig>, path: Option<PathBuf>, timeouts: Timeouts, fetch: Fetch },
    InCluster(Timeouts, Fetch),
    Fixed { client: kube::Client, context: String },
}

impl Source {
    /// Reads the kubeconfig the flags and environment name; its clients wait as long as
    /// `timeouts` say.
    pub fn load(path: Option<&Path>, timeouts: Timeouts) -> Result<Source, ClusterError> {
        let config = match path {
            Some(p) if p.to_string_lossy().contains(':') => {
                // As kubectl: files of the list that do not exist are skipped; it fails
                // only when none is left (then on the first missing one).
                let mut merged: Option<Kubeconfig> = None;
                let mut missing = None;
                for part in p.to_string_lossy().split(':').filter(|s| !s.is_empty()) {
                    let k = match read_kubeconfig(Path::new(part)) {
                        Ok(k) => k,
                        Err(kube::config::KubeconfigError::ReadConfig(io, _)) if io.kind() == std::io::ErrorKind::NotFound => {
                            tracing::info!(file = part, "kubeconfig in KUBECONFIG does not exist; skipped");
                            missing.get_or_insert((io, PathBuf::from(part)));
                            continue;
                        }
                        Err(e) => return Err(kubeconfig(e, Some(Path::new(part)))),
                    };
                    merged = Some(match merged {
                        None => k,
                        Some(m) => m.merge(k).map_err(|e| kubeconfig(e, None))?,
                    });
                }
                match (merged, missing) {
                    (Some(m), _) => m,
                    (None, Some((io, part))) => {
                        return Err(kubeconfig(kube::config::KubeconfigError::ReadConfig(io, part.clone()), Some(&part)));
                    }
                    (None, None) => return Err(ClusterError::NoKubeconfigFile),
                }
            }
            Some(p) => read_kubeconfig(p).map_err(|e| kubeconfig(e, Some(p)))?,
            None => match default_kubeconfig().map(|p| read_kubeconfig(&p)).unwrap_or_else(Kubeconfig::read) {
                Ok(k) => k,
                Err(_) if std::env::var_os("KUBERNETES_SERVICE_HOST").is_some() => {
                    return Ok(Source::InCluster(timeouts, Fetch::default()));
                }
                Err(e) => return Err(kubeconfig(e, None)),
            },
        };
        Ok(Source::Kubeconfig { config: Box::new(config), path: path.map(Path::to_path_buf), timeouts, fetch: Fetch::default() })
    }

    /// Its clients fetch whole collections as `mode` says (`--watch-list`, `--wire`).
    pub fn with_fetch(mut self, mode: Fetch) -> Source {
        match &mut self {
            Source::Kubeconfig { fetch, .. } | Source::InCluster(_, fetch) => *fetch = mode,
            Source::Fixed { .. } => {}
        }
        self
    }

    /// The context names, in kubeconfig order.
    pub fn contexts(&self) -> Vec<String> {
        match self {
            Source::Kubeconfig { config, .. } => config.contexts.iter().map(|c| c.name.clone()).collect(),
            Source::InCluster(..) => vec!["in-cluster".into()],
            Source::Fixed { context, .. } => vec![context.clone()],
        }
    }

    /// The context used when none is chosen.
    pub fn current_context(&self) -> Option<String> {
        match self {
            Source::Kubeconfig { config, .. } => config.current_context.clone(),
            Source::InCluster(..) => Some("in-cluster".into()),
            Source::Fixed { context, .. } => Some(context.clone()),
        }
    }

    /// The API server URL of a context (for error messages), without any credentials
    /// written into it (`https://user:pass@host` shows as `https://***@host`).
    pub fn server(&self, context: &str) -> Option<String> {
        match self {
            Source::Kubeconfig { config, .. } => {
                let cluster = config.contexts.iter().find(|c| c.name == context)?.context.as_ref()?.cluster.clone();
                config.clusters.iter().find(|c| c.name == cluster)?.cluster.as_ref()?.server.as_deref().map(redact_url)
            }
            Source::InCluster(..) => Some("https://kubernetes.default.svc".into()),
            Source::Fixed { .. } => None,
        }
    }

    /// The kubeconfig user of a context (for the action log), or a description.
    pub fn user(&self, context: &str) -> String {
        match self {
            Source::Kubeconfig { config, .. } => config
                .contexts
                .iter()
                .find(|c| c.name == context)
                .and_then(|c| c.context.as_ref())
                .map(|c| c.user.clone().unwrap_or_default())
                .unwrap_or_else(|| "?".into()),
            Source::InCluster(..) => "in-cluster service account".into(),
            Source::Fixed { .. } => "demo".into(),
        }
    }

    /// A client for `context` (None: the current one), and the context's name.
    pub async fn client(&self, context: Option<&str>) -> Result<(Cluster, String), ClusterError> {
        match self {
            Source::Fixed { client, context: name } => match context {
                Some(c) if c != name => Err(ClusterError::NoSuchContext { wanted: c.to_string(), only: name.clone() }),
                _ => Ok((Cluster::from(client.clone()), name.clone())),
            },
            Source::InCluster(timeouts, fetch) => {
                let config = kube::Config::incluster().map_err(ClusterError::InCluster)?;
                let mut client = build_client_with(config, *timeouts).map_err(ClusterError::BuildClient)?;
                client.fetch = *fetch;
                Ok((client, "in-cluster".into()))
            }
            Source::Kubeconfig { config, path, timeouts, fetch } => {
                let name = context.map(str::to_string).or_else(|| config.current_context.clone()).unwrap_or_default();
                let opts = KubeConfigOptions { context: context.map(str::to_string), ..Default::default() };
                let cfg =
                    kube::Config::from_custom_kubeconfig((**config).clone(), &opts).await.map_err(|e| kubeconfig(e, path.as_deref()))?;
                let mut client =
                    build_client_with(cfg, *timeouts).map_err(|source| ClusterError::Connect { context: name.clone(), source })?;
                client.fetch = *fetch;
                Ok((client, name))
            }
        }
    }
}

/// kube's `Kubeconfig::read_from` within the file size limit (`--max-file-size`): a regular
/// file is judged by its size before it is read; anything else (a device, a FIFO) is read
/// here, up to the limit.
fn read_kubeconfig(p: &Path) -> Result<Kubeconfig, kube::config::KubeconfigError> {
    use crate::k8s::files::{self, ReadError};
    use kube::config::KubeconfigError as K;
    let refused = |e: ReadError| match e {
        ReadError::Io(io) => K::ReadConfig(io, p.into()),
        e => K::ReadConfig(std::io::Error::other(e.to_string()), p.into()),
    };
    let k = match std::fs::metadata(p) {
        Ok(m) if m.is_file() && m.len() > files::max() => Err(refused(ReadError::TooLarge { limit: files::max() })),
        Ok(m) if !m.is_file() && !m.is_dir() => Kubeconfig::from_yaml(&files::read_to_string(p).map_err(refused)?),
        _ => Kubeconfig::read_from(p),
    }?;
    // The files it names are read by kube whole: each must be a regular file within the limit.
    let named =
        k.clusters.iter().filter_map(|c| c.cluster.as_ref()?.certificate_authority.clone()).chain(k.auth_infos.iter().flat_map(|a| {
            let a = a.auth_info.as_ref();
            [a.and_then(|a| a.client_certificate.clone()), a.and_then(|a| a.client_key.clone()), a.and_then(|a| a.token_file.clone())]
                .into_iter()
                .flatten()
        }));
    for f in named {
        match std::fs::metadata(&f) {
            Ok(m) if !m.is_file() => return Err(refused(ReadError::Io(std::io::Error::other(format!("{f} is not a regular file"))))),
            Ok(m) if m.len() > files::max() => {
                return Err(refused(ReadError::Io(std::io::Error::other(format!(
                    "{f} is {}",
                    ReadError::TooLarge { limit: files::max() }
                )))));
            }
            _ => {}
        }
    }
    Ok(k)
}

/// `~/.kube/config`, when it exists and `$KUBECONFIG` is not set (else kube finds it, or
/// says why there is none).
fn default_kubeconfig() -> Option<PathBuf> {
    if std::env::var_os("KUBECONFIG").is_some() {
        return None;
    }
    let p = PathBuf::from(std::env::var_os("HOME")?).join(".kube").join("config");
    p.exists().then_some(p)
}

fn kubeconfig(source: kube::config::KubeconfigError, path: Option<&Path>) -> ClusterError {
    ClusterError::Kubeconfig { source, path: path.map(Path::to_path_buf) }
}

/// A client as every part of daemonscope uses it, with the default [`Timeouts`], its
/// requests counted by verb and code.
pub fn build_client(config: kube::Config) -> Result<Cluster, kube::Error> {
    build_client_with(config, Timeouts::default())
}

/// A client as every part of daemonscope uses it: kube-rs's own retries off (below), the
/// Retry-After header of 429/503 answers noted for the backoff in this client's own
/// [`RetryAfterHint`], a first-byte timeout on every request (its connection and TLS included)
/// (`timeouts`), and no credentials in the server URL it logs (below).
pub fn build_client_with(config: kube::Config, timeouts: Timeouts) -> Result<Cluster, kube::Error> {
    let mut config = credentials_out_of_url(own_retries(config));
    // One deadline, the first byte's (below), over the connection, its TLS and the answer.
    config.connect_timeout = None;
    let mut cluster = with_retry_hint(kube::client::ClientBuilder::try_from(config)?, timeouts.first_byte);
    cluster.timeouts = timeouts;
    Ok(cluster)
}

/// `https://user:pass@host` as `https://***@host`: for every URL printed or logged.
pub fn redact_url(url: &str) -> String {
    let (scheme, rest) = match url.split_once("://") {
        Some((s, r)) => (Some(s), r),
        None => (None, url),
    };
    let end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    match rest[..end].rfind('@') {
        Some(at) => format!("{}***@{}", scheme.map(|s| format!("{s}://")).unwrap_or_default(), &rest[at + 1..]),
        None => url.to_string(),
    }
}

/// A server URL with userinfo (`https://user:pass@host`): as kubectl (Go's HTTP client)
/// does, those become basic-auth credentials when the kubeconfig user sets none, and the
/// URL the client keeps — and kube-rs logs with every request — no longer carries them.
fn credentials_out_of_url(mut config: kube::Config) -> kube::Config {
    let Some(authority) = config.cluster_url.authority().cloned() else { return config };
    let Some((userinfo, host)) = authority.as_str().rsplit_once('@') else { return config };
    let (user, pass) = userinfo.split_once(':').unwrap_or((userinfo, ""));
    let a = &mut config.auth_info;
    let has_credentials =
        a.token.is_some() || a.token_file.is_some() || a.username.is_some() || a.exec.is_some() || a.auth_provider.is_some();
    if !has_credentials {
        a.username = Some(percent_decoded(user));
        a.password = Some(percent_decoded(pass).into());
    }
    let mut parts = config.cluster_url.clone().into_parts();
    if let Ok(h) = host.parse() {
        parts.authority = Some(h);
        if let Ok(u) = http::Uri::from_parts(parts) {
            config.cluster_url = u;
        }
    }
    config
}

fn percent_decoded(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        let hex = (b[i] == b'%' && i + 2 < b.len())
            .then(|| std::str::from_utf8(&b[i + 1..i + 3]).ok().and_then(|h| u8::from_str_radix(h, 16).ok()))
            .flatten();
        match hex {
            Some(c) => {
                out.push(c);
                i += 3;
            }
            None => {
                out.push(b[i]);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

type Response = http::Response<Box<kube::client::DynBody>>;

/// Builds the client with a layer that notes every response's Retry-After in a hint
/// owned by this client alone, and fails a request with [`NoAnswer`] when no response
/// (its headers) came within `first_byte` — a server that accepts and never answers.
fn with_retry_hint<S>(builder: kube::client::ClientBuilder<S>, first_byte: Duration) -> Cluster
where
    S: tower::Service<http::Request<kube::client::Body>, Response = Response> + Send + 'static,
    S::Future: Send + 'static,
    S::Error: Into<tower::BoxError>,
{
    let retry_after = RetryAfterHint::default();
    let noted = retry_after.clone();
    let layer = tower::ServiceBuilder::new()
        .map_err(move |e: tower::BoxError| -> tower::BoxError {
            if e.is::<tower::timeout::error::Elapsed>() { Box::new(NoAnswer(first_byte)) } else { e }
        })
        .timeout(first_byte)
        .map_response(move |resp: Response| {
            noted.note(&resp);
            resp
        });
    let requests = RequestCounts::default();
    let client = builder.with_layer(&layer).with_layer(&CountLayer(requests.clone())).build();
    Cluster { client, retry_after, timeouts: Timeouts::default(), fetch: Fetch::default(), requests }
}

/// kube-rs would quietly retry 429/503 up to 15 times inside a request; the watches do
/// their own backoff (honouring Retry-After) so that a throttled or restarting server shows
/// as stale data, not as a silent pause.
pub fn own_retries(mut config: kube::Config) -> kube::Config {
    config.default_retry = false;
    config
}

/// How the loop fetches: the whole collection as a watch-list or in pages, and in which
/// encoding.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Fetch {
    pub watch_list: WatchList,
    pub wire: Wire,
}

impl From<WatchList> for Fetch {
    /// `mode`, in the default encoding.
    fn from(watch_list: WatchList) -> Fetch {
        Fetch { watch_list, wire: Wire::default() }
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    /// A client of a server that answers every request 429 with `Retry-After: secs`.
    fn throttled(secs: u64) -> Cluster {
        let svc = tower::service_fn(move |_req: http::Request<kube::client::Body>| async move {
            let text = http_body_util::Full::new(bytes::Bytes::from_static(b"Too many requests, please try again later."));
            let body: Box<kube::client::DynBody> = Box::new(http_body_util::BodyExt::map_err(text, |e| -> tower::BoxError { match e {} }));
            Ok::<_, std::convert::Infallible>(
                http::Response::builder().status(429).header(http::header::RETRY_AFTER, secs.to_string()).body(body).unwrap(),
            )
        });
        with_retry_hint(kube::client::ClientBuilder::new(svc, "default"), Duration::from_secs(30))
    }

    #[test]
    fn timeouts_default_as_documented_and_request_timeout_bounds_them() {
        let d = Timeouts::default();
        assert_eq!(
            (d.first_byte, d.page, d.bookmark_interval),
            (Duration::from_secs(30), Duration::from_secs(60), Duration::from_secs(60))
        );
        assert_eq!(d.watch_idle(), Duration::from_secs(120), "twice the bookmark interval");
        assert_eq!(Timeouts::request_timeout(None), d);
        let t = Timeouts::request_timeout(Some(Duration::from_secs(5)));
        assert_eq!((t.first_byte, t.page), (Duration::from_secs(5), Duration::from_secs(5)));
        let t = Timeouts::request_timeout(Some(Duration::from_secs(90)));
        assert_eq!((t.first_byte, t.page), (Duration::from_secs(90), Duration::from_secs(90)));
    }

    #[test]
    fn credentials_in_urls_are_redacted() {
        assert_eq!(redact_url("https://user:pa%40ss@10.0.0.1:6443/x?y"), "https://***@10.0.0.1:6443/x?y");
        assert_eq!(redact_url("https://10.0.0.1:6443"), "https://10.0.0.1:6443");
        assert_eq!(redact_url("https://10.0.0.1/a@b"), "https://10.0.0.1/a@b", "an @ in the path is not userinfo");
        let mut c = kube::Config::new("https://admin:s3cret@10.0.0.1:6443".parse().unwrap());
        c = credentials_out_of_url(c);
        assert_eq!(c.cluster_url.to_string(), "https://10.0.0.1:6443/");
        assert_eq!(c.auth_info.username.as_deref(), Some("admin"), "as Go's HTTP client, they become basic auth");
    }

    #[tokio::test]
    async fn two_clients_keep_separate_retry_after_hints() {
        let (slow, quick) = (throttled(40), throttled(2));
        let nodes = |c: &Cluster| kube::Api::<k8s_openapi::api::core::v1::Node>::all(c.client.clone());
        let e = slow.error(nodes(&slow).list(&Default::default()).await.unwrap_err());
        assert!(e.retry_after().is_some_and(|d| d > Duration::from_secs(30)), "{e}: {:?}", e.retry_after());
        assert_eq!(quick.retry_after.remaining(), None, "the other client saw no header yet");
        let e = quick.error(nodes(&quick).list(&Default::default()).await.unwrap_err());
        assert!(e.retry_after().is_some_and(|d| d <= Duration::from_secs(2)), "{e}: {:?}", e.retry_after());
        assert!(slow.retry_after.remaining().is_some_and(|d| d > Duration::from_secs(30)), "unchanged by the other client");
        // A client built elsewhere sees only what the body says (nothing here).
        let plain = Cluster::from(quick.client.clone());
        assert_eq!(plain.error(nodes(&plain).list(&Default::default()).await.unwrap_err()).retry_after(), None);
    }
}

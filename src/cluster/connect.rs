//! Reaching a cluster: the kubeconfig (`--kubeconfig`, or `$KUBECONFIG` with several
//! files merged as kubectl does, or `~/.kube/config`), its contexts, and a client for one
//! of them ([`Cluster`]: a kube client with the Retry-After hints of its own API server);
//! in-cluster config when there is no kubeconfig inside a pod. Errors are
//! [`ClusterError`]s, each one line an operator can act on.
//!
//! May import: `model`, `k8s` (it needs neither). Never `sim` or `ui`.

use std::path::{Path, PathBuf};

use kube::config::{KubeConfigOptions, Kubeconfig};

use crate::cluster::backoff::RetryAfterHint;
use crate::cluster::errors::ClusterError;
use crate::cluster::requests::{CountLayer, RequestCounts};

/// A client of one API server, with what that server last said about waiting (its
/// Retry-After headers, which kube-rs drops from errors). Cheap to clone; clones share
/// the hint, other clusters do not.
#[derive(Clone)]
pub struct Cluster {
    pub client: kube::Client,
    pub retry_after: RetryAfterHint,
    /// Every request this client made, by verb and status code (empty for a client
    /// built elsewhere).
    pub requests: RequestCounts,
}

impl From<kube::Client> for Cluster {
    /// A client built elsewhere (the in-process demo): its failures carry only the wait
    /// their Status bodies ask for.
    fn from(client: kube::Client) -> Self {
        Cluster { client, retry_after: RetryAfterHint::default(), requests: RequestCounts::default() }
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
    Kubeconfig { config: Box<Kubeconfig>, path: Option<PathBuf> },
    InCluster,
    Fixed { client: kube::Client, context: String },
}

impl Source {
    /// Reads the kubeconfig the flags and environment name.
    pub fn load(path: Option<&Path>) -> Result<Source, ClusterError> {
        let config = match path {
            Some(p) if p.to_string_lossy().contains(':') => {
                let mut merged: Option<Kubeconfig> = None;
                for part in p.to_string_lossy().split(':').filter(|s| !s.is_empty()) {
                    let k = Kubeconfig::read_from(part).map_err(|e| kubeconfig(e, Some(Path::new(part))))?;
                    merged = Some(match merged {
                        None => k,
                        Some(m) => m.merge(k).map_err(|e| kubeconfig(e, None))?,
                    });
                }
                merged.ok_or(ClusterError::NoKubeconfigFile)?
            }
            Some(p) => Kubeconfig::read_from(p).map_err(|e| kubeconfig(e, Some(p)))?,
            None => match Kubeconfig::read() {
                Ok(k) => k,
                Err(_) if std::env::var_os("KUBERNETES_SERVICE_HOST").is_some() => return Ok(Source::InCluster),
                Err(e) => return Err(kubeconfig(e, None)),
            },
        };
        Ok(Source::Kubeconfig { config: Box::new(config), path: path.map(Path::to_path_buf) })
    }

    /// The context names, in kubeconfig order.
    pub fn contexts(&self) -> Vec<String> {
        match self {
            Source::Kubeconfig { config, .. } => config.contexts.iter().map(|c| c.name.clone()).collect(),
            Source::InCluster => vec!["in-cluster".into()],
            Source::Fixed { context, .. } => vec![context.clone()],
        }
    }

    /// The context used when none is chosen.
    pub fn current_context(&self) -> Option<String> {
        match self {
            Source::Kubeconfig { config, .. } => config.current_context.clone(),
            Source::InCluster => Some("in-cluster".into()),
            Source::Fixed { context, .. } => Some(context.clone()),
        }
    }

    /// The API server URL of a context (for error messages).
    pub fn server(&self, context: &str) -> Option<String> {
        match self {
            Source::Kubeconfig { config, .. } => {
                let cluster = config.contexts.iter().find(|c| c.name == context)?.context.as_ref()?.cluster.clone();
                config.clusters.iter().find(|c| c.name == cluster)?.cluster.as_ref()?.server.clone()
            }
            Source::InCluster => Some("https://kubernetes.default.svc".into()),
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
            Source::InCluster => "in-cluster service account".into(),
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
            Source::InCluster => {
                let config = kube::Config::incluster().map_err(ClusterError::InCluster)?;
                let client = build_client(config).map_err(ClusterError::BuildClient)?;
                Ok((client, "in-cluster".into()))
            }
            Source::Kubeconfig { config, path } => {
                let name = context.map(str::to_string).or_else(|| config.current_context.clone()).unwrap_or_default();
                let opts = KubeConfigOptions { context: context.map(str::to_string), ..Default::default() };
                let cfg =
                    kube::Config::from_custom_kubeconfig((**config).clone(), &opts).await.map_err(|e| kubeconfig(e, path.as_deref()))?;
                let client = build_client(cfg).map_err(|source| ClusterError::Connect { context: name.clone(), source })?;
                Ok((client, name))
            }
        }
    }
}

fn kubeconfig(source: kube::config::KubeconfigError, path: Option<&Path>) -> ClusterError {
    ClusterError::Kubeconfig { source, path: path.map(Path::to_path_buf) }
}

/// A client as every part of daemonscope uses it: kube-rs's own retries off (below), the
/// Retry-After header of 429/503 answers noted for the backoff, in this client's own
/// [`RetryAfterHint`], and its requests counted by verb and code.
pub fn build_client(config: kube::Config) -> Result<Cluster, kube::Error> {
    Ok(with_retry_hint(kube::client::ClientBuilder::try_from(own_retries(config))?))
}

type Response = http::Response<Box<kube::client::DynBody>>;

/// Builds the client with a layer that notes every response's Retry-After in a hint
/// owned by this client alone.
fn with_retry_hint<S>(builder: kube::client::ClientBuilder<S>) -> Cluster
where
    S: tower::Service<http::Request<kube::client::Body>, Response = Response> + Send + 'static,
    S::Future: Send + 'static,
    S::Error: Into<tower::BoxError>,
{
    let retry_after = RetryAfterHint::default();
    let noted = retry_after.clone();
    let layer = tower::util::MapResponseLayer::new(move |resp: Response| {
        noted.note(&resp);
        resp
    });
    let requests = RequestCounts::default();
    let client = builder.with_layer(&layer).with_layer(&CountLayer(requests.clone())).build();
    Cluster { client, retry_after, requests }
}

/// kube-rs would quietly retry 429/503 up to 15 times inside a request; the watches do
/// their own backoff (honouring Retry-After) so that a throttled or restarting server shows
/// as stale data, not as a silent pause.
pub fn own_retries(mut config: kube::Config) -> kube::Config {
    config.default_retry = false;
    config
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
        with_retry_hint(kube::client::ClientBuilder::new(svc, "default"))
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

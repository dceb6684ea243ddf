//! Reaching a cluster: the kubeconfig (`--kubeconfig`, or `$KUBECONFIG` with several
//! files merged as kubectl does, or `~/.kube/config`), its contexts, and a client for one
//! of them; in-cluster config when there is no kubeconfig inside a pod. Errors come back
//! as one line an operator can act on.

use std::path::{Path, PathBuf};

use kube::config::{KubeConfigOptions, Kubeconfig};

use crate::cluster::errors::describe_config_error;

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
    pub fn load(path: Option<&Path>) -> Result<Source, String> {
        let config = match path {
            Some(p) if p.to_string_lossy().contains(':') => {
                let mut merged: Option<Kubeconfig> = None;
                for part in p.to_string_lossy().split(':').filter(|s| !s.is_empty()) {
                    let k = Kubeconfig::read_from(part).map_err(|e| describe_config_error(&e, Some(Path::new(part))))?;
                    merged = Some(match merged {
                        None => k,
                        Some(m) => m.merge(k).map_err(|e| describe_config_error(&e, None))?,
                    });
                }
                merged.ok_or("KUBECONFIG names no file\n  (to try daemonscope without a cluster: daemonscope --demo)")?
            }
            Some(p) => Kubeconfig::read_from(p).map_err(|e| describe_config_error(&e, Some(p)))?,
            None => match Kubeconfig::read() {
                Ok(k) => k,
                Err(_) if std::env::var_os("KUBERNETES_SERVICE_HOST").is_some() => return Ok(Source::InCluster),
                Err(e) => return Err(describe_config_error(&e, None)),
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
    pub async fn client(&self, context: Option<&str>) -> Result<(kube::Client, String), String> {
        match self {
            Source::Fixed { client, context: name } => match context {
                Some(c) if c != name => Err(format!("context {c:?} does not exist here (only {name:?})")),
                _ => Ok((client.clone(), name.clone())),
            },
            Source::InCluster => {
                let config = kube::Config::incluster().map_err(|e| format!("in-cluster config: {e}"))?;
                let client = build_client(config).map_err(|e| format!("cannot build a client: {e}"))?;
                Ok((client, "in-cluster".into()))
            }
            Source::Kubeconfig { config, path } => {
                let name = context.map(str::to_string).or_else(|| config.current_context.clone()).unwrap_or_default();
                let opts = KubeConfigOptions { context: context.map(str::to_string), ..Default::default() };
                let cfg = kube::Config::from_custom_kubeconfig((**config).clone(), &opts)
                    .await
                    .map_err(|e| describe_config_error(&e, path.as_deref()))?;
                let client = build_client(cfg)
                    .map_err(|e| format!("cannot connect with context {name:?}: {}", crate::cluster::errors::describe_kube_error(&e)))?;
                Ok((client, name))
            }
        }
    }
}

/// A client as every part of daemonscope uses it: kube-rs's own retries off (below), and
/// the Retry-After header of 429/503 answers noted for the backoff.
pub fn build_client(config: kube::Config) -> Result<kube::Client, kube::Error> {
    let b = kube::client::ClientBuilder::try_from(own_retries(config))?;
    Ok(b.with_layer(&tower::util::MapResponseLayer::new(crate::cluster::backoff::note_retry_after as fn(_) -> _)).build())
}

/// kube-rs would quietly retry 429/503 up to 15 times inside a request; the watches do
/// their own backoff (honouring Retry-After) so that a throttled or restarting server shows
/// as stale data, not as a silent pause.
pub fn own_retries(mut config: kube::Config) -> kube::Config {
    config.default_retry = false;
    config
}

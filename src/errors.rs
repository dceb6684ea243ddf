//! Errors in words an operator can act on: what happened, and what to do.

/// A watch failure, in one line.
pub fn describe_watch_error(e: &kube::runtime::watcher::Error) -> String {
    use kube::runtime::watcher::Error as W;
    match e {
        W::InitialListFailed(k) | W::WatchStartFailed(k) | W::WatchFailed(k) => describe_kube_error(k),
        W::WatchError(s) => format!("{} ({}): {}", s.code, s.reason, s.message),
        W::NoResourceVersion => "the server sent no resourceVersion; relisting".into(),
    }
}

pub fn describe_kube_error(e: &kube::Error) -> String {
    match e {
        kube::Error::Api(s) if s.code == 401 => {
            "401 Unauthorized: the credentials were refused (expired token?); re-authenticate and try again".into()
        }
        kube::Error::Api(s) if s.code == 403 => format!("403 Forbidden: {}", s.message),
        kube::Error::Api(s) if s.code == 429 => "429 Too Many Requests: the API server is throttling; backing off".into(),
        kube::Error::Api(s) => format!("{} {}: {}", s.code, s.reason, s.message),
        kube::Error::HyperError(h) => format!("cannot reach the API server: {h}"),
        kube::Error::Service(s) => format!("cannot reach the API server: {s}"),
        other => other.to_string(),
    }
}

/// Why a kubeconfig could not be used, with the hint to try `--demo`.
pub fn describe_config_error(e: &kube::config::KubeconfigError, path: Option<&std::path::Path>) -> String {
    use kube::config::KubeconfigError as K;
    let file = path.map(|p| p.display().to_string()).unwrap_or_else(|| "$KUBECONFIG / ~/.kube/config".into());
    let what = match e {
        K::LoadContext(c) => format!("context {c:?} is not in {file}"),
        K::CurrentContextNotSet => format!("{file} sets no current-context; pass --context NAME"),
        K::ReadConfig(io, p) => format!("cannot read kubeconfig {}: {io}", p.display()),
        K::Parse(err) => format!("{file} is not a valid kubeconfig: {err}"),
        K::LoadClusterOfContext(c) => format!("the cluster {c:?} named by the context is not in {file}"),
        K::FindPath => "no kubeconfig found: set KUBECONFIG, pass --kubeconfig FILE, or create ~/.kube/config".into(),
        other => format!("{file}: {other}"),
    };
    format!("{what}\n  (to try daemonscope without a cluster: daemonscope --demo)")
}

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

/// Credential failures, without the command line (it carries the plugin's environment)
/// or the plugin's stdout (where a credential would be): only its exit status and stderr.
pub fn describe_auth_error(e: &kube::client::AuthError) -> String {
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

/// Errors that waiting will not fix: the user must act (log in again, get permission,
/// fix the kubeconfig or the certificate). The watches still retry, slowly.
pub fn is_fatal(e: &kube::Error) -> bool {
    match e {
        kube::Error::Api(s) => matches!(s.code, 400 | 401 | 403 | 404 | 405 | 406 | 415),
        kube::Error::Auth(_) => true,
        other => {
            let chain = error_chain(other).to_lowercase();
            chain.contains("certificate") || chain.contains("invalid peer") || chain.contains("tls handshake")
        }
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

pub fn describe_kube_error(e: &kube::Error) -> String {
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

/// Why a kubeconfig could not be used, with the hint to try `--demo`.
pub fn describe_config_error(e: &kube::config::KubeconfigError, path: Option<&std::path::Path>) -> String {
    use kube::config::KubeconfigError as K;
    let file = path.map(|p| p.display().to_string()).unwrap_or_else(|| "$KUBECONFIG / ~/.kube/config".into());
    let what = match e {
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
    };
    format!("{what}\n  (to try daemonscope without a cluster: daemonscope --demo)")
}

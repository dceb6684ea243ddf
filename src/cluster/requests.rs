//! Every API request a client makes, counted by Kubernetes verb and HTTP status code
//! (`daemonscope_api_requests_total{verb,code}` of `daemonscope serve`): a tower layer in
//! the client built by [`connect`](crate::cluster::connect), sharing one [`RequestCounts`].
//!
//! May import: nothing of ours.

use std::collections::BTreeMap;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use parking_lot::Mutex;

/// (verb, code) → requests. `code` is the HTTP status, or `error` when no answer came.
#[derive(Clone, Default, Debug)]
pub struct RequestCounts(Arc<Mutex<BTreeMap<(&'static str, String), u64>>>);

impl RequestCounts {
    pub fn note(&self, verb: &'static str, code: String) {
        *self.0.lock().entry((verb, code)).or_insert(0) += 1;
    }

    /// A copy of the counts, in (verb, code) order.
    pub fn snapshot(&self) -> Vec<((&'static str, String), u64)> {
        self.0.lock().iter().map(|(k, v)| (k.clone(), *v)).collect()
    }
}

/// The Kubernetes verb of a request, as the API server's audit log names it: `watch` for
/// `?watch=true`, `list` or `get` for a GET of a collection or of one object, and so on.
pub fn verb(method: &http::Method, uri: &http::Uri) -> &'static str {
    let watch = uri.query().is_some_and(|q| q.split('&').any(|kv| kv == "watch=true" || kv == "watch=1"));
    let segs: Vec<&str> = uri.path().split('/').filter(|s| !s.is_empty()).collect();
    // /api/v1/… or /apis/GROUP/VERSION/…, then optionally namespaces/NS/, then RESOURCE[/NAME[/SUB]].
    let rest: &[&str] = match segs.first() {
        Some(&"api") if segs.len() >= 2 => &segs[2..],
        Some(&"apis") if segs.len() >= 3 => &segs[3..],
        _ => &[],
    };
    let rest = if rest.len() >= 3 && rest[0] == "namespaces" { &rest[2..] } else { rest };
    let collection = rest.len() <= 1;
    match *method {
        http::Method::GET if watch => "watch",
        http::Method::GET if collection => "list",
        http::Method::GET => "get",
        http::Method::POST => "create",
        http::Method::PUT => "update",
        http::Method::PATCH => "patch",
        http::Method::DELETE if collection => "deletecollection",
        http::Method::DELETE => "delete",
        _ => "other",
    }
}

/// The layer that counts.
#[derive(Clone)]
pub struct CountLayer(pub RequestCounts);

impl<S> tower::Layer<S> for CountLayer {
    type Service = Counted<S>;
    fn layer(&self, inner: S) -> Counted<S> {
        Counted { inner, counts: self.0.clone() }
    }
}

#[derive(Clone)]
pub struct Counted<S> {
    inner: S,
    counts: RequestCounts,
}

impl<S, B, R> tower::Service<http::Request<B>> for Counted<S>
where
    S: tower::Service<http::Request<B>, Response = http::Response<R>>,
    S::Future: Send + 'static,
{
    type Response = S::Response;
    type Error = S::Error;
    type Future = Pin<Box<dyn Future<Output = Result<S::Response, S::Error>> + Send>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), S::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, req: http::Request<B>) -> Self::Future {
        let verb = verb(req.method(), req.uri());
        let counts = self.counts.clone();
        let fut = self.inner.call(req);
        Box::pin(async move {
            let r = fut.await;
            counts.note(verb, r.as_ref().map_or_else(|_| "error".to_string(), |resp| resp.status().as_u16().to_string()));
            r
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn verbs_as_the_api_server_names_them() {
        let v = |m: http::Method, u: &str| verb(&m, &u.parse().unwrap());
        assert_eq!(v(http::Method::GET, "/api/v1/nodes?limit=500"), "list");
        assert_eq!(v(http::Method::GET, "/api/v1/nodes?watch=true&resourceVersion=5"), "watch");
        assert_eq!(v(http::Method::GET, "/api/v1/nodes/n1"), "get");
        assert_eq!(v(http::Method::GET, "/api/v1/namespaces/kube-system/pods?labelSelector=x"), "list");
        assert_eq!(v(http::Method::GET, "/api/v1/namespaces/kube-system/pods/p1/log"), "get");
        assert_eq!(v(http::Method::GET, "/apis/apps/v1/daemonsets"), "list");
        assert_eq!(v(http::Method::GET, "/apis/apps/v1/namespaces/ns/daemonsets/agent"), "get");
        assert_eq!(v(http::Method::GET, "/api/v1/namespaces"), "list");
        assert_eq!(v(http::Method::GET, "/api/v1/namespaces/ns"), "get");
        assert_eq!(v(http::Method::PATCH, "/apis/apps/v1/namespaces/ns/daemonsets/agent"), "patch");
        assert_eq!(v(http::Method::DELETE, "/api/v1/namespaces/ns/pods/p"), "delete");
    }
}

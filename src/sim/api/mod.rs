//! The simulated API server: the Kubernetes REST paths over HTTP/1.1 (axum).
//!
//! One fallback handler parses the path the way the real server's installer lays
//! it out (`/api/v1/...`, `/apis/<group>/<version>/...`, `namespaces/<ns>/...`,
//! subresources), authorises the request, and dispatches on the kind.
//!
//! May import: its submodules, `sim::errors`, `sim::kind`.

pub mod auth;
pub mod discovery;
mod eviction;
mod handlers;
pub mod limits;
mod list_options;
mod logs;
pub mod negotiate;
pub mod openapi;
mod openapi_v2;
pub mod patch;
mod protobuf;
pub mod protobuf_out;
pub mod protobuf_ser;
mod request;
mod state;
pub mod table;
pub mod table_apps;
mod watch;

pub use request::Target;
pub use state::{ApiSettings, ApiState, RequestRecord};

use std::sync::Arc;

use axum::Router;
use axum::extract::{Request, State};
use axum::http::{HeaderMap, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};

use request::{Ctx, json_response};

use super::errors::ApiError;
use super::kind::Kind;

pub fn router(state: Arc<ApiState>) -> Router {
    Router::new().fallback(entry).with_state(state)
}

enum Route {
    Version,
    Health,
    ApiVersions,
    ApiGroups,
    Resources(String, String),
    Ssar,
    OpenApiV2,
    OpenApiV3(String),
    Object(Target),
    NotFound,
}

fn route(path: &str) -> Route {
    let segs: Vec<&str> = path.trim_matches('/').split('/').filter(|s| !s.is_empty()).collect();
    match segs.as_slice() {
        ["version"] => Route::Version,
        ["healthz"] | ["readyz"] | ["livez"] => Route::Health,
        ["api"] => Route::ApiVersions,
        ["apis"] => Route::ApiGroups,
        ["api", v] => Route::Resources(String::new(), v.to_string()),
        ["apis", g, v] => Route::Resources(g.to_string(), v.to_string()),
        ["apis", "authorization.k8s.io", "v1", "selfsubjectaccessreviews"] => Route::Ssar,
        ["openapi", "v2"] => Route::OpenApiV2,
        ["openapi", "v3", rest @ ..] => Route::OpenApiV3(rest.join("/")),
        ["api", v, rest @ ..] => object_route("", v, rest),
        ["apis", g, v, rest @ ..] => object_route(g, v, rest),
        _ => Route::NotFound,
    }
}

fn object_route(group: &str, version: &str, rest: &[&str]) -> Route {
    let t = |plural: &str, ns: Option<&str>, name: Option<&str>, sub: Option<&str>| match Kind::from_path(group, version, plural) {
        Some(kind) if kind.info().namespaced || ns.is_none() => {
            Route::Object(Target { kind, namespace: ns.map(String::from), name: name.map(String::from), sub: sub.map(String::from) })
        }
        _ => Route::NotFound,
    };
    match rest {
        // namespaces/<ns>/<plural>[/<name>[/<sub>]] — unless it is a namespace's own subresource.
        ["namespaces", ns, plural, tail @ ..] if !matches!(*plural, "status" | "finalize") => match tail {
            [] => t(plural, Some(ns), None, None),
            [name] => t(plural, Some(ns), Some(name), None),
            [name, sub] => t(plural, Some(ns), Some(name), Some(sub)),
            _ => Route::NotFound,
        },
        [plural] => t(plural, None, None, None),
        [plural, name] => t(plural, None, Some(name), None),
        [plural, name, sub] => t(plural, None, Some(name), Some(sub)),
        _ => Route::NotFound,
    }
}

fn not_found() -> Response {
    let e = ApiError {
        code: 404,
        reason: "NotFound",
        message: "the server could not find the requested resource".into(),
        details: Some(serde_json::json!({})),
        retry_after: None,
    };
    e.into_response()
}

fn verb_of(method: &Method, t: &Target, watch: bool) -> &'static str {
    match *method {
        Method::GET if watch => "watch",
        Method::GET if t.name.is_none() => "list",
        Method::GET => "get",
        Method::POST => "create",
        Method::PUT => "update",
        Method::PATCH => "patch",
        Method::DELETE if t.name.is_none() => "deletecollection",
        Method::DELETE => "delete",
        _ => "unknown",
    }
}

pub(crate) fn query_map(q: &str) -> std::collections::HashMap<String, String> {
    url_pairs(q).into_iter().collect()
}

fn url_pairs(q: &str) -> Vec<(String, String)> {
    q.split('&')
        .filter(|s| !s.is_empty())
        .map(|kv| {
            let (k, v) = kv.split_once('=').unwrap_or((kv, ""));
            (percent_decode(k), percent_decode(v))
        })
        .collect()
}

fn percent_decode(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'+' => out.push(b' '),
            b'%' if i + 2 < b.len() => {
                let h = std::str::from_utf8(&b[i + 1..i + 3]).ok().and_then(|h| u8::from_str_radix(h, 16).ok());
                match h {
                    Some(c) => {
                        out.push(c);
                        i += 2;
                    }
                    None => out.push(b'%'),
                }
            }
            c => out.push(c),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

async fn entry(State(st): State<Arc<ApiState>>, req: Request) -> Response {
    let (parts, body) = req.into_parts();
    let path = parts.uri.path().to_string();
    let query = parts.uri.query().unwrap_or("").to_string();
    let q = query_map(&query);
    let headers = parts.headers.clone();
    let method = parts.method.clone();
    let ua = headers.get(header::USER_AGENT).and_then(|v| v.to_str().ok()).unwrap_or("").to_string();
    let accept = headers.get(header::ACCEPT).and_then(|v| v.to_str().ok()).unwrap_or("").to_string();
    let content_type = |r: &Response| r.headers().get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or("").to_string();
    let at_ms = st.started.elapsed().as_millis() as u64;
    let watch = matches!(q.get("watch").map(String::as_str), Some("true" | "1"));
    if let Some(resp) = st.faults.intercept(&path).await {
        let verb = match route(&path) {
            Route::Object(t) => verb_of(&method, &t, watch),
            _ => "get",
        };
        let status = resp.status().as_u16();
        st.record(RequestRecord {
            method: method.to_string(),
            path,
            query,
            verb: verb.into(),
            user: String::new(),
            status,
            user_agent: ua,
            accept,
            content_type: content_type(&resp),
            at_ms,
        });
        return resp;
    }

    let open = matches!(route(&path), Route::Version | Route::Health);
    let (user, verb, resp) = match authenticate(&st, &headers, open) {
        Err(e) => ("".into(), "".into(), e.into_response()),
        Ok(user) => {
            let body = match limits::read_body(body).await {
                Ok(b) => b,
                Err(e) => {
                    let r = e.into_response();
                    st.record(RequestRecord {
                        method: method.to_string(),
                        path,
                        query,
                        verb: String::new(),
                        user: user.name.clone(),
                        status: r.status().as_u16(),
                        user_agent: ua,
                        accept,
                        content_type: content_type(&r),
                        at_ms,
                    });
                    return r;
                }
            };
            let (verb, resp) = match route(&path) {
                Route::Version => ("get".into(), json_response(StatusCode::OK, &discovery::version())),
                Route::Health => ("get".into(), (StatusCode::OK, "ok").into_response()),
                Route::ApiVersions => ("get".into(), json_response(StatusCode::OK, &discovery::api_versions())),
                Route::ApiGroups => ("get".into(), json_response(StatusCode::OK, &discovery::api_groups())),
                Route::Resources(g, v) => match discovery::resource_list(&g, &v) {
                    Some(doc) => ("get".into(), json_response(StatusCode::OK, &doc)),
                    None => ("get".into(), not_found()),
                },
                Route::OpenApiV2 => {
                    ("get".into(), ([(header::CONTENT_TYPE, openapi_v2::CONTENT_TYPE)], openapi_v2::document()).into_response())
                }
                Route::OpenApiV3(p) if p.is_empty() => ("get".into(), json_response(StatusCode::OK, openapi::v3_root())),
                Route::OpenApiV3(p) => match openapi::v3_group(&p) {
                    Some(doc) => ("get".into(), json_response(StatusCode::OK, doc)),
                    None => ("get".into(), not_found()),
                },
                Route::Ssar if method == Method::POST => ("create".into(), handlers::ssar(&user, &headers, &body)),
                Route::Ssar => ("".into(), ApiError::method_not_allowed("method not allowed").into_response()),
                Route::NotFound => ("".into(), not_found()),
                Route::Object(t) => {
                    let verb = verb_of(&method, &t, watch);
                    let sub = t.sub.clone().unwrap_or_default();
                    // Eviction and log are requested with the verbs create/get on the subresource.
                    let attrs = auth::Attributes { verb, resource: t.kind.info().plural, subresource: &sub };
                    if st.settings.frozen && !matches!(verb, "get" | "list" | "watch") {
                        let e = ApiError::method_not_allowed(format!(
                            "this cluster is a dump served frozen (daemonscope sim --frozen): it is read-only, and {verb} on {} is not allowed",
                            t.kind.info().plural
                        ));
                        (verb.to_string(), e.into_response())
                    } else if !user.allows(&attrs) {
                        let e = ApiError::forbidden(
                            &user.name,
                            verb,
                            Some(t.kind),
                            &if sub.is_empty() { t.kind.info().plural.to_string() } else { format!("{}/{sub}", t.kind.info().plural) },
                            t.name.as_deref(),
                            t.namespace.as_deref(),
                        );
                        (verb.to_string(), e.into_response())
                    } else {
                        let ctx = Ctx { st: st.clone(), target: t, q: q.clone(), headers: headers.clone(), body, method: method.clone() };
                        (verb.to_string(), handlers::dispatch(ctx, watch).await)
                    }
                }
            };
            (user.name.clone(), verb, resp)
        }
    };
    let resp = negotiate_error(&headers, resp).await;
    st.record(RequestRecord {
        method: method.to_string(),
        path,
        query,
        verb,
        user,
        status: resp.status().as_u16(),
        user_agent: ua,
        accept,
        content_type: content_type(&resp),
        at_ms,
    });
    resp
}

/// An error's `Status` in the encoding its request negotiates (`responsewriters.ErrorNegotiated`
/// in k8s.io/apiserver `pkg/endpoints/handlers/responsewriters/writers.go`, which the
/// handlers and the authentication and authorization filters all answer errors with):
/// protobuf for a client that prefers it, whatever the kind. A 406 stays JSON (its
/// negotiation failed as the request's did: `WriteRawJSON`).
async fn negotiate_error(headers: &HeaderMap, resp: Response) -> Response {
    let status = resp.status();
    let accept = headers.get(header::ACCEPT).and_then(|v| v.to_str().ok()).unwrap_or("");
    let json = resp.headers().get(header::CONTENT_TYPE).is_some_and(|c| c == "application/json");
    if status.as_u16() < 400
        || status == StatusCode::NOT_ACCEPTABLE
        || !json
        || negotiate::error_encoding(accept) != negotiate::Encoding::Protobuf
    {
        return resp;
    }
    let (mut parts, body) = resp.into_parts();
    let Ok(bytes) = axum::body::to_bytes(body, limits::MAX_BODY_BYTES).await else {
        return (parts, axum::body::Body::empty()).into_response();
    };
    let status_pb =
        serde_json::from_slice::<serde_json::Value>(&bytes).ok().filter(|v| v["kind"] == "Status").and_then(|v| protobuf_out::object(&v));
    match status_pb {
        Some(pb) => {
            parts.headers.insert(header::CONTENT_TYPE, header::HeaderValue::from_static(negotiate::Encoding::Protobuf.media_type()));
            parts.headers.remove(header::CONTENT_LENGTH);
            (parts, axum::body::Body::from(pb)).into_response()
        }
        None => (parts, axum::body::Body::from(bytes)).into_response(),
    }
}

/// The requesting user. With tokens, a request without credentials is anonymous, which
/// only `open` paths (`/version`, `/healthz`, `/livez`, `/readyz`) allow — as the real
/// server's `system:public-info-viewer` role does; a wrong token is 401 everywhere.
fn authenticate(st: &ApiState, headers: &HeaderMap, open: bool) -> Result<auth::User, ApiError> {
    match &*st.auth.read() {
        None => Ok(auth::User::admin()),
        Some(a) => {
            let h = headers.get(header::AUTHORIZATION).and_then(|v| v.to_str().ok());
            match h {
                None if open => Ok(auth::User { name: "system:anonymous".into(), rules: Vec::new() }),
                _ => a.authenticate(h).cloned().ok_or_else(ApiError::unauthorized),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn routes() {
        let Route::Object(t) = route("/api/v1/namespaces/kube-system/pods/p1/log") else { panic!() };
        assert_eq!(
            (t.kind, t.namespace.as_deref(), t.name.as_deref(), t.sub.as_deref()),
            (Kind::Pod, Some("kube-system"), Some("p1"), Some("log"))
        );
        let Route::Object(t) = route("/api/v1/namespaces/default") else { panic!() };
        assert_eq!((t.kind, t.name.as_deref()), (Kind::Namespace, Some("default")));
        let Route::Object(t) = route("/api/v1/namespaces/default/status") else { panic!() };
        assert_eq!((t.kind, t.sub.as_deref()), (Kind::Namespace, Some("status")));
        let Route::Object(t) = route("/apis/apps/v1/daemonsets") else { panic!() };
        assert_eq!((t.kind, t.namespace), (Kind::DaemonSet, None));
        assert!(matches!(route("/api/v1/namespaces/x/nodes"), Route::NotFound));
        assert!(matches!(route("/apis/apps/v1"), Route::Resources(..)));
        assert_eq!(percent_decode("metadata.name%3Dx%2Cb+c"), "metadata.name=x,b c");
    }
}

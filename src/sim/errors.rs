//! API errors as `metav1.Status` bodies with the real codes, reasons and messages.
//!
//! May import: `sim::kind`.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

use super::kind::Kind;

#[derive(Debug, Clone)]
pub struct ApiError {
    pub code: u16,
    pub reason: &'static str,
    pub message: String,
    pub details: Option<Value>,
    pub retry_after: Option<u64>,
}

fn resource_name(kind: Kind) -> String {
    let i = kind.info();
    if i.group.is_empty() { i.plural.to_string() } else { format!("{}.{}", i.plural, i.group) }
}

impl ApiError {
    fn new(code: u16, reason: &'static str, message: String) -> Self {
        ApiError { code, reason, message, details: None, retry_after: None }
    }

    fn with_details(mut self, kind: Kind, name: &str) -> Self {
        let i = kind.info();
        let mut d = json!({"name": name, "kind": i.plural});
        if !i.group.is_empty() {
            d["group"] = json!(i.group);
        }
        self.details = Some(d);
        self
    }

    pub fn not_found(kind: Kind, name: &str) -> Self {
        Self::new(404, "NotFound", format!("{} \"{name}\" not found", resource_name(kind))).with_details(kind, name)
    }

    pub fn already_exists(kind: Kind, name: &str) -> Self {
        Self::new(409, "AlreadyExists", format!("{} \"{name}\" already exists", resource_name(kind))).with_details(kind, name)
    }

    pub fn conflict(kind: Kind, name: &str) -> Self {
        Self::new(
            409,
            "Conflict",
            format!(
                "Operation cannot be fulfilled on {} \"{name}\": the object has been modified; please apply your changes to the latest version and try again",
                resource_name(kind)
            ),
        )
        .with_details(kind, name)
    }

    pub fn precondition_uid(kind: Kind, name: &str, want: &str, have: &str) -> Self {
        Self::new(
            409,
            "Conflict",
            format!(
                "Operation cannot be fulfilled on {} \"{name}\": Precondition failed: UID in precondition: {want}, UID in object meta: {have}",
                resource_name(kind)
            ),
        )
        .with_details(kind, name)
    }

    pub fn precondition_rv(kind: Kind, name: &str, want: &str, have: &str) -> Self {
        Self::new(
            409,
            "Conflict",
            format!(
                "Operation cannot be fulfilled on {} \"{name}\": Precondition failed: ResourceVersion in precondition: {want}, ResourceVersion in object meta: {have}",
                resource_name(kind)
            ),
        )
        .with_details(kind, name)
    }

    /// 422 with one cause per field: `(field, "Invalid value: ...: why")`.
    pub fn invalid(kind: Kind, name: &str, causes: Vec<(&str, String)>) -> Self {
        let i = kind.info();
        Self::invalid_of(i.kind, i.group, name, causes)
    }

    /// 422 for request options (`DeleteOptions`, `CreateOptions`…), group `meta.k8s.io`.
    pub fn invalid_options(kind: &str, field: &str, message: String) -> Self {
        Self::invalid_of(kind, "meta.k8s.io", "", vec![(field, message)])
    }

    /// `apierrors.NewInvalid(GroupKind{group, kind}, name, errs)`: the message names the
    /// kind qualified by its group and every field error; each is a cause whose reason
    /// follows the error's type. An empty name or group is left out of the details.
    pub fn invalid_of(kind: &str, group: &str, name: &str, causes: Vec<(&str, String)>) -> Self {
        let msgs: Vec<String> = causes.iter().map(|(f, m)| format!("{f}: {m}")).collect();
        let summary = if msgs.len() == 1 { msgs[0].clone() } else { format!("[{}]", msgs.join(", ")) };
        let qualified = if group.is_empty() { kind.to_string() } else { format!("{kind}.{group}") };
        let mut e = Self::new(422, "Invalid", format!("{qualified} \"{name}\" is invalid: {summary}"));
        let causes: Vec<Value> = causes
            .iter()
            .map(|(f, m)| {
                let reason = if m.starts_with("Required value") {
                    "FieldValueRequired"
                } else if m.starts_with("Forbidden") {
                    "FieldValueForbidden"
                } else if m.starts_with("Too long") {
                    "FieldValueTooLong"
                } else if m.starts_with("Unsupported value") {
                    "FieldValueNotSupported"
                } else {
                    "FieldValueInvalid"
                };
                json!({"reason": reason, "message": m, "field": f})
            })
            .collect();
        let mut d = json!({"kind": kind, "causes": causes});
        if !name.is_empty() {
            d["name"] = json!(name);
        }
        if !group.is_empty() {
            d["group"] = json!(group);
        }
        e.details = Some(d);
        e
    }

    pub fn bad_request(message: impl Into<String>) -> Self {
        Self::new(400, "BadRequest", message.into())
    }

    pub fn entity_too_large(message: impl std::fmt::Display) -> Self {
        Self::new(413, "RequestEntityTooLarge", format!("Request entity too large: {message}"))
    }

    /// What the real server answers when a JSON patch cannot be applied (a failed `test`,
    /// a missing path): `NewGenericServerResponse(422, ...)`.
    pub fn patch_not_applicable() -> Self {
        let mut e = Self::new(422, "Invalid", "the server rejected our request due to an error in our request".into());
        e.details = Some(json!({}));
        e
    }

    pub fn gone(message: impl Into<String>) -> Self {
        Self::new(410, "Expired", message.into())
    }

    pub fn not_acceptable(message: impl Into<String>) -> Self {
        Self::new(406, "NotAcceptable", message.into())
    }

    pub fn unsupported_media(message: impl Into<String>) -> Self {
        Self::new(415, "UnsupportedMediaType", message.into())
    }

    pub fn method_not_allowed(message: impl Into<String>) -> Self {
        Self::new(405, "MethodNotAllowed", message.into())
    }

    pub fn unauthorized() -> Self {
        Self::new(401, "Unauthorized", "Unauthorized".into())
    }

    pub fn forbidden(user: &str, verb: &str, kind: Option<Kind>, resource: &str, name: Option<&str>, ns: Option<&str>) -> Self {
        let group = kind.map(|k| k.info().group).unwrap_or("");
        let full = match kind {
            Some(k) => resource_name(k),
            None => resource.to_string(),
        };
        let what = match name {
            Some(n) => format!("{full} \"{n}\" is forbidden"),
            None => format!("{full} is forbidden"),
        };
        let scope = match ns {
            Some(ns) => format!("in the namespace \"{ns}\""),
            None => "at the cluster scope".to_string(),
        };
        let mut e = Self::new(
            403,
            "Forbidden",
            format!("{what}: User \"{user}\" cannot {verb} resource \"{resource}\" in API group \"{group}\" {scope}"),
        );
        let mut d = json!({"kind": resource});
        if let Some(n) = name {
            d["name"] = json!(n);
        }
        if !group.is_empty() {
            d["group"] = json!(group);
        }
        e.details = Some(d);
        e
    }

    /// 403 from an admission plugin or a registry rule: `<resource> "<name>" is forbidden: <why>`.
    pub fn forbidden_because(kind: Kind, name: &str, why: &str) -> Self {
        Self::new(403, "Forbidden", format!("{} \"{name}\" is forbidden: {why}", resource_name(kind))).with_details(kind, name)
    }

    pub fn too_many_requests(retry_after: u64) -> Self {
        let mut e = Self::new(429, "TooManyRequests", "Too many requests, please try again later.".into());
        e.details = Some(json!({"causes":[{"reason":"","message":"Too many requests"}], "retryAfterSeconds": retry_after}));
        e.retry_after = Some(retry_after);
        e
    }

    /// 503, as a server that is starting up or shedding load answers (with Retry-After).
    pub fn unavailable(retry_after: u64) -> Self {
        let mut e = ApiError::new(503, "ServiceUnavailable", "the server is currently unable to handle the request".into());
        e.retry_after = Some(retry_after);
        e
    }

    /// A list or watch from a resourceVersion newer than the server's own, after waiting
    /// for it (`storage.NewTooLargeResourceVersionError`: a Timeout with the cause
    /// `ResourceVersionTooLarge`; client-go's reflector relists on it).
    pub fn too_large_resource_version(wanted: u64, current: u64) -> Self {
        let mut e = Self::new(504, "Timeout", format!("Timeout: Too large resource version: {wanted}, current: {current}"));
        e.details = Some(json!({
            "causes": [{"reason": "ResourceVersionTooLarge", "message": "Too large resource version"}],
            "retryAfterSeconds": 1,
        }));
        e.retry_after = Some(1);
        e
    }

    pub fn internal(message: impl Into<String>) -> Self {
        Self::new(500, "InternalError", message.into())
    }

    pub fn status_json(&self) -> Value {
        let mut v = json!({
            "kind": "Status",
            "apiVersion": "v1",
            "metadata": {},
            "status": "Failure",
            "message": self.message,
            "reason": self.reason,
            "code": self.code,
        });
        if let Some(d) = &self.details {
            v["details"] = d.clone();
        }
        v
    }
}

impl std::fmt::Display for ApiError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} ({}): {}", self.code, self.reason, self.message)
    }
}

impl std::error::Error for ApiError {}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let code = StatusCode::from_u16(self.code).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        let body = serde_json::to_vec(&self.status_json()).unwrap_or_default();
        let mut r = (code, [(axum::http::header::CONTENT_TYPE, "application/json")], body).into_response();
        if let Some(s) = self.retry_after {
            r.headers_mut().insert(axum::http::header::RETRY_AFTER, s.into());
        }
        r
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn throttling_is_a_429_status_with_retry_after() {
        let e = ApiError::too_many_requests(3);
        let r = e.clone().into_response();
        assert_eq!(r.status().as_u16(), 429);
        assert_eq!(r.headers().get(axum::http::header::RETRY_AFTER).unwrap(), "3");
        let v = e.status_json();
        assert_eq!((v["kind"].as_str(), v["reason"].as_str(), v["code"].as_u64()), (Some("Status"), Some("TooManyRequests"), Some(429)));
        assert_eq!(v["details"]["retryAfterSeconds"], 3);
    }

    #[test]
    fn forbidden_reads_like_rbac() {
        let e = ApiError::forbidden("viewer", "patch", Some(Kind::Node), "nodes", Some("n1"), None);
        assert_eq!(
            e.message,
            "nodes \"n1\" is forbidden: User \"viewer\" cannot patch resource \"nodes\" in API group \"\" at the cluster scope"
        );
        let e = ApiError::forbidden("viewer", "delete", Some(Kind::Pod), "pods", Some("p"), Some("kube-system"));
        assert!(e.message.ends_with("in API group \"\" in the namespace \"kube-system\""), "{}", e.message);
        let e = ApiError::forbidden("viewer", "list", Some(Kind::DaemonSet), "daemonsets", None, Some("x"));
        assert!(
            e.message
                .starts_with("daemonsets.apps is forbidden: User \"viewer\" cannot list resource \"daemonsets\" in API group \"apps\""),
            "{}",
            e.message
        );
    }
}

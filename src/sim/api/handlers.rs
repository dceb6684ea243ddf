//! Per-verb handlers, generic over the stored type.
//!
//! May import: `sim::api::auth`, `sim::api::logs`, `sim::api::negotiate`, `sim::api::patch`, `sim::api::protobuf`,
//! `sim::api::protobuf_out`,
//! `sim::api::request`, `sim::api::table`, `sim::api::watch`, `sim::errors`, `sim::kind`, `sim::objects`,
//! `sim::ops`, `sim::store`.

use std::sync::Arc;

use axum::body::Body;
use axum::http::{HeaderMap, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use bytes::Bytes;
use k8s_openapi::api::core::v1 as core;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::DeleteOptions;
use serde_json::{Value, json};

use super::limits::{self, FieldValidation};
use super::negotiate::{Encoding, Output};
use super::patch::{self, PatchType};
use super::protobuf_out::ListEncoder;
use super::request::{Ctx, Filter, Format, IncludeObject, body_from_stream, json_response, object_response, output_of, table_row};
use super::table::{self, Tabular};
use crate::sim::errors::ApiError;
use crate::sim::kind::Kind;
use crate::sim::objects::Strategy;
use crate::sim::store::{SimObject, Store};
use crate::sim::typed::with_kind;

pub async fn dispatch(ctx: Ctx, watch: bool) -> Response {
    let kind = ctx.target.kind;
    let r = with_kind!(kind, T => typed::<T>(ctx, watch).await);
    r.unwrap_or_else(IntoResponse::into_response)
}

async fn typed<T: Strategy + Tabular>(ctx: Ctx, watch: bool) -> Result<Response, ApiError> {
    let t = ctx.target.clone();
    let sub = t.sub.as_deref().unwrap_or("");
    let kind = T::SIM_KIND;
    if !sub.is_empty() && !kind.info().subresources.contains(&sub) {
        return Err(ApiError {
            code: 404,
            reason: "NotFound",
            message: "the server could not find the requested resource".into(),
            details: None,
            retry_after: None,
        });
    }
    match (&ctx.method, t.name.as_deref(), sub) {
        (&Method::GET, None, _) if watch => super::watch::serve::<T>(&ctx),
        (&Method::GET, None, _) => {
            super::watch::list_fresh(&ctx).await?;
            list::<T>(&ctx)
        }
        (&Method::GET, Some(name), "log") => super::logs::serve(&ctx, name).await,
        (&Method::GET, Some(name), _) => get::<T>(&ctx, name),
        (&Method::POST, None, "") => create::<T>(&ctx),
        (&Method::POST, Some(name), "eviction") => super::eviction::evict(&ctx, ns_of(&ctx), name),
        (&Method::PUT, Some(name), "" | "status") => update::<T>(&ctx, name, sub == "status"),
        (&Method::PATCH, Some(name), "" | "status") => patch_obj::<T>(&ctx, name, sub == "status"),
        (&Method::DELETE, Some(name), "") => delete::<T>(&ctx, name),
        (&Method::DELETE, None, "") => delete_collection::<T>(&ctx),
        _ => Err(ApiError::method_not_allowed(format!(
            "the server does not allow this method on the requested resource ({} {})",
            ctx.method,
            kind.info().plural
        ))),
    }
}

fn ns_of(ctx: &Ctx) -> &str {
    ctx.target.namespace.as_deref().unwrap_or("")
}

/// An item as it appears inside a list: without kind/apiVersion, like the real server.
pub fn item_json<T: SimObject>(o: &T) -> Vec<u8> {
    let mut v = serde_json::to_vec(o).expect("API objects serialise");
    let prefix = format!(r#"{{"apiVersion":"{}","kind":"{}","#, T::SIM_KIND.api_version(), T::SIM_KIND.info().kind);
    if v.starts_with(prefix.as_bytes()) {
        v.drain(1..prefix.len());
    }
    v
}

pub fn table_json<T: Tabular>(items: &[Arc<T>], rv: &str, inc: IncludeObject, with_columns: bool) -> Value {
    let now = jiff::Timestamp::now();
    let rows: Vec<Value> = items.iter().map(|o| table_row(&**o, now, inc)).collect();
    let mut t = json!({"kind": "Table", "apiVersion": "meta.k8s.io/v1", "metadata": {"resourceVersion": rv}, "rows": rows});
    if with_columns {
        t["columnDefinitions"] = table::column_json(&T::columns());
    } else {
        t["columnDefinitions"] = Value::Null;
    }
    t
}

#[derive(serde::Serialize, serde::Deserialize)]
struct ContinueToken {
    rv: u64,
    ns: String,
    name: String,
}

const CHUNK: usize = 256;

fn list<T: Strategy + Tabular>(ctx: &Ctx) -> Result<Response, ApiError> {
    use base64::Engine;
    let b64 = base64::engine::general_purpose::URL_SAFE_NO_PAD;
    let out = output_of(&ctx.headers, &ctx.q, T::SIM_KIND)?;
    super::list_options::validate(&ctx.q, false, ctx.st.settings.watch_list)?;
    let filter = Filter::from_query::<T>(&ctx.q)?;
    let ns = ctx.target.namespace.as_deref();
    let cont = ctx.q.get("continue").filter(|c| !c.is_empty());
    let (token_rv, start_after) = match cont {
        Some(c) => {
            let tok: ContinueToken = b64
                .decode(c)
                .ok()
                .and_then(|b| serde_json::from_slice(&b).ok())
                .ok_or_else(|| ApiError::bad_request("continue key is not valid: illegal base64 data"))?;
            if tok.rv < ctx.st.store.compacted_rv() {
                return Err(ApiError::gone(
                    "The provided continue parameter is too old to display a consistent list result. You can start a new list without the continue parameter, or use the continue token in this response to retrieve the remainder of the results. Continuing with the provided token results in an inconsistent list - objects that were created, modified, or deleted between the time the first chunk was returned and now may show up in the list.",
                ));
            }
            (Some(tok.rv), Some((tok.ns, tok.name)))
        }
        None => (None, None),
    };
    // The watch cache ignores limit for resourceVersion=0 lists.
    let rv0 = ctx.q.get("resourceVersion").map(String::as_str) == Some("0");
    let limit = ctx.q.get("limit").and_then(|l| l.parse::<usize>().ok()).filter(|l| *l > 0 && !rv0);
    let unfiltered = filter.labels.is_empty() && filter.fields.requirements.is_empty();
    let (items, remaining, cur_rv) = ctx.st.store.page::<T>(ns, start_after.as_ref(), limit, unfiltered, |o| filter.matches(o));
    let list_rv = token_rv.unwrap_or(cur_rv);
    let mut meta = json!({"resourceVersion": list_rv.to_string()});
    if remaining > 0
        && let Some(last) = items.last().map(|o| o.metadata())
    {
        let tok =
            ContinueToken { rv: list_rv, ns: last.namespace.clone().unwrap_or_default(), name: last.name.clone().unwrap_or_default() };
        meta["continue"] = json!(b64.encode(serde_json::to_vec(&tok).expect("token")));
        if unfiltered {
            meta["remainingItemCount"] = json!(remaining);
        }
    }
    if out.encoding == Encoding::Protobuf
        && let Some(body) = protobuf_list(&items, &meta, out.format == Format::Partial)
    {
        return Ok(([(header::CONTENT_TYPE, out.encoding.media_type())], body).into_response());
    }
    let head;
    let chunks: Vec<Vec<Arc<T>>> = items.chunks(CHUNK).map(|c| c.to_vec()).collect();
    let body = match out.format {
        Format::Table(inc) => {
            head = format!(
                r#"{{"kind":"Table","apiVersion":"meta.k8s.io/v1","metadata":{},"columnDefinitions":{},"rows":["#,
                meta,
                table::column_json(&T::columns())
            );
            let now = jiff::Timestamp::now();
            stream_array(head, chunks, move |o: &T| serde_json::to_vec(&table_row(o, now, inc)).unwrap_or_default())
        }
        Format::Partial => {
            head = format!(r#"{{"kind":"PartialObjectMetadataList","apiVersion":"meta.k8s.io/v1","metadata":{meta},"items":["#);
            stream_array(head, chunks, |o: &T| serde_json::to_vec(&json!({"metadata": o.metadata()})).unwrap_or_default())
        }
        Format::Json => {
            head = format!(
                r#"{{"kind":"{}List","apiVersion":"{}","metadata":{meta},"items":["#,
                T::SIM_KIND.info().kind,
                T::SIM_KIND.api_version()
            );
            stream_array(head, chunks, item_json::<T>)
        }
    };
    Ok(([(header::CONTENT_TYPE, "application/json")], body).into_response())
}

/// A list in protobuf (`PodList`, or `PartialObjectMetadataList` when `partial`): the items
/// encoded a chunk at a time, then written with the envelope around them.
fn protobuf_list<T: Tabular>(items: &[Arc<T>], meta: &Value, partial: bool) -> Option<Body> {
    let enc = if partial {
        ListEncoder::new("meta.k8s.io/v1", "PartialObjectMetadataList")?
    } else {
        ListEncoder::new(&T::SIM_KIND.api_version(), &format!("{}List", T::SIM_KIND.info().kind))?
    };
    let mut chunks = Vec::with_capacity(items.len() / CHUNK + 1);
    for chunk in items.chunks(CHUNK) {
        let mut buf = Vec::with_capacity(chunk.len() * 1024);
        for o in chunk {
            if partial {
                enc.item(&json!({"metadata": o.metadata()}), &mut buf).ok()?;
            } else {
                enc.item_typed(&**o, &mut buf).ok()?;
            }
        }
        chunks.push(buf);
    }
    let pieces = enc.finish(meta, chunks).ok()?;
    Some(body_from_stream(futures::stream::iter(pieces.into_iter().map(Ok))))
}

/// `head` + items joined by commas + `]}`, serialised chunk by chunk as the client reads.
fn stream_array<T: Send + Sync + 'static>(
    head: String,
    chunks: Vec<Vec<Arc<T>>>,
    ser: impl Fn(&T) -> Vec<u8> + Send + Sync + 'static,
) -> Body {
    use futures::StreamExt;
    let first = futures::stream::once(async move { Ok::<_, std::convert::Infallible>(Bytes::from(head)) });
    let middle = futures::stream::iter(chunks.into_iter().enumerate()).map(move |(i, chunk)| {
        let mut buf = Vec::with_capacity(chunk.len() * 2048);
        for (j, o) in chunk.iter().enumerate() {
            if i > 0 || j > 0 {
                buf.push(b',');
            }
            buf.extend_from_slice(&ser(o));
        }
        Ok(Bytes::from(buf))
    });
    let last = futures::stream::once(async move { Ok(Bytes::from_static(b"]}")) });
    body_from_stream(first.chain(middle).chain(last))
}

fn render_one<T: Tabular>(o: &Arc<T>, out: Output, code: StatusCode) -> Response {
    match out.format {
        Format::Json => object_response(code, &**o, out.encoding),
        Format::Partial => object_response(code, &table::partial_metadata(&**o), out.encoding),
        Format::Table(inc) => {
            let rv = o.metadata().resource_version.clone().unwrap_or_default();
            json_response(code, &table_json(std::slice::from_ref(o), &rv, inc, true))
        }
    }
}

fn get<T: Strategy + Tabular>(ctx: &Ctx, name: &str) -> Result<Response, ApiError> {
    let fmt = output_of(&ctx.headers, &ctx.q, T::SIM_KIND)?;
    let o = ctx.st.store.get::<T>(ns_of(ctx), name).ok_or_else(|| ApiError::not_found(T::SIM_KIND, name))?;
    Ok(render_one(&o, fmt, StatusCode::OK))
}

/// The body of a create or update as `T`, and the warnings `fieldValidation` asks for.
fn decode<T: SimObject>(ctx: &Ctx, options: &str) -> Result<(T, Vec<String>), ApiError> {
    let fv = FieldValidation::from_query(&ctx.q, options)?;
    let kind = T::SIM_KIND.info().kind;
    let v = limits::body_json(&ctx.headers, &ctx.body, kind)?;
    let obj: T =
        serde_json::from_value(v.clone()).map_err(|e| ApiError::bad_request(format!("error decoding request body into {kind}: {e}")))?;
    let warnings = fv.check(unknown_fields_of(&v, &obj))?;
    Ok((obj, warnings))
}

fn unknown_fields_of<T: SimObject>(input: &Value, obj: &T) -> Vec<String> {
    match serde_json::to_value(obj) {
        Ok(typed) => limits::unknown_fields(input, &typed),
        Err(_) => Vec::new(),
    }
}

fn with_warnings(mut r: Response, warnings: &[String]) -> Response {
    for w in warnings {
        if let Ok(v) = axum::http::HeaderValue::from_str(&limits::warning_header(w)) {
            r.headers_mut().append(header::WARNING, v);
        }
    }
    r
}

fn dry_run(ctx: &Ctx) -> bool {
    ctx.q.get("dryRun").is_some_and(|v| v == "All")
}

fn check_namespace_exists(store: &Store, ns: &str) -> Result<(), ApiError> {
    if store.get::<core::Namespace>("", ns).is_none() {
        return Err(ApiError::not_found(Kind::Namespace, ns));
    }
    Ok(())
}

fn create<T: Strategy + Tabular>(ctx: &Ctx) -> Result<Response, ApiError> {
    let (mut obj, warnings) = decode::<T>(ctx, "CreateOptions")?;
    let fmt = output_of(&ctx.headers, &ctx.q, T::SIM_KIND)?;
    if T::SIM_KIND.info().namespaced {
        let url_ns = ns_of(ctx);
        if url_ns.is_empty() {
            return Err(ApiError::method_not_allowed("the server does not allow this method on the requested resource"));
        }
        match obj.metadata().namespace.as_deref() {
            Some(ns) if !ns.is_empty() && ns != url_ns => {
                return Err(ApiError::bad_request("the namespace of the provided object does not match the namespace sent on the request"));
            }
            _ => obj.metadata_mut().namespace = Some(url_ns.to_string()),
        }
        check_namespace_exists(&ctx.st.store, url_ns)?;
    } else {
        obj.metadata_mut().namespace = None;
    }
    obj.prepare_create();
    let causes = obj.validate();
    if !causes.is_empty() {
        let m = obj.metadata();
        let name = m.name.clone().or(m.generate_name.clone()).unwrap_or_default();
        return Err(ApiError::invalid(T::SIM_KIND, &name, causes));
    }
    obj.admit_create(&ctx.st.store)?;
    if dry_run(ctx) {
        return Ok(with_warnings(render_one(&Arc::new(obj), fmt, StatusCode::CREATED), &warnings));
    }
    let created = ctx.st.store.create(obj)?;
    Ok(with_warnings(render_one(&created, fmt, StatusCode::CREATED), &warnings))
}

fn finish_update<T: Strategy + Tabular>(ctx: &Ctx, mut obj: T, old: &T, status: bool) -> Result<Arc<T>, ApiError> {
    let mut causes = crate::sim::objects::before_update(obj.metadata_mut(), old.metadata());
    if status {
        obj.prepare_status_update(old);
    } else {
        obj.prepare_update(old);
    }
    causes.extend(obj.validate());
    causes.extend(obj.validate_update(old));
    if !causes.is_empty() {
        return Err(ApiError::invalid(T::SIM_KIND, obj.metadata().name.as_deref().unwrap_or(""), causes));
    }
    if dry_run(ctx) {
        return Ok(Arc::new(obj));
    }
    ctx.st.store.update(obj)
}

fn update<T: Strategy + Tabular>(ctx: &Ctx, name: &str, status: bool) -> Result<Response, ApiError> {
    let fmt = output_of(&ctx.headers, &ctx.q, T::SIM_KIND)?;
    let (mut obj, warnings) = decode::<T>(ctx, "UpdateOptions")?;
    if obj.metadata().name.as_deref() != Some(name) {
        return Err(ApiError::bad_request(format!(
            "the name of the object ({}) does not match the name on the URL ({name})",
            obj.metadata().name.clone().unwrap_or_default()
        )));
    }
    let ns = ns_of(ctx).to_string();
    if T::SIM_KIND.info().namespaced {
        obj.metadata_mut().namespace = Some(ns.clone());
    }
    let old = ctx.st.store.get::<T>(&ns, name).ok_or_else(|| ApiError::not_found(T::SIM_KIND, name))?;
    // A uid in the body is a precondition (`DefaultUpdatedObjectInfo.Preconditions`).
    let have = old.metadata().uid.clone().unwrap_or_default();
    if let Some(want) = obj.metadata().uid.as_deref().filter(|u| !u.is_empty() && *u != have) {
        return Err(ApiError::precondition_uid(T::SIM_KIND, name, want, &have));
    }
    let new = finish_update(ctx, obj, &old, status)?;
    Ok(with_warnings(render_one(&new, fmt, StatusCode::OK), &warnings))
}

fn patch_obj<T: Strategy + Tabular>(ctx: &Ctx, name: &str, status: bool) -> Result<Response, ApiError> {
    let fmt = output_of(&ctx.headers, &ctx.q, T::SIM_KIND)?;
    let ct = ctx.headers.get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or("");
    let ty = PatchType::from_content_type(ct)?;
    let fv = FieldValidation::from_query(&ctx.q, "PatchOptions")?;
    let ns = ns_of(ctx).to_string();
    for _attempt in 0..8 {
        let cur = ctx.st.store.get::<T>(&ns, name).ok_or_else(|| ApiError::not_found(T::SIM_KIND, name))?;
        let cur_rv = cur.metadata().resource_version.clone().unwrap_or_default();
        let mut doc = serde_json::to_value(&*cur).map_err(|e| ApiError::internal(e.to_string()))?;
        patch::apply(&mut doc, &ty, &ctx.body)?;
        let patched_rv = doc.pointer("/metadata/resourceVersion").and_then(Value::as_str).unwrap_or("").to_string();
        if !patched_rv.is_empty() && patched_rv != cur_rv {
            return Err(ApiError::conflict(T::SIM_KIND, name));
        }
        let mut obj: T =
            serde_json::from_value(doc.clone()).map_err(|e| ApiError::bad_request(format!("error decoding patched object: {e}")))?;
        let warnings = fv.check(unknown_fields_of(&doc, &obj))?;
        {
            // `checkName` and `EnsureObjectNamespaceMatchesRequestNamespace` after the patch.
            let m = obj.metadata_mut();
            let patched = m.name.clone().unwrap_or_default();
            if patched != name {
                return Err(ApiError::bad_request(format!(
                    "the name of the object ({patched}) does not match the name on the URL ({name})"
                )));
            }
            match m.namespace.as_deref().unwrap_or("") {
                "" => m.namespace = cur.metadata().namespace.clone(),
                n if Some(n) == cur.metadata().namespace.as_deref() => {}
                _ if !T::SIM_KIND.info().namespaced => m.namespace = None,
                _ => {
                    return Err(ApiError::bad_request(
                        "the namespace of the provided object does not match the namespace sent on the request",
                    ));
                }
            }
            m.resource_version = Some(cur_rv.clone());
        }
        match finish_update(ctx, obj, &cur, status) {
            Ok(new) => return Ok(with_warnings(render_one(&new, fmt, StatusCode::OK), &warnings)),
            Err(e) if e.code == 409 && e.reason == "Conflict" => continue,
            Err(e) => return Err(e),
        }
    }
    Err(ApiError::conflict(T::SIM_KIND, name))
}

fn delete_options(ctx: &Ctx) -> Result<DeleteOptions, ApiError> {
    let protobuf =
        ctx.headers.get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).is_some_and(|c| c.starts_with(super::protobuf::CONTENT_TYPE));
    let mut opts: DeleteOptions = if ctx.body.iter().all(u8::is_ascii_whitespace) {
        DeleteOptions::default()
    } else if protobuf {
        let v = super::protobuf::delete_options_json(&ctx.body)
            .ok_or_else(|| ApiError::bad_request("error decoding DeleteOptions: not a protobuf DeleteOptions"))?;
        serde_json::from_value(v).map_err(|e| ApiError::bad_request(format!("error decoding DeleteOptions: {e}")))?
    } else {
        serde_json::from_slice(&ctx.body).map_err(|e| ApiError::bad_request(format!("error decoding DeleteOptions: {e}")))?
    };
    if let Some(g) = ctx.q.get("gracePeriodSeconds").and_then(|g| g.parse().ok()) {
        opts.grace_period_seconds = Some(g);
    }
    if let Some(p) = ctx.q.get("propagationPolicy") {
        opts.propagation_policy = Some(p.clone());
    }
    if let Some(p) = opts.propagation_policy.as_deref()
        && !matches!(p, "Foreground" | "Background" | "Orphan")
    {
        return Err(ApiError::invalid_options(
            "DeleteOptions",
            "propagationPolicy",
            format!("Unsupported value: {p:?}: supported values: \"Foreground\", \"Background\", \"Orphan\", \"nil\""),
        ));
    }
    if ctx.q.get("dryRun").is_some_and(|v| v == "All") {
        opts.dry_run = Some(vec!["All".into()]);
    }
    Ok(opts)
}

fn success_status(kind: Kind, name: &str, uid: Option<&str>) -> Value {
    let i = kind.info();
    let mut d = json!({"name": name, "kind": i.plural, "uid": uid});
    if !i.group.is_empty() {
        d["group"] = json!(i.group);
    }
    json!({"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Success", "details": d})
}

fn delete<T: Strategy + Tabular>(ctx: &Ctx, name: &str) -> Result<Response, ApiError> {
    let enc = output_of(&ctx.headers, &ctx.q, T::SIM_KIND)?.encoding;
    let opts = delete_options(ctx)?;
    let (obj, graceful) = crate::sim::ops::delete_object::<T>(&ctx.st.store, ns_of(ctx), name, &opts)?;
    if T::SIM_KIND == Kind::Pod || graceful {
        return Ok(object_response(StatusCode::OK, &*obj, enc));
    }
    let code = if opts.propagation_policy.as_deref() == Some("Foreground") { StatusCode::ACCEPTED } else { StatusCode::OK };
    Ok(object_response(code, &success_status(T::SIM_KIND, name, obj.metadata().uid.as_deref()), enc))
}

fn delete_collection<T: Strategy + Tabular>(ctx: &Ctx) -> Result<Response, ApiError> {
    let enc = output_of(&ctx.headers, &ctx.q, T::SIM_KIND)?.encoding;
    let opts = delete_options(ctx)?;
    let filter = Filter::from_query::<T>(&ctx.q)?;
    let (items, rv) = ctx.st.store.list::<T>(ctx.target.namespace.as_deref());
    let mut out = Vec::new();
    for o in items.iter().filter(|o| filter.matches(&***o)) {
        let m = o.metadata();
        if let Ok((d, _)) =
            crate::sim::ops::delete_object::<T>(&ctx.st.store, m.namespace.as_deref().unwrap_or(""), m.name.as_deref().unwrap_or(""), &opts)
        {
            out.push(serde_json::from_slice::<Value>(&item_json(&*d)).unwrap_or(Value::Null));
        }
    }
    Ok(object_response(
        StatusCode::OK,
        &json!({"kind": format!("{}List", T::SIM_KIND.info().kind), "apiVersion": T::SIM_KIND.api_version(), "metadata": {"resourceVersion": rv.to_string()}, "items": out}),
        enc,
    ))
}

pub fn ssar(user: &super::auth::User, headers: &HeaderMap, body: &[u8]) -> Response {
    use k8s_openapi::api::authorization::v1::{SelfSubjectAccessReview, SubjectAccessReviewStatus};
    let protobuf =
        headers.get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).is_some_and(|c| c.starts_with(super::protobuf::CONTENT_TYPE));
    let parsed = if protobuf {
        super::protobuf::self_subject_access_review(body)
            .ok_or_else(|| "not a SelfSubjectAccessReview in the protobuf envelope".to_string())
    } else {
        serde_json::from_slice::<SelfSubjectAccessReview>(body).map_err(|e| e.to_string())
    };
    let mut r = match parsed {
        Ok(r) => r,
        Err(e) => {
            return ApiError::bad_request(format!("error decoding SelfSubjectAccessReview: {e}")).into_response();
        }
    };
    let allowed = match &r.spec.resource_attributes {
        Some(a) => user.allows(&super::auth::Attributes {
            verb: a.verb.as_deref().unwrap_or(""),
            resource: a.resource.as_deref().unwrap_or(""),
            subresource: a.subresource.as_deref().unwrap_or(""),
        }),
        // Non-resource URLs (/healthz, /version…) are open to every authenticated user.
        None => true,
    };
    r.status = Some(SubjectAccessReviewStatus { allowed, denied: None, evaluation_error: None, reason: None });
    r.metadata.creation_timestamp = None;
    // Answered in the negotiated encoding (a review is authorization.k8s.io/v1, which has one).
    let accept = headers.get(header::ACCEPT).and_then(|v| v.to_str().ok()).unwrap_or("");
    match super::negotiate::output(accept, &Default::default(), true) {
        Ok(out) => object_response(StatusCode::CREATED, &r, out.encoding),
        Err(e) => e.into_response(),
    }
}

//! Content negotiation as kube-apiserver does it: which encoding (JSON or protobuf) and
//! which form (the object, a `Table`, `PartialObjectMetadata`) a response takes from the
//! request's `Accept` header.
//!
//! Followed line by line:
//! - `k8s.io/apiserver` `pkg/endpoints/handlers/negotiation/negotiate.go`
//!   (`NegotiateMediaTypeOptions`, `acceptMediaTypeOptions`) and `errors.go` (the 406 message);
//! - `pkg/endpoints/handlers/rest.go` (`RequestScope.AllowsMediaTypeTransform`: a `Table` only
//!   in JSON or YAML, `PartialObjectMetadata[List]` in any encoding, `sv` only `v1`);
//! - `pkg/endpoints/handlers/responsewriters/writers.go` (`ErrorNegotiated`: errors negotiate
//!   with no transformation allowed, and fall back to JSON);
//! - `github.com/munnerz/goautoneg` `ParseAccept` (clauses sorted by its `Less`: higher `q`
//!   first, then a concrete type before `*`; Go's `sort.Sort` is an insertion sort below 13
//!   elements, so equal clauses keep their order; `q=0` does not exclude a type);
//! - `k8s.io/apimachinery` `pkg/runtime/serializer/codec_factory.go` (the server's media
//!   types in order: JSON, YAML, protobuf; the first one when `Accept` is empty).
//!
//! The simulator offers JSON, and protobuf for the kinds upstream's schema covers
//! ([`super::protobuf_out::serves`]); not YAML (a YAML clause is passed over, as an
//! unknown type is).
//!
//! May import: `sim::errors`, `k8s::proto`.

use std::collections::HashMap;

use crate::k8s::proto::wire;
use crate::sim::errors::ApiError;

pub const JSON: &str = "application/json";

/// How the client wants objects rendered.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Json,
    /// `includeObject`: None, Metadata (default) or Object.
    Table(IncludeObject),
    Partial,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IncludeObject {
    None,
    Metadata,
    Object,
}

/// The encoding of a response body.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Encoding {
    Json,
    Protobuf,
}

impl Encoding {
    pub fn media_type(self) -> &'static str {
        match self {
            Encoding::Json => JSON,
            Encoding::Protobuf => wire::MEDIA_TYPE,
        }
    }

    /// A watch stream's `Content-Type` (`serveWatchHandler`: JSON keeps its own, others
    /// add `;stream=watch`).
    pub fn watch_media_type(self) -> &'static str {
        match self {
            Encoding::Json => JSON,
            Encoding::Protobuf => wire::WATCH_MEDIA_TYPE,
        }
    }

    fn subtype(self) -> &'static str {
        match self {
            Encoding::Json => "json",
            Encoding::Protobuf => "vnd.kubernetes.protobuf",
        }
    }
}

/// What a response to a read (or the object a write returns) looks like.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Output {
    pub format: Format,
    pub encoding: Encoding,
}

/// One clause of an `Accept` header.
#[derive(Debug, Clone, PartialEq)]
struct Clause<'a> {
    ty: &'a str,
    sub: &'a str,
    q: f64,
    params: Vec<(&'a str, &'a str)>,
}

impl Clause<'_> {
    /// A parameter as Go's map has it: the last of that name.
    fn param(&self, k: &str) -> Option<&str> {
        self.params.iter().rev().find(|(n, _)| *n == k).map(|(_, v)| *v)
    }
}

/// `goautoneg.ParseAccept`.
fn parse_accept(header: &str) -> Vec<Clause<'_>> {
    let mut out: Vec<Clause> = Vec::new();
    for part in header.split(',') {
        let part = part.trim_matches(' ');
        if part.is_empty() {
            continue;
        }
        let (range, rest) = part.split_once(';').unwrap_or((part, ""));
        let (ty, sub) = match range.split_once('/') {
            None if range.trim_matches(' ') == "*" => ("*", "*"),
            None => continue,
            Some((_, s)) if s.contains('/') => continue,
            Some((t, s)) => (t.trim_matches(' '), s.trim_matches(' ')),
        };
        let mut c = Clause { ty, sub, q: 1.0, params: Vec::new() };
        for p in rest.split(';').filter(|p| !p.is_empty()) {
            let Some((k, v)) = p.split_once('=') else { continue };
            if v.contains('=') {
                continue;
            }
            match k.trim_matches(' ') {
                // strconv.ParseFloat(v, 32): an error is 0, and the value untrimmed.
                "q" => c.q = v.parse::<f32>().map(f64::from).unwrap_or(0.0),
                k => c.params.push((k, v.trim_matches(' '))),
            }
        }
        out.push(c);
    }
    // sort.Sort → insertionSort for the lengths headers have.
    let less = |a: &Clause, b: &Clause| a.q > b.q || (a.ty != "*" && b.ty == "*") || (a.sub != "*" && b.sub == "*");
    for i in 1..out.len() {
        let mut j = i;
        while j > 0 && less(&out[j], &out[j - 1]) {
            out.swap(j, j - 1);
            j -= 1;
        }
    }
    out
}

/// Which transformations an endpoint allows (`EndpointRestrictions`).
#[derive(Clone, Copy)]
enum Restrictions {
    /// An object endpoint's `RequestScope`.
    Scope,
    /// `DefaultEndpointRestrictions`, what errors are written with.
    Default,
}

/// `acceptMediaTypeOptions` for one clause and one offered encoding: the form, or None
/// when the clause cannot be served in that encoding.
fn accept_options(c: &Clause, enc: Encoding, r: Restrictions, q: &HashMap<String, String>) -> Option<Format> {
    let (kind, group, version) = (c.param("as"), c.param("g"), c.param("v"));
    let convert = kind.is_some() || group.is_some() || version.is_some();
    if c.param("stream").is_some_and(|s| !s.is_empty() && s != "watch") {
        return None;
    }
    // `sv`: the scope's MetaGroupVersion is meta.k8s.io/v1; the default allows none.
    if let Some(sv) = c.param("sv").filter(|s| !s.is_empty()) {
        match r {
            Restrictions::Scope if sv == "v1" => {}
            _ => return None,
        }
    }
    if !convert {
        return Some(Format::Json);
    }
    if matches!(r, Restrictions::Default) || group != Some("meta.k8s.io") || !matches!(version, Some("v1" | "v1beta1")) {
        return None;
    }
    match kind.unwrap_or("") {
        "Table" if enc == Encoding::Json => Some(Format::Table(match q.get("includeObject").map(String::as_str) {
            Some("None") => IncludeObject::None,
            Some("Object") => IncludeObject::Object,
            _ => IncludeObject::Metadata,
        })),
        "PartialObjectMetadata" | "PartialObjectMetadataList" => Some(Format::Partial),
        _ => None,
    }
}

/// `NegotiateMediaTypeOptions` over the offered encodings (in the server's order).
fn negotiate(accept: &str, offered: &[Encoding], r: Restrictions, q: &HashMap<String, String>) -> Option<Output> {
    if accept.is_empty() {
        return offered.first().map(|&encoding| Output { format: Format::Json, encoding });
    }
    for c in parse_accept(accept) {
        for &enc in offered {
            let matches = (c.ty == "application" && (c.sub == enc.subtype() || c.sub == "*")) || (c.ty == "*" && c.sub == "*");
            if matches && let Some(format) = accept_options(&c, enc, r, q) {
                return Some(Output { format, encoding: enc });
            }
        }
    }
    None
}

/// The output of a request for an object of a kind that has (`protobuf`) or has not a
/// protobuf encoding; nothing acceptable is 406 with the apiserver's message.
pub fn output(accept: &str, q: &HashMap<String, String>, protobuf: bool) -> Result<Output, ApiError> {
    let offered: &[Encoding] = if protobuf { &[Encoding::Json, Encoding::Protobuf] } else { &[Encoding::Json] };
    negotiate(accept, offered, Restrictions::Scope, q).ok_or_else(|| {
        let types: Vec<&str> = offered.iter().map(|e| e.media_type()).collect();
        ApiError::not_acceptable(format!("only the following media types are accepted: {}", types.join(", ")))
    })
}

/// The encoding of an error (a `Status`) for this `Accept` (`ErrorNegotiated`): the
/// server's codecs with no transformation; JSON when nothing matches.
pub fn error_encoding(accept: &str) -> Encoding {
    negotiate(accept, &[Encoding::Json, Encoding::Protobuf], Restrictions::Default, &HashMap::new())
        .map(|o| o.encoding)
        .unwrap_or(Encoding::Json)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn out(accept: &str) -> Result<Output, String> {
        output(accept, &HashMap::new(), true).map_err(|e| e.message)
    }

    const PB: Output = Output { format: Format::Json, encoding: Encoding::Protobuf };
    const JS: Output = Output { format: Format::Json, encoding: Encoding::Json };

    #[test]
    fn clauses_sort_by_q_then_by_concreteness_keeping_their_order() {
        let c = parse_accept("*/*;q=0.5, application/json;q=0.9, application/vnd.kubernetes.protobuf, text/*");
        let order: Vec<String> = c.iter().map(|c| format!("{}/{}", c.ty, c.sub)).collect();
        assert_eq!(order, ["application/vnd.kubernetes.protobuf", "text/*", "application/json", "*/*"]);
        assert_eq!(parse_accept("a/b/c, bare, *")[0].sub, "*");
        assert_eq!(parse_accept("application/json;q=x")[0].q, 0.0);
    }

    #[test]
    fn what_clients_send_gets_what_kube_apiserver_answers() {
        // client-go with ContentType protobuf, and kube-rs/kubectl defaults.
        assert_eq!(out("application/vnd.kubernetes.protobuf, */*"), Ok(PB));
        assert_eq!(out("application/vnd.kubernetes.protobuf,application/json"), Ok(PB));
        assert_eq!(out("application/json, application/vnd.kubernetes.protobuf"), Ok(JS));
        assert_eq!(out("application/json;q=0.5, application/vnd.kubernetes.protobuf"), Ok(PB));
        assert_eq!(out(""), Ok(JS));
        assert_eq!(out("*/*"), Ok(JS));
        assert_eq!(out("application/*"), Ok(JS));
        assert_eq!(out("application/vnd.kubernetes.protobuf;stream=watch"), Ok(PB));
        // q=0 is not a refusal to goautoneg.
        assert_eq!(out("application/vnd.kubernetes.protobuf;q=0"), Ok(PB));
        // A Table only in JSON: the protobuf clause is passed over.
        let t =
            out("application/vnd.kubernetes.protobuf;as=Table;v=v1;g=meta.k8s.io, application/json;as=Table;v=v1;g=meta.k8s.io").unwrap();
        assert_eq!((t.format, t.encoding), (Format::Table(IncludeObject::Metadata), Encoding::Json));
        let p = out("application/vnd.kubernetes.protobuf;as=PartialObjectMetadataList;v=v1;g=meta.k8s.io").unwrap();
        assert_eq!((p.format, p.encoding), (Format::Partial, Encoding::Protobuf));
        assert_eq!(out("application/json;sv=v1"), Ok(JS));
    }

    #[test]
    fn nothing_acceptable_is_the_apiservers_406() {
        assert_eq!(
            out("text/plain"),
            Err("only the following media types are accepted: application/json, application/vnd.kubernetes.protobuf".into())
        );
        assert_eq!(out("application/vnd.kubernetes.protobuf;as=Table;v=v1;g=meta.k8s.io"), out("text/plain"));
        assert_eq!(out("application/json;stream=other"), out("text/plain"));
        let no_pb = output("application/vnd.kubernetes.protobuf", &HashMap::new(), false).unwrap_err();
        assert_eq!((no_pb.code, no_pb.message.as_str()), (406, "only the following media types are accepted: application/json"));
    }

    #[test]
    fn errors_negotiate_without_transformations() {
        assert_eq!(error_encoding("application/vnd.kubernetes.protobuf, */*"), Encoding::Protobuf);
        assert_eq!(error_encoding("application/json;as=Table;v=v1;g=meta.k8s.io, application/json"), Encoding::Json);
        assert_eq!(error_encoding("application/vnd.kubernetes.protobuf;as=Table;v=v1;g=meta.k8s.io, */*"), Encoding::Json);
        assert_eq!(error_encoding("text/plain"), Encoding::Json);
    }
}

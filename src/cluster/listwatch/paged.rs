//! The paged list of the list-then-watch loop: pages of [`PAGE_SIZE`](super::PAGE_SIZE)
//! objects, the next page asked for while this one is decoded, a continue token that
//! expired (410) answered with one full list, as client-go's pager does. Pages come in
//! the encoding the server chose of those the wire asks for (`--wire`): JSON, or
//! protobuf read by the same decoders through [`crate::k8s::proto`].
//!
//! May import: `model`, `k8s` (it needs neither). Never `sim` or `ui`.

use std::time::Duration;

use k8s_openapi::apimachinery::pkg::apis::meta::v1::ListMeta;
use kube::Api;
use kube::api::ListParams;

use super::{Event, Sink, is_gone};
use crate::cluster::backoff::{Backoff, RetryAfterHint};
use crate::cluster::errors::ClusterError;
use crate::k8s::proto::{self, Wire};

/// Added to a list page's limit before it is called slow (see the list loop).
const PAGE_GRACE: Duration = Duration::from_millis(500);

pub(super) enum Listed {
    /// Every page delivered; the list's resourceVersion.
    Done(String),
    /// The sink is gone.
    Closed,
    /// A page failed; where to resume (None: from the start).
    Failed(ClusterError, Option<ListParams>),
}

/// Lists every object in pages (a resync: what is not listed is gone), from `lp` — the
/// first page, or the one that failed last time. Every page that arrives resets
/// `backoff`: a long list under random faults must not climb to the longest wait.
///
/// The next page is asked for as soon as a page's continue token is read (from the list's
/// metadata, which the server sends before the items), so the server serialises and sends
/// page n+1 while this decodes page n and delivers its objects.
pub(super) async fn list<K, S>(
    api: &Api<K>,
    mut lp: ListParams,
    retry_after: &RetryAfterHint,
    page_timeout: Duration,
    wire: Wire,
    backoff: &mut Backoff,
    sink: &mut S,
) -> Listed
where
    K: kube::Resource + Clone + serde::de::DeserializeOwned + std::fmt::Debug + Send + 'static,
    S: Sink<K>,
{
    let client = api.clone().into_client();
    let url = api.resource_url().to_string();
    // The page `lp` asks for, requested already.
    let mut prefetched: Option<Prefetch> = None;
    loop {
        let fetch = match prefetched.take() {
            Some(p) => p,
            None => Prefetch::start(&client, &url, &lp, page_timeout, wire),
        };
        let (body, protobuf) = match fetch.answer().await {
            Ok(Ok(b)) => b,
            // The continue token expired mid-list (the server compacted the version the
            // list is at): as client-go's pager, fall back to one full list, unpaged.
            Ok(Err(e)) if is_gone(&e) && lp.continue_token.is_some() => {
                tracing::info!(kind = %std::any::type_name::<K>(), "continue token expired (410); listing in full");
                lp.continue_token = None;
                lp.limit = None;
                continue;
            }
            Ok(Err(e)) => return Listed::Failed(ClusterError::api(e, retry_after), Some(lp)),
            Err(_) => return Listed::Failed(ClusterError::SlowPage(page_timeout), Some(lp)),
        };
        let head = if protobuf { proto::list_head(&body) } else { page_head(&body) };
        let next = head.and_then(|m| m.continue_).filter(|c| !c.is_empty()).map(|c| {
            let mut next = lp.clone();
            next.continue_token = Some(c);
            next
        });
        if let Some(n) = &next {
            prefetched = Some(Prefetch::start(&client, &url, n, page_timeout, wire));
        }
        let page = match decode::<K>(body, protobuf).await {
            Some(Ok(p)) => p,
            Some(Err(e)) => return Listed::Failed(ClusterError::api(kube::Error::SerdeError(e), retry_after), Some(lp)),
            // The runtime is shutting down.
            None => return Listed::Closed,
        };
        backoff.reset();
        tracing::debug!(kind = %std::any::type_name::<K>(), items = page.items.len(), "list page");
        if lp.continue_token.is_none() {
            if !sink.send(Event::Relisting).await {
                return Listed::Closed;
            }
            let remaining = page.metadata.remaining_item_count.and_then(|n| u64::try_from(n).ok());
            if let Some(n) = remaining
                && !sink.total(page.items.len() as u64 + n).await
            {
                return Listed::Closed;
            }
        }
        for o in page.items {
            if !sink.send(Event::Applied(o)).await {
                return Listed::Closed;
            }
        }
        match next.or_else(|| {
            // A server that sent its metadata after the items: the token is read now.
            page.metadata.continue_.filter(|c| !c.is_empty()).map(|c| {
                let mut next = lp.clone();
                next.continue_token = Some(c);
                next
            })
        }) {
            Some(n) => lp = n,
            None => return Listed::Done(page.metadata.resource_version.unwrap_or_default()),
        }
    }
}

/// Decodes a page on the runtime's blocking threads, not on this worker: tokio runs a
/// task spawned from a worker (the next page's request, just started) on that same worker
/// once the current task yields, and no other worker may take it, so a page decoded here
/// held the next request back until it was done — the server then sat idle while the
/// client decoded, and the client while the server wrote. None: the runtime is shutting
/// down.
async fn decode<K>(body: bytes::Bytes, protobuf: bool) -> Option<Result<Page<K>, serde_json::Error>>
where
    K: serde::de::DeserializeOwned + Send + 'static,
{
    let read = move || decode_page::<K>(&body, protobuf).map(|(metadata, items)| Page { metadata, items });
    match tokio::task::spawn_blocking(read).await {
        Ok(page) => Some(page),
        Err(e) if e.is_panic() => std::panic::resume_unwind(e.into_panic()),
        Err(_) => None,
    }
}

/// One list page as the client reads it, in JSON or protobuf: its metadata and items
/// (public for `benches/decode.rs`, which weighs the two encodings).
pub fn decode_page<K: serde::de::DeserializeOwned>(body: &[u8], protobuf: bool) -> Result<(ListMeta, Vec<K>), serde_json::Error> {
    if !protobuf {
        return serde_json::from_slice::<Page<K>>(body).map(|p| (p.metadata, p.items));
    }
    proto::list::<K>(body).map_err(|e| <serde_json::Error as serde::de::Error>::custom(format!("protobuf: {e}")))
}

/// A list page: its metadata and items (kube's `ObjectList` without the flattened type
/// fields, which make serde buffer every key it does not know).
#[derive(serde::Deserialize)]
#[serde(bound(deserialize = "K: serde::de::DeserializeOwned"))]
struct Page<K> {
    #[serde(default)]
    metadata: ListMeta,
    #[serde(default, deserialize_with = "null_as_empty")]
    items: Vec<K>,
}

fn null_as_empty<'de, D, K>(d: D) -> Result<Vec<K>, D::Error>
where
    D: serde::Deserializer<'de>,
    K: serde::de::DeserializeOwned,
{
    Ok(<Option<Vec<K>> as serde::Deserialize>::deserialize(d)?.unwrap_or_default())
}

/// The list's metadata, read from the start of the page without decoding the items: the
/// API server writes `metadata` before `items`. None when it does not come first.
fn page_head(text: &[u8]) -> Option<ListMeta> {
    use serde::de::{Deserializer, IgnoredAny, MapAccess, Visitor};
    struct Head<'a>(&'a mut Option<ListMeta>);
    impl<'de> Visitor<'de> for Head<'_> {
        type Value = ();
        fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
            f.write_str("a list")
        }
        fn visit_map<A: MapAccess<'de>>(self, mut m: A) -> Result<(), A::Error> {
            while let Some(k) = m.next_key::<String>()? {
                match k.as_str() {
                    "metadata" => {
                        *self.0 = Some(m.next_value()?);
                        return Ok(());
                    }
                    "items" => return Ok(()),
                    _ => {
                        m.next_value::<IgnoredAny>()?;
                    }
                }
            }
            Ok(())
        }
    }
    let mut head = None;
    // Stopping early leaves the map unfinished, which serde_json reports as an error:
    // what was read before it stands.
    let _ = serde_json::Deserializer::from_slice(text).deserialize_map(Head(&mut head));
    head
}

/// A list page asked for: the request runs on its own task, bounded by the page's time
/// limit (plus a little grace, so that a server that never answered at all is reported as
/// such by the client's first-byte timeout, which may be as long as the page's, rather
/// than as a slow page). Dropped, it is cancelled.
struct Prefetch(tokio::task::JoinHandle<Result<Result<Body, kube::Error>, tokio::time::error::Elapsed>>);

/// A page's bytes, and whether they are protobuf.
type Body = (bytes::Bytes, bool);

impl Prefetch {
    fn start(client: &kube::Client, url: &str, lp: &ListParams, page_timeout: Duration, wire: Wire) -> Prefetch {
        let request = kube::core::Request::new(url).list(lp).map(|mut r| {
            r.extensions_mut().insert("list");
            r.headers_mut().insert(http::header::ACCEPT, http::HeaderValue::from_static(wire.accept()));
            r
        });
        let client = client.clone();
        Prefetch(tokio::spawn(tokio::time::timeout(page_timeout + PAGE_GRACE, async move {
            page_bytes(&client, request.map_err(kube::Error::BuildRequest)?).await
        })))
    }

    async fn answer(mut self) -> Result<Result<Body, kube::Error>, tokio::time::error::Elapsed> {
        match (&mut self.0).await {
            Ok(r) => r,
            Err(e) if e.is_panic() => std::panic::resume_unwind(e.into_panic()),
            // Cancelled: the runtime is shutting down.
            Err(e) => Ok(Err(kube::Error::Service(Box::new(e)))),
        }
    }
}

impl Drop for Prefetch {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// One list page's bytes, as the server sent them, and whether they are protobuf. kube's `request_text` would copy them
/// twice more (into a `Vec`, then a checked `String`), a gigabyte of copying on a
/// 15,000-node sync; serde checks the UTF-8 of each string it reads anyway. An error
/// answer becomes kube's `Error::Api` exactly as `request_text` makes it: the server's
/// `Status` when the body is one, else a failure carrying the body's text and the code.
async fn page_bytes(client: &kube::Client, request: http::Request<Vec<u8>>) -> Result<Body, kube::Error> {
    let res = client.send(request.map(kube::client::Body::from)).await?;
    let code = res.status();
    let protobuf = proto::is_protobuf(res.headers().get(http::header::CONTENT_TYPE).and_then(|v| v.to_str().ok()));
    let body = res.into_body().collect_bytes().await?;
    if code.is_client_error() || code.is_server_error() {
        return Err(api_error(code, &body, protobuf));
    }
    Ok((body, protobuf))
}

/// An error answer as kube's `Error::Api`: the server's `Status` (in JSON, or protobuf
/// when the request negotiated it), else a failure carrying the body's text and the code.
pub(super) fn api_error(code: http::StatusCode, body: &[u8], protobuf: bool) -> kube::Error {
    let status = if protobuf {
        proto::object::<kube::core::Status>(body).map_err(|_| ())
    } else {
        serde_json::from_slice::<kube::core::Status>(body).map_err(|_| ())
    };
    match status {
        Ok(status) => kube::Error::Api(status.boxed()),
        Err(_) => {
            let text = String::from_utf8_lossy(body);
            kube::Error::Api(kube::core::Status::failure(text.trim(), "Failed to parse error data").with_code(code.as_u16()).boxed())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::page_head;

    #[test]
    fn the_continue_token_is_read_before_the_items() {
        // The items are not read at all: a page cut in the middle of them still gives its
        // metadata, so the next page can be asked for before this one is decoded.
        let cut = r#"{"kind":"PodList","apiVersion":"v1","metadata":{"resourceVersion":"17","continue":"tok=="},"items":[{"metadata":{"na"#;
        let head = page_head(cut.as_bytes()).expect("metadata first");
        assert_eq!((head.continue_.as_deref(), head.resource_version.as_deref()), (Some("tok=="), Some("17")));
        // The last page has no token.
        assert_eq!(page_head(br#"{"metadata":{"resourceVersion":"17"},"items":[]}"#).unwrap().continue_, None);
        // Metadata after the items: not known early (the loop then reads it from the decoded page).
        assert!(page_head(br#"{"kind":"PodList","items":[],"metadata":{"continue":"t"}}"#).is_none());
        assert!(page_head(b"not json").is_none());
    }
}

//! Streaming lists ("watch-list", KEP-3157): a watch with `sendInitialEvents=true`
//! (with `resourceVersionMatch=NotOlderThan` and `allowWatchBookmarks=true`) first sends
//! every object of the collection as an ADDED event, then a BOOKMARK whose metadata carries
//! the annotation [`INITIAL_EVENTS_END`] and the collection's resourceVersion, then the
//! changes that follow — the collection from the watch cache, without paging a list.
//!
//! kube-apiserver serves it behind the `WatchList` feature gate: alpha and off in
//! 1.27–1.31, beta and on in 1.32, off again in 1.33, on from 1.34
//! (`staging/src/k8s.io/apiserver/pkg/features/kube_features.go`). With the gate off, the
//! request is refused by `ValidateListOptions`
//! (`staging/src/k8s.io/apimachinery/pkg/apis/meta/internalversion/validation/validation.go`)
//! with 422 Invalid.
//!
//! May import: nothing of ours outside `k8s/`.

/// The annotation on the bookmark that ends a watch-list's initial events
/// (`metav1.InitialEventsAnnotationKey`).
pub const INITIAL_EVENTS_END: &str = "k8s.io/initial-events-end";

/// How the client fetches a whole collection (`--watch-list`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, clap::ValueEnum)]
pub enum WatchList {
    /// A watch-list; pages when the server refuses it (as client-go's reflector falls back).
    #[default]
    Auto,
    /// A watch-list only: a refusal is a failure (for diagnosis).
    On,
    /// Pages of a list, then a watch (as before watch-list).
    Off,
}

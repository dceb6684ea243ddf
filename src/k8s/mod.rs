//! Kubernetes rules that the client and the simulator both rely on, written once from the
//! Kubernetes source: which nodes should run a DaemonSet's pod and why not
//! ([`eligibility`]), label and field selectors ([`selector`]), label syntax
//! ([`labels`]), taint syntax, validation and eviction timing ([`taints`]), int-or-percent
//! values and the surge/unavailable arithmetic ([`intstr`]), outside text made safe for a terminal ([`text`]),
//! inputs read within a size limit ([`files`]), durations as kubectl prints
//! them ([`duration`]), PodDisruptionBudget arithmetic ([`disruption`]), the simulator's scenario schema that `snapshot` writes
//! ([`scenario`]), and which labels name a node's pool, zone and instance type on each
//! provider ([`topology`]), counts in words ([`words`]), dumps a cluster left
//! behind, read offline ([`dump`]), the clock ages are read against ([`clock`]), and whether a
//! pod fits a node's resources as kube-scheduler decides ([`fit`]) and its required pod
//! (anti-)affinity ([`podaffinity`]), the DaemonSet
//! manifests a preflight reads ([`manifests`]), and the streaming list (watch-list) a watch
//! can start with ([`watchlist`]), and objects in protobuf by upstream's schema ([`proto`]).
//!
//! May import: nothing of ours outside `k8s/` (a test in `tests/it/architecture.rs` checks it).

pub mod clock;
pub mod disruption;
pub mod dump;
pub mod duration;
pub mod eligibility;
pub mod files;
pub mod fit;
pub mod intstr;
pub mod labels;
pub mod manifests;
pub mod podaffinity;
pub mod proto;
pub mod scenario;
pub mod selector;
pub mod taints;
pub mod text;
pub mod topology;
pub mod watchlist;
pub mod words;

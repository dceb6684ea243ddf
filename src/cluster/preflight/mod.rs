//! What a preflight reads of the cluster, once: the nodes (with the images they report),
//! every bound pod folded into its node's room (decoded lean, [`wire`]), the priority
//! classes, and the DaemonSets as they are now. The verdicts are `model::preflight`'s.
//!
//! May import: `model`, `k8s`.

pub mod wire;

use std::collections::{BTreeMap, BTreeSet, HashMap};

use k8s_openapi::api::apps::v1::DaemonSet;
use k8s_openapi::api::core::v1::Node;
use k8s_openapi::api::scheduling::v1::PriorityClass;
use kube::Api;
use kube::api::ListParams;

use crate::cluster::connect::Cluster;
use crate::cluster::errors::ClusterError;
use crate::cluster::pages::each_page;
use crate::k8s::eligibility::NodeFacts;
use crate::k8s::fit::Resources;
use crate::model::preflight::verdict::NodeRoom;
use crate::model::preflight::{ClusterFacts, ds_key};

/// Folds every bound pod into its node's room, a page of 500 at a time.
async fn pods<L: wire::Labels>(cluster: &Cluster, index: &HashMap<String, usize>, nodes: &mut [NodeRoom]) -> Result<(), ClusterError> {
    let mut lp = ListParams::default().limit(500);
    loop {
        let req = kube::core::Request::new("/api/v1/pods").list(&lp).map_err(|e| cluster.error(kube::Error::BuildRequest(e)))?;
        let page: wire::PodFitList<L> = cluster.client.request(req).await.map_err(|e| cluster.error(e))?;
        for p in page.items {
            if let Some(i) = p.node().and_then(|n| index.get(n)).copied() {
                nodes[i].pods.push(p.into_pod_on_node());
            }
        }
        match page.metadata.continue_.filter(|c| !c.is_empty()) {
            Some(c) => lp = lp.continue_token(&c),
            None => return Ok(()),
        }
    }
}

/// Reads the nodes, the bound pods (folded per node), the priority classes and the
/// DaemonSets `dss` change.
pub async fn gather(cluster: &Cluster, dss: &[DaemonSet]) -> Result<ClusterFacts, ClusterError> {
    let images: BTreeSet<String> = dss
        .iter()
        .filter_map(|d| d.spec.as_ref()?.template.spec.as_ref())
        .flat_map(|s| s.containers.iter().chain(s.init_containers.iter().flatten()))
        .filter_map(|c| c.image.clone())
        .collect();
    let mut nodes: Vec<NodeRoom> = Vec::new();
    each_page(cluster, &Api::<Node>::all(cluster.client.clone()), ListParams::default(), |page| {
        for n in page {
            let mut have = BTreeSet::new();
            let mut sizes = Vec::new();
            for img in n.status.iter().flat_map(|s| s.images.iter().flatten()) {
                for name in img.names.iter().flatten().filter(|x| images.contains(*x)) {
                    have.insert(name.clone());
                    sizes.push((name.clone(), img.size_bytes.unwrap_or(0)));
                }
            }
            nodes.push(NodeRoom {
                facts: NodeFacts::from_node(&n),
                allocatable: Resources::of(n.status.as_ref().and_then(|s| s.allocatable.as_ref())),
                pods: Vec::new(),
                images: have,
                image_sizes: sizes,
            });
        }
    })
    .await?;
    // Pod labels are kept only when a DaemonSet's own terms select pods by them.
    let labels = dss.iter().filter_map(|d| d.spec.as_ref()?.template.spec.as_ref()?.affinity.as_ref()).any(|a| {
        a.pod_affinity
            .as_ref()
            .is_some_and(|p| p.required_during_scheduling_ignored_during_execution.as_ref().is_some_and(|t| !t.is_empty()))
            || a.pod_anti_affinity
                .as_ref()
                .is_some_and(|p| p.required_during_scheduling_ignored_during_execution.as_ref().is_some_and(|t| !t.is_empty()))
    });
    let index: HashMap<String, usize> = nodes.iter().enumerate().map(|(i, n)| (n.facts.name.clone(), i)).collect();
    // Pods decoded lean (see `wire`), 500 at a time; their labels skipped unless wanted.
    if labels {
        pods::<BTreeMap<String, String>>(cluster, &index, &mut nodes).await?;
    } else {
        pods::<serde::de::IgnoredAny>(cluster, &index, &mut nodes).await?;
    }
    let mut classes = HashMap::new();
    let mut default_priority = 0;
    each_page(cluster, &Api::<PriorityClass>::all(cluster.client.clone()), ListParams::default(), |page| {
        for c in page {
            if c.global_default == Some(true) {
                default_priority = c.value;
            }
            classes.insert(c.metadata.name.clone().unwrap_or_default(), (c.value, c.preemption_policy.as_deref() == Some("Never")));
        }
    })
    .await?;
    let mut existing = HashMap::new();
    for ds in dss {
        let ns = ds.metadata.namespace.as_deref().unwrap_or("default");
        let api: Api<DaemonSet> = Api::namespaced(cluster.client.clone(), ns);
        if let Some(cur) = api.get_opt(ds.metadata.name.as_deref().unwrap_or("")).await.map_err(|e| cluster.error(e))? {
            existing.insert(ds_key(ds), cur);
        }
    }
    Ok(ClusterFacts { nodes, classes, default_priority, existing })
}

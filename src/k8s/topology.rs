//! Where a node's pool, zone and instance type are read from: real clusters do not carry a
//! literal `pool` label, each provider sets its own, and older clusters carry only the
//! deprecated `failure-domain.beta.kubernetes.io/*` and `beta.kubernetes.io/instance-type`
//! labels. One list per fact, first present wins; the client's views and the simulator's
//! `--flavor` nodes both read these lists, and `docs/nodes.md` prints them as a table
//! (a test keeps the two the same).
//!
//! May import: nothing of ours.

use std::collections::BTreeMap;

/// Node pool labels, in the order they are tried, each with who sets it.
pub const POOL_LABELS: &[(&str, &str)] = &[
    // https://cloud.google.com/kubernetes-engine/docs/concepts/node-pools ("Deploying Services to specific node pools")
    ("cloud.google.com/gke-nodepool", "GKE"),
    // https://docs.aws.amazon.com/eks/latest/userguide/managed-node-groups.html (labels managed node groups apply)
    ("eks.amazonaws.com/nodegroup", "EKS managed node groups"),
    // https://eksctl.io/usage/nodegroups/ (eksctl's own node groups)
    ("alpha.eksctl.io/nodegroup-name", "eksctl node groups"),
    // https://learn.microsoft.com/azure/aks/use-labels (AKS reserved labels)
    ("kubernetes.azure.com/agentpool", "AKS"),
    ("agentpool", "AKS (older clusters)"),
    // https://karpenter.sh/docs/concepts/scheduling/ (well-known labels)
    ("karpenter.sh/nodepool", "Karpenter"),
    ("karpenter.sh/provisioner-name", "Karpenter before v0.32 (Provisioners)"),
    // https://docs.openshift.com/container-platform/latest/machine_management/creating_machinesets/
    ("machine.openshift.io/cluster-api-machineset", "OpenShift machine sets"),
    // Rancher v2 / RKE2 machine pools (https://ranchermanager.docs.rancher.com, "Nodes and Machine Pools")
    ("rke.cattle.io/rke-machine-pool-name", "Rancher / RKE2 machine pools"),
    // https://cluster-api.sigs.k8s.io/reference/labels_and_annotations
    ("cluster.x-k8s.io/deployment-name", "Cluster API machine deployments"),
    ("pool", "convention (and daemonscope's simulator)"),
    ("nodepool", "convention"),
];

/// Zone labels: the current one, then the deprecated one (Kubernetes before 1.17 set only it).
/// https://kubernetes.io/docs/reference/labels-annotations-taints/#topologykubernetesiozone
pub const ZONE_LABELS: &[&str] = &["topology.kubernetes.io/zone", "failure-domain.beta.kubernetes.io/zone"];

/// Region labels, current then deprecated.
pub const REGION_LABELS: &[&str] = &["topology.kubernetes.io/region", "failure-domain.beta.kubernetes.io/region"];

/// Instance type labels, current then deprecated.
/// https://kubernetes.io/docs/reference/labels-annotations-taints/#nodekubernetesioinstance-type
pub const INSTANCE_TYPE_LABELS: &[&str] = &["node.kubernetes.io/instance-type", "beta.kubernetes.io/instance-type"];

/// The key the grid and the nodes view use for "the node's pool, wherever it is read from".
pub const POOL: &str = "pool";

/// The first of `keys` that `get` has, with its value.
pub fn first<'a, 'k>(keys: impl IntoIterator<Item = &'k str>, get: impl Fn(&str) -> Option<&'a str>) -> Option<(&'k str, &'a str)> {
    keys.into_iter().find_map(|k| get(k).map(|v| (k, v)))
}

/// The node's pool and the label it came from.
pub fn pool_of(labels: &BTreeMap<String, String>) -> Option<(&'static str, &str)> {
    first(POOL_LABELS.iter().map(|(k, _)| *k), |k| labels.get(k).map(String::as_str))
}

pub fn pool(labels: &BTreeMap<String, String>) -> Option<&str> {
    pool_of(labels).map(|(_, v)| v)
}

pub fn zone(labels: &BTreeMap<String, String>) -> Option<&str> {
    first(ZONE_LABELS.iter().copied(), |k| labels.get(k).map(String::as_str)).map(|(_, v)| v)
}

pub fn instance_type(labels: &BTreeMap<String, String>) -> Option<&str> {
    first(INSTANCE_TYPE_LABELS.iter().copied(), |k| labels.get(k).map(String::as_str)).map(|(_, v)| v)
}

/// A label by key, where the well-known keys ([`POOL`], the current zone and instance
/// type keys) read through their lists: what grouping or a column by `key` shows.
pub fn value<'a>(labels: &'a BTreeMap<String, String>, key: &str) -> Option<&'a str> {
    if key == POOL {
        pool(labels)
    } else if key == ZONE_LABELS[0] {
        zone(labels)
    } else if key == INSTANCE_TYPE_LABELS[0] {
        instance_type(labels)
    } else if key == REGION_LABELS[0] {
        first(REGION_LABELS.iter().copied(), |k| labels.get(k).map(String::as_str)).map(|(_, v)| v)
    } else {
        labels.get(key).map(String::as_str)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn labels(kv: &[(&str, &str)]) -> BTreeMap<String, String> {
        kv.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
    }

    #[test]
    fn gke() {
        let l = labels(&[
            ("cloud.google.com/gke-nodepool", "default-pool"),
            ("topology.kubernetes.io/zone", "us-central1-a"),
            ("node.kubernetes.io/instance-type", "e2-medium"),
        ]);
        assert_eq!(pool_of(&l), Some(("cloud.google.com/gke-nodepool", "default-pool")));
        assert_eq!(zone(&l), Some("us-central1-a"));
        assert_eq!(instance_type(&l), Some("e2-medium"));
    }

    #[test]
    fn eks_managed_before_eksctl() {
        let l = labels(&[("alpha.eksctl.io/nodegroup-name", "ng-1"), ("eks.amazonaws.com/nodegroup", "managed-1")]);
        assert_eq!(pool(&l), Some("managed-1"));
        let l = labels(&[("alpha.eksctl.io/nodegroup-name", "ng-1")]);
        assert_eq!(pool(&l), Some("ng-1"));
    }

    #[test]
    fn aks_new_and_old() {
        assert_eq!(pool(&labels(&[("kubernetes.azure.com/agentpool", "nodepool1"), ("agentpool", "x")])), Some("nodepool1"));
        assert_eq!(pool(&labels(&[("agentpool", "nodepool1")])), Some("nodepool1"));
    }

    #[test]
    fn karpenter_nodepool_then_provisioner() {
        assert_eq!(pool(&labels(&[("karpenter.sh/nodepool", "default")])), Some("default"));
        assert_eq!(pool(&labels(&[("karpenter.sh/provisioner-name", "old")])), Some("old"));
    }

    #[test]
    fn openshift_rancher_capi_and_conventions() {
        assert_eq!(
            pool(&labels(&[("machine.openshift.io/cluster-api-machineset", "ocp-worker-us-east-1a")])),
            Some("ocp-worker-us-east-1a")
        );
        assert_eq!(pool(&labels(&[("rke.cattle.io/rke-machine-pool-name", "workers")])), Some("workers"));
        assert_eq!(pool(&labels(&[("cluster.x-k8s.io/deployment-name", "md-0")])), Some("md-0"));
        assert_eq!(pool(&labels(&[("nodepool", "np")])), Some("np"));
        assert_eq!(pool(&labels(&[("pool", "general"), ("nodepool", "np")])), Some("general"));
        assert_eq!(pool(&labels(&[("kubernetes.io/hostname", "a")])), None);
    }

    #[test]
    fn deprecated_zone_and_instance_type() {
        let l = labels(&[("failure-domain.beta.kubernetes.io/zone", "us-east-1a"), ("beta.kubernetes.io/instance-type", "m5.large")]);
        assert_eq!(zone(&l), Some("us-east-1a"));
        assert_eq!(instance_type(&l), Some("m5.large"));
        assert_eq!(value(&l, "topology.kubernetes.io/zone"), Some("us-east-1a"));
        assert_eq!(value(&l, "node.kubernetes.io/instance-type"), Some("m5.large"));
        // The current label wins over the deprecated one.
        let l = labels(&[("failure-domain.beta.kubernetes.io/zone", "old"), ("topology.kubernetes.io/zone", "new")]);
        assert_eq!(zone(&l), Some("new"));
    }

    #[test]
    fn value_reads_other_keys_as_they_are() {
        let l = labels(&[("kubernetes.io/arch", "arm64")]);
        assert_eq!(value(&l, "kubernetes.io/arch"), Some("arm64"));
        assert_eq!(value(&l, "pool"), None);
    }
}

//! `sim --flavor gke|eks|aks|karpenter`: the scenario's nodes renamed and relabelled as
//! that provider names and labels its nodes, so the demo and the tests meet real shapes
//! (a GKE node's pool is only in `cloud.google.com/gke-nodepool`, an EKS node's name is
//! 40-odd characters of EC2 private DNS). Managed control planes are invisible to their
//! clusters, so control-plane nodes are dropped. Every reference to a renamed node (a
//! pod's `nodeName`, the `kubernetes.io/hostname` label, a timeline step) follows it.
//! Names are derived from each node's pool and position: the same scenario gives the
//! same names every run.
//!
//! May import: `sim::kind`, `sim::scenario`, `k8s::topology`.

use std::collections::{BTreeMap, HashMap};

use serde_json::{Value, json};

use super::kind::Kind;
use super::scenario::{Action, Scenario};
use crate::k8s::topology;

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Flavor {
    Gke,
    Eks,
    Aks,
    Karpenter,
}

/// A stable 32-bit FNV-1a hash: the provider's random-looking name parts, seeded by the input.
fn fnv(s: &str) -> u32 {
    s.bytes().fold(0x811c9dc5u32, |h, b| (h ^ b as u32).wrapping_mul(0x01000193))
}

fn base36(mut n: u64, width: usize) -> String {
    const DIGITS: &[u8] = b"0123456789abcdefghijklmnopqrstuvwxyz";
    let mut out = vec![b'0'; width];
    for slot in out.iter_mut().rev() {
        *slot = DIGITS[(n % 36) as usize];
        n /= 36;
    }
    String::from_utf8(out).unwrap_or_default()
}

/// What the generic node says: its pool, zone index, instance type and a few markers.
struct Generic {
    pool: String,
    zone: usize,
    instance: String,
    spot: bool,
    gpu: bool,
}

fn generic(labels: &BTreeMap<String, String>) -> Generic {
    let zone = topology::zone(labels).and_then(|z| z.chars().last()).map_or(0, |c| match c {
        'a' | '1' => 0,
        'b' | '2' => 1,
        'c' | '3' => 2,
        _ => (c as usize) % 3,
    });
    Generic {
        pool: topology::pool(labels).unwrap_or("general").to_string(),
        zone,
        instance: topology::instance_type(labels).unwrap_or("m6i.2xlarge").to_string(),
        spot: labels.get("lifecycle").is_some_and(|v| v == "spot") || labels.get("pool").is_some_and(|v| v == "spot"),
        gpu: labels.contains_key("accelerator") || labels.get("pool").is_some_and(|v| v == "gpu"),
    }
}

/// The labels a generic node carries that no provider sets as such: dropped.
const GENERIC_KEYS: &[&str] = &[
    "pool",
    "topology.kubernetes.io/zone",
    "topology.kubernetes.io/region",
    "node.kubernetes.io/instance-type",
    "beta.kubernetes.io/instance-type",
    "failure-domain.beta.kubernetes.io/zone",
    "failure-domain.beta.kubernetes.io/region",
    "lifecycle",
    "kubernetes.io/hostname",
];

/// An EC2 private DNS name in `region` for the `i`th node of zone `zone`: eksctl's VPC is
/// 192.168.0.0/16 with a /19 subnet per availability zone
/// (https://eksctl.io/usage/vpc-configuration/), and EC2 names hosts `ip-<a-b-c-d>.<region>.compute.internal`
/// (https://docs.aws.amazon.com/AWSEC2/latest/UserGuide/ec2-instance-naming.html).
fn ec2_name(region: &str, zone: usize, i: usize) -> String {
    format!("ip-192-168-{}-{}.{region}.compute.internal", 32 * zone + (i / 254) % 32, i % 254 + 1)
}

impl Flavor {
    pub fn name(self) -> &'static str {
        match self {
            Flavor::Gke => "gke",
            Flavor::Eks => "eks",
            Flavor::Aks => "aks",
            Flavor::Karpenter => "karpenter",
        }
    }

    /// The provider's name for the generic pool (`general` is each one's default pool).
    fn pool_name(self, pool: &str) -> String {
        match (self, pool) {
            // GKE's first pool is `default-pool` (https://cloud.google.com/kubernetes-engine/docs/concepts/node-pools).
            (Flavor::Gke, "general") => "default-pool".into(),
            (Flavor::Gke, p) => format!("{p}-pool"),
            // AKS: the first pool is `nodepool1`; pool names are at most 12 lowercase
            // letters and digits (https://learn.microsoft.com/azure/aks/create-node-pools).
            (Flavor::Aks, "general") => "nodepool1".into(),
            (Flavor::Aks, p) => p.chars().filter(char::is_ascii_alphanumeric).take(12).collect::<String>().to_lowercase(),
            (Flavor::Eks, p) => format!("ng-{p}"),
            (Flavor::Karpenter, "general") => "default".into(),
            (Flavor::Karpenter, p) => p.into(),
        }
    }

    fn instance_type(self, g: &Generic, i: usize) -> String {
        let kind = if g.gpu {
            3
        } else if g.instance.starts_with('r') || g.pool == "highmem" {
            1
        } else if g.spot {
            2
        } else {
            0
        };
        match self {
            Flavor::Gke => ["e2-standard-8", "n2-highmem-8", "e2-standard-4", "g2-standard-8"][kind].into(),
            Flavor::Aks => ["Standard_D8s_v5", "Standard_E8s_v5", "Standard_D4s_v5", "Standard_NC8as_T4_v3"][kind].into(),
            Flavor::Eks => g.instance.clone(),
            // Karpenter picks among many types: a spread like its consolidation leaves.
            Flavor::Karpenter => {
                let choices: &[&str] = match kind {
                    1 => &["r6i.2xlarge", "r7i.2xlarge", "r6a.2xlarge"],
                    2 => &["m6i.xlarge", "m5.xlarge", "c6i.2xlarge", "m6a.xlarge"],
                    3 => &["g5.2xlarge", "g6.2xlarge"],
                    _ => &["m6i.2xlarge", "m7i.2xlarge", "m6a.2xlarge", "c6i.4xlarge", "m5.2xlarge"],
                };
                choices[i % choices.len()].into()
            }
        }
    }

    /// The node's new name and the labels the provider sets; `i` is its index in its pool
    /// and zone, `cluster` the cluster name used in names and labels.
    fn node(self, g: &Generic, i: usize, cluster: &str) -> (String, Vec<(String, String)>) {
        let pool = self.pool_name(&g.pool);
        let itype = self.instance_type(g, i);
        let kv = |k: &str, v: &str| (k.to_string(), v.to_string());
        match self {
            // https://cloud.google.com/kubernetes-engine/docs/how-to/creating-managing-labels and
            // the labels GKE nodes carry (`kubectl get node --show-labels` on GKE): node names
            // are `gke-<cluster>-<pool>-<instance group hash>-<4 characters>`, one instance
            // group per pool and zone.
            Flavor::Gke => {
                let zone = format!("us-central1-{}", ["a", "b", "c"][g.zone]);
                let group = format!("{:08x}", fnv(&format!("{cluster}/{pool}/{zone}")));
                let name = format!("gke-{cluster}-{pool}-{group}-{}", base36(fnv(&format!("{group}/{i}")) as u64 % 36u64.pow(4), 4));
                let mut l = vec![
                    kv("cloud.google.com/gke-nodepool", &pool),
                    kv("cloud.google.com/gke-os-distribution", "cos"),
                    kv("cloud.google.com/gke-container-runtime", "containerd"),
                    kv("cloud.google.com/gke-boot-disk", "pd-balanced"),
                    kv("cloud.google.com/machine-family", itype.split('-').next().unwrap_or("e2")),
                    kv("node.kubernetes.io/instance-type", &itype),
                    kv("beta.kubernetes.io/instance-type", &itype),
                    kv("topology.kubernetes.io/zone", &zone),
                    kv("failure-domain.beta.kubernetes.io/zone", &zone),
                    kv("topology.kubernetes.io/region", "us-central1"),
                    kv("failure-domain.beta.kubernetes.io/region", "us-central1"),
                    kv("topology.gke.io/zone", &zone),
                ];
                if g.spot {
                    l.push(kv("cloud.google.com/gke-spot", "true"));
                    l.push(kv("cloud.google.com/gke-provisioning", "spot"));
                }
                if g.gpu {
                    l.push(kv("cloud.google.com/gke-accelerator", "nvidia-l4"));
                }
                (name, l)
            }
            // https://docs.aws.amazon.com/eks/latest/userguide/managed-node-groups.html: managed
            // node groups label their nodes with the group, its AMI and capacity type; eksctl
            // adds its own (https://eksctl.io/usage/nodegroups/).
            Flavor::Eks => {
                let zone = format!("us-west-2{}", ["a", "b", "c"][g.zone]);
                let l = vec![
                    kv("eks.amazonaws.com/nodegroup", &pool),
                    kv("eks.amazonaws.com/nodegroup-image", "ami-0c2b8ca1dad447f8a"),
                    kv("eks.amazonaws.com/capacityType", if g.spot { "SPOT" } else { "ON_DEMAND" }),
                    kv("eks.amazonaws.com/sourceLaunchTemplateVersion", "1"),
                    kv("alpha.eksctl.io/cluster-name", cluster),
                    kv("alpha.eksctl.io/nodegroup-name", &pool),
                    kv("k8s.io/cloud-provider-aws", &format!("{:032x}", (fnv(cluster) as u128) << 64 | fnv("aws") as u128)),
                    kv("node.kubernetes.io/instance-type", &itype),
                    kv("beta.kubernetes.io/instance-type", &itype),
                    kv("topology.kubernetes.io/zone", &zone),
                    kv("failure-domain.beta.kubernetes.io/zone", &zone),
                    kv("topology.kubernetes.io/region", "us-west-2"),
                    kv("failure-domain.beta.kubernetes.io/region", "us-west-2"),
                    kv("topology.ebs.csi.aws.com/zone", &zone),
                ];
                (String::new(), l)
            }
            // https://learn.microsoft.com/azure/aks/use-labels: nodes are VM scale set
            // instances named `aks-<pool>-<8 digits>-vmss<6 base-36 digits>`; zones are
            // `<region>-<1..3>`.
            Flavor::Aks => {
                let zone = format!("eastus-{}", g.zone + 1);
                let digits = fnv(&format!("{cluster}/{pool}")) % 100_000_000;
                let name = format!("aks-{pool}-{digits:08}-vmss{}", base36(i as u64, 6));
                let mut l = vec![
                    kv("kubernetes.azure.com/agentpool", &pool),
                    kv("agentpool", &pool),
                    kv("kubernetes.azure.com/cluster", &format!("MC_{cluster}-rg_{cluster}_eastus")),
                    kv("kubernetes.azure.com/mode", if pool == "nodepool1" { "system" } else { "user" }),
                    kv("kubernetes.azure.com/role", "agent"),
                    kv("kubernetes.azure.com/os-sku", "Ubuntu"),
                    kv("kubernetes.azure.com/node-image-version", "AKSUbuntu-2204gen2containerd-202503.02.0"),
                    kv("node.kubernetes.io/instance-type", &itype),
                    kv("beta.kubernetes.io/instance-type", &itype),
                    kv("topology.kubernetes.io/zone", &zone),
                    kv("failure-domain.beta.kubernetes.io/zone", &zone),
                    kv("topology.kubernetes.io/region", "eastus"),
                    kv("failure-domain.beta.kubernetes.io/region", "eastus"),
                ];
                if g.spot {
                    l.push(kv("kubernetes.azure.com/scalesetpriority", "spot"));
                }
                if g.gpu {
                    l.push(kv("kubernetes.azure.com/accelerator", "nvidia"));
                }
                (name, l)
            }
            // https://karpenter.sh/docs/concepts/scheduling/#well-known-labels and
            // https://karpenter.sh/docs/reference/instance-types/: the NodePool, capacity type
            // and the instance's family, size and generation.
            Flavor::Karpenter => {
                let zone = format!("us-west-2{}", ["a", "b", "c"][g.zone]);
                let (family, size) = itype.split_once('.').unwrap_or((&itype, "large"));
                let l = vec![
                    kv("karpenter.sh/nodepool", &pool),
                    kv("karpenter.sh/capacity-type", if g.spot { "spot" } else { "on-demand" }),
                    kv("karpenter.sh/initialized", "true"),
                    kv("karpenter.sh/registered", "true"),
                    kv("karpenter.k8s.aws/ec2nodeclass", "default"),
                    kv("karpenter.k8s.aws/instance-category", &family[..1]),
                    kv("karpenter.k8s.aws/instance-family", family),
                    kv("karpenter.k8s.aws/instance-size", size),
                    kv("karpenter.k8s.aws/instance-generation", &family.chars().filter(char::is_ascii_digit).collect::<String>()),
                    kv("node.kubernetes.io/instance-type", &itype),
                    kv("topology.kubernetes.io/zone", &zone),
                    kv("topology.kubernetes.io/region", "us-west-2"),
                ];
                (String::new(), l)
            }
        }
    }

    /// The AWS flavors name nodes by address: the `i`th of zone `zone` overall.
    fn ec2(self) -> bool {
        matches!(self, Flavor::Eks | Flavor::Karpenter)
    }
}

fn labels_of(node: &Value) -> BTreeMap<String, String> {
    node.pointer("/metadata/labels")
        .and_then(Value::as_object)
        .map(|m| m.iter().filter_map(|(k, v)| v.as_str().map(|v| (k.clone(), v.to_string()))).collect())
        .unwrap_or_default()
}

/// Replaces every string equal to an old node name with the new one, in keys' values only.
fn rename_refs(v: &mut Value, names: &HashMap<String, String>) {
    match v {
        Value::String(s) => {
            if let Some(n) = names.get(s.as_str()) {
                *s = n.clone();
            }
        }
        Value::Array(a) => a.iter_mut().for_each(|x| rename_refs(x, names)),
        Value::Object(o) => o.values_mut().for_each(|x| rename_refs(x, names)),
        _ => {}
    }
}

/// Rewrites `sc`'s nodes as `flavor` names and labels them (see the module comment).
pub fn apply(sc: &mut Scenario, flavor: Flavor) {
    let cluster = "prod";
    let is_control_plane = |l: &BTreeMap<String, String>| {
        l.contains_key("node-role.kubernetes.io/control-plane") || l.contains_key("node-role.kubernetes.io/master")
    };
    let dropped: Vec<String> = sc
        .objects
        .iter()
        .filter(|(k, o)| *k == Kind::Node && is_control_plane(&labels_of(o)))
        .filter_map(|(_, o)| o.pointer("/metadata/name").and_then(Value::as_str).map(str::to_string))
        .collect();
    sc.objects.retain(|(k, o)| !(*k == Kind::Node && is_control_plane(&labels_of(o))));
    // Pods bound to a dropped node go with it.
    sc.objects.retain(|(k, o)| {
        *k != Kind::Pod || !o.pointer("/spec/nodeName").and_then(Value::as_str).is_some_and(|n| dropped.iter().any(|d| d == n))
    });
    let mut names: HashMap<String, String> = HashMap::new();
    let mut per_slot: HashMap<(String, usize), usize> = HashMap::new();
    let mut per_zone = [0usize; 3];
    for (kind, node) in sc.objects.iter_mut().filter(|(k, _)| *k == Kind::Node) {
        debug_assert_eq!(*kind, Kind::Node);
        let old_labels = labels_of(node);
        let g = generic(&old_labels);
        // GKE counts per instance group (pool and zone), AKS per scale set (pool).
        let slot = per_slot.entry((g.pool.clone(), if flavor == Flavor::Aks { 0 } else { g.zone })).or_insert(0);
        let i = *slot;
        *slot += 1;
        let (mut name, provider) = flavor.node(&g, i, cluster);
        if flavor.ec2() {
            let region = "us-west-2";
            name = ec2_name(region, g.zone, per_zone[g.zone]);
            per_zone[g.zone] += 1;
        }
        let mut labels: serde_json::Map<String, Value> =
            old_labels.into_iter().filter(|(k, _)| !GENERIC_KEYS.contains(&k.as_str())).map(|(k, v)| (k, json!(v))).collect();
        // Generic markers the provider spells its own way.
        labels.remove("accelerator");
        for (k, v) in provider {
            labels.insert(k, json!(v));
        }
        labels.insert("kubernetes.io/hostname".into(), json!(name));
        let old = node.pointer("/metadata/name").and_then(Value::as_str).unwrap_or_default().to_string();
        node["metadata"]["labels"] = Value::Object(labels);
        node["metadata"]["name"] = json!(name);
        names.insert(old, name);
    }
    for (kind, o) in sc.objects.iter_mut().filter(|(k, _)| *k != Kind::Node) {
        let _ = kind;
        rename_refs(o, &names);
    }
    for step in &mut sc.timeline {
        match &mut step.action {
            Action::Create(_, v) => rename_refs(v, &names),
            Action::Patch { kind, name, patch, .. } => {
                if *kind == Kind::Node
                    && let Some(n) = names.get(name.as_str())
                {
                    *name = n.clone();
                }
                rename_refs(patch, &names);
            }
            Action::Join(_) => {}
            Action::Delete { kind, name, .. } => {
                if *kind == Kind::Node
                    && let Some(n) = names.get(name.as_str())
                {
                    *name = n.clone();
                }
            }
        }
    }
    sc.name = format!("{} ({} nodes)", sc.name, flavor.name());
}

#[cfg(test)]
mod tests {
    use super::*;

    fn flavored(f: Flavor) -> Scenario {
        let mut sc = super::super::generator::scenario(40, 3);
        apply(&mut sc, f);
        sc
    }

    fn nodes(sc: &Scenario) -> Vec<(String, BTreeMap<String, String>)> {
        sc.objects
            .iter()
            .filter(|(k, _)| *k == Kind::Node)
            .map(|(_, o)| (o["metadata"]["name"].as_str().unwrap().to_string(), labels_of(o)))
            .collect()
    }

    fn check(f: Flavor, pool_key: &str, name_ok: impl Fn(&str) -> bool) {
        let sc = flavored(f);
        let ns = nodes(&sc);
        assert_eq!(ns.len(), 37, "control-plane nodes are dropped");
        let unique: std::collections::HashSet<_> = ns.iter().map(|(n, _)| n).collect();
        assert_eq!(unique.len(), ns.len(), "names are unique");
        for (name, l) in &ns {
            assert!(name_ok(name), "{f:?} node name {name}");
            assert!(name.len() <= 63 && crate::k8s::labels::validate_dns1123_subdomain(name).is_empty(), "{name}");
            assert_eq!(topology::pool_of(l).map(|p| p.0), Some(pool_key), "{name}: {l:?}");
            assert!(topology::zone(l).is_some() && topology::instance_type(l).is_some(), "{name}: {l:?}");
            assert!(!l.contains_key("pool"), "{name}: no generic pool label");
            assert_eq!(l.get("kubernetes.io/hostname"), Some(name));
            for (k, v) in l {
                assert!(crate::k8s::labels::validate_label_key(k).is_empty(), "{k}");
                assert!(crate::k8s::labels::validate_label_value(v).is_empty(), "{k}={v}");
            }
        }
        // Same input, same names.
        assert_eq!(nodes(&flavored(f)), ns);
    }

    #[test]
    fn gke() {
        check(Flavor::Gke, "cloud.google.com/gke-nodepool", |n| {
            let parts: Vec<&str> = n.rsplitn(3, '-').collect();
            n.starts_with("gke-prod-") && parts[0].len() == 4 && parts[1].len() == 8
        });
        let sc = flavored(Flavor::Gke);
        assert!(nodes(&sc).iter().any(|(_, l)| l.get("cloud.google.com/gke-nodepool").is_some_and(|p| p == "default-pool")));
    }

    #[test]
    fn eks() {
        check(Flavor::Eks, "eks.amazonaws.com/nodegroup", |n| n.starts_with("ip-192-168-") && n.ends_with(".us-west-2.compute.internal"));
    }

    #[test]
    fn aks() {
        check(Flavor::Aks, "kubernetes.azure.com/agentpool", |n| n.starts_with("aks-") && n.contains("-vmss"));
        let ns = nodes(&flavored(Flavor::Aks));
        assert!(ns.iter().all(|(_, l)| l.get("agentpool") == l.get("kubernetes.azure.com/agentpool")));
        assert!(ns.iter().all(|(_, l)| topology::zone(l).is_some_and(|z| z.starts_with("eastus-"))));
    }

    #[test]
    fn karpenter() {
        check(Flavor::Karpenter, "karpenter.sh/nodepool", |n| n.ends_with(".compute.internal"));
        let ns = nodes(&flavored(Flavor::Karpenter));
        assert!(ns.iter().any(|(_, l)| l.get("karpenter.sh/capacity-type").is_some_and(|c| c == "spot")));
    }

    #[test]
    fn references_follow_the_rename() {
        let mut sc = super::super::generator::scenario(12, 1);
        let old = sc.objects.iter().find(|(k, o)| *k == Kind::Node && !labels_of(o).contains_key("node-role.kubernetes.io/control-plane"));
        let old = old.unwrap().1["metadata"]["name"].as_str().unwrap().to_string();
        let pod = json!({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p", "namespace": "default"}, "spec": {"nodeName": old, "containers": []}});
        sc.objects.push((Kind::Pod, pod));
        apply(&mut sc, Flavor::Eks);
        let pod = &sc.objects.iter().find(|(k, _)| *k == Kind::Pod).unwrap().1;
        let to = pod["spec"]["nodeName"].as_str().unwrap();
        assert!(to.starts_with("ip-"), "{to}");
        assert!(nodes(&sc).iter().any(|(n, _)| n == to));
    }
}

//! Synthetic clusters: `--nodes N --daemonsets M` builds a realistic layout — three
//! zones, a control plane, general / high-memory / spot pools, a tainted GPU pool — and
//! a realistic set of DaemonSets (kube-proxy, CNI agent on OnDelete, log collector,
//! node exporter, CSI node plugin, GPU device plugin, security agent, …).
//!
//! May import: `sim` (its `BUILTIN_NAMESPACES`), `sim::kind`, `sim::scenario`.

use serde_json::{Value, json};

use super::kind::Kind;
use super::scenario::Scenario;

pub const ZONES: [&str; 3] = ["eu-west-1a", "eu-west-1b", "eu-west-1c"];

/// (pool, share of worker nodes in ‰, extra labels, taint)
type Pool = (&'static str, u32, &'static [(&'static str, &'static str)], Option<(&'static str, &'static str, &'static str)>);

const POOLS: &[Pool] = &[
    ("general", 700, &[("node.kubernetes.io/instance-type", "m6i.2xlarge")], None),
    ("highmem", 150, &[("node.kubernetes.io/instance-type", "r6i.2xlarge"), ("disktype", "ssd")], None),
    ("spot", 100, &[("node.kubernetes.io/instance-type", "m6i.xlarge"), ("lifecycle", "spot")], None),
    (
        "gpu",
        50,
        &[("node.kubernetes.io/instance-type", "g5.2xlarge"), ("accelerator", "nvidia")],
        Some(("nvidia.com/gpu", "present", "NoSchedule")),
    ),
];

pub fn node(name: &str, zone: &str, pool: &str, extra: &[(&str, &str)], taints: &[(&str, &str, &str)]) -> Value {
    let mut labels = serde_json::Map::new();
    labels.insert("topology.kubernetes.io/zone".into(), json!(zone));
    labels.insert("topology.kubernetes.io/region".into(), json!("eu-west-1"));
    labels.insert("pool".into(), json!(pool));
    for (k, v) in extra {
        labels.insert(k.to_string(), json!(v));
    }
    let mut n = json!({"apiVersion": "v1", "kind": "Node", "metadata": {"name": name, "labels": labels}, "spec": {}});
    if !taints.is_empty() {
        n["spec"]["taints"] = json!(
            taints
                .iter()
                .map(|(k, v, e)| if v.is_empty() { json!({"key": k, "effect": e}) } else { json!({"key": k, "value": v, "effect": e}) })
                .collect::<Vec<_>>()
        );
    }
    super::scenario::registration_labels(&mut n);
    n
}

/// How many nodes of each pool a synthetic cluster of `count` nodes has, in the order
/// [`nodes`] lists them: the control plane (`"control-plane"`) first, then the worker pools.
pub fn pool_sizes(count: usize) -> Vec<(&'static str, usize)> {
    let cp = if count >= 10 { 3 } else { 0 };
    let mut out = vec![("control-plane", cp)];
    let workers = count - cp;
    let mut idx = 0usize;
    for (pi, (pool, share, _, _)) in POOLS.iter().enumerate() {
        let n =
            if pi == POOLS.len() - 1 { workers - idx } else { (workers * *share as usize / 1000).max(usize::from(workers >= POOLS.len())) };
        let n = n.min(workers - idx);
        out.push((*pool, n));
        idx += n;
    }
    out
}

/// The zone and name of the `j`th node of `pool` (as [`pool_sizes`] names it).
pub fn node_slot(pool: &str, j: usize) -> (&'static str, String) {
    if pool == "control-plane" {
        return (ZONES[j % 3], format!("control-plane-{}", j + 1));
    }
    let zone = ZONES[j % 3];
    (zone, format!("{pool}-{}-{:04}", &zone[zone.len() - 1..], j / 3 + 1))
}

/// The worker and control-plane nodes of a synthetic cluster.
pub fn nodes(count: usize) -> Vec<Value> {
    let mut out = Vec::with_capacity(count);
    for (pool, n) in pool_sizes(count) {
        for j in 0..n {
            let (zone, name) = node_slot(pool, j);
            out.push(match POOLS.iter().find(|p| p.0 == pool) {
                None => node(
                    &name,
                    zone,
                    "control-plane",
                    &[("node-role.kubernetes.io/control-plane", "")],
                    &[("node-role.kubernetes.io/control-plane", "", "NoSchedule")],
                ),
                Some((_, _, extra, taint)) => {
                    let taints: Vec<(&str, &str, &str)> = taint.iter().cloned().collect();
                    node(&name, zone, pool, extra, &taints)
                }
            });
        }
    }
    out
}

fn tolerate_all() -> Value {
    json!([{"operator": "Exists"}])
}

/// One DaemonSet manifest.
#[allow(clippy::too_many_arguments)]
pub fn daemonset(
    ns: &str,
    name: &str,
    image: &str,
    strategy: Value,
    node_selector: Option<Value>,
    tolerations: Option<Value>,
    host_network: bool,
    extra_spec: Value,
) -> Value {
    let mut pod_spec = json!({
        "containers": [{"name": name, "image": image, "resources": {"requests": {"cpu": "50m", "memory": "64Mi"}}}],
        "priorityClassName": "system-node-critical",
    });
    if let Some(s) = node_selector {
        pod_spec["nodeSelector"] = s;
    }
    if let Some(t) = tolerations {
        pod_spec["tolerations"] = t;
    }
    if host_network {
        pod_spec["hostNetwork"] = json!(true);
    }
    if let (Some(dst), Some(src)) = (pod_spec.as_object_mut(), extra_spec.as_object()) {
        for (k, v) in src {
            dst.insert(k.clone(), v.clone());
        }
    }
    json!({
        "apiVersion": "apps/v1", "kind": "DaemonSet",
        "metadata": {"name": name, "namespace": ns, "labels": {"app.kubernetes.io/name": name}},
        "spec": {
            "selector": {"matchLabels": {"app.kubernetes.io/name": name}},
            "updateStrategy": strategy,
            "template": {"metadata": {"labels": {"app.kubernetes.io/name": name}}, "spec": pod_spec},
        }
    })
}

pub fn rolling(max_unavailable: Value, max_surge: Value) -> Value {
    json!({"type": "RollingUpdate", "rollingUpdate": {"maxUnavailable": max_unavailable, "maxSurge": max_surge}})
}

/// The realistic DaemonSets, then generic agents up to `count`.
pub fn daemonsets(count: usize) -> Vec<Value> {
    let host_path = |name: &str, path: &str, ro: bool| {
        json!({
            "volumes": [{"name": name, "hostPath": {"path": path}}],
            "containers_extra": {"volumeMounts": [{"name": name, "mountPath": path, "readOnly": ro}]},
        })
    };
    let with_mounts = |mut ds: Value, extra: Value| {
        ds["spec"]["template"]["spec"]["volumes"] = extra["volumes"].clone();
        ds["spec"]["template"]["spec"]["containers"][0]["volumeMounts"] = extra["containers_extra"]["volumeMounts"].clone();
        ds
    };
    let mut out = vec![
        daemonset(
            "kube-system",
            "kube-proxy",
            "registry.k8s.io/kube-proxy:v1.32.4",
            rolling(json!("10%"), json!(0)),
            None,
            Some(tolerate_all()),
            true,
            json!({}),
        ),
        {
            let mut ds = daemonset(
                "kube-system",
                "cilium",
                "quay.io/cilium/cilium:v1.15.1",
                json!({"type": "OnDelete"}),
                None,
                Some(tolerate_all()),
                true,
                json!({}),
            );
            ds["spec"]["template"]["spec"]["containers"][0]["securityContext"] = json!({"privileged": true});
            ds
        },
        with_mounts(
            daemonset(
                "logging",
                "fluent-bit",
                "cr.fluentbit.io/fluent/fluent-bit:3.0.7",
                rolling(json!(1), json!(0)),
                None,
                Some(json!([{"key": "node-role.kubernetes.io/control-plane", "operator": "Exists", "effect": "NoSchedule"}])),
                false,
                json!({}),
            ),
            host_path("varlog", "/var/log", true),
        ),
        {
            let mut ds = with_mounts(
                daemonset(
                    "monitoring",
                    "node-exporter",
                    "quay.io/prometheus/node-exporter:v1.8.1",
                    rolling(json!(0), json!("20%")),
                    None,
                    Some(tolerate_all()),
                    true,
                    json!({"hostPID": true}),
                ),
                host_path("proc", "/proc", true),
            );
            ds["spec"]["template"]["spec"]["containers"][0]["ports"] =
                json!([{"containerPort": 9100, "hostPort": 9100, "name": "metrics"}]);
            ds
        },
        with_mounts(
            daemonset(
                "kube-system",
                "ebs-csi-node",
                "public.ecr.aws/ebs-csi-driver/aws-ebs-csi-driver:v1.31.0",
                rolling(json!("10%"), json!(0)),
                None,
                None,
                false,
                json!({}),
            ),
            host_path("kubelet-dir", "/var/lib/kubelet", false),
        ),
        daemonset(
            "kube-system",
            "nvidia-device-plugin",
            "nvcr.io/nvidia/k8s-device-plugin:v0.15.0",
            rolling(json!(1), json!(0)),
            Some(json!({"accelerator": "nvidia"})),
            Some(json!([{"key": "nvidia.com/gpu", "operator": "Exists", "effect": "NoSchedule"}])),
            false,
            json!({}),
        ),
        {
            let mut ds = daemonset(
                "security",
                "falco",
                "docker.io/falcosecurity/falco:0.38.1",
                rolling(json!(1), json!(0)),
                None,
                Some(tolerate_all()),
                false,
                json!({"hostPID": true}),
            );
            ds["spec"]["template"]["spec"]["containers"][0]["securityContext"] = json!({"privileged": true});
            ds
        },
        daemonset(
            "kube-system",
            "node-local-dns",
            "registry.k8s.io/dns/k8s-dns-node-cache:1.23.1",
            rolling(json!("10%"), json!(0)),
            None,
            Some(json!([{"key": "CriticalAddonsOnly", "operator": "Exists"}, {"effect": "NoExecute", "operator": "Exists"}])),
            true,
            json!({}),
        ),
    ];
    out.truncate(count);
    // Most fleet agents (monitoring, security, inventory) run on every node; a few are
    // pool-specific.
    let selectors = [None, None, None, Some(json!({"pool": "general"})), None, Some(json!({"disktype": "ssd"}))];
    for i in out.len()..count {
        let name = format!("agent-{:02}", i + 1);
        let sel = selectors[i % selectors.len()].clone();
        let tol = sel.is_none().then(tolerate_all);
        let image = format!("registry.example.com/agents/{name}:1.0.{i}");
        out.push(daemonset("agents", &name, &image, rolling(json!("10%"), json!(0)), sel, tol, false, json!({})));
    }
    out
}

fn namespaces_for(objs: &[Value]) -> Vec<Value> {
    let mut names: Vec<String> =
        objs.iter().filter_map(|o| o.pointer("/metadata/namespace").and_then(Value::as_str).map(String::from)).collect();
    names.sort();
    names.dedup();
    names
        .into_iter()
        .filter(|n| !super::BUILTIN_NAMESPACES.contains(&n.as_str()))
        .map(|n| json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": n}}))
        .collect()
}

/// A synthetic scenario of `nodes` nodes and `daemonsets` DaemonSets, settled.
/// The most nodes and DaemonSets `--nodes`/`--daemonsets` generate (Kubernetes supports
/// 5,000 nodes; 100,000 leaves room for tests at scale): checked before anything is
/// allocated, so `--nodes 1000000000` is one line, not an allocation failure.
pub const MAX_NODES: usize = 100_000;
pub const MAX_DAEMONSETS: usize = 1_000;

/// [`scenario`] of counts checked against [`MAX_NODES`] and [`MAX_DAEMONSETS`].
pub fn checked_scenario(nodes_n: usize, daemonsets_n: usize) -> Result<Scenario, String> {
    crate::k8s::files::count("--nodes", nodes_n, MAX_NODES)?;
    crate::k8s::files::count("--daemonsets", daemonsets_n, MAX_DAEMONSETS)?;
    Ok(scenario(nodes_n, daemonsets_n))
}

/// [`checked_scenario`] with `workloads_per_node` workload pods a node ([`add_workloads`]),
/// checked (0 to 1,000) before anything is built.
pub fn checked_scenario_with(nodes_n: usize, daemonsets_n: usize, workloads_per_node: usize) -> Result<Scenario, String> {
    if workloads_per_node > 1_000 {
        return Err(format!("--workloads-per-node {workloads_per_node} is out of range (0 to 1000)"));
    }
    let mut sc = checked_scenario(nodes_n, daemonsets_n)?;
    add_workloads(&mut sc, workloads_per_node);
    Ok(sc)
}

pub fn scenario(nodes_n: usize, daemonsets_n: usize) -> Scenario {
    let ds = daemonsets(daemonsets_n);
    let mut objects: Vec<(Kind, Value)> = namespaces_for(&ds).into_iter().map(|n| (Kind::Namespace, n)).collect();
    objects.extend(nodes(nodes_n).into_iter().map(|n| (Kind::Node, n)));
    objects.extend(ds.into_iter().map(|d| (Kind::DaemonSet, d)));
    Scenario {
        name: format!("synthetic {nodes_n} nodes × {daemonsets_n} DaemonSets"),
        registry: rollout_images(&objects),
        objects,
        ..Default::default()
    }
}

/// `scenario` with [`super::workload_gen::workloads`] averaging `per_node` pods on each
/// untainted worker node and mirror pods on the control plane (`--workloads-per-node`).
pub fn add_workloads(sc: &mut Scenario, per_node: usize) {
    let mut workers = Vec::new();
    let mut control_plane = Vec::new();
    for (k, n) in &sc.objects {
        if *k != Kind::Node {
            continue;
        }
        let name = n.pointer("/metadata/name").and_then(Value::as_str).unwrap_or("").to_string();
        if n.pointer("/metadata/labels/node-role.kubernetes.io~1control-plane").is_some() {
            control_plane.push(name);
        } else if n.pointer("/spec/taints").is_none() {
            workers.push(name);
        }
    }
    sc.objects.extend(super::workload_gen::workloads(&workers, &control_plane, per_node));
}

/// The images a synthetic cluster's rollouts move to: each DaemonSet image with `-next`
/// (the streaming generator's replayed rollout, the scale bench's), which the simulated
/// registry must have.
fn rollout_images(objects: &[(Kind, Value)]) -> Vec<String> {
    let mut out: Vec<String> = objects
        .iter()
        .filter(|(k, _)| *k == Kind::DaemonSet)
        .filter_map(|(_, d)| d.pointer("/spec/template/spec/containers/0/image").and_then(Value::as_str))
        .map(|i| format!("{i}-next"))
        .collect();
    out.dedup();
    out
}

/// The scenario as multi-document YAML: its objects, then (when it has one) a
/// `Simulation` document with its `registry:` list, so the file loads back with the same
/// images known.
pub fn to_yaml(sc: &Scenario) -> String {
    let mut out = String::new();
    for (_, o) in &sc.objects {
        out.push_str("---\n");
        out.push_str(&serde_saphyr::to_string(o).unwrap_or_default());
    }
    if !sc.registry.is_empty() {
        let doc = json!({"apiVersion": super::scenario::SIM_API_VERSION, "kind": crate::k8s::scenario::KIND, "registry": sc.registry});
        out.push_str("---\n");
        out.push_str(&serde_saphyr::to_string(&doc).unwrap_or_default());
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn layout() {
        let n = nodes(100);
        assert_eq!(n.len(), 100);
        let gpu = n.iter().filter(|n| n.pointer("/metadata/labels/pool").and_then(Value::as_str) == Some("gpu")).count();
        assert!(gpu >= 1);
        let names: std::collections::HashSet<_> = n.iter().map(|n| n["metadata"]["name"].as_str().unwrap().to_string()).collect();
        assert_eq!(names.len(), 100, "names are unique");
        assert_eq!(daemonsets(30).len(), 30);
        assert_eq!(nodes(5).len(), 5);
    }
}

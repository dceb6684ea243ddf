//! Whether a pod fits a node's resources, as kube-scheduler's `NodeResourcesFit` filter
//! decides (`pkg/scheduler/framework/plugins/noderesources/fit.go`, `fitsRequest`): the
//! node's pod count against its `pods` allocatable ("Too many pods"), then cpu, memory,
//! ephemeral-storage and every extended resource the pod asks for against allocatable
//! minus what the pods already bound to it request ("Insufficient cpu", …). A pod's
//! request is computed as `k8s.io/component-helpers/resource` `PodRequests` does: the
//! containers' sum plus the restartable (sidecar) init containers', or the largest
//! init-container step if that is more, plus the pod's `overhead`. Requests left out
//! where limits are set default to the limits, as the API server's defaulting does
//! (`pkg/apis/core/v1/defaults.go`, `SetDefaults_Pod`). Quantities are read as
//! `resource.Quantity` reads them and rounded up (`MilliValue` for cpu, `Value` else).
//!
//! Also the victims `DefaultPreemption` picks on a node ([`victims`]). Both the
//! simulator's scheduler and `daemonscope preflight` decide fit and preemption here.
//!
//! May import: nothing of ours.

use std::collections::BTreeMap;

use k8s_openapi::api::core::v1 as core;
use k8s_openapi::apimachinery::pkg::api::resource::Quantity;

/// Amounts by resource name, in the scheduler's units: millicores for `cpu`, whole units
/// (bytes, counts) for the rest.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Resources(pub BTreeMap<String, i64>);

/// A `resource.Quantity` string in units of 1/`per` (1000 for millis, 1 for whole units),
/// rounded up; None when it does not parse.
pub fn quantity(s: &str, per: i128) -> Option<i64> {
    let s = s.trim();
    let split = s.find(|c: char| !(c.is_ascii_digit() || c == '.' || c == '+' || c == '-')).unwrap_or(s.len());
    let (number, suffix) = s.split_at(split);
    let (neg, number) = match number.strip_prefix('-') {
        Some(n) => (true, n),
        None => (false, number.strip_prefix('+').unwrap_or(number)),
    };
    let (int, frac) = number.split_once('.').unwrap_or((number, ""));
    if (int.is_empty() && frac.is_empty()) || !int.chars().chain(frac.chars()).all(|c| c.is_ascii_digit()) || frac.len() > 30 {
        return None;
    }
    let mut num: i128 = format!("{int}{frac}").parse().ok()?;
    let mut den: i128 = 10i128.checked_pow(frac.len() as u32)?;
    let (base, exp): (i128, i32) = match suffix {
        "" => (10, 0),
        "n" => (10, -9),
        "u" => (10, -6),
        "m" => (10, -3),
        "k" => (10, 3),
        "M" => (10, 6),
        "G" => (10, 9),
        "T" => (10, 12),
        "P" => (10, 15),
        "E" => (10, 18),
        "Ki" => (1024, 1),
        "Mi" => (1024, 2),
        "Gi" => (1024, 3),
        "Ti" => (1024, 4),
        "Pi" => (1024, 5),
        "Ei" => (1024, 6),
        e if e.starts_with(['e', 'E']) => (10, e[1..].parse().ok()?),
        _ => return None,
    };
    let factor = base.checked_pow(exp.unsigned_abs())?;
    if exp >= 0 {
        num = num.checked_mul(factor)?;
    } else {
        den = den.checked_mul(factor)?;
    }
    let scaled = num.checked_mul(per)?;
    // Rounded up, as Quantity.ScaledValue rounds (away from zero for positives).
    let v = if neg { -(scaled / den) } else { (scaled + den - 1) / den };
    i64::try_from(v).ok()
}

/// A resource's quantity in the scheduler's unit for it.
fn amount(name: &str, q: &Quantity) -> Option<i64> {
    quantity(&q.0, if name == "cpu" { 1000 } else { 1 })
}

impl Resources {
    /// The quantities of a `requests`/`limits`/`overhead`/`allocatable` map.
    pub fn of(map: Option<&BTreeMap<String, Quantity>>) -> Resources {
        Resources(map.into_iter().flatten().filter_map(|(k, q)| Some((k.clone(), amount(k, q)?))).collect())
    }

    pub fn get(&self, name: &str) -> i64 {
        self.0.get(name).copied().unwrap_or(0)
    }

    pub fn add(&mut self, other: &Resources) {
        for (k, v) in &other.0 {
            *self.0.entry(k.clone()).or_default() += v;
        }
    }

    pub fn sub(&mut self, other: &Resources) {
        for (k, v) in &other.0 {
            *self.0.entry(k.clone()).or_default() -= v;
        }
    }

    /// Each resource at the larger of the two.
    fn max(&mut self, other: &Resources) {
        for (k, v) in &other.0 {
            let e = self.0.entry(k.clone()).or_default();
            *e = (*e).max(*v);
        }
    }
}

/// A container's requests, with limits standing in for requests it leaves out.
pub fn container_requests(requests: Option<&BTreeMap<String, Quantity>>, limits: Option<&BTreeMap<String, Quantity>>) -> Resources {
    let mut out = Resources::of(limits);
    for (k, v) in Resources::of(requests).0 {
        out.0.insert(k, v);
    }
    out
}

fn of_container(c: &core::Container) -> Resources {
    let r = c.resources.as_ref();
    container_requests(r.and_then(|r| r.requests.as_ref()), r.and_then(|r| r.limits.as_ref()))
}

/// What a pod with this spec requests of its node (`PodRequests`).
pub fn pod_requests(spec: &core::PodSpec) -> Resources {
    requests_of(
        spec.containers.iter().map(of_container),
        spec.init_containers.iter().flatten().map(|c| (of_container(c), c.restart_policy.as_deref() == Some("Always"))),
        Resources::of(spec.overhead.as_ref()),
    )
}

/// `PodRequests` from its parts: each container's requests, each init container's with
/// whether it is a sidecar (`restartPolicy: Always`), in order, and the pod's overhead.
/// For decoders that read a pod lean, without a k8s-openapi `PodSpec`.
pub fn requests_of(
    containers: impl IntoIterator<Item = Resources>,
    init_containers: impl IntoIterator<Item = (Resources, bool)>,
    overhead: Resources,
) -> Resources {
    let mut reqs = Resources::default();
    for c in containers {
        reqs.add(&c);
    }
    let mut sidecars = Resources::default();
    let mut init_max = Resources::default();
    for (mut step, sidecar) in init_containers {
        if sidecar {
            sidecars.add(&step);
            step = sidecars.clone();
        } else {
            step.add(&sidecars);
        }
        init_max.max(&step);
    }
    reqs.add(&sidecars);
    reqs.max(&init_max);
    reqs.add(&overhead);
    reqs.0.retain(|_, v| *v != 0);
    reqs
}

/// The host ports a pod spec holds, with their protocols (`TCP` when unset), as the
/// `NodePorts` filter reads them (`pkg/scheduler/framework/plugins/nodeports/node_ports.go`,
/// `getContainerPorts`): the containers' ports with a `hostPort` above 0 — a hostPort of 0
/// (or none) is no port. Init containers' ports are not read. The host IP is not
/// compared: every port is taken as bound on all addresses.
pub fn host_ports(spec: &core::PodSpec) -> Vec<(i32, String)> {
    spec.containers
        .iter()
        .flat_map(|c| c.ports.iter().flatten())
        .filter_map(|p| p.host_port.filter(|h| *h > 0).map(|h| (h, p.protocol.clone().unwrap_or_else(|| "TCP".into()))))
        .collect()
}

/// Whether a pod counts against its node for the scheduler: bound, and not finished
/// (kube-scheduler's pod informer leaves out Succeeded and Failed pods).
pub fn occupies(p: &core::Pod) -> Option<&str> {
    let phase = p.status.as_ref().and_then(|s| s.phase.as_deref());
    if matches!(phase, Some("Succeeded" | "Failed")) {
        return None;
    }
    p.spec.as_ref().and_then(|s| s.node_name.as_deref()).filter(|n| !n.is_empty())
}

/// What the pods bound to a node already take of it.
#[derive(Debug, Clone, Default)]
pub struct Used {
    pub pods: i64,
    pub requested: Resources,
}

impl Used {
    pub fn add_pod(&mut self, requests: &Resources) {
        self.pods += 1;
        self.requested.add(requests);
    }
}

/// The scheduler's reasons a pod requesting `want` does not fit a node with
/// `allocatable` and `used` (empty when it fits), in `fitsRequest`'s order.
pub fn misfits(allocatable: &Resources, used: &Used, want: &Resources) -> Vec<String> {
    let mut out = Vec::new();
    if used.pods + 1 > allocatable.get("pods") {
        out.push("Too many pods".to_string());
    }
    if want.0.values().all(|v| *v == 0) {
        return out;
    }
    let free = |name: &str| allocatable.get(name) - used.requested.get(name);
    for name in ["cpu", "memory", "ephemeral-storage"] {
        let w = want.get(name);
        if w > 0 && w > free(name) {
            out.push(format!("Insufficient {name}"));
        }
    }
    for (name, w) in &want.0 {
        if matches!(name.as_str(), "cpu" | "memory" | "ephemeral-storage" | "pods") || *w == 0 {
            continue;
        }
        if *w > free(name) {
            out.push(format!("Insufficient {name}"));
        }
    }
    out
}

/// A pod on a node, as the port and resource filters and preemption see it.
#[derive(Debug, Clone, Copy)]
pub struct Occupant<'a> {
    pub priority: i32,
    /// When it started (RFC 3339; empty when not yet): the earlier is the more important.
    pub started: &'a str,
    pub requests: &'a Resources,
    pub ports: &'a [(i32, String)],
}

/// Why a pod does not fit beside `pods`: a host port one of them holds (its index; the
/// `NodePorts` filter runs before `NodeResourcesFit`), or the resources that are short.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Misfit {
    Port(usize),
    Short(Vec<String>),
}

/// Whether a pod asking `want` and `ports` fits a node with `allocatable` beside `pods`.
pub fn check(allocatable: &Resources, pods: &[Occupant], want: &Resources, ports: &[(i32, String)]) -> Option<Misfit> {
    if let Some(i) = pods.iter().position(|p| p.ports.iter().any(|held| ports.contains(held))) {
        return Some(Misfit::Port(i));
    }
    let mut used = Used::default();
    for p in pods {
        used.add_pod(p.requests);
    }
    let short = misfits(allocatable, &used, want);
    (!short.is_empty()).then_some(Misfit::Short(short))
}

/// The victims `DefaultPreemption` picks on one node for a pod of `priority`
/// (`pkg/scheduler/framework/plugins/defaultpreemption/default_preemption.go`,
/// `SelectVictimsOnNode`): every lower-priority pod is removed; if the pod still does not
/// fit, there are none (None); else the removed pods are given back, most important first
/// (higher priority, then earlier start: `MoreImportantPod`), each kept if the pod still
/// fits, and the others are the victims (indices into `pods`, in that order).
/// PodDisruptionBudgets, which only order the reprieve, are not read.
pub fn victims(allocatable: &Resources, pods: &[Occupant], want: &Resources, ports: &[(i32, String)], priority: i32) -> Option<Vec<usize>> {
    victims_where(allocatable, pods, want, ports, priority, &|_| true)
}

/// [`victims`], where the pod also has to pass `also` beside the pods kept (indices into
/// `pods`): the other filters `SelectVictimsOnNode` runs again (`InterPodAffinity`).
pub fn victims_where(
    allocatable: &Resources,
    pods: &[Occupant],
    want: &Resources,
    ports: &[(i32, String)],
    priority: i32,
    also: &dyn Fn(&[usize]) -> bool,
) -> Option<Vec<usize>> {
    let (mut keep, mut lower): (Vec<usize>, Vec<usize>) = (0..pods.len()).partition(|i| pods[*i].priority >= priority);
    let fits = |idx: &[usize]| check(allocatable, &idx.iter().map(|i| pods[*i]).collect::<Vec<_>>(), want, ports).is_none() && also(idx);
    if lower.is_empty() || !fits(&keep) {
        return None;
    }
    lower.sort_by(|a, b| {
        let (a, b) = (&pods[*a], &pods[*b]);
        b.priority.cmp(&a.priority).then_with(|| (a.started.is_empty(), a.started).cmp(&(b.started.is_empty(), b.started)))
    });
    let mut out = Vec::new();
    for i in lower {
        keep.push(i);
        if !fits(&keep) {
            keep.pop();
            out.push(i);
        }
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quantities_read_as_resource_quantity_reads_them() {
        assert_eq!(quantity("100m", 1000), Some(100));
        assert_eq!(quantity("0.5", 1000), Some(500));
        assert_eq!(quantity("2", 1000), Some(2000));
        assert_eq!(quantity("1.5Gi", 1), Some(1_610_612_736));
        assert_eq!(quantity("128Mi", 1), Some(134_217_728));
        assert_eq!(quantity("1G", 1), Some(1_000_000_000));
        assert_eq!(quantity("32863412Ki", 1), Some(33_652_133_888));
        assert_eq!(quantity("1e3", 1), Some(1000));
        // Rounded up: 1m of memory is one byte, 1n of cpu one millicore.
        assert_eq!(quantity("1m", 1), Some(1));
        assert_eq!(quantity("1n", 1000), Some(1));
        assert_eq!(quantity("x", 1), None);
        assert_eq!(quantity("1Qi", 1), None);
        assert_eq!(quantity("", 1), None);
    }

    fn container(req: &[(&str, &str)], lim: &[(&str, &str)]) -> core::Container {
        let m = |kv: &[(&str, &str)]| Some(kv.iter().map(|(k, v)| (k.to_string(), Quantity(v.to_string()))).collect());
        core::Container {
            resources: Some(core::ResourceRequirements { requests: m(req), limits: m(lim), ..Default::default() }),
            ..Default::default()
        }
    }

    #[test]
    fn pod_requests_count_init_containers_sidecars_and_overhead() {
        let mut sidecar = container(&[("cpu", "50m")], &[]);
        sidecar.restart_policy = Some("Always".into());
        let spec = core::PodSpec {
            containers: vec![container(&[("cpu", "100m")], &[]), container(&[], &[("cpu", "200m"), ("memory", "64Mi")])],
            init_containers: Some(vec![sidecar, container(&[("cpu", "1"), ("memory", "16Mi")], &[])]),
            overhead: Some([("cpu".to_string(), Quantity("10m".into()))].into()),
            ..Default::default()
        };
        // Containers 300m + sidecar 50m = 350m; the init step is 1 + 50m = 1050m, the larger;
        // memory: 64Mi (containers) over 16Mi (init); plus 10m overhead.
        let r = pod_requests(&spec);
        assert_eq!(r.get("cpu"), 1060);
        assert_eq!(r.get("memory"), 64 * 1024 * 1024);
    }

    #[test]
    fn misfits_in_the_schedulers_order_and_words() {
        let alloc = Resources([("cpu".into(), 1000), ("memory".into(), 1000), ("pods".into(), 2), ("nvidia.com/gpu".into(), 1)].into());
        let mut used = Used::default();
        used.add_pod(&Resources([("cpu".into(), 900)].into()));
        used.add_pod(&Resources::default());
        let want = Resources([("cpu".into(), 200), ("memory".into(), 10), ("nvidia.com/gpu".into(), 2)].into());
        assert_eq!(misfits(&alloc, &used, &want), ["Too many pods", "Insufficient cpu", "Insufficient nvidia.com/gpu"]);
        assert!(misfits(&alloc, &Used::default(), &Resources([("cpu".into(), 1000)].into())).is_empty());
    }

    #[test]
    fn preemption_gives_back_the_most_important_pods_first() {
        let alloc = Resources([("cpu".into(), 1000), ("pods".into(), 110)].into());
        let r = |cpu| Resources([("cpu".to_string(), cpu)].into());
        let (a, b, c, d) = (r(300), r(300), r(300), r(100));
        let pods = [
            Occupant { priority: 0, started: "2025-01-01T00:00:00Z", requests: &a, ports: &[] },
            Occupant { priority: 0, started: "2025-01-02T00:00:00Z", requests: &b, ports: &[] },
            Occupant { priority: 100, started: "2025-01-01T00:00:00Z", requests: &c, ports: &[] },
            Occupant { priority: 2000, started: "2025-01-01T00:00:00Z", requests: &d, ports: &[] },
        ];
        // 500m wanted, none free: without the three lower pods 900m is free; the
        // priority-100 pod is given back (600m left), then neither priority-0 one can be.
        assert_eq!(victims(&alloc, &pods, &r(500), &[], 1000), Some(vec![0, 1]));
        // 300m: the earlier-started priority-0 pod is given back too; the later one goes.
        assert_eq!(victims(&alloc, &pods, &r(300), &[], 1000), Some(vec![1]));
        // Nothing lower, or not enough even without every lower pod: no victims.
        assert_eq!(victims(&alloc, &pods, &r(300), &[], 0), None);
        assert_eq!(victims(&alloc, &pods, &r(950), &[], 1000), None);
    }
}

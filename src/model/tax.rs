//! The DaemonSet tax: what the daemon pods on a node request of it (cpu and memory, as
//! the scheduler counts each pod: `k8s::fit::pod_requests`), per DaemonSet and in all,
//! and that as a share of the node's allocatable. Derived on demand from the store.
//!
//! A pod counts as kube-scheduler counts it against its node (`k8s::fit::occupies`):
//! bound to the node and not finished (Succeeded or Failed).
//!
//! May import: `model::index`, `model::compact`.

use super::compact::{CpuMem, DsInfo, PodInfo};
use super::index::{Model, NodeId};

fn occupies(p: &PodInfo) -> bool {
    p.bound && !matches!(&*p.phase, "Succeeded" | "Failed")
}

impl Model {
    /// What the daemon pods bound to the node request of it, in all.
    pub fn daemon_requests(&self, node: NodeId) -> CpuMem {
        let mut sum = CpuMem::default();
        for p in self.daemon_pods_on(node).into_iter().filter(|p| occupies(p)) {
            sum.add(p.requests);
        }
        sum
    }

    /// The DaemonSet tax of a node in percent (rounded up): its daemon pods' requests over
    /// its allocatable, the worse of cpu and memory. None when the node reports no
    /// allocatable.
    pub fn daemon_tax(&self, node: NodeId) -> Option<u64> {
        self.daemon_requests(node).percent_of(self.node(node)?.allocatable)
    }

    /// Each DaemonSet's requests on the node (its pods there summed; a surge can put two
    /// there), in the order of [`Model::daemonsets`]; pods whose DaemonSet is not known
    /// are left out.
    pub fn daemon_requests_by_ds(&self, node: NodeId) -> Vec<(&DsInfo, CpuMem)> {
        let pods: Vec<&PodInfo> = self.daemon_pods_on(node).into_iter().filter(|p| occupies(p)).collect();
        self.daemonsets()
            .filter_map(|d| {
                let mine: Vec<&&PodInfo> = pods.iter().filter(|p| &*p.owner_uid == d.uid.as_str()).collect();
                if mine.is_empty() {
                    return None;
                }
                let mut sum = CpuMem::default();
                for p in mine {
                    sum.add(p.requests);
                }
                Some((d, sum))
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::super::fixtures;
    use super::super::index::Change;
    use super::*;

    #[test]
    fn the_tax_is_the_worse_of_cpu_and_memory_over_allocatable() {
        let mut m = Model::default();
        m.apply(Change::Node(fixtures::node("n1").with_allocatable(4000, 8 << 30)));
        m.apply(Change::Node(fixtures::node("bare")));
        let (a, b) = (fixtures::daemonset("kube-system", "a"), fixtures::daemonset("kube-system", "b"));
        m.apply(Change::DaemonSet(a.clone()));
        m.apply(Change::DaemonSet(b.clone()));
        m.apply(Change::Pod(fixtures::pod(&a, "n1", "a1").requesting(500, 1 << 30)));
        m.apply(Change::Pod(fixtures::pod(&b, "n1", "b1").requesting(100, 3 << 30)));
        // Finished, or not bound: no room taken.
        let mut done = fixtures::pod(&b, "n1", "b0").requesting(1000, 0);
        done.phase = "Succeeded".into();
        m.apply(Change::Pod(done));
        let n1 = m.node_id("n1").unwrap();
        assert_eq!(m.daemon_requests(n1), CpuMem { cpu_m: 600, mem: 4 << 30 });
        // cpu 15 %, memory 50 %: the worse.
        assert_eq!(m.daemon_tax(n1), Some(50));
        let by: Vec<(&str, u64)> = m.daemon_requests_by_ds(n1).iter().map(|(d, r)| (d.name.as_str(), r.cpu_m)).collect();
        assert_eq!(by, [("a", 500), ("b", 100)]);
        assert_eq!(m.daemon_tax(m.node_id("bare").unwrap()), None);
    }
}

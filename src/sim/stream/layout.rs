//! Where each node and daemon pod of a generated cluster sits in its list, and the names,
//! uids and addresses of each copy (a pure function of its position).
//!
//! May import: `sim::generator`.

use crate::sim::generator;

/// The node pools of a synthetic cluster, in list order.
pub struct Layout {
    /// (pool, nodes in it), the control plane first, as the generator lays them out.
    pub pools: Vec<(&'static str, usize)>,
    /// The index of each pool's first node.
    starts: Vec<usize>,
    pub nodes: usize,
}

impl Layout {
    pub fn new(nodes: usize) -> Layout {
        let pools = generator::pool_sizes(nodes);
        let starts = pools.iter().scan(0, |at, (_, n)| Some(std::mem::replace(at, *at + n))).collect();
        Layout { pools, starts, nodes }
    }

    /// The name of pool `p`'s `j`th node.
    pub fn node_name(&self, p: usize, j: usize) -> String {
        generator::node_slot(self.pools[p].0, j).1
    }

    /// The first node of pool `p` in zone `z` (the zone is the node's index modulo 3).
    pub fn first_in_zone(&self, p: usize, z: usize) -> Option<usize> {
        (self.pools[p].1 > z).then_some(z)
    }

    /// Pool and index in it of the cluster's `i`th node.
    pub fn node_at(&self, i: usize) -> (usize, usize) {
        let p = self.starts.partition_point(|s| *s <= i) - 1;
        (p, i - self.starts[p])
    }

    /// The nodes of the pools where `runs` says a DaemonSet runs.
    pub fn pods_of<T>(&self, runs: &[Option<T>]) -> usize {
        self.pools.iter().zip(runs).filter(|(_, r)| r.is_some()).map(|(p, _)| p.1).sum()
    }

    /// The `k`th node (in list order) of the pools where `runs` says a DaemonSet runs.
    pub fn kth_node<T>(&self, runs: &[Option<T>], mut k: usize) -> Option<(usize, usize)> {
        for (p, ((_, n), r)) in self.pools.iter().zip(runs).enumerate() {
            if r.is_none() {
                continue;
            }
            if k < *n {
                return Some((p, k));
            }
            k -= n;
        }
        None
    }

    /// The cluster's index of pool `p`'s `j`th node.
    pub fn index(&self, p: usize, j: usize) -> usize {
        self.starts[p] + j
    }
}

/// A uid in the simulator's format, from a number outside the range it hands out.
pub fn uid(n: u64) -> String {
    format!("5d1e{:04x}-{:04x}-4{:03x}-8{:03x}-{:012x}", (n >> 48) & 0xffff, (n >> 32) & 0xffff, (n >> 20) & 0xfff, (n >> 8) & 0xfff, n)
}

pub fn node_uid(i: usize) -> String {
    uid((1 << 41) | i as u64)
}

pub fn pod_uid(d: usize, i: usize) -> String {
    uid((1 << 40) | ((d as u64) << 20) | i as u64)
}

/// A pod's name as the controller's generateName makes it: the DaemonSet's name and five
/// characters of `utilrand`'s alphabet, distinct for every node of the DaemonSet.
pub fn pod_name(ds: &str, d: usize, i: usize) -> String {
    const ALPHANUMS: &[u8] = b"bcdfghjklmnpqrstvwxz2456789";
    // 27^5 suffixes; i ↦ i·7919 + c is one-to-one modulo 27^5 (7919 is prime, not 3).
    const M: u64 = 27u64.pow(5);
    let mut x = (i as u64 * 7919 + d as u64 * 104_729) % M;
    let mut s = [0u8; 5];
    for c in s.iter_mut().rev() {
        *c = ALPHANUMS[(x % 27) as usize];
        x /= 27;
    }
    format!("{ds}-{}", std::str::from_utf8(&s).expect("ascii"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn positions_match_the_generator() {
        let l = Layout::new(200);
        let names: Vec<String> = generator::nodes(200).iter().map(|n| n["metadata"]["name"].as_str().unwrap().to_string()).collect();
        for (i, name) in names.iter().enumerate() {
            let (p, j) = l.node_at(i);
            assert_eq!(&l.node_name(p, j), name);
            assert_eq!(l.index(p, j), i);
        }
        let runs = [None, Some(()), None, Some(()), Some(())];
        let total = l.pods_of(&runs);
        assert_eq!(total, l.pools[1].1 + l.pools[3].1 + l.pools[4].1);
        assert_eq!(l.kth_node(&runs, 0), Some((1, 0)));
        assert_eq!(l.kth_node(&runs, l.pools[1].1), Some((3, 0)));
        assert_eq!(l.kth_node(&runs, total), None);
        let pods: std::collections::HashSet<String> = (0..65_000).map(|i| pod_name("a", 3, i)).collect();
        assert_eq!(pods.len(), 65_000, "pod names are distinct");
    }
}

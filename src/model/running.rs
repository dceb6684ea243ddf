//! What runs, per DaemonSet: the image sets of its Ready pods, counted (a DaemonSet's
//! pods run one or two image sets, so this stays a few entries however many nodes). The
//! index keeps it as pods come and go, so the fleet compares what runs without walking
//! pods on every frame.
//! May import: `compact`.

use std::collections::{BTreeMap, HashMap};

use super::compact::PodInfo;

#[derive(Debug, Default)]
pub struct Running {
    /// DaemonSet uid → images of a Ready pod (sorted, joined with ", ") → how many pods.
    by_ds: HashMap<String, BTreeMap<String, u32>>,
}

/// The images a Ready pod runs, as one key (None: not ready, or no container).
fn key(p: &PodInfo) -> Option<String> {
    if !p.ready || p.containers.is_empty() {
        return None;
    }
    let mut images: Vec<&str> = p.containers.iter().map(|c| &*c.image).collect();
    images.sort_unstable();
    images.dedup();
    Some(images.join(", "))
}

impl Running {
    /// A pod appeared (`add`) or went (`!add`).
    pub fn count(&mut self, p: &PodInfo, add: bool) {
        let Some(k) = key(p) else { return };
        let per = self.by_ds.entry(p.owner_uid.to_string()).or_default();
        if add {
            *per.entry(k).or_default() += 1;
        } else if let Some(n) = per.get_mut(&k) {
            *n = n.saturating_sub(1);
            if *n == 0 {
                per.remove(&k);
            }
        }
    }

    /// The image sets Ready pods of the DaemonSet `uid` run, sorted.
    pub fn of(&self, uid: &str) -> Vec<String> {
        self.by_ds.get(uid).map(|m| m.keys().cloned().collect()).unwrap_or_default()
    }

    pub fn forget(&mut self, uid: &str) {
        self.by_ds.remove(uid);
    }
}

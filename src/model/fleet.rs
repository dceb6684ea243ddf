//! The fleet: the same DaemonSets across several clusters, derived (pure) from each
//! cluster's [`Model`] and how far it has been observed. One row per namespace/name,
//! one cell per cluster with its coverage (ready and up to date, + old but serving, / desired) and worst
//! health; rows whose clusters run different images (the images of their Ready pods) are
//! marked as version skew, and rows whose templates differ while the same images still
//! run as a template change not rolled out. Nothing here knows how a cluster is watched: the caller says, per
//! cluster, whether its data can be shown ([`Reach`]).
//!
//! May import: `model::index`, `model::coverage`, `model::compact`.

use std::collections::{BTreeMap, BTreeSet};

use super::compact::DsInfo;
use super::coverage::{CellState, Health};
use super::index::Model;

/// How far a cluster has been observed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reach {
    /// Every watch is live.
    Live,
    /// The first lists are not complete yet: nothing to show.
    Syncing,
    /// Synced once, and a watch is failing now: the data shown may be out of date.
    Stale(String),
    /// Never synced, and the server cannot be reached (why).
    Unreachable(String),
    /// The server refuses (401/403, or a failure waiting cannot fix): why.
    Forbidden(String),
}

impl Reach {
    /// Whether the cluster's model is worth showing.
    pub fn shows_data(&self) -> bool {
        matches!(self, Reach::Live | Reach::Stale(_))
    }

    /// One word for a column or a cell.
    pub fn word(&self) -> &'static str {
        match self {
            Reach::Live => "live",
            Reach::Syncing => "syncing",
            Reach::Stale(_) => "stale",
            Reach::Unreachable(_) => "unreachable",
            Reach::Forbidden(_) => "forbidden",
        }
    }

    /// Why, when something is wrong.
    pub fn reason(&self) -> Option<&str> {
        match self {
            Reach::Stale(r) | Reach::Unreachable(r) | Reach::Forbidden(r) => Some(r),
            Reach::Live | Reach::Syncing => None,
        }
    }
}

/// One cluster as the fleet reads it.
pub struct Member<'a> {
    pub context: &'a str,
    pub reach: Reach,
    pub model: &'a Model,
    /// The one namespace watched there (None: all): DaemonSets of other namespaces are
    /// not known to be absent, only not watched.
    pub namespace: Option<&'a str>,
}

/// One DaemonSet in one cluster.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FleetCell {
    /// The cluster cannot say (its column's [`Reach`] says why).
    Unknown,
    /// Observed: the cluster has no such DaemonSet.
    Absent,
    /// Its namespace is not watched in that cluster (`:ns` narrowed it).
    OutOfScope,
    Present(Present),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Present {
    /// Nodes with a ready, up-to-date pod.
    pub ready_up_to_date: u32,
    /// Nodes with a ready pod of an old revision (still serving, not yet updated).
    pub ready_outdated: u32,
    /// Nodes that should run it (the controller's desired nodes).
    pub desired: u32,
    pub health: Health,
    /// Its containers' images (the template's).
    pub images: Vec<String>,
    /// The image sets its Ready pods run (what runs; kept by the model as pods change).
    pub running: Vec<String>,
    /// The current revision's `controller-revision-hash` (a hash of the pod template).
    pub template: Option<String>,
}

impl Present {
    fn of(model: &Model, d: &DsInfo) -> Present {
        let (ready_up_to_date, ready_outdated, desired, health) = match model.coverage(d) {
            Some(c) => (c.count(CellState::Ready), c.count(CellState::Outdated), c.eligible(), Health::of(&c.counts, &d.strategy)),
            None => (0, 0, 0, Health::Ok),
        };
        let mut images = d.images.clone();
        images.sort();
        let running = model.running_images(d);
        Present { ready_up_to_date, ready_outdated, desired, health, images, running, template: d.current_hash.clone() }
    }

    /// `new+old/desired` (`new/desired` when no old pod serves), as the coverage bar says it.
    pub fn counts(&self) -> String {
        if self.ready_outdated > 0 {
            format!("{}+{}/{}", self.ready_up_to_date, self.ready_outdated, self.desired)
        } else {
            format!("{}/{}", self.ready_up_to_date, self.desired)
        }
    }
}

/// How the clusters of a row differ.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Skew {
    None,
    /// The clusters' Ready pods run different images.
    Running,
    /// The same images run everywhere, but the templates differ (their images or their
    /// revision hash): a change not rolled out (yet) where it differs.
    Template,
}

impl Skew {
    /// What the fleet table says.
    pub fn word(self) -> &'static str {
        match self {
            Skew::None => "",
            Skew::Running => "≠ image (running)",
            Skew::Template => "template changed, not rolled out",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FleetRow {
    pub namespace: String,
    pub name: String,
    /// One per cluster, in the order of [`Fleet::columns`].
    pub cells: Vec<FleetCell>,
    pub skew: Skew,
}

impl FleetRow {
    /// The worst health over the clusters that run it (None: none observed runs it).
    pub fn worst(&self) -> Option<Health> {
        self.cells.iter().filter_map(|c| if let FleetCell::Present(p) = c { Some(p.health) } else { None }).min_by_key(|h| h.rank())
    }

    /// Clusters (indexes) that were observed and lack it.
    pub fn missing_in(&self) -> impl Iterator<Item = usize> + '_ {
        self.cells.iter().enumerate().filter(|(_, c)| **c == FleetCell::Absent).map(|(i, _)| i)
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Column {
    pub context: String,
    pub reach: Reach,
    pub daemonsets: usize,
    pub nodes: usize,
}

/// The fleet table.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Fleet {
    pub columns: Vec<Column>,
    /// Sorted by namespace, then name.
    pub rows: Vec<FleetRow>,
}

impl Fleet {
    /// Rows with version skew.
    pub fn skewed(&self) -> usize {
        self.rows.iter().filter(|r| r.skew != Skew::None).count()
    }
}

/// The fleet of `members`, in their order.
pub fn fleet(members: &[Member<'_>]) -> Fleet {
    let mut rows: BTreeMap<(String, String), Vec<FleetCell>> = BTreeMap::new();
    let n = members.len();
    for (i, m) in members.iter().enumerate() {
        if !m.reach.shows_data() {
            continue;
        }
        for d in m.model.daemonsets() {
            let cells = rows.entry((d.namespace.clone(), d.name.clone())).or_insert_with(|| vec![FleetCell::Unknown; n]);
            cells[i] = FleetCell::Present(Present::of(m.model, d));
        }
    }
    let rows = rows
        .into_iter()
        .map(|((namespace, name), mut cells)| {
            for (i, m) in members.iter().enumerate() {
                if m.namespace.is_some_and(|n| n != namespace) {
                    cells[i] = FleetCell::OutOfScope;
                } else if m.reach.shows_data() && cells[i] == FleetCell::Unknown {
                    cells[i] = FleetCell::Absent;
                }
            }
            let skew = skew(&cells);
            FleetRow { namespace, name, cells, skew }
        })
        .collect();
    let columns = members
        .iter()
        .map(|m| {
            let shown = m.reach.shows_data();
            Column {
                context: m.context.to_string(),
                reach: m.reach.clone(),
                daemonsets: if shown { m.model.daemonsets().count() } else { 0 },
                nodes: if shown { m.model.node_count() } else { 0 },
            }
        })
        .collect();
    Fleet { columns, rows }
}

fn skew(cells: &[FleetCell]) -> Skew {
    let present: Vec<&Present> = cells.iter().filter_map(|c| if let FleetCell::Present(p) = c { Some(p) } else { None }).collect();
    // What runs: clusters where no pod is Ready run nothing to compare.
    let running: BTreeSet<&Vec<String>> = present.iter().map(|p| &p.running).filter(|r| !r.is_empty()).collect();
    if running.len() > 1 {
        return Skew::Running;
    }
    let images: BTreeSet<&Vec<String>> = present.iter().map(|p| &p.images).collect();
    if images.len() > 1 {
        return Skew::Template;
    }
    // Only templates every cluster reports can be compared (revisions may not be watched).
    let templates: Option<BTreeSet<&String>> = present.iter().map(|p| p.template.as_ref()).collect();
    match templates {
        Some(t) if t.len() > 1 => Skew::Template,
        _ => Skew::None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ds(name: &str, image: &str, hash: &str) -> DsInfo {
        DsInfo {
            namespace: "kube-system".into(),
            name: name.into(),
            uid: format!("{name}-{image}"),
            images: vec![image.into()],
            current_hash: Some(hash.into()),
            ..DsInfo::default()
        }
    }

    /// A model of `dss`, each with its newest ControllerRevision carrying its hash (the
    /// model takes a DaemonSet's current hash from its revisions).
    fn model(dss: Vec<DsInfo>) -> Model {
        let mut m = Model::new();
        for d in dss {
            if let Some(hash) = d.current_hash.clone() {
                m.apply(crate::model::Change::Revision(crate::model::RevisionInfo {
                    namespace: d.namespace.clone(),
                    name: format!("{}-{hash}", d.name),
                    owner_uid: d.uid.clone(),
                    revision: 1,
                    hash,
                    created: None,
                    template: Default::default(),
                }));
            }
            m.apply(crate::model::Change::DaemonSet(d));
        }
        m
    }

    #[test]
    fn rows_union_the_clusters_and_unobserved_ones_stay_unknown() {
        let a = model(vec![ds("cilium", "cilium:1.15", "h1"), ds("falco", "falco:0.38", "f1")]);
        let b = model(vec![ds("cilium", "cilium:1.14", "h0")]);
        let c = model(vec![ds("cilium", "cilium:1.15", "h1")]);
        let f = fleet(&[
            Member { context: "a", reach: Reach::Live, model: &a, namespace: None },
            Member { context: "b", reach: Reach::Stale("429".into()), model: &b, namespace: None },
            Member { context: "c", reach: Reach::Unreachable("connection refused".into()), model: &c, namespace: None },
        ]);
        assert_eq!(f.rows.iter().map(|r| r.name.as_str()).collect::<Vec<_>>(), ["cilium", "falco"]);
        let cilium = &f.rows[0];
        assert!(matches!(&cilium.cells[0], FleetCell::Present(p) if p.images == ["cilium:1.15"]));
        assert!(matches!(&cilium.cells[1], FleetCell::Present(p) if p.images == ["cilium:1.14"]), "stale data is still shown");
        assert_eq!(cilium.cells[2], FleetCell::Unknown, "an unreachable cluster's model is not read");
        assert_eq!(cilium.skew, Skew::Template, "no pod runs: only the templates differ");
        let falco = &f.rows[1];
        assert_eq!(falco.cells[1], FleetCell::Absent);
        assert_eq!(falco.missing_in().collect::<Vec<_>>(), [1]);
        assert_eq!(falco.skew, Skew::None);
        assert_eq!((f.columns[2].daemonsets, f.columns[0].daemonsets), (0, 2));
        assert_eq!(f.skewed(), 1);
        // A cluster watching one namespace does not call the others' DaemonSets absent.
        let f = fleet(&[
            Member { context: "a", reach: Reach::Live, model: &a, namespace: None },
            Member { context: "b", reach: Reach::Live, model: &b, namespace: Some("logging") },
        ]);
        assert_eq!((&f.rows[1].cells[1], f.rows[1].missing_in().count()), (&FleetCell::OutOfScope, 0));
    }

    #[test]
    fn the_same_images_with_another_template_is_template_skew() {
        let a = model(vec![ds("cilium", "cilium:1.15", "h1")]);
        let b = model(vec![ds("cilium", "cilium:1.15", "h2")]);
        let mut no_hash = ds("cilium", "cilium:1.15", "x");
        no_hash.current_hash = None;
        let c = model(vec![no_hash]);
        let m = |ctx, model| Member { context: ctx, reach: Reach::Live, model, namespace: None };
        assert_eq!(fleet(&[m("a", &a), m("b", &b)]).rows[0].skew, Skew::Template);
        assert_eq!(fleet(&[m("a", &a), m("a2", &a)]).rows[0].skew, Skew::None);
        assert_eq!(fleet(&[m("a", &a), m("c", &c)]).rows[0].skew, Skew::None, "an unknown template compares with nothing");
    }
}

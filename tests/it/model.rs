//! The compact model's incremental coverage, per-node counts, problem order and the
//! nodes a rolling update counts as unavailable equal a from-scratch recount after any
//! sequence of watch events.

use daemonscope::model::coverage::CellState;
use daemonscope::model::{Change, DsInfo, Model, NodeId, NodeInfo, PodInfo, Resource, Time, fixtures, rollout};
use proptest::prelude::*;
use proptest::test_runner::RngSeed;

const POOLS: [&str; 3] = ["general", "gpu", "spot"];

fn node(i: u8, pool: u8, tainted: bool, ready: bool) -> NodeInfo {
    let n = fixtures::node(&format!("n{i}")).with_label("pool", POOLS[pool as usize % 3]).with_ready(Some(ready));
    if tainted { n.with_taint("dedicated", "x", "NoSchedule") } else { n }
}

/// The moment unavailability is judged at (pods became Ready shortly or long before it).
fn t0() -> jiff::Timestamp {
    jiff::Timestamp::from_second(1_800_000_000).unwrap()
}

fn ds(i: u8, selector: Option<u8>, generation: u8) -> DsInfo {
    let mut d = fixtures::daemonset("ns", &format!("ds{i}")).at_generation(generation.into());
    d.uid = format!("ds-uid-{i}");
    // Some with minReadySeconds, so pods Ready only briefly are not yet available.
    d.min_ready_seconds = if generation == 2 { 30 } else { 0 };
    match selector {
        Some(p) => d.with_node_selector("pool", POOLS[p as usize % 3]),
        None => d,
    }
}

/// `shape`: bit 0 crash-looping, bit 1 deleting, bit 2 Succeeded, bits 3–4 Ready since
/// (none, 5 s or 60 s before [`t0`]).
fn pod(uid: u8, ds_i: u8, node: u8, generation: u8, ready: bool, shape: u8) -> PodInfo {
    let mut p = fixtures::pod(&ds(ds_i, None, generation), &format!("n{node}"), &format!("pod-{uid}"));
    if shape & 1 != 0 {
        p = p.waiting("CrashLoopBackOff", 0);
    }
    p.ready = ready;
    p.containers[0].ready = ready;
    if shape & 4 != 0 {
        p.phase = "Succeeded".into();
    }
    p.ready_changed = match (shape >> 3) & 3 {
        1 => Time::new(Some(t0() - jiff::SignedDuration::from_secs(5))),
        2 => Time::new(Some(t0() - jiff::SignedDuration::from_secs(60))),
        _ => Time::NONE,
    };
    if shape & 2 != 0 { p.deleting() } else { p }
}

/// A ControllerRevision of ds1.
fn rev(name: &str, revision: i64, hash: &str) -> daemonscope::model::RevisionInfo {
    daemonscope::model::RevisionInfo {
        namespace: "ns".into(),
        name: name.into(),
        owner_uid: "ds-uid-1".into(),
        revision,
        hash: hash.into(),
        created: None,
        template: Default::default(),
    }
}

fn change() -> impl Strategy<Value = Change> {
    prop_oneof![
        (0u8..8, 0u8..3, any::<bool>(), any::<bool>()).prop_map(|(i, p, t, r)| Change::Node(node(i, p, t, r))),
        (0u8..8).prop_map(|i| Change::NodeGone(format!("n{i}"))),
        (0u8..3, prop::option::of(0u8..3), 1u8..3).prop_map(|(i, s, g)| Change::DaemonSet(ds(i, s, g))),
        (0u8..3).prop_map(|i| Change::DaemonSetGone { namespace: "ns".into(), name: format!("ds{i}") }),
        (0u8..24, 0u8..3, 0u8..8, 1u8..3, any::<bool>(), 0u8..32).prop_map(|(u, d, n, g, r, shape)| Change::Pod(pod(u, d, n, g, r, shape))),
        (0u8..24).prop_map(|u| Change::PodGone { uid: format!("pod-{u}") }),
        Just(Change::ResyncStart(Resource::Pods)),
        Just(Change::ResyncDone(Resource::Pods)),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 200, failure_persistence: None, rng_seed: RngSeed::Fixed(16), ..ProptestConfig::default() })]

    #[test]
    fn incremental_coverage_equals_a_recount(changes in prop::collection::vec(change(), 1..80)) {
        let mut m = Model::new();
        for c in changes {
            m.apply(c);
            for d in m.daemonsets().cloned().collect::<Vec<_>>() {
                let inc = m.coverage(&d).cloned().unwrap_or_default();
                let fresh = m.recount(&d);
                prop_assert_eq!(inc.counts, fresh.counts, "counts of {}", d.name);
                prop_assert_eq!(inc.eligible(), fresh.eligible(), "desired nodes of {}", d.name);
                for (id, _) in m.nodes() {
                    let a = inc.cells.get(id as usize).copied().unwrap_or(CellState::Absent);
                    let b = fresh.cells.get(id as usize).copied().unwrap_or(CellState::Absent);
                    prop_assert_eq!(a, b, "cell of {} on node {}", d.name, id);
                }
                // The unavailable nodes, kept as cells change, equal a recount, and a
                // node-by-node count as the controller's rollingUpdate does it.
                prop_assert_eq!(&inc.holds, &fresh.holds, "held nodes of {}", d.name);
                let walked: Vec<NodeId> = rollout::unavailable_now(&m, &d, t0()).into_iter().map(|(id, _)| id).collect();
                prop_assert_eq!(rollout::unavailable_count(&m, &d, t0()), walked.len(), "unavailable count of {}", d.name);
                let named: Vec<NodeId> = rollout::unavailable_named(&m, &d, t0(), usize::MAX).into_iter().map(|(id, _)| id).collect();
                prop_assert_eq!(named, walked, "unavailable nodes of {}", d.name);
            }
            // Per node, over every DaemonSet: the kept counts equal a recount, and the
            // kept problem order equals sorting the live nodes by those counts, then name.
            let mut sorted: Vec<(NodeId, String)> = Vec::new();
            for (id, n) in m.nodes() {
                prop_assert_eq!(m.node_daemons(id), m.recount_node_daemons(id), "daemons on node {}", n.name);
                sorted.push((id, n.name.clone()));
            }
            sorted.sort_by(|a, b| m.recount_node_daemons(a.0).rank().cmp(&m.recount_node_daemons(b.0).rank()).then_with(|| a.1.cmp(&b.1)));
            let kept: Vec<NodeId> = m.nodes_by_problems().map(|(id, _)| id).collect();
            prop_assert_eq!(kept, sorted.into_iter().map(|(id, _)| id).collect::<Vec<_>>(), "problem order");
        }
    }
}

#[test]
fn a_resync_drops_what_was_not_seen_again() {
    let mut m = Model::new();
    m.apply(Change::Node(node(0, 0, false, true)));
    m.apply(Change::DaemonSet(ds(0, None, 1)));
    m.apply(Change::Pod(pod(1, 0, 0, 1, true, 0)));
    m.apply(Change::Pod(pod(2, 0, 0, 1, true, 0)));
    m.apply(Change::ResyncStart(Resource::Pods));
    m.apply(Change::Pod(pod(1, 0, 0, 1, true, 0)));
    m.apply(Change::ResyncDone(Resource::Pods));
    assert_eq!(m.pod_count(), 1);
    let d = m.daemonsets().next().unwrap().clone();
    assert_eq!(m.coverage(&d).unwrap().count(CellState::Ready), 1);
}

/// A node's status written again with nothing new the model keeps (a heartbeat) changes
/// nothing: not the generation the views' rows and widths are kept by (at 65,000 nodes,
/// the nodes view took ~38 ms to build them again), and a node seen in a relist this way is
/// still seen.
#[test]
fn a_node_written_again_unchanged_leaves_the_generation_alone() {
    let mut m = Model::new();
    m.apply(Change::Node(node(0, 0, false, true)));
    m.apply(Change::Node(node(1, 0, false, true)));
    let (g, ng) = (m.generation(), m.node_generation());
    m.apply(Change::Node(node(0, 0, false, true)));
    assert_eq!((m.generation(), m.node_generation()), (g, ng), "an unchanged node is no change");
    m.apply(Change::ResyncStart(Resource::Nodes));
    m.apply(Change::Node(node(0, 0, false, true)));
    m.apply(Change::ResyncDone(Resource::Nodes));
    assert_eq!(m.nodes().map(|(_, n)| n.name.as_str()).collect::<Vec<_>>(), ["n0"], "n0 seen again, n1 gone");
    let g = m.generation();
    m.apply(Change::Node(node(0, 1, false, true)));
    assert!(m.generation() > g && m.node_generation() > g, "a new label is a change");
}

/// A DaemonSet deleted and recreated under the same name while the client was cut off is
/// seen only as a relist with a new uid: its coverage is computed afresh, the old one's
/// pods no longer count.
#[test]
fn a_daemonset_recreated_under_the_same_name_gets_fresh_coverage() {
    let mut m = Model::new();
    m.apply(Change::Node(node(1, 0, false, true)));
    m.apply(Change::Node(node(2, 0, false, true)));
    m.apply(Change::DaemonSet(ds(1, None, 1)));
    m.apply(Change::Pod(pod(1, 1, 1, 1, true, 0)));
    m.apply(Change::Pod(pod(2, 1, 2, 1, true, 0)));
    assert_eq!(m.coverage(m.daemonset("ns", "ds1").unwrap()).unwrap().count(CellState::Ready), 2);
    // The relist: the same name with a new uid, one new pod so far; the old pods gone.
    m.apply(Change::ResyncStart(Resource::DaemonSets));
    m.apply(Change::DaemonSet(DsInfo { uid: "ds-uid-1-new".into(), ..ds(1, None, 1) }));
    m.apply(Change::ResyncDone(Resource::DaemonSets));
    m.apply(Change::ResyncStart(Resource::Pods));
    m.apply(Change::Pod(PodInfo { uid: "pod-new".into(), owner_uid: "ds-uid-1-new".into(), ..pod(3, 1, 1, 1, true, 0) }));
    m.apply(Change::ResyncDone(Resource::Pods));
    let d = m.daemonset("ns", "ds1").unwrap();
    let c = m.coverage(d).expect("the recreated DaemonSet has coverage");
    assert_eq!((c.count(CellState::Ready), c.count(CellState::Missing)), (1, 1));
    assert!(m.daemonset_by_uid("ds-uid-1").is_none());
    assert_eq!(m.recount(d).counts, c.counts);
}

/// `kubectl rollout undo` (or a template edited back): the controller reuses the earlier
/// ControllerRevision, bumps its number, and counts the pods on its hash as up to date
/// although their template generation is old. So does the model.
#[test]
fn pods_on_a_reverted_revision_are_up_to_date() {
    let mut m = Model::new();
    m.apply(Change::Node(node(1, 0, false, true)));
    // Generation 3 (v1 → v2 → back to v1); the pod still has generation 1 and v1's hash.
    m.apply(Change::DaemonSet(DsInfo { generation: 3, observed_generation: 3, ..ds(1, None, 3) }));
    m.apply(Change::Pod(PodInfo { revision_hash: Some("hash-v1".into()), ..pod(1, 1, 1, 1, true, 0) }));
    m.apply(Change::Revision(rev("ds1-v2", 2, "hash-v2")));
    m.apply(Change::Revision(rev("ds1-v1", 1, "hash-v1")));
    let state = |m: &Model| m.explain(m.daemonset("ns", "ds1").unwrap(), m.node_id("n1").unwrap()).unwrap().state;
    assert_eq!(state(&m), CellState::Outdated, "v2 is the newest revision: the v1 pod is outdated");
    // The controller reuses v1's revision for the reverted template: it becomes the newest.
    m.apply(Change::Revision(rev("ds1-v1", 3, "hash-v1")));
    assert_eq!(state(&m), CellState::Ready, "the pod on the current revision's hash is up to date");
    // Until the controller has observed a newer generation, the hash is not trusted.
    m.apply(Change::DaemonSet(DsInfo { generation: 4, observed_generation: 3, ..ds(1, None, 4) }));
    assert_eq!(state(&m), CellState::Outdated);
    let d = m.daemonset("ns", "ds1").unwrap();
    assert_eq!(m.recount(d).counts, m.coverage(d).unwrap().counts);
}

/// After a relist of ControllerRevisions, a revision that is gone no longer decides the
/// DaemonSet's current hash: the pods on the newest remaining revision are up to date.
#[test]
fn a_revision_gone_in_a_relist_no_longer_decides_the_current_hash() {
    let mut m = Model::new();
    m.apply(Change::Node(node(1, 0, false, true)));
    // Generation 2 (template v2); the pod was made from v1.
    m.apply(Change::DaemonSet(DsInfo { generation: 2, observed_generation: 2, ..ds(1, None, 2) }));
    m.apply(Change::Pod(PodInfo { revision_hash: Some("hash-v1".into()), ..pod(1, 1, 1, 1, true, 0) }));
    m.apply(Change::Revision(rev("ds1-v1", 1, "hash-v1")));
    m.apply(Change::Revision(rev("ds1-v2", 2, "hash-v2")));
    let state = |m: &Model| m.explain(m.daemonset("ns", "ds1").unwrap(), m.node_id("n1").unwrap()).unwrap().state;
    assert_eq!(state(&m), CellState::Outdated, "v2 is the newest revision");
    // The server's history no longer has v2 (e.g. restored onto an older state): a relist
    // announces only v1.
    m.apply(Change::ResyncStart(Resource::Revisions));
    m.apply(Change::Revision(rev("ds1-v1", 1, "hash-v1")));
    m.apply(Change::ResyncDone(Resource::Revisions));
    assert!(m.revisions_of(m.daemonset("ns", "ds1").unwrap()).iter().all(|r| r.name != "ds1-v2"));
    assert_eq!(state(&m), CellState::Ready, "v1 is the current revision again");
    let d = m.daemonset("ns", "ds1").unwrap();
    assert_eq!(m.recount(d).counts, m.coverage(d).unwrap().counts);
}

/// Coverage's denominator is the controller's desired set: a NotReady node (tainted
/// not-ready:NoSchedule by the node controller) leaves it, unless the DaemonSet tolerates
/// every taint; a pod terminating on a node it should not run on is counted beside it.
#[test]
fn the_denominator_is_the_controllers_desired_set() {
    let mut m = Model::new();
    m.apply(Change::Node(fixtures::node("up")));
    m.apply(Change::Node(fixtures::node("down").with_ready(Some(false)).with_taint("node.kubernetes.io/not-ready", "", "NoSchedule")));
    m.apply(Change::Node(fixtures::node("gpu").with_taint("dedicated", "gpu", "NoSchedule")));
    let agent = fixtures::daemonset("ns", "agent");
    let proxy = fixtures::daemonset("ns", "proxy").tolerating_everything();
    m.apply(Change::DaemonSet(agent.clone()));
    m.apply(Change::DaemonSet(proxy.clone()));
    for (d, node, uid) in
        [(&agent, "up", "a1"), (&agent, "down", "a2"), (&proxy, "up", "p1"), (&proxy, "down", "p2"), (&proxy, "gpu", "p3")]
    {
        m.apply(Change::Pod(fixtures::pod(d, node, uid)));
    }
    // agent's pod on the gpu node it may not run on, being deleted.
    m.apply(Change::Pod(fixtures::pod(&agent, "gpu", "a3").deleting()));
    let cov = |m: &Model, name: &str| m.coverage(m.daemonset("ns", name).unwrap()).unwrap().clone();
    let (a, p) = (cov(&m, "agent"), cov(&m, "proxy"));
    assert_eq!(
        (a.count(CellState::NodeNotReady), a.count(CellState::Misscheduled), a.eligible()),
        (1, 1, 1),
        "agent: only `up` is desired"
    );
    assert_eq!(
        (p.count(CellState::NodeNotReady), p.eligible()),
        (1, 3),
        "proxy tolerates the not-ready taint: the controller still wants `down`"
    );
    for name in ["agent", "proxy"] {
        let d = m.daemonset("ns", name).unwrap();
        assert_eq!(m.recount(d).eligible(), m.coverage(d).unwrap().eligible());
    }
    // The node comes back: both count it again.
    m.apply(Change::Node(fixtures::node("down")));
    assert_eq!((cov(&m, "agent").eligible(), cov(&m, "agent").count(CellState::Ready)), (2, 2));
}

/// The model keeps a UUID uid in 16 bytes and any other uid as it came: both kinds, side
/// by side (and two that differ only in case), are found, replaced, removed by a watch's
/// delete and by a relist, and print back exactly as the server sent them.
#[test]
fn uuid_and_other_uids_are_found_replaced_and_removed_alike() {
    let uuid = "6f1c1f0e-3b7a-4e2d-9a51-0c2b8d4e7f10";
    let upper = "6F1C1F0E-3B7A-4E2D-9A51-0C2B8D4E7F10";
    let uids = [uuid, upper, "pod-7", ""];
    let mut m = Model::new();
    m.apply(Change::Node(node(0, 0, false, true)));
    m.apply(Change::Node(node(1, 0, false, true)));
    m.apply(Change::DaemonSet(ds(0, None, 1)));
    for (i, u) in uids.iter().enumerate() {
        m.apply(Change::Pod(PodInfo { uid: (*u).into(), ..pod(i as u8, 0, (i % 2) as u8, 1, true, 0) }));
    }
    assert_eq!(m.pod_count(), 4, "four distinct uids");
    for u in uids {
        assert_eq!(m.pod(u).map(|p| p.uid.to_string()).as_deref(), Some(u));
    }
    assert!(m.pod("6f1c1f0e-3b7a-4e2d-9a51-0c2b8d4e7f11").is_none());
    // An update keeps one pod per uid.
    m.apply(Change::Pod(PodInfo { uid: upper.into(), ..pod(1, 0, 1, 1, false, 0) }));
    assert_eq!(m.pod_count(), 4);
    assert!(!m.pod(upper).unwrap().ready && m.pod(uuid).unwrap().ready);
    // A delete by uid removes that pod only.
    m.apply(Change::PodGone { uid: uuid.into() });
    assert!(m.pod(uuid).is_none() && m.pod(upper).is_some());
    // A relist that sees only "pod-7" drops the others, whatever their kind.
    m.apply(Change::ResyncStart(Resource::Pods));
    m.apply(Change::Pod(PodInfo { uid: "pod-7".into(), ..pod(2, 0, 0, 1, true, 0) }));
    m.apply(Change::ResyncDone(Resource::Pods));
    assert_eq!(m.pod_count(), 1);
    assert!(m.pod("pod-7").is_some() && m.pod(upper).is_none() && m.pod("").is_none());
    let d = m.daemonsets().next().unwrap().clone();
    assert_eq!(m.recount(&d), m.coverage(&d).unwrap().clone());
}

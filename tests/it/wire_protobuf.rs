//! The client reads protobuf through the same decoders as JSON (`k8s::proto`): every object
//! the simulator holds — the demo cluster as its timeline moves (crash loops, rollouts, a
//! node going down, events) and a generated cluster with workload pods — encoded in
//! protobuf as the simulator serves it and in JSON, must decode to the same thing: the
//! same k8s-openapi object for the kinds watched whole, the same model view for the pods
//! decoded lean. The simulator's two encoders (from the object's JSON, and straight from
//! the typed object) must write the same bytes.

use crate::common;

use daemonscope::cluster::wire::PodWire;
use daemonscope::cluster::workloads::WorkloadWire;
use daemonscope::k8s::proto;
use daemonscope::sim::Sim;
use daemonscope::sim::api::{protobuf_out, protobuf_ser};
use k8s_openapi::api::apps::v1::{ControllerRevision, DaemonSet};
use k8s_openapi::api::core::v1::{Event, Node, Pod, Service};
use serde::de::DeserializeOwned;

/// An object as JSON and as protobuf bytes.
fn encodings<T: serde::Serialize>(o: &T) -> (Vec<u8>, Vec<u8>) {
    let json = serde_json::to_vec(o).unwrap();
    let value: serde_json::Value = serde_json::from_slice(&json).unwrap();
    let pb = protobuf_out::object(&value).unwrap_or_else(|| panic!("no protobuf for {value}"));
    // What the simulator serves lists and watches with: the same bytes straight from the
    // typed object, no JSON in between.
    let (api_version, kind) = (value["apiVersion"].as_str().unwrap(), value["kind"].as_str().unwrap());
    let id = proto::schema::schema().of_kind(api_version, kind).unwrap();
    let typed = protobuf_ser::message(o, id).unwrap_or_else(|e| panic!("{e}: {value}"));
    assert!(typed == proto::wire::open(&pb).unwrap().raw, "typed and JSON-walked protobuf differ: {value}");
    (json, pb)
}

/// Every object of kind `T` decodes the same from either encoding; how many there were.
fn same_whole<T>(sim: &Sim) -> usize
where
    T: daemonscope::sim::store::SimObject + serde::Serialize + DeserializeOwned + PartialEq + std::fmt::Debug,
{
    let objects = sim.store.list::<T>(None).0;
    for o in &objects {
        let (json, pb) = encodings(&**o);
        let from_json: T = serde_json::from_slice(&json).unwrap();
        let from_pb: T = proto::object(&pb).unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&json)));
        assert_eq!(from_pb, from_json, "{}", String::from_utf8_lossy(&json));
    }
    objects.len()
}

/// Every pod decodes to the same lean views (the daemon pods' and the workload pods').
fn same_pods(sim: &Sim) -> (usize, usize) {
    let (mut daemon, mut workload) = (0, 0);
    for p in sim.store.list::<Pod>(None).0 {
        let (json, pb) = encodings(&*p);
        let (a, b): (PodWire, PodWire) = (serde_json::from_slice(&json).unwrap(), proto::object(&pb).unwrap());
        assert_eq!((a.uid(), &a.info), (b.uid(), &b.info), "{}", String::from_utf8_lossy(&json));
        let (c, d): (WorkloadWire, WorkloadWire) = (serde_json::from_slice(&json).unwrap(), proto::object(&pb).unwrap());
        assert_eq!((c.uid(), &c.info), (d.uid(), &d.info), "{}", String::from_utf8_lossy(&json));
        daemon += usize::from(a.info.is_some());
        workload += usize::from(c.info.is_some());
    }
    (daemon, workload)
}

#[test]
fn the_demo_timeline_decodes_the_same_from_protobuf_and_json() {
    let yaml = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/assets/scenarios/demo.yaml")).unwrap();
    let mut sim = common::build(&yaml);
    let (mut pods, mut events, mut others) = (0, 0, 0);
    for _ in 0..20 {
        pods += same_pods(&sim).0;
        events += same_whole::<Event>(&sim);
        others += same_whole::<Node>(&sim) + same_whole::<DaemonSet>(&sim) + same_whole::<ControllerRevision>(&sim);
        others += same_whole::<Service>(&sim);
        sim.advance(12);
    }
    assert!(pods > 1_000 && events > 100 && others > 100, "{pods} daemon pods, {events} events, {others} others");
}

#[test]
fn a_generated_cluster_with_workloads_decodes_the_same_from_protobuf_and_json() {
    let sc = daemonscope::sim::generator::checked_scenario_with(60, 6, 5).unwrap();
    let mut sim = Sim::build(&sc, daemonscope::sim::SimOptions::from_scenario(&sc)).unwrap();
    sim.advance(30);
    let (daemon, workload) = same_pods(&sim);
    let others = same_whole::<Node>(&sim) + same_whole::<DaemonSet>(&sim) + same_whole::<ControllerRevision>(&sim);
    assert!(daemon > 100 && workload > 100 && others > 60, "{daemon} daemon pods, {workload} workload pods, {others} others");
}

//! The `Table` columns of the apps workloads a drain moves: `printReplicaSet` and
//! `printDeployment` (`pkg/printers/internalversion/printers.go`).
//!
//! May import: `sim::api::table`.

use k8s_openapi::api::apps::v1 as apps;
use k8s_openapi::api::core::v1 as core;
use serde_json::{Value, json};

use super::table::{AGE, Col, NAME, Tabular, age, col, format_label_selector};

fn containers(ps: &core::PodSpec) -> (String, String) {
    let names = ps.containers.iter().map(|c| c.name.clone()).collect::<Vec<_>>().join(",");
    let images = ps.containers.iter().map(|c| c.image.clone().unwrap_or_default()).collect::<Vec<_>>().join(",");
    (names, images)
}

/// `printReplicaSet`.
impl Tabular for apps::ReplicaSet {
    fn columns() -> Vec<Col> {
        vec![
            NAME,
            col("Desired", "integer", 0, "Number of desired pods."),
            col("Current", "integer", 0, "Number of actively running pods."),
            col("Ready", "integer", 0, "Number of ready pods."),
            AGE,
            col("Containers", "string", 1, "Names of each container in the template."),
            col("Images", "string", 1, "Images referenced by each container in the template."),
            col(
                "Selector",
                "string",
                1,
                "Label selector for pods. Existing ReplicaSets whose pods are selected by this will be the ones affected by this deployment.",
            ),
        ]
    }
    fn cells(&self, now: jiff::Timestamp) -> Vec<Value> {
        let st = self.status.clone().unwrap_or_default();
        let spec = self.spec.clone().unwrap_or_default();
        let (names, images) = containers(&spec.template.and_then(|t| t.spec).unwrap_or_default());
        vec![
            json!(self.metadata.name),
            json!(spec.replicas.unwrap_or(1)),
            json!(st.replicas),
            json!(st.ready_replicas.unwrap_or(0)),
            json!(age(self.metadata.creation_timestamp.as_ref(), now)),
            json!(names),
            json!(images),
            json!(format_label_selector(&spec.selector)),
        ]
    }
}

/// `printDeployment`.
impl Tabular for apps::Deployment {
    fn columns() -> Vec<Col> {
        vec![
            NAME,
            col("Ready", "string", 0, "Number of the pod with ready state"),
            col(
                "Up-to-date",
                "string",
                0,
                "Total number of non-terminated pods targeted by this deployment that have the desired template spec.",
            ),
            col(
                "Available",
                "string",
                0,
                "Total number of available pods (ready for at least minReadySeconds) targeted by this deployment.",
            ),
            AGE,
            col("Containers", "string", 1, "Names of each container in the template."),
            col("Images", "string", 1, "Images referenced by each container in the template."),
            col(
                "Selector",
                "string",
                1,
                "Label selector for pods. Existing ReplicaSets whose pods are selected by this will be the ones affected by this deployment. It must match the pod template's labels.",
            ),
        ]
    }
    fn cells(&self, now: jiff::Timestamp) -> Vec<Value> {
        let st = self.status.clone().unwrap_or_default();
        let spec = self.spec.clone().unwrap_or_default();
        let (names, images) = containers(&spec.template.spec.unwrap_or_default());
        vec![
            json!(self.metadata.name),
            json!(format!("{}/{}", st.ready_replicas.unwrap_or(0), spec.replicas.unwrap_or(1))),
            json!(st.updated_replicas.unwrap_or(0)),
            json!(st.available_replicas.unwrap_or(0)),
            json!(age(self.metadata.creation_timestamp.as_ref(), now)),
            json!(names),
            json!(images),
            json!(format_label_selector(&spec.selector)),
        ]
    }
}

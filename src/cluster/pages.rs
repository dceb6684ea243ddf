//! A one-off list of every object of a kind, 500 at a time (the watch's own pager is in
//! `listwatch`): for `snapshot` and `preflight`, which read the cluster once.
//!
//! May import: `cluster::connect`, `cluster::errors`.

use kube::Api;
use kube::api::ListParams;
use serde::de::DeserializeOwned;

use crate::cluster::connect::Cluster;
use crate::cluster::errors::ClusterError;

/// Every object of `api` matching `lp`, 500 at a time, each page handed to `each`.
pub async fn each_page<K, F>(cluster: &Cluster, api: &Api<K>, lp: ListParams, mut each: F) -> Result<(), ClusterError>
where
    K: kube::Resource + Clone + DeserializeOwned + std::fmt::Debug,
    F: FnMut(Vec<K>),
{
    let mut lp = lp.limit(500);
    loop {
        let page = api.list(&lp).await.map_err(|e| cluster.error(e))?;
        each(page.items);
        match page.metadata.continue_.filter(|c| !c.is_empty()) {
            Some(c) => lp = lp.continue_token(&c),
            None => return Ok(()),
        }
    }
}

/// Every object of `api` matching `lp`.
pub async fn list_all<K>(cluster: &Cluster, api: &Api<K>, lp: ListParams) -> Result<Vec<K>, ClusterError>
where
    K: kube::Resource + Clone + DeserializeOwned + std::fmt::Debug,
{
    let mut out = Vec::new();
    each_page(cluster, api, lp, |page| out.extend(page)).await?;
    Ok(out)
}

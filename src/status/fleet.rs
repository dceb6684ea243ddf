//! `daemonscope status` across clusters (`--context a --context b`, `--contexts GLOB`,
//! `--all-contexts`): every context observed at once, each with its own client and
//! watches (one that cannot be reached never holds up the others), then one report.
//! JSON: `{"clusters": [{context, reachable, error, stale, summary, daemonsets}]}` with
//! the single-cluster report's DaemonSets. Exit 0 only when every cluster was observed
//! and is fully covered; 2 when one could not be observed (the others still reported);
//! else 1 when one is not covered.
//!
//! May import: `status`, `cluster`, `model`, `cli`, `k8s`.

use std::io::Write;

use serde::Serialize;

use super::{DsReport, Outcome, Summary, emit_text, observe};
use crate::cli::{Output, StatusArgs};
use crate::cluster::connect::Source;
use crate::cluster::watch::Scope;
use crate::k8s::text::{self, LINE_MAX};

/// The JSON document of a fleet (`-o json`).
#[derive(Debug, Clone, Serialize)]
pub struct FleetReport {
    pub clusters: Vec<ClusterReport>,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ClusterReport {
    pub context: String,
    /// Its initial sync completed.
    pub reachable: bool,
    /// Why it could not be observed (or, with `stale`, why the data cannot be trusted).
    pub error: Option<String>,
    pub stale: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub age_seconds: Option<u64>,
    /// None when the cluster could not be observed.
    pub summary: Option<Summary>,
    pub daemonsets: Vec<DsReport>,
}

impl ClusterReport {
    fn of(context: &str, o: &Outcome) -> ClusterReport {
        ClusterReport {
            context: context.to_string(),
            reachable: o.reachable,
            error: o.error.clone(),
            stale: o.report.as_ref().is_some_and(|r| r.stale),
            age_seconds: o.report.as_ref().and_then(|r| r.age_seconds),
            summary: o.report.as_ref().map(|r| r.summary.clone()),
            daemonsets: o.report.as_ref().map(|r| r.daemonsets.clone()).unwrap_or_default(),
        }
    }
}

/// The exit code of a fleet from each cluster's: 2 when any could not be observed, else
/// 1 when any is not covered, else 0.
pub fn fleet_code(codes: impl IntoIterator<Item = i32>) -> i32 {
    codes.into_iter().fold(0, |worst, c| if c == 2 || worst == 2 { 2 } else { worst.max(c) })
}

/// Observes every context in `contexts` of `source` at once; prints one report to `out`
/// and each cluster's errors to stderr; returns the exit code.
pub async fn run(source: &Source, contexts: &[String], scope: Scope, args: &StatusArgs, out: &mut (dyn Write + Send)) -> i32 {
    if args.joins.joins {
        super::say("daemonscope: --joins reports one cluster: give one --context");
        return 2;
    }
    let each = contexts.iter().map(|context| {
        let scope = scope.clone();
        async move {
            let tag = format!("[{context}] ");
            match source.client(Some(context)).await {
                Ok((cluster, _)) => observe(cluster, context.clone(), source.server(context), scope, args, &tag, false).await,
                Err(e) => Outcome { code: 2, report: None, note: None, error: Some(e.to_string()), reachable: false, synced: None },
            }
        }
    });
    let outcomes = futures::future::join_all(each).await;
    let mut code = fleet_code(outcomes.iter().map(|o| o.code));
    let report = match args.output {
        Output::Json => {
            let doc = FleetReport { clusters: contexts.iter().zip(&outcomes).map(|(c, o)| ClusterReport::of(c, o)).collect() };
            let mut json = Vec::new();
            let _ = text::json_pretty(&mut json, &doc);
            String::from_utf8(json).unwrap_or_default() + "\n"
        }
        Output::Table | Output::Wide => table(contexts, &outcomes, args.output == Output::Wide),
    };
    if let Err(e) = out.write_all(report.as_bytes()) {
        super::say(&format!("daemonscope: writing the report: {e}"));
        code = 2;
    }
    for (context, o) in contexts.iter().zip(&outcomes) {
        if let Some(n) = &o.note {
            super::say(n);
        }
        if let Some(e) = &o.error {
            super::say(&format!("daemonscope: context {context}: {e}"));
        }
    }
    code
}

/// Each cluster's table (or why it has none), then one line for the fleet.
fn table(contexts: &[String], outcomes: &[Outcome], wide: bool) -> String {
    let mut out = String::new();
    let (mut covered, mut unobserved) = (0, 0);
    for (context, o) in contexts.iter().zip(outcomes) {
        out.push_str(&format!("== context {} ==\n", text::one_line(context, LINE_MAX)));
        if let Some(r) = &o.report {
            out.push_str(&emit_text(r, wide));
        }
        match (&o.error, o.code) {
            (Some(e), _) => {
                unobserved += 1;
                out.push_str(&format!("not observed: {}\n", text::lines_cut(e, LINE_MAX)));
            }
            (None, 0) => covered += 1,
            _ => {}
        }
        out.push('\n');
    }
    let n = contexts.len();
    out.push_str(&format!("fleet: {covered} of {n} contexts fully covered"));
    if unobserved > 0 {
        out.push_str(&format!(", {unobserved} not observed"));
    }
    out.push('\n');
    text::visible_lines(&out).into_owned()
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_worst_cluster_decides_the_exit_code_and_not_observed_is_worst() {
        use super::fleet_code;
        assert_eq!(fleet_code([0, 0, 0]), 0);
        assert_eq!(fleet_code([0, 1, 0]), 1);
        assert_eq!(fleet_code([0, 2, 1]), 2);
        assert_eq!(fleet_code([2, 1]), 2);
        assert_eq!(fleet_code([1, 2]), 2);
    }
}

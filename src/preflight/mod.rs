//! `daemonscope preflight -f FILE…`: before a DaemonSet (or a change of one) is applied,
//! what would happen on every node — would run, not eligible (and why), would not fit
//! (the scheduler's words, a taken host port named with its pod), or would preempt
//! (which pods) — with how many nodes already have its images. Read once from the
//! cluster: the nodes, every bound pod folded page by page into what each node has left,
//! the priority classes, and the DaemonSet as it is now if it exists. Exit 0 when every
//! node it targets would run it, 1 when some would not (or a change would drop nodes it
//! runs on now, unless `--allow-ineligible`, or the pull exceeds `--max-pull-bytes`), 2
//! when it cannot be evaluated. A node whose verdict is unverified (it would run as far as
//! preflight sees, but a filter turns on what it does not read) passes with a warning on
//! standard error, unless `--strict`. Several `--context` flags check each cluster in turn.
//!
//! The verdicts are `model::preflight`'s and the reading of the cluster
//! `cluster::preflight`'s (the TUI's `:preflight` uses both too); this is the command:
//! its words, its JSON and its exit codes.
//!
//! May import: `status` (its one-line messages), `cli`, `cluster`, `model`, `k8s`.

pub use crate::cluster::preflight::{gather, wire};
pub use crate::k8s::manifests::read_manifests;
pub use crate::model::preflight::{ClusterFacts, Report, evaluate, rollout, verdict};

use std::io::Write;

use k8s_openapi::api::apps::v1::DaemonSet;
use serde_json::{Value, json};

use crate::cli::PreflightArgs;
use crate::cluster::connect::Cluster;
use crate::k8s::text;
use verdict::{NodeVerdict, Outcome};

fn count(verdicts: &[NodeVerdict], f: impl Fn(&Outcome) -> bool) -> usize {
    verdicts.iter().filter(|v| f(&v.outcome)).count()
}

impl Report {
    /// Whether the gate passes.
    pub fn passes(&self, args: &PreflightArgs) -> bool {
        let short = count(&self.verdicts, |o| matches!(o, Outcome::WouldNotFit(_)));
        let unsure = count(&self.verdicts, |o| matches!(o, Outcome::Unverified(_)));
        short == 0
            && (!args.strict || unsure == 0)
            && (args.allow_ineligible || self.losing.is_empty())
            && args.max_pull_bytes.is_none_or(|m| self.pull_bytes as u64 <= m)
    }

    fn json(&self) -> Value {
        let nodes: Vec<Value> = self
            .verdicts
            .iter()
            .map(|v| {
                let why: Vec<String> = match &v.outcome {
                    Outcome::WouldRun => vec![],
                    Outcome::NotEligible(r) => vec![r.clone()],
                    Outcome::WouldNotFit(w) | Outcome::WouldPreempt(w) | Outcome::Unverified(w) => w.clone(),
                };
                json!({"node": v.node, "verdict": v.outcome.as_str(), "why": why, "hasPod": v.has_pod, "imagesPresent": v.images_present})
            })
            .collect();
        json!({
            "daemonset": self.daemonset, "change": self.change, "strategy": self.strategy,
            "rollout": self.rollout.as_ref().map(rollout::Rollout::json),
            "losing": self.losing, "gaining": self.gaining,
            "pull": {"nodes": self.pull_nodes, "bytes": self.pull_bytes},
            "unverified": count(&self.verdicts, |o| matches!(o, Outcome::Unverified(_))),
            "nodes": nodes,
        })
    }

    fn text(&self, context: &str, out: &mut String) {
        let v = &self.verdicts;
        let targeted = v.len() - count(v, |o| matches!(o, Outcome::NotEligible(_)));
        let run = count(v, |o| matches!(o, Outcome::WouldRun));
        let short = count(v, |o| matches!(o, Outcome::WouldNotFit(_)));
        let preempt = count(v, |o| matches!(o, Outcome::WouldPreempt(_)));
        let what = if self.change { "change of" } else { "new" };
        out.push_str(&format!(
            "{what} DaemonSet {} on {}: {run} of {} would run it",
            text::visible(&self.daemonset),
            text::visible(context),
            crate::k8s::words::count(targeted as u64, "targeted node")
        ));
        if preempt > 0 {
            out.push_str(&format!(", {preempt} after preempting pods"));
        }
        let unsure = count(v, |o| matches!(o, Outcome::Unverified(_)));
        if unsure > 0 {
            out.push_str(&format!(", {unsure} unverified (would run as far as preflight sees)"));
        }
        if short > 0 {
            out.push_str(&format!(", {short} would not fit"));
        }
        out.push_str(&format!("; {} not eligible\n", v.len() - targeted));
        if self.change {
            out.push_str(&format!("change ({} update): {} newly targeted, {} no longer\n", self.strategy, self.gaining, self.losing.len()));
        }
        if let Some(r) = &self.rollout {
            out.push_str(&r.text(&self.ds));
            out.push('\n');
        }
        out.push_str(&format!(
            "images: already on {} of {targeted} targeted nodes; {} would pull (about {})\n",
            targeted - self.pull_nodes,
            self.pull_nodes,
            bytes(self.pull_bytes)
        ));
        let listed: Vec<&NodeVerdict> =
            v.iter().filter(|x| matches!(x.outcome, Outcome::WouldNotFit(_) | Outcome::WouldPreempt(_) | Outcome::Unverified(_))).collect();
        let width = listed
            .iter()
            .map(|x| text::visible(&x.node).chars().count())
            .chain(self.losing.iter().map(|n| n.chars().count()))
            .max()
            .unwrap_or(4)
            .max(4);
        if !listed.is_empty() || !self.losing.is_empty() {
            out.push_str(&format!("{:width$}  {:13}  WHY\n", "NODE", "VERDICT"));
        }
        for x in listed {
            let why = match &x.outcome {
                Outcome::WouldNotFit(w) => w.join(", "),
                Outcome::WouldPreempt(w) => format!("preempts {}", w.join(", ")),
                Outcome::Unverified(w) => format!("would run as far as seen; not checked: {}", w.join(", ")),
                _ => String::new(),
            };
            out.push_str(&format!("{:width$}  {:13}  {}\n", text::visible(&x.node), x.outcome.as_str(), text::visible(&why)));
        }
        for n in &self.losing {
            out.push_str(&format!("{:width$}  {:13}  runs it now; the change no longer targets it\n", text::visible(n), "loses it"));
        }
    }
}

/// `12.4 MB`.
fn bytes(b: i64) -> String {
    match b {
        b if b >= 1 << 30 => format!("{:.1} GiB", b as f64 / f64::from(1u32 << 30)),
        b if b >= 1 << 20 => format!("{:.1} MiB", b as f64 / f64::from(1u32 << 20)),
        b => format!("{b} bytes"),
    }
}

/// Runs the preflight of `dss` on `cluster`: the exit code (0, 1 or 2).
pub async fn run(cluster: &Cluster, context: &str, dss: &[DaemonSet], args: &PreflightArgs, out: &mut impl Write) -> i32 {
    let facts = match gather(cluster, dss).await {
        Ok(f) => f,
        Err(e) => {
            crate::status::say(&format!("daemonscope: {e}"));
            return 2;
        }
    };
    let mut reports = Vec::new();
    for ds in dss {
        match evaluate(ds, &facts) {
            Ok(r) => reports.push(r),
            Err(e) => {
                crate::status::say(&format!("daemonscope: {e}"));
                return 2;
            }
        }
    }
    let pass = reports.iter().all(|r| r.passes(args));
    let unsure: usize = reports.iter().map(|r| count(&r.verdicts, |o| matches!(o, Outcome::Unverified(_)))).sum();
    if unsure > 0 {
        // The gate passes on them unless --strict; said where a CI log shows it, whatever -o.
        let gate = if args.strict { "--strict fails the gate on them" } else { "the gate passes them (--strict fails it)" };
        crate::status::say(&format!(
            "daemonscope: warning: {} unverified on {}: would run as far as preflight sees; {gate}",
            crate::k8s::words::count(unsure as u64, "node"),
            text::visible(context)
        ));
    }
    let body = if args.output == "json" {
        let v = json!({"context": context, "pass": pass, "daemonsets": reports.iter().map(Report::json).collect::<Vec<_>>()});
        let mut b = Vec::new();
        let _ = text::json_pretty(&mut b, &v);
        b.push(b'\n');
        String::from_utf8(b).unwrap_or_default()
    } else {
        let mut s = String::new();
        for r in &reports {
            r.text(context, &mut s);
        }
        s
    };
    let _ = out.write_all(body.as_bytes());
    if pass { 0 } else { 1 }
}

/// The preflight on each of `contexts` (none: the current context) in turn, each report
/// headed by its context; a cluster that cannot be reached is one line and counts as 2.
/// The exit code is the worst.
pub async fn run_contexts(
    source: &crate::cluster::connect::Source,
    contexts: &[String],
    dss: &[DaemonSet],
    args: &PreflightArgs,
    out: &mut impl Write,
) -> i32 {
    let each: Vec<Option<&str>> = if contexts.is_empty() { vec![None] } else { contexts.iter().map(|c| Some(c.as_str())).collect() };
    let mut worst = 0;
    for c in each {
        let code = match source.client(c).await {
            Ok((cluster, name)) => run(&cluster, &name, dss, args, out).await,
            Err(e) => {
                crate::status::say(&format!("daemonscope: {e}"));
                2
            }
        };
        worst = worst.max(code);
    }
    worst
}

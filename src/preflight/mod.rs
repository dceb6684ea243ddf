//! `daemonscope preflight -f FILE…`: before a DaemonSet (or a change of one) is applied,
//! what would happen on every node — would run, not eligible (and why), would not fit
//! (the scheduler's words, a taken host port named with its pod), or would preempt
//! (which pods) — with how many nodes already have its images. Read once from the
//! cluster: the nodes, every bound pod folded page by page into what each node has left,
//! the priority classes, and the DaemonSet as it is now if it exists. Exit 0 when every
//! node it targets would run it, 1 when some would not (or a change would drop nodes it
//! runs on now, unless `--allow-ineligible`, or the pull exceeds `--max-pull-bytes`), 2
//! when it cannot be evaluated. Several `--context` flags check each cluster in turn.
//!
//! May import: `status` (its one-line messages), `cli`, `cluster`, `k8s`.

pub mod rollout;
pub mod verdict;
pub mod wire;

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::io::Write;

use k8s_openapi::api::apps::v1::DaemonSet;
use k8s_openapi::api::core::v1::Node;
use k8s_openapi::api::scheduling::v1::PriorityClass;
use kube::Api;
use kube::api::ListParams;
use serde_json::{Value, json};

use crate::cli::PreflightArgs;
use crate::cluster::connect::Cluster;
use crate::cluster::errors::ClusterError;
use crate::cluster::pages::each_page;
use crate::k8s::eligibility::NodeFacts;
use crate::k8s::fit::Resources;
use crate::k8s::text;
use verdict::{Candidate, NodeRoom, NodeVerdict, Outcome};

/// The DaemonSets of the files (`-` is standard input): YAML or JSON, several documents,
/// `List`s. Anything else is skipped; no DaemonSet at all is an error, in one line.
pub fn read_manifests(paths: &[std::path::PathBuf]) -> Result<Vec<DaemonSet>, String> {
    let mut out = Vec::new();
    for p in paths {
        let shown = p.display().to_string();
        let text = if shown == "-" {
            let mut s = String::new();
            std::io::Read::read_to_string(&mut std::io::Read::take(std::io::stdin(), crate::k8s::files::max() + 1), &mut s)
                .map_err(|e| format!("reading standard input: {e}"))?;
            if s.len() as u64 > crate::k8s::files::max() {
                return Err(format!("standard input: larger than {} (--max-file-size)", crate::k8s::files::size(crate::k8s::files::max())));
            }
            s
        } else {
            crate::k8s::files::read_to_string(p).map_err(|e| match e {
                crate::k8s::files::ReadError::Io(e) if e.kind() == std::io::ErrorKind::NotFound => format!("{shown}: no such file"),
                e => format!("{shown}: {e}"),
            })?
        };
        let docs: Vec<Value> = serde_saphyr::from_multiple(&text)
            .map_err(|e| format!("{shown}: not valid YAML or JSON: {}", e.to_string().lines().next().unwrap_or("")))?;
        let mut items: Vec<Value> = Vec::new();
        for d in docs {
            match d.get("items").and_then(Value::as_array) {
                Some(list) if d.get("kind").and_then(Value::as_str).is_some_and(|k| k.ends_with("List")) => {
                    items.extend(list.iter().cloned())
                }
                _ => items.push(d),
            }
        }
        for d in items {
            if d.get("kind").and_then(Value::as_str) != Some("DaemonSet") {
                continue;
            }
            let name = d.pointer("/metadata/name").and_then(Value::as_str).unwrap_or("").to_string();
            if d.get("apiVersion").and_then(Value::as_str) != Some("apps/v1") {
                return Err(format!("{shown}: DaemonSet {name}: apiVersion must be apps/v1"));
            }
            let ds: DaemonSet = serde_json::from_value(d).map_err(|e| format!("{shown}: DaemonSet {name}: {e}"))?;
            if ds.spec.as_ref().and_then(|s| s.template.spec.as_ref()).is_none() {
                return Err(format!("{shown}: DaemonSet {name}: spec.template.spec is missing"));
            }
            out.push(ds);
        }
    }
    if out.is_empty() {
        let files: Vec<String> = paths.iter().map(|p| p.display().to_string()).collect();
        return Err(format!("{}: no DaemonSet (apps/v1) in it", files.join(", ")));
    }
    Ok(out)
}

/// What the cluster holds that a verdict reads.
pub struct ClusterFacts {
    pub nodes: Vec<NodeRoom>,
    /// Priority class values and preemption policies by name; the global default's value.
    pub classes: HashMap<String, (i32, bool)>,
    pub default_priority: i32,
    /// The DaemonSets as they are now, by `namespace/name`.
    pub existing: HashMap<String, DaemonSet>,
}

fn ds_key(ds: &DaemonSet) -> String {
    format!("{}/{}", ds.metadata.namespace.as_deref().unwrap_or("default"), ds.metadata.name.as_deref().unwrap_or(""))
}

/// Reads the nodes, the bound pods (folded per node), the priority classes and the
/// DaemonSets `dss` change.
pub async fn gather(cluster: &Cluster, dss: &[DaemonSet]) -> Result<ClusterFacts, ClusterError> {
    let images: BTreeSet<String> = dss
        .iter()
        .filter_map(|d| d.spec.as_ref()?.template.spec.as_ref())
        .flat_map(|s| s.containers.iter().chain(s.init_containers.iter().flatten()))
        .filter_map(|c| c.image.clone())
        .collect();
    let mut nodes: Vec<NodeRoom> = Vec::new();
    each_page(cluster, &Api::<Node>::all(cluster.client.clone()), ListParams::default(), |page| {
        for n in page {
            let mut have = BTreeSet::new();
            let mut sizes = Vec::new();
            for img in n.status.iter().flat_map(|s| s.images.iter().flatten()) {
                for name in img.names.iter().flatten().filter(|x| images.contains(*x)) {
                    have.insert(name.clone());
                    sizes.push((name.clone(), img.size_bytes.unwrap_or(0)));
                }
            }
            nodes.push(NodeRoom {
                facts: NodeFacts::from_node(&n),
                allocatable: Resources::of(n.status.as_ref().and_then(|s| s.allocatable.as_ref())),
                pods: Vec::new(),
                images: have,
                image_sizes: sizes,
            });
        }
    })
    .await?;
    let index: HashMap<String, usize> = nodes.iter().enumerate().map(|(i, n)| (n.facts.name.clone(), i)).collect();
    // Pods decoded lean (see `wire`), 500 at a time.
    let mut lp = ListParams::default().limit(500);
    loop {
        let req = kube::core::Request::new("/api/v1/pods").list(&lp).map_err(|e| cluster.error(kube::Error::BuildRequest(e)))?;
        let page: wire::PodFitList = cluster.client.request(req).await.map_err(|e| cluster.error(e))?;
        for p in page.items {
            if let Some(i) = p.node().and_then(|n| index.get(n)).copied() {
                nodes[i].pods.push(p.into_pod_on_node());
            }
        }
        match page.metadata.continue_.filter(|c| !c.is_empty()) {
            Some(c) => lp = lp.continue_token(&c),
            None => break,
        }
    }
    let mut classes = HashMap::new();
    let mut default_priority = 0;
    each_page(cluster, &Api::<PriorityClass>::all(cluster.client.clone()), ListParams::default(), |page| {
        for c in page {
            if c.global_default == Some(true) {
                default_priority = c.value;
            }
            classes.insert(c.metadata.name.clone().unwrap_or_default(), (c.value, c.preemption_policy.as_deref() == Some("Never")));
        }
    })
    .await?;
    let mut existing = HashMap::new();
    for ds in dss {
        let ns = ds.metadata.namespace.as_deref().unwrap_or("default");
        let api: Api<DaemonSet> = Api::namespaced(cluster.client.clone(), ns);
        if let Some(cur) = api.get_opt(ds.metadata.name.as_deref().unwrap_or("")).await.map_err(|e| cluster.error(e))? {
            existing.insert(ds_key(ds), cur);
        }
    }
    Ok(ClusterFacts { nodes, classes, default_priority, existing })
}

/// One DaemonSet's verdicts, and what a change does to the nodes it runs on now.
pub struct Report {
    pub daemonset: String,
    pub change: bool,
    pub verdicts: Vec<NodeVerdict>,
    /// Nodes the current DaemonSet targets that the new one does not.
    pub losing: Vec<String>,
    /// Nodes the new one targets that the current one does not.
    pub gaining: usize,
    /// Nodes that would have to pull, and the bytes they report for what they have elsewhere.
    pub pull_nodes: usize,
    pub pull_bytes: i64,
    pub strategy: String,
    /// For a change: the rollout it would trigger.
    pub rollout: Option<rollout::Rollout>,
    /// The DaemonSet as the file has it (for the rollout's words).
    ds: DaemonSet,
}

/// The verdicts for `ds` on `facts`: pure.
pub fn evaluate(ds: &DaemonSet, facts: &ClusterFacts) -> Result<Report, String> {
    let spec = ds.spec.as_ref().and_then(|s| s.template.spec.as_ref()).cloned().unwrap_or_default();
    let key = ds_key(ds);
    let (priority, never) = match spec.priority_class_name.as_deref().filter(|c| !c.is_empty()) {
        Some(c) => *facts.classes.get(c).ok_or_else(|| format!("DaemonSet {key}: priority class {c:?} does not exist"))?,
        None => (facts.default_priority, false),
    };
    let current = facts.existing.get(&key);
    let cand = Candidate::of(ds, priority, never, current.and_then(|c| c.metadata.uid.clone()));
    let verdicts: Vec<NodeVerdict> = facts.nodes.iter().map(|n| verdict::judge(&cand, n)).collect();
    let mut losing = Vec::new();
    let mut gaining = 0;
    if let Some(cur) = current {
        let now = Candidate::of(cur, priority, never, None);
        for (n, v) in facts.nodes.iter().zip(&verdicts) {
            let was = crate::k8s::eligibility::evaluate(&n.facts, &now.placement).should_run;
            let will = !matches!(v.outcome, Outcome::NotEligible(_));
            if was && !will {
                losing.push(n.facts.name.clone());
            }
            gaining += usize::from(!was && will);
        }
    }
    // Nodes that would run it without its images: each pulls them (the size a node reports
    // for the image elsewhere is the estimate; unknown sizes count 0).
    let mut sizes: BTreeMap<&str, i64> = BTreeMap::new();
    for n in &facts.nodes {
        for (name, s) in &n.image_sizes {
            sizes.entry(name).and_modify(|x| *x = (*x).max(*s)).or_insert(*s);
        }
    }
    let per_node: i64 = cand.images.iter().map(|i| sizes.get(i.as_str()).copied().unwrap_or(0)).sum();
    let pull_nodes = verdicts.iter().filter(|v| !matches!(v.outcome, Outcome::NotEligible(_)) && !v.images_present).count();
    let strategy =
        ds.spec.as_ref().and_then(|s| s.update_strategy.as_ref()).and_then(|u| u.type_.clone()).unwrap_or_else(|| "RollingUpdate".into());
    let rollout = current.is_some().then(|| rollout::estimate(ds, &verdicts));
    Ok(Report {
        daemonset: key,
        change: current.is_some(),
        rollout,
        ds: ds.clone(),
        verdicts,
        losing,
        gaining,
        pull_nodes,
        pull_bytes: per_node * pull_nodes as i64,
        strategy,
    })
}

fn count(verdicts: &[NodeVerdict], f: impl Fn(&Outcome) -> bool) -> usize {
    verdicts.iter().filter(|v| f(&v.outcome)).count()
}

impl Report {
    /// Whether the gate passes.
    pub fn passes(&self, args: &PreflightArgs) -> bool {
        let short = count(&self.verdicts, |o| matches!(o, Outcome::WouldNotFit(_)));
        short == 0 && (args.allow_ineligible || self.losing.is_empty()) && args.max_pull_bytes.is_none_or(|m| self.pull_bytes as u64 <= m)
    }

    fn json(&self) -> Value {
        let nodes: Vec<Value> = self
            .verdicts
            .iter()
            .map(|v| {
                let why: Vec<String> = match &v.outcome {
                    Outcome::WouldRun => vec![],
                    Outcome::NotEligible(r) => vec![r.clone()],
                    Outcome::WouldNotFit(w) | Outcome::WouldPreempt(w) => w.clone(),
                };
                json!({"node": v.node, "verdict": v.outcome.as_str(), "why": why, "hasPod": v.has_pod, "imagesPresent": v.images_present})
            })
            .collect();
        json!({
            "daemonset": self.daemonset, "change": self.change, "strategy": self.strategy,
            "rollout": self.rollout.as_ref().map(rollout::Rollout::json),
            "losing": self.losing, "gaining": self.gaining,
            "pull": {"nodes": self.pull_nodes, "bytes": self.pull_bytes},
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
            v.iter().filter(|x| matches!(x.outcome, Outcome::WouldNotFit(_) | Outcome::WouldPreempt(_))).collect();
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

//! A dump (`k8s::dump`) as a simulated cluster: `sim --from PATH [--frozen]`, and what
//! `--from PATH` runs in-process so the TUI, `status`, `serve` and `snapshot` read a dump
//! through the very client they use on a live cluster. A dump's objects are loaded as
//! they are (uids, statuses and all); a daemonscope snapshot is a scenario, whose pods the
//! simulator starts and lets settle before it is frozen.
//!
//! May import: `sim` (its `Sim`, options and `Running`), `sim::scenario`, `sim::kind`, `k8s::dump`.

use std::path::Path;

use super::scenario::{Scenario, kind_by_name};
use super::{Running, Sim, SimOptions};
use crate::k8s::dump::{self, Dump, Format};

/// The dump's objects the simulator serves, and how many kinds it does not (by kind).
pub fn scenario_of(d: &mut Dump, name: &str) -> (Scenario, Vec<(String, usize)>) {
    let mut dumped = Vec::new();
    let mut skipped: std::collections::BTreeMap<String, usize> = Default::default();
    // Moved, not copied: a 5,000-node dump's objects are hundreds of megabytes.
    for o in std::mem::take(&mut d.objects) {
        match kind_by_name(&o.api_version, &o.kind) {
            Some(k) => dumped.push((k, o)),
            None => *skipped.entry(o.kind).or_default() += 1,
        }
    }
    (Scenario { name: name.to_string(), dumped, ..Default::default() }, skipped.into_iter().collect())
}

/// What `--from PATH` and `sim --from PATH` load: the dump, and the simulator built from
/// it (`frozen`: served exactly as loaded).
pub struct Loaded {
    pub dump: Dump,
    pub sim: Sim,
    /// What it holds, lacks, and what the simulator does not serve: one line each.
    pub notes: Vec<String>,
}

/// The scenario a dump at `path` is: its objects as they are, or (a daemonscope
/// snapshot file) the scenario itself with its Simulation document. Also the dump, and
/// the lines that say what it holds, lacks, and what the simulator does not serve.
pub fn scenario(path: &Path) -> Result<(Scenario, Dump, Vec<String>), String> {
    let mut d = dump::open(path)?;
    let mut notes = vec![d.summary()];
    notes.extend(d.missing());
    let sc = if d.format == Format::Snapshot && path.is_file() {
        Scenario::load(path).map_err(|e| e.to_string())?
    } else {
        let name = format!("{} {}", d.format.describe(), path.display());
        let (mut sc, skipped) = scenario_of(&mut d, &name);
        sc.as_is = d.format != Format::Snapshot;
        sc.logs = std::mem::take(&mut d.logs);
        if !skipped.is_empty() {
            let kinds: Vec<String> = skipped.iter().map(|(k, n)| format!("{n} {k}")).collect();
            notes.push(format!("not served (kinds the simulator does not have): {}", kinds.join(", ")));
        }
        sc
    };
    Ok((sc, d, notes))
}

/// Reads the dump at `path` and builds its simulator. Errors are one line.
pub fn load(path: &Path, frozen: bool) -> Result<Loaded, String> {
    let (sc, dump, notes) = scenario(path)?;
    let mut opts = SimOptions::from_scenario(&sc);
    opts.frozen = frozen;
    let sim = Sim::build_owned(sc, opts).map_err(|e| format!("{}: {}", path.display(), e.message))?;
    Ok(Loaded { dump, sim, notes })
}

/// The dump served in-process, frozen, with a client that talks to it without a socket.
pub struct Offline {
    pub running: Running,
    pub client: kube::Client,
    /// What was found (`kubectl cluster-info dump of …: 412 nodes, …`) and what the dump
    /// lacks, each with what follows (`no ControllerRevisions: …`): one line each.
    pub notes: Vec<String>,
    /// The dump's time (its newest timestamp), which ages are read against.
    pub time: Option<jiff::Timestamp>,
}

/// `--from PATH`: the dump frozen in-process (a tokio runtime must be running).
pub fn start(path: &Path) -> Result<Offline, String> {
    let l = load(path, true)?;
    let running = l.sim.spawn();
    let client = kube::Client::new(running.router(), "default");
    Ok(Offline { running, client, notes: l.notes, time: l.dump.time })
}

/// The demo scenario, embedded so `--demo` and `sim` need no files.
pub const DEMO: &str = include_str!("../../assets/scenarios/demo.yaml");
pub const DEMO_NAME: &str = "assets/scenarios/demo.yaml (embedded)";

/// A cluster served in-process for `--demo` or `--from PATH`.
pub struct Local {
    pub running: Running,
    pub client: kube::Client,
    /// `demo (simulated cluster)`, or `offline · <format> of <time>`.
    pub context: String,
    /// What to tell the user first (the dump's summary and what it lacks).
    pub notes: Vec<String>,
}

/// `--from PATH` (a dump, frozen; ages are read against its time from now on), else the
/// embedded demo. A tokio runtime must be running.
pub fn local(from: Option<&Path>) -> Result<Local, String> {
    let Some(path) = from else {
        let sc = Scenario::parse(DEMO_NAME, DEMO).map_err(|e| e.to_string())?;
        let built = Sim::build(&sc, SimOptions::from_scenario(&sc)).map_err(|e| format!("loading the demo: {e}"))?;
        let running = built.spawn();
        let client = kube::Client::new(running.router(), "default");
        return Ok(Local { running, client, context: "demo (simulated cluster)".into(), notes: Vec::new() });
    };
    let o = start(path)?;
    if let Some(t) = o.time {
        crate::k8s::clock::set_now(t);
    }
    let when = o.time.map(|t| t.strftime("%Y-%m-%d %H:%M UTC").to_string()).unwrap_or_else(|| "unknown time".into());
    Ok(Local { running: o.running, client: o.client, context: format!("{}dump of {when}", crate::k8s::dump::OFFLINE), notes: o.notes })
}

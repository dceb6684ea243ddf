//! Shared test helpers: start a simulator, build clients, run kubectl.
#![allow(dead_code)]

/// `insta::assert_snapshot!` of a screen, with what differs from run to run redacted —
/// generated pod-name suffixes and the age of the last event (`live 0s`, or `1s` on a slow
/// run) — and after those the caller's `regex => replacement` filters. A macro, so the
/// snapshot is named after the calling module (`it__ui_sizes__nodes_80x24.snap`).
macro_rules! assert_screen {
    ($name:expr, $s:expr $(, $re:expr => $with:expr)* $(,)?) => {{
        let mut settings = insta::Settings::clone_current();
        settings.add_filter(r"-[bcdfghjklmnpqrstvwxz2456789]{5}\b", "-xxxxx");
        settings.add_filter(r"live \d+s", "live Ns");
        $(settings.add_filter($re, $with);)*
        settings.bind(|| insta::assert_snapshot!($name, $s));
    }};
}

pub mod pty;

use std::path::PathBuf;
use std::process::{Command, Output};
use std::time::Duration;

use daemonscope::sim::scenario::Scenario;
use daemonscope::sim::{Running, Sim, SimOptions};

/// Settings that make a scenario move fast enough for tests.
pub const FAST: &str = "apiVersion: sim.daemonscope.io/v1alpha1
kind: Simulation
settings: {startDelay: 300ms, readyDelay: 200ms, termination: 300ms, crashAfter: 500ms, backoffBase: 1s, bookmarkInterval: 1s}
";

/// A `registry:` list, to follow a `Simulation` document (such as [`FAST`]): images the
/// simulated registry has besides those of the objects loaded at start (a rollout's new
/// image must be one of them, or its pods fail to pull).
pub fn registry_yaml(images: &[&str]) -> String {
    format!("registry: [{}]\n", images.iter().map(|i| format!("'{i}'")).collect::<Vec<_>>().join(", "))
}

pub fn nodes_yaml(names: &[&str]) -> String {
    names.iter().map(|n| format!("---\napiVersion: v1\nkind: Node\nmetadata: {{name: {n}, labels: {{pool: general}}}}\n")).collect()
}

pub fn ds_yaml(name: &str, strategy: &str) -> String {
    format!(
        "---
apiVersion: apps/v1
kind: DaemonSet
metadata: {{name: {name}, namespace: kube-system}}
spec:
  selector: {{matchLabels: {{app: {name}}}}}
  updateStrategy: {strategy}
  template:
    metadata: {{labels: {{app: {name}}}}}
    spec:
      containers: [{{name: {name}, image: 'registry.example/{name}:v1'}}]
"
    )
}

/// node-a running the `agent` DaemonSet, behind one bearer token for `user` whose RBAC
/// rule allows `verbs` (YAML list items, e.g. `'*'` or `get, list, watch`) on everything.
pub fn token_cluster(token: &str, user: &str, verbs: &str) -> String {
    format!(
        "{}{}---
apiVersion: sim.daemonscope.io/v1alpha1
kind: Simulation
settings:
  tokens:
  - {{token: {token}, user: {user}, rules: [{{verbs: [{verbs}], resources: ['*']}}]}}
",
        nodes_yaml(&["node-a"]),
        ds_yaml("agent", "{type: RollingUpdate}")
    )
}

/// A kubeconfig for `url` whose user gets credentials from an exec plugin: `sh -c SCRIPT`;
/// with `client`, also a client certificate and key (PEM).
pub fn exec_kubeconfig(url: &str, ca_pem: &str, script: &str, client: Option<(&str, &str)>) -> String {
    use base64::Engine;
    let b = |s: &str| base64::engine::general_purpose::STANDARD.encode(s);
    let client = client
        .map(|(cert, key)| format!("    client-certificate-data: {}\n    client-key-data: {}\n", b(cert), b(key)))
        .unwrap_or_default();
    format!(
        "apiVersion: v1
kind: Config
clusters:
- name: c
  cluster: {{server: '{url}', certificate-authority-data: {}}}
contexts:
- name: c
  context: {{cluster: c, user: u}}
current-context: c
users:
- name: u
  user:
{client}    exec:
      apiVersion: client.authentication.k8s.io/v1beta1
      command: sh
      args: ['-c', {script:?}]
      interactiveMode: Never
",
        b(ca_pem)
    )
}

/// A kubeconfig for `sim` (with its CA, and `token`, else the simulator's own) in a fresh
/// directory: (the directory, which must outlive its use, and the file's path).
pub fn kubeconfig_file(sim: &Running, token: Option<&str>) -> (tempfile::TempDir, String) {
    let dir = tempfile::tempdir().unwrap();
    let kc = dir.path().join("config");
    daemonscope::sim::write_kubeconfig(&kc, sim.url(), sim.ca_pem.as_deref(), token.or(sim.token.as_deref())).unwrap();
    let kc = kc.to_str().unwrap().to_string();
    (dir, kc)
}

pub fn scenario(yaml: &str) -> Scenario {
    Scenario::parse("test.yaml", yaml).expect("test scenario parses")
}

pub fn build(yaml: &str) -> Sim {
    let sc = scenario(yaml);
    Sim::build(&sc, SimOptions::from_scenario(&sc)).expect("scenario loads")
}

pub async fn serve(yaml: &str) -> Running {
    build(yaml).serve("127.0.0.1:0").await.expect("listen on loopback")
}

/// The administrator's client: the token the simulator generated, over HTTPS with its CA.
/// Plain HTTP, no authentication (`daemonscope sim --insecure-http`).
pub async fn serve_insecure(yaml: &str) -> Running {
    build(yaml).serve_with("127.0.0.1:0", daemonscope::sim::Transport::InsecureHttp).await.expect("listen on loopback")
}

pub fn client(r: &Running) -> kube::Client {
    client_with_token(r, None)
}

/// A kube-rs client through a kubeconfig, as the product connects (`None`: the
/// simulator's own administrator token).
pub fn client_with_token(r: &Running, token: Option<&str>) -> kube::Client {
    cluster_with_token(r, token.or(r.token.as_deref())).client
}

/// A client that sends no credentials at all.
pub fn anonymous_client(r: &Running) -> kube::Client {
    cluster_with_token(r, None).client
}

/// The product's client (with its own Retry-After hints), as it connects.
pub fn cluster(r: &Running) -> daemonscope::cluster::connect::Cluster {
    cluster_with_token(r, r.token.as_deref())
}

pub fn cluster_with_token(r: &Running, token: Option<&str>) -> daemonscope::cluster::connect::Cluster {
    let yaml = daemonscope::sim::kubeconfig_yaml(r.url(), r.ca_pem.as_deref(), token);
    let kc: kube::config::Kubeconfig = serde_saphyr::from_str(&yaml).expect("kubeconfig parses");
    let rt = tokio::runtime::Handle::current();
    let config =
        std::thread::scope(|s| s.spawn(|| rt.block_on(kube::Config::from_custom_kubeconfig(kc, &Default::default()))).join().unwrap())
            .expect("config");
    daemonscope::cluster::connect::build_client(config).expect("client")
}

/// Polls `f` every 50 ms until it returns Some, or panics after `secs`.
pub async fn eventually<T, F, Fut>(secs: u64, what: &str, mut f: F) -> T
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Option<T>>,
{
    let deadline = tokio::time::Instant::now() + Duration::from_secs(secs);
    loop {
        if let Some(v) = f().await {
            return v;
        }
        if tokio::time::Instant::now() > deadline {
            panic!("timed out after {secs}s waiting for: {what}");
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Polls `f` every 50 ms until it returns Ok, or panics after `secs` naming what it
/// waited for and the last state `f` reported (its Err).
pub async fn until<T, F, Fut>(secs: u64, what: &str, mut f: F) -> T
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Result<T, String>>,
{
    let deadline = tokio::time::Instant::now() + Duration::from_secs(secs);
    loop {
        match f().await {
            Ok(v) => return v,
            Err(last) if tokio::time::Instant::now() > deadline => {
                panic!("timed out after {secs}s waiting for: {what}\nlast state: {last}")
            }
            Err(_) => tokio::time::sleep(Duration::from_millis(50)).await,
        }
    }
}

/// The same for code that is not async (a poll with a bounded deadline, not a fixed wait).
pub fn until_blocking<T>(secs: u64, what: &str, mut f: impl FnMut() -> Result<T, String>) -> T {
    let deadline = std::time::Instant::now() + Duration::from_secs(secs);
    loop {
        match f() {
            Ok(v) => return v,
            Err(last) if std::time::Instant::now() > deadline => panic!("timed out after {secs}s waiting for: {what}\nlast state: {last}"),
            Err(_) => std::thread::sleep(Duration::from_millis(50)),
        }
    }
}

/// Every `kubectl.1.*` beside the `kubectl` on PATH (the Google Cloud SDK ships 1.27 to
/// 1.33 there), oldest first; empty, with a loud message, when there is none.
pub fn kubectl_versions() -> Vec<PathBuf> {
    let found = std::env::var_os("PATH")
        .into_iter()
        .flat_map(|p| std::env::split_paths(&p).collect::<Vec<_>>())
        .map(|d| d.join("kubectl"))
        .find(|k| k.is_file())
        .and_then(|k| std::fs::canonicalize(k).ok());
    let mut out: Vec<(u32, PathBuf)> = found
        .and_then(|k| std::fs::read_dir(k.parent()?).ok())
        .into_iter()
        .flatten()
        .filter_map(|e| {
            let p = e.ok()?.path();
            let minor = p.file_name()?.to_str()?.strip_prefix("kubectl.1.")?.parse().ok()?;
            Some((minor, p))
        })
        .collect();
    out.sort();
    if out.is_empty() {
        eprintln!("\n!!!!!!!! SKIPPED: no kubectl.1.* beside the kubectl on PATH; the kubectl version matrix did not run !!!!!!!!\n");
    }
    out.into_iter().map(|(_, p)| p).collect()
}

/// The kubectl to test with: `$KUBECTL`, else `kubectl` on PATH. None (with a loud
/// message) when there is none, so the caller can skip.
pub fn kubectl_bin() -> Option<PathBuf> {
    let bin = std::env::var_os("KUBECTL").map(PathBuf::from).unwrap_or_else(|| PathBuf::from("kubectl"));
    match Command::new(&bin).arg("version").arg("--client").output() {
        Ok(o) if o.status.success() => Some(bin),
        _ => {
            eprintln!("\n!!!!!!!! SKIPPED: kubectl not found ({}); kubectl conformance tests did not run !!!!!!!!\n", bin.display());
            None
        }
    }
}

/// A kubectl bound to one simulator through its own kubeconfig and cache dir.
pub struct Kubectl {
    pub bin: PathBuf,
    pub dir: tempfile::TempDir,
}

impl Kubectl {
    /// `token` None: the simulator's administrator token.
    pub fn new(bin: PathBuf, sim: &Running, token: Option<&str>) -> Self {
        let dir = tempfile::tempdir().expect("tempdir");
        let token = token.or(sim.token.as_deref());
        daemonscope::sim::write_kubeconfig(&dir.path().join("config"), sim.url(), sim.ca_pem.as_deref(), token).expect("kubeconfig");
        Kubectl { bin, dir }
    }

    pub fn cmd(&self, args: &[&str]) -> Command {
        let mut c = Command::new(&self.bin);
        c.env("KUBECONFIG", self.dir.path().join("config"))
            .env("HOME", self.dir.path())
            .arg("--cache-dir")
            .arg(self.dir.path().join("cache"))
            .args(args);
        c
    }

    pub fn run(&self, args: &[&str]) -> Output {
        self.cmd(args).output().expect("kubectl runs")
    }

    /// Runs and returns stdout; panics with stderr on failure.
    pub fn ok(&self, args: &[&str]) -> String {
        let o = self.run(args);
        assert!(
            o.status.success(),
            "kubectl {args:?} failed: {}{}",
            String::from_utf8_lossy(&o.stdout),
            String::from_utf8_lossy(&o.stderr)
        );
        String::from_utf8_lossy(&o.stdout).into_owned()
    }

    /// Runs blocking kubectl off the async runtime; returns stdout, panics on failure.
    pub async fn ok_async(&self, args: &[&str]) -> String {
        let o = self.run_async(args).await;
        assert!(
            o.status.success(),
            "kubectl {args:?} failed: {}{}",
            String::from_utf8_lossy(&o.stdout),
            String::from_utf8_lossy(&o.stderr)
        );
        String::from_utf8_lossy(&o.stdout).into_owned()
    }

    pub async fn run_async(&self, args: &[&str]) -> Output {
        let mut c = self.cmd(args);
        tokio::task::spawn_blocking(move || c.output().expect("kubectl runs")).await.expect("join")
    }
}

/// Every object of kind `K` in the simulator, converted as the client's watch converts it.
pub fn changes<K: daemonscope::cluster::watch::Watched + daemonscope::sim::store::SimObject>(sim: &Sim) -> Vec<daemonscope::model::Change> {
    sim.store.list::<K>(None).0.iter().filter_map(|o| o.change()).collect()
}

/// What the watches send for the simulator's objects: each one, then every watch live.
pub fn all_updates(sim: &Sim) -> Vec<daemonscope::cluster::watch::Update> {
    use daemonscope::cluster::watch::{SyncState, Update};
    use k8s_openapi::api::apps::v1::{ControllerRevision, DaemonSet};
    use k8s_openapi::api::core::v1::{Node, Pod, Service};
    let objects =
        [changes::<Node>(sim), changes::<DaemonSet>(sim), changes::<Pod>(sim), changes::<ControllerRevision>(sim), changes::<Service>(sim)];
    let live = daemonscope::model::Resource::ALL.iter().map(|r| Update::Sync(*r, SyncState::Live));
    objects.concat().into_iter().map(Update::Change).chain(live).collect()
}

/// A drawn screen as text, each line's trailing blanks trimmed (rows are kept: a blank row
/// inside a box is part of what the operator sees).
pub fn screen_text(buf: &ratatui::buffer::Buffer) -> String {
    let area = buf.area;
    let mut out = String::new();
    for y in 0..area.height {
        let line: String = (0..area.width).map(|x| buf[(x, y)].symbol().to_string()).collect();
        out.push_str(line.trim_end());
        out.push('\n');
    }
    out
}

/// The demo cluster with its timeline applied up to `until_s` seconds, then `advance_s`
/// seconds of simulated time.
pub fn demo_at(until_s: u64, advance_s: usize) -> Sim {
    let text = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/assets/scenarios/demo.yaml")).unwrap();
    let mut sim = build(&text);
    for a in scenario(&text).timeline.iter().filter(|t| t.at.as_secs() <= until_s) {
        sim.apply(&a.action).unwrap();
    }
    for _ in 0..advance_s {
        sim.advance(1);
    }
    sim
}

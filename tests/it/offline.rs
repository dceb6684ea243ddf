//! Offline: `--from PATH` reads what a cluster left behind — `kubectl get` output,
//! `kubectl cluster-info dump` (stream and directory), an OpenShift must-gather, a
//! troubleshoot.sh support bundle, a daemonscope snapshot — as a directory, a file or a
//! `.tar.gz`/`.tgz`/`.zip` read in place (fixtures in `tests/fixtures/dumps/`, written by
//! its `generate.py` with real dumps' quirks). `status --from X` says what it found in one
//! line and prints the same JSON as `status` against `sim --from X --frozen` (the context
//! name aside); the frozen simulator answers writes 405 with a Status body; a dump's pods
//! are served as they were.

use crate::common;

use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

fn fixtures() -> PathBuf {
    PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/dumps"))
}

fn bin(args: &[&str]) -> (i32, String, String) {
    let o = Command::new(env!("CARGO_BIN_EXE_daemonscope")).args(args).env("XDG_STATE_HOME", std::env::temp_dir()).output().unwrap();
    (o.status.code().unwrap_or(-1), String::from_utf8_lossy(&o.stdout).into(), String::from_utf8_lossy(&o.stderr).into())
}

/// Every file under `dir`, relative, in order.
fn files(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() { stack.push(p) } else { out.push(p.strip_prefix(dir).unwrap().to_path_buf()) }
        }
    }
    out.sort();
    out
}

fn tar_gz(dir: &Path, to: &Path) {
    let gz = flate2::write::GzEncoder::new(std::fs::File::create(to).unwrap(), flate2::Compression::fast());
    let mut t = tar::Builder::new(gz);
    t.append_dir_all(".", dir).unwrap();
    t.into_inner().unwrap().finish().unwrap();
}

fn zip(dir: &Path, to: &Path) {
    let mut z = zip::ZipWriter::new(std::fs::File::create(to).unwrap());
    let opts = zip::write::SimpleFileOptions::default().compression_method(zip::CompressionMethod::Deflated);
    for f in files(dir) {
        z.start_file(f.to_string_lossy(), opts).unwrap();
        z.write_all(&std::fs::read(dir.join(&f)).unwrap()).unwrap();
    }
    z.finish().unwrap();
}

/// (name, path, what the summary line says) of every fixture, and archives of the trees.
fn dumps(tmp: &Path) -> Vec<(String, PathBuf, &'static str)> {
    let f = fixtures();
    let mut out = vec![
        (
            "kubectl get".to_string(),
            f.join("kubectl-get/get.yaml"),
            "kubectl get output of 2025-03-02 14:02 UTC: 3 nodes, 2 DaemonSets, 9 pods, 1 ControllerRevision, 0 events",
        ),
        (
            "cluster-info dump".into(),
            f.join("cluster-info-dump.json"),
            "kubectl cluster-info dump of 2025-03-02 14:03 UTC: 3 nodes, 2 DaemonSets, 9 pods, 0 ControllerRevisions, 1 event",
        ),
        (
            "cluster-info dump dir".into(),
            f.join("cluster-info-dir"),
            "kubectl cluster-info dump --output-directory of 2025-03-02 14:03 UTC: 3 nodes, 2 DaemonSets, 9 pods, 0 ControllerRevisions, 1 event",
        ),
        (
            "must-gather".into(),
            f.join("must-gather"),
            "OpenShift must-gather of 2025-03-02 14:03 UTC: 3 nodes, 2 DaemonSets, 9 pods, 1 ControllerRevision, 1 event",
        ),
        (
            "support bundle".into(),
            f.join("support-bundle"),
            "troubleshoot.sh support bundle of 2025-03-02 14:03 UTC: 3 nodes, 2 DaemonSets, 9 pods, 0 ControllerRevisions, 1 event",
        ),
    ];
    let tgz = tmp.join("bundle.tar.gz");
    tar_gz(&f.join("support-bundle"), &tgz);
    out.push(("support bundle .tar.gz".into(), tgz, out[4].2));
    let tgz = tmp.join("must-gather.tgz");
    tar_gz(&f.join("must-gather"), &tgz);
    out.push(("must-gather .tgz".into(), tgz, out[3].2));
    let z = tmp.join("dump.zip");
    zip(&f.join("cluster-info-dir"), &z);
    out.push(("cluster-info dump dir .zip".into(), z, out[2].2));
    out
}

#[test]
fn every_format_is_detected_and_said_in_one_line() {
    let tmp = tempfile::tempdir().unwrap();
    for (name, path, summary) in dumps(tmp.path()) {
        let (code, out, err) = bin(&["status", "--from", path.to_str().unwrap()]);
        // A crash-looping agent: the gate fails (1), it does not error (2).
        assert_eq!(code, 1, "{name}: {out}{err}");
        assert_eq!(err.lines().next(), Some(format!("daemonscope: {summary}").as_str()), "{name}: {err}");
        assert!(out.contains("kube-system      node-agent"), "{name}: {out}");
        assert!(out.contains("CrashLoopBackOff"), "{name}: {out}");
        assert!(out.contains("context offline · dump of 2025-03-02 14:0"), "{name}: {out}");
        if summary.contains("0 ControllerRevisions") {
            assert!(err.contains("no ControllerRevisions: up-to-date judged from the pod-template-generation label"), "{name}: {err}");
        }
    }
}

#[test]
fn bad_paths_are_one_line() {
    let (code, out, err) = bin(&["status", "--from", "/nonexistent/dump"]);
    assert_eq!((code, out.as_str()), (2, ""));
    assert_eq!(err, "daemonscope: /nonexistent/dump: no such file or directory\n");
    let tmp = tempfile::tempdir().unwrap();
    let empty = tmp.path().join("notes.txt");
    std::fs::write(&empty, "nothing to see\n").unwrap();
    let (code, _, err) = bin(&["status", "--from", empty.to_str().unwrap()]);
    assert_eq!(code, 2, "{err}");
    assert!(err.starts_with("daemonscope: ") && err.lines().count() == 1 && err.contains("no Kubernetes objects found"), "{err}");
    let (code, _, err) = bin(&["status", "--from", empty.to_str().unwrap(), "--context", "x"]);
    assert_eq!(code, 2, "{err}");
}

/// `daemonscope sim --from PATH --frozen` on a free port: the child and its kubeconfig.
fn frozen(path: &Path, dir: &Path) -> (std::process::Child, PathBuf) {
    let kc = dir.join("kc");
    let mut child = Command::new(env!("CARGO_BIN_EXE_daemonscope"))
        .args(["sim", "--frozen", "--insecure-http", "--listen", "127.0.0.1:0", "--from"])
        .arg(path)
        .arg("--kubeconfig-out")
        .arg(&kc)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let first = lines.next().unwrap().unwrap();
    assert!(first.starts_with("daemonscope sim: "), "{first}");
    let serving = lines.next().unwrap().unwrap();
    assert!(serving.starts_with("serving http://127.0.0.1:"), "{serving}");
    // Keep reading so the child never blocks on a full pipe.
    std::thread::spawn(move || for _ in lines {});
    (child, kc)
}

fn without_context(json: &str) -> String {
    let mut v: serde_json::Value = serde_json::from_str(json).unwrap_or_else(|e| panic!("{e}: {json}"));
    v["context"] = serde_json::Value::String("<context>".into());
    serde_json::to_string_pretty(&v).unwrap()
}

#[test]
fn status_from_a_dump_equals_status_against_the_frozen_simulator() {
    let tmp = tempfile::tempdir().unwrap();
    for (name, path, _) in dumps(tmp.path()) {
        let p = path.to_str().unwrap();
        let (code, offline, err) = bin(&["status", "--from", p, "-o", "json"]);
        assert_eq!(code, 1, "{name}: {err}");
        let dir = tempfile::tempdir().unwrap();
        let (mut child, kc) = frozen(&path, dir.path());
        let (code2, live, err2) = bin(&["status", "--kubeconfig", kc.to_str().unwrap(), "-o", "json"]);
        child.kill().ok();
        child.wait().ok();
        assert_eq!(code2, code, "{name}: {err2}");
        assert_eq!(without_context(&offline), without_context(&live), "{name}");
    }
}

#[test]
fn the_frozen_simulator_serves_the_dump_as_it_was_and_refuses_writes() {
    let Some(kubectl) = common::kubectl_bin() else { return };
    let dir = tempfile::tempdir().unwrap();
    let (mut child, kc) = frozen(&fixtures().join("must-gather"), dir.path());
    let run = |args: &[&str]| Command::new(&kubectl).arg("--kubeconfig").arg(&kc).args(args).output().unwrap();
    let pods = run(&["get", "pods", "-A", "-o", "wide"]);
    let text = String::from_utf8_lossy(&pods.stdout).to_string();
    // The finished pod stays Completed; the crash-looping one keeps its restarts; IPs as dumped.
    assert!(text.lines().any(|l| l.contains("migrate-xyz12") && l.contains("Completed") && l.contains("10.4.2.8")), "{text}");
    assert!(text.lines().any(|l| l.contains("node-agent-d3e4f") && l.contains("CrashLoopBackOff") && l.contains(" 7 ")), "{text}");
    assert!(text.contains("ip-10-0-55-12.eu-west-1.compute.internal"), "a pod on a node not in the dump is kept:\n{text}");
    let cordon = run(&["cordon", "gke-prod-default-pool-3f4e5a6b-x7k2"]);
    let err = String::from_utf8_lossy(&cordon.stderr).to_string();
    // (kubectl cordon says so and still exits 0.)
    assert!(err.contains("MethodNotAllowed") || err.contains("not allowed"), "{err}");
    let raw = run(&["patch", "node", "gke-prod-default-pool-3f4e5a6b-x7k2", "-p", "{\"spec\":{\"unschedulable\":true}}", "-v=8"]);
    let log = String::from_utf8_lossy(&raw.stderr).to_string();
    assert!(
        log.contains("405 Method Not Allowed")
            && log.contains("kind\\\":\\\"Status")
            && log.contains("MethodNotAllowed")
            && log.contains("frozen"),
        "{log}"
    );
    // Its logs are the dump's.
    let logs = run(&["logs", "-n", "kube-system", "node-agent-d3e4f"]);
    assert_eq!(String::from_utf8_lossy(&logs.stdout), "starting node-agent v2\nerror: cannot open /host/proc: permission denied\n");
    let none = run(&["logs", "-n", "kube-system", "node-agent-a1b2c"]);
    assert!(String::from_utf8_lossy(&none.stderr).contains("the dump has no log of container"), "{none:?}");
    // Nothing ran: the crash-looping pod's restarts are still 7.
    let again = String::from_utf8_lossy(&run(&["get", "pod", "-n", "kube-system", "node-agent-d3e4f"]).stdout).to_string();
    assert!(again.contains(" 7 "), "{again}");
    child.kill().ok();
    child.wait().ok();
}

/// The TUI on a dump: every view shows it, the context says `offline`, and an action is
/// refused with one line.
#[test]
fn the_tui_on_a_dump_is_offline_and_refuses_actions() {
    use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
    use daemonscope::ui::{App, Msg, Session, Theme};
    let l = daemonscope::sim::offline::load(&fixtures().join("support-bundle"), true).unwrap();
    let mut app = App::new("offline · dump of 2025-03-02 14:03 UTC", Theme::new(false))
        .with_session(Session { readonly: true, ..Default::default() });
    let _ = app.update(Msg::Watch(common::all_updates(&l.sim)));
    let screen = |app: &mut App| {
        let mut t = ratatui::Terminal::new(ratatui::backend::TestBackend::new(120, 30)).unwrap();
        t.draw(|f| app.draw(f)).unwrap();
        common::screen_text(t.backend().buffer())
    };
    let s = screen(&mut app);
    assert!(s.contains("offline · dump of 2025-03-02 14:03 UTC") && s.contains("node-agent") && s.contains("legacy-logger"), "{s}");
    let _ = app.update(Msg::Key(KeyEvent::new(KeyCode::Char('n'), KeyModifiers::NONE)));
    let s = screen(&mut app);
    assert!(
        s.contains("default-pool") && s.contains("ng-general") && s.contains("us-central1-b"),
        "pools and the deprecated zone label:\n{s}"
    );
    let _ = app.update(Msg::Key(KeyEvent::new(KeyCode::Char('c'), KeyModifiers::NONE)));
    let s = screen(&mut app);
    assert!(s.contains("offline: nothing to act on"), "{s}");
}

/// `serve --from`: the exporter's status JSON and metrics from a dump.
#[test]
fn serve_from_a_dump_exports_its_coverage() {
    use std::io::Read;
    let mut child = Command::new(env!("CARGO_BIN_EXE_daemonscope"))
        .args(["serve", "--listen", "127.0.0.1:0", "--from"])
        .arg(fixtures().join("cluster-info-dump.json"))
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stderr.take().unwrap()).lines();
    let addr = loop {
        let l = lines.next().expect("serve's banner").unwrap();
        if let Some(rest) = l.strip_prefix("daemonscope serve: context offline · dump of 2025-03-02 14:03 UTC, serving http://") {
            break rest.trim_end_matches("/metrics").to_string();
        }
    };
    std::thread::spawn(move || for _ in lines {});
    let get = |path: &str| {
        let mut s = std::net::TcpStream::connect(&addr).unwrap();
        write!(s, "GET {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n").unwrap();
        let mut out = String::new();
        s.read_to_string(&mut out).unwrap();
        out
    };
    let status = common::until_blocking(30, "the status of the dump", || {
        let r = get("/api/v1/status?pretty");
        if r.contains("\"covered\": 1") { Ok(r) } else { Err(r) }
    });
    assert!(status.contains("legacy-logger"), "{status}");
    let metrics = get("/metrics");
    assert!(
        metrics.contains("daemonscope_daemonset_nodes{namespace=\"kube-system\",daemonset=\"node-agent\",state=\"failing\"} 1"),
        "{metrics}"
    );
    child.kill().ok();
    child.wait().ok();
}

/// `snapshot --from`: a dump becomes a scenario the simulator loads (and `--from` reads back).
#[test]
fn snapshot_from_a_dump_is_a_scenario() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("snap.yaml");
    let from = fixtures().join("support-bundle");
    let (code, _, err) = bin(&["snapshot", "--from", from.to_str().unwrap(), "-o", out.to_str().unwrap()]);
    assert_eq!(code, 0, "{err}");
    let text = std::fs::read_to_string(&out).unwrap();
    assert!(text.starts_with("# A snapshot of offline · dump of 2025-03-02 14:03 UTC, written by"), "{}", text.lines().next().unwrap());
    assert!(text.contains("address: \"10.0.101.213\""), "node addresses travel:\n{text}");
    let sc = common::scenario(&text);
    assert!(daemonscope::sim::Sim::build(&sc, daemonscope::sim::SimOptions::from_scenario(&sc)).is_ok());
    let (code, _, err) = bin(&["status", "--from", out.to_str().unwrap()]);
    assert!(err.starts_with("daemonscope: daemonscope snapshot of "), "{err}");
    assert!(code == 0 || code == 1, "{err}");
}

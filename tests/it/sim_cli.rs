//! `daemonscope sim` as a user runs it: prints where it serves, writes a kubeconfig,
//! serves HTTPS with a token by default and keeps both across a restart, refuses remote
//! listeners and files it did not write, stops on SIGTERM, and names file, document and
//! field of a bad scenario.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::Duration;

fn bin() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_daemonscope"));
    c.env("XDG_STATE_HOME", std::env::temp_dir().join("daemonscope-test-state"));
    c
}

#[test]
fn serves_the_demo_over_https_with_a_token_and_writes_a_private_kubeconfig() {
    let dir = tempfile::tempdir().unwrap();
    let kc = dir.path().join("kc");
    let (mut child, mut lines) = spawn_sim(&["--listen", "127.0.0.1:0"], &kc);
    let first = lines.next().unwrap().unwrap();
    assert!(first.starts_with("daemonscope sim: assets/scenarios/demo.yaml (embedded) — 50 nodes,"), "{first}");
    let serving = lines.next().unwrap().unwrap();
    let url = serving.strip_prefix("serving ").expect("serving line").to_string();
    assert!(url.starts_with("https://127.0.0.1:"), "{url}");
    let cfg = std::fs::read_to_string(&kc).unwrap();
    assert!(cfg.contains(&format!("server: {url}")) && cfg.contains("current-context: daemonscope-sim"), "{cfg}");
    assert!(cfg.contains("certificate-authority-data: ") && cfg.contains("    token: "), "{cfg}");
    {
        use std::os::unix::fs::PermissionsExt;
        assert_eq!(std::fs::metadata(&kc).unwrap().permissions().mode() & 0o777, 0o600);
    }
    // The server answers like an API server: /version to anyone, the rest with the token.
    let (code, body) = get(&kc, true, "/version");
    assert!(code == 200 && body.contains("\"gitVersion\":\"v1.32.4+daemonscope-sim\""), "{code} {body}");
    assert_eq!(get(&kc, false, "/api/v1/nodes").0, 401);
    assert_eq!(get(&kc, true, "/api/v1/nodes").0, 200);
    // The standalone output never prints the token.
    let token = cfg.lines().find_map(|l| l.trim().strip_prefix("token: ")).unwrap().to_string();
    assert!(!first.contains(&token) && !serving.contains(&token));
    // SIGTERM stops it cleanly.
    unsafe_kill(child.id());
    let status = wait_timeout(&mut child, Duration::from_secs(10));
    assert!(status.success(), "{status:?}");
    let rest: String = lines.map_while(Result::ok).collect::<Vec<_>>().join("\n");
    assert!(!rest.contains(&token), "{rest}");
}

/// Killed and started again on the same port with the same kubeconfig, the simulator
/// reuses the CA and token it finds there: a client made before the restart keeps working.
#[test]
fn a_restart_with_the_same_kubeconfig_keeps_clients_working() {
    let dir = tempfile::tempdir().unwrap();
    let kc = dir.path().join("kc");
    let (mut child, mut lines) = spawn_sim(&["--nodes", "3", "--daemonsets", "1", "--listen", "127.0.0.1:0"], &kc);
    let _ = lines.next().unwrap().unwrap();
    let url = lines.next().unwrap().unwrap().strip_prefix("serving ").unwrap().to_string();
    let before = std::fs::read_to_string(&kc).unwrap();
    let rt = tokio::runtime::Runtime::new().unwrap();
    let client = rt.block_on(client_from(&kc, true));
    assert_eq!(rt.block_on(status_of(&client, "/api/v1/nodes")), 200);
    child.kill().unwrap();
    child.wait().unwrap();
    let port = url.rsplit(':').next().unwrap();
    let (mut child, mut lines) = spawn_sim(&["--nodes", "3", "--daemonsets", "1", "--listen", &format!("127.0.0.1:{port}")], &kc);
    let _ = lines.next().unwrap().unwrap();
    assert_eq!(lines.next().unwrap().unwrap(), format!("serving {url}"));
    assert_eq!(std::fs::read_to_string(&kc).unwrap(), before, "the same CA, CA key and token");
    // The old client (old CA, old token, pooled connection gone) still gets answers.
    assert_eq!(rt.block_on(status_of(&client, "/api/v1/nodes")), 200);
    child.kill().unwrap();
    child.wait().unwrap();
}

/// What `daemonscope sim` refuses before serving anything, in one line each.
#[test]
fn refuses_remote_listeners_and_files_it_did_not_write() {
    let dir = tempfile::tempdir().unwrap();
    let kc = dir.path().join("kc");
    let run = |args: &[&str]| {
        let o = bin().arg("sim").args(args).output().unwrap();
        (o.status.code(), String::from_utf8_lossy(&o.stderr).into_owned())
    };
    let (code, err) = run(&["--listen", "0.0.0.0:0", "--kubeconfig-out", kc.to_str().unwrap()]);
    assert_eq!(code, Some(1));
    assert_eq!(err, "daemonscope: --listen 0.0.0.0:0 is reachable from other machines; add --allow-remote to serve there anyway\n");
    assert!(!kc.exists());
    // Someone's real kubeconfig at the path is left alone…
    let other = dir.path().join("config");
    let original = "apiVersion: v1\nkind: Config\nclusters: [{name: prod, cluster: {server: 'https://prod.example:6443'}}]\n";
    std::fs::write(&other, original).unwrap();
    let (code, err) = run(&["--kubeconfig-out", other.to_str().unwrap()]);
    assert_eq!(code, Some(1));
    assert!(
        err.starts_with("daemonscope: ") && err.contains("is not a kubeconfig this simulator wrote; leaving it alone (use --force"),
        "{err}"
    );
    // …and a symlink to it is not followed.
    let link = dir.path().join("link");
    std::os::unix::fs::symlink(&other, &link).unwrap();
    let (code, err) = run(&["--kubeconfig-out", link.to_str().unwrap()]);
    assert_eq!(code, Some(1));
    assert!(err.contains("is a symbolic link; leaving it alone"), "{err}");
    assert_eq!(std::fs::read_to_string(&other).unwrap(), original);
    // Plain HTTP cannot be opened to other machines.
    let (code, err) = run(&["--insecure-http", "--allow-remote"]);
    assert_eq!(code, Some(2), "{err}");
    assert!(err.contains("cannot be used with"), "{err}");
}

/// A client from the kubeconfig at `kc`, with its token or (`token: false`) without.
async fn client_from(kc: &std::path::Path, token: bool) -> kube::Client {
    let mut k = kube::config::Kubeconfig::read_from(kc).unwrap();
    if !token {
        k.auth_infos[0].auth_info = Some(Default::default());
    }
    let config = kube::Config::from_custom_kubeconfig(k, &Default::default()).await.unwrap();
    kube::Client::try_from(config).unwrap()
}

async fn status_of(c: &kube::Client, path: &str) -> u16 {
    send(c, path).await.0
}

async fn send(c: &kube::Client, path: &str) -> (u16, String) {
    use http_body_util::BodyExt;
    let req = http::Request::get(path).body(kube::client::Body::empty()).unwrap();
    let resp = c.send(req).await.unwrap();
    let code = resp.status().as_u16();
    let body = resp.into_body().collect().await.unwrap().to_bytes();
    (code, String::from_utf8_lossy(&body).into_owned())
}

/// GET `path` from the simulator the kubeconfig at `kc` points to.
fn get(kc: &std::path::Path, token: bool, path: &str) -> (u16, String) {
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(async { send(&client_from(kc, token).await, path).await })
}

/// `daemonscope sim ARGS --kubeconfig-out KC`, and the lines it prints.
fn spawn_sim(args: &[&str], kc: &std::path::Path) -> (std::process::Child, std::io::Lines<BufReader<std::process::ChildStdout>>) {
    let mut child =
        bin().arg("sim").args(args).arg("--kubeconfig-out").arg(kc).stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().unwrap();
    let lines = BufReader::new(child.stdout.take().unwrap()).lines();
    (child, lines)
}

/// One plain HTTP/1.1 GET to the simulator at `url` (http://127.0.0.1:PORT): the raw response.
fn http_get(url: &str, path: &str) -> String {
    use std::io::{Read, Write};
    let port: u16 = url.rsplit(':').next().unwrap().parse().unwrap();
    let mut s = std::net::TcpStream::connect(("127.0.0.1", port)).unwrap();
    s.write_all(format!("GET {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n").as_bytes()).unwrap();
    let mut resp = String::new();
    s.read_to_string(&mut resp).unwrap();
    resp
}

fn unsafe_kill(pid: u32) {
    Command::new("kill").arg("-TERM").arg(pid.to_string()).status().unwrap();
}

fn wait_timeout(child: &mut std::process::Child, t: Duration) -> std::process::ExitStatus {
    let deadline = std::time::Instant::now() + t;
    loop {
        if let Some(s) = child.try_wait().unwrap() {
            return s;
        }
        if std::time::Instant::now() > deadline {
            child.kill().ok();
            panic!("did not exit within {t:?}");
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[test]
fn a_bad_scenario_names_file_document_and_field() {
    let dir = tempfile::tempdir().unwrap();
    let f = dir.path().join("broken.yaml");
    std::fs::write(&f, "apiVersion: v1\nkind: Node\nmetadata: {name: a}\n---\napiVersion: v1\nkind: Node\nmetadata: {name: b}\nspec: {unschedulable: sometimes}\n").unwrap();
    let out = bin().args(["sim", "--scenario"]).arg(&f).output().unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains(&format!(
            "{}: Node b (document 2): spec.unschedulable: invalid type: string \"sometimes\", expected a boolean",
            f.display()
        )),
        "{err}"
    );
}

/// Every way a scenario can be wrong is one line (no report, no `Location:`), naming the
/// file, the document by kind and name when the problem is in one, and the problem; an
/// empty scenario is refused rather than served as a 0-node cluster.
#[test]
fn scenario_errors_are_one_line_naming_file_document_and_problem() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let node = |n: &str| format!("---\napiVersion: v1\nkind: Node\nmetadata: {{name: {n}}}\n");
    let write = |name: &str, body: &[u8]| {
        let p = d.join(name);
        std::fs::write(&p, body).unwrap();
        p
    };
    std::fs::create_dir(d.join("adir.yaml")).unwrap();
    let mut binary: Vec<u8> = (0u8..=255).collect();
    binary.extend_from_slice(b"\x7fELF\0\0\0");
    let cases: Vec<(std::path::PathBuf, &str)> = vec![
        (d.join("missing.yaml"), "missing.yaml: no such file"),
        (
            write("bad.yaml", b"apiVersion: v1\nkind: Node\nmetadata: {name: a\n"),
            "bad.yaml: not valid YAML: line 3 column 11: unclosed bracket",
        ),
        (
            write(
                "kind.yaml",
                format!("{}---\napiVersion: v1\nkind: ConfigMap\nmetadata: {{name: cm, namespace: x}}\n", node("a")).as_bytes(),
            ),
            "kind.yaml: ConfigMap x/cm (document 2): unsupported kind \"ConfigMap\"",
        ),
        (
            write("dup.yaml", [node("a"), node("b"), node("a")].concat().as_bytes()),
            "dup.yaml: Node a (document 3): defined twice: document 1 already defines this Node",
        ),
        (d.join("adir.yaml"), "adir.yaml: is a directory, not a scenario file"),
        (write("binary.yaml", &binary), "binary.yaml: not a text file"),
        (write("nul.yaml", b"apiVersion: v1\0\0"), "nul.yaml: not a text file"),
        (write("empty.yaml", b""), "empty.yaml: empty scenario"),
        (write("comments.yaml", b"# nothing yet\n---\n---\n"), "comments.yaml: empty scenario"),
    ];
    for (path, want) in cases {
        let kc = d.join("kc");
        let out = refused(bin().args(["sim", "--listen", "127.0.0.1:0", "--kubeconfig-out"]).arg(&kc).arg("--scenario").arg(&path));
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "{}: {err}", path.display());
        assert!(out.stdout.is_empty(), "{}: never served: {}", path.display(), String::from_utf8_lossy(&out.stdout));
        assert_eq!(err.lines().count(), 1, "one line: {err}");
        assert!(err.starts_with(&format!("daemonscope: {}", d.display())), "names the file: {err}");
        assert!(err.contains(want), "{err:?} should say {want:?}");
        assert!(!err.contains("Location") && !err.contains("document 0") && !err.contains("panicked"), "{err}");
    }
    // Other mistakes of `sim`: a port it cannot listen on, paths it cannot write (under
    // a regular file, so not even root can create them).
    let file = write("afile", b"x");
    let (kc, sc) = (format!("{}/kc", file.display()), format!("{}/s.yaml", file.display()));
    for (args, want) in [
        (vec!["--listen", "256.0.0.1:1"], "daemonscope: --listen 256.0.0.1:1: ".to_string()),
        (vec!["--listen", "127.0.0.1:0", "--kubeconfig-out", &kc], format!("daemonscope: cannot write the kubeconfig {kc}: ")),
        (vec!["--nodes", "2", "--daemonsets", "1", "--write-scenario", &sc], format!("daemonscope: cannot write {sc}: ")),
    ] {
        let out = refused(bin().arg("sim").args(&args));
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "{args:?}: {err}");
        assert_eq!(err.lines().count(), 1, "{args:?}: one line: {err}");
        assert!(err.starts_with(&want), "{args:?}: {err}");
    }
}

/// Runs a `sim` that should refuse to start; kills it (and fails) if it serves instead.
fn refused(cmd: &mut Command) -> std::process::Output {
    let child = cmd.stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().unwrap();
    let pid = child.id();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || tx.send(child.wait_with_output().unwrap()));
    match rx.recv_timeout(Duration::from_secs(20)) {
        Ok(out) => out,
        Err(_) => {
            Command::new("kill").arg(pid.to_string()).status().unwrap();
            panic!("{cmd:?} did not exit: it started although it should have refused");
        }
    }
}

#[test]
fn generates_and_writes_synthetic_scenarios() {
    let dir = tempfile::tempdir().unwrap();
    let f = dir.path().join("big.yaml");
    let out = bin().args(["sim", "--nodes", "120", "--daemonsets", "12", "--write-scenario"]).arg(&f).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let text = std::fs::read_to_string(&f).unwrap();
    assert_eq!(text.matches("\nkind: Node\n").count(), 120);
    assert_eq!(text.matches("\nkind: DaemonSet\n").count(), 12);
    // What it wrote loads back as a scenario: its objects, and a Simulation document
    // whose registry has the images a replayed rollout moves to.
    let sc = daemonscope::sim::scenario::Scenario::parse("big.yaml", &text).unwrap();
    assert_eq!(sc.objects.len() + 1, text.matches("---\n").count());
    assert!(sc.registry.contains(&"registry.k8s.io/kube-proxy:v1.32.4-next".to_string()), "{:?}", sc.registry);
}

#[test]
fn fault_flags_are_announced_and_applied() {
    let dir = tempfile::tempdir().unwrap();
    let kc = dir.path().join("kc");
    let (mut child, mut lines) = spawn_sim(
        &["--insecure-http", "--nodes", "20", "--daemonsets", "2", "--server-errors", "1", "--drop-watches", "1s", "--outage", "1m+10s"],
        &kc,
    );
    let _first = lines.next().unwrap().unwrap();
    let url = lines.next().unwrap().unwrap().strip_prefix("serving ").unwrap().to_string();
    let faults = lines.next().unwrap().unwrap();
    assert_eq!(faults, "injecting faults: watches dropped every 1s, 100% server errors (500), down 10s from 60s");
    let resp = http_get(&url, "/api/v1/nodes");
    assert!(resp.starts_with("HTTP/1.1 500") && resp.contains("\"reason\":\"InternalError\""), "{resp}");
    unsafe_kill(child.id());
    assert!(wait_timeout(&mut child, Duration::from_secs(10)).success());
    // A bad fraction is refused by the flag parser, naming it.
    let o = bin().args(["sim", "--throttle", "1.5"]).output().unwrap();
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(!o.status.success() && err.contains("\"1.5\" is not a fraction between 0 and 1"), "{err}");
}

/// `--context-name` names the context, cluster and user, so two simulators' kubeconfigs
/// merge with `KUBECONFIG=a:b` into two contexts kubectl (and daemonscope) can each use;
/// the default name stays `daemonscope-sim`; a name that cannot be one is one line.
#[test]
fn context_names_let_several_simulators_kubeconfigs_merge() {
    let dir = tempfile::tempdir().unwrap();
    let (kc_a, kc_b) = (dir.path().join("a"), dir.path().join("b"));
    let (mut a, mut lines_a) = spawn_sim(&["--nodes", "2", "--daemonsets", "1", "--context-name", "prod-eu"], &kc_a);
    let (mut b, mut lines_b) = spawn_sim(&["--nodes", "3", "--daemonsets", "1", "--context-name", "prod-us"], &kc_b);
    let banner_a: Vec<String> = lines_a.by_ref().take(3).map(Result::unwrap).collect();
    let _ = lines_b.by_ref().take(3).count();
    assert_eq!(banner_a[2], format!("kubeconfig {} (context prod-eu)", kc_a.display()));
    let merged = std::env::join_paths([&kc_a, &kc_b]).unwrap();
    let kubectl = |args: &[&str]| {
        let out = Command::new("kubectl").args(args).env("KUBECONFIG", &merged).output().expect("kubectl on PATH");
        assert!(out.status.success(), "kubectl {args:?}: {}", String::from_utf8_lossy(&out.stderr));
        String::from_utf8(out.stdout).unwrap()
    };
    assert_eq!(kubectl(&["config", "get-contexts", "-o", "name"]), "prod-eu\nprod-us\n");
    assert_eq!(kubectl(&["config", "view", "-o", "jsonpath={.clusters[*].name} {.users[*].name}"]), "prod-eu prod-us prod-eu prod-us");
    // Each context reaches its own simulator, with its own CA and token.
    assert_eq!(kubectl(&["--context", "prod-eu", "get", "nodes", "-o", "name"]).lines().count(), 2);
    assert_eq!(kubectl(&["--context", "prod-us", "get", "nodes", "-o", "name"]).lines().count(), 3);
    a.kill().unwrap();
    b.kill().unwrap();
    a.wait().unwrap();
    b.wait().unwrap();
    // A kubeconfig a named simulator wrote is still its own: a restart reuses it.
    let before = std::fs::read_to_string(&kc_a).unwrap();
    let (mut a, mut lines_a) = spawn_sim(&["--nodes", "2", "--daemonsets", "1", "--context-name", "prod-eu"], &kc_a);
    let _ = lines_a.by_ref().take(3).count();
    let after = std::fs::read_to_string(&kc_a).unwrap();
    let token = |s: &str| s.lines().find_map(|l| l.trim().strip_prefix("token: ").map(String::from));
    assert_eq!(token(&after), token(&before), "the same token across a restart");
    a.kill().unwrap();
    a.wait().unwrap();
    let out = bin().args(["sim", "--context-name", "prod eu"]).output().unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(err.contains("--context-name \"prod eu\": use 1 to 253 letters"), "{err}");
}

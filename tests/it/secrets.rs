//! Secrets never reach the log, the screen's error lines or stderr: a recognisable fake
//! token and client key, through a refused connection and an authenticated simulator.

use crate::common;

use std::process::Command;

const TOKEN: &str = "sekret-token-5f2b9c0e7d";

fn run(args: &[&str], dir: &std::path::Path) -> (String, String) {
    let o = Command::new(env!("CARGO_BIN_EXE_daemonscope"))
        .args(args)
        .env("XDG_STATE_HOME", dir)
        .env("DAEMONSCOPE_LOG", "trace")
        .output()
        .unwrap();
    (String::from_utf8_lossy(&o.stdout).into(), String::from_utf8_lossy(&o.stderr).into())
}

/// `daemonscope status -o json` with each kubeconfig, logging at trace level to `log`:
/// stdout and stderr of each, in order.
async fn statuses(kubeconfigs: Vec<String>, log: String, dir: &std::path::Path) -> Vec<String> {
    let d = dir.to_path_buf();
    tokio::task::spawn_blocking(move || {
        let mut all = Vec::new();
        for kc in &kubeconfigs {
            let (out, err) = run(&["status", "--kubeconfig", kc, "--timeout", "20s", "-o", "json", "--log-file", &log], &d);
            all.push(out);
            all.push(err);
        }
        all
    })
    .await
    .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tokens_never_appear_in_logs_or_errors() {
    let yaml = common::token_cluster(TOKEN, "admin", "'*'");
    let sim = common::serve(&yaml).await;
    let dir = tempfile::tempdir().unwrap();
    let good = dir.path().join("good");
    daemonscope::sim::write_kubeconfig(&good, sim.url(), sim.ca_pem.as_deref(), Some(TOKEN)).unwrap();
    // A kubeconfig with the same token pointing nowhere, and one with a wrong token.
    let dead = dir.path().join("dead");
    daemonscope::sim::write_kubeconfig(&dead, "https://127.0.0.1:9", sim.ca_pem.as_deref(), Some(TOKEN)).unwrap();
    let wrong = dir.path().join("wrong");
    daemonscope::sim::write_kubeconfig(&wrong, sim.url(), sim.ca_pem.as_deref(), Some(&format!("{TOKEN}-x"))).unwrap();
    let log = dir.path().join("log");
    let log_s = log.to_str().unwrap().to_string();
    let (good, dead, wrong) = (good.to_str().unwrap().to_string(), dead.to_str().unwrap().to_string(), wrong.to_str().unwrap().to_string());
    let outputs = statuses(vec![good, dead, wrong], log_s, dir.path()).await;
    assert!(outputs[0].contains("\"name\": \"agent\""), "the good token works: {}", outputs[0]);
    assert!(outputs[5].contains("401") || outputs[5].contains("Unauthorized"), "the wrong token is refused in words: {}", outputs[5]);
    let logged = std::fs::read_to_string(&log).unwrap();
    assert!(logged.contains("initial sync complete"), "the log was written at trace level:\n{logged}");
    for (i, text) in outputs.iter().chain(std::iter::once(&logged)).enumerate() {
        assert!(!text.contains("sekret-token"), "output {i} leaks the token:\n{text}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn exec_credentials_and_client_keys_never_appear_either() {
    let yaml = common::token_cluster(TOKEN, "admin", "'*'");
    let sim = common::serve(&yaml).await;
    let key = rcgen::KeyPair::generate().unwrap();
    let cert = rcgen::CertificateParams::new(vec!["client".to_string()]).unwrap().self_signed(&key).unwrap();
    let (key_pem, cert_pem) = (key.serialize_pem(), cert.pem());
    // The middle of the key's base64: what a leak would contain.
    let key_body: String = key_pem.lines().filter(|l| !l.starts_with("-----")).collect();
    let credential =
        format!(r#"{{"apiVersion":"client.authentication.k8s.io/v1beta1","kind":"ExecCredential","status":{{"token":"{TOKEN}"}}}}"#);
    let dir = tempfile::tempdir().unwrap();
    let ca = sim.ca_pem.clone().unwrap();
    let works = dir.path().join("works");
    std::fs::write(&works, common::exec_kubeconfig(sim.url(), &ca, &format!("echo '{credential}'"), Some((&cert_pem, &key_pem)))).unwrap();
    // A plugin that prints the credential and then fails anyway.
    let fails = dir.path().join("fails");
    std::fs::write(
        &fails,
        common::exec_kubeconfig(
            sim.url(),
            &ca,
            &format!("echo '{credential}'; echo 'login expired' >&2; exit 3"),
            Some((&cert_pem, &key_pem)),
        ),
    )
    .unwrap();
    let log = dir.path().join("log");
    let log_s = log.to_str().unwrap().to_string();
    let (works, fails) = (works.to_str().unwrap().to_string(), fails.to_str().unwrap().to_string());
    let outputs = statuses(vec![works, fails], log_s, dir.path()).await;
    assert!(outputs[0].contains("\"name\": \"agent\""), "the exec credential works: {}{}", outputs[0], outputs[1]);
    assert!(outputs[3].contains("exec credential plugin failed") && outputs[3].contains("login expired"), "{}", outputs[3]);
    let logged = std::fs::read_to_string(&log).unwrap();
    for (i, text) in outputs.iter().chain(std::iter::once(&logged)).enumerate() {
        assert!(!text.contains("sekret-token"), "output {i} leaks the exec credential:\n{text}");
        assert!(!text.contains(&key_body[20..60]), "output {i} leaks the client key:\n{text}");
    }
}

/// Credentials written into the server URL (`http://user:pass@host`) are never printed
/// or logged: not in the error naming the server, not in the trace log of every request.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn credentials_in_server_urls_never_appear() {
    let mut yaml = common::nodes_yaml(&["node-a"]);
    yaml.push_str(&common::ds_yaml("agent", "{type: RollingUpdate}"));
    // Plain HTTP (the URL's user and password are the only credentials sent).
    let sim = common::serve_insecure(&yaml).await;
    let dir = tempfile::tempdir().unwrap();
    let with_user = |url: &str| url.replacen("http://", "http://admin:sekret-pass-77@", 1);
    let good = dir.path().join("good");
    daemonscope::sim::write_kubeconfig(&good, &with_user(sim.url()), None, None).unwrap();
    let dead = dir.path().join("dead");
    daemonscope::sim::write_kubeconfig(&dead, &with_user("http://127.0.0.1:9"), None, None).unwrap();
    let log = dir.path().join("log");
    let outputs =
        statuses(vec![good.to_str().unwrap().into(), dead.to_str().unwrap().into()], log.to_str().unwrap().into(), dir.path()).await;
    assert!(outputs[0].contains("\"name\": \"agent\""), "the URL with credentials works: {}", outputs[1]);
    assert!(outputs[3].contains("cannot watch") && outputs[3].contains("http://***@127.0.0.1:9"), "named, redacted: {}", outputs[3]);
    let logged = std::fs::read_to_string(&log).unwrap();
    assert!(logged.contains("127.0.0.1"), "the log names the server:\n{logged}");
    for (i, text) in outputs.iter().chain(std::iter::once(&logged)).enumerate() {
        assert!(!text.contains("sekret-pass"), "output {i} leaks the password:\n{text}");
    }
}

//! A silent API server says the same over `https://` as over `http://`: one that accepts the
//! connection and never answers — not even the TLS handshake, or the handshake and then
//! nothing — ends `status` after `--request-timeout` (the first-byte deadline, 30 s by
//! default) with `no answer from the API server within Ns`, one line, exit 2.

use crate::common;

use std::process::Command;

fn bin(args: &[&str]) -> (i32, String, String) {
    let o = Command::new(env!("CARGO_BIN_EXE_daemonscope")).args(args).env("XDG_STATE_HOME", std::env::temp_dir()).output().unwrap();
    (o.status.code().unwrap_or(-1), String::from_utf8_lossy(&o.stdout).into(), String::from_utf8_lossy(&o.stderr).into())
}

/// A server at `https://127.0.0.1:PORT` that accepts and holds each connection: with
/// `handshake`, it completes TLS (with the returned CA) and then reads and says nothing;
/// without, it never says a byte.
fn silent_tls(handshake: bool) -> (String, String) {
    let tls = daemonscope::sim::tls::generate().unwrap();
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("https://{}", listener.local_addr().unwrap());
    let server = tls.server.clone();
    std::thread::spawn(move || {
        let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
        rt.block_on(async move {
            listener.set_nonblocking(true).unwrap();
            let listener = tokio::net::TcpListener::from_std(listener).unwrap();
            let acceptor = tokio_rustls::TlsAcceptor::from(server);
            loop {
                let Ok((tcp, _)) = listener.accept().await else { continue };
                let acceptor = acceptor.clone();
                tokio::spawn(async move {
                    if handshake {
                        if let Ok(mut s) = acceptor.accept(tcp).await {
                            let mut buf = vec![0u8; 65536];
                            while tokio::io::AsyncReadExt::read(&mut s, &mut buf).await.is_ok_and(|n| n > 0) {}
                        }
                    } else {
                        let mut tcp = tcp;
                        let mut buf = vec![0u8; 65536];
                        while tokio::io::AsyncReadExt::read(&mut tcp, &mut buf).await.is_ok_and(|n| n > 0) {}
                    }
                });
            }
        });
    });
    (url, tls.ca_pem)
}

/// A plain-HTTP server that accepts and holds each connection, never answering.
fn silent_http() -> String {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    std::thread::spawn(move || {
        let mut held = Vec::new();
        for s in listener.incoming() {
            held.push(s);
        }
    });
    url
}

/// The line `status` ends with, with the server's address taken out.
fn silent_line(kc: &std::path::Path, url: &str) -> String {
    let (code, out, err) = bin(&["status", "--kubeconfig", kc.to_str().unwrap(), "--request-timeout", "3s"]);
    assert_eq!(code, 2, "{out}{err}");
    assert_eq!(err.lines().count(), 1, "one line: {err}");
    assert!(err.contains(url), "{err}");
    err.replace(url, "URL").replace('\n', "")
}

#[test]
fn a_silent_https_server_is_the_same_line_as_a_silent_http_one() {
    let dir = tempfile::tempdir().unwrap();
    let http = silent_http();
    let kc = dir.path().join("kc-http");
    daemonscope::sim::write_kubeconfig(&kc, &http, None, None).unwrap();
    let want = silent_line(&kc, &http);
    // The one watch named first may differ from run to run; the rest is the same words.
    let words = |l: &str| l.split_once(" at URL: ").map(|(_, rest)| rest.to_string()).unwrap_or_default();
    assert_eq!(words(&want), "cannot reach the API server: no answer from the API server within 3s", "{want}");
    for handshake in [false, true] {
        let (url, ca) = silent_tls(handshake);
        let kc = dir.path().join(format!("kc-{handshake}"));
        daemonscope::sim::write_kubeconfig(&kc, &url, Some(&ca), Some("t")).unwrap();
        let got = silent_line(&kc, &url);
        assert_eq!(words(&got), words(&want), "TLS handshake {handshake}: {got}");
    }
    let _ = common::FAST;
}

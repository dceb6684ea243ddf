//! Shared by the benchmarks.

use std::time::{Duration, Instant};

/// kubectl is on PATH and not switched off with DAEMONSCOPE_BENCH_SKIP_KUBECTL.
pub fn kubectl_ok() -> bool {
    std::env::var_os("DAEMONSCOPE_BENCH_SKIP_KUBECTL").is_none()
        && std::process::Command::new("kubectl").args(["version", "--client"]).output().is_ok_and(|o| o.status.success())
}

/// How long `kubectl get pods -A -o json > /dev/null` takes against the server at `url`
/// (blocking: call it from `spawn_blocking`).
pub fn kubectl_get_all_pods(url: &str) -> Duration {
    let dir = tempfile::tempdir().unwrap();
    let kc = dir.path().join("config");
    daemonscope::sim::write_kubeconfig(&kc, url, None, None).unwrap();
    let t = Instant::now();
    let status = std::process::Command::new("kubectl")
        .env("KUBECONFIG", &kc)
        .args(["get", "pods", "-A", "-o", "json"])
        .stdout(std::process::Stdio::null())
        .status()
        .unwrap();
    assert!(status.success(), "kubectl get pods failed");
    t.elapsed()
}

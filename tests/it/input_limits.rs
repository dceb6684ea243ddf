//! Every input is bounded: a scenario, a config, a kubeconfig (and the files it names) is
//! read up to `--max-file-size` (64 MiB by default) and refused beyond it in one line —
//! `/dev/zero` included, which is read one byte past the limit, never to the end — and
//! the counts of `sim --nodes/--daemonsets` are range-checked before anything is
//! allocated (`--nodes 1000000000` was an allocation failure and a backtrace).

use crate::common;

use std::process::Command;

fn bin(args: &[&str]) -> (i32, String, String) {
    let o = Command::new(env!("CARGO_BIN_EXE_daemonscope"))
        .args(args)
        .env("XDG_STATE_HOME", std::env::temp_dir())
        .env_remove("KUBECONFIG")
        .env_remove("DAEMONSCOPE_MAX_FILE_SIZE")
        .output()
        .unwrap();
    (o.status.code().unwrap_or(-1), String::from_utf8_lossy(&o.stdout).into(), String::from_utf8_lossy(&o.stderr).into())
}

/// One line on stderr (a kubeconfig's problem is followed by the hint to try `--demo`),
/// that says `want`, no report of a panic or an allocation failure.
fn one_line(what: &str, err: &str, want: &str) {
    assert_eq!(err.lines().filter(|l| !l.contains("daemonscope --demo")).count(), 1, "{what}: one line: {err}");
    assert!(err.starts_with("daemonscope: "), "{what}: {err}");
    assert!(err.contains(want), "{what}: {err:?} should say {want:?}");
    assert!(!err.contains("panicked") && !err.contains("memory allocation"), "{what}: {err}");
}

#[test]
fn dev_zero_and_oversized_files_are_refused_in_one_line() {
    if !std::path::Path::new("/dev/zero").exists() {
        eprintln!("SKIPPED: no /dev/zero");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let kc = dir.path().join("kc");
    let sc = dir.path().join("sc").to_str().unwrap().to_string();
    // The default limit: /dev/zero is read 64 MiB and a byte, then refused.
    let (code, out, err) = bin(&["status", "--kubeconfig", "/dev/zero"]);
    assert_eq!(code, 2, "{out}{err}");
    one_line(
        "status --kubeconfig /dev/zero",
        &err,
        "cannot read kubeconfig /dev/zero: larger than 64 MiB (--max-file-size raises the limit)",
    );
    for (what, args, code_wanted, want) in [
        ("serve", vec!["serve", "--kubeconfig", "/dev/zero", "--listen", "127.0.0.1:0", "--max-file-size", "1MiB"], 2, "larger than 1 MiB"),
        ("snapshot", vec!["snapshot", "--kubeconfig", "/dev/zero", "--max-file-size", "1MiB"], 2, "larger than 1 MiB"),
        // `sim` says every scenario problem with exit 1.
        (
            "sim",
            vec!["sim", "--scenario", "/dev/zero", "--max-file-size", "1MiB", "--listen", "127.0.0.1:0", "--kubeconfig-out", &sc],
            1,
            "/dev/zero: larger than 1 MiB",
        ),
        ("config", vec!["--config", "/dev/zero", "--max-file-size", "1MiB", "config"], 1, "/dev/zero: cannot read: larger than 1 MiB"),
    ] {
        let (code, out, err) = bin(&args);
        assert_eq!(code, code_wanted, "{what}: {out}{err}");
        one_line(what, &err, want);
    }
    // A regular file over the limit is judged by its size, before it is read.
    let sim_kc = dir.path().join("big");
    daemonscope::sim::write_kubeconfig(&sim_kc, "https://127.0.0.1:9", None, Some("t")).unwrap();
    let mut text = std::fs::read_to_string(&sim_kc).unwrap();
    text.push_str(&format!("# {}\n", "x".repeat(4096)));
    std::fs::write(&kc, &text).unwrap();
    let (code, _, err) = bin(&["status", "--kubeconfig", kc.to_str().unwrap(), "--max-file-size", "4k"]);
    assert_eq!(code, 2, "{err}");
    one_line("a kubeconfig over --max-file-size", &err, "larger than 4 KiB");
    // A file the kubeconfig names (token-file) is bounded too.
    std::fs::write(&kc, text.replace("token: t", "tokenFile: /dev/zero")).unwrap();
    let (code, _, err) = bin(&["status", "--kubeconfig", kc.to_str().unwrap()]);
    assert_eq!(code, 2, "{err}");
    one_line("a kubeconfig naming /dev/zero", &err, "/dev/zero is not a regular file");
    // A size that is not one is the flag's error.
    let (code, _, err) = bin(&["status", "--max-file-size", "lots"]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("is not a size"), "{err}");
}

#[test]
fn sim_counts_are_range_checked_before_anything_is_allocated() {
    let dir = tempfile::tempdir().unwrap();
    let kc = dir.path().join("kc");
    let kc = kc.to_str().unwrap();
    for (args, want) in [
        (["--nodes", "1000000000", "--daemonsets", "1"], "--nodes 1000000000 is out of range (1 to 100000)"),
        (["--nodes", "0", "--daemonsets", "1"], "--nodes 0 is out of range"),
        (["--nodes", "3", "--daemonsets", "99999999"], "--daemonsets 99999999 is out of range (1 to 1000)"),
    ] {
        let (code, out, err) = bin(&[&["sim", "--listen", "127.0.0.1:0", "--kubeconfig-out", kc][..], &args[..]].concat());
        assert_eq!(code, 2, "{args:?}: {out}{err}");
        assert!(out.is_empty(), "{args:?}: never served: {out}");
        one_line(&format!("{args:?}"), &err, want);
    }
    // Within the range it still runs (a small one, written out instead of served).
    let sc = dir.path().join("sc.yaml");
    let (code, _, err) = bin(&["sim", "--nodes", "3", "--daemonsets", "1", "--write-scenario", sc.to_str().unwrap()]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(common::scenario(&std::fs::read_to_string(&sc).unwrap()).objects.iter().filter(|(k, _)| k.info().kind == "Node").count(), 3);
}

/// Paths that cannot be written are said at once: `snapshot -o` into a directory that does
/// not exist fails before the cluster is listed (against a server that is not there, so
/// only the path can be the error), and `sim --kubeconfig-out` there fails instead of
/// creating the directories.
#[test]
fn unwritable_output_paths_fail_before_any_work() {
    let dir = tempfile::tempdir().unwrap();
    let kc = dir.path().join("kc");
    daemonscope::sim::write_kubeconfig(&kc, "https://127.0.0.1:9", None, Some("t")).unwrap();
    let (code, out, err) = bin(&["snapshot", "--kubeconfig", kc.to_str().unwrap(), "-o", "/nonexistent/dir/x"]);
    assert_eq!(code, 2, "{out}{err}");
    one_line("snapshot -o", &err, "cannot write /nonexistent/dir/x: /nonexistent/dir: No such file");
    let nested = dir.path().join("no/such/dir/kc");
    // Spawned and waited on with a deadline: a simulator that did start would serve forever.
    let mut child = Command::new(env!("CARGO_BIN_EXE_daemonscope"))
        .args(["sim", "--listen", "127.0.0.1:0", "--kubeconfig-out", nested.to_str().unwrap()])
        .env("XDG_STATE_HOME", std::env::temp_dir())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let status = common::until_blocking(30, "sim to refuse the path", || child.try_wait().unwrap().ok_or_else(|| "running".to_string()));
    let o = child.wait_with_output().unwrap();
    let (out, err) = (String::from_utf8_lossy(&o.stdout), String::from_utf8_lossy(&o.stderr));
    assert_ne!(status.code(), Some(0), "{out}{err}");
    assert!(out.is_empty(), "never served: {out}");
    one_line("sim --kubeconfig-out", &err, "is not a directory");
    assert!(!dir.path().join("no").exists(), "no directory was created");
}

//! What a newcomer installs and types: every subcommand's `--help` lists only the flags
//! that apply to it; flags before a subcommand that does not take them are one line;
//! shell completions and man pages are generated from the same definitions; and the
//! binary linked as `kubectl-daemonscope` is a kubectl plugin that behaves the same.

use crate::common;

use std::path::Path;
use std::process::Command;

fn run_in(program: &Path, args: &[&str], path: Option<&str>) -> (i32, String, String) {
    let mut c = Command::new(program);
    c.args(args).env("XDG_STATE_HOME", std::env::temp_dir().join("daemonscope-test-state"));
    if let Some(p) = path {
        c.env("PATH", p);
    }
    let o = c.output().unwrap();
    (o.status.code().unwrap_or(-1), String::from_utf8_lossy(&o.stdout).into_owned(), String::from_utf8_lossy(&o.stderr).into_owned())
}

fn run(args: &[&str]) -> (i32, String, String) {
    run_in(Path::new(env!("CARGO_BIN_EXE_daemonscope")), args, None)
}

/// The long flags a `--help` lists.
fn flags(help: &str) -> Vec<String> {
    let mut out: Vec<String> = help
        .lines()
        .filter_map(|l| {
            let l = l.trim_start();
            let l = if l.starts_with('-') && !l.starts_with("--") { l.split_once(", ").map(|x| x.1).unwrap_or(l) } else { l };
            l.strip_prefix("--").map(|r| r.split([' ', '\t', '=', '[']).next().unwrap_or("").to_string())
        })
        .filter(|f| !f.is_empty())
        .collect();
    out.sort();
    out.dedup();
    out
}

#[test]
fn each_subcommands_help_lists_only_the_flags_that_apply_to_it() {
    let cluster = ["all-namespaces", "context", "from", "kubeconfig", "namespace", "request-timeout", "selector", "watch-list", "wire"];
    let std_flags = ["help", "max-file-size", "version"];
    let cases: &[(&[&str], &[&str])] = &[
        (&["--help"], &["all-contexts", "config", "contexts", "demo", "log-file", "no-mouse", "readonly"]),
        (
            &["status", "--help"],
            &[
                "all-contexts",
                "allow-down-nodes",
                "contexts",
                "critical",
                "demo",
                "joins",
                "joins-since",
                "log-file",
                "max-unavailable",
                "output",
                "stall-timeout",
                "timeout",
                "usable-timeout",
                "wait",
            ],
        ),
        (&["snapshot", "--help"], &["anonymize", "log-file", "output"]),
        (&["serve", "--help"], &["critical", "demo", "joins-since", "ksm-compat", "listen", "log-file", "max-node-series"]),
    ];
    for (args, own) in cases {
        let (code, out, err) = run(args);
        assert_eq!(code, 0, "{args:?}: {err}");
        let mut want: Vec<String> = own.iter().chain(&cluster).chain(&std_flags).map(|s| s.to_string()).collect();
        want.sort();
        assert_eq!(flags(&out), want, "{args:?}:\n{out}");
    }
    // Helpers take none of the cluster flags, nor --readonly or --log-file.
    for (args, own) in [
        (&["config", "--help"][..], &["config", "path", "print-default"][..]),
        (&["completions", "--help"], &[]),
        (&["man", "--help"], &["out-dir"]),
    ] {
        let (code, out, _) = run(args);
        assert_eq!(code, 0);
        let mut want: Vec<String> = own.iter().chain(&std_flags).map(|s| s.to_string()).collect();
        want.sort();
        assert_eq!(flags(&out), want, "{args:?}:\n{out}");
    }
    // sim: no --context, no --readonly; its cluster flags only serve --from-context.
    let (_, sim, _) = run(&["sim", "--help"]);
    let f = flags(&sim);
    assert!(!f.contains(&"context".to_string()) && !f.contains(&"readonly".to_string()), "{sim}");
    assert!(f.contains(&"from-context".to_string()) && f.contains(&"fault-seed".to_string()), "{sim}");
    let (head, from) = sim.split_once("With --from-context:").expect("a heading for the --from-context flags");
    assert!(!flags(head).contains(&"namespace".to_string()) && flags(from).contains(&"namespace".to_string()), "{sim}");
    let (code, _, err) = run(&["sim", "-n", "kube-system"]);
    assert_eq!(code, 2);
    assert!(err.contains("--from-context"), "-n only with --from-context: {err}");
}

#[test]
fn flags_before_a_subcommand_that_does_not_take_them_are_one_line() {
    for (args, want) in [
        (&["--context", "prod", "sim"][..], "daemonscope: --context does not apply to `daemonscope sim` (see `daemonscope sim --help`)\n"),
        (
            &["--readonly", "status", "--demo"],
            "daemonscope: --readonly does not apply to `daemonscope status` (see `daemonscope status --help`)\n",
        ),
        (
            &["-n", "x", "completions", "bash"],
            "daemonscope: --namespace does not apply to `daemonscope completions` (see `daemonscope completions --help`)\n",
        ),
        (
            &["--all-contexts", "serve"],
            "daemonscope: --all-contexts does not apply to `daemonscope serve` (see `daemonscope serve --help`)\n",
        ),
        (&["--no-mouse", "status"], "daemonscope: --no-mouse does not apply to `daemonscope status` (see `daemonscope status --help`)\n"),
    ] {
        let (code, out, err) = run(args);
        assert_eq!((code, out.as_str(), err.as_str()), (2, "", want), "{args:?}");
    }
    // Cluster flags before `status` still work, as they always have.
    let (code, out, err) = run(&["-n", "logging", "--demo", "status", "-o", "json"]);
    assert!(code == 0 || code == 1, "{err}");
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    let names: Vec<&str> = v["daemonsets"].as_array().unwrap().iter().map(|d| d["namespace"].as_str().unwrap()).collect();
    assert_eq!(names, ["logging"], "-n before status applies");
}

#[test]
fn completions_and_man_pages_are_generated_for_every_command() {
    for (shell, marker) in [("bash", "complete -F"), ("zsh", "#compdef daemonscope"), ("fish", "complete -c daemonscope")] {
        let (code, out, err) = run(&["completions", shell]);
        assert_eq!(code, 0, "{shell}: {err}");
        assert!(out.contains(marker), "{shell}:\n{out}");
        for word in ["status", "snapshot", "serve", "sim", "--kubeconfig", "--max-unavailable", "--print-default"] {
            assert!(out.contains(word.trim_start_matches('-')), "{shell} completion lacks {word}");
        }
    }
    let (code, _, err) = run(&["completions", "tcsh"]);
    assert_eq!(code, 2);
    assert!(err.contains("invalid value 'tcsh'"), "{err}");

    let (code, page, _) = run(&["man"]);
    assert_eq!(code, 0);
    assert!(page.contains(".TH daemonscope 1") && page.contains("\\-\\-kubeconfig") && page.contains("status"), "{page}");
    let dir = tempfile::tempdir().unwrap();
    let (code, _, err) = run(&["man", "--out-dir", dir.path().to_str().unwrap()]);
    assert_eq!(code, 0, "{err}");
    for cmd in ["", "-status", "-snapshot", "-serve", "-sim", "-config", "-completions", "-man"] {
        let p = dir.path().join(format!("daemonscope{cmd}.1"));
        let text = std::fs::read_to_string(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display()));
        assert!(text.contains(".TH"), "{}", p.display());
    }
    let status = std::fs::read_to_string(dir.path().join("daemonscope-status.1")).unwrap();
    assert!(status.contains("max\\-unavailable") && !status.contains("readonly"), "{status}");
    // `man` piped into a reader that stops early: no error report.
    let sh = format!("'{}' man | head -1", env!("CARGO_BIN_EXE_daemonscope"));
    let o = Command::new("sh").args(["-c", &sh]).output().unwrap();
    assert!(o.stderr.is_empty(), "{}", String::from_utf8_lossy(&o.stderr));
}

/// Linked as `kubectl-daemonscope` on PATH: kubectl lists it as a plugin, `kubectl
/// daemonscope …` gives the same answers, and its usage lines say `kubectl daemonscope`.
#[test]
fn linked_as_kubectl_daemonscope_it_is_a_kubectl_plugin() {
    let dir = tempfile::tempdir().unwrap();
    let link = dir.path().join("kubectl-daemonscope");
    std::os::unix::fs::symlink(env!("CARGO_BIN_EXE_daemonscope"), &link).unwrap();

    let (code, direct, _) = run(&["status", "--demo", "-o", "json", "logging/fluent-bit"]);
    let (code_l, linked, err) = run_in(&link, &["status", "--demo", "-o", "json", "logging/fluent-bit"], None);
    assert_eq!(code, code_l, "{err}");
    // The same report (pod names are the simulator's random ones: compare the rest).
    let strip = |s: &str| {
        let v: serde_json::Value = serde_json::from_str(s).unwrap_or_else(|e| panic!("{e}: {s}"));
        let d = &v["daemonsets"][0];
        (v["summary"].clone(), d["name"].clone(), d["desired"].clone(), d["nodes"].as_array().map(|n| n.len()))
    };
    assert_eq!(strip(&direct).1, "fluent-bit");
    assert_eq!(strip(&direct), strip(&linked));
    let (_, help, _) = run_in(&link, &["status", "--help"], None);
    assert!(help.contains("Usage: kubectl daemonscope status"), "{help}");

    let Some(kubectl) = common::kubectl_bin() else {
        panic!("kubectl is needed on PATH for the plugin test");
    };
    let path = format!("{}:{}", dir.path().display(), std::env::var("PATH").unwrap_or_default());
    let (code, out, err) = run_in(&kubectl, &["plugin", "list"], Some(&path));
    assert_eq!(code, 0, "{err}");
    assert!(out.contains(&link.display().to_string()), "kubectl plugin list:\n{out}{err}");
    let (code_k, via, err) = run_in(&kubectl, &["daemonscope", "status", "--demo", "-o", "json", "logging/fluent-bit"], Some(&path));
    assert_eq!(code_k, code, "{err}");
    assert_eq!(strip(&via), strip(&direct));
}

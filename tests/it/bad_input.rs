//! Bad input, each with one clear error and no crash: kubeconfigs that are missing,
//! empty, not YAML, or name an unknown context; a server that is unreachable, fails TLS,
//! refuses the token, or whose exec credential plugin fails; an invalid `-l`. `status`
//! answers with one line and exit 2; the TUI says it in its banner and keeps running.
//! And a panic, or a signal from outside, restores the terminal.

use crate::common;

use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use common::pty::Tui;

const TOKEN: &str = "good-token-1234";

fn authed() -> String {
    common::token_cluster(TOKEN, "admin", "'*'")
}

struct Configs {
    _dir: tempfile::TempDir,
    missing: String,
    empty: String,
    not_yaml: String,
    unreachable: String,
    wrong_ca: String,
    bad_token: String,
    exec_fails: String,
    good: String,
}

fn configs(sim: &daemonscope::sim::Running) -> Configs {
    let dir = tempfile::tempdir().unwrap();
    let p = |name: &str| dir.path().join(name).to_str().unwrap().to_string();
    let ca = sim.ca_pem.as_deref().unwrap();
    std::fs::write(p("empty"), "").unwrap();
    std::fs::write(p("not_yaml"), "\u{0}\u{1}binary\n: : [").unwrap();
    daemonscope::sim::write_kubeconfig(Path::new(&p("unreachable")), "https://127.0.0.1:9", Some(ca), Some(TOKEN)).unwrap();
    let other_ca = daemonscope::sim::tls::generate().unwrap().ca_pem;
    daemonscope::sim::write_kubeconfig(Path::new(&p("wrong_ca")), sim.url(), Some(&other_ca), Some(TOKEN)).unwrap();
    daemonscope::sim::write_kubeconfig(Path::new(&p("bad_token")), sim.url(), Some(ca), Some("expired-token-0000")).unwrap();
    // A credential plugin that fails as an expired SSO login does.
    let sso = "echo \"error: SSO session expired; run: corp-login\" >&2; exit 1";
    std::fs::write(p("exec_fails"), common::exec_kubeconfig(sim.url(), ca, sso, None)).unwrap();
    daemonscope::sim::write_kubeconfig(Path::new(&p("good")), sim.url(), Some(ca), Some(TOKEN)).unwrap();
    Configs {
        missing: p("missing"),
        empty: p("empty"),
        not_yaml: p("not_yaml"),
        unreachable: p("unreachable"),
        wrong_ca: p("wrong_ca"),
        bad_token: p("bad_token"),
        exec_fails: p("exec_fails"),
        good: p("good"),
        _dir: dir,
    }
}

fn run(args: &[&str]) -> (i32, String, String) {
    let o = Command::new(env!("CARGO_BIN_EXE_daemonscope")).args(args).env("XDG_STATE_HOME", std::env::temp_dir()).output().unwrap();
    (o.status.code().unwrap_or(-1), String::from_utf8_lossy(&o.stdout).into(), String::from_utf8_lossy(&o.stderr).into())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn status_answers_each_bad_input_with_one_line_and_exit_2() {
    let sim = common::serve(&authed()).await;
    let c = configs(&sim);
    tokio::task::spawn_blocking(move || {
        let cases: Vec<(Vec<&str>, &[&str])> = vec![
            (vec!["--kubeconfig", &c.missing], &["cannot read kubeconfig", "missing"]),
            (vec!["--kubeconfig", &c.empty], &["sets no current-context"]),
            (vec!["--kubeconfig", &c.not_yaml], &["is not a valid kubeconfig"]),
            (vec!["--kubeconfig", &c.good, "--context", "nope"], &["context \"nope\" is not in"]),
            (vec!["--kubeconfig", &c.unreachable], &["cannot reach the API server", "127.0.0.1:9", "Connection refused"]),
            (vec!["--kubeconfig", &c.wrong_ca], &["TLS failure", "certificate"]),
            (vec!["--kubeconfig", &c.bad_token], &["401 Unauthorized", "expired token?"]),
            (vec!["--kubeconfig", &c.exec_fails], &["SSO session expired; run: corp-login"]),
            (vec!["--kubeconfig", &c.good, "-l", "app in (a"], &["invalid -l selector"]),
            (vec!["--kubeconfig", &c.good, "-l", "=x"], &["invalid -l selector"]),
        ];
        for (extra, wants) in cases {
            let mut args = vec!["status"];
            args.extend(extra.iter().copied());
            let started = Instant::now();
            let (code, out, err) = run(&args);
            assert_eq!(code, 2, "{args:?}: {out}{err}");
            assert!(out.is_empty(), "{args:?}: nothing on stdout: {out}");
            // One line, and for kubeconfig problems a second with the way out (--demo).
            assert!(err.lines().count() == 1 || (err.lines().count() == 2 && err.contains("--demo")), "{args:?}: one line: {err}");
            assert!(err.starts_with("daemonscope: "), "{args:?}: {err}");
            for w in wants {
                assert!(err.contains(w), "{args:?}: {err:?} should say {w:?}");
            }
            assert!(!err.contains("panicked") && !err.contains(TOKEN), "{args:?}: {err}");
            assert!(started.elapsed() < Duration::from_secs(15), "{args:?}: answered promptly, not after a long retry");
        }
        // The TUI too (in a terminal, which it needs): a failing credential plugin is one
        // line before the terminal is taken.
        let mut t = Tui::start_sized(&["--kubeconfig", &c.exec_fails], &[], 10, 200);
        let status = t.exit(20);
        let err = t.screen();
        assert_eq!(status.exit_code(), 1, "{err}");
        assert!(!t.alternate_screen(), "{err}");
        assert_eq!(err.lines().filter(|l| !l.trim().is_empty()).count(), 1, "one line: {err}");
        assert!(err.contains("exec credential plugin failed (exit status: 1): error: SSO session expired; run: corp-login"), "{err}");
        assert!(!err.contains("KUBERNETES_EXEC_INFO"), "no plugin environment in the message: {err}");
        // The good one works (the sim really needs the token).
        let (code, out, err) = run(&["status", "--kubeconfig", &c.good]);
        assert_eq!(code, 0, "{out}{err}");
    })
    .await
    .unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_tui_names_connection_failures_in_its_banner_and_keeps_running() {
    let sim = common::serve(&authed()).await;
    let c = configs(&sim);
    tokio::task::spawn_blocking(move || {
        for (kc, wants) in [
            (&c.unreachable, vec!["DISCONNECTED from the API server", "cannot reach the API server", "retrying in"]),
            (&c.wrong_ca, vec!["DISCONNECTED", "TLS failure", "waiting will not fix this"]),
            (&c.bad_token, vec!["DISCONNECTED", "401 Unauthorized", "waiting will not fix this"]),
        ] {
            let mut t = Tui::start_sized(&["--kubeconfig", kc, "--readonly"], &[], 30, 200);
            let mut s = String::new();
            for w in &wants {
                s = t.wait_for(w, 20);
            }
            assert!(s.contains("nothing loaded yet"), "never synced, so nothing is called stale: {s}");
            assert!(!s.contains(TOKEN) && !s.contains("expired-token-0000"), "{s}");
            // Still a working UI: help opens, q quits cleanly.
            t.keys("?");
            t.wait_for("Esc closes", 5); // the help's title, scrolling or not
            t.keys("\x1b");
            t.keys("q");
            assert!(t.exit(10).success(), "{kc}");
            assert!(!t.alternate_screen());
        }
    })
    .await
    .unwrap();
}

#[test]
fn a_panic_restores_the_terminal_and_says_what_happened() {
    let mut t = Tui::start_sized(&["--demo"], &[("DAEMONSCOPE_TEST_PANIC_KEY", "P"), ("RUST_BACKTRACE", "0")], 30, 200);
    t.wait_for("DaemonSets (", 30);
    assert!(t.alternate_screen(), "the TUI owns the screen");
    assert!(t.mouse_reporting(), "the TUI asks for mouse reports");
    t.keys("P");
    let status = t.exit(10);
    assert!(!status.success(), "a panic is a failure exit");
    let p = t.parser.lock().unwrap();
    let screen = p.screen();
    assert!(!screen.alternate_screen(), "back on the main screen after the panic");
    assert!(screen.mouse_protocol_mode() == vt100::MouseProtocolMode::None, "mouse reporting off after the panic");
    let text = screen.contents();
    assert!(text.contains("test panic (DAEMONSCOPE_TEST_PANIC_KEY)"), "the panic message is readable on the restored screen:\n{text}");
    // Raw mode is off: the report's lines start at column 0 (not a staircase).
    let report: Vec<&str> = text.lines().filter(|l| !l.trim().is_empty()).collect();
    assert!(report.iter().filter(|l| l.starts_with(' ') && l.trim_start().len() > 40).count() < report.len() / 2, "{text}");
}

/// The pid of the process whose parent is `parent` (from /proc), once it exists.
fn child_of(parent: u32, secs: u64) -> u32 {
    let deadline = Instant::now() + Duration::from_secs(secs);
    loop {
        for e in std::fs::read_dir("/proc").unwrap().flatten() {
            let Ok(stat) = std::fs::read_to_string(e.path().join("stat")) else { continue };
            // pid (comm) state ppid …; comm may hold spaces, so split after its ')'.
            let Some((_, rest)) = stat.rsplit_once(')') else { continue };
            if rest.split_whitespace().nth(1) == Some(parent.to_string().as_str()) {
                return e.file_name().to_str().unwrap().parse().unwrap();
            }
        }
        assert!(Instant::now() < deadline, "no child of {parent}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// SIGTERM, SIGINT, SIGHUP and SIGQUIT sent from outside (as `kill`, a closed terminal,
/// a service manager do) end the TUI with the terminal as it was: `stty -a`, run in the
/// same terminal before and after, prints the same settings (not `-icanon -echo`); the
/// alternate screen is left and the cursor shown; the exit code is 128 + the signal's.
#[cfg(target_os = "linux")]
#[test]
fn a_signal_from_outside_restores_the_terminal() {
    for (name, number) in [("TERM", 15), ("INT", 2), ("HUP", 1), ("QUIT", 3)] {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path().to_str().unwrap();
        // The shell ends after the second `stty`: its exit, with all its output on the
        // screen, is what the test waits for (not a time).
        let script = format!("stty -a > {d}/before; \"$DS\" --demo; echo $? > {d}/code; stty -a > {d}/after; echo AFTER-DONE");
        let mut t = Tui::start_program("/bin/sh", &["-c", &script], &[("DS", env!("CARGO_BIN_EXE_daemonscope"))], 30, 200);
        // The TUI owns the screen once a whole frame is drawn: the title, on the alternate
        // screen, with the cursor hidden (ratatui hides it after writing the frame, so the
        // title alone can be seen a moment before). The bound only catches a hang.
        t.wait_until("the TUI's first frame", 120, |s| s.contents().contains("DaemonSets (") && s.alternate_screen() && s.hide_cursor());
        let shell = t.child.process_id().unwrap();
        let pid = child_of(shell, 10);
        let sent = Command::new("kill").arg(format!("-{name}")).arg(pid.to_string()).status().unwrap();
        assert!(sent.success());
        let status = t.exit(120);
        assert!(status.success(), "SIG{name}: the shell's script failed: {status:?}");
        // Its last output reaches the screen after the exit (the reader drains the
        // terminal): everything written before AFTER-DONE is parsed once it shows.
        t.wait_for("AFTER-DONE", 120);
        let read = |f: &str| std::fs::read_to_string(dir.path().join(f)).unwrap();
        let (before, after) = (read("before"), read("after"));
        assert!(before.contains(" icanon") && before.contains(" echo"), "{before}");
        assert_eq!(before, after, "SIG{name}: the terminal settings after differ from before");
        assert_eq!(read("code").trim(), (128 + number).to_string(), "SIG{name}");
        assert!(!t.alternate_screen(), "SIG{name}: back on the main screen");
        assert!(!t.cursor_hidden(), "SIG{name}: the cursor is shown");
    }
}

/// Command-line mistakes a script makes: no terminal for the TUI, a duration too large
/// to mean anything, and `--demo` after `status` (where a user puts it). One line each.
#[test]
fn the_command_line_answers_script_mistakes_with_one_line() {
    // No terminal: not a 56-line panic report about initialising one.
    let o = Command::new(env!("CARGO_BIN_EXE_daemonscope"))
        .arg("--demo")
        .env("XDG_STATE_HOME", std::env::temp_dir())
        .stdin(std::process::Stdio::null())
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(1), "{err}");
    assert_eq!(err, "daemonscope: daemonscope needs a terminal; for scripts use `daemonscope status`\n");
    // A huge --timeout: clap's one line (exit 2), not a panic in the deadline arithmetic.
    let (code, out, err) = run(&["status", "--demo", "--timeout", "18446744073709551615"]);
    assert_eq!(code, 2, "{out}{err}");
    assert!(err.contains("invalid duration \"18446744073709551615\": must be at most 366d"), "{err}");
    assert!(!err.contains("panicked"), "{err}");
    // `status --demo`, as `--demo status` works.
    let (code, out, err) = run(&["status", "--demo", "-o", "json"]);
    assert!(code == 0 || code == 1, "a report, covered or not: {code} {err}");
    let v: serde_json::Value = serde_json::from_str(&out).unwrap_or_else(|e| panic!("{e}: {out}{err}"));
    assert_eq!(v["context"], "demo (simulated cluster)");
}

/// `KUBECONFIG=/missing:/good` works as with kubectl: missing files of the list are
/// skipped; only a list of which nothing can be read fails (naming the first file).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_kubeconfig_list_skips_missing_files_as_kubectl_does() {
    let sim = common::serve(&authed()).await;
    let c = configs(&sim);
    tokio::task::spawn_blocking(move || {
        let status = |list: &str| {
            let o = Command::new(env!("CARGO_BIN_EXE_daemonscope"))
                .args(["status", "-o", "json", "--timeout", "20s"])
                .env("KUBECONFIG", list)
                .env("XDG_STATE_HOME", std::env::temp_dir())
                .output()
                .unwrap();
            (
                o.status.code().unwrap_or(-1),
                String::from_utf8_lossy(&o.stdout).into_owned(),
                String::from_utf8_lossy(&o.stderr).into_owned(),
            )
        };
        let (code, out, err) = status(&format!("{}:{}", c.missing, c.good));
        assert_eq!(code, 0, "{out}{err}");
        assert!(out.contains("\"name\": \"agent\""), "{out}");
        let (code, out, err) = status(&format!("{}:{}2", c.missing, c.missing));
        assert_eq!(code, 2, "{out}{err}");
        assert!(err.starts_with(&format!("daemonscope: cannot read kubeconfig {}: No such file", c.missing)), "{err}");
    })
    .await
    .unwrap();
}

/// A server that accepts connections and never answers: `status` gives up after the
/// request timeout with one line and exit 2 (here `--request-timeout 1s`; the defaults,
/// 30 s for an answer, are checked in `cluster::connect`'s unit tests).
#[test]
fn a_server_that_never_answers_is_one_line_and_exit_2() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    std::thread::spawn(move || {
        let mut held = Vec::new();
        for s in listener.incoming() {
            held.push(s);
        }
    });
    let dir = tempfile::tempdir().unwrap();
    let kc = dir.path().join("kc");
    daemonscope::sim::write_kubeconfig(&kc, &url, None, None).unwrap();
    let started = Instant::now();
    let (code, out, err) = run(&["status", "--kubeconfig", kc.to_str().unwrap(), "--request-timeout", "1s"]);
    assert_eq!(code, 2, "{out}{err}");
    assert_eq!(err.lines().count(), 1, "one line: {err}");
    assert!(err.starts_with("daemonscope: cannot watch") && err.contains(&url), "{err}");
    assert!(err.contains("no answer from the API server within 1s"), "{err}");
    eprintln!("(gave up after {:?})", started.elapsed());
    // A request timeout of zero would mean none; it is refused.
    let (code, _, err) = run(&["status", "--kubeconfig", kc.to_str().unwrap(), "--request-timeout", "0"]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("must be more than 0"), "{err}");
}

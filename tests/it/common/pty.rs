//! The real binary in a pseudo-terminal: keys in, the screen (a vt100 parser) out.

use std::io::{Read, Write};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use portable_pty::{CommandBuilder, PtySize, native_pty_system};

pub struct Tui {
    pub parser: Arc<Mutex<vt100::Parser>>,
    writer: Box<dyn Write + Send>,
    pub child: Box<dyn portable_pty::Child + Send + Sync>,
    /// Set once the terminal has no writer left and all its output is on the screen.
    drained: Arc<std::sync::atomic::AtomicBool>,
    /// Every byte the program wrote to the terminal.
    pub raw: Arc<Mutex<Vec<u8>>>,
}

impl Tui {
    /// `daemonscope ARGS` in a 40×160 terminal.
    pub fn start(args: &[&str], env: &[(&str, &str)]) -> Tui {
        Tui::start_sized(args, env, 40, 160)
    }

    pub fn start_sized(args: &[&str], env: &[(&str, &str)], rows: u16, cols: u16) -> Tui {
        Tui::start_program(env!("CARGO_BIN_EXE_daemonscope"), args, env, rows, cols)
    }

    /// Any program (a shell around daemonscope, say) in a `rows`×`cols` terminal.
    pub fn start_program(program: &str, args: &[&str], env: &[(&str, &str)], rows: u16, cols: u16) -> Tui {
        let pair = native_pty_system().openpty(PtySize { rows, cols, pixel_width: 0, pixel_height: 0 }).unwrap();
        let mut cmd = CommandBuilder::new(program);
        cmd.args(args);
        cmd.env("TERM", "xterm-256color");
        cmd.env("XDG_STATE_HOME", std::env::temp_dir().join("daemonscope-test-state"));
        // No config file of the user running the tests (tests that want one set their own).
        cmd.env("XDG_CONFIG_HOME", std::env::temp_dir().join("daemonscope-test-no-config"));
        for (k, v) in env {
            cmd.env(k, v);
        }
        let child = pair.slave.spawn_command(cmd).unwrap();
        drop(pair.slave);
        let mut reader = pair.master.try_clone_reader().unwrap();
        let writer = pair.master.take_writer().unwrap();
        let parser = Arc::new(Mutex::new(vt100::Parser::new(rows, cols, 0)));
        let p = parser.clone();
        let drained = Arc::new(std::sync::atomic::AtomicBool::new(false));
        let d = drained.clone();
        let raw = Arc::new(Mutex::new(Vec::new()));
        let r = raw.clone();
        std::thread::spawn(move || {
            let _master = pair.master;
            let mut buf = [0u8; 65536];
            while let Ok(n) = reader.read(&mut buf) {
                if n == 0 {
                    break;
                }
                p.lock().unwrap().process(&buf[..n]);
                r.lock().unwrap().extend_from_slice(&buf[..n]);
            }
            d.store(true, std::sync::atomic::Ordering::SeqCst);
        });
        Tui { parser, writer, child, drained, raw }
    }

    pub fn screen(&self) -> String {
        self.parser.lock().unwrap().screen().contents()
    }

    /// Waits until the pods' watch is live: the status line says `pods: live`, or `all live`
    /// where it is too narrow to name each watch (and every one is live).
    /// Waits until every watch is live (nothing on screen says it is still syncing).
    pub fn wait_all_live(&self, secs: u64) -> String {
        let deadline = Instant::now() + bound(secs);
        loop {
            let s = self.screen();
            if s.contains(" live") && !s.contains("syncing") {
                return s;
            }
            if Instant::now() > deadline {
                panic!("screen never showed every watch live:\n{s}");
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    pub fn wait_pods_live(&self, secs: u64) -> String {
        let deadline = Instant::now() + bound(secs);
        loop {
            let s = self.screen();
            if s.contains("pods: live") || s.contains("all live") {
                return s;
            }
            if Instant::now() > deadline {
                panic!("screen never showed the pods' watch live:\n{s}");
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    pub fn wait_for(&self, what: &str, secs: u64) -> String {
        let deadline = Instant::now() + bound(secs);
        loop {
            let s = self.screen();
            if s.contains(what) {
                return s;
            }
            if Instant::now() > deadline {
                panic!("screen never showed {what:?}:\n{s}");
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// Types `s` a byte at a time, as a person would (an Esc followed at once by a key
    /// would read as Alt+key).
    pub fn keys(&mut self, s: &str) {
        for b in s.bytes() {
            self.writer.write_all(&[b]).unwrap();
            self.writer.flush().unwrap();
            std::thread::sleep(Duration::from_millis(30));
        }
    }

    /// Writes `s` at once: an escape sequence (a mouse report, an arrow key) must arrive
    /// whole, or the terminal reads its Esc as a key of its own.
    pub fn send(&mut self, s: &str) {
        self.writer.write_all(s.as_bytes()).unwrap();
        self.writer.flush().unwrap();
    }

    /// Whether the application asked the terminal to report the mouse.
    pub fn mouse_reporting(&self) -> bool {
        self.parser.lock().unwrap().screen().mouse_protocol_mode() != vt100::MouseProtocolMode::None
    }

    /// Waits for the process to exit (panics after `secs`), then for its last output to
    /// reach the screen: the end of the terminal's output, or 2 s when something it
    /// started still holds the terminal.
    pub fn exit(&mut self, secs: u64) -> portable_pty::ExitStatus {
        let deadline = Instant::now() + bound(secs);
        loop {
            if let Some(s) = self.child.try_wait().unwrap() {
                let drain = Instant::now() + Duration::from_secs(2);
                while !self.drained.load(std::sync::atomic::Ordering::SeqCst) && Instant::now() < drain {
                    std::thread::sleep(Duration::from_millis(20));
                }
                return s;
            }
            assert!(Instant::now() < deadline, "did not exit:\n{}", self.screen());
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// Waits until `ready` holds of the screen (what it shows, the alternate screen, the
    /// cursor: one parsed state, so no half-written frame passes); panics after `secs`,
    /// which only bounds a hang.
    pub fn wait_until(&self, what: &str, secs: u64, ready: impl Fn(&vt100::Screen) -> bool) -> String {
        let deadline = Instant::now() + bound(secs);
        loop {
            {
                let parser = self.parser.lock().unwrap();
                if ready(parser.screen()) {
                    return parser.screen().contents();
                }
            }
            if Instant::now() > deadline {
                panic!("screen never showed {what}:\n{}", self.screen());
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// Whether the application has hidden the cursor.
    pub fn cursor_hidden(&self) -> bool {
        self.parser.lock().unwrap().screen().hide_cursor()
    }

    pub fn alternate_screen(&self) -> bool {
        self.parser.lock().unwrap().screen().alternate_screen()
    }
}

/// How long a wait may take before it is called a hang: what the test asked, but at least
/// a minute. These bounds only catch a TUI that never draws what it should; on a loaded
/// 2-core machine (a CI run beside builds) a screen that takes 1 s when idle has taken
/// over 10, and a bound met only on a quiet machine is a flaky test. A passing wait returns
/// as soon as the screen shows it, so the floor costs nothing.
fn bound(secs: u64) -> Duration {
    Duration::from_secs(secs.max(60))
}

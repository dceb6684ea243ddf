//! Logs go to a file (never to the terminal a TUI owns): `--log-file`, or
//! `$XDG_STATE_HOME/daemonscope/daemonscope.log` (`~/.local/state/...`); `serve`, which
//! owns no terminal and may run in a pod with a read-only filesystem, logs to stderr. The level
//! comes from `DAEMONSCOPE_LOG` (tracing's env-filter syntax, default `info`).
//!
//! May import: nothing of ours.

use std::path::{Path, PathBuf};

/// `$<var>/daemonscope`, or `~/<fallback>/daemonscope` (XDG base directories).
pub fn xdg_dir(var: &str, fallback: &str) -> PathBuf {
    let base = std::env::var_os(var)
        .map(PathBuf::from)
        .filter(|p| p.is_absolute())
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(fallback)))
        .unwrap_or_else(std::env::temp_dir);
    base.join("daemonscope")
}

pub fn default_log_path() -> PathBuf {
    xdg_dir("XDG_STATE_HOME", ".local/state").join("daemonscope.log")
}

/// Installs the file logger; returns the path in use. Failing to open the file is not
/// fatal: the tool runs without a log and says so.
pub fn init(path: Option<&Path>) -> Option<PathBuf> {
    let path = path.map(Path::to_path_buf).unwrap_or_else(default_log_path);
    if let Some(dir) = path.parent() {
        let _ = std::fs::create_dir_all(dir);
    }
    let file = match std::fs::OpenOptions::new().create(true).append(true).open(&path) {
        Ok(f) => f,
        Err(e) => {
            eprintln!("daemonscope: cannot open log file {}: {e} (continuing without a log)", path.display());
            return None;
        }
    };
    let filter =
        tracing_subscriber::EnvFilter::try_from_env("DAEMONSCOPE_LOG").unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let _ = tracing_subscriber::fmt().with_env_filter(filter).with_ansi(false).with_writer(std::sync::Mutex::new(file)).try_init();
    Some(path)
}

/// Installs a logger to stderr (for `serve`).
pub fn init_stderr() {
    let filter =
        tracing_subscriber::EnvFilter::try_from_env("DAEMONSCOPE_LOG").unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let _ = tracing_subscriber::fmt().with_env_filter(filter).with_ansi(false).with_writer(std::io::stderr).try_init();
}

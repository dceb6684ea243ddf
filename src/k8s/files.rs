//! Every file daemonscope reads (scenario, snapshot, config, kubeconfig) is read with a
//! size limit: `--max-file-size` (default [`DEFAULT_MAX`]), so `/dev/zero`, a FIFO that
//! never ends or a runaway file is refused in one line at once instead of growing memory
//! until the machine gives out. And counts from the command line are range-checked here
//! before anything is allocated from them.
//!
//! May import: nothing of ours.

use std::io::Read;
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};

/// What a file may hold unless `--max-file-size` says otherwise: 64 MiB (a snapshot of
/// 10,000 nodes is about 20 MiB; a kubeconfig or a config a few KiB).
pub const DEFAULT_MAX: u64 = 64 << 20;

static MAX: AtomicU64 = AtomicU64::new(DEFAULT_MAX);

/// The limit for this process (`--max-file-size`).
pub fn set_max(bytes: u64) {
    MAX.store(bytes.max(1), Ordering::Relaxed);
}

pub fn max() -> u64 {
    MAX.load(Ordering::Relaxed)
}

/// Why a file could not be read: the I/O error, or that it is larger than the limit.
#[derive(Debug)]
pub enum ReadError {
    Io(std::io::Error),
    TooLarge { limit: u64 },
}

impl std::fmt::Display for ReadError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ReadError::Io(e) => write!(f, "{e}"),
            ReadError::TooLarge { limit } => {
                write!(f, "larger than {} (--max-file-size raises the limit)", size(*limit))
            }
        }
    }
}

impl std::error::Error for ReadError {}

impl ReadError {
    /// The I/O error kind (`NotFound` …), for callers that treat a missing file apart.
    pub fn kind(&self) -> Option<std::io::ErrorKind> {
        match self {
            ReadError::Io(e) => Some(e.kind()),
            ReadError::TooLarge { .. } => None,
        }
    }
}

/// The file at `path` as text (UTF-8), read up to the limit and refused beyond it. A
/// regular file is judged by its size before a byte is read; anything else (a device, a
/// FIFO) by reading at most one byte more than the limit.
pub fn read_to_string(path: &Path) -> Result<String, ReadError> {
    read_limited(path, max())
}

fn read_limited(path: &Path, limit: u64) -> Result<String, ReadError> {
    let file = std::fs::File::open(path).map_err(ReadError::Io)?;
    if let Ok(m) = file.metadata()
        && m.is_file()
        && m.len() > limit
    {
        return Err(ReadError::TooLarge { limit });
    }
    let mut bytes = Vec::new();
    file.take(limit.saturating_add(1)).read_to_end(&mut bytes).map_err(ReadError::Io)?;
    if bytes.len() as u64 > limit {
        return Err(ReadError::TooLarge { limit });
    }
    String::from_utf8(bytes).map_err(|e| ReadError::Io(std::io::Error::new(std::io::ErrorKind::InvalidData, e)))
}

/// `64MiB`, `1G`, `500k`, `1048576`: a size as a flag gives it (binary units: k = KiB).
pub fn parse_size(s: &str) -> Result<u64, String> {
    let t = s.trim();
    let digits = t.find(|c: char| !c.is_ascii_digit()).unwrap_or(t.len());
    let (n, unit) = t.split_at(digits);
    let n: u64 = n.parse().map_err(|_| format!("{s:?} is not a size (e.g. 64MiB, 1GiB, 500k)"))?;
    let shift = match unit.trim().to_ascii_lowercase().as_str() {
        "" | "b" => 0,
        "k" | "kb" | "ki" | "kib" => 10,
        "m" | "mb" | "mi" | "mib" => 20,
        "g" | "gb" | "gi" | "gib" => 30,
        _ => return Err(format!("{s:?} is not a size (e.g. 64MiB, 1GiB, 500k)")),
    };
    let bytes = n.checked_mul(1u64 << shift).ok_or_else(|| format!("{s:?} is too large"))?;
    if bytes == 0 {
        return Err("the size must be more than 0".into());
    }
    Ok(bytes)
}

/// `64 MiB`, `512 KiB`, `100 bytes`.
pub fn size(bytes: u64) -> String {
    match bytes {
        b if b >= 1 << 30 && b % (1 << 30) == 0 => format!("{} GiB", b >> 30),
        b if b >= 1 << 20 && b % (1 << 20) == 0 => format!("{} MiB", b >> 20),
        b if b >= 1 << 10 && b % (1 << 10) == 0 => format!("{} KiB", b >> 10),
        b => format!("{b} bytes"),
    }
}

/// A count from the command line within `1..=max`, or the line that says it is not.
pub fn count(flag: &str, n: usize, max: usize) -> Result<usize, String> {
    if n == 0 || n > max {
        return Err(format!("{flag} {n} is out of range (1 to {max})"));
    }
    Ok(n)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_parse_as_flags_give_them() {
        assert_eq!(parse_size("64MiB"), Ok(64 << 20));
        assert_eq!(parse_size("1G"), Ok(1 << 30));
        assert_eq!(parse_size("500k"), Ok(500 << 10));
        assert_eq!(parse_size("1048576"), Ok(1 << 20));
        assert!(parse_size("0").is_err());
        assert!(parse_size("lots").is_err());
        assert!(parse_size("99999999999G").is_err());
        assert_eq!(size(DEFAULT_MAX), "64 MiB");
    }

    #[test]
    fn dev_zero_is_refused_after_reading_one_byte_past_the_limit() {
        let zero = Path::new("/dev/zero");
        if !zero.exists() {
            return;
        }
        let e = read_limited(zero, 1 << 20).unwrap_err();
        assert!(matches!(e, ReadError::TooLarge { limit } if limit == 1 << 20), "{e}");
        assert_eq!(e.to_string(), "larger than 1 MiB (--max-file-size raises the limit)");
    }
}

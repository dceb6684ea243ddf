//! The files of a dump, wherever they are: a directory tree, one file, or a `.tar.gz` /
//! `.tgz` / `.tar` / `.zip` archive read in place (nothing is unpacked to disk). Only
//! the files a reader can use are kept in memory: manifests (`.json`, `.yaml`, `.yml`),
//! logs (`.log`, `.txt`) and must-gather's `timestamp`.
//!
//! May import: nothing of ours.

use std::io::Read;
use std::path::Path;

/// One file: its path inside the dump (`/`-separated, relative) and its bytes.
pub struct File {
    pub path: String,
    pub bytes: Vec<u8>,
}

/// Files larger than this are not read (a dump's manifests are far smaller; a huge log
/// is skipped rather than held).
const MAX_FILE: u64 = 1 << 30;

fn wanted(path: &str) -> bool {
    let name = path.rsplit('/').next().unwrap_or(path);
    if name.starts_with('.') && name != "." {
        return false;
    }
    let lower = name.to_ascii_lowercase();
    [".json", ".yaml", ".yml", ".log", ".txt"].iter().any(|e| lower.ends_with(e)) || lower == "timestamp"
}

/// The archive kind a path names by its extension.
enum Archive {
    TarGz,
    Tar,
    Zip,
}

fn archive_of(path: &Path) -> Option<Archive> {
    let name = path.file_name()?.to_string_lossy().to_ascii_lowercase();
    if name.ends_with(".tar.gz") || name.ends_with(".tgz") {
        Some(Archive::TarGz)
    } else if name.ends_with(".tar") {
        Some(Archive::Tar)
    } else if name.ends_with(".zip") {
        Some(Archive::Zip)
    } else {
        None
    }
}

/// Every usable file under `path`, in path order. Errors are one line naming the path.
pub fn read(path: &Path) -> Result<Vec<File>, String> {
    let shown = path.display();
    let meta = std::fs::metadata(path).map_err(|e| match e.kind() {
        std::io::ErrorKind::NotFound => format!("{shown}: no such file or directory"),
        _ => format!("{shown}: {e}"),
    })?;
    let mut out = Vec::new();
    if meta.is_dir() {
        walk(path, path, &mut out)?;
    } else {
        match archive_of(path) {
            Some(Archive::TarGz) => {
                let f = std::fs::File::open(path).map_err(|e| format!("{shown}: {e}"))?;
                untar(tar::Archive::new(flate2::read::MultiGzDecoder::new(std::io::BufReader::new(f))), &mut out)
                    .map_err(|e| format!("{shown}: not a readable .tar.gz: {e}"))?;
            }
            Some(Archive::Tar) => {
                let f = std::fs::File::open(path).map_err(|e| format!("{shown}: {e}"))?;
                untar(tar::Archive::new(std::io::BufReader::new(f)), &mut out).map_err(|e| format!("{shown}: not a readable .tar: {e}"))?;
            }
            Some(Archive::Zip) => unzip(path, &mut out).map_err(|e| format!("{shown}: not a readable .zip: {e}"))?,
            None => {
                let bytes = std::fs::read(path).map_err(|e| format!("{shown}: {e}"))?;
                let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
                out.push(File { path: name, bytes });
            }
        }
    }
    out.sort_by(|a, b| a.path.cmp(&b.path));
    Ok(out)
}

fn walk(root: &Path, dir: &Path, out: &mut Vec<File>) -> Result<(), String> {
    let entries = std::fs::read_dir(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    for e in entries {
        let e = e.map_err(|e| format!("{}: {e}", dir.display()))?;
        let p = e.path();
        let ft = e.file_type().map_err(|e| format!("{}: {e}", p.display()))?;
        let rel = p.strip_prefix(root).unwrap_or(&p).to_string_lossy().replace('\\', "/");
        if ft.is_dir() {
            walk(root, &p, out)?;
        } else if ft.is_file() && wanted(&rel) && e.metadata().map(|m| m.len() <= MAX_FILE).unwrap_or(false) {
            let bytes = std::fs::read(&p).map_err(|e| format!("{}: {e}", p.display()))?;
            out.push(File { path: rel, bytes });
        }
    }
    Ok(())
}

fn untar<R: Read>(mut a: tar::Archive<R>, out: &mut Vec<File>) -> std::io::Result<()> {
    for entry in a.entries()? {
        let mut entry = entry?;
        if !entry.header().entry_type().is_file() {
            continue;
        }
        let path = entry.path()?.to_string_lossy().trim_start_matches("./").to_string();
        if !wanted(&path) || entry.size() > MAX_FILE {
            continue;
        }
        let mut bytes = Vec::with_capacity(entry.size() as usize);
        entry.read_to_end(&mut bytes)?;
        out.push(File { path, bytes });
    }
    Ok(())
}

fn unzip(path: &Path, out: &mut Vec<File>) -> Result<(), String> {
    let f = std::fs::File::open(path).map_err(|e| e.to_string())?;
    let mut z = zip::ZipArchive::new(std::io::BufReader::new(f)).map_err(|e| e.to_string())?;
    for i in 0..z.len() {
        let mut entry = z.by_index(i).map_err(|e| e.to_string())?;
        if !entry.is_file() {
            continue;
        }
        let name = entry.name().map_err(|e| e.to_string())?.trim_start_matches("./").to_string();
        if !wanted(&name) || entry.size() > MAX_FILE {
            continue;
        }
        let mut bytes = Vec::with_capacity(entry.size() as usize);
        entry.read_to_end(&mut bytes).map_err(|e| e.to_string())?;
        out.push(File { path: name, bytes });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_manifests_logs_and_timestamps() {
        for ok in ["a/nodes.json", "x/pods.yaml", "p/c/logs/current.log", "ns/pod/logs.txt", "mg/timestamp", "b.YML"] {
            assert!(wanted(ok), "{ok}");
        }
        for no in ["a/.hidden.json", "bin/kubectl", "x/image.png"] {
            assert!(!wanted(no), "{no}");
        }
    }
}

//! The kubeconfig `daemonscope sim` writes: the server, its CA, and the bearer token it
//! generated. Written with mode 0600 through a temporary file and a rename (a symlink at
//! the path is never followed); a previous run's kubeconfig at the same path gives back
//! its CA, CA key and token, so clients keep working across a restart; any other file is
//! left alone unless the caller forces it.
//!
//! May import: `sim::tls`.

use std::io::Write as _;
use std::path::Path;

use base64::Engine as _;
use serde_json::Value;

use super::tls::Ca;

pub const CONTEXT_NAME: &str = "daemonscope-sim";
/// The cluster extension that carries the CA key (so a restart can sign with the same CA).
const EXTENSION: &str = "sim.daemonscope.io/ca";

/// What clients need to trust and authenticate to a simulator: its CA and a bearer token.
#[derive(Clone, Debug)]
pub struct Credentials {
    pub ca: Ca,
    pub token: String,
}

impl Credentials {
    /// A new CA and a new random token.
    pub fn generate() -> Result<Credentials, String> {
        use rand::Rng as _;
        let bytes: [u8; 32] = rand::rng().random();
        let token = bytes.iter().map(|b| format!("{b:02x}")).collect();
        Ok(Credentials { ca: Ca::generate()?, token })
    }
}

fn b64(s: &str) -> String {
    base64::engine::general_purpose::STANDARD.encode(s)
}

/// A kubeconfig whose current context `daemonscope-sim` points at `url`.
pub fn kubeconfig_yaml(url: &str, ca_pem: Option<&str>, token: Option<&str>) -> String {
    render(url, ca_pem, token, None, CONTEXT_NAME)
}

/// Whether `name` can name the context, cluster and user of a simulator's kubeconfig:
/// 1 to 253 letters, digits and `-._@:/` (the names `kind`, `k3d` and cloud CLIs write),
/// so that several simulators' kubeconfigs merge (`KUBECONFIG=a:b`) without clashing.
pub fn validate_context_name(name: &str) -> Result<(), String> {
    let ok = |c: char| c.is_ascii_alphanumeric() || "-._@:/".contains(c);
    if name.is_empty() || name.len() > 253 || !name.chars().all(ok) {
        return Err(format!("--context-name {name:?}: use 1 to 253 letters, digits and - . _ @ : / (e.g. prod-eu)"));
    }
    Ok(())
}

fn render(url: &str, ca_pem: Option<&str>, token: Option<&str>, ca_key_pem: Option<&str>, name: &str) -> String {
    let user = match token {
        Some(t) => format!("  user:\n    token: {t}\n"),
        None => "  user: {}\n".to_string(),
    };
    let ca = match ca_pem {
        Some(pem) => format!("    certificate-authority-data: {}\n", b64(pem)),
        None => String::new(),
    };
    let ext = match ca_key_pem {
        Some(k) => format!("    extensions:\n    - name: {EXTENSION}\n      extension:\n        ca-key-data: {}\n", b64(k)),
        None => String::new(),
    };
    format!(
        "apiVersion: v1\nkind: Config\nclusters:\n- name: {name}\n  cluster:\n{ca}    server: {url}\n{ext}contexts:\n- name: {name}\n  context:\n    cluster: {name}\n    user: {name}\n    namespace: default\ncurrent-context: {name}\nusers:\n- name: {name}\n{user}"
    )
}

/// The kubeconfig of a simulator serving `url` with `creds` (None: plain HTTP, no token).
pub fn standalone_yaml(url: &str, creds: Option<&Credentials>) -> String {
    standalone_yaml_named(url, creds, CONTEXT_NAME)
}

/// [`standalone_yaml`] with `name` (checked by [`validate_context_name`]) for its
/// context, cluster and user (`daemonscope sim --context-name`).
pub fn standalone_yaml_named(url: &str, creds: Option<&Credentials>, name: &str) -> String {
    match creds {
        Some(c) => render(url, Some(&c.ca.cert_pem), Some(&c.token), Some(&c.ca.key_pem), name),
        None => render(url, None, None, None, name),
    }
}

/// Writes `yaml` to `path` with mode 0600: a new temporary file beside it, then a rename
/// over `path` (which replaces a symlink there rather than writing where it points). Its
/// directory must exist: a mistyped path is an error, never a tree of new directories.
pub fn write_private(path: &Path, yaml: &str) -> std::io::Result<()> {
    let dir = path.parent().filter(|d| !d.as_os_str().is_empty()).unwrap_or(Path::new("."));
    let name = path.file_name().ok_or_else(|| std::io::Error::other("not a file name"))?.to_string_lossy().into_owned();
    let tmp = dir.join(format!(".{name}.{}.{:08x}.tmp", std::process::id(), rand::random::<u32>()));
    let mut o = std::fs::OpenOptions::new();
    o.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut o, 0o600);
    let result = (|| {
        let mut f = o.open(&tmp)?;
        f.write_all(yaml.as_bytes())?;
        f.sync_all()?;
        std::fs::rename(&tmp, path)
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    result
}

/// A kubeconfig with context `daemonscope-sim` for `url` (with its CA and `token`), written
/// privately as [`write_private`] does.
pub fn write_kubeconfig(path: &Path, url: &str, ca_pem: Option<&str>, token: Option<&str>) -> std::io::Result<()> {
    write_private(path, &kubeconfig_yaml(url, ca_pem, token))
}

/// What is at the kubeconfig path before the simulator writes there.
#[derive(Debug)]
pub enum Existing {
    Nothing,
    /// A kubeconfig a previous run wrote; with its credentials when it has them all.
    Ours(Option<Credentials>),
    /// Anything else (why it is not ours): left alone unless forced.
    Other(String),
}

/// Looks at `path` without following a symlink there.
pub fn inspect(path: &Path) -> Existing {
    let meta = match std::fs::symlink_metadata(path) {
        // Nothing there (or nothing can be: a path under a regular file): writing will say why.
        Err(e) if matches!(e.kind(), std::io::ErrorKind::NotFound | std::io::ErrorKind::NotADirectory) => return Existing::Nothing,
        Err(e) => return Existing::Other(format!("cannot be read ({e})")),
        Ok(m) => m,
    };
    if meta.file_type().is_symlink() {
        return Existing::Other("is a symbolic link".into());
    }
    if !meta.is_file() {
        return Existing::Other("is not a regular file".into());
    }
    let text = match crate::k8s::files::read_to_string(path) {
        Ok(t) => t,
        Err(e) => return Existing::Other(format!("cannot be read ({e})")),
    };
    let Ok(doc) = serde_saphyr::from_str::<Value>(&text) else {
        return Existing::Other("is not a kubeconfig this simulator wrote".into());
    };
    let names = |list: &str| -> Vec<String> {
        doc.get(list).and_then(Value::as_array).into_iter().flatten().filter_map(|e| e.get("name")?.as_str().map(String::from)).collect()
    };
    // One cluster, context and user, all of one name (`daemonscope-sim`, or the
    // --context-name a previous run was given).
    let first = names("contexts");
    let ours = first.len() == 1 && ["clusters", "users"].iter().all(|l| names(l) == first);
    if !ours {
        return Existing::Other("is not a kubeconfig this simulator wrote".into());
    }
    Existing::Ours(credentials(&doc))
}

fn credentials(doc: &Value) -> Option<Credentials> {
    let decode = |v: &Value| -> Option<String> {
        String::from_utf8(base64::engine::general_purpose::STANDARD.decode(v.as_str()?.trim()).ok()?).ok()
    };
    let cluster = doc.pointer("/clusters/0/cluster")?;
    let cert_pem = decode(cluster.get("certificate-authority-data")?)?;
    let ext = cluster.get("extensions")?.as_array()?.iter().find(|e| e.get("name").and_then(Value::as_str) == Some(EXTENSION))?;
    let key_pem = decode(ext.pointer("/extension/ca-key-data")?)?;
    let token = doc.pointer("/users/0/user/token")?.as_str()?.to_string();
    (!token.is_empty()).then_some(Credentials { ca: Ca { cert_pem, key_pem }, token })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_written_kubeconfig_gives_back_its_credentials_and_is_private() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("kc");
        assert!(matches!(inspect(&p), Existing::Nothing));
        let c = Credentials::generate().unwrap();
        write_private(&p, &standalone_yaml("https://127.0.0.1:1", Some(&c))).unwrap();
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            assert_eq!(std::fs::metadata(&p).unwrap().permissions().mode() & 0o777, 0o600);
        }
        let Existing::Ours(Some(back)) = inspect(&p) else { panic!("ours, with credentials") };
        assert_eq!((back.token, back.ca.cert_pem, back.ca.key_pem), (c.token, c.ca.cert_pem, c.ca.key_pem));
        // Only the temporary file's rename: nothing else is left in the directory.
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);
    }

    #[test]
    fn other_files_and_symlinks_are_not_ours() {
        let dir = tempfile::tempdir().unwrap();
        let other = dir.path().join("config");
        std::fs::write(&other, "apiVersion: v1\nkind: Config\nclusters: [{name: prod, cluster: {server: 'https://x'}}]\n").unwrap();
        assert!(matches!(inspect(&other), Existing::Other(_)));
        #[cfg(unix)]
        {
            let link = dir.path().join("link");
            std::os::unix::fs::symlink(&other, &link).unwrap();
            let Existing::Other(why) = inspect(&link) else { panic!() };
            assert_eq!(why, "is a symbolic link");
            // Writing replaces the link itself; the file it pointed to is untouched.
            write_kubeconfig(&link, "https://127.0.0.1:1", None, Some("t")).unwrap();
            assert!(std::fs::read_to_string(&other).unwrap().contains("prod"));
            assert!(!std::fs::symlink_metadata(&link).unwrap().file_type().is_symlink());
        }
    }
}

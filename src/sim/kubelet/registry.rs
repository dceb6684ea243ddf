//! The simulated image registry: which images a pull finds. An image the registry does
//! not know fails to pull as containerd reports a missing image, and the kubelet's
//! `ErrImagePull` / `ImagePullBackOff` path takes over (see `pod.rs`).
//!
//! It knows every image of every object loaded at start, the scenario's `registry:`
//! list, and `sim --registry-allow` patterns; both of the latter are images or globs
//! (`registry.k8s.io/*`, `*`). A reference is compared as written and in its normalized
//! form (`nginx` is `docker.io/library/nginx:latest`), as containerd resolves it.
//!
//! May import: nothing else in the crate.

use std::collections::HashSet;

use serde_json::Value;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Registry {
    /// Exact references, normalized.
    images: HashSet<String>,
    /// Glob patterns (`*` matches any run of characters, `/` included).
    patterns: Vec<String>,
}

impl Default for Registry {
    /// A registry that has everything (the kubelet on its own, in unit tests); a
    /// simulator built from a scenario starts from [`Registry::closed`].
    fn default() -> Self {
        Registry { images: HashSet::new(), patterns: vec!["*".into()] }
    }
}

impl Registry {
    /// A registry that knows nothing yet.
    pub fn closed() -> Self {
        Registry { images: HashSet::new(), patterns: Vec::new() }
    }

    /// Knows this image, or every image this glob matches.
    pub fn allow(&mut self, image_or_glob: &str) {
        let s = image_or_glob.trim();
        if s.is_empty() {
            return;
        }
        if s.contains('*') {
            if !self.patterns.iter().any(|p| p == s) {
                self.patterns.push(s.to_string());
            }
        } else {
            self.images.insert(normalize(s));
        }
    }

    /// Knows every container image of this object (any kind: pods, templates, lists).
    pub fn allow_images_in(&mut self, v: &Value) {
        match v {
            Value::Object(m) => {
                for (k, x) in m {
                    if matches!(k.as_str(), "containers" | "initContainers" | "ephemeralContainers")
                        && let Value::Array(cs) = x
                    {
                        for c in cs {
                            if let Some(i) = c.get("image").and_then(Value::as_str) {
                                self.allow(i);
                            }
                        }
                    }
                    self.allow_images_in(x);
                }
            }
            Value::Array(a) => a.iter().for_each(|x| self.allow_images_in(x)),
            _ => {}
        }
    }

    /// The patterns (globs) it allows, for a registry built again (a simulated restart).
    pub fn patterns(&self) -> &[String] {
        &self.patterns
    }

    /// Whether a pull of `image` finds it.
    pub fn has(&self, image: &str) -> bool {
        let full = normalize(image);
        self.images.contains(&full) || self.patterns.iter().any(|p| glob(p, image) || glob(p, &full))
    }
}

/// The reference containerd pulls for `image`: `docker.io` when the first component is
/// not a host (no `.` or `:`, not `localhost`), `library/` for a one-component Docker Hub
/// name, `:latest` when there is neither tag nor digest (`reference.ParseNormalizedNamed`
/// in distribution/reference, `normalize.go`).
pub fn normalize(image: &str) -> String {
    let image = image.trim();
    let (name, digest) = match image.split_once('@') {
        Some((n, d)) => (n, Some(d)),
        None => (image, None),
    };
    let (host, rest) = match name.split_once('/') {
        Some((h, r)) if h.contains('.') || h.contains(':') || h == "localhost" => (h.to_string(), r.to_string()),
        Some(_) => ("docker.io".to_string(), name.to_string()),
        None => ("docker.io".to_string(), format!("library/{name}")),
    };
    let rest = if host == "docker.io" && !rest.contains('/') { format!("library/{rest}") } else { rest };
    let last = rest.rsplit('/').next().unwrap_or("");
    let tagged = last.contains(':');
    match digest {
        Some(d) => format!("{host}/{rest}@{d}"),
        None if tagged => format!("{host}/{rest}"),
        None => format!("{host}/{rest}:latest"),
    }
}

/// The image as the kubelet names it in its messages: with `:latest` when it has no tag
/// or digest (`applyDefaultImageTag`, pkg/kubelet/images/image_manager.go).
pub fn with_default_tag(image: &str) -> String {
    let last = image.rsplit('/').next().unwrap_or("");
    if image.contains('@') || last.contains(':') { image.to_string() } else { format!("{image}:latest") }
}

/// What containerd answers the kubelet's PullImage for a reference no registry has, as
/// the CRI error the kubelet prints: `rpc error: code = NotFound desc = failed to pull and
/// unpack image "<ref>": failed to resolve reference "<ref>": <ref>: not found`
/// (containerd `internal/cri/server/images/image_pull.go` wraps the resolver's
/// `errdefs.ErrNotFound`; gRPC's status error formats as `rpc error: code = … desc = …`).
pub fn not_found_message(image: &str) -> String {
    let r = normalize(image);
    format!(
        "rpc error: code = NotFound desc = failed to pull and unpack image \"{r}\": failed to resolve reference \"{r}\": {r}: not found"
    )
}

/// Whether an image or glob, as the registry takes them, names `image` (as written or
/// normalized).
pub fn matches(pattern: &str, image: &str) -> bool {
    let full = normalize(image);
    if pattern.contains('*') { glob(pattern, image) || glob(pattern, &full) } else { normalize(pattern) == full }
}

/// `*` matches any run of characters; everything else matches itself.
fn glob(pattern: &str, s: &str) -> bool {
    let parts: Vec<&str> = pattern.split('*').collect();
    if parts.len() == 1 {
        return pattern == s;
    }
    let (first, last) = (parts[0], parts[parts.len() - 1]);
    if !s.starts_with(first) || s.len() < first.len() + last.len() || !s.ends_with(last) {
        return false;
    }
    let mut rest = &s[first.len()..s.len() - last.len()];
    for mid in &parts[1..parts.len() - 1] {
        match rest.find(mid) {
            Some(i) => rest = &rest[i + mid.len()..],
            None => return false,
        }
    }
    true
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn references_normalize_as_containerd_resolves_them() {
        assert_eq!(normalize("nonexistent:tag"), "docker.io/library/nonexistent:tag");
        assert_eq!(normalize("busybox"), "docker.io/library/busybox:latest");
        assert_eq!(normalize("falcosecurity/falco:0.38.1"), "docker.io/falcosecurity/falco:0.38.1");
        assert_eq!(normalize("registry.k8s.io/kube-proxy:v1.32.4"), "registry.k8s.io/kube-proxy:v1.32.4");
        assert_eq!(normalize("localhost:5000/app"), "localhost:5000/app:latest");
        assert_eq!(with_default_tag("busybox"), "busybox:latest");
        assert_eq!(with_default_tag("localhost:5000/app:v1"), "localhost:5000/app:v1");
    }

    #[test]
    fn knows_loaded_images_listed_images_and_globs() {
        let mut r = Registry::closed();
        assert!(!r.has("busybox"));
        r.allow_images_in(&serde_json::json!({"spec": {"template": {"spec": {"containers": [{"image": "busybox"}], "initContainers": [{"image": "quay.io/x/init:1"}]}}}}));
        assert!(r.has("docker.io/library/busybox:latest") && r.has("busybox:latest") && r.has("quay.io/x/init:1"));
        assert!(!r.has("busybox:1.36"));
        r.allow("registry.k8s.io/*");
        assert!(r.has("registry.k8s.io/dns/k8s-dns-node-cache:1.23.1") && !r.has("registry.k8s.io.evil/x"));
        r.allow("docker.io/library/*");
        assert!(r.has("nginx:1.27"), "a glob matches the normalized reference too");
        assert!(Registry::default().has("anything:at-all"));
        assert_eq!(
            not_found_message("nonexistent:tag"),
            "rpc error: code = NotFound desc = failed to pull and unpack image \"docker.io/library/nonexistent:tag\": failed to resolve reference \"docker.io/library/nonexistent:tag\": docker.io/library/nonexistent:tag: not found"
        );
    }
}

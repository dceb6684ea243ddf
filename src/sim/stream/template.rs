//! An object's JSON as the simulator serialised it, cut where one node's or pod's copy
//! differs from another's (names, uid, addresses, resourceVersion), so that any number
//! of copies are written by concatenation.
//!
//! May import: nothing of ours.

/// What differs between two copies of a template.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Var {
    NodeName,
    PodName,
    Uid,
    NodeIp,
    PodIp,
    /// The first container's containerID (derived from the pod's uid).
    ContainerId,
    /// The value of `"resourceVersion"` (the object's own, not an owner's).
    Rv,
}

/// The values of one copy.
#[derive(Debug, Default)]
pub struct Values<'a> {
    pub node_name: &'a str,
    pub pod_name: &'a str,
    pub uid: &'a str,
    pub node_ip: &'a str,
    pub pod_ip: &'a str,
    pub container_id: &'a str,
    pub rv: &'a str,
}

impl Values<'_> {
    fn get(&self, v: Var) -> &str {
        match v {
            Var::NodeName => self.node_name,
            Var::PodName => self.pod_name,
            Var::Uid => self.uid,
            Var::NodeIp => self.node_ip,
            Var::PodIp => self.pod_ip,
            Var::ContainerId => self.container_id,
            Var::Rv => self.rv,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Seg {
    Lit(Vec<u8>),
    Var(Var),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Template {
    segs: Vec<Seg>,
}

impl Template {
    /// Cuts `json` wherever one of `subs` (a literal, what stands there) occurs; the
    /// earliest match wins, the longest at one place. `"resourceVersion":"…"` always
    /// becomes [`Var::Rv`]. A literal that never occurs is an error: the copy would keep
    /// the reference's value.
    pub fn cut(json: &str, subs: &[(&str, Var)]) -> Result<Template, String> {
        const RV: &str = "\"resourceVersion\":\"";
        let mut used = vec![false; subs.len()];
        let mut segs = Vec::new();
        let mut lit = String::new();
        let mut rest = json;
        loop {
            let mut best: Option<(usize, usize, Option<usize>)> = None;
            for (i, (pat, _)) in subs.iter().enumerate() {
                if let Some(at) = rest.find(pat)
                    && best.is_none_or(|(b, len, _)| at < b || (at == b && pat.len() > len))
                {
                    best = Some((at, pat.len(), Some(i)));
                }
            }
            if let Some(at) = rest.find(RV)
                && best.is_none_or(|(b, _, _)| at < b)
            {
                best = Some((at, RV.len(), None));
            }
            let Some((at, len, which)) = best else { break };
            lit.push_str(&rest[..at]);
            match which {
                Some(i) => {
                    used[i] = true;
                    // A quoted literal keeps its quotes: only what is between them varies.
                    let quoted = len >= 2 && subs[i].0.starts_with('"') && subs[i].0.ends_with('"');
                    if quoted {
                        lit.push('"');
                    }
                    segs.push(Seg::Lit(std::mem::take(&mut lit).into_bytes()));
                    segs.push(Seg::Var(subs[i].1));
                    if quoted {
                        lit.push('"');
                    }
                    rest = &rest[at + len..];
                }
                None => {
                    lit.push_str(RV);
                    let after = &rest[at + len..];
                    let end = after.find('"').ok_or("unterminated resourceVersion")?;
                    segs.push(Seg::Lit(std::mem::take(&mut lit).into_bytes()));
                    segs.push(Seg::Var(Var::Rv));
                    rest = &after[end..];
                }
            }
        }
        lit.push_str(rest);
        segs.push(Seg::Lit(lit.into_bytes()));
        segs.retain(|s| !matches!(s, Seg::Lit(l) if l.is_empty()));
        match used.iter().position(|u| !u) {
            Some(i) => Err(format!("{:?} does not occur in the template", subs[i].0)),
            None => Ok(Template { segs }),
        }
    }

    /// Appends one copy to `out`.
    pub fn write(&self, out: &mut Vec<u8>, v: &Values) {
        for s in &self.segs {
            match s {
                Seg::Lit(l) => out.extend_from_slice(l),
                Seg::Var(x) => out.extend_from_slice(v.get(*x).as_bytes()),
            }
        }
    }
}

/// The object's JSON without its leading `apiVersion` and `kind`, as the simulator
/// sends list items (the list says them once).
pub fn strip_type(json: &str) -> String {
    let cut = || {
        let rest = json.strip_prefix("{\"apiVersion\":\"")?;
        let rest = &rest[rest.find("\",\"kind\":\"")? + 9..];
        Some(format!("{{{}", &rest[rest.find("\",")? + 2..]))
    };
    cut().unwrap_or_else(|| json.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cuts_and_writes() {
        let t = Template::cut(
            r#"{"metadata":{"name":"n-1","resourceVersion":"42","uid":"u"},"spec":{"nodeName":"n-1","x":"boot-n-1"}}"#,
            &[("n-1", Var::NodeName), ("\"u\"", Var::Uid)],
        )
        .unwrap();
        let mut out = Vec::new();
        t.write(&mut out, &Values { node_name: "big-0002", uid: "x", rv: "7", ..Default::default() });
        assert_eq!(
            String::from_utf8(out).unwrap(),
            r#"{"metadata":{"name":"big-0002","resourceVersion":"7","uid":"x"},"spec":{"nodeName":"big-0002","x":"boot-big-0002"}}"#
        );
        assert!(Template::cut("{}", &[("absent", Var::PodName)]).is_err());
        assert_eq!(strip_type(r#"{"apiVersion":"v1","kind":"Pod","metadata":{}}"#), r#"{"metadata":{}}"#);
    }
}

//! Optional bearer tokens with per-token rules, and `SelfSubjectAccessReview` — enough
//! RBAC for testing how a client behaves when it may not do something.
//!
//! May import: nothing else in the crate.

use std::collections::HashMap;

use serde::{Deserialize, Serialize};

/// One rule: verbs on resources (`nodes`, `pods/eviction`, `*`).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct Rule {
    pub verbs: Vec<String>,
    pub resources: Vec<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct User {
    pub name: String,
    pub rules: Vec<Rule>,
}

/// Token → user. When present, every request needs a known bearer token.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq, Eq)]
pub struct Auth {
    pub tokens: HashMap<String, User>,
}

/// The attributes of a request, as the authorizer sees them.
#[derive(Debug, Clone)]
pub struct Attributes<'a> {
    pub verb: &'a str,
    pub resource: &'a str,
    pub subresource: &'a str,
}

impl User {
    pub fn admin() -> Self {
        User { name: "admin".into(), rules: vec![Rule { verbs: vec!["*".into()], resources: vec!["*".into()] }] }
    }

    pub fn allows(&self, a: &Attributes) -> bool {
        let full = if a.subresource.is_empty() { a.resource.to_string() } else { format!("{}/{}", a.resource, a.subresource) };
        self.rules.iter().any(|r| {
            r.verbs.iter().any(|v| v == "*" || v == a.verb)
                && r.resources
                    .iter()
                    .any(|res| res == "*" || *res == full || (res.ends_with("/*") && full.starts_with(&res[..res.len() - 1])))
        })
    }
}

impl Auth {
    /// The user a request authenticates as; `None` means 401.
    pub fn authenticate(&self, header: Option<&str>) -> Option<&User> {
        let token = header?.strip_prefix("Bearer ")?.trim();
        self.tokens.get(token)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rules() {
        let u = User {
            name: "viewer".into(),
            rules: vec![
                Rule { verbs: vec!["get".into(), "list".into(), "watch".into()], resources: vec!["*".into()] },
                Rule { verbs: vec!["create".into()], resources: vec!["pods/eviction".into()] },
            ],
        };
        let a = |verb, resource, sub| Attributes { verb, resource, subresource: sub };
        assert!(u.allows(&a("list", "nodes", "")));
        assert!(!u.allows(&a("patch", "nodes", "")));
        assert!(u.allows(&a("create", "pods", "eviction")));
        assert!(!u.allows(&a("create", "pods", "")));
        assert!(User::admin().allows(&a("delete", "daemonsets", "")));
    }
}

//! Label key and value validation with the exact rules of apimachinery
//! (`util/validation/validation.go`). Used by the simulator's API server to answer
//! 422 like a real cluster, and by the TUI's label editor to refuse bad input
//! before any request is sent.
//!
//! May import: nothing of ours.

/// One violation, worded like apimachinery's messages.
pub type Problems = Vec<String>;

const DNS1123_SUBDOMAIN_MSG: &str = "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')";
const QUALIFIED_NAME_MSG: &str = "name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')";
const LABEL_VALUE_MSG: &str = "a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyValue',  or 'my_value',  or '12345', regex used for validation is '(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')";

fn is_alnum(c: char) -> bool {
    c.is_ascii_alphanumeric()
}

fn is_qualified_name_part(s: &str) -> bool {
    let b: Vec<char> = s.chars().collect();
    !b.is_empty() && is_alnum(b[0]) && is_alnum(b[b.len() - 1]) && b.iter().all(|&c| is_alnum(c) || c == '-' || c == '_' || c == '.')
}

fn is_dns1123_label(s: &str) -> bool {
    let b: Vec<char> = s.chars().collect();
    !b.is_empty() && b.iter().all(|&c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-') && b[0] != '-' && b[b.len() - 1] != '-'
}

/// DNS-1123 label (at most 63 characters): namespace names.
pub fn validate_dns1123_label(s: &str) -> Result<(), String> {
    if s.len() > 63 {
        return Err("must be no more than 63 characters".into());
    }
    if !is_dns1123_label(s) {
        return Err("a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character".into());
    }
    Ok(())
}

/// DNS-1123 label with apimachinery's `IsDNS1123Label` messages: namespace names.
pub fn dns1123_label_problems(s: &str) -> Problems {
    let mut out = Vec::new();
    if s.len() > 63 {
        out.push("must be no more than 63 characters".to_string());
    }
    if !is_dns1123_label(s) {
        if validate_dns1123_subdomain(s).is_empty() {
            out.push("must not contain dots".to_string());
        } else {
            out.push("a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')".to_string());
        }
    }
    out
}

/// DNS-1035 label (`IsDNS1035Label`): Service names.
pub fn dns1035_label_problems(s: &str) -> Problems {
    let mut out = Vec::new();
    if s.len() > 63 {
        out.push("must be no more than 63 characters".to_string());
    }
    let b = s.as_bytes();
    let ok = !b.is_empty()
        && b[0].is_ascii_lowercase()
        && (b[b.len() - 1].is_ascii_lowercase() || b[b.len() - 1].is_ascii_digit())
        && b.iter().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || *c == b'-');
    if !ok {
        out.push("a DNS-1035 label must consist of lower case alphanumeric characters or '-', start with an alphabetic character, and end with an alphanumeric character (e.g. 'my-name',  or 'abc-123', regex used for validation is '[a-z]([-a-z0-9]*[a-z0-9])?')".to_string());
    }
    out
}

/// DNS-1123 subdomain (at most 253 characters).
pub fn validate_dns1123_subdomain(s: &str) -> Problems {
    let mut out = Vec::new();
    if s.len() > 253 {
        out.push("must be no more than 253 characters".to_string());
    }
    if s.is_empty() || !s.split('.').all(is_dns1123_label) {
        out.push(DNS1123_SUBDOMAIN_MSG.to_string());
    }
    out
}

/// A label key: `[prefix/]name` (apimachinery `IsQualifiedName`).
pub fn validate_label_key(key: &str) -> Problems {
    let mut out = Vec::new();
    let parts: Vec<&str> = key.split('/').collect();
    let name = match parts.as_slice() {
        [name] => *name,
        [prefix, name] => {
            if prefix.is_empty() {
                out.push("prefix part must be non-empty".to_string());
            } else {
                for p in validate_dns1123_subdomain(prefix) {
                    out.push(format!("prefix part {p}"));
                }
            }
            *name
        }
        _ => {
            out.push(format!(
                "a qualified name {QUALIFIED_NAME_MSG_SHORT} with an optional DNS subdomain prefix and '/' (e.g. 'example.com/MyName')"
            ));
            return out;
        }
    };
    if name.is_empty() {
        out.push("name part must be non-empty".to_string());
    } else if name.len() > 63 {
        out.push("name part must be no more than 63 characters".to_string());
    }
    if !name.is_empty() && !is_qualified_name_part(name) {
        out.push(QUALIFIED_NAME_MSG.to_string());
    }
    out
}

const QUALIFIED_NAME_MSG_SHORT: &str =
    "must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character";

/// A label value (apimachinery `IsValidLabelValue`): empty is allowed.
pub fn validate_label_value(value: &str) -> Problems {
    let mut out = Vec::new();
    if value.len() > 63 {
        out.push("must be no more than 63 characters".to_string());
    }
    if !value.is_empty() && !is_qualified_name_part(value) {
        out.push(LABEL_VALUE_MSG.to_string());
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys() {
        for ok in ["a", "disktype", "kubernetes.io/hostname", "topology.kubernetes.io/zone", "A_b.c-9"] {
            assert!(validate_label_key(ok).is_empty(), "{ok}");
        }
        for bad in ["", "bad key", "-a", "a-", "a/b/c", "/a", "Upper.Case/x", &"x".repeat(64)] {
            assert!(!validate_label_key(bad).is_empty(), "{bad}");
        }
        assert!(validate_label_key("bad key")[0].starts_with("name part must consist"));
    }

    #[test]
    fn values() {
        for ok in ["", "v1", "ssd", "a.b_c-d"] {
            assert!(validate_label_value(ok).is_empty(), "{ok}");
        }
        for bad in ["-x", "x-", "a b", "é", &"x".repeat(64)] {
            assert!(!validate_label_value(bad).is_empty(), "{bad}");
        }
    }
}

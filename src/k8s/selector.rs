//! Label and field selectors with the grammar of apimachinery (`labels.Parse`,
//! `fields.ParseSelector`). One parser serves the simulator (server side) and the
//! client (`-l`), so both agree on what a selector means.
//!
//! May import: `k8s::labels`.

use std::collections::BTreeMap;
use std::fmt;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Op {
    Equals,
    NotEquals,
    In(Vec<String>),
    NotIn(Vec<String>),
    Exists,
    DoesNotExist,
    Gt(i64),
    Lt(i64),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Requirement {
    pub key: String,
    pub op: Op,
    /// The value for `Equals` / `NotEquals`.
    pub value: String,
}

/// A parsed label selector; empty matches everything.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LabelSelector {
    pub requirements: Vec<Requirement>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SelectorError(pub String);

impl fmt::Display for SelectorError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}
impl std::error::Error for SelectorError {}

impl Requirement {
    pub fn matches(&self, labels: &BTreeMap<String, String>) -> bool {
        let v = labels.get(&self.key);
        match &self.op {
            Op::Equals => v == Some(&self.value),
            Op::NotEquals => v != Some(&self.value),
            Op::In(vals) => v.is_some_and(|v| vals.contains(v)),
            Op::NotIn(vals) => v.is_none_or(|v| !vals.contains(v)),
            Op::Exists => v.is_some(),
            Op::DoesNotExist => v.is_none(),
            Op::Gt(n) => v.and_then(|v| v.parse::<i64>().ok()).is_some_and(|x| x > *n),
            Op::Lt(n) => v.and_then(|v| v.parse::<i64>().ok()).is_some_and(|x| x < *n),
        }
    }
}

impl fmt::Display for Requirement {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.op {
            Op::Equals => write!(f, "{}={}", self.key, self.value),
            Op::NotEquals => write!(f, "{}!={}", self.key, self.value),
            Op::In(v) => write!(f, "{} in ({})", self.key, v.join(",")),
            Op::NotIn(v) => write!(f, "{} notin ({})", self.key, v.join(",")),
            Op::Exists => write!(f, "{}", self.key),
            Op::DoesNotExist => write!(f, "!{}", self.key),
            Op::Gt(n) => write!(f, "{}>{}", self.key, n),
            Op::Lt(n) => write!(f, "{}<{}", self.key, n),
        }
    }
}

impl fmt::Display for LabelSelector {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let parts: Vec<String> = self.requirements.iter().map(|r| r.to_string()).collect();
        f.write_str(&parts.join(","))
    }
}

impl LabelSelector {
    pub fn matches(&self, labels: &BTreeMap<String, String>) -> bool {
        self.requirements.iter().all(|r| r.matches(labels))
    }

    pub fn is_empty(&self) -> bool {
        self.requirements.is_empty()
    }

    /// Parses the string form (`a=b,c!=d,e in (x,y),!f`).
    pub fn parse(input: &str) -> Result<Self, SelectorError> {
        let mut p = Lexer { s: input.as_bytes(), i: 0, input };
        let mut requirements = Vec::new();
        p.skip_ws();
        if p.at_end() {
            return Ok(Self::default());
        }
        loop {
            requirements.push(p.requirement()?);
            p.skip_ws();
            if p.at_end() {
                break;
            }
            if !p.eat(",") {
                return Err(p.err("expected ',' between requirements"));
            }
        }
        for r in &requirements {
            if let Some(msg) = crate::k8s::labels::validate_label_key(&r.key).first() {
                return Err(SelectorError(format!("unable to parse requirement: key: Invalid value: {:?}: {msg}", r.key)));
            }
            let values: Vec<&String> = match &r.op {
                Op::In(v) | Op::NotIn(v) => v.iter().collect(),
                Op::Equals | Op::NotEquals => vec![&r.value],
                _ => vec![],
            };
            for v in values {
                if let Some(msg) = crate::k8s::labels::validate_label_value(v).first() {
                    return Err(SelectorError(format!("unable to parse requirement: values[0][{}]: Invalid value: {:?}: {msg}", r.key, v)));
                }
            }
        }
        Ok(Self { requirements })
    }

    /// Builds a selector from a `metav1.LabelSelector` (matchLabels + matchExpressions).
    pub fn from_k8s(sel: &k8s_openapi::apimachinery::pkg::apis::meta::v1::LabelSelector) -> Result<Self, SelectorError> {
        let mut requirements = Vec::new();
        for (k, v) in sel.match_labels.iter().flatten() {
            requirements.push(Requirement { key: k.clone(), op: Op::Equals, value: v.clone() });
        }
        for e in sel.match_expressions.iter().flatten() {
            let vals = e.values.clone().unwrap_or_default();
            let op = match e.operator.as_str() {
                "In" => Op::In(vals),
                "NotIn" => Op::NotIn(vals),
                "Exists" => Op::Exists,
                "DoesNotExist" => Op::DoesNotExist,
                other => {
                    return Err(SelectorError(format!("{other:?} is not a valid label selector operator")));
                }
            };
            requirements.push(Requirement { key: e.key.clone(), op, value: String::new() });
        }
        Ok(Self { requirements })
    }
}

struct Lexer<'a> {
    s: &'a [u8],
    i: usize,
    input: &'a str,
}

impl Lexer<'_> {
    fn at_end(&self) -> bool {
        self.i >= self.s.len()
    }
    fn skip_ws(&mut self) {
        while self.i < self.s.len() && self.s[self.i].is_ascii_whitespace() {
            self.i += 1;
        }
    }
    fn eat(&mut self, t: &str) -> bool {
        self.skip_ws();
        if self.s[self.i..].starts_with(t.as_bytes()) {
            self.i += t.len();
            true
        } else {
            false
        }
    }
    fn err(&self, what: &str) -> SelectorError {
        SelectorError(format!("unable to parse label selector {:?}: {what} at position {}", self.input, self.i))
    }
    fn ident(&mut self) -> String {
        self.skip_ws();
        let start = self.i;
        while self.i < self.s.len() {
            let c = self.s[self.i];
            if c.is_ascii_whitespace() || b",=!()<>".contains(&c) {
                break;
            }
            self.i += 1;
        }
        self.input[start..self.i].to_string()
    }
    fn word_is(&mut self, w: &str) -> bool {
        self.skip_ws();
        let rest = &self.s[self.i..];
        if rest.starts_with(w.as_bytes()) {
            let after = rest.get(w.len()).copied();
            if after.is_none_or(|c| c.is_ascii_whitespace() || c == b'(') {
                self.i += w.len();
                return true;
            }
        }
        false
    }
    fn values(&mut self) -> Result<Vec<String>, SelectorError> {
        if !self.eat("(") {
            return Err(self.err("expected '('"));
        }
        let mut out = Vec::new();
        loop {
            let v = self.ident();
            out.push(v);
            if self.eat(",") {
                continue;
            }
            if self.eat(")") {
                break;
            }
            return Err(self.err("expected ',' or ')' in value set"));
        }
        Ok(out)
    }
    fn requirement(&mut self) -> Result<Requirement, SelectorError> {
        self.skip_ws();
        if self.eat("!") {
            let key = self.ident();
            if key.is_empty() {
                return Err(self.err("expected a key after '!'"));
            }
            return Ok(Requirement { key, op: Op::DoesNotExist, value: String::new() });
        }
        let key = self.ident();
        if key.is_empty() {
            return Err(self.err("expected a key"));
        }
        self.skip_ws();
        let (op, value) = if self.eat("==") || self.eat("=") {
            (Op::Equals, self.ident())
        } else if self.eat("!=") {
            (Op::NotEquals, self.ident())
        } else if self.eat(">") {
            (Op::Gt(self.int()?), String::new())
        } else if self.eat("<") {
            (Op::Lt(self.int()?), String::new())
        } else if self.word_is("notin") {
            (Op::NotIn(self.values()?), String::new())
        } else if self.word_is("in") {
            (Op::In(self.values()?), String::new())
        } else if self.at_end() || self.s[self.i] == b',' {
            (Op::Exists, String::new())
        } else {
            return Err(self.err("expected an operator (=, ==, !=, in, notin)"));
        };
        Ok(Requirement { key, op, value })
    }
    fn int(&mut self) -> Result<i64, SelectorError> {
        let v = self.ident();
        v.parse().map_err(|_| self.err("expected an integer"))
    }
}

/// One term of a field selector.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldRequirement {
    pub field: String,
    pub value: String,
    pub negated: bool,
}

/// A field selector (`a=b,c!=d`): only `=`, `==` and `!=`, ANDed.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FieldSelector {
    pub requirements: Vec<FieldRequirement>,
}

impl FieldSelector {
    pub fn parse(input: &str) -> Result<Self, SelectorError> {
        let mut requirements = Vec::new();
        for term in split_unescaped(input, ',') {
            let term = term.trim();
            if term.is_empty() {
                continue;
            }
            let (field, value, negated) = if let Some((f, v)) = term.split_once("!=") {
                (f, v, true)
            } else if let Some((f, v)) = term.split_once("==") {
                (f, v, false)
            } else if let Some((f, v)) = term.split_once('=') {
                (f, v, false)
            } else {
                return Err(SelectorError(format!("invalid selector: '{input}'; can't understand '{term}'")));
            };
            requirements.push(FieldRequirement { field: f_trim(field), value: unescape(value.trim()), negated });
        }
        Ok(Self { requirements })
    }

    /// `lookup` returns the object's value for a field, or None for an unsupported field.
    pub fn matches(&self, lookup: impl Fn(&str) -> Option<String>) -> bool {
        self.requirements.iter().all(|r| {
            let v = lookup(&r.field).unwrap_or_default();
            (v == r.value) != r.negated
        })
    }
}

fn f_trim(s: &str) -> String {
    s.trim().to_string()
}

fn split_unescaped(s: &str, sep: char) -> Vec<String> {
    let mut out = vec![String::new()];
    let mut esc = false;
    for c in s.chars() {
        if esc {
            out.last_mut().unwrap().push('\\');
            out.last_mut().unwrap().push(c);
            esc = false;
        } else if c == '\\' {
            esc = true;
        } else if c == sep {
            out.push(String::new());
        } else {
            out.last_mut().unwrap().push(c);
        }
    }
    out
}

fn unescape(s: &str) -> String {
    let mut out = String::new();
    let mut esc = false;
    for c in s.chars() {
        if esc {
            out.push(c);
            esc = false;
        } else if c == '\\' {
            esc = true;
        } else {
            out.push(c);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn labels(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
    }

    #[test]
    fn every_operator() {
        let l = labels(&[("app", "agent"), ("tier", "node"), ("n", "5")]);
        let cases = [
            ("app=agent", true),
            ("app==agent", true),
            ("app!=agent", false),
            ("missing!=x", true),
            ("app in (agent, other)", true),
            ("app notin (agent)", false),
            ("missing notin (agent)", true),
            ("tier", true),
            ("!tier", false),
            ("!missing", true),
            ("app=agent,tier=node", true),
            ("app=agent,tier=gpu", false),
            ("n>4", true),
            ("n<4", false),
            ("", true),
        ];
        for (sel, want) in cases {
            let s = LabelSelector::parse(sel).unwrap_or_else(|e| panic!("{sel}: {e}"));
            assert_eq!(s.matches(&l), want, "{sel}");
        }
    }

    #[test]
    fn rejects_garbage() {
        for bad in ["app=", "app in agent", "a b", "=x", "app in (a", "bad key=1", "a=b c"] {
            // "app=" is valid in Kubernetes (empty value), everything else is not.
            let r = LabelSelector::parse(bad);
            if bad == "app=" {
                assert!(r.is_ok());
            } else {
                assert!(r.is_err(), "{bad} should fail");
            }
        }
    }

    #[test]
    fn fields() {
        let f = FieldSelector::parse("spec.nodeName=n1,status.phase!=Failed").unwrap();
        let get = |k: &str| match k {
            "spec.nodeName" => Some("n1".into()),
            "status.phase" => Some("Running".into()),
            _ => None,
        };
        assert!(f.matches(get));
        assert!(FieldSelector::parse("nonsense").is_err());
    }

    proptest::proptest! {
        #[test]
        fn parse_never_panics_on_any_text(s in "\\PC{0,60}") {
            if let Ok(sel) = LabelSelector::parse(&s) {
                proptest::prop_assert_eq!(LabelSelector::parse(&sel.to_string()).unwrap(), sel);
            }
            let _ = FieldSelector::parse(&s);
        }

        #[test]
        fn parse_never_panics_on_selector_shaped_text(
            s in "([a-zA-Z0-9./_-]{0,12} ?(=|==|!=| in | notin |!|,|\\(|\\)|) ?[a-zA-Z0-9._-]{0,8} ?,?){0,6}"
        ) {
            if let Ok(sel) = LabelSelector::parse(&s) {
                proptest::prop_assert_eq!(LabelSelector::parse(&sel.to_string()).unwrap(), sel);
            }
        }

        #[test]
        fn parse_never_panics_and_roundtrips(s in "[a-z!=,() ]{0,24}") {
            if let Ok(sel) = LabelSelector::parse(&s) {
                let again = LabelSelector::parse(&sel.to_string()).unwrap();
                proptest::prop_assert_eq!(sel, again);
            }
        }
    }
}

//! Counts in words, the way kubectl and people write them: `1 node`, `2 nodes`.
//!
//! May import: nothing of ours.

/// `n` and the noun, plural unless `n` is 1 (`count(1, "node")` is `1 node`).
pub fn count(n: impl Into<u64>, noun: &str) -> String {
    let n = n.into();
    if n == 1 { format!("1 {noun}") } else { format!("{n} {}", plural(noun)) }
}

/// The noun's plural (the few ours end in `s` or `y` take `es`/`ies`).
pub fn plural(noun: &str) -> String {
    if noun.ends_with('s') {
        format!("{noun}es")
    } else if noun.ends_with('y') && !noun.ends_with("ey") {
        format!("{}ies", &noun[..noun.len() - 1])
    } else {
        format!("{noun}s")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_and_many() {
        assert_eq!(count(1u32, "node"), "1 node");
        assert_eq!(count(0u32, "node"), "0 nodes");
        assert_eq!(count(2u64, "DaemonSet"), "2 DaemonSets");
        assert_eq!(count(3u32, "ControllerRevision"), "3 ControllerRevisions");
        assert_eq!(count(1u32, "pod"), "1 pod");
    }
}

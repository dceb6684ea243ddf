//! The input mode: which line editor, if any, takes the keys.
//! May import: nothing of ours.

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Mode {
    Normal,
    Filter(String),
    Command(String),
    /// Typing label edits (kubectl syntax) for the target nodes.
    Labels {
        input: String,
        nodes: Vec<String>,
    },
    /// Typing taint edits (kubectl syntax) for the target nodes.
    Taints {
        input: String,
        nodes: Vec<String>,
    },
}

//! Text from outside — object fields, API server messages, kubeconfig and config values —
//! on its way to a terminal. Anything a cluster, a server or a file says can carry control
//! characters (`ESC[2J` clears the screen, `ESC]0;…BEL` sets the title, OSC 52 writes the
//! clipboard, `\r` overwrites a line), bidi controls (U+202E reverses what follows) and
//! zero-width characters (a name that looks like another). Here they are made visible
//! (`\e`, `\r`, `\u{202e}`), once, for every front end that writes lines: the tables of
//! `status`, every stderr line, errors. `-o json` stays exact JSON (serde escapes control
//! characters itself), and the TUI draws through ratatui, which writes no control
//! character of a cell.
//!
//! One-line contexts (errors, table cells) also cut a long value with an ellipsis, so a
//! megabyte image string is not echoed whole.
//!
//! May import: nothing of ours.

use std::borrow::Cow;
use std::fmt::{self, Write};

/// What an error line or a table cell shows of one outside value at most (characters).
pub const LINE_MAX: usize = 512;

/// Whether `c` must not reach a terminal as itself: C0 controls (all but `\t`; `\n` too:
/// see [`visible_lines`] for text that keeps its lines), DEL, C1 controls, bidi controls,
/// zero-width and other invisible format characters, and the line/paragraph separators.
pub fn is_hostile(c: char) -> bool {
    matches!(c,
        '\u{0}'..='\u{8}' | '\u{a}'..='\u{1f}' | '\u{7f}'..='\u{9f}'
        // soft hyphen, Arabic letter mark, Mongolian vowel separator
        | '\u{ad}' | '\u{61c}' | '\u{180e}'
        // zero-width space/non-joiner/joiner, LRM, RLM
        | '\u{200b}'..='\u{200f}'
        // line and paragraph separators, bidi embeddings and overrides (LRE … RLO)
        | '\u{2028}'..='\u{202e}'
        // word joiner, invisible operators, bidi isolates (LRI … PDI), deprecated format controls
        | '\u{2060}'..='\u{206f}'
        // zero-width no-break space (BOM), interlinear annotation, object replacement controls
        | '\u{feff}' | '\u{fff9}'..='\u{fffb}'
        // language tags (invisible)
        | '\u{e0000}'..='\u{e007f}'
    )
}

fn escape(c: char, out: &mut impl Write) -> fmt::Result {
    match c {
        '\u{1b}' => out.write_str("\\e"),
        '\r' => out.write_str("\\r"),
        '\n' => out.write_str("\\n"),
        '\u{7}' => out.write_str("\\a"),
        '\0' => out.write_str("\\0"),
        c => write!(out, "\\u{{{:x}}}", c as u32),
    }
}

/// `s` with every [hostile](is_hostile) character made visible (`\e`, `\n`, `\u{202e}`);
/// borrowed when there is none (the usual case).
pub fn visible(s: &str) -> Cow<'_, str> {
    escaped(s, false, usize::MAX)
}

/// [`visible`], but line breaks stay (text of several lines: a table, an error with a hint
/// on its second line).
pub fn visible_lines(s: &str) -> Cow<'_, str> {
    escaped(s, true, usize::MAX)
}

/// One line of at most `max` characters of `s` (and `…` when cut), visible.
pub fn one_line(s: &str, max: usize) -> Cow<'_, str> {
    escaped(s, false, max)
}

/// Several lines, each [visible](visible) and cut at `max` characters: what goes to stderr.
pub fn lines_cut(s: &str, max: usize) -> Cow<'_, str> {
    escaped(s, true, max)
}

fn escaped(s: &str, keep_newlines: bool, max: usize) -> Cow<'_, str> {
    let clean = |c: char| !is_hostile(c) || (keep_newlines && c == '\n');
    if (max == usize::MAX || s.len() <= max) && s.chars().all(clean) {
        return Cow::Borrowed(s);
    }
    let max = max.max(1);
    let mut out = String::with_capacity(s.len().min(max.saturating_mul(4)) + 8);
    let lines: Box<dyn Iterator<Item = &str>> = if keep_newlines { Box::new(s.split('\n')) } else { Box::new(std::iter::once(s)) };
    for (i, line) in lines.enumerate() {
        if i > 0 {
            out.push('\n');
        }
        // Longer than `max`: the first max - 1 characters and `…` for the rest.
        let cut = max != usize::MAX && line.chars().nth(max).is_some();
        for c in line.chars().take(if cut { max - 1 } else { usize::MAX }) {
            if clean(c) {
                out.push(c);
            } else {
                let _ = escape(c, &mut out);
            }
        }
        if cut {
            out.push('…');
        }
    }
    Cow::Owned(out)
}

/// serde_json's formatter (compact or pretty) that also writes what [`is_hostile`] but
/// JSON leaves raw (DEL, C1, bidi and zero-width characters) as `\uXXXX`: the same JSON
/// value, exact, and nothing in it a terminal acts on.
pub struct SafeJson<F>(pub F);

impl<F: serde_json::ser::Formatter> serde_json::ser::Formatter for SafeJson<F> {
    fn write_string_fragment<W: ?Sized + std::io::Write>(&mut self, w: &mut W, fragment: &str) -> std::io::Result<()> {
        let mut start = 0;
        for (i, c) in fragment.char_indices() {
            if is_hostile(c) {
                w.write_all(&fragment.as_bytes()[start..i])?;
                let mut units = [0u16; 2];
                for u in c.encode_utf16(&mut units) {
                    write!(w, "\\u{u:04x}")?;
                }
                start = i + c.len_utf8();
            }
        }
        w.write_all(&fragment.as_bytes()[start..])
    }
    fn begin_array<W: ?Sized + std::io::Write>(&mut self, w: &mut W) -> std::io::Result<()> {
        self.0.begin_array(w)
    }
    fn end_array<W: ?Sized + std::io::Write>(&mut self, w: &mut W) -> std::io::Result<()> {
        self.0.end_array(w)
    }
    fn begin_array_value<W: ?Sized + std::io::Write>(&mut self, w: &mut W, first: bool) -> std::io::Result<()> {
        self.0.begin_array_value(w, first)
    }
    fn end_array_value<W: ?Sized + std::io::Write>(&mut self, w: &mut W) -> std::io::Result<()> {
        self.0.end_array_value(w)
    }
    fn begin_object<W: ?Sized + std::io::Write>(&mut self, w: &mut W) -> std::io::Result<()> {
        self.0.begin_object(w)
    }
    fn end_object<W: ?Sized + std::io::Write>(&mut self, w: &mut W) -> std::io::Result<()> {
        self.0.end_object(w)
    }
    fn begin_object_key<W: ?Sized + std::io::Write>(&mut self, w: &mut W, first: bool) -> std::io::Result<()> {
        self.0.begin_object_key(w, first)
    }
    fn end_object_key<W: ?Sized + std::io::Write>(&mut self, w: &mut W) -> std::io::Result<()> {
        self.0.end_object_key(w)
    }
    fn begin_object_value<W: ?Sized + std::io::Write>(&mut self, w: &mut W) -> std::io::Result<()> {
        self.0.begin_object_value(w)
    }
    fn end_object_value<W: ?Sized + std::io::Write>(&mut self, w: &mut W) -> std::io::Result<()> {
        self.0.end_object_value(w)
    }
}

/// JSON text already made (`serde_json::Value::to_string`) with what [`SafeJson`] escapes
/// escaped: a hostile character can only be inside a string there, where `\uXXXX` is the
/// same character.
pub fn json_text(json: &str) -> Cow<'_, str> {
    if !json.chars().any(is_hostile) {
        return Cow::Borrowed(json);
    }
    let mut out = Vec::with_capacity(json.len() + 16);
    let _ = serde_json::ser::Formatter::write_string_fragment(&mut SafeJson(serde_json::ser::CompactFormatter), &mut out, json);
    Cow::Owned(String::from_utf8(out).unwrap_or_default())
}

/// `value` as pretty JSON through [`SafeJson`] (the bytes of `serde_json::to_writer_pretty`
/// when nothing in it is hostile).
pub fn json_pretty<W: std::io::Write, T: ?Sized + serde::Serialize>(w: W, value: &T) -> serde_json::Result<()> {
    let mut ser = serde_json::Serializer::with_formatter(w, SafeJson(serde_json::ser::PrettyFormatter::new()));
    value.serialize(&mut ser)
}

/// `value` as compact JSON through [`SafeJson`].
pub fn json_compact<W: std::io::Write, T: ?Sized + serde::Serialize>(w: W, value: &T) -> serde_json::Result<()> {
    let mut ser = serde_json::Serializer::with_formatter(w, SafeJson(serde_json::ser::CompactFormatter));
    value.serialize(&mut ser)
}

/// A value shown [visibly](visible) by `{}`.
pub struct Visible<'a>(pub &'a str);

impl fmt::Display for Visible<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.pad(&one_line(self.0, LINE_MAX))
    }
}

/// Whether `bytes` would do anything to a terminal but print: any ESC, BEL, CR, C1 or
/// bidi/zero-width character (what the tests of every output path check).
pub fn drives_terminal(bytes: &[u8]) -> Option<String> {
    let s = String::from_utf8_lossy(bytes);
    s.char_indices().find(|&(_, c)| is_hostile(c) && c != '\n').map(|(i, c)| {
        let from = s[..i].char_indices().rev().nth(40).map(|(j, _)| j).unwrap_or(0);
        format!("{:?} at byte {i}, after {:?}", c, &s[from..i])
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const HOSTILE: [(&str, &str); 8] = [
        ("clear", "img\u{1b}[2J:v1"),
        ("title", "img\u{1b}]0;pwned\u{7}:v1"),
        ("clipboard", "img\u{1b}]52;c;aGVsbG8=\u{7}:v1"),
        ("cr", "img:v1\rINNOCENT"),
        ("rlo", "img\u{202e}1v:"),
        ("zero-width", "im\u{200b}g:v1"),
        ("c1 csi", "img\u{9b}2J"),
        ("del and nul", "img\u{7f}\u{0}"),
    ];

    #[test]
    fn every_hostile_string_comes_out_visible_and_harmless() {
        for (what, s) in HOSTILE {
            let v = visible(s);
            assert!(drives_terminal(v.as_bytes()).is_none(), "{what}: {v:?}");
            assert!(drives_terminal(s.as_bytes()).is_some(), "{what}: the test string is hostile");
            assert!(!v.contains('\n'), "{what}");
        }
        assert_eq!(visible("a\u{1b}[2Jb"), "a\\e[2Jb");
        assert_eq!(visible("a\u{202e}b"), "a\\u{202e}b");
        assert_eq!(visible("a\rb\nc\td"), "a\\rb\\nc\td");
        assert_eq!(visible_lines("a\u{7}\nb"), "a\\a\nb");
    }

    #[test]
    fn json_stays_exact_and_harmless() {
        for (what, s) in HOSTILE {
            let mut out = Vec::new();
            json_pretty(&mut out, &serde_json::json!({"image": s, "tag": "\u{e0041}"})).unwrap();
            assert!(drives_terminal(&out).is_none(), "{what}: {}", String::from_utf8_lossy(&out));
            let back: serde_json::Value = serde_json::from_slice(&out).unwrap();
            assert_eq!(back["image"], s, "{what}: the same value");
            assert_eq!(back["tag"], "\u{e0041}");
        }
        let line = serde_json::json!({"reason": "a\u{202e}b\u{1b}"}).to_string();
        assert_eq!(json_text(&line), r#"{"reason":"a\u202eb\u001b"}"#);
        let mut pretty = Vec::new();
        json_pretty(&mut pretty, &serde_json::json!({"a": [1, "b"]})).unwrap();
        assert_eq!(String::from_utf8(pretty).unwrap(), serde_json::to_string_pretty(&serde_json::json!({"a": [1, "b"]})).unwrap());
    }

    #[test]
    fn clean_text_is_borrowed() {
        assert!(matches!(visible("registry.example/agent:v1 — ✓ 日本"), Cow::Borrowed(_)));
        assert!(matches!(one_line("short", 10), Cow::Borrowed(_)));
    }

    #[test]
    fn long_values_are_cut_with_an_ellipsis() {
        let long = "x".repeat(1_000_000);
        let cut = one_line(&long, 100);
        assert_eq!(cut.chars().count(), 100);
        assert!(cut.ends_with('…'));
        assert_eq!(one_line("abcde", 5), "abcde");
        assert_eq!(one_line("abcdef", 5), "abcd…");
        let both = format!("{long}\nshort");
        let two = lines_cut(&both, 10);
        assert_eq!(two, "xxxxxxxxx…\nshort");
        assert_eq!(format!("[{}]", Visible("a\u{1b}b")), "[a\\eb]");
    }
}

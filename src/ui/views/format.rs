//! Formatters and per-node counts that several views use (so no view imports another).
//! May import `model` and `k8s`; nothing from other views or from `app`.

pub mod timeline;

pub use crate::k8s::duration::{age, age_past, human_duration};
use crate::k8s::text::is_hostile;
use crate::model::coverage::{CellState, Health};
use crate::model::{DsInfo, Model, NodeId, Strategy};

/// The coverage bar over the controller's desired nodes, split by who serves: `█` ready
/// and up to date, `▒` ready on an old revision (still serving, not yet updated), `░`
/// absent or broken; the counts `new+old/desired` (`new/desired` when nothing old runs).
/// A rollout in progress reads as covered but outdated, a stuck one shows the old pods
/// still serving. With the DaemonSet's health (None before its coverage is known).
pub fn coverage_bar(model: &Model, d: &DsInfo, width: usize) -> (String, Option<Health>) {
    let Some(c) = model.coverage(d) else { return ("".into(), None) };
    let eligible = c.eligible() as usize;
    let new = c.count(CellState::Ready) as usize;
    let old = c.count(CellState::Outdated) as usize;
    let cells = |n: usize| (n * width).checked_div(eligible).unwrap_or(width).min(width);
    let (filled, serving) = (cells(new), cells(new + old));
    let bar = format!("{}{}{}", "█".repeat(filled), "▒".repeat(serving - filled), "░".repeat(width - serving));
    let counts = if old > 0 { format!("{new}+{old}/{eligible}") } else { format!("{new}/{eligible}") };
    (format!("{bar} {counts}"), Some(Health::of(&c.counts, &d.strategy)))
}

/// A DaemonSet's health: its worst problem (`Health::Ok` before its coverage is known).
pub fn health(model: &Model, d: &DsInfo) -> Health {
    model.coverage(d).map_or(Health::Ok, |c| Health::of(&c.counts, &d.strategy))
}

/// Nodes that are down (NotReady or unreachable).
pub fn nodes_down(model: &Model) -> usize {
    model.nodes().filter(|(_, n)| n.is_down()).count()
}

/// The strategy column: OnDelete, or the rolling update's effective surge/unavailable.
pub fn strategy(d: &DsInfo) -> String {
    match &d.strategy {
        Strategy::OnDelete => "OnDelete".into(),
        Strategy::RollingUpdate { max_unavailable, max_surge } => {
            let (s, u) = crate::k8s::intstr::surge_and_unavailable(max_surge, max_unavailable, d.desired);
            if s > 0 { format!("Rolling(s={s})") } else { format!("Rolling(u={u})") }
        }
    }
}

pub use crate::model::NodeDaemons;

/// How the daemons of every DaemonSet are on node `id` (the model keeps the counts).
pub fn node_daemons(model: &Model, id: NodeId) -> NodeDaemons {
    model.node_daemons(id)
}

/// Nodes where the DaemonSet is not fine.
pub fn problems(model: &Model, d: &DsInfo) -> u32 {
    model.coverage(d).map_or(0, |c| CellState::ALL.iter().filter(|s| s.is_problem()).map(|s| c.count(*s)).sum())
}

/// Nodes where the DaemonSet is broken (not outdated, not on a down node).
pub fn broken(model: &Model, d: &DsInfo) -> u32 {
    model.coverage(d).map_or(0, |c| CellState::ALL.iter().filter(|s| s.is_broken()).map(|s| c.count(*s)).sum())
}

/// Ready over eligible (1.0 when nothing is eligible).
pub fn coverage_ratio(model: &Model, d: &DsInfo) -> f64 {
    let Some(c) = model.coverage(d) else { return 0.0 };
    let e = c.eligible();
    if e == 0 { 1.0 } else { c.count(CellState::Ready) as f64 / e as f64 }
}

/// A node's Ready condition in one word.
pub fn ready_word(ready: Option<bool>) -> &'static str {
    match ready {
        Some(true) => "Ready",
        Some(false) => "NotReady",
        None => "Unknown",
    }
}

/// `s` in at most `w` columns, shortened in the middle (`general-…-0005`) so the part
/// that tells names apart — usually the end — stays.
pub fn middle(s: &str, w: usize) -> String {
    let n = s.chars().count();
    if n <= w {
        return s.to_string();
    }
    if w <= 1 {
        return "…".chars().take(w).collect();
    }
    let keep = w - 1;
    let tail = keep.div_ceil(2);
    let head = keep - tail;
    let chars: Vec<char> = s.chars().collect();
    let mut out: String = chars[..head].iter().collect();
    out.push('…');
    out.extend(&chars[n - tail..]);
    out
}

/// Chars every name starts with, up to a separator (node names of a pool often share
/// most of theirs).
pub fn common_prefix<'a>(names: impl IntoIterator<Item = &'a str>) -> usize {
    let mut names = names.into_iter();
    let Some(first) = names.next() else { return 0 };
    let first: Vec<char> = first.chars().collect();
    let mut n = first.len();
    for name in names {
        n = n.min(name.chars().zip(&first).take_while(|(a, b)| a == *b).count());
    }
    // Back to a separator, so a number that differs is kept whole (`-1` / `-12`).
    while n > 0 && first[n - 1].is_alphanumeric() {
        n -= 1;
    }
    n
}

/// How many chars every name ends with alike, from a separator on (EKS's
/// `.us-west-2.compute.internal`), so a number that differs is kept whole.
pub fn common_suffix<'a>(names: impl IntoIterator<Item = &'a str>) -> usize {
    let mut names = names.into_iter();
    let Some(first) = names.next() else { return 0 };
    let first: Vec<char> = first.chars().rev().collect();
    let mut n = first.len();
    for name in names {
        n = n.min(name.chars().rev().zip(&first).take_while(|(a, b)| a == *b).count());
    }
    while n > 0 && first[n - 1].is_alphanumeric() {
        n -= 1;
    }
    n
}

/// [`shorten`], and when what follows the shared prefix does not fit either, the part
/// that differs kept whole before the shared `suffix` is cut
/// (`ip-192-168-0-5…mpute.internal`, not `ip-192-168-0-…mpute.internal`).
pub fn shorten_between(s: &str, w: usize, prefix: usize, suffix: usize) -> String {
    let n = s.chars().count();
    let tail = n - prefix.min(n);
    if n <= w || tail + 2 <= w || suffix == 0 || suffix >= tail {
        return shorten(s, w, prefix);
    }
    let head = n - suffix;
    if head < w {
        let mut out: String = s.chars().take(head).collect();
        out.push('…');
        out.extend(s.chars().skip(n - (w - 1 - head)));
        return out;
    }
    let differs = head - prefix.min(head);
    if differs + 2 <= w {
        let mut out: String = s.chars().take(w - 1 - differs).collect();
        out.push('…');
        out.extend(s.chars().skip(head - differs).take(differs));
        return out;
    }
    middle(s, w)
}

/// `s` in at most `w` columns, keeping what follows the `prefix` chars it shares with
/// its neighbours whole when that fits (`gener…12.internal`), else shortened in the middle.
pub fn shorten(s: &str, w: usize, prefix: usize) -> String {
    let n = s.chars().count();
    if n <= w {
        return s.to_string();
    }
    let tail = n - prefix.min(n);
    if tail + 2 <= w {
        let head = w - 1 - tail;
        let mut out: String = s.chars().take(head).collect();
        out.push('…');
        out.extend(s.chars().skip(n - tail));
        return out;
    }
    middle(s, w)
}

/// A table column: its priority (0 never drops; higher numbers drop first) and width.
#[derive(Debug, Clone, Copy)]
pub struct Col {
    pub prio: u8,
    pub width: u16,
}

/// Which columns fit in `width` (one space between columns): the lowest-priority
/// columns drop first (the rightmost of equal priority first); priority 0 never drops.
pub fn fit_columns(cols: &[Col], width: u16) -> Vec<usize> {
    let mut keep: Vec<usize> = (0..cols.len()).collect();
    let total = |k: &[usize]| k.iter().map(|i| cols[*i].width + 1).sum::<u16>();
    while total(&keep) > width {
        let Some(worst) = keep.iter().copied().filter(|i| cols[*i].prio > 0).max_by_key(|i| (cols[*i].prio, *i)) else { break };
        keep.retain(|i| *i != worst);
    }
    keep
}

/// `text` broken into lines of at most `width` columns, at spaces where it can (a word
/// longer than a line is cut), so a popup shows all of it instead of cutting lines off.
pub fn wrap(text: &str, width: usize) -> Vec<String> {
    let width = width.max(1);
    let mut out = Vec::new();
    let mut line = String::new();
    let mut len = 0;
    for word in text.split(' ') {
        let mut word: Vec<char> = word.chars().collect();
        loop {
            let sep = usize::from(len > 0);
            if len + sep + word.len() <= width {
                if sep == 1 {
                    line.push(' ');
                }
                line.extend(&word);
                len += sep + word.len();
                break;
            }
            if len > 0 {
                out.push(std::mem::take(&mut line));
                len = 0;
                continue;
            }
            // A word longer than a whole line: cut it.
            let rest = word.split_off(width);
            out.push(word.into_iter().collect());
            word = rest;
        }
    }
    if len > 0 || out.is_empty() {
        out.push(line);
    }
    out
}

/// A value derived from the model (rows in order, column widths), kept until its key
/// changes — the filter, the model's generation, the sort — so a frame or a key press
/// reuses it instead of scanning every node again.
#[derive(Debug)]
pub struct Memo<K, V>(std::cell::RefCell<Option<(K, std::sync::Arc<V>)>>);

impl<K: Clone, V> Clone for Memo<K, V> {
    fn clone(&self) -> Self {
        Memo(self.0.clone())
    }
}

impl<K, V> Default for Memo<K, V> {
    fn default() -> Self {
        Memo(std::cell::RefCell::new(None))
    }
}

impl<K: PartialEq, V> Memo<K, V> {
    /// The kept value if it was made for `key`, else `make()`'s (then kept).
    pub fn get(&self, key: K, make: impl FnOnce() -> V) -> std::sync::Arc<V> {
        if let Some((k, v)) = &*self.0.borrow()
            && *k == key
        {
            return v.clone();
        }
        let v = std::sync::Arc::new(make());
        *self.0.borrow_mut() = Some((key, v.clone()));
        v
    }

    /// Forgets the kept value (the next `get` makes it again).
    pub fn clear(&self) {
        *self.0.borrow_mut() = None;
    }
}
/// The drawn screen with every character a terminal would act on taken out of its cell:
/// ratatui already drops control characters and zero-width graphemes, but a joiner or a
/// bidi control inside a grapheme (`b` + U+200D) would reach the terminal. The one pass
/// every frame goes through, whatever view put the text there.
pub fn harmless(buf: &mut ratatui::buffer::Buffer) {
    for cell in buf.content.iter_mut() {
        let symbol = cell.symbol();
        if symbol.chars().any(is_hostile) {
            let kept: String = symbol.chars().filter(|c| !is_hostile(*c)).collect();
            cell.set_symbol(if kept.is_empty() { " " } else { &kept });
        }
    }
}

/// Millicores as a quantity reads: `250m`, `2` (whole cores).
pub fn cpu_text(m: u64) -> String {
    if m.is_multiple_of(1000) { format!("{}", m / 1000) } else { format!("{m}m") }
}

/// Bytes in the largest binary unit that keeps one decimal: `64Mi`, `1.5Gi`, `512`.
pub fn mem_text(b: u64) -> String {
    const UNITS: [(&str, u64); 4] = [("Ti", 1 << 40), ("Gi", 1 << 30), ("Mi", 1 << 20), ("Ki", 1 << 10)];
    for (unit, size) in UNITS {
        if b >= size {
            let tenths = (b * 10).div_ceil(size);
            return if tenths.is_multiple_of(10) {
                format!("{}{unit}", tenths / 10)
            } else {
                format!("{}.{}{unit}", tenths / 10, tenths % 10)
            };
        }
    }
    b.to_string()
}

/// `cpu 250m (6%)`-style: an amount and, when the node reports its allocatable, the share.
pub fn share(amount: String, of: u64, part: u64) -> String {
    if of == 0 { amount } else { format!("{amount} ({}%)", (part * 100).div_ceil(of)) }
}

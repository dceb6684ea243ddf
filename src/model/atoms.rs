//! The small values a pod is made of, sized for hundreds of thousands of pods: shared
//! strings ([`IStr`], one allocation per distinct value once the model's [`Interner`] has
//! seen it), uids as 16 bytes ([`Uid`], any other uid kept as it came), pod names kept as
//! their DaemonSet's name plus the 5-character suffix the API server adds ([`PodName`]),
//! and timestamps in 8 bytes ([`Time`]).
//!
//! May import: nothing of ours (std and jiff).

use hashbrown::HashSet;
use std::borrow::Borrow;
use std::fmt;
use std::hash::{Hash, Hasher};
use std::ops::Deref;
use std::sync::Arc;

/// An immutable, cheaply cloned string. Equal strings compare and hash by content, so an
/// `IStr` works as a map key looked up by `&str`.
#[derive(Clone, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct IStr(Arc<str>);

impl IStr {
    pub fn as_str(&self) -> &str {
        &self.0
    }

    fn same(&self, other: &IStr) -> bool {
        Arc::ptr_eq(&self.0, &other.0)
    }
}

impl Deref for IStr {
    type Target = str;
    fn deref(&self) -> &str {
        &self.0
    }
}

impl AsRef<str> for IStr {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

impl Borrow<str> for IStr {
    fn borrow(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for IStr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.pad(&self.0)
    }
}

impl fmt::Debug for IStr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&*self.0, f)
    }
}

impl From<String> for IStr {
    fn from(s: String) -> Self {
        IStr(s.into())
    }
}

impl From<&str> for IStr {
    fn from(s: &str) -> Self {
        IStr(s.into())
    }
}

impl From<&String> for IStr {
    fn from(s: &String) -> Self {
        IStr(s.as_str().into())
    }
}

impl From<IStr> for String {
    fn from(s: IStr) -> Self {
        s.0.to_string()
    }
}

impl PartialEq<str> for IStr {
    fn eq(&self, o: &str) -> bool {
        &*self.0 == o
    }
}

impl PartialEq<&str> for IStr {
    fn eq(&self, o: &&str) -> bool {
        &*self.0 == *o
    }
}

impl PartialEq<String> for IStr {
    fn eq(&self, o: &String) -> bool {
        &*self.0 == o.as_str()
    }
}

impl PartialEq<IStr> for String {
    fn eq(&self, o: &IStr) -> bool {
        self.as_str() == &*o.0
    }
}

impl PartialEq<IStr> for str {
    fn eq(&self, o: &IStr) -> bool {
        self == &*o.0
    }
}

impl PartialEq<IStr> for &str {
    fn eq(&self, o: &IStr) -> bool {
        *self == &*o.0
    }
}

/// One copy of each distinct string the model holds (namespaces, node names, images,
/// revision hashes, owner uids, phases, reasons): interning a value swaps it for the
/// shared one. Values nothing else holds any more are dropped as the set grows, so a
/// long-running client does not keep every hash it ever saw.
#[derive(Debug, Default)]
pub struct Interner {
    set: HashSet<IStr>,
    /// The set's size after the last sweep; the next one comes when it has doubled.
    swept: usize,
}

impl Interner {
    /// Makes `s` the shared copy of its value.
    pub fn intern(&mut self, s: &mut IStr) {
        if let Some(shared) = self.set.get(s.as_str()) {
            if !shared.same(s) {
                *s = shared.clone();
            }
            return;
        }
        if self.set.len() >= 2 * self.swept + 64 {
            self.sweep();
        }
        self.set.insert(s.clone());
    }

    pub fn intern_opt(&mut self, s: &mut Option<IStr>) {
        if let Some(s) = s {
            self.intern(s);
        }
    }

    /// Forgets the values only the set still holds.
    pub fn sweep(&mut self) {
        self.set.retain(|s| Arc::strong_count(&s.0) > 1);
        self.swept = self.set.len();
    }

    /// Distinct values held.
    pub fn len(&self) -> usize {
        self.set.len()
    }

    pub fn is_empty(&self) -> bool {
        self.set.is_empty()
    }
}

/// A uid: Kubernetes gives every object a UUID (`8-4-4-4-12` lowercase hex), kept in 16
/// bytes; any other string (a server, or a test, may use one) is kept as it came. Either
/// way it prints back exactly as received.
#[derive(Clone, PartialEq, Eq, Hash)]
pub enum Uid {
    Uuid([u8; 16]),
    Other(Box<str>),
}

/// A uid to look up by, without allocating: what [`Uid`] holds, borrowed.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub enum UidRef<'a> {
    Uuid([u8; 16]),
    Other(&'a str),
}

const HYPHENS: [usize; 4] = [8, 13, 18, 23];

impl<'a> UidRef<'a> {
    /// The 16 bytes of a canonical (lowercase, hyphenated) UUID; any other string as is.
    pub fn parse(s: &'a str) -> UidRef<'a> {
        let b = s.as_bytes();
        if b.len() != 36 || HYPHENS.iter().any(|i| b[*i] != b'-') {
            return UidRef::Other(s);
        }
        let mut out = [0u8; 16];
        let mut digits = b.iter().enumerate().filter(|(i, _)| !HYPHENS.contains(i)).map(|(_, c)| match c {
            b'0'..=b'9' => Some(c - b'0'),
            b'a'..=b'f' => Some(c - b'a' + 10),
            _ => None,
        });
        for byte in &mut out {
            match (digits.next().flatten(), digits.next().flatten()) {
                (Some(hi), Some(lo)) => *byte = hi << 4 | lo,
                _ => return UidRef::Other(s),
            }
        }
        UidRef::Uuid(out)
    }
}

impl Uid {
    pub fn parse(s: &str) -> Uid {
        match UidRef::parse(s) {
            UidRef::Uuid(b) => Uid::Uuid(b),
            UidRef::Other(s) => Uid::Other(s.into()),
        }
    }

    pub fn as_ref(&self) -> UidRef<'_> {
        match self {
            Uid::Uuid(b) => UidRef::Uuid(*b),
            Uid::Other(s) => UidRef::Other(s),
        }
    }
}

impl Default for Uid {
    fn default() -> Self {
        Uid::Other("".into())
    }
}

impl From<&str> for Uid {
    fn from(s: &str) -> Self {
        Uid::parse(s)
    }
}

impl From<String> for Uid {
    fn from(s: String) -> Self {
        match UidRef::parse(&s) {
            UidRef::Uuid(b) => Uid::Uuid(b),
            UidRef::Other(_) => Uid::Other(s.into_boxed_str()),
        }
    }
}

impl fmt::Display for Uid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Uid::Uuid(b) => {
                for (i, byte) in b.iter().enumerate() {
                    if matches!(i, 4 | 6 | 8 | 10) {
                        f.write_str("-")?;
                    }
                    write!(f, "{byte:02x}")?;
                }
                Ok(())
            }
            Uid::Other(s) => f.write_str(s),
        }
    }
}

impl fmt::Debug for Uid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:?}", self.to_string())
    }
}

impl PartialEq<str> for Uid {
    fn eq(&self, o: &str) -> bool {
        self.as_ref() == UidRef::parse(o)
    }
}

impl PartialEq<&str> for Uid {
    fn eq(&self, o: &&str) -> bool {
        self.as_ref() == UidRef::parse(o)
    }
}

impl PartialEq<String> for Uid {
    fn eq(&self, o: &String) -> bool {
        self.as_ref() == UidRef::parse(o)
    }
}

/// Length of the random suffix the API server appends to a `generateName` (as the
/// DaemonSet controller names its pods: `<daemonset>-` + 5 characters).
const SUFFIX: usize = 5;

/// A pod's name. The DaemonSet controller names its pods `<daemonset name>-<5 random
/// characters>`; such a name is kept as the DaemonSet's (shared) name and the suffix, any
/// other name whole. Compares, orders and prints as the full name.
#[derive(Clone)]
pub enum PodName {
    Derived { daemonset: IStr, suffix: [u8; SUFFIX] },
    Full(IStr),
}

impl PodName {
    /// `name` as the controller of DaemonSet `owner` would have named it, or whole.
    pub fn new(name: impl AsRef<str>, owner: &str) -> PodName {
        let name = name.as_ref();
        let b = name.as_bytes();
        let derived = b.len() == owner.len() + 1 + SUFFIX
            && name.starts_with(owner)
            && b[owner.len()] == b'-'
            && b[owner.len() + 1..].iter().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit());
        if !derived || owner.is_empty() {
            return PodName::Full(name.into());
        }
        let mut suffix = [0u8; SUFFIX];
        suffix.copy_from_slice(&b[owner.len() + 1..]);
        PodName::Derived { daemonset: owner.into(), suffix }
    }

    /// The name in its (at most three) pieces.
    fn parts(&self) -> [&str; 3] {
        match self {
            // The suffix was copied from a `str` and is ASCII.
            PodName::Derived { daemonset, suffix } => [daemonset, "-", std::str::from_utf8(suffix).unwrap_or_default()],
            PodName::Full(s) => [s, "", ""],
        }
    }

    fn bytes(&self) -> impl Iterator<Item = u8> + '_ {
        self.parts().into_iter().flat_map(str::bytes)
    }

    pub fn len(&self) -> usize {
        self.parts().iter().map(|p| p.len()).sum()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    pub(crate) fn intern(&mut self, strings: &mut Interner) {
        match self {
            PodName::Derived { daemonset, .. } => strings.intern(daemonset),
            PodName::Full(_) => {}
        }
    }
}

impl Default for PodName {
    fn default() -> Self {
        PodName::Full(IStr::default())
    }
}

impl From<&str> for PodName {
    fn from(s: &str) -> Self {
        PodName::Full(s.into())
    }
}

impl fmt::Display for PodName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PodName::Full(s) => f.pad(s),
            _ if f.width().is_some() || f.precision().is_some() => f.pad(&self.parts().concat()),
            _ => self.parts().iter().try_for_each(|p| f.write_str(p)),
        }
    }
}

impl fmt::Debug for PodName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:?}", self.to_string())
    }
}

impl PartialEq for PodName {
    fn eq(&self, o: &PodName) -> bool {
        self.len() == o.len() && self.bytes().eq(o.bytes())
    }
}

impl Eq for PodName {}

impl PartialOrd for PodName {
    fn partial_cmp(&self, o: &PodName) -> Option<std::cmp::Ordering> {
        Some(self.cmp(o))
    }
}

impl Ord for PodName {
    fn cmp(&self, o: &PodName) -> std::cmp::Ordering {
        self.bytes().cmp(o.bytes())
    }
}

impl Hash for PodName {
    fn hash<H: Hasher>(&self, h: &mut H) {
        for p in self.parts() {
            h.write(p.as_bytes());
        }
        h.write_u8(0xff);
    }
}

impl PartialEq<str> for PodName {
    fn eq(&self, o: &str) -> bool {
        self.len() == o.len() && self.bytes().eq(o.bytes())
    }
}

impl PartialEq<&str> for PodName {
    fn eq(&self, o: &&str) -> bool {
        *self == **o
    }
}

impl PartialEq<String> for PodName {
    fn eq(&self, o: &String) -> bool {
        *self == *o.as_str()
    }
}

impl PartialEq<PodName> for String {
    fn eq(&self, o: &PodName) -> bool {
        *o == *self.as_str()
    }
}

/// An optional timestamp in 8 bytes (an `Option<jiff::Timestamp>` takes 24). Kubernetes
/// sends whole seconds (`metav1.Time`), kept for any date; a fractional one keeps its
/// nanoseconds between 1824 and 2115 and is cut to the second outside those years.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct Time(i64);

impl Time {
    pub const NONE: Time = Time(i64::MIN);

    pub fn new(t: Option<jiff::Timestamp>) -> Time {
        let Some(t) = t else { return Time::NONE };
        if t.subsec_nanosecond() != 0
            && let Some(n) = i64::try_from(t.as_nanosecond()).ok().and_then(|n| n.checked_mul(2))
        {
            return Time(n | 1);
        }
        // Whole seconds: jiff's range (years -9999..=9999) is well within 62 bits.
        Time(t.as_second() << 1)
    }

    pub fn get(self) -> Option<jiff::Timestamp> {
        if self == Time::NONE {
            None
        } else if self.0 & 1 == 1 {
            jiff::Timestamp::from_nanosecond(i128::from(self.0 >> 1)).ok()
        } else {
            jiff::Timestamp::from_second(self.0 >> 1).ok()
        }
    }

    pub fn is_none(self) -> bool {
        self == Time::NONE
    }

    pub fn is_some(self) -> bool {
        self != Time::NONE
    }
}

impl Default for Time {
    fn default() -> Self {
        Time::NONE
    }
}

impl From<Option<jiff::Timestamp>> for Time {
    fn from(t: Option<jiff::Timestamp>) -> Self {
        Time::new(t)
    }
}

impl fmt::Debug for Time {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&self.get(), f)
    }
}

impl PartialOrd for Time {
    fn partial_cmp(&self, o: &Time) -> Option<std::cmp::Ordering> {
        Some(self.cmp(o))
    }
}

impl Ord for Time {
    /// As `Option<Timestamp>` orders: none first, then by time.
    fn cmp(&self, o: &Time) -> std::cmp::Ordering {
        self.get().cmp(&o.get())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uuids_take_16_bytes_and_print_back_exactly_and_other_uids_are_kept() {
        let u = "0f8b3c2e-6a1d-4b7e-9c2a-5d4e3f2a1b0c";
        assert!(matches!(Uid::parse(u), Uid::Uuid(_)));
        assert_eq!(Uid::parse(u).to_string(), u);
        assert_eq!(Uid::parse(u), u);
        // Upper case, no hyphens, wrong length, stray characters: not canonical, kept whole.
        for s in [
            "0F8B3C2E-6A1D-4B7E-9C2A-5D4E3F2A1B0C",
            "0f8b3c2e6a1d4b7e9c2a5d4e3f2a1b0c",
            "uid-1",
            "",
            "0f8b3c2e-6a1d-4b7e-9c2a-5d4e3f2a1b0g",
        ] {
            let p = Uid::parse(s);
            assert!(matches!(p, Uid::Other(_)), "{s}");
            assert_eq!(p.to_string(), s);
            assert_eq!(p, s);
        }
        assert_ne!(Uid::parse(u), Uid::parse("0F8B3C2E-6A1D-4B7E-9C2A-5D4E3F2A1B0C"));
    }

    #[test]
    fn controller_style_pod_names_are_derived_and_compare_as_the_full_name() {
        let n = PodName::new("node-exporter-x7k2p", "node-exporter");
        assert!(matches!(n, PodName::Derived { .. }));
        assert_eq!(n.to_string(), "node-exporter-x7k2p");
        assert_eq!(n, PodName::Full("node-exporter-x7k2p".into()));
        assert_eq!(n, "node-exporter-x7k2p");
        assert_eq!(format!("{n:>22}|{n:<20}|"), "   node-exporter-x7k2p|node-exporter-x7k2p |");
        for (name, owner) in [
            ("node-exporter-x7k2", "node-exporter"),
            ("fluent-bit-x7k2p", "node-exporter"),
            ("node-exporterax7k2p", "node-exporter"),
            ("node-exporter-X7K2P", "node-exporter"),
            ("-abcde", ""),
        ] {
            let n = PodName::new(name, owner);
            assert!(matches!(n, PodName::Full(_)), "{name}");
            assert_eq!(n.to_string(), name);
        }
        let (a, b) = (PodName::new("ds-aaaaa", "ds"), PodName::Full("ds-aaaab".into()));
        assert!(a < b);
        assert_eq!(a.cmp(&PodName::Full("ds-aaaaa".into())), std::cmp::Ordering::Equal);
        assert!(PodName::Full("ds".into()) < a);
    }

    #[test]
    fn times_round_trip_and_order_as_options() {
        let whole: jiff::Timestamp = "2026-11-30T12:00:00Z".parse().unwrap();
        let frac: jiff::Timestamp = "2026-11-30T12:00:00.123456789Z".parse().unwrap();
        let ancient: jiff::Timestamp = "0001-01-01T00:00:00Z".parse().unwrap();
        let far: jiff::Timestamp = "9999-12-30T21:59:59Z".parse().unwrap();
        let before_epoch: jiff::Timestamp = "1960-01-01T00:00:00.5Z".parse().unwrap();
        for t in [whole, frac, ancient, far, before_epoch, jiff::Timestamp::MIN] {
            assert_eq!(Time::new(Some(t)).get(), Some(t), "{t}");
        }
        assert_eq!(Time::new(None).get(), None);
        let far_frac: jiff::Timestamp = "2500-01-01T00:00:00.5Z".parse().unwrap();
        assert_eq!(Time::new(Some(far_frac)).get(), Some("2500-01-01T00:00:00Z".parse().unwrap()));
        let mut v = [Time::new(Some(frac)), Time::NONE, Time::new(Some(whole)), Time::new(Some(before_epoch))];
        v.sort();
        assert_eq!(v.map(Time::get), [None, Some(before_epoch), Some(whole), Some(frac)]);
    }

    #[test]
    fn interning_shares_one_copy_and_sweeps_what_nothing_holds() {
        let mut s = Interner::default();
        let (mut a, mut b) = (IStr::from("kube-system"), IStr::from(String::from("kube-system")));
        s.intern(&mut a);
        s.intern(&mut b);
        assert!(a.same(&b));
        for i in 0..200 {
            let mut x = IStr::from(format!("hash-{i}"));
            s.intern(&mut x);
        }
        s.sweep();
        assert_eq!(s.len(), 1, "only kube-system is still held");
    }
}

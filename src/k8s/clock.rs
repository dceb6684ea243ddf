//! "Now" for ages and durations: the wall clock, or a dump's time when one is read
//! offline (`--from PATH`), so a node that went NotReady an hour before the dump was
//! taken reads `for 1h`, not for however long ago the dump was made.
//!
//! May import: nothing of ours.

use std::sync::atomic::{AtomicI64, Ordering};

/// Milliseconds added to the wall clock.
static OFFSET_MS: AtomicI64 = AtomicI64::new(0);

pub fn now() -> jiff::Timestamp {
    let off = OFFSET_MS.load(Ordering::Relaxed);
    let wall = jiff::Timestamp::now();
    if off == 0 { wall } else { wall + jiff::SignedDuration::from_millis(off) }
}

/// From now on, "now" is `t` (and moves on with the wall clock).
pub fn set_now(t: jiff::Timestamp) {
    let off = t.duration_since(jiff::Timestamp::now()).as_millis() as i64;
    OFFSET_MS.store(if off == 0 { 1 } else { off }, Ordering::Relaxed);
}

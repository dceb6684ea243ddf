//! Durations as Kubernetes prints them (`duration.HumanDuration`, kubectl's AGE column),
//! ages of timestamps, and duration flags as the tools read them (`90s`, `5m`, `1h30m`).
//! Imports nothing of ours.
//!
//! May import: nothing of ours.

/// `duration.HumanDuration` as kubectl prints ages.
pub fn human_duration(secs: i64) -> String {
    if secs < -1 {
        return "<invalid>".into();
    }
    if secs < 0 {
        return "0s".into();
    }
    if secs < 120 {
        return format!("{secs}s");
    }
    let minutes = secs / 60;
    if minutes < 10 {
        let s = secs % 60;
        return if s == 0 { format!("{minutes}m") } else { format!("{minutes}m{s}s") };
    }
    if minutes < 180 {
        return format!("{minutes}m");
    }
    let hours = minutes / 60;
    if hours < 8 {
        let m = minutes % 60;
        return if m == 0 { format!("{hours}h") } else { format!("{hours}h{m}m") };
    }
    if hours < 48 {
        return format!("{hours}h");
    }
    if hours < 24 * 8 {
        let h = hours % 24;
        return if h == 0 { format!("{}d", hours / 24) } else { format!("{}d{h}h", hours / 24) };
    }
    if hours < 24 * 365 * 2 {
        return format!("{}d", hours / 24);
    }
    if hours < 24 * 365 * 8 {
        let dy = (hours / 24) % 365;
        return if dy == 0 { format!("{}y", hours / 24 / 365) } else { format!("{}y{dy}d", hours / 24 / 365) };
    }
    format!("{}y", hours / 24 / 365)
}

/// The age of a timestamp as kubectl prints it; `-` when unknown.
pub fn age(t: Option<jiff::Timestamp>) -> String {
    age_at(t, crate::k8s::clock::now())
}

/// The age of a timestamp where the words say `… ago`: a timestamp a little in the future
/// (a clock ahead of ours) is `0s` ago, not `in 3s ago`.
pub fn age_past(t: Option<jiff::Timestamp>) -> String {
    let Some(t) = t else { return "-".into() };
    human_duration(crate::k8s::clock::now().duration_since(t).as_secs().max(0))
}

/// [`age`] as of `now`. A timestamp from the future (an event stamped by a node whose
/// clock is ahead) is `in 5m`, where kubectl would print `<invalid>`.
pub fn age_at(t: Option<jiff::Timestamp>, now: jiff::Timestamp) -> String {
    let Some(t) = t else { return "-".into() };
    let secs = now.duration_since(t).as_secs();
    if secs < -1 { format!("in {}", human_duration(secs.saturating_neg())) } else { human_duration(secs) }
}

/// The longest duration a flag takes: a year. Anything longer is a typo, and a huge
/// value would overflow the deadline arithmetic.
pub const MAX_FLAG_DURATION: std::time::Duration = std::time::Duration::from_secs(366 * 24 * 3600);

/// A duration flag: `90s`, `5m`, `1h30m`, `2h 5m` (jiff's friendly format), or plain
/// seconds; not negative, at most a year. The error is one line naming the value.
pub fn parse_flag_duration(s: &str) -> Result<std::time::Duration, String> {
    let d = match s.parse::<u64>() {
        Ok(secs) => std::time::Duration::from_secs(secs),
        Err(_) => {
            let d: jiff::SignedDuration = s.parse().map_err(|e| format!("invalid duration {s:?} (try 90s, 5m, 1h30m): {e}"))?;
            std::time::Duration::try_from(d).map_err(|_| format!("invalid duration {s:?}: must not be negative"))?
        }
    };
    if d > MAX_FLAG_DURATION {
        return Err(format!("invalid duration {s:?}: must be at most 366d"));
    }
    Ok(d)
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_timestamp_from_the_future_is_in_so_long_not_invalid() {
        let now: jiff::Timestamp = "2026-01-01T12:00:00Z".parse().unwrap();
        let at = |s: &str| Some(s.parse::<jiff::Timestamp>().unwrap());
        assert_eq!(super::age_at(at("2026-01-01T12:05:00Z"), now), "in 5m");
        assert_eq!(super::age_at(at("2026-01-01T12:00:01Z"), now), "0s", "a second of skew is now");
        assert_eq!(super::age_at(at("2026-01-01T11:58:00Z"), now), "2m");
        assert_eq!(super::age_at(None, now), "-");
    }

    use super::*;

    #[test]
    fn flag_durations_are_range_checked() {
        assert_eq!(parse_flag_duration("90s"), Ok(std::time::Duration::from_secs(90)));
        assert_eq!(parse_flag_duration("1h30m"), Ok(std::time::Duration::from_secs(5400)));
        assert_eq!(parse_flag_duration("42"), Ok(std::time::Duration::from_secs(42)));
        assert!(parse_flag_duration("-5s").unwrap_err().contains("must not be negative"));
        assert_eq!(
            parse_flag_duration("18446744073709551615").unwrap_err(),
            "invalid duration \"18446744073709551615\": must be at most 366d"
        );
        assert!(parse_flag_duration("soon").unwrap_err().starts_with("invalid duration \"soon\""));
    }

    #[test]
    fn ages_like_kubectl() {
        assert_eq!(human_duration(5), "5s");
        assert_eq!(human_duration(119), "119s");
        assert_eq!(human_duration(150), "2m30s");
        assert_eq!(human_duration(600), "10m");
        assert_eq!(human_duration(3 * 3600 + 120), "3h2m");
        assert_eq!(human_duration(30 * 3600), "30h");
        assert_eq!(human_duration(3 * 86400 + 3600), "3d1h");
        assert_eq!(human_duration(40 * 86400), "40d");
    }
}

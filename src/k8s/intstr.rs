//! Int-or-percent values (`maxSurge`, `maxUnavailable`) and the DaemonSet controller's
//! surge/unavailable arithmetic. Imports nothing of ours.
//!
//! May import: nothing of ours.

use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;

pub fn int_or_string(v: &IntOrString) -> String {
    match v {
        IntOrString::Int(i) => i.to_string(),
        IntOrString::String(s) => format!("{s:?}"),
    }
}

/// `GetScaledValueFromIntOrPercent(v, total, roundUp=true)`.
pub fn scaled_value(v: &IntOrString, total: i32) -> Result<i32, String> {
    match v {
        IntOrString::Int(i) => Ok(*i),
        IntOrString::String(s) => {
            let Some(p) = s.strip_suffix('%') else {
                return Err(format!("invalid value for IntOrString: invalid type: string is not a percentage: {s:?}"));
            };
            let p: i64 = p.parse().map_err(|_| format!("invalid value for IntOrString: invalid value {s:?}"))?;
            Ok(((p * total as i64) as f64 / 100.0).ceil() as i32)
        }
    }
}

pub fn validate_int_or_percent(v: &IntOrString) -> Result<(), String> {
    match v {
        IntOrString::Int(i) if *i < 0 => Err(format!("Invalid value: {i}: must be greater than or equal to 0")),
        IntOrString::Int(_) => Ok(()),
        IntOrString::String(s) => {
            let p = s.strip_suffix('%').and_then(|p| p.parse::<i64>().ok());
            match p {
                None => Err(format!(
                    "Invalid value: {s:?}: a valid percent string must be a numeric string followed by an ending '%' (e.g. '1%',  or '93%', regex used for validation is '[0-9]+%')"
                )),
                Some(p) if p > 100 => Err(format!("Invalid value: {s:?}: must not be greater than 100%")),
                Some(_) => Ok(()),
            }
        }
    }
}

/// `(maxSurge, maxUnavailable)` for a DaemonSet with `desired` nodes
/// (`util.SurgeCount`, `util.UnavailableCount`, and the 0/0 fallback of `updatedDesiredNodeCounts`).
pub fn surge_and_unavailable(max_surge: &IntOrString, max_unavailable: &IntOrString, desired: i32) -> (i32, i32) {
    let surge = scaled_value(max_surge, desired).unwrap_or(0).max(0);
    let mut unavail = scaled_value(max_unavailable, desired).unwrap_or(0).max(0);
    if desired > 0 && surge == 0 && unavail == 0 {
        unavail = 1;
    }
    (surge, unavail)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rounds_up() {
        let pct = |s: &str| IntOrString::String(s.into());
        assert_eq!(surge_and_unavailable(&IntOrString::Int(0), &pct("10%"), 15), (0, 2));
        assert_eq!(surge_and_unavailable(&pct("25%"), &IntOrString::Int(0), 5), (2, 0));
        assert_eq!(surge_and_unavailable(&IntOrString::Int(0), &pct("0%"), 3), (0, 1));
        assert_eq!(surge_and_unavailable(&IntOrString::Int(0), &IntOrString::Int(3), 10), (0, 3));
        assert!(validate_int_or_percent(&pct("101%")).is_err());
        assert!(validate_int_or_percent(&pct("abc")).is_err());
        assert!(validate_int_or_percent(&IntOrString::Int(-1)).is_err());
    }
}

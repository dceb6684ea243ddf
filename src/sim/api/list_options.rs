//! `ValidateListOptions` of kube-apiserver
//! (`staging/src/k8s.io/apimachinery/pkg/apis/meta/internalversion/validation/validation.go`,
//! called by `ListResource` in `staging/src/k8s.io/apiserver/pkg/endpoints/handlers/get.go`):
//! what a list or a watch may ask with `resourceVersionMatch` and `sendInitialEvents`, and
//! the 422 `ListOptions.meta.k8s.io "" is invalid: …` for what it may not. Whether a
//! watch-list is served at all is the `WatchList` feature gate (see [`crate::k8s::watchlist`]).
//!
//! May import: `sim::errors`.

use std::collections::HashMap;

use crate::sim::errors::ApiError;

const NOT_OLDER_THAN: &str = "NotOlderThan";
const EXACT: &str = "Exact";

/// Checks a list's (`watch` false) or a watch's options; `watch_list_gate`: the server's
/// `WatchList` feature gate.
pub fn validate(q: &HashMap<String, String>, watch: bool, watch_list_gate: bool) -> Result<(), ApiError> {
    let get = |k: &str| q.get(k).map(String::as_str).unwrap_or("");
    let (rv, matching, cont) = (get("resourceVersion"), get("resourceVersionMatch"), get("continue"));
    // `sendInitialEvents` is a *bool: set (to true or false) or not.
    let send_initial = q.contains_key("sendInitialEvents");
    let forbidden = |m: &str| format!("Forbidden: {m}");
    let mut errs: Vec<(&str, String)> = Vec::new();
    if watch {
        if send_initial {
            if matching != NOT_OLDER_THAN {
                errs.push((
                    "resourceVersionMatch",
                    forbidden(&format!("sendInitialEvents requires setting resourceVersionMatch to {NOT_OLDER_THAN}")),
                ));
            }
            if !watch_list_gate {
                errs.push((
                    "sendInitialEvents",
                    forbidden("sendInitialEvents is forbidden for watch unless the WatchList feature gate is enabled"),
                ));
            }
        }
        if !matching.is_empty() {
            if !send_initial {
                errs.push((
                    "resourceVersionMatch",
                    forbidden("resourceVersionMatch is forbidden for watch unless sendInitialEvents is provided"),
                ));
            }
            if matching != NOT_OLDER_THAN {
                errs.push(("resourceVersionMatch", format!("Unsupported value: {matching:?}: supported values: \"{NOT_OLDER_THAN}\"")));
            }
            if !cont.is_empty() {
                errs.push(("resourceVersionMatch", forbidden("resourceVersionMatch is forbidden when continue is provided")));
            }
        }
    } else {
        if !matching.is_empty() {
            if rv.is_empty() {
                errs.push(("resourceVersionMatch", forbidden("resourceVersionMatch is forbidden unless resourceVersion is provided")));
            }
            if !cont.is_empty() {
                errs.push(("resourceVersionMatch", forbidden("resourceVersionMatch is forbidden when continue is provided")));
            }
            if matching != EXACT && matching != NOT_OLDER_THAN {
                errs.push((
                    "resourceVersionMatch",
                    format!("Unsupported value: {matching:?}: supported values: \"{EXACT}\", \"{NOT_OLDER_THAN}\", \"\""),
                ));
            }
            if matching == EXACT && rv == "0" {
                errs.push(("resourceVersionMatch", forbidden("resourceVersionMatch \"exact\" is forbidden for resourceVersion \"0\"")));
            }
        }
        if send_initial {
            errs.push(("sendInitialEvents", forbidden("sendInitialEvents is forbidden for list")));
        }
    }
    if errs.is_empty() { Ok(()) } else { Err(ApiError::invalid_of("ListOptions", "meta.k8s.io", "", errs)) }
}

#[cfg(test)]
mod tests {
    use super::validate;

    fn q(pairs: &[(&str, &str)]) -> std::collections::HashMap<String, String> {
        pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
    }

    fn message(pairs: &[(&str, &str)], watch: bool, gate: bool) -> Option<String> {
        validate(&q(pairs), watch, gate).err().map(|e| e.status_json()["message"].as_str().unwrap_or_default().to_string())
    }

    #[test]
    fn a_watch_list_is_served_with_the_gate_on_and_refused_with_it_off() {
        let wl = [("sendInitialEvents", "true"), ("resourceVersionMatch", "NotOlderThan"), ("allowWatchBookmarks", "true")];
        assert_eq!(message(&wl, true, true), None);
        assert_eq!(
            message(&wl, true, false).as_deref(),
            Some(
                "ListOptions.meta.k8s.io \"\" is invalid: sendInitialEvents: Forbidden: sendInitialEvents is forbidden for watch unless the WatchList feature gate is enabled"
            )
        );
        assert_eq!(
            message(&[("sendInitialEvents", "true")], true, true).as_deref(),
            Some(
                "ListOptions.meta.k8s.io \"\" is invalid: resourceVersionMatch: Forbidden: sendInitialEvents requires setting resourceVersionMatch to NotOlderThan"
            )
        );
        assert_eq!(
            message(&[("resourceVersionMatch", "Exact")], true, true).as_deref(),
            Some(
                "ListOptions.meta.k8s.io \"\" is invalid: [resourceVersionMatch: Forbidden: resourceVersionMatch is forbidden for watch unless sendInitialEvents is provided, resourceVersionMatch: Unsupported value: \"Exact\": supported values: \"NotOlderThan\"]"
            )
        );
        // A list never streams.
        assert_eq!(
            message(&[("sendInitialEvents", "true")], false, true).as_deref(),
            Some("ListOptions.meta.k8s.io \"\" is invalid: sendInitialEvents: Forbidden: sendInitialEvents is forbidden for list")
        );
        let e = validate(&q(&wl), true, false).unwrap_err().status_json();
        assert_eq!((e["code"].as_u64(), e["reason"].as_str()), (Some(422), Some("Invalid")));
        assert_eq!(e["details"]["group"], "meta.k8s.io");
        assert_eq!(e["details"]["causes"][0]["reason"], "FieldValueForbidden");
        assert!(e["details"].get("name").is_none(), "an empty name is left out");
    }

    #[test]
    fn a_list_s_resource_version_match_needs_a_version() {
        assert_eq!(message(&[("resourceVersion", "5"), ("resourceVersionMatch", "NotOlderThan")], false, true), None);
        assert_eq!(
            message(&[("resourceVersionMatch", "NotOlderThan")], false, true).as_deref(),
            Some(
                "ListOptions.meta.k8s.io \"\" is invalid: resourceVersionMatch: Forbidden: resourceVersionMatch is forbidden unless resourceVersion is provided"
            )
        );
        assert_eq!(
            message(&[("resourceVersion", "0"), ("resourceVersionMatch", "Exact")], false, true).as_deref(),
            Some(
                "ListOptions.meta.k8s.io \"\" is invalid: resourceVersionMatch: Forbidden: resourceVersionMatch \"exact\" is forbidden for resourceVersion \"0\""
            )
        );
    }
}

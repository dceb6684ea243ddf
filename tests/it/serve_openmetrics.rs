//! The scrape in both formats, checked strictly: the Prometheus text format by `promtool
//! check metrics`, OpenMetrics 1.0 by a line-by-line check of its grammar (the
//! `prometheus-client` crate writes OpenMetrics but has no parser, and promtool 2.x lints
//! only the text format): every family's `# TYPE` before its samples and declared once,
//! each sample's name its family's (with the suffixes its type allows), label syntax and
//! escapes, no repeated label, values that parse, histogram buckets cumulative up to
//! `+Inf` = `_count`, and `# EOF` once, last. On the demo, with `--ksm-compat` and without.

use crate::common;

use std::collections::{HashMap, HashSet};
use std::process::{Command, Stdio};

use daemonscope::cli::ServeArgs;

use crate::serve::{DEMO, get, serve_with, tool, wait_ready};

/// A sample: its name, labels and value.
type Sample = (String, Vec<(String, String)>, f64);

/// `name{a="x",b="y"} value [timestamp]` → the sample, or why not.
fn sample(line: &str) -> Result<Sample, String> {
    let is_name = |s: &str, colon: bool| {
        let mut c = s.chars();
        c.next().is_some_and(|f| f.is_ascii_alphabetic() || f == '_' || (colon && f == ':'))
            && c.all(|x| x.is_ascii_alphanumeric() || x == '_' || (colon && x == ':'))
    };
    let name_end = line.find(['{', ' ']).ok_or("no value")?;
    let name = &line[..name_end];
    if !is_name(name, true) {
        return Err(format!("bad metric name {name:?}"));
    }
    let mut rest = &line[name_end..];
    let mut labels = Vec::new();
    if let Some(r) = rest.strip_prefix('{') {
        let mut r = r;
        loop {
            if let Some(after) = r.strip_prefix('}') {
                rest = after;
                break;
            }
            let eq = r.find("=\"").ok_or("label without =\"")?;
            let key = &r[..eq];
            if !is_name(key, false) {
                return Err(format!("bad label name {key:?}"));
            }
            let mut value = String::new();
            let mut chars = r[eq + 2..].char_indices();
            let end = loop {
                match chars.next().ok_or("unterminated label value")? {
                    (i, '"') => break eq + 2 + i + 1,
                    (_, '\\') => match chars.next().ok_or("dangling escape")?.1 {
                        '\\' => value.push('\\'),
                        '"' => value.push('"'),
                        'n' => value.push('\n'),
                        c => return Err(format!("bad escape \\{c}")),
                    },
                    (_, '\n') => return Err("newline in a label value".into()),
                    (_, c) => value.push(c),
                }
            };
            labels.push((key.to_string(), value));
            r = &r[end..];
            r = r.strip_prefix(',').unwrap_or(r);
        }
    }
    let mut parts = rest.strip_prefix(' ').ok_or("no space before the value")?.split(' ');
    let v = parts.next().ok_or("no value")?;
    let value = match v {
        "+Inf" => f64::INFINITY,
        "-Inf" => f64::NEG_INFINITY,
        "NaN" => f64::NAN,
        _ => v.parse::<f64>().map_err(|_| format!("bad value {v:?}"))?,
    };
    if let Some(ts) = parts.next() {
        ts.parse::<f64>().map_err(|_| format!("bad timestamp {ts:?}"))?;
    }
    if parts.next().is_some() {
        return Err("trailing fields".into());
    }
    let mut seen = HashSet::new();
    if let Some((k, _)) = labels.iter().find(|(k, _)| !seen.insert(k.clone())) {
        return Err(format!("label {k} repeated"));
    }
    Ok((name.to_string(), labels, value))
}

/// Every violation of the OpenMetrics grammar in `text` (empty when it is valid).
fn openmetrics_errors(text: &str) -> Vec<String> {
    let mut errors = Vec::new();
    let mut err = |n: usize, line: &str, why: String| errors.push(format!("line {}: {why}: {line}", n + 1));
    let Some(body) = text.strip_suffix("# EOF\n") else { return vec!["does not end with `# EOF` and a newline".into()] };
    let mut declared: HashSet<String> = HashSet::new();
    let mut family: Option<(String, String)> = None;
    // Histogram state per (family, labels without le): last cumulative count, the +Inf
    // bucket, the _count (prometheus-client writes _sum and _count before the buckets).
    let mut buckets: HashMap<String, (f64, Option<f64>, Option<f64>)> = HashMap::new();
    for (n, line) in body.lines().enumerate() {
        if line.is_empty() {
            err(n, line, "blank line".into());
        } else if let Some(rest) = line.strip_prefix("# ") {
            let mut f = rest.splitn(3, ' ');
            let (kw, name) = (f.next().unwrap_or(""), f.next().unwrap_or(""));
            match kw {
                "TYPE" => {
                    let t = f.next().unwrap_or("");
                    if !["counter", "gauge", "histogram", "gaugehistogram", "summary", "info", "stateset", "unknown"].contains(&t) {
                        err(n, line, format!("unknown type {t:?}"));
                    }
                    if !declared.insert(name.to_string()) {
                        err(n, line, "family declared twice".into());
                    }
                    family = Some((name.to_string(), t.to_string()));
                }
                "HELP" | "UNIT" => {
                    if family.as_ref().is_none_or(|(f, _)| f != name) && declared.contains(name) {
                        err(n, line, "metadata after the family's samples".into());
                    }
                    if family.as_ref().is_none_or(|(f, _)| f != name) {
                        family = Some((name.to_string(), "unknown".into()));
                    }
                }
                _ => err(n, line, format!("unknown comment {kw:?} (only HELP, TYPE, UNIT and the final EOF)")),
            }
        } else if line.starts_with('#') {
            err(n, line, "a comment that is not `# KEYWORD`".into());
        } else {
            let (name, labels, value) = match sample(line) {
                Ok(s) => s,
                Err(why) => {
                    err(n, line, why);
                    continue;
                }
            };
            let Some((fam, t)) = &family else {
                err(n, line, "sample before any # TYPE".into());
                continue;
            };
            let suffixes: &[&str] = match t.as_str() {
                "counter" => &["_total", "_created"],
                "histogram" | "gaugehistogram" => &["_bucket", "_count", "_sum", "_created", "_gcount", "_gsum"],
                "summary" => &["", "_count", "_sum", "_created"],
                "info" => &["_info"],
                _ => &[""],
            };
            if !suffixes.iter().any(|s| name == format!("{fam}{s}")) {
                err(n, line, format!("{name} is not a sample name of {t} family {fam}"));
            }
            if t == "counter" && name.ends_with("_total") && (value.is_nan() || value < 0.0) {
                err(n, line, "negative counter".into());
            }
            if t == "histogram" {
                let key = format!("{fam}{:?}", labels.iter().filter(|(k, _)| k != "le").collect::<Vec<_>>());
                let e = buckets.entry(key).or_insert((0.0, None, None));
                if name.ends_with("_bucket") {
                    match labels.iter().find(|(k, _)| k == "le") {
                        None => err(n, line, "bucket without le".into()),
                        Some((_, le)) => {
                            if value < e.0 {
                                err(n, line, "buckets not cumulative".into());
                            }
                            e.0 = value;
                            if le == "+Inf" {
                                e.1 = Some(value);
                            }
                        }
                    }
                } else if name.ends_with("_count") {
                    e.2 = Some(value);
                }
            }
        }
    }
    for (key, (_, inf, count)) in buckets {
        if inf.is_none() || inf != count {
            errors.push(format!("{key}: _count {count:?} differs from the +Inf bucket {inf:?}"));
        }
    }
    errors
}

#[test]
fn the_openmetrics_check_finds_what_it_should() {
    assert!(openmetrics_errors("# TYPE a gauge\na 1\n# EOF\n").is_empty());
    assert!(openmetrics_errors("# TYPE a_b counter\na_b_total{x=\"q\\\"\"} 2\n# EOF\n").is_empty());
    for bad in [
        "# TYPE a gauge\na 1\n",
        "# TYPE a gauge\na 1\n# EOF\n\n",
        "# TYPE a gauge\nb 1\n# EOF\n",
        "# TYPE a gauge\na{x=\"1\",x=\"2\"} 1\n# EOF\n",
        "# TYPE a gauge\na{x=\"\\t\"} 1\n# EOF\n",
        "# TYPE a gauge\na one\n# EOF\n",
        "# TYPE a counter\na_total -1\n# EOF\n",
        "# TYPE a histogram\na_bucket{le=\"1\"} 2\na_bucket{le=\"+Inf\"} 1\na_count 1\n# EOF\n",
        "# TYPE a histogram\na_count 2\na_bucket{le=\"1\"} 1\na_bucket{le=\"+Inf\"} 1\n# EOF\n",
        "# TYPE a gauge\n# TYPE a gauge\n# EOF\n",
    ] {
        assert!(!openmetrics_errors(bad).is_empty(), "{bad:?} passes");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn both_formats_of_the_scrape_are_valid_with_and_without_ksm_compat() {
    let sim = common::serve(DEMO).await;
    for ksm_compat in [false, true] {
        let (_stop, addr) = serve_with(
            &sim,
            sim.token.as_deref(),
            ServeArgs { listen: "127.0.0.1:0".into(), max_node_series: 1000, ksm_compat, joins: Default::default() },
        )
        .await;
        wait_ready(&addr, 30).await;
        // The first serve runs when general-c-0011 joins (20 s in): wait for its histogram,
        // so the bucket checks have buckets to check.
        let om = common::eventually(60, "a scrape (with the time-to-coverage histogram, the first time)", || async {
            let (code, om) = get(&addr, "/metrics", Some("application/openmetrics-text; version=1.0.0")).await?;
            (code == 200 && (ksm_compat || om.contains("daemonscope_node_time_to_coverage_seconds_bucket{"))).then_some(om)
        })
        .await;
        let errors = openmetrics_errors(&om);
        assert!(errors.is_empty(), "ksm_compat {ksm_compat}:\n{}", errors.join("\n"));
        assert!(om.contains("daemonscope_api_requests_total{"));
        assert_eq!(ksm_compat, om.contains("kube_daemonset_status_number_ready{"));
        let Some(promtool) = tool("promtool") else { continue };
        let (_, text) = get(&addr, "/metrics", None).await.expect("scrape");
        let mut check = Command::new(&promtool)
            .args(["check", "metrics"])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        std::io::Write::write_all(&mut check.stdin.take().unwrap(), text.as_bytes()).unwrap();
        let out = check.wait_with_output().unwrap();
        assert!(
            out.status.success(),
            "ksm_compat {ksm_compat}: {}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    }
}

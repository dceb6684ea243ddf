//! Detail of one DaemonSet, node or pod (like `kubectl describe`, with our explanations):
//! for a DaemonSet its placement rules, security-relevant settings flagged, and how it is
//! reached; for a node its daemons and why each is or is not fine; for a pod its
//! containers. Recent Events of the object at the end.

use std::sync::atomic::Ordering::Relaxed;

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Paragraph, Wrap};

use super::App;
use super::views::age;
use crate::cluster::jobs::Kind;
use crate::k8s::duration::human_duration;
use crate::model::DsInfo;
use crate::model::coverage::CellState;

pub fn draw(f: &mut Frame, app: &App, area: Rect) {
    let lines = match &app.detail {
        Some((o, uid)) => match o.kind {
            Kind::DaemonSet => daemonset(app, o.namespace.as_deref().unwrap_or_default(), &o.name),
            Kind::Node => node(app, &o.name),
            Kind::Pod => pod(app, uid.as_deref().unwrap_or_default(), &o.name),
        },
        None => vec![Line::from("nothing selected")],
    };
    let mut lines = lines;
    events(app, &mut lines);
    let h = area.height.saturating_sub(2) as usize;
    app.page.store(h.max(1), Relaxed);
    let title = app.detail.as_ref().map(|(o, _)| format!(" {o} ")).unwrap_or_default();
    let scroll = app.detail_scroll.min(lines.len().saturating_sub(1)) as u16;
    f.render_widget(Paragraph::new(lines).wrap(Wrap { trim: false }).scroll((scroll, 0)).block(Block::bordered().title(title)), area);
}

fn head(app: &App, s: &str) -> Line<'static> {
    Line::from(Span::styled(s.to_string(), app.theme.header()))
}

fn kv(k: &str, v: impl Into<String>) -> Line<'static> {
    Line::from(format!("  {k:<18} {}", v.into()))
}

fn flag(app: &App, k: &str, v: impl Into<String>, risky: bool) -> Line<'static> {
    let v = v.into();
    if risky { Line::from(vec![Span::raw(format!("  {k:<18} ")), Span::styled(format!("⚠ {v}"), app.theme.warn())]) } else { kv(k, v) }
}

fn daemonset(app: &App, ns: &str, name: &str) -> Vec<Line<'static>> {
    let Some(d) = app.model.daemonset(ns, name) else { return vec![Line::from("the DaemonSet is gone")] };
    let mut l = vec![head(app, "DaemonSet")];
    l.push(kv("age", age(d.created)));
    l.push(kv("strategy", super::views::strategy(d)));
    l.push(kv("images", d.images.join(", ")));
    l.push(kv(
        "status",
        format!(
            "desired {} · current {} · ready {} · up-to-date {} · available {} · misscheduled {}",
            d.desired, d.current, d.ready, d.updated, d.available, d.misscheduled
        ),
    ));
    if let Some(c) = app.model.coverage(d) {
        let parts: Vec<String> =
            CellState::ALL.iter().filter(|s| c.count(**s) > 0).map(|s| format!("{} {} {}", s.glyph(), c.count(*s), s)).collect();
        l.push(kv("coverage", parts.join(" · ")));
    }
    l.push(Line::from(""));
    l.push(head(app, "where it runs"));
    let sel = if d.placement.node_selector.is_empty() {
        "<none>".to_string()
    } else {
        d.placement.node_selector.iter().map(|(k, v)| format!("{k}={v}")).collect::<Vec<_>>().join(", ")
    };
    l.push(kv("nodeSelector", sel));
    match &d.placement.required_terms {
        None => l.push(kv("nodeAffinity", "<none>")),
        Some(terms) => {
            for (i, term) in terms.iter().enumerate() {
                let exprs: Vec<String> = term.match_expressions.iter().chain(&term.match_fields).map(|r| r.to_string()).collect();
                l.push(kv(if i == 0 { "nodeAffinity" } else { "  or" }, exprs.join(" and ")));
            }
        }
    }
    let (own, added): (Vec<_>, Vec<_>) = d.placement.tolerations.iter().partition(|t| !t.is_daemon_default());
    if own.is_empty() {
        l.push(kv("tolerations", "<none of its own>"));
    }
    for (i, t) in own.iter().enumerate() {
        l.push(kv(if i == 0 { "tolerations" } else { "" }, t.to_string()));
    }
    l.push(Line::from(Span::styled(
        format!("  {:<18} {} added by the DaemonSet controller (not-ready, unreachable, pressure, unschedulable…)", "", added.len()),
        app.theme.dim(),
    )));
    l.push(Line::from(""));
    l.push(head(app, "security-relevant settings"));
    l.push(flag(app, "hostNetwork", d.host_network.to_string(), d.host_network));
    l.push(flag(app, "hostPID", d.host_pid.to_string(), d.host_pid));
    l.push(flag(app, "privileged", d.privileged.to_string(), d.privileged));
    if d.host_paths.is_empty() {
        l.push(kv("hostPath mounts", "none"));
    }
    for (i, (path, ro)) in d.host_paths.iter().enumerate() {
        let k = if i == 0 { "hostPath mounts" } else { "" };
        l.push(flag(app, k, format!("{path} ({})", if *ro { "read-only" } else { "read-write" }), !ro));
    }
    let ports: Vec<String> = d.host_ports.iter().map(|p| p.to_string()).collect();
    l.push(flag(app, "hostPorts", if ports.is_empty() { "none".into() } else { ports.join(", ") }, !ports.is_empty()));
    l.push(kv(
        "priorityClassName",
        d.priority_class.clone().unwrap_or_else(|| "<none> (evicted before critical pods under pressure)".into()),
    ));
    l.push(Line::from(""));
    l.push(head(app, "how it is reached"));
    if !d.host_ports.is_empty() {
        l.push(kv("hostPorts", format!("<node IP>:{} on each covered node", ports.join(", :"))));
    }
    let svcs = app.model.services_of(d);
    if svcs.is_empty() && d.host_ports.is_empty() {
        l.push(kv("", "no Service selects its pods and it opens no hostPort"));
    }
    for s in svcs {
        l.push(kv("Service", format!("{}/{} ({} {}) ports {}", s.namespace, s.name, s.type_, s.cluster_ip, s.ports.join(", "))));
    }
    let revs = app.model.revisions_of(d);
    l.push(Line::from(""));
    l.push(Line::from(Span::styled(
        format!("{} revision(s) kept; r on the DaemonSets list shows the rollout and what changed", revs.len()),
        app.theme.dim(),
    )));
    l
}

fn node(app: &App, name: &str) -> Vec<Line<'static>> {
    let Some(id) = app.model.node_id(name) else { return vec![Line::from("the node is gone")] };
    let Some(n) = app.model.node(id) else { return vec![] };
    let mut l = vec![head(app, "Node")];
    let ready = match n.ready {
        Some(true) => "Ready",
        Some(false) => "NotReady",
        None => "Unknown (no Ready condition)",
    };
    l.push(flag(app, "status", ready, n.ready != Some(true)));
    if n.unschedulable {
        l.push(flag(app, "cordoned", "yes — DaemonSet pods ignore cordon: they keep running and are still created here", true));
    }
    if app.marks.contains(&n.name) {
        l.push(kv("marked", "yes"));
    }
    l.push(kv("age", age(n.created)));
    l.push(kv("kubelet", n.kubelet_version.clone()));
    for (i, t) in n.facts.taints.iter().enumerate() {
        l.push(kv(if i == 0 { "taints" } else { "" }, t.to_string()));
    }
    if n.facts.taints.is_empty() {
        l.push(kv("taints", "<none>"));
    }
    l.push(Line::from(""));
    let (bad, ok, expected) = app.node_daemons(id);
    l.push(head(app, &format!("daemons: {ok} of {expected} expected are ready here, {bad} not fine")));
    let mut cells: Vec<(CellState, &DsInfo, String)> =
        app.model.daemonsets().filter_map(|d| app.model.explain(d, id).map(|c| (c.state, d, c.reason))).collect();
    // Problems first, ineligible last.
    cells.sort_by_key(|(s, d, _)| (!s.is_problem(), *s == CellState::Ineligible, d.namespace.clone(), d.name.clone()));
    for (s, d, reason) in cells {
        l.push(Line::from(vec![
            Span::styled(format!("  {} {:<13}", s.glyph(), s.as_str()), app.theme.state(s)),
            Span::raw(format!("{:<36} ", format!("{}/{}", d.namespace, d.name))),
            Span::styled(reason, if s.is_problem() { Style::default() } else { app.theme.dim() }),
        ]));
    }
    l.push(Line::from(""));
    l.push(head(app, "labels"));
    for (k, v) in &n.facts.labels {
        l.push(Line::from(Span::styled(format!("  {k}={v}"), app.theme.dim())));
    }
    l
}

fn pod(app: &App, uid: &str, name: &str) -> Vec<Line<'static>> {
    let Some(p) = app.model.pod(uid) else { return vec![Line::from(format!("pod {name} is gone (replaced or deleted)"))] };
    let mut l = vec![head(app, "Pod")];
    let ds = app.model.daemonset_by_uid(&p.owner_uid);
    l.push(kv("DaemonSet", ds.map(|d| format!("{}/{}", d.namespace, d.name)).unwrap_or_else(|| "?".into())));
    l.push(kv("node", p.node.clone().unwrap_or_else(|| "<none>".into())));
    let mut status = format!("{}, {}", p.phase, if p.ready { "ready" } else { "not ready" });
    if let Some(t) = p.deleting {
        status.push_str(&format!(", terminating (deletion requested {} ago)", age(Some(t))));
    }
    l.push(kv("status", status));
    if let Some(m) = &p.unschedulable {
        l.push(flag(app, "unschedulable", m.clone(), true));
    }
    l.push(kv(
        "revision",
        format!(
            "{} (template generation {})",
            p.revision_hash.clone().unwrap_or_else(|| "?".into()),
            p.template_generation.clone().unwrap_or_else(|| "?".into())
        ),
    ));
    l.push(kv("age", age(p.created)));
    if let Some(since) = p.ready_since {
        l.push(kv("ready for", human_duration(jiff::Timestamp::now().duration_since(since).as_secs())));
    }
    if let (Some(d), Some(id)) = (ds, p.node.as_deref().and_then(|n| app.model.node_id(n)))
        && let Some(c) = app.model.explain(d, id)
    {
        l.push(Line::from(vec![
            Span::raw(format!("  {:<18} ", "coverage")),
            Span::styled(format!("{} {}", c.state.glyph(), c.state), app.theme.state(c.state)),
            Span::raw(format!(" — {}", c.reason)),
        ]));
    }
    l.push(Line::from(""));
    l.push(head(app, "containers"));
    for c in &p.containers {
        let state = match &c.waiting {
            Some((r, m)) if m.is_empty() => format!("waiting: {r}"),
            Some((r, m)) => format!("waiting: {r} ({m})"),
            None if c.running => "running".into(),
            None => "-".into(),
        };
        let last = c.last_exit.as_ref().map(|r| format!(", last exit {r}")).unwrap_or_default();
        l.push(Line::from(format!(
            "  {:<18} {state}, {}, {} restarts{last}",
            c.name,
            if c.ready { "ready" } else { "not ready" },
            c.restarts
        )));
        l.push(Line::from(Span::styled(format!("  {:<18} {}", "", c.image), app.theme.dim())));
    }
    l.push(Line::from(Span::styled("  l follows its log, p shows the previous container's log, y its YAML", app.theme.dim())));
    l
}

fn events(app: &App, l: &mut Vec<Line<'static>>) {
    l.push(Line::from(""));
    l.push(head(app, "events"));
    if let Some(n) = &app.events_note {
        l.push(Line::from(Span::styled(format!("  {n}"), app.theme.dim())));
    }
    if app.events.is_empty() && app.events_note.is_none() {
        l.push(Line::from(Span::styled("  <none>", app.theme.dim())));
    }
    for e in &app.events {
        let style = if e.type_ == "Warning" { app.theme.warn() } else { Style::default() };
        let count = if e.count > 1 { format!(" (x{})", e.count) } else { String::new() };
        l.push(Line::from(vec![
            Span::styled(format!("  {:<6} {:<8} {:<20}", age(e.last), e.type_, e.reason), style),
            Span::raw(format!("{}{count}", e.message)),
        ]));
    }
}

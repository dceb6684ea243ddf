//! Detail of one DaemonSet, node or pod (like `kubectl describe`, with our explanations):
//! for a DaemonSet its placement rules, security-relevant settings flagged, and how it is
//! reached; for a node its daemons and why each is or is not fine; for a pod its
//! containers; a node that joined within the look-back window shows its join trace
//! (`format::timeline`, as the Joins view's Enter). Recent Events of the object at the end. Owns
//! the object shown, its Events (and the request they answer), the scroll and the rows
//! that fit. May import `shared`, `format`, `model`, `cluster` types; no other view.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Paragraph, Wrap};

use super::format::timeline;
use super::format::{age, age_past, cpu_text, human_duration, mem_text, node_daemons, share, strategy};
use crate::cluster::jobs::{EventLine, Kind, ObjectRef};
use crate::k8s::duration::age_at;
use crate::model::DsInfo;
use crate::model::coverage::CellState;
use crate::ui::shared::Shared;

#[derive(Debug, Clone)]
pub struct DetailView {
    /// The object shown (a pod also by uid, to follow it in the model).
    pub object: Option<(ObjectRef, Option<String>)>,
    pub scroll: usize,
    pub events: Vec<EventLine>,
    /// The request the events answer (older answers are dropped).
    pub events_seq: u64,
    /// Loading, or why the events could not be had.
    pub events_note: Option<String>,
    /// Lines that fit at the last draw.
    pub page: usize,
}

impl Default for DetailView {
    fn default() -> Self {
        DetailView { object: None, scroll: 0, events: Vec::new(), events_seq: 0, events_note: None, page: 10 }
    }
}

impl DetailView {
    pub fn render(&mut self, f: &mut Frame, area: Rect, sh: &Shared) {
        self.render_at(f, area, sh, crate::k8s::clock::now());
    }

    /// Drawn as of `now` (a node's ages and join; tests give a fixed time).
    pub fn render_at(&mut self, f: &mut Frame, area: Rect, sh: &Shared, now: jiff::Timestamp) {
        let mut lines = match &self.object {
            Some((o, uid)) => match o.kind {
                Kind::DaemonSet => daemonset(sh, o.namespace.as_deref().unwrap_or_default(), &o.name),
                Kind::Node => node(sh, &o.name, area.width.saturating_sub(2) as usize, now),
                Kind::Pod => pod(sh, uid.as_deref().unwrap_or_default(), &o.name),
            },
            None => vec![Line::from("nothing selected")],
        };
        self.events(sh, &mut lines);
        cut_long_spans(&mut lines);
        let h = area.height.saturating_sub(2) as usize;
        self.page = h.max(1);
        let title = self.object.as_ref().map(|(o, _)| format!(" {o} ")).unwrap_or_default();
        let scroll = self.scroll.min(lines.len().saturating_sub(1)) as u16;
        f.render_widget(Paragraph::new(lines).wrap(Wrap { trim: false }).scroll((scroll, 0)).block(Block::bordered().title(title)), area);
    }

    fn events(&self, sh: &Shared, l: &mut Vec<Line<'static>>) {
        l.push(Line::from(""));
        l.push(head(sh, "events"));
        if let Some(n) = &self.events_note {
            l.push(Line::from(Span::styled(format!("  {n}"), sh.theme.dim())));
        }
        if self.events.is_empty() && self.events_note.is_none() {
            l.push(Line::from(Span::styled("  <none>", sh.theme.dim())));
        }
        for e in &self.events {
            let style = if e.type_ == "Warning" { sh.theme.warn() } else { Style::default() };
            let count = if e.count > 1 { format!(" (x{})", e.count) } else { String::new() };
            l.push(Line::from(vec![
                Span::styled(format!("  {:<6} {:<8} {:<20}", age(e.last), e.type_, e.reason), style),
                Span::raw(format!("{}{count}", e.message)),
            ]));
        }
    }
}

/// What one span of the detail shows at most (characters): ten rows of a wide terminal.
/// A megabyte image string or message is cut with `…` before it is wrapped, so an idle
/// detail view does not wrap a megabyte on every frame.
const SPAN_MAX: usize = 2048;

fn cut_long_spans(lines: &mut [Line<'static>]) {
    for span in lines.iter_mut().flat_map(|l| l.spans.iter_mut()) {
        if span.content.len() > SPAN_MAX {
            span.content = crate::k8s::text::one_line(&span.content, SPAN_MAX).into_owned().into();
        }
    }
}

fn head(sh: &Shared, s: &str) -> Line<'static> {
    Line::from(Span::styled(s.to_string(), sh.theme.header()))
}

fn kv(k: &str, v: impl Into<String>) -> Line<'static> {
    Line::from(format!("  {k:<18} {}", v.into()))
}

fn flag(sh: &Shared, k: &str, v: impl Into<String>, risky: bool) -> Line<'static> {
    let v = v.into();
    if risky { Line::from(vec![Span::raw(format!("  {k:<18} ")), Span::styled(format!("⚠ {v}"), sh.theme.warn())]) } else { kv(k, v) }
}

fn daemonset(sh: &Shared, ns: &str, name: &str) -> Vec<Line<'static>> {
    let Some(d) = sh.live.model.daemonset(ns, name) else { return vec![Line::from("the DaemonSet is gone")] };
    let mut l = vec![head(sh, "DaemonSet")];
    l.push(kv("age", age(d.created)));
    l.push(kv("strategy", strategy(d)));
    l.push(kv("images", d.images.join(", ")));
    l.push(kv(
        "status",
        format!(
            "desired {} · current {} · ready {} · up-to-date {} · available {} · misscheduled {}",
            d.desired, d.current, d.ready, d.updated, d.available, d.misscheduled
        ),
    ));
    if let Some(c) = sh.live.model.coverage(d) {
        let parts: Vec<String> =
            CellState::ALL.iter().filter(|s| c.count(**s) > 0).map(|s| format!("{} {} {}", s.glyph(), c.count(*s), s)).collect();
        l.push(kv("coverage", parts.join(" · ")));
    }
    l.push(Line::from(""));
    l.push(head(sh, "where it runs"));
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
        sh.theme.dim(),
    )));
    l.push(Line::from(""));
    l.push(head(sh, "security-relevant settings"));
    l.push(flag(sh, "hostNetwork", d.host_network.to_string(), d.host_network));
    l.push(flag(sh, "hostPID", d.host_pid.to_string(), d.host_pid));
    l.push(flag(sh, "privileged", d.privileged.to_string(), d.privileged));
    if d.host_paths.is_empty() {
        l.push(kv("hostPath mounts", "none"));
    }
    for (i, (path, ro)) in d.host_paths.iter().enumerate() {
        let k = if i == 0 { "hostPath mounts" } else { "" };
        l.push(flag(sh, k, format!("{path} ({})", if *ro { "read-only" } else { "read-write" }), !ro));
    }
    let ports: Vec<String> = d.host_ports.iter().map(|p| p.to_string()).collect();
    l.push(flag(sh, "hostPorts", if ports.is_empty() { "none".into() } else { ports.join(", ") }, !ports.is_empty()));
    l.push(kv(
        "priorityClassName",
        d.priority_class.clone().unwrap_or_else(|| "<none> (evicted before critical pods under pressure)".into()),
    ));
    l.push(Line::from(""));
    l.push(head(sh, "how it is reached"));
    if !d.host_ports.is_empty() {
        l.push(kv("hostPorts", format!("<node IP>:{} on each covered node", ports.join(", :"))));
    }
    let svcs = sh.live.model.services_of(d);
    if svcs.is_empty() && d.host_ports.is_empty() {
        l.push(kv("", "no Service selects its pods and it opens no hostPort"));
    }
    for s in svcs {
        l.push(kv("Service", format!("{}/{} ({} {}) ports {}", s.namespace, s.name, s.type_, s.cluster_ip, s.ports.join(", "))));
    }
    let revs = sh.live.model.revisions_of(d);
    l.push(Line::from(""));
    l.push(Line::from(Span::styled(
        format!("{} revision(s) kept; r on the DaemonSets list shows the rollout and what changed", revs.len()),
        sh.theme.dim(),
    )));
    l
}

fn node(sh: &Shared, name: &str, width: usize, now: jiff::Timestamp) -> Vec<Line<'static>> {
    let Some(id) = sh.live.model.node_id(name) else { return vec![Line::from("the node is gone")] };
    let Some(n) = sh.live.model.node(id) else { return vec![] };
    let mut l = vec![head(sh, "Node")];
    let ready = match n.ready {
        Some(true) => "Ready",
        Some(false) => "NotReady",
        None => "Unknown (no Ready condition)",
    };
    l.push(flag(sh, "status", ready, n.ready != Some(true)));
    if n.unschedulable {
        l.push(flag(sh, "cordoned", "yes — DaemonSet pods ignore cordon: they keep running and are still created here", true));
    }
    if sh.marks.contains(&n.name) {
        l.push(kv("marked", "yes"));
    }
    l.push(kv("age", age_at(n.created, now)));
    l.push(kv("kubelet", n.kubelet_version.clone()));
    for (i, t) in n.facts.taints.iter().enumerate() {
        l.push(kv(if i == 0 { "taints" } else { "" }, t.to_string()));
    }
    if n.facts.taints.is_empty() {
        l.push(kv("taints", "<none>"));
    }
    // A node that joined within the look-back window: its join, as the Joins view's Enter.
    if let Some(j) = crate::model::joins::join(&sh.live.model, &sh.joins, name, now) {
        l.push(Line::from(""));
        l.push(head(sh, &format!("join: {}", timeline::summary(&j, now))));
        l.extend(timeline::lines(sh, &j, now, width));
    }
    // Every condition, as `kubectl describe node` lists them.
    l.push(Line::from(""));
    l.push(head(sh, "conditions"));
    l.push(Line::from(Span::styled(format!("  {:<20} {:<8} {:<10} {:<28} MESSAGE", "TYPE", "STATUS", "SINCE", "REASON"), sh.theme.dim())));
    for c in &n.conditions {
        // Ready must be True; the pressure conditions must be False.
        let bad = if c.type_ == "Ready" { c.status != "True" } else { c.status != "False" };
        let line = format!("  {:<20} {:<8} {:<10} {:<28} {}", c.type_, c.status, age_at(c.last_transition, now), c.reason, c.message);
        l.push(Line::from(Span::styled(line, if bad { sh.theme.warn() } else { Style::default() })));
    }
    if n.conditions.is_empty() {
        l.push(Line::from("  <none reported>"));
    }
    l.push(Line::from(""));
    let nd = node_daemons(&sh.live.model, id);
    let mut counts = format!("daemons: {} of {} expected are ready here, {} broken", nd.ok, nd.expected, nd.broken);
    if nd.outdated > 0 {
        counts.push_str(&format!(", {} outdated", nd.outdated));
    }
    if nd.down > 0 {
        counts.push_str(&format!(", {} waiting for the node", nd.down));
    }
    l.push(head(sh, &counts));
    // The node's own condition is listed above: a daemon on a down node says only what
    // became of its pod.
    let reason = |c: crate::model::coverage::Cell| match (c.state, &c.pod) {
        (CellState::NodeNotReady, Some(p)) => format!("the node is down; its pod {p} is kept"),
        (CellState::NodeNotReady, None) => "the node is down; no pod".to_string(),
        _ => c.reason,
    };
    let mut cells: Vec<(CellState, &DsInfo, String)> =
        sh.live.model.daemonsets().filter_map(|d| sh.live.model.explain(d, id).map(|c| (c.state, d, reason(c)))).collect();
    // Problems first, ineligible last.
    cells.sort_by_key(|(s, d, _)| (!s.is_problem(), *s == CellState::Ineligible, d.namespace.clone(), d.name.clone()));
    for (s, d, reason) in cells {
        l.push(Line::from(vec![
            Span::styled(format!("  {} {:<15}", s.glyph(), s.as_str()), sh.theme.state(s)),
            Span::raw(format!("{:<36} ", format!("{}/{}", d.namespace, d.name))),
            Span::styled(reason, if s.is_problem() { Style::default() } else { sh.theme.dim() }),
        ]));
    }
    // The DaemonSet tax: what each DaemonSet's pods here request of the node.
    l.push(Line::from(""));
    let (total, alloc) = (sh.live.model.daemon_requests(id), n.allocatable);
    let of = if alloc == Default::default() {
        "the node reports no allocatable".to_string()
    } else {
        format!("allocatable cpu {}, memory {}", cpu_text(alloc.cpu_m), mem_text(alloc.mem))
    };
    l.push(head(sh, &format!("daemon pods' requests (DS REQ; {of})")));
    let by = sh.live.model.daemon_requests_by_ds(id);
    let row = |name: String, r: crate::model::CpuMem| {
        format!(
            "  {:<36} cpu {:<14} memory {}",
            name,
            share(cpu_text(r.cpu_m), alloc.cpu_m, r.cpu_m),
            share(mem_text(r.mem), alloc.mem, r.mem)
        )
    };
    for (d, r) in &by {
        l.push(Line::from(row(format!("{}/{}", d.namespace, d.name), *r)));
    }
    if by.is_empty() {
        l.push(Line::from("  no daemon pod is bound here"));
    } else {
        l.push(Line::from(Span::styled(row("all".into(), total), sh.theme.dim())));
    }
    l.push(Line::from(""));
    l.push(head(sh, "labels"));
    for (k, v) in &n.facts.labels {
        l.push(Line::from(Span::styled(format!("  {k}={v}"), sh.theme.dim())));
    }
    l
}

fn pod(sh: &Shared, uid: &str, name: &str) -> Vec<Line<'static>> {
    let Some(p) = sh.live.model.pod(uid) else { return vec![Line::from(format!("pod {name} is gone (replaced or deleted)"))] };
    let mut l = vec![head(sh, "Pod")];
    let ds = sh.live.model.daemonset_by_uid(&p.owner_uid);
    l.push(kv("DaemonSet", ds.map(|d| format!("{}/{}", d.namespace, d.name)).unwrap_or_else(|| "?".into())));
    l.push(kv("node", p.node.clone().unwrap_or_else(|| "<none>".into())));
    let mut status = format!("{}, {}", p.phase, if p.ready { "ready" } else { "not ready" });
    if let Some(t) = p.deleting.get() {
        status.push_str(&format!(", terminating (deletion requested {} ago)", age_past(Some(t))));
    }
    l.push(kv("status", status));
    if let Some(m) = &p.unschedulable {
        l.push(flag(sh, "unschedulable", m.to_string(), true));
    }
    l.push(kv(
        "revision",
        format!(
            "{} (template generation {})",
            p.revision_hash.clone().unwrap_or_else(|| "?".into()),
            p.template_generation.clone().unwrap_or_else(|| "?".into())
        ),
    ));
    l.push(kv("age", age(p.created.get())));
    if let Some(since) = p.ready_since() {
        l.push(kv("ready for", human_duration(crate::k8s::clock::now().duration_since(since).as_secs())));
    }
    if let (Some(d), Some(id)) = (ds, p.node.as_deref().and_then(|n| sh.live.model.node_id(n)))
        && let Some(c) = sh.live.model.explain(d, id)
    {
        l.push(Line::from(vec![
            Span::raw(format!("  {:<18} ", "coverage")),
            Span::styled(format!("{} {}", c.state.glyph(), c.state), sh.theme.state(c.state)),
            Span::raw(format!(" — {}", c.reason)),
        ]));
    }
    l.push(Line::from(""));
    l.push(head(sh, "containers"));
    for c in &p.containers {
        let state = match c.waiting.as_deref() {
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
        l.push(Line::from(Span::styled(format!("  {:<18} {}", "", c.image), sh.theme.dim())));
    }
    l.push(Line::from(Span::styled("  l follows its log, p shows the previous container's log, y its YAML", sh.theme.dim())));
    l
}

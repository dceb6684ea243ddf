//! The fleet: one [`App`] per cluster (each with its own model, views, cursors and
//! confirmations) and the fleet view over all of them. In the fleet view the keys move
//! over DaemonSets and clusters and `Enter` opens the cell's cluster at that DaemonSet's
//! coverage grid; from then on keys go to that cluster's app — every view works as with
//! one cluster, actions go to that cluster only and their confirmations name it — until
//! Esc has nothing left to close there and returns to the fleet. `:ctx NAME` (in the
//! fleet view, or in a cluster's) focuses another cluster of the fleet, at the same
//! DaemonSet. Each cluster's messages (watch updates, job results) reach its app only;
//! the effects each app asks for come back tagged with the cluster they belong to.
//! May import `app`, `views`, `theme`, `model`, `cluster` types; never `sim`.

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Clear, Paragraph};

use super::app::{App, Msg, Session};
use super::theme::Theme;
use super::views::chrome::{MIN_HEIGHT, MIN_WIDTH};
use super::views::fleet::FleetView;
use super::views::format::wrap;
use crate::cluster::jobs::Effect;
use crate::model::fleet::{self, Fleet, Member, Reach};

/// The fleet view's keys, for its help (`?`); inside a cluster its own help applies.
pub const KEYS: [(&str, &str); 10] = [
    ("j k ↑ ↓", "previous / next DaemonSet"),
    ("h l ← → Tab", "previous / next cluster"),
    ("PgUp PgDn g G", "page up / down, first / last DaemonSet"),
    ("Enter", "open the cell: that cluster's coverage grid of the DaemonSet"),
    ("Esc", "(inside a cluster, with nothing left to close) back to the fleet"),
    (":ctx NAME", "open cluster NAME at the same DaemonSet (:ctx lists the fleet's contexts)"),
    (":q  q", "quit"),
    ("Ctrl-c", "quit"),
    ("?", "this help (Esc, ? or q closes it)"),
    ("", "actions (cordon, labels, taints, restarts) act in the opened cluster only"),
];

pub struct FleetApp {
    apps: Vec<App>,
    /// Why a cluster's client could not be made (it has no watches then).
    failed: Vec<Option<String>>,
    /// The cluster whose app has the keys (None: the fleet view).
    focus: Option<usize>,
    view: FleetView,
    /// The `:` command being typed in the fleet view.
    prompt: Option<String>,
    message: Option<String>,
    /// The help popup (`?`) is open.
    help: bool,
    theme: Theme,
    quit: bool,
}

impl FleetApp {
    /// The fleet of `contexts`, each app with `session`'s scope and read-only flag and the
    /// fleet's contexts for `:ctx`.
    pub fn new(contexts: &[String], session: &Session, theme: Theme) -> FleetApp {
        let apps = contexts
            .iter()
            .map(|c| {
                let s = Session { contexts: contexts.to_vec(), server: None, scope: session.scope.clone(), readonly: session.readonly };
                App::new(c.clone(), theme).with_session(s).name_context_in_confirmations()
            })
            .collect();
        FleetApp {
            apps,
            failed: vec![None; contexts.len()],
            focus: None,
            view: FleetView::default(),
            prompt: None,
            message: None,
            help: false,
            theme,
            quit: false,
        }
    }

    /// The fleet table, derived from every cluster's model.
    pub fn fleet(&self) -> Fleet {
        let members: Vec<Member> = self
            .apps
            .iter()
            .zip(&self.failed)
            .map(|(a, failed)| Member {
                context: a.context(),
                reach: failed.clone().map(Reach::Unreachable).unwrap_or_else(|| a.reach()),
                model: a.model(),
                namespace: a.namespace(),
            })
            .collect();
        fleet::fleet(&members)
    }

    pub fn apps(&self) -> &[App] {
        &self.apps
    }

    /// The cluster whose app has the keys (None: the fleet view).
    pub fn focus(&self) -> Option<usize> {
        self.focus
    }

    /// The cell under the fleet view's cursor: (row, cluster).
    pub fn cursor(&self) -> (usize, usize) {
        (self.view.row, self.view.col)
    }

    pub fn message(&self) -> Option<&str> {
        self.message.as_deref()
    }

    pub fn quit(&self) -> bool {
        self.quit
    }

    /// A message for cluster `i` (its watch updates, job results, its reconnection, a
    /// tick); returns the effects, each for the cluster it belongs to.
    pub fn update(&mut self, i: usize, msg: Msg) -> Vec<(usize, Effect)> {
        if matches!(msg, Msg::Connected { .. }) {
            self.failed[i] = None;
        }
        let effects = self.apps[i].update(msg);
        self.route(i, effects)
    }

    /// Cluster `i`'s client could not be made: its column says why.
    pub fn connect_failed(&mut self, i: usize, reason: String) {
        self.failed[i] = Some(reason);
    }

    /// A key: to the focused cluster's app, or to the fleet view.
    pub fn key(&mut self, k: KeyEvent) -> Vec<(usize, Effect)> {
        let Some(i) = self.focus else { return self.fleet_key(k) };
        if k.code == KeyCode::Esc && self.apps[i].at_root() {
            self.focus = None;
            return Vec::new();
        }
        let effects = self.apps[i].update(Msg::Key(k));
        if self.apps[i].quit() {
            self.quit = true;
        }
        self.route(i, effects)
    }

    /// Effects of cluster `i`'s app: a switch to another context of the fleet is a change
    /// of focus (the cluster is already watched); everything else is that cluster's.
    fn route(&mut self, i: usize, effects: Vec<Effect>) -> Vec<(usize, Effect)> {
        let mut out = Vec::new();
        for e in effects {
            match e {
                Effect::Connect { context: Some(c), .. } if c != self.apps[i].context() => {
                    self.apps[i].say(None);
                    match self.apps.iter().position(|a| a.context() == c) {
                        Some(j) => out.extend(self.focus_on(j)),
                        None => self.apps[i].say(Some(format!("context {c} is not in this fleet"))),
                    }
                }
                e => out.push((i, e)),
            }
        }
        out
    }

    /// Gives cluster `j` the keys, at the DaemonSet the focused cluster (or the fleet
    /// view's cursor) was on.
    fn focus_on(&mut self, j: usize) -> Vec<(usize, Effect)> {
        let ds = match self.focus {
            Some(i) => self.apps[i].selected().map(|d| (d.namespace.clone(), d.name.clone())),
            None => self.fleet().rows.get(self.view.row).map(|r| (r.namespace.clone(), r.name.clone())),
        };
        self.focus = Some(j);
        self.view.col = j;
        let ctx = self.apps[j].context().to_string();
        let mut out = Vec::new();
        if let Some((ns, name)) = ds {
            let (found, effects) = self.apps[j].open_grid_of(&ns, &name);
            out.extend(effects.into_iter().map(|e| (j, e)));
            let reach = self.failed[j].clone().map(Reach::Unreachable).unwrap_or_else(|| self.apps[j].reach());
            let line = if found {
                format!("context {ctx} (Esc: back to the fleet)")
            } else if !reach.shows_data() {
                format!("context {ctx} is {}: nothing loaded yet (Esc: back to the fleet)", reach.word())
            } else {
                format!("{ns}/{name} is not in context {ctx} (Esc: back to the fleet)")
            };
            self.apps[j].say(Some(line));
        }
        out
    }

    fn fleet_key(&mut self, k: KeyEvent) -> Vec<(usize, Effect)> {
        self.message = None;
        if k.code == KeyCode::Char('c') && k.modifiers.contains(KeyModifiers::CONTROL) {
            self.quit = true;
            return Vec::new();
        }
        if self.help {
            if matches!(k.code, KeyCode::Esc | KeyCode::Char('?' | 'q')) {
                self.help = false;
            }
            return Vec::new();
        }
        if let Some(text) = &mut self.prompt {
            match k.code {
                KeyCode::Esc => self.prompt = None,
                KeyCode::Backspace => {
                    text.pop();
                }
                KeyCode::Char(c) => text.push(c),
                KeyCode::Enter => {
                    let line = self.prompt.take().unwrap_or_default();
                    return self.command(line.trim());
                }
                _ => {}
            }
            return Vec::new();
        }
        let fleet = self.fleet();
        let (rows, cols) = (fleet.rows.len(), fleet.columns.len());
        let v = &mut self.view;
        match k.code {
            KeyCode::Char('q') => self.quit = true,
            KeyCode::Char('?') => self.help = true,
            KeyCode::Char(':') => self.prompt = Some(String::new()),
            KeyCode::Up | KeyCode::Char('k') => v.row = v.row.saturating_sub(1),
            KeyCode::Down | KeyCode::Char('j') => v.row = (v.row + 1).min(rows.saturating_sub(1)),
            KeyCode::PageUp => v.row = v.row.saturating_sub(v.rows_fit.max(1)),
            KeyCode::PageDown => v.row = (v.row + v.rows_fit.max(1)).min(rows.saturating_sub(1)),
            KeyCode::Home | KeyCode::Char('g') => v.row = 0,
            KeyCode::End | KeyCode::Char('G') => v.row = rows.saturating_sub(1),
            KeyCode::Left | KeyCode::Char('h') | KeyCode::BackTab => v.col = v.col.saturating_sub(1),
            KeyCode::Right | KeyCode::Char('l') | KeyCode::Tab => v.col = (v.col + 1).min(cols.saturating_sub(1)),
            KeyCode::Enter => {
                let col = v.col;
                return self.focus_on(col);
            }
            _ => {}
        }
        Vec::new()
    }

    /// `:ctx NAME` focuses a cluster of the fleet; `:q` quits.
    fn command(&mut self, line: &str) -> Vec<(usize, Effect)> {
        let mut words = line.split_whitespace();
        match (words.next(), words.next()) {
            (Some("q" | "quit"), None) => self.quit = true,
            (Some("ctx" | "context"), Some(name)) => match self.apps.iter().position(|a| a.context() == name) {
                Some(j) => return self.focus_on(j),
                None => self.message = Some(format!("context {name} is not in this fleet")),
            },
            (Some("ctx" | "context"), None) => {
                let names: Vec<&str> = self.apps.iter().map(|a| a.context()).collect();
                self.message = Some(format!("contexts of this fleet: {}", names.join(", ")));
            }
            _ => self.message = Some(format!("unknown command {line:?} here (fleet view: :ctx NAME, :q)")),
        }
        Vec::new()
    }

    /// Draws the focused cluster's app, or the fleet view.
    pub fn draw(&mut self, f: &mut Frame) {
        if let Some(i) = self.focus {
            self.apps[i].draw(f);
            return;
        }
        let area = f.area();
        let t = self.theme;
        if area.width < MIN_WIDTH || area.height < MIN_HEIGHT {
            let msg = format!("terminal too small: {}×{} (need at least {}×{})", area.width, area.height, MIN_WIDTH, MIN_HEIGHT);
            f.render_widget(Paragraph::new(msg), area);
            return;
        }
        let fleet = self.fleet();
        let [top, body, hints] = Layout::vertical([Constraint::Length(1), Constraint::Min(4), Constraint::Length(1)]).areas(area);
        let mut status = vec![Span::styled(format!(" fleet of {} contexts ", fleet.columns.len()), t.header())];
        for c in &fleet.columns {
            let style = match c.reach {
                Reach::Live => t.dim(),
                Reach::Syncing => t.dim(),
                Reach::Stale(_) => t.warn(),
                Reach::Unreachable(_) | Reach::Forbidden(_) => t.alert(),
            };
            status.push(Span::styled(format!(" · {}: {}", c.context, c.reach.word()), style));
        }
        f.render_widget(Paragraph::new(Line::from(status)), top);
        self.view.render(f, body, &fleet, &t);
        let hint = match (&self.prompt, &self.message) {
            (Some(p), _) => Line::from(vec![Span::styled(":", t.header()), Span::raw(p.clone()), Span::styled("█", Style::default())]),
            (None, Some(m)) => Line::from(m.clone()),
            (None, None) => Line::from(
                [
                    ("<Enter>", "open cell"),
                    ("<↑↓>", "DaemonSet"),
                    ("<←→>", "cluster"),
                    ("<:ctx NAME>", "open a cluster"),
                    ("<?>", "help"),
                    ("<q>", "quit"),
                ]
                .iter()
                .flat_map(|(k, w)| [Span::styled(*k, t.header()), Span::raw(format!(" {w}  "))])
                .collect::<Vec<_>>(),
            ),
        };
        f.render_widget(Paragraph::new(hint), hints);
        if self.help {
            help(f, area, &t);
        }
    }
}

/// The fleet view's help: [`KEYS`] in a popup over the table, wrapped under their text
/// column (nothing cut at 80×24).
fn help(f: &mut Frame, area: Rect, t: &Theme) {
    let key_w = KEYS.iter().map(|(k, _)| k.chars().count()).max().unwrap_or(0) + 2;
    let w = 90.min(area.width.saturating_sub(4));
    let text_w = (w.saturating_sub(2) as usize).saturating_sub(key_w).max(10);
    let mut lines = vec![Line::from(Span::styled("keys — fleet view", t.header())), Line::from("")];
    for (k, words) in KEYS {
        for (i, part) in wrap(words, text_w).into_iter().enumerate() {
            let key = if i == 0 { format!("{k:<key_w$}") } else { " ".repeat(key_w) };
            lines.push(Line::from(vec![Span::styled(key, t.header()), Span::raw(part)]));
        }
    }
    let h = (lines.len() as u16 + 2).min(area.height.saturating_sub(2));
    let r = Rect { x: area.x + (area.width - w) / 2, y: area.y + (area.height - h) / 2, width: w, height: h };
    f.render_widget(Clear, r);
    f.render_widget(Paragraph::new(lines).block(Block::bordered().title(" help (Esc closes) ")), r);
}

#[cfg(test)]
mod tests {
    use crossterm::event::{KeyCode, KeyEvent};
    use ratatui::Terminal;
    use ratatui::backend::TestBackend;

    use super::*;
    use crate::cluster::watch::{SyncState, Update};
    use crate::model::{Change, Resource, fixtures};

    /// A fleet of `n` live clusters, each with two nodes running `agent` (image `image(i)`).
    fn fleet(n: usize, image: impl Fn(usize) -> &'static str) -> FleetApp {
        let contexts: Vec<String> = (0..n).map(|i| format!("cluster-{i}")).collect();
        let mut app = FleetApp::new(&contexts, &Session::default(), Theme::new(false));
        for i in 0..n {
            let mut ds = fixtures::daemonset("kube-system", "agent");
            ds.images = vec![image(i).to_string()];
            let mut batch: Vec<Update> = vec![Update::Change(Change::DaemonSet(ds.clone()))];
            for node in ["n1", "n2"] {
                batch.push(Update::Change(Change::Node(fixtures::node(node))));
                batch.push(Update::Change(Change::Pod(fixtures::pod(&ds, node, &format!("{i}-{node}")))));
            }
            batch.extend(Resource::ALL.iter().map(|r| Update::Sync(*r, SyncState::Live)));
            app.update(i, Msg::Watch(batch));
        }
        app
    }

    fn screen(app: &mut FleetApp, w: u16, h: u16) -> String {
        let mut t = Terminal::new(TestBackend::new(w, h)).unwrap();
        t.draw(|f| app.draw(f)).unwrap();
        let buf = t.backend().buffer().clone();
        (0..h).map(|y| (0..w).map(|x| buf[(x, y)].symbol().to_string()).collect::<String>() + "\n").collect()
    }

    fn key(app: &mut FleetApp, c: KeyCode) {
        app.key(KeyEvent::from(c));
    }

    #[test]
    fn a_narrow_terminal_scrolls_the_clusters_with_the_cursor() {
        let mut app = fleet(4, |i| if i == 3 { "registry.example/agent:v0" } else { "registry.example/agent:v1" });
        let s = screen(&mut app, 80, 24);
        assert!(s.contains("cluster-0") && s.contains("cluster-1") && !s.contains("cluster-3        "), "{s}");
        assert!(s.contains("SKEW ▶") && s.contains("● 2/2") && s.contains("≠ image"), "{s}");
        for _ in 0..3 {
            key(&mut app, KeyCode::Right);
        }
        let s = screen(&mut app, 80, 24);
        assert!(s.contains("◀ more clusters") && s.lines().nth(2).unwrap().contains("cluster-3"), "{s}");
        assert_eq!(app.cursor(), (0, 3));
        key(&mut app, KeyCode::Right);
        assert_eq!(app.cursor(), (0, 3), "no column past the last");
        // Enter opens that cluster's grid of the row; Esc comes back to the same cell.
        key(&mut app, KeyCode::Enter);
        assert_eq!(app.focus(), Some(3));
        let s = screen(&mut app, 80, 24);
        assert!(s.contains("kube-system/agent — coverage by node") && s.contains("cluster-3"), "{s}");
        key(&mut app, KeyCode::Esc);
        assert_eq!((app.focus(), app.cursor()), (None, (0, 3)));
        // Too small is said, not drawn over.
        assert!(screen(&mut app, 40, 10).contains("terminal too small"));
    }

    #[test]
    fn question_mark_opens_the_fleet_views_help_at_every_size() {
        let mut app = fleet(2, |_| "registry.example/agent:v1");
        assert!(!screen(&mut app, 120, 35).contains("keys — fleet view"));
        key(&mut app, KeyCode::Char('?'));
        for (w, h) in [(80, 24), (120, 35), (200, 50)] {
            let s = screen(&mut app, w, h);
            assert!(s.contains("keys — fleet view"), "{s}");
            for (k, _) in KEYS.iter().filter(|(k, _)| !k.is_empty()) {
                assert!(s.contains(k), "{k:?} missing at {w}×{h}:\n{s}");
            }
            assert!(s.contains("back to the") && s.contains("cluster only") && s.contains(":ctx NAME"), "{s}");
        }
        // Keys go to the help while it is open: q closes it, and does not quit.
        key(&mut app, KeyCode::Char('q'));
        assert!(!app.quit());
        assert!(!screen(&mut app, 120, 35).contains("keys — fleet view"));
        key(&mut app, KeyCode::Char('?'));
        key(&mut app, KeyCode::Esc);
        assert!(!screen(&mut app, 120, 35).contains("keys — fleet view"));
    }

    #[test]
    fn ctx_outside_the_fleet_is_refused_and_q_quits() {
        let mut app = fleet(2, |_| "registry.example/agent:v1");
        for c in ":ctx nowhere\r".chars() {
            key(&mut app, if c == '\r' { KeyCode::Enter } else { KeyCode::Char(c) });
        }
        assert_eq!((app.focus(), app.message()), (None, Some("context nowhere is not in this fleet")));
        for c in ":ctx cluster-1\r".chars() {
            key(&mut app, if c == '\r' { KeyCode::Enter } else { KeyCode::Char(c) });
        }
        assert_eq!(app.focus(), Some(1));
        // Inside a cluster, :ctx to a context outside the fleet is refused there too.
        for c in ":ctx nowhere\r".chars() {
            key(&mut app, if c == '\r' { KeyCode::Enter } else { KeyCode::Char(c) });
        }
        assert_eq!(app.focus(), Some(1));
        assert!(!app.quit());
        key(&mut app, KeyCode::Char('q'));
        assert!(app.quit());
    }
}

//! The line editors (the `:` command line, the filter, the log search, the label and
//! taint editors): keys go to `tui_input` (cursor movement, Ctrl-A/E, Ctrl-U deletes
//! the line, Ctrl-W the word before the cursor, Ctrl-K to the end), ↑/↓ walk the
//! history of `:` commands, Tab completes commands, contexts, namespaces, DaemonSet and
//! node names, filter keywords and label keys.
//! May import the rest of `app`, `keymap`, `filter`, `model` (its `plan`).

use crossterm::event::{Event, KeyCode, KeyEvent};
use tui_input::Input;
use tui_input::backend::crossterm::to_input_request;

use super::App;
use super::mode::Mode;
use crate::model::plan::{Intent, parse_label_changes, parse_taint_changes};
use crate::ui::filter;
use crate::ui::keymap::{self, Cmd};
use crate::ui::shared::View;

/// Commands kept for ↑/↓.
const HISTORY: usize = 100;

impl App {
    /// A key while a line editor is open.
    pub(super) fn on_edit_key(&mut self, k: KeyEvent) {
        match k.code {
            KeyCode::Esc => self.edit_cancel(),
            KeyCode::Enter => self.edit_submit(),
            KeyCode::Tab => self.complete(),
            KeyCode::Up | KeyCode::Down if matches!(self.mode, Mode::Command(_)) => self.history_step(k.code == KeyCode::Up),
            _ => {
                let Some(input) = self.mode.input_mut() else { return };
                let Some(req) = to_input_request(&Event::Key(k)) else { return };
                if input.handle(req).is_some_and(|c| c.value) {
                    self.edited();
                }
            }
        }
        self.clamp();
    }

    /// The line changed: the filter and the search apply as they are typed.
    fn edited(&mut self) {
        match &self.mode {
            Mode::Filter(i) => self.s.filter = i.value().to_string(),
            Mode::Search(i) => {
                let v = i.value().to_string();
                self.search(v);
            }
            Mode::Command(_) => self.hist_pos = None,
            _ => {}
        }
    }

    fn edit_cancel(&mut self) {
        match std::mem::replace(&mut self.mode, Mode::Normal) {
            Mode::Filter(_) => self.s.filter.clear(),
            Mode::Search(_) => self.text.search.clear(),
            Mode::Labels { .. } => self.s.message = Some("label edit cancelled; nothing sent".into()),
            Mode::Taints { .. } => self.s.message = Some("taint edit cancelled; nothing sent".into()),
            Mode::Command(_) | Mode::Normal => {}
        }
        self.hist_pos = None;
    }

    fn edit_submit(&mut self) {
        match &mut self.mode {
            Mode::Filter(_) | Mode::Search(_) | Mode::Normal => self.mode = Mode::Normal,
            Mode::Command(i) => {
                let line = i.value().trim().to_string();
                self.mode = Mode::Normal;
                self.hist_pos = None;
                if !line.is_empty() {
                    self.cmd_history.retain(|h| *h != line);
                    self.cmd_history.push(line.clone());
                    let excess = self.cmd_history.len().saturating_sub(HISTORY);
                    self.cmd_history.drain(..excess);
                }
                self.command(&line);
            }
            Mode::Labels { input, nodes } => match parse_label_changes(input.value()) {
                // Refused before anything is sent; the input stays to be fixed.
                Err(problems) => self.s.message = Some(format!("✖ {}", problems.join("; "))),
                Ok(changes) => {
                    let nodes = std::mem::take(nodes);
                    self.mode = Mode::Normal;
                    let intent = Intent::label(&self.s.live.model, nodes, changes);
                    self.ask(intent);
                }
            },
            Mode::Taints { input, nodes } => match parse_taint_changes(input.value()) {
                Err(problems) => self.s.message = Some(format!("✖ {}", problems.join("; "))),
                Ok(changes) => {
                    let nodes = std::mem::take(nodes);
                    self.mode = Mode::Normal;
                    let intent = Intent::taint(&self.s.live.model, nodes, changes);
                    self.ask(intent);
                }
            },
        }
    }

    /// ↑ (older) or ↓ (newer) through the `:` commands; below the newest, what was typed.
    fn history_step(&mut self, older: bool) {
        let Mode::Command(input) = &mut self.mode else { return };
        let n = self.cmd_history.len();
        if n == 0 {
            return;
        }
        let pos = match (self.hist_pos, older) {
            (None, true) => {
                self.hist_draft = input.value().to_string();
                Some(n - 1)
            }
            (None, false) => None,
            (Some(p), true) => Some(p.saturating_sub(1)),
            (Some(p), false) if p + 1 < n => Some(p + 1),
            (Some(_), false) => None,
        };
        self.hist_pos = pos;
        let text = pos.map(|p| self.cmd_history[p].clone()).unwrap_or_else(|| self.hist_draft.clone());
        *input = Input::new(text);
    }

    /// What the word before the cursor could become: (its start, in chars; the candidates).
    pub(super) fn completions(&self) -> (usize, Vec<String>) {
        let Some(input) = self.mode.input() else { return (0, Vec::new()) };
        let before: String = input.value().chars().take(input.cursor()).collect();
        let start = before.rfind(char::is_whitespace).map(|i| before[..i].chars().count() + 1).unwrap_or(0);
        let word: String = before.chars().skip(start).collect();
        let starts = |v: Vec<String>| -> Vec<String> {
            // What was typed whole is not a candidate any more.
            let mut v: Vec<String> = v.into_iter().filter(|c| c.starts_with(word.as_str()) && *c != word).collect();
            v.dedup();
            v
        };
        let cands = match &self.mode {
            Mode::Command(_) if start == 0 => {
                // One name per command: the first that fits what was typed.
                keymap::COMMANDS
                    .iter()
                    .filter_map(|c| c.names.iter().find(|n| n.starts_with(word.as_str())).map(|n| n.to_string()))
                    .collect()
            }
            Mode::Command(i) => {
                let cmd = i.value().split_whitespace().next().and_then(keymap::command_named).map(|c| c.cmd);
                starts(match cmd {
                    Some(Cmd::Context) => self.contexts.clone(),
                    Some(Cmd::Namespace) => std::iter::once("all".to_string()).chain(self.namespaces.iter().cloned()).collect(),
                    Some(Cmd::Roll) => ["pause", "resume", "abort", "--all", "--timeout"].map(String::from).to_vec(),
                    Some(Cmd::DryRun) => ["on", "off"].map(String::from).to_vec(),
                    _ => Vec::new(),
                })
            }
            Mode::Filter(_) => starts(self.filter_words(&word)),
            Mode::Labels { .. } => {
                let keys: std::collections::BTreeSet<String> =
                    self.s.live.model.nodes().flat_map(|(_, n)| n.facts.labels.keys().cloned()).collect();
                starts(keys.into_iter().collect())
            }
            _ => Vec::new(),
        };
        (start, cands)
    }

    /// Words a filter term can be: keywords and their values, DaemonSet or node names.
    fn filter_words(&self, word: &str) -> Vec<String> {
        let m = &self.s.live.model;
        let with = |kw: &str, v: Vec<String>| v.into_iter().map(|x| format!("{kw}{x}")).collect::<Vec<_>>();
        if word.starts_with("state:") {
            return with("state:", filter::state_words().into_iter().map(String::from).collect());
        }
        if word.starts_with("reason:") {
            return with("reason:", filter::reason_words().into_iter().map(String::from).collect());
        }
        if word.starts_with("ns:") {
            return with("ns:", self.namespaces.iter().cloned().collect());
        }
        if let Some(rest) = word.strip_prefix("label:") {
            let mut v: std::collections::BTreeSet<String> = Default::default();
            for (_, n) in m.nodes() {
                for (k, val) in &n.facts.labels {
                    // Keys first; once a key is typed with `=`, its values.
                    if rest.contains('=') {
                        v.insert(format!("{k}={val}"))
                    } else {
                        v.insert(k.clone())
                    };
                }
            }
            return with("label:", v.into_iter().collect());
        }
        let mut v: Vec<String> = filter::KEYWORDS.iter().map(|k| k.to_string()).collect();
        match self.s.view {
            View::DaemonSets | View::Rollout => {
                let mut names: Vec<String> = m.daemonsets().map(|d| d.name.clone()).collect();
                names.sort();
                v.extend(names);
            }
            _ => v.extend(m.nodes().map(|(_, n)| n.name.clone())),
        }
        v
    }

    /// Tab: one candidate replaces the word (a command that takes arguments gets a
    /// space after it); several extend it to what they share, and stay listed below.
    fn complete(&mut self) {
        let (start, cands) = self.completions();
        let Some(first) = cands.first() else { return };
        let mut common: String = first.clone();
        for c in &cands[1..] {
            let n = common.chars().zip(c.chars()).take_while(|(a, b)| a == b).count();
            common = common.chars().take(n).collect();
        }
        let mut replacement = common;
        if cands.len() == 1 {
            let takes_args = matches!(self.mode, Mode::Command(_))
                && start == 0
                && keymap::command_named(&replacement).is_some_and(|c| !c.args.is_empty());
            let arg = matches!(self.mode, Mode::Command(_)) && start > 0;
            if takes_args
                || arg
                || matches!(self.mode, Mode::Filter(_) | Mode::Labels { .. }) && !replacement.ends_with(':') && !replacement.ends_with('=')
            {
                replacement.push(' ');
            }
        }
        let Some(input) = self.mode.input_mut() else { return };
        let chars: Vec<char> = input.value().chars().collect();
        let cursor = input.cursor();
        let mut text: String = chars[..start].iter().collect();
        text.push_str(&replacement);
        let at = text.chars().count();
        text.extend(&chars[cursor..]);
        *input = Input::new(text).with_cursor(at);
        self.edited();
    }
}

//! Input modes and key routing: the filter, the `:` command line, label and taint
//! editing each take keys while they are open; then the help popup, the confirmation and the
//! picker; otherwise the keymap turns the key into an `Action` for the current view.
//! May import the rest of `app`, `keymap`, `views` state types and `cluster::actions`.

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

use super::App;
use super::mode::Mode;
use crate::cluster::actions::{Intent, parse_label_changes, parse_taint_changes};
use crate::cluster::jobs::Effect;
use crate::ui::keymap;
use crate::ui::shared::View;
use crate::ui::views::PickerKind;

impl App {
    pub(super) fn on_key(&mut self, k: KeyEvent) {
        self.s.message = None;
        if k.code == KeyCode::Char('c') && k.modifiers.contains(KeyModifiers::CONTROL) {
            self.quit = true;
            return;
        }
        match &mut self.mode {
            Mode::Filter(text) => {
                match k.code {
                    KeyCode::Esc => {
                        self.s.filter.clear();
                        self.mode = Mode::Normal;
                    }
                    KeyCode::Enter => self.mode = Mode::Normal,
                    KeyCode::Backspace => {
                        text.pop();
                        self.s.filter = text.clone();
                    }
                    KeyCode::Char(c) => {
                        text.push(c);
                        self.s.filter = text.clone();
                    }
                    _ => {}
                }
                self.clamp();
                return;
            }
            Mode::Command(text) => {
                match k.code {
                    KeyCode::Esc => self.mode = Mode::Normal,
                    KeyCode::Backspace => {
                        text.pop();
                    }
                    KeyCode::Char(c) => text.push(c),
                    KeyCode::Enter => {
                        let cmd = text.trim().to_string();
                        self.mode = Mode::Normal;
                        self.command(&cmd);
                    }
                    _ => {}
                }
                self.clamp();
                return;
            }
            Mode::Labels { input, nodes } => {
                match k.code {
                    KeyCode::Esc => {
                        self.mode = Mode::Normal;
                        self.s.message = Some("label edit cancelled; nothing sent".into());
                    }
                    KeyCode::Backspace => {
                        input.pop();
                    }
                    KeyCode::Char(c) => input.push(c),
                    KeyCode::Enter => match parse_label_changes(input) {
                        // Refused before anything is sent; the input stays to be fixed.
                        Err(problems) => self.s.message = Some(format!("✖ {}", problems.join("; "))),
                        Ok(changes) => {
                            let nodes = std::mem::take(nodes);
                            self.mode = Mode::Normal;
                            let intent = Intent::label(&self.s.model, nodes, changes);
                            self.ask(intent);
                        }
                    },
                    _ => {}
                }
                return;
            }
            Mode::Taints { input, nodes } => {
                match k.code {
                    KeyCode::Esc => {
                        self.mode = Mode::Normal;
                        self.s.message = Some("taint edit cancelled; nothing sent".into());
                    }
                    KeyCode::Backspace => {
                        input.pop();
                    }
                    KeyCode::Char(c) => input.push(c),
                    KeyCode::Enter => match parse_taint_changes(input) {
                        // Refused before anything is sent; the input stays to be fixed.
                        Err(problems) => self.s.message = Some(format!("✖ {}", problems.join("; "))),
                        Ok(changes) => {
                            let nodes = std::mem::take(nodes);
                            self.mode = Mode::Normal;
                            let intent = Intent::taint(&self.s.model, nodes, changes);
                            self.ask(intent);
                        }
                    },
                    _ => {}
                }
                return;
            }
            Mode::Normal => {}
        }
        if self.show_help {
            if matches!(k.code, KeyCode::Esc | KeyCode::Char('?') | KeyCode::Char('q')) {
                self.show_help = false;
            }
            return;
        }
        if self.confirm.is_some() {
            self.confirm_key(k);
            return;
        }
        if let Some(p) = &mut self.picker {
            match k.code {
                KeyCode::Esc | KeyCode::Char('q') => self.picker = None,
                KeyCode::Down | KeyCode::Char('j') => p.down(),
                KeyCode::Up | KeyCode::Char('k') => p.up(),
                KeyCode::Enter => {
                    let (kind, item) = (p.kind, p.current().cloned());
                    self.picker = None;
                    if let Some(item) = item {
                        match kind {
                            PickerKind::Context => self.switch_context(&item),
                            PickerKind::Namespace => self.switch_namespace(&item),
                        }
                    }
                }
                _ => {}
            }
            return;
        }
        if let Some(a) = keymap::action_for(self.s.view, &k, self.s.readonly) {
            self.act(a);
        }
    }

    /// `y` sends the plan waiting for confirmation; `n`, Esc or `q` drop it.
    fn confirm_key(&mut self, k: KeyEvent) {
        match k.code {
            KeyCode::Char('y') | KeyCode::Char('Y') => {
                let Some(plan) = self.confirm.take().map(|c| c.plan) else { return };
                if plan.changes == 0 {
                    self.s.message = Some(format!("{}: nothing to change", plan.intent.verb()));
                } else {
                    self.s.message = Some(format!("{}…", plan.title));
                    // A restarted RollingUpdate DaemonSet: follow its rollout.
                    if let Intent::RolloutRestart { namespace, name } = &plan.intent {
                        self.s.selected = Some((namespace.clone(), name.clone()));
                        self.goto(View::Rollout);
                    }
                    self.effects.push(Effect::Act { plan, dry_run: self.s.dry_run });
                }
            }
            KeyCode::Char('n') | KeyCode::Char('N') | KeyCode::Esc | KeyCode::Char('q') => {
                self.confirm = None;
                self.s.message = Some("cancelled; nothing sent".into());
            }
            _ => {}
        }
    }
}

//! Key routing: a line editor (filter, `:` command line, search, label and taint
//! editing; see `editor`) takes keys while it is open; then the help popup (which
//! scrolls), the confirmation (whose list scrolls) and the picker; otherwise the keymap
//! turns the key into an `Action` for the current view, and a key `--readonly` removed
//! answers with a flash saying so.
//! May import the rest of `app`, `keymap`, `views` state types, `cluster::jobs` and `model::plan`.

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

use super::App;
use super::mode::Mode;
use crate::cluster::jobs::Effect;
use crate::model::plan::{Intent, Work};
use crate::ui::keymap::Action;
use crate::ui::shared::View;
use crate::ui::views::PickerKind;

impl App {
    pub(super) fn on_key(&mut self, k: KeyEvent) {
        self.s.message = None;
        if k.code == KeyCode::Char('c') && k.modifiers.contains(KeyModifiers::CONTROL) {
            self.quit = true;
            return;
        }
        if !matches!(self.mode, Mode::Normal) {
            self.on_edit_key(k);
            return;
        }
        if self.show_help {
            let page = self.help_page.max(1);
            match k.code {
                KeyCode::Esc | KeyCode::Char('?') | KeyCode::Char('q') => self.show_help = false,
                KeyCode::Down | KeyCode::Char('j') => self.help_scroll += 1,
                KeyCode::Up | KeyCode::Char('k') => self.help_scroll = self.help_scroll.saturating_sub(1),
                KeyCode::PageDown | KeyCode::Char(' ') => self.help_scroll += page,
                KeyCode::PageUp => self.help_scroll = self.help_scroll.saturating_sub(page),
                KeyCode::Char('g') | KeyCode::Home => self.help_scroll = 0,
                // Drawing keeps it in bounds (the last page stays full).
                KeyCode::Char('G') | KeyCode::End => self.help_scroll = usize::MAX / 2,
                _ => {}
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
                    let (kind, item, cursor) = (p.kind, p.current().cloned(), p.cursor);
                    self.picker = None;
                    if let Some(item) = item {
                        match kind {
                            PickerKind::Context => self.switch_context(&item),
                            PickerKind::Namespace => self.switch_namespace(&item),
                            PickerKind::Restart => self.propose_roll(cursor == 1),
                        }
                    }
                }
                _ => {}
            }
            return;
        }
        if let Some(a) = self.keymap.action_for(self.s.view, &k, self.s.readonly) {
            self.act(a);
        } else if self.s.readonly
            && let Some(a) = self.keymap.action_for(self.s.view, &k, false).filter(|a| a.is_mutating())
        {
            // Removed by --readonly: say so instead of staying silent.
            self.s.message = Some(readonly_flash(a, &self.s.context));
        }
    }

    /// `y` sends the plan waiting for confirmation; `n`, Esc or `q` drop it.
    fn confirm_key(&mut self, k: KeyEvent) {
        if let Some(c) = &mut self.confirm {
            let page = c.page.max(1);
            match k.code {
                KeyCode::Down | KeyCode::Char('j') => c.scroll += 1,
                KeyCode::Up | KeyCode::Char('k') => c.scroll = c.scroll.saturating_sub(1),
                KeyCode::PageDown => c.scroll += page,
                KeyCode::PageUp => c.scroll = c.scroll.saturating_sub(page),
                _ => {}
            }
        }
        match k.code {
            KeyCode::Char('y') | KeyCode::Char('Y') => {
                let Some(plan) = self.confirm.take().map(|c| c.plan) else { return };
                if self.s.dry_run && plan.intent.is_roll() {
                    // A roll waits on real pods: with dry-run on it was a preview only.
                    self.s.message = Some("roll preview closed: nothing was sent (dry-run is on; :dry-run off to roll)".into());
                } else if plan.changes == 0 {
                    self.s.message = Some(format!("{}: nothing to change", plan.intent.verb()));
                } else {
                    self.s.message = Some(format!("{}…", plan.title));
                    // A restarted RollingUpdate DaemonSet: follow its rollout.
                    if let Intent::RolloutRestart { namespace, name } = &plan.intent {
                        self.s.selected = Some((namespace.clone(), name.clone()));
                        self.goto(View::Rollout);
                    }
                    // The roll is a job of its own; everything else is requests answered once.
                    self.effects.push(match plan.intent.into_work() {
                        Work::Request(request) => Effect::Act { request, dry_run: self.s.dry_run },
                        Work::Roll(spec) => Effect::Roll(spec),
                        Work::Drain { nodes, timing, disable_eviction } => {
                            Effect::Drain { nodes, dry_run: self.s.dry_run, timing, disable_eviction }
                        }
                    });
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

/// What a key removed by `--readonly` answers (offline: one line for every action).
pub(super) fn readonly_flash(a: Action, context: &str) -> String {
    if context.starts_with(crate::k8s::dump::OFFLINE) {
        return "offline: nothing to act on".into();
    }
    let what = match a {
        Action::Cordon => "cordon",
        Action::Uncordon => "uncordon",
        Action::EditLabels => "label editing",
        Action::EditTaints => "taint editing",
        Action::Restart => "restart",
        Action::RestartPod => "pod restart",
        Action::Drain | Action::PauseDrain => "drain",
        _ => "this key",
    };
    format!("read-only: {what} is disabled")
}

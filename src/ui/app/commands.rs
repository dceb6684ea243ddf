//! The `:` commands: what each command of the keymap's command table does, and the
//! context and namespace switches they (and the picker) request. The names, arguments
//! and help live in `keymap::COMMANDS`; this file only handles them.
//! May import the rest of `app`, `keymap`, `views` state types, `k8s`, `cluster` types.

use super::App;
use crate::cluster::jobs::Effect;
use crate::cluster::roll::RollCmd;
use crate::cluster::watch::Scope;
use crate::model::plan::RollOptions;
use crate::ui::keymap::{self, Action, Cmd};
use crate::ui::shared::View;
use crate::ui::views::{Picker, PickerKind};

impl App {
    pub(super) fn command(&mut self, line: &str) {
        let (word, arg) = match line.split_once(char::is_whitespace) {
            Some((w, a)) => (w, a.trim()),
            None => (line, ""),
        };
        let Some(c) = keymap::command_named(word) else {
            self.s.message = Some(keymap::unknown_command(word));
            return;
        };
        match c.cmd {
            Cmd::Quit => self.quit = true,
            Cmd::DaemonSets => self.go_home(),
            Cmd::Matrix => self.goto(View::Matrix),
            Cmd::Nodes => self.goto(View::Nodes),
            Cmd::Joins => self.goto(View::Joins),
            Cmd::Rollout => {
                if self.s.selected.is_none() {
                    self.pick_selected();
                }
                self.goto(View::Rollout);
            }
            Cmd::Grid => {
                if self.s.selected.is_some() || self.pick_selected() {
                    self.goto(View::Grid);
                }
            }
            Cmd::Context => {
                if arg.is_empty() {
                    let cursor = self.contexts.iter().position(|c| *c == self.s.context).unwrap_or(0);
                    self.picker = Some(Picker { kind: PickerKind::Context, items: self.contexts.clone(), cursor });
                } else {
                    self.switch_context(arg);
                }
            }
            Cmd::Drain => match arg {
                "abort" => self.effects.push(Effect::DrainAbort),
                "pause" => self.pause_drain(Some(true)),
                "resume" => self.pause_drain(Some(false)),
                args => match crate::model::plan::drain::DrainTiming::parse(args, self.drain_timing) {
                    Ok((t, disable_eviction)) => {
                        // The timing stays for the next D; --disable-eviction is for this drain only.
                        self.drain_timing = t;
                        self.propose_drain(disable_eviction);
                    }
                    Err(e) => self.s.message = Some(e),
                },
            },
            Cmd::Roll => match arg {
                "pause" => self.effects.push(Effect::RollControl(RollCmd::Pause)),
                "resume" => self.effects.push(Effect::RollControl(RollCmd::Resume)),
                "abort" => self.effects.push(Effect::RollControl(RollCmd::Abort)),
                args => match RollOptions::parse(args, self.roll_options) {
                    Ok(opts) => {
                        // Batch and timeout stay for the next R; --all and --drain are for this roll only.
                        self.roll_options = RollOptions { include_unready: false, drain: false, ..opts };
                        let saved = std::mem::replace(&mut self.roll_options, opts);
                        self.propose(Action::Restart);
                        self.roll_options = saved;
                    }
                    Err(e) => self.s.message = Some(e),
                },
            },
            Cmd::Preflight => {
                if arg.is_empty() {
                    self.s.message = Some("usage: :preflight FILE (a DaemonSet manifest; nothing is applied)".into());
                    return;
                }
                let seq = self.next_seq();
                self.whatif = crate::ui::views::WhatIfView { seq, file: arg.to_string(), ..Default::default() };
                self.effects.push(Effect::Preflight { seq, path: std::path::PathBuf::from(arg) });
                self.goto(View::WhatIf);
            }
            Cmd::DryRun => {
                self.s.dry_run = match arg {
                    "on" | "true" => true,
                    "off" | "false" => false,
                    _ => !self.s.dry_run,
                };
                // Dry-run is fixed per action when it is confirmed: a job already running
                // keeps what it was confirmed with, and the message says so.
                let running = self.s.roll.as_ref().filter(|r| r.is_active()).map(|r| r.ds.clone());
                let also = running
                    .map(|ds| format!("; the roll of {ds} already running is real and goes on (:roll pause or abort)"))
                    .unwrap_or_default();
                self.s.message = Some(if self.s.dry_run {
                    format!("dry-run on: new actions are sent with dryRun=All (validated, not applied){also}")
                } else {
                    format!("dry-run off: new actions change the cluster{also}")
                });
            }
            Cmd::Namespace => {
                if arg.is_empty() {
                    let mut items = vec!["all".to_string()];
                    items.extend(self.namespaces.iter().cloned());
                    let cursor = self.s.scope.namespace.as_ref().and_then(|n| items.iter().position(|i| i == n)).unwrap_or(0);
                    self.picker = Some(Picker { kind: PickerKind::Namespace, items, cursor });
                } else {
                    self.switch_namespace(arg);
                }
            }
        }
    }

    pub(super) fn switch_context(&mut self, name: &str) {
        if !self.contexts.iter().any(|c| c == name) {
            self.s.message = Some(format!("no context {name:?} in the kubeconfig (:ctx lists them)"));
            return;
        }
        self.effects.push(Effect::StopStreams);
        self.effects.push(Effect::Connect { context: Some(name.to_string()), scope: self.s.scope.clone() });
        self.s.message = Some(format!("connecting to context {name}…"));
    }

    pub(super) fn switch_namespace(&mut self, ns: &str) {
        let namespace = match ns {
            "all" | "-A" | "*" => None,
            n => {
                if let Err(e) = crate::k8s::labels::validate_dns1123_label(n) {
                    self.s.message = Some(format!("invalid namespace {n:?}: {e}"));
                    return;
                }
                Some(n.to_string())
            }
        };
        let scope = Scope { namespace, selector: self.s.scope.selector.clone() };
        self.effects.push(Effect::StopStreams);
        self.effects.push(Effect::Connect { context: Some(self.s.context.clone()), scope });
    }
}

//! What each keymap `Action` does in each view, and the cluster actions it proposes:
//! the plan (exactly which objects change) waits in the confirmation popup, refused
//! first when the server said the user may not. Every binding the keymap lists for a
//! view has an arm here (a test drives each one).
//! May import the rest of `app`, `keymap`, `views` state types, `model`, `cluster` types.

use tui_input::Input;

use super::App;
use super::mode::Mode;
use crate::cluster::jobs::{Effect, Kind};
use crate::model::plan::{Intent, IntentKind};
use crate::model::{DsInfo, Strategy};
use crate::ui::keymap::Action;
use crate::ui::shared::{SortBy, View};
use crate::ui::views::Confirm;

impl App {
    pub(super) fn act(&mut self, a: Action) {
        match (self.s.view, a) {
            (_, Action::Quit) => self.quit = true,
            (_, Action::Help) => {
                self.show_help = true;
                self.help_scroll = 0;
            }
            (_, Action::Filter) => self.mode = Mode::Filter(Input::new(self.s.filter.clone())),
            (_, Action::Command) => self.mode = Mode::Command(Input::default()),
            (_, Action::Search) => self.mode = Mode::Search(Input::new(self.text.search.clone())),
            (_, Action::NextMatch | Action::PrevMatch) => self.next_match(a == Action::NextMatch),
            (_, Action::Wrap) => {
                self.text.wrap = !self.text.wrap;
                self.s.message = Some(if self.text.wrap { "long lines wrap" } else { "long lines are cut (w wraps them)" }.into());
            }
            (_, Action::NextProblem | Action::PrevProblem) => self.jump_problem(a == Action::NextProblem),
            (View::DaemonSets, Action::Back) => self.s.filter.clear(),
            (View::Joins, Action::Back) if self.joins.open.is_some() => self.joins.open = None,
            (View::Joins, Action::Open) => self.joins.toggle(&self.s),
            (_, Action::Joins) => self.goto(View::Joins),
            (_, Action::Back) => self.back(),
            (_, Action::Matrix) => self.goto(View::Matrix),
            (_, Action::Nodes) => self.goto(View::Nodes),
            (View::DaemonSets | View::Grid | View::Matrix, Action::Rollout) => {
                match self.s.view {
                    View::DaemonSets => {
                        self.pick_selected();
                    }
                    View::Matrix => {
                        self.s.selected = self.matrix.cursor_ds(&self.s).map(|d| (d.namespace.clone(), d.name.clone()));
                    }
                    _ => {}
                }
                if self.s.selected.is_some() {
                    self.goto(View::Rollout);
                }
            }
            (
                _,
                Action::Down | Action::Up | Action::PageDown | Action::PageUp | Action::Top | Action::Bottom | Action::Left | Action::Right,
            ) => self.move_cursor(a),
            (View::Matrix, Action::Open) => {
                let node = self.matrix.cursor_node(&self.s);
                let ds = self.matrix.cursor_ds(&self.s).map(|d| (d.namespace.clone(), d.name.clone()));
                if let (Some(node), Some(ds)) = (node, ds) {
                    self.s.selected = Some(ds);
                    self.goto(View::Grid);
                    self.grid.cursor = self.grid.order(&self.s).iter().position(|id| *id == node).unwrap_or(0);
                }
            }
            (View::DaemonSets, Action::Open) => self.open_grid_of_list(),
            (View::Rollout, Action::Open) => {
                if let Some(d) = self.rollout.ds(&self.s).map(|d| (d.namespace.clone(), d.name.clone())) {
                    self.s.selected = Some(d);
                    self.grid.cursor = 0;
                    self.goto(View::Grid);
                }
            }
            (View::Grid | View::Nodes, Action::Open) | (_, Action::Describe) => {
                if let Some((o, uid)) = self.object_under_cursor() {
                    self.open_detail(o, uid);
                }
            }
            (_, Action::Yaml) => {
                if let Some((object, _)) = self.object_under_cursor() {
                    let seq = self.open_text(format!("{object} — YAML"), false);
                    self.effects.push(Effect::Yaml { seq, object });
                }
            }
            (_, Action::Logs | Action::PreviousLogs) => match self.pod_under_cursor().cloned() {
                Some(p) => {
                    // A container waiting to start has no current log (the API answers 400):
                    // after a crash its previous run's log is what tells why.
                    let waiting = p.containers.iter().find_map(|c| c.waiting.as_ref().map(|w| (c, w.0.clone())));
                    let (previous, what) = match (a, waiting) {
                        (Action::PreviousLogs, _) => (true, "previous container's log".to_string()),
                        (_, Some((c, why))) if c.restarts > 0 => (true, format!("previous container's log ({} is waiting: {why})", c.name)),
                        (_, Some((c, why))) => {
                            self.s.message = Some(format!("{} has no log yet: waiting to start ({why})", c.name));
                            return;
                        }
                        _ => (false, "log".to_string()),
                    };
                    let seq = self.open_text(format!("{}/{} — {what}", p.namespace, p.name), !previous);
                    self.effects.push(Effect::Logs {
                        seq,
                        namespace: p.namespace.into(),
                        pod: p.name.to_string(),
                        container: None,
                        previous,
                    });
                }
                None => self.s.message = Some("no pod under the cursor".into()),
            },
            // The views with a node under the cursor (the keymap binds Space only there).
            (View::Grid | View::Matrix | View::Nodes, Action::Mark) => match self.node_under_cursor() {
                Some(id) => {
                    let name = self.s.live.model.node(id).map(|n| n.name.clone()).unwrap_or_default();
                    if !self.s.marks.remove(&name) {
                        self.s.marks.insert(name);
                    }
                    if self.s.view == View::Nodes {
                        self.nodes.cursor += 1;
                    }
                }
                None => self.s.message = Some("no node under the cursor to mark".into()),
            },
            (_, Action::ClearMarks) => {
                if self.s.marks.is_empty() {
                    self.s.message = Some("no node is marked".into());
                }
                self.s.marks.clear();
            }
            (_, Action::Restart) => self.choose_restart(),
            (_, Action::Cordon | Action::Uncordon | Action::RestartPod) => self.propose(a),
            (_, Action::Drain) => self.propose_drain(false),
            (_, Action::PauseDrain) => self.pause_drain(None),
            (_, Action::EditLabels | Action::EditTaints) => {
                if let Some(why) = self.forbidden(a) {
                    self.s.message = Some(why);
                } else {
                    let nodes = self.target_nodes();
                    if nodes.is_empty() {
                        self.s.message = Some("no node under the cursor (and none marked)".into());
                    } else if a == Action::EditTaints {
                        self.mode = Mode::Taints { input: Input::default(), nodes };
                    } else {
                        self.mode = Mode::Labels { input: Input::default(), nodes };
                    }
                }
            }
            (View::DaemonSets, Action::Sort) => {
                self.daemonsets.sort = self.daemonsets.sort.next(true);
                self.s.message = Some(format!("sorted by {:?}", self.daemonsets.sort).to_lowercase());
            }
            (View::Nodes, Action::Sort) => {
                self.nodes.sort = self.nodes.sort.next_for_nodes();
                self.s.message = Some(match self.nodes.sort {
                    SortBy::DsReq => "sorted by DS REQ (daemon pods' requests / allocatable), highest first".to_string(),
                    s => format!("sorted by {s:?}").to_lowercase(),
                });
            }
            (View::Nodes, Action::GroupBy) => self.s.message = Some(self.nodes.next_label(&self.s)),
            (View::Grid, Action::GroupBy) => self.grid.next_group(),
            _ => {}
        }
        self.clamp();
    }

    /// Why an action may not be used, if it may not: the server refused its permission.
    pub(super) fn forbidden(&self, a: Action) -> Option<String> {
        // The intent this key proposes, and the permission the plan says it needs.
        let kind = match a {
            Action::Cordon => IntentKind::Cordon,
            Action::Uncordon => IntentKind::Uncordon,
            Action::EditLabels => IntentKind::Label,
            Action::EditTaints => IntentKind::Taint,
            Action::RestartPod => IntentKind::RestartPod,
            Action::Drain => IntentKind::Drain,
            Action::Restart => IntentKind::restart(self.action_ds().map(|d| &d.strategy)),
            _ => return None,
        };
        let (verb, resource) = kind.permission();
        match self.permissions.get(&(verb, resource)) {
            Some(Ok(false)) => Some(format!("forbidden: this user may not {verb} {resource} (SelfSubjectAccessReview); nothing was sent")),
            _ => None,
        }
    }

    /// The nodes an action applies to: the marked ones, else the one under the cursor.
    pub(super) fn target_nodes(&self) -> Vec<String> {
        if !self.s.marks.is_empty() {
            return self.s.marks.iter().cloned().collect();
        }
        let id = match (self.s.view, &self.detail.object) {
            (View::Detail, Some((o, _))) if o.kind == Kind::Node => self.s.live.model.node_id(&o.name),
            _ => self.node_under_cursor(),
        };
        id.and_then(|id| self.s.live.model.node(id)).map(|n| vec![n.name.clone()]).unwrap_or_default()
    }

    /// The DaemonSet `R` acts on: under the cursor in the list, the rollout view's one.
    pub(super) fn action_ds(&self) -> Option<&DsInfo> {
        match self.s.view {
            View::DaemonSets => self.daemonsets.current(&self.s),
            View::Rollout => self.rollout.ds(&self.s),
            _ => self.s.selected_ds(),
        }
    }

    /// Shows the plan of `intent` and waits for `y`.
    pub(super) fn ask(&mut self, intent: Intent) {
        self.confirm = Some(Confirm::new(intent.plan(&self.s.live.model)));
    }

    /// `D` (and `:drain`; `disable_eviction`: `:drain --disable-eviction`): lists the pods
    /// on the target nodes and the budgets (a job); the confirmation opens when they come
    /// ([`App::drain_planned`]).
    pub(super) fn propose_drain(&mut self, disable_eviction: bool) {
        if self.s.readonly {
            self.s.message = Some(super::input::readonly_flash(Action::Drain, &self.s.context));
            return;
        }
        if let Some(why) = self.forbidden(Action::Drain) {
            self.s.message = Some(why);
            return;
        }
        // Deleting pods directly needs the delete permission, not the eviction one.
        if disable_eviction && matches!(self.permissions.get(&crate::model::plan::DELETE_PODS), Some(Ok(false))) {
            self.s.message = Some(
                "forbidden: this user may not delete pods (SelfSubjectAccessReview), which --disable-eviction needs; nothing was sent"
                    .into(),
            );
            return;
        }
        if self.s.drain.as_ref().is_some_and(|d| d.is_active()) {
            self.s.message = Some("a drain is under way: :drain abort stops it".into());
            return;
        }
        let nodes = self.target_nodes();
        if nodes.is_empty() {
            self.s.message = Some("no node under the cursor (and none marked)".into());
            return;
        }
        self.s.message = Some(format!("listing the pods on {} node(s) and their disruption budgets…", nodes.len()));
        self.effects.push(Effect::PlanDrain { nodes, disable_eviction });
    }

    /// The pods and budgets of a drain came: confirm it (or say why not).
    pub(super) fn drain_planned(
        &mut self,
        nodes: Vec<String>,
        disable_eviction: bool,
        plans: Result<crate::model::plan::drain::Planned, String>,
    ) {
        match plans {
            // Another popup or prompt took over meanwhile: the operator moved on.
            Ok(_) if self.confirm.is_some() || !matches!(self.mode, Mode::Normal) => {}
            Ok(p) => self.ask(Intent::Drain { nodes, plans: p.plans, budgets: p.budgets, timing: self.drain_timing, disable_eviction }),
            Err(why) => self.s.message = Some(why),
        }
    }

    /// `P` (None: toggle) and `:drain pause` / `:drain resume`: holds the drain under way —
    /// no eviction is sent while it is paused; one in flight finishes — or lets it go on.
    pub(super) fn pause_drain(&mut self, on: Option<bool>) {
        let Some(d) = self.s.drain.as_ref().filter(|d| d.is_active()) else {
            self.s.message = Some("no drain is under way".into());
            return;
        };
        // The panel says PAUSED (or not) once the job has switched it: no message, so
        // the hint bar shows the key to undo it.
        let on = on.unwrap_or(d.paused.is_none());
        self.effects.push(Effect::DrainPause(on));
    }

    /// `R`: for an OnDelete DaemonSet, the choice of a roll or a maintenance roll (the
    /// roll first, so `R` Enter is the roll); for a RollingUpdate one, its rollout restart.
    fn choose_restart(&mut self) {
        let on_delete = self.action_ds().is_some_and(|d| matches!(d.strategy, Strategy::OnDelete));
        if !on_delete || self.s.readonly || self.forbidden(Action::Restart).is_some() {
            return self.propose(Action::Restart);
        }
        self.picker = Some(crate::ui::views::Picker::restart(self.roll_options.batch));
    }

    /// The roll `R` chose: the maintenance roll (`drain`) for this roll only, as `:roll N --drain`.
    pub(super) fn propose_roll(&mut self, drain: bool) {
        let saved = self.roll_options;
        self.roll_options.drain = drain;
        self.propose(Action::Restart);
        self.roll_options = saved;
    }

    /// Builds the plan for a mutating action and asks for confirmation.
    pub(super) fn propose(&mut self, a: Action) {
        if self.s.readonly {
            self.s.message = Some(super::input::readonly_flash(a, &self.s.context));
            return;
        }
        if let Some(why) = self.forbidden(a) {
            self.s.message = Some(why);
            return;
        }
        if a == Action::Restart {
            let Some(d) = self.action_ds() else {
                self.s.message = Some("no DaemonSet selected".into());
                return;
            };
            let (namespace, name) = (d.namespace.clone(), d.name.clone());
            let intent = match d.strategy {
                Strategy::OnDelete => Intent::roll(&self.s.live.model, d, self.roll_options),
                Strategy::RollingUpdate { .. } => Intent::RolloutRestart { namespace, name },
            };
            return self.ask(intent);
        }
        if a == Action::RestartPod {
            match self.pod_under_cursor() {
                Some(p) => {
                    let intent = Intent::RestartPod {
                        namespace: p.namespace.to_string(),
                        pod: p.name.to_string(),
                        node: p.node.as_deref().unwrap_or_default().to_string(),
                    };
                    self.ask(intent);
                }
                None => self.s.message = Some("no pod under the cursor".into()),
            }
            return;
        }
        let nodes = self.target_nodes();
        if nodes.is_empty() {
            self.s.message = Some("no node under the cursor (and none marked)".into());
            return;
        }
        let intent = match a {
            Action::Cordon => Intent::Cordon { nodes },
            _ => Intent::Uncordon { nodes },
        };
        self.ask(intent);
    }
}

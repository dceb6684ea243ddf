//! Which of a view's keys have nothing to act on right now (no node, pod or object
//! under the cursor): the hint bar leaves them out, so it offers only keys that act.
//! The keys still answer when pressed (with what is missing).
//! May import the rest of `app`, `keymap`, `shared`.

use super::App;
use crate::ui::keymap::Action;
use crate::ui::shared::View;

impl App {
    /// The hinted actions of the current view that would only answer "nothing here".
    pub(super) fn idle_actions(&self) -> Vec<Action> {
        self.keymap.bindings_for(self.s.view, self.s.readonly).filter(|b| b.hint && !self.acts(b.action)).map(|b| b.action).collect()
    }

    /// Whether `a` has something to act on in the current view and selection.
    fn acts(&self, a: Action) -> bool {
        match a {
            Action::Cordon | Action::Uncordon | Action::EditLabels | Action::EditTaints => !self.target_nodes().is_empty(),
            Action::Mark => self.node_under_cursor().is_some(),
            Action::Logs | Action::PreviousLogs | Action::RestartPod => self.pod_under_cursor().is_some(),
            Action::Restart => self.action_ds().is_some(),
            Action::Describe | Action::Yaml => self.object_under_cursor().is_some(),
            Action::Open => match self.s.view {
                View::DaemonSets => self.daemonsets.current(&self.s).is_some(),
                View::Rollout => self.rollout.ds(&self.s).is_some(),
                View::Matrix => self.matrix.cursor_node(&self.s).is_some() && self.matrix.cursor_ds(&self.s).is_some(),
                _ => self.object_under_cursor().is_some(),
            },
            Action::Rollout => match self.s.view {
                View::DaemonSets => self.daemonsets.current(&self.s).is_some(),
                View::Matrix => self.matrix.cursor_ds(&self.s).is_some(),
                _ => self.s.selected.is_some(),
            },
            Action::NextMatch | Action::PrevMatch => !self.text.search.is_empty(),
            Action::PauseDrain => self.s.drain.as_ref().is_some_and(|d| d.is_active()),
            _ => true,
        }
    }
}

//! What the fleet (`ui::fleet`) needs of one cluster's app: how far its cluster has
//! been observed (the fleet's column header), opening a DaemonSet's coverage grid from
//! a fleet cell, whether Esc would leave the app (back to the fleet), a line on its hint
//! bar, and naming the context in its confirmations. Reads and sets the app's own state
//! only; the fleet holds one app per cluster.
//! May import `shared`, `model`, `cluster` types (as `app`); never `sim`.

use super::{App, Mode};
use crate::cluster::jobs::Effect;
use crate::model::fleet::Reach;
use crate::ui::shared::View;

impl App {
    /// How far this app's cluster has been observed: refused (a failure waiting cannot
    /// fix), never synced and failing (unreachable), syncing, stale or live.
    pub fn reach(&self) -> Reach {
        let s = &self.s;
        let worst = |fatal: bool| {
            let mut failing: Vec<_> = s.live.failing().filter(|(_, f)| f.fatal == fatal).collect();
            failing.sort_by_key(|(r, _)| r.label());
            failing.first().map(|(_, f)| (f.failure, f.reason.clone()))
        };
        if let Some((failure, reason)) = worst(true) {
            return if failure.is_refusal() { Reach::Forbidden(reason) } else { Reach::Unreachable(reason) };
        }
        let worst = |fatal: bool| worst(fatal).map(|(_, reason)| reason);
        match (s.live.is_synced(), worst(false)) {
            (true, None) => Reach::Live,
            (true, Some(reason)) => Reach::Stale(reason),
            (false, Some(reason)) => Reach::Unreachable(reason),
            (false, None) => Reach::Syncing,
        }
    }

    /// Opens the coverage grid of `namespace/name` as the app's first view (Esc from it
    /// leaves the app); false (and the DaemonSets list) when the cluster has no such
    /// DaemonSet. Returns the effects of leaving the view that was open.
    pub fn open_grid_of(&mut self, namespace: &str, name: &str) -> (bool, Vec<Effect>) {
        if matches!(self.s.view, View::Text | View::Detail) {
            self.effects.push(Effect::StopStreams);
        }
        (self.mode, self.picker, self.confirm, self.show_help) = (Mode::Normal, None, None, false);
        self.history.clear();
        self.s.filter.clear();
        let found = self.s.live.model.daemonset(namespace, name).is_some();
        if found {
            self.s.selected = Some((namespace.to_string(), name.to_string()));
            self.grid.cursor = 0;
            self.s.view = View::Grid;
        } else {
            self.s.view = View::DaemonSets;
        }
        (found, std::mem::take(&mut self.effects))
    }

    /// Nothing for Esc to close or go back to: Esc leaves the app.
    pub fn at_root(&self) -> bool {
        matches!(self.mode, Mode::Normal)
            && self.picker.is_none()
            && self.confirm.is_none()
            && !self.show_help
            && self.history.is_empty()
            && self.s.filter.is_empty()
    }

    /// The one namespace watched (None: all).
    pub fn namespace(&self) -> Option<&str> {
        self.s.scope.namespace.as_deref()
    }

    /// Puts `line` on the hint bar (None clears it).
    pub fn say(&mut self, line: Option<String>) {
        self.s.message = line;
    }

    /// Confirmations name this app's context (one of several clusters on screen).
    pub fn name_context_in_confirmations(mut self) -> Self {
        self.s.name_context = true;
        self
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;
    use crate::cluster::watch::{SyncFailure, SyncState, Update};
    use crate::model::Resource;
    use crate::ui::app::Msg;
    use crate::ui::theme::Theme;

    /// A failing watch, typed as the watch types it (the words are only shown).
    fn failing(r: Resource, reason: &str, failure: SyncFailure) -> Update {
        let fatal = failure.is_refusal() || failure == SyncFailure::Tls;
        Update::Sync(r, SyncState::Reconnecting { reason: reason.into(), failure, fatal, retry_in: Duration::from_secs(1) })
    }

    fn live() -> Vec<Update> {
        Resource::ALL.iter().map(|r| Update::Sync(*r, SyncState::Live)).collect()
    }

    #[test]
    fn reach_follows_the_watches() {
        let mut a = App::new("prod", Theme::new(false));
        assert_eq!(a.reach(), Reach::Syncing);
        a.update(Msg::Watch(vec![failing(Resource::Pods, "cannot reach the API server: refused", SyncFailure::Unreachable)]));
        assert_eq!(a.reach(), Reach::Unreachable("cannot reach the API server: refused".into()), "never synced, failing");
        a.update(Msg::Watch(live()));
        assert_eq!(a.reach(), Reach::Live);
        a.update(Msg::Watch(vec![failing(Resource::Nodes, "429 Too Many Requests", SyncFailure::Throttled)]));
        assert_eq!(a.reach(), Reach::Stale("429 Too Many Requests".into()), "synced once: the data stays, stale");
        a.update(Msg::Watch(vec![failing(Resource::Pods, "403 Forbidden: pods is forbidden", SyncFailure::Forbidden)]));
        assert_eq!(a.reach(), Reach::Forbidden("403 Forbidden: pods is forbidden".into()), "a refusal outranks a blip");
        let mut b = App::new("tls", Theme::new(false));
        b.update(Msg::Watch(vec![failing(Resource::Pods, "TLS: invalid peer certificate", SyncFailure::Tls)]));
        assert_eq!(b.reach(), Reach::Unreachable("TLS: invalid peer certificate".into()), "fatal, but not a refusal");
    }

    #[test]
    fn a_grid_opened_from_the_fleet_is_the_apps_root_and_esc_inside_goes_back_first() {
        let mut a = App::new("prod", Theme::new(false));
        a.update(Msg::Watch(vec![Update::Change(crate::model::Change::DaemonSet(crate::model::fixtures::daemonset(
            "kube-system",
            "agent",
        )))]));
        let (found, _) = a.open_grid_of("kube-system", "agent");
        assert!(found && a.view() == View::Grid && a.at_root());
        assert_eq!(a.selected().map(|d| d.name.as_str()), Some("agent"));
        a.update(Msg::Key(crossterm::event::KeyEvent::from(crossterm::event::KeyCode::Char('n'))));
        assert!(a.view() == View::Nodes && !a.at_root(), "a view opened inside is closed first");
        a.update(Msg::Key(crossterm::event::KeyEvent::from(crossterm::event::KeyCode::Esc)));
        assert!(a.view() == View::Grid && a.at_root());
        let (found, _) = a.open_grid_of("kube-system", "nope");
        assert!(!found && a.view() == View::DaemonSets && a.at_root());
    }
}

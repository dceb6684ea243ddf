//! Moving around: which view is shown and the history Esc returns through, the cursors
//! of the views (moved by rows and pages each view recorded while drawing, and kept in
//! bounds as lists change), and what is under the cursor (node, pod, object).
//! May import the rest of `app`, `keymap`, `views` state types, `model`, `cluster` types.

use super::App;
use crate::cluster::jobs::{Effect, Kind, ObjectRef};
use crate::model::{DsInfo, NodeId, PodInfo};
use crate::ui::keymap::Action;
use crate::ui::shared::View;

/// Row movement in a list; `clamp` bounds the result afterwards.
pub(super) fn move_rows(cursor: &mut usize, a: Action, page: usize) {
    *cursor = match a {
        Action::Down => cursor.saturating_add(1),
        Action::Up => cursor.saturating_sub(1),
        Action::PageDown => cursor.saturating_add(page),
        Action::PageUp => cursor.saturating_sub(page),
        Action::Top => 0,
        Action::Bottom => usize::MAX,
        _ => *cursor,
    };
}

impl App {
    /// Rows a page holds in the current view, as it was last drawn.
    pub(super) fn page(&self) -> usize {
        let p = match self.s.view {
            View::DaemonSets => self.daemonsets.page,
            View::Grid => self.grid.page,
            View::Matrix => self.matrix.page,
            View::Rollout => self.rollout.page,
            View::Nodes => self.nodes.page,
            View::Joins => self.joins.page,
            View::Detail => self.detail.page,
            View::Text | View::Fleet => self.text.page,
            View::WhatIf => self.whatif.page,
        };
        p.max(1)
    }

    /// Keeps cursors inside what is shown (lists shrink as filters and watches change them).
    pub(super) fn clamp(&mut self) {
        let s = &self.s;
        self.daemonsets.clamp(s);
        match s.view {
            View::Grid => self.grid.clamp(s),
            View::Matrix => self.matrix.clamp(s),
            View::Nodes => self.nodes.clamp(s),
            View::Joins => self.joins.clamp(s),
            View::Text => self.text.clamp(),
            _ => {}
        }
    }

    /// Selects the DaemonSet under the list's cursor; false when there is none.
    pub(super) fn pick_selected(&mut self) -> bool {
        self.s.selected = self.daemonsets.current(&self.s).map(|d| (d.namespace.clone(), d.name.clone()));
        self.s.selected.is_some()
    }

    /// Opens the grid of the DaemonSet under the list's cursor, at its first node.
    pub(super) fn open_grid_of_list(&mut self) {
        if self.pick_selected() {
            self.grid.cursor = 0;
            self.goto(View::Grid);
        }
    }

    /// Opens `v`, remembering where Esc returns to.
    pub(super) fn goto(&mut self, v: View) {
        if v == self.s.view {
            return;
        }
        if matches!(self.s.view, View::Text | View::Detail) {
            self.effects.push(Effect::StopStreams);
        }
        let current = self.s.view;
        self.history.retain(|h| h.0 != v && h.0 != current);
        self.history.push((current, std::mem::take(&mut self.s.filter)));
        self.s.view = v;
    }

    pub(super) fn go_home(&mut self) {
        if matches!(self.s.view, View::Text | View::Detail) {
            self.effects.push(Effect::StopStreams);
        }
        self.history.clear();
        self.s.view = View::DaemonSets;
        self.s.filter.clear();
    }

    pub(super) fn back(&mut self) {
        if !self.s.filter.is_empty() {
            self.s.filter.clear();
            return;
        }
        if matches!(self.s.view, View::Text | View::Detail) {
            self.effects.push(Effect::StopStreams);
        }
        let (prev, filter) = self.history.pop().unwrap_or((View::DaemonSets, String::new()));
        self.s.filter = filter;
        // Returning to a detail view re-watches its events (the text pane stopped them).
        if prev == View::Detail
            && let Some((o, _)) = self.detail.object.clone()
        {
            self.detail.events_seq = self.next_seq();
            self.effects.push(Effect::Events { seq: self.detail.events_seq, object: o });
        }
        self.s.view = prev;
    }

    /// Opens the detail view of an object (and watches its Events).
    pub(super) fn open_detail(&mut self, object: ObjectRef, pod_uid: Option<String>) {
        self.goto(View::Detail);
        let seq = self.next_seq();
        let d = &mut self.detail;
        d.events.clear();
        d.events_note = Some("loading events…".into());
        d.events_seq = seq;
        d.scroll = 0;
        self.effects.push(Effect::Events { seq, object: object.clone() });
        d.object = Some((object, pod_uid));
    }

    /// Opens the text pane for the answer to a new request; returns the request's number.
    pub(super) fn open_text(&mut self, title: String, follow: bool) -> u64 {
        self.goto(View::Text);
        let seq = self.next_seq();
        self.text.open(title, follow, seq);
        seq
    }

    /// The node the cursor is on in the current view.
    pub(super) fn node_under_cursor(&self) -> Option<NodeId> {
        match self.s.view {
            View::Grid => self.grid.cursor_node(&self.s),
            View::Matrix => self.matrix.cursor_node(&self.s),
            View::Nodes => self.nodes.cursor_node(&self.s),
            _ => None,
        }
    }

    /// The pod the cursor is on: the grid's DaemonSet on the cursor node (newest pod), the
    /// matrix column's DaemonSet on the row's node, or the pod in the detail view.
    pub(super) fn pod_under_cursor(&self) -> Option<&PodInfo> {
        let s = &self.s;
        match s.view {
            View::Grid => s.live.model.pods_on(s.selected_ds()?, self.grid.cursor_node(s)?).into_iter().last(),
            View::Matrix => s.live.model.pods_on(self.matrix.cursor_ds(s)?, self.matrix.cursor_node(s)?).into_iter().last(),
            View::Detail => match &self.detail.object {
                Some((o, Some(uid))) if o.kind == Kind::Pod => s.live.model.pod(uid),
                _ => None,
            },
            _ => None,
        }
    }

    /// The object `y`, `d` and Enter act on in the current view.
    pub(super) fn object_under_cursor(&self) -> Option<(ObjectRef, Option<String>)> {
        let s = &self.s;
        let ds_ref = |d: &DsInfo| ObjectRef { kind: Kind::DaemonSet, namespace: Some(d.namespace.clone()), name: d.name.clone() };
        let node_ref =
            |id: NodeId| s.live.model.node(id).map(|n| (ObjectRef { kind: Kind::Node, namespace: None, name: n.name.clone() }, None));
        let pod_ref = |p: &PodInfo| {
            (ObjectRef { kind: Kind::Pod, namespace: Some(p.namespace.to_string()), name: p.name.to_string() }, Some(p.uid.to_string()))
        };
        match s.view {
            View::DaemonSets => self.daemonsets.current(s).map(|d| (ds_ref(d), None)),
            View::Rollout => self.rollout.ds(s).map(|d| (ds_ref(d), None)),
            View::Grid | View::Matrix => self.pod_under_cursor().map(pod_ref).or_else(|| node_ref(self.node_under_cursor()?)),
            View::Nodes => node_ref(self.node_under_cursor()?),
            View::Joins => {
                let name = self.joins.rows(s, crate::k8s::clock::now()).rows.get(self.joins.cursor)?.name.clone();
                Some((ObjectRef { kind: Kind::Node, namespace: None, name }, None))
            }
            View::Detail => self.detail.object.clone(),
            View::Text | View::Fleet | View::WhatIf => None,
        }
    }

    /// Moves the cursor of the current view (rows, pages, ends; cells in the grid).
    pub(super) fn move_cursor(&mut self, a: Action) {
        let page = self.page();
        match self.s.view {
            View::DaemonSets => move_rows(&mut self.daemonsets.cursor, a, page),
            View::Matrix => match a {
                Action::Right => self.matrix.col += 1,
                Action::Left => self.matrix.col = self.matrix.col.saturating_sub(1),
                _ => move_rows(&mut self.matrix.row, a, page),
            },
            View::Nodes => move_rows(&mut self.nodes.cursor, a, page),
            View::Joins => move_rows(&mut self.joins.cursor, a, page),
            View::WhatIf => move_rows(&mut self.whatif.scroll, a, page),
            View::Rollout => {
                let mut i = self.rollout.index(&self.s);
                move_rows(&mut i, a, page);
                let rows = self.rollout.rows(&self.s);
                let pick = rows.get(i.min(rows.len().saturating_sub(1))).map(|d| (d.namespace.clone(), d.name.clone()));
                if pick.is_some() {
                    self.s.selected = pick;
                }
            }
            View::Detail => move_rows(&mut self.detail.scroll, a, page),
            View::Fleet => {}
            View::Text => {
                move_rows(&mut self.text.scroll, a, page);
                // Going to the end follows the stream again; scrolling up stops following.
                self.text.follow = a == Action::Bottom || (self.text.follow && matches!(a, Action::Down | Action::PageDown));
            }
            View::Grid => {
                let (g, s) = (&mut self.grid, &self.s);
                let page = page as isize;
                match a {
                    Action::Right => g.cursor += 1,
                    Action::Left => g.cursor = g.cursor.saturating_sub(1),
                    // By row as drawn, so no group is skipped.
                    Action::Down => g.move_rows(s, 1),
                    Action::Up => g.move_rows(s, -1),
                    Action::PageDown => g.move_rows(s, page),
                    Action::PageUp => g.move_rows(s, -page),
                    Action::Top => g.cursor = 0,
                    Action::Bottom => g.cursor = usize::MAX,
                    _ => {}
                }
            }
        }
    }
}

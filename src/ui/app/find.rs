//! Finding things fast: `]` / `[` jump to the next / previous problem (a cell in the
//! grid and the matrix, a row in the DaemonSets, nodes and rollout lists), wrapping around; the
//! text pane's search (`/`) and its next / previous match (`n` / `N`).
//! May import the rest of `app`, `views` (state and `format`), `model`.

use super::App;
use crate::model::coverage::CellState;
use crate::model::coverage::Health;
use crate::ui::shared::View;
use crate::ui::views::format::{health, node_daemons};

/// The index after (or before) `from` among `n`, wrapping, whose item `hit` says is a
/// problem; `from` itself comes last.
fn next_hit(n: usize, from: usize, forward: bool, hit: impl Fn(usize) -> bool) -> Option<usize> {
    (1..=n).map(|k| if forward { (from + k) % n } else { (from + n - k % n) % n }).find(|i| hit(*i))
}

impl App {
    pub(super) fn jump_problem(&mut self, forward: bool) {
        let s = &self.s;
        let found = match s.view {
            View::DaemonSets => {
                let rows = self.daemonsets.rows(s);
                let at = self.daemonsets.cursor.min(rows.len().saturating_sub(1));
                next_hit(rows.len(), at, forward, |i| health(&s.live.model, rows[i]) != Health::Ok).map(|i| self.daemonsets.cursor = i)
            }
            View::Nodes => {
                let rows = self.nodes.rows(s);
                let at = self.nodes.cursor.min(rows.len().saturating_sub(1));
                let bad = |i: usize| {
                    let nd = node_daemons(&s.live.model, rows[i]);
                    nd.broken > 0 || nd.down > 0
                };
                next_hit(rows.len(), at, forward, bad).map(|i| self.nodes.cursor = i)
            }
            View::Grid => {
                let order = self.grid.order(s);
                let cov = s.selected_ds().and_then(|d| s.live.model.coverage(d));
                let state = |i: usize| cov.and_then(|c| c.cells.get(order[i] as usize)).copied().unwrap_or(CellState::Absent);
                let at = self.grid.cursor.min(order.len().saturating_sub(1));
                next_hit(order.len(), at, forward, |i| state(i).is_problem()).map(|i| self.grid.cursor = i)
            }
            View::Matrix => {
                let rows = self.matrix.rows(s);
                let dss: Vec<_> = s.live.model.daemonsets().collect();
                let cols = dss.len().max(1);
                let state = |i: usize| {
                    let (r, c) = (i / cols, i % cols);
                    dss.get(c).and_then(|d| s.live.model.coverage(d)).and_then(|cv| cv.cells.get(rows[r].0 as usize)).copied()
                };
                let at = self.matrix.row.min(rows.len().saturating_sub(1)) * cols + self.matrix.col.min(cols - 1);
                next_hit(rows.len() * cols, at, forward, |i| state(i).is_some_and(|st| st.is_problem())).map(|i| {
                    self.matrix.row = i / cols;
                    self.matrix.col = i % cols;
                })
            }
            View::Rollout => {
                // A rollout with a broken daemon (failing, missing, starting, terminating,
                // misscheduled): what holds a rollout up.
                let rows = self.rollout.rows(s);
                let at = self.rollout.index(s);
                let pick = next_hit(rows.len(), at, forward, |i| health(&s.live.model, rows[i]).state().is_broken())
                    .map(|i| (rows[i].namespace.clone(), rows[i].name.clone()));
                pick.map(|p| self.s.selected = Some(p))
            }
            _ => Some(()),
        };
        if found.is_none() {
            self.s.message = Some("no problem here: every row and cell is fine".into());
        }
    }

    /// The search as typed: the first match from the top line on is brought into view.
    pub(super) fn search(&mut self, text: String) {
        self.text.search = text;
        if self.text.search.is_empty() {
            return;
        }
        let from = self.text.top();
        match self.text.find(from, true, true) {
            Some(i) => self.text.show_line(i),
            None => self.s.message = Some(format!("no line matches {:?}", self.text.search)),
        }
    }

    pub(super) fn next_match(&mut self, forward: bool) {
        if self.text.search.is_empty() {
            self.s.message = Some("no search: / searches the text".into());
            return;
        }
        let from = self.text.top();
        match self.text.find(from, forward, false) {
            Some(i) => self.text.show_line(i),
            None => self.s.message = Some(format!("no line matches {:?}", self.text.search)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::next_hit;

    #[test]
    fn problems_are_found_both_ways_with_wrap() {
        let bad = [false, true, false, false, true];
        let hit = |i: usize| bad[i];
        assert_eq!(next_hit(5, 1, true, hit), Some(4));
        assert_eq!(next_hit(5, 4, true, hit), Some(1));
        assert_eq!(next_hit(5, 1, false, hit), Some(4));
        assert_eq!(next_hit(5, 4, false, hit), Some(1));
        assert_eq!(next_hit(5, 0, true, |_| false), None);
        assert_eq!(next_hit(0, 0, true, |_| true), None);
    }
}

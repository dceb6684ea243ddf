//! The mouse: a click selects the row or cell under it (where the views recorded what
//! they drew), a click on a view's name in the header switches to it (as its `:`
//! command would), the wheel scrolls (the help, a confirmation's list, else the view's
//! cursor). Off when the app's `mouse` is false (`--no-mouse`): the terminal loop then
//! does not even capture the mouse.
//! May import the rest of `app`, `keymap`, `views` (state and `chrome`).

use crossterm::event::{MouseButton, MouseEvent, MouseEventKind};

use super::App;
use super::mode::Mode;
use crate::ui::keymap::Action;
use crate::ui::shared::View;
use crate::ui::views::chrome;

/// Rows a wheel notch moves.
const WHEEL: usize = 3;

/// The row (its index) at screen row `y` of rows drawn in `area` from index `first`.
fn row_at(hit: Option<(ratatui::layout::Rect, usize)>, x: u16, y: u16) -> Option<usize> {
    let (r, first) = hit?;
    (y >= r.y && y < r.y + r.height && x >= r.x && x < r.x + r.width).then(|| first + (y - r.y) as usize)
}

impl App {
    pub(super) fn on_mouse(&mut self, m: MouseEvent) {
        if !self.mouse || !matches!(self.mode, Mode::Normal) || self.picker.is_some() {
            return;
        }
        let down = match m.kind {
            MouseEventKind::ScrollDown => Some(true),
            MouseEventKind::ScrollUp => Some(false),
            _ => None,
        };
        if let Some(down) = down {
            if self.show_help {
                self.help_scroll = if down { self.help_scroll + WHEEL } else { self.help_scroll.saturating_sub(WHEEL) };
            } else if let Some(c) = &mut self.confirm {
                c.scroll = if down { c.scroll + WHEEL } else { c.scroll.saturating_sub(WHEEL) };
            } else {
                for _ in 0..WHEEL {
                    self.act(if down { Action::Down } else { Action::Up });
                }
            }
            return;
        }
        if m.kind != MouseEventKind::Down(MouseButton::Left) || self.show_help || self.confirm.is_some() {
            return;
        }
        self.s.message = None;
        let (x, y) = (m.column, m.row);
        if let Some(tab) = chrome::tab_at(self.area, x, y) {
            self.command(tab);
            self.clamp();
            return;
        }
        match self.s.view {
            View::DaemonSets => {
                if let Some(i) = row_at(self.daemonsets.hit, x, y) {
                    self.daemonsets.cursor = i;
                }
            }
            View::Nodes => {
                if let Some(i) = row_at(self.nodes.hit, x, y) {
                    self.nodes.cursor = i;
                }
            }
            View::Joins | View::WhatIf => {}
            View::Rollout => {
                if let Some(i) = row_at(self.rollout.hit, x, y) {
                    let pick = self.rollout.rows(&self.s).get(i).map(|d| (d.namespace.clone(), d.name.clone()));
                    if pick.is_some() {
                        self.s.selected = pick;
                    }
                }
            }
            View::Grid => {
                let w = self.grid.cell_w.max(1);
                if let Some((_, _, i)) = self.grid.hit.iter().find(|(cx, cy, _)| *cy == y && x >= *cx && x < cx + w) {
                    self.grid.cursor = *i;
                }
            }
            View::Matrix => {
                if let Some(h) = self.matrix.hit
                    && let Some(r) = row_at(Some((h.rows, h.row_off)), x, y)
                {
                    self.matrix.row = r;
                    if x >= h.cells_x && h.col_w > 0 {
                        let c = ((x - h.cells_x) / h.col_w) as usize;
                        if c < h.cols {
                            self.matrix.col = h.col_off + c;
                        }
                    }
                }
            }
            View::Detail | View::Text | View::Fleet => {}
        }
        self.clamp();
    }
}

//! Undo/redo as a list of shared drawing snapshots.

use std::sync::Arc;

use super::Drawing;

/// How many snapshots the history keeps (the oldest are forgotten first).
pub const HISTORY_MAX_LEN: usize = 200;

/// Snapshots of the drawing, one per finished edit. Snapshots share their strokes and
/// background through `Arc`, so each costs only a vector of pointers.
#[derive(Clone, Debug)]
pub struct History {
    snapshots: Vec<Arc<Drawing>>,
    /// Index of the snapshot shown; snapshots after it can be redone.
    cursor: usize,
}

impl History {
    pub fn new(initial: Drawing) -> Self {
        Self {
            snapshots: vec![Arc::new(initial)],
            cursor: 0,
        }
    }

    /// The drawing currently shown.
    pub fn current(&self) -> &Arc<Drawing> {
        &self.snapshots[self.cursor]
    }

    /// Makes `drawing` the current state, forgetting anything that could be redone. A drawing
    /// equal to the current one is not recorded (returns `false`), so an edit that changed
    /// nothing never needs an extra undo.
    pub fn record(&mut self, drawing: Drawing) -> bool {
        if self.current().same_as(&drawing) {
            return false;
        }
        self.snapshots.truncate(self.cursor + 1);
        self.snapshots.push(Arc::new(drawing));
        if self.snapshots.len() > HISTORY_MAX_LEN {
            let excess = self.snapshots.len() - HISTORY_MAX_LEN;
            self.snapshots.drain(..excess);
        }
        self.cursor = self.snapshots.len() - 1;
        true
    }

    /// Steps back one snapshot; `false` when there is nothing to undo.
    pub fn undo(&mut self) -> bool {
        if !self.can_undo() {
            return false;
        }
        self.cursor -= 1;
        true
    }

    /// Steps forward one snapshot; `false` when there is nothing to redo.
    pub fn redo(&mut self) -> bool {
        if !self.can_redo() {
            return false;
        }
        self.cursor += 1;
        true
    }

    pub fn can_undo(&self) -> bool {
        self.cursor > 0
    }

    pub fn can_redo(&self) -> bool {
        self.cursor + 1 < self.snapshots.len()
    }

    /// Number of snapshots kept, the current one included.
    pub fn len(&self) -> usize {
        self.snapshots.len()
    }

    /// Always `false`: a history holds at least the current drawing.
    pub fn is_empty(&self) -> bool {
        false
    }
}

impl Default for History {
    fn default() -> Self {
        Self::new(Drawing::default())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sketch::{Point, Stroke, Tool};
    use image::GrayImage;

    fn dot_at(x: f32) -> Stroke {
        Stroke {
            tool: Tool::Brush,
            width: 0.02,
            points: vec![Point::without_pressure(x, 0.5)],
            colour: None,
        }
    }

    #[test]
    fn record_undo_redo() {
        let mut history = History::default();
        assert!(!history.can_undo() && !history.can_redo());
        let one = history.current().with_stroke(dot_at(0.1));
        assert!(history.record(one.clone()));
        let two = history.current().with_stroke(dot_at(0.2));
        assert!(history.record(two.clone()));
        assert_eq!(**history.current(), two);

        assert!(history.undo());
        assert_eq!(**history.current(), one);
        assert!(history.undo());
        assert!(history.current().is_blank());
        assert!(!history.undo(), "nothing left to undo");

        assert!(history.redo());
        assert!(history.redo());
        assert_eq!(**history.current(), two);
        assert!(!history.redo(), "nothing left to redo");
    }

    #[test]
    fn recording_after_undo_drops_the_redo_branch() {
        let mut history = History::default();
        history.record(Drawing::default().with_stroke(dot_at(0.1)));
        history.undo();
        history.record(Drawing::default().with_stroke(dot_at(0.9)));
        assert!(!history.can_redo());
        assert_eq!(history.len(), 2);
        assert_eq!(history.current().strokes[0].points[0].x, 0.9);
    }

    #[test]
    fn unchanged_drawing_is_not_recorded() {
        let mut history = History::default();
        history.record(Drawing::default().with_stroke(dot_at(0.1)));
        let same = (**history.current()).clone();
        assert!(!history.record(same));
        // An equal drawing built separately is also recognised.
        assert!(!history.record(Drawing::default().with_stroke(dot_at(0.1))));
        assert_eq!(history.len(), 2);
    }

    #[test]
    fn length_is_capped_and_oldest_forgotten() {
        let mut history = History::default();
        for i in 0..HISTORY_MAX_LEN + 50 {
            let next = history.current().with_stroke(dot_at(i as f32 / 1000.0));
            assert!(history.record(next));
        }
        assert_eq!(history.len(), HISTORY_MAX_LEN);
        assert_eq!(history.current().strokes.len(), HISTORY_MAX_LEN + 50);
        let mut undos = 0;
        while history.undo() {
            undos += 1;
        }
        assert_eq!(undos, HISTORY_MAX_LEN - 1);
        assert_eq!(
            history.current().strokes.len(),
            51,
            "the 50 oldest states are gone"
        );
    }

    #[test]
    fn clear_is_undoable() {
        let background = GrayImage::new(8, 8);
        let mut history = History::new(Drawing::with_background(background));
        history.record(history.current().with_stroke(dot_at(0.5)));
        let drawn = history.current().clone();

        history.record(drawn.cleared(true));
        assert!(history.current().strokes.is_empty());
        assert!(history.current().background.is_some());

        history.record(history.current().cleared(false));
        assert!(history.current().is_blank());

        assert!(history.undo() && history.undo());
        assert_eq!(history.current(), &drawn);
    }
}

//! The open document: the drawing's history, the face's seed and the seeds before it, the file
//! it belongs to, and whether it has changes that no file holds.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use crate::engine::Seed;
use crate::sketch::{Drawing, DrawingDocument, History};

/// How many earlier seeds "Previous face" can go back through.
pub const SEEDS_KEPT: usize = 100;

pub struct Document {
    history: History,
    seed: Seed,
    previous_seeds: Vec<Seed>,
    /// The `.ora` file the drawing was opened from or last saved to.
    path: Option<PathBuf>,
    /// What that file (or the blank page of a new document) holds.
    saved: (Arc<Drawing>, Seed),
    /// Grows with every change (drawing or seed), for the autosave.
    revision: u64,
}

impl Default for Document {
    fn default() -> Self {
        let history = History::default();
        let saved = (Arc::clone(history.current()), Seed::DEFAULT);
        Self {
            history,
            seed: Seed::DEFAULT,
            previous_seeds: Vec::new(),
            path: None,
            saved,
            revision: 0,
        }
    }
}

impl Document {
    pub fn drawing(&self) -> &Arc<Drawing> {
        self.history.current()
    }

    pub fn history(&self) -> &History {
        &self.history
    }

    /// The seed of the face's variation code.
    pub fn seed(&self) -> Seed {
        self.seed
    }

    /// Earlier seeds, the newest last.
    pub fn previous_seeds(&self) -> &[Seed] {
        &self.previous_seeds
    }

    pub fn path(&self) -> Option<&Path> {
        self.path.as_deref()
    }

    pub fn revision(&self) -> u64 {
        self.revision
    }

    /// Whether closing now would lose something: the drawing or the seed differs from what its
    /// file (or, for a new document, the blank page) holds.
    pub fn has_unsaved_changes(&self) -> bool {
        let (drawing, seed) = &self.saved;
        !self.drawing().same_as(drawing) || self.seed != *seed
    }

    /// Record a new drawing state (undoable); `false` when it equals the current one.
    pub fn record(&mut self, drawing: Drawing) -> bool {
        let changed = self.history.record(drawing);
        self.changed_if(changed)
    }

    pub fn undo(&mut self) -> bool {
        let changed = self.history.undo();
        self.changed_if(changed)
    }

    pub fn redo(&mut self) -> bool {
        let changed = self.history.redo();
        self.changed_if(changed)
    }

    /// Use `seed` for the face; the one before can be gone back to.
    pub fn set_seed(&mut self, seed: Seed) -> bool {
        if seed == self.seed {
            return false;
        }
        self.previous_seeds.push(self.seed);
        if self.previous_seeds.len() > SEEDS_KEPT {
            self.previous_seeds.remove(0);
        }
        self.seed = seed;
        self.changed_if(true)
    }

    /// Back to the seed before the last change; `false` when there is none.
    pub fn previous_seed(&mut self) -> bool {
        let Some(seed) = self.previous_seeds.pop() else {
            return false;
        };
        self.seed = seed;
        self.changed_if(true)
    }

    /// An opened drawing replaces the current one (undoably) and takes its seed; it is what
    /// its file holds, so it has no unsaved changes. `path` is `None` for a restored autosave,
    /// which no file of the user's holds.
    pub fn open(&mut self, opened: DrawingDocument, path: Option<PathBuf>) {
        self.record(opened.drawing);
        self.set_seed(Seed(opened.seed));
        if path.is_some() {
            self.path = path;
            self.saved = (Arc::clone(self.drawing()), self.seed);
        }
    }

    /// `drawing` and `seed` are now in the file at `path`.
    pub fn saved_as(&mut self, path: &Path, drawing: Arc<Drawing>, seed: Seed) {
        self.path = Some(path.to_path_buf());
        self.saved = (drawing, seed);
    }

    /// The document as a file stores it.
    pub fn to_file(&self, model: Option<String>) -> DrawingDocument {
        DrawingDocument {
            drawing: (**self.drawing()).clone(),
            seed: self.seed.0,
            model,
        }
    }

    fn changed_if(&mut self, changed: bool) -> bool {
        if changed {
            self.revision += 1;
        }
        changed
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sketch::{Point, Stroke, Tool};

    fn with_line(drawing: &Drawing) -> Drawing {
        let mut stroke = Stroke::new(Tool::Brush, 0.01);
        stroke.push(Point::without_pressure(0.1, 0.1));
        stroke.push(Point::without_pressure(0.9, 0.9));
        drawing.with_stroke(stroke)
    }

    #[test]
    fn a_new_blank_document_has_nothing_to_save_until_it_changes() {
        let mut document = Document::default();
        assert!(!document.has_unsaved_changes());
        document.record(with_line(document.drawing()));
        assert!(document.has_unsaved_changes());
        document.undo();
        assert!(!document.has_unsaved_changes(), "back to the blank page");
        document.set_seed(Seed(7));
        assert!(document.has_unsaved_changes(), "the seed is part of it");
        let (drawing, seed) = (Arc::clone(document.drawing()), document.seed());
        document.saved_as(Path::new("/d/a.ora"), drawing, seed);
        assert!(!document.has_unsaved_changes());
        assert_eq!(document.path(), Some(Path::new("/d/a.ora")));
    }

    #[test]
    fn seeds_go_back_in_order() {
        let mut document = Document::default();
        let start = document.revision();
        document.set_seed(Seed(1));
        document.set_seed(Seed(2));
        assert!(!document.set_seed(Seed(2)), "the same seed is no change");
        assert_eq!(document.previous_seeds(), [Seed(0), Seed(1)]);
        assert!(document.previous_seed());
        assert_eq!(document.seed(), Seed(1));
        assert!(document.previous_seed());
        assert_eq!(document.seed(), Seed(0));
        assert!(!document.previous_seed());
        assert_eq!(document.revision(), start + 4);
    }

    #[test]
    fn opening_is_undoable_and_counts_as_saved() {
        let mut document = Document::default();
        document.record(with_line(document.drawing()));
        let opened = DrawingDocument {
            drawing: with_line(&with_line(&Drawing::default())),
            seed: 9,
            model: None,
        };
        document.open(opened.clone(), Some(PathBuf::from("/d/b.ora")));
        assert!(!document.has_unsaved_changes());
        assert_eq!(document.seed(), Seed(9));
        assert!(document.undo());
        assert_eq!(document.drawing().strokes.len(), 1);

        let mut restored = Document::default();
        restored.open(opened, None);
        assert!(
            restored.has_unsaved_changes(),
            "a restored drawing is in no file"
        );
    }
}

//! The open document: the drawing's history, the face's seed and the seeds before it, the person
//! chosen from the strip, the look photo, the file it belongs to, and whether it has changes that
//! no file holds.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use crate::engine::Seed;
use crate::sketch::{Drawing, DrawingDocument, History, LookPhoto};

/// How many earlier seeds "Previous face" can go back through.
pub const SEEDS_KEPT: usize = 100;

pub struct Document {
    history: History,
    seed: Seed,
    previous_seeds: Vec<Seed>,
    /// The bank face chosen from the strip (face pipeline v3): the face keeps it while drawing.
    person: Option<u64>,
    /// The photo whose face the face has.
    look: Option<LookPhoto>,
    /// The `.ora` file the drawing was opened from or last saved to.
    path: Option<PathBuf>,
    /// What that file (or the blank page of a new document) holds.
    saved: Saved,
    /// Grows with every change (drawing or seed), for the autosave.
    revision: u64,
}

/// What a file holds, to tell unsaved changes.
struct Saved {
    drawing: Arc<Drawing>,
    seed: Seed,
    person: Option<u64>,
    look: Option<LookPhoto>,
}

impl Default for Document {
    fn default() -> Self {
        let history = History::default();
        let saved = Saved { drawing: Arc::clone(history.current()), seed: Seed::DEFAULT, person: None, look: None };
        Self {
            history,
            seed: Seed::DEFAULT,
            previous_seeds: Vec::new(),
            person: None,
            look: None,
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
        let saved = &self.saved;
        !self.drawing().same_as(&saved.drawing)
            || self.seed != saved.seed
            || self.person != saved.person
            || self.look != saved.look
    }

    /// The person chosen from the strip.
    pub fn person(&self) -> Option<u64> {
        self.person
    }

    /// Keep `person` as the face (or let the seed choose again, `None`).
    pub fn set_person(&mut self, person: Option<u64>) -> bool {
        let changed = person != self.person;
        self.person = person;
        self.changed_if(changed)
    }

    pub fn look(&self) -> Option<&LookPhoto> {
        self.look.as_ref()
    }

    /// A new look photo, or none.
    pub fn set_look(&mut self, look: Option<LookPhoto>) -> bool {
        let changed = look != self.look;
        self.look = look;
        self.changed_if(changed)
    }

    /// Use the look photo for the face, or keep it aside (it stays in the document).
    pub fn set_look_in_use(&mut self, in_use: bool) -> bool {
        let Some(look) = self.look.as_mut().filter(|look| look.in_use != in_use) else {
            return false;
        };
        look.in_use = in_use;
        self.changed_if(true)
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
        self.set_person(opened.person);
        self.set_look(opened.look);
        if path.is_some() {
            self.path = path;
            self.saved = self.now();
        }
    }

    /// What `document` holds is now in the file at `path`.
    pub fn saved_as(&mut self, path: &Path, document: DrawingDocument) {
        self.path = Some(path.to_path_buf());
        self.saved = Saved {
            drawing: Arc::new(document.drawing),
            seed: Seed(document.seed),
            person: document.person,
            look: document.look,
        };
    }

    fn now(&self) -> Saved {
        Saved { drawing: Arc::clone(self.drawing()), seed: self.seed, person: self.person, look: self.look.clone() }
    }

    /// The document as a file stores it.
    pub fn to_file(&self, model: Option<String>) -> DrawingDocument {
        DrawingDocument {
            drawing: (**self.drawing()).clone(),
            seed: self.seed.0,
            model,
            person: self.person,
            look: self.look.clone(),
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
        document.saved_as(Path::new("/d/a.ora"), document.to_file(None));
        assert!(!document.has_unsaved_changes());
        assert_eq!(document.path(), Some(Path::new("/d/a.ora")));
    }

    #[test]
    fn the_person_and_the_look_are_part_of_what_a_file_holds() {
        let mut document = Document::default();
        assert!(document.set_person(Some(12)));
        assert!(document.has_unsaved_changes(), "a person chosen is a change");
        document.saved_as(Path::new("/d/a.ora"), document.to_file(None));
        assert!(!document.set_person(Some(12)), "the same person again changes nothing");
        let look = LookPhoto::new(&image::RgbImage::new(8, 6));
        assert!(document.set_look(Some(look.clone())));
        assert!(document.has_unsaved_changes());
        document.saved_as(Path::new("/d/a.ora"), document.to_file(None));
        assert!(document.set_look_in_use(false), "putting the look aside is a change");
        assert!(document.has_unsaved_changes());
        assert!(!document.set_look_in_use(false));
        let file = document.to_file(None);
        assert_eq!((file.person, file.look.map(|look| look.in_use)), (Some(12), Some(false)));

        // Opening a file takes its person and look; a file without them clears both.
        let mut opened = Document::default();
        opened.open(document.to_file(None), Some(PathBuf::from("/d/b.ora")));
        assert_eq!((opened.person(), opened.look().map(|l| l.in_use)), (Some(12), Some(false)));
        assert!(!opened.has_unsaved_changes());
        opened.open(DrawingDocument::default(), Some(PathBuf::from("/d/c.ora")));
        assert!(opened.person().is_none() && opened.look().is_none());
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
            ..DrawingDocument::default()
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

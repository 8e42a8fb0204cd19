//! The look photo (issue 26): a photo whose face the face takes (its skin, eyes and hair on the
//! drawing's geometry). The document keeps the photo (a layer of the `.ora`); the worker finds
//! and aligns its face ([`LiveFace::read_look`]); this holds what was read, and who the face is.

use std::sync::Arc;

use super::document::Document;
use super::live::{LiveFace, Person};
use crate::engine::Look;
use crate::sketch::LookPhoto;

/// The look photo being read, and what to do with it once read.
struct Reading {
    id: u64,
    /// A photo the user just chose (it joins the document once its face is found), and its
    /// name, or `None`: the document's own look, read again (opened, restored).
    new_photo: Option<(LookPhoto, String)>,
}

#[derive(Default)]
pub struct LookState {
    /// The document's look photo, read; `None` while it is read or when there is none.
    read: Option<Arc<Look>>,
    reading: Option<Reading>,
}

impl LookState {
    /// Who the face is: the look when the document's is in use and read, and the person pinned.
    pub fn person(&self, document: &Document) -> Person {
        let in_use = document.look().is_some_and(|look| look.in_use);
        Person {
            look: self.read.clone().filter(|_| in_use),
            pin: document.person().and_then(|person| usize::try_from(person).ok()),
        }
    }

    /// A photo is being read.
    pub fn is_reading(&self) -> bool {
        self.reading.is_some()
    }

    /// Read `photo` (named `name` in messages) as the new look; it joins the document once its
    /// face is found, and the look before stays until then.
    pub fn choose(&mut self, live: &mut LiveFace, photo: LookPhoto, name: String) {
        let id = live.read_look(photo.clone());
        self.reading = Some(Reading { id, new_photo: Some((photo, name)) });
    }

    /// The document changed as a whole (opened, restored): read its look photo, if it has one.
    pub fn document_opened(&mut self, live: &mut LiveFace, document: &Document) {
        self.read = None;
        self.reading = None;
        if let Some(look) = document.look() {
            let id = live.read_look(look.clone());
            self.reading = Some(Reading { id, new_photo: None });
        }
    }

    /// The look is removed from the document.
    pub fn removed(&mut self) {
        self.read = None;
        self.reading = None;
    }

    /// Takes the worker's answers; returns the messages for the status line (text, is error).
    pub fn poll(&mut self, live: &mut LiveFace, document: &mut Document) -> Vec<(String, bool)> {
        let mut messages = Vec::new();
        for (id, result) in live.take_looks() {
            let Some(reading) = self.reading.take_if(|reading| reading.id == id) else {
                continue; // a photo since replaced
            };
            match (result, reading.new_photo) {
                (Ok(look), Some((photo, name))) => {
                    document.set_look(Some(photo));
                    self.read = Some(look);
                    messages.push((format!("The face now has the look of {name}. Remove the look to go back to the bank's people."), false));
                }
                (Ok(look), None) => self.read = Some(look),
                (Err(error), Some((_, name))) => {
                    messages.push((format!("{name} cannot be the look: {error}"), true));
                }
                (Err(error), None) => {
                    messages.push((format!("The drawing's look photo is kept, but the face cannot use it: {error}"), true));
                }
            }
        }
        messages
    }
}

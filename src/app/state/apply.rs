//! The commands applied after the frame, and the events of the canvas and the file jobs:
//! everything that changes the app's parts happens here.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use super::SketchApp;
use crate::app::canvas::CanvasEvent;
use crate::app::commands::Command;
use crate::app::files::{DIALOG_FAILED_WITHIN, FileEvent, Opened, Purpose, free_file_name};
use crate::app::settings::SIZE_STEP;
use crate::sketch::{Drawing, Tool};

impl SketchApp {
    pub(super) fn canvas_event(&mut self, event: CanvasEvent) {
        match event {
            CanvasEvent::Started => self.faces_at_stroke_start = self.live.faces_shown(),
            CanvasEvent::Finished { stroke, lasted } => {
                let seconds = lasted.as_secs_f32();
                if seconds > 0.25 {
                    let faces = self.live.faces_shown() - self.faces_at_stroke_start;
                    self.live_rate = Some(faces as f32 / seconds);
                }
                self.document
                    .record(self.document.drawing().with_stroke(stroke));
            }
        }
    }

    /// End the stroke being drawn before a command that changes or saves the drawing.
    fn finish_stroke(&mut self) {
        if let Some(event) = self.canvas.finish() {
            self.canvas_event(event);
        }
    }

    /// After each finished change, the document goes to the autosave thread.
    pub(super) fn autosave_if_changed(&mut self) {
        let revision = self.document.revision();
        if revision == self.autosaved_revision || self.canvas.current_stroke().is_some() {
            return;
        }
        if let Some(autosave) = &self.autosave {
            autosave.save(self.document.to_file(self.model_name()));
        }
        self.autosaved_revision = revision;
    }

    pub(super) fn poll_files(&mut self) {
        while let Some(event) = self.files.try_recv() {
            match event {
                FileEvent::Picked {
                    purpose,
                    path: None,
                    open_for,
                } => {
                    if open_for < DIALOG_FAILED_WITHIN {
                        self.dialog_failed(purpose);
                    } else if purpose == Purpose::SaveDrawing {
                        self.closing.save_abandoned(); // the save was cancelled
                    }
                }
                FileEvent::Picked {
                    purpose,
                    path: Some(path),
                    ..
                } => self.commands.push(match purpose {
                    Purpose::Open => Command::OpenFile(path),
                    Purpose::SaveDrawing => Command::SaveDrawingTo(path),
                    Purpose::SaveFace => Command::SaveFaceTo(path),
                    Purpose::SaveSketch => Command::SaveSketchTo(path),
                    Purpose::OpenModel => Command::LoadModel(path),
                    Purpose::OpenLook => Command::LookFile(path),
                }),
                FileEvent::Loaded { path, result } => self.opened(path, result),
                FileEvent::LookLoaded { path, result } => match result {
                    Ok(photo) => {
                        self.remember_folder(&path);
                        let name = path.file_name().map_or_else(|| path.display().to_string(), |n| n.to_string_lossy().into_owned());
                        self.message(format!("Looking for the face in {name}…"), false);
                        self.look.choose(&mut self.live, photo, name);
                    }
                    Err(error) => self.message(format!("Could not open the look photo {}: {error}", path.display()), true),
                },
                FileEvent::Saved {
                    what,
                    path,
                    result: Ok(()),
                    drawing,
                } => {
                    self.remember_folder(&path);
                    if let Some(saved) = drawing {
                        self.document.saved_as(&path, *saved);
                        self.settings.add_recent(&path);
                    }
                    self.message(format!("Saved the {what} to {}", path.display()), false);
                    if what == "drawing" && self.closing.is_saving() {
                        self.closing.close_now(&self.ctx);
                    }
                }
                FileEvent::Saved {
                    what,
                    path,
                    result: Err(error),
                    ..
                } => {
                    self.message(
                        format!("Could not save the {what} to {}: {error}", path.display()),
                        true,
                    );
                    if what == "drawing" {
                        self.closing.save_abandoned(); // not saved
                    }
                }
                FileEvent::Crashed { what, error } => {
                    self.message(format!("Something went wrong ({what}): {error}"), true);
                    self.closing.save_abandoned();
                }
            }
        }
    }

    fn opened(&mut self, path: PathBuf, result: Result<Opened, String>) {
        match result {
            Ok(Opened::Sketch { page, from_photo }) => {
                self.finish_stroke();
                self.remember_folder(&path);
                self.document.record(Drawing::with_background(page));
                self.live.new_drawing();
                self.message(
                    match from_photo {
                        true => format!(
                            "Opened the photo {} as a sketch (its edges, as the models were taught): draw over it, and erase what you do not want",
                            path.display()
                        ),
                        false => format!("Opened {}", path.display()),
                    },
                    false,
                );
            }
            Ok(Opened::Drawing(opened)) => {
                self.finish_stroke();
                self.remember_folder(&path);
                self.settings.add_recent(&path);
                self.document.open(opened, Some(path.clone()));
                self.live.new_drawing();
                self.look.document_opened(&mut self.live, &self.document);
                self.message(format!("Opened {}", path.display()), false);
            }
            Err(error) => {
                self.message(format!("Could not open {}: {error}", path.display()), true);
            }
        }
    }

    /// Why a look photo cannot be used now, if it cannot.
    fn why_no_look(&self) -> Option<String> {
        match self.settings.photographic {
            false => Some("A look photo needs photographic faces: turn on Faces → Photographic first".to_owned()),
            true => None,
        }
    }

    /// No dialog could be shown (no xdg-desktop-portal and no zenity): say so, and save into
    /// the last folder (or the home folder) under a fresh name rather than not at all.
    fn dialog_failed(&mut self, purpose: Purpose) {
        let folder = self
            .settings
            .last_folder
            .clone()
            .filter(|f| f.is_dir())
            .or_else(|| std::env::var_os("HOME").map(PathBuf::from))
            .unwrap_or_else(|| PathBuf::from("."));
        match purpose {
            Purpose::Open => self.message(
                "No file dialog could be shown (it needs xdg-desktop-portal or zenity): \
                 drop the file onto the window, or give it on the command line.",
                true,
            ),
            Purpose::SaveDrawing => {
                let path = free_file_name(&folder, "drawing", "ora");
                self.commands.push(Command::SaveDrawingTo(path));
            }
            Purpose::SaveFace => {
                let path = free_file_name(&folder, "face", "png");
                self.commands.push(Command::SaveFaceTo(path));
            }
            Purpose::SaveSketch => {
                let path = free_file_name(&folder, "sketch", "png");
                self.commands.push(Command::SaveSketchTo(path));
            }
            Purpose::OpenModel => self.message(
                "No file dialog could be shown (it needs xdg-desktop-portal or zenity): \
                 give the model on the command line (--model FILE).",
                true,
            ),
            Purpose::OpenLook => self.message(
                "No file dialog could be shown (it needs xdg-desktop-portal or zenity): \
                 drop the photo onto the face.",
                true,
            ),
        }
    }

    fn remember_folder(&mut self, path: &Path) {
        // Absolute, so that a file given relative to the start directory still counts.
        let path = std::path::absolute(path).unwrap_or_else(|_| path.to_path_buf());
        if let Some(folder) = path.parent() {
            self.settings.last_folder = Some(folder.to_path_buf());
        }
    }

    fn dialog(&mut self, purpose: Purpose) {
        if !self
            .files
            .dialog(&self.ctx, purpose, self.settings.last_folder.clone())
        {
            self.message("A file dialog is already open.", false);
        }
    }

    fn record(&mut self, drawing: Drawing) {
        self.finish_stroke();
        self.document.record(drawing);
    }

    fn select_tool(&mut self, tool: Tool) {
        match self.live.model().why_no_hints() {
            Some(why) if tool == Tool::Colour => {
                self.message(format!("No colour tool: {why}."), false)
            }
            _ => self.settings.tool = tool,
        }
    }

    pub(super) fn apply(&mut self, command: Command) {
        match command {
            Command::Undo => {
                self.finish_stroke();
                self.document.undo();
            }
            Command::Redo => {
                self.finish_stroke();
                self.document.redo();
            }
            // Clear takes the opened sketch and the colours too: a blank page, undoable.
            Command::Clear => self.record(self.document.drawing().cleared(false)),
            Command::ClearColours => self.record(self.document.drawing().without_colours()),
            Command::SelectTool(tool) => self.select_tool(tool),
            Command::SizeUp => self.settings.set_size(self.settings.size() * SIZE_STEP),
            Command::SizeDown => self.settings.set_size(self.settings.size() / SIZE_STEP),
            Command::SetSize(size) => self.settings.set_size(size),
            Command::SetColour(colour) => {
                self.settings.colour = colour;
                self.select_tool(Tool::Colour);
            }
            Command::ToggleColours => self.settings.show_colours = !self.settings.show_colours,
            Command::Open => self.dialog(Purpose::Open),
            Command::OpenFile(path) => self.files.load(&self.ctx, path),
            Command::SaveDrawing => self.dialog(Purpose::SaveDrawing),
            Command::SaveDrawingTo(path) => {
                self.finish_stroke();
                let document = self.document.to_file(self.model_name());
                let face = self.live.face().cloned();
                self.files.save_drawing(&self.ctx, document, face, path);
            }
            Command::SaveFace => {
                if self.live.face().is_none() {
                    self.message("There is no face to save yet: draw something first.", true);
                } else {
                    self.dialog(Purpose::SaveFace);
                }
            }
            Command::SaveFaceTo(path) => match self.live.face() {
                Some(face) => {
                    let face = face.clone();
                    self.files
                        .save_face(&self.ctx, face, self.settings.face_save_size, path)
                }
                None => self.message("There is no face to save yet: draw something first.", true),
            },
            Command::SetFaceSaveSize(size) => self.settings.face_save_size = size,
            Command::SaveSketch => self.dialog(Purpose::SaveSketch),
            Command::SaveSketchTo(path) => {
                self.finish_stroke();
                let drawing = Arc::clone(self.document.drawing());
                self.files.save_sketch(&self.ctx, drawing, path);
            }
            Command::ToggleGuide => {
                if self.guide_problem.is_none() {
                    self.settings.guide = !self.settings.guide;
                }
            }
            Command::NewFace => match self.live.model().why_no_variations() {
                Some(why) => self.message(format!("No other faces: {why}."), false),
                None => {
                    let seed = self.seeds.next_seed();
                    self.document.set_seed(seed);
                }
            },
            Command::PreviousFace => {
                if !self.document.previous_seed() {
                    self.message("There is no face before this one.", false);
                }
            }
            Command::AdoptSeed(seed) => {
                let old = self.document.seed();
                // A person of the strip (face pipeline v3) is kept from now on, and the face
                // takes them rather than the look photo (which stays, one click from back).
                let person = self.live.strip_person(self.document.drawing(), seed);
                if person.is_some() {
                    self.document.set_person(person.map(|p| p as u64));
                    if self.document.set_look_in_use(false) {
                        self.message("The look photo is set aside (tick Look to use it again)", false);
                    }
                }
                if self.document.set_seed(seed) || person.is_some() {
                    let person = self.look.person(&self.document);
                    self.live.adopt(self.document.drawing(), seed, old, &person);
                }
            }
            Command::OtherVariations => self.live.other_variations(&mut self.seeds),
            Command::Unpin => {
                self.document.set_person(None);
            }
            Command::ChooseLook => {
                if let Some(why) = self.why_no_look() {
                    self.message(why, true);
                } else {
                    self.dialog(Purpose::OpenLook);
                }
            }
            Command::LookFile(path) => match self.why_no_look() {
                Some(why) => self.message(why, true),
                None => self.files.load_look(&self.ctx, path),
            },
            Command::UseLook(in_use) => {
                self.document.set_look_in_use(in_use);
            }
            Command::RemoveLook => {
                if self.document.set_look(None) {
                    self.look.removed();
                    let undo = "the look photo is out of the drawing (open it again to bring it back)";
                    self.message(format!("Removed the look: {undo}"), false);
                }
            }
            Command::SetPhotographic(on) => {
                if self.settings.photographic != on {
                    self.settings.photographic = on;
                    self.live.set_pipeline(on.then(|| self.pipeline.clone()));
                    self.message(
                        match on {
                            true => "Photographic faces: loading face pipeline v3…",
                            false => "Generated faces: the v2 generator paints the faces",
                        },
                        false,
                    );
                }
            }
            Command::CloseSaving => {
                self.closing.save();
                match self.document.path().map(Path::to_path_buf) {
                    Some(path) => self.apply(Command::SaveDrawingTo(path)),
                    None => self.dialog(Purpose::SaveDrawing),
                }
            }
            Command::ChooseModel => self.dialog(Purpose::OpenModel),
            Command::LoadModel(path) => {
                self.message(format!("Loading the model {}…", path.display()), false);
                self.live.load_model(path);
            }
            Command::RetryModel => {
                let path = self.live.model_path().to_path_buf();
                self.apply(Command::LoadModel(path));
            }
            Command::CloseDiscarding => self.closing.close_now(&self.ctx),
            Command::CloseCancelled => self.closing.cancel(),
        }
    }
}

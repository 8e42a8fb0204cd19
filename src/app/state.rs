//! The app: a thin composition of the parts that own their state (the document, the canvas,
//! the live face, the file jobs, the autosave, the messages, the closing question), built here
//! and looked at through the methods below. The frame (`ui_*`) is drawn in `frame`; the
//! commands it asks for are applied after it, in `apply`.

mod apply;
mod frame;

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use eframe::egui::{self, Ui};
use image::RgbImage;

use super::autosave::Autosave;
use super::canvas::Canvas;
use super::closing::Closing;
use super::commands::{self, Command};
use super::document::Document;
use super::files::Files;
use super::layout::Layout;
use super::live::{LiveFace, ModelStatus, SeedSource, model_name};
use super::look::LookState;
use super::messages::{Message, Messages};
use super::options::{AppOptions, load_guide};
use super::settings::{SETTINGS_FILE, Settings};
use crate::engine::{PipelineModels, Seed};
use crate::error_chain;
use crate::sketch::{self, Drawing, History, OpenedOra, Stroke};

pub struct SketchApp {
    ctx: egui::Context,
    settings: Settings,
    /// `settings.json` in the data folder (`None` without one: the settings go to eframe's
    /// storage only).
    settings_path: Option<PathBuf>,
    document: Document,
    canvas: Canvas,
    live: LiveFace,
    /// Face pipeline v3's files, for when the settings turn photographic faces on.
    pipeline: PipelineModels,
    look: LookState,
    seeds: SeedSource,
    files: Files,
    autosave: Option<Autosave>,
    autosaved_revision: u64,
    closing: Closing,
    guide_problem: Option<String>,
    /// Faces shown when the stroke being drawn began, to measure the live update rate.
    faces_at_stroke_start: u64,
    live_rate: Option<f32>,
    commands: Vec<Command>,
    messages: Messages,
    layout: Layout,
}

impl SketchApp {
    /// Build the app: the worker starts loading the model, the autosave of a session that did
    /// not end normally is restored, and the file to open is queued.
    pub fn new(ctx: &egui::Context, options: AppOptions) -> Self {
        let AppOptions {
            model,
            pipeline,
            engine,
            initial_file,
            settings,
            guide,
            data_dir,
            seed_start,
        } = options;
        let (guide_image, guide_problem) = load_guide(guide.as_deref());
        let settings_path = data_dir.as_ref().map(|dir| dir.join(SETTINGS_FILE));
        let (stored, settings_problem) = settings_path
            .as_deref()
            .map_or((None, None), Settings::load);
        let mut settings = stored.unwrap_or(settings).sanitized();
        if guide_image.is_none() {
            settings.guide = false;
        }
        let mut seeds = SeedSource::new(seed_start);
        let notify_ctx = ctx.clone();
        let photographic = settings.photographic;
        let mut app = Self {
            ctx: ctx.clone(),
            settings,
            settings_path,
            document: Document::default(),
            canvas: Canvas::new(ctx, guide_image),
            live: LiveFace::new(ctx, model, photographic.then(|| pipeline.clone()), engine, &mut seeds),
            pipeline,
            look: LookState::default(),
            seeds,
            files: Files::default(),
            autosave: data_dir
                .map(|dir| Autosave::start(&dir, move || notify_ctx.request_repaint())),
            autosaved_revision: 0,
            closing: Closing::default(),
            guide_problem,
            faces_at_stroke_start: 0,
            live_rate: None,
            commands: Vec::new(),
            messages: Messages::default(),
            layout: Layout::NOTHING,
        };
        if let Some(problem) = settings_problem {
            app.message(problem, true);
        }
        app.restore_autosave();
        if let Some(path) = initial_file {
            app.commands.push(Command::OpenFile(path));
        }
        app
    }

    /// An autosave left behind is a session that did not end normally: open it (undoably).
    fn restore_autosave(&mut self) {
        let Some(path) = self.autosave.as_ref().map(|a| a.path().to_path_buf()) else {
            return;
        };
        if !path.exists() {
            return;
        }
        match sketch::load_ora(&path) {
            Ok(OpenedOra::Drawing(restored)) if !restored.drawing.is_blank() || restored.look.is_some() => {
                self.document.open(restored, None);
                self.live.new_drawing();
                self.look.document_opened(&mut self.live, &self.document);
                self.autosaved_revision = self.document.revision();
                let undo = commands::with_shortcut(&self.ctx, "Undo", &Command::Undo);
                self.message(
                    format!(
                        "Restored the drawing of the last session, which did not end normally. {undo} puts the blank page back."
                    ),
                    false,
                );
            }
            Ok(_) => {}
            Err(error) => {
                // Kept aside, so that it is neither lost nor tried again at every start.
                let aside = path.with_extension("ora.bak");
                let kept = std::fs::rename(&path, &aside).is_ok();
                self.message(
                    format!(
                        "The autosave of the last session could not be read{}: {}",
                        if kept {
                            format!(" (kept as {})", aside.display())
                        } else {
                            String::new()
                        },
                        error_chain(&error)
                    ),
                    true,
                );
            }
        }
    }

    // ----- what tests and the shell may look at -----

    pub fn drawing(&self) -> &Arc<Drawing> {
        self.document.drawing()
    }

    pub fn history(&self) -> &History {
        self.document.history()
    }

    pub fn settings(&self) -> &Settings {
        &self.settings
    }

    pub fn model_status(&self) -> &ModelStatus {
        self.live.model()
    }

    /// The model file in use (or being loaded, or that failed).
    pub fn model_path(&self) -> &Path {
        self.live.model_path()
    }

    /// Why the loaded model could not paint the newest drawing, if it could not.
    pub fn run_failure(&self) -> Option<&str> {
        self.live.run_failure()
    }

    /// The face on screen, at the model's resolution.
    pub fn face(&self) -> Option<&RgbImage> {
        self.live.face()
    }

    pub fn has_face_texture(&self) -> bool {
        self.live.face().is_some()
    }

    /// Id of the drawing state whose face is shown (0 = none yet).
    pub fn shown_id(&self) -> u64 {
        self.live.shown_id()
    }

    /// Id of the newest drawing state sent to the worker.
    pub fn submitted_id(&self) -> u64 {
        self.live.submitted_id()
    }

    /// The stroke being drawn, if any.
    pub fn current_stroke(&self) -> Option<&Stroke> {
        self.canvas.current_stroke()
    }

    /// The face's variation seed.
    pub fn seed(&self) -> Seed {
        self.document.seed()
    }

    /// The seeds "Previous face" goes back through, the newest last.
    pub fn previous_seeds(&self) -> &[Seed] {
        self.document.previous_seeds()
    }

    /// The strip's seeds, and their faces once they are computed for the current drawing.
    pub fn variations(&self) -> (&[Seed], Option<&[crate::engine::MadeFace]>) {
        self.live.variations(self.document.drawing())
    }

    /// The person chosen from the strip (a bank face), kept while drawing.
    pub fn person(&self) -> Option<u64> {
        self.document.person()
    }

    /// The document's look photo (`in_use`: the face has its look).
    pub fn look_photo(&self) -> Option<&sketch::LookPhoto> {
        self.document.look()
    }

    /// The face takes the look photo's face now (it is in use and read).
    pub fn has_look_face(&self) -> bool {
        self.look.person(&self.document).look.is_some()
    }

    /// The face on screen: who painted it and who it is.
    pub fn made_face(&self) -> Option<&crate::engine::MadeFace> {
        self.live.made_face()
    }

    /// Whether closing now would lose changes.
    pub fn has_unsaved_changes(&self) -> bool {
        self.document.has_unsaved_changes()
    }

    /// The `.ora` file of the drawing, once opened or saved.
    pub fn document_path(&self) -> Option<&Path> {
        self.document.path()
    }

    /// The "save changes?" question is shown.
    pub fn is_asking_to_save(&self) -> bool {
        self.closing.is_asking()
    }

    /// Where the autosave is written (`None` without a data folder).
    pub fn autosave_path(&self) -> Option<&Path> {
        self.autosave.as_ref().map(Autosave::path)
    }

    /// True while a generation, a file job or a dialog has not answered.
    pub fn is_busy(&self) -> bool {
        self.live.is_generating() || self.files.in_flight() > 0 || !self.commands.is_empty() || self.look.is_reading()
    }

    pub fn messages(&self) -> &[Message] {
        self.messages.all()
    }

    /// Faces per second shown during the last stroke that lasted over a quarter second.
    pub fn live_rate(&self) -> Option<f32> {
        self.live_rate
    }

    pub fn last_generation_time(&self) -> Option<Duration> {
        self.live.last_elapsed()
    }

    pub fn layout(&self) -> Layout {
        self.layout
    }

    pub fn guide_available(&self) -> bool {
        self.guide_problem.is_none()
    }

    /// Queue a command; it is applied at the end of the next frame.
    pub fn push_command(&mut self, command: Command) {
        self.commands.push(command);
        self.ctx.request_repaint();
    }

    // ----- what the frame and the commands share -----

    /// A line for the status bar; the newest is shown.
    pub(crate) fn message(&mut self, text: impl Into<String>, is_error: bool) {
        self.messages.push(text, is_error);
    }

    /// Unsaved changes, the stroke being drawn included.
    fn has_unsaved_changes_now(&self) -> bool {
        self.document.has_unsaved_changes() || self.canvas.current_stroke().is_some()
    }

    fn model_name(&self) -> Option<String> {
        self.live.model().info().map(model_name)
    }
}

impl eframe::App for SketchApp {
    fn ui(&mut self, ui: &mut Ui, _frame: &mut eframe::Frame) {
        self.frame(ui);
    }

    /// The settings: to `settings.json` (atomically) and to eframe's storage, which a start
    /// without the file falls back to.
    fn save(&mut self, storage: &mut dyn eframe::Storage) {
        eframe::set_value(storage, eframe::APP_KEY, &self.settings);
        if let Some(path) = &self.settings_path
            && let Err(e) = self.settings.save(path)
        {
            let text = format!("Could not save the settings to {}: {e}", path.display());
            self.message(text, true);
        }
    }

    /// A clean exit (the drawing saved, discarded or unchanged): the autosave goes. Without
    /// that (the window closed by other means with changes unsaved), it stays for next time.
    fn on_exit(&mut self) {
        let clean = self.closing.is_allowed() || !self.has_unsaved_changes_now();
        if clean && let Some(autosave) = &self.autosave {
            autosave.remove();
        }
    }
}

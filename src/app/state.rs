//! The app: a thin composition of the parts that own their state (the document, the canvas,
//! the live face, the file jobs, the autosave), the frame (`ui_*`), and the commands that change
//! them, applied after the frame is drawn.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use eframe::egui::{self, ColorImage, Rect, Ui, Vec2};
use image::RgbImage;

use super::autosave::Autosave;
use super::canvas::{Canvas, CanvasEvent, guide_image};
use super::commands::{self, Command};
use super::document::Document;
use super::files::{DIALOG_FAILED_WITHIN, FileEvent, Files, Opened, Purpose, free_file_name};
use super::live::{LiveFace, SeedSource, VARIATIONS, model_name};
use super::settings::{SETTINGS_FILE, SIZE_STEP, Settings};
use super::toolbar::{self, StatusView, ToolbarView};
use crate::engine::{self, Device, EngineOptions, Seed};
use crate::error_chain;
use crate::sketch::{self, Drawing, History, OpenedOra, Stroke, Tool};

pub use super::live::ModelStatus;

/// Messages kept for the status line.
const MESSAGES_KEPT: usize = 50;
/// Gap between the canvas and the face, and above the variations strip, in points.
const GAP: f32 = 16.0;

/// How the app is started. Everything has a sensible default; tests change what they need.
pub struct AppOptions {
    /// The ONNX model.
    pub model: PathBuf,
    pub engine: EngineOptions,
    /// A drawing or sketch file to open at start (the command-line argument).
    pub initial_file: Option<PathBuf>,
    /// Settings restored from the last run.
    pub settings: Settings,
    /// The drawing guide image (`assets/guide.png`); `None` disables the guide.
    pub guide: Option<PathBuf>,
    /// Where the autosave lives (`~/.local/share/sketch2face` for the app); `None`: no autosave.
    pub data_dir: Option<PathBuf>,
    /// Where the random variation seeds start (a different value each run for the app).
    pub seed_start: u64,
}

impl Default for AppOptions {
    fn default() -> Self {
        Self {
            model: engine::default_model_path(),
            engine: EngineOptions {
                device: Device::Auto,
                intra_threads: 0,
            },
            initial_file: None,
            settings: Settings::default(),
            guide: find_guide(),
            data_dir: None,
            seed_start: SeedSource::random_start(),
        }
    }
}

/// `assets/guide.png` beside the executable, then in the project.
pub fn find_guide() -> Option<PathBuf> {
    let beside_exe = std::env::current_exe()
        .ok()
        .and_then(|exe| exe.parent().map(|d| d.join("assets/guide.png")));
    let project = Path::new(env!("CARGO_MANIFEST_DIR")).join("assets/guide.png");
    beside_exe
        .into_iter()
        .chain([project])
        .find(|p| p.is_file())
}

/// A line for the status bar.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Message {
    pub text: String,
    pub is_error: bool,
}

/// Where things were drawn in the last frame (for tests and snapshot masks).
#[derive(Clone, Copy, Debug)]
pub struct Layout {
    pub canvas: Rect,
    pub face: Rect,
    /// The variations strip (`Rect::NOTHING` for a model without variations).
    pub strip: Rect,
    pub status: Rect,
}

/// Where closing the window with unsaved changes stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Closing {
    /// The save / discard / cancel question is shown.
    Asking,
    /// The drawing is being saved; the window closes when that worked.
    Saving,
    /// Saved or discarded: let the window close.
    Allowed,
}

pub struct SketchApp {
    ctx: egui::Context,
    settings: Settings,
    /// `settings.json` in the data folder (`None` without one: the settings go to eframe's
    /// storage only).
    settings_path: Option<PathBuf>,
    document: Document,
    canvas: Canvas,
    live: LiveFace,
    seeds: SeedSource,
    files: Files,
    autosave: Option<Autosave>,
    autosaved_revision: u64,
    closing: Option<Closing>,
    guide_problem: Option<String>,
    /// Faces shown when the stroke being drawn began, to measure the live update rate.
    faces_at_stroke_start: u64,
    live_rate: Option<f32>,
    commands: Vec<Command>,
    messages: Vec<Message>,
    layout: Layout,
}

impl SketchApp {
    /// Build the app: the worker starts loading the model, the autosave of a session that did
    /// not end normally is restored, and the file to open is queued.
    pub fn new(ctx: &egui::Context, options: AppOptions) -> Self {
        let AppOptions {
            model,
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
        let mut app = Self {
            ctx: ctx.clone(),
            settings,
            settings_path,
            document: Document::default(),
            canvas: Canvas::new(ctx, guide_image),
            live: LiveFace::new(ctx, model, engine, &mut seeds),
            seeds,
            files: Files::default(),
            autosave: data_dir
                .map(|dir| Autosave::start(&dir, move || notify_ctx.request_repaint())),
            autosaved_revision: 0,
            closing: None,
            guide_problem,
            faces_at_stroke_start: 0,
            live_rate: None,
            commands: Vec::new(),
            messages: Vec::new(),
            layout: Layout {
                canvas: Rect::NOTHING,
                face: Rect::NOTHING,
                strip: Rect::NOTHING,
                status: Rect::NOTHING,
            },
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
            Ok(OpenedOra::Drawing(restored)) if !restored.drawing.is_blank() => {
                self.document.open(restored, None);
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
    pub fn variations(&self) -> (&[Seed], Option<&[RgbImage]>) {
        self.live.variations(self.document.drawing())
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
        self.closing == Some(Closing::Asking)
    }

    /// Where the autosave is written (`None` without a data folder).
    pub fn autosave_path(&self) -> Option<&Path> {
        self.autosave.as_ref().map(Autosave::path)
    }

    /// True while a generation, a file job or a dialog has not answered.
    pub fn is_busy(&self) -> bool {
        self.live.is_generating() || self.files.in_flight() > 0 || !self.commands.is_empty()
    }

    pub fn messages(&self) -> &[Message] {
        &self.messages
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

    // ----- the frame -----

    pub(crate) fn frame(&mut self, ui: &mut Ui) {
        for (text, is_error) in self.live.poll() {
            self.message(text, is_error);
        }
        if self.settings.tool == Tool::Colour && self.live.model().why_no_hints().is_some() {
            self.settings.tool = Tool::Brush;
        }
        self.poll_files();
        while let Some(failure) = self.autosave.as_ref().and_then(Autosave::try_recv) {
            self.message(failure, true);
        }
        if self.closing != Some(Closing::Asking) {
            self.commands.extend(commands::consume_shortcuts(&self.ctx));
        }
        self.take_dropped_files();
        self.handle_close_request();

        let view = ToolbarView {
            settings: &self.settings,
            can_undo: self.document.history().can_undo(),
            can_redo: self.document.history().can_redo(),
            has_colours: self.document.drawing().has_colours(),
            has_face: self.live.face().is_some(),
            can_go_back: !self.document.previous_seeds().is_empty(),
            model: self.live.model(),
            guide_problem: self.guide_problem.as_deref(),
        };
        let mut asked = Vec::new();
        egui::Panel::top("toolbar").show(ui, |ui| {
            asked.extend(toolbar::ui_toolbar(ui, &view));
            // Always there (disabled for a model without hints), so the canvas never moves.
            ui.separator();
            asked.extend(toolbar::ui_colours(ui, &view));
        });
        let status = egui::Panel::bottom("status").show(ui, |ui| {
            toolbar::ui_status(
                ui,
                &StatusView {
                    model: self.live.model(),
                    last_elapsed: self.live.last_elapsed(),
                    live_rate: self.live_rate,
                    seed: self.document.seed(),
                    message: self.messages.last(),
                },
            )
        });
        self.commands.extend(asked);
        self.layout.status = status.response.rect;
        egui::CentralPanel::default().show(ui, |ui| self.ui_main(ui));
        if self.closing == Some(Closing::Asking) {
            self.ui_close_question();
        }

        let commands = std::mem::take(&mut self.commands);
        let applied = !commands.is_empty();
        for command in commands {
            self.apply(command);
        }
        self.live.update(
            self.document.drawing(),
            self.canvas.current_stroke(),
            self.document.seed(),
        );
        self.autosave_if_changed();
        if applied {
            self.ctx.request_repaint(); // show what the commands changed
        }
    }

    fn take_dropped_files(&mut self) {
        let dropped = self.ctx.input(|i| {
            i.raw
                .dropped_files
                .iter()
                .map(|f| f.path().to_path_buf())
                .collect::<Vec<_>>()
        });
        if let Some(path) = dropped.first() {
            if dropped.len() > 1 {
                self.message(
                    format!("{} files dropped: opening the first one", dropped.len()),
                    false,
                );
            }
            self.commands.push(Command::OpenFile(path.clone()));
        }
    }

    /// The window's close button: with unsaved changes, keep the window and ask.
    fn handle_close_request(&mut self) {
        if !self.ctx.input(|i| i.viewport().close_requested()) {
            return;
        }
        if self.closing == Some(Closing::Allowed) || !self.has_unsaved_changes_now() {
            return;
        }
        self.ctx
            .send_viewport_cmd(egui::ViewportCommand::CancelClose);
        self.closing = Some(Closing::Asking);
    }

    /// Unsaved changes, the stroke being drawn included.
    fn has_unsaved_changes_now(&self) -> bool {
        self.document.has_unsaved_changes() || self.canvas.current_stroke().is_some()
    }

    fn ui_close_question(&mut self) {
        let mut answer = None;
        let modal = egui::Modal::new(egui::Id::unique("save-before-closing")).show(&self.ctx, |ui| {
            ui.set_width(360.0);
            ui.heading("Save the drawing?");
            let name = self
                .document
                .path()
                .and_then(Path::file_name)
                .map_or_else(|| "The drawing".to_owned(), |n| n.to_string_lossy().into_owned());
            ui.label(format!("{name} has changes that are not saved. They are lost if you close without saving."));
            ui.add_space(8.0);
            ui.horizontal(|ui| {
                if ui.button("Save…").clicked() {
                    answer = Some(Command::CloseSaving);
                }
                if ui.button("Discard").on_hover_text("Close and lose the changes").clicked() {
                    answer = Some(Command::CloseDiscarding);
                }
                if ui.button("Cancel").on_hover_text("Keep drawing").clicked() {
                    answer = Some(Command::CloseCancelled);
                }
            });
        });
        if modal.should_close() && answer.is_none() {
            answer = Some(Command::CloseCancelled); // Escape or a click outside
        }
        self.commands.extend(answer);
    }

    fn ui_main(&mut self, ui: &mut Ui) {
        let available = ui.available_rect_before_wrap();
        let ppp = ui.pixels_per_point();
        let info = self.live.model().info();
        let strip = info.is_some_and(|info| info.z_dim > 0);
        // With the strip, a row of faces a quarter of the face's side sits under the face. The
        // row is kept while no model is loaded, so that the canvas does not move under the pen
        // when a model with variations arrives mid-stroke; only a model known to paint one face
        // per drawing gives it back.
        let strip_row = strip || info.is_none();
        let height_factor = if strip_row {
            1.0 + 1.0 / VARIATIONS as f32
        } else {
            1.0
        };
        let strip_gap = if strip_row { GAP } else { 0.0 };
        let side = ((available.width() - GAP) / 2.0)
            .min((available.height() - strip_gap) / height_factor)
            .max(16.0);
        let side = (side * ppp).floor() / ppp;
        let total = Vec2::new(2.0 * side + GAP, side * height_factor + strip_gap);
        let min = available.center() - total / 2.0;
        let min = egui::pos2((min.x * ppp).round() / ppp, (min.y * ppp).round() / ppp);
        let canvas = Rect::from_min_size(min, Vec2::splat(side));
        let face = Rect::from_min_size(min + Vec2::new(side + GAP, 0.0), Vec2::splat(side));
        let strip_rect = if strip {
            Rect::from_min_size(
                face.left_bottom() + Vec2::new(0.0, GAP),
                Vec2::new(side, side / VARIATIONS as f32),
            )
        } else {
            Rect::NOTHING
        };
        self.layout.canvas = canvas;
        self.layout.face = face;
        self.layout.strip = strip_rect;

        let events = self
            .canvas
            .ui(ui, canvas, self.document.drawing(), &self.settings);
        for event in events {
            self.canvas_event(event);
        }
        if let Some(command) = self.live.ui_face(ui, face) {
            self.commands.push(command);
        }
        if strip && let Some(seed) = self.live.ui_strip(ui, strip_rect, self.document.drawing()) {
            self.commands.push(Command::AdoptSeed(seed));
        }
    }

    // ----- state changes -----

    pub(crate) fn message(&mut self, text: impl Into<String>, is_error: bool) {
        self.messages.push(Message {
            text: text.into(),
            is_error,
        });
        if self.messages.len() > MESSAGES_KEPT {
            self.messages.remove(0);
        }
    }

    fn canvas_event(&mut self, event: CanvasEvent) {
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
    fn autosave_if_changed(&mut self) {
        let revision = self.document.revision();
        if revision == self.autosaved_revision || self.canvas.current_stroke().is_some() {
            return;
        }
        if let Some(autosave) = &self.autosave {
            autosave.save(self.document.to_file(self.model_name()));
        }
        self.autosaved_revision = revision;
    }

    fn model_name(&self) -> Option<String> {
        self.live.model().info().map(model_name)
    }

    fn poll_files(&mut self) {
        while let Some(event) = self.files.try_recv() {
            match event {
                FileEvent::Picked {
                    purpose,
                    path: None,
                    open_for,
                } => {
                    if open_for < DIALOG_FAILED_WITHIN {
                        self.dialog_failed(purpose);
                    } else if purpose == Purpose::SaveDrawing
                        && self.closing == Some(Closing::Saving)
                    {
                        self.closing = None; // the save was cancelled: keep the window
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
                }),
                FileEvent::Loaded { path, result } => self.opened(path, result),
                FileEvent::Saved {
                    what,
                    path,
                    result: Ok(()),
                    drawing,
                } => {
                    self.remember_folder(&path);
                    if let Some((drawing, seed)) = drawing {
                        self.document.saved_as(&path, drawing, Seed(seed));
                        self.settings.add_recent(&path);
                    }
                    self.message(format!("Saved the {what} to {}", path.display()), false);
                    if what == "drawing" && self.closing == Some(Closing::Saving) {
                        self.close_now();
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
                    if what == "drawing" && self.closing == Some(Closing::Saving) {
                        self.closing = None; // not saved: keep the window
                    }
                }
                FileEvent::Crashed { what, error } => {
                    self.message(format!("Something went wrong ({what}): {error}"), true);
                    self.closing = self.closing.filter(|c| *c != Closing::Saving);
                }
            }
        }
    }

    fn opened(&mut self, path: PathBuf, result: Result<Opened, String>) {
        match result {
            Ok(Opened::Sketch(background)) => {
                self.finish_stroke();
                self.remember_folder(&path);
                self.document.record(Drawing::with_background(background));
                self.message(format!("Opened {}", path.display()), false);
            }
            Ok(Opened::Drawing(opened)) => {
                self.finish_stroke();
                self.remember_folder(&path);
                self.settings.add_recent(&path);
                self.document.open(opened, Some(path.clone()));
                self.message(format!("Opened {}", path.display()), false);
            }
            Err(error) => {
                self.message(format!("Could not open {}: {error}", path.display()), true);
            }
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

    fn close_now(&mut self) {
        self.closing = Some(Closing::Allowed);
        self.ctx.send_viewport_cmd(egui::ViewportCommand::Close);
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

    fn apply(&mut self, command: Command) {
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
                if self.document.set_seed(seed) {
                    self.live.adopt(self.document.drawing(), seed, old);
                }
            }
            Command::OtherVariations => self.live.other_variations(&mut self.seeds),
            Command::CloseSaving => {
                self.closing = Some(Closing::Saving);
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
            Command::CloseDiscarding => self.close_now(),
            Command::CloseCancelled => self.closing = None,
        }
    }
}

/// The guide as a texture image, or why there is none.
fn load_guide(guide: Option<&Path>) -> (Option<ColorImage>, Option<String>) {
    match guide {
        None => (
            None,
            Some("No guide image: assets/guide.png was not found.".to_owned()),
        ),
        Some(path) => match image::open(path) {
            Ok(img) => (Some(guide_image(&img.to_luma8())), None),
            Err(e) => (
                None,
                Some(format!(
                    "The guide {} could not be read: {e}",
                    path.display()
                )),
            ),
        },
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
        let clean = self.closing == Some(Closing::Allowed) || !self.has_unsaved_changes_now();
        if clean && let Some(autosave) = &self.autosave {
            autosave.remove();
        }
    }
}

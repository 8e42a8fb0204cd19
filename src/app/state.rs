//! The app: its state, the frame (`ui_*`), and how commands, worker replies and file events
//! change it.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use eframe::egui::{
    self, Color32, ColorImage, Rect, RichText, TextureHandle, TextureOptions, Ui, Vec2,
};
use image::RgbImage;

use super::canvas::{RasterCache, ToolState, guide_image};
use super::commands::{self, Command, with_shortcut};
use super::files::{DIALOG_FAILED_WITHIN, FileEvent, Files, Purpose, free_file_name};
use super::settings::{FACE_SAVE_SIZES, SIZE_MAX, SIZE_MIN, SIZE_STEP, Settings};
use crate::engine::{self, Device, EngineOptions, ModelInfo, Provider};
use crate::sketch::{Drawing, History, Tool};
use crate::worker::{FromWorker, Worker};

/// Messages kept for the status line.
const MESSAGES_KEPT: usize = 50;
/// Gap between the canvas and the face, in points.
const GAP: f32 = 16.0;

/// How the app is started. Everything has a sensible default; tests change what they need.
pub struct AppOptions {
    /// The ONNX model.
    pub model: PathBuf,
    pub engine: EngineOptions,
    /// A sketch file to open at start (the command-line argument).
    pub initial_file: Option<PathBuf>,
    /// Settings restored from the last run.
    pub settings: Settings,
    /// The drawing guide image (`assets/guide.png`); `None` disables the guide.
    pub guide: Option<PathBuf>,
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

/// Where the model is.
#[derive(Clone, Debug)]
pub enum ModelStatus {
    Loading,
    Ready {
        info: ModelInfo,
        provider: Provider,
        load_time: Duration,
    },
    Failed(String),
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
    pub status: Rect,
}

pub struct SketchApp {
    pub(crate) settings: Settings,
    pub(crate) history: History,
    pub(crate) tool_state: ToolState,
    /// Latest pen pressure from `Event::Touch { force }` during this stroke.
    pub(crate) last_force: Option<f32>,

    // Set up on the first frame, when an egui context exists.
    started: bool,
    ctx: Option<egui::Context>,
    model_path: PathBuf,
    engine_options: Option<EngineOptions>,
    worker: Option<Worker>,
    model: ModelStatus,

    // Live generation.
    pub(crate) model_dirty: bool,
    model_cache: RasterCache,
    next_id: u64,
    answered_id: u64,
    shown_id: u64,
    face: Option<RgbImage>,
    face_texture: Option<TextureHandle>,
    last_elapsed: Option<Duration>,
    pub(crate) faces_shown: u64,
    pub(crate) live_rate: Option<f32>,

    // The canvas.
    pub(crate) canvas_dirty: bool,
    pub(crate) canvas_cache: RasterCache,
    pub(crate) canvas_texture: Option<TextureHandle>,
    pub(crate) canvas_px: u32,
    guide_image: Option<ColorImage>,
    pub(crate) guide_texture: Option<TextureHandle>,
    guide_problem: Option<String>,

    files: Files,
    commands: Vec<Command>,
    messages: Vec<Message>,
    layout: Layout,
}

impl SketchApp {
    /// Build the app. Needs no window: the worker and the textures start on the first frame.
    pub fn new(options: AppOptions) -> Self {
        let AppOptions {
            model,
            engine,
            initial_file,
            settings,
            guide,
        } = options;
        let (guide_image, guide_problem) = match guide {
            None => (
                None,
                Some("No guide image: assets/guide.png was not found.".to_owned()),
            ),
            Some(path) => match image::open(&path) {
                Ok(img) => (Some(guide_image(&img.to_luma8())), None),
                Err(e) => (
                    None,
                    Some(format!(
                        "The guide {} could not be read: {e}",
                        path.display()
                    )),
                ),
            },
        };
        let mut settings = settings.sanitized();
        if guide_image.is_none() {
            settings.guide = false;
        }
        let mut app = Self {
            settings,
            history: History::new(Drawing::default()),
            tool_state: ToolState::Idle,
            last_force: None,
            started: false,
            ctx: None,
            model_path: model,
            engine_options: Some(engine),
            worker: None,
            model: ModelStatus::Loading,
            model_dirty: true,
            model_cache: RasterCache::default(),
            next_id: 0,
            answered_id: 0,
            shown_id: 0,
            face: None,
            face_texture: None,
            last_elapsed: None,
            faces_shown: 0,
            live_rate: None,
            canvas_dirty: true,
            canvas_cache: RasterCache::default(),
            canvas_texture: None,
            canvas_px: 0,
            guide_image,
            guide_texture: None,
            guide_problem,
            files: Files::default(),
            commands: Vec::new(),
            messages: Vec::new(),
            layout: Layout {
                canvas: Rect::NOTHING,
                face: Rect::NOTHING,
                status: Rect::NOTHING,
            },
        };
        if let Some(path) = initial_file {
            app.commands.push(Command::OpenFile(path));
        }
        app
    }

    // ----- what tests and the shell may look at -----

    pub fn drawing(&self) -> &Arc<Drawing> {
        self.history.current()
    }

    pub fn history(&self) -> &History {
        &self.history
    }

    pub fn settings(&self) -> &Settings {
        &self.settings
    }

    pub fn model_status(&self) -> &ModelStatus {
        &self.model
    }

    /// The face on screen, at the model's resolution.
    pub fn face(&self) -> Option<&RgbImage> {
        self.face.as_ref()
    }

    pub fn has_face_texture(&self) -> bool {
        self.face_texture.is_some()
    }

    /// Id of the drawing state whose face is shown (0 = none yet).
    pub fn shown_id(&self) -> u64 {
        self.shown_id
    }

    /// Id of the newest drawing state sent to the worker.
    pub fn submitted_id(&self) -> u64 {
        self.next_id
    }

    /// True while a generation, a file job or a dialog has not answered.
    pub fn is_busy(&self) -> bool {
        let generating =
            self.worker.as_ref().is_some_and(Worker::is_running) && self.answered_id < self.next_id;
        generating || self.files.in_flight() > 0 || !self.commands.is_empty()
    }

    pub fn messages(&self) -> &[Message] {
        &self.messages
    }

    /// Faces per second shown during the last stroke that lasted over a quarter second.
    pub fn live_rate(&self) -> Option<f32> {
        self.live_rate
    }

    pub fn last_generation_time(&self) -> Option<Duration> {
        self.last_elapsed
    }

    pub fn layout(&self) -> Layout {
        self.layout
    }

    pub fn guide_available(&self) -> bool {
        self.guide_image.is_some()
    }

    /// Queue a command; it is applied at the end of the next frame.
    pub fn push_command(&mut self, command: Command) {
        self.commands.push(command);
        if let Some(ctx) = &self.ctx {
            ctx.request_repaint();
        }
    }

    // ----- the frame -----

    fn start(&mut self, ctx: &egui::Context) {
        self.started = true;
        self.ctx = Some(ctx.clone());
        if let Some(engine_options) = self.engine_options.take() {
            let notify_ctx = ctx.clone();
            self.worker = Some(Worker::spawn(
                self.model_path.clone(),
                engine_options,
                move || notify_ctx.request_repaint(),
            ));
        }
        if let Some(image) = self.guide_image.clone() {
            self.guide_texture = Some(ctx.load_texture("guide", image, TextureOptions::LINEAR));
        }
    }

    pub(crate) fn frame(&mut self, ui: &mut Ui) {
        let ctx = ui.ctx().clone();
        if !self.started {
            self.start(&ctx);
        }
        self.poll_worker(&ctx);
        self.poll_files();
        self.commands.extend(commands::consume_shortcuts(&ctx));
        let dropped = ctx.input(|i| {
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

        egui::Panel::top("toolbar").show(ui, |ui| self.ui_toolbar(ui));
        let status = egui::Panel::bottom("status").show(ui, |ui| self.ui_status(ui));
        self.layout.status = status.response.rect;
        egui::CentralPanel::default().show(ui, |ui| self.ui_main(ui));

        let commands = std::mem::take(&mut self.commands);
        let applied = !commands.is_empty();
        for command in commands {
            self.apply(&ctx, command);
        }
        self.submit_if_dirty();
        if applied {
            ctx.request_repaint(); // show what the commands changed
        }
    }

    fn ui_toolbar(&mut self, ui: &mut Ui) {
        let ctx = ui.ctx().clone();
        let tip = |text: &str, command: &Command| with_shortcut(&ctx, text, command);
        ui.horizontal_wrapped(|ui| {
            let brush = Command::SelectTool(Tool::Brush);
            let eraser = Command::SelectTool(Tool::Eraser);
            if ui.selectable_label(self.settings.tool == Tool::Brush, "Brush").on_hover_text(tip("Brush", &brush)).clicked() {
                self.commands.push(brush);
            }
            if ui.selectable_label(self.settings.tool == Tool::Eraser, "Eraser").on_hover_text(tip("Eraser", &eraser)).clicked() {
                self.commands.push(eraser);
            }
            let mut size = self.settings.size();
            let slider = egui::Slider::new(&mut size, SIZE_MIN..=SIZE_MAX)
                .logarithmic(true)
                .text("size")
                .custom_formatter(|v, _| format!("{:.1} px", v * 512.0))
                .custom_parser(|s| s.trim().trim_end_matches("px").trim().parse::<f64>().ok().map(|v| v / 512.0));
            let tooltip = format!(
                "Brush size, in pixels of a 512 px sketch ({} smaller, {} bigger)",
                ctx.format_shortcut(&commands::shortcut_for(&Command::SizeDown).expect("bound")),
                ctx.format_shortcut(&commands::shortcut_for(&Command::SizeUp).expect("bound")),
            );
            if ui.add(slider).on_hover_text(tooltip).changed() {
                self.settings.set_size(size);
            }
            ui.separator();
            let undo = ui.add_enabled(self.history.can_undo(), egui::Button::new("Undo"));
            if undo.on_hover_text(tip("Undo", &Command::Undo)).on_disabled_hover_text(tip("Undo", &Command::Undo)).clicked() {
                self.commands.push(Command::Undo);
            }
            let redo = ui.add_enabled(self.history.can_redo(), egui::Button::new("Redo"));
            if redo.on_hover_text(tip("Redo", &Command::Redo)).on_disabled_hover_text(tip("Redo", &Command::Redo)).clicked() {
                self.commands.push(Command::Redo);
            }
            if ui.button("Clear").on_hover_text(tip("Clear (can be undone)", &Command::Clear)).clicked() {
                self.commands.push(Command::Clear);
            }
            ui.separator();
            if ui.button("Open…").on_hover_text(tip("Open a sketch image", &Command::Open)).clicked() {
                self.commands.push(Command::Open);
            }
            let save_face = ui.add_enabled(self.face.is_some(), egui::Button::new("Save face…"));
            if save_face
                .on_hover_text(tip("Save the face as PNG or JPEG", &Command::SaveFace))
                .on_disabled_hover_text("No face yet: draw something first")
                .clicked()
            {
                self.commands.push(Command::SaveFace);
            }
            let model_res = self.model_resolution();
            let label = |size: u32| match (size, model_res) {
                (0, Some(res)) => format!("{res} px (model)"),
                (0, None) => "model size".to_owned(),
                (size, _) => format!("{size} px"),
            };
            egui::ComboBox::from_id_salt("face_size")
                .selected_text(label(self.settings.face_save_size))
                .width(110.0)
                .show_ui(ui, |ui| {
                    for size in FACE_SAVE_SIZES {
                        ui.selectable_value(&mut self.settings.face_save_size, size, label(size));
                    }
                })
                .response
                .on_hover_text("Size of a saved face (larger sizes are upscaled)");
            if ui.button("Save sketch…").on_hover_text(tip("Save the sketch as PNG", &Command::SaveSketch)).clicked() {
                self.commands.push(Command::SaveSketch);
            }
            ui.separator();
            let mut guide = self.settings.guide;
            let checkbox = ui.add_enabled(self.guide_image.is_some(), egui::Checkbox::new(&mut guide, "Guide"));
            let checkbox = checkbox.on_hover_text("Show a faint face under the canvas to help with proportions (never sent to the model)");
            let checkbox = match &self.guide_problem {
                Some(problem) => checkbox.on_disabled_hover_text(problem.as_str()),
                None => checkbox,
            };
            if checkbox.changed() {
                self.commands.push(Command::ToggleGuide);
            }
        });
    }

    fn ui_status(&mut self, ui: &mut Ui) {
        ui.horizontal(|ui| {
            match &self.model {
                ModelStatus::Loading => {
                    ui.label("Loading the model…");
                }
                ModelStatus::Failed(_) => {
                    ui.colored_label(ui.visuals().error_fg_color, "No model");
                }
                ModelStatus::Ready {
                    info,
                    provider,
                    load_time,
                } => {
                    let name = info.path.file_name().map_or_else(
                        || info.path.display().to_string(),
                        |n| n.to_string_lossy().into_owned(),
                    );
                    ui.label(format!("{name} · {} px", info.resolution))
                        .on_hover_text(format!(
                            "{}\nloaded in {} ms",
                            info.path.display(),
                            load_time.as_millis()
                        ));
                    ui.separator();
                    ui.label(provider.to_string())
                        .on_hover_text("Execution provider");
                    ui.separator();
                    match self.last_elapsed {
                        Some(elapsed) => ui.label(format!("{} ms", elapsed.as_millis())),
                        None => ui.label("– ms"),
                    }
                    .on_hover_text("Time of the last generation");
                    if let Some(rate) = self.live_rate {
                        ui.separator();
                        ui.label(format!("{rate:.1} faces/s"))
                            .on_hover_text("Face updates per second during the last stroke");
                    }
                }
            }
            if let Some(message) = self.messages.last() {
                ui.separator();
                let color = if message.is_error {
                    ui.visuals().error_fg_color
                } else {
                    ui.visuals().text_color()
                };
                ui.add(egui::Label::new(RichText::new(&message.text).color(color)).truncate())
                    .on_hover_text(&message.text);
            }
        });
    }

    fn ui_main(&mut self, ui: &mut Ui) {
        let available = ui.available_rect_before_wrap();
        let ppp = ui.pixels_per_point();
        let side = ((available.width() - GAP) / 2.0)
            .min(available.height())
            .max(16.0);
        let side = (side * ppp).floor() / ppp;
        let total = Vec2::new(2.0 * side + GAP, side);
        let min = available.center() - total / 2.0;
        let min = egui::pos2((min.x * ppp).round() / ppp, (min.y * ppp).round() / ppp);
        let canvas = Rect::from_min_size(min, Vec2::splat(side));
        let face = Rect::from_min_size(min + Vec2::new(side + GAP, 0.0), Vec2::splat(side));
        self.layout.canvas = canvas;
        self.layout.face = face;
        self.ui_canvas(ui, canvas);
        self.ui_face(ui, face);
    }

    fn ui_face(&mut self, ui: &mut Ui, rect: Rect) {
        let painter = ui.painter_at(rect);
        match &self.face_texture {
            Some(texture) => {
                painter.image(
                    texture.id(),
                    rect,
                    Rect::from_min_max(egui::Pos2::ZERO, egui::pos2(1.0, 1.0)),
                    Color32::WHITE,
                );
            }
            None => {
                painter.rect_filled(rect, 0.0, ui.visuals().extreme_bg_color);
                let (text, is_error) = match &self.model {
                    ModelStatus::Loading => ("Loading the model…".to_owned(), false),
                    ModelStatus::Failed(error) => (
                        format!(
                            "The model could not be loaded, so no face can be painted.\n\n{error}\n\nYour drawing is safe: you can keep drawing and save the sketch."
                        ),
                        true,
                    ),
                    ModelStatus::Ready { .. } => ("Draw a face on the left.".to_owned(), false),
                };
                let color = if is_error {
                    ui.visuals().error_fg_color
                } else {
                    ui.visuals().weak_text_color()
                };
                ui.put(
                    rect.shrink(24.0),
                    egui::Label::new(RichText::new(text).color(color)).wrap(),
                );
            }
        }
        ui.painter().rect_stroke(
            rect,
            0.0,
            ui.visuals().widgets.noninteractive.bg_stroke,
            egui::StrokeKind::Outside,
        );
    }

    // ----- state changes -----

    fn model_resolution(&self) -> Option<u32> {
        match &self.model {
            ModelStatus::Ready { info, .. } => Some(info.resolution),
            _ => None,
        }
    }

    pub(crate) fn message(&mut self, text: impl Into<String>, is_error: bool) {
        self.messages.push(Message {
            text: text.into(),
            is_error,
        });
        if self.messages.len() > MESSAGES_KEPT {
            self.messages.remove(0);
        }
    }

    /// Record a new drawing state (no-op if unchanged).
    pub(crate) fn record(&mut self, drawing: Drawing) {
        self.history.record(drawing);
        self.drawing_changed();
    }

    fn drawing_changed(&mut self) {
        self.canvas_dirty = true;
        self.model_dirty = true;
    }

    /// Rasterize the drawing (and the stroke being drawn) at the model's resolution and send it
    /// to the worker, which keeps only the newest.
    fn submit_if_dirty(&mut self) {
        if !self.model_dirty {
            return;
        }
        let (Some(worker), Some(resolution)) = (&self.worker, self.model_resolution()) else {
            return; // sent once the model is ready
        };
        let extra = match &self.tool_state {
            ToolState::Drawing { stroke, .. } if !stroke.points.is_empty() => Some(stroke),
            _ => None,
        };
        self.model_dirty = false;
        self.next_id += 1;
        let drawing = self.history.current();
        if extra.is_none() && drawing.is_blank() {
            // Blank paper: no face, and any answer still on its way is stale.
            self.shown_id = self.next_id;
            self.answered_id = self.next_id;
            self.face = None;
            self.face_texture = None;
            return;
        }
        let sketch = self.model_cache.render(drawing, extra, resolution);
        worker.submit(self.next_id, sketch);
    }

    fn poll_worker(&mut self, ctx: &egui::Context) {
        while let Some(reply) = self.worker.as_ref().and_then(Worker::try_recv) {
            match reply {
                FromWorker::Ready {
                    provider,
                    info,
                    load_time,
                } => {
                    self.model = ModelStatus::Ready {
                        info,
                        provider,
                        load_time,
                    };
                    self.model_dirty = true;
                }
                FromWorker::LoadFailed { error } => {
                    self.message(format!("The model could not be loaded: {error}"), true);
                    self.model = ModelStatus::Failed(error);
                }
                FromWorker::Generated { id, face, elapsed } => {
                    self.answered_id = self.answered_id.max(id);
                    if id <= self.shown_id {
                        continue; // older than what is on screen
                    }
                    self.shown_id = id;
                    self.last_elapsed = Some(elapsed);
                    self.faces_shown += 1;
                    let image = ColorImage::from_rgb(
                        [face.width() as usize, face.height() as usize],
                        face.as_raw(),
                    );
                    match &mut self.face_texture {
                        Some(texture) => texture.set(image, TextureOptions::LINEAR),
                        None => {
                            self.face_texture =
                                Some(ctx.load_texture("face", image, TextureOptions::LINEAR))
                        }
                    }
                    self.face = Some(face);
                }
                FromWorker::Failed { id, error } => {
                    self.answered_id = self.answered_id.max(id);
                    if id > self.shown_id {
                        self.message(format!("The model failed: {error}"), true);
                    }
                }
            }
        }
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
                    }
                }
                FileEvent::Picked {
                    purpose,
                    path: Some(path),
                    ..
                } => self.commands.push(match purpose {
                    Purpose::Open => Command::OpenFile(path),
                    Purpose::SaveFace => Command::SaveFaceTo(path),
                    Purpose::SaveSketch => Command::SaveSketchTo(path),
                }),
                FileEvent::Loaded {
                    path,
                    result: Ok(background),
                } => {
                    self.finish_stroke();
                    self.remember_folder(&path);
                    self.record(Drawing::with_background(background));
                    self.message(format!("Opened {}", path.display()), false);
                }
                FileEvent::Loaded {
                    path,
                    result: Err(error),
                } => {
                    self.message(format!("Could not open {}: {error}", path.display()), true);
                }
                FileEvent::Saved {
                    what,
                    path,
                    result: Ok(()),
                } => {
                    self.remember_folder(&path);
                    self.message(format!("Saved the {what} to {}", path.display()), false);
                }
                FileEvent::Saved {
                    what,
                    path,
                    result: Err(error),
                } => {
                    self.message(
                        format!("Could not save the {what} to {}: {error}", path.display()),
                        true,
                    );
                }
                FileEvent::Crashed { what, error } => {
                    self.message(format!("Something went wrong ({what}): {error}"), true);
                }
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
            Purpose::SaveFace => {
                let path = free_file_name(&folder, "face");
                self.commands.push(Command::SaveFaceTo(path));
            }
            Purpose::SaveSketch => {
                let path = free_file_name(&folder, "sketch");
                self.commands.push(Command::SaveSketchTo(path));
            }
        }
    }

    fn remember_folder(&mut self, path: &Path) {
        // Absolute, so that a file given relative to the start directory still counts.
        let path = std::path::absolute(path).unwrap_or_else(|_| path.to_path_buf());
        if let Some(folder) = path.parent() {
            self.settings.last_folder = Some(folder.to_path_buf());
        }
    }

    fn apply(&mut self, ctx: &egui::Context, command: Command) {
        match command {
            Command::Undo => {
                self.finish_stroke();
                if self.history.undo() {
                    self.drawing_changed();
                }
            }
            Command::Redo => {
                self.finish_stroke();
                if self.history.redo() {
                    self.drawing_changed();
                }
            }
            Command::Clear => {
                self.finish_stroke();
                // Clear takes the opened sketch too: a blank page, undoable.
                self.record(self.history.current().cleared(false));
            }
            Command::SelectTool(tool) => self.settings.tool = tool,
            Command::SizeUp => self.settings.set_size(self.settings.size() * SIZE_STEP),
            Command::SizeDown => self.settings.set_size(self.settings.size() / SIZE_STEP),
            Command::Open => {
                if !self
                    .files
                    .dialog(ctx, Purpose::Open, self.settings.last_folder.clone())
                {
                    self.message("A file dialog is already open.", false);
                }
            }
            Command::OpenFile(path) => self.files.load(ctx, path),
            Command::SaveFace => {
                if self.face.is_none() {
                    self.message("There is no face to save yet: draw something first.", true);
                } else if !self.files.dialog(
                    ctx,
                    Purpose::SaveFace,
                    self.settings.last_folder.clone(),
                ) {
                    self.message("A file dialog is already open.", false);
                }
            }
            Command::SaveFaceTo(path) => match &self.face {
                Some(face) => {
                    self.files
                        .save_face(ctx, face.clone(), self.settings.face_save_size, path)
                }
                None => self.message("There is no face to save yet: draw something first.", true),
            },
            Command::SaveSketch => {
                if !self
                    .files
                    .dialog(ctx, Purpose::SaveSketch, self.settings.last_folder.clone())
                {
                    self.message("A file dialog is already open.", false);
                }
            }
            Command::SaveSketchTo(path) => {
                self.finish_stroke();
                self.files
                    .save_sketch(ctx, Arc::clone(self.history.current()), path);
            }
            Command::ToggleGuide => {
                if self.guide_image.is_some() {
                    self.settings.guide = !self.settings.guide;
                }
            }
        }
    }
}

impl eframe::App for SketchApp {
    fn ui(&mut self, ui: &mut Ui, _frame: &mut eframe::Frame) {
        self.frame(ui);
    }

    fn save(&mut self, storage: &mut dyn eframe::Storage) {
        eframe::set_value(storage, eframe::APP_KEY, &self.settings);
    }
}

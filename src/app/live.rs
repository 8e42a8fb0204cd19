//! The live face: the worker that owns the models, what was asked of it and what it answered,
//! the face on screen, and the variations strip: four other people (face pipeline v3), or four
//! variation codes (the v2 generator).
//!
//! Each frame the app hands over the drawing, the stroke being drawn and the seed
//! ([`LiveFace::update`]); a request goes to the worker only when one of them changed. The
//! face keeps its seed while the user draws. When the drawing has been still for
//! [`VARIATIONS_IDLE`], the strip's four alternatives are asked for as one batch.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use eframe::egui::{
    self, Color32, ColorImage, TextureHandle, TextureOptions,
};
use image::RgbImage;

use crate::engine::{EngineOptions, Look, MadeFace, PipelineModels, Seed};
use crate::sketch::{Drawing, LookPhoto, Stroke};
use crate::worker::{FromWorker, Page, Request, Worker};
use view::color_image;

pub use super::model_status::{ModelStatus, model_name};
pub use super::seeds::SeedSource;

mod view;

/// Alternatives in the variations strip.
pub const VARIATIONS: usize = 4;
/// The strip is computed once the drawing has been still this long.
pub const VARIATIONS_IDLE: Duration = Duration::from_millis(500);
/// A face outstanding this long shows "generating…".
pub const GENERATING_AFTER: Duration = Duration::from_millis(150);
/// The side the drawing is rendered at for face pipeline v3: the sketch page its mesh model was
/// measured on (the page of an opened sketch file).
pub const PIPELINE_PAGE: u32 = crate::sketch::BACKGROUND_SIZE;
/// Gap between the faces of the strip, in points.
const STRIP_GAP: f32 = 6.0;

/// Who the face is, besides the drawing: the look photo (which wins) or the person pinned from
/// the strip (a bank face), else the seed's retrieval.
#[derive(Clone, Debug, Default)]
pub struct Person {
    pub look: Option<Arc<Look>>,
    pub pin: Option<usize>,
}

impl Person {
    fn same(&self, other: &Person) -> bool {
        let same_look = match (&self.look, &other.look) {
            (Some(a), Some(b)) => Arc::ptr_eq(a, b),
            (None, None) => true,
            _ => false,
        };
        same_look && self.pin == other.pin
    }
}

/// What the newest face request was made from.
struct Sent {
    drawing: Arc<Drawing>,
    /// Points of the stroke being drawn.
    extra: Option<usize>,
    seed: Seed,
    person: Person,
}

/// The strip of alternatives.
struct Strip {
    seeds: Vec<Seed>,
    /// The faces of `seeds`, for the drawing `for_drawing`.
    faces: Vec<MadeFace>,
    textures: Vec<TextureHandle>,
    for_drawing: Option<Arc<Drawing>>,
    /// The request in flight: its id and drawing.
    requested: Option<(u64, Arc<Drawing>)>,
}

pub struct LiveFace {
    ctx: egui::Context,
    worker: Worker,
    /// The model file the worker was started with, and how; a retry starts it again.
    model_path: PathBuf,
    pipeline: Option<PipelineModels>,
    engine: EngineOptions,
    model: ModelStatus,
    /// Why the newest face could not be painted by a loaded model (cleared by the next face).
    run_failure: Option<String>,
    sent: Option<Sent>,
    /// The newest id given to any request.
    last_id: u64,
    /// The newest face request, and the newest one answered (face or failure).
    face_id: u64,
    answered_id: u64,
    shown_id: u64,
    face: Option<MadeFace>,
    texture: TextureHandle,
    last_elapsed: Option<Duration>,
    faces_shown: u64,
    /// When the newest face request was sent.
    changed_at: Instant,
    strip: Strip,
    /// Look photos read (request id, the look or why not), for the app to take.
    looks_read: Vec<(u64, Result<Arc<Look>, String>)>,
}

impl LiveFace {
    /// Start the worker (it loads the model in the background).
    pub fn new(
        ctx: &egui::Context,
        model: PathBuf,
        pipeline: Option<PipelineModels>,
        engine: EngineOptions,
        seeds: &mut SeedSource,
    ) -> Self {
        let worker = spawn_worker(ctx, &model, pipeline.clone(), engine);
        let blank = || ColorImage::new([1, 1], vec![Color32::TRANSPARENT]);
        Self {
            ctx: ctx.clone(),
            worker,
            model_path: model,
            pipeline,
            engine,
            model: ModelStatus::Loading,
            run_failure: None,
            sent: None,
            last_id: 0,
            face_id: 0,
            answered_id: 0,
            shown_id: 0,
            face: None,
            texture: ctx.load_texture("face", blank(), TextureOptions::LINEAR),
            last_elapsed: None,
            faces_shown: 0,
            changed_at: Instant::now(),
            strip: Strip {
                seeds: (0..VARIATIONS).map(|_| seeds.next_seed()).collect(),
                faces: Vec::new(),
                textures: (0..VARIATIONS)
                    .map(|i| {
                        ctx.load_texture(format!("variation-{i}"), blank(), TextureOptions::LINEAR)
                    })
                    .collect(),
                for_drawing: None,
                requested: None,
            },
            looks_read: Vec::new(),
        }
    }

    pub fn model(&self) -> &ModelStatus {
        &self.model
    }

    /// The model file in use (or being loaded, or that failed).
    pub fn model_path(&self) -> &Path {
        &self.model_path
    }

    /// Why the newest face could not be painted, when the loaded model failed on it.
    pub fn run_failure(&self) -> Option<&str> {
        self.run_failure.as_deref()
    }

    /// Start over with `model`: the old worker is let go (a run in progress is not waited
    /// for), a new one loads the model, and the drawing is sent again once it is ready. The
    /// face on screen stays until the new model paints one.
    pub fn load_model(&mut self, model: PathBuf) {
        self.worker = spawn_worker(&self.ctx, &model, self.pipeline.clone(), self.engine);
        self.model_path = model;
        self.model = ModelStatus::Loading;
        self.run_failure = None;
        self.sent = None;
        // Nothing is outstanding any more: answers of the old worker cannot arrive.
        self.answered_id = self.face_id;
        self.strip.requested = None;
        self.strip.for_drawing = None;
        self.strip.faces.clear();
    }

    /// Photographic faces on (`Some`: face pipeline v3's files) or off: the worker starts
    /// again, as for a new model.
    pub fn set_pipeline(&mut self, pipeline: Option<PipelineModels>) {
        if pipeline == self.pipeline {
            return;
        }
        self.pipeline = pipeline;
        self.load_model(self.model_path.clone());
    }

    /// The face on screen, at the model's resolution.
    pub fn face(&self) -> Option<&RgbImage> {
        self.face.as_ref().map(|made| &made.face)
    }

    /// The face on screen, who painted it and who it is.
    pub fn made_face(&self) -> Option<&MadeFace> {
        self.face.as_ref()
    }

    /// Read `photo`'s face as the look, in the background; the answer comes from
    /// [`LiveFace::take_looks`] with the id returned.
    pub fn read_look(&mut self, photo: LookPhoto) -> u64 {
        self.last_id += 1;
        self.worker.read_look(self.last_id, photo);
        self.last_id
    }

    /// The look photos read since the last call: (the id [`LiveFace::read_look`] gave, the look
    /// or why the photo cannot be one).
    pub fn take_looks(&mut self) -> Vec<(u64, Result<Arc<Look>, String>)> {
        std::mem::take(&mut self.looks_read)
    }

    /// A new drawing (new, opened, restored): the worker forgets the mesh and people it held.
    pub fn new_drawing(&mut self) {
        self.worker.new_drawing();
    }

    pub fn shown_id(&self) -> u64 {
        self.shown_id
    }

    pub fn submitted_id(&self) -> u64 {
        self.face_id
    }

    pub fn faces_shown(&self) -> u64 {
        self.faces_shown
    }

    pub fn last_elapsed(&self) -> Option<Duration> {
        self.last_elapsed
    }

    /// A face was asked for and has not come.
    pub fn is_generating(&self) -> bool {
        self.worker.is_running() && self.answered_id < self.face_id
    }

    /// The strip's seeds, and their faces when they are for `drawing`.
    pub fn variations(&self, drawing: &Arc<Drawing>) -> (&[Seed], Option<&[MadeFace]>) {
        let current = self
            .strip
            .for_drawing
            .as_ref()
            .is_some_and(|d| Arc::ptr_eq(d, drawing));
        (
            &self.strip.seeds,
            current.then_some(self.strip.faces.as_slice()),
        )
    }

    /// Handle the worker's replies; returns the messages for the status line (text, is error).
    pub fn poll(&mut self) -> Vec<(String, bool)> {
        let mut messages = Vec::new();
        // Looked at first: whatever a stopped thread sent is in the channel by then.
        let stopped = !self.worker.is_running();
        while let Some(reply) = self.worker.try_recv() {
            match reply {
                FromWorker::Ready {
                    provider,
                    info,
                    load_time,
                    pipeline,
                } => {
                    if let (Err(error), Some(_)) = (&pipeline, &self.pipeline) {
                        messages.push((
                            format!("Photographic faces (face pipeline v3) are off, the generator paints the faces: {error}"),
                            true,
                        ));
                    }
                    self.model = ModelStatus::Ready {
                        info,
                        provider,
                        load_time,
                        pipeline,
                    };
                    self.sent = None; // send the drawing now
                }
                FromWorker::LoadFailed { error } => {
                    messages.push((format!("The model could not be loaded: {error}"), true));
                    self.model = ModelStatus::Failed(error);
                    self.face = None; // the error takes the face's place
                }
                FromWorker::Generated { id, face, elapsed } => {
                    self.answered_id = self.answered_id.max(id);
                    if id <= self.shown_id {
                        continue; // older than what is on screen
                    }
                    self.shown_id = id;
                    self.last_elapsed = Some(elapsed);
                    self.run_failure = None;
                    self.show(face);
                }
                FromWorker::Look { id, look } => self.looks_read.push((id, look)),
                FromWorker::Variations { id, faces, .. } => {
                    let Some((requested, drawing)) =
                        self.strip.requested.take_if(|(r, _)| *r == id)
                    else {
                        continue; // an older strip
                    };
                    debug_assert_eq!(requested, id);
                    if faces.iter().map(|face| face.seed).ne(self.strip.seeds.iter().copied()) {
                        continue; // the alternatives changed meanwhile
                    }
                    for (texture, face) in self.strip.textures.iter_mut().zip(&faces) {
                        texture.set(color_image(&face.face), TextureOptions::LINEAR);
                    }
                    self.strip.faces = faces;
                    self.strip.for_drawing = Some(drawing);
                }
                FromWorker::Failed { id, error } => {
                    if self.strip.requested.as_ref().is_some_and(|(r, _)| *r == id) {
                        self.strip.requested = None;
                        messages.push((format!("The variations failed: {error}"), true));
                        continue;
                    }
                    self.answered_id = self.answered_id.max(id);
                    if id > self.shown_id {
                        messages.push((format!("The model failed: {error}"), true));
                        self.shown_id = id;
                        self.run_failure = Some(error);
                    }
                }
            }
        }
        // A worker that stopped by itself (it never does while it can answer) paints no more.
        if stopped && !matches!(self.model, ModelStatus::Failed(_)) {
            let error = "the model's thread stopped unexpectedly".to_owned();
            messages.push((format!("The model stopped working: {error}"), true));
            self.model = ModelStatus::Failed(error);
        }
        messages
    }

    fn show(&mut self, face: MadeFace) {
        self.faces_shown += 1;
        self.texture.set(color_image(&face.face), TextureOptions::LINEAR);
        self.face = Some(face);
    }

    /// Ask for the face of `drawing` (with `extra`, the stroke being drawn), `seed` and
    /// `person` when that is not what was asked last; ask for the strip when the drawing is
    /// still.
    pub fn update(&mut self, drawing: &Arc<Drawing>, extra: Option<&Stroke>, seed: Seed, person: &Person) {
        let Some(info) = self.model.info() else {
            return; // sent once the model is ready
        };
        let photographic = self.model.photographic();
        // The pipeline reads the drawing's mesh at the page size it was taught on; it takes
        // hints always, and its strip is people, with or without a variation code.
        let (resolution, takes_hints, has_strip) = match photographic {
            true => (PIPELINE_PAGE, true, true),
            false => (info.resolution, info.takes_hints, info.z_dim > 0),
        };
        let extra = extra.filter(|s| !s.points.is_empty());
        let unchanged = self.sent.as_ref().is_some_and(|sent| {
            Arc::ptr_eq(&sent.drawing, drawing)
                && sent.extra == extra.map(|s| s.points.len())
                && sent.seed == seed
                && sent.person.same(person)
        });
        if !unchanged {
            self.sent = Some(Sent {
                drawing: Arc::clone(drawing),
                extra: extra.map(|s| s.points.len()),
                seed,
                person: person.clone(),
            });
            self.last_id += 1;
            self.face_id = self.last_id;
            self.changed_at = Instant::now();
            if extra.is_none() && drawing.is_blank() {
                // Blank paper: no face, and any answer still on its way is stale.
                self.shown_id = self.face_id;
                self.answered_id = self.face_id;
                self.face = None;
                return;
            }
            let request = Request {
                look: person.look.clone(),
                pin: person.pin,
                ..self.request(drawing, extra, resolution, takes_hints)
            };
            self.worker.submit(request, seed);
            self.ctx.request_repaint_after(GENERATING_AFTER);
            return;
        }
        // The strip: once the drawing is still and its face is on screen.
        let still = extra.is_none() && self.shown_id == self.face_id && !drawing.is_blank();
        let strip_current = [
            self.strip.for_drawing.as_ref(),
            self.strip.requested.as_ref().map(|(_, d)| d),
        ]
        .into_iter()
        .flatten()
        .any(|d| Arc::ptr_eq(d, drawing));
        if !has_strip || !still || strip_current {
            return;
        }
        let waited = self.changed_at.elapsed();
        if waited < VARIATIONS_IDLE {
            self.ctx.request_repaint_after(VARIATIONS_IDLE - waited);
            return;
        }
        self.last_id += 1;
        let request = Request {
            id: self.last_id,
            ..self.request(drawing, None, resolution, takes_hints)
        };
        self.strip.requested = Some((self.last_id, Arc::clone(drawing)));
        self.worker
            .submit_variations(request, self.strip.seeds.clone());
    }

    /// The request for `drawing`: the worker rasterizes it, so a pointer event costs the UI
    /// thread an `Arc` and a copy of the stroke being drawn, whatever the page's size.
    fn request(&self, drawing: &Arc<Drawing>, extra: Option<&Stroke>, resolution: u32, takes_hints: bool) -> Request {
        let coloured =
            drawing.has_colours() || extra.is_some_and(|s| s.tool == crate::sketch::Tool::Colour);
        Request {
            id: self.face_id,
            page: Page::Drawing {
                drawing: Arc::clone(drawing),
                extra: extra.cloned(),
                side: resolution,
                hints: takes_hints && coloured,
            },
            look: None,
            pin: None,
        }
    }

    /// `seed` replaces `old` as the face's seed. When `seed` is in the strip and the strip is
    /// for `drawing`, its face is shown at once and `old` (with its face) takes its place in
    /// the strip; otherwise the face is asked for as usual. `person`: who the face is now (the
    /// adopted face's person, pinned by the caller), for the next request to match.
    pub fn adopt(&mut self, drawing: &Arc<Drawing>, seed: Seed, old: Seed, person: &Person) {
        let current = self
            .strip
            .for_drawing
            .as_ref()
            .is_some_and(|d| Arc::ptr_eq(d, drawing));
        let Some(slot) = self.strip.seeds.iter().position(|s| *s == seed) else {
            return;
        };
        self.strip.seeds[slot] = old;
        let (Some(mut old_face), true) = (self.face.clone(), current) else {
            self.strip.for_drawing = None;
            return;
        };
        old_face.seed = old;
        let face = std::mem::replace(&mut self.strip.faces[slot], old_face);
        self.strip.textures[slot].set(color_image(&self.strip.faces[slot].face), TextureOptions::LINEAR);
        self.show(face);
        // This face is the answer to the drawing and seed as they are now.
        self.last_id += 1;
        self.face_id = self.last_id;
        self.answered_id = self.face_id;
        self.shown_id = self.face_id;
        self.sent = Some(Sent {
            drawing: Arc::clone(drawing),
            extra: None,
            seed,
            person: person.clone(),
        });
    }

    /// The person of the strip's face for `seed`, when the strip is for `drawing`.
    pub fn strip_person(&self, drawing: &Arc<Drawing>, seed: Seed) -> Option<usize> {
        let (seeds, faces) = self.variations(drawing);
        let slot = seeds.iter().position(|s| *s == seed)?;
        faces?.get(slot)?.person
    }

    /// Four other alternatives.
    pub fn other_variations(&mut self, seeds: &mut SeedSource) {
        self.strip.seeds = (0..VARIATIONS).map(|_| seeds.next_seed()).collect();
        self.strip.faces.clear();
        self.strip.for_drawing = None;
        self.strip.requested = None;
    }

}

fn spawn_worker(ctx: &egui::Context, model: &Path, pipeline: Option<PipelineModels>, engine: EngineOptions) -> Worker {
    let notify_ctx = ctx.clone();
    Worker::spawn(model.to_path_buf(), pipeline, engine, move || {
        notify_ctx.request_repaint();
    })
}

//! The background thread that owns the [`FaceMaker`]: face pipeline v3 (mesh, bank, warp,
//! refine) when its models load, and the v2 generator, which paints when the pipeline is not
//! loaded or finds no face in the drawing yet.
//!
//! `Session::run` needs `&mut self` and a generation takes tens of milliseconds on a CPU, so the
//! model lives on its own thread and the UI talks to it with plain messages over
//! `crossbeam-channel`. The worker drains its queue before each generation and runs only the
//! newest request ("latest wins"): while the user draws, stale drawings are skipped instead of
//! queueing up. After every reply it calls the `notify` callback (the app passes
//! `egui::Context::request_repaint`), so the UI never polls or waits.
//!
//! A request carries the sketch, the colour hints, the look photo and the pinned person; the
//! seed picks the person (v3) or the variation code (v2). The variations strip is one batch
//! request (one face per seed, each a different person); it is skipped, like any stale request,
//! when a newer face request follows it. Reading a look photo is a job of its own, never dropped.

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::PathBuf;
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use crossbeam_channel::{Receiver, Sender};
use image::{GrayImage, RgbaImage};

use crate::engine::{self, EngineOptions, FaceMaker, FaceOrder, Look, MadeFace, ModelInfo, PipelineModels, Provider, Seed};
use crate::sketch::{Drawing, LookPhoto, RasterCache, Stroke};
use crate::{error_chain, panic_message};

/// The page a face is made from.
#[derive(Clone, Debug)]
pub enum Page {
    /// A sketch, any size (the engine fits it to the model), and colour hints (colour where
    /// alpha > 0, any size; `None` for none).
    Image { sketch: GrayImage, hints: Option<RgbaImage> },
    /// The app's drawing with the stroke being drawn, rasterized here, off the UI thread, at
    /// `side` px (with its colour hints when `hints`), by the rasterizer the canvas shows.
    Drawing { drawing: Arc<Drawing>, extra: Option<Stroke>, side: u32, hints: bool },
}

/// What a face is made from.
#[derive(Clone, Debug)]
pub struct Request {
    /// Grows with every request; replies carry it back.
    pub id: u64,
    pub page: Page,
    /// The look photo, read ([`ToWorker::ReadLook`]): the face's exemplar instead of a bank face.
    pub look: Option<Arc<Look>>,
    /// The bank face the user chose from the strip: the face keeps it while the drawing grows.
    pub pin: Option<usize>,
}

impl Request {
    /// A request for a sketch alone.
    pub fn sketch(id: u64, sketch: GrayImage) -> Self {
        Self {
            id,
            page: Page::Image { sketch, hints: None },
            look: None,
            pin: None,
        }
    }
}

impl Page {
    /// The sketch and hints, rasterized by `cache` when they are a drawing.
    fn render(self, cache: &mut RasterCache) -> (GrayImage, Option<RgbaImage>) {
        match self {
            Page::Image { sketch, hints } => (sketch, hints),
            Page::Drawing { drawing, extra, side, hints } => {
                let sketch = cache.render(&drawing, extra.as_ref(), side);
                let hints = hints.then(|| cache.render_hints(&drawing, extra.as_ref(), side));
                (sketch, hints)
            }
        }
    }
}

/// A request to the worker.
#[derive(Debug)]
pub enum ToWorker {
    /// Paint the face for this request with the code of `seed`.
    Generate { request: Request, seed: Seed },
    /// Paint one face per seed, as one batch (the variations strip).
    Variations { request: Request, seeds: Vec<Seed> },
    /// Read the one face of a photo as the look; answered with [`FromWorker::Look`].
    ReadLook { id: u64, photo: LookPhoto },
    /// A new drawing: the mesh followed and the people held are forgotten.
    NewDrawing,
    /// Stop the thread. Sent by `Drop`.
    Shutdown,
}

/// A reply from the worker.
#[derive(Debug)]
pub enum FromWorker {
    /// The model is loaded; generations can start.
    Ready {
        provider: Provider,
        /// The generator's.
        info: ModelInfo,
        load_time: Duration,
        /// Whether face pipeline v3 paints the faces: `Err` says why it does not (its models
        /// are missing or refused; the generator paints every face).
        pipeline: Result<(), String>,
    },
    /// The runtime or the model could not be loaded. The thread has stopped.
    LoadFailed { error: String },
    /// The face for request `id`.
    Generated {
        id: u64,
        face: MadeFace,
        elapsed: Duration,
    },
    /// The faces for a [`ToWorker::Variations`] request, one per seed in its order.
    Variations {
        id: u64,
        faces: Vec<MadeFace>,
        elapsed: Duration,
    },
    /// The look photo of [`ToWorker::ReadLook`] `id`, read, or why it cannot be the look.
    Look { id: u64, look: Result<Arc<Look>, String> },
    /// Request `id` failed; the worker keeps running.
    Failed { id: u64, error: String },
}

/// Handle to the worker thread. Dropping it shuts the thread down (see its `Drop`).
pub struct Worker {
    requests: Sender<ToWorker>,
    replies: Receiver<FromWorker>,
    thread: Option<JoinHandle<()>>,
}

impl Worker {
    /// Start the thread; it loads the runtime and the model, then answers requests.
    ///
    /// Returns at once: the load result arrives as [`FromWorker::Ready`] or
    /// [`FromWorker::LoadFailed`]. `notify` is called after every message the worker sends.
    /// `pipeline`: face pipeline v3's files (`None`: the generator `model` paints every face).
    pub fn spawn(
        model: PathBuf,
        pipeline: Option<PipelineModels>,
        opts: EngineOptions,
        notify: impl Fn() + Send + 'static,
    ) -> Worker {
        let (requests, request_rx) = crossbeam_channel::unbounded();
        let (reply_tx, replies) = crossbeam_channel::unbounded();
        let failed_tx = reply_tx.clone();
        let thread = std::thread::Builder::new()
            .name("sketch2face-worker".into())
            .spawn(move || worker_main(&model, pipeline.as_ref(), &opts, &request_rx, &reply_tx, &notify));
        let thread = match thread {
            Ok(thread) => Some(thread),
            Err(e) => {
                // Out of threads: the same answer as a model that cannot be loaded.
                let error = format!("could not start the model's thread: {e}");
                let _ = failed_tx.send(FromWorker::LoadFailed { error });
                None
            }
        };
        Worker {
            requests,
            replies,
            thread,
        }
    }

    /// Ask for a face. Never blocks; a newer request replaces any that the worker has not begun.
    pub fn submit(&self, request: Request, seed: Seed) {
        // If the thread has stopped (failed load), the request is dropped: the app already
        // shows the load error.
        let _ = self.requests.send(ToWorker::Generate { request, seed });
    }

    /// Ask for one face per seed, computed as one batch. Never blocks; dropped unbegun when a
    /// face request follows it.
    pub fn submit_variations(&self, request: Request, seeds: Vec<Seed>) {
        let _ = self.requests.send(ToWorker::Variations { request, seeds });
    }

    /// Ask for `photo`'s face as the look. Never blocks; never dropped for newer requests.
    pub fn read_look(&self, id: u64, photo: LookPhoto) {
        let _ = self.requests.send(ToWorker::ReadLook { id, photo });
    }

    /// A new drawing begins (new, opened, restored): forget the mesh and the people held.
    pub fn new_drawing(&self) {
        let _ = self.requests.send(ToWorker::NewDrawing);
    }

    /// The next reply, if one is waiting. Never blocks.
    pub fn try_recv(&self) -> Option<FromWorker> {
        self.replies.try_recv().ok()
    }

    /// Whether the thread is still running (false after a failed load or a crash).
    pub fn is_running(&self) -> bool {
        self.thread.as_ref().is_some_and(|t| !t.is_finished())
    }
}

/// How long dropping the worker waits for a generation in progress to end.
pub const SHUTDOWN_WAIT: Duration = Duration::from_millis(200);

impl Drop for Worker {
    /// Asks the thread to stop and joins it, waiting at most [`SHUTDOWN_WAIT`] for a
    /// generation in progress: closing the window never waits for a slow model (the thread,
    /// left to finish its run, ends when it next looks at its queue).
    fn drop(&mut self) {
        let _ = self.requests.send(ToWorker::Shutdown);
        let Some(thread) = self.thread.take() else {
            return;
        };
        let deadline = Instant::now() + SHUTDOWN_WAIT;
        while !thread.is_finished() && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(2));
        }
        if thread.is_finished() {
            let _ = thread.join();
        }
    }
}

fn worker_main(
    model: &std::path::Path,
    pipeline: Option<&PipelineModels>,
    opts: &EngineOptions,
    requests: &Receiver<ToWorker>,
    replies: &Sender<FromWorker>,
    notify: &dyn Fn(),
) {
    let reply = |message: FromWorker| {
        let _ = replies.send(message);
        notify();
    };

    let start = Instant::now();
    let loaded = catch_unwind(AssertUnwindSafe(|| {
        engine::init_runtime().map_err(|e| error_chain(&e))?;
        FaceMaker::load(model, pipeline, opts).map_err(|e| error_chain(&e))
    }));
    let mut maker = match loaded {
        Ok(Ok(maker)) => maker,
        Ok(Err(error)) => return reply(FromWorker::LoadFailed { error }),
        Err(panic) => {
            let error = format!(
                "loading the model crashed: {}",
                panic_message(panic.as_ref())
            );
            return reply(FromWorker::LoadFailed { error });
        }
    };
    let pipeline = match (maker.pipeline(), maker.pipeline_error()) {
        (Some(_), _) => Ok(()),
        (None, Some(error)) => Err(error.to_owned()),
        (None, None) => Err("face pipeline v3 is off: the generator paints every face".to_owned()),
    };
    reply(FromWorker::Ready {
        provider: maker.generator().provider(),
        info: maker.generator().info().clone(),
        load_time: start.elapsed(),
        pipeline,
    });

    let mut queue = Queue::default();
    let mut cache = RasterCache::default();
    while let Some(job) = queue.next(requests) {
        let start = Instant::now();
        let (id, result) = match job {
            Job::NewDrawing => {
                maker.reset();
                continue;
            }
            Job::ReadLook { id, photo } => {
                // The photo is decoded here, off the UI thread, from the bytes the document keeps:
                // the look read is the look saved.
                let read = catch_unwind(AssertUnwindSafe(|| {
                    let photo = photo.decode().map_err(|error| format!("the photo cannot be decoded: {error}"))?;
                    maker.read_look(&photo).map_err(|error| error_chain(&error))
                }));
                let look = match read {
                    Ok(Ok(look)) => Ok(Arc::new(look)),
                    Ok(Err(error)) => Err(error),
                    Err(panic) => Err(format!("reading the photo crashed: {}", panic_message(panic.as_ref()))),
                };
                reply(FromWorker::Look { id, look });
                continue;
            }
            Job::Face(ToWorkerFace { request, seed }) => {
                let Request { id, page, look, pin } = request;
                let result = catch_unwind(AssertUnwindSafe(|| {
                    let (sketch, hints) = page.render(&mut cache);
                    let order = FaceOrder { sketch: &sketch, hints: hints.as_ref(), following: true };
                    maker.face(&order, seed, pin, look.as_deref())
                }));
                let reply = result.map(|made| {
                    made.map(|face| FromWorker::Generated {
                        id,
                        face,
                        elapsed: start.elapsed(),
                    })
                });
                (id, reply)
            }
            Job::Variations { request, seeds } => {
                let page = request.page;
                let result = catch_unwind(AssertUnwindSafe(|| {
                    let (sketch, hints) = page.render(&mut cache);
                    let order = FaceOrder { sketch: &sketch, hints: hints.as_ref(), following: true };
                    maker.variations(&order, &seeds)
                }));
                let reply = result.map(|made| {
                    made.map(|faces| FromWorker::Variations {
                        id: request.id,
                        faces,
                        elapsed: start.elapsed(),
                    })
                });
                (request.id, reply)
            }
        };
        reply(match result {
            Ok(Ok(message)) => message,
            Ok(Err(e)) => FromWorker::Failed {
                id,
                error: error_chain(&e),
            },
            Err(panic) => FromWorker::Failed {
                id,
                error: format!("the model crashed: {}", panic_message(panic.as_ref())),
            },
        });
    }
}

/// A face request as the worker keeps it.
#[derive(Debug)]
struct ToWorkerFace {
    request: Request,
    seed: Seed,
}

#[derive(Debug)]
enum Job {
    NewDrawing,
    ReadLook { id: u64, photo: LookPhoto },
    Face(ToWorkerFace),
    Variations { request: Request, seeds: Vec<Seed> },
}

/// What the worker has still to do: a new drawing's reset and the look photos to read (each,
/// in order), the newest face request, and the newest variations request if none came after it.
#[derive(Debug, Default)]
struct Queue {
    new_drawing: bool,
    looks: std::collections::VecDeque<(u64, LookPhoto)>,
    face: Option<ToWorkerFace>,
    variations: Option<(Request, Vec<Seed>)>,
}

impl Queue {
    /// Take every waiting message (blocking for one when there is nothing to do), then the
    /// next job: the face first. `None` means shut down (asked to, or every handle is gone).
    fn next(&mut self, requests: &Receiver<ToWorker>) -> Option<Job> {
        if !self.new_drawing && self.looks.is_empty() && self.face.is_none() && self.variations.is_none() {
            let first = requests.recv().ok()?;
            if !self.take(first) {
                return None;
            }
        }
        while let Ok(message) = requests.try_recv() {
            if !self.take(message) {
                return None;
            }
        }
        if std::mem::take(&mut self.new_drawing) {
            return Some(Job::NewDrawing);
        }
        if let Some((id, photo)) = self.looks.pop_front() {
            return Some(Job::ReadLook { id, photo });
        }
        if let Some(face) = self.face.take() {
            return Some(Job::Face(face));
        }
        let (request, seeds) = self.variations.take()?;
        Some(Job::Variations { request, seeds })
    }

    /// Keep `message` in place of what it makes stale; `false` for `Shutdown`.
    fn take(&mut self, message: ToWorker) -> bool {
        match message {
            ToWorker::Generate { request, seed } => {
                self.face = Some(ToWorkerFace { request, seed });
                self.variations = None;
            }
            ToWorker::Variations { request, seeds } => self.variations = Some((request, seeds)),
            ToWorker::ReadLook { id, photo } => self.looks.push_back((id, photo)),
            ToWorker::NewDrawing => self.new_drawing = true,
            ToWorker::Shutdown => return false,
        }
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use image::RgbImage;

    fn gray(v: u8) -> GrayImage {
        GrayImage::from_pixel(4, 4, image::Luma([v]))
    }

    fn face(id: u64) -> ToWorker {
        ToWorker::Generate {
            request: Request::sketch(id, gray(id as u8)),
            seed: Seed(id),
        }
    }

    fn variations(id: u64) -> ToWorker {
        ToWorker::Variations {
            request: Request::sketch(id, gray(id as u8)),
            seeds: vec![Seed(1), Seed(2)],
        }
    }

    fn job_id(job: &Job) -> (&'static str, u64) {
        match job {
            Job::Face(face) => ("face", face.request.id),
            Job::Variations { request, .. } => ("variations", request.id),
            Job::ReadLook { id, .. } => ("look", *id),
            Job::NewDrawing => ("new drawing", 0),
        }
    }

    #[test]
    fn the_queue_keeps_only_the_newest_face() {
        let (tx, rx) = crossbeam_channel::unbounded();
        for id in 1..=5 {
            tx.send(face(id)).unwrap();
        }
        let mut queue = Queue::default();
        let Some(Job::Face(job)) = queue.next(&rx) else {
            panic!("a face job")
        };
        assert_eq!((job.request.id, job.seed), (5, Seed(5)));
        let Page::Image { sketch, .. } = &job.request.page else { panic!("an image page") };
        assert_eq!(sketch.get_pixel(0, 0).0, [5]);
        assert!(rx.is_empty());
    }

    #[test]
    fn variations_run_after_the_face_they_follow_and_a_newer_face_drops_them() {
        let (tx, rx) = crossbeam_channel::unbounded();
        let mut queue = Queue::default();
        tx.send(face(1)).unwrap();
        tx.send(variations(1)).unwrap();
        assert_eq!(job_id(&queue.next(&rx).unwrap()), ("face", 1));
        assert_eq!(job_id(&queue.next(&rx).unwrap()), ("variations", 1));

        tx.send(face(2)).unwrap();
        tx.send(variations(2)).unwrap();
        assert_eq!(job_id(&queue.next(&rx).unwrap()), ("face", 2));
        // The drawing changed while the face was painted: the strip for 2 is stale.
        tx.send(face(3)).unwrap();
        assert_eq!(job_id(&queue.next(&rx).unwrap()), ("face", 3));
        tx.send(variations(3)).unwrap();
        tx.send(variations(4)).unwrap();
        assert_eq!(job_id(&queue.next(&rx).unwrap()), ("variations", 4));
    }

    #[test]
    fn every_look_photo_is_read_in_order_and_a_new_drawing_resets_before_its_face() {
        let (tx, rx) = crossbeam_channel::unbounded();
        let mut queue = Queue::default();
        tx.send(face(1)).unwrap();
        let photo = LookPhoto::new(&RgbImage::new(2, 2));
        tx.send(ToWorker::ReadLook { id: 7, photo: photo.clone() }).unwrap();
        tx.send(ToWorker::ReadLook { id: 8, photo }).unwrap();
        tx.send(ToWorker::NewDrawing).unwrap();
        tx.send(face(2)).unwrap();
        let order: Vec<_> = std::iter::from_fn(|| match rx.is_empty() && queue.face.is_none() && queue.looks.is_empty() {
            true => None,
            false => queue.next(&rx).map(|job| job_id(&job)),
        })
        .collect();
        // Face 1 is stale behind face 2; neither look photo is dropped.
        assert_eq!(order, [("new drawing", 0), ("look", 7), ("look", 8), ("face", 2)]);
    }

    #[test]
    fn the_queue_stops_at_shutdown_even_behind_requests() {
        let (tx, rx) = crossbeam_channel::unbounded();
        tx.send(face(1)).unwrap();
        tx.send(ToWorker::Shutdown).unwrap();
        tx.send(face(2)).unwrap();
        assert!(Queue::default().next(&rx).is_none());
    }

    #[test]
    fn the_queue_ends_when_all_senders_are_gone() {
        let (tx, rx) = crossbeam_channel::unbounded::<ToWorker>();
        drop(tx);
        assert!(Queue::default().next(&rx).is_none());
    }

    #[test]
    fn a_missing_model_is_reported_not_a_panic() {
        let (tx, rx) = crossbeam_channel::unbounded();
        let worker = Worker::spawn(
            PathBuf::from("/nonexistent/sketch2face-missing.onnx"),
            None,
            EngineOptions {
                device: engine::Device::Cpu,
                intra_threads: 1,
            },
            move || {
                let _ = tx.send(());
            },
        );
        rx.recv_timeout(Duration::from_secs(60))
            .expect("the worker calls notify");
        match worker.try_recv() {
            Some(FromWorker::LoadFailed { error }) => assert!(!error.is_empty()),
            other => panic!("expected LoadFailed, got {other:?}"),
        }
        // Submitting to a stopped worker is harmless, and Drop does not hang.
        worker.submit(Request::sketch(1, gray(255)), Seed::DEFAULT);
        drop(worker);
    }
}

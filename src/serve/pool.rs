//! The engine pool: one thread per session, all taking jobs from one queue. A session is a
//! [`FaceMaker`], as the app's worker has: the generator, and face pipeline v3 beside it with
//! `--faces photographic`.
//!
//! `FaceMaker::face` needs `&mut self` and keeps a CPU busy for milliseconds, so each session
//! lives on its own plain thread (as the app's worker does) and async handlers wait for the
//! answer on a oneshot channel. The queue itself is unbounded: the server's admission permits
//! bound what is in it, and each job carries its permit until its face is painted.

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::Path;
use std::sync::{Arc, Barrier};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use anyhow::{Context, anyhow, bail};
use crossbeam_channel::{Receiver, Sender};
use image::RgbImage;
use tokio::sync::OwnedSemaphorePermit;
use tokio::sync::oneshot;

use super::error::ServeError;
use super::request::FaceInput;
use crate::engine::{
    EngineOptions, FaceMaker, FaceOrder, LookError, ModelInfo, Painter, PipelineModels, Provider,
    Seed,
};
use crate::sketch::decode_sketch;
use crate::{error_chain, panic_message};

/// The sketch each session's faces are timed on at start: a real drawing of a face, so that
/// face pipeline v3 times its whole path (a blank page would fall back to the generator).
const TIMING_SKETCH: &[u8] = include_bytes!("../../assets/sketches/face_oval_short_hair.png");

/// Faces each session makes at start, all sessions at once once all are loaded: the first is
/// discarded (it allocates ONNX Runtime's buffers, or tunes the GPU's kernels), the fastest of
/// the others is the session's time. The fastest, because a machine busy with something else
/// for a moment (other programs starting) only ever makes a face slower.
const TIMED_FACES: usize = 5;

/// What every session of the pool runs: the same models on the same provider.
#[derive(Clone, Debug)]
pub struct PoolModel {
    /// The generator's.
    pub info: ModelInfo,
    /// Whether face pipeline v3 is loaded (`--faces photographic`).
    pub photographic: bool,
    pub provider: Provider,
    /// Why `--device auto` ended on the CPU, when it did.
    pub cuda_error: Option<String>,
    /// How long one session took for a face at start while every session made faces: the
    /// slowest session's best time. What the automatic queue is sized from.
    pub face_time: Duration,
}

/// A face the pool painted, and who painted it.
#[derive(Debug)]
pub struct Painted {
    pub face: RgbImage,
    pub painter: Painter,
    /// The bank face the pipeline warped, when it did.
    pub person: Option<usize>,
}

/// A face to paint, the admission it holds, and where to send the face.
struct Job {
    input: FaceInput,
    permit: OwnedSemaphorePermit,
    reply: oneshot::Sender<(Result<Painted, ServeError>, OwnedSemaphorePermit)>,
}

/// The sessions' threads. [`EnginePool::join`] stops them once every [`PoolHandle`] is gone.
pub struct EnginePool {
    jobs: Sender<Job>,
    threads: Vec<JoinHandle<()>>,
    model: PoolModel,
}

/// Sends jobs to the pool; cheap to clone.
#[derive(Clone)]
pub struct PoolHandle {
    jobs: Sender<Job>,
}

impl EnginePool {
    /// Loads `workers` sessions of the generator `model` and, when given, face pipeline v3's
    /// `pipeline`, each on its own thread, all at once, and times a few faces on each (which
    /// also spares the first clients the sessions' first, slow run); fails with the first
    /// session's error when any cannot be loaded, its pipeline included, or make a face.
    pub fn start(
        model: &Path,
        pipeline: Option<&PipelineModels>,
        options: &EngineOptions,
        workers: usize,
    ) -> anyhow::Result<EnginePool> {
        let (jobs, job_queue) = crossbeam_channel::unbounded::<Job>();
        let (loaded_tx, loaded) = crossbeam_channel::bounded(workers);
        // The faces are timed once every session is loaded, so no session's loading slows
        // another's faces; every thread reaches it once, loaded or not.
        let all_loaded = Arc::new(Barrier::new(workers));
        let mut threads = Vec::with_capacity(workers);
        for index in 0..workers {
            let (model, pipeline, options) = (model.to_owned(), pipeline.cloned(), *options);
            let (job_queue, loaded_tx) = (job_queue.clone(), loaded_tx.clone());
            let all_loaded = Arc::clone(&all_loaded);
            let thread = std::thread::Builder::new()
                .name(format!("sketch2face-engine-{index}"))
                .spawn(move || {
                    let loaded = load(&model, pipeline.as_ref(), &options);
                    all_loaded.wait();
                    let loaded = loaded.and_then(|mut maker| {
                        let face_time = time_faces(&mut maker)?;
                        Ok((maker, face_time))
                    });
                    let (maker, face_time) = match loaded {
                        Ok(loaded) => loaded,
                        Err(error) => {
                            let _ = loaded_tx.send(Err(error));
                            return;
                        }
                    };
                    let generator = maker.generator();
                    let _ = loaded_tx.send(Ok(PoolModel {
                        info: generator.info().clone(),
                        photographic: maker.pipeline().is_some(),
                        provider: generator.provider(),
                        cuda_error: generator.cuda_error().map(str::to_owned),
                        face_time,
                    }));
                    drop(loaded_tx);
                    run_jobs(maker, &job_queue);
                })
                .context("cannot start an engine thread")?;
            threads.push(thread);
        }
        drop(loaded_tx);

        let mut model_loaded = None;
        let mut load_error = None;
        for result in loaded.iter() {
            match result {
                Ok(model) => {
                    let slowest = model_loaded.get_or_insert_with(|| model.clone());
                    slowest.face_time = slowest.face_time.max(model.face_time);
                }
                Err(error) => {
                    load_error.get_or_insert(error);
                }
            }
        }
        match (load_error, model_loaded) {
            (None, Some(model)) => Ok(EnginePool {
                jobs,
                threads,
                model,
            }),
            (error, _) => {
                stop(jobs, threads);
                Err(error.unwrap_or_else(|| anyhow!("no engine session was loaded")))
            }
        }
    }

    pub fn model(&self) -> &PoolModel {
        &self.model
    }

    pub fn handle(&self) -> PoolHandle {
        PoolHandle {
            jobs: self.jobs.clone(),
        }
    }

    /// Closes the queue and waits for the threads; they end when every handle is dropped too.
    pub fn join(self) {
        stop(self.jobs, self.threads);
    }
}

impl PoolHandle {
    /// Paints the face for `input` on the next free session. The permit comes back with the
    /// face, so the request keeps its place until it is answered.
    pub async fn generate(
        &self,
        input: FaceInput,
        permit: OwnedSemaphorePermit,
    ) -> Result<(Painted, OwnedSemaphorePermit), ServeError> {
        let (reply, answer) = oneshot::channel();
        self.jobs
            .send(Job {
                input,
                permit,
                reply,
            })
            .map_err(|_| ServeError::Internal("the engine pool has stopped".to_owned()))?;
        let (face, permit) = answer.await.map_err(|_| {
            ServeError::Internal("an engine session stopped before answering".to_owned())
        })?;
        Ok((face?, permit))
    }
}

/// Loads one session. `--faces photographic` asks for the pipeline, so one that does not load
/// is an error here, not the app's quiet fall back to the generator: the server was started for
/// its faces.
fn load(
    model: &Path,
    pipeline: Option<&PipelineModels>,
    options: &EngineOptions,
) -> anyhow::Result<FaceMaker> {
    let maker = catch_unwind(AssertUnwindSafe(|| {
        FaceMaker::load(model, pipeline, options)
    }))
    .map_err(|panic| {
        anyhow!(
            "loading the models crashed: {}",
            panic_message(panic.as_ref())
        )
    })??;
    if let Some(reason) = maker.pipeline_error() {
        bail!("cannot load face pipeline v3 for --faces photographic: {reason}");
    }
    Ok(maker)
}

/// The best time of [`TIMED_FACES`] faces after a first one, for [`TIMING_SKETCH`] read as an
/// upload is.
fn time_faces(maker: &mut FaceMaker) -> anyhow::Result<Duration> {
    let sketch = decode_sketch(TIMING_SKETCH, Path::new("face_oval_short_hair.png"))
        .context("cannot read the sketch the faces are timed on")?;
    let input = FaceInput {
        sketch,
        seed: None,
        hints: None,
        look: None,
    };
    let mut best = Duration::MAX;
    for index in 0..=TIMED_FACES {
        let started = Instant::now();
        painted(maker, &input)
            .map_err(|error| anyhow!("{}", error_chain(&error)))
            .context("the models cannot make a face at start")?;
        if index > 0 {
            best = best.min(started.elapsed());
        }
    }
    Ok(best)
}

/// Answers jobs until the queue is closed. A job whose request has gone (timed out, client
/// away) is skipped: nobody waits for its face.
fn run_jobs(mut maker: FaceMaker, jobs: &Receiver<Job>) {
    for job in jobs.iter() {
        if !job.reply.is_closed() {
            let face = painted(&mut maker, &job.input);
            let _ = job.reply.send((face, job.permit));
        }
    }
}

/// [`paint`], a panic in the models reported as an error.
fn painted(maker: &mut FaceMaker, input: &FaceInput) -> Result<Painted, ServeError> {
    catch_unwind(AssertUnwindSafe(|| paint(maker, input))).unwrap_or_else(|panic| {
        Err(ServeError::Internal(format!(
            "the model crashed: {}",
            panic_message(panic.as_ref())
        )))
    })
}

/// The face for one request: from its look photo when it has one, else as the session paints
/// (the generator, or the pipeline's bank face for the seed). Seed and hints go where the
/// models take them (a generator without them ignores them).
fn paint(maker: &mut FaceMaker, input: &FaceInput) -> Result<Painted, ServeError> {
    // Each request is a drawing of its own: nothing followed or held carries over from another.
    maker.reset();
    let look = match &input.look {
        Some(photo) => Some(maker.read_look(photo).map_err(look_refused)?),
        None => None,
    };
    let order = FaceOrder {
        sketch: &input.sketch,
        hints: input.hints.as_ref(),
        following: false,
    };
    let seed = Seed(input.seed.unwrap_or(Seed::DEFAULT.0));
    let made = maker
        .face(&order, seed, None, look.as_ref())
        .map_err(|error| ServeError::Internal(error_chain(&error)))?;
    Ok(Painted {
        face: made.face,
        painter: made.painter,
        person: made.person,
    })
}

/// A photo that cannot be the look is the client's to fix (400); a detector or model that
/// fails is the server's (500).
fn look_refused(error: LookError) -> ServeError {
    match error {
        LookError::NoFace
        | LookError::SeveralFaces { .. }
        | LookError::TooSmall { .. }
        | LookError::Unreadable { .. }
        | LookError::Empty
        | LookError::NoPipeline => ServeError::BadLook(error.to_string()),
        LookError::NoDetector { .. } | LookError::Engine(_) => ServeError::Internal(format!(
            "cannot read the look photo: {}",
            error_chain(&error)
        )),
    }
}

fn stop(jobs: Sender<Job>, threads: Vec<JoinHandle<()>>) {
    drop(jobs);
    for thread in threads {
        let _ = thread.join();
    }
}

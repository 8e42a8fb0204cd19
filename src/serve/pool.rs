//! The engine pool: one thread per engine session, all taking jobs from one queue.
//!
//! `Engine::generate` needs `&mut self` and keeps a CPU busy for milliseconds, so each session
//! lives on its own plain thread (as the app's worker does) and async handlers wait for the
//! answer on a oneshot channel. The queue itself is unbounded: the server's admission permits
//! bound what is in it, and each job carries its permit until its face is painted.

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::Path;
use std::sync::{Arc, Barrier};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use anyhow::{Context, anyhow};
use crossbeam_channel::{Receiver, Sender};
use image::{GrayImage, Luma, RgbImage};
use tokio::sync::OwnedSemaphorePermit;
use tokio::sync::oneshot;

use super::error::ServeError;
use super::request::FaceInput;
use crate::engine::{Engine, EngineOptions, ModelInfo, Provider};
use crate::{error_chain, panic_message};

/// Faces each session makes at start, all sessions at once once all are loaded: the first is
/// discarded (it allocates ONNX Runtime's buffers, or tunes the GPU's kernels), the fastest of
/// the others is the session's time. The fastest, because a machine busy with something else
/// for a moment (other programs starting) only ever makes a face slower.
const TIMED_FACES: usize = 5;

/// What every session of the pool runs: the same model on the same provider.
#[derive(Clone, Debug)]
pub struct PoolModel {
    pub info: ModelInfo,
    pub provider: Provider,
    /// Why `--device auto` ended on the CPU, when it did.
    pub cuda_error: Option<String>,
    /// How long one session took for a face at start while every session made faces: the
    /// slowest session's best time. What the automatic queue is sized from.
    pub face_time: Duration,
}

/// A face to paint, the admission it holds, and where to send the face.
struct Job {
    input: FaceInput,
    permit: OwnedSemaphorePermit,
    reply: oneshot::Sender<(Result<RgbImage, String>, OwnedSemaphorePermit)>,
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
    /// Loads `workers` sessions of `model`, each on its own thread, all at once, and times a
    /// few faces on each (which also spares the first clients the sessions' first, slow run);
    /// fails with the first session's error when any cannot be loaded or make a face.
    pub fn start(
        model: &Path,
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
            let (model, options) = (model.to_owned(), *options);
            let (job_queue, loaded_tx) = (job_queue.clone(), loaded_tx.clone());
            let all_loaded = Arc::clone(&all_loaded);
            let thread = std::thread::Builder::new()
                .name(format!("sketch2face-engine-{index}"))
                .spawn(move || {
                    let loaded = load(&model, &options);
                    all_loaded.wait();
                    let loaded = loaded.and_then(|mut engine| {
                        let face_time = time_faces(&mut engine)?;
                        Ok((engine, face_time))
                    });
                    let (engine, face_time) = match loaded {
                        Ok(loaded) => loaded,
                        Err(error) => {
                            let _ = loaded_tx.send(Err(error));
                            return;
                        }
                    };
                    let _ = loaded_tx.send(Ok(PoolModel {
                        info: engine.info().clone(),
                        provider: engine.provider(),
                        cuda_error: engine.cuda_error().map(str::to_owned),
                        face_time,
                    }));
                    drop(loaded_tx);
                    run_jobs(engine, &job_queue);
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
    ) -> Result<(RgbImage, OwnedSemaphorePermit), ServeError> {
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
        Ok((face.map_err(ServeError::Internal)?, permit))
    }
}

fn load(model: &Path, options: &EngineOptions) -> anyhow::Result<Engine> {
    catch_unwind(AssertUnwindSafe(|| Engine::load(model, options)))
        .map_err(|panic| {
            anyhow!(
                "loading the model crashed: {}",
                panic_message(panic.as_ref())
            )
        })?
        .map_err(anyhow::Error::from)
}

/// The best time of [`TIMED_FACES`] faces after a first one, for a white page four times the
/// model's side (the example sketches' 512 px for a 128 px model: the engine scales it down).
fn time_faces(engine: &mut Engine) -> anyhow::Result<Duration> {
    let side = engine.resolution() * 4;
    let page = GrayImage::from_pixel(side, side, Luma([255]));
    let mut best = Duration::MAX;
    for index in 0..=TIMED_FACES {
        let started = Instant::now();
        catch_unwind(AssertUnwindSafe(|| engine.generate(&page)))
            .map_err(|panic| anyhow!("the model crashed: {}", panic_message(panic.as_ref())))?
            .context("the model cannot make a face at start")?;
        if index > 0 {
            best = best.min(started.elapsed());
        }
    }
    Ok(best)
}

/// Answers jobs until the queue is closed. A job whose request has gone (timed out, client
/// away) is skipped: nobody waits for its face.
fn run_jobs(mut engine: Engine, jobs: &Receiver<Job>) {
    for job in jobs.iter() {
        if job.reply.is_closed() {
            continue;
        }
        // Seed and hints go to the engine where the model takes them (others ignore them).
        let code = job
            .input
            .seed
            .map(|seed| crate::engine::Seed(seed).code(engine.info().z_dim));
        let conditions = crate::engine::Conditions {
            hints: job.input.hints.as_ref(),
            z: code.as_deref(),
        };
        let face = catch_unwind(AssertUnwindSafe(|| {
            engine.generate_with(&job.input.sketch, &conditions)
        }))
        .map_err(|panic| format!("the model crashed: {}", panic_message(panic.as_ref())))
        .and_then(|face| face.map_err(|error| error_chain(&error)));
        let _ = job.reply.send((face, job.permit));
    }
}

fn stop(jobs: Sender<Job>, threads: Vec<JoinHandle<()>>) {
    drop(jobs);
    for thread in threads {
        let _ = thread.join();
    }
}

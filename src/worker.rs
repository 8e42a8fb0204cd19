//! The background thread that owns the [`Engine`].
//!
//! `Session::run` needs `&mut self` and a generation takes tens of milliseconds on a CPU, so the
//! model lives on its own thread and the UI talks to it with plain messages over
//! `crossbeam-channel`. The worker drains its queue before each generation and runs only the
//! newest request ("latest wins"): while the user draws, stale drawings are skipped instead of
//! queueing up. After every reply it calls the `notify` callback (the app passes
//! `egui::Context::request_repaint`), so the UI never polls or waits.

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::PathBuf;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use crossbeam_channel::{Receiver, Sender, TryRecvError};
use image::{GrayImage, RgbImage};

use crate::engine::{self, Engine, EngineOptions, ModelInfo, Provider};
use crate::{error_chain, panic_message};

/// A request to the worker.
#[derive(Debug)]
pub enum ToWorker {
    /// Paint a face for this sketch (any size; the engine fits it to the model).
    Generate { id: u64, sketch: GrayImage },
    /// Stop the thread. Sent by `Drop`.
    Shutdown,
}

/// A reply from the worker.
#[derive(Debug)]
pub enum FromWorker {
    /// The model is loaded; generations can start.
    Ready {
        provider: Provider,
        info: ModelInfo,
        load_time: Duration,
    },
    /// The runtime or the model could not be loaded. The thread has stopped.
    LoadFailed { error: String },
    /// The face for request `id`.
    Generated {
        id: u64,
        face: RgbImage,
        elapsed: Duration,
    },
    /// Request `id` failed; the worker keeps running.
    Failed { id: u64, error: String },
}

/// Handle to the worker thread. Dropping it shuts the thread down and joins it.
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
    pub fn spawn(
        model: PathBuf,
        opts: EngineOptions,
        notify: impl Fn() + Send + 'static,
    ) -> Worker {
        let (requests, request_rx) = crossbeam_channel::unbounded();
        let (reply_tx, replies) = crossbeam_channel::unbounded();
        let thread = std::thread::Builder::new()
            .name("sketch2face-worker".into())
            .spawn(move || worker_main(&model, &opts, &request_rx, &reply_tx, &notify))
            .expect("spawning the worker thread");
        Worker {
            requests,
            replies,
            thread: Some(thread),
        }
    }

    /// Ask for a face. Never blocks; a newer request replaces any that the worker has not begun.
    pub fn submit(&self, id: u64, sketch: GrayImage) {
        // If the thread has stopped (failed load), the request is dropped: the app already
        // shows the load error.
        let _ = self.requests.send(ToWorker::Generate { id, sketch });
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

impl Drop for Worker {
    fn drop(&mut self) {
        let _ = self.requests.send(ToWorker::Shutdown);
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

fn worker_main(
    model: &std::path::Path,
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
        Engine::load(model, opts).map_err(|e| error_chain(&e))
    }));
    let mut engine = match loaded {
        Ok(Ok(engine)) => engine,
        Ok(Err(error)) => return reply(FromWorker::LoadFailed { error }),
        Err(panic) => {
            let error = format!(
                "loading the model crashed: {}",
                panic_message(panic.as_ref())
            );
            return reply(FromWorker::LoadFailed { error });
        }
    };
    reply(FromWorker::Ready {
        provider: engine.provider(),
        info: engine.info().clone(),
        load_time: start.elapsed(),
    });

    while let Some((id, sketch)) = next_job(requests) {
        let start = Instant::now();
        let result = catch_unwind(AssertUnwindSafe(|| engine.generate(&sketch)));
        reply(match result {
            Ok(Ok(face)) => FromWorker::Generated {
                id,
                face,
                elapsed: start.elapsed(),
            },
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

/// Block for the next request, then drain the queue and keep only the newest `Generate`.
/// `None` means shut down (asked to, or every handle is gone).
fn next_job(requests: &Receiver<ToWorker>) -> Option<(u64, GrayImage)> {
    let mut newest = requests.recv().ok()?;
    loop {
        if matches!(newest, ToWorker::Shutdown) {
            return None;
        }
        match requests.try_recv() {
            Ok(next) => newest = next,
            Err(TryRecvError::Empty) => break,
            Err(TryRecvError::Disconnected) => break,
        }
    }
    match newest {
        ToWorker::Generate { id, sketch } => Some((id, sketch)),
        ToWorker::Shutdown => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn gray(v: u8) -> GrayImage {
        GrayImage::from_pixel(4, 4, image::Luma([v]))
    }

    #[test]
    fn next_job_keeps_only_the_newest_generate() {
        let (tx, rx) = crossbeam_channel::unbounded();
        for id in 1..=5 {
            tx.send(ToWorker::Generate {
                id,
                sketch: gray(id as u8),
            })
            .unwrap();
        }
        let (id, sketch) = next_job(&rx).unwrap();
        assert_eq!(id, 5);
        assert_eq!(sketch.get_pixel(0, 0).0, [5]);
        assert!(rx.is_empty());
    }

    #[test]
    fn next_job_stops_at_shutdown_even_behind_requests() {
        let (tx, rx) = crossbeam_channel::unbounded();
        tx.send(ToWorker::Generate {
            id: 1,
            sketch: gray(0),
        })
        .unwrap();
        tx.send(ToWorker::Shutdown).unwrap();
        tx.send(ToWorker::Generate {
            id: 2,
            sketch: gray(0),
        })
        .unwrap();
        assert!(next_job(&rx).is_none());
    }

    #[test]
    fn next_job_ends_when_all_senders_are_gone() {
        let (tx, rx) = crossbeam_channel::unbounded::<ToWorker>();
        drop(tx);
        assert!(next_job(&rx).is_none());
    }

    #[test]
    fn a_missing_model_is_reported_not_a_panic() {
        let (tx, rx) = crossbeam_channel::unbounded();
        let worker = Worker::spawn(
            PathBuf::from("/nonexistent/sketch2face-missing.onnx"),
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
        worker.submit(1, gray(255));
        drop(worker);
    }
}

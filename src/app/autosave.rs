//! Never lose a drawing: the document is written to the data folder after each finished
//! stroke, on a thread of its own, atomically, at most once per [`AUTOSAVE_PAUSE`] (snapshots
//! that arrive meanwhile are coalesced into the newest), as an `.ora` with sketch2face's data
//! only (nothing rendered, so it costs little). A clean exit removes the file; one
//! found at start means the last session ended without that (a crash, `kill -9`, a power cut),
//! and the app restores it.

use std::path::{Path, PathBuf};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use crossbeam_channel::{Receiver, RecvTimeoutError, Sender};

use crate::error_chain;
use crate::sketch::{self, DrawingDocument};

/// The autosave's file name in the data folder.
pub const AUTOSAVE_FILE: &str = "autosave.ora";
/// Least time between two autosaves.
pub const AUTOSAVE_PAUSE: Duration = Duration::from_millis(500);

enum Job {
    Save(Box<DrawingDocument>),
    /// A clean exit: the drawing is saved or deliberately discarded.
    Remove,
    Stop,
}

pub struct Autosave {
    path: PathBuf,
    jobs: Sender<Job>,
    failures: Receiver<String>,
    thread: Option<JoinHandle<()>>,
}

impl Autosave {
    /// Autosave into `folder/autosave.ora`; `notify` is called after a failure is reported.
    pub fn start(folder: &Path, notify: impl Fn() + Send + 'static) -> Self {
        let path = folder.join(AUTOSAVE_FILE);
        let (jobs, job_rx) = crossbeam_channel::unbounded();
        let (failure_tx, failures) = crossbeam_channel::unbounded();
        let thread_path = path.clone();
        let thread = std::thread::Builder::new()
            .name("sketch2face-autosave".into())
            .spawn(move || run(&thread_path, &job_rx, &failure_tx, &notify))
            .ok();
        Self {
            path,
            jobs,
            failures,
            thread,
        }
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Write `document` soon. Never blocks.
    pub fn save(&self, document: DrawingDocument) {
        let _ = self.jobs.send(Job::Save(Box::new(document)));
    }

    /// Remove the autosave (after any write still pending): the session ends cleanly.
    pub fn remove(&self) {
        let _ = self.jobs.send(Job::Remove);
    }

    /// A failed autosave, said as a message.
    pub fn try_recv(&self) -> Option<String> {
        self.failures.try_recv().ok()
    }

    /// Whether the thread runs (it could not be started when this is false).
    pub fn is_running(&self) -> bool {
        self.thread.as_ref().is_some_and(|t| !t.is_finished())
    }
}

impl Drop for Autosave {
    /// Writes what is pending, then stops.
    fn drop(&mut self) {
        let _ = self.jobs.send(Job::Stop);
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

fn run(path: &Path, jobs: &Receiver<Job>, failures: &Sender<String>, notify: &dyn Fn()) {
    let mut pending: Option<Box<DrawingDocument>> = None;
    let mut quiet_until = Instant::now();
    let write = |document: &DrawingDocument| {
        let written = path
            .parent()
            .map_or(Ok(()), std::fs::create_dir_all)
            .map_err(|e| format!("{}: {}", path.display(), error_chain(&e)))
            .and_then(|()| {
                sketch::save_ora(path, document, sketch::Layers::DataOnly)
                    .map_err(|e| error_chain(&e))
            });
        if let Err(error) = written {
            let _ = failures.send(format!("Could not autosave the drawing: {error}"));
            notify();
        }
    };
    loop {
        let job = if pending.is_some() {
            match jobs.recv_deadline(quiet_until) {
                Ok(job) => Some(job),
                Err(RecvTimeoutError::Timeout) => None,
                Err(RecvTimeoutError::Disconnected) => Some(Job::Stop),
            }
        } else {
            match jobs.recv() {
                Ok(job) => Some(job),
                Err(_) => return,
            }
        };
        match job {
            Some(Job::Save(document)) => pending = Some(document),
            Some(Job::Remove) => {
                pending = None;
                if let Err(e) = std::fs::remove_file(path)
                    && e.kind() != std::io::ErrorKind::NotFound
                {
                    let _ = failures.send(format!(
                        "Could not remove the autosave {}: {}",
                        path.display(),
                        error_chain(&e)
                    ));
                    notify();
                }
            }
            Some(Job::Stop) => {
                if let Some(document) = pending.take() {
                    write(&document);
                }
                return;
            }
            None => {
                if let Some(document) = pending.take() {
                    write(&document);
                    quiet_until = Instant::now() + AUTOSAVE_PAUSE;
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sketch::{Drawing, OpenedOra, Point, Stroke, Tool};

    fn document(strokes: usize) -> DrawingDocument {
        let mut drawing = Drawing::default();
        for i in 0..strokes {
            let mut stroke = Stroke::new(Tool::Brush, 0.01);
            stroke.push(Point::without_pressure(0.1 * i as f32, 0.5));
            drawing = drawing.with_stroke(stroke);
        }
        DrawingDocument {
            drawing,
            seed: strokes as u64,
            ..DrawingDocument::default()
        }
    }

    fn wait_until(done: impl Fn() -> bool) {
        let deadline = Instant::now() + Duration::from_secs(20);
        while !done() {
            assert!(Instant::now() < deadline, "timed out");
            std::thread::sleep(Duration::from_millis(10));
        }
    }

    #[test]
    fn the_newest_document_is_written_and_a_clean_exit_removes_it() {
        let dir = tempfile::tempdir().unwrap();
        let autosave = Autosave::start(&dir.path().join("data"), || {});
        for strokes in 1..=5 {
            autosave.save(document(strokes));
        }
        let path = autosave.path().to_path_buf();
        let seed = || match sketch::load_ora(&path) {
            Ok(OpenedOra::Drawing(document)) => Some(document.seed),
            _ => None,
        };
        wait_until(|| seed() == Some(5));
        assert_eq!(
            sketch::load_ora(&path).unwrap(),
            OpenedOra::Drawing(document(5))
        );
        autosave.remove();
        drop(autosave);
        assert!(!path.exists());
    }

    #[test]
    fn a_pending_write_is_finished_before_stopping() {
        let dir = tempfile::tempdir().unwrap();
        let autosave = Autosave::start(dir.path(), || {});
        autosave.save(document(1));
        autosave.save(document(2));
        let path = autosave.path().to_path_buf();
        drop(autosave);
        assert_eq!(
            sketch::load_ora(&path).unwrap(),
            OpenedOra::Drawing(document(2))
        );
    }

    #[test]
    fn a_failed_autosave_is_reported() {
        let dir = tempfile::tempdir().unwrap();
        let blocker = dir.path().join("not-a-folder");
        std::fs::write(&blocker, b"").unwrap();
        let autosave = Autosave::start(&blocker, || {});
        autosave.save(document(1));
        wait_until(|| !autosave.failures.is_empty());
        let failure = autosave.try_recv().unwrap();
        assert!(
            failure.contains("Could not autosave") && failure.contains("not-a-folder"),
            "{failure}"
        );
    }
}

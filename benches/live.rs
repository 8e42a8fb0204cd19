//! The live path, measured in the headless harness (egui_kittest) with the real app, the real
//! worker and the real model:
//!
//! - startup to the first face: from building the app with a sketch file to open (as
//!   `sketch2face FILE` does) to the end of the frame that shows its face (runtime and model
//!   load, file load, first inference, texture);
//! - stroke to face, p50 and p95: for every pointer event of a scripted drawing of 200 strokes,
//!   from the moment the event is handed to egui to the end of the first frame whose face
//!   texture was made from a drawing that includes it;
//! - UI-thread time per frame while the worker is busy, p99: the egui pass (the app's `ui`,
//!   layout, input) plus tessellation and the CPU side of the texture uploads; what the GPU
//!   does is not included (there is none here);
//! - peak resident memory of the process (`VmHWM`).
//!
//! With a model that takes colour hints, every fourth stroke is painted with the colour tool
//! (a broad stroke in one of the swatches' colours), so the frame times include the colour
//! overlay and the hints; with one that does not, the summary says `"colour_strokes": 0`.
//!
//! ```text
//! cargo bench --bench live -- [--model PATH] [--strokes 200] [--threads N]
//!                             [--photographic true] [--out target/bench/live.json]
//! ```
//!
//! `--photographic true` runs the app on face pipeline v3 (mesh, bank, warp, refine; the
//! generator stands in until the drawing is a face), as the Faces switch does.
//!
//! ```text
//! ```
//!
//! The harness is driven like a window's event loop: pointer events arrive every 8 ms (a
//! 125 Hz mouse) with a pause between strokes, each event gets a frame, and otherwise a frame
//! runs only when egui or the worker asks for a repaint, at the time asked for (the app's
//! `request_repaint` callback wakes the loop; nothing polls). The app instrumentation it needs is public API that already
//! exists: `submitted_id` (the newest drawing sent to the worker) and `shown_id` (the drawing
//! whose face is on screen).

mod common;

use std::collections::{HashMap, VecDeque};
use std::hint::black_box;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::{Duration, Instant};

use crossbeam_channel::Receiver;
use eframe::egui::{
    self, Event, Modifiers, PointerButton, Pos2, TextureId, TexturesDelta, ViewportId,
};
use egui_kittest::{Harness, TestRenderer};
use serde_json::json;
use sketch2face::app::settings::COLOUR_SIZE_DEFAULT;
use sketch2face::app::toolbar::SWATCHES;
use sketch2face::app::{AppOptions, Command, ModelStatus, SketchApp};
use sketch2face::engine::EngineOptions;
use sketch2face::sketch::{self, Stroke, Tool};

/// The app's default window size.
const WINDOW: [f32; 2] = [1120.0, 640.0];
/// Pointer events during a stroke: every 8 ms (125 Hz).
const EVENT_INTERVAL: Duration = Duration::from_millis(8);
/// Pen up between strokes.
const STROKE_GAP: Duration = Duration::from_millis(60);
/// Longest wait for a face (startup, the end of the script).
const PATIENCE: Duration = Duration::from_secs(60);
/// Every this many strokes, one is a colour stroke (when the model takes hints).
const COLOUR_EVERY: usize = 4;

/// The app, with the time its `ui` takes in each frame (to split the frame time).
struct TimedApp {
    app: SketchApp,
    last_ui: Duration,
}

impl eframe::App for TimedApp {
    fn ui(&mut self, ui: &mut egui::Ui, frame: &mut eframe::Frame) {
        let start = Instant::now();
        self.app.ui(ui, frame);
        self.last_ui = start.elapsed();
    }
}

/// Stands in for the GPU renderer: copies every texture update into a buffer, as the CPU side
/// of an upload does, and keeps one copy of each texture (the kittest default would keep every
/// delta until a render, which a long run cannot afford).
#[derive(Default)]
struct UploadRenderer {
    textures: HashMap<TextureId, (usize, Vec<u8>)>,
}

impl TestRenderer for UploadRenderer {
    fn handle_delta(&mut self, delta: &mut TexturesDelta) {
        for (id, updates) in delta.set.drain() {
            for update in updates {
                let egui::ImageData::Color(image) = &update.image;
                let [width, height] = image.size;
                match update.pos {
                    None => {
                        let (texture_width, bytes) = self.textures.entry(id).or_default();
                        *texture_width = width;
                        bytes.clear();
                        bytes.extend(image.pixels.iter().flat_map(|c| c.to_array()));
                    }
                    Some([x, y]) => {
                        let Some((texture_width, bytes)) = self.textures.get_mut(&id) else {
                            continue;
                        };
                        for row in 0..height {
                            let start = ((y + row) * *texture_width + x) * 4;
                            let source = &image.pixels[row * width..(row + 1) * width];
                            for (dest, color) in bytes[start..start + width * 4]
                                .chunks_exact_mut(4)
                                .zip(source)
                            {
                                dest.copy_from_slice(&color.to_array());
                            }
                        }
                    }
                }
            }
        }
        for id in delta.free.drain() {
            self.textures.remove(&id);
        }
    }

    fn render(
        &mut self,
        _ctx: &egui::Context,
        _output: &egui::FullOutput,
    ) -> Result<image::RgbaImage, String> {
        Err("the live benchmark does not render".to_owned())
    }
}

struct Frame {
    /// The pointer event the frame handled: "press", "move", "release", or none.
    event: Option<&'static str>,
    total: Duration,
    app_ui: Duration,
    /// A generation was in flight when the frame began.
    worker_busy: bool,
}

/// Runs the harness like an event loop: frames on input and on repaint requests only.
struct Driver<'a> {
    harness: Harness<'a, TimedApp>,
    wakes: Receiver<Duration>,
    /// When egui asked for a delayed repaint.
    timer: Option<Instant>,
    frames: Vec<Frame>,
    record: bool,
    /// Pointer events not yet shown in a face: when each was handed to egui, and the id of the
    /// first drawing that includes it.
    pending: VecDeque<(Instant, u64)>,
    latencies_ms: Vec<f64>,
    events_without_submission: usize,
    generation_ms: Vec<f64>,
}

impl Driver<'_> {
    fn app(&self) -> &SketchApp {
        &self.harness.state().app
    }

    /// One frame, timed; the bookkeeping of what it submitted and showed.
    fn step(&mut self, event: Option<(Event, Instant)>) {
        while self.wakes.try_recv().is_ok() {} // this frame answers them
        let (submitted, shown) = (self.app().submitted_id(), self.app().shown_id());
        let worker_busy = self.app().is_busy();
        let start = Instant::now();
        if let Some((event, _)) = &event {
            self.harness.input_mut().events.push(event.clone());
        }
        self.harness.step();
        let output = self.harness.output();
        let primitives = self
            .harness
            .ctx
            .tessellate(output.shapes.clone(), output.pixels_per_point);
        black_box(primitives);
        let end = Instant::now();
        let delay = output
            .viewport_output
            .get(&ViewportId::ROOT)
            .map_or(Duration::MAX, |v| v.repaint_delay);
        if delay < Duration::from_secs(3600) {
            let due = end + delay;
            self.timer = Some(self.timer.map_or(due, |t| t.min(due)));
        }
        if self.record {
            let app_ui = self.harness.state().last_ui;
            let kind = event.as_ref().map(|(event, _)| match event {
                Event::PointerButton { pressed: true, .. } => "press",
                Event::PointerButton { pressed: false, .. } => "release",
                _ => "move",
            });
            self.frames.push(Frame {
                event: kind,
                total: end - start,
                app_ui,
                worker_busy,
            });
        }

        if let Some((_, handed_at)) = event {
            let now_submitted = self.app().submitted_id();
            if now_submitted > submitted {
                self.pending.push_back((handed_at, now_submitted));
            } else {
                self.events_without_submission += 1;
            }
        }
        let now_shown = self.app().shown_id();
        if now_shown > shown {
            if let Some(elapsed) = self.app().last_generation_time() {
                self.generation_ms.push(common::ms(elapsed));
            }
            while let Some(&(handed_at, id)) = self.pending.front()
                && id <= now_shown
            {
                self.latencies_ms.push(common::ms(end - handed_at));
                self.pending.pop_front();
            }
        }
    }

    /// Runs the frames asked for until `deadline`, or until `done` holds after a frame.
    /// Returns whether `done` held.
    fn idle_until(&mut self, deadline: Instant, done: impl Fn(&SketchApp) -> bool) -> bool {
        loop {
            if done(self.app()) {
                return true;
            }
            let now = Instant::now();
            if now >= deadline {
                return false;
            }
            // A repaint asked for later (`request_repaint_after`) waits for its time, as in
            // eframe's event loop; one asked for now makes a frame now.
            while let Ok(delay) = self.wakes.try_recv() {
                self.schedule(now, delay);
            }
            if self.timer.is_some_and(|t| t <= now) {
                self.timer = None;
                self.step(None);
                continue;
            }
            let wake_at = self.timer.map_or(deadline, |t| t.min(deadline));
            if let Ok(delay) = self.wakes.recv_deadline(wake_at) {
                self.schedule(Instant::now(), delay);
            }
        }
    }

    /// A frame at `now + delay` at the latest.
    fn schedule(&mut self, now: Instant, delay: Duration) {
        if let Some(at) = now.checked_add(delay) {
            self.timer = Some(self.timer.map_or(at, |t| t.min(at)));
        }
    }
}

/// The pointer events of one stroke, in screen points, with their times from the stroke start.
fn stroke_events(stroke: &Stroke, canvas: egui::Rect) -> Vec<(Duration, Event)> {
    let to_screen = |x: f32, y: f32| canvas.min + egui::vec2(x, y) * canvas.width();
    let positions: Vec<Pos2> = stroke.points.iter().map(|p| to_screen(p.x, p.y)).collect();
    let button = |pos, pressed| Event::PointerButton {
        pos,
        button: PointerButton::Primary,
        pressed,
        modifiers: Modifiers::NONE,
    };
    let mut events = vec![
        (Duration::ZERO, Event::PointerMoved(positions[0])),
        (Duration::from_millis(1), button(positions[0], true)),
    ];
    for (i, &pos) in positions.iter().enumerate().skip(1) {
        events.push((EVENT_INTERVAL * i as u32, Event::PointerMoved(pos)));
    }
    let last = *positions.last().expect("strokes have points");
    events.push((EVENT_INTERVAL * positions.len() as u32, button(last, false)));
    events
}

fn main() -> ExitCode {
    common::exit_code(run())
}

fn run() -> anyhow::Result<()> {
    let defaults = AppOptions::default();
    let model = common::arg("model").map_or(defaults.model.clone(), PathBuf::from);
    let stroke_count: usize = common::arg_or("strokes", 200);
    let photographic: bool = common::arg_or("photographic", false);
    // The engine's intra-op threads; 0 (the app's default) lets the engine choose.
    let threads: usize = common::arg_or("threads", defaults.engine.intra_threads);
    let engine = EngineOptions {
        intra_threads: threads,
        ..defaults.engine
    };
    let out = common::project_path(
        common::arg("out").unwrap_or_else(|| "target/bench/live.json".to_owned()),
    );
    anyhow::ensure!(
        model.is_file(),
        "no model at {} (train and export one, or pass --model)",
        model.display()
    );

    // The sketch the app opens at start, as `sketch2face FILE` would.
    let sketch_file = common::project_path("target/bench/startup_sketch.png");
    std::fs::create_dir_all(sketch_file.parent().expect("a folder"))?;
    sketch::rasterize(&common::face_drawing(), 512).save(&sketch_file)?;

    // A fresh start: no drawing of an earlier run to restore.
    let data_dir = common::project_path("target/bench/data");
    let _ = std::fs::remove_file(data_dir.join(sketch2face::app::autosave::AUTOSAVE_FILE));

    // ---- startup to the first face ----
    let (wake_tx, wakes) = crossbeam_channel::unbounded();
    let started = Instant::now();
    let harness = Harness::builder()
        .with_size(WINDOW)
        .renderer(UploadRenderer::default())
        .with_context_setup(move |ctx| {
            ctx.set_request_repaint_callback(move |info| {
                let _ = wake_tx.send(info.delay);
            });
        })
        .build_eframe(|cc| TimedApp {
            app: SketchApp::new(
                &cc.egui_ctx,
                AppOptions {
                    model,
                    engine,
                    initial_file: Some(sketch_file.clone()),
                    settings: sketch2face::app::Settings { photographic, ..Default::default() },
                    // The autosave runs as in the app (off the UI thread, after each stroke).
                    data_dir: Some(data_dir),
                    ..defaults
                },
            ),
            last_ui: Duration::ZERO,
        });
    let mut driver = Driver {
        harness,
        wakes,
        timer: None,
        frames: Vec::new(),
        record: false,
        pending: VecDeque::new(),
        latencies_ms: Vec::new(),
        events_without_submission: 0,
        generation_ms: Vec::new(),
    };
    let first_face = driver.idle_until(started + PATIENCE, |app| {
        app.shown_id() > 0 && app.face().is_some()
    });
    let startup = started.elapsed();
    if let ModelStatus::Failed(error) = driver.app().model_status() {
        anyhow::bail!("the app could not load the model: {error}");
    }
    anyhow::ensure!(first_face, "no face within {PATIENCE:?} of startup");
    let (load_time, provider, model_path, takes_hints, pipeline_state) = match driver.app().model_status() {
        ModelStatus::Ready {
            load_time,
            provider,
            info,
            pipeline,
        } => (
            *load_time,
            provider.to_string(),
            info.path.clone(),
            // Face pipeline v3 takes hints whatever the generator does.
            info.takes_hints || pipeline.is_ok(),
            match pipeline {
                Ok(()) => "face pipeline v3".to_owned(),
                Err(why) => format!("off: {why}"),
            },
        ),
        _ => (Duration::ZERO, "?".to_owned(), PathBuf::new(), false, String::new()),
    };
    anyhow::ensure!(
        !photographic || pipeline_state == "face pipeline v3",
        "--photographic true, but the pipeline did not load: {pipeline_state}"
    );
    if !takes_hints {
        println!(
            "the model takes no colour hints: no colour strokes (pass --model with a v2 model)"
        );
    }
    let first_generation_ms = driver.app().last_generation_time().map(common::ms);
    println!(
        "startup to first face: {:.0} ms (model load {:.0} ms on {provider}, first generation {:.1} ms)",
        common::ms(startup),
        common::ms(load_time),
        first_generation_ms.unwrap_or(f64::NAN)
    );

    // ---- a blank page, then the scripted drawing ----
    driver.harness.state_mut().app.push_command(Command::Clear);
    driver.idle_until(Instant::now() + Duration::from_millis(200), |_| false);
    anyhow::ensure!(
        driver.app().drawing().strokes.is_empty() && driver.app().drawing().background.is_none(),
        "Clear did not clear"
    );
    let canvas = driver.app().layout().canvas;
    let strokes = common::scripted_strokes(stroke_count);
    driver.record = true;
    driver.generation_ms.clear();
    let script_start = Instant::now();
    let mut stroke_start = script_start;
    let mut colour_strokes = 0;
    for (k, stroke) in strokes.iter().enumerate() {
        let colour = takes_hints && k % COLOUR_EVERY == COLOUR_EVERY - 1;
        if colour {
            // As a user does it: a swatch (which selects the colour tool), then the stroke.
            let app = &mut driver.harness.state_mut().app;
            app.push_command(Command::SetColour(SWATCHES[k % SWATCHES.len()].1));
            app.push_command(Command::SetSize(COLOUR_SIZE_DEFAULT));
            colour_strokes += 1;
        }
        for (offset, event) in stroke_events(stroke, canvas) {
            let at = stroke_start + offset;
            driver.idle_until(at, |_| false);
            driver.step(Some((event, Instant::now())));
        }
        if colour {
            let app = &mut driver.harness.state_mut().app;
            app.push_command(Command::SelectTool(Tool::Brush));
        }
        stroke_start = Instant::now() + STROKE_GAP;
    }
    let caught_up = driver.idle_until(Instant::now() + PATIENCE, |app| {
        !app.is_busy() && app.shown_id() == app.submitted_id()
    });
    let script_time = script_start.elapsed();
    anyhow::ensure!(
        caught_up,
        "the face did not catch up with the drawing within {PATIENCE:?}"
    );
    // Idle: after the last face, the app should neither paint nor compute.
    let (frames_before, cpu_before) = (driver.frames.len(), common::process_cpu_seconds());
    driver.idle_until(Instant::now() + Duration::from_secs(1), |_| false);
    let idle_frames = driver.frames.len() - frames_before;
    let idle_cpu_ms = common::process_cpu_seconds()
        .zip(cpu_before)
        .map(|(after, before)| common::round3((after - before) * 1e3));
    driver.frames.truncate(frames_before);
    let errors: Vec<&str> = driver
        .app()
        .messages()
        .iter()
        .filter(|m| m.is_error)
        .map(|m| m.text.as_str())
        .collect();
    if let Some(last) = errors.last() {
        println!("{} error messages; the last: {last}", errors.len());
    }
    let drawn = driver.app().drawing().strokes.len();
    anyhow::ensure!(
        drawn == strokes.len(),
        "the app holds {drawn} strokes, the script drew {}",
        strokes.len()
    );
    anyhow::ensure!(
        driver.pending.is_empty(),
        "{} events never reached a face",
        driver.pending.len()
    );
    let peak_rss_mb = common::peak_rss_mb();

    // ---- results ----
    let busy: Vec<&Frame> = driver.frames.iter().filter(|f| f.worker_busy).collect();
    let total_ms: Vec<f64> = busy.iter().map(|f| common::ms(f.total)).collect();
    let app_ms: Vec<f64> = busy.iter().map(|f| common::ms(f.app_ui)).collect();
    let all_ms: Vec<f64> = driver.frames.iter().map(|f| common::ms(f.total)).collect();
    let lat = &driver.latencies_ms;
    let mut slowest: Vec<&Frame> = driver.frames.iter().collect();
    slowest.sort_by_key(|f| std::cmp::Reverse(f.total));
    let slowest: Vec<serde_json::Value> = slowest
        .iter()
        .take(10)
        .map(|f| json!({"ms": common::round3(common::ms(f.total)), "app_ui_ms": common::round3(common::ms(f.app_ui)), "event": f.event}))
        .collect();
    let by_event = |kind: Option<&str>| -> serde_json::Value {
        let ms: Vec<f64> = driver
            .frames
            .iter()
            .filter(|f| f.event == kind)
            .map(|f| common::ms(f.total))
            .collect();
        json!({"p50": common::round3(common::percentile(&ms, 50.0)), "p99": common::round3(common::percentile(&ms, 99.0)), "n": ms.len()})
    };
    let p = |v: &[f64], q| common::round3(common::percentile(v, q));
    let summary = json!({
        "photographic": photographic,
        "pipeline": pipeline_state,
        "model": model_path,
        "provider": provider,
        "intra_threads": if threads == 0 { "engine default".to_owned() } else { threads.to_string() },
        "window": WINDOW,
        "canvas_px": canvas.width().round(),
        "strokes": strokes.len(),
        "colour_strokes": colour_strokes,
        "pointer_events": lat.len() + driver.events_without_submission,
        "events_without_new_drawing": driver.events_without_submission,
        "script_seconds": common::round3(script_time.as_secs_f64()),
        "startup_to_first_face_ms": common::round3(common::ms(startup)),
        "model_load_ms": common::round3(common::ms(load_time)),
        "first_generation_ms": first_generation_ms.map(common::round3),
        "stroke_to_face_ms": {"p50": p(lat, 50.0), "p95": p(lat, 95.0), "max": p(lat, 100.0), "n": lat.len()},
        "generation_ms": {"p50": p(&driver.generation_ms, 50.0), "p95": p(&driver.generation_ms, 95.0), "faces_shown": driver.generation_ms.len()},
        "ui_frame_ms_worker_busy": {"p50": p(&total_ms, 50.0), "p99": p(&total_ms, 99.0), "max": p(&total_ms, 100.0), "n": total_ms.len()},
        "app_ui_ms_worker_busy": {"p50": p(&app_ms, 50.0), "p99": p(&app_ms, 99.0), "max": p(&app_ms, 100.0)},
        "ui_frame_ms_all": {"p50": p(&all_ms, 50.0), "p99": p(&all_ms, 99.0), "n": all_ms.len()},
        "ui_frame_ms_by_event": {"press": by_event(Some("press")), "move": by_event(Some("move")),
                                 "release": by_event(Some("release")), "repaint": by_event(None)},
        "slowest_frames": slowest,
        "peak_rss_mb": peak_rss_mb.map(common::round3),
        "idle_second": {"frames": idle_frames, "process_cpu_ms": idle_cpu_ms},
    });
    println!(
        "{} strokes ({colour_strokes} in colour), {} pointer events in {:.1} s, {} frames, {} faces",
        strokes.len(),
        lat.len(),
        script_time.as_secs_f64(),
        all_ms.len(),
        driver.generation_ms.len()
    );
    println!(
        "stroke to face: p50 {:.1} ms, p95 {:.1} ms, max {:.1} ms",
        p(lat, 50.0),
        p(lat, 95.0),
        p(lat, 100.0)
    );
    println!(
        "UI frame while the worker is busy: p50 {:.2} ms, p99 {:.2} ms (the app's ui: p99 {:.2} ms)",
        p(&total_ms, 50.0),
        p(&total_ms, 99.0),
        p(&app_ms, 99.0)
    );
    println!(
        "generation (worker): p50 {:.1} ms",
        p(&driver.generation_ms, 50.0)
    );
    println!(
        "peak resident memory: {:.0} MB",
        peak_rss_mb.unwrap_or(f64::NAN)
    );
    println!(
        "idle for 1 s after the last face: {idle_frames} frames, {:.1} ms of CPU",
        idle_cpu_ms.unwrap_or(f64::NAN)
    );
    common::write_json(&out, &summary);
    Ok(())
}

//! The desktop app in `egui_kittest`'s headless harness: options with the real model or a
//! contract model, waiting for the worker, drawing with pointer events, dropping files. Shared
//! by `tests/app.rs` and `tests/soak.rs` (each includes this file with `#[path]`).

#![allow(dead_code)] // each includer uses a different part

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use eframe::egui::{self, Key, Modifiers, Pos2, Vec2};
use egui_kittest::Harness;
use image::GrayImage;
use sketch2face::app::{AppOptions, ModelStatus, Settings, SketchApp};
use sketch2face::engine::{Device, EngineOptions, PipelineModels};
use sketch2face::sketch::{self, Drawing, Point, Stroke, Tool};

/// Generous: a debug build on a busy 2-core machine.
pub const WAIT: Duration = Duration::from_secs(120);
pub const WINDOW: Vec2 = Vec2::new(1000.0, 560.0);

pub fn project(path: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(path)
}

pub fn model_path() -> PathBuf {
    let path = std::env::var_os("SKETCH2FACE_TEST_MODEL")
        .map_or_else(|| project("models/sketch2face.onnx"), PathBuf::from);
    assert!(
        path.is_file(),
        "the model {} is missing (it comes from training; see models/README.md)",
        path.display()
    );
    path
}

pub fn engine_options() -> EngineOptions {
    EngineOptions {
        device: Device::Cpu,
        intra_threads: 1,
    }
}

pub fn options() -> AppOptions {
    AppOptions {
        model: model_path(),
        pipeline: PipelineModels::shipped(),
        engine: engine_options(),
        initial_file: None,
        settings: Settings::default(),
        guide: Some(project("assets/guide.png")).filter(|p| p.is_file()),
        data_dir: None,
        seed_start: 1,
    }
}

/// `valid_v2.onnx` with a data folder (autosave, settings).
pub fn with_data_dir(dir: &Path) -> AppOptions {
    AppOptions {
        data_dir: Some(dir.to_path_buf()),
        ..contract_model("valid_v2.onnx")
    }
}

/// The options with one of the contract test models.
pub fn contract_model(name: &str) -> AppOptions {
    AppOptions {
        model: project(&format!("tests/data/contract/{name}")),
        ..options()
    }
}

pub fn harness(options: AppOptions) -> Harness<'static, SketchApp> {
    let mut harness = Harness::builder()
        .with_size(WINDOW)
        .build_eframe(|cc| SketchApp::new(&cc.egui_ctx, options));
    harness.run_ok();
    harness
}

/// Run frames until `done` holds (the worker and file jobs answer on their own threads).
pub fn wait_for(harness: &mut Harness<'_, SketchApp>, what: &str, done: impl Fn(&SketchApp) -> bool) {
    let deadline = Instant::now() + WAIT;
    while !done(harness.state()) {
        assert!(
            Instant::now() < deadline,
            "timed out waiting for {what}; messages: {:?}",
            harness.state().messages()
        );
        harness.step();
        std::thread::sleep(Duration::from_millis(5));
    }
    harness.run_ok();
}

pub fn wait_for_model(harness: &mut Harness<'_, SketchApp>) {
    wait_for(harness, "the model", |app| {
        !matches!(app.model_status(), ModelStatus::Loading)
    });
    if let ModelStatus::Failed(error) = harness.state().model_status() {
        panic!("the model did not load: {error}");
    }
}

/// The newest drawing state has its face on screen.
pub fn wait_for_face(harness: &mut Harness<'_, SketchApp>) {
    wait_for(harness, "the face", |app| {
        app.has_face_texture() && app.shown_id() == app.submitted_id() && !app.is_busy()
    });
}

/// Screen position of a point given in canvas units (0..1).
pub fn on_canvas(harness: &Harness<'_, SketchApp>, (x, y): (f32, f32)) -> Pos2 {
    let canvas = harness.state().layout().canvas;
    canvas.min + Vec2::new(x, y) * canvas.width()
}

/// Press, move through `points`, release: one frame per event, like a real mouse.
pub fn draw(harness: &mut Harness<'_, SketchApp>, points: &[(f32, f32)]) {
    let first = on_canvas(harness, points[0]);
    harness.hover_at(first);
    harness.drag_at(first);
    harness.step();
    for &p in &points[1..] {
        let pos = on_canvas(harness, p);
        harness.hover_at(pos);
        harness.step();
    }
    harness.drop_at(on_canvas(harness, points[points.len() - 1]));
    harness.run_ok();
}

pub fn ctrl(harness: &Harness<'_, SketchApp>, key: Key) {
    harness.key_press_modifiers(Modifiers::COMMAND, key);
}

pub fn ctrl_shift(harness: &Harness<'_, SketchApp>, key: Key) {
    harness.key_press_modifiers(Modifiers::COMMAND | Modifiers::SHIFT, key);
}

pub const LINE: [(f32, f32); 5] = [
    (0.2, 0.5),
    (0.35, 0.48),
    (0.5, 0.5),
    (0.65, 0.52),
    (0.8, 0.5),
];

pub fn last_message(app: &SketchApp) -> (String, bool) {
    let message = app.messages().last().expect("a message");
    (message.text.clone(), message.is_error)
}

/// A sketch file like a user would open: a simple face, drawn on the right half of a wide page.
pub fn write_sketch_file(dir: &Path) -> PathBuf {
    let stroke = |points: Vec<(f32, f32)>| {
        Arc::new(Stroke {
            points: points
                .into_iter()
                .map(|(x, y)| Point::new(x, y, 0.5))
                .collect(),
            ..Stroke::new(Tool::Brush, 0.012)
        })
    };
    let oval: Vec<(f32, f32)> = (0..=24)
        .map(|i| {
            let t = i as f32 / 24.0 * std::f32::consts::TAU;
            (0.5 + 0.3 * t.cos(), 0.52 + 0.38 * t.sin())
        })
        .collect();
    let drawing = Drawing {
        strokes: vec![
            stroke(oval),
            stroke(vec![(0.36, 0.42), (0.42, 0.4), (0.46, 0.42)]),
            stroke(vec![(0.54, 0.42), (0.58, 0.4), (0.64, 0.42)]),
            stroke(vec![(0.5, 0.45), (0.48, 0.58), (0.52, 0.6)]),
            stroke(vec![(0.42, 0.7), (0.5, 0.73), (0.58, 0.7)]),
        ],
        background: None,
    };
    let face = sketch::rasterize(&drawing, 300);
    let mut page = GrayImage::from_pixel(600, 300, image::Luma([255]));
    image::imageops::overlay(&mut page, &face, 300, 0);
    let path = dir.join("my sketch.png");
    page.save(&path).unwrap();
    path
}

#[derive(Debug)]
pub struct DroppedPath(pub PathBuf);

impl egui::DroppedFile for DroppedPath {
    fn path(&self) -> &Path {
        &self.0
    }

    fn bytes(&self) -> Result<Vec<u8>, String> {
        std::fs::read(&self.0).map_err(|e| e.to_string())
    }
}

//! Headless tests of the desktop app with `egui_kittest`: the real app, the real worker thread
//! and the real model (`models/sketch2face.onnx`; set `SKETCH2FACE_TEST_MODEL` to try another).
//! Where exact answers are needed (colour hints, variation codes), the tiny hand-made contract
//! models of `tests/data/contract/` are used: `valid_v2.onnx` paints the gray sketch where no
//! hint is, the hint's colour where one is, plus the mean of `z` everywhere, so the face the app
//! shows can be computed here from the drawing and the seed; `valid.onnx` is a contract-1 model.
//!
//! Input is injected as egui events (pointer presses and moves, keys, dropped files); state is
//! checked through `SketchApp`'s accessors. Waiting for the worker is a bounded loop of frames.
//! Snapshots (tests/snapshots/) need a wgpu adapter: on Debian, `mesa-vulkan-drivers` (lavapipe).
//! Update them with `UPDATE_SNAPSHOTS=1 cargo test --test app`.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use eframe::egui::{self, Key, Modifiers, Vec2};
use egui_kittest::Harness;
use egui_kittest::kittest::{NodeT as _, Queryable as _};
use image::GrayImage;
use sketch2face::app::settings::{BRUSH_DEFAULT, ERASER_DEFAULT, SIZE_STEP};
use sketch2face::app::{AppOptions, Command, ModelStatus, Settings, SketchApp};
use sketch2face::engine::Seed;
use sketch2face::sketch::{self, Drawing, Point, Stroke, Tool};
use sketch2face::worker::{FromWorker, Request, Worker};

#[path = "support/app_harness.rs"]
mod support;
use support::*;

#[test]
fn drawing_a_stroke_stores_it_and_the_face_appears_while_drawing() {
    let mut harness = harness(options());
    wait_for_model(&mut harness);
    assert!(
        !harness.state().has_face_texture(),
        "blank paper has no face"
    );

    let first = on_canvas(&harness, LINE[0]);
    harness.hover_at(first);
    harness.drag_at(first);
    harness.step();
    let mut submitted_while_drawing = vec![harness.state().submitted_id()];
    for &p in &LINE[1..] {
        let pos = on_canvas(&harness, p);
        harness.hover_at(pos);
        harness.step();
        submitted_while_drawing.push(harness.state().submitted_id());
    }
    assert!(
        harness.state().current_stroke().is_some(),
        "the stroke is in progress"
    );
    assert!(
        harness.state().drawing().strokes.is_empty(),
        "not committed before release"
    );
    // Live: every move sent a new drawing to the worker, before the stroke ended.
    assert!(
        submitted_while_drawing.windows(2).all(|w| w[1] > w[0]),
        "{submitted_while_drawing:?}"
    );

    harness.drop_at(on_canvas(&harness, LINE[4]));
    harness.run_ok();
    let app = harness.state();
    assert!(app.current_stroke().is_none());
    assert_eq!(app.drawing().strokes.len(), 1);
    let stroke = &app.drawing().strokes[0];
    assert_eq!(stroke.tool, Tool::Brush);
    assert_eq!(stroke.width, BRUSH_DEFAULT);
    assert_eq!(stroke.points.len(), LINE.len());
    assert!(
        stroke
            .points
            .iter()
            .all(|p| p.pressure == sketch::PRESSURE_DEFAULT)
    );
    for (point, (x, y)) in stroke.points.iter().zip(LINE) {
        assert!(
            (point.x - x).abs() < 0.01 && (point.y - y).abs() < 0.01,
            "{point:?} vs {x},{y}"
        );
    }
    assert!(app.history().can_undo());

    wait_for_face(&mut harness);
    let app = harness.state();
    let ModelStatus::Ready { info, .. } = app.model_status() else {
        unreachable!()
    };
    let face = app.face().expect("a face");
    assert_eq!(face.dimensions(), (info.resolution, info.resolution));
    assert!(app.last_generation_time().is_some());
}

#[test]
fn strokes_stay_apart_when_one_slow_frame_holds_several() {
    let mut harness = harness(options());
    let button = |pos, pressed| egui::Event::PointerButton {
        pos,
        button: egui::PointerButton::Primary,
        pressed,
        modifiers: Modifiers::NONE,
    };
    let (a, b, c) = (
        on_canvas(&harness, (0.2, 0.2)),
        on_canvas(&harness, (0.4, 0.2)),
        on_canvas(&harness, (0.6, 0.2)),
    );
    let (d, e) = (
        on_canvas(&harness, (0.2, 0.7)),
        on_canvas(&harness, (0.3, 0.8)),
    );
    // One frame: a whole stroke, the move to the next one, its press and a move.
    harness.input_mut().events.extend([
        egui::Event::PointerMoved(a),
        button(a, true),
        egui::Event::PointerMoved(b),
        egui::Event::PointerMoved(c),
        button(c, false),
        egui::Event::PointerMoved(d),
        button(d, true),
        egui::Event::PointerMoved(e),
    ]);
    harness.step();
    let app = harness.state();
    assert_eq!(app.drawing().strokes.len(), 1);
    let ys: Vec<f32> = app.drawing().strokes[0]
        .points
        .iter()
        .map(|p| p.y)
        .collect();
    assert_eq!(ys.len(), 3);
    assert!(ys.iter().all(|y| (y - 0.2).abs() < 0.01), "{ys:?}");
    assert_eq!(app.current_stroke().map(|s| s.points.len()), Some(2));
    harness.drop_at(e);
    harness.run_ok();
    assert_eq!(harness.state().drawing().strokes.len(), 2);
}

#[test]
fn pen_pressure_comes_from_touch_force() {
    let mut harness = harness(options());
    harness.run_ok();
    let start = on_canvas(&harness, (0.3, 0.3));
    let touch = |pos, phase, force| egui::Event::Touch {
        device_id: egui::TouchDeviceId(1),
        id: egui::TouchId(1),
        phase,
        pos,
        force: Some(force),
    };
    harness.event(touch(start, egui::TouchPhase::Start, 0.9));
    harness.hover_at(start);
    harness.drag_at(start);
    harness.step();
    let end = on_canvas(&harness, (0.6, 0.3));
    harness.event(touch(end, egui::TouchPhase::Move, 0.9));
    harness.hover_at(end);
    harness.step();
    harness.drop_at(end);
    harness.run_ok();
    let strokes = &harness.state().drawing().strokes;
    assert_eq!(strokes.len(), 1);
    assert!(
        strokes[0]
            .points
            .iter()
            .all(|p| (p.pressure - 0.9).abs() < 1e-6),
        "{:?}",
        strokes[0].points
    );
}

#[test]
fn undo_redo_and_clear_by_keyboard() {
    let mut harness = harness(options());
    draw(&mut harness, &LINE);
    draw(&mut harness, &[(0.5, 0.2), (0.5, 0.5), (0.5, 0.8)]);
    let strokes = |h: &Harness<'_, SketchApp>| h.state().drawing().strokes.len();
    assert_eq!(strokes(&harness), 2);

    ctrl(&harness, Key::Z);
    harness.run_ok();
    assert_eq!(strokes(&harness), 1);
    ctrl_shift(&harness, Key::Z);
    harness.run_ok();
    assert_eq!(strokes(&harness), 2);
    ctrl(&harness, Key::Z);
    ctrl(&harness, Key::Y);
    harness.run_ok();
    assert_eq!(strokes(&harness), 2);

    ctrl(&harness, Key::N);
    harness.run_ok();
    assert_eq!(strokes(&harness), 0, "cleared");
    assert!(
        !harness.state().has_face_texture(),
        "no face for blank paper"
    );
    ctrl(&harness, Key::Z);
    harness.run_ok();
    assert_eq!(strokes(&harness), 2, "clearing is undoable");

    // The toolbar buttons do the same.
    harness.state_mut().push_command(Command::Undo);
    harness.run_ok();
    assert_eq!(strokes(&harness), 1);
    harness.state_mut().push_command(Command::Redo);
    harness.run_ok();
    assert_eq!(strokes(&harness), 2);
}

#[test]
fn the_eraser_paints_paper_over_ink() {
    let mut harness = harness(options());
    // The variations strip appears when the model is ready and moves the canvas: not mid-stroke.
    wait_for_model(&mut harness);
    draw(&mut harness, &LINE);
    // Darkest pixel where the line crosses the middle column.
    let center = |drawing: &Drawing| {
        let image = sketch::rasterize(drawing, 128);
        (58..70).map(|y| image.get_pixel(64, y).0[0]).min().unwrap()
    };
    let before = center(harness.state().drawing());
    assert!(
        before < 128,
        "ink under the line: {before} {:?}",
        harness.state().drawing().strokes
    );

    harness.key_press(Key::E);
    harness.run_ok();
    assert_eq!(harness.state().settings().tool, Tool::Eraser);
    draw(&mut harness, &[(0.5, 0.3), (0.5, 0.5), (0.5, 0.7)]);
    let drawing = harness.state().drawing().clone();
    assert_eq!(drawing.strokes.len(), 2);
    assert_eq!(drawing.strokes[1].tool, Tool::Eraser);
    assert_eq!(drawing.strokes[1].width, ERASER_DEFAULT);
    assert_eq!(center(&drawing), 255, "erased");

    harness.key_press(Key::B);
    harness.run_ok();
    assert_eq!(harness.state().settings().tool, Tool::Brush);
}

#[test]
fn bracket_keys_change_the_size_of_the_current_tool() {
    let mut harness = harness(options());
    harness.key_press(Key::CloseBracket);
    harness.run_ok();
    let bigger = BRUSH_DEFAULT * SIZE_STEP;
    assert!((harness.state().settings().brush_size - bigger).abs() < 1e-6);
    harness.key_press(Key::OpenBracket);
    harness.key_press(Key::OpenBracket);
    harness.run_ok();
    let smaller = BRUSH_DEFAULT / SIZE_STEP;
    assert!((harness.state().settings().brush_size - smaller).abs() < 1e-6);
    assert_eq!(
        harness.state().settings().eraser_size,
        ERASER_DEFAULT,
        "only the brush changed"
    );

    draw(&mut harness, &LINE);
    assert!((harness.state().drawing().strokes[0].width - smaller).abs() < 1e-6);

    for _ in 0..100 {
        harness.key_press(Key::CloseBracket);
    }
    harness.run_ok();
    assert_eq!(
        harness.state().settings().brush_size,
        sketch2face::app::settings::SIZE_MAX
    );
}

#[test]
fn a_dropped_sketch_file_becomes_the_background_and_gets_a_face() {
    let dir = tempfile::tempdir().unwrap();
    let file = write_sketch_file(dir.path());
    let mut harness = harness(options());
    wait_for_model(&mut harness);
    draw(&mut harness, &LINE);

    harness
        .input_mut()
        .dropped_files
        .push(Arc::new(DroppedPath(file.clone())));
    harness.step();
    wait_for(&mut harness, "the dropped file", |app| {
        app.drawing().background.is_some()
    });
    let app = harness.state();
    let background = app.drawing().background.clone().unwrap();
    assert_eq!(
        background.dimensions(),
        (sketch::BACKGROUND_SIZE, sketch::BACKGROUND_SIZE)
    );
    assert!(
        app.drawing().strokes.is_empty(),
        "the file replaces the drawing"
    );
    assert_eq!(app.settings().last_folder.as_deref(), Some(dir.path()));
    assert!(!last_message(app).1);
    wait_for_face(&mut harness);

    // It can be drawn over, and opening it can be undone (the earlier drawing comes back).
    draw(&mut harness, &[(0.1, 0.1), (0.2, 0.2)]);
    assert_eq!(harness.state().drawing().strokes.len(), 1);
    assert!(harness.state().drawing().background.is_some());
    ctrl(&harness, Key::Z);
    ctrl(&harness, Key::Z);
    harness.run_ok();
    assert!(harness.state().drawing().background.is_none());
    assert_eq!(
        harness.state().drawing().strokes.len(),
        1,
        "the line drawn before opening"
    );
}

#[test]
fn the_command_line_file_is_opened_at_start() {
    let dir = tempfile::tempdir().unwrap();
    let file = write_sketch_file(dir.path());
    let mut harness = harness(AppOptions {
        initial_file: Some(file),
        ..options()
    });
    wait_for(&mut harness, "the file", |app| {
        app.drawing().background.is_some()
    });
    wait_for_model(&mut harness);
    wait_for_face(&mut harness);
}

#[test]
fn an_unreadable_file_is_a_message_and_the_drawing_stays() {
    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("notes.png");
    std::fs::write(&bad, b"this is not an image").unwrap();
    let mut harness = harness(options());
    draw(&mut harness, &LINE);
    harness.state_mut().push_command(Command::OpenFile(bad));
    wait_for(&mut harness, "the load to fail", |app| {
        !app.messages().is_empty() && !app.is_busy()
    });
    let (text, is_error) = last_message(harness.state());
    assert!(is_error && text.contains("notes.png"), "{text}");
    assert_eq!(harness.state().drawing().strokes.len(), 1);
}

#[test]
fn a_save_to_an_unwritable_folder_shows_a_message_and_keeps_the_drawing() {
    let dir = tempfile::tempdir().unwrap();
    // A path below a regular file cannot be created, even by root.
    let blocker = dir.path().join("not-a-folder");
    std::fs::write(&blocker, b"").unwrap();
    let mut harness = harness(options());
    wait_for_model(&mut harness);
    draw(&mut harness, &LINE);
    wait_for_face(&mut harness);

    harness
        .state_mut()
        .push_command(Command::SaveFaceTo(blocker.join("face.png")));
    wait_for(&mut harness, "the failed save", |app| {
        !app.is_busy() && !app.messages().is_empty()
    });
    let (text, is_error) = last_message(harness.state());
    assert!(
        is_error && text.contains("Could not save the face"),
        "{text}"
    );
    harness
        .state_mut()
        .push_command(Command::SaveSketchTo(blocker.join("sketch.png")));
    wait_for(&mut harness, "the failed save", |app| {
        !app.is_busy() && app.messages().len() == 2
    });
    assert!(last_message(harness.state()).1);
    assert_eq!(
        harness.state().drawing().strokes.len(),
        1,
        "the drawing is kept"
    );
    assert!(harness.state().has_face_texture());

    // The app is still usable: a good save works.
    harness
        .state_mut()
        .push_command(Command::SaveFaceTo(dir.path().join("face.jpg")));
    harness
        .state_mut()
        .push_command(Command::SaveSketchTo(dir.path().join("sketch")));
    wait_for(&mut harness, "the saves", |app| {
        !app.is_busy() && app.messages().len() == 4
    });
    let face = image::open(dir.path().join("face.jpg")).unwrap();
    assert_eq!(face.width(), 512, "upscaled to the default 512");
    let sketch_file = image::open(dir.path().join("sketch.png")).unwrap();
    assert_eq!(sketch_file.width(), 512);
    assert!(
        harness
            .state()
            .messages()
            .iter()
            .rev()
            .take(2)
            .all(|m| !m.is_error)
    );
    assert_eq!(
        harness.state().settings().last_folder.as_deref(),
        Some(dir.path())
    );
}

#[test]
fn a_missing_model_is_a_message_and_drawing_still_works() {
    let mut harness = harness(AppOptions {
        model: PathBuf::from("/nonexistent/model.onnx"),
        ..options()
    });
    wait_for(&mut harness, "the load to fail", |app| {
        matches!(app.model_status(), ModelStatus::Failed(_))
    });
    let (text, is_error) = last_message(harness.state());
    assert!(is_error && text.contains("model"), "{text}");
    draw(&mut harness, &LINE);
    assert_eq!(harness.state().drawing().strokes.len(), 1);
    assert!(!harness.state().has_face_texture());
    assert!(!harness.state().is_busy());
}

#[test]
fn a_failed_load_can_be_tried_again_and_the_drawing_stays() {
    let dir = tempfile::tempdir().unwrap();
    let model = dir.path().join("model.onnx");
    let mut harness = harness(AppOptions {
        model: model.clone(),
        ..options()
    });
    wait_for(&mut harness, "the load to fail", |app| {
        matches!(app.model_status(), ModelStatus::Failed(_))
    });
    draw(&mut harness, &LINE);
    let canvas = harness.state().layout().canvas;
    // The model arrives (copied in place, say); "Try again" on the face panel loads it.
    std::fs::copy(model_path(), &model).unwrap();
    harness.get_by_label("Try again").click();
    wait_for_model(&mut harness);
    wait_for_face(&mut harness);
    assert_eq!(harness.state().drawing().strokes.len(), 1);
    // The variations strip of the arriving model had its row kept: the canvas did not move.
    assert_ne!(harness.state().layout().strip, egui::Rect::NOTHING);
    assert_eq!(harness.state().layout().canvas, canvas);
    assert_eq!(harness.state().model_path(), model);
    assert!(harness.query_by_label("Try again").is_none());
}

#[test]
fn a_model_that_fails_to_run_offers_another_and_the_drawing_stays() {
    // Loads (its shapes follow the contract) and fails in every run (see tests/data/contract).
    let mut harness = harness(contract_model("runtime_reshape.onnx"));
    wait_for_model(&mut harness);
    draw(&mut harness, &LINE);
    wait_for(&mut harness, "the run to fail", |app| app.run_failure().is_some());
    let (text, is_error) = last_message(harness.state());
    assert!(is_error && text.contains("The model failed"), "{text}");
    assert!(!harness.state().is_busy());
    harness.get_by_label("Choose another model…");
    // What the dialog answers, the way a test can give it.
    harness
        .state_mut()
        .push_command(Command::LoadModel(model_path()));
    wait_for_model(&mut harness);
    wait_for_face(&mut harness);
    assert_eq!(harness.state().drawing().strokes.len(), 1);
    assert!(harness.state().run_failure().is_none());
    assert!(harness.query_by_label("Choose another model…").is_none());
    let face = harness.state().face().unwrap();
    assert_eq!(face.width(), 128, "the face of the real model");
}

#[test]
fn the_guide_toggles_only_when_the_image_exists() {
    let dir = tempfile::tempdir().unwrap();
    let guide = dir.path().join("guide.png");
    GrayImage::from_pixel(64, 64, image::Luma([180]))
        .save(&guide)
        .unwrap();
    let mut harness = harness(AppOptions {
        guide: Some(guide),
        ..options()
    });
    assert!(harness.state().guide_available());
    harness.state_mut().push_command(Command::ToggleGuide);
    harness.run_ok();
    assert!(harness.state().settings().guide);

    let mut harness = harness_without_guide();
    assert!(!harness.state().guide_available());
    harness.state_mut().push_command(Command::ToggleGuide);
    harness.run_ok();
    assert!(!harness.state().settings().guide);
}

fn harness_without_guide() -> Harness<'static, SketchApp> {
    harness(AppOptions {
        guide: None,
        ..options()
    })
}

#[test]
fn settings_are_saved_for_the_next_run() {
    #[derive(Default)]
    struct Memory(std::collections::HashMap<String, String>);
    impl eframe::Storage for Memory {
        fn get_string(&self, key: &str) -> Option<String> {
            self.0.get(key).cloned()
        }
        fn set_string(&mut self, key: &str, value: String) {
            self.0.insert(key.to_owned(), value);
        }
        fn remove_string(&mut self, key: &str) {
            self.0.remove(key);
        }
        fn flush(&mut self) {}
    }
    let mut harness = harness(options());
    harness.key_press(Key::E);
    harness.key_press(Key::CloseBracket);
    harness.run_ok();
    let mut storage = Memory::default();
    eframe::App::save(harness.state_mut(), &mut storage);
    let saved: Settings = eframe::get_value(&storage, eframe::APP_KEY).expect("saved settings");
    assert_eq!(&saved, harness.state().settings());
    assert_eq!(saved.tool, Tool::Eraser);
    assert!((saved.eraser_size - ERASER_DEFAULT * SIZE_STEP).abs() < 1e-6);
}

#[test]
fn settings_go_to_the_data_folder_and_a_broken_file_is_kept_aside() {
    let dir = tempfile::tempdir().unwrap();
    let with_data = || with_data_dir(dir.path());
    let mut harness = harness(with_data());
    harness.key_press(Key::E);
    harness.run_ok();
    eframe::App::save(harness.state_mut(), &mut NoStorage);
    drop(harness);
    let harness = self::harness(with_data());
    assert_eq!(harness.state().settings().tool, Tool::Eraser, "read back");
    drop(harness);

    let path = dir.path().join("settings.json");
    std::fs::write(&path, b"\x00 not settings").unwrap();
    let harness = self::harness(with_data());
    assert_eq!(harness.state().settings(), &Settings::default());
    let (text, is_error) = last_message(harness.state());
    assert!(is_error && text.contains("settings.json.bak"), "{text}");
    assert_eq!(
        std::fs::read(dir.path().join("settings.json.bak")).unwrap(),
        b"\x00 not settings"
    );
}

/// eframe's storage, unused.
struct NoStorage;

impl eframe::Storage for NoStorage {
    fn get_string(&self, _: &str) -> Option<String> {
        None
    }
    fn set_string(&mut self, _: &str, _: String) {}
    fn remove_string(&mut self, _: &str) {}
    fn flush(&mut self) {}
}

/// The main screen, blank and with a drawing, with a contract-1 model; then with colours and
/// the variations strip, with a model that takes hints and a code. The faces and the status
/// line (timings, model metadata) are masked, and the models are the contract test models, so
/// the snapshots do not change with every retrained model.
#[test]
fn snapshots_of_the_main_screen() {
    let mut harness = harness(AppOptions {
        guide: None,
        ..contract_model("valid.onnx")
    });
    wait_for_model(&mut harness);
    harness.set_render_cursor(false);
    harness.remove_cursor();
    harness.run_ok();
    let layout = harness.state().layout();
    harness.mask(layout.status);
    harness.snapshot("main_blank");

    let dir = tempfile::tempdir().unwrap();
    let file = write_sketch_file(dir.path());
    harness.state_mut().push_command(Command::OpenFile(file));
    wait_for(&mut harness, "the file", |app| {
        app.drawing().background.is_some()
    });
    draw(&mut harness, &[(0.3, 0.85), (0.5, 0.95), (0.7, 0.85)]);
    wait_for_face(&mut harness);
    harness.remove_cursor();
    harness.run_ok();
    let layout = harness.state().layout();
    harness.mask(layout.status);
    harness.mask(layout.face);
    harness.snapshot("main_drawn");
}

/// A model that cannot be loaded: the face panel says why and offers what can be done.
#[test]
fn snapshot_of_a_model_that_failed() {
    let mut harness = harness(AppOptions {
        guide: None,
        // Relative, so that the message is the same in every checkout.
        model: PathBuf::from("no such folder/model.onnx"),
        ..options()
    });
    wait_for(&mut harness, "the load to fail", |app| {
        matches!(app.model_status(), ModelStatus::Failed(_))
    });
    draw(&mut harness, &LINE);
    harness.set_render_cursor(false);
    harness.remove_cursor();
    harness.run_ok();
    assert!(harness.query_by_label("Try again").is_some());
    assert!(harness.query_by_label("Choose another model…").is_some());
    let layout = harness.state().layout();
    harness.mask(layout.status);
    harness.snapshot("model_failed");
}

/// The main screen with colour strokes and the variations strip (faces and status masked).
#[test]
fn snapshot_with_colours_and_variations() {
    let mut harness = self::harness(AppOptions {
        guide: None,
        ..contract_model("valid_v2.onnx")
    });
    wait_for_model(&mut harness);
    harness.set_render_cursor(false);
    draw(&mut harness, &[(0.3, 0.5), (0.5, 0.55), (0.7, 0.5)]);
    push(&mut harness, Command::SetColour([92, 58, 34]));
    draw(&mut harness, &[(0.25, 0.2), (0.5, 0.12), (0.75, 0.2)]);
    push(&mut harness, Command::SetColour([224, 172, 140]));
    draw(&mut harness, &[(0.4, 0.4), (0.6, 0.4), (0.6, 0.6)]);
    wait_for_face(&mut harness);
    wait_for(&mut harness, "the variations", |app| {
        app.variations().1.is_some()
    });
    harness.remove_cursor();
    harness.run_ok();
    let layout = harness.state().layout();
    harness.mask(layout.status);
    harness.mask(layout.face);
    harness.mask(layout.strip);
    harness.snapshot("main_colours");
}

#[test]
fn the_worker_answers_only_the_newest_request_and_shuts_down_on_drop() {
    let (tx, rx) = crossbeam_channel::unbounded();
    let worker = Worker::spawn(model_path(), None, engine_options(), move || {
        let _ = tx.send(());
    });
    rx.recv_timeout(WAIT).expect("notified after loading");
    let resolution = match worker.try_recv() {
        Some(FromWorker::Ready { info, .. }) => info.resolution,
        other => panic!("expected Ready, got {other:?}"),
    };
    let drawing = Drawing {
        strokes: vec![Arc::new(Stroke {
            points: LINE.iter().map(|&(x, y)| Point::new(x, y, 0.5)).collect(),
            ..Stroke::new(Tool::Brush, 0.01)
        })],
        background: None,
    };
    let sketch = sketch::rasterize(&drawing, resolution);
    for id in 1..=20 {
        worker.submit(Request::sketch(id, sketch.clone()), Seed::DEFAULT);
    }
    let mut ids = Vec::new();
    while ids.last() != Some(&20) {
        rx.recv_timeout(WAIT).expect("a reply");
        while let Some(reply) = worker.try_recv() {
            match reply {
                FromWorker::Generated { id, face, .. } => {
                    assert_eq!(face.face.dimensions(), (resolution, resolution));
                    ids.push(id);
                }
                other => panic!("unexpected {other:?}"),
            }
        }
    }
    assert!(ids.len() < 20, "stale requests were skipped: {ids:?}");
    assert!(ids.windows(2).all(|w| w[0] < w[1]));
    let start = Instant::now();
    drop(worker);
    assert!(start.elapsed() < Duration::from_secs(10));
}

// ----- colours, variations, documents, autosave, closing -----

/// The face `valid_v2.onnx` paints for `drawing` and `seed`: per pixel the sketch, or the hint
/// colour where a colour stroke covers it, plus the mean of the seed's code.
fn expected_v2_face(drawing: &Drawing, seed: Seed) -> image::RgbImage {
    let size = 16;
    let sketch = sketch::rasterize(drawing, size);
    let hints = sketch::rasterize_hints(drawing, size);
    let code = seed.code(8);
    let mean = code.iter().sum::<f32>() / code.len() as f32;
    image::RgbImage::from_fn(size, size, |x, y| {
        let hint = hints.get_pixel(x, y);
        image::Rgb(std::array::from_fn(|c| {
            let value = if hint[3] > 0 {
                hint[c]
            } else {
                sketch.get_pixel(x, y)[0]
            };
            let value = f32::from(value) / 127.5 - 1.0 + mean;
            ((value + 1.0) * 127.5).round().clamp(0.0, 255.0) as u8
        }))
    })
}

/// Equal within one level per channel (float rounding).
fn assert_faces_match(face: &image::RgbImage, expected: &image::RgbImage, what: &str) {
    assert_eq!(face.dimensions(), expected.dimensions(), "{what}");
    for (x, y, pixel) in face.enumerate_pixels() {
        let want = expected.get_pixel(x, y);
        assert!(
            pixel.0.iter().zip(want.0).all(|(a, b)| a.abs_diff(b) <= 1),
            "{what}: pixel ({x}, {y}) is {:?}, expected {:?}",
            pixel.0,
            want.0
        );
    }
}

fn shown_face(harness: &Harness<'_, SketchApp>) -> image::RgbImage {
    harness.state().face().expect("a face").clone()
}

/// A seed whose code's mean is at least 0.3 away from 0, so that its face differs from the
/// default face at every pixel of `valid_v2.onnx` that is not clamped.
fn distinct_seed(from: u64) -> Seed {
    (from..)
        .map(Seed)
        .find(|seed| {
            let code = seed.code(8);
            (code.iter().sum::<f32>() / 8.0).abs() > 0.3
        })
        .expect("some seed")
}

fn push(harness: &mut Harness<'_, SketchApp>, command: Command) {
    harness.state_mut().push_command(command);
    harness.run_ok();
}

#[test]
fn colour_strokes_change_the_face_and_undo_restores_it() {
    let mut harness = harness(contract_model("valid_v2.onnx"));
    wait_for_model(&mut harness);
    draw(&mut harness, &LINE);
    wait_for_face(&mut harness);
    let before = shown_face(&harness);
    assert_faces_match(
        &before,
        &expected_v2_face(harness.state().drawing(), Seed::DEFAULT),
        "ink only",
    );

    push(&mut harness, Command::SetColour([200, 60, 40]));
    assert_eq!(harness.state().settings().tool, Tool::Colour);
    // Broad enough to cover whole pixels of the 16 px model.
    push(&mut harness, Command::SetSize(0.12));
    draw(&mut harness, &[(0.2, 0.25), (0.5, 0.25), (0.8, 0.25)]);
    let drawing = harness.state().drawing().clone();
    assert_eq!(drawing.strokes.len(), 2);
    assert_eq!(drawing.strokes[1].tool, Tool::Colour);
    assert_eq!(drawing.strokes[1].colour, Some([200, 60, 40]));
    wait_for_face(&mut harness);
    let coloured = shown_face(&harness);
    assert_faces_match(
        &coloured,
        &expected_v2_face(&drawing, Seed::DEFAULT),
        "with colour",
    );
    assert_eq!(
        coloured.get_pixel(8, 4).0,
        [200, 60, 40],
        "the hint reached the model"
    );
    assert_eq!(
        coloured.get_pixel(8, 12),
        before.get_pixel(8, 12),
        "elsewhere unchanged"
    );

    ctrl(&harness, Key::Z);
    harness.run_ok();
    wait_for_face(&mut harness);
    assert_eq!(
        shown_face(&harness),
        before,
        "undo takes the colour back out"
    );

    // Redo, then "Clear colours" removes only the colour stroke (undoably).
    ctrl(&harness, Key::Y);
    harness.run_ok();
    push(&mut harness, Command::ClearColours);
    let strokes = &harness.state().drawing().strokes;
    assert_eq!(strokes.len(), 1);
    assert_eq!(strokes[0].tool, Tool::Brush);
    wait_for_face(&mut harness);
    assert_eq!(shown_face(&harness), before);
    ctrl(&harness, Key::Z);
    harness.run_ok();
    assert!(harness.state().drawing().has_colours());

    // The eraser wipes colour too.
    harness.key_press(Key::E);
    harness.run_ok();
    push(&mut harness, Command::SetSize(0.12));
    draw(&mut harness, &[(0.4, 0.25), (0.6, 0.25)]);
    wait_for_face(&mut harness);
    assert_ne!(shown_face(&harness).get_pixel(8, 4).0, [200, 60, 40]);
    assert_faces_match(
        &shown_face(&harness),
        &expected_v2_face(harness.state().drawing(), Seed::DEFAULT),
        "after the eraser",
    );
}

#[test]
fn the_colour_tool_is_disabled_with_the_reason_for_a_model_without_hints() {
    let mut harness = harness(contract_model("valid.onnx"));
    wait_for_model(&mut harness);
    harness.key_press(Key::C);
    harness.run_ok();
    assert_eq!(harness.state().settings().tool, Tool::Brush);
    let (text, _) = last_message(harness.state());
    assert!(text.contains("takes no colour hints"), "{text}");
    let why = harness.state().model_status().why_no_hints().unwrap();
    assert!(
        why.contains("valid.onnx") && why.contains("`hints`"),
        "{why}"
    );
    assert!(
        harness
            .get_by_label("Colour")
            .accesskit_node()
            .is_disabled()
    );

    // A model with hints has the tool.
    let mut harness = self::harness(contract_model("hints_v2.onnx"));
    wait_for_model(&mut harness);
    assert!(
        !harness
            .get_by_label("Colour")
            .accesskit_node()
            .is_disabled()
    );
    harness.key_press(Key::C);
    harness.run_ok();
    assert_eq!(harness.state().settings().tool, Tool::Colour);
}

#[test]
fn the_face_keeps_its_code_while_drawing() {
    let mut harness = harness(contract_model("valid_v2.onnx"));
    wait_for_model(&mut harness);
    let seed = distinct_seed(1);
    push(&mut harness, Command::AdoptSeed(seed));
    for (i, stroke) in [
        &LINE[..],
        &[(0.5, 0.2), (0.5, 0.8)],
        &[(0.1, 0.9), (0.9, 0.1)],
    ]
    .into_iter()
    .enumerate()
    {
        draw(&mut harness, stroke);
        wait_for_face(&mut harness);
        assert_eq!(harness.state().seed(), seed);
        assert_faces_match(
            &shown_face(&harness),
            &expected_v2_face(harness.state().drawing(), seed),
            &format!("stroke {i}"),
        );
    }
}

#[test]
fn new_face_changes_the_face_and_previous_face_restores_it() {
    let mut harness = harness(AppOptions {
        seed_start: 11,
        ..contract_model("valid_v2.onnx")
    });
    wait_for_model(&mut harness);
    draw(&mut harness, &LINE);
    wait_for_face(&mut harness);
    let first = shown_face(&harness);
    assert_eq!(harness.state().seed(), Seed::DEFAULT);

    harness.key_press(Key::V);
    harness.run_ok();
    let seed = harness.state().seed();
    assert_ne!(seed, Seed::DEFAULT);
    assert_eq!(harness.state().previous_seeds(), [Seed::DEFAULT]);
    wait_for_face(&mut harness);
    let drawing = harness.state().drawing().clone();
    assert_faces_match(
        &shown_face(&harness),
        &expected_v2_face(&drawing, seed),
        "new face",
    );
    if expected_v2_face(&drawing, seed) != expected_v2_face(&drawing, Seed::DEFAULT) {
        assert_ne!(shown_face(&harness), first);
    }

    harness.key_press_modifiers(Modifiers::SHIFT, Key::V);
    harness.run_ok();
    assert_eq!(harness.state().seed(), Seed::DEFAULT);
    wait_for_face(&mut harness);
    assert_eq!(shown_face(&harness), first, "back to the first face");
}

#[test]
fn the_variations_strip_offers_four_faces_and_a_click_adopts_one() {
    let mut harness = harness(contract_model("valid_v2.onnx"));
    wait_for_model(&mut harness);
    draw(&mut harness, &LINE);
    wait_for_face(&mut harness);
    wait_for(&mut harness, "the variations", |app| {
        app.variations().1.is_some()
    });
    let drawing = harness.state().drawing().clone();
    let (seeds, faces) = harness.state().variations();
    let (seeds, faces) = (seeds.to_vec(), faces.unwrap().to_vec());
    assert_eq!(seeds.len(), 4);
    for (seed, face) in seeds.iter().zip(&faces) {
        assert_faces_match(
            &face.face,
            &expected_v2_face(&drawing, *seed),
            &format!("seed {seed}"),
        );
    }

    let strip = harness.state().layout().strip;
    assert!(strip.width() > 0.0);
    let second = strip.min + Vec2::new(strip.width() * 3.0 / 8.0, strip.height() / 2.0);
    harness.hover_at(second);
    harness.drag_at(second);
    harness.step();
    harness.drop_at(second);
    harness.run_ok();
    assert_eq!(harness.state().seed(), seeds[1]);
    assert_eq!(shown_face(&harness), faces[1].face, "the strip's face, at once");
    assert_eq!(
        harness.state().drawing().strokes.len(),
        1,
        "a click there draws nothing"
    );
    // The face left behind takes the adopted one's place in the strip.
    assert_eq!(harness.state().variations().0[1], Seed::DEFAULT);
    assert_eq!(harness.state().previous_seeds(), [Seed::DEFAULT]);
}

#[test]
fn variations_are_disabled_with_the_reason_for_a_model_without_z() {
    let mut harness = harness(contract_model("hints_v2.onnx"));
    wait_for_model(&mut harness);
    draw(&mut harness, &LINE);
    harness.key_press(Key::V);
    harness.run_ok();
    assert_eq!(harness.state().seed(), Seed::DEFAULT);
    let (text, _) = last_message(harness.state());
    assert!(text.contains("no variation code"), "{text}");
    assert!(
        harness
            .get_by_label("New face")
            .accesskit_node()
            .is_disabled()
    );
    assert_eq!(harness.state().layout().strip, egui::Rect::NOTHING);
}

/// With the real model: colours and codes reach it when it takes them (the v2 model); with a
/// model that does not, the tools say why.
#[test]
fn the_real_model_gets_the_colours_and_the_code_it_takes() {
    let mut harness = harness(options());
    wait_for_model(&mut harness);
    let info = match harness.state().model_status() {
        ModelStatus::Ready { info, .. } => info.clone(),
        _ => unreachable!(),
    };
    draw(&mut harness, &LINE);
    wait_for_face(&mut harness);
    let plain = shown_face(&harness);

    push(&mut harness, Command::SetColour([40, 90, 200]));
    if info.takes_hints {
        draw(&mut harness, &[(0.3, 0.3), (0.7, 0.3), (0.7, 0.7)]);
        wait_for_face(&mut harness);
        assert_ne!(shown_face(&harness), plain, "the colour changed the face");
        ctrl(&harness, Key::Z);
        harness.run_ok();
        wait_for_face(&mut harness);
        assert_eq!(shown_face(&harness), plain, "undo restored it");
    } else {
        assert_eq!(harness.state().settings().tool, Tool::Brush);
        assert!(harness.state().model_status().why_no_hints().is_some());
    }

    harness.key_press(Key::V);
    harness.run_ok();
    if info.z_dim > 0 {
        let seed = harness.state().seed();
        assert_ne!(seed, Seed::DEFAULT);
        wait_for_face(&mut harness);
        // The face is the engine's for this drawing and this seed's code.
        let mut engine = sketch2face::engine::Engine::load(&info.path, &engine_options()).unwrap();
        let drawing = harness.state().drawing().clone();
        let code = seed.code(info.z_dim);
        let expected = engine
            .generate_with(
                &sketch::rasterize(&drawing, info.resolution),
                &sketch2face::engine::Conditions {
                    hints: None,
                    z: Some(&code),
                },
            )
            .unwrap();
        assert_eq!(shown_face(&harness), expected);
        draw(&mut harness, &[(0.5, 0.6), (0.5, 0.7)]);
        wait_for_face(&mut harness);
        assert_eq!(harness.state().seed(), seed, "drawing keeps the code");
    } else {
        assert_eq!(harness.state().seed(), Seed::DEFAULT);
        assert!(harness.state().model_status().why_no_variations().is_some());
    }
}

fn zip_names(path: &Path) -> Vec<String> {
    let file = std::fs::File::open(path).unwrap();
    let zip = zip::ZipArchive::new(file).unwrap();
    zip.file_names().map(|n| n.unwrap().into_owned()).collect()
}

#[test]
fn a_saved_drawing_reopens_with_the_same_strokes_colours_and_seed() {
    let dir = tempfile::tempdir().unwrap();
    let mut harness = harness(contract_model("valid_v2.onnx"));
    wait_for_model(&mut harness);
    draw(&mut harness, &LINE);
    push(&mut harness, Command::SetColour([120, 80, 50]));
    draw(&mut harness, &[(0.3, 0.2), (0.7, 0.2)]);
    let seed = distinct_seed(100);
    push(&mut harness, Command::AdoptSeed(seed));
    wait_for_face(&mut harness);
    assert!(harness.state().has_unsaved_changes());

    let path = dir.path().join("portrait.ora");
    push(
        &mut harness,
        Command::SaveDrawingTo(dir.path().join("portrait")),
    );
    wait_for(&mut harness, "the save", |app| {
        !app.is_busy() && app.document_path().is_some()
    });
    assert!(
        !last_message(harness.state()).1,
        "{:?}",
        harness.state().messages()
    );
    assert!(!harness.state().has_unsaved_changes());
    assert_eq!(harness.state().document_path(), Some(path.as_path()));
    assert_eq!(
        harness.state().settings().recent,
        std::slice::from_ref(&path)
    );

    let names = zip_names(&path);
    assert_eq!(names[0], "mimetype");
    for layer in sketch::ORA_ENTRIES {
        assert!(names.iter().any(|n| n == layer), "{layer} in {names:?}");
    }
    let saved = harness.state().drawing().clone();

    let mut reopened = self::harness(contract_model("valid_v2.onnx"));
    push(&mut reopened, Command::OpenFile(path.clone()));
    wait_for(&mut reopened, "the drawing", |app| {
        !app.drawing().strokes.is_empty()
    });
    assert_eq!(
        **reopened.state().drawing(),
        *saved,
        "every stroke, colours included"
    );
    assert_eq!(reopened.state().seed(), seed);
    assert!(!reopened.state().has_unsaved_changes());
    assert_eq!(reopened.state().document_path(), Some(path.as_path()));
    wait_for_model(&mut reopened);
    wait_for_face(&mut reopened);
    assert_faces_match(
        &shown_face(&reopened),
        &expected_v2_face(&saved, seed),
        "reopened",
    );
    // Editable: the strokes can be undone one by one, and the opening itself.
    ctrl(&reopened, Key::Z);
    reopened.run_ok();
    assert!(reopened.state().drawing().strokes.is_empty());
}

#[test]
fn the_drawing_is_restored_after_an_unclean_exit() {
    let dir = tempfile::tempdir().unwrap();
    let with_data = || with_data_dir(dir.path());
    let mut harness = harness(with_data());
    draw(&mut harness, &LINE);
    draw(&mut harness, &[(0.5, 0.2), (0.5, 0.8)]);
    let drawn = harness.state().drawing().clone();
    let autosave = harness.state().autosave_path().unwrap().to_path_buf();
    assert!(autosave.starts_with(dir.path()));
    let autosaved_strokes = |path: &Path| match sketch::load_ora(path) {
        Ok(sketch::OpenedOra::Drawing(document)) => document.drawing.strokes.len(),
        _ => 0,
    };
    wait_for(&mut harness, "the autosave", |_| {
        autosaved_strokes(&autosave) == 2
    });
    // A crash: the app goes without its clean exit (`on_exit`).
    drop(harness);
    assert!(autosave.exists());

    let mut harness = self::harness(with_data());
    assert_eq!(**harness.state().drawing(), *drawn, "the strokes are back");
    let (text, is_error) = last_message(harness.state());
    assert!(!is_error && text.contains("Restored the drawing"), "{text}");
    assert!(harness.state().has_unsaved_changes());
    ctrl(&harness, Key::Z);
    harness.run_ok();
    assert!(
        harness.state().drawing().is_blank(),
        "the restore can be undone"
    );
    ctrl(&harness, Key::Y);
    harness.run_ok();

    // A clean exit (here with the changes discarded) removes it.
    push(&mut harness, Command::CloseDiscarding);
    eframe::App::on_exit(harness.state_mut());
    drop(harness);
    assert!(!autosave.exists());
    let harness = self::harness(with_data());
    assert!(harness.state().drawing().is_blank());
}

fn request_close(harness: &mut Harness<'_, SketchApp>) -> Vec<egui::ViewportCommand> {
    harness
        .input_mut()
        .viewports
        .entry(egui::ViewportId::ROOT)
        .or_default()
        .events
        .push(egui::ViewportEvent::Close);
    harness.step();
    harness.output().viewport_output[&egui::ViewportId::ROOT]
        .commands
        .clone()
}

#[test]
fn a_slow_face_shows_generating_and_closing_does_not_wait_for_it() {
    // `slow.onnx` takes seconds per face (about 6 s on one core here; tests/data/contract).
    let mut harness = harness(contract_model("slow.onnx"));
    wait_for_model(&mut harness);
    draw(&mut harness, &LINE);
    wait_for(&mut harness, "the generating indicator", |app| app.is_busy());
    let deadline = Instant::now() + Duration::from_secs(1);
    while harness.query_by_label("generating…").is_none() {
        assert!(Instant::now() < deadline, "no \"generating…\" within a second");
        std::thread::sleep(Duration::from_millis(20));
        harness.step();
    }
    assert!(!harness.state().has_face_texture(), "the face is still on its way");
    // The window closes (the app is dropped) while the model is mid-run.
    let closing = Instant::now();
    drop(harness);
    let took = closing.elapsed();
    assert!(
        took < Duration::from_millis(1000),
        "closing waited {took:?} for the generation"
    );
}

#[test]
fn closing_with_unsaved_changes_asks_to_save_discard_or_cancel() {
    let dir = tempfile::tempdir().unwrap();
    let mut harness = harness(contract_model("valid_v2.onnx"));
    // Nothing drawn: nothing to ask.
    let commands = request_close(&mut harness);
    assert!(!commands.contains(&egui::ViewportCommand::CancelClose));
    assert!(!harness.state().is_asking_to_save());

    draw(&mut harness, &LINE);
    let commands = request_close(&mut harness);
    assert!(
        commands.contains(&egui::ViewportCommand::CancelClose),
        "{commands:?}"
    );
    harness.run_ok();
    assert!(harness.state().is_asking_to_save());
    // The question covers the canvas: a stroke there draws nothing (a click beside the
    // question may cancel it, as Escape does).
    draw(&mut harness, &[(0.5, 0.2), (0.5, 0.8)]);
    assert_eq!(harness.state().drawing().strokes.len(), 1);
    if !harness.state().is_asking_to_save() {
        request_close(&mut harness);
        harness.run_ok();
    }

    harness.get_by_label("Cancel").click();
    harness.run_ok();
    assert!(!harness.state().is_asking_to_save());
    assert_eq!(harness.state().drawing().strokes.len(), 1, "still drawing");

    // Save: a drawing with a file is saved there, then the window closes.
    push(
        &mut harness,
        Command::SaveDrawingTo(dir.path().join("a.ora")),
    );
    wait_for(&mut harness, "the save", |app| !app.is_busy());
    draw(&mut harness, &[(0.1, 0.9), (0.9, 0.1)]);
    request_close(&mut harness);
    harness.run_ok();
    harness.get_by_label("Save…").click();
    let mut closed = false;
    let deadline = Instant::now() + WAIT;
    while !closed {
        assert!(
            Instant::now() < deadline,
            "{:?}",
            harness.state().messages()
        );
        harness.step();
        closed = harness.output().viewport_output[&egui::ViewportId::ROOT]
            .commands
            .contains(&egui::ViewportCommand::Close);
    }
    assert!(!harness.state().has_unsaved_changes());
    match sketch::load_ora(&dir.path().join("a.ora")).unwrap() {
        sketch::OpenedOra::Drawing(saved) => assert_eq!(saved.drawing.strokes.len(), 2),
        other => panic!("{other:?}"),
    }

    // Discard: closes at once, and a second close request is not stopped.
    let mut harness = self::harness(contract_model("valid_v2.onnx"));
    draw(&mut harness, &LINE);
    request_close(&mut harness);
    harness.run_ok();
    harness.get_by_label("Discard").click();
    harness.step();
    assert!(
        harness.output().viewport_output[&egui::ViewportId::ROOT]
            .commands
            .contains(&egui::ViewportCommand::Close)
    );
    let commands = request_close(&mut harness);
    assert!(!commands.contains(&egui::ViewportCommand::CancelClose));
}

/// A small full file system (a 256 KiB tmpfs), unmounted on drop; `None` where mounting is not
/// allowed (not root).
struct FullDisk(tempfile::TempDir);

impl FullDisk {
    fn mount() -> Option<Self> {
        let dir = tempfile::tempdir().ok()?;
        let mounted = std::process::Command::new("mount")
            .args(["-t", "tmpfs", "-o", "size=256k", "tmpfs"])
            .arg(dir.path())
            .status()
            .is_ok_and(|s| s.success());
        mounted.then_some(FullDisk(dir))
    }

    fn path(&self) -> &Path {
        self.0.path()
    }
}

impl FullDisk {
    /// From now on nothing can be written here at all (a read-only remount), root or not.
    fn make_read_only(&self) -> bool {
        std::process::Command::new("mount")
            .args(["-o", "remount,ro"])
            .arg(self.0.path())
            .status()
            .is_ok_and(|s| s.success())
    }
}

impl Drop for FullDisk {
    fn drop(&mut self) {
        let _ = std::process::Command::new("umount")
            .arg(self.0.path())
            .status();
    }
}

/// The error messages the app has shown, oldest first.
fn error_messages(app: &SketchApp) -> Vec<&str> {
    app.messages()
        .iter()
        .filter(|m| m.is_error)
        .map(|m| m.text.as_str())
        .collect()
}

#[test]
fn a_save_onto_a_full_disk_keeps_the_old_file_intact() {
    let Some(disk) = FullDisk::mount() else {
        eprintln!("skipped: no tmpfs can be mounted here (needs root)");
        return;
    };
    let old = disk.path().join("portrait.ora");
    let old_bytes: Vec<u8> = (0..100_000u32).map(|i| (i % 251) as u8).collect();
    std::fs::write(&old, &old_bytes).unwrap();
    // Fill the rest, but for about 20 KiB: not enough for a drawing with a face.
    std::fs::write(disk.path().join("filler"), vec![7u8; 140_000]).unwrap();

    let mut harness = harness(options());
    wait_for_model(&mut harness);
    draw(&mut harness, &LINE);
    wait_for_face(&mut harness);
    push(&mut harness, Command::SaveDrawingTo(old.clone()));
    push(
        &mut harness,
        Command::SaveFaceTo(disk.path().join("face.png")),
    );
    wait_for(&mut harness, "the saves", |app| {
        !app.is_busy() && app.messages().len() >= 2
    });
    let failures = error_messages(harness.state());
    assert!(
        failures
            .iter()
            .any(|m| m.contains("Could not save the drawing") && m.contains("portrait.ora")),
        "{failures:?}"
    );
    assert_eq!(
        std::fs::read(&old).unwrap(),
        old_bytes,
        "the old file is byte-identical"
    );
    let left: Vec<String> = std::fs::read_dir(disk.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with(".sketch2face-"))
        .collect();
    assert!(left.is_empty(), "temporary files left: {left:?}");
    assert!(harness.state().has_unsaved_changes(), "not marked saved");
    assert_eq!(
        harness.state().drawing().strokes.len(),
        1,
        "the drawing is kept"
    );
}

#[test]
fn a_save_into_a_read_only_place_keeps_the_old_file_intact() {
    // Root writes through any permission bits: only a read-only file system refuses it.
    let Some(disk) = FullDisk::mount() else {
        eprintln!("skipped: no tmpfs can be mounted here (needs root)");
        return;
    };
    let old = disk.path().join("portrait.ora");
    std::fs::write(&old, b"the drawing saved yesterday").unwrap();
    assert!(disk.make_read_only(), "remount read-only");

    let mut harness = harness(contract_model("valid_v2.onnx"));
    wait_for_model(&mut harness);
    draw(&mut harness, &LINE);
    wait_for_face(&mut harness);
    push(&mut harness, Command::SaveDrawingTo(old.clone()));
    push(&mut harness, Command::SaveFaceTo(disk.path().join("face.png")));
    push(&mut harness, Command::SaveSketchTo(disk.path().join("sketch.png")));
    wait_for(&mut harness, "the saves", |app| {
        !app.is_busy() && app.messages().iter().filter(|m| m.is_error).count() >= 3
    });
    let failures = error_messages(harness.state());
    for what in ["drawing", "face", "sketch"] {
        assert!(
            failures.iter().any(|m| m.contains(&format!("Could not save the {what}"))
                && m.to_lowercase().contains("read-only")),
            "{what}: {failures:?}"
        );
    }
    assert_eq!(std::fs::read(&old).unwrap(), b"the drawing saved yesterday");
    let names: Vec<String> = std::fs::read_dir(disk.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(names, ["portrait.ora"], "nothing else was written");
    assert!(harness.state().has_unsaved_changes(), "not marked saved");
    assert_eq!(harness.state().drawing().strokes.len(), 1, "the drawing is kept");
}

/// Repaint only on input, worker replies and animations: once the face and the strip are there,
/// the app asks for no more frames.
#[test]
fn an_idle_app_asks_for_no_frames() {
    let mut harness = harness(options());
    wait_for_model(&mut harness);
    draw(&mut harness, &LINE);
    push(&mut harness, Command::SetColour([120, 80, 50]));
    draw(&mut harness, &[(0.3, 0.2), (0.7, 0.2)]);
    wait_for_face(&mut harness);
    let has_z = harness
        .state()
        .model_status()
        .info()
        .is_some_and(|info| info.z_dim > 0);
    if has_z {
        wait_for(&mut harness, "the variations", |app| app.variations().1.is_some());
    }
    std::thread::sleep(Duration::from_millis(600));
    harness.step();
    harness.step();
    let delay = harness.output().viewport_output[&egui::ViewportId::ROOT].repaint_delay;
    assert!(
        delay > Duration::from_secs(3600),
        "asks for a frame in {delay:?}; messages: {:?}",
        harness.state().messages()
    );
}

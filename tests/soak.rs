//! The soak: thousands of random operations on the real app in the headless harness, with the
//! real worker and model (a v2 model, so colours and variations are exercised too), an autosave
//! folder, and good and bad files to open. After every operation: no panic (the harness would
//! stop), the history within its cap; at the end, resident memory within a bound of what it was
//! once warm, and the app still paints a face for a fresh drawing.
//!
//! `SOAK_STEPS` sets the count (1,000 by default, the CI run; `make soak` runs 10,000) and
//! `SOAK_SEED` the random sequence. Its own test binary: resident memory is the process's, and
//! no other test may run beside it.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use eframe::egui::{Key, Modifiers, Vec2};
use egui_kittest::Harness;
use sketch2face::app::{AppOptions, Command, SketchApp};
use sketch2face::sketch::{HISTORY_MAX_LEN, Tool};

#[path = "support/app_harness.rs"]
mod support;
use support::*;

/// Growth of resident memory allowed between the warm app (after a tenth of the steps) and the
/// end. The drawing, the history (200 snapshots sharing their strokes), the caches and the
/// textures are bounded; a leak of even a face per step would pass this within 1,000 steps.
const RSS_GROWTH_LIMIT_MB: f64 = 150.0;

/// A small, seedable generator (xorshift64*): the sequence of a failing run can be replayed.
struct Dice(u64);

impl Dice {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }

    /// Uniform in [lo, hi).
    fn range(&mut self, lo: f32, hi: f32) -> f32 {
        lo + (self.next() >> 40) as f32 / (1u64 << 24) as f32 * (hi - lo)
    }
}

fn resident_mb() -> f64 {
    let status = std::fs::read_to_string("/proc/self/status").expect("/proc/self/status");
    let kb: f64 = status
        .lines()
        .find_map(|line| line.strip_prefix("VmRSS:"))
        .and_then(|rest| rest.split_whitespace().next()?.parse().ok())
        .expect("VmRSS in /proc/self/status");
    kb / 1000.0
}

/// The files the soak opens: a sketch image, a drawing it saved, and bad ones.
struct Files {
    sketch: PathBuf,
    drawing: PathBuf,
    not_an_image: PathBuf,
    truncated: PathBuf,
    missing: PathBuf,
}

impl Files {
    fn new(dir: &Path) -> Self {
        let sketch = write_sketch_file(dir);
        let not_an_image = dir.join("notes.png");
        std::fs::write(&not_an_image, b"these are notes, not a PNG").unwrap();
        let truncated = dir.join("truncated.png");
        let bytes = std::fs::read(&sketch).unwrap();
        std::fs::write(&truncated, &bytes[..bytes.len() / 2]).unwrap();
        Self {
            sketch,
            drawing: dir.join("soak.ora"),
            not_an_image,
            truncated,
            missing: dir.join("missing.png"),
        }
    }
}

/// One random operation, as a user (or a file manager) would do it.
fn random_operation(harness: &mut Harness<'_, SketchApp>, dice: &mut Dice, files: &Files) {
    let command = |harness: &mut Harness<'_, SketchApp>, command: Command| {
        harness.state_mut().push_command(command);
    };
    match dice.below(100) {
        // Strokes, most of the time: a few points anywhere, sometimes off the canvas.
        0..=39 => {
            let points: Vec<(f32, f32)> = (0..2 + dice.below(6))
                .map(|_| (dice.range(-0.1, 1.1), dice.range(-0.1, 1.1)))
                .collect();
            draw(harness, &points);
        }
        40..=44 => command(harness, Command::SelectTool(Tool::Brush)),
        45..=47 => command(harness, Command::SelectTool(Tool::Eraser)),
        48..=50 => {
            let colour = [0, 1, 2].map(|_| dice.below(256) as u8);
            command(harness, Command::SetColour(colour));
        }
        51..=58 => harness.key_press_modifiers(Modifiers::COMMAND, Key::Z),
        59..=63 => harness.key_press_modifiers(Modifiers::COMMAND | Modifiers::SHIFT, Key::Z),
        64..=65 => command(harness, Command::Clear),
        66 => command(harness, Command::ClearColours),
        67..=68 => command(harness, Command::SizeUp),
        69..=70 => command(harness, Command::SizeDown),
        71 => command(harness, Command::ToggleColours),
        72..=74 => harness.key_press(Key::V),
        75..=76 => harness.key_press_modifiers(Modifiers::SHIFT, Key::V),
        77 => command(harness, Command::OtherVariations),
        78..=79 => {
            let seeds = harness.state().variations().0.to_vec();
            let seed = seeds[dice.below(seeds.len() as u64) as usize];
            command(harness, Command::AdoptSeed(seed));
        }
        80..=82 => {
            let size = Vec2::new(dice.range(320.0, 1400.0), dice.range(240.0, 900.0));
            harness.set_size(size);
        }
        83..=84 => command(harness, Command::OpenFile(files.sketch.clone())),
        85 => command(harness, Command::OpenFile(files.not_an_image.clone())),
        86 => command(harness, Command::OpenFile(files.truncated.clone())),
        87 => command(harness, Command::OpenFile(files.missing.clone())),
        88..=89 => command(harness, Command::SaveDrawingTo(files.drawing.clone())),
        90..=91 => command(harness, Command::OpenFile(files.drawing.clone())),
        92 => {
            // A file dropped onto the window, good or bad.
            let path = if dice.below(2) == 0 {
                files.sketch.clone()
            } else {
                files.not_an_image.clone()
            };
            harness
                .input_mut()
                .dropped_files
                .push(Arc::new(DroppedPath(path)));
        }
        93..=94 => command(harness, Command::SelectTool(Tool::Colour)),
        95 => command(harness, Command::ToggleGuide),
        // The rest: the app left alone for a few frames (the worker answers, the strip fills).
        _ => {
            for _ in 0..5 {
                harness.step();
                std::thread::sleep(std::time::Duration::from_millis(2));
            }
        }
    }
    harness.step();
}

#[test]
fn thousands_of_random_operations_keep_the_app_whole_and_its_memory_bounded() {
    let steps: usize = std::env::var("SOAK_STEPS")
        .ok()
        .map_or(1_000, |s| s.parse().expect("SOAK_STEPS is a count"));
    let seed: u64 = std::env::var("SOAK_SEED")
        .ok()
        .map_or(0x5EED_50A6, |s| s.parse().expect("SOAK_SEED is a number"))
        .max(1);
    let dir = tempfile::tempdir().unwrap();
    let files = Files::new(dir.path());
    let data = dir.path().join("data");
    std::fs::create_dir(&data).unwrap();
    let mut harness = harness(AppOptions {
        data_dir: Some(data),
        ..options()
    });
    wait_for_model(&mut harness);
    let mut dice = Dice(seed);
    let mut warm_mb = None;
    let mut peak_mb: f64 = 0.0;
    for step in 0..steps {
        random_operation(&mut harness, &mut dice, &files);
        let app = harness.state();
        assert!(
            app.history().len() <= HISTORY_MAX_LEN,
            "step {step} (seed {seed}): the history holds {} drawings, over its cap of {HISTORY_MAX_LEN}",
            app.history().len()
        );
        if step == steps / 10 {
            warm_mb = Some(resident_mb());
        }
        if step % 50 == 0 {
            peak_mb = peak_mb.max(resident_mb());
        }
        if step > 0 && step % 1000 == 0 {
            eprintln!("soak: {step} operations, resident memory {:.0} MB", resident_mb());
        }
    }

    // Still a working app: a fresh page gets its face (once the last file jobs have answered: an
    // open that lands later replaces the page, as it should).
    wait_for(&mut harness, "the last operations", |app| !app.is_busy());
    harness.state_mut().push_command(Command::Clear);
    harness.state_mut().push_command(Command::SelectTool(Tool::Brush));
    harness.step();
    draw(&mut harness, &LINE);
    wait_for_face(&mut harness);
    assert!(!harness.state().drawing().strokes.is_empty());

    let end_mb = resident_mb();
    let warm_mb = warm_mb.expect("at least 10 steps");
    let errors = harness
        .state()
        .messages()
        .iter()
        .filter(|m| m.is_error)
        .count();
    eprintln!(
        "soak: {steps} operations (seed {seed}); resident memory {warm_mb:.0} MB warm, \
         {peak_mb:.0} MB peak, {end_mb:.0} MB at the end; {errors} error messages in the last {}",
        harness.state().messages().len()
    );
    assert!(
        end_mb - warm_mb <= RSS_GROWTH_LIMIT_MB,
        "resident memory grew from {warm_mb:.0} MB to {end_mb:.0} MB over {steps} operations"
    );
}

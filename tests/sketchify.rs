//! A photo as the sketch (`sketch2face::sketchify`, `sketch2face sketchify`) against the sketches
//! training makes with OpenCV.
//!
//! The fixtures in tests/data/sketchify/ are made by `.venv/bin/python
//! scripts/make_sketchify_fixtures.py` (OpenCV 4.14): small real photos (scikit-image's sample
//! photos, free of copyright) as PNG, each with `<name>.canny2017.png`, training's
//! `training/sketches.py` `canny2017` of it, and for `astronaut_face` its `xdog` with the middle
//! of the random parameters. The same script's `--measure N` compares the two on N UTKFace and
//! N CelebA test photos.

use std::path::{Path, PathBuf};

use assert_cmd::Command;
use image::{GrayImage, RgbImage};
use sketch2face::sketchify::{SketchStyle, edge_f1, ink, sketchify};

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/sketchify")
}

/// The fixture photos: the PNGs whose names have no second extension.
fn photos() -> Vec<PathBuf> {
    let mut photos: Vec<PathBuf> = std::fs::read_dir(fixtures())
        .expect("tests/data/sketchify")
        .map(|entry| entry.unwrap().path())
        .filter(|path| {
            path.file_stem()
                .is_some_and(|stem| !stem.to_string_lossy().contains('.'))
        })
        .filter(|path| path.extension().is_some_and(|ext| ext == "png"))
        .collect();
    photos.sort();
    assert!(
        photos.len() >= 5,
        "the fixture photos are missing: {photos:?}"
    );
    photos
}

fn open_rgb(path: &Path) -> RgbImage {
    image::open(path)
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
        .into_rgb8()
}

fn open_gray(path: &Path) -> GrayImage {
    image::open(path)
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
        .into_luma8()
}

/// What training's OpenCV made of `photo` in `style`.
fn opencv_sketch(photo: &Path, style: SketchStyle) -> GrayImage {
    open_gray(&photo.with_extension(format!("{style}.png")))
}

/// The F1 of the edge pixels (the ink), matched within 1 px.
fn f1(found: &GrayImage, expected: &GrayImage) -> f64 {
    assert_eq!(
        found.dimensions(),
        expected.dimensions(),
        "the sketch has the photo's size"
    );
    let (width, height) = found.dimensions();
    edge_f1(
        &ink(found),
        &ink(expected),
        width as usize,
        height as usize,
        1,
    )
}

fn median(values: &mut [f64]) -> f64 {
    values.sort_by(f64::total_cmp);
    let middle = values.len() / 2;
    if values.len().is_multiple_of(2) {
        (values[middle - 1] + values[middle]) / 2.0
    } else {
        values[middle]
    }
}

#[test]
fn canny2017_edges_match_opencvs_on_real_photos() {
    let mut scores = Vec::new();
    for photo in photos() {
        let sketch = sketchify(&open_rgb(&photo), SketchStyle::Canny2017);
        let expected = opencv_sketch(&photo, SketchStyle::Canny2017);
        let score = f1(&sketch, &expected);
        let differing = sketch
            .iter()
            .zip(expected.iter())
            .filter(|(a, b)| a != b)
            .count();
        println!(
            "{}: F1 {score:.4}, {differing} pixels differ",
            photo.display()
        );
        // The recipe follows OpenCV's code to the bit: beyond the F1, a sketch differs
        // from OpenCV's in at most 0.1% of its pixels (none, with OpenCV 4.14).
        assert!(
            differing * 1000 <= sketch.len(),
            "{}: {differing} of {} pixels differ from OpenCV's sketch",
            photo.display(),
            sketch.len()
        );
        scores.push(score);
    }
    let worst = scores.iter().copied().fold(f64::INFINITY, f64::min);
    let median = median(&mut scores);
    println!("median F1 {median:.4}, worst {worst:.4}");
    assert!(
        median >= 0.9,
        "median F1 {median:.4} against OpenCV, below 0.9"
    );
    assert!(worst >= 0.8, "a photo's F1 is {worst:.4} against OpenCV");
}

#[test]
fn xdog_is_trainings_xdog_with_the_middle_parameters() {
    let photo = fixtures().join("astronaut_face.png");
    let sketch = sketchify(&open_rgb(&photo), SketchStyle::Xdog);
    let expected = opencv_sketch(&photo, SketchStyle::Xdog);
    assert_eq!(sketch.dimensions(), expected.dimensions());
    let differences: Vec<u8> = sketch
        .iter()
        .zip(expected.iter())
        .map(|(&a, &b)| a.abs_diff(b))
        .collect();
    let close = differences.iter().filter(|&&d| d <= 2).count() as f64 / differences.len() as f64;
    let mean = differences.iter().map(|&d| f64::from(d)).sum::<f64>() / differences.len() as f64;
    assert!(
        close >= 0.99 && mean < 0.5,
        "{:.2}% within 2 levels, mean difference {mean:.3}",
        close * 100.0
    );
    // And it is a drawing: some ink, mostly paper.
    let inked = sketch.iter().filter(|&&v| v < 128).count() as f64 / differences.len() as f64;
    assert!(
        (0.02..0.2).contains(&inked),
        "ink on {:.1}% of the page",
        inked * 100.0
    );
}

fn sketch2face() -> Command {
    assert_cmd::cargo::cargo_bin_cmd!("sketch2face")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

#[test]
fn the_command_writes_the_sketch_at_the_photos_size_and_keeps_it_without_force() {
    let out = tempfile::tempdir().unwrap();
    let photo = fixtures().join("chelsea.png");
    let written = out.path().join("chelsea.png");
    let run = |extra: &[&str]| {
        sketch2face()
            .arg("sketchify")
            .arg(&photo)
            .arg("--out")
            .arg(out.path())
            .args(extra)
            .output()
            .unwrap()
    };
    let output = run(&["--style", "canny2017"]);
    assert!(output.status.success(), "{}", text(&output.stderr));
    let sketch = open_gray(&written);
    assert_eq!(sketch, sketchify(&open_rgb(&photo), SketchStyle::Canny2017));
    assert!(f1(&sketch, &opencv_sketch(&photo, SketchStyle::Canny2017)) >= 0.9);

    // Again: refused before any work (exit 4), the sketch untouched.
    let output = run(&["--style", "xdog"]);
    assert_eq!(output.status.code(), Some(4), "{}", text(&output.stderr));
    assert!(
        text(&output.stderr).contains("exists already (--force overwrites it)"),
        "{}",
        text(&output.stderr)
    );
    assert_eq!(open_gray(&written), sketch);
    // With --force it is replaced, here by the other style.
    let output = run(&["--style", "xdog", "--force"]);
    assert!(output.status.success(), "{}", text(&output.stderr));
    assert_eq!(
        open_gray(&written),
        sketchify(&open_rgb(&photo), SketchStyle::Xdog)
    );
    let names: Vec<_> = std::fs::read_dir(out.path())
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(names, ["chelsea.png"], "no temporary files are left behind");
}

#[test]
fn unreadable_and_hostile_photos_are_named_and_the_others_still_sketched() {
    let dir = tempfile::tempdir().unwrap();
    let text_file = dir.path().join("notes.png");
    std::fs::write(&text_file, "not an image").unwrap();
    // A long thin image past the sketch files' dimension limit (8192): refused from its header.
    let banner = dir.path().join("banner.png");
    GrayImage::new(sketch2face::sketch::MAX_DIMENSION + 1, 1)
        .save(&banner)
        .unwrap();
    let missing = dir.path().join("missing.jpg");
    let good = fixtures().join("rocket.png");
    let out = dir.path().join("out");
    let output = sketch2face()
        .arg("sketchify")
        .args([&text_file, &banner, &missing, &good])
        .arg("--out")
        .arg(&out)
        .output()
        .unwrap();
    let stderr = text(&output.stderr);
    assert_eq!(output.status.code(), Some(2), "{stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
    for name in ["notes.png", "banner.png", "missing.jpg"] {
        assert!(stderr.contains(name), "{name} is not named: {stderr}");
    }
    assert!(
        stderr.contains("8193 x 1 pixels, the limit is 8192 x 8192"),
        "{stderr}"
    );
    assert!(
        stderr.contains("3 of 4 photos could not be read"),
        "{stderr}"
    );
    assert!(
        out.join("rocket.png").is_file(),
        "the good photo still gets its sketch"
    );
    assert!(!out.join("notes.png").exists() && !out.join("banner.png").exists());
}

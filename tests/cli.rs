//! The real `sketch2face` binary with the real ONNX Runtime (`make runtime`) and the shipped model
//! `models/sketch2face.onnx`.

use std::path::{Path, PathBuf};
use std::process::Output;

use assert_cmd::Command;
use image::{ColorType, RgbImage};

fn project(relative: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(relative)
}

fn shipped_model() -> PathBuf {
    let model = project("models/sketch2face.onnx");
    assert!(
        model.is_file(),
        "the shipped model {} is missing",
        model.display()
    );
    model
}

fn example_sketches() -> Vec<PathBuf> {
    let mut sketches: Vec<PathBuf> = std::fs::read_dir(project("assets/sketches"))
        .expect("assets/sketches")
        .map(|entry| entry.unwrap().path())
        .filter(|path| path.extension().is_some_and(|ext| ext == "png"))
        .collect();
    sketches.sort();
    assert!(
        sketches.len() >= 3,
        "need the example sketches in assets/sketches"
    );
    sketches
}

fn sketch2face() -> Command {
    assert_cmd::cargo::cargo_bin_cmd!("sketch2face")
}

/// `generate` on the CPU with the shipped model into `out`.
fn generate(sketches: &[PathBuf], out: &Path, extra: &[&str]) -> Output {
    sketch2face()
        .arg("generate")
        .args(sketches)
        .arg("--out")
        .arg(out)
        .arg("--model")
        .arg(shipped_model())
        .args(["--device", "cpu"])
        .args(extra)
        .output()
        .unwrap()
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

fn assert_no_panic(output: &Output) {
    let stderr = text(&output.stderr);
    assert!(!stderr.contains("panicked"), "panic: {stderr}");
    assert_ne!(output.status.code(), Some(101), "panic exit code: {stderr}");
}

/// Exit statuses of `sketch2face` (`generate --help`, README "Command line").
const SOME_SKETCHES_FAILED: i32 = 1;
const CANNOT_RUN: i32 = 3;
const REFUSED: i32 = 4;

/// The standard error of a run that must have failed with exit status `status`.
fn failure_text(output: &Output, status: i32) -> String {
    let stderr = text(&output.stderr);
    assert_eq!(output.status.code(), Some(status), "{stderr}");
    stderr
}

/// A copy of example sketch `index` at `path` (re-encoded when the extension says JPEG).
fn sketch_copy(index: usize, path: &Path) -> PathBuf {
    image::open(&example_sketches()[index])
        .unwrap()
        .into_rgb8()
        .save(path)
        .unwrap();
    path.to_path_buf()
}

/// Every file in `folder`, by name.
fn file_names(folder: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(folder)
        .unwrap()
        .map(|entry| entry.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

fn open_rgb(path: &Path) -> RgbImage {
    let image = image::open(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    assert_eq!(image.color(), ColorType::Rgb8, "{} is RGB", path.display());
    image.into_rgb8()
}

fn mean_abs_diff(a: &RgbImage, b: &RgbImage) -> f64 {
    assert_eq!(a.dimensions(), b.dimensions());
    let total: u64 = a
        .as_raw()
        .iter()
        .zip(b.as_raw())
        .map(|(x, y)| u64::from(x.abs_diff(*y)))
        .sum();
    total as f64 / a.as_raw().len() as f64
}

#[test]
fn generate_writes_an_rgb_face_per_sketch_at_the_model_resolution() {
    let out = tempfile::tempdir().unwrap();
    let sketches = example_sketches();
    let output = generate(&sketches, out.path(), &[]);
    assert!(output.status.success(), "{}", text(&output.stderr));
    let stdout = text(&output.stdout);
    for sketch in &sketches {
        let stem = sketch.file_stem().unwrap().to_str().unwrap();
        let face = open_rgb(&out.path().join(format!("{stem}.png")));
        assert_eq!(face.dimensions(), (128, 128));
        let line = stdout
            .lines()
            .find(|line| line.contains(stem))
            .unwrap_or_else(|| panic!("no line for {stem} in {stdout}"));
        assert!(line.ends_with(" ms)"), "time in ms: {line}");
    }
}

#[test]
fn generate_upscales_to_the_asked_size() {
    let out = tempfile::tempdir().unwrap();
    let sketch = &example_sketches()[0];
    let output = generate(std::slice::from_ref(sketch), out.path(), &["--size", "300"]);
    assert!(output.status.success(), "{}", text(&output.stderr));
    let stem = sketch.file_stem().unwrap().to_str().unwrap();
    let face = open_rgb(&out.path().join(format!("{stem}.png")));
    assert_eq!(face.dimensions(), (300, 300));
}

#[test]
fn different_sketches_give_different_faces() {
    let out = tempfile::tempdir().unwrap();
    let sketches = example_sketches();
    let output = generate(&sketches, out.path(), &[]);
    assert!(output.status.success(), "{}", text(&output.stderr));
    let faces: Vec<RgbImage> = sketches
        .iter()
        .map(|s| open_rgb(&out.path().join(s.file_name().unwrap())))
        .collect();
    for i in 0..faces.len() {
        for j in i + 1..faces.len() {
            let diff = mean_abs_diff(&faces[i], &faces[j]);
            assert!(
                diff > 1.0,
                "faces {i} and {j} differ by only {diff:.2} per channel"
            );
        }
    }
    // And a face is not just the sketch in colour: it has colour.
    let colourful = faces[0]
        .pixels()
        .filter(|p| p[0].abs_diff(p[2]) > 8)
        .count();
    assert!(
        colourful > 128 * 128 / 10,
        "only {colourful} coloured pixels"
    );
}

#[test]
fn bad_sketches_are_named_and_the_good_ones_still_written() {
    let dir = tempfile::tempdir().unwrap();
    let good = example_sketches()[0].clone();
    let empty = dir.path().join("empty.png");
    std::fs::write(&empty, b"").unwrap();
    let truncated = dir.path().join("truncated.png");
    std::fs::write(&truncated, &std::fs::read(&good).unwrap()[..200]).unwrap();
    let text_file = dir.path().join("notes.png");
    std::fs::write(&text_file, "this is a shopping list, not a picture\n").unwrap();
    let missing = dir.path().join("missing.png");
    let out = dir.path().join("faces");

    let inputs = [
        empty.clone(),
        truncated.clone(),
        good.clone(),
        text_file.clone(),
        missing.clone(),
    ];
    let output = generate(&inputs, &out, &[]);
    assert_no_panic(&output);
    let stderr = failure_text(&output, SOME_SKETCHES_FAILED);
    // Results on standard output, problems on standard error, never mixed.
    let stdout = text(&output.stdout);
    assert!(!stdout.contains("error"), "{stdout}");
    assert!(!stderr.contains(" -> "), "{stderr}");
    assert_eq!(
        stdout.lines().filter(|line| line.contains(" -> ")).count(),
        1,
        "{stdout}"
    );
    for bad in [&empty, &truncated, &text_file, &missing] {
        let name = bad.display().to_string();
        let lines = stderr
            .lines()
            .filter(|line| line.starts_with("error: ") && line.contains(&name));
        assert!(
            lines.count() >= 2,
            "{name} named on its own line and in the summary: {stderr}"
        );
    }
    assert!(stderr.contains("4 of 5 sketches failed"), "{stderr}");
    assert!(stderr.contains("is empty"), "{stderr}");
    assert!(stderr.contains("not an image"), "{stderr}");
    let good_face = out.join(good.file_name().unwrap());
    assert_eq!(
        open_rgb(&good_face).dimensions(),
        (128, 128),
        "the good sketch still gets its face"
    );
    assert!(!out.join("empty.png").exists() && !out.join("notes.png").exists());
}

#[test]
fn faces_keep_the_whole_sketch_name_with_only_the_last_extension_replaced() {
    let dir = tempfile::tempdir().unwrap();
    let sketches = [
        sketch_copy(0, &dir.path().join("a.v2.png")),
        sketch_copy(1, &dir.path().join("b.v2.jpg")),
        sketch_copy(2, &dir.path().join("c.final.bmp")),
    ];
    let out = dir.path().join("faces");
    let output = sketch2face()
        .arg("generate")
        .args(&sketches)
        .arg("-o")
        .arg(&out)
        .arg("--model")
        .arg(shipped_model())
        .args(["--device", "cpu"])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(0), "{}", text(&output.stderr));
    assert_eq!(file_names(&out), ["a.v2.png", "b.v2.png", "c.final.png"]);
    let stdout = text(&output.stdout);
    for (sketch, face) in sketches.iter().zip(["a.v2.png", "b.v2.png", "c.final.png"]) {
        let line = format!("{} -> {}", sketch.display(), out.join(face).display());
        assert!(stdout.contains(&line), "{line} in {stdout}");
        assert_eq!(open_rgb(&out.join(face)).dimensions(), (128, 128));
    }
}

#[test]
fn sketches_that_would_share_a_face_file_are_refused_before_any_work() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("jpeg")).unwrap();
    let png = sketch_copy(0, &dir.path().join("face.png"));
    let jpeg = sketch_copy(1, &dir.path().join("jpeg/face.jpg"));
    let other = sketch_copy(2, &dir.path().join("other.png"));
    let out = dir.path().join("faces");
    let output = generate(&[png.clone(), other, jpeg.clone()], &out, &["--force"]);
    assert_no_panic(&output);
    let stderr = failure_text(&output, REFUSED);
    let clash = format!(
        "{} and {} would both be written to {}",
        png.display(),
        jpeg.display(),
        out.join("face.png").display()
    );
    assert!(stderr.contains(&clash), "{stderr}");
    assert!(stderr.contains("nothing was written"), "{stderr}");
    assert!(!out.exists(), "not even the folder was made");
    assert!(text(&output.stdout).is_empty());
}

#[test]
fn existing_faces_are_kept_unless_force_is_given() {
    let dir = tempfile::tempdir().unwrap();
    let kept = sketch_copy(0, &dir.path().join("kept.png"));
    let new = sketch_copy(1, &dir.path().join("new.png"));
    let out = dir.path().join("faces");
    std::fs::create_dir(&out).unwrap();
    let earlier = out.join("kept.png");
    std::fs::write(&earlier, b"a face the user wants to keep").unwrap();

    let output = generate(&[new.clone(), kept.clone()], &out, &[]);
    assert_no_panic(&output);
    let stderr = failure_text(&output, REFUSED);
    assert!(
        stderr.contains(&format!(
            "{} exists already (--force overwrites it)",
            earlier.display()
        )),
        "{stderr}"
    );
    assert_eq!(
        std::fs::read(&earlier).unwrap(),
        b"a face the user wants to keep"
    );
    assert_eq!(file_names(&out), ["kept.png"], "nothing at all was written");

    let output = generate(&[new, kept], &out, &["--force"]);
    assert_eq!(output.status.code(), Some(0), "{}", text(&output.stderr));
    assert_eq!(open_rgb(&earlier).dimensions(), (128, 128));
    assert_eq!(
        file_names(&out),
        ["kept.png", "new.png"],
        "no temporary files left"
    );
}

#[test]
fn a_face_never_replaces_its_own_sketch() {
    let dir = tempfile::tempdir().unwrap();
    let sketch = sketch_copy(0, &dir.path().join("drawing.png"));
    let before = std::fs::read(&sketch).unwrap();
    let output = generate(std::slice::from_ref(&sketch), dir.path(), &["--force"]);
    let stderr = failure_text(&output, REFUSED);
    assert!(stderr.contains("would overwrite the sketch"), "{stderr}");
    assert_eq!(std::fs::read(&sketch).unwrap(), before);
}

#[test]
fn json_gives_one_object_per_sketch_with_its_times_or_its_error() {
    let dir = tempfile::tempdir().unwrap();
    let good = sketch_copy(0, &dir.path().join("good.png"));
    let empty = dir.path().join("empty.png");
    std::fs::write(&empty, b"").unwrap();
    let out = dir.path().join("faces");
    let output = generate(&[good.clone(), empty.clone()], &out, &["--json"]);
    failure_text(&output, SOME_SKETCHES_FAILED);
    let stdout = text(&output.stdout);
    let reports: Vec<serde_json::Value> = stdout
        .lines()
        .map(|line| serde_json::from_str(line).unwrap_or_else(|e| panic!("{e}: {line}")))
        .collect();
    assert_eq!(reports.len(), 2, "only JSON on standard output: {stdout}");

    let done = &reports[0];
    assert_eq!(done["input"], good.display().to_string());
    assert_eq!(done["output"], out.join("good.png").display().to_string());
    let model_ms = done["model_ms"].as_f64().expect("model_ms");
    let total_ms = done["total_ms"].as_f64().expect("total_ms");
    assert!(
        model_ms > 0.0 && total_ms >= model_ms,
        "model {model_ms} ms, total {total_ms} ms"
    );
    assert!(done.get("error").is_none(), "{done}");
    assert_eq!(open_rgb(&out.join("good.png")).dimensions(), (128, 128));

    let failed = &reports[1];
    assert_eq!(failed["input"], empty.display().to_string());
    assert_eq!(
        failed["output"],
        out.join("empty.png").display().to_string()
    );
    let error = failed["error"].as_str().expect("error");
    assert!(error.contains("is empty"), "{error}");
    assert!(failed.get("model_ms").is_none(), "{failed}");
}

#[test]
fn exit_statuses_tell_nothing_could_run_from_some_sketches_failed() {
    let dir = tempfile::tempdir().unwrap();
    let sketch = sketch_copy(0, &dir.path().join("sketch.png"));
    let out = dir.path().join("faces");
    let generate_with = |env: Option<(&str, &str)>, model: &Path| {
        let mut command = sketch2face();
        command
            .arg("generate")
            .arg(&sketch)
            .arg("--out")
            .arg(&out)
            .arg("--model")
            .arg(model);
        if let Some((key, value)) = env {
            command.env(key, value);
        }
        command.output().unwrap()
    };

    let no_runtime = generate_with(
        Some(("ORT_DYLIB_PATH", "/nonexistent/libonnxruntime.so")),
        &shipped_model(),
    );
    let stderr = failure_text(&no_runtime, CANNOT_RUN);
    assert!(stderr.contains("run `make runtime`"), "{stderr}");
    let not_a_model = generate_with(None, &sketch);
    failure_text(&not_a_model, CANNOT_RUN);
    assert!(
        !out.join("sketch.png").exists(),
        "nothing is written when nothing can run"
    );

    let all_good = generate_with(None, &shipped_model());
    assert_eq!(
        all_good.status.code(),
        Some(0),
        "{}",
        text(&all_good.stderr)
    );
}

#[test]
fn a_missing_model_is_named() {
    let dir = tempfile::tempdir().unwrap();
    let model = dir.path().join("nowhere.onnx");
    let output = sketch2face()
        .arg("generate")
        .arg(&example_sketches()[0])
        .arg("--out")
        .arg(dir.path())
        .arg("--model")
        .arg(&model)
        .output()
        .unwrap();
    assert_no_panic(&output);
    let stderr = failure_text(&output, CANNOT_RUN);
    assert!(
        stderr.contains(&format!("model file {} not found", model.display())),
        "{stderr}"
    );
}

#[test]
fn a_model_with_the_wrong_contract_is_refused() {
    let model = project("tests/data/contract/contract_3.onnx");
    let dir = tempfile::tempdir().unwrap();
    for command in [
        &["info"][..],
        &["generate", "--out", dir.path().to_str().unwrap()],
    ] {
        let mut cmd = sketch2face();
        cmd.args(command).arg("--model").arg(&model);
        if command[0] == "generate" {
            cmd.arg(&example_sketches()[0]);
        }
        let output = cmd.output().unwrap();
        assert_no_panic(&output);
        let stderr = failure_text(&output, CANNOT_RUN);
        assert!(stderr.contains("contract_3.onnx"), "{stderr}");
        assert!(
            stderr.contains("`sketch2face.contract`: expected \"1\" or \"2\" (a generator), found \"3\": a refine model"),
            "{stderr}"
        );
    }
    let model = project("tests/data/contract/two_channel_output.onnx");
    let output = sketch2face()
        .arg("info")
        .arg("--model")
        .arg(&model)
        .output()
        .unwrap();
    let stderr = failure_text(&output, CANNOT_RUN);
    assert!(stderr.contains("found f32 [N, 2, 16, 16]"), "{stderr}");
}

#[test]
fn a_missing_runtime_says_how_to_get_it() {
    let output = sketch2face()
        .args(["info", "--device", "cpu"])
        .env("ORT_DYLIB_PATH", "/nonexistent/libonnxruntime.so")
        .output()
        .unwrap();
    assert_no_panic(&output);
    let stderr = failure_text(&output, CANNOT_RUN);
    assert!(
        stderr.contains("/nonexistent/libonnxruntime.so") && stderr.contains("run `make runtime`"),
        "{stderr}"
    );
}

#[test]
fn info_prints_the_contract_metadata_and_provider() {
    let output = sketch2face()
        .arg("info")
        .arg("--model")
        .arg(shipped_model())
        .output()
        .unwrap();
    assert!(output.status.success(), "{}", text(&output.stderr));
    let stdout = text(&output.stdout);
    assert!(stdout.contains("contract:   2\n"), "{stdout}");
    assert!(
        stdout.contains("inputs:\n  sketch: f32 [N, 1, 128, 128]"),
        "{stdout}"
    );
    assert!(stdout.contains("  hints: f32 [N, 4, 128, 128]"), "{stdout}");
    assert!(stdout.contains("  z: f32 [N, 8]"), "{stdout}");
    assert!(stdout.contains("output:     face: f32 [N, 3, 128, 128]"), "{stdout}");
    assert!(stdout.contains("resolution: 128 x 128"), "{stdout}");
    assert!(stdout.contains("sketch2face.contract: 2"), "{stdout}");
    assert!(stdout.contains("sketch2face.license:"), "{stdout}");
    let provider = stdout
        .lines()
        .find(|l| l.starts_with("provider:"))
        .expect("provider line");
    assert!(
        provider.starts_with("provider:   CPU") || provider.starts_with("provider:   CUDA"),
        "{provider}"
    );
}

/// An RGBA hint image of `side` px: `colour` over the top fifth (where hair is drawn), transparent
/// elsewhere.
fn hair_hints(side: u32, colour: [u8; 3]) -> image::RgbaImage {
    image::RgbaImage::from_fn(side, side, |_, y| {
        if y < side / 5 {
            image::Rgba([colour[0], colour[1], colour[2], 255])
        } else {
            image::Rgba([0, 0, 0, 0])
        }
    })
}

/// Mean distance of the top fifth of `face` to `colour`, per channel.
fn top_colour_distance(face: &RgbImage, colour: [u8; 3]) -> f64 {
    let rows = face.height() / 5;
    let mut total = 0u64;
    for y in 0..rows {
        for x in 0..face.width() {
            let pixel = face.get_pixel(x, y);
            total += (0..3).map(|c| u64::from(pixel[c].abs_diff(colour[c]))).sum::<u64>();
        }
    }
    total as f64 / f64::from(rows * face.width() * 3)
}

#[test]
fn hints_colour_the_face_where_painted_and_any_size_is_fitted() {
    let dir = tempfile::tempdir().unwrap();
    let sketch = example_sketches()[0].clone();
    let blond = [222, 188, 120];
    let hints = dir.path().join("hints.png");
    hair_hints(200, blond).save(&hints).unwrap(); // the sketch is 512 px: fitted
    let plain = dir.path().join("plain");
    let hinted = dir.path().join("hinted");
    let output = generate(std::slice::from_ref(&sketch), &plain, &[]);
    assert!(output.status.success(), "{}", text(&output.stderr));
    let output = generate(
        std::slice::from_ref(&sketch),
        &hinted,
        &["--hints", hints.to_str().unwrap()],
    );
    assert!(output.status.success(), "{}", text(&output.stderr));
    let name = sketch.file_name().unwrap();
    let before = top_colour_distance(&open_rgb(&plain.join(name)), blond);
    let after = top_colour_distance(&open_rgb(&hinted.join(name)), blond);
    assert!(
        after < 0.7 * before,
        "the hinted hair is closer to the hint colour: {before:.1} -> {after:.1}"
    );
}

#[test]
fn a_hint_file_that_is_not_an_image_is_refused_by_name() {
    let dir = tempfile::tempdir().unwrap();
    let bogus = dir.path().join("colours.png");
    std::fs::write(&bogus, b"blond hair, please").unwrap();
    let out = dir.path().join("faces");
    let output = generate(
        &example_sketches()[..1],
        &out,
        &["--hints", bogus.to_str().unwrap()],
    );
    assert_no_panic(&output);
    let stderr = failure_text(&output, CANNOT_RUN);
    assert!(
        stderr.contains("cannot read the hints file") && stderr.contains("colours.png"),
        "{stderr}"
    );
    assert!(
        !out.exists() || file_names(&out).is_empty(),
        "nothing written"
    );
}

#[test]
fn seeds_repeat_and_variations_differ() {
    let dir = tempfile::tempdir().unwrap();
    let sketch = example_sketches()[1].clone();
    let stem = sketch.file_stem().unwrap().to_string_lossy().into_owned();
    let run = |folder: &str, extra: &[&str]| {
        let out = dir.path().join(folder);
        let output = generate(std::slice::from_ref(&sketch), &out, extra);
        assert!(output.status.success(), "{}", text(&output.stderr));
        (out, text(&output.stdout))
    };
    let (default, _) = run("default", &[]);
    let (first, _) = run("seed7a", &["--seed", "7"]);
    let (again, _) = run("seed7b", &["--seed", "7"]);
    let (varied, stdout) = run("varied", &["--variations", "3", "--json"]);
    let png = format!("{stem}.png");
    let default_face = open_rgb(&default.join(&png));
    let seven = open_rgb(&first.join(&png));
    assert_eq!(seven, open_rgb(&again.join(&png)), "the same seed, the same face");
    assert!(mean_abs_diff(&seven, &default_face) > 0.5, "seed 7 is not the default face");

    let names = file_names(&varied);
    assert_eq!(
        names,
        [1, 2, 3].map(|k| format!("{stem}-{k}.png")),
        "one numbered file per variation"
    );
    let faces: Vec<RgbImage> = names.iter().map(|n| open_rgb(&varied.join(n))).collect();
    // Seed 0 is the default face; a batch may round a few pixels differently from a single run.
    assert!(
        mean_abs_diff(&faces[0], &default_face) < 0.1,
        "variation 1 is seed 0, the default face"
    );
    for (a, b) in [(0, 1), (0, 2), (1, 2)] {
        assert!(mean_abs_diff(&faces[a], &faces[b]) > 0.5, "variations {a} and {b} differ");
    }
    let seeds: Vec<u64> = stdout
        .lines()
        .map(|line| serde_json::from_str::<serde_json::Value>(line).unwrap()["seed"].as_u64().unwrap())
        .collect();
    assert_eq!(seeds, [0, 1, 2]);
}

#[test]
fn hints_and_seeds_for_a_model_without_them_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let hints = dir.path().join("hints.png");
    hair_hints(16, [10, 20, 30]).save(&hints).unwrap();
    let v1 = project("tests/data/contract/valid.onnx");
    for extra in [["--hints", hints.to_str().unwrap()], ["--seed", "3"], ["--variations", "2"]] {
        let output = sketch2face()
            .arg("generate")
            .arg(&example_sketches()[0])
            .arg("--out")
            .arg(dir.path().join("faces"))
            .arg("--model")
            .arg(&v1)
            .args(extra)
            .output()
            .unwrap();
        let stderr = failure_text(&output, CANNOT_RUN);
        assert!(stderr.contains("valid.onnx") && stderr.contains("contract 1"), "{stderr}");
    }
}

#[test]
fn cuda_is_either_used_or_refused_clearly() {
    let output = sketch2face()
        .args(["info", "--device", "cuda", "--model"])
        .arg(shipped_model())
        .output()
        .unwrap();
    assert_no_panic(&output);
    if output.status.success() {
        assert!(text(&output.stdout).contains("provider:   CUDA"));
    } else {
        let stderr = failure_text(&output, CANNOT_RUN);
        assert!(stderr.contains("CUDA cannot be used"), "{stderr}");
    }
}

#[test]
fn usage_errors_exit_with_2() {
    for args in [
        &["generate", "--out", "x"][..],
        &["generate", "a.png"],
        &["info", "--device", "gpu"],
        &["generate", "a.png", "--out", "x", "--size", "8193"],
        &["frobnicate", "x"],
    ] {
        let output = sketch2face().args(args).output().unwrap();
        assert_eq!(
            output.status.code(),
            Some(2),
            "{args:?}: {}",
            text(&output.stderr)
        );
    }
    let help = sketch2face().args(["generate", "--help"]).output().unwrap();
    assert!(help.status.success());
    let help = text(&help.stdout);
    for documented in [
        "--device <DEVICE>",
        "-o, --out <DIR>",
        "N from 1 to 8192",
        "--force",
        "--json",
        "Exit status:",
        "  3  nothing could run",
    ] {
        assert!(help.contains(documented), "{documented} in {help}");
    }
}

// ---- Hostile models and files (issue 11): refused with the reason, never an abort ----------

fn contract_model(name: &str) -> PathBuf {
    project("tests/data/contract").join(format!("{name}.onnx"))
}

/// `sketch2face generate` of the first example sketch into `out`, or `info` (`out` unused), with
/// `model` on the CPU: add more arguments and run it.
fn model_command(command: &str, model: &Path, out: &Path) -> Command {
    let mut cmd = sketch2face();
    cmd.arg(command);
    if command == "generate" {
        cmd.arg(&example_sketches()[0]).arg("--out").arg(out);
    }
    cmd.arg("--model").arg(model).args(["--device", "cpu"]);
    cmd
}

fn run_model_command(command: &str, model: &Path, out: &Path, extra: &[&str]) -> Output {
    model_command(command, model, out)
        .args(extra)
        .output()
        .unwrap()
}

/// The standard error of a run that exited with `status` by itself: no signal, no panic.
fn refusal(output: &Output, status: i32) -> String {
    assert!(
        output.status.code().is_some(),
        "killed by a signal: {output:?}"
    );
    assert_no_panic(output);
    failure_text(output, status)
}

#[test]
fn hostile_models_are_refused_by_generate_and_info_with_the_reason() {
    let dir = tempfile::tempdir().unwrap();
    let not_onnx = dir.path().join("face.onnx");
    std::fs::copy(project("tests/data/golden_face.png"), &not_onnx).unwrap();
    let text = dir.path().join("notes.onnx");
    std::fs::write(&text, "this is not a model\n").unwrap();
    let through_a_file = text.join("model.onnx");
    let cases: Vec<(PathBuf, &[&str])> = vec![
        (
            dir.path().to_owned(),
            &["is a folder; give the .onnx file itself"],
        ),
        (not_onnx.clone(), &["is not an ONNX model", "(at byte"]),
        (text.clone(), &["is not an ONNX model"]),
        (
            through_a_file.clone(),
            &["cannot read model file", "Not a directory"],
        ),
        (
            contract_model("huge_resolution"),
            &["at most 2048", "65535"],
        ),
        (
            contract_model("external_initializer"),
            &["`bias` in \"external_bias.bin\"", "--allow-external-data"],
        ),
        (
            contract_model("external_constant"),
            &["reads 1 tensor(s) from other files"],
        ),
        (
            contract_model("external_subgraph"),
            &["reads 1 tensor(s) from other files"],
        ),
        (
            contract_model("external_outside"),
            &["`bias` in \"../../../Cargo.toml\""],
        ),
    ];
    for (model, expected) in &cases {
        for command in ["generate", "info"] {
            let out = dir.path().join("faces");
            let output = run_model_command(command, model, &out, &[]);
            let stderr = refusal(&output, CANNOT_RUN);
            assert!(
                stderr.contains(&model.display().to_string()),
                "{command}: {stderr}"
            );
            for part in *expected {
                assert!(
                    stderr.contains(part),
                    "{command} {}: {stderr}",
                    model.display()
                );
            }
            let written = std::fs::read_dir(&out).map_or(0, |entries| entries.count());
            assert_eq!(written, 0, "{command}: nothing is written");
        }
    }
}

#[test]
fn external_data_is_refused_before_onnx_runtime_is_even_loaded() {
    let dir = tempfile::tempdir().unwrap();
    let output = model_command(
        "generate",
        &contract_model("external_initializer"),
        dir.path(),
    )
    .env(
        "ORT_DYLIB_PATH",
        dir.path().join("no-such-libonnxruntime.so"),
    )
    .output()
    .unwrap();
    let stderr = refusal(&output, CANNOT_RUN);
    assert!(stderr.contains("from other files"), "{stderr}");
    assert!(
        !stderr.contains("ONNX Runtime library not found"),
        "{stderr}"
    );
}

#[test]
fn an_unreadable_model_is_refused_for_its_permissions() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
    let locked = dir.path().join("locked.onnx");
    std::fs::copy(contract_model("valid"), &locked).unwrap();
    std::fs::set_permissions(&locked, std::fs::Permissions::from_mode(0o000)).unwrap();
    // Root reads any file: run the binary as `nobody` then, where setpriv can.
    let binary = env!("CARGO_BIN_EXE_sketch2face");
    let mut cmd = if std::fs::read(&locked).is_ok() {
        if !Path::new("/usr/bin/setpriv").is_file() {
            eprintln!("skipped: running as root and no setpriv to drop to another user");
            return;
        }
        let mut cmd = std::process::Command::new("/usr/bin/setpriv");
        cmd.args(["--reuid=65534", "--regid=65534", "--clear-groups", binary]);
        cmd
    } else {
        std::process::Command::new(binary)
    };
    let output = cmd
        .args(["info", "--device", "cpu", "--model"])
        .arg(&locked)
        .output()
        .unwrap();
    let stderr = refusal(&output, CANNOT_RUN);
    assert!(
        stderr.contains(&format!("cannot read model file {}", locked.display()))
            && stderr.contains("Permission denied"),
        "{stderr}"
    );
}

#[test]
fn external_data_is_read_from_the_model_folder_with_allow_external_data() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("faces");
    let model = contract_model("external_initializer");
    let allow = ["--allow-external-data"];
    let output = run_model_command("generate", &model, &out, &allow);
    assert!(output.status.success(), "{}", text(&output.stderr));
    assert_eq!(std::fs::read_dir(&out).unwrap().count(), 1, "one face");
    let output = run_model_command("info", &model, &out, &allow);
    assert!(output.status.success(), "{}", text(&output.stderr));
    assert!(text(&output.stdout).contains("resolution: 16 x 16"));
    // Outside the folder, ONNX Runtime refuses it even when allowed.
    let outside = contract_model("external_outside");
    let output = run_model_command("info", &outside, &out, &allow);
    let stderr = refusal(&output, CANNOT_RUN);
    assert!(stderr.contains("escapes model directory"), "{stderr}");
}

#[test]
fn a_model_that_fails_at_run_time_fails_its_sketches_not_the_process() {
    // Both errors name the model and the sketch (`cannot generate a face for`).
    for (name, expected) in [
        ("runtime_reshape", "runtime_reshape.onnx failed"),
        ("runtime_reshape", "Reshape"),
        (
            "runtime_output_shape",
            "runtime_output_shape.onnx gave an output of the wrong shape",
        ),
        (
            "runtime_output_shape",
            "expected shape [1, 3, 16, 16], found [1, 3, 32, 32]",
        ),
    ] {
        let dir = tempfile::tempdir().unwrap();
        let output = run_model_command("generate", &contract_model(name), dir.path(), &[]);
        let stderr = refusal(&output, SOME_SKETCHES_FAILED);
        assert!(
            stderr.contains(expected) && stderr.contains("cannot generate a face for"),
            "{stderr}"
        );
        assert_eq!(
            std::fs::read_dir(dir.path()).unwrap().count(),
            0,
            "{name}: no face"
        );
    }
}

#[test]
fn a_sketch_too_large_to_decode_is_refused_from_its_header() {
    let dir = tempfile::tempdir().unwrap();
    // After an example sketch, which still gets its face.
    let deep = project("tests/data/hostile/deep_8192.png");
    let output = model_command("generate", &contract_model("valid"), dir.path())
        .arg(&deep)
        .output()
        .unwrap();
    let stderr = refusal(&output, SOME_SKETCHES_FAILED);
    assert!(
        stderr.contains("deep_8192.png is 8192 x 8192 pixels of 16-bit RGBA")
            && stderr.contains("the limit is 134 MB"),
        "{stderr}"
    );
    assert_eq!(
        std::fs::read_dir(dir.path()).unwrap().count(),
        1,
        "the example's face"
    );
}

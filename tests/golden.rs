//! The golden set written by the training export (`tests/data/golden_*.png`, `golden.json`): the
//! engine's face for the golden sketch (with the golden colour hints and variation code when the
//! model takes them) must match PyTorch's within the recorded tolerance.
//! Runs through the library (not `generate`, which normalises sketch files) so the model sees
//! exactly the golden input.

use std::path::{Path, PathBuf};

use sketch2face::engine::{Conditions, Device, Engine, EngineOptions};

fn project(relative: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(relative)
}

#[test]
fn engine_matches_the_golden_face() {
    let golden: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(project("tests/data/golden.json")).unwrap())
            .unwrap();
    let tolerance_mean = golden["tolerance_mean_abs"]
        .as_f64()
        .expect("tolerance_mean_abs");
    let tolerance_max = golden["tolerance_max_abs"]
        .as_f64()
        .expect("tolerance_max_abs");
    let resolution = golden["resolution"].as_u64().expect("resolution") as u32;

    let sketch = image::open(project("tests/data/golden_sketch.png"))
        .unwrap()
        .into_luma8();
    let expected = image::open(project("tests/data/golden_face.png"))
        .unwrap()
        .into_rgb8();
    assert_eq!(sketch.dimensions(), (resolution, resolution));

    let options = EngineOptions {
        device: Device::Cpu,
        intra_threads: 0,
    };
    let mut engine = Engine::load(&project("models/sketch2face.onnx"), &options).unwrap();
    assert_eq!(engine.resolution(), resolution);
    let hints = golden["hints"].as_str().map(|name| {
        image::open(project(&format!("tests/data/{name}")))
            .unwrap()
            .into_rgba8()
    });
    let code: Option<Vec<f32>> = golden["z"].as_array().map(|values| {
        values
            .iter()
            .map(|v| v.as_f64().expect("z holds numbers") as f32)
            .collect()
    });
    let info = engine.info();
    assert_eq!(hints.is_some(), info.takes_hints, "golden hints iff the model takes hints");
    assert_eq!(code.as_ref().map_or(0, Vec::len), info.z_dim, "golden code iff the model takes z");
    let conditions = Conditions {
        hints: hints.as_ref(),
        z: code.as_deref(),
    };
    let face = engine.generate_with(&sketch, &conditions).unwrap();
    assert_eq!(face.dimensions(), expected.dimensions());

    let diffs: Vec<u8> = face
        .as_raw()
        .iter()
        .zip(expected.as_raw())
        .map(|(a, b)| a.abs_diff(*b))
        .collect();
    let max = f64::from(*diffs.iter().max().unwrap());
    let mean = diffs.iter().map(|&d| f64::from(d)).sum::<f64>() / diffs.len() as f64;
    eprintln!(
        "golden: mean abs {mean:.4}, max abs {max} (tolerances {tolerance_mean}, {tolerance_max})"
    );
    assert!(
        mean <= tolerance_mean,
        "mean abs diff {mean:.4} > {tolerance_mean}"
    );
    assert!(max <= tolerance_max, "max abs diff {max} > {tolerance_max}");
}

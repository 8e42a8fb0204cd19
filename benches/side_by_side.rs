//! The shipped generator against the reference pix2pix generator, in one process, interleaved.
//!
//! ```text
//! python -m training.export_reference --out target/bench/reference.onnx
//! cargo bench --bench side_by_side -- [--model PATH] [--reference PATH] [--threads 2]
//!                                     [--rounds 20] [--per-round 5] [--out target/bench/side_by_side.json]
//! ```
//!
//! Both models are loaded with the real engine (CPU, batch 1, the same threads) and fed the
//! 30-stroke face rasterized at their own resolution. After a warm-up, each round runs the
//! shipped model `--per-round` times and the reference once, so both see the same machine
//! load (this machine is shared); the medians and their ratio are printed and written as JSON.

mod common;

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Instant;

use serde_json::json;
use image::{Rgba, RgbaImage};
use sketch2face::engine::{self, Conditions, Device, Engine, EngineOptions, Seed};
use sketch2face::sketch;

struct Timed {
    name: &'static str,
    engine: Engine,
    sketch: image::GrayImage,
    /// Colour hints, when the model takes them: every input is fed, as in the app.
    hints: Option<RgbaImage>,
    /// A variation code, when the model takes one.
    code: Option<Vec<f32>>,
    runs_ms: Vec<f64>,
}

/// A few broad colour strokes (skin, hair, background), like a user's hints.
fn sample_hints(side: u32) -> RgbaImage {
    RgbaImage::from_fn(side, side, |x, y| {
        let (u, v) = (x as f32 / side as f32, y as f32 / side as f32);
        if (0.35..0.65).contains(&u) && (0.5..0.56).contains(&v) {
            Rgba([214, 170, 140, 255])
        } else if (0.2..0.8).contains(&u) && (0.05..0.1).contains(&v) {
            Rgba([90, 60, 40, 255])
        } else if u < 0.06 {
            Rgba([120, 150, 190, 255])
        } else {
            Rgba([0, 0, 0, 0])
        }
    })
}

impl Timed {
    fn load(name: &'static str, path: &Path, opts: &EngineOptions) -> anyhow::Result<Timed> {
        let start = Instant::now();
        let engine = Engine::load(path, opts)
            .map_err(|e| anyhow::anyhow!("{name} model {}: {e}", path.display()))?;
        let sketch = sketch::rasterize(&common::face_drawing(), engine.resolution());
        let info = engine.info();
        let hints = info.takes_hints.then(|| sample_hints(info.resolution));
        let code = (info.z_dim > 0).then(|| Seed(7).code(info.z_dim));
        println!(
            "{name:9} {} ({} px, loaded in {:.0} ms)",
            path.display(),
            engine.resolution(),
            common::ms(start.elapsed())
        );
        Ok(Timed {
            name,
            engine,
            sketch,
            hints,
            code,
            runs_ms: Vec::new(),
        })
    }

    fn run(&mut self, record: bool) -> anyhow::Result<()> {
        let conditions = Conditions {
            hints: self.hints.as_ref(),
            z: self.code.as_deref(),
        };
        let start = Instant::now();
        self.engine
            .generate_with(&self.sketch, &conditions)
            .map_err(|e| anyhow::anyhow!("{}: {e}", self.name))?;
        if record {
            self.runs_ms.push(common::ms(start.elapsed()));
        }
        Ok(())
    }

    /// Four variations of the sketch as one batch: the app's strip of alternatives.
    fn run_variations(&mut self) -> anyhow::Result<f64> {
        let codes: Vec<Vec<f32>> = (1..=4)
            .map(|seed| Seed(seed).code(self.engine.info().z_dim))
            .collect();
        let codes: Vec<Option<&[f32]>> = codes.iter().map(|c| Some(&c[..])).collect();
        let start = Instant::now();
        self.engine
            .generate_batch(&self.sketch, self.hints.as_ref(), &codes)
            .map_err(|e| anyhow::anyhow!("{} variations: {e}", self.name))?;
        Ok(common::ms(start.elapsed()))
    }

    fn summary(&self) -> serde_json::Value {
        let p = |q| common::round3(common::percentile(&self.runs_ms, q));
        json!({
            "model": self.engine.info().path,
            "resolution": self.engine.resolution(),
            "runs": self.runs_ms.len(),
            "median_ms": p(50.0),
            "p95_ms": p(95.0),
            "min_ms": p(0.0),
        })
    }
}

fn main() -> ExitCode {
    common::exit_code(run())
}

fn run() -> anyhow::Result<()> {
    let model = common::arg("model").map_or_else(engine::default_model_path, PathBuf::from);
    let reference = PathBuf::from(
        common::arg("reference").unwrap_or_else(|| "target/bench/reference.onnx".to_owned()),
    );
    let reference = if reference.is_relative() {
        common::project_path(reference)
    } else {
        reference
    };
    let threads: usize = common::arg_or("threads", 2);
    let rounds: usize = common::arg_or("rounds", 20);
    let per_round: usize = common::arg_or("per-round", 5);
    let out = common::project_path(
        common::arg("out").unwrap_or_else(|| "target/bench/side_by_side.json".to_owned()),
    );
    if !reference.is_file() {
        anyhow::bail!(
            "no reference model at {}: export it with `python -m training.export_reference --out {}` (or `make bench`)",
            reference.display(),
            reference.display()
        );
    }

    engine::init_runtime()?;
    let opts = EngineOptions {
        device: Device::Cpu,
        intra_threads: threads,
    };
    let mut shipped = Timed::load("shipped", &model, &opts)?;
    let mut reference = Timed::load("reference", &reference, &opts)?;

    for _ in 0..10 {
        shipped.run(false)?;
    }
    for _ in 0..2 {
        reference.run(false)?;
    }
    for _ in 0..rounds {
        for _ in 0..per_round {
            shipped.run(true)?;
        }
        reference.run(true)?;
    }

    // The variations strip: a batch of four, against four times the single face.
    let mut batch_ms = Vec::new();
    if shipped.engine.info().z_dim > 0 {
        shipped.run_variations()?;
        for _ in 0..rounds {
            batch_ms.push(shipped.run_variations()?);
        }
    }

    let (s, r) = (shipped.summary(), reference.summary());
    let variations = (!batch_ms.is_empty()).then(|| {
        let median = common::percentile(&batch_ms, 50.0);
        let single = s["median_ms"].as_f64().unwrap_or(f64::NAN);
        json!({
            "batch": 4,
            "runs": batch_ms.len(),
            "median_ms": common::round3(median),
            "times_single": common::round3(median / single),
        })
    });
    let speedup = common::round3(
        r["median_ms"].as_f64().unwrap_or(f64::NAN) / s["median_ms"].as_f64().unwrap_or(f64::NAN),
    );
    println!("CPU, batch 1, {threads} intra-op threads, {rounds} interleaved rounds");
    for (name, v) in [("shipped", &s), ("reference", &r)] {
        println!(
            "  {name:9} median {:8.2} ms   p95 {:8.2} ms   min {:8.2} ms   ({} runs, {} px)",
            v["median_ms"].as_f64().unwrap_or(f64::NAN),
            v["p95_ms"].as_f64().unwrap_or(f64::NAN),
            v["min_ms"].as_f64().unwrap_or(f64::NAN),
            v["runs"],
            v["resolution"],
        );
    }
    println!("  speedup (reference median / shipped median): {speedup:.1}x");
    if let Some(v) = &variations {
        println!(
            "  4 variations as one batch: median {:.2} ms = {:.2}x one face",
            v["median_ms"].as_f64().unwrap_or(f64::NAN),
            v["times_single"].as_f64().unwrap_or(f64::NAN)
        );
    }
    common::write_json(
        &out,
        &json!({
            "device": "cpu",
            "intra_threads": threads,
            "batch": 1,
            "rounds": rounds,
            "shipped_per_round": per_round,
            "shipped": s,
            "shipped_inputs": {
                "hints": shipped.hints.is_some(),
                "z": shipped.code.is_some(),
            },
            "reference": r,
            "speedup": speedup,
            "variations": variations,
        }),
    );
    Ok(())
}

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
use sketch2face::engine::{self, Device, Engine, EngineOptions};
use sketch2face::sketch;

struct Timed {
    name: &'static str,
    engine: Engine,
    sketch: image::GrayImage,
    runs_ms: Vec<f64>,
}

impl Timed {
    fn load(name: &'static str, path: &Path, opts: &EngineOptions) -> anyhow::Result<Timed> {
        let start = Instant::now();
        let engine = Engine::load(path, opts)
            .map_err(|e| anyhow::anyhow!("{name} model {}: {e}", path.display()))?;
        let sketch = sketch::rasterize(&common::face_drawing(), engine.resolution());
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
            runs_ms: Vec::new(),
        })
    }

    fn run(&mut self, record: bool) -> anyhow::Result<()> {
        let start = Instant::now();
        self.engine
            .generate(&self.sketch)
            .map_err(|e| anyhow::anyhow!("{}: {e}", self.name))?;
        if record {
            self.runs_ms.push(common::ms(start.elapsed()));
        }
        Ok(())
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

    let (s, r) = (shipped.summary(), reference.summary());
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
    common::write_json(
        &out,
        &json!({
            "device": "cpu",
            "intra_threads": threads,
            "batch": 1,
            "rounds": rounds,
            "shipped_per_round": per_round,
            "shipped": s,
            "reference": r,
            "speedup": speedup,
        }),
    );
    Ok(())
}

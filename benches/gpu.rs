//! CUDA latency and batch throughput of the shipped (and, when present, the reference) generator.
//! Run by `scripts/bench_gpu.sh` on a machine with an NVIDIA GPU, with the `gpu` runtime
//! variant (`make runtime-gpu`):
//!
//! ```text
//! cargo bench --bench gpu -- [--model PATH] [--reference PATH] [--batches 1,4,16,64]
//!                            [--runs 50] [--out target/bench/gpu.json]
//! ```
//!
//! Uses `ort` directly (not the engine, whose `generate` is batch 1): one CUDA session per
//! model, host tensors in and out (the copies are part of what is measured, as in the app).
//! Latency is batch 1; throughput is images per second at each batch size.

mod common;

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Instant;

use anyhow::{Context, anyhow};
use ndarray::Array4;
use ort::environment::Environment;
use ort::session::Session;
use ort::session::builder::GraphOptimizationLevel;
use ort::value::TensorRef;
use serde_json::json;
use sketch2face::engine::{INPUT_NAME, OUTPUT_NAME, RUNTIME_FILE};

fn main() -> ExitCode {
    common::exit_code(run())
}

fn cuda_session(environment: &Environment, path: &Path) -> anyhow::Result<Session> {
    let options_error = |e: ort::Error<ort::session::builder::SessionBuilder>| {
        anyhow!("CUDA session options: {}", e.message())
    };
    let mut builder = Session::builder(environment)?
        .with_optimization_level(GraphOptimizationLevel::Level3)
        .map_err(options_error)?
        .with_execution_providers([ort::ep::CUDA::default().build().error_on_failure()])
        .map_err(options_error)?;
    builder
        .commit_from_file(path)
        .with_context(|| format!("loading {} on CUDA", path.display()))
}

fn side(session: &Session) -> anyhow::Result<usize> {
    match session.inputs().first().map(|i| i.dtype()) {
        Some(ort::value::ValueType::Tensor { shape, .. }) if shape.len() == 4 && shape[3] > 0 => {
            Ok(shape[3] as usize)
        }
        other => Err(anyhow!("unexpected input: {other:?}")),
    }
}

/// Median seconds per run of a batch of `batch` sketches.
fn time_batch(session: &mut Session, batch: usize, runs: usize) -> anyhow::Result<f64> {
    let s = side(session)?;
    let input = Array4::<f32>::from_shape_fn((batch, 1, s, s), |(n, _, y, x)| {
        if (x + y + n) % 17 == 0 { -1.0 } else { 1.0 }
    });
    let mut once = || -> anyhow::Result<f64> {
        let start = Instant::now();
        let tensor = TensorRef::from_array_view(&input)?;
        let outputs = session.run(ort::inputs![INPUT_NAME => tensor])?;
        let face = outputs
            .get(OUTPUT_NAME)
            .ok_or_else(|| anyhow!("no output `{OUTPUT_NAME}`"))?
            .try_extract_array::<f32>()?;
        anyhow::ensure!(
            face.shape() == [batch, 3, s, s],
            "output shape {:?}",
            face.shape()
        );
        Ok(start.elapsed().as_secs_f64())
    };
    for _ in 0..5 {
        once()?;
    }
    let times: Vec<f64> = (0..runs).map(|_| once()).collect::<anyhow::Result<_>>()?;
    Ok(common::percentile(&times, 50.0))
}

fn measure(
    environment: &Environment,
    path: &Path,
    batches: &[usize],
    runs: usize,
) -> anyhow::Result<serde_json::Value> {
    let mut session = cuda_session(environment, path)?;
    let latency = time_batch(&mut session, 1, runs)?;
    println!(
        "{}: CUDA batch 1 latency p50 {:.2} ms",
        path.display(),
        latency * 1e3
    );
    let mut throughput = serde_json::Map::new();
    for &batch in batches {
        let seconds = time_batch(&mut session, batch, runs.div_ceil(batch).max(10))?;
        let per_second = batch as f64 / seconds;
        println!(
            "  batch {batch:4}: {:8.2} ms per batch, {per_second:8.0} images/s",
            seconds * 1e3
        );
        throughput.insert(batch.to_string(), json!({"batch_ms_p50": common::round3(seconds * 1e3), "images_per_s": per_second.round()}));
    }
    Ok(
        json!({"model": path, "resolution": side(&session)?, "latency_ms_p50": common::round3(latency * 1e3), "throughput": throughput}),
    )
}

fn run() -> anyhow::Result<()> {
    let runtime = common::arg("runtime").map_or_else(
        || common::project_path("third_party/onnxruntime-gpu").join(RUNTIME_FILE),
        PathBuf::from,
    );
    let model =
        common::arg("model").map_or_else(sketch2face::engine::default_model_path, PathBuf::from);
    let reference = common::project_path(
        common::arg("reference").unwrap_or_else(|| "target/bench/reference.onnx".to_owned()),
    );
    let runs: usize = common::arg_or("runs", 50);
    let batches: Vec<usize> = common::arg("batches")
        .unwrap_or_else(|| "1,4,16,64".to_owned())
        .split(',')
        .map(|b| {
            b.trim()
                .parse()
                .map_err(|_| anyhow!("--batches: `{b}` is not a number"))
        })
        .collect::<anyhow::Result<_>>()?;
    let out = common::project_path(
        common::arg("out").unwrap_or_else(|| "target/bench/gpu.json".to_owned()),
    );
    anyhow::ensure!(
        runtime.is_file(),
        "no GPU runtime at {}: run `make runtime-gpu`",
        runtime.display()
    );

    sketch2face::engine::preload_cuda_libraries(&runtime)?;
    let environment = ort::init_from(&runtime)
        .map_err(|e| anyhow!("loading {}: {e}", runtime.display()))?
        .with_name("sketch2face-bench-gpu")
        .build()
        .map_err(|e| anyhow!("{e}"))?;
    let shipped = measure(&environment, &model, &batches, runs)?;
    let reference = if reference.is_file() {
        Some(measure(&environment, &reference, &batches, runs)?)
    } else {
        None
    };
    common::write_json(
        &out,
        &json!({"device": "cuda", "runtime": runtime, "shipped": shipped, "reference": reference}),
    );
    Ok(())
}

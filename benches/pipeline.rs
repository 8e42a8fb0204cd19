//! The steps from a drawing to a face, one by one (criterion):
//!
//! - `rasterize`: the 30-stroke face at the model resolution (128) and at a typical canvas size
//!   (552 px, the canvas of the default 1120x640 window), in full and incrementally (the
//!   committed strokes cached, only the stroke being drawn rasterized on top, as the app does);
//! - `preprocess`: a 128 px sketch (what the app sends) and a 512 px one (an opened file) to the
//!   model input;
//! - `inference`: `Engine::generate` with the shipped model on the CPU, batch 1, 1 and 2
//!   intra-op threads (pre- and post-processing at 128 px included, under 0.1 ms);
//! - `postprocess`: the model output to an RGB image, and the 512 px Lanczos3 upscale.
//!
//! `cargo bench --bench pipeline` (add `-- inference` to run one group). The model is
//! `models/sketch2face.onnx`, or `SKETCH2FACE_MODEL`; without it the inference group is skipped.

mod common;

use std::hint::black_box;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use criterion::{Criterion, criterion_group, criterion_main};
use ndarray::Array4;
use sketch2face::engine::{self, Device, Engine, EngineOptions};
use sketch2face::sketch::{self, RasterCache};

/// The model's resolution and the canvas side of the default window.
const MODEL_PX: u32 = 128;
const CANVAS_PX: u32 = 552;

fn model_path() -> PathBuf {
    std::env::var_os("SKETCH2FACE_MODEL").map_or_else(engine::default_model_path, PathBuf::from)
}

fn rasterize(c: &mut Criterion) {
    let drawing = common::face_drawing();
    // The longest stroke is the one being drawn; the others are committed.
    let longest = (0..drawing.strokes.len())
        .max_by_key(|&i| drawing.strokes[i].points.len())
        .expect("strokes");
    let active = (*drawing.strokes[longest]).clone();
    let mut committed = drawing.clone();
    committed.strokes.remove(longest);
    let committed = Arc::new(committed);

    let mut group = c.benchmark_group("rasterize");
    for size in [MODEL_PX, CANVAS_PX] {
        group.bench_function(format!("face_30_strokes_{size}px"), |b| {
            b.iter(|| sketch::rasterize(black_box(&drawing), size))
        });
        let mut cache = RasterCache::default();
        group.bench_function(format!("incremental_active_stroke_{size}px"), |b| {
            b.iter(|| cache.render(black_box(&committed), Some(&active), size))
        });
    }
    group.finish();
}

fn preprocess(c: &mut Criterion) {
    let drawing = common::face_drawing();
    let mut group = c.benchmark_group("preprocess");
    for size in [MODEL_PX, 512] {
        let sketch = sketch::rasterize(&drawing, size);
        let mut input = Array4::zeros((1, 1, MODEL_PX as usize, MODEL_PX as usize));
        group.bench_function(format!("from_{size}px"), |b| {
            b.iter(|| engine::preprocess_into(black_box(&sketch), &mut input))
        });
    }
    group.finish();
}

fn inference(c: &mut Criterion) {
    let model = model_path();
    if let Err(e) = engine::init_runtime() {
        eprintln!("inference skipped: {e}");
        return;
    }
    let sketch = sketch::rasterize(&common::face_drawing(), MODEL_PX);
    let mut group = c.benchmark_group("inference");
    group
        .sample_size(50)
        .measurement_time(Duration::from_secs(4));
    for threads in [1, 2] {
        let mut engine = match Engine::load(
            &model,
            &EngineOptions {
                device: Device::Cpu,
                intra_threads: threads,
            },
        ) {
            Ok(engine) => engine,
            Err(e) => {
                eprintln!("inference skipped: {e}");
                return;
            }
        };
        let sketch = if engine.resolution() == MODEL_PX {
            sketch.clone()
        } else {
            sketch::rasterize(&common::face_drawing(), engine.resolution())
        };
        group.bench_function(format!("cpu_batch1_{threads}_threads"), |b| {
            b.iter(|| engine.generate(black_box(&sketch)).expect("generate"))
        });
    }
    group.finish();
}

fn postprocess(c: &mut Criterion) {
    let side = MODEL_PX as usize;
    // A smooth pattern over the whole output range.
    let output = Array4::from_shape_fn((1, 3, side, side), |(_, ch, y, x)| {
        ((x as f32 * 0.05 + ch as f32).sin() * (y as f32 * 0.03).cos()).clamp(-1.0, 1.0)
    });
    let face = engine::postprocess(output.view()).expect("postprocess");
    let mut group = c.benchmark_group("postprocess");
    group.bench_function("to_rgb_128px", |b| {
        b.iter(|| engine::postprocess(black_box(output.view())).expect("postprocess"))
    });
    group.bench_function("upscale_512px", |b| {
        b.iter(|| engine::upscale(black_box(&face), 512))
    });
    group.bench_function("to_rgb_and_upscale_512px", |b| {
        b.iter(|| {
            engine::upscale(
                &engine::postprocess(black_box(output.view())).expect("postprocess"),
                512,
            )
        })
    });
    group.finish();
}

fn config() -> Criterion {
    Criterion::default()
        .sample_size(30)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(3))
        .without_plots()
}

criterion_group! {
    name = benches;
    config = config();
    targets = rasterize, preprocess, inference, postprocess
}
criterion_main!(benches);

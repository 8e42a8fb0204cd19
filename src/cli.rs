//! The headless commands: `generate` (sketch files to face images) and `info` (what a model is and
//! where it runs). Uses `sketch` to open files and `engine` to run the model; never any UI.

use std::collections::HashMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use clap::Args;
use clap::builder::{PossibleValuesParser, TypedValueParser};

use crate::engine::{self, CONTRACT_KEY, Device, Engine, EngineOptions, INPUT_NAME, OUTPUT_NAME};
use crate::sketch::load_sketch_file;

/// Options shared by every command that loads a model.
#[derive(Args, Clone, Debug)]
pub struct ModelArgs {
    /// The ONNX model [default: models/sketch2face.onnx beside the executable, else in the project]
    #[arg(long, value_name = "PATH")]
    pub model: Option<PathBuf>,

    /// Where to run the model: CUDA when it works (auto), the CPU, or CUDA or fail
    #[arg(long, default_value = "auto", value_name = "DEVICE", value_parser = device_parser())]
    pub device: Device,

    /// Threads used inside one operator (0: up to 4, one per core)
    #[arg(long, default_value_t = 0, value_name = "N")]
    pub threads: usize,
}

impl ModelArgs {
    /// The model path: the one given, else the default.
    pub fn model_path(&self) -> PathBuf {
        self.model
            .clone()
            .unwrap_or_else(engine::default_model_path)
    }

    pub fn options(&self) -> EngineOptions {
        EngineOptions {
            device: self.device,
            intra_threads: self.threads,
        }
    }

    fn load(&self) -> anyhow::Result<Engine> {
        // The engine's errors name the model file themselves.
        Ok(Engine::load(&self.model_path(), &self.options())?)
    }
}

fn device_parser() -> impl TypedValueParser<Value = Device> {
    PossibleValuesParser::new(Device::ALL.map(Device::name))
        .map(|name| name.parse::<Device>().expect("a possible value parses"))
}

/// `sketch2face generate SKETCH... --out DIR`
#[derive(Args, Clone, Debug)]
pub struct GenerateArgs {
    /// Sketch images (PNG, JPEG, BMP, GIF, WebP, TIFF, PNM): dark lines on light paper, or the reverse
    #[arg(required = true, value_name = "SKETCH")]
    pub sketches: Vec<PathBuf>,

    /// Folder for the faces, written as DIR/<sketch name>.png (created if missing)
    #[arg(long, short, value_name = "DIR")]
    pub out: PathBuf,

    /// Upscale each face to N x N pixels (Lanczos3) [default: the model's resolution]
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..=8192))]
    pub size: Option<u32>,

    #[command(flatten)]
    pub model: ModelArgs,
}

/// `sketch2face info`
#[derive(Args, Clone, Debug)]
pub struct InfoArgs {
    #[command(flatten)]
    pub model: ModelArgs,
}

/// Turns every sketch into a face; carries on past a bad file and fails at the end naming each.
/// Prints one line per face with the time of the model (preprocess, run, postprocess) and the
/// total (reading, normalising, the model, upscaling and writing).
pub fn generate(args: &GenerateArgs) -> anyhow::Result<()> {
    let mut engine = args.model.load()?;
    std::fs::create_dir_all(&args.out)
        .with_context(|| format!("cannot create the output folder {}", args.out.display()))?;
    println!(
        "model {} ({}x{}) on {}",
        engine.info().path.display(),
        engine.resolution(),
        engine.resolution(),
        engine.provider(),
    );

    let mut written: HashMap<PathBuf, &Path> = HashMap::new();
    let mut failures: Vec<String> = Vec::new();
    for sketch in &args.sketches {
        let started = Instant::now();
        match generate_one(&mut engine, sketch, args, &written) {
            Ok((out, model_time)) => {
                println!(
                    "{} -> {} (model {} ms, total {} ms)",
                    sketch.display(),
                    out.display(),
                    model_time.as_millis(),
                    started.elapsed().as_millis()
                );
                written.insert(out, sketch);
            }
            Err(error) => {
                eprintln!("error: {error:#}");
                failures.push(sketch.display().to_string());
            }
        }
    }
    if !failures.is_empty() {
        bail!(
            "{} of {} sketches failed: {}",
            failures.len(),
            args.sketches.len(),
            failures.join(", ")
        );
    }
    Ok(())
}

fn generate_one(
    engine: &mut Engine,
    sketch: &Path,
    args: &GenerateArgs,
    written: &HashMap<PathBuf, &Path>,
) -> anyhow::Result<(PathBuf, Duration)> {
    let stem = sketch
        .file_stem()
        .with_context(|| format!("{} has no file name", sketch.display()))?;
    let out = args.out.join(stem).with_extension("png");
    if let Some(earlier) = written.get(&out) {
        bail!(
            "{}: its face would overwrite {}, already written for {}",
            sketch.display(),
            out.display(),
            earlier.display()
        );
    }
    let gray = load_sketch_file(sketch)?;
    let started = Instant::now();
    let mut face = engine
        .generate(&gray)
        .with_context(|| format!("cannot generate a face for {}", sketch.display()))?;
    let model_time = started.elapsed();
    if let Some(size) = args.size {
        face = engine::upscale(&face, size);
    }
    face.save(&out).with_context(|| {
        format!(
            "cannot write {} (the face for {})",
            out.display(),
            sketch.display()
        )
    })?;
    Ok((out, model_time))
}

/// Prints the model's contract, resolution and metadata, and the provider that runs it.
pub fn info(args: &InfoArgs) -> anyhow::Result<()> {
    let runtime = engine::init_runtime()?;
    let engine = args.model.load()?;
    print!("{}", describe(&engine, &runtime, args.model.device));
    Ok(())
}

fn describe(engine: &Engine, runtime: &Path, device: Device) -> String {
    let info = engine.info();
    let side = info.resolution;
    let contract = info.metadata.get(CONTRACT_KEY).map_or("?", String::as_str);
    let mut text = String::new();
    let _ = writeln!(text, "model:      {}", info.path.display());
    let _ = writeln!(
        text,
        "contract:   {contract} (input `{INPUT_NAME}` f32 [N, 1, {side}, {side}] in [-1, 1], white = +1; \
         output `{OUTPUT_NAME}` f32 [N, 3, {side}, {side}] RGB in [-1, 1])"
    );
    let _ = writeln!(text, "resolution: {side} x {side}");
    let _ = writeln!(text, "runtime:    {}", runtime.display());
    let _ = writeln!(text, "device:     {device}");
    let _ = write!(text, "provider:   {}", engine.provider());
    match engine.cuda_error() {
        Some(reason) => {
            let _ = writeln!(text, " (CUDA not used: {})", first_line(reason));
        }
        None => text.push('\n'),
    }
    let _ = writeln!(text, "metadata:");
    for (key, value) in &info.metadata {
        let _ = writeln!(text, "  {key}: {value}");
    }
    text
}

fn first_line(text: &str) -> &str {
    text.lines().next().unwrap_or_default()
}

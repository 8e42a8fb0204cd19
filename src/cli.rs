//! The headless commands: `generate` (sketch files to face images) and `info` (what a model is and
//! where it runs). Uses `sketch` to open files and `engine` to run the model; never any UI.
//!
//! Results go to standard output, problems to standard error, and the exit status says which kind
//! of failure happened ([`Failure`], [`exit_code`]) so that scripts can tell them apart.

use std::collections::{HashMap, HashSet};
use std::fmt::{self, Write as _};
use std::io::{BufWriter, Write as _};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::{Duration, Instant};

use anyhow::{Context, anyhow};
use clap::Args;
use clap::builder::{PossibleValuesParser, TypedValueParser};
use image::codecs::png::PngEncoder;
use image::{ImageBuffer, PixelWithColorType, RgbImage, RgbaImage};
use serde::Serialize;

use crate::engine::{
    self, BANK_FILE, CONTRACT_KEY, Device, Engine, EngineOptions, ExternalData, FACE_SIDE, FOUND_PRESENCE,
    Exemplars, FacePipeline, Look, HINTS_NAME, INPUT_NAME, MESH_MODEL_FILE, OUTPUT_NAME, PipelineOutput, REFINE_MODEL_FILE, Seed, Z_NAME,
};
use crate::sketch::{load_hints_file, load_image_file, load_sketch_file};

mod exemplars;
mod landmarks;
mod npy;
mod sketchify;
pub use exemplars::{ExemplarsArgs, exemplars};
pub use landmarks::{LandmarksArgs, landmarks};
pub use sketchify::{SketchifyArgs, sketchify};

/// The exit statuses besides 0 (success) and 2 (usage errors, from clap), as `generate --help`
/// and the README document them.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Failure {
    /// Exit 1: some sketches failed, each named on standard error; the others got their faces.
    SomeSketches,
    /// Exit 1 (`landmarks`): some inputs held no face; the others got their meshes.
    NoFace,
    /// Exit 2 (`landmarks`): some inputs could not be read as images.
    BadInput,
    /// Exit 3: nothing could run: ONNX Runtime or the model could not be loaded, or the output
    /// folder could not be made. Nothing was written.
    CannotRun,
    /// Exit 4: refused before any work: a face would overwrite an existing file (without
    /// `--force`) or one of the sketches, or two sketches would get the same face file. Nothing
    /// was written.
    Refused,
}

impl Failure {
    pub fn exit_status(self) -> u8 {
        match self {
            Failure::SomeSketches | Failure::NoFace => 1,
            Failure::BadInput => 2,
            Failure::CannotRun => 3,
            Failure::Refused => 4,
        }
    }

    /// `error` marked with this failure, for [`exit_code`].
    pub(crate) fn of(self, error: anyhow::Error) -> anyhow::Error {
        anyhow::Error::new(Failed {
            failure: self,
            error,
        })
    }
}

/// An error that carries its [`Failure`]. It prints exactly as the error it wraps.
#[derive(Debug)]
struct Failed {
    failure: Failure,
    error: anyhow::Error,
}

impl fmt::Display for Failed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Only the outermost message: anyhow's `{:#}` adds the causes from `source()`.
        write!(f, "{}", self.error)
    }
}

impl std::error::Error for Failed {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        self.error.source()
    }
}

/// The exit code for an error a command returned: its [`Failure`]'s status, else 1.
pub fn exit_code(error: &anyhow::Error) -> ExitCode {
    error
        .downcast_ref::<Failed>()
        .map_or(ExitCode::FAILURE, |failed| {
            ExitCode::from(failed.failure.exit_status())
        })
}

const GENERATE_AFTER_HELP: &str = "\
Each face is written to DIR/<sketch file name>.png: only the last extension is replaced, so
a.v2.jpg gives DIR/a.v2.png. Faces are written atomically (a temporary file, then a rename).
Before any work, every sketch's face file is checked: an existing file is refused without
--force, and two sketches that would write the same file (a.png and a.jpg) are refused always.

Results go to standard output (a line per face written, or with --json a JSON object per
sketch), problems to standard error.

Exit status:
  0  every sketch got its face
  1  some sketches failed (each is named); the others got their faces
  2  usage error (bad arguments)
  3  nothing could run: ONNX Runtime or the model could not be loaded, or DIR could not be made
  4  refused before any work: a face file exists (use --force), is one of the sketches, or
     would be written for two sketches; nothing was written";

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

    /// Loads the model; one that reads other files only with `allow_external_data`.
    fn load(&self, allow_external_data: bool) -> anyhow::Result<Engine> {
        let external = match allow_external_data {
            true => ExternalData::Allow,
            false => ExternalData::Refuse,
        };
        // The engine's errors name the model file themselves.
        Ok(Engine::load_with(&self.model_path(), &self.options(), external)?)
    }
}

fn device_parser() -> impl TypedValueParser<Value = Device> {
    PossibleValuesParser::new(Device::ALL.map(Device::name))
        .map(|name| name.parse::<Device>().expect("a possible value parses"))
}

/// `sketch2face generate SKETCH... --out DIR`
#[derive(Args, Clone, Debug)]
#[command(after_help = GENERATE_AFTER_HELP)]
pub struct GenerateArgs {
    /// Sketch images (PNG, JPEG, BMP, GIF, WebP, TIFF, PNM): dark lines on light paper, or the reverse
    #[arg(required = true, value_name = "SKETCH")]
    pub sketches: Vec<PathBuf>,

    /// Folder for the faces, written as DIR/<sketch file name>.png (created if missing)
    #[arg(long, short, value_name = "DIR")]
    pub out: PathBuf,

    /// Upscale each face to N x N pixels, N from 1 to 8192 (Lanczos3) [default: the model's resolution]
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..=8192))]
    pub size: Option<u32>,

    /// Overwrite faces that exist already in DIR (without it, nothing is written when one exists)
    #[arg(long)]
    pub force: bool,

    /// One JSON object per face on standard output: {"input", "output", "model_ms", "total_ms"} (and "seed" for a model with variations), or {"input", "output", "error"}
    #[arg(long)]
    pub json: bool,

    /// Colour hints for every sketch: an RGBA image with colour where alpha > 0 (painted skin, hair, eyes, background), fitted onto the sketch like the sketch itself
    #[arg(long, value_name = "FILE")]
    pub hints: Option<PathBuf>,

    /// The variation seed: 0 (the default) is the model's default face, any other number another face, the same for the same seed
    #[arg(long, value_name = "N")]
    pub seed: Option<Seed>,

    /// K faces per sketch, DIR/<name>-1.png ... DIR/<name>-K.png, from seeds N, N+1, ... (N from --seed, default 0), computed as one batch
    #[arg(long, value_name = "K", value_parser = clap::value_parser!(u32).range(1..=64))]
    pub variations: Option<u32>,

    /// What to make [default: generator; refined with --look]: `generator`, the model's face (v1, v2); `warped`, face pipeline v3 without refinement: a real face of the bank, chosen by the drawing's shape (and hinted colours), warped onto the drawing's face mesh (--seed picks the person); `refined`, the whole of face pipeline v3: the warped face refined toward the drawing and its hints
    #[arg(long, value_enum)]
    pub stage: Option<Stage>,

    /// A photo of one face as the look: its skin, eyes and hair on each drawing's geometry, instead of a bank face (face pipeline v3: implies --stage refined)
    #[arg(long, value_name = "PHOTO")]
    pub look: Option<PathBuf>,

    /// With --stage warped or refined: the mesh model [default: models/mesh-v3.onnx beside the executable, else in the project]
    #[arg(long, value_name = "PATH")]
    pub mesh_model: Option<PathBuf>,

    /// With --stage warped or refined: the face bank [default: models/bank-v3.s2fb beside the executable, else in the project]
    #[arg(long, value_name = "PATH")]
    pub bank: Option<PathBuf>,

    /// With --stage refined: the refine model (contract 3) [default: models/refine-v3.onnx beside the executable, else in the project]
    #[arg(long, value_name = "PATH")]
    pub refine_model: Option<PathBuf>,

    #[command(flatten)]
    pub model: ModelArgs,

    /// Trust a model that reads tensor data from other files in its folder (ONNX external data), refused otherwise
    #[arg(long)]
    pub allow_external_data: bool,
}

/// What `generate` makes of a sketch.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Stage {
    /// The generator model's face (`--model`, contract 1 or 2).
    Generator,
    /// Face pipeline v3 up to the warp: a bank face warped onto the drawing's mesh.
    Warped,
    /// The whole of face pipeline v3: the warped face refined toward the drawing.
    Refined,
}

impl GenerateArgs {
    /// The stage asked for: `--stage`, else refined with a look, else the generator.
    pub fn stage(&self) -> Stage {
        self.stage.unwrap_or(match self.look {
            Some(_) => Stage::Refined,
            None => Stage::Generator,
        })
    }
}

/// What makes the faces: a generator model, or face pipeline v3 (with the look photo, read, when
/// `--look` gives one).
enum FaceMaker {
    Generator(Engine),
    Pipeline(FacePipeline, Option<Look>),
}

impl FaceMaker {
    fn load(args: &GenerateArgs, seeds: &[Seed]) -> anyhow::Result<FaceMaker> {
        if args.look.is_some() {
            if args.stage() == Stage::Generator {
                anyhow::bail!("--look needs face pipeline v3 (--stage refined or warped): a generator takes no photo");
            }
            if args.variations.is_some() {
                anyhow::bail!("--look and --variations: the look photo is one person, so there is one face per sketch");
            }
        }
        let stage = args.stage();
        Ok(match stage {
            Stage::Generator => FaceMaker::Generator(args.model.load(args.allow_external_data)?),
            Stage::Warped | Stage::Refined => {
                let mesh_model = args.mesh_model.clone().unwrap_or_else(|| engine::shipped_model_file(MESH_MODEL_FILE));
                let bank = args.bank.clone().unwrap_or_else(|| engine::shipped_model_file(BANK_FILE));
                let seeds: Vec<u64> = seeds.iter().map(|seed| seed.0).collect();
                let opts = args.model.options();
                let mut pipeline = match stage {
                    Stage::Refined => {
                        let refine = args.refine_model.clone().unwrap_or_else(|| engine::shipped_model_file(REFINE_MODEL_FILE));
                        FacePipeline::load_refined(&mesh_model, &bank, &refine, &opts, &seeds)?
                    }
                    _ => FacePipeline::load(&mesh_model, &bank, &opts, &seeds)?,
                };
                let look = match &args.look {
                    Some(path) => {
                        pipeline.load_detector(&engine::shipped_model_file(engine::FACE_DETECT_MODEL_FILE), &opts);
                        let photo = load_image_file(path)
                            .with_context(|| format!("--look: cannot read the photo {}", path.display()))?
                            .into_rgb8();
                        let look = pipeline
                            .read_look(&photo)
                            .with_context(|| format!("--look: the photo {} cannot be the look", path.display()))?;
                        Some(look)
                    }
                    None => None,
                };
                FaceMaker::Pipeline(pipeline, look)
            }
        })
    }

    /// The line `generate` prints first: what runs, and where.
    fn describe(&self) -> String {
        match self {
            FaceMaker::Generator(engine) => format!(
                "model {} ({}x{}) on {}",
                engine.info().path.display(),
                engine.resolution(),
                engine.resolution(),
                engine.provider(),
            ),
            FaceMaker::Pipeline(pipeline, look) => {
                let refine = match pipeline.refine_network() {
                    Some(refine) => format!(", refine model {} on {}", refine.path().display(), refine.provider()),
                    None => String::new(),
                };
                let faces = match look {
                    Some(_) => "the look photo".to_owned(),
                    None => format!("bank of {} faces", pipeline.bank().face_count()),
                };
                format!(
                    "face pipeline v3, {} stage ({FACE_SIDE}x{FACE_SIDE}): mesh model {} on {}, {faces}{refine}",
                    if refine.is_empty() { "warped" } else { "refined" },
                    pipeline.mesh_network().path().display(),
                    pipeline.mesh_network().provider(),
                )
            }
        }
    }

    /// One face per seed of `steering` for one sketch page.
    fn faces(&mut self, gray: &image::GrayImage, steering: &Steering) -> anyhow::Result<Vec<RgbImage>> {
        match self {
            FaceMaker::Generator(engine) => {
                let codes: Vec<Vec<f32>> = steering.seeds.iter().map(|seed| seed.code(steering.z_dim)).collect();
                let codes: Vec<Option<&[f32]>> = codes.iter().map(|code| Some(&code[..])).collect();
                Ok(engine.generate_batch(gray, steering.hints.as_ref(), &codes)?)
            }
            FaceMaker::Pipeline(pipeline, look) => {
                // Each file is a drawing of its own: no choice carries over from the last one.
                pipeline.reset();
                let output = match look {
                    Some(look) => pipeline.run_with(gray, steering.hints.as_ref(), false, Exemplars::Look(look))?,
                    None => pipeline.run(gray, steering.hints.as_ref(), false)?,
                };
                match output {
                    PipelineOutput::Blank => anyhow::bail!("the sketch is blank: there is no face to find"),
                    PipelineOutput::NoFace(reading) => anyhow::bail!(
                        "no face found in the sketch (the mesh model's confidence is {:.2}, {FOUND_PRESENCE} is needed)",
                        reading.presence
                    ),
                    PipelineOutput::Faces { faces, .. } => Ok(faces.into_iter().map(|made| made.face).collect()),
                }
            }
        }
    }
}

/// `sketch2face info`
#[derive(Args, Clone, Debug)]
pub struct InfoArgs {
    #[command(flatten)]
    pub model: ModelArgs,

    /// Trust a model that reads tensor data from other files in its folder (ONNX external data), refused otherwise
    #[arg(long)]
    pub allow_external_data: bool,
}

/// Turns every sketch into a face. Checks every face file first and refuses the whole batch when
/// one clashes ([`Failure::Refused`]); then carries on past a bad sketch and fails at the end
/// naming each ([`Failure::SomeSketches`]). Prints one result per sketch with the time of the
/// model (preprocess, run, postprocess) and the total (reading, normalising, the model, upscaling
/// and writing).
pub fn generate(args: &GenerateArgs) -> anyhow::Result<()> {
    let outputs = output_paths(&args.sketches, &args.out, args.force, args.variations);
    let outputs = match outputs {
        Ok(outputs) => outputs,
        Err(problems) => {
            for problem in &problems {
                eprintln!("error: {problem}");
            }
            return Err(Failure::Refused.of(anyhow!(
                "{} of {} sketches refused before any work; nothing was written",
                problems.len(),
                args.sketches.len()
            )));
        }
    };
    std::fs::create_dir_all(&args.out)
        .with_context(|| format!("cannot create the output folder {}", args.out.display()))
        .map_err(|error| Failure::CannotRun.of(error))?;
    let seeds = Steering::seeds(args);
    let mut maker = FaceMaker::load(args, &seeds).map_err(|error| Failure::CannotRun.of(error))?;
    let steering = Steering::from_args(args, &maker, seeds).map_err(|error| Failure::CannotRun.of(error))?;
    if !args.json {
        println!("{}", maker.describe());
    }

    let mut failures: Vec<String> = Vec::new();
    for (sketch, outs) in args.sketches.iter().zip(&outputs) {
        let started = Instant::now();
        let result = generate_one(&mut maker, sketch, outs, &steering, args);
        if let Err(error) = &result {
            eprintln!("error: {error:#}");
            failures.push(sketch.display().to_string());
        }
        for (out, seed) in outs.iter().zip(&steering.seeds) {
            let mut report = SketchReport::new(sketch, out, &result, started.elapsed());
            report.seed = steering.takes_code.then_some(seed.0);
            if args.json {
                println!(
                    "{}",
                    serde_json::to_string(&report).expect("a report serialises")
                );
            } else if result.is_ok() {
                println!("{report}");
            }
        }
    }
    if !failures.is_empty() {
        return Err(Failure::SomeSketches.of(anyhow!(
            "{} of {} sketches failed: {}",
            failures.len(),
            args.sketches.len(),
            failures.join(", ")
        )));
    }
    Ok(())
}

/// Where the face for `sketch` goes: `out_dir/<the sketch's file name>.png` with only its last
/// extension replaced (`a.v2.jpg` -> `a.v2.png`). A variation `Some(k)` adds `-k` before the
/// extension (`a.v2-1.png`), for several faces from one sketch.
pub fn output_path(
    out_dir: &Path,
    sketch: &Path,
    variation: Option<usize>,
) -> anyhow::Result<PathBuf> {
    let stem = sketch
        .file_stem()
        .with_context(|| format!("{} has no file name", sketch.display()))?;
    let mut name = stem.to_os_string();
    if let Some(k) = variation {
        name.push(format!("-{k}"));
    }
    name.push(".png");
    Ok(out_dir.join(name))
}

/// Every sketch's face file, in order, or every reason to refuse the batch: a sketch without a
/// file name, two sketches with the same face file, a face file that exists (unless `force`) or
/// that is one of the sketches (even with `force`: the sketch would be lost).
fn output_paths(
    sketches: &[PathBuf],
    out_dir: &Path,
    force: bool,
    variations: Option<u32>,
) -> Result<Vec<Vec<PathBuf>>, Vec<String>> {
    let inputs: HashSet<PathBuf> = sketches
        .iter()
        .filter_map(|sketch| sketch.canonicalize().ok())
        .collect();
    let mut claimed_by: HashMap<PathBuf, &Path> = HashMap::new();
    let mut outputs = Vec::with_capacity(sketches.len());
    let mut problems = Vec::new();
    let numbers: Vec<Option<usize>> = match variations {
        None => vec![None],
        Some(k) => (1..=k as usize).map(Some).collect(),
    };
    for sketch in sketches {
        let outs: anyhow::Result<Vec<PathBuf>> = numbers
            .iter()
            .map(|&number| output_path(out_dir, sketch, number))
            .collect();
        let outs = match outs {
            Ok(outs) => outs,
            Err(error) => {
                problems.push(format!("{error:#}"));
                continue;
            }
        };
        for out in &outs {
            if let Some(earlier) = claimed_by.get(out) {
                problems.push(format!(
                    "{} and {} would both be written to {}; rename one of them",
                    earlier.display(),
                    sketch.display(),
                    out.display()
                ));
            } else if out.symlink_metadata().is_ok() {
                if out.canonicalize().is_ok_and(|real| inputs.contains(&real)) {
                    problems.push(format!(
                        "{}: its face would overwrite the sketch {} itself; choose another --out",
                        sketch.display(),
                        out.display()
                    ));
                } else if !force {
                    problems.push(format!(
                        "{}: {} exists already (--force overwrites it)",
                        sketch.display(),
                        out.display()
                    ));
                }
            }
            claimed_by.entry(out.clone()).or_insert(sketch);
        }
        outputs.push(outs);
    }
    if problems.is_empty() {
        Ok(outputs)
    } else {
        Err(problems)
    }
}

/// What steers every face of a `generate` run besides its sketch: the colour hints and the
/// seeds, one per face of a sketch.
struct Steering {
    hints: Option<RgbaImage>,
    seeds: Vec<Seed>,
    /// The model takes a variation code: the seeds matter (and are reported).
    takes_code: bool,
    z_dim: usize,
}

impl Steering {
    /// The seeds of `--seed` and `--variations`: N, N + 1, ...
    fn seeds(args: &GenerateArgs) -> Vec<Seed> {
        let first = args.seed.unwrap_or_default().0;
        (0..u64::from(args.variations.unwrap_or(1)))
            .map(|k| Seed(first.wrapping_add(k)))
            .collect()
    }

    /// Reads the hint file and checks that the model takes what the options ask for: hints and
    /// seeds the model would ignore are refused rather than silently dropped. Face pipeline v3
    /// takes both (hints steer retrieval, seeds pick the person).
    fn from_args(args: &GenerateArgs, maker: &FaceMaker, seeds: Vec<Seed>) -> anyhow::Result<Steering> {
        let info = match maker {
            FaceMaker::Generator(engine) => Some(engine.info()),
            FaceMaker::Pipeline(..) => None,
        };
        if let Some(info) = info {
            Self::check_model_takes(args, info)?;
        }
        let hints = match &args.hints {
            Some(path) => Some(
                load_hints_file(path)
                    .with_context(|| format!("cannot read the hints file {}", path.display()))?,
            ),
            None => None,
        };
        Ok(Steering {
            hints,
            seeds,
            takes_code: info.is_none_or(|info| info.z_dim > 0),
            z_dim: info.map_or(0, |info| info.z_dim),
        })
    }

    fn check_model_takes(args: &GenerateArgs, info: &engine::ModelInfo) -> anyhow::Result<()> {
        let model = info.path.display();
        if args.hints.is_some() && !info.takes_hints {
            anyhow::bail!(
                "--hints: model {model} takes no colour hints (contract {}, no `{HINTS_NAME}` input)",
                info.contract
            );
        }
        if (args.seed.is_some() || args.variations.is_some()) && info.z_dim == 0 {
            anyhow::bail!(
                "--seed and --variations: model {model} has one face per sketch (contract {}, no `{Z_NAME}` input)",
                info.contract
            );
        }
        Ok(())
    }
}

/// Reads, normalises and generates one sketch's faces (one per seed, as one batch), then writes
/// them to `outs`; returns the model's time.
fn generate_one(
    maker: &mut FaceMaker,
    sketch: &Path,
    outs: &[PathBuf],
    steering: &Steering,
    args: &GenerateArgs,
) -> anyhow::Result<Duration> {
    let gray = load_sketch_file(sketch)?;
    let started = Instant::now();
    let faces = maker
        .faces(&gray, steering)
        .with_context(|| format!("cannot generate a face for {}", sketch.display()))?;
    let model_time = started.elapsed();
    for (mut face, out) in faces.into_iter().zip(outs) {
        if let Some(size) = args.size {
            face = engine::upscale(&face, size);
        }
        write_png_atomically(&face, out, args.force).with_context(|| {
            format!(
                "cannot write {} (the face for {})",
                out.display(),
                sketch.display()
            )
        })?;
    }
    Ok(model_time)
}

/// Writes `image` (a face, or `sketchify`'s sketch) as PNG to a temporary file beside `path` and
/// renames it into place, so `path` is never left half-written. Without `overwrite`, a file that
/// appeared at `path` since the check before the work is kept and this fails.
fn write_png_atomically<P: PixelWithColorType<Subpixel = u8>>(
    image: &ImageBuffer<P, Vec<u8>>,
    path: &Path,
    overwrite: bool,
) -> anyhow::Result<()> {
    let folder = path.parent().unwrap_or(Path::new("."));
    let mut temp = tempfile::Builder::new()
        .prefix(".sketch2face-")
        .suffix(".png.tmp")
        // A plain file's mode (0666 less the umask), not tempfile's private 0600.
        .permissions(std::os::unix::fs::PermissionsExt::from_mode(0o666))
        .tempfile_in(folder)
        .with_context(|| format!("cannot create a temporary file in {}", folder.display()))?;
    {
        let mut writer = BufWriter::new(temp.as_file_mut());
        image.write_with_encoder(PngEncoder::new(&mut writer))?;
        writer.flush()?;
    }
    let persisted = if overwrite {
        temp.persist(path)
    } else {
        temp.persist_noclobber(path)
    };
    // On failure the temporary file is removed as it drops.
    persisted.map_err(|failed| failed.error)?;
    Ok(())
}

/// One sketch's result, as a line of text or a JSON object (`--json`).
#[derive(Serialize)]
struct SketchReport {
    input: String,
    output: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    model_ms: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    total_ms: Option<f64>,
    /// The variation seed, for a model that takes a code.
    #[serde(skip_serializing_if = "Option::is_none")]
    seed: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    error: Option<String>,
}

impl SketchReport {
    fn new(sketch: &Path, out: &Path, result: &anyhow::Result<Duration>, total: Duration) -> Self {
        let (model_ms, total_ms, error) = match result {
            Ok(model) => (Some(millis(*model)), Some(millis(total)), None),
            Err(error) => (None, None, Some(format!("{error:#}"))),
        };
        SketchReport {
            input: sketch.display().to_string(),
            output: out.display().to_string(),
            model_ms,
            total_ms,
            seed: None,
            error,
        }
    }
}

impl fmt::Display for SketchReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} -> {}", self.input, self.output)?;
        if let Some(seed) = self.seed {
            write!(f, " (seed {seed})")?;
        }
        match (&self.error, self.model_ms, self.total_ms) {
            (None, Some(model), Some(total)) => {
                write!(f, " (model {model:.0} ms, total {total:.0} ms)")
            }
            _ => f.write_str(" failed"),
        }
    }
}

/// Milliseconds to 0.01 ms, enough for a face and short in JSON.
fn millis(duration: Duration) -> f64 {
    (duration.as_secs_f64() * 100_000.0).round() / 100.0
}

/// Prints the model's contract, resolution and metadata, and the provider that runs it.
pub fn info(args: &InfoArgs) -> anyhow::Result<()> {
    let runtime = engine::init_runtime().map_err(|error| Failure::CannotRun.of(error.into()))?;
    let engine = args
        .model
        .load(args.allow_external_data)
        .map_err(|error| Failure::CannotRun.of(error))?;
    print!("{}", describe(&engine, &runtime, args.model.device));
    Ok(())
}

fn describe(engine: &Engine, runtime: &Path, device: Device) -> String {
    let info = engine.info();
    let side = info.resolution;
    let contract = info.metadata.get(CONTRACT_KEY).map_or("?", String::as_str);
    let mut text = String::new();
    let _ = writeln!(text, "model:      {}", info.path.display());
    let _ = writeln!(text, "contract:   {contract}");
    let _ = writeln!(text, "inputs:");
    let _ = writeln!(
        text,
        "  {INPUT_NAME}: f32 [N, 1, {side}, {side}], white paper = +1, black ink = -1"
    );
    if info.takes_hints {
        let _ = writeln!(
            text,
            "  {HINTS_NAME}: f32 [N, 4, {side}, {side}], colour hints: RGB in [-1, 1] where painted, a mask (1 = painted)"
        );
    }
    if info.z_dim > 0 {
        let _ = writeln!(
            text,
            "  {Z_NAME}: f32 [N, {}], variation code (--seed, --variations; 0 = the default face)",
            info.z_dim
        );
    }
    let _ = writeln!(
        text,
        "output:     {OUTPUT_NAME}: f32 [N, 3, {side}, {side}], RGB in [-1, 1]"
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

#[cfg(test)]
mod tests {
    use super::*;

    fn name_of(sketch: &str, variation: Option<usize>) -> PathBuf {
        output_path(Path::new("faces"), Path::new(sketch), variation).unwrap()
    }

    #[test]
    fn face_files_keep_the_whole_sketch_name_but_its_last_extension() {
        assert_eq!(name_of("a.png", None), Path::new("faces/a.png"));
        assert_eq!(name_of("in/a.v2.png", None), Path::new("faces/a.v2.png"));
        assert_eq!(name_of("a.v2.jpg", None), Path::new("faces/a.v2.png"));
        assert_eq!(name_of("scan", None), Path::new("faces/scan.png"));
        assert_eq!(name_of(".hidden", None), Path::new("faces/.hidden.png"));
    }

    #[test]
    fn variations_are_numbered_before_the_extension() {
        assert_eq!(name_of("a.v2.png", Some(1)), Path::new("faces/a.v2-1.png"));
        assert_eq!(name_of("a", Some(12)), Path::new("faces/a-12.png"));
    }

    #[test]
    fn a_path_without_a_file_name_is_named_in_the_error() {
        let error = output_path(Path::new("faces"), Path::new("sketches/.."), None).unwrap_err();
        assert_eq!(error.to_string(), "sketches/.. has no file name");
    }

    #[test]
    fn every_clash_is_listed_before_any_work() {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("faces");
        std::fs::create_dir(&out).unwrap();
        std::fs::write(out.join("old.png"), b"a face from before").unwrap();
        let sketches: Vec<PathBuf> = ["a.png", "b.png", "x/a.jpg", "old.png"]
            .map(PathBuf::from)
            .into();
        let problems = output_paths(&sketches, &out, false, None).unwrap_err();
        assert_eq!(problems.len(), 2, "{problems:?}");
        assert!(problems[0].contains("a.png and x/a.jpg would both be written to"));
        assert!(problems[1].contains("old.png exists already (--force overwrites it)"));

        let problems = output_paths(&sketches, &out, true, None).unwrap_err();
        assert_eq!(
            problems.len(),
            1,
            "--force allows overwriting: {problems:?}"
        );
        let fine = output_paths(&sketches[..2], &out, false, None).unwrap();
        assert_eq!(fine, [vec![out.join("a.png")], vec![out.join("b.png")]]);
    }

    #[test]
    fn variations_get_numbered_files_and_each_is_checked() {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("faces");
        std::fs::create_dir(&out).unwrap();
        let sketches = [PathBuf::from("a.png"), PathBuf::from("b.png")];
        let all = output_paths(&sketches, &out, false, Some(3)).unwrap();
        assert_eq!(all[1], [out.join("b-1.png"), out.join("b-2.png"), out.join("b-3.png")]);
        std::fs::write(out.join("a-2.png"), b"an earlier face").unwrap();
        let problems = output_paths(&sketches, &out, false, Some(3)).unwrap_err();
        assert_eq!(problems.len(), 1, "{problems:?}");
        assert!(problems[0].contains("a-2.png exists already"), "{problems:?}");
    }

    #[test]
    fn a_face_never_replaces_its_own_sketch_even_with_force() {
        let dir = tempfile::tempdir().unwrap();
        let sketch = dir.path().join("a.png");
        std::fs::write(&sketch, b"the only copy of a drawing").unwrap();
        let problems = output_paths(&[sketch], dir.path(), true, None).unwrap_err();
        assert!(
            problems[0].contains("would overwrite the sketch"),
            "{problems:?}"
        );
    }

    #[test]
    fn writes_replace_only_when_asked_and_leave_no_temporary_files() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("face.png");
        let red = RgbImage::from_pixel(4, 4, image::Rgb([255, 0, 0]));
        let blue = RgbImage::from_pixel(4, 4, image::Rgb([0, 0, 255]));
        write_png_atomically(&red, &path, false).unwrap();
        let error = write_png_atomically(&blue, &path, false).unwrap_err();
        assert_eq!(
            error
                .downcast_ref::<std::io::Error>()
                .map(std::io::Error::kind),
            Some(std::io::ErrorKind::AlreadyExists),
            "{error:#}"
        );
        assert_eq!(image::open(&path).unwrap().into_rgb8(), red);
        write_png_atomically(&blue, &path, true).unwrap();
        assert_eq!(image::open(&path).unwrap().into_rgb8(), blue);
        let names: Vec<_> = std::fs::read_dir(dir.path())
            .unwrap()
            .map(|entry| entry.unwrap().file_name())
            .collect();
        assert_eq!(names, ["face.png"]);

        // The face is as readable as any file the user makes there (not tempfile's 0600).
        let plain = dir.path().join("plain");
        std::fs::File::create(&plain).unwrap();
        let mode = |path: &Path| std::fs::metadata(path).unwrap().permissions();
        assert_eq!(mode(&path), mode(&plain));
    }
}

//! `sketch2face landmarks FILE...`: the face mesh the engine finds in each image, as the face
//! pipeline sees it (the file normalised to a sketch page, then [`MeshFinder::find`]), with the
//! points given back in the file's own pixels.

use std::io::Write as _;
use std::path::PathBuf;

use anyhow::{Context, anyhow};
use clap::Args;
use serde::Serialize;

use super::{Failure, device_parser};
use crate::engine::{Device, EngineOptions, MESH_MODEL_FILE, MeshFinder, MeshNetwork, shipped_model_file};
use crate::sketch::load_sketch_file_fitted;

const LANDMARKS_AFTER_HELP: &str = "\
Each image is read as a sketch (dark lines on light paper, or the reverse) or a photo's edge map,
normalised the way the app and `generate` normalise sketches, and searched for a face.

With --json, one JSON object per input per line:
  {\"input\": PATH, \"found\": true|false, \"confidence\": 0..1, \"points\": [[x, y], ... 468]}
points in the input image's pixels (top-left corner at 0, 0), in MediaPipe's face-mesh order;
without a face, \"points\" is the most likely mesh when there was any ink, else empty. An input
that cannot be read gives {\"input\": PATH, \"error\": MESSAGE}.

Exit status:
  0  every input holds a face
  1  some inputs hold no face (the others got their meshes)
  2  some inputs could not be read (or a usage error)
  3  nothing could run: ONNX Runtime or the mesh model could not be loaded";

/// `sketch2face landmarks FILE...`
#[derive(Args, Clone, Debug)]
#[command(after_help = LANDMARKS_AFTER_HELP)]
pub struct LandmarksArgs {
    /// Images: sketches, drawings or edge maps of faces
    #[arg(required = true, value_name = "FILE")]
    pub files: Vec<PathBuf>,

    /// One JSON object per input per line (see below)
    #[arg(long)]
    pub json: bool,

    /// The mesh model [default: models/mesh-v3.onnx beside the executable, else in the project]
    #[arg(long, value_name = "PATH")]
    pub mesh_model: Option<PathBuf>,

    /// Where to run the model: CUDA when it works (auto), the CPU, or CUDA or fail
    #[arg(long, default_value = "auto", value_name = "DEVICE", value_parser = device_parser())]
    pub device: Device,

    /// Threads used inside one operator (0: up to 4, one per core)
    #[arg(long, default_value_t = 0, value_name = "N")]
    pub threads: usize,
}

#[derive(Serialize)]
struct Found {
    input: String,
    found: bool,
    confidence: f32,
    points: Vec<[f32; 2]>,
}

#[derive(Serialize)]
struct Unreadable {
    input: String,
    error: String,
}

/// Finds the mesh of every file, carrying on past a file that cannot be read; fails at the end
/// with [`Failure::BadInput`] when some file could not be read, else [`Failure::NoFace`] when
/// some held no face.
pub fn landmarks(args: &LandmarksArgs) -> anyhow::Result<()> {
    let path = args.mesh_model.clone().unwrap_or_else(|| shipped_model_file(MESH_MODEL_FILE));
    let options = EngineOptions {
        device: args.device,
        intra_threads: args.threads,
    };
    let network = MeshNetwork::load(&path, &options).map_err(|error| Failure::CannotRun.of(error.into()))?;
    let mut finder = MeshFinder::new(network);
    let mut stdout = std::io::stdout().lock();
    let (mut unreadable, mut faceless) = (Vec::new(), Vec::new());
    for file in &args.files {
        let input = file.display().to_string();
        let (page, fit) = match load_sketch_file_fitted(file) {
            Ok(loaded) => loaded,
            Err(error) => {
                let message = format!("{:#}", anyhow::Error::new(error));
                if args.json {
                    writeln!(stdout, "{}", serde_json::to_string(&Unreadable { input: input.clone(), error: message.clone() })?)?;
                }
                eprintln!("error: {message}");
                unreadable.push(input);
                continue;
            }
        };
        let reading = finder.find(&page).with_context(|| format!("finding the face mesh of {input}"))
            .map_err(|error| Failure::CannotRun.of(error))?;
        let found = reading.as_ref().is_some_and(|r| r.found());
        let confidence = reading.as_ref().map_or(0.0, |r| r.presence);
        let points: Vec<[f32; 2]> = reading
            .map(|r| r.mesh.points().iter().map(|&p| fit.to_file(p)).collect())
            .unwrap_or_default();
        if args.json {
            let line = Found {
                input: input.clone(),
                found,
                confidence,
                points,
            };
            writeln!(stdout, "{}", serde_json::to_string(&line)?)?;
        } else if found {
            let eye = crate::face::Mesh::new(points).map_or(0.0, |mesh| mesh.eye_distance());
            writeln!(stdout, "{input}: a face (confidence {confidence:.2}, eye distance {eye:.0} px)")?;
        } else {
            writeln!(stdout, "{input}: no face (confidence {confidence:.2})")?;
        }
        if !found {
            faceless.push(input);
        }
    }
    stdout.flush()?;
    if !unreadable.is_empty() {
        return Err(Failure::BadInput.of(anyhow!(
            "{} of {} inputs could not be read: {}",
            unreadable.len(),
            args.files.len(),
            unreadable.join(", ")
        )));
    }
    if !faceless.is_empty() {
        return Err(Failure::NoFace.of(anyhow!(
            "no face in {} of {} inputs: {}",
            faceless.len(),
            args.files.len(),
            faceless.join(", ")
        )));
    }
    Ok(())
}

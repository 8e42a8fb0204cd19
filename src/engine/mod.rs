//! The engine room: finding ONNX Runtime, loading a model and checking its contract, choosing the
//! execution provider (CUDA, then CPU), and turning a sketch into a face.
//!
//! Uses `ort`, `ndarray` and `image`; never any UI. The flow follows `ort`'s own examples: load
//! once, check at load time, then preprocess -> run -> postprocess, with the pre- and
//! post-processing as pure functions.

mod contract;
mod detect;
mod error;
mod look;
mod maker;
mod mesh;
pub mod onnx_scan;
mod pipeline;
mod process;
mod refine;
mod runtime;
mod seed;
mod session;

use std::collections::BTreeMap;
use std::fmt;
use std::path::PathBuf;
use std::str::FromStr;

pub use contract::{
    CONTRACT_KEY, CONTRACT_VERSION, CONTRACT_VERSIONS, Contract, EXEMPLAR_NAME, HINTS_NAME, INPUT_NAME,
    MAX_RESOLUTION, MAX_Z_DIM, OUTPUT_NAME, REFINE_CONTRACT_VERSION, RESOLUTION_KEY, RefineContract, TONED_NAME, TensorSpec,
    Z_NAME, check_contract, check_refine_contract,
};
pub use detect::{DETECT_CONTRACT, FACE_DETECT_MODEL_FILE, FaceDetection, FaceDetector, MIN_FACE_SCORE};
pub use error::{EngineError, OutputShapeError};
pub use mesh::{
    CROP_NAME, CROP_SIDE_KEY, FOUND_PRESENCE, FRAMING_BOX_KEY, MESH_CONTRACT, MESH_MODEL_FILE, MeshFinder,
    MeshNetwork, MeshReading, POINTS_NAME, PRESENCE_NAME, ROI_SCALE_KEY,
};
pub use look::{Look, LookError};
pub use maker::{FaceMaker, FaceOrder, MadeFace, PHOTOGRAPHIC_BY_DEFAULT, Painter, PipelineModels};
pub use pipeline::{BANK_FILE, Exemplars, FACE_SIDE, FacePipeline, PipelineError, PipelineFace, PipelineOutput};
pub use refine::{REFINE_MODEL_FILE, RefineNetwork, Refined, Shown};
pub use process::{hints_into, hints_tensor, postprocess, preprocess, preprocess_into};
/// Moved to [`crate::imaging`] (an image helper, not inference); kept here for callers.
pub use crate::imaging::upscale;
pub use runtime::{
    RUNTIME_FILE, default_model_path, init_runtime, shipped_model_file, runtime_candidates, runtime_version,
};
pub use seed::{Seed, z_from_seed};
pub use session::{
    Conditions, Engine, ExternalData, MAX_MODEL_BYTES, MAX_TENSOR_BYTES, preload_cuda_libraries,
};

/// Which execution provider the user asks for.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum Device {
    /// CUDA when it works, otherwise the CPU.
    #[default]
    Auto,
    /// The CPU only.
    Cpu,
    /// CUDA, or an error.
    Cuda,
}

impl Device {
    /// Every device, in the order shown to users.
    pub const ALL: [Device; 3] = [Device::Auto, Device::Cpu, Device::Cuda];

    /// The lower-case name used on the command line and in settings.
    pub fn name(self) -> &'static str {
        match self {
            Device::Auto => "auto",
            Device::Cpu => "cpu",
            Device::Cuda => "cuda",
        }
    }
}

impl fmt::Display for Device {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for Device {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Device::ALL
            .into_iter()
            .find(|device| device.name().eq_ignore_ascii_case(s))
            .ok_or_else(|| format!("unknown device `{s}` (expected auto, cpu or cuda)"))
    }
}

/// The execution provider that actually runs the model.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Provider {
    Cuda,
    Cpu,
}

impl fmt::Display for Provider {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Provider::Cuda => "CUDA",
            Provider::Cpu => "CPU",
        })
    }
}

/// How to load a model.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct EngineOptions {
    pub device: Device,
    /// Threads inside one operator; 0 means `min(4, cores)`.
    pub intra_threads: usize,
}

/// What a loaded model is: where it came from, its square resolution and all its metadata.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ModelInfo {
    pub path: PathBuf,
    /// Side of the square input and output images (H == W).
    pub resolution: u32,
    /// The contract version the model declares (1 or 2).
    pub contract: u32,
    /// Whether the model takes colour hints (`hints`).
    pub takes_hints: bool,
    /// Length of the model's variation code (`z`); 0 when it takes none.
    pub z_dim: usize,
    /// Every custom metadata entry of the ONNX file (`sketch2face.*` and any other).
    pub metadata: BTreeMap<String, String>,
}

#[cfg(test)]
mod tests;

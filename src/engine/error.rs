//! The engine's errors. Each names what it is about: the library or model path, the tensor, and
//! what was expected against what was found.

use std::path::PathBuf;

use super::contract::CONTRACT_VERSION;
use super::onnx_scan::{ExternalTensor, NotOnnx};

#[derive(Debug, thiserror::Error)]
pub enum EngineError {
    #[error(
        "ONNX Runtime library not found (looked for {}); run `make runtime` to fetch it, or set ORT_DYLIB_PATH to a libonnxruntime.so",
        display_paths(tried)
    )]
    RuntimeNotFound { tried: Vec<PathBuf> },

    #[error("cannot load the ONNX Runtime library {}", path.display())]
    RuntimeLoad {
        path: PathBuf,
        #[source]
        source: ort::LoadDynamicError,
    },

    #[error("cannot create the ONNX Runtime environment (library {})", path.display())]
    Environment {
        path: PathBuf,
        #[source]
        source: ort::Error,
    },

    #[error("model file {} not found", path.display())]
    ModelNotFound { path: PathBuf },

    #[error("model path {} is a folder; give the .onnx file itself", path.display())]
    ModelIsFolder { path: PathBuf },

    #[error("model path {} is not a regular file (a device, a pipe or a socket)", path.display())]
    ModelNotAFile { path: PathBuf },

    #[error("cannot read model file {}", path.display())]
    ModelUnreadable {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },

    #[error(
        "model file {} is too large: {size} bytes, the limit is {limit} bytes (protobuf's own)",
        path.display()
    )]
    ModelTooLarge {
        path: PathBuf,
        size: u64,
        limit: u64,
    },

    #[error("model file {} is not an ONNX model", path.display())]
    NotOnnx {
        path: PathBuf,
        #[source]
        source: NotOnnx,
    },

    #[error(
        "model {} reads {count} tensor(s) from other files ({}); models that read other files are refused, as such a model can copy any file in its folder into the face (--allow-external-data trusts this one)",
        path.display(),
        display_list(tensors)
    )]
    ExternalData {
        path: PathBuf,
        /// The first few tensors, each with the file it names.
        tensors: Vec<ExternalTensor>,
        /// How many tensors read other files.
        count: usize,
    },

    #[error(
        "model {}: tensor `{tensor}` of shape {shape} would take more than {limit} bytes",
        path.display()
    )]
    TensorTooLarge {
        path: PathBuf,
        tensor: &'static str,
        shape: String,
        limit: usize,
    },

    #[error("cannot load model {}", path.display())]
    Session {
        path: PathBuf,
        #[source]
        source: ort::Error,
    },

    #[error(
        "CUDA cannot be used for model {} (for a GPU: `make runtime-gpu`, an NVIDIA driver, and a CUDA 13 capable GPU; or use --device cpu)",
        path.display()
    )]
    CudaUnavailable {
        path: PathBuf,
        #[source]
        source: ort::Error,
    },

    #[error(
        "model {} does not follow the sketch2face contract (version 1 or {CONTRACT_VERSION}): {what}: expected {expected}, found {found}",
        path.display()
    )]
    Contract {
        path: PathBuf,
        what: String,
        expected: String,
        found: String,
    },

    #[error(
        "model {} is not a sketch2face mesh model (contract mesh-1): {what}: expected {expected}, found {found}",
        path.display()
    )]
    MeshContract {
        path: PathBuf,
        what: String,
        expected: String,
        found: String,
    },

    #[error("mesh model {} gave {what}", path.display())]
    MeshOutput { path: PathBuf, what: String },

    #[error("refine model {} was given {what}", path.display())]
    RefineInput { path: PathBuf, what: String },

    #[error("running model {} failed", path.display())]
    Run {
        path: PathBuf,
        #[source]
        source: ort::Error,
    },

    #[error(
        "model {} takes a variation code of {expected} numbers, but {found} were given",
        path.display()
    )]
    CodeLength {
        path: PathBuf,
        expected: usize,
        found: usize,
    },

    #[error("model {} gave an output of the wrong shape", path.display())]
    OutputShape {
        path: PathBuf,
        #[source]
        source: OutputShapeError,
    },
}

/// An output tensor is not the shape the contract gives it.
#[derive(Debug, thiserror::Error)]
#[error("output tensor `{tensor}`: expected shape {expected}, found {found}")]
pub struct OutputShapeError {
    pub tensor: &'static str,
    pub expected: String,
    pub found: String,
}

fn display_list(items: &[impl std::fmt::Display]) -> String {
    items
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join(", ")
}

fn display_paths(paths: &[PathBuf]) -> String {
    display_list(&paths.iter().map(|p| p.display()).collect::<Vec<_>>())
}

//! The engine's errors. Each names what it is about: the library or model path, the tensor, and
//! what was expected against what was found.

use std::path::PathBuf;

use super::contract::CONTRACT_VERSION;

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

    #[error("output tensor `{tensor}`: expected shape {expected}, found {found}")]
    OutputShape {
        tensor: &'static str,
        expected: String,
        found: String,
    },
}

fn display_paths(paths: &[PathBuf]) -> String {
    paths
        .iter()
        .map(|p| p.display().to_string())
        .collect::<Vec<_>>()
        .join(", ")
}

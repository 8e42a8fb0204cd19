//! The engine's pure parts: the contract check, the external-data walker, pre-processing.

#[path = "../../src/engine/contract.rs"]
#[allow(dead_code)]
mod contract;
#[path = "../../src/engine/error.rs"]
mod error;
#[path = "../../src/engine/onnx_scan.rs"]
pub mod onnx_scan;
#[path = "../../src/engine/process.rs"]
#[allow(dead_code)]
mod process;

pub use contract::{
    Contract, Dim, HINTS_NAME, INPUT_NAME, MAX_RESOLUTION, MAX_Z_DIM, OUTPUT_NAME, TensorSpec,
    Z_NAME, check_contract,
};
pub use error::{EngineError, OutputShapeError};
pub use process::{hints_tensor, preprocess};

//! `sketch2face --version`: the program's version, the ONNX Runtime it loads and the model it opens.
//! It never fails: a runtime or model that cannot be found or loaded is said on its own line.

use std::path::Path;

use crate::engine::{self, Device, Engine, EngineOptions};
use crate::error_chain;

/// Three lines: the program, ONNX Runtime (version and path), the model (its path and name, resolution
/// and training data). `model` is the model the program would open.
pub fn version_report(model: &Path) -> String {
    let program = format!("{} {}", env!("CARGO_PKG_NAME"), env!("CARGO_PKG_VERSION"));
    let (runtime, model) = match engine::runtime_version() {
        Ok((path, version)) => (
            format!(
                "ONNX Runtime {} ({})",
                version.as_deref().unwrap_or("(version unknown)"),
                path.display()
            ),
            model_line(model),
        ),
        Err(error) => (
            format!("ONNX Runtime: not loaded: {}", error_chain(&error)),
            format!("model: {} (not loaded without ONNX Runtime)", model.display()),
        ),
    };
    format!("{program}\n{runtime}\n{model}\n")
}

/// `model PATH: N x N, trained on SOURCE`, read from the model's own metadata.
fn model_line(path: &Path) -> String {
    // One CPU thread: this only opens the model to read what it says about itself.
    let options = EngineOptions {
        device: Device::Cpu,
        intra_threads: 1,
    };
    let engine = match Engine::load(path, &options) {
        Ok(engine) => engine,
        Err(error) => return format!("model: not loaded: {}", error_chain(&error)),
    };
    let info = engine.info();
    let mut line = format!("model {}: {1} x {1}", path.display(), info.resolution);
    if let Some(source) = info
        .metadata
        .get("sketch2face.data")
        .and_then(|data| serde_json::from_str::<serde_json::Value>(data).ok())
        .and_then(|data| data.get("source")?.as_str().map(str::to_owned))
    {
        line.push_str(&format!(", trained on {source}"));
    }
    line
}

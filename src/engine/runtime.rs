//! Finding and loading the ONNX Runtime shared library, once per process.
//!
//! Search order: `ORT_DYLIB_PATH` (when set, only that), beside the executable, then the project's
//! `third_party/onnxruntime-gpu/` (written by `make runtime-gpu`) and `third_party/onnxruntime/`
//! (written by `make runtime`).

use std::path::{Path, PathBuf};
use std::sync::Mutex;

use ort::environment::Environment;

use super::EngineError;

/// File name of the runtime library.
pub const RUNTIME_FILE: &str = "libonnxruntime.so";

/// The folder of this source tree, for the project-local runtime and model.
const PROJECT_DIR: &str = env!("CARGO_MANIFEST_DIR");

/// The loaded runtime: where it came from and the process's one environment.
#[derive(Clone)]
pub(crate) struct Runtime {
    pub path: PathBuf,
    pub environment: Environment,
}

static RUNTIME: Mutex<Option<Runtime>> = Mutex::new(None);

/// Loads ONNX Runtime (once; later calls return the same path) and returns the library's path.
pub fn init_runtime() -> Result<PathBuf, EngineError> {
    runtime().map(|r| r.path)
}

/// Where the runtime library is looked for, in order.
pub fn runtime_candidates() -> Vec<PathBuf> {
    if let Some(path) = std::env::var_os("ORT_DYLIB_PATH").filter(|p| !p.is_empty()) {
        return vec![PathBuf::from(path)];
    }
    let mut candidates = Vec::new();
    if let Some(dir) = exe_dir() {
        candidates.push(dir.join(RUNTIME_FILE));
    }
    let third_party = Path::new(PROJECT_DIR).join("third_party");
    candidates.push(third_party.join("onnxruntime-gpu").join(RUNTIME_FILE));
    candidates.push(third_party.join("onnxruntime").join(RUNTIME_FILE));
    candidates
}

/// The default model: `models/sketch2face.onnx` beside the executable, else in the project.
pub fn default_model_path() -> PathBuf {
    shipped_model_file("sketch2face.onnx")
}

/// A file of `models/` as shipped: beside the executable (the bundle), else in the project.
pub fn shipped_model_file(name: &str) -> PathBuf {
    let relative = Path::new("models").join(name);
    if let Some(beside) = exe_dir().map(|dir| dir.join(&relative))
        && beside.is_file()
    {
        return beside;
    }
    Path::new(PROJECT_DIR).join(relative)
}

pub(crate) fn runtime() -> Result<Runtime, EngineError> {
    let mut slot = RUNTIME
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    if let Some(runtime) = slot.as_ref() {
        return Ok(runtime.clone());
    }
    let candidates = runtime_candidates();
    let path = candidates
        .iter()
        .find(|p| p.is_file())
        .cloned()
        .ok_or(EngineError::RuntimeNotFound { tried: candidates })?;
    let builder = ort::init_from(&path).map_err(|source| EngineError::RuntimeLoad {
        path: path.clone(),
        source,
    })?;
    let environment =
        builder
            .with_name("sketch2face")
            .build()
            .map_err(|source| EngineError::Environment {
                path: path.clone(),
                source,
            })?;
    let runtime = Runtime { path, environment };
    *slot = Some(runtime.clone());
    Ok(runtime)
}

fn exe_dir() -> Option<PathBuf> {
    std::env::current_exe()
        .ok()
        .and_then(|exe| exe.parent().map(Path::to_path_buf))
}

/// Loads ONNX Runtime (as [`init_runtime`]) and returns its path and the version it reports of itself
/// (`OrtGetApiBase()->GetVersionString()`, e.g. `1.31.1`); `None` when the library does not say.
pub fn runtime_version() -> Result<(PathBuf, Option<String>), EngineError> {
    let path = init_runtime()?;
    // SAFETY: `path` is the library `init_runtime` has loaded and kept loaded, and ort checked that it
    // exports `OrtGetApiBase`; opening it again returns the same handle and runs no initialiser.
    // `OrtGetApiBase` and `GetVersionString` take no arguments and return pointers into the library's
    // static data, copied here before the handle is dropped.
    let version = unsafe {
        libloading::Library::new(&path).ok().and_then(|library| {
            let get_api_base = library
                .get::<unsafe extern "system" fn() -> *const ort::sys::OrtApiBase>(b"OrtGetApiBase")
                .ok()?;
            let base = get_api_base();
            let version = base.as_ref().map(|base| (base.GetVersionString)())?;
            (!version.is_null())
                .then(|| std::ffi::CStr::from_ptr(version).to_string_lossy().into_owned())
        })
    };
    Ok((path, version))
}

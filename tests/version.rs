//! `sketch2face --version`: the program's version, ONNX Runtime's version and the model, on three
//! lines, and never an error: a missing runtime or model is said on its line.

use std::path::Path;

use sketch2face::engine::{Engine, EngineOptions, default_model_path, runtime_version};

fn version(args: &[&str], env: &[(&str, &str)]) -> Vec<String> {
    let mut command = assert_cmd::cargo::cargo_bin_cmd!("sketch2face");
    command.arg("--version").args(args);
    for (key, value) in env {
        command.env(key, value);
    }
    let output = command.output().expect("the binary runs");
    assert!(output.status.success(), "--version failed: {output:?}");
    let text = String::from_utf8(output.stdout).expect("UTF-8");
    text.lines().map(str::to_owned).collect()
}

#[test]
fn version_names_the_program_the_runtime_and_the_model() {
    let (runtime, runtime_version) = runtime_version().expect("ONNX Runtime (make runtime)");
    let model = default_model_path();
    let resolution = Engine::load(&model, &EngineOptions::default())
        .expect("the default model loads")
        .resolution();

    let lines = version(&[], &[]);
    assert_eq!(lines.len(), 3, "{lines:?}");
    assert_eq!(lines[0], format!("sketch2face {}", env!("CARGO_PKG_VERSION")));
    let runtime_version = runtime_version.expect("the runtime reports its version");
    assert!(runtime_version.starts_with("1."), "{runtime_version}");
    assert_eq!(lines[1], format!("ONNX Runtime {runtime_version} ({})", runtime.display()));
    let expected = format!("model {}: {resolution} x {resolution}", model.display());
    assert!(lines[2].starts_with(&expected), "{} does not start with {expected}", lines[2]);
}

#[test]
fn version_says_when_the_model_is_missing_and_succeeds() {
    let lines = version(&["--model", "no/such/model.onnx"], &[]);
    assert_eq!(lines.len(), 3, "{lines:?}");
    assert!(lines[1].starts_with("ONNX Runtime 1."), "{lines:?}");
    assert!(
        lines[2].starts_with("model: not loaded: ") && lines[2].contains("no/such/model.onnx"),
        "{lines:?}"
    );
}

#[test]
fn version_says_when_the_runtime_is_missing_and_succeeds() {
    let missing = Path::new("/no/such/folder/libonnxruntime.so");
    let lines = version(&[], &[("ORT_DYLIB_PATH", missing.to_str().unwrap())]);
    assert_eq!(lines.len(), 3, "{lines:?}");
    assert!(
        lines[1].starts_with("ONNX Runtime: not loaded: ") && lines[1].contains(missing.to_str().unwrap()),
        "{lines:?}"
    );
    assert!(lines[2].ends_with("(not loaded without ONNX Runtime)"), "{lines:?}");
}

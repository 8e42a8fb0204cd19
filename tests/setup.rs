//! The README's Setup: `make doctor` on this machine and on one that lacks a tool, and the make
//! targets as a fresh clone sees them.

use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn project(relative: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(relative)
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// `make ARGS` in `dir`, without the make state of a `make test` that may be running this test.
fn make(dir: &Path, args: &[&str]) -> Output {
    Command::new("make")
        .current_dir(dir)
        .args(args)
        .env_remove("MAKEFLAGS")
        .env_remove("MFLAGS")
        .env_remove("MAKELEVEL")
        .output()
        .expect("make runs")
}

#[test]
fn doctor_finds_everything_required_on_this_machine() {
    let output = make(&project(""), &["doctor"]);
    let stdout = text(&output.stdout);
    assert_eq!(
        output.status.code(),
        Some(0),
        "{stdout}{}",
        text(&output.stderr)
    );
    assert!(!stdout.contains("MISSING"), "{stdout}");
    for found in [
        "ok       rustc 1.",
        "ok       cargo 1.",
        "ok       python3 3.",
        "ok       make",
    ] {
        assert!(stdout.contains(found), "{found} in {stdout}");
    }
    assert!(
        stdout.contains("Everything required is present."),
        "{stdout}"
    );
}

/// A folder of links to every program on this PATH except `hidden`, to use as the whole PATH.
fn path_without(hidden: &str, folder: &Path) -> PathBuf {
    let mut linked = HashSet::new();
    for dir in std::env::split_paths(&std::env::var_os("PATH").unwrap()) {
        let Ok(entries) = std::fs::read_dir(&dir) else {
            continue;
        };
        for entry in entries.flatten() {
            let name = entry.file_name();
            // The first of a name on PATH wins, as in a shell.
            if name != hidden && linked.insert(name.clone()) {
                std::os::unix::fs::symlink(entry.path(), folder.join(&name)).unwrap();
            }
        }
    }
    folder.to_path_buf()
}

#[test]
fn doctor_names_a_missing_tool_and_the_command_that_installs_it() {
    for (tool, missing, fix) in [
        (
            "make",
            "MISSING  make (apt package make)",
            "apt-get install -y make",
        ),
        (
            "pkg-config",
            "MISSING  pkg-config (apt package pkg-config)",
            "apt-get install -y pkg-config",
        ),
        (
            "cargo",
            "MISSING  cargo (Rust 1.95 or later, from rustup)",
            "rustup",
        ),
    ] {
        let folder = tempfile::tempdir().unwrap();
        let output = Command::new("/bin/bash")
            .arg(project("scripts/doctor.sh"))
            .env("PATH", path_without(tool, folder.path()))
            .output()
            .unwrap();
        let stdout = text(&output.stdout);
        assert_eq!(output.status.code(), Some(1), "{tool}: {stdout}");
        assert!(stdout.contains(missing), "{missing} in {stdout}");
        assert_eq!(
            stdout.matches("MISSING").count(),
            1,
            "only {tool}: {stdout}"
        );
        let advice = &stdout[stdout.find("To get it:").expect("advice")..];
        assert!(advice.contains(fix), "{fix} in {advice}");
    }
}

/// The files make reads, copied into an empty folder: a fresh clone has no .venv/ and no
/// third_party/.
fn fresh_clone() -> tempfile::TempDir {
    let clone = tempfile::tempdir().unwrap();
    std::fs::create_dir(clone.path().join("training")).unwrap();
    for file in [
        "Makefile",
        "training/Makefile.inc",
        "training/requirements.txt",
    ] {
        std::fs::copy(project(file), clone.path().join(file)).unwrap();
    }
    clone
}

#[test]
fn on_a_fresh_clone_every_python_target_creates_the_venv_first() {
    let clone = fresh_clone();
    for target in [
        "test-training",
        "test",
        "data",
        "train",
        "train-baseline",
        "evaluate",
        "guide",
    ] {
        let output = make(clone.path(), &["-n", target]);
        let plan = text(&output.stdout);
        assert!(
            output.status.success(),
            "make -n {target}: {}",
            text(&output.stderr)
        );
        let venv = plan.find("python3 -m venv .venv");
        let install = plan.find("pip install -r training/requirements.txt");
        let first_use = plan
            .find(".venv/bin/python -m training")
            .or(plan.find("-m pytest"));
        assert!(
            venv.is_some() && venv < install && install < first_use,
            "make -n {target} creates the venv, installs into it, then uses it:\n{plan}"
        );
    }
}

#[test]
fn the_quick_rust_tests_need_no_python_venv() {
    let output = make(fresh_clone().path(), &["-n", "test-rust"]);
    let plan = text(&output.stdout);
    assert!(output.status.success(), "{}", text(&output.stderr));
    assert!(plan.contains("cargo test"), "{plan}");
    assert!(!plan.contains(".venv"), "{plan}");
}

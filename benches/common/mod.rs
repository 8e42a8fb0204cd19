//! Shared by the benchmark programs: the fixture drawing, the scripted drawing, percentiles,
//! peak memory and the small argument parser (`cargo bench` passes `--bench` to every program).

#![allow(dead_code)] // each bench program uses a different part

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use sketch2face::sketch::{Drawing, Point, Stroke, drawing_from_json};

/// The 30-stroke face drawing (`benches/data/face_30_strokes.json`, made by
/// `benches/data/make_face_fixture.py`).
pub const FACE_FIXTURE: &str = "benches/data/face_30_strokes.json";

/// The program's exit status, printing the error and its causes when there is one.
pub fn exit_code(result: anyhow::Result<()>) -> std::process::ExitCode {
    match result {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            std::process::ExitCode::FAILURE
        }
    }
}

/// A path inside the project.
pub fn project_path(relative: impl AsRef<Path>) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(relative)
}

/// The typical drawing: 30 strokes, 479 points, brush width 0.010.
pub fn face_drawing() -> Drawing {
    let path = project_path(FACE_FIXTURE);
    let json = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("reading {}: {e}", path.display()));
    drawing_from_json(&json).unwrap_or_else(|e| panic!("parsing {}: {e}", path.display()))
}

/// `count` strokes for the live benchmark: the face fixture drawn over and over, each pass
/// shifted a little (like going over the lines again and shading), so every stroke changes
/// the drawing.
pub fn scripted_strokes(count: usize) -> Vec<Stroke> {
    let face = face_drawing();
    (0..count)
        .map(|k| {
            let base = &face.strokes[k % face.strokes.len()];
            let pass = (k / face.strokes.len()) as f32;
            let (dx, dy) = (0.004 * pass, -0.003 * pass);
            let points = base
                .points
                .iter()
                .map(|p| Point {
                    x: p.x + dx,
                    y: p.y + dy,
                    ..*p
                })
                .collect();
            Stroke {
                points,
                ..(**base).clone()
            }
        })
        .collect()
}

/// The first `count` strokes of `strokes` as a drawing.
pub fn drawing_of(strokes: &[Stroke]) -> Drawing {
    Drawing {
        strokes: strokes.iter().cloned().map(Arc::new).collect(),
        background: None,
    }
}

/// Nearest-rank percentile (`p` in 0..=100) of `values`, in the values' unit; NaN when empty.
pub fn percentile(values: &[f64], p: f64) -> f64 {
    if values.is_empty() {
        return f64::NAN;
    }
    let mut sorted = values.to_vec();
    sorted.sort_by(f64::total_cmp);
    let rank = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

pub fn ms(duration: Duration) -> f64 {
    duration.as_secs_f64() * 1e3
}

/// Rounds to 3 decimals for the JSON outputs.
pub fn round3(value: f64) -> f64 {
    (value * 1e3).round() / 1e3
}

/// Peak resident memory of this process (`VmHWM` in /proc/self/status), in MB (10^6 bytes).
pub fn peak_rss_mb() -> Option<f64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kib: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib * 1024.0 / 1e6)
}

/// CPU time (user + system) of this process so far, all threads, in seconds.
pub fn process_cpu_seconds() -> Option<f64> {
    let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
    // Fields after the command name (which may hold spaces) start at ") ".
    let fields: Vec<&str> = stat.rsplit_once(") ")?.1.split_whitespace().collect();
    let ticks: f64 = fields.get(11)?.parse::<f64>().ok()? + fields.get(12)?.parse::<f64>().ok()?;
    Some(ticks / 100.0) // USER_HZ is 100 on Linux
}

/// The value after `--name` (or in `--name=value`) on the command line.
pub fn arg(name: &str) -> Option<String> {
    let flag = format!("--{name}");
    let args: Vec<String> = std::env::args().collect();
    args.iter().enumerate().find_map(|(i, a)| {
        if *a == flag {
            args.get(i + 1).cloned()
        } else {
            a.strip_prefix(&format!("{flag}=")).map(str::to_owned)
        }
    })
}

/// [`arg`] parsed, or `default`; exits with a message when it does not parse.
pub fn arg_or<T: std::str::FromStr>(name: &str, default: T) -> T {
    match arg(name) {
        None => default,
        Some(text) => text.parse().unwrap_or_else(|_| {
            eprintln!("error: --{name} {text}: not a valid value");
            std::process::exit(2)
        }),
    }
}

/// Writes `value` as pretty JSON to `path`, creating its folder.
pub fn write_json(path: &Path, value: &serde_json::Value) {
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).unwrap_or_else(|e| panic!("creating {}: {e}", dir.display()));
    }
    let text = serde_json::to_string_pretty(value).expect("JSON values serialise") + "\n";
    std::fs::write(path, text).unwrap_or_else(|e| panic!("writing {}: {e}", path.display()));
    println!("wrote {}", path.display());
}

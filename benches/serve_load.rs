//! A bounded load run against the real server: `sketch2face serve` (the release binary) on a
//! loopback port, and clients posting the example sketch to `/gen` as the 2017 clients did.
//!
//! ```text
//! cargo bench --bench serve_load -- [--requests 2000] [--concurrency 16] [--model PATH]
//!                                   [--workers N] [--threads N] [--out target/bench/serve_load.json]
//! ```
//!
//! In order, in one run so all see the same machine:
//! 1. the engine's own single-stream rate: `Engine::generate` in a loop in this process (CPU,
//!    default threads) on the sketch `generate` would make of the same file, faces per second;
//! 2. the server is started, warmed up (50 requests), and its resident memory read;
//! 3. `--requests` requests from `--concurrency` clients at once (one keep-alive connection
//!    each); latency per request (upload to the last byte of the PNG), errors (anything but a
//!    200 PNG), throughput;
//! 4. the server's resident memory again, then the engine rate again (the machine is shared:
//!    the higher of the two engine rates is the one the server is compared with);
//! 5. SIGTERM: the server must exit 0.

mod common;

#[path = "../tests/support/server.rs"]
mod support;

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use reqwest::blocking::Client;
use reqwest::blocking::multipart::{Form, Part};
use serde_json::json;
use sketch2face::engine::{Device, Engine, EngineOptions};
use sketch2face::sketch::load_sketch_file;
use support::ServerProcess;

const SKETCH: &str = "assets/sketches/face_oval_short_hair.png";
const WARM_UP_REQUESTS: usize = 50;
/// How long the engine's single-stream rate is measured each time.
const ENGINE_STREAM: Duration = Duration::from_secs(5);
const PNG_SIGNATURE: &[u8] = b"\x89PNG\r\n\x1a\n";
/// Longest wait for the server to start and to stop.
const PATIENCE: Duration = Duration::from_secs(60);

fn main() -> ExitCode {
    common::exit_code(run())
}

fn run() -> anyhow::Result<()> {
    let requests: usize = common::arg_or("requests", 2000);
    let concurrency: usize = common::arg_or("concurrency", 16);
    let model = common::arg("model")
        .map(PathBuf::from)
        .unwrap_or_else(|| common::project_path("models/sketch2face.onnx"));
    let out = common::arg("out").map(PathBuf::from);
    let sketch_path = common::project_path(SKETCH);
    let sketch_file = std::fs::read(&sketch_path)
        .with_context(|| format!("cannot read {}", sketch_path.display()))?;

    let engine_before = engine_faces_per_second(&model, &sketch_path)?;
    println!("engine, single stream: {engine_before:.1} faces/s");

    let mut server_args = vec![];
    for name in ["workers", "threads"] {
        if let Some(value) = common::arg(name) {
            server_args.extend([format!("--{name}"), value]);
        }
    }
    let server_args: Vec<&str> = server_args.iter().map(String::as_str).collect();
    let mut server = ServerProcess::start(&model, &server_args, PATIENCE, |_| {})?;
    let client = Client::builder()
        .timeout(Duration::from_secs(60))
        .pool_max_idle_per_host(concurrency)
        .build()?;
    let url = server.url("/gen");
    let info: serde_json::Value = client.get(server.url("/info")).send()?.json()?;
    let rss_idle_mb = server.rss_mb()?;
    let warm_up = load(&client, &url, &sketch_file, WARM_UP_REQUESTS, concurrency);
    if warm_up.errors > 0 {
        bail!(
            "{} of the warm-up requests failed: {:?}",
            warm_up.errors,
            warm_up.first_error
        );
    }
    let rss_before_mb = server.rss_mb()?;

    println!("{requests} requests, {concurrency} at a time ...");
    let run = load(&client, &url, &sketch_file, requests, concurrency);
    let rss_after_mb = server.rss_mb()?;
    let engine_after = engine_faces_per_second(&model, &sketch_path)?;
    println!("engine, single stream: {engine_after:.1} faces/s (after)");
    server.send_sigterm()?;
    let exit = server.wait(PATIENCE)?.code();

    let throughput = requests as f64 / run.wall.as_secs_f64();
    let engine_rate = engine_before.max(engine_after);
    let ratio = throughput / engine_rate;
    let growth_pct = (rss_after_mb / rss_before_mb - 1.0) * 100.0;
    let p = |q| common::round3(common::percentile(&run.latencies_ms, q));
    println!(
        "latency p50 {} ms, p99 {} ms; {throughput:.1} requests/s ({:.0} % of the engine's \
         {engine_rate:.1} faces/s); {} errors",
        p(50.0),
        p(99.0),
        ratio * 100.0,
        run.errors,
    );
    println!(
        "server memory: {rss_idle_mb:.1} MB idle, {rss_before_mb:.1} MB after the warm-up, \
         {rss_after_mb:.1} MB after the run ({growth_pct:+.1} %); exit status {exit:?}"
    );
    if let Some(error) = &run.first_error {
        println!("first error: {error}");
    }
    let result = json!({
        "requests": requests,
        "concurrency": concurrency,
        "sketch": SKETCH,
        "server": {
            "sessions": info["sessions"],
            "threads_per_session": info["threads_per_session"],
            "provider": info["provider"],
        },
        "errors": run.errors,
        "first_error": run.first_error,
        "wall_s": common::round3(run.wall.as_secs_f64()),
        "throughput_rps": common::round3(throughput),
        "latency_ms": { "p50": p(50.0), "p90": p(90.0), "p99": p(99.0), "max": p(100.0) },
        "engine_faces_per_s": {
            "before": common::round3(engine_before),
            "after": common::round3(engine_after),
        },
        "throughput_vs_engine": common::round3(ratio),
        "rss_mb": {
            "idle": common::round3(rss_idle_mb),
            "before": common::round3(rss_before_mb),
            "after": common::round3(rss_after_mb),
            "growth_pct": common::round3(growth_pct),
        },
        "exit_code": exit,
    });
    if let Some(out) = out {
        common::write_json(&out, &result);
    }
    Ok(())
}

/// Faces per second of `Engine::generate` in a loop on one thread, after a warm-up.
fn engine_faces_per_second(model: &Path, sketch: &Path) -> anyhow::Result<f64> {
    let options = EngineOptions {
        device: Device::Cpu,
        ..EngineOptions::default()
    };
    let mut engine = Engine::load(model, &options)?;
    let sketch = load_sketch_file(sketch)?;
    for _ in 0..10 {
        engine.generate(&sketch)?;
    }
    let started = Instant::now();
    let mut faces = 0;
    while started.elapsed() < ENGINE_STREAM {
        std::hint::black_box(engine.generate(&sketch)?);
        faces += 1;
    }
    Ok(f64::from(faces) / started.elapsed().as_secs_f64())
}

struct LoadRun {
    latencies_ms: Vec<f64>,
    errors: usize,
    first_error: Option<String>,
    wall: Duration,
}

/// `requests` posts of the sketch from `concurrency` threads sharing one client.
fn load(client: &Client, url: &str, sketch: &[u8], requests: usize, concurrency: usize) -> LoadRun {
    let next = AtomicUsize::new(0);
    let started = Instant::now();
    let results: Vec<(f64, Result<(), String>)> = std::thread::scope(|scope| {
        let workers: Vec<_> = (0..concurrency)
            .map(|_| {
                scope.spawn(|| {
                    let mut results = Vec::new();
                    while next.fetch_add(1, Ordering::Relaxed) < requests {
                        let sent = Instant::now();
                        let outcome = post(client, url, sketch);
                        results.push((common::ms(sent.elapsed()), outcome));
                    }
                    results
                })
            })
            .collect();
        workers
            .into_iter()
            .flat_map(|worker| worker.join().expect("a client thread panicked"))
            .collect()
    });
    let wall = started.elapsed();
    let first_error = results
        .iter()
        .find_map(|(_, outcome)| outcome.clone().err());
    LoadRun {
        errors: results
            .iter()
            .filter(|(_, outcome)| outcome.is_err())
            .count(),
        latencies_ms: results.into_iter().map(|(ms, _)| ms).collect(),
        first_error,
        wall,
    }
}

/// One `POST /gen`; an error unless the answer is a 200 PNG.
fn post(client: &Client, url: &str, sketch: &[u8]) -> Result<(), String> {
    let form = Form::new().part("file", Part::bytes(sketch.to_vec()).file_name("sketch.png"));
    let response = client
        .post(url)
        .multipart(form)
        .send()
        .map_err(|e| e.to_string())?;
    let status = response.status();
    let body = response.bytes().map_err(|e| e.to_string())?;
    if status != reqwest::StatusCode::OK || !body.starts_with(PNG_SIGNATURE) {
        return Err(format!(
            "{status}: {}",
            String::from_utf8_lossy(&body[..body.len().min(200)])
        ));
    }
    Ok(())
}

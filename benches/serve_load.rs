//! A bounded load run against the real server: `sketch2face serve` (the release binary) on a
//! loopback port, and clients posting the example sketch to `/gen` as the 2017 clients did.
//!
//! ```text
//! cargo bench --bench serve_load -- [--requests 2000] [--concurrency 16] [--model PATH]
//!                                   [--levels 1,8,40] [--level-requests 400] [--burst 40]
//!                                   [--stalled 1000] [--stalled-bodies 200]
//!                                   [--workers N] [--threads N] [--faces generated|photographic]
//!                                   [--out target/bench/serve_load.json]
//! ```
//!
//! In order, in one run so all see the same machine:
//! 1. the engine's own single-stream rate: `Engine::generate` in a loop in this process (CPU,
//!    default threads) on the sketch `generate` would make of the same file, faces per second;
//! 2. the server is started with its defaults (the automatic queue), warmed up (50 requests),
//!    and its resident memory read;
//! 3. `--requests` requests from `--concurrency` clients at once (one keep-alive connection
//!    each); latency per request (upload to the last byte of the PNG), errors (anything but a
//!    200 PNG), throughput; then the server's resident memory;
//! 4. the same, `--level-requests` each, at every concurrency of `--levels`;
//! 5. a burst: `--burst` clients, each on a new connection, released at once; the statuses;
//! 6. a stall: `--stalled` connections that send half a request head and `--stalled-bodies`
//!    that send a head and half the announced body, then nothing; requests from one client are
//!    timed while they stall, and each stalled connection's close is timed (from when it was
//!    opened);
//! 7. the server's resident memory once more, then the engine rate again (the machine is shared:
//!    the higher of the two engine rates is the one the server is compared with);
//! 8. SIGTERM: the server must exit 0.

mod common;

#[path = "../tests/support/server.rs"]
mod support;

use std::collections::BTreeMap;
use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Barrier;
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
/// Longest a stalled connection is watched; one still open then counts as not closed.
const STALL_WATCH: Duration = Duration::from_secs(40);
/// Requests timed from one client while the connections stall.
const DURING_STALL_REQUESTS: usize = 20;

fn main() -> ExitCode {
    common::exit_code(run())
}

fn run() -> anyhow::Result<()> {
    let requests: usize = common::arg_or("requests", 2000);
    let concurrency: usize = common::arg_or("concurrency", 16);
    let levels: Vec<usize> = common::arg("levels")
        .unwrap_or_else(|| "1,8,40".to_owned())
        .split(',')
        .map(|level| level.trim().parse().context("--levels: a list like 1,8,40"))
        .collect::<anyhow::Result<_>>()?;
    let level_requests: usize = common::arg_or("level-requests", 400);
    let burst: usize = common::arg_or("burst", 40);
    let stalled: usize = common::arg_or("stalled", 1000);
    let stalled_bodies: usize = common::arg_or("stalled-bodies", 200);
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
    for name in ["workers", "threads", "faces"] {
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
    // Right after the main run, as before the levels, the burst and the stall were added, so
    // the growth figure stays comparable with earlier runs.
    let rss_after_mb = server.rss_mb()?;

    let mut level_results = Vec::new();
    for &level in &levels {
        let level_run = load(&client, &url, &sketch_file, level_requests, level);
        let p = |q| common::round3(common::percentile(&level_run.latencies_ms, q));
        let rate = level_requests as f64 / level_run.wall.as_secs_f64();
        println!(
            "{level} at a time: p50 {} ms, p95 {} ms, {rate:.1} requests/s, {} errors",
            p(50.0),
            p(95.0),
            level_run.errors
        );
        level_results.push(json!({
            "concurrency": level,
            "requests": level_requests,
            "errors": level_run.errors,
            "first_error": level_run.first_error,
            "throughput_rps": common::round3(rate),
            "latency_ms": { "p50": p(50.0), "p95": p(95.0), "p99": p(99.0), "max": p(100.0) },
        }));
    }

    let burst_statuses = burst_of(&url, &sketch_file, burst);
    println!("a burst of {burst} new connections: {burst_statuses:?}");

    println!("{stalled} connections with half a head and {stalled_bodies} with half a body ...");
    let stall = stall(
        &server,
        &client,
        &url,
        &sketch_file,
        stalled,
        stalled_bodies,
    )?;
    println!(
        "closed: {} of {stalled} heads, {} of {stalled_bodies} bodies (408: {}), the last after \
         {:.2} s; one client meanwhile: p50 {:.1} ms, {} errors",
        stall.heads_closed.len(),
        stall.bodies_closed.len(),
        stall.bodies_answered_408,
        stall.last_closed_s(),
        common::percentile(&stall.during.latencies_ms, 50.0),
        stall.during.errors,
    );
    let rss_end_mb = server.rss_mb()?;
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
        "latency p50 {} ms, p95 {} ms, p99 {} ms; {throughput:.1} requests/s ({:.0} % of the \
         engine's {engine_rate:.1} faces/s); {} errors",
        p(50.0),
        p(95.0),
        p(99.0),
        ratio * 100.0,
        run.errors,
    );
    println!(
        "server memory: {rss_idle_mb:.1} MB idle, {rss_before_mb:.1} MB after the warm-up, \
         {rss_after_mb:.1} MB after the run ({growth_pct:+.1} %), {rss_end_mb:.1} MB after the \
         stall; exit status {exit:?}"
    );
    if let Some(error) = &run.first_error {
        println!("first error: {error}");
    }
    let result = json!({
        "requests": requests,
        "concurrency": concurrency,
        "sketch": SKETCH,
        "server": {
            "faces": info["faces"]["painter"],
            "sessions": info["sessions"],
            "threads_per_session": info["threads_per_session"],
            "provider": info["provider"],
            "face_ms_at_start": info["face_ms_at_start"],
            "limits": info["limits"],
        },
        "errors": run.errors,
        "first_error": run.first_error,
        "wall_s": common::round3(run.wall.as_secs_f64()),
        "throughput_rps": common::round3(throughput),
        "latency_ms": {
            "p50": p(50.0), "p90": p(90.0), "p95": p(95.0), "p99": p(99.0), "max": p(100.0),
        },
        "levels": level_results,
        "burst": { "clients": burst, "statuses": burst_statuses },
        "stall": stall.to_json(stalled, stalled_bodies),
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
            "after_levels_burst_and_stall": common::round3(rss_end_mb),
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

/// `clients` posts of the sketch, each from a new client (a new connection), released at once
/// by a barrier; how many got each status (`error` for no answer).
fn burst_of(url: &str, sketch: &[u8], clients: usize) -> BTreeMap<String, usize> {
    let all_at_once = Barrier::new(clients);
    let statuses: Vec<String> = std::thread::scope(|scope| {
        let threads: Vec<_> = (0..clients)
            .map(|_| {
                scope.spawn(|| {
                    let client = Client::builder().timeout(PATIENCE).build();
                    all_at_once.wait();
                    let form = Form::new()
                        .part("file", Part::bytes(sketch.to_vec()).file_name("sketch.png"));
                    match client.and_then(|client| client.post(url).multipart(form).send()) {
                        Ok(response) => response.status().as_u16().to_string(),
                        Err(_) => "error".to_owned(),
                    }
                })
            })
            .collect();
        threads
            .into_iter()
            .map(|thread| thread.join().expect("a burst client panicked"))
            .collect()
    });
    let mut counts = BTreeMap::new();
    for status in statuses {
        *counts.entry(status).or_insert(0) += 1;
    }
    counts
}

struct Stall {
    /// Seconds from opening to the server's close, for each connection closed in time.
    heads_closed: Vec<f64>,
    bodies_closed: Vec<f64>,
    bodies_answered_408: usize,
    /// One client's requests while the connections stalled.
    during: LoadRun,
}

impl Stall {
    fn last_closed_s(&self) -> f64 {
        self.heads_closed
            .iter()
            .chain(&self.bodies_closed)
            .copied()
            .fold(0.0, f64::max)
    }

    fn to_json(&self, heads: usize, bodies: usize) -> serde_json::Value {
        let seconds = |closed: &[f64]| {
            json!({
                "p50": common::round3(common::percentile(closed, 50.0)),
                "max": common::round3(common::percentile(closed, 100.0)),
            })
        };
        let p = |q| common::round3(common::percentile(&self.during.latencies_ms, q));
        json!({
            "half_heads": heads,
            "half_heads_closed": self.heads_closed.len(),
            "half_heads_closed_after_s": seconds(&self.heads_closed),
            "half_bodies": bodies,
            "half_bodies_closed": self.bodies_closed.len(),
            "half_bodies_answered_408": self.bodies_answered_408,
            "half_bodies_closed_after_s": seconds(&self.bodies_closed),
            "watched_s": STALL_WATCH.as_secs(),
            "during": {
                "requests": DURING_STALL_REQUESTS,
                "errors": self.during.errors,
                "latency_ms": { "p50": p(50.0), "p95": p(95.0), "max": p(100.0) },
            },
        })
    }
}

/// Opens `heads` connections that send half a request head and `bodies` that send a whole
/// head and half the body it announces, then stop; times one client's requests meanwhile,
/// and how long after its opening each stalled connection is closed by the server.
fn stall(
    server: &ServerProcess,
    client: &Client,
    url: &str,
    sketch: &[u8],
    heads: usize,
    bodies: usize,
) -> anyhow::Result<Stall> {
    let address = server.address();
    let open = |index: usize, request: &[u8]| -> anyhow::Result<(Instant, TcpStream)> {
        let opened = Instant::now();
        let mut stream = TcpStream::connect(address)
            .with_context(|| format!("stalled connection {index}: cannot connect"))?;
        stream
            .write_all(request)
            .with_context(|| format!("stalled connection {index}: cannot send"))?;
        Ok((opened, stream))
    };
    let half_head = format!("POST /gen HTTP/1.1\r\nHost: {address}\r\nContent-Ty");
    let mut half_body = format!(
        "POST /gen HTTP/1.1\r\nHost: {address}\r\n\
         Content-Type: multipart/form-data; boundary=XYZ\r\nContent-Length: 20000\r\n\r\n\
         --XYZ\r\nContent-Disposition: form-data; name=\"file\"; filename=\"s.png\"\r\n\r\n"
    )
    .into_bytes();
    half_body.extend_from_slice(&[b'x'; 9000]);
    let head_streams = (0..heads)
        .map(|index| open(index, half_head.as_bytes()))
        .collect::<anyhow::Result<Vec<_>>>()?;
    let body_streams = (0..bodies)
        .map(|index| open(heads + index, &half_body))
        .collect::<anyhow::Result<Vec<_>>>()?;
    let during = load(client, url, sketch, DURING_STALL_REQUESTS, 1);

    let (heads_closed, bodies) = std::thread::scope(|scope| {
        let heads = scope.spawn(|| watch_closes(head_streams));
        let bodies = scope.spawn(|| watch_closes(body_streams));
        (
            heads.join().expect("a watcher panicked"),
            bodies.join().expect("a watcher panicked"),
        )
    });
    let bodies_answered_408 = bodies
        .iter()
        .filter(|(_, answer)| answer.starts_with(b"HTTP/1.1 408 "))
        .count();
    Ok(Stall {
        heads_closed: heads_closed.into_iter().map(|(closed, _)| closed).collect(),
        bodies_closed: bodies.into_iter().map(|(closed, _)| closed).collect(),
        bodies_answered_408,
        during,
    })
}

/// For each connection the server closes within [`STALL_WATCH`] of its opening: the seconds
/// it took and what was answered on it. Read one after the other: once the first closes the
/// rest are read as fast as they close.
fn watch_closes(streams: Vec<(Instant, TcpStream)>) -> Vec<(f64, Vec<u8>)> {
    let mut closed = Vec::new();
    'streams: for (opened, mut stream) in streams {
        let deadline = opened + STALL_WATCH;
        let mut answer = Vec::new();
        let mut buffer = [0u8; 4096];
        loop {
            let Some(left) = deadline.checked_duration_since(Instant::now()) else {
                continue 'streams;
            };
            if stream
                .set_read_timeout(Some(left.max(Duration::from_millis(1))))
                .is_err()
            {
                continue 'streams;
            }
            match stream.read(&mut buffer) {
                Ok(0) => break,
                Ok(read) => answer.extend_from_slice(&buffer[..read]),
                Err(error) if error.kind() == std::io::ErrorKind::ConnectionReset => break,
                Err(_) => continue 'streams, // still open at the deadline
            }
        }
        closed.push((opened.elapsed().as_secs_f64(), answer));
    }
    closed
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

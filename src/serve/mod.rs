//! `sketch2face serve`: the 2017 cgan-face-generator's HTTP API (`GET /` answers `Pong`,
//! `POST /gen` turns the multipart `file` into a face as PNG), plus `GET /info`. The faces are
//! the generator's, or with `--faces photographic` face pipeline v3's, where a `look` photo can
//! give the face.
//!
//! axum on tokio, as axum's own examples do it: handlers return `Result<_, ServeError>`, limits
//! and timeouts are tower-http layers, and the CPU work runs off the async threads, on a pool of
//! engine sessions with a bounded admission in front. Uploads are decoded in memory with the
//! sketch room's loader (the same cleanup and limits as `generate`); nothing is written to disk.
//! The connections are hyper's, with a header-read timeout (`connections`).

mod connections;
mod error;
mod pool;
mod request;
mod routes;

use std::net::SocketAddr;
use std::str::FromStr;
use std::time::Duration;

use anyhow::Context;
use axum::http::{HeaderValue, Method, header};
use clap::{Args, ValueEnum};
use serde_json::json;
use tower_http::cors::{AllowOrigin, CorsLayer};

use crate::cli::ModelArgs;
use crate::engine::{
    CONTRACT_KEY, EngineOptions, FACE_SIDE, HINTS_NAME, INPUT_NAME, OUTPUT_NAME,
    PHOTOGRAPHIC_BY_DEFAULT, PipelineModels, Z_NAME,
};
use crate::sketch::MAX_DIMENSION;
use pool::{EnginePool, PoolModel};
use request::MAX_SIZE;
use routes::{AppState, PAINTER_HEADER, PERSON_HEADER};

/// Largest request body: a sketch, its hints and the form around them.
pub const MAX_BODY_BYTES: usize = 16 * 1024 * 1024;

/// Most engine sessions `--workers 0` starts.
const MAX_AUTO_WORKERS: usize = 8;
/// Most threads inside one session when `--threads 0` splits the cores.
const MAX_AUTO_THREADS: usize = 4;
/// Most requests `--queue auto` lets wait: each holds its upload and decoded images (a 512 px
/// sketch about 0.5 MB, up to 16 MiB plus the images for the largest), so the cap bounds the
/// memory a burst of large uploads can take, where a fast model would allow thousands.
const MAX_AUTO_QUEUE: usize = 128;
/// Share of `--timeout` the last request in a full automatic queue may spend waiting for a
/// session; the rest is for its upload, decoding and encoding, and a machine slower than at
/// start.
const QUEUE_WAIT_SHARE: f64 = 0.5;
/// Longest a request body may go without sending a byte before it is answered 408 and its
/// connection closed (`--timeout` still bounds the whole request).
pub const BODY_IDLE_TIMEOUT: Duration = Duration::from_secs(5);

/// `sketch2face serve`
#[derive(Args, Clone, Debug)]
pub struct ServeArgs {
    /// Address and port to listen on (port 0: any free port; the bound address is printed)
    #[arg(long, default_value = "127.0.0.1:5000", value_name = "IP:PORT")]
    pub addr: SocketAddr,

    /// Engine sessions answering side by side (0: one per core, at most 8); --threads is then
    /// per session, and 0 there splits the cores between the sessions
    #[arg(long, default_value_t = 0, value_name = "N")]
    pub workers: usize,

    /// Requests that may wait for a free session; more are answered 503 with Retry-After.
    /// auto: as many as the sessions can answer within half of --timeout at the speed
    /// measured at start (at most 128); 0: none wait
    #[arg(long, default_value = "auto", value_name = "N|auto")]
    pub queue: QueueArg,

    /// Longest time one request may take, reading its upload included, in seconds; a client
    /// that stops sending its request's head or body is cut off after 5 s of silence
    #[arg(long, default_value_t = 30, value_name = "SECONDS",
          value_parser = clap::value_parser!(u64).range(1..=3600))]
    pub timeout: u64,

    /// What paints the faces: the generator (--model), or face pipeline v3 (the shipped mesh
    /// model, face bank, refine model and face detector: real faces warped onto the drawing,
    /// and the `look` form field), with the generator for sketches without a face yet
    #[arg(long, value_enum, default_value_t = Faces::default(), value_name = "FACES")]
    pub faces: Faces,

    /// Let web pages from ORIGIN (e.g. http://localhost:8080, or * for any) call the API;
    /// repeat for several. Without it browsers refuse cross-origin calls
    #[arg(long, value_name = "ORIGIN")]
    pub cors: Vec<String>,

    #[command(flatten)]
    pub model: ModelArgs,
}

/// `--faces`: the app's Faces switch, for the server.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum Faces {
    Generated,
    Photographic,
}

impl Default for Faces {
    /// As the app: generated faces until face pipeline v3 wins issue 25's rule.
    fn default() -> Faces {
        if PHOTOGRAPHIC_BY_DEFAULT {
            Faces::Photographic
        } else {
            Faces::Generated
        }
    }
}

/// `--queue`: a number of requests, or `auto`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum QueueArg {
    Auto,
    Requests(usize),
}

impl FromStr for QueueArg {
    type Err = String;

    fn from_str(text: &str) -> Result<QueueArg, String> {
        if text.eq_ignore_ascii_case("auto") {
            return Ok(QueueArg::Auto);
        }
        text.parse()
            .map(QueueArg::Requests)
            .map_err(|_| format!("`{text}` is neither a number of requests nor `auto`"))
    }
}

/// The automatic queue: as many requests as `sessions` answer in [`QUEUE_WAIT_SHARE`] of
/// `timeout` at `face_time` each, so the last one admitted still gets its face in time; at
/// least one per session, at most [`MAX_AUTO_QUEUE`].
pub fn auto_queue(sessions: usize, timeout: Duration, face_time: Duration) -> usize {
    // A face timed at under 0.1 ms is a clock artefact, not a speed to divide by.
    let face = face_time.as_secs_f64().max(1e-4);
    let per_session = (timeout.as_secs_f64() * QUEUE_WAIT_SHARE / face).floor();
    let waiting = (sessions as f64 * per_session).min(MAX_AUTO_QUEUE as f64) as usize;
    waiting.max(sessions)
}

/// What a client turned away with 503 is told to wait: the time the sessions take to work
/// through everything admitted, in whole seconds, 1 to `timeout`.
pub fn retry_after(
    capacity: usize,
    sessions: usize,
    face_time: Duration,
    timeout: Duration,
) -> u64 {
    let drain = face_time.as_secs_f64() * capacity as f64 / sessions.max(1) as f64;
    (drain.ceil() as u64).clamp(1, timeout.as_secs().max(1))
}

/// Engine sessions and threads inside each: values given are kept; 0 for the sessions is one per
/// core, 0 for the threads splits the cores between the sessions. Sessions of one thread serve
/// more faces per second than fewer sessions of more threads (on 2 cores, 2 x 1 answered 1.5x
/// the requests of 1 x 2: BENCHMARKS.md), at the cost of a model's memory per session.
pub fn pool_size(workers: usize, threads: usize, cores: usize) -> (usize, usize) {
    let cores = cores.max(1);
    let workers = match workers {
        0 => cores.min(MAX_AUTO_WORKERS),
        n => n,
    };
    let threads = match threads {
        0 => (cores / workers).clamp(1, MAX_AUTO_THREADS),
        n => n,
    };
    (workers, threads)
}

/// Loads the engine sessions, listens and answers until Ctrl+C or SIGTERM, then finishes the
/// requests in flight and returns.
pub fn serve(args: &ServeArgs) -> anyhow::Result<()> {
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    let (workers, threads) = pool_size(args.workers, args.model.threads, cores);
    let cors = cors_layer(&args.cors)?;
    let options = EngineOptions {
        intra_threads: threads,
        ..args.model.options()
    };
    let pipeline = (args.faces == Faces::Photographic).then(PipelineModels::shipped);
    let pool = EnginePool::start(
        &args.model.model_path(),
        pipeline.as_ref(),
        &options,
        workers,
    )?;
    let model = pool.model().clone();
    let timeout = Duration::from_secs(args.timeout);
    let queue = match args.queue {
        QueueArg::Auto => auto_queue(workers, timeout, model.face_time),
        QueueArg::Requests(queue) => queue,
    };
    let painter = match &pipeline {
        Some(models) => format!(
            "face pipeline v3 ({FACE_SIDE}x{FACE_SIDE}: {}, {}, {}, {}) with the generator {}",
            models.mesh.display(),
            models.bank.display(),
            models.refine.display(),
            models.detect.display(),
            model.info.path.display(),
        ),
        None => format!(
            "model {} ({}x{})",
            model.info.path.display(),
            model.info.resolution,
            model.info.resolution
        ),
    };
    eprintln!(
        "{painter} on {}: {} of {}, {:.1} ms a face; queue {queue}{}",
        model.provider,
        counted(workers, "session"),
        counted(threads, "thread"),
        model.face_time.as_secs_f64() * 1e3,
        if args.queue == QueueArg::Auto {
            " (auto)"
        } else {
            ""
        },
    );

    let capacity = workers + queue;
    let state = AppState::new(
        pool.handle(),
        capacity,
        retry_after(capacity, workers, model.face_time, timeout),
        model.photographic,
        info_json(&model, pipeline.as_ref(), args, workers, threads, queue),
    );
    let app = routes::router(state, timeout, cors);

    let runtime = tokio::runtime::Builder::new_multi_thread()
        // The async threads only move bytes; the blocking ones decode and encode, one per core
        // so uploads cannot crowd out the engine sessions.
        .worker_threads(cores.min(4))
        .max_blocking_threads(cores)
        .thread_name("sketch2face-serve")
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    let served = runtime.block_on(async {
        let listener = tokio::net::TcpListener::bind(args.addr)
            .await
            .with_context(|| format!("cannot listen on {}", args.addr))?;
        let bound = listener
            .local_addr()
            .context("cannot read the bound address")?;
        eprintln!("listening on http://{bound} (Ctrl+C to stop)");
        connections::serve(listener, app, shutdown_signal()).await;
        anyhow::Ok(())
    });
    // Waits for decoding or encoding still running for requests that gave up.
    drop(runtime);
    pool.join();
    served?;
    eprintln!("stopped");
    Ok(())
}

/// `1 session`, `2 sessions`.
fn counted(count: usize, noun: &str) -> String {
    let plural = if count == 1 { "" } else { "s" };
    format!("{count} {noun}{plural}")
}

/// Resolves on Ctrl+C or SIGTERM. The server then stops accepting connections and waits for
/// the requests in flight.
async fn shutdown_signal() {
    let ctrl_c = async {
        if tokio::signal::ctrl_c().await.is_err() {
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let terminate = async {
        use tokio::signal::unix::{SignalKind, signal};
        match signal(SignalKind::terminate()) {
            Ok(mut terminate) => {
                terminate.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    let name = tokio::select! {
        () = ctrl_c => "Ctrl+C",
        () = terminate => "SIGTERM",
    };
    eprintln!("{name}: finishing the requests in flight");
}

/// CORS for the `--cors` origins; `None` (browsers refuse cross-origin calls) without any.
fn cors_layer(origins: &[String]) -> anyhow::Result<Option<CorsLayer>> {
    if origins.is_empty() {
        return Ok(None);
    }
    let allow_origin = if origins.iter().any(|origin| origin == "*") {
        AllowOrigin::any()
    } else {
        let values = origins
            .iter()
            .map(|origin| {
                HeaderValue::from_str(origin)
                    .with_context(|| format!("--cors {origin}: not a valid origin"))
            })
            .collect::<anyhow::Result<Vec<_>>>()?;
        AllowOrigin::list(values)
    };
    Ok(Some(
        CorsLayer::new()
            .allow_origin(allow_origin)
            .allow_methods([Method::GET, Method::POST])
            .allow_headers([header::CONTENT_TYPE])
            .expose_headers([
                header::HeaderName::from_static(PAINTER_HEADER),
                header::HeaderName::from_static(PERSON_HEADER),
            ]),
    ))
}

/// The body of `GET /info`: the program, the model (its file name, not where it lies on the
/// server), its inputs and outputs, where it runs and the server's limits.
fn info_json(
    model: &PoolModel,
    pipeline: Option<&PipelineModels>,
    args: &ServeArgs,
    workers: usize,
    threads: usize,
    queue: usize,
) -> serde_json::Value {
    let info = &model.info;
    let side = info.resolution;
    // What the model takes; `POST /gen` fills `hints` from its `hints` part and `z` from `seed`.
    let mut inputs = vec![
        json!({ "name": INPUT_NAME, "type": "f32", "shape": [1, 1, side, side], "range": [-1.0, 1.0] }),
    ];
    if info.takes_hints {
        inputs.push(json!({ "name": HINTS_NAME, "type": "f32", "shape": [1, 4, side, side], "from": "hints" }));
    }
    if info.z_dim > 0 {
        inputs.push(
            json!({ "name": Z_NAME, "type": "f32", "shape": [1, info.z_dim], "from": "seed" }),
        );
    }
    let file_name = |path: &std::path::Path| {
        path.file_name()
            .map(|name| name.to_string_lossy().into_owned())
    };
    let file = file_name(&info.path);
    let faces = match pipeline {
        Some(models) => json!({
            "painter": "photographic",
            "side": FACE_SIDE,
            "pipeline": {
                "mesh": file_name(&models.mesh),
                "bank": file_name(&models.bank),
                "refine": file_name(&models.refine),
                "detect": file_name(&models.detect),
            },
            "look": true,
        }),
        None => json!({ "painter": "generated", "side": side, "look": false }),
    };
    json!({
        "program": { "name": env!("CARGO_PKG_NAME"), "version": env!("CARGO_PKG_VERSION") },
        "model": {
            "file": file,
            "contract": info.metadata.get(CONTRACT_KEY),
            "resolution": side,
            "metadata": info.metadata,
        },
        "inputs": inputs,
        "outputs": [
            { "name": OUTPUT_NAME, "type": "f32", "shape": [1, 3, side, side], "range": [-1.0, 1.0] },
        ],
        "faces": faces,
        "provider": model.provider.to_string(),
        "cuda_error": model.cuda_error.as_deref().and_then(|reason| reason.lines().next()),
        "sessions": workers,
        "threads_per_session": threads,
        "face_ms_at_start": (model.face_time.as_secs_f64() * 1e4).round() / 10.0,
        "limits": {
            "max_body_bytes": MAX_BODY_BYTES,
            "max_image_side": MAX_DIMENSION,
            "max_size": MAX_SIZE,
            "queue": queue,
            "queue_auto": args.queue == QueueArg::Auto,
            "timeout_s": args.timeout,
            "header_timeout_s": connections::HEADER_TIMEOUT.as_secs(),
            "body_idle_timeout_s": BODY_IDLE_TIMEOUT.as_secs(),
        },
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn automatic_pool_size_gives_each_core_a_session_then_threads() {
        // (cores, sessions, threads per session)
        for (cores, workers, threads) in [(1, 1, 1), (2, 2, 1), (3, 3, 1), (16, 8, 2), (64, 8, 4)] {
            assert_eq!(pool_size(0, 0, cores), (workers, threads), "{cores} cores");
        }
    }

    #[test]
    fn given_sessions_split_the_cores_and_given_threads_are_kept() {
        // (--workers, --threads, cores) -> (sessions, threads per session)
        let cases = [
            ((2, 0, 2), (2, 1)),
            ((3, 0, 12), (3, 4)),
            ((4, 0, 2), (4, 1)),
            ((2, 3, 2), (2, 3)),
            ((0, 2, 8), (8, 2)),
        ];
        for ((workers, threads, cores), expected) in cases {
            assert_eq!(
                pool_size(workers, threads, cores),
                expected,
                "{workers} {threads} {cores}"
            );
        }
    }

    #[test]
    fn the_automatic_queue_holds_what_the_sessions_answer_in_half_the_timeout() {
        let ms = Duration::from_millis;
        let timeout = Duration::from_secs(30);
        // 2 sessions at 100 ms a face answer 150 requests each in 15 s: capped.
        assert_eq!(auto_queue(2, timeout, ms(100)), MAX_AUTO_QUEUE);
        // 2 sessions at 1 s: 15 each.
        assert_eq!(auto_queue(2, timeout, ms(1000)), 30);
        // A face slower than half the timeout still leaves one place per session.
        assert_eq!(auto_queue(3, timeout, ms(20_000)), 3);
        assert_eq!(auto_queue(1, Duration::from_secs(1), ms(250)), 2);
        // A clock that reads zero does not divide by zero.
        assert_eq!(auto_queue(2, timeout, Duration::ZERO), MAX_AUTO_QUEUE);
        // More sessions than the cap still get one place each.
        assert_eq!(auto_queue(200, timeout, ms(10)), 200);
    }

    #[test]
    fn retry_after_is_the_time_to_work_through_the_admitted_requests() {
        let timeout = Duration::from_secs(30);
        assert_eq!(retry_after(130, 2, Duration::from_millis(10), timeout), 1);
        assert_eq!(retry_after(130, 2, Duration::from_millis(50), timeout), 4);
        assert_eq!(retry_after(130, 2, Duration::from_secs(2), timeout), 30);
    }

    #[test]
    fn queue_is_a_number_or_auto() {
        assert_eq!("auto".parse(), Ok(QueueArg::Auto));
        assert_eq!("AUTO".parse(), Ok(QueueArg::Auto));
        assert_eq!("0".parse(), Ok(QueueArg::Requests(0)));
        assert_eq!("40".parse(), Ok(QueueArg::Requests(40)));
        let error = "-1".parse::<QueueArg>().unwrap_err();
        assert!(error.contains("`-1`"), "{error}");
    }

    #[test]
    fn cors_is_off_without_origins_and_refuses_bad_ones() {
        assert!(cors_layer(&[]).unwrap().is_none());
        assert!(
            cors_layer(&["http://localhost:8080".to_owned()])
                .unwrap()
                .is_some()
        );
        let error = cors_layer(&["http://bad\norigin".to_owned()]).unwrap_err();
        assert!(
            format!("{error:#}").contains("not a valid origin"),
            "{error:#}"
        );
    }
}

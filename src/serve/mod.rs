//! `sketch2face serve`: the 2017 cgan-face-generator's HTTP API (`GET /` answers `Pong`,
//! `POST /gen` turns the multipart `file` into a face as PNG), plus `GET /info`.
//!
//! axum on tokio, as axum's own examples do it: handlers return `Result<_, ServeError>`, limits
//! and timeouts are tower-http layers, and the CPU work runs off the async threads, on a pool of
//! engine sessions with a bounded admission in front. Uploads are decoded in memory with the
//! sketch room's loader (the same cleanup and limits as `generate`); nothing is written to disk.

mod error;
mod pool;
mod request;
mod routes;

use std::net::SocketAddr;
use std::time::Duration;

use anyhow::Context;
use axum::http::{HeaderValue, Method, header};
use clap::Args;
use serde_json::json;
use tower_http::cors::{AllowOrigin, CorsLayer};

use crate::cli::ModelArgs;
use crate::engine::{CONTRACT_KEY, EngineOptions, HINTS_NAME, INPUT_NAME, OUTPUT_NAME, Z_NAME};
use crate::sketch::MAX_DIMENSION;
use pool::{EnginePool, PoolModel};
use request::MAX_SIZE;
use routes::AppState;

/// Largest request body: a sketch, its hints and the form around them.
pub const MAX_BODY_BYTES: usize = 16 * 1024 * 1024;

/// Most engine sessions `--workers 0` starts.
const MAX_AUTO_WORKERS: usize = 8;
/// Most threads inside one session when `--threads 0` splits the cores.
const MAX_AUTO_THREADS: usize = 4;

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

    /// Requests that may wait for a free session; more are answered 503 with Retry-After
    #[arg(long, default_value_t = 32, value_name = "N")]
    pub queue: usize,

    /// Longest time one request may take, reading its upload included, in seconds
    #[arg(long, default_value_t = 30, value_name = "SECONDS",
          value_parser = clap::value_parser!(u64).range(1..=3600))]
    pub timeout: u64,

    /// Let web pages from ORIGIN (e.g. http://localhost:8080, or * for any) call the API;
    /// repeat for several. Without it browsers refuse cross-origin calls
    #[arg(long, value_name = "ORIGIN")]
    pub cors: Vec<String>,

    #[command(flatten)]
    pub model: ModelArgs,
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
    let pool = EnginePool::start(&args.model.model_path(), &options, workers)?;
    let model = pool.model().clone();
    eprintln!(
        "model {} ({}x{}) on {}: {} of {}",
        model.info.path.display(),
        model.info.resolution,
        model.info.resolution,
        model.provider,
        counted(workers, "session"),
        counted(threads, "thread"),
    );

    let capacity = workers + args.queue;
    let state = AppState::new(
        pool.handle(),
        capacity,
        info_json(&model, args, workers, threads),
    );
    let timeout = Duration::from_secs(args.timeout);
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
        axum::serve(listener, app)
            .with_graceful_shutdown(shutdown_signal())
            .await
            .context("the server failed")
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

/// Resolves on Ctrl+C or SIGTERM. axum then stops accepting connections and waits for the
/// requests in flight.
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
            .allow_headers([header::CONTENT_TYPE]),
    ))
}

/// The body of `GET /info`: the program, the model (its file name, not where it lies on the
/// server), its inputs and outputs, where it runs and the server's limits.
fn info_json(
    model: &PoolModel,
    args: &ServeArgs,
    workers: usize,
    threads: usize,
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
        inputs.push(json!({ "name": Z_NAME, "type": "f32", "shape": [1, info.z_dim], "from": "seed" }));
    }
    let file = info
        .path
        .file_name()
        .map(|name| name.to_string_lossy().into_owned());
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
        "provider": model.provider.to_string(),
        "cuda_error": model.cuda_error.as_deref().and_then(|reason| reason.lines().next()),
        "sessions": workers,
        "threads_per_session": threads,
        "limits": {
            "max_body_bytes": MAX_BODY_BYTES,
            "max_image_side": MAX_DIMENSION,
            "max_size": MAX_SIZE,
            "queue": args.queue,
            "timeout_s": args.timeout,
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

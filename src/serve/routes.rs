//! The routes (`GET /`, `POST /gen`, `GET /info`) and the layers around them: the log line,
//! JSON error bodies, CORS, the timeouts and the body limit.

use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::Json;
use axum::Router;
use axum::body::{Body, to_bytes};
use axum::extract::multipart::MultipartRejection;
use axum::extract::{DefaultBodyLimit, Multipart, Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use image::codecs::png::{CompressionType, FilterType, PngEncoder};
use image::{ImageEncoder, RgbImage};
use tokio::sync::Semaphore;
use tower_http::cors::CorsLayer;
use tower_http::limit::RequestBodyLimitLayer;
use tower_http::timeout::{RequestBodyTimeoutLayer, TimeoutLayer};

use super::error::{ServeError, error_response, too_large_message};
use super::pool::PoolHandle;
use super::request::GenRequest;
use super::{BODY_IDLE_TIMEOUT, MAX_BODY_BYTES};
use crate::engine::{self, Painter};
use crate::panic_message;

/// What the handlers share.
#[derive(Clone)]
pub struct AppState(Arc<Shared>);

struct Shared {
    pool: PoolHandle,
    /// One permit per request being worked on (decoding, waiting for or in the model,
    /// encoding); when none is left the server answers 503.
    admission: Arc<Semaphore>,
    capacity: usize,
    /// Seconds a client turned away is told to wait.
    retry_after: u64,
    /// Whether the sessions have face pipeline v3, which a `look` photo needs.
    photographic: bool,
    /// The body of `GET /info`, made once.
    info: serde_json::Value,
}

impl AppState {
    /// `capacity` requests may be worked on at once: the engine sessions' and the queue's.
    pub fn new(
        pool: PoolHandle,
        capacity: usize,
        retry_after: u64,
        photographic: bool,
        info: serde_json::Value,
    ) -> AppState {
        AppState(Arc::new(Shared {
            pool,
            admission: Arc::new(Semaphore::new(capacity)),
            capacity,
            retry_after,
            photographic,
            info,
        }))
    }
}

/// Which network painted the face: `pipeline` (face pipeline v3) or `generator`. A request
/// with a look photo whose sketch has no face yet gets the generator's face, and says so here.
pub const PAINTER_HEADER: &str = "sketch2face-painter";
/// The face bank's person the pipeline warped (absent for the generator and the look photo).
pub const PERSON_HEADER: &str = "sketch2face-person";

/// The whole API with its layers; `cors` is `None` unless `--cors` was given.
pub fn router(state: AppState, timeout: Duration, cors: Option<CorsLayer>) -> Router {
    let mut router = Router::new()
        .route("/", get(pong))
        .route("/gen", post(generate))
        .route("/info", get(info))
        .with_state(state)
        // One limit, tower-http's, for every route (axum's own 2 MB one would hit first).
        .layer(DefaultBodyLimit::disable())
        .layer(RequestBodyLimitLayer::new(MAX_BODY_BYTES))
        // Reset by every piece of the body that arrives, so only a client that stops sending
        // is cut off (408, ServeError::BodyStalled), long before `timeout` runs out; hyper then
        // closes the connection, since the body was not read to its end.
        .layer(RequestBodyTimeoutLayer::new(BODY_IDLE_TIMEOUT))
        // The timeout covers reading the body too, so a slow client cannot hold a request open.
        .layer(TimeoutLayer::with_status_code(
            StatusCode::REQUEST_TIMEOUT,
            timeout,
        ));
    if let Some(cors) = cors {
        router = router.layer(cors);
    }
    router
        .layer(middleware::map_response_with_state(
            timeout,
            json_error_bodies,
        ))
        .layer(middleware::from_fn(log_request))
}

/// The 2017 server's health check.
async fn pong() -> &'static str {
    "Pong"
}

async fn info(State(state): State<AppState>) -> Json<serde_json::Value> {
    Json(state.0.info.clone())
}

/// `POST /gen`: the form's sketch to a face, as PNG. Every CPU step (decoding, the model,
/// upscaling, encoding) runs off the async threads, and the request's admission permit goes
/// with it through each, so a request that times out still counts until its work is done.
async fn generate(
    State(state): State<AppState>,
    form: Result<Option<Multipart>, MultipartRejection>,
) -> Result<Response, ServeError> {
    // Like the 2017 server, a request that is no form at all has no `file` either.
    let request = GenRequest::read(form?.ok_or(ServeError::MissingFile)?).await?;
    if request.look.is_some() && !state.0.photographic {
        return Err(ServeError::LookNeedsPhotographic);
    }
    let permit = state
        .0
        .admission
        .clone()
        .try_acquire_owned()
        .map_err(|_| ServeError::Busy {
            capacity: state.0.capacity,
            retry_after: state.0.retry_after,
        })?;
    let size = request.size;
    let (input, permit) = off_async_threads(move || (request.decode(), permit)).await?;
    let (painted, permit) = state.0.pool.generate(input?, permit).await?;
    let (painter, person) = (painted.painter, painted.person);
    let png = off_async_threads(move || {
        let _admitted = permit;
        match size {
            Some(size) => encode_png(&engine::upscale(&painted.face, size)),
            None => encode_png(&painted.face),
        }
    })
    .await??;
    let mut response = (
        [
            (header::CONTENT_TYPE, "image/png"),
            (header::CACHE_CONTROL, "no-store"),
        ],
        png,
    )
        .into_response();
    let headers = response.headers_mut();
    let painter = match painter {
        Painter::Pipeline => "pipeline",
        Painter::Generator => "generator",
    };
    headers.insert(PAINTER_HEADER, HeaderValue::from_static(painter));
    if let Some(person) = person {
        headers.insert(PERSON_HEADER, HeaderValue::from(person));
    }
    Ok(response)
}

async fn off_async_threads<T: Send + 'static>(
    work: impl FnOnce() -> T + Send + 'static,
) -> Result<T, ServeError> {
    tokio::task::spawn_blocking(work).await.map_err(|error| {
        ServeError::Internal(match error.try_into_panic() {
            Ok(panic) => format!("a request crashed: {}", panic_message(panic.as_ref())),
            Err(error) => format!("a request was cancelled: {error}"),
        })
    })
}

fn encode_png(face: &RgbImage) -> Result<Vec<u8>, ServeError> {
    let mut png = Vec::new();
    // Fast compression: a server's faces are sent once; the CPU is the scarce part.
    PngEncoder::new_with_quality(&mut png, CompressionType::Fast, FilterType::Adaptive)
        .write_image(
            face.as_raw(),
            face.width(),
            face.height(),
            image::ExtendedColorType::Rgb8,
        )
        .map_err(|error| ServeError::Internal(format!("cannot encode the face as PNG: {error}")))?;
    Ok(png)
}

/// Gives every error answer a JSON body `{"error": ...}`, also those made by the layers
/// (413 from the body limit, 408 from the timeout) and by axum (404, 405).
async fn json_error_bodies(State(timeout): State<Duration>, response: Response) -> Response {
    let status = response.status();
    let is_json = response
        .headers()
        .get(header::CONTENT_TYPE)
        .is_some_and(|value| value.as_bytes().starts_with(b"application/json"));
    if !(status.is_client_error() || status.is_server_error()) || is_json {
        return response;
    }
    let (mut parts, body) = response.into_parts();
    let message = match status {
        StatusCode::PAYLOAD_TOO_LARGE => too_large_message(),
        StatusCode::REQUEST_TIMEOUT => {
            format!("the request took longer than {} s", timeout.as_secs())
        }
        _ => {
            let text = to_bytes(body, 64 * 1024)
                .await
                .map(|bytes| String::from_utf8_lossy(&bytes).trim().to_owned())
                .unwrap_or_default();
            if text.is_empty() {
                status.canonical_reason().unwrap_or("error").to_owned()
            } else {
                text
            }
        }
    };
    let json = error_response(status, message);
    parts.headers.remove(header::CONTENT_LENGTH);
    parts.headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    Response::from_parts(parts, Body::new(json.into_body()))
}

/// One line per request on stderr: method, path (without the query), status, milliseconds.
async fn log_request(request: Request, next: Next) -> Response {
    let mut line = LogLine {
        method: request.method().to_string(),
        path: request.uri().path().to_owned(),
        started: Instant::now(),
        status: None,
    };
    let response = next.run(request).await;
    line.status = Some(response.status().as_u16());
    response
}

/// Written when the request ends, answered or not: a request dropped before its answer (the
/// connection closed) still gets its line, with `-` for the status.
struct LogLine {
    method: String,
    path: String,
    started: Instant,
    status: Option<u16>,
}

impl Drop for LogLine {
    fn drop(&mut self) {
        let status = self
            .status
            .map_or_else(|| "-".to_owned(), |status| status.to_string());
        eprintln!(
            "{} {} {status} {} ms",
            self.method,
            self.path,
            self.started.elapsed().as_millis()
        );
    }
}

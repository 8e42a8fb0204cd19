//! What a request can go wrong with, and the HTTP answer for each: a status and a JSON body
//! `{"error": "..."}`, the shape the 2017 server used.

use std::error::Error;

use axum::Json;
use axum::extract::multipart::{MultipartError, MultipartRejection};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use tower_http::timeout::TimeoutError;

use super::{BODY_IDLE_TIMEOUT, MAX_BODY_BYTES};
use crate::error_chain;
use crate::sketch::SketchFileError;

/// The extensions the 2017 server accepted for `file` (any case here).
pub const ALLOWED_EXTENSIONS: [&str; 3] = ["jpg", "jpeg", "png"];

#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    /// The 2017 server's exact message.
    #[error("file form-data not existed")]
    MissingFile,
    /// The 2017 server's message, with the extensions in a stable order.
    #[error("Only supported jpg, jpeg, png")]
    UnsupportedExtension,
    #[error("form field `{field}` {reason}")]
    BadField { field: &'static str, reason: String },
    /// The `look` photo decoded, but its face cannot be the look (none, several, too small).
    #[error("the `look` photo cannot be the look: {0}")]
    BadLook(String),
    /// A `look` for a server that paints generated faces.
    #[error(
        "the `look` photo needs photographic faces (face pipeline v3), and this server paints generated ones; start it with --faces photographic"
    )]
    LookNeedsPhotographic,
    #[error("the `{field}` part is not a usable image")]
    BadImage {
        field: &'static str,
        #[source]
        source: SketchFileError,
    },
    #[error("{}", multipart_message(.0))]
    Multipart(MultipartError),
    /// The body stopped arriving for longer than [`BODY_IDLE_TIMEOUT`].
    #[error("the upload stopped: nothing came for {} s", BODY_IDLE_TIMEOUT.as_secs())]
    BodyStalled,
    #[error("{}", .0.body_text())]
    MultipartRejection(#[from] MultipartRejection),
    #[error(
        "the server is busy: {capacity} requests are already in progress or waiting; retry in a moment"
    )]
    Busy { capacity: usize, retry_after: u64 },
    /// The model or the server itself failed; the details go to the log, not to the client.
    #[error("{0}")]
    Internal(String),
}

impl ServeError {
    pub fn status(&self) -> StatusCode {
        match self {
            Self::MissingFile => StatusCode::PRECONDITION_FAILED,
            Self::UnsupportedExtension => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            Self::BadField { .. }
            | Self::BadImage { .. }
            | Self::BadLook(_)
            | Self::LookNeedsPhotographic => StatusCode::BAD_REQUEST,
            Self::BodyStalled => StatusCode::REQUEST_TIMEOUT,
            Self::Multipart(error) => error.status(),
            Self::MultipartRejection(rejection) => rejection.status(),
            Self::Busy { .. } => StatusCode::SERVICE_UNAVAILABLE,
            Self::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }
}

impl From<MultipartError> for ServeError {
    /// The body timeout's error reaches the form as a failed read; it is the client's silence,
    /// not a broken form.
    fn from(error: MultipartError) -> ServeError {
        let mut cause: Option<&(dyn Error + 'static)> = Some(&error);
        while let Some(error) = cause {
            if error.is::<TimeoutError>() {
                return ServeError::BodyStalled;
            }
            cause = error.source();
        }
        ServeError::Multipart(error)
    }
}

impl IntoResponse for ServeError {
    fn into_response(self) -> Response {
        let status = self.status();
        let message = match &self {
            Self::Internal(details) => {
                eprintln!("error: {details}");
                "the server could not make a face; the details are in its log".to_owned()
            }
            other => error_chain(other),
        };
        let mut response = error_response(status, message);
        if let Self::Busy { retry_after, .. } = self {
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(retry_after));
        }
        response
    }
}

/// What a client is told when its request is over [`MAX_BODY_BYTES`].
pub fn too_large_message() -> String {
    format!(
        "the request is larger than the limit of {MAX_BODY_BYTES} bytes ({} MiB)",
        MAX_BODY_BYTES / (1024 * 1024)
    )
}

fn multipart_message(error: &MultipartError) -> String {
    if error.status() == StatusCode::PAYLOAD_TOO_LARGE {
        too_large_message()
    } else {
        error.body_text()
    }
}

/// `status` with the body `{"error": message}`.
pub fn error_response(status: StatusCode, message: String) -> Response {
    (status, Json(serde_json::json!({ "error": message }))).into_response()
}

/// Whether the 2017 server would have taken a file of this name: an allowed extension after
/// the last dot.
pub fn has_allowed_extension(file_name: &str) -> bool {
    file_name.rsplit_once('.').is_some_and(|(_, extension)| {
        ALLOWED_EXTENSIONS
            .iter()
            .any(|allowed| extension.eq_ignore_ascii_case(allowed))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_2017_extensions_are_allowed_in_any_case() {
        for name in ["sketch.png", "a.b.JPG", "scan.Jpeg"] {
            assert!(has_allowed_extension(name), "{name}");
        }
        for name in ["sketch.gif", "png", "sketch.png.exe", "sketch.", ""] {
            assert!(!has_allowed_extension(name), "{name}");
        }
    }

    #[test]
    fn the_queue_being_full_says_when_to_retry() {
        let response = ServeError::Busy {
            capacity: 3,
            retry_after: 7,
        }
        .into_response();
        assert_eq!(response.status(), StatusCode::SERVICE_UNAVAILABLE);
        assert_eq!(response.headers()[header::RETRY_AFTER], "7");
    }
}

//! sketch2face: draw a face, and a pix2pix generator paints a photo-like face beside it, live.
//!
//! The rooms, with their dependencies pointing one way (`app` -> `worker` -> `engine`; `app` and
//! `cli` -> `sketch`):
//! - [`sketch`]: the drawing, its history and the one rasterizer (no UI, no runtime);
//! - [`engine`]: ONNX Runtime, the model contract, pre- and post-processing (no UI);
//! - [`worker`]: the background thread that owns the engine;
//! - [`app`]: the desktop app;
//! - [`cli`]: the headless commands;
//! - [`serve`]: the HTTP server (`sketch2face serve`);
//! - [`sketchify`]: a photo as a sketch, by the training side's recipes (pure image code).

pub mod app;
pub mod cli;
pub mod engine;
pub mod face;
pub mod imaging;
pub mod serve;
pub mod sketch;
pub mod sketchify;
pub mod version;
pub mod worker;

/// An error and its causes on one line, `error: cause: cause`, like anyhow's `{:#}` (a cause
/// whose text is already in the line is not repeated).
pub fn error_chain(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        let cause_text = cause.to_string();
        if !text.contains(&cause_text) {
            text.push_str(": ");
            text.push_str(&cause_text);
        }
        source = cause.source();
    }
    text
}

/// The message of a caught panic (`catch_unwind`), for the error a thread reports instead.
pub fn panic_message(panic: &(dyn std::any::Any + Send)) -> String {
    if let Some(s) = panic.downcast_ref::<&str>() {
        (*s).to_owned()
    } else if let Some(s) = panic.downcast_ref::<String>() {
        s.clone()
    } else {
        "unknown panic".to_owned()
    }
}

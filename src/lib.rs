//! sketch2face: draw a face, and a pix2pix generator paints a photo-like face beside it, live.
//!
//! The rooms, with their dependencies pointing one way (`app` -> `worker` -> `engine`; `app` and
//! `cli` -> `sketch`):
//! - [`sketch`]: the drawing, its history and the one rasterizer (no UI, no runtime);
//! - [`engine`]: ONNX Runtime, the model contract, pre- and post-processing (no UI);
//! - [`worker`]: the background thread that owns the engine;
//! - [`app`]: the desktop app;
//! - [`cli`]: the headless commands.

pub mod app;
pub mod cli;
pub mod engine;
pub mod imaging;
pub mod sketch;
pub mod worker;

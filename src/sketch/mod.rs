//! The drawing room: strokes, undo/redo history, the one rasterizer, and sketch-file loading.
//!
//! Uses `image` and `tiny-skia` only: no UI and no inference here, so the app, the CLI and the
//! tests share it.

mod drawing;
mod file;
mod history;
mod raster;

pub use drawing::{
    Drawing, PRESSURE_DEFAULT, Point, Stroke, Tool, drawing_from_json, drawing_to_json,
};
pub use file::{
    BACKGROUND_SIZE, MAX_DIMENSION, MAX_FILE_BYTES, SketchFileError, decode_image, decode_sketch,
    load_sketch_file, normalize_sketch,
};
pub use history::{HISTORY_MAX_LEN, History};
pub use raster::{SUBDIVISIONS, WIDTH_QUANTUM, rasterize, rasterize_with};

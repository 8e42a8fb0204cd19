//! The drawing room: strokes, undo/redo history, the one rasterizer, and sketch-file loading.
//!
//! Uses `image` and `tiny-skia` only: no UI and no inference here, so the app, the CLI and the
//! tests share it.

mod cache;
mod document;
mod drawing;
mod file;
mod history;
mod raster;

pub use cache::RasterCache;
pub use document::{
    COLOUR_OPACITY, DOCUMENT_SIZE, DRAWING_JSON, DocumentError, DrawingDocument, LOOK_MAX_SIDE, LOOK_PNG, Layers, LookPhoto,
    MAX_ORA_BYTES, ORA_ENTRIES, ORA_MIMETYPE, OpenedOra, THUMBNAIL_SIZE, load_ora, read_ora, save_ora,
    write_atomically, write_ora,
};
pub use drawing::{
    Drawing, PRESSURE_DEFAULT, Point, Rgb, Stroke, Tool, drawing_from_json, drawing_to_json,
};
pub use file::{
    BACKGROUND_SIZE, MAX_DIMENSION, MAX_FILE_BYTES, SketchFileError, decode_image, decode_sketch,
    OpenedSketch, PHOTO_MID_TONES, PageFit, load_hints_file, load_image_file, load_sketch_file, load_sketch_file_fitted,
    load_sketch_or_photo, looks_like_photo, normalize_sketch,
};
pub use history::{HISTORY_MAX_LEN, History};
pub use raster::{
    HINT_COVERAGE, SUBDIVISIONS, WIDTH_QUANTUM, paint_hints, rasterize, rasterize_hints,
    rasterize_hints_with, rasterize_with,
};

//! The project's own source files that the fuzz targets exercise, compiled here by path so the
//! fuzzers need none of the app's dependencies. The module layout mirrors `src/` where the files
//! refer to each other (`crate::imaging`, `super::EngineError`).

#[path = "../../src/imaging.rs"]
#[allow(dead_code)]
mod imaging;
// `sketch::file` makes a photo opened as a sketch into one with it.
#[path = "../../src/sketchify.rs"]
#[allow(dead_code)]
mod sketchify;

pub mod engine;
pub mod face;
pub mod sketch;

//! `src/sketch/file.rs`: opening sketch files.

#[path = "../../src/sketch/file.rs"]
#[allow(dead_code)]
mod file;

pub use file::{BACKGROUND_SIZE, decode_image, decode_sketch};

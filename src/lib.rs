pub fn placeholder() {}
pub mod imaging;
pub mod sketch;
pub mod engine;

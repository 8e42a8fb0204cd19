pub fn placeholder() {}
pub mod imaging;
pub mod sketch;
pub mod engine;
pub mod worker;
pub mod app;
pub mod cli;

pub fn placeholder() {}
pub mod app;
pub mod cli;
pub mod engine;
pub mod imaging;
pub mod sketch;
pub mod worker;

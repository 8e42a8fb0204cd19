//! The face room's bank loader (`src/face/bank.rs`) and what it is built from: the mesh, the
//! shape model, the colour rule and the face index.

#[path = "../../src/face/mesh.rs"]
#[allow(dead_code)]
mod mesh;
#[path = "../../src/face/colours.rs"]
#[allow(dead_code)]
mod colours;
#[path = "../../src/face/retrieve.rs"]
#[allow(dead_code)]
mod retrieve;
#[path = "../../src/face/shape.rs"]
#[allow(dead_code)]
mod shape;
#[path = "../../src/face/bank.rs"]
#[allow(dead_code)]
mod bank;

pub use bank::{Bank, BankError, MAX_FACES};

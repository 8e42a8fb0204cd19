//! The face room: the geometry of face pipeline v3 (issue 24). A face mesh of the drawing, a
//! bank of real faces with their meshes, retrieval of a face by the drawing's shape, and the warp
//! of that face onto the drawing's mesh.
//!
//! Plain Rust on images and points: no UI and no ONNX Runtime. The mesh *network* runs in
//! [`crate::engine`], which composes the pipeline from these parts.

mod mesh;

pub use mesh::{FACE_OVAL, LEFT_EYE_OUTER, MESH_POINTS, Mesh, MeshError, RIGHT_EYE_OUTER, Similarity};

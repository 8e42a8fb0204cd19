//! The face room: the geometry of face pipeline v3 (issue 24). A face mesh of the drawing, a
//! bank of real faces with their meshes, retrieval of a face by the drawing's shape, and the warp
//! of that face onto the drawing's mesh.
//!
//! Plain Rust on images and points: no UI and no ONNX Runtime. The mesh *network* runs in
//! [`crate::engine`], which composes the pipeline from these parts.

mod align;
mod bank;
mod colours;
mod mesh;
mod painted;
mod retrieve;
mod roi;
mod shape;
mod warp;

pub use mesh::{FACE_OVAL, LEFT_EYE_OUTER, MESH_POINTS, Mesh, MeshError, RIGHT_EYE_OUTER, Similarity};
pub use colours::{
    ColourRegion, ColourRegions, HAIR_LINE_POINT, HAIR_SCALE, HintColours, MIN_HINT_PIXELS, SKIN_SCALE, hint_colours,
    inside_polygon, lab,
};
pub use retrieve::{
    Choice, DELTA_E_PER_SD, ENTER_MARGIN, EXIT_MARGIN, EXIT_SLACK, FaceIndex, FaceIndexError, NEAREST, Query, QueryError,
    Retriever, Retrievers,
};
pub use roi::{CropBox, INK_LEVEL, ink_bounds};
pub use warp::{FaceWarp, RING_SCALES, WarpReport};
pub use align::align_photo;
pub use painted::{DETAIL_KEPT, FADE_SCALE, PaintedRegions, SAME_COLOUR};
pub use bank::{Bank, BankError, BankMetadata, FaceSource};
pub use shape::{ShapeModel, ShapeModelError};

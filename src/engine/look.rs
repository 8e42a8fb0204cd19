//! The look (issue 26): a photograph whose face becomes the exemplar instead of a bank face, so
//! the face has that skin, those eyes, that hair, on the drawing's geometry.
//!
//! A face detector taught on photos ([`FaceDetector`], MediaPipe's BlazeFace) tells one face
//! from none or several and says where its eyes are; the photo is aligned by them into the
//! bank's face frame, and the mesh network, which was taught on drawings, reads the face's mesh
//! from the aligned photo made a sketch with training's own recipe
//! ([`crate::sketchify::canny2017`], on which it finds 99% of held-out faces). The mesh then
//! aligns the photo once more, by every point rather than two.

use image::RgbImage;

use super::EngineError;
use super::detect::{FaceDetection, FaceDetector};
use super::mesh::MeshNetwork;
use crate::face::{CropBox, LEFT_EYE_OUTER, Mesh, RIGHT_EYE_OUTER, Similarity, align_photo};
use crate::sketchify::canny2017;

/// A face smaller than this share of the largest one in the photo is someone in the background,
/// not a second face the user meant.
const BACKGROUND_FACE: f32 = 0.4;
/// Eyes closer than this many pixels give the look too little texture.
const MIN_EYE_DISTANCE: f32 = 12.0;
/// Framing passes of the mesh network, as [`super::MeshFinder`] does for a drawing.
const REFINE_PASSES: usize = 2;
/// The inner corners of the eyes (MediaPipe's mesh): with the outer ones, the eyes' centres.
const LEFT_EYE_INNER: usize = 133;
const RIGHT_EYE_INNER: usize = 362;

/// A look photo, read: the photo aligned into the face frame like a bank face, and its mesh.
#[derive(Clone, Debug)]
pub struct Look {
    /// `side` x `side`, the face where the bank's mean face lies.
    pub image: RgbImage,
    /// The face's mesh in `image`'s pixels.
    pub mesh: Mesh,
    /// How sure the mesh network is of the face.
    pub presence: f32,
}

/// Why a photo cannot be the look.
#[derive(Debug, thiserror::Error)]
pub enum LookError {
    #[error("no face found in the photo (it needs one face, seen from the front)")]
    NoFace,
    #[error("{count} faces found in the photo; crop it to the one face you want")]
    SeveralFaces { count: usize },
    #[error("the face is too small in the photo ({eye_distance:.1} px between the eyes, {MIN_EYE_DISTANCE} needed); use a closer or larger photo")]
    TooSmall { eye_distance: f32 },
    #[error("the face in the photo cannot be read (turned away, or hidden?): the mesh model is {presence:.2} sure of it")]
    Unreadable { presence: f32 },
    #[error("the photo is empty")]
    Empty,
    #[error("the look needs the face pipeline (mesh model and face bank), and it is not loaded")]
    NoPipeline,
    #[error("the look needs the face detector, which did not load: {reason}")]
    NoDetector { reason: String },
    #[error(transparent)]
    Engine(#[from] EngineError),
}

/// The faces the user means in `photo`: every detection but those much smaller than the largest.
pub fn faces_meant(detections: Vec<FaceDetection>) -> Vec<FaceDetection> {
    let side = |d: &FaceDetection| (d.bounds[2] - d.bounds[0]).max(d.bounds[3] - d.bounds[1]);
    let largest = detections.iter().map(side).fold(0.0, f32::max);
    detections.into_iter().filter(|d| side(d) >= BACKGROUND_FACE * largest).collect()
}

/// Reads the one face of `photo` into a [`Look`] in the frame of `template` (the bank's mean
/// mesh, in a `side` x `side` face frame).
pub fn read_look(
    detector: &mut FaceDetector,
    network: &mut MeshNetwork,
    template: &Mesh,
    side: u32,
    photo: &RgbImage,
) -> Result<Look, LookError> {
    if photo.width() == 0 || photo.height() == 0 {
        return Err(LookError::Empty);
    }
    // 1. One face, and its eyes.
    let faces = faces_meant(detector.detect(photo)?);
    let face = match faces.as_slice() {
        [] => return Err(LookError::NoFace),
        [face] => face,
        several => return Err(LookError::SeveralFaces { count: several.len() }),
    };
    let eyes = [face.keypoints[FaceDetection::LEFT_EYE], face.keypoints[FaceDetection::RIGHT_EYE]];
    let eye_distance = (eyes[1][0] - eyes[0][0]).hypot(eyes[1][1] - eyes[0][1]);
    if eye_distance < MIN_EYE_DISTANCE {
        return Err(LookError::TooSmall { eye_distance });
    }

    // 2. Aligned by the eyes into the face frame, where the mesh network reads its mesh.
    let points = template.points();
    let centre = |a: usize, b: usize| [(points[a][0] + points[b][0]) / 2.0, (points[a][1] + points[b][1]) / 2.0];
    let template_eyes = [centre(LEFT_EYE_OUTER, LEFT_EYE_INNER), centre(RIGHT_EYE_OUTER, RIGHT_EYE_INNER)];
    let by_eyes = Similarity::fit(&eyes, &template_eyes).ok_or(LookError::NoFace)?;
    let sketch = canny2017(&align_photo(photo, &by_eyes, side));
    let mut reading = network.read(&sketch, &[CropBox::around(template, network.roi_scale())])?.remove(0);
    for _ in 0..REFINE_PASSES {
        reading = network.read(&sketch, &[CropBox::around(&reading.mesh, network.roi_scale())])?.remove(0);
    }
    if !reading.found() {
        return Err(LookError::Unreadable { presence: reading.presence });
    }

    // 3. Aligned again by the whole mesh: the face lies where the bank's faces lie.
    let by_mesh = Similarity::fit(reading.mesh.points(), points).ok_or(LookError::NoFace)?;
    let to_face = by_mesh.after(&by_eyes);
    Ok(Look { image: align_photo(photo, &to_face, side), mesh: reading.mesh.transformed(&by_mesh), presence: reading.presence })
}


#[cfg(test)]
mod tests {
    use super::*;

    fn face(x: f32, side: f32) -> FaceDetection {
        FaceDetection { bounds: [x, 0.0, x + side, side], score: 0.9, keypoints: [[0.0; 2]; 6] }
    }

    #[test]
    fn a_face_much_smaller_than_the_largest_is_background_and_one_nearly_as_large_is_a_second_face() {
        assert_eq!(faces_meant(vec![face(0.0, 100.0), face(200.0, 30.0)]).len(), 1);
        assert_eq!(faces_meant(vec![face(0.0, 100.0), face(200.0, 60.0)]).len(), 2);
        assert!(faces_meant(Vec::new()).is_empty());
    }
}

//! The look (issue 26): a photograph whose face becomes the exemplar instead of a bank face, so
//! the face has that skin, those eyes, that hair, on the drawing's geometry.
//!
//! The photo is a photo, but the mesh network was taught on drawings: the photo is first made a
//! sketch with training's own recipe ([`crate::sketchify::canny2017`], on which the network finds
//! 99% of held-out faces), searched for faces in windows of several sizes (to tell one face from
//! none or several), then aligned into the bank's face frame and read once more there, at the
//! scale the network was taught on.

use image::imageops::{self, FilterType};
use image::RgbImage;

use super::mesh::{MeshNetwork, MeshReading};
use super::EngineError;
use crate::face::{CropBox, Mesh, Similarity, align_photo};
use crate::sketchify::canny2017;

/// The longer side the photo is searched at: a face filling a tenth of it still spans ~50 px.
const SEARCH_SIDE: u32 = 512;
/// The search windows' sides, in shorter sides of the photo (1.5: a face that fills the photo,
/// with MediaPipe's margin around it). Each is laid every half side.
const WINDOW_SIDES: [f32; 6] = [1.5, 1.0, 0.7, 0.5, 0.35, 0.25];
/// How sure the network must be of a face in a window before it is looked at closer, and after.
/// Higher than a drawing's [`super::FOUND_PRESENCE`]: a photo's background makes edges
/// everywhere, and a second face that is not there would refuse a good photo.
const WINDOW_PRESENCE: f32 = 0.5;
const FACE_PRESENCE: f32 = 0.8;
/// Framing passes for each candidate, as [`super::MeshFinder`] does for a drawing.
const REFINE_PASSES: usize = 2;
/// Two readings whose centres lie closer than this many eye distances are one face.
const SAME_FACE: f32 = 1.2;
/// A face smaller than this many pixels between the eyes (in the searched photo) is too small to
/// give the look its texture.
const MIN_EYE_DISTANCE: f32 = 12.0;

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
    #[error("the face is too small in the photo ({percent:.0}% of its width between the eyes); crop closer to it")]
    TooSmall { percent: f32 },
    #[error("the photo is empty")]
    Empty,
    #[error("the look needs the face pipeline (mesh model and face bank), and it is not loaded")]
    NoPipeline,
    #[error(transparent)]
    Engine(#[from] EngineError),
}

/// Reads the one face of `photo` into a [`Look`] in the frame of `template` (the bank's mean
/// mesh, in a `side` x `side` face frame).
pub fn read_look(network: &mut MeshNetwork, template: &Mesh, side: u32, photo: &RgbImage) -> Result<Look, LookError> {
    if photo.width() == 0 || photo.height() == 0 {
        return Err(LookError::Empty);
    }
    // 1. Search a small copy, made a sketch, for faces.
    let longer = photo.width().max(photo.height());
    let shrink = (SEARCH_SIDE as f32 / longer as f32).min(1.0);
    let small = match shrink < 1.0 {
        true => imageops::resize(
            photo,
            ((photo.width() as f32 * shrink).round() as u32).max(1),
            ((photo.height() as f32 * shrink).round() as u32).max(1),
            FilterType::Triangle,
        ),
        false => photo.clone(),
    };
    let faces = find_faces(network, &canny2017(&small))?;
    let face = match faces.as_slice() {
        [] => return Err(LookError::NoFace),
        [face] => face,
        several => return Err(LookError::SeveralFaces { count: several.len() }),
    };
    if face.mesh.eye_distance() < MIN_EYE_DISTANCE {
        return Err(LookError::TooSmall { percent: 100.0 * face.mesh.eye_distance() / small.width() as f32 });
    }

    // 2. Into the face frame, from the full photo (its sharpest pixels), and read again there.
    let in_photo = face.mesh.transformed(&Similarity::scaling(1.0 / shrink));
    let to_face = Similarity::fit(in_photo.points(), template.points()).ok_or(LookError::NoFace)?;
    let image = align_photo(photo, &to_face, side);
    let guess = in_photo.transformed(&to_face);
    let framed = CropBox::around(&guess, network.roi_scale());
    let reread = network.read(&canny2017(&image), &[framed])?.remove(0);
    let (mesh, presence) = match reread.presence >= FACE_PRESENCE {
        true => (reread.mesh, reread.presence),
        // The aligned crop cut the face's context: the search's reading, carried over, is good.
        false => (guess, face.presence),
    };
    Ok(Look { image, mesh, presence })
}

/// Every face the network is sure of in `sketch`, one reading each, the surest first.
fn find_faces(network: &mut MeshNetwork, sketch: &image::GrayImage) -> Result<Vec<MeshReading>, EngineError> {
    let (width, height) = (sketch.width() as f32, sketch.height() as f32);
    let shorter = width.min(height);
    let mut windows = Vec::new();
    for fraction in WINDOW_SIDES {
        let window = fraction * shorter;
        let step = window / 2.0;
        let positions = |extent: f32| -> Vec<f32> {
            if window >= extent {
                return vec![extent / 2.0];
            }
            let count = ((extent - window) / step).ceil() as usize + 1;
            (0..count)
                .map(|i| window / 2.0 + i as f32 * (extent - window) / (count - 1).max(1) as f32)
                .collect()
        };
        for &cy in &positions(height) {
            for &cx in &positions(width) {
                windows.push(CropBox { centre: [cx, cy], side: window, angle: 0.0 });
            }
        }
    }
    let mut candidates: Vec<MeshReading> =
        network.read(sketch, &windows)?.into_iter().filter(|r| r.presence >= WINDOW_PRESENCE).collect();
    for _ in 0..REFINE_PASSES {
        if candidates.is_empty() {
            break;
        }
        let framed: Vec<CropBox> =
            candidates.iter().map(|r| CropBox::around(&r.mesh, network.roi_scale())).collect();
        candidates = network.read(sketch, &framed)?;
    }
    candidates.retain(|r| r.presence >= FACE_PRESENCE);
    candidates.sort_by(|a, b| b.presence.total_cmp(&a.presence));
    let mut faces: Vec<MeshReading> = Vec::new();
    for candidate in candidates {
        let [cx, cy] = candidate.mesh.centroid();
        let is_new = faces.iter().all(|face| {
            let [fx, fy] = face.mesh.centroid();
            let reach = SAME_FACE * face.mesh.eye_distance().max(candidate.mesh.eye_distance());
            (cx - fx).hypot(cy - fy) > reach
        });
        if is_new {
            faces.push(candidate);
        }
    }
    Ok(faces)
}

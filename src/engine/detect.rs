//! The face detector for photos (issue 26, item 3): MediaPipe's BlazeFace short-range network
//! (`training/detect.py` converts it), so a "look" photo can be told to hold no face, one or
//! several. The mesh network cannot say: it is fine-tuned on drawings, and its presence fires on
//! cats and coffee cups.
//!
//! The contract (`sketch2face.contract` = `detect-1`, checked at load): input `input` f32
//! `[N, S, S, 3]` (NHWC, RGB in -1..1); outputs `regressors` f32 `[N, A, 16]` (per anchor: the
//! box's centre x, y, width, height, then six keypoints' x, y, in input pixels and relative to
//! the anchor's centre) and `classificators` f32 `[N, A, 1]` (a face's logit); metadata
//! `sketch2face.input_side` (S), `sketch2face.anchor_strides` (MediaPipe's SSD anchor layers:
//! two anchors a cell per layer, layers of one stride on one grid; they must make A anchors),
//! `sketch2face.box_scale` (what divides a regressor into fractions of the input) and
//! `sketch2face.score_clip` (logits are clipped to +-this before the sigmoid).
//!
//! BlazeFace short-range sees faces that fill a good part of its 128 px frame (a selfie's). So
//! the photo is read at several scales in one batch: zoomed out (a tight face crop fills the
//! frame too much: with a margin around them, 99 of 100 UTKFace crops score over 0.7 instead of
//! 85), whole, and for a large photo in overlapping square tiles (2x2, 3x3, 4x4), so that the
//! faces of a group photo are found. Every view's detections are merged by MediaPipe's weighted non-maximum
//! suppression.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use image::RgbImage;
use image::imageops::{self, FilterType};
use ndarray::{ArrayView4, Axis, Ix3};
use ort::session::Session;
use ort::value::TensorRef;

use super::contract::{CONTRACT_KEY, Dim, TensorSpec};
use super::error::OutputShapeError;
use super::session::{ExternalData, OpenedModel, checked_len};
use super::{EngineError, EngineOptions, Provider};

/// The contract a face detector declares in `sketch2face.contract`.
pub const DETECT_CONTRACT: &str = "detect-1";
/// The shipped face detector's file in `models/`.
pub const FACE_DETECT_MODEL_FILE: &str = "face-detect-v3.onnx";
pub const DETECT_INPUT_NAME: &str = "input";
pub const REGRESSORS_NAME: &str = "regressors";
pub const CLASSIFICATORS_NAME: &str = "classificators";
pub const INPUT_SIDE_KEY: &str = "sketch2face.input_side";
pub const ANCHOR_STRIDES_KEY: &str = "sketch2face.anchor_strides";
pub const BOX_SCALE_KEY: &str = "sketch2face.box_scale";
pub const SCORE_CLIP_KEY: &str = "sketch2face.score_clip";
/// Keypoints per detection, in MediaPipe's order.
pub const KEYPOINTS: usize = 6;
/// Numbers per anchor in `regressors`: the box (4), then each keypoint's x and y.
const REGRESSOR_VALUES: usize = 4 + 2 * KEYPOINTS;
/// MediaPipe's anchors: two a cell for every layer (aspect ratio 1 and the interpolated scale,
/// all of the anchor's size with `fixed_anchor_size`).
const ANCHORS_PER_LAYER: usize = 2;

/// A detection at least this sure is a face. MediaPipe keeps 0.5, but the cat of
/// `tests/data/sketchify/chelsea.png` scores 0.54 and the cup of `coffee.png` 0.51, while the
/// faces found in the first 1,000 UTKFace and CelebA photos score over 0.7, all but one (0.61).
pub const MIN_FACE_SCORE: f32 = 0.6;
/// Detections that overlap by more than this (intersection over union) are one face
/// (MediaPipe's `min_suppression_threshold`).
pub const NMS_IOU: f32 = 0.3;
/// The zoomed-out view: the photo's longer side is this share of the view's.
const ZOOM_OUT: f32 = 1.0 / 1.5;
/// The tile grids, by tiles along the photo's longer side, and how much neighbours overlap (in
/// tiles): with a third, a face up to a fifth of the photo across lies whole in some 2x2 tile.
const TILE_COUNTS: [u32; 3] = [2, 3, 4];
const TILE_OVERLAP: f32 = 1.0 / 3.0;
/// Tiles are read only while each is at least this many photo pixels across (twice the input
/// side): a smaller tile would be upsampled into the network and find nothing the whole photo
/// did not, but more cat fur mistaken for faces.
const MIN_TILE_SOURCE_SIDE: u32 = 256;
/// How far (in input pixels) a tile's detection may reach past an edge the tile shares with a
/// neighbour before it counts as a face cut in two, left to the tile that holds it whole.
const CUT_SLACK: f32 = 2.0;
/// A tile keeps only faces narrower than this share of the views one level coarser (the whole
/// photo for 2x2 tiles, a 2x2 tile for 3x3 ones). A face that large is where that level finds
/// faces well (a quarter of its 128 px is 32 px, scored ~0.9); what a tile alone finds that large
/// is part of a face or its surroundings (measured on CelebA heads at 1400 px: hair, collars,
/// backdrops scored up to 0.65).
const TILE_FACE_SHARE: f32 = 0.25;
/// A face whose box lies more than this share inside a more certain face's box is part of that
/// face (a tile through a large face sees an eye and a brow as a small face).
const INSIDE_ANOTHER: f32 = 0.5;

/// The most detections one view keeps, most certain first.
const MAX_PER_VIEW: usize = 100;

/// One face in a photo.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct FaceDetection {
    /// `[x0, y0, x1, y1]` in the photo's pixels.
    pub bounds: [f32; 4],
    /// How sure the detector is, 0..1.
    pub score: f32,
    /// In the photo's pixels, indexed by [`FaceDetection::LEFT_EYE`] and its siblings.
    pub keypoints: [[f32; 2]; KEYPOINTS],
}

// The keypoints, named by the side of the image they lie on in a photo that is not mirrored (as
// `crate::face` names mesh points). MediaPipe names them by the person's side: its `RIGHT_EYE` is
// the image's left eye.
impl FaceDetection {
    /// The eye on the image's left (MediaPipe's `RIGHT_EYE`).
    pub const LEFT_EYE: usize = 0;
    /// The eye on the image's right (MediaPipe's `LEFT_EYE`).
    pub const RIGHT_EYE: usize = 1;
    pub const NOSE_TIP: usize = 2;
    pub const MOUTH: usize = 3;
    /// The ear tragion on the image's left (MediaPipe's `RIGHT_EAR_TRAGION`).
    pub const LEFT_EAR: usize = 4;
    /// The ear tragion on the image's right (MediaPipe's `LEFT_EAR_TRAGION`).
    pub const RIGHT_EAR: usize = 5;

    fn area(&self) -> f32 {
        let [x0, y0, x1, y1] = self.bounds;
        (x1 - x0).max(0.0) * (y1 - y0).max(0.0)
    }

    fn intersection(&self, other: &FaceDetection) -> f32 {
        let [ax0, ay0, ax1, ay1] = self.bounds;
        let [bx0, by0, bx1, by1] = other.bounds;
        (ax1.min(bx1) - ax0.max(bx0)).max(0.0) * (ay1.min(by1) - ay0.max(by0)).max(0.0)
    }

    /// Intersection over union of the two boxes; 0 when either has no area.
    pub fn iou(&self, other: &FaceDetection) -> f32 {
        let intersection = self.intersection(other);
        let union = self.area() + other.area() - intersection;
        if union > 0.0 { intersection / union } else { 0.0 }
    }
}

/// A loaded face detector. One thread owns it (`detect` needs `&mut self`).
pub struct FaceDetector {
    session: Session,
    path: PathBuf,
    provider: Provider,
    /// Whether the model takes more than one view per run.
    batched: bool,
    side: u32,
    /// Each anchor's centre, in fractions of the input side.
    anchors: Vec<[f32; 2]>,
    box_scale: f32,
    score_clip: f32,
    min_score: f32,
    metadata: BTreeMap<String, String>,
}

impl FaceDetector {
    /// Loads a face detector and checks its contract (the same file checks and CUDA-then-CPU
    /// fallback as every model).
    pub fn load(path: &Path, opts: &EngineOptions) -> Result<FaceDetector, EngineError> {
        let opened = OpenedModel::open(path, opts, ExternalData::Refuse)?;
        let checked = check_detect_contract(&opened.inputs, &opened.outputs, &opened.metadata).map_err(|refusal| {
            // EngineError has no variant of its own for a detector; a refused model is one that
            // cannot be loaded, and the reason rides along as the source.
            EngineError::Session {
                path: path.to_owned(),
                source: ort::Error::new(refusal.to_string()),
            }
        })?;
        Ok(FaceDetector {
            session: opened.session,
            path: path.to_owned(),
            provider: opened.provider,
            batched: checked.batched,
            side: checked.side,
            anchors: checked.anchors,
            box_scale: checked.box_scale,
            score_clip: checked.score_clip,
            min_score: MIN_FACE_SCORE,
            metadata: opened.metadata,
        })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    pub fn provider(&self) -> Provider {
        self.provider
    }

    /// The side of the network's square input.
    pub fn input_side(&self) -> u32 {
        self.side
    }

    pub fn metadata(&self) -> &BTreeMap<String, String> {
        &self.metadata
    }

    /// The score a face needs ([`MIN_FACE_SCORE`] unless changed).
    pub fn min_score(&self) -> f32 {
        self.min_score
    }

    /// Keeps faces at least `score` sure from now on (clamped to 0..1; NaN keeps the default).
    pub fn set_min_score(&mut self, score: f32) {
        self.min_score = if score.is_nan() { MIN_FACE_SCORE } else { score.clamp(0.0, 1.0) };
    }

    /// The faces in `photo`, most certain first. A photo with no pixels holds none.
    pub fn detect(&mut self, photo: &RgbImage) -> Result<Vec<FaceDetection>, EngineError> {
        if photo.width() == 0 || photo.height() == 0 {
            return Ok(Vec::new());
        }
        let (views, inputs) = views_of(photo, self.side);
        let mut found = Vec::new();
        if self.batched {
            let outputs = self.run(&inputs, views.len())?;
            for (view, (regressors, logits)) in views.iter().zip(outputs) {
                found.extend(self.decode_view(view, &regressors, &logits));
            }
        } else {
            let per_view = inputs.len() / views.len();
            for (n, view) in views.iter().enumerate() {
                let one = &inputs[n * per_view..(n + 1) * per_view];
                let (regressors, logits) = self.run(one, 1)?.remove(0);
                found.extend(self.decode_view(view, &regressors, &logits));
            }
        }
        Ok(without_parts(weighted_nms(found, NMS_IOU)))
    }

    /// The detections of one view at least [`FaceDetector::min_score`] sure, in the photo's
    /// pixels; those a tile cut in two are left out.
    fn decode_view(&self, view: &View, regressors: &[f32], logits: &[f32]) -> Vec<FaceDetection> {
        let side = self.side as f32;
        decode(regressors, logits, &self.anchors, side, self.box_scale, self.score_clip, self.min_score)
            .into_iter()
            .filter(|detection| !view.cuts(detection, side))
            .map(|detection| view.to_photo(&detection))
            .filter(|detection| detection.bounds[2] - detection.bounds[0] <= view.max_face)
            .collect()
    }

    /// Runs the network on `batch` views laid out as `[batch, side, side, 3]`: each view's
    /// regressors (`anchors x 16`) and logits (`anchors`).
    fn run(&mut self, inputs: &[f32], batch: usize) -> Result<Vec<ViewOutputs>, EngineError> {
        let path = self.path.clone();
        let run_error = |source| EngineError::Run {
            path: path.clone(),
            source,
        };
        let side = self.side as usize;
        checked_len(&path, DETECT_INPUT_NAME, &[batch, side, side, 3])?;
        let input = ArrayView4::from_shape((batch, side, side, 3), inputs)
            .map_err(|error| run_error(ort::Error::new(error.to_string())))?;
        let outputs = self
            .session
            .run(ort::inputs![DETECT_INPUT_NAME => TensorRef::from_array_view(input).map_err(run_error)?])
            .map_err(run_error)?;
        let anchors = self.anchors.len();
        let output = |name: &'static str, values: usize| {
            let array = outputs
                .get(name)
                .ok_or_else(|| run_error(ort::Error::new(format!("no output named `{name}`"))))?
                .try_extract_array::<f32>()
                .map_err(run_error)?;
            let found = format!("{:?}", array.shape());
            array
                .into_dimensionality::<Ix3>()
                .ok()
                .filter(|a| a.shape() == [batch, anchors, values])
                .ok_or_else(|| EngineError::OutputShape {
                    path: path.clone(),
                    source: OutputShapeError {
                        tensor: name,
                        expected: format!("[{batch}, {anchors}, {values}]"),
                        found,
                    },
                })
        };
        let regressors = output(REGRESSORS_NAME, REGRESSOR_VALUES)?;
        let logits = output(CLASSIFICATORS_NAME, 1)?;
        Ok((0..batch)
            .map(|n| {
                let regressors = regressors.index_axis(Axis(0), n).iter().copied().collect();
                let logits = logits.index_axis(Axis(0), n).iter().copied().collect();
                (regressors, logits)
            })
            .collect())
    }
}

/// What the network says about one view: its regressors (anchors x 16) and logits (anchors).
type ViewOutputs = (Vec<f32>, Vec<f32>);

/// Where one network input came from: a square of the photo, scaled (and padded where the square
/// reaches past the photo).
#[derive(Clone, Copy, Debug, PartialEq)]
struct View {
    /// The photo pixel at the input's top-left corner.
    origin: [f32; 2],
    /// Photo pixels per input pixel, across and down.
    scale: [f32; 2],
    /// Whether the input's left, top, right and bottom edges cut through the photo (a tile with
    /// a neighbour there), rather than lie on or beyond its border.
    inner_edges: [bool; 4],
    /// The widest face (photo pixels) this view may report; wider ones are left to coarser views.
    max_face: f32,
}

impl View {
    fn to_photo(self, detection: &FaceDetection) -> FaceDetection {
        let map = |[x, y]: [f32; 2]| [self.origin[0] + x * self.scale[0], self.origin[1] + y * self.scale[1]];
        let [x0, y0] = map([detection.bounds[0], detection.bounds[1]]);
        let [x1, y1] = map([detection.bounds[2], detection.bounds[3]]);
        FaceDetection {
            bounds: [x0, y0, x1, y1],
            score: detection.score,
            keypoints: detection.keypoints.map(map),
        }
    }

    /// Whether a detection (in input pixels) reaches past an edge this view shares with a
    /// neighbouring tile: a face cut in two, whose box is a guess.
    fn cuts(&self, detection: &FaceDetection, side: f32) -> bool {
        let [x0, y0, x1, y1] = detection.bounds;
        let [left, top, right, bottom] = self.inner_edges;
        (left && x0 < -CUT_SLACK)
            || (top && y0 < -CUT_SLACK)
            || (right && x1 > side + CUT_SLACK)
            || (bottom && y1 > side + CUT_SLACK)
    }
}

/// The views the photo is read in and their inputs, `[views, side, side, 3]` in -1..1: zoomed
/// out, whole, then each tile grid whose tiles are at least [`MIN_TILE_SOURCE_SIDE`] across.
fn views_of(photo: &RgbImage, side: u32) -> (Vec<View>, Vec<f32>) {
    let longer = photo.width().max(photo.height()) as f32;
    // Each level is the side of its square views in photo pixels.
    let mut levels = vec![longer / ZOOM_OUT, longer];
    for tiles in TILE_COUNTS {
        let tile = longer / (tiles as f32 - (tiles as f32 - 1.0) * TILE_OVERLAP);
        if tile >= MIN_TILE_SOURCE_SIDE as f32 {
            levels.push(tile);
        }
    }
    // The photo scaled once for the finest level, every coarser level from that copy: one pass
    // over a large photo, not one a level.
    let finest = *levels.last().expect("two levels at least");
    let fine = scaled(photo, side as f32 / finest);
    let mut views = Vec::new();
    let mut inputs = Vec::new();
    for (n, &level) in levels.iter().enumerate() {
        // The zoomed-out and whole views report any face; each tile level the small ones.
        let max_face = if n < 2 { f32::INFINITY } else { TILE_FACE_SHARE * levels[n - 1] };
        let factor = side as f32 / level;
        let image = if level == finest { fine.clone() } else { scaled(&fine, factor * finest / side as f32) };
        // The copy's own scale on each axis (its sides are whole pixels).
        let scale = [photo.width() as f32 / image.width() as f32, photo.height() as f32 / image.height() as f32];
        for y in positions(image.height(), side) {
            for x in positions(image.width(), side) {
                let inner_edges = [
                    x > 0,
                    y > 0,
                    x + (side as i64) < i64::from(image.width()),
                    y + (side as i64) < i64::from(image.height()),
                ];
                views.push(View {
                    origin: [x as f32 * scale[0], y as f32 * scale[1]],
                    scale,
                    inner_edges,
                    max_face,
                });
                crop_into(&image, x, y, side, &mut inputs);
            }
        }
    }
    (views, inputs)
}

/// The photo resized by `factor` (at least one pixel a side): averaged when shrinking, bilinear
/// when growing.
fn scaled(photo: &RgbImage, factor: f32) -> RgbImage {
    let width = ((photo.width() as f32 * factor).round() as u32).max(1);
    let height = ((photo.height() as f32 * factor).round() as u32).max(1);
    if (width, height) == photo.dimensions() {
        photo.clone()
    } else if width < photo.width() {
        imageops::thumbnail(photo, width, height)
    } else {
        imageops::resize(photo, width, height, FilterType::Triangle)
    }
}

/// Where the views along one axis of `length` pixels start: one view centred on a length that
/// fits (negative: it reaches past both ends), else evenly spaced views from one end to the
/// other, neighbours overlapping by at least [`TILE_OVERLAP`].
fn positions(length: u32, side: u32) -> Vec<i64> {
    let (length, side) = (i64::from(length), i64::from(side));
    if length <= side {
        return vec![-((side - length) / 2)];
    }
    let step = side as f32 * (1.0 - TILE_OVERLAP);
    // A level sized for n tiles is n tiles long give or take the rounding of its pixels: that
    // rounding must not add a tile.
    let count = ((length - side) as f32 / step - 0.05).ceil().max(1.0) as i64 + 1;
    (0..count).map(|i| (i * (length - side) + (count - 1) / 2) / (count - 1)).collect()
}

/// Appends the `side` x `side` square of `image` at (`x`, `y`) as network input (RGB in -1..1,
/// `[side, side, 3]`): black (-1) where it reaches past the image, as MediaPipe letterboxes.
fn crop_into(image: &RgbImage, x: i64, y: i64, side: u32, inputs: &mut Vec<f32>) {
    let (width, height) = (i64::from(image.width()), i64::from(image.height()));
    for row in 0..i64::from(side) {
        for column in 0..i64::from(side) {
            let (px, py) = (x + column, y + row);
            if (0..width).contains(&px) && (0..height).contains(&py) {
                let pixel = image.get_pixel(px as u32, py as u32).0;
                inputs.extend(pixel.map(|v| f32::from(v) / 127.5 - 1.0));
            } else {
                inputs.extend([-1.0; 3]);
            }
        }
    }
}

/// MediaPipe's SSD anchor centres (fractions of the input side), in its order: for each run of
/// layers with one stride, its grid row by row, in each cell two anchors per layer.
fn ssd_anchors(strides: &[u32], side: u32) -> Vec<[f32; 2]> {
    let mut anchors = Vec::new();
    let mut layer = 0;
    while layer < strides.len() {
        let stride = strides[layer];
        let layers = strides[layer..].iter().take_while(|&&s| s == stride).count();
        let grid = side.div_ceil(stride);
        for y in 0..grid {
            for x in 0..grid {
                let centre = [(x as f32 + 0.5) / grid as f32, (y as f32 + 0.5) / grid as f32];
                anchors.extend(std::iter::repeat_n(centre, layers * ANCHORS_PER_LAYER));
            }
        }
        layer += layers;
    }
    anchors
}

/// The detections of one input (in its pixels) whose score is at least `min_score`: boxes and
/// keypoints decoded about their anchors, logits clipped to +-`score_clip` and squashed. An
/// anchor with a value that is not finite, or with a box of no size or far outside the input
/// (nothing a real detector gives), is no face.
fn decode(
    regressors: &[f32],
    logits: &[f32],
    anchors: &[[f32; 2]],
    side: f32,
    box_scale: f32,
    score_clip: f32,
    min_score: f32,
) -> Vec<FaceDetection> {
    let mut found = Vec::new();
    for ((values, &logit), &[ax, ay]) in regressors.chunks_exact(REGRESSOR_VALUES).zip(logits).zip(anchors) {
        let score = 1.0 / (1.0 + (-logit.clamp(-score_clip, score_clip)).exp());
        if score.is_nan() || score < min_score || !values.iter().all(|v| v.is_finite()) {
            continue;
        }
        let at = |dx: f32, dy: f32| [(dx / box_scale + ax) * side, (dy / box_scale + ay) * side];
        let [cx, cy] = at(values[0], values[1]);
        let (width, height) = (values[2] / box_scale * side, values[3] / box_scale * side);
        let plausible = |centre: f32, size: f32| size > 0.0 && size <= 2.0 * side && (-side..=2.0 * side).contains(&centre);
        if !(plausible(cx, width) && plausible(cy, height)) {
            continue;
        }
        let mut keypoints = [[0.0; 2]; KEYPOINTS];
        for (k, point) in keypoints.iter_mut().enumerate() {
            *point = at(values[4 + 2 * k], values[5 + 2 * k]);
        }
        found.push(FaceDetection {
            bounds: [cx - width / 2.0, cy - height / 2.0, cx + width / 2.0, cy + height / 2.0],
            score,
            keypoints,
        });
    }
    // A real face lights a handful of anchors; a model that says every anchor is a face would
    // make the suppression quadratic in thousands.
    found.sort_by(|a, b| b.score.total_cmp(&a.score));
    found.truncate(MAX_PER_VIEW);
    found
}

/// MediaPipe's weighted non-maximum suppression: the most certain detection left and every one
/// that overlaps it by more than `iou` become one face, whose box and keypoints are their
/// score-weighted mean and whose score is the most certain one's. Most certain first.
fn weighted_nms(mut detections: Vec<FaceDetection>, iou: f32) -> Vec<FaceDetection> {
    detections.sort_by(|a, b| b.score.total_cmp(&a.score));
    let mut faces = Vec::new();
    while let Some(top) = detections.first().copied() {
        let (group, rest): (Vec<_>, Vec<_>) = detections.into_iter().partition(|d| d.iou(&top) > iou || *d == top);
        let total: f32 = group.iter().map(|d| d.score).sum();
        let mut face = FaceDetection {
            bounds: [0.0; 4],
            score: top.score,
            keypoints: [[0.0; 2]; KEYPOINTS],
        };
        for d in &group {
            let weight = d.score / total;
            for (sum, value) in face.bounds.iter_mut().zip(d.bounds) {
                *sum += weight * value;
            }
            for (sum, point) in face.keypoints.iter_mut().zip(d.keypoints) {
                sum[0] += weight * point[0];
                sum[1] += weight * point[1];
            }
        }
        faces.push(face);
        detections = rest;
    }
    faces
}

/// The faces (most certain first) without those that lie mostly inside a more certain one.
fn without_parts(faces: Vec<FaceDetection>) -> Vec<FaceDetection> {
    let mut kept: Vec<FaceDetection> = Vec::with_capacity(faces.len());
    for face in faces {
        if !kept.iter().any(|other| face.intersection(other) > INSIDE_ANOTHER * face.area()) {
            kept.push(face);
        }
    }
    kept
}

/// What a model that passed the detector contract declares.
struct DetectContract {
    batched: bool,
    side: u32,
    anchors: Vec<[f32; 2]>,
    box_scale: f32,
    score_clip: f32,
}

/// Why a model is not a face detector: what was checked, what it should be, what it is.
#[derive(Debug)]
struct Refusal {
    what: String,
    expected: String,
    found: String,
}

impl std::fmt::Display for Refusal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "not a sketch2face face detector (contract {DETECT_CONTRACT}): {}: expected {}, found {}",
            self.what, self.expected, self.found
        )
    }
}

/// Checks the metadata, the input and the outputs of a face detector, each with its own reason.
fn check_detect_contract(
    inputs: &[TensorSpec],
    outputs: &[TensorSpec],
    metadata: &BTreeMap<String, String>,
) -> Result<DetectContract, Refusal> {
    let refuse = |what: &str, expected: &str, found: String| Refusal {
        what: what.to_owned(),
        expected: expected.to_owned(),
        found,
    };
    let entry = |key: &str| metadata.get(key).map_or_else(|| "no such entry".to_owned(), |v| format!("\"{v}\""));
    if metadata.get(CONTRACT_KEY).map(String::as_str) != Some(DETECT_CONTRACT) {
        return Err(refuse(
            &format!("metadata `{CONTRACT_KEY}`"),
            &format!("\"{DETECT_CONTRACT}\""),
            entry(CONTRACT_KEY),
        ));
    }
    let side = metadata
        .get(INPUT_SIDE_KEY)
        .and_then(|v| v.trim().parse::<u32>().ok())
        .filter(|side| (16..=1024).contains(side))
        .ok_or_else(|| refuse(&format!("metadata `{INPUT_SIDE_KEY}`"), "a whole number from 16 to 1024", entry(INPUT_SIDE_KEY)))?;
    let strides = metadata
        .get(ANCHOR_STRIDES_KEY)
        .and_then(|v| v.split(',').map(|s| s.trim().parse::<u32>().ok()).collect::<Option<Vec<_>>>())
        .filter(|strides| (1..=8).contains(&strides.len()) && strides.iter().all(|s| (1..=side).contains(s)))
        .ok_or_else(|| {
            refuse(
                &format!("metadata `{ANCHOR_STRIDES_KEY}`"),
                "1 to 8 strides from 1 to the input side, comma separated",
                entry(ANCHOR_STRIDES_KEY),
            )
        })?;
    let number = |key: &str, range: std::ops::RangeInclusive<f32>, expected: &str| {
        metadata
            .get(key)
            .and_then(|v| v.trim().parse::<f32>().ok())
            .filter(|n| range.contains(n))
            .ok_or_else(|| refuse(&format!("metadata `{key}`"), expected, entry(key)))
    };
    let box_scale = number(BOX_SCALE_KEY, 1.0..=4096.0, "a number from 1 to 4096")?;
    let score_clip = number(SCORE_CLIP_KEY, 1.0..=1000.0, "a number from 1 to 1000")?;
    let anchors = ssd_anchors(&strides, side);
    let count = anchors.len();

    let names = |specs: &[TensorSpec]| specs.iter().map(|s| format!("`{}` {}", s.name, s.description)).collect::<Vec<_>>().join(", ");
    let [input] = inputs else {
        return Err(refuse("inputs", &format!("exactly one input named `{DETECT_INPUT_NAME}`"), names(inputs)));
    };
    let batch_ok = |dim: Option<&Dim>| matches!(dim, Some(Dim::Dynamic(_)) | Some(Dim::Fixed(1)));
    let fixed_side = Dim::Fixed(i64::from(side));
    let input_ok = input.name == DETECT_INPUT_NAME
        && input.element.as_deref() == Some("f32")
        && input.dims.len() == 4
        && batch_ok(input.dims.first())
        && input.dims[1] == fixed_side
        && input.dims[2] == fixed_side
        && input.dims[3] == Dim::Fixed(3);
    if !input_ok {
        return Err(refuse(
            "input",
            &format!("`{DETECT_INPUT_NAME}` f32 [N, {side}, {side}, 3] with N dynamic or 1"),
            names(inputs),
        ));
    }
    let output_ok = |name: &str, values: usize| {
        outputs.iter().find(|o| o.name == name).is_some_and(|o| {
            o.element.as_deref() == Some("f32")
                && o.dims.len() == 3
                && batch_ok(o.dims.first())
                && o.dims[1] == Dim::Fixed(count as i64)
                && o.dims[2] == Dim::Fixed(values as i64)
        })
    };
    if !(output_ok(REGRESSORS_NAME, REGRESSOR_VALUES) && output_ok(CLASSIFICATORS_NAME, 1)) {
        return Err(refuse(
            "outputs",
            &format!(
                "`{REGRESSORS_NAME}` f32 [N, {count}, {REGRESSOR_VALUES}] and `{CLASSIFICATORS_NAME}` f32 [N, {count}, 1] \
                 ({count} anchors for strides {strides:?} at side {side})"
            ),
            names(outputs),
        ));
    }
    Ok(DetectContract {
        batched: matches!(input.dims[0], Dim::Dynamic(_)),
        side,
        anchors,
        box_scale,
        score_clip,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const STRIDES: [u32; 4] = [8, 16, 16, 16];

    fn face(bounds: [f32; 4], score: f32) -> FaceDetection {
        let [x0, y0, x1, y1] = bounds;
        FaceDetection {
            bounds,
            score,
            keypoints: [[(x0 + x1) / 2.0, (y0 + y1) / 2.0]; KEYPOINTS],
        }
    }

    #[test]
    fn short_range_anchors_are_mediapipes_896_in_its_order() {
        let anchors = ssd_anchors(&STRIDES, 128);
        assert_eq!(anchors.len(), 16 * 16 * 2 + 8 * 8 * 6);
        // The stride-8 grid first, two anchors a cell, row by row.
        assert_eq!(&anchors[..3], &[[0.5 / 16.0, 0.5 / 16.0], [0.5 / 16.0, 0.5 / 16.0], [1.5 / 16.0, 0.5 / 16.0]]);
        assert_eq!(anchors[32], [0.5 / 16.0, 1.5 / 16.0]);
        // Then the three stride-16 layers share the 8x8 grid: six anchors a cell.
        assert_eq!(&anchors[512..518], &[[0.5 / 8.0, 0.5 / 8.0]; 6]);
        assert_eq!(anchors[518], [1.5 / 8.0, 0.5 / 8.0]);
        assert_eq!(anchors[895], [7.5 / 8.0, 7.5 / 8.0]);
    }

    #[test]
    fn a_regressor_decodes_about_its_anchor_and_the_logit_is_clipped_and_squashed() {
        let anchors = ssd_anchors(&STRIDES, 128);
        let mut regressors = vec![0.0; anchors.len() * REGRESSOR_VALUES];
        let mut logits = vec![-10.0; anchors.len()];
        // Anchor 518 is centred at (24, 8) px: a box 12 px right, 4 down, 32 x 40, the left eye
        // 6 px left of the anchor.
        let values = &mut regressors[518 * REGRESSOR_VALUES..519 * REGRESSOR_VALUES];
        values[..4].copy_from_slice(&[12.0, 4.0, 32.0, 40.0]);
        values[4] = -6.0;
        logits[518] = 1e9;
        let found = decode(&regressors, &logits, &anchors, 128.0, 128.0, 100.0, 0.6);
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].bounds, [20.0, -8.0, 52.0, 32.0]);
        assert_eq!(found[0].keypoints[FaceDetection::LEFT_EYE], [18.0, 8.0]);
        assert_eq!(found[0].keypoints[FaceDetection::MOUTH], [24.0, 8.0]);
        assert_eq!(found[0].score, 1.0 / (1.0 + (-100.0f32).exp()));
        // A logit of 0 is a score of a half: under the bar.
        logits[518] = 0.0;
        assert!(decode(&regressors, &logits, &anchors, 128.0, 128.0, 100.0, 0.6).is_empty());
    }

    #[test]
    fn values_no_real_detector_gives_are_no_face() {
        let anchors = ssd_anchors(&STRIDES, 128);
        let n = anchors.len();
        let good = [0.0, 0.0, 30.0, 30.0];
        let cases: [(&str, [f32; 4], f32); 6] = [
            ("NaN logit", good, f32::NAN),
            ("NaN box", [f32::NAN, 0.0, 30.0, 30.0], 5.0),
            ("infinite size", [0.0, 0.0, f32::INFINITY, 30.0], 5.0),
            ("negative size", [0.0, 0.0, -30.0, 30.0], 5.0),
            ("huge box", [0.0, 0.0, 1e6, 1e6], 5.0),
            ("far away", [1e6, 0.0, 30.0, 30.0], 5.0),
        ];
        for (what, bounds, logit) in cases {
            let mut regressors = vec![0.0; n * REGRESSOR_VALUES];
            regressors[..4].copy_from_slice(&bounds);
            let mut logits = vec![-100.0; n];
            logits[0] = logit;
            assert!(decode(&regressors, &logits, &anchors, 128.0, 128.0, 100.0, 0.6).is_empty(), "{what}");
        }
        // Every anchor a face: only the most certain few are kept.
        let mut regressors = vec![0.0; n * REGRESSOR_VALUES];
        for values in regressors.chunks_exact_mut(REGRESSOR_VALUES) {
            values[2..4].copy_from_slice(&[10.0, 10.0]);
        }
        assert_eq!(decode(&regressors, &vec![5.0; n], &anchors, 128.0, 128.0, 100.0, 0.6).len(), MAX_PER_VIEW);
    }

    #[test]
    fn weighted_suppression_merges_one_face_and_keeps_two_apart() {
        let faces = weighted_nms(
            vec![
                face([0.0, 0.0, 10.0, 10.0], 0.6),
                face([100.0, 0.0, 110.0, 10.0], 0.7),
                face([2.0, 0.0, 12.0, 10.0], 0.9),
            ],
            NMS_IOU,
        );
        assert_eq!(faces.len(), 2);
        // The first face: the score of its most certain detection, the box their weighted mean.
        assert_eq!(faces[0].score, 0.9);
        let x0 = (0.6 * 0.0 + 0.9 * 2.0) / 1.5;
        assert!((faces[0].bounds[0] - x0).abs() < 1e-5 && (faces[0].bounds[2] - (x0 + 10.0)).abs() < 1e-5, "{:?}", faces[0]);
        assert!((faces[0].keypoints[0][0] - (x0 + 5.0)).abs() < 1e-5);
        assert_eq!(faces[1], face([100.0, 0.0, 110.0, 10.0], 0.7));
        // Overlapping by a quarter of the union (IoU 0.25, under 0.3): two faces.
        assert_eq!(weighted_nms(vec![face([0.0, 0.0, 10.0, 10.0], 0.9), face([6.0, 0.0, 16.0, 10.0], 0.8)], NMS_IOU).len(), 2);
    }

    #[test]
    fn a_face_mostly_inside_a_more_certain_one_is_part_of_it() {
        let big = face([0.0, 0.0, 100.0, 100.0], 0.9);
        let eye = face([10.0, 20.0, 40.0, 50.0], 0.7);
        let neighbour = face([80.0, 0.0, 140.0, 60.0], 0.8);
        // The eye is wholly inside (IoU 0.09, under the suppression's 0.3); the neighbour a third.
        assert_eq!(without_parts(vec![big, neighbour, eye]), [big, neighbour]);
        // Only a more certain face swallows a part.
        assert_eq!(without_parts(vec![eye, big]).len(), 2);
    }

    #[test]
    fn tiles_overlap_by_a_third_and_cover_the_photo_end_to_end() {
        assert_eq!(positions(128, 128), [0]);
        assert_eq!(positions(100, 128), [-14]);
        // A level sized for 2, 3 and 4 tiles gets that many (the side of each rounded).
        for tiles in TILE_COUNTS {
            let length = (128.0 * (tiles as f32 - (tiles as f32 - 1.0) * TILE_OVERLAP)).round() as u32;
            let starts = positions(length, 128);
            assert_eq!(starts.len(), tiles as usize, "{length}");
            assert_eq!((starts[0], *starts.last().unwrap()), (0, i64::from(length) - 128));
            for pair in starts.windows(2) {
                assert!(128 - (pair[1] - pair[0]) >= 42, "{starts:?}");
            }
        }
    }

    #[test]
    fn a_small_photo_is_read_zoomed_out_and_whole_a_large_one_in_tiles_too() {
        let small = RgbImage::new(200, 150);
        let (views, inputs) = views_of(&small, 128);
        assert_eq!(views.len(), 2);
        assert_eq!(inputs.len(), 2 * 128 * 128 * 3);
        // Whole: the photo's 200 px across fill the input, letterboxed top and bottom in black.
        let whole = views[1];
        assert!((whole.scale[0] - 200.0 / 128.0).abs() < 1e-6 && whole.origin[0] == 0.0, "{whole:?}");
        assert!(whole.origin[1] < 0.0 && whole.inner_edges == [false; 4]);
        assert!(views.iter().all(|view| view.max_face == f32::INFINITY));
        assert_eq!(&inputs[128 * 128 * 3..128 * 128 * 3 + 3], &[-1.0; 3]);

        let large = RgbImage::new(4000, 3000);
        let (views, _) = views_of(&large, 128);
        // Zoomed out, whole, 2x2 (the shorter side of 3000 px needs two tiles too), 3x3, 4x3.
        let tiles = views.len() - 2;
        assert_eq!(tiles, 4 + 9 + 12, "{views:?}");
        // The 2x2 tiles report faces up to a quarter of the photo, the 3x3 ones a quarter of a
        // 2x2 tile (4000 / 1.667 = 2400 px).
        assert_eq!((views[2].max_face, views[6].max_face), (1000.0, 600.0));
        // Every tile's edges that lie inside the photo are the ones that cut it.
        for view in &views[2..] {
            let [x0, y0] = view.origin;
            let [x1, y1] = [x0 + 128.0 * view.scale[0], y0 + 128.0 * view.scale[1]];
            assert_eq!(view.inner_edges, [x0 > 0.5, y0 > 0.5, x1 < 3999.5, y1 < 2999.5], "{view:?}");
        }
    }

    #[test]
    fn a_tile_drops_a_face_cut_at_an_edge_it_shares_but_not_at_the_photos_border() {
        let view = View {
            origin: [0.0, 0.0],
            scale: [1.0, 1.0],
            inner_edges: [false, false, true, false],
            max_face: f32::INFINITY,
        };
        assert!(view.cuts(&face([100.0, 10.0, 140.0, 50.0], 0.9), 128.0));
        assert!(!view.cuts(&face([-12.0, 10.0, 28.0, 50.0], 0.9), 128.0));
        assert!(!view.cuts(&face([80.0, 10.0, 129.0, 50.0], 0.9), 128.0));
    }

    fn good() -> (Vec<TensorSpec>, Vec<TensorSpec>, BTreeMap<String, String>) {
        let batch = Dim::Dynamic("batch".into());
        let inputs = vec![TensorSpec::f32(DETECT_INPUT_NAME, &[batch.clone(), Dim::Fixed(128), Dim::Fixed(128), Dim::Fixed(3)])];
        let outputs = vec![
            TensorSpec::f32(REGRESSORS_NAME, &[batch.clone(), Dim::Fixed(896), Dim::Fixed(16)]),
            TensorSpec::f32(CLASSIFICATORS_NAME, &[batch, Dim::Fixed(896), Dim::Fixed(1)]),
        ];
        let metadata = [
            (CONTRACT_KEY, DETECT_CONTRACT),
            (INPUT_SIDE_KEY, "128"),
            (ANCHOR_STRIDES_KEY, "8,16,16,16"),
            (BOX_SCALE_KEY, "128"),
            (SCORE_CLIP_KEY, "100"),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect();
        (inputs, outputs, metadata)
    }

    fn refusal(inputs: &[TensorSpec], outputs: &[TensorSpec], metadata: &BTreeMap<String, String>) -> String {
        match check_detect_contract(inputs, outputs, metadata) {
            Err(refusal) => refusal.to_string(),
            Ok(_) => panic!("accepted"),
        }
    }

    #[test]
    fn a_model_following_the_detector_contract_is_accepted_with_what_it_declares() {
        let (inputs, outputs, metadata) = good();
        let contract = check_detect_contract(&inputs, &outputs, &metadata).unwrap();
        assert!(contract.batched);
        assert_eq!((contract.side, contract.anchors.len(), contract.box_scale, contract.score_clip), (128, 896, 128.0, 100.0));
    }

    #[test]
    fn each_break_of_the_detector_contract_is_refused_naming_what_is_wrong() {
        let (inputs, outputs, metadata) = good();
        let mut mesh = metadata.clone();
        mesh.insert(CONTRACT_KEY.into(), "mesh-1".into());
        assert!(refusal(&inputs, &outputs, &mesh).contains("`sketch2face.contract`: expected \"detect-1\", found \"mesh-1\""));
        for (key, value) in [(INPUT_SIDE_KEY, "big"), (ANCHOR_STRIDES_KEY, "8,x"), (BOX_SCALE_KEY, "0"), (SCORE_CLIP_KEY, "-1")] {
            let mut bad = metadata.clone();
            bad.insert(key.into(), value.into());
            assert!(refusal(&inputs, &outputs, &bad).contains(key), "{key}");
        }
        // Strides that make another number of anchors than the outputs hold.
        let mut other_anchors = metadata.clone();
        other_anchors.insert(ANCHOR_STRIDES_KEY.into(), "8,16".into());
        assert!(refusal(&inputs, &outputs, &other_anchors).contains("[N, 640, 16]"));
        let wrong_side = vec![TensorSpec::f32(DETECT_INPUT_NAME, &[Dim::Fixed(1), Dim::Fixed(192), Dim::Fixed(192), Dim::Fixed(3)])];
        assert!(refusal(&wrong_side, &outputs, &metadata).contains("`input` f32 [N, 128, 128, 3]"));
        let nchw = vec![TensorSpec::f32(DETECT_INPUT_NAME, &[Dim::Fixed(1), Dim::Fixed(3), Dim::Fixed(128), Dim::Fixed(128)])];
        assert!(refusal(&nchw, &outputs, &metadata).contains("found `input` f32 [1, 3, 128, 128]"));
        let no_scores = vec![outputs[0].clone()];
        assert!(refusal(&inputs, &no_scores, &metadata).contains("`classificators` f32 [N, 896, 1]"));
        let fixed_batch_of_two = vec![TensorSpec::f32(DETECT_INPUT_NAME, &[Dim::Fixed(2), Dim::Fixed(128), Dim::Fixed(128), Dim::Fixed(3)])];
        assert!(refusal(&fixed_batch_of_two, &outputs, &metadata).contains("N dynamic or 1"));
    }
}

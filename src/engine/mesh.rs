//! The mesh network (face pipeline v3, issue 24): MediaPipe's face-landmark network fine-tuned
//! on sketches (`training/mesh.py`), run on crops of the drawing, and [`MeshFinder`], the rule
//! that decides which crops it reads.
//!
//! The contract (`sketch2face.contract` = `mesh-1`, checked at load): input `crop` f32
//! `[N, S, S, 3]` (NHWC, the gray crop in 0..1 on all three channels); outputs `points` f32
//! `[N, 468, 2]` (MediaPipe's order without the iris, in crop pixels) and `presence` f32 `[N]`
//! (the probability that the crop holds a face); metadata `sketch2face.crop_side` (S),
//! `sketch2face.roi_scale` (the crop's side over the mesh box's longer side) and
//! `sketch2face.framing_box` (`cx,cy,side`: where a face drawn in the canvas framing lies).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use image::GrayImage;
use ndarray::{Array4, Axis, Ix1, Ix3};
use ort::session::Session;
use ort::value::TensorRef;

use super::contract::{CONTRACT_KEY, Dim, TensorSpec};
use super::session::{ExternalData, OpenedModel, checked_len};
use super::{EngineError, EngineOptions, Provider};
use crate::face::{CropBox, MESH_POINTS, Mesh, ink_bounds};

/// The contract a mesh model declares in `sketch2face.contract`.
pub const MESH_CONTRACT: &str = "mesh-1";
pub const CROP_NAME: &str = "crop";
pub const POINTS_NAME: &str = "points";
pub const PRESENCE_NAME: &str = "presence";
pub const CROP_SIDE_KEY: &str = "sketch2face.crop_side";
pub const ROI_SCALE_KEY: &str = "sketch2face.roi_scale";
pub const FRAMING_BOX_KEY: &str = "sketch2face.framing_box";
/// The shipped mesh model's file in `models/`.
pub const MESH_MODEL_FILE: &str = "mesh-v3.onnx";
/// A crop whose presence is at least this holds a face.
pub const FOUND_PRESENCE: f32 = 0.5;
/// Passes after the first guess, each framed by the mesh of the pass before: the first guess is
/// only roughly where the face is, and the network is sharpest on its own framing.
const REFINE_PASSES: usize = 2;
/// The first guesses from the ink's box: (scale of its longer side, shift down in sides). A
/// drawing of a face alone fills about the mesh's box (x 1.5 is MediaPipe's framing); a whole
/// head with hair and neck is larger than the face, whose centre lies a little below the head's.
const INK_GUESSES: [(f32, f32); 3] = [(1.5, 0.0), (1.1, 0.04), (0.8, 0.08)];

/// One reading of the network: a mesh in the drawing's pixels, and how sure it is of a face.
#[derive(Clone, Debug)]
pub struct MeshReading {
    pub mesh: Mesh,
    pub presence: f32,
}

impl MeshReading {
    pub fn found(&self) -> bool {
        self.presence >= FOUND_PRESENCE
    }
}

/// A loaded mesh model. One thread owns it (`read` needs `&mut self`).
pub struct MeshNetwork {
    session: Session,
    path: PathBuf,
    provider: Provider,
    /// Whether the model takes more than one crop per run.
    batched: bool,
    crop_side: u32,
    roi_scale: f32,
    framing_box: [f32; 3],
    metadata: BTreeMap<String, String>,
}

impl MeshNetwork {
    /// Loads a mesh model and checks its contract, like [`super::Engine::load`] does a generator
    /// (the same file checks and the same CUDA-then-CPU fallback).
    pub fn load(path: &Path, opts: &EngineOptions) -> Result<MeshNetwork, EngineError> {
        let opened = OpenedModel::open(path, opts, ExternalData::Refuse)?;
        let checked = check_mesh_contract(path, &opened.inputs, &opened.outputs, &opened.metadata)?;
        Ok(MeshNetwork {
            session: opened.session,
            path: path.to_owned(),
            provider: opened.provider,
            batched: checked.batched,
            crop_side: checked.crop_side,
            roi_scale: checked.roi_scale,
            framing_box: checked.framing_box,
            metadata: opened.metadata,
        })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    pub fn provider(&self) -> Provider {
        self.provider
    }

    pub fn crop_side(&self) -> u32 {
        self.crop_side
    }

    pub fn roi_scale(&self) -> f32 {
        self.roi_scale
    }

    /// `[cx, cy, side]` in fractions of the canvas: where a face drawn in the canvas framing lies.
    pub fn framing_box(&self) -> [f32; 3] {
        self.framing_box
    }

    pub fn metadata(&self) -> &BTreeMap<String, String> {
        &self.metadata
    }

    /// The mesh and presence the network reads in each box of the drawing (one run for all the
    /// boxes when the model takes a batch). A box with no area reads as no face.
    pub fn read(&mut self, sketch: &GrayImage, boxes: &[CropBox]) -> Result<Vec<MeshReading>, EngineError> {
        let side = self.crop_side;
        let mut crops = Vec::with_capacity(boxes.len());
        let mut maps = Vec::with_capacity(boxes.len());
        for crop_box in boxes {
            match (crop_box.sample(sketch, side), crop_box.to_crop(side).and_then(|m| m.inverse())) {
                (Some(crop), Some(back)) => {
                    crops.push(crop);
                    maps.push(Some(back));
                }
                _ => maps.push(None),
            }
        }
        let mut outputs = Vec::with_capacity(crops.len());
        if self.batched {
            outputs = self.run(&crops)?;
        } else {
            for crop in &crops {
                outputs.extend(self.run(std::slice::from_ref(crop))?);
            }
        }
        let mut outputs = outputs.into_iter();
        let mut readings = Vec::with_capacity(boxes.len());
        for back in maps {
            let reading = match back {
                Some(back) => {
                    let (points, presence) = outputs.next().expect("one output per crop");
                    let points = points.into_iter().map(|p| back.apply(p)).collect();
                    let mesh = Mesh::new(points).map_err(|error| EngineError::MeshOutput {
                        path: self.path.clone(),
                        what: error.to_string(),
                    })?;
                    MeshReading { mesh, presence }
                }
                // Nothing to read in a box with no area: a flat "no face" at its centre.
                None => no_face(),
            };
            readings.push(reading);
        }
        Ok(readings)
    }

    /// Runs the network on crops: (points in crop pixels, presence) for each.
    fn run(&mut self, crops: &[GrayImage]) -> Result<Vec<(Vec<[f32; 2]>, f32)>, EngineError> {
        if crops.is_empty() {
            return Ok(Vec::new());
        }
        let path = self.path.clone();
        let run_error = |source| EngineError::Run {
            path: path.clone(),
            source,
        };
        let side = self.crop_side as usize;
        let batch = crops.len();
        checked_len(&path, CROP_NAME, &[batch, side, side, 3])?;
        let mut input = Array4::<f32>::zeros((batch, side, side, 3));
        for (n, crop) in crops.iter().enumerate() {
            let mut one = input.index_axis_mut(Axis(0), n);
            let data = one.as_slice_mut().expect("standard layout");
            // The gray crop as RGB, NHWC: each pixel three times.
            for (rgb, &gray) in data.chunks_exact_mut(3).zip(crop.as_raw()) {
                rgb.fill(f32::from(gray) / 255.0);
            }
        }
        let outputs = self
            .session
            .run(ort::inputs![CROP_NAME => TensorRef::from_array_view(&input).map_err(run_error)?])
            .map_err(run_error)?;
        let output = |name: &str| {
            outputs
                .get(name)
                .ok_or_else(|| run_error(ort::Error::new(format!("no output named `{name}`"))))?
                .try_extract_array::<f32>()
                .map_err(run_error)
        };
        let bad_shape = |what: String| EngineError::MeshOutput {
            path: path.clone(),
            what,
        };
        let points = output(POINTS_NAME)?;
        let found = format!("{:?}", points.shape());
        let points = points
            .into_dimensionality::<Ix3>()
            .ok()
            .filter(|p| p.shape() == [batch, MESH_POINTS, 2])
            .ok_or_else(|| bad_shape(format!("`{POINTS_NAME}` of shape {found}, not [{batch}, {MESH_POINTS}, 2]")))?;
        let presence = output(PRESENCE_NAME)?;
        let found = format!("{:?}", presence.shape());
        let presence = presence
            .into_dimensionality::<Ix1>()
            .ok()
            .filter(|p| p.len() == batch)
            .ok_or_else(|| bad_shape(format!("`{PRESENCE_NAME}` of shape {found}, not [{batch}]")))?;
        Ok((0..batch)
            .map(|n| {
                let mesh = (0..MESH_POINTS).map(|i| [points[[n, i, 0]], points[[n, i, 1]]]).collect();
                // A presence outside 0..1 (or NaN) from a crafted model reads as no face.
                let p = presence[n];
                (mesh, if p.is_finite() { p.clamp(0.0, 1.0) } else { 0.0 })
            })
            .collect())
    }
}

fn no_face() -> MeshReading {
    MeshReading {
        mesh: Mesh::new(vec![[0.0, 0.0]; MESH_POINTS]).expect("468 finite points"),
        presence: 0.0,
    }
}

/// Finds the face mesh of a drawing, and follows it while the drawing grows.
///
/// Without a mesh to follow it reads a few first guesses in one batch (the canvas framing and
/// boxes around the ink), keeps the most certain, and reads again [`REFINE_PASSES`] times, each
/// crop framed by the mesh before. While following, one read framed by the last mesh is enough:
/// a stroke moves the face a little at most. When that read finds no face it starts afresh.
pub struct MeshFinder {
    network: MeshNetwork,
    last: Option<Mesh>,
}

impl MeshFinder {
    pub fn new(network: MeshNetwork) -> MeshFinder {
        MeshFinder { network, last: None }
    }

    pub fn network(&self) -> &MeshNetwork {
        &self.network
    }

    pub fn network_mut(&mut self) -> &mut MeshNetwork {
        &mut self.network
    }

    /// The mesh of `sketch`, following the last one found; `None` on blank paper. A reading
    /// that is not [`MeshReading::found`] is returned too (its presence says how unsure).
    pub fn follow(&mut self, sketch: &GrayImage) -> Result<Option<MeshReading>, EngineError> {
        if let Some(last) = &self.last {
            let framed = CropBox::around(last, self.network.roi_scale());
            let reading = self.network.read(sketch, &[framed])?.remove(0);
            if reading.found() {
                self.last = Some(reading.mesh.clone());
                return Ok(Some(reading));
            }
        }
        let reading = self.find(sketch)?;
        self.last = reading.as_ref().filter(|r| r.found()).map(|r| r.mesh.clone());
        Ok(reading)
    }

    /// The mesh of `sketch` from scratch (what a file gets); `None` on blank paper.
    pub fn find(&mut self, sketch: &GrayImage) -> Result<Option<MeshReading>, EngineError> {
        let Some(ink) = ink_bounds(sketch) else {
            return Ok(None);
        };
        let mut guesses = vec![CropBox::from_fractions(
            self.network.framing_box(),
            sketch.width(),
            sketch.height(),
        )];
        guesses.extend(INK_GUESSES.iter().map(|&(scale, shift)| CropBox::around_bounds(ink, scale, shift)));
        let mut best = self
            .network
            .read(sketch, &guesses)?
            .into_iter()
            .max_by(|a, b| a.presence.total_cmp(&b.presence))
            .expect("at least one guess");
        for _ in 0..REFINE_PASSES {
            let framed = CropBox::around(&best.mesh, self.network.roi_scale());
            best = self.network.read(sketch, &[framed])?.remove(0);
        }
        Ok(Some(best))
    }

    /// Forgets the mesh followed: the next [`MeshFinder::follow`] starts afresh (a new drawing).
    pub fn forget(&mut self) {
        self.last = None;
    }
}

/// What a model that passed the mesh contract declares.
struct MeshContract {
    batched: bool,
    crop_side: u32,
    roi_scale: f32,
    framing_box: [f32; 3],
}

/// Checks the metadata, the input and the outputs of a mesh model, each with its own reason.
fn check_mesh_contract(
    path: &Path,
    inputs: &[TensorSpec],
    outputs: &[TensorSpec],
    metadata: &BTreeMap<String, String>,
) -> Result<MeshContract, EngineError> {
    let refuse = |what: &str, expected: &str, found: String| EngineError::MeshContract {
        path: path.to_owned(),
        what: what.to_owned(),
        expected: expected.to_owned(),
        found,
    };
    let entry = |key: &str| metadata.get(key).map_or_else(|| "no such entry".to_owned(), |v| format!("\"{v}\""));
    if metadata.get(CONTRACT_KEY).map(String::as_str) != Some(MESH_CONTRACT) {
        return Err(refuse(
            &format!("metadata `{CONTRACT_KEY}`"),
            &format!("\"{MESH_CONTRACT}\""),
            entry(CONTRACT_KEY),
        ));
    }
    let crop_side = metadata
        .get(CROP_SIDE_KEY)
        .and_then(|v| v.trim().parse::<u32>().ok())
        .filter(|side| (16..=1024).contains(side))
        .ok_or_else(|| refuse(&format!("metadata `{CROP_SIDE_KEY}`"), "a whole number from 16 to 1024", entry(CROP_SIDE_KEY)))?;
    let roi_scale = metadata
        .get(ROI_SCALE_KEY)
        .and_then(|v| v.trim().parse::<f32>().ok())
        .filter(|scale| (1.0..=4.0).contains(scale))
        .ok_or_else(|| refuse(&format!("metadata `{ROI_SCALE_KEY}`"), "a number from 1 to 4", entry(ROI_SCALE_KEY)))?;
    let framing_box = metadata
        .get(FRAMING_BOX_KEY)
        .and_then(|v| {
            let numbers: Vec<f32> = v.split(',').map(|n| n.trim().parse::<f32>()).collect::<Result<_, _>>().ok()?;
            <[f32; 3]>::try_from(numbers).ok()
        })
        .filter(|[cx, cy, side]| (0.0..=1.0).contains(cx) && (0.0..=1.0).contains(cy) && *side > 0.0 && *side <= 4.0)
        .ok_or_else(|| {
            refuse(
                &format!("metadata `{FRAMING_BOX_KEY}`"),
                "\"cx,cy,side\": a centre inside the canvas and a side from 0 to 4 canvases",
                entry(FRAMING_BOX_KEY),
            )
        })?;

    let side = Dim::Fixed(i64::from(crop_side));
    let names = |specs: &[TensorSpec]| specs.iter().map(|s| format!("`{}` {}", s.name, s.description)).collect::<Vec<_>>().join(", ");
    let [input] = inputs else {
        return Err(refuse("inputs", &format!("exactly one input named `{CROP_NAME}`"), names(inputs)));
    };
    let batch_ok = |dim: Option<&Dim>| matches!(dim, Some(Dim::Dynamic(_)) | Some(Dim::Fixed(1)));
    let input_ok = input.name == CROP_NAME
        && input.element.as_deref() == Some("f32")
        && input.dims.len() == 4
        && batch_ok(input.dims.first())
        && input.dims[1] == side
        && input.dims[2] == side
        && input.dims[3] == Dim::Fixed(3);
    if !input_ok {
        return Err(refuse(
            "input",
            &format!("`{CROP_NAME}` f32 [N, {crop_side}, {crop_side}, 3] with N dynamic or 1"),
            names(inputs),
        ));
    }
    let find = |name: &str| outputs.iter().find(|o| o.name == name);
    let points_ok = find(POINTS_NAME).is_some_and(|o| {
        o.element.as_deref() == Some("f32")
            && o.dims.len() == 3
            && batch_ok(o.dims.first())
            && o.dims[1] == Dim::Fixed(MESH_POINTS as i64)
            && o.dims[2] == Dim::Fixed(2)
    });
    let presence_ok = find(PRESENCE_NAME)
        .is_some_and(|o| o.element.as_deref() == Some("f32") && o.dims.len() == 1 && batch_ok(o.dims.first()));
    if !(points_ok && presence_ok) {
        return Err(refuse(
            "outputs",
            &format!("`{POINTS_NAME}` f32 [N, {MESH_POINTS}, 2] and `{PRESENCE_NAME}` f32 [N]"),
            names(outputs),
        ));
    }
    Ok(MeshContract {
        batched: matches!(input.dims[0], Dim::Dynamic(_)),
        crop_side,
        roi_scale,
        framing_box,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn good() -> (Vec<TensorSpec>, Vec<TensorSpec>, BTreeMap<String, String>) {
        let batch = Dim::Dynamic("batch".into());
        let inputs = vec![TensorSpec::f32(CROP_NAME, &[batch.clone(), Dim::Fixed(192), Dim::Fixed(192), Dim::Fixed(3)])];
        let outputs = vec![
            TensorSpec::f32(POINTS_NAME, &[batch.clone(), Dim::Fixed(468), Dim::Fixed(2)]),
            TensorSpec::f32(PRESENCE_NAME, &[batch]),
        ];
        let metadata = [
            (CONTRACT_KEY, MESH_CONTRACT),
            (CROP_SIDE_KEY, "192"),
            (ROI_SCALE_KEY, "1.5"),
            (FRAMING_BOX_KEY, "0.5,0.45,0.9"),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect();
        (inputs, outputs, metadata)
    }

    fn refusal(inputs: &[TensorSpec], outputs: &[TensorSpec], metadata: &BTreeMap<String, String>) -> String {
        match check_mesh_contract(Path::new("m.onnx"), inputs, outputs, metadata) {
            Err(error) => error.to_string(),
            Ok(_) => panic!("accepted"),
        }
    }

    #[test]
    fn a_model_following_the_mesh_contract_is_accepted_with_what_it_declares() {
        let (inputs, outputs, metadata) = good();
        let contract = check_mesh_contract(Path::new("m.onnx"), &inputs, &outputs, &metadata).unwrap();
        assert!(contract.batched);
        assert_eq!((contract.crop_side, contract.roi_scale, contract.framing_box), (192, 1.5, [0.5, 0.45, 0.9]));
    }

    #[test]
    fn each_break_of_the_mesh_contract_is_refused_naming_what_is_wrong() {
        let (inputs, outputs, metadata) = good();
        let mut generator = metadata.clone();
        generator.insert(CONTRACT_KEY.into(), "2".into());
        assert!(refusal(&inputs, &outputs, &generator).contains("`sketch2face.contract`: expected \"mesh-1\", found \"2\""));
        for (key, value) in [(CROP_SIDE_KEY, "huge"), (ROI_SCALE_KEY, "0.1"), (FRAMING_BOX_KEY, "0.5,0.5")] {
            let mut bad = metadata.clone();
            bad.insert(key.into(), value.into());
            assert!(refusal(&inputs, &outputs, &bad).contains(key), "{key}");
        }
        let mut missing = metadata.clone();
        missing.remove(FRAMING_BOX_KEY);
        assert!(refusal(&inputs, &outputs, &missing).contains("found no such entry"));
        let wrong_side = vec![TensorSpec::f32(CROP_NAME, &[Dim::Fixed(1), Dim::Fixed(128), Dim::Fixed(128), Dim::Fixed(3)])];
        assert!(refusal(&wrong_side, &outputs, &metadata).contains("`crop` f32 [N, 192, 192, 3]"));
        let no_presence = vec![outputs[0].clone()];
        assert!(refusal(&inputs, &no_presence, &metadata).contains("`presence` f32 [N]"));
    }
}

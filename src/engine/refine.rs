//! The refine network (face pipeline v3, issue 25): the bank face warped onto the drawing's mesh,
//! made to follow the drawing and its colour hints (`training/refine.py`; model contract 3,
//! [`check_refine_contract`]). One run refines every variation of a drawing as one batch.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use image::{GrayImage, RgbImage, RgbaImage};
use ndarray::{Array4, Axis};
use ort::session::Session;
use ort::value::TensorRef;

use super::contract::{EXEMPLAR_NAME, HINTS_NAME, INPUT_NAME, OUTPUT_NAME, TONED_NAME, check_refine_contract};
use super::process::{hints_into, preprocess_into};
use super::session::{ExternalData, OpenedModel, checked_len, images_from_output};
use super::{EngineError, EngineOptions, Provider};
use crate::face::PaintedRegions;

/// The shipped refine model's file in `models/`.
pub const REFINE_MODEL_FILE: &str = "refine-v3.onnx";

/// One face refined: as the network made it, and, from a model with the tone head
/// (`training/tone.py`), with the colour layout the drawing and its hints say, each region the
/// user painted taking the painted colour on average ([`PaintedRegions`]).
#[derive(Clone, Debug)]
pub struct Refined {
    pub face: RgbImage,
    pub toned: Option<RgbImage>,
}

/// Which of a refine model's faces a caller shows ([`RefineNetwork::refine_shown`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Shown {
    /// The network's face (a look photo's: its colours are the user's choice).
    Face,
    /// The toned face where the model has the tone head, else the network's face.
    Toned,
}

/// A loaded refine model. One thread owns it (`refine` needs `&mut self`).
pub struct RefineNetwork {
    session: Session,
    path: PathBuf,
    provider: Provider,
    resolution: u32,
    /// Whether the model takes more than one face per run.
    batched: bool,
    /// Whether it gives the toned face too.
    toned: bool,
    metadata: BTreeMap<String, String>,
    sketch: Array4<f32>,
    hints: Array4<f32>,
}

impl RefineNetwork {
    /// Loads a refine model and checks contract 3 (the same file checks and CUDA-then-CPU
    /// fallback as every model).
    pub fn load(path: &Path, opts: &EngineOptions) -> Result<RefineNetwork, EngineError> {
        let opened = OpenedModel::open(path, opts, ExternalData::Refuse)?;
        let contract = check_refine_contract(path, &opened.inputs, &opened.outputs, &opened.metadata)?;
        let batched = opened.inputs.iter().all(|spec| !matches!(spec.dims.first(), Some(super::contract::Dim::Fixed(1))));
        let side = contract.resolution as usize;
        Ok(RefineNetwork {
            session: opened.session,
            path: path.to_owned(),
            provider: opened.provider,
            resolution: contract.resolution,
            batched,
            toned: contract.toned,
            metadata: opened.metadata,
            sketch: Array4::zeros((1, 1, side, side)),
            hints: Array4::zeros((1, 4, side, side)),
        })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    pub fn provider(&self) -> Provider {
        self.provider
    }

    /// The side of the faces it takes and makes.
    pub fn resolution(&self) -> u32 {
        self.resolution
    }

    pub fn metadata(&self) -> &BTreeMap<String, String> {
        &self.metadata
    }

    /// Whether its faces come with the toned face ([`Refined::toned`]).
    pub fn toned(&self) -> bool {
        self.toned
    }

    /// Each exemplar (a warped face at the model's resolution) refined toward `sketch` (the page
    /// the faces are in, any square size: fitted and resized like a generator's sketch) and its
    /// `hints` (already fitted onto the page; none is all zeros).
    pub fn refine(
        &mut self,
        sketch: &GrayImage,
        exemplars: &[&RgbImage],
        hints: Option<&RgbaImage>,
    ) -> Result<Vec<Refined>, EngineError> {
        let toned = self.toned;
        let faces = self.refine_into_images(sketch, exemplars, hints, true, toned)?;
        Ok(faces
            .into_iter()
            .map(|(face, toned)| Refined {
                face: face.expect("the face was asked for"),
                toned,
            })
            .collect())
    }

    /// [`RefineNetwork::refine`], only the faces `shown` made into images (each output's
    /// conversion costs as much as the run's input tensors).
    pub fn refine_shown(
        &mut self,
        sketch: &GrayImage,
        exemplars: &[&RgbImage],
        hints: Option<&RgbaImage>,
        shown: Shown,
    ) -> Result<Vec<RgbImage>, EngineError> {
        let toned = shown == Shown::Toned && self.toned;
        let faces = self.refine_into_images(sketch, exemplars, hints, !toned, toned)?;
        Ok(faces
            .into_iter()
            .map(|(face, toned_face)| match toned {
                true => toned_face.expect("the toned face was asked for"),
                false => face.expect("the face was asked for"),
            })
            .collect())
    }

    #[allow(clippy::type_complexity)]
    fn refine_into_images(
        &mut self,
        sketch: &GrayImage,
        exemplars: &[&RgbImage],
        hints: Option<&RgbaImage>,
        face: bool,
        toned: bool,
    ) -> Result<Vec<(Option<RgbImage>, Option<RgbImage>)>, EngineError> {
        let side = self.resolution as usize;
        if let Some(bad) = exemplars.iter().find(|e| e.width() as usize != side || e.height() as usize != side) {
            return Err(EngineError::RefineInput {
                path: self.path.clone(),
                what: format!("an exemplar of {}x{} px, the model takes {side}x{side}", bad.width(), bad.height()),
            });
        }
        match box_downsampled(sketch, self.resolution) {
            // A page a whole multiple of the model's side (the app's and a file's): the mean of
            // each block, as the training sketches' line widths are (and 10x cheaper than Lanczos).
            Some(small) => preprocess_into(&small, &mut self.sketch),
            None => preprocess_into(sketch, &mut self.sketch),
        }
        match hints {
            Some(hints) => hints_into(hints, &mut self.hints),
            None => self.hints.fill(0.0),
        }
        let mut faces = Vec::with_capacity(exemplars.len());
        let chunk = if self.batched { exemplars.len().max(1) } else { 1 };
        for group in exemplars.chunks(chunk) {
            faces.extend(self.run(group, face, toned)?);
        }
        // The toned face follows the drawing's colours, so what the user painted is its
        // colour there: each painted region's mean, most of its detail kept.
        let painted = match hints {
            Some(_) if toned && self.toned => {
                PaintedRegions::new(side, self.hints.as_slice().expect("the hints buffer is in standard layout"))
            }
            _ => None,
        };
        if let Some(regions) = painted {
            faces.iter_mut().filter_map(|(_, toned)| toned.as_mut()).for_each(|toned| regions.match_colours(toned));
        }
        Ok(faces)
    }

    #[allow(clippy::type_complexity)]
    fn run(
        &mut self,
        exemplars: &[&RgbImage],
        face: bool,
        toned: bool,
    ) -> Result<Vec<(Option<RgbImage>, Option<RgbImage>)>, EngineError> {
        let path = self.path.clone();
        let run_error = |source| EngineError::Run { path: path.clone(), source };
        let (batch, side) = (exemplars.len(), self.resolution as usize);
        checked_len(&path, EXEMPLAR_NAME, &[batch, 3, side, side])?;
        let mut exemplar = Array4::<f32>::zeros((batch, 3, side, side));
        for (n, image) in exemplars.iter().enumerate() {
            let plane = side * side;
            let data = exemplar.index_axis_mut(Axis(0), n);
            let data = data.into_slice().expect("standard layout");
            for (i, pixel) in image.as_raw().chunks_exact(3).enumerate() {
                for channel in 0..3 {
                    data[channel * plane + i] = f32::from(pixel[channel]) / 127.5 - 1.0;
                }
            }
        }
        let repeat = |one: &Array4<f32>| ndarray::concatenate(Axis(0), &vec![one.view(); batch]).expect("same shapes");
        let (sketches, hint_batch) = match batch {
            1 => (None, None),
            _ => (Some(repeat(&self.sketch)), Some(repeat(&self.hints))),
        };
        let outputs = self
            .session
            .run(ort::inputs![
                INPUT_NAME => TensorRef::from_array_view(sketches.as_ref().unwrap_or(&self.sketch)).map_err(run_error)?,
                EXEMPLAR_NAME => TensorRef::from_array_view(&exemplar).map_err(run_error)?,
                HINTS_NAME => TensorRef::from_array_view(hint_batch.as_ref().unwrap_or(&self.hints)).map_err(run_error)?,
            ])
            .map_err(run_error)?;
        let images = |wanted: bool, name: &'static str| -> Result<Vec<Option<RgbImage>>, EngineError> {
            match wanted {
                true => Ok(images_from_output(&path, &outputs, name, batch, side)?.into_iter().map(Some).collect()),
                false => Ok(vec![None; batch]),
            }
        };
        let faces = images(face, OUTPUT_NAME)?;
        let toned = images(toned && self.toned, TONED_NAME)?;
        Ok(faces.into_iter().zip(toned).collect())
    }
}

/// `page` (square, a whole multiple of `side`) averaged over blocks down to `side`; `None` for
/// any other size.
fn box_downsampled(page: &GrayImage, side: u32) -> Option<GrayImage> {
    let (width, height) = page.dimensions();
    if width != height || side == 0 || width % side != 0 || width == side {
        return None;
    }
    let factor = (width / side) as usize;
    let (source, wide) = (page.as_raw(), width as usize);
    let mut out = vec![0u8; (side * side) as usize];
    let area = (factor * factor) as u32;
    for (y, row) in out.chunks_exact_mut(side as usize).enumerate() {
        for (x, value) in row.iter_mut().enumerate() {
            let mut sum = 0u32;
            for dy in 0..factor {
                let start = (y * factor + dy) * wide + x * factor;
                sum += source[start..start + factor].iter().map(|&v| u32::from(v)).sum::<u32>();
            }
            *value = ((sum + area / 2) / area) as u8;
        }
    }
    GrayImage::from_raw(side, side, out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_page_twice_the_side_is_averaged_in_blocks_and_other_sizes_are_left_alone() {
        let page = GrayImage::from_fn(4, 4, |x, y| image::Luma([if (x + y) % 2 == 0 { 0 } else { 255 }]));
        let small = box_downsampled(&page, 2).unwrap();
        assert_eq!(small.dimensions(), (2, 2));
        assert!(small.pixels().all(|p| p.0[0] == 128), "{small:?}");
        let mut stripe = GrayImage::from_pixel(6, 6, image::Luma([255]));
        for y in 0..6 {
            stripe.put_pixel(0, y, image::Luma([0]));
        }
        let thirds = box_downsampled(&stripe, 2).unwrap();
        assert_eq!((thirds.get_pixel(0, 0).0[0], thirds.get_pixel(1, 1).0[0]), (170, 255));
        assert!(box_downsampled(&page, 4).is_none() && box_downsampled(&page, 3).is_none());
        assert!(box_downsampled(&GrayImage::new(4, 2), 2).is_none());
    }
}

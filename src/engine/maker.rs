//! What the app's worker and the server paint faces with: face pipeline v3 (mesh -> bank ->
//! warp -> refine, [`FacePipeline`]) when its models load, and the v2 generator beside it.
//!
//! The generator paints when the pipeline cannot: its models are missing or refused (the reason
//! is kept, for the app to say), or the drawing has no face in it yet (the first strokes, a
//! scribble). So the user always sees a face, and a photographic one as soon as the drawing is
//! a face.

use std::path::{Path, PathBuf};

use image::{GrayImage, RgbImage, RgbaImage};

use super::look::{Look, LookError};
use super::pipeline::{BANK_FILE, Exemplars, FacePipeline, PipelineError, PipelineOutput};
use super::runtime::shipped_model_file;
use super::session::{Conditions, Engine};
use super::{EngineError, EngineOptions, FACE_DETECT_MODEL_FILE, MESH_MODEL_FILE, REFINE_MODEL_FILE, Seed};
use crate::error_chain;
use crate::face::Retrievers;

/// Whether the app paints with face pipeline v3 unless the user says otherwise. The rule of
/// issue 25 (models/card/V3.md): v3 becomes the default when its evaluation beats v2's on every
/// line; it does not yet (it wins 14 of 15; the hint ratio, which it loses by being closer to the
/// photo without hints), so the default stays the generator, and the photographic faces are one
/// switch away.
pub const PHOTOGRAPHIC_BY_DEFAULT: bool = false;

/// The pipeline's three files.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PipelineModels {
    pub mesh: PathBuf,
    pub bank: PathBuf,
    pub refine: PathBuf,
    /// The face detector for look photos (the faces do not need it).
    pub detect: PathBuf,
}

impl PipelineModels {
    /// The shipped files in `models/`.
    pub fn shipped() -> PipelineModels {
        PipelineModels {
            mesh: shipped_model_file(MESH_MODEL_FILE),
            bank: shipped_model_file(BANK_FILE),
            refine: shipped_model_file(REFINE_MODEL_FILE),
            detect: shipped_model_file(FACE_DETECT_MODEL_FILE),
        }
    }
}

/// Which network painted a face.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Painter {
    /// Face pipeline v3: a real face warped onto the drawing's mesh and refined.
    Pipeline,
    /// The generator (v2): the pipeline is not loaded, or found no face in the drawing.
    Generator,
}

/// One face, and who it is.
#[derive(Clone, Debug)]
pub struct MadeFace {
    pub face: RgbImage,
    pub painter: Painter,
    /// The bank face the pipeline warped (`None` from the generator or the look photo).
    pub person: Option<usize>,
    pub seed: Seed,
}

/// What a face is made of.
#[derive(Clone, Copy, Debug)]
pub struct FaceOrder<'a> {
    /// The sketch page (any square size).
    pub sketch: &'a GrayImage,
    /// Colour hints (colour where alpha > 0), fitted onto the page like the sketch.
    pub hints: Option<&'a RgbaImage>,
    /// The drawing grows stroke by stroke (the app), or is one file (the server, the CLI).
    pub following: bool,
}

/// The generator and, when it loads, the pipeline. One thread owns it (the worker, or one of
/// the server's sessions).
pub struct FaceMaker {
    generator: Engine,
    pipeline: Option<FacePipeline>,
    pipeline_error: Option<String>,
    /// The face's retrieval slot (one, for the face's seed), and the variation strip's.
    face_slot: Retrievers,
    strip: Retrievers,
}

impl FaceMaker {
    /// Loads the generator (it must load) and the pipeline (`None`: the generator alone). A
    /// pipeline that fails to load is not an error: its reason is kept
    /// ([`FaceMaker::pipeline_error`]) and the generator paints every face.
    pub fn load(generator: &Path, pipeline: Option<&PipelineModels>, opts: &EngineOptions) -> Result<FaceMaker, EngineError> {
        let generator = Engine::load(generator, opts)?;
        let (pipeline, pipeline_error) = match pipeline {
            None => (None, None),
            Some(models) => match FacePipeline::load_refined(&models.mesh, &models.bank, &models.refine, opts, &[]) {
                Ok(mut pipeline) => {
                    pipeline.load_detector(&models.detect, opts);
                    (Some(pipeline), None)
                }
                Err(error) => (None, Some(error_chain(&error))),
            },
        };
        Ok(FaceMaker { generator, pipeline, pipeline_error, face_slot: Retrievers::new(&[]), strip: Retrievers::new(&[]) })
    }

    pub fn generator(&self) -> &Engine {
        &self.generator
    }

    pub fn pipeline(&self) -> Option<&FacePipeline> {
        self.pipeline.as_ref()
    }

    /// Why the pipeline was asked for and did not load.
    pub fn pipeline_error(&self) -> Option<&str> {
        self.pipeline_error.as_deref()
    }

    /// A new drawing: the mesh followed and the faces held are forgotten (pins too).
    pub fn reset(&mut self) {
        if let Some(pipeline) = self.pipeline.as_mut() {
            pipeline.reset();
        }
        self.face_slot.reset();
        self.strip.reset();
    }

    /// The one face of a look photo (see [`FacePipeline::read_look`]).
    pub fn read_look(&mut self, photo: &RgbImage) -> Result<Look, LookError> {
        match self.pipeline.as_mut() {
            Some(pipeline) => pipeline.read_look(photo),
            None => Err(LookError::NoPipeline),
        }
    }

    /// The face: from `look` when there is one, else the bank face `pin` when given, else the
    /// one the face's `seed` retrieves (held while it stays a good match as the drawing grows).
    pub fn face(
        &mut self,
        order: &FaceOrder<'_>,
        seed: Seed,
        pin: Option<usize>,
        look: Option<&Look>,
    ) -> Result<MadeFace, PipelineError> {
        if let Some(pipeline) = self.pipeline.as_mut() {
            if self.face_slot.seeds().ne([seed.0]) {
                self.face_slot = Retrievers::new(&[seed.0]);
            }
            match pin {
                Some(face) => self.face_slot.pin(0, face),
                None => self.face_slot.unpin(0),
            }
            let exemplars = match look {
                Some(look) => Exemplars::Look(look),
                None => Exemplars::Bank(&mut self.face_slot),
            };
            let output = pipeline.run_with(order.sketch, order.hints, order.following, exemplars)?;
            if let PipelineOutput::Faces { mut faces, .. } = output {
                let face = faces.remove(0);
                return Ok(MadeFace { face: face.face, painter: Painter::Pipeline, person: face.bank_face, seed });
            }
        }
        let code = seed.code(self.generator.info().z_dim);
        let conditions = Conditions { hints: order.hints, z: Some(&code) };
        let face = self.generator.generate_with(order.sketch, &conditions)?;
        Ok(MadeFace { face, painter: Painter::Generator, person: None, seed })
    }

    /// One face per seed, each a different person (the variation strip), in one batch.
    pub fn variations(&mut self, order: &FaceOrder<'_>, seeds: &[Seed]) -> Result<Vec<MadeFace>, PipelineError> {
        if let Some(pipeline) = self.pipeline.as_mut() {
            if self.strip.seeds().ne(seeds.iter().map(|seed| seed.0)) {
                let seeds: Vec<u64> = seeds.iter().map(|seed| seed.0).collect();
                self.strip = Retrievers::new(&seeds);
            }
            let output = pipeline.run_with(order.sketch, order.hints, order.following, Exemplars::Bank(&mut self.strip))?;
            if let PipelineOutput::Faces { faces, .. } = output {
                return Ok(faces
                    .into_iter()
                    .zip(seeds)
                    .map(|(face, &seed)| MadeFace { face: face.face, painter: Painter::Pipeline, person: face.bank_face, seed })
                    .collect());
            }
        }
        let z_dim = self.generator.info().z_dim;
        let codes: Vec<Vec<f32>> = seeds.iter().map(|seed| seed.code(z_dim)).collect();
        let codes: Vec<Option<&[f32]>> = codes.iter().map(|code| Some(code.as_slice())).collect();
        let faces = self.generator.generate_batch(order.sketch, order.hints, &codes)?;
        Ok(faces
            .into_iter()
            .zip(seeds)
            .map(|(face, &seed)| MadeFace { face, painter: Painter::Generator, person: None, seed })
            .collect())
    }
}

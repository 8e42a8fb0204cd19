//! Face pipeline v3 (issues 24-26), in one place and in its order:
//!
//! ```text
//! drawing -> the drawing's face mesh (MeshFinder, the mesh network)
//!         -> made a plausible face (the bank's shape model)
//!         -> real faces retrieved by shape and hinted colours (Retrievers, one per seed)
//!         -> each chosen face warped onto the drawing's mesh (FaceWarp)
//!         -> refined toward the drawing and its hints (RefineNetwork, when loaded) -> faces
//! ```
//!
//! The faces are in the canvas's frame at [`FACE_SIDE`] px: a face lies where it was drawn, at
//! the size it was drawn (the drawing decides the geometry; the bank's photographs give the
//! texture). The mesh and refine networks run here, through ort; everything between them is
//! plain Rust in [`crate::face`]. Without a refine network the pipeline stops at the warp (the
//! warped stage, `generate --stage warped`).

use std::path::{Path, PathBuf};

use image::{GrayImage, RgbImage, RgbaImage};

use super::detect::FaceDetector;
use super::look::{Look, LookError, read_look};
use super::mesh::{MeshFinder, MeshNetwork, MeshReading};
use super::refine::{RefineNetwork, Shown};
use super::{EngineError, EngineOptions};
use crate::face::{
    Bank, BankError, FaceWarp, Mesh, Query, QueryError, Retrievers, Similarity, hint_colours,
};
use crate::sketch::PageFit;

/// The side of the faces the pipeline makes (and of the bank's photographs).
pub const FACE_SIDE: u32 = 256;
/// The shipped face bank's file in `models/`.
pub const BANK_FILE: &str = "bank-v3.s2fb";

/// Why the pipeline could not be loaded or run.
#[derive(Debug, thiserror::Error)]
pub enum PipelineError {
    #[error(transparent)]
    Engine(#[from] EngineError),
    #[error("cannot load the face bank {}", path.display())]
    Bank {
        path: PathBuf,
        #[source]
        source: BankError,
    },
    #[error("face bank {}: its faces are {found} px, the pipeline makes {FACE_SIDE} px faces", path.display())]
    BankSide { path: PathBuf, found: u32 },
    #[error("refine model {}: its faces are {found} px, the pipeline makes {FACE_SIDE} px faces", path.display())]
    RefineSide { path: PathBuf, found: u32 },
    #[error("retrieval from the face bank {} failed", path.display())]
    Retrieval {
        path: PathBuf,
        #[source]
        source: QueryError,
    },
}

/// One face the pipeline made, and how it was made.
#[derive(Clone, Debug)]
pub struct PipelineFace {
    /// The face: refined when the pipeline has a refine network, else the warped one. A bank
    /// face from a refine model with the tone head is the toned one ([`crate::engine::Refined::toned`]); the
    /// look photo's never is (its colours are the user's choice).
    pub face: RgbImage,
    /// The bank face warped onto the drawing's mesh (the refine network's exemplar).
    pub warped: RgbImage,
    /// Which bank face was warped; `None` for the look photo.
    pub bank_face: Option<usize>,
    /// The seed of the retrieval slot that chose it (0 for the look photo).
    pub seed: u64,
}

/// What the pipeline made of one drawing.
#[derive(Clone, Debug)]
pub enum PipelineOutput {
    /// Blank paper: nothing to read.
    Blank,
    /// Ink, but no face in it (the mesh network's best reading, unsure).
    NoFace(MeshReading),
    /// The drawing's mesh (in the face frame, made plausible), and one face per seed.
    Faces { reading: MeshReading, mesh: Mesh, faces: Vec<PipelineFace> },
}

/// Where the faces come from: bank faces retrieved by the slots of `Retrievers` (one face per
/// slot), or the one look photo.
pub enum Exemplars<'a> {
    Bank(&'a mut Retrievers),
    Look(&'a Look),
}

/// Whose coarse colours a refined face keeps: the drawing's (a bank person, whose colours are
/// chance; the toned face where the model has one) or the exemplar's own (the look photo).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Colours {
    Drawing,
    Exemplar,
}

/// The loaded pipeline: the mesh network, the bank and one retrieval slot per seed. One thread
/// owns it (the worker); `&mut self` because following a drawing and holding a choice are state.
pub struct FacePipeline {
    finder: MeshFinder,
    bank: Bank,
    bank_path: PathBuf,
    warp: FaceWarp,
    retrievers: Retrievers,
    refiner: Option<RefineNetwork>,
    /// The face detector the look photo needs, or why it did not load (`None`: not asked for).
    detector: Option<Result<FaceDetector, String>>,
}

impl FacePipeline {
    pub fn load(
        mesh_model: &Path,
        bank_path: &Path,
        opts: &EngineOptions,
        seeds: &[u64],
    ) -> Result<FacePipeline, PipelineError> {
        let network = MeshNetwork::load(mesh_model, opts)?;
        let bank = Bank::open(bank_path).map_err(|source| PipelineError::Bank {
            path: bank_path.to_owned(),
            source,
        })?;
        if bank.image_side() != FACE_SIDE {
            return Err(PipelineError::BankSide {
                path: bank_path.to_owned(),
                found: bank.image_side(),
            });
        }
        let warp = FaceWarp::new(bank.shape().mean(), FACE_SIDE);
        Ok(FacePipeline {
            finder: MeshFinder::new(network),
            bank,
            bank_path: bank_path.to_owned(),
            warp,
            retrievers: Retrievers::new(seeds),
            refiner: None,
            detector: None,
        })
    }

    /// The whole pipeline: [`FacePipeline::load`] and a refine model (contract 3) at the
    /// pipeline's face side.
    pub fn load_refined(
        mesh_model: &Path,
        bank_path: &Path,
        refine_model: &Path,
        opts: &EngineOptions,
        seeds: &[u64],
    ) -> Result<FacePipeline, PipelineError> {
        let mut pipeline = FacePipeline::load(mesh_model, bank_path, opts, seeds)?;
        let refiner = RefineNetwork::load(refine_model, opts)?;
        if refiner.resolution() != FACE_SIDE {
            return Err(PipelineError::RefineSide { path: refine_model.to_owned(), found: refiner.resolution() });
        }
        pipeline.refiner = Some(refiner);
        Ok(pipeline)
    }

    pub fn refine_network(&self) -> Option<&RefineNetwork> {
        self.refiner.as_ref()
    }

    pub fn bank(&self) -> &Bank {
        &self.bank
    }

    pub fn mesh_network(&self) -> &MeshNetwork {
        self.finder.network()
    }

    /// New seeds for the retrieval slots (their choices start afresh).
    pub fn set_seeds(&mut self, seeds: &[u64]) {
        self.retrievers = Retrievers::new(seeds);
    }

    /// Loads the face detector a look photo needs. A detector that does not load is no error
    /// for the faces: its reason is what [`FacePipeline::read_look`] answers.
    pub fn load_detector(&mut self, path: &Path, opts: &EngineOptions) {
        self.detector = Some(FaceDetector::load(path, opts).map_err(|error| crate::error_chain(&error)));
    }

    /// The one face of `photo` (any size and framing), aligned like a bank face: the look.
    pub fn read_look(&mut self, photo: &RgbImage) -> Result<Look, LookError> {
        let detector = match self.detector.as_mut() {
            Some(Ok(detector)) => detector,
            Some(Err(reason)) => return Err(LookError::NoDetector { reason: reason.clone() }),
            None => return Err(LookError::NoDetector { reason: "none was loaded".to_owned() }),
        };
        read_look(detector, self.finder.network_mut(), self.bank.shape().mean(), FACE_SIDE, photo)
    }

    /// A new drawing: forget the mesh followed and the faces held.
    pub fn reset(&mut self) {
        self.finder.forget();
        self.retrievers.reset();
    }

    /// The faces for `sketch` (a sketch page, any square size) with optional colour `hints`
    /// (RGBA, colour where alpha > 0, fitted onto the page like a sketch file).
    ///
    /// `following`: the drawing is growing stroke by stroke (the app): the mesh follows the last
    /// one and the faces chosen are held while they stay good. Otherwise (a file) the mesh is
    /// found from scratch; the choice still holds between calls until [`FacePipeline::reset`].
    pub fn run(
        &mut self,
        sketch: &GrayImage,
        hints: Option<&RgbaImage>,
        following: bool,
    ) -> Result<PipelineOutput, PipelineError> {
        let mut retrievers = std::mem::replace(&mut self.retrievers, Retrievers::new(&[]));
        let output = self.run_with(sketch, hints, following, Exemplars::Bank(&mut retrievers));
        self.retrievers = retrievers;
        output
    }

    /// [`FacePipeline::run`] with the faces from `exemplars`: the caller's own retrieval slots
    /// (the app keeps one for the face and one for the variations strip), or a look photo.
    pub fn run_with(
        &mut self,
        sketch: &GrayImage,
        hints: Option<&RgbaImage>,
        following: bool,
        exemplars: Exemplars<'_>,
    ) -> Result<PipelineOutput, PipelineError> {
        // 1. The drawing's mesh, in the sketch page's pixels.
        let reading = match following {
            true => self.finder.follow(sketch)?,
            false => self.finder.find(sketch)?,
        };
        let Some(reading) = reading else {
            return Ok(PipelineOutput::Blank);
        };
        if !reading.found() {
            return Ok(PipelineOutput::NoFace(reading));
        }

        // 2. Into the face frame, and made a plausible face (a wild reading becomes a face).
        let page_to_face = Similarity::scaling(FACE_SIDE as f32 / sketch.width().max(1) as f32);
        let mesh = self.bank.shape().plausible(&reading.mesh.transformed(&page_to_face));

        // 3. Retrieval: the shape, and the colours the user hinted on the drawing's regions.
        //    A look photo needs none: it is the face.
        let hints_image = hints;
        let retrievers = match exemplars {
            Exemplars::Look(look) => {
                let warped = self.warp.warp(&look.image, &look.mesh, &mesh);
                let faces = self.refined(sketch, hints_image, vec![(warped, None, 0)], Colours::Exemplar)?;
                return Ok(PipelineOutput::Faces { reading, mesh, faces });
            }
            Exemplars::Bank(retrievers) => retrievers,
        };
        let (coefficients, _) = self.bank.shape().coefficients(&mesh);
        let hints = hints.map(|hints| {
            let fit = PageFit {
                width: hints.width(),
                height: hints.height(),
                page: FACE_SIDE,
            };
            let in_hints = Mesh::new(mesh.points().iter().map(|&p| fit.to_file(p)).collect())
                .expect("a finite mesh maps to finite points");
            hint_colours(hints, &in_hints)
        });
        let query = Query {
            coefficients,
            hints: hints.unwrap_or_default(),
        };
        let retrieval_error = |source| PipelineError::Retrieval {
            path: self.bank_path.clone(),
            source,
        };
        let choices = retrievers.choose(self.bank.index(), Some(&query)).map_err(retrieval_error)?;

        // 4. Each chosen face warped onto the drawing's mesh.
        let mut warped = Vec::with_capacity(choices.len());
        for (choice, seed) in choices.iter().zip(retrievers.seeds()) {
            let photo = self.bank.face_image(choice.face).map_err(|source| PipelineError::Bank {
                path: self.bank_path.clone(),
                source,
            })?;
            warped.push((self.warp.warp(&photo, &self.bank.mesh(choice.face), &mesh), Some(choice.face), seed));
        }
        let faces = self.refined(sketch, hints_image, warped, Colours::Drawing)?;
        Ok(PipelineOutput::Faces { reading, mesh, faces })
    }

    /// The warped faces (each with its bank face and seed) refined toward the drawing and its
    /// hints, all in one run; without a refine network, the warped faces themselves.
    fn refined(
        &mut self,
        sketch: &GrayImage,
        hints: Option<&RgbaImage>,
        warped: Vec<(RgbImage, Option<usize>, u64)>,
        colours: Colours,
    ) -> Result<Vec<PipelineFace>, PipelineError> {
        let faces: Vec<RgbImage> = match self.refiner.as_mut() {
            Some(refiner) => {
                let exemplars: Vec<&RgbImage> = warped.iter().map(|(image, ..)| image).collect();
                // The hints image is fitted like the sketch file; the network fits both alike.
                let shown = match colours {
                    Colours::Drawing => Shown::Toned,
                    Colours::Exemplar => Shown::Face,
                };
                refiner.refine_shown(sketch, &exemplars, hints, shown)?
            }
            None => warped.iter().map(|(image, ..)| image.clone()).collect(),
        };
        Ok(faces
            .into_iter()
            .zip(warped)
            .map(|(face, (warped, bank_face, seed))| PipelineFace { face, warped, bank_face, seed })
            .collect())
    }
}


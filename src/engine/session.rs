//! [`Engine`]: one checked model in one ONNX Runtime session on the chosen execution provider.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use image::{GrayImage, RgbImage, RgbaImage};
use ndarray::{Array2, Array4, Axis, Ix4};
use ort::environment::Environment;
use ort::session::Session;
use ort::session::builder::{GraphOptimizationLevel, SessionBuilder};
use ort::value::TensorRef;

use super::contract::{HINTS_NAME, Z_NAME};
use super::contract::{TensorSpec, check_contract};
use super::onnx_scan::scan_model;
use super::runtime::runtime;
use super::{
    Device, EngineError, EngineOptions, INPUT_NAME, ModelInfo, OUTPUT_NAME, OutputShapeError,
    Provider, hints_into, postprocess, preprocess_into,
};

/// Most intra-op threads used when the options leave the count to the engine.
const DEFAULT_MAX_THREADS: usize = 4;
/// Largest model file read: protobuf (and so ONNX Runtime) cannot parse a larger message.
pub const MAX_MODEL_BYTES: u64 = i32::MAX as u64;
/// Largest buffer the engine allocates for one tensor, in bytes.
pub const MAX_TENSOR_BYTES: usize = 1 << 30;

/// Whether a model may read tensor data from other files (ONNX "external data").
///
/// ONNX Runtime reads such data from any file in the model's folder that the model names, so a
/// model from elsewhere could copy a neighbouring file into its face: refused unless allowed.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum ExternalData {
    /// Refuse a model whose tensors name other files, before ONNX Runtime opens it.
    #[default]
    Refuse,
    /// Let ONNX Runtime read them, from the model's folder only.
    Allow,
}

/// Where ONNX Runtime reads the model from.
enum ModelSource<'a> {
    /// The checked bytes themselves: what was checked is what runs.
    Bytes(&'a [u8]),
    /// The file, so that ONNX Runtime finds the external data beside it.
    File(&'a Path),
}

/// A loaded model that turns sketches into faces. `generate` needs `&mut self`: one thread owns it.
pub struct Engine {
    session: Session,
    info: ModelInfo,
    provider: Provider,
    /// Why `Device::Auto` ended on the CPU, when it tried CUDA and failed.
    cuda_error: Option<String>,
    /// The sketch input, reused between calls.
    input: Array4<f32>,
    /// The hints input ([1, 4, S, S]) when the model takes hints, reused between calls.
    hints: Option<Array4<f32>>,
}

/// What steers a face besides the sketch. The default is no hints and the zero code: the
/// model's default face.
#[derive(Clone, Copy, Debug, Default)]
pub struct Conditions<'a> {
    /// Colour hints: an RGBA image of any size, colour where alpha > 0, fitted like the sketch.
    /// Ignored by a model without a `hints` input.
    pub hints: Option<&'a RgbaImage>,
    /// The variation code; ignored by a model without a `z` input, zeros when `None`. A code
    /// shorter or longer than the model's is an error.
    pub z: Option<&'a [f32]>,
}

impl Engine {
    /// Loads the model at `path` on the device in `opts` and checks the contract. A model that
    /// reads other files is refused ([`ExternalData::Refuse`]).
    ///
    /// `Device::Auto` tries CUDA (registered with `error_on_failure`) and on any error builds a
    /// CPU-only session instead; `Device::Cuda` fails with [`EngineError::CudaUnavailable`].
    pub fn load(path: &Path, opts: &EngineOptions) -> Result<Engine, EngineError> {
        Self::load_with(path, opts, ExternalData::Refuse)
    }

    /// [`Engine::load`], with a say on models that read other files ([`OpenedModel::open`] says
    /// what is checked before ONNX Runtime sees the model).
    pub fn load_with(
        path: &Path,
        opts: &EngineOptions,
        external_data: ExternalData,
    ) -> Result<Engine, EngineError> {
        let OpenedModel {
            session,
            provider,
            cuda_error,
            metadata,
            inputs,
            outputs,
        } = OpenedModel::open(path, opts, external_data)?;
        let contract = check_contract(path, &inputs, &outputs, &metadata)?;
        let side = contract.resolution as usize;
        checked_len(path, INPUT_NAME, &[1, 1, side, side])?;
        if contract.takes_hints {
            checked_len(path, HINTS_NAME, &[1, 4, side, side])?;
        }
        Ok(Engine {
            session,
            info: ModelInfo {
                path: path.to_owned(),
                resolution: contract.resolution,
                contract: contract.version,
                takes_hints: contract.takes_hints,
                z_dim: contract.z_dim,
                metadata,
            },
            provider,
            cuda_error,
            input: Array4::zeros((1, 1, side, side)),
            hints: contract
                .takes_hints
                .then(|| Array4::zeros((1, 4, side, side))),
        })
    }

    pub fn info(&self) -> &ModelInfo {
        &self.info
    }

    /// The execution provider that runs the model.
    pub fn provider(&self) -> Provider {
        self.provider
    }

    /// Side of the model's square input and output.
    pub fn resolution(&self) -> u32 {
        self.info.resolution
    }

    /// When `Device::Auto` tried CUDA and fell back to the CPU: why CUDA failed.
    pub fn cuda_error(&self) -> Option<&str> {
        self.cuda_error.as_deref()
    }

    /// A grayscale sketch of any size to a face at the model's resolution: the default face
    /// (no hints, the zero code).
    pub fn generate(&mut self, sketch: &GrayImage) -> Result<RgbImage, EngineError> {
        self.generate_with(sketch, &Conditions::default())
    }

    /// A face for a sketch, steered by colour hints and a variation code where the model takes
    /// them.
    pub fn generate_with(
        &mut self,
        sketch: &GrayImage,
        conditions: &Conditions,
    ) -> Result<RgbImage, EngineError> {
        let mut faces = self.generate_batch(sketch, conditions.hints, &[conditions.z])?;
        Ok(faces.remove(0))
    }

    /// One face per code for the same sketch and hints, run as one batch (the variations strip
    /// and `generate --variations`). `None` codes are zeros. Needs a model with a dynamic batch
    /// when there is more than one code.
    pub fn generate_batch(
        &mut self,
        sketch: &GrayImage,
        hints: Option<&RgbaImage>,
        codes: &[Option<&[f32]>],
    ) -> Result<Vec<RgbImage>, EngineError> {
        let batch = codes.len().max(1);
        let z_dim = self.info.z_dim;
        let path = self.info.path.clone();
        let run_error = |source| EngineError::Run {
            path: path.clone(),
            source,
        };
        let side = self.info.resolution as usize;
        checked_len(&path, Z_NAME, &[batch, z_dim])?;
        checked_len(&path, INPUT_NAME, &[batch, 1, side, side])?;
        if self.hints.is_some() {
            checked_len(&path, HINTS_NAME, &[batch, 4, side, side])?;
        }
        let mut z = Array2::<f32>::zeros((batch, z_dim));
        for (row, code) in codes.iter().enumerate() {
            match code {
                Some(code) if z_dim > 0 && code.len() != z_dim => {
                    return Err(EngineError::CodeLength {
                        path,
                        expected: z_dim,
                        found: code.len(),
                    });
                }
                Some(code) if z_dim > 0 => {
                    z.row_mut(row).assign(&ndarray::ArrayView1::from(*code));
                }
                _ => {}
            }
        }

        preprocess_into(sketch, &mut self.input);
        if let Some(buffer) = self.hints.as_mut() {
            match hints {
                Some(hints) => hints_into(hints, buffer),
                None => buffer.fill(0.0),
            }
        }
        // A batch repeats the one sketch (and hints); a single face uses the buffers as they are.
        let repeat = |one: &Array4<f32>| -> Array4<f32> {
            let views = vec![one.view(); batch];
            ndarray::concatenate(Axis(0), &views).expect("same shapes")
        };
        let sketches = (batch > 1).then(|| repeat(&self.input));
        let hint_batch = match (&self.hints, batch > 1) {
            (Some(one), true) => Some(repeat(one)),
            _ => None,
        };

        let mut inputs = ort::inputs![
            INPUT_NAME => TensorRef::from_array_view(sketches.as_ref().unwrap_or(&self.input)).map_err(run_error)?
        ];
        if let Some(one) = &self.hints {
            let tensor = TensorRef::from_array_view(hint_batch.as_ref().unwrap_or(one)).map_err(run_error)?;
            inputs.push((HINTS_NAME.into(), tensor.into()));
        }
        if z_dim > 0 {
            inputs.push((Z_NAME.into(), TensorRef::from_array_view(&z).map_err(run_error)?.into()));
        }
        let outputs = self.session.run(inputs).map_err(run_error)?;
        faces_from_outputs(&self.info.path, &outputs, batch, self.info.resolution as usize)
    }
}

/// The `face` output of a run of `batch` faces of `side` px as RGB images. A model may declare
/// one shape and give another: only the contract's is turned into images.
pub(crate) fn faces_from_outputs(
    path: &Path,
    outputs: &ort::session::SessionOutputs<'_>,
    batch: usize,
    side: usize,
) -> Result<Vec<RgbImage>, EngineError> {
    images_from_output(path, outputs, OUTPUT_NAME, batch, side)
}

/// The output `name` ([N, 3, side, side] in [-1, 1]) of a run of `batch` faces as RGB images.
pub(crate) fn images_from_output(
    path: &Path,
    outputs: &ort::session::SessionOutputs<'_>,
    name: &'static str,
    batch: usize,
    side: usize,
) -> Result<Vec<RgbImage>, EngineError> {
    let run_error = |source| EngineError::Run {
        path: path.to_owned(),
        source,
    };
    let face = outputs
        .get(name)
        .ok_or_else(|| run_error(ort::Error::new(format!("no output named `{name}`"))))?
        .try_extract_array::<f32>()
        .map_err(run_error)?;
    let found = format!("{:?}", face.shape());
    let shape_error = |source| EngineError::OutputShape {
        path: path.to_owned(),
        source,
    };
    let face = face
        .into_dimensionality::<Ix4>()
        .ok()
        .filter(|face| face.shape() == [batch, 3, side, side])
        .ok_or_else(|| OutputShapeError {
            tensor: name,
            expected: format!("[{batch}, 3, {side}, {side}]"),
            found,
        })
        .map_err(shape_error)?;
    face.axis_iter(Axis(0))
        .map(|one| postprocess(one.insert_axis(Axis(0))).map_err(shape_error))
        .collect()
}

/// A model file read, scanned and committed to a session on the chosen execution provider, with
/// what it declares: the part of loading every kind of model shares (generators, the mesh model).
pub(crate) struct OpenedModel {
    pub session: Session,
    pub provider: Provider,
    /// Why `Device::Auto` ended on the CPU, when it tried CUDA and failed.
    pub cuda_error: Option<String>,
    pub metadata: BTreeMap<String, String>,
    pub inputs: Vec<TensorSpec>,
    pub outputs: Vec<TensorSpec>,
}

impl OpenedModel {
    /// The file is read and scanned first ([`scan_model`]): a folder, an unreadable file, a file
    /// that is not ONNX and (unless allowed) external data are refused before ONNX Runtime sees
    /// the model. Without external data the session is built from the bytes that were scanned.
    ///
    /// `Device::Auto` tries CUDA (registered with `error_on_failure`) and on any error builds a
    /// CPU-only session instead; `Device::Cuda` fails with [`EngineError::CudaUnavailable`].
    pub fn open(
        path: &Path,
        opts: &EngineOptions,
        external_data: ExternalData,
    ) -> Result<OpenedModel, EngineError> {
        let bytes = read_model(path)?;
        let scan = scan_model(&bytes).map_err(|source| EngineError::NotOnnx {
            path: path.to_owned(),
            source,
        })?;
        let source = match (scan.external_count, external_data) {
            (0, _) => ModelSource::Bytes(&bytes),
            (_, ExternalData::Allow) => ModelSource::File(path),
            (count, ExternalData::Refuse) => {
                return Err(EngineError::ExternalData {
                    path: path.to_owned(),
                    tensors: scan.external,
                    count,
                });
            }
        };
        let runtime = runtime()?;
        let threads = match opts.intra_threads {
            0 => std::thread::available_parallelism()
                .map_or(1, |n| n.get())
                .min(DEFAULT_MAX_THREADS),
            n => n,
        };
        let session_error = |source| EngineError::Session {
            path: path.to_owned(),
            source,
        };
        let cpu_session =
            || build_session(&runtime.environment, &source, threads, false).map_err(session_error);

        let (session, provider, cuda_error) = match opts.device {
            Device::Cpu => (cpu_session()?, Provider::Cpu, None),
            Device::Cuda | Device::Auto => {
                let cuda = preload_cuda_libraries(&runtime.path)
                    .and_then(|()| build_session(&runtime.environment, &source, threads, true));
                match cuda {
                    Ok(session) => (session, Provider::Cuda, None),
                    Err(cuda_error) => {
                        // A model the CPU cannot load either is broken: report that, not CUDA.
                        let session = cpu_session()?;
                        if opts.device == Device::Cuda {
                            return Err(EngineError::CudaUnavailable {
                                path: path.to_owned(),
                                source: cuda_error,
                            });
                        }
                        (session, Provider::Cpu, Some(cuda_error.to_string()))
                    }
                }
            }
        };

        let metadata = read_metadata(&session).map_err(session_error)?;
        let inputs = session.inputs().iter().map(TensorSpec::from_outlet).collect();
        let outputs = session.outputs().iter().map(TensorSpec::from_outlet).collect();
        Ok(OpenedModel {
            session,
            provider,
            cuda_error,
            metadata,
            inputs,
            outputs,
        })
    }
}

/// The model file's bytes, or why they cannot be read: missing, a folder, not a regular file,
/// unreadable (permissions) or over [`MAX_MODEL_BYTES`].
fn read_model(path: &Path) -> Result<Vec<u8>, EngineError> {
    use std::io::Read;

    let unreadable = |source| EngineError::ModelUnreadable {
        path: path.to_owned(),
        source,
    };
    // The kind first, so that a pipe is never opened (that would wait for a writer).
    let metadata = std::fs::metadata(path).map_err(|error| match error.kind() {
        std::io::ErrorKind::NotFound => EngineError::ModelNotFound {
            path: path.to_owned(),
        },
        _ => unreadable(error),
    })?;
    if metadata.is_dir() {
        return Err(EngineError::ModelIsFolder {
            path: path.to_owned(),
        });
    }
    if !metadata.is_file() {
        return Err(EngineError::ModelNotAFile {
            path: path.to_owned(),
        });
    }
    let file = std::fs::File::open(path).map_err(unreadable)?;
    let size = file.metadata().map_err(unreadable)?.len();
    if size > MAX_MODEL_BYTES {
        return Err(EngineError::ModelTooLarge {
            path: path.to_owned(),
            size,
            limit: MAX_MODEL_BYTES,
        });
    }
    let mut bytes = Vec::new();
    // Never more than the limit, even when the file grows while it is read.
    file.take(MAX_MODEL_BYTES)
        .read_to_end(&mut bytes)
        .map_err(unreadable)?;
    Ok(bytes)
}

/// The number of elements of a tensor of `shape`, computed with checked arithmetic, when its
/// f32 values fit in [`MAX_TENSOR_BYTES`]; [`EngineError::TensorTooLarge`] otherwise.
pub(crate) fn checked_len(path: &Path, tensor: &'static str, shape: &[usize]) -> Result<usize, EngineError> {
    shape
        .iter()
        .try_fold(1usize, |len, &dim| len.checked_mul(dim))
        .filter(|len| {
            len.checked_mul(size_of::<f32>())
                .is_some_and(|bytes| bytes <= MAX_TENSOR_BYTES)
        })
        .ok_or_else(|| EngineError::TensorTooLarge {
            path: path.to_owned(),
            tensor,
            shape: format!("{shape:?}"),
            limit: MAX_TENSOR_BYTES,
        })
}

fn build_session(
    environment: &Environment,
    source: &ModelSource,
    threads: usize,
    cuda: bool,
) -> Result<Session, ort::Error> {
    let mut builder = Session::builder(environment)?;
    builder = builder
        .with_optimization_level(GraphOptimizationLevel::Level3)
        .map_err(builder_error)?;
    builder = builder.with_intra_threads(threads).map_err(builder_error)?;
    builder = builder.with_inter_threads(1).map_err(builder_error)?;
    // No busy-waiting between runs: an idle app must use no CPU.
    builder = builder
        .with_intra_op_spinning(false)
        .map_err(builder_error)?;
    builder = builder
        .with_inter_op_spinning(false)
        .map_err(builder_error)?;
    if cuda {
        let cuda = ort::ep::CUDA::default().build().error_on_failure();
        builder = builder
            .with_execution_providers([cuda])
            .map_err(builder_error)?;
    }
    match source {
        ModelSource::Bytes(bytes) => builder.commit_from_memory(bytes),
        ModelSource::File(path) => builder.commit_from_file(path),
    }
}

/// A builder error without the builder it carries for recovery.
fn builder_error(error: ort::Error<SessionBuilder>) -> ort::Error {
    ort::Error::new_with_code(error.code(), error.message())
}

fn read_metadata(session: &Session) -> Result<BTreeMap<String, String>, ort::Error> {
    let metadata = session.metadata()?;
    let mut entries = BTreeMap::new();
    for key in metadata.custom_keys()? {
        if let Some(value) = metadata.custom(&key) {
            entries.insert(key, value);
        }
    }
    Ok(entries)
}

/// When the runtime folder holds the CUDA and cuDNN libraries (`make runtime-gpu` puts them
/// there), load them first so the CUDA provider finds them without `LD_LIBRARY_PATH`.
/// Without them in that folder nothing is done and the system's libraries are used.
pub fn preload_cuda_libraries(runtime_path: &Path) -> Result<(), ort::Error> {
    static PRELOADED: OnceLock<Result<(), String>> = OnceLock::new();
    let dir: PathBuf = runtime_path
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_default();
    let result = PRELOADED.get_or_init(|| {
        if !dir.join("libcudart.so.13").is_file() {
            return Ok(());
        }
        let names = ["libnvJitLink.so.13"]
            .iter()
            .chain(ort::ep::cuda::CUDA_DYLIBS)
            .chain(ort::ep::cuda::CUDNN_DYLIBS);
        for name in names {
            let lib = dir.join(name);
            if lib.is_file() {
                ort::util::preload_dylib(&lib)
                    .map_err(|e| format!("cannot load {}: {e}", lib.display()))?;
            }
        }
        Ok(())
    });
    result.clone().map_err(ort::Error::new)
}

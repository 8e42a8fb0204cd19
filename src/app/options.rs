//! How the app is started: the model, the settings, the guide, the data folder, the seeds.

use std::path::{Path, PathBuf};

use eframe::egui::ColorImage;

use super::canvas::guide_image;
use super::live::SeedSource;
use super::settings::Settings;
use crate::engine::{self, Device, EngineOptions};

/// How the app is started. Everything has a sensible default; tests change what they need.
pub struct AppOptions {
    /// The ONNX model: the generator.
    pub model: PathBuf,
    /// Face pipeline v3's files, used when the settings ask for photographic faces.
    pub pipeline: engine::PipelineModels,
    pub engine: EngineOptions,
    /// A drawing or sketch file to open at start (the command-line argument).
    pub initial_file: Option<PathBuf>,
    /// Settings restored from the last run.
    pub settings: Settings,
    /// The drawing guide image (`assets/guide.png`); `None` disables the guide.
    pub guide: Option<PathBuf>,
    /// Where the autosave lives (`~/.local/share/sketch2face` for the app); `None`: no autosave.
    pub data_dir: Option<PathBuf>,
    /// Where the random variation seeds start (a different value each run for the app).
    pub seed_start: u64,
}

impl Default for AppOptions {
    fn default() -> Self {
        Self {
            model: engine::default_model_path(),
            pipeline: engine::PipelineModels::shipped(),
            engine: EngineOptions {
                device: Device::Auto,
                intra_threads: 0,
            },
            initial_file: None,
            settings: Settings::default(),
            guide: find_guide(),
            data_dir: None,
            seed_start: SeedSource::random_start(),
        }
    }
}

/// `assets/guide.png` beside the executable, then in the project.
pub fn find_guide() -> Option<PathBuf> {
    let beside_exe = std::env::current_exe()
        .ok()
        .and_then(|exe| exe.parent().map(|d| d.join("assets/guide.png")));
    let project = Path::new(env!("CARGO_MANIFEST_DIR")).join("assets/guide.png");
    beside_exe
        .into_iter()
        .chain([project])
        .find(|p| p.is_file())
}

/// The guide as a texture image, or why there is none.
pub fn load_guide(guide: Option<&Path>) -> (Option<ColorImage>, Option<String>) {
    match guide {
        None => (
            None,
            Some("No guide image: assets/guide.png was not found.".to_owned()),
        ),
        Some(path) => match image::open(path) {
            Ok(img) => (Some(guide_image(&img.to_luma8())), None),
            Err(e) => (
                None,
                Some(format!(
                    "The guide {} could not be read: {e}",
                    path.display()
                )),
            ),
        },
    }
}

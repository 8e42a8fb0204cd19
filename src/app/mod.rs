//! The desktop app: draw on the left, the face appears on the right while you draw.
//!
//! The modules, each using only those listed after it (and `engine`, `worker`, `sketch`):
//!
//! - [`state`]: the app, a thin composition of the parts below; its `state::frame` draws
//!   the frame and `state::apply` applies the commands after it;
//! - [`options`]: how the app is started, and loading the guide;
//! - [`closing`]: closing with unsaved changes: the save / discard / cancel question;
//! - [`layout`]: where the canvas, the face and the variations strip go;
//! - [`toolbar`]: the toolbar, the colour row and the status line;
//! - [`messages`]: the status line's messages, the newest few dozen kept;
//! - [`look`]: the look photo read by the worker, and who the face is (look, pinned person);
//! - [`document`]: the drawing's history, the seed, the person, the look photo, the file and
//!   unsaved changes;
//! - [`live`]: the worker, the face on screen and the variations strip (`live::view` draws
//!   them);
//! - [`model_status`]: where the models are and what they can do;
//! - [`seeds`]: the variation seeds offered;
//! - [`canvas`]: pointer input to strokes, the sketch and colour textures, the guide;
//! - [`commands`]: what the user can ask for, and the keyboard shortcuts;
//! - [`files`]: dialogs, opening and saving on background threads, atomically;
//! - [`autosave`]: the drawing written after each stroke, restored after a crash;
//! - [`settings`]: what is remembered between runs.

pub mod autosave;
pub mod canvas;
pub mod closing;
pub mod commands;
pub mod document;
pub mod files;
pub mod layout;
pub mod live;
pub mod look;
pub mod model_status;
pub mod messages;
pub mod options;
pub mod seeds;
pub mod settings;
pub mod state;
pub mod toolbar;

use std::path::PathBuf;

use eframe::egui;

use crate::engine::EngineOptions;

pub use commands::{Command, SHORTCUTS};
pub use layout::Layout;
pub use live::ModelStatus;
pub use messages::Message;
pub use options::AppOptions;
pub use settings::Settings;
pub use state::SketchApp;

/// Name of the window and of the folder eframe keeps the settings in.
pub const APP_NAME: &str = "sketch2face";

/// The project's icon (`assets/icon/sketch2face.png`, rendered from the SVG beside it by
/// `scripts/render-icon.sh`): the window's icon, and the launcher's once installed.
const ICON_PNG: &[u8] = include_bytes!("../../assets/icon/sketch2face.png");

/// The window icon, decoded from the embedded PNG.
pub fn window_icon() -> egui::IconData {
    let icon = image::load_from_memory_with_format(ICON_PNG, image::ImageFormat::Png)
        .expect("the embedded icon is a valid PNG (tested)")
        .into_rgba8();
    let (width, height) = icon.dimensions();
    egui::IconData {
        rgba: icon.into_raw(),
        width,
        height,
    }
}

/// Open the window (wgpu renderer) with `model` running on the worker, and run until it is closed.
pub fn run(
    initial_file: Option<PathBuf>,
    model: PathBuf,
    engine: EngineOptions,
) -> anyhow::Result<()> {
    let options = eframe::NativeOptions {
        viewport: egui::ViewportBuilder::default()
            .with_title("sketch2face")
            .with_app_id(APP_NAME)
            .with_icon(window_icon())
            .with_inner_size([1120.0, 640.0])
            .with_min_inner_size([560.0, 360.0])
            .with_drag_and_drop(true),
        renderer: eframe::Renderer::Wgpu,
        persist_window: true,
        ..Default::default()
    };
    eframe::run_native(
        APP_NAME,
        options,
        Box::new(move |cc| {
            let settings = cc
                .storage
                .and_then(|storage| eframe::get_value::<Settings>(storage, eframe::APP_KEY))
                .unwrap_or_default();
            Ok(Box::new(SketchApp::new(
                &cc.egui_ctx,
                AppOptions {
                    initial_file,
                    settings,
                    model,
                    engine,
                    data_dir: eframe::storage_dir(APP_NAME),
                    ..AppOptions::default()
                },
            )))
        }),
    )
    .map_err(|e| anyhow::anyhow!("could not open the window: {e}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_window_icon_is_the_256_px_project_icon_with_transparent_corners() {
        let icon = window_icon();
        assert_eq!((icon.width, icon.height), (256, 256));
        assert_eq!(icon.rgba.len(), 256 * 256 * 4);
        // The rounded tile leaves the corners clear and fills the middle.
        assert_eq!(icon.rgba[3], 0, "top-left corner alpha");
        let centre = (128 * 256 + 128) * 4;
        assert_eq!(icon.rgba[centre + 3], 255, "centre alpha");
    }
}

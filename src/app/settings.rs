//! What the app remembers between runs: `settings.json` in the data folder, written atomically.
//! A file that does not parse is kept as `settings.json.bak` (and the user told); a value that
//! does not fit resets only itself. The window's size and position are persisted by eframe
//! itself (`NativeOptions::persist_window`).

use std::path::{Path, PathBuf};

use crate::sketch::{Rgb, Tool};

/// Brush widths as a fraction of the canvas side at pressure 0.5 (the `Stroke::width` unit).
pub const SIZE_MIN: f32 = 0.002;
pub const SIZE_MAX: f32 = 0.12;
/// The training sketches use widths 0.006..0.016; the default brush sits in that range.
pub const BRUSH_DEFAULT: f32 = 0.010;
pub const ERASER_DEFAULT: f32 = 0.040;
/// The colour brush is broad: the model learned hints from strokes 2 to 6 % of the canvas wide.
pub const COLOUR_SIZE_DEFAULT: f32 = 0.040;
/// The first colour offered: a light skin tone.
pub const COLOUR_DEFAULT: Rgb = [224, 172, 140];
/// Files in the "Open recent" menu.
pub const RECENT_KEPT: usize = 8;
/// The settings' file name in the data folder.
pub const SETTINGS_FILE: &str = "settings.json";
/// One press of `[` or `]` scales the size by this factor.
pub const SIZE_STEP: f32 = 1.25;
/// Face export sizes offered in the toolbar; 0 means the model's own resolution.
pub const FACE_SAVE_SIZES: [u32; 3] = [0, 512, 1024];

#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(default)]
pub struct Settings {
    pub tool: Tool,
    pub brush_size: f32,
    pub eraser_size: f32,
    /// Folder of the last opened or saved file.
    pub last_folder: Option<PathBuf>,
    /// The guide drawn faintly under the canvas.
    pub guide: bool,
    /// Side of a saved face in pixels; 0 = the model's resolution.
    pub face_save_size: u32,
    pub colour_size: f32,
    /// The colour of the colour tool.
    pub colour: Rgb,
    /// Colour strokes shown over the ink (they reach the model either way).
    pub show_colours: bool,
    /// Drawings opened or saved lately, newest first.
    pub recent: Vec<PathBuf>,
    /// Faces from face pipeline v3 (real people's photographs, warped and refined), not the
    /// generator's.
    pub photographic: bool,
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            tool: Tool::Brush,
            brush_size: BRUSH_DEFAULT,
            eraser_size: ERASER_DEFAULT,
            last_folder: None,
            guide: false,
            face_save_size: 512,
            colour_size: COLOUR_SIZE_DEFAULT,
            colour: COLOUR_DEFAULT,
            show_colours: true,
            recent: Vec::new(),
            photographic: crate::engine::PHOTOGRAPHIC_BY_DEFAULT,
        }
    }
}

impl Settings {
    /// The size of the current tool.
    pub fn size(&self) -> f32 {
        match self.tool {
            Tool::Brush => self.brush_size,
            Tool::Eraser => self.eraser_size,
            Tool::Colour => self.colour_size,
        }
    }

    /// Put `path` first in the recent files (once), keeping [`RECENT_KEPT`].
    pub fn add_recent(&mut self, path: &Path) {
        self.recent.retain(|p| p != path);
        self.recent.insert(0, path.to_path_buf());
        self.recent.truncate(RECENT_KEPT);
    }

    pub fn set_size(&mut self, size: f32) {
        let size = size.clamp(SIZE_MIN, SIZE_MAX);
        match self.tool {
            Tool::Brush => self.brush_size = size,
            Tool::Eraser => self.eraser_size = size,
            Tool::Colour => self.colour_size = size,
        }
    }

    /// Settings from `settings.json`'s text: every known value that fits is taken, each other
    /// one keeps its default (and is named in the returned list). Text that is not a JSON object
    /// is an error.
    pub fn from_json(text: &str) -> Result<(Settings, Vec<String>), serde_json::Error> {
        let found: serde_json::Map<String, serde_json::Value> = serde_json::from_str(text)?;
        let serde_json::Value::Object(mut taken) =
            serde_json::to_value(Settings::default()).expect("settings serialise")
        else {
            unreachable!("a struct serialises to an object")
        };
        let mut reset = Vec::new();
        for (key, value) in found {
            if !taken.contains_key(&key) {
                continue; // from a newer or older version
            }
            let mut trial = taken.clone();
            trial.insert(key.clone(), value);
            if serde_json::from_value::<Settings>(serde_json::Value::Object(trial.clone())).is_ok()
            {
                taken = trial;
            } else {
                reset.push(key);
            }
        }
        let settings = serde_json::from_value(serde_json::Value::Object(taken))?;
        Ok((settings, reset))
    }

    /// The settings in `path` (defaults when there is none), and what the user should be told:
    /// a file that does not parse is moved to `path.bak`; values that do not fit are named.
    pub fn load(path: &Path) -> (Option<Settings>, Option<String>) {
        let text = match std::fs::read_to_string(path) {
            Ok(text) => text,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return (None, None),
            Err(e) => {
                return (
                    None,
                    Some(format!(
                        "The settings {} could not be read: {e}",
                        path.display()
                    )),
                );
            }
        };
        match Settings::from_json(&text) {
            Ok((settings, reset)) if reset.is_empty() => (Some(settings), None),
            Ok((settings, reset)) => (
                Some(settings),
                Some(format!(
                    "Some settings in {} did not fit and were reset: {}",
                    path.display(),
                    reset.join(", ")
                )),
            ),
            Err(error) => {
                let mut backup = path.as_os_str().to_owned();
                backup.push(".bak");
                let backup = std::path::PathBuf::from(backup);
                let kept = match std::fs::rename(path, &backup) {
                    Ok(()) => format!("it is kept as {}", backup.display()),
                    Err(e) => format!("it could not be kept aside: {e}"),
                };
                (
                    None,
                    Some(format!(
                        "The settings {} could not be read ({error}); the defaults are used and {kept}",
                        path.display()
                    )),
                )
            }
        }
    }

    /// Write the settings to `path` atomically.
    pub fn save(&self, path: &Path) -> std::io::Result<()> {
        let json = serde_json::to_string_pretty(self).expect("settings serialise") + "\n";
        if let Some(folder) = path.parent() {
            std::fs::create_dir_all(folder)?;
        }
        crate::sketch::write_atomically(path, |file| {
            std::io::Write::write_all(file, json.as_bytes())
        })
    }

    /// Repair values from an old or hand-edited settings file.
    pub fn sanitized(mut self) -> Self {
        let fix = |v: f32, default: f32| {
            if v.is_finite() {
                v.clamp(SIZE_MIN, SIZE_MAX)
            } else {
                default
            }
        };
        self.brush_size = fix(self.brush_size, BRUSH_DEFAULT);
        self.eraser_size = fix(self.eraser_size, ERASER_DEFAULT);
        self.colour_size = fix(self.colour_size, COLOUR_SIZE_DEFAULT);
        self.recent.truncate(RECENT_KEPT);
        if !FACE_SAVE_SIZES.contains(&self.face_save_size) {
            self.face_save_size = 512;
        }
        self
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn settings_round_trip_through_json() {
        let settings = Settings {
            tool: Tool::Eraser,
            brush_size: 0.02,
            last_folder: Some(PathBuf::from("/tmp")),
            guide: true,
            ..Settings::default()
        };
        let json = serde_json::to_string(&settings).unwrap();
        assert_eq!(serde_json::from_str::<Settings>(&json).unwrap(), settings);
    }

    #[test]
    fn missing_fields_take_defaults_and_bad_values_are_repaired() {
        let s: Settings =
            serde_json::from_str(r#"{"brush_size": 99.0, "face_save_size": 7}"#).unwrap();
        let s = s.sanitized();
        assert_eq!(s.brush_size, SIZE_MAX);
        assert_eq!(s.face_save_size, 512);
        assert_eq!(s.tool, Tool::Brush);
    }

    #[test]
    fn recent_files_are_newest_first_once_and_capped() {
        let mut s = Settings::default();
        for i in 0..RECENT_KEPT + 2 {
            s.add_recent(Path::new(&format!("/d/{i}.ora")));
        }
        s.add_recent(Path::new("/d/5.ora"));
        assert_eq!(s.recent.len(), RECENT_KEPT);
        assert_eq!(s.recent[0], Path::new("/d/5.ora"));
        assert_eq!(s.recent.iter().filter(|p| p.ends_with("5.ora")).count(), 1);
        assert_eq!(
            s.recent[1],
            Path::new(&format!("/d/{}.ora", RECENT_KEPT + 1))
        );
    }

    #[test]
    fn a_value_that_does_not_fit_resets_only_itself() {
        let (s, reset) = Settings::from_json(
            r#"{"tool": "Pencil", "brush_size": 0.02, "guide": true, "future_option": 3}"#,
        )
        .unwrap();
        assert_eq!(reset, ["tool"]);
        assert_eq!(s.tool, Tool::Brush);
        assert_eq!(s.brush_size, 0.02);
        assert!(s.guide);
    }

    #[test]
    fn settings_that_do_not_parse_are_kept_aside_and_saving_is_atomic() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(SETTINGS_FILE);
        assert_eq!(Settings::load(&path), (None, None));
        std::fs::write(&path, b"{ this is not json").unwrap();
        let (settings, message) = Settings::load(&path);
        assert!(settings.is_none());
        let message = message.unwrap();
        assert!(message.contains("settings.json.bak"), "{message}");
        assert!(!path.exists());
        assert_eq!(
            std::fs::read(dir.path().join("settings.json.bak")).unwrap(),
            b"{ this is not json"
        );

        let settings = Settings {
            tool: Tool::Colour,
            ..Settings::default()
        };
        settings.save(&path).unwrap();
        assert_eq!(Settings::load(&path), (Some(settings), None));
    }

    #[test]
    fn size_is_per_tool_and_clamped() {
        let mut s = Settings::default();
        s.set_size(1.0);
        assert_eq!(s.brush_size, SIZE_MAX);
        s.tool = Tool::Eraser;
        assert_eq!(s.size(), ERASER_DEFAULT);
        s.set_size(0.0);
        assert_eq!(s.eraser_size, SIZE_MIN);
    }
}

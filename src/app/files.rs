//! File dialogs, opening and saving drawings, sketches and faces, all off the UI thread.
//!
//! Each job runs on its own short-lived thread and sends one [`FileEvent`] back over a channel,
//! then asks egui to repaint; the app picks the event up in its next frame. Every file is
//! written atomically ([`sketch::write_atomically`]): a failed save leaves the old file as it
//! was.

use std::io::Write as _;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use crossbeam_channel::{Receiver, Sender};
use eframe::egui;
use image::{GrayImage, RgbImage};

use crate::imaging;
use crate::sketch::{self, Drawing, DrawingDocument, LookPhoto, OpenedOra};
use crate::{error_chain, panic_message};

/// A saved sketch is rasterized at this size.
pub const SKETCH_SAVE_SIZE: u32 = 512;
/// JPEG quality for saved faces.
pub const JPEG_QUALITY: u8 = 92;

const IMAGE_EXTENSIONS: [&str; 10] = [
    "png", "jpg", "jpeg", "bmp", "gif", "webp", "tif", "tiff", "pgm", "ppm",
];

/// Which dialog was closed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Purpose {
    Open,
    SaveDrawing,
    SaveFace,
    SaveSketch,
    OpenModel,
    /// A photo as the look.
    OpenLook,
}

/// What an opened file holds.
#[derive(Debug)]
pub enum Opened {
    /// A sketch image (or another program's `.ora`), cleaned up, or a photo made a sketch (the
    /// 2017 recipe): the new background, drawn over and erased like ink.
    Sketch { page: GrayImage, from_photo: bool },
    /// A drawing of ours, editable.
    Drawing(DrawingDocument),
}

/// The result of a background job.
#[derive(Debug)]
pub enum FileEvent {
    /// A dialog closed; `None` when cancelled, or when no dialog could be shown (rfd does not
    /// tell these apart; `open_for` does: nobody cancels a dialog within a blink).
    Picked {
        purpose: Purpose,
        path: Option<PathBuf>,
        open_for: Duration,
    },
    /// A file was read.
    Loaded {
        path: PathBuf,
        result: Result<Opened, String>,
    },
    /// A look photo was read, made the document's size and encoded (the worker decodes it and
    /// finds its face).
    LookLoaded {
        path: PathBuf,
        result: Result<LookPhoto, String>,
    },
    /// A drawing, face or sketch was written (`path` is where it went, extension included).
    /// A drawing's event carries what was saved.
    Saved {
        what: &'static str,
        path: PathBuf,
        result: Result<(), String>,
        drawing: Option<Box<DrawingDocument>>,
    },
    /// The job panicked; the app reports it and carries on.
    Crashed { what: &'static str, error: String },
}

/// The channel the jobs answer on, and what is still running.
pub struct Files {
    tx: Sender<FileEvent>,
    rx: Receiver<FileEvent>,
    in_flight: usize,
    dialog_open: bool,
}

impl Default for Files {
    fn default() -> Self {
        let (tx, rx) = crossbeam_channel::unbounded();
        Self {
            tx,
            rx,
            in_flight: 0,
            dialog_open: false,
        }
    }
}

impl Files {
    /// Jobs (dialogs, loads, saves) that have not answered yet.
    pub fn in_flight(&self) -> usize {
        self.in_flight
    }

    pub fn try_recv(&mut self) -> Option<FileEvent> {
        let event = self.rx.try_recv().ok()?;
        self.in_flight = self.in_flight.saturating_sub(1);
        if matches!(event, FileEvent::Picked { .. }) {
            self.dialog_open = false;
        }
        Some(event)
    }

    fn spawn(
        &mut self,
        ctx: &egui::Context,
        what: &'static str,
        job: impl FnOnce() -> FileEvent + Send + 'static,
    ) {
        self.in_flight += 1;
        let tx = self.tx.clone();
        let ctx = ctx.clone();
        let spawned = std::thread::Builder::new()
            .name(format!("sketch2face-{what}"))
            .spawn(move || {
                let event = catch_unwind(AssertUnwindSafe(job)).unwrap_or_else(|panic| {
                    FileEvent::Crashed {
                        what,
                        error: panic_message(panic.as_ref()),
                    }
                });
                let _ = tx.send(event);
                ctx.request_repaint();
            });
        if let Err(e) = spawned {
            // Still counted in `in_flight`: this event stands in for the job's answer.
            let _ = self.tx.send(FileEvent::Crashed {
                what,
                error: format!("could not start a thread: {e}"),
            });
        }
    }

    /// Show a dialog on a background thread. Returns false if one is already open.
    pub fn dialog(
        &mut self,
        ctx: &egui::Context,
        purpose: Purpose,
        folder: Option<PathBuf>,
    ) -> bool {
        if self.dialog_open {
            return false;
        }
        self.dialog_open = true;
        self.spawn(ctx, "dialog", move || {
            let opened = Instant::now();
            let mut dialog = rfd::FileDialog::new();
            if let Some(folder) = folder.filter(|f| f.is_dir()) {
                dialog = dialog.set_directory(folder);
            }
            let path = match purpose {
                Purpose::Open => {
                    let all: Vec<&str> = IMAGE_EXTENSIONS.iter().copied().chain(["ora"]).collect();
                    dialog
                        .set_title("Open a drawing or a sketch")
                        .add_filter("Drawings and images", &all)
                        .add_filter("Drawings (OpenRaster)", &["ora"])
                        .add_filter("Images", &IMAGE_EXTENSIONS)
                        .pick_file()
                }
                Purpose::SaveDrawing => dialog
                    .set_title("Save the drawing")
                    .set_file_name("drawing.ora")
                    .add_filter("OpenRaster", &["ora"])
                    .save_file(),
                Purpose::SaveFace => dialog
                    .set_title("Save the face")
                    .set_file_name("face.png")
                    .add_filter("PNG", &["png"])
                    .add_filter("JPEG", &["jpg", "jpeg"])
                    .save_file(),
                Purpose::SaveSketch => dialog
                    .set_title("Save the sketch")
                    .set_file_name("sketch.png")
                    .add_filter("PNG", &["png"])
                    .save_file(),
                Purpose::OpenModel => dialog
                    .set_title("Choose a sketch2face model")
                    .add_filter("ONNX models", &["onnx"])
                    .pick_file(),
                Purpose::OpenLook => dialog
                    .set_title("Choose a photo of one face: the look")
                    .add_filter("Photos", &IMAGE_EXTENSIONS)
                    .pick_file(),
            };
            FileEvent::Picked {
                purpose,
                path,
                open_for: opened.elapsed(),
            }
        });
        true
    }

    /// Read a photo for the look.
    pub fn load_look(&mut self, ctx: &egui::Context, path: PathBuf) {
        self.spawn(ctx, "load-look", move || {
            let result = sketch::load_image_file(&path)
                .map(|photo| LookPhoto::new(&photo.into_rgb8()))
                .map_err(|e| error_chain(&e));
            FileEvent::LookLoaded { path, result }
        });
    }

    /// Read a drawing (`.ora`) or a sketch image (cleaned up).
    pub fn load(&mut self, ctx: &egui::Context, path: PathBuf) {
        self.spawn(ctx, "load", move || {
            let result = open_file(&path);
            FileEvent::Loaded { path, result }
        });
    }

    /// Write the drawing as OpenRaster (with the face as a layer, when there is one).
    pub fn save_drawing(
        &mut self,
        ctx: &egui::Context,
        document: DrawingDocument,
        face: Option<RgbImage>,
        path: PathBuf,
    ) {
        self.spawn(ctx, "save-drawing", move || {
            let (path, result) = match with_extension(&path, &["ora"]) {
                Ok(path) => {
                    let layers = sketch::Layers::Pictures {
                        face: face.as_ref(),
                    };
                    let result =
                        sketch::save_ora(&path, &document, layers).map_err(|e| error_chain(&e));
                    (path, result)
                }
                Err(refused) => (path, Err(refused)),
            };
            let drawing = Some(Box::new(document));
            FileEvent::Saved {
                what: "drawing",
                path,
                result,
                drawing,
            }
        });
    }

    /// Write the face, upscaled to `size` (0 = as is).
    pub fn save_face(&mut self, ctx: &egui::Context, face: RgbImage, size: u32, path: PathBuf) {
        self.spawn(ctx, "save-face", move || {
            let (path, result) = match with_extension(&path, &["png", "jpg", "jpeg"]) {
                Ok(path) => {
                    let result = save_face(&face, size, &path);
                    (path, result)
                }
                Err(refused) => (path, Err(refused)),
            };
            FileEvent::Saved {
                what: "face",
                path,
                result,
                drawing: None,
            }
        });
    }

    /// Rasterize the drawing at [`SKETCH_SAVE_SIZE`] and write it as PNG.
    pub fn save_sketch(&mut self, ctx: &egui::Context, drawing: Arc<Drawing>, path: PathBuf) {
        self.spawn(ctx, "save-sketch", move || {
            let (path, result) = match with_extension(&path, &["png"]) {
                Ok(path) => {
                    let sketch = sketch::rasterize(&drawing, SKETCH_SAVE_SIZE);
                    let result =
                        write_image(&path, |out| sketch.write_to(out, image::ImageFormat::Png));
                    (path, result)
                }
                Err(refused) => (path, Err(refused)),
            };
            FileEvent::Saved {
                what: "sketch",
                path,
                result,
                drawing: None,
            }
        });
    }
}

/// A dialog that closes faster than this without a file was never shown.
pub const DIALOG_FAILED_WITHIN: Duration = Duration::from_millis(400);

/// `folder/stem-N.ext` for the first N that does not exist yet.
pub fn free_file_name(folder: &Path, stem: &str, ext: &str) -> PathBuf {
    (1..)
        .map(|n| folder.join(format!("{stem}-{n}.{ext}")))
        .find(|path| !path.exists())
        .expect("some number is free")
}

/// A drawing (`.ora`, by its extension) or a sketch image, read.
pub fn open_file(path: &Path) -> Result<Opened, String> {
    let is_ora = path
        .extension()
        .is_some_and(|ext| ext.eq_ignore_ascii_case("ora"));
    if !is_ora {
        return sketch::load_sketch_or_photo(path)
            .map(|opened| Opened::Sketch { page: opened.page, from_photo: opened.from_photo })
            .map_err(|e| error_chain(&e));
    }
    match sketch::load_ora(path).map_err(|e| error_chain(&e))? {
        OpenedOra::Drawing(document) => Ok(Opened::Drawing(document)),
        OpenedOra::Merged(page) => Ok(Opened::Sketch { page, from_photo: false }),
    }
}

/// Keep the path if it ends in one of `allowed`, otherwise add the first of them. Adding it is
/// refused when that names an existing file: the dialog only asked about overwriting the name
/// as typed.
pub fn with_extension(path: &Path, allowed: &[&str]) -> Result<PathBuf, String> {
    let ext = path
        .extension()
        .and_then(|e| e.to_str())
        .map(str::to_ascii_lowercase);
    if ext.is_some_and(|ext| allowed.contains(&ext.as_str())) {
        return Ok(path.to_path_buf());
    }
    let mut name = path.as_os_str().to_owned();
    name.push(".");
    name.push(allowed[0]);
    let extended = PathBuf::from(name);
    if extended.exists() {
        return Err(format!(
            "{} already exists; not overwritten. Save again with the full name, `.{}` included, to replace it",
            extended.display(),
            allowed[0]
        ));
    }
    Ok(extended)
}

/// Write a face as PNG, or JPEG when the path ends in `.jpg`/`.jpeg`, upscaled to `size`
/// (0 or the face's own size = unchanged).
pub fn save_face(face: &RgbImage, size: u32, path: &Path) -> Result<(), String> {
    let face = if size == 0 || size == face.width() {
        face.clone()
    } else {
        imaging::upscale(face, size)
    };
    let ext = path
        .extension()
        .and_then(|e| e.to_str())
        .map(str::to_ascii_lowercase);
    if matches!(ext.as_deref(), Some("jpg" | "jpeg")) {
        write_image(path, |out| {
            image::codecs::jpeg::JpegEncoder::new_with_quality(out, JPEG_QUALITY)
                .encode_image(&face)
        })
    } else {
        write_image(path, |out| face.write_to(out, image::ImageFormat::Png))
    }
}

/// Write an image file atomically with `encode`; the error says what failed.
fn write_image(
    path: &Path,
    encode: impl FnOnce(&mut std::io::BufWriter<&mut std::fs::File>) -> image::ImageResult<()>,
) -> Result<(), String> {
    sketch::write_atomically(path, |file| {
        let mut out = std::io::BufWriter::new(file);
        encode(&mut out).map_err(std::io::Error::other)?;
        out.flush()
    })
    .map_err(|e| error_chain(&e))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn extensions_are_kept_or_png_is_added() {
        let allowed = ["png", "jpg", "jpeg"];
        assert_eq!(
            with_extension(Path::new("/a/face.JPG"), &allowed),
            Ok(PathBuf::from("/a/face.JPG"))
        );
        assert_eq!(
            with_extension(Path::new("/a/face"), &allowed),
            Ok(PathBuf::from("/a/face.png"))
        );
        assert_eq!(
            with_extension(Path::new("/a/face.bmp"), &allowed),
            Ok(PathBuf::from("/a/face.bmp.png"))
        );
    }

    #[test]
    fn adding_png_never_overwrites_a_file_the_dialog_did_not_name() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("portrait.png"), b"precious").unwrap();
        let refused = with_extension(&dir.path().join("portrait"), &["png"]).unwrap_err();
        assert!(refused.contains("portrait.png already exists"), "{refused}");
        assert_eq!(
            std::fs::read(dir.path().join("portrait.png")).unwrap(),
            b"precious"
        );
    }

    #[test]
    fn free_file_names_count_up() {
        let dir = tempfile::tempdir().unwrap();
        assert_eq!(
            free_file_name(dir.path(), "face", "png"),
            dir.path().join("face-1.png")
        );
        std::fs::write(dir.path().join("face-1.png"), b"").unwrap();
        assert_eq!(
            free_file_name(dir.path(), "face", "png"),
            dir.path().join("face-2.png")
        );
    }

    #[test]
    fn faces_are_saved_as_png_and_jpeg_at_the_asked_size() {
        let dir = tempfile::tempdir().unwrap();
        let face = RgbImage::from_pixel(16, 16, image::Rgb([200, 100, 50]));
        let png = dir.path().join("f.png");
        save_face(&face, 0, &png).unwrap();
        assert_eq!(image::open(&png).unwrap().width(), 16);
        let jpg = dir.path().join("f.jpeg");
        save_face(&face, 32, &jpg).unwrap();
        assert_eq!(
            image::ImageFormat::from_path(&jpg).unwrap(),
            image::ImageFormat::Jpeg
        );
        assert_eq!(image::open(&jpg).unwrap().width(), 32);
    }

    #[test]
    fn a_drawing_gets_ora_added() {
        assert_eq!(
            with_extension(Path::new("/a/portrait"), &["ora"]),
            Ok(PathBuf::from("/a/portrait.ora"))
        );
    }

    #[test]
    fn a_failed_face_save_keeps_the_old_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("face.png");
        std::fs::write(&path, b"the old face").unwrap();
        let error = write_image(&path, |_| {
            Err(image::ImageError::IoError(std::io::Error::other(
                "no space left on device",
            )))
        })
        .unwrap_err();
        assert!(error.contains("no space left"), "{error}");
        assert_eq!(std::fs::read(&path).unwrap(), b"the old face");
        let names: Vec<_> = std::fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(names, ["face.png"], "no temporary file is left");
    }

    #[test]
    fn saving_into_a_file_as_if_it_were_a_folder_fails_with_the_reason() {
        let dir = tempfile::tempdir().unwrap();
        let blocker = dir.path().join("not-a-folder");
        std::fs::write(&blocker, b"x").unwrap();
        let face = RgbImage::new(4, 4);
        let error = save_face(&face, 0, &blocker.join("face.png")).unwrap_err();
        assert!(!error.is_empty());
    }
}

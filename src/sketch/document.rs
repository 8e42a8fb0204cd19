//! Drawings as documents: OpenRaster (`.ora`) files, written atomically.
//!
//! An `.ora` is a zip (freedesktop's OpenRaster spec, which MyPaint, Krita and GIMP read and
//! write): `mimetype` first and stored (`image/openraster`), `stack.xml` naming the layers, one
//! PNG per layer under `data/`, `mergedimage.png` and `Thumbnails/thumbnail.png`. The layers,
//! top to bottom: `face` (hidden), `colours` (half opacity) and `sketch`, each
//! [`DOCUMENT_SIZE`] px square; and `look` (hidden, at the photo's own size, at most
//! [`LOOK_MAX_SIDE`]), the photo whose face the face has, when the user gave one. sketch2face's
//! own data rides along in `sketch2face/`: the strokes, colour strokes included, with the seed,
//! the person chosen from the strip and the model's name as JSON, and the opened sketch file
//! (the background) as a PNG, so the drawing reopens editable. Other programs ignore that
//! folder; an `.ora` without it opens as its merged image.

use std::io::{Cursor, Read, Seek, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use image::imageops::{self, FilterType};
use image::{DynamicImage, GrayImage, ImageFormat, RgbImage, RgbaImage};
use serde::{Deserialize, Serialize};
use zip::write::SimpleFileOptions;
use zip::{CompressionMethod, ZipArchive, ZipWriter};

use super::{
    Drawing, MAX_FILE_BYTES, SketchFileError, decode_image, decode_sketch, drawing_from_json, drawing_to_json,
    rasterize, rasterize_hints,
};
use crate::imaging::upscale;

/// Side of the layers of a saved drawing, in pixels.
pub const DOCUMENT_SIZE: u32 = 512;
/// Side of the thumbnail (the spec's largest).
pub const THUMBNAIL_SIZE: u32 = 256;
/// Opacity of the colours over the sketch, in the file's stack and its merged image.
pub const COLOUR_OPACITY: f32 = 0.5;
/// The entries of a saved drawing that other programs read (the face only when there is one).
pub const ORA_ENTRIES: [&str; 7] = [
    "mimetype",
    "stack.xml",
    "data/sketch.png",
    "data/colours.png",
    "data/face.png",
    "mergedimage.png",
    "Thumbnails/thumbnail.png",
];
/// The `mimetype` entry of every OpenRaster file.
pub const ORA_MIMETYPE: &str = "image/openraster";
/// Largest `.ora` file read, and largest entry unpacked from one (a zip bomb stops there).
pub const MAX_ORA_BYTES: u64 = 4 * MAX_FILE_BYTES;
/// Where sketch2face's own data is inside the zip.
pub const DRAWING_JSON: &str = "sketch2face/drawing.json";
/// The look photo's layer (also written in the autosave, which has no other layer).
pub const LOOK_PNG: &str = "data/look.png";
/// The look photo is kept at most this many pixels on its longer side: enough to find and align
/// its face again (the face pipeline searches at 512 px), small enough to autosave often.
pub const LOOK_MAX_SIDE: u32 = 1024;
const BACKGROUND_PNG: &str = "sketch2face/background.png";
/// The `format` of [`DRAWING_JSON`].
const FORMAT: &str = "sketch2face drawing";
const FORMAT_VERSION: u32 = 1;

/// A drawing as a document: the strokes (ink and colour) over an optional background, the
/// seed of the face's variation code, the person chosen, the look photo, and the model that
/// painted it.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct DrawingDocument {
    pub drawing: Drawing,
    /// The variation seed (0: the model's default face).
    pub seed: u64,
    /// The file name of the model, for the record (a drawing opens with any model).
    pub model: Option<String>,
    /// The bank face the user chose from the strip (face pipeline v3), kept while they draw.
    pub person: Option<u64>,
    /// The photo whose face the face has (face pipeline v3).
    pub look: Option<LookPhoto>,
}

/// The look photo as the document keeps it: PNG bytes, encoded once (the autosave writes them
/// after every stroke), at most [`LOOK_MAX_SIDE`] px.
#[derive(Clone, Debug, PartialEq)]
pub struct LookPhoto {
    png: Arc<[u8]>,
    width: u32,
    height: u32,
    /// Whether the face uses it now (a hidden look stays in the document, one click from back).
    pub in_use: bool,
}

impl LookPhoto {
    /// The photo, made at most [`LOOK_MAX_SIDE`] px and encoded.
    pub fn new(photo: &RgbImage) -> LookPhoto {
        let longer = photo.width().max(photo.height());
        let photo = match longer > LOOK_MAX_SIDE {
            true => {
                let k = LOOK_MAX_SIDE as f32 / longer as f32;
                let (w, h) = ((photo.width() as f32 * k).round().max(1.0) as u32, (photo.height() as f32 * k).round().max(1.0) as u32);
                imageops::resize(photo, w, h, FilterType::Triangle)
            }
            false => photo.clone(),
        };
        let mut png = Cursor::new(Vec::new());
        DynamicImage::ImageRgb8(photo.clone())
            .write_to(&mut png, ImageFormat::Png)
            .expect("a PNG encodes into memory");
        LookPhoto { png: png.into_inner().into(), width: photo.width(), height: photo.height(), in_use: true }
    }

    /// The photo's PNG bytes.
    pub fn png(&self) -> &[u8] {
        &self.png
    }

    pub fn dimensions(&self) -> (u32, u32) {
        (self.width, self.height)
    }

    /// The photo, decoded.
    pub fn decode(&self) -> Result<RgbImage, image::ImageError> {
        // Read back from a file, the bytes passed the sketch files' limits and are at most
        // LOOK_MAX_SIDE px; made here, they are a PNG.
        Ok(image::load_from_memory(&self.png)?.into_rgb8())
    }
}

/// What an `.ora` file holds.
#[derive(Clone, Debug, PartialEq)]
pub enum OpenedOra {
    /// One of ours: every stroke editable.
    Drawing(DrawingDocument),
    /// Another program's: its merged image, cleaned up as a sketch file is.
    Merged(GrayImage),
}

/// Why a drawing could not be read or written.
#[derive(Debug, thiserror::Error)]
pub enum DocumentError {
    #[error("{}: {source}", path.display())]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{}: not an OpenRaster file: {reason}", path.display())]
    NotOpenRaster { path: PathBuf, reason: String },
    #[error("{}: {entry}: {reason}", path.display())]
    Entry {
        path: PathBuf,
        entry: String,
        reason: String,
    },
    #[error("{}: {entry} is over {limit} bytes unpacked", path.display())]
    TooLarge {
        path: PathBuf,
        entry: String,
        limit: u64,
    },
    #[error(transparent)]
    Image(#[from] SketchFileError),
}

/// The JSON in [`DRAWING_JSON`].
#[derive(Serialize, Deserialize)]
struct DrawingJson {
    format: String,
    version: u32,
    seed: u64,
    #[serde(default)]
    model: Option<String>,
    /// The entry holding the background, when there is one.
    #[serde(default)]
    background: Option<String>,
    /// The person chosen from the strip (a bank face).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    person: Option<u64>,
    /// The entry holding the look photo, and whether the face uses it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    look: Option<String>,
    #[serde(default = "in_use_default", skip_serializing_if = "is_true")]
    look_in_use: bool,
    /// The strokes, in [`drawing_to_json`]'s form.
    drawing: serde_json::Value,
}

fn in_use_default() -> bool {
    true
}

fn is_true(value: &bool) -> bool {
    *value
}

/// What a saved drawing holds besides sketch2face's own data.
#[derive(Clone, Copy, Debug)]
pub enum Layers<'a> {
    /// The pictures other programs read: the sketch and colours layers (and the face's, when
    /// there is one), the merged image and the thumbnail.
    Pictures { face: Option<&'a RgbImage> },
    /// sketch2face's own data only, nothing rendered (the autosave, written after every
    /// stroke: it must cost little).
    DataOnly,
}

/// Writes `document` as OpenRaster to `out`, with the `layers` asked for.
pub fn write_ora<W: Write + Seek>(
    out: W,
    document: &DrawingDocument,
    layers: Layers,
) -> zip::result::ZipResult<W> {
    let mut zip = ZipWriter::new(out);
    let stored = SimpleFileOptions::default().compression_method(CompressionMethod::Stored);
    zip.start_file("mimetype", stored)?;
    zip.write_all(ORA_MIMETYPE.as_bytes())?;
    if let Layers::Pictures { face } = layers {
        write_pictures(&mut zip, &document.drawing, face, document.look.as_ref())?;
    } else {
        let size = DOCUMENT_SIZE;
        zip.start_file("stack.xml", stored)?;
        zip.write_all(format!("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<image version=\"0.0.6\" w=\"{size}\" h=\"{size}\"><stack/></image>\n").as_bytes())?;
    }
    write_data(&mut zip, document)?;
    zip.finish()
}

/// `stack.xml`, the layers, the merged image and the thumbnail.
fn write_pictures<W: Write + Seek>(
    zip: &mut ZipWriter<W>,
    drawing: &Drawing,
    face: Option<&RgbImage>,
    look: Option<&LookPhoto>,
) -> zip::result::ZipResult<()> {
    let size = DOCUMENT_SIZE;
    let sketch = rasterize(drawing, size);
    let colours = rasterize_hints(drawing, size);
    let merged = merge(&sketch, &colours);
    let thumbnail = imageops::resize(
        &merged,
        THUMBNAIL_SIZE,
        THUMBNAIL_SIZE,
        FilterType::Triangle,
    );

    let deflated = SimpleFileOptions::default().compression_method(CompressionMethod::Deflated);
    let mut layers = String::new();
    let mut layer = |name: &str, opacity: f32, visible: bool| {
        layers.push_str(&format!(
            "    <layer name=\"{name}\" src=\"data/{name}.png\" x=\"0\" y=\"0\" opacity=\"{opacity:.2}\" visibility=\"{}\"/>\n",
            if visible { "visible" } else { "hidden" }
        ));
    };
    if look.is_some() {
        layer("look", 1.0, false);
    }
    if face.is_some() {
        layer("face", 1.0, false);
    }
    layer("colours", COLOUR_OPACITY, true);
    layer("sketch", 1.0, true);
    let stack = format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<image version=\"0.0.6\" w=\"{size}\" h=\"{size}\">\n  <stack>\n{layers}  </stack>\n</image>\n"
    );
    zip.start_file("stack.xml", deflated)?;
    zip.write_all(stack.as_bytes())?;

    write_png(zip, "data/sketch.png", DynamicImage::ImageLuma8(sketch))?;
    write_png(zip, "data/colours.png", DynamicImage::ImageRgba8(colours))?;
    if let Some(face) = face {
        let face = DynamicImage::ImageRgb8(upscale(face, size));
        write_png(zip, "data/face.png", face)?;
    }
    write_png(zip, "mergedimage.png", DynamicImage::ImageRgb8(merged))?;
    write_png(
        zip,
        "Thumbnails/thumbnail.png",
        DynamicImage::ImageRgb8(thumbnail),
    )
}

/// A PNG entry (stored: PNGs are compressed already).
fn write_png<W: Write + Seek>(
    zip: &mut ZipWriter<W>,
    name: &str,
    image: DynamicImage,
) -> zip::result::ZipResult<()> {
    let stored = SimpleFileOptions::default().compression_method(CompressionMethod::Stored);
    zip.start_file(name, stored)?;
    let mut bytes = Cursor::new(Vec::new());
    image
        .write_to(&mut bytes, ImageFormat::Png)
        .map_err(|e| std::io::Error::other(e.to_string()))?;
    zip.write_all(bytes.get_ref())?;
    Ok(())
}

/// sketch2face's own data: the background (as a PNG) and the JSON.
fn write_data<W: Write + Seek>(
    zip: &mut ZipWriter<W>,
    document: &DrawingDocument,
) -> zip::result::ZipResult<()> {
    let drawing = &document.drawing;
    let background = drawing
        .background
        .as_ref()
        .map(|_| BACKGROUND_PNG.to_owned());
    if let Some(look) = &document.look {
        let stored = SimpleFileOptions::default().compression_method(CompressionMethod::Stored);
        zip.start_file(LOOK_PNG, stored)?;
        zip.write_all(look.png())?;
    }
    if let Some(image) = &drawing.background {
        write_png(
            zip,
            BACKGROUND_PNG,
            DynamicImage::ImageLuma8((**image).clone()),
        )?;
    }
    let json = DrawingJson {
        format: FORMAT.to_owned(),
        version: FORMAT_VERSION,
        seed: document.seed,
        model: document.model.clone(),
        background,
        person: document.person,
        look: document.look.as_ref().map(|_| LOOK_PNG.to_owned()),
        look_in_use: document.look.as_ref().is_none_or(|look| look.in_use),
        drawing: serde_json::from_str(&drawing_to_json(drawing)).expect("the drawing's JSON"),
    };
    let deflated = SimpleFileOptions::default().compression_method(CompressionMethod::Deflated);
    zip.start_file(DRAWING_JSON, deflated)?;
    let json = serde_json::to_string_pretty(&json).expect("serialises");
    zip.write_all(json.as_bytes())?;
    Ok(())
}

/// The sketch with the colours over it at [`COLOUR_OPACITY`]: what the canvas shows.
fn merge(sketch: &GrayImage, colours: &RgbaImage) -> RgbImage {
    RgbImage::from_fn(sketch.width(), sketch.height(), |x, y| {
        let gray = f32::from(sketch.get_pixel(x, y)[0]);
        let colour = colours.get_pixel(x, y);
        let alpha = f32::from(colour[3]) / 255.0 * COLOUR_OPACITY;
        image::Rgb(std::array::from_fn(|c| {
            (gray * (1.0 - alpha) + f32::from(colour[c]) * alpha).round() as u8
        }))
    })
}

/// Writes `document` to `path` as OpenRaster, atomically (see [`write_atomically`]).
pub fn save_ora(
    path: &Path,
    document: &DrawingDocument,
    layers: Layers,
) -> Result<(), DocumentError> {
    write_atomically(path, |file| {
        write_ora(std::io::BufWriter::new(file), document, layers)
            .and_then(|mut out| out.flush().map_err(Into::into))
            .map_err(|e| match e {
                zip::result::ZipError::Io(e) => e,
                other => std::io::Error::other(other.to_string()),
            })
    })
    .map_err(|source| DocumentError::Io {
        path: path.to_owned(),
        source,
    })
}

/// Reads an `.ora` file (at most [`MAX_ORA_BYTES`]).
pub fn load_ora(path: &Path) -> Result<OpenedOra, DocumentError> {
    let io = |source| DocumentError::Io {
        path: path.to_owned(),
        source,
    };
    let file = std::fs::File::open(path).map_err(io)?;
    let mut bytes = Vec::new();
    file.take(MAX_ORA_BYTES + 1)
        .read_to_end(&mut bytes)
        .map_err(io)?;
    if bytes.len() as u64 > MAX_ORA_BYTES {
        return Err(DocumentError::TooLarge {
            path: path.to_owned(),
            entry: "the file".to_owned(),
            limit: MAX_ORA_BYTES,
        });
    }
    read_ora(&bytes, path)
}

/// Reads an `.ora` file's bytes; `path` names it in errors.
pub fn read_ora(bytes: &[u8], path: &Path) -> Result<OpenedOra, DocumentError> {
    let not_ora = |reason: String| DocumentError::NotOpenRaster {
        path: path.to_owned(),
        reason,
    };
    let mut zip = ZipArchive::new(Cursor::new(bytes)).map_err(|e| not_ora(e.to_string()))?;
    let mimetype = read_entry(&mut zip, "mimetype", path)?;
    if mimetype.trim_ascii() != ORA_MIMETYPE.as_bytes() {
        return Err(not_ora(format!(
            "its mimetype is `{}`",
            String::from_utf8_lossy(&mimetype)
        )));
    }
    if zip.index_for_name(DRAWING_JSON).is_some() {
        return read_ours(&mut zip, path).map(OpenedOra::Drawing);
    }
    let merged = read_entry(&mut zip, "mergedimage.png", path)?;
    Ok(OpenedOra::Merged(decode_sketch(
        &merged,
        &path.join("mergedimage.png"),
    )?))
}

fn read_ours(
    zip: &mut ZipArchive<Cursor<&[u8]>>,
    path: &Path,
) -> Result<DrawingDocument, DocumentError> {
    let entry_error = |entry: &str, reason: String| DocumentError::Entry {
        path: path.to_owned(),
        entry: entry.to_owned(),
        reason,
    };
    let json = read_entry(zip, DRAWING_JSON, path)?;
    let json: DrawingJson =
        serde_json::from_slice(&json).map_err(|e| entry_error(DRAWING_JSON, e.to_string()))?;
    if json.format != FORMAT || json.version > FORMAT_VERSION {
        return Err(entry_error(
            DRAWING_JSON,
            format!(
                "format `{}` version {} (this sketch2face reads `{FORMAT}` up to version {FORMAT_VERSION})",
                json.format, json.version
            ),
        ));
    }
    let mut drawing = drawing_from_json(&json.drawing.to_string())
        .map_err(|e| entry_error(DRAWING_JSON, e.to_string()))?;
    if let Some(entry) = json.background.as_deref() {
        let png = read_entry(zip, entry, path)?;
        let background = image::load_from_memory_with_format(&png, ImageFormat::Png)
            .map_err(|e| entry_error(entry, e.to_string()))?;
        drawing.background = Some(Arc::new(background.into_luma8()));
    }
    let look = match json.look.as_deref() {
        Some(entry) => {
            let png = read_entry(zip, entry, path)?;
            // The sketch files' limits first: a crafted entry cannot claim a huge image.
            let photo = decode_image(&png, &path.join(entry))?;
            let (width, height) = (photo.width(), photo.height());
            if width.max(height) > LOOK_MAX_SIDE {
                return Err(entry_error(entry, format!("the look photo is {width}x{height}, over {LOOK_MAX_SIDE} px")));
            }
            Some(LookPhoto { png: png.into(), width, height, in_use: json.look_in_use })
        }
        None => None,
    };
    Ok(DrawingDocument {
        drawing,
        seed: json.seed,
        model: json.model,
        person: json.person,
        look,
    })
}

/// An entry's bytes, at most [`MAX_ORA_BYTES`] of them.
fn read_entry<R: Read + Seek>(
    zip: &mut ZipArchive<R>,
    name: &str,
    path: &Path,
) -> Result<Vec<u8>, DocumentError> {
    let entry = zip.by_name(name).map_err(|e| DocumentError::Entry {
        path: path.to_owned(),
        entry: name.to_owned(),
        reason: e.to_string(),
    })?;
    let mut bytes = Vec::new();
    entry
        .take(MAX_ORA_BYTES + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| DocumentError::Entry {
            path: path.to_owned(),
            entry: name.to_owned(),
            reason: e.to_string(),
        })?;
    if bytes.len() as u64 > MAX_ORA_BYTES {
        return Err(DocumentError::TooLarge {
            path: path.to_owned(),
            entry: name.to_owned(),
            limit: MAX_ORA_BYTES,
        });
    }
    Ok(bytes)
}

/// Writes a file the way no failure can damage the old one: `write` fills a new temporary file
/// in the target's folder, which is flushed to disk and then renamed over `path` (a symbolic
/// link at `path` is replaced, not written through). On any error the temporary file is
/// removed and `path` is left as it was.
pub fn write_atomically(
    path: &Path,
    write: impl FnOnce(&mut std::fs::File) -> std::io::Result<()>,
) -> std::io::Result<()> {
    let folder = match path.parent() {
        Some(folder) if !folder.as_os_str().is_empty() => folder,
        _ => Path::new("."),
    };
    let mut temp = tempfile::Builder::new()
        .prefix(".sketch2face-")
        .suffix(".tmp")
        .tempfile_in(folder)?;
    write(temp.as_file_mut())?;
    temp.as_file().sync_all()?;
    temp.persist(path).map_err(|failed| failed.error)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sketch::{Point, Stroke, Tool};

    fn document() -> DrawingDocument {
        let line = |tool: Tool, colour: Option<[u8; 3]>, y: f32| Stroke {
            tool,
            width: 0.04,
            points: vec![Point::new(0.2, y, 0.3), Point::new(0.8, y, 0.9)],
            colour,
        };
        let drawing = Drawing::with_background(GrayImage::from_pixel(40, 30, image::Luma([200])))
            .with_stroke(line(Tool::Brush, None, 0.3))
            .with_stroke(line(Tool::Colour, Some([210, 160, 130]), 0.5))
            .with_stroke(line(Tool::Eraser, None, 0.7));
        DrawingDocument {
            drawing,
            seed: 1234567,
            model: Some("sketch2face.onnx".to_owned()),
            person: None,
            look: None,
        }
    }

    fn look_photo(width: u32, height: u32) -> RgbImage {
        RgbImage::from_fn(width, height, |x, y| image::Rgb([(x % 256) as u8, (y % 256) as u8, 90]))
    }

    fn zip_names(bytes: &[u8]) -> Vec<String> {
        let zip = ZipArchive::new(Cursor::new(bytes)).unwrap();
        zip.file_names()
            .map(|name| name.unwrap().into_owned())
            .collect()
    }

    #[test]
    fn a_saved_drawing_reopens_with_every_stroke_the_seed_and_the_background() {
        let document = document();
        let face = RgbImage::from_pixel(16, 16, image::Rgb([1, 2, 3]));
        let bytes = write_ora(
            Cursor::new(Vec::new()),
            &document,
            Layers::Pictures { face: Some(&face) },
        )
        .unwrap()
        .into_inner();
        let OpenedOra::Drawing(read) = read_ora(&bytes, Path::new("a.ora")).unwrap() else {
            panic!("our own file opens editable")
        };
        assert_eq!(read, document);
    }

    #[test]
    fn the_person_and_the_look_photo_come_back_from_the_file_and_from_the_autosave() {
        let mut hidden = LookPhoto::new(&look_photo(300, 200));
        hidden.in_use = false;
        for look in [LookPhoto::new(&look_photo(300, 200)), hidden] {
            let document = DrawingDocument { person: Some(4321), look: Some(look), ..document() };
            for layers in [Layers::Pictures { face: None }, Layers::DataOnly] {
                let bytes = write_ora(Cursor::new(Vec::new()), &document, layers).unwrap().into_inner();
                let OpenedOra::Drawing(read) = read_ora(&bytes, Path::new("a.ora")).unwrap() else {
                    panic!("our own file opens editable")
                };
                assert_eq!(read, document, "{layers:?}");
                assert_eq!(read.look.unwrap().decode().unwrap(), look_photo(300, 200));
            }
        }
        // The look is a hidden layer that other programs list.
        let document = DrawingDocument { look: Some(LookPhoto::new(&look_photo(30, 20))), ..document() };
        let bytes = write_ora(Cursor::new(Vec::new()), &document, Layers::Pictures { face: None }).unwrap().into_inner();
        let mut zip = ZipArchive::new(Cursor::new(&bytes[..])).unwrap();
        let stack = String::from_utf8(read_entry(&mut zip, "stack.xml", Path::new("a")).unwrap()).unwrap();
        assert!(stack.contains("name=\"look\" src=\"data/look.png\""), "{stack}");
        assert!(stack.contains("visibility=\"hidden\""), "{stack}");
    }

    #[test]
    fn a_large_look_photo_is_kept_at_the_document_size_and_an_oversized_entry_is_refused() {
        let look = LookPhoto::new(&look_photo(3000, 1500));
        assert_eq!(look.dimensions(), (LOOK_MAX_SIDE, LOOK_MAX_SIDE / 2));
        // A crafted file whose look entry is larger than any the app writes.
        let mut document = DrawingDocument { look: Some(look), ..document() };
        let big = LookPhoto::new(&look_photo(1000, 10));
        let mut png = Cursor::new(Vec::new());
        DynamicImage::ImageRgb8(look_photo(LOOK_MAX_SIDE + 1, 4)).write_to(&mut png, ImageFormat::Png).unwrap();
        document.look = Some(LookPhoto { png: png.into_inner().into(), width: LOOK_MAX_SIDE + 1, height: 4, in_use: true });
        let bytes = write_ora(Cursor::new(Vec::new()), &document, Layers::DataOnly).unwrap().into_inner();
        let error = read_ora(&bytes, Path::new("crafted.ora")).unwrap_err().to_string();
        assert!(error.contains("data/look.png") && error.contains("over 1024 px"), "{error}");
        assert_eq!(big.dimensions(), (1000, 10));
    }

    #[test]
    fn data_only_files_reopen_the_same_without_pictures() {
        let bytes = write_ora(Cursor::new(Vec::new()), &document(), Layers::DataOnly)
            .unwrap()
            .into_inner();
        let names = zip_names(&bytes);
        assert_eq!(names[0], "mimetype");
        assert!(!names.iter().any(|n| n.starts_with("data/")), "{names:?}");
        assert_eq!(
            read_ora(&bytes, Path::new("autosave.ora")).unwrap(),
            OpenedOra::Drawing(document())
        );
    }

    #[test]
    fn the_file_is_openraster_with_the_layers_other_programs_read() {
        let face = RgbImage::from_pixel(16, 16, image::Rgb([1, 2, 3]));
        let bytes = write_ora(
            Cursor::new(Vec::new()),
            &document(),
            Layers::Pictures { face: Some(&face) },
        )
        .unwrap()
        .into_inner();
        // The spec: `mimetype` first, stored, at offset 30 of the file.
        assert_eq!(&bytes[0..4], b"PK\x03\x04");
        assert_eq!(&bytes[8..10], &[0, 0], "stored");
        assert_eq!(&bytes[30..38], b"mimetype");
        assert_eq!(&bytes[38..54], ORA_MIMETYPE.as_bytes());
        let names = zip_names(&bytes);
        for name in ORA_ENTRIES.into_iter().chain([DRAWING_JSON]) {
            assert!(names.contains(&name.to_owned()), "{name} in {names:?}");
        }
        assert_eq!(names[0], "mimetype");
        let mut zip = ZipArchive::new(Cursor::new(&bytes[..])).unwrap();
        let stack =
            String::from_utf8(read_entry(&mut zip, "stack.xml", Path::new("a")).unwrap()).unwrap();
        for layer in ["face", "colours", "sketch"] {
            assert!(
                stack.contains(&format!("name=\"{layer}\" src=\"data/{layer}.png\"")),
                "{stack}"
            );
        }
        let png = |zip: &mut ZipArchive<Cursor<&[u8]>>, name| {
            image::load_from_memory(&read_entry(zip, name, Path::new("a")).unwrap()).unwrap()
        };
        let colours = png(&mut zip, "data/colours.png").into_rgba8();
        assert_eq!(colours.dimensions(), (DOCUMENT_SIZE, DOCUMENT_SIZE));
        // The colour stroke runs along y = 0.5, through the middle.
        assert_eq!(colours.get_pixel(256, 256).0, [210, 160, 130, 255]);
        let sketch = png(&mut zip, "data/sketch.png").into_luma8();
        let merged = png(&mut zip, "mergedimage.png").into_rgb8();
        let gray = f32::from(sketch.get_pixel(256, 256)[0]);
        let half = |c: u8| ((gray + f32::from(c)) / 2.0).round() as u8;
        assert_eq!(
            merged.get_pixel(256, 256).0,
            [half(210), half(160), half(130)],
            "half colour over the sketch"
        );
        assert_eq!(png(&mut zip, "data/face.png").width(), DOCUMENT_SIZE);
        assert_eq!(
            png(&mut zip, "Thumbnails/thumbnail.png").width(),
            THUMBNAIL_SIZE
        );
    }

    #[test]
    fn another_programs_file_opens_as_its_merged_image() {
        let mut zip = ZipWriter::new(Cursor::new(Vec::new()));
        let stored = SimpleFileOptions::default().compression_method(CompressionMethod::Stored);
        zip.start_file("mimetype", stored).unwrap();
        zip.write_all(ORA_MIMETYPE.as_bytes()).unwrap();
        zip.start_file("stack.xml", stored).unwrap();
        zip.write_all(b"<image w=\"64\" h=\"32\"><stack/></image>")
            .unwrap();
        let mut merged = GrayImage::from_pixel(64, 32, image::Luma([255]));
        for x in 10..50 {
            merged.put_pixel(x, 16, image::Luma([0]));
        }
        let mut png = Cursor::new(Vec::new());
        merged.write_to(&mut png, ImageFormat::Png).unwrap();
        zip.start_file("mergedimage.png", stored).unwrap();
        zip.write_all(png.get_ref()).unwrap();
        let bytes = zip.finish().unwrap().into_inner();
        let OpenedOra::Merged(sketch) = read_ora(&bytes, Path::new("krita.ora")).unwrap() else {
            panic!("a foreign file opens as its merged image")
        };
        assert_eq!(sketch.width(), sketch.height(), "fitted into a square");
        assert!(sketch.pixels().any(|p| p[0] < 64), "the line is there");
    }

    #[test]
    fn files_that_are_not_openraster_are_refused_with_the_reason() {
        let error = read_ora(b"not a zip", Path::new("x.ora")).unwrap_err();
        assert!(
            error.to_string().contains("x.ora: not an OpenRaster file"),
            "{error}"
        );

        let mut zip = ZipWriter::new(Cursor::new(Vec::new()));
        zip.start_file("mimetype", SimpleFileOptions::default())
            .unwrap();
        zip.write_all(b"application/zip").unwrap();
        let bytes = zip.finish().unwrap().into_inner();
        let error = read_ora(&bytes, Path::new("x.ora")).unwrap_err();
        assert!(error.to_string().contains("application/zip"), "{error}");
    }

    #[test]
    fn a_failed_write_leaves_the_old_file_byte_identical_and_no_temporary_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("drawing.ora");
        std::fs::write(&path, b"the old drawing").unwrap();
        let error = write_atomically(&path, |file| {
            file.write_all(b"half of the new")?;
            Err(std::io::Error::other("the disk is full"))
        })
        .unwrap_err();
        assert!(error.to_string().contains("the disk is full"));
        assert_eq!(std::fs::read(&path).unwrap(), b"the old drawing");
        let left: Vec<_> = std::fs::read_dir(dir.path()).unwrap().collect();
        assert_eq!(left.len(), 1, "no temporary file is left: {left:?}");

        save_ora(&path, &document(), Layers::DataOnly).unwrap();
        assert!(matches!(load_ora(&path).unwrap(), OpenedOra::Drawing(_)));
    }

    #[cfg(unix)]
    #[test]
    fn a_symbolic_link_at_the_target_is_replaced_not_written_through() {
        let dir = tempfile::tempdir().unwrap();
        let elsewhere = dir.path().join("elsewhere.txt");
        std::fs::write(&elsewhere, b"keep me").unwrap();
        let link = dir.path().join("drawing.ora");
        std::os::unix::fs::symlink(&elsewhere, &link).unwrap();
        save_ora(&link, &document(), Layers::Pictures { face: None }).unwrap();
        assert_eq!(std::fs::read(&elsewhere).unwrap(), b"keep me");
        assert!(
            !std::fs::symlink_metadata(&link)
                .unwrap()
                .file_type()
                .is_symlink()
        );
    }
}

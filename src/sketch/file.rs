//! Opening a sketch from an image file: limits, decoding and normalisation to a clean square
//! page of black lines on white paper.

use std::io::Cursor;
use std::path::{Path, PathBuf};

use image::{
    ColorType, DynamicImage, GrayImage, ImageDecoder, ImageError, ImageFormat, ImageReader, Limits,
    RgbaImage,
};

use crate::imaging::fit_square_white;

/// Side of the square page a loaded sketch is normalised to.
pub const BACKGROUND_SIZE: u32 = 512;
/// Largest sketch file read, in bytes.
pub const MAX_FILE_BYTES: u64 = 64 * 1024 * 1024;
/// Largest decoded width or height, in pixels.
pub const MAX_DIMENSION: u32 = 8192;
/// Most memory decoding a sketch file and turning it gray may take, in bytes (see
/// [`decode_cost`]): a sketch ends as a 512 px page, and this keeps opening any accepted file
/// under 400 MB of resident memory in `generate`. It is 8192 x 8192 of 8-bit gray, 22 MP of
/// 8-bit RGBA, about 30 MP of a baseline RGB JPEG, 13 MP of a progressive one or of 16-bit RGBA.
pub const MAX_DECODED_BYTES: u64 = 128 * 1024 * 1024;
/// Memory the decoders may use besides their output (tables, rows, a JPEG's copy of the file).
const DECODER_HEADROOM_BYTES: u64 = 80 * 1024 * 1024;

/// A page whose mean gray is below this is taken as light lines on a dark page and inverted.
const DARK_PAGE_MEAN: f64 = 110.0;
/// Percentile taken as the ink value for the contrast stretch.
const INK_PERCENTILE: f64 = 0.01;
/// Percentile taken as the paper value for the contrast stretch.
const PAPER_PERCENTILE: f64 = 0.90;
/// Below this ink-to-paper spread the page is flat, and stretching would only amplify noise.
const MIN_STRETCH_SPREAD: u8 = 8;

/// Why a sketch file could not be opened. Every variant names the file.
#[derive(Debug, thiserror::Error)]
pub enum SketchFileError {
    #[error("cannot read sketch file {}", path.display())]
    Read {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("sketch file {} is empty", path.display())]
    Empty { path: PathBuf },
    #[error("sketch file {} is too large: {size} bytes, the limit is {limit} bytes", path.display())]
    FileTooLarge {
        path: PathBuf,
        size: u64,
        limit: u64,
    },
    #[error(
        "sketch file {} is not an image in a supported format (PNG, JPEG, BMP, GIF, WebP, TIFF, PNM)",
        path.display()
    )]
    UnknownFormat { path: PathBuf },
    #[error(
        "sketch file {} is {width} x {height} pixels, the limit is {limit} x {limit}",
        path.display()
    )]
    DimensionsTooLarge {
        path: PathBuf,
        width: u32,
        height: u32,
        limit: u32,
    },
    #[error(
        "sketch file {} is {width} x {height} pixels of {color}, which would take {} MB to decode; the limit is {} MB (a sketch becomes a 512 px page: save it smaller, or as 8-bit)",
        path.display(),
        cost.div_ceil(1_000_000),
        limit / 1_000_000
    )]
    DecodedTooLarge {
        path: PathBuf,
        width: u32,
        height: u32,
        /// The pixel format, e.g. `16-bit RGBA`, `progressive JPEG RGB`.
        color: String,
        /// Bytes the decoding would take.
        cost: u64,
        limit: u64,
    },
    #[error("cannot decode sketch file {} as {format:?}", path.display())]
    Decode {
        path: PathBuf,
        format: ImageFormat,
        #[source]
        source: ImageError,
    },
}

impl SketchFileError {
    /// The file the error is about.
    pub fn path(&self) -> &Path {
        match self {
            Self::Read { path, .. }
            | Self::Empty { path }
            | Self::FileTooLarge { path, .. }
            | Self::UnknownFormat { path }
            | Self::DimensionsTooLarge { path, .. }
            | Self::DecodedTooLarge { path, .. }
            | Self::Decode { path, .. } => path,
        }
    }
}

/// Reads an image file and normalises it with [`normalize_sketch`] to a
/// [`BACKGROUND_SIZE`] square page. The format is recognised from the content, not the name.
pub fn load_sketch_file(path: &Path) -> Result<GrayImage, SketchFileError> {
    // The file's bytes are freed before the page is cleaned up.
    let image = decode_image(&read_image_file(path)?, path)?;
    Ok(normalize_sketch(image))
}

/// A photo's share of mid-tone pixels is at least this; a drawing's is far less (paper and ink,
/// a little antialiasing and pencil grain between them).
pub const PHOTO_MID_TONES: f64 = 0.5;
/// The gray levels counted as mid-tones: neither ink nor paper.
const MID_TONES: std::ops::Range<usize> = 40..216;

/// Whether `image` is a photograph rather than a drawing: most of its pixels are mid-tones.
pub fn looks_like_photo(image: &DynamicImage) -> bool {
    let gray = flatten_onto_white(image.clone());
    let pixels = u64::from(gray.width()) * u64::from(gray.height());
    if pixels == 0 {
        return false;
    }
    let counts = histogram(&gray);
    let mid: u64 = counts[MID_TONES].iter().sum();
    mid as f64 / pixels as f64 >= PHOTO_MID_TONES
}

/// What [`load_sketch_or_photo`] made of a file.
#[derive(Clone, Debug, PartialEq)]
pub struct OpenedSketch {
    /// The sketch page ([`BACKGROUND_SIZE`] px).
    pub page: GrayImage,
    /// The file was a photo, made a sketch with training's 2017 recipe
    /// ([`crate::sketchify::canny2017`]).
    pub from_photo: bool,
}

/// Reads an image file as a sketch page: a drawing is cleaned up ([`normalize_sketch`]); a photo
/// ([`looks_like_photo`]) is first made a sketch with the recipe the models were trained on, at
/// its own size, so what the user draws over is what training's sketches look like.
pub fn load_sketch_or_photo(path: &Path) -> Result<OpenedSketch, SketchFileError> {
    let image = decode_image(&read_image_file(path)?, path)?;
    if !looks_like_photo(&image) {
        return Ok(OpenedSketch { page: normalize_sketch(image), from_photo: false });
    }
    let sketch = crate::sketchify::canny2017(&image.into_rgb8());
    Ok(OpenedSketch { page: fit_square_white(&sketch, BACKGROUND_SIZE), from_photo: true })
}

/// Reads an image file as it is (a photo for `sketch2face sketchify`), with the limits of
/// sketch files: no normalisation. The format is recognised from the content, not the name.
pub fn load_image_file(path: &Path) -> Result<DynamicImage, SketchFileError> {
    decode_image(&read_image_file(path)?, path)
}

/// Reads a colour-hint image (colour where alpha > 0; `generate --hints`) with the limits of
/// sketch files, as RGBA at its own size: the engine fits it like the sketch.
pub fn load_hints_file(path: &Path) -> Result<RgbaImage, SketchFileError> {
    Ok(decode_image(&read_image_file(path)?, path)?.into_rgba8())
}

/// The bytes of an image file, refused before reading when it is not a regular file or larger
/// than [`MAX_FILE_BYTES`].
fn read_image_file(path: &Path) -> Result<Vec<u8>, SketchFileError> {
    let read_error = |source| SketchFileError::Read {
        path: path.to_owned(),
        source,
    };
    // Check the size before reading so a huge file is refused without loading it.
    let metadata = std::fs::metadata(path).map_err(read_error)?;
    if !metadata.is_file() {
        // A folder, a FIFO or a device has no size to check and might never end.
        return Err(read_error(std::io::Error::new(
            std::io::ErrorKind::InvalidInput,
            "not a regular file",
        )));
    }
    check_file_size(metadata.len(), path)?;
    std::fs::read(path).map_err(read_error)
}

/// [`load_sketch_file`] for a file already in memory (an upload): the same size and dimension
/// limits, format detection and normalisation. `name` stands for the file in errors.
pub fn decode_sketch(bytes: &[u8], name: &Path) -> Result<GrayImage, SketchFileError> {
    Ok(normalize_sketch(decode_image(bytes, name)?))
}

/// Decodes an image file's bytes with the limits of sketch files ([`MAX_FILE_BYTES`],
/// [`MAX_DIMENSION`]), recognising the format from the content. `name` stands for the file in
/// errors.
pub fn decode_image(bytes: &[u8], name: &Path) -> Result<DynamicImage, SketchFileError> {
    if bytes.is_empty() {
        return Err(SketchFileError::Empty {
            path: name.to_owned(),
        });
    }
    check_file_size(bytes.len() as u64, name)?;
    let format = image::guess_format(bytes).map_err(|_| SketchFileError::UnknownFormat {
        path: name.to_owned(),
    })?;
    let decode_error = |source| SketchFileError::Decode {
        path: name.to_owned(),
        format,
        source,
    };

    // Only the header is read here: an image that is too large is refused with its size and
    // pixel format before any pixel is decoded.
    let mut reader = ImageReader::with_format(Cursor::new(bytes), format);
    let mut limits = Limits::default();
    limits.max_alloc = Some(MAX_DECODED_BYTES + DECODER_HEADROOM_BYTES);
    reader.limits(limits);
    let decoder = reader.into_decoder().map_err(decode_error)?;
    let (width, height) = decoder.dimensions();
    if width > MAX_DIMENSION || height > MAX_DIMENSION {
        return Err(SketchFileError::DimensionsTooLarge {
            path: name.to_owned(),
            width,
            height,
            limit: MAX_DIMENSION,
        });
    }
    let (color, cost) = decode_cost(format, bytes, decoder.color_type(), width, height);
    if cost > MAX_DECODED_BYTES {
        return Err(SketchFileError::DecodedTooLarge {
            path: name.to_owned(),
            width,
            height,
            color,
            cost,
            limit: MAX_DECODED_BYTES,
        });
    }
    DynamicImage::from_decoder(decoder).map_err(decode_error)
}

/// What decoding an image and turning it gray takes: its pixel format in words and the bytes.
/// That is the decoded pixels, plus the gray (and alpha) copy made from them unless they are
/// 8-bit gray already, plus for a JPEG the decoder's copy of the file and, when progressive, the
/// DCT coefficients it keeps for the whole image (two bytes per sample, counted as if no channel
/// were subsampled). Computed in `u64` with saturation: it cannot overflow.
fn decode_cost(
    format: ImageFormat,
    bytes: &[u8],
    color: ColorType,
    width: u32,
    height: u32,
) -> (String, u64) {
    let pixels = u64::from(width) * u64::from(height);
    let decoded = pixels.saturating_mul(u64::from(color.bytes_per_pixel()));
    let gray = match color {
        ColorType::L8 => 0,
        _ if color.has_alpha() => pixels.saturating_mul(2),
        _ => pixels,
    };
    let cost = decoded.saturating_add(gray);
    let depth = match color.bytes_per_pixel() / color.channel_count().max(1) {
        1 => "8-bit",
        2 => "16-bit",
        _ => "32-bit float",
    };
    let channels = match color.channel_count() {
        1 => "gray",
        2 => "gray with alpha",
        3 => "RGB",
        _ => "RGBA",
    };
    if format != ImageFormat::Jpeg {
        return (format!("{depth} {channels}"), cost);
    }
    let cost = cost.saturating_add(bytes.len() as u64);
    if !jpeg_is_progressive(bytes) {
        return (format!("JPEG {channels}"), cost);
    }
    let coefficients = decoded.saturating_mul(2);
    (
        format!("progressive JPEG {channels}"),
        cost.saturating_add(coefficients),
    )
}

/// Whether a JPEG's frame header (SOF) says progressive; false when there is none before the
/// first scan (the decoder then fails on its own).
fn jpeg_is_progressive(bytes: &[u8]) -> bool {
    let mut at = 2; // after SOI
    while let (Some(&0xff), Some(&marker)) = (bytes.get(at), bytes.get(at + 1)) {
        match marker {
            0xff => at += 1, // fill byte
            // SOF2, SOF6, SOF10, SOF14: progressive (Huffman or arithmetic, (non-)differential).
            0xc2 | 0xc6 | 0xca | 0xce => return true,
            // The other SOFs, and the first scan: not progressive.
            0xc0 | 0xc1 | 0xc3 | 0xc5 | 0xc7 | 0xc9 | 0xcb | 0xcd | 0xcf | 0xda => return false,
            // Markers without a length.
            0x01 | 0xd0..=0xd9 => at += 2,
            _ => {
                let Some(length) = bytes.get(at + 2..at + 4) else {
                    return false;
                };
                at += 2 + usize::from(u16::from_be_bytes([length[0], length[1]]));
            }
        }
    }
    false
}

fn check_file_size(size: u64, path: &Path) -> Result<(), SketchFileError> {
    if size > MAX_FILE_BYTES {
        return Err(SketchFileError::FileTooLarge {
            path: path.to_owned(),
            size,
            limit: MAX_FILE_BYTES,
        });
    }
    Ok(())
}

/// Where a file's image went on its page (see [`normalize_sketch`]): centred on a white square
/// of its longer side, then that square resized to the page. Maps page points back to the file.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PageFit {
    /// The file's image size.
    pub width: u32,
    pub height: u32,
    /// The page's side.
    pub page: u32,
}

impl PageFit {
    /// A point on the page, in the file image's pixels (pixel corners at whole numbers).
    pub fn to_file(&self, [x, y]: [f32; 2]) -> [f32; 2] {
        let side = self.width.max(self.height);
        let scale = side as f32 / self.page.max(1) as f32;
        let (left, top) = ((side - self.width) / 2, (side - self.height) / 2);
        [x * scale - left as f32, y * scale - top as f32]
    }
}

/// [`load_sketch_file`], with where the file's image lies on the page.
pub fn load_sketch_file_fitted(path: &Path) -> Result<(GrayImage, PageFit), SketchFileError> {
    let image = decode_image(&read_image_file(path)?, path)?;
    let (width, height) = (image.width(), image.height());
    let page = normalize_sketch(image);
    let fit = PageFit {
        width,
        height,
        page: page.width(),
    };
    Ok((page, fit))
}

/// Turns any image into a clean sketch page: gray, dark lines on light paper, contrast
/// stretched so light pencil becomes ink, centred on a white square of [`BACKGROUND_SIZE`].
///
/// Steps: transparency is composited over white paper; gray is `image`'s luma (Rec. 709
/// weights); a page with mean below 110 is inverted; then values are stretched so the 1st
/// percentile (nearest rank) maps to 0 and the 90th to 255, unless they differ by less than 8;
/// last the page is fitted with [`fit_square_white`].
pub fn normalize_sketch(image: DynamicImage) -> GrayImage {
    let mut gray = flatten_onto_white(image);
    if gray.width() == 0 || gray.height() == 0 {
        return fit_square_white(&gray, BACKGROUND_SIZE);
    }
    let histogram = histogram(&gray);
    let pixel_count = u64::from(gray.width()) * u64::from(gray.height());
    let sum: u64 = histogram
        .iter()
        .enumerate()
        .map(|(value, count)| value as u64 * count)
        .sum();
    if (sum as f64 / pixel_count as f64) < DARK_PAGE_MEAN {
        image::imageops::invert(&mut gray);
        // Inverting mirrors the histogram; recomputing would give the same result.
        let mut mirrored = histogram;
        mirrored.reverse();
        stretch_contrast(&mut gray, &mirrored, pixel_count);
    } else {
        stretch_contrast(&mut gray, &histogram, pixel_count);
    }
    fit_square_white(&gray, BACKGROUND_SIZE)
}

fn flatten_onto_white(image: DynamicImage) -> GrayImage {
    if !image.color().has_alpha() {
        return image.into_luma8();
    }
    let gray_alpha = image.into_luma_alpha8();
    let (width, height) = gray_alpha.dimensions();
    let flattened = gray_alpha
        .pixels()
        .map(|pixel| {
            let [luma, alpha] = pixel.0.map(u32::from);
            // Rounded `luma * a + 255 * (1 - a)` with `a = alpha / 255`.
            ((luma * alpha + 255 * (255 - alpha) + 127) / 255) as u8
        })
        .collect();
    GrayImage::from_raw(width, height, flattened).expect("one gray byte per pixel")
}

fn histogram(gray: &GrayImage) -> [u64; 256] {
    let mut counts = [0u64; 256];
    for &value in gray.as_raw() {
        counts[usize::from(value)] += 1;
    }
    counts
}

/// Nearest-rank percentile: the smallest value with at least `ceil(p * n)` pixels (at least
/// one) at or below it.
fn percentile(histogram: &[u64; 256], pixel_count: u64, p: f64) -> u8 {
    let rank = ((p * pixel_count as f64).ceil() as u64).max(1);
    let mut seen = 0;
    for (value, &count) in histogram.iter().enumerate() {
        seen += count;
        if seen >= rank {
            return value as u8;
        }
    }
    u8::MAX
}

fn stretch_contrast(gray: &mut GrayImage, histogram: &[u64; 256], pixel_count: u64) {
    let ink = percentile(histogram, pixel_count, INK_PERCENTILE);
    let paper = percentile(histogram, pixel_count, PAPER_PERCENTILE);
    if paper.saturating_sub(ink) < MIN_STRETCH_SPREAD {
        return;
    }
    let (ink, spread) = (u32::from(ink), u32::from(paper) - u32::from(ink));
    let lookup: [u8; 256] = std::array::from_fn(|value| {
        let above_ink = (value as u32).clamp(ink, ink + spread) - ink;
        ((above_ink * 255 + spread / 2) / spread) as u8
    });
    for value in gray.iter_mut() {
        *value = lookup[usize::from(*value)];
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use image::Luma;
    use std::io::Write;

    fn save(dir: &tempfile::TempDir, name: &str, image: &GrayImage) -> PathBuf {
        let path = dir.path().join(name);
        image.save(&path).unwrap();
        path
    }

    fn write_bytes(dir: &tempfile::TempDir, name: &str, bytes: &[u8]) -> PathBuf {
        let path = dir.path().join(name);
        std::fs::File::create(&path)
            .unwrap()
            .write_all(bytes)
            .unwrap();
        path
    }

    /// A page of `paper` with a vertical band of `ink`, 16 px wide, in the middle.
    fn page_with_band(width: u32, height: u32, paper: u8, ink: u8) -> GrayImage {
        GrayImage::from_fn(width, height, |x, _| {
            let middle = width / 2;
            Luma([if (middle - 8..middle + 8).contains(&x) {
                ink
            } else {
                paper
            }])
        })
    }

    #[test]
    fn dark_page_is_inverted() {
        let dir = tempfile::tempdir().unwrap();
        let path = save(&dir, "chalk.png", &page_with_band(128, 128, 0, 255));
        let page = load_sketch_file(&path).unwrap();
        assert_eq!(page.dimensions(), (BACKGROUND_SIZE, BACKGROUND_SIZE));
        assert_eq!(
            page.get_pixel(20, 256)[0],
            255,
            "black page becomes white paper"
        );
        assert_eq!(page.get_pixel(256, 256)[0], 0, "chalk line becomes ink");
    }

    #[test]
    fn light_pencil_is_stretched_to_ink() {
        let dir = tempfile::tempdir().unwrap();
        let path = save(&dir, "pencil.png", &page_with_band(128, 128, 240, 200));
        let page = load_sketch_file(&path).unwrap();
        assert_eq!(page.get_pixel(20, 256)[0], 255, "paper");
        assert_eq!(page.get_pixel(256, 256)[0], 0, "pencil");
    }

    #[test]
    fn flat_page_is_left_as_is() {
        let page = normalize_sketch(DynamicImage::ImageLuma8(page_with_band(64, 64, 200, 196)));
        assert_eq!(page.get_pixel(20, 256)[0], 200);
        assert_eq!(page.get_pixel(256, 256)[0], 196);
    }

    #[test]
    fn non_square_page_is_padded_with_white() {
        let dir = tempfile::tempdir().unwrap();
        // 256 x 128: fills the middle half of the square, white bands above and below.
        let path = save(&dir, "wide.png", &page_with_band(256, 128, 230, 20));
        let page = load_sketch_file(&path).unwrap();
        assert_eq!(page.dimensions(), (BACKGROUND_SIZE, BACKGROUND_SIZE));
        for y in [0, 100, 411, 511] {
            assert_eq!(page.get_pixel(256, y)[0], 255, "padding at row {y}");
        }
        assert_eq!(page.get_pixel(256, 256)[0], 0, "the line is centred");
        assert_eq!(page.get_pixel(100, 256)[0], 255, "paper beside the line");
    }

    #[test]
    fn transparency_becomes_paper() {
        // Transparent black pixels (a common PNG default) must not read as ink.
        let mut rgba = image::RgbaImage::new(64, 64);
        for y in 0..64 {
            for x in 28..36 {
                rgba.put_pixel(x, y, image::Rgba([0, 0, 0, 255]));
            }
        }
        let page = normalize_sketch(DynamicImage::ImageRgba8(rgba));
        assert_eq!(page.get_pixel(20, 256)[0], 255);
        assert_eq!(page.get_pixel(256, 256)[0], 0);
    }

    #[test]
    fn empty_file_is_reported() {
        let dir = tempfile::tempdir().unwrap();
        let path = write_bytes(&dir, "empty.png", b"");
        let error = load_sketch_file(&path).unwrap_err();
        assert!(matches!(error, SketchFileError::Empty { .. }), "{error:?}");
        assert!(error.to_string().contains("empty.png"), "{error}");
    }

    #[test]
    fn truncated_png_is_a_decode_error() {
        let dir = tempfile::tempdir().unwrap();
        let mut encoded = Vec::new();
        let noise = GrayImage::from_fn(64, 64, |x, y| Luma([(x * 31 + y * 17) as u8]));
        noise
            .write_to(&mut Cursor::new(&mut encoded), ImageFormat::Png)
            .unwrap();
        let path = write_bytes(&dir, "cut.png", &encoded[..encoded.len() / 2]);
        let error = load_sketch_file(&path).unwrap_err();
        assert!(
            matches!(
                error,
                SketchFileError::Decode {
                    format: ImageFormat::Png,
                    ..
                }
            ),
            "{error:?}"
        );
        assert!(error.to_string().contains("cut.png"), "{error}");
    }

    #[test]
    fn text_named_png_is_not_an_image() {
        let dir = tempfile::tempdir().unwrap();
        let path = write_bytes(&dir, "notes.png", b"this is not a picture\n");
        let error = load_sketch_file(&path).unwrap_err();
        assert!(
            matches!(error, SketchFileError::UnknownFormat { .. }),
            "{error:?}"
        );
        assert!(error.to_string().contains("notes.png"), "{error}");
    }

    #[test]
    fn oversized_dimensions_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        let path = save(&dir, "banner.png", &GrayImage::new(MAX_DIMENSION + 1, 1));
        let error = load_sketch_file(&path).unwrap_err();
        assert!(
            matches!(error, SketchFileError::DimensionsTooLarge { width, height: 1, .. } if width == MAX_DIMENSION + 1),
            "{error:?}"
        );
        assert!(error.to_string().contains("banner.png"), "{error}");
    }

    #[test]
    fn oversized_file_is_refused_before_reading() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("huge.png");
        // Sparse: takes no disk space.
        std::fs::File::create(&path)
            .unwrap()
            .set_len(MAX_FILE_BYTES + 1)
            .unwrap();
        let error = load_sketch_file(&path).unwrap_err();
        assert!(
            matches!(error, SketchFileError::FileTooLarge { .. }),
            "{error:?}"
        );
        assert!(error.to_string().contains("huge.png"), "{error}");
    }

    #[test]
    fn bytes_in_memory_are_cleaned_up_like_a_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = save(&dir, "pencil.png", &page_with_band(96, 128, 240, 200));
        let bytes = std::fs::read(&path).unwrap();
        let from_bytes = decode_sketch(&bytes, Path::new("upload.png")).unwrap();
        assert_eq!(from_bytes, load_sketch_file(&path).unwrap());

        let error = decode_sketch(b"not a picture", Path::new("upload.png")).unwrap_err();
        assert!(
            matches!(error, SketchFileError::UnknownFormat { .. }),
            "{error:?}"
        );
        assert_eq!(error.path(), Path::new("upload.png"));
    }

    fn format_sample(name: &str) -> PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/data/sketch_formats")
            .join(name)
    }

    #[test]
    fn every_supported_format_opens_as_the_same_page() {
        let names = [
            "gray.png",
            "gray16.png",
            "rgba.png",
            "baseline.jpg",
            "progressive.jpg",
            "rgb.bmp",
            "palette.gif",
            "lossy.webp",
            "lossless.webp",
            "rgb.tiff",
            "deflate.tiff",
            "gray.pgm",
            "rgb.ppm",
            "ink.pbm",
            "rgba.pam",
        ];
        for name in names {
            let page = load_sketch_file(&format_sample(name))
                .unwrap_or_else(|error| panic!("{name}: {}", crate::error_chain(&error)));
            assert_eq!(
                page.dimensions(),
                (BACKGROUND_SIZE, BACKGROUND_SIZE),
                "{name}"
            );
            // The band (columns 10..14 of 24) is ink in the middle; paper beside it.
            assert!(page.get_pixel(256, 256)[0] < 40, "{name}: ink");
            assert!(page.get_pixel(60, 256)[0] > 215, "{name}: paper");
        }
    }

    /// A PNG that declares `width` x `height` pixels of 16-bit RGBA and holds no pixel data.
    fn png_header_only(width: u32, height: u32) -> Vec<u8> {
        fn crc32(bytes: &[u8]) -> u32 {
            let mut crc = !0u32;
            for &byte in bytes {
                crc ^= u32::from(byte);
                for _ in 0..8 {
                    crc = (crc >> 1) ^ (0xedb8_8320 & (crc & 1).wrapping_neg());
                }
            }
            !crc
        }
        let chunk = |kind: &[u8], data: &[u8]| {
            let body = [kind, data].concat();
            [
                &(data.len() as u32).to_be_bytes()[..],
                &body,
                &crc32(&body).to_be_bytes(),
            ]
            .concat()
        };
        let ihdr = [
            &width.to_be_bytes()[..],
            &height.to_be_bytes(),
            &[16, 6, 0, 0, 0],
        ]
        .concat();
        [
            &b"\x89PNG\r\n\x1a\n"[..],
            &chunk(b"IHDR", &ihdr),
            &chunk(b"IDAT", &[]),
            &chunk(b"IEND", &[]),
        ]
        .concat()
    }

    #[test]
    fn an_image_too_large_to_decode_is_refused_from_its_header() {
        // 8192 x 8192 of 16-bit RGBA: 537 MB once decoded and 134 MB of gray with alpha, from a
        // file of 57 bytes without pixels (a decoder that started would fail on the missing data).
        let bytes = png_header_only(8192, 8192);
        let error = decode_image(&bytes, Path::new("deep.png")).unwrap_err();
        assert!(
            matches!(
                error,
                SketchFileError::DecodedTooLarge {
                    cost: 671_088_640,
                    ..
                }
            ),
            "{error:?}"
        );
        let message = error.to_string();
        assert!(
            message.contains("deep.png is 8192 x 8192 pixels of 16-bit RGBA")
                && message.contains("672 MB to decode; the limit is 134 MB"),
            "{message}"
        );
        // 4096 x 2048 (84 MB) gets as far as decoding, and fails on the missing data.
        let error = decode_image(&png_header_only(4096, 2048), Path::new("half.png")).unwrap_err();
        assert!(matches!(error, SketchFileError::Decode { .. }), "{error:?}");
    }

    #[test]
    fn a_progressive_jpeg_counts_its_coefficients() {
        let progressive = std::fs::read(format_sample("progressive.jpg")).unwrap();
        let baseline = std::fs::read(format_sample("baseline.jpg")).unwrap();
        assert!(jpeg_is_progressive(&progressive));
        assert!(!jpeg_is_progressive(&baseline));
        for garbage in [
            &b""[..],
            b"\xff\xd8",
            b"\xff\xd8\xff\xe0\xff",
            b"\xff\xd8\x00\xc2",
        ] {
            assert!(!jpeg_is_progressive(garbage), "{garbage:?}");
        }
        // The frame header (SOF2) patched to 4096 x 4096: 50 MB of RGB, 17 MB of gray, 101 MB of
        // coefficients and the file.
        let sof = progressive
            .windows(2)
            .position(|pair| pair == [0xff, 0xc2])
            .unwrap();
        let mut big = progressive.clone();
        big[sof + 5..sof + 9].copy_from_slice(&[0x10, 0x00, 0x10, 0x00]);
        let error = decode_image(&big, Path::new("big.jpg")).unwrap_err();
        assert!(
            error
                .to_string()
                .contains("4096 x 4096 pixels of progressive JPEG RGB, which would take 168 MB"),
            "{error}"
        );
        let (color, cost) = decode_cost(ImageFormat::Jpeg, &baseline, ColorType::Rgb8, 4, 4);
        assert_eq!(
            (color.as_str(), cost),
            ("JPEG RGB", 16 * 4 + baseline.len() as u64)
        );
        let (color, cost) = decode_cost(ImageFormat::Png, &[], ColorType::L8, 8192, 8192);
        assert_eq!(
            (color.as_str(), cost),
            ("8-bit gray", MAX_DECODED_BYTES / 2)
        );
        let max = u32::MAX;
        let (color, cost) = decode_cost(ImageFormat::Tiff, &[], ColorType::Rgba32F, max, max);
        assert_eq!((color.as_str(), cost), ("32-bit float RGBA", u64::MAX));
    }

    #[test]
    fn missing_file_is_a_read_error() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("missing.png");
        let error = load_sketch_file(&path).unwrap_err();
        assert!(matches!(error, SketchFileError::Read { .. }), "{error:?}");
        assert_eq!(error.path(), path);
    }

    #[test]
    fn a_folder_is_refused_before_reading() {
        let dir = tempfile::tempdir().unwrap();
        let error = load_sketch_file(dir.path()).unwrap_err();
        assert!(
            error
                .to_string()
                .contains(&dir.path().display().to_string())
        );
        assert!(
            crate::error_chain(&error).contains("not a regular file"),
            "{error:?}"
        );
    }
}

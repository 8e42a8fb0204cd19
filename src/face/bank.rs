//! [`Bank`]: the face bank file (`models/bank-v3.s2fb`, written by `training/bank.py`): real faces,
//! each a JPEG with its mesh, shape coefficients and colours, and the [`ShapeModel`] they were
//! measured with.
//!
//! The format (the face spec's "Bank file"), little-endian:
//! - a 64-byte header: magic `S2FBANK\0`, then u32s version (1), face count, point count (468),
//!   components (k), image side, section count, then zeros;
//! - the section table: per section u32 kind, u32 reserved, u64 offset (from the file's start,
//!   a multiple of 8), u64 length;
//! - the sections ([`SectionKind`]): the mean, basis and sd of the shape model, then per face its
//!   mesh (bank pixels), coefficients, colours (CIE Lab skin then hair, by the region rule of
//!   [`super::colours::ColourRegions`] on the face's own image and mesh), the index of its JPEG
//!   in the JPEG section, and the metadata (JSON).
//!
//! Loading trusts nothing: every count is checked against a fixed maximum and every length and
//! offset against the file's size before anything is allocated for it; every float must be
//! finite; sections must lie inside the file, after the table, apart. Sections of kinds this
//! version does not know are checked the same way and otherwise ignored. A face's JPEG is
//! decoded only when asked for ([`Bank::face_image`]), and must be `image_side` square.

use std::collections::VecDeque;
use std::fmt;
use std::fs::File;
use std::io::{Cursor, Read};
use std::ops::Range;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use image::{ImageFormat, ImageReader, Limits, RgbImage};

use super::mesh::{MESH_POINTS, Mesh};
use super::retrieve::{FaceIndex, FaceIndexError};
use super::shape::{MAX_COMPONENTS, ShapeModel, ShapeModelError};

pub const MAGIC: [u8; 8] = *b"S2FBANK\0";
/// The format version this build reads.
pub const VERSION: u32 = 1;
pub const HEADER_LEN: usize = 64;
pub const SECTION_ENTRY_LEN: usize = 24;
pub const MAX_FACES: usize = 100_000;
pub const MAX_IMAGE_SIDE: u32 = 1024;
pub const MAX_METADATA_LEN: u64 = 16 << 20;
pub const MAX_SECTIONS: usize = 64;
/// The largest file [`Bank::open`] reads (the shipped bank is about 45 MB).
pub const MAX_FILE_LEN: u64 = 1 << 30;
/// Decoded faces kept for [`Bank::face_image`] (a few slots of the variation strip).
const CACHED_FACES: usize = 8;
const FLAT: usize = 2 * MESH_POINTS;

/// The kind of a section, as the table gives it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct SectionKind(pub u32);

impl SectionKind {
    pub const MEAN: SectionKind = SectionKind(1);
    pub const BASIS: SectionKind = SectionKind(2);
    pub const SD: SectionKind = SectionKind(3);
    pub const MESHES: SectionKind = SectionKind(4);
    pub const COEFFICIENTS: SectionKind = SectionKind(5);
    pub const COLOURS: SectionKind = SectionKind(6);
    pub const IMAGE_INDEX: SectionKind = SectionKind(7);
    pub const JPEG: SectionKind = SectionKind(8);
    pub const METADATA: SectionKind = SectionKind(9);
    /// Every kind version 1 needs, in the order the builder writes them.
    pub const KNOWN: [SectionKind; 9] = [
        Self::MEAN,
        Self::BASIS,
        Self::SD,
        Self::MESHES,
        Self::COEFFICIENTS,
        Self::COLOURS,
        Self::IMAGE_INDEX,
        Self::JPEG,
        Self::METADATA,
    ];

    pub fn name(self) -> &'static str {
        match self.0 {
            1 => "mean",
            2 => "basis",
            3 => "sd",
            4 => "meshes",
            5 => "coefficients",
            6 => "colours",
            7 => "image index",
            8 => "JPEG",
            9 => "metadata",
            _ => "unknown",
        }
    }
}

impl fmt::Display for SectionKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "section {} ({})", self.0, self.name())
    }
}

/// Why a face bank cannot be used, or one of its faces cannot be shown.
#[derive(Debug, thiserror::Error)]
pub enum BankError {
    /// The context [`Bank::open`] adds: which file.
    #[error("face bank {}", path.display())]
    InFile {
        path: PathBuf,
        #[source]
        source: Box<BankError>,
    },
    #[error("cannot read the file")]
    Read(#[source] std::io::Error),
    #[error("the file is {len} bytes, more than a face bank may be ({MAX_FILE_LEN})")]
    FileTooLarge { len: u64 },
    #[error("the file is {len} bytes, shorter than the {HEADER_LEN}-byte header")]
    TooShort { len: usize },
    #[error("not a face bank: it starts with {found:?}, not \"S2FBANK\\0\"")]
    Magic { found: [u8; 8] },
    #[error("face bank format version {found}; this build reads version {VERSION}")]
    Version { found: u32 },
    #[error("the header says {found} faces; a bank holds 1 to {MAX_FACES}")]
    FaceCount { found: u32 },
    #[error("the header says {found} points per mesh; the face mesh has {MESH_POINTS}")]
    PointCount { found: u32 },
    #[error("the header says {found} shape components; a bank has 1 to {MAX_COMPONENTS}")]
    Components { found: u32 },
    #[error("the header says {found} px images; a bank's are 1 to {MAX_IMAGE_SIDE} px square")]
    ImageSide { found: u32 },
    #[error("the header says {found} sections; a bank has 1 to {MAX_SECTIONS}")]
    SectionCount { found: u32 },
    #[error("the section table of {count} entries ends at byte {end}, past the end of the file ({len} bytes)")]
    TableTruncated { count: usize, end: usize, len: usize },
    #[error("{section} is {found} bytes; {expected} expected")]
    SectionLength { section: SectionKind, expected: u64, found: u64 },
    #[error("{section} is {found} bytes, more than {max}")]
    SectionTooLarge { section: SectionKind, found: u64, max: u64 },
    #[error("{section} (bytes {offset} to {offset}+{length}) is not inside the file after the section table (bytes {table_end} to {len})")]
    OutOfRange { section: SectionKind, offset: u64, length: u64, table_end: usize, len: usize },
    #[error("{section} starts at byte {offset}, not a multiple of 8")]
    Misaligned { section: SectionKind, offset: u64 },
    /// Two sections that share bytes, the lower kind first.
    #[error("{first} and {second} overlap")]
    Overlap { first: SectionKind, second: SectionKind },
    #[error("{section} appears twice in the section table")]
    Duplicate { section: SectionKind },
    #[error("{section} is missing")]
    Missing { section: SectionKind },
    #[error("{section}: number {number}{} is not finite", face_note(*face))]
    NotFinite { section: SectionKind, face: Option<usize>, number: usize },
    #[error("the shape model")]
    Shape(#[source] ShapeModelError),
    #[error("face {face}: its {region} colour, L*a*b* {lab:?}, is not an sRGB colour")]
    Colour { face: usize, region: &'static str, lab: [f32; 3] },
    #[error("the face index")]
    Index(#[source] FaceIndexError),
    #[error("face {face}: its JPEG (bytes {offset} to {offset}+{length} of the JPEG section) is not inside the section ({section_len} bytes)")]
    ImageRange { face: usize, offset: u64, length: u64, section_len: usize },
    #[error("the metadata is not the JSON of a face bank")]
    Metadata(#[source] serde_json::Error),
    #[error("the metadata says format version {found}, the header {header}")]
    MetadataVersion { found: u32, header: u32 },
    #[error("the metadata names {found} faces, the header says {expected}")]
    MetadataFaces { found: usize, expected: usize },
    #[error("there is no face {face}: the bank has {count}")]
    NoSuchFace { face: usize, count: usize },
    #[error("face {face}: its JPEG does not decode")]
    Jpeg {
        face: usize,
        #[source]
        source: image::ImageError,
    },
    #[error("face {face}: its JPEG is {width}x{height} px, not {side}x{side}")]
    ImageSize { face: usize, width: u32, height: u32, side: u32 },
}

fn face_note(face: Option<usize>) -> String {
    face.map(|face| format!(" (face {face})")).unwrap_or_default()
}

/// The metadata section: where the faces come from and on what terms.
#[derive(Clone, Debug, serde::Deserialize)]
pub struct BankMetadata {
    pub version: u32,
    pub source: String,
    /// The terms of use of the faces ("non-commercial research only" for CelebA).
    pub terms: String,
    pub created: String,
    pub builder: String,
    /// One per face, in the bank's order.
    pub faces: Vec<FaceSource>,
    /// Whatever else the builder recorded (framing, shape model, selection).
    #[serde(flatten)]
    pub other: serde_json::Map<String, serde_json::Value>,
}

/// Where one face of the bank comes from.
#[derive(Clone, Debug, PartialEq, Eq, serde::Deserialize)]
pub struct FaceSource {
    /// The file name in the source data set.
    pub name: String,
    pub split: String,
    /// Its index in that split of the prepared data.
    pub index: usize,
}

/// A loaded face bank. Everything but the JPEGs is decoded and checked at load.
pub struct Bank {
    face_count: usize,
    image_side: u32,
    shape: ShapeModel,
    /// `face_count x 936`.
    meshes: Vec<f32>,
    /// `face_count x k`.
    coefficients: Vec<f32>,
    /// Lab skin then Lab hair, as stored.
    colours: Vec<[f32; 6]>,
    index: FaceIndex,
    metadata: BankMetadata,
    /// The JPEG section, and each face's range in it.
    jpeg: Vec<u8>,
    images: Vec<Range<usize>>,
    /// Most recently used first.
    cache: Mutex<VecDeque<(usize, RgbImage)>>,
}

impl fmt::Debug for Bank {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Not the megabytes of numbers and JPEGs.
        f.debug_struct("Bank")
            .field("face_count", &self.face_count)
            .field("image_side", &self.image_side)
            .field("components", &self.shape.components())
            .field("jpeg_bytes", &self.jpeg.len())
            .field("source", &self.metadata.source)
            .finish_non_exhaustive()
    }
}

/// The header's numbers, checked against the maxima.
struct Header {
    faces: usize,
    components: usize,
    image_side: u32,
    sections: usize,
}

impl Bank {
    /// Reads and checks the bank file at `path`; errors name the file ([`BankError::InFile`]).
    pub fn open(path: impl AsRef<Path>) -> Result<Bank, BankError> {
        let path = path.as_ref();
        let read = || -> Result<Vec<u8>, BankError> {
            let file = File::open(path).map_err(BankError::Read)?;
            let len = file.metadata().map_err(BankError::Read)?.len();
            if len > MAX_FILE_LEN {
                return Err(BankError::FileTooLarge { len });
            }
            let mut bytes = Vec::with_capacity(len as usize);
            // The file may grow while it is read: never past the limit.
            file.take(MAX_FILE_LEN + 1).read_to_end(&mut bytes).map_err(BankError::Read)?;
            if bytes.len() as u64 > MAX_FILE_LEN {
                return Err(BankError::FileTooLarge { len: bytes.len() as u64 });
            }
            Ok(bytes)
        };
        read()
            .and_then(Bank::from_bytes)
            .map_err(|error| BankError::InFile { path: path.to_owned(), source: Box::new(error) })
    }

    /// A bank from the bytes of its file.
    pub fn from_bytes(mut bytes: Vec<u8>) -> Result<Bank, BankError> {
        let header = Header::parse(&bytes)?;
        let sections = section_ranges(&bytes, &header)?;
        let range = |kind: SectionKind| sections[kind.0 as usize - 1].clone();
        let floats = |kind: SectionKind| -> Result<Vec<f32>, BankError> {
            let values: Vec<f32> =
                bytes[range(kind)].chunks_exact(4).map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]])).collect();
            match values.iter().position(|v| !v.is_finite()) {
                Some(number) => {
                    let face = header.per_face(kind).map(|per| number / per);
                    Err(BankError::NotFinite { section: kind, face, number })
                }
                None => Ok(values),
            }
        };
        let shape = ShapeModel::new(floats(SectionKind::MEAN)?, floats(SectionKind::BASIS)?, floats(SectionKind::SD)?)
            .map_err(BankError::Shape)?;
        let meshes = floats(SectionKind::MESHES)?;
        let coefficients = floats(SectionKind::COEFFICIENTS)?;
        let colours: Vec<[f32; 6]> = floats(SectionKind::COLOURS)?
            .chunks_exact(6)
            .map(|c| [c[0], c[1], c[2], c[3], c[4], c[5]])
            .collect();
        let mut rgb = Vec::with_capacity(colours.len());
        for (face, colour) in colours.iter().enumerate() {
            let skin = rgb_of_lab([colour[0], colour[1], colour[2]]);
            let hair = rgb_of_lab([colour[3], colour[4], colour[5]]);
            let skin = skin.ok_or(BankError::Colour { face, region: "skin", lab: [colour[0], colour[1], colour[2]] })?;
            let hair = hair.ok_or(BankError::Colour { face, region: "hair", lab: [colour[3], colour[4], colour[5]] })?;
            rgb.push([skin[0], skin[1], skin[2], hair[0], hair[1], hair[2]]);
        }
        let index = FaceIndex::new(coefficients.clone(), shape.sd().to_vec(), rgb).map_err(BankError::Index)?;

        let jpeg = range(SectionKind::JPEG);
        let images = bytes[range(SectionKind::IMAGE_INDEX)]
            .chunks_exact(16)
            .enumerate()
            .map(|(face, entry)| {
                let offset = u64::from_le_bytes(entry[..8].try_into().expect("8 bytes"));
                let length = u64::from_le_bytes(entry[8..].try_into().expect("8 bytes"));
                match offset.checked_add(length) {
                    Some(end) if end <= jpeg.len() as u64 => Ok(offset as usize..end as usize),
                    _ => Err(BankError::ImageRange { face, offset, length, section_len: jpeg.len() }),
                }
            })
            .collect::<Result<Vec<_>, _>>()?;
        let metadata: BankMetadata =
            serde_json::from_slice(&bytes[range(SectionKind::METADATA)]).map_err(BankError::Metadata)?;
        if metadata.version != VERSION {
            return Err(BankError::MetadataVersion { found: metadata.version, header: VERSION });
        }
        if metadata.faces.len() != header.faces {
            return Err(BankError::MetadataFaces { found: metadata.faces.len(), expected: header.faces });
        }
        // Keep the JPEG section only, in the file's own buffer.
        bytes.truncate(jpeg.end);
        bytes.drain(..jpeg.start);
        Ok(Bank {
            face_count: header.faces,
            image_side: header.image_side,
            shape,
            meshes,
            coefficients,
            colours,
            index,
            metadata,
            jpeg: bytes,
            images,
            cache: Mutex::new(VecDeque::with_capacity(CACHED_FACES)),
        })
    }

    pub fn face_count(&self) -> usize {
        self.face_count
    }

    /// The side of every face's square image, in pixels (256 in the shipped bank).
    pub fn image_side(&self) -> u32 {
        self.image_side
    }

    pub fn shape(&self) -> &ShapeModel {
        &self.shape
    }

    /// The searchable form of the bank: its coefficients, sd and colours (as sRGB).
    pub fn index(&self) -> &FaceIndex {
        &self.index
    }

    pub fn metadata(&self) -> &BankMetadata {
        &self.metadata
    }

    /// The mesh of `face`, in its image's pixels.
    ///
    /// # Panics
    /// If the bank has no such face.
    pub fn mesh(&self, face: usize) -> Mesh {
        Mesh::from_flat(&self.meshes[face * FLAT..(face + 1) * FLAT]).expect("meshes were checked at load")
    }

    /// The shape coefficients of `face` as stored (`k` numbers).
    ///
    /// # Panics
    /// If the bank has no such face.
    pub fn coefficients(&self, face: usize) -> &[f32] {
        let k = self.shape.components();
        &self.coefficients[face * k..(face + 1) * k]
    }

    /// CIE Lab of the skin, then of the hair, of `face` as stored.
    ///
    /// # Panics
    /// If the bank has no such face.
    pub fn colours(&self, face: usize) -> [f32; 6] {
        self.colours[face]
    }

    /// The image of `face`, decoded from its JPEG (or the cache of recently decoded faces).
    pub fn face_image(&self, face: usize) -> Result<RgbImage, BankError> {
        let Some(range) = self.images.get(face) else {
            return Err(BankError::NoSuchFace { face, count: self.face_count });
        };
        {
            let mut cache = self.cache.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
            if let Some(at) = cache.iter().position(|(f, _)| *f == face) {
                let entry = cache.remove(at).expect("position found");
                let image = entry.1.clone();
                cache.push_front(entry);
                return Ok(image);
            }
        }
        let image = decode_face(face, &self.jpeg[range.clone()], self.image_side)?;
        let mut cache = self.cache.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        if !cache.iter().any(|(f, _)| *f == face) {
            cache.truncate(CACHED_FACES - 1);
            cache.push_front((face, image.clone()));
        }
        Ok(image)
    }
}

impl Header {
    fn parse(bytes: &[u8]) -> Result<Header, BankError> {
        if bytes.len() < HEADER_LEN {
            return Err(BankError::TooShort { len: bytes.len() });
        }
        let magic: [u8; 8] = bytes[..8].try_into().expect("8 bytes");
        if magic != MAGIC {
            return Err(BankError::Magic { found: magic });
        }
        let word = |i: usize| u32::from_le_bytes(bytes[8 + 4 * i..12 + 4 * i].try_into().expect("4 bytes"));
        let (version, faces, points, components, side, sections) = (word(0), word(1), word(2), word(3), word(4), word(5));
        if version != VERSION {
            return Err(BankError::Version { found: version });
        }
        if faces == 0 || faces as usize > MAX_FACES {
            return Err(BankError::FaceCount { found: faces });
        }
        if points as usize != MESH_POINTS {
            return Err(BankError::PointCount { found: points });
        }
        if components == 0 || components as usize > MAX_COMPONENTS {
            return Err(BankError::Components { found: components });
        }
        if side == 0 || side > MAX_IMAGE_SIDE {
            return Err(BankError::ImageSide { found: side });
        }
        if sections == 0 || sections as usize > MAX_SECTIONS {
            return Err(BankError::SectionCount { found: sections });
        }
        Ok(Header { faces: faces as usize, components: components as usize, image_side: side, sections: sections as usize })
    }

    /// f32 numbers per face in a section of `kind` (`None`: not a per-face section), for
    /// naming the face of a bad number.
    fn per_face(&self, kind: SectionKind) -> Option<usize> {
        match kind {
            SectionKind::MESHES => Some(FLAT),
            SectionKind::COEFFICIENTS => Some(self.components),
            SectionKind::COLOURS => Some(6),
            _ => None,
        }
    }

    /// The length a section of `kind` must have (`None`: any, up to the returned maximum).
    fn expected_len(&self, kind: SectionKind) -> (Option<u64>, u64) {
        let (n, k) = (self.faces as u64, self.components as u64);
        let exact = match kind {
            SectionKind::MEAN => Some(FLAT as u64 * 4),
            SectionKind::BASIS => Some(k * FLAT as u64 * 4),
            SectionKind::SD => Some(k * 4),
            SectionKind::MESHES => Some(n * FLAT as u64 * 4),
            SectionKind::COEFFICIENTS => Some(n * k * 4),
            SectionKind::COLOURS => Some(n * 6 * 4),
            SectionKind::IMAGE_INDEX => Some(n * 16),
            _ => None,
        };
        let max = if kind == SectionKind::METADATA { MAX_METADATA_LEN } else { MAX_FILE_LEN };
        (exact, max)
    }
}

/// The byte ranges of the nine known sections (index `kind - 1`), every entry of the table
/// checked: its length, its place in the file, its alignment, no overlap, no kind twice.
fn section_ranges(bytes: &[u8], header: &Header) -> Result<Vec<Range<usize>>, BankError> {
    let table_end = HEADER_LEN + SECTION_ENTRY_LEN * header.sections;
    if table_end > bytes.len() {
        return Err(BankError::TableTruncated { count: header.sections, end: table_end, len: bytes.len() });
    }
    let mut known: Vec<Option<Range<usize>>> = vec![None; SectionKind::KNOWN.len()];
    let mut placed: Vec<(usize, usize, SectionKind)> = Vec::with_capacity(header.sections);
    for entry in bytes[HEADER_LEN..table_end].chunks_exact(SECTION_ENTRY_LEN) {
        let section = SectionKind(u32::from_le_bytes(entry[..4].try_into().expect("4 bytes")));
        let offset = u64::from_le_bytes(entry[8..16].try_into().expect("8 bytes"));
        let length = u64::from_le_bytes(entry[16..24].try_into().expect("8 bytes"));
        let (exact, max) = header.expected_len(section);
        if let Some(expected) = exact.filter(|e| *e != length) {
            return Err(BankError::SectionLength { section, expected, found: length });
        }
        if length > max {
            return Err(BankError::SectionTooLarge { section, found: length, max });
        }
        let end = offset.checked_add(length).filter(|end| *end <= bytes.len() as u64);
        let Some(end) = end.filter(|_| offset >= table_end as u64) else {
            return Err(BankError::OutOfRange { section, offset, length, table_end, len: bytes.len() });
        };
        if offset % 8 != 0 {
            return Err(BankError::Misaligned { section, offset });
        }
        let range = offset as usize..end as usize;
        if let Some(slot) = SectionKind::KNOWN.iter().position(|k| *k == section) {
            if known[slot].is_some() {
                return Err(BankError::Duplicate { section });
            }
            known[slot] = Some(range.clone());
        } else if placed.iter().any(|(_, _, kind)| *kind == section) {
            return Err(BankError::Duplicate { section });
        }
        placed.push((range.start, range.end, section));
    }
    placed.sort_unstable();
    for pair in placed.windows(2) {
        let ((_, end, a), (start, _, b)) = (pair[0], pair[1]);
        if end > start {
            return Err(BankError::Overlap { first: a.min(b), second: a.max(b) });
        }
    }
    known
        .into_iter()
        .zip(SectionKind::KNOWN)
        .map(|(range, section)| range.ok_or(BankError::Missing { section }))
        .collect()
}

fn decode_face(face: usize, bytes: &[u8], side: u32) -> Result<RgbImage, BankError> {
    let jpeg = |source| BankError::Jpeg { face, source };
    let (width, height) =
        ImageReader::with_format(Cursor::new(bytes), ImageFormat::Jpeg).into_dimensions().map_err(jpeg)?;
    if (width, height) != (side, side) {
        return Err(BankError::ImageSize { face, width, height, side });
    }
    let mut reader = ImageReader::with_format(Cursor::new(bytes), ImageFormat::Jpeg);
    let mut limits = Limits::default();
    limits.max_image_width = Some(side);
    limits.max_image_height = Some(side);
    reader.limits(limits);
    let image = reader.decode().map_err(jpeg)?.into_rgb8();
    if image.dimensions() != (side, side) {
        return Err(BankError::ImageSize { face, width: image.width(), height: image.height(), side });
    }
    Ok(image)
}

/// sRGB in 0..1 of a CIE Lab colour: the inverse of [`super::colours::lab`] (the same matrix
/// and white point). `None` for a colour outside sRGB by more than rounding: the mean colour of
/// real pixels never is.
fn rgb_of_lab([l, a, b]: [f32; 3]) -> Option<[f32; 3]> {
    const DELTA: f64 = 6.0 / 29.0;
    let (l, a, b) = (f64::from(l), f64::from(a), f64::from(b));
    let fy = (l + 16.0) / 116.0;
    let inverse_f = |f: f64| if f > DELTA { f * f * f } else { 3.0 * DELTA * DELTA * (f - 4.0 / 29.0) };
    let xyz = [inverse_f(fy + a / 500.0) * 0.95047, inverse_f(fy), inverse_f(fy - b / 200.0) * 1.08883];
    let m = [[0.4124, 0.3576, 0.1805], [0.2126, 0.7152, 0.0722], [0.0193, 0.1192, 0.9505]];
    let inverse = inverse_3x3(m);
    let mut rgb = [0.0f32; 3];
    for (channel, row) in rgb.iter_mut().zip(inverse) {
        let linear: f64 = row.iter().zip(xyz).map(|(m, v)| m * v).sum();
        let value = if linear <= 0.0031308 { 12.92 * linear } else { 1.055 * linear.powf(1.0 / 2.4) - 0.055 };
        if !(-2e-3..=1.0 + 2e-3).contains(&value) {
            return None;
        }
        *channel = value.clamp(0.0, 1.0) as f32;
    }
    Some(rgb)
}

fn inverse_3x3(m: [[f64; 3]; 3]) -> [[f64; 3]; 3] {
    let cofactor = |r: usize, c: usize| {
        let (r1, r2) = ((r + 1) % 3, (r + 2) % 3);
        let (c1, c2) = ((c + 1) % 3, (c + 2) % 3);
        m[r1][c1] * m[r2][c2] - m[r1][c2] * m[r2][c1]
    };
    let det: f64 = (0..3).map(|c| m[0][c] * cofactor(0, c)).sum();
    let mut out = [[0.0; 3]; 3];
    for (r, row) in out.iter_mut().enumerate() {
        for (c, value) in row.iter_mut().enumerate() {
            *value = cofactor(c, r) / det;
        }
    }
    out
}

#[cfg(test)]
mod tests;

//! The bank loader against small banks written here (the same layout `training/bank.py` writes)
//! and against every way such a file can be broken.

use image::codecs::jpeg::JpegEncoder;
use image::{Rgb, RgbImage, RgbaImage};

use super::*;
use crate::face::colours::{hint_colours, lab};
use crate::face::shape::test_model;

const SIDE: u32 = 32;
const K: usize = 4;
const FACES: usize = 3;

/// A bank's content before it is laid out as a file.
struct Parts {
    side: u32,
    model: ShapeModel,
    meshes: Vec<Mesh>,
    coefficients: Vec<Vec<f32>>,
    colours: Vec<[f32; 6]>,
    jpegs: Vec<Vec<u8>>,
    metadata: String,
}

fn jpeg(image: &RgbImage) -> Vec<u8> {
    let mut out = Vec::new();
    JpegEncoder::new_with_quality(&mut out, 90).encode_image(image).unwrap();
    out
}

/// The stored colours of a face: Lab of the mean RGB of its skin and hair regions (the rule of
/// `training/bank.py`, by colours.rs's `hint_colours` with every pixel hinted).
fn region_colours(image: &RgbImage, mesh: &Mesh) -> [f32; 6] {
    let rgba = RgbaImage::from_fn(image.width(), image.height(), |x, y| {
        let Rgb([r, g, b]) = *image.get_pixel(x, y);
        image::Rgba([r, g, b, 255])
    });
    let found = hint_colours(&rgba, mesh);
    let (skin, hair) = (lab(found.skin.expect("skin pixels")), lab(found.hair.expect("hair pixels")));
    [skin[0], skin[1], skin[2], hair[0], hair[1], hair[2]]
}

/// `faces` faces of a `side` px bank: shapes of the test model, pictures in two tints (a lighter
/// lower half), JPEG.
fn parts(faces: usize, side: u32) -> Parts {
    let model = test_model(K, side as f32);
    let mut parts = Parts {
        side,
        meshes: Vec::new(),
        coefficients: Vec::new(),
        colours: Vec::new(),
        jpegs: Vec::new(),
        metadata: String::new(),
        model,
    };
    for face in 0..faces {
        let wanted: Vec<f32> = (0..K).map(|i| parts.model.sd()[i] * ((face + i) as f32 * 0.9).sin()).collect();
        let mesh = parts.model.reconstruct(&wanted);
        let (coefficients, _) = parts.model.coefficients(&mesh);
        let tint = (40 * face % 120) as u8;
        let image = RgbImage::from_fn(side, side, |_, y| {
            if y < side / 2 { Rgb([60 + tint, 40, 30]) } else { Rgb([200, 150 - tint, 120]) }
        });
        let stored = jpeg(&image);
        let decoded = image::load_from_memory(&stored).unwrap().into_rgb8();
        parts.colours.push(region_colours(&decoded, &mesh));
        parts.meshes.push(mesh);
        parts.coefficients.push(coefficients);
        parts.jpegs.push(stored);
    }
    let names: Vec<String> =
        (0..faces).map(|i| format!(r#"{{"name": "{}.jpg", "split": "train", "index": {}}}"#, 182638 + i, 7 * i)).collect();
    parts.metadata = format!(
        r#"{{"version": 1, "source": "tests", "terms": "non-commercial research only", "created": "now",
            "builder": "src/face/bank/tests.rs", "jpeg_quality": 90, "faces": [{}]}}"#,
        names.join(", ")
    );
    parts
}

fn f32_bytes(values: impl IntoIterator<Item = f32>) -> Vec<u8> {
    values.into_iter().flat_map(f32::to_le_bytes).collect()
}

/// The sections of `parts`: (kind, bytes), in the builder's order.
fn sections(parts: &Parts) -> Vec<(u32, Vec<u8>)> {
    let model = &parts.model;
    let mut index = Vec::new();
    let mut at = 0u64;
    for data in &parts.jpegs {
        index.extend(at.to_le_bytes());
        index.extend((data.len() as u64).to_le_bytes());
        at += data.len() as u64;
    }
    vec![
        (1, f32_bytes(model.mean().to_flat())),
        (2, f32_bytes(model.basis().iter().copied())),
        (3, f32_bytes(model.sd().iter().copied())),
        (4, f32_bytes(parts.meshes.iter().flat_map(Mesh::to_flat))),
        (5, f32_bytes(parts.coefficients.iter().flatten().copied())),
        (6, f32_bytes(parts.colours.iter().flatten().copied())),
        (7, index),
        (8, parts.jpegs.concat()),
        (9, parts.metadata.as_bytes().to_vec()),
    ]
}

/// The file: header, table, each section at the next multiple of 8.
fn layout(faces: usize, components: usize, side: u32, sections: &[(u32, Vec<u8>)]) -> Vec<u8> {
    let mut out = Vec::new();
    out.extend(MAGIC);
    for word in [VERSION, faces as u32, MESH_POINTS as u32, components as u32, side, sections.len() as u32] {
        out.extend(word.to_le_bytes());
    }
    out.resize(HEADER_LEN, 0);
    let align = |n: usize| n.div_ceil(8) * 8;
    let mut offset = align(HEADER_LEN + SECTION_ENTRY_LEN * sections.len());
    for (kind, data) in sections {
        out.extend(kind.to_le_bytes());
        out.extend(0u32.to_le_bytes());
        out.extend((offset as u64).to_le_bytes());
        out.extend((data.len() as u64).to_le_bytes());
        offset = align(offset + data.len());
    }
    for (_, data) in sections {
        out.resize(align(out.len()), 0);
        out.extend(data);
    }
    out
}

fn write(parts: &Parts) -> Vec<u8> {
    layout(parts.meshes.len(), parts.model.components(), parts.side, &sections(parts))
}

fn small_bank() -> (Parts, Vec<u8>) {
    let parts = parts(FACES, SIDE);
    let bytes = write(&parts);
    (parts, bytes)
}

/// Where the table entry of section `kind` is.
fn entry(bytes: &[u8], kind: u32) -> usize {
    (0..MAX_SECTIONS)
        .map(|i| HEADER_LEN + SECTION_ENTRY_LEN * i)
        .find(|&at| u32::from_le_bytes(bytes[at..at + 4].try_into().unwrap()) == kind)
        .unwrap()
}

fn section(bytes: &[u8], kind: u32) -> (usize, usize) {
    let at = entry(bytes, kind);
    let offset = u64::from_le_bytes(bytes[at + 8..at + 16].try_into().unwrap()) as usize;
    let length = u64::from_le_bytes(bytes[at + 16..at + 24].try_into().unwrap()) as usize;
    (offset, length)
}

fn set_u32(bytes: &mut [u8], at: usize, value: u32) {
    bytes[at..at + 4].copy_from_slice(&value.to_le_bytes());
}

fn set_u64(bytes: &mut [u8], at: usize, value: u64) {
    bytes[at..at + 8].copy_from_slice(&value.to_le_bytes());
}

fn refused(bytes: Vec<u8>) -> BankError {
    Bank::from_bytes(bytes).expect_err("a broken bank must be refused")
}

#[test]
fn a_written_bank_reads_back() {
    let (parts, bytes) = small_bank();
    let bank = Bank::from_bytes(bytes).unwrap();
    assert_eq!((bank.face_count(), bank.image_side(), bank.shape().components()), (FACES, SIDE, K));
    assert_eq!(bank.shape().mean(), parts.model.mean());
    assert_eq!(bank.shape().sd(), parts.model.sd());
    assert_eq!(bank.index().face_count(), FACES);
    assert_eq!(bank.metadata().terms, "non-commercial research only");
    assert_eq!(bank.metadata().faces[2], FaceSource { name: "182640.jpg".into(), split: "train".into(), index: 14 });
    assert_eq!(bank.metadata().other["jpeg_quality"], 90);
    for face in 0..FACES {
        assert_eq!(bank.mesh(face), parts.meshes[face]);
        assert_eq!(bank.coefficients(face), &parts.coefficients[face][..]);
        assert_eq!(bank.colours(face), parts.colours[face]);
        // The index has the colours as sRGB: back to Lab they are the stored ones.
        let rgb = bank.index().colours(face);
        let (skin, hair) = (lab([rgb[0], rgb[1], rgb[2]]), lab([rgb[3], rgb[4], rgb[5]]));
        for (got, want) in skin.iter().chain(&hair).zip(parts.colours[face]) {
            assert!((got - want).abs() < 0.01, "{skin:?} {hair:?} {:?}", parts.colours[face]);
        }
        let image = bank.face_image(face).unwrap();
        assert_eq!(image.dimensions(), (SIDE, SIDE));
        // The stored colours are those of the decoded image, here as in the shipped bank.
        assert_eq!(region_colours(&image, &bank.mesh(face)), parts.colours[face]);
        // From the cache, the same picture.
        assert_eq!(bank.face_image(face).unwrap(), image);
    }
    // More faces than the cache holds, in turn: still the right pictures.
    let many = parts_with_cache_churn();
    for round in 0..2 {
        for face in (0..many.face_count()).rev() {
            let first = many.face_image(face).unwrap().get_pixel(0, 0)[0];
            assert_eq!(first, many.face_image(face).unwrap().get_pixel(0, 0)[0], "round {round}");
        }
    }
    assert!(matches!(bank.face_image(FACES), Err(BankError::NoSuchFace { face: FACES, count: FACES })));
    let debug = format!("{bank:?}");
    assert!(debug.contains("face_count: 3") && debug.len() < 300, "{debug}");
}

fn parts_with_cache_churn() -> Bank {
    Bank::from_bytes(write(&parts(CACHED_FACES + 3, 16))).unwrap()
}

#[test]
fn rgb_of_lab_undoes_lab() {
    for r in 0..=8 {
        for g in 0..=8 {
            for b in 0..=8 {
                let rgb = [r as f32 / 8.0, g as f32 / 8.0, b as f32 / 8.0];
                let back = rgb_of_lab(lab(rgb)).unwrap();
                assert!(rgb.iter().zip(back).all(|(x, y)| (x - y).abs() < 1e-4), "{rgb:?} {back:?}");
            }
        }
    }
    assert_eq!(rgb_of_lab([50.0, 120.0, -120.0]), None, "far outside sRGB");
    assert_eq!(rgb_of_lab([140.0, 0.0, 0.0]), None, "brighter than white");
}

#[test]
fn a_bank_truncated_anywhere_on_a_boundary_is_refused_for_what_is_cut() {
    let (_, bytes) = small_bank();
    let table_end = HEADER_LEN + SECTION_ENTRY_LEN * 9;
    let spans: Vec<(u32, usize, usize)> = (1..=9)
        .map(|kind| {
            let (offset, length) = section(&bytes, kind);
            (kind, offset, offset + length)
        })
        .collect();
    let mut cuts = vec![0, 7, 8, HEADER_LEN - 1, HEADER_LEN, table_end - 1];
    for &(_, start, end) in &spans {
        cuts.extend([start, start + 1, end - 1]);
    }
    cuts.push(bytes.len() - 1);
    for cut in cuts {
        let error = refused(bytes[..cut].to_vec());
        if cut < HEADER_LEN {
            assert!(matches!(error, BankError::TooShort { len } if len == cut), "{cut}: {error}");
        } else if cut < table_end {
            assert!(matches!(error, BankError::TableTruncated { count: 9, .. }), "{cut}: {error}");
        } else {
            // The first section (in table order) that does not fit in the cut file.
            let (kind, _, _) = *spans.iter().find(|(_, _, end)| *end > cut).unwrap();
            assert!(
                matches!(error, BankError::OutOfRange { section, len, .. } if section == SectionKind(kind) && len == cut),
                "{cut}: {error}"
            );
        }
    }
}

#[test]
fn header_numbers_out_of_bounds_are_refused_before_anything_is_read() {
    let (_, bytes) = small_bank();
    let with = |at: usize, value: u32| {
        let mut broken = bytes.clone();
        set_u32(&mut broken, at, value);
        refused(broken)
    };
    let mut magic = bytes.clone();
    magic[..8].copy_from_slice(b"S2FBANK1");
    assert!(matches!(refused(magic), BankError::Magic { found } if &found == b"S2FBANK1"));
    assert!(matches!(with(8, 2), BankError::Version { found: 2 }));
    assert!(matches!(with(12, 0), BankError::FaceCount { found: 0 }));
    assert!(matches!(with(12, 100_001), BankError::FaceCount { found: 100_001 }));
    assert!(matches!(with(12, u32::MAX), BankError::FaceCount { found: u32::MAX }));
    assert!(matches!(with(16, 478), BankError::PointCount { found: 478 }));
    assert!(matches!(with(20, 0), BankError::Components { found: 0 }));
    assert!(matches!(with(20, 257), BankError::Components { found: 257 }));
    assert!(matches!(with(24, 0), BankError::ImageSide { found: 0 }));
    assert!(matches!(with(24, 4096), BankError::ImageSide { found: 4096 }));
    assert!(matches!(with(28, 0), BankError::SectionCount { found: 0 }));
    assert!(matches!(with(28, u32::MAX), BankError::SectionCount { found: u32::MAX }));
    // A table that claims more entries than the file holds.
    let mut short = bytes[..HEADER_LEN + SECTION_ENTRY_LEN * 9].to_vec();
    set_u32(&mut short, 28, 40);
    assert!(matches!(refused(short), BankError::TableTruncated { count: 40, .. }));
    // A face count within the maximum that the sections do not hold: refused by the first
    // per-face section's length, before anything is allocated for 50,000 faces.
    let error = with(12, 50_000);
    assert!(
        matches!(error, BankError::SectionLength { section: SectionKind::MESHES, expected, .. } if expected == 50_000 * 936 * 4),
        "{error}"
    );
}

#[test]
fn sections_out_of_place_are_refused() {
    let (_, bytes) = small_bank();
    let len = bytes.len() as u64;
    let (meshes_at, meshes_len) = section(&bytes, 4);
    let moved = |kind: u32, offset: u64, length: Option<u64>| {
        let mut broken = bytes.clone();
        let at = entry(&broken, kind);
        set_u64(&mut broken, at + 8, offset);
        if let Some(length) = length {
            set_u64(&mut broken, at + 16, length);
        }
        refused(broken)
    };
    let jpeg = SectionKind::JPEG;
    assert!(matches!(moved(8, len, None), BankError::OutOfRange { section, .. } if section == jpeg));
    assert!(matches!(moved(8, u64::MAX - 7, None), BankError::OutOfRange { section, .. } if section == jpeg));
    assert!(matches!(moved(8, 8, Some(len * 2)), BankError::OutOfRange { section, .. } if section == jpeg));
    // Over the header or the table.
    assert!(matches!(moved(8, 0, None), BankError::OutOfRange { section, .. } if section == jpeg));
    assert!(matches!(moved(8, HEADER_LEN as u64, Some(8)), BankError::OutOfRange { section, .. } if section == jpeg));
    assert!(matches!(
        moved(4, meshes_at as u64 + 4, None),
        BankError::Misaligned { section: SectionKind::MESHES, .. }
    ));
    let error = moved(5, meshes_at as u64 + 8 * (meshes_len as u64 / 16), None);
    assert!(
        matches!(error, BankError::Overlap { first: SectionKind::MESHES, second: SectionKind::COEFFICIENTS }),
        "{error}"
    );
    let error = moved(9, section(&bytes, 8).0 as u64, Some(8));
    assert!(matches!(error, BankError::Overlap { first: SectionKind::JPEG, second: SectionKind::METADATA }), "{error}");
    // Lengths: a float section of the wrong size, a metadata section over 16 MB (refused
    // before its bytes are looked for).
    assert!(matches!(
        moved(3, section(&bytes, 3).0 as u64, Some(12)),
        BankError::SectionLength { section: SectionKind::SD, expected: 16, found: 12 }
    ));
    assert!(matches!(
        moved(9, 0, Some(MAX_METADATA_LEN + 1)),
        BankError::SectionTooLarge { section: SectionKind::METADATA, .. }
    ));

    let with_kind = |kind: u32, new: u32| {
        let mut broken = bytes.clone();
        let at = entry(&broken, kind);
        set_u32(&mut broken, at, new);
        refused(broken)
    };
    assert!(matches!(with_kind(6, 5), BankError::SectionLength { section: SectionKind::COEFFICIENTS, .. }));
    assert!(matches!(with_kind(9, 8), BankError::Duplicate { section: SectionKind::JPEG }));
    assert!(matches!(with_kind(9, 77), BankError::Missing { section: SectionKind::METADATA }));
}

#[test]
fn a_section_of_an_unknown_kind_is_checked_and_ignored() {
    let parts = parts(FACES, SIDE);
    let mut list = sections(&parts);
    list.push((40, b"a later version's extra".to_vec()));
    let bytes = layout(FACES, K, SIDE, &list);
    assert_eq!(Bank::from_bytes(bytes.clone()).unwrap().face_count(), FACES);
    let mut broken = bytes;
    let at = entry(&broken, 40);
    let jpeg_at = section(&broken, 8).0 as u64;
    set_u64(&mut broken, at + 8, jpeg_at);
    assert!(matches!(refused(broken), BankError::Overlap { first: SectionKind::JPEG, second: SectionKind(40) }));
}

#[test]
fn a_number_that_is_not_finite_is_refused_naming_its_section_and_face() {
    let (_, bytes) = small_bank();
    let poisoned = |kind: u32, number: usize, value: f32| {
        let mut broken = bytes.clone();
        let at = section(&broken, kind).0 + 4 * number;
        broken[at..at + 4].copy_from_slice(&value.to_le_bytes());
        refused(broken)
    };
    let error = poisoned(4, 936 + 5, f32::NAN);
    assert!(
        matches!(error, BankError::NotFinite { section: SectionKind::MESHES, face: Some(1), number: 941 }),
        "{error}"
    );
    assert!(error.to_string().contains("face 1"), "{error}");
    assert!(matches!(
        poisoned(5, 2 * K + 1, f32::INFINITY),
        BankError::NotFinite { section: SectionKind::COEFFICIENTS, face: Some(2), .. }
    ));
    assert!(matches!(poisoned(6, 3, f32::NEG_INFINITY), BankError::NotFinite { face: Some(0), .. }));
    assert!(matches!(poisoned(1, 0, f32::NAN), BankError::NotFinite { section: SectionKind::MEAN, face: None, .. }));
    assert!(matches!(poisoned(2, 17, f32::NAN), BankError::NotFinite { section: SectionKind::BASIS, .. }));
    assert!(matches!(poisoned(3, 1, f32::NAN), BankError::NotFinite { section: SectionKind::SD, .. }));
    // Finite but wrong: a basis that is not orthonormal, an sd of 0, a colour outside sRGB.
    assert!(matches!(poisoned(2, 0, 5.0), BankError::Shape(ShapeModelError::NotOrthonormal { .. })));
    assert!(matches!(poisoned(3, 1, 0.0), BankError::Shape(ShapeModelError::BadSd { component: 1, .. })));
    assert!(matches!(poisoned(6, 6 + 4, 300.0), BankError::Colour { face: 1, region: "hair", .. }));
}

#[test]
fn broken_faces_are_refused_when_asked_for_and_the_rest_still_show() {
    let mut parts = parts(FACES, SIDE);
    // Face 1: garbage of a JPEG's length; face 2: a good JPEG of the wrong size.
    parts.jpegs[1] = parts.jpegs[1].iter().map(|b| b.wrapping_mul(31).wrapping_add(7)).collect();
    parts.jpegs[2] = jpeg(&RgbImage::from_pixel(SIDE, SIDE + 8, Rgb([9, 9, 9])));
    let bank = Bank::from_bytes(write(&parts)).unwrap();
    assert!(bank.face_image(0).is_ok());
    assert!(matches!(bank.face_image(1), Err(BankError::Jpeg { face: 1, .. })));
    let error = bank.face_image(2).unwrap_err();
    assert!(
        matches!(error, BankError::ImageSize { face: 2, width: SIDE, height, side: SIDE } if height == SIDE + 8),
        "{error}"
    );
    // A JPEG cut short.
    let mut parts = self::parts(FACES, SIDE);
    let cut = parts.jpegs[0].len() / 2;
    parts.jpegs[0].truncate(cut);
    let bank = Bank::from_bytes(write(&parts)).unwrap();
    assert!(matches!(bank.face_image(0), Err(BankError::Jpeg { face: 0, .. })));
    assert!(bank.face_image(1).is_ok());
}

#[test]
fn an_image_index_or_metadata_that_does_not_fit_is_refused() {
    let (_, bytes) = small_bank();
    let (index_at, _) = section(&bytes, 7);
    let (_, jpeg_len) = section(&bytes, 8);
    let mut broken = bytes.clone();
    set_u64(&mut broken, index_at + 16 + 8, jpeg_len as u64);
    assert!(matches!(refused(broken), BankError::ImageRange { face: 1, .. }));
    let mut broken = bytes.clone();
    set_u64(&mut broken, index_at + 32, u64::MAX);
    assert!(matches!(refused(broken), BankError::ImageRange { face: 2, .. }));

    let mut parts = parts(FACES, SIDE);
    let good = parts.metadata.clone();
    parts.metadata = "{not json".into();
    assert!(matches!(refused(write(&parts)), BankError::Metadata(_)));
    parts.metadata = good.replace(r#""terms": "non-commercial research only", "#, "");
    assert!(matches!(refused(write(&parts)), BankError::Metadata(_)), "terms are required");
    parts.metadata = good.replace(r#""version": 1"#, r#""version": 2"#);
    assert!(matches!(refused(write(&parts)), BankError::MetadataVersion { found: 2, header: 1 }));
    parts.metadata = good.replace(r#"{"name": "182638.jpg", "split": "train", "index": 0}, "#, "");
    assert!(matches!(refused(write(&parts)), BankError::MetadataFaces { found: 2, expected: 3 }));
    let mut bytes = write(&parts);
    let (at, _) = section(&bytes, 9);
    bytes[at + 1] = 0xff;
    assert!(matches!(refused(bytes), BankError::Metadata(_)), "not UTF-8");
}

#[test]
fn open_names_the_file_in_its_errors() {
    let folder = tempfile::tempdir().unwrap();
    let path = folder.path().join("bank.s2fb");
    let (_, bytes) = small_bank();
    std::fs::write(&path, &bytes).unwrap();
    assert_eq!(Bank::open(&path).unwrap().face_count(), FACES);
    std::fs::write(&path, &bytes[..400]).unwrap();
    let error = Bank::open(&path).unwrap_err();
    let BankError::InFile { path: named, source } = &error else { panic!("{error}") };
    assert_eq!(named, &path);
    assert!(matches!(**source, BankError::OutOfRange { section: SectionKind::MEAN, .. }));
    let chain = crate::error_chain(&error);
    assert!(chain.contains("bank.s2fb") && chain.contains("section 1 (mean)"), "{chain}");
    let missing = Bank::open(folder.path().join("none.s2fb")).unwrap_err();
    assert!(matches!(&missing, BankError::InFile { source, .. } if matches!(**source, BankError::Read(_))));
}

/// Writes the fuzz target's seed, a valid one-face bank (16 px): `cargo test --lib
/// face::bank::tests::write_fuzz_seed -- --ignored`.
#[test]
#[ignore = "writes fuzz/corpus/bank/; run by hand when the format changes"]
fn write_fuzz_seed() {
    let mut parts = parts(1, 16);
    parts.metadata = r#"{"version":1,"source":"fuzz seed","terms":"non-commercial research only","created":"","builder":"src/face/bank/tests.rs","faces":[{"name":"0.jpg","split":"train","index":0}]}"#.into();
    let bytes = write(&parts);
    assert!(Bank::from_bytes(bytes.clone()).unwrap().face_image(0).is_ok());
    let folder = concat!(env!("CARGO_MANIFEST_DIR"), "/fuzz/corpus/bank");
    std::fs::create_dir_all(folder).unwrap();
    std::fs::write(format!("{folder}/one-face-16px.s2fb"), bytes).unwrap();
}

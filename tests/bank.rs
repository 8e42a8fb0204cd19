//! The shipped face bank (`models/bank-v3.s2fb`, `make bank`) as the app loads it: it opens, holds
//! the faces its card promises, its stored colours are those of its own pictures (recomputed here
//! by the Rust region rule), its meshes are in the bank framing, and its stored coefficients are
//! what the Rust shape model measures. Sizes come from the file, not from constants here.

use std::path::Path;
use std::time::Instant;

use image::{Rgba, RgbaImage};
use sketch2face::face::{Bank, LEFT_EYE_OUTER, Mesh, RIGHT_EYE_OUTER, hint_colours, lab};

/// The framing of the face spec, in fractions of the image side.
const EYES: [f32; 2] = [0.5, 0.42];
const EYE_DISTANCE: f32 = 0.30;

fn shipped() -> Bank {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("models/bank-v3.s2fb");
    let started = Instant::now();
    let bank = Bank::open(&path).unwrap_or_else(|e| panic!("{}", sketch2face::error_chain(&e)));
    eprintln!("opened {} ({} faces) in {:.0} ms", path.display(), bank.face_count(), started.elapsed().as_secs_f64() * 1e3);
    bank
}

/// Every 48th face or so: 50 faces from the whole bank.
fn sample(bank: &Bank) -> Vec<usize> {
    let n = bank.face_count();
    (0..50).map(|i| i * (n - 1) / 49).collect()
}

/// CIE76 distance.
fn delta_e(a: &[f32], b: &[f32]) -> f32 {
    a.iter().zip(b).map(|(x, y)| (x - y) * (x - y)).sum::<f32>().sqrt()
}

#[test]
fn the_shipped_bank_opens_with_its_promised_faces_and_terms() {
    let bank = shipped();
    assert!(bank.face_count() >= 2000, "{} faces", bank.face_count());
    assert_eq!(bank.index().face_count(), bank.face_count());
    assert_eq!(bank.index().components(), bank.shape().components());
    let metadata = bank.metadata();
    assert!(metadata.terms.contains("non-commercial research only"), "{}", metadata.terms);
    assert!(metadata.source.contains("CelebA"), "{}", metadata.source);
    assert_eq!(metadata.faces.len(), bank.face_count());
    let names: std::collections::BTreeSet<&str> = metadata.faces.iter().map(|f| f.name.as_str()).collect();
    assert_eq!(names.len(), bank.face_count(), "no photo twice");
    assert!(metadata.faces.iter().all(|f| f.split == "train"), "test and validation faces stay out of the bank");
}

#[test]
fn stored_colours_are_those_of_each_faces_own_picture() {
    let bank = shipped();
    let mut worst = 0.0f32;
    for face in sample(&bank) {
        let image = bank.face_image(face).unwrap();
        assert_eq!(image.dimensions(), (bank.image_side(), bank.image_side()));
        let rgba = RgbaImage::from_fn(image.width(), image.height(), |x, y| {
            let [r, g, b] = image.get_pixel(x, y).0;
            Rgba([r, g, b, 255])
        });
        let found = hint_colours(&rgba, &bank.mesh(face));
        let (skin, hair) = (lab(found.skin.expect("skin pixels")), lab(found.hair.expect("hair pixels")));
        let stored = bank.colours(face);
        let (skin_error, hair_error) = (delta_e(&skin, &stored[..3]), delta_e(&hair, &stored[3..]));
        assert!(skin_error < 3.0 && hair_error < 3.0, "face {face}: ΔE skin {skin_error}, hair {hair_error}");
        worst = worst.max(skin_error).max(hair_error);
    }
    eprintln!("largest ΔE between stored and recomputed colours: {worst:.3}");
}

#[test]
fn meshes_are_in_the_bank_framing_and_the_shape_model_measures_them_as_stored() {
    let bank = shipped();
    let side = bank.image_side() as f32;
    let shape = bank.shape();
    let check_framing = |mesh: &Mesh, what: &str| {
        let (l, r) = (mesh.points()[LEFT_EYE_OUTER], mesh.points()[RIGHT_EYE_OUTER]);
        let middle = [(l[0] + r[0]) / 2.0, (l[1] + r[1]) / 2.0];
        assert!((mesh.eye_distance() - EYE_DISTANCE * side).abs() < 0.05, "{what}: {mesh:?}");
        assert!((middle[0] - EYES[0] * side).abs() < 0.05 && (middle[1] - EYES[1] * side).abs() < 0.05, "{what}: {middle:?}");
        assert!((l[1] - r[1]).abs() < 0.05, "{what}: the eye line is level");
    };
    check_framing(shape.mean(), "the mean");
    let mut worst_residual = 0.0f32;
    for face in sample(&bank) {
        let mesh = bank.mesh(face);
        check_framing(&mesh, &format!("face {face}"));
        // The face (its oval and features) is inside the picture.
        let [x0, y0, x1, y1] = mesh.bounds();
        assert!(x0 >= 0.0 && y0 >= 0.0 && x1 <= side && y1 <= side, "face {face}: {:?}", mesh.bounds());
        let (coefficients, to_mean) = shape.coefficients(&mesh);
        for (c, (stored, sd)) in coefficients.iter().zip(bank.coefficients(face).iter().zip(shape.sd())) {
            assert!((c - stored).abs() < 1e-3 * sd.max(1.0), "face {face}: {coefficients:?} {:?}", bank.coefficients(face));
        }
        // The model explains a bank face: reconstructed and put back, within 2 % of the eye distance.
        let back = shape.reconstruct(&coefficients).transformed(&to_mean.inverse().unwrap());
        worst_residual = worst_residual.max(back.nme(&mesh));
        assert!(back.nme(&mesh) < 0.02, "face {face}: NME {}", back.nme(&mesh));
        assert!(shape.plausible(&mesh).nme(&mesh) < 0.02);
    }
    eprintln!("largest NME of a reconstructed bank mesh: {worst_residual:.4}");
}

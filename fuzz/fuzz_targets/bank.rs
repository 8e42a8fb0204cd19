//! Any bytes as a face bank file (`Bank::from_bytes`: the header, the section table, the float
//! sections, the shape model, the image index, the metadata), then the faces it accepts (their
//! JPEGs decoded, their meshes through the shape model): nothing may panic, and what loads keeps
//! the bank's promises.
#![no_main]

use libfuzzer_sys::fuzz_target;
use sketch2face_fuzz::face::{Bank, MAX_FACES};

fuzz_target!(|data: &[u8]| {
    let Ok(bank) = Bank::from_bytes(data.to_vec()) else { return };
    assert!((1..=MAX_FACES).contains(&bank.face_count()));
    assert_eq!(bank.metadata().faces.len(), bank.face_count());
    assert_eq!(bank.index().face_count(), bank.face_count());
    let shape = bank.shape();
    for face in 0..bank.face_count().min(3) {
        if let Ok(image) = bank.face_image(face) {
            assert_eq!(image.dimensions(), (bank.image_side(), bank.image_side()));
        }
        let mesh = bank.mesh(face);
        assert_eq!(bank.coefficients(face).len(), shape.components());
        // Whatever the model, plausible() gives a mesh of finite points.
        let plausible = shape.plausible(&mesh);
        assert!(plausible.points().iter().flatten().all(|v| v.is_finite()));
        assert_eq!(shape.coefficients(&plausible).0.len(), shape.components());
    }
    assert!(bank.face_image(bank.face_count()).is_err());
});

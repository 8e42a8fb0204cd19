//! Any bytes as a sketch file (every supported format), through to the model's input tensors:
//! `decode_sketch` (limits, decoding, clean-up to a 512 px page), `preprocess`, and the same bytes
//! as colour hints. Nothing may panic; what is accepted must come out in range.
#![no_main]

use std::path::Path;

use libfuzzer_sys::fuzz_target;
use sketch2face_fuzz::engine::{hints_tensor, preprocess};
use sketch2face_fuzz::sketch::{BACKGROUND_SIZE, decode_image, decode_sketch};

/// Side of the tensors made here: small, as the model's, so that the fuzzer runs fast.
const SIDE: u32 = 32;
/// Hints are made only from images up to this side (the engine squares them first).
const MAX_HINTS_SIDE: u32 = 1024;

fuzz_target!(|data: &[u8]| {
    let name = Path::new("fuzz-input");
    if let Ok(page) = decode_sketch(data, name) {
        assert_eq!(page.dimensions(), (BACKGROUND_SIZE, BACKGROUND_SIZE));
        let input = preprocess(&page, SIDE);
        assert_eq!(input.shape(), [1, 1, SIDE as usize, SIDE as usize]);
        assert!(input.iter().all(|v| (-1.0..=1.0).contains(v)));
    }
    if let Ok(image) = decode_image(data, name)
        && image.width().max(image.height()) <= MAX_HINTS_SIDE
    {
        let hints = hints_tensor(&image.into_rgba8(), SIDE);
        assert!(hints.iter().all(|v| (-1.0..=1.0).contains(v)));
    }
});

//! Any bytes as an ONNX file for the walker that finds external data before ONNX Runtime opens
//! a model (`onnx_scan::scan_model`): it must never panic, and what it reports must be consistent.
#![no_main]

use libfuzzer_sys::fuzz_target;
use sketch2face_fuzz::engine::onnx_scan::{MAX_REPORTED, scan_model};

fuzz_target!(|data: &[u8]| {
    match scan_model(data) {
        Ok(scan) => {
            assert!(scan.external.len() <= MAX_REPORTED);
            assert!(scan.external.len() <= scan.external_count);
            assert_eq!(scan.external.len(), scan.external_count.min(MAX_REPORTED));
        }
        Err(error) => assert!(error.offset <= data.len(), "{error}"),
    }
});

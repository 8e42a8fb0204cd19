//! Any model signature (inputs, outputs, metadata) for the contract check the loader runs on
//! what ONNX Runtime reports: it must never panic, and whatever it accepts must be within the
//! contract (a side up to MAX_RESOLUTION, a code up to MAX_Z_DIM).
#![no_main]

use std::collections::BTreeMap;
use std::path::Path;

use arbitrary::Arbitrary;
use libfuzzer_sys::fuzz_target;
use sketch2face_fuzz::engine::{
    Dim, HINTS_NAME, INPUT_NAME, MAX_RESOLUTION, MAX_Z_DIM, OUTPUT_NAME, TensorSpec, Z_NAME,
    check_contract,
};

/// Names the contract knows, and one it does not, so the fuzzer reaches every branch.
const NAMES: [&str; 5] = [INPUT_NAME, HINTS_NAME, Z_NAME, OUTPUT_NAME, "style"];
const ELEMENTS: [&str; 3] = ["f32", "f64", "i64"];
const KEYS: [&str; 3] = ["sketch2face.contract", "sketch2face.resolution", "other"];

#[derive(Arbitrary, Debug)]
struct Spec {
    name: u8,
    /// `None`: not a tensor (a sequence, a map).
    element: Option<u8>,
    /// `None`: a dynamic dimension.
    dims: Vec<Option<i64>>,
}

#[derive(Arbitrary, Debug)]
struct Signature {
    inputs: Vec<Spec>,
    outputs: Vec<Spec>,
    metadata: Vec<(u8, String)>,
}

impl Spec {
    fn spec(&self) -> TensorSpec {
        let name = NAMES[usize::from(self.name) % NAMES.len()];
        let dims: Vec<Dim> = self
            .dims
            .iter()
            .map(|d| d.map_or_else(|| Dim::Dynamic("N".into()), Dim::Fixed))
            .collect();
        match self.element {
            Some(e) => TensorSpec::tensor(name, ELEMENTS[usize::from(e) % ELEMENTS.len()], &dims),
            None => TensorSpec {
                name: name.to_owned(),
                element: None,
                dims: Vec::new(),
                description: "sequence".to_owned(),
            },
        }
    }
}

fuzz_target!(|signature: Signature| {
    let inputs: Vec<TensorSpec> = signature.inputs.iter().map(Spec::spec).collect();
    let outputs: Vec<TensorSpec> = signature.outputs.iter().map(Spec::spec).collect();
    let metadata: BTreeMap<String, String> = signature
        .metadata
        .into_iter()
        .map(|(k, v)| (KEYS[usize::from(k) % KEYS.len()].to_owned(), v))
        .collect();
    match check_contract(Path::new("fuzz.onnx"), &inputs, &outputs, &metadata) {
        Ok(contract) => {
            assert!((1..=MAX_RESOLUTION).contains(&i64::from(contract.resolution)));
            assert!(contract.z_dim as i64 <= MAX_Z_DIM);
            assert!(matches!(contract.version, 1 | 2));
            assert!(contract.version == 2 || (!contract.takes_hints && contract.z_dim == 0));
        }
        Err(error) => assert!(error.to_string().contains("fuzz.onnx")),
    }
});

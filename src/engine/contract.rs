//! The model contract (version 1), checked once when a model is loaded.
//!
//! - input `sketch`: float32 [N, 1, H, W], white paper = +1, black ink = -1, H == W;
//! - output `face`: float32 [N, 3, H, W], RGB in [-1, 1];
//! - ONNX metadata `sketch2face.contract` = "1" (and `sketch2face.resolution` = H when present).
//!
//! The check works on plain [`TensorSpec`]s so it can be tested without a runtime; the session
//! converts `ort`'s outlets into them.

use std::collections::BTreeMap;
use std::fmt;
use std::path::Path;

use ort::value::{Outlet, TensorElementType, ValueType};

use super::EngineError;

/// The contract version this engine implements.
pub const CONTRACT_VERSION: &str = "1";
/// Metadata key holding the contract version.
pub const CONTRACT_KEY: &str = "sketch2face.contract";
/// Metadata key holding the square resolution H.
pub const RESOLUTION_KEY: &str = "sketch2face.resolution";
/// Name of the model input.
pub const INPUT_NAME: &str = "sketch";
/// Name of the model output.
pub const OUTPUT_NAME: &str = "face";

/// One dimension of a tensor as the model declares it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Dim {
    Fixed(i64),
    /// A dynamic dimension, with its symbolic name when it has one.
    Dynamic(String),
}

impl fmt::Display for Dim {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Dim::Fixed(n) => write!(f, "{n}"),
            Dim::Dynamic(name) if name.is_empty() => f.write_str("?"),
            Dim::Dynamic(name) => f.write_str(name),
        }
    }
}

/// A model input or output: its name, element type and shape.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TensorSpec {
    pub name: String,
    /// The element type (`f32`, `f64`, ...); `None` when the value is not a tensor.
    pub element: Option<String>,
    pub dims: Vec<Dim>,
    /// How the value reads in a message, e.g. `f32 [batch, 1, 128, 128]`.
    pub description: String,
}

impl TensorSpec {
    /// A float32 tensor spec; handy for tests.
    pub fn f32(name: &str, dims: &[Dim]) -> Self {
        Self::tensor(name, "f32", dims)
    }

    pub fn tensor(name: &str, element: &str, dims: &[Dim]) -> Self {
        let shape: Vec<String> = dims.iter().map(Dim::to_string).collect();
        TensorSpec {
            name: name.to_owned(),
            element: Some(element.to_owned()),
            dims: dims.to_vec(),
            description: format!("{element} [{}]", shape.join(", ")),
        }
    }

    pub(crate) fn from_outlet(outlet: &Outlet) -> Self {
        match outlet.dtype() {
            ValueType::Tensor {
                ty,
                shape,
                dimension_symbols,
            } => {
                let dims: Vec<Dim> = shape
                    .iter()
                    .enumerate()
                    .map(|(i, &d)| {
                        if d >= 0 {
                            Dim::Fixed(d)
                        } else {
                            Dim::Dynamic(dimension_symbols.get(i).cloned().unwrap_or_default())
                        }
                    })
                    .collect();
                let element = if *ty == TensorElementType::Float32 {
                    "f32".to_owned()
                } else {
                    ty.to_string()
                };
                Self::tensor(outlet.name(), &element, &dims)
            }
            other => TensorSpec {
                name: outlet.name().to_owned(),
                element: None,
                dims: Vec::new(),
                description: other.to_string(),
            },
        }
    }

    fn fixed(&self, axis: usize) -> Option<i64> {
        match self.dims.get(axis) {
            Some(Dim::Fixed(n)) => Some(*n),
            _ => None,
        }
    }
}

/// Checks a model against contract version 1 and returns its resolution H.
///
/// `path` only names the model in errors.
pub fn check_contract(
    path: &Path,
    inputs: &[TensorSpec],
    outputs: &[TensorSpec],
    metadata: &BTreeMap<String, String>,
) -> Result<u32, EngineError> {
    let refuse = |what: &str, expected: &str, found: String| EngineError::Contract {
        path: path.to_owned(),
        what: what.to_owned(),
        expected: expected.to_owned(),
        found,
    };

    // The version first: a model of another contract version is best told as such.
    let contract = metadata.get(CONTRACT_KEY);
    if contract.map(String::as_str) != Some(CONTRACT_VERSION) {
        return Err(refuse(
            &format!("metadata `{CONTRACT_KEY}`"),
            &format!("\"{CONTRACT_VERSION}\""),
            contract.map_or_else(|| "no such entry".to_owned(), |v| format!("\"{v}\"")),
        ));
    }

    let input = single(inputs, INPUT_NAME).map_err(|found| {
        refuse(
            "inputs",
            &format!("exactly one input named `{INPUT_NAME}`"),
            found,
        )
    })?;
    let expected_input = "f32 [N, 1, H, W] with N dynamic or 1, H == W fixed";
    let bad_input = || {
        refuse(
            &format!("input `{INPUT_NAME}`"),
            expected_input,
            input.description.clone(),
        )
    };
    if input.element.as_deref() != Some("f32") || input.dims.len() != 4 {
        return Err(bad_input());
    }
    let batch_ok = |spec: &TensorSpec| matches!(spec.dims[0], Dim::Dynamic(_) | Dim::Fixed(1));
    let (height, width) = (input.fixed(2), input.fixed(3));
    let resolution = match (height, width) {
        (Some(h), Some(w)) if h == w && h > 0 && h <= i64::from(u16::MAX) => h,
        _ => return Err(bad_input()),
    };
    if !batch_ok(input) || input.fixed(1) != Some(1) {
        return Err(bad_input());
    }

    let output = single(outputs, OUTPUT_NAME).map_err(|found| {
        refuse(
            "outputs",
            &format!("exactly one output named `{OUTPUT_NAME}`"),
            found,
        )
    })?;
    let expected_output = format!(
        "f32 [N, 3, {resolution}, {resolution}] (the input's resolution; N and H, W may be dynamic)"
    );
    let side_ok = |axis: usize| match &output.dims[axis] {
        Dim::Fixed(n) => *n == resolution,
        Dim::Dynamic(_) => true,
    };
    if output.element.as_deref() != Some("f32")
        || output.dims.len() != 4
        || !batch_ok(output)
        || output.fixed(1) != Some(3)
        || !side_ok(2)
        || !side_ok(3)
    {
        return Err(refuse(
            &format!("output `{OUTPUT_NAME}`"),
            &expected_output,
            output.description.clone(),
        ));
    }

    if let Some(declared) = metadata.get(RESOLUTION_KEY)
        && declared.trim().parse::<i64>().ok() != Some(resolution)
    {
        return Err(refuse(
            &format!("metadata `{RESOLUTION_KEY}`"),
            &format!("\"{resolution}\" (the input's H and W)"),
            format!("\"{declared}\""),
        ));
    }

    Ok(resolution as u32)
}

/// The one spec named `name`, or a description of what is there instead.
fn single<'a>(specs: &'a [TensorSpec], name: &str) -> Result<&'a TensorSpec, String> {
    match specs {
        [only] if only.name == name => Ok(only),
        [] => Err("none".to_owned()),
        _ => Err(specs
            .iter()
            .map(|s| format!("`{}`: {}", s.name, s.description))
            .collect::<Vec<_>>()
            .join(", ")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dyn_n() -> Dim {
        Dim::Dynamic("N".to_owned())
    }

    fn good_input(h: i64) -> TensorSpec {
        TensorSpec::f32(
            INPUT_NAME,
            &[dyn_n(), Dim::Fixed(1), Dim::Fixed(h), Dim::Fixed(h)],
        )
    }

    fn good_output(h: i64) -> TensorSpec {
        TensorSpec::f32(
            OUTPUT_NAME,
            &[dyn_n(), Dim::Fixed(3), Dim::Fixed(h), Dim::Fixed(h)],
        )
    }

    fn metadata(contract: Option<&str>) -> BTreeMap<String, String> {
        contract
            .map(|c| (CONTRACT_KEY.to_owned(), c.to_owned()))
            .into_iter()
            .collect()
    }

    fn check(
        inputs: &[TensorSpec],
        outputs: &[TensorSpec],
        meta: &BTreeMap<String, String>,
    ) -> Result<u32, String> {
        check_contract(Path::new("m.onnx"), inputs, outputs, meta).map_err(|e| e.to_string())
    }

    #[test]
    fn accepts_the_contract_and_reports_the_resolution() {
        assert_eq!(
            check(
                &[good_input(128)],
                &[good_output(128)],
                &metadata(Some("1"))
            ),
            Ok(128)
        );
    }

    #[test]
    fn accepts_dynamic_output_sides_and_a_fixed_batch_of_one() {
        let input = TensorSpec::f32(
            INPUT_NAME,
            &[Dim::Fixed(1), Dim::Fixed(1), Dim::Fixed(64), Dim::Fixed(64)],
        );
        let output = TensorSpec::f32(
            OUTPUT_NAME,
            &[
                Dim::Fixed(1),
                Dim::Fixed(3),
                Dim::Dynamic(String::new()),
                Dim::Dynamic("w".into()),
            ],
        );
        assert_eq!(check(&[input], &[output], &metadata(Some("1"))), Ok(64));
    }

    #[test]
    fn refuses_other_contract_versions_with_expected_and_found() {
        let err = check(&[good_input(16)], &[good_output(16)], &metadata(Some("2"))).unwrap_err();
        assert!(err.contains("m.onnx"), "{err}");
        assert!(err.contains("expected \"1\", found \"2\""), "{err}");
        let err = check(&[good_input(16)], &[good_output(16)], &metadata(None)).unwrap_err();
        assert!(err.contains("found no such entry"), "{err}");
    }

    #[test]
    fn refuses_wrong_input_names_ranks_sizes_and_types() {
        let meta = metadata(Some("1"));
        let out = [good_output(16)];
        let renamed = TensorSpec::f32(
            "image",
            &[dyn_n(), Dim::Fixed(1), Dim::Fixed(16), Dim::Fixed(16)],
        );
        let err = check(&[renamed], &out, &meta).unwrap_err();
        assert!(
            err.contains("exactly one input named `sketch`") && err.contains("`image`"),
            "{err}"
        );

        let rank3 = TensorSpec::f32(INPUT_NAME, &[dyn_n(), Dim::Fixed(16), Dim::Fixed(16)]);
        let err = check(&[rank3], &out, &meta).unwrap_err();
        assert!(err.contains("found f32 [N, 16, 16]"), "{err}");

        let wide = TensorSpec::f32(
            INPUT_NAME,
            &[dyn_n(), Dim::Fixed(1), Dim::Fixed(16), Dim::Fixed(24)],
        );
        assert!(check(&[wide], &out, &meta).unwrap_err().contains("H == W"));

        let dynamic = TensorSpec::f32(INPUT_NAME, &[dyn_n(), Dim::Fixed(1), dyn_n(), dyn_n()]);
        assert!(check(&[dynamic], &out, &meta).is_err());

        let rgb = TensorSpec::f32(
            INPUT_NAME,
            &[dyn_n(), Dim::Fixed(3), Dim::Fixed(16), Dim::Fixed(16)],
        );
        assert!(check(&[rgb], &out, &meta).is_err());

        let double = TensorSpec::tensor(
            INPUT_NAME,
            "f64",
            &[dyn_n(), Dim::Fixed(1), Dim::Fixed(16), Dim::Fixed(16)],
        );
        assert!(
            check(&[double], &out, &meta)
                .unwrap_err()
                .contains("found f64")
        );

        let batch4 = TensorSpec::f32(
            INPUT_NAME,
            &[Dim::Fixed(4), Dim::Fixed(1), Dim::Fixed(16), Dim::Fixed(16)],
        );
        assert!(check(&[batch4], &out, &meta).is_err());
    }

    #[test]
    fn refuses_wrong_outputs() {
        let meta = metadata(Some("1"));
        let inp = [good_input(16)];
        let two = TensorSpec::f32(
            OUTPUT_NAME,
            &[dyn_n(), Dim::Fixed(2), Dim::Fixed(16), Dim::Fixed(16)],
        );
        let err = check(&inp, &[two], &meta).unwrap_err();
        assert!(
            err.contains("output `face`") && err.contains("found f32 [N, 2, 16, 16]"),
            "{err}"
        );

        assert!(
            check(&inp, &[good_output(32)], &meta).is_err(),
            "resolution differs from input"
        );
        assert!(check(&inp, &[], &meta).unwrap_err().contains("found none"));
        assert!(check(&inp, &[good_output(16), good_output(16)], &meta).is_err());
    }

    #[test]
    fn refuses_a_resolution_entry_that_disagrees() {
        let mut meta = metadata(Some("1"));
        meta.insert(RESOLUTION_KEY.to_owned(), "128".to_owned());
        let err = check(&[good_input(16)], &[good_output(16)], &meta).unwrap_err();
        assert!(
            err.contains("expected \"16\"") && err.contains("found \"128\""),
            "{err}"
        );
        meta.insert(RESOLUTION_KEY.to_owned(), "16".to_owned());
        assert_eq!(check(&[good_input(16)], &[good_output(16)], &meta), Ok(16));
    }
}

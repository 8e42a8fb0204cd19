//! The model contract, checked once when a model is loaded. Versions 1 and 2 are generators
//! ([`check_contract`]); version 3 is face pipeline v3's refine model ([`check_refine_contract`]).
//!
//! - input `sketch`: float32 [N, 1, H, W], white paper = +1, black ink = -1, H == W, at most
//!   [`MAX_RESOLUTION`];
//! - version 2 only, each optional (a model declares what it takes):
//!   - input `hints`: float32 [N, 4, H, W]: RGB in [-1, 1] where the user painted colour and 0
//!     elsewhere, then a mask channel, 1 where painted and 0 elsewhere;
//!   - input `z`: float32 [N, Z], 1 <= Z <= [`MAX_Z_DIM`]: the variation code, drawn from N(0, 1);
//!     all zeros is the default face;
//! - output `face`: float32 [N, 3, H, W], RGB in [-1, 1];
//! - ONNX metadata `sketch2face.contract` = "1" or "2" (and `sketch2face.resolution` = H when
//!   present).
//!
//! Version 3, the refine model (issue 25), takes all three of its inputs, none optional:
//! - input `sketch`: as above, the drawing in the face frame;
//! - input `exemplar`: float32 [N, 3, H, W], RGB in [-1, 1]: the bank face warped onto the
//!   drawing's mesh;
//! - input `hints`: as above (all zeros without hints);
//! - output `face`: as above; metadata `sketch2face.contract` = "3".
//!
//! The check works on plain [`TensorSpec`]s so it can be tested without a runtime; the session
//! converts `ort`'s outlets into them.

use std::collections::BTreeMap;
use std::fmt;
use std::path::Path;

use ort::value::{Outlet, TensorElementType, ValueType};

use super::EngineError;

/// The contract versions this engine implements, oldest first.
pub const CONTRACT_VERSIONS: [&str; 2] = ["1", "2"];
/// The newest contract version.
pub const CONTRACT_VERSION: &str = "2";
/// The largest side a model may declare: the input, output and hint buffers of a bigger one
/// would cost gigabytes before the first run.
pub const MAX_RESOLUTION: i64 = 2048;
/// The longest variation code a model may declare.
pub const MAX_Z_DIM: i64 = 1024;
/// Metadata key holding the contract version.
pub const CONTRACT_KEY: &str = "sketch2face.contract";
/// Metadata key holding the square resolution H.
pub const RESOLUTION_KEY: &str = "sketch2face.resolution";
/// Name of the sketch input.
pub const INPUT_NAME: &str = "sketch";
/// Name of the optional colour-hint input (version 2).
pub const HINTS_NAME: &str = "hints";
/// Name of the optional variation-code input (version 2).
pub const Z_NAME: &str = "z";
/// Name of the model output.
pub const OUTPUT_NAME: &str = "face";
/// The contract version of refine models.
pub const REFINE_CONTRACT_VERSION: &str = "3";
/// Name of a refine model's warped-exemplar input (version 3).
pub const EXEMPLAR_NAME: &str = "exemplar";
/// Name of a refine model's optional second output (version 3): the face with the colour layout
/// the drawing and its hints say (`training/tone.py`), for faces from the bank.
pub const TONED_NAME: &str = "toned";

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

/// What a model that passed the contract is and takes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Contract {
    /// 1 or 2.
    pub version: u32,
    /// Side of the square input and output images.
    pub resolution: u32,
    /// Whether the model takes colour hints.
    pub takes_hints: bool,
    /// Length of the variation code; 0 when the model takes none.
    pub z_dim: usize,
}

/// Checks a model against the contract and says what it takes.
///
/// `path` only names the model in errors.
pub fn check_contract(
    path: &Path,
    inputs: &[TensorSpec],
    outputs: &[TensorSpec],
    metadata: &BTreeMap<String, String>,
) -> Result<Contract, EngineError> {
    let refuse = |what: &str, expected: &str, found: String| EngineError::Contract {
        path: path.to_owned(),
        what: what.to_owned(),
        expected: expected.to_owned(),
        found,
    };

    // The version first: a model of another contract version is best told as such.
    let contract = metadata.get(CONTRACT_KEY);
    let version = match contract.map(String::as_str) {
        Some("1") => 1,
        Some("2") => 2,
        Some(REFINE_CONTRACT_VERSION) => {
            return Err(refuse(
                &format!("metadata `{CONTRACT_KEY}`"),
                "\"1\" or \"2\" (a generator)",
                format!(
                    "\"{REFINE_CONTRACT_VERSION}\": a refine model of face pipeline v3, which needs the pipeline's \
                     warped face as input (use it as `--refine-model` with `--stage refined`)"
                ),
            ));
        }
        _ => {
            return Err(refuse(
                &format!("metadata `{CONTRACT_KEY}`"),
                "\"1\" or \"2\"",
                contract.map_or_else(|| "no such entry".to_owned(), |v| format!("\"{v}\"")),
            ));
        }
    };

    let optional: &[&str] = if version == 1 {
        &[]
    } else {
        &[HINTS_NAME, Z_NAME]
    };
    let input = find_inputs(inputs, optional).map_err(|found| {
        let expected = if version == 1 {
            format!("exactly one input named `{INPUT_NAME}`")
        } else {
            format!("an input `{INPUT_NAME}`, optionally `{HINTS_NAME}` and `{Z_NAME}`, and no other")
        };
        refuse("inputs", &expected, found)
    })?;
    let expected_input = "f32 [N, 1, H, W] with N dynamic or 1, H == W fixed, at most 2048";
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
        (Some(h), Some(w)) if h == w && h > 0 && h <= MAX_RESOLUTION => h,
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

    let hints = inputs.iter().find(|spec| spec.name == HINTS_NAME);
    if let Some(hints) = hints {
        let side_ok = |axis: usize| match &hints.dims[axis] {
            Dim::Fixed(n) => *n == resolution,
            Dim::Dynamic(_) => true,
        };
        if hints.element.as_deref() != Some("f32")
            || hints.dims.len() != 4
            || !batch_ok(hints)
            || hints.fixed(1) != Some(4)
            || !side_ok(2)
            || !side_ok(3)
        {
            return Err(refuse(
                &format!("input `{HINTS_NAME}`"),
                &format!("f32 [N, 4, {resolution}, {resolution}] (RGB and a mask)"),
                hints.description.clone(),
            ));
        }
    }
    let mut z_dim = 0;
    if let Some(z) = inputs.iter().find(|spec| spec.name == Z_NAME) {
        match (z.element.as_deref(), z.dims.len(), z.fixed(1)) {
            (Some("f32"), 2, Some(n)) if batch_ok(z) && (1..=MAX_Z_DIM).contains(&n) => {
                z_dim = n as usize;
            }
            _ => {
                return Err(refuse(
                    &format!("input `{Z_NAME}`"),
                    &format!("f32 [N, Z] with 1 <= Z <= {MAX_Z_DIM} fixed"),
                    z.description.clone(),
                ));
            }
        }
    }

    Ok(Contract {
        version,
        resolution: resolution as u32,
        takes_hints: hints.is_some(),
        z_dim,
    })
}

/// What a refine model (contract 3) that passed the check takes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RefineContract {
    /// Side of its square inputs and output.
    pub resolution: u32,
    /// Whether it also gives [`TONED_NAME`].
    pub toned: bool,
}

/// Checks a refine model against contract 3: `sketch` [N, 1, H, H], `exemplar` [N, 3, H, H] and
/// `hints` [N, 4, H, H] in, `face` [N, 3, H, H] out and optionally `toned` [N, 3, H, H] too, all
/// f32 with the same N (dynamic or 1) and a fixed H; a missing input is named in the refusal.
pub fn check_refine_contract(
    path: &Path,
    inputs: &[TensorSpec],
    outputs: &[TensorSpec],
    metadata: &BTreeMap<String, String>,
) -> Result<RefineContract, EngineError> {
    let refuse = |what: &str, expected: &str, found: String| EngineError::Contract {
        path: path.to_owned(),
        what: what.to_owned(),
        expected: expected.to_owned(),
        found,
    };
    let contract = metadata.get(CONTRACT_KEY);
    if contract.map(String::as_str) != Some(REFINE_CONTRACT_VERSION) {
        let found = match contract.map(String::as_str) {
            None => "no such entry".to_owned(),
            Some(v @ ("1" | "2")) => format!("\"{v}\": a generator, which makes a face from the sketch alone"),
            Some(v) => format!("\"{v}\""),
        };
        return Err(refuse(&format!("metadata `{CONTRACT_KEY}`"), "\"3\" (a refine model)", found));
    }
    let expected_inputs = format!("the inputs `{INPUT_NAME}`, `{EXEMPLAR_NAME}` and `{HINTS_NAME}`, and no other");
    let names = [INPUT_NAME, EXEMPLAR_NAME, HINTS_NAME];
    if let Some(missing) = names.iter().find(|name| !inputs.iter().any(|spec| spec.name == **name)) {
        let found = format!("no input `{missing}` (the model has {})", describe(inputs));
        return Err(refuse("inputs", &expected_inputs, found));
    }
    let repeated = inputs.iter().enumerate().any(|(i, a)| inputs[..i].iter().any(|b| b.name == a.name));
    if repeated || inputs.iter().any(|spec| !names.contains(&spec.name.as_str())) {
        return Err(refuse("inputs", &expected_inputs, describe(inputs)));
    }
    let sketch = inputs.iter().find(|spec| spec.name == INPUT_NAME).expect("checked above");
    let resolution = match (sketch.fixed(2), sketch.fixed(3)) {
        (Some(h), Some(w)) if h == w && h > 0 && h <= MAX_RESOLUTION => h,
        _ => {
            return Err(refuse(
                &format!("input `{INPUT_NAME}`"),
                "f32 [N, 1, H, W] with N dynamic or 1, H == W fixed, at most 2048",
                sketch.description.clone(),
            ));
        }
    };
    let image_ok = |spec: &TensorSpec, channels: i64| {
        let side_ok = |axis: usize| matches!(&spec.dims[axis], Dim::Fixed(n) if *n == resolution);
        spec.element.as_deref() == Some("f32")
            && spec.dims.len() == 4
            && matches!(spec.dims[0], Dim::Dynamic(_) | Dim::Fixed(1))
            && spec.fixed(1) == Some(channels)
            && side_ok(2)
            && side_ok(3)
    };
    for (name, channels, meaning) in [
        (INPUT_NAME, 1, "the sketch"),
        (EXEMPLAR_NAME, 3, "the warped face, RGB"),
        (HINTS_NAME, 4, "RGB and a mask"),
    ] {
        let spec = inputs.iter().find(|spec| spec.name == name).expect("checked above");
        if !image_ok(spec, channels) {
            return Err(refuse(
                &format!("input `{name}`"),
                &format!("f32 [N, {channels}, {resolution}, {resolution}] ({meaning})"),
                spec.description.clone(),
            ));
        }
    }
    let expected_outputs = format!("the output `{OUTPUT_NAME}`, optionally `{TONED_NAME}`, and no other");
    let known = |spec: &TensorSpec| spec.name == OUTPUT_NAME || spec.name == TONED_NAME;
    let repeated = outputs.iter().enumerate().any(|(i, a)| outputs[..i].iter().any(|b| b.name == a.name));
    if repeated || !outputs.iter().all(known) || !outputs.iter().any(|spec| spec.name == OUTPUT_NAME) {
        return Err(refuse("outputs", &expected_outputs, describe(outputs)));
    }
    for output in outputs {
        let side_ok = |axis: usize| match &output.dims[axis] {
            Dim::Fixed(n) => *n == resolution,
            Dim::Dynamic(_) => true,
        };
        if output.element.as_deref() != Some("f32")
            || output.dims.len() != 4
            || !matches!(output.dims[0], Dim::Dynamic(_) | Dim::Fixed(1))
            || output.fixed(1) != Some(3)
            || !side_ok(2)
            || !side_ok(3)
        {
            return Err(refuse(
                &format!("output `{}`", output.name),
                &format!("f32 [N, 3, {resolution}, {resolution}]"),
                output.description.clone(),
            ));
        }
    }
    Ok(RefineContract {
        resolution: resolution as u32,
        toned: outputs.iter().any(|spec| spec.name == TONED_NAME),
    })
}

fn describe(specs: &[TensorSpec]) -> String {
    if specs.is_empty() {
        return "none".to_owned();
    }
    specs.iter().map(|s| format!("`{}`: {}", s.name, s.description)).collect::<Vec<_>>().join(", ")
}

/// The `sketch` input among `inputs`, when the others are all in `optional` and none repeats;
/// otherwise a description of what is there.
fn find_inputs<'a>(inputs: &'a [TensorSpec], optional: &[&str]) -> Result<&'a TensorSpec, String> {
    let describe = || {
        if inputs.is_empty() {
            return "none".to_owned();
        }
        inputs
            .iter()
            .map(|s| format!("`{}`: {}", s.name, s.description))
            .collect::<Vec<_>>()
            .join(", ")
    };
    let known = |name: &str| name == INPUT_NAME || optional.contains(&name);
    let repeated = inputs
        .iter()
        .enumerate()
        .any(|(i, a)| inputs[..i].iter().any(|b| b.name == a.name));
    if repeated || !inputs.iter().all(|spec| known(&spec.name)) {
        return Err(describe());
    }
    inputs
        .iter()
        .find(|spec| spec.name == INPUT_NAME)
        .ok_or_else(describe)
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
        check_contract(Path::new("m.onnx"), inputs, outputs, meta)
            .map(|contract| contract.resolution)
            .map_err(|e| e.to_string())
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
        let err = check(&[good_input(16)], &[good_output(16)], &metadata(Some("7"))).unwrap_err();
        assert!(err.contains("m.onnx"), "{err}");
        assert!(err.contains("expected \"1\" or \"2\", found \"7\""), "{err}");
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

    fn hints(h: i64) -> TensorSpec {
        TensorSpec::f32(
            HINTS_NAME,
            &[dyn_n(), Dim::Fixed(4), Dim::Fixed(h), Dim::Fixed(h)],
        )
    }

    fn z(dim: Dim) -> TensorSpec {
        TensorSpec::f32(Z_NAME, &[dyn_n(), dim])
    }

    fn contract(inputs: &[TensorSpec], version: &str) -> Result<Contract, String> {
        check_contract(
            Path::new("m.onnx"),
            inputs,
            &[good_output(16)],
            &metadata(Some(version)),
        )
        .map_err(|e| e.to_string())
    }

    #[test]
    fn version_2_takes_optional_hints_and_code_in_any_order() {
        let full = contract(&[z(Dim::Fixed(8)), good_input(16), hints(16)], "2").unwrap();
        assert_eq!(
            full,
            Contract {
                version: 2,
                resolution: 16,
                takes_hints: true,
                z_dim: 8
            }
        );
        let bare = contract(&[good_input(16)], "2").unwrap();
        assert_eq!((bare.version, bare.takes_hints, bare.z_dim), (2, false, 0));
        let v1 = contract(&[good_input(16)], "1").unwrap();
        assert_eq!((v1.version, v1.takes_hints, v1.z_dim), (1, false, 0));
    }

    #[test]
    fn version_2_refuses_bad_hints_codes_and_strangers() {
        let err = contract(&[good_input(16), hints(32)], "2").unwrap_err();
        assert!(err.contains("input `hints`") && err.contains("[N, 4, 16, 16]"), "{err}");
        let err = contract(&[good_input(16), z(Dim::Fixed(0))], "2").unwrap_err();
        assert!(err.contains("input `z`"), "{err}");
        let err = contract(&[good_input(16), z(Dim::Fixed(MAX_Z_DIM + 1))], "2").unwrap_err();
        assert!(err.contains("input `z`"), "{err}");
        let err = contract(&[good_input(16), hints(16), hints(16)], "2").unwrap_err();
        assert!(err.contains("and no other"), "a repeated input: {err}");
        let err = contract(&[hints(16)], "2").unwrap_err();
        assert!(err.contains("an input `sketch`"), "{err}");
        let err = contract(&[good_input(16), hints(16)], "1").unwrap_err();
        assert!(err.contains("exactly one input named `sketch`"), "{err}");
    }

    #[test]
    fn refuses_resolutions_over_the_limit() {
        let side = MAX_RESOLUTION + 1;
        let err = check(&[good_input(side)], &[good_output(side)], &metadata(Some("1"))).unwrap_err();
        assert!(err.contains("at most 2048"), "{err}");
        assert_eq!(
            check(
                &[good_input(MAX_RESOLUTION)],
                &[good_output(MAX_RESOLUTION)],
                &metadata(Some("1"))
            ),
            Ok(2048)
        );
    }

    fn refine_inputs(h: i64) -> Vec<TensorSpec> {
        vec![
            good_input(h),
            TensorSpec::f32(EXEMPLAR_NAME, &[dyn_n(), Dim::Fixed(3), Dim::Fixed(h), Dim::Fixed(h)]),
            hints(h),
        ]
    }

    fn refine(inputs: &[TensorSpec], outputs: &[TensorSpec], version: Option<&str>) -> Result<u32, String> {
        check_refine_contract(Path::new("r.onnx"), inputs, outputs, &metadata(version))
            .map(|contract| contract.resolution)
            .map_err(|e| e.to_string())
    }

    #[test]
    fn version_3_is_a_refine_model_with_three_inputs() {
        assert_eq!(refine(&refine_inputs(256), &[good_output(256)], Some("3")), Ok(256));
        let mut reordered = refine_inputs(64);
        reordered.reverse();
        assert_eq!(refine(&reordered, &[good_output(64)], Some("3")), Ok(64));
    }

    #[test]
    fn version_3_may_also_give_the_toned_face() {
        let toned = TensorSpec::f32(TONED_NAME, &[dyn_n(), Dim::Fixed(3), Dim::Fixed(64), Dim::Fixed(64)]);
        let check = |outputs: &[TensorSpec]| {
            check_refine_contract(Path::new("r.onnx"), &refine_inputs(64), outputs, &metadata(Some("3"))).unwrap()
        };
        assert_eq!(check(&[good_output(64), toned.clone()]), RefineContract { resolution: 64, toned: true });
        assert_eq!(check(&[toned, good_output(64)]).toned, true);
        assert_eq!(check(&[good_output(64)]), RefineContract { resolution: 64, toned: false });
    }

    #[test]
    fn version_3_refuses_naming_what_is_missing_or_wrong() {
        let out = [good_output(16)];
        for missing in [INPUT_NAME, EXEMPLAR_NAME, HINTS_NAME] {
            let inputs: Vec<_> = refine_inputs(16).into_iter().filter(|s| s.name != missing).collect();
            let err = refine(&inputs, &out, Some("3")).unwrap_err();
            assert!(err.contains(&format!("no input `{missing}`")), "{err}");
        }
        let mut grey_exemplar = refine_inputs(16);
        grey_exemplar[1] = TensorSpec::f32(EXEMPLAR_NAME, &[dyn_n(), Dim::Fixed(1), Dim::Fixed(16), Dim::Fixed(16)]);
        let err = refine(&grey_exemplar, &out, Some("3")).unwrap_err();
        assert!(err.contains("input `exemplar`") && err.contains("[N, 3, 16, 16]"), "{err}");
        let mut small_hints = refine_inputs(16);
        small_hints[2] = hints(8);
        assert!(refine(&small_hints, &out, Some("3")).unwrap_err().contains("input `hints`"));
        let mut extra = refine_inputs(16);
        extra.push(z(Dim::Fixed(8)));
        assert!(refine(&extra, &out, Some("3")).unwrap_err().contains("and no other"));
        assert!(refine(&refine_inputs(16), &[good_output(32)], Some("3")).unwrap_err().contains("output `face`"));
        let err = refine(&refine_inputs(16), &[], Some("3")).unwrap_err();
        assert!(err.contains("the output `face`") && err.contains("none"), "{err}");
        let only_toned = [TensorSpec::f32(TONED_NAME, &[dyn_n(), Dim::Fixed(3), Dim::Fixed(16), Dim::Fixed(16)])];
        assert!(refine(&refine_inputs(16), &only_toned, Some("3")).unwrap_err().contains("the output `face`"));
        let small_toned = [good_output(16), TensorSpec::f32(TONED_NAME, &[dyn_n(), Dim::Fixed(3), Dim::Fixed(4), Dim::Fixed(4)])];
        assert!(refine(&refine_inputs(16), &small_toned, Some("3")).unwrap_err().contains("output `toned`"));
        let stranger = [good_output(16), TensorSpec::f32("mask", &[dyn_n(), Dim::Fixed(1)])];
        assert!(refine(&refine_inputs(16), &stranger, Some("3")).unwrap_err().contains("and no other"));
        let err = refine(&refine_inputs(16), &out, Some("2")).unwrap_err();
        assert!(err.contains("a generator"), "{err}");
        assert!(refine(&refine_inputs(16), &out, None).unwrap_err().contains("no such entry"));
    }

    #[test]
    fn a_refine_model_given_as_a_generator_is_told_where_it_belongs() {
        let err = contract(&[good_input(16)], "3").unwrap_err();
        assert!(err.contains("refine model") && err.contains("--stage refined"), "{err}");
    }
}

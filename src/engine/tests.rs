//! Engine tests against the real ONNX Runtime (`make runtime`) and the tiny contract models in
//! `tests/data/contract/` (see the README there for how each was made).

use std::path::{Path, PathBuf};

use image::{GrayImage, Luma, Rgba, RgbaImage};

use super::*;

fn contract_model(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data/contract")
        .join(format!("{name}.onnx"))
}

fn load(name: &str, device: Device) -> Result<Engine, EngineError> {
    Engine::load(
        &contract_model(name),
        &EngineOptions {
            device,
            intra_threads: 1,
        },
    )
}

fn load_error(name: &str) -> String {
    match load(name, Device::Cpu) {
        Ok(_) => panic!("{name}.onnx should be refused"),
        Err(error) => {
            let message = error.to_string();
            assert!(
                matches!(error, EngineError::Contract { .. }),
                "{name}: {message}"
            );
            assert!(
                message.contains(&format!("{name}.onnx")),
                "names the file: {message}"
            );
            message
        }
    }
}

#[test]
fn runtime_is_found_and_loaded_once() {
    let first = init_runtime().expect("ONNX Runtime (run `make runtime`)");
    assert!(first.is_file(), "{}", first.display());
    assert_eq!(init_runtime().unwrap(), first);
}

#[test]
fn valid_model_loads_with_its_metadata() {
    let engine = load("valid", Device::Cpu).unwrap();
    assert_eq!(engine.resolution(), 16);
    assert_eq!(engine.provider(), Provider::Cpu);
    let info = engine.info();
    assert_eq!(
        info.metadata.get(CONTRACT_KEY).map(String::as_str),
        Some("1")
    );
    assert_eq!(
        info.metadata.get(RESOLUTION_KEY).map(String::as_str),
        Some("16")
    );
    assert!(info.metadata.contains_key("sketch2face.note"));
    assert!(info.path.ends_with("valid.onnx"));
}

#[test]
fn valid_model_copies_the_sketch_into_every_channel() {
    // The graph is face = Concat(sketch, sketch, sketch): pre- and post-processing must round-trip.
    let mut engine = load("valid", Device::Cpu).unwrap();
    let sketch = GrayImage::from_fn(16, 16, |x, y| Luma([((x * 16 + y) % 256) as u8]));
    let face = engine.generate(&sketch).unwrap();
    assert_eq!(face.dimensions(), (16, 16));
    for (x, y, pixel) in face.enumerate_pixels() {
        let gray = sketch.get_pixel(x, y)[0];
        for channel in pixel.0 {
            assert!(
                channel.abs_diff(gray) <= 1,
                "({x},{y}): {channel} vs {gray}"
            );
        }
    }
    // A second call reuses the input buffer and gives a fresh answer.
    let white = engine
        .generate(&GrayImage::from_pixel(40, 30, Luma([255])))
        .unwrap();
    assert!(white.pixels().all(|p| p.0 == [255, 255, 255]));
}

#[test]
fn refuses_a_wrong_input_name() {
    let message = load_error("wrong_input_name");
    assert!(
        message.contains("expected exactly one input named `sketch`"),
        "{message}"
    );
    assert!(message.contains("`image`"), "{message}");
}

#[test]
fn refuses_a_wrong_rank() {
    let message = load_error("wrong_rank");
    assert!(
        message.contains("input `sketch`") && message.contains("found f32 [N, 16, 16]"),
        "{message}"
    );
}

#[test]
fn refuses_a_non_square_input() {
    let message = load_error("non_square");
    assert!(
        message.contains("H == W") && message.contains("found f32 [N, 1, 16, 24]"),
        "{message}"
    );
}

#[test]
fn refuses_a_two_channel_output() {
    let message = load_error("two_channel_output");
    assert!(
        message.contains("output `face`") && message.contains("found f32 [N, 2, 16, 16]"),
        "{message}"
    );
}

#[test]
fn refuses_float64_tensors() {
    let message = load_error("wrong_dtype");
    assert!(message.contains("found f64 [N, 1, 16, 16]"), "{message}");
}

#[test]
fn refuses_missing_contract_metadata() {
    let message = load_error("no_contract");
    assert!(
        message.contains("`sketch2face.contract`: expected \"1\" or \"2\", found no such entry"),
        "{message}"
    );
}

#[test]
fn a_refine_model_is_refused_as_a_generator_with_where_it_belongs() {
    let message = load_error("contract_3");
    assert!(
        message.contains("expected \"1\" or \"2\" (a generator), found \"3\": a refine model"),
        "{message}"
    );
    assert!(message.contains("--stage refined"), "{message}");
}

fn load_refine(name: &str) -> Result<RefineNetwork, EngineError> {
    RefineNetwork::load(&contract_model(name), &EngineOptions { device: Device::Cpu, intra_threads: 1 })
}

fn refine_error(name: &str) -> String {
    match load_refine(name) {
        Ok(_) => panic!("{name}.onnx should be refused as a refine model"),
        Err(error) => {
            assert!(matches!(error, EngineError::Contract { .. }), "{name}: {error}");
            error.to_string()
        }
    }
}

#[test]
fn a_contract_3_model_refines_exemplars_as_one_batch_with_the_hints() {
    let mut refine = load_refine("refine_valid").unwrap();
    assert_eq!(refine.resolution(), 16);
    let sketch = GrayImage::from_pixel(64, 64, Luma([255]));
    let exemplars = [
        image::RgbImage::from_pixel(16, 16, image::Rgb([200, 40, 10])),
        image::RgbImage::from_pixel(16, 16, image::Rgb([10, 90, 250])),
    ];
    let plain = refine.refine(&sketch, &[&exemplars[0], &exemplars[1]], None).unwrap();
    assert_eq!(plain.len(), 2);
    assert_eq!(plain[0].face, exemplars[0], "no hints: the exemplar comes back");
    assert_eq!(plain[1].face, exemplars[1]);
    assert!(!refine.toned() && plain.iter().all(|r| r.toned.is_none()), "a model without `toned` gives none");
    // Hints painted on the left half of a 32 px page: fitted like the sketch, they reach the model.
    let hints = RgbaImage::from_fn(32, 32, |x, _| if x < 16 { Rgba([0, 255, 0, 255]) } else { Rgba([0, 0, 0, 0]) });
    let hinted = refine.refine(&sketch, &[&exemplars[0], &exemplars[1]], Some(&hints)).unwrap();
    for refined in &hinted {
        assert_eq!(refined.face.get_pixel(2, 8).0, [0, 255, 0], "hinted pixels take the hint's colour");
    }
    assert_eq!(hinted[1].face.get_pixel(13, 8).0, [10, 90, 250], "unhinted pixels keep the exemplar");
    let wrong = image::RgbImage::new(20, 20);
    let error = refine.refine(&sketch, &[&wrong], None).unwrap_err().to_string();
    assert!(error.contains("an exemplar of 20x20 px, the model takes 16x16"), "{error}");
}

#[test]
fn a_refine_model_with_the_tone_output_gives_both_faces() {
    let mut refine = load_refine("refine_toned").unwrap();
    assert!(refine.toned());
    let sketch = GrayImage::from_pixel(16, 16, Luma([255]));
    let exemplar = image::RgbImage::from_pixel(16, 16, image::Rgb([200, 40, 10]));
    let refined = refine.refine(&sketch, &[&exemplar, &exemplar], None).unwrap();
    assert_eq!(refined.len(), 2);
    for one in &refined {
        assert_eq!(one.face, exemplar);
        // The fixture's `toned` is -face: 200 -> (200 / 127.5 - 1) negated -> 55.
        assert_eq!(one.toned.as_ref().expect("a toned face").get_pixel(3, 3).0, [55, 215, 245]);
    }
    // Only the face shown made into an image: the same faces.
    let toned = refine.refine_shown(&sketch, &[&exemplar], None, Shown::Toned).unwrap();
    assert_eq!(toned, vec![refined[0].toned.clone().unwrap()]);
    assert_eq!(refine.refine_shown(&sketch, &[&exemplar], None, Shown::Face).unwrap(), vec![exemplar.clone()]);
    // A model without the tone head shows its face either way.
    let mut plain = load_refine("refine_valid").unwrap();
    assert_eq!(plain.refine_shown(&sketch, &[&exemplar], None, Shown::Toned).unwrap(), vec![exemplar]);
}

#[test]
fn refine_models_missing_or_misshaping_an_input_are_refused_naming_it() {
    let message = refine_error("contract_3");
    assert!(message.contains("no input `exemplar`"), "{message}");
    let message = refine_error("refine_grey_exemplar");
    assert!(message.contains("input `exemplar`") && message.contains("[N, 3, 16, 16]"), "{message}");
    let message = refine_error("valid");
    assert!(message.contains("expected \"3\" (a refine model), found \"1\": a generator"), "{message}");
}

#[test]
fn a_v1_model_takes_only_the_sketch() {
    let info = load("valid", Device::Cpu).unwrap().info().clone();
    assert_eq!((info.contract, info.takes_hints, info.z_dim), (1, false, 0));
}

#[test]
fn a_v2_model_reports_what_it_takes() {
    let full = load("valid_v2", Device::Cpu).unwrap();
    let info = full.info();
    assert_eq!((info.contract, info.takes_hints, info.z_dim), (2, true, 8));
    let hints_only = load("hints_v2", Device::Cpu).unwrap();
    let info = hints_only.info();
    assert_eq!((info.contract, info.takes_hints, info.z_dim), (2, true, 0));
}

/// A mid-gray sketch, so the face shows the hint colour where painted and gray elsewhere.
fn gray_sketch() -> GrayImage {
    GrayImage::from_pixel(16, 16, Luma([128]))
}

#[test]
fn inputs_the_caller_leaves_out_are_zeros() {
    let mut engine = load("valid_v2", Device::Cpu).unwrap();
    let face = engine.generate(&gray_sketch()).unwrap();
    assert!(face.pixels().all(|p| p.0 == [128, 128, 128]), "no hints, z = 0: the sketch");
}

#[test]
fn hints_reach_the_model_where_painted_and_only_there() {
    let mut engine = load("valid_v2", Device::Cpu).unwrap();
    // Painted: the left half red; alpha 0 on the right half (its colour must be ignored).
    let hints = RgbaImage::from_fn(16, 16, |x, _| {
        if x < 8 {
            Rgba([200, 30, 10, 255])
        } else {
            Rgba([0, 255, 0, 0])
        }
    });
    let conditions = Conditions {
        hints: Some(&hints),
        z: None,
    };
    let face = engine.generate_with(&gray_sketch(), &conditions).unwrap();
    for (x, _, pixel) in face.enumerate_pixels() {
        let expected = if x < 8 { [200, 30, 10] } else { [128, 128, 128] };
        assert_eq!(pixel.0, expected, "column {x}");
    }
    // Hints at another size are fitted like the sketch: a 64 x 64 image, the same picture.
    let big = image::imageops::resize(&hints, 64, 64, image::imageops::FilterType::Nearest);
    let face = engine
        .generate_with(
            &gray_sketch(),
            &Conditions {
                hints: Some(&big),
                z: None,
            },
        )
        .unwrap();
    assert_eq!(face.get_pixel(2, 5).0, [200, 30, 10]);
    assert_eq!(face.get_pixel(13, 5).0, [128, 128, 128]);
}

#[test]
fn the_code_reaches_the_model_and_a_wrong_length_is_refused() {
    let mut engine = load("valid_v2", Device::Cpu).unwrap();
    let code = [0.2_f32; 8];
    let face = engine
        .generate_with(
            &gray_sketch(),
            &Conditions {
                hints: None,
                z: Some(&code),
            },
        )
        .unwrap();
    // 128 -> 0.0039 in [-1, 1]; + mean(z) 0.2 -> 154 after rounding.
    assert!(face.pixels().all(|p| p.0 == [154, 154, 154]), "{:?}", face.get_pixel(0, 0));
    let error = engine
        .generate_with(
            &gray_sketch(),
            &Conditions {
                hints: None,
                z: Some(&[0.0; 3]),
            },
        )
        .unwrap_err();
    assert!(matches!(error, EngineError::CodeLength { expected: 8, found: 3, .. }), "{error}");
    assert!(error.to_string().contains("valid_v2.onnx"), "{error}");
}

#[test]
fn a_batch_gives_one_face_per_code_in_order() {
    let mut engine = load("valid_v2", Device::Cpu).unwrap();
    let codes = [[0.0_f32; 8], [0.2; 8], [-0.2; 8]];
    let refs: Vec<Option<&[f32]>> = codes.iter().map(|c| Some(&c[..])).collect();
    let faces = engine.generate_batch(&gray_sketch(), None, &refs).unwrap();
    let firsts: Vec<u8> = faces.iter().map(|f| f.get_pixel(3, 3)[0]).collect();
    assert_eq!(firsts, [128, 154, 103]);
    // A model without z ignores codes; the batch still has one face per code.
    let mut hints_only = load("hints_v2", Device::Cpu).unwrap();
    let faces = hints_only.generate_batch(&gray_sketch(), None, &refs).unwrap();
    assert_eq!(faces.len(), 3);
}

#[test]
fn refuses_v2_inputs_that_break_the_contract() {
    let message = load_error("v1_with_hints");
    assert!(message.contains("exactly one input named `sketch`"), "{message}");
    let message = load_error("v2_three_channel_hints");
    assert!(
        message.contains("input `hints`") && message.contains("found f32 [N, 3, 16, 16]"),
        "{message}"
    );
    let message = load_error("v2_dynamic_z");
    assert!(message.contains("input `z`") && message.contains("found f32 [N, Z]"), "{message}");
    let message = load_error("v2_unknown_input");
    assert!(message.contains("`style`") && message.contains("and no other"), "{message}");
}

#[test]
fn refuses_a_huge_resolution_before_allocating() {
    let message = load_error("huge_resolution");
    assert!(
        message.contains("at most 2048") && message.contains("65535"),
        "{message}"
    );
}

#[test]
fn missing_model_is_named() {
    let error = Engine::load(Path::new("no/such/model.onnx"), &EngineOptions::default())
        .err()
        .expect("a missing model must fail");
    assert!(matches!(error, EngineError::ModelNotFound { .. }));
    assert!(error.to_string().contains("no/such/model.onnx"), "{error}");
}

#[test]
fn a_file_that_is_not_onnx_is_refused_with_its_name_and_why() {
    let dir = tempfile::tempdir().unwrap();
    let bogus = dir.path().join("bogus.onnx");
    std::fs::write(&bogus, b"this is not a protobuf").unwrap();
    let png = dir.path().join("face.onnx");
    std::fs::copy(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/golden_face.png"),
        &png,
    )
    .unwrap();
    let empty = dir.path().join("empty.onnx");
    std::fs::write(&empty, b"").unwrap();
    for (path, why) in [
        (&bogus, "the end of a group that was never started (at byte 0)"),
        (&png, "(at byte"),
        (&empty, "the file is empty"),
    ] {
        for device in Device::ALL {
            let options = EngineOptions {
                device,
                intra_threads: 1,
            };
            let error = Engine::load(path, &options).err().expect("garbage must fail");
            assert!(matches!(error, EngineError::NotOnnx { .. }), "{device}: {error}");
            let message = crate::error_chain(&error);
            assert!(
                message.contains(&format!("{} is not an ONNX model", path.display()))
                    && message.contains(why),
                "{message}"
            );
        }
    }
}

#[test]
fn a_folder_is_named_as_a_folder() {
    let dir = tempfile::tempdir().unwrap();
    let error = Engine::load(dir.path(), &EngineOptions::default()).err().unwrap();
    assert!(matches!(error, EngineError::ModelIsFolder { .. }), "{error}");
    assert!(
        error.to_string().contains(&format!("{} is a folder", dir.path().display())),
        "{error}"
    );
}

#[test]
fn an_unreadable_model_says_why() {
    let dir = tempfile::tempdir().unwrap();
    // A path through a file: the system refuses it (ENOTDIR) whoever runs the test.
    let file = dir.path().join("file");
    std::fs::write(&file, b"x").unwrap();
    let error = Engine::load(&file.join("model.onnx"), &EngineOptions::default())
        .err()
        .unwrap();
    assert!(matches!(error, EngineError::ModelUnreadable { .. }), "{error}");
    let message = crate::error_chain(&error);
    assert!(
        message.contains("cannot read model file") && message.contains("Not a directory"),
        "{message}"
    );

    // Permissions: only a user other than root can be refused by them.
    use std::os::unix::fs::PermissionsExt;
    let locked = dir.path().join("locked.onnx");
    std::fs::copy(contract_model("valid"), &locked).unwrap();
    std::fs::set_permissions(&locked, std::fs::Permissions::from_mode(0o000)).unwrap();
    if std::fs::read(&locked).is_err() {
        let error = Engine::load(&locked, &EngineOptions::default()).err().unwrap();
        let message = crate::error_chain(&error);
        assert!(
            message.contains("cannot read model file") && message.contains("ermission denied"),
            "{message}"
        );
    }
}

#[test]
fn a_model_that_reads_other_files_is_refused_before_onnx_runtime_opens_it() {
    for (name, location) in [
        ("external_initializer", "external_bias.bin"),
        ("external_constant", "external_bias.bin"),
        ("external_subgraph", "external_bias.bin"),
        ("external_outside", "../../../Cargo.toml"),
    ] {
        let error = load(name, Device::Cpu).err().expect("refused");
        assert!(
            matches!(error, EngineError::ExternalData { count: 1, .. }),
            "{name}: {error}"
        );
        let message = error.to_string();
        assert!(
            message.contains(&format!("{name}.onnx"))
                && message.contains(&format!("`bias` in \"{location}\""))
                && message.contains("--allow-external-data"),
            "{message}"
        );
    }
}

#[test]
fn external_data_is_read_from_the_model_folder_only_when_allowed() {
    let options = EngineOptions {
        device: Device::Cpu,
        intra_threads: 1,
    };
    let allowed = |name: &str| {
        Engine::load_with(&contract_model(name), &options, ExternalData::Allow)
    };
    let mut engine = allowed("external_initializer").unwrap();
    let face = engine.generate(&gray_sketch()).unwrap();
    assert!(face.pixels().all(|p| p.0 == [128, 128, 128]), "the sketch plus a bias of 0");
    // ONNX Runtime itself refuses a file outside the model's folder.
    let error = allowed("external_outside").err().expect("refused by ONNX Runtime");
    assert!(matches!(error, EngineError::Session { .. }), "{error}");
    let message = crate::error_chain(&error);
    assert!(message.contains("escapes model directory"), "{message}");
}

#[test]
fn a_model_that_fails_at_run_time_is_an_error_not_an_abort() {
    let mut reshape = load("runtime_reshape", Device::Cpu).unwrap();
    let error = reshape.generate(&gray_sketch()).unwrap_err();
    assert!(matches!(error, EngineError::Run { .. }), "{error}");
    let message = crate::error_chain(&error);
    assert!(
        message.contains("runtime_reshape.onnx") && message.contains("Reshape"),
        "{message}"
    );
    // The engine is still usable after a failed run (and fails the same way).
    assert!(reshape.generate(&gray_sketch()).is_err());

    let mut tiled = load("runtime_output_shape", Device::Cpu).unwrap();
    let error = tiled.generate(&gray_sketch()).unwrap_err();
    assert!(matches!(error, EngineError::OutputShape { .. }), "{error}");
    let message = crate::error_chain(&error);
    assert!(
        message.contains("runtime_output_shape.onnx")
            && message.contains("expected shape [1, 3, 16, 16], found [1, 3, 32, 32]"),
        "{message}"
    );
}

#[test]
fn a_batch_too_large_for_memory_is_refused_before_allocating() {
    let mut engine = load("valid_v2", Device::Cpu).unwrap();
    // 300,000 faces of hints [4, 16, 16] would be 1.2 GB of f32.
    let codes = vec![None; 300_000];
    let error = engine.generate_batch(&gray_sketch(), None, &codes).unwrap_err();
    assert!(
        matches!(error, EngineError::TensorTooLarge { tensor: "hints", .. }),
        "{error}"
    );
    assert!(
        error.to_string().contains("[300000, 4, 16, 16]") && error.to_string().contains("valid_v2.onnx"),
        "{error}"
    );
}

/// This machine has no GPU and `make runtime` fetches the CPU-only build: `Auto` must fall back.
/// On a machine where CUDA works, `Auto` must pick it, and `Cuda` must succeed.
#[test]
fn auto_falls_back_to_the_cpu_and_cuda_says_why_it_cannot_run() {
    let auto = load("valid", Device::Auto).unwrap();
    match load("valid", Device::Cuda) {
        Ok(cuda) => {
            assert_eq!(cuda.provider(), Provider::Cuda);
            assert_eq!(auto.provider(), Provider::Cuda);
        }
        Err(error) => {
            assert_eq!(auto.provider(), Provider::Cpu);
            assert!(auto.cuda_error().is_some(), "Auto records why CUDA failed");
            assert!(
                matches!(error, EngineError::CudaUnavailable { .. }),
                "{error}"
            );
            let message = format!("{:#}", anyhow::Error::new(error));
            assert!(
                message.contains("CUDA cannot be used") && message.contains("valid.onnx"),
                "{message}"
            );
            assert!(message.contains("--device cpu"), "{message}");
        }
    }
}

#[test]
fn device_names_parse_and_print() {
    for device in Device::ALL {
        assert_eq!(device.to_string().parse::<Device>(), Ok(device));
    }
    assert_eq!("CUDA".parse::<Device>(), Ok(Device::Cuda));
    assert!(
        "gpu"
            .parse::<Device>()
            .unwrap_err()
            .contains("auto, cpu or cuda")
    );
    assert_eq!(Provider::Cuda.to_string(), "CUDA");
    assert_eq!(Provider::Cpu.to_string(), "CPU");
}

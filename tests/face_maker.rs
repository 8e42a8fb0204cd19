//! What the app's worker and the server paint with (`FaceMaker`), on the real shipped models and
//! the real ONNX Runtime: face pipeline v3 paints a drawing that is a face, with four different
//! people in the strip and a pinned person kept while the drawing grows; the v2 generator
//! stands in while the drawing is no face yet, and when the pipeline cannot load (saying why).

use std::path::{Path, PathBuf};

use sketch2face::engine::{
    Device, EngineOptions, FaceMaker, FaceOrder, PipelineModels, Painter, Seed, default_model_path,
};
use sketch2face::sketch::{Drawing, drawing_from_json, load_sketch_file, rasterize};

fn project(relative: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(relative)
}

fn cpu() -> EngineOptions {
    EngineOptions { device: Device::Cpu, intra_threads: 2 }
}

fn maker() -> FaceMaker {
    sketch2face::engine::init_runtime().unwrap();
    let maker = FaceMaker::load(&default_model_path(), Some(&PipelineModels::shipped()), &cpu()).unwrap();
    assert!(maker.pipeline().is_some(), "the shipped pipeline loads: {:?}", maker.pipeline_error());
    maker
}

fn drawing() -> image::GrayImage {
    load_sketch_file(&project("assets/sketches/face_oval_short_hair.png")).unwrap()
}

fn order(sketch: &image::GrayImage, following: bool) -> FaceOrder<'_> {
    FaceOrder { sketch, hints: None, following }
}

#[test]
fn a_drawing_of_a_face_gets_a_real_person_and_no_face_yet_gets_the_generators_face() {
    let mut maker = maker();
    let sketch = drawing();
    let made = maker.face(&order(&sketch, false), Seed(3), None, None).unwrap();
    assert_eq!(made.painter, Painter::Pipeline);
    assert!(made.person.is_some_and(|p| p < maker.pipeline().unwrap().bank().face_count()));
    assert_eq!(made.face.dimensions(), (256, 256));

    // A wave is ink but no face: the generator paints, so the user still sees a face.
    maker.reset();
    let mut wave = image::GrayImage::from_pixel(512, 512, image::Luma([255]));
    for x in 100..400 {
        let y = (256.0 + 120.0 * (x as f32 / 9.0).sin()) as u32;
        for dy in 0..4 {
            wave.put_pixel(x, y + dy, image::Luma([0]));
        }
    }
    let made = maker.face(&order(&wave, false), Seed(3), None, None).unwrap();
    assert_eq!((made.painter, made.person), (Painter::Generator, None));
    let resolution = maker.generator().resolution();
    assert_eq!(made.face.dimensions(), (resolution, resolution));
}

#[test]
fn the_strip_is_four_different_people_and_a_pinned_one_stays_while_the_drawing_grows() {
    let mut maker = maker();
    let sketch = drawing();
    let seeds = [Seed(11), Seed(12), Seed(13), Seed(14)];
    let strip = maker.variations(&order(&sketch, false), &seeds).unwrap();
    let people: Vec<usize> = strip.iter().map(|made| made.person.expect("a bank face")).collect();
    let mut distinct = people.clone();
    distinct.sort();
    distinct.dedup();
    assert_eq!(distinct.len(), 4, "four different people: {people:?}");
    assert_eq!(strip.iter().map(|made| made.seed).collect::<Vec<_>>(), seeds);
    // Different people look different: the mean pixel difference between two is large.
    let difference = |a: &image::RgbImage, b: &image::RgbImage| {
        a.as_raw().iter().zip(b.as_raw()).map(|(x, y)| f64::from(x.abs_diff(*y))).sum::<f64>() / a.as_raw().len() as f64
    };
    assert!(difference(&strip[0].face, &strip[1].face) > 10.0);

    // Pin the third person, then draw the face stroke by stroke from nothing: every face that
    // is the pipeline's is that person, whatever the seed would choose.
    let pinned = people[2];
    let json = std::fs::read_to_string(project("tests/data/replay_drawing.json")).unwrap();
    let full = drawing_from_json(&json).unwrap();
    maker.reset();
    let mut partial = Drawing::default();
    let mut pipeline_faces = 0;
    for stroke in &full.strokes {
        partial = partial.with_stroke((**stroke).clone());
        let page = rasterize(&partial, 512);
        let made = maker.face(&order(&page, true), Seed(11), Some(pinned), None).unwrap();
        if made.painter == Painter::Pipeline {
            assert_eq!(made.person, Some(pinned));
            pipeline_faces += 1;
        }
    }
    assert!(pipeline_faces > 0, "the finished drawing is a face");
}

#[test]
fn a_pipeline_that_cannot_load_says_why_and_the_generator_paints_every_face() {
    sketch2face::engine::init_runtime().unwrap();
    let broken = PipelineModels { refine: project("tests/data/contract/missing-refine.onnx"), ..PipelineModels::shipped() };
    let mut maker = FaceMaker::load(&default_model_path(), Some(&broken), &cpu()).unwrap();
    assert!(maker.pipeline().is_none());
    let why = maker.pipeline_error().expect("a reason");
    assert!(why.contains("missing-refine.onnx"), "{why}");
    let made = maker.face(&order(&drawing(), false), Seed(1), None, None).unwrap();
    assert_eq!(made.painter, Painter::Generator);
    let strip = maker.variations(&order(&drawing(), false), &[Seed(1), Seed(2)]).unwrap();
    assert!(strip.iter().all(|made| made.painter == Painter::Generator));
    // The generator alone (no pipeline asked for) gives no reason: nothing failed.
    let alone = FaceMaker::load(&default_model_path(), None, &cpu()).unwrap();
    assert!(alone.pipeline().is_none() && alone.pipeline_error().is_none());
}

fn photo(name: &str) -> image::RgbImage {
    image::open(project(&format!("tests/data/sketchify/{name}"))).unwrap().into_rgb8()
}

/// Two copies of a face side by side (the second mirrored): a photo with two faces.
fn two_faces() -> image::RgbImage {
    let face = photo("astronaut_face.png");
    let (width, height) = face.dimensions();
    let mut both = image::RgbImage::new(2 * width, height);
    image::imageops::replace(&mut both, &face, 0, 0);
    image::imageops::replace(&mut both, &image::imageops::flip_horizontal(&face), i64::from(width), 0);
    both
}

fn mean_colour(image: &image::RgbImage) -> [f64; 3] {
    let mut sum = [0.0; 3];
    // The middle of the face frame: skin, eyes, mouth.
    for y in 96..176 {
        for x in 88..168 {
            let pixel = image.get_pixel(x, y).0;
            for c in 0..3 {
                sum[c] += f64::from(pixel[c]);
            }
        }
    }
    sum.map(|v| v / (80.0 * 80.0))
}

#[test]
fn a_photo_of_one_face_is_the_look_and_the_face_takes_its_colours_on_the_drawings_geometry() {
    let mut maker = maker();
    let look = maker.read_look(&photo("astronaut_face.png")).unwrap();
    assert_eq!(look.image.dimensions(), (256, 256));
    assert!(look.presence >= 0.5, "{}", look.presence);
    // Aligned like a bank face: its eyes where the bank's mean face has them.
    let template = maker.pipeline().unwrap().bank().shape().mean().clone();
    let eyes = |mesh: &sketch2face::face::Mesh| {
        [mesh.points()[sketch2face::face::LEFT_EYE_OUTER], mesh.points()[sketch2face::face::RIGHT_EYE_OUTER]]
    };
    for (found, mean) in eyes(&look.mesh).iter().zip(eyes(&template)) {
        let off = (found[0] - mean[0]).hypot(found[1] - mean[1]);
        assert!(off < 0.15 * template.eye_distance(), "eye {found:?} vs the mean face's {mean:?}");
    }

    let sketch = drawing();
    let with_look = maker.face(&order(&sketch, false), Seed(5), None, Some(&look)).unwrap();
    let without = maker.face(&order(&sketch, false), Seed(5), None, None).unwrap();
    assert_eq!((with_look.painter, with_look.person), (Painter::Pipeline, None));
    assert_ne!(with_look.face, without.face, "the look changed nothing");
    assert_ne!(with_look.face, look.image, "the photo pasted, not moved onto the drawing");

    // The face takes the photo's colours: the same photo with red and blue swapped gives a
    // bluer face, by about as much as the photos differ.
    let mut swapped = photo("astronaut_face.png");
    swapped.pixels_mut().for_each(|p| p.0.swap(0, 2));
    let blue_look = maker.read_look(&swapped).unwrap();
    let with_blue = maker.face(&order(&sketch, false), Seed(5), None, Some(&blue_look)).unwrap();
    let blueness = |image: &image::RgbImage| {
        let [r, _, b] = mean_colour(image);
        b - r
    };
    let (photos, faces) = (blueness(&blue_look.image) - blueness(&look.image), blueness(&with_blue.face) - blueness(&with_look.face));
    assert!(photos > 40.0, "the swapped photo is bluer: {photos:.1}");
    assert!(faces > 0.5 * photos, "the faces differ by {faces:.1} levels of blue over red, the photos by {photos:.1}");
}

#[test]
fn a_photo_without_a_face_or_with_two_is_refused_with_the_reason() {
    let mut maker = maker();
    for (name, image) in [("a cup", photo("coffee.png")), ("a cat", photo("chelsea.png")), ("a rocket", photo("rocket.png"))] {
        let error = maker.read_look(&image).unwrap_err().to_string();
        assert!(error.starts_with("no face found in the photo"), "{name}: {error}");
    }
    let error = maker.read_look(&two_faces()).unwrap_err().to_string();
    assert!(error.starts_with("2 faces found in the photo"), "{error}");
    let error = maker.read_look(&image::RgbImage::new(0, 0)).unwrap_err().to_string();
    assert_eq!(error, "the photo is empty");
    // Without the pipeline there is no look, and it says so.
    let mut alone = FaceMaker::load(&default_model_path(), None, &cpu()).unwrap();
    let error = alone.read_look(&photo("astronaut_face.png")).unwrap_err().to_string();
    assert!(error.contains("needs the face pipeline"), "{error}");
}

#[test]
fn generate_with_a_look_writes_the_face_and_refuses_a_photo_without_one() {
    let out = tempfile::tempdir().unwrap();
    let sketch = project("assets/sketches/face_oval_short_hair.png");
    let mut command = assert_cmd::cargo::cargo_bin_cmd!("sketch2face");
    command.args(["generate", "--device", "cpu", "--look"]).arg(project("tests/data/sketchify/astronaut_face.png"));
    command.arg(&sketch).arg("--out").arg(out.path());
    let output = command.output().unwrap();
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    let face = image::open(out.path().join("face_oval_short_hair.png")).unwrap();
    assert_eq!((face.width(), face.height()), (256, 256));

    let mut command = assert_cmd::cargo::cargo_bin_cmd!("sketch2face");
    command.args(["generate", "--device", "cpu", "--force", "--look"]).arg(project("tests/data/sketchify/coffee.png"));
    command.arg(&sketch).arg("--out").arg(out.path());
    let output = command.output().unwrap();
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("coffee.png cannot be the look: no face found"), "{stderr}");

    let mut command = assert_cmd::cargo::cargo_bin_cmd!("sketch2face");
    command.args(["generate", "--variations", "4", "--look"]).arg(project("tests/data/sketchify/astronaut_face.png"));
    command.arg(&sketch).arg("--out").arg(out.path());
    let stderr = String::from_utf8_lossy(&command.output().unwrap().stderr).into_owned();
    assert!(stderr.contains("--look and --variations"), "{stderr}");
}

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

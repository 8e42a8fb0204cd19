//! Face pipeline v3, step by step (criterion), on the shipped mesh model, bank and refine model
//! on the CPU:
//!
//! - `mesh`: the mesh network on one 192 px crop (batch 1, 2 intra-op threads), and
//!   `MeshFinder::follow` (one read framed by the last mesh: what a stroke costs) and
//!   `MeshFinder::find` (first guesses + refine passes: what an opened file costs) on a 512 px
//!   drawing;
//! - `warp`: a bank face warped onto a drawing's mesh at 256 px;
//! - `retrieve`: shape coefficients and the choice of one face among the bank's;
//! - `refine`: the refine network on one warped face at 256 px (batch 1, 2 intra-op threads),
//!   without hints and with five painted patches (`network_256_hinted`: the painted colours
//!   matched too); `painted`: those patches' regions found, and one face matched to them;
//! - `pipeline`: `FacePipeline::run` while following a drawing, one seed: `warped_following`
//!   (mesh + plausible + retrieval + warp) and `refined_following` (the same + refine: the whole
//!   pipeline a stroke costs).
//!
//! `cargo bench --bench face` (add `-- warp` to run one group).

use std::hint::black_box;
use std::path::{Path, PathBuf};
use std::time::Duration;

use criterion::{Criterion, criterion_group, criterion_main};
use sketch2face::engine::{
    BANK_FILE, Device, EngineOptions, FacePipeline, MESH_MODEL_FILE, MeshFinder, MeshNetwork, REFINE_MODEL_FILE,
    RefineNetwork, shipped_model_file,
};
use sketch2face::face::{Bank, CropBox, FaceWarp, PaintedRegions, Retriever, Similarity};
use sketch2face::sketch::load_sketch_file;

fn cpu() -> EngineOptions {
    EngineOptions {
        device: Device::Cpu,
        intra_threads: 2,
    }
}

fn drawing() -> image::GrayImage {
    let path: PathBuf = Path::new(env!("CARGO_MANIFEST_DIR")).join("assets/sketches/face_oval_short_hair.png");
    load_sketch_file(&path).expect("the shipped drawing")
}

fn mesh(c: &mut Criterion) {
    let sketch = drawing();
    let mut finder = MeshFinder::new(MeshNetwork::load(&shipped_model_file(MESH_MODEL_FILE), &cpu()).unwrap());
    let found = finder.find(&sketch).unwrap().expect("a face");
    let framed = CropBox::around(&found.mesh, finder.network().roi_scale());
    let mut group = c.benchmark_group("mesh");
    let mut network = MeshNetwork::load(&shipped_model_file(MESH_MODEL_FILE), &cpu()).unwrap();
    group.bench_function("network_one_crop", |b| b.iter(|| network.read(black_box(&sketch), &[framed]).unwrap()));
    group.bench_function("follow_512", |b| b.iter(|| finder.follow(black_box(&sketch)).unwrap()));
    group.bench_function("find_512", |b| b.iter(|| finder.find(black_box(&sketch)).unwrap()));
    group.finish();
}

fn warp(c: &mut Criterion) {
    let bank = Bank::open(shipped_model_file(BANK_FILE)).unwrap();
    let warp = FaceWarp::new(bank.shape().mean(), bank.image_side());
    let (source, source_mesh) = (bank.face_image(0).unwrap(), bank.mesh(0));
    // Another person's mesh, turned a little and moved: a typical drawing's.
    let destination = bank.mesh(bank.face_count() / 2).transformed(&Similarity { a: 0.97, b: 0.08, tx: 4.0, ty: -6.0 });
    c.bench_function("warp/256", |b| b.iter(|| warp.warp(black_box(&source), &source_mesh, &destination)));
    c.bench_function("warp/decode_bank_face", |b| b.iter(|| bank.face_image(black_box(7)).unwrap()));
}

fn retrieve(c: &mut Criterion) {
    let bank = Bank::open(shipped_model_file(BANK_FILE)).unwrap();
    let mesh = bank.mesh(3);
    let mut retriever = Retriever::new(1);
    c.bench_function("retrieve/choose", |b| {
        b.iter(|| {
            let (coefficients, _) = bank.shape().coefficients(black_box(&mesh));
            let query = sketch2face::face::Query { coefficients, hints: Default::default() };
            retriever.choose(bank.index(), Some(&query)).unwrap()
        })
    });
}

fn refine(c: &mut Criterion) {
    let sketch = drawing();
    let mut pipeline =
        FacePipeline::load(&shipped_model_file(MESH_MODEL_FILE), &shipped_model_file(BANK_FILE), &cpu(), &[1]).unwrap();
    let warped = match pipeline.run(&sketch, None, false).unwrap() {
        sketch2face::engine::PipelineOutput::Faces { mut faces, .. } => faces.remove(0).warped,
        other => panic!("no face in the shipped drawing: {other:?}"),
    };
    let mut refine = RefineNetwork::load(&shipped_model_file(REFINE_MODEL_FILE), &cpu()).unwrap();
    c.bench_function("refine/network_256", |b| b.iter(|| refine.refine(black_box(&sketch), &[&warped], None).unwrap()));
    let hints = painted_hints(sketch.width());
    c.bench_function("refine/network_256_hinted", |b| {
        b.iter(|| refine.refine(black_box(&sketch), &[&warped], Some(&hints)).unwrap())
    });
    // What the painted colours cost on their own: the regions of a hint layer, and one face matched.
    let mut layer = ndarray::Array4::<f32>::zeros((1, 4, 256, 256));
    sketch2face::engine::hints_into(&hints, &mut layer);
    let planes = layer.as_slice().unwrap();
    c.bench_function("painted/regions_256", |b| b.iter(|| PaintedRegions::new(256, black_box(planes)).unwrap()));
    let regions = PaintedRegions::new(256, planes).unwrap();
    c.bench_function("painted/match_256", |b| {
        b.iter_batched_ref(|| warped.clone(), |face| regions.match_colours(face), criterion::BatchSize::SmallInput)
    });
}

/// A hint layer the size of the page, as a user paints one: skin on both cheeks and the forehead,
/// hair across the top, the lips (broad brush patches, five regions).
fn painted_hints(side: u32) -> image::RgbaImage {
    let patches: [([f32; 4], [u8; 3]); 5] = [
        ([0.30, 0.45, 0.42, 0.60], [214, 170, 140]),
        ([0.58, 0.45, 0.70, 0.60], [214, 170, 140]),
        ([0.38, 0.22, 0.62, 0.30], [220, 176, 146]),
        ([0.25, 0.05, 0.75, 0.14], [92, 60, 38]),
        ([0.44, 0.70, 0.56, 0.74], [170, 70, 70]),
    ];
    image::RgbaImage::from_fn(side, side, |x, y| {
        let (u, v) = (x as f32 / side as f32, y as f32 / side as f32);
        match patches.iter().find(|([x0, y0, x1, y1], _)| (*x0..*x1).contains(&u) && (*y0..*y1).contains(&v)) {
            Some((_, [r, g, b])) => image::Rgba([*r, *g, *b, 255]),
            None => image::Rgba([0, 0, 0, 0]),
        }
    })
}

fn pipeline(c: &mut Criterion) {
    let sketch = drawing();
    let mut pipeline =
        FacePipeline::load(&shipped_model_file(MESH_MODEL_FILE), &shipped_model_file(BANK_FILE), &cpu(), &[1]).unwrap();
    pipeline.run(&sketch, None, true).unwrap();
    c.bench_function("pipeline/warped_following", |b| b.iter(|| pipeline.run(black_box(&sketch), None, true).unwrap()));
    let mut refined = FacePipeline::load_refined(
        &shipped_model_file(MESH_MODEL_FILE),
        &shipped_model_file(BANK_FILE),
        &shipped_model_file(REFINE_MODEL_FILE),
        &cpu(),
        &[1],
    )
    .unwrap();
    refined.run(&sketch, None, true).unwrap();
    c.bench_function("pipeline/refined_following", |b| b.iter(|| refined.run(black_box(&sketch), None, true).unwrap()));
}

criterion_group! {
    name = face;
    config = Criterion::default().measurement_time(Duration::from_secs(4)).warm_up_time(Duration::from_secs(1));
    targets = mesh, warp, retrieve, refine, pipeline
}
criterion_main!(face);

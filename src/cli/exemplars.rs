//! `sketch2face exemplars`: the refine network's training inputs (issue 25), made by the same
//! retrieval and warp the app runs. For each training photo P (given by its face mesh), bank
//! faces Q other than P are chosen the way the app chooses (mostly among P's good matches,
//! sometimes a poorer or a random one, as a user's drawing sometimes gets) and warped onto P's
//! mesh, made plausible and jittered by about the mesh model's error, as the app's meshes are.
//! Some exemplars are made for the photo zoomed out (a head drawn smaller than the canvas
//! framing, where the warp stretches the bank photo's edges): the zoom is written beside the
//! choice, and the training side zooms the photo the same way.

use std::fs::File;
use std::io::{BufReader, BufWriter, Write as _};
use std::path::PathBuf;

use anyhow::{Context, ensure};
use clap::Args;
use serde::Serialize;

use super::npy;
use crate::engine::{BANK_FILE, FACE_SIDE, shipped_model_file};
use crate::sketch::write_atomically;
use crate::face::{Bank, FaceWarp, MESH_POINTS, Mesh, NEAREST, Query, Similarity};

/// Faces ranked per photo; choices past the good set come from here.
const RANKED: usize = 64;
const IDENTITY: [f32; 4] = [1.0, 0.0, 0.0, 0.0];

/// `sketch2face exemplars`
#[derive(Args, Clone, Debug)]
pub struct ExemplarsArgs {
    /// The photos' face meshes: .npy float32 [N, P, 2], P >= 468 (MediaPipe's order; the first 468 are used), in the pixels of a --side px photo
    #[arg(long, value_name = "FILE")]
    pub meshes: PathBuf,

    /// The side of the photos the meshes are in (scaled to the pipeline's 256 px)
    #[arg(long, default_value_t = FACE_SIDE, value_name = "PX")]
    pub side: u32,

    /// The split of the bank's source data the photos are (e.g. `train` for CelebA's train split): a bank face made from the same photo is never chosen for it
    #[arg(long, value_name = "SPLIT")]
    pub same_source_split: Option<String>,

    /// Exemplars per photo, each a different bank face
    #[arg(long, default_value_t = 2, value_name = "K", value_parser = clap::value_parser!(u32).range(1..=16))]
    pub per_photo: u32,

    /// The face bank [default: models/bank-v3.s2fb beside the executable, else in the project]
    #[arg(long, value_name = "PATH")]
    pub bank: Option<PathBuf>,

    /// Seeds the choices and the jitter: the same seed gives the same file
    #[arg(long, default_value_t = 0)]
    pub seed: u64,

    /// Output: .npy uint8 [N, K, 256, 256, 3], RGB
    #[arg(long, value_name = "FILE")]
    pub out: PathBuf,

    /// How often an exemplar is made for the photo zoomed out (scaled by 0.5 to 0.9 about its face, and moved a little)
    #[arg(long, default_value_t = 0.0, value_name = "P")]
    pub zoom_out: f32,

    /// Output: JSON, per photo the bank faces chosen ({"face", "rank", "distance", "zoom": [a, b, tx, ty]}: the zoom maps the photo's pixels onto the exemplar's, x' = a x - b y + tx, y' = b x + a y + ty; face -1 where the mesh was not finite, the image then grey)
    #[arg(long, value_name = "FILE")]
    pub choices: PathBuf,
}

#[derive(Serialize)]
struct Chosen {
    face: i64,
    /// Its place among P's nearest faces (0 = nearest); -1 when drawn at random from the bank.
    rank: i64,
    distance: f32,
    /// The zoom the exemplar was made for (identity: none), in the pipeline's 256 px frame.
    zoom: [f32; 4],
}

pub fn exemplars(args: &ExemplarsArgs) -> anyhow::Result<()> {
    let bank_path = args.bank.clone().unwrap_or_else(|| shipped_model_file(BANK_FILE));
    let bank = Bank::open(&bank_path).with_context(|| format!("cannot load the face bank {}", bank_path.display()))?;
    ensure!(bank.image_side() == FACE_SIDE, "the bank's faces are {} px, {FACE_SIDE} are needed", bank.image_side());
    let file = File::open(&args.meshes).with_context(|| format!("cannot open {}", args.meshes.display()))?;
    let len = file.metadata()?.len();
    let meshes = npy::read_f32(BufReader::new(file), len).with_context(|| format!("cannot read {}", args.meshes.display()))?;
    ensure!(
        meshes.shape.len() == 3 && meshes.shape[1] >= MESH_POINTS && meshes.shape[2] == 2,
        "{}: meshes of shape [N, >= {MESH_POINTS}, 2] are needed, the array is {:?}",
        args.meshes.display(),
        meshes.shape
    );
    ensure!(args.side > 0, "--side must be positive");
    let (count, stride) = (meshes.shape[0], meshes.shape[1] * 2);
    let per_photo = args.per_photo as usize;
    let to_face = Similarity::scaling(FACE_SIDE as f32 / args.side as f32);
    let warp = FaceWarp::new(bank.shape().mean(), FACE_SIDE);
    let side = FACE_SIDE as usize;
    let grey = vec![128u8; side * side * 3];
    let mut all_choices: Vec<Vec<Chosen>> = Vec::with_capacity(count);
    let mut failure = None;
    let written = write_atomically(&args.out, |file| {
        let mut writer = BufWriter::with_capacity(1 << 22, file);
        npy::write_u8_header(&mut writer, &[count, per_photo, side, side, 3])?;
        for photo in 0..count {
            let flat = &meshes.data[photo * stride..photo * stride + MESH_POINTS * 2];
            let Ok(mesh) = Mesh::from_flat(flat) else {
                for _ in 0..per_photo {
                    writer.write_all(&grey)?;
                }
                all_choices.push((0..per_photo).map(|_| Chosen { face: -1, rank: -1, distance: f32::NAN, zoom: IDENTITY }).collect());
                continue;
            };
            let mesh = bank.shape().plausible(&mesh.transformed(&to_face));
            let mut random = Random::new(args.seed, photo as u64);
            let mut chosen = match choose(&bank, &mesh, photo, per_photo, args.same_source_split.as_deref(), &mut random) {
                Ok(chosen) => chosen,
                Err(error) => {
                    failure = Some(error.context(format!("photo {photo}")));
                    return Err(std::io::Error::other("retrieval failed"));
                }
            };
            for choice in &mut chosen {
                let face = choice.face as usize;
                let image = match bank.face_image(face) {
                    Ok(image) => image,
                    Err(error) => {
                        failure = Some(anyhow::Error::new(error).context(format!("bank face {face}")));
                        return Err(std::io::Error::other("bank face unreadable"));
                    }
                };
                let zoom = match random.unit() < args.zoom_out {
                    true => random.zoom_out(&mesh),
                    false => Similarity::IDENTITY,
                };
                choice.zoom = [zoom.a, zoom.b, zoom.tx, zoom.ty];
                let zoomed = mesh.transformed(&zoom);
                let destination = zoomed.transformed(&random.jitter(&zoomed));
                writer.write_all(warp.warp(&image, &bank.mesh(face), &destination).as_raw())?;
            }
            all_choices.push(chosen);
            if (photo + 1) % 1000 == 0 {
                eprintln!("exemplars: {} of {count} photos", photo + 1);
            }
        }
        writer.flush()
    });
    if let Some(failure) = failure {
        return Err(failure);
    }
    written.with_context(|| format!("cannot write {}", args.out.display()))?;
    let choices = serde_json::to_vec(&all_choices)?;
    write_atomically(&args.choices, |file| file.write_all(&choices))
        .with_context(|| format!("cannot write {}", args.choices.display()))?;
    println!("{count} photos x {per_photo} exemplars -> {}", args.out.display());
    Ok(())
}

/// `per_photo` different bank faces for the photo `photo` of `mesh`, none made from that photo:
/// 60% from the good set the app's seeds pick from, 25% further down the ranking, 15% anyone.
fn choose(
    bank: &Bank,
    mesh: &Mesh,
    photo: usize,
    per_photo: usize,
    same_source_split: Option<&str>,
    random: &mut Random,
) -> anyhow::Result<Vec<Chosen>> {
    let sources = &bank.metadata().faces;
    let same_photo = |face: usize| {
        let source = &sources[face];
        same_source_split == Some(source.split.as_str()) && source.index == photo
    };
    ensure!(bank.face_count() > per_photo + 1, "the bank has too few faces for {per_photo} per photo");
    let (coefficients, _) = bank.shape().coefficients(mesh);
    let query = Query { coefficients, hints: Default::default() };
    let ranked: Vec<_> = bank.index().nearest(&query, RANKED + 1)?.into_iter().filter(|c| !same_photo(c.face)).collect();
    let good = NEAREST.min(ranked.len());
    let mut chosen: Vec<Chosen> = Vec::with_capacity(per_photo);
    while chosen.len() < per_photo {
        let pick = random.unit();
        let candidate = if pick < 0.6 || ranked.len() <= good {
            let rank = random.below(good);
            Chosen { face: ranked[rank].face as i64, rank: rank as i64, distance: ranked[rank].distance, zoom: IDENTITY }
        } else if pick < 0.85 {
            let rank = good + random.below(ranked.len() - good);
            Chosen { face: ranked[rank].face as i64, rank: rank as i64, distance: ranked[rank].distance, zoom: IDENTITY }
        } else {
            let face = random.below(bank.face_count());
            Chosen { face: face as i64, rank: -1, distance: bank.index().distance(&query, face)?, zoom: IDENTITY }
        };
        if !same_photo(candidate.face as usize) && chosen.iter().all(|c| c.face != candidate.face) {
            chosen.push(candidate);
        }
    }
    Ok(chosen)
}

/// SplitMix64 on (seed, photo): each photo's choices do not depend on the photos before it.
struct Random(u64);

impl Random {
    fn new(seed: u64, photo: u64) -> Random {
        Random(seed ^ photo.wrapping_mul(0xD1B5_4A32_D192_ED03))
    }

    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut x = self.0;
        x = (x ^ (x >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        x = (x ^ (x >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        x ^ (x >> 31)
    }

    /// Uniform in [0, 1).
    fn unit(&mut self) -> f32 {
        (self.next() >> 40) as f32 / (1u64 << 24) as f32
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }

    fn symmetric(&mut self, half_width: f32) -> f32 {
        (self.unit() * 2.0 - 1.0) * half_width
    }

    /// A head drawn smaller than the canvas framing: scaled by 0.5 to 0.9 about the face's
    /// centroid, moved by up to a tenth of the image, never out of it.
    fn zoom_out(&mut self, mesh: &Mesh) -> Similarity {
        let scale = 0.5 + 0.4 * self.unit();
        let [cx, cy] = mesh.centroid();
        let side = FACE_SIDE as f32;
        let (shift_x, shift_y) = (self.symmetric(0.1 * side), self.symmetric(0.1 * side));
        Similarity { a: scale, b: 0.0, tx: cx * (1.0 - scale) + shift_x, ty: cy * (1.0 - scale) + shift_y }
    }

    /// A small similarity about the mesh's centroid: the mesh model's error on sketches is about
    /// 0.03 eye distances (NME median), a few pixels at the canvas framing.
    fn jitter(&mut self, mesh: &Mesh) -> Similarity {
        let eyes = mesh.eye_distance();
        let scale = 1.0 + self.symmetric(0.03);
        let angle = self.symmetric(2.5_f32.to_radians());
        let (shift_x, shift_y) = (self.symmetric(0.03 * eyes), self.symmetric(0.03 * eyes));
        let (a, b) = (scale * angle.cos(), scale * angle.sin());
        let [cx, cy] = mesh.centroid();
        // x' = a x - b y + tx, y' = b x + a y + ty, with the centroid fixed (then shifted).
        Similarity { a, b, tx: cx - (a * cx - b * cy) + shift_x, ty: cy - (b * cx + a * cy) + shift_y }
    }
}

//! [`ShapeModel`]: the shapes of real faces as a mean mesh and a few directions of variation
//! (principal components), so that a mesh becomes a short vector of coefficients, and any vector
//! within a few standard deviations becomes a face.
//!
//! `training/bank.py` builds it (generalised Procrustes analysis of the CelebA train meshes onto
//! their mean, then PCA) and the bank file carries it (the face spec's "Shape model"):
//! - `mean`: 468 points in the 256 px bank frame (eyes level, 76.8 px apart about (128, 107.52));
//! - `basis`: `k` orthonormal vectors of 936 numbers, laid out `x0, y0, x1, y1, ...`;
//! - `sd`: each component's standard deviation over the train meshes (the root of its eigenvalue).
//!
//! A mesh's coefficients are measured in the mean's frame: the least-squares similarity
//! ([`Similarity::fit`]) takes the mesh onto the mean, and the aligned mesh's offsets from the
//! mean are projected on the basis. The Python side computes the bank's coefficients the same way.

use super::mesh::{MESH_POINTS, Mesh, MeshError, Similarity};

/// The most components a shape model may have.
pub const MAX_COMPONENTS: usize = 256;
/// [`ShapeModel::plausible`] keeps each coefficient within this many standard deviations.
pub const PLAUSIBLE_SD: f32 = 3.0;
/// How far the basis may be from orthonormal: the largest allowed error of a dot product of two
/// of its vectors (1 for a vector with itself, 0 for two different ones). The file's f32 numbers
/// are orthonormal to about 1e-6.
pub const ORTHONORMAL_TOLERANCE: f32 = 1e-3;

const FLAT: usize = 2 * MESH_POINTS;

/// Numbers that do not make a shape model.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
pub enum ShapeModelError {
    #[error("the mean shape: {0}")]
    Mean(#[source] MeshError),
    #[error("the mean shape has all its points in one place")]
    DegenerateMean,
    #[error("a shape model has 1 to {MAX_COMPONENTS} components, found {0} standard deviations")]
    Components(usize),
    #[error("{components} shape components need {expected} basis numbers, found {found}")]
    BasisLength { components: usize, expected: usize, found: usize },
    #[error("basis number {0} is not finite")]
    BasisNotFinite(usize),
    #[error("shape components {first} and {second} are not orthonormal: their dot product is {dot}")]
    NotOrthonormal { first: usize, second: usize, dot: f32 },
    #[error("shape component {component} has standard deviation {value}; it must be finite and above 0")]
    BadSd { component: usize, value: f32 },
}

/// A mean shape, an orthonormal basis of its variations and their standard deviations.
#[derive(Clone)]
pub struct ShapeModel {
    mean: Mesh,
    /// Row-major `k x 936`.
    basis: Vec<f32>,
    sd: Vec<f32>,
}

impl std::fmt::Debug for ShapeModel {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The mean's summary and the sd, not the basis's k x 936 numbers.
        f.debug_struct("ShapeModel").field("mean", &self.mean).field("sd", &self.sd).finish_non_exhaustive()
    }
}

impl ShapeModel {
    /// A model from the mean (`x0, y0, ...`, 936 numbers), the basis (`k` rows of 936, row-major)
    /// and the `k` standard deviations; every number finite, the basis orthonormal (within
    /// [`ORTHONORMAL_TOLERANCE`]), every sd above 0.
    pub fn new(mean: Vec<f32>, basis: Vec<f32>, sd: Vec<f32>) -> Result<ShapeModel, ShapeModelError> {
        let mean = Mesh::from_flat(&mean).map_err(ShapeModelError::Mean)?;
        let [cx, cy] = mean.centroid();
        if !mean.points().iter().any(|p| (p[0] - cx).abs() > 1e-3 || (p[1] - cy).abs() > 1e-3) {
            return Err(ShapeModelError::DegenerateMean);
        }
        let components = sd.len();
        if components == 0 || components > MAX_COMPONENTS {
            return Err(ShapeModelError::Components(components));
        }
        if basis.len() != components * FLAT {
            return Err(ShapeModelError::BasisLength { components, expected: components * FLAT, found: basis.len() });
        }
        if let Some(bad) = basis.iter().position(|v| !v.is_finite()) {
            return Err(ShapeModelError::BasisNotFinite(bad));
        }
        if let Some((component, &value)) = sd.iter().enumerate().find(|(_, s)| !(s.is_finite() && **s > 0.0)) {
            return Err(ShapeModelError::BadSd { component, value });
        }
        let rows: Vec<&[f32]> = basis.chunks_exact(FLAT).collect();
        for first in 0..components {
            for second in first..components {
                let dot = dot(rows[first], rows[second]) as f32;
                let want = if first == second { 1.0 } else { 0.0 };
                if !((dot - want).abs() <= ORTHONORMAL_TOLERANCE) {
                    return Err(ShapeModelError::NotOrthonormal { first, second, dot });
                }
            }
        }
        Ok(ShapeModel { mean, basis, sd })
    }

    /// k, the number of coefficients of a mesh.
    pub fn components(&self) -> usize {
        self.sd.len()
    }

    /// The mean shape, in the bank frame.
    pub fn mean(&self) -> &Mesh {
        &self.mean
    }

    /// Each component's standard deviation.
    pub fn sd(&self) -> &[f32] {
        &self.sd
    }

    /// The basis, `k` rows of 936 numbers, row-major.
    pub fn basis(&self) -> &[f32] {
        &self.basis
    }

    /// The mesh's `k` coefficients and the similarity that took it onto the mean (mesh -> mean
    /// frame). A mesh with all its points in one place has no scale or rotation to fit: its
    /// similarity is then the shift of its centroid onto the mean's.
    pub fn coefficients(&self, mesh: &Mesh) -> (Vec<f32>, Similarity) {
        let to_mean = Similarity::fit(mesh.points(), self.mean.points()).unwrap_or_else(|| {
            let ([x, y], [mx, my]) = (mesh.centroid(), self.mean.centroid());
            Similarity { tx: mx - x, ty: my - y, ..Similarity::IDENTITY }
        });
        let aligned = mesh.transformed(&to_mean);
        let offsets: Vec<f32> = aligned
            .points()
            .iter()
            .zip(self.mean.points())
            .flat_map(|(p, m)| [p[0] - m[0], p[1] - m[1]])
            .collect();
        let coefficients = self.basis.chunks_exact(FLAT).map(|row| dot(row, &offsets) as f32).collect();
        (coefficients, to_mean)
    }

    /// The mesh of `coefficients`, in the mean's frame: the mean plus each basis vector times its
    /// coefficient. Coefficients past the model's `k` are ignored; missing ones count as 0.
    pub fn reconstruct(&self, coefficients: &[f32]) -> Mesh {
        let mut flat: Vec<f64> = self.mean.to_flat().iter().map(|&v| f64::from(v)).collect();
        for (row, &c) in self.basis.chunks_exact(FLAT).zip(coefficients) {
            if c != 0.0 {
                for (v, &b) in flat.iter_mut().zip(row) {
                    *v += f64::from(c) * f64::from(b);
                }
            }
        }
        let points: Vec<[f32; 2]> = flat.chunks_exact(2).map(|p| [p[0] as f32, p[1] as f32]).collect();
        // Finite coefficients of a finite model give finite points; anything else is the mean.
        Mesh::new(points).unwrap_or_else(|_| self.mean.clone())
    }

    /// The face nearest to `mesh` that the model finds plausible: its coefficients clamped to
    /// ±[`PLAUSIBLE_SD`] standard deviations, reconstructed, and put back where the mesh was
    /// (the inverse of its similarity onto the mean), so a wild mesh becomes a face of the same
    /// position, size and tilt.
    pub fn plausible(&self, mesh: &Mesh) -> Mesh {
        let (mut coefficients, to_mean) = self.coefficients(mesh);
        for (c, sd) in coefficients.iter_mut().zip(&self.sd) {
            let limit = PLAUSIBLE_SD * sd;
            *c = if c.is_finite() { c.clamp(-limit, limit) } else { 0.0 };
        }
        let face = self.reconstruct(&coefficients);
        let back = to_mean.inverse().unwrap_or_else(|| {
            let ([x, y], [mx, my]) = (mesh.centroid(), self.mean.centroid());
            Similarity { tx: x - mx, ty: y - my, ..Similarity::IDENTITY }
        });
        let placed = face.transformed(&back);
        // A mesh near the limits of f32 can overflow on the way back: keep it at the face's shape.
        Mesh::new(placed.points().to_vec()).unwrap_or(face)
    }
}

fn dot(a: &[f32], b: &[f32]) -> f64 {
    a.iter().zip(b).map(|(x, y)| f64::from(*x) * f64::from(*y)).sum()
}

/// A shape model for tests: the astronaut's mesh (the training tests' fixture) framed like a bank
/// face at `side` px as the mean, and `k` orthonormal basis vectors (pseudo-random, orthogonal
/// to the mean's shifts, scaling and rotation, as PCA of Procrustes-aligned meshes nearly is)
/// with standard deviations falling from 12 px.
#[cfg(test)]
pub(crate) fn test_model(k: usize, side: f32) -> ShapeModel {
    use super::mesh::{LEFT_EYE_OUTER, RIGHT_EYE_OUTER};
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/training/tests/data/astronaut_landmarks.json");
    let json: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    let points: Vec<[f32; 2]> = json["points"].as_array().unwrap()[..MESH_POINTS]
        .iter()
        .map(|p| [p[0].as_f64().unwrap() as f32, p[1].as_f64().unwrap() as f32])
        .collect();
    let mesh = Mesh::new(points).unwrap();
    let (l, r) = (mesh.points()[LEFT_EYE_OUTER], mesh.points()[RIGHT_EYE_OUTER]);
    let half = 0.15 * side;
    let framing = Similarity::fit(&[l, r], &[[0.5 * side - half, 0.42 * side], [0.5 * side + half, 0.42 * side]]).unwrap();
    let mean = mesh.transformed(&framing);
    let [cx, cy] = mean.centroid();
    let flat: Vec<f64> = mean.to_flat().iter().map(|&v| f64::from(v)).collect();
    let mut vectors: Vec<Vec<f64>> = vec![
        (0..FLAT).map(|i| if i % 2 == 0 { 1.0 } else { 0.0 }).collect(),
        (0..FLAT).map(|i| if i % 2 == 1 { 1.0 } else { 0.0 }).collect(),
        flat.chunks_exact(2).flat_map(|p| [p[0] - f64::from(cx), p[1] - f64::from(cy)]).collect(),
        flat.chunks_exact(2).flat_map(|p| [-(p[1] - f64::from(cy)), p[0] - f64::from(cx)]).collect(),
    ];
    let mut state = 0x5eed_u64;
    let mut random = move || {
        // SplitMix64, to a number in -1..1.
        state = state.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = state;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        ((z ^ (z >> 31)) >> 11) as f64 / (1u64 << 52) as f64 - 1.0
    };
    let similarity_directions = vectors.len();
    for i in 0..similarity_directions + k {
        if i >= similarity_directions {
            vectors.push((0..FLAT).map(|_| random()).collect());
        }
        let (done, rest) = vectors.split_at_mut(i);
        let v = &mut rest[0];
        for u in done.iter() {
            let projection: f64 = u.iter().zip(v.iter()).map(|(a, b)| a * b).sum();
            v.iter_mut().zip(u).for_each(|(x, y)| *x -= projection * y);
        }
        let norm = v.iter().map(|x| x * x).sum::<f64>().sqrt();
        v.iter_mut().for_each(|x| *x /= norm);
    }
    let basis = vectors[similarity_directions..].iter().flatten().map(|&v| v as f32).collect();
    let sd = (0..k).map(|i| 12.0 / (1.0 + 0.5 * i as f32)).collect();
    ShapeModel::new(mean.to_flat(), basis, sd).unwrap()
}

#[cfg(test)]
mod tests {
    use super::*;

    const K: usize = 8;

    fn model() -> ShapeModel {
        test_model(K, 256.0)
    }

    /// A similarity of scale `s`, angle `theta` and shift `t`.
    fn similarity(s: f32, theta: f32, t: [f32; 2]) -> Similarity {
        Similarity { a: s * theta.cos(), b: s * theta.sin(), tx: t[0], ty: t[1] }
    }

    #[test]
    fn coefficients_of_the_mean_are_zero_wherever_it_is() {
        let model = model();
        let (coefficients, to_mean) = model.coefficients(model.mean());
        assert!(coefficients.iter().all(|c| c.abs() < 1e-3), "{coefficients:?}");
        assert!((to_mean.scale() - 1.0).abs() < 1e-5 && to_mean.angle().abs() < 1e-5, "{to_mean:?}");
        let moved = model.mean().transformed(&similarity(0.4, -0.5, [30.0, 12.0]));
        let (coefficients, to_mean) = model.coefficients(&moved);
        assert!(coefficients.iter().all(|c| c.abs() < 1e-3), "{coefficients:?}");
        assert!((to_mean.scale() - 2.5).abs() < 1e-4 && (to_mean.angle() - 0.5).abs() < 1e-5, "{to_mean:?}");
    }

    #[test]
    fn a_bank_mesh_moved_elsewhere_comes_back_from_its_coefficients() {
        let model = model();
        let wanted: Vec<f32> = model.sd().iter().enumerate().map(|(i, sd)| sd * [1.5, -1.0, 0.5, -2.0][i % 4]).collect();
        let bank_mesh = model.reconstruct(&wanted);
        assert!(bank_mesh.nme(model.mean()) > 0.005, "the coefficients change the shape: {}", bank_mesh.nme(model.mean()));
        let drawn = bank_mesh.transformed(&similarity(1.8, 0.3, [-40.0, 25.0]));
        let (coefficients, to_mean) = model.coefficients(&drawn);
        // Least squares shrinks a non-mean shape a little onto the mean (by the share of its
        // variance in the offsets, about 0.1 % here): the coefficients come back within 1 %.
        for ((got, want), sd) in coefficients.iter().zip(&wanted).zip(model.sd()) {
            assert!((got - want).abs() < 0.01 * sd + 0.02 * want.abs(), "{coefficients:?} {wanted:?}");
        }
        let back = model.reconstruct(&coefficients).transformed(&to_mean.inverse().unwrap());
        assert!(back.nme(&drawn) < 0.002, "{}", back.nme(&drawn));
        // A coefficient past k is ignored, a missing one is 0.
        assert_eq!(model.reconstruct(&[0.0; K + 3]), model.reconstruct(&[]));
        assert!(model.reconstruct(&[]).nme(model.mean()) < 1e-6);
    }

    #[test]
    fn plausible_makes_a_scrambled_mesh_a_face_where_it_was() {
        let model = model();
        let placed = similarity(2.2, -0.4, [60.0, -35.0]);
        let mut points = model.mean().transformed(&placed).points().to_vec();
        // Scrambled: half the points reversed in order, every fifth flung far away.
        points[..MESH_POINTS / 2].reverse();
        for (i, p) in points.iter_mut().enumerate().step_by(5) {
            p[0] += 300.0 * ((i as f32) * 0.7).sin();
            p[1] -= 200.0 * ((i as f32) * 1.3).cos();
        }
        let wild = Mesh::new(points).unwrap();
        let (wild_coefficients, wild_to_mean) = model.coefficients(&wild);
        let outside = wild_coefficients.iter().zip(model.sd()).filter(|(c, sd)| c.abs() > PLAUSIBLE_SD * *sd).count();
        assert!(outside >= K / 2, "the scrambled mesh is far from a face: {wild_coefficients:?}");

        let face = model.plausible(&wild);
        let (coefficients, to_mean) = model.coefficients(&face);
        for (c, sd) in coefficients.iter().zip(model.sd()) {
            assert!(c.abs() <= PLAUSIBLE_SD * sd * 1.001, "{coefficients:?}");
        }
        // Where the wild mesh was: the same similarity onto the mean (scale within 2 %, angle
        // within 0.01 rad, the centre within a pixel of the mean frame).
        let difference = to_mean.after(&wild_to_mean.inverse().unwrap());
        assert!((difference.scale() - 1.0).abs() < 0.02 && difference.angle().abs() < 0.01, "{difference:?}");
        let c = model.mean().centroid();
        let moved = difference.apply(c);
        assert!((moved[0] - c[0]).hypot(moved[1] - c[1]) < 1.0, "{moved:?} {c:?}");
        // A face already plausible stays itself.
        let fine = model.reconstruct(&[5.0, -3.0]).transformed(&placed);
        assert!(model.plausible(&fine).nme(&fine) < 1e-3);
        // A mesh with every point in one place becomes the mean face about that point.
        let dot = Mesh::new(vec![[7.0, 9.0]; MESH_POINTS]).unwrap();
        let [x, y] = model.plausible(&dot).centroid();
        assert!((x - 7.0).abs() < 1e-3 && (y - 9.0).abs() < 1e-3);
    }

    #[test]
    fn models_that_are_not_models_are_refused() {
        let good = model();
        let (mean, basis, sd) = (good.mean().to_flat(), good.basis.clone(), good.sd.clone());
        let new = |mean: &[f32], basis: &[f32], sd: &[f32]| ShapeModel::new(mean.to_vec(), basis.to_vec(), sd.to_vec());
        assert_eq!(new(&mean[..10], &basis, &sd).unwrap_err(), ShapeModelError::Mean(MeshError::PointCount(5)));
        assert_eq!(new(&[3.0; FLAT], &basis, &sd).unwrap_err(), ShapeModelError::DegenerateMean);
        assert_eq!(new(&mean, &[], &[]).unwrap_err(), ShapeModelError::Components(0));
        assert_eq!(
            new(&mean, &basis[..FLAT], &sd).unwrap_err(),
            ShapeModelError::BasisLength { components: K, expected: K * FLAT, found: FLAT }
        );
        let mut nan = basis.clone();
        nan[FLAT + 3] = f32::NAN;
        assert_eq!(new(&mean, &nan, &sd).unwrap_err(), ShapeModelError::BasisNotFinite(FLAT + 3));
        let mut bad_sd = sd.clone();
        bad_sd[2] = 0.0;
        assert_eq!(new(&mean, &basis, &bad_sd).unwrap_err(), ShapeModelError::BadSd { component: 2, value: 0.0 });
        let mut twice = basis.clone();
        twice.copy_within(0..FLAT, FLAT);
        assert!(matches!(
            new(&mean, &twice, &sd).unwrap_err(),
            ShapeModelError::NotOrthonormal { first: 0, second: 1, .. }
        ));
        let mut long = basis;
        long[..FLAT].iter_mut().for_each(|v| *v *= 1.01);
        assert!(matches!(new(&mean, &long, &sd).unwrap_err(), ShapeModelError::NotOrthonormal { first: 0, second: 0, .. }));
    }
}

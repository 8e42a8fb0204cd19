//! [`Mesh`]: MediaPipe's 468 face-mesh points of one face (its 478 without the 10 iris points), in
//! the pixels of the image they were found in, and [`Similarity`], the rotation, uniform scale and
//! shift that lines one mesh up with another.

use std::fmt;

/// Points of a face mesh, in MediaPipe's order.
pub const MESH_POINTS: usize = 468;
/// The outer corner of the eye on the image's left (the person's right eye).
pub const LEFT_EYE_OUTER: usize = 33;
/// The outer corner of the eye on the image's right.
pub const RIGHT_EYE_OUTER: usize = 263;
/// The face's outline, forehead top first, going round past the image's left side (MediaPipe's
/// `FACEMESH_FACE_OVAL` chained into one loop).
pub const FACE_OVAL: [usize; 36] = [
    10, 109, 67, 103, 54, 21, 162, 127, 234, 93, 132, 58, 172, 136, 150, 149, 176, 148, 152, 377,
    400, 378, 379, 365, 397, 288, 361, 323, 454, 356, 389, 251, 284, 332, 297, 338,
];

/// A mesh with the wrong number of points, or a point that is not a finite number.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum MeshError {
    #[error("a face mesh has {MESH_POINTS} points, found {0}")]
    PointCount(usize),
    #[error("point {0} of the face mesh is not a finite number")]
    NotFinite(usize),
}

/// The 468 points of one face, `[x, y]` in pixels.
#[derive(Clone, PartialEq)]
pub struct Mesh {
    points: Vec<[f32; 2]>,
}

impl fmt::Debug for Mesh {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let [x, y] = self.centroid();
        write!(f, "Mesh({MESH_POINTS} points about ({x:.1}, {y:.1}), eye distance {:.1})", self.eye_distance())
    }
}

impl Mesh {
    /// A mesh from exactly [`MESH_POINTS`] finite points.
    pub fn new(points: Vec<[f32; 2]>) -> Result<Mesh, MeshError> {
        if points.len() != MESH_POINTS {
            return Err(MeshError::PointCount(points.len()));
        }
        if let Some(bad) = points.iter().position(|p| !(p[0].is_finite() && p[1].is_finite())) {
            return Err(MeshError::NotFinite(bad));
        }
        Ok(Mesh { points })
    }

    /// A mesh from `[x0, y0, x1, y1, ...]`, [`MESH_POINTS`] pairs.
    pub fn from_flat(xy: &[f32]) -> Result<Mesh, MeshError> {
        if xy.len() != 2 * MESH_POINTS {
            return Err(MeshError::PointCount(xy.len() / 2));
        }
        Mesh::new(xy.chunks_exact(2).map(|p| [p[0], p[1]]).collect())
    }

    pub fn points(&self) -> &[[f32; 2]] {
        &self.points
    }

    /// `[x0, y0, x1, y1, ...]`.
    pub fn to_flat(&self) -> Vec<f32> {
        self.points.iter().flatten().copied().collect()
    }

    pub fn centroid(&self) -> [f32; 2] {
        let n = self.points.len() as f64;
        let (sx, sy) = self
            .points
            .iter()
            .fold((0.0f64, 0.0f64), |(sx, sy), p| (sx + p[0] as f64, sy + p[1] as f64));
        [(sx / n) as f32, (sy / n) as f32]
    }

    /// Distance between the outer eye corners: the unit of [`Mesh::nme`].
    pub fn eye_distance(&self) -> f32 {
        distance(self.points[LEFT_EYE_OUTER], self.points[RIGHT_EYE_OUTER])
    }

    /// The smallest axis-aligned box `[x0, y0, x1, y1]` around every point.
    pub fn bounds(&self) -> [f32; 4] {
        self.points.iter().fold(
            [f32::INFINITY, f32::INFINITY, f32::NEG_INFINITY, f32::NEG_INFINITY],
            |[x0, y0, x1, y1], p| [x0.min(p[0]), y0.min(p[1]), x1.max(p[0]), y1.max(p[1])],
        )
    }

    /// Normalised mean error against `truth`: the mean point distance over `truth`'s eye
    /// distance (the measure the evaluation and the targets use).
    pub fn nme(&self, truth: &Mesh) -> f32 {
        let total: f32 = self
            .points
            .iter()
            .zip(&truth.points)
            .map(|(a, b)| distance(*a, *b))
            .sum();
        total / MESH_POINTS as f32 / truth.eye_distance().max(f32::EPSILON)
    }

    /// Every point moved by `transform`.
    pub fn transformed(&self, transform: &Similarity) -> Mesh {
        Mesh {
            points: self.points.iter().map(|&p| transform.apply(p)).collect(),
        }
    }

    /// Every point scaled by `factor` about the origin (from one image size to another).
    pub fn scaled(&self, factor: f32) -> Mesh {
        self.transformed(&Similarity::scaling(factor))
    }
}

fn distance(a: [f32; 2], b: [f32; 2]) -> f32 {
    (a[0] - b[0]).hypot(a[1] - b[1])
}

/// `p -> [a -b; b a] p + t`: a rotation with a uniform scale (`a = s cos θ`, `b = s sin θ`), then
/// a shift. No shear and no mirror, so a face stays a face.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Similarity {
    pub a: f32,
    pub b: f32,
    pub tx: f32,
    pub ty: f32,
}

impl Similarity {
    pub const IDENTITY: Similarity = Similarity { a: 1.0, b: 0.0, tx: 0.0, ty: 0.0 };

    pub fn scaling(factor: f32) -> Similarity {
        Similarity { a: factor, ..Similarity::IDENTITY }
    }

    pub fn apply(&self, [x, y]: [f32; 2]) -> [f32; 2] {
        [self.a * x - self.b * y + self.tx, self.b * x + self.a * y + self.ty]
    }

    pub fn scale(&self) -> f32 {
        self.a.hypot(self.b)
    }

    /// Radians, counter-clockwise in a y-up frame (clockwise on screen).
    pub fn angle(&self) -> f32 {
        self.b.atan2(self.a)
    }

    /// The transform that undoes this one (`None` when it collapses everything to a point).
    pub fn inverse(&self) -> Option<Similarity> {
        let norm = self.a * self.a + self.b * self.b;
        if !(norm > f32::EPSILON) || !norm.is_finite() {
            return None;
        }
        let (a, b) = (self.a / norm, -self.b / norm);
        Some(Similarity { a, b, tx: -(a * self.tx - b * self.ty), ty: -(b * self.tx + a * self.ty) })
    }

    /// `self` after `first`: `p -> self(first(p))`.
    pub fn after(&self, first: &Similarity) -> Similarity {
        Similarity {
            a: self.a * first.a - self.b * first.b,
            b: self.b * first.a + self.a * first.b,
            tx: self.a * first.tx - self.b * first.ty + self.tx,
            ty: self.b * first.tx + self.a * first.ty + self.ty,
        }
    }

    /// The least-squares similarity taking `from` onto `to` (point `i` onto point `i`), by the
    /// closed form for 2-D (complex-number) regression. `None` for fewer than two distinct
    /// points or mismatched lengths.
    pub fn fit(from: &[[f32; 2]], to: &[[f32; 2]]) -> Option<Similarity> {
        if from.len() != to.len() || from.len() < 2 {
            return None;
        }
        let n = from.len() as f64;
        let mean = |points: &[[f32; 2]]| {
            let (sx, sy) = points
                .iter()
                .fold((0.0f64, 0.0f64), |(sx, sy), p| (sx + p[0] as f64, sy + p[1] as f64));
            (sx / n, sy / n)
        };
        let (fx, fy) = mean(from);
        let (tx, ty) = mean(to);
        let (mut dot, mut cross, mut norm) = (0.0f64, 0.0f64, 0.0f64);
        for (p, q) in from.iter().zip(to) {
            let (px, py) = (p[0] as f64 - fx, p[1] as f64 - fy);
            let (qx, qy) = (q[0] as f64 - tx, q[1] as f64 - ty);
            dot += px * qx + py * qy;
            cross += px * qy - py * qx;
            norm += px * px + py * py;
        }
        if !(norm > 1e-12) {
            return None;
        }
        let (a, b) = (dot / norm, cross / norm);
        let similarity = Similarity {
            a: a as f32,
            b: b as f32,
            tx: (tx - (a * fx - b * fy)) as f32,
            ty: (ty - (b * fx + a * fy)) as f32,
        };
        [similarity.a, similarity.b, similarity.tx, similarity.ty]
            .iter()
            .all(|v| v.is_finite())
            .then_some(similarity)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ring(n: usize, radius: f32, centre: [f32; 2]) -> Vec<[f32; 2]> {
        (0..n)
            .map(|i| {
                let t = i as f32 / n as f32 * std::f32::consts::TAU;
                // A little irregular, so the fit has something to be wrong about.
                let r = radius * (1.0 + 0.1 * (3.0 * t).sin());
                [centre[0] + r * t.cos(), centre[1] + r * t.sin()]
            })
            .collect()
    }

    #[test]
    fn fit_recovers_a_known_similarity_and_inverse_undoes_it() {
        let truth = Similarity { a: 1.3 * 0.4f32.cos(), b: 1.3 * 0.4f32.sin(), tx: 12.0, ty: -7.0 };
        let from = ring(MESH_POINTS, 50.0, [100.0, 120.0]);
        let to: Vec<_> = from.iter().map(|&p| truth.apply(p)).collect();
        let fitted = Similarity::fit(&from, &to).unwrap();
        assert!((fitted.a - truth.a).abs() < 1e-4 && (fitted.b - truth.b).abs() < 1e-4, "{fitted:?}");
        assert!((fitted.tx - truth.tx).abs() < 1e-2 && (fitted.ty - truth.ty).abs() < 1e-2, "{fitted:?}");
        let back = fitted.inverse().unwrap().after(&fitted);
        let p = back.apply([3.0, 4.0]);
        assert!((p[0] - 3.0).abs() < 1e-3 && (p[1] - 4.0).abs() < 1e-3, "{p:?}");
        assert!((fitted.scale() - 1.3).abs() < 1e-4 && (fitted.angle() - 0.4).abs() < 1e-4);
    }

    #[test]
    fn degenerate_fits_and_inverses_are_refused() {
        assert_eq!(Similarity::fit(&[[1.0, 1.0]; 5], &[[2.0, 2.0]; 5]), None);
        assert_eq!(Similarity::fit(&[[1.0, 1.0]], &[[2.0, 2.0]]), None);
        assert_eq!(Similarity::scaling(0.0).inverse(), None);
    }

    #[test]
    fn meshes_need_468_finite_points_and_nme_is_in_eye_distances() {
        assert_eq!(Mesh::new(vec![[0.0, 0.0]; 10]).unwrap_err(), MeshError::PointCount(10));
        let mut points = ring(MESH_POINTS, 40.0, [64.0, 64.0]);
        points[7][1] = f32::NAN;
        assert_eq!(Mesh::new(points.clone()).unwrap_err(), MeshError::NotFinite(7));
        points[7][1] = 1.0;
        let mesh = Mesh::new(points).unwrap();
        assert_eq!(mesh.nme(&mesh), 0.0);
        let shifted = mesh.transformed(&Similarity { tx: mesh.eye_distance() * 0.5, ..Similarity::IDENTITY });
        assert!((shifted.nme(&mesh) - 0.5).abs() < 1e-4);
        assert_eq!(Mesh::from_flat(&mesh.to_flat()).unwrap(), mesh);
    }
}

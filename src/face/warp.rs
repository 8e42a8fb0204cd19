//! The warp of a bank face onto the drawing's mesh ("Warp" in the face spec): a piecewise-affine
//! map over one triangulation, built once ([`FaceWarp::new`]) from a template mesh in the output
//! frame (the bank's mean shape), then applied per face ([`FaceWarp::warp`]).
//!
//! **The points**, triangulated once (Delaunay, by Bowyer-Watson inside the frame square, below):
//! - the template's 468 mesh points;
//! - *rings*: one point per [`FACE_OVAL`] point `o` on each of [`RING_SCALES`].len() rings:
//!   `o + t u`, where `u` is the template's offset of that oval point from the template's oval
//!   centre (the mean of its oval points), turned and scaled by the similarity of the template
//!   onto the mesh at hand, and `t = min(RING_SCALES[r] - 1, RING_REACH[r] * exit)` with
//!   `o + exit u` where that ray leaves the frame. On the template it is the oval scaled about its
//!   centre; on another mesh, that mesh's own oval pushed out by the template's offsets (its own
//!   offsets, from its own centroid, point elsewhere when the head turns, and slid the outer rings
//!   sideways against the inner ones until the band between them folded: seen on bank faces).
//!   Near the frame a ring keeps a share of the room left, so no ring crosses the frame.
//! - the *frame*: the corners and [`FRAME_SEGMENTS`] - 1 evenly spaced points per side of a square
//!   [`FRAME_MARGIN`] sides larger than the image on every side. It lies outside the image, not on
//!   its border, because the output's edge is fixed while the drawn face turns, grows and moves in
//!   it: points on the border, a few pixels from the outer rings, fold as soon as the face turns
//!   a little (seen in testing with a 0.2 rad turn), whereas the wide band between the outer ring
//!   and the far frame absorbs the turn. Every image pixel is well inside the hull.
//! - Left out: a template mesh point outside the frame, and a ring point closer than `side / 80`
//!   to the frame or to a point already kept (in the order frame, mesh, rings inside out). Which
//!   points exist is decided once, on the template.
//!
//! **One warp.** `S` is the least-squares similarity of the source mesh onto the destination mesh
//! ([`Similarity::fit`]). Each point has a place in the output and one in the source: a mesh point
//! its point in each mesh; a frame point is fixed in the output and `S⁻¹` of that in the source; a
//! ring point is the source mesh's own ring point `q` (its exit measured in the output, through
//! `S`) in the source, and in the output the blend `(1 - w) q' + w S(q)` of the destination mesh's
//! own ring point `q'`, `w` = [`RING_SIMILARITY`]`[r]`. The inner ring follows the drawn outline,
//! the next one half way, the outer ones (and the frame) move with the global similarity exactly:
//! hair, ears and neck follow the face near it, and the image's far corners are the source under
//! `S`.
//!
//! **Folds.** A destination triangle whose orientation on the snapped output points is the
//! template's reverse is folded: real meshes fold against any one template (a closed mouth
//! against a template's open one, a turned head's nose and far cheek, a found mesh's noise across
//! MediaPipe's slivers at the eyelids; 198 of 200 bank faces warped from their nearest bank
//! neighbour fold somewhere, median folded area 114 px², at most 2,205 px² at 256). Such folds are
//! kept: moving points to unfold them bends the face's shape everywhere it spreads (tried: local
//! steps toward the template cascaded to the whole face for half of those 200). A fold costs no
//! coverage: with the frame fixed, the triangles that keep their orientation still cover every
//! point inside the frame (a point's count of them is one more than its count of folded ones),
//! so a fold only covers its own area twice, where the later triangle's sample wins; folded
//! triangles are not drawn. Only a face folded beyond [`FOLD_TOLERANCE`] (a mirrored or garbled
//! mesh) is blended toward the similarity, every output point to `(1 - t) d + t S(s)` for `t` in
//! [`FOLD_BLENDS`] until the folded area is within it; at `t = 1` every triangle's map is `S⁻¹`
//! itself. [`WarpReport`] says how it went.
//!
//! **Pixels.** Output points are snapped to 1/[`SUBPIXEL`] pixel and each triangle is scanned row
//! by row in integer arithmetic with a top-left rule: a pixel centre on an edge two triangles
//! share belongs to exactly one of them, so an unfolded triangulation of the frame covers every
//! pixel exactly once (the orientation test uses the same snapped points). A covered pixel centre
//! is mapped by its triangle's affine (solved per call from the unsnapped points, so an identity
//! warp is exact) into the source and sampled bilinearly there, clamped to the source's edge
//! pixels outside it. A pixel no triangle covers (there should be none; [`WarpReport::uncovered`]
//! counts them) gets the source under `S⁻¹`. Per call: the points' places, the affines, a coverage
//! count per pixel and the output; nothing per pixel.

use image::RgbImage;

use super::mesh::{FACE_OVAL, Mesh, Similarity};

/// The rings' scales about the centroid, near the face (as multiples of the oval's distance).
pub const RING_SCALES: [f32; 4] = [1.25, 1.55, 1.9, 2.8];
/// The most of the room between the oval and the frame's edge each ring may take.
pub const RING_REACH: [f32; 4] = [0.25, 0.5, 0.7, 0.85];
/// How much each ring's output place follows the global similarity rather than the drawn oval.
pub const RING_SIMILARITY: [f32; 4] = [0.0, 0.5, 1.0, 1.0];
/// The frame's margin around the image, in image sides: the frame is the square
/// `[-FRAME_MARGIN * side, (1 + FRAME_MARGIN) * side]²`.
pub const FRAME_MARGIN: f32 = 1.0;
/// Segments per side of the frame (so `4 * FRAME_SEGMENTS` frame points).
pub const FRAME_SEGMENTS: u32 = 8;
/// The most folded area (see the module's doc) a destination may have as drawn, in squared eye
/// distances of the destination mesh. Real meshes fold by about 0.02 (median) to 0.4 (the worst
/// of 200 bank faces warped from their nearest neighbour): closed mouths, turned noses and cheeks.
pub const FOLD_TOLERANCE: f32 = 0.5;
/// The blends toward the similarity tried, in order, when the destination folds more than that.
pub const FOLD_BLENDS: [f32; 4] = [0.25, 0.5, 0.75, 1.0];
/// Output vertices are snapped to 1/SUBPIXEL of a pixel for the exact coverage rule.
pub const SUBPIXEL: i64 = 256;
/// The largest output side: subpixel products stay well inside `i64`.
pub const MAX_SIDE: u32 = 1 << 16;

const RINGS: usize = RING_SCALES.len();
const OVAL: usize = FACE_OVAL.len();
/// A ring point closer than `side * MERGE_FRACTION` to a kept point or the frame is left out.
const MERGE_FRACTION: f32 = 1.0 / 80.0;
/// Template mesh points closer than this (pixels) to a kept point are the same point.
const DUPLICATE_PX: f64 = 1e-3;
/// Below this output area (pixels squared, times two) a triangle's affine is not solved: its
/// pixels (if any) take `S⁻¹`.
const MIN_DETERMINANT: f64 = 1e-9;

/// What a triangulation point is, so that its place can be found for any pair of meshes.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Vertex {
    Mesh(u16),
    /// A point of the frame's edge (fixed in the output).
    Frame([f32; 2]),
    Ring {
        ring: u8,
        oval: u8,
    },
}

/// The piecewise-affine warp of a face image from its mesh onto another mesh (see the module's
/// doc), for output images of one side.
#[derive(Clone, Debug)]
pub struct FaceWarp {
    side: u32,
    template: Mesh,
    vertices: Vec<Vertex>,
    /// The template's oval points less its oval centre: the rings' offsets.
    oval_offsets: [[f32; 2]; OVAL],
    /// Vertex indices, each triangle positively oriented (`(b - a) x (c - a) > 0`, x right and
    /// y down) in the template.
    triangles: Vec<[u16; 3]>,
}

/// How a warp went.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct WarpReport {
    /// Output pixels no triangle covered (filled by the similarity); 0 unless the meshes are wild.
    pub uncovered: usize,
    /// Output pixels more than one triangle covered; 0 unless the meshes are wild.
    pub overlapped: usize,
    /// The destination's folded area (square pixels), after any blend.
    pub folded_area: f32,
    /// The blend toward the similarity that brought the folded area within [`FOLD_TOLERANCE`]
    /// (0 when it was within it as drawn).
    pub fold_blend: f32,
}

impl FaceWarp {
    /// The triangulation over `template` (a typical mesh in the `side` x `side` output frame),
    /// its rings and the frame.
    ///
    /// # Panics
    /// When `side` is 0 or above [`MAX_SIDE`].
    pub fn new(template: &Mesh, side: u32) -> FaceWarp {
        assert!(
            (1..=MAX_SIDE).contains(&side),
            "a warp's side is 1..={MAX_SIDE} pixels, not {side}"
        );
        let [low, high] = frame(side);
        let mut vertices = Vec::new();
        let mut delaunay = Delaunay::square(low as f64, high as f64);
        for corner in [[low, low], [high, low], [high, high], [low, high]] {
            vertices.push(Vertex::Frame(corner));
        }
        for k in 1..FRAME_SEGMENTS {
            let (up, down) = (
                low + (high - low) * k as f32 / FRAME_SEGMENTS as f32,
                high - (high - low) * k as f32 / FRAME_SEGMENTS as f32,
            );
            for point in [[up, low], [high, up], [down, high], [low, down]] {
                if delaunay.insert(point, 0.0) {
                    vertices.push(Vertex::Frame(point));
                }
            }
        }
        for (i, &point) in template.points().iter().enumerate() {
            let inside = point.iter().all(|&v| v > low && v < high);
            if inside && delaunay.insert(point, DUPLICATE_PX) {
                vertices.push(Vertex::Mesh(i as u16));
            }
        }
        let merge = side as f32 * MERGE_FRACTION;
        let centre = oval_centre(template);
        let offsets = FACE_OVAL.map(|i| [template.points()[i][0] - centre[0], template.points()[i][1] - centre[1]]);
        let same = Similarity::IDENTITY;
        let rings = own_rings(template, &offsets, &same, &same, side);
        for (r, ring) in rings.iter().enumerate() {
            for (j, &point) in ring.iter().enumerate() {
                let room = (point[0] - low)
                    .min(point[1] - low)
                    .min(high - point[0])
                    .min(high - point[1]);
                if room >= merge && delaunay.insert(point, merge as f64) {
                    vertices.push(Vertex::Ring {
                        ring: r as u8,
                        oval: j as u8,
                    });
                }
            }
        }
        let triangles = delaunay.triangles.iter().map(|t| t.map(|v| v as u16)).collect();
        FaceWarp {
            side,
            template: template.clone(),
            vertices,
            oval_offsets: offsets,
            triangles,
        }
    }

    pub fn side(&self) -> u32 {
        self.side
    }

    pub fn triangle_count(&self) -> usize {
        self.triangles.len()
    }

    /// `source` (with its face's mesh `source_mesh`, in its pixels) warped so that its face lies
    /// on `destination_mesh` (in the output's pixels): a `side` x `side` image.
    pub fn warp(&self, source: &RgbImage, source_mesh: &Mesh, destination_mesh: &Mesh) -> RgbImage {
        self.warp_with_report(source, source_mesh, destination_mesh).0
    }

    /// [`FaceWarp::warp`], and how it went.
    pub fn warp_with_report(
        &self,
        source: &RgbImage,
        source_mesh: &Mesh,
        destination_mesh: &Mesh,
    ) -> (RgbImage, WarpReport) {
        let side = self.side as usize;
        let (similarity, inverse) = global_similarity(source_mesh, destination_mesh);
        let (mut destination, source_points) = self.places(source_mesh, destination_mesh, &similarity, &inverse);
        let mut snapped: Vec<[i64; 2]> = destination.iter().map(|&p| snap(p, self.side)).collect();
        let tolerance = FOLD_TOLERANCE * destination_mesh.eye_distance().powi(2);
        let mut folded_area = self.folded_area(&snapped);
        let mut fold_blend = 0.0;
        if folded_area > tolerance {
            let drawn = destination.clone();
            for t in FOLD_BLENDS {
                for ((d, &drawn), &q) in destination.iter_mut().zip(&drawn).zip(&source_points) {
                    *d = lerp(drawn, similarity.apply(q), t);
                }
                snapped
                    .iter_mut()
                    .zip(&destination)
                    .for_each(|(s, &d)| *s = snap(d, self.side));
                (fold_blend, folded_area) = (t, self.folded_area(&snapped));
                if folded_area <= tolerance {
                    break;
                }
            }
        }

        let mut output = RgbImage::new(self.side, self.side);
        let mut coverage = vec![0u8; side * side];
        let sampler = Sampler::new(source);
        let fallback = inverse_affine(&inverse);
        {
            let out: &mut [u8] = &mut output;
            for triangle in &self.triangles {
                let [a, b, c] = triangle.map(usize::from);
                let affine = solve_affine(
                    [destination[a], destination[b], destination[c]],
                    [source_points[a], source_points[b], source_points[c]],
                )
                .unwrap_or(fallback);
                for_each_span(&[snapped[a], snapped[b], snapped[c]], self.side, |y, x0, x1| {
                    let row = y as usize * side;
                    let cy = y as f32 + 0.5;
                    let (bx, by) = (affine[1] * cy + affine[2], affine[4] * cy + affine[5]);
                    for x in x0 as usize..=x1 as usize {
                        let cx = x as f32 + 0.5;
                        let rgb = sampler.sample(affine[0] * cx + bx, affine[3] * cx + by);
                        out[(row + x) * 3..(row + x) * 3 + 3].copy_from_slice(&rgb);
                        coverage[row + x] = coverage[row + x].saturating_add(1);
                    }
                });
            }
        }
        let mut report = WarpReport {
            uncovered: 0,
            overlapped: 0,
            folded_area,
            fold_blend,
        };
        let out: &mut [u8] = &mut output;
        for (i, &count) in coverage.iter().enumerate() {
            match count {
                1 => {}
                0 => {
                    report.uncovered += 1;
                    let (x, y) = ((i % side) as f32 + 0.5, (i / side) as f32 + 0.5);
                    let [sx, sy] = inverse.apply([x, y]);
                    out[i * 3..i * 3 + 3].copy_from_slice(&sampler.sample(sx, sy));
                }
                _ => report.overlapped += 1,
            }
        }
        (output, report)
    }

    /// Every vertex's place in the output and in the source (see the module's doc).
    fn places(
        &self,
        source_mesh: &Mesh,
        destination_mesh: &Mesh,
        similarity: &Similarity,
        inverse: &Similarity,
    ) -> (Vec<[f32; 2]>, Vec<[f32; 2]>) {
        let from_template =
            |mesh: &Mesh| Similarity::fit(self.template.points(), mesh.points()).unwrap_or(Similarity::IDENTITY);
        let offsets = &self.oval_offsets;
        let source_rings = own_rings(source_mesh, offsets, &from_template(source_mesh), similarity, self.side);
        let destination_rings = own_rings(
            destination_mesh,
            offsets,
            &from_template(destination_mesh),
            &Similarity::IDENTITY,
            self.side,
        );
        self.vertices
            .iter()
            .map(|vertex| match *vertex {
                Vertex::Mesh(i) => (destination_mesh.points()[i as usize], source_mesh.points()[i as usize]),
                Vertex::Frame(p) => (p, inverse.apply(p)),
                Vertex::Ring { ring, oval } => {
                    let (r, j) = (ring as usize, oval as usize);
                    let q = source_rings[r][j];
                    (
                        lerp(destination_rings[r][j], similarity.apply(q), RING_SIMILARITY[r]),
                        q,
                    )
                }
            })
            .unzip()
    }

    /// Whether any triangle's orientation (on the snapped output points) is the template's
    /// reverse. Flat triangles cover no pixel and fold nothing.
    /// The area (square pixels) of the triangles whose orientation on the snapped output points is
    /// the template's reverse: what a fold covers twice.
    fn folded_area(&self, snapped: &[[i64; 2]]) -> f32 {
        let twice: i64 = self.triangles.iter().map(|t| (-orientation(t, snapped)).max(0)).sum();
        (twice as f64 / (2 * SUBPIXEL * SUBPIXEL) as f64) as f32
    }
}

/// Twice the signed area of triangle `t` (subpixels squared), positive as in the template.
fn orientation(t: &[u16; 3], snapped: &[[i64; 2]]) -> i64 {
    let [a, b, c] = t.map(|v| snapped[v as usize]);
    (b[0] - a[0]) * (c[1] - a[1]) - (b[1] - a[1]) * (c[0] - a[0])
}

/// `S` (source mesh onto destination mesh) and `S⁻¹`; the identity for meshes that fit nothing.
fn global_similarity(source_mesh: &Mesh, destination_mesh: &Mesh) -> (Similarity, Similarity) {
    Similarity::fit(source_mesh.points(), destination_mesh.points())
        .and_then(|s| Some((s, s.inverse()?)))
        .unwrap_or((Similarity::IDENTITY, Similarity::IDENTITY))
}

/// The frame around a `side` image: its low and high coordinate (on both axes).
fn frame(side: u32) -> [f32; 2] {
    let side = side as f32;
    [-FRAME_MARGIN * side, (1.0 + FRAME_MARGIN) * side]
}

/// The mesh's own rings, in the mesh's pixels: each of its oval points pushed outward along the
/// template's offset of that point from the template's oval centre, turned and scaled by the
/// similarity of the template onto the mesh (`template_to_mesh`). `to_frame` takes the mesh's
/// pixels to the output, where each ray's exit from the frame is measured (a similarity keeps
/// ratios along a ray).
///
/// The offsets are the template's, not the mesh's own `o - c`: two faces' own offsets point in
/// different directions (a turned head squeezes one side of its oval), and pushed out 2 or 3
/// times they would slide the outer rings sideways against the inner ones, folding the band
/// between them.
fn own_rings(
    mesh: &Mesh,
    offsets: &[[f32; 2]; OVAL],
    template_to_mesh: &Similarity,
    to_frame: &Similarity,
    side: u32,
) -> [[[f32; 2]; OVAL]; RINGS] {
    let bounds = frame(side);
    let points = mesh.points();
    let turn = |s: &Similarity, [x, y]: [f32; 2]| [s.a * x - s.b * y, s.b * x + s.a * y];
    let mut rings = [[[0.0; 2]; OVAL]; RINGS];
    for (j, &i) in FACE_OVAL.iter().enumerate() {
        let o = points[i];
        let d = turn(template_to_mesh, offsets[j]);
        let exit = exit_parameter(to_frame.apply(o), turn(to_frame, d), bounds);
        for r in 0..RINGS {
            let t = (RING_SCALES[r] - 1.0).min(RING_REACH[r] * exit);
            rings[r][j] = [o[0] + t * d[0], o[1] + t * d[1]];
        }
    }
    rings
}

/// The mean of the face oval's points: the rings' centre. (Not the mesh's centroid, which the
/// eyes, nose and mouth pull to one side when the head turns, skewing the rings against another
/// face's.)
fn oval_centre(mesh: &Mesh) -> [f32; 2] {
    let points = mesh.points();
    let [x, y] = FACE_OVAL
        .iter()
        .fold([0.0f32; 2], |[x, y], &i| [x + points[i][0], y + points[i][1]]);
    [x / OVAL as f32, y / OVAL as f32]
}

/// The largest `t >= 0` with `o + t d` in the square `[low, high]²` (0 when `o` is outside it).
fn exit_parameter(o: [f32; 2], d: [f32; 2], [low, high]: [f32; 2]) -> f32 {
    if !o.iter().all(|&v| (low..=high).contains(&v)) {
        return 0.0;
    }
    let axis = |o: f32, d: f32| {
        if d > 0.0 {
            (high - o) / d
        } else if d < 0.0 {
            (low - o) / d
        } else {
            f32::INFINITY
        }
    };
    axis(o[0], d[0]).min(axis(o[1], d[1])).max(0.0)
}

fn lerp(a: [f32; 2], b: [f32; 2], t: f32) -> [f32; 2] {
    [a[0] + t * (b[0] - a[0]), a[1] + t * (b[1] - a[1])]
}

/// An output point in subpixels, clamped to a few sides around the square (far points keep
/// their side of every edge that matters, and products stay inside `i64`).
fn snap(p: [f32; 2], side: u32) -> [i64; 2] {
    let (low, high) = (-4.0 * side as f32, 5.0 * side as f32);
    p.map(|v| (v.clamp(low, high) * SUBPIXEL as f32).round() as i64)
}

/// `[a, b, c, d, e, f]`: `source = (a x + b y + c, d x + e y + f)` for output `(x, y)`, the affine
/// map taking the output triangle onto the source one; `None` for a flat output triangle.
fn solve_affine(output: [[f32; 2]; 3], source: [[f32; 2]; 3]) -> Option<[f32; 6]> {
    let [d0, d1, d2] = output.map(|p| p.map(f64::from));
    let [s0, s1, s2] = source.map(|p| p.map(f64::from));
    let e1 = [d1[0] - d0[0], d1[1] - d0[1]];
    let e2 = [d2[0] - d0[0], d2[1] - d0[1]];
    let det = e1[0] * e2[1] - e1[1] * e2[0];
    if det.is_nan() || det.abs() <= MIN_DETERMINANT {
        return None;
    }
    let f1 = [s1[0] - s0[0], s1[1] - s0[1]];
    let f2 = [s2[0] - s0[0], s2[1] - s0[1]];
    let a = (f1[0] * e2[1] - f2[0] * e1[1]) / det;
    let b = (f2[0] * e1[0] - f1[0] * e2[0]) / det;
    let d = (f1[1] * e2[1] - f2[1] * e1[1]) / det;
    let e = (f2[1] * e1[0] - f1[1] * e2[0]) / det;
    let c = s0[0] - a * d0[0] - b * d0[1];
    let f = s0[1] - d * d0[0] - e * d0[1];
    let affine = [a, b, c, d, e, f].map(|v| v as f32);
    affine.iter().all(|v| v.is_finite()).then_some(affine)
}

fn inverse_affine(inverse: &Similarity) -> [f32; 6] {
    [inverse.a, -inverse.b, inverse.tx, inverse.b, inverse.a, inverse.ty]
}

/// Calls `row(y, x0, x1)` for each pixel row `y` of the `side` square where the triangle `t`
/// (subpixels, positively oriented) covers the pixel centres `x0..=x1`. A centre on an edge is
/// covered when the edge, walked from its first point, goes down (or left when level): of two
/// triangles sharing the edge (walking it in opposite directions) exactly one covers it.
fn for_each_span(t: &[[i64; 2]; 3], side: u32, mut row: impl FnMut(u32, u32, u32)) {
    const HALF: i64 = SUBPIXEL / 2;
    let last = side as i64 - 1;
    let low = t.iter().map(|p| p[1]).min().unwrap_or(0);
    let high = t.iter().map(|p| p[1]).max().unwrap_or(0);
    let y0 = ceil_div(low - HALF, SUBPIXEL).max(0);
    let y1 = (high - HALF).div_euclid(SUBPIXEL).min(last);
    // For edge a -> b, centre q is inside when dx (qy - ay) - dy (qx - ax) + bias > 0 (bias 1
    // where a centre on the edge counts).
    let edges = [(0, 1), (1, 2), (2, 0)].map(|(i, j)| {
        let (a, b) = (t[i], t[j]);
        let (dx, dy) = (b[0] - a[0], b[1] - a[1]);
        (a, dx, dy, i64::from(dy > 0 || (dy == 0 && dx < 0)))
    });
    for y in y0..=y1 {
        let qy = y * SUBPIXEL + HALF;
        let (mut x0, mut x1) = (0, last);
        for &(a, dx, dy, bias) in &edges {
            // Inside: k - dy qx > 0.
            let k = dx * (qy - a[1]) + dy * a[0] + bias;
            if dy > 0 {
                let qx_max = (k - 1).div_euclid(dy);
                x1 = x1.min((qx_max - HALF).div_euclid(SUBPIXEL));
            } else if dy < 0 {
                let qx_min = (-k).div_euclid(-dy) + 1;
                x0 = x0.max(ceil_div(qx_min - HALF, SUBPIXEL));
            } else if k <= 0 {
                x1 = -1;
            }
        }
        if x0 <= x1 {
            row(y as u32, x0 as u32, x1 as u32);
        }
    }
}

/// `ceil(a / b)` for `b > 0`.
fn ceil_div(a: i64, b: i64) -> i64 {
    -(-a).div_euclid(b)
}

/// Bilinear samples of an RGB image at pixel coordinates (centres at +0.5), clamped to the edge.
struct Sampler<'a> {
    raw: &'a [u8],
    width: i64,
    height: i64,
}

impl<'a> Sampler<'a> {
    fn new(image: &'a RgbImage) -> Sampler<'a> {
        Sampler {
            raw: image.as_raw(),
            width: image.width() as i64,
            height: image.height() as i64,
        }
    }

    #[inline]
    fn sample(&self, x: f32, y: f32) -> [u8; 3] {
        if self.width == 0 || self.height == 0 {
            return [0; 3];
        }
        let (u, v) = (x - 0.5, y - 0.5);
        let (fu, fv) = (u.floor(), v.floor());
        let (ax, ay) = (u - fu, v - fv);
        let (x0, y0) = (fu as i64, fv as i64);
        let column = |x: i64| x.clamp(0, self.width - 1) as usize * 3;
        let line = |y: i64| y.clamp(0, self.height - 1) as usize * self.width as usize * 3;
        let (c0, c1) = (column(x0), column(x0 + 1));
        let (r0, r1) = (line(y0), line(y0 + 1));
        let mut rgb = [0u8; 3];
        for (channel, out) in rgb.iter_mut().enumerate() {
            let at = |offset: usize| self.raw[offset + channel] as f32;
            let top = at(r0 + c0) + ax * (at(r0 + c1) - at(r0 + c0));
            let bottom = at(r1 + c0) + ax * (at(r1 + c1) - at(r1 + c0));
            *out = (top + ay * (bottom - top) + 0.5) as u8;
        }
        rgb
    }
}

/// A Delaunay triangulation grown point by point (Bowyer-Watson) inside a square whose corners
/// are its first points, so the hull is the square and no super-triangle is needed. Points go in
/// inside the square or on its edges; an edge point splits the hull edge it lies on.
struct Delaunay {
    low: f64,
    high: f64,
    points: Vec<[f64; 2]>,
    /// Positively oriented (see [`FaceWarp`]).
    triangles: Vec<[usize; 3]>,
    /// Each triangle's circumcircle: centre x, centre y, squared radius.
    circles: Vec<[f64; 3]>,
}

impl Delaunay {
    /// The square `[low, high]²` as two triangles.
    fn square(low: f64, high: f64) -> Delaunay {
        let points = vec![[low, low], [high, low], [high, high], [low, high]];
        let mut delaunay = Delaunay {
            low,
            high,
            points,
            triangles: Vec::new(),
            circles: Vec::new(),
        };
        delaunay.push_triangle([0, 1, 2]);
        delaunay.push_triangle([0, 2, 3]);
        delaunay
    }

    /// A tolerance for orientations (twice a triangle's area): flatter counts as flat.
    fn flat(&self) -> f64 {
        1e-10 * (self.high - self.low).powi(2)
    }

    fn orient(&self, a: usize, b: usize, p: [f64; 2]) -> f64 {
        let (a, b) = (self.points[a], self.points[b]);
        (b[0] - a[0]) * (p[1] - a[1]) - (b[1] - a[1]) * (p[0] - a[0])
    }

    fn push_triangle(&mut self, t: [usize; 3]) {
        let [a, b, c] = t.map(|v| self.points[v]);
        let (bx, by, cx, cy) = (b[0] - a[0], b[1] - a[1], c[0] - a[0], c[1] - a[1]);
        let d = 2.0 * (bx * cy - by * cx);
        let (b2, c2) = (bx * bx + by * by, cx * cx + cy * cy);
        let (ux, uy) = ((cy * b2 - by * c2) / d, (bx * c2 - cx * b2) / d);
        self.triangles.push(t);
        self.circles.push([a[0] + ux, a[1] + uy, ux * ux + uy * uy]);
    }

    /// Adds `point` unless it is outside the square or within `merge` of a point already in;
    /// whether it went in.
    fn insert(&mut self, point: [f32; 2], merge: f64) -> bool {
        let p = point.map(f64::from);
        let merge = merge.max(DUPLICATE_PX);
        if self.points.iter().any(|q| (q[0] - p[0]).hypot(q[1] - p[1]) < merge) {
            return false;
        }
        let flat = self.flat();
        let contains = |d: &Delaunay, t: usize| {
            let [a, b, c] = d.triangles[t];
            d.orient(a, b, p) >= -flat && d.orient(b, c, p) >= -flat && d.orient(c, a, p) >= -flat
        };
        let Some(home) = (0..self.triangles.len()).find(|&t| contains(self, t)) else {
            return false;
        };
        let mut cavity: Vec<usize> = (0..self.triangles.len())
            .filter(|&t| {
                let [cx, cy, r2] = self.circles[t];
                (p[0] - cx).powi(2) + (p[1] - cy).powi(2) < r2
            })
            .collect();
        if !cavity.contains(&home) {
            cavity.push(home);
        }
        // Make the cavity star-shaped from p (every boundary edge facing it), the condition for
        // the fan from p to be a triangulation; rounding in near-cocircular cases can break it.
        let index = self.points.len();
        let fan = loop {
            let mut fan = Vec::new();
            let mut fix = None;
            for &t in &cavity {
                let tri = self.triangles[t];
                for k in 0..3 {
                    let (a, b) = (tri[k], tri[(k + 1) % 3]);
                    let shared = cavity.iter().any(|&u| {
                        let v = self.triangles[u];
                        (0..3).any(|m| v[m] == b && v[(m + 1) % 3] == a)
                    });
                    if shared {
                        continue;
                    }
                    if self.orient(a, b, p) > flat {
                        fan.push([a, b, index]);
                    } else if self.on_hull_edge(a, b, p) {
                        // p splits this hull edge: no triangle on it.
                    } else {
                        fix.get_or_insert((t, a, b));
                    }
                }
            }
            match fix {
                None => break fan,
                Some((t, a, b)) if contains(self, t) => {
                    // p lies on an inner edge whose other triangle the circle test missed.
                    let Some(other) = (0..self.triangles.len()).find(|&u| {
                        let v = self.triangles[u];
                        (0..3).any(|m| v[m] == b && v[(m + 1) % 3] == a)
                    }) else {
                        return false;
                    };
                    cavity.push(other);
                }
                Some((t, _, _)) => cavity.retain(|&u| u != t),
            }
        };
        self.points.push(p);
        cavity.sort_unstable_by(|a, b| b.cmp(a));
        for t in cavity {
            self.triangles.swap_remove(t);
            self.circles.swap_remove(t);
        }
        for t in fan {
            self.push_triangle(t);
        }
        true
    }

    /// Whether `a -> b` is a piece of the square's edge with `p` strictly inside it.
    fn on_hull_edge(&self, a: usize, b: usize, p: [f64; 2]) -> bool {
        let (a, b) = (self.points[a], self.points[b]);
        (0..2).any(|axis| {
            let other = 1 - axis;
            let line = a[axis];
            (line == self.low || line == self.high)
                && b[axis] == line
                && p[axis] == line
                && (p[other] - a[other]) * (p[other] - b[other]) < 0.0
        })
    }
}

#[cfg(test)]
mod tests;

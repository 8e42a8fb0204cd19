//! The warp: a bank face moved onto the drawing's mesh, piecewise-affine, so the photograph's
//! skin, eyes and hair take the drawing's geometry.
//!
//! The pieces are the triangles of a Delaunay triangulation, made for each warp in the
//! destination (the drawing's frame), of three kinds of points, each with a destination and a
//! source position:
//! - the 468 mesh points: the drawing's mesh and the bank face's;
//! - rings of frame points around the face, the face oval grown about the mesh's centroid by
//!   [`RING_SCALES`]. Near the face a ring follows each mesh's own oval (a long jaw drawn keeps
//!   its neck below it); farther out it blends, by [`RING_RIGIDITY`], into the global similarity
//!   between the two meshes, so hair, ears, neck and background move with the face as a whole;
//! - points along the image border, where the global similarity alone holds.
//!
//! Triangulating in the destination means no destination triangle ever folds (whatever the
//! drawing's mesh), every pixel of the output is covered (the border points' hull is the
//! image), and a triangle's neighbours share its edges exactly: nothing tears. A destination
//! point outside the image, or on top of another, is left out. Each output pixel centre is
//! mapped by its triangle's affine into the source and sampled bilinearly. Beyond the source's
//! edge (a face drawn small shows more than its photograph holds) the edge is repeated, fading
//! over [`BACKDROP_FADE`] pixels into the mean colour of the edge: a plain backdrop, not streaks.

use image::RgbImage;

use super::mesh::{FACE_OVAL, MESH_POINTS, Mesh, Similarity};

/// The frame rings: the face oval grown about the centroid by these factors.
pub const RING_SCALES: [f32; 4] = [1.25, 1.7, 2.4, 3.4];
/// How far each ring follows the global similarity rather than the mesh's own oval (0: its own
/// oval, 1: the similarity).
pub const RING_RIGIDITY: [f32; 4] = [0.0, 0.4, 0.8, 1.0];
/// Source pixels over which samples beyond the source's edge fade into its backdrop colour.
pub const BACKDROP_FADE: f32 = 12.0;
/// Border points per image edge (corners included once).
const BORDER_STEPS: u32 = 8;
/// Destination points nearer than this (pixels) to one kept before are left out: the
/// triangulation needs distinct points.
const MIN_SEPARATION: f32 = 0.25;

/// Warps faces onto meshes, `side` x `side` pixels out. `template` (a typical face in the output
/// frame, e.g. the bank's mean shape) places the rings' far points.
#[derive(Clone, Debug)]
pub struct FaceWarp {
    side: u32,
    template: Mesh,
    border: Vec<[f32; 2]>,
    /// The template's own control points (which of the candidates were kept) and their
    /// triangulation: reused for a destination that keeps the same points and folds none of
    /// its triangles (most drawings), which saves triangulating on every warp.
    template_kept: Vec<u16>,
    template_triangles: Vec<[usize; 3]>,
}

impl FaceWarp {
    pub fn new(template: &Mesh, side: u32) -> FaceWarp {
        let s = side as f32;
        let mut border = Vec::with_capacity(4 * BORDER_STEPS as usize);
        for step in 0..BORDER_STEPS {
            let t = s * step as f32 / BORDER_STEPS as f32;
            border.extend([[t, 0.0], [s, t], [s - t, s], [0.0, s - t]]);
        }
        let mut warp = FaceWarp {
            side,
            template: template.clone(),
            border,
            template_kept: Vec::new(),
            template_triangles: Vec::new(),
        };
        let (pairs, kept) = warp.control_points(template, template);
        let points: Vec<[f32; 2]> = pairs.iter().map(|p| p.0).collect();
        warp.template_triangles = delaunay(&points)
            .into_iter()
            .map(|t| if signed_area(t.map(|i| points[i])) < 0.0 { [t[0], t[2], t[1]] } else { t })
            .collect();
        warp.template_kept = kept;
        warp
    }

    /// The template's triangles when they suit the destination points: the same points kept,
    /// and no triangle folded or collapsed.
    fn template_triangles_for(&self, kept: &[u16], destination: &[[f32; 2]]) -> Option<&[[usize; 3]]> {
        let unfolded = |t: &[usize; 3]| signed_area(t.map(|i| destination[i])) > 1e-3;
        (kept == self.template_kept.as_slice() && self.template_triangles.iter().all(unfolded))
            .then_some(self.template_triangles.as_slice())
    }

    pub fn side(&self) -> u32 {
        self.side
    }

    /// `source` (its face's mesh `source_mesh`, in its pixels) warped onto `destination_mesh`
    /// (in the output's pixels).
    pub fn warp(&self, source: &RgbImage, source_mesh: &Mesh, destination_mesh: &Mesh) -> RgbImage {
        let (pairs, kept) = self.control_points(source_mesh, destination_mesh);
        let destination: Vec<[f32; 2]> = pairs.iter().map(|p| p.0).collect();
        let triangulated;
        let triangles = match self.template_triangles_for(&kept, &destination) {
            Some(triangles) => triangles,
            None => {
                triangulated = delaunay(&destination);
                &triangulated
            }
        };
        let global = Similarity::fit(destination_mesh.points(), source_mesh.points()).unwrap_or(Similarity::IDENTITY);

        let side = self.side;
        let sampler = Sampler::new(source);
        let mut out = RgbImage::new(side, side);
        let mut covered = vec![false; (side * side) as usize];
        for triangle in triangles {
            let [a, b, c] = triangle.map(|i| pairs[i]);
            fill_triangle(&sampler, &mut out, &mut covered, [a.0, b.0, c.0], [a.1, b.1, c.1]);
        }
        // Only a degenerate triangulation leaves pixels; they get the global similarity.
        for (index, done) in covered.iter().enumerate() {
            if !done {
                let (x, y) = (index as u32 % side, index as u32 / side);
                let [u, v] = global.apply([x as f32 + 0.5, y as f32 + 0.5]);
                out.put_pixel(x, y, image::Rgb(sampler.sample(u, v)));
            }
        }
        out
    }

    /// (destination, source) pairs: border points, mesh points and ring points, the
    /// destination's outside the image or too near another left out; and which of them were
    /// kept (their places in that order).
    fn control_points(&self, source_mesh: &Mesh, destination_mesh: &Mesh) -> (Vec<([f32; 2], [f32; 2])>, Vec<u16>) {
        let to_source = Similarity::fit(destination_mesh.points(), source_mesh.points()).unwrap_or(Similarity::IDENTITY);
        let to_destination =
            Similarity::fit(self.template.points(), destination_mesh.points()).unwrap_or(Similarity::IDENTITY);
        let mut pairs: Vec<([f32; 2], [f32; 2])> = Vec::with_capacity(MESH_POINTS + 4 * FACE_OVAL.len() + self.border.len());
        pairs.extend(self.border.iter().map(|&p| (p, to_source.apply(p))));
        pairs.extend(destination_mesh.points().iter().copied().zip(source_mesh.points().iter().copied()));
        let (template_centre, source_centre, destination_centre) =
            (self.template.centroid(), source_mesh.centroid(), destination_mesh.centroid());
        let grown = |centre: [f32; 2], point: [f32; 2], scale: f32| {
            [centre[0] + scale * (point[0] - centre[0]), centre[1] + scale * (point[1] - centre[1])]
        };
        let lerp = |a: [f32; 2], b: [f32; 2], t: f32| [a[0] + t * (b[0] - a[0]), a[1] + t * (b[1] - a[1])];
        for (&scale, &rigidity) in RING_SCALES.iter().zip(&RING_RIGIDITY) {
            for &i in &FACE_OVAL {
                let far = to_destination.apply(grown(template_centre, self.template.points()[i], scale));
                let destination = lerp(grown(destination_centre, destination_mesh.points()[i], scale), far, rigidity);
                let source = lerp(grown(source_centre, source_mesh.points()[i], scale), to_source.apply(far), rigidity);
                pairs.push((destination, source));
            }
        }
        let side = self.side as f32;
        let mut kept: Vec<([f32; 2], [f32; 2])> = Vec::with_capacity(pairs.len());
        let mut places: Vec<u16> = Vec::with_capacity(pairs.len());
        let mut grid = SeparationGrid::new(side);
        for (place, pair) in pairs.into_iter().enumerate() {
            let [x, y] = pair.0;
            let inside = (0.0..=side).contains(&x) && (0.0..=side).contains(&y);
            if inside && grid.insert(pair.0) {
                kept.push(pair);
                places.push(place as u16);
            }
        }
        (kept, places)
    }
}

/// Which destination points are kept, in cells of [`MIN_SEPARATION`], to refuse near-duplicates
/// without comparing every pair.
struct SeparationGrid {
    cells: std::collections::HashMap<(i32, i32), Vec<[f32; 2]>>,
}

impl SeparationGrid {
    fn new(_side: f32) -> SeparationGrid {
        SeparationGrid {
            cells: std::collections::HashMap::new(),
        }
    }

    /// Keeps `point` unless one kept is within [`MIN_SEPARATION`]; says whether it was kept.
    fn insert(&mut self, point: [f32; 2]) -> bool {
        let cell = |v: f32| (v / MIN_SEPARATION).floor() as i32;
        let (cx, cy) = (cell(point[0]), cell(point[1]));
        for dx in -1..=1 {
            for dy in -1..=1 {
                if let Some(near) = self.cells.get(&(cx + dx, cy + dy))
                    && near.iter().any(|q| (q[0] - point[0]).hypot(q[1] - point[1]) < MIN_SEPARATION)
                {
                    return false;
                }
            }
        }
        self.cells.entry((cx, cy)).or_default().push(point);
        true
    }
}

/// Paints the pixels whose centres lie in the destination triangle `d` (and are not painted
/// yet), each sampled from the source at the point its triangle's affine gives (`s`).
fn fill_triangle(sampler: &Sampler, out: &mut RgbImage, covered: &mut [bool], d: [[f32; 2]; 3], s: [[f32; 2]; 3]) {
    let (e1, e2) = ([d[1][0] - d[0][0], d[1][1] - d[0][1]], [d[2][0] - d[0][0], d[2][1] - d[0][1]]);
    let det = e1[0] * e2[1] - e1[1] * e2[0];
    if det.abs() < 1e-6 {
        return;
    }
    let inverse = 1.0 / det;
    let side = out.width();
    let bound = |v: f32| (v.max(0.0) as u32).min(side);
    let x0 = bound(d.iter().map(|p| p[0]).fold(f32::INFINITY, f32::min) - 0.5);
    let x1 = bound(d.iter().map(|p| p[0]).fold(f32::NEG_INFINITY, f32::max) + 0.5);
    let y0 = bound(d.iter().map(|p| p[1]).fold(f32::INFINITY, f32::min) - 0.5);
    let y1 = bound(d.iter().map(|p| p[1]).fold(f32::NEG_INFINITY, f32::max) + 0.5);
    // Barycentric (b1, b2) of a point are linear in it; the source point is s0 + b1 (s1 - s0) + b2 (s2 - s0).
    let (f1, f2) = ([s[1][0] - s[0][0], s[1][1] - s[0][1]], [s[2][0] - s[0][0], s[2][1] - s[0][1]]);
    const EDGE: f32 = -1e-4;
    for y in y0..y1 {
        let qy = y as f32 + 0.5 - d[0][1];
        for x in x0..x1 {
            let index = (y * side + x) as usize;
            if covered[index] {
                continue;
            }
            let qx = x as f32 + 0.5 - d[0][0];
            let b1 = (qx * e2[1] - qy * e2[0]) * inverse;
            let b2 = (e1[0] * qy - e1[1] * qx) * inverse;
            if b1 < EDGE || b2 < EDGE || b1 + b2 > 1.0 - EDGE {
                continue;
            }
            let u = s[0][0] + b1 * f1[0] + b2 * f2[0];
            let v = s[0][1] + b1 * f1[1] + b2 * f2[1];
            out.put_pixel(x, y, image::Rgb(sampler.sample(u, v)));
            covered[index] = true;
        }
    }
}

/// Twice the signed area of a triangle (positive when counter-clockwise in y-down pixels'
/// mirror, i.e. consistently for one orientation).
fn signed_area([a, b, c]: [[f32; 2]; 3]) -> f32 {
    (b[0] - a[0]) * (c[1] - a[1]) - (b[1] - a[1]) * (c[0] - a[0])
}

/// Samples a source image: bilinear inside, fading into the backdrop beyond its edge.
struct Sampler<'a> {
    source: &'a RgbImage,
    /// The mean colour of the source's outermost pixels.
    backdrop: [f32; 3],
}

impl<'a> Sampler<'a> {
    fn new(source: &'a RgbImage) -> Sampler<'a> {
        let (width, height) = source.dimensions();
        let mut sum = [0.0f64; 3];
        let mut count = 0.0f64;
        for (x, y, pixel) in source.enumerate_pixels() {
            if x == 0 || y == 0 || x + 1 == width || y + 1 == height {
                for c in 0..3 {
                    sum[c] += f64::from(pixel.0[c]);
                }
                count += 1.0;
            }
        }
        let backdrop = sum.map(|v| (v / count.max(1.0)) as f32);
        Sampler { source, backdrop }
    }

    fn sample(&self, u: f32, v: f32) -> [u8; 3] {
        let inside = bilinear(self.source, u, v);
        let (width, height) = (self.source.width() as f32, self.source.height() as f32);
        let beyond = (-u).max(u - width).max(-v).max(v - height);
        if !(beyond > 0.0) {
            return inside;
        }
        let t = (beyond / BACKDROP_FADE).min(1.0);
        std::array::from_fn(|c| (f32::from(inside[c]) * (1.0 - t) + self.backdrop[c] * t).round() as u8)
    }
}

/// The source at `(u, v)` (pixel corners at whole numbers, so pixel `i`'s centre is `i + 0.5`),
/// bilinear, the edge repeated beyond the image.
fn bilinear(source: &RgbImage, u: f32, v: f32) -> [u8; 3] {
    let (width, height) = (source.width() as i64, source.height() as i64);
    if width == 0 || height == 0 {
        return [0; 3];
    }
    let (x, y) = (u - 0.5, v - 0.5);
    let (x, y) = if x.is_finite() && y.is_finite() { (x, y) } else { (0.0, 0.0) };
    let (fx, fy) = (x - x.floor(), y - y.floor());
    let (ix, iy) = (x.floor() as i64, y.floor() as i64);
    if ix >= 0 && iy >= 0 && ix + 1 < width && iy + 1 < height {
        // Inside: the four neighbours straight from the buffer.
        let raw = source.as_raw();
        let row = 3 * width as usize;
        let at = 3 * (iy as usize * width as usize + ix as usize);
        let mut out = [0u8; 3];
        for c in 0..3 {
            let (p00, p10) = (f32::from(raw[at + c]), f32::from(raw[at + 3 + c]));
            let (p01, p11) = (f32::from(raw[at + row + c]), f32::from(raw[at + row + 3 + c]));
            let top = p00 + (p10 - p00) * fx;
            let bottom = p01 + (p11 - p01) * fx;
            out[c] = (top + (bottom - top) * fy).round() as u8;
        }
        return out;
    }
    let at = |px: i64, py: i64| source.get_pixel(px.clamp(0, width - 1) as u32, py.clamp(0, height - 1) as u32).0;
    let (p00, p10, p01, p11) = (at(ix, iy), at(ix + 1, iy), at(ix, iy + 1), at(ix + 1, iy + 1));
    let mut out = [0u8; 3];
    for c in 0..3 {
        let top = f32::from(p00[c]) * (1.0 - fx) + f32::from(p10[c]) * fx;
        let bottom = f32::from(p01[c]) * (1.0 - fx) + f32::from(p11[c]) * fx;
        out[c] = (top * (1.0 - fy) + bottom * fy).round().clamp(0.0, 255.0) as u8;
    }
    out
}

/// The Delaunay triangulation of `points` (distinct), by Bowyer-Watson insertion in f64: the
/// triangles as indices into `points`.
pub fn delaunay(points: &[[f32; 2]]) -> Vec<[usize; 3]> {
    struct Triangle {
        v: [usize; 3],
        centre: [f64; 2],
        radius2: f64,
    }
    let n = points.len();
    if n < 3 {
        return Vec::new();
    }
    let (mut low, mut high) = ([f64::INFINITY; 2], [f64::NEG_INFINITY; 2]);
    for p in points {
        for k in 0..2 {
            low[k] = low[k].min(f64::from(p[k]));
            high[k] = high[k].max(f64::from(p[k]));
        }
    }
    let span = (high[0] - low[0]).max(high[1] - low[1]).max(1.0);
    let mid = [(low[0] + high[0]) / 2.0, (low[1] + high[1]) / 2.0];
    // A triangle far around every point; its corners are indices n, n + 1, n + 2.
    let mut all: Vec<[f64; 2]> = points.iter().map(|p| [f64::from(p[0]), f64::from(p[1])]).collect();
    all.push([mid[0] - 100.0 * span, mid[1] - 100.0 * span]);
    all.push([mid[0] + 100.0 * span, mid[1] - 100.0 * span]);
    all.push([mid[0], mid[1] + 100.0 * span]);
    let circle = |v: [usize; 3]| -> ([f64; 2], f64) {
        let ([ax, ay], [bx, by], [cx, cy]) = (all[v[0]], all[v[1]], all[v[2]]);
        let d = 2.0 * (ax * (by - cy) + bx * (cy - ay) + cx * (ay - by));
        if d.abs() < 1e-12 {
            return ([ax, ay], f64::INFINITY);
        }
        let (a2, b2, c2) = (ax * ax + ay * ay, bx * bx + by * by, cx * cx + cy * cy);
        let ux = (a2 * (by - cy) + b2 * (cy - ay) + c2 * (ay - by)) / d;
        let uy = (a2 * (cx - bx) + b2 * (ax - cx) + c2 * (bx - ax)) / d;
        ([ux, uy], (ax - ux).powi(2) + (ay - uy).powi(2))
    };
    let make = |v: [usize; 3]| {
        let (centre, radius2) = circle(v);
        Triangle { v, centre, radius2 }
    };
    let mut triangles = vec![make([n, n + 1, n + 2])];
    let mut edges: Vec<[usize; 2]> = Vec::new();
    // Inserting in a sweep keeps each cavity near the last: fewer triangles move.
    let mut order: Vec<usize> = (0..n).collect();
    order.sort_by(|&a, &b| all[a][0].total_cmp(&all[b][0]));
    for p in order {
        let [px, py] = all[p];
        edges.clear();
        let mut t = 0;
        while t < triangles.len() {
            let triangle = &triangles[t];
            let inside = (px - triangle.centre[0]).powi(2) + (py - triangle.centre[1]).powi(2) < triangle.radius2;
            if inside {
                let [a, b, c] = triangle.v;
                for edge in [[a, b], [b, c], [c, a]] {
                    // An edge two cavity triangles share is inside the cavity: it goes.
                    if let Some(shared) = edges.iter().position(|e| (e[0] == edge[1] && e[1] == edge[0]) || *e == edge) {
                        edges.swap_remove(shared);
                    } else {
                        edges.push(edge);
                    }
                }
                triangles.swap_remove(t);
            } else {
                t += 1;
            }
        }
        for &[a, b] in &edges {
            triangles.push(make([a, b, p]));
        }
    }
    triangles.into_iter().map(|t| t.v).filter(|v| v.iter().all(|&i| i < n)).collect()
}

#[cfg(test)]
mod tests;

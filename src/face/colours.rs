//! Colours of a face: the skin and hair regions of a mesh ("Colour regions" in the face spec),
//! the colours a user hinted there, and CIE Lab, the space where retrieval compares colours.
//!
//! The bank's colours (written by `training/bank.py`) and the hint colours of a drawing follow
//! the same region rule, [`ColourRegions`]; the Python side mirrors it, so its doc comment is the
//! rule's one statement.

use image::RgbaImage;

use super::mesh::{FACE_OVAL, Mesh};

/// The skin polygon is the face oval shrunk to this fraction about the mesh's centroid.
pub const SKIN_SCALE: f32 = 0.8;
/// The hair band's outer edge is the face oval grown to this multiple about the centroid.
pub const HAIR_SCALE: f32 = 1.5;
/// The mesh point between the eyes: the hair band lies above (smaller y than) it.
pub const HAIR_LINE_POINT: usize = 168;
/// Fewer hinted pixels than this in a region say nothing about its colour.
pub const MIN_HINT_PIXELS: usize = 20;

/// A region whose mean colour describes a face.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ColourRegion {
    Skin,
    Hair,
}

/// The colour regions of one mesh, in the mesh's pixels.
///
/// The rule (the Python side mirrors it exactly): with `c` the mesh's centroid (the mean of its
/// 468 points) and `O` the face-oval polygon (the points [`FACE_OVAL`], in that order, closed),
/// - **skin**: inside the polygon `c + 0.8 (O - c)`;
/// - **hair**: inside the polygon `c + 1.5 (O - c)`, not inside `O`, and with `y` strictly
///   smaller than the `y` of point 168 (between the eyes): the crown and the sides above the eyes;
/// - anything else is neither.
///
/// "Inside" is the even-odd (crossing number) rule of [`inside_polygon`]. Pixel `(x, y)` of an
/// image is tested at its centre `(x + 0.5, y + 0.5)`: mesh coordinates put the image's
/// top-left corner at (0, 0), as MediaPipe's normalised points times the image size do.
#[derive(Clone, Debug)]
pub struct ColourRegions {
    skin: Vec<[f32; 2]>,
    oval: Vec<[f32; 2]>,
    hair_outer: Vec<[f32; 2]>,
    hair_line_y: f32,
}

impl ColourRegions {
    pub fn new(mesh: &Mesh) -> ColourRegions {
        let points = mesh.points();
        let [cx, cy] = mesh.centroid();
        let oval: Vec<[f32; 2]> = FACE_OVAL.iter().map(|&i| points[i]).collect();
        let about_centre = |scale: f32| -> Vec<[f32; 2]> {
            oval.iter()
                .map(|&[x, y]| [cx + scale * (x - cx), cy + scale * (y - cy)])
                .collect()
        };
        ColourRegions {
            skin: about_centre(SKIN_SCALE),
            hair_outer: about_centre(HAIR_SCALE),
            hair_line_y: points[HAIR_LINE_POINT][1],
            oval,
        }
    }

    /// The region a point (in the mesh's pixels) lies in.
    pub fn region_at(&self, point: [f32; 2]) -> Option<ColourRegion> {
        self.region_by(point[1], |polygon| inside_polygon(self.polygon(polygon), point))
    }

    /// The rule, for a point at height `y` with `inside` saying whether it lies inside each
    /// polygon (asked only as the rule needs it).
    fn region_by(&self, y: f32, inside: impl Fn(Polygon) -> bool) -> Option<ColourRegion> {
        if inside(Polygon::Skin) {
            Some(ColourRegion::Skin)
        } else if y < self.hair_line_y && inside(Polygon::HairOuter) && !inside(Polygon::Oval) {
            Some(ColourRegion::Hair)
        } else {
            None
        }
    }

    fn polygon(&self, polygon: Polygon) -> &[[f32; 2]] {
        match polygon {
            Polygon::Skin => &self.skin,
            Polygon::Oval => &self.oval,
            Polygon::HairOuter => &self.hair_outer,
        }
    }

    /// The region of pixel `(x, y)`: the one its centre lies in.
    pub fn region_of_pixel(&self, x: u32, y: u32) -> Option<ColourRegion> {
        self.region_at([x as f32 + 0.5, y as f32 + 0.5])
    }

    /// The pixels of a `width` x `height` image that can lie in a region: `[x0, y0, x1, y1)`.
    fn pixel_bounds(&self, width: u32, height: u32) -> [u32; 4] {
        let [x0, y0, x1, y1] = self.hair_outer.iter().chain(&self.skin).fold(
            [f32::INFINITY, f32::INFINITY, f32::NEG_INFINITY, f32::NEG_INFINITY],
            |[x0, y0, x1, y1], p| [x0.min(p[0]), y0.min(p[1]), x1.max(p[0]), y1.max(p[1])],
        );
        // Float-to-int casts saturate, so a mesh far outside the image scans nothing.
        let clamp = |v: f32, limit: u32| (v.max(0.0) as u32).min(limit);
        [
            clamp(x0.floor(), width),
            clamp(y0.floor(), height),
            clamp(x1.ceil() + 1.0, width),
            clamp(y1.ceil() + 1.0, height),
        ]
    }
}

/// Even-odd rule: is `point` inside the closed polygon `polygon` (last vertex joined to the
/// first)? A ray from `point` towards +x crosses the edge from `a` to `b` when exactly one of
/// them has `y > point.y` and the crossing's x is greater than `point.x`.
pub fn inside_polygon(polygon: &[[f32; 2]], [x, y]: [f32; 2]) -> bool {
    let Some(&last) = polygon.last() else { return false };
    let mut inside = false;
    let mut b = last;
    for &a in polygon {
        if (a[1] > y) != (b[1] > y) && x < a[0] + (b[0] - a[0]) * (y - a[1]) / (b[1] - a[1]) {
            inside = !inside;
        }
        b = a;
    }
    inside
}

/// The polygons of [`ColourRegions`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Polygon {
    Skin,
    Oval,
    HairOuter,
}

/// Where one pixel row (at height `y`) crosses each region polygon: [`ColourRegions::region_at`]
/// for a whole row at once. The crossings are the very values [`inside_polygon`] compares `x`
/// with, so a point's region is the same, found with a sorted search instead of every edge.
#[derive(Default)]
struct RowCrossings {
    y: f32,
    /// Sorted, one list per [`Polygon`] in its order.
    crossings: [Vec<f32>; 3],
}

impl RowCrossings {
    fn at(&mut self, regions: &ColourRegions, y: f32) {
        self.y = y;
        for (crossings, polygon) in self.crossings.iter_mut().zip([Polygon::Skin, Polygon::Oval, Polygon::HairOuter]) {
            crossings.clear();
            let polygon = regions.polygon(polygon);
            let Some(&last) = polygon.last() else { continue };
            let mut b = last;
            for &a in polygon {
                if (a[1] > y) != (b[1] > y) {
                    crossings.push(a[0] + (b[0] - a[0]) * (y - a[1]) / (b[1] - a[1]));
                }
                b = a;
            }
            crossings.sort_by(f32::total_cmp);
        }
    }

    /// The region of the point `(x, self.y)`; `regions` are the ones [`RowCrossings::at`] read.
    fn region_at(&self, regions: &ColourRegions, x: f32) -> Option<ColourRegion> {
        regions.region_by(self.y, |polygon| {
            // Inside: an odd number of crossings lie right of x (x < crossing).
            let crossings = &self.crossings[polygon as usize];
            (crossings.len() - crossings.partition_point(|&c| !(x < c))) % 2 == 1
        })
    }
}

/// Colours a user hinted for the face, RGB in 0..1; `None` where they hinted too little.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct HintColours {
    pub skin: Option<[f32; 3]>,
    pub hair: Option<[f32; 3]>,
}

/// The mean colour of the hinted pixels (alpha > 0; the colour is the pixel's RGB whatever its
/// alpha, as in the model's hints) in each region of `mesh` ([`ColourRegions`]), `hints` and
/// `mesh` in the same pixels. A region with fewer than [`MIN_HINT_PIXELS`] hinted pixels gets
/// `None`.
pub fn hint_colours(hints: &RgbaImage, mesh: &Mesh) -> HintColours {
    let regions = ColourRegions::new(mesh);
    let [x0, y0, x1, y1] = regions.pixel_bounds(hints.width(), hints.height());
    // [skin, hair]: sums of r, g, b and the count.
    let mut sums = [[0u64; 4]; 2];
    let mut rows = RowCrossings::default();
    for y in y0..y1 {
        let row = &hints.as_raw()[(y as usize * hints.width() as usize) * 4..][..hints.width() as usize * 4];
        if !row[x0 as usize * 4..x1 as usize * 4].chunks_exact(4).any(|pixel| pixel[3] != 0) {
            continue;
        }
        rows.at(&regions, y as f32 + 0.5);
        for x in x0..x1 {
            let pixel = &row[x as usize * 4..x as usize * 4 + 4];
            if pixel[3] == 0 {
                continue;
            }
            let slot = match rows.region_at(&regions, x as f32 + 0.5) {
                Some(ColourRegion::Skin) => 0,
                Some(ColourRegion::Hair) => 1,
                None => continue,
            };
            for channel in 0..3 {
                sums[slot][channel] += u64::from(pixel[channel]);
            }
            sums[slot][3] += 1;
        }
    }
    let mean = |[r, g, b, count]: [u64; 4]| {
        (count as usize >= MIN_HINT_PIXELS).then(|| {
            let scale = 1.0 / (255.0 * count as f64);
            [(r as f64 * scale) as f32, (g as f64 * scale) as f32, (b as f64 * scale) as f32]
        })
    };
    HintColours { skin: mean(sums[0]), hair: mean(sums[1]) }
}

/// sRGB in 0..1 (clamped) to CIE L*a*b* (D65 white): L in 0..100, a difference of about 2.3 is
/// just noticeable.
pub fn lab(rgb: [f32; 3]) -> [f32; 3] {
    let linear = rgb.map(|c| {
        let c = c.clamp(0.0, 1.0);
        if c <= 0.04045 { c / 12.92 } else { ((c + 0.055) / 1.055).powf(2.4) }
    });
    let [r, g, b] = linear;
    // sRGB primaries to XYZ, each row divided by the D65 white's X, Y, Z.
    let xyz = [
        (0.4124 * r + 0.3576 * g + 0.1805 * b) / 0.95047,
        0.2126 * r + 0.7152 * g + 0.0722 * b,
        (0.0193 * r + 0.1192 * g + 0.9505 * b) / 1.08883,
    ];
    const DELTA: f32 = 6.0 / 29.0;
    let [fx, fy, fz] = xyz.map(|t| {
        if t > DELTA * DELTA * DELTA { t.cbrt() } else { t / (3.0 * DELTA * DELTA) + 4.0 / 29.0 }
    });
    [116.0 * fy - 16.0, 500.0 * (fx - fy), 200.0 * (fy - fz)]
}

#[cfg(test)]
mod tests {
    use image::Rgba;

    use super::*;
    use crate::face::Similarity;

    /// The real mesh the training tests use (MediaPipe on the astronaut face, 128 px).
    fn astronaut_mesh() -> Mesh {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/training/tests/data/astronaut_landmarks.json");
        let json: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
        let points: Vec<[f32; 2]> = json["points"]
            .as_array()
            .unwrap()
            .iter()
            .take(468)
            .map(|p| [p[0].as_f64().unwrap() as f32, p[1].as_f64().unwrap() as f32])
            .collect();
        Mesh::new(points).unwrap()
    }

    fn paint_disc(image: &mut RgbaImage, centre: [f32; 2], radius: f32, colour: [u8; 3]) -> usize {
        let mut painted = 0;
        for (x, y, pixel) in image.enumerate_pixels_mut() {
            let (dx, dy) = (x as f32 + 0.5 - centre[0], y as f32 + 0.5 - centre[1]);
            if dx * dx + dy * dy <= radius * radius {
                *pixel = Rgba([colour[0], colour[1], colour[2], 255]);
                painted += 1;
            }
        }
        painted
    }

    #[test]
    fn inside_polygon_follows_the_even_odd_rule_on_a_concave_shape() {
        // A "U": the notch between the arms is outside.
        let u = [[0.0, 0.0], [1.0, 0.0], [1.0, 3.0], [2.0, 3.0], [2.0, 0.0], [3.0, 0.0], [3.0, 4.0], [0.0, 4.0]];
        assert!(inside_polygon(&u, [0.5, 1.0]));
        assert!(inside_polygon(&u, [2.5, 1.0]));
        assert!(inside_polygon(&u, [1.5, 3.5]));
        assert!(!inside_polygon(&u, [1.5, 1.0]), "the notch");
        assert!(!inside_polygon(&u, [3.5, 1.0]));
        assert!(!inside_polygon(&u, [-0.5, 1.0]));
        assert!(!inside_polygon(&[], [0.0, 0.0]));
    }

    #[test]
    fn regions_of_the_astronaut_mesh_are_skin_in_the_face_and_hair_above_it() {
        let mesh = astronaut_mesh();
        let regions = ColourRegions::new(&mesh);
        let p = mesh.points();
        // The nose tip (point 1) and the centroid are skin. On the way up from the centroid
        // through the forehead top (point 10, a vertex of the oval): skin up to 0.8 of the way,
        // then neither up to the oval, then hair up to 1.5 times as far, then neither. (Point 10
        // itself lies on the oval's edge, where inside and outside are a matter of rounding.)
        assert_eq!(regions.region_at(p[1]), Some(ColourRegion::Skin));
        let c = mesh.centroid();
        assert_eq!(regions.region_at(c), Some(ColourRegion::Skin));
        let towards_10 = |scale: f32| [c[0] + scale * (p[10][0] - c[0]), c[1] + scale * (p[10][1] - c[1])];
        assert_eq!(regions.region_at(towards_10(0.75)), Some(ColourRegion::Skin));
        assert_eq!(regions.region_at(towards_10(0.9)), None, "between skin and hair");
        assert_eq!(regions.region_at(towards_10(1.1)), Some(ColourRegion::Hair));
        assert_eq!(regions.region_at(towards_10(1.45)), Some(ColourRegion::Hair));
        assert_eq!(regions.region_at(towards_10(1.55)), None, "beyond the hair band");
        assert_eq!(regions.region_at([p[10][0], p[10][1] - 8.0]), Some(ColourRegion::Hair));
        // Beside the temples, above the eyes: hair; beside the cheeks, below the eye line: neither.
        assert_eq!(regions.region_at([p[234][0] - 6.0, p[168][1] - 2.0]), Some(ColourRegion::Hair));
        assert_eq!(regions.region_at([p[234][0] - 6.0, p[168][1] + 10.0]), None);
        // Far above the head (outside 1.5 x the oval) and below the chin: neither.
        assert_eq!(regions.region_at([p[10][0], 2.0]), None);
        assert_eq!(regions.region_at([p[152][0], p[152][1] + 8.0]), None);
    }

    #[test]
    fn hint_colours_are_the_means_of_the_painted_regions() {
        let mesh = astronaut_mesh();
        let p = mesh.points();
        let mut hints = RgbaImage::new(128, 128);
        // Colour without alpha is not a hint.
        for pixel in hints.pixels_mut() {
            *pixel = Rgba([0, 255, 0, 0]);
        }
        // Skin on the cheek beside the nose; hair in two colours, above the forehead and beside
        // the temple; a background stroke (bottom left corner) that is neither.
        let skin = paint_disc(&mut hints, [p[1][0] + 8.0, p[1][1] - 4.0], 5.0, [200, 150, 120]);
        let crown = paint_disc(&mut hints, [p[10][0], p[10][1] - 9.0], 4.0, [230, 200, 100]);
        let temple = paint_disc(&mut hints, [p[234][0] - 7.0, p[168][1] - 6.0], 3.0, [130, 100, 60]);
        paint_disc(&mut hints, [6.0, 122.0], 5.0, [0, 0, 255]);
        assert!(skin >= MIN_HINT_PIXELS && crown + temple >= MIN_HINT_PIXELS, "{skin} {crown} {temple}");
        let found = hint_colours(&hints, &mesh);
        let close = |got: [f32; 3], want: [f32; 3]| got.iter().zip(want).all(|(g, w)| (g - w / 255.0).abs() < 1e-5);
        let skin_found = found.skin.expect("skin hinted");
        assert!(close(skin_found, [200.0, 150.0, 120.0]), "{skin_found:?}");
        let hair_found = found.hair.expect("hair hinted");
        let (a, b) = (crown as f32, temple as f32);
        let mean = [0, 1, 2].map(|c| ([230.0, 200.0, 100.0][c] * a + [130.0, 100.0, 60.0][c] * b) / (a + b));
        assert!(close(hair_found, mean), "{hair_found:?} {mean:?}");

        // A few hinted pixels of hair are not enough; the skin alone stays.
        let mut few = RgbaImage::new(128, 128);
        paint_disc(&mut few, [p[1][0] + 8.0, p[1][1] - 4.0], 5.0, [200, 150, 120]);
        let dots = paint_disc(&mut few, [p[10][0], p[10][1] - 9.0], 2.0, [20, 20, 20]);
        assert!(dots < MIN_HINT_PIXELS, "{dots}");
        let found = hint_colours(&few, &mesh);
        assert!(found.skin.is_some());
        assert_eq!(found.hair, None);
        assert_eq!(hint_colours(&RgbaImage::new(128, 128), &mesh), HintColours::default());
        // A mesh far outside the image hints nothing (and scans nothing).
        let away = mesh.transformed(&Similarity { tx: 5000.0, ..Similarity::IDENTITY });
        assert_eq!(hint_colours(&hints, &away), HintColours::default());
    }

    #[test]
    fn a_rows_crossings_give_every_pixel_the_region_the_polygons_give_it() {
        // The astronaut's mesh, and turned (edges at every slope) and moved half out of the image.
        let mesh = astronaut_mesh();
        let turned = mesh.transformed(&Similarity { a: 0.9, b: 0.4, tx: -30.0, ty: 20.0 });
        for mesh in [mesh, turned] {
            let regions = ColourRegions::new(&mesh);
            let mut rows = RowCrossings::default();
            let mut counts = [0usize; 3];
            for y in 0..128 {
                rows.at(&regions, y as f32 + 0.5);
                for x in 0..128 {
                    let want = regions.region_of_pixel(x, y);
                    assert_eq!(rows.region_at(&regions, x as f32 + 0.5), want, "pixel ({x}, {y})");
                    counts[match want { Some(ColourRegion::Skin) => 0, Some(ColourRegion::Hair) => 1, None => 2 }] += 1;
                }
            }
            assert!(counts.iter().all(|&c| c > 100), "each region has pixels: {counts:?}");
        }
    }

    #[test]
    fn lab_matches_reference_values() {
        let close = |a: [f32; 3], b: [f32; 3]| a.iter().zip(b).all(|(x, y)| (x - y).abs() < 0.05);
        assert!(close(lab([1.0, 1.0, 1.0]), [100.0, 0.0, 0.0]), "{:?}", lab([1.0, 1.0, 1.0]));
        assert!(close(lab([0.0, 0.0, 0.0]), [0.0, 0.0, 0.0]));
        // sRGB red and a mid grey (references from the CIE formulas, D65).
        assert!(close(lab([1.0, 0.0, 0.0]), [53.24, 80.09, 67.20]), "{:?}", lab([1.0, 0.0, 0.0]));
        assert!(close(lab([0.5, 0.5, 0.5]), [53.39, 0.0, 0.0]), "{:?}", lab([0.5, 0.5, 0.5]));
    }
}

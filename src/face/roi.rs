//! Where the mesh network looks: the square crop of the drawing that holds the face, and the
//! crop itself, cut the way `training/mesh.py` cuts its training crops (`roi_matrix`, `crop`),
//! so the network sees in the app what it saw in training.
//!
//! A [`CropBox`] is a square in the drawing's pixels: its centre, its side and its angle (the
//! face's eye line). Around a known mesh it is MediaPipe's own framing ([`CropBox::around`]):
//! the box of the mesh's points in the frame levelled by the eye line, its longer side times the
//! model's ROI scale. Before any mesh is known, first guesses frame the canvas framing
//! ([`CropBox::from_fractions`]) and the drawing's ink ([`ink_bounds`]).

use image::GrayImage;

use super::mesh::{LEFT_EYE_OUTER, Mesh, RIGHT_EYE_OUTER, Similarity};

/// Gray levels below this are ink (the sketch is dark lines on white paper).
pub const INK_LEVEL: u8 = 128;
/// What lies outside the drawing: white paper.
const PAPER: f32 = 255.0;
/// Below this many crop pixels per drawing pixel the drawing is first halved (box filter), so
/// that thin lines do not fall between the bilinear samples.
const MIN_SAMPLING_SCALE: f32 = 0.5;

/// A square region of a drawing, in the drawing's pixels.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct CropBox {
    pub centre: [f32; 2],
    pub side: f32,
    /// Radians, the angle of the eye line (from the left eye's outer corner to the right's);
    /// the crop turns it level.
    pub angle: f32,
}

impl CropBox {
    /// MediaPipe's framing of `mesh`: levelled by the eye line, centred on the box of the points
    /// in the levelled frame, side = that box's longer side times `scale`.
    pub fn around(mesh: &Mesh, scale: f32) -> CropBox {
        let points = mesh.points();
        let [lx, ly] = points[LEFT_EYE_OUTER];
        let [rx, ry] = points[RIGHT_EYE_OUTER];
        let angle = (ry - ly).atan2(rx - lx);
        let level = Similarity {
            a: (-angle).cos(),
            b: (-angle).sin(),
            tx: 0.0,
            ty: 0.0,
        };
        let (mut low, mut high) = ([f32::INFINITY; 2], [f32::NEG_INFINITY; 2]);
        for &point in points {
            let [x, y] = level.apply(point);
            low = [low[0].min(x), low[1].min(y)];
            high = [high[0].max(x), high[1].max(y)];
        }
        let levelled_centre = [(low[0] + high[0]) / 2.0, (low[1] + high[1]) / 2.0];
        let back = level.inverse().expect("a rotation is invertible");
        CropBox {
            centre: back.apply(levelled_centre),
            side: (high[0] - low[0]).max(high[1] - low[1]) * scale,
            angle,
        }
    }

    /// A level box given in fractions of a `width` x `height` drawing: `[centre x, centre y,
    /// side]`, the side a fraction of the shorter edge (the model's `framing_box`).
    pub fn from_fractions([cx, cy, side]: [f32; 3], width: u32, height: u32) -> CropBox {
        let shorter = width.min(height) as f32;
        CropBox {
            centre: [cx * width as f32, cy * height as f32],
            side: side * shorter,
            angle: 0.0,
        }
    }

    /// A level box on the centre of `bounds` (`[x0, y0, x1, y1]`), its side `scale` times their
    /// longer side, moved down by `shift` sides.
    pub fn around_bounds([x0, y0, x1, y1]: [f32; 4], scale: f32, shift: f32) -> CropBox {
        let side = (x1 - x0).max(y1 - y0).max(1.0) * scale;
        CropBox {
            centre: [(x0 + x1) / 2.0, (y0 + y1) / 2.0 + shift * side],
            side,
            angle: 0.0,
        }
    }

    /// The map from the drawing's pixels into a `crop_side` crop of this box (training's
    /// `roi_matrix`); `None` for a box with no area.
    pub fn to_crop(&self, crop_side: u32) -> Option<Similarity> {
        if !(self.side.is_finite() && self.side > 0.0 && self.angle.is_finite()) {
            return None;
        }
        let k = crop_side as f32 / self.side;
        let (a, b) = ((-self.angle).cos() * k, (-self.angle).sin() * k);
        let half = crop_side as f32 / 2.0;
        let [cx, cy] = self.centre;
        Some(Similarity {
            a,
            b,
            tx: half - (a * cx - b * cy),
            ty: half - (b * cx + a * cy),
        })
    }

    /// The crop: `crop_side` x `crop_side` gray, paper outside the drawing, sampled bilinearly
    /// at integer pixel coordinates as OpenCV's `warpAffine` does (training's `crop`). A drawing
    /// much larger than the crop is first halved (box filter) until it is not. `None` for a box
    /// with no area.
    pub fn sample(&self, sketch: &GrayImage, crop_side: u32) -> Option<GrayImage> {
        let to_crop = self.to_crop(crop_side)?;
        let mut from_crop = to_crop.inverse()?;
        let mut halved: Option<GrayImage> = None;
        let mut scale = to_crop.scale();
        while scale < MIN_SAMPLING_SCALE {
            let source = halved.as_ref().unwrap_or(sketch);
            if source.width() < 2 || source.height() < 2 {
                break;
            }
            halved = Some(halve(source));
            // Pixel i of the halved image covers pixels 2i and 2i + 1: its centre is at 2i + 0.5.
            let into_halved = Similarity {
                a: 0.5,
                b: 0.0,
                tx: -0.25,
                ty: -0.25,
            };
            from_crop = into_halved.after(&from_crop);
            scale *= 2.0;
        }
        let source = halved.as_ref().unwrap_or(sketch);
        let mut crop = GrayImage::new(crop_side, crop_side);
        for (x, y, pixel) in crop.enumerate_pixels_mut() {
            let [sx, sy] = from_crop.apply([x as f32, y as f32]);
            // Rounded by truncation: values are 0..=255 (`round` is a libm call per pixel).
            pixel.0[0] = (bilinear(source, sx, sy) + 0.5) as u8;
        }
        Some(crop)
    }
}

/// The box `[x0, y0, x1, y1]` of the ink (pixels darker than [`INK_LEVEL`]), pixel edges
/// included; `None` on blank paper.
pub fn ink_bounds(sketch: &GrayImage) -> Option<[f32; 4]> {
    let mut bounds: Option<[u32; 4]> = None;
    for (x, y, pixel) in sketch.enumerate_pixels() {
        if pixel.0[0] < INK_LEVEL {
            let [x0, y0, x1, y1] = bounds.get_or_insert([x, y, x, y]);
            *x0 = (*x0).min(x);
            *y0 = (*y0).min(y);
            *x1 = (*x1).max(x);
            *y1 = (*y1).max(y);
        }
    }
    bounds.map(|[x0, y0, x1, y1]| [x0 as f32, y0 as f32, (x1 + 1) as f32, (y1 + 1) as f32])
}

/// Half the size, each pixel the mean of the 2 x 2 it covers (an odd last row or column is
/// dropped).
fn halve(image: &GrayImage) -> GrayImage {
    let (width, height) = (image.width() / 2, image.height() / 2);
    let wide = image.width() as usize;
    let mut out = Vec::with_capacity(width as usize * height as usize);
    for pair in image.as_raw().chunks_exact(2 * wide).take(height as usize) {
        let (top, bottom) = pair.split_at(wide);
        for (t, b) in top.chunks_exact(2).zip(bottom.chunks_exact(2)).take(width as usize) {
            let sum = u32::from(t[0]) + u32::from(t[1]) + u32::from(b[0]) + u32::from(b[1]);
            out.push(((sum + 2) / 4) as u8);
        }
    }
    GrayImage::from_raw(width, height, out).expect("width x height bytes")
}

/// The image at `(x, y)` in pixel-index coordinates (pixel `i`'s centre at `i`), bilinear,
/// paper outside it (OpenCV's constant border).
fn bilinear(image: &GrayImage, x: f32, y: f32) -> f32 {
    if !(x.is_finite() && y.is_finite()) {
        return PAPER;
    }
    let (x0, y0) = (x.floor(), y.floor());
    let (fx, fy) = (x - x0, y - y0);
    let (width, height) = (image.width() as f32, image.height() as f32);
    if x0 >= 0.0 && y0 >= 0.0 && x0 + 1.0 < width && y0 + 1.0 < height {
        // All four inside (nearly every pixel of a crop): read the rows directly.
        let (wide, raw) = (image.width() as usize, image.as_raw());
        let start = y0 as usize * wide + x0 as usize;
        let (a, b) = (f32::from(raw[start]), f32::from(raw[start + 1]));
        let (c, d) = (f32::from(raw[start + wide]), f32::from(raw[start + wide + 1]));
        let top = a * (1.0 - fx) + b * fx;
        let bottom = c * (1.0 - fx) + d * fx;
        return top * (1.0 - fy) + bottom * fy;
    }
    let at = |ix: f32, iy: f32| -> f32 {
        if ix < 0.0 || iy < 0.0 || ix >= image.width() as f32 || iy >= image.height() as f32 {
            PAPER
        } else {
            f32::from(image.get_pixel(ix as u32, iy as u32).0[0])
        }
    };
    let top = at(x0, y0) * (1.0 - fx) + at(x0 + 1.0, y0) * fx;
    let bottom = at(x0, y0 + 1.0) * (1.0 - fx) + at(x0 + 1.0, y0 + 1.0) * fx;
    top * (1.0 - fy) + bottom * fy
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mesh_at(scale: f32, angle: f32, centre: [f32; 2]) -> Mesh {
        // A ring of 468 points, eye corners placed on the horizontal diameter, then turned.
        let mut points: Vec<[f32; 2]> = (0..468)
            .map(|i| {
                let t = i as f32 / 468.0 * std::f32::consts::TAU;
                [t.cos(), t.sin() * 1.25]
            })
            .collect();
        points[LEFT_EYE_OUTER] = [-0.5, 0.0];
        points[RIGHT_EYE_OUTER] = [0.5, 0.0];
        let turn = Similarity {
            a: angle.cos() * scale,
            b: angle.sin() * scale,
            tx: centre[0],
            ty: centre[1],
        };
        Mesh::new(points.into_iter().map(|p| turn.apply(p)).collect()).unwrap()
    }

    #[test]
    fn the_box_around_a_mesh_is_levelled_by_its_eye_line_and_scaled_from_its_longer_side() {
        let mesh = mesh_at(40.0, 0.3, [100.0, 120.0]);
        let found = CropBox::around(&mesh, 1.5);
        assert!((found.angle - 0.3).abs() < 1e-4, "{found:?}");
        assert!((found.centre[0] - 100.0).abs() < 0.1 && (found.centre[1] - 120.0).abs() < 0.1, "{found:?}");
        // The levelled box is 2 x 2.5 radii: the longer side is 2.5 * 40 = 100.
        assert!((found.side - 150.0).abs() < 0.5, "{found:?}");
    }

    #[test]
    fn the_crop_map_puts_the_box_on_the_crop_and_levels_the_eye_line() {
        let mesh = mesh_at(40.0, -0.4, [300.0, 200.0]);
        let crop_box = CropBox::around(&mesh, 1.5);
        let to_crop = crop_box.to_crop(192).unwrap();
        let [cx, cy] = to_crop.apply(crop_box.centre);
        assert!((cx - 96.0).abs() < 1e-3 && (cy - 96.0).abs() < 1e-3);
        let left = to_crop.apply(mesh.points()[LEFT_EYE_OUTER]);
        let right = to_crop.apply(mesh.points()[RIGHT_EYE_OUTER]);
        assert!((left[1] - right[1]).abs() < 1e-3 && right[0] > left[0], "{left:?} {right:?}");
        assert!((to_crop.scale() - 192.0 / crop_box.side).abs() < 1e-5);
    }

    #[test]
    fn a_sampled_crop_holds_the_drawing_where_the_map_says_and_paper_outside() {
        let mut sketch = GrayImage::from_pixel(400, 300, image::Luma([255]));
        for y in 140..160 {
            for x in 190..210 {
                sketch.put_pixel(x, y, image::Luma([0]));
            }
        }
        // A box centred on the dark square, the drawing's left edge inside the crop.
        let crop_box = CropBox {
            centre: [200.0, 150.0],
            side: 500.0,
            angle: 0.0,
        };
        let crop = crop_box.sample(&sketch, 192).unwrap();
        assert!(crop.get_pixel(96, 96).0[0] < 40, "the square is at the centre");
        assert_eq!(crop.get_pixel(2, 96).0[0], 255, "outside the drawing is paper");
        assert!(crop.get_pixel(96, 60).0[0] > 200, "around the square is the drawing's paper");
    }

    #[test]
    fn a_large_drawing_is_halved_before_sampling_so_thin_lines_survive() {
        // One-pixel vertical lines every 8 pixels across a 2048 px drawing: sampled at ~0.09
        // crop pixels per pixel, a plain bilinear crop would miss most of them.
        let sketch = GrayImage::from_fn(2048, 2048, |x, _| image::Luma([if x % 8 == 0 { 0 } else { 255 }]));
        let crop_box = CropBox {
            centre: [1024.0, 1024.0],
            side: 2048.0,
            angle: 0.0,
        };
        let crop = crop_box.sample(&sketch, 192).unwrap();
        let row: Vec<u8> = (0..192).map(|x| crop.get_pixel(x, 96).0[0]).collect();
        let mean = row.iter().map(|&v| f32::from(v)).sum::<f32>() / 192.0;
        // The lines cover 1/8 of the drawing: the mean gray is near 255 * 7/8 = 223 when every
        // line is felt.
        assert!((mean - 223.0).abs() < 12.0, "mean gray {mean}");
    }

    #[test]
    fn ink_bounds_cover_the_dark_pixels_and_blank_paper_has_none() {
        let mut sketch = GrayImage::from_pixel(64, 64, image::Luma([255]));
        assert_eq!(ink_bounds(&sketch), None);
        sketch.put_pixel(10, 20, image::Luma([0]));
        sketch.put_pixel(30, 5, image::Luma([100]));
        sketch.put_pixel(40, 40, image::Luma([200]));
        assert_eq!(ink_bounds(&sketch), Some([10.0, 5.0, 31.0, 21.0]));
    }

    #[test]
    fn a_box_without_area_gives_no_crop() {
        let crop_box = CropBox {
            centre: [0.0, 0.0],
            side: 0.0,
            angle: 0.0,
        };
        assert!(crop_box.to_crop(192).is_none());
        assert!(crop_box.sample(&GrayImage::new(8, 8), 192).is_none());
    }
}

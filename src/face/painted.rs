//! Painted regions: where a user painted one colour over a face, the face takes that colour
//! there on average and keeps most of its own detail.
//!
//! A colour hint says "this area is this colour" (the hair is blonde, the cheek is this shade),
//! not "cover this area in flat paint": a painted region's mean colour becomes the colour painted
//! there, and most of the face's shading and detail inside it stay. A region is a 4-connected
//! patch of painted pixels of one colour; touching strokes of different colours are different
//! regions.
//! The shift fades out over a few pixels beyond the paint, so a region's edge leaves no seam.

use image::RgbImage;

/// Neighbouring painted pixels whose colours differ by at most this much, in every channel (of
/// 255), are one region: the rounding of a resized hint layer, not a second colour.
pub const SAME_COLOUR: f32 = 4.0;
/// How much of its own detail a painted region keeps (the rest is the painted colour, flat). The
/// detail is the bank person's, so only partly the drawn person's: on 40 held-out UTK faces with
/// simulated hints, keeping 0.5 or 0.75 of it gave the least error in the painted pixels (mean
/// absolute 0.0668 of full scale; flat paint 0.0712, all of it kept 0.0683); 0.75 keeps more of
/// the photograph.
pub const DETAIL_KEPT: f32 = 0.75;
/// The shift fades out over this fraction of the face's side beyond the paint (4 px at 256).
pub const FADE_SCALE: f32 = 1.0 / 64.0;

/// The painted regions of one hint layer.
#[derive(Clone, Debug)]
pub struct PaintedRegions {
    side: usize,
    /// Per pixel, row by row: its region's index plus one, or 0 where nothing is painted.
    labels: Vec<u32>,
    /// Per region: the mean colour painted there (0..255 per channel).
    colours: Vec<[f32; 3]>,
}

impl PaintedRegions {
    /// The regions of a hint layer as the refine network takes it: `planes` holds the red,
    /// green and blue planes (in [-1, 1]) and then the mask plane (painted where > 0.5), each
    /// `side` x `side`. `None` when nothing is painted (or the planes are not that size).
    pub fn new(side: usize, planes: &[f32]) -> Option<PaintedRegions> {
        let plane = side * side;
        if side == 0 || planes.len() != 4 * plane {
            return None;
        }
        let colour_at = |i: usize| [0, 1, 2].map(|c| (planes[c * plane + i] + 1.0) * 127.5);
        let painted = |i: usize| planes[3 * plane + i] > 0.5;
        let same = |a: usize, b: usize| {
            let (a, b) = (colour_at(a), colour_at(b));
            (0..3).all(|c| (a[c] - b[c]).abs() <= SAME_COLOUR)
        };
        // Union-find over the painted pixels, joined to their painted left and upper neighbours
        // of the same colour; a pixel's parent is itself until joined.
        let mut parent: Vec<u32> = (0..plane as u32).collect();
        let mut any = false;
        for i in 0..plane {
            if !painted(i) {
                continue;
            }
            any = true;
            let (x, y) = (i % side, i / side);
            if x > 0 && painted(i - 1) && same(i, i - 1) {
                join(&mut parent, i, i - 1);
            }
            if y > 0 && painted(i - side) && same(i, i - side) {
                join(&mut parent, i, i - side);
            }
        }
        if !any {
            return None;
        }
        let mut labels = vec![0u32; plane];
        let mut sums: Vec<([f64; 3], u32)> = Vec::new();
        for i in 0..plane {
            if !painted(i) {
                continue;
            }
            let root = root(&mut parent, i);
            if labels[root] == 0 {
                sums.push(([0.0; 3], 0));
                labels[root] = sums.len() as u32;
            }
            let label = labels[root];
            labels[i] = label;
            let (sum, count) = &mut sums[label as usize - 1];
            for (s, v) in sum.iter_mut().zip(colour_at(i)) {
                *s += f64::from(v);
            }
            *count += 1;
        }
        let colours = sums
            .iter()
            .map(|(sum, count)| sum.map(|s| (s / f64::from(*count)) as f32))
            .collect();
        Some(PaintedRegions { side, labels, colours })
    }

    /// How many regions were painted.
    pub fn len(&self) -> usize {
        self.colours.len()
    }

    pub fn is_empty(&self) -> bool {
        self.colours.is_empty()
    }

    /// The region pixel `(x, y)` lies in, if it was painted.
    pub fn region_of(&self, x: usize, y: usize) -> Option<usize> {
        match self.labels.get(y * self.side + x) {
            Some(&label) if x < self.side && label > 0 => Some(label as usize - 1),
            _ => None,
        }
    }

    /// The mean colour painted over region `region` (0..255 per channel).
    pub fn colour(&self, region: usize) -> [f32; 3] {
        self.colours[region]
    }

    /// `face` (the hint layer's size) with each region's mean colour moved to the colour
    /// painted there, most of its detail kept ([`DETAIL_KEPT`] of each pixel's difference from
    /// the region's mean). Beyond the paint the move fades out over [`FADE_SCALE`] of the side:
    /// a pixel there moves by the mean move of the painted pixels in the square around it, in
    /// full while they cover half of it or more, less as they cover less. A face of another size
    /// is left as it is.
    pub fn match_colours(&self, face: &mut RgbImage) {
        let side = self.side;
        if face.width() as usize != side || face.height() as usize != side {
            return;
        }
        let plane = side * side;
        // Each region's move: its painted colour less the face's own mean there.
        let mut sums = vec![([0u64; 3], 0u64); self.colours.len()];
        for (pixel, &label) in face.as_raw().chunks_exact(3).zip(&self.labels) {
            if label > 0 {
                let (sum, count) = &mut sums[label as usize - 1];
                for (s, &v) in sum.iter_mut().zip(pixel) {
                    *s += u64::from(v);
                }
                *count += 1;
            }
        }
        let means: Vec<[f32; 3]> =
            sums.iter().map(|(sum, count)| sum.map(|s| (s as f64 / *count as f64) as f32)).collect();
        let moves: Vec<[f32; 3]> =
            means.iter().zip(&self.colours).map(|(mean, colour)| [0, 1, 2].map(|c| colour[c] - mean[c])).collect();
        // The planes the fade averages: painted share, then the move in each channel.
        let mut planes = vec![0f32; 4 * plane];
        for (i, &label) in self.labels.iter().enumerate() {
            if label > 0 {
                planes[i] = 1.0;
                for c in 0..3 {
                    planes[(c + 1) * plane + i] = moves[label as usize - 1][c];
                }
            }
        }
        let radius = ((side as f32 * FADE_SCALE).round() as usize).max(1);
        let window = ((2 * radius + 1) * (2 * radius + 1)) as f32;
        let sums = box_sums(&planes, side, radius);
        for (i, pixel) in face.as_mut().chunks_exact_mut(3).enumerate() {
            let colour: [f32; 3] = match self.labels[i] {
                0 => {
                    let painted = sums[i];
                    if painted < 0.5 {
                        continue;
                    }
                    let weight = (2.0 * painted / window).min(1.0) / painted;
                    [0, 1, 2].map(|c| f32::from(pixel[c]) + sums[(c + 1) * plane + i] * weight)
                }
                label => {
                    let region = label as usize - 1;
                    let (mean, painted) = (means[region], self.colours[region]);
                    [0, 1, 2].map(|c| painted[c] + DETAIL_KEPT * (f32::from(pixel[c]) - mean[c]))
                }
            };
            for (v, c) in pixel.iter_mut().zip(colour) {
                *v = c.round().clamp(0.0, 255.0) as u8;
            }
        }
    }
}

fn root(parent: &mut [u32], mut i: usize) -> usize {
    while parent[i] as usize != i {
        let grand = parent[parent[i] as usize];
        parent[i] = grand; // path halving: later finds are shorter
        i = grand as usize;
    }
    i
}

fn join(parent: &mut [u32], a: usize, b: usize) {
    let (a, b) = (root(parent, a), root(parent, b));
    // The smaller index is the root, so a region's label follows its first pixel in raster order.
    match a.cmp(&b) {
        std::cmp::Ordering::Less => parent[b] = a as u32,
        std::cmp::Ordering::Greater => parent[a] = b as u32,
        std::cmp::Ordering::Equal => {}
    }
}

/// For every plane of `planes` (each `side` x `side`), the sum over the (2 radius + 1) square
/// around each pixel (nothing beyond the edge): along the rows, then down the columns, each a
/// running sum (what enters the window added, what leaves it taken away).
fn box_sums(planes: &[f32], side: usize, radius: usize) -> Vec<f32> {
    let plane = side * side;
    let mut rows = vec![0f32; planes.len()];
    for (source, target) in planes.chunks_exact(side).zip(rows.chunks_exact_mut(side)) {
        let mut sum: f32 = source.iter().take(radius).sum();
        for (x, out) in target.iter_mut().enumerate() {
            if let Some(&entering) = source.get(x + radius) {
                sum += entering;
            }
            if x > radius {
                sum -= source[x - radius - 1];
            }
            *out = sum;
        }
    }
    let mut out = vec![0f32; planes.len()];
    for (source, target) in rows.chunks_exact(plane).zip(out.chunks_exact_mut(plane)) {
        let row = |y: usize| &source[y * side..(y + 1) * side];
        let mut sums = vec![0f32; side];
        for y in 0..radius.min(side) {
            sums.iter_mut().zip(row(y)).for_each(|(s, v)| *s += v);
        }
        for (y, line) in target.chunks_exact_mut(side).enumerate() {
            if y + radius < side {
                sums.iter_mut().zip(row(y + radius)).for_each(|(s, v)| *s += v);
            }
            if y > radius {
                sums.iter_mut().zip(row(y - radius - 1)).for_each(|(s, v)| *s -= v);
            }
            line.copy_from_slice(&sums);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A hint layer of `side` with `paint(x, y)` giving the colour painted at a pixel (0..255).
    fn layer(side: usize, paint: impl Fn(usize, usize) -> Option<[u8; 3]>) -> Vec<f32> {
        let plane = side * side;
        let mut planes = vec![0f32; 4 * plane];
        for y in 0..side {
            for x in 0..side {
                if let Some(colour) = paint(x, y) {
                    for c in 0..3 {
                        planes[c * plane + y * side + x] = f32::from(colour[c]) / 127.5 - 1.0;
                    }
                    planes[3 * plane + y * side + x] = 1.0;
                }
            }
        }
        planes
    }

    /// A face with texture everywhere: a gradient plus a checker of +-6.
    fn textured(side: usize) -> RgbImage {
        RgbImage::from_fn(side as u32, side as u32, |x, y| {
            let checker = if (x + y) % 2 == 0 { 6 } else { -6 };
            image::Rgb([0, 1, 2].map(|c| (100 + x as i32 / 2 + c * 10 + checker) as u8))
        })
    }

    #[test]
    fn nothing_painted_is_no_regions() {
        assert!(PaintedRegions::new(8, &layer(8, |_, _| None)).is_none());
        assert!(PaintedRegions::new(8, &[0.0; 3]).is_none(), "planes of the wrong size");
    }

    #[test]
    fn a_region_is_one_colour_connected_and_rounding_is_no_second_colour() {
        let red = [200, 30, 30];
        let blue = [20, 40, 220];
        let regions = PaintedRegions::new(
            16,
            &layer(16, |x, y| match (x, y) {
                (0..=3, 0..=3) => Some(red),
                (4..=7, 0..=3) => Some(blue), // touches the red patch: another region
                (12..=15, 12..=15) => Some(red), // the same red, apart: another region
                (0..=3, 4) => Some([203, 27, 31]), // red as a resize rounds it: the red region
                _ => None,
            }),
        )
        .unwrap();
        assert_eq!(regions.len(), 3);
        let first = regions.region_of(0, 0).unwrap();
        assert_eq!(regions.region_of(3, 4), Some(first));
        assert_ne!(regions.region_of(4, 0), Some(first));
        let apart = regions.region_of(15, 15).unwrap();
        assert!(apart != first && Some(apart) != regions.region_of(4, 0));
        assert_eq!(regions.region_of(10, 10), None);
        assert_eq!(regions.region_of(16, 0), None, "beyond the side");
        let colour = regions.colour(first);
        let expected = [0, 1, 2].map(|c| (16.0 * f32::from(red[c]) + 4.0 * [203.0, 27.0, 31.0][c] / 1.0) / 20.0);
        for c in 0..3 {
            assert!((colour[c] - expected[c]).abs() < 0.01, "{colour:?} vs {expected:?}");
        }
    }

    #[test]
    fn a_region_takes_its_colour_on_average_and_keeps_its_texture() {
        let side = 256; // the fade: 4 px
        let skin = [180, 120, 90];
        let inside = |x: usize, y: usize| (80..160).contains(&x) && (40..200).contains(&y);
        let regions = PaintedRegions::new(side, &layer(side, |x, y| inside(x, y).then_some(skin))).unwrap();
        let before = textured(side);
        let mut face = before.clone();
        regions.match_colours(&mut face);

        let moved = |x: u32, y: u32, c: usize| i32::from(face.get_pixel(x, y)[c]) - i32::from(before.get_pixel(x, y)[c]);
        let region_mean = |image: &RgbImage, c: usize| {
            let values = image.enumerate_pixels().filter(|(x, y, _)| inside(*x as usize, *y as usize));
            let (sum, count) = values.fold((0f64, 0u32), |(s, n), (_, _, p)| (s + f64::from(p[c]), n + 1));
            (sum / f64::from(count)) as f32
        };
        for c in 0..3 {
            let (mean, old_mean) = (region_mean(&face, c), region_mean(&before, c));
            assert!((mean - f32::from(skin[c])).abs() < 1.0, "channel {c}: mean {mean} vs {}", skin[c]);
            for (x, y, pixel) in face.enumerate_pixels() {
                let old = before.get_pixel(x, y);
                if inside(x as usize, y as usize) {
                    // The detail kept: each pixel's difference from the region's mean, scaled.
                    let detail = f32::from(pixel[c]) - mean;
                    let kept = DETAIL_KEPT * (f32::from(old[c]) - old_mean);
                    assert!((detail - kept).abs() <= 1.0, "({x}, {y}): {detail} vs {kept}");
                } else if !(76..164).contains(&x) || !(36..204).contains(&y) {
                    assert_eq!(pixel, old, "({x}, {y}) is past the fade and stays");
                }
            }
        }
        // Beyond the edge the region's move fades out: nearly in full beside the paint, less further.
        let edge = (f32::from(skin[0]) - region_mean(&before, 0)).round() as i32;
        assert!(edge > 20, "the region moved: {edge}");
        let fading: Vec<i32> = (76..80).rev().map(|x| moved(x, 120, 0)).collect();
        assert!(fading[0] * 10 >= edge * 8 && fading[3] * 10 <= edge * 3, "{fading:?} from {edge}");
        assert!(fading.windows(2).all(|w| w[0] > w[1]), "{fading:?}");
    }

    #[test]
    fn a_face_of_another_size_is_left_as_it_is() {
        let regions = PaintedRegions::new(8, &layer(8, |_, _| Some([255, 0, 0]))).unwrap();
        let mut face = textured(16);
        regions.match_colours(&mut face);
        assert_eq!(face, textured(16));
    }
}

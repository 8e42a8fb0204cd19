//! A photo as the sketch: the training side's sketch recipes (`training/sketches.py`) in Rust, so
//! a photo dropped on the app or given to `sketch2face sketchify` becomes the same kind of sketch
//! the model was trained on.
//!
//! [`SketchStyle::Canny2017`] is the 2017 recipe, written after OpenCV's own code so that its
//! edges are OpenCV's (tests/sketchify.rs compares them with sketches OpenCV made): gray as
//! `cv2.cvtColor(rgb, COLOR_RGB2GRAY)`, `cv2.GaussianBlur(gray, (3, 3), 0)`, Otsu's threshold `t`
//! of the blurred gray, `cv2.Canny(gray, t / 2, t)` and the edges inverted to black on white.
//! The issue that asked for it says "3x3 box blur", but training blurs with a 3x3 Gaussian, and
//! the point is the same recipe as training, so this is the Gaussian.
//!
//! No crate matches OpenCV here: `imageproc`'s Canny blurs first (sigma 1.4), measures the
//! gradient with the L2 norm and quantises directions by angle, which moves and drops edges
//! against OpenCV's; so the pieces are written out, each after the OpenCV routine it follows.
//!
//! Pure functions on `image` buffers: no UI, no runtime.

use std::fmt;
use std::str::FromStr;

use image::{GrayImage, RgbImage};

/// The value of paper; ink is 0.
const WHITE: u8 = 255;

/// How a photo becomes a sketch (the names are `training/sketches.py`'s).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum SketchStyle {
    /// The 2017 recipe: OpenCV's Canny edges with Otsu's thresholds, black on white. Dense.
    #[default]
    Canny2017,
    /// An eXtended Difference-of-Gaussians line drawing: softer, pencil-like (see [`xdog`]).
    Xdog,
}

impl SketchStyle {
    pub const ALL: [SketchStyle; 2] = [SketchStyle::Canny2017, SketchStyle::Xdog];

    /// The style's name on the command line and in training.
    pub fn name(self) -> &'static str {
        match self {
            SketchStyle::Canny2017 => "canny2017",
            SketchStyle::Xdog => "xdog",
        }
    }
}

impl fmt::Display for SketchStyle {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for SketchStyle {
    type Err = String;

    fn from_str(name: &str) -> Result<Self, Self::Err> {
        SketchStyle::ALL
            .into_iter()
            .find(|style| style.name() == name)
            .ok_or_else(|| format!("unknown sketch style {name:?} (known: canny2017, xdog)"))
    }
}

/// `rgb` as a sketch of `style`, black ink (0) on white paper (255), at the photo's size.
pub fn sketchify(rgb: &RgbImage, style: SketchStyle) -> GrayImage {
    match style {
        SketchStyle::Canny2017 => canny2017(rgb),
        SketchStyle::Xdog => xdog(rgb),
    }
}

/// `training/sketches.py`'s `canny2017`: gray, 3x3 Gaussian blur, Otsu's threshold `t`,
/// Canny edges between `t / 2` and `t`, inverted to black lines on white.
pub fn canny2017(rgb: &RgbImage) -> GrayImage {
    let gray = gaussian_blur_3x3(&to_gray(rgb));
    let t = f64::from(otsu_threshold(&histogram(&gray)));
    let mut sketch = canny(&gray, 0.5 * t, t);
    invert(&mut sketch);
    sketch
}

/// OpenCV's `cvtColor(.., COLOR_RGB2GRAY)` for 8-bit images, to the bit: 0.299 R + 0.587 G +
/// 0.114 B in 15-bit fixed point, rounded.
pub fn to_gray(rgb: &RgbImage) -> GrayImage {
    const SHIFT: u32 = 15;
    const R: u32 = 9798;
    const G: u32 = 19235;
    const B: u32 = 3735;
    let mut gray = GrayImage::new(rgb.width(), rgb.height());
    for (out, pixel) in gray.pixels_mut().zip(rgb.pixels()) {
        let [r, g, b] = pixel.0.map(u32::from);
        out.0[0] = ((r * R + g * G + b * B + (1 << (SHIFT - 1))) >> SHIFT) as u8;
    }
    gray
}

/// OpenCV's `GaussianBlur(.., (3, 3), 0)` for 8-bit images, to the bit: the kernel [1, 2, 1] / 4
/// across and down, rounded half up (OpenCV's bit-exact fixed point comes to that), with
/// OpenCV's default border, `BORDER_REFLECT_101` (`dcb|abcd|cba`).
pub fn gaussian_blur_3x3(gray: &GrayImage) -> GrayImage {
    let (width, height) = (gray.width() as usize, gray.height() as usize);
    let mut out = GrayImage::new(gray.width(), gray.height());
    if width == 0 || height == 0 {
        return out;
    }
    let src = gray.as_raw();
    // Each row blurred across, kept as 4 x the value (exact), then three rows down.
    let across = |y: usize, row: &mut [u16]| {
        let line = &src[y * width..(y + 1) * width];
        for (x, value) in row.iter_mut().enumerate() {
            let left = line[reflect_101(x as isize - 1, width)];
            let right = line[reflect_101(x as isize + 1, width)];
            *value = u16::from(left) + 2 * u16::from(line[x]) + u16::from(right);
        }
    };
    let mut rows = [vec![0u16; width], vec![0u16; width], vec![0u16; width]];
    let dst = out.as_mut();
    for y in 0..height {
        for (k, row) in rows.iter_mut().enumerate() {
            across(reflect_101(y as isize + k as isize - 1, height), row);
        }
        for (x, value) in dst[y * width..(y + 1) * width].iter_mut().enumerate() {
            let sum = u32::from(rows[0][x]) + 2 * u32::from(rows[1][x]) + u32::from(rows[2][x]);
            *value = ((sum + 8) >> 4) as u8;
        }
    }
    out
}

/// The index `i` reflected into `0..len` without repeating the edge (`BORDER_REFLECT_101`); a
/// single pixel reflects onto itself.
fn reflect_101(i: isize, len: usize) -> usize {
    let last = len as isize - 1;
    if last == 0 {
        return 0;
    }
    let mut i = i;
    while i < 0 || i > last {
        i = if i < 0 { -i } else { 2 * last - i };
    }
    i as usize
}

/// How many pixels have each gray level.
pub fn histogram(gray: &GrayImage) -> [u64; 256] {
    let mut counts = [0u64; 256];
    for &value in gray.as_raw() {
        counts[usize::from(value)] += 1;
    }
    counts
}

/// Otsu's threshold of a histogram the way OpenCV's `THRESH_OTSU` finds it: the first level
/// whose split (the levels up to it against the rest) has the largest between-class variance,
/// levels where one class holds (almost) everything skipped; 0 when no split has any variance
/// (an image of one gray).
pub fn otsu_threshold(counts: &[u64; 256]) -> u8 {
    let total: u64 = counts.iter().sum();
    if total == 0 {
        return 0;
    }
    let scale = 1.0 / total as f64;
    let mu = counts
        .iter()
        .enumerate()
        .map(|(i, &n)| i as f64 * n as f64)
        .sum::<f64>()
        * scale;
    let (mut mu1, mut q1) = (0.0f64, 0.0f64);
    let (mut max_sigma, mut best) = (0.0f64, 0u8);
    let epsilon = f64::from(f32::EPSILON);
    for (i, &n) in counts.iter().enumerate() {
        let p_i = n as f64 * scale;
        mu1 *= q1;
        q1 += p_i;
        let q2 = 1.0 - q1;
        if q1.min(q2) < epsilon || q1.max(q2) > 1.0 - epsilon {
            continue;
        }
        mu1 = (mu1 + i as f64 * p_i) / q1;
        let mu2 = (mu - q1 * mu1) / q2;
        let sigma = q1 * q2 * (mu1 - mu2) * (mu1 - mu2);
        if sigma > max_sigma {
            max_sigma = sigma;
            best = i as u8;
        }
    }
    best
}

/// What non-maximum suppression made of a pixel, before hysteresis (OpenCV's map values).
const EDGE: u8 = 2;
const CANDIDATE: u8 = 0;
const NOT_EDGE: u8 = 1;

/// OpenCV's `Canny(gray, low, high)` with its defaults (a 3x3 Sobel, `L2gradient=false`): white
/// (255) edges on black. The gradient is the 3x3 Sobel with `BORDER_REPLICATE`, its magnitude
/// `|dx| + |dy|`; a pixel is kept where its magnitude exceeds `floor(low)` and is a maximum
/// along the gradient's direction (one of four, split at 22.5 and 67.5 degrees, ties broken as
/// OpenCV breaks them, outside the image counting as 0); kept pixels above `floor(high)` are
/// edges, and so is every kept pixel joined to an edge through kept pixels (8-connected).
///
/// Works a row at a time (three rows of magnitudes), so besides the output it needs one byte
/// per pixel, and the stack of edges hysteresis starts from.
pub fn canny(gray: &GrayImage, low: f64, high: f64) -> GrayImage {
    let (low, high) = if low > high { (high, low) } else { (low, high) };
    let (low, high) = (low.floor() as i32, high.floor() as i32);
    let (width, height) = (gray.width() as usize, gray.height() as usize);
    if width == 0 || height == 0 {
        return GrayImage::new(gray.width(), gray.height());
    }
    let src = gray.as_raw();
    let pixel = |x: isize, y: isize| -> i32 {
        let x = x.clamp(0, width as isize - 1) as usize;
        let y = y.clamp(0, height as isize - 1) as usize;
        i32::from(src[y * width + x])
    };
    // Row y's gradient and magnitude, the magnitude padded with a 0 on either side.
    let gradient = |y: usize, dx: &mut [i32], dy: &mut [i32], mag: &mut [i32]| {
        let y = y as isize;
        for x in 0..width {
            let xi = x as isize;
            let gx = (pixel(xi + 1, y - 1) - pixel(xi - 1, y - 1))
                + 2 * (pixel(xi + 1, y) - pixel(xi - 1, y))
                + (pixel(xi + 1, y + 1) - pixel(xi - 1, y + 1));
            let gy = (pixel(xi - 1, y + 1) - pixel(xi - 1, y - 1))
                + 2 * (pixel(xi, y + 1) - pixel(xi, y - 1))
                + (pixel(xi + 1, y + 1) - pixel(xi + 1, y - 1));
            dx[x] = gx;
            dy[x] = gy;
            mag[x + 1] = gx.abs() + gy.abs();
        }
    };

    // The map has a border of NOT_EDGE so that hysteresis never leaves the image.
    let map_width = width + 2;
    let mut map = vec![NOT_EDGE; map_width * (height + 2)];
    let mut stack: Vec<usize> = Vec::new();
    let (mut dx, mut dy) = (vec![0i32; width], vec![0i32; width]);
    let (mut next_dx, mut next_dy) = (vec![0i32; width], vec![0i32; width]);
    let mut previous = vec![0i32; width + 2];
    let mut current = vec![0i32; width + 2];
    let mut next = vec![0i32; width + 2];
    gradient(0, &mut dx, &mut dy, &mut current);
    // tan(22.5 degrees) in 15-bit fixed point, as OpenCV has it.
    const SHIFT: u32 = 15;
    const TG22: i64 = 13573;
    for y in 0..height {
        if y + 1 < height {
            gradient(y + 1, &mut next_dx, &mut next_dy, &mut next);
        } else {
            next.fill(0);
        }
        let map_row = (y + 1) * map_width + 1;
        for x in 0..width {
            let m = current[x + 1];
            let kept = m > low && {
                let (gx, gy) = (dx[x], dy[x]);
                let ax = i64::from(gx.abs());
                let ay = i64::from(gy.abs()) << SHIFT;
                let tg22x = ax * TG22;
                if ay < tg22x {
                    // Mostly across: compare with the left and right.
                    m > current[x] && m >= current[x + 2]
                } else if ay > tg22x + (ax << (SHIFT + 1)) {
                    // Mostly down: compare with above and below.
                    m > previous[x + 1] && m >= next[x + 1]
                } else {
                    // Diagonal: up-left and down-right when dx and dy agree in sign, else
                    // up-right and down-left.
                    let s: isize = if (gx ^ gy) < 0 { -1 } else { 1 };
                    let at = |row: &[i32], offset: isize| row[(x as isize + 1 + offset) as usize];
                    m > at(&previous, -s) && m > at(&next, s)
                }
            };
            let index = map_row + x;
            map[index] = if !kept {
                NOT_EDGE
            } else if m > high {
                stack.push(index);
                EDGE
            } else {
                CANDIDATE
            };
        }
        std::mem::swap(&mut previous, &mut current);
        std::mem::swap(&mut current, &mut next);
        std::mem::swap(&mut dx, &mut next_dx);
        std::mem::swap(&mut dy, &mut next_dy);
    }

    hysteresis(&mut map, map_width, stack);

    let mut edges = GrayImage::new(gray.width(), gray.height());
    for (y, row) in edges.as_mut().chunks_exact_mut(width).enumerate() {
        let map_row = &map[(y + 1) * map_width + 1..][..width];
        for (out, &state) in row.iter_mut().zip(map_row) {
            *out = if state == EDGE { WHITE } else { 0 };
        }
    }
    edges
}

/// Hysteresis on a map of [`EDGE`], [`CANDIDATE`] and [`NOT_EDGE`] rows `map_width` wide with a
/// border of [`NOT_EDGE`]: every candidate 8-connected to an edge through candidates becomes
/// an edge. `edges` holds the indices of the edges to start from.
fn hysteresis(map: &mut [u8], map_width: usize, mut edges: Vec<usize>) {
    let row = map_width as isize;
    let neighbours = [-row - 1, -row, -row + 1, -1, 1, row - 1, row, row + 1];
    while let Some(index) = edges.pop() {
        for offset in neighbours {
            let neighbour = index.wrapping_add_signed(offset);
            if map[neighbour] == CANDIDATE {
                map[neighbour] = EDGE;
                edges.push(neighbour);
            }
        }
    }
}

fn invert(gray: &mut GrayImage) {
    for value in gray.iter_mut() {
        *value = WHITE - *value;
    }
}

/// The parameters of [`xdog`]: the middles of the ranges `training/sketches.py`'s `xdog` draws
/// its parameters from at random for each training sample.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct XdogParams {
    /// The smaller blur, in pixels per 128 pixels of the photo's height (training: 0.6 to 1.0).
    pub sigma_per_128: f32,
    /// The larger blur's sigma over the smaller's.
    pub k: f32,
    /// The sharpening of the difference of Gaussians (training: 15 to 25).
    pub p: f32,
    /// The steepness of the soft threshold (training: 40 to 80).
    pub phi: f32,
    /// The fraction of pixels below the threshold, the ink (training: 0.08 to 0.14).
    pub ink_quantile: f64,
}

impl Default for XdogParams {
    fn default() -> Self {
        XdogParams {
            sigma_per_128: 0.8,
            k: 1.6,
            p: 20.0,
            phi: 60.0,
            ink_quantile: 0.11,
        }
    }
}

/// `training/sketches.py`'s `xdog` (Winnemoeller et al. 2012, thresholded form) with the
/// middle of each of its random ranges ([`XdogParams::default`]), so the same photo always
/// gives the same drawing: gray in 0..1, two Gaussian blurs (sigma and 1.6 sigma, sigma
/// 0.8 px per 128 px of height), the response `(g1 - g2) * p + mean(g1)`, the threshold the
/// response's 11% quantile (so dark and bright photos get the same amount of ink), white at or
/// above it, `1 + tanh(phi * (response - threshold))` below.
pub fn xdog(rgb: &RgbImage) -> GrayImage {
    xdog_with(rgb, XdogParams::default())
}

/// [`xdog`] with other parameters.
pub fn xdog_with(rgb: &RgbImage, params: XdogParams) -> GrayImage {
    let (width, height) = (rgb.width() as usize, rgb.height() as usize);
    if width == 0 || height == 0 {
        return GrayImage::new(rgb.width(), rgb.height());
    }
    let gray: Vec<f32> = to_gray(rgb).iter().map(|&v| f32::from(v) / 255.0).collect();
    let sigma = f64::from(params.sigma_per_128) * height as f64 / 128.0;
    let g1 = gaussian_blur_f32(&gray, width, height, sigma);
    let g2 = gaussian_blur_f32(&gray, width, height, sigma * f64::from(params.k));
    drop(gray);
    let mean = (g1.iter().map(|&v| f64::from(v)).sum::<f64>() / g1.len() as f64) as f32;
    let response: Vec<f32> = g1
        .iter()
        .zip(&g2)
        .map(|(&a, &b)| (a - b) * params.p + mean)
        .collect();
    drop((g1, g2));
    let epsilon = quantile(&response, params.ink_quantile);
    let values = response.iter().map(|&r| {
        let out = if r >= epsilon {
            1.0
        } else {
            1.0 + (params.phi * (r - epsilon)).tanh()
        };
        // NumPy's astype(uint8) truncates.
        (out.clamp(0.0, 1.0) * 255.0) as u8
    });
    GrayImage::from_raw(rgb.width(), rgb.height(), values.collect()).expect("one value per pixel")
}

/// The `q` quantile of `values` as NumPy's `np.quantile` computes it by default: linear
/// between the two nearest order statistics.
fn quantile(values: &[f32], q: f64) -> f32 {
    let mut sorted = values.to_vec();
    let position = q.clamp(0.0, 1.0) * (sorted.len() - 1) as f64;
    let below = position.floor() as usize;
    let (_, &mut low, above) = sorted.select_nth_unstable_by(below, f32::total_cmp);
    let high = above.iter().copied().min_by(f32::total_cmp).unwrap_or(low);
    let fraction = (position - below as f64) as f32;
    low + (high - low) * fraction
}

/// OpenCV's `GaussianBlur(.., (0, 0), sigma)` of a float image: the kernel sized from sigma as
/// OpenCV sizes it for floats (radius about 4 sigma), across then down, `BORDER_REFLECT_101`.
fn gaussian_blur_f32(values: &[f32], width: usize, height: usize, sigma: f64) -> Vec<f32> {
    let size = (((sigma * 4.0 * 2.0 + 1.0).round() as usize) | 1).max(1);
    let radius = (size / 2) as isize;
    let mut kernel: Vec<f64> = (0..size)
        .map(|i| {
            let d = i as f64 - radius as f64;
            (-(d * d) / (2.0 * sigma * sigma)).exp()
        })
        .collect();
    let total: f64 = kernel.iter().sum();
    kernel.iter_mut().for_each(|w| *w /= total);
    let kernel: Vec<f32> = kernel.into_iter().map(|w| w as f32).collect();

    let mut across = vec![0f32; values.len()];
    for y in 0..height {
        let row = &values[y * width..(y + 1) * width];
        for x in 0..width {
            across[y * width + x] = kernel
                .iter()
                .enumerate()
                .map(|(k, &w)| w * row[reflect_101(x as isize + k as isize - radius, width)])
                .sum();
        }
    }
    let mut out = vec![0f32; values.len()];
    for y in 0..height {
        for (k, &w) in kernel.iter().enumerate() {
            let source = reflect_101(y as isize + k as isize - radius, height);
            let (from, to) = (
                &across[source * width..][..width],
                &mut out[y * width..][..width],
            );
            for (o, &v) in to.iter_mut().zip(from) {
                *o += w * v;
            }
        }
    }
    out
}

/// The ink of a sketch as a mask: `true` where the pixel is darker than mid-gray.
pub fn ink(sketch: &GrayImage) -> Vec<bool> {
    sketch.iter().map(|&v| v < 128).collect()
}

/// How well the edge pixels `found` match `expected` (both `width` x `height`, row-major):
/// the F1 score of precision (found pixels within `tolerance` pixels, in both directions, of an
/// expected one) and recall (expected pixels within `tolerance` of a found one). Two empty
/// masks match perfectly (1.0); one empty against one that is not, not at all (0.0).
pub fn edge_f1(
    found: &[bool],
    expected: &[bool],
    width: usize,
    height: usize,
    tolerance: usize,
) -> f64 {
    assert_eq!(found.len(), width * height, "found mask size");
    assert_eq!(expected.len(), width * height, "expected mask size");
    let near = |mask: &[bool]| dilate(mask, width, height, tolerance);
    let (near_found, near_expected) = (near(found), near(expected));
    let matched = |mask: &[bool], near_other: &[bool]| {
        let total = mask.iter().filter(|&&on| on).count();
        let hit = mask
            .iter()
            .zip(near_other)
            .filter(|&(&on, &near)| on && near)
            .count();
        (hit, total)
    };
    let (found_hit, found_total) = matched(found, &near_expected);
    let (expected_hit, expected_total) = matched(expected, &near_found);
    match (found_total, expected_total) {
        (0, 0) => 1.0,
        (0, _) | (_, 0) => 0.0,
        _ => {
            let precision = found_hit as f64 / found_total as f64;
            let recall = expected_hit as f64 / expected_total as f64;
            if precision + recall == 0.0 {
                0.0
            } else {
                2.0 * precision * recall / (precision + recall)
            }
        }
    }
}

/// `mask` grown by `radius` pixels in every direction (a square of side 2 radius + 1).
fn dilate(mask: &[bool], width: usize, height: usize, radius: usize) -> Vec<bool> {
    let mut across = vec![false; mask.len()];
    for y in 0..height {
        for x in 0..width {
            let (from, to) = (x.saturating_sub(radius), (x + radius).min(width - 1));
            across[y * width + x] = mask[y * width + from..=y * width + to].iter().any(|&on| on);
        }
    }
    let mut out = vec![false; mask.len()];
    for y in 0..height {
        let (from, to) = (y.saturating_sub(radius), (y + radius).min(height - 1));
        for x in 0..width {
            out[y * width + x] = (from..=to).any(|row| across[row * width + x]);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use image::Luma;

    /// A gray image from rows of values.
    fn gray_from_rows(rows: &[&[u8]]) -> GrayImage {
        GrayImage::from_fn(rows[0].len() as u32, rows.len() as u32, |x, y| {
            Luma([rows[y as usize][x as usize]])
        })
    }

    #[test]
    fn gray_is_opencvs_fixed_point_weights() {
        let rgb = RgbImage::from_fn(4, 1, |x, _| {
            image::Rgb([[255, 0, 0], [0, 255, 0], [0, 0, 255], [10, 200, 30]][x as usize])
        });
        let gray = to_gray(&rgb);
        // 0.299 * 255 = 76.2, 0.587 * 255 = 149.7, 0.114 * 255 = 29.1,
        // 0.299 * 10 + 0.587 * 200 + 0.114 * 30 = 123.8.
        assert_eq!(gray.as_raw(), &[76, 150, 29, 124]);
    }

    #[test]
    fn blur_spreads_a_dot_as_the_1_2_1_kernel() {
        // A dot of 160 in the middle of 5 x 5 black: 160 * [1 2 1]^T [1 2 1] / 16.
        let mut dot = GrayImage::new(5, 5);
        dot.put_pixel(2, 2, Luma([160]));
        let blurred = gaussian_blur_3x3(&dot);
        let expected: [[u8; 5]; 5] = [
            [0, 0, 0, 0, 0],
            [0, 10, 20, 10, 0],
            [0, 20, 40, 20, 0],
            [0, 10, 20, 10, 0],
            [0, 0, 0, 0, 0],
        ];
        for (y, row) in expected.iter().enumerate() {
            for (x, &value) in row.iter().enumerate() {
                assert_eq!(
                    blurred.get_pixel(x as u32, y as u32)[0],
                    value,
                    "at ({x},{y})"
                );
            }
        }
    }

    #[test]
    fn blur_reflects_at_the_border_without_repeating_the_edge() {
        // Row [0, 64, 0]: at x = 0 the left neighbour is x = 1 (reflect 101), so
        // (64 + 0 + 64) / 4 = 32 there; a replicated border would give 16.
        let row = gray_from_rows(&[&[0, 64, 0]]);
        assert_eq!(gaussian_blur_3x3(&row).as_raw(), &[32, 32, 32]);
        // Rounding is half up: [2, 0, 0] sums 4, 2, 0 across (times 4 down), so the middle is
        // 2 * 4 / 16 = 0.5, which gives 1 (truncation or rounding half to even would give 0).
        let row = gray_from_rows(&[&[2, 0, 0]]);
        assert_eq!(gaussian_blur_3x3(&row).as_raw(), &[1, 1, 0]);
    }

    #[test]
    fn reflect_101_mirrors_about_the_edge_pixel() {
        assert_eq!(
            [-2, -1, 0, 3, 4, 5].map(|i| reflect_101(i, 4)),
            [2, 1, 0, 3, 2, 1]
        );
        assert_eq!(reflect_101(-1, 1), 0);
    }

    #[test]
    fn otsu_splits_two_peaks_at_the_lower_peak_edge() {
        // Half the pixels at 50, half at 200: every level from 50 to 199 splits them alike, and
        // OpenCV keeps the first, 50.
        let mut counts = [0u64; 256];
        counts[50] = 100;
        counts[200] = 100;
        assert_eq!(otsu_threshold(&counts), 50);
    }

    #[test]
    fn otsu_finds_the_best_split_of_three_peaks() {
        // 10 at 0, 10 at 100, 80 at 200: between-class variance 0.1 * 0.9 * (0 - 177.8)^2 = 2844
        // splitting after 0, 0.2 * 0.8 * (50 - 200)^2 = 3600 after 100: the split is at 100.
        let mut counts = [0u64; 256];
        counts[0] = 10;
        counts[100] = 10;
        counts[200] = 80;
        assert_eq!(otsu_threshold(&counts), 100);
        // With the weight moved to the dark end, the split moves to 0.
        counts[0] = 80;
        counts[200] = 10;
        assert_eq!(otsu_threshold(&counts), 0);
        let flat = histogram(&GrayImage::from_pixel(3, 3, Luma([90])));
        assert_eq!(otsu_threshold(&flat), 0);
    }

    /// The edges of `canny` as rows of '#' (edge) and '.'.
    fn edge_rows(edges: &GrayImage) -> Vec<String> {
        edges
            .rows()
            .map(|row| row.map(|p| if p[0] == WHITE { '#' } else { '.' }).collect())
            .collect()
    }

    #[test]
    fn canny_keeps_one_pixel_of_a_step_left_of_the_jump() {
        // A vertical step from 0 to 100 between x = 2 and 3: |dx| = 400 on both columns, and the
        // tie goes to the left one (m > left, m >= right).
        let step = GrayImage::from_fn(6, 4, |x, _| Luma([if x < 3 { 0 } else { 100 }]));
        assert_eq!(edge_rows(&canny(&step, 100.0, 200.0)), vec!["..#..."; 4]);
        // Thresholds above the gradient keep nothing.
        assert_eq!(edge_rows(&canny(&step, 400.0, 400.0)), vec!["......"; 4]);
    }

    /// A map from rows of '#' (edge), '+' (candidate) and '.' (not an edge), with its border.
    fn map_from(rows: &[&str]) -> (Vec<u8>, usize, Vec<usize>) {
        let map_width = rows[0].len() + 2;
        let mut map = vec![NOT_EDGE; map_width * (rows.len() + 2)];
        let mut edges = Vec::new();
        for (y, row) in rows.iter().enumerate() {
            for (x, c) in row.chars().enumerate() {
                let index = (y + 1) * map_width + x + 1;
                map[index] = match c {
                    '#' => EDGE,
                    '+' => CANDIDATE,
                    _ => NOT_EDGE,
                };
                if c == '#' {
                    edges.push(index);
                }
            }
        }
        (map, map_width, edges)
    }

    #[test]
    fn hysteresis_follows_candidates_joined_to_an_edge_diagonally_too() {
        let (mut map, map_width, edges) = map_from(&["#++..+", "...+.+", "..+...", "+....."]);
        hysteresis(&mut map, map_width, edges);
        let rows: Vec<String> = map
            .chunks_exact(map_width)
            .skip(1)
            .take(4)
            .map(|row| {
                row[1..map_width - 1]
                    .iter()
                    .map(|&v| if v == EDGE { '#' } else { '.' })
                    .collect()
            })
            .collect();
        // The chain from the edge reaches (3, 1) and (2, 2) diagonally; the column at the right
        // and the pixel at (0, 3) touch no edge and are dropped.
        assert_eq!(rows, ["###...", "...#..", "..#...", "......"]);
    }

    #[test]
    fn canny_on_a_diagonal_step_is_opencvs() {
        // Bright below the anti-diagonal. The rows are what OpenCV 4.14 gives:
        // `cv2.Canny(np.where(x + y >= 8, 200, 0).astype(np.uint8), 100, 300)` with
        // `y, x = np.mgrid[0:8, 0:8]`: a staircase along the diagonal.
        let image = GrayImage::from_fn(8, 8, |x, y| Luma([if x + y >= 8 { 200 } else { 0 }]));
        let expected = [
            "........", "......##", ".....##.", "....##..", "...##...", "..##....", ".##.....",
            ".#......",
        ];
        assert_eq!(edge_rows(&canny(&image, 100.0, 300.0)), expected);
    }

    #[test]
    fn canny2017_draws_black_lines_on_white() {
        let photo = RgbImage::from_fn(16, 16, |x, _| {
            image::Rgb(if x < 8 { [20, 30, 40] } else { [220, 210, 200] })
        });
        let sketch = canny2017(&photo);
        assert_eq!(sketch.dimensions(), (16, 16));
        let columns: Vec<u32> = (0..16)
            .filter(|&x| sketch.get_pixel(x, 5)[0] == 0)
            .collect();
        assert_eq!(columns, vec![7], "one black line at the step");
        assert!(sketch.iter().all(|&v| v == 0 || v == WHITE));
    }

    #[test]
    fn styles_parse_by_their_training_names() {
        for style in SketchStyle::ALL {
            assert_eq!(style.name().parse::<SketchStyle>(), Ok(style));
        }
        assert!("canny".parse::<SketchStyle>().is_err());
    }

    #[test]
    fn quantile_interpolates_like_numpy() {
        // np.quantile([1, 2, 3, 4, 5], 0.11) = 1 + 0.44 * (2 - 1).
        let value = quantile(&[5.0, 1.0, 4.0, 2.0, 3.0], 0.11);
        assert!((value - 1.44).abs() < 1e-6, "{value}");
    }

    #[test]
    fn xdog_inks_the_dark_side_of_an_edge_and_leaves_flat_paper_white() {
        let photo = RgbImage::from_fn(64, 64, |x, _| {
            image::Rgb(if x < 32 { [40; 3] } else { [210; 3] })
        });
        let sketch = xdog(&photo);
        let dark: Vec<u32> = (0..64)
            .filter(|&x| sketch.get_pixel(x, 32)[0] < 128)
            .collect();
        assert!(
            !dark.is_empty() && dark.iter().all(|&x| (26..32).contains(&x)),
            "{dark:?}"
        );
        assert_eq!(sketch.get_pixel(5, 32)[0], WHITE);
        assert_eq!(sketch.get_pixel(60, 32)[0], WHITE);
    }

    #[test]
    fn f1_counts_a_line_one_pixel_off_as_matched_and_two_off_as_missed() {
        let line = |x0: usize| -> Vec<bool> { (0..40).map(|i| i % 8 == x0).collect() };
        // 8 x 5, a vertical line at column 2 against columns 3 and 4.
        let two = line(2);
        assert_eq!(edge_f1(&two, &line(3), 8, 5, 1), 1.0);
        assert_eq!(edge_f1(&two, &line(4), 8, 5, 1), 0.0);
        assert_eq!(edge_f1(&two, &two, 8, 5, 0), 1.0);
        // Half the expected pixels found, none extra: precision 1, recall 0.5, F1 2/3.
        let half: Vec<bool> = (0..40).map(|i| i % 8 == 2 && i / 8 < 2).collect();
        let both: Vec<bool> = (0..40).map(|i| i % 8 == 2 && i / 8 < 4).collect();
        assert!((edge_f1(&half, &both, 8, 5, 0) - 2.0 / 3.0).abs() < 1e-9);
        assert_eq!(edge_f1(&[false; 40], &[false; 40], 8, 5, 1), 1.0);
        assert_eq!(edge_f1(&[false; 40], &two, 8, 5, 1), 0.0);
    }
}

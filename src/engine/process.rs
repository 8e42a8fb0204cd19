//! Pre- and post-processing: pure functions between images and the model's tensors.

use image::imageops::{self, FilterType};
use image::{GrayImage, Rgb, RgbImage, Rgba, RgbaImage};
use ndarray::{Array4, ArrayView4};

use super::{MAX_RESOLUTION, OUTPUT_NAME, OutputShapeError};
use crate::imaging::fit_square_white;

/// A grayscale sketch of any size as the model input: fitted into a white square, resized to
/// `size` and mapped to [-1, 1] (white paper = +1, black ink = -1). Shape [1, 1, size, size].
pub fn preprocess(gray: &GrayImage, size: u32) -> Array4<f32> {
    let side = size as usize;
    let mut input = Array4::zeros((1, 1, side, side));
    preprocess_into(gray, &mut input);
    input
}

/// [`preprocess`] into an existing [1, 1, S, S] buffer, so a session can reuse its input.
///
/// # Panics
/// If `input` is not [1, 1, S, S] in standard layout.
pub fn preprocess_into(gray: &GrayImage, input: &mut Array4<f32>) {
    let (n, c, h, w) = input.dim();
    assert!(
        n == 1 && c == 1 && h == w,
        "input buffer must be [1, 1, S, S], not {:?}",
        input.dim()
    );
    let fitted = fit_square_white(gray, h as u32);
    let data = input
        .as_slice_mut()
        .expect("input buffer must be in standard layout");
    for (value, pixel) in data.iter_mut().zip(fitted.as_raw()) {
        *value = f32::from(*pixel) / 127.5 - 1.0;
    }
}

/// Colour hints as the model's `hints` input [1, 4, size, size]: an RGBA image of any size, with
/// colour where alpha > 0, fitted like the sketch (centred on a transparent square, resized),
/// mapped to RGB in [-1, 1] where hinted and 0 elsewhere, and a mask channel (1 where hinted).
///
/// A pixel of the resized image is hinted where painted pixels cover at least half of it; its
/// colour is theirs (resizing works on premultiplied colour, so unpainted pixels do not darken
/// it). At the model's size the image maps pixel for pixel.
pub fn hints_tensor(rgba: &RgbaImage, size: u32) -> Array4<f32> {
    let side = size as usize;
    let mut hints = Array4::zeros((1, 4, side, side));
    hints_into(rgba, &mut hints);
    hints
}

/// [`hints_tensor`] into an existing [1, 4, S, S] buffer.
///
/// # Panics
/// If `hints` is not [1, 4, S, S].
pub fn hints_into(rgba: &RgbaImage, hints: &mut Array4<f32>) {
    let (n, c, h, w) = hints.dim();
    assert!(
        n == 1 && c == 4 && h == w,
        "hints buffer must be [1, 4, S, S], not {:?}",
        hints.dim()
    );
    let size = h as u32;
    hints.fill(0.0);
    if rgba.width() == 0 || rgba.height() == 0 {
        return;
    }
    if let Some(factor) = whole_multiple(rgba, size) {
        return box_hints_into(rgba, factor, hints);
    }
    // Painted or not, nothing in between; colour premultiplied by that coverage.
    let binary = RgbaImage::from_fn(rgba.width(), rgba.height(), |x, y| {
        let pixel = rgba.get_pixel(x, y);
        if pixel[3] > 0 {
            Rgba([pixel[0], pixel[1], pixel[2], 255])
        } else {
            Rgba([0, 0, 0, 0])
        }
    });
    // Resized first, then centred on the transparent square: a square of the original's side
    // would cost side² x 4 bytes (268 MB for an 8192 x 2048 file).
    let (width, height) = binary.dimensions();
    let side = width.max(height).max(1);
    let scaled = |extent: u32| {
        let exact = u64::from(extent) * u64::from(size);
        ((exact + u64::from(side) / 2) / u64::from(side)).clamp(1, u64::from(size)) as u32
    };
    let (fit_width, fit_height) = if side == size {
        (width, height)
    } else {
        (scaled(width), scaled(height))
    };
    let resized = if (fit_width, fit_height) == (width, height) {
        binary
    } else {
        imageops::resize(&binary, fit_width, fit_height, FilterType::Triangle)
    };
    let mut fitted = RgbaImage::new(size, size);
    let (left, top) = ((size - fit_width) / 2, (size - fit_height) / 2);
    imageops::replace(&mut fitted, &resized, i64::from(left), i64::from(top));
    for (x, y, pixel) in fitted.enumerate_pixels() {
        let alpha = pixel[3];
        if alpha < 128 {
            continue;
        }
        let (x, y) = (x as usize, y as usize);
        for channel in 0..3 {
            let colour = (f32::from(pixel[channel]) * 255.0 / f32::from(alpha)).min(255.0);
            hints[[0, channel, y, x]] = colour / 127.5 - 1.0;
        }
        hints[[0, 3, y, x]] = 1.0;
    }
}

/// The factor `k` when `rgba` is square and `k` times `size` on a side (the app's page, twice
/// the pipeline's face side), `k` > 1.
fn whole_multiple(rgba: &RgbaImage, size: u32) -> Option<usize> {
    let (width, height) = rgba.dimensions();
    (width == height && size > 0 && width > size && width % size == 0).then(|| (width / size) as usize)
}

/// [`hints_into`] for a square page `factor` times the hints' side: each hint pixel is one
/// `factor` x `factor` block, hinted when painted pixels are at least half of it, in their mean
/// colour: the rule of the general path, exactly, without a resampling pass (10x cheaper).
fn box_hints_into(rgba: &RgbaImage, factor: usize, hints: &mut Array4<f32>) {
    let side = rgba.width() as usize / factor;
    let raw = rgba.as_raw();
    let stride = rgba.width() as usize * 4;
    for y in 0..side {
        for x in 0..side {
            let (mut painted, mut sum) = (0u32, [0u32; 3]);
            for dy in 0..factor {
                let row = (y * factor + dy) * stride + x * factor * 4;
                for pixel in raw[row..row + factor * 4].chunks_exact(4) {
                    if pixel[3] > 0 {
                        painted += 1;
                        for c in 0..3 {
                            sum[c] += u32::from(pixel[c]);
                        }
                    }
                }
            }
            if 2 * painted < (factor * factor) as u32 {
                continue;
            }
            for c in 0..3 {
                let colour = sum[c] as f32 / painted as f32;
                hints[[0, c, y, x]] = colour / 127.5 - 1.0;
            }
            hints[[0, 3, y, x]] = 1.0;
        }
    }
}

/// The model output [1, 3, H, W] in [-1, 1] as an RGB image; values outside the range (and NaN)
/// are clamped.
pub fn postprocess(face: ArrayView4<f32>) -> Result<RgbImage, OutputShapeError> {
    let (n, c, h, w) = face.dim();
    let side_ok = |side: usize| (1..=MAX_RESOLUTION as usize).contains(&side);
    if n != 1 || c != 3 || !side_ok(h) || !side_ok(w) {
        return Err(OutputShapeError {
            tensor: OUTPUT_NAME,
            expected: format!("[1, 3, H, W] with H, W from 1 to {MAX_RESOLUTION}"),
            found: format!("{:?}", face.shape()),
        });
    }
    // Rounded half up by truncation (`round` is a libm call per value here); NaN stays NaN
    // through `clamp` and `as` makes it 0.
    let to_u8 = |v: f32| (((v + 1.0) * 127.5).clamp(0.0, 255.0) + 0.5) as u8;
    if let Some(planes) = face.as_slice() {
        let plane = h * w;
        let (red, rest) = planes.split_at(plane);
        let (green, blue) = rest.split_at(plane);
        let mut raw = Vec::with_capacity(3 * plane);
        for ((&r, &g), &b) in red.iter().zip(green).zip(blue) {
            raw.extend_from_slice(&[to_u8(r), to_u8(g), to_u8(b)]);
        }
        return Ok(RgbImage::from_raw(w as u32, h as u32, raw).expect("3 bytes per pixel"));
    }
    Ok(RgbImage::from_fn(w as u32, h as u32, |x, y| {
        let (x, y) = (x as usize, y as usize);
        Rgb([
            to_u8(face[[0, 0, y, x]]),
            to_u8(face[[0, 1, y, x]]),
            to_u8(face[[0, 2, y, x]]),
        ])
    }))
}

#[cfg(test)]
mod tests {
    use image::Luma;
    use ndarray::Array4;

    use super::*;

    #[test]
    fn preprocess_maps_white_to_plus_one_and_black_to_minus_one() {
        let mut gray = GrayImage::from_pixel(8, 8, Luma([255]));
        gray.put_pixel(2, 3, Luma([0]));
        let input = preprocess(&gray, 8);
        assert_eq!(input.shape(), &[1, 1, 8, 8]);
        assert_eq!(input[[0, 0, 0, 0]], 1.0);
        assert_eq!(input[[0, 0, 3, 2]], -1.0, "row y=3, column x=2");
        assert!(input.iter().all(|v| (-1.0..=1.0).contains(v)));
    }

    #[test]
    fn preprocess_keeps_mid_gray_near_zero() {
        let gray = GrayImage::from_pixel(4, 4, Luma([128]));
        let input = preprocess(&gray, 4);
        assert!(input.iter().all(|v| (v - 0.0039).abs() < 1e-3), "{input:?}");
    }

    #[test]
    fn preprocess_pads_with_white_and_resizes_to_the_model_size() {
        // A black 20 x 10 strip becomes a 16 x 16 page: white bands above and below.
        let gray = GrayImage::from_pixel(20, 10, Luma([0]));
        let input = preprocess(&gray, 16);
        assert_eq!(input.shape(), &[1, 1, 16, 16]);
        for x in 0..16 {
            assert!(input[[0, 0, 0, x]] > 0.99, "top padding is white at x={x}");
            assert!(
                input[[0, 0, 15, x]] > 0.99,
                "bottom padding is white at x={x}"
            );
            assert!(
                input[[0, 0, 8, x]] < -0.99,
                "the strip stays black at x={x}"
            );
        }
        assert!(
            input.iter().all(|v| (-1.0..=1.0).contains(v)),
            "Lanczos ringing is clamped"
        );
    }

    #[test]
    fn preprocess_into_reuses_the_buffer() {
        let mut buffer = Array4::from_elem((1, 1, 4, 4), 7.0);
        preprocess_into(&GrayImage::from_pixel(9, 9, Luma([255])), &mut buffer);
        assert!(buffer.iter().all(|&v| v == 1.0));
    }

    #[test]
    fn postprocess_maps_the_range_to_bytes_and_clamps() {
        let mut face = Array4::<f32>::zeros((1, 3, 2, 3));
        face[[0, 0, 0, 0]] = -1.0;
        face[[0, 1, 0, 0]] = 1.0;
        face[[0, 2, 0, 0]] = 0.0;
        face[[0, 0, 1, 2]] = -7.0;
        face[[0, 1, 1, 2]] = 3.5;
        face[[0, 2, 1, 2]] = f32::NAN;
        let rgb = postprocess(face.view()).unwrap();
        assert_eq!(
            rgb.dimensions(),
            (3, 2),
            "width from the last axis, height from the third"
        );
        assert_eq!(rgb.get_pixel(0, 0).0, [0, 255, 128]);
        assert_eq!(rgb.get_pixel(2, 1).0, [0, 255, 0]);
        assert_eq!(rgb.get_pixel(1, 0).0, [128, 128, 128]);
    }

    #[test]
    fn postprocess_refuses_wrong_shapes() {
        for shape in [(1, 1, 4, 4), (2, 3, 4, 4), (1, 4, 4, 4), (1, 3, 0, 4)] {
            let face = Array4::<f32>::zeros(shape);
            let err = postprocess(face.view()).unwrap_err().to_string();
            assert!(
                err.contains("`face`") && err.contains("expected shape [1, 3, H, W]"),
                "{err}"
            );
        }
    }

    #[test]
    fn postprocess_refuses_sides_over_the_limit_before_allocating() {
        // A broadcast view: 65535 x 65535 without the memory; an image of it would need 12 GiB.
        let one = Array4::<f32>::zeros((1, 3, 1, 1));
        let huge = one.broadcast((1, 3, 65535, 65535)).unwrap();
        let err = postprocess(huge).unwrap_err().to_string();
        assert!(
            err.contains("from 1 to 2048") && err.contains("65535"),
            "{err}"
        );
        let tall = one.broadcast((1, 3, 2049, 1)).unwrap();
        assert!(postprocess(tall).is_err());
    }

    #[test]
    fn hints_mark_exactly_the_painted_pixels_with_their_colour() {
        let mut rgba = RgbaImage::new(4, 4);
        rgba.put_pixel(1, 2, Rgba([255, 0, 51, 255]));
        rgba.put_pixel(3, 0, Rgba([10, 20, 30, 1])); // faint alpha still counts as painted
        let hints = hints_tensor(&rgba, 4);
        assert_eq!(hints.dim(), (1, 4, 4, 4));
        for y in 0..4 {
            for x in 0..4 {
                let painted = (x, y) == (1, 2) || (x, y) == (3, 0);
                assert_eq!(hints[[0, 3, y, x]], f32::from(u8::from(painted)), "mask at ({x},{y})");
                if !painted {
                    assert_eq!(hints[[0, 0, y, x]], 0.0);
                }
            }
        }
        assert_eq!(hints[[0, 0, 2, 1]], 1.0);
        assert_eq!(hints[[0, 1, 2, 1]], -1.0);
        assert!((hints[[0, 2, 2, 1]] - (51.0 / 127.5 - 1.0)).abs() < 1e-6);
        assert!((hints[[0, 0, 0, 3]] - (10.0 / 127.5 - 1.0)).abs() < 1e-6);
    }

    #[test]
    fn hints_are_fitted_like_the_sketch() {
        // 8 x 4, left half blue: centred on an 8 x 8 square (rows 2..6), then halved to 4 x 4.
        let rgba = RgbaImage::from_fn(8, 4, |x, _| {
            if x < 4 {
                Rgba([0, 0, 255, 255])
            } else {
                Rgba([0, 0, 0, 0])
            }
        });
        let hints = hints_tensor(&rgba, 4);
        let mask: Vec<Vec<f32>> = (0..4)
            .map(|y| (0..4).map(|x| hints[[0, 3, y, x]]).collect())
            .collect();
        assert_eq!(mask[0], [0.0; 4], "padding above is unpainted");
        assert_eq!(mask[3], [0.0; 4], "padding below is unpainted");
        assert_eq!(mask[1][..2], [1.0, 1.0]);
        assert_eq!(mask[1][2..], [0.0, 0.0]);
        // Colour inside stays pure blue: unpainted neighbours do not darken it.
        assert_eq!(hints[[0, 2, 1, 0]], 1.0);
        assert_eq!(hints[[0, 0, 1, 0]], -1.0);
    }

    #[test]
    fn a_large_wide_hint_image_becomes_a_centred_band() {
        // 2000 x 500, all red: resized to 128 x 32 before it is centred (rows 48..80), never
        // padded to a 2000 x 2000 square first.
        let rgba = RgbaImage::from_pixel(2000, 500, Rgba([255, 0, 0, 255]));
        let hints = hints_tensor(&rgba, 128);
        for y in 0..128 {
            let inside = (48..80).contains(&y);
            for x in [0, 64, 127] {
                assert_eq!(hints[[0, 3, y, x]], f32::from(u8::from(inside)), "mask at ({x},{y})");
                let red = if inside { 1.0 } else { 0.0 };
                assert_eq!(hints[[0, 0, y, x]], red, "red at ({x},{y})");
            }
        }
    }

    #[test]
    fn a_page_a_whole_multiple_of_the_side_is_hinted_block_by_block_by_the_same_rule() {
        // Block (0, 0): half painted, red 100 and 200: hinted, red 150. Block (1, 0): a quarter
        // painted: not hinted. Block (0, 1): all painted, one colour.
        let mut page = RgbaImage::new(4, 4);
        page.put_pixel(0, 0, Rgba([100, 0, 0, 255]));
        page.put_pixel(1, 1, Rgba([200, 0, 0, 255]));
        page.put_pixel(2, 0, Rgba([0, 200, 0, 255]));
        for (x, y) in [(0, 2), (1, 2), (0, 3), (1, 3)] {
            page.put_pixel(x, y, Rgba([0, 0, 255, 255]));
        }
        let hints = hints_tensor(&page, 2);
        assert_eq!(hints[[0, 3, 0, 0]], 1.0);
        assert!((hints[[0, 0, 0, 0]] - (150.0 / 127.5 - 1.0)).abs() < 1e-6);
        assert_eq!(hints[[0, 3, 0, 1]], 0.0);
        assert_eq!((hints[[0, 3, 1, 0]], hints[[0, 2, 1, 0]]), (1.0, 1.0));
        assert_eq!(hints[[0, 3, 1, 1]], 0.0);

        // A broad stroke on a 512 px page: the block rule and the general path (a resampling
        // filter) agree on all but the stroke's edge pixels.
        let mut page = RgbaImage::new(512, 512);
        for (x, y, pixel) in page.enumerate_pixels_mut() {
            let (dx, dy) = (x as f32 - 256.0, y as f32 - 200.0);
            if dx.hypot(dy) < 90.0 {
                *pixel = Rgba([210, 160, 130, 255]);
            }
        }
        let fast = hints_tensor(&page, 256);
        let mut padded = RgbaImage::new(512, 511);
        image::imageops::replace(&mut padded, &page, 0, 0);
        let general = hints_tensor(&padded, 256);
        let differing = (0..256 * 256).filter(|i| fast[[0, 3, i / 256, i % 256]] != general[[0, 3, i / 256, i % 256]]).count();
        assert!(differing < 2 * 2 * 45 * 4, "{differing} pixels differ");
    }

    #[test]
    fn an_empty_hint_image_hints_nothing() {
        let hints = hints_tensor(&RgbaImage::new(0, 7), 8);
        assert!(hints.iter().all(|&v| v == 0.0));
    }
}

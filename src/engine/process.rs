//! Pre- and post-processing: pure functions between images and the model's tensors.

use image::imageops::{self, FilterType};
use image::{GrayImage, Rgb, RgbImage};
use ndarray::{Array4, ArrayView4};

use super::{EngineError, OUTPUT_NAME};
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

/// The model output [1, 3, H, W] in [-1, 1] as an RGB image; values outside the range (and NaN)
/// are clamped.
pub fn postprocess(face: ArrayView4<f32>) -> Result<RgbImage, EngineError> {
    let (n, c, h, w) = face.dim();
    if n != 1 || c != 3 || h == 0 || w == 0 {
        return Err(EngineError::OutputShape {
            tensor: OUTPUT_NAME,
            expected: "[1, 3, H, W] with H, W > 0".to_owned(),
            found: format!("{:?}", face.shape()),
        });
    }
    let to_u8 = |v: f32| {
        if v.is_nan() {
            0
        } else {
            ((v + 1.0) * 127.5).round().clamp(0.0, 255.0) as u8
        }
    };
    Ok(RgbImage::from_fn(w as u32, h as u32, |x, y| {
        let (x, y) = (x as usize, y as usize);
        Rgb([
            to_u8(face[[0, 0, y, x]]),
            to_u8(face[[0, 1, y, x]]),
            to_u8(face[[0, 2, y, x]]),
        ])
    }))
}

/// The face resized to `size` x `size` with Lanczos3 (a copy when it already has that size).
pub fn upscale(face: &RgbImage, size: u32) -> RgbImage {
    if face.dimensions() == (size, size) {
        return face.clone();
    }
    imageops::resize(face, size, size, FilterType::Lanczos3)
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
    fn upscale_gives_the_asked_size() {
        let face = RgbImage::from_pixel(16, 16, Rgb([10, 200, 30]));
        let big = upscale(&face, 512);
        assert_eq!(big.dimensions(), (512, 512));
        assert_eq!(
            big.get_pixel(100, 300).0,
            [10, 200, 30],
            "a flat colour stays flat"
        );
        assert_eq!(upscale(&face, 16), face);
        assert_eq!(upscale(&face, 8).dimensions(), (8, 8));
    }
}

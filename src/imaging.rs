//! Pure image helpers shared by the `sketch` and `engine` rooms.
//!
//! Everything here is deterministic and allocation-light: one output buffer per call.

use image::imageops::{self, FilterType};
use image::{GrayImage, Luma, RgbImage};

/// The value of blank paper.
pub const WHITE: u8 = 255;

/// Pads `gray` to a square with white paper (the image centred, odd leftovers going to the
/// right/bottom), then resizes it to `size` x `size` with Lanczos3.
///
/// An input that is already `size` x `size` is copied unchanged; an empty input gives a blank
/// white page.
pub fn fit_square_white(gray: &GrayImage, size: u32) -> GrayImage {
    let (width, height) = gray.dimensions();
    if width == 0 || height == 0 {
        return blank_white(size);
    }
    if width == height {
        return resize_gray(gray, size);
    }
    resize_gray(&pad_square_white(gray), size)
}

/// Centres `gray` on a white square whose side is its larger dimension.
pub fn pad_square_white(gray: &GrayImage) -> GrayImage {
    let (width, height) = gray.dimensions();
    let side = width.max(height);
    let mut square = blank_white(side);
    let left = (side - width) / 2;
    let top = (side - height) / 2;
    imageops::replace(&mut square, gray, i64::from(left), i64::from(top));
    square
}

/// Resizes to `size` x `size` with Lanczos3 (a plain copy when the size already matches).
pub fn resize_gray(gray: &GrayImage, size: u32) -> GrayImage {
    imageops::resize(gray, size, size, FilterType::Lanczos3)
}

/// The face resized to `size` x `size` with Lanczos3 (a copy when it already has that size).
pub fn upscale(face: &RgbImage, size: u32) -> RgbImage {
    if face.dimensions() == (size, size) {
        return face.clone();
    }
    imageops::resize(face, size, size, FilterType::Lanczos3)
}

/// A `size` x `size` page of white paper.
pub fn blank_white(size: u32) -> GrayImage {
    GrayImage::from_pixel(size, size, Luma([WHITE]))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn square_input_of_target_size_is_unchanged() {
        let gray = GrayImage::from_fn(16, 16, |x, y| Luma([(x * 16 + y) as u8]));
        assert_eq!(fit_square_white(&gray, 16), gray);
    }

    #[test]
    fn wide_input_is_centred_between_white_bands() {
        // 8 x 4 black: padded to 8 x 8 with two white rows above and below.
        let black = GrayImage::from_pixel(8, 4, Luma([0]));
        let fitted = fit_square_white(&black, 8);
        assert_eq!(fitted.dimensions(), (8, 8));
        for x in 0..8 {
            for y in [0, 1, 6, 7] {
                assert_eq!(fitted.get_pixel(x, y)[0], WHITE, "padding at ({x},{y})");
            }
            for y in 2..6 {
                assert_eq!(fitted.get_pixel(x, y)[0], 0, "content at ({x},{y})");
            }
        }
    }

    #[test]
    fn tall_input_is_centred_between_white_bands() {
        let black = GrayImage::from_pixel(2, 6, Luma([0]));
        let padded = pad_square_white(&black);
        assert_eq!(padded.dimensions(), (6, 6));
        let row: Vec<u8> = (0..6).map(|x| padded.get_pixel(x, 3)[0]).collect();
        assert_eq!(row, [WHITE, WHITE, 0, 0, WHITE, WHITE]);
    }

    #[test]
    fn resize_keeps_a_uniform_page_uniform() {
        let gray = GrayImage::from_pixel(30, 20, Luma([WHITE]));
        let fitted = fit_square_white(&gray, 64);
        assert_eq!(fitted.dimensions(), (64, 64));
        assert!(fitted.pixels().all(|p| p[0] == WHITE));
    }

    #[test]
    fn downscaled_content_stays_centred() {
        let mut gray = blank_white(100);
        for y in 40..60 {
            for x in 40..60 {
                gray.put_pixel(x, y, Luma([0]));
            }
        }
        let fitted = fit_square_white(&gray, 10);
        assert!(fitted.get_pixel(5, 5)[0] < 64, "centre should stay dark");
        assert_eq!(fitted.get_pixel(0, 0)[0], WHITE);
        assert_eq!(fitted.get_pixel(9, 9)[0], WHITE);
    }

    #[test]
    fn upscale_gives_the_asked_size() {
        let face = RgbImage::from_pixel(16, 16, image::Rgb([10, 20, 30]));
        let big = upscale(&face, 512);
        assert_eq!(big.dimensions(), (512, 512));
        assert_eq!(big.get_pixel(256, 256).0, [10, 20, 30]);
        assert_eq!(upscale(&face, 16), face);
        assert_eq!(upscale(&face, 8).dimensions(), (8, 8));
    }

    #[test]
    fn empty_input_gives_a_white_page() {
        let fitted = fit_square_white(&GrayImage::new(0, 5), 4);
        assert_eq!(fitted, blank_white(4));
    }
}

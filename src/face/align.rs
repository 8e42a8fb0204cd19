//! A photograph turned into the face frame: the look photo (issue 26) is aligned like the bank's
//! faces, so the warp treats it as one more bank face.

use image::imageops::{self, FilterType};
use image::{Rgb, RgbImage};

use super::Similarity;

/// `photo` seen through `to_face` (photo pixels -> face-frame pixels): a `side` x `side` image,
/// bilinear, the photo's edge pixels repeated beyond it (hair and background carry on, where a
/// flat colour would draw a frame into the face). A photo much larger than the face frame is
/// first resized with a filter as wide as the step, so a 4,000 px photo does not alias.
pub fn align_photo(photo: &RgbImage, to_face: &Similarity, side: u32) -> RgbImage {
    let mut aligned = RgbImage::new(side, side);
    let Some(mut from_face) = to_face.inverse() else {
        return aligned;
    };
    if photo.width() == 0 || photo.height() == 0 {
        return aligned;
    }
    let shrink = to_face.scale();
    let resized;
    let mut source = photo;
    if shrink < 0.5 {
        let (width, height) = (
            ((photo.width() as f32 * shrink).round() as u32).max(1),
            ((photo.height() as f32 * shrink).round() as u32).max(1),
        );
        resized = imageops::resize(photo, width, height, FilterType::Triangle);
        // Pixel centres: photo pixel x lies at resized (x + 0.5) * kx - 0.5.
        let (kx, ky) = (width as f32 / photo.width() as f32, height as f32 / photo.height() as f32);
        let k = (kx + ky) / 2.0;
        let into_resized = Similarity { a: k, b: 0.0, tx: 0.5 * k - 0.5, ty: 0.5 * k - 0.5 };
        from_face = into_resized.after(&from_face);
        source = &resized;
    }
    for (x, y, pixel) in aligned.enumerate_pixels_mut() {
        let [sx, sy] = from_face.apply([x as f32, y as f32]);
        *pixel = bilinear_clamped(source, sx, sy);
    }
    aligned
}

/// `image` at `(x, y)` (pixel `i`'s centre at `i`), bilinear, its edge repeated outside.
fn bilinear_clamped(image: &RgbImage, x: f32, y: f32) -> Rgb<u8> {
    let (max_x, max_y) = ((image.width() - 1) as f32, (image.height() - 1) as f32);
    let (x, y) = (
        if x.is_finite() { x.clamp(0.0, max_x) } else { 0.0 },
        if y.is_finite() { y.clamp(0.0, max_y) } else { 0.0 },
    );
    let (x0, y0) = (x.floor(), y.floor());
    let (fx, fy) = (x - x0, y - y0);
    let (x0, y0) = (x0 as u32, y0 as u32);
    let (x1, y1) = ((x0 + 1).min(image.width() - 1), (y0 + 1).min(image.height() - 1));
    let [p00, p10, p01, p11] = [(x0, y0), (x1, y0), (x0, y1), (x1, y1)].map(|(x, y)| image.get_pixel(x, y).0);
    Rgb(std::array::from_fn(|c| {
        let top = f32::from(p00[c]) * (1.0 - fx) + f32::from(p10[c]) * fx;
        let bottom = f32::from(p01[c]) * (1.0 - fx) + f32::from(p11[c]) * fx;
        (top * (1.0 - fy) + bottom * fy).round() as u8
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn gradient(width: u32, height: u32) -> RgbImage {
        RgbImage::from_fn(width, height, |x, y| Rgb([(x % 256) as u8, (y % 256) as u8, 128]))
    }

    #[test]
    fn the_identity_copies_the_photo_and_repeats_its_edges_beyond_it() {
        let photo = gradient(40, 30);
        let aligned = align_photo(&photo, &Similarity::IDENTITY, 50);
        for (x, y) in [(0, 0), (17, 9), (39, 29)] {
            assert_eq!(aligned.get_pixel(x, y), photo.get_pixel(x, y), "({x}, {y})");
        }
        // Beyond the right and bottom edges: the last column and row again.
        assert_eq!(aligned.get_pixel(45, 10), photo.get_pixel(39, 10));
        assert_eq!(aligned.get_pixel(10, 45), photo.get_pixel(10, 29));
    }

    #[test]
    fn a_shift_and_a_turn_move_the_photo_where_the_similarity_says() {
        let photo = gradient(100, 100);
        // A quarter turn about the origin, then 60 px right: photo (x, y) -> (60 - y, x).
        let turn = Similarity { a: 0.0, b: 1.0, tx: 60.0, ty: 0.0 };
        let aligned = align_photo(&photo, &turn, 64);
        for (px, py) in [(10u32, 20u32), (30, 5), (2, 50)] {
            let [fx, fy] = turn.apply([px as f32, py as f32]);
            assert_eq!(aligned.get_pixel(fx as u32, fy as u32), photo.get_pixel(px, py), "photo ({px}, {py})");
        }
    }

    #[test]
    fn a_large_photo_is_filtered_before_it_is_sampled_so_fine_stripes_average_out() {
        // One-pixel black and white stripes, shrunk 8 times: every output pixel is mid gray,
        // where point sampling would give black or white.
        let photo = RgbImage::from_fn(800, 800, |x, _| if x % 2 == 0 { Rgb([0, 0, 0]) } else { Rgb([255, 255, 255]) });
        let aligned = align_photo(&photo, &Similarity::scaling(0.125), 100);
        for pixel in aligned.pixels() {
            assert!((100..=155).contains(&pixel.0[0]), "{pixel:?}");
        }
    }

    #[test]
    fn a_collapsed_similarity_or_an_empty_photo_gives_a_black_frame_not_a_panic() {
        let collapsed = Similarity { a: 0.0, b: 0.0, tx: 3.0, ty: 3.0 };
        assert!(align_photo(&gradient(10, 10), &collapsed, 8).pixels().all(|p| p.0 == [0, 0, 0]));
        assert!(align_photo(&RgbImage::new(0, 0), &Similarity::IDENTITY, 8).pixels().all(|p| p.0 == [0, 0, 0]));
    }
}

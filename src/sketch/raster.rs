//! The one rasterizer: turns a [`Drawing`] into the gray image the model sees.
//!
//! The app, the CLI and the training data (Python mirror:
//! `training/sketch2face_training/raster.py`, drawn with skia-python) follow the same rules, so
//! the model is fed what it was trained on. The rules (see the interface spec) are:
//!
//! 1. Canvas `S` x `S`, white (255). A point `(x, y)` maps to pixel coordinates `(x*S, y*S)`
//!    (pixel `i` covers `i..i+1`, as in Skia).
//! 2. The background, if any, is fitted to `S` x `S` with
//!    [`fit_square_white`](crate::imaging::fit_square_white) (Lanczos3) and drawn first.
//! 3. Strokes in order: brush paints black (0), eraser white (255), source-over, anti-aliased.
//! 4. Smoothing: consecutive points at the same position are dropped (the first is kept), then
//!    a uniform Catmull-Rom spline runs through the points (first and last duplicated as
//!    phantom ends); each segment is sampled at `t = 1/8 .. 8/8` after the first point
//!    (`t = 8/8` is the segment's end point exactly). Pressure is linear along each segment.
//! 5. A sample's width in pixels is `width * S * (0.5 + pressure)`, rounded to the nearest
//!    0.25 px (halves away from zero: `floor(w * 4 + 0.5) / 4`), at least 0.25.
//! 6. Consecutive pieces (sample to sample) with the same width, a piece taking the width of
//!    its end sample, are stroked as one path with round caps and round joins.
//! 7. A stroke with a single distinct point is a filled circle of diameter `w` at that point.
//!
//! Arithmetic is `f32`, like the path coordinates Skia takes.
//!
//! Colour strokes are not part of the sketch: [`rasterize`] skips them, and
//! [`rasterize_hints`] turns them into the model's colour hints with the same rules (the
//! Python mirror: `training/hints.py`). Each colour stroke is drawn alone as ink on white
//! paper; the pixels it leaves darker than 128 (covered at least half) take its colour, later
//! strokes over earlier ones, and the eraser's pixels lose theirs.

use image::{GrayImage, Rgba, RgbaImage};
use tiny_skia::{Color, FillRule, LineCap, LineJoin, Paint, PathBuilder, Pixmap, Transform};

use super::{Drawing, Point, Stroke, Tool};
use crate::imaging::{WHITE, fit_square_white};

/// Pieces each segment between two input points is divided into.
pub const SUBDIVISIONS: usize = 8;
/// Sample widths are rounded to multiples of this (px), so a pressure stroke becomes a few
/// long paths instead of one path per piece.
pub const WIDTH_QUANTUM: f32 = 0.25;
/// A pixel is hinted where a colour stroke, drawn alone as ink, leaves it darker than this
/// (covers at least half of it): `training/hints.py`'s `COVERAGE_THRESHOLD`.
pub const HINT_COVERAGE: u8 = 128;

/// Renders `drawing` as an `size` x `size` gray image (white paper, black ink).
pub fn rasterize(drawing: &Drawing, size: u32) -> GrayImage {
    rasterize_with(drawing, None, size)
}

/// Renders `drawing` with `extra` (the stroke being drawn) on top, without building a new
/// drawing for it.
pub fn rasterize_with(drawing: &Drawing, extra: Option<&Stroke>, size: u32) -> GrayImage {
    let Some(mut pixmap) = Pixmap::new(size, size) else {
        // Only a zero (or absurdly large) size gets here: nothing to draw on.
        return GrayImage::from_pixel(size, size, image::Luma([WHITE]));
    };
    paint_background(&mut pixmap, drawing.background.as_deref());

    let mut painter = StrokePainter::new(size as f32);
    for stroke in drawing.strokes.iter().map(|stroke| &**stroke).chain(extra) {
        if stroke.is_ink() {
            painter.paint(&mut pixmap, stroke);
        }
    }
    gray_from_opaque_pixmap(&pixmap)
}

/// The colour hints of `drawing` as a `size` x `size` RGBA image: the colour where a colour
/// stroke covers a pixel at least half (alpha 255), transparent black elsewhere.
pub fn rasterize_hints(drawing: &Drawing, size: u32) -> RgbaImage {
    rasterize_hints_with(drawing, None, size)
}

/// [`rasterize_hints`] with `extra` (the stroke being drawn) on top.
pub fn rasterize_hints_with(drawing: &Drawing, extra: Option<&Stroke>, size: u32) -> RgbaImage {
    let mut hints = RgbaImage::new(size, size);
    paint_hints(
        &mut hints,
        drawing.strokes.iter().map(|stroke| &**stroke).chain(extra),
    );
    hints
}

/// Paints the colour strokes among `strokes` onto square `hints` (and wipes where an eraser
/// stroke goes); ink strokes are skipped. Painting a drawing's strokes in two calls gives the
/// same image as painting them in one.
pub fn paint_hints<'a>(hints: &mut RgbaImage, strokes: impl IntoIterator<Item = &'a Stroke>) {
    let size = hints.width();
    let mut painter = StrokePainter::new(size as f32);
    for stroke in strokes {
        let paint = match (stroke.tool, stroke.colour) {
            (Tool::Colour, Some([r, g, b])) => Rgba([r, g, b, 255]),
            (Tool::Eraser, _) => Rgba([0, 0, 0, 0]),
            _ => continue,
        };
        painter.cover(stroke, size, |x, y| hints.put_pixel(x, y, paint));
    }
}

fn paint_background(pixmap: &mut Pixmap, background: Option<&GrayImage>) {
    let Some(background) = background else {
        pixmap.fill(Color::WHITE);
        return;
    };
    let size = pixmap.width();
    let fitted;
    let background = if background.dimensions() == (size, size) {
        background
    } else {
        fitted = fit_square_white(background, size);
        &fitted
    };
    for (rgba, gray) in pixmap
        .data_mut()
        .chunks_exact_mut(4)
        .zip(background.as_raw())
    {
        rgba.copy_from_slice(&[*gray, *gray, *gray, 255]);
    }
}

/// Every pixel is opaque gray, so premultiplied red is the gray value.
fn gray_from_opaque_pixmap(pixmap: &Pixmap) -> GrayImage {
    let gray: Vec<u8> = pixmap.data().chunks_exact(4).map(|rgba| rgba[0]).collect();
    GrayImage::from_raw(pixmap.width(), pixmap.height(), gray)
        .expect("one gray byte per pixmap pixel")
}

/// Paints and stroke settings reused across the strokes of one rasterization.
struct StrokePainter {
    canvas_side: f32,
    ink: Paint<'static>,
    paper: Paint<'static>,
    outline: tiny_skia::Stroke,
    /// Kept between runs to reuse its allocation.
    builder: PathBuilder,
    samples: Vec<Sample>,
}

impl StrokePainter {
    fn new(canvas_side: f32) -> Self {
        let solid = |color: Color| {
            let mut paint = Paint::default();
            paint.set_color(color);
            paint.anti_alias = true;
            paint
        };
        Self {
            canvas_side,
            ink: solid(Color::BLACK),
            paper: solid(Color::WHITE),
            outline: tiny_skia::Stroke {
                line_cap: LineCap::Round,
                line_join: LineJoin::Round,
                ..Default::default()
            },
            builder: PathBuilder::new(),
            samples: Vec::new(),
        }
    }

    fn paint(&mut self, pixmap: &mut Pixmap, stroke: &Stroke) {
        smooth_stroke(&stroke.points, self.canvas_side, &mut self.samples);
        let ink = stroke.tool != Tool::Eraser;
        self.paint_samples(pixmap, stroke.width, ink, Transform::identity());
    }

    /// Calls `covered(x, y)` for every pixel of the `size` x `size` canvas that `stroke`, drawn
    /// alone as ink on white paper, leaves darker than [`HINT_COVERAGE`]. Only the stroke's
    /// bounding box is rasterized (shifted by whole pixels, which changes no coverage).
    fn cover(&mut self, stroke: &Stroke, size: u32, mut covered: impl FnMut(u32, u32)) {
        smooth_stroke(&stroke.points, self.canvas_side, &mut self.samples);
        let Some(widest) = self
            .samples
            .iter()
            .map(|s| self.width_px(stroke.width, s))
            .reduce(f32::max)
        else {
            return;
        };
        let margin = widest / 2.0 + 2.0;
        let (mut x0, mut y0, mut x1, mut y1) = (f32::MAX, f32::MAX, f32::MIN, f32::MIN);
        for sample in &self.samples {
            x0 = x0.min(sample.x);
            y0 = y0.min(sample.y);
            x1 = x1.max(sample.x);
            y1 = y1.max(sample.y);
        }
        let clamp = |v: f32| v.clamp(0.0, size as f32) as u32;
        let (left, top) = (clamp((x0 - margin).floor()), clamp((y0 - margin).floor()));
        let (right, bottom) = (clamp((x1 + margin).ceil()), clamp((y1 + margin).ceil()));
        let Some(mut pixmap) = Pixmap::new(right.saturating_sub(left), bottom.saturating_sub(top))
        else {
            return; // off the canvas, or not finite
        };
        pixmap.fill(Color::WHITE);
        let shift = Transform::from_translate(-(left as f32), -(top as f32));
        self.paint_samples(&mut pixmap, stroke.width, true, shift);
        let width = pixmap.width();
        for (i, rgba) in pixmap.data().chunks_exact(4).enumerate() {
            if rgba[0] < HINT_COVERAGE {
                let i = i as u32;
                covered(left + i % width, top + i / width);
            }
        }
    }

    fn width_px(&self, width: f32, sample: &Sample) -> f32 {
        quantized_width(width * self.canvas_side * (0.5 + sample.pressure))
    }

    /// Strokes `self.samples` (rules 5 to 7) with ink or paper.
    fn paint_samples(&mut self, pixmap: &mut Pixmap, width: f32, ink: bool, transform: Transform) {
        let paint = if ink { &self.ink } else { &self.paper };
        let width_of =
            |sample: &Sample| quantized_width(width * self.canvas_side * (0.5 + sample.pressure));

        if let [dot] = self.samples.as_slice() {
            let radius = width_of(dot) / 2.0;
            if let Some(circle) = PathBuilder::from_circle(dot.x, dot.y, radius) {
                pixmap.fill_path(&circle, paint, FillRule::Winding, transform, None);
            }
            return;
        }

        let mut run_start = 0;
        while run_start + 1 < self.samples.len() {
            let run_width = width_of(&self.samples[run_start + 1]);
            let mut run_end = run_start + 1;
            while run_end + 1 < self.samples.len()
                && width_of(&self.samples[run_end + 1]) == run_width
            {
                run_end += 1;
            }

            let mut builder = std::mem::take(&mut self.builder);
            let first = self.samples[run_start];
            builder.move_to(first.x, first.y);
            for sample in &self.samples[run_start + 1..=run_end] {
                builder.line_to(sample.x, sample.y);
            }
            // `finish` fails only on non-finite coordinates; such a run is skipped.
            if let Some(path) = builder.finish() {
                self.outline.width = run_width;
                pixmap.stroke_path(&path, paint, &self.outline, transform, None);
                self.builder = path.clear();
            }
            run_start = run_end;
        }
    }
}

/// A point of the smoothed polyline, in pixels.
#[derive(Clone, Copy, Debug, PartialEq)]
struct Sample {
    x: f32,
    y: f32,
    pressure: f32,
}

/// Rule 5: width rounded to [`WIDTH_QUANTUM`], never below it.
fn quantized_width(width_px: f32) -> f32 {
    ((width_px / WIDTH_QUANTUM + 0.5).floor() * WIDTH_QUANTUM).max(WIDTH_QUANTUM)
}

/// Rule 4: fills `samples` with the Catmull-Rom polyline through `points`, scaled to pixels.
/// One distinct point gives one sample; no points give none.
fn smooth_stroke(points: &[Point], canvas_side: f32, samples: &mut Vec<Sample>) {
    samples.clear();
    let mut distinct: Vec<Sample> = Vec::with_capacity(points.len());
    let mut previous: Option<&Point> = None;
    for point in points {
        if previous.is_some_and(|previous| previous.same_position(point)) {
            continue;
        }
        previous = Some(point);
        distinct.push(Sample {
            x: point.x * canvas_side,
            y: point.y * canvas_side,
            pressure: point.pressure,
        });
    }
    let Some(&first) = distinct.first() else {
        return;
    };
    samples.push(first);

    let last = distinct.len() - 1;
    for segment in 0..last {
        let before = distinct[segment.saturating_sub(1)];
        let start = distinct[segment];
        let end = distinct[segment + 1];
        let after = distinct[(segment + 2).min(last)];
        for step in 1..SUBDIVISIONS {
            let t = step as f32 / SUBDIVISIONS as f32;
            samples.push(Sample {
                x: catmull_rom(before.x, start.x, end.x, after.x, t),
                y: catmull_rom(before.y, start.y, end.y, after.y, t),
                pressure: start.pressure + (end.pressure - start.pressure) * t,
            });
        }
        samples.push(end);
    }
}

fn catmull_rom(p0: f32, p1: f32, p2: f32, p3: f32, t: f32) -> f32 {
    let t2 = t * t;
    let t3 = t2 * t;
    0.5 * (2.0 * p1
        + (p2 - p0) * t
        + (2.0 * p0 - 5.0 * p1 + 4.0 * p2 - p3) * t2
        + (3.0 * p1 - p0 - 3.0 * p2 + p3) * t3)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sketch::{drawing_from_json, drawing_to_json};
    use image::Luma;
    use std::path::PathBuf;
    use std::sync::Arc;

    /// Goldens may differ by this many gray levels (float rounding across platforms).
    const GOLDEN_TOLERANCE: u8 = 2;

    fn stroke(tool: Tool, width: f32, points: &[(f32, f32, f32)]) -> Stroke {
        Stroke {
            tool,
            width,
            points: points
                .iter()
                .map(|&(x, y, p)| Point::new(x, y, p))
                .collect(),
            colour: None,
        }
    }

    fn colour_stroke(colour: [u8; 3], width: f32, points: &[(f32, f32)]) -> Stroke {
        Stroke {
            colour: Some(colour),
            ..stroke(
                Tool::Colour,
                width,
                &points.iter().map(|&(x, y)| (x, y, 0.5)).collect::<Vec<_>>(),
            )
        }
    }

    #[test]
    fn colour_strokes_are_not_ink() {
        let drawing = drawing_of(vec![colour_stroke(
            [200, 0, 0],
            0.05,
            &[(0.2, 0.5), (0.8, 0.5)],
        )]);
        assert_eq!(rasterize(&drawing, 32), rasterize(&Drawing::default(), 32));
    }

    #[test]
    fn hints_are_where_the_stroke_covers_half_a_pixel_in_its_colour() {
        let red = colour_stroke([200, 10, 20], 0.1, &[(0.2, 0.5), (0.8, 0.5)]);
        let hints = rasterize_hints(&drawing_of(vec![red.clone()]), 64);
        // The same stroke as ink: the hinted pixels are exactly those darker than 128.
        let ink = rasterize(
            &drawing_of(vec![Stroke {
                tool: Tool::Brush,
                ..red
            }]),
            64,
        );
        let mut hinted = 0;
        for (x, y, pixel) in hints.enumerate_pixels() {
            let covered = ink.get_pixel(x, y)[0] < HINT_COVERAGE;
            let expected = if covered {
                Rgba([200, 10, 20, 255])
            } else {
                Rgba([0, 0, 0, 0])
            };
            assert_eq!(*pixel, expected, "({x}, {y})");
            hinted += usize::from(covered);
        }
        // 6.4 px wide and 38.4 px long, plus round caps.
        assert!((230..300).contains(&hinted), "{hinted} pixels hinted");
    }

    #[test]
    fn later_colours_paint_over_earlier_and_the_eraser_wipes_them() {
        let drawing = drawing_of(vec![
            colour_stroke([200, 0, 0], 0.1, &[(0.2, 0.5), (0.8, 0.5)]),
            colour_stroke([0, 0, 200], 0.1, &[(0.5, 0.2), (0.5, 0.8)]),
            stroke(Tool::Eraser, 0.1, &[(0.75, 0.4, 0.5), (0.75, 0.6, 0.5)]),
            stroke(Tool::Brush, 0.2, &[(0.3, 0.5, 0.5)]),
        ]);
        let hints = rasterize_hints(&drawing, 64);
        assert_eq!(hints.get_pixel(32, 32).0, [0, 0, 200, 255], "blue over red");
        assert_eq!(
            hints.get_pixel(20, 32).0,
            [200, 0, 0, 255],
            "ink leaves colour alone"
        );
        assert_eq!(hints.get_pixel(48, 32).0[3], 0, "erased");
        assert_eq!(hints.get_pixel(5, 5).0[3], 0, "never painted");
        // In two calls, as the app's cache paints them, the result is the same.
        let mut split = rasterize_hints(
            &drawing_of(drawing.strokes[..2].iter().map(|s| (**s).clone()).collect()),
            64,
        );
        paint_hints(&mut split, drawing.strokes[2..].iter().map(|s| &**s));
        assert_eq!(split, hints);
    }

    #[test]
    fn hints_off_the_canvas_are_clipped() {
        let drawing = drawing_of(vec![colour_stroke(
            [9, 9, 9],
            0.2,
            &[(-0.05, 1.05), (0.02, 0.98)],
        )]);
        let hints = rasterize_hints(&drawing, 32);
        assert_eq!(hints.get_pixel(0, 31).0, [9, 9, 9, 255]);
        let far = drawing_of(vec![colour_stroke([9, 9, 9], 0.01, &[(3.0, 3.0)])]);
        assert!(rasterize_hints(&far, 32).pixels().all(|p| p.0[3] == 0));
    }

    fn drawing_of(strokes: Vec<Stroke>) -> Drawing {
        Drawing {
            strokes: strokes.into_iter().map(Arc::new).collect(),
            background: None,
        }
    }

    fn dark_pixels(image: &GrayImage, threshold: u8) -> usize {
        image.pixels().filter(|pixel| pixel[0] < threshold).count()
    }

    fn horizontal_line(tool: Tool, width: f32, pressure: f32) -> Stroke {
        stroke(
            tool,
            width,
            &[
                (0.2, 0.5, pressure),
                (0.5, 0.5, pressure),
                (0.8, 0.5, pressure),
            ],
        )
    }

    #[test]
    fn blank_drawing_is_white() {
        let image = rasterize(&Drawing::default(), 32);
        assert_eq!(image.dimensions(), (32, 32));
        assert!(image.pixels().all(|pixel| pixel[0] == WHITE));
        assert_eq!(rasterize(&Drawing::default(), 0).dimensions(), (0, 0));
    }

    #[test]
    fn brush_stroke_inks_its_line_only() {
        let image = rasterize(
            &drawing_of(vec![horizontal_line(Tool::Brush, 0.05, 0.5)]),
            64,
        );
        // Line from x = 12.8 to 51.2 along y = 32, 3.2 px wide (rounded to 3.25).
        for x in 14..50 {
            assert!(
                image.get_pixel(x, 31)[0] < 40,
                "ink at ({x}, 31): {}",
                image.get_pixel(x, 31)[0]
            );
            assert!(image.get_pixel(x, 32)[0] < 40, "ink at ({x}, 32)");
        }
        for (x, y) in [(5, 32), (58, 32), (32, 20), (32, 44), (0, 0), (63, 63)] {
            assert_eq!(image.get_pixel(x, y)[0], WHITE, "paper at ({x}, {y})");
        }
    }

    #[test]
    fn eraser_whitens_a_brush_stroke() {
        let drawing = drawing_of(vec![
            horizontal_line(Tool::Brush, 0.05, 0.5),
            horizontal_line(Tool::Eraser, 0.15, 0.5),
        ]);
        let image = rasterize(&drawing, 64);
        assert!(image.pixels().all(|pixel| pixel[0] == WHITE));
    }

    #[test]
    fn single_point_makes_a_dot() {
        let image = rasterize(
            &drawing_of(vec![stroke(Tool::Brush, 0.125, &[(0.5, 0.5, 0.5)])]),
            64,
        );
        // Diameter 8 px around (32, 32).
        assert_eq!(image.get_pixel(32, 32)[0], 0);
        assert_eq!(image.get_pixel(29, 32)[0], 0);
        assert_eq!(image.get_pixel(37, 32)[0], WHITE);
        assert_eq!(image.get_pixel(32, 26)[0], WHITE);
        let area = dark_pixels(&image, 128) as f32;
        let expected = std::f32::consts::PI * 16.0;
        assert!(
            (area - expected).abs() < 8.0,
            "dot area {area}, expected about {expected}"
        );
    }

    #[test]
    fn repeated_points_count_as_one() {
        let repeated = stroke(Tool::Brush, 0.125, &[(0.5, 0.5, 0.5), (0.5, 0.5, 0.9)]);
        let single = stroke(Tool::Brush, 0.125, &[(0.5, 0.5, 0.5)]);
        assert_eq!(
            rasterize(&drawing_of(vec![repeated]), 64),
            rasterize(&drawing_of(vec![single]), 64)
        );
    }

    #[test]
    fn pressure_widens_the_line() {
        let light = rasterize(
            &drawing_of(vec![horizontal_line(Tool::Brush, 0.05, 0.0)]),
            64,
        );
        let firm = rasterize(
            &drawing_of(vec![horizontal_line(Tool::Brush, 0.05, 1.0)]),
            64,
        );
        // Widths 1.5 and 4.75 px, as rounded by rule 5.
        let (light_ink, firm_ink) = (dark_pixels(&light, 128), dark_pixels(&firm, 128));
        assert!(
            firm_ink > 2 * light_ink,
            "firm {firm_ink} vs light {light_ink}"
        );
    }

    #[test]
    fn rendering_is_deterministic() {
        let drawing = fixture_drawing();
        assert_eq!(rasterize(&drawing, 96), rasterize(&drawing, 96));
    }

    #[test]
    fn extra_stroke_matches_a_recorded_one() {
        let drawing = drawing_of(vec![horizontal_line(Tool::Brush, 0.05, 0.5)]);
        let extra = stroke(Tool::Brush, 0.03, &[(0.5, 0.1, 0.5), (0.6, 0.9, 0.8)]);
        assert_eq!(
            rasterize_with(&drawing, Some(&extra), 64),
            rasterize(&drawing.with_stroke(extra.clone()), 64)
        );
    }

    #[test]
    fn background_is_fitted_and_drawn_first() {
        let gray_page = GrayImage::from_pixel(128, 128, Luma([100]));
        let drawing = Drawing::with_background(gray_page).with_stroke(horizontal_line(
            Tool::Brush,
            0.05,
            0.5,
        ));
        let image = rasterize(&drawing, 64);
        assert_eq!(image.get_pixel(5, 5)[0], 100);
        assert_eq!(image.get_pixel(32, 32)[0], 0);
    }

    #[test]
    fn widths_are_quantized() {
        assert_eq!(quantized_width(3.2), 3.25);
        assert_eq!(quantized_width(3.125), 3.25, "halves round up");
        assert_eq!(quantized_width(3.1), 3.0);
        assert_eq!(quantized_width(0.01), WIDTH_QUANTUM);
        assert_eq!(quantized_width(-2.0), WIDTH_QUANTUM);
    }

    #[test]
    fn smoothing_passes_through_the_points() {
        let points = [
            Point::new(0.1, 0.1, 0.0),
            Point::new(0.5, 0.9, 1.0),
            Point::new(0.9, 0.1, 0.0),
        ];
        let mut samples = Vec::new();
        smooth_stroke(&points, 100.0, &mut samples);
        assert_eq!(samples.len(), 1 + 2 * SUBDIVISIONS);
        for (index, point) in [
            (0, points[0]),
            (SUBDIVISIONS, points[1]),
            (2 * SUBDIVISIONS, points[2]),
        ] {
            let sample = samples[index];
            assert!(
                (sample.x - point.x * 100.0).abs() < 1e-4
                    && (sample.y - point.y * 100.0).abs() < 1e-4
            );
            assert_eq!(sample.pressure, point.pressure);
        }
        assert_eq!(
            samples[SUBDIVISIONS / 2].pressure,
            0.5,
            "pressure is linear along a segment"
        );
        // The curve overshoots the straight chord near the middle point, as a spline does.
        assert!(samples[SUBDIVISIONS - 1].y > 0.8 * 100.0 + 1.0);
    }

    // ---- golden images ----

    fn data_path(name: &str) -> PathBuf {
        PathBuf::from(env!("CARGO_MANIFEST_DIR"))
            .join("tests/data")
            .join(name)
    }

    fn updating_goldens() -> bool {
        std::env::var_os("UPDATE_GOLDEN").is_some_and(|value| value == "1")
    }

    /// Compares `image` with the PNG `name` in tests/data, or writes it when UPDATE_GOLDEN=1.
    fn assert_matches_golden(image: &GrayImage, name: &str) {
        let path = data_path(name);
        if updating_goldens() {
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            image
                .save(&path)
                .unwrap_or_else(|error| panic!("writing {}: {error}", path.display()));
            return;
        }
        let golden = image::open(&path)
            .unwrap_or_else(|error| {
                panic!(
                    "reading {} ({error}); run with UPDATE_GOLDEN=1 to create it",
                    path.display()
                )
            })
            .into_luma8();
        assert_eq!(golden.dimensions(), image.dimensions(), "{name}: size");
        let (worst_index, worst) = golden
            .as_raw()
            .iter()
            .zip(image.as_raw())
            .map(|(a, b)| a.abs_diff(*b))
            .enumerate()
            .max_by_key(|&(_, difference)| difference)
            .unwrap_or_default();
        let (x, y) = (
            worst_index as u32 % image.width(),
            worst_index as u32 / image.width(),
        );
        assert!(
            worst <= GOLDEN_TOLERANCE,
            "{name}: pixel ({x}, {y}) differs by {worst} levels (tolerance {GOLDEN_TOLERANCE}); \
             if the change is intended, rerun with UPDATE_GOLDEN=1"
        );
    }

    #[test]
    fn golden_curve_with_pressure() {
        let drawing = drawing_of(vec![stroke(
            Tool::Brush,
            0.04,
            &[
                (0.15, 0.7, 0.1),
                (0.3, 0.25, 0.4),
                (0.55, 0.6, 0.7),
                (0.75, 0.2, 1.0),
                (0.9, 0.8, 0.3),
            ],
        )]);
        assert_matches_golden(&rasterize(&drawing, 64), "raster_golden_curve.png");
    }

    #[test]
    fn golden_eraser_across_ink() {
        let drawing = drawing_of(vec![
            stroke(Tool::Brush, 0.15, &[(0.2, 0.2, 0.5), (0.8, 0.8, 0.5)]),
            stroke(Tool::Brush, 0.15, &[(0.8, 0.2, 0.5), (0.2, 0.8, 0.5)]),
            stroke(Tool::Eraser, 0.06, &[(0.1, 0.5, 0.5), (0.9, 0.5, 0.5)]),
        ]);
        assert_matches_golden(&rasterize(&drawing, 64), "raster_golden_eraser.png");
    }

    #[test]
    fn golden_dots_and_thin_lines() {
        let drawing = drawing_of(vec![
            stroke(Tool::Brush, 0.1, &[(0.25, 0.25, 0.5)]),
            stroke(Tool::Brush, 0.05, &[(0.75, 0.25, 1.0)]),
            stroke(Tool::Brush, 0.02, &[(0.5, 0.5, 0.0)]),
            stroke(Tool::Brush, 0.01, &[(0.1, 0.75, 0.5), (0.9, 0.7, 0.5)]),
            stroke(Tool::Brush, 0.004, &[(0.1, 0.9, 0.5), (0.9, 0.85, 0.5)]),
        ]);
        assert_matches_golden(&rasterize(&drawing, 64), "raster_golden_dots.png");
    }

    // ---- parity fixture for the Python rasterizer ----

    /// The drawing in tests/data/raster_fixture.json: strokes of several widths, one with
    /// varying pressure (several width runs), a repeated point, an eraser and a dot.
    fn fixture_drawing() -> Drawing {
        drawing_of(vec![
            stroke(
                Tool::Brush,
                0.02,
                &[
                    (0.2, 0.3, 0.5),
                    (0.35, 0.15, 0.5),
                    (0.5, 0.3, 0.5),
                    (0.5, 0.3, 0.5),
                    (0.65, 0.15, 0.5),
                    (0.8, 0.3, 0.5),
                ],
            ),
            stroke(
                Tool::Brush,
                0.04,
                &[
                    (0.15, 0.6, 0.05),
                    (0.35, 0.5, 0.3),
                    (0.55, 0.75, 0.6),
                    (0.75, 0.55, 0.85),
                    (0.9, 0.7, 1.0),
                ],
            ),
            stroke(
                Tool::Eraser,
                0.05,
                &[(0.45, 0.1, 0.5), (0.5, 0.5, 0.5), (0.55, 0.9, 0.5)],
            ),
            stroke(Tool::Brush, 0.08, &[(0.25, 0.85, 0.7)]),
            stroke(Tool::Brush, 0.006, &[(0.6, 0.9, 0.5), (0.95, 0.95, 0.5)]),
        ])
    }

    #[test]
    fn python_parity_fixture() {
        let json_path = data_path("raster_fixture.json");
        if updating_goldens() {
            std::fs::create_dir_all(json_path.parent().unwrap()).unwrap();
            std::fs::write(&json_path, drawing_to_json(&fixture_drawing()) + "\n").unwrap();
        }
        let json = std::fs::read_to_string(&json_path).unwrap_or_else(|error| {
            panic!(
                "reading {} ({error}); run with UPDATE_GOLDEN=1",
                json_path.display()
            )
        });
        let drawing = drawing_from_json(&json).unwrap();
        assert_eq!(
            drawing,
            fixture_drawing(),
            "the checked-in fixture JSON drifted from fixture_drawing()"
        );
        assert_matches_golden(&rasterize(&drawing, 128), "raster_fixture_128.png");
    }
}

//! [`RasterCache`]: the rasterized committed drawing kept at one size, so that while a stroke is
//! drawn only that stroke is rasterized on top.

use std::sync::Arc;

use image::{GrayImage, RgbaImage};

use super::{Drawing, Stroke, paint_hints, rasterize, rasterize_hints, rasterize_with};

/// The sketch and the colour hints of the committed drawing at one size each. The cached
/// sketch becomes the background of a one-stroke drawing for the stroke being drawn (at equal
/// size the background is copied, not resampled, so the result is the same as rasterizing
/// everything); the cached hints are copied and the stroke painted over them. A drawing that
/// only adds strokes to the cached one (a finished stroke) is rasterized the same way: only
/// its new strokes, over the cached images.
#[derive(Default)]
pub struct RasterCache {
    sketch: Layer<GrayImage>,
    hints: Layer<RgbaImage>,
}

impl RasterCache {
    /// The sketch of `drawing` with `extra` (the stroke being drawn) on top, `size` x `size`:
    /// exactly [`rasterize_with`]. A colour stroke as `extra` changes nothing here.
    pub fn render(
        &mut self,
        drawing: &Arc<Drawing>,
        extra: Option<&Stroke>,
        size: u32,
    ) -> GrayImage {
        let base = self.sketch.get(drawing, size, rasterize, |base, added| {
            let on_base = Drawing {
                strokes: added.to_vec(),
                background: Some(Arc::clone(base)),
            };
            rasterize(&on_base, size)
        });
        match extra.filter(|stroke| stroke.is_ink()) {
            None => (**base).clone(),
            Some(stroke) => {
                let flat = Drawing {
                    strokes: Vec::new(),
                    background: Some(Arc::clone(base)),
                };
                rasterize_with(&flat, Some(stroke), size)
            }
        }
    }

    /// The colour hints of `drawing` with `extra` on top: exactly
    /// [`rasterize_hints_with`](super::rasterize_hints_with).
    pub fn render_hints(
        &mut self,
        drawing: &Arc<Drawing>,
        extra: Option<&Stroke>,
        size: u32,
    ) -> RgbaImage {
        let base = self
            .hints
            .get(drawing, size, rasterize_hints, |base, added| {
                let mut hints = (**base).clone();
                paint_hints(&mut hints, added.iter().map(|stroke| &**stroke));
                hints
            });
        let mut hints = (**base).clone();
        if let Some(stroke) = extra.filter(|stroke| stroke.touches_hints()) {
            paint_hints(&mut hints, [stroke]);
        }
        hints
    }
}

/// One rasterized image of a drawing at one size.
struct Layer<T> {
    cached: Option<(Arc<Drawing>, u32, Arc<T>)>,
}

impl<T> Default for Layer<T> {
    fn default() -> Self {
        Self { cached: None }
    }
}

impl<T> Layer<T> {
    /// The image of `drawing` at `size`: the cached one, the cached one with the added strokes
    /// (`add`), or a fresh one (`full`).
    fn get(
        &mut self,
        drawing: &Arc<Drawing>,
        size: u32,
        full: impl FnOnce(&Drawing, u32) -> T,
        add: impl FnOnce(&Arc<T>, &[Arc<Stroke>]) -> T,
    ) -> &Arc<T> {
        let fresh =
            matches!(&self.cached, Some((d, s, _)) if Arc::ptr_eq(d, drawing) && *s == size);
        if !fresh {
            let image = match &self.cached {
                Some((old, s, base)) if *s == size && adds_strokes(old, drawing) => {
                    add(base, &drawing.strokes[old.strokes.len()..])
                }
                _ => full(drawing, size),
            };
            self.cached = Some((Arc::clone(drawing), size, Arc::new(image)));
        }
        let Some((_, _, image)) = &self.cached else {
            unreachable!("filled above")
        };
        image
    }
}

/// `new` is `old` with strokes added at the end (same background, same stroke objects).
fn adds_strokes(old: &Drawing, new: &Drawing) -> bool {
    let same_background = match (&old.background, &new.background) {
        (None, None) => true,
        (Some(a), Some(b)) => Arc::ptr_eq(a, b),
        _ => false,
    };
    same_background
        && new.strokes.len() >= old.strokes.len()
        && old
            .strokes
            .iter()
            .zip(&new.strokes)
            .all(|(a, b)| Arc::ptr_eq(a, b))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sketch::{PRESSURE_DEFAULT, Point, Tool, rasterize_hints_with};

    fn stroke(tool: Tool, points: &[(f32, f32)]) -> Stroke {
        Stroke {
            tool,
            width: if tool == Tool::Colour { 0.05 } else { 0.02 },
            points: points
                .iter()
                .map(|&(x, y)| Point::new(x, y, PRESSURE_DEFAULT))
                .collect(),
            colour: (tool == Tool::Colour).then_some([180, 120, 90]),
        }
    }

    fn drawing(strokes: Vec<Stroke>) -> Arc<Drawing> {
        Arc::new(Drawing {
            strokes: strokes.into_iter().map(Arc::new).collect(),
            background: None,
        })
    }

    #[test]
    fn cached_rendering_equals_rasterizing_everything() {
        let drawing = drawing(vec![
            stroke(Tool::Brush, &[(0.1, 0.1), (0.5, 0.4), (0.9, 0.2)]),
            stroke(Tool::Colour, &[(0.3, 0.3), (0.6, 0.6)]),
            stroke(Tool::Brush, &[(0.2, 0.8), (0.8, 0.8)]),
        ]);
        let extras = [
            stroke(Tool::Eraser, &[(0.1, 0.2), (0.6, 0.3), (0.7, 0.9)]),
            stroke(Tool::Colour, &[(0.5, 0.1), (0.5, 0.9)]),
        ];
        let mut cache = RasterCache::default();
        for size in [128, 300] {
            assert_eq!(
                cache.render(&drawing, None, size),
                rasterize(&drawing, size)
            );
            assert_eq!(
                cache.render_hints(&drawing, None, size),
                rasterize_hints(&drawing, size)
            );
            for extra in &extras {
                assert_eq!(
                    cache.render(&drawing, Some(extra), size),
                    rasterize_with(&drawing, Some(extra), size)
                );
                assert_eq!(
                    cache.render_hints(&drawing, Some(extra), size),
                    rasterize_hints_with(&drawing, Some(extra), size)
                );
            }
        }
    }

    #[test]
    fn finished_strokes_are_added_to_the_cache_exactly() {
        let first = Arc::new(stroke(Tool::Brush, &[(0.1, 0.1), (0.5, 0.4), (0.9, 0.2)]));
        let second = Arc::new(stroke(Tool::Colour, &[(0.2, 0.1), (0.4, 0.5)]));
        let third = Arc::new(stroke(Tool::Eraser, &[(0.2, 0.8), (0.3, 0.3)]));
        let one = Arc::new(Drawing {
            strokes: vec![Arc::clone(&first)],
            background: None,
        });
        let three = Arc::new(Drawing {
            strokes: vec![first, second, third],
            background: None,
        });
        let mut cache = RasterCache::default();
        for size in [128, 300] {
            cache.render(&one, None, size);
            cache.render_hints(&one, None, size);
            // Two strokes added (incremental), then back to the first (undo: from scratch).
            assert_eq!(cache.render(&three, None, size), rasterize(&three, size));
            assert_eq!(
                cache.render_hints(&three, None, size),
                rasterize_hints(&three, size)
            );
            assert_eq!(cache.render(&one, None, size), rasterize(&one, size));
            assert_eq!(
                cache.render_hints(&one, None, size),
                rasterize_hints(&one, size)
            );
        }
    }
}

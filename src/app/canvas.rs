//! The drawing surface: pointer input to strokes, the rasterized canvas texture, the guide and
//! the brush cursor.
//!
//! What is shown is the output of the one rasterizer (`sketch::rasterize_with`) at the canvas's
//! display resolution, so the user sees the same smoothed strokes the model gets.

use std::sync::Arc;
use std::time::Instant;

use eframe::egui::{
    self, Color32, ColorImage, CursorIcon, Event, PointerButton, Pos2, Rect, Sense,
    Stroke as LineStroke, TextureOptions, Ui, Vec2,
};
use image::GrayImage;

use super::state::SketchApp;
use crate::sketch::{self, Drawing, PRESSURE_DEFAULT, Point, Stroke, Tool};

/// Largest canvas texture side in pixels.
const CANVAS_MAX_PX: u32 = 2048;
/// How strongly the guide shows through the paper (0..255).
const GUIDE_ALPHA: u8 = 70;
/// Points may leave the canvas a little (a stroke that runs off the edge stays straight).
const OUTSIDE: f32 = 0.1;

/// The tool as a small state machine.
#[derive(Debug, Default)]
pub enum ToolState {
    #[default]
    Idle,
    Drawing {
        stroke: Stroke,
        started: Instant,
        /// Faces shown when the stroke began, to measure the live update rate.
        faces_at_start: u64,
    },
}

/// The rasterized committed drawing at one size, so that while a stroke is drawn only the new
/// stroke is rasterized on top (the cached image becomes the background of a one-stroke
/// drawing; at equal size the background is copied, not resampled, so the result is the same
/// as rasterizing everything). A drawing that only adds strokes to the cached one (a finished
/// stroke) is rasterized the same way: only its new strokes, on the cached image.
#[derive(Default)]
pub struct RasterCache {
    cached: Option<(Arc<Drawing>, u32, Arc<GrayImage>)>,
}

impl RasterCache {
    pub fn render(
        &mut self,
        drawing: &Arc<Drawing>,
        extra: Option<&Stroke>,
        size: u32,
    ) -> GrayImage {
        let fresh =
            matches!(&self.cached, Some((d, s, _)) if Arc::ptr_eq(d, drawing) && *s == size);
        if !fresh {
            let image = match &self.cached {
                Some((old, s, base)) if *s == size && adds_strokes(old, drawing) => {
                    let added = Drawing {
                        strokes: drawing.strokes[old.strokes.len()..].to_vec(),
                        background: Some(Arc::clone(base)),
                    };
                    sketch::rasterize(&added, size)
                }
                _ => sketch::rasterize(drawing, size),
            };
            self.cached = Some((Arc::clone(drawing), size, Arc::new(image)));
        }
        let Some((_, _, base)) = &self.cached else {
            unreachable!("filled above")
        };
        match extra {
            None => (**base).clone(),
            Some(stroke) => {
                let flat = Drawing {
                    strokes: Vec::new(),
                    background: Some(Arc::clone(base)),
                };
                sketch::rasterize_with(&flat, Some(stroke), size)
            }
        }
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

impl SketchApp {
    /// The stroke being drawn, if any.
    pub fn current_stroke(&self) -> Option<&Stroke> {
        match &self.tool_state {
            ToolState::Drawing { stroke, .. } => Some(stroke),
            ToolState::Idle => None,
        }
    }

    pub(crate) fn ui_canvas(&mut self, ui: &mut Ui, rect: Rect) {
        let response = ui.allocate_rect(rect, Sense::drag());
        self.handle_pointer(ui, rect);

        let px = ((rect.width() * ui.pixels_per_point()).round() as u32).clamp(1, CANVAS_MAX_PX);
        self.update_canvas_texture(ui.ctx(), px);

        let painter = ui.painter_at(rect);
        painter.rect_filled(rect, 0.0, Color32::WHITE);
        if self.settings.guide
            && let Some(guide) = &self.guide_texture
        {
            let tint = Color32::from_white_alpha(GUIDE_ALPHA);
            painter.image(
                guide.id(),
                rect,
                Rect::from_min_max(Pos2::ZERO, Pos2::new(1.0, 1.0)),
                tint,
            );
        }
        if let Some(texture) = &self.canvas_texture {
            painter.image(
                texture.id(),
                rect,
                Rect::from_min_max(Pos2::ZERO, Pos2::new(1.0, 1.0)),
                Color32::WHITE,
            );
        }
        ui.painter().rect_stroke(
            rect,
            0.0,
            ui.visuals().widgets.noninteractive.bg_stroke,
            egui::StrokeKind::Outside,
        );

        if let Some(pos) = ui.input(|i| i.pointer.latest_pos())
            && (rect.contains(pos) || response.is_pointer_button_down_on())
            && (response.hovered() || response.is_pointer_button_down_on())
        {
            ui.ctx().set_cursor_icon(CursorIcon::None);
            let pressure = self.last_force.unwrap_or(PRESSURE_DEFAULT);
            let radius = (self.settings.size() * rect.width() * (0.5 + pressure) / 2.0).max(1.5);
            let painter = ui.painter_at(rect);
            painter.circle_stroke(pos, radius + 1.0, LineStroke::new(1.0, Color32::WHITE));
            painter.circle_stroke(pos, radius, LineStroke::new(1.0, Color32::from_gray(40)));
            if self.settings.tool == Tool::Eraser {
                painter.circle_stroke(
                    pos,
                    radius - 1.0,
                    LineStroke::new(1.0, Color32::from_rgb(230, 80, 80)),
                );
            }
        }
    }

    /// Pointer events to strokes, in the order they happened. A slow frame can hold a whole
    /// stroke, or the end of one stroke and the start of the next, so the per-frame pointer
    /// state is not enough: every press, move and release is replayed here.
    fn handle_pointer(&mut self, ui: &Ui, rect: Rect) {
        let events = ui.input(|i| i.events.clone());
        let layer = ui.layer_id();
        for event in &events {
            match event {
                Event::Touch {
                    force: Some(force), ..
                } => self.last_force = Some(force.clamp(0.0, 1.0)),
                Event::PointerButton {
                    pos,
                    button: PointerButton::Primary,
                    pressed: true,
                    ..
                } => {
                    // Only on the canvas itself, not on a popup or menu above it.
                    let on_canvas = rect.contains(*pos)
                        && ui.ctx().layer_id_at(*pos).is_none_or(|l| l == layer);
                    if on_canvas && matches!(self.tool_state, ToolState::Idle) {
                        self.tool_state = ToolState::Drawing {
                            stroke: Stroke::new(self.settings.tool, self.settings.size()),
                            started: Instant::now(),
                            faces_at_start: self.faces_shown,
                        };
                        self.add_point(normalise(*pos, rect));
                    }
                }
                Event::PointerMoved(pos) => self.add_point(normalise(*pos, rect)),
                Event::PointerButton {
                    pos,
                    button: PointerButton::Primary,
                    pressed: false,
                    ..
                } => {
                    self.add_point(normalise(*pos, rect));
                    self.finish_stroke();
                }
                _ => {}
            }
        }
    }

    /// Add a point to the stroke being drawn (none when idle; a repeat of the last position is
    /// skipped).
    fn add_point(&mut self, position: Vec2) {
        let pressure = self.last_force.unwrap_or(PRESSURE_DEFAULT);
        let ToolState::Drawing { stroke, .. } = &mut self.tool_state else {
            return;
        };
        let count = stroke.points.len();
        stroke.push(Point::new(position.x, position.y, pressure));
        if stroke.points.len() != count {
            self.canvas_dirty = true;
            self.model_dirty = true;
        }
    }

    /// Commit the stroke being drawn (if any) to the history.
    pub(crate) fn finish_stroke(&mut self) {
        let ToolState::Drawing {
            stroke,
            started,
            faces_at_start,
        } = std::mem::take(&mut self.tool_state)
        else {
            return;
        };
        self.last_force = None;
        let seconds = started.elapsed().as_secs_f32();
        if seconds > 0.25 {
            self.live_rate = Some((self.faces_shown - faces_at_start) as f32 / seconds);
        }
        if stroke.is_empty() {
            return;
        }
        self.record(self.history.current().with_stroke(stroke));
    }

    fn update_canvas_texture(&mut self, ctx: &egui::Context, px: u32) {
        if !self.canvas_dirty && self.canvas_px == px && self.canvas_texture.is_some() {
            return;
        }
        let extra = match &self.tool_state {
            ToolState::Drawing { stroke, .. } if !stroke.points.is_empty() => Some(stroke),
            _ => None,
        };
        let gray = self.canvas_cache.render(self.history.current(), extra, px);
        let image = ink_image(&gray);
        match &mut self.canvas_texture {
            Some(texture) => texture.set(image, TextureOptions::LINEAR),
            None => {
                self.canvas_texture =
                    Some(ctx.load_texture("canvas", image, TextureOptions::LINEAR))
            }
        }
        self.canvas_px = px;
        self.canvas_dirty = false;
    }
}

/// Gray paper to black ink with alpha, so that white is transparent and the guide shows through.
/// Over white paper the result is exactly the gray image.
pub fn ink_image(gray: &GrayImage) -> ColorImage {
    let size = [gray.width() as usize, gray.height() as usize];
    ColorImage::new(
        size,
        gray.pixels()
            .map(|p| Color32::from_black_alpha(255 - p.0[0]))
            .collect(),
    )
}

/// A guide image (any size, gray) as a texture image.
pub fn guide_image(gray: &GrayImage) -> ColorImage {
    let size = [gray.width() as usize, gray.height() as usize];
    ColorImage::from_gray(size, gray.as_raw())
}

fn normalise(pos: Pos2, rect: Rect) -> Vec2 {
    let v = (pos - rect.min) / rect.width();
    Vec2::new(
        v.x.clamp(-OUTSIDE, 1.0 + OUTSIDE),
        v.y.clamp(-OUTSIDE, 1.0 + OUTSIDE),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stroke(tool: Tool, points: &[(f32, f32)]) -> Stroke {
        Stroke {
            tool,
            width: 0.02,
            points: points
                .iter()
                .map(|&(x, y)| Point {
                    x,
                    y,
                    pressure: PRESSURE_DEFAULT,
                })
                .collect(),
        }
    }

    #[test]
    fn cached_rendering_equals_rasterizing_everything() {
        let mut drawing = Drawing::default();
        drawing.strokes.push(Arc::new(stroke(
            Tool::Brush,
            &[(0.1, 0.1), (0.5, 0.4), (0.9, 0.2)],
        )));
        drawing
            .strokes
            .push(Arc::new(stroke(Tool::Brush, &[(0.2, 0.8), (0.8, 0.8)])));
        let drawing = Arc::new(drawing);
        let extra = stroke(Tool::Eraser, &[(0.1, 0.2), (0.6, 0.3), (0.7, 0.9)]);
        let mut cache = RasterCache::default();
        for size in [128, 300] {
            assert_eq!(
                cache.render(&drawing, None, size),
                sketch::rasterize(&drawing, size)
            );
            assert_eq!(
                cache.render(&drawing, Some(&extra), size),
                sketch::rasterize_with(&drawing, Some(&extra), size)
            );
        }
    }

    #[test]
    fn finished_strokes_are_added_to_the_cache_exactly() {
        let first = Arc::new(stroke(Tool::Brush, &[(0.1, 0.1), (0.5, 0.4), (0.9, 0.2)]));
        let second = Arc::new(stroke(Tool::Eraser, &[(0.2, 0.1), (0.4, 0.5)]));
        let third = Arc::new(stroke(Tool::Brush, &[(0.2, 0.8), (0.8, 0.8)]));
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
            // Two strokes added (incremental), then back to the first (undo: from scratch).
            assert_eq!(
                cache.render(&three, None, size),
                sketch::rasterize(&three, size)
            );
            assert_eq!(
                cache.render(&one, None, size),
                sketch::rasterize(&one, size)
            );
        }
    }

    #[test]
    fn ink_over_white_is_the_gray_image() {
        let gray = GrayImage::from_raw(2, 1, vec![0, 200]).unwrap();
        let ink = ink_image(&gray);
        assert_eq!(ink.pixels[0], Color32::BLACK);
        assert_eq!(ink.pixels[1].a(), 55);
    }

    #[test]
    fn positions_are_normalised_to_the_canvas_side() {
        let rect = Rect::from_min_size(Pos2::new(10.0, 20.0), Vec2::splat(200.0));
        assert_eq!(
            normalise(Pos2::new(110.0, 70.0), rect),
            Vec2::new(0.5, 0.25)
        );
        assert_eq!(
            normalise(Pos2::new(-500.0, 20.0), rect),
            Vec2::new(-OUTSIDE, 0.0)
        );
    }
}

//! The drawing surface: pointer input to strokes, the rasterized sketch and colour textures,
//! the guide and the brush cursor.
//!
//! What is shown is the output of the one rasterizer (`sketch::RasterCache`) at the canvas's
//! display resolution, so the user sees the same smoothed strokes, and the same colour hints,
//! that the model gets. The canvas owns its tool state, caches and textures; it reads the
//! drawing it is given and hands finished strokes back ([`CanvasEvent`]).

use std::sync::Arc;
use std::time::{Duration, Instant};

use eframe::egui::{
    self, Color32, ColorImage, CursorIcon, Event, PointerButton, Pos2, Rect, Sense,
    Stroke as LineStroke, TextureHandle, TextureOptions, Ui, Vec2,
};
use image::{GrayImage, RgbaImage};

use super::settings::Settings;
use crate::sketch::{Drawing, PRESSURE_DEFAULT, Point, RasterCache, Stroke, Tool};

/// Largest canvas texture side in pixels.
const CANVAS_MAX_PX: u32 = 2048;
/// How strongly the guide shows through the paper (0..255).
const GUIDE_ALPHA: u8 = 70;
/// How strongly colour strokes cover the ink (0..255).
pub const COLOUR_ALPHA: u8 = 140;
/// Points may leave the canvas a little (a stroke that runs off the edge stays straight).
const OUTSIDE: f32 = 0.1;

/// The tool as a small state machine.
#[derive(Debug, Default)]
enum ToolState {
    #[default]
    Idle,
    Drawing {
        stroke: Stroke,
        started: Instant,
    },
}

/// What happened on the canvas during a frame, in order.
#[derive(Debug)]
pub enum CanvasEvent {
    /// The pen went down on the canvas.
    Started,
    /// The pen went up: this stroke (never empty) is finished, after `lasted`.
    Finished { stroke: Stroke, lasted: Duration },
}

/// What a texture shows: the drawing, the size, and the stroke being drawn.
#[derive(Clone, PartialEq)]
struct Shown {
    drawing: usize,
    px: u32,
    /// Points of the stroke being drawn, when it affects this texture.
    extra: Option<usize>,
    visible: bool,
}

pub struct Canvas {
    tool_state: ToolState,
    /// Latest pen pressure from `Event::Touch { force }` during this stroke.
    last_force: Option<f32>,
    cache: RasterCache,
    /// The drawing the textures were made from (kept so its address stays unique).
    drawing: Option<Arc<Drawing>>,
    ink: TextureHandle,
    ink_shown: Option<Shown>,
    colours: TextureHandle,
    colours_shown: Option<Shown>,
    guide: Option<TextureHandle>,
}

impl Canvas {
    pub fn new(ctx: &egui::Context, guide: Option<ColorImage>) -> Self {
        let blank = || ColorImage::new([1, 1], vec![Color32::TRANSPARENT]);
        Self {
            tool_state: ToolState::Idle,
            last_force: None,
            cache: RasterCache::default(),
            drawing: None,
            ink: ctx.load_texture("canvas", blank(), TextureOptions::LINEAR),
            ink_shown: None,
            colours: ctx.load_texture("colours", blank(), TextureOptions::LINEAR),
            colours_shown: None,
            guide: guide.map(|image| ctx.load_texture("guide", image, TextureOptions::LINEAR)),
        }
    }

    /// The stroke being drawn, if any.
    pub fn current_stroke(&self) -> Option<&Stroke> {
        match &self.tool_state {
            ToolState::Drawing { stroke, .. } => Some(stroke),
            ToolState::Idle => None,
        }
    }

    /// End the stroke being drawn now (before an undo, an open, a save): the finished stroke,
    /// unless it is empty.
    pub fn finish(&mut self) -> Option<CanvasEvent> {
        let ToolState::Drawing { stroke, started } = std::mem::take(&mut self.tool_state) else {
            return None;
        };
        self.last_force = None;
        (!stroke.is_empty()).then(|| CanvasEvent::Finished {
            stroke,
            lasted: started.elapsed(),
        })
    }

    /// The canvas in `rect`: input, then the picture of `drawing` (with the stroke being drawn).
    pub fn ui(
        &mut self,
        ui: &mut Ui,
        rect: Rect,
        drawing: &Arc<Drawing>,
        settings: &Settings,
    ) -> Vec<CanvasEvent> {
        let response = ui.allocate_rect(rect, Sense::drag());
        let events = self.handle_pointer(ui, rect, settings);

        let px = ((rect.width() * ui.pixels_per_point()).round() as u32).clamp(1, CANVAS_MAX_PX);
        self.update_textures(drawing, px, settings.show_colours);

        let painter = ui.painter_at(rect);
        let whole = Rect::from_min_max(Pos2::ZERO, Pos2::new(1.0, 1.0));
        painter.rect_filled(rect, 0.0, Color32::WHITE);
        if settings.guide
            && let Some(guide) = &self.guide
        {
            painter.image(
                guide.id(),
                rect,
                whole,
                Color32::from_white_alpha(GUIDE_ALPHA),
            );
        }
        painter.image(self.ink.id(), rect, whole, Color32::WHITE);
        if settings.show_colours {
            painter.image(self.colours.id(), rect, whole, Color32::WHITE);
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
            self.ui_cursor(ui, rect, pos, settings);
        }
        events
    }

    /// The brush outline: its size, red inside for the eraser, the colour for the colour tool.
    fn ui_cursor(&self, ui: &Ui, rect: Rect, pos: Pos2, settings: &Settings) {
        ui.ctx().set_cursor_icon(CursorIcon::None);
        let pressure = self.last_force.unwrap_or(PRESSURE_DEFAULT);
        let radius = (settings.size() * rect.width() * (0.5 + pressure) / 2.0).max(1.5);
        let painter = ui.painter_at(rect);
        painter.circle_stroke(pos, radius + 1.0, LineStroke::new(1.0, Color32::WHITE));
        painter.circle_stroke(pos, radius, LineStroke::new(1.0, Color32::from_gray(40)));
        let inner = match settings.tool {
            Tool::Brush => None,
            Tool::Eraser => Some(Color32::from_rgb(230, 80, 80)),
            Tool::Colour => {
                let [r, g, b] = settings.colour;
                Some(Color32::from_rgb(r, g, b))
            }
        };
        if let Some(color) = inner {
            let width = if settings.tool == Tool::Colour {
                2.0
            } else {
                1.0
            };
            painter.circle_stroke(pos, radius - width, LineStroke::new(width, color));
        }
    }

    /// Pointer events to strokes, in the order they happened. A slow frame can hold a whole
    /// stroke, or the end of one stroke and the start of the next, so the per-frame pointer
    /// state is not enough: every press, move and release is replayed here.
    fn handle_pointer(&mut self, ui: &Ui, rect: Rect, settings: &Settings) -> Vec<CanvasEvent> {
        let events = ui.input(|i| i.events.clone());
        let layer = ui.layer_id();
        let mut out = Vec::new();
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
                    // Only on the canvas itself, not on a popup, menu or dialog above it.
                    let on_canvas = rect.contains(*pos)
                        && ui.ctx().layer_id_at(*pos).is_none_or(|l| l == layer);
                    if on_canvas && matches!(self.tool_state, ToolState::Idle) {
                        let stroke = match settings.tool {
                            Tool::Colour => Stroke::coloured(settings.colour, settings.size()),
                            tool => Stroke::new(tool, settings.size()),
                        };
                        self.tool_state = ToolState::Drawing {
                            stroke,
                            started: Instant::now(),
                        };
                        out.push(CanvasEvent::Started);
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
                    out.extend(self.finish());
                }
                _ => {}
            }
        }
        out
    }

    /// Add a point to the stroke being drawn (none when idle; a repeat of the last position is
    /// skipped).
    fn add_point(&mut self, position: Vec2) {
        let pressure = self.last_force.unwrap_or(PRESSURE_DEFAULT);
        if let ToolState::Drawing { stroke, .. } = &mut self.tool_state {
            stroke.push(Point::new(position.x, position.y, pressure));
        }
    }

    /// Re-render a texture only when what it shows changed: the ink for the drawing and an ink
    /// stroke being drawn, the colours for the drawing and a colour (or eraser) stroke.
    fn update_textures(&mut self, drawing: &Arc<Drawing>, px: u32, show_colours: bool) {
        let extra = match &self.tool_state {
            ToolState::Drawing { stroke, .. } if !stroke.points.is_empty() => Some(stroke),
            _ => None,
        };
        let shown = |affects: bool, visible: bool| Shown {
            drawing: Arc::as_ptr(drawing) as usize,
            px,
            extra: extra.filter(|_| affects).map(|s| s.points.len()),
            visible,
        };
        let ink = shown(extra.is_some_and(Stroke::is_ink), true);
        let colours = shown(extra.is_some_and(Stroke::touches_hints), show_colours);
        if self.ink_shown.as_ref() != Some(&ink) {
            let gray = self.cache.render(drawing, extra, px);
            self.ink.set(ink_image(&gray), TextureOptions::LINEAR);
            self.ink_shown = Some(ink);
        }
        // Hidden colours are not rendered at all (they cost nothing while hidden).
        if show_colours && self.colours_shown.as_ref() != Some(&colours) {
            let hints = self.cache.render_hints(drawing, extra, px);
            self.colours
                .set(colour_image(&hints), TextureOptions::LINEAR);
            self.colours_shown = Some(colours);
        }
        self.drawing = Some(Arc::clone(drawing));
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

/// Colour hints as a see-through overlay: each hinted pixel in its colour at [`COLOUR_ALPHA`].
pub fn colour_image(hints: &RgbaImage) -> ColorImage {
    let size = [hints.width() as usize, hints.height() as usize];
    ColorImage::new(
        size,
        hints
            .pixels()
            .map(|p| match p.0 {
                [_, _, _, 0] => Color32::TRANSPARENT,
                [r, g, b, _] => Color32::from_rgba_unmultiplied(r, g, b, COLOUR_ALPHA),
            })
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

    #[test]
    fn ink_over_white_is_the_gray_image() {
        let gray = GrayImage::from_raw(2, 1, vec![0, 200]).unwrap();
        let ink = ink_image(&gray);
        assert_eq!(ink.pixels[0], Color32::BLACK);
        assert_eq!(ink.pixels[1].a(), 55);
    }

    #[test]
    fn colours_are_see_through_and_unpainted_pixels_invisible() {
        let mut hints = RgbaImage::new(2, 1);
        hints.put_pixel(0, 0, image::Rgba([200, 100, 50, 255]));
        let overlay = colour_image(&hints);
        assert_eq!(
            overlay.pixels[0],
            Color32::from_rgba_unmultiplied(200, 100, 50, COLOUR_ALPHA)
        );
        assert_eq!(overlay.pixels[1], Color32::TRANSPARENT);
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

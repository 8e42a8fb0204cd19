//! Where the canvas, the face and the variations strip go in the window's middle.

use eframe::egui::{self, Rect, Vec2};

use super::live::{ModelStatus, VARIATIONS};

/// Gap between the canvas and the face, and above the variations strip, in points.
const GAP: f32 = 16.0;

/// Where things were drawn in the last frame (for tests and snapshot masks).
#[derive(Clone, Copy, Debug)]
pub struct Layout {
    pub canvas: Rect,
    pub face: Rect,
    /// The variations strip (`Rect::NOTHING` for a model without variations).
    pub strip: Rect,
    pub status: Rect,
}

impl Layout {
    /// Before the first frame: nothing drawn anywhere.
    pub(crate) const NOTHING: Layout = Layout {
        canvas: Rect::NOTHING,
        face: Rect::NOTHING,
        strip: Rect::NOTHING,
        status: Rect::NOTHING,
    };

    /// Place the canvas and the face, two squares side by side, and the strip under the face
    /// when there are variations (people from face pipeline v3, or a generator's codes),
    /// centred in `available` and aligned to the pixels.
    pub(crate) fn place(&mut self, available: Rect, ppp: f32, model: &ModelStatus) {
        let info = model.info();
        let strip = info.is_some() && model.why_no_variations().is_none();
        // With the strip, a row of faces a quarter of the face's side sits under the face. The
        // row is kept while no model is loaded, so that the canvas does not move under the pen
        // when a model with variations arrives mid-stroke; only a model known to paint one face
        // per drawing gives it back.
        let strip_row = strip || info.is_none();
        let height_factor = if strip_row {
            1.0 + 1.0 / VARIATIONS as f32
        } else {
            1.0
        };
        let strip_gap = if strip_row { GAP } else { 0.0 };
        let side = ((available.width() - GAP) / 2.0)
            .min((available.height() - strip_gap) / height_factor)
            .max(16.0);
        let side = (side * ppp).floor() / ppp;
        let total = Vec2::new(2.0 * side + GAP, side * height_factor + strip_gap);
        let min = available.center() - total / 2.0;
        let min = egui::pos2((min.x * ppp).round() / ppp, (min.y * ppp).round() / ppp);
        self.canvas = Rect::from_min_size(min, Vec2::splat(side));
        self.face = Rect::from_min_size(min + Vec2::new(side + GAP, 0.0), Vec2::splat(side));
        self.strip = if strip {
            Rect::from_min_size(
                self.face.left_bottom() + Vec2::new(0.0, GAP),
                Vec2::new(side, side / VARIATIONS as f32),
            )
        } else {
            Rect::NOTHING
        };
    }

    /// Whether the last [`Layout::place`] made room for the variations strip.
    pub(crate) fn has_strip(&self) -> bool {
        self.strip != Rect::NOTHING
    }
}

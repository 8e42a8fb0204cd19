//! The drawing: points, strokes, tools and their JSON form.

use std::sync::Arc;

use image::GrayImage;
use serde::{Deserialize, Serialize};

/// Pressure used when the input device reports none: the middle of the range, at which a
/// stroke has exactly its nominal width.
pub const PRESSURE_DEFAULT: f32 = 0.5;

/// A sampled pen position. `x` and `y` are normalised to the canvas side (0..1, so the drawing
/// does not depend on window size); `pressure` is within 0..1.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct Point {
    pub x: f32,
    pub y: f32,
    #[serde(default = "default_pressure")]
    pub pressure: f32,
}

fn default_pressure() -> f32 {
    PRESSURE_DEFAULT
}

impl Point {
    /// A point with its pressure clamped to 0..1 (a missing or NaN pressure becomes
    /// [`PRESSURE_DEFAULT`]).
    pub fn new(x: f32, y: f32, pressure: f32) -> Self {
        Self {
            x,
            y,
            pressure: clamp_pressure(pressure),
        }
    }

    /// A point from a device without pressure sensing.
    pub fn without_pressure(x: f32, y: f32) -> Self {
        Self::new(x, y, PRESSURE_DEFAULT)
    }

    /// Whether `other` lies at the same position (pressure ignored).
    pub fn same_position(&self, other: &Point) -> bool {
        self.x == other.x && self.y == other.y
    }
}

fn clamp_pressure(pressure: f32) -> f32 {
    if pressure.is_nan() {
        PRESSURE_DEFAULT
    } else {
        pressure.clamp(0.0, 1.0)
    }
}

/// What a stroke paints: black ink, white paper (which also wipes colour hints), or a colour
/// hint (not part of the sketch; the model's `hints` input).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Tool {
    Brush,
    Eraser,
    Colour,
}

/// An sRGB colour of a colour stroke.
pub type Rgb = [u8; 3];

/// One continuous pen movement.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Stroke {
    pub tool: Tool,
    /// Line width as a fraction of the canvas side, at pressure [`PRESSURE_DEFAULT`].
    pub width: f32,
    pub points: Vec<Point>,
    /// The colour of a [`Tool::Colour`] stroke; `None` for ink and eraser strokes (and left out
    /// of their JSON, which the Python training code shares).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub colour: Option<Rgb>,
}

impl Stroke {
    /// An empty stroke, ready for [`Stroke::push`]. A colour stroke made this way paints no
    /// hint until it has a colour: use [`Stroke::coloured`].
    pub fn new(tool: Tool, width: f32) -> Self {
        Self {
            tool,
            width,
            points: Vec::new(),
            colour: None,
        }
    }

    /// An empty colour stroke.
    pub fn coloured(colour: Rgb, width: f32) -> Self {
        Self {
            colour: Some(colour),
            ..Self::new(Tool::Colour, width)
        }
    }

    /// Whether the stroke changes the sketch (ink or paper).
    pub fn is_ink(&self) -> bool {
        matches!(self.tool, Tool::Brush | Tool::Eraser)
    }

    /// Whether the stroke changes the colour hints (a colour, or the eraser wiping them).
    pub fn touches_hints(&self) -> bool {
        matches!(self.tool, Tool::Colour | Tool::Eraser)
    }

    /// Appends a point, skipping one at the same position as the last (a pen at rest sends
    /// many; they add nothing to the line).
    pub fn push(&mut self, point: Point) {
        if self
            .points
            .last()
            .is_some_and(|last| last.same_position(&point))
        {
            return;
        }
        self.points.push(point);
    }

    pub fn is_empty(&self) -> bool {
        self.points.is_empty()
    }
}

/// Everything on the canvas: an optional raster background (an opened sketch file) with
/// strokes drawn over it. Cheap to clone: strokes and background are shared.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Drawing {
    pub strokes: Vec<Arc<Stroke>>,
    pub background: Option<Arc<GrayImage>>,
}

impl Drawing {
    /// A drawing over an opened sketch file.
    pub fn with_background(background: GrayImage) -> Self {
        Self {
            strokes: Vec::new(),
            background: Some(Arc::new(background)),
        }
    }

    /// This drawing plus one finished stroke (empty strokes are dropped).
    pub fn with_stroke(&self, stroke: Stroke) -> Self {
        let mut next = self.clone();
        if !stroke.is_empty() {
            next.strokes.push(Arc::new(stroke));
        }
        next
    }

    /// The drawing after "clear": no strokes, and the background kept or dropped as the caller
    /// decides. Record it in the [`History`](super::History) to make clearing undoable.
    pub fn cleared(&self, keep_background: bool) -> Self {
        Self {
            strokes: Vec::new(),
            background: if keep_background {
                self.background.clone()
            } else {
                None
            },
        }
    }

    /// Nothing drawn and no background.
    pub fn is_blank(&self) -> bool {
        self.strokes.is_empty() && self.background.is_none()
    }

    /// Whether any colour stroke is in the drawing.
    pub fn has_colours(&self) -> bool {
        self.strokes.iter().any(|s| s.tool == Tool::Colour)
    }

    /// The drawing after "clear colours": every colour stroke removed, ink, eraser strokes and
    /// background kept. Record it in the [`History`](super::History) to make it undoable.
    pub fn without_colours(&self) -> Self {
        Self {
            strokes: self
                .strokes
                .iter()
                .filter(|s| s.tool != Tool::Colour)
                .cloned()
                .collect(),
            background: self.background.clone(),
        }
    }

    /// Equality that first compares shared pointers, so comparing a drawing with a slightly
    /// edited copy of itself costs nothing per unchanged stroke.
    pub fn same_as(&self, other: &Drawing) -> bool {
        let same_background = match (&self.background, &other.background) {
            (None, None) => true,
            (Some(a), Some(b)) => Arc::ptr_eq(a, b) || a == b,
            _ => false,
        };
        same_background
            && self.strokes.len() == other.strokes.len()
            && self
                .strokes
                .iter()
                .zip(&other.strokes)
                .all(|(a, b)| Arc::ptr_eq(a, b) || a == b)
    }
}

/// The JSON form of a drawing; see [`drawing_to_json`] for the format.
#[derive(Serialize, Deserialize)]
struct DrawingJson {
    strokes: Vec<Stroke>,
}

/// Writes the strokes of `drawing` as pretty JSON, the form used for fixtures shared with the
/// Python training code:
///
/// ```json
/// {"strokes": [
///   {"tool": "Brush", "width": 0.02,
///    "points": [{"x": 0.25, "y": 0.5, "pressure": 0.5}, {"x": 0.75, "y": 0.5, "pressure": 0.9}]},
///   {"tool": "Eraser", "width": 0.05, "points": [{"x": 0.5, "y": 0.5}]}
/// ]}
/// ```
/// - `tool`: `"Brush"` (black ink), `"Eraser"` (white paper; it wipes colour hints too) or
///   `"Colour"` (a colour hint, with `"colour": [r, g, b]`; not part of the sketch).
/// - `width`: line width as a fraction of the canvas side at pressure 0.5.
/// - `x`, `y`: position as a fraction of the canvas side, origin top-left, y down.
/// - `pressure`: 0..1, optional (default 0.5); out-of-range values are clamped on reading.
///
/// The background is not stored. Points are written as given (already clamped by [`Point::new`]).
pub fn drawing_to_json(drawing: &Drawing) -> String {
    let json = DrawingJson {
        strokes: drawing.strokes.iter().map(|s| (**s).clone()).collect(),
    };
    serde_json::to_string_pretty(&json).expect("a drawing always serialises")
}

/// Reads a drawing written by [`drawing_to_json`] (no background); pressures are clamped.
pub fn drawing_from_json(json: &str) -> Result<Drawing, serde_json::Error> {
    let parsed: DrawingJson = serde_json::from_str(json)?;
    let strokes = parsed
        .strokes
        .into_iter()
        .map(|mut stroke| {
            for point in &mut stroke.points {
                point.pressure = clamp_pressure(point.pressure);
            }
            Arc::new(stroke)
        })
        .collect();
    Ok(Drawing {
        strokes,
        background: None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pressure_is_clamped() {
        assert_eq!(Point::new(0.1, 0.2, 1.7).pressure, 1.0);
        assert_eq!(Point::new(0.1, 0.2, -0.3).pressure, 0.0);
        assert_eq!(Point::new(0.1, 0.2, 0.3).pressure, 0.3);
        assert_eq!(Point::new(0.1, 0.2, f32::NAN).pressure, PRESSURE_DEFAULT);
    }

    #[test]
    fn pressure_defaults_to_the_middle() {
        assert_eq!(Point::without_pressure(0.3, 0.4).pressure, PRESSURE_DEFAULT);
        let point: Point = serde_json::from_str(r#"{"x": 0.5, "y": 0.25}"#).unwrap();
        assert_eq!(point, Point::new(0.5, 0.25, PRESSURE_DEFAULT));
    }

    #[test]
    fn stroke_push_skips_a_resting_pen() {
        let mut stroke = Stroke::new(Tool::Brush, 0.02);
        stroke.push(Point::new(0.1, 0.1, 0.5));
        stroke.push(Point::new(0.1, 0.1, 0.9));
        stroke.push(Point::new(0.2, 0.1, 0.5));
        assert_eq!(stroke.points.len(), 2);
    }

    #[test]
    fn with_stroke_drops_empty_strokes() {
        let drawing = Drawing::default().with_stroke(Stroke::new(Tool::Brush, 0.02));
        assert!(drawing.is_blank());
    }

    #[test]
    fn cleared_keeps_or_drops_the_background() {
        let drawing = Drawing::with_background(GrayImage::new(4, 4)).with_stroke(Stroke {
            tool: Tool::Brush,
            width: 0.1,
            points: vec![Point::without_pressure(0.5, 0.5)],
            colour: None,
        });
        let kept = drawing.cleared(true);
        assert!(kept.strokes.is_empty());
        assert!(Arc::ptr_eq(
            kept.background.as_ref().unwrap(),
            drawing.background.as_ref().unwrap()
        ));
        assert!(drawing.cleared(false).is_blank());
    }

    #[test]
    fn json_round_trip_omits_the_background() {
        let drawing = Drawing::with_background(GrayImage::new(2, 2)).with_stroke(Stroke {
            tool: Tool::Eraser,
            width: 0.05,
            points: vec![Point::new(0.25, 0.5, 0.125), Point::new(0.75, 0.5, 1.0)],
            colour: None,
        });
        let json = drawing_to_json(&drawing);
        assert!(json.contains("\"Eraser\""));
        let read = drawing_from_json(&json).unwrap();
        assert_eq!(read.strokes, drawing.strokes);
        assert!(read.background.is_none());
    }

    #[test]
    fn json_pressures_are_clamped_on_reading() {
        let json = r#"{"strokes": [{"tool": "Brush", "width": 0.1, "points": [{"x": 0, "y": 0, "pressure": 3}]}]}"#;
        assert_eq!(
            drawing_from_json(json).unwrap().strokes[0].points[0].pressure,
            1.0
        );
    }

    #[test]
    fn colour_strokes_round_trip_and_ink_json_has_no_colour() {
        let mut colour = Stroke::coloured([200, 150, 120], 0.04);
        colour.push(Point::without_pressure(0.5, 0.5));
        let mut ink = Stroke::new(Tool::Brush, 0.01);
        ink.push(Point::without_pressure(0.2, 0.2));
        let drawing = Drawing::default().with_stroke(ink).with_stroke(colour);
        let json = drawing_to_json(&drawing);
        assert_eq!(json.matches("\"colour\"").count(), 1, "{json}");
        assert_eq!(drawing_from_json(&json).unwrap(), drawing);
    }

    #[test]
    fn clear_colours_keeps_ink_eraser_and_background() {
        let dot = |mut stroke: Stroke| {
            stroke.push(Point::without_pressure(0.5, 0.5));
            stroke
        };
        let drawing = Drawing::with_background(GrayImage::new(2, 2))
            .with_stroke(dot(Stroke::new(Tool::Brush, 0.01)))
            .with_stroke(dot(Stroke::coloured([1, 2, 3], 0.04)))
            .with_stroke(dot(Stroke::new(Tool::Eraser, 0.04)));
        assert!(drawing.has_colours());
        let cleared = drawing.without_colours();
        assert!(!cleared.has_colours());
        let tools: Vec<Tool> = cleared.strokes.iter().map(|s| s.tool).collect();
        assert_eq!(tools, [Tool::Brush, Tool::Eraser]);
        assert!(cleared.background.is_some());
    }

    #[test]
    fn malformed_json_is_an_error() {
        assert!(drawing_from_json(r#"{"strokes": [{"tool": "Pencil"}]}"#).is_err());
    }
}

//! The live face drawn: the face panel (the face, "generating…", what painted it, or why
//! nothing can) and the strip of alternatives.

use std::sync::Arc;

use eframe::egui::{self, Color32, ColorImage, Rect, RichText, Sense, Ui, Vec2};
use image::RgbImage;

use super::{GENERATING_AFTER, LiveFace, ModelStatus, STRIP_GAP, VARIATIONS};
use crate::app::commands::Command;
use crate::engine::{Painter, Seed};
use crate::sketch::Drawing;

impl LiveFace {
    /// The face, or why there is none; when the model cannot paint, the reason and what can be
    /// done about it (the returned command).
    pub fn ui_face(&self, ui: &mut Ui, rect: Rect) -> Option<Command> {
        let painter = ui.painter_at(rect);
        let mut asked = None;
        let generating = self.is_generating() && self.changed_at.elapsed() >= GENERATING_AFTER;
        if self.face.is_some() {
            let whole = Rect::from_min_max(egui::Pos2::ZERO, egui::pos2(1.0, 1.0));
            painter.image(self.texture.id(), rect, whole, Color32::WHITE);
        } else {
            painter.rect_filled(rect, 0.0, ui.visuals().extreme_bg_color);
        }
        if let Some(caption) = self.caption() {
            let galley = painter.layout_no_wrap(caption, egui::FontId::proportional(12.0), Color32::WHITE);
            let corner = Rect::from_min_size(
                egui::pos2(rect.min.x + 8.0, rect.max.y - galley.size().y - 14.0),
                galley.size() + Vec2::new(12.0, 6.0),
            );
            painter.rect_filled(corner, 4.0, Color32::from_black_alpha(150));
            painter.galley(corner.min + Vec2::new(6.0, 3.0), galley, Color32::WHITE);
        }
        if generating {
            let corner = Rect::from_min_size(rect.min + Vec2::splat(8.0), Vec2::new(130.0, 22.0));
            painter.rect_filled(corner, 4.0, Color32::from_black_alpha(150));
            ui.put(
                corner,
                egui::Label::new(RichText::new("generating…").color(Color32::WHITE)),
            );
        }
        let problem = match (&self.model, &self.run_failure) {
            (ModelStatus::Failed(error), _) => Some(format!(
                "No face can be painted: the model could not be loaded, or stopped.\n\n{error}"
            )),
            (ModelStatus::Ready { .. }, Some(error)) => Some(format!(
                "The model could not paint this drawing.\n\n{error}"
            )),
            _ => None,
        };
        if let Some(problem) = problem {
            if self.face.is_some() {
                painter.rect_filled(rect, 0.0, Color32::from_black_alpha(200));
            }
            let text = format!(
                "{problem}\n\nYour drawing is safe: keep drawing and save it, try again, or choose another model."
            );
            let inner = rect.shrink(24.0);
            ui.scope_builder(egui::UiBuilder::new().max_rect(inner), |ui| {
                ui.label(RichText::new(text).color(ui.visuals().error_fg_color));
                ui.add_space(8.0);
                ui.horizontal(|ui| {
                    if ui
                        .button("Try again")
                        .on_hover_text(format!("Load {} again", self.model_path.display()))
                        .clicked()
                    {
                        asked = Some(Command::RetryModel);
                    }
                    if ui
                        .button("Choose another model…")
                        .on_hover_text("Load another sketch2face model (.onnx); the drawing stays")
                        .clicked()
                    {
                        asked = Some(Command::ChooseModel);
                    }
                });
            });
        } else if self.face.is_none() && !generating {
            let text = match &self.model {
                ModelStatus::Loading => "Loading the model…",
                _ => "Draw a face on the left.",
            };
            ui.put(
                rect.shrink(24.0),
                egui::Label::new(RichText::new(text).color(ui.visuals().weak_text_color())).wrap(),
            );
        }
        ui.painter().rect_stroke(
            rect,
            0.0,
            ui.visuals().widgets.noninteractive.bg_stroke,
            egui::StrokeKind::Outside,
        );
        asked
    }

    /// What the face on screen is, when that needs saying: the generator's stand-in while the
    /// pipeline finds no face in the drawing, or the person it shows.
    fn caption(&self) -> Option<String> {
        let made = self.face.as_ref()?;
        if !self.model.photographic() {
            return None;
        }
        Some(match (made.painter, made.person) {
            (Painter::Generator, _) => "no face in the drawing yet: the generator's face".to_owned(),
            (Painter::Pipeline, Some(person)) => format!("person {person} of the bank"),
            (Painter::Pipeline, None) => "the look photo".to_owned(),
        })
    }

    /// The strip of alternatives in `rect` (one row); a click on one returns its seed.
    pub fn ui_strip(&self, ui: &mut Ui, rect: Rect, drawing: &Arc<Drawing>) -> Option<Seed> {
        let (seeds, faces) = self.variations(drawing);
        let side = (rect.width() - STRIP_GAP * (VARIATIONS - 1) as f32) / VARIATIONS as f32;
        let mut adopted = None;
        for (i, seed) in seeds.iter().enumerate() {
            let cell = Rect::from_min_size(
                rect.min + Vec2::new(i as f32 * (side + STRIP_GAP), 0.0),
                Vec2::splat(side),
            );
            let response = ui
                .interact(
                    cell,
                    ui.make_persistent_id(("variation", i)),
                    Sense::click(),
                )
                .on_hover_text(match faces.and_then(|faces| faces.get(i)).and_then(|face| face.person) {
                    Some(person) => {
                        format!("Person {person} of the bank: click to keep this person while you draw")
                    }
                    None => format!("Seed {seed}: click to use this face"),
                });
            let painter = ui.painter_at(cell);
            match faces {
                Some(_) => {
                    let whole = Rect::from_min_max(egui::Pos2::ZERO, egui::pos2(1.0, 1.0));
                    painter.image(self.strip.textures[i].id(), cell, whole, Color32::WHITE);
                }
                None => {
                    painter.rect_filled(cell, 0.0, ui.visuals().extreme_bg_color);
                }
            }
            let stroke = if response.hovered() {
                ui.visuals().widgets.hovered.bg_stroke
            } else {
                ui.visuals().widgets.noninteractive.bg_stroke
            };
            ui.painter()
                .rect_stroke(cell, 0.0, stroke, egui::StrokeKind::Outside);
            if response.clicked() && faces.is_some() {
                adopted = Some(*seed);
            }
        }
        adopted
    }
}

pub(super) fn color_image(face: &RgbImage) -> ColorImage {
    ColorImage::from_rgb(
        [face.width() as usize, face.height() as usize],
        face.as_raw(),
    )
}

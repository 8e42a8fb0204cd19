//! Closing the window with unsaved changes: ask to save, save, then close; or discard, or
//! cancel and keep drawing.

use std::path::Path;

use eframe::egui;

use super::commands::Command;

/// Where closing the window with unsaved changes stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Stage {
    /// The save / discard / cancel question is shown.
    Asking,
    /// The drawing is being saved; the window closes when that worked.
    Saving,
    /// Saved or discarded: let the window close.
    Allowed,
}

/// The closing state machine; `None` while nobody asked to close.
#[derive(Debug, Default)]
pub struct Closing {
    stage: Option<Stage>,
}

impl Closing {
    /// The "save changes?" question is shown.
    pub fn is_asking(&self) -> bool {
        self.stage == Some(Stage::Asking)
    }

    /// The window may close without losing anything (saved or discarded).
    pub fn is_allowed(&self) -> bool {
        self.stage == Some(Stage::Allowed)
    }

    /// The window waits for the drawing to be saved.
    pub fn is_saving(&self) -> bool {
        self.stage == Some(Stage::Saving)
    }

    /// The window's close button: with unsaved changes, keep the window and ask.
    pub fn handle_request(&mut self, ctx: &egui::Context, has_unsaved_changes: bool) {
        if !ctx.input(|i| i.viewport().close_requested()) {
            return;
        }
        if self.is_allowed() || !has_unsaved_changes {
            return;
        }
        ctx.send_viewport_cmd(egui::ViewportCommand::CancelClose);
        self.stage = Some(Stage::Asking);
    }

    /// "Save…" was answered: the window closes once the drawing is saved.
    pub fn save(&mut self) {
        self.stage = Some(Stage::Saving);
    }

    /// The save the window waited for was cancelled or failed: keep the window.
    pub fn save_abandoned(&mut self) {
        if self.is_saving() {
            self.stage = None;
        }
    }

    /// "Cancel": keep the window.
    pub fn cancel(&mut self) {
        self.stage = None;
    }

    /// Saved or discarded: close the window.
    pub fn close_now(&mut self, ctx: &egui::Context) {
        self.stage = Some(Stage::Allowed);
        ctx.send_viewport_cmd(egui::ViewportCommand::Close);
    }
}

/// The save / discard / cancel question for the drawing at `path` (`None`: never saved), and
/// the answer once given.
pub fn ui_close_question(ctx: &egui::Context, path: Option<&Path>) -> Option<Command> {
    let mut answer = None;
    let modal = egui::Modal::new(egui::Id::unique("save-before-closing")).show(ctx, |ui| {
        ui.set_width(360.0);
        ui.heading("Save the drawing?");
        let name = path.and_then(Path::file_name).map_or_else(
            || "The drawing".to_owned(),
            |n| n.to_string_lossy().into_owned(),
        );
        ui.label(format!(
            "{name} has changes that are not saved. They are lost if you close without saving."
        ));
        ui.add_space(8.0);
        ui.horizontal(|ui| {
            if ui.button("Save…").clicked() {
                answer = Some(Command::CloseSaving);
            }
            if ui
                .button("Discard")
                .on_hover_text("Close and lose the changes")
                .clicked()
            {
                answer = Some(Command::CloseDiscarding);
            }
            if ui.button("Cancel").on_hover_text("Keep drawing").clicked() {
                answer = Some(Command::CloseCancelled);
            }
        });
    });
    if modal.should_close() && answer.is_none() {
        answer = Some(Command::CloseCancelled); // Escape or a click outside
    }
    answer
}

//! The frame: input, the toolbar, the status line, the canvas, the face, the strip and the
//! closing question, drawn from the app's parts; what the user asks for is queued as
//! [`Command`]s and applied once the frame is drawn.

use eframe::egui::{self, Ui};

use super::SketchApp;
use crate::app::autosave::Autosave;
use crate::app::closing::ui_close_question;
use crate::app::commands::{self, Command};
use crate::app::layout::Layout;
use crate::app::toolbar::{self, StatusView, ToolbarView};
use crate::sketch::Tool;

impl SketchApp {
    pub(crate) fn frame(&mut self, ui: &mut Ui) {
        for (text, is_error) in self.live.poll() {
            self.message(text, is_error);
        }
        for (text, is_error) in self.look.poll(&mut self.live, &mut self.document) {
            self.message(text, is_error);
        }
        if self.settings.tool == Tool::Colour && self.live.model().why_no_hints().is_some() {
            self.settings.tool = Tool::Brush;
        }
        self.poll_files();
        while let Some(failure) = self.autosave.as_ref().and_then(Autosave::try_recv) {
            self.message(failure, true);
        }
        if !self.closing.is_asking() {
            self.commands.extend(commands::consume_shortcuts(&self.ctx));
        }
        self.take_dropped_files();
        self.closing
            .handle_request(&self.ctx, self.has_unsaved_changes_now());

        let view = ToolbarView {
            settings: &self.settings,
            can_undo: self.document.history().can_undo(),
            can_redo: self.document.history().can_redo(),
            has_colours: self.document.drawing().has_colours(),
            has_face: self.live.face().is_some(),
            can_go_back: !self.document.previous_seeds().is_empty(),
            model: self.live.model(),
            guide_problem: self.guide_problem.as_deref(),
            person: self.document.person(),
            look: self.document.look().map(|look| look.in_use),
            reading_look: self.look.is_reading(),
        };
        let mut asked = Vec::new();
        egui::Panel::top("toolbar").show(ui, |ui| {
            asked.extend(toolbar::ui_toolbar(ui, &view));
            // Always there (disabled for a model without hints), so the canvas never moves.
            ui.separator();
            asked.extend(toolbar::ui_colours(ui, &view));
        });
        let status = egui::Panel::bottom("status").show(ui, |ui| {
            toolbar::ui_status(
                ui,
                &StatusView {
                    model: self.live.model(),
                    last_elapsed: self.live.last_elapsed(),
                    live_rate: self.live_rate,
                    seed: self.document.seed(),
                    message: self.messages.last(),
                },
            )
        });
        self.commands.extend(asked);
        self.layout.status = status.response.rect;
        egui::CentralPanel::default().show(ui, |ui| self.ui_main(ui));
        if self.closing.is_asking() {
            let answer = ui_close_question(&self.ctx, self.document.path());
            self.commands.extend(answer);
        }

        let commands = std::mem::take(&mut self.commands);
        let applied = !commands.is_empty();
        for command in commands {
            self.apply(command);
        }
        self.live.update(
            self.document.drawing(),
            self.canvas.current_stroke(),
            self.document.seed(),
            &self.look.person(&self.document),
        );
        self.autosave_if_changed();
        if applied {
            self.ctx.request_repaint(); // show what the commands changed
        }
    }

    fn take_dropped_files(&mut self) {
        let dropped = self.ctx.input(|i| {
            i.raw
                .dropped_files
                .iter()
                .map(|f| f.path().to_path_buf())
                .collect::<Vec<_>>()
        });
        // Dropped on the face (or the strip): a photo for the look; anywhere else: a file to
        // open (a drawing, a sketch, or a photo to draw over).
        let at = self.ctx.input(|i| i.pointer.hover_pos());
        let on_face = at.is_some_and(|at| self.layout.face.contains(at) || self.layout.strip.contains(at));
        if let Some(path) = dropped.first() {
            if dropped.len() > 1 {
                self.message(
                    format!("{} files dropped: opening the first one", dropped.len()),
                    false,
                );
            }
            self.commands.push(match on_face {
                true => Command::LookFile(path.clone()),
                false => Command::OpenFile(path.clone()),
            });
        }
    }

    fn ui_main(&mut self, ui: &mut Ui) {
        let available = ui.available_rect_before_wrap();
        self.layout.place(available, ui.pixels_per_point(), self.live.model());
        let Layout {
            canvas,
            face,
            strip,
            ..
        } = self.layout;
        let events = self
            .canvas
            .ui(ui, canvas, self.document.drawing(), &self.settings);
        for event in events {
            self.canvas_event(event);
        }
        if let Some(command) = self.live.ui_face(ui, face) {
            self.commands.push(command);
        }
        if self.layout.has_strip()
            && let Some(seed) = self.live.ui_strip(ui, strip, self.document.drawing())
        {
            self.commands.push(Command::AdoptSeed(seed));
        }
    }
}

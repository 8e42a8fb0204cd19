//! The toolbar, the colour row and the status line. They only read what they show and return
//! the [`Command`]s the user asked for; nothing changes until the app applies them.

use std::path::PathBuf;
use std::time::Duration;

use eframe::egui::{self, Color32, RichText, Ui};

use super::commands::{self, Command, with_shortcut};
use super::live::{ModelStatus, model_name};
use super::messages::Message;
use super::settings::{FACE_SAVE_SIZES, SIZE_MAX, SIZE_MIN, Settings};
use crate::engine::Seed;
use crate::sketch::{Rgb, Tool};

/// The colour swatches: skin tones, hair, eyes and backgrounds, each with its name.
pub const SWATCHES: [(&str, Rgb); 16] = [
    ("Light skin", [241, 206, 180]),
    ("Fair skin", [224, 172, 140]),
    ("Medium skin", [198, 134, 98]),
    ("Brown skin", [141, 85, 54]),
    ("Dark skin", [88, 54, 36]),
    ("Black hair", [28, 24, 22]),
    ("Brown hair", [92, 58, 34]),
    ("Blond hair", [214, 178, 112]),
    ("Red hair", [158, 70, 36]),
    ("Gray hair", [165, 162, 158]),
    ("Brown eyes", [96, 60, 36]),
    ("Blue eyes", [78, 120, 170]),
    ("Green eyes", [88, 128, 80]),
    ("Light background", [232, 232, 228]),
    ("Blue background", [120, 150, 185]),
    ("Dark background", [50, 52, 58]),
];

/// What the toolbar shows.
pub struct ToolbarView<'a> {
    pub settings: &'a Settings,
    pub can_undo: bool,
    pub can_redo: bool,
    pub has_colours: bool,
    pub has_face: bool,
    pub can_go_back: bool,
    pub model: &'a ModelStatus,
    /// Why the guide cannot be shown, when it cannot.
    pub guide_problem: Option<&'a str>,
    /// The person pinned from the strip (face pipeline v3).
    pub person: Option<u64>,
    /// The document has a look photo (`true`: the face uses it).
    pub look: Option<bool>,
    /// A look photo's face is being found.
    pub reading_look: bool,
}

/// The main toolbar (top): files, tools, size, history, faces.
pub fn ui_toolbar(ui: &mut Ui, view: &ToolbarView) -> Vec<Command> {
    let ctx = ui.ctx().clone();
    let tip = |text: &str, command: &Command| with_shortcut(&ctx, text, command);
    let settings = view.settings;
    let no_hints = view.model.why_no_hints();
    let no_variations = view.model.why_no_variations();
    let mut out = Vec::new();
    ui.horizontal_wrapped(|ui| {
        ui.menu_button("File", |ui| out.extend(ui_file_menu(ui, view)));
        ui.separator();
        for (tool, name, what) in [
            (Tool::Brush, "Brush", "Brush: black ink"),
            (Tool::Eraser, "Eraser", "Eraser: paper over ink and colours"),
            (
                Tool::Colour,
                "Colour",
                "Colour: paint where the face takes which colour",
            ),
        ] {
            let command = Command::SelectTool(tool);
            let enabled = tool != Tool::Colour || no_hints.is_none();
            let button = ui.add_enabled(
                enabled,
                egui::Button::selectable(settings.tool == tool, name),
            );
            let button = button.on_hover_text(tip(what, &command));
            let button = match (&no_hints, tool) {
                (Some(why), Tool::Colour) => button.on_disabled_hover_text(why.as_str()),
                _ => button,
            };
            if button.clicked() {
                out.push(command);
            }
        }
        let mut size = settings.size();
        let slider = egui::Slider::new(&mut size, SIZE_MIN..=SIZE_MAX)
            .logarithmic(true)
            .text("size")
            .custom_formatter(|v, _| format!("{:.1} px", v * 512.0))
            .custom_parser(|s| {
                s.trim()
                    .trim_end_matches("px")
                    .trim()
                    .parse::<f64>()
                    .ok()
                    .map(|v| v / 512.0)
            });
        let tooltip = format!(
            "Brush size, in pixels of a 512 px sketch ({} smaller, {} bigger)",
            ctx.format_shortcut(&commands::shortcut_for(&Command::SizeDown).expect("bound")),
            ctx.format_shortcut(&commands::shortcut_for(&Command::SizeUp).expect("bound")),
        );
        if ui.add(slider).on_hover_text(tooltip).changed() {
            out.push(Command::SetSize(size));
        }
        ui.separator();
        for (enabled, name, command) in [
            (view.can_undo, "Undo", Command::Undo),
            (view.can_redo, "Redo", Command::Redo),
        ] {
            let button = ui.add_enabled(enabled, egui::Button::new(name));
            if button
                .on_hover_text(tip(name, &command))
                .on_disabled_hover_text(tip(name, &command))
                .clicked()
            {
                out.push(command);
            }
        }
        if ui
            .button("Clear")
            .on_hover_text(tip("Clear everything (can be undone)", &Command::Clear))
            .clicked()
        {
            out.push(Command::Clear);
        }
        ui.separator();
        let mut guide = settings.guide;
        let checkbox = ui.add_enabled(
            view.guide_problem.is_none(),
            egui::Checkbox::new(&mut guide, "Guide"),
        );
        let checkbox = checkbox.on_hover_text(
            "Show a faint face under the canvas to help with proportions (never sent to the model)",
        );
        let checkbox = match view.guide_problem {
            Some(problem) => checkbox.on_disabled_hover_text(problem),
            None => checkbox,
        };
        if checkbox.changed() {
            out.push(Command::ToggleGuide);
        }
        ui.separator();
        let why = no_variations.as_deref();
        for (enabled, name, what, command) in [
            (
                true,
                "New face",
                "Another face for the same drawing (a new seed)",
                Command::NewFace,
            ),
            (
                view.can_go_back,
                "Previous face",
                "Back to the face before",
                Command::PreviousFace,
            ),
        ] {
            let button = ui.add_enabled(enabled && why.is_none(), egui::Button::new(name));
            let button = button.on_hover_text(tip(what, &command));
            let button = match why {
                Some(why) => button.on_disabled_hover_text(why),
                None => button.on_disabled_hover_text("No face before this one"),
            };
            if button.clicked() {
                out.push(command);
            }
        }
        ui.separator();
        out.extend(ui_people(ui, view));
    });
    out
}

/// The faces' switch (photographic or generated), the look photo and the person pinned.
fn ui_people(ui: &mut Ui, view: &ToolbarView) -> Vec<Command> {
    let mut out = Vec::new();
    let photographic = view.settings.photographic;
    let mut chosen = photographic;
    egui::ComboBox::from_id_salt("faces")
        .selected_text(if photographic { "Photographic faces" } else { "Generated faces" })
        .show_ui(ui, |ui| {
            ui.selectable_value(&mut chosen, true, "Photographic faces").on_hover_text(
                "Real people's photographs, warped onto your drawing and refined to follow it (face pipeline v3)",
            );
            ui.selectable_value(&mut chosen, false, "Generated faces")
                .on_hover_text("Faces painted by the generator network (v2)");
        })
        .response
        .on_hover_text("What paints the faces");
    if chosen != photographic {
        out.push(Command::SetPhotographic(chosen));
    }
    if !photographic {
        return out;
    }
    let look_tip = "A photo of one face as the look: the face takes its skin, eyes and hair on your drawing (or drop a photo onto the face)";
    match view.look {
        None => {
            let label = if view.reading_look { "Look: finding the face…" } else { "Look…" };
            if ui.add_enabled(!view.reading_look, egui::Button::new(label)).on_hover_text(look_tip).clicked() {
                out.push(Command::ChooseLook);
            }
        }
        Some(in_use) => {
            let mut checked = in_use;
            if ui
                .checkbox(&mut checked, "Look")
                .on_hover_text("Untick to set the look photo aside (it stays in the drawing)")
                .changed()
            {
                out.push(Command::UseLook(checked));
            }
            if ui.small_button("Remove").on_hover_text("Remove the look photo from the drawing").clicked() {
                out.push(Command::RemoveLook);
            }
            if ui.add_enabled(!view.reading_look, egui::Button::new("Other look…")).on_hover_text(look_tip).clicked() {
                out.push(Command::ChooseLook);
            }
        }
    }
    if let Some(person) = view.person {
        ui.label(format!("Pinned: person {person}")).on_hover_text(
            "The face keeps this person of the strip while you draw; click another in the strip to change",
        );
        if ui.small_button("Unpin").on_hover_text("Let the drawing choose the person again").clicked() {
            out.push(Command::Unpin);
        }
    }
    out
}

fn ui_file_menu(ui: &mut Ui, view: &ToolbarView) -> Vec<Command> {
    let ctx = ui.ctx().clone();
    let item = |ui: &mut Ui, enabled: bool, name: &str, what: &str, command: &Command| {
        let button = ui.add_enabled(enabled, egui::Button::new(name));
        button
            .on_hover_text(with_shortcut(&ctx, what, command))
            .clicked()
    };
    let mut out = Vec::new();
    let open = Command::Open;
    if item(
        ui,
        true,
        "Open…",
        "Open a drawing (.ora) or a sketch image",
        &open,
    ) {
        out.push(open);
    }
    ui.menu_button("Open recent", |ui| {
        if view.settings.recent.is_empty() {
            ui.label("No drawings yet");
        }
        for path in &view.settings.recent {
            let name = path.file_name().map_or_else(
                || path.display().to_string(),
                |n| n.to_string_lossy().into_owned(),
            );
            if ui
                .button(name)
                .on_hover_text(path.display().to_string())
                .clicked()
            {
                out.push(Command::OpenFile(PathBuf::clone(path)));
            }
        }
    });
    ui.separator();
    for (enabled, name, what, command) in [
        (
            true,
            "Save drawing…",
            "Save the drawing, strokes and colours editable (OpenRaster .ora: Krita, GIMP and MyPaint open its layers)",
            Command::SaveDrawing,
        ),
        (
            view.has_face,
            "Save face…",
            "Save the face as PNG or JPEG",
            Command::SaveFace,
        ),
        (
            true,
            "Save sketch…",
            "Save the sketch as a 512 px PNG",
            Command::SaveSketch,
        ),
    ] {
        if item(ui, enabled, name, what, &command) {
            out.push(command);
        }
    }
    ui.separator();
    let choose = Command::ChooseModel;
    if item(
        ui,
        true,
        "Choose model…",
        "Paint the faces with another sketch2face model (.onnx); the drawing stays",
        &choose,
    ) {
        out.push(choose);
    }
    ui.separator();
    let model_res = view.model.info().map(|info| info.resolution);
    let label = |size: u32| match (size, model_res) {
        (0, Some(res)) => format!("Faces at {res} px (the model's)"),
        (0, None) => "Faces at the model's size".to_owned(),
        (size, _) => format!("Faces at {size} px"),
    };
    for size in FACE_SAVE_SIZES {
        if ui
            .radio(view.settings.face_save_size == size, label(size))
            .on_hover_text("Size of a saved face (larger sizes are upscaled)")
            .clicked()
        {
            out.push(Command::SetFaceSaveSize(size));
        }
    }
    if !out.is_empty() {
        ui.close();
    }
    out
}

/// The colour row: swatches, a picker, show/hide and "Clear colours".
pub fn ui_colours(ui: &mut Ui, view: &ToolbarView) -> Vec<Command> {
    let mut out = Vec::new();
    let enabled = view.model.why_no_hints().is_none();
    ui.add_enabled_ui(enabled, |ui| {
        ui.horizontal_wrapped(|ui| {
            ui.spacing_mut().item_spacing.x = 3.0;
            for (name, colour) in SWATCHES {
                let [r, g, b] = colour;
                let selected = view.settings.tool == Tool::Colour && view.settings.colour == colour;
                let swatch = egui::Button::new("")
                    .fill(Color32::from_rgb(r, g, b))
                    .stroke(egui::Stroke::new(1.0, Color32::from_gray(128)))
                    .min_size(egui::vec2(20.0, 20.0))
                    .selected(selected);
                if ui.add(swatch).on_hover_text(name).clicked() {
                    out.push(Command::SetColour(colour));
                }
            }
            ui.spacing_mut().item_spacing.x = 8.0;
            let mut picked = view.settings.colour;
            if ui
                .color_edit_button_srgb(&mut picked)
                .on_hover_text("Any colour")
                .changed()
            {
                out.push(Command::SetColour(picked));
            }
            ui.separator();
            let mut shown = view.settings.show_colours;
            let toggle = Command::ToggleColours;
            let tip = with_shortcut(
                ui.ctx(),
                "Show the colour strokes over the ink (the model gets them either way)",
                &toggle,
            );
            if ui
                .checkbox(&mut shown, "Show colours")
                .on_hover_text(tip)
                .changed()
            {
                out.push(toggle);
            }
            let clear = ui.add_enabled(view.has_colours, egui::Button::new("Clear colours"));
            if clear
                .on_hover_text("Remove every colour stroke, nothing else (can be undone)")
                .clicked()
            {
                out.push(Command::ClearColours);
            }
        });
    });
    out
}

/// What the status line shows.
pub struct StatusView<'a> {
    pub model: &'a ModelStatus,
    pub last_elapsed: Option<Duration>,
    pub live_rate: Option<f32>,
    pub seed: Seed,
    pub message: Option<&'a Message>,
}

pub fn ui_status(ui: &mut Ui, view: &StatusView) {
    ui.horizontal(|ui| {
        match view.model {
            ModelStatus::Loading => {
                ui.label("Loading the model…");
            }
            ModelStatus::Failed(_) => {
                ui.colored_label(ui.visuals().error_fg_color, "No model");
            }
            ModelStatus::Ready {
                info,
                provider,
                load_time,
                pipeline,
            } => {
                let loaded = format!("{}\nloaded in {} ms", info.path.display(), load_time.as_millis());
                match pipeline {
                    Ok(()) => ui
                        .label(format!("face pipeline v3 · {} px", crate::engine::FACE_SIDE))
                        .on_hover_text(format!(
                            "Mesh, bank, warp and refine; the generator {} paints until the drawing is a face\n{loaded}",
                            model_name(info)
                        )),
                    Err(_) => ui
                        .label(format!("{} · {} px", model_name(info), info.resolution))
                        .on_hover_text(loaded),
                };
                ui.separator();
                ui.label(provider.to_string())
                    .on_hover_text("Execution provider");
                ui.separator();
                match view.last_elapsed {
                    Some(elapsed) => ui.label(format!("{} ms", elapsed.as_millis())),
                    None => ui.label("– ms"),
                }
                .on_hover_text("Time of the last generation");
                if let Some(rate) = view.live_rate {
                    ui.separator();
                    ui.label(format!("{rate:.1} faces/s"))
                        .on_hover_text("Face updates per second during the last stroke");
                }
                if info.z_dim > 0 {
                    ui.separator();
                    ui.label(format!("seed {}", view.seed))
                        .on_hover_text("The face's variation seed (0: the model's default face); saved with the drawing");
                }
            }
        }
        if let Some(message) = view.message {
            ui.separator();
            let color = if message.is_error {
                ui.visuals().error_fg_color
            } else {
                ui.visuals().text_color()
            };
            ui.add(egui::Label::new(RichText::new(&message.text).color(color)).truncate())
                .on_hover_text(&message.text);
        }
    });
}

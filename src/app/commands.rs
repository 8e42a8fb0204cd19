//! Everything the user can ask for, as data. Buttons, shortcuts, dropped files and tests push a
//! [`Command`]; the app applies them after the frame is drawn (egui's `wrap_app.rs` pattern).

use std::path::PathBuf;

use eframe::egui::{self, Key, KeyboardShortcut, Modifiers};

use crate::engine::Seed;
use crate::sketch::{Rgb, Tool};

#[derive(Clone, Debug, PartialEq)]
pub enum Command {
    Undo,
    Redo,
    /// Remove everything, background and colours included. Undoable.
    Clear,
    /// Remove the colour strokes only. Undoable.
    ClearColours,
    SelectTool(Tool),
    /// Bigger brush (`]`).
    SizeUp,
    /// Smaller brush (`[`).
    SizeDown,
    /// The size of the current tool (the toolbar's slider).
    SetSize(f32),
    /// The colour of the colour tool (a swatch or the picker); selects the colour tool.
    SetColour(Rgb),
    /// Show or hide the colour strokes on the canvas.
    ToggleColours,
    /// Ask for a drawing (`.ora`) or a sketch image with a dialog.
    Open,
    /// Open this drawing (`.ora`) or sketch image.
    OpenFile(PathBuf),
    /// Ask where to save the drawing (OpenRaster).
    SaveDrawing,
    /// Save the drawing here (`.ora`).
    SaveDrawingTo(PathBuf),
    /// Ask where to save the face.
    SaveFace,
    /// Save the face here (PNG, or JPEG for `.jpg`/`.jpeg`).
    SaveFaceTo(PathBuf),
    /// Side of saved faces (0: the model's).
    SetFaceSaveSize(u32),
    /// Ask where to save the sketch.
    SaveSketch,
    /// Save the sketch here as PNG.
    SaveSketchTo(PathBuf),
    ToggleGuide,
    /// A new variation seed for the face.
    NewFace,
    /// Back to the seed before the last change.
    PreviousFace,
    /// Use this seed (a face of the variations strip).
    AdoptSeed(Seed),
    /// Four other alternatives in the variations strip.
    OtherVariations,
    /// Let the seed choose the person again (face pipeline v3), instead of the one pinned.
    Unpin,
    /// Ask for a photo for the look with a dialog.
    ChooseLook,
    /// This photo's face as the look.
    LookFile(PathBuf),
    /// Use the look photo for the face, or keep it aside in the document.
    UseLook(bool),
    /// Take the look photo out of the document.
    RemoveLook,
    /// Photographic faces (face pipeline v3) on or off: the worker starts again.
    SetPhotographic(bool),
    /// Ask for another model (`.onnx`) with a dialog.
    ChooseModel,
    /// Load this model in place of the current one; the drawing stays.
    LoadModel(PathBuf),
    /// Load the current model again (after it failed to load or to run).
    RetryModel,
    /// Closing with unsaved changes: save the drawing, then close.
    CloseSaving,
    /// Closing with unsaved changes: close without saving.
    CloseDiscarding,
    /// Closing with unsaved changes: keep the window open.
    CloseCancelled,
}

const fn key(modifiers: Modifiers, key: Key) -> KeyboardShortcut {
    KeyboardShortcut::new(modifiers, key)
}

const CMD_SHIFT: Modifiers = Modifiers::COMMAND.plus(Modifiers::SHIFT);

/// The keyboard shortcuts. Order matters: egui matches Shift leniently, so each
/// `Ctrl+Shift+X` comes before its `Ctrl+X` (and `Shift+V` before `V`).
pub const SHORTCUTS: [(KeyboardShortcut, Command); 16] = [
    (key(CMD_SHIFT, Key::Z), Command::Redo),
    (key(Modifiers::COMMAND, Key::Z), Command::Undo),
    (key(Modifiers::COMMAND, Key::Y), Command::Redo),
    (key(CMD_SHIFT, Key::S), Command::SaveSketch),
    (key(Modifiers::COMMAND, Key::S), Command::SaveDrawing),
    (key(Modifiers::COMMAND, Key::E), Command::SaveFace),
    (key(Modifiers::COMMAND, Key::O), Command::Open),
    (key(Modifiers::COMMAND, Key::N), Command::Clear),
    (
        key(Modifiers::NONE, Key::B),
        Command::SelectTool(Tool::Brush),
    ),
    (
        key(Modifiers::NONE, Key::E),
        Command::SelectTool(Tool::Eraser),
    ),
    (
        key(Modifiers::NONE, Key::C),
        Command::SelectTool(Tool::Colour),
    ),
    (key(Modifiers::SHIFT, Key::V), Command::PreviousFace),
    (key(Modifiers::NONE, Key::V), Command::NewFace),
    (key(Modifiers::NONE, Key::OpenBracket), Command::SizeDown),
    (key(Modifiers::NONE, Key::CloseBracket), Command::SizeUp),
    (key(Modifiers::NONE, Key::H), Command::ToggleColours),
];

/// The first shortcut bound to `command`, for tooltips.
pub fn shortcut_for(command: &Command) -> Option<KeyboardShortcut> {
    SHORTCUTS
        .iter()
        .find(|(_, c)| c == command)
        .map(|(s, _)| *s)
}

/// "Undo (Ctrl+Z)", in the platform's notation.
pub fn with_shortcut(ctx: &egui::Context, text: &str, command: &Command) -> String {
    match shortcut_for(command) {
        Some(shortcut) => format!("{text} ({})", ctx.format_shortcut(&shortcut)),
        None => text.to_owned(),
    }
}

/// Take this frame's shortcut presses out of the input (key repeats count).
pub fn consume_shortcuts(ctx: &egui::Context) -> Vec<Command> {
    // B, E, C, V, H, [ and ] are text while a text field (the size box) has the keyboard.
    let typing = ctx.egui_wants_keyboard_input();
    ctx.input_mut(|input| {
        let mut commands = Vec::new();
        for (shortcut, command) in &SHORTCUTS {
            if typing && !shortcut.modifiers.command {
                continue;
            }
            let presses = input.count_and_consume_key(shortcut.modifiers, shortcut.logical_key);
            commands.extend(std::iter::repeat_n(command.clone(), presses));
        }
        commands
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// What egui-winit sends for Ctrl on Linux and Windows.
    const CTRL: Modifiers = Modifiers::CTRL.plus(Modifiers::COMMAND);

    fn press(ctx: &egui::Context, modifiers: Modifiers, k: Key) -> Vec<Command> {
        let mut input = egui::RawInput::default();
        input.events.push(egui::Event::Key {
            key: k,
            physical_key: None,
            pressed: true,
            repeat: false,
            modifiers,
        });
        let mut out = Vec::new();
        let mut output = ctx.run_ui(input, |ui| out = consume_shortcuts(ui.ctx()));
        output.textures_delta.clear();
        out
    }

    #[test]
    fn shift_variants_do_not_trigger_the_plain_ones() {
        let ctx = egui::Context::default();
        assert_eq!(
            press(&ctx, CTRL.plus(Modifiers::SHIFT), Key::Z),
            vec![Command::Redo]
        );
        assert_eq!(press(&ctx, CTRL, Key::Z), vec![Command::Undo]);
        assert_eq!(
            press(&ctx, CTRL.plus(Modifiers::SHIFT), Key::S),
            vec![Command::SaveSketch]
        );
        assert_eq!(press(&ctx, CTRL, Key::S), vec![Command::SaveDrawing]);
        assert_eq!(press(&ctx, CTRL, Key::E), vec![Command::SaveFace]);
        assert_eq!(
            press(&ctx, Modifiers::SHIFT, Key::V),
            vec![Command::PreviousFace]
        );
        assert_eq!(press(&ctx, Modifiers::NONE, Key::V), vec![Command::NewFace]);
        assert_eq!(press(&ctx, CTRL, Key::Y), vec![Command::Redo]);
    }

    #[test]
    fn plain_keys_need_no_ctrl() {
        let ctx = egui::Context::default();
        assert_eq!(
            press(&ctx, Modifiers::NONE, Key::E),
            vec![Command::SelectTool(Tool::Eraser)]
        );
        assert_eq!(
            press(&ctx, Modifiers::NONE, Key::C),
            vec![Command::SelectTool(Tool::Colour)]
        );
        assert_eq!(
            press(&ctx, Modifiers::NONE, Key::CloseBracket),
            vec![Command::SizeUp]
        );
    }

    #[test]
    fn every_toolbar_command_names_its_shortcut() {
        assert!(shortcut_for(&Command::Undo).is_some());
        assert_eq!(shortcut_for(&Command::Redo).unwrap().logical_key, Key::Z);
        assert!(shortcut_for(&Command::ToggleGuide).is_none());
    }
}

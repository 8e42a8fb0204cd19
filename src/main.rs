//! `sketch2face`: parses the command line and starts the desktop app or a headless command.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use sketch2face::cli::{self, GenerateArgs, InfoArgs, ModelArgs};

/// Draw a face, watch a photo-like face appear beside it, live.
///
/// Without a command, opens the desktop app (with SKETCH loaded when given).
#[derive(Parser, Debug)]
#[command(disable_version_flag = true, args_conflicts_with_subcommands = true)]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,

    /// A sketch image to open in the app
    #[arg(value_name = "SKETCH")]
    file: Option<PathBuf>,

    /// The model the app runs, and where
    #[command(flatten)]
    model: ModelArgs,

    /// Print the version, the ONNX Runtime version and the model's name
    #[arg(short = 'V', long)]
    version: bool,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Turn sketch images into faces: writes DIR/<sketch name>.png for each
    Generate(GenerateArgs),
    /// The face mesh of each image (468 points): found or not, how sure, where
    Landmarks(cli::LandmarksArgs),
    /// Turn photos into sketches the way training does: writes DIR/<photo name>.png for each
    Sketchify(cli::SketchifyArgs),
    /// Training data for the refine network: bank faces warped onto photos' face meshes
    #[command(hide = true)]
    Exemplars(cli::ExemplarsArgs),
    /// Show a model's contract, resolution and metadata, and where it runs
    Info(InfoArgs),
    /// Answer HTTP requests: POST a sketch to /gen, get a face (the 2017 API)
    Serve(sketch2face::serve::ServeArgs),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    if cli.version {
        print!("{}", sketch2face::version::version_report(&cli.model.model_path()));
        return ExitCode::SUCCESS;
    }
    let result = match &cli.command {
        Some(Command::Generate(args)) => cli::generate(args),
        Some(Command::Info(args)) => cli::info(args),
        Some(Command::Landmarks(args)) => cli::landmarks(args),
        Some(Command::Exemplars(args)) => cli::exemplars(args),
        Some(Command::Sketchify(args)) => cli::sketchify(args),
        Some(Command::Serve(args)) => sketch2face::serve::serve(args),
        None => sketch2face::app::run(cli.file, cli.model.model_path(), cli.model.options()),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("error: {error:#}");
            cli::exit_code(&error)
        }
    }
}

//! `sketch2face sketchify PHOTO... --out DIR`: photos made into sketches by the training side's
//! recipes ([`crate::sketchify`]), each written as DIR/<photo name>.png at the photo's size.

use std::path::PathBuf;

use anyhow::{Context, anyhow};
use clap::Args;
use clap::builder::{PossibleValuesParser, TypedValueParser};
use image::{DynamicImage, RgbImage};

use super::{Failure, output_paths, write_png_atomically};
use crate::sketch::load_image_file;
use crate::sketchify::{SketchStyle, sketchify as sketch_of};

const SKETCHIFY_AFTER_HELP: &str = "\
Styles (the names of training/sketches.py):
  canny2017  the 2017 recipe, as training makes it with OpenCV: gray, 3x3 Gaussian blur, Otsu's
             threshold t, Canny edges between t/2 and t, black on white
  xdog       an eXtended Difference-of-Gaussians drawing with the middle of training's random
             parameters: softer, pencil-like

Each sketch is written to DIR/<photo file name>.png, the size of the photo: only the last
extension is replaced, so a.v2.jpg gives DIR/a.v2.png. Sketches are written atomically (a
temporary file, then a rename). Before any work, every sketch file is checked: an existing file
is refused without --force, and two photos that would write the same file (a.png and a.jpg) are
refused always. Photos have the limits of sketch files (64 MB, 8192 x 8192 pixels).

Exit status:
  0  every photo got its sketch
  1  some sketches could not be written (each is named); the others were
  2  some photos could not be read (each is named), or a usage error
  3  DIR could not be made; nothing was written
  4  refused before any work: a sketch file exists (use --force), is one of the photos, or
     would be written for two photos; nothing was written";

/// `sketch2face sketchify PHOTO... --out DIR`
#[derive(Args, Clone, Debug)]
#[command(after_help = SKETCHIFY_AFTER_HELP)]
pub struct SketchifyArgs {
    /// Photos (PNG, JPEG, BMP, GIF, WebP, TIFF, PNM)
    #[arg(required = true, value_name = "PHOTO")]
    pub photos: Vec<PathBuf>,

    /// How a photo becomes a sketch (see below)
    #[arg(long, default_value = "canny2017", value_name = "STYLE", value_parser = style_parser())]
    pub style: SketchStyle,

    /// Folder for the sketches, written as DIR/<photo file name>.png (created if missing)
    #[arg(long, short, value_name = "DIR")]
    pub out: PathBuf,

    /// Overwrite sketches that exist already in DIR (without it, nothing is written when one exists)
    #[arg(long)]
    pub force: bool,
}

fn style_parser() -> impl TypedValueParser<Value = SketchStyle> {
    PossibleValuesParser::new(SketchStyle::ALL.map(SketchStyle::name)).map(|name| {
        name.parse::<SketchStyle>()
            .expect("a possible value parses")
    })
}

/// Makes every photo a sketch. Checks every sketch file first and refuses the whole batch when
/// one clashes ([`Failure::Refused`]); then carries on past a photo that cannot be read or a
/// sketch that cannot be written, and fails at the end naming each ([`Failure::BadInput`] when
/// some photo could not be read, else [`Failure::SomeSketches`]).
pub fn sketchify(args: &SketchifyArgs) -> anyhow::Result<()> {
    let outputs = match output_paths(&args.photos, &args.out, args.force, None) {
        Ok(outputs) => outputs,
        Err(problems) => {
            for problem in &problems {
                eprintln!("error: {problem}");
            }
            return Err(Failure::Refused.of(anyhow!(
                "{} of {} photos refused before any work; nothing was written",
                problems.len(),
                args.photos.len()
            )));
        }
    };
    std::fs::create_dir_all(&args.out)
        .with_context(|| format!("cannot create the output folder {}", args.out.display()))
        .map_err(|error| Failure::CannotRun.of(error))?;

    let (mut unreadable, mut unwritten) = (Vec::new(), Vec::new());
    for (photo, outs) in args.photos.iter().zip(&outputs) {
        let out = &outs[0];
        let image = match load_image_file(photo) {
            Ok(image) => image,
            Err(error) => {
                eprintln!("error: {:#}", anyhow::Error::new(error));
                unreadable.push(photo.display().to_string());
                continue;
            }
        };
        let sketch = sketch_of(&on_white(image), args.style);
        match write_png_atomically(&sketch, out, args.force) {
            Ok(()) => println!("{} -> {}", photo.display(), out.display()),
            Err(error) => {
                eprintln!(
                    "error: cannot write {} (the sketch of {}): {error:#}",
                    out.display(),
                    photo.display()
                );
                unwritten.push(photo.display().to_string());
            }
        }
    }
    let total = args.photos.len();
    if !unreadable.is_empty() {
        return Err(Failure::BadInput.of(anyhow!(
            "{} of {total} photos could not be read: {}",
            unreadable.len(),
            unreadable.join(", ")
        )));
    }
    if !unwritten.is_empty() {
        return Err(Failure::SomeSketches.of(anyhow!(
            "{} of {total} sketches could not be written: {}",
            unwritten.len(),
            unwritten.join(", ")
        )));
    }
    Ok(())
}

/// The photo's colours, anything transparent composited over white paper (as sketch files are).
fn on_white(image: DynamicImage) -> RgbImage {
    if !image.color().has_alpha() {
        return image.into_rgb8();
    }
    let rgba = image.into_rgba8();
    RgbImage::from_fn(rgba.width(), rgba.height(), |x, y| {
        let [r, g, b, a] = rgba.get_pixel(x, y).0.map(u32::from);
        let over_white = |c: u32| ((c * a + 255 * (255 - a) + 127) / 255) as u8;
        image::Rgb([over_white(r), over_white(g), over_white(b)])
    })
}

//! `POST /gen`'s form: reading the multipart parts (async, in memory) and turning them into what
//! the engine needs (blocking: decoding and cleaning up the images).

use std::path::Path;

use axum::body::Bytes;
use axum::extract::Multipart;
use axum::extract::multipart::Field;
use image::{DynamicImage, GrayImage, RgbImage, RgbaImage};

use super::error::{ServeError, has_allowed_extension};
use crate::sketch::{decode_image, decode_sketch};

/// Largest face side a client may ask for with `size`.
pub const MAX_SIZE: u32 = 2048;

/// An uploaded file part: its bytes and the name the client gave it.
#[derive(Debug)]
pub struct Upload {
    /// The client's file name, or the field name when it sent none; only for messages.
    pub name: String,
    pub bytes: Bytes,
}

/// The form of one `POST /gen`, read but not yet decoded.
#[derive(Debug)]
pub struct GenRequest {
    /// `file`: the sketch (jpg, jpeg or png by name; any supported format by content).
    pub file: Upload,
    /// `size`: the side of the face in pixels, when not the model's resolution.
    pub size: Option<u32>,
    /// `seed`: picks one face among the many a sketch allows (contract v2 models).
    pub seed: Option<u64>,
    /// `hints`: an RGBA image of colour hints (contract v2 models, and face pipeline v3).
    pub hints: Option<Upload>,
    /// `look`: a photo of one face, whose face becomes the exemplar (face pipeline v3).
    pub look: Option<Upload>,
}

/// What the engine is handed: the cleaned-up sketch and the optional inputs.
#[derive(Debug)]
pub struct FaceInput {
    pub sketch: GrayImage,
    pub seed: Option<u64>,
    pub hints: Option<RgbaImage>,
    /// The look photo, decoded; the session finds its face.
    pub look: Option<RgbImage>,
}

impl GenRequest {
    /// Reads every part of the form. Parts with other names are skipped, as the 2017 server did.
    /// A bad part is reported only once the whole form is read: a client still sending when
    /// the answer comes would see its connection reset instead of the answer.
    pub async fn read(mut form: Multipart) -> Result<GenRequest, ServeError> {
        let mut file = None;
        let mut size = None;
        let mut seed = None;
        let mut hints = None;
        let mut look = None;
        let mut first_error = None;
        while let Some(field) = form.next_field().await? {
            if first_error.is_some() {
                continue; // `next_field` reads past the rest of this one
            }
            let read = match field.name() {
                Some("file") => {
                    let name = field.file_name().unwrap_or_default().to_owned();
                    if has_allowed_extension(&name) {
                        let upload = read_upload(field, name).await?;
                        set_once(&mut file, "file", upload)
                    } else {
                        Err(ServeError::UnsupportedExtension)
                    }
                }
                Some("size") => {
                    let text = field.text().await?;
                    parse_size(&text).and_then(|value| set_once(&mut size, "size", value))
                }
                Some("seed") => {
                    let text = field.text().await?;
                    parse_seed(&text).and_then(|value| set_once(&mut seed, "seed", value))
                }
                Some("hints") => {
                    let name = field.file_name().unwrap_or("hints").to_owned();
                    let upload = read_upload(field, name).await?;
                    set_once(&mut hints, "hints", upload)
                }
                Some("look") => {
                    let name = field.file_name().unwrap_or("look").to_owned();
                    let upload = read_upload(field, name).await?;
                    set_once(&mut look, "look", upload)
                }
                _ => Ok(()),
            };
            first_error = read.err();
        }
        if let Some(error) = first_error {
            return Err(error);
        }
        Ok(GenRequest {
            file: file.ok_or(ServeError::MissingFile)?,
            size,
            seed,
            hints,
            look,
        })
    }

    /// Decodes and cleans up the sketch the way `generate` does, and decodes the hints, with
    /// the limits of sketch files. CPU work: call it off the async threads.
    pub fn decode(self) -> Result<FaceInput, ServeError> {
        let sketch =
            decode_sketch(&self.file.bytes, Path::new(&self.file.name)).map_err(|source| {
                ServeError::BadImage {
                    field: "file",
                    source,
                }
            })?;
        let hints = decode_part(self.hints, "hints")?.map(|image| image.into_rgba8());
        let look = decode_part(self.look, "look")?.map(|image| image.into_rgb8());
        Ok(FaceInput {
            sketch,
            seed: self.seed,
            hints,
            look,
        })
    }
}

/// An optional image part decoded with the limits of sketch files; a bad one is named.
fn decode_part(
    upload: Option<Upload>,
    field: &'static str,
) -> Result<Option<DynamicImage>, ServeError> {
    upload
        .map(|upload| decode_image(&upload.bytes, Path::new(&upload.name)))
        .transpose()
        .map_err(|source| ServeError::BadImage { field, source })
}

async fn read_upload(field: Field<'_>, name: String) -> Result<Upload, ServeError> {
    Ok(Upload {
        name,
        bytes: field.bytes().await?,
    })
}

fn set_once<T>(slot: &mut Option<T>, field: &'static str, value: T) -> Result<(), ServeError> {
    if slot.replace(value).is_some() {
        return Err(ServeError::BadField {
            field,
            reason: "is given more than once".to_owned(),
        });
    }
    Ok(())
}

fn parse_size(text: &str) -> Result<u32, ServeError> {
    let bad = || ServeError::BadField {
        field: "size",
        reason: format!("must be a whole number of pixels from 1 to {MAX_SIZE}, not `{text}`"),
    };
    let size: u32 = text.trim().parse().map_err(|_| bad())?;
    if !(1..=MAX_SIZE).contains(&size) {
        return Err(bad());
    }
    Ok(size)
}

fn parse_seed(text: &str) -> Result<u64, ServeError> {
    text.trim().parse().map_err(|_| ServeError::BadField {
        field: "seed",
        reason: format!(
            "must be a whole number from 0 to {}, not `{text}`",
            u64::MAX
        ),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn size_is_a_whole_number_of_pixels_within_the_limit() {
        assert_eq!(parse_size("1").unwrap(), 1);
        assert_eq!(parse_size(" 512\r\n").unwrap(), 512);
        assert_eq!(parse_size("2048").unwrap(), MAX_SIZE);
        for text in ["0", "2049", "-5", "12.5", "big", ""] {
            let error = parse_size(text).unwrap_err();
            assert!(
                matches!(error, ServeError::BadField { field: "size", .. }),
                "{text}: {error:?}"
            );
            assert!(error.to_string().contains("from 1 to 2048"), "{error}");
        }
    }

    #[test]
    fn seed_takes_every_u64() {
        assert_eq!(parse_seed("0").unwrap(), 0);
        assert_eq!(parse_seed("18446744073709551615").unwrap(), u64::MAX);
        for text in ["-1", "18446744073709551616", "0x10", "seven"] {
            assert!(parse_seed(text).is_err(), "{text}");
        }
    }

    #[test]
    fn a_field_given_twice_is_refused() {
        let mut slot = None;
        set_once(&mut slot, "size", 1).unwrap();
        let error = set_once(&mut slot, "size", 2).unwrap_err();
        assert_eq!(
            error.to_string(),
            "form field `size` is given more than once"
        );
    }

    #[test]
    fn hints_are_decoded_to_rgba_and_a_bad_hints_part_is_named() {
        let mut png = Vec::new();
        image::GrayImage::from_pixel(8, 8, image::Luma([30]))
            .write_to(&mut std::io::Cursor::new(&mut png), image::ImageFormat::Png)
            .unwrap();
        let request = |hints: &[u8]| GenRequest {
            file: Upload {
                name: "sketch.png".to_owned(),
                bytes: Bytes::from(png.clone()),
            },
            size: None,
            seed: Some(7),
            hints: Some(Upload {
                name: "hints.png".to_owned(),
                bytes: Bytes::copy_from_slice(hints),
            }),
            look: None,
        };
        let input = request(&png).decode().unwrap();
        assert_eq!(input.seed, Some(7));
        let hints = input.hints.unwrap();
        assert_eq!(hints.dimensions(), (8, 8));
        assert_eq!(hints.get_pixel(0, 0).0, [30, 30, 30, 255]);

        let error = request(b"not an image").decode().unwrap_err();
        assert!(
            matches!(error, ServeError::BadImage { field: "hints", .. }),
            "{error:?}"
        );
    }
}

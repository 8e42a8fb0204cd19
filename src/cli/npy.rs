//! The little of NumPy's `.npy` format the training tools exchange with the engine: reading a
//! C-ordered little-endian float32 array, and writing a uint8 one row by row (so a file of
//! gigabytes never sits in memory). Anything else is refused with what was found.

use std::io::{Read, Write};

use anyhow::{Context, bail, ensure};

const MAGIC: &[u8] = b"\x93NUMPY";
/// A header longer than this is not one NumPy writes for the arrays read here.
const MAX_HEADER: usize = 1 << 16;

/// A float32 array read from a `.npy` file: its shape and its numbers, C order.
#[derive(Clone, Debug, PartialEq)]
pub struct F32Array {
    pub shape: Vec<usize>,
    pub data: Vec<f32>,
}

/// Reads a `.npy` float32 array (`<f4`, C order, version 1 to 3), checking the header's shape
/// against the bytes there are before allocating.
pub fn read_f32(mut reader: impl Read, total_len: u64) -> anyhow::Result<F32Array> {
    let mut prefix = [0u8; 8];
    reader.read_exact(&mut prefix).context("too short for a .npy file")?;
    ensure!(&prefix[..6] == MAGIC, "not a .npy file (no \\x93NUMPY at its start)");
    let (header_len, prefix_len) = match prefix[6] {
        1 => {
            let mut len = [0u8; 2];
            reader.read_exact(&mut len).context("the .npy header is cut off")?;
            (u16::from_le_bytes(len) as usize, 10)
        }
        2 | 3 => {
            let mut len = [0u8; 4];
            reader.read_exact(&mut len).context("the .npy header is cut off")?;
            (u32::from_le_bytes(len) as usize, 12)
        }
        version => bail!(".npy format version {version} is not supported (1 to 3 are)"),
    };
    ensure!(header_len <= MAX_HEADER, "the .npy header claims {header_len} bytes");
    let mut header = vec![0u8; header_len];
    reader.read_exact(&mut header).context("the .npy header is cut off")?;
    let header = String::from_utf8(header).context("the .npy header is not text")?;

    let descr = dict_value(&header, "descr").context("the .npy header has no 'descr'")?;
    ensure!(descr == "'<f4'", "the array holds {descr}, float32 ('<f4') is needed");
    let fortran = dict_value(&header, "fortran_order").context("the .npy header has no 'fortran_order'")?;
    ensure!(fortran == "False", "the array is in Fortran order, C order is needed");
    let shape_text = dict_value(&header, "shape").context("the .npy header has no 'shape'")?;
    let shape = parse_shape(&shape_text).with_context(|| format!("the .npy shape {shape_text} cannot be read"))?;

    let count = shape.iter().try_fold(1usize, |n, &d| n.checked_mul(d)).context("the .npy shape overflows")?;
    let bytes = count.checked_mul(4).context("the .npy shape overflows")?;
    let available = total_len.saturating_sub((prefix_len + header_len) as u64);
    ensure!(
        bytes as u64 == available,
        "the .npy shape {shape:?} needs {bytes} bytes of data, the file holds {available}"
    );
    let mut raw = vec![0u8; bytes];
    reader.read_exact(&mut raw).context("the .npy data is cut off")?;
    let data = raw.chunks_exact(4).map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]])).collect();
    Ok(F32Array { shape, data })
}

/// The text of `key`'s value in a .npy header dict (`{'descr': '<f4', 'shape': (3, 4), ...}`).
fn dict_value(header: &str, key: &str) -> Option<String> {
    let start = header.find(&format!("'{key}'"))? + key.len() + 2;
    let rest = header[start..].trim_start().strip_prefix(':')?.trim_start();
    let end = if rest.starts_with('(') { rest.find(')')? + 1 } else { rest.find([',', '}'])? };
    Some(rest[..end].trim().to_owned())
}

fn parse_shape(text: &str) -> Option<Vec<usize>> {
    let inner = text.strip_prefix('(')?.strip_suffix(')')?;
    inner.split(',').map(str::trim).filter(|d| !d.is_empty()).map(|d| d.parse().ok()).collect()
}

/// Writes the header of a uint8 `.npy` array of `shape` (version 1, C order), padded as NumPy
/// pads it; the caller then writes exactly the product of `shape` bytes.
pub fn write_u8_header(mut writer: impl Write, shape: &[usize]) -> std::io::Result<()> {
    let dims: Vec<String> = shape.iter().map(usize::to_string).collect();
    let shape = match dims.len() {
        1 => format!("({},)", dims[0]),
        _ => format!("({})", dims.join(", ")),
    };
    let mut header = format!("{{'descr': '|u1', 'fortran_order': False, 'shape': {shape}, }}");
    // The data starts at a multiple of 64 bytes; the header ends with a newline.
    let unpadded = MAGIC.len() + 4 + header.len() + 1;
    header.push_str(&" ".repeat(unpadded.next_multiple_of(64) - unpadded));
    header.push('\n');
    writer.write_all(MAGIC)?;
    writer.write_all(&[1, 0])?;
    writer.write_all(&(header.len() as u16).to_le_bytes())?;
    writer.write_all(header.as_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn f32_file(header: &str, data: &[f32]) -> Vec<u8> {
        let mut bytes = MAGIC.to_vec();
        bytes.extend([1, 0]);
        bytes.extend((header.len() as u16).to_le_bytes());
        bytes.extend(header.as_bytes());
        bytes.extend(data.iter().flat_map(|v| v.to_le_bytes()));
        bytes
    }

    fn read(bytes: &[u8]) -> anyhow::Result<F32Array> {
        read_f32(bytes, bytes.len() as u64)
    }

    #[test]
    fn reads_what_numpy_writes() {
        let header = "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }          \n";
        let array = read(&f32_file(header, &[1.0, 2.0, 3.0, 4.0, 5.0, -6.5])).unwrap();
        assert_eq!(array.shape, vec![2, 3]);
        assert_eq!(array.data, vec![1.0, 2.0, 3.0, 4.0, 5.0, -6.5]);
        let header = "{'descr': '<f4', 'fortran_order': False, 'shape': (4,), }\n";
        assert_eq!(read(&f32_file(header, &[0.0; 4])).unwrap().shape, vec![4]);
    }

    #[test]
    fn refuses_other_types_orders_and_sizes_with_what_was_found() {
        let message = |header: &str, data: &[f32]| format!("{:#}", read(&f32_file(header, data)).unwrap_err());
        let double = "{'descr': '<f8', 'fortran_order': False, 'shape': (2,), }\n";
        assert!(message(double, &[0.0; 4]).contains("'<f8'"));
        let fortran = "{'descr': '<f4', 'fortran_order': True, 'shape': (2,), }\n";
        assert!(message(fortran, &[0.0; 2]).contains("Fortran"));
        let short = "{'descr': '<f4', 'fortran_order': False, 'shape': (1000000000, 1000), }\n";
        let text = message(short, &[0.0; 2]);
        assert!(text.contains("needs 4000000000000 bytes") && text.contains("holds 8"), "{text}");
        let overflow = "{'descr': '<f4', 'fortran_order': False, 'shape': (18446744073709551615, 2), }\n";
        assert!(message(overflow, &[0.0; 2]).contains("overflows"));
        assert!(format!("{:#}", read(b"PK\x03\x04 not numpy").unwrap_err()).contains("not a .npy file"));
        assert!(read(&MAGIC[..4]).is_err());
    }

    #[test]
    fn a_written_header_reads_back_and_aligns_the_data() {
        let mut bytes = Vec::new();
        write_u8_header(&mut bytes, &[3, 2, 256, 256, 3]).unwrap();
        assert_eq!(bytes.len() % 64, 0);
        let header = std::str::from_utf8(&bytes[10..]).unwrap();
        assert!(header.ends_with('\n'));
        assert_eq!(dict_value(header, "descr").as_deref(), Some("'|u1'"));
        assert_eq!(parse_shape(&dict_value(header, "shape").unwrap()), Some(vec![3, 2, 256, 256, 3]));
    }
}

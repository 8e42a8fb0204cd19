//! A bounded reader of an ONNX file's protobuf wire format: enough to tell whether the bytes are
//! an ONNX model at all, and which tensors keep their data in other files.
//!
//! ONNX Runtime reads a tensor whose `data_location` is `EXTERNAL` from the file its
//! `external_data` entry `location` names, relative to the model's folder. It refuses paths that
//! leave the folder, but reads any file inside it: a model could copy the bytes of a neighbouring
//! file into the face it paints. [`scan_model`] finds every such tensor before ONNX Runtime opens
//! the model, wherever the format allows one (field numbers from `onnx/onnx.proto`):
//!
//! - `ModelProto`: `graph` (7), `training_info` (20), `functions` (25);
//! - `GraphProto`: `node` (1), `initializer` (5), `sparse_initializer` (15);
//! - `NodeProto`: `attribute` (5), so `Constant` values and the subgraphs of `If`, `Loop`, `Scan`;
//! - `AttributeProto`: `t` (5), `g` (6), `tensors` (10), `graphs` (11), `sparse_tensor` (22),
//!   `sparse_tensors` (23);
//! - `SparseTensorProto`: `values` (1), `indices` (2);
//! - `FunctionProto`: `node` (7), `attribute_proto` (11);
//! - `TrainingInfoProto`: `initialization` (1), `algorithm` (2);
//! - `TensorProto`: `name` (8), `external_data` (13), `data_location` (14).
//!
//! Every other field is skipped by its wire type, as protobuf skips unknown fields. The reader
//! never panics and never allocates more than the names it reports: lengths are checked against
//! the bytes that are left, nesting is limited to [`MAX_DEPTH`], and at most
//! [`MAX_REPORTED`] tensors are named.

use std::fmt;

/// Deepest nesting of messages (and groups) read; protobuf's own parser stops at 100.
pub const MAX_DEPTH: usize = 64;
/// Most external tensors named in a [`ModelScan`]; the rest are only counted.
pub const MAX_REPORTED: usize = 8;
/// Longest tensor name or location kept, in characters.
const MAX_NAME_CHARS: usize = 120;

/// `TensorProto.DataLocation.EXTERNAL`.
const EXTERNAL: i32 = 1;

/// What the scan found in a model file.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ModelScan {
    /// The first [`MAX_REPORTED`] tensors whose data is in other files.
    pub external: Vec<ExternalTensor>,
    /// How many tensors have their data in other files, named or not.
    pub external_count: usize,
}

/// A tensor whose data ONNX Runtime would read from another file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ExternalTensor {
    /// The tensor's name (may be empty).
    pub name: String,
    /// The file its `external_data` entry `location` names (empty when there is none).
    pub location: String,
}

impl fmt::Display for ExternalTensor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "`{}` in \"{}\"", self.name, self.location)
    }
}

/// Why the bytes are not an ONNX model: what is wrong, and at which byte.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{what} (at byte {offset})")]
pub struct NotOnnx {
    pub offset: usize,
    pub what: &'static str,
}

/// Reads `bytes` as an ONNX `ModelProto` and lists the tensors whose data is in other files.
///
/// Refuses what protobuf itself would refuse (truncated or malformed fields, nesting deeper than
/// [`MAX_DEPTH`]) and a message without a graph, which no ONNX model lacks.
pub fn scan_model(bytes: &[u8]) -> Result<ModelScan, NotOnnx> {
    if bytes.is_empty() {
        return Err(NotOnnx {
            offset: 0,
            what: "the file is empty",
        });
    }
    let mut scan = Scanner {
        found: ModelScan::default(),
        has_graph: false,
    };
    scan.message(bytes, 0, Kind::Model, 0)?;
    if !scan.has_graph {
        return Err(NotOnnx {
            offset: 0,
            what: "no graph (ModelProto field 7): not an ONNX model",
        });
    }
    Ok(scan.found)
}

/// The messages the scan looks into.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kind {
    Model,
    Graph,
    Node,
    Attribute,
    Tensor,
    SparseTensor,
    Function,
    TrainingInfo,
    /// `StringStringEntryProto`, the tensor's `external_data` entries.
    Entry,
}

impl Kind {
    /// The kind of message in field `field` of a `self`, when it is one the scan reads.
    fn child(self, field: u32) -> Option<Kind> {
        use Kind::*;
        Some(match (self, field) {
            (Model, 7) | (Attribute, 6 | 11) | (TrainingInfo, 1 | 2) => Graph,
            (Model, 20) => TrainingInfo,
            (Model, 25) => Function,
            (Graph, 1) | (Function, 7) => Node,
            (Node, 5) | (Function, 11) => Attribute,
            (Graph, 5) | (Attribute, 5 | 10) | (SparseTensor, 1 | 2) => Tensor,
            (Graph, 15) | (Attribute, 22 | 23) => SparseTensor,
            (Tensor, 13) => Entry,
            _ => return None,
        })
    }
}

/// One field's value, by wire type.
enum Value<'a> {
    Varint(u64),
    Bytes(&'a [u8]),
    /// Fixed-width values and groups, which the scan never looks into.
    Skipped,
}

/// What a tensor message holds that matters here.
#[derive(Default)]
struct TensorFields {
    name: Option<String>,
    location: Option<String>,
    external: bool,
}

struct Scanner {
    found: ModelScan,
    has_graph: bool,
}

impl Scanner {
    /// Reads the message `bytes` (starting at `base` in the file) of kind `kind`, `depth` levels
    /// down, and returns the tensor fields when it is a tensor or an entry of one.
    fn message(
        &mut self,
        bytes: &[u8],
        base: usize,
        kind: Kind,
        depth: usize,
    ) -> Result<TensorFields, NotOnnx> {
        if depth > MAX_DEPTH {
            return Err(NotOnnx {
                offset: base,
                what: "messages nested too deeply",
            });
        }
        let mut tensor = TensorFields::default();
        let mut entry_key: Option<&[u8]> = None;
        let mut entry_value: Option<&[u8]> = None;
        let mut reader = Reader { bytes, at: 0, base };
        while !reader.done() {
            let (field, value) = reader.field(depth)?;
            match value {
                Value::Bytes(inner) => {
                    let start = base + reader.at - inner.len();
                    if let Some(child) = kind.child(field) {
                        if kind == Kind::Model && child == Kind::Graph {
                            self.has_graph = true;
                        }
                        let fields = self.message(inner, start, child, depth + 1)?;
                        match child {
                            Kind::Tensor => self.tensor(fields),
                            Kind::Entry => {
                                if fields.name.as_deref() == Some("location") {
                                    tensor.location = fields.location;
                                }
                            }
                            _ => {}
                        }
                    } else if kind == Kind::Tensor && field == 8 {
                        tensor.name = Some(short_text(inner));
                    } else if kind == Kind::Entry && field == 1 {
                        entry_key = Some(inner);
                    } else if kind == Kind::Entry && field == 2 {
                        entry_value = Some(inner);
                    }
                }
                // protobuf reads an enum as an int32: only the low 32 bits count.
                Value::Varint(v) if kind == Kind::Tensor && field == 14 => {
                    if v as i32 == EXTERNAL {
                        tensor.external = true;
                    }
                }
                Value::Varint(_) | Value::Skipped => {}
            }
        }
        if kind == Kind::Entry {
            // An entry reports its key as the name and its value as the location.
            return Ok(TensorFields {
                name: entry_key.map(short_text),
                location: entry_value.map(short_text),
                external: false,
            });
        }
        Ok(tensor)
    }

    fn tensor(&mut self, fields: TensorFields) {
        if !fields.external {
            return;
        }
        self.found.external_count += 1;
        if self.found.external.len() < MAX_REPORTED {
            self.found.external.push(ExternalTensor {
                name: fields.name.unwrap_or_default(),
                location: fields.location.unwrap_or_default(),
            });
        }
    }
}

/// A cursor over one message's bytes; `base` is where they start in the file, for errors.
struct Reader<'a> {
    bytes: &'a [u8],
    at: usize,
    base: usize,
}

impl<'a> Reader<'a> {
    fn done(&self) -> bool {
        self.at >= self.bytes.len()
    }

    fn error(&self, what: &'static str) -> NotOnnx {
        NotOnnx {
            offset: self.base + self.at,
            what,
        }
    }

    fn varint(&mut self) -> Result<u64, NotOnnx> {
        let mut value = 0u64;
        for shift in (0..70).step_by(7) {
            let Some(&byte) = self.bytes.get(self.at) else {
                return Err(self.error("truncated number"));
            };
            self.at += 1;
            if shift == 63 && byte > 1 {
                return Err(self.error("number longer than 64 bits"));
            }
            value |= u64::from(byte & 0x7f) << shift;
            if byte & 0x80 == 0 {
                return Ok(value);
            }
        }
        Err(self.error("number longer than 10 bytes"))
    }

    fn take(&mut self, len: u64) -> Result<&'a [u8], NotOnnx> {
        let left = self.bytes.len() - self.at;
        let len = usize::try_from(len)
            .ok()
            .filter(|&len| len <= left)
            .ok_or_else(|| self.error("a field is longer than the bytes that are left"))?;
        let taken = &self.bytes[self.at..self.at + len];
        self.at += len;
        Ok(taken)
    }

    /// The next field's number and value. A group (wire types 3 and 4, which ONNX never uses) is
    /// skipped whole, `depth` levels down.
    fn field(&mut self, depth: usize) -> Result<(u32, Value<'a>), NotOnnx> {
        let start = self.at;
        let key = self.varint()?;
        let field = u32::try_from(key >> 3)
            .ok()
            .filter(|&field| field != 0 && field < 1 << 29)
            .ok_or_else(|| NotOnnx {
                offset: self.base + start,
                what: "bad field number",
            })?;
        let value = match key & 7 {
            0 => Value::Varint(self.varint()?),
            1 => {
                self.take(8)?;
                Value::Skipped
            }
            2 => {
                let len = self.varint()?;
                Value::Bytes(self.take(len)?)
            }
            3 => {
                self.skip_group(field, depth + 1)?;
                Value::Skipped
            }
            4 => {
                return Err(NotOnnx {
                    offset: self.base + start,
                    what: "the end of a group that was never started",
                });
            }
            5 => {
                self.take(4)?;
                Value::Skipped
            }
            _ => {
                return Err(NotOnnx {
                    offset: self.base + start,
                    what: "unknown wire type",
                });
            }
        };
        Ok((field, value))
    }

    /// Skips the fields of group `field` up to and including its end marker.
    fn skip_group(&mut self, field: u32, depth: usize) -> Result<(), NotOnnx> {
        if depth > MAX_DEPTH {
            return Err(self.error("groups nested too deeply"));
        }
        loop {
            if self.done() {
                return Err(self.error("a group without its end"));
            }
            let start = self.at;
            let key = self.varint()?;
            if key & 7 == 4 {
                return if key >> 3 == u64::from(field) {
                    Ok(())
                } else {
                    Err(NotOnnx {
                        offset: self.base + start,
                        what: "the end of another group",
                    })
                };
            }
            self.at = start;
            self.field(depth)?;
        }
    }
}

/// Bytes as text for a message: lossy UTF-8, at most [`MAX_NAME_CHARS`] characters.
fn short_text(bytes: &[u8]) -> String {
    let text = String::from_utf8_lossy(&bytes[..bytes.len().min(4 * MAX_NAME_CHARS)]);
    let mut short: String = text.chars().take(MAX_NAME_CHARS).collect();
    if short.len() < text.len() || bytes.len() > 4 * MAX_NAME_CHARS {
        short.push('…');
    }
    short
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A tiny protobuf writer for the tests: fields in wire format.
    fn key(field: u32, wire: u8) -> Vec<u8> {
        varint(u64::from(field) << 3 | u64::from(wire))
    }

    fn varint(mut value: u64) -> Vec<u8> {
        let mut out = Vec::new();
        loop {
            let byte = (value & 0x7f) as u8;
            value >>= 7;
            if value == 0 {
                out.push(byte);
                return out;
            }
            out.push(byte | 0x80);
        }
    }

    fn bytes_field(field: u32, bytes: &[u8]) -> Vec<u8> {
        let mut out = key(field, 2);
        out.extend(varint(bytes.len() as u64));
        out.extend_from_slice(bytes);
        out
    }

    fn varint_field(field: u32, value: u64) -> Vec<u8> {
        let mut out = key(field, 0);
        out.extend(varint(value));
        out
    }

    fn entry(k: &str, v: &str) -> Vec<u8> {
        [bytes_field(1, k.as_bytes()), bytes_field(2, v.as_bytes())].concat()
    }

    /// A TensorProto named `name`, external in `location` when given.
    fn tensor(name: &str, location: Option<&str>) -> Vec<u8> {
        let mut out = [
            varint_field(1, 4),
            varint_field(2, 1),
            bytes_field(8, name.as_bytes()),
        ]
        .concat();
        if let Some(location) = location {
            out.extend(bytes_field(13, &entry("location", location)));
            out.extend(bytes_field(13, &entry("offset", "0")));
            out.extend(varint_field(14, 1));
        }
        out
    }

    fn model(graph: &[u8]) -> Vec<u8> {
        [varint_field(1, 8), bytes_field(7, graph)].concat()
    }

    fn names(scan: &ModelScan) -> Vec<String> {
        scan.external.iter().map(ToString::to_string).collect()
    }

    #[test]
    fn a_model_without_external_data_passes() {
        let graph = [bytes_field(5, &tensor("w", None)), bytes_field(2, b"g")].concat();
        assert_eq!(scan_model(&model(&graph)), Ok(ModelScan::default()));
    }

    #[test]
    fn finds_external_initializers_with_their_files() {
        let graph = [
            bytes_field(5, &tensor("kept", None)),
            bytes_field(5, &tensor("w", Some("weights.bin"))),
            bytes_field(15, &bytes_field(1, &tensor("sparse", Some("../s.bin")))),
        ]
        .concat();
        let scan = scan_model(&model(&graph)).unwrap();
        assert_eq!(
            names(&scan),
            ["`w` in \"weights.bin\"", "`sparse` in \"../s.bin\""]
        );
        assert_eq!(scan.external_count, 2);
    }

    #[test]
    fn finds_external_constants_in_nested_subgraphs_and_functions() {
        let constant = |name, location| {
            let attribute = [
                bytes_field(1, b"value"),
                bytes_field(5, &tensor(name, Some(location))),
            ]
            .concat();
            [bytes_field(4, b"Constant"), bytes_field(5, &attribute)].concat()
        };
        // If node -> attribute `then_branch` (g) -> graph -> Constant node -> attribute t.
        let inner = bytes_field(1, &constant("deep", "a.bin"));
        let branch = [bytes_field(1, b"then_branch"), bytes_field(6, &inner)].concat();
        let if_node = [bytes_field(4, b"If"), bytes_field(5, &branch)].concat();
        let function = bytes_field(7, &constant("in_function", "b.bin"));
        let training = bytes_field(2, &bytes_field(5, &tensor("trained", Some("c.bin"))));
        let file = [
            model(&bytes_field(1, &if_node)),
            bytes_field(25, &function),
            bytes_field(20, &training),
        ]
        .concat();
        let scan = scan_model(&file).unwrap();
        assert_eq!(
            names(&scan),
            [
                "`deep` in \"a.bin\"",
                "`in_function` in \"b.bin\"",
                "`trained` in \"c.bin\""
            ]
        );
    }

    #[test]
    fn data_location_counts_as_protobuf_reads_it() {
        // An overlong encoding of 1 and a value whose low 32 bits are 1 are both EXTERNAL; 2 is
        // an unknown enum value, which protobuf keeps aside: the data stays in the file.
        for (value, external) in [(1 << 32 | 1, true), (2, false), (0, false)] {
            let t = [bytes_field(8, b"t"), varint_field(14, value)].concat();
            let scan = scan_model(&model(&bytes_field(5, &t))).unwrap();
            assert_eq!(
                scan.external_count,
                usize::from(external),
                "data_location {value}"
            );
        }
        let overlong = [bytes_field(8, b"t"), key(14, 0), vec![0x81, 0x80, 0x00]].concat();
        assert_eq!(
            scan_model(&model(&bytes_field(5, &overlong)))
                .unwrap()
                .external_count,
            1
        );
    }

    #[test]
    fn counts_every_external_tensor_but_names_a_few() {
        let graph: Vec<u8> = (0..20)
            .flat_map(|i| bytes_field(5, &tensor(&format!("w{i}"), Some("x"))))
            .collect();
        let scan = scan_model(&model(&graph)).unwrap();
        assert_eq!(
            (scan.external.len(), scan.external_count),
            (MAX_REPORTED, 20)
        );
    }

    #[test]
    fn what_is_not_onnx_is_told_with_where() {
        let refused = |bytes: &[u8]| scan_model(bytes).unwrap_err().to_string();
        assert_eq!(refused(b""), "the file is empty (at byte 0)");
        assert!(refused(b"this is not a protobuf").contains("group"));
        assert!(refused(b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR").contains("at byte"));
        assert!(refused(&varint_field(1, 8)).contains("no graph"));
        // A length past the end, inside the graph.
        let mut cut = model(&bytes_field(5, &tensor("w", None)));
        cut.truncate(cut.len() - 2);
        let error = scan_model(&cut).unwrap_err();
        assert_eq!(error.what, "a field is longer than the bytes that are left");
        // Wire types 6 and 7 do not exist; field number 0 neither.
        assert_eq!(scan_model(&[0x0e]).unwrap_err().what, "unknown wire type");
        assert_eq!(
            scan_model(&[0x00, 0x00]).unwrap_err().what,
            "bad field number"
        );
        assert_eq!(
            scan_model(&[0x08, 0xff]).unwrap_err().what,
            "truncated number"
        );
        let eleven = [
            0x08, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01,
        ];
        assert!(
            scan_model(&eleven)
                .unwrap_err()
                .what
                .contains("number longer")
        );
    }

    #[test]
    fn nesting_is_bounded_without_exhausting_the_stack() {
        // Graphs in attributes in nodes in graphs, far deeper than any model.
        let mut graph = Vec::new();
        for _ in 0..200 {
            let attribute = bytes_field(6, &graph);
            let node = bytes_field(5, &attribute);
            graph = bytes_field(1, &node);
        }
        let error = scan_model(&model(&graph)).unwrap_err();
        assert_eq!(error.what, "messages nested too deeply");
        // Groups nest too: 100k start markers.
        let groups = [varint_field(1, 8), vec![0x0b; 100_000]].concat();
        assert!(scan_model(&groups).unwrap_err().what.contains("group"));
    }

    #[test]
    fn groups_are_skipped_like_unknown_fields() {
        // Field 99 as a group holding a varint, then the graph.
        let group = [key(99, 3), varint_field(1, 5), key(99, 4)].concat();
        let file = [group, model(&bytes_field(5, &tensor("w", Some("x"))))].concat();
        assert_eq!(scan_model(&file).unwrap().external_count, 1);
        let unclosed = [key(99, 3), varint_field(1, 5)].concat();
        assert_eq!(
            scan_model(&unclosed).unwrap_err().what,
            "a group without its end"
        );
        let crossed = [key(99, 3), key(98, 4)].concat();
        assert_eq!(
            scan_model(&crossed).unwrap_err().what,
            "the end of another group"
        );
    }

    #[test]
    fn long_names_are_shortened() {
        let long = "n".repeat(1000);
        let scan = scan_model(&model(&bytes_field(5, &tensor(&long, Some("x"))))).unwrap();
        assert_eq!(scan.external[0].name.chars().count(), MAX_NAME_CHARS + 1);
        assert!(scan.external[0].name.ends_with('…'));
    }
}

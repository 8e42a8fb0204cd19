"""The face detector for photos (issue 26, item 3): MediaPipe's BlazeFace short-range detector,
converted to ONNX as it is (no training).

The mesh model (training/mesh.py) is fine-tuned on drawings; its presence score fires on cats and
coffee cups, so it cannot say whether a "look" photo holds no face, one or several. BlazeFace
short-range (face_detection_short_range.tflite, Apache-2.0, inside the mediapipe 0.10.14 wheel)
can: it finds faces that fill a good part of a 128 px frame, and the engine
(`src/engine/detect.rs`) also runs it on overlapping tiles of a large photo for small faces.

    python -m training.detect export                 # -> models/face-detect-v3.onnx
    .venv-landmarks/bin/python -m training.detect reference --photos DIR --count 100
    python -m training.detect hostile-models         # -> tests/data/contract/detect_*.onnx

`export` converts the network the way `make mesh-base` converts the mesh network: tf2onnx in its
own venv (CONVERT_VENV, tensorflow-cpu + tf2onnx), here at opset 17; then makes the batch symbolic,
adds the contract's metadata and checks that ONNX Runtime's outputs match the TFLite
interpreter's (run in the convert venv) on the test photos, refusing to write the model when they
differ by more than PARITY_TOLERANCE. `reference` counts the faces MediaPipe's own detector finds
in the first photos of a folder (its figures are what the engine's single-pass detection should
come close to).

The exported model's contract (checked by the engine at load): input `input` float32
[N, 128, 128, 3] (NHWC, RGB scaled to -1..1, the photo letterboxed into the square with black);
outputs `regressors` float32 [N, 896, 16] (per anchor: box centre x, y, width, height, then six
keypoints x, y, all in input pixels relative to the anchor's centre) and `classificators`
float32 [N, 896, 1] (the logit of a face). Metadata `sketch2face.contract` = `detect-1`,
`sketch2face.input_side` = 128, `sketch2face.anchor_strides` = "8,16,16,16" (one layer of anchors
per stride, two anchors a cell per layer, layers of one stride sharing a grid: 16x16x2 + 8x8x6 =
896, in MediaPipe's order: row, column, anchor), `sketch2face.box_scale` = 128 (what divides a
regressor to give fractions of the input), `sketch2face.score_clip` = 100 (logits are clipped to
+-100 before the sigmoid), `sketch2face.keypoints` (their names, in order), and for the record
MediaPipe's own post-processing (`sketch2face.mediapipe_postprocess`: score 0.5, weighted NMS
at IoU 0.3).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np

CONTRACT = "detect-1"
SIDE = 128
ANCHOR_STRIDES = (8, 16, 16, 16)
ANCHORS_PER_LAYER = 2
BOX_SCALE = 128.0
SCORE_CLIP = 100.0
# MediaPipe's own post-processing of this network (the engine keeps faces from 0.6: its README
# section says why).
MEDIAPIPE_MIN_SCORE = 0.5
MEDIAPIPE_NMS_IOU = 0.3
# MediaPipe's names (the person's sides: the "right eye" is on the left of a photo that is not
# mirrored).
KEYPOINTS = ("right_eye", "left_eye", "nose_tip", "mouth_center", "right_ear_tragion", "left_ear_tragion")
TFLITE_NAME = "face_detection_short_range.tflite"
LANDMARKS_VENV = Path(".venv-landmarks")
CONVERT_VENV = Path.home() / ".cache/sketch2face/venv-convert"
# Float32 through two runtimes: the same graph differs by rounding only (measured: 1.7e-4 on
# regressors of up to a few hundred, 2.4e-4 on logits of up to +-100); a wrong conversion differs
# by whole units.
PARITY_TOLERANCE = 1e-3
# Photos for the parity check: the test fixtures, plus the first few of each dataset when present.
PARITY_PHOTOS = ("tests/data/sketchify/astronaut.png", "tests/data/sketchify/astronaut_face.png",
                 "tests/data/sketchify/coffee.png", "tests/data/sketchify/chelsea.png",
                 "tests/data/sketchify/rocket.png")
PARITY_FOLDERS = ("../shared/data/utkface/images", "../shared/data/celeba/images")


def anchor_count(strides=ANCHOR_STRIDES, side: int = SIDE) -> int:
    """MediaPipe's SSD anchors for these strides: each stride's grid once, with the anchors of all
    the layers of that stride in each cell."""
    count = 0
    for stride in sorted(set(strides)):
        grid = -(-side // stride)
        count += grid * grid * ANCHORS_PER_LAYER * strides.count(stride)
    return count


def find_tflite() -> Path:
    """The detector inside the mediapipe wheel of the landmarks venv."""
    python = LANDMARKS_VENV / "bin/python"
    if not python.exists():
        sys.exit(f"error: {python} is missing; `make landmarks` makes the MediaPipe venv (or give --tflite)")
    found = subprocess.run([str(python), "-c", "import mediapipe, pathlib; print(pathlib.Path(mediapipe.__file__).parent)"],
                           check=True, capture_output=True, text=True).stdout.strip()
    return Path(found) / "modules/face_detection" / TFLITE_NAME


def letterbox(rgb: np.ndarray, side: int = SIDE) -> np.ndarray:
    """The photo in the middle of a black square, resized to side x side, RGB in -1..1 (what
    MediaPipe's ImageToTensor gives the detector with keep_aspect_ratio)."""
    import cv2
    h, w = rgb.shape[:2]
    square = max(h, w)
    canvas = np.zeros((square, square, 3), np.uint8)
    top, left = (square - h) // 2, (square - w) // 2
    canvas[top:top + h, left:left + w] = rgb
    resized = cv2.resize(canvas, (side, side), interpolation=cv2.INTER_AREA)
    return resized.astype(np.float32) / 127.5 - 1.0


def parity_inputs() -> np.ndarray:
    """[N, 128, 128, 3]: the parity photos, then one input of noise (all of the input range)."""
    from PIL import Image
    files = [Path(p) for p in PARITY_PHOTOS]
    for folder in map(Path, PARITY_FOLDERS):
        if folder.is_dir():
            files += sorted(folder.iterdir())[:3]
    inputs = [letterbox(np.asarray(Image.open(f).convert("RGB"))) for f in files if f.exists()]
    inputs.append(np.random.default_rng(1).uniform(-1, 1, (SIDE, SIDE, 3)).astype(np.float32))
    return np.stack(inputs)


def batch_dynamic(model):
    """tf2onnx fixes the batch at 1, in the graph's inputs and outputs and in its Reshape shapes
    ([1, -1, 16]). Make it symbolic, so one run reads every tile of a photo: each Reshape gets its
    own shape with the batch -1 and the anchor count fixed (two Reshapes shared one constant, for
    the 512 anchors of the stride-8 head and the 384 of the stride-16 head)."""
    import onnx
    from onnx import numpy_helper
    inferred = onnx.shape_inference.infer_shapes(model)
    shapes = {v.name: [d.dim_value for d in v.type.tensor_type.shape.dim]
              for v in list(inferred.graph.value_info) + list(inferred.graph.output)}
    for value in list(model.graph.input) + list(model.graph.output):
        value.type.tensor_type.shape.dim[0].dim_param = "batch"
    for index, node in enumerate(n for n in model.graph.node if n.op_type == "Reshape"):
        out = shapes[node.output[0]]
        if len(out) != 3 or out[0] != 1 or 0 in out:
            raise SystemExit(f"error: Reshape {node.name} gives {out}, not [1, anchors, values]")
        name = f"batch_reshape_{index}"
        model.graph.initializer.append(numpy_helper.from_array(np.array([-1, out[1], out[2]], np.int64), name))
        node.input[1] = name
    used = {i for n in model.graph.node for i in n.input}
    kept = [t for t in model.graph.initializer if t.name in used]
    del model.graph.initializer[:]
    model.graph.initializer.extend(kept)
    del model.graph.value_info[:]
    return model


def canonical_constants(model):
    """tf2onnx numbers the constants it folds differently from run to run (the same graph, other
    names and order). Name each after where it is first used and sort them, so that one .tflite
    always makes one file."""
    names = {}
    initializers = {t.name for t in model.graph.initializer}
    for index, node in enumerate(model.graph.node):
        for slot, name in enumerate(node.input):
            if name in initializers and name not in names:
                names[name] = f"const_{index:03d}_{slot}"
    for node in model.graph.node:
        for slot, name in enumerate(node.input):
            if name in names:
                node.input[slot] = names[name]
    kept = sorted(model.graph.initializer, key=lambda t: names[t.name])
    for tensor in kept:
        tensor.name = names[tensor.name]
    del model.graph.initializer[:]
    model.graph.initializer.extend(kept)
    return model


def tflite_outputs(args) -> int:
    """Runs in the convert venv (tensorflow): the TFLite interpreter on each input, one at a time
    (the TFLite model's batch is 1)."""
    import tensorflow as tf
    inputs = np.load(args.inputs)
    interpreter = tf.lite.Interpreter(model_path=args.tflite)
    interpreter.allocate_tensors()
    [input_detail] = interpreter.get_input_details()
    outputs = {d["name"]: d["index"] for d in interpreter.get_output_details()}
    regressors, classificators = [], []
    for one in inputs:
        interpreter.set_tensor(input_detail["index"], one[None])
        interpreter.invoke()
        regressors.append(interpreter.get_tensor(outputs["regressors"])[0])
        classificators.append(interpreter.get_tensor(outputs["classificators"])[0])
    np.savez(args.out, regressors=np.stack(regressors), classificators=np.stack(classificators))
    return 0


def export(args) -> int:
    import onnx
    import onnxruntime as ort
    convert_python = Path(args.convert_venv) / "bin/python"
    if not convert_python.exists():
        sys.exit(f"error: {convert_python} is missing; make it with `python3 -m venv {args.convert_venv}` and "
                 f"`{convert_python} -m pip install tensorflow-cpu tf2onnx` (as `make mesh-base` does)")
    tflite = Path(args.tflite) if args.tflite else find_tflite()
    if not tflite.exists():
        sys.exit(f"error: {tflite} not found")
    out = Path(args.out)
    with tempfile.TemporaryDirectory() as work:
        converted = Path(work) / "converted.onnx"
        subprocess.run([str(convert_python), "-m", "tf2onnx.convert", "--tflite", str(tflite),
                        "--output", str(converted), "--opset", "17"], check=True, capture_output=not args.verbose)
        model = canonical_constants(batch_dynamic(onnx.load(str(converted))))
        # tf2onnx writes the .tflite's absolute path here; the file says where it came from below.
        model.graph.doc_string = f"MediaPipe {TFLITE_NAME}, converted by tf2onnx"
        names = ([i.name for i in model.graph.input], [o.name for o in model.graph.output])
        if names != (["input"], ["regressors", "classificators"]):
            sys.exit(f"error: the converted model has inputs and outputs {names}, not input -> regressors, classificators")
        anchors = anchor_count()
        metadata = {"sketch2face.contract": CONTRACT, "sketch2face.input_side": str(SIDE),
                    "sketch2face.input_range": "-1,1",
                    "sketch2face.anchor_strides": ",".join(map(str, ANCHOR_STRIDES)),
                    "sketch2face.anchors": str(anchors), "sketch2face.box_scale": f"{BOX_SCALE:g}",
                    "sketch2face.score_clip": f"{SCORE_CLIP:g}", "sketch2face.keypoints": ",".join(KEYPOINTS),
                    "sketch2face.mediapipe_postprocess": f"score >= {MEDIAPIPE_MIN_SCORE:g}, weighted NMS at IoU "
                                                         f"{MEDIAPIPE_NMS_IOU:g}",
                    "sketch2face.base": f"MediaPipe {TFLITE_NAME} (BlazeFace short-range, Apache-2.0), converted "
                                        "by tf2onnx at opset 17, unchanged",
                    "sketch2face.license": "Apache-2.0 (MediaPipe, Google LLC)",
                    "sketch2face.command": "python -m training.detect export"}
        for key, value in metadata.items():
            model.metadata_props.add(key=key, value=value)
        onnx.checker.check_model(model)
        candidate = Path(work) / "detect.onnx"
        onnx.save(model, str(candidate))

        inputs = parity_inputs()
        np.save(Path(work) / "inputs.npy", inputs)
        reference = Path(work) / "tflite.npz"
        subprocess.run([str(convert_python), "-m", "training.detect", "tflite-outputs", "--tflite", str(tflite),
                        "--inputs", str(Path(work) / "inputs.npy"), "--out", str(reference)],
                       check=True, capture_output=not args.verbose)
        expected = np.load(reference)
        session = ort.InferenceSession(str(candidate), providers=["CPUExecutionProvider"])
        regressors, classificators = session.run(["regressors", "classificators"], {"input": inputs})
        if regressors.shape != (len(inputs), anchors, 16) or classificators.shape != (len(inputs), anchors, 1):
            sys.exit(f"error: ONNX outputs {regressors.shape}, {classificators.shape} for {len(inputs)} inputs")
        differences = {"regressors": float(np.abs(regressors - expected["regressors"]).max()),
                       "classificators": float(np.abs(classificators - expected["classificators"]).max())}
        # Logits >= 0 are scores >= 0.5.
        faces = [int((c >= 0).sum()) for c in classificators[..., 0]]
        print(f"parity on {len(inputs)} inputs, max |ONNX - TFLite|: {json.dumps(differences)}; "
              f"anchors scoring 0.5 or more per input: {faces}")
        if max(differences.values()) > PARITY_TOLERANCE:
            sys.exit(f"error: ONNX and TFLite differ by more than {PARITY_TOLERANCE}; not writing {out}")
        out.parent.mkdir(parents=True, exist_ok=True)
        temporary = out.with_name(out.name + ".tmp")
        onnx.save(model, str(temporary))
        os.replace(temporary, out)
    print(f"wrote {out} ({out.stat().st_size / 1e6:.2f} MB, {anchors} anchors)")
    return 0


def reference(args) -> int:
    """Runs in the landmarks venv (mediapipe): how many faces MediaPipe's own short-range detector
    (the same network, its own pre- and post-processing, one pass over the whole photo) finds in
    each of the first `count` photos of a folder, sorted by name."""
    import mediapipe as mp
    from PIL import Image
    files = sorted(p for p in Path(args.photos).iterdir() if p.suffix.lower() in {".jpg", ".jpeg", ".png"})
    if args.count:
        files = files[:args.count]
    counts = {}
    with mp.solutions.face_detection.FaceDetection(model_selection=0, min_detection_confidence=args.min_score) as detector:
        for file in files:
            found = detector.process(np.asarray(Image.open(file).convert("RGB"))).detections or []
            counts[file.name] = len(found)
    histogram = {n: sum(1 for c in counts.values() if c == n) for n in sorted(set(counts.values()))}
    print(json.dumps({"photos": len(files), "exactly_one": sum(c == 1 for c in counts.values()) / max(len(files), 1),
                      "faces_histogram": histogram}))
    if args.out:
        Path(args.out).write_text(json.dumps(counts, indent=1))
    return 0


def hostile_models(args) -> int:
    """Tiny models that keep the detector contract at load but not at run time, for the engine's
    tests (tests/face_detect.rs): `detect_nan.onnx` says every anchor is a face (logit 100) with a
    NaN box; `detect_runtime_shape.onnx` declares [N, 896, 16] regressors but gives
    [N, 895, 16] (its anchor count is computed from the input's values, 0 x its mean + 895, so
    that shape inference cannot see it and ONNX Runtime reports the declared shape). No weights:
    each output is the input's mean (per photo) expanded to its shape, times 0."""
    import onnx
    from onnx import TensorProto, helper
    anchors = anchor_count()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    scalar = lambda n, v: helper.make_tensor(n, TensorProto.FLOAT, [], [v])
    ints = lambda n, v: helper.make_tensor(n, TensorProto.INT64, [len(v)], v)

    def model(name: str, nodes: list, initializers: list):
        nodes = [helper.make_node("ReduceMean", ["input"], ["mean"], axes=[1, 2, 3], keepdims=1),
                 helper.make_node("Reshape", ["mean", "flat"], ["one"]),
                 helper.make_node("Mul", ["one", "zero"], ["zeros"]),
                 helper.make_node("Expand", ["zeros", "logit_shape"], ["l_zero"]),
                 helper.make_node("Add", ["l_zero", "hundred"], ["classificators"])] + nodes
        initializers += [ints("flat", [-1, 1, 1]), ints("logit_shape", [1, anchors, 1]), scalar("zero", 0.0),
                         scalar("hundred", 100.0)]
        graph = helper.make_graph(
            nodes, name, [helper.make_tensor_value_info("input", TensorProto.FLOAT, ["batch", SIDE, SIDE, 3])],
            [helper.make_tensor_value_info("regressors", TensorProto.FLOAT, ["batch", anchors, 16]),
             helper.make_tensor_value_info("classificators", TensorProto.FLOAT, ["batch", anchors, 1])],
            initializers)
        made = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)], ir_version=8)
        metadata = {"sketch2face.contract": CONTRACT, "sketch2face.input_side": str(SIDE),
                    "sketch2face.anchor_strides": ",".join(map(str, ANCHOR_STRIDES)),
                    "sketch2face.box_scale": f"{BOX_SCALE:g}", "sketch2face.score_clip": f"{SCORE_CLIP:g}",
                    "sketch2face.note": "python -m training.detect hostile-models"}
        for key, value in metadata.items():
            made.metadata_props.add(key=key, value=value)
        onnx.checker.check_model(made)
        onnx.save(made, str(out / f"{name}.onnx"))
        print(f"wrote {out / name}.onnx")

    model("detect_nan", [helper.make_node("Expand", ["zeros", "regressor_shape"], ["r_zero"]),
                         helper.make_node("Div", ["r_zero", "zero"], ["regressors"])],
          [ints("regressor_shape", [1, anchors, 16])])
    model("detect_runtime_shape",
          [helper.make_node("ReduceMax", ["zeros"], ["zero_scalar"], keepdims=0),
           helper.make_node("Add", ["zero_scalar", "short"], ["count_float"]),
           helper.make_node("Cast", ["count_float"], ["count"], to=TensorProto.INT64),
           helper.make_node("Reshape", ["count", "one_dim"], ["count_1d"]),
           helper.make_node("Concat", ["one_dim", "count_1d", "sixteen"], ["regressor_shape"], axis=0),
           helper.make_node("Expand", ["zeros", "regressor_shape"], ["regressors"])],
          [scalar("short", float(anchors - 1)), ints("one_dim", [1]), ints("sixteen", [16])])
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    commands = parser.add_subparsers(dest="command", required=True)
    e = commands.add_parser("export", help=f"{TFLITE_NAME} -> ONNX with the contract's metadata, parity checked")
    e.add_argument("--out", default="models/face-detect-v3.onnx")
    e.add_argument("--tflite", help=f"default: {TFLITE_NAME} of the mediapipe wheel in {LANDMARKS_VENV}")
    e.add_argument("--convert-venv", default=str(CONVERT_VENV), help="the venv with tensorflow-cpu and tf2onnx")
    e.add_argument("--verbose", action="store_true", help="show tf2onnx's and TensorFlow's output")
    t = commands.add_parser("tflite-outputs", help="(export runs this in the convert venv) TFLite's outputs")
    t.add_argument("--tflite", required=True)
    t.add_argument("--inputs", required=True)
    t.add_argument("--out", required=True)
    r = commands.add_parser("reference", help="(in the landmarks venv) MediaPipe's own face counts on photos")
    r.add_argument("--photos", required=True)
    r.add_argument("--count", type=int, default=100, help="the first COUNT photos by name; 0 for all")
    r.add_argument("--min-score", type=float, default=MEDIAPIPE_MIN_SCORE)
    r.add_argument("--out", help="write each photo's count here (JSON)")
    h = commands.add_parser("hostile-models", help="tiny broken detectors for the engine's tests")
    h.add_argument("--out", default="tests/data/contract")
    args = parser.parse_args(argv)
    return {"export": export, "tflite-outputs": tflite_outputs, "reference": reference,
            "hostile-models": hostile_models}[args.command](args)


if __name__ == "__main__":
    sys.exit(main())

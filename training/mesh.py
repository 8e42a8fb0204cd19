"""The mesh model for sketches: MediaPipe's face-landmark network, fine-tuned on sketches.

MediaPipe's mesh network (face_landmark.tflite, Apache-2.0, inside the mediapipe 0.10.14 wheel)
already reads a face's geometry from a 192 px crop; what fails on sketches is its face *detector*
and, less so, the mesh network on line art. So this file fine-tunes the mesh network on sketches
of photos (every style of training/sketches.py, roughened like canvas input, sometimes partial)
with MediaPipe's mesh *of the photo* as the target, and crops framed the way the engine frames
them (`roi_matrix`: the mesh's box, levelled by the eye line, times ROI_SCALE; jittered widely,
like a first guess, or narrowly, like a second pass from the first pass's mesh). Crops of empty
or scribbled paper teach its presence output to say "no face".

    make mesh-base                                   # face_landmark.tflite -> ONNX (own venv)
    python -m training.mesh train --minutes 90       # resumable: ~/.cache/sketch2face/mesh/
    python -m training.mesh export --out models/mesh-v3.onnx
    python -m training.mesh evaluate --onnx models/mesh-v3.onnx

The exported model's contract (checked by the engine at load): input `crop` float32
[N, 192, 192, 3] (NHWC, RGB in 0..1, ink dark on white paper); outputs `points` float32
[N, 468, 2] (MediaPipe's order without the 10 iris points, in crop pixels) and `presence`
float32 [N] (the probability that the crop holds a face); metadata `sketch2face.contract` =
`mesh-1`, `sketch2face.crop_side` = 192, `sketch2face.roi_scale` = ROI_SCALE, and
`sketch2face.framing_box` = "cx,cy,side": the crop of a face drawn in the canvas framing, in
fractions of the canvas side (`framing_box`).
"""

from __future__ import annotations

import argparse
import json
import math
import os
import sys
import time
from pathlib import Path

import cv2
import numpy as np

from training import augment, landmarks, raster, sketches

CROP = 192
POINTS = 468
ROI_SCALE = 1.5  # the crop's side over the mesh box's longer side: MediaPipe's own framing
LEFT_EYE_OUTER, RIGHT_EYE_OUTER = 33, 263
CACHE = Path(os.environ.get("SKETCH2FACE_CACHE", Path.home() / ".cache" / "sketch2face")) / "mesh"
BASE_ONNX = CACHE / "face_landmark_dyn.onnx"
CHECKPOINT = CACHE / "finetune.pt"
DATASETS = ("training/data/utkface192", "training/data/celeba")
NEGATIVE_SHARE = 0.12
MIN_INK = 0.004  # the share of dark pixels below which a crop counts as empty paper
CONTRACT = "mesh-1"


def roi_matrix(points: np.ndarray, scale: float = ROI_SCALE, jitter: tuple[float, float, float] = (0, 0, 0),
               shift: tuple[float, float] = (0.0, 0.0)) -> np.ndarray:
    """The 2x3 affine from image pixels into the CROP x CROP crop for a mesh (468 or more points):
    levelled by the eye line, centred on the box of the points in that levelled frame, side =
    the box's longer side times `scale`. `jitter` = (rotation radians, log scale, unused) and
    `shift` (fractions of the side) move the crop the way a guessed one would be off."""
    left, right = points[LEFT_EYE_OUTER], points[RIGHT_EYE_OUTER]
    angle = math.atan2(right[1] - left[1], right[0] - left[0]) + jitter[0]
    cos, sin = math.cos(-angle), math.sin(-angle)
    rotation = np.array([[cos, -sin], [sin, cos]])
    levelled = points[:POINTS] @ rotation.T
    low, high = levelled.min(0), levelled.max(0)
    side = float((high - low).max()) * scale * math.exp(jitter[1])
    centre = (low + high) / 2 + np.array(shift) * side
    linear = rotation * (CROP / side)
    offset = -centre * (CROP / side) + CROP / 2
    return np.hstack([linear, offset[:, None]]).astype(np.float32)


def crop(image: np.ndarray, matrix: np.ndarray) -> np.ndarray:
    """A gray sketch (uint8 [H, W], ink 0 on paper 255) cut to the crop, paper outside it."""
    return cv2.warpAffine(image, matrix, (CROP, CROP), flags=cv2.INTER_AREA if matrix[0, 0] < 1 else cv2.INTER_LINEAR,
                          borderMode=cv2.BORDER_CONSTANT, borderValue=255)


class Sketches:
    """Training and evaluation samples: (crop uint8 [192, 192], target points [468, 2] in crop
    pixels, presence 0/1). Reads the prepared sets memory-mapped."""

    def __init__(self, split: str, datasets: tuple[str, ...] = DATASETS):
        self.sets = []
        for folder in map(Path, datasets):
            loaded = landmarks.load(folder, split)
            if loaded is None:
                sys.exit(f"error: {folder} has no {split} landmarks; run `make landmarks` (and prepare --celeba)")
            faces = np.load(folder / f"{split}.npy", mmap_mode="r")
            points, parts = loaded
            usable = np.flatnonzero(np.isfinite(np.asarray(points[:, :POINTS]).reshape(len(points), -1)).all(1))
            self.sets.append((faces, points, parts, usable))

    def photo(self, rng: np.random.Generator, which: int | None = None, index: int | None = None):
        set_index = int(rng.integers(len(self.sets))) if which is None else which
        faces, points, parts, usable = self.sets[set_index]
        i = int(usable[rng.integers(len(usable))]) if index is None else index
        return np.asarray(faces[i]), np.asarray(points[i], np.float32), parts

    def sample(self, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray, float]:
        rgb, points, parts = self.photo(rng)
        if rng.random() < NEGATIVE_SHARE:
            return negative(rgb, points, parts, rng), np.zeros((POINTS, 2), np.float32), 0.0
        sketch = sketches.make_sketch(rgb, sketches.random_style(rng), rng, (points, parts))
        if rng.random() < 0.7:
            sketch = augment.roughen(sketch, rng)
        if rng.random() < 0.15:
            sketch = partial(sketch, points, rng)
        matrix = roi_matrix(points, jitter=guess_jitter(rng), shift=tuple(rng.normal(0, 1, 2) * shift_sd(rng)))
        if rng.random() < 0.5:  # lines of any width: the crop's scale changes them, and so does ink spread
            sketch = line_width(sketch, rng)
        target = points[:POINTS] @ matrix[:, :2].T + matrix[:, 2]
        cut = crop(sketch, matrix)
        if (cut < 128).mean() < MIN_INK:  # a few dots are not a face yet, whatever was under them
            return cut, np.zeros((POINTS, 2), np.float32), 0.0
        return cut, target.astype(np.float32), 1.0


def guess_jitter(rng: np.random.Generator) -> tuple[float, float, float]:
    """Half the crops are framed like a first guess (rotation up to ~25 degrees, scale 0.7-1.4),
    half like a second pass from a mesh (a few degrees, a few percent)."""
    if rng.random() < 0.5:
        return (float(rng.normal(0, 0.2)), float(rng.uniform(-0.35, 0.35)), 0.0)
    return (float(rng.normal(0, 0.04)), float(rng.normal(0, 0.04)), 0.0)


def shift_sd(rng: np.random.Generator) -> float:
    return 0.08 if rng.random() < 0.5 else 0.02


def line_width(sketch: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    size = max(2, int(rng.integers(2, 4)))
    kernel = np.ones((size, size), np.uint8)
    return cv2.erode(sketch, kernel) if rng.random() < 0.7 else cv2.dilate(sketch, kernel)


def partial(sketch: np.ndarray, points: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """A drawing still being drawn: the paper below a random line, or one side, is still empty."""
    out = sketch.copy()
    low, high = points[:POINTS].min(0), points[:POINTS].max(0)
    if rng.random() < 0.6:
        cut = int(low[1] + rng.uniform(0.55, 0.95) * (high[1] - low[1]))
        out[cut:] = 255
    else:
        cut = int(low[0] + rng.uniform(0.3, 0.7) * (high[0] - low[0]))
        if rng.random() < 0.5:
            out[:, cut:] = 255
        else:
            out[:, :cut] = 255
    return out


def negative(rgb: np.ndarray, points: np.ndarray, parts: dict, rng: np.random.Generator) -> np.ndarray:
    """A crop with no face: empty paper with scribbles, or paper far from the sketch's face."""
    size = rgb.shape[0]
    kind = rng.random()
    if kind < 0.45:
        strokes = []
        for _ in range(int(rng.integers(0, 8))):
            count = int(rng.integers(2, 12))
            line = np.cumsum(rng.normal(0, size * 0.08, (count, 2)), 0) + rng.uniform(0, size, 2)
            strokes.append(sketches.stroke(line, float(rng.uniform(*sketches.HAND_WIDTH_RANGE)), 0.5, size))
        paper = raster.rasterize(strokes, size)
        return crop(paper, roi_matrix(points, jitter=guess_jitter(rng)))
    sketch = sketches.make_sketch(rgb, sketches.random_style(rng), rng, (points, parts))
    angle = rng.uniform(0, 2 * math.pi)
    away = rng.uniform(0.8, 1.4)
    matrix = roi_matrix(points, jitter=(float(rng.normal(0, 0.2)), float(rng.uniform(-0.7, 0.0)), 0.0),
                        shift=(away * math.cos(angle), away * math.sin(angle)))
    return crop(sketch, matrix)


def to_input(crops: np.ndarray) -> "torch.Tensor":
    import torch
    gray = torch.as_tensor(np.asarray(crops)).float().div_(255)
    return gray[..., None].expand(*gray.shape, 3).contiguous()


def load_base():
    """The converted MediaPipe network as a PyTorch module (onnx2torch)."""
    if not BASE_ONNX.exists():
        sys.exit(f"error: {BASE_ONNX} is missing; run `make mesh-base` (converts MediaPipe's face_landmark.tflite)")
    import onnx
    import torch
    from onnx2torch import convert
    from onnx2torch.node_converters.activations import OnnxPReLU

    # onnx2torch's PReLU falls back to an index-put for slopes shaped [C, 1, 1] (tf2onnx's): slow,
    # and it breaks autocast. The same function as one `where`; the export path stays its own.
    exported = OnnxPReLU.forward

    def prelu(self, x, slope):
        return exported(self, x, slope) if torch.onnx.is_in_onnx_export() else torch.where(x >= 0, x, x * slope)

    OnnxPReLU.forward = prelu
    return convert(onnx.load(str(BASE_ONNX)))


class MeshModel:
    """The network and the contract's shapes around it: crops in, (points [N, 468, 2], presence
    logits [N]) out."""

    def __init__(self, net):
        self.net = net

    def __call__(self, x):
        points, presence = self.net(x)
        return points.reshape(-1, POINTS, 3)[..., :2], presence.reshape(-1)


def mesh_loss(points, presence_logit, target, presence):
    import torch
    import torch.nn.functional as F
    eye = (target[:, LEFT_EYE_OUTER] - target[:, RIGHT_EYE_OUTER]).norm(dim=-1).clamp(min=1.0)
    per_point = (points - target).norm(dim=-1).mean(-1) / eye
    positive = presence > 0.5
    point_loss = (per_point * positive).sum() / positive.sum().clamp(min=1)
    presence_loss = F.binary_cross_entropy_with_logits(presence_logit, presence)
    return point_loss + 0.1 * presence_loss, point_loss.detach(), presence_loss.detach()


def batches(split: str, batch_size: int, seed: int):
    """An endless stream of batches, made by a worker process so sketching runs beside training."""
    import torch
    from torch.utils.data import DataLoader, IterableDataset

    class Stream(IterableDataset):
        def __iter__(self):
            torch.set_num_threads(1)
            data = Sketches(split)
            rng = np.random.default_rng(seed)
            while True:
                items = [data.sample(rng) for _ in range(batch_size)]
                yield (np.stack([c for c, _, _ in items]), np.stack([t for _, t, _ in items]),
                       np.array([p for _, _, p in items], np.float32))

    return iter(DataLoader(Stream(), batch_size=None, num_workers=1, prefetch_factor=4, persistent_workers=True))


def save_atomically(state: dict, path: Path) -> None:
    import torch
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_suffix(".tmp")
    torch.save(state, temporary)
    os.replace(temporary, path)


def train(args) -> int:
    import torch
    torch.set_num_threads(args.threads)
    net = load_base()
    optimizer = torch.optim.Adam(net.parameters(), lr=args.lr)
    step, seconds, history = 0, 0.0, []
    if CHECKPOINT.exists() and not args.fresh:
        state = torch.load(CHECKPOINT, weights_only=False)
        net.load_state_dict(state["net"])
        optimizer.load_state_dict(state["optimizer"])
        step, seconds, history = state["step"], state["seconds"], state["history"]
        print(f"resumed at step {step} ({seconds / 60:.1f} min trained)", flush=True)
    model = MeshModel(net)
    net.train()
    stream = batches("train", args.batch, seed=args.seed + step)
    started, last_save = time.time(), time.time()
    budget = args.minutes * 60
    running = []
    while time.time() - started < budget:
        crops, target, presence = next(stream)
        progress = min(1.0, (seconds + time.time() - started) / max(1.0, args.total_minutes * 60))
        for group in optimizer.param_groups:  # cosine decay over the whole planned run
            group["lr"] = args.lr * (0.1 + 0.9 * 0.5 * (1 + math.cos(math.pi * progress)))
        points, logit = model(to_input(crops))
        loss, point_loss, presence_loss = mesh_loss(points, logit, torch.as_tensor(target), torch.as_tensor(presence))
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        step += 1
        running.append((float(point_loss), float(presence_loss)))
        if step % 25 == 0:
            nme, bce = np.mean(running, 0)
            running = []
            history.append({"step": step, "nme": float(nme), "presence_bce": float(bce)})
            print(f"step {step}: train nme {nme:.4f}, presence bce {bce:.3f}, "
                  f"{(time.time() - started) / 60:.1f} min", flush=True)
        if time.time() - last_save > 300:
            save_atomically({"net": net.state_dict(), "optimizer": optimizer.state_dict(), "step": step,
                             "seconds": seconds + time.time() - started, "history": history}, CHECKPOINT)
            last_save = time.time()
    save_atomically({"net": net.state_dict(), "optimizer": optimizer.state_dict(), "step": step,
                     "seconds": seconds + time.time() - started, "history": history}, CHECKPOINT)
    print(f"saved {CHECKPOINT} at step {step}", flush=True)
    return 0


def batch_dynamic(model):
    """tf2onnx's conversion of face_landmark.tflite fixes the batch at 1 (in the graph's inputs,
    outputs and its Reshape shapes); make it symbolic, so one run frames several crops."""
    from onnx import numpy_helper
    for value in list(model.graph.input) + list(model.graph.output):
        value.type.tensor_type.shape.dim[0].dim_param = "batch"
    reshape_shapes = {node.input[1] for node in model.graph.node if node.op_type == "Reshape"}
    for tensor in model.graph.initializer:
        if tensor.name in reshape_shapes:
            shape = numpy_helper.to_array(tensor).copy()
            shape[0] = -1
            tensor.CopyFrom(numpy_helper.from_array(shape, tensor.name))
    return model


def prelu_as_relu_mix(model):
    """Every PRelu(x, slope) as slope * x + (1 - slope) * Relu(x), with per-channel Mul: the same
    function (within float rounding where x > 0), but ops that onnxruntime keeps in its blocked
    NCHWc layout, so the layout is not reordered around every activation. Its PRelu broadcasts the
    slope element by element (3.7 of the network's 5.8 ms on one thread); the Where(x < 0,
    x * slope, x) an earlier export wrote (the same bits) forced a reorder in and out of each one
    (1.7 ms of 3.6). Both are rewritten; a model with neither is left as it is."""
    from onnx import helper, numpy_helper
    initializers = {i.name: i for i in model.graph.initializer}
    by_name = {node.name: node for node in model.graph.node}
    activations, replaced = {}, set()  # first node's index -> (x, slope, y, name)
    for index, node in enumerate(model.graph.node):
        if node.op_type == "PRelu":
            (x, slope), (y,) = node.input, node.output
            if slope in initializers:  # a computed slope stays a PRelu
                activations[index] = (x, slope, y, node.name or y)
        elif node.op_type == "Less" and node.name.endswith("/Less"):
            base = node.name[:-len("/Less")]
            mul, where = by_name.get(f"{base}/Mul"), by_name.get(f"{base}/Where")
            if mul is None or where is None or mul.input[1] not in initializers:
                continue
            x, slope = mul.input
            activations[index] = (x, slope, where.output[0], base)
            replaced |= {mul.name, where.name}
    if not activations:
        return model
    nodes = []
    for index, node in enumerate(model.graph.node):
        if node.name in replaced:
            continue
        if index not in activations:
            nodes.append(node)
            continue
        x, slope, y, name = activations[index]
        complement = f"{name}/one_minus_slope"
        model.graph.initializer.append(
            numpy_helper.from_array((1 - numpy_helper.to_array(initializers[slope])).astype(np.float32), complement))
        nodes += [helper.make_node("Relu", [x], [f"{name}/positive"], name=f"{name}/Relu"),
                  helper.make_node("Mul", [f"{name}/positive", complement], [f"{name}/kept"], name=f"{name}/MulKept"),
                  helper.make_node("Mul", [x, slope], [f"{name}/sloped"], name=f"{name}/MulSloped"),
                  helper.make_node("Add", [f"{name}/kept", f"{name}/sloped"], [y], name=f"{name}/Add")]
    del model.graph.node[:]
    model.graph.node.extend(nodes)
    used = {i for node in nodes for i in node.input}
    kept = [i for i in model.graph.initializer if i.name in used]
    del model.graph.initializer[:]
    model.graph.initializer.extend(kept)
    return model


def speed_up(args) -> int:
    """`prelu_as_relu_mix` on an exported model, in place, checked against it on random crops."""
    import onnx
    import onnxruntime as ort
    path = Path(args.onnx)
    model = onnx.load(str(path))
    count = len(model.graph.node)
    model = prelu_as_relu_mix(model)
    if len(model.graph.node) == count:
        print(f"{path}: no PRelu, nothing to do")
        return 0
    onnx.checker.check_model(model)
    temporary = path.with_name(path.name + ".tmp")
    onnx.save(model, str(temporary))
    crops = np.random.default_rng(0).random((2, CROP, CROP, 3)).astype(np.float32)
    before, after = (ort.InferenceSession(str(p), providers=["CPUExecutionProvider"]).run(None, {"crop": crops})
                     for p in (path, temporary))
    gap = max(float(np.abs(a - b).max()) for a, b in zip(before, after))
    # Points are crop pixels (0..192): 1e-4 px is a few float32 steps there.
    if gap > 1e-4:
        temporary.unlink()
        sys.exit(f"error: the rewritten mesh model differs from {path} by {gap}")
    os.replace(temporary, path)
    print(f"{path}: activations as Relu and Mul (largest difference {gap:.1e})")
    return 0


def base(args) -> int:
    """The converted network (`make mesh-base` runs tf2onnx first) with a symbolic batch."""
    import onnx
    model = batch_dynamic(onnx.load(args.converted))
    onnx.checker.check_model(model)
    BASE_ONNX.parent.mkdir(parents=True, exist_ok=True)
    temporary = BASE_ONNX.with_name(BASE_ONNX.name + ".tmp")
    onnx.save(model, str(temporary))
    os.replace(temporary, BASE_ONNX)
    print(f"wrote {BASE_ONNX}")
    return 0


def framing_box(data: str = "training/data/celeba") -> tuple[float, float, float]:
    """Where the crop of a face drawn in the canvas framing lies, as fractions of the canvas side
    (centre x, centre y, side): `roi_matrix`'s box of the mean mesh of CelebA's aligned train
    faces. The engine's first guess when it has no mesh yet."""
    meshes = np.load(Path(data) / "train_landmarks.npy", mmap_mode="r")
    side = np.load(Path(data) / "test.npy", mmap_mode="r").shape[1]
    mean = np.asarray(meshes[:, :POINTS]).mean(0)
    matrix = roi_matrix(mean)
    inverse = cv2.invertAffineTransform(matrix)
    centre = inverse @ np.array([CROP / 2, CROP / 2, 1.0])
    return float(centre[0] / side), float(centre[1] / side), float(CROP / matrix[0, 0] / side)


def export(args) -> int:
    import onnx
    import torch
    net = load_base()
    trained = {"step": 0, "seconds": 0.0}
    if CHECKPOINT.exists() and not args.base:
        state = torch.load(CHECKPOINT, weights_only=False)
        net.load_state_dict(state["net"])
        trained = state
    net.eval()

    class Contract(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.net = net

        def forward(self, crop):
            points, presence = self.net(crop)
            return points.reshape(-1, POINTS, 3)[..., :2], torch.sigmoid(presence.reshape(-1))

    out = Path(args.out)
    temporary = out.with_name(out.name + ".tmp")
    torch.onnx.export(Contract(), (torch.zeros(1, CROP, CROP, 3),), str(temporary), input_names=["crop"],
                      output_names=["points", "presence"], opset_version=17, dynamo=False,
                      dynamic_axes={"crop": {0: "batch"}, "points": {0: "batch"}, "presence": {0: "batch"}})
    model = prelu_as_relu_mix(onnx.load(str(temporary)))
    metadata = {"sketch2face.contract": CONTRACT, "sketch2face.crop_side": str(CROP),
                "sketch2face.roi_scale": str(ROI_SCALE), "sketch2face.points": str(POINTS),
                "sketch2face.framing_box": ",".join(f"{v:.4f}" for v in framing_box()),
                "sketch2face.base": "MediaPipe face_landmark.tflite (Apache-2.0), fine-tuned on sketches",
                "sketch2face.fine_tune_steps": str(trained["step"]),
                "sketch2face.fine_tune_minutes": f"{trained['seconds'] / 60:.1f}"}
    for key, value in metadata.items():
        model.metadata_props.add(key=key, value=value)
    onnx.save(model, str(temporary))
    os.replace(temporary, out)
    print(f"wrote {out} ({out.stat().st_size / 1e6:.1f} MB, {trained['step']} fine-tune steps)")
    return 0


def evaluate_oracle(args) -> int:
    """Quick figures with crops framed from the true mesh (a second pass's framing): per set and
    style, the median and p90 NME and the share with presence > 0.5. The engine's own figures
    (first guess, then passes, on whole drawings) come from `sketch2face landmarks`."""
    import onnxruntime as ort
    options = ort.SessionOptions()
    options.intra_op_num_threads = 2
    session = ort.InferenceSession(args.onnx, options)
    results = {}
    for d, folder in enumerate(DATASETS):
        data = Sketches("test", (folder,))
        for style in ("canny2017", "xdog", "hand", "drawn"):
            rng = np.random.default_rng(7)
            errors, found = [], []
            for i in range(args.count):
                rgb, points, parts = data.photo(rng, 0, int(data.sets[0][3][i]))
                sketch = sketches.make_sketch(rgb, style, rng, (points, parts))
                matrix = roi_matrix(points)
                target = points[:POINTS] @ matrix[:, :2].T + matrix[:, 2]
                out = session.run(None, {"crop": to_input(crop(sketch, matrix)[None]).numpy()})
                eye = np.linalg.norm(target[LEFT_EYE_OUTER] - target[RIGHT_EYE_OUTER])
                errors.append(float(np.linalg.norm(out[0][0] - target, axis=1).mean() / eye))
                found.append(float(out[1][0]) > 0.5)
            key = f"{Path(folder).name}/{style}"
            results[key] = {"nme_median": float(np.median(errors)), "nme_p90": float(np.percentile(errors, 90)),
                            "found": float(np.mean(found)), "count": args.count}
            print(key, json.dumps(results[key]), flush=True)
    if args.out:
        Path(args.out).write_text(json.dumps(results, indent=1))
    return 0


def run_landmarks(binary: str, files: list[Path]) -> dict[str, dict]:
    """The engine's own answer (`sketch2face landmarks --json`) for each file, by input path."""
    import subprocess
    result = subprocess.run([binary, "landmarks", "--json", "--device", "cpu", *map(str, files)],
                            capture_output=True, text=True)
    if result.returncode not in (0, 1):
        sys.exit(f"error: {binary} landmarks failed ({result.returncode}): {result.stderr.strip()}")
    return {line["input"]: line for line in map(json.loads, result.stdout.splitlines())}


def summary(errors: list[float], found: list[bool]) -> dict:
    return {"count": len(found), "found": float(np.mean(found)),
            "nme_median": float(np.median(errors)) if errors else None,
            "nme_mean": float(np.mean(errors)) if errors else None,
            "nme_p90": float(np.percentile(errors, 90)) if errors else None}


def evaluate_engine(args) -> int:
    """The issue's figures, from the engine as users get it (`sketch2face landmarks`: first
    guesses, refine passes, on whole images): sketches of held-out photos against the photo's
    mesh, per set and style; and drawings against MediaPipe's mesh of the drawing
    (`--drawing-meshes`, from `training.landmarks --photos DRAWINGS`). NME over found faces."""
    import tempfile
    results = {}
    with tempfile.TemporaryDirectory() as scratch:
        for folder in DATASETS:
            data = Sketches("test", (folder,))
            _, points, _, usable = data.sets[0]
            chosen = usable[: args.count]
            for style in args.styles.split(","):
                rng = np.random.default_rng(11)
                files, targets = [], []
                for i in chosen:
                    rgb, mesh, parts = data.photo(rng, 0, int(i))
                    path = Path(scratch) / f"{Path(folder).name}-{style}-{i}.png"
                    cv2.imwrite(str(path), sketches.make_sketch(rgb, style, rng, (mesh, parts)))
                    files.append(path)
                    targets.append(mesh[:POINTS])
                answers = run_landmarks(args.binary, files)
                errors, found = [], []
                for path, target in zip(files, targets):
                    answer = answers[str(path)]
                    found.append(answer["found"])
                    if answer["found"]:
                        eye = np.linalg.norm(target[LEFT_EYE_OUTER] - target[RIGHT_EYE_OUTER])
                        errors.append(float(np.linalg.norm(np.array(answer["points"]) - target, axis=1).mean() / eye))
                key = f"{Path(folder).name}/{style}"
                results[key] = summary(errors, found)
                print(key, json.dumps(results[key]), flush=True)
    if args.drawings:
        meshes = np.load(args.drawing_meshes)
        by_name = dict(zip([str(n) for n in meshes["names"]], meshes["points"]))
        files = sorted(p for p in Path(args.drawings).iterdir() if p.suffix.lower() in (".png", ".jpg", ".jpeg"))
        answers = run_landmarks(args.binary, files)
        errors, found, judged = [], [], 0
        for path in files:
            answer = answers[str(path)]
            found.append(answer["found"])
            target = by_name.get(path.name)
            if answer["found"] and target is not None and np.isfinite(target).all():
                judged += 1
                target = target[:POINTS]
                eye = np.linalg.norm(target[LEFT_EYE_OUTER] - target[RIGHT_EYE_OUTER])
                errors.append(float(np.linalg.norm(np.array(answer["points"]) - target, axis=1).mean() / eye))
        results["drawings"] = {**summary(errors, found), "judged_against_mediapipe": judged}
        print("drawings", json.dumps(results["drawings"]), flush=True)
    if args.out:
        Path(args.out).write_text(json.dumps(results, indent=1) + "\n")
    return 0


def contact_sheet(args) -> int:
    """The card's contact sheet: drawings -> their meshes -> warped bank faces (two seeds), for
    the shipped drawings and sketches of held-out photos, made by `sketch2face` itself."""
    import subprocess
    import tempfile
    with tempfile.TemporaryDirectory() as scratch:
        files = sorted(Path("assets/sketches").glob("*.png"))
        for folder, style, index in (("training/data/utkface192", "canny2017", 0), ("training/data/celeba", "canny2017", 1),
                                     ("training/data/celeba", "hand", 2), ("training/data/celeba", "xdog", 5)):
            data = Sketches("test", (folder,))
            rgb, mesh, parts = data.photo(np.random.default_rng(index), 0, int(data.sets[0][3][index]))
            path = Path(scratch) / f"{Path(folder).name}-{style}-{index}.png"
            cv2.imwrite(str(path), sketches.make_sketch(rgb, style, np.random.default_rng(index), (mesh, parts)))
            files.append(path)
        answers = run_landmarks(args.binary, files)
        out = Path(scratch) / "faces"
        subprocess.run([args.binary, "generate", *map(str, files), "--out", str(out), "--stage", "warped",
                        "--variations", "2", "--seed", "1", "--device", "cpu"], check=False, capture_output=True)
        rows = []
        tile = 192
        for path in files:
            drawing = cv2.imread(str(path))
            scale = tile / max(drawing.shape[:2])
            small = cv2.resize(drawing, (tile, tile), interpolation=cv2.INTER_AREA)
            meshed = small.copy()
            answer = answers[str(path)]
            for x, y in answer["points"]:
                cv2.circle(meshed, (int(x * scale), int(y * scale)), 1, (40, 40, 220) if answer["found"] else (160, 160, 160), -1)
            faces = []
            for k in (1, 2):
                face = cv2.imread(str(out / f"{path.stem}-{k}.png"))
                faces.append(cv2.resize(face, (tile, tile), interpolation=cv2.INTER_AREA) if face is not None
                             else np.full((tile, tile, 3), 255, np.uint8))
            rows.append(np.hstack([small, meshed, *faces]))
        sheet = np.vstack(rows)
        target = Path(args.out)
        temporary = target.with_name(target.stem + ".tmp" + target.suffix)
        cv2.imwrite(str(temporary), sheet, [cv2.IMWRITE_JPEG_QUALITY, 85])
        os.replace(temporary, target)
        print(f"wrote {target}: {len(rows)} rows")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    commands = parser.add_subparsers(dest="command", required=True)
    t = commands.add_parser("train")
    t.add_argument("--minutes", type=float, default=90)
    t.add_argument("--total-minutes", type=float, default=180, help="the planned run over all sessions (lr decay)")
    t.add_argument("--batch", type=int, default=16)
    t.add_argument("--lr", type=float, default=1e-4)
    t.add_argument("--threads", type=int, default=2)
    t.add_argument("--seed", type=int, default=1)
    t.add_argument("--fresh", action="store_true", help="ignore the checkpoint")
    b = commands.add_parser("base", help="the tf2onnx conversion of face_landmark.tflite, batch made symbolic")
    b.add_argument("--converted", required=True)
    e = commands.add_parser("export")
    e.add_argument("--out", default="models/mesh-v3.onnx")
    e.add_argument("--base", action="store_true", help="export MediaPipe's network as converted, untrained")
    v = commands.add_parser("evaluate")
    v.add_argument("--onnx", required=True)
    v.add_argument("--count", type=int, default=200)
    v.add_argument("--out")
    g = commands.add_parser("evaluate-engine", help="the issue's figures from `sketch2face landmarks`")
    g.add_argument("--binary", default="target/debug/sketch2face")
    g.add_argument("--count", type=int, default=500, help="held-out photos per set")
    g.add_argument("--styles", default="canny2017,xdog,hand,drawn")
    g.add_argument("--drawings", help="a folder of hand drawings")
    g.add_argument("--drawing-meshes", help="MediaPipe's meshes of the drawings (training.landmarks --photos)")
    g.add_argument("--out")
    f = commands.add_parser("speed-up", help="an exported model's PRelu as Relu and Mul, in place (the same values)")
    f.add_argument("--onnx", default="models/mesh-v3.onnx")
    c = commands.add_parser("contact-sheet", help="drawings -> meshes -> warped faces, for the card")
    c.add_argument("--binary", default="target/debug/sketch2face")
    c.add_argument("--out", default="models/card/v3_contact_sheet.jpg")
    args = parser.parse_args(argv)
    return {"contact-sheet": contact_sheet, "train": train, "base": base, "export": export, "evaluate": evaluate_oracle,
            "evaluate-engine": evaluate_engine, "speed-up": speed_up}[args.command](args)


if __name__ == "__main__":
    sys.exit(main())

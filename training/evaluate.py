"""Evaluate a trained generator on the test split, per sketch style.

    python -m training.evaluate --checkpoint training/runs/default/ckpt.pt \
        --data training/data/synthetic --out training/runs/default/eval.json
    python -m training.evaluate --onnx models/sketch2face.onnx --data training/data/synthetic \
        --out training/runs/shipped/eval.json                       # the shipped file itself
    python -m training.evaluate --onnx models/sketch2face.onnx --sketches assets/sketches \
        --out training/runs/shipped/drawn.json                      # drawn sketches, no ground truth

For every style in sketches.STYLES, each test face gets the same sketch in every run (the seed
depends only on --seed, the sample index and the style), so two models see identical inputs.
The "drawn" style needs the split's landmarks (`make landmarks`); without them it is left out.
Metrics, on the uint8 images the app shows:
- l1: mean absolute difference to the real face, in [0, 1] pixel scale (lower is better);
- psnr (dB) and ssim (skimage.metrics, RGB) against the real face (higher is better);
- face_rate: fraction of generated faces in which a Haar detector (faces.EVALUATION_CASCADE,
  alt2) finds a face, beside real_face_rate, the same rate on the real test faces (the ceiling);
  face_rate_default_cascade and real_face_rate_default_cascade: the same with the `default`
  cascade that earlier reports used. detector_check says why alt2: each cascade's rate on the
  real faces and on the same faces cut into shuffled 32 px blocks (a face's colours and texture
  without its layout: every detection there is a false one).
- grid_score (training/quality.py): the stride-2 upsampling pattern in the generated faces relative
  to the real ones (1.0 = like the photos), and sharpness, the same ratio for the variance of the
  Laplacian (below 1 = blurrier than the photos);
for models with colour hints (hand style, simulated hints from the real face):
- hint_error: mean absolute colour error (0..1) inside the hinted pixels, with and without the hints;
for models with a variation code z:
- diversity: mean pairwise L1 (0..1) between the faces of 4 random codes for one sketch.
Also the generator's size and its mean CPU inference time (batch 1, one thread).
Writes the JSON to --out and a PNG grid (per style a few rows: sketch | generated | real) beside
it, or to --grid.

    python -m training.evaluate compare --out models/card/v3_eval.json

compares v1, v2 and face pipeline v3 (warped and refined) on faces made by `sketch2face generate`
and judged by MediaPipe's detector and mesh: training/compare.py says what each figure is.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

import cv2
import numpy as np
import torch
from skimage.metrics import peak_signal_noise_ratio, structural_similarity
from tqdm import tqdm

from training import augment, hints as hint_sim, landmarks, quality, sketches
from training.faces import CASCADES, EVALUATION_CASCADE, has_face
from training.networks import build_generator, count_parameters, shipped_generator_state

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp", ".webp")
DARK_PAGE_MEAN = 110  # the same sketch-file rules as the app (spec: normalize_sketch)
FLAT_RANGE = 8


# --- the model, from a checkpoint or an exported ONNX file -------------------------------------

class TorchModel:
    """The generator rebuilt from the arguments stored in a training checkpoint."""

    def __init__(self, checkpoint: Path):
        ckpt = torch.load(checkpoint, map_location="cpu", weights_only=False)
        self.net = build_generator(ckpt["generator_args"]).eval()
        self.net.load_state_dict(shipped_generator_state(ckpt))
        self.resolution = int(ckpt["generator_args"]["resolution"])
        self.takes_hints = ckpt["generator_args"].get("hint_channels", 0) > 0
        self.z_dim = ckpt["generator_args"].get("z_dim", 0)
        self.parameters = count_parameters(self.net)
        self.info = {
            "checkpoint": str(checkpoint),
            "generator_args": ckpt["generator_args"],
            "step": ckpt.get("step"),
            "trained_min": round(ckpt.get("elapsed_s", 0.0) / 60, 1),
            "preset": ckpt.get("config", {}).get("preset"),
            "precision": ckpt.get("config", {}).get("precision"),
        }

    def single_threaded(self) -> TorchModel:
        return self  # inference_ms sets torch's thread count

    def __call__(self, sketch: np.ndarray, hints: np.ndarray | None = None, z: np.ndarray | None = None) -> np.ndarray:
        as_tensor = lambda a: None if a is None else torch.from_numpy(np.ascontiguousarray(a, np.float32))  # noqa: E731
        with torch.inference_mode():
            return self.net(as_tensor(sketch), as_tensor(hints) if self.takes_hints else None,
                            as_tensor(z) if self.z_dim else None).numpy()


class OnnxModel:
    """An exported model run through onnxruntime on the CPU, as the app runs it."""

    def __init__(self, path: Path, threads: int):
        import onnx

        model = onnx.load(str(path))
        self.metadata = {p.key: p.value for p in model.metadata_props}
        self.parameters = int(sum(np.prod(t.dims, dtype=np.int64) for t in model.graph.initializer))
        dims = model.graph.input[0].type.tensor_type.shape.dim
        self.resolution = int(self.metadata.get("sketch2face.resolution") or dims[2].dim_value)
        self.path, self.threads = path, threads
        self.session = self._session(threads)
        inputs = {i.name: i for i in self.session.get_inputs()}
        self.takes_hints = "hints" in inputs
        self.z_dim = int(inputs["z"].shape[1]) if "z" in inputs else 0
        self.info = {"onnx": str(path), "onnx_mb": round(path.stat().st_size / 1e6, 2),
                     "contract": self.metadata.get("sketch2face.contract")}
        try:  # the training facts the exporter wrote, named as a checkpoint's are
            training = json.loads(self.metadata.get("sketch2face.training", "{}"))
            self.info.update({"step": int(training["steps"]), "trained_min": float(training["minutes"])})
        except (ValueError, KeyError, TypeError):
            pass  # a model exported without them (or by someone else): the card shows "?"

    def _session(self, threads: int):
        import onnxruntime as ort

        options = ort.SessionOptions()
        options.intra_op_num_threads = threads
        options.inter_op_num_threads = 1
        options.add_session_config_entry("session.intra_op.allow_spinning", "0")
        return ort.InferenceSession(str(self.path), options, providers=["CPUExecutionProvider"])

    def single_threaded(self) -> OnnxModel:
        if self.threads == 1:
            return self
        model = object.__new__(OnnxModel)
        model.__dict__.update(self.__dict__, threads=1, session=self._session(1))
        return model

    def __call__(self, sketch: np.ndarray, hints: np.ndarray | None = None, z: np.ndarray | None = None) -> np.ndarray:
        feed = {"sketch": sketch.astype(np.float32)}
        if self.takes_hints:
            feed["hints"] = (np.zeros((len(sketch), 4, *sketch.shape[2:]), np.float32) if hints is None
                             else hints.astype(np.float32))
        if self.z_dim:
            feed["z"] = np.zeros((len(sketch), self.z_dim), np.float32) if z is None else z.astype(np.float32)
        return self.session.run(["face"], feed)[0]


def load_model(checkpoint: Path | None, onnx_path: Path | None, threads: int) -> TorchModel | OnnxModel:
    for path in (checkpoint, onnx_path):
        if path is not None and not path.exists():
            sys.exit(f"error: {path} does not exist")
    if onnx_path is None:
        return TorchModel(checkpoint)
    model = OnnxModel(onnx_path, threads)
    if checkpoint is not None:  # training facts from the checkpoint, numbers from the shipped file
        model.info = {**TorchModel(checkpoint).info, **model.info}
    return model


# --- conversions --------------------------------------------------------------------------------

def sketch_input(gray: np.ndarray) -> np.ndarray:
    """uint8 [N, H, W] (ink 0, paper 255) -> float32 [N, 1, H, W] in [-1, 1] (paper +1)."""
    return (gray.astype(np.float32) / 127.5 - 1.0)[:, None]


def face_output(face: np.ndarray) -> np.ndarray:
    """float [N, 3, H, W] in [-1, 1] -> uint8 RGB [N, H, W, 3], rounded as the app does."""
    return np.round((np.clip(face, -1, 1) + 1) * 127.5).astype(np.uint8).transpose(0, 2, 3, 1)


def generate(model, gray: np.ndarray, batch: int = 32, hints: np.ndarray | None = None,
             z: np.ndarray | None = None) -> np.ndarray:
    part = lambda a, i: None if a is None else a[i:i + batch]  # noqa: E731
    return np.concatenate([face_output(model(sketch_input(gray[i:i + batch]), part(hints, i), part(z, i)))
                           for i in range(0, len(gray), batch)])


def normalize_sketch(gray: np.ndarray, size: int) -> np.ndarray:
    """A sketch file as the app reads it (spec: normalize_sketch), at the model's resolution:
    invert a dark page, stretch the 1st..90th percentile to black..white, fit into a white
    square, resize."""
    gray = gray.astype(np.float32)
    if gray.mean() < DARK_PAGE_MEAN:
        gray = 255 - gray
    lo, hi = np.percentile(gray, [1, 90])
    if hi - lo >= FLAT_RANGE:
        gray = np.clip((gray - lo) * 255 / (hi - lo), 0, 255)
    gray = np.round(gray).astype(np.uint8)
    h, w = gray.shape
    side = max(h, w)
    square = np.full((side, side), 255, np.uint8)
    y, x = (side - h) // 2, (side - w) // 2
    square[y:y + h, x:x + w] = gray
    if side == size:
        return square
    interpolation = cv2.INTER_AREA if side > size else cv2.INTER_LANCZOS4
    return cv2.resize(square, (size, size), interpolation=interpolation)


def read_sketches(folder: Path, size: int) -> tuple[list[str], np.ndarray]:
    names, images = [], []
    for path in sorted(p for p in folder.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES):
        gray = cv2.imdecode(np.fromfile(path, np.uint8), cv2.IMREAD_GRAYSCALE)
        if gray is None:
            print(f"warning: skipping {path}: not a readable image", file=sys.stderr)
            continue
        names.append(path.name)
        images.append(normalize_sketch(gray, size))
    if not images:
        sys.exit(f"error: no readable sketch images ({', '.join(IMAGE_SUFFIXES)}) in {folder}")
    return names, np.stack(images)


# --- measurements -------------------------------------------------------------------------------

def image_metrics(fake: np.ndarray, real: np.ndarray) -> dict[str, float]:
    """Per-image L1 (0..1), PSNR (dB) and SSIM of uint8 RGB images."""
    l1 = float(np.abs(fake.astype(np.float32) - real.astype(np.float32)).mean() / 255)
    psnr = float(peak_signal_noise_ratio(real, fake, data_range=255))
    ssim = float(structural_similarity(real, fake, channel_axis=2, data_range=255))
    return {"l1": l1, "psnr": min(psnr, 100.0), "ssim": ssim}  # identical images: PSNR inf -> 100


def inference_ms(model, resolution: int, runs: int) -> dict[str, float]:
    """CPU time per image at batch 1 on one thread, after a warm-up."""
    previous = torch.get_num_threads()
    torch.set_num_threads(1)
    model = model.single_threaded()
    sketch = np.ones((1, 1, resolution, resolution), np.float32)
    sketch[:, :, resolution // 4: resolution // 2, resolution // 4: 3 * resolution // 4] = -1
    try:
        for _ in range(3):
            model(sketch)
        times = []
        for _ in range(runs):
            start = time.perf_counter()
            model(sketch)
            times.append((time.perf_counter() - start) * 1000)
    finally:
        torch.set_num_threads(previous)
    return {"mean": round(statistics.fmean(times), 2), "median": round(statistics.median(times), 2),
            "runs": runs}


def sample_rng(seed: int, index: int, style: str) -> np.random.Generator:
    """The same sketch for the same face and style in every evaluation run."""
    return np.random.default_rng([seed, index, sketches.STYLES.index(style)])


def evaluate(model, faces: np.ndarray, styles: list[str], seed: int, grid_rows: int,
             marks: tuple[np.ndarray, dict] | None = None):
    """Metrics per style and the grid rows per style; `marks` (the faces' landmarks and parts)
    for the "drawn" style."""
    results: dict[str, dict] = {}
    grid: dict[str, list[np.ndarray]] = {}
    with tqdm(total=len(faces) * len(styles), desc="evaluate", unit="img") as bar:
        for style in styles:
            totals = {"l1": 0.0, "psnr": 0.0, "ssim": 0.0}
            found = found_default = 0
            grid[style] = []
            fakes = []
            for start in range(0, len(faces), 32):
                real = np.ascontiguousarray(faces[start:start + 32])
                gray = np.stack([sketches.make_sketch(face, style, sample_rng(seed, start + i, style),
                                                      None if marks is None else (marks[0][start + i], marks[1]))
                                 for i, face in enumerate(real)])
                fake = generate(model, gray)
                fakes.append(fake)
                for i in range(len(real)):
                    for key, value in image_metrics(fake[i], real[i]).items():
                        totals[key] += value
                    found += has_face(fake[i], EVALUATION_CASCADE)
                    found_default += has_face(fake[i], "default")
                    if len(grid[style]) < grid_rows:
                        grid[style].append(row_image([gray[i], fake[i], real[i]]))
                bar.update(len(real))
            n = len(faces)
            fakes = np.concatenate(fakes)
            results[style] = {"l1": round(totals["l1"] / n, 4), "psnr": round(totals["psnr"] / n, 2),
                              "ssim": round(totals["ssim"] / n, 4), "face_rate": round(found / n, 4),
                              "face_rate_default_cascade": round(found_default / n, 4),
                              "grid_score": round(quality.grid_score(fakes, np.asarray(faces)), 3),
                              "sharpness": round(quality.sharpness_ratio(fakes, np.asarray(faces)), 3)}
    return results, grid


def scramble_blocks(face: np.ndarray, block: int, rng: np.random.Generator) -> np.ndarray:
    """The face cut into block x block tiles, shuffled: its colours and texture, not its layout."""
    size = face.shape[0]
    n = size // block
    tiles = face[:n * block, :n * block].reshape(n, block, n, block, -1).swapaxes(1, 2).reshape(n * n, block, block, -1)
    tiles = tiles[rng.permutation(n * n)].reshape(n, n, block, block, -1).swapaxes(1, 2)
    return np.ascontiguousarray(tiles.reshape(n * block, n * block, -1))


def detector_check(faces: np.ndarray, seed: int, block: int = 32) -> dict:
    """Each cascade's detection rate on the real faces (higher is better) and on the same faces
    with their blocks shuffled (false detections: lower is better)."""
    rng = np.random.default_rng([seed, block])
    scrambled = [scramble_blocks(np.asarray(face), block, rng) for face in faces]
    return {name: {"real": round(float(np.mean([has_face(np.ascontiguousarray(f), name) for f in faces])), 4),
                   "scrambled": round(float(np.mean([has_face(f, name) for f in scrambled])), 4)}
            for name in CASCADES}


def hint_error(model, faces: np.ndarray, seed: int) -> dict:
    """Colour error inside hinted pixels, with the hints and without, on hand-style sketches with
    hints simulated from the real face (faces without any simulated stroke are skipped)."""
    with_sum = without_sum = pixels = 0.0
    used = 0
    for i, face in enumerate(faces):
        face = np.ascontiguousarray(face)
        rng = sample_rng(seed + 1, i, "hand")
        strokes = []
        while not strokes:  # every evaluated face gets hints
            strokes = hint_sim.random_strokes(augment.Frame(0, 0, face.shape[0]), face.shape[0], rng)
        hints = hint_sim.paint(face, strokes, rng)[None]
        gray = sketches.hand(face, rng)[None]
        mask = hints[0, 3] > 0.5
        if not mask.any():
            continue
        real = face.astype(np.float32) / 255
        for use, acc in ((True, "with"), (False, "without")):
            fake = generate(model, gray, hints=hints if use else None)[0].astype(np.float32) / 255
            error = np.abs(fake - real)[mask].sum()
            if use:
                with_sum += error
            else:
                without_sum += error
        pixels += mask.sum() * 3
        used += 1
    return {"with_hints": round(float(with_sum / pixels), 4), "without_hints": round(float(without_sum / pixels), 4),
            "ratio": round(float(with_sum / without_sum), 3), "samples": used}


def diversity(model, faces: np.ndarray, seed: int, codes: int = 4) -> dict:
    """Mean pairwise L1 (0..1) between the faces of `codes` random z per hand-style sketch, beside
    the L1 between the z = 0 face and the real one for scale."""
    rng = np.random.default_rng(seed + 2)
    pair_l1 = []
    for i, face in enumerate(faces):
        gray = sketches.hand(np.ascontiguousarray(face), sample_rng(seed, i, "hand"))[None]
        z = rng.standard_normal((codes, model.z_dim)).astype(np.float32)
        fakes = generate(model, np.repeat(gray, codes, 0), z=z).astype(np.float32) / 255
        pair_l1 += [np.abs(fakes[a] - fakes[b]).mean() for a in range(codes) for b in range(a + 1, codes)]
    return {"mean_pairwise_l1": round(float(np.mean(pair_l1)), 4), "codes_per_sketch": codes,
            "sketches": len(faces)}


# --- the grid -----------------------------------------------------------------------------------

def row_image(images: list[np.ndarray]) -> np.ndarray:
    """Side by side, gray images as RGB, a 2 px white gap between."""
    tiles = [np.repeat(im[:, :, None], 3, 2) if im.ndim == 2 else im for im in images]
    gap = np.full((tiles[0].shape[0], 2, 3), 255, np.uint8)
    return np.concatenate([part for tile in tiles for part in (tile, gap)][:-1], 1)


def label(text: str, width: int) -> np.ndarray:
    band = np.full((18, width, 3), 255, np.uint8)
    cv2.putText(band, text, (4, 13), cv2.FONT_HERSHEY_SIMPLEX, 0.42, (0, 0, 0), 1, cv2.LINE_AA)
    return band


def save_grid(path: Path, sections: dict[str, list[np.ndarray]]) -> None:
    """Labelled sections of rows, stacked, written as RGB PNG."""
    width = max(row.shape[1] for rows in sections.values() for row in rows)
    parts = []
    for title, rows in sections.items():
        parts.append(label(title, width))
        for row in rows:
            pad = np.full((row.shape[0], width - row.shape[1], 3), 255, np.uint8)
            parts += [np.concatenate([row, pad], 1), np.full((2, width, 3), 255, np.uint8)]
    path.parent.mkdir(parents=True, exist_ok=True)
    cv2.imwrite(str(path), cv2.cvtColor(np.concatenate(parts, 0), cv2.COLOR_RGB2BGR))


# --- the command --------------------------------------------------------------------------------

def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["compare"]:  # v1, v2 and face pipeline v3 side by side (issue 25)
        from training import compare
        return compare.main(argv[1:])
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--checkpoint", type=Path, help="training checkpoint (rebuilds the generator)")
    parser.add_argument("--onnx", type=Path, help="exported model to evaluate through onnxruntime instead")
    parser.add_argument("--data", type=Path, help="dataset folder holding test.npy")
    parser.add_argument("--sketches", type=Path, metavar="DIR",
                        help="evaluate drawn sketch images from DIR instead (no ground truth: grid only)")
    parser.add_argument("--out", type=Path, required=True, help="JSON file to write")
    parser.add_argument("--grid", type=Path, help="PNG grid to write (default: --out with .png)")
    parser.add_argument("--split", default="test", choices=("test", "val"), help="which split (default test)")
    parser.add_argument("--limit", type=int, default=0, help="evaluate the first N test faces only (0: all)")
    parser.add_argument("--styles", default=",".join(sketches.STYLES))
    parser.add_argument("--grid_rows", type=int, default=4, help="samples per style in the grid")
    parser.add_argument("--timing_runs", type=int, default=50)
    parser.add_argument("--threads", type=int, default=1, help="CPU threads for the metric passes")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    if args.checkpoint is None and args.onnx is None:
        parser.error("give --checkpoint, --onnx or both")
    if (args.data is None) == (args.sketches is None):
        parser.error("give either --data (test split, with metrics) or --sketches DIR (grid only)")
    styles = [s for s in args.styles.split(",") if s]
    unknown = set(styles) - set(sketches.STYLES)
    if unknown:
        parser.error(f"unknown sketch styles {sorted(unknown)}; expected some of {sketches.STYLES}")

    torch.set_num_threads(max(1, args.threads))
    model = load_model(args.checkpoint, args.onnx, max(1, args.threads))
    grid_path = args.grid or args.out.with_suffix(".png")
    report: dict = {"model": {**model.info, "resolution": model.resolution, "parameters": model.parameters,
                              "fp32_mb": round(model.parameters * 4 / 1e6, 2)}}

    if args.sketches is not None:
        if not args.sketches.is_dir():
            sys.exit(f"error: --sketches {args.sketches}: not a folder")
        names, gray = read_sketches(args.sketches, model.resolution)
        fake = np.concatenate([generate(model, gray[i:i + 1])
                               for i in tqdm(range(len(gray)), desc="generate", unit="img")])
        save_grid(grid_path, {"sketch | generated": [row_image([g, f]) for g, f in zip(gray, fake)]})
        report.update({"sketches": str(args.sketches), "files": names,
                       "face_detector": EVALUATION_CASCADE,
                       "face_rate": round(sum(has_face(f, EVALUATION_CASCADE) for f in fake) / len(fake), 4),
                       "face_rate_default_cascade": round(sum(has_face(f, "default") for f in fake) / len(fake), 4)})
    else:
        test_path = args.data / f"{args.split}.npy"
        if not test_path.exists():
            sys.exit(f"error: no test split at {test_path}; make a dataset first with "
                     f"python -m training.prepare --synthetic N --out {args.data}")
        faces = np.load(test_path, mmap_mode="r")
        if args.limit > 0:
            faces = faces[: args.limit]
        if faces.shape[1] != model.resolution:
            sys.exit(f"error: test faces are {faces.shape[1]} px, the model takes {model.resolution} px")
        marks = landmarks.load(args.data, args.split)
        if marks is None and "drawn" in styles:
            if args.styles != parser.get_default("styles"):
                sys.exit(f"error: the drawn style needs landmarks: no {args.split}_landmarks.npy in {args.data}; "
                         f"run `make landmarks` first")
            print(f"note: no landmarks in {args.data} (make landmarks): the drawn style is left out", file=sys.stderr)
            styles.remove("drawn")
        results, grid = evaluate(model, faces, styles, args.seed, args.grid_rows, marks)
        detectors = detector_check(faces, args.seed)
        save_grid(grid_path, {f"{style}: sketch | generated | real": rows for style, rows in grid.items()})
        report.update({"data": str(args.data), "split": args.split, "samples": int(len(faces)), "seed": args.seed,
                       "styles": results, "face_detector": EVALUATION_CASCADE,
                       "real_face_rate": detectors[EVALUATION_CASCADE]["real"],
                       "real_face_rate_default_cascade": detectors["default"]["real"],
                       "detector_check": detectors})
        subset = faces[: min(len(faces), 200)]
        if model.takes_hints:
            report["hint_error"] = hint_error(model, subset, args.seed)
        if model.z_dim:
            report["diversity"] = diversity(model, subset[:100], args.seed)

    report["inference_ms"] = inference_ms(model, model.resolution, args.timing_runs)
    report["grid"] = str(grid_path)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, indent=2) + "\n")
    print(json.dumps(report, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""The model card's pictures: colour hints, variations and drawn sketches, v2 beside v1.

    python -m training.card_pictures --model models/sketch2face.onnx --v1 models/sketch2face-v1.onnx \
        --sketches assets/sketches --out models/card

Writes into --out:
- hints.png: one drawn sketch (--hint-sketch) with three sets of colour hints (painted as broad
  strokes with the app's rasterizer), each beside the face it gives, after the face without hints;
- variations.png: the same sketch and the faces of six seeds (seed 0 is the default face);
- drawn.png: each drawn sketch in --sketches, v1's face, then each --earlier model's face (an
  earlier v2 this model replaced), then this model's face.
Seeds become codes exactly as the Rust engine makes them (engine::z_from_seed), so
`generate --seed N` paints the same faces.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import cv2
import numpy as np

from training import hints as hint_sim, raster
from training.evaluate import OnnxModel, face_output, read_sketches, row_image, sketch_input

MASK64 = (1 << 64) - 1


def z_from_seed(seed: int, dim: int) -> np.ndarray:
    """The Rust engine's seed -> code (src/engine/seed.rs): SplitMix64 and Box-Muller."""
    if seed == 0:
        return np.zeros(dim, np.float32)
    state = seed
    code: list[float] = []

    def unit() -> float:
        nonlocal state
        state = (state + 0x9E3779B97F4A7C15) & MASK64
        x = state
        x = ((x ^ (x >> 30)) * 0xBF58476D1CE4E5B9) & MASK64
        x = ((x ^ (x >> 27)) * 0x94D049BB133111EB) & MASK64
        x ^= x >> 31
        return ((x >> 11) + 1) / float(1 << 53)

    while len(code) < dim:
        u1, u2 = unit(), unit()
        radius = np.sqrt(-2.0 * np.log(u1))
        code.append(radius * np.cos(2 * np.pi * u2))
        if len(code) < dim:
            code.append(radius * np.sin(2 * np.pi * u2))
    return np.array(code, np.float32)


def stroke(points: list[tuple[float, float]], width: float) -> dict:
    return {"tool": "Brush", "width": width, "points": [{"x": x, "y": y, "pressure": 0.5} for x, y in points]}


# Three ways a user might colour the same face: (name, [(colour, strokes)]).
HINT_SETS = [
    ("blond hair, light skin", [
        ((226, 196, 130), [stroke([(0.2, 0.06), (0.5, 0.03), (0.8, 0.06)], 0.06),
                           stroke([(0.1, 0.2), (0.08, 0.45)], 0.05), stroke([(0.9, 0.2), (0.92, 0.45)], 0.05)]),
        ((236, 200, 178), [stroke([(0.3, 0.55), (0.45, 0.6)], 0.05), stroke([(0.55, 0.6), (0.7, 0.55)], 0.05),
                           stroke([(0.4, 0.25), (0.6, 0.25)], 0.05)]),
    ]),
    ("black hair, dark skin", [
        ((30, 24, 22), [stroke([(0.2, 0.06), (0.5, 0.03), (0.8, 0.06)], 0.06)]),
        ((105, 68, 48), [stroke([(0.3, 0.55), (0.45, 0.6)], 0.05), stroke([(0.55, 0.6), (0.7, 0.55)], 0.05),
                         stroke([(0.4, 0.25), (0.6, 0.25)], 0.05)]),
    ]),
    ("red hair, blue background", [
        ((170, 70, 35), [stroke([(0.2, 0.06), (0.5, 0.03), (0.8, 0.06)], 0.06),
                         stroke([(0.1, 0.2), (0.08, 0.45)], 0.05), stroke([(0.9, 0.2), (0.92, 0.45)], 0.05)]),
        ((70, 110, 190), [stroke([(0.02, 0.6), (0.02, 0.95)], 0.04), stroke([(0.98, 0.6), (0.98, 0.95)], 0.04)]),
    ]),
]


def paint_hints(size: int, hint_set) -> np.ndarray:
    """[4, S, S] hints: each stroke rasterized alone, covered pixels take its colour."""
    hints = np.zeros((4, size, size), np.float32)
    for colour, strokes in hint_set:
        for s in strokes:
            covered = raster.rasterize([s], size) < hint_sim.COVERAGE_THRESHOLD
            hints[:3, covered] = (np.array(colour, np.float32) / 127.5 - 1)[:, None]
            hints[3, covered] = 1
    return hints


def shown(gray: np.ndarray, hints: np.ndarray) -> np.ndarray:
    """The sketch with its hints painted over, as the app shows them."""
    rgb = np.repeat(gray[:, :, None], 3, 2).astype(np.float32)
    mask = hints[3] > 0.5
    colour = (hints[:3].transpose(1, 2, 0) + 1) * 127.5
    rgb[mask] = 0.45 * rgb[mask] + 0.55 * colour[mask]
    return rgb.round().astype(np.uint8)


def face(model: OnnxModel, gray: np.ndarray, hints: np.ndarray | None = None, z: np.ndarray | None = None):
    return face_output(model(sketch_input(gray[None]), None if hints is None else hints[None],
                             None if z is None else z[None]))[0]


def save(path: Path, rows: list[np.ndarray], scale: int = 2) -> None:
    width = max(r.shape[1] for r in rows)
    padded = [np.concatenate([r, np.full((r.shape[0], width - r.shape[1], 3), 255, np.uint8)], 1) for r in rows]
    gap = np.full((2, width, 3), 255, np.uint8)
    image = np.concatenate([part for r in padded for part in (r, gap)][:-1], 0)
    image = cv2.resize(image, None, fx=scale, fy=scale, interpolation=cv2.INTER_NEAREST)
    cv2.imwrite(str(path), cv2.cvtColor(image, cv2.COLOR_RGB2BGR))
    print(f"wrote {path}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", type=Path, default=Path("models/sketch2face.onnx"))
    parser.add_argument("--v1", type=Path, default=Path("models/sketch2face-v1.onnx"))
    parser.add_argument("--earlier", type=Path, action="append", default=[],
                        help="an earlier model to show between v1 and --model in drawn.png (repeatable)")
    parser.add_argument("--sketches", type=Path, default=Path("assets/sketches"))
    parser.add_argument("--out", type=Path, default=Path("models/card"))
    parser.add_argument("--hint-sketch", default="face_round_long_hair.png",
                        help="the file in --sketches for the hint and variation pictures")
    args = parser.parse_args(argv)
    for path in (args.model, args.v1, *args.earlier):
        if not path.is_file():
            sys.exit(f"error: {path} does not exist")
    model, v1 = OnnxModel(args.model, 1), OnnxModel(args.v1, 1)
    earlier = [OnnxModel(path, 1) for path in args.earlier]
    if not (model.takes_hints and model.z_dim):
        sys.exit(f"error: {args.model} takes no hints or no code: these pictures are for a contract-2 model")
    size = model.resolution
    args.out.mkdir(parents=True, exist_ok=True)

    names, drawn = read_sketches(args.sketches, size)
    if args.hint_sketch not in names:
        sys.exit(f"error: no {args.hint_sketch} in {args.sketches}")
    gray = drawn[names.index(args.hint_sketch)]
    blank = np.zeros((4, size, size), np.float32)
    row = [gray, face(model, gray)]
    for _, hint_set in HINT_SETS:
        hints = paint_hints(size, hint_set)
        row += [shown(gray, hints), face(model, gray, hints)]
    save(args.out / "hints.png", [row_image(row[:4]), row_image(row[4:])])

    variations = [face(model, gray, blank, z_from_seed(seed, model.z_dim)) for seed in range(6)]
    save(args.out / "variations.png", [row_image([gray, *variations])])

    save(args.out / "drawn.png", [row_image([g, face(v1, g), *(face(m, g) for m in earlier), face(model, g)])
                                  for g in drawn])
    columns = " | ".join(["sketch", "v1", *(p.name for p in args.earlier), args.model.name])
    print(f"drawn rows ({columns}):", ", ".join(names))
    return 0


if __name__ == "__main__":
    sys.exit(main())

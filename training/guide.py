"""The drawing guide: the mean "hand" sketch of the training faces.

    python -m training.guide --data training/data/synthetic --out assets/guide.png

Averages the hand-style sketch (the style users draw, see sketches.hand) of a few thousand
training faces, each also mirrored as training does, into a soft symmetric template of where the
head outline, eyes, nose and mouth usually are. The contrast is normalised so that the usual
lines are dark gray and the paper is white: the app draws the image at low alpha under the
canvas (src/app/canvas.rs, GUIDE_ALPHA), which makes it faint there. Written as a grayscale PNG,
upscaled with Lanczos.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import cv2
import numpy as np
from tqdm import tqdm

from training import sketches

DARKEST = 40  # gray of the most usual lines (0 = black); the paper stays 255
PAPER_PERCENTILE = 45  # darkness at or below this percentile of the mean sketch becomes paper
LINE_PERCENTILE = 99.5  # darkness at or above this percentile becomes DARKEST
GAMMA = 0.7  # < 1 lifts the fainter head outline beside the dark eyes, nose and mouth


def mean_sketch(faces: np.ndarray, count: int, seed: int) -> np.ndarray:
    """Mean ink (0 paper .. 1 black) of the hand sketches of `count` faces and their mirrors."""
    rng = np.random.default_rng(seed)
    chosen = np.sort(rng.choice(len(faces), size=min(count, len(faces)), replace=False))
    total = np.zeros(faces.shape[1:3], np.float64)
    for i in tqdm(chosen, desc="mean hand sketch", unit="face"):
        sketch = sketches.hand(np.ascontiguousarray(faces[i]), np.random.default_rng([seed, int(i)]))
        ink = 1.0 - sketch.astype(np.float64) / 255
        total += ink + ink[:, ::-1]
    return total / (2 * len(chosen))


def template(ink: np.ndarray, size: int, blur_px: float = 0.6) -> np.ndarray:
    """Contrast-normalised, softened, upscaled guide: uint8 [size, size], white paper."""
    soft = cv2.GaussianBlur(ink.astype(np.float32), (0, 0), blur_px * ink.shape[0] / 128)
    lo, hi = np.percentile(soft, [PAPER_PERCENTILE, LINE_PERCENTILE])
    level = np.clip((soft - lo) / max(hi - lo, 1e-6), 0, 1) ** GAMMA
    gray = 255 - level * (255 - DARKEST)
    big = cv2.resize(gray, (size, size), interpolation=cv2.INTER_LANCZOS4)
    return np.clip(np.round(big), 0, 255).astype(np.uint8)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", type=Path, default=Path("training/data/synthetic"))
    parser.add_argument("--out", type=Path, default=Path("assets/guide.png"))
    parser.add_argument("--count", type=int, default=3000, help="training faces to average (default 3000)")
    parser.add_argument("--size", type=int, default=512, help="output side in pixels (default 512)")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)

    path = args.data / "train.npy"
    if not path.exists():
        sys.exit(f"error: no training faces at {path}; make a dataset first with "
                 f"python -m training.prepare --synthetic N --out {args.data}")
    faces = np.load(path, mmap_mode="r")
    ink = mean_sketch(faces, args.count, args.seed)
    guide = template(ink, args.size)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    if not cv2.imwrite(str(args.out), guide):
        sys.exit(f"error: could not write {args.out}")
    print(json.dumps({"out": str(args.out), "faces": int(min(args.count, len(faces))), "size": args.size,
                      "mean_ink": round(float(ink.mean()), 4), "max_ink": round(float(ink.max()), 4)}))
    return 0


if __name__ == "__main__":
    sys.exit(main())

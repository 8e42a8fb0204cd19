"""Fixtures for tests/sketchify.rs, and a measurement of the Rust recipe against OpenCV's.

    .venv/bin/python scripts/make_sketchify_fixtures.py            # writes tests/data/sketchify/
    .venv/bin/python scripts/make_sketchify_fixtures.py --measure 100
        # N UTKFace and N CelebA test photos (training/data/*/test.npy): each made a sketch by
        # OpenCV (training/sketches.py) and by `target/debug/sketch2face sketchify`, and the
        # F1 of their edge pixels (matched within 1 px) printed: median and worst

The fixtures are scikit-image's bundled sample photos (free of copyright: see
tests/data/sketchify/README.md), made smaller, saved as PNG (so Rust reads the very pixels
OpenCV did), each with `<name>.canny2017.png`, the sketch training's `canny2017` makes of it, and
for one photo `<name>.xdog.png`, training's `xdog` with the middle of its random parameters.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
from pathlib import Path

import cv2
import numpy as np
import skimage.data

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
from training.sketches import canny2017, xdog  # noqa: E402

OUT = ROOT / "tests" / "data" / "sketchify"
LONGEST_SIDE = 192


class Middle:
    """An `rng` for `xdog` that draws the middle of every range: its deterministic form."""

    def uniform(self, low: float, high: float) -> float:
        return (low + high) / 2


def photos() -> dict[str, np.ndarray]:
    astronaut = skimage.data.astronaut()
    return {
        "astronaut": astronaut,
        "astronaut_face": astronaut[20:240, 140:340],
        "chelsea": skimage.data.chelsea(),
        "coffee": skimage.data.coffee(),
        "rocket": skimage.data.rocket(),
        "camera": np.repeat(skimage.data.camera()[..., None], 3, axis=2),
    }


def shrink(rgb: np.ndarray, longest: int) -> np.ndarray:
    h, w = rgb.shape[:2]
    scale = longest / max(h, w)
    return cv2.resize(rgb, (round(w * scale), round(h * scale)), interpolation=cv2.INTER_AREA)


def write_png(path: Path, image: np.ndarray) -> None:
    if image.ndim == 3:
        image = cv2.cvtColor(image, cv2.COLOR_RGB2BGR)
    cv2.imwrite(str(path), image, [cv2.IMWRITE_PNG_COMPRESSION, 9])


def read_gray(path: Path) -> np.ndarray:
    return cv2.imread(str(path), cv2.IMREAD_GRAYSCALE)


def edge_f1(found: np.ndarray, expected: np.ndarray, tolerance: int = 1) -> float:
    """tests/sketchify.rs's F1 (`sketchify::edge_f1`): edge pixels are ink (< 128); a pixel
    counts as matched when one of the other's lies within `tolerance` px (a square)."""
    found, expected = found < 128, expected < 128
    if not found.any() and not expected.any():
        return 1.0
    if not found.any() or not expected.any():
        return 0.0
    kernel = np.ones((2 * tolerance + 1,) * 2, np.uint8)
    near = lambda mask: cv2.dilate(mask.astype(np.uint8), kernel).astype(bool)  # noqa: E731
    precision = (found & near(expected)).sum() / found.sum()
    recall = (expected & near(found)).sum() / expected.sum()
    return 0.0 if precision + recall == 0 else 2 * precision * recall / (precision + recall)


def make_fixtures() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    for name, rgb in photos().items():
        small = shrink(rgb, LONGEST_SIDE)
        write_png(OUT / f"{name}.png", small)
        # The sketch of the pixels as saved, read back the way Rust reads them.
        saved = cv2.cvtColor(cv2.imread(str(OUT / f"{name}.png")), cv2.COLOR_BGR2RGB)
        write_png(OUT / f"{name}.canny2017.png", canny2017(saved))
        if name == "astronaut_face":
            write_png(OUT / f"{name}.xdog.png", xdog(saved, Middle()))
    total = sum(p.stat().st_size for p in OUT.glob("*.png"))
    print(f"wrote {len(list(OUT.glob('*.png')))} files, {total / 1024:.0f} KiB, to {OUT}")


def measure(count: int) -> None:
    binary = ROOT / "target" / "debug" / "sketch2face"
    for dataset in ("utkface192", "celeba"):
        faces = np.load(ROOT / "training" / "data" / dataset / "test.npy", mmap_mode="r")
        picks = np.linspace(0, len(faces) - 1, count).round().astype(int)
        with tempfile.TemporaryDirectory() as folder:
            folder = Path(folder)
            names = []
            for i in picks:
                names.append(folder / f"{dataset}-{i}.png")
                write_png(names[-1], np.ascontiguousarray(faces[i]))
            subprocess.run([binary, "sketchify", *names, "--out", folder / "rust"], check=True,
                           stdout=subprocess.DEVNULL)
            scores, same = [], 0
            for name in names:
                rgb = cv2.cvtColor(cv2.imread(str(name)), cv2.COLOR_BGR2RGB)
                rust, opencv = read_gray(folder / "rust" / name.name), canny2017(rgb)
                scores.append(edge_f1(rust, opencv))
                same += np.array_equal(rust, opencv)
            scores = np.array(scores)
            print(f"{dataset}: {len(scores)} photos {faces.shape[1]} x {faces.shape[2]}, F1 median "
                  f"{np.median(scores):.4f}, worst {scores.min():.4f}, pixel for pixel the same: {same}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--measure", type=int, metavar="N", help="measure on N photos of each test set")
    args = parser.parse_args()
    if args.measure:
        measure(args.measure)
    else:
        make_fixtures()

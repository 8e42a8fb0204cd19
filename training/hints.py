"""Colour hints: what a user paints with the colour tool, simulated from the real face.

A hint image is float32 [4, H, W]: RGB in [-1, 1] where colour was painted, 0 elsewhere, and a
mask channel that is exactly 1 there and 0 elsewhere (the model contract's `hints` input).

People paint a few short, broad strokes: on the skin, the hair, sometimes the eyes or the
background. Each simulated stroke is a short polyline drawn with the app's rasterizer; its colour
is the real face's mean colour under the stroke with a small jitter (a user picks a colour
close to, not exactly, the one they mean). The number of strokes is geometric: often none,
sometimes fifteen or more.
"""

from __future__ import annotations

import numpy as np

from training import raster
from training.augment import Frame

NO_HINTS_P = 0.35
STROKES_P = 0.12  # geometric parameter: mean ~8 strokes when there are any, 15+ about 1 in 6
MAX_STROKES = 40
WIDTH_RANGE = (0.02, 0.06)  # fraction of the canvas: the colour brush is broad
COLOUR_JITTER = 0.04  # standard deviation, in [0, 1] colour units
COVERAGE_THRESHOLD = 128  # a pixel is hinted where the stroke covers at least half of it


def stroke_count(rng: np.random.Generator) -> int:
    if rng.random() < NO_HINTS_P:
        return 0
    return int(min(MAX_STROKES, rng.geometric(STROKES_P)))


def _start_point(frame: Frame, size: int, rng: np.random.Generator) -> tuple[float, float]:
    """Mostly on the face (the middle of the crop) and the hair (its top), sometimes anywhere."""
    where = rng.random()
    if where < 0.65:
        u, v = rng.normal(0.5, 0.16), rng.normal(0.58, 0.16)
    elif where < 0.9:
        u, v = rng.uniform(0.1, 0.9), rng.uniform(-0.1, 0.2)
    else:
        return rng.uniform(0, size), rng.uniform(0, size)
    return frame.x + u * frame.side, frame.y + v * frame.side


def random_strokes(frame: Frame, size: int, rng: np.random.Generator) -> list[dict]:
    strokes = []
    for _ in range(stroke_count(rng)):
        x, y = _start_point(frame, size, rng)
        length = rng.uniform(0.04, 0.2) * size
        heading = rng.uniform(0, 2 * np.pi)
        points = []
        for i in range(int(rng.integers(2, 6))):
            points.append({"x": float(np.clip(x, 0, size)) / size, "y": float(np.clip(y, 0, size)) / size,
                           "pressure": 0.5})
            heading += rng.normal(0, 0.6)
            step = length / 4
            x, y = x + step * np.cos(heading), y + step * np.sin(heading)
        strokes.append({"tool": "Brush", "width": float(rng.uniform(*WIDTH_RANGE)), "points": points})
    return strokes


def paint(face: np.ndarray, strokes: list[dict], rng: np.random.Generator | None) -> np.ndarray:
    """Hints [4, H, W] for strokes on a face (uint8 RGB [H, W, 3]): each stroke carries the
    face's mean colour under it (jittered when rng is given); later strokes paint over earlier."""
    size = face.shape[0]
    hints = np.zeros((4, size, size), np.float32)
    colours = face.astype(np.float32) / 255.0
    for stroke in strokes:
        covered = raster.rasterize([stroke], size) < COVERAGE_THRESHOLD
        if not covered.any():
            continue
        colour = colours[covered].mean(0)
        if rng is not None:
            colour = np.clip(colour + rng.normal(0, COLOUR_JITTER, 3), 0, 1)
        hints[:3, covered] = (colour * 2 - 1)[:, None]
        hints[3, covered] = 1.0
    return hints


def simulate(face: np.ndarray, frame: Frame, rng: np.random.Generator) -> np.ndarray:
    return paint(face, random_strokes(frame, face.shape[0], rng), rng)

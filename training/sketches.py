"""Sketches made from face photos, on the fly during training.

Four styles, picked at random per sample:
- "canny2017": the 2017 cgan-face-generator recipe (grayscale, 3x3 Gaussian blur, Otsu threshold t,
  Canny(0.5t, t), inverted to black on white): dense edge maps;
- "xdog": an eXtended Difference-of-Gaussians line drawing: softer, pencil-like;
- "hand": edges thinned to a skeleton, traced into polylines and redrawn with the app's own
  rasterizer as smooth anti-aliased strokes of random width and slight jitter, with short
  edges dropped: sparse, clean lines, like what a person draws on the canvas;
- "drawn": the face drawn the way people draw one, from its landmarks (training/landmarks.py):
  jaw, brows, eyes with pupils, nose and lips as a few clean outlines over empty skin, and
  the hair and shoulders outside the face as the "hand" style's lines. Edge maps of a photo
  are full of texture no one draws; this style draws what people do.
All return uint8 [H, W] images, black ink (0) on white paper (255).
"""

from __future__ import annotations

import cv2
import numpy as np
from skimage.morphology import skeletonize

from training import raster

STYLES = ("canny2017", "xdog", "hand", "drawn")
# What users draw gets most of the training signal. Without landmarks a "drawn" sample falls back
# to "hand" (make_sketch), so datasets without them train as before.
STYLE_WEIGHTS = (0.15, 0.15, 0.3, 0.4)
HAND_WIDTH_RANGE = (0.006, 0.016)  # fraction of the canvas side; the app's default brush is 0.010


def to_gray(rgb: np.ndarray) -> np.ndarray:
    return cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY)


def canny2017(rgb: np.ndarray) -> np.ndarray:
    gray = cv2.GaussianBlur(to_gray(rgb), (3, 3), 0)
    t, _ = cv2.threshold(gray, 0, 255, cv2.THRESH_BINARY + cv2.THRESH_OTSU)
    edges = cv2.Canny(gray, 0.5 * t, t)
    return 255 - edges


def xdog(rgb: np.ndarray, rng: np.random.Generator | None = None) -> np.ndarray:
    """Winnemoeller et al. 2012, thresholded form: sharpened DoG and a soft tanh threshold.
    The threshold is a quantile of the response, so dark and bright faces get the same amount of
    ink (the fixed threshold of the paper assumes evenly lit photos)."""
    rng = rng or np.random.default_rng(0)
    size = rgb.shape[0]
    sigma = rng.uniform(0.6, 1.0) * size / 128
    k, p, phi = 1.6, rng.uniform(15, 25), rng.uniform(40, 80)
    gray = to_gray(rgb).astype(np.float32) / 255.0
    g1 = cv2.GaussianBlur(gray, (0, 0), sigma)
    g2 = cv2.GaussianBlur(gray, (0, 0), sigma * k)
    response = (g1 - g2) * p + g1.mean()  # sharpened detail around a flat mid level
    epsilon = np.quantile(response, rng.uniform(0.08, 0.14))
    out = np.where(response >= epsilon, 1.0, 1.0 + np.tanh(phi * (response - epsilon)))
    return (np.clip(out, 0, 1) * 255).astype(np.uint8)


_NEIGHBOURS = ((0, 1), (1, 0), (0, -1), (-1, 0), (1, 1), (1, -1), (-1, 1), (-1, -1))


def trace_polylines(skeleton: np.ndarray) -> list[np.ndarray]:
    """Polylines (arrays of (row, col)) covering a one-pixel-wide skeleton, walked from line
    ends first, then around closed loops."""
    h, w = skeleton.shape
    on = skeleton.astype(bool)
    padded = np.pad(on, 1).astype(np.uint8)
    count = sum(np.roll(np.roll(padded, dy, 0), dx, 1) for dy, dx in _NEIGHBOURS)[1:-1, 1:-1]
    visited = np.zeros_like(on)
    ends = list(zip(*np.nonzero(on & (count == 1))))
    rest = list(zip(*np.nonzero(on)))
    lines = []
    for start in ends + rest:
        if visited[start]:
            continue
        path = [start]
        visited[start] = True
        y, x = start
        while True:
            for dy, dx in _NEIGHBOURS:
                ny, nx = y + dy, x + dx
                if 0 <= ny < h and 0 <= nx < w and on[ny, nx] and not visited[ny, nx]:
                    break
            else:
                break
            y, x = ny, nx
            visited[y, x] = True
            path.append((y, x))
        lines.append(np.array(path, dtype=np.float32))
    return lines


def hand(rgb: np.ndarray, rng: np.random.Generator | None = None) -> np.ndarray:
    return raster.rasterize(hand_strokes(rgb, rng), rgb.shape[0])


def hand_strokes(rgb: np.ndarray, rng: np.random.Generator | None = None) -> list[dict]:
    """The strokes of the `hand` style: the photo's edges traced as polylines, simplified,
    jittered, thinned out the way people leave lines out."""
    rng = rng or np.random.default_rng(0)
    size = rgb.shape[0]
    gray = to_gray(rgb)
    blurred = cv2.GaussianBlur(gray, (0, 0), rng.uniform(1.2, 2.0) * size / 128)
    t, _ = cv2.threshold(blurred, 0, 255, cv2.THRESH_BINARY + cv2.THRESH_OTSU)
    low = rng.uniform(0.4, 0.6)
    edges = cv2.Canny(blurred, low * t, t) > 0
    lines = trace_polylines(skeletonize(edges))

    min_length = rng.uniform(0.03, 0.07) * size  # people do not draw specks
    base_width = rng.uniform(*HAND_WIDTH_RANGE)
    jitter = rng.uniform(0.2, 0.6)  # pixels
    drop = rng.uniform(0.0, 0.2)  # people leave out lines the edges have
    strokes = []
    for line in lines:
        if len(line) < min_length and rng.random() < 0.85:
            continue
        if rng.random() < drop:
            continue
        simplified = cv2.approxPolyDP(line[:, ::-1].reshape(-1, 1, 2), 0.8, False).reshape(-1, 2)
        if len(simplified) < 2:
            continue
        simplified = simplified + rng.normal(0, jitter, simplified.shape)
        pressure = float(rng.uniform(0.4, 0.6))
        strokes.append({
            "tool": "Brush",
            "width": base_width * rng.uniform(0.85, 1.15),
            # Pixel (col, row) is centred at (col + 0.5, row + 0.5) on the canvas.
            "points": [{"x": (x + 0.5) / size, "y": (y + 0.5) / size, "pressure": pressure} for x, y in simplified],
        })
    return strokes


def stroke(points: np.ndarray, width: float, pressure: float, size: int) -> dict:
    return {"tool": "Brush", "width": width,
            "points": [{"x": float(x) / size, "y": float(y) / size, "pressure": pressure} for x, y in points]}


def _runs_below(points: np.ndarray, y_limit: float) -> list[np.ndarray]:
    """The runs of consecutive points of a closed loop that lie below `y_limit` (image rows grow
    downward), joined across the loop's seam."""
    below = points[:, 1] > y_limit
    if below.all():
        return [points]
    shift = int(np.argmin(below))  # start at a point above, so no run crosses the seam
    points, below = np.roll(points, -shift, 0), np.roll(below, -shift)
    runs, current = [], []
    for point, keep in zip(points, below):
        if keep:
            current.append(point)
        elif current:
            runs.append(np.array(current))
            current = []
    if current:
        runs.append(np.array(current))
    return [r for r in runs if len(r) >= 2]


def drawn(rgb: np.ndarray, points: np.ndarray, parts: dict[str, list[list[int]]],
          rng: np.random.Generator | None = None) -> np.ndarray:
    """The face drawn from its landmarks (`points`: [478, 2] pixels on this canvas; `parts`:
    polylines of indices per part, training/landmarks.py). Each part is a little misplaced and
    wobbly, and sometimes left out, as in people's drawings."""
    rng = rng or np.random.default_rng(0)
    size = rgb.shape[0]
    strokes, oval = feature_strokes(points, parts, size, rng)
    face = raster.rasterize(strokes, size)

    if oval and rng.random() < 0.8:  # hair, ears, neck and shoulders: the photo's own lines
        outside = hand(rgb, rng)
        loop = np.concatenate([line[:-1] for line in oval])
        centre = loop.mean(0)
        grown = ((loop - centre) * 1.06 + centre).round().astype(np.int32)
        cv2.fillPoly(outside, [grown], 255)
        face = np.minimum(face, outside)
    return face


def feature_strokes(points: np.ndarray, parts: dict[str, list[list[int]]], size: int,
                    rng: np.random.Generator) -> tuple[list[dict], list[np.ndarray]]:
    """The `drawn` style's strokes of the face itself (outline, brows, eyes, pupils, nose,
    lips, in that order, as people draw them), and the face oval's polylines."""
    unit = size / 128
    base_width = rng.uniform(*HAND_WIDTH_RANGE)
    pressure = float(rng.uniform(0.4, 0.6))
    strokes = []

    def polyline(name: str) -> list[np.ndarray]:
        return [points[np.array(line)] for line in parts.get(name, []) if len(line) >= 2]

    def misplaced(lines: list[np.ndarray]) -> list[np.ndarray]:
        offset = rng.normal(0, 0.6 * unit, 2)
        return [line + offset + rng.normal(0, 0.25 * unit, line.shape) for line in lines]

    def add(lines: list[np.ndarray], width_scale: float = 1.0) -> None:
        for line in misplaced(lines):
            strokes.append(stroke(line, base_width * width_scale * rng.uniform(0.9, 1.1), pressure, size))

    oval = polyline("face_oval")
    brows = polyline("left_eyebrow") + polyline("right_eyebrow")
    brow_level = min(float(line[:, 1].mean()) for line in brows) if brows else 0.0
    if oval:
        loop = np.concatenate([line[:-1] for line in oval])
        # Often the forehead's outline is hidden by hair, and people draw the jaw and cheeks only.
        add([loop[list(range(len(loop))) + [0]]] if rng.random() < 0.5 else _runs_below(loop, brow_level))
    for side in ("left", "right"):
        lines = polyline(f"{side}_eyebrow")
        if lines and rng.random() < 0.5:  # a single line, the brow's upper edge
            lines = [min(lines, key=lambda line: float(line[:, 1].mean()))]
        if rng.random() < 0.95:
            add(lines, 1.2)
        add(polyline(f"{side}_eye"))
        iris = points[sorted({i for line in parts.get(f"{side}_iris", []) for i in line})]
        if len(iris) and rng.random() < 0.9:
            centre = iris.mean(0) + rng.normal(0, 0.3 * unit, 2)
            radius = float(np.linalg.norm(iris - iris.mean(0), axis=1).mean())
            dot = radius * rng.uniform(0.35, 0.7)  # a pupil: a filled dot
            strokes.append(stroke(centre[None], 2 * dot / (size * (0.5 + pressure)), pressure, size))
    add([line for line in polyline("nose") if rng.random() < 0.85])
    add([line for line in polyline("lips") if rng.random() < 0.9])
    return strokes, oval


def make_sketch(rgb: np.ndarray, style: str, rng: np.random.Generator,
                landmarks: tuple[np.ndarray, dict] | None = None) -> np.ndarray:
    """`landmarks` (points on this canvas, parts) feed the "drawn" style; a face without them
    gets a "hand" sketch instead."""
    if style == "canny2017":
        return canny2017(rgb)
    if style == "xdog":
        return xdog(rgb, rng)
    if style == "hand" or (style == "drawn" and (landmarks is None or not np.isfinite(landmarks[0]).all())):
        return hand(rgb, rng)
    if style == "drawn":
        return drawn(rgb, landmarks[0], landmarks[1], rng)
    raise ValueError(f"unknown sketch style {style!r}; expected one of {STYLES}")


def random_style(rng: np.random.Generator) -> str:
    return str(rng.choice(STYLES, p=STYLE_WEIGHTS))

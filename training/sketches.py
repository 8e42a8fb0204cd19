"""Sketches made from face photos, on the fly during training.

Three styles, picked at random per sample:
- "canny2017": the 2017 cgan-face-generator recipe (grayscale, 3x3 Gaussian blur, Otsu threshold t,
  Canny(0.5t, t), inverted to black on white): dense edge maps;
- "xdog": an eXtended Difference-of-Gaussians line drawing: softer, pencil-like;
- "hand": edges thinned to a skeleton, traced into polylines and redrawn with the app's own
  rasterizer as smooth anti-aliased strokes of random width and slight jitter, with short
  edges dropped: sparse, clean lines, like what a person draws on the canvas.
All return uint8 [H, W] images, black ink (0) on white paper (255).
"""

from __future__ import annotations

import cv2
import numpy as np
from skimage.morphology import skeletonize

from training import raster

STYLES = ("canny2017", "xdog", "hand")
STYLE_WEIGHTS = (0.2, 0.2, 0.6)  # the hand style is what users draw: most of the training signal
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
    return raster.rasterize(strokes, size)


def make_sketch(rgb: np.ndarray, style: str, rng: np.random.Generator) -> np.ndarray:
    if style == "canny2017":
        return canny2017(rgb)
    if style == "xdog":
        return xdog(rgb, rng)
    if style == "hand":
        return hand(rgb, rng)
    raise ValueError(f"unknown sketch style {style!r}; expected one of {STYLES}")


def random_style(rng: np.random.Generator) -> str:
    return str(rng.choice(STYLES, p=STYLE_WEIGHTS))

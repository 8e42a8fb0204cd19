"""Training-time augmentation for the v2 model: how faces are framed, and how rough sketches are.

Real face crops are tight (eyebrows to chin fill the frame) while people draw whole heads, often
small, on empty paper. `reframe` zooms a face in, or out onto a plain or softly blurred
background behind a feathered oval, and reports where the face went; the sketch is made from
the reframed face afterwards, so sketch and face stay aligned by construction. `roughen`
then moves the sketch toward what a hand draws: jittered, thicker or thinner, gappy lines.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

ZOOM_OUT_P, ZOOM_OUT_RANGE = 0.4, (0.5, 0.9)
ZOOM_IN_P, ZOOM_IN_RANGE = 0.2, (1.0, 1.25)


@dataclass(frozen=True)
class Frame:
    """Where the original face square lies on the canvas, in pixels: top-left corner and side."""
    x: float
    y: float
    side: float


def _background(face: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    size = face.shape[0]
    kind = rng.choice(3, p=(0.4, 0.35, 0.25))
    if kind == 0:  # a plain wall: a colour near the photo's edge colour, lightened a little
        edge = np.concatenate([face[0], face[-1], face[:, 0], face[:, -1]]).mean(0)
        colour = np.clip(edge * rng.uniform(0.8, 1.1) + rng.uniform(10, 50), 0, 255)
        return np.broadcast_to(colour, face.shape).astype(np.uint8).copy()
    if kind == 1:  # out of focus: the photo itself, enlarged and heavily blurred
        zoom = cv2.resize(face, (size * 2, size * 2))[size // 2 : size // 2 + size, size // 2 : size // 2 + size]
        return cv2.GaussianBlur(zoom, (0, 0), size / 10)
    grey = rng.uniform(180, 245)  # a studio backdrop
    return np.full_like(face, int(grey))


def reframe(face: np.ndarray, rng: np.random.Generator) -> tuple[np.ndarray, Frame]:
    """The face zoomed out (a head on a background, feathered oval edge), zoomed in, or as it
    is, and the frame of the original square on the result."""
    size = face.shape[0]
    roll = rng.random()
    if roll < ZOOM_OUT_P:
        scale = rng.uniform(*ZOOM_OUT_RANGE)
        side = int(round(size * scale))
        slack = size - side
        # Mostly centred, a little high or low, as drawn heads are.
        x0 = int(np.clip(round(slack / 2 + rng.normal(0, slack / 6)), 0, slack))
        y0 = int(np.clip(round(slack / 2 + rng.normal(0, slack / 6)), 0, slack))
        small = cv2.resize(face, (side, side), interpolation=cv2.INTER_AREA)
        canvas = _background(face, rng).astype(np.float32)
        alpha = np.zeros((size, size), np.float32)
        centre = (x0 + side / 2, y0 + side / 2)
        axes = (side * rng.uniform(0.46, 0.52), side * rng.uniform(0.52, 0.6))
        cv2.ellipse(alpha, (int(centre[0]), int(centre[1])), (int(axes[0]), int(axes[1])), 0, 0, 360, 1.0, -1)
        alpha = cv2.GaussianBlur(alpha, (0, 0), max(1.0, side * 0.05))
        placed = canvas.copy()
        placed[y0 : y0 + side, x0 : x0 + side] = small
        out = canvas * (1 - alpha[..., None]) + placed * alpha[..., None]
        return np.clip(out.round(), 0, 255).astype(np.uint8), Frame(x0, y0, side)
    if roll < ZOOM_OUT_P + ZOOM_IN_P:
        scale = rng.uniform(*ZOOM_IN_RANGE)
        crop = size / scale
        x0 = rng.uniform(0, size - crop)
        y0 = rng.uniform(0, size - crop)
        matrix = np.float32([[scale, 0, -x0 * scale], [0, scale, -y0 * scale]])
        out = cv2.warpAffine(face, matrix, (size, size), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REFLECT)
        return out, Frame(-x0 * scale, -y0 * scale, size * scale)
    return face, Frame(0.0, 0.0, float(size))


def roughen(sketch: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """A sketch (uint8, ink 0 on paper 255) made rougher, each change with its own chance:
    elastic jitter, a small affine wobble, thicker or thinner lines, gaps, binarisation."""
    size = sketch.shape[0]
    out = sketch
    if rng.random() < 0.5:  # smooth random displacement, about a pixel: a hand is not a plotter
        amplitude = rng.uniform(0.5, 1.8) * size / 128
        field = rng.normal(0, 1, (2, size, size)).astype(np.float32)
        field = np.stack([cv2.GaussianBlur(f, (0, 0), size / 16) for f in field])
        field *= amplitude / (np.abs(field).max() + 1e-6)
        ys, xs = np.mgrid[0:size, 0:size].astype(np.float32)
        out = cv2.remap(out, xs + field[0], ys + field[1], cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
    if rng.random() < 0.3:
        angle, scale = rng.uniform(-3, 3), rng.uniform(0.96, 1.04)
        matrix = cv2.getRotationMatrix2D((size / 2, size / 2), angle, scale)
        matrix[:, 2] += rng.uniform(-2, 2, 2) * size / 128
        out = cv2.warpAffine(out, matrix, (size, size), flags=cv2.INTER_LINEAR, borderValue=255)
    thickness = rng.random()
    if thickness < 0.25:  # ink spreads: erode the white paper
        out = cv2.erode(out, np.ones((2, 2), np.uint8))
    elif thickness < 0.35:
        out = cv2.dilate(out, np.ones((2, 2), np.uint8))
    if rng.random() < 0.35:  # gaps: a few spots where the line was never drawn
        out = out.copy()
        for _ in range(rng.integers(1, 6)):
            centre = tuple(int(v) for v in rng.integers(0, size, 2))
            cv2.circle(out, centre, int(rng.uniform(0.02, 0.07) * size), 255, -1)
    if rng.random() < 0.25:
        out = np.where(out < rng.uniform(100, 200), 0, 255).astype(np.uint8)
    return np.ascontiguousarray(out)

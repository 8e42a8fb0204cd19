"""The drawing rasterizer, in Python, following the same rules as the app's Rust rasterizer
(src/sketch/raster.rs), so that the model is trained on what the canvas produces.

A drawing is a list of strokes: {"tool": "Brush" | "Eraser", "width": w, "points": [{"x", "y", "pressure"}]}
with x, y normalised to the canvas side and w a fraction of the canvas side at pressure 0.5.
tests/test_raster.py checks this renderer against the Rust one on a shared fixture.

Rules:
1. Canvas S x S, white. A point (x, y) maps to pixel (x*S, y*S).
2. Brush paints black, eraser paints white, source-over, anti-aliased.
3. Uniform Catmull-Rom through the points (ends duplicated), 8 pieces per segment, pressure
   interpolated linearly; consecutive duplicate points removed first.
4. Width in pixels w = width * S * (0.5 + pressure), quantised to 0.25 px, at least 0.25.
5. Runs of consecutive pieces with the same quantised width (a piece takes its end sample's
   width) are stroked as one path with round caps and joins.
6. A stroke with a single distinct point is a filled circle of diameter w.
"""

from __future__ import annotations

import math

import numpy as np
import skia

SUBDIVISIONS = 8
WIDTH_QUANTUM = 0.25


def _dedup(points: list[tuple[float, float, float]]) -> list[tuple[float, float, float]]:
    out: list[tuple[float, float, float]] = []
    for p in points:
        if not out or (p[0], p[1]) != (out[-1][0], out[-1][1]):
            out.append(p)
    return out


def smooth(points: list[tuple[float, float, float]]) -> list[tuple[float, float, float]]:
    """Samples (x, y, pressure) of the Catmull-Rom spline through the points."""
    pts = _dedup(points)
    if len(pts) < 2:
        return pts
    samples = [pts[0]]
    n = len(pts)
    for i in range(n - 1):
        p0, p1, p2, p3 = pts[max(i - 1, 0)], pts[i], pts[i + 1], pts[min(i + 2, n - 1)]
        for k in range(1, SUBDIVISIONS + 1):
            t = k / SUBDIVISIONS
            t2, t3 = t * t, t * t * t
            xy = [
                0.5 * ((2 * p1[c]) + (-p0[c] + p2[c]) * t + (2 * p0[c] - 5 * p1[c] + 4 * p2[c] - p3[c]) * t2
                       + (-p0[c] + 3 * p1[c] - 3 * p2[c] + p3[c]) * t3)
                for c in (0, 1)
            ]
            pressure = p1[2] + (p2[2] - p1[2]) * t
            samples.append((xy[0], xy[1], pressure))
    return samples


def pixel_width(width: float, pressure: float, size: int) -> float:
    w = width * size * (0.5 + min(max(pressure, 0.0), 1.0))
    # Halves round up, as in the Rust rasterizer (Python's round() would round them to even).
    return max(WIDTH_QUANTUM, math.floor(w / WIDTH_QUANTUM + 0.5) * WIDTH_QUANTUM)


def _paint(color: int, width: float, fill: bool) -> skia.Paint:
    return skia.Paint(
        AntiAlias=True,
        Color=skia.ColorSetARGB(255, color, color, color),
        Style=skia.Paint.kFill_Style if fill else skia.Paint.kStroke_Style,
        StrokeWidth=width,
        StrokeCap=skia.Paint.kRound_Cap,
        StrokeJoin=skia.Paint.kRound_Join,
    )


def draw_stroke(canvas: skia.Canvas, stroke: dict, size: int) -> None:
    color = 0 if stroke.get("tool", "Brush") == "Brush" else 255
    points = [(p["x"] * size, p["y"] * size, p.get("pressure", 0.5)) for p in stroke["points"]]
    samples = smooth(points)
    if not samples:
        return
    if len(samples) == 1:
        x, y, pressure = samples[0]
        w = pixel_width(stroke["width"], pressure, size)
        canvas.drawCircle(x, y, w / 2, _paint(color, w, fill=True))
        return
    widths = [pixel_width(stroke["width"], s[2], size) for s in samples]
    start = 0
    for end in range(1, len(samples)):
        last_piece = end == len(samples) - 1
        if last_piece or widths[end + 1] != widths[end]:
            path = skia.Path()
            path.moveTo(samples[start][0], samples[start][1])
            for s in samples[start + 1 : end + 1]:
                path.lineTo(s[0], s[1])
            canvas.drawPath(path, _paint(color, widths[end], fill=False))
            start = end


def rasterize(strokes: list[dict], size: int) -> np.ndarray:
    """uint8 [size, size] grayscale image of the drawing, ink black on white."""
    surface = skia.Surface(size, size)
    with surface as canvas:
        canvas.clear(skia.ColorWHITE)
        for stroke in strokes:
            draw_stroke(canvas, stroke, size)
    rgba = surface.makeImageSnapshot().toarray()
    return np.ascontiguousarray(rgba[:, :, 0])

"""Writes face_30_strokes.json: a typical hand-drawn face of 30 strokes for the benchmarks.

    python3 benches/data/make_face_fixture.py > benches/data/face_30_strokes.json

Deterministic (no randomness): ellipse arcs and curves sampled about every 1.5 % of the canvas
side, roughly what a mouse or pen at 60-120 Hz gives for a moderate drawing speed, with a
pressure that rises and falls along each stroke. Brush width 0.010 (the app's default brush).
"""

import json
import math

WIDTH = 0.010
STEP = 0.015


def arc(cx, cy, rx, ry, a0, a1):
    """An elliptical arc from angle a0 to a1 (degrees, 0 = right, 90 = down)."""
    length = abs(math.radians(a1 - a0)) * (rx + ry) / 2
    n = max(2, round(length / STEP) + 1)
    return [(cx + rx * math.cos(math.radians(a0 + (a1 - a0) * i / (n - 1))),
             cy + ry * math.sin(math.radians(a0 + (a1 - a0) * i / (n - 1)))) for i in range(n)]


def line(points):
    """A polyline through the given corners, resampled at STEP."""
    out = [points[0]]
    for (x0, y0), (x1, y1) in zip(points, points[1:]):
        n = max(1, round(math.hypot(x1 - x0, y1 - y0) / STEP))
        out += [(x0 + (x1 - x0) * i / n, y0 + (y1 - y0) * i / n) for i in range(1, n + 1)]
    return out


def stroke(points):
    n = len(points)
    return {"tool": "Brush", "width": WIDTH, "points": [
        {"x": round(x, 4), "y": round(y, 4), "pressure": round(0.4 + 0.2 * math.sin(math.pi * i / max(1, n - 1)), 3)}
        for i, (x, y) in enumerate(points)]}


strokes = [
    # head outline (2) and jaw/chin (1)
    arc(0.5, 0.48, 0.25, 0.32, 185, 355), arc(0.5, 0.48, 0.25, 0.32, 0, 90), arc(0.5, 0.48, 0.25, 0.32, 90, 180),
    # hair (6)
    arc(0.5, 0.34, 0.27, 0.20, 180, 360), arc(0.45, 0.30, 0.18, 0.12, 200, 330), arc(0.55, 0.30, 0.18, 0.12, 210, 340),
    line([(0.27, 0.36), (0.33, 0.27), (0.42, 0.22)]), line([(0.73, 0.36), (0.68, 0.26), (0.58, 0.21)]),
    line([(0.40, 0.20), (0.48, 0.26), (0.55, 0.23), (0.62, 0.28)]),
    # ears (2)
    arc(0.25, 0.50, 0.035, 0.07, 100, 280), arc(0.75, 0.50, 0.035, 0.07, -100, 80),
    # brows (2)
    arc(0.40, 0.43, 0.07, 0.025, 200, 340), arc(0.60, 0.43, 0.07, 0.025, 200, 340),
    # eyes: upper and lower lids (4), pupils (2)
    arc(0.40, 0.49, 0.055, 0.025, 180, 360), arc(0.40, 0.49, 0.055, 0.02, 0, 180),
    arc(0.60, 0.49, 0.055, 0.025, 180, 360), arc(0.60, 0.49, 0.055, 0.02, 0, 180),
    arc(0.40, 0.49, 0.012, 0.012, 0, 360), arc(0.60, 0.49, 0.012, 0.012, 0, 360),
    # nose (3)
    line([(0.49, 0.50), (0.47, 0.58), (0.46, 0.61)]), arc(0.50, 0.615, 0.04, 0.015, 160, 20),
    line([(0.53, 0.52), (0.54, 0.60)]),
    # mouth (3)
    arc(0.50, 0.69, 0.09, 0.02, 190, 350), arc(0.50, 0.69, 0.09, 0.03, 10, 170), line([(0.43, 0.70), (0.57, 0.70)]),
    # chin (1)
    arc(0.50, 0.78, 0.04, 0.012, 20, 160),
    # neck and shoulders (4)
    line([(0.42, 0.79), (0.41, 0.90), (0.30, 0.95), (0.15, 0.98)]),
    line([(0.58, 0.79), (0.59, 0.90), (0.70, 0.95), (0.85, 0.98)]),
    arc(0.50, 0.90, 0.06, 0.03, 20, 160), line([(0.35, 0.97), (0.42, 0.93)]),
]
assert len(strokes) == 30, len(strokes)
print(json.dumps({"strokes": [stroke(s) for s in strokes]}, indent=1))

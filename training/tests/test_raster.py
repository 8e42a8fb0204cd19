"""The Python rasterizer: the spec's rendering rules, and parity with the app's Rust rasterizer
(src/sketch/raster.rs) on a fixture both sides render."""

from __future__ import annotations

import json
from pathlib import Path

import cv2
import numpy as np
import pytest

from training import raster

REPO = Path(__file__).resolve().parents[2]
FIXTURE = REPO / "tests/data/raster_fixture.json"
FIXTURE_PNG = REPO / "tests/data/raster_fixture_128.png"  # rendered by the Rust rasterizer
PARITY_MEAN_ABS = 3.0  # gray levels: Skia and tiny-skia anti-alias edges slightly differently
PARITY_NEAR = 24
PARITY_NEAR_FRACTION = 0.99


def brush(points, width=0.02, tool="Brush"):
    return {"tool": tool, "width": width,
            "points": [{"x": x, "y": y, "pressure": p} for x, y, p in points]}


def test_blank_canvas_is_white():
    image = raster.rasterize([], 64)
    assert image.shape == (64, 64) and image.dtype == np.uint8
    assert (image == 255).all()


def test_a_line_darkens_its_path_only():
    image = raster.rasterize([brush([(0.2, 0.5, 0.5), (0.8, 0.5, 0.5)], width=0.05)], 100)
    # Pixel row 49 spans y 49..50, inside the 5 px wide line centred at y = 50.
    assert (image[49:51, 25:75] < 30).all(), "the line is black along its path"
    assert (image[:40] == 255).all() and (image[60:] == 255).all(), "nothing away from the line"
    assert (image[45:55, :15] == 255).all(), "nothing past the round cap"


def test_eraser_whitens_what_the_brush_painted():
    line = brush([(0.1, 0.5, 0.5), (0.9, 0.5, 0.5)], width=0.05)
    cut = brush([(0.5, 0.2, 0.5), (0.5, 0.8, 0.5)], width=0.1, tool="Eraser")
    painted = raster.rasterize([line], 100)
    erased = raster.rasterize([line, cut], 100)
    assert (painted[48:52, 47:53] < 30).all()
    assert (erased[48:52, 47:53] == 255).all(), "the eraser paints white over the line"
    np.testing.assert_array_equal(erased[:, :40], painted[:, :40])
    assert (raster.rasterize([cut, line], 100)[48:52, 47:53] < 30).all(), "strokes paint in order"


def test_single_point_is_a_dot_of_the_stroke_width():
    size, width, pressure = 100, 0.1, 0.5  # diameter 10 px
    image = raster.rasterize([brush([(0.5, 0.5, pressure)] * 3, width=width)], size)
    ink = (255 - image.astype(np.float64)).sum() / 255
    assert ink == pytest.approx(np.pi * 5**2, rel=0.05)
    assert image[50, 50] == 0 and image[50, 57] == 255 and image[57, 50] == 255


def test_pressure_widens_the_line():
    def ink(pressure):
        image = raster.rasterize([brush([(0.2, 0.5, pressure), (0.8, 0.5, pressure)], width=0.03)], 100)
        return (255 - image.astype(np.float64)).sum() / 255

    light, middle, heavy = ink(0.1), ink(0.5), ink(1.0)
    assert light < middle < heavy
    # w = width * S * (0.5 + pressure): 1.8 px, 3 px, 4.5 px over a 60 px line plus round caps.
    assert heavy / light == pytest.approx(4.5 / 1.75, rel=0.1)


def test_duplicate_points_are_ignored():
    points = [(0.2, 0.3, 0.5), (0.5, 0.6, 0.5), (0.8, 0.3, 0.5)]
    doubled = [points[0], points[1], points[1], points[1], points[2], points[2]]
    np.testing.assert_array_equal(raster.rasterize([brush(points)], 64), raster.rasterize([brush(doubled)], 64))


def test_smoothing_passes_through_the_points():
    points = [(10.0, 10.0, 0.2), (30.0, 50.0, 0.6), (70.0, 20.0, 1.0)]
    samples = raster.smooth(points)
    assert len(samples) == 1 + 2 * raster.SUBDIVISIONS
    for k, point in enumerate(points):
        assert samples[k * raster.SUBDIVISIONS] == pytest.approx(point)
    assert samples[4][2] == pytest.approx(0.4), "pressure is linear along a segment"


def test_width_quantisation_rounds_halves_up_like_rust():
    assert raster.pixel_width(0.01, 0.5, 100) == 1.0
    assert raster.pixel_width(0.0101, 0.5, 100) == 1.0
    assert raster.pixel_width(0.011, 0.5, 100) == 1.0
    assert raster.pixel_width(0.012, 0.5, 100) == 1.25
    # 9/64 * 8 px = 1.125 px exactly: halfway between 1.0 and 1.25 -> 1.25 (Rust: floor(x + 0.5)).
    assert raster.pixel_width(9 / 64, 0.5, 8) == 1.25
    assert raster.pixel_width(0.0001, 0.0, 100) == raster.WIDTH_QUANTUM, "never thinner than a quantum"
    assert raster.pixel_width(0.01, 5.0, 100) == 1.5, "pressure is clamped to 0..1"


def test_parity_with_the_rust_rasterizer():
    assert FIXTURE.exists() and FIXTURE_PNG.exists(), (
        "the Rust sketch tests write tests/data/raster_fixture.json and raster_fixture_128.png")
    drawing = json.loads(FIXTURE.read_text())
    strokes = drawing["strokes"] if isinstance(drawing, dict) else drawing
    python = raster.rasterize(strokes, 128).astype(np.int16)
    rust = cv2.imread(str(FIXTURE_PNG), cv2.IMREAD_GRAYSCALE).astype(np.int16)
    assert rust.shape == python.shape == (128, 128)
    diff = np.abs(python - rust)
    near = (diff <= PARITY_NEAR).mean()
    assert diff.mean() <= PARITY_MEAN_ABS and near >= PARITY_NEAR_FRACTION, (
        f"Python vs Rust: mean abs {diff.mean():.2f} levels (limit {PARITY_MEAN_ABS}), "
        f"{near:.2%} of pixels within {PARITY_NEAR} (limit {PARITY_NEAR_FRACTION:.0%}); "
        f"ink pixels < 128: Python {(python < 128).sum()}, Rust {(rust < 128).sum()}")

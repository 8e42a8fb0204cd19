"""Colour-hint simulation, face reframing and sketch roughening, and the grid score."""

from __future__ import annotations

import numpy as np
import pytest

from training import augment, hints, quality, sketches
from training.augment import Frame


def test_hint_mask_is_exactly_where_colour_is(astronaut_face):
    rng = np.random.default_rng(3)
    strokes = []
    while not strokes:
        strokes = hints.random_strokes(Frame(0, 0, 128), 128, rng)
    h = hints.paint(astronaut_face, strokes, rng)
    assert h.shape == (4, 128, 128) and h.dtype == np.float32
    mask = h[3]
    assert set(np.unique(mask)) <= {0.0, 1.0} and mask.any()
    assert np.all(h[:3, mask == 0] == 0), "no colour outside the mask"
    assert h[:3].min() >= -1 and h[:3].max() <= 1


def test_hint_colour_is_the_face_colour_under_the_stroke():
    face = np.zeros((64, 64, 3), np.uint8)
    face[:, :32] = (200, 40, 10)  # left half red, right half black
    stroke = {"tool": "Brush", "width": 0.08,
              "points": [{"x": 0.15, "y": 0.3, "pressure": 0.5}, {"x": 0.3, "y": 0.6, "pressure": 0.5}]}
    h = hints.paint(face, [stroke], rng=None)  # no jitter
    inside = h[3] == 1
    assert inside.any()
    colour = (h[:3, inside].mean(1) + 1) / 2 * 255
    np.testing.assert_allclose(colour, (200, 40, 10), atol=1)


def test_stroke_counts_are_often_zero_and_sometimes_many():
    rng = np.random.default_rng(0)
    counts = np.array([hints.stroke_count(rng) for _ in range(4000)])
    assert 0.3 < (counts == 0).mean() < 0.4
    assert (counts >= 15).mean() > 0.05
    assert counts.max() <= hints.MAX_STROKES


def test_reframe_moves_the_face_where_the_frame_says(astronaut_face):
    """A marker on the face lands where the returned frame maps it, for every kind of reframing."""
    face = astronaut_face.copy()
    face[60:68, 60:68] = (0, 255, 0)  # a green square around (64, 64)
    seen = set()
    for seed in range(40):
        rng = np.random.default_rng(seed)
        out, frame = augment.reframe(face, rng)
        assert out.shape == face.shape and out.dtype == np.uint8
        x = frame.x + 64 / 128 * frame.side
        y = frame.y + 64 / 128 * frame.side
        pixel = out[int(y), int(x)].astype(int)
        assert pixel[1] > 150 and pixel[0] < 120, f"seed {seed}: marker not at ({x:.0f}, {y:.0f}): {pixel}"
        seen.add("out" if frame.side < 127 else "in" if frame.side > 129 else "same")
    assert seen == {"out", "in", "same"}


def test_zoomed_out_heads_sit_on_a_background_without_a_square_edge(astronaut_face):
    for seed in range(60):
        rng = np.random.default_rng(seed)
        out, frame = augment.reframe(astronaut_face, rng)
        if frame.side < 100:
            break
    else:
        pytest.fail("no zoom-out in 60 draws")
    # The corners of the face square are feathered into the background: no hard step there.
    x0, y0, side = int(frame.x), int(frame.y), int(frame.side)
    row = out[y0 + 2, max(0, x0 - 6): x0 + 6].astype(int)
    assert np.abs(np.diff(row, axis=0)).max() < 60


def test_roughen_keeps_a_sketch_a_sketch(astronaut_face):
    sketch = sketches.hand(astronaut_face, np.random.default_rng(1))
    for seed in range(10):
        rough = augment.roughen(sketch, np.random.default_rng(seed))
        assert rough.shape == sketch.shape and rough.dtype == np.uint8
        assert np.median(rough) == 255, "still mostly paper"
        assert rough.min() < 128, "still has ink"


def test_grid_score_finds_a_checkerboard():
    rng = np.random.default_rng(0)
    smooth = np.stack([np.repeat(np.clip(rng.normal(128, 30, (128, 128)), 0, 255)[..., None], 3, 2)
                       for _ in range(8)]).astype(np.float32)
    import cv2
    smooth = np.stack([cv2.GaussianBlur(im, (0, 0), 2) for im in smooth]).astype(np.uint8)
    grid = smooth.astype(np.int16)
    grid[:, ::2, ::2] += 12  # a period-2 pattern, like transposed-convolution artefacts
    grid = np.clip(grid, 0, 255).astype(np.uint8)
    assert quality.grid_score(smooth, smooth) == pytest.approx(1.0)
    assert quality.grid_score(grid, smooth) > 3


def test_painted_regions_are_one_colour_connected_as_the_engines():
    from training.compare import painted_regions, region_means

    rgba = np.zeros((12, 12, 4), np.uint8)
    rgba[0:4, 0:4] = (200, 30, 30, 255)
    rgba[0:4, 4:8] = (20, 40, 220, 255)  # touches the red: another region
    rgba[8:12, 8:12] = (200, 30, 30, 255)  # the same red, apart: another region
    rgba[5, 5] = (200, 30, 30, 255)  # only a diagonal away from the blue, alone
    labels = painted_regions(rgba)
    assert labels.max() == 4 and (labels[rgba[..., 3] == 0] == 0).all()
    assert len({labels[0, 0], labels[0, 4], labels[8, 8], labels[5, 5]}) == 4
    assert (labels[0:4, 0:4] == labels[0, 0]).all()
    image = np.random.default_rng(0).random((12, 12, 3)).astype(np.float32)
    means = region_means(image, labels)
    assert np.allclose(means[0:4, 0:4], image[0:4, 0:4].mean((0, 1)))
    assert np.array_equal(means[6:8, 0:4], image[6:8, 0:4]), "unpainted pixels stay"

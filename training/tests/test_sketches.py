"""The sketch styles: black ink on white paper, the right shape and type, deterministic."""

from __future__ import annotations

import numpy as np
import pytest

from training import sketches


def assert_ink_on_white(sketch: np.ndarray, shape: tuple[int, int]) -> None:
    assert sketch.shape == shape
    assert sketch.dtype == np.uint8
    paper = (sketch >= 200).mean()
    ink = (sketch < 100).mean()
    assert paper > 0.6, f"mostly white paper expected, got {paper:.0%} light pixels"
    assert 0.003 < ink < 0.35, f"some black ink expected, got {ink:.1%} dark pixels"
    assert sketch.min() == 0 or ink > 0, "ink should reach black"


@pytest.mark.parametrize("style", sketches.STYLES)
def test_style_on_astronaut(style, astronaut_face):
    sketch = sketches.make_sketch(astronaut_face, style, np.random.default_rng(1))
    assert_ink_on_white(sketch, (128, 128))


@pytest.mark.parametrize("style", sketches.STYLES)
def test_style_on_small_dcgan_faces(style, dcgan_faces):
    for i, face in enumerate(dcgan_faces[:4]):
        sketch = sketches.make_sketch(face, style, np.random.default_rng(i))
        assert sketch.shape == (64, 64) and sketch.dtype == np.uint8
        assert (sketch >= 200).mean() > 0.6
        # At 64 px the hand style's thinnest strokes are under a pixel wide: gray, not black.
        assert (sketch < 200).mean() > 0.01, f"{style}: face {i} got (almost) no ink"


@pytest.mark.parametrize("style", sketches.STYLES)
def test_style_is_deterministic_for_a_seed(style, astronaut_face):
    a = sketches.make_sketch(astronaut_face, style, np.random.default_rng(7))
    b = sketches.make_sketch(astronaut_face, style, np.random.default_rng(7))
    np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("style", sketches.STYLES)
def test_flat_image_gives_blank_paper(style):
    flat = np.full((64, 64, 3), 128, np.uint8)
    sketch = sketches.make_sketch(flat, style, np.random.default_rng(0))
    assert sketch.shape == (64, 64)
    assert (sketch == 255).all()


def test_hand_style_is_sparser_than_the_2017_edges(astronaut_face):
    rng = np.random.default_rng(3)
    hand = sketches.hand(astronaut_face, rng)
    dense = sketches.canny2017(astronaut_face)
    # Both are thin lines; the hand style drops short edges, so fewer separate ink pixels.
    assert (hand < 128).sum() < (dense < 128).sum() * 1.5


def test_unknown_style_is_an_error(astronaut_face):
    with pytest.raises(ValueError, match="unknown sketch style"):
        sketches.make_sketch(astronaut_face, "watercolour", np.random.default_rng(0))


def test_random_style_follows_the_weights():
    rng = np.random.default_rng(0)
    picks = [sketches.random_style(rng) for _ in range(2000)]
    assert set(picks) == set(sketches.STYLES)
    assert picks.count("hand") / len(picks) == pytest.approx(sketches.STYLE_WEIGHTS[2], abs=0.05)


def test_trace_polylines_walks_a_line_and_a_loop():
    skeleton = np.zeros((20, 20), bool)
    skeleton[2, 3:15] = True  # a line of 12 pixels
    loop = np.zeros((20, 20), bool)
    loop[8:14, 8:14] = True
    loop[9:13, 9:13] = False  # a square ring of 20 pixels
    lines = sketches.trace_polylines(skeleton | loop)
    assert sum(len(line) for line in lines) == 12 + 20, "every skeleton pixel belongs to one polyline"
    assert any(len(line) == 12 and line[0][0] == 2 and {line[0][1], line[-1][1]} == {3, 14} for line in lines)

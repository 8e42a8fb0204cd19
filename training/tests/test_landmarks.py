"""Landmarks and the `drawn` sketch style: parts chained from edges, faces drawn where their
features are, and the landmarks moved with the face by flips and reframing."""

from __future__ import annotations

import json
from pathlib import Path

import cv2
import numpy as np
import pytest

from training import landmarks, sketches
from training.train import make_batch

FIXTURE = Path(__file__).parent / "data" / "astronaut_landmarks.json"


@pytest.fixture(scope="module")
def astronaut_marks() -> tuple[np.ndarray, dict]:
    """MediaPipe's landmarks of the astronaut_face fixture (made by training.landmarks)."""
    fixture = json.loads(FIXTURE.read_text())
    return np.array(fixture["points"], np.float32), fixture["parts"]


def covered_edges(lines: list[list[int]]) -> list[frozenset]:
    return [frozenset(pair) for line in lines for pair in zip(line, line[1:])]


def test_chain_walks_a_loop_once_and_closes_it():
    loop = [(0, 1), (1, 2), (2, 3), (3, 0)]
    lines = landmarks.chain(loop)
    assert len(lines) == 1 and lines[0][0] == lines[0][-1]
    assert sorted(map(sorted, covered_edges(lines))) == sorted(map(sorted, map(frozenset, loop)))


def test_chain_covers_every_edge_of_a_branching_part_exactly_once():
    # A nose-like part: a bridge line that splits into two nostril curves.
    edges = [(0, 1), (1, 2), (2, 3), (3, 4), (4, 5), (3, 6), (6, 7)]
    covered = covered_edges(landmarks.chain(edges))
    assert len(covered) == len(edges)
    assert set(covered) == {frozenset(e) for e in edges}


def test_load_is_none_without_landmarks(tmp_path):
    assert landmarks.load(tmp_path, "val") is None


def test_drawn_ink_lies_on_the_parts(astronaut_marks):
    points, parts = astronaut_marks
    blank = np.full((128, 128, 3), 200, np.uint8)  # no photo edges: only the landmark strokes
    for seed in range(5):
        sketch = sketches.drawn(blank, points, parts, np.random.default_rng(seed))
        ink = sketch < 128
        assert ink.mean() > 0.01, f"seed {seed}: almost no ink"
        # Every ink pixel is near a landmark polyline (misplacement and jitter are about a pixel).
        near = np.zeros((128, 128), np.uint8)
        for lines in parts.values():
            for line in lines:
                cv2.polylines(near, [points[line].round().astype(np.int32)], False, 1, 9)
        for side in ("left", "right"):
            iris = points[sorted({i for line in parts[f"{side}_iris"] for i in line})]
            cv2.circle(near, tuple(iris.mean(0).round().astype(int)), 6, 1, -1)
        stray = ink & (near == 0)
        assert stray.sum() <= 3, f"seed {seed}: {stray.sum()} ink pixels far from every part"
        # Both eyes are drawn, and the cheeks below them stay empty skin.
        for side in ("left", "right"):
            x, y = points[sorted({i for line in parts[f"{side}_eye"] for i in line})].mean(0).astype(int)
            assert ink[y - 3 : y + 4, x - 5 : x + 6].any(), f"seed {seed}: no {side} eye"
        eyes_y = int(points[[i for line in parts["left_eye"] for i in line], 1].mean())
        mouth_y = int(points[[i for line in parts["lips"] for i in line], 1].min())
        cheek_x = int(points[[i for line in parts["left_eye"] for i in line], 0].mean())
        assert not ink[eyes_y + 8 : mouth_y - 4, cheek_x - 2 : cheek_x + 3].any(), f"seed {seed}: ink on the cheek"


def test_drawn_adds_the_photo_lines_outside_the_face_only(astronaut_face, astronaut_marks):
    points, parts = astronaut_marks
    inside = np.zeros((128, 128), np.uint8)
    oval = np.concatenate([points[line] for line in parts["face_oval"]])
    cv2.fillPoly(inside, [oval.round().astype(np.int32)], 1)
    inside = cv2.erode(inside, np.ones((9, 9), np.uint8)).astype(bool)
    landmark_only = sketches.drawn(np.full_like(astronaut_face, 200), points, parts, np.random.default_rng(0))
    with_photo = [sketches.drawn(astronaut_face, points, parts, np.random.default_rng(s)) for s in range(6)]
    # Inside the face the photo adds nothing; outside (hair, helmet, suit) some seeds add its lines.
    same_seed = with_photo[0]
    assert np.array_equal(same_seed[inside] < 128, landmark_only[inside] < 128)
    assert any(((s < 128) & ~inside).sum() > ((landmark_only < 128) & ~inside).sum() + 50 for s in with_photo)


def test_make_sketch_falls_back_to_hand_without_landmarks(astronaut_face, astronaut_marks):
    rng = lambda: np.random.default_rng(3)  # noqa: E731
    hand = sketches.make_sketch(astronaut_face, "hand", rng())
    assert np.array_equal(sketches.make_sketch(astronaut_face, "drawn", rng()), hand)
    missing = (np.full_like(astronaut_marks[0], np.nan), astronaut_marks[1])
    assert np.array_equal(sketches.make_sketch(astronaut_face, "drawn", rng(), missing), hand)
    assert not np.array_equal(sketches.make_sketch(astronaut_face, "drawn", rng(), astronaut_marks), hand)


def test_landmarks_move_with_the_face_in_training_batches(astronaut_marks):
    """A red dot painted on the face at the left pupil's landmark must come out, after flips and
    reframing, under the sketch's ink: the sketch is drawn where the face went."""
    points, parts = astronaut_marks
    # Faces are nearly symmetric, so a missed flip would still put an eye near a mirrored dot:
    # move the left eye down onto the cheek first, where only a correct flip draws one.
    left_eye = sorted({i for name in ("left_eye", "left_iris") for line in parts[name] for i in line})
    points = points.copy()
    points[left_eye, 1] += 12
    iris = points[sorted({i for line in parts["left_iris"] for i in line})].mean(0)
    face = np.full((128, 128, 3), 190, np.uint8)
    cv2.circle(face, tuple(iris.round().astype(int)), 3, (255, 0, 0), -1)
    faces = np.repeat(face[None], 8, 0)
    marks = (np.repeat(points[None], 8, 0), parts)
    checked = 0
    for seed in range(6):
        batch = make_batch(faces, ["drawn"], np.random.default_rng(seed), augmented=True, landmarks=marks)
        out_faces = ((batch.face.permute(0, 2, 3, 1).numpy() + 1) * 127.5).round()
        out_sketches = (batch.sketch[:, 0].numpy() + 1) * 127.5
        for face_out, sketch in zip(out_faces, out_sketches):
            red = (face_out[..., 0] > 220) & (face_out[..., 1] < 120)
            if red.sum() < 3:  # the dot shrank away on a strongly zoomed-out face
                continue
            ys, xs = np.nonzero(red)
            y, x = int(ys.mean()), int(xs.mean())
            window = sketch[max(0, y - 6) : y + 7, max(0, x - 6) : x + 7]
            assert (window < 200).any(), f"seed {seed}: no ink within 6 px of the pupil at ({x}, {y})"
            checked += 1
    assert checked >= 30

"""The face bank builder (training/bank.py) on a tiny synthetic set: the file it writes reads back
section by section, its colours follow the region rule of src/face/colours.rs, and its shape model
ignores where a mesh is and how big it is."""

from __future__ import annotations

import json
import struct
from pathlib import Path

import cv2
import numpy as np
import pytest

from training import bank

FIXTURE = Path(__file__).parent / "data" / "astronaut_landmarks.json"


@pytest.fixture(scope="module")
def astronaut_mesh() -> np.ndarray:
    """MediaPipe's 478 points of the astronaut face fixture (128 px), framed like a bank face."""
    points = np.array(json.loads(FIXTURE.read_text())["points"], np.float64)
    return bank.framed(points)


@pytest.fixture(scope="module")
def tiny_celeba(tmp_path_factory, astronaut_mesh) -> Path:
    """A data folder in make data-v3's layout: 14 train faces (random pictures, the astronaut's
    mesh bent a different way for each), two of them mostly outside their photo."""
    rng = np.random.default_rng(3)
    folder = tmp_path_factory.mktemp("tiny_celeba")
    n = 14
    # Random pictures smooth enough to compress like photos, each with its own tint.
    coarse = rng.integers(0, 256, (n, 16, 16, 3), dtype=np.uint8)
    images = np.stack([cv2.resize(c, (256, 256), interpolation=cv2.INTER_CUBIC) for c in coarse])
    centre = astronaut_mesh.mean(axis=0)
    meshes = []
    for i in range(n):
        stretch = np.array([1.0 + 0.08 * rng.standard_normal(), 1.0 + 0.08 * rng.standard_normal()])
        bent = centre + (astronaut_mesh - centre) * stretch + rng.normal(0, 1.5, astronaut_mesh.shape)
        meshes.append(bank.framed(bent))
    names = [f"{182638 + i}.jpg" for i in range(n)]
    outside = [0.0] * n
    outside[3], outside[9] = 0.15, 0.3
    np.save(folder / "train.npy", images)
    np.save(folder / "train_landmarks.npy", np.stack(meshes).astype(np.float32))
    (folder / "faces.json").write_text(json.dumps({"train": {"names": names, "outside": outside,
                                                             "source_eye_distance": [40.0] * n}}))
    return folder


CONFIG = bank.BuildConfig(faces=6, components=4, min_faces=4, outlier_percentile=100.0, kmeans_iterations=5)


@pytest.fixture(scope="module")
def built(tiny_celeba, tmp_path_factory) -> tuple[Path, dict, Path]:
    out_dir = tmp_path_factory.mktemp("bank")
    out, card = out_dir / "tiny.s2fb", out_dir / "card" / "BANK.md"
    result = bank.build(tiny_celeba, out, CONFIG, card)
    return out, result, card


def test_header_and_section_table_are_the_specs(built):
    out, _, _ = built
    data = out.read_bytes()
    magic, version, faces, points, components, side, count = struct.unpack_from("<8s6I", data)
    assert (magic, version, points, components, side) == (b"S2FBANK\0", 1, 468, 4, 256)
    assert faces == 6 and count == 9
    assert data[32:64] == b"\0" * 32, "the header is zero-padded to 64 bytes"
    entries = [struct.unpack_from("<IIQQ", data, 64 + 24 * i) for i in range(count)]
    assert sorted(kind for kind, *_ in entries) == list(range(1, 10))
    assert all(reserved == 0 and offset % 8 == 0 for _, reserved, offset, _ in entries)
    spans = sorted((offset, offset + length) for _, _, offset, length in entries)
    assert spans[0][0] >= 64 + 24 * count
    assert all(end <= start for (_, end), (start, _) in zip(spans, spans[1:])), "sections overlap"
    assert spans[-1][1] <= len(data)
    lengths = {kind: length for kind, _, _, length in entries}
    assert lengths[bank.KIND_MEAN] == 468 * 2 * 4
    assert lengths[bank.KIND_BASIS] == 4 * 936 * 4
    assert lengths[bank.KIND_SD] == 4 * 4
    assert lengths[bank.KIND_MESHES] == faces * 936 * 4
    assert lengths[bank.KIND_COEFFICIENTS] == faces * 4 * 4
    assert lengths[bank.KIND_COLOURS] == faces * 6 * 4
    assert lengths[bank.KIND_IMAGE_INDEX] == faces * 16
    assert not [p for p in out.parent.iterdir() if p.name.endswith(".tmp")], "the temporary file is gone"


def test_sections_round_trip(built, tiny_celeba):
    out, result, card = built
    read = bank.read_bank(out)
    names = json.loads((tiny_celeba / "faces.json").read_text())["train"]["names"]
    meshes = np.load(tiny_celeba / "train_landmarks.npy")[:, :468]
    faces = read.metadata["faces"]
    assert len(faces) == read.face_count == 6
    rows = [face["index"] for face in faces]
    assert [face["name"] for face in faces] == [names[i] for i in rows]
    assert {face["split"] for face in faces} == {"train"}
    assert not {3, 9} & set(rows), "faces mostly outside their photo are never chosen"
    np.testing.assert_array_equal(read.meshes, meshes[rows])
    # The shape model: orthonormal basis, sd falling, coefficients of the stored meshes.
    np.testing.assert_allclose(read.basis @ read.basis.T, np.eye(4), atol=1e-5)
    assert (np.diff(read.sd) <= 0).all() and (read.sd > 0).all()
    model = bank.ShapeModel(mean=read.mean.astype(np.float64), basis=read.basis.astype(np.float64),
                            sd=read.sd, explained=0.0, iterations=0)
    coefficients, _, _ = model.coefficients(read.meshes)
    np.testing.assert_allclose(read.coefficients, coefficients, atol=1e-3)
    # The mean is in the bank frame: eyes level, 76.8 px apart about (128, 107.52).
    left, right = read.mean[33], read.mean[263]
    np.testing.assert_allclose((left + right) / 2, [128.0, 107.52], atol=1e-3)
    assert abs(np.hypot(*(right - left)) - 76.8) < 1e-3 and abs(right[1] - left[1]) < 1e-3
    # Each JPEG is the face at 256 px, and the colours are those of the decoded JPEG.
    images = np.load(tiny_celeba / "train.npy")
    for i, (jpeg, row) in enumerate(zip(read.jpegs, rows)):
        decoded = bank.decode_jpeg(jpeg)
        assert decoded.shape == (256, 256, 3)
        errors = np.abs(decoded.astype(int)[None] - images).mean(axis=(1, 2, 3))
        assert errors.argmin() == row and errors[row] < 3, "the JPEG is this face's picture"
        np.testing.assert_allclose(read.colours[i], bank.face_colours(decoded, read.meshes[i]), atol=1e-4)
    assert read.metadata["terms"].startswith("non-commercial research only")
    assert "CelebA" in read.metadata["source"] and read.metadata["version"] == 1
    summary = bank.describe(read)
    assert summary["faces"] == 6 and summary["file_bytes"] == out.stat().st_size
    assert result["bank"] == summary
    text = card.read_text()
    assert "non-commercial research" in text and "6 faces" in text


def test_a_second_build_replaces_the_bank_whole(built, tiny_celeba):
    out, _, _ = built
    before = out.read_bytes()
    bank.build(tiny_celeba, out, bank.BuildConfig(**{**CONFIG.__dict__, "faces": 5, "min_faces": 4}), None)
    after = bank.read_bank(out)
    assert after.face_count == 5 and out.read_bytes() != before


def test_the_colour_regions_follow_colours_rs(astronaut_mesh):
    """The Rust test `regions_of_the_astronaut_mesh_are_skin_in_the_face_and_hair_above_it`, on
    the same mesh (framed at 256 px here): the same pixels are skin, hair and neither."""
    p = astronaut_mesh[:468].astype(np.float32)
    skin, hair = bank.region_masks(p, 256, 256)
    c = p.astype(np.float64).mean(axis=0)

    def region(point) -> str | None:
        x, y = int(np.floor(point[0])), int(np.floor(point[1]))
        return "skin" if skin[y, x] else "hair" if hair[y, x] else None

    towards_10 = lambda scale: c + scale * (p[10] - c)  # noqa: E731
    assert region(p[1]) == "skin" and region(c) == "skin"
    assert region(towards_10(0.75)) == "skin"
    assert region(towards_10(0.9)) is None
    assert region(towards_10(1.1)) == "hair" and region(towards_10(1.45)) == "hair"
    assert region(towards_10(1.6)) is None
    assert region([p[234][0] - 12, p[168][1] - 4]) == "hair"
    assert region([p[234][0] - 12, p[168][1] + 20]) is None
    assert region([p[152][0], p[152][1] + 16]) is None
    assert not (skin & hair).any() and skin.sum() > 1000 and hair.sum() > 1000


def test_face_colours_are_the_lab_of_the_regions_mean(astronaut_mesh):
    mesh = astronaut_mesh[:468]
    skin, hair = bank.region_masks(mesh, 256, 256)
    image = np.zeros((256, 256, 3), np.uint8)
    image[skin] = (200, 150, 120)
    image[hair] = (40, 30, 20)
    colours = bank.face_colours(image, mesh)
    np.testing.assert_allclose(colours[:3], bank.lab(np.array([200, 150, 120]) / 255.0), atol=1e-4)
    np.testing.assert_allclose(colours[3:], bank.lab(np.array([40, 30, 20]) / 255.0), atol=1e-4)
    # colours.rs lab_matches_reference_values.
    np.testing.assert_allclose(bank.lab(np.array([1.0, 0.0, 0.0])), [53.24, 80.09, 67.20], atol=0.05)
    np.testing.assert_allclose(bank.lab(np.array([0.5, 0.5, 0.5])), [53.39, 0.0, 0.0], atol=0.05)
    # A mesh below the picture has no colours.
    away = mesh + np.array([0.0, 270.0])
    assert bank.face_colours(image, away) is None


def test_shape_coefficients_ignore_position_scale_and_rotation(astronaut_mesh):
    rng = np.random.default_rng(0)
    centre = astronaut_mesh[:468].mean(axis=0)
    meshes = np.stack([centre + (astronaut_mesh[:468] - centre) * [1 + 0.1 * rng.standard_normal(), 1.0]
                       + rng.normal(0, 1.0, (468, 2)) for _ in range(20)])
    model = bank.fit_shape_model(meshes, 3)
    angle, scale = 0.3, 1.7
    moved = meshes[:1] @ (scale * np.array([[np.cos(angle), np.sin(angle)], [-np.sin(angle), np.cos(angle)]])) + [40, -25]
    here, params_here, _ = model.coefficients(meshes[:1])
    there, params, _ = model.coefficients(moved)
    np.testing.assert_allclose(there, here, atol=1e-6)
    size = lambda p: np.hypot(p[0, 0], p[0, 1])  # noqa: E731
    assert abs(size(params) - size(params_here) / scale) < 1e-9
    assert abs(np.arctan2(params[0, 1], params[0, 0]) - np.arctan2(params_here[0, 1], params_here[0, 0]) + angle) < 1e-9
    assert model.sd[0] > model.sd[2] > 0 and 0 < model.explained <= 1


def test_spread_selection_keeps_the_rare_faces_and_never_one_twice():
    rng = np.random.default_rng(1)
    common = rng.normal(0, 1, (400, 3))
    rare = np.array([[20.0, 0, 0], [0, -20.0, 0], [0, 0, 25.0]])
    features = np.vstack([common, rare]).astype(np.float32)
    chosen = bank.spread_selection(features, 30, 5, seed=0, kmeans_share=0.67)
    assert len(chosen) == len(set(chosen.tolist())) == 30 and (np.diff(chosen) > 0).all()
    assert {400, 401, 402} <= set(chosen.tolist()), "farthest-first reaches every outlying face"
    # Most of the faces still come from where most faces are.
    assert (chosen < 400).sum() >= 25
    assert len(bank.spread_selection(features, 500, 5, seed=0)) == len(features)

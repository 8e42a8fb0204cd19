"""prepare: bad files are skipped and counted, never a crash; real photos give face crops."""

from __future__ import annotations

import json

import cv2
import numpy as np
import pytest
from skimage import data as skdata

from training import prepare
from training.faces import detect_faces


def write_png(path, rgb):
    assert cv2.imwrite(str(path), cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR))


@pytest.fixture
def messy_folder(tmp_path, astronaut):
    folder = tmp_path / "photos"
    (folder / "nested").mkdir(parents=True)
    write_png(folder / "astronaut.png", astronaut)
    (folder / "notes.txt").write_text("not an image\n")
    (folder / "empty.png").write_bytes(b"")
    good = (folder / "astronaut.png").read_bytes()
    (folder / "truncated.png").write_bytes(good[:600])  # header and a sliver of the data
    (folder / "text.jpg").write_text("a text file with an image suffix")
    write_png(folder / "nested" / "coffee.png", skdata.coffee())  # a photo without a face
    return folder


def test_photos_folder_with_bad_files(messy_folder, tmp_path):
    out = tmp_path / "dataset"
    assert prepare.main(["--photos", str(messy_folder), "--out", str(out), "--size", "64"]) == 0
    report = json.loads((out / "report.json").read_text())
    counts = report["counts"]
    assert counts["files"] == 6
    assert report["kept"] == 1, report
    assert counts["no face detected"] == 1, "the coffee cup"
    assert counts["unreadable or not an image"] == 4, "text, empty, truncated, text.jpg"
    dropped = sum(v for k, v in counts.items() if k != "files")
    assert report["kept"] + dropped == counts["files"], "every file is accounted for"
    train = np.load(out / "train.npy")
    assert train.shape == (1, 64, 64, 3) and train.dtype == np.uint8
    assert sum(report["splits"].values()) == 1


def test_photos_folder_without_faces_fails_cleanly(tmp_path, capsys):
    folder = tmp_path / "nothing"
    folder.mkdir()
    (folder / "a.txt").write_text("hello")
    write_png(folder / "coffee.png", skdata.coffee())
    assert prepare.main(["--photos", str(folder), "--out", str(tmp_path / "out")]) == 1
    assert "no usable faces" in capsys.readouterr().err
    assert not (tmp_path / "out" / "train.npy").exists()


def test_photos_must_be_a_folder(tmp_path):
    with pytest.raises(SystemExit) as exit_info:
        prepare.main(["--photos", str(tmp_path / "missing"), "--out", str(tmp_path / "out")])
    assert exit_info.value.code == 2


def test_astronaut_face_is_found_and_cropped(tmp_path, astronaut):
    folder = tmp_path / "one"
    folder.mkdir()
    write_png(folder / "astronaut.png", astronaut)
    out = tmp_path / "dataset"
    assert prepare.main(["--photos", str(folder), "--out", str(out), "--size", "128"]) == 0
    crop = np.load(out / "train.npy")[0]
    assert crop.shape == (128, 128, 3)
    boxes = detect_faces(crop)
    assert boxes, "the crop still shows a face"
    x, y, w, h = boxes[0]
    # Padded by half the face box on each side: the face is centred and about half the crop.
    assert abs(x + w / 2 - 64) < 16 and abs(y + h / 2 - 64) < 16
    assert 0.35 < w / 128 < 0.75
    assert crop.mean() > 60, "not a crop of the dark background"


def test_split_is_seeded_and_disjoint():
    faces = np.arange(100 * 2 * 2 * 3, dtype=np.int64).reshape(100, 2, 2, 3)
    a, b = prepare.split(faces, seed=3), prepare.split(faces, seed=3)
    for name in ("train", "val", "test"):
        np.testing.assert_array_equal(a[name], b[name])
    n_val, n_test = (int(100 * prepare.SPLIT_FRACTIONS[k]) for k in ("val", "test"))
    assert {name: len(v) for name, v in a.items()} == {"test": n_test, "val": n_val, "train": 100 - n_val - n_test}
    ids = np.concatenate([a[name][:, 0, 0, 0] for name in a])
    assert len(np.unique(ids)) == 100


def test_quality_problem_rejects_dark_and_flat(astronaut_face):
    assert prepare.quality_problem(astronaut_face) is None
    assert prepare.quality_problem(np.full((64, 64, 3), 10, np.uint8)) == "too dark"
    assert prepare.quality_problem(np.full((64, 64, 3), 128, np.uint8)) == "too flat"


def test_synthetic_faces_are_filtered_and_counted():
    faces, reasons = prepare.synthetic_faces(count=6, size=64, seed=11, batch=16)
    assert faces.shape == (6, 64, 64, 3) and faces.dtype == np.uint8
    dropped = sum(v for k, v in reasons.items() if k != "sampled")
    assert reasons["sampled"] == len(faces) + dropped
    assert all(detect_faces(face) for face in faces), "only faces the detector finds are kept"

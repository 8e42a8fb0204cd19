"""Shared fixtures: tiny face data made inside the tests, never the real dataset.

Faces come from the DCGAN that the synthetic dataset is sampled from (faces.DcganFaces, 64 px)
and from scikit-image's astronaut photo (which has one real face).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
from skimage import data as skdata

from training.faces import DcganFaces, crop_face, detect_faces

TINY_RESOLUTION = 64  # the DCGAN's own size: no resampling, and the U-Net's fastest sane size


@pytest.fixture(autouse=True, scope="session")
def _few_threads():
    """The test machine is shared: keep torch to at most two threads."""
    previous = torch.get_num_threads()
    torch.set_num_threads(min(2, previous))
    yield
    torch.set_num_threads(previous)


@pytest.fixture(scope="session")
def astronaut() -> np.ndarray:
    """The full astronaut photo, RGB uint8 512x512."""
    return skdata.astronaut()


@pytest.fixture(scope="session")
def astronaut_face(astronaut) -> np.ndarray:
    """The astronaut's face, square-cropped to 128 px as prepare --photos does."""
    boxes = detect_faces(astronaut, min_size_frac=0.05)
    assert boxes, "the Haar cascade should find the astronaut's face"
    return crop_face(astronaut, boxes[0], 128)


@pytest.fixture(scope="session")
def dcgan_faces() -> np.ndarray:
    """24 DCGAN faces, uint8 [24, 64, 64, 3] (unfiltered: some may be poor faces)."""
    return DcganFaces(seed=5).sample(24)


@pytest.fixture(scope="session")
def tiny_dataset(tmp_path_factory, dcgan_faces) -> Path:
    """A dataset folder in the layout prepare writes: 16 train, 4 val, 4 test faces at 64 px."""
    folder = tmp_path_factory.mktemp("tiny_dataset")
    np.save(folder / "train.npy", dcgan_faces[:16])
    np.save(folder / "val.npy", dcgan_faces[16:20])
    np.save(folder / "test.npy", dcgan_faces[20:24])
    (folder / "report.json").write_text('{"source": "tests: DCGAN faces", "kept": 24, '
                                        '"splits": {"train": 16, "val": 4, "test": 4}}')
    return folder

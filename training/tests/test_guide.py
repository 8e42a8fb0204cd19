"""The drawing guide: a faint, symmetric template on white paper."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from training import guide


def test_guide_from_a_tiny_dataset(tiny_dataset, tmp_path):
    out = tmp_path / "guide.png"
    assert guide.main(["--data", str(tiny_dataset), "--out", str(out), "--count", "12", "--size", "256"]) == 0
    image = cv2.imread(str(out), cv2.IMREAD_UNCHANGED)
    assert image.shape == (256, 256) and image.dtype == np.uint8
    assert (image >= 250).mean() > 0.3, "mostly paper"
    assert image.min() < 80, "the usual lines are clearly darker than the paper"
    mirrored = image[:, ::-1].astype(int)
    assert np.abs(image.astype(int) - mirrored).mean() < 2, "faces are averaged with their mirrors"


def test_guide_without_a_dataset_says_what_to_run(tmp_path):
    with pytest.raises(SystemExit) as exit_info:
        guide.main(["--data", str(tmp_path), "--out", str(tmp_path / "g.png")])
    assert "training.prepare" in str(exit_info.value.code)

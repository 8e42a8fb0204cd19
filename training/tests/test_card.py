"""The model card's table from evaluation reports (training/card.py)."""

from __future__ import annotations

from training import card


def report(face_rate: float, default_rate: float | None, real: float, real_default: float | None) -> dict:
    metrics = {"l1": 0.17, "psnr": 13.1, "ssim": 0.39, "face_rate": face_rate, "grid_score": 0.9, "sharpness": 0.6}
    if default_rate is not None:
        metrics["face_rate_default_cascade"] = default_rate
    out = {"styles": {"hand": metrics}, "samples": 782, "real_face_rate": real,
           **({"face_detector": "alt2"} if default_rate is not None else {}),
           "inference_ms": {"median": 10.0}, "model": {"parameters": 6_229_972, "fp32_mb": 24.9, "step": 2000,
                                                         "trained_min": 57.2}}
    if real_default is not None:
        out["real_face_rate_default_cascade"] = real_default
    return out


def test_the_table_shows_both_detectors_when_every_report_has_them():
    text = card.table({"v2": report(0.616, 0.564, 0.763, 0.629), "v1": report(0.506, 0.581, 0.763, 0.629)})
    assert "| hand | face rate (alt2 cascade) | 0.616 | 0.506 |" in text
    assert "| hand | face rate, default cascade (earlier cards) | 0.564 | 0.581 |" in text
    assert "| all | real-face ceiling, default cascade | 0.629 | 0.629 |" in text
    assert "| | training steps / minutes | 2000 / 57 | 2000 / 57 |" in text


def test_a_report_from_before_the_second_detector_says_the_detectors_differ():
    text = card.table({"new": report(0.616, 0.564, 0.763, 0.629), "old": report(0.575, None, 0.667, None)})
    assert "| hand | face rate (cascades differ: alt2, default) | 0.616 | 0.575 |" in text
    assert "(earlier cards)" not in text and "ceiling, default cascade" not in text
    old_only = card.table({"old": report(0.575, None, 0.667, None)})
    assert "| hand | face rate (default cascade) | 0.575 |" in old_only

"""Face pipeline v3's refine network (training/refine.py): what it starts as, how training keeps
colours from being averaged, its export under model contract 3, and the shipped model's faces
judged by a face detector trained on real photos."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import cv2
import numpy as np
import onnx
import onnxruntime as ort
import pytest
import torch

from training import refine
from training.faces import EVALUATION_CASCADE, has_face
from training.networks import build_refine

ROOT = Path(__file__).resolve().parents[2]


def inputs(seed: int, side: int = refine.SIDE) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    g = torch.Generator().manual_seed(seed)
    sketch = torch.where(torch.rand(1, 1, side, side, generator=g) < 0.05, -1.0, 1.0)
    exemplar = torch.rand(1, 3, side, side, generator=g) * 2 - 1
    hints = torch.zeros(1, 4, side, side)
    hints[:, :3, 10:30, 10:30], hints[:, 3, 10:30, 10:30] = 0.5, 1.0
    return sketch, exemplar, hints


def test_the_untrained_network_gives_the_exemplar_back_exactly():
    net = build_refine(refine.DEFAULT_ARGS).eval()
    sketch, exemplar, hints = inputs(1)
    with torch.no_grad():
        assert torch.equal(net(sketch, exemplar, hints), exemplar)


def test_recolour_gives_the_exemplar_the_photos_palette_and_keeps_its_texture(astronaut):
    exemplar = cv2.resize(astronaut, (refine.SIDE, refine.SIDE), interpolation=cv2.INTER_AREA)
    photo = np.ascontiguousarray(exemplar[..., ::-1] // 2 + 60)  # other colours, other contrast
    mask = np.zeros((refine.SIDE, refine.SIDE), np.float32)
    mask[60:200, 70:190] = 1.0
    out = refine.recolour(exemplar, photo, mask)
    lab = lambda rgb: cv2.cvtColor(rgb, cv2.COLOR_RGB2LAB).astype(np.float32)  # noqa: E731
    for region in (mask > 0.5, mask < 0.5):
        moved = np.abs(lab(out)[region].mean(0) - lab(photo)[region].mean(0)).max()
        before = np.abs(lab(exemplar)[region].mean(0) - lab(photo)[region].mean(0)).max()
        assert moved < 4 and before > 10, (moved, before)
    # The texture is the exemplar's: its edges, not the photo's, where the two differ.
    edges = lambda rgb: cv2.Laplacian(cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY).astype(np.float32), cv2.CV_32F)  # noqa: E731
    assert np.corrcoef(edges(out).ravel(), edges(exemplar).ravel())[0, 1] > 0.8


def test_losses_are_zero_for_the_photo_and_grow_with_blur(astronaut):
    photo = torch.from_numpy(cv2.resize(astronaut, (128, 128))).permute(2, 0, 1)[None].float() / 127.5 - 1
    blurred = torch.nn.functional.avg_pool2d(photo, 5, 1, 2, count_include_pad=False)
    same, blur = refine.losses(photo, photo), refine.losses(blurred, photo)
    assert all(float(v) < 1e-5 for v in same.values()), same
    assert float(blur["gradient"]) > 0.02 and float(blur["ssim"]) > 0.05, blur


def test_export_writes_contract_3_and_runs_like_the_network(tmp_path):
    net = build_refine(refine.DEFAULT_ARGS)
    torch.nn.init.normal_(net.head.weight, 0, 0.02)  # a network that does something
    checkpoint = tmp_path / "ckpt.pt"
    torch.save({"ema": net.state_dict(), "refine_args": refine.DEFAULT_ARGS, "step": 3, "elapsed_s": 60.0,
                "history": [{"step": 3, "l1": 0.3}], "commit": "test"}, checkpoint)
    out = tmp_path / "refine.onnx"
    assert refine.main(["export", "--checkpoint", str(checkpoint), "--out", str(out), "--tone", ""]) == 0
    model = onnx.load(str(out))
    metadata = {p.key: p.value for p in model.metadata_props}
    assert metadata["sketch2face.contract"] == "3" and metadata["sketch2face.resolution"] == "256"
    assert [i.name for i in model.graph.input] == ["sketch", "exemplar", "hints"]
    assert [o.name for o in model.graph.output] == ["face"]
    session = ort.InferenceSession(str(out), providers=["CPUExecutionProvider"])
    for batch in (1, 2):
        sketch, exemplar, hints = (t.repeat(batch, 1, 1, 1) for t in inputs(5))
        (face,) = session.run(None, {"sketch": sketch.numpy(), "exemplar": exemplar.numpy(), "hints": hints.numpy()})
        with torch.no_grad():
            expected = net.eval()(sketch, exemplar, hints).numpy()
        assert face.shape == (batch, 3, 256, 256)
        assert np.abs(face - expected).max() < 1e-4
    assert not list(tmp_path.glob("*.tmp*")), "no temporary file left"
    assert "Transpose" not in {n.op_type for n in model.graph.node}, "the stem reads the inputs at full resolution"

    # A lost cache: the weights read back from the model export to the same model.
    recovered = tmp_path / "recovered.pt"
    assert refine.main(["recover", "--model", str(out), "--out", str(recovered)]) == 0
    state = torch.load(recovered, weights_only=False)
    assert state["step"] == 3 and state["elapsed_s"] == 60 and state["history"] == [{"step": 3, "l1": 0.3}]
    assert all(torch.allclose(state["ema"][k], v) for k, v in net.state_dict().items())
    again = tmp_path / "again.onnx"
    assert refine.main(["export", "--checkpoint", str(recovered), "--out", str(again), "--tone", ""]) == 0
    feed = {k: v.numpy() for k, v in zip(("sketch", "exemplar", "hints"), inputs(6))}
    first = session.run(None, feed)[0]
    second = ort.InferenceSession(str(again), providers=["CPUExecutionProvider"]).run(None, feed)[0]
    assert np.abs(first - second).max() < 1e-6


def sketch2face_binary() -> Path:
    for profile in ("debug", "release"):
        binary = ROOT / "target" / profile / "sketch2face"
        if binary.exists():
            return binary
    pytest.skip("no sketch2face binary: `cargo build` first (make test builds it before pytest)")


def test_v3_paints_faces_a_photo_face_detector_finds_in_the_shipped_drawings(tmp_path):
    drawings = sorted((ROOT / "assets" / "sketches").glob("*.png"))
    assert len(drawings) >= 5
    done = subprocess.run([str(sketch2face_binary()), "generate", *map(str, drawings), "--out", str(tmp_path),
                           "--stage", "refined", "--device", "cpu", "--json"], capture_output=True, text=True,
                          cwd=ROOT)
    assert done.returncode == 0, done.stderr
    lines = [json.loads(line) for line in done.stdout.splitlines() if line.startswith("{")]
    assert len(lines) == len(drawings)
    found = 0
    for line in lines:
        face = cv2.cvtColor(cv2.imread(line["output"]), cv2.COLOR_BGR2RGB)
        assert face.shape == (256, 256, 3)
        found += has_face(face, EVALUATION_CASCADE)
    # A drawing's lines are no face to this detector; a photo of a face is.
    sketches_found = sum(has_face(cv2.cvtColor(cv2.imread(str(d)), cv2.COLOR_BGR2RGB), EVALUATION_CASCADE)
                         for d in drawings)
    assert found == len(drawings), f"faces found in {found} of {len(drawings)} (in the drawings themselves: {sketches_found})"

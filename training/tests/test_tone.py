"""The refine model's tone head (training/tone.py): what it computes, its training samples, and its
graph joined to a refine model (the `toned` output of contract 3)."""

from __future__ import annotations

import numpy as np
import onnx
import onnxruntime as ort
import torch

from training import refine, tone
from training.networks import build_refine


def test_the_toned_face_moves_the_coarse_colours_by_the_strength_and_keeps_the_detail():
    g = torch.Generator().manual_seed(0)
    face = torch.rand(1, 3, 256, 256, generator=g) * 1.2 - 0.6
    sketch, hints = torch.ones(1, 1, 256, 256), torch.zeros(1, 4, 256, 256)
    net = tone.ToneNet().eval()
    torch.nn.init.zeros_(net.head.weight)
    torch.nn.init.constant_(net.head.bias, 0.3)  # the layout: 0.3 everywhere (tanh 0.29)
    target = float(torch.tanh(torch.tensor(0.3)))
    with torch.no_grad():
        assert torch.equal(tone.TonedRefine(net, 0.0)(sketch, hints, face), face)
        full = tone.TonedRefine(net, 1.0)(sketch, hints, face)
        half = tone.TonedRefine(net, 0.5)(sketch, hints, face)
    blocks = lambda x: tone.blocks(x, tone.LAYOUT_SIDE)  # noqa: E731
    # Inside (away from the bilinear edges of the blocks) the coarse colours are the layout's...
    inner = (slice(None), slice(None), slice(64, 192), slice(64, 192))
    assert abs(float(blocks(full)[..., 4:12, 4:12].mean()) - target) < 0.01
    halfway = (float(blocks(face)[..., 4:12, 4:12].mean()) + target) / 2
    assert abs(float(blocks(half)[..., 4:12, 4:12].mean()) - halfway) < 0.01
    # ...and the detail (the face less its blocks) is the face's.
    detail = lambda x: x - torch.nn.functional.interpolate(blocks(x), scale_factor=16, mode="nearest")  # noqa: E731
    assert float((detail(half) - detail(face))[inner].abs().mean()) < 0.05
    assert float((half - face).abs().mean()) > 0.05
    # Where hints were painted the layout wins outright, whatever the strength.
    painted = hints.clone()
    painted[:, :3, 96:160, 96:160], painted[:, 3, 96:160, 96:160] = 0.3, 1.0
    with torch.no_grad():
        none = tone.TonedRefine(net, 0.0)(sketch, painted, face)
    assert abs(float(blocks(none)[..., 7:9, 7:9].mean()) - target) < 0.01
    assert torch.equal(none[..., :48, :48], face[..., :48, :48]), "far from the hints, strength 0 leaves the face"


def test_training_samples_are_the_graphs_inputs_and_the_photos_block_means(astronaut):
    photo = np.ascontiguousarray(astronaut[:256, 128:384])

    class OnePhoto:  # a Photos of one photo; the canny2017 style needs no mesh parts
        parts: dict = {}

        def sample(self, index):
            return photo, np.full((478, 2), 128, np.float32)

    rng = np.random.default_rng(3)
    sketch, hints, layout = tone.make_sample(OnePhoto(), 0, rng, style="canny2017", with_hints=False)
    assert sketch.shape == (1, 64, 64) and hints.shape == (4, 64, 64) and layout.shape == (3, 16, 16)
    assert sketch.min() >= -1 and sketch.max() <= 1 and sketch.min() < 0.9, "some ink"
    assert not hints.any()
    # The layout is the photo's (maybe mirrored, zoomed) 16 px block means in [-1, 1].
    plain = tone.block_mean(photo.astype(np.float32).transpose(2, 0, 1) / 127.5 - 1, 16)
    assert layout.min() >= -1 and layout.max() <= 1
    assert abs(float(layout.mean()) - float(plain.mean())) < 0.1
    _, hinted, _ = tone.make_sample(OnePhoto(), 0, np.random.default_rng(5), style="canny2017", with_hints=True)
    assert hinted.shape == (4, 64, 64) and hinted[3].max() <= 1


def test_attach_adds_toned_to_a_refine_model_and_attaching_again_replaces_it(tmp_path, monkeypatch):
    net = build_refine(refine.DEFAULT_ARGS)
    torch.nn.init.normal_(net.head.weight, 0, 0.02)
    checkpoint = tmp_path / "refine.pt"
    torch.save({"ema": net.state_dict(), "refine_args": refine.DEFAULT_ARGS, "step": 3, "elapsed_s": 60.0,
                "history": [], "commit": "test"}, checkpoint)
    model = tmp_path / "refine.onnx"
    assert refine.main(["export", "--checkpoint", str(checkpoint), "--out", str(model), "--tone", ""]) == 0
    head = tone.ToneNet()
    tone_ckpt = tmp_path / "tone.pt"
    torch.save({"net": head.state_dict(), "step": 5, "elapsed_s": 30.0, "history": [{"val_l1": 0.2}],
                "widths": tone.WIDTHS, "commit": "test"}, tone_ckpt)
    for strength in (0.5, 0.25):  # the second replaces the first
        assert tone.main(["attach", "--refine", str(model), "--out", str(model), "--checkpoint", str(tone_ckpt),
                          "--strength", str(strength)]) == 0
    joined = onnx.load(str(model))
    assert [o.name for o in joined.graph.output] == ["face", "toned"]
    assert [i.name for i in joined.graph.input] == ["sketch", "exemplar", "hints"]
    metadata = {p.key: p.value for p in joined.metadata_props}
    assert metadata["sketch2face.contract"] == "3" and metadata["sketch2face.tone_strength"] == "0.25"
    assert "5 steps" in metadata["sketch2face.tone"]
    session = ort.InferenceSession(str(model), providers=["CPUExecutionProvider"])
    g = torch.Generator().manual_seed(2)
    sketch = torch.where(torch.rand(2, 1, 256, 256, generator=g) < 0.05, -1.0, 1.0)
    exemplar = torch.rand(2, 3, 256, 256, generator=g) * 2 - 1
    painted = torch.zeros(2, 4, 256, 256)
    painted[1, :3, 90:120, 40:200], painted[1, 3, 90:120, 40:200] = -0.6, 1.0  # the second face only
    toned_by = {}
    for hints in (torch.zeros(2, 4, 256, 256), painted):  # the graph's two ways: blank and painted
        face, toned = toned_by[hints is painted] = session.run(["face", "toned"], {"sketch": sketch.numpy(), "exemplar": exemplar.numpy(),
                                                      "hints": hints.numpy()})
        with torch.no_grad():
            expected_face = net.eval()(sketch, exemplar, hints)
            expected_toned = tone.TonedRefine(head.eval(), 0.25)(sketch, hints, expected_face)
        assert np.abs(face - expected_face.numpy()).max() < 1e-4
        assert np.abs(toned - expected_toned.numpy()).max() < 1e-4
        assert np.abs(toned - face).mean() > 1e-3, "the head moved the colours"
    # Where painted, the layout wins outright (strength 1, not 0.25); the painted colour itself is
    # the engine's to match, region by region (src/face/painted.rs).
    stroke = (slice(None), slice(96, 112), slice(64, 176))
    moved = {k: float(np.abs(toned_by[k][1][1] - toned_by[k][0][1])[stroke].mean()) for k in (False, True)}
    assert moved[True] > 2 * moved[False], f"the layout's pull where painted: {moved}"
    assert np.abs(toned[0] - toned_by[False][1][0]).max() < 1e-5, "a face without hints, either way the batch goes"
    assert not list(tmp_path.glob("*.tmp*")) and not list(tmp_path.glob(".tone-*")), "no temporary file left"

    # A lost cache: the tone network read back from the model is the one attached.
    recovered = tmp_path / "recovered.pt"
    assert tone.main(["recover", "--refine", str(model), "--out", str(recovered)]) == 0
    state = torch.load(recovered, weights_only=False)
    assert state["step"] == 5 and state["history"] == [{"val_l1": 0.2}] and state["commit"] == "test"
    assert all(torch.equal(state["net"][k], v) for k, v in head.state_dict().items())

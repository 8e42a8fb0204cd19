"""Export: a tiny trained model goes to ONNX under the contract, with onnxruntime parity, a golden
pair, and evaluation from both the checkpoint and the exported file."""

from __future__ import annotations

import json

import cv2
import numpy as np
import onnx
import onnxruntime as ort
import pytest
import torch

from training import evaluate, export, raster, train
from training.networks import build_generator

TINY = ["--resolution=64", "--ngf=8", "--ndf=8", "--batch_size=2", "--threads=2", "--styles=hand"]


@pytest.fixture(scope="module")
def tiny_model(tiny_dataset, tmp_path_factory):
    """A 2-step checkpoint and its ONNX export (with the golden pair)."""
    folder = tmp_path_factory.mktemp("export")
    assert train.main([f"--data={tiny_dataset}", f"--out={folder / 'run'}", "--max_steps=2", *TINY]) == 0
    checkpoint, onnx_path, golden = folder / "run" / "ckpt.pt", folder / "tiny.onnx", folder / "golden"
    assert export.main(["--checkpoint", str(checkpoint), "--out", str(onnx_path), "--data", str(tiny_dataset),
                        "--golden", str(golden)]) == 0
    return checkpoint, onnx_path, golden


def dims(value_info) -> list:
    return [d.dim_param or d.dim_value for d in value_info.type.tensor_type.shape.dim]


def test_contract_names_shapes_and_metadata(tiny_model):
    _, onnx_path, _ = tiny_model
    model = onnx.load(str(onnx_path))
    onnx.checker.check_model(model)
    (sketch,), (face,) = model.graph.input, model.graph.output
    assert sketch.name == "sketch" and face.name == "face"
    assert sketch.type.tensor_type.elem_type == face.type.tensor_type.elem_type == onnx.TensorProto.FLOAT
    in_dims, out_dims = dims(sketch), dims(face)
    assert isinstance(in_dims[0], str) and in_dims[0] == out_dims[0], "dynamic batch"
    assert in_dims[1:] == [1, 64, 64] and out_dims[1:] == [3, 64, 64]
    meta = {p.key: p.value for p in model.metadata_props}
    assert meta["sketch2face.contract"] == "1"
    assert meta["sketch2face.resolution"] == "64"
    assert meta["sketch2face.styles"] == "hand"
    for key in ("data", "license", "metrics", "command", "commit"):
        assert meta[f"sketch2face.{key}"], f"metadata sketch2face.{key} is empty"
    json.loads(meta["sketch2face.metrics"])
    json.loads(meta["sketch2face.data"])


@pytest.fixture(scope="module")
def tiny_v2_model(tiny_dataset, tmp_path_factory):
    """A 2-step v2 checkpoint (hints and z) and its ONNX export with the golden set."""
    folder = tmp_path_factory.mktemp("export_v2")
    assert train.main([f"--data={tiny_dataset}", f"--out={folder / 'run'}", "--max_steps=2", "--preset=v2",
                       *TINY]) == 0
    checkpoint, onnx_path, golden = folder / "run" / "ckpt.pt", folder / "tiny_v2.onnx", folder / "golden"
    assert export.main(["--checkpoint", str(checkpoint), "--out", str(onnx_path), "--data", str(tiny_dataset),
                        "--golden", str(golden)]) == 0
    return checkpoint, onnx_path, golden


def test_v2_contract_inputs_and_metadata(tiny_v2_model):
    _, onnx_path, _ = tiny_v2_model
    model = onnx.load(str(onnx_path))
    inputs = {i.name: dims(i) for i in model.graph.input}
    assert list(inputs) == ["sketch", "hints", "z"]
    assert inputs["hints"][1:] == [4, 64, 64] and inputs["z"][1:] == [8]
    assert all(isinstance(d[0], str) for d in inputs.values()), "dynamic batch everywhere"
    meta = {p.key: p.value for p in model.metadata_props}
    assert meta["sketch2face.contract"] == "2"
    assert not any(n.op_type == "ConvTranspose" for n in model.graph.node), "resize-convolutions only"


def test_v2_onnxruntime_matches_pytorch_with_hints_and_codes(tiny_v2_model, tiny_dataset):
    checkpoint, onnx_path, _ = tiny_v2_model
    net, _ = export.load_generator(checkpoint)
    rng = np.random.default_rng(1)
    sketch = rng.uniform(-1, 1, (3, 1, 64, 64)).astype(np.float32)
    hints = np.zeros((3, 4, 64, 64), np.float32)
    hints[:, 3, 10:30, 20:40] = 1
    hints[:, :3, 10:30, 20:40] = rng.uniform(-1, 1, (3, 3, 1, 1))
    z = rng.standard_normal((3, 8)).astype(np.float32)
    with torch.no_grad():
        expected = net(torch.from_numpy(sketch), torch.from_numpy(hints), torch.from_numpy(z)).numpy()
    session = ort.InferenceSession(str(onnx_path), providers=["CPUExecutionProvider"])
    actual = session.run(["face"], {"sketch": sketch, "hints": hints, "z": z})[0]
    assert np.abs(actual - expected).max() <= export.PARITY_TOLERANCE


def test_v2_golden_set_carries_hints_and_a_code(tiny_v2_model):
    _, _, golden = tiny_v2_model
    spec = json.loads((golden / "golden.json").read_text())
    assert spec["contract"] == "2" and len(spec["z"]) == 8
    rgba = cv2.imread(str(golden / spec["hints"]), cv2.IMREAD_UNCHANGED)
    assert rgba.shape == (64, 64, 4)
    alpha = rgba[..., 3]
    assert set(np.unique(alpha)) <= {0, 255} and (alpha == 255).any()
    hints = export.rgba_to_hints(cv2.cvtColor(rgba, cv2.COLOR_BGRA2RGBA))
    np.testing.assert_array_equal(hints[3] == 1, alpha == 255)
    assert np.all(hints[:3, alpha == 0] == 0)


def test_onnxruntime_matches_pytorch(tiny_model):
    checkpoint, onnx_path, _ = tiny_model
    net, _ = export.load_generator(checkpoint)
    drawn = raster.rasterize([{"tool": "Brush", "width": 0.02, "points": [
        {"x": 0.3, "y": 0.4, "pressure": 0.5}, {"x": 0.5, "y": 0.6, "pressure": 0.5},
        {"x": 0.7, "y": 0.4, "pressure": 0.5}]}], 64)
    batch = np.concatenate([
        evaluate.sketch_input(drawn[None]),
        np.ones((1, 1, 64, 64), np.float32),
        np.random.default_rng(0).uniform(-1, 1, (1, 1, 64, 64)).astype(np.float32),
    ])
    with torch.no_grad():
        expected = net(torch.from_numpy(batch)).numpy()
    session = ort.InferenceSession(str(onnx_path), providers=["CPUExecutionProvider"])
    actual = session.run(["face"], {"sketch": batch})[0]
    assert actual.shape == (3, 3, 64, 64)
    assert np.abs(actual - expected).max() <= export.PARITY_TOLERANCE
    assert actual.min() >= -1 and actual.max() <= 1


def test_golden_pair(tiny_model):
    _, _, golden = tiny_model
    sketch = cv2.imread(str(golden / "golden_sketch.png"), cv2.IMREAD_UNCHANGED)
    face = cv2.imread(str(golden / "golden_face.png"), cv2.IMREAD_UNCHANGED)
    spec = json.loads((golden / "golden.json").read_text())
    assert sketch.shape == (64, 64) and face.shape == (64, 64, 3)
    assert spec["resolution"] == 64
    assert spec["tolerance_mean_abs"] > 0 and spec["tolerance_max_abs"] >= spec["tolerance_mean_abs"]
    assert spec["observed_onnxruntime_max_abs"] <= spec["tolerance_max_abs"]


def test_evaluate_checkpoint_and_onnx_agree(tiny_model, tiny_dataset, tmp_path):
    checkpoint, onnx_path, _ = tiny_model
    reports = {}
    for name, source in (("ckpt", ["--checkpoint", str(checkpoint)]), ("onnx", ["--onnx", str(onnx_path)])):
        out = tmp_path / name / "eval.json"
        assert evaluate.main([*source, "--data", str(tiny_dataset), "--out", str(out), "--limit", "3",
                              "--grid_rows", "2", "--timing_runs", "3"]) == 0
        reports[name] = json.loads(out.read_text())
        grid = cv2.imread(str(out.with_suffix(".png")))
        assert grid is not None and grid.shape[1] >= 3 * 64
    ckpt, onnx_report = reports["ckpt"], reports["onnx"]
    assert set(ckpt["styles"]) == {"canny2017", "xdog", "hand"}
    assert ckpt["samples"] == 3
    for style, metrics in ckpt["styles"].items():
        assert 0 <= metrics["l1"] <= 1 and 0 <= metrics["face_rate"] <= 1 and -1 <= metrics["ssim"] <= 1
        assert metrics["psnr"] > 0
        # The same sketches and (up to float error) the same model: the same numbers.
        assert onnx_report["styles"][style]["l1"] == pytest.approx(metrics["l1"], abs=2e-3)
    assert 0 <= ckpt["real_face_rate"] <= 1 and ckpt["face_detector"] == "alt2"
    assert ckpt["real_face_rate"] == ckpt["detector_check"]["alt2"]["real"]
    assert ckpt["real_face_rate_default_cascade"] == ckpt["detector_check"]["default"]["real"]
    assert all(0 <= m["face_rate_default_cascade"] <= 1 for m in ckpt["styles"].values())
    assert ckpt["model"]["parameters"] == onnx_report["model"]["parameters"]
    assert ckpt["model"]["step"] == 2 and ckpt["inference_ms"]["mean"] > 0


def test_evaluate_is_repeatable(tiny_model, tiny_dataset, tmp_path):
    checkpoint, _, _ = tiny_model
    runs = []
    for i in range(2):
        out = tmp_path / f"{i}.json"
        args = ["--checkpoint", str(checkpoint), "--data", str(tiny_dataset), "--out", str(out), "--limit", "2",
                "--styles", "hand", "--timing_runs", "1"]
        assert evaluate.main(args) == 0
        runs.append(json.loads(out.read_text())["styles"])
    assert runs[0] == runs[1], "fixed sketches per sample: two runs of one model give the same metrics"


def test_evaluate_drawn_sketch_folder(tiny_model, tmp_path):
    _, onnx_path, _ = tiny_model
    folder = tmp_path / "drawn"
    folder.mkdir()
    line = [{"tool": "Brush", "width": 0.02, "points": [{"x": 0.2, "y": 0.5, "pressure": 0.5},
                                                         {"x": 0.8, "y": 0.5, "pressure": 0.5}]}]
    cv2.imwrite(str(folder / "a.png"), raster.rasterize(line, 300)[:, 50:250])  # not square
    cv2.imwrite(str(folder / "b.png"), 255 - raster.rasterize(line, 90))  # white on a dark page
    (folder / "notes.txt").write_text("ignored")
    out = tmp_path / "drawn.json"
    assert evaluate.main(["--onnx", str(onnx_path), "--sketches", str(folder), "--out", str(out),
                          "--timing_runs", "1"]) == 0
    report = json.loads(out.read_text())
    assert report["files"] == ["a.png", "b.png"] and report["face_detector"] == "alt2"
    assert 0 <= report["face_rate"] <= 1 and 0 <= report["face_rate_default_cascade"] <= 1
    grid = cv2.imread(str(tmp_path / "drawn.png"))
    assert grid.shape[0] >= 2 * 64 and grid.shape[1] >= 2 * 64


def test_normalize_sketch_follows_the_app_rules():
    dark_page = np.full((40, 80), 20, np.uint8)
    dark_page[20, 10:70] = 230  # a light line on a dark page
    out = evaluate.normalize_sketch(dark_page, 64)
    assert out.shape == (64, 64)
    assert out[0, 0] == 255 and out[:16].min() == 255, "inverted, padded with white paper"
    assert out.min() < 60, "the line becomes ink"
    flat = np.full((64, 64), 200, np.uint8)
    np.testing.assert_array_equal(evaluate.normalize_sketch(flat, 64), flat)


def test_a_run_can_start_from_an_exported_model(tiny_v2_model, tiny_dataset, tmp_path):
    """--init_generator=MODEL.onnx: the new run's generator is the exported one (FiLM projections
    included, which the exporter folds into unnamed MatMul constants); --lambda_hint trains."""
    checkpoint, onnx_path, _ = tiny_v2_model
    exported, ckpt = export.load_generator(checkpoint)
    G = build_generator(ckpt["generator_args"])
    G.load_state_dict(train.generator_state_from_onnx(onnx_path, G))
    for key, value in exported.state_dict().items():
        assert torch.equal(G.state_dict()[key], value), key

    out = tmp_path / "continued"
    assert train.main([f"--data={tiny_dataset}", f"--out={out}", "--max_steps=2", "--preset=v2", *TINY,
                       f"--init_generator={onnx_path}", "--lambda_hint=10", "--log_every=1"]) == 0
    log = [json.loads(line) for line in (out / "log.jsonl").read_text().splitlines()]
    assert all(np.isfinite(r["loss_hint"]) for r in log)

    # A generator that does not fit is refused with what does not match.
    other = build_generator({**ckpt["generator_args"], "ngf": 16})
    with pytest.raises(ValueError, match="this generator wants"):
        train.generator_state_from_onnx(onnx_path, other)


def test_scrambled_blocks_are_the_same_tiles_in_another_order():
    rng = np.random.default_rng(0)
    face = rng.integers(0, 256, (128, 128, 3), dtype=np.uint8)
    scrambled = evaluate.scramble_blocks(face, 32, rng)
    assert scrambled.shape == face.shape
    tiles = lambda im: sorted(im[y:y + 32, x:x + 32].tobytes() for y in range(0, 128, 32) for x in range(0, 128, 32))  # noqa: E731
    assert tiles(scrambled) == tiles(face), "every tile kept, whole"
    moved = sum(not np.array_equal(scrambled[y:y + 32, x:x + 32], face[y:y + 32, x:x + 32])
                for y in range(0, 128, 32) for x in range(0, 128, 32))
    assert moved >= 12, "most tiles moved"


def test_detector_check_finds_a_real_face_and_not_its_shuffled_blocks(astronaut_face):
    check = evaluate.detector_check(astronaut_face[None], seed=0)
    assert set(check) == {"default", "alt2"}
    for name, rates in check.items():
        assert rates["real"] == 1.0, f"the {name} cascade should find the astronaut's face"
        assert rates["scrambled"] == 0.0, f"the {name} cascade should find no face in its shuffled blocks"

"""The mesh model's graph rewrite (training/mesh.py `prelu_as_where`): the same values, no PRelu."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import onnx
import onnxruntime as ort
from onnx import helper, numpy_helper

from training import mesh

ROOT = Path(__file__).resolve().parents[2]


def run(model: onnx.ModelProto, feed: dict) -> list[np.ndarray]:
    return ort.InferenceSession(model.SerializeToString(), providers=["CPUExecutionProvider"]).run(None, feed)


def test_prelu_as_where_gives_the_same_values_for_every_slope():
    # Slopes below zero, between zero and one, and above one (the shipped network has all three).
    slope = np.array([-1.6, -0.2, 0.0, 0.3, 1.0, 1.4], np.float32).reshape(1, 6, 1, 1)
    graph = helper.make_graph(
        [helper.make_node("PRelu", ["x", "slope"], ["y"], name="act")], "prelu",
        [helper.make_tensor_value_info("x", onnx.TensorProto.FLOAT, [None, 6, 5, 5])],
        [helper.make_tensor_value_info("y", onnx.TensorProto.FLOAT, [None, 6, 5, 5])],
        [numpy_helper.from_array(slope, "slope")])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)], ir_version=8)
    x = np.random.default_rng(0).normal(0, 2, (2, 6, 5, 5)).astype(np.float32)
    x[0, :, 0, 0] = 0.0
    expected = run(model, {"x": x})[0]
    rewritten = mesh.prelu_as_where(model)
    onnx.checker.check_model(rewritten)
    assert "PRelu" not in {n.op_type for n in rewritten.graph.node}
    assert np.array_equal(run(rewritten, {"x": x})[0], expected)
    assert np.array_equal(expected, np.where(x < 0, x * slope, x))


def test_the_shipped_mesh_model_has_no_prelu():
    model = onnx.load(str(ROOT / "models" / "mesh-v3.onnx"))
    assert "PRelu" not in {n.op_type for n in model.graph.node}, "python -m training.mesh speed-up"

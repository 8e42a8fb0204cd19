"""The mesh model's graph rewrite (training/mesh.py `prelu_as_relu_mix`): the same values, no PRelu."""

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


def prelu_model() -> tuple[onnx.ModelProto, np.ndarray]:
    # Slopes below zero, between zero and one, and above one (the shipped network has all three).
    slope = np.array([-1.6, -0.2, 0.0, 0.3, 1.0, 1.4], np.float32).reshape(1, 6, 1, 1)
    graph = helper.make_graph(
        [helper.make_node("PRelu", ["x", "slope"], ["y"], name="act")], "prelu",
        [helper.make_tensor_value_info("x", onnx.TensorProto.FLOAT, [None, 6, 5, 5])],
        [helper.make_tensor_value_info("y", onnx.TensorProto.FLOAT, [None, 6, 5, 5])],
        [numpy_helper.from_array(slope, "slope")])
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)], ir_version=8), slope


def where_form(model: onnx.ModelProto) -> onnx.ModelProto:
    """The Where(x < 0, x * slope, x) an earlier export wrote for each PRelu."""
    model = onnx.ModelProto.FromString(model.SerializeToString())
    (node,) = model.graph.node
    (x, slope), (y,) = node.input, node.output
    del model.graph.node[:]
    model.graph.node.extend([helper.make_node("Less", [x, "zero"], ["negative"], name="act/Less"),
                             helper.make_node("Mul", [x, slope], ["sloped"], name="act/Mul"),
                             helper.make_node("Where", ["negative", "sloped", x], [y], name="act/Where")])
    model.graph.initializer.append(numpy_helper.from_array(np.zeros((), np.float32), "zero"))
    return model


def test_prelu_and_its_earlier_where_form_become_relu_and_mul_with_the_same_values_for_every_slope():
    model, slope = prelu_model()
    x = np.random.default_rng(0).normal(0, 2, (2, 6, 5, 5)).astype(np.float32)
    x[0, :, 0, 0] = 0.0
    expected = run(model, {"x": x})[0]
    assert np.array_equal(expected, np.where(x < 0, x * slope, x))
    for source in (model, where_form(model)):
        rewritten = mesh.prelu_as_relu_mix(source)
        onnx.checker.check_model(rewritten)
        assert {n.op_type for n in rewritten.graph.node} == {"Relu", "Mul", "Add"}
        assert {i.name for i in rewritten.graph.initializer} == {"slope", "act/one_minus_slope"}
        got = run(rewritten, {"x": x})[0]
        # Exact where x <= 0; (1 - s) x + s x rounds where x > 0.
        assert np.array_equal(got[x <= 0], expected[x <= 0])
        np.testing.assert_allclose(got, expected, rtol=1e-6, atol=0)


def test_the_shipped_mesh_model_has_no_prelu():
    model = onnx.load(str(ROOT / "models" / "mesh-v3.onnx"))
    ops = {n.op_type for n in model.graph.node}
    assert not ops & {"PRelu", "Where"}, "python -m training.mesh speed-up"

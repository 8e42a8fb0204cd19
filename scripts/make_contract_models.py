"""Writes the tiny ONNX models in tests/data/contract/ that the engine's contract tests load.

Each model is built by hand with `onnx.helper` (no training, no weights): the graph just copies the
sketch into the face channels, so a model that passes the contract also gives a predictable face
(every RGB channel equals the gray input). Run from the repository root:

    .venv/bin/python scripts/make_contract_models.py

and commit the result; the files are a few hundred bytes each and deterministic.

| file                    | how it breaks the contract                                              |
|-------------------------|-------------------------------------------------------------------------|
| valid.onnx              | nothing (v1): sketch f32 [N,1,16,16] -> face = Concat(sketch x3)        |
| valid_v2.onnx           | nothing (v2): sketch, hints [N,4,16,16], z [N,8] -> face = sketch x3    |
|                         | where the mask is 0, the hint colour where it is 1, plus mean(z)        |
| hints_v2.onnx           | nothing (v2): sketch and hints, no z, the same graph without mean(z)    |
| wrong_input_name.onnx   | the input is called `image`                                             |
| wrong_rank.onnx         | the input is [N,16,16] (rank 3); Unsqueeze + Concat make the face       |
| non_square.onnx         | the input is [N,1,16,24]                                                |
| two_channel_output.onnx | the face is [N,2,16,16] (Concat of 2)                                   |
| wrong_dtype.onnx        | input and output are float64                                            |
| no_contract.onnx        | no `sketch2face.contract` metadata                                      |
| contract_3.onnx         | `sketch2face.contract` = "3" (a refine model) on a sketch-only graph: |
|                         | no `exemplar` and no `hints` input                                      |
| refine_valid.onnx       | nothing (contract 3): sketch, exemplar [N,3,16,16], hints -> face =     |
|                         | exemplar where the mask is 0, the hint colour where it is 1             |
| refine_grey_exemplar    | contract 3 with a one-channel `exemplar`                                |
| refine_toned.onnx       | nothing (contract 3): refine_valid plus the output `toned` = -face      |
| v1_with_hints.onnx      | a v1 model (contract "1") with a `hints` input: only v2 may have one    |
| v2_three_channel_hints  | v2 `hints` is [N,3,16,16]                                               |
| v2_dynamic_z.onnx       | v2 `z` is [N,?]: the code length must be fixed                          |
| v2_unknown_input.onnx   | v2 with an extra input `style`                                          |
| huge_resolution.onnx    | sketch and face [N,1,65535,65535]: over the 2048 limit (refused before  |
|                         | anything is allocated; a real run would need 16 GiB per buffer)         |

Hostile models: each follows the contract, but does something a model must not do.

| file                       | what it does                                                         |
|----------------------------|----------------------------------------------------------------------|
| external_initializer.onnx  | valid, plus an initializer `bias` f32 [1] whose data is EXTERNAL, in  |
|                            | `external_bias.bin` beside it (4 zero bytes): loads only when allowed |
| external_constant.onnx     | the same bias as a `Constant` node's `value`, data in the same file   |
| external_subgraph.onnx     | the Constant inside the `then_branch` subgraph of an `If` node        |
| external_outside.onnx      | the initializer's data in `../../../Cargo.toml`, outside the folder   |
|                            | (ONNX Runtime refuses that path itself when external data is allowed) |
| runtime_reshape.onnx       | Reshape of the sketch to [-1,3,16,16]: fine for shape inference, but  |
|                            | 256 values cannot fill 768, so every run of one sketch fails          |
| runtime_output_shape.onnx  | face declared [N,3,H,W] (dynamic, as the contract allows), but Tile   |
|                            | by a count known only at run time gives [N,3,32,32], not 16 x 16      |
| slow.onnx                  | valid (v1, the sketch x3), plus 0 x the mean of a chain of 24 matrix  |
|                            | products of 2048 x 2048 tiles of the sketch: ~0.4 TFLOP, seconds per  |
|                            | face on one core, for tests of what the app does while a face is slow |
"""

from pathlib import Path

import onnx
from onnx import TensorProto, external_data_helper, helper

OUT = Path(__file__).resolve().parent.parent / "tests" / "data" / "contract"
SIDE = 16
OPSET = 17
IR_VERSION = 8  # old enough for any ONNX Runtime >= 1.10


def model(name, *, input_name="sketch", input_shape=("N", 1, SIDE, SIDE), channels=3,
          dtype=TensorProto.FLOAT, metadata=None, rank3=False):
    """A graph whose output `face` is `channels` copies of the input along axis 1."""
    nodes, initializers = [], []
    source = input_name
    if rank3:
        axes = helper.make_tensor("axes", TensorProto.INT64, [1], [1])
        initializers.append(axes)
        nodes.append(helper.make_node("Unsqueeze", [input_name, "axes"], ["sketch4"]))
        source = "sketch4"
    nodes.append(helper.make_node("Concat", [source] * channels, ["face"], axis=1))
    height, width = (input_shape[-2], input_shape[-1])
    graph = helper.make_graph(
        nodes,
        name,
        [helper.make_tensor_value_info(input_name, dtype, list(input_shape))],
        [helper.make_tensor_value_info("face", dtype, ["N", channels, height, width])],
        initializer=initializers,
    )
    m = helper.make_model(graph, producer_name="sketch2face make_contract_models.py",
                          opset_imports=[helper.make_opsetid("", OPSET)])
    m.ir_version = IR_VERSION
    if metadata is None:
        metadata = {"sketch2face.contract": "1", "sketch2face.resolution": str(SIDE)}
    metadata = {"sketch2face.note": f"contract test model {name}, made by scripts/make_contract_models.py",
                **metadata}
    helper.set_model_props(m, metadata)
    onnx.checker.check_model(m, full_check=True)
    return m


def v2_model(name, *, hint_channels=4, z_shape=("N", 8), extra_input=None, version="2", side=SIDE):
    """face = Concat(sketch x3) * (1 - mask) + hint RGB (+ mean(z) over the code when z is given)."""
    ints = lambda name, values: helper.make_tensor(name, TensorProto.INT64, [len(values)], values)  # noqa: E731
    initializers = [ints("rgb_start", [0]), ints("rgb_end", [3]), ints("mask_start", [3]), ints("mask_end", [4]),
                    ints("channel_axis", [1]), ints("z_axes", [1]), ints("spatial_axes", [2, 3]),
                    helper.make_tensor("one", TensorProto.FLOAT, [], [1.0])]
    nodes = [
        helper.make_node("Concat", ["sketch"] * 3, ["gray3"], axis=1),
        helper.make_node("Slice", ["hints", "rgb_start", "rgb_end", "channel_axis"], ["hint_rgb"]),
        helper.make_node("Slice", ["hints", "mask_start", "mask_end", "channel_axis"], ["mask"]),
        helper.make_node("Sub", ["one", "mask"], ["unpainted"]),
        helper.make_node("Mul", ["gray3", "unpainted"], ["kept"]),
        helper.make_node("Add", ["kept", "hint_rgb"], ["face" if z_shape is None else "painted"]),
    ]
    inputs = [helper.make_tensor_value_info("sketch", TensorProto.FLOAT, ["N", 1, side, side]),
              helper.make_tensor_value_info("hints", TensorProto.FLOAT, ["N", hint_channels, side, side])]
    if z_shape is not None:
        nodes += [helper.make_node("ReduceMean", ["z", "z_axes"], ["z_mean"], keepdims=1),
                  helper.make_node("Unsqueeze", ["z_mean", "spatial_axes"], ["z_bias"]),
                  helper.make_node("Add", ["painted", "z_bias"], ["face"])]
        inputs.append(helper.make_tensor_value_info("z", TensorProto.FLOAT, list(z_shape)))
    if extra_input:
        inputs.append(helper.make_tensor_value_info(extra_input, TensorProto.FLOAT, ["N", 1]))
    if hint_channels != 4:  # keep the graph valid: pad the hints to four channels first
        nodes.insert(0, helper.make_node("Concat", ["hints_in", "hints_in"], ["hints_wide"], axis=1))
        nodes.insert(1, helper.make_node("Slice", ["hints_wide", "rgb_start", "mask_end", "channel_axis"], ["hints"]))
        inputs[1] = helper.make_tensor_value_info("hints_in", TensorProto.FLOAT, ["N", hint_channels, side, side])
        inputs[1].name = "hints"
        for node in nodes[:2]:
            node.input[:] = ["hints" if i == "hints_in" else i for i in node.input]
        nodes[1].output[:] = ["hints4"]
        for node in nodes[2:]:
            node.input[:] = ["hints4" if i == "hints" else i for i in node.input]
    graph = helper.make_graph(nodes, name, inputs,
                              [helper.make_tensor_value_info("face", TensorProto.FLOAT, ["N", 3, side, side])],
                              initializer=initializers)
    m = helper.make_model(graph, producer_name="sketch2face make_contract_models.py",
                          opset_imports=[helper.make_opsetid("", 18)])
    m.ir_version = IR_VERSION
    helper.set_model_props(m, {"sketch2face.note": f"contract test model {name}, made by scripts/make_contract_models.py",
                               "sketch2face.contract": version, "sketch2face.resolution": str(side)})
    onnx.checker.check_model(m, full_check=True)
    return m


def refine_model(name, *, exemplar_channels=3, side=SIDE, toned=False):
    """Contract 3 (a refine model): face = exemplar where the hint mask is 0, the hint colour
    where it is 1; the sketch is taken and unused. `toned`: also the output `toned` = -face."""
    ints = lambda name, values: helper.make_tensor(name, TensorProto.INT64, [len(values)], values)  # noqa: E731
    initializers = [ints("rgb_start", [0]), ints("rgb_end", [3]), ints("mask_start", [3]), ints("mask_end", [4]),
                    ints("channel_axis", [1]), helper.make_tensor("one", TensorProto.FLOAT, [], [1.0])]
    exemplar = "exemplar"
    nodes = []
    if exemplar_channels != 3:
        nodes.append(helper.make_node("Concat", ["exemplar"] * 3, ["exemplar3"], axis=1))
        exemplar = "exemplar3"
    nodes += [
        helper.make_node("Slice", ["hints", "rgb_start", "rgb_end", "channel_axis"], ["hint_rgb"]),
        helper.make_node("Slice", ["hints", "mask_start", "mask_end", "channel_axis"], ["mask"]),
        helper.make_node("Sub", ["one", "mask"], ["unpainted"]),
        helper.make_node("Mul", [exemplar, "unpainted"], ["kept"]),
        helper.make_node("Add", ["kept", "hint_rgb"], ["face"]),
    ]
    outputs = [helper.make_tensor_value_info("face", TensorProto.FLOAT, ["N", 3, side, side])]
    if toned:
        nodes.append(helper.make_node("Neg", ["face"], ["toned"]))
        outputs.append(helper.make_tensor_value_info("toned", TensorProto.FLOAT, ["N", 3, side, side]))
    inputs = [helper.make_tensor_value_info("sketch", TensorProto.FLOAT, ["N", 1, side, side]),
              helper.make_tensor_value_info("exemplar", TensorProto.FLOAT, ["N", exemplar_channels, side, side]),
              helper.make_tensor_value_info("hints", TensorProto.FLOAT, ["N", 4, side, side])]
    graph = helper.make_graph(nodes, name, inputs, outputs, initializer=initializers)
    m = helper.make_model(graph, producer_name="sketch2face make_contract_models.py",
                          opset_imports=[helper.make_opsetid("", 18)])
    m.ir_version = IR_VERSION
    helper.set_model_props(m, {"sketch2face.note": f"contract test model {name}, made by scripts/make_contract_models.py",
                               "sketch2face.contract": "3", "sketch2face.resolution": str(side)})
    onnx.checker.check_model(m, full_check=True)
    return m


def with_bias(name, *, where, location="external_bias.bin"):
    """The valid graph plus `face = Concat(sketch x3) + bias`, `bias` f32 [1] (0.0) kept in another
    file: as an initializer, a Constant node, or a Constant in an If node's then-branch."""
    bias = helper.make_tensor("bias", TensorProto.FLOAT, [1], bytes(4), raw=True)
    external_data_helper.set_external_data(bias, location, offset=0, length=4)
    bias.data_location = TensorProto.EXTERNAL
    bias.ClearField("raw_data")
    nodes = [helper.make_node("Concat", ["sketch"] * 3, ["gray3"], axis=1)]
    initializers = []
    if where == "initializer":
        initializers.append(bias)
    elif where == "constant":
        nodes.append(helper.make_node("Constant", [], ["bias"], value=bias))
    else:  # an If whose condition is an initializer, the external Constant in its then-branch
        initializers.append(helper.make_tensor("yes", TensorProto.BOOL, [], [True]))
        branch = lambda name, value: helper.make_graph(  # noqa: E731
            [helper.make_node("Constant", [], [name], value=value)], name, [],
            [helper.make_tensor_value_info(name, TensorProto.FLOAT, [1])])
        nodes.append(helper.make_node("If", ["yes"], ["bias"], then_branch=branch("then_bias", bias),
                                      else_branch=branch("else_bias", helper.make_tensor(
                                          "zero", TensorProto.FLOAT, [1], [0.0]))))
    nodes.append(helper.make_node("Add", ["gray3", "bias"], ["face"]))
    return finish(name, nodes, initializers, face_shape=["N", 3, SIDE, SIDE], check=False)


def finish(name, nodes, initializers, *, face_shape, check=True):
    """A v1 model around `nodes`: input `sketch` [N,1,16,16], output `face` of `face_shape`."""
    graph = helper.make_graph(
        nodes, name,
        [helper.make_tensor_value_info("sketch", TensorProto.FLOAT, ["N", 1, SIDE, SIDE])],
        [helper.make_tensor_value_info("face", TensorProto.FLOAT, face_shape)],
        initializer=initializers)
    m = helper.make_model(graph, producer_name="sketch2face make_contract_models.py",
                          opset_imports=[helper.make_opsetid("", OPSET)])
    m.ir_version = IR_VERSION
    helper.set_model_props(m, {"sketch2face.note": f"hostile test model {name}, made by scripts/make_contract_models.py",
                               "sketch2face.contract": "1", "sketch2face.resolution": str(SIDE)})
    if check:  # the external-data models are left unchecked: the checker would read their files
        onnx.checker.check_model(m, full_check=True)
    return m


def runtime_reshape():
    shape = helper.make_tensor("shape", TensorProto.INT64, [4], [-1, 3, SIDE, SIDE])
    return finish("runtime_reshape", [helper.make_node("Reshape", ["sketch", "shape"], ["face"])],
                  [shape], face_shape=["N", 3, SIDE, SIDE])


def runtime_output_shape():
    """Tile by [1, 3, k, k] with k = 1 + (min(sketch) > -2), which is 2 for every sketch but is known
    only at run time, so neither shape inference nor ONNX Runtime can tell the face's size early."""
    ints = lambda name, values: helper.make_tensor(name, TensorProto.INT64, [len(values)], values)  # noqa: E731
    initializers = [ints("one_three", [1, 3]), ints("one", [1]), ints("shape1", [1]),
                    helper.make_tensor("minus_two", TensorProto.FLOAT, [], [-2.0])]
    nodes = [
        helper.make_node("ReduceMin", ["sketch"], ["lowest"], keepdims=0),
        helper.make_node("Greater", ["lowest", "minus_two"], ["above"]),
        helper.make_node("Cast", ["above"], ["above_int"], to=TensorProto.INT64),
        helper.make_node("Reshape", ["above_int", "shape1"], ["above1"]),
        helper.make_node("Add", ["above1", "one"], ["k"]),
        helper.make_node("Concat", ["one_three", "k", "k"], ["repeats"], axis=0),
        helper.make_node("Tile", ["sketch", "repeats"], ["face"]),
    ]
    return finish("runtime_output_shape", nodes, initializers, face_shape=["N", 3, "H", "W"])


def slow(products=24, side=2048):
    """The sketch x3, plus 0 x mean(T (T/side) (T/side) ...) with T the sketch tiled to side x side: the
    chain depends on the input (so it cannot be folded at load time), stays within [-1, 1] (so the
    zero it adds is a zero, not NaN), and costs 2 side^3 FLOP per product."""
    ints = lambda name, values: helper.make_tensor(name, TensorProto.INT64, [len(values)], values)  # noqa: E731
    scalar = lambda name, value: helper.make_tensor(name, TensorProto.FLOAT, [], [value])  # noqa: E731
    reps = side // SIDE
    initializers = [ints("repeats", [1, 1, reps, reps]), scalar("inv_side", 1.0 / side), scalar("zero", 0.0)]
    nodes = [
        helper.make_node("Concat", ["sketch", "sketch", "sketch"], ["gray3"], axis=1),
        helper.make_node("Tile", ["sketch", "repeats"], ["tiled"]),
        helper.make_node("Mul", ["tiled", "inv_side"], ["scaled"]),
    ]
    current = "tiled"
    for i in range(products):
        nodes.append(helper.make_node("MatMul", [current, "scaled"], [f"product{i}"]))
        current = f"product{i}"
    nodes += [
        helper.make_node("ReduceMean", [current], ["mean"], keepdims=0),
        helper.make_node("Mul", ["mean", "zero"], ["nothing"]),
        helper.make_node("Add", ["gray3", "nothing"], ["face"]),
    ]
    return finish("slow", nodes, initializers, face_shape=["N", 3, SIDE, SIDE])


MODELS = {
    "valid": model("valid"),
    "wrong_input_name": model("wrong_input_name", input_name="image"),
    "wrong_rank": model("wrong_rank", input_shape=("N", SIDE, SIDE), rank3=True),
    "non_square": model("non_square", input_shape=("N", 1, SIDE, 24)),
    "two_channel_output": model("two_channel_output", channels=2),
    "wrong_dtype": model("wrong_dtype", dtype=TensorProto.DOUBLE),
    "no_contract": model("no_contract", metadata={}),
    "contract_3": model("contract_3", metadata={"sketch2face.contract": "3"}),
    "valid_v2": v2_model("valid_v2"),
    "hints_v2": v2_model("hints_v2", z_shape=None),
    "v1_with_hints": v2_model("v1_with_hints", z_shape=None, version="1"),
    "v2_three_channel_hints": v2_model("v2_three_channel_hints", hint_channels=3, z_shape=None),
    "v2_dynamic_z": v2_model("v2_dynamic_z", z_shape=("N", "Z")),
    "v2_unknown_input": v2_model("v2_unknown_input", extra_input="style"),
    "refine_valid": refine_model("refine_valid"),
    "refine_grey_exemplar": refine_model("refine_grey_exemplar", exemplar_channels=1),
    "refine_toned": refine_model("refine_toned", toned=True),
    "huge_resolution": model("huge_resolution", input_shape=("N", 1, 65535, 65535),
                             metadata={"sketch2face.contract": "1", "sketch2face.resolution": "65535"}),
    "external_initializer": with_bias("external_initializer", where="initializer"),
    "external_constant": with_bias("external_constant", where="constant"),
    "external_subgraph": with_bias("external_subgraph", where="subgraph"),
    "external_outside": with_bias("external_outside", where="initializer", location="../../../Cargo.toml"),
    "runtime_reshape": runtime_reshape(),
    "runtime_output_shape": runtime_output_shape(),
    "slow": slow(),
}
# The data the external_* models name: one float32 zero.
DATA_FILES = {"external_bias.bin": bytes(4)}


def main():
    OUT.mkdir(parents=True, exist_ok=True)
    for name, m in MODELS.items():
        path = OUT / f"{name}.onnx"
        path.write_bytes(m.SerializeToString())
        print(f"wrote {path.relative_to(OUT.parent.parent.parent)} ({path.stat().st_size} bytes)")
    for name, data in DATA_FILES.items():
        (OUT / name).write_bytes(data)


if __name__ == "__main__":
    main()

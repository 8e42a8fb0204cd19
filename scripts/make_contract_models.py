"""Writes the tiny ONNX models in tests/data/contract/ that the engine's contract tests load.

Each model is built by hand with `onnx.helper` (no training, no weights): the graph just copies the
sketch into the face channels, so a model that passes the contract also gives a predictable face
(every RGB channel equals the gray input). Run from the repository root:

    .venv/bin/python scripts/make_contract_models.py

and commit the result; the files are a few hundred bytes each and deterministic.

| file                    | how it breaks the contract (contract version 1)                        |
|-------------------------|-------------------------------------------------------------------------|
| valid.onnx              | nothing: sketch f32 [N,1,16,16] -> face = Concat(sketch x3) [N,3,16,16] |
| wrong_input_name.onnx   | the input is called `image`                                             |
| wrong_rank.onnx         | the input is [N,16,16] (rank 3); Unsqueeze + Concat make the face       |
| non_square.onnx         | the input is [N,1,16,24]                                                |
| two_channel_output.onnx | the face is [N,2,16,16] (Concat of 2)                                   |
| wrong_dtype.onnx        | input and output are float64                                            |
| no_contract.onnx        | no `sketch2face.contract` metadata                                      |
| contract_2.onnx         | `sketch2face.contract` = "2"                                            |
"""

from pathlib import Path

import onnx
from onnx import TensorProto, helper

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


MODELS = {
    "valid": model("valid"),
    "wrong_input_name": model("wrong_input_name", input_name="image"),
    "wrong_rank": model("wrong_rank", input_shape=("N", SIDE, SIDE), rank3=True),
    "non_square": model("non_square", input_shape=("N", 1, SIDE, 24)),
    "two_channel_output": model("two_channel_output", channels=2),
    "wrong_dtype": model("wrong_dtype", dtype=TensorProto.DOUBLE),
    "no_contract": model("no_contract", metadata={}),
    "contract_2": model("contract_2", metadata={"sketch2face.contract": "2"}),
}


def main():
    OUT.mkdir(parents=True, exist_ok=True)
    for name, m in MODELS.items():
        path = OUT / f"{name}.onnx"
        path.write_bytes(m.SerializeToString())
        print(f"wrote {path.relative_to(OUT.parent.parent.parent)} ({path.stat().st_size} bytes)")


if __name__ == "__main__":
    main()

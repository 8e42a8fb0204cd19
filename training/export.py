"""Export a trained generator to ONNX under the sketch2face model contract (models/README.md).

    python -m training.export --checkpoint training/runs/default/ckpt.pt --out models/sketch2face.onnx \
        --metrics training/runs/default/eval.json --golden tests/data

Checks parity with PyTorch through onnxruntime (max abs difference <= 1e-4) and writes a golden
pair (a sketch and the expected face, with its tolerance) for the Rust tests.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import cv2
import numpy as np
import onnx
import onnxruntime as ort
import torch

from training import sketches
from training.networks import build_generator
from training.train import to_tensor, to_uint8

CONTRACT_VERSION = "1"
PARITY_TOLERANCE = 1e-4
SYNTHETIC_DATA_LICENSE = ("Synthetic faces sampled from the DCGAN in the PyPI package gan-face-generate 1.1.1 (package: MIT), "
                "which was trained on DigiFace-1M; DigiFace-1M's terms allow non-commercial research use only.")


def data_license(report: dict) -> str:
    if report.get("source", "").startswith("gan-face-generate"):
        return SYNTHETIC_DATA_LICENSE
    return f"Trained on {report.get('source', 'an unrecorded dataset')}: the terms of those photos apply."


def load_generator(checkpoint: Path) -> tuple[torch.nn.Module, dict]:
    if not checkpoint.exists():
        sys.exit(f"error: no checkpoint at {checkpoint}; train first (python -m training.train)")
    ckpt = torch.load(checkpoint, map_location="cpu", weights_only=False)
    net = build_generator(ckpt["generator_args"])
    net.load_state_dict(ckpt["generator"])
    return net.eval(), ckpt


def export_onnx(net: torch.nn.Module, resolution: int, path: Path) -> None:
    dummy = torch.ones(1, 1, resolution, resolution)
    path.parent.mkdir(parents=True, exist_ok=True)
    torch.onnx.export(
        net, (dummy,), str(path), input_names=["sketch"], output_names=["face"], opset_version=18,
        dynamic_axes={"sketch": {0: "batch"}, "face": {0: "batch"}}, dynamo=False,
    )


def write_metadata(path: Path, metadata: dict[str, str]) -> None:
    model = onnx.load(str(path))
    del model.metadata_props[:]
    for key, value in metadata.items():
        entry = model.metadata_props.add()
        entry.key, entry.value = key, value
    model.doc_string = "sketch2face generator: sketch [N,1,H,W] (+1 paper, -1 ink) -> face [N,3,H,W] RGB in [-1,1]"
    onnx.checker.check_model(model)
    onnx.save(model, str(path))


def run_onnx(path: Path, sketch: np.ndarray) -> np.ndarray:
    options = ort.SessionOptions()
    options.add_session_config_entry("session.intra_op.allow_spinning", "0")
    session = ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
    return session.run(["face"], {"sketch": sketch.astype(np.float32)})[0]


def golden_sketch(data: Path) -> np.ndarray:
    """A hand-style sketch of the first test face."""
    if not (data / "test.npy").exists():
        raise SystemExit(f"error: {data} holds no test.npy; pass --data with the dataset the model was trained on")
    faces = np.load(data / "test.npy", mmap_mode="r")
    return sketches.hand(np.ascontiguousarray(faces[0]), np.random.default_rng(2024))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--checkpoint", type=Path, default=Path("training/runs/default/ckpt.pt"))
    parser.add_argument("--out", type=Path, default=Path("models/sketch2face.onnx"))
    parser.add_argument("--metrics", type=Path, help="evaluation JSON to embed in the metadata")
    parser.add_argument("--data", type=Path, help="dataset folder (for the golden pair and data statistics)")
    parser.add_argument("--golden", type=Path, help="folder for golden_sketch.png, golden_face.png, golden.json")
    args = parser.parse_args(argv)

    net, ckpt = load_generator(args.checkpoint)
    resolution = ckpt["generator_args"]["resolution"]
    config = ckpt["config"]
    data = args.data or Path(config["data"])
    export_onnx(net, resolution, args.out)

    report_path = data / "report.json"
    report = json.loads(report_path.read_text()) if report_path.exists() else {}
    metrics = json.loads(args.metrics.read_text()) if args.metrics else {"note": "not evaluated"}
    command = "python -m training.train " + " ".join(
        f"--{k}={v}" for k, v in config.items() if k in ("data", "out", "preset", "time_budget_min", "max_steps"))
    write_metadata(args.out, {
        "sketch2face.contract": CONTRACT_VERSION,
        "sketch2face.resolution": str(resolution),
        "sketch2face.styles": config["styles"],
        "sketch2face.generator": json.dumps(ckpt["generator_args"]),
        "sketch2face.data": json.dumps({"source": report.get("source", str(data)),
                                        "kept": report.get("kept"), "splits": report.get("splits")}),
        "sketch2face.license": data_license(report),
        "sketch2face.metrics": json.dumps(metrics),
        "sketch2face.training": json.dumps({"steps": ckpt["step"], "minutes": round(ckpt["elapsed_s"] / 60, 1),
                                            "batch_size": config["batch_size"], "precision": config["precision"]}),
        "sketch2face.command": command,
        "sketch2face.commit": ckpt.get("commit", "unknown"),
    })

    # Parity: the same inputs through PyTorch and onnxruntime, batch of 2 to exercise the dynamic axis.
    rng = np.random.default_rng(0)
    sketch = golden_sketch(data)
    inputs = torch.cat([to_tensor(sketch[None]), torch.from_numpy(rng.uniform(-1, 1, (1, 1, resolution, resolution))).float()])
    with torch.no_grad():
        expected = net(inputs).numpy()
    actual = run_onnx(args.out, inputs.numpy())
    max_diff = float(np.abs(expected - actual).max())
    print(f"parity: max abs difference PyTorch vs onnxruntime = {max_diff:.2e} (limit {PARITY_TOLERANCE:.0e})")
    if max_diff > PARITY_TOLERANCE:
        print("error: parity check failed", file=sys.stderr)
        return 1

    if args.golden:
        args.golden.mkdir(parents=True, exist_ok=True)
        cv2.imwrite(str(args.golden / "golden_sketch.png"), sketch)
        face = to_uint8(torch.from_numpy(expected[:1]))[0]
        cv2.imwrite(str(args.golden / "golden_face.png"), cv2.cvtColor(face, cv2.COLOR_RGB2BGR))
        onnx_face = to_uint8(torch.from_numpy(actual[:1]))[0]
        observed = np.abs(face.astype(int) - onnx_face.astype(int))
        (args.golden / "golden.json").write_text(json.dumps({
            "model": str(args.out),
            "resolution": resolution,
            # 8-bit levels; onnxruntime differs from PyTorch by < 1e-4, i.e. at most one rounding step.
            "tolerance_max_abs": 2,
            "tolerance_mean_abs": 0.5,
            "observed_onnxruntime_max_abs": int(observed.max()),
        }, indent=2) + "\n")
        print(f"golden pair written to {args.golden}")
    size_mb = args.out.stat().st_size / 1e6
    print(f"exported {args.out} ({size_mb:.1f} MB, {resolution}x{resolution}, step {ckpt['step']})")
    return 0


if __name__ == "__main__":
    sys.exit(main())

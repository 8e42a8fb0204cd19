"""Export a trained generator to ONNX under the sketch2face model contract (models/README.md).

    python -m training.export --checkpoint training/runs/default/ckpt.pt --out models/sketch2face.onnx \
        --metrics training/runs/default/eval.json --golden tests/data

Checks parity with PyTorch through onnxruntime (max abs difference <= 1e-4) and writes a golden
pair (a sketch and the expected face, with its tolerance) for the Rust tests. A generator with
colour hints or a variation code is exported as contract version 2, with inputs `hints`
[N,4,H,W] and `z` [N,Z]; its golden set adds the hints (as an RGBA PNG: alpha 255 where
hinted) and the code (in golden.json).
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

from training import augment, hints as hint_sim, sketches
from training.networks import build_generator, shipped_generator_state
from training.train import to_tensor, to_uint8

CONTRACT_V1, CONTRACT_V2 = "1", "2"
PARITY_TOLERANCE = 1e-4
SYNTHETIC_DATA_LICENSE = ("Synthetic faces sampled from the DCGAN in the PyPI package gan-face-generate 1.1.1 (package: MIT), "
                "which was trained on DigiFace-1M; DigiFace-1M's terms allow non-commercial research use only.")


def data_license(report: dict) -> str:
    source = report.get("source", "")
    if source.startswith("gan-face-generate"):
        return SYNTHETIC_DATA_LICENSE
    if source.startswith("UTKFace"):
        return ("Trained on UTKFace (Zhang, Song and Qi, CVPR 2017), real face photographs available for "
                "non-commercial research purposes only; the copyright of each image stays with its owner. "
                "This model carries the same restriction.")
    return f"Trained on {source or 'an unrecorded dataset'}: the terms of those photos apply."


def input_names(generator_args: dict) -> list[str]:
    names = ["sketch"]
    if generator_args.get("hint_channels", 0):
        names.append("hints")
    if generator_args.get("z_dim", 0):
        names.append("z")
    return names


def load_generator(checkpoint: Path) -> tuple[torch.nn.Module, dict]:
    if not checkpoint.exists():
        sys.exit(f"error: no checkpoint at {checkpoint}; train first (python -m training.train)")
    ckpt = torch.load(checkpoint, map_location="cpu", weights_only=False)
    net = build_generator(ckpt["generator_args"])
    net.load_state_dict(shipped_generator_state(ckpt))
    return net.eval(), ckpt


class _Positional(torch.nn.Module):
    """The generator with exactly the inputs it declares, in contract order, for tracing."""

    def __init__(self, net: torch.nn.Module, names: list[str]):
        super().__init__()
        self.net, self.names = net, names

    def forward(self, *inputs: torch.Tensor) -> torch.Tensor:
        return self.net(**dict(zip(self.names, inputs)))


def dummy_inputs(generator_args: dict, batch: int = 1) -> list[torch.Tensor]:
    resolution = generator_args["resolution"]
    shapes = {"sketch": (batch, 1, resolution, resolution), "hints": (batch, 4, resolution, resolution),
              "z": (batch, generator_args.get("z_dim", 0))}
    return [torch.zeros(shapes[name]) for name in input_names(generator_args)]


def export_onnx(net: torch.nn.Module, generator_args: dict, path: Path) -> None:
    names = input_names(generator_args)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    torch.onnx.export(
        _Positional(net, names).eval(), tuple(dummy_inputs(generator_args)), str(tmp), input_names=names,
        output_names=["face"], opset_version=18,
        dynamic_axes={name: {0: "batch"} for name in [*names, "face"]}, dynamo=False,
    )
    tmp.replace(path)


def write_metadata(path: Path, metadata: dict[str, str]) -> None:
    model = onnx.load(str(path))
    del model.metadata_props[:]
    for key, value in metadata.items():
        entry = model.metadata_props.add()
        entry.key, entry.value = key, value
    inputs = [i.name for i in model.graph.input]
    model.doc_string = ("sketch2face generator: sketch [N,1,H,W] (+1 paper, -1 ink)"
                        + (", hints [N,4,H,W] (RGB in [-1,1] where painted, else 0; mask 1 where painted)"
                           if "hints" in inputs else "")
                        + (", z [N,Z] (variation code, N(0,1); 0 = the default face)" if "z" in inputs else "")
                        + " -> face [N,3,H,W] RGB in [-1,1]")
    onnx.checker.check_model(model)
    tmp = path.with_name(path.name + ".tmp")
    onnx.save(model, str(tmp))
    tmp.replace(path)


def run_onnx(path: Path, inputs: dict[str, np.ndarray]) -> np.ndarray:
    options = ort.SessionOptions()
    options.add_session_config_entry("session.intra_op.allow_spinning", "0")
    session = ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
    return session.run(["face"], {name: array.astype(np.float32) for name, array in inputs.items()})[0]


def golden_hints(data: Path, resolution: int) -> np.ndarray:
    """Colour hints for the golden sketch, simulated from the same test face: [4, H, W]."""
    face = np.ascontiguousarray(np.load(data / "test.npy", mmap_mode="r")[0])
    rng = np.random.default_rng(2025)
    strokes = []
    while not strokes:
        strokes = hint_sim.random_strokes(augment.Frame(0, 0, resolution), resolution, rng)
    return hint_sim.paint(face, strokes, rng)


def hints_to_rgba(hints: np.ndarray) -> np.ndarray:
    """[4, H, W] hints -> uint8 RGBA [H, W, 4], alpha 255 where hinted (what `generate --hints`
    reads back exactly: colour = round((c + 1) * 127.5))."""
    rgb = np.round((hints[:3] + 1) * 127.5).clip(0, 255).astype(np.uint8).transpose(1, 2, 0)
    alpha = (hints[3] > 0.5).astype(np.uint8) * 255
    rgb[alpha == 0] = 0
    return np.dstack([rgb, alpha])


def rgba_to_hints(rgba: np.ndarray) -> np.ndarray:
    """The inverse of hints_to_rgba, as the Rust engine reads a hint image."""
    mask = rgba[..., 3] > 0
    rgb = rgba[..., :3].astype(np.float32).transpose(2, 0, 1) / 127.5 - 1
    return np.concatenate([np.where(mask, rgb, 0), mask[None].astype(np.float32)])


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
    generator_args = ckpt["generator_args"]
    resolution = generator_args["resolution"]
    names = input_names(generator_args)
    version = CONTRACT_V1 if names == ["sketch"] else CONTRACT_V2
    config = ckpt["config"]
    data = args.data or Path(config["data"])
    export_onnx(net, generator_args, args.out)

    report_path = data / "report.json"
    report = json.loads(report_path.read_text()) if report_path.exists() else {}
    metrics = json.loads(args.metrics.read_text()) if args.metrics else {"note": "not evaluated"}
    command = "python -m training.train " + " ".join(
        f"--{k}={v}" for k, v in config.items() if k in ("data", "out", "preset", "time_budget_min", "max_steps"))
    write_metadata(args.out, {
        "sketch2face.contract": version,
        "sketch2face.resolution": str(resolution),
        "sketch2face.styles": config["styles"],
        "sketch2face.generator": json.dumps(generator_args),
        "sketch2face.data": json.dumps({"source": report.get("source", str(data)),
                                        "kept": report.get("kept"), "splits": report.get("splits"),
                                        "counts": report.get("counts")}),
        "sketch2face.license": data_license(report),
        "sketch2face.metrics": json.dumps(metrics),
        "sketch2face.training": json.dumps({"steps": ckpt["step"], "minutes": round(ckpt["elapsed_s"] / 60, 1),
                                            "batch_size": config["batch_size"], "precision": config["precision"]}),
        "sketch2face.command": command,
        "sketch2face.commit": ckpt.get("commit", "unknown"),
    })

    # Parity: the same inputs through PyTorch and onnxruntime, batch of 2 to exercise the dynamic
    # axis: the golden sketch (with its hints and a code), then random inputs.
    rng = np.random.default_rng(0)
    sketch = golden_sketch(data)
    inputs = {"sketch": torch.cat([to_tensor(sketch[None]),
                                   torch.from_numpy(rng.uniform(-1, 1, (1, 1, resolution, resolution))).float()])}
    hints = z = None
    if "hints" in names:
        hints = rgba_to_hints(hints_to_rgba(golden_hints(data, resolution)))
        random_hints = np.zeros((4, resolution, resolution), np.float32)
        random_hints[3] = rng.random((resolution, resolution)) < 0.1
        random_hints[:3] = rng.uniform(-1, 1, (3, resolution, resolution)) * random_hints[3]
        inputs["hints"] = torch.from_numpy(np.stack([hints, random_hints])).float()
    if "z" in names:
        z = np.round(rng.standard_normal(generator_args["z_dim"]), 3).astype(np.float32)
        inputs["z"] = torch.from_numpy(np.stack([z, rng.standard_normal(generator_args["z_dim"])])).float()
    with torch.no_grad():
        expected = net(**inputs).numpy()
    actual = run_onnx(args.out, {name: t.numpy() for name, t in inputs.items()})
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
        if hints is not None:
            cv2.imwrite(str(args.golden / "golden_hints.png"), cv2.cvtColor(hints_to_rgba(hints), cv2.COLOR_RGBA2BGRA))
        onnx_face = to_uint8(torch.from_numpy(actual[:1]))[0]
        observed = np.abs(face.astype(int) - onnx_face.astype(int))
        (args.golden / "golden.json").write_text(json.dumps({
            "model": str(args.out),
            "resolution": resolution,
            "contract": version,
            "hints": "golden_hints.png" if hints is not None else None,
            "z": None if z is None else [float(v) for v in z],
            # 8-bit levels; onnxruntime differs from PyTorch by < 1e-4, i.e. at most one rounding step.
            "tolerance_max_abs": 2,
            "tolerance_mean_abs": 0.5,
            "observed_onnxruntime_max_abs": int(observed.max()),
        }, indent=2) + "\n")
        print(f"golden set written to {args.golden}")
    size_mb = args.out.stat().st_size / 1e6
    print(f"exported {args.out} ({size_mb:.1f} MB, {resolution}x{resolution}, step {ckpt['step']})")
    return 0


if __name__ == "__main__":
    sys.exit(main())

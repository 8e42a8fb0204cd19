"""Export the reference pix2pix generator, with random weights, for the side-by-side benchmark.

    python -m training.export_reference --out target/bench/reference.onnx

The reference is the generator of Isola et al. 2017 as the pix2pix code builds it for 256x256
images: a U-Net with ngf 64 and BatchNorm (`unet_256`). Its weights are drawn with the pix2pix
initialisation (Normal(0, 0.02)) from a fixed seed: the benchmark measures speed, not faces, and
the file is written at bench time, never committed. It follows the model contract (the same
export and metadata as `training/export.py`), so the Rust engine loads it like the shipped model.
"""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import asdict
from pathlib import Path

import torch

from training.export import CONTRACT_V1, export_onnx, write_metadata
from training.networks import GeneratorConfig, UNetGenerator, count_parameters, init_weights

REFERENCE = GeneratorConfig(resolution=256, ngf=64, norm="batch")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", type=Path, default=Path("target/bench/reference.onnx"))
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)

    torch.manual_seed(args.seed)
    net = UNetGenerator(REFERENCE)
    init_weights(net)
    net.eval()  # BatchNorm uses its running statistics, dropout is off: inference as shipped
    with torch.no_grad():
        export_onnx(net, asdict(REFERENCE), args.out)
    write_metadata(args.out, {
        "sketch2face.contract": CONTRACT_V1,
        "sketch2face.resolution": str(REFERENCE.resolution),
        "sketch2face.generator": json.dumps(asdict(REFERENCE)),
        "sketch2face.note": "reference pix2pix generator (unet_256, ngf 64, BatchNorm) with random "
                            f"weights (seed {args.seed}); for benchmarks only, it paints no faces",
        "sketch2face.command": "python -m training.export_reference " + " ".join(argv or sys.argv[1:]),
    })
    size_mb = args.out.stat().st_size / 1e6
    print(f"exported the reference generator to {args.out} ({count_parameters(net) / 1e6:.1f} M parameters, "
          f"{size_mb:.0f} MB, {REFERENCE.resolution}x{REFERENCE.resolution})")
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Test fixtures made from held-out data, so the Rust tests have real drawings to replay.

    python -m training.fixtures replay-drawing --out tests/data/replay_drawing.json

`replay-drawing`: a whole-head drawing of a held-out CelebA photo as the app stores drawings
(`{"strokes": [...]}`, canvas coordinates in 0..1): the face's own strokes first (outline,
brows, eyes, nose, lips: the `drawn` style), then the photo's lines outside the face (hair,
ears, neck: the `hand` style), in the order a person would draw them. The test replays it
stroke by stroke.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

import cv2
import numpy as np

from training import landmarks, sketches


def replay_drawing(args) -> int:
    folder = Path(args.data)
    faces = np.load(folder / "test.npy", mmap_mode="r")
    points, parts = landmarks.load(folder, "test")
    rgb, mesh = np.asarray(faces[args.index]), np.asarray(points[args.index], np.float32)
    size = rgb.shape[0]
    rng = np.random.default_rng(args.seed)
    strokes, oval = sketches.feature_strokes(mesh, parts, size, rng)
    loop = np.concatenate([line[:-1] for line in oval]).astype(np.float32)
    centre = loop.mean(0)
    grown = (loop - centre) * 1.06 + centre
    outside = [s for s in sketches.hand_strokes(rgb, rng)
               if cv2.pointPolygonTest(grown.reshape(-1, 1, 2), tuple(float(v) * size for v in
                                        np.mean([[p["x"], p["y"]] for p in s["points"]], 0)), False) < 0]
    outside.sort(key=lambda s: min(p["y"] for p in s["points"]))  # hair first, neck last
    out = Path(args.out)
    temporary = out.with_name(out.name + ".tmp")
    temporary.write_text(json.dumps({"strokes": strokes + outside}) + "\n")
    os.replace(temporary, out)
    print(f"wrote {out}: {len(strokes)} face strokes, {len(outside)} around it (CelebA test face {args.index})")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    commands = parser.add_subparsers(dest="command", required=True)
    r = commands.add_parser("replay-drawing")
    r.add_argument("--data", default="training/data/celeba")
    r.add_argument("--index", type=int, default=3)
    r.add_argument("--seed", type=int, default=5)
    r.add_argument("--out", default="tests/data/replay_drawing.json")
    args = parser.parse_args(argv)
    return {"replay-drawing": replay_drawing}[args.command](args)


if __name__ == "__main__":
    sys.exit(main())

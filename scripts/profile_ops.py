#!/usr/bin/env python3
"""Where a model's CPU inference time goes, per operator type (ONNX Runtime's own profiler).

    .venv/bin/python scripts/profile_ops.py [MODEL] [--threads 2] [--runs 50]

Runs batch-1 inference with the same session settings as the engine (all graph optimisations,
no spinning, one inter-op thread) and prints each operator type's share of the kernel time.
"""

from __future__ import annotations

import argparse
import collections
import json
import os
import tempfile
from pathlib import Path

import numpy as np
import onnxruntime as ort


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("model", type=Path, nargs="?", default=Path("models/sketch2face.onnx"))
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--runs", type=int, default=50)
    args = parser.parse_args()

    options = ort.SessionOptions()
    options.intra_op_num_threads = args.threads
    options.inter_op_num_threads = 1
    options.add_session_config_entry("session.intra_op.allow_spinning", "0")
    session = ort.InferenceSession(str(args.model), options, providers=["CPUExecutionProvider"])
    side = session.get_inputs()[0].shape[3]
    sketch = np.ones((1, 1, side, side), np.float32)
    for _ in range(5):
        session.run(None, {"sketch": sketch})

    options.enable_profiling = True
    with tempfile.TemporaryDirectory() as tmp:
        options.profile_file_prefix = os.path.join(tmp, "profile")
        session = ort.InferenceSession(str(args.model), options, providers=["CPUExecutionProvider"])
        for _ in range(5 + args.runs):
            session.run(None, {"sketch": sketch})
        events = json.loads(Path(session.end_profiling()).read_text())

    kernels = [e for e in events if e.get("cat") == "Node" and e["name"].endswith("_kernel_time")]
    runs = [e for e in events if e.get("name") == "model_run"][5:]
    per_op, nodes = collections.Counter(), collections.Counter()
    for event in kernels[len(kernels) * 5 // (5 + args.runs):]:  # drop the warm-up runs
        per_op[event["args"]["op_name"]] += event["dur"]
        nodes[event["args"]["op_name"]] += 1
    total = sum(per_op.values())
    run_ms = float(np.median([e["dur"] for e in runs])) / 1e3 if runs else float("nan")
    print(f"{args.model}: {side} px, {args.threads} threads, median run {run_ms:.2f} ms (profiling on)")
    for op, micros in per_op.most_common():
        print(f"  {op:24} {micros / args.runs / 1e3:7.2f} ms/run {100 * micros / total:5.1f} %  {nodes[op] // args.runs} nodes")


if __name__ == "__main__":
    main()

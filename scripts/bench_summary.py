#!/usr/bin/env python3
"""Merge the benchmark outputs into target/bench/summary.json and check them against the targets.

    python3 scripts/bench_summary.py [--bench-dir target/bench] [--criterion-dir target/criterion]

Reads side_by_side.json, live.json and serve_load.json (written by `cargo bench --bench
side_by_side`, `--bench live` and `--bench serve_load`) and, when present, criterion's estimates
of the `pipeline` benches. Prints one line per target; exits 0 even when a target is missed (the
numbers are the result), 1 when an input is missing. Standard library only.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

# (key, target, "max" = at most / "min" = at least, unit)
TARGETS = [
    ("inference_ms_p50", 8.0, "max", "ms"),
    ("speedup", 10.0, "min", "x"),
    ("variations_4_times_single", 4.0, "max", "x"),
    ("stroke_to_face_ms_p50", 25.0, "max", "ms"),
    ("stroke_to_face_ms_p95", 50.0, "max", "ms"),
    ("ui_frame_ms_p99", 4.0, "max", "ms"),
    ("startup_to_first_face_ms", 1500.0, "max", "ms"),
    ("peak_rss_mb", 300.0, "max", "MB"),
    ("serve_errors", 0, "max", ""),
    ("serve_throughput_vs_engine", 0.7, "min", "x"),
    ("serve_rss_growth_pct", 10.0, "max", "%"),
]


def criterion_medians(root: Path) -> dict[str, float]:
    """Median of every criterion benchmark, in ms, keyed `group/function`."""
    medians = {}
    for estimates in sorted(root.glob("*/*/new/estimates.json")):
        group, function = estimates.parts[-4], estimates.parts[-3]
        median_ns = json.loads(estimates.read_text())["median"]["point_estimate"]
        medians[f"{group}/{function}"] = round(median_ns / 1e6, 4)
    return medians


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--bench-dir", type=Path, default=Path("target/bench"))
    parser.add_argument("--criterion-dir", type=Path, default=Path("target/criterion"))
    args = parser.parse_args(argv)

    inputs = {}
    for name in ("side_by_side", "live", "serve_load"):
        path = args.bench_dir / f"{name}.json"
        if not path.exists():
            print(f"error: {path} is missing; run `cargo bench --bench {name}` (or `make bench`)", file=sys.stderr)
            return 1
        inputs[name] = json.loads(path.read_text())
    side, live, serve = inputs["side_by_side"], inputs["live"], inputs["serve_load"]

    summary = {
        "inference_ms_p50": side["shipped"]["median_ms"],
        "reference_ms_p50": side["reference"]["median_ms"],
        "speedup": side["speedup"],
        # A batch of four variations over one face's time (None for a model without z).
        "variations_4_times_single": (side.get("variations") or {}).get("times_single"),
        "stroke_to_face_ms_p50": live["stroke_to_face_ms"]["p50"],
        "stroke_to_face_ms_p95": live["stroke_to_face_ms"]["p95"],
        "ui_frame_ms_p99": live["ui_frame_ms_worker_busy"]["p99"],
        "startup_to_first_face_ms": live["startup_to_first_face_ms"],
        "peak_rss_mb": live["peak_rss_mb"],
        "serve_latency_ms_p50": serve["latency_ms"]["p50"],
        "serve_latency_ms_p99": serve["latency_ms"]["p99"],
        "serve_throughput_rps": serve["throughput_rps"],
        "serve_engine_faces_per_s": max(serve["engine_faces_per_s"].values()),
        "serve_throughput_vs_engine": serve["throughput_vs_engine"],
        "serve_errors": serve["errors"],
        "serve_rss_mb_before": serve["rss_mb"]["before"],
        "serve_rss_mb_after": serve["rss_mb"]["after"],
        "serve_rss_growth_pct": serve["rss_mb"]["growth_pct"],
    }
    checks = {}
    for key, target, kind, unit in TARGETS:
        value = summary[key]
        met = value is not None and (value <= target if kind == "max" else value >= target)
        checks[key] = {"target": target, "kind": "at most" if kind == "max" else "at least", "met": met}
        sign = "<=" if kind == "max" else ">="
        print(f"{'met   ' if met else 'MISSED'} {key:26} {str(value):>10} {unit:2}  (target {sign} {target:g} {unit})")

    summary["targets"] = checks
    summary["details"] = {
        "side_by_side": side,
        "live": live,
        "serve_load": serve,
        "criterion_median_ms": criterion_medians(args.criterion_dir) if args.criterion_dir.exists() else {},
    }
    out = args.bench_dir / "summary.json"
    out.write_text(json.dumps(summary, indent=2) + "\n")
    print(f"wrote {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

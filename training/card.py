"""The model card's comparison table, from two evaluation reports.

    python -m training.card training/runs/default/eval.json training/runs/baseline/eval.json

Prints Markdown: per sketch style L1, PSNR, SSIM, face rate (both cascades, where the reports
have them), grid score and sharpness for each model, then the inference time, parameters and size.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

METRICS = (("l1", "L1 (lower is better)", "{:.4f}"), ("psnr", "PSNR dB", "{:.2f}"),
           ("ssim", "SSIM", "{:.3f}"), ("face_rate", "face rate ({detector})", "{:.3f}"),
           ("face_rate_default_cascade", "face rate, default cascade (earlier cards)", "{:.3f}"),
           ("grid_score", "grid score (1 = like photos)", "{:.2f}"),
           ("sharpness", "sharpness (1 = like photos)", "{:.2f}"))


def table(reports: dict[str, dict]) -> str:
    names = list(reports)
    first = next(iter(reports.values()))
    lines = ["| style | metric | " + " | ".join(names) + " |", "|---|---|" + "---|" * len(names)]
    # Reports from before evaluate named its detector used the default cascade.
    detectors = sorted({r.get("face_detector", "default") for r in reports.values()})
    detector = f"{detectors[0]} cascade" if len(detectors) == 1 else f"cascades differ: {', '.join(detectors)}"
    for style in first["styles"]:
        for key, label, fmt in METRICS:
            if not all(key in r["styles"][style] for r in reports.values()):
                continue  # reports from before the metric existed
            cells = [fmt.format(r["styles"][style][key]) for r in reports.values()]
            lines.append(f"| {style} | {label.format(detector=detector)} | " + " | ".join(cells) + " |")
    lines.append("| all | real-face ceiling (face rate of the real test faces) | "
                 + " | ".join(f"{r['real_face_rate']:.3f}" for r in reports.values()) + " |")
    if all("real_face_rate_default_cascade" in r for r in reports.values()):
        lines.append("| all | real-face ceiling, default cascade | "
                     + " | ".join(f"{r['real_face_rate_default_cascade']:.3f}" for r in reports.values()) + " |")
    lines.append("| all | colour error in hinted pixels, with / without hints (0..1) | " + " | ".join(
        f"{r['hint_error']['with_hints']:.3f} / {r['hint_error']['without_hints']:.3f} "
        f"(ratio {r['hint_error']['ratio']:.2f})" if "hint_error" in r else "no hints" for r in reports.values()) + " |")
    lines.append("| all | diversity: mean pairwise L1 of 4 codes per sketch (0..1) | " + " | ".join(
        f"{r['diversity']['mean_pairwise_l1']:.3f}" if "diversity" in r else "no code" for r in reports.values()) + " |")
    lines.append("| | CPU inference, batch 1, 1 thread, ms (median) | "
                 + " | ".join(f"{r['inference_ms']['median']:.1f}" for r in reports.values()) + " |")
    lines.append("| | parameters (M) | "
                 + " | ".join(f"{r['model']['parameters'] / 1e6:.2f}" for r in reports.values()) + " |")
    lines.append("| | size, fp32 MB | " + " | ".join(f"{r['model']['fp32_mb']:.1f}" for r in reports.values()) + " |")
    lines.append("| | training steps / minutes | "
                 + " | ".join(f"{r['model'].get('step', '?')} / {r['model'].get('trained_min', float('nan')):.0f}" for r in reports.values()) + " |")
    lines.append(f"\nTest faces per style: {first['samples']}.")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("reports", type=Path, nargs="+", help="eval.json files; the run folder names the column")
    args = parser.parse_args(argv)
    reports = {path.parent.name: json.loads(path.read_text()) for path in args.reports}
    print(table(reports))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

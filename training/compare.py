"""Face pipeline v3 against v1 and v2 (issue 25), every figure side by side, from faces made by
`sketch2face generate` (the binary users run, on the CPU) and judged by MediaPipe's face detector
and face mesh, both trained on real photos (training/landmarks.py --judge, in its own venv).

    python -m training.evaluate compare --out models/card/v3_eval.json

Inputs, the same for every model (made here, seeded):
- hand: the project's own drawings (assets/sketches), never trained on;
- utk: 2017-recipe sketches (sketches.canny2017) of the first --photos held-out UTK photos
  (training/data/utkface192 test, 192 px, tight crops);
- celeba: the same of held-out CelebA whole heads (training/data/celeba test, 256 px);
- hints: hand-style sketches of UTK test photos with colour hints painted from the photo
  (training/hints.py);
- variations: 4 seeds for each drawing and each of the first 25 utk sketches.

Lines, per model:
- found: share of faces in which the detector finds a face (score >= 0.5); detector: its score,
  mean over all faces (0 where it finds none, and where the model gave no face at all);
- mesh_error: median NME (mean point distance over the outer-eye distance, points 33 and 263) of
  the face's MediaPipe mesh against the drawing's (hand) or the photo's (utk, celeba), over the
  faces with a mesh; mesh_found: the share that had one;
- sharpness (utk): Laplacian variance of the faces over the photos' (training/quality.py);
- l1, psnr, ssim (utk): against the photo, at the photo's size;
- hint_ratio: mean colour error in the hinted pixels with the hints over the error without;
  beside it the floors the hints set (`floors`): the same error of each painted region (training/hints.py:
  a stroke's colour is the photo's mean under it, jittered as a user's pick) filled flat with
  its hint colour, filled flat with the photo's own mean there, and that mean plus the model's
  detail there;
- diversity: mean pairwise pixel difference (0..1) of the 4 seeds' faces for one drawing.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path

import cv2
import numpy as np

from training import augment, hints as hint_sim, quality, sketches
from training.evaluate import image_metrics

MODELS = {
    "v1": ["--model", "models/sketch2face-v1.onnx"],
    "v2": ["--model", "models/sketch2face.onnx"],
    "warped": ["--stage", "warped"],
    "v3": ["--stage", "refined"],
}
FOUND_SCORE = 0.5
EYES = (33, 263)
MESH_POINTS = 468


def write_png(path: Path, rgb_or_gray: np.ndarray) -> None:
    image = rgb_or_gray if rgb_or_gray.ndim == 2 else cv2.cvtColor(rgb_or_gray, cv2.COLOR_RGB2BGR)
    path.parent.mkdir(parents=True, exist_ok=True)
    cv2.imwrite(str(path), image)


def read_rgb(path: Path, size: int | None = None) -> np.ndarray:
    bgr = cv2.imread(str(path), cv2.IMREAD_COLOR)
    if bgr is None:  # a model that made no face for this input: a grey tile
        bgr = np.full((size or TILE, size or TILE, 3), 128, np.uint8)
    rgb = cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB)
    if size and rgb.shape[0] != size:
        rgb = cv2.resize(rgb, (size, size), interpolation=cv2.INTER_AREA if rgb.shape[0] > size else cv2.INTER_CUBIC)
    return rgb


def nme(points: np.ndarray, truth: np.ndarray) -> float:
    eyes = np.linalg.norm(truth[EYES[0]] - truth[EYES[1]])
    return float(np.linalg.norm(points[:MESH_POINTS] - truth[:MESH_POINTS], axis=1).mean() / max(eyes, 1e-6))


class Inputs:
    """The sketch files of every set, and what each is judged against."""

    def __init__(self, work: Path, photos: int, hint_samples: int, seed: int):
        self.work = work
        self.sets: dict[str, dict] = {}
        drawings = sorted(Path("assets/sketches").glob("*.png"))
        self.sets["hand"] = {"files": drawings, "photos": None, "meshes": None}
        for name, folder in (("utk", "training/data/utkface192"), ("celeba", "training/data/celeba")):
            faces = np.load(f"{folder}/test.npy", mmap_mode="r")[:photos]
            marks = np.load(f"{folder}/test_landmarks.npy")[:photos]
            files = []
            for i, face in enumerate(faces):
                path = work / "inputs" / name / f"{i:04d}.png"
                if not path.exists():
                    write_png(path, sketches.canny2017(np.ascontiguousarray(face)))
                files.append(path)
                photo = work / "inputs" / f"{name}_photo" / f"{i:04d}.png"
                if not photo.exists():
                    write_png(photo, np.asarray(face))
            self.sets[name] = {"files": files, "photos": np.asarray(faces), "meshes": marks}
        faces = np.load("training/data/utkface192/test.npy", mmap_mode="r")[photos:photos + hint_samples]
        self.hints = []
        for i, face in enumerate(faces):
            face = np.ascontiguousarray(face)
            rng = np.random.default_rng([seed, i])
            strokes = []
            while not strokes:
                strokes = hint_sim.random_strokes(augment.Frame(0, 0, face.shape[0]), face.shape[0], rng)
            hints = hint_sim.paint(face, strokes, rng)
            sketch_path = work / "inputs" / "hints" / f"{i:04d}.png"
            hint_path = work / "inputs" / "hints" / f"{i:04d}_hints.png"
            write_png(sketch_path, sketches.hand(face, rng))
            rgba = np.zeros((*face.shape[:2], 4), np.uint8)
            mask = hints[3] > 0.5
            rgba[..., :3] = np.round((hints[:3].transpose(1, 2, 0) + 1) * 127.5).clip(0, 255).astype(np.uint8)
            rgba[..., 3] = np.where(mask, 255, 0)
            cv2.imwrite(str(hint_path), cv2.cvtColor(rgba, cv2.COLOR_RGBA2BGRA))
            self.hints.append((sketch_path, hint_path, face, mask, painted_regions(rgba)))
        self.variations = drawings + self.sets["utk"]["files"][:25]


FLOORS = ("flat_hint_colours", "flat_photo_means", "photo_means_with_its_detail")


def painted_regions(rgba: np.ndarray) -> np.ndarray:
    """Each painted pixel's region (1, 2, ...; 0 unpainted): 4-connected pixels of one colour, as
    the engine's (src/face/painted.rs) on a hint file whose colours are exact."""
    labels = np.zeros(rgba.shape[:2], np.int32)
    painted = rgba[..., 3] > 0
    for colour in np.unique(rgba[painted][:, :3], axis=0):
        same = (painted & np.all(rgba[..., :3] == colour, -1)).astype(np.uint8)
        count, parts = cv2.connectedComponents(same, connectivity=4)
        labels[parts > 0] = parts[parts > 0] + labels.max()
    return labels


def region_means(image: np.ndarray, labels: np.ndarray) -> np.ndarray:
    """`image` with each region's pixels replaced by their mean (elsewhere as it was)."""
    out = image.copy()
    for region in range(1, labels.max() + 1):
        where = labels == region
        out[where] = image[where].mean(0)
    return out


def generate(binary: str, model_args: list[str], files: list[Path], out: Path, extra: list[str] = ()) -> dict[str, dict]:
    """`sketch2face generate` over files: {input: its JSON line} (an "error" where it made none)."""
    out.mkdir(parents=True, exist_ok=True)
    command = [binary, "generate", *map(str, files), "--out", str(out), "--json", "--force", "--device", "cpu",
               *model_args, *extra]
    done = subprocess.run(command, capture_output=True, text=True)
    if done.returncode not in (0, 1):
        raise RuntimeError(f"{' '.join(command[:3])} ... failed ({done.returncode}): {done.stderr.strip()[-2000:]}")
    lines = [json.loads(line) for line in done.stdout.splitlines() if line.startswith("{")]
    return {line["input"]: line for line in lines}


def judge(images: list[Path], out: Path, python: str) -> dict[str, dict]:
    listing = out.with_suffix(".txt")
    listing.write_text("\n".join(map(str, images)) + "\n")
    subprocess.run([python, "-m", "training.landmarks", "--judge", str(listing), "--out", str(out)], check=True,
                   capture_output=True)
    return json.loads(out.read_text())


def summarise(values: list[float]) -> float | None:
    return round(float(np.mean(values)), 4) if values else None


# The lines v3 must win to become the default (issue 25): (set, figure, target, better).
TARGETS = [
    ("hand", "found", 1.0, "higher"), ("hand", "detector", 0.85, "higher"), ("hand", "mesh_error", 0.05, "lower"),
    ("utk", "found", 0.95, "higher"), ("utk", "detector", 0.75, "higher"), ("utk", "mesh_error", 0.05, "lower"),
    ("utk", "sharpness", 0.7, "higher"),
    ("celeba", "found", 0.90, "higher"), ("celeba", "detector", 0.80, "higher"), ("celeba", "mesh_error", 0.07, "lower"),
    ("utk", "l1", 0.13, "lower"), ("utk", "psnr", 15.5, "higher"), ("utk", "ssim", 0.50, "higher"),
]


def verdict_table(report: dict) -> str:
    """Markdown: every line of the default rule, each model's figure, the target, and whether v3
    meets the target and beats v2."""
    models = list(report["models"])
    head = "| set | figure | target | " + " | ".join(models) + " | v3 meets it | v3 beats v2 |"
    lines = [head, "|" + "---|" * (head.count("|") - 1)]

    def cell(value) -> str:
        return "n/a" if value is None else f"{value:.3f}" if isinstance(value, float) else str(value)

    def wins(a, b, better) -> bool:
        return a is not None and b is not None and (a >= b if better == "higher" else a <= b)

    rows = [(name, figure, target, better, {m: report["sets"][name][m].get(figure) for m in models})
            for name, figure, target, better in TARGETS]
    hints = {m: report["hints"][m].get("ratio") for m in models}
    rows.append(("hints", "error ratio, with / without", 0.5, "lower", hints))
    spread = {m: report["variations"][m].get("mean_pairwise_difference") for m in models}
    rows.append(("variations", "4 seeds, mean pairwise difference", 0.10, "higher", spread))
    for name, figure, target, better, values in rows:
        sign = ">=" if better == "higher" else "<="
        v3, v2 = values.get("v3"), values.get("v2")
        lines.append(f"| {name} | {figure} | {sign} {target} | " + " | ".join(cell(values.get(m)) for m in models)
                     + f" | {'yes' if wins(v3, target, better) else '**no**'} | {'yes' if wins(v3, v2, better) else '**no**'} |")
    return "\n".join(lines)


TILE = 192


def tile(image: np.ndarray) -> np.ndarray:
    rgb = image if image.ndim == 3 else cv2.cvtColor(image, cv2.COLOR_GRAY2RGB)
    return cv2.resize(rgb, (TILE, TILE), interpolation=cv2.INTER_AREA)


def save_jpeg(path: Path, rows: list[list[np.ndarray]], header: str) -> None:
    sheet = np.concatenate([np.concatenate(row, 1) for row in rows], 0)
    band = np.full((28, sheet.shape[1], 3), 255, np.uint8)
    cv2.putText(band, header, (6, 20), cv2.FONT_HERSHEY_SIMPLEX, 0.5, (0, 0, 0), 1, cv2.LINE_AA)
    path.parent.mkdir(parents=True, exist_ok=True)
    cv2.imwrite(str(path), cv2.cvtColor(np.concatenate([band, sheet], 0), cv2.COLOR_RGB2BGR),
                [cv2.IMWRITE_JPEG_QUALITY, 88])


def contact_sheet(args, inputs: Inputs, made: dict, path: Path) -> None:
    """Each drawing, its mesh (the engine's, `sketch2face landmarks`), the warped bank face and
    v3's face, plus a few utk and celeba sketches."""
    files = list(inputs.sets["hand"]["files"]) + inputs.sets["utk"]["files"][:2] + inputs.sets["celeba"]["files"][:2]
    done = subprocess.run([args.binary, "landmarks", *map(str, files), "--json", "--device", "cpu"],
                          capture_output=True, text=True)
    meshes = {line["input"]: line for line in map(json.loads, done.stdout.splitlines()) if line.get("points")}
    rows = []
    for file in files:
        name = "hand" if file in inputs.sets["hand"]["files"] else file.parent.name
        drawing = read_rgb(file)
        marked = drawing.copy()
        for x, y in meshes.get(str(file), {}).get("points", []):
            cv2.circle(marked, (int(round(x)), int(round(y))), max(1, drawing.shape[0] // 200), (220, 30, 30), -1)
        faces = [made[m][name].get(str(file), {}).get("output") if "error" not in made[m][name].get(str(file), {})
                 else None for m in ("warped", "v3")]
        row = [tile(drawing), tile(marked)] + [tile(read_rgb(Path(f))) if f else np.full((TILE, TILE, 3), 128, np.uint8)
                                               for f in faces]
        rows.append(row)
    save_jpeg(path, rows, "drawing | its mesh (mesh-v3) | warped bank face | v3 (refined)")


def worst_cases(args, inputs: Inputs, made: dict, verdict, path: Path, count: int = 4) -> None:
    """The v3 faces the detector believes least, per photo set: sketch | warped | v3 | photo."""
    rows = []
    for name in ("hand", "utk", "celeba"):
        data = inputs.sets[name]
        scored = []
        for i, file in enumerate(data["files"]):
            line = made["v3"][name].get(str(file), {})
            score = verdict(Path(line["output"])).get("detector", 0.0) if "output" in line else -1.0
            scored.append((score, i, file))
        for score, i, file in sorted(scored, key=lambda t: t[0])[:count if name != "hand" else 2]:
            faces = [made[m][name].get(str(file), {}).get("output") if "error" not in made[m][name].get(str(file), {})
                 else None for m in ("warped", "v3")]
            row = [tile(read_rgb(file))] + [tile(read_rgb(Path(f))) if f else np.full((TILE, TILE, 3), 128, np.uint8)
                                            for f in faces]
            row.append(tile(np.asarray(data["photos"][i])) if data["photos"] is not None else np.full((TILE, TILE, 3), 255, np.uint8))
            cv2.putText(row[2], f"{name} {score:.2f}", (4, 16), cv2.FONT_HERSHEY_SIMPLEX, 0.45, (255, 255, 0), 1, cv2.LINE_AA)
            rows.append(row)
    save_jpeg(path, rows, "worst v3 faces by detector score: sketch | warped | v3 (set, score) | photo")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", type=Path, required=True, help="the JSON report to write")
    parser.add_argument("--work", type=Path, default=Path("training/runs/compare"))
    parser.add_argument("--binary", default="target/release/sketch2face")
    parser.add_argument("--judge_python", default=".venv-landmarks/bin/python")
    parser.add_argument("--models", default=",".join(MODELS))
    parser.add_argument("--photos", type=int, default=500, help="held-out photos per set")
    parser.add_argument("--hint_samples", type=int, default=40)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--sheet", type=Path, help="contact sheet to write: drawing | mesh | warped | v3")
    parser.add_argument("--worst", type=Path, help="the worst v3 faces to write: sketch | warped | v3 | photo")
    args = parser.parse_args(argv)
    started = time.time()
    inputs = Inputs(args.work, args.photos, args.hint_samples, args.seed)
    models = [m for m in args.models.split(",") if m]

    made: dict[str, dict[str, dict]] = {}
    for model in models:
        made[model] = {}
        for name, data in inputs.sets.items():
            made[model][name] = generate(args.binary, MODELS[model], data["files"], args.work / model / name)
        print(f"{model}: generated in {time.time() - started:.0f} s", flush=True)

    # The judges' view of every face made and of every drawing and photo.
    to_judge = list(inputs.sets["hand"]["files"])
    for name in ("utk", "celeba"):
        to_judge += [args.work / "inputs" / f"{name}_photo" / f.name for f in inputs.sets[name]["files"]]
    for model in models:
        for lines in made[model].values():
            to_judge += [Path(line["output"]) for line in lines.values() if "output" in line and "error" not in line]
    verdicts = judge(to_judge, args.work / "judged.json", args.judge_python)
    print(f"judged {len(to_judge)} images in {time.time() - started:.0f} s", flush=True)

    def verdict(path: Path) -> dict:
        return verdicts.get(str(path), {})

    report: dict = {"photos_per_set": args.photos, "binary": args.binary, "models": {m: MODELS[m] for m in models},
                    "real": {}, "sets": {}}
    for name in ("utk", "celeba"):
        photos = [verdict(args.work / "inputs" / f"{name}_photo" / f.name) for f in inputs.sets[name]["files"]]
        scores = [p.get("detector", 0.0) for p in photos]
        report["real"][name] = {"found": summarise([s >= FOUND_SCORE for s in scores]), "detector": summarise(scores)}

    for name, data in inputs.sets.items():
        report["sets"][name] = {}
        for model in models:
            scores, found, errors, meshes = [], [], [], []
            fakes, reals, metrics = [], [], []
            for i, file in enumerate(data["files"]):
                line = made[model][name].get(str(file), {})
                if "output" not in line or "error" in line:
                    scores.append(0.0)
                    found.append(False)
                    meshes.append(False)
                    continue
                output = Path(line["output"])
                seen = verdict(output)
                score = seen.get("detector", 0.0)
                scores.append(score)
                found.append(score >= FOUND_SCORE)
                face = read_rgb(output)
                side = face.shape[0]
                if data["photos"] is None:  # a drawing: its own mesh, on the square page the face is made on
                    reference = verdict(file).get("mesh")
                    image = cv2.imread(str(file), cv2.IMREAD_GRAYSCALE)
                    page = max(image.shape)
                    offset = np.array([(page - image.shape[1]) / 2, (page - image.shape[0]) / 2])
                    reference = None if reference is None else (np.array(reference) + offset) * (side / page)
                else:
                    photo = data["photos"][i]
                    reference = data["meshes"][i] * (side / photo.shape[0])
                mesh = seen.get("mesh")
                meshes.append(mesh is not None)
                if mesh is not None and reference is not None and np.isfinite(reference).all():
                    errors.append(nme(np.array(mesh), np.asarray(reference)))
                if data["photos"] is not None and name == "utk":
                    photo = np.asarray(data["photos"][i])
                    small = read_rgb(output, photo.shape[0])
                    fakes.append(small)
                    reals.append(photo)
                    metrics.append(image_metrics(small, photo))
            line = {"faces": len(data["files"]), "found": summarise(found), "detector": summarise(scores),
                    "mesh_found": summarise(meshes),
                    "mesh_error": round(float(np.median(errors)), 4) if errors else None}
            if metrics:
                line.update({key: round(float(np.mean([m[key] for m in metrics])), 4) for key in ("l1", "psnr", "ssim")})
                line["sharpness"] = round(quality.sharpness_ratio(np.stack(fakes), np.stack(reals)), 3)
            report["sets"][name][model] = line

    report["hints"], report["variations"] = {}, {}
    for model in models:
        with_error = without_error = 0.0
        pixels, refused = 0, None
        floors = dict.fromkeys(FLOORS, 0.0)
        for sketch_path, hint_path, photo, mask, regions in inputs.hints:
            out = args.work / model / "hints"
            try:
                with_hints = generate(args.binary, MODELS[model], [sketch_path], out / "with", ["--hints", str(hint_path)])
                without = generate(args.binary, MODELS[model], [sketch_path], out / "without")
            except RuntimeError as refusal:  # a model without hints refuses them
                refused = str(refusal).splitlines()[-1]
                break
            a, b = with_hints.get(str(sketch_path), {}), without.get(str(sketch_path), {})
            if "error" in a or "output" not in a or "output" not in b:
                refused = a.get("error", "no face")
                continue
            real = photo.astype(np.float32) / 255
            for line, acc in ((a, "with"), (b, "without")):
                fake = read_rgb(Path(line["output"]), photo.shape[0]).astype(np.float32) / 255
                error = float(np.abs(fake - real)[mask].sum())
                if acc == "with":
                    with_error += error
                    fake_with = fake
                else:
                    without_error += error
            # What the hints allow: the error of painting each region flat with its hint colour,
            # with the photo's own mean there (a perfect pick), and that mean plus the model's
            # own detail there (its face with hints, less its region means).
            colours = cv2.cvtColor(cv2.imread(str(hint_path), cv2.IMREAD_UNCHANGED), cv2.COLOR_BGRA2RGB)
            truth = region_means(real, regions)
            for name, image in (("flat_hint_colours", colours.astype(np.float32) / 255), ("flat_photo_means", truth),
                                ("photo_means_with_its_detail", truth + fake_with - region_means(fake_with, regions))):
                floors[name] += float(np.abs(np.clip(image, 0, 1) - real)[mask].sum())
            pixels += int(mask.sum()) * 3
        report["hints"][model] = ({"with_hints": round(with_error / pixels, 4), "without_hints": round(without_error / pixels, 4),
                                   "ratio": round(with_error / max(without_error, 1e-9), 3),
                                   "floors": {name: round(value / pixels, 4) for name, value in floors.items()}}
                                  if pixels else {"not_measured": refused})

        diffs, failed = [], 0
        try:
            lines = generate(args.binary, MODELS[model], inputs.variations, args.work / model / "variations",
                             ["--variations", "4", "--seed", "1"])
        except RuntimeError as refusal:  # a model without variations refuses seeds
            report["variations"][model] = {"not_measured": str(refusal).splitlines()[-1]}
            continue
        for file in inputs.variations:
            outs = [args.work / model / "variations" / f"{file.stem}-{k}.png" for k in range(1, 5)]
            if not all(p.exists() for p in outs) or "error" in lines.get(str(file), {}):
                failed += 1
                continue
            faces = [read_rgb(p).astype(np.float32) / 255 for p in outs]
            diffs += [float(np.abs(faces[a] - faces[b]).mean()) for a in range(4) for b in range(a + 1, 4)]
        report["variations"][model] = ({"mean_pairwise_difference": round(float(np.mean(diffs)), 4),
                                        "sketches": len(inputs.variations) - failed}
                                       if diffs else {"not_measured": "the model takes no seeds"})
    if args.sheet and {"warped", "v3"} <= set(models):
        contact_sheet(args, inputs, made, args.sheet)
        report["sheet"] = str(args.sheet)
    if args.worst and {"warped", "v3"} <= set(models):
        worst_cases(args, inputs, made, verdict, args.worst)
        report["worst"] = str(args.worst)
    report["seconds"] = round(time.time() - started)
    if {"v2", "v3"} <= set(models):
        report["table"] = verdict_table(report)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    tmp = args.out.with_suffix(".tmp")
    tmp.write_text(json.dumps(report, indent=2) + "\n")
    tmp.replace(args.out)
    print(json.dumps(report, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())

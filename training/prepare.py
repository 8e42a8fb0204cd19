"""Build a dataset of square face crops at the training resolution.

    python -m training.prepare --synthetic 24000 --out training/data/synthetic
    python -m training.prepare --photos ~/portraits --out training/data/photos
    python -m training.prepare --aligned ../shared/data/utkface/images --out training/data/utkface
    python -m training.prepare --celeba ../shared/data/celeba/images \
        --landmarks training/data/celeba_raw_landmarks.npz --size 256 --out training/data/celeba

Writes {train,val,test}.npy (uint8 [N, S, S, 3], RGB) and report.json (what was kept, what was
dropped and why), so training never decodes an image file.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections import Counter
from pathlib import Path

import cv2
import numpy as np
from tqdm import tqdm

from training.faces import DcganFaces, crop_face, detect_faces, upsample

SPLIT_FRACTIONS = {"val": 0.04, "test": 0.04}
MIN_MEAN_LUMA = 35.0  # darker than this is an unlit, unusable face
MIN_LUMA_STD = 18.0  # flatter than this has no features to sketch
MAX_PHOTO_PIXELS = 50_000_000
# Variance of the Laplacian of the 128 px grayscale face. Below it a face is visibly soft
# (upscaled from a small source); on UTKFace this drops the softest ~4 %.
MIN_SHARPNESS = 18.0
MIN_AGE = 10  # children's proportions are not what people draw
# The canvas framing (the whole head, hair and neck in frame), in fractions of the side: where
# the midpoint of the outer eye corners goes, and their distance. src/face/ uses the same numbers.
CANVAS_EYES = (0.5, 0.42)
CANVAS_EYE_DISTANCE = 0.30
EYE_OUTER = (33, 263)  # MediaPipe's outer eye corners
# Most of an aligned crop that may lie outside its photo (filled by repeating the edge).
MAX_OUTSIDE = 0.20


def sharpness(rgb: np.ndarray) -> float:
    gray = cv2.cvtColor(upsample(rgb, 128), cv2.COLOR_RGB2GRAY)
    return float(cv2.Laplacian(gray, cv2.CV_64F).var())


def age_from_name(name: str) -> int | None:
    """The age in UTKFace-style names (`AGE_GENDER_RACE_DATETIME.jpg.chip.jpg`), when the name
    has one; None for any other name (irregular names are kept, not guessed at)."""
    head = name.split("_", 1)[0]
    return int(head) if head.isdigit() and "_" in name else None


def luma_problem(rgb: np.ndarray) -> str | None:
    """"too dark" or "too flat" for a face with nothing to sketch, or None."""
    gray = cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY)
    if gray.mean() < MIN_MEAN_LUMA:
        return "too dark"
    if gray.std() < MIN_LUMA_STD:
        return "too flat"
    return None


def quality_problem(rgb: np.ndarray) -> str | None:
    """Why a face crop is unusable, or None when it is fine."""
    problem = luma_problem(rgb)
    if problem:
        return problem
    if not detect_faces(rgb):
        return "no face detected"
    return None


def synthetic_faces(count: int, size: int, seed: int, batch: int = 256) -> tuple[np.ndarray, Counter]:
    source = DcganFaces(seed)
    kept: list[np.ndarray] = []
    reasons: Counter = Counter()
    max_samples = count * 4
    with tqdm(total=count, desc="synthetic faces", unit="face") as bar:
        while len(kept) < count and reasons.total() < max_samples:
            for face in source.sample(batch):
                reasons["sampled"] += 1
                face = upsample(face, size)
                problem = quality_problem(face)
                if problem:
                    reasons[problem] += 1
                    continue
                kept.append(face)
                bar.update(1)
                if len(kept) == count:
                    break
    if len(kept) < count:
        print(f"warning: kept only {len(kept)} of the {count} faces asked for", file=sys.stderr)
    return np.stack(kept), reasons


def read_photo(path: Path) -> np.ndarray | None:
    data = np.fromfile(path, dtype=np.uint8)
    if data.size == 0:
        return None
    image = cv2.imdecode(data, cv2.IMREAD_COLOR)
    if image is None or image.shape[0] * image.shape[1] > MAX_PHOTO_PIXELS:
        return None
    return cv2.cvtColor(image, cv2.COLOR_BGR2RGB)


def photo_faces(folder: Path, size: int) -> tuple[np.ndarray, Counter]:
    files = sorted(p for p in folder.rglob("*") if p.is_file())
    kept: list[np.ndarray] = []
    reasons: Counter = Counter()
    for path in tqdm(files, desc="photos", unit="file"):
        reasons["files"] += 1
        photo = read_photo(path)
        if photo is None:
            reasons["unreadable or not an image"] += 1
            continue
        boxes = detect_faces(photo, min_size_frac=0.05)
        if not boxes:
            reasons["no face detected"] += 1
            continue
        face = crop_face(photo, boxes[0], size)
        problem = luma_problem(face)
        if problem:
            reasons[problem] += 1
            continue
        kept.append(face)
    empty = np.zeros((0, size, size, 3), np.uint8)
    return (np.stack(kept) if kept else empty), reasons


def aligned_faces(folder: Path, size: int) -> tuple[np.ndarray, Counter]:
    """Faces that are already aligned and cropped (e.g. UTKFace): resized, not detected."""
    files = sorted(p for p in folder.rglob("*") if p.is_file() and not p.name.startswith("."))
    kept: list[np.ndarray] = []
    reasons: Counter = Counter()
    for path in tqdm(files, desc="aligned faces", unit="file"):
        reasons["files"] += 1
        age = age_from_name(path.name)
        if age is not None and age < MIN_AGE:
            reasons[f"under {MIN_AGE} years"] += 1
            continue
        photo = read_photo(path)
        if photo is None:
            reasons["unreadable or not an image"] += 1
            continue
        side = min(photo.shape[:2])  # centre square, for the odd non-square file
        y0, x0 = (photo.shape[0] - side) // 2, (photo.shape[1] - side) // 2
        face = upsample(photo[y0 : y0 + side, x0 : x0 + side], size)
        problem = luma_problem(face)
        if problem:
            reasons[problem] += 1
            continue
        if sharpness(face) < MIN_SHARPNESS:
            reasons["blurry"] += 1
            continue
        kept.append(face)
    empty = np.zeros((0, size, size, 3), np.uint8)
    return (np.stack(kept) if kept else empty), reasons


def canvas_alignment(points: np.ndarray, size: int) -> np.ndarray:
    """The 2 x 3 similarity taking a face with mesh `points` (pixels) to the canvas framing at
    `size` px: eye corners level, their midpoint at CANVAS_EYES, CANVAS_EYE_DISTANCE apart."""
    left, right = points[EYE_OUTER[0]], points[EYE_OUTER[1]]
    d = right - left
    scale = CANVAS_EYE_DISTANCE * size / max(float(np.hypot(*d)), 1e-6)
    angle = np.arctan2(d[1], d[0])
    a, b = scale * np.cos(-angle), scale * np.sin(-angle)
    mid = (left + right) / 2
    tx = CANVAS_EYES[0] * size - (a * mid[0] - b * mid[1])
    ty = CANVAS_EYES[1] * size - (b * mid[0] + a * mid[1])
    return np.array([[a, -b, tx], [b, a, ty]], np.float64)


def celeba_faces(folder: Path, landmarks: Path, size: int) -> tuple[np.ndarray, np.ndarray, dict, Counter]:
    """CelebA's whole-head photos aligned by their mesh to the canvas framing at `size` px, with
    the quality filters of the other sources. Returns faces, their meshes in the aligned pixels
    [N, 478, 2], per-face facts (names, outside share, source eye distance) and the counts."""
    raw = np.load(landmarks)
    names, points = [str(n) for n in raw["names"]], raw["points"]
    kept, meshes = [], []
    facts: dict[str, list] = {"names": [], "outside": [], "source_eye_distance": []}
    reasons: Counter = Counter()
    for name, mesh in tqdm(list(zip(names, points)), desc="celeba", unit="photo"):
        reasons["files"] += 1
        if not np.isfinite(mesh).all():
            reasons["no face mesh"] += 1
            continue
        photo = read_photo(folder / name)
        if photo is None:
            reasons["unreadable or not an image"] += 1
            continue
        matrix = canvas_alignment(mesh, size)
        face = cv2.warpAffine(photo, matrix, (size, size), flags=cv2.INTER_CUBIC,
                              borderMode=cv2.BORDER_REPLICATE)
        inside = cv2.warpAffine(np.full(photo.shape[:2], 255, np.uint8), matrix, (size, size),
                                flags=cv2.INTER_NEAREST, borderValue=0)
        outside = 1.0 - float((inside > 0).mean())
        if outside > MAX_OUTSIDE:
            reasons[f"over {MAX_OUTSIDE:.0%} of the frame outside the photo"] += 1
            continue
        problem = luma_problem(face)
        if problem:
            reasons[problem] += 1
            continue
        if sharpness(face) < MIN_SHARPNESS:
            reasons["blurry"] += 1
            continue
        aligned = mesh @ matrix[:, :2].T + matrix[:, 2]
        kept.append(face)
        meshes.append(aligned.astype(np.float32))
        facts["names"].append(name)
        facts["outside"].append(round(outside, 4))
        facts["source_eye_distance"].append(round(float(np.hypot(*(mesh[EYE_OUTER[1]] - mesh[EYE_OUTER[0]]))), 2))
    if not kept:
        return np.zeros((0, size, size, 3), np.uint8), np.zeros((0, 478, 2), np.float32), facts, reasons
    return np.stack(kept), np.stack(meshes), facts, reasons


def split_order(n: int, seed: int) -> dict[str, np.ndarray]:
    """Which indices go to which split: a seeded permutation, test first."""
    order = np.random.default_rng(seed).permutation(n)
    n_val = max(1, int(n * SPLIT_FRACTIONS["val"])) if n >= 3 else 0
    n_test = max(1, int(n * SPLIT_FRACTIONS["test"])) if n >= 3 else 0
    return {"test": order[:n_test], "val": order[n_test : n_test + n_val], "train": order[n_test + n_val :]}


def split(faces: np.ndarray, seed: int) -> dict[str, np.ndarray]:
    return {name: faces[indices] for name, indices in split_order(len(faces), seed).items()}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    source = parser.add_mutually_exclusive_group(required=True)
    source.add_argument("--synthetic", type=int, metavar="N", help="sample N kept faces from the DCGAN")
    source.add_argument("--photos", type=Path, metavar="DIR", help="crop the largest face of every photo in DIR")
    source.add_argument("--aligned", type=Path, metavar="DIR",
                        help="every image in DIR is an aligned face crop: resize only (no detector)")
    source.add_argument("--celeba", type=Path, metavar="DIR",
                        help="whole-head photos in DIR, aligned to the canvas framing by their mesh (--landmarks)")
    parser.add_argument("--landmarks", type=Path,
                        help="with --celeba: the photos' meshes (training.landmarks --photos DIR --out FILE)")
    parser.add_argument("--source-name", help="how the report and the model card name the source")
    parser.add_argument("--out", type=Path, required=True, help="dataset folder to write")
    parser.add_argument("--size", type=int, default=128, help="square crop size in pixels (default 128)")
    parser.add_argument("--seed", type=int, default=1234)
    args = parser.parse_args(argv)

    extra: dict[str, np.ndarray] = {}
    facts: dict = {}
    if args.celeba is not None:
        if not args.celeba.is_dir():
            parser.error(f"--celeba {args.celeba}: not a folder")
        if args.landmarks is None or not args.landmarks.is_file():
            parser.error("--celeba needs --landmarks FILE.npz (python -m training.landmarks --photos DIR --out FILE)")
        faces, meshes, facts, reasons = celeba_faces(args.celeba, args.landmarks, args.size)
        extra["landmarks"] = meshes
        source_name = f"CelebA whole-head photos from {args.celeba}, aligned to the canvas framing"
    elif args.photos is not None:
        if not args.photos.is_dir():
            parser.error(f"--photos {args.photos}: not a folder")
        faces, reasons = photo_faces(args.photos, args.size)
        source_name = f"photos from {args.photos}"
    elif args.aligned is not None:
        if not args.aligned.is_dir():
            parser.error(f"--aligned {args.aligned}: not a folder")
        faces, reasons = aligned_faces(args.aligned, args.size)
        source_name = f"aligned faces from {args.aligned}"
    else:
        faces, reasons = synthetic_faces(args.synthetic, args.size, args.seed)
        source_name = "gan-face-generate 1.1.1 DCGAN (DigiFace-1M, non-commercial research terms)"

    if len(faces) == 0:
        print(f"error: no usable faces found ({dict(reasons)})", file=sys.stderr)
        return 1
    args.out.mkdir(parents=True, exist_ok=True)
    order = split_order(len(faces), args.seed)
    splits = {name: faces[indices] for name, indices in order.items()}
    for name, array in splits.items():
        np.save(args.out / f"{name}.npy", array)
        for kind, values in extra.items():
            np.save(args.out / f"{name}_{kind}.npy", values[order[name]])
    if facts:
        per_split = {name: {key: [values[i] for i in indices] for key, values in facts.items()}
                     for name, indices in order.items()}
        (args.out / "faces.json").write_text(json.dumps(per_split))
    report = {
        "source": args.source_name or source_name,
        "size": args.size,
        "seed": args.seed,
        "kept": int(len(faces)),
        "counts": dict(reasons),
        "filters": {"min_mean_luma": MIN_MEAN_LUMA, "min_luma_std": MIN_LUMA_STD,
                    "min_sharpness": MIN_SHARPNESS, "min_age": MIN_AGE,
                    **({"max_outside": MAX_OUTSIDE, "canvas_eyes": CANVAS_EYES,
                        "canvas_eye_distance": CANVAS_EYE_DISTANCE} if args.celeba else {})},
        "splits": {name: int(len(array)) for name, array in splits.items()},
    }
    (args.out / "report.json").write_text(json.dumps(report, indent=2))
    print(json.dumps(report, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())

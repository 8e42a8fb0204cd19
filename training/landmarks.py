"""Face landmarks for the `drawn` sketch style: where the jaw, brows, eyes, irises, nose and lips
of each prepared face are, so that a sketch can be drawn the way people draw a face (a few clean
outlines) instead of traced from the photo's edges.

Extraction runs once per dataset, beside the data (`make landmarks`): MediaPipe's face mesh
(478 points with irises; its models ship inside the PyPI wheel) on every face of
{train,val,test}.npy -> {split}_landmarks.npy, float32 [N, 478, 2] in pixels, NaN where no face
was found, and parts.json: each part as polylines of landmark indices, chained from MediaPipe's
own connection lists when extracting (so this file holds no copy of them).

MediaPipe lives in its own venv (.venv-landmarks: it pins protobuf < 5, the training venv's onnx
needs a newer one); the training side only reads the two files and needs nothing from it.

    .venv-landmarks/bin/python -m training.landmarks --data training/data/utkface
    .venv-landmarks/bin/python -m training.landmarks --photos ../shared/data/celeba/images \
        --out training/data/celeba_raw_landmarks.npz

The second form finds the mesh of unaligned photos (CelebA's whole heads) as they are, so that
`prepare --celeba` can align them to the canvas framing with it: photo_landmarks.npz holds the
file names and float32 [N, 478, 2] points in each photo's pixels (NaN where none was found).
"""

from __future__ import annotations

import argparse
import io
import json
import os
import sys
from pathlib import Path

import numpy as np

POINTS = 478  # the face mesh with refined eyes and irises
PARTS_FILE = "parts.json"
# MediaPipe's connection sets, by the names our drawing uses.
MEDIAPIPE_PARTS = {
    "face_oval": "FACEMESH_FACE_OVAL",
    "left_eyebrow": "FACEMESH_LEFT_EYEBROW",
    "right_eyebrow": "FACEMESH_RIGHT_EYEBROW",
    "left_eye": "FACEMESH_LEFT_EYE",
    "right_eye": "FACEMESH_RIGHT_EYE",
    "left_iris": "FACEMESH_LEFT_IRIS",
    "right_iris": "FACEMESH_RIGHT_IRIS",
    "nose": "FACEMESH_NOSE",
    "lips": "FACEMESH_LIPS",
}


def chain(edges: list[tuple[int, int]]) -> list[list[int]]:
    """Undirected edges -> polylines of point indices that cover every edge once: walked from
    line ends and branch points first, then around what is left (closed loops end where they
    began)."""
    adjacent: dict[int, list[int]] = {}
    for a, b in edges:
        adjacent.setdefault(a, []).append(b)
        adjacent.setdefault(b, []).append(a)
    used: set[frozenset[int]] = set()

    def walk(start: int) -> list[int]:
        path = [start]
        node = start
        while True:
            step = next((n for n in sorted(adjacent[node]) if frozenset((node, n)) not in used), None)
            if step is None:
                return path
            used.add(frozenset((node, step)))
            path.append(step)
            node = step
            if len(adjacent[node]) != 2:  # an end or a branch: stop, the rest is another line
                return path

    lines = []
    starts = sorted(n for n, ns in adjacent.items() if len(ns) != 2) + sorted(adjacent)
    for start in starts:
        while any(frozenset((start, n)) not in used for n in adjacent[start]):
            lines.append(walk(start))
    return lines


def load(data: Path, split: str) -> tuple[np.ndarray, dict[str, list[list[int]]]] | None:
    """The split's landmarks and the parts, or None when `make landmarks` has not run."""
    points, parts = data / f"{split}_landmarks.npy", data / PARTS_FILE
    if not points.exists() or not parts.exists():
        return None
    return np.load(points, mmap_mode="r"), json.loads(parts.read_text())


def _write_atomically(path: Path, data: bytes) -> None:
    """A temporary file beside `path`, then a rename: never a half-written file. (This venv has
    no torch, so train.save_atomically is out of reach.)"""
    tmp = path.with_name(f".{path.name}.tmp")
    with open(tmp, "wb") as f:
        f.write(data)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)


def _npy_bytes(array: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    np.save(buffer, array)
    return buffer.getvalue()


def extract(data: Path, splits: tuple[str, ...] = ("train", "val", "test")) -> dict[str, float]:
    """Landmarks for every face of the splits; returns the share of faces found per split."""
    try:
        import mediapipe as mp
    except ImportError:
        sys.exit("error: mediapipe is not installed in this Python; run `make landmarks`, which makes "
                 ".venv-landmarks for it")
    connections = mp.solutions.face_mesh_connections
    parts = {name: chain(sorted(getattr(connections, attr))) for name, attr in MEDIAPIPE_PARTS.items()}
    found_share = {}
    with mp.solutions.face_mesh.FaceMesh(static_image_mode=True, max_num_faces=1, refine_landmarks=True,
                                         min_detection_confidence=0.3) as mesh:
        for split in splits:
            faces = np.load(data / f"{split}.npy", mmap_mode="r")
            out = np.full((len(faces), POINTS, 2), np.nan, np.float32)
            size = faces.shape[2]
            for i, face in enumerate(faces):
                result = mesh.process(np.ascontiguousarray(face))
                if result.multi_face_landmarks:
                    marks = result.multi_face_landmarks[0].landmark
                    out[i] = [(p.x * size, p.y * size) for p in marks]
                if i % 2000 == 0:
                    print(f"{split}: {i}/{len(faces)}", flush=True)
            found_share[split] = float(np.isfinite(out[:, 0, 0]).mean())
            _write_atomically(data / f"{split}_landmarks.npy", _npy_bytes(out))
            print(f"{split}: {len(faces)} faces, landmarks found for {found_share[split]:.3f}", flush=True)
    _write_atomically(data / PARTS_FILE, json.dumps(parts, indent=1).encode())
    return found_share


def extract_photos(folder: Path, out: Path) -> float:
    """The mesh of every photo in `folder` (sorted by name), written to `out` (.npz: names,
    points); returns the share found."""
    try:
        import cv2
        import mediapipe as mp
    except ImportError:
        sys.exit("error: mediapipe is not installed in this Python; run `make landmarks`, which makes "
                 ".venv-landmarks for it")
    names = sorted(p.name for p in folder.iterdir() if p.suffix.lower() in (".jpg", ".jpeg", ".png"))
    points = np.full((len(names), POINTS, 2), np.nan, np.float32)
    with mp.solutions.face_mesh.FaceMesh(static_image_mode=True, max_num_faces=1, refine_landmarks=True,
                                         min_detection_confidence=0.3) as mesh:
        for i, name in enumerate(names):
            bgr = cv2.imread(str(folder / name), cv2.IMREAD_COLOR)
            if bgr is None:
                continue
            result = mesh.process(cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB))
            if result.multi_face_landmarks:
                h, w = bgr.shape[:2]
                points[i] = [(p.x * w, p.y * h) for p in result.multi_face_landmarks[0].landmark]
            if i % 2000 == 0:
                print(f"{folder.name}: {i}/{len(names)}", flush=True)
    buffer = io.BytesIO()
    np.savez(buffer, names=np.array(names), points=points)
    _write_atomically(out, buffer.getvalue())
    share = float(np.isfinite(points[:, 0, 0]).mean()) if len(names) else 0.0
    print(f"{folder}: {len(names)} photos, a mesh found in {share:.3f}", flush=True)
    return share


def judge(images: list[Path], out: Path) -> None:
    """What detectors trained on real photos make of each image (training/evaluate.py's judges):
    MediaPipe's face detector (short range: faces filling the picture) -> the best score, 0
    without a detection; its face mesh -> 478 points in the image's pixels, or null. Written to
    `out` as {path: {"detector": score, "mesh": points | null}}."""
    try:
        import cv2
        import mediapipe as mp
    except ImportError:
        sys.exit("error: mediapipe is not installed in this Python; run `make landmarks`, which makes "
                 ".venv-landmarks for it")
    results = {}
    with mp.solutions.face_detection.FaceDetection(model_selection=0, min_detection_confidence=0.01) as detector, \
            mp.solutions.face_mesh.FaceMesh(static_image_mode=True, max_num_faces=1, refine_landmarks=True,
                                            min_detection_confidence=0.3) as mesh:
        for path in images:
            bgr = cv2.imread(str(path), cv2.IMREAD_COLOR)
            if bgr is None:
                results[str(path)] = {"error": "unreadable"}
                continue
            rgb = np.ascontiguousarray(cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB))
            h, w = rgb.shape[:2]
            detections = detector.process(rgb).detections or []
            score = max((float(d.score[0]) for d in detections), default=0.0)
            found = mesh.process(rgb).multi_face_landmarks
            points = [[p.x * w, p.y * h] for p in found[0].landmark] if found else None
            results[str(path)] = {"detector": score, "mesh": points}
    _write_atomically(out, json.dumps(results).encode())


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", type=Path, help="a prepared dataset folder ({split}.npy)")
    parser.add_argument("--splits", default="train,val,test")
    parser.add_argument("--photos", type=Path, help="a folder of unaligned photos (instead of --data)")
    parser.add_argument("--out", type=Path, help="with --photos: the .npz to write; with --judge: the JSON")
    parser.add_argument("--judge", type=Path, help="a text file listing images to judge (detector score, mesh)")
    args = parser.parse_args(argv)
    if args.judge is not None:
        if args.out is None:
            sys.exit("error: --judge needs --out FILE.json")
        judge([Path(line) for line in args.judge.read_text().splitlines() if line.strip()], args.out)
        return 0
    if args.photos is not None:
        if args.out is None:
            sys.exit("error: --photos needs --out FILE.npz")
        extract_photos(args.photos, args.out)
        return 0
    if args.data is None:
        sys.exit("error: give --data DATASET or --photos FOLDER --out FILE.npz")
    for split in args.splits.split(","):
        if not (args.data / f"{split}.npy").exists():
            sys.exit(f"error: no {split}.npy in {args.data}; prepare the dataset first (make data)")
    shares = extract(args.data, tuple(args.splits.split(",")))
    report = args.data / "landmarks_report.json"
    _write_atomically(report, json.dumps({"found": shares}, indent=2).encode())
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

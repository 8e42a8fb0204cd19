"""The face bank of face pipeline v3 (issue 24): the real faces the app warps onto a drawing.

    python -m training.bank build --data training/data/celeba --faces 2400 --out models/bank-v3.s2fb
    python -m training.bank describe models/bank-v3.s2fb

`build` reads the CelebA set of `make data-v3` (faces aligned to the canvas framing at 256 px,
their MediaPipe meshes, faces.json), then
1. fits the shape model on every train mesh (its first 468 points): generalised Procrustes
   (each mesh fitted onto the mean by a least-squares similarity, the mean recomputed and put
   back in the bank frame, until it stops moving), then PCA of the aligned meshes: the mean, an
   orthonormal basis of `components` vectors and their standard deviations;
2. keeps the candidates: faces with at most `max_outside` of their frame outside the photo,
   a mesh the model explains (no extreme shape, no large residual) and both colour regions;
3. chooses `faces` of them spread over shape, colour and look, in one feature vector per face
   (shape coefficients in sd, Lab skin and hair colours in ΔE / 10, a coarse grey picture of the
   face and its brightness and saturation): two thirds by k-means (the face nearest each
   centre), the rest farthest-first, so rarer faces are in the bank too;
4. writes each chosen face as a JPEG (quality 88, 4:4:4), its colours computed on the decoded JPEG
   with the region rule of src/face/colours.rs (ported exactly: `region_masks`, `lab`), and the
   bank file of the face spec (docs in /work/spec/FACE_SPEC.md: a 64-byte header, a section
   table, nine sections), atomically; and the bank card (models/card/BANK.md).

`describe` prints a bank's counts and spread as JSON. Only numpy and OpenCV: no torch.
"""

from __future__ import annotations

import argparse
import json
import os
import struct
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import cv2
import numpy as np
from tqdm import tqdm

# ---- the file format (the face spec's "Bank file"; src/face/bank.rs reads it) -------------------
MAGIC = b"S2FBANK\0"
VERSION = 1
HEADER_SIZE = 64
ENTRY_SIZE = 24  # kind u32, reserved u32, offset u64, length u64
KIND_MEAN, KIND_BASIS, KIND_SD, KIND_MESHES, KIND_COEFFICIENTS = 1, 2, 3, 4, 5
KIND_COLOURS, KIND_IMAGE_INDEX, KIND_JPEG, KIND_METADATA = 6, 7, 8, 9
KIND_NAMES = {1: "mean", 2: "basis", 3: "sd", 4: "meshes", 5: "coefficients", 6: "colours",
              7: "image_index", 8: "jpeg", 9: "metadata"}

# ---- the framing (the spec's "Framing"; training/prepare.py's CANVAS_EYES and CANVAS_EYE_DISTANCE,
# repeated here because prepare imports torch through training.faces) ----------------------------
IMAGE_SIDE = 256
CANVAS_EYES = (0.5, 0.42)
CANVAS_EYE_DISTANCE = 0.30
MESH_POINTS = 468
LEFT_EYE_OUTER, RIGHT_EYE_OUTER = 33, 263

# ---- the colour regions: src/face/colours.rs, `ColourRegions` (its doc comment is the rule) ------
FACE_OVAL = [10, 109, 67, 103, 54, 21, 162, 127, 234, 93, 132, 58, 172, 136, 150, 149, 176, 148, 152, 377,
             400, 378, 379, 365, 397, 288, 361, 323, 454, 356, 389, 251, 284, 332, 297, 338]
SKIN_SCALE = np.float32(0.8)
HAIR_SCALE = np.float32(1.5)
HAIR_LINE_POINT = 168
MIN_REGION_PIXELS = 20  # colours.rs MIN_HINT_PIXELS: fewer pixels say nothing about a colour

TERMS = ("non-commercial research only: CelebA is available for non-commercial research purposes "
         "only; the copyright of each image stays with its owner")
SOURCE = ("CelebA (Liu, Luo, Wang and Tang, \"Deep Learning Face Attributes in the Wild\", ICCV 2015): "
          "whole-head crops of its test-split photos (../shared/data/celeba), aligned by MediaPipe's "
          "face mesh to the canvas framing at 256 px (training/prepare.py --celeba)")


@dataclass
class BuildConfig:
    faces: int = 2400  # faces in the bank
    components: int = 32  # shape components (k)
    jpeg_quality: int = 88
    max_outside: float = 0.08  # most of a face's frame that may lie outside its photo
    # Candidates whose shape distance (sum of squared coefficients in sd) or residual outside the
    # model is above this percentile of the train set are dropped: their meshes are likely wrong.
    outlier_percentile: float = 99.0
    procrustes_iterations: int = 30
    kmeans_iterations: int = 20
    # The share of the faces chosen by k-means; the rest farthest-first (spread_selection).
    kmeans_share: float = 0.67
    seed: int = 24
    min_faces: int = 2000  # build fails below this (the spec's bank needs >= 2,000 faces)


# ---- similarities and the shape model --------------------------------------------------------------

def fit_similarities(meshes: np.ndarray, target: np.ndarray) -> np.ndarray:
    """The least-squares similarity taking each mesh of `meshes` [N, P, 2] onto `target` [P, 2],
    as src/face/mesh.rs `Similarity::fit` computes it: [N, 4] rows (a, b, tx, ty) of
    p -> [a -b; b a] p + t."""
    meshes = np.asarray(meshes, np.float64)
    target = np.asarray(target, np.float64)
    from_mean = meshes.mean(axis=1)
    to_mean = target.mean(axis=0)
    p = meshes - from_mean[:, None, :]
    q = target - to_mean
    dot = (p * q).sum(axis=(1, 2))
    cross = (p[..., 0] * q[:, 1] - p[..., 1] * q[:, 0]).sum(axis=1)
    norm = (p * p).sum(axis=(1, 2))
    a, b = dot / norm, cross / norm
    tx = to_mean[0] - (a * from_mean[:, 0] - b * from_mean[:, 1])
    ty = to_mean[1] - (b * from_mean[:, 0] + a * from_mean[:, 1])
    return np.stack([a, b, tx, ty], axis=1)


def apply_similarities(params: np.ndarray, meshes: np.ndarray) -> np.ndarray:
    a, b, tx, ty = (params[:, i, None] for i in range(4))
    x, y = meshes[..., 0], meshes[..., 1]
    return np.stack([a * x - b * y + tx, b * x + a * y + ty], axis=-1)


def framed(mesh: np.ndarray, side: int = IMAGE_SIDE) -> np.ndarray:
    """`mesh` moved by the similarity that puts its outer eye corners where the framing puts
    them in a `side` px image: level, midpoint at CANVAS_EYES * side, CANVAS_EYE_DISTANCE * side
    apart."""
    half = CANVAS_EYE_DISTANCE * side / 2
    cx, cy = CANVAS_EYES[0] * side, CANVAS_EYES[1] * side
    eyes = mesh[[LEFT_EYE_OUTER, RIGHT_EYE_OUTER]][None]
    params = fit_similarities(eyes, np.array([[cx - half, cy], [cx + half, cy]]))
    return apply_similarities(params, mesh[None].astype(np.float64))[0]


@dataclass
class ShapeModel:
    mean: np.ndarray  # [P, 2] float64, in the bank frame
    basis: np.ndarray  # [k, 2P], orthonormal rows, layout x0, y0, x1, y1, ...
    sd: np.ndarray  # [k]
    explained: float  # share of the aligned meshes' variance the k components hold
    iterations: int

    def coefficients(self, meshes: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """As src/face/shape.rs computes them: each mesh fitted onto the mean, then projected.
        Returns coefficients [N, k], the similarities [N, 4] and the residual outside the model
        (RMS point distance in bank pixels) [N]."""
        params = fit_similarities(meshes, self.mean)
        aligned = apply_similarities(params, np.asarray(meshes, np.float64))
        offsets = (aligned - self.mean).reshape(len(aligned), -1)
        coefficients = offsets @ self.basis.T
        rest = offsets - coefficients @ self.basis
        residual = np.sqrt((rest ** 2).reshape(len(aligned), -1, 2).sum(-1).mean(-1))
        return coefficients, params, residual


def fit_shape_model(meshes: np.ndarray, components: int, iterations: int = 30,
                    tolerance: float = 1e-5) -> ShapeModel:
    """Generalised Procrustes analysis of `meshes` [N, P, 2] and PCA of the aligned meshes."""
    meshes = np.asarray(meshes, np.float64)
    if len(meshes) <= components:
        raise ValueError(f"{components} shape components need more than {components} meshes, got {len(meshes)}")
    mean = framed(meshes.mean(axis=0))
    done = 0
    for done in range(1, iterations + 1):
        aligned = apply_similarities(fit_similarities(meshes, mean), meshes)
        new_mean = framed(aligned.mean(axis=0))
        change = float(np.abs(new_mean - mean).max())
        mean = new_mean
        if change < tolerance:
            break
    aligned = apply_similarities(fit_similarities(meshes, mean), meshes)
    offsets = (aligned - mean).reshape(len(meshes), -1)
    centred = offsets - offsets.mean(axis=0)
    covariance = centred.T @ centred / (len(meshes) - 1)
    values, vectors = np.linalg.eigh(covariance)
    order = np.argsort(values)[::-1]
    values, vectors = values[order], vectors[:, order]
    basis = vectors[:, :components].T.copy()
    # A fixed sign for each component: its largest entry positive.
    signs = np.sign(basis[np.arange(components), np.abs(basis).argmax(axis=1)])
    basis *= signs[:, None]
    explained = float(values[:components].sum() / values.sum())
    return ShapeModel(mean=mean, basis=basis, sd=np.sqrt(np.maximum(values[:components], 0.0)),
                      explained=explained, iterations=done)


# ---- colours: the exact port of src/face/colours.rs --------------------------------------------------

def lab(rgb: np.ndarray) -> np.ndarray:
    """sRGB in 0..1 (clamped) [..., 3] to CIE L*a*b* (D65), as colours.rs `lab` computes it (the
    same matrix and white point)."""
    c = np.clip(np.asarray(rgb, np.float64), 0.0, 1.0)
    linear = np.where(c <= 0.04045, c / 12.92, ((c + 0.055) / 1.055) ** 2.4)
    r, g, b = linear[..., 0], linear[..., 1], linear[..., 2]
    xyz = np.stack([(0.4124 * r + 0.3576 * g + 0.1805 * b) / 0.95047,
                    0.2126 * r + 0.7152 * g + 0.0722 * b,
                    (0.0193 * r + 0.1192 * g + 0.9505 * b) / 1.08883], axis=-1)
    delta = 6.0 / 29.0
    f = np.where(xyz > delta ** 3, np.cbrt(xyz), xyz / (3 * delta * delta) + 4.0 / 29.0)
    return np.stack([116.0 * f[..., 1] - 16.0, 500.0 * (f[..., 0] - f[..., 1]),
                     200.0 * (f[..., 1] - f[..., 2])], axis=-1)


def inside_polygon(polygon: np.ndarray, xs: np.ndarray, ys: np.ndarray) -> np.ndarray:
    """colours.rs `inside_polygon` for every point (x, y) of the grid xs [W] by ys [H] at once:
    bool [H, W]. The even-odd rule with the same float32 arithmetic: the edge from vertex a to
    the previous vertex b counts when exactly one of them has y above the point's and the
    point's x is below `a.x + (b.x - a.x) * (y - a.y) / (b.y - a.y)`."""
    polygon = np.asarray(polygon, np.float32)
    a, b = polygon, np.roll(polygon, 1, axis=0)
    y = ys.astype(np.float32)[:, None]
    crosses = (a[None, :, 1] > y) != (b[None, :, 1] > y)  # [H, edges]
    with np.errstate(divide="ignore", invalid="ignore"):
        at = a[None, :, 0] + (b[None, :, 0] - a[None, :, 0]) * (y - a[None, :, 1]) / (b[None, :, 1] - a[None, :, 1])
    at = np.where(crosses, at, np.float32(-np.inf)).astype(np.float32)
    count = (xs.astype(np.float32)[None, :, None] < at[:, None, :]).sum(axis=-1)
    return (count % 2) == 1


def region_masks(mesh: np.ndarray, width: int, height: int) -> tuple[np.ndarray, np.ndarray]:
    """The skin and hair pixels ([height, width] bool each) of a mesh (468 points, pixels) by
    `ColourRegions`: skin inside the face oval shrunk to 0.8 about the centroid; hair inside it
    grown to 1.5, outside the oval itself, above point 168; each pixel tested at its centre."""
    points = np.asarray(mesh, np.float32)[:MESH_POINTS]
    centre = points.astype(np.float64).mean(axis=0).astype(np.float32)
    oval = points[FACE_OVAL]
    skin_polygon = centre + SKIN_SCALE * (oval - centre)
    hair_polygon = centre + HAIR_SCALE * (oval - centre)
    xs = np.arange(width, dtype=np.float32) + np.float32(0.5)
    ys = np.arange(height, dtype=np.float32) + np.float32(0.5)
    skin = inside_polygon(skin_polygon, xs, ys)
    hair = (~skin & (ys[:, None] < points[HAIR_LINE_POINT, 1])
            & inside_polygon(hair_polygon, xs, ys) & ~inside_polygon(oval, xs, ys))
    return skin, hair


def face_colours(rgb: np.ndarray, mesh: np.ndarray) -> np.ndarray | None:
    """Lab skin then Lab hair [6] of an RGB uint8 image and its mesh: the Lab of the mean RGB of
    each region's pixels (the mean as colours.rs `hint_colours` takes it, every pixel hinted);
    None when a region has fewer than MIN_REGION_PIXELS pixels."""
    skin, hair = region_masks(mesh, rgb.shape[1], rgb.shape[0])
    out = []
    for mask in (skin, hair):
        count = int(mask.sum())
        if count < MIN_REGION_PIXELS:
            return None
        sums = rgb[mask].astype(np.uint64).sum(axis=0)
        mean_rgb = (sums.astype(np.float64) * (1.0 / (255.0 * count))).astype(np.float32)
        out.append(lab(mean_rgb.astype(np.float64)))
    return np.concatenate(out).astype(np.float32)


def hair_class(hair_lab: np.ndarray) -> str:
    """A coarse name for a hair region's mean colour (for the card's spread figures; the region
    holds background too where hair is short or thin, so this is a colour, not a label)."""
    lightness, a, b = (float(v) for v in hair_lab)
    chroma = float(np.hypot(a, b))
    hue = float(np.degrees(np.arctan2(b, a)))
    if lightness < 22:
        return "black"
    if chroma >= 22 and 15 <= hue <= 60 and lightness < 60:
        return "red/auburn"
    if lightness < 38:
        return "dark brown"
    if lightness < 52:
        return "brown"
    return "blond/light" if chroma >= 12 else "grey/white/light background"


# ---- the look feature and the selection ---------------------------------------------------------------

def look_features(rgb: np.ndarray) -> np.ndarray:
    """A coarse 16 x 16 grey picture of the face's middle (glasses, beards, lighting, expression)
    and the whole image's mean L* and chroma (brightness, saturation): [258]."""
    grey = cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY)
    crop = grey[48:224, 40:216].astype(np.float32) / 255.0
    small = cv2.resize(crop, (16, 16), interpolation=cv2.INTER_AREA).reshape(-1)
    lab_image = cv2.cvtColor(rgb, cv2.COLOR_RGB2LAB).astype(np.float32)  # OpenCV's 8-bit Lab
    lightness = lab_image[..., 0].mean() * (100.0 / 255.0)
    chroma = np.hypot(lab_image[..., 1] - 128.0, lab_image[..., 2] - 128.0).mean()
    return np.concatenate([small - small.mean(), [lightness, chroma]]).astype(np.float32)


def _standardised(group: np.ndarray, weight: float) -> np.ndarray:
    """Columns centred and the group scaled to total variance weight**2."""
    centred = group - group.mean(axis=0)
    total = float(centred.var(axis=0).sum())
    return centred * (weight / np.sqrt(max(total, 1e-12)))


def selection_features(coefficients: np.ndarray, sd: np.ndarray, colours: np.ndarray,
                       looks: np.ndarray, seed: int) -> np.ndarray:
    """One row per face: equal weights for shape, colour and look, half for brightness and
    saturation. The grey pictures are reduced to their 8 principal components."""
    pictures = looks[:, :-2] - looks[:, :-2].mean(axis=0)
    _, _, vt = np.linalg.svd(pictures[np.random.default_rng(seed).permutation(len(pictures))[:4000]],
                             full_matrices=False)
    picture = pictures @ vt[:8].T
    return np.concatenate([
        _standardised(coefficients / sd, 1.0),
        _standardised(colours / 10.0, 1.0),
        _standardised(picture, 1.0),
        _standardised(looks[:, -2:], 0.5),
    ], axis=1).astype(np.float32)


def _squared_distances(points: np.ndarray, centres: np.ndarray) -> np.ndarray:
    return np.maximum((points ** 2).sum(1)[:, None] - 2 * points @ centres.T + (centres ** 2).sum(1)[None], 0.0)


def nearest(points: np.ndarray, centres: np.ndarray, chunk: int = 2048) -> tuple[np.ndarray, np.ndarray]:
    """Index of and distance to the nearest centre of each point."""
    which = np.empty(len(points), np.int64)
    distance = np.empty(len(points), np.float32)
    for start in range(0, len(points), chunk):
        d = _squared_distances(points[start:start + chunk], centres)
        which[start:start + chunk] = d.argmin(axis=1)
        distance[start:start + chunk] = np.sqrt(d[np.arange(len(d)), which[start:start + chunk]])
    return which, distance


def spread_selection(features: np.ndarray, count: int, iterations: int, seed: int,
                     kmeans_share: float = 1.0) -> np.ndarray:
    """`count` rows of `features` spread over them. First `kmeans_share` of them by k-means
    (k-means++ start, Lloyd iterations; the row nearest each centre): representatives of where
    most faces are. Then the rest farthest-first (each time the row farthest from every row
    chosen so far): the rarer faces k-means leaves far from any centre (darker skin, grey hair,
    hats, coloured stage light). Sorted indices."""
    rng = np.random.default_rng(seed)
    n = len(features)
    if count >= n:
        return np.arange(n)
    clusters = max(1, min(count, round(count * kmeans_share)))
    centres = np.empty((clusters, features.shape[1]), np.float32)
    centres[0] = features[rng.integers(n)]
    closest = ((features - centres[0]) ** 2).sum(1)
    for i in tqdm(range(1, clusters), desc="k-means++", unit="centre", leave=False):
        centres[i] = features[rng.choice(n, p=closest / closest.sum())]
        closest = np.minimum(closest, ((features - centres[i]) ** 2).sum(1))
    for _ in tqdm(range(iterations), desc="k-means", unit="step", leave=False):
        which, _ = nearest(features, centres)
        sums = np.zeros_like(centres)
        np.add.at(sums, which, features)
        sizes = np.bincount(which, minlength=clusters)
        filled = sizes > 0
        centres[filled] = sums[filled] / sizes[filled, None]
    which, distance = nearest(features, centres)
    chosen = [int(members[distance[members].argmin()])
              for members in (np.flatnonzero(which == centre) for centre in np.unique(which))]
    _, gap = nearest(features, features[chosen])
    gap = gap.astype(np.float64)
    with tqdm(total=count - len(chosen), desc="farthest-first", unit="face", leave=False) as bar:
        while len(chosen) < count:
            pick = int(gap.argmax())
            chosen.append(pick)
            gap = np.minimum(gap, np.sqrt(((features - features[pick]) ** 2).sum(1)))
            bar.update()
    return np.array(sorted(chosen))


def coverage(features: np.ndarray, chosen: np.ndarray) -> dict[str, float]:
    """How far each face is from its nearest chosen face, in feature units."""
    _, distance = nearest(features, features[chosen])
    return {"median": round(float(np.median(distance)), 4), "p95": round(float(np.percentile(distance, 95)), 4),
            "max": round(float(distance.max()), 4)}


# ---- JPEG, the file, the metadata ----------------------------------------------------------------------

def encode_jpeg(rgb: np.ndarray, quality: int) -> bytes:
    """Baseline JPEG without chroma subsampling (4:4:4): the faces are upscaled from about 176 px,
    and 4:2:0 would halve their colour detail again (lips, eyes) for 17 % fewer bytes."""
    options = [cv2.IMWRITE_JPEG_QUALITY, quality, cv2.IMWRITE_JPEG_SAMPLING_FACTOR, cv2.IMWRITE_JPEG_SAMPLING_FACTOR_444]
    ok, buffer = cv2.imencode(".jpg", cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR), options)
    if not ok:
        raise RuntimeError("OpenCV could not encode a JPEG")
    return buffer.tobytes()


def decode_jpeg(data: bytes) -> np.ndarray:
    bgr = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_COLOR)
    if bgr is None:
        raise ValueError("not a JPEG OpenCV can decode")
    return cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB)


def _align8(n: int) -> int:
    return (n + 7) & ~7


def bank_bytes(model_mean: np.ndarray, basis: np.ndarray, sd: np.ndarray, meshes: np.ndarray,
               coefficients: np.ndarray, colours: np.ndarray, jpegs: list[bytes], metadata: dict,
               image_side: int = IMAGE_SIDE) -> bytes:
    """The bank file: header, section table, sections 1-9 in order, each 8-byte aligned."""
    n, k = len(meshes), len(basis)
    points = model_mean.shape[0]
    if not (meshes.shape == (n, points, 2) and basis.shape == (k, 2 * points) and sd.shape == (k,)
            and coefficients.shape == (n, k) and colours.shape == (n, 6) and len(jpegs) == n):
        raise ValueError("the bank's arrays do not agree in shape")
    floats = {KIND_MEAN: model_mean, KIND_BASIS: basis, KIND_SD: sd, KIND_MESHES: meshes,
              KIND_COEFFICIENTS: coefficients, KIND_COLOURS: colours}
    for kind, array in floats.items():
        if not np.isfinite(array).all():
            raise ValueError(f"section {KIND_NAMES[kind]} holds a number that is not finite")
    index = np.zeros((n, 2), "<u8")
    at = 0
    for i, data in enumerate(jpegs):
        index[i] = (at, len(data))
        at += len(data)
    payloads = [(kind, np.ascontiguousarray(array, "<f4").tobytes()) for kind, array in floats.items()]
    payloads += [(KIND_IMAGE_INDEX, index.tobytes()), (KIND_JPEG, b"".join(jpegs)),
                 (KIND_METADATA, json.dumps(metadata, ensure_ascii=False, separators=(",", ":")).encode())]
    header = struct.pack("<8s6I", MAGIC, VERSION, n, points, k, image_side, len(payloads)).ljust(HEADER_SIZE, b"\0")
    offset = _align8(HEADER_SIZE + ENTRY_SIZE * len(payloads))
    table, body = [], []
    for kind, data in payloads:
        table.append(struct.pack("<IIQQ", kind, 0, offset, len(data)))
        padded = data + b"\0" * (_align8(len(data)) - len(data))
        body.append(padded)
        offset += len(padded)
    head = header + b"".join(table)
    return head + b"\0" * (_align8(len(head)) - len(head)) + b"".join(body)


def write_atomically(path: Path, data: bytes) -> None:
    """A temporary file beside `path`, flushed, then renamed over it: never a half-written bank."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.NamedTemporaryFile(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp", delete=False) as f:
        try:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
            os.chmod(f.name, 0o644)  # NamedTemporaryFile makes it private
        except BaseException:
            os.unlink(f.name)
            raise
    os.replace(f.name, path)


@dataclass
class BankFile:
    """A bank read back (`read_bank`): the header's numbers, the sections' arrays."""
    version: int
    face_count: int
    point_count: int
    components: int
    image_side: int
    sections: dict[int, tuple[int, int]]  # kind -> (offset, length)
    mean: np.ndarray
    basis: np.ndarray
    sd: np.ndarray
    meshes: np.ndarray
    coefficients: np.ndarray
    colours: np.ndarray
    jpegs: list[bytes]
    metadata: dict
    size: int


def read_bank(path: Path) -> BankFile:
    """Reads a bank file back, checking its header and sections (describe and the tests)."""
    data = Path(path).read_bytes()
    if len(data) < HEADER_SIZE or data[:8] != MAGIC:
        raise ValueError(f"{path}: not a face bank (magic)")
    version, n, points, k, side, count = struct.unpack_from("<6I", data, 8)
    if version != VERSION:
        raise ValueError(f"{path}: bank version {version}, this reads {VERSION}")
    sections: dict[int, tuple[int, int]] = {}
    for i in range(count):
        kind, _, offset, length = struct.unpack_from("<IIQQ", data, HEADER_SIZE + ENTRY_SIZE * i)
        if offset % 8 or offset + length > len(data) or kind in sections:
            raise ValueError(f"{path}: section {kind} is misplaced")
        sections[kind] = (offset, length)

    def floats(kind: int, shape: tuple[int, ...]) -> np.ndarray:
        offset, length = sections[kind]
        array = np.frombuffer(data, "<f4", count=length // 4, offset=offset)
        return array.reshape(shape).astype(np.float32)

    offset, length = sections[KIND_IMAGE_INDEX]
    index = np.frombuffer(data, "<u8", count=2 * n, offset=offset).reshape(n, 2)
    jpeg_at = sections[KIND_JPEG][0]
    meta_at, meta_length = sections[KIND_METADATA]
    return BankFile(
        version=version, face_count=n, point_count=points, components=k, image_side=side, sections=sections,
        mean=floats(KIND_MEAN, (points, 2)), basis=floats(KIND_BASIS, (k, 2 * points)), sd=floats(KIND_SD, (k,)),
        meshes=floats(KIND_MESHES, (n, points, 2)), coefficients=floats(KIND_COEFFICIENTS, (n, k)),
        colours=floats(KIND_COLOURS, (n, 6)),
        jpegs=[data[jpeg_at + int(o): jpeg_at + int(o) + int(ln)] for o, ln in index],
        metadata=json.loads(data[meta_at: meta_at + meta_length].decode("utf-8")), size=len(data))


def git_commit() -> str:
    try:
        return subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True,
                              check=True).stdout.strip()
    except Exception:
        return "unknown"


# ---- describe and the card --------------------------------------------------------------------------

def quartiles(values: np.ndarray) -> list[float]:
    return [round(float(v), 1) for v in np.percentile(values, [25, 50, 75])]


def hair_shares(hair_labs: np.ndarray) -> dict[str, float]:
    names = [hair_class(h) for h in hair_labs]
    return {name: round(names.count(name) / len(names), 3) for name in sorted(set(names))}


def describe(bank: BankFile) -> dict:
    skin, hair = bank.colours[:, :3], bank.colours[:, 3:]
    jpeg_sizes = np.array([len(j) for j in bank.jpegs])
    return {
        "version": bank.version,
        "faces": bank.face_count,
        "points": bank.point_count,
        "components": bank.components,
        "image_side": bank.image_side,
        "file_bytes": bank.size,
        "sections": {KIND_NAMES.get(kind, str(kind)): length for kind, (_, length) in sorted(bank.sections.items())},
        "jpeg_bytes": {"mean": int(jpeg_sizes.mean()), "min": int(jpeg_sizes.min()), "max": int(jpeg_sizes.max())},
        "skin_lightness_quartiles": quartiles(skin[:, 0]),
        "skin_chroma_quartiles": quartiles(np.hypot(skin[:, 1], skin[:, 2])),
        "hair_lightness_quartiles": quartiles(hair[:, 0]),
        "hair_colours": hair_shares(hair),
        # The bank's spread of each shape coefficient over the model's sd (1 = as spread as the
        # train set), the mean over components, and the first five.
        "shape_spread": round(float((bank.coefficients.std(axis=0) / bank.sd).mean()), 3),
        "shape_spread_first": [round(float(v), 3) for v in (bank.coefficients.std(axis=0) / bank.sd)[:5]],
        "metadata": {key: bank.metadata.get(key) for key in ("version", "source", "terms", "created", "builder")},
    }


def card_text(summary: dict, report: dict) -> str:
    mb = summary["file_bytes"] / 1e6
    hair = report["hair_colours"]
    hair_rows = "\n".join(f"| {name} | {hair['bank'].get(name, 0):.1%} | {hair['candidates'].get(name, 0):.1%} |"
                          for name in sorted(set(hair["bank"]) | set(hair["candidates"])))
    skin = report["skin_lightness_quartiles"]
    cov = report["coverage"]
    return f"""# Face bank card: `models/bank-v3.s2fb`

The real faces face pipeline v3 (issue 24) warps onto a drawing: {summary['faces']:,} faces, each a
{summary['image_side']} px JPEG with its MediaPipe face mesh, its shape coefficients and its skin and
hair colours, plus the shape model they were measured with. Format version {summary['version']}
(the face spec's "Bank file"; read by `src/face/bank.rs`), {mb:.1f} MB. Built by
`make bank` (`python -m training.bank build`, commit {report['commit']}, {report['created']}).

## Source and terms
**CelebA** (Liu, Luo, Wang and Tang, "Deep Learning Face Attributes in the Wild", ICCV 2015): the
whole-head crops of its test-split photos in `../shared/data/celeba` (16,976 photos, at most 176 px on
the long side, re-encoded JPEG). CelebA is available for **non-commercial research purposes only**;
the copyright of each image stays with its owner, and the images may not be redistributed for
commercial use. The bank holds those photos (re-framed), so it carries the same restriction, and so
does any app build that ships it. The bank's metadata section repeats the terms and names each
face's source file.

## Framing and alignment
`make data-v3` (training/prepare.py `--celeba`) aligned every photo by its MediaPipe mesh to the
canvas framing: the midpoint of the outer eye corners (points 33, 263) at (128, 107.52) px, 76.8 px
apart, level, in a 256 px square (cubic resampling, edges repeated where the frame leaves the
photo); the meshes are in those pixels. Photos are upscaled from about 176 px, so the faces are
soft. The bank keeps only faces with at most {report['config']['max_outside']:.0%} of the frame
outside the photo (the data allowed 20 %).

## Shape model
Generalised Procrustes analysis of all {report['train_faces']:,} train meshes (first 468 points;
{report['procrustes_iterations']} iterations: each mesh fitted onto the mean by a least-squares
similarity, the mean put back in the framing), then PCA: {summary['components']} components holding
{report['explained']:.1%} of the aligned meshes' variance; sd of the first three
{', '.join(f'{v:.2f}' for v in report['sd_first'])} px. The median residual outside the model is
{report['residual_median']:.2f} px (RMS point distance, bank pixels).

## Selection
Candidates: the {report['train_faces']:,} train faces, less {report['dropped']['outside']:,} with over
{report['config']['max_outside']:.0%} of the frame outside the photo,
{report['dropped']['outlier']:,} with an extreme shape or a large residual (above the
{report['config']['outlier_percentile']:g}th percentile: most are wrong meshes) and
{report['dropped']['no_colour']:,} without both colour regions: {report['candidates']:,}. Of those,
{report['kmeans_faces']:,} by k-means (the face nearest each centre: representatives of where most faces
are), then {summary['faces'] - report['kmeans_faces']:,} farthest-first (each the candidate farthest from every face chosen
so far: the rarer faces k-means leaves far from any centre, such as darker skin, grey hair, hats,
coloured stage light), in one feature vector per face: the 32 shape coefficients in sd; the Lab skin and hair colours in ΔE / 10; the first 8
principal components of a 16 x 16 grey picture of the face's middle (glasses, beards, lighting,
expression); the image's mean L* and chroma (brightness, saturation): each group scaled to the same
total variance, the last to half. Distance from a candidate to its nearest bank face in those units
(median / 95th percentile / max): {cov['bank']['median']:.2f} / {cov['bank']['p95']:.2f} /
{cov['bank']['max']:.2f}; for a random choice of as many faces: {cov['random']['median']:.2f} /
{cov['random']['p95']:.2f} / {cov['random']['max']:.2f}. Skin darker than L* 45: {report['dark_skin']['bank']:.1%} of the bank,
{report['dark_skin']['candidates']:.1%} of the candidates. CelebA has no labels in this copy, so age, glasses and beards
are spread through the look feature, not counted.

## Colours
Skin and hair colours by the region rule of `src/face/colours.rs` (`ColourRegions`: skin inside the
face oval shrunk to 0.8 about the centroid; hair inside it grown to 1.5, outside the oval, above
point 168), ported exactly to Python, on each face's decoded JPEG: the CIE Lab (D65) of the region's
mean RGB. Where hair is short or thin the hair region's colour is partly background.

| | bank | candidates |
|---|---|---|
| skin L* quartiles | {skin['bank'][0]:.1f} / {skin['bank'][1]:.1f} / {skin['bank'][2]:.1f} | {skin['candidates'][0]:.1f} / {skin['candidates'][1]:.1f} / {skin['candidates'][2]:.1f} |
| skin chroma quartiles | {' / '.join(f'{v:.1f}' for v in summary['skin_chroma_quartiles'])} | |
| hair L* quartiles | {' / '.join(f'{v:.1f}' for v in summary['hair_lightness_quartiles'])} | |
| shape coefficient sd / model sd (mean over components) | {summary['shape_spread']:.2f} | 1.00 (train) |

Hair colour classes (by the hair region's mean Lab: black L* < 22; red/auburn chroma >= 22, hue
15-60°, L* < 60; dark brown L* < 38; brown L* < 52; lighter: blond with chroma >= 12, else grey/white or
light background):

| class | bank | candidates |
|---|---|---|
{hair_rows}

## Counts and size
{summary['faces']:,} faces; JPEG quality {report['config']['jpeg_quality']} (OpenCV, 4:4:4: no chroma subsampling), {summary['jpeg_bytes']['mean']:,}
bytes a face on average ({summary['jpeg_bytes']['min']:,} to {summary['jpeg_bytes']['max']:,}); the file
{summary['file_bytes']:,} bytes: JPEG {summary['sections']['jpeg']:,}, meshes {summary['sections']['meshes']:,}, metadata
{summary['sections']['metadata']:,}, the rest (model, coefficients, colours, index) {summary['file_bytes'] - summary['sections']['jpeg'] - summary['sections']['meshes'] - summary['sections']['metadata']:,}.
`python -m training.bank describe models/bank-v3.s2fb` prints these figures.
"""


# ---- build ------------------------------------------------------------------------------------------

def build(data: Path, out: Path, config: BuildConfig, card: Path | None) -> dict:
    started = time.time()
    faces_json = json.loads((data / "faces.json").read_text())["train"]
    images = np.load(data / "train.npy", mmap_mode="r")
    meshes = np.load(data / "train_landmarks.npy", mmap_mode="r")[:, :MESH_POINTS].astype(np.float64)
    if len(images) != len(meshes) or len(faces_json["names"]) != len(meshes):
        raise ValueError(f"{data}: train.npy, train_landmarks.npy and faces.json disagree in length")
    side = images.shape[1]
    finite = np.isfinite(meshes).all(axis=(1, 2))
    model = fit_shape_model(meshes[finite], config.components, config.procrustes_iterations)
    coefficients = np.zeros((len(meshes), config.components))
    residual = np.full(len(meshes), np.inf)
    coefficients[finite], _, residual[finite] = model.coefficients(meshes[finite])
    shape_distance = ((coefficients / model.sd) ** 2).sum(axis=1)

    outside = np.asarray(faces_json["outside"], np.float64)
    keep_outside = (outside <= config.max_outside) & finite
    limits = (np.percentile(shape_distance[finite], config.outlier_percentile),
              np.percentile(residual[finite], config.outlier_percentile))
    keep_shape = (shape_distance <= limits[0]) & (residual <= limits[1])
    candidates = np.flatnonzero(keep_outside & keep_shape)
    colours, looks, usable = [], [], []
    for i in tqdm(candidates, desc="colours", unit="face"):
        rgb = np.asarray(images[i])
        found = face_colours(rgb, meshes[i])
        if found is None:
            continue
        colours.append(found)
        looks.append(look_features(rgb))
        usable.append(i)
    usable = np.array(usable, np.int64)
    colours_all, looks_all = np.stack(colours), np.stack(looks)
    features = selection_features(coefficients[usable], model.sd, colours_all, looks_all, config.seed)
    chosen = spread_selection(features, config.faces, config.kmeans_iterations, config.seed, config.kmeans_share)
    random_pick = np.sort(np.random.default_rng(config.seed).choice(len(usable), len(chosen), replace=False))

    jpegs, bank_colours, kept = [], [], []
    for j in tqdm(chosen, desc="jpeg", unit="face"):
        i = int(usable[j])
        data_jpeg = encode_jpeg(np.asarray(images[i]), config.jpeg_quality)
        decoded = decode_jpeg(data_jpeg)
        if decoded.shape != (side, side, 3):
            raise RuntimeError(f"face {i}: the JPEG decodes to {decoded.shape}")
        found = face_colours(decoded, meshes[i])
        if found is None:
            continue
        jpegs.append(data_jpeg)
        bank_colours.append(found)
        kept.append(j)
    if len(kept) < config.min_faces:
        raise RuntimeError(f"only {len(kept)} faces chosen, the bank needs {config.min_faces}")
    kept = np.array(kept)
    rows = usable[kept]
    created = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
    commit = git_commit()
    metadata = {
        "version": VERSION,
        "source": SOURCE,
        "terms": TERMS,
        "created": created,
        "builder": f"training/bank.py (git {commit})",
        "framing": {"image_side": side, "eyes": [CANVAS_EYES[0] * side, CANVAS_EYES[1] * side],
                    "eye_distance": CANVAS_EYE_DISTANCE * side},
        "shape_model": {"components": config.components, "train_meshes": int(finite.sum()),
                        "explained": round(model.explained, 5), "procrustes_iterations": model.iterations},
        "selection": {**asdict(config), "candidates": int(len(usable))},
        "jpeg_quality": config.jpeg_quality,
        "faces": [{"name": faces_json["names"][i], "split": "train", "index": int(i)} for i in rows],
    }
    payload = bank_bytes(model.mean, model.basis, model.sd, meshes[rows].astype(np.float32),
                         coefficients[rows].astype(np.float32), np.stack(bank_colours), jpegs, metadata, side)
    write_atomically(out, payload)
    summary = describe(read_bank(out))
    report = {
        "commit": commit, "created": created, "config": asdict(config), "train_faces": int(len(meshes)),
        "procrustes_iterations": model.iterations, "explained": model.explained,
        "sd_first": [float(v) for v in model.sd[:3]], "residual_median": float(np.median(residual[finite])),
        "dropped": {"outside": int((~keep_outside).sum()), "outlier": int((keep_outside & ~keep_shape).sum()),
                    "no_colour": int(len(candidates) - len(usable))},
        "candidates": int(len(usable)),
        "kmeans_faces": int(max(1, min(config.faces, round(config.faces * config.kmeans_share)))),
        "coverage": {"bank": coverage(features, kept), "random": coverage(features, random_pick)},
        "skin_lightness_quartiles": {"bank": summary["skin_lightness_quartiles"],
                                     "candidates": quartiles(colours_all[:, 0])},
        "hair_colours": {"bank": summary["hair_colours"], "candidates": hair_shares(colours_all[:, 3:])},
        "dark_skin": {"bank": float((np.stack(bank_colours)[:, 0] < 45).mean()),
                      "candidates": float((colours_all[:, 0] < 45).mean())},
        "seconds": round(time.time() - started, 1),
    }
    if card is not None:
        card.parent.mkdir(parents=True, exist_ok=True)
        write_atomically(card, card_text(summary, report).encode())
    return {"bank": summary, "build": report}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    commands = parser.add_subparsers(dest="command", required=True)
    make = commands.add_parser("build", help="fit the shape model, choose the faces, write the bank")
    make.add_argument("--data", type=Path, required=True, help="the CelebA set of make data-v3")
    make.add_argument("--out", type=Path, required=True, help="the bank file to write")
    make.add_argument("--card", type=Path, default=Path("models/card/BANK.md"),
                      help="the bank card to write (default models/card/BANK.md)")
    make.add_argument("--no-card", action="store_true", help="do not write the card")
    defaults = BuildConfig()
    for name, value in asdict(defaults).items():
        make.add_argument(f"--{name.replace('_', '-')}", type=type(value), default=value)
    show = commands.add_parser("describe", help="print a bank's counts and spread as JSON")
    show.add_argument("bank", type=Path)
    args = parser.parse_args(argv)
    if args.command == "describe":
        print(json.dumps(describe(read_bank(args.bank)), indent=2, ensure_ascii=False))
        return 0
    config = BuildConfig(**{name: getattr(args, name) for name in asdict(defaults)})
    for name in ("train.npy", "train_landmarks.npy", "faces.json"):
        if not (args.data / name).is_file():
            parser.error(f"{args.data / name} is missing (make data-v3)")
    result = build(args.data, args.out, config, None if args.no_card else args.card)
    print(json.dumps(result, indent=2, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    sys.exit(main())

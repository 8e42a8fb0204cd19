"""Face sources and independent face detectors.

The detectors are OpenCV's Haar cascades (shipped inside opencv-python-headless 4.x). They are
independent of the generator we train, so they are used both to filter synthetic faces and to
measure, at evaluation time, how often a generated image still looks like a face.

Data preparation uses the `default` frontal cascade (the datasets made with it stay as they
were). Evaluation uses `alt2`: on the 1,564 real validation and test faces of UTKFace it finds
more of them (0.735 against 0.609) and fires less on the same faces cut into shuffled blocks
(0.017 against 0.031 at 32 px blocks), so it measures "looks like a face" better
(evaluate.detector_check repeats that check in every report).
"""

from __future__ import annotations

import functools
from importlib import resources

import cv2
import numpy as np
import torch


CASCADES = {"default": "haarcascade_frontalface_default.xml", "alt2": "haarcascade_frontalface_alt2.xml"}
EVALUATION_CASCADE = "alt2"


@functools.lru_cache(maxsize=len(CASCADES))
def _cascade(name: str) -> cv2.CascadeClassifier:
    if name not in CASCADES:
        raise ValueError(f"unknown face cascade {name!r}; expected one of {', '.join(CASCADES)}")
    path = cv2.data.haarcascades + CASCADES[name]
    cascade = cv2.CascadeClassifier(path)
    if cascade.empty():
        raise RuntimeError(f"could not load the Haar cascade from {path} (needs opencv-python-headless 4.x)")
    return cascade


def detect_faces(rgb: np.ndarray, min_size_frac: float = 0.2,
                 cascade: str = "default") -> list[tuple[int, int, int, int]]:
    """Face boxes (x, y, w, h) in an RGB uint8 image, largest first, found by the named cascade."""
    gray = cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY)
    side = min(gray.shape[:2])
    min_size = max(12, int(side * min_size_frac))
    # Small images are upscaled: the cascade's smallest window is 24 px and misses tight crops.
    scale = 1.0
    if side < 160:
        scale = 160 / side
        gray = cv2.resize(gray, None, fx=scale, fy=scale, interpolation=cv2.INTER_CUBIC)
        min_size = int(min_size * scale)
    boxes = _cascade(cascade).detectMultiScale(gray, scaleFactor=1.1, minNeighbors=4, minSize=(min_size, min_size))
    found = [tuple(int(round(v / scale)) for v in box) for box in (boxes if len(boxes) else [])]
    return sorted(found, key=lambda b: b[2] * b[3], reverse=True)


def has_face(rgb: np.ndarray, cascade: str = "default") -> bool:
    return len(detect_faces(rgb, cascade=cascade)) > 0


class DcganFaces:
    """Samples 64x64 faces from the pretrained DCGAN shipped in the `gan-face-generate` wheel
    (trained on DigiFace-1M: synthetic faces, non-commercial research terms)."""

    latent_size = 100

    def __init__(self, seed: int, device: str = "cpu"):
        from gan_face_generate.models import Generator  # only the model class: torch-only imports

        weights = resources.files("gan_face_generate") / "weights.tar"
        checkpoint = torch.load(str(weights), map_location=device, weights_only=False)
        self.net = Generator(0, 3, self.latent_size, 64).to(device).eval()
        self.net.load_state_dict(checkpoint["netG_state_dict"])
        self.device = device
        self.generator = torch.Generator(device="cpu").manual_seed(seed)

    @torch.no_grad()
    def sample(self, count: int) -> np.ndarray:
        """uint8 RGB faces, shape [count, 64, 64, 3]."""
        z = torch.randn(count, self.latent_size, 1, 1, generator=self.generator).to(self.device)
        images = self.net(z).clamp(-1, 1)
        images = ((images + 1) * 127.5).round().to(torch.uint8)
        return images.permute(0, 2, 3, 1).cpu().numpy()


def upsample(rgb: np.ndarray, size: int) -> np.ndarray:
    """Resize with a good filter (Lanczos up, area down)."""
    h = rgb.shape[0]
    if h == size:
        return rgb
    interpolation = cv2.INTER_LANCZOS4 if size > h else cv2.INTER_AREA
    return cv2.resize(rgb, (size, size), interpolation=interpolation)


def crop_face(rgb: np.ndarray, box: tuple[int, int, int, int], size: int, pad: float = 0.5) -> np.ndarray:
    """Square crop around a face box, padded by `pad` x the box on each side (as the 2017
    project did), edge pixels replicated where the crop leaves the photo."""
    x, y, w, h = box
    side = int(round(max(w, h) * (1 + 2 * pad)))
    cx, cy = x + w / 2, y + h / 2
    x0, y0 = int(round(cx - side / 2)), int(round(cy - side / 2))
    H, W = rgb.shape[:2]
    padded = cv2.copyMakeBorder(
        rgb,
        max(0, -y0), max(0, y0 + side - H), max(0, -x0), max(0, x0 + side - W),
        cv2.BORDER_REPLICATE,
    )
    ox, oy = max(0, -x0), max(0, -y0)
    crop = padded[y0 + oy : y0 + oy + side, x0 + ox : x0 + ox + side]
    return upsample(crop, size)

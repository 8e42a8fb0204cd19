"""Image-quality measures that need no ground truth pairing.

grid_score: how strongly a set of generated faces shows the periodic pattern of stride-2
upsampling (the checkerboard of transposed convolutions), relative to real photos. For each
period of a 2x upsampling stack (2, 4 and 8 px) and each direction (horizontal, vertical,
diagonal) it takes the mean power spectrum's value at that frequency over the mean of its
neighbouring frequencies (a ring 2 to 4 bins away), averages the log ratios, and compares with
the same for real faces: 1.0 means "like the photos", a grid shows as a score far above 1.
"""

from __future__ import annotations

import numpy as np

PERIODS = (2, 4, 8)
RING = (2, 4)  # neighbour distance in frequency bins, inclusive


def mean_power_spectrum(images: np.ndarray) -> np.ndarray:
    """uint8 RGB [N, S, S, 3] -> the mean power spectrum of their luma, Hann-windowed, [S, S]."""
    luma = images.astype(np.float64) @ np.array([0.299, 0.587, 0.114])
    size = luma.shape[1]
    window = np.outer(np.hanning(size), np.hanning(size))
    luma = (luma - luma.mean(axis=(1, 2), keepdims=True)) * window
    return (np.abs(np.fft.fft2(luma)) ** 2).mean(0)


def peak_ratio(power: np.ndarray) -> float:
    """Mean log ratio of the power at the upsampling frequencies to their neighbourhoods."""
    size = power.shape[0]
    offsets = [(dy, dx) for dy in range(-RING[1], RING[1] + 1) for dx in range(-RING[1], RING[1] + 1)
               if RING[0] <= max(abs(dy), abs(dx)) <= RING[1]]
    logs = []
    for period in PERIODS:
        k = size // period
        for fy, fx in ((0, k), (k, 0), (k, k)):
            neighbours = [power[(fy + dy) % size, (fx + dx) % size] for dy, dx in offsets]
            logs.append(np.log(power[fy, fx] / np.mean(neighbours)))
    return float(np.exp(np.mean(logs)))


def grid_score(generated: np.ndarray, real: np.ndarray) -> float:
    return peak_ratio(mean_power_spectrum(generated)) / peak_ratio(mean_power_spectrum(real))


def sharpness_ratio(generated: np.ndarray, real: np.ndarray) -> float:
    """Mean variance of the Laplacian of the generated luma over that of the real faces: below 1
    is blurrier than the photos."""
    import cv2

    def sharpness(images: np.ndarray) -> float:
        return float(np.mean([cv2.Laplacian(cv2.cvtColor(im, cv2.COLOR_RGB2GRAY), cv2.CV_64F).var() for im in images]))

    return sharpness(generated) / sharpness(real)

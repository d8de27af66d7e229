"""PyTorch on the CPU as the independent reference (float64, NCHW), imported lazily."""

from __future__ import annotations

import numpy as np
import pytest

torch = pytest.importorskip("torch", reason="PyTorch is not installed (pip install torch)")
F = torch.nn.functional


def to_torch(image: np.ndarray):
    hwc = image if image.ndim == 3 else image[:, :, None]
    return torch.from_numpy(hwc.astype(np.float64)).permute(2, 0, 1)[None].contiguous()


def to_numpy(tensor, like: np.ndarray) -> np.ndarray:
    out = tensor[0].permute(1, 2, 0).numpy()
    return out if like.ndim == 3 else out[:, :, 0]


def interpolate(image: np.ndarray, size: tuple[int, int], mode: str, **kwargs) -> np.ndarray:
    return to_numpy(F.interpolate(to_torch(image), size=size, mode=mode, **kwargs), image)

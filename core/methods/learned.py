"""Learned upsamplers trained by Upscope: ESPCN (sub-pixel convolution) and FSRCNN
(learned transposed convolution), at x2, x3 and x4.

Each model is an ONNX file in ``resources/models`` with a JSON card beside it (written by
``python3 -m training.train``). They run through OpenCV's DNN module, so no PyTorch is
needed. A model works on luma and predicts a correction to a bicubic upsampling:

    out = bicubic(image) + k * net(luma(image))

where ``luma`` is BT.601 (MATLAB's ``rgb2ycbcr``) in [0, 1] and ``k`` maps a change of
luma back to RGB (with chroma left as bicubic made it, each of R, G and B moves by
``255/219`` times the luma change). Grey images are their own luma. Alpha is bicubic.

Large inputs run in tiles whose halo covers the network's reach, so memory stays bounded
and the tiles join without seams: the result equals the untiled one. A cancelled
comparison stops between tiles.
"""

from __future__ import annotations

import functools
import hashlib
import json
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from core.common.arrays import as_hwc, data_range
from core.common.cancel import check_cancelled
from core.common.colour import LUMA_OFFSET, LUMA_WEIGHTS
from core.common.errors import ModelError
from core.methods.registry import Param, register_method
from core.methods.taps import BAND_BYTES, cv2_resize

MODELS_DIR = Path(__file__).resolve().parents[2] / "resources" / "models"
SCALES = (2, 3, 4)
#: Low-resolution pixels a tile reads beyond its edge: more than either network's reach
#: (ESPCN 4 pixels, FSRCNN 5), so tiles equal the untiled result.
HALO = 8
DEFAULT_TILE = 256
# How much R, G and B change for a unit change of BT.601 studio-range luma, chroma fixed.
_RGB_PER_LUMA = np.linalg.inv(
    np.array([LUMA_WEIGHTS, [-37.797, -74.203, 112.0], [112.0, -93.786, -18.214]]) / np.array([[1.0], [255.0], [255.0]])
)[:, 0].astype(np.float32)


def model_path(family: str, scale: int) -> Path:
    return MODELS_DIR / f"{family}_x{scale}.onnx"


@functools.cache
def model_card(family: str, scale: int) -> dict[str, Any]:
    """The JSON card of a shipped model (architecture, data, measured gain, hash)."""
    path = model_path(family, scale).with_suffix(".json")
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError) as exc:
        raise ModelError(f"{path}: the model card of {family} x{scale} cannot be read ({exc})") from None


class _Nets(threading.local):
    """One loaded network per model and thread (a cv2.dnn.Net is not thread-safe)."""

    def __init__(self) -> None:
        self.nets: dict[tuple[str, int], Any] = {}


_nets = _Nets()


def load_model(family: str, scale: int) -> Any:
    """The ``cv2.dnn.Net`` of a shipped model, checked against its card's SHA-256."""
    key = (family, scale)
    if key not in _nets.nets:
        path = model_path(family, scale)
        try:
            data = path.read_bytes()
        except OSError as exc:
            raise ModelError(f"{path}: the {family} x{scale} model is missing ({exc.strerror})") from None
        expected = model_card(family, scale).get("sha256")
        if hashlib.sha256(data).hexdigest() != expected:
            raise ModelError(f"{path}: does not match the SHA-256 in its card; the file is damaged or replaced")
        _nets.nets[key] = cv2.dnn.readNetFromONNX(str(path))  # OpenCV's own engine, on the CPU
    return _nets.nets[key]


def correction(luma: np.ndarray, family: str, scale: int, tile: int = DEFAULT_TILE) -> np.ndarray:
    """The shipped model's ``(h s, w s)`` float32 correction for a float32 ``(h, w)`` luma,
    computed in ``tile x tile`` low-resolution tiles with a `HALO` of context each."""
    return tiled_correction(load_model(family, scale), luma, scale, tile)


def tiled_correction(net: Any, luma: np.ndarray, scale: int, tile: int = DEFAULT_TILE) -> np.ndarray:
    """``net``'s (a ``cv2.dnn.Net`` of a model for ``scale``) ``(h s, w s)`` float32
    correction for a float32 ``(h, w)`` luma, in ``tile x tile`` tiles with a `HALO` each."""
    h, w = luma.shape
    out = np.empty((h * scale, w * scale), dtype=np.float32)
    for top in range(0, h, tile):
        for left in range(0, w, tile):
            check_cancelled()
            y0, x0 = max(top - HALO, 0), max(left - HALO, 0)
            y1, x1 = min(top + tile + HALO, h), min(left + tile + HALO, w)
            net.setInput(np.ascontiguousarray(luma[y0:y1, x0:x1])[None, None])
            piece = net.forward()[0, 0]
            bottom, right = min(top + tile, h), min(left + tile, w)
            out[top * scale:bottom * scale, left * scale:right * scale] = piece[
                (top - y0) * scale:(bottom - y0) * scale, (left - x0) * scale:(right - x0) * scale
            ]
    return out


def _unit(image: np.ndarray) -> np.ndarray:
    return image.astype(np.float32) * np.float32(1.0 / data_range(image.dtype))


def _unit_luma(unit: np.ndarray) -> np.ndarray:
    if unit.shape[2] >= 3:
        luma = unit[:, :, :3] @ LUMA_WEIGHTS.astype(np.float32) + np.float32(LUMA_OFFSET)
        return np.ascontiguousarray(luma, dtype=np.float32)
    return np.ascontiguousarray(unit[:, :, 0])


def model_input(image: np.ndarray) -> np.ndarray:
    """The float32 ``(h, w)`` luma a model is given for an ``(h, w)`` or ``(h, w, C)``
    image of any dtype: BT.601 luma in [0, 1] of R, G, B, or the one grey channel scaled
    to [0, 1], computed in float32 from the image's own (possibly 8-bit) values."""
    return _unit_luma(_unit(as_hwc(image)))


def learned_upsample(image: np.ndarray, size: tuple[int, int], family: str, tile: int) -> np.ndarray:
    """``(H, W, C)`` to float ``(H s, W s, C)``: bicubic plus the shipped model's luma
    correction, in the image's own units."""
    scale = size[0] // image.shape[0]
    return corrected_bicubic(image, size, lambda luma: correction(luma, family, scale, tile))


def corrected_bicubic(image: np.ndarray, size: tuple[int, int], fix: Callable[[np.ndarray], np.ndarray]) -> np.ndarray:
    """``(H, W, C)`` to float32 ``(H s, W s, C)`` in the image's own units: bicubic plus
    ``fix(model_input(image))``, a float32 ``(H s, W s)`` luma correction, on R, G and B
    alike (chroma as bicubic made it) or on the grey channel; alpha is bicubic."""
    peak = data_range(image.dtype)
    unit = _unit(image)
    base = cv2_resize(unit, size, cv2.INTER_CUBIC)  # Upscope's bicubic, a = -0.75
    fixed = fix(_unit_luma(unit))
    if image.shape[2] >= 3:
        step = max(1, BAND_BYTES // (fixed.shape[1] * 12))  # bands: no whole (h, w, 3) temporary
        for top in range(0, fixed.shape[0], step):
            base[top:top + step, :, :3] += fixed[top:top + step, :, None] * _RGB_PER_LUMA
    else:
        base[:, :, 0] += fixed
    base *= np.float32(peak)
    return base


def _measured_text(family: str) -> str:
    """What the cards of ``family`` measured: the mean gain per scale, and every held-out
    image on which the model does not beat bicubic."""
    means: list[str] = []
    losses: dict[str, list[str]] = {}
    complete = True
    for scale in SCALES:
        try:
            card = model_card(family, scale)
            means.append(f"x{scale} {card['psnr_gain_db']:+.2f} dB")
            complete = complete and "no_psnr_gain_on" in card
            for name in card.get("no_psnr_gain_on", []):
                figures = card["held_out_per_image"][name]
                at = f"x{scale} {figures['psnr_gain_db']:+.2f} dB"
                content = figures.get("content", "image")
                losses.setdefault(content if name in content else f"{content} ({name})", []).append(at)
        except (ModelError, KeyError):
            means.append(f"x{scale} (no card)")
            complete = False
    text = (
        "Mean luma PSNR gain over bicubic on 8-bit held-out images (photographs, microscopy, text, a smooth "
        f"gradient), measured through this app: {', '.join(means)}."
    )
    if losses:
        where = "; ".join(f"{what} at {', '.join(at)}" for what, at in losses.items())
        return f"{text} It does not beat bicubic on {where}: there bicubic is as good or better."
    return f"{text} It beats bicubic on every held-out image at every scale." if complete else text


def _description(family: str, what: str) -> str:
    return (
        f"{what} Trained by Upscope on scikit-image's sample photographs, blurred copies of them and smooth "
        "synthetic fields, reduced by anti-aliased bicubic to 8- and 16-bit images as the app sees them; it "
        f"predicts a correction over bicubic. {_measured_text(family)} Runs through OpenCV's DNN module."
    )


_TILE = Param("tile", "int", DEFAULT_TILE, "low-resolution tile side for large images (memory bound; "
              "tiles overlap, so the result is the same)", minimum=16, maximum=4096)


@register_method(
    "espcn",
    label="ESPCN (learned)",
    family="learned",
    scales="integer",
    trained_scales=SCALES,
    params=(_TILE,),
    description=_description("espcn", "ESPCN-style network: three convolutions on the small image, then a "
                             "sub-pixel convolution (pixel shuffle) to the large grid."),
    also_called=("sub-pixel convolution", "pixel shuffle", "ESPCN", "depth-to-space"),
    reference="its PyTorch model (training/models.py), within 1e-4",
)
def espcn(image: np.ndarray, size: tuple[int, int], *, tile: int) -> np.ndarray:
    """Bicubic plus the shipped ESPCN model's luma correction (docs/METHODS.md#learned),
    in tiles of ``tile`` low-resolution pixels. Float32 ``(h, w, C)`` in the image's units."""
    return learned_upsample(image, size, "espcn", tile)


@register_method(
    "fsrcnn",
    label="FSRCNN (learned)",
    family="learned",
    scales="integer",
    trained_scales=SCALES,
    params=(_TILE,),
    description=_description("fsrcnn", "FSRCNN-style network: feature extraction, shrinking, mapping and "
                             "expanding convolutions, then a learned transposed convolution (kernel 3s, "
                             "stride s) to the large grid."),
    also_called=("FSRCNN", "learned deconvolution", "learned transposed convolution"),
    reference="its PyTorch model (training/models.py), within 1e-4",
)
def fsrcnn(image: np.ndarray, size: tuple[int, int], *, tile: int) -> np.ndarray:
    """Bicubic plus the shipped FSRCNN model's luma correction (docs/METHODS.md#learned),
    in tiles of ``tile`` low-resolution pixels. Float32 ``(h, w, C)`` in the image's units."""
    return learned_upsample(image, size, "fsrcnn", tile)

"""Running a model on an image of any size: tiles with overlap, and the image's colour
layout and value range mapped to the model's (docs/METHODS.md#model-files).

A tile reads ``halo`` input pixels beyond each of its edges (the model's measured
reach, `ModelFacts.halo`) and keeps only the output of its own pixels, so where the
reach is bounded tiles join without seams: the result equals one run on the whole
image, up to the float arithmetic's order. Only one tile's input and output are held
besides the result, so memory stays bounded. Progress is reported and cancellation
checked between tiles.
"""

from __future__ import annotations

from collections.abc import Callable

import cv2
import numpy as np

from core.common.arrays import data_range
from core.common.cancel import check_cancelled
from core.common.errors import UnsupportedScaleError
from core.common.progress import report_progress
from core.methods.external.model_files import VALUE_RANGES, Forward, LoadedModel

#: Input pixels per side of a tile (before its overlap), unless the method is told.
DEFAULT_TILE = 512


#: ``sink(rows, cols, output)``: a tile's ``(N, C', h, w)`` float32 output, for the output
#: pixels ``rows`` by ``cols`` (slices of the whole result).
Sink = Callable[[slice, slice, np.ndarray], None]


def tiled_forward(
    forward: Forward, batch: np.ndarray, scale: int, *, tile: int, halo: int, fixed_size: tuple[int, int] | None = None
) -> np.ndarray:
    """``forward`` over ``(N, C, H, W)`` float32 ``batch`` in tiles of ``tile`` pixels per
    side (0: one run on the whole), each reading ``halo`` pixels more on every side that
    the image has. A model with a ``fixed_size`` input gets windows of exactly that size
    (shifted inward at the edges, padded by repeating the edge where the image is
    smaller). Returns ``(N, C', H * scale, W * scale)`` float32."""
    n, _, height, width = batch.shape
    assembled: list[np.ndarray] = []

    def assemble(rows: slice, cols: slice, output: np.ndarray) -> None:
        if not assembled:
            if output.shape[2:] == (height * scale, width * scale):
                assembled.append(output)  # one run on the whole: nothing to copy
                return
            assembled.append(np.empty((n, output.shape[1], height * scale, width * scale), np.float32))
        assembled[0][:, :, rows, cols] = output

    run_tiles(forward, batch, scale, assemble, tile=tile, halo=halo, fixed_size=fixed_size)
    return assembled[0]


def run_tiles(
    forward: Forward, batch: np.ndarray, scale: int, sink: Sink, *, tile: int, halo: int,
    fixed_size: tuple[int, int] | None = None,
) -> None:
    """`tiled_forward`'s tiles, each tile's own output handed to ``sink`` as it is made
    (so a caller can convert it straight into the result instead of keeping a float
    copy of the whole). Progress is reported and cancellation checked between tiles."""
    _, _, height, width = batch.shape
    if fixed_size is None and (tile <= 0 or (height <= tile and width <= tile)):
        check_cancelled()
        sink(slice(0, height * scale), slice(0, width * scale), forward(batch))
        report_progress(1, 1)
        return
    if fixed_size is not None:
        step_y, step_x = (max(1, side - 2 * halo) for side in fixed_size)
    else:
        step_y = step_x = tile
    tops, lefts = range(0, height, step_y), range(0, width, step_x)
    total, done = len(tops) * len(lefts), 0
    for top in tops:
        bottom = min(top + step_y, height)
        for left in lefts:
            check_cancelled()
            right = min(left + step_x, width)
            if fixed_size is None:
                y0, y1 = max(0, top - halo), min(height, bottom + halo)
                x0, x1 = max(0, left - halo), min(width, right + halo)
                window = batch[:, :, y0:y1, x0:x1]
            else:
                y0, y1 = _fixed_window(top, bottom, height, fixed_size[0])
                x0, x1 = _fixed_window(left, right, width, fixed_size[1])
                window = _padded(batch[:, :, y0:y1, x0:x1], fixed_size)
            result = forward(np.ascontiguousarray(window))
            own = result[:, :, (top - y0) * scale:(bottom - y0) * scale, (left - x0) * scale:(right - x0) * scale]
            sink(slice(top * scale, bottom * scale), slice(left * scale, right * scale), own)
            done += 1
            report_progress(done, total)


def _fixed_window(start: int, stop: int, extent: int, size: int) -> tuple[int, int]:
    """A window of ``size`` pixels (fewer where the image is smaller) around
    ``[start, stop)``, centred on it and shifted to stay inside ``[0, extent)``."""
    if extent <= size:
        return 0, extent
    low = start - (size - (stop - start)) // 2
    low = min(max(low, 0), extent - size)
    return low, low + size


def _padded(window: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """``window`` grown to ``size`` at its bottom and right by repeating the edge."""
    pad_y, pad_x = size[0] - window.shape[2], size[1] - window.shape[3]
    if pad_y <= 0 and pad_x <= 0:
        return window
    return np.pad(window, ((0, 0), (0, 0), (0, max(pad_y, 0)), (0, max(pad_x, 0))), mode="edge")


def model_upsample(model: LoadedModel, image: np.ndarray, size: tuple[int, int], *, tile: int, half: bool) -> np.ndarray:
    """``(H, W, C)`` ``image`` (uint8, uint16 or float32) through ``model``, as ``(h, w, C)``
    of the image's dtype: integers rounded half to even and clipped, floats not clipped.

    The image's values are scaled to the model's range (0-1 or 0-255 for black to
    white). A grey image goes to an RGB model as three equal channels and comes back as
    the mean of the output's three; an RGB image goes to a grey model one channel at a
    time. Alpha is not the network's business: it is enlarged by bicubic interpolation.
    ``size`` must be the model's own output size; any other scale is refused by name.
    The conversions on the way in and out are single OpenCV passes, and each tile's
    output goes straight into the result (no float copy of the whole), so on a small
    network they cost little next to the network.
    """
    facts = model.facts
    height, width, channels = image.shape
    expected = (height * facts.scale, width * facts.scale)
    if tuple(size) != expected:
        raise UnsupportedScaleError(
            f"this model is x{facts.scale}; the comparison asks for {size[1]}x{size[0]} from {width}x{height}"
        )
    colour_channels = 3 if channels >= 3 else 1
    to_model = VALUE_RANGES[facts.value_range] / data_range(image.dtype)
    planes = [cv2.addWeighted(image[:, :, c], to_model, image[:, :, c], 0.0, 0.0, dtype=cv2.CV_32F)
              for c in range(colour_channels)]
    if facts.in_channels == colour_channels:
        batch = np.stack(planes)[None]
    elif facts.in_channels == 3:  # grey image, RGB model
        batch = np.stack(planes * 3)[None]
    else:  # RGB image, grey model: each channel on its own
        batch = np.stack(planes)[:, None]
    depth = {np.dtype(np.uint8): cv2.CV_8U, np.dtype(np.uint16): cv2.CV_16U}.get(np.dtype(image.dtype), cv2.CV_32F)
    back = 1.0 / to_model
    result = np.empty((size[0], size[1], colour_channels), image.dtype if depth != cv2.CV_32F else np.float32)

    def convert(rows: slice, cols: slice, output: np.ndarray) -> None:
        """A tile's output into the result: scaled back, rounded, clipped, interleaved."""
        outs = [output[i, 0] for i in range(output.shape[0])] if output.shape[0] > 1 else list(output[0])
        if len(outs) != colour_channels:  # a grey image's three equal channels, back to one
            outs = [(outs[0] + outs[1] + outs[2]) / np.float32(3)]
        converted = [cv2.addWeighted(p, back, p, 0.0, 0.0, dtype=depth) for p in outs]
        result[rows, cols] = (cv2.merge(converted) if len(converted) > 1 else converted[0][:, :, None])

    run_tiles(lambda b: model.forward(b, half=half), batch, facts.scale, convert, tile=tile, halo=facts.halo,
              fixed_size=facts.fixed_size)
    if channels in (2, 4):  # alpha: enlarged, not invented
        alpha = cv2.resize(image[:, :, -1], (size[1], size[0]), interpolation=cv2.INTER_CUBIC)
        result = np.concatenate([result, alpha.astype(result.dtype, copy=False)[:, :, None]], axis=2)
    return result

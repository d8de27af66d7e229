"""What a user takes away from a comparison: results, difference maps and metrics as files.

Every file is written through a temporary file and a rename (`save_image`,
`write_bytes_atomically`), so a failed export never leaves a partial file.
"""

from __future__ import annotations

import csv
import io
import json
import math
import re
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any, Literal

import numpy as np

from core.common.arrays import parse_scale
from core.common.errors import ImageError, ParameterError
from core.common.vocabulary import DiffKind
from core.comparison.comparison import Comparison
from core.comparison.results import MethodResult
from core.comparison.settings import ComparisonSettings
from core.display.colour import colorize_difference
from core.io.write import save_image, write_text
from core.methods.naming import changed_params_text, method_title
from core.report.table import metric_values

ImageFormat = Literal["png", "tif"]

#: Columns of the metrics CSV, in order (JSON uses the same keys).
METRIC_COLUMNS = (
    "image", "mode", "scale_y", "scale_x", "downsampler", "reference",
    "method", "label", "params", "region", "time_ms", "psnr", "ssim", "mae", "mse", "max_error", "flip", "checkerboard",
    "convention", "shave", "width", "height", "reason", "note",
)


def metrics_rows(
    results: Iterable[MethodResult], image: str = "", settings: ComparisonSettings | None = None
) -> list[dict[str, Any]]:
    """One dict per result with the keys of `METRIC_COLUMNS`; numbers as floats (None
    where a metric does not exist, ``inf`` PSNR for identical images); ``params`` as a
    dict of plain JSON values (NumPy scalars as Python numbers). ``settings`` fill the
    columns that tell runs apart (mode, scale, downsampler, reference); without them
    those are empty."""
    context: dict[str, Any] = dict.fromkeys(("mode", "scale_y", "scale_x", "downsampler", "reference"))
    if settings is not None:
        scale_y, scale_x = parse_scale(settings.scale)
        context.update(
            mode=settings.mode, scale_y=scale_y, scale_x=scale_x, reference=settings.reference,
            downsampler=settings.downsampler if settings.mode == "degrade" else None,
        )
    rows = []
    for result in results:
        m = result.metrics
        shape = result.image.shape if result.image is not None else (None, None)
        rows.append({
            "image": image,
            **context,
            "method": result.method_id,
            "label": method_title(result.method_id, result.params),
            "params": json.loads(_params_text(result.params)),
            "region": result.region_text,
            **metric_values(result),  # the numbers of the metrics table, read one way
            "mse": None if m is None else m.mse,
            "convention": None if m is None else m.convention,
            "shave": None if m is None else m.shave,
            "width": shape[1],
            "height": shape[0],
            "reason": result.reason,
            "note": result.note,
        })
    return rows


def metrics_csv(rows: Sequence[dict[str, Any]]) -> str:
    """`metrics_rows` as CSV text with a header line; empty cells for missing values,
    full float precision (``repr``) so values read back exactly, and the parameters as
    JSON text in their cell (``{"a": -0.5}``)."""
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=METRIC_COLUMNS, lineterminator="\n")
    writer.writeheader()
    for row in rows:
        writer.writerow({k: _csv_cell(k, row.get(k)) for k in METRIC_COLUMNS})
    return buffer.getvalue()


def metrics_json(rows: Sequence[dict[str, Any]]) -> str:
    """`metrics_rows` as a JSON list of objects, ``params`` an object of its own; an
    infinite PSNR is written as the string ``"inf"`` (JSON has no infinity)."""
    def clean(value: Any) -> Any:
        return "inf" if isinstance(value, float) and math.isinf(value) else value

    return json.dumps([{k: clean(row.get(k)) for k in METRIC_COLUMNS} for row in rows], indent=2) + "\n"


def export_results(
    folder: str | Path,
    comparison: Comparison,
    results: Sequence[MethodResult],
    *,
    image_format: ImageFormat = "png",
    diff_kind: DiffKind | None = "abs",
    diff_gain: float = 1.0,
    overwrite: bool = False,
    image_name: str = "",
    record: list[Path] | None = None,
    region_results: Sequence[MethodResult] = (),
) -> list[Path]:
    """Write everything of a comparison into ``folder`` (created if needed):

    - ``input.<fmt>``: the image the methods upsampled (degrade mode: the shrunk
      original; upscale mode: the original);
    - ``reference.<fmt>``: the image the metrics and maps measure against (the ground
      truth, or the reference method's result); none when there is no reference;
    - ``ground-truth.<fmt>``: in degrade mode with a method as the reference, the ground
      truth as well;
    - ``<method>.<fmt>``: each result, lossless, in its own dtype (16-bit stays 16-bit;
      float32 is always written as TIFF, which PNG cannot hold); a method with
      parameters other than its defaults adds them to the name (`result_stem`), so one
      method twice gives two files;
    - ``<method>-diff.png``: each difference map, coloured as the viewer shows it
      (``diff_kind`` None writes none);
    - ``metrics.csv`` and ``metrics.json``, with a row per result and, after them, the
      rows of ``region_results`` (`Comparison.measure_region`).

    Returns the paths written. Raises `ImageError` (naming the file) when one cannot be
    written; with ``overwrite`` False an existing file is an error and is left as it was.
    Each file is complete or absent, never partial; ``record``, when given, gets each path
    appended as soon as its file is written, so a caller knows what is on disk when a
    later file fails (a full disk).
    """
    if image_format not in ("png", "tif"):
        raise ParameterError(f"image format must be 'png' or 'tif'; got {image_format!r}")
    folder = make_folder(folder)
    written = record if record is not None else []
    start = len(written)
    reference = comparison.reference
    named = [("input", comparison.input), ("reference", reference)]
    if comparison.ground_truth is not None and reference is not comparison.ground_truth:
        named.append(("ground-truth", comparison.ground_truth))
    for stem, image in named:
        if image is not None:
            written.append(save_image(folder / _image_name(stem, image, image_format), image, overwrite=overwrite))
    for result in results:
        if result.image is None:
            continue
        stem = result_stem(result.method_id, result.params)
        written.append(save_image(folder / _image_name(stem, result.image, image_format), result.image, overwrite=overwrite))
        if diff_kind is not None and reference is not None and reference.shape == result.image.shape:
            values = comparison.difference(result, kind=diff_kind)
            if values is not None:
                shown = colorize_difference(values, diff_kind, result.image.dtype, gain=diff_gain)
                written.append(save_image(folder / f"{stem}-diff.png", shown.rgb, overwrite=overwrite))
    rows = metrics_rows([*results, *region_results], image_name, comparison.settings)
    written.append(write_text(folder / "metrics.csv", metrics_csv(rows), overwrite=overwrite))
    written.append(write_text(folder / "metrics.json", metrics_json(rows), overwrite=overwrite))
    return written[start:]


def make_folder(folder: str | Path) -> Path:
    """``folder``, created with its parents if missing; `ImageError` names it when it
    cannot be made or is a file."""
    folder = Path(folder)
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ImageError(f"{folder}: cannot create this folder ({exc.strerror or exc})") from None
    if not folder.is_dir():
        raise ImageError(f"{folder}: is not a folder")
    return folder


def safe_stem(text: str) -> str:
    """``text`` made safe as a file name: letters, digits, ``-``, ``_`` and ``.`` kept."""
    return re.sub(r"[^A-Za-z0-9._-]+", "_", text).strip("._") or "result"


def result_stem(method_id: str, params: Mapping[str, Any]) -> str:
    """The file name (without suffix) of a result: its method id, and the parameters that
    differ from the defaults when any (``bicubic_a=-0.5``,
    ``transposed-conv_kernel=box_kernel_size=3``)."""
    changed = changed_params_text(method_id, params)
    if not changed:
        return safe_stem(method_id)
    return safe_stem(method_id) + "_" + (re.sub(r"[^A-Za-z0-9.=-]+", "_", changed).strip("._") or "params")


def _image_name(stem: str, image: np.ndarray, image_format: ImageFormat) -> str:
    return f"{stem}.{'tif' if image.dtype == np.float32 else image_format}"


def _plain(value: Any) -> Any:
    """JSON for parameter values NumPy holds (max-unpool's recorded indices are not
    user parameters, so only scalars appear here)."""
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, np.ndarray):
        return f"array{value.shape}"
    return str(value)


def _csv_cell(key: str, value: Any) -> Any:
    if value is None:
        return ""
    if key == "params" and not isinstance(value, str):
        return _params_text(value)
    return repr(value) if isinstance(value, float) else value


def _params_text(params: Any) -> str:
    """Method parameters as compact, sorted JSON text."""
    return json.dumps(dict(params), sort_keys=True, default=_plain)

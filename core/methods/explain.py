"""Why an output pixel has its value: the input pixels a method weighs, with their
weights, and the formulas behind them (docs/METHODS.md#explain).

Every linear method makes an output pixel as a weighted sum of input pixels. A method
says which by an *explainer* given to `register_method` (``explain=``): a function
``(in_size, size, y, x, params) -> PixelTaps`` (``size``: the output size asked for). Separable methods build theirs with
`separable` from one `AxisRule` (the tap table of an axis and the formula of its source
coordinate), the same tables the methods compute with. `explain_pixel` runs the explainer
and writes the sum out with the image's values; for a method without one (the learned
networks, the user's models and plugins) it outlines the receptive field instead, measured
by perturbing one pixel of a probe.
"""

from __future__ import annotations

import math
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from core.common.arrays import ScaleArg, SizeArg, as_hwc, cast_float
from core.common.errors import ParameterError, UnsupportedScaleError
from core.common.region import Region

Taps = tuple[np.ndarray, np.ndarray]


@dataclass(frozen=True)
class Tap:
    """One contribution to an output pixel: input pixel ``(y, x)`` times ``weight``.

    ``channel`` is None when the tap is the same for every channel (every method but
    max unpooling with recorded positions). ``kernel`` is the kernel tap ``(row, column)``
    the weight comes from, for the convolutions."""

    y: int
    x: int
    weight: float
    channel: int | None = None
    kernel: tuple[int, int] | None = None


@dataclass(frozen=True)
class PixelTaps:
    """What an explainer returns for one output pixel: its taps, the source coordinate
    ``(src_y, src_x)`` in input pixels (None on an axis without one), the formulas as
    text, and notes (clamping at the edge, taps that fell outside)."""

    taps: tuple[Tap, ...]
    source: tuple[float | None, float | None] = (None, None)
    formulas: tuple[str, ...] = ()
    notes: tuple[str, ...] = ()


Explainer = Callable[[tuple[int, int], tuple[int, int], int, int, dict[str, Any]], PixelTaps]


@dataclass(frozen=True)
class AxisRule:
    """How one axis of a separable method maps output samples to input samples.

    ``taps(n_in, n_out)`` is the axis's tap table (``(n_out, T)`` indices and weights,
    as `core.methods.taps` makes them); ``source(n_in, n_out)`` the source coordinate of
    every output sample's centre in input pixels (None for a method without one);
    ``formula(axis, o, n_in, n_out)`` the text of that coordinate for output ``o``, with
    its numbers."""

    taps: Callable[[int, int], Taps]
    source: Callable[[int, int], np.ndarray] | None
    formula: Callable[[str, int, int, int], str]
    #: Whether a source coordinate beyond the edge's centre holds the edge value (the
    #: interpolators); area averages what each output pixel covers and never reads beyond.
    holds_edge: bool = True


def separable(rule: AxisRule | Callable[[dict[str, Any]], AxisRule]) -> Explainer:
    """The explainer of a separable method: the outer product of the taps of its two
    axes (``rule``, or ``rule(params)`` when it depends on the parameters)."""

    def explain(in_size: tuple[int, int], out_size: tuple[int, int], y: int, x: int,
                params: dict[str, Any]) -> PixelTaps:
        axis_rule = rule if isinstance(rule, AxisRule) else rule(params)
        parts = [_axis_part(axis_rule, name, o, n_in, n_out)
                 for name, o, n_in, n_out in (("y", y, in_size[0], out_size[0]), ("x", x, in_size[1], out_size[1]))]
        (rows, row_weights, src_y, text_y, notes_y), (cols, col_weights, src_x, text_x, notes_x) = parts
        weights: dict[tuple[int, int], float] = {}
        for iy, wy in zip(rows, row_weights):
            for ix, wx in zip(cols, col_weights):
                weights[(iy, ix)] = weights.get((iy, ix), 0.0) + wy * wx
        taps = tuple(Tap(iy, ix, w) for (iy, ix), w in weights.items() if w != 0.0)
        return PixelTaps(taps, (src_y, src_x), (*text_y, *text_x), (*notes_y, *notes_x))

    return explain


def _axis_part(rule: AxisRule, axis: str, o: int, n_in: int, n_out: int) -> tuple[
        list[int], list[float], float | None, tuple[str, ...], tuple[str, ...]]:
    """One axis of `separable`: the input indices and weights of output ``o`` (zero
    weights left out, an index read twice merged), its source coordinate, the formula
    and the weights as text, and a note when taps beyond the edge read the edge pixel."""
    index, weight = (np.asarray(a)[o] for a in rule.taps(n_in, n_out))
    merged: dict[int, float] = {}
    reads: dict[int, int] = {}
    for i, w in zip(index.tolist(), weight.tolist()):
        if w != 0.0:
            merged[i] = merged.get(i, 0.0) + w
            reads[i] = reads.get(i, 0) + 1
    source = None if rule.source is None else float(rule.source(n_in, n_out)[o])
    line = "row" if axis == "y" else "column"
    listed = ", ".join(f"{line} {i} \u00d7 {_number(w)}" for i, w in merged.items())
    texts = (rule.formula(axis, o, n_in, n_out), f"weights along {axis}: {listed}")
    notes = tuple(
        f"{count - 1} {'tap' if count == 2 else 'taps'} along {axis} {'lies' if count == 2 else 'lie'} beyond the "
        f"image and {'reads' if count == 2 else 'read'} its edge {line} {i} instead (indices clamped)"
        for i, count in reads.items() if count > 1 and i in (0, n_in - 1)
    )
    if not notes and rule.holds_edge and source is not None and index.size > 1 and not 0 <= source <= n_in - 1:
        edge = 0 if source < 0 else n_in - 1
        notes = (f"src_{axis} = {_number(source)} lies beyond the centre of the edge {line} {edge}: "
                 "the edge value is held (clamped)",)
    return list(merged), list(merged.values()), source, texts, notes


def one_tap(index: np.ndarray) -> Taps:
    """The tap table of a method that copies input sample ``index[o]`` to output ``o``."""
    return index[:, None], np.ones((index.size, 1))


def _number(value: float) -> str:
    """A weight or coordinate as text: up to six significant digits, no trailing zeros."""
    return f"{value:.6g}"


# Source coordinates, as formulas --------------------------------------------------------------


def half_pixel_formula(axis: str, o: int, n_in: int, n_out: int) -> str:
    src = (o + 0.5) * n_in / n_out - 0.5
    return f"src_{axis} = ({o} + 0.5) * {n_in} / {n_out} - 0.5 = {_number(src)}"


def aligned_formula(axis: str, o: int, n_in: int, n_out: int) -> str:
    src = 0.0 if n_out == 1 else o * (n_in - 1) / (n_out - 1)
    return f"src_{axis} = {o} * ({n_in} - 1) / ({n_out} - 1) = {_number(src)}"


def nearest_formula(axis: str, o: int, n_in: int, n_out: int) -> str:
    index = min(o * n_in // n_out, n_in - 1)
    return f"src_{axis} = min(floor({o} * {n_in} / {n_out}), {n_in - 1}) = {index}"


def nearest_exact_formula(axis: str, o: int, n_in: int, n_out: int) -> str:
    index = min((2 * o + 1) * n_in // (2 * n_out), n_in - 1)
    return f"src_{axis} = min(floor(({o} + 0.5) * {n_in} / {n_out}), {n_in - 1}) = {index}"


def area_formula(axis: str, o: int, n_in: int, n_out: int) -> str:
    return (f"output {axis} {o} covers input [{o} * {n_in} / {n_out}, {o + 1} * {n_in} / {n_out}) = "
            f"[{_number(o * n_in / n_out)}, {_number((o + 1) * n_in / n_out)}); each input pixel weighs its overlap")


def repeat_formula(axis: str, o: int, n_in: int, n_out: int) -> str:
    s = n_out // n_in
    return f"src_{axis} = floor({o} / {s}) = {o // s}"


def nearest_source(n_in: int, n_out: int) -> np.ndarray:
    """Where nearest samples, in input pixel centres: ``dst * in / out - 0.5``, the output
    pixel's top-left corner, not its centre (``floor`` of it plus a half is the pixel copied)."""
    return np.arange(n_out) * (n_in / n_out) - 0.5


def nearest_exact_source(n_in: int, n_out: int) -> np.ndarray:
    """Where nearest-exact samples: the output pixel's centre, ``(dst + 0.5) * in / out - 0.5``."""
    return (np.arange(n_out) + 0.5) * (n_in / n_out) - 0.5


def area_source(n_in: int, n_out: int) -> np.ndarray:
    """The centre of the input interval an output pixel of area covers."""
    return (np.arange(n_out) + 0.5) * (n_in / n_out) - 0.5


# The explanation --------------------------------------------------------------------------------


@dataclass(frozen=True)
class PixelExplanation:
    """Why output pixel ``(y, x)`` of ``method`` has its value (see `explain_pixel`).

    ``taps`` lists every input pixel that contributed with its weight (`Tap`);
    ``value`` is the weighted sum per channel in float64 and ``rounded`` what the method
    returns for it (the image's dtype: rounded half to even and clipped for integers);
    ``sums`` writes each channel's sum out with the image's values. For a method that is
    not linear, ``linear`` is False, ``taps`` is empty and ``receptive_field`` is the box
    of input pixels the output pixel can depend on."""

    method: str
    params: dict[str, Any] = field(repr=False)
    y: int
    x: int
    in_size: tuple[int, int]
    out_size: tuple[int, int]
    linear: bool
    taps: tuple[Tap, ...]
    source: tuple[float | None, float | None]
    formulas: tuple[str, ...]
    notes: tuple[str, ...]
    sums: tuple[str, ...]
    value: np.ndarray | None
    rounded: np.ndarray | None
    receptive_field: Region | None

    def taps_of(self, channel: int) -> tuple[Tap, ...]:
        """The taps that make ``channel`` (those shared by every channel and its own)."""
        return tuple(t for t in self.taps if t.channel is None or t.channel == channel)


def explain_pixel(
    image: np.ndarray,
    method: str,
    y: int,
    x: int,
    scale: ScaleArg = None,
    size: SizeArg = None,
    **params: Any,
) -> PixelExplanation:
    """Explain output pixel ``(y, x)`` of ``core.upsample(image, method, scale, size, **params)``.

    ``image`` is ``(H, W)`` or ``(H, W, C)`` as `core.upsample` takes it; ``scale`` or
    ``size`` give the output size the same way. For a linear method the result lists every
    input pixel that contributes with its weight, such that ``sum(weight * image[y, x])``
    over `PixelExplanation.taps_of` a channel is the method's output there, within the
    rounding of the image's dtype (docs/METHODS.md#explain). Raises `ParameterError` for a
    pixel outside the output, an unknown method or bad parameters, and
    `UnsupportedScaleError` for a scale the method cannot take."""
    from core.methods.registry import get_method

    spec = get_method(method)
    hwc = as_hwc(image)
    in_size = (hwc.shape[0], hwc.shape[1])
    wanted = spec.output_size(in_size, scale, size)
    resolved = spec.resolve_params(params)
    out_size = spec.result_size(in_size, wanted, resolved)
    y, x = _checked_pixel(y, x, out_size)
    if spec.explain is None:
        field_box = receptive_field(method, in_size, out_size, y, x, resolved)
        where = (f"the input pixels in the outlined box (x {field_box.x}-{field_box.x + field_box.width - 1}, "
                 f"y {field_box.y}-{field_box.y + field_box.height - 1}), found by changing one pixel of a probe")
        if spec.family == "library":
            twin = method.split(":", 1)[1]
            note = (f"{spec.label} is computed by the library itself, whose arithmetic Upscope does not take apart: "
                    f"this pixel depends on {where}. Explain Upscope's own method of the same rule (such as "
                    f"'{twin}') to see the weights.")
        else:
            note = f"{spec.label} is not linear: no fixed weights make this pixel. It depends on {where}."
        return PixelExplanation(method, resolved, y, x, in_size, out_size, False, (), (None, None), (), (note,), (),
                                None, None, field_box)
    explained = spec.explain(in_size, wanted, y, x, resolved)
    value = np.zeros(hwc.shape[2], np.float64)
    sums = []
    for channel in range(hwc.shape[2]):
        taps = [t for t in explained.taps if t.channel is None or t.channel == channel]
        pixels = [float(hwc[t.y, t.x, channel]) for t in taps]
        value[channel] = math.fsum(t.weight * p for t, p in zip(taps, pixels))
        sums.append(_sum_text(taps, pixels, value[channel], hwc.dtype, channel if hwc.shape[2] > 1 else None))
    rounded = cast_float(value.astype(np.float32), hwc.dtype)
    return PixelExplanation(method, resolved, y, x, in_size, out_size, True, explained.taps, explained.source,
                            explained.formulas, explained.notes, tuple(sums), value, rounded, None)


def _checked_pixel(y: int, x: int, out_size: tuple[int, int]) -> tuple[int, int]:
    for name, value, n in (("y", y, out_size[0]), ("x", x, out_size[1])):
        if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, np.integer)):
            raise ParameterError(f"pixel {name} must be a whole number; got {value!r}")
        if not 0 <= value < n:
            raise ParameterError(f"pixel ({y}, {x}) lies outside the {out_size[1]}x{out_size[0]} output")
    return int(y), int(x)


def _sum_text(taps: list[Tap], pixels: list[float], total: float, dtype: np.dtype, channel: int | None) -> str:
    """``0.5625 × 120 + 0.1875 × 130 + ... = 123.4 → 123``: one channel's sum."""
    name = "" if channel is None else f"{'RGBA'[channel] if channel < 4 else channel}: "
    if not taps:
        return f"{name}no input pixel reaches this output pixel = 0"
    terms = " + ".join(f"{_number(t.weight)} \u00d7 {_number(p)}" for t, p in zip(taps, pixels))
    text = f"{name}{terms} = {_number(total)}"
    if np.dtype(dtype).kind in "iu":
        shown = cast_float(np.array([total], np.float32), dtype)[0]
        info = np.iinfo(dtype)
        clipped = " (clipped to the dtype's range)" if not info.min - 0.5 <= total <= info.max + 0.5 else ""
        text += f" \u2192 {int(shown)}{clipped}"
    return text


# Methods that are not linear ----------------------------------------------------------------------


#: Side of the probe a receptive field is measured on, in input pixels.
PROBE_SIDE = 48


def receptive_field(method: str, in_size: tuple[int, int], out_size: tuple[int, int], y: int, x: int,
                    params: dict[str, Any]) -> Region:
    """The box of input pixels output ``(y, x)`` can depend on: the method's reach (input
    pixels from the changed pixel to the farthest output it changed, on a probe) around
    the pixel's source coordinate, within the image."""
    factors = (out_size[0] / in_size[0], out_size[1] / in_size[1])
    reach = _reach(method, factors, params)
    centre_y = (y + 0.5) / factors[0] - 0.5
    centre_x = (x + 0.5) / factors[1] - 0.5
    top = max(0, math.floor(centre_y - reach))
    left = max(0, math.floor(centre_x - reach))
    bottom = min(in_size[0], math.ceil(centre_y + reach) + 1)
    right = min(in_size[1], math.ceil(centre_x + reach) + 1)
    return Region(left, top, right - left, bottom - top)


_REACHES: dict[tuple[Any, ...], float] = {}
_REACHES_LOCK = threading.Lock()


def _reach(method: str, factors: tuple[float, float], params: dict[str, Any]) -> float:
    """How far, in input pixels, a change of one input pixel travels through ``method``
    (cached per method, scale and parameters)."""
    from core.methods.registry import get_method

    key = (method, factors, tuple(sorted((k, repr(v)) for k, v in params.items())))
    with _REACHES_LOCK:
        if key in _REACHES:
            return _REACHES[key]
    spec = get_method(method)
    rng = np.random.default_rng(0)
    probe = rng.random((PROBE_SIDE, PROBE_SIDE, 3)).astype(np.float32)
    size = (round(PROBE_SIDE * factors[0]), round(PROBE_SIDE * factors[1]))
    centre = PROBE_SIDE // 2
    before = np.asarray(spec.function(probe, size, **params), np.float64)
    changed = probe.copy()
    changed[centre, centre] += 0.25
    after = np.asarray(spec.function(changed, size, **params), np.float64)
    rows, cols = np.nonzero(np.abs(after - before).max(axis=2) > 1e-6)
    reach = 0.5
    if rows.size:
        distance_y = np.abs((rows + 0.5) / factors[0] - 0.5 - centre).max()
        distance_x = np.abs((cols + 0.5) / factors[1] - 0.5 - centre).max()
        reach = float(max(distance_y, distance_x))
    with _REACHES_LOCK:
        _REACHES[key] = reach
    return reach


#: The longest output axis `sampling_grid` draws (a view for teaching, not for photographs).
GRID_LIMIT = 1024


def sampling_grid(
    method: str, in_size: tuple[int, int], scale: ScaleArg = None, size: SizeArg = None, **params: Any
) -> tuple[np.ndarray | None, np.ndarray | None]:
    """Where ``method`` samples the input for each output row and column: the source
    coordinates ``(src_y, src_x)`` of the output pixel centres, in input pixels (pixel
    ``i``'s centre is ``i``), as `explain_pixel` states them: half-pixel centres for
    bilinear, the corners aligned for bilinear-aligned, ``dst * in / out - 0.5`` for
    nearest's floor mapping. An axis is None for a method without source coordinates.
    Raises `ParameterError` for an output axis over `GRID_LIMIT` samples."""
    from core.methods.registry import get_method

    spec = get_method(method)
    wanted = spec.output_size(in_size, scale, size)
    if min(wanted[0] // in_size[0], wanted[1] // in_size[1]) < 1 and spec.scales == "integer":
        raise UnsupportedScaleError(f"{spec.label} enlarges by whole numbers; {wanted[1]}x{wanted[0]} is smaller "
                                    f"than the {in_size[1]}x{in_size[0]} input")
    resolved = spec.resolve_params(params)
    if max(wanted) > GRID_LIMIT:
        raise ParameterError(f"the sampling grid is drawn for outputs of up to {GRID_LIMIT} pixels a side; "
                             f"this one is {wanted[1]}x{wanted[0]}")
    if spec.explain is None:
        return None, None
    rows = [spec.explain(in_size, wanted, y, 0, resolved).source[0] for y in range(wanted[0])]
    cols = [spec.explain(in_size, wanted, 0, x, resolved).source[1] for x in range(wanted[1])]
    return (None if None in rows else np.array(rows, np.float64)), (None if None in cols else np.array(cols, np.float64))

"""The method registry: one `MethodSpec` per upsampling method.

A method is one function plus one `@register_method(...)` decorator in a module of
`core.methods`; that package imports every module in it, so adding a method touches one
file. The function receives a validated ``(H, W, C)`` array, the output size and its
validated parameters, and returns an ``(h, w, C)`` array, either in the input's dtype or
in floating point (the caller rounds, clips and casts).
"""

from __future__ import annotations

import difflib
import importlib
import importlib.util
import math
import re
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np

from core.common.arrays import as_real, number_text, resolve_size
from core.common.errors import ParameterError, UnsupportedScaleError
from core.methods.explain import Explainer

Family = Literal["classic", "neural", "learned", "library", "model", "result", "plugin"]
#: The order families are listed in: Upscope's own methods first (the libraries' own
#: conventions of them last), then the user's.
FAMILY_ORDER: dict[str, int] = {"classic": 0, "neural": 1, "learned": 2, "library": 3, "model": 4, "result": 5,
                                "plugin": 6}
SourceKind = Literal["model", "result", "plugin"]
ScaleKind = Literal["any", "integer"]
ParamKind = Literal["float", "int", "choice", "kernel", "array", "size"]


#: The largest sum of tap magnitudes a kernel may have: the result of a uint16 image
#: (values up to 65535) stays far inside float32's range, so no integer result can come
#: from an overflow (float results are checked themselves: `check_finite_result`).
KERNEL_GAIN_LIMIT = 1e30


@dataclass(frozen=True)
class Param:
    """One tunable parameter of a method.

    ``default=None`` means "chosen from the scale" (e.g. the transposed-convolution
    kernel size); the description says how. ``user=False`` marks parameters that the
    pipeline fills in (max-unpool's recorded positions), not a person.
    """

    name: str
    kind: ParamKind
    default: Any
    description: str
    minimum: float | None = None
    maximum: float | None = None
    choices: tuple[str, ...] = ()
    user: bool = True
    #: For an "int": only odd values (a kernel's side that must have a centre).
    odd: bool = False

    def validate(self, method_id: str, value: Any) -> Any:
        """Return ``value`` converted to this parameter's type, or raise `ParameterError`."""
        if value is None:
            if self.default is None:
                return None
            raise ParameterError(f"{method_id}: parameter '{self.name}' cannot be None")
        where = f"{method_id}: parameter '{self.name}'"
        if self.kind == "float":
            number = _finite_number(where, value)
            self._check_range(where, number)
            return number
        if self.kind == "int":
            number = _finite_number(where, value)
            if number != int(number):
                raise ParameterError(f"{where} must be a whole number, got {_short_repr(value)}")
            self._check_range(where, number)
            if self.odd and int(number) % 2 == 0:
                raise ParameterError(f"{where} must be odd, so the kernel has a centre; got {int(number)}")
            return int(number)
        if self.kind == "choice":
            if value not in self.choices:
                raise ParameterError(f"{where} must be one of {', '.join(self.choices)}; got {_short_repr(value)}")
            return value
        if self.kind == "kernel":
            if isinstance(value, str):
                if value not in self.choices:
                    raise ParameterError(
                        f"{where} must be {' or '.join(repr(c) for c in self.choices)} "
                        f"or a 2-D array; got {_short_repr(value)}"
                    )
                return value
            kernel = _kernel_array(where, value)
            if kernel.ndim != 2 or kernel.size == 0:
                raise ParameterError(f"{where} must be a non-empty 2-D array; got shape {kernel.shape}")
            if not np.all(np.isfinite(kernel)):
                raise ParameterError(f"{where} has NaN or infinite taps")
            gain = float(np.abs(kernel).sum())
            if gain > KERNEL_GAIN_LIMIT:
                raise ParameterError(
                    f"{where} has taps of {gain:.3g} in total magnitude, over {KERNEL_GAIN_LIMIT:g}: an image "
                    "convolved with it would leave float32's range"
                )
            return kernel
        if self.kind == "size":
            if not isinstance(value, (list, tuple)) or len(value) != 2:
                raise ParameterError(f"{where} must be (height, width); got {_short_repr(value)}")
            return tuple(int(_finite_number(where, v)) for v in value)
        return value  # "array": checked by the method, which knows the shape it needs

    def _check_range(self, where: str, number: float) -> None:
        if self.minimum is not None and number < self.minimum:
            raise ParameterError(f"{where} must be at least {self.minimum}; got {number}")
        if self.maximum is not None and number > self.maximum:
            raise ParameterError(f"{where} must be at most {self.maximum}; got {number}")


def _finite_number(where: str, value: Any) -> float:
    """`as_real` with short messages: a long list or text given is cut, and a whole
    number beyond float64's range is refused as such."""
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, float, np.integer, np.floating)):
        raise ParameterError(f"{where} must be a number; got {_short_repr(value)}")
    try:
        return as_real(where, value)
    except OverflowError:
        raise ParameterError(f"{where} is too large; got a number of {len(str(abs(value)))} digits") from None


def _kernel_array(where: str, value: Any) -> np.ndarray:
    """``value`` (an array, or rows of numbers) as float64 taps; `ParameterError` naming
    the problem for rows of different lengths or entries that are not numbers (a string
    is not read as a number, nor is true or false)."""
    if isinstance(value, np.ndarray):
        if value.dtype.kind not in "iuf":
            raise ParameterError(f"{where} must hold numbers; got an array of {value.dtype}")
        return value.astype(np.float64)
    if not isinstance(value, (list, tuple)):
        raise ParameterError(f"{where} must be a 2-D array of numbers; got {_short_repr(value)}")
    rows = [row.tolist() if isinstance(row, np.ndarray) else row for row in value]
    nested = [isinstance(row, (list, tuple)) for row in rows]
    if any(nested) and not all(nested):
        bad = nested.index(False)
        raise ParameterError(f"{where}: row {bad + 1} is {_short_repr(rows[bad])}, not a list of numbers")
    if all(nested) and len({len(row) for row in rows}) > 1:
        lengths = ", ".join(str(len(row)) for row in rows[:8]) + (", ..." if len(rows) > 8 else "")
        raise ParameterError(f"{where} has rows of different lengths ({lengths}); a kernel is a rectangle of numbers")
    entries = [item for row in rows for item in row] if all(nested) else rows
    for item in entries:
        if isinstance(item, (bool, np.bool_)) or not isinstance(item, (int, float, np.integer, np.floating)):
            raise ParameterError(f"{where} must hold numbers only; got {_short_repr(item)}")
    try:
        return np.asarray(rows, dtype=np.float64)
    except OverflowError:  # a whole number beyond float64's range
        raise ParameterError(f"{where} has a tap too large for a 64-bit float") from None


def _short_repr(value: Any, limit: int = 60) -> str:
    """``repr(value)``, cut to ``limit`` characters for a message."""
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


@dataclass(frozen=True)
class MethodSource:
    """Where a method added while Upscope runs came from: a model file, a result image or
    a plugin file (absolute ``path``, its ``sha256``) and the options it was added with.
    A session saves it to add the method again."""

    kind: SourceKind
    path: str | None
    sha256: str | None
    options: tuple[tuple[str, str], ...] = ()

    def option(self, name: str, default: str = "") -> str:
        return dict(self.options).get(name, default)


@dataclass(frozen=True)
class MethodSpec:
    """Everything the GUI, the command line and notebooks need to know about a method."""

    id: str
    label: str
    family: Family
    description: str
    function: Callable[..., np.ndarray] = field(repr=False)
    scales: ScaleKind = "any"
    params: tuple[Param, ...] = ()
    also_called: tuple[str, ...] = ()
    reference: str = ""
    #: For methods trained per scale: the only factors they take, the same on both axes.
    trained_scales: tuple[int, ...] = ()
    #: For methods whose result is not always the size asked for (a transposed
    #: convolution with its own kernel and padding): ``(in_size, size, params) -> (h, w)``.
    size_rule: Callable[[tuple[int, int], tuple[int, int], dict[str, Any]], tuple[int, int]] | None = field(
        default=None, repr=False
    )
    #: For methods added while Upscope runs (models, result images, plugins): their origin.
    source: MethodSource | None = None
    #: Modules the method needs that may not be installed (a library's convention run by
    #: that library: ``("torch",)``); see `unavailable`.
    requires: tuple[str, ...] = ()
    #: For linear methods: which input pixels, with which weights, make an output pixel
    #: (`core.methods.explain`); None for methods that are not linear.
    explain: Explainer | None = field(default=None, repr=False)

    def result_size(self, in_size: tuple[int, int], size: tuple[int, int], params: dict[str, Any]) -> tuple[int, int]:
        """The ``(h, w)`` this method returns for an ``in_size`` input asked for ``size``
        with validated ``params`` (``size`` itself unless the method has a `size_rule`)."""
        return size if self.size_rule is None else self.size_rule(in_size, size, params)

    def unavailable(self) -> str | None:
        """Why this method cannot run here (a module it needs is not installed), or None."""
        missing = [name for name in self.requires if importlib.util.find_spec(name) is None]
        return f"{self.label} needs {', '.join(missing)}, which is not installed" if missing else None

    def defaults(self) -> dict[str, Any]:
        """Default value of every user parameter."""
        return {p.name: p.default for p in self.params if p.user}

    def resolve_params(self, given: dict[str, Any]) -> dict[str, Any]:
        """Validate ``given`` and fill in defaults; unknown names raise `ParameterError`."""
        known = {p.name: p for p in self.params}
        unknown = sorted(set(given) - set(known))
        if unknown:
            accepted = ", ".join(known) or "none"
            raise ParameterError(f"{self.id}: unknown parameter {', '.join(map(repr, unknown))} (accepted: {accepted})")
        return {name: p.validate(self.id, given.get(name, p.default)) for name, p in known.items()}

    def refusal(self, scale: tuple[float, float]) -> str | None:
        """Why this method cannot take ``scale`` (y, x), or None when it can."""
        if self.trained_scales:
            return self._trained_refusal(scale)
        if self.scales == "integer":
            bad = [s for s in scale if not is_whole(s) or s < 1]
            if bad:
                return f"{self.label} takes whole-number scales only (x2, x3, ...), not x{_fmt(bad[0])}"
        return None

    def _trained_refusal(self, scale: tuple[float, float]) -> str | None:
        if not self.trained_scales:
            return None
        offered = ", ".join(f"x{s}" for s in self.trained_scales)
        if self.family == "model":
            asked = _fmt(scale[0]) if scale[0] == scale[1] else f"{_fmt(scale[1])} by x{_fmt(scale[0])}"
            if scale[0] != scale[1] or not is_whole(scale[0]) or round(scale[0]) not in self.trained_scales:
                return f"this model is {offered}; the comparison is x{asked}"
            return None
        if scale[0] != scale[1]:
            return f"{self.label} needs the same scale on both axes ({offered}); got x{_fmt(scale[1])} by x{_fmt(scale[0])}"
        if not is_whole(scale[0]) or round(scale[0]) not in self.trained_scales:
            return f"{self.label} has trained models for {offered} only, not x{_fmt(scale[0])}"
        return None

    def output_size(self, in_size: tuple[int, int], scale: Any, size: Any) -> tuple[int, int]:
        """The ``(h, w)`` asked for by ``scale`` or ``size`` (as `core.upsample` takes them)
        for an ``in_size`` input, once this method is known to take it: `ParameterError`
        for a bad scale or size, `UnsupportedScaleError` for one it cannot take."""
        wanted, factors = resolve_size(in_size, scale, size)
        if size is None:
            reason = self.refusal(factors)
            if reason:
                raise UnsupportedScaleError(reason)
        else:
            self.check_size(in_size, wanted)
        return wanted

    def check_size(self, in_size: tuple[int, int], out_size: tuple[int, int]) -> None:
        """Raise `UnsupportedScaleError` if an explicit output size is unreachable."""
        if self.scales == "integer":
            for n, m, axis in zip(in_size, out_size, ("height", "width")):
                if m % n:
                    raise UnsupportedScaleError(
                        f"{self.label} takes whole-number scales only: output {axis} {m} "
                        f"is not a multiple of the input {axis} {n}"
                    )
            reason = self._trained_refusal((out_size[0] / in_size[0], out_size[1] / in_size[1]))
            if reason:
                raise UnsupportedScaleError(reason)


_REGISTRY: dict[str, MethodSpec] = {}
# Methods are added and removed from the window's thread while workers list them.
_REGISTRY_LOCK = threading.Lock()


def register_method(
    id: str,
    *,
    label: str,
    family: Family,
    description: str,
    scales: ScaleKind = "any",
    params: tuple[Param, ...] = (),
    also_called: tuple[str, ...] = (),
    reference: str = "",
    trained_scales: tuple[int, ...] = (),
    size_rule: Callable[[tuple[int, int], tuple[int, int], dict[str, Any]], tuple[int, int]] | None = None,
    explain: Explainer | None = None,
    requires: tuple[str, ...] = (),
) -> Callable[[Callable[..., np.ndarray]], Callable[..., np.ndarray]]:
    """Decorator that registers ``function`` as the method ``id``."""

    def decorate(function: Callable[..., np.ndarray]) -> Callable[..., np.ndarray]:
        if id in _REGISTRY:
            raise ParameterError(f"method id {id!r} is taken by '{_REGISTRY[id].label}'; give the method another id")
        if family not in FAMILY_ORDER:
            raise ParameterError(f"method {id!r}: family {family!r} is not one of {', '.join(FAMILY_ORDER)}")
        _REGISTRY[id] = MethodSpec(
            id=id,
            label=label,
            family=family,
            description=description,
            function=function,
            scales=scales,
            params=params,
            also_called=also_called,
            reference=reference,
            trained_scales=trained_scales,
            size_rule=size_rule,
            explain=explain,
            requires=requires,
        )
        return function

    return decorate


def add_method(spec: MethodSpec) -> None:
    """Register a method made while Upscope runs (a model file, a result image); its id
    must be new (see `free_method_id`)."""
    _load_methods()
    with _REGISTRY_LOCK:
        if spec.id in _REGISTRY:
            raise ParameterError(f"method id {spec.id!r} is taken")
        _REGISTRY[spec.id] = spec


def remove_method(method_id: str) -> MethodSpec:
    """Unregister a method that was added while Upscope runs (one with a `MethodSource`)
    and return its spec; Upscope's own methods cannot be removed (`ParameterError`)."""
    spec = get_method(method_id)
    if spec.source is None:
        raise ParameterError(f"{method_id}: one of Upscope's own methods, which cannot be removed")
    with _REGISTRY_LOCK:
        _REGISTRY.pop(method_id, None)
    return spec


def replace_method(spec: MethodSpec) -> None:
    """Put ``spec`` in the place of the registered method of the same id (a plugin's
    method, once guarded and marked with its source)."""
    with _REGISTRY_LOCK:
        if spec.id not in _REGISTRY:
            raise ParameterError(f"unknown method {spec.id!r}")
        _REGISTRY[spec.id] = spec


def unregister_methods(method_ids: set[str]) -> None:
    """Remove the methods ``method_ids`` whatever they are (a plugin that failed halfway
    through loading takes back what it registered)."""
    with _REGISTRY_LOCK:
        for method_id in method_ids:
            _REGISTRY.pop(method_id, None)


def free_method_id(name: str) -> str:
    """A method id made from ``name`` (lower case; runs of other characters than letters,
    digits and ``-``/``_`` become one ``-``) that no registered method has: ``name``,
    else ``name-2``, ``name-3``, ..."""
    _load_methods()
    base = re.sub(r"[^a-z0-9_-]+", "-", name.strip().lower()).strip("-") or "method"
    candidate, n = base, 1
    while candidate in _REGISTRY:
        n += 1
        candidate = f"{base}-{n}"
    return candidate


def registered_ids() -> list[str]:
    """Every registered method id, in the order they were registered."""
    _load_methods()
    with _REGISTRY_LOCK:
        return list(_REGISTRY)


def list_methods() -> list[MethodSpec]:
    """Every registered method, classic first, then neural, learned, and those added
    while Upscope runs (models, result images, plugins)."""
    _load_methods()
    with _REGISTRY_LOCK:
        specs = list(_REGISTRY.values())
    return sorted(specs, key=lambda s: FAMILY_ORDER[s.family])


def get_method(method_id: str) -> MethodSpec:
    """The spec of ``method_id``; an unknown id raises `ParameterError` listing the known ones."""
    _load_methods()
    try:
        return _REGISTRY[method_id]
    except (KeyError, TypeError):
        # Upscope's own methods by name (the libraries' conventions are many: pointed to).
        own = [key for key, spec in _REGISTRY.items() if spec.family != "library"]
        close = difflib.get_close_matches(str(method_id), list(_REGISTRY), n=3, cutoff=0.6)
        hint = f"did you mean {', '.join(close)}? " if close else ""
        raise ParameterError(
            f"unknown method {method_id!r}; {hint}known methods: {', '.join(own)}, and the libraries' "
            "conventions LIBRARY:NAME (--list-methods lists them all)"
        ) from None


def _load_methods() -> None:
    """Import every module of `core.methods`, which registers their methods."""
    importlib.import_module("core.methods")


def is_whole(value: float) -> bool:
    """True when ``value`` is a whole number to within float noise."""
    return math.isfinite(value) and abs(value - round(value)) < 1e-9


def _fmt(value: float) -> str:
    return number_text(value)
